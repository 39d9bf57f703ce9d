//! Body rewriting (MG-5): WordPress markup into clean HTML the sanitiser keeps. Upload URLs
//! (any size variant) point to the imported media, links to pages of the old sites point to their
//! new address (`links`; unknown targets keep the old path, answered by a 301), `[caption]`, `[gallery]`, `[embed]`
//! and bare video URLs become figures and CKEditor media embeds, Gutenberg block comments and
//! `<!--more-->` go, and classic text without `<p>` gets paragraphs (WordPress's `wpautop`).

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::{Captures, Regex};

static BLOCK_COMMENT: LazyLock<Regex> = LazyLock::new(|| pattern(r"(?s)<!--\s*/?wp:.*?-->"));
static MORE: LazyLock<Regex> = LazyLock::new(|| pattern(r"<!--(more|nextpage)(.*?)-->"));
static CAPTION: LazyLock<Regex> = LazyLock::new(|| pattern(r"(?s)\[caption[^\]]*\](.*?)\[/caption\]"));
static GALLERY: LazyLock<Regex> = LazyLock::new(|| pattern(r#"\[gallery[^\]]*?ids="([0-9, ]+)"[^\]]*\]"#));
static EMBED: LazyLock<Regex> = LazyLock::new(|| pattern(r"(?s)\[embed[^\]]*\](.*?)\[/embed\]"));
static BARE_URL_LINE: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?m)^\s*(https?://(?:www\.)?(?:youtube\.com|youtu\.be|vimeo\.com)/\S+)\s*$"));
static HREF: LazyLock<Regex> = LazyLock::new(|| pattern(r#"(?i)\bhref=(?:"([^"]*)"|'([^']*)')"#));
static UPLOAD_URL: LazyLock<Regex> =
    LazyLock::new(|| pattern(r#"(?:https?://[A-Za-z0-9.\-:\[\]]+)?/wp-content/uploads/([^"'\s<>)\]]+)"#));

/// Compiles a constant pattern. The patterns are literals exercised by the unit tests, so a
/// failure is a programming error caught before release, not an input error.
#[allow(clippy::expect_used)]
pub(crate) fn pattern(p: &str) -> Regex {
    Regex::new(p).expect("constant pattern")
}

/// What a rewrite found that it could not map.
#[derive(Debug, Default, Clone)]
pub struct RewriteNotes {
    pub unmapped_uploads: Vec<String>,
    /// Links into an old site (either way of rewriting them).
    pub internal_links: usize,
    /// Links pointed straight at their target's new address.
    pub new_url_links: usize,
    /// Links whose target is unknown: they keep the old path (the 301 answers it).
    pub old_path_links: Vec<String>,
}

pub struct Rewriter<'a> {
    /// The old site's base URLs (`http://127.0.0.1:8081`), without trailing slash.
    pub base_urls: Vec<String>,
    /// Upload path relative to `wp-content/uploads` (originals and size variants) → new URL.
    pub uploads: &'a HashMap<String, String>,
    /// Attachment id → new URL (galleries, image blocks).
    pub attachments: &'a HashMap<i64, String>,
    /// The link map and the number of the source this body comes from; without it links to the
    /// old site only become host-relative old paths.
    pub links: Option<(&'a crate::links::Links, usize)>,
}

impl Rewriter<'_> {
    pub fn rewrite(&self, content: &str) -> (String, RewriteNotes) {
        let mut notes = RewriteNotes::default();
        let had_blocks = content.contains("<!-- wp:");
        let mut html = BLOCK_COMMENT.replace_all(content, "").into_owned();
        html = MORE.replace_all(&html, "").into_owned();
        html = GALLERY
            .replace_all(&html, |c: &Captures| {
                let imgs: String = c[1]
                    .split(',')
                    .filter_map(|id| id.trim().parse::<i64>().ok())
                    .filter_map(|id| self.attachments.get(&id))
                    .map(|src| format!("<img src=\"{src}\" alt=\"\">"))
                    .collect();
                format!("\n\n<figure class=\"gallery\">{imgs}</figure>\n\n")
            })
            .into_owned();
        html = CAPTION
            .replace_all(&html, |c: &Captures| {
                let inner = c[1].trim();
                let split = if inner.starts_with("<a") {
                    inner.find("</a>").map(|i| i + 4)
                } else {
                    inner.find('>').map(|i| i + 1)
                };
                let (media, text) = split.map(|i| inner.split_at(i)).unwrap_or((inner, ""));
                format!("\n\n<figure>{media}<figcaption>{}</figcaption></figure>\n\n", text.trim())
            })
            .into_owned();
        html = EMBED.replace_all(&html, |c: &Captures| embed(c[1].trim())).into_owned();
        html = BARE_URL_LINE.replace_all(&html, |c: &Captures| embed(&c[1])).into_owned();
        html = UPLOAD_URL
            .replace_all(&html, |c: &Captures| {
                let rel = percent_decode(&c[1]);
                match self.uploads.get(&rel) {
                    Some(url) => url.clone(),
                    None => {
                        notes.unmapped_uploads.push(rel);
                        c[0].to_owned()
                    }
                }
            })
            .into_owned();
        if let Some((links, from)) = self.links {
            html = HREF
                .replace_all(&html, |c: &Captures| {
                    let (quote, raw) = match (c.get(1), c.get(2)) {
                        (Some(v), _) => ('"', v.as_str()),
                        (None, Some(v)) => ('\'', v.as_str()),
                        (None, None) => return c[0].to_owned(),
                    };
                    if raw.starts_with("/media/") || raw.contains("/wp-content/uploads/") {
                        return c[0].to_owned();
                    }
                    let href = raw.replace("&amp;", "&");
                    match links.resolve(from, &href) {
                        Some(crate::links::Resolved::New(url)) => {
                            notes.internal_links += 1;
                            notes.new_url_links += 1;
                            format!("href={quote}{}{quote}", url.replace('&', "&amp;"))
                        }
                        Some(crate::links::Resolved::OldPath(path)) => {
                            notes.internal_links += 1;
                            notes.old_path_links.push(path.clone());
                            format!("href={quote}{}{quote}", path.replace('&', "&amp;"))
                        }
                        None => c[0].to_owned(),
                    }
                })
                .into_owned();
        }
        for base in &self.base_urls {
            for quote in ['"', '\''] {
                let needle = format!("{quote}{base}/");
                let n = html.matches(&needle).count();
                if n > 0 {
                    notes.internal_links += n;
                    html = html.replace(&needle, &format!("{quote}/"));
                }
            }
        }
        if !had_blocks && !html.contains("<p") {
            html = autop(&html);
        }
        (html.trim().to_owned(), notes)
    }
}

fn embed(url: &str) -> String {
    let url = url.replace('"', "%22");
    format!("\n\n<figure class=\"media\"><oembed url=\"{url}\"></oembed></figure>\n\n")
}

/// WordPress's `wpautop`, simplified: blank-line separated blocks become paragraphs unless they
/// already are block elements; single newlines inside a paragraph become `<br>`.
pub fn autop(text: &str) -> String {
    const BLOCKS: [&str; 10] = ["<figure", "<table", "<blockquote", "<ul", "<ol", "<h2", "<h3", "<h4", "<pre", "<hr"];
    let normalized = text.replace("\r\n", "\n");
    let mut out = Vec::new();
    for block in normalized.split("\n\n") {
        let b = block.trim();
        if b.is_empty() {
            continue;
        }
        if BLOCKS.iter().any(|t| b.starts_with(t)) {
            out.push(b.to_owned());
        } else {
            out.push(format!("<p>{}</p>", b.replace('\n', "<br>\n")));
        }
    }
    out.join("\n")
}

/// Decodes `%xx` escapes (upload paths with Cyrillic letters, `№`, spaces).
pub fn percent_decode(raw: &str) -> String {
    percent_encoding::percent_decode_str(raw).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mg5_shortcodes_blocks_and_upload_urls_become_clean_html() {
        let uploads: HashMap<String, String> =
            [("2023/10/a-300x200.jpg".to_owned(), "/media/k1.jpg".to_owned())].into_iter().collect();
        let attachments: HashMap<i64, String> = [(7, "/media/k7.jpg".to_owned())].into_iter().collect();
        let rw = Rewriter {
            base_urls: vec!["http://old.test".into()],
            uploads: &uploads,
            attachments: &attachments,
            links: None,
        };
        let src = "[caption id=\"x\" align=\"alignright\"]<img src=\"http://old.test/wp-content/uploads/2023/10/a-300x200.jpg\"> Қала[/caption]\n\nFirst line\nsecond\n\n[gallery ids=\"7,8\"]\n\nhttps://www.youtube.com/watch?v=abc\n\n<a href=\"http://old.test/2023/10/x/\">link</a><!--more-->";
        let (html, notes) = rw.rewrite(src);
        assert!(html.contains("<figure><img src=\"/media/k1.jpg\"><figcaption>Қала</figcaption></figure>"), "{html}");
        assert!(html.contains("<p>First line<br>\nsecond</p>"), "{html}");
        assert!(html.contains("<img src=\"/media/k7.jpg\""), "{html}");
        assert!(html.contains("<oembed url=\"https://www.youtube.com/watch?v=abc\">"), "{html}");
        assert!(html.contains("href=\"/2023/10/x/\""), "{html}");
        assert!(!html.contains("more"));
        assert_eq!(notes.internal_links, 1);
        let (blocks, _) = rw.rewrite("<!-- wp:paragraph -->\n<p>Мәтін</p>\n<!-- /wp:paragraph -->");
        assert_eq!(blocks, "<p>Мәтін</p>");
    }
}
