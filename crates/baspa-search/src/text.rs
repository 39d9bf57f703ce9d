//! Plain text for the index and safe HTML for result pages: [`html_to_text`] turns a sanitised
//! body into words (tags dropped, entities decoded, blocks separated), [`escape_html`] makes any
//! stored text safe to put back into a page.

/// Tags whose content is never text a reader sees.
const SKIPPED_CONTENT: &[&str] = &["script", "style", "template", "noscript", "svg", "math"];

/// Tags that end a word: without a space, `<p>бір</p><p>екі</p>` would index "біреқі".
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "img",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
];

/// The text of an HTML fragment, whitespace collapsed. Inline tags join their neighbours
/// (`Қа<b>зақ</b>` stays one word), block tags separate them. A `<` that does not open a tag
/// (`a < b`) is kept as text.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(pos) = rest.find(['<', '&']) {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        if rest.starts_with('&') {
            let (decoded, used) = decode_entity(rest);
            out.push_str(&decoded);
            rest = &rest[used..];
            continue;
        }
        match parse_tag(rest) {
            Some(tag) => {
                if tag.is_block {
                    out.push(' ');
                }
                rest = &rest[tag.len..];
                if let Some(name) = tag.skip_until {
                    rest = skip_past_closing(rest, name);
                    out.push(' ');
                }
            }
            None => {
                out.push('<');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    collapse_whitespace(&out)
}

struct Tag {
    len: usize,
    is_block: bool,
    skip_until: Option<&'static str>,
}

/// Parses the tag, comment or declaration at the start of `s` (which starts with `<`).
fn parse_tag(s: &str) -> Option<Tag> {
    if let Some(body) = s.strip_prefix("<!--") {
        let end = body.find("-->").map_or(s.len(), |i| 4 + i + 3);
        return Some(Tag { len: end, is_block: false, skip_until: None });
    }
    let after = s.get(1..)?;
    let closing = after.starts_with('/');
    let name_start = if closing { 1 } else { 0 };
    let first = after[name_start..].chars().next()?;
    if !(first.is_ascii_alphabetic() || (first == '!' && !closing) || (first == '?' && !closing)) {
        return None;
    }
    let end = tag_end(s)?;
    let name: String =
        after[name_start..].chars().take_while(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
    let skip_until = (!closing).then(|| SKIPPED_CONTENT.iter().find(|t| **t == name).copied()).flatten();
    let self_closing = s[..end].ends_with("/>");
    Some(Tag {
        len: end,
        is_block: BLOCKS.contains(&name.as_str()),
        skip_until: if self_closing { None } else { skip_until },
    })
}

/// The byte length of the tag at the start of `s`, honouring quoted attribute values.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return Some(i + 1),
            _ => {}
        }
    }
    None
}

fn skip_past_closing<'a>(s: &'a str, name: &str) -> &'a str {
    let lower = s.to_ascii_lowercase();
    let closing = format!("</{name}");
    match lower.find(&closing) {
        Some(i) => {
            let after = &s[i..];
            match tag_end(after) {
                Some(end) => &after[end..],
                None => "",
            }
        }
        None => "",
    }
}

/// Decodes the entity at the start of `s` (which starts with `&`); returns the text and the
/// bytes used. Unknown or malformed entities stay as written.
fn decode_entity(s: &str) -> (String, usize) {
    let Some(semi) = s.char_indices().take(12).find(|(_, c)| *c == ';').map(|(i, _)| i) else {
        return ("&".to_owned(), 1);
    };
    let name = &s[1..semi];
    let decoded = if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => num.parse::<u32>().ok(),
        };
        code.and_then(char::from_u32).filter(|c| *c != '\0')
    } else {
        named_entity(name)
    };
    match decoded {
        Some(c) => (c.to_string(), semi + 1),
        None => ("&".to_owned(), 1),
    }
}

fn named_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "laquo" => '«',
        "raquo" => '»',
        "bdquo" => '„',
        "ldquo" => '“',
        "rdquo" => '”',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "shy" => '\u{00AD}',
        "middot" => '·',
        "deg" => '°',
        "numero" => '№',
        "copy" => '©',
        "times" => '×',
        _ => return None,
    })
}

fn collapse_whitespace(text: &str) -> String {
    // Soft hyphens split words invisibly, so they go rather than becoming spaces.
    text.split_whitespace().map(|w| w.replace('\u{00AD}', "")).collect::<Vec<_>>().join(" ")
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_go_and_blocks_separate_words() {
        assert_eq!(html_to_text("<p>Бір</p><p>екі <b>үш</b></p>"), "Бір екі үш");
        assert_eq!(html_to_text("Қа<b>зақ</b>стан"), "Қазақстан");
        assert_eq!(html_to_text("a<br>b<br/>c"), "a b c");
        assert_eq!(html_to_text("<a href=\"/x?a=1&b=2\" title='>'>сілтеме</a>"), "сілтеме");
    }

    #[test]
    fn entities_are_decoded() {
        assert_eq!(html_to_text("&laquo;Жылы қыс&raquo; &amp; &#1179;&#x04A3;"), "«Жылы қыс» & қң");
        assert_eq!(html_to_text("a&nbsp;b"), "a b");
        assert_eq!(html_to_text("&unknown; &amp"), "&unknown; &amp");
        assert_eq!(html_to_text("&#0;"), "&#0;");
    }

    #[test]
    fn script_and_style_content_is_not_text() {
        assert_eq!(html_to_text("<p>a</p><script>alert('x < y')</script><style>p{}</style><p>b</p>"), "a b");
        assert_eq!(html_to_text("<!-- comment -->мәтін"), "мәтін");
    }

    #[test]
    fn a_stray_less_than_is_text() {
        assert_eq!(html_to_text("5 < 7 және 8 > 3"), "5 < 7 және 8 > 3");
        assert_eq!(html_to_text("unclosed <b"), "unclosed <b");
    }

    #[test]
    fn escaping_covers_the_five_characters() {
        assert_eq!(escape_html("<script>\"'&"), "&lt;script&gt;&quot;&#39;&amp;");
    }
}
