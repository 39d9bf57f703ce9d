//! UI strings (ML-7) from Fluent files in `locales/`, compiled into the binary. Plurals follow
//! CLDR: kk one/other, ru one/few/many/other.

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
    };
}

/// The UI string `key` in `lang` (falling back to English), with `count` for plurals.
pub fn translate(lang: &str, key: &str, count: Option<i64>) -> String {
    let primary = lang.split('-').next().unwrap_or("en");
    let id: LanguageIdentifier = primary.parse().unwrap_or_else(|_| fluent_templates::langid!("en"));
    match count {
        Some(n) => {
            let mut args: HashMap<Cow<'static, str>, FluentValue> = HashMap::new();
            args.insert(Cow::Borrowed("count"), FluentValue::from(n));
            LOCALES.lookup_with_args(&id, key, &args)
        }
        None => LOCALES.lookup(&id, key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ml7_plural_forms_follow_cldr_for_russian_and_kazakh() {
        let strip = |s: String| s.replace(['\u{2068}', '\u{2069}'], "");
        assert_eq!(strip(translate("ru", "comments", Some(1))), "1 комментарий");
        assert_eq!(strip(translate("ru", "comments", Some(3))), "3 комментария");
        assert_eq!(strip(translate("ru", "comments", Some(5))), "5 комментариев");
        assert_eq!(strip(translate("ru", "comments", Some(21))), "21 комментарий");
        assert_eq!(strip(translate("kk", "comments", Some(5))), "5 пікір");
        assert_eq!(strip(translate("en", "comments", Some(2))), "2 comments");
        assert_eq!(translate("kk", "home", None), "Басты бет");
        assert_eq!(translate("xx", "home", None), "Home", "unknown languages fall back to English");
    }
}

#[cfg(test)]
mod parity {
    use std::collections::BTreeSet;

    fn keys(lang: &str, file: &str) -> BTreeSet<String> {
        let path = format!("{}/locales/{lang}/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        text.lines()
            .filter(|l| !l.starts_with([' ', '#', '\t', '*', '[', '}']) && l.contains(" ="))
            .filter_map(|l| l.split(" =").next())
            .map(|k| k.trim().to_owned())
            .collect()
    }

    /// ML-7: every UI string exists in Kazakh, Russian and English, in both the site's and the
    /// admin's files, so no screen falls back to another language silently.
    #[test]
    fn ml7_every_key_is_translated_into_all_three_languages() {
        for file in ["main.ftl", "admin.ftl"] {
            let en = keys("en", file);
            assert!(en.len() > 20, "{file} looks empty");
            for lang in ["kk", "ru"] {
                let other = keys(lang, file);
                let missing: Vec<_> = en.difference(&other).collect();
                let extra: Vec<_> = other.difference(&en).collect();
                assert!(missing.is_empty() && extra.is_empty(), "{lang}/{file}: missing {missing:?}, extra {extra:?}");
            }
        }
    }
}
