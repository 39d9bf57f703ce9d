//! What a caller asks ([`SearchQuery`]) and how visitor text becomes a tantivy query. The query
//! is built from analyzed tokens, never through tantivy's query parser, so no input can be a
//! syntax error: quotes that pair up become phrases, AND/OR/NOT are dropped, everything else is
//! words.

use std::collections::BTreeSet;
use std::ops::Bound;

use baspa_domain::{ContentStatus, ItemId, ItemKind, LangCode};
use tantivy::Term;
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery,
    TermSetQuery,
};
use tantivy::schema::IndexRecordOption;

use crate::analysis::{self, Analysis};
use crate::schema::{FamilyFields, Fields};
use crate::stopwords::is_stop_word;

/// Visitor text beyond this many characters is ignored: no real query is longer, and analysis
/// cost grows with it.
pub const MAX_QUERY_CHARS: usize = 200;
/// At most this many words (phrase words included) make it into the query.
pub const MAX_QUERY_WORDS: usize = 12;
/// Largest page size a caller can ask for.
pub const MAX_PER_PAGE: usize = 100;
/// Deepest page: tantivy collects `offset + limit` documents, so deep pages cost memory.
pub const MAX_PAGE: usize = 100;

// Field weights: a word in the title says more than one in the body; tags and the author name
// sit between; the root and trigram fields only catch what the stemmed fields miss.
const TITLE_BOOST: f32 = 3.0;
const EXTRA_BOOST: f32 = 1.5;
const ROOT_BOOST: f32 = 0.5;
const GRAMS_BOOST: f32 = 0.3;
/// Share of the other fields' scores a word keeps beside its best field (dis-max tie breaker).
const TIE_BREAKER: f32 = 0.2;
/// A word matches through trigrams only when this share of its trigrams occur together.
const GRAMS_MIN_SHARE: f32 = 0.6;
/// The trigram clause is a safety net for words the stemmer does not connect to the texts: it is
/// added only for words whose stems occur in fewer texts than this share of the index (or
/// [`GRAMS_MIN_LIMIT`]), because on common words it adds nothing but long posting lists.
const GRAMS_MAX_SHARE_OF_DOCS: u64 = 200;
const GRAMS_MIN_LIMIT: u64 = 50;

/// One search, as the site, the admin or the API asks it.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    /// What the visitor typed, untrusted and unparsed.
    pub text: String,
    /// The language searched; `None` searches every language (the admin's search).
    pub lang: Option<LangCode>,
    pub filters: SearchFilters,
    pub sort: SortOrder,
    /// 1-based; 0 is read as 1 and pages past [`MAX_PAGE`] as the last one.
    pub page: usize,
    /// Hits per page, 1..=[`MAX_PER_PAGE`]; 0 is read as 10.
    pub per_page: usize,
}

impl SearchQuery {
    /// A visitor's search: one language, published texts only, best match first.
    pub fn visitor(lang: LangCode, text: impl Into<String>) -> SearchQuery {
        SearchQuery {
            text: text.into(),
            lang: Some(lang),
            filters: SearchFilters::default(),
            sort: SortOrder::Relevance,
            page: 1,
            per_page: 10,
        }
    }

    /// The admin's search: every language and every status.
    pub fn admin(text: impl Into<String>) -> SearchQuery {
        SearchQuery {
            text: text.into(),
            lang: None,
            filters: SearchFilters { statuses: StatusFilter::Any, ..SearchFilters::default() },
            sort: SortOrder::Relevance,
            page: 1,
            per_page: 10,
        }
    }

    pub(crate) fn page_window(&self) -> (usize, usize) {
        let per_page = match self.per_page {
            0 => 10,
            n => n.min(MAX_PER_PAGE),
        };
        let page = self.page.clamp(1, MAX_PAGE);
        ((page - 1) * per_page, per_page)
    }
}

