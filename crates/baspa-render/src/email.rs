//! HD-6: no plain e-mail addresses in pages. Addresses in rendered text become
//! `name [at] domain` and `mailto:` links lose their target; a contact form replaces them later.

/// Rewrites every `local@domain.tld` in the HTML and drops `mailto:` targets.
pub fn obfuscate_emails(html: &str) -> String {
    let html = html.replace("href=\"mailto:", "data-removed=\"");
    let chars: Vec<char> = html.chars().collect();
    let is_local = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '+');
    let is_domain = |c: char| c.is_alphanumeric() || matches!(c, '.' | '-');
    let mut out = String::with_capacity(html.len() + 16);
    for (i, &c) in chars.iter().enumerate() {
        let local_before = i > 0 && is_local(chars[i - 1]);
        let domain_after: String = chars[i + 1..].iter().take_while(|&&d| is_domain(d)).collect();
        if c == '@' && local_before && domain_after.trim_end_matches('.').contains('.') {
            out.push_str(" [at] ");
        } else {
            out.push(c);
        }
    }
    out
}

/// Turns the stored `<oembed url>` of an allow-listed video into a privacy-friendly player
/// (youtube-nocookie, Vimeo), lazily loaded and sandboxed; anything else is dropped.
pub fn embed_videos(html: &str) -> String {
    const OPEN: &str = "<oembed url=\"";
    const CLOSE: &str = "</oembed>";
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len()..];
        let Some(quote) = after.find('"') else { break };
        let url = after[..quote].replace("&amp;", "&");
        let end = after.find(CLOSE).map_or(after.len(), |e| e + CLOSE.len());
        if let Some(src) = baspa_domain::video_embed_src(&url) {
            out.push_str(&format!(
                "<span class=\"video\"><iframe src=\"{src}\" title=\"Video\" loading=\"lazy\" allowfullscreen \
                 referrerpolicy=\"strict-origin-when-cross-origin\" sandbox=\"allow-scripts allow-same-origin allow-presentation\"></iframe></span>"
            ));
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Images inside a text load lazily and decode off the main thread (PF-4): the entry's own
/// featured image is the one above the fold. Bodies are sanitised on save, so every image is a
/// plain `<img ` start tag; one that already says how to load is left alone.
pub fn lazy_images(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + 64);
    let mut rest = html;
    while let Some(at) = rest.find("<img ") {
        let tag_end = rest[at..].find('>').map_or(rest.len(), |e| at + e);
        out.push_str(&rest[..at]);
        if rest[at..tag_end].contains("loading=") {
            out.push_str("<img ");
        } else {
            out.push_str("<img loading=\"lazy\" decoding=\"async\" ");
        }
        rest = &rest[at + "<img ".len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pf4_body_images_load_lazily() {
        let html = r#"<p>a</p><img src="/media/a.jpg" alt="A"><img loading="eager" src="/b.jpg">"#;
        assert_eq!(
            lazy_images(html),
            r#"<p>a</p><img loading="lazy" decoding="async" src="/media/a.jpg" alt="A"><img loading="eager" src="/b.jpg">"#
        );
    }

    #[test]
    fn cm2_video_embeds_become_players() {
        let html = r#"<figure class="media"><oembed url="https://www.youtube.com/watch?v=dQw4w9WgXcQ&amp;t=1"></oembed></figure><p>ok</p>"#;
        let out = embed_videos(html);
        assert!(out.contains(r#"<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ""#), "{out}");
        assert!(out.ends_with("</figure><p>ok</p>"), "{out}");
        assert_eq!(embed_videos(r#"<oembed url="https://evil.example/"></oembed>x"#), "x");
    }

    #[test]
    fn hd6_addresses_are_not_left_in_plain_form() {
        let html = r#"<p>Пошта: info@baq.kz, <a href="mailto:adv@baq.kz">жарнама</a>. @username қалады.</p>"#;
        let out = obfuscate_emails(html);
        assert!(!out.contains("info@baq.kz") && !out.contains("adv@baq.kz") && !out.contains("mailto:"), "{out}");
        assert!(out.contains("info [at] baq.kz"));
        assert!(out.contains("@username"), "handles that are not addresses stay");
    }
}
