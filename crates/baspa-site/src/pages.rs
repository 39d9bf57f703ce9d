//! Page handlers: one fallback resolves the language, then the path against sections, entries,
//! pages, tags and the redirects table.

use std::collections::HashMap;

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use baspa_db::content::{self as store, EntryFilter};
use baspa_db::entity::{item, media, media_variant, translation};
use baspa_db::{languages, users};
use baspa_domain::{ContentStatus, ItemId, ItemKind, LanguageSpec, UserId};
use baspa_render::view::{
    Alternate, Card, Chrome, Comment, EntryView, ErrorView, HomeView, Image, LanguageLink, Link, SectionBlock,
    SectionView,
};
use baspa_render::{embed_videos, lazy_images, obfuscate_emails, translate};
use serde_json::Value;

use crate::headers::{CspNonce, RequestId};
use crate::negotiate;
use crate::routing::{self, Resolution};
use crate::{SiteError, SiteState};

/// Everything about the request the pages need.
pub(crate) struct Visit {
    pub(crate) host: String,
    pub(crate) lang: LanguageSpec,
    pub(crate) languages: Vec<LanguageSpec>,
    pub(crate) nonce: String,
    /// The visitor followed the switcher to a language the item lacks (ML-4).
    pub(crate) is_untranslated: bool,
    /// `?page=N` of a listing, from 1.
    pub(crate) page: u64,
    /// The raw query string (without `?`), for pages that read more than `page`.
    pub(crate) query: String,
    /// What the page shows, for purging it from the page cache (`page_cache` explains the tags).
    pub(crate) tags: std::sync::Mutex<Vec<String>>,
}

impl Visit {
    pub(crate) fn code(&self) -> &str {
        self.lang.code.as_str()
    }

    /// A path in the current language version (relative to the host).
    pub(crate) fn href(&self, path: &str) -> String {
        format!("{}{}", self.lang.path_prefix(), path)
    }

    pub(crate) fn absolute(&self, lang: &LanguageSpec, path: &str) -> String {
        format!("{}{}", routing::language_base(lang, &self.host), path)
    }

    /// Records that the page depends on `tag`.
    pub(crate) fn tag(&self, tag: String) {
        if let Ok(mut tags) = self.tags.lock() {
            tags.push(tag);
        }
    }

