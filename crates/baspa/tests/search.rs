//! Search wired into the application (WS-2, issue 9) through real HTTP on every backend:
//! publishing makes a text findable by its inflected forms once the jobs run, trash and
//! unpublishing take it away, drafts stay hidden from visitors, a deleted or corrupt index is
//! rebuilt without a single error page, hostile input answers 200, and the language switcher
//! keeps the query (ML-4).

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

use baspa_actions::{Actor, Ctx, NewItemInput, TranslationInput};
use baspa_domain::{ItemId, ItemKind};
use baspa_testkit::app::TestResponse;
use baspa_testkit::builders::{gov_languages, lang, news_languages, published};
use baspa_testkit::{AppOptions, TestApp, spawn_app, spawn_app_with, storage_test};

const SCHOOL_KK: &str = "Ауылдағы мектеп жаңа ғимаратқа көшті";
const SCHOOL_KK_BODY: &str = "<p>Қарағанды облысындағы ауыл мектебінің оқушылары енді жаңа сыныптарда оқиды. \
                              Мектептердің жабдықтары да жаңартылды.</p>";
const SCHOOL_RU: &str = "Сельская школа переехала в новое здание";
const SCHOOL_RU_BODY: &str = "<p>Ученики сельской школы Карагандинской области учатся в новых классах.</p>";

/// A section and the school story in kk and ru, published an hour ago.
async fn school_story(db: &baspa_db::DatabaseConnection) -> (ItemId, ItemId) {
    let at = baspa_domain::time::now() - chrono::Duration::hours(1);
    let section = published(db, ItemKind::Section, None, None, &[("kk", "Білім", ""), ("ru", "Образование", "")], at)
        .await
        .item_id;
    let story = published(
        db,
        ItemKind::Article,
        Some(section),
        None,
        &[("kk", SCHOOL_KK, SCHOOL_KK_BODY), ("ru", SCHOOL_RU, SCHOOL_RU_BODY)],
        at,
    )
    .await
    .item_id;
    (section, story)
}

/// The results list of a search page ("" when there is none).
fn results(res: &TestResponse) -> String {
    let body = res.text();
    match body.find("<ol class=\"results\"") {
        Some(start) => body[start..].split("</ol>").next().unwrap_or_default().to_owned(),
        None => String::new(),
    }
}

async fn search(app: &TestApp, host: &str, path: &str) -> TestResponse {
    let res = app.get(host, path).await;
    assert_eq!(res.status, 200, "{path} on {host}: {}", res.body);
    res
}

