//! Behaviour of `SearchIndex` (WS-2): writes become visible, hostile text never errors, filters
//! and sorting hold, highlighted HTML is safe, and a broken index directory heals itself.

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

mod common;

use baspa_domain::{ContentStatus, ItemId, ItemKind, TranslationId};
use baspa_search::{SearchIndex, SearchQuery, SearchResults, SortOrder, StatusFilter};
use common::{NOW, doc, lang};

fn search(index: &SearchIndex, code: &str, text: &str) -> SearchResults {
    index.search(&SearchQuery::visitor(lang(code), text)).expect("search never fails on text")
}

fn ids(results: &SearchResults) -> Vec<i64> {
    results.hits.iter().map(|h| h.translation_id.0).collect()
}

fn small_index() -> SearchIndex {
    let index = SearchIndex::in_memory().expect("index");
    let mut kk = doc(
        1,
        "kk",
        "Шымкентте жаңа мектеп ашылды",
        "<p>Қаратау ауданындағы <b>мектепте</b> оқушылар білім алады.</p>",
    );
    kk.tags = vec!["Мектептер".to_owned()];
    index.upsert(&kk).expect("upsert");
    index
        .upsert(&doc(2, "ru", "В Шымкенте открылась новая школа", "<p>Учеников в школе примут со второй четверти.</p>"))
        .expect("upsert");
    index.upsert(&doc(3, "kk", "Астанада бюджет бекітілді", "<p>Мәслихат қала бюджетін бекітті.</p>")).expect("upsert");
    index.upsert(&doc(4, "en", "Schools open in Shymkent", "<p>The new school admits pupils.</p>")).expect("upsert");
    index.commit().expect("commit");
    index
}

#[test]
fn ws2_an_upserted_text_is_found_by_an_inflected_form_and_deleted_texts_are_gone() {
    let index = small_index();
    assert_eq!(ids(&search(&index, "kk", "мектептердің")), [1]);
    assert_eq!(ids(&search(&index, "ru", "школами")), [2]);
    assert_eq!(ids(&search(&index, "en", "school")), [4]);

    index.delete(TranslationId(1)).expect("delete");
    index.commit().expect("commit");
    assert!(search(&index, "kk", "мектептердің").hits.is_empty());
    assert_eq!(index.num_docs(), 3);
}

#[test]
fn pf_merging_after_a_bulk_build_keeps_every_text_findable() {
    let index = small_index();
    // More commits, more segments: the state a full re-index leaves behind.
    for id in 10..14 {
        index.upsert(&doc(id, "kk", &format!("Мектеп жаңалығы {id}"), "<p>Мектептерде жөндеу.</p>")).expect("upsert");
        index.commit().expect("commit");
    }
    let before = ids(&search(&index, "kk", "мектептердің")).len();
    index.merge_all().expect("merge");
    assert_eq!(index.segment_count().expect("segments"), 1);
    assert_eq!(ids(&search(&index, "kk", "мектептердің")).len(), before);
    assert_eq!(index.num_docs(), 8);
}

#[test]
fn ws2_upsert_replaces_the_previous_version() {
    let index = small_index();
    index.upsert(&doc(3, "kk", "Астанада жаңа саябақ ашылды", "<p>Саябақ.</p>")).expect("upsert");
    index.commit().expect("commit");
    assert!(search(&index, "kk", "бюджет").hits.is_empty(), "the old text is gone");
    assert_eq!(ids(&search(&index, "kk", "саябақтар")), [3]);
    assert_eq!(index.num_docs(), 4, "replaced, not added");
}

#[test]
fn ws2_a_search_stays_in_its_language() {
    let index = small_index();
    assert!(search(&index, "ru", "мектеп").hits.is_empty());
    assert!(search(&index, "kk", "школа").hits.is_empty());
}