    /// The same request again with no tags yet (a background re-render of a stale page).
    fn again(&self) -> Self {
        Self {
            host: self.host.clone(),
            lang: self.lang.clone(),
            languages: self.languages.clone(),
            nonce: self.nonce.clone(),
            is_untranslated: self.is_untranslated,
            page: self.page,
            query: self.query.clone(),
            tags: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn take_tags(&self) -> Vec<String> {
        let mut tags = self.tags.lock().map(|mut t| std::mem::take(&mut *t)).unwrap_or_default();
        tags.push("site".to_owned());
        tags.sort();
        tags.dedup();
        tags
    }
}

/// The section tree of one language: paths and titles by item id.
pub(crate) struct Sections {
    items: Vec<item::Model>,
    pub(crate) titles: HashMap<i64, translation::Model>,
}

impl Sections {
    pub(crate) async fn load(state: &SiteState, lang: &str) -> Result<Self, SiteError> {
        let items = store::items_of_kind(&state.db, ItemKind::Section).await?;
        let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
        let titles = store::translations_of_items(&state.db, &ids, true)
            .await?
            .into_iter()
            .filter(|t| t.lang == lang)
            .map(|t| (t.item_id, t))
            .collect();
        Ok(Self { items, titles })
    }

    fn parent_of(&self, id: i64) -> Option<i64> {
        self.items.iter().find(|i| i.id == id).and_then(|i| i.parent_id)
    }

    /// `/economy/finance/`, or `None` when a section on the way has no translation in this language.
    pub(crate) fn path_of(&self, id: i64) -> Option<String> {
        let mut slugs = Vec::new();
        let mut current = Some(id);
        let mut guard = 0;
        while let Some(cid) = current {
            slugs.push(self.titles.get(&cid)?.slug.clone());
            current = self.parent_of(cid);
            guard += 1;
            if guard > 32 {
                return None;
            }
        }
        slugs.reverse();
        Some(format!("/{}/", slugs.join("/")))
    }

    fn find_by_path(&self, segments: &[&str]) -> Option<i64> {
        let mut parent: Option<i64> = None;
        let mut found = None;
        for seg in segments {
            let next = self
                .items
                .iter()
                .find(|i| i.parent_id == parent && self.titles.get(&i.id).is_some_and(|t| t.slug == *seg))?;
            parent = Some(next.id);
            found = Some(next.id);
        }
        found
    }

    pub(crate) fn descendants_and_self(&self, id: i64) -> Vec<i64> {
        let mut out = vec![id];
        let mut i = 0;
        while i < out.len() {
            let cur = out[i];
            out.extend(self.items.iter().filter(|s| s.parent_id == Some(cur)).map(|s| s.id));
            i += 1;
        }
        out
    }

    pub(crate) fn link(&self, id: i64, visit: &Visit) -> Option<Link> {
        Some(Link { title: self.titles.get(&id)?.title.clone(), href: visit.href(&self.path_of(id)?) })
    }

    fn children(&self, parent: Option<i64>, visit: &Visit) -> Vec<Link> {
        self.items.iter().filter(|i| i.parent_id == parent).filter_map(|i| self.link(i.id, visit)).collect()
    }

    /// Every section with a version in this language, depth first, with its depth (for the
    /// search page's section filter).
    pub(crate) fn tree(&self) -> Vec<(i64, usize, String)> {
        let mut out = Vec::new();
        let mut stack: Vec<(Option<i64>, usize)> = vec![(None, 0)];
        while let Some((parent, depth)) = stack.pop() {
            if depth > 32 {
                continue;
            }
            let children: Vec<&item::Model> = self.items.iter().filter(|i| i.parent_id == parent).collect();
            // Pushed in reverse so they pop in the editor's order, each followed by its subtree.
            for child in children.into_iter().rev() {
                stack.push((Some(child.id), depth + 1));
            }
            if let Some(id) = parent
                && let Some(t) = self.titles.get(&id)
            {
                out.push((id, depth.saturating_sub(1), t.title.clone()));
            }
        }
        out
    }

    fn breadcrumbs(&self, id: i64, visit: &Visit) -> Vec<Link> {
        let mut chain = Vec::new();
        let mut current = Some(id);
        while let Some(cid) = current {
            if let Some(link) = self.link(cid, visit) {
                chain.push(link);
            }
            current = self.parent_of(cid);
            if chain.len() > 32 {
                break;
            }
        }
        chain.reverse();
        chain
    }
}

/// The path of any item's translation in that translation's language (`secs` is the section
/// tree of that language). The one place that knows each kind's URL shape.
pub(crate) fn item_path(secs: &Sections, item: &item::Model, t: &translation::Model) -> Option<String> {
    match ItemKind::parse(&item.kind) {
        Ok(ItemKind::Section) => secs.path_of(item.id),
        Ok(ItemKind::Page) => Some(format!("/{}", t.slug)),
        Ok(ItemKind::Tag) => Some(format!("/tag/{}", t.slug)),
        Ok(ItemKind::Article | ItemKind::Document) => Some(entry_path(secs, item, t)),
        Err(_) => None,
    }
}

pub(crate) fn entry_path(sections: &Sections, item: &item::Model, t: &translation::Model) -> String {
    match item.section_id.and_then(|s| sections.path_of(s)) {
        Some(section_path) => format!("{section_path}{}", t.slug),
        None => format!("/{}", t.slug),
    }
}

fn image_of(m: &media::Model, variants: &[media_variant::Model], lang: &str, fallback_alt: &str) -> Image {
    let alt = m.alt.get(lang).and_then(Value::as_str).filter(|s| !s.is_empty()).unwrap_or(fallback_alt).to_owned();
    let webp_srcset = variants
        .iter()
        .filter(|v| v.mime == "image/webp")
        .map(|v| format!("/media/{} {}w", v.storage_key, v.width))
        .collect::<Vec<_>>()
        .join(", ");
    Image { src: format!("/media/{}", m.storage_key), alt, width: m.width, height: m.height, webp_srcset }
}

/// Media rows with their variants, by id: two queries for any number of images.
async fn images(
    state: &SiteState,
    ids: &[i64],
) -> Result<HashMap<i64, (media::Model, Vec<media_variant::Model>)>, SiteError> {
    let mut variants = store::variants_of_many(&state.db, ids).await?;
    Ok(store::media_by_ids(&state.db, ids)
        .await?
        .into_iter()
        .map(|m| {
            let v = variants.remove(&m.id).unwrap_or_default();
            (m.id, (m, v))
        })
        .collect())
}

pub(crate) async fn cards(
    state: &SiteState,
    visit: &Visit,
    sections: &Sections,
    rows: Vec<(translation::Model, item::Model)>,
) -> Result<Vec<Card>, SiteError> {
    for (_, i) in &rows {
        visit.tag(format!("item:{}", i.id));
    }
    let media_ids: Vec<i64> = rows.iter().filter_map(|(_, i)| i.featured_media_id).collect();
    let media = images(state, &media_ids).await?;
    Ok(rows
        .into_iter()
        .map(|(t, i)| Card {
            href: visit.href(&entry_path(sections, &i, &t)),
            excerpt: t.excerpt.clone(),
            published_at: t.published_at.map(|d| d.to_rfc3339()).unwrap_or_default(),
            section: i.section_id.and_then(|s| sections.link(s, visit)),
            image: i.featured_media_id.and_then(|m| media.get(&m)).map(|(m, v)| image_of(m, v, visit.code(), &t.title)),
            title: t.title,
        })
        .collect())
}

/// Head and navigation for a page. `versions` maps language codes to the path of this page's
/// translation in that language (only existing, published ones).
pub(crate) fn chrome(
    state: &SiteState,
    visit: &Visit,
    sections: &Sections,
    title: &str,
    description: &str,
    versions: &HashMap<String, String>,
    fallbacks: &HashMap<String, String>,
) -> Chrome {
    let languages = visit
        .languages
        .iter()
        .map(|l| LanguageLink {
            code: l.code.to_string(),
            bcp47: l.bcp47.clone(),
            native_name: l.native_name.clone(),
            // `?lang=` makes following the link remember the choice (ML-3). Without a
            // translation the link goes to the nearest page that exists (the section, else home)
            // and that page says so (ML-4).
            href: match versions.get(l.code.as_str()) {
                Some(path) => format!("{}?lang={}", visit.absolute(l, path), l.code),
                None => format!(
                    "{}?lang={}&untranslated=1",
                    visit.absolute(l, fallbacks.get(l.code.as_str()).map(String::as_str).unwrap_or("/")),
                    l.code
                ),
            },
            is_current: l.code == visit.lang.code,
        })
        .collect();
    let mut alternates: Vec<Alternate> = visit
        .languages
        .iter()
        .filter_map(|l| {
            versions.get(l.code.as_str()).map(|p| Alternate { hreflang: l.bcp47.clone(), href: visit.absolute(l, p) })
        })
        .collect();
    if let Some(default) = visit.languages.iter().find(|l| l.is_default)
        && let Some(p) = versions.get(default.code.as_str())
    {
        alternates.push(Alternate { hreflang: "x-default".into(), href: visit.absolute(default, p) });
    }
    Chrome {
        lang: visit.code().to_owned(),
        html_lang: visit.lang.bcp47.clone(),
        site_name: state.site_name.to_string(),
        home_href: visit.href("/"),
        title: title.to_owned(),
        description: description.to_owned(),
        canonical: versions.get(visit.code()).map(|p| visit.absolute(&visit.lang, p)).unwrap_or_default(),
        alternates,
        nav: sections.children(None, visit),
        languages,
        nonce: visit.nonce.clone(),
        notice: visit.is_untranslated.then(|| translate(visit.code(), "not-translated", None)),
        keywords: None,
        og_type: "website".into(),
        og_image: None,
        json_ld: Vec::new(),
        robots: None,
        search_query: String::new(),
    }
}

fn every_language_home(visit: &Visit) -> HashMap<String, String> {
    visit.languages.iter().map(|l| (l.code.to_string(), "/".to_owned())).collect()
}

/// 301: the old address is gone for good (MG-4 asks for 301 precisely; axum's helper sends 308).
fn moved_permanently(location: &str) -> Response {
    (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, location.to_owned())]).into_response()
}

