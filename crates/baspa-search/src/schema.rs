//! The index schema. One set of text fields per analyzer family (`title_kk`, `body_ru`, …) plus a
//! `lang` field: a tantivy field has one tokenizer, so per-language analysis needs per-family
//! fields, and any language code maps onto one of four families without a schema change
//! (ML-1). Why this and not one index per language: `docs/search.md`.

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

use crate::analysis::{Analysis, KK_GRAMS_TOKENIZER, KK_ROOT_TOKENIZER, WORDS_TOKENIZER};

/// The text fields of one analyzer family.
#[derive(Debug, Clone, Copy)]
pub struct FamilyFields {
    /// Stemmed title, with positions for phrases.
    pub title: Field,
    /// Stemmed excerpt and body, with positions.
    pub body: Field,
    /// Stemmed tag and author names.
    pub extra: Field,
    /// Folded, unstemmed words of published texts only: the spelling dictionary for "did you
    /// mean". Drafts stay out so a suggestion never reveals an unpublished word.
    pub words: Field,
    /// Kazakh only: one derivational suffix removed too (lower boost).
    pub root: Option<Field>,
    /// Kazakh only: character trigrams of each word (lowest boost), a recall net for forms the
    /// stemmer misses.
    pub grams: Option<Field>,
}

#[derive(Debug, Clone)]
pub struct Fields {
    pub translation_id: Field,
    pub item_id: Field,
    pub lang: Field,
    pub kind: Field,
    pub status: Field,
    pub section: Field,
    pub published_at: Field,
    /// Stored originals for result pages; not indexed (the family fields are).
    pub title: Field,
    pub excerpt: Field,
    pub body: Field,
    families: [FamilyFields; 4],
}

impl Fields {
    pub fn family(&self, family: Analysis) -> &FamilyFields {
        let index = Analysis::ALL.iter().position(|f| *f == family).unwrap_or(Analysis::ALL.len() - 1);
        &self.families[index]
    }
}

fn text(tokenizer: &str, record: IndexRecordOption) -> TextOptions {
    TextOptions::default()
        .set_indexing_options(TextFieldIndexing::default().set_tokenizer(tokenizer).set_index_option(record))
}

pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let translation_id = b.add_i64_field("translation_id", INDEXED | STORED | FAST);
    let item_id = b.add_i64_field("item_id", INDEXED | STORED);
    let lang = b.add_text_field("lang", STRING | STORED);
    let kind = b.add_text_field("kind", STRING | STORED);
    let status = b.add_text_field("status", STRING | STORED);
    let section = b.add_i64_field("section", INDEXED);
    let published_at = b.add_i64_field("published_at", INDEXED | STORED | FAST);
    let stored = TextOptions::default().set_stored();
    let title = b.add_text_field("title", stored.clone());
    let excerpt = b.add_text_field("excerpt", stored.clone());
    let body = b.add_text_field("body", stored);
    let families = Analysis::ALL.map(|family| {
        let code = family.code();
        let stem = family.stem_tokenizer();
        let positions = IndexRecordOption::WithFreqsAndPositions;
        let is_kazakh = family == Analysis::Kazakh;
        FamilyFields {
            title: b.add_text_field(&format!("title_{code}"), text(&stem, positions)),
            body: b.add_text_field(&format!("body_{code}"), text(&stem, positions)),
            extra: b.add_text_field(&format!("extra_{code}"), text(&stem, IndexRecordOption::WithFreqs)),
            words: b.add_text_field(&format!("words_{code}"), text(WORDS_TOKENIZER, IndexRecordOption::Basic)),
            root: is_kazakh.then(|| b.add_text_field("root_kk", text(KK_ROOT_TOKENIZER, IndexRecordOption::WithFreqs))),
            grams: is_kazakh
                .then(|| b.add_text_field("grams_kk", text(KK_GRAMS_TOKENIZER, IndexRecordOption::WithFreqs))),
        }
    });
    let fields =
        Fields { translation_id, item_id, lang, kind, status, section, published_at, title, excerpt, body, families };
    (b.build(), fields)
}