#[test]
fn ws2_hostile_queries_give_results_or_nothing_but_never_an_error() {
    let index = small_index();
    let long = "мектеп ".repeat(400);
    let hostile = [
        "",
        "   ",
        "\"",
        "\"мектеп",
        "мектеп\"\"\"",
        "\"\"",
        "((мектеп",
        "мектеп))) AND OR NOT",
        "AND",
        "OR OR OR",
        "title:мектеп",
        "мектеп~2^3",
        "*",
        "?",
        "мек*",
        "[1 TO 5]",
        "{!}",
        "-мектеп +ауыл",
        "' OR 1=1; DROP TABLE translations; --",
        "<script>alert(1)</script>",
        "</mark><img src=x onerror=alert(1)>",
        "😀🇰🇿🙂",
        "мектеп 😀",
        "\u{0}\u{1}\u{7f}",
        "\u{202e}мектеп",
        "\\",
        "мектеп\\",
        "&amp;&lt;",
        &long,
        &"а".repeat(2000),
        &"ы".repeat(5000),
    ];
    for text in hostile {
        for code in ["kk", "ru", "en", "de"] {
            let results = index.search(&SearchQuery::visitor(lang(code), text));
            assert!(results.is_ok(), "{code} {text:?} failed: {results:?}");
        }
        assert!(index.search(&SearchQuery::admin(text)).is_ok(), "admin {text:?}");
    }
    assert_eq!(ids(&search(&index, "kk", "((мектеп")), [1], "brackets are ignored, the word is searched");
    assert_eq!(ids(&search(&index, "kk", "\"мектеп")), [1], "an unpaired quote is ignored");
    assert!(search(&index, "kk", &long).total >= 1, "a long query is cut, not rejected");
}

#[test]
fn ws2_quoted_phrases_must_occur_together() {
    let index = small_index();
    assert_eq!(ids(&search(&index, "kk", "\"жаңа мектеп\"")), [1]);
    assert!(search(&index, "kk", "\"мектеп жаңа\"").hits.is_empty(), "order matters inside quotes");
    assert_eq!(ids(&search(&index, "kk", "«жаңа мектептер»")), [1], "phrase words are stemmed too");
}

#[test]
fn ws2_highlights_are_escaped_html_with_marks_only() {
    let index = SearchIndex::in_memory().expect("index");
    index
        .upsert(&doc(1, "kk", "Мектеп <script>alert(1)</script> & «жаңа»", "<p>Жаңа мектепте &lt;b&gt; оқиды.</p>"))
        .expect("upsert");
    index.commit().expect("commit");
    let results = search(&index, "kk", "мектептер");
    let hit = &results.hits[0];
    assert_eq!(hit.title_html, "<mark>Мектеп</mark> &lt;script&gt;alert(1)&lt;/script&gt; &amp; «жаңа»");
    assert!(hit.snippet_html.contains("<mark>мектепте</mark>"), "{}", hit.snippet_html);
    assert!(hit.snippet_html.contains("&lt;b&gt;"), "{}", hit.snippet_html);
    let without_marks = hit.snippet_html.replace("<mark>", "").replace("</mark>", "");
    assert!(!without_marks.contains('<'), "{}", hit.snippet_html);
}

#[test]
fn ws2_visitors_see_published_texts_only_and_the_admin_sees_all_languages_and_statuses() {
    let index = small_index();
    let mut draft = doc(5, "kk", "Жаңа мектеп жобасы", "<p>Жоба.</p>");
    draft.status = ContentStatus::Draft;
    draft.published_at = None;
    index.upsert(&draft).expect("upsert");
    index.commit().expect("commit");
    assert_eq!(ids(&search(&index, "kk", "мектеп")), [1]);

    let admin = index.search(&SearchQuery::admin("мектеп")).expect("admin");
    let mut found = ids(&admin);
    found.sort_unstable();
    assert_eq!(found, [1, 5]);
    let admin_ru = index.search(&SearchQuery::admin("школа")).expect("admin");
    assert_eq!(ids(&admin_ru), [2], "admin mode analyses the text for every language");

    let mut drafts_only = SearchQuery::admin("мектеп");
    drafts_only.filters.statuses = StatusFilter::Only(vec![ContentStatus::Draft]);
    assert_eq!(ids(&index.search(&drafts_only).expect("search")), [5]);
}