pub(crate) fn html(body: String) -> Response {
    let mut res = Html(body).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("public, max-age=60"));
    res
}

async fn home(state: &SiteState, visit: &Visit, sections: &Sections) -> Result<Response, SiteError> {
    let lead_rows =
        store::published_entries(&state.db, visit.code(), &EntryFilter { limit: 12, ..Default::default() }).await?;
    let lead = cards(state, visit, sections, lead_rows).await?;
    let mut blocks = Vec::new();
    for top in sections.items.iter().filter(|s| s.parent_id.is_none()) {
        let Some(link) = sections.link(top.id, visit) else {
            continue;
        };
        let filter =
            EntryFilter { section_ids: Some(sections.descendants_and_self(top.id)), limit: 4, ..Default::default() };
        let rows = store::published_entries(&state.db, visit.code(), &filter).await?;
        if !rows.is_empty() {
            blocks.push(SectionBlock { section: link, cards: cards(state, visit, sections, rows).await? });
        }
    }
    let title = translate(visit.code(), "site-name", None);
    let mut view = HomeView {
        chrome: chrome(state, visit, sections, &state.site_name, &title, &every_language_home(visit), &HashMap::new()),
        lead,
        sections: blocks,
    };
    let home_url = visit.absolute(&visit.lang, "/");
    view.chrome.json_ld.push(serde_json::json!({
        "@context": "https://schema.org", "@type": "Organization", "name": state.site_name.as_ref(), "url": home_url,
    }));
    Ok(html(state.renderer.render("home.html", &view)?))
}

/// Paths of a translation group's published versions in every language.
/// Paths of a translation group's published versions in every language. Reuses the current
/// language's section tree and loads another language's tree only for kinds whose URL has one.
async fn versions_of(
    state: &SiteState,
    visit: &Visit,
    current: &Sections,
    item: &item::Model,
) -> Result<HashMap<String, String>, SiteError> {
    let needs_tree =
        matches!(ItemKind::parse(&item.kind), Ok(ItemKind::Section | ItemKind::Article | ItemKind::Document));
    let mut out = HashMap::new();
    for t in store::translations_of_item(&state.db, ItemId(item.id)).await? {
        if t.status != ContentStatus::Published.as_str() {
            continue;
        }
        let other =
            if needs_tree && t.lang != visit.code() { Some(Sections::load(state, &t.lang).await?) } else { None };
        if let Some(p) = item_path(other.as_ref().unwrap_or(current), item, &t) {
            out.insert(t.lang.clone(), p);
        }
    }
    Ok(out)
}

const PAGE_SIZE: u64 = 20;

/// A plain list of entries under a heading (author, archive, tag pages).
struct Listing {
    heading: String,
    /// A line under the heading (an author's position and biography).
    description: String,
    versions: HashMap<String, String>,
    newer: Option<String>,
    older: Option<String>,
}

async fn listing_page(
    state: &SiteState,
    visit: &Visit,
    sections: &Sections,
    listing: Listing,
    rows: Vec<(translation::Model, item::Model)>,
) -> Result<Response, SiteError> {
    let view = SectionView {
        chrome: chrome(state, visit, sections, &listing.heading, "", &listing.versions, &HashMap::new()),
        heading: listing.heading,
        description: listing.description,
        body_html: String::new(),
        breadcrumbs: Vec::new(),
        children: Vec::new(),
        cards: cards(state, visit, sections, rows).await?,
        newer: listing.newer,
        older: listing.older,
    };
    Ok(html(state.renderer.render("section.html", &view)?))
}

/// Author pages are addressed by a slug of the name, not the account id, so the site does not
/// let anyone enumerate staff accounts (HD-7).
fn author_slug(display_name: &str, lang: &str) -> Option<String> {
    baspa_domain::Slug::from_title(display_name, lang).ok().map(String::from)
}

async fn author_page(state: &SiteState, visit: &Visit, sections: &Sections, slug: &str) -> Result<Response, SiteError> {
    let users = users::list(&state.db).await?;
    let user = users
        .into_iter()
        .find(|u| u.is_active && author_slug(&u.display_name, visit.code()).as_deref() == Some(slug))
        .ok_or(SiteError::NotFound)?;
    let filter = EntryFilter {
        author_id: Some(user.id),
        limit: PAGE_SIZE + 1,
        offset: (visit.page - 1) * PAGE_SIZE,
        ..Default::default()
    };
    let mut rows = store::published_entries(&state.db, visit.code(), &filter).await?;
    if rows.is_empty() && visit.page == 1 {
        // Accounts that never published stay invisible, like drafts.
        return Err(SiteError::NotFound);
    }
    let (newer, older) = pager(visit, &mut rows);
    let versions: HashMap<String, String> = visit
        .languages
        .iter()
        .filter_map(|l| {
            author_slug(&user.display_name, l.code.as_str()).map(|s| (l.code.to_string(), format!("/author/{s}")))
        })
        .collect();
    // The author's position and biography in this language, if they wrote one (plain text).
    let about = user.profile.as_ref().map(|p| {
        let text = |field: &str| p[field][visit.code()].as_str().unwrap_or_default().to_owned();
        [text("position"), text("bio")].into_iter().filter(|t| !t.is_empty()).collect::<Vec<_>>().join(" — ")
    });
    let listing =
        Listing { heading: user.display_name.clone(), description: about.unwrap_or_default(), versions, newer, older };
    listing_page(state, visit, sections, listing, rows).await
}

