//! Page cache tests (issue 7, PF-2): purges leave no stale page in any language, HTTP caching
//! (ETag, 304, precompressed bodies), cached pages while the database is down, Redis shared by
//! two app instances, Redis unreachable. Every page of the cached app is compared with the same
//! page from a second app on the same database with the cache off: the oracle of "not stale".

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

use std::io::Read;

use baspa_actions::{Actor, Ctx, TranslationInput};
use baspa_domain::{ItemId, ItemKind, Slug};
use baspa_site::page_cache::PageCacheConfig;
use baspa_testkit::app::TestApp;
use baspa_testkit::builders::{lang, news_languages, published};
use baspa_testkit::{AppOptions, spawn_app_with, storage_test};

fn cached() -> AppOptions {
    AppOptions { cache: Some(PageCacheConfig::default()), monitor: Some(lenient()), ..Default::default() }
}

/// These tests visit hundreds of pages, many of them 404s, from one address.
fn lenient() -> baspa_site::monitor::MonitorConfig {
    baspa_site::monitor::MonitorConfig {
        requests_per_minute: 100_000,
        pages_per_minute: 100_000,
        not_found_per_minute: 100_000,
        agent_requests_per_minute: 100_000,
        ..Default::default()
    }
}

/// Every page the test site has, on both language hosts (old and new article addresses too).
fn pages() -> Vec<(&'static str, String)> {
    let month = baspa_domain::time::now().format("/archive/%Y/%m/").to_string();
    let mut out = Vec::new();
    for host in ["baq.test", "rus.baq.test"] {
        for path in [
            "/",
            "/sec-a/",
            "/sec-b/",
            "/sec-a/first-title",
            "/sec-b/first-title",
            "/sec-a/pervyi",
            "/sec-b/pervyi",
            "/sec-b/other-story",
            "/feed.xml",
            "/atom.xml",
            "/sec-a/feed.xml",
            "/sec-b/feed.xml",
            "/sitemap-kk.xml",
            "/sitemap-ru.xml",
            "/sitemap-news.xml",
            "/robots.txt",
        ] {
            out.push((host, path.to_owned()));
        }
        out.push((host, month.clone()));
    }
    out
}

/// Fills the cache with every page (twice, so the second answer must be a hit when cacheable).
async fn warm(app: &TestApp) {
    for (host, path) in pages() {
        let first = app.get(host, &path).await;
        if first.status == 200 {
            let again = app.get(host, &path).await;
            assert_eq!(again.header("x-cache"), Some("hit"), "{host}{path} is cached after one visit");
        }
    }
}

/// Each page from the cached app equals the page rendered now by the uncached one.
async fn assert_nothing_stale(cached: &TestApp, fresh: &TestApp, step: &str) {
    for (host, path) in pages() {
        let from_cache = cached.get(host, &path).await;
        let rendered = fresh.get(host, &path).await;
        assert_eq!(from_cache.status, rendered.status, "{step}: status of {host}{path}");
        if rendered.status == 200 {
            assert!(from_cache.body == rendered.body, "{step}: {host}{path} is stale:\n{}", from_cache.body);
        }
    }
}

async fn add_second_app(app: &TestApp, options: AppOptions) -> TestApp {
    spawn_app_with(app.db.alias(app.db.db.clone()), options).await
}