/// Restrictions every hit must satisfy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchFilters {
    /// Any of these sections (empty: all).
    pub sections: Vec<ItemId>,
    /// Published at or after (unix seconds).
    pub published_from: Option<i64>,
    /// Published before (unix seconds, exclusive).
    pub published_until: Option<i64>,
    /// Any of these kinds (empty: all).
    pub kinds: Vec<ItemKind>,
    pub statuses: StatusFilter,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub enum StatusFilter {
    /// What visitors may see.
    #[default]
    Published,
    Only(Vec<ContentStatus>),
    Any,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortOrder {
    #[default]
    Relevance,
    /// Newest `published_at` first; texts without one last.
    Newest,
}

/// Visitor text split into loose words and quoted phrases.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct UserText {
    pub loose: String,
    pub phrases: Vec<String>,
}

/// Splits visitor text, forgiving anything: an unpaired quote is dropped, operators are dropped,
/// the rest is cut at [`MAX_QUERY_CHARS`].
pub(crate) fn parse_user_text(raw: &str) -> UserText {
    let cut: String = raw
        .chars()
        .take(MAX_QUERY_CHARS)
        .map(|c| if matches!(c, '«' | '»' | '“' | '”' | '„' | '‟' | '″') { '"' } else { c })
        .collect();
    let mut text = cut;
    if text.matches('"').count() % 2 == 1
        && let Some(last) = text.rfind('"')
    {
        text.replace_range(last..last + 1, " ");
    }
    let mut loose = Vec::new();
    let mut phrases = Vec::new();
    for (i, part) in text.split('"').enumerate() {
        if i % 2 == 1 {
            if !part.trim().is_empty() {
                phrases.push(part.trim().to_owned());
            }
        } else {
            loose.extend(
                part.split_whitespace()
                    .filter(|w| !matches!(*w, "AND" | "OR" | "NOT" | "&&" | "||"))
                    .map(str::to_owned),
            );
        }
    }
    UserText { loose: loose.join(" "), phrases }
}

/// The analysed form of the visitor's text for one family.
#[derive(Debug, Default)]
pub(crate) struct FamilyText {
    /// Each loose word: its folded surface form and its stems (one or two).
    pub words: Vec<(String, Vec<String>)>,
    /// Each phrase: stems with positions.
    pub phrases: Vec<Vec<(usize, String)>>,
}

impl FamilyText {
    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.phrases.is_empty()
    }

    /// Every stem, for highlighting.
    pub fn stems(&self) -> BTreeSet<String> {
        let loose = self.words.iter().flat_map(|(_, stems)| stems.iter().cloned());
        loose.chain(self.phrases.iter().flat_map(|p| p.iter().map(|(_, t)| t.clone()))).collect()
    }
}

pub(crate) fn analyse(family: Analysis, text: &UserText) -> FamilyText {
    let stemmer = family.stem_analyzer();
    let mut budget = MAX_QUERY_WORDS;
    let mut phrases = Vec::new();
    for phrase in &text.phrases {
        let mut stems = analysis::tokens(&stemmer, phrase);
        // A phrase word with two readings keeps its first: a phrase needs one term per position.
        stems.dedup_by_key(|(position, _)| *position);
        stems.truncate(budget);
        budget -= stems.len();
        if !stems.is_empty() {
            phrases.push(stems);
        }
    }
    let surface: Vec<String> = analysis::tokens(&analysis::words_analyzer(), &text.loose)
        .into_iter()
        .map(|(_, w)| w)
        .fold(Vec::new(), |mut seen, w| {
            if !seen.contains(&w) {
                seen.push(w);
            }
            seen
        });
    let content: Vec<&String> = surface.iter().filter(|w| !is_stop_word(family, w)).collect();
    // A query of stop words only ("бұл не?") is still searched, by those words.
    let kept: Vec<&String> = if content.is_empty() { surface.iter().collect() } else { content };
    let words = kept
        .into_iter()
        .take(budget)
        .map(|w| {
            let stems: Vec<String> = analysis::tokens(&stemmer, w).into_iter().map(|(_, s)| s).collect();
            (w.clone(), stems)
        })
        .filter(|(_, stems)| !stems.is_empty())
        .collect();
    FamilyText { words, phrases }
}