/// `/archive/2026/11/`: a month of publications in Kazakhstan time.
async fn archive_page(
    state: &SiteState,
    visit: &Visit,
    sections: &Sections,
    year: &str,
    month: &str,
) -> Result<Response, SiteError> {
    use chrono::{Datelike, NaiveDate, TimeZone};
    let (Ok(y), Ok(m)) = (year.parse::<i32>(), month.parse::<u32>()) else { return Err(SiteError::NotFound) };
    let first = NaiveDate::from_ymd_opt(y, m, 1).ok_or(SiteError::NotFound)?;
    let next =
        if first.month() == 12 { NaiveDate::from_ymd_opt(y + 1, 1, 1) } else { NaiveDate::from_ymd_opt(y, m + 1, 1) }
            .ok_or(SiteError::NotFound)?;
    let kz = chrono::FixedOffset::east_opt(5 * 3600).ok_or(SiteError::NotFound)?;
    let to_utc = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0).and_then(|t| kz.from_local_datetime(&t).single()).map(|t| t.with_timezone(&chrono::Utc))
    };
    let (Some(from), Some(to)) = (to_utc(first), to_utc(next)) else { return Err(SiteError::NotFound) };
    let filter = EntryFilter {
        published_between: Some((from, to)),
        limit: PAGE_SIZE + 1,
        offset: (visit.page - 1) * PAGE_SIZE,
        ..Default::default()
    };
    let mut rows = store::published_entries(&state.db, visit.code(), &filter).await?;
    let (newer, older) = pager(visit, &mut rows);
    let path = format!("/archive/{y:04}/{m:02}/");
    let versions: HashMap<String, String> =
        visit.languages.iter().map(|l| (l.code.to_string(), path.clone())).collect();
    let month_name = baspa_render::format_date(&from.with_timezone(&kz).to_rfc3339(), visit.code());
    let heading =
        format!("{}: {}", translate(visit.code(), "archive", None), month_name.split(',').next().unwrap_or_default());
    listing_page(state, visit, sections, Listing { heading, description: String::new(), versions, newer, older }, rows)
        .await
}

/// Trims the extra row fetched to detect an older page and returns (newer, older) links.
fn pager<T>(visit: &Visit, rows: &mut Vec<T>) -> (Option<String>, Option<String>) {
    let has_older = rows.len() as u64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let newer = match visit.page {
        1 => None,
        2 => Some("?".to_owned()),
        n => Some(format!("?page={}", n - 1)),
    };
    (newer, has_older.then(|| format!("?page={}", visit.page + 1)))
}

async fn section_page(state: &SiteState, visit: &Visit, sections: &Sections, id: i64) -> Result<Response, SiteError> {
    let t = sections.titles.get(&id).ok_or(SiteError::NotFound)?;
    let filter = EntryFilter {
        section_ids: Some(sections.descendants_and_self(id)),
        limit: PAGE_SIZE + 1,
        offset: (visit.page - 1) * PAGE_SIZE,
        ..Default::default()
    };
    let mut rows = store::published_entries(&state.db, visit.code(), &filter).await?;
    let (newer, older) = pager(visit, &mut rows);
    let item = store::get_item(&state.db, ItemId(id)).await?;
    let versions = versions_of(state, visit, sections, &item).await?;
    let description = t.meta_description.clone().unwrap_or_else(|| t.excerpt.clone());
    let view = SectionView {
        chrome: chrome(
            state,
            visit,
            sections,
            t.meta_title.as_deref().unwrap_or(&t.title),
            &description,
            &versions,
            &HashMap::new(),
        ),
        heading: t.title.clone(),
        description: t.excerpt.clone(),
        body_html: obfuscate_emails(&lazy_images(&embed_videos(&t.body))),
        breadcrumbs: sections.breadcrumbs(id, visit).into_iter().rev().skip(1).rev().collect(),
        children: sections.children(Some(id), visit),
        cards: cards(state, visit, sections, rows).await?,
        newer,
        older,
    };
    Ok(html(state.renderer.render("section.html", &view)?))
}

async fn entry_page(
    state: &SiteState,
    visit: &Visit,
    sections: &Sections,
    t: translation::Model,
    requested: &str,
) -> Result<Response, SiteError> {
    let item = store::get_item(&state.db, ItemId(t.item_id)).await?;
    let canonical = entry_path(sections, &item, &t);
    if canonical != requested {
        return Ok(moved_permanently(&visit.href(&canonical)).into_response());
    }
    let versions = versions_of(state, visit, sections, &item).await?;
    let fallbacks = match item.section_id {
        Some(section_id) => {
            let section = store::get_item(&state.db, ItemId(section_id)).await?;
            versions_of(state, visit, sections, &section).await?
        }
        None => HashMap::new(),
    };
    let image = match item.featured_media_id {
        Some(m) => images(state, &[m]).await?.get(&m).map(|(m, v)| image_of(m, v, visit.code(), &t.title)),
        None => None,
    };
    let author = match item.author_id {
        Some(a) => users::get(&state.db, UserId(a)).await.ok().map(|u| u.display_name),
        None => None,
    };
    let author_href =
        author.as_deref().and_then(|name| author_slug(name, visit.code())).map(|s| visit.href(&format!("/author/{s}")));
    let tag_ids = store::tag_ids_of(&state.db, ItemId(item.id)).await?;
    let tags = store::translations_of_items(&state.db, &tag_ids, true)
        .await?
        .into_iter()
        .filter(|tt| tt.lang == visit.code())
        .map(|tt| Link { href: visit.href(&format!("/tag/{}", tt.slug)), title: tt.title })
        .collect();
    let comments = store::approved_comments(&state.db, ItemId(item.id), visit.code())
        .await?
        .into_iter()
        .map(|c| Comment {
            id: c.id,
            parent_id: c.parent_id,
            author_name: c.author_name,
            body: obfuscate_emails(&c.body),
            created_at: c.created_at.to_rfc3339(),
        })
        .collect();
    let description = t.meta_description.clone().unwrap_or_else(|| t.excerpt.clone());
    let mut view = EntryView {
        chrome: chrome(
            state,
            visit,
            sections,
            t.meta_title.as_deref().unwrap_or(&t.title),
            &description,
            &versions,
            &fallbacks,
        ),
        heading: t.title.clone(),
        excerpt: t.excerpt.clone(),
        body_html: obfuscate_emails(&lazy_images(&embed_videos(&t.body))),
        published_at: t.published_at.map(|d| d.to_rfc3339()).unwrap_or_default(),
        author,
        author_href,
        breadcrumbs: item.section_id.map(|s| sections.breadcrumbs(s, visit)).unwrap_or_default(),
        image,
        image_caption: t.fields.get("image_caption").and_then(Value::as_str).map(str::to_owned),
        tags,
        comments,
        comment_form: Some(baspa_render::view::CommentForm {
            item_id: item.id,
            lang: visit.code().to_owned(),
            return_to: visit.href(&canonical),
        }),
    };
    // ML-6: keywords, sharing cards and structured data for news search.
    view.chrome.keywords = t.meta_keywords.clone().or_else(|| {
        let names: Vec<&str> = view.tags.iter().map(|tag| tag.title.as_str()).collect();
        (!names.is_empty()).then(|| names.join(", "))
    });
    view.chrome.og_type = "article".into();
    view.chrome.og_image = view.image.as_ref().map(|i| visit.absolute(&visit.lang, &i.src));
    let crumbs: Vec<serde_json::Value> = view
        .breadcrumbs
        .iter()
        .enumerate()
        .map(|(n, b)| serde_json::json!({"@type": "ListItem", "position": n + 1, "name": b.title, "item": visit.absolute(&visit.lang, &b.href[visit.lang.path_prefix().len()..])}))
        .collect();
    view.chrome.json_ld.push(serde_json::json!({
        "@context": "https://schema.org", "@type": "NewsArticle", "headline": view.heading, "inLanguage": visit.lang.bcp47,
        "datePublished": view.published_at, "dateModified": t.updated_at.to_rfc3339(), "mainEntityOfPage": view.chrome.canonical,
        "image": view.chrome.og_image, "author": view.author.as_ref().map(|a| serde_json::json!({"@type": "Person", "name": a})),
        "publisher": {"@type": "Organization", "name": state.site_name.as_ref()},
    }));
    if !crumbs.is_empty() {
        view.chrome.json_ld.push(
            serde_json::json!({"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": crumbs}),
        );
    }
    Ok(html(state.renderer.render("entry.html", &view)?))
}

