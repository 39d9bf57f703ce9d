//! View-models: what templates receive. Built by the delivery crates from storage rows.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub title: String,
    pub href: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LanguageLink {
    pub code: String,
    pub bcp47: String,
    pub native_name: String,
    pub href: String,
    pub is_current: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Alternate {
    pub hreflang: String,
    pub href: String,
}

/// What every page has: language, head metadata, navigation, switcher, CSP nonce.
#[derive(Debug, Clone, Serialize)]
pub struct Chrome {
    pub lang: String,
    pub html_lang: String,
    pub site_name: String,
    pub home_href: String,
    pub title: String,
    pub description: String,
    pub canonical: String,
    pub alternates: Vec<Alternate>,
    pub nav: Vec<Link>,
    pub languages: Vec<LanguageLink>,
    pub nonce: String,
    /// A message shown above the content, e.g. "not available in this language".
    pub notice: Option<String>,
    /// `<meta name="keywords">`: the editor's keywords, else the article's tags (ML-6).
    pub keywords: Option<String>,
    /// Open Graph type: `website` or `article` (ML-6).
    pub og_type: String,
    /// Absolute URL of the sharing image, if any.
    pub og_image: Option<String>,
    /// JSON-LD objects for `<head>` (`NewsArticle`, `BreadcrumbList`, `Organization`).
    pub json_ld: Vec<serde_json::Value>,
    /// `<meta name="robots">`, e.g. `noindex` on search results (no crawl traps).
    pub robots: Option<String>,
    /// The text in the header's search box (the current query on the search page).
    pub search_query: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Card {
    pub title: String,
    pub href: String,
    pub excerpt: String,
    pub published_at: String,
    pub section: Option<Link>,
    pub image: Option<Image>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Image {
    pub src: String,
    pub alt: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// The WebP variants as a `srcset` (`/media/…-w480.webp 480w, …`); empty until they exist.
    pub webp_srcset: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comment {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub author_name: String,
    pub body: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HomeView {
    pub chrome: Chrome,
    pub lead: Vec<Card>,
    pub sections: Vec<SectionBlock>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SectionBlock {
    pub section: Link,
    pub cards: Vec<Card>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SectionView {
    pub chrome: Chrome,
    pub heading: String,
    pub description: String,
    /// Sanitised on save; sections of a state site carry their own text.
    pub body_html: String,
    pub breadcrumbs: Vec<Link>,
    pub children: Vec<Link>,
    pub cards: Vec<Card>,
    /// Links to the newer and older pages of a long listing.
    pub newer: Option<String>,
    pub older: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EntryView {
    pub chrome: Chrome,
    pub heading: String,
    pub excerpt: String,
    /// Sanitised on save (CM-2) and e-mail-obfuscated at render (HD-6).
    pub body_html: String,
    pub published_at: String,
    pub author: Option<String>,
    pub author_href: Option<String>,
    pub breadcrumbs: Vec<Link>,
    pub image: Option<Image>,
    pub image_caption: Option<String>,
    pub tags: Vec<Link>,
    pub comments: Vec<Comment>,
    /// The visitor's comment form; `None` where comments are not taken (pages).
    pub comment_form: Option<CommentForm>,
}

/// What the public comment form posts with.
#[derive(Debug, Clone, Serialize)]
pub struct CommentForm {
    pub item_id: i64,
    pub lang: String,
    /// The page to come back to (this entry's path).
    pub return_to: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorView {
    pub chrome: Chrome,
    pub status: u16,
    pub request_id: String,
}

/// One choice of a `<select>`.
#[derive(Debug, Clone, Serialize)]
pub struct SelectOption {
    pub value: String,
    pub label: String,
    pub is_selected: bool,
}

/// One search result. `title_html` and `snippet_html` come from the search index: escaped text
/// plus `<mark>` elements, safe to insert as they are.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHitView {
    pub title_html: String,
    pub snippet_html: String,
    pub href: String,
    /// The kind in words ("Мақала", "Документ" …).
    pub kind: String,
    pub published_at: String,
    pub section: Option<Link>,
}

/// The public search page (WS-2): the form with its filters, one page of results, "did you
/// mean", and suggestions when nothing was found.
#[derive(Debug, Clone, Serialize)]
pub struct SearchView {
    pub chrome: Chrome,
    /// The form's target: `/search` in this language.
    pub action: String,
    /// What the visitor typed (cut to `max_chars`).
    pub query: String,
    pub max_chars: usize,
    pub sections: Vec<SelectOption>,
    pub kinds: Vec<SelectOption>,
    pub sorts: Vec<SelectOption>,
    /// `YYYY-MM-DD` or empty.
    pub from: String,
    pub to: String,
    /// "12 results", empty before a search.
    pub count_text: String,
    pub hits: Vec<SearchHitView>,
    /// The number of the first hit on this page (for `<ol start>`).
    pub first_number: usize,
    pub did_you_mean: Option<Link>,
    pub prev: Option<String>,
    pub next: Option<String>,
    /// A search ran and found nothing.
    pub is_empty_result: bool,
    /// Search is unavailable or still being rebuilt.
    pub notice: Option<String>,
    /// The latest texts, offered when nothing was found.
    pub suggestions: Vec<Card>,
}
