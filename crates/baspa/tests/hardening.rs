//! Requests a scanner makes and Baspa refuses (HD-2, HD-3, HD-5, HD-8, HD-9), over loopback on
//! every backend: `TRACE`/`TRACK`/`CONNECT` and unknown methods get 405 on every path without an
//! echo; sensitive files (dotfiles, `..`, backups, dumps, configuration, source, template sources)
//! and symlinks out of the theme folder get the generic 404 page however the path is encoded; no
//! directory listing; `X-Forwarded-Proto` counts only from a trusted proxy.
//!
//! Paths are sent over a raw socket: an HTTP client library would normalise `%2e%2e` away.

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

use std::net::SocketAddr;

use baspa_site::monitor::MonitorConfig;
use baspa_testkit::app::{AppOptions, spawn_app_with};
use baspa_testkit::builders::news_languages;
use baspa_testkit::{TestDb, storage_test};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const HOST: &str = "baq.test";
/// Sent with every probe; no answer may contain it.
const CANARY: &str = "canary-7f3a9e";
/// What the files a scanner must never read contain.
const SECRET: &str = "secret-b41d0c";

/// The monitor would block the test's own address after a few probes; these tests are about
/// what a probe gets, so its limits are out of the way.
fn lenient_monitor() -> MonitorConfig {
    MonitorConfig {
        requests_per_minute: 100_000,
        assets_per_minute: 100_000,
        agent_requests_per_minute: 100_000,
        pages_per_minute: 100_000,
        not_found_per_minute: 100_000,
        probes_before_block: 100_000,
        ..Default::default()
    }
}

struct Raw {
    status: u16,
    head: String,
    body: String,
}

/// One request as written, byte for byte (`Connection: close`), and the whole answer.
async fn raw(addr: SocketAddr, method: &str, target: &str) -> Raw {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {HOST}\r\nX-Echo: {CANARY}\r\nCookie: c={CANARY}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes).await;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Raw { status, head: head.to_ascii_lowercase(), body: body.to_owned() }
}

/// The generic error page: HTML carrying the request id of its `X-Request-Id` header.
fn assert_generic_page(res: &Raw, what: &str) {
    assert!(res.head.contains("content-type: text/html"), "{what}: not the HTML error page\n{}", res.head);
    let id = res
        .head
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .unwrap_or_else(|| panic!("{what}: no request id\n{}", res.head));
    assert!(res.body.contains(id.trim()), "{what}: the page does not show the request id");
    assert!(!res.body.contains(CANARY) && !res.head.contains(CANARY), "{what}: the request is echoed");
    assert!(!res.body.contains(SECRET), "{what}: a secret file was served");
}

/// A theme folder holding things that must never be served: a `.env`, a `secrets.toml`, a
/// template source, and a symlink to a file outside the folder; plus one real stylesheet.
fn hostile_theme() -> (tempfile::TempDir, tempfile::TempDir) {
    let theme = tempfile::tempdir().expect("theme");
    let outside = tempfile::tempdir().expect("outside");
    let assets = theme.path().join("assets");
    std::fs::create_dir_all(&assets).expect("assets");
    std::fs::write(assets.join("site.css"), "body { color: black }").expect("css");
    std::fs::write(assets.join(".env"), format!("DATABASE_URL={SECRET}")).expect(".env");
    std::fs::write(assets.join("secrets.toml"), format!("key = \"{SECRET}\"")).expect("toml");
    std::fs::write(assets.join("base.html.bak"), SECRET).expect("bak");
    std::fs::write(theme.path().join("secrets.toml"), format!("key = \"{SECRET}\"")).expect("toml");
    std::fs::write(outside.path().join("passwd.css"), SECRET).expect("outside file");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(outside.path().join("passwd.css"), assets.join("linked.css")).expect("symlink");
        std::os::unix::fs::symlink(outside.path(), assets.join("outside")).expect("dir symlink");
    }
    (theme, outside)
}

storage_test!(
    /// HD-8: TRACE, TRACK, CONNECT and made-up methods are refused with 405 and the generic page
    /// on public pages, files, the comment form and the admin, and never echo the request.
    async fn hd8_trace_track_connect_and_unknown_methods_get_405_without_an_echo(t: TestDb) {
        news_languages(&t.db).await;
        let options = AppOptions { monitor: Some(lenient_monitor()), ..Default::default() };
        let app = spawn_app_with(t, options).await;
        for path in
            ["/", "/ru/", "/no-such-page", "/media/abc.png", "/theme/site.css", "/comment", "/admin", "/admin/login"]
        {
            for method in ["TRACE", "TRACK", "CONNECT", "PROPFIND", "DEBUG", "FOO", "PUT", "PATCH", "DELETE"] {
                let res = raw(app.addr, method, path).await;
                let what = format!("{method} {path}");
                assert_eq!(res.status, 405, "{what}\n{}", res.head);
                assert_generic_page(&res, &what);
            }
        }
        // CONNECT in its proxy form (an authority, not a path) is refused the same way.
        let res = raw(app.addr, "CONNECT", "internal.example:443").await;
        assert_eq!(res.status, 405, "{}", res.head);
        assert_generic_page(&res, "CONNECT internal.example:443");
        // A method a route does not take (GET on the comment form) also gets the generic page.
        let res = raw(app.addr, "GET", "/comment").await;
        assert_eq!(res.status, 405);
        assert_generic_page(&res, "GET /comment");
        // HD-2: the framework's own rejection text (it names types) becomes the generic page.
        let res = raw(app.addr, "GET", "/media/%FF%FE.png").await;
        assert_eq!(res.status, 400, "{}", res.head);
        assert_generic_page(&res, "GET /media/%FF%FE.png");
        assert!(!res.body.contains("Invalid URL") && !res.body.contains("String"), "{}", res.body);
    }
);