storage_test!(
    /// PF-2 acceptance: publish, update, translate, move between sections and unpublish each
    /// leave no stale page in any language once the purge job ran (home, sections, the entry,
    /// feeds, sitemaps, archive), while untouched pages stay cached.
    async fn pf2_every_change_purges_exactly_the_pages_that_show_it_in_every_language(t: TestDb) {
        news_languages(&t.db).await;
        let now = baspa_domain::time::now();
        let sec = |kk: &'static str| [("kk", kk, ""), ("ru", kk, "")];
        let a = published(&t.db, ItemKind::Section, None, None, &sec("Sec A"), now).await;
        let b = published(&t.db, ItemKind::Section, None, None, &sec("Sec B"), now).await;
        published(&t.db, ItemKind::Article, Some(b.item_id), None, &[("kk", "Other story", "<p>x</p>")], now).await;
        let db = t.db.clone();
        let app = spawn_app_with(t, cached()).await;
        let oracle = add_second_app(&app, AppOptions { monitor: Some(lenient()), ..Default::default() }).await;
        let actor = Actor::system("test");
        let ctx = Ctx::new(&db, &actor);
        // The set-up's own purges (languages, sections) run before anything is cached.
        app.run_pending_jobs().await;

        warm(&app).await;
        let story =
            published(&db, ItemKind::Article, Some(a.item_id), None, &[("kk", "First title", "<p>one</p>")], now).await;
        app.run_pending_jobs().await;
        assert_nothing_stale(&app, &oracle, "publish").await;
        let untouched = app.get("baq.test", "/sec-b/other-story").await;
        assert_eq!(untouched.header("x-cache"), Some("hit"), "a page that does not show the story stays cached");

        warm(&app).await;
        let kk = story.translation("kk").expect("kk");
        let mut update = TranslationInput::new(lang("kk"), "First title, corrected", "<p>two</p>");
        update.slug = Some(Slug::parse("first-title").expect("slug"));
        baspa_actions::revise_translation(&ctx, kk, update, None).await.expect("revise");
        baspa_actions::publish_translation(&ctx, kk, None).await.expect("publish update");
        app.run_pending_jobs().await;
        assert_nothing_stale(&app, &oracle, "update").await;
        assert!(app.get("baq.test", "/").await.body.contains("First title, corrected"));

        warm(&app).await;
        let ru = baspa_actions::add_translation(
            &ctx,
            story.item_id,
            TranslationInput::new(lang("ru"), "Pervyi", "<p>ru</p>"),
        )
        .await
        .expect("translate");
        baspa_actions::publish_translation(&ctx, ru, None).await.expect("publish ru");
        app.run_pending_jobs().await;
        assert_nothing_stale(&app, &oracle, "translate").await;
        let kk_page = app.get("baq.test", "/sec-a/first-title").await;
        assert!(kk_page.text().contains("hreflang=\"ru-KZ\""), "the kk page now names its ru version");

        warm(&app).await;
        baspa_actions::move_to_section(&ctx, story.item_id, Some(b.item_id)).await.expect("move");
        app.run_pending_jobs().await;
        assert_nothing_stale(&app, &oracle, "move").await;
        assert!(!app.get("baq.test", "/sec-a/").await.body.contains("First title"));

        warm(&app).await;
        baspa_actions::unpublish_translation(&ctx, kk, None).await.expect("unpublish");
        app.run_pending_jobs().await;
        assert_nothing_stale(&app, &oracle, "unpublish").await;
        assert!(!app.get("baq.test", "/").await.body.contains("First title"));

        warm(&app).await;
        baspa_actions::trash_item(&ctx, ItemId(story.item_id.0)).await.expect("trash");
        app.run_pending_jobs().await;
        assert_nothing_stale(&app, &oracle, "trash").await;
    }
);

fn decompressed(encoding: &str, body: &[u8]) -> String {
    let mut out = String::new();
    match encoding {
        "br" => brotli::Decompressor::new(body, 4096).read_to_string(&mut out).expect("brotli"),
        "gzip" => flate2::read::GzDecoder::new(body).read_to_string(&mut out).expect("gzip"),
        other => panic!("unexpected encoding {other}"),
    };
    out
}

