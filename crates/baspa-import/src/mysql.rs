//! The MySQL/MariaDB source: reads a WordPress database (tables with a configurable prefix)
//! through `baspa_db::wp_source` into a [`Site`].

use std::collections::{BTreeMap, HashMap};

use baspa_db::wp_source::{Cell, read_table};
use sea_orm::DatabaseConnection;

use crate::model::{Comment, Post, Problem, Site, Term, User};
use crate::php;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot connect to the WordPress database: {0}")]
    Connect(String),
    #[error("the WordPress tables were not found with prefix {prefix:?} ({message}); check --table-prefix")]
    Tables { prefix: String, message: String },
}

fn text(site: &mut Site, kind: &str, id: i64, cell: &Cell, column: &str) -> String {
    if let Cell::Bytes(_) = cell {
        site.problems.push(Problem::new(
            kind,
            Some(id),
            format!("{column} is not valid UTF-8; invalid bytes replaced"),
        ));
    }
    cell.text()
}

/// Connects to `url` and reads the site.
pub async fn read_url(url: &str, prefix: &str) -> Result<Site, ReadError> {
    let db = sea_orm::Database::connect(url).await.map_err(|e| ReadError::Connect(e.to_string()))?;
    let site = read(&db, prefix).await;
    let _ = db.close().await;
    site
}