storage_test!(
    /// HD-3: sensitive files are never served — dotfiles, `..` however encoded, backups, dumps,
    /// configuration, source, template sources, symlinks out of the theme folder — and folders
    /// are never listed; every refusal is the generic 404 page. The real stylesheet still loads.
    async fn hd3_sensitive_paths_and_theme_symlinks_get_the_generic_404(t: TestDb) {
        news_languages(&t.db).await;
        let (theme, _outside) = hostile_theme();
        let options = AppOptions {
            monitor: Some(lenient_monitor()),
            theme_dir: Some(theme.path().to_path_buf()),
            ..Default::default()
        };
        let app = spawn_app_with(t, options).await;
        let ok = raw(app.addr, "GET", "/theme/site.css").await;
        assert_eq!(ok.status, 200, "the theme's stylesheet is served");
        for path in [
            "/.git/config",
            "/.git/HEAD",
            "/.env",
            "/ru/.env",
            "/admin/.env",
            "/.htaccess",
            "/.DS_Store",
            "/backup.sql",
            "/db.sqlite",
            "/data/baspa.sqlite",
            "/baspa.toml",
            "/Cargo.toml",
            "/Cargo.lock",
            "/src/main.rs",
            "/crates/baspa/src/main.rs",
            "/index.html.bak",
            "/base.html~",
            "/theme/base.html",
            "/theme/error.html",
            "/locales/kk/main.ftl",
            "/theme/.env",
            "/theme/%2eenv",
            "/theme/secrets.toml",
            "/theme/base.html.bak",
            "/theme/linked.css",
            "/theme/outside",
            "/theme/outside/passwd.css",
            "/theme/..%2fsecrets.toml",
            "/theme/%2e%2e%2fsecrets.toml",
            "/theme/%2e%2e/secrets.toml",
            "/theme/..%5csecrets.toml",
            "/theme/..\\secrets.toml",
            "/theme/%252e%252e%252fsecrets.toml",
            "/theme/",
            "/theme",
            "/media/",
            "/media",
            "/media/..%2f..%2fbaspa.toml",
            "/media/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
            "/media/..%5c..%5cbaspa.sqlite",
            "/media/.hidden",
            "/media/%00",
            "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
            "/..;/admin",
            "/admin/assets/../../baspa.toml",
        ] {
            let res = raw(app.addr, "GET", path).await;
            assert_eq!(res.status, 404, "GET {path}");
            assert_generic_page(&res, path);
        }
    }
);

storage_test!(
    /// HD-5, HD-9: behind a TLS-terminating proxy, `X-Forwarded-Proto: https` from a trusted
    /// proxy brings HSTS and `Secure` cookies; the same header from anyone else changes nothing.
    async fn hd9_forwarded_proto_counts_only_from_a_trusted_proxy(t: TestDb) {
        news_languages(&t.db).await;
        let trusted = AppOptions {
            monitor: Some(lenient_monitor()),
            trusted_proxies: vec!["127.0.0.1/32".to_owned()],
            ..Default::default()
        };
        let db2 = TestDb::create(t.backend).await.expect("a second database");
        news_languages(&db2.db).await;
        let app = spawn_app_with(t, trusted).await;
        let https = [("x-forwarded-proto", "https")];
        let res = app.get_with(HOST, "/?lang=kk", &https).await;
        assert_eq!(res.header("strict-transport-security"), Some("max-age=31536000; includeSubDomains"));
        let (_, line) = res.set_cookie("baspa_lang").expect("language cookie");
        assert!(line.contains("; Secure"), "{line}");
        let plain = app.get_with(HOST, "/?lang=kk", &[("x-forwarded-proto", "http")]).await;
        assert_eq!(plain.header("strict-transport-security"), None);
        let (_, line) = plain.set_cookie("baspa_lang").expect("language cookie");
        assert!(!line.contains("Secure"), "{line}");

        let untrusted = AppOptions { monitor: Some(lenient_monitor()), ..Default::default() };
        let app = spawn_app_with(db2, untrusted).await;
        let res = app.get_with(HOST, "/?lang=kk", &https).await;
        assert_eq!(res.header("strict-transport-security"), None, "a client's own header is ignored");
        let (_, line) = res.set_cookie("baspa_lang").expect("language cookie");
        assert!(!line.contains("Secure"), "{line}");
    }
);