async fn simple_page(
    state: &SiteState,
    visit: &Visit,
    sections: &Sections,
    t: translation::Model,
) -> Result<Response, SiteError> {
    let item = store::get_item(&state.db, ItemId(t.item_id)).await?;
    let versions = versions_of(state, visit, sections, &item).await?;
    let description = t.meta_description.clone().unwrap_or_else(|| t.excerpt.clone());
    let view = EntryView {
        chrome: chrome(
            state,
            visit,
            sections,
            t.meta_title.as_deref().unwrap_or(&t.title),
            &description,
            &versions,
            &HashMap::new(),
        ),
        heading: t.title.clone(),
        excerpt: String::new(),
        body_html: obfuscate_emails(&lazy_images(&embed_videos(&t.body))),
        published_at: String::new(),
        author: None,
        author_href: None,
        breadcrumbs: Vec::new(),
        image: None,
        image_caption: None,
        tags: Vec::new(),
        comments: Vec::new(),
        comment_form: None,
    };
    Ok(html(state.renderer.render("page.html", &view)?))
}

async fn tag_page(
    state: &SiteState,
    visit: &Visit,
    sections: &Sections,
    t: translation::Model,
) -> Result<Response, SiteError> {
    let filter = EntryFilter { tag_id: Some(t.item_id), limit: 30, ..Default::default() };
    let rows = store::published_entries(&state.db, visit.code(), &filter).await?;
    let item = store::get_item(&state.db, ItemId(t.item_id)).await?;
    let versions = versions_of(state, visit, sections, &item).await?;
    let heading = format!("{}: {}", translate(visit.code(), "tag", None), t.title);
    listing_page(
        state,
        visit,
        sections,
        Listing { heading, description: String::new(), versions, newer: None, older: None },
        rows,
    )
    .await
}

async fn dispatch(state: &SiteState, visit: &Visit, path: &str, original_path: &str) -> Result<Response, SiteError> {
    let sections = Sections::load(state, visit.code()).await?;
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let lang = visit.code();
    if segments.is_empty() {
        // `?p=ID`, `?page_id=ID`, `?attachment_id=ID` of a migrated WordPress site (MG-4).
        let legacy =
            visit.query.split('&').find(|kv| ["p=", "page_id=", "attachment_id="].iter().any(|k| kv.starts_with(k)));
        if let Some(kv) = legacy
            && let Some(moved) = stored_redirect(state, visit, &format!("/?{kv}")).await?
        {
            return Ok(moved);
        }
        visit.tag("list:home".to_owned());
        return home(state, visit, &sections).await;
    }
    match segments.as_slice() {
        // An unknown author may be an old author archive with a redirect.
        ["author", slug] => {
            visit.tag("list:author".to_owned());
            match author_page(state, visit, &sections, slug).await {
                Err(SiteError::NotFound) => {}
                other => return other,
            }
        }
        ["archive", year, month] => {
            visit.tag("list:archive".to_owned());
            return archive_page(state, visit, &sections, year, month).await;
        }
        // Reserved before page slugs: a page called "search" would be shadowed.
        ["search"] => return crate::search_page::search_page(state, visit, &sections).await,
        _ => {}
    }
    if path.ends_with(".xml") || path == "/robots.txt" {
        visit.tag("list:sitemaps".to_owned());
        visit.tag("list:feeds".to_owned());
    }
    match path {
        "/robots.txt" => return Ok(crate::feeds::robots(visit)),
        "/sitemap.xml" => return crate::feeds::sitemap_index(state, visit).await,
        "/sitemap-news.xml" => return crate::feeds::news_sitemap(state, visit).await,
        _ => {}
    }
    if let Some(code) = path.strip_prefix("/sitemap-").and_then(|p| p.strip_suffix(".xml")) {
        return crate::feeds::sitemap(state, visit, code).await;
    }
    // Feeds of the site (`/feed.xml`, `/atom.xml`) and of any section (`/sport/feed.xml`).
    if let Some((last, parents)) = segments.split_last() {
        let format = match *last {
            "feed.xml" => Some(crate::feeds::FeedFormat::Rss),
            "atom.xml" => Some(crate::feeds::FeedFormat::Atom),
            _ => None,
        };
        if let Some(format) = format {
            let section = if parents.is_empty() {
                None
            } else {
                Some(sections.find_by_path(parents).ok_or(SiteError::NotFound)?)
            };
            return crate::feeds::feed(state, visit, section, format).await;
        }
    }
    if segments.len() == 2
        && segments[0] == "tag"
        && let Some(t) = store::find_published(&state.db, lang, &ItemKind::Tag.slug_scope(None), segments[1]).await?
    {
        visit.tag(format!("list:tag:{}", t.item_id));
        visit.tag(format!("item:{}", t.item_id));
        return tag_page(state, visit, &sections, t).await;
    }
    if let Some(id) = sections.find_by_path(&segments) {
        visit.tag(format!("list:section:{id}"));
        visit.tag(format!("item:{id}"));
        if !path.ends_with('/') {
            return Ok(moved_permanently(&visit.href(&format!("{path}/"))).into_response());
        }
        return section_page(state, visit, &sections, id).await;
    }
    if let Some(last) = segments.last() {
        if let Some(t) = store::find_published(&state.db, lang, &ItemKind::Article.slug_scope(None), last).await? {
            visit.tag(format!("item:{}", t.item_id));
            return entry_page(state, visit, &sections, t, path.trim_end_matches('/')).await;
        }
        if segments.len() == 1
            && let Some(t) = store::find_published(&state.db, lang, &ItemKind::Page.slug_scope(None), last).await?
        {
            visit.tag(format!("item:{}", t.item_id));
            return simple_page(state, visit, &sections, t).await;
        }
    }
    if let Some(moved) = stored_redirect(state, visit, original_path).await? {
        return Ok(moved);
    }
    if let Some(last) = segments.last() {
        for kind in [ItemKind::Article, ItemKind::Page] {
            let found = store::find_any_status(&state.db, lang, &kind.slug_scope(None), last).await?;
            if found.is_some_and(|t| t.status == ContentStatus::Trashed.as_str()) {
                return Err(SiteError::Gone);
            }
        }
    }
    Err(SiteError::NotFound)
}