storage_test!(
    /// PF-2 HTTP caching: brotli and gzip bodies made at fill time decode to the same page, the
    /// ETag answers 304, the CSP allows the inline style by its hash (no nonce in a stored page),
    /// and the CDN headers are there.
    async fn pf2_cached_pages_answer_304_and_come_precompressed(t: TestDb) {
        news_languages(&t.db).await;
        let now = baspa_domain::time::now();
        published(&t.db, ItemKind::Article, None, None, &[("kk", "Compressed story", "<p>text</p>")], now).await;
        let app = spawn_app_with(t, cached()).await;
        let plain = app.get("baq.test", "/compressed-story").await;
        assert_eq!(plain.status, 200);
        assert_eq!(plain.header("x-cache"), Some("miss"));
        let csp = plain.header("content-security-policy").expect("csp").to_owned();
        assert!(csp.contains("style-src 'self' 'sha256-") && !csp.contains("nonce"), "hash-based CSP: {csp}");
        assert!(plain.header("cache-control").is_some_and(|c| c.contains("s-maxage=")));
        assert!(plain.header("surrogate-key").is_some_and(|k| k.split(' ').any(|t| t.starts_with("item:"))));
        let etag = plain.header("etag").expect("etag").to_owned();
        for encoding in ["br", "gzip"] {
            let url = format!("http://{}/compressed-story", app.addr);
            let res = reqwest::Client::new()
                .get(&url)
                .header("host", "baq.test")
                .header("accept-encoding", encoding)
                .send()
                .await
                .expect("request");
            assert_eq!(res.headers().get("content-encoding").and_then(|v| v.to_str().ok()), Some(encoding));
            let bytes = res.bytes().await.expect("body");
            assert_eq!(decompressed(encoding, &bytes), plain.body, "{encoding} body decodes to the page");
        }
        let not_modified = app.get_with("baq.test", "/compressed-story", &[("if-none-match", &etag)]).await;
        assert_eq!(not_modified.status, 304);
        assert!(not_modified.body.is_empty());
        let changed = app.get_with("baq.test", "/compressed-story", &[("if-none-match", "\"other\"")]).await;
        assert_eq!(changed.status, 200);
        let staff = app.get_with("baq.test", "/compressed-story", &[("cookie", "baspa_admin=abc")]).await;
        assert_eq!(staff.header("x-cache"), None, "a visitor with a session cookie is never served from the cache");
    }
);

storage_test!(
    /// PF-2 stale-if-error acceptance: with the database stopped, cached pages still answer 200
    /// (purged ones too, marked stale), and a page never cached gets the generic error page.
    async fn pf2_with_the_database_down_cached_pages_still_answer_200(t: TestDb) {
        news_languages(&t.db).await;
        let now = baspa_domain::time::now();
        let story =
            published(&t.db, ItemKind::Article, None, None, &[("kk", "Survivor", "<p>still here</p>")], now).await;
        published(&t.db, ItemKind::Article, None, None, &[("kk", "Bystander", "<p>untouched</p>")], now).await;
        let app = spawn_app_with(t, cached()).await;
        app.run_pending_jobs().await;
        for path in ["/survivor", "/bystander", "/"] {
            assert_eq!(app.get("baq.test", path).await.status, 200);
        }
        app.cache.purge(&[format!("item:{}", story.item_id.0)]).await;
        app.db.db.close_by_ref().await.expect("stop the database");
        let bystander = app.get("baq.test", "/bystander").await;
        assert_eq!((bystander.status, bystander.header("x-cache")), (200, Some("hit")));
        for path in ["/survivor", "/"] {
            let purged = app.get("baq.test", path).await;
            assert_eq!((purged.status, purged.header("x-cache")), (200, Some("stale")), "{path}");
            assert!(purged.body.contains("still here") || path == "/", "{path}");
        }
        let never = app.get("baq.test", "/never-seen").await;
        assert_eq!(never.status, 500);
        assert!(!never.body.contains("pool") && !never.body.contains("closed"), "no internals on the error page");
    }
);