/// Reads every table the import needs.
pub async fn read(db: &DatabaseConnection, prefix: &str) -> Result<Site, ReadError> {
    let t = |name: &str| format!("{prefix}{name}");
    let missing =
        |e: baspa_db::wp_source::SourceError| ReadError::Tables { prefix: prefix.to_owned(), message: e.to_string() };
    let mut site = Site::default();

    let options = read_table(db, &t("options"), &["option_name", "option_value"]).await.map_err(missing)?;
    for row in &options {
        let value = row[1].text();
        match row[0].text().as_str() {
            "siteurl" => site.siteurl = value,
            "home" => site.home = value,
            "permalink_structure" => site.permalink_structure = value,
            "timezone_string" => site.timezone = value,
            "sticky_posts" => match php::unserialize(&value) {
                Ok(v) => {
                    site.sticky = v
                        .as_array()
                        .map(|a| a.iter().filter_map(|x| x.as_i64().or_else(|| x.as_str()?.parse().ok())).collect())
                        .unwrap_or_default()
                }
                Err(e) => site.problems.push(Problem::new("option", None, format!("sticky_posts: {e}"))),
            },
            _ => {}
        }
    }

    let cols = [
        "ID",
        "post_author",
        "post_date",
        "post_date_gmt",
        "post_content",
        "post_title",
        "post_excerpt",
        "post_status",
        "post_name",
        "post_parent",
        "guid",
        "post_type",
        "post_mime_type",
        "menu_order",
    ];
    let rows = read_table(db, &t("posts"), &cols).await.map_err(missing)?;
    let mut posts = Vec::with_capacity(rows.len());
    for r in &rows {
        let id = r[0].int();
        let post = Post {
            id,
            author: r[1].int(),
            date_local: r[2].text(),
            date_gmt: r[3].text(),
            content: text(&mut site, "post", id, &r[4], "post_content"),
            title: text(&mut site, "post", id, &r[5], "post_title"),
            excerpt: text(&mut site, "post", id, &r[6], "post_excerpt"),
            status: r[7].text(),
            name: r[8].text(),
            parent: r[9].int(),
            guid: r[10].text(),
            post_type: r[11].text(),
            mime_type: r[12].text(),
            menu_order: r[13].int(),
            meta: BTreeMap::new(),
            terms: Vec::new(),
        };
        posts.push(post);
    }
    posts.sort_by_key(|p| p.id);
    let index: HashMap<i64, usize> = posts.iter().enumerate().map(|(i, p)| (p.id, i)).collect();

    let meta = read_table(db, &t("postmeta"), &["meta_id", "post_id", "meta_key", "meta_value"]).await;
    let meta = optional(&mut site, meta);
    for r in &meta {
        let post_id = r[1].int();
        let value = text(&mut site, "meta", post_id, &r[3], "meta_value");
        if let Some(&i) = index.get(&post_id) {
            posts[i].meta.entry(r[2].text()).or_default().push(value);
        }
    }

    let terms = read_table(db, &t("terms"), &["term_id", "name", "slug"]).await;
    let terms = optional(&mut site, terms);
    let taxonomy = read_table(db, &t("term_taxonomy"), &["term_taxonomy_id", "term_id", "taxonomy", "parent"]).await;
    let taxonomy = optional(&mut site, taxonomy);
    let mut by_tt: HashMap<i64, i64> = HashMap::new();
    let names: HashMap<i64, (String, String)> =
        terms.iter().map(|r| (r[0].int(), (r[1].text(), r[2].text()))).collect();
    for r in &taxonomy {
        let term_id = r[1].int();
        by_tt.insert(r[0].int(), term_id);
        let (name, slug) = names.get(&term_id).cloned().unwrap_or_default();
        site.terms.push(Term { term_id, name, slug, taxonomy: r[2].text(), parent: r[3].int() });
    }
    site.terms.sort_by_key(|t| t.term_id);
    let links = read_table(db, &t("term_relationships"), &["object_id", "term_taxonomy_id"]).await;
    let links = optional(&mut site, links);
    for r in &links {
        if let (Some(&i), Some(&term)) = (index.get(&r[0].int()), by_tt.get(&r[1].int())) {
            posts[i].terms.push(term);
        }
    }
    for p in &mut posts {
        p.terms.sort_unstable();
    }
    site.posts = posts;

    let users = read_table(db, &t("users"), &["ID", "user_login", "user_email", "display_name", "user_nicename"]).await;
    let users = optional(&mut site, users);
    let usermeta = read_table(db, &t("usermeta"), &["umeta_id", "user_id", "meta_key", "meta_value"]).await;
    let usermeta = optional(&mut site, usermeta);
    let mut roles: HashMap<i64, String> = HashMap::new();
    for r in &usermeta {
        // `wp_capabilities` carries the table prefix in its key.
        if r[2].text() == format!("{prefix}capabilities") {
            let uid = r[1].int();
            match php::unserialize(&r[3].text()) {
                Ok(v) => {
                    let role = v.as_object().and_then(|m| m.keys().next().cloned()).unwrap_or_default();
                    roles.insert(uid, role);
                }
                Err(e) => site.problems.push(Problem::new("user", Some(uid), format!("capabilities: {e}"))),
            }
        }
    }
    for r in &users {
        let id = r[0].int();
        let display_name = text(&mut site, "user", id, &r[3], "display_name");
        site.users.push(User {
            id,
            login: r[1].text(),
            email: r[2].text(),
            display_name,
            nicename: r[4].text(),
            role: roles.get(&id).cloned().unwrap_or_default(),
        });
    }

    let cols = [
        "comment_ID",
        "comment_post_ID",
        "comment_author",
        "comment_author_email",
        "comment_date_gmt",
        "comment_content",
        "comment_approved",
        "comment_type",
        "comment_parent",
        "user_id",
    ];
    let comments = read_table(db, &t("comments"), &cols).await;
    let comments = optional(&mut site, comments);
    for r in &comments {
        let id = r[0].int();
        let author = text(&mut site, "comment", id, &r[2], "comment_author");
        let content = text(&mut site, "comment", id, &r[5], "comment_content");
        site.comments.push(Comment {
            id,
            post_id: r[1].int(),
            author,
            author_email: r[3].text(),
            date_gmt: r[4].text(),
            content,
            approved: r[6].text(),
            comment_type: r[7].text(),
            parent: r[8].int(),
            user_id: r[9].int(),
        });
    }
    site.comments.sort_by_key(|c| c.id);
    Ok(site)
}

/// Tables other than options and posts may be missing (a truncated dump): what they held is
/// reported as missing and the rest is imported.
fn optional(site: &mut Site, read: Result<Vec<Vec<Cell>>, baspa_db::wp_source::SourceError>) -> Vec<Vec<Cell>> {
    match read {
        Ok(rows) => rows,
        Err(e) => {
            site.problems.push(Problem::new("table", None, format!("{e}; its objects are not imported")));
            Vec::new()
        }
    }
}