fn term_query(field: tantivy::schema::Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::WithFreqs))
}

fn boosted(query: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(query, boost))
}

/// How often terms occur, for decisions that depend on the index (the trigram safety net).
pub(crate) struct Frequencies<'a> {
    pub searcher: &'a tantivy::Searcher,
}

impl Frequencies<'_> {
    /// Texts containing any of the stems in the title or body (an upper bound, summed).
    fn texts_with(&self, fields: &FamilyFields, stems: &[String]) -> u64 {
        let mut total = 0;
        for stem in stems {
            for field in [fields.title, fields.body] {
                total += self.searcher.doc_freq(&Term::from_field_text(field, stem)).unwrap_or(u64::MAX / 4);
            }
        }
        total
    }

    fn grams_limit(&self) -> u64 {
        (self.searcher.num_docs() / GRAMS_MAX_SHARE_OF_DOCS).max(GRAMS_MIN_LIMIT)
    }
}

/// One loose word: the best of its fields (dis-max), each stem reading counted.
fn word_query(fields: &FamilyFields, surface: &str, stems: &[String], freq: &Frequencies) -> Box<dyn Query> {
    let mut disjuncts: Vec<Box<dyn Query>> = Vec::new();
    for stem in stems {
        disjuncts.push(boosted(term_query(fields.title, stem), TITLE_BOOST));
        disjuncts.push(term_query(fields.body, stem));
        disjuncts.push(boosted(term_query(fields.extra, stem), EXTRA_BOOST));
    }
    if let Some(root) = fields.root {
        for (_, root_term) in analysis::tokens(&analysis::kazakh_root_analyzer(), surface) {
            disjuncts.push(boosted(term_query(root, &root_term), ROOT_BOOST));
        }
    }
    if let Some(grams_field) = fields.grams.filter(|_| freq.texts_with(fields, stems) < freq.grams_limit()) {
        let grams = analysis::char_grams(surface, analysis::GRAM_CHARS);
        let needed = ((grams.len() as f32) * GRAMS_MIN_SHARE).ceil().max(1.0) as usize;
        let clauses = grams.iter().map(|g| (Occur::Should, term_query(grams_field, g))).collect();
        disjuncts.push(boosted(Box::new(BooleanQuery::with_minimum_required_clauses(clauses, needed)), GRAMS_BOOST));
    }
    Box::new(DisjunctionMaxQuery::with_tie_breaker(disjuncts, TIE_BREAKER))
}

/// A phrase must occur in the title or the body.
fn phrase_query(fields: &FamilyFields, stems: &[(usize, String)]) -> Box<dyn Query> {
    if let [(_, only)] = stems {
        return Box::new(DisjunctionMaxQuery::new(vec![
            boosted(term_query(fields.title, only), TITLE_BOOST),
            term_query(fields.body, only),
        ]));
    }
    let first = stems.first().map_or(0, |(p, _)| *p);
    let in_field = |field| -> Box<dyn Query> {
        let terms = stems.iter().map(|(p, t)| (p - first, Term::from_field_text(field, t))).collect();
        Box::new(PhraseQuery::new_with_offset(terms))
    };
    Box::new(DisjunctionMaxQuery::new(vec![boosted(in_field(fields.title), TITLE_BOOST), in_field(fields.body)]))
}