/// A 301 from the `redirects` table for this host and path, if there is one.
async fn stored_redirect(state: &SiteState, visit: &Visit, path: &str) -> Result<Option<Response>, SiteError> {
    let Some(r) = store::find_redirect(&state.db, &routing::host_name(&visit.host), path).await? else {
        return Ok(None);
    };
    let target = match (r.target_url, r.target_item_id) {
        (Some(url), _) => Some(url),
        (None, Some(item_id)) => redirect_target(state, visit, ItemId(item_id), r.target_lang.as_deref()).await?,
        _ => None,
    };
    Ok(target.map(|t| moved_permanently(&t).into_response()))
}

async fn redirect_target(
    state: &SiteState,
    visit: &Visit,
    item_id: ItemId,
    lang: Option<&str>,
) -> Result<Option<String>, SiteError> {
    let item = store::get_item(&state.db, item_id).await?;
    let code = lang.unwrap_or(visit.code());
    let Some(spec) = visit.languages.iter().find(|l| l.code.as_str() == code) else {
        return Ok(None);
    };
    let Some(t) = store::translations_of_item(&state.db, item_id)
        .await?
        .into_iter()
        .find(|t| t.lang == code && t.status == "published")
    else {
        return Ok(None);
    };
    let sections = Sections::load(state, code).await?;
    Ok(item_path(&sections, &item, &t).map(|p| visit.absolute(spec, &p)))
}

pub(crate) fn error_page(state: &SiteState, visit: Option<&Visit>, err: &SiteError, request_id: &str) -> Response {
    let status = err.status();
    if status.is_server_error() {
        tracing::error!(request_id, error = %err, "request failed");
    }
    let lang = visit.map(|v| v.code().to_owned()).unwrap_or_else(|| "en".into());
    let chrome = Chrome {
        lang: lang.clone(),
        html_lang: visit.map(|v| v.lang.bcp47.clone()).unwrap_or_else(|| "en".into()),
        site_name: state.site_name.to_string(),
        home_href: visit.map(|v| v.href("/")).unwrap_or_else(|| "/".into()),
        title: translate(
            &lang,
            match status {
                StatusCode::NOT_FOUND => "not-found-title",
                StatusCode::GONE => "gone-title",
                _ => "error-title",
            },
            None,
        ),
        description: String::new(),
        canonical: String::new(),
        alternates: Vec::new(),
        nav: Vec::new(),
        languages: Vec::new(),
        nonce: visit.map(|v| v.nonce.clone()).unwrap_or_default(),
        notice: None,
        keywords: None,
        og_type: "website".into(),
        og_image: None,
        json_ld: Vec::new(),
        robots: None,
        search_query: String::new(),
    };
    let view = ErrorView { chrome, status: status.as_u16(), request_id: request_id.to_owned() };
    let body = state
        .renderer
        .render("error.html", &view)
        .unwrap_or_else(|_| format!("Error {} (request {request_id})", status.as_u16()));
    (status, Html(body)).into_response()
}

