//! Test helpers shared by the integration tests: the news demo (`crates/baspa/demo/news`) as
//! `SearchDoc`s, and a small document builder.

#![allow(dead_code, clippy::expect_used)] // each test binary uses part of this module

use std::collections::HashMap;
use std::path::PathBuf;

use baspa_domain::{ContentStatus, ItemId, ItemKind, LangCode, TranslationId};
use baspa_search::{SearchDoc, SearchIndex};
use serde_json::Value;

/// A fixed "now" so dates and sorting are reproducible.
pub const NOW: i64 = 1_795_000_000;

pub fn demo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../baspa/demo/news")
}

fn read_json(name: &str) -> Value {
    let path = demo_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("demo json")
}

pub fn lang(code: &str) -> LangCode {
    LangCode::parse(code).expect("valid language code")
}

/// One demo translation: the article key (`p01`, `k07`), its language and the document.
pub struct DemoDoc {
    pub key: String,
    pub lang: String,
    pub doc: SearchDoc,
}

/// Every translation of the news demo, numbered in file order. `code_for` maps the demo's
/// language code to the one indexed (the unstemmed baseline uses codes without an analyzer).
pub fn demo_docs(code_for: fn(&str) -> &str) -> Vec<DemoDoc> {
    let structure = read_json("structure.json");
    let section_ids: HashMap<String, i64> = structure["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .enumerate()
        .map(|(i, s)| (s["key"].as_str().expect("key").to_owned(), 1000 + i as i64))
        .collect();
    let tag_titles: HashMap<String, Value> = structure["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| (t["key"].as_str().expect("key").to_owned(), t["title"].clone()))
        .collect();
    let author_names: HashMap<String, Value> = structure["authors"]
        .as_array()
        .expect("authors")
        .iter()
        .map(|a| (a["key"].as_str().expect("key").to_owned(), a["name"].clone()))
        .collect();
    let mut out = Vec::new();
    let mut next_id = 1;
    for (file_index, file) in
        ["articles-paired-1.json", "articles-paired-2.json", "articles-single.json"].iter().enumerate()
    {
        for (article_index, article) in read_json(file).as_array().expect("articles").iter().enumerate() {
            let key = article["key"].as_str().expect("key").to_owned();
            let status = match article["status"].as_str().unwrap_or("published") {
                "published" => ContentStatus::Published,
                "draft" => ContentStatus::Draft,
                "review" => ContentStatus::InReview,
                "scheduled" => ContentStatus::Scheduled,
                other => panic!("unknown demo status {other}"),
            };
            let hours_ago = article["hours_ago"].as_i64().unwrap_or(0);
            for code in ["kk", "ru", "en"] {
                let Some(t) = article.get(code) else { continue };
                let text = |field: &str| t[field].as_str().unwrap_or_default().to_owned();
                let tags = article["tags"]
                    .as_array()
                    .map(|tags| {
                        tags.iter()
                            .filter_map(|k| tag_titles.get(k.as_str()?)?.get(code)?.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let author = article["author"].as_str().and_then(|a| author_names.get(a)?.get(code)?.as_str());
                let doc = SearchDoc {
                    translation_id: TranslationId(next_id),
                    item_id: ItemId((file_index as i64 + 1) * 1000 + article_index as i64),
                    lang: lang(code_for(code)),
                    kind: ItemKind::Article,
                    status,
                    title: text("title"),
                    excerpt: text("excerpt"),
                    body_html: text("body_html"),
                    section_ids: article["section"]
                        .as_str()
                        .and_then(|s| section_ids.get(s))
                        .map(|id| vec![ItemId(*id)])
                        .unwrap_or_default(),
                    tags,
                    author: author.map(str::to_owned),
                    published_at: (status == ContentStatus::Published).then_some(NOW - hours_ago * 3600),
                };
                next_id += 1;
                out.push(DemoDoc { key: key.clone(), lang: code.to_owned(), doc });
            }
        }
    }
    out
}

/// Published posts of the WordPress fixtures (`shared/fixtures/wordpress/{kk,ru}.wxr.xml`,
/// synthetic news on the same topics as the demo), as extra documents that compete with the
/// demo articles in relevance tests. Ids start at `first_id`.
pub fn wordpress_docs(code_for: fn(&str) -> &str, first_id: i64) -> Vec<DemoDoc> {
    let dir = wordpress_fixtures();
    let mut out = Vec::new();
    let mut next_id = first_id;
    for code in ["kk", "ru"] {
        let Ok(xml) = std::fs::read_to_string(dir.join(format!("{code}.wxr.xml"))) else { continue };
        for item in xml.split("<item>").skip(1) {
            let field = |tag: &str| -> String {
                let open = format!("<{tag}>");
                let close = format!("</{tag}>");
                let Some(start) = item.find(&open) else { return String::new() };
                let rest = &item[start + open.len()..];
                let value = rest.find(&close).map_or("", |end| &rest[..end]);
                value.strip_prefix("<![CDATA[").and_then(|v| v.strip_suffix("]]>")).unwrap_or(value).to_owned()
            };
            if field("wp:post_type") != "post" || field("wp:status") != "publish" {
                continue;
            }
            let mut doc = doc(next_id, code_for(code), &field("title"), &field("content:encoded"));
            doc.excerpt = field("excerpt:encoded");
            out.push(DemoDoc { key: format!("wp-{code}-{}", field("wp:post_id")), lang: code.to_owned(), doc });
            next_id += 1;
        }
    }
    out
}

/// An in-memory index holding the given documents, committed.
pub fn index_of(docs: &[DemoDoc]) -> SearchIndex {
    let index = SearchIndex::in_memory().expect("in-memory index");
    for d in docs {
        index.upsert(&d.doc).expect("upsert");
    }
    index.commit().expect("commit");
    index
}

/// A minimal published document.
pub fn doc(id: i64, lang_code: &str, title: &str, body_html: &str) -> SearchDoc {
    SearchDoc {
        translation_id: TranslationId(id),
        item_id: ItemId(id),
        lang: lang(lang_code),
        kind: ItemKind::Article,
        status: ContentStatus::Published,
        title: title.to_owned(),
        excerpt: String::new(),
        body_html: body_html.to_owned(),
        section_ids: Vec::new(),
        tags: Vec::new(),
        author: None,
        published_at: Some(NOW - id * 60),
    }
}

/// The WordPress fixtures folder, which lives outside the repository: `BASPA_FIXTURES_DIR`, else
/// `shared/fixtures/wordpress` next to any ancestor of this crate (a clone may sit anywhere),
/// else `/work/shared/fixtures/wordpress`. Missing fixtures would silently change the relevance
/// numbers, so they stop the test with the places searched.
pub fn wordpress_fixtures() -> PathBuf {
    if let Some(dir) = std::env::var_os("BASPA_FIXTURES_DIR") {
        return PathBuf::from(dir).join("wordpress");
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut candidates: Vec<PathBuf> = manifest.ancestors().map(|a| a.join("shared/fixtures/wordpress")).collect();
    candidates.push(PathBuf::from("/work/shared/fixtures/wordpress"));
    candidates.iter().find(|c| c.join("kk.wxr.xml").is_file()).cloned().unwrap_or_else(|| {
        panic!(
            "the WordPress fixtures are not found; set BASPA_FIXTURES_DIR to the folder holding wordpress/ (searched: {})",
            candidates.iter().map(|c| c.display().to_string()).collect::<Vec<_>>().join(", ")
        )
    })
}
