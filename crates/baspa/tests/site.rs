//! Public site tests through real HTTP (spawn_app on 127.0.0.1:0), on every backend.

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

use baspa_actions::{Actor, Ctx};
use baspa_domain::{ItemKind, LangCode};
use baspa_testkit::builders::{gov_languages, news_languages, published};
use baspa_testkit::{spawn_app, storage_test};

storage_test!(
    /// ML-2 + acceptance: the ru host gets the Russian home page with Russian titles; the kk host
    /// and unknown hosts get Kazakh ones.
    async fn ml2_host_routing_serves_each_language_on_its_host(t: TestDb) {
        news_languages(&t.db).await;
        let now = baspa_domain::time::now();
        let sport = published(
            &t.db,
            ItemKind::Section,
            None,
            None,
            &[("kk", "Спорт", ""), ("ru", "Спорт", "")],
            now,
        )
        .await;
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
        assert!(
            unknown.body.contains("Жігіттер чемпион атанды"),
            "unknown hosts get the default language"
        );
    }
);

storage_test!(
    /// ML-4/ML-5 groundwork: an article page links its translation in the switcher and in
    /// hreflang alternates with x-default; a wrong section path answers 301 to the canonical one.
    async fn ml5_article_pages_carry_hreflang_alternates_and_the_switcher_links_the_translation(
        t: TestDb,
    ) {
        news_languages(&t.db).await;
        let now = baspa_domain::time::now();
        let economy = published(
            &t.db,
            ItemKind::Section,
            None,
            None,
            &[("kk", "Экономика", ""), ("ru", "Экономика", "")],
            now,
        )
        .await;
        published(
            &t.db,
            ItemKind::Article,
            Some(economy.item_id),
            None,
            &[
                (
                    "kk",
                    "Астанада жаңа зауыт ашылды",
                    "<p>Мәтін info@baq.kz</p>",
                ),
                ("ru", "В Астане открылся новый завод", "<p>Текст</p>"),
            ],
            now,
        )
        .await;
        let app = spawn_app(t).await;
        let page = app
            .get("baq.test", "/ekonomika/astanada-jana-zauyt-ashyldy")
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        let html = page.text();
        assert!(html.contains(r#"<link rel="alternate" hreflang="ru-KZ" href="http://rus.baq.test/ekonomika/v-astane-otkrylsya-novyy-zavod">"#), "{html}");
        assert!(html.contains(r#"<link rel="alternate" hreflang="x-default" href="http://baq.test/ekonomika/astanada-jana-zauyt-ashyldy">"#));
        assert!(html.contains(
            r#"<link rel="canonical" href="http://baq.test/ekonomika/astanada-jana-zauyt-ashyldy">"#
        ));
        assert!(html.contains(r#"<a href="http://rus.baq.test/ekonomika/v-astane-otkrylsya-novyy-zavod" hreflang="ru-KZ" lang="ru-KZ">Русский</a>"#));
        assert!(
            !html.contains("info@baq.kz"),
            "HD-6: no plain e-mail address in the page"
        );
        let moved = app
            .get("baq.test", "/wrong-section/astanada-jana-zauyt-ashyldy")
            .await;
        assert_eq!(
            (moved.status, moved.header("location")),
            (301, Some("/ekonomika/astanada-jana-zauyt-ashyldy"))
        );
        let section = app.get("rus.baq.test", "/ekonomika/").await;
        assert!(
            section.body.contains("В Астане открылся новый завод"),
            "{}",
            section.text()
        );
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
            &[
                ("kk", "Басшылық", ""),
                ("ru", "Руководство", ""),
                ("en", "Leadership", ""),
            ],
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
        assert!(
            ru.text().contains(r#"href="/ru/rukovodstvo/""#),
            "{}",
            ru.text()
        );
    }
);

storage_test!(
    /// HD-2/HD-8: a missing page is a generic page in the visitor's language with a request id;
    /// no Server header, security headers with a CSP nonce that the inline style uses.
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
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|s| s.split('\'').next())
            .expect("nonce");
        assert!(res.body.contains(&format!("<style nonce=\"{nonce}\">")));
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
        let other = app.get("rus.baq.test", "/").await;
        assert_ne!(
            other.header("content-security-policy"),
            Some(csp),
            "a fresh nonce per request"
        );
    }
);

storage_test!(
    /// MG-4 groundwork: a path in the redirects table answers 301 to the item's current URL.
    async fn mg4_old_paths_in_the_redirects_table_answer_301(t: TestDb) {
        news_languages(&t.db).await;
        let now = baspa_domain::time::now();
        let article = published(
            &t.db,
            ItemKind::Article,
            None,
            None,
            &[("ru", "Старая новость", "<p>Текст</p>")],
            now,
        )
        .await;
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
        let res = app
            .get(
                "rus.baq.test",
                "/2019/05/14/staraya-novost-na-starom-sayte/",
            )
            .await;
        assert_eq!(
            (res.status, res.header("location")),
            (301, Some("http://rus.baq.test/staraya-novost"))
        );
        let drafts_hidden = app.get("rus.baq.test", "/nothing-here").await;
        assert_eq!(drafts_hidden.status, 404);
    }
);
