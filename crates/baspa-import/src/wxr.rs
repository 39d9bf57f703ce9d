//! The WXR source: a WordPress export file (`export_wp()`, WXR 1.2) read into the same [`Site`]
//! as the database source. WXR does not carry user roles, the permalink structure, the time zone
//! option, revisions or comment meta; the permalink structure can be given by the caller, users
//! without a role become viewers (docs/import.md lists the differences).

use std::collections::{BTreeMap, HashMap};

use crate::model::{Comment, Post, Problem, Site, Term, User};

#[derive(Debug, thiserror::Error)]
pub enum WxrError {
    #[error("cannot read {path}: {message}")]
    Io { path: String, message: String },
    #[error("the WXR file is not well-formed XML: {0}")]
    Xml(String),
}

fn child_text(node: roxmltree::Node<'_, '_>, name: &str) -> String {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
        .and_then(|c| c.text())
        .unwrap_or("")
        .to_owned()
}

fn child_text_ns(node: roxmltree::Node<'_, '_>, ns_prefix: &str, name: &str) -> String {
    node.children()
        .find(|c| {
            c.is_element()
                && c.tag_name().name() == name
                && c.tag_name().namespace().is_some_and(|n| n.contains(ns_prefix))
        })
        .map(|c| c.children().filter_map(|t| t.text()).collect::<String>())
        .unwrap_or_default()
}