pub async fn any_page(
    State(state): State<SiteState>,
    Extension(nonce): Extension<CspNonce>,
    Extension(request_id): Extension<RequestId>,
    client: crate::client::ClientAddr,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let header_str = |name: header::HeaderName| headers.get(name).and_then(|h| h.to_str().ok());
    let host = header_str(header::HOST).unwrap_or("localhost").to_owned();
    let path = uri.path().to_owned();
    let languages = match state.languages.get(&state.cache, || languages::list(&state.db)).await {
        Ok(l) => l,
        Err(e) => return error_page(&state, None, &SiteError::Db(e), &request_id.0),
    };
    let preferred = visitor_language(&state, &languages, &headers, client.0);
    let (lang, inner_path, is_entry_point) = match routing::resolve(&languages, &host, &path) {
        Some(Resolution::Serve { lang, path: inner }) => {
            let is_entry = is_entry_point(lang, &inner);
            (lang.clone(), inner, is_entry)
        }
        Some(Resolution::Redirect(to)) => {
            let target = preferred.map(|l| format!("{}/", l.path_prefix())).unwrap_or(to);
            if negotiate::is_crawler(header_str(header::USER_AGENT).unwrap_or_default()) {
                // Crawlers are never redirected: they get the default language's home here.
                match languages.iter().find(|l| l.is_default).or(languages.first()) {
                    Some(default) => (default.clone(), "/".to_owned(), true),
                    None => return error_page(&state, None, &SiteError::NotFound, &request_id.0),
                }
            } else {
                return first_visit_redirect(&target);
            }
        }
        None => return error_page(&state, None, &SiteError::NotFound, &request_id.0),
    };
    if is_entry_point
        && let Some(choice) = preferred
        && choice.code != lang.code
    {
        return first_visit_redirect(&format!("{}/", routing::language_base(choice, &host)));
    }
    let chose_language = uri
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("lang=")))
        .filter(|c| *c == lang.code.as_str());
    let cookie_domain = routing::cookie_domain(&languages);
    let is_untranslated = uri.query().is_some_and(|q| q.split('&').any(|kv| kv == "untranslated=1"));
    let page = page_number(uri.query());
    let query = uri.query().unwrap_or_default().to_owned();
    let cache_key = (chose_language.is_none() && is_cacheable_request(&headers, &inner_path, &query)).then(|| {
        let key = page_cache_key(&host, &path, page);
        // An entry point's answer depends on the visitor's languages (it may redirect), so it is
        // kept apart from the key other pages are found under.
        if is_entry_point { key + NEGOTIATED } else { key }
    });
    let found = match &cache_key {
        Some(key) if state.cache.is_enabled() => Some(state.cache.lookup(key).await),
        _ => None,
    };
    let mut res = if let Some(crate::page_cache::Lookup::Fresh(page)) = &found {
        // The hot path: no view-model, no database.
        crate::page_cache::respond(page, &headers, crate::page_cache::Freshness::Hit)
    } else {
        let languages = languages.as_ref().clone();
        let visit =
            Visit { host, lang, languages, nonce: nonce.0, is_untranslated, page, query, tags: Default::default() };
        match (cache_key, found) {
            (Some(key), Some(found)) => {
                cached_page(&state, visit, found, &inner_path, &path, &key, &headers, &request_id.0).await
            }
            _ => match dispatch(&state, &visit, &inner_path, &path).await {
                Ok(res) => res,
                Err(err) => error_page(&state, Some(&visit), &err, &request_id.0),
            },
        }
    };
    if is_entry_point {
        vary_on_languages(&mut res);
    }
    if let Some(code) = chose_language {
        let domain = cookie_domain.map(|d| format!("; Domain={d}")).unwrap_or_default();
        let cookie =
            format!("{}={code}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax{domain}", negotiate::LANG_COOKIE);
        if let Ok(v) = header::HeaderValue::from_str(&cookie) {
            res.headers_mut().insert(header::SET_COOKIE, v);
            res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("private, no-store"));
        }
    }
    res
}

/// What an entry point's cache key ends with: its answer depends on the visitor's languages.
pub(crate) const NEGOTIATED: &str = "#negotiated";

/// Whether `lang`'s page at `inner_path` is an entry point, where a first visit is sent to the
/// visitor's language: in host mode, only the main (default) domain's home.
pub(crate) fn is_entry_point(lang: &baspa_domain::LanguageSpec, inner_path: &str) -> bool {
    inner_path == "/" && lang.is_default && matches!(lang.routing, baspa_domain::LanguageRouting::Host(_))
}

/// The language a visitor asks for (ML-3): the language cookie, then `Accept-Language`, then the
/// country of `client` (X-Forwarded-For only from trusted proxies, see `client`). A crawler asks
/// for none: it is never redirected.
pub(crate) fn visitor_language<'a>(
    state: &SiteState,
    languages: &'a [baspa_domain::LanguageSpec],
    headers: &HeaderMap,
    client: Option<std::net::IpAddr>,
) -> Option<&'a baspa_domain::LanguageSpec> {
    let header_str = |name: header::HeaderName| headers.get(name).and_then(|h| h.to_str().ok());
    if negotiate::is_crawler(header_str(header::USER_AGENT).unwrap_or_default()) {
        return None;
    }
    let cookie = header_str(header::COOKIE).and_then(|c| negotiate::cookie_value(c, negotiate::LANG_COOKIE));
    let country_language = match (&state.geoip, client) {
        (Some(geo), Some(ip)) => geo.language_for(ip),
        _ => None,
    };
    negotiate::preferred(languages, cookie, header_str(header::ACCEPT_LANGUAGE), country_language)
}

/// Marks an entry point's answer as depending on the visitor's headers, though it did not
/// redirect.
pub(crate) fn vary_on_languages(res: &mut Response) {
    let vary = if res.headers().contains_key(header::CONTENT_ENCODING) {
        "Accept-Encoding, Accept-Language, Cookie"
    } else {
        "Accept-Language, Cookie"
    };
    res.headers_mut().insert(header::VARY, header::HeaderValue::from_static(vary));
}

/// `?page=N` of a listing (1 to 10,000), else 1.
pub(crate) fn page_number(query: Option<&str>) -> u64 {
    query
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("page=")))
        .and_then(|p| p.parse::<u64>().ok())
        .filter(|p| (1..=10_000).contains(p))
        .unwrap_or(1)
}

/// Where the page cache keeps the page of a host, path and listing page.
pub(crate) fn page_cache_key(host: &str, path: &str, page: u64) -> String {
    use std::fmt::Write as _;
    let mut key = String::with_capacity(host.len() + path.len() + 8);
    key.push_str(host);
    key.make_ascii_lowercase();
    key.push_str(path);
    let _ = write!(key, "?{page}");
    key
}

/// Whether a page may come from the page cache: an anonymous visitor (no cookie but the language
/// choice), no query but `page=N`, and not the search page (its answers are per query).
pub(crate) fn is_cacheable_request(headers: &HeaderMap, inner_path: &str, query: &str) -> bool {
    let is_anonymous = headers.get_all(header::COOKIE).iter().all(|v| {
        v.to_str().is_ok_and(|c| {
            c.split(';')
                .map(str::trim)
                .filter(|kv| !kv.is_empty())
                .all(|kv| kv.strip_prefix(negotiate::LANG_COOKIE).is_some_and(|rest| rest.starts_with('=')))
        })
    });
    let is_plain_query = query.is_empty() || (query.starts_with("page=") && !query.contains('&'));
    is_anonymous && is_plain_query && inner_path != "/search" && !headers.contains_key(header::AUTHORIZATION)
}

