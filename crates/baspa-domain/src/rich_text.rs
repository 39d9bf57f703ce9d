//! Rich text is sanitised on save (CM-2, HD-1): whatever the client sends, only an allow-list of
//! tags and attributes reaches the database, so rendering can trust stored HTML.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

/// HTML that has passed the sanitiser. The only constructor is [`SanitizedHtml::sanitize`]
/// (and `from_trusted_storage` for rows the database already holds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SanitizedHtml(String);

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let tags: HashSet<&'static str> = [
        "p",
        "br",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "strong",
        "b",
        "em",
        "i",
        "u",
        "s",
        "sub",
        "sup",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "img",
        "figure",
        "figcaption",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "th",
        "td",
        "caption",
        "hr",
        "pre",
        "code",
        "span",
        // CKEditor's media embed; only allow-listed video URLs keep their `url` (see below).
        "oembed",
    ]
    .into_iter()
    .collect();
    let mut attrs: HashMap<&'static str, HashSet<&'static str>> = HashMap::new();
    attrs.insert("a", ["href", "title"].into_iter().collect());
    attrs.insert("img", ["src", "alt", "width", "height", "title"].into_iter().collect());
    attrs.insert("td", ["colspan", "rowspan"].into_iter().collect());
    attrs.insert("th", ["colspan", "rowspan", "scope"].into_iter().collect());
    attrs.insert("ol", ["start"].into_iter().collect());
    attrs.insert("oembed", ["url"].into_iter().collect());
    let mut builder = ammonia::Builder::default();
    builder
        .tags(tags)
        .tag_attributes(attrs)
        .generic_attributes(HashSet::new())
        .url_schemes(["http", "https", "mailto", "tel"].into_iter().collect())
        .link_rel(Some("noopener noreferrer"))
        .url_relative(ammonia::UrlRelative::PassThrough)
        .attribute_filter(|element, attribute, value| match (element, attribute) {
            ("oembed", "url") => video_embed_src(value).map(|_| value.into()),
            _ => Some(value.into()),
        });
    builder
});

/// The player address of a video link from an allow-listed provider (YouTube, Vimeo), or
/// `None`. Embeds from anywhere else are dropped on save (CM-2: embeds as an allow-list).
pub fn video_embed_src(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = host.trim_start_matches("www.").trim_start_matches("m.");
    let id_ok = |id: &str| {
        !id.is_empty() && id.len() <= 32 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    let youtube = |id: &str| id_ok(id).then(|| format!("https://www.youtube-nocookie.com/embed/{id}"));
    match host {
        "youtube.com" => {
            if let Some(query) = path.strip_prefix("watch?") {
                let id = query.split('&').find_map(|kv| kv.strip_prefix("v="))?;
                youtube(id)
            } else {
                youtube(path.strip_prefix("embed/").or_else(|| path.strip_prefix("shorts/"))?.split(['?', '/']).next()?)
            }
        }
        "youtu.be" => youtube(path.split(['?', '/']).next()?),
        "vimeo.com" => {
            let id = path.split(['?', '/']).next()?;
            (id.chars().all(|c| c.is_ascii_digit()) && !id.is_empty())
                .then(|| format!("https://player.vimeo.com/video/{id}"))
        }
        _ => None,
    }
}

impl SanitizedHtml {
    pub fn sanitize(raw: &str) -> Self {
        Self(CLEANER.clean(raw).to_string())
    }

    /// Wraps HTML read back from our own database, which was sanitised when it was saved.
    /// Integrity control (SC-5) is what detects rows edited behind Baspa's back.
    pub fn from_trusted_storage(stored: String) -> Self {
        Self(stored)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// The text with tags removed, for excerpts and meta descriptions.
    pub fn plain_text(&self) -> String {
        let mut out = String::with_capacity(self.0.len());
        let mut in_tag = false;
        for ch in self.0.chars() {
            match ch {
                '<' => in_tag = true,
                '>' => {
                    in_tag = false;
                    out.push(' ');
                }
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        let text = out
            .replace("&nbsp;", " ")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'");
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// blake3 of the stored bytes: the integrity hash recorded with every revision (SC-5).
    pub fn content_hash(&self) -> String {
        blake3::hash(self.0.as_bytes()).to_hex().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hd1_scripts_handlers_and_javascript_urls_are_removed_on_save() {
        let dirty = r#"<p onclick="x()">Сәлем <script>alert(1)</script><a href="javascript:alert(1)">сілтеме</a><img src=x onerror=alert(1)></p><iframe src="//evil"></iframe>"#;
        let clean = SanitizedHtml::sanitize(dirty);
        let html = clean.as_str();
        for banned in ["script", "onclick", "onerror", "javascript:", "iframe"] {
            assert!(!html.contains(banned), "{banned} survived in {html}");
        }
        assert!(html.contains("Сәлем"));
    }

    #[test]
    fn cm2_only_allow_listed_video_embeds_survive() {
        let html = r#"<figure class="media"><oembed url="https://www.youtube.com/watch?v=dQw4w9WgXcQ"></oembed></figure><oembed url="https://evil.example/x"></oembed><oembed url="javascript:alert(1)"></oembed>"#;
        let clean = SanitizedHtml::sanitize(html);
        assert!(
            clean.as_str().contains(r#"<oembed url="https://www.youtube.com/watch?v=dQw4w9WgXcQ">"#),
            "{}",
            clean.as_str()
        );
        assert!(
            !clean.as_str().contains("evil.example") && !clean.as_str().contains("javascript"),
            "{}",
            clean.as_str()
        );
        assert_eq!(
            video_embed_src("https://youtu.be/abc_DEF-123").as_deref(),
            Some("https://www.youtube-nocookie.com/embed/abc_DEF-123")
        );
        assert_eq!(
            video_embed_src("https://vimeo.com/76979871").as_deref(),
            Some("https://player.vimeo.com/video/76979871")
        );
        assert_eq!(video_embed_src("https://www.youtube.com/watch?v=a\"onload"), None);
    }

    #[test]
    fn cm2_word_structure_is_kept() {
        let html =
            "<h2>Тақырып</h2><ul><li><strong>бір</strong></li></ul><table><tr><td colspan=\"2\">х</td></tr></table>";
        let clean = SanitizedHtml::sanitize(html);
        for kept in ["<h2>", "<strong>", "<li>", "colspan=\"2\""] {
            assert!(clean.as_str().contains(kept), "{kept} lost in {}", clean.as_str());
        }
        assert_eq!(SanitizedHtml::sanitize("<p>a &amp; b</p><p>c</p>").plain_text(), "a & b c");
    }
}