/// The text part of the query for one family, or None when nothing searchable is left.
pub(crate) fn family_query(fields: &FamilyFields, text: &FamilyText, freq: &Frequencies) -> Option<Box<dyn Query>> {
    if text.is_empty() {
        return None;
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for phrase in &text.phrases {
        clauses.push((Occur::Must, phrase_query(fields, phrase)));
    }
    for (surface, stems) in &text.words {
        clauses.push((Occur::Should, word_query(fields, surface, stems, freq)));
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

fn filter(query: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(query, 0.0)))
}

fn any_of(terms: Vec<Term>) -> Box<dyn Query> {
    Box::new(TermSetQuery::new(terms))
}

/// Text (already combined across families) plus the caller's filters.
pub(crate) fn with_filters(fields: &Fields, query: &SearchQuery, text: Box<dyn Query>) -> Box<dyn Query> {
    let mut clauses = vec![(Occur::Must, text)];
    if let Some(lang) = &query.lang {
        clauses.push(filter(term_query(fields.lang, lang.as_str())));
    }
    let statuses: Vec<&str> = match &query.filters.statuses {
        StatusFilter::Published => vec![ContentStatus::Published.as_str()],
        StatusFilter::Only(list) => list.iter().map(|s| s.as_str()).collect(),
        StatusFilter::Any => Vec::new(),
    };
    if !matches!(query.filters.statuses, StatusFilter::Any) {
        let terms = statuses.iter().map(|s| Term::from_field_text(fields.status, s)).collect();
        clauses.push(filter(any_of(terms)));
    }
    if !query.filters.sections.is_empty() {
        let terms = query.filters.sections.iter().map(|id| Term::from_field_i64(fields.section, id.0)).collect();
        clauses.push(filter(any_of(terms)));
    }
    if !query.filters.kinds.is_empty() {
        let terms = query.filters.kinds.iter().map(|k| Term::from_field_text(fields.kind, k.as_str())).collect();
        clauses.push(filter(any_of(terms)));
    }
    let (from, until) = (query.filters.published_from, query.filters.published_until);
    if from.is_some() || until.is_some() {
        let lower = from.map_or(Bound::Unbounded, |t| Bound::Included(Term::from_field_i64(fields.published_at, t)));
        let upper = until.map_or(Bound::Unbounded, |t| Bound::Excluded(Term::from_field_i64(fields.published_at, t)));
        clauses.push(filter(Box::new(RangeQuery::new(lower, upper))));
    }
    Box::new(BooleanQuery::new(clauses))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(raw: &str) -> (String, Vec<String>) {
        let t = parse_user_text(raw);
        (t.loose, t.phrases)
    }

    #[test]
    fn paired_quotes_make_phrases_and_an_unpaired_one_is_dropped() {
        assert_eq!(parsed("\"заң жобасы\" мәжіліс"), ("мәжіліс".to_owned(), vec!["заң жобасы".to_owned()]));
        assert_eq!(parsed("«ауыз су» ауыл"), ("ауыл".to_owned(), vec!["ауыз су".to_owned()]));
        assert_eq!(parsed("\"заң жобасы"), ("заң жобасы".to_owned(), vec![]));
        assert_eq!(parsed("\"\""), (String::new(), vec![]));
    }

    #[test]
    fn operators_are_dropped_and_long_text_is_cut() {
        assert_eq!(parsed("мектеп AND ауыл OR NOT қала"), ("мектеп ауыл қала".to_owned(), vec![]));
        let long = "сөз ".repeat(1000);
        assert!(parse_user_text(&long).loose.chars().count() <= MAX_QUERY_CHARS);
    }

    #[test]
    fn stop_words_leave_the_query_unless_nothing_else_is_left() {
        let words = |raw: &str| -> Vec<String> {
            analyse(Analysis::Kazakh, &parse_user_text(raw)).words.into_iter().map(|(w, _)| w).collect()
        };
        assert_eq!(words("мектеп және ауыл"), ["мектеп", "ауыл"]);
        assert_eq!(words("және мен"), ["және", "мен"]);
    }

    #[test]
    fn the_word_budget_caps_the_query() {
        let raw: Vec<String> = (0..50).map(|i| format!("сөз{i}")).collect();
        let text = analyse(Analysis::Plain, &parse_user_text(&raw.join(" ")));
        assert_eq!(text.words.len(), MAX_QUERY_WORDS);
    }

    #[test]
    fn pages_are_clamped() {
        let mut q = SearchQuery::admin("x");
        q.page = 0;
        q.per_page = 0;
        assert_eq!(q.page_window(), (0, 10));
        q.page = 1_000_000;
        q.per_page = 1_000;
        assert_eq!(q.page_window(), ((MAX_PAGE - 1) * MAX_PER_PAGE, MAX_PER_PAGE));
    }
}
