//! Running a [`SearchQuery`]: the query per analyzer family, filters, sorting, paging, and hits
//! with highlighted title and snippet. All HTML produced here is escaped text plus `<mark>`
//! elements, safe to insert into a page as is.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use baspa_domain::{ItemId, LangCode, TranslationId};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Query};
use tantivy::schema::{Field, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{TextAnalyzer, TokenStream};
use tantivy::{DocAddress, Order, TantivyDocument};

use crate::analysis::Analysis;
use crate::error::SearchError;
use crate::index::SearchIndex;
use crate::query::{
    FamilyText, Frequencies, SearchQuery, SortOrder, analyse, family_query, parse_user_text, with_filters,
};
use crate::suggest;
use crate::text::escape_html;

/// Below this many hits a "did you mean" suggestion is looked for.
pub const FEW_HITS: usize = 3;
/// Snippet length in bytes of UTF-8 (Cyrillic takes two per letter).
const SNIPPET_BYTES: usize = 320;

#[derive(Debug, Clone, PartialEq)]
pub struct SearchResults {
    /// All matching texts, not only this page.
    pub total: usize,
    pub hits: Vec<SearchHit>,
    /// A respelling of the query from the index's own words, when it found few hits.
    pub did_you_mean: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub translation_id: TranslationId,
    pub item_id: ItemId,
    pub lang: String,
    pub status: String,
    /// Relevance (BM25 with field boosts); 0 when sorted by date.
    pub score: f32,
    pub published_at: Option<i64>,
    /// The whole title, escaped, matches in `<mark>`.
    pub title_html: String,
    /// A passage of the body around the matches (or the excerpt), escaped, matches in `<mark>`.
    pub snippet_html: String,
}

impl SearchIndex {
    /// Searches. Any text is accepted: what cannot be searched is dropped, and text with nothing
    /// searchable left gives no hits. Errors are operational only (IO).
    pub fn search(&self, query: &SearchQuery) -> Result<SearchResults, SearchError> {
        let user = parse_user_text(&query.text);
        let families: Vec<Analysis> = match &query.lang {
            Some(lang) => vec![Analysis::for_lang(lang)],
            None => Analysis::ALL.to_vec(),
        };
        let texts: Vec<(Analysis, FamilyText)> = families.iter().map(|f| (*f, analyse(*f, &user))).collect();
        let searcher = self.reader.searcher();
        let freq = Frequencies { searcher: &searcher };
        let mut per_family: Vec<Box<dyn Query>> =
            texts.iter().filter_map(|(f, text)| family_query(self.fields.family(*f), text, &freq)).collect();
        let text_query: Box<dyn Query> = match per_family.len() {
            0 => return Ok(SearchResults { total: 0, hits: Vec::new(), did_you_mean: None }),
            1 => per_family.remove(0),
            _ => Box::new(BooleanQuery::union(per_family)),
        };
        let full = with_filters(&self.fields, query, text_query);
        let (offset, limit) = query.page_window();
        let top = TopDocs::with_limit(limit).and_offset(offset);
        let (found, total): (Vec<(f32, DocAddress)>, usize) = match query.sort {
            SortOrder::Relevance => searcher.search(&full, &(top.order_by_score(), Count))?,
            SortOrder::Newest => {
                let (docs, total) =
                    searcher.search(&full, &(top.order_by_fast_field::<i64>("published_at", Order::Desc), Count))?;
                (docs.into_iter().map(|(_, address)| (0.0, address)).collect(), total)
            }
        };
        let stems: BTreeMap<Analysis, BTreeSet<String>> = texts.iter().map(|(f, t)| (*f, t.stems())).collect();
        let mut hits = Vec::with_capacity(found.len());
        for (score, address) in found {
            let doc: TantivyDocument = searcher.doc(address)?;
            hits.push(self.hit(&doc, score, &stems));
        }
        let did_you_mean =
            if total < FEW_HITS { suggest::did_you_mean(&searcher, &self.fields, &families, &user)? } else { None };
        Ok(SearchResults { total, hits, did_you_mean })
    }

    fn hit(&self, doc: &TantivyDocument, score: f32, stems: &BTreeMap<Analysis, BTreeSet<String>>) -> SearchHit {
        let f = &self.fields;
        let text = |field: Field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        let number = |field: Field| doc.get_first(field).and_then(|v| v.as_i64());
        let lang = text(f.lang);
        let family = LangCode::parse(&lang).map(|l| Analysis::for_lang(&l)).unwrap_or(Analysis::Plain);
        let analyzer = family.stem_analyzer();
        let empty = BTreeSet::new();
        let terms = stems.get(&family).unwrap_or(&empty);
        let title = text(f.title);
        let excerpt = text(f.excerpt);
        let body = text(f.body);
        let snippet = snippet_html(&body, &analyzer, terms, f.family(family).body)
            .or_else(|| {
                let marked = highlight_whole(&excerpt, &analyzer, terms);
                marked.contains("<mark>").then_some(marked)
            })
            .unwrap_or_else(|| if excerpt.is_empty() { escape_html(&head(&body)) } else { escape_html(&excerpt) });
        SearchHit {
            translation_id: TranslationId(number(f.translation_id).unwrap_or_default()),
            item_id: ItemId(number(f.item_id).unwrap_or_default()),
            status: text(f.status),
            lang,
            score,
            published_at: number(f.published_at),
            title_html: highlight_whole(&title, &analyzer, terms),
            snippet_html: snippet,
        }
    }
}

/// The first characters of a text, cut at a word boundary.
fn head(text: &str) -> String {
    let limit = SNIPPET_BYTES / 2;
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let cut: String = text.chars().take(limit).collect();
    match cut.rfind(' ') {
        Some(space) => format!("{}…", &cut[..space]),
        None => format!("{cut}…"),
    }
}

/// The byte ranges of `text` whose tokens are among `terms`.
fn matches(text: &str, analyzer: &TextAnalyzer, terms: &BTreeSet<String>) -> Vec<Range<usize>> {
    let mut analyzer = analyzer.clone();
    let mut stream = analyzer.token_stream(text);
    let mut ranges: Vec<Range<usize>> = Vec::new();
    while let Some(token) = stream.next() {
        let range = token.offset_from..token.offset_to;
        if terms.contains(&token.text) && ranges.last() != Some(&range) {
            ranges.push(range);
        }
    }
    ranges
}

/// Escapes `text` and wraps the given byte ranges (sorted, possibly overlapping) in `<mark>`.
fn mark(text: &str, ranges: &[Range<usize>]) -> String {
    let mut html = String::with_capacity(text.len() + ranges.len() * 13);
    let mut at = 0;
    for range in ranges {
        let start = range.start.max(at);
        let (Some(before), Some(inside)) = (text.get(at..start), text.get(start..range.end)) else { continue };
        if inside.is_empty() {
            continue;
        }
        html.push_str(&escape_html(before));
        html.push_str("<mark>");
        html.push_str(&escape_html(inside));
        html.push_str("</mark>");
        at = range.end;
    }
    html.push_str(&escape_html(text.get(at..).unwrap_or_default()));
    html
}

/// The whole text with its matches marked.
pub(crate) fn highlight_whole(text: &str, analyzer: &TextAnalyzer, terms: &BTreeSet<String>) -> String {
    mark(text, &matches(text, analyzer, terms))
}

/// The best passage of `body` around the matches, or None when nothing in it matches.
fn snippet_html(body: &str, analyzer: &TextAnalyzer, terms: &BTreeSet<String>, field: Field) -> Option<String> {
    if terms.is_empty() || body.is_empty() {
        return None;
    }
    let weights: BTreeMap<String, f32> = terms.iter().map(|t| (t.clone(), 1.0)).collect();
    let generator = SnippetGenerator::new(weights, analyzer.clone(), field, SNIPPET_BYTES);
    let snippet = generator.snippet(body);
    if snippet.is_empty() {
        return None;
    }
    let fragment = snippet.fragment();
    let mut ranges = snippet.highlighted().to_vec();
    ranges.sort_by_key(|r| (r.start, r.end));
    let html = mark(fragment, &ranges);
    let range = snippet.fragment_range();
    let lead = if range.start > 0 { "…" } else { "" };
    let tail = if range.end < body.len() { "…" } else { "" };
    Some(format!("{lead}{html}{tail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_wrap_matches_and_everything_else_is_escaped() {
        let kk = Analysis::Kazakh.stem_analyzer();
        let terms: BTreeSet<String> = ["мектеп".to_owned()].into();
        assert_eq!(
            highlight_whole("<Жаңа> мектептер & «Мектеп»", &kk, &terms),
            "&lt;Жаңа&gt; <mark>мектептер</mark> &amp; «<mark>Мектеп</mark>»"
        );
    }

    #[test]
    fn two_readings_of_one_word_mark_it_once() {
        let kk = Analysis::Kazakh.stem_analyzer();
        let terms: BTreeSet<String> = ["кеңе".to_owned(), "кеңес".to_owned()].into();
        assert_eq!(highlight_whole("Кеңесі өтті", &kk, &terms), "<mark>Кеңесі</mark> өтті");
    }

    #[test]
    fn overlapping_ranges_do_not_duplicate_text() {
        assert_eq!(mark("abcdef", &[0..3, 1..4, 5..6]), "<mark>abc</mark><mark>d</mark>e<mark>f</mark>");
    }
}
