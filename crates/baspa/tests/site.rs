//! Public site tests through real HTTP (spawn_app on 127.0.0.1:0), on every backend.

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

use base64::Engine as _;
use baspa_actions::{Actor, Ctx};
use baspa_domain::{ItemKind, LangCode};
use baspa_testkit::builders::{gov_languages, news_languages, published};
use baspa_testkit::{spawn_app, storage_test};
use sha2::Digest as _;

/// Request headers, expected status, expected `Location`.
type RedirectCase<'a> = (&'a [(&'a str, &'a str)], u16, Option<&'a str>);

storage_test!(
    /// ML-2 + acceptance: the ru host gets the Russian home page with Russian titles; the kk host
    /// and unknown hosts get Kazakh ones.
    async fn ml2_host_routing_serves_each_language_on_its_host(t: TestDb) {
        news_languages(&t.db).await;
        let now = baspa_domain::time::now();
        let sport =
            published(&t.db, ItemKind::Section, None, None, &[("kk", "Спорт", ""), ("ru", "Спорт", "")], now).await;
        published(
            &t.db,
            ItemKind::Article,
            Some(sport.item_id),
            None,
            &[
                ("kk", "Жігіттер чемпион атанды", "<p>Қазақша мәтін</p>"),
                ("ru", "Сборная стала чемпионом", "<p>Русский текст</p>"),
            ],
            now,
        )
        .await;
        let app = spawn_app(t).await;
        let ru = app.get("rus.baq.test", "/").await;
        assert_eq!(ru.status, 200);
        assert!(
            ru.body.contains("Сборная стала чемпионом") && !ru.body.contains("Жігіттер"),
            "ru home shows Russian titles only"
        );
        assert!(ru.body.contains("<html lang=\"ru-KZ\">"));
        let kk = app.get("baq.test:8080", "/").await;
        assert!(kk.body.contains("Жігіттер чемпион атанды") && !kk.body.contains("Сборная"));
        let unknown = app.get("203.0.113.7", "/").await;
        assert!(unknown.body.contains("Жігіттер чемпион атанды"), "unknown hosts get the default language");
    }
);

