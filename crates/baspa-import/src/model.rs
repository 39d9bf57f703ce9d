//! The in-memory picture of one WordPress site that every source reader (MySQL/MariaDB, WXR)
//! produces and the importer consumes.

use std::collections::BTreeMap;

use serde::Serialize;

/// Something in the source that could not be read or imported as it is; never silently dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `post`, `comment`, `user`, `meta`, `attachment`, `url`, `table` …
    pub kind: String,
    pub id: Option<i64>,
    pub message: String,
}

impl Problem {
    pub fn new(kind: &str, id: Option<i64>, message: impl Into<String>) -> Self {
        Self { kind: kind.to_owned(), id, message: message.into() }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Post {
    pub id: i64,
    pub author: i64,
    /// Local wall-clock time as WordPress stored it (`post_date`).
    pub date_local: String,
    /// UTC (`post_date_gmt`); `0000-00-00 00:00:00` for drafts.
    pub date_gmt: String,
    pub content: String,
    pub title: String,
    pub excerpt: String,
    pub status: String,
    /// `post_name` as stored: lower-case percent-encoded UTF-8 for Cyrillic titles.
    pub name: String,
    pub parent: i64,
    pub guid: String,
    pub post_type: String,
    pub mime_type: String,
    pub menu_order: i64,
    /// Raw meta values by key (a key may repeat, e.g. `_wp_old_slug`).
    pub meta: BTreeMap<String, Vec<String>>,
    /// Term ids (not term-taxonomy ids) this post is linked to.
    pub terms: Vec<i64>,
}

impl Post {
    pub fn meta1(&self, key: &str) -> Option<&str> {
        self.meta.get(key).and_then(|v| v.first()).map(String::as_str)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Term {
    pub term_id: i64,
    pub name: String,
    pub slug: String,
    pub taxonomy: String,
    /// Parent term id (0 for none).
    pub parent: i64,
}

#[derive(Debug, Clone, Default)]
pub struct User {
    pub id: i64,
    pub login: String,
    pub email: String,
    pub display_name: String,
    pub nicename: String,
    /// The first role in `wp_capabilities` (`administrator`, `editor`, `author`, `contributor`,
    /// `subscriber`), empty if none.
    pub role: String,
}

#[derive(Debug, Clone, Default)]
pub struct Comment {
    pub id: i64,
    pub post_id: i64,
    pub author: String,
    pub author_email: String,
    pub date_gmt: String,
    pub content: String,
    /// `1`, `0`, `spam`, `trash`.
    pub approved: String,
    /// `comment` (stored as empty or `comment`), `pingback`, `trackback`.
    pub comment_type: String,
    pub parent: i64,
    pub user_id: i64,
}

/// One WordPress site as read from its source.
#[derive(Debug, Clone, Default)]
pub struct Site {
    pub siteurl: String,
    pub home: String,
    pub permalink_structure: String,
    pub timezone: String,
    pub sticky: Vec<i64>,
    /// Every row of `wp_posts` (posts, pages, attachments, revisions, menu items …).
    pub posts: Vec<Post>,
    pub terms: Vec<Term>,
    pub users: Vec<User>,
    pub comments: Vec<Comment>,
    /// What the reader could not read cleanly.
    pub problems: Vec<Problem>,
}

impl Site {
    pub fn post(&self, id: i64) -> Option<&Post> {
        self.posts.binary_search_by_key(&id, |p| p.id).ok().map(|i| &self.posts[i])
    }

    pub fn term(&self, id: i64) -> Option<&Term> {
        self.terms.iter().find(|t| t.term_id == id)
    }

    /// The site's URL without a trailing slash (`home`, else `siteurl`).
    pub fn base_url(&self) -> &str {
        let home = if self.home.is_empty() { &self.siteurl } else { &self.home };
        home.trim_end_matches('/')
    }
}

/// Parses WordPress's `Y-m-d H:i:s` (UTC) into a timestamp; `None` for the zero date.
pub fn parse_gmt(raw: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if raw.starts_with("0000") || raw.is_empty() {
        return None;
    }
    chrono::NaiveDateTime::parse_from_str(raw.trim(), "%Y-%m-%d %H:%M:%S").ok().map(|n| n.and_utc())
}
