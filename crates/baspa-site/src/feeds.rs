//! Machine-readable views of the site: `robots.txt`, `sitemap.xml` with `xhtml:link` language
//! alternates (ML-5, WS-3) and an RSS 2.0 feed per language.

use std::collections::HashMap;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use baspa_db::content::{self as store, EntryFilter};
use baspa_domain::{ItemKind, LanguageRouting};

use crate::pages::{Sections, Visit, entry_path};
use crate::routing;
use crate::{SiteError, SiteState};

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

fn typed(content_type: &'static str, body: String) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=300")], body).into_response()
}

pub fn robots(visit: &Visit) -> Response {
    let base = routing::language_base(&visit.lang, &visit.host);
    let origin = base.strip_suffix(&visit.lang.path_prefix()).unwrap_or(&base);
    typed("text/plain; charset=utf-8", format!("User-agent: *\nAllow: /\nSitemap: {origin}/sitemap.xml\n"))
}

/// Every published page of the languages served on this host, each with its translations.
pub async fn sitemap(state: &SiteState, visit: &Visit) -> Result<Response, SiteError> {
    let host = routing::host_name(&visit.host);
    let served: Vec<_> = visit
        .languages
        .iter()
        .filter(|l| match &l.routing {
            LanguageRouting::Host(h) => h.eq_ignore_ascii_case(&host) || (l.code == visit.lang.code),
            LanguageRouting::PathPrefix(_) => true,
        })
        .collect();
    let mut sections = HashMap::new();
    for l in &visit.languages {
        sections.insert(l.code.to_string(), Sections::load(state, l.code.as_str()).await?);
    }
    let rows = store::all_published(&state.db).await?;
    // item id → (lang → absolute URL)
    let mut urls: HashMap<i64, Vec<(String, String, String)>> = HashMap::new();
    for (t, item) in &rows {
        let Some(lang) = visit.languages.iter().find(|l| l.code.as_str() == t.lang) else { continue };
        let Some(secs) = sections.get(&t.lang) else { continue };
        let path = match ItemKind::parse(&item.kind) {
            Ok(ItemKind::Section) => secs.path_of(item.id),
            Ok(ItemKind::Page) => Some(format!("/{}", t.slug)),
            Ok(ItemKind::Tag) => Some(format!("/tag/{}", t.slug)),
            Ok(ItemKind::Article | ItemKind::Document) => Some(entry_path(secs, item, t)),
            Err(_) => None,
        };
        if let Some(path) = path {
            let lastmod = t.updated_at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            urls.entry(item.id).or_default().push((lang.bcp47.clone(), visit.absolute(lang, &path), lastmod));
        }
    }
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
    );
    for l in &served {
        out.push_str(&format!("<url><loc>{}</loc></url>\n", xml_escape(&visit.absolute(l, "/"))));
    }
    let mut ids: Vec<&i64> = urls.keys().collect();
    ids.sort();
    for id in ids {
        let versions = &urls[id];
        for (bcp47, loc, lastmod) in versions {
            if !served.iter().any(|l| &l.bcp47 == bcp47) {
                continue;
            }
            out.push_str(&format!("<url><loc>{}</loc><lastmod>{lastmod}</lastmod>", xml_escape(loc)));
            if versions.len() > 1 {
                for (alt_lang, alt_loc, _) in versions {
                    out.push_str(&format!(
                        "<xhtml:link rel=\"alternate\" hreflang=\"{}\" href=\"{}\"/>",
                        xml_escape(alt_lang),
                        xml_escape(alt_loc)
                    ));
                }
            }
            out.push_str("</url>\n");
        }
    }
    out.push_str("</urlset>\n");
    Ok(typed("application/xml; charset=utf-8", out))
}

/// RSS 2.0 of the latest 30 entries in the visitor's language.
pub async fn rss(state: &SiteState, visit: &Visit) -> Result<Response, SiteError> {
    let secs = Sections::load(state, visit.code()).await?;
    let rows =
        store::published_entries(&state.db, visit.code(), &EntryFilter { limit: 30, ..Default::default() }).await?;
    let home = visit.absolute(&visit.lang, "/");
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>{}</title><link>{}</link><description>{}</description><language>{}</language>\n",
        xml_escape(&state.site_name),
        xml_escape(&home),
        xml_escape(&state.site_name),
        xml_escape(&visit.lang.bcp47)
    );
    for (t, item) in rows {
        let link = visit.absolute(&visit.lang, &entry_path(&secs, &item, &t));
        let date = t.published_at.map(|d| d.to_rfc2822()).unwrap_or_default();
        out.push_str(&format!(
            "<item><title>{}</title><link>{}</link><guid isPermaLink=\"true\">{}</guid><pubDate>{date}</pubDate><description>{}</description></item>\n",
            xml_escape(&t.title),
            xml_escape(&link),
            xml_escape(&link),
            xml_escape(&t.excerpt)
        ));
    }
    out.push_str("</channel></rss>\n");
    Ok(typed("application/rss+xml; charset=utf-8", out))
}
