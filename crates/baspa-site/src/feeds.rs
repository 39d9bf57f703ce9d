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

/// `/sitemap.xml`: an index of the sitemaps of each language served here (one part per
/// [`SITEMAP_PART_URLS`] pages) plus the news sitemap.
pub async fn sitemap_index(state: &SiteState, visit: &Visit) -> Result<Response, SiteError> {
    let origin = origin(visit);
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for l in served_here(visit) {
        // The first part also holds the home page, one URL over the part size, within the limit.
        let pages = store::count_published(&state.db, l.code.as_str()).await?;
        for part in 1..=pages.div_ceil(state.sitemap_part_urls.max(1)).max(1) {
            let name = if part == 1 { l.code.to_string() } else { format!("{}-{part}", l.code) };
            out.push_str(&format!(
                "<sitemap><loc>{}</loc></sitemap>\n",
                xml_escape(&format!("{origin}/sitemap-{name}.xml"))
            ));
        }
    }
    out.push_str(&format!("<sitemap><loc>{}</loc></sitemap>\n", xml_escape(&format!("{origin}/sitemap-news.xml"))));
    out.push_str("</sitemapindex>\n");
    Ok(typed("application/xml; charset=utf-8", out))
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

/// URLs in one sitemap file: the protocol allows 50,000; the rest of the language goes to
/// `/sitemap-{lang}-2.xml` and on, listed in `/sitemap.xml` (WS-3).
pub const SITEMAP_PART_URLS: u64 = 45_000;

/// Rows read at a time while a sitemap is written, so a large site is never in memory whole.
const SITEMAP_BATCH: u64 = 2_000;

/// `/sitemap-{lang}.xml` and `/sitemap-{lang}-{n}.xml`: the published pages of one language, a
/// part of at most [`SITEMAP_PART_URLS`] at a time, each with its translations.
pub async fn sitemap(state: &SiteState, visit: &Visit, name: &str) -> Result<Response, SiteError> {
    let (code, part) = sitemap_part(visit, name).ok_or(SiteError::NotFound)?;
    let part_urls = state.sitemap_part_urls.max(1);
    let Some(lang) = served_here(visit).into_iter().find(|l| l.code.as_str() == code) else {
        return Err(SiteError::NotFound);
    };
    let mut sections = HashMap::new();
    for l in &visit.languages {
        sections.insert(l.code.to_string(), Sections::load(state, l.code.as_str()).await?);
    }
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
    );
    let mut from = if part == 1 {
        out.push_str(&format!("<url><loc>{}</loc></url>\n", xml_escape(&visit.absolute(lang, "/"))));
        None
    } else {
        let first = store::nth_published_item(&state.db, code, (part - 1) * part_urls).await?;
        Some(first.ok_or(SiteError::NotFound)?)
    };
    let mut left = part_urls;
    while left > 0 {
        let page = store::published_page(&state.db, code, from, SITEMAP_BATCH.min(left)).await?;
        let Some((last, _)) = page.last() else { break };
        let is_last_page = (page.len() as u64) < SITEMAP_BATCH.min(left);
        left -= page.len() as u64;
        from = Some(last.item_id + 1);
        let ids: Vec<i64> = page.iter().map(|(t, _)| t.item_id).collect();
        // item id → (hreflang, absolute URL) of every published translation
        let mut versions: HashMap<i64, Vec<(String, String)>> = HashMap::new();
        for (t, item) in store::published_of_items(&state.db, &ids).await? {
            let Some(l) = visit.languages.iter().find(|l| l.code.as_str() == t.lang) else { continue };
            let Some(path) = sections.get(&t.lang).and_then(|secs| item_path(secs, &item, &t)) else { continue };
            versions.entry(item.id).or_default().push((l.bcp47.clone(), visit.absolute(l, &path)));
        }
        for (t, item) in &page {
            let Some(path) = sections.get(&t.lang).and_then(|secs| item_path(secs, item, t)) else { continue };
            let lastmod = t.updated_at.format("%Y-%m-%dT%H:%M:%SZ");
            out.push_str(&format!(
                "<url><loc>{}</loc><lastmod>{lastmod}</lastmod>",
                xml_escape(&visit.absolute(lang, &path))
            ));
            let alternates = versions.get(&item.id).map(Vec::as_slice).unwrap_or_default();
            if alternates.len() > 1 {
                for (alt_lang, alt_loc) in alternates {
                    out.push_str(&format!(
                        "<xhtml:link rel=\"alternate\" hreflang=\"{}\" href=\"{}\"/>",
                        xml_escape(alt_lang),
                        xml_escape(alt_loc)
                    ));
                }
            }
            out.push_str("</url>\n");
        }
        if is_last_page {
            break;
        }
    }
    out.push_str("</urlset>\n");
    Ok(typed("application/xml; charset=utf-8", out))
}

/// `kk` → (`kk`, 1), `kk-2` → (`kk`, 2); a language code itself may contain `-`.
fn sitemap_part<'a>(visit: &Visit, name: &'a str) -> Option<(&'a str, u64)> {
    if visit.languages.iter().any(|l| l.code.as_str() == name) {
        return Some((name, 1));
    }
    let (code, n) = name.rsplit_once('-')?;
    let part = n.parse::<u64>().ok().filter(|p| *p >= 2 && n.bytes().all(|b| b.is_ascii_digit()))?;
    Some((code, part))
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