#[test]
fn ws2_filters_by_section_kind_and_date() {
    let index = SearchIndex::in_memory().expect("index");
    for (id, section, kind, age_days) in
        [(1, 10, ItemKind::Article, 1), (2, 20, ItemKind::Article, 10), (3, 10, ItemKind::Document, 30)]
    {
        let mut d = doc(id, "kk", "Мектеп жаңалығы", "<p>Мектеп.</p>");
        d.section_ids = vec![ItemId(section), ItemId(99)];
        d.kind = kind;
        d.published_at = Some(NOW - age_days * 86_400);
        index.upsert(&d).expect("upsert");
    }
    index.commit().expect("commit");
    let base = SearchQuery::visitor(lang("kk"), "мектеп");
    let run = |q: &SearchQuery| {
        let mut found = ids(&index.search(q).expect("search"));
        found.sort_unstable();
        found
    };
    let mut q = base.clone();
    q.filters.sections = vec![ItemId(10)];
    assert_eq!(run(&q), [1, 3]);
    let mut q = base.clone();
    q.filters.kinds = vec![ItemKind::Document];
    assert_eq!(run(&q), [3]);
    let mut q = base.clone();
    q.filters.published_from = Some(NOW - 15 * 86_400);
    assert_eq!(run(&q), [1, 2]);
    let mut q = base.clone();
    q.filters.published_until = Some(NOW - 15 * 86_400);
    assert_eq!(run(&q), [3]);
}

#[test]
fn ws2_sorting_by_date_puts_the_newest_first_and_pages_split_the_hits() {
    let index = SearchIndex::in_memory().expect("index");
    for id in 1..=25 {
        let mut d = doc(id, "ru", &format!("Новость о школах номер {id}"), "<p>Школа.</p>");
        d.published_at = Some(NOW - (id % 7) * 3_600 - id);
        index.upsert(&d).expect("upsert");
    }
    index.commit().expect("commit");
    let mut q = SearchQuery::visitor(lang("ru"), "школа");
    q.sort = SortOrder::Newest;
    q.per_page = 10;
    let first = index.search(&q).expect("search");
    assert_eq!(first.total, 25);
    let dates: Vec<i64> = first.hits.iter().map(|h| h.published_at.expect("date")).collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "{dates:?}");
    q.page = 3;
    let third = index.search(&q).expect("search");
    assert_eq!(third.hits.len(), 5);
    q.page = 50;
    assert!(index.search(&q).expect("search").hits.is_empty());
}

#[test]
fn ws2_did_you_mean_respells_unknown_words_from_published_texts() {
    let index = small_index();
    let mut secret = doc(9, "kk", "Құпиякелісім", "<p>Құпиякелісім.</p>");
    secret.status = ContentStatus::Draft;
    index.upsert(&secret).expect("upsert");
    index.commit().expect("commit");

    let results = search(&index, "kk", "мектпе");
    assert_eq!(results.did_you_mean.as_deref(), Some("мектеп"));
    let results = search(&index, "ru", "шкила");
    assert_eq!(results.did_you_mean.as_deref(), Some("школа"));
    assert_eq!(search(&index, "kk", "мектеп").did_you_mean, None, "known words are not respelled");
    assert_eq!(search(&index, "kk", "құпиякелісімм").did_you_mean, None, "draft words are never suggested");
}

fn open(dir: &std::path::Path) -> baspa_search::Opened {
    SearchIndex::open(dir).expect("open never fails on a usable directory")
}

fn one_doc_index(dir: &std::path::Path) {
    let opened = open(dir);
    opened.index.upsert(&doc(1, "kk", "Ауыл мектебі", "<p>Ауыл.</p>")).expect("upsert");
    opened.index.commit().expect("commit");
}

#[test]
fn ws2_a_missing_index_is_created_and_reported_as_rebuilt_and_a_healthy_one_is_reused() {
    let data = tempfile::tempdir().expect("tempdir");
    let dir = baspa_search::index_dir(data.path());
    let first = open(&dir);
    assert!(first.rebuilt, "a new index must be fed");
    first.index.upsert(&doc(1, "kk", "Ауыл мектебі", "<p>Ауыл.</p>")).expect("upsert");
    first.index.commit().expect("commit");
    drop(first);

    let second = open(&dir);
    assert!(!second.rebuilt, "{:?}", second.rebuild_reason);
    assert_eq!(ids(&search(&second.index, "kk", "мектептер")), [1]);
}

