//! The old URLs of a WordPress site (MG-4): what `get_permalink()` and the archive links gave for
//! each object, as host-relative paths in WordPress's own lower-case percent-encoding.

use crate::model::{Post, Site};

/// `/parent/child` path of a category (slugs as stored, already percent-encoded).
pub fn category_path(site: &Site, term_id: i64) -> String {
    let mut slugs = Vec::new();
    let mut current = Some(term_id);
    let mut guard = 0;
    while let Some(id) = current {
        let Some(t) = site.term(id) else { break };
        slugs.push(t.slug.clone());
        current = (t.parent != 0).then_some(t.parent);
        guard += 1;
        if guard > 16 {
            break;
        }
    }
    slugs.reverse();
    slugs.join("/")
}

/// The category WordPress puts in `%category%`: the post's category with the lowest term id.
pub fn primary_category(site: &Site, post: &Post) -> Option<i64> {
    post.terms.iter().copied().filter(|t| site.term(*t).is_some_and(|t| t.taxonomy == "category")).min()
}

/// The pretty permalink path of a published post or page, `None` when the site has no pretty
/// permalinks (only `?p=ID` then).
pub fn post_path(site: &Site, post: &Post, author_nicename: &str) -> Option<String> {
    if post.name.is_empty() {
        return None;
    }
    if post.post_type == "page" {
        let mut names = vec![post.name.clone()];
        let mut parent = post.parent;
        let mut guard = 0;
        while parent != 0 && guard < 16 {
            let Some(p) = site.post(parent) else { break };
            names.push(p.name.clone());
            parent = p.parent;
            guard += 1;
        }
        names.reverse();
        return Some(format!("/{}/", names.join("/")));
    }
    let structure = site.permalink_structure.trim();
    if structure.is_empty() {
        return None;
    }
    let d = &post.date_local;
    let part = |a: usize, b: usize| d.get(a..b).unwrap_or("").to_owned();
    let category = primary_category(site, post).map(|c| category_path(site, c)).unwrap_or_default();
    let path = structure
        .replace("%year%", &part(0, 4))
        .replace("%monthnum%", &part(5, 7))
        .replace("%day%", &part(8, 10))
        .replace("%hour%", &part(11, 13))
        .replace("%minute%", &part(14, 16))
        .replace("%second%", &part(17, 19))
        .replace("%post_id%", &post.id.to_string())
        .replace("%postname%", &post.name)
        .replace("%category%", &category)
        .replace("%author%", author_nicename);
    Some(if path.starts_with('/') { path } else { format!("/{path}") })
}

/// The same path with `old` in place of the slug (posts whose slug was edited: `_wp_old_slug`).
pub fn with_old_slug(path: &str, current: &str, old: &str) -> Option<String> {
    let needle = format!("/{current}/");
    path.rfind(&needle).map(|i| format!("{}/{old}/{}", &path[..i], &path[i + needle.len()..]))
}
