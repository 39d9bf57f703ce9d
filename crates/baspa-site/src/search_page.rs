//! The public search page, `/search?q=…` in every language (WS-2): filters by section, date
//! range and type, relevance or date order, pages of ten, highlighted snippets, "did you mean",
//! and the latest texts when nothing is found. Any query string answers 200: what cannot be
//! read is ignored, and an index fault shows a notice instead of an error page.

use std::collections::HashMap;

use axum::http::{HeaderValue, header};
use axum::response::Response;
use baspa_db::content::{self as store, EntryFilter};
use baspa_domain::{ItemKind, LangCode};
use baspa_render::translate;
use baspa_render::view::{Link, SearchHitView, SearchView, SelectOption};
use baspa_search::{MAX_PAGE, MAX_QUERY_CHARS, SearchQuery, SearchResults, SortOrder};

use crate::pages::{Sections, Visit, cards, chrome, html, item_path};
use crate::{SiteError, SiteState};

const PER_PAGE: usize = 10;
/// Latest texts offered on an empty result.
const SUGGESTIONS: u64 = 6;
/// Kazakhstan time (UTC+5), in which dates are shown and so picked.
const KZ_OFFSET_SECONDS: i32 = 5 * 3600;

/// What the visitor asked, read leniently from the query string.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SearchParams {
    pub q: String,
    pub section: Option<i64>,
    pub kind: Option<ItemKind>,
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    pub by_date: bool,
    pub page: usize,
}

fn parse_date(raw: &str) -> Option<chrono::NaiveDate> {
    use chrono::Datelike;
    chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").ok().filter(|d| (1900..=2100).contains(&d.year()))
}

impl SearchParams {
    /// Never fails: unknown keys, bad numbers and bad dates are ignored, the text is cut to
    /// [`MAX_QUERY_CHARS`] and control characters become spaces.
    pub fn parse(query: &str) -> SearchParams {
        let mut p = SearchParams { page: 1, ..SearchParams::default() };
        let mut seen = Vec::new();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            // The first value of a key counts, as browsers send one.
            if seen.contains(&key) {
                continue;
            }
            match key.as_ref() {
                "q" => {
                    let cleaned: String =
                        value.chars().take(MAX_QUERY_CHARS).map(|c| if c.is_control() { ' ' } else { c }).collect();
                    p.q = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
                }
                "section" => p.section = value.trim().parse().ok(),
                "type" => {
                    p.kind = ItemKind::parse(value.trim())
                        .ok()
                        .filter(|k| matches!(k, ItemKind::Article | ItemKind::Document | ItemKind::Page))
                }
                "from" => p.from = parse_date(&value),
                "to" => p.to = parse_date(&value),
                "sort" => p.by_date = value == "date",
                "page" => p.page = value.trim().parse::<usize>().ok().unwrap_or(1).clamp(1, MAX_PAGE),
                _ => {}
            }
            seen.push(key);
        }
        p
    }

    /// The query string of these parameters on `page` (defaults left out), without `?`.
    pub fn query_string(&self, page: usize) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        if !self.q.is_empty() {
            s.append_pair("q", &self.q);
        }
        if let Some(section) = self.section {
            s.append_pair("section", &section.to_string());
        }
        if let Some(kind) = self.kind {
            s.append_pair("type", kind.as_str());
        }
        if let Some(from) = self.from {
            s.append_pair("from", &from.format("%Y-%m-%d").to_string());
        }
        if let Some(to) = self.to {
            s.append_pair("to", &to.format("%Y-%m-%d").to_string());
        }
        if self.by_date {
            s.append_pair("sort", "date");
        }
        if page > 1 {
            s.append_pair("page", &page.to_string());
        }
        s.finish()
    }
}

/// Midnight at the start of `day` in Kazakhstan time, as unix seconds.
fn kz_midnight(day: chrono::NaiveDate) -> Option<i64> {
    let kz = chrono::FixedOffset::east_opt(KZ_OFFSET_SECONDS)?;
    day.and_hms_opt(0, 0, 0)?.and_local_timezone(kz).single().map(|t| t.timestamp())
}

