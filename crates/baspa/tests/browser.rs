//! Browser journeys in a real Chromium (issue 3 acceptance): the language switcher from a Kazakh
//! article to its Russian translation, the notice on an untranslated one, and an axe-core
//! accessibility check (WCAG 2.1 A/AA rules) of every page in the demo's sitemaps.

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

use std::collections::HashSet;

use baspa_db::content::{self as store, EntryFilter};
use baspa_testkit::browser::Browser;
use baspa_testkit::{Backend, TestDb, spawn_app};
use serde_json::json;

const AXE: &str = include_str!("../../../vendor/axe-core/axe.min.js");

/// The `<loc>` URLs of one sitemap, fetched with the given `Host`.
async fn sitemap_pages(app: &baspa_testkit::TestApp, host: &str, path: &str) -> Vec<String> {
    let sitemap = app.get(host, path).await;
    assert_eq!(sitemap.status, 200, "{host}{path}");
    let doc = roxmltree::Document::parse(&sitemap.body).expect("sitemap");
    doc.descendants().filter(|n| n.has_tag_name("loc")).filter_map(|n| n.text()).map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ml4_browser_switches_languages_and_every_demo_page_passes_axe() {
    let Some(browser) = Browser::start().await else { return };
    let db = TestDb::create(Backend::Sqlite).await.expect("sqlite");
    let app = spawn_app(db).await;
    baspa::demo::seed(&app.db.db, &app.media_dir, baspa::cli::Profile::News).await.expect("seed demo");
    let port = app.addr.port();
    let kk_base = format!("http://baq.localhost:{port}");
    let ru_base = format!("http://rus.baq.localhost:{port}");

    // Articles with and without a Russian version, from the database.
    let kk = store::published_entries(&app.db.db, "kk", &EntryFilter { limit: 500, ..Default::default() })
        .await
        .expect("kk");
    let ru = store::published_entries(&app.db.db, "ru", &EntryFilter { limit: 500, ..Default::default() })
        .await
        .expect("ru");
    let ru_items: HashSet<i64> = ru.iter().map(|(t, _)| t.item_id).collect();
    let paired_slugs: HashSet<String> =
        kk.iter().filter(|(t, _)| ru_items.contains(&t.item_id)).map(|(t, _)| t.slug.clone()).collect();

    // Journey 1: kk home → an article that has a translation → switch to Russian.
    browser.goto(&format!("{kk_base}/")).await;
    let hrefs = browser
        .execute(
            "return Array.from(document.querySelectorAll('.card h3 a')).map(a => a.getAttribute('href'))",
            json!([]),
        )
        .await;
    let href = hrefs
        .as_array()
        .expect("links")
        .iter()
        .filter_map(|h| h.as_str())
        .find(|h| h.rsplit('/').next().is_some_and(|slug| paired_slugs.contains(slug)))
        .expect("a translated article on the home page")
        .to_owned();
    let link = browser.find(&format!(".card h3 a[href=\"{href}\"]")).await;
    browser.click(&link).await;
    assert_eq!(browser.current_url().await, format!("{kk_base}{href}"));
    let kk_slug = href.rsplit('/').next().expect("slug");
    let item_id = kk.iter().find(|(t, _)| t.slug == kk_slug).map(|(t, _)| t.item_id).expect("item");
    let ru_title = ru.iter().find(|(t, _)| t.item_id == item_id).map(|(t, _)| t.title.clone()).expect("ru title");
    let switch = browser.find("nav.langs a[hreflang=\"ru-KZ\"]").await;
    browser.click(&switch).await;
    let landed = browser.current_url().await;
    assert!(landed.starts_with(&format!("{ru_base}/")), "{landed}");
    let h1 = browser.find("main h1").await;
    assert_eq!(browser.text(&h1).await, ru_title);

    // Journey 2: an article without a Russian version → the switcher lands on its section in
    // Russian, which says so.
    let (untranslated, untranslated_item) =
        kk.iter().find(|(t, _)| !ru_items.contains(&t.item_id)).expect("a kk-only article");
    let section_path = {
        let page = app.get(&format!("baq.localhost:{port}"), "/").await;
        let needle = format!("/{}\"", untranslated.slug);
        let text = page.text();
        let at = text.find(&needle);
        at.and_then(|i| text[..i].rfind("href=\"").map(|start| text[start + 6..i + needle.len() - 1].to_owned()))
    };
    let path = match section_path {
        Some(p) => p,
        None => {
            let sections =
                store::translations_of_items(&app.db.db, &[untranslated_item.section_id.expect("section")], true)
                    .await
                    .expect("section");
            format!("/{}/{}", sections.iter().find(|s| s.lang == "kk").expect("kk section").slug, untranslated.slug)
        }
    };
    browser.goto(&format!("{kk_base}{path}")).await;
    let switch = browser.find("nav.langs a[hreflang=\"ru-KZ\"]").await;
    browser.click(&switch).await;
    let notice = browser.find("main .notice").await;
    assert!(browser.text(&notice).await.contains("Этого материала нет на выбранном языке"));

    // Accessibility: every page of the news demo (both sitemaps plus the listing pages that
    // sitemaps leave out) and of the gov demo, WCAG 2.1 A and AA rules.
    browser.call_timeouts().await;
    let mut pages = Vec::new();
    for (host, sitemap) in
        [(format!("baq.localhost:{port}"), "/sitemap-kk.xml"), (format!("rus.baq.localhost:{port}"), "/sitemap-ru.xml")]
    {
        pages.extend(sitemap_pages(&app, &host, sitemap).await);
    }
    assert!(pages.len() > 150, "{} pages", pages.len());
    let mut listings = Vec::new();
    for user in baspa_db::users::list(&app.db.db).await.expect("users") {
        let slug = baspa_domain::Slug::from_title(&user.display_name, "kk").expect("slug");
        if app.get(&format!("baq.localhost:{port}"), &format!("/author/{slug}")).await.status == 200 {
            listings.push(format!("{kk_base}/author/{slug}"));
        }
    }
    assert!(listings.len() >= 3, "author pages: {listings:?}");
    let kz_now = baspa_domain::time::now().with_timezone(&chrono::FixedOffset::east_opt(5 * 3600).expect("offset"));
    listings.push(format!("{ru_base}/archive/{}/", kz_now.format("%Y/%m")));
    listings.push(format!("{kk_base}/?page=1"));
    // Search (WS-2): results with filters and marks, nothing found (suggestions), no query yet.
    app.run_pending_jobs().await;
    let search_pages = [
        format!("{kk_base}/search?q=%D0%BC%D0%B5%D0%BA%D1%82%D0%B5%D0%BF%D1%82%D0%B5%D1%80"),
        format!("{ru_base}/search?q=qwzxv&sort=date"),
        format!("{kk_base}/search"),
    ];
    listings.extend(search_pages.iter().cloned());
    for url in &listings {
        let (host, path) = url.trim_start_matches("http://").split_once('/').expect("url");
        assert_eq!(app.get(host, &format!("/{path}")).await.status, 200, "{url}");
    }
    pages.extend(listings);
    pages.push(format!("{kk_base}/no-such-page"));
    pages.push(format!("{ru_base}/ekonomika/?lang=ru&untranslated=1"));
    let gov_db = TestDb::create(Backend::Sqlite).await.expect("sqlite");
    let gov = spawn_app(gov_db).await;
    baspa::demo::seed(&gov.db.db, &gov.media_dir, baspa::cli::Profile::Gov).await.expect("seed gov demo");
    let gov_host = format!("gov.localhost:{}", gov.addr.port());
    let before = pages.len();
    for sitemap in ["/sitemap-kk.xml", "/sitemap-ru.xml", "/sitemap-en.xml"] {
        pages.extend(sitemap_pages(&gov, &gov_host, sitemap).await);
    }
    assert!(pages.len() - before > 60, "gov pages: {}", pages.len() - before);
    let mut violations = Vec::new();
    for page in &pages {
        browser.goto(page).await;
        browser.execute(AXE, json!([])).await;
        let result = browser
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
                    .then(r => done(r.violations.map(v => v.id + ': ' + v.nodes.slice(0, 2).map(n => n.target.join(' ')).join(' | '))))
                    .catch(e => done(['axe failed: ' + e]));",
                json!([]),
            )
            .await;
        for v in result.as_array().into_iter().flatten() {
            violations.push(format!("{page}: {}", v.as_str().unwrap_or_default()));
        }
    }
    assert!(violations.is_empty(), "{} accessibility violations:\n{}", violations.len(), violations.join("\n"));

    // MO-1: at 320 px (a small phone) no page scrolls sideways.
    browser.set_window_size(320, 800).await;
    let width = browser.execute("return window.innerWidth", json!([])).await;
    assert!(width.as_u64().is_some_and(|w| w <= 420), "the window did not shrink: {width}");
    let mut too_wide = Vec::new();
    for page in pages.iter().step_by(7).chain([&format!("{kk_base}/"), &format!("{ru_base}/")]).chain(&search_pages) {
        browser.goto(page).await;
        let fits = browser.execute("return document.documentElement.scrollWidth <= window.innerWidth", json!([])).await;
        if fits != json!(true) {
            too_wide.push(page.clone());
        }
    }
    assert!(too_wide.is_empty(), "pages wider than a 320 px screen: {too_wide:?}");

    // Negative control: the same check does see a fault when there is one.
    browser.execute(AXE, json!([])).await;
    browser
        .execute(
            "const i = document.createElement('img'); i.src = '/x.png'; document.querySelector('main').appendChild(i);",
            json!([]),
        )
        .await;
    let control = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}).then(r => done(r.violations.map(v => v.id)));",
            json!([]),
        )
        .await;
    assert!(
        control.as_array().is_some_and(|v| v.iter().any(|id| id == "image-alt")),
        "axe must flag an image without alt: {control}"
    );
}
