//! "Did you mean": each query word that no published text contains is replaced by the closest
//! word that one does (optimal string alignment distance 1, or 2 for words of five letters or
//! more), taken from the index's own dictionary of published words.

use std::collections::BTreeMap;

use tantivy::collector::Count;
use tantivy::query::TermQuery;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, Term};

use crate::analysis::{self, Analysis};
use crate::error::SearchError;
use crate::query::{MAX_QUERY_WORDS, UserText};
use crate::schema::Fields;
use crate::stopwords::is_stop_word;

/// Dictionary entries examined per word at most, so a huge index keeps suggestions fast.
const MAX_SCANNED_TERMS: usize = 200_000;
/// Candidates checked against live documents per word (the dictionary still lists words of
/// deleted documents until segments merge).
const MAX_VERIFIED: usize = 5;

pub(crate) fn did_you_mean(
    searcher: &Searcher,
    fields: &Fields,
    families: &[Analysis],
    text: &UserText,
) -> Result<Option<String>, SearchError> {
    let words: Vec<String> = analysis::tokens(&analysis::words_analyzer(), &text.loose)
        .into_iter()
        .map(|(_, w)| w)
        .take(MAX_QUERY_WORDS)
        .collect();
    for family in families {
        let field = fields.family(*family).words;
        let mut changed = false;
        let mut out = Vec::with_capacity(words.len());
        for word in &words {
            let replacement = if needs_checking(*family, word) && live_count(searcher, field, word)? == 0 {
                closest(searcher, field, word)?
            } else {
                None
            };
            changed |= replacement.is_some();
            out.push(replacement.unwrap_or_else(|| word.clone()));
        }
        if changed {
            return Ok(Some(out.join(" ")));
        }
    }
    Ok(None)
}

fn needs_checking(family: Analysis, word: &str) -> bool {
    word.chars().count() >= 3 && !word.chars().any(|c| c.is_ascii_digit()) && !is_stop_word(family, word)
}

fn live_count(searcher: &Searcher, field: Field, word: &str) -> Result<usize, SearchError> {
    let query = TermQuery::new(Term::from_field_text(field, word), IndexRecordOption::Basic);
    Ok(searcher.search(&query, &Count)?)
}

/// The nearest live dictionary word sharing the first letter (a typo in the first letter is rare
/// and checking only that letter's range keeps the scan short).
fn closest(searcher: &Searcher, field: Field, word: &str) -> Result<Option<String>, SearchError> {
    let chars: Vec<char> = word.chars().collect();
    let Some(&first) = chars.first() else { return Ok(None) };
    let max_distance = if chars.len() >= 5 { 2 } else { 1 };
    let lower = first.to_string();
    let upper = char::from_u32(first as u32 + 1).map(|c| c.to_string());
    // word → (distance, document frequency summed over segments)
    let mut candidates: BTreeMap<String, (usize, u64)> = BTreeMap::new();
    for segment in searcher.segment_readers() {
        let inverted = segment.inverted_index(field)?;
        let mut range = inverted.terms().range().ge(lower.as_bytes());
        if let Some(upper) = &upper {
            range = range.lt(upper.as_bytes());
        }
        let mut stream = range.into_stream().map_err(tantivy::TantivyError::from)?;
        let mut scanned = 0;
        while stream.advance() && scanned < MAX_SCANNED_TERMS {
            scanned += 1;
            let Ok(term) = std::str::from_utf8(stream.key()) else { continue };
            let term_chars: Vec<char> = term.chars().collect();
            if term_chars.len().abs_diff(chars.len()) > max_distance {
                continue;
            }
            let distance = osa_distance(&chars, &term_chars);
            if (1..=max_distance).contains(&distance) {
                let entry = candidates.entry(term.to_owned()).or_insert((distance, 0));
                entry.1 += u64::from(stream.value().doc_freq);
            }
        }
    }
    let mut ranked: Vec<(String, (usize, u64))> = candidates.into_iter().collect();
    ranked.sort_by(|a, b| a.1.0.cmp(&b.1.0).then(b.1.1.cmp(&a.1.1)).then(a.0.cmp(&b.0)));
    for (candidate, _) in ranked.into_iter().take(MAX_VERIFIED) {
        if live_count(searcher, field, &candidate)? > 0 {
            return Ok(Some(candidate));
        }
    }
    Ok(None)
}

/// Edit distance with adjacent transpositions counted as one edit (optimal string alignment).
pub(crate) fn osa_distance(a: &[char], b: &[char]) -> usize {
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best =
                (d[(i - 1) * width + j] + 1).min(d[i * width + j - 1] + 1).min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distance(a: &str, b: &str) -> usize {
        osa_distance(&a.chars().collect::<Vec<_>>(), &b.chars().collect::<Vec<_>>())
    }

    #[test]
    fn distance_counts_edits_and_transpositions() {
        assert_eq!(distance("мектеп", "мектеп"), 0);
        assert_eq!(distance("мектп", "мектеп"), 1);
        assert_eq!(distance("мекетп", "мектеп"), 1, "a swap is one edit");
        assert_eq!(distance("мктпе", "мектеп"), 2);
        assert_eq!(distance("", "абв"), 3);
    }
}
