//! Word folding shared by every analyzer: Latin look-alikes inside Cyrillic words become Cyrillic,
//! then lower case, then ё → е. Runs before any stemmer, at index and at query time alike, so a
//! word typed with a stray Latin letter (a common result of switching keyboard layouts, see the
//! Latin-`i` bug in KAZAKH.md §2.4) still meets its Cyrillic spelling.

/// Folds one word (a token, not running text): see the module comment.
pub fn fold(word: &str) -> String {
    let has_cyrillic = word.chars().any(is_cyrillic);
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        let c = if has_cyrillic { cyrillic_look_alike(c) } else { c };
        let c = match c {
            // IPA letters that Kazakh typists use for ә and ө in any script context.
            'ə' | 'Ə' => 'ә',
            'ɵ' | 'Ɵ' => 'ө',
            other => other,
        };
        for lower in c.to_lowercase() {
            // Snowball Russian builds differ in whether ё is a vowel (KAZAKH.md §3); readers
            // type е for ё in both languages, so both sides are folded.
            out.push(if lower == 'ё' { 'е' } else { lower });
        }
    }
    out
}

fn is_cyrillic(c: char) -> bool {
    ('\u{0400}'..='\u{04FF}').contains(&c)
}

/// The Cyrillic letter a Latin one is mistaken for. Case matters: Latin `H` looks like Cyrillic
/// `Н` but Latin `h` looks like `һ`, so this runs before lower-casing.
fn cyrillic_look_alike(c: char) -> char {
    match c {
        'A' => 'А',
        'B' => 'В',
        'C' => 'С',
        'E' => 'Е',
        'H' => 'Н',
        'I' => 'І',
        'K' => 'К',
        'M' => 'М',
        'O' => 'О',
        'P' => 'Р',
        'T' => 'Т',
        'X' => 'Х',
        'Y' => 'У',
        'a' => 'а',
        'c' => 'с',
        'e' => 'е',
        'h' => 'һ',
        'i' => 'і',
        'k' => 'к',
        'o' => 'о',
        'p' => 'р',
        'x' => 'х',
        'y' => 'у',
        other => other,
    }
}

/// Composes the two decomposed Cyrillic letters that occur in Kazakh and Russian (и + breve = й,
/// е + diaeresis = ё) so that the tokenizer, which splits on combining marks, sees one word.
/// The other Kazakh letters have no decomposition, so this is what NFC would do for this text.
pub fn compose(text: &str) -> String {
    if !text.contains(['\u{0306}', '\u{0308}']) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let composed = match (out.chars().last(), c) {
            (Some('и'), '\u{0306}') => Some('й'),
            (Some('И'), '\u{0306}') => Some('Й'),
            (Some('е'), '\u{0308}') => Some('ё'),
            (Some('Е'), '\u{0308}') => Some('Ё'),
            _ => None,
        };
        match composed {
            Some(letter) => {
                out.pop();
                out.push(letter);
            }
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_look_alikes_inside_cyrillic_words_become_cyrillic() {
        // "мектеп" typed with Latin e, p; "білім" with Latin i.
        assert_eq!(fold("мeктeп"), "мектеп");
        assert_eq!(fold("бiлiм"), "білім");
        assert_eq!(fold("OРТАЛЫҚ"), "орталық");
        assert_eq!(fold("Hұр"), "нұр");
        assert_eq!(fold("Aлмaты"), "алматы");
    }

    #[test]
    fn latin_words_keep_their_letters() {
        assert_eq!(fold("Hockey"), "hockey");
        assert_eq!(fold("IT"), "it");
    }

    #[test]
    fn yo_folds_to_ye_and_ipa_letters_to_kazakh() {
        assert_eq!(fold("Ёлка"), "елка");
        assert_eq!(fold("учёных"), "ученых");
        assert_eq!(fold("əкe"), "әке");
        assert_eq!(fold("ɵнер"), "өнер");
    }

    #[test]
    fn decomposed_letters_are_composed() {
        assert_eq!(compose("и\u{0306}ыл"), "йыл");
        assert_eq!(compose("e\u{0308}"), "e\u{0308}", "only Cyrillic bases are composed");
        assert_eq!(compose("Е\u{0308}лка"), "Ёлка");
        assert_eq!(compose("plain"), "plain");
    }
}
