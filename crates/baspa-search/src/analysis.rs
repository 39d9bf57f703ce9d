//! The analyzers, one family per language that has one: Kazakh (our stemmer, root and trigram
//! fields), Russian and English (tantivy's Snowball stemmers) and Plain (fold only) for every other
//! language code. Every family starts with the same tokenizer and [`Fold`], so index and query
//! agree on what a word is.

use baspa_domain::LangCode;
use tantivy::tokenizer::{
    Language, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer,
    TokenizerManager,
};

use crate::{fold, kazakh};

/// Longer tokens are dropped: no word is this long (in UTF-8 bytes; Cyrillic takes two per
/// letter), so they are garbage or an attack on the index.
const MAX_TOKEN_BYTES: usize = 100;

/// Length of the character n-grams in the Kazakh recall field.
pub const GRAM_CHARS: usize = 3;

/// The analyzer family a language's text goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Analysis {
    Kazakh,
    Russian,
    English,
    /// Fold and lower-case only: languages without a stemmer here, and the unknown.
    Plain,
}

impl Analysis {
    pub const ALL: [Analysis; 4] = [Analysis::Kazakh, Analysis::Russian, Analysis::English, Analysis::Plain];

    /// The family for a language code. Kazakh in Latin script (`kk-latn`) goes to Plain: the
    /// stemmer's suffixes are Cyrillic.
    pub fn for_lang(lang: &LangCode) -> Analysis {
        let code = lang.as_str();
        let mut parts = code.split('-');
        let primary = parts.next().unwrap_or_default();
        let is_latin = parts.any(|p| p == "latn");
        match primary {
            "kk" | "kaz" if !is_latin => Analysis::Kazakh,
            "ru" | "rus" => Analysis::Russian,
            "en" | "eng" => Analysis::English,
            _ => Analysis::Plain,
        }
    }

    /// Suffix of this family's field names and tokenizer names.
    pub fn code(self) -> &'static str {
        match self {
            Analysis::Kazakh => "kk",
            Analysis::Russian => "ru",
            Analysis::English => "en",
            Analysis::Plain => "plain",
        }
    }

    /// Name of the stemming tokenizer for this family's title, body and extra fields.
    pub fn stem_tokenizer(self) -> String {
        format!("baspa_{}", self.code())
    }

    pub fn stem_analyzer(self) -> TextAnalyzer {
        let base = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
            .filter(Fold);
        match self {
            Analysis::Kazakh => base.filter(KazakhStemmer).build(),
            Analysis::Russian => base.filter(Stemmer::new(Language::Russian)).build(),
            Analysis::English => base.filter(Stemmer::new(Language::English)).build(),
            Analysis::Plain => base.build(),
        }
    }
}

/// Tokenizer names registered besides the per-family stemming ones.
pub const WORDS_TOKENIZER: &str = "baspa_words";
pub const KK_ROOT_TOKENIZER: &str = "baspa_kk_root";
pub const KK_GRAMS_TOKENIZER: &str = "baspa_kk_grams";

/// Folded surface words, unstemmed: the spelling dictionary and stop-word checks.
pub fn words_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(Fold)
        .build()
}

pub fn kazakh_root_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(Fold)
        .filter(KazakhRootStemmer)
        .build()
}

pub fn kazakh_grams_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(Fold)
        .filter(WordGrams)
        .build()
}

/// Registers every analyzer under the names the schema refers to.
pub fn register(manager: &TokenizerManager) {
    for family in Analysis::ALL {
        manager.register(&family.stem_tokenizer(), family.stem_analyzer());
    }
    manager.register(WORDS_TOKENIZER, words_analyzer());
    manager.register(KK_ROOT_TOKENIZER, kazakh_root_analyzer());
    manager.register(KK_GRAMS_TOKENIZER, kazakh_grams_analyzer());
}

/// Runs `analyzer` over `text` and returns the token texts with their positions.
pub fn tokens(analyzer: &TextAnalyzer, text: &str) -> Vec<(usize, String)> {
    let mut analyzer = analyzer.clone();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while let Some(token) = stream.next() {
        out.push((token.position, token.text.clone()));
    }
    out
}

/// Rewrites each token into zero or more tokens at the same position and offsets.
type Expand = fn(&str, &mut Vec<String>);

/// [`fold::fold`] as a token filter.
#[derive(Clone, Copy, Debug)]
pub struct Fold;

/// The Kazakh inflectional stemmer ([`kazakh::stems`]) as a token filter. An ambiguous word gives
/// two tokens at one position, so either reading matches.
#[derive(Clone, Copy, Debug)]
pub struct KazakhStemmer;

/// [`kazakh::root`] as a token filter.
#[derive(Clone, Copy, Debug)]
pub struct KazakhRootStemmer;

/// Each word's character trigrams (shorter words whole), for the Kazakh recall field.
#[derive(Clone, Copy, Debug)]
pub struct WordGrams;

fn expand_fold(word: &str, out: &mut Vec<String>) {
    out.push(fold::fold(word));
}