fn search_query(lang: &LangCode, params: &SearchParams) -> SearchQuery {
    let mut query = SearchQuery::visitor(lang.clone(), params.q.clone());
    query.filters.sections = params.section.map(|s| vec![baspa_domain::ItemId(s)]).unwrap_or_default();
    query.filters.kinds = params.kind.into_iter().collect();
    query.filters.published_from = params.from.and_then(kz_midnight);
    // The "to" day is included: the range ends at the next midnight.
    query.filters.published_until = params.to.and_then(|d| d.succ_opt()).and_then(kz_midnight);
    query.sort = if params.by_date { SortOrder::Newest } else { SortOrder::Relevance };
    query.page = params.page;
    query.per_page = PER_PAGE;
    query
}

fn options(lang: &str, params: &SearchParams, sections: &Sections) -> [Vec<SelectOption>; 3] {
    let option = |value: String, label: String, is_selected: bool| SelectOption { value, label, is_selected };
    let mut section_options = vec![option(String::new(), translate(lang, "search-any-section", None), false)];
    section_options.extend(sections.tree().into_iter().map(|(id, depth, title)| {
        option(id.to_string(), format!("{}{title}", "— ".repeat(depth)), params.section == Some(id))
    }));
    let mut kinds = vec![option(String::new(), translate(lang, "search-any-type", None), false)];
    kinds.extend([ItemKind::Article, ItemKind::Document, ItemKind::Page].into_iter().map(|k| {
        option(
            k.as_str().to_owned(),
            translate(lang, &format!("search-type-{}", k.as_str()), None),
            params.kind == Some(k),
        )
    }));
    let sorts = vec![
        option("relevance".into(), translate(lang, "search-sort-relevance", None), !params.by_date),
        option("date".into(), translate(lang, "search-sort-date", None), params.by_date),
    ];
    [section_options, kinds, sorts]
}

/// The hits whose language version is still published, with their addresses. The index may lag
/// the database by a job; the database decides.
async fn hit_views(
    state: &SiteState,
    visit: &Visit,
    sections: &Sections,
    results: &SearchResults,
) -> Result<Vec<SearchHitView>, SiteError> {
    let item_ids: Vec<i64> = results.hits.iter().map(|h| h.item_id.0).collect();
    let published: HashMap<i64, _> =
        store::translations_of_items(&state.db, &item_ids, true).await?.into_iter().map(|t| (t.id, t)).collect();
    let items: HashMap<i64, _> =
        store::items_by_ids(&state.db, &item_ids).await?.into_iter().map(|i| (i.id, i)).collect();
    let lang = visit.code();
    Ok(results
        .hits
        .iter()
        .filter_map(|hit| {
            let t = published.get(&hit.translation_id.0).filter(|t| t.lang == lang)?;
            let item = items.get(&hit.item_id.0)?;
            let path = item_path(sections, item, t)?;
            let kind = translate(lang, &format!("search-type-{}", item.kind), None);
            Some(SearchHitView {
                title_html: hit.title_html.clone(),
                snippet_html: hit.snippet_html.clone(),
                href: visit.href(&path),
                kind,
                published_at: hit
                    .published_at
                    .and_then(|at| chrono::DateTime::from_timestamp(at, 0))
                    .map(|at| at.to_rfc3339())
                    .unwrap_or_default(),
                section: item.section_id.and_then(|s| sections.link(s, visit)),
            })
        })
        .collect())
}