storage_test!(
    /// PF-2 several nodes: two app instances share Redis; a page cached by one is a hit on the
    /// other, and a purge on one reaches the other over pub/sub within a second.
    async fn pf2_two_instances_share_pages_and_purges_through_redis(t: TestDb) {
        let Some(redis) = baspa_testkit::redis_url() else { return };
        news_languages(&t.db).await;
        let now = baspa_domain::time::now();
        let story = published(&t.db, ItemKind::Article, None, None, &[("kk", "Shared", "<p>v1</p>")], now).await;
        let config = PageCacheConfig {
            redis_url: Some(redis),
            redis_prefix: baspa_testkit::unique_redis_prefix(),
            ..PageCacheConfig::default()
        };
        let db = t.db.clone();
        let one = spawn_app_with(t, AppOptions { cache: Some(config.clone()), ..Default::default() }).await;
        let two = add_second_app(&one, AppOptions { cache: Some(config), ..Default::default() }).await;
        // Let both subscribe before anything is purged.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(one.get("baq.test", "/shared").await.header("x-cache"), Some("miss"));
        let on_two = two.get("baq.test", "/shared").await;
        assert_eq!(on_two.header("x-cache"), Some("hit"), "the page one rendered is shared through Redis");
        assert_eq!(two.get("baq.test", "/shared").await.header("x-cache"), Some("hit"));

        let actor = Actor::system("test");
        let ctx = Ctx::new(&db, &actor);
        let kk = story.translation("kk").expect("kk");
        let mut update = TranslationInput::new(lang("kk"), "Shared", "<p>v2</p>");
        update.slug = Some(Slug::parse("shared").expect("slug"));
        baspa_actions::revise_translation(&ctx, kk, update, None).await.expect("revise");
        baspa_actions::publish_translation(&ctx, kk, None).await.expect("publish");
        // The purge job runs on node one only.
        one.run_pending_jobs().await;
        let started = std::time::Instant::now();
        loop {
            let page = two.get("baq.test", "/shared").await;
            if page.body.contains("v2") {
                break;
            }
            assert!(started.elapsed() < std::time::Duration::from_secs(1), "node two still serves the old page");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
);

storage_test!(
    /// PF-2 Redis down: with Redis unreachable the node serves and caches from its own memory
    /// and its purges still work locally.
    async fn pf2_with_redis_unreachable_the_node_keeps_serving_from_memory(t: TestDb) {
        news_languages(&t.db).await;
        let now = baspa_domain::time::now();
        let story = published(&t.db, ItemKind::Article, None, None, &[("kk", "Alone", "<p>v1</p>")], now).await;
        let closed_port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let config = PageCacheConfig {
            redis_url: Some(format!("redis://127.0.0.1:{closed_port}/")),
            ..PageCacheConfig::default()
        };
        let db = t.db.clone();
        let app = spawn_app_with(t, AppOptions { cache: Some(config), ..Default::default() }).await;
        assert_eq!(app.get("baq.test", "/alone").await.status, 200);
        let again = app.get("baq.test", "/alone").await;
        assert_eq!((again.status, again.header("x-cache")), (200, Some("hit")));
        let actor = Actor::system("test");
        let ctx = Ctx::new(&db, &actor);
        let kk = story.translation("kk").expect("kk");
        let mut update = TranslationInput::new(lang("kk"), "Alone", "<p>v2</p>");
        update.slug = Some(Slug::parse("alone").expect("slug"));
        baspa_actions::revise_translation(&ctx, kk, update, None).await.expect("revise");
        baspa_actions::publish_translation(&ctx, kk, None).await.expect("publish");
        app.run_pending_jobs().await;
        assert!(app.get("baq.test", "/alone").await.body.contains("v2"), "the local purge worked");
    }
);

/// A private `redis-server` on a free loopback port, stopped on drop.
struct PrivateRedis {
    port: u16,
    child: std::process::Child,
}

impl PrivateRedis {
    fn start_on(port: u16) -> Self {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server (apt-get install redis-server)");
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed().as_secs() < 10, "redis-server did not start");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Self { port, child }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

storage_test!(
    /// PF-2 Redis outage and return: while Redis is down node one keeps serving and purges
    /// locally; when Redis is back the purge is replayed, so node two (which kept the old page in
    /// its memory) drops it too.
    async fn pf2_a_purge_made_while_redis_was_down_reaches_the_other_node_when_it_returns(t: TestDb) {
        news_languages(&t.db).await;
        let now = baspa_domain::time::now();
        let story = published(&t.db, ItemKind::Article, None, None, &[("kk", "Outage", "<p>v1</p>")], now).await;
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let mut redis = PrivateRedis::start_on(port);
        let config =
            PageCacheConfig { redis_url: Some(format!("redis://127.0.0.1:{}/", redis.port)), ..Default::default() };
        let db = t.db.clone();
        let one = spawn_app_with(t, AppOptions { cache: Some(config.clone()), ..Default::default() }).await;
        let two = add_second_app(&one, AppOptions { cache: Some(config), ..Default::default() }).await;
        one.run_pending_jobs().await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(one.get("baq.test", "/outage").await.body.contains("v1"));
        assert_eq!(two.get("baq.test", "/outage").await.header("x-cache"), Some("hit"));

        redis.stop();
        let actor = Actor::system("test");
        let ctx = Ctx::new(&db, &actor);
        let kk = story.translation("kk").expect("kk");
        let mut update = TranslationInput::new(lang("kk"), "Outage", "<p>v2</p>");
        update.slug = Some(Slug::parse("outage").expect("slug"));
        baspa_actions::revise_translation(&ctx, kk, update, None).await.expect("revise");
        baspa_actions::publish_translation(&ctx, kk, None).await.expect("publish");
        one.run_pending_jobs().await;
        assert!(one.get("baq.test", "/outage").await.body.contains("v2"), "node one purged locally");
        assert!(two.get("baq.test", "/outage").await.body.contains("v1"), "node two cannot know yet");

        let _back = PrivateRedis::start_on(port);
        let started = std::time::Instant::now();
        while !two.get("baq.test", "/outage").await.body.contains("v2") {
            assert!(started.elapsed().as_secs() < 10, "node two never learnt of the purge");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
);

storage_test!(
    /// PF-1, SC-7, HD-8, HD-9, ML-3: a fresh page answered by the cached-answer fast path (before
    /// routing and the other layers) carries the same headers as the first, rendered answer; an
    /// address the monitor blocked stays blocked on cached pages; HSTS under HTTPS from a trusted
    /// proxy; `HEAD` is a hit without a body; and the main domain's home, an entry point whose
    /// answer depends on the visitor's languages, still redirects a Russian reader after a Kazakh
    /// one had it cached.
    async fn pf1_cached_answers_keep_headers_blocks_and_language_redirects(t: TestDb) {
        news_languages(&t.db).await;
        let now = baspa_domain::time::now();
        published(&t.db, ItemKind::Article, None, None, &[("kk", "Fast story", "<p>text</p>")], now).await;
        let options = AppOptions {
            monitor: Some(baspa_site::monitor::MonitorConfig::default()),
            trusted_proxies: vec!["127.0.0.1/32".to_owned()],
            ..cached()
        };
        let app = spawn_app_with(t, options).await;
        let reader = [("x-forwarded-for", "192.0.2.10")];
        let first = app.get_with("baq.test", "/fast-story", &reader).await;
        let hit = app.get_with("baq.test", "/fast-story", &reader).await;
        assert_eq!((first.status, first.header("x-cache")), (200, Some("miss")));
        assert_eq!((hit.status, hit.header("x-cache")), (200, Some("hit")));
        assert_eq!(hit.body, first.body);
        let names = |r: &baspa_testkit::app::TestResponse| {
            let mut n: Vec<String> = r.headers.keys().map(|k| k.as_str().to_owned()).collect();
            n.sort();
            n
        };
        assert_eq!(names(&hit), names(&first), "the same headers on a hit as on the render");
        for fixed in ["content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy"] {
            assert_eq!(hit.header(fixed), first.header(fixed), "{fixed}");
        }
        let id = |r: &baspa_testkit::app::TestResponse| r.header("x-request-id").map(str::to_owned);
        assert!(id(&hit).is_some_and(|i| i.len() == 16 && i.bytes().all(|b| b.is_ascii_hexdigit())));
        assert_ne!(id(&hit), id(&first), "a request id per request");
        assert!(hit.header("server").is_none() && hit.header("x-powered-by").is_none());
        assert!(hit.header("strict-transport-security").is_none(), "plain HTTP: no HSTS");

        let https = app.get_with("baq.test", "/fast-story", &[reader[0], ("x-forwarded-proto", "https")]).await;
        assert_eq!(https.header("x-cache"), Some("hit"));
        assert!(https.header("strict-transport-security").is_some_and(|v| v.contains("max-age=")));

        let head = reqwest::Client::new().head(format!("http://{}/fast-story", app.addr)).header("host", "baq.test");
        let head = head.header("x-forwarded-for", "192.0.2.10").send().await.expect("HEAD");
        assert_eq!(head.status(), 200);
        assert_eq!(head.headers().get("x-cache").and_then(|v| v.to_str().ok()), Some("hit"));
        assert!(head.bytes().await.expect("body").is_empty(), "HEAD has no body");

        // Five probes block the address (the default); the cached page is then refused to it too.
        let prober = [("x-forwarded-for", "198.51.100.77")];
        for path in ["/wp-login.php", "/.env", "/xmlrpc.php", "/.git/config", "/backup.sql"] {
            app.get_with("baq.test", path, &prober).await;
        }
        let refused = app.get_with("baq.test", "/fast-story", &prober).await;
        assert_eq!(refused.status, 403, "a blocked address gets no cached page");
        assert!(refused.header("retry-after").is_some() && refused.header("x-cache").is_none());
        assert!(refused.header("content-security-policy").is_some() && refused.header("x-request-id").is_some());
        assert_eq!(app.get_with("baq.test", "/fast-story", &reader).await.header("x-cache"), Some("hit"));

        // The main domain's home: cached for a Kazakh reader (and answered from the cache before
        // routing, `cached_answers`), still a redirect for a Russian one.
        let kk = [reader[0], ("accept-language", "kk")];
        let rendered = app.get_with("baq.test", "/", &kk).await;
        assert_eq!(rendered.status, 200);
        let again = app.get_with("baq.test", "/", &kk).await;
        assert_eq!((again.status, again.header("x-cache")), (200, Some("hit")));
        assert_eq!(again.body, rendered.body);
        assert_eq!(names(&again), names(&rendered), "the same headers on a hit of the home as on its render");
        assert!(again.header("vary").is_some_and(|v| v.contains("Accept-Language")), "varies on the languages");
        let ru = app.get_with("baq.test", "/", &[reader[0], ("accept-language", "ru")]).await;
        assert_eq!(ru.status, 302, "a Russian first visit is sent to the Russian site");
        assert!(ru.header("location").is_some_and(|l| l.contains("rus.baq.test")), "{:?}", ru.header("location"));
        // The language cookie outranks Accept-Language, on a cached home too.
        let chose_ru = app.get_with("baq.test", "/", &[kk[0], kk[1], ("cookie", "baspa_lang=ru")]).await;
        assert_eq!(chose_ru.status, 302, "a reader who chose Russian is sent to the Russian site");
        let chose_kk = [reader[0], ("accept-language", "ru"), ("cookie", "baspa_lang=kk")];
        let chose_kk = app.get_with("baq.test", "/", &chose_kk).await;
        assert_eq!(chose_kk.header("x-cache"), Some("hit"), "a reader who chose Kazakh gets the cached home");
        // No language asked for, or a crawler asking for Russian: the default home, never a redirect.
        assert_eq!(app.get_with("baq.test", "/", &reader).await.header("x-cache"), Some("hit"));
        let bot = [reader[0], ("accept-language", "ru"), ("user-agent", "Mozilla/5.0 (compatible; Googlebot/2.1)")];
        let crawled = app.get_with("baq.test", "/", &bot).await;
        assert_eq!((crawled.status, crawled.header("x-cache")), (200, Some("hit")));
        // The Russian site's home is no entry point: it is cached under its own key as any page.
        let ru_home = [reader[0], ("accept-language", "kk")];
        assert_eq!(app.get_with("rus.baq.test", "/", &ru_home).await.status, 200);
        let ru_hit = app.get_with("rus.baq.test", "/", &ru_home).await;
        assert_eq!((ru_hit.status, ru_hit.header("x-cache")), (200, Some("hit")));
        assert!(ru_hit.header("vary").is_none_or(|v| !v.contains("Accept-Language")), "{:?}", ru_hit.header("vary"));
    }
);
