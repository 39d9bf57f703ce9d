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
