//! Relevance of Kazakh and Russian search on the news demo (WS-2). The demo articles are indexed
//! together with the WordPress fixtures' posts (same genre and topics) as competitors; every query
//! in `tests/relevance/{kk,ru}.json` uses other word forms than its expected article for at least
//! half of its words. The test fails when recall@10 drops below 0.9 in either language, when a
//! query breaks the half-rule, or when the numbers in `docs/search.md` are stale
//! (`BASPA_BLESS=1` rewrites them).

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

mod common;

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use baspa_search::analysis::{tokens, words_analyzer};
use baspa_search::{SearchIndex, SearchQuery};
use common::{DemoDoc, demo_docs, index_of, lang, wordpress_docs};
use serde::Deserialize;

const MIN_RECALL: f64 = 0.9;
const TOP: usize = 10;
const BEGIN: &str = "<!-- relevance:begin -->";
const END: &str = "<!-- relevance:end -->";

#[derive(Deserialize)]
struct Case {
    q: String,
    expect: Vec<String>,
    #[allow(dead_code)] // documentation for the reader of the JSON
    forms: String,
}

fn cases(code: &str) -> Vec<Case> {
    let path = format!("{}/tests/relevance/{code}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("relevance file")).expect("relevance json")
}

struct Score {
    queries: usize,
    recall: f64,
    mrr: f64,
    missed: Vec<String>,
}

/// Runs every case against `index` in language `code`; article keys come from `docs`.
fn score(index: &SearchIndex, docs: &[DemoDoc], code: &str, cases: &[Case]) -> Score {
    let key_of: HashMap<i64, &str> = docs.iter().map(|d| (d.doc.translation_id.0, d.key.as_str())).collect();
    let (mut recall, mut mrr, mut missed) = (0.0, 0.0, Vec::new());
    for case in cases {
        let mut query = SearchQuery::visitor(lang(code), case.q.clone());
        query.per_page = TOP;
        let results = index.search(&query).expect("search");
        let top: Vec<&str> = results.hits.iter().map(|h| key_of[&h.translation_id.0]).collect();
        let found = case.expect.iter().filter(|k| top.contains(&k.as_str())).count();
        recall += found as f64 / case.expect.len() as f64;
        if let Some(rank) = top.iter().position(|k| case.expect.iter().any(|e| e == k)) {
            mrr += 1.0 / (rank + 1) as f64;
        }
        if found < case.expect.len() {
            missed.push(format!("«{}» → {}", case.q, case.expect.join(", ")));
        }
    }
    let n = cases.len() as f64;
    Score { queries: cases.len(), recall: recall / n, mrr: mrr / n, missed }
}

fn words(text: &str) -> Vec<String> {
    tokens(&words_analyzer(), text).into_iter().map(|(_, w)| w).collect()
}

/// Share of query words (3+ letters) that do not occur verbatim in the expected articles; fails
/// on a query where fewer than half of them are new forms.
fn unseen_share(docs: &[DemoDoc], code: &str, cases: &[Case]) -> f64 {
    let (mut unseen, mut total) = (0, 0);
    let mut verbatim = Vec::new();
    for case in cases {
        let mut text_words = BTreeSet::new();
        for d in docs.iter().filter(|d| d.lang == code && case.expect.contains(&d.key)) {
            let text = format!(
                "{} {} {} {}",
                d.doc.title,
                d.doc.excerpt,
                baspa_search::html_to_text(&d.doc.body_html),
                d.doc.tags.join(" ")
            );
            text_words.extend(words(&text));
        }
        assert!(!text_words.is_empty(), "{code}: «{}» expects unknown articles {:?}", case.q, case.expect);
        let query_words: Vec<String> = words(&case.q).into_iter().filter(|w| w.chars().count() >= 3).collect();
        let case_unseen = query_words.iter().filter(|w| !text_words.contains(*w)).count();
        if case_unseen * 2 < query_words.len() {
            verbatim.push(case.q.clone());
        }
        unseen += case_unseen;
        total += query_words.len();
    }
    assert!(
        verbatim.is_empty(),
        "{code}: in these queries most words occur verbatim in the article; use other forms: {verbatim:#?}"
    );
    unseen as f64 / total as f64
}

#[test]
fn ws2_kazakh_and_russian_queries_in_other_word_forms_find_their_articles() {
    let with_competitors = |code_for: fn(&str) -> &str| {
        let mut docs = demo_docs(code_for);
        let first_id = docs.len() as i64 + 1;
        docs.extend(wordpress_docs(code_for, first_id));
        docs
    };
    let docs = with_competitors(|code| code);
    let index = index_of(&docs);
    // The baseline indexes the same texts under codes no analyzer knows: lower-casing only.
    let plain_docs = with_competitors(|code| if code == "kk" { "xk" } else { "xr" });
    let plain = index_of(&plain_docs);
    let count = |code: &str| docs.iter().filter(|d| d.lang == code && d.doc.status.is_public()).count();

    let mut table = String::new();
    let mut misses = String::new();
    let mut failures = Vec::new();
    for (code, plain_code) in [("kk", "xk"), ("ru", "xr")] {
        let cases = cases(code);
        assert!(cases.len() >= 50, "{code}: at least 50 queries");
        let unseen = unseen_share(&docs, code, &cases);
        let stemmed = score(&index, &docs, code, &cases);
        let baseline = score(&plain, &plain_docs, plain_code, &cases);
        writeln!(
            table,
            "| {code} | {} | {:.0} % | **{:.3}** | **{:.3}** | {:.3} | {:.3} |",
            stemmed.queries,
            unseen * 100.0,
            stemmed.recall,
            stemmed.mrr,
            baseline.recall,
            baseline.mrr
        )
        .expect("write");
        writeln!(
            misses,
            "- {code}: {}",
            if stemmed.missed.is_empty() { "none".to_owned() } else { stemmed.missed.join("; ") }
        )
        .expect("write");
        if stemmed.recall < MIN_RECALL {
            failures
                .push(format!("{code} recall@10 {:.3} < {MIN_RECALL}; missed: {:#?}", stemmed.recall, stemmed.missed));
        }
    }
    let block = format!(
        "{BEGIN}\nSearched: {} published Kazakh and {} published Russian texts (demo + WordPress fixtures).\n\n| language | queries | query words not in the article | recall@10 | MRR@10 | recall@10 unstemmed | MRR@10 unstemmed |\n|---|---|---|---|---|---|---|\n{table}\nQueries whose article is not in the top 10:\n\n{misses}{END}",
        count("kk"),
        count("ru")
    );
    check_docs(&block);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `docs/search.md` must carry the current numbers: a stale file fails, `BASPA_BLESS=1` rewrites.
fn check_docs(block: &str) {
    let path = format!("{}/../../docs/search.md", env!("CARGO_MANIFEST_DIR"));
    let current = std::fs::read_to_string(&path).expect("docs/search.md");
    let (Some(start), Some(end)) = (current.find(BEGIN), current.find(END)) else {
        panic!("docs/search.md needs the markers {BEGIN} and {END}");
    };
    let existing = &current[start..end + END.len()];
    if std::env::var_os("BASPA_BLESS").is_some() {
        let updated = format!("{}{block}{}", &current[..start], &current[end + END.len()..]);
        std::fs::write(&path, updated).expect("write docs/search.md");
        return;
    }
    assert_eq!(existing, block, "docs/search.md shows other relevance numbers: run with BASPA_BLESS=1 and commit");
}
