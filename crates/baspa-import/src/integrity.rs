//! The integrity report (MG-3): source versus target per object type and status, body checksums
//! (each stored body must equal the conversion of its source body, internal links included),
//! dangling references (featured images, comment parents, upload URLs) and broken internal links
//! (a link that is neither the new address of an imported page nor an old path with a redirect).
//! Any mismatch makes the report unclean; the CLI exits non-zero then.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use baspa_db::content as store;
use baspa_domain::{SanitizedHtml, TranslationId};
use regex::Regex;
use sea_orm::DatabaseConnection;
use serde::Serialize;

use crate::links::Links;
use crate::rewrite::{Rewriter, pattern};
use crate::run::{ImportError, SiteSource, target_status};

static HREF: LazyLock<Regex> = LazyLock::new(|| pattern(r#"href="(/[^"]*)""#));

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CountRow {
    pub source: String,
    /// `post`, `page`, `attachment`, `category`, `post_tag`, `user`, `comment`.
    pub kind: String,
    /// The WordPress status (or MIME type, role, comment state).
    pub status: String,
    pub source_count: u64,
    pub target_count: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Integrity {
    pub counts: Vec<CountRow>,
    pub bodies_checked: u64,
    pub mismatches: Vec<String>,
}

impl Integrity {
    pub fn is_clean(&self) -> bool {
        self.mismatches.is_empty() && self.counts.iter().all(|r| r.source_count == r.target_count)
    }

    /// Target count of one row (tests compare it with the manifest).
    pub fn target(&self, source: &str, kind: &str, status: &str) -> u64 {
        self.counts
            .iter()
            .find(|r| r.source == source && r.kind == kind && r.status == status)
            .map(|r| r.target_count)
            .unwrap_or(0)
    }

    pub fn target_total(&self, source: &str, kind: &str) -> u64 {
        self.counts.iter().filter(|r| r.source == source && r.kind == kind).map(|r| r.target_count).sum()
    }
}

fn bump(counts: &mut BTreeMap<(String, String), (u64, u64)>, kind: &str, status: &str, source: bool, target: bool) {
    let e = counts.entry((kind.to_owned(), status.to_owned())).or_default();
    e.0 += u64::from(source);
    e.1 += u64::from(target);
}

/// Compares every source with what the database holds now.
pub async fn check(db: &DatabaseConnection, sources: &[SiteSource]) -> Result<Integrity, ImportError> {
    let mut out = Integrity::default();
    let now = chrono::Utc::now();
    let languages = baspa_db::languages::list(db).await?;
    let host_of = |lang: &str| match languages.iter().find(|l| l.code.as_str() == lang).map(|l| &l.routing) {
        Some(baspa_domain::LanguageRouting::Host(h)) => h.to_ascii_lowercase(),
        _ => String::new(),
    };
    let mut all_maps = Vec::new();
    for src in sources {
        let maps: HashMap<(String, i64), baspa_db::entity::import_map::Model> =
            baspa_db::imports::of_source(db, &src.source_name())
                .await?
                .into_iter()
                .map(|m| ((m.object_kind.clone(), m.source_id), m))
                .collect();
        all_maps.push(maps);
    }
    let links = Links::load(db, sources, &all_maps.iter().collect::<Vec<_>>()).await?;
    for (index, (src, maps)) in sources.iter().zip(&all_maps).enumerate() {
        let name = src.source_name();
        let lang = src.lang.as_str();
        let host = host_of(lang);
        let mut counts: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();

        // Media first: the bodies' expected form needs the new media URLs.
        let media_ids: Vec<i64> =
            maps.values().filter(|m| m.object_kind == "attachment").map(|m| m.target_id).collect();
        let media: HashMap<i64, String> = store::media_by_ids(db, &media_ids)
            .await?
            .into_iter()
            .map(|m| (m.id, format!("/media/{}", m.storage_key)))
            .collect();
        let mut uploads = HashMap::new();
        let mut attachments = HashMap::new();
        for a in src.site.posts.iter().filter(|p| p.post_type == "attachment") {
            let target = maps.get(&("attachment".to_owned(), a.id)).and_then(|m| media.get(&m.target_id));
            bump(&mut counts, "attachment", &a.mime_type, true, target.is_some());
            if let (Some(url), Some(rel)) = (target, a.meta1("_wp_attached_file")) {
                attachments.insert(a.id, url.clone());
                uploads.insert(rel.to_owned(), url.clone());
                if let Some(Ok(meta)) = a.meta1("_wp_attachment_metadata").map(crate::php::unserialize) {
                    let dir = rel.rsplit_once('/').map(|(d, _)| format!("{d}/")).unwrap_or_default();
                    for s in meta.get("sizes").and_then(|s| s.as_object()).into_iter().flat_map(|m| m.values()) {
                        if let Some(f) = s.get("file").and_then(|f| f.as_str()) {
                            uploads.insert(format!("{dir}{f}"), url.clone());
                        }
                    }
                    if let Some(f) = meta.get("original_image").and_then(|f| f.as_str()) {
                        uploads.insert(format!("{dir}{f}"), url.clone());
                    }
                }
            }
        }
        let mut bases = vec![src.site.base_url().to_owned()];
        if !src.site.siteurl.is_empty() && src.site.siteurl.trim_end_matches('/') != src.site.base_url() {
            bases.push(src.site.siteurl.trim_end_matches('/').to_owned());
        }

        // Posts and pages: status and body.
        let item_ids: Vec<i64> = maps.values().filter(|m| m.target_kind == "item").map(|m| m.target_id).collect();
        let translations: HashMap<i64, baspa_db::entity::translation::Model> =
            store::translations_of_items(db, &item_ids, false)
                .await?
                .into_iter()
                .filter(|t| t.lang == lang)
                .map(|t| (t.item_id, t))
                .collect();
        let items: HashMap<i64, baspa_db::entity::item::Model> =
            store::items_by_ids(db, &item_ids).await?.into_iter().map(|i| (i.id, i)).collect();
        for p in src
            .site
            .posts
            .iter()
            .filter(|p| (p.post_type == "post" || p.post_type == "page") && p.status != "auto-draft")
        {
            let m = maps.get(&(p.post_type.clone(), p.id));
            let t = m.and_then(|m| translations.get(&m.target_id));
            let expected = target_status(&p.status, crate::model::parse_gmt(&p.date_gmt), now);
            let ok = t.is_some_and(|t| t.status == expected.as_str());
            if let (Some(t), false) = (t, ok) {
                out.mismatches
                    .push(format!("{name}: {} {} is {} in Baspa, expected {}", p.post_type, p.id, t.status, expected));
            }
            bump(&mut counts, &p.post_type, &p.status, true, ok);
            let Some(t) = t else { continue };
            // Trashed posts keep their links' old paths (the importer does not relink them).
            let link_map = (p.status != "trash").then_some((&links, index));
            let rw =
                Rewriter { base_urls: bases.clone(), uploads: &uploads, attachments: &attachments, links: link_map };
            let (converted, notes) = rw.rewrite(&p.content);
            let expected_body = SanitizedHtml::sanitize(&converted).into_string();
            // The live text of a published page, else the latest (a scheduled page shows it then).
            let live = match (t.live_revision_id, t.latest_revision_id) {
                (Some(rev), _) if t.status == "published" => store::get_revision(db, rev).await?.body,
                (_, Some(rev)) => store::get_revision(db, rev).await?.body,
                _ => t.body.clone(),
            };
            out.bodies_checked += 1;
            if blake3::hash(live.as_bytes()) != blake3::hash(expected_body.as_bytes()) {
                out.mismatches.push(format!(
                    "{name}: body of {} {} (translation {}) differs from its source",
                    p.post_type,
                    p.id,
                    TranslationId(t.id)
                ));
            }
            for u in notes.unmapped_uploads {
                out.mismatches
                    .push(format!("{name}: {} {} links to upload {u}, which was not imported", p.post_type, p.id));
            }
            if let Some(thumb) = p.meta1("_thumbnail_id").and_then(|v| v.parse::<i64>().ok()) {
                let media_target = maps.get(&("attachment".to_owned(), thumb)).map(|m| m.target_id);
                let item = items.get(&t.item_id);
                if media_target.is_none()
                    || item.and_then(|i| i.featured_media_id) != media_target
                        && item.is_some_and(|i| i.featured_media_id.is_some())
                {
                    out.mismatches
                        .push(format!("{name}: featured image {thumb} of {} {} is dangling", p.post_type, p.id));
                }
            }
            if t.status == "published" {
                for c in HREF.captures_iter(&live) {
                    let href = c[1].replace("&amp;", "&");
                    if href.starts_with("/media/") {
                        continue;
                    }
                    // `//host/path`: a page of another language host.
                    let (link_host, path) = match href.strip_prefix("//") {
                        Some(rest) => {
                            let (h, p) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
                            (h.to_ascii_lowercase(), if p.is_empty() { "/".to_owned() } else { p.to_owned() })
                        }
                        None => (host.clone(), href.clone()),
                    };
                    let path = path.split('#').next().unwrap_or_default().to_owned();
                    let link_lang = languages
                        .iter()
                        .find(|l| host_of(l.code.as_str()) == link_host)
                        .map_or(lang, |l| l.code.as_str());
                    if links.is_new_path(link_lang, &path) {
                        continue;
                    }
                    if store::find_redirect(db, &link_host, &path).await?.is_none() && !path.starts_with("/author/") {
                        out.mismatches.push(format!(
                            "{name}: {} {} links to {path}, which is no known old URL",
                            p.post_type, p.id
                        ));
                    }
                }
            }
        }

        // Terms.
        for term in src.site.terms.iter().filter(|t| t.taxonomy == "category" || t.taxonomy == "post_tag") {
            let m = maps.get(&(term.taxonomy.clone(), term.term_id));
            let ok = match m {
                Some(m) => store::get_item(db, baspa_domain::ItemId(m.target_id)).await.is_ok(),
                None => false,
            };
            bump(&mut counts, &term.taxonomy, "all", true, ok);
        }

        // Users by WordPress role.
        for u in &src.site.users {
            let ok = match maps.get(&("user".to_owned(), u.id)) {
                Some(m) => baspa_db::users::get(db, baspa_domain::UserId(m.target_id)).await.is_ok(),
                None => false,
            };
            bump(&mut counts, "user", &u.role, true, ok);
        }

        // Comments by moderation state, with their threads.
        for c in &src.site.comments {
            let expected = match c.approved.as_str() {
                "1" => "approved",
                "spam" => "spam",
                "trash" | "post-trashed" => "trash",
                _ => "pending",
            };
            let row = match maps.get(&("comment".to_owned(), c.id)) {
                Some(m) => store::get_comment(db, m.target_id).await.ok(),
                None => None,
            };
            let ok = row.as_ref().is_some_and(|r| r.status == expected);
            bump(&mut counts, "comment", &c.approved, true, ok);
            if let Some(r) = row
                && c.parent != 0
            {
                let parent = maps.get(&("comment".to_owned(), c.parent)).map(|m| m.target_id);
                if r.parent_id != parent || parent.is_none() {
                    out.mismatches.push(format!("{name}: comment {} lost its parent {}", c.id, c.parent));
                }
            }
        }

        for ((kind, status), (s, t)) in counts {
            out.counts.push(CountRow { source: name.clone(), kind, status, source_count: s, target_count: t });
        }
    }
    Ok(out)
}
