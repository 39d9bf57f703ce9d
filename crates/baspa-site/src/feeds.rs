//! Machine-readable views of the site: `robots.txt`, `sitemap.xml` with `xhtml:link` language
//! alternates (ML-5, WS-3) and an RSS 2.0 feed per language.

use std::collections::HashMap;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use baspa_db::content::{self as store, EntryFilter};
use baspa_domain::LanguageRouting;

use crate::pages::{Sections, Visit, entry_path, item_path};
use crate::routing;
use crate::{SiteError, SiteState};

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

fn typed(content_type: &'static str, body: String) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=300")], body).into_response()
}

pub fn robots(visit: &Visit) -> Response {
    let origin = origin(visit);
    typed("text/plain; charset=utf-8", format!("User-agent: *\nAllow: /\nSitemap: {origin}/sitemap.xml\n"))
}

/// The languages whose pages live on the requested host.
fn served_here(visit: &Visit) -> Vec<&baspa_domain::LanguageSpec> {
    let host = routing::host_name(&visit.host);
    visit
        .languages
        .iter()
        .filter(|l| match &l.routing {
            LanguageRouting::Host(h) => h.eq_ignore_ascii_case(&host) || (l.code == visit.lang.code),
            LanguageRouting::PathPrefix(_) => true,
        })
        .collect()
}

fn origin(visit: &Visit) -> String {
    let base = routing::language_base(&visit.lang, &visit.host);
    base.strip_suffix(&visit.lang.path_prefix()).unwrap_or(&base).to_owned()
}

/// `/sitemap.xml`: an index of one sitemap per language served here plus the news sitemap.
pub fn sitemap_index(visit: &Visit) -> Response {
    let origin = origin(visit);
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for l in served_here(visit) {
        out.push_str(&format!(
            "<sitemap><loc>{}</loc></sitemap>\n",
            xml_escape(&format!("{origin}/sitemap-{}.xml", l.code))
        ));
    }
    out.push_str(&format!("<sitemap><loc>{}</loc></sitemap>\n", xml_escape(&format!("{origin}/sitemap-news.xml"))));
    out.push_str("</sitemapindex>\n");
    typed("application/xml; charset=utf-8", out)
}

/// `/sitemap-news.xml`: Google News sitemap of the last 48 hours in the languages served here.
pub async fn news_sitemap(state: &SiteState, visit: &Visit) -> Result<Response, SiteError> {
    let since = baspa_domain::time::now() - chrono::Duration::hours(48);
    let until = baspa_domain::time::now() + chrono::Duration::minutes(1);
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\">\n",
    );
    for lang in served_here(visit) {
        let secs = Sections::load(state, lang.code.as_str()).await?;
        let filter = EntryFilter { published_between: Some((since, until)), limit: 1000, ..Default::default() };
        for (t, item) in store::published_entries(&state.db, lang.code.as_str(), &filter).await? {
            let loc = visit.absolute(lang, &entry_path(&secs, &item, &t));
            let date = t.published_at.map(|d| d.to_rfc3339()).unwrap_or_default();
            out.push_str(&format!(
                "<url><loc>{}</loc><news:news><news:publication><news:name>{}</news:name><news:language>{}</news:language></news:publication><news:publication_date>{date}</news:publication_date><news:title>{}</news:title></news:news></url>\n",
                xml_escape(&loc),
                xml_escape(&state.site_name),
                xml_escape(lang.code.as_str()),
                xml_escape(&t.title)
            ));
        }
    }
    out.push_str("</urlset>\n");
    Ok(typed("application/xml; charset=utf-8", out))
}

/// `/sitemap-{lang}.xml`: every published page of one language, each with its translations.
pub async fn sitemap(state: &SiteState, visit: &Visit, code: &str) -> Result<Response, SiteError> {
    let served: Vec<_> = served_here(visit).into_iter().filter(|l| l.code.as_str() == code).collect();
    if served.is_empty() {
        return Err(SiteError::NotFound);
    }
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
        if let Some(path) = item_path(secs, item, t) {
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

/// Which feed format to write.
#[derive(Clone, Copy)]
pub enum FeedFormat {
    Rss,
    Atom,
}

/// RSS 2.0 or Atom of the latest 30 entries in the visitor's language, of the whole site or of a
/// section (with its subsections).
pub async fn feed(
    state: &SiteState,
    visit: &Visit,
    section: Option<i64>,
    format: FeedFormat,
) -> Result<Response, SiteError> {
    let secs = Sections::load(state, visit.code()).await?;
    let filter =
        EntryFilter { section_ids: section.map(|s| secs.descendants_and_self(s)), limit: 30, ..Default::default() };
    let rows = store::published_entries(&state.db, visit.code(), &filter).await?;
    let page_path = section.and_then(|s| secs.path_of(s)).unwrap_or_else(|| "/".to_owned());
    let page_url = visit.absolute(&visit.lang, &page_path);
    let title = match section.and_then(|s| secs.titles.get(&s)) {
        Some(t) => format!("{} — {}", t.title, state.site_name),
        None => state.site_name.to_string(),
    };
    // The newest change among the entries; an empty feed says the epoch rather than "now", so the
    // same content always gives the same bytes (cached copies, ETags, CDNs).
    let updated = rows.iter().map(|(t, _)| t.updated_at).max().unwrap_or(chrono::DateTime::UNIX_EPOCH);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    match format {
        FeedFormat::Rss => out.push_str(&format!(
            "<rss version=\"2.0\"><channel><title>{}</title><link>{}</link><description>{}</description><language>{}</language>\n",
            xml_escape(&title),
            xml_escape(&page_url),
            xml_escape(&title),
            xml_escape(&visit.lang.bcp47)
        )),
        FeedFormat::Atom => out.push_str(&format!(
            "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{}\"><title>{}</title><id>{}</id><link href=\"{}\"/><updated>{}</updated>\n",
            xml_escape(&visit.lang.bcp47),
            xml_escape(&title),
            xml_escape(&page_url),
            xml_escape(&page_url),
            updated.to_rfc3339()
        )),
    }
    for (t, item) in rows {
        let link = visit.absolute(&visit.lang, &entry_path(&secs, &item, &t));
        let published = t.published_at.unwrap_or(t.created_at);
        match format {
            FeedFormat::Rss => out.push_str(&format!(
                "<item><title>{}</title><link>{}</link><guid isPermaLink=\"true\">{}</guid><pubDate>{}</pubDate><description>{}</description></item>\n",
                xml_escape(&t.title),
                xml_escape(&link),
                xml_escape(&link),
                published.to_rfc2822(),
                xml_escape(&t.excerpt)
            )),
            FeedFormat::Atom => out.push_str(&format!(
                "<entry><title>{}</title><id>{}</id><link href=\"{}\"/><published>{}</published><updated>{}</updated><summary>{}</summary></entry>\n",
                xml_escape(&t.title),
                xml_escape(&link),
                xml_escape(&link),
                published.to_rfc3339(),
                t.updated_at.to_rfc3339(),
                xml_escape(&t.excerpt)
            )),
        }
    }
    match format {
        FeedFormat::Rss => {
            out.push_str("</channel></rss>\n");
            Ok(typed("application/rss+xml; charset=utf-8", out))
        }
        FeedFormat::Atom => {
            out.push_str("</feed>\n");
            Ok(typed("application/atom+xml; charset=utf-8", out))
        }
    }
}