/// Reads a WXR file; invalid UTF-8 is replaced and reported.
pub fn read_file(path: &std::path::Path, permalink_structure: &str) -> Result<Site, WxrError> {
    let bytes =
        std::fs::read(path).map_err(|e| WxrError::Io { path: path.display().to_string(), message: e.to_string() })?;
    let mut problems = Vec::new();
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let bytes = e.into_bytes();
            // Name the item around each invalid sequence (up to 20), then read the rest.
            let mut at = 0;
            while at < bytes.len() && problems.len() < 20 {
                match std::str::from_utf8(&bytes[at..]) {
                    Ok(_) => break,
                    Err(err) => {
                        let bad = at + err.valid_up_to();
                        problems.push(Problem::new(
                            "post",
                            item_id_at(&bytes, bad),
                            format!("invalid UTF-8 at byte {bad}; replaced"),
                        ));
                        at = bad + err.error_len().unwrap_or(1);
                    }
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
    };
    let mut site = parse(&text, permalink_structure)?;
    site.problems.splice(0..0, problems);
    Ok(site)
}

pub fn parse(xml: &str, permalink_structure: &str) -> Result<Site, WxrError> {
    let opts = roxmltree::ParsingOptions { allow_dtd: false, nodes_limit: u32::MAX };
    let doc = roxmltree::Document::parse_with_options(xml, opts).map_err(|e| WxrError::Xml(e.to_string()))?;
    let channel = doc
        .root_element()
        .children()
        .find(|c| c.has_tag_name("channel"))
        .ok_or_else(|| WxrError::Xml("no <channel>".into()))?;
    let wp = "wordpress.org/export";
    let mut site = Site {
        siteurl: child_text_ns(channel, wp, "base_site_url"),
        home: child_text_ns(channel, wp, "base_blog_url"),
        permalink_structure: permalink_structure.to_owned(),
        ..Default::default()
    };
    let mut logins: HashMap<String, i64> = HashMap::new();
    let mut slug_to_term: HashMap<(String, String), i64> = HashMap::new();
    let mut parents: Vec<(usize, String)> = Vec::new();
    for n in channel.children().filter(|c| c.is_element()) {
        match n.tag_name().name() {
            "author" => {
                let id: i64 = child_text_ns(n, wp, "author_id").parse().unwrap_or(0);
                let login = child_text_ns(n, wp, "author_login");
                logins.insert(login.clone(), id);
                site.users.push(User {
                    id,
                    nicename: login.clone(),
                    login,
                    email: child_text_ns(n, wp, "author_email"),
                    display_name: child_text_ns(n, wp, "author_display_name"),
                    role: String::new(),
                });
            }
            "category" => {
                let term_id = child_text_ns(n, wp, "term_id").parse().unwrap_or(0);
                let slug = child_text_ns(n, wp, "category_nicename");
                slug_to_term.insert(("category".into(), slug.clone()), term_id);
                parents.push((site.terms.len(), child_text_ns(n, wp, "category_parent")));
                site.terms.push(Term {
                    term_id,
                    name: child_text_ns(n, wp, "cat_name"),
                    slug,
                    taxonomy: "category".into(),
                    parent: 0,
                });
            }
            "tag" => {
                let term_id = child_text_ns(n, wp, "term_id").parse().unwrap_or(0);
                let slug = child_text_ns(n, wp, "tag_slug");
                slug_to_term.insert(("post_tag".into(), slug.clone()), term_id);
                site.terms.push(Term {
                    term_id,
                    name: child_text_ns(n, wp, "tag_name"),
                    slug,
                    taxonomy: "post_tag".into(),
                    parent: 0,
                });
            }
            "term" => {
                let term_id = child_text_ns(n, wp, "term_id").parse().unwrap_or(0);
                let taxonomy = child_text_ns(n, wp, "term_taxonomy");
                let slug = child_text_ns(n, wp, "term_slug");
                // Categories and tags may be listed a second time as generic terms.
                if site.terms.iter().any(|t| t.term_id == term_id && t.taxonomy == taxonomy) {
                    continue;
                }
                slug_to_term.insert((taxonomy.clone(), slug.clone()), term_id);
                site.terms.push(Term { term_id, name: child_text_ns(n, wp, "term_name"), slug, taxonomy, parent: 0 });
            }
            "item" => {
                let id: i64 = child_text_ns(n, wp, "post_id").parse().unwrap_or(0);
                let mut meta: BTreeMap<String, Vec<String>> = BTreeMap::new();
                for m in n.children().filter(|c| c.is_element() && c.tag_name().name() == "postmeta") {
                    meta.entry(child_text_ns(m, wp, "meta_key")).or_default().push(child_text_ns(m, wp, "meta_value"));
                }
                let mut terms = Vec::new();
                for c in n.children().filter(|c| {
                    c.is_element() && c.tag_name().name() == "category" && c.tag_name().namespace().is_none()
                }) {
                    let domain = c.attribute("domain").unwrap_or("");
                    let nicename = c.attribute("nicename").unwrap_or("");
                    if let Some(t) = slug_to_term.get(&(domain.to_owned(), nicename.to_owned())) {
                        terms.push(*t);
                    }
                }
                terms.sort_unstable();
                let author_login = child_text_ns(n, "purl.org/dc", "creator");
                let post_type = child_text_ns(n, wp, "post_type");
                if child_text_ns(n, wp, "is_sticky") == "1" {
                    site.sticky.push(id);
                }
                let mime_type = if post_type == "attachment" {
                    mime_from_name(&child_text_ns(n, wp, "attachment_url"))
                } else {
                    String::new()
                };
                for c in n.children().filter(|c| c.is_element() && c.tag_name().name() == "comment") {
                    site.comments.push(Comment {
                        id: child_text_ns(c, wp, "comment_id").parse().unwrap_or(0),
                        post_id: id,
                        author: child_text_ns(c, wp, "comment_author"),
                        author_email: child_text_ns(c, wp, "comment_author_email"),
                        date_gmt: child_text_ns(c, wp, "comment_date_gmt"),
                        content: child_text_ns(c, wp, "comment_content"),
                        approved: child_text_ns(c, wp, "comment_approved"),
                        comment_type: child_text_ns(c, wp, "comment_type"),
                        parent: child_text_ns(c, wp, "comment_parent").parse().unwrap_or(0),
                        user_id: child_text_ns(c, wp, "comment_user_id").parse().unwrap_or(0),
                    });
                }
                site.posts.push(Post {
                    id,
                    author: logins.get(&author_login).copied().unwrap_or(0),
                    date_local: child_text_ns(n, wp, "post_date"),
                    date_gmt: child_text_ns(n, wp, "post_date_gmt"),
                    content: child_text_ns(n, "purl.org/rss/1.0/modules/content", "encoded"),
                    title: child_text(n, "title"),
                    excerpt: child_text_ns(n, "wordpress.org/export/1.2/excerpt", "encoded"),
                    status: child_text_ns(n, wp, "status"),
                    name: child_text_ns(n, wp, "post_name"),
                    parent: child_text_ns(n, wp, "post_parent").parse().unwrap_or(0),
                    guid: child_text(n, "guid"),
                    post_type,
                    mime_type,
                    menu_order: child_text_ns(n, wp, "menu_order").parse().unwrap_or(0),
                    meta,
                    terms,
                });
            }
            _ => {}
        }
    }
    for (i, parent_slug) in parents {
        if !parent_slug.is_empty() {
            site.terms[i].parent = slug_to_term.get(&("category".into(), parent_slug)).copied().unwrap_or(0);
        }
    }
    site.posts.sort_by_key(|p| p.id);
    site.terms.sort_by_key(|t| t.term_id);
    Ok(site)
}

fn mime_from_name(url: &str) -> String {
    let ext = url.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => "application/octet-stream",
    }
    .to_owned()
}

/// The `wp:post_id` of the `<item>` that contains byte `at`, if any.
fn item_id_at(bytes: &[u8], at: usize) -> Option<i64> {
    let find_back = |needle: &[u8]| bytes[..at].windows(needle.len()).rposition(|w| w == needle);
    let start = find_back(b"<item>")?;
    if find_back(b"</item>").is_some_and(|end| end > start) {
        return None;
    }
    let rest = &bytes[start..];
    let open = rest.windows(12).position(|w| w == b"<wp:post_id>")? + 12;
    let close = rest[open..].iter().position(|b| *b == b'<')?;
    std::str::from_utf8(&rest[open..open + close]).ok()?.trim().parse().ok()
}