/// `q=<text>` form-encoded, as a browser sends the search box.
fn q(text: &str) -> String {
    let mut out = String::from("q=");
    for byte in text.bytes() {
        match byte {
            b' ' => out.push('+'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The page text without Fluent's bidi isolation marks around numbers.
fn plain(res: &TestResponse) -> String {
    res.text().replace(['\u{2068}', '\u{2069}'], "")
}

storage_test!(
    /// WS-2 acceptance: publish → searchable by an inflected Kazakh form (and a Russian one) with
    /// the match marked; trash → gone; unpublishing one language keeps the other findable.
    async fn ws2_published_texts_are_found_by_inflected_forms_and_trash_removes_them(t: TestDb) {
        news_languages(&t.db).await;
        let app = spawn_app(t).await;
        let (_, story) = school_story(&app.db.db).await;
        let before = search(&app, "baq.test", &format!("/search?{}", q("мектептерде"))).await;
        assert!(!results(&before).contains("мектеп"), "nothing is indexed before the jobs run");
        assert!(app.run_pending_jobs().await > 0);

        let kk = search(&app, "baq.test", &format!("/search?{}", q("мектептерде"))).await;
        let found = results(&kk);
        assert!(found.contains("<mark>мектеп</mark>"), "the stem matches and is marked: {found}");
        assert!(found.contains("ғимаратқа көшті"), "{found}");
        assert!(found.contains("href=\"/bilim/"), "the hit links to the article in its section: {found}");
        assert!(kk.body.contains("<meta name=\"robots\" content=\"noindex, follow\">"));
        assert_eq!(kk.header("x-robots-tag"), Some("noindex"));
        let ru = search(&app, "rus.baq.test", &format!("/search?{}", q("школам"))).await;
        assert!(results(&ru).contains("<mark>школа</mark>"), "{}", results(&ru));
        assert!(!results(&ru).contains("мектеп"), "a visitor searches their own language only");

        // Unpublishing the Kazakh version queues `search.remove` for the item: the Russian one
        // must stay findable.
        let actor = Actor::system("test");
        let ctx = Ctx::new(&app.db.db, &actor);
        let created = baspa_db::content::translations_of_item(&app.db.db, story).await.expect("rows");
        let kk_id = created.iter().find(|t| t.lang == "kk").map(|t| baspa_domain::TranslationId(t.id)).expect("kk");
        baspa_actions::unpublish_translation(&ctx, kk_id, None).await.expect("unpublish");
        app.run_pending_jobs().await;
        assert!(!results(&search(&app, "baq.test", &format!("/search?{}", q("мектеп"))).await).contains("ғимарат"));
        assert!(results(&search(&app, "rus.baq.test", &format!("/search?{}", q("школа"))).await).contains("здание"));
        let statuses = app.search.admin_search("мектеп школа", 1).await.expect("admin search");
        let mut statuses: Vec<(&str, &str)> =
            statuses.hits.iter().map(|h| (h.lang.as_str(), h.status.as_str())).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [("kk", "draft"), ("ru", "published")], "the index itself follows the database");

        baspa_actions::trash_item(&ctx, story).await.expect("trash");
        app.run_pending_jobs().await;
        let gone = search(&app, "rus.baq.test", &format!("/search?{}", q("школа"))).await;
        assert_eq!(results(&gone), "", "trashed texts are gone");
        assert!(gone.body.contains("Ничего не найдено"), "the empty result says so");
        let admin = app.search.admin_search("школа", 1).await.expect("admin search");
        assert_eq!(admin.total, 0, "trashed texts leave the admin's search too");
    }
);

storage_test!(
    /// WS-2/CM-1: a draft is indexed for the admin's search (every language, every status) but a
    /// visitor never sees it, not even as a "did you mean" word.
    async fn ws2_drafts_are_found_by_the_admin_and_never_by_visitors(t: TestDb) {
        news_languages(&t.db).await;
        let app = spawn_app(t).await;
        school_story(&app.db.db).await;
        let actor = Actor::system("test");
        let ctx = Ctx::new(&app.db.db, &actor);
        let draft = NewItemInput::new(
            ItemKind::Article,
            vec![TranslationInput::new(lang("kk"), "Құпия жоба туралы жоспар", "<p>Әзірше жарияланбаған жоспар.</p>")],
        );
        baspa_actions::create_item(&ctx, draft).await.expect("draft");
        // A draft queues no job; the first upkeep indexes everything from the database.
        app.run_pending_jobs().await;

        let visitor = search(&app, "baq.test", &format!("/search?{}", q("жоспарлар"))).await;
        assert_eq!(results(&visitor), "", "drafts are not shown to visitors");
        assert!(!visitor.text().contains("Құпия"), "not even in suggestions");
        let typo = search(&app, "baq.test", &format!("/search?{}", q("жоспр"))).await;
        assert!(!typo.text().contains("жоспар"), "no draft word is suggested: {}", typo.text());

        let admin = app.search.admin_search("жоспарлар", 1).await.expect("admin search");
        assert_eq!(admin.total, 1, "{admin:?}");
        assert_eq!(admin.hits[0].status, "draft");
        assert!(admin.hits[0].title_html.contains("<mark>жоспар</mark>"), "{}", admin.hits[0].title_html);
        let both = app.search.admin_search("мектеп школа", 1).await.expect("admin search");
        let langs: Vec<&str> = both.hits.iter().map(|h| h.lang.as_str()).collect();
        assert!(langs.contains(&"kk") && langs.contains(&"ru"), "the admin searches every language: {langs:?}");
    }
);

storage_test!(
    /// WS-2 acceptance: the index directory deleted while the site runs → every search still
    /// answers 200, and the next upkeep rebuilds it from the database; a corrupt index at start-up
    /// is rebuilt the same way.
    async fn ws2_a_deleted_or_corrupt_index_is_rebuilt_without_errors(t: TestDb) {
        news_languages(&t.db).await;
        school_story(&t.db).await;
        let data = tempfile::tempdir().expect("dir");
        let dir = data.path().join("search");
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("meta.json"), "{ not an index").expect("corrupt");
        let options = AppOptions { search_dir: Some(dir.clone()), ..AppOptions::default() };
        let app = spawn_app_with(t, options).await;
        assert!(!app.search.is_complete(), "a corrupt index opens empty and waits for its re-index");
        let waiting = search(&app, "baq.test", &format!("/search?{}", q("мектеп"))).await;
        assert!(waiting.text().contains("Іздеу индексі қазір жаңартылып жатыр"), "a notice, not an error");
        assert_eq!(waiting.header("cache-control"), Some("no-store"), "a partial answer is not cached");
        app.run_pending_jobs().await;
        assert!(results(&search(&app, "baq.test", &format!("/search?{}", q("мектеп"))).await).contains("<mark>"));

        std::fs::remove_dir_all(&dir).expect("delete the index");
        for _ in 0..3 {
            let res = app.get("baq.test", &format!("/search?{}", q("мектептің"))).await;
            assert_eq!(res.status, 200, "searching a deleted index is never an error");
        }
        // A text published while the index is gone is in the rebuilt index too.
        let at = baspa_domain::time::now() - chrono::Duration::minutes(5);
        published(&app.db.db, ItemKind::Article, None, None, &[("kk", "Мектеп кітапханасы ашылды", "")], at).await;
        app.run_pending_jobs().await;
        assert!(dir.join("meta.json").exists(), "the index is back on disk");
        assert!(app.search.is_complete());
        let back = results(&search(&app, "baq.test", &format!("/search?{}", q("мектептің"))).await);
        assert!(back.contains("ғимаратқа") && back.contains("кітапханасы"), "{back}");
    }
);

storage_test!(
    /// WS-2 acceptance: query parsing never errors: quotes, operators, unbalanced brackets,
    /// 2,000-character queries, emoji, SQL and HTML fragments, and junk in every other parameter
    /// answer 200, and nothing is reflected unescaped.
    async fn ws2_hostile_queries_answer_200_and_are_escaped(t: TestDb) {
        gov_languages(&t.db).await;
        let app = spawn_app(t).await;
        school_story(&app.db.db).await;
        app.run_pending_jobs().await;
        let long_word = "ә".repeat(2000);
        let emoji = "😀🇰🇿".repeat(700);
        let queries = [
            "\"",
            "\"мектеп",
            "«мектеп",
            "\"ауыл мектеп\"",
            "AND",
            "мектеп AND OR NOT",
            "((((",
            ")]}>",
            "[мектеп TO *]",
            "title:мектеп^5~2",
            "*",
            "?",
            "\\",
            "-",
            "+мектеп -ауыл",
            long_word.as_str(),
            emoji.as_str(),
            "'; DROP TABLE translations; --",
            "1' OR '1'='1",
            "<script>alert(1)</script>",
            "\"><img src=x onerror=alert(1)>",
            "&lt;b&gt; &amp;",
            "%00%ff",
            "\u{0}\u{7}\u{202e}мектеп",
            "  ",
        ];
        for text in queries {
            for host_path in ["/kk/search", "/ru/search", "/en/search"] {
                let res = app.get("gov.test", &format!("{host_path}?{}", q(text))).await;
                assert_eq!(res.status, 200, "{text:?} on {host_path}");
                assert!(!res.body.contains("<script>alert") && !res.body.contains("<img src=x"), "{text:?} reflected");
            }
        }
        for junk in [
            "q=мектеп&section=abc&type=<x>&from=2026-99-99&to=yesterday&sort=;DROP&page=99999999999999999999",
            "q=мектеп&section=-1&type=section&from=0000-01-01&to=9999-12-31&page=-1",
            "q=%E2%28%A1&q=second&section=99999999&page=0",
            "q",
            "=&&=&q=%%%",
        ] {
            let res = app.get("gov.test", &format!("/kk/search?{junk}")).await;
            assert_eq!(res.status, 200, "{junk}");
        }
        let raw = app.get("gov.test", "/kk/search?q=мектеп%20\"ауыл").await;
        assert_eq!(raw.status, 200);
        assert!(results(&raw).contains("<mark>"), "an unpaired quote degrades to words");
    }
);

storage_test!(
    /// ML-4: on the search page the language switcher leads to the same search in the other
    /// language (path-prefix languages); the header's search box is on every page and targets
    /// the language's own `/search`.
    async fn ml4_the_switcher_keeps_the_query_with_path_prefixes(t: TestDb) {
        gov_languages(&t.db).await;
        let app = spawn_app(t).await;
        let kk = search(&app, "gov.test", "/kk/search?q=%D0%BC%D0%B5%D0%BA%D1%82%D0%B5%D0%BF&sort=date&page=2").await;
        let text = kk.text();
        for code in ["ru", "en"] {
            let href = format!(
                "href=\"http://gov.test/{code}/search?q=%D0%BC%D0%B5%D0%BA%D1%82%D0%B5%D0%BF&sort=date&lang={code}\""
            );
            assert!(text.contains(&href), "{href} in {text}");
        }
        assert!(text.contains("value=\"мектеп\""), "the box shows the query");
        let home = app.get("gov.test", "/ru/").await;
        assert!(home.text().contains("action=\"/ru/search\""), "the search box is on every page");
        assert!(home.text().contains("<label class=\"vh\" for=\"site-search\">Поиск по сайту</label>"));
    }
);

storage_test!(
    /// ML-4 with a host per language: the switcher on `rus.baq.test/search` leads to
    /// `baq.test/search` with the same query.
    async fn ml4_the_switcher_keeps_the_query_with_language_hosts(t: TestDb) {
        news_languages(&t.db).await;
        let app = spawn_app(t).await;
        let ru = search(&app, "rus.baq.test", "/search?q=%D1%88%D0%BA%D0%BE%D0%BB%D0%B0+2026").await;
        let href = "href=\"http://baq.test/search?q=%D1%88%D0%BA%D0%BE%D0%BB%D0%B0+2026&lang=kk\"";
        assert!(ru.text().contains(href), "{}", ru.text());
        assert!(app.get("baq.test", "/").await.text().contains("action=\"/search\""));
        let empty = search(&app, "rus.baq.test", "/search").await;
        assert!(empty.text().contains("href=\"http://baq.test/search?lang=kk\""), "{}", empty.text());
        assert!(empty.text().contains("Введите слово или фразу для поиска."));
    }
);

storage_test!(
    /// WS-2: filters (section, type, date range), newest-first order, pages of ten, "did you
    /// mean" for a typo, and a zero-result page that offers the latest texts and the sections.
    async fn ws2_filters_sort_pages_and_did_you_mean(t: TestDb) {
        gov_languages(&t.db).await;
        let now = baspa_domain::time::now();
        let day = chrono::Duration::days(1);
        let sport = published(&t.db, ItemKind::Section, None, None, &[("kk", "Спорт", "")], now - day * 30).await;
        let news = published(&t.db, ItemKind::Section, None, None, &[("kk", "Жаңалықтар", "")], now - day * 30).await;
        for n in 1..=11 {
            let title = format!("Футбол турнирі: {n}-тур");
            published(
                &t.db,
                ItemKind::Article,
                Some(sport.item_id),
                None,
                &[("kk", &title, "<p>Ойын өтті.</p>")],
                now - day * n,
            )
            .await;
        }
        published(
            &t.db,
            ItemKind::Article,
            Some(news.item_id),
            None,
            &[("kk", "Футболшылар марапатталды", "")],
            now - day * 20,
        )
        .await;
        published(&t.db, ItemKind::Page, None, None, &[("kk", "Футбол клубы туралы", "")], now - day * 25).await;
        let app = spawn_app(t).await;
        app.run_pending_jobs().await;

        let all = search(&app, "gov.test", &format!("/kk/search?{}", q("футбол"))).await;
        assert!(plain(&all).contains("13 нәтиже табылды"), "{}", plain(&all));
        assert!(all.text().contains("href=\"/kk/search?q=%D1%84%D1%83%D1%82%D0%B1%D0%BE%D0%BB&page=2\" rel=\"next\""));
        let second = search(&app, "gov.test", &format!("/kk/search?{}&page=2", q("футбол"))).await;
        assert_eq!(results(&second).matches("<li>").count(), 3);
        assert!(second.text().contains("<ol class=\"results\" start=\"11\">"));

        let in_news = search(&app, "gov.test", &format!("/kk/search?{}&section={}", q("футбол"), news.item_id)).await;
        assert_eq!(results(&in_news).matches("<li>").count(), 1);
        assert!(results(&in_news).contains("марапатталды"));
        assert!(in_news.text().contains(&format!("<option value=\"{}\" selected>Жаңалықтар</option>", news.item_id)));
        let pages = search(&app, "gov.test", &format!("/kk/search?{}&type=page", q("футбол"))).await;
        assert!(results(&pages).contains("клубы туралы") && results(&pages).matches("<li>").count() == 1);

        let from = (now - day * 3).with_timezone(&chrono::FixedOffset::east_opt(5 * 3600).expect("kz")).date_naive();
        let recent = search(&app, "gov.test", &format!("/kk/search?{}&from={from}&sort=date", q("футбол"))).await;
        let listed = results(&recent);
        assert_eq!(listed.matches("<li>").count(), 3, "{listed}");
        let (first, second_hit) = (listed.find("1-тур").expect("newest"), listed.find("2-тур").expect("next"));
        assert!(first < second_hit, "newest first");
        let to = (now - day * 19).with_timezone(&chrono::FixedOffset::east_opt(5 * 3600).expect("kz")).date_naive();
        let old = search(&app, "gov.test", &format!("/kk/search?{}&to={to}", q("футбол"))).await;
        assert!(results(&old).contains("марапатталды") && results(&old).contains("клубы"));
        assert!(!results(&old).contains("турнирі"), "{}", results(&old));

        let typo = search(&app, "gov.test", &format!("/kk/search?{}", q("турнрі"))).await;
        assert!(
            typo.text().contains("Мүмкін, сіз мұны іздедіңіз: <a href=\"/kk/search?q=%D1%82%D1%83%D1%80%D0%BD%D0%B8%D1%80%D1%96\">турнирі</a>"),
            "{}",
            typo.text()
        );
        let nothing = search(&app, "gov.test", &format!("/kk/search?{}", q("волейбол"))).await;
        let text = nothing.text();
        assert!(text.contains("Ештеңе табылмады") && text.contains("Соңғы материалдар"), "{text}");
        assert!(text.contains("1-тур") && text.contains("<ul class=\"search-sections\">"), "latest texts and sections");
    }
);
