//! Search benchmark (`bench/search.sh`): generates N articles per language (Kazakh and Russian)
//! from the news demo's vocabulary, builds an on-disk index, and reports build time, index size
//! and query latency percentiles. Prints one JSON line on stdout, progress on stderr.
//!
//! Usage: `search_bench [ARTICLES_PER_LANGUAGE] [--queries Q] [--dir DIR] [--words W]`
//! (defaults 100000, 1000, a fresh directory under /tmp that is removed afterwards, 250).

#![allow(clippy::expect_used)] // a benchmark stops at the first failure; it is not shipped code

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use baspa_domain::{ContentStatus, ItemId, ItemKind, LangCode, TranslationId};
use baspa_search::{IndexOptions, SearchDoc, SearchIndex, SearchQuery, html_to_text};

/// A small deterministic generator (xorshift64*), so runs are comparable without a rand crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// An index skewed towards the start, like word frequencies (rank ~ Zipf-ish).
    fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((n as f64).powf(u) - 1.0) as usize
    }
}

struct Args {
    per_language: usize,
    queries: usize,
    dir: Option<PathBuf>,
    words: usize,
}

fn args() -> Args {
    let mut out = Args { per_language: 100_000, queries: 1000, dir: None, words: 250 };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--queries" => out.queries = it.next().and_then(|v| v.parse().ok()).expect("--queries N"),
            "--dir" => out.dir = Some(PathBuf::from(it.next().expect("--dir PATH"))),
            "--words" => out.words = it.next().and_then(|v| v.parse().ok()).expect("--words N"),
            n => out.per_language = n.parse().expect("ARTICLES_PER_LANGUAGE must be a number"),
        }
    }
    out
}

/// Words of the demo texts in one language, most frequent first.
fn vocabulary(code: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../baspa/demo/news");
    let mut counts: HashMap<String, usize> = HashMap::new();
    for file in ["articles-paired-1.json", "articles-paired-2.json", "articles-single.json"] {
        let text = std::fs::read_to_string(dir.join(file)).expect("demo file");
        let articles: serde_json::Value = serde_json::from_str(&text).expect("demo json");
        for article in articles.as_array().expect("array") {
            let Some(t) = article.get(code) else { continue };
            let all = format!(
                "{} {} {}",
                t["title"].as_str().unwrap_or_default(),
                t["excerpt"].as_str().unwrap_or_default(),
                html_to_text(t["body_html"].as_str().unwrap_or_default())
            );
            for word in all.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= 2) {
                *counts.entry(word.to_lowercase()).or_default() += 1;
            }
        }
    }
    let mut words: Vec<(String, usize)> = counts.into_iter().collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    words.into_iter().map(|(w, _)| w).collect()
}

fn sentence(rng: &mut Rng, vocab: &[String], words: usize) -> String {
    let mut out = String::new();
    for i in 0..words {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&vocab[rng.skewed(vocab.len())]);
    }
    out
}

fn article(rng: &mut Rng, vocab: &[String], id: i64, code: &str, words: usize) -> SearchDoc {
    let paragraphs: Vec<String> =
        (0..words.div_ceil(50)).map(|_| format!("<p>{}.</p>", sentence(rng, vocab, 50))).collect();
    SearchDoc {
        translation_id: TranslationId(id),
        item_id: ItemId(id),
        lang: LangCode::parse(code).expect("code"),
        kind: ItemKind::Article,
        status: ContentStatus::Published,
        title: sentence(rng, vocab, 8),
        excerpt: sentence(rng, vocab, 20),
        body_html: paragraphs.join(""),
        section_ids: vec![ItemId(1 + (id % 11))],
        tags: vec![vocab[rng.below(200.min(vocab.len()))].clone()],
        author: Some("Автор".to_owned()),
        published_at: Some(1_700_000_000 + id * 60),
    }
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("list index dir")
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn main() {
    let args = args();
    let temp = args.dir.is_none();
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("baspa-search-bench-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir);
    let vocab: Vec<(&str, Vec<String>)> = vec![("kk", vocabulary("kk")), ("ru", vocabulary("ru"))];
    eprintln!("vocabulary: kk {} words, ru {} words", vocab[0].1.len(), vocab[1].1.len());

    let opened = SearchIndex::open_with(&dir, IndexOptions { writer_threads: 2, writer_memory_bytes: 200_000_000 })
        .expect("open index");
    let index = opened.index;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let started = Instant::now();
    let mut id = 0;
    for n in 0..args.per_language {
        for (code, words) in &vocab {
            id += 1;
            index.upsert(&article(&mut rng, words, id, code, args.words)).expect("upsert");
        }
        if (n + 1) % 10_000 == 0 {
            eprintln!("{} articles per language added ({:.0} s)", n + 1, started.elapsed().as_secs_f64());
        }
    }
    index.commit().expect("commit");
    // What `baspa search reindex` does after a full build: one segment to search.
    index.merge_all().expect("merge");
    let build = started.elapsed();
    let size = dir_size(&dir);
    eprintln!("built {} documents in {:.1} s, {:.1} MB", index.num_docs(), build.as_secs_f64(), size as f64 / 1e6);

    // Queries: 1-3 words from the middle of the frequency list (common words would match
    // everything, rare ones nothing), alternating languages; every 20th has a typo.
    let mut latencies = Vec::with_capacity(args.queries);
    let mut total_hits = 0usize;
    let mut suggestions = 0usize;
    for q in 0..args.queries {
        let (code, words) = &vocab[q % 2];
        let band = &words[words.len().min(50)..words.len().min(3000)];
        let count = 1 + rng.below(3);
        let mut text: Vec<String> = (0..count).map(|_| band[rng.below(band.len())].clone()).collect();
        if q % 20 == 0
            && let Some(first) = text.first_mut()
        {
            let mut chars: Vec<char> = first.chars().collect();
            if chars.len() > 3 {
                chars.swap(1, 2);
            }
            *first = chars.into_iter().collect();
        }
        let query = SearchQuery::visitor(LangCode::parse(code).expect("code"), text.join(" "));
        let t = Instant::now();
        let results = index.search(&query).expect("search");
        latencies.push(t.elapsed());
        total_hits += results.total;
        suggestions += usize::from(results.did_you_mean.is_some());
    }
    latencies.sort();
    let mean = latencies.iter().map(Duration::as_secs_f64).sum::<f64>() / latencies.len().max(1) as f64 * 1000.0;
    println!(
        "{{\"articles_per_language\":{},\"documents\":{},\"words_per_body\":{},\"build_s\":{:.1},\"docs_per_s\":{:.0},\"index_mb\":{:.1},\"queries\":{},\"p50_ms\":{:.2},\"p95_ms\":{:.2},\"p99_ms\":{:.2},\"mean_ms\":{:.2},\"mean_total_hits\":{:.0},\"suggestions\":{}}}",
        args.per_language,
        index.num_docs(),
        args.words,
        build.as_secs_f64(),
        index.num_docs() as f64 / build.as_secs_f64(),
        size as f64 / 1e6,
        latencies.len(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.95),
        percentile(&latencies, 0.99),
        mean,
        total_hits as f64 / args.queries.max(1) as f64,
        suggestions
    );
    drop(index);
    if temp {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