#[test]
fn ws2_garbage_in_meta_json_rebuilds_an_empty_working_index() {
    let dir = tempfile::tempdir().expect("tempdir");
    one_doc_index(dir.path());
    std::fs::write(dir.path().join("meta.json"), b"{ not json at all \xff").expect("corrupt");
    std::fs::write(dir.path().join("notes.txt"), b"not ours").expect("foreign file");

    let reopened = open(dir.path());
    assert!(reopened.rebuilt);
    assert!(reopened.rebuild_reason.is_some());
    assert_eq!(reopened.index.num_docs(), 0);
    reopened.index.upsert(&doc(2, "kk", "Қала кітапханасы", "<p>Кітап.</p>")).expect("upsert");
    reopened.index.commit().expect("commit");
    assert_eq!(ids(&search(&reopened.index, "kk", "кітапханалар")), [2]);
    assert!(dir.path().join("notes.txt").exists(), "files that are not the index's are left alone");
}

#[test]
fn ws2_missing_segment_files_or_a_deleted_directory_rebuild_the_index() {
    let dir = tempfile::tempdir().expect("tempdir");
    one_doc_index(dir.path());
    for entry in std::fs::read_dir(dir.path()).expect("list").flatten() {
        if entry.path().extension().is_some_and(|e| e == "idx" || e == "store") {
            std::fs::remove_file(entry.path()).expect("remove segment file");
        }
    }
    let reopened = open(dir.path());
    assert!(reopened.rebuilt);
    assert!(search(&reopened.index, "kk", "мектеп").hits.is_empty());
    drop(reopened);

    std::fs::remove_dir_all(dir.path()).expect("remove dir");
    let recreated = open(dir.path());
    assert!(recreated.rebuilt);
    recreated.index.upsert(&doc(3, "ru", "Школа", "<p>Школа.</p>")).expect("upsert");
    recreated.index.commit().expect("commit");
    assert_eq!(ids(&search(&recreated.index, "ru", "школы")), [3]);
}

#[test]
fn ws2_a_second_writer_on_the_same_directory_is_refused_but_may_search() {
    let dir = tempfile::tempdir().expect("tempdir");
    let writer = open(dir.path());
    writer.index.upsert(&doc(1, "kk", "Ауыл мектебі", "<p>Ауыл.</p>")).expect("upsert");
    writer.index.commit().expect("commit");

    let reader = open(dir.path());
    assert!(!reader.rebuilt);
    assert_eq!(ids(&search(&reader.index, "kk", "мектеп")), [1]);
    let refused = reader.index.upsert(&doc(2, "kk", "Екінші", "<p>.</p>"));
    assert!(matches!(refused, Err(baspa_search::SearchError::Locked)), "{refused:?}");
}

#[test]
fn ws2_deleting_an_item_removes_all_its_translations() {
    let index = SearchIndex::in_memory().expect("index");
    let mut kk = doc(1, "kk", "Мектеп", "<p>Мектеп.</p>");
    let mut ru = doc(2, "ru", "Школа", "<p>Школа.</p>");
    kk.item_id = ItemId(77);
    ru.item_id = ItemId(77);
    index.upsert(&kk).expect("upsert");
    index.upsert(&ru).expect("upsert");
    index.upsert(&doc(3, "kk", "Мектеп", "<p>Басқа.</p>")).expect("upsert");
    index.commit().expect("commit");
    index.delete_item(ItemId(77)).expect("delete item");
    index.commit().expect("commit");
    assert_eq!(ids(&index.search(&SearchQuery::admin("мектеп школа")).expect("search")), [3]);
}

#[test]
fn ws2_the_feed_position_is_committed_with_the_index_and_survives_a_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opened = open(dir.path());
    assert_eq!(opened.index.committed_position().expect("position"), None);
    opened.index.upsert(&doc(1, "kk", "Ауыл", "<p>Ауыл.</p>")).expect("upsert");
    opened.index.commit_at("job:41").expect("commit");
    drop(opened);
    let reopened = open(dir.path());
    assert_eq!(reopened.index.committed_position().expect("position").as_deref(), Some("job:41"));
}

#[test]
fn ws2_one_index_can_be_shared_between_request_handlers() {
    fn shareable<T: Send + Sync>() {}
    shareable::<SearchIndex>();
    let index = std::sync::Arc::new(small_index());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let index = std::sync::Arc::clone(&index);
            std::thread::spawn(move || search(&index, "kk", "мектептерде").total)
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().expect("thread"), 1);
    }
}
