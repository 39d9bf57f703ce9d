//! Internal links (MG-5): a link in a body to a post, page, category, tag or archive of either old
//! site is pointed straight at the new address of its target (on the right language host or
//! prefix) when the target is known and published; only unknown targets keep their old path,
//! which the imported redirects answer with 301. The map is built from the import map and the
//! new rows, so the importer rebuilds it after the posts exist and rewrites bodies a second time.

use std::collections::{HashMap, HashSet};

use baspa_db::content as store;
use baspa_db::entity::{import_map, item, translation};
use baspa_domain::{ItemKind, LangCode, LanguageRouting};
use sea_orm::DatabaseConnection;

use crate::redirects::{self, Target};
use crate::rewrite::percent_decode;
use crate::run::{ImportError, SiteSource};

/// What became of one link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// The target's new address.
    New(String),
    /// Unknown target: the old path, on the host of the old site's language (answered by a 301
    /// when a redirect exists).
    OldPath(String),
}

struct SiteLinks {
    lang: LangCode,
    /// The old site's base URLs without scheme and trailing slash (`127.0.0.1:8081`).
    bases: Vec<String>,
    /// Normalised old path (see [`key`]) → new path on the language (prefix included).
    paths: HashMap<String, String>,
    /// `Host(h)` or the path prefix of the language.
    routing: Option<LanguageRouting>,
}

/// The old-to-new link map of every source of one import.
#[derive(Default)]
pub struct Links {
    sites: Vec<SiteLinks>,
    /// Every new path, per language (the integrity check accepts links to them).
    new_paths: HashMap<String, HashSet<String>>,
}

/// The comparable form of an old path: percent-decoded, without fragment, with a trailing slash
/// on pretty paths (WordPress answers both).
fn key(path: &str) -> String {
    let path = path.split('#').next().unwrap_or_default();
    let decoded = percent_decode(path).to_lowercase();
    if decoded.contains('?') || decoded.ends_with('/') { decoded } else { format!("{decoded}/") }
}

fn strip_scheme(url: &str) -> &str {
    url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).unwrap_or(url)
}

/// The path of an item's translation on its language, as the site builds it (`baspa-site`'s
/// `item_path`: sections by their slug chain, pages at the root, tags under `/tag/`).
fn item_path(
    it: &item::Model,
    t: &translation::Model,
    sections: &HashMap<i64, item::Model>,
    section_slugs: &HashMap<i64, String>,
) -> Option<String> {
    let section_path = |id: i64| -> Option<String> {
        let mut slugs = Vec::new();
        let mut current = Some(id);
        while let Some(cid) = current {
            slugs.push(section_slugs.get(&cid)?.clone());
            current = sections.get(&cid).and_then(|s| s.parent_id);
            if slugs.len() > 32 {
                return None;
            }
        }
        slugs.reverse();
        Some(format!("/{}/", slugs.join("/")))
    };
    match ItemKind::parse(&it.kind).ok()? {
        ItemKind::Section => section_path(it.id),
        ItemKind::Page => Some(format!("/{}", t.slug)),
        ItemKind::Tag => Some(format!("/tag/{}", t.slug)),
        ItemKind::Article | ItemKind::Document => match it.section_id.and_then(section_path) {
            Some(s) => Some(format!("{s}{}", t.slug)),
            None => Some(format!("/{}", t.slug)),
        },
    }
}

fn prefixed(routing: Option<&LanguageRouting>, path: &str) -> String {
    match routing {
        Some(LanguageRouting::PathPrefix(p)) => format!("/{}{path}", p.trim_matches('/')),
        _ => path.to_owned(),
    }
}

