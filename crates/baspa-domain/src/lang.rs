//! Languages are data (ML-1): a code, a BCP-47 tag, a native name and how requests reach it
//! (host or path prefix). Adding a language is a row, not a code change.

use serde::{Deserialize, Serialize};

/// A language code as used in URLs and rows: `kk`, `ru`, `en`, `kk-latn`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LangCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "language code {0:?} is not valid: use 2-3 lower-case letters, optionally followed by '-' and a subtag (e.g. kk, ru, kk-latn)"
)]
pub struct LangCodeError(pub String);

impl LangCode {
    pub fn parse(raw: &str) -> Result<Self, LangCodeError> {
        let lowered = raw.trim().to_ascii_lowercase();
        let mut parts = lowered.split('-');
        let primary = parts.next().unwrap_or_default();
        let primary_ok = (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase());
        let rest_ok = parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        if primary_ok && rest_ok { Ok(Self(lowered)) } else { Err(LangCodeError(raw.to_owned())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for LangCode {
    type Error = LangCodeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<LangCode> for String {
    fn from(value: LangCode) -> Self {
        value.0
    }
}

impl std::fmt::Display for LangCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How visitors reach a language version (ML-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode", content = "value")]
pub enum LanguageRouting {
    /// The language owns a host name, e.g. `rus.baq.kz`.
    Host(String),
    /// The language lives under a path prefix on a shared host, e.g. `/en/`.
    PathPrefix(String),
}

/// One configured language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageSpec {
    pub code: LangCode,
    /// BCP-47 tag for `<html lang>` and `hreflang`, e.g. `kk-KZ`.
    pub bcp47: String,
    /// The language's name in its own script, shown in the switcher.
    pub native_name: String,
    pub routing: LanguageRouting,
    pub is_default: bool,
    /// Languages to show content from when this one lacks a translation, in order.
    pub fallback: Vec<LangCode>,
    pub position: i32,
}

impl LanguageSpec {
    /// The URL path prefix for this language: `""` for host routing, `"/en"` for path routing.
    pub fn path_prefix(&self) -> String {
        match &self.routing {
            LanguageRouting::Host(_) => String::new(),
            LanguageRouting::PathPrefix(p) => format!("/{}", p.trim_matches('/')),
        }
    }
}

/// Kazakh month names, nominative, January first (KAZAKH.md §4): shown in dates and kept whole
/// by the search stemmer.
pub const KAZAKH_MONTHS: [&str; 12] = [
    "қаңтар",
    "ақпан",
    "наурыз",
    "сәуір",
    "мамыр",
    "маусым",
    "шілде",
    "тамыз",
    "қыркүйек",
    "қазан",
    "қараша",
    "желтоқсан",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ml2_path_prefixes_are_absolute_whatever_the_configured_spelling() {
        for raw in ["en", "/en", "en/", "/en/"] {
            let spec = LanguageSpec {
                code: LangCode::parse("en").unwrap(),
                bcp47: "en".into(),
                native_name: "English".into(),
                routing: LanguageRouting::PathPrefix(raw.into()),
                is_default: false,
                fallback: vec![],
                position: 0,
            };
            assert_eq!(spec.path_prefix(), "/en", "{raw}");
        }
    }

    #[test]
    fn ml1_language_codes_are_parsed_strictly() {
        for (raw, ok) in
            [("kk", true), ("RU", true), ("kk-latn", true), ("k", false), ("kk_KZ", false), ("", false), ("қз", false)]
        {
            assert_eq!(LangCode::parse(raw).is_ok(), ok, "{raw}");
        }
        assert_eq!(LangCode::parse("RU").map(|c| c.to_string()), Ok("ru".to_owned()));
    }
}
