//! Fuzzes the `Accept-Language` parser and the first-visit language choice (ML-3): no header
//! may panic; the parsed list is ordered best first with q in (0, 1].
#![no_main]

use baspa_domain::{LangCode, LanguageRouting, LanguageSpec};
use baspa_site::negotiate::{parse_accept_language, preferred};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let header = String::from_utf8_lossy(data);
    let parsed = parse_accept_language(&header);
    for pair in parsed.windows(2) {
        assert!(pair[0].1 >= pair[1].1, "not ordered by q: {parsed:?}");
    }
    assert!(parsed.iter().all(|(_, q)| *q > 0.0 && *q <= 1.0));
    let languages: Vec<LanguageSpec> = ["kk", "ru", "en"]
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            Some(LanguageSpec {
                code: LangCode::parse(c).ok()?,
                bcp47: (*c).into(),
                native_name: (*c).into(),
                routing: LanguageRouting::PathPrefix((*c).into()),
                is_default: i == 0,
                fallback: vec![],
                position: i32::try_from(i).ok()?,
            })
        })
        .collect();
    let cookie = header.split(';').next();
    let _ = preferred(&languages, cookie, Some(&header), None);
    let _ = baspa_site::negotiate::cookie_value(&header, baspa_site::negotiate::LANG_COOKIE);
    let _ = baspa_site::is_sensitive_path(&header);
});