/// The page from the cache when it is there and valid; otherwise rendered, cached and answered.
/// A stale page is answered at once and replaced in the background; a purged one only when the
/// render fails (the database is down): a visitor gets yesterday's page rather than an error.
#[allow(clippy::too_many_arguments)] // one request's parts, passed through once
async fn cached_page(
    state: &SiteState,
    visit: Visit,
    found: crate::page_cache::Lookup,
    inner_path: &str,
    path: &str,
    key: &str,
    headers: &HeaderMap,
    request_id: &str,
) -> Response {
    use crate::page_cache::{Freshness, Lookup, respond};
    let outdated = match found {
        Lookup::Fresh(page) => return respond(&page, headers, Freshness::Hit),
        Lookup::Stale(page) => {
            if state.cache.start_revalidation(key) {
                let (state, visit, inner, path, key) =
                    (state.clone(), visit.again(), inner_path.to_owned(), path.to_owned(), key.to_owned());
                tokio::spawn(async move {
                    let _ = render_for_cache(&state, &visit, &inner, &path, &key).await;
                    state.cache.end_revalidation(&key);
                });
            }
            return respond(&page, headers, Freshness::Stale);
        }
        Lookup::Outdated(page) => Some(page),
        Lookup::Miss => None,
    };
    let guard = state.cache.begin_fill(key).await;
    // Another request may have rendered the page while this one waited.
    if let Lookup::Fresh(page) = state.cache.lookup(key).await {
        state.cache.end_fill(key, guard);
        return respond(&page, headers, Freshness::Hit);
    }
    let rendered = render_for_cache(state, &visit, inner_path, path, key).await;
    state.cache.end_fill(key, guard);
    match rendered {
        Ok(Ok(page)) => respond(&page, headers, Freshness::Miss),
        Ok(Err(res)) => res,
        Err(err) => match outdated {
            Some(page) if err.status().is_server_error() => {
                tracing::warn!(request_id, error = %err, "render failed; serving the cached page");
                respond(&page, headers, Freshness::Stale)
            }
            _ => error_page(state, Some(&visit), &err, request_id),
        },
    }
}

/// Larger pages are not cached (they would crowd out thousands of ordinary ones).
const MAX_CACHED_PAGE_BYTES: usize = 8 * 1024 * 1024;

/// Renders a page and, when it is a cacheable answer (200 with a body type we cache and no
/// headers but its type), stores it. `Ok(Err(res))` is an answer that is not cached (redirects,
/// 404s).
async fn render_for_cache(
    state: &SiteState,
    visit: &Visit,
    inner_path: &str,
    path: &str,
    key: &str,
) -> Result<Result<std::sync::Arc<crate::page_cache::CachedPage>, Response>, SiteError> {
    let seq = state.cache.sequence();
    let res = dispatch(state, visit, inner_path, path).await?;
    let is_plain = res.status() == StatusCode::OK
        && res.headers().keys().all(|k| k == header::CONTENT_TYPE || k == header::CACHE_CONTROL);
    if !is_plain {
        return Ok(Err(res));
    }
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("text/html; charset=utf-8")
        .to_owned();
    let (parts, body) = res.into_parts();
    // Pages are rendered into memory already; this only collects them.
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return Err(SiteError::Internal("page body unreadable".into()));
    };
    // A huge page (a sitemap of a very large site) is answered but not kept.
    if body.len() > MAX_CACHED_PAGE_BYTES {
        return Ok(Err(Response::from_parts(parts, axum::body::Body::from(body))));
    }
    let csp = if content_type.starts_with("text/html") {
        crate::headers::content_security_policy(None, &crate::headers::inline_hashes(&body))
    } else {
        crate::headers::content_security_policy(None, &Default::default())
    };
    let rendered = crate::page_cache::RenderedPage {
        status: 200,
        content_type,
        csp,
        body,
        tags: visit.take_tags(),
        filled_seq: seq,
    };
    Ok(Ok(state.cache.fill(key, rendered).await))
}

/// 302 to the visitor's language version: private, and varying on the headers that chose it.
fn first_visit_redirect(location: &str) -> Response {
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, location.to_owned()),
            (header::VARY, "Accept-Language, Cookie".to_owned()),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
    )
        .into_response()
}

/// Serves a stored media file by its unguessable key (HD-7); the key is checked against the
/// database, so no path from the request reaches the file system.
pub async fn media_file(State(state): State<SiteState>, Path(key): Path<String>) -> Response {
    // Only keys the database knows are served, so no request path reaches other files; and a
    // key is a plain file name, so not even a row written behind Baspa's back can point outside.
    if !is_plain_file_name(&key) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let mime = match store::stored_file_mime(&state.db, &key).await {
        Ok(Some(mime)) => mime,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    // Documents download rather than open inline in the site's origin.
    let disposition = if mime.starts_with("image/") { "inline" } else { "attachment" };
    match tokio::fs::read(state.media_dir.join(&key)).await {
        Ok(bytes) => Response::builder()
            .header(header::CONTENT_TYPE, mime)
            .header(header::CONTENT_DISPOSITION, disposition)
            .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable")
            .body(Body::from(bytes))
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Serves a file from the theme folder's `assets/` (stylesheets, fonts, images of a custom
/// theme). Only plain file names are accepted, so no request path reaches outside that folder.
pub async fn theme_asset(State(state): State<SiteState>, Path(file): Path<String>) -> Response {
    let Some(dir) = &state.theme_assets else { return StatusCode::NOT_FOUND.into_response() };
    let is_plain = is_plain_file_name(&file);
    let mime = match file.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()) {
        Some(ext) => match ext.as_str() {
            "css" => "text/css; charset=utf-8",
            "js" => "text/javascript; charset=utf-8",
            "png" => "image/png",
            "jpg" | "jpeg" => "image/jpeg",
            "webp" => "image/webp",
            "svg" => "image/svg+xml",
            "woff2" => "font/woff2",
            "ico" => "image/x-icon",
            _ => return StatusCode::NOT_FOUND.into_response(),
        },
        None => return StatusCode::NOT_FOUND.into_response(),
    };
    if !is_plain {
        return StatusCode::NOT_FOUND.into_response();
    }
    // A regular file only: a symlink in the theme folder could point anywhere (HD-3).
    let path = dir.join(&file);
    if !tokio::fs::symlink_metadata(&path).await.is_ok_and(|m| m.file_type().is_file()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            ([(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "public, max-age=3600")], bytes).into_response()
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A name with no way out of its folder: letters, digits, `.`, `-`, `_`; no leading dot.
fn is_plain_file_name(name: &str) -> bool {
    !name.starts_with('.')
        && !name.is_empty()
        && name.len() <= 128
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}
