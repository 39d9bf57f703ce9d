//! First-visit language choice (ML-3): a remembered choice (cookie) wins, then the browser's
//! `Accept-Language`; crawlers are never redirected. Only entry points ask; deep links are served
//! as requested.

use baspa_domain::LanguageSpec;

/// The cookie that remembers a visitor's manual choice.
pub const LANG_COOKIE: &str = "baspa_lang";

/// User-agent fragments of search and social crawlers that must see pages as requested. Matched
/// case-insensitively; the list is documented in ARCHITECTURE.md and tested below.
pub const CRAWLER_MARKERS: &[&str] = &[
    "googlebot",
    "google-inspectiontool",
    "adsbot-google",
    "mediapartners-google",
    "bingbot",
    "yandex",
    "baiduspider",
    "duckduckbot",
    "slurp",
    "applebot",
    "petalbot",
    "sogou",
    "exabot",
    "facebookexternalhit",
    "twitterbot",
    "telegrambot",
    "linkedinbot",
    "whatsapp",
    "ahrefsbot",
    "semrushbot",
    "mj12bot",
    "dotbot",
    "seznambot",
    "crawler",
    "spider",
];

pub fn is_crawler(user_agent: &str) -> bool {
    let ua = user_agent.to_ascii_lowercase();
    CRAWLER_MARKERS.iter().any(|m| ua.contains(m))
}

/// `Accept-Language` entries as (primary subtag or `*`, q), best first; malformed parts are skipped.
pub fn parse_accept_language(header: &str) -> Vec<(String, f32)> {
    let mut out: Vec<(String, f32, usize)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next()?.trim().to_ascii_lowercase();
            let primary = tag.split('-').next()?.to_owned();
            let valid =
                primary == "*" || ((2..=8).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase()));
            if !valid {
                return None;
            }
            let mut q = 1.0f32;
            for p in pieces {
                if let Some(v) = p.trim().strip_prefix("q=") {
                    q = v.trim().parse().ok().filter(|q: &f32| (0.0..=1.0).contains(q))?;
                }
            }
            (q > 0.0).then_some((primary, q, i))
        })
        .collect();
    // Stable: equal q keeps the browser's order.
    out.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal).then(a.2.cmp(&b.2)));
    out.into_iter().map(|(t, q, _)| (t, q)).collect()
}

/// The language a first visit should land on, or `None` to keep the default: the remembered
/// choice, then `Accept-Language`, then the language of the client's country (GeoIP).
pub fn preferred<'a>(
    languages: &'a [LanguageSpec],
    cookie: Option<&str>,
    accept_language: Option<&str>,
    country_language: Option<&str>,
) -> Option<&'a LanguageSpec> {
    if let Some(code) = cookie
        && let Some(lang) = languages.iter().find(|l| l.code.as_str() == code)
    {
        return Some(lang);
    }
    for (tag, _) in parse_accept_language(accept_language.unwrap_or_default()) {
        if tag == "*" {
            return languages.iter().find(|l| l.is_default);
        }
        if let Some(lang) = languages.iter().find(|l| l.code.as_str().split('-').next() == Some(tag.as_str())) {
            return Some(lang);
        }
    }
    country_language.and_then(|code| languages.iter().find(|l| l.code.as_str() == code))
}

/// The value of one cookie from a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').filter_map(|kv| kv.trim().split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v.trim())
}

#[cfg(test)]
mod tests {
    use baspa_domain::{LangCode, LanguageRouting};

    use super::*;

    fn langs() -> Vec<LanguageSpec> {
        ["kk", "ru", "en"]
            .iter()
            .enumerate()
            .map(|(i, c)| LanguageSpec {
                code: LangCode::parse(c).unwrap(),
                bcp47: (*c).into(),
                native_name: (*c).into(),
                routing: LanguageRouting::PathPrefix((*c).into()),
                is_default: i == 0,
                fallback: vec![],
                position: i as i32,
            })
            .collect()
    }

    fn pick(cookie: Option<&str>, header: &str) -> Option<String> {
        let l = langs();
        preferred(&l, cookie, Some(header), None).map(|l| l.code.to_string())
    }

    #[test]
    fn ml3_accept_language_matrix() {
        assert_eq!(pick(None, "kk-KZ"), Some("kk".into()));
        assert_eq!(pick(None, "ru-RU,ru;q=0.9"), Some("ru".into()));
        assert_eq!(pick(None, "en;q=0.9,ru;q=0.8"), Some("en".into()));
        assert_eq!(pick(None, "de-DE,ru;q=0.5,en;q=0.7"), Some("en".into()), "q-values order the choices");
        assert_eq!(pick(None, "*"), Some("kk".into()));
        assert_eq!(pick(None, "de, fr"), None);
        assert_eq!(pick(None, ";;;garbage,,q=abc"), None);
        assert_eq!(pick(None, ""), None);
        assert_eq!(pick(None, "ru;q=0"), None, "q=0 means not acceptable");
        assert_eq!(pick(Some("en"), "ru"), Some("en".into()), "a remembered choice wins");
        assert_eq!(pick(Some("xx"), "ru"), Some("ru".into()), "an unknown cookie value is ignored");
        let l = langs();
        let geo = |header: &str| preferred(&l, None, Some(header), Some("ru")).map(|l| l.code.to_string());
        assert_eq!(geo("de"), Some("ru".into()), "the country decides when Accept-Language does not");
        assert_eq!(geo("en"), Some("en".into()), "Accept-Language wins over the country");
    }

    #[test]
    fn ml3_crawlers_are_recognised() {
        for ua in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "facebookexternalhit/1.1",
        ] {
            assert!(is_crawler(ua), "{ua}");
        }
        assert!(!is_crawler(
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
        ));
        assert_eq!(cookie_value("a=1; baspa_lang=ru; b=2", LANG_COOKIE), Some("ru"));
    }
}