pub(crate) async fn search_page(state: &SiteState, visit: &Visit, sections: &Sections) -> Result<Response, SiteError> {
    let lang = visit.code();
    let params = SearchParams::parse(&visit.query);
    let action = visit.href("/search");
    let mut notice = None;
    let mut results = None;
    if !params.q.is_empty() {
        match &state.search {
            Some(search) => {
                match search.search(search_query(&visit.lang.code, &params)).await {
                    Ok(found) => results = Some(found),
                    Err(_) => notice = Some(translate(lang, "search-unavailable", None)),
                }
                if notice.is_none() && !search.is_complete() {
                    notice = Some(translate(lang, "search-unavailable", None));
                }
            }
            None => notice = Some(translate(lang, "search-unavailable", None)),
        }
    }
    let hits = match &results {
        Some(found) => hit_views(state, visit, sections, found).await?,
        None => Vec::new(),
    };
    let total = results.as_ref().map_or(0, |r| r.total);
    let pages = total.div_ceil(PER_PAGE).clamp(1, MAX_PAGE);
    let page = params.page.min(pages);
    let link = |page: usize| format!("{action}?{}", params.query_string(page));
    let did_you_mean = results.as_ref().and_then(|r| r.did_you_mean.clone()).map(|suggestion| {
        let respelt = SearchParams { q: suggestion.clone(), page: 1, ..params.clone() };
        Link { title: suggestion, href: format!("{action}?{}", respelt.query_string(1)) }
    });
    let is_empty_result = !params.q.is_empty() && hits.is_empty() && page == 1;
    let suggestions = if is_empty_result {
        let filter = EntryFilter { limit: SUGGESTIONS, ..Default::default() };
        let rows = store::published_entries(&state.db, lang, &filter).await?;
        cards(state, visit, sections, rows).await?
    } else {
        Vec::new()
    };
    let heading = translate(lang, "search-title", None);
    let title = if params.q.is_empty() { heading } else { format!("{heading}: {}", params.q) };
    let mut chrome = chrome(state, visit, sections, &title, "", &HashMap::new(), &HashMap::new());
    // Results pages are endless combinations of parameters: keep them out of search engines.
    chrome.robots = Some("noindex, follow".into());
    chrome.search_query = params.q.clone();
    // The switcher keeps the query (ML-4): the same search in the other language; `lang=`
    // remembers the choice like every switcher link.
    let kept = params.query_string(1);
    for (link, spec) in chrome.languages.iter_mut().zip(&visit.languages) {
        let kept = if kept.is_empty() { String::new() } else { format!("{kept}&") };
        link.href = format!("{}?{kept}lang={}", visit.absolute(spec, "/search"), spec.code.as_str());
    }
    let [section_options, kinds, sorts] = options(lang, &params, sections);
    let view = SearchView {
        chrome,
        action: action.clone(),
        query: params.q.clone(),
        max_chars: MAX_QUERY_CHARS,
        sections: section_options,
        kinds,
        sorts,
        from: params.from.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
        to: params.to.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
        count_text: if results.is_some() {
            translate(lang, "search-results", Some(total as i64))
        } else {
            String::new()
        },
        hits,
        first_number: (page - 1) * PER_PAGE + 1,
        did_you_mean,
        prev: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
        is_empty_result,
        notice,
        suggestions,
    };
    let mut res = html(state.renderer.render("search.html", &view)?);
    res.headers_mut().insert("x-robots-tag", HeaderValue::from_static("noindex"));
    if !view_is_cacheable(state) {
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}

/// A page built while the index is incomplete must not be cached as the answer.
fn view_is_cacheable(state: &SiteState) -> bool {
    state.search.as_ref().is_some_and(|s| s.is_complete())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ws2_hostile_query_strings_parse_to_something_searchable() {
        let p = SearchParams::parse(
            "q=%22%D0%BC%D0%B5%D0%BA%D1%82%D0%B5%D0%BF+AND+(&section=x&type=tag&from=2026-13-01&to=2026-02-30&page=-3&sort=date&q=second",
        );
        assert_eq!(p.q, "\"мектеп AND (");
        assert_eq!((p.section, p.kind, p.from, p.to, p.page, p.by_date), (None, None, None, None, 1, true));
        let long = format!("q={}", "%F0%9F%98%80".repeat(2000));
        assert_eq!(SearchParams::parse(&long).q.chars().count(), MAX_QUERY_CHARS);
        assert_eq!(SearchParams::parse("q=%ZZ%00a%0Ab&page=99999").q, "%ZZ a b");
        assert_eq!(SearchParams::parse("page=99999").page, MAX_PAGE);
    }

    #[test]
    fn query_strings_round_trip_and_leave_defaults_out() {
        let p = SearchParams {
            q: "ауыл & «су»".into(),
            section: Some(7),
            kind: Some(ItemKind::Document),
            from: parse_date("2026-01-02"),
            to: None,
            by_date: true,
            page: 3,
        };
        let qs = p.query_string(3);
        assert_eq!(SearchParams::parse(&qs), p);
        assert_eq!(SearchParams { q: "x".into(), page: 1, ..Default::default() }.query_string(1), "q=x");
    }

    #[test]
    fn the_to_date_is_included_in_kazakhstan_time() {
        let p = SearchParams {
            q: "x".into(),
            from: parse_date("2026-03-01"),
            to: parse_date("2026-03-01"),
            ..Default::default()
        };
        let q = search_query(&LangCode::parse("kk").expect("kk"), &p);
        // 2026-03-01 00:00 +05:00 is 2026-02-28 19:00 UTC.
        assert_eq!(q.filters.published_from, Some(1_772_305_200));
        assert_eq!(q.filters.published_until, Some(1_772_305_200 + 86_400));
    }
}