fn expand_stems(word: &str, out: &mut Vec<String>) {
    let (first, second) = kazakh::stems(word);
    out.push(first);
    out.extend(second);
}

fn expand_root(word: &str, out: &mut Vec<String>) {
    out.push(kazakh::root(word));
}

fn expand_grams(word: &str, out: &mut Vec<String>) {
    out.extend(char_grams(word, GRAM_CHARS));
}

/// The character n-grams of `word`; a word of `n` letters or fewer is its own only gram.
pub fn char_grams(word: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    if chars.len() <= n {
        return vec![word.to_owned()];
    }
    chars.windows(n).map(|w| w.iter().collect()).collect()
}

macro_rules! expanding_filter {
    ($name:ident, $expand:expr) => {
        impl TokenFilter for $name {
            type Tokenizer<T: Tokenizer> = ExpandFilter<T>;

            fn transform<T: Tokenizer>(self, tokenizer: T) -> ExpandFilter<T> {
                ExpandFilter { inner: tokenizer, expand: $expand }
            }
        }
    };
}

expanding_filter!(Fold, expand_fold);
expanding_filter!(KazakhStemmer, expand_stems);
expanding_filter!(KazakhRootStemmer, expand_root);
expanding_filter!(WordGrams, expand_grams);

#[derive(Clone)]
pub struct ExpandFilter<T> {
    inner: T,
    expand: Expand,
}

impl<T: Tokenizer> Tokenizer for ExpandFilter<T> {
    type TokenStream<'a> = ExpandStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        ExpandStream {
            tail: self.inner.token_stream(text),
            expand: self.expand,
            pending: Vec::new(),
            token: Token::default(),
        }
    }
}

pub struct ExpandStream<S> {
    tail: S,
    expand: Expand,
    /// Outputs of the current input token not yet emitted, last first.
    pending: Vec<String>,
    token: Token,
}

impl<S: TokenStream> TokenStream for ExpandStream<S> {
    fn advance(&mut self) -> bool {
        loop {
            if let Some(text) = self.pending.pop() {
                self.token.text = text;
                return true;
            }
            if !self.tail.advance() {
                return false;
            }
            let input = self.tail.token();
            self.token.offset_from = input.offset_from;
            self.token.offset_to = input.offset_to;
            self.token.position = input.position;
            self.token.position_length = input.position_length;
            (self.expand)(&input.text, &mut self.pending);
            self.pending.reverse();
        }
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(analyzer: &TextAnalyzer, text: &str) -> Vec<String> {
        tokens(analyzer, text).into_iter().map(|(_, t)| t).collect()
    }

    #[test]
    fn kazakh_analyzer_folds_then_stems() {
        let kk = Analysis::Kazakh.stem_analyzer();
        assert_eq!(texts(&kk, "Мектептердің МEКТЕБІ"), ["мектеп", "мектеп"]);
        assert_eq!(texts(&kk, "Алматыда"), ["алматы"]);
    }

    #[test]
    fn an_ambiguous_kazakh_word_gives_both_stems_at_one_position() {
        let kk = Analysis::Kazakh.stem_analyzer();
        assert_eq!(tokens(&kk, "Кеңесі өтті"), [(0, "кеңе".to_owned()), (0, "кеңес".to_owned()), (1, "өт".to_owned())]);
    }

    #[test]
    fn russian_analyzer_stems_and_folds_yo() {
        let ru = Analysis::Russian.stem_analyzer();
        assert_eq!(texts(&ru, "Учёные учеными"), texts(&ru, "ученые ученый"));
        assert_eq!(texts(&ru, "школы школе"), ["школ", "школ"]);
    }

    #[test]
    fn english_analyzer_stems() {
        let en = Analysis::English.stem_analyzer();
        assert_eq!(texts(&en, "Schools running"), ["school", "run"]);
    }

    #[test]
    fn plain_analyzer_only_folds() {
        let plain = Analysis::Plain.stem_analyzer();
        assert_eq!(texts(&plain, "Straße ÖLÜ"), ["straße", "ölü"]);
    }

    #[test]
    fn grams_cover_each_word_separately() {
        let grams = kazakh_grams_analyzer();
        assert_eq!(texts(&grams, "Ауыл су"), ["ауы", "уыл", "су"]);
    }

    #[test]
    fn overlong_tokens_are_dropped() {
        let kk = Analysis::Kazakh.stem_analyzer();
        let long = "а".repeat(300);
        assert_eq!(texts(&kk, &format!("үй {long} үйлер")), ["үй", "үй"]);
    }

    #[test]
    fn language_codes_pick_their_family() {
        let family = |code: &str| Analysis::for_lang(&LangCode::parse(code).expect("valid code"));
        assert_eq!(family("kk"), Analysis::Kazakh);
        assert_eq!(family("kk-latn"), Analysis::Plain);
        assert_eq!(family("ru"), Analysis::Russian);
        assert_eq!(family("en"), Analysis::English);
        assert_eq!(family("de"), Analysis::Plain);
    }
}