impl Links {
    /// Builds the map from what the database holds now (`maps`: the import map per source, in
    /// source order).
    pub async fn load(
        db: &DatabaseConnection,
        sources: &[SiteSource],
        maps: &[&HashMap<(String, i64), import_map::Model>],
    ) -> Result<Self, ImportError> {
        let languages = baspa_db::languages::list(db).await?;
        let mut wanted = Vec::new();
        let mut item_ids = Vec::new();
        for (src, m) in sources.iter().zip(maps) {
            let urls = redirects::old_urls(db, src, m, &mut Vec::new()).await?;
            item_ids.extend(urls.iter().filter_map(|(_, t)| if let Target::Item(i) = t { Some(i.0) } else { None }));
            wanted.push(urls);
        }
        item_ids.sort_unstable();
        item_ids.dedup();
        let items: HashMap<i64, item::Model> =
            store::items_by_ids(db, &item_ids).await?.into_iter().map(|i| (i.id, i)).collect();
        let translations = store::translations_of_items(db, &item_ids, true).await?;
        let sections: HashMap<i64, item::Model> =
            store::items_of_kind(db, ItemKind::Section).await?.into_iter().map(|s| (s.id, s)).collect();
        let section_ids: Vec<i64> = sections.keys().copied().collect();
        let section_rows = store::translations_of_items(db, &section_ids, true).await?;
        let mut out = Links::default();
        for (src, urls) in sources.iter().zip(wanted) {
            let lang = src.lang.as_str();
            let routing = languages.iter().find(|l| l.code == src.lang).map(|l| l.routing.clone());
            let section_slugs: HashMap<i64, String> =
                section_rows.iter().filter(|t| t.lang == lang).map(|t| (t.item_id, t.slug.clone())).collect();
            let new_path: HashMap<i64, String> = translations
                .iter()
                .filter(|t| t.lang == lang)
                .filter_map(|t| {
                    let path = item_path(items.get(&t.item_id)?, t, &sections, &section_slugs)?;
                    Some((t.item_id, prefixed(routing.as_ref(), &path)))
                })
                .collect();
            let mut paths = HashMap::new();
            for (old, target) in urls {
                let new = match target {
                    Target::Item(i) => new_path.get(&i.0).cloned(),
                    Target::Url(u) => Some(prefixed(routing.as_ref(), &u)),
                };
                // The first claim of an old path wins, as with the redirects.
                if let Some(new) = new {
                    paths.entry(key(&old)).or_insert(new);
                }
            }
            let known = out.new_paths.entry(lang.to_owned()).or_default();
            known.extend(new_path.into_values());
            let mut bases = vec![strip_scheme(src.site.base_url()).to_ascii_lowercase()];
            if !src.site.siteurl.is_empty() {
                bases.push(strip_scheme(src.site.siteurl.trim_end_matches('/')).to_ascii_lowercase());
            }
            bases.dedup();
            out.sites.push(SiteLinks { lang: src.lang.clone(), bases, paths, routing });
        }
        Ok(out)
    }

    /// A map that knows no target (every link keeps its old path).
    pub fn empty(sources: &[SiteSource]) -> Self {
        let sites = sources
            .iter()
            .map(|src| {
                let mut bases = vec![strip_scheme(src.site.base_url()).to_ascii_lowercase()];
                if !src.site.siteurl.is_empty() {
                    bases.push(strip_scheme(src.site.siteurl.trim_end_matches('/')).to_ascii_lowercase());
                }
                bases.dedup();
                SiteLinks { lang: src.lang.clone(), bases, paths: HashMap::new(), routing: None }
            })
            .collect();
        Self { sites, new_paths: HashMap::new() }
    }

    /// Is `path` the new address of an imported item in `lang`?
    pub fn is_new_path(&self, lang: &str, path: &str) -> bool {
        self.new_paths.get(lang).is_some_and(|p| p.contains(path))
    }

    /// The new form of a link found in a body of source number `from`; `None` when it does not
    /// point into any old site (another site, a mail address, an anchor).
    pub fn resolve(&self, from: usize, href: &str) -> Option<Resolved> {
        let (site, path) = if href.starts_with('/') && !href.starts_with("//") {
            (self.sites.get(from)?, href.to_owned())
        } else {
            let rest = strip_scheme(href.trim_start_matches("//"));
            let lower = rest.to_ascii_lowercase();
            self.sites.iter().find_map(|s| {
                let base = s.bases.iter().find(|b| {
                    lower.starts_with(b.as_str())
                        && matches!(lower.as_bytes().get(b.len()), None | Some(b'/') | Some(b'?') | Some(b'#'))
                })?;
                let path = &rest[base.len()..];
                let path = if path.starts_with('/') { path.to_owned() } else { format!("/{path}") };
                Some((s, path))
            })?
        };
        let fragment = path.find('#').map(|i| path[i..].to_owned()).unwrap_or_default();
        let same_site = self.sites.get(from).is_some_and(|f| f.lang == site.lang);
        let on_host = |p: &str| -> String {
            match (&site.routing, same_site) {
                (_, true) | (None, _) | (Some(LanguageRouting::PathPrefix(_)), _) => p.to_owned(),
                (Some(LanguageRouting::Host(h)), false) => format!("//{h}{p}"),
            }
        };
        Some(match site.paths.get(&key(&path)) {
            Some(new) => Resolved::New(on_host(&format!("{new}{fragment}"))),
            None => Resolved::OldPath(on_host(&path)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mg5_old_paths_compare_decoded_with_a_trailing_slash() {
        assert_eq!(key("/2024/09/%D0%B0-b"), "/2024/09/а-b/");
        assert_eq!(key("/2024/09/%d0%b0-b/#c"), "/2024/09/а-b/");
        assert_eq!(key("/?p=12"), "/?p=12");
    }
}
