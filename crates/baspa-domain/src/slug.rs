//! URL slugs (ML-8): readable ASCII from Kazakh and Russian titles, and the Kazakh Latin (2021)
//! reading. Rules and their sources: `shared/KAZAKH.md` §1.3–1.5 (kk: Latin 2021 folded to ASCII;
//! ru: iuliia "yandex_maps").

use serde::{Deserialize, Serialize};

/// A validated slug: `[a-z0-9]` runs joined by single `-`, at most 120 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    #[error("slug {0:?} is empty after transliteration; give the item a title with letters or digits")]
    Empty(String),
    #[error("slug {0:?} may contain only a-z, 0-9 and single hyphens")]
    Invalid(String),
}

const MAX_SLUG_BYTES: usize = 120;

impl Slug {
    /// Accepts an already-formed slug (from a form field or an import) as it is, or refuses it.
    pub fn parse(raw: &str) -> Result<Self, SlugError> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_SLUG_BYTES
            && !raw.starts_with('-')
            && !raw.ends_with('-')
            && !raw.contains("--")
            && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok { Ok(Self(raw.to_owned())) } else { Err(SlugError::Invalid(raw.to_owned())) }
    }

    /// Builds a slug from a title in the given language (`kk` uses the Kazakh table, every other
    /// language the Russian one, which also covers Latin text).
    pub fn from_title(title: &str, lang: &str) -> Result<Self, SlugError> {
        let ascii = if lang.starts_with("kk") { kk_slug_ascii(title) } else { ru_slug_ascii(title) };
        let mut slug = String::with_capacity(ascii.len());
        for ch in ascii.chars() {
            if ch.is_ascii_alphanumeric() {
                slug.push(ch.to_ascii_lowercase());
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        while slug.len() > MAX_SLUG_BYTES {
            match slug[..MAX_SLUG_BYTES].rfind('-') {
                Some(cut) if cut > 0 => slug.truncate(cut),
                _ => slug.truncate(MAX_SLUG_BYTES),
            }
        }
        let slug = slug.trim_matches('-').to_owned();
        if slug.is_empty() { Err(SlugError::Empty(title.to_owned())) } else { Ok(Self(slug)) }
    }

    /// The same slug with a numeric suffix, for resolving a clash: `astana` → `astana-2`.
    pub fn with_suffix(&self, n: u32) -> Self {
        Self(format!("{}-{n}", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = SlugError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Slug> for String {
    fn from(value: Slug) -> Self {
        value.0
    }
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Kazakh letter → slug ASCII (KAZAKH.md §1.3 "slug" column).
fn kk_letter(c: char) -> Option<&'static str> {
    Some(match c {
        'а' | 'ә' => "a",
        'б' => "b",
        'в' => "v",
        'г' | 'ғ' => "g",
        'д' => "d",
        'е' | 'э' => "e",
        'ё' => "io",
        'ж' => "j",
        'з' => "z",
        'и' | 'й' | 'і' => "i",
        'к' => "k",
        'қ' => "q",
        'л' => "l",
        'м' => "m",
        'н' | 'ң' => "n",
        'о' | 'ө' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' | 'ұ' | 'ү' => "u",
        'ф' => "f",
        'х' | 'һ' => "h",
        'ц' => "ts",
        'ч' => "ch",
        'ш' | 'щ' => "sh",
        'ы' => "y",
        'ъ' | 'ь' => "",
        'ю' => "iu",
        'я' => "ia",
        _ => return None,
    })
}

/// Russian letter → iuliia "yandex_maps"; Kazakh letters inside Russian text as KAZAKH.md §1.5.
fn ru_letter(c: char) -> Option<&'static str> {
    Some(match c {
        'а' | 'ә' => "a",
        'б' => "b",
        'в' => "v",
        'г' | 'ғ' => "g",
        'д' => "d",
        'е' | 'э' => "e",
        'ё' => "yo",
        'ж' => "zh",
        'з' => "z",
        'и' | 'і' => "i",
        'й' => "y",
        'к' | 'қ' => "k",
        'л' => "l",
        'м' => "m",
        'н' | 'ң' => "n",
        'о' | 'ө' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' | 'ұ' | 'ү' => "u",
        'ф' => "f",
        'х' => "kh",
        'һ' => "h",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "sch",
        'ъ' | 'ь' => "",
        'ы' => "y",
        'ю' => "yu",
        'я' => "ya",
        _ => return None,
    })
}

fn kk_slug_ascii(text: &str) -> String {
    let lower: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in lower.iter().enumerate() {
        // я/ю/ё right after и/й drop their `i` (Азия → azia), KAZAKH.md §1.4 rule 2.
        let after_i = i > 0 && matches!(lower[i - 1], 'и' | 'й');
        match (c, after_i) {
            ('я', true) => out.push('a'),
            ('ю', true) => out.push('u'),
            ('ё', true) => out.push('o'),
            _ => match kk_letter(c) {
                Some(latin) => out.push_str(latin),
                None => out.push(c),
            },
        }
    }
    out
}

fn ru_slug_ascii(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| ru_letter(c).map(str::to_owned).unwrap_or_else(|| c.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(title: &str, lang: &str, expected: &str) {
        assert_eq!(Slug::from_title(title, lang).map(|s| s.to_string()), Ok(expected.to_owned()), "{title}");
    }

    #[test]
    fn ml8_kazakh_titles_become_readable_ascii_slugs() {
        check("Қазақстан Республикасы", "kk", "qazaqstan-respublikasy");
        check("Мемлекеттік қызметтер", "kk", "memlekettik-qyzmetter");
        check("Шымкентте жаңа мектеп ашылды", "kk", "shymkentte-jana-mektep-ashyldy");
        check("Білім және ғылым министрлігі", "kk", "bilim-jane-gylym-ministrligi");
        check("Құрметті оқырмандар", "kk", "qurmetti-oqyrmandar");
        check("Қоян мен аю", "kk", "qoian-men-aiu");
        check("Цифрлық даму министрлігі", "kk", "tsifrlyq-damu-ministrligi");
        check("Чемпионат Азия", "kk", "chempionat-azia");
        check("Әңгіме: «Өнер — 2026»!", "kk", "angime-oner-2026");
    }

    #[test]
    fn ml8_russian_titles_follow_the_yandex_maps_scheme() {
        check("Правительство Республики Казахстан", "ru", "pravitelstvo-respubliki-kazakhstan");
        check("Щучинск: въезд ограничен", "ru", "schuchinsk-vezd-ogranichen");
        check("Ёлка в Алматы", "ru", "yolka-v-almaty");
        check("Regional Oncology Centre", "en", "regional-oncology-centre");
    }

    #[test]
    fn slugs_without_letters_are_refused_and_raw_slugs_are_validated() {
        assert!(matches!(Slug::from_title("— ?! —", "kk"), Err(SlugError::Empty(_))));
        assert!(Slug::parse("good-slug-2").is_ok());
        for bad in ["", "Bad", "a--b", "-a", "a-", "a b", "қаз"] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn long_titles_are_cut_at_a_word_boundary() {
        let title = "Сөз ".repeat(80);
        let slug = Slug::from_title(&title, "kk").unwrap();
        assert!(slug.as_str().len() <= MAX_SLUG_BYTES);
        assert!(!slug.as_str().ends_with('-'));
    }
}