storage_test!(
    /// ML-4/ML-5 groundwork: an article page links its translation in the switcher and in
    /// hreflang alternates with x-default; a wrong section path answers 301 to the canonical one.
    async fn ml5_article_pages_carry_hreflang_alternates_and_the_switcher_links_the_translation(t: TestDb) {
        news_languages(&t.db).await;
        let now = baspa_domain::time::now();
        let economy =
            published(&t.db, ItemKind::Section, None, None, &[("kk", "Экономика", ""), ("ru", "Экономика", "")], now)
                .await;
        published(
            &t.db,
            ItemKind::Article,
            Some(economy.item_id),
            None,
            &[
                ("kk", "Астанада жаңа зауыт ашылды", "<p>Мәтін info@baq.kz</p>"),
                ("ru", "В Астане открылся новый завод", "<p>Текст</p>"),
            ],
            now,
        )
        .await;
        let app = spawn_app(t).await;
        let page = app.get("baq.test", "/ekonomika/astanada-jana-zauyt-ashyldy").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let html = page.text();
        assert!(html.contains(r#"<link rel="alternate" hreflang="ru-KZ" href="http://rus.baq.test/ekonomika/v-astane-otkrylsya-novyy-zavod">"#), "{html}");
        assert!(html.contains(r#"<link rel="alternate" hreflang="x-default" href="http://baq.test/ekonomika/astanada-jana-zauyt-ashyldy">"#));
        assert!(
            html.contains(r#"<link rel="canonical" href="http://baq.test/ekonomika/astanada-jana-zauyt-ashyldy">"#)
        );
        assert!(html.contains(r#"<a href="http://rus.baq.test/ekonomika/v-astane-otkrylsya-novyy-zavod?lang=ru" hreflang="ru-KZ" lang="ru-KZ">Русский</a>"#), "{html}");
        assert!(!html.contains("info@baq.kz"), "HD-6: no plain e-mail address in the page");
        // ML-6: Open Graph, Twitter card and JSON-LD on an article.
        assert!(html.contains(r#"<meta property="og:type" content="article">"#));
        assert!(html.contains(r#"<meta property="og:locale" content="kk_KZ">"#));
        assert!(html.contains(r#"<meta name="twitter:title" content="Астанада жаңа зауыт ашылды">"#));
        let ld_start = html.find(r#"<script type="application/ld+json">"#).expect("json-ld");
        let ld = &html[ld_start..];
        let json = &ld[ld.find('>').expect("tag end") + 1..ld.find("</script>").expect("script end")];
        let value: serde_json::Value = serde_json::from_str(json).expect("valid JSON-LD");
        assert_eq!(value["@type"], "NewsArticle");
        assert_eq!(value["headline"], "Астанада жаңа зауыт ашылды");
        assert_eq!(value["inLanguage"], "kk-KZ");
        let moved = app.get("baq.test", "/wrong-section/astanada-jana-zauyt-ashyldy").await;
        assert_eq!((moved.status, moved.header("location")), (301, Some("/ekonomika/astanada-jana-zauyt-ashyldy")));
        let section = app.get("rus.baq.test", "/ekonomika/").await;
        assert!(section.body.contains("В Астане открылся новый завод"), "{}", section.text());
    }
);

storage_test!(
    /// ML-2 path-prefix mode (the state site): `/` goes to the default language, each prefix
    /// serves its language.
    async fn ml2_path_prefix_languages_on_one_host(t: TestDb) {
        gov_languages(&t.db).await;
        let now = baspa_domain::time::now();
        published(
            &t.db,
            ItemKind::Section,
            None,
            None,
            &[("kk", "Басшылық", ""), ("ru", "Руководство", ""), ("en", "Leadership", "")],
            now,
        )
        .await;
        let app = spawn_app(t).await;
        let root = app.get("gov.test", "/").await;
        assert_eq!((root.status, root.header("location")), (302, Some("/kk/")));
        assert_eq!(root.header("vary"), Some("Accept-Language, Cookie"));
        let en = app.get("gov.test", "/en/leadership/").await;
        assert_eq!(en.status, 200);
        assert!(en.body.contains("<h1>Leadership</h1>"));
        let ru = app.get("gov.test", "/ru/").await;
        assert!(ru.text().contains(r#"href="/ru/rukovodstvo/""#), "{}", ru.text());
    }
);

storage_test!(
    /// HD-2/HD-8: a missing page is a generic page in the visitor's language with a request id;
    /// no Server header, security headers with a CSP nonce and the hash of the inline style.
    async fn hd2_missing_pages_are_generic_with_a_request_id_and_security_headers(t: TestDb) {
        news_languages(&t.db).await;
        let app = spawn_app(t).await;
        let res = app.get("rus.baq.test", "/no/such/page'%20OR%201=1--").await;
        assert_eq!(res.status, 404);
        assert!(res.body.contains("Страница не найдена"));
        let request_id = res.header("x-request-id").expect("request id").to_owned();
        assert!(res.body.contains(&request_id));
        assert!(res.header("server").is_none() && res.header("x-powered-by").is_none());
        let csp = res.header("content-security-policy").expect("csp");
        // The inline style is allowed by its hash (HD-9; the same policy a cached page gets).
        let style = res.body.split("<style>").nth(1).and_then(|s| s.split("</style>").next()).expect("inline style");
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(style.as_bytes()));
        assert!(csp.contains(&format!("'sha256-{hash}'")), "{csp}");
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
        let other = app.get("rus.baq.test", "/").await;
        assert_ne!(other.header("content-security-policy"), Some(csp), "a fresh nonce per request");
    }
);

storage_test!(
    /// MG-4 groundwork: a path in the redirects table answers 301 to the item's current URL.
    async fn mg4_old_paths_in_the_redirects_table_answer_301(t: TestDb) {
        news_languages(&t.db).await;
        let now = baspa_domain::time::now();
        let article =
            published(&t.db, ItemKind::Article, None, None, &[("ru", "Старая новость", "<p>Текст</p>")], now).await;
        let actor = Actor::system("test");
        baspa_actions::add_redirect(
            &Ctx::new(&t.db, &actor),
            "rus.baq.test",
            "/2019/05/14/staraya-novost-na-starom-sayte/",
            article.item_id,
            &LangCode::parse("ru").expect("ru"),
        )
        .await
        .expect("redirect");
        let app = spawn_app(t).await;
        let res = app.get("rus.baq.test", "/2019/05/14/staraya-novost-na-starom-sayte/").await;
        assert_eq!((res.status, res.header("location")), (301, Some("http://rus.baq.test/staraya-novost")));
        let drafts_hidden = app.get("rus.baq.test", "/nothing-here").await;
        assert_eq!(drafts_hidden.status, 404);
    }
);

storage_test!(
    /// ML-3, prefix mode: the bare root redirects by cookie, then Accept-Language, else to the
    /// default; crawlers get the default home without a redirect; deep links never redirect.
    async fn ml3_first_visit_redirect_matrix_in_prefix_mode(t: TestDb) {
        gov_languages(&t.db).await;
        let app = spawn_app(t).await;
        let chrome_ua =
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
        let cases: &[RedirectCase] = &[
            (&[("accept-language", "kk-KZ")], 302, Some("/kk/")),
            (&[("accept-language", "ru")], 302, Some("/ru/")),
            (&[("accept-language", "en;q=0.9,ru;q=0.8")], 302, Some("/en/")),
            (&[("accept-language", "*")], 302, Some("/kk/")),
            (&[("accept-language", "garbage;;q=x")], 302, Some("/kk/")),
            (&[("accept-language", "")], 302, Some("/kk/")),
            (&[], 302, Some("/kk/")),
            (&[("accept-language", "ru"), ("cookie", "baspa_lang=en")], 302, Some("/en/")),
            (
                &[
                    ("accept-language", "ru"),
                    ("user-agent", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
                ],
                200,
                None,
            ),
            (
                &[
                    ("accept-language", "ru"),
                    ("user-agent", "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)"),
                ],
                200,
                None,
            ),
        ];
        for (headers, status, location) in cases {
            let mut all: Vec<(&str, &str)> = vec![("user-agent", chrome_ua)];
            all.retain(|(n, _)| !headers.iter().any(|(h, _)| h == n));
            all.extend(headers.iter().copied());
            let res = app.get_with("gov.test", "/", &all).await;
            assert_eq!((res.status, res.header("location")), (*status, *location), "{headers:?}");
            assert_eq!(res.header("vary"), Some("Accept-Language, Cookie"), "{headers:?}");
            if *status == 302 {
                assert_eq!(res.header("cache-control"), Some("private, no-store"));
            }
        }
        let deep = app.get_with("gov.test", "/en/", &[("accept-language", "ru"), ("user-agent", chrome_ua)]).await;
        assert_eq!(deep.status, 200, "deep links are served as requested");
        assert!(deep.header("vary").is_none(), "pages that cannot redirect stay plainly cacheable");
    }
);

storage_test!(
    /// ML-3, host mode: only the main domain's home redirects; the Russian host is an explicit
    /// choice; following a switcher link sets the remembered-choice cookie for both hosts.
    async fn ml3_host_mode_redirects_only_from_the_main_home_and_the_switcher_sets_the_cookie(t: TestDb) {
        news_languages(&t.db).await;
        let app = spawn_app(t).await;
        let res = app.get_with("baq.test:8080", "/", &[("accept-language", "ru-RU,ru;q=0.9")]).await;
        assert_eq!((res.status, res.header("location")), (302, Some("http://rus.baq.test:8080/")));
        let stays = app.get_with("baq.test", "/", &[("accept-language", "ru"), ("cookie", "baspa_lang=kk")]).await;
        assert_eq!(stays.status, 200, "the remembered choice wins");
        let explicit = app.get_with("rus.baq.test", "/", &[("accept-language", "kk")]).await;
        assert_eq!(explicit.status, 200, "the Russian host is itself a choice");
        let switched = app.get("rus.baq.test", "/?lang=ru").await;
        let cookie = switched.header("set-cookie").expect("cookie");
        assert!(
            cookie.starts_with("baspa_lang=ru;")
                && cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Lax")
                && cookie.contains("Domain=baq.test"),
            "{cookie}"
        );
        assert_eq!(switched.header("cache-control"), Some("private, no-store"));
        let plain = app.get("rus.baq.test", "/").await;
        assert!(plain.header("set-cookie").is_none(), "ordinary pages set no cookie and stay cacheable");
    }
);

storage_test!(
    /// ML-4: on an article without a Russian version the switcher leads to the same section in
    /// Russian, and that page says the item is not available there.
    async fn ml4_switcher_on_an_untranslated_article_lands_on_its_section_with_a_notice(t: TestDb) {
        news_languages(&t.db).await;
        let now = baspa_domain::time::now();
        let culture =
            published(&t.db, ItemKind::Section, None, None, &[("kk", "Мәдениет", ""), ("ru", "Культура", "")], now)
                .await;
        published(
            &t.db,
            ItemKind::Article,
            Some(culture.item_id),
            None,
            &[("kk", "Театр маусымы ашылды", "<p>Мәтін</p>")],
            now,
        )
        .await;
        let app = spawn_app(t).await;
        let page = app.get("baq.test", "/madeniet/teatr-mausymy-ashyldy").await;
        let html = page.text();
        assert!(
            html.contains(r#"<a href="http://rus.baq.test/kultura/?lang=ru&untranslated=1" hreflang="ru-KZ""#),
            "{html}"
        );
        assert!(!html.contains(r#"hreflang="ru-KZ" href="#), "no alternate for a translation that does not exist");
        let landed = app.get("rus.baq.test", "/kultura/?lang=ru&untranslated=1").await;
        assert_eq!(landed.status, 200);
        assert!(landed.body.contains("Этого материала нет на выбранном языке"));
    }
);

storage_test!(
    /// WS-3/ML-5: the sitemap lists each page with the same alternates as its `<head>`; robots
    /// points to it; the RSS feed is well-formed XML in the visitor's language; a trashed article
    /// answers 410.
    async fn ws3_sitemap_alternates_match_the_head_and_feeds_are_valid_xml(t: TestDb) {
        news_languages(&t.db).await;
        let now = baspa_domain::time::now();
        let sport =
            published(&t.db, ItemKind::Section, None, None, &[("kk", "Спорт", ""), ("ru", "Спорт", "")], now).await;
        let article = published(
            &t.db,
            ItemKind::Article,
            Some(sport.item_id),
            None,
            &[("kk", "Боксшылар жеңді", "<p>Мәтін</p>"), ("ru", "Боксёры победили & вернулись", "<p>Текст</p>")],
            now,
        )
        .await;
        let db = t.db.clone();
        let app = spawn_app(t).await;
        let page = app.get("rus.baq.test", "/sport/boksyory-pobedili-vernulis").await;
        assert_eq!(page.status, 200);
        let head_alternates: Vec<String> = page
            .text()
            .lines()
            .filter(|l| l.starts_with("<link rel=\"alternate\"") && !l.contains("x-default"))
            .map(|l| l.to_owned())
            .collect();
        assert_eq!(head_alternates.len(), 2);
        let index = app.get("rus.baq.test", "/sitemap.xml").await;
        let index_doc = roxmltree::Document::parse(&index.body).expect("index is XML");
        let parts: Vec<&str> =
            index_doc.descendants().filter(|n| n.has_tag_name("loc")).filter_map(|n| n.text()).collect();
        assert_eq!(parts, ["http://rus.baq.test/sitemap-ru.xml", "http://rus.baq.test/sitemap-news.xml"]);
        let news = app.get("rus.baq.test", "/sitemap-news.xml").await;
        let news_doc = roxmltree::Document::parse(&news.body).expect("news sitemap is XML");
        assert!(
            news_doc.descendants().any(|n| n.has_tag_name("title") && n.text() == Some("Боксёры победили & вернулись"))
        );
        assert_eq!(app.get("rus.baq.test", "/sitemap-kk.xml").await.status, 404, "kk pages are listed by the kk host");
        for feed in ["/atom.xml", "/sport/feed.xml", "/sport/atom.xml"] {
            let res = app.get("rus.baq.test", feed).await;
            assert_eq!(res.status, 200, "{feed}");
            let doc = roxmltree::Document::parse(&res.body).unwrap_or_else(|e| panic!("{feed} is not XML: {e}"));
            assert!(
                doc.descendants().any(|n| n.has_tag_name("title") && n.text() == Some("Боксёры победили & вернулись")),
                "{feed}"
            );
        }
        assert_eq!(app.get("rus.baq.test", "/no-section/feed.xml").await.status, 404);
        let sitemap = app.get("rus.baq.test", "/sitemap-ru.xml").await;
        assert_eq!(sitemap.header("content-type"), Some("application/xml; charset=utf-8"));
        let doc = roxmltree::Document::parse(&sitemap.body).expect("sitemap is XML");
        let url = doc
            .descendants()
            .find(|n| n.has_tag_name("loc") && n.text() == Some("http://rus.baq.test/sport/boksyory-pobedili-vernulis"))
            .and_then(|loc| loc.parent())
            .expect("article in the sitemap");
        let mut sitemap_alternates: Vec<String> = url
            .children()
            .filter(|n| n.has_tag_name("link"))
            .map(|n| {
                format!(
                    "<link rel=\"alternate\" hreflang=\"{}\" href=\"{}\">",
                    n.attribute("hreflang").unwrap_or_default(),
                    n.attribute("href").unwrap_or_default()
                )
            })
            .collect();
        let mut head_sorted = head_alternates.clone();
        head_sorted.sort();
        sitemap_alternates.sort();
        assert_eq!(sitemap_alternates, head_sorted);
        assert!(
            doc.descendants()
                .filter(|n| n.has_tag_name("loc"))
                .all(|n| n.text().is_some_and(|t| t.starts_with("http://rus.baq.test/"))),
            "the Russian host's sitemap lists Russian pages; Kazakh ones appear only as alternates"
        );
        let robots = app.get("rus.baq.test", "/robots.txt").await;
        assert!(robots.body.contains("Sitemap: http://rus.baq.test/sitemap.xml"), "{}", robots.body);
        let feed = app.get("rus.baq.test", "/feed.xml").await;
        let rss = roxmltree::Document::parse(&feed.body).expect("RSS is XML");
        let titles: Vec<&str> =
            rss.descendants().filter(|n| n.has_tag_name("title")).filter_map(|n| n.text()).collect();
        assert!(titles.contains(&"Боксёры победили & вернулись"), "{titles:?}");
        let actor = baspa_actions::Actor::system("test");
        baspa_actions::trash_item(&baspa_actions::Ctx::new(&db, &actor), article.item_id).await.expect("trash");
        let gone = app.get("rus.baq.test", "/sport/boksyory-pobedili-vernulis").await;
        assert_eq!(gone.status, 410);
        assert!(gone.body.contains("Материал удалён"));
    }
);

storage_test!(
    /// Listings: sections paginate by 20 with newer/older links; author pages are addressed by
    /// a name slug (no account ids, HD-7) and list the author's work; monthly archives.
    async fn sections_paginate_and_author_and_archive_pages_list_entries(t: TestDb) {
        news_languages(&t.db).await;
        let system = baspa_actions::Actor::system("test");
        let now = baspa_domain::time::now();
        let ctx = baspa_actions::Ctx::at(&t.db, &system, now);
        let author = baspa_actions::create_user(
            &ctx,
            "dana@baq.test",
            "Дана Әлиева",
            baspa_domain::Role::Author,
            "a-long-enough-password",
        )
        .await
        .expect("author");
        let regions = published(&t.db, ItemKind::Section, None, None, &[("kk", "Аймақтар", "")], now).await;
        for n in 0..25 {
            let at = now - chrono::Duration::minutes(n);
            let mut input = baspa_actions::NewItemInput::new(
                ItemKind::Article,
                vec![baspa_actions::TranslationInput::new(
                    LangCode::parse("kk").expect("kk"),
                    &format!("Аймақ жаңалығы {n}"),
                    "",
                )],
            );
            input.section = Some(regions.item_id);
            input.author = Some(author);
            let created = baspa_actions::create_item(&ctx, input).await.expect("create");
            baspa_actions::publish_translation(
                &baspa_actions::Ctx::at(&t.db, &system, at),
                created.translation("kk").expect("kk"),
                None,
            )
            .await
            .expect("publish");
        }
        let app = spawn_app(t).await;
        let first = app.get("baq.test", "/aimaqtar/").await;
        assert_eq!(first.body.matches("<li class=\"card\">").count(), 20);
        assert!(first.body.contains("Аймақ жаңалығы 0<") && !first.body.contains("Аймақ жаңалығы 20<"));
        assert!(first.text().contains(r#"<a href="?page=2" rel="next">"#), "{}", first.text());
        let second = app.get("baq.test", "/aimaqtar/?page=2").await;
        assert_eq!(second.body.matches("<li class=\"card\">").count(), 5);
        assert!(second.body.contains("Аймақ жаңалығы 24<") && second.text().contains(r#"rel="prev""#));
        let entry = app.get("baq.test", "/aimaqtar/aimaq-janalygy-3").await;
        assert!(entry.text().contains(r#"<a href="/author/dana-alieva">Дана Әлиева</a>"#), "{}", entry.text());
        let author_page = app.get("baq.test", "/author/dana-alieva").await;
        assert_eq!(author_page.status, 200);
        assert!(author_page.body.contains("<h1>Дана Әлиева</h1>"));
        assert_eq!(app.get("baq.test", "/author/1").await.status, 404, "no author pages by account id");
        let kz_now = now.with_timezone(&chrono::FixedOffset::east_opt(5 * 3600).expect("offset"));
        let archive = app.get("baq.test", &format!("/archive/{}/", kz_now.format("%Y/%m"))).await;
        assert_eq!(archive.status, 200);
        assert!(archive.body.contains("Мұрағат: "), "{}", archive.body);
        assert!(archive.body.contains("Аймақ жаңалығы 1<"));
        assert_eq!(app.get("baq.test", "/archive/2026/13/").await.status, 404);
    }
);

/// `hreflang` → `href` of a page's `<link rel="alternate">` tags.
fn alternates(html: &str) -> std::collections::BTreeMap<String, String> {
    html.lines()
        .filter(|l| l.starts_with("<link rel=\"alternate\" hreflang=\""))
        .filter_map(|l| {
            let lang = l.split("hreflang=\"").nth(1)?.split('"').next()?;
            let href = l.split("href=\"").nth(1)?.split('"').next()?;
            Some((lang.to_owned(), href.to_owned()))
        })
        .collect()
}

storage_test!(
    /// ML-5: on every page type, the alternates list every existing translation plus
    /// x-default, and they are reciprocal: each alternate page lists the same set.
    async fn ml5_hreflang_alternates_are_complete_and_reciprocal_on_every_page_type(t: TestDb) {
        news_languages(&t.db).await;
        let system = Actor::system("test");
        let now = baspa_domain::time::now();
        let ctx = Ctx::at(&t.db, &system, now);
        let author = baspa_actions::create_user(
            &ctx,
            "erlan@baq.test",
            "Ерлан Сейіт",
            baspa_domain::Role::Author,
            "a-long-enough-password",
        )
        .await
        .expect("author");
        let section =
            published(&t.db, ItemKind::Section, None, None, &[("kk", "Қоғам", ""), ("ru", "Общество", "")], now).await;
        let tag =
            published(&t.db, ItemKind::Tag, None, None, &[("kk", "Экология", ""), ("ru", "Экология", "")], now).await;
        published(
            &t.db,
            ItemKind::Page,
            None,
            None,
            &[("kk", "Біз туралы", "<p>Мәтін</p>"), ("ru", "О нас", "<p>Текст</p>")],
            now,
        )
        .await;
        let mut input = baspa_actions::NewItemInput::new(
            ItemKind::Article,
            vec![
                baspa_actions::TranslationInput::new(
                    LangCode::parse("kk").expect("kk"),
                    "Көл тазартылды",
                    "<p>Мәтін</p>",
                ),
                baspa_actions::TranslationInput::new(
                    LangCode::parse("ru").expect("ru"),
                    "Озеро очистили",
                    "<p>Текст</p>",
                ),
            ],
        );
        input.section = Some(section.item_id);
        input.author = Some(author);
        input.tags = vec![tag.item_id];
        let article = baspa_actions::create_item(&ctx, input).await.expect("article");
        for (_, id) in &article.translations {
            baspa_actions::publish_translation(&ctx, *id, None).await.expect("publish");
        }
        let app = spawn_app(t).await;
        let kz = now.with_timezone(&chrono::FixedOffset::east_opt(5 * 3600).expect("offset"));
        let archive = format!("/archive/{}/", kz.format("%Y/%m"));
        for path in [
            "/",
            "/qogam/",
            "/qogam/kol-tazartyldy",
            "/biz-turaly",
            "/tag/ekologia",
            "/author/erlan-seiit",
            archive.as_str(),
        ] {
            let page = app.get("baq.test", path).await;
            assert_eq!(page.status, 200, "{path}");
            let alts = alternates(&page.text());
            assert_eq!(alts.keys().map(String::as_str).collect::<Vec<_>>(), ["kk-KZ", "ru-KZ", "x-default"], "{path}");
            assert_eq!(alts["x-default"], alts["kk-KZ"], "{path}");
            assert_eq!(alts["kk-KZ"], format!("http://baq.test{path}"), "{path} lists itself");
            let ru = alts["ru-KZ"].strip_prefix("http://rus.baq.test").expect("ru host").to_owned();
            let ru_page = app.get("rus.baq.test", &ru).await;
            assert_eq!(ru_page.status, 200, "{ru}");
            assert_eq!(alternates(&ru_page.text()), alts, "{path} and {ru} must list the same alternates");
        }
        let article_page = app.get("baq.test", "/qogam/kol-tazartyldy").await;
        assert!(
            article_page.body.contains(r#"<meta name="keywords" content="Экология">"#),
            "keywords fall back to the tags"
        );
    }
);

storage_test!(
    /// ML-3 with GeoIP: when Accept-Language names no site language, the client's country
    /// (from a MaxMind-format database) decides; Accept-Language still wins when it matches.
    async fn ml3_geoip_country_decides_when_accept_language_does_not(t: TestDb) {
        gov_languages(&t.db).await;
        let dir = tempfile::tempdir().expect("dir");
        let mmdb = dir.path().join("country.mmdb");
        baspa_testkit::geoip_fixture::write_country_mmdb(&mmdb, [127, 0, 0, 0], 8, "RU");
        let languages = [("RU".to_owned(), "ru".to_owned())].into_iter().collect();
        let geoip = baspa_site::geoip::GeoIp::open(&mmdb, languages).expect("open mmdb");
        assert_eq!(geoip.country("127.0.0.1".parse().expect("ip")).as_deref(), Some("RU"));
        assert_eq!(geoip.country("10.1.2.3".parse().expect("ip")), None);
        let app =
            baspa_testkit::spawn_app_with(t, baspa_testkit::AppOptions { geoip: Some(geoip), ..Default::default() })
                .await;
        let ua = ("user-agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0");
        let by_country = app.get_with("gov.test", "/", &[("accept-language", "de-DE"), ua]).await;
        assert_eq!((by_country.status, by_country.header("location")), (302, Some("/ru/")));
        let by_header = app.get_with("gov.test", "/", &[("accept-language", "en"), ua]).await;
        assert_eq!(by_header.header("location"), Some("/en/"));
    }
);

storage_test!(
    /// Themes are folders: a template there replaces the embedded one and `assets/` is served
    /// under `/theme/`, with no rebuild; nothing outside `assets/` can be reached.
    async fn a_theme_folder_restyles_the_site_and_serves_its_assets(t: TestDb) {
        news_languages(&t.db).await;
        let theme = tempfile::tempdir().expect("dir");
        std::fs::create_dir_all(theme.path().join("assets")).expect("assets");
        std::fs::write(theme.path().join("assets/site.css"), "body{color:#111}").expect("css");
        std::fs::write(theme.path().join("secret.toml"), "x").expect("file outside assets");
        let base = include_str!("../../baspa-render/theme/base.html")
            .replace("</head>", "<link rel=\"stylesheet\" href=\"/theme/site.css\">\n</head>");
        std::fs::write(theme.path().join("base.html"), base).expect("template");
        let app = baspa_testkit::spawn_app_with(
            t,
            baspa_testkit::AppOptions { theme_dir: Some(theme.path().to_path_buf()), ..Default::default() },
        )
        .await;
        let home = app.get("baq.test", "/").await;
        assert!(home.text().contains(r#"<link rel="stylesheet" href="/theme/site.css">"#));
        let css = app.get("baq.test", "/theme/site.css").await;
        assert_eq!((css.status, css.header("content-type")), (200, Some("text/css; charset=utf-8")));
        assert_eq!(css.body, "body{color:#111}");
        for path in ["/theme/..%2Fsecret.toml", "/theme/secret.toml", "/theme/.hidden.css", "/theme/nope.css"] {
            assert_eq!(app.get("baq.test", path).await.status, 404, "{path}");
        }
    }
);

storage_test!(
    /// WS-3, PF-1: a language's sitemap is split into parts (the protocol allows 50,000 URLs a
    /// file; Baspa writes at most `SITEMAP_PART_URLS`, 3 here), listed by the index; together the
    /// parts hold every published page once, each with its translation as an alternate, and a
    /// part past the end answers 404.
    async fn ws3_large_sitemaps_are_split_into_parts_listed_by_the_index(t: TestDb) {
        news_languages(&t.db).await;
        let now = baspa_domain::time::now();
        let mut expected = vec!["http://baq.test/".to_owned()];
        for i in 0..7 {
            let (kk, ru) = (format!("Story {i}"), format!("Novost {i}"));
            published(&t.db, ItemKind::Article, None, None, &[("kk", &kk, "<p>a</p>"), ("ru", &ru, "<p>b</p>")], now)
                .await;
            expected.push(format!("http://baq.test/story-{i}"));
        }
        let options = baspa_testkit::AppOptions { sitemap_part_urls: Some(3), ..Default::default() };
        let app = baspa_testkit::spawn_app_with(t, options).await;
        let locs = |body: &str, tag: &str| -> Vec<String> {
            let doc = roxmltree::Document::parse(body).expect("XML");
            let parents = doc.descendants().filter(|n| n.has_tag_name(tag));
            parents
                .filter_map(|n| n.children().find(|c| c.has_tag_name("loc")).and_then(|l| l.text()).map(str::to_owned))
                .collect()
        };
        let index = app.get("baq.test", "/sitemap.xml").await;
        assert_eq!(
            locs(&index.body, "sitemap"),
            [
                "http://baq.test/sitemap-kk.xml",
                "http://baq.test/sitemap-kk-2.xml",
                "http://baq.test/sitemap-kk-3.xml",
                "http://baq.test/sitemap-news.xml"
            ]
        );
        let mut listed = Vec::new();
        for (part, size) in [("/sitemap-kk.xml", 4), ("/sitemap-kk-2.xml", 3), ("/sitemap-kk-3.xml", 1)] {
            let res = app.get("baq.test", part).await;
            assert_eq!(res.status, 200, "{part}");
            let urls = locs(&res.body, "url");
            assert_eq!(urls.len(), size, "{part}: {urls:?}");
            let alternates = res.body.matches("hreflang=\"ru-KZ\" href=\"http://rus.baq.test/novost-").count();
            assert_eq!(alternates, size - usize::from(part == "/sitemap-kk.xml"), "{part}: {}", res.body);
            listed.extend(urls);
        }
        assert_eq!(listed, expected, "every page once, in order");
        assert_eq!(app.get("baq.test", "/sitemap-kk-4.xml").await.status, 404);
        assert_eq!(app.get("baq.test", "/sitemap-kk-1.xml").await.status, 404, "part 1 has one name");
        assert_eq!(app.get("baq.test", "/sitemap-kk-x.xml").await.status, 404);
    }
);
