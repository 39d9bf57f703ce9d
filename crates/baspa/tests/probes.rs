//! The project's own security probes (issue 6; HD-1..HD-9), one test per category of the
//! auditors' findings list, over real HTTP against the real router on every backend: public
//! pages, admin pages signed in, and error paths (404, 405, 413, 422, 500).
//!
//! Each probe is a function that returns a list of findings, so the same code runs against the
//! normal app (no finding allowed) and against a deliberately broken one
//! (`AppOptions::insecure_for_probe_test`, which must be caught). `docs/security.md` maps every
//! category and ASVS item to these tests and to the scanner run in `security/scan.sh`.
//!
//! Every request carries its own documentation-range client address through a trusted
//! loopback proxy, so the anomaly monitor never blocks the probing itself.

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU32, Ordering};

use baspa_domain::{ItemKind, Role};
use baspa_testkit::app::{AppOptions, TestApp, TestResponse, spawn_app_with};
use baspa_testkit::builders::{news_languages, published};
use baspa_testkit::staff::{PASSWORD, StaffSession, admin_without_second_factor, staff_user};
use baspa_testkit::{TestDb, storage_test};

const HOST: &str = "baq.test";
const ADMIN_EMAIL: &str = "probe-admin@baq.test";
/// An address in an article body: it must only ever reach a page obfuscated (HD-6).
const PRESS_EMAIL: &str = "press@baq.kz";
const ARTICLE: &str = "/ekonomika/astanada-jana-zauyt-ashyldy";

/// One thing a probe caught: its category (the auditors' words) and where.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Finding {
    category: &'static str,
    detail: String,
}

fn finding(category: &'static str, detail: impl Into<String>) -> Finding {
    Finding { category, detail: detail.into() }
}

/// Fails the test with every finding listed, one per line.
fn assert_none(findings: &[Finding]) {
    let mut report = String::new();
    for f in findings.iter().take(40) {
        let _ = writeln!(report, "[{}] {}", f.category, f.detail);
    }
    assert!(findings.is_empty(), "{} finding(s):\n{report}", findings.len());
}

/// A response as a probe sees it: what was asked, the status, every header, the body.
struct Answer {
    what: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn from_test(what: String, res: TestResponse) -> Self {
        let headers = res
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        Answer { what, status: res.status, headers, body: res.body }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn cookies(&self) -> impl Iterator<Item = &str> {
        self.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie")).map(|(_, v)| v.as_str())
    }

    /// Headers and body as one text, for leak searches.
    fn all_text(&self) -> String {
        let mut s = String::new();
        for (k, v) in &self.headers {
            let _ = writeln!(s, "{k}: {v}");
        }
        s.push_str(&self.body);
        s
    }
}

/// A fresh documentation-range (TEST-NET) client address per request.
fn client_ip() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let net = ["192.0.2", "198.51.100", "203.0.113"][(n / 250 % 3) as usize];
    format!("{net}.{}", n % 250 + 1)
}

/// Percent-encodes everything but unreserved characters (query values and path segments).
fn enc(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Who is probing: the app, and a signed-in administrator when the probe needs one.
struct Target<'a> {
    app: &'a TestApp,
    staff: Option<&'a StaffSession>,
    /// The app runs with `admin.https` behind a TLS proxy (requests carry `X-Forwarded-Proto:
    /// https` from the trusted loopback proxy): cookies must be `Secure`, the session `__Host-`.
    secure_cookies: bool,
}

impl Target<'_> {
    async fn get(&self, path: &str, signed_in: bool) -> Answer {
        self.get_with(path, signed_in, &[]).await
    }

    async fn get_with(&self, path: &str, signed_in: bool, extra: &[(&str, &str)]) -> Answer {
        let ip = client_ip();
        let mut headers = vec![("x-forwarded-for", ip.as_str())];
        let cookie = self.staff.filter(|_| signed_in).map(|s| s.cookie.clone());
        if let Some(c) = &cookie {
            headers.push(("cookie", c));
        }
        if self.secure_cookies {
            headers.push(("x-forwarded-proto", "https"));
        }
        headers.extend_from_slice(extra);
        let who = if cookie.is_some() { "signed in" } else { "anonymous" };
        Answer::from_test(format!("GET {path} ({who})"), self.app.get_with(HOST, path, &headers).await)
    }

    /// POSTs a form; `csrf` adds the session's token (when signed in).
    async fn post(&self, path: &str, form: &[(&str, &str)], signed_in: bool, csrf: bool) -> Answer {
        let ip = client_ip();
        let origin = format!("http://{HOST}");
        let mut headers = vec![("x-forwarded-for", ip.as_str()), ("origin", origin.as_str())];
        if self.secure_cookies {
            headers.push(("x-forwarded-proto", "https"));
        }
        let staff = self.staff.filter(|_| signed_in);
        if let Some(s) = staff {
            headers.push(("cookie", s.cookie.as_str()));
        }
        let mut fields: Vec<(&str, &str)> = Vec::new();
        if let Some(s) = staff.filter(|_| csrf) {
            fields.push(("_csrf", s.csrf.as_str()));
        }
        fields.extend_from_slice(form);
        let who = match (staff.is_some(), csrf) {
            (false, _) => "anonymous",
            (true, true) => "signed in",
            (true, false) => "signed in, no CSRF token",
        };
        Answer::from_test(format!("POST {path} ({who})"), self.app.post_form(HOST, path, &fields, &headers).await)
    }

    /// Sends bytes as they are (odd methods, dot segments a client library would normalise).
    /// `half_close`: end the request after the bytes (the server then sees a short body).
    async fn raw(&self, what: &str, request: String, half_close: bool) -> Answer {
        let addr = self.app.addr;
        let what = what.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(addr).expect("connect");
            stream.set_read_timeout(Some(std::time::Duration::from_secs(15))).expect("timeout");
            // A server may answer (413) and close before a large body is sent: read what came.
            let _ = stream.write_all(request.as_bytes());
            if half_close {
                let _ = stream.shutdown(std::net::Shutdown::Write);
            }
            let mut raw = Vec::new();
            let _ = stream.read_to_end(&mut raw);
            let text = String::from_utf8_lossy(&raw).into_owned();
            let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text.as_str(), ""));
            let mut lines = head.lines();
            let status = lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|s| s.parse().ok());
            let headers = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                .collect();
            Answer { what, status: status.unwrap_or(0), headers, body: body.to_owned() }
        })
        .await
        .expect("raw request")
    }

    /// POSTs a large form body over its own connection (the server may close it early, which
    /// must not break the pooled client of the other requests).
    async fn raw_post_large(&self, path: &str, field: &str, size: usize, signed_in: bool) -> Answer {
        let mut body = String::new();
        let mut cookie = String::new();
        if let Some(s) = self.staff.filter(|_| signed_in) {
            body = format!("_csrf={}&", enc(&s.csrf));
            cookie = format!("Cookie: {}\r\n", s.cookie);
        }
        body.push_str(&format!("{field}={}", "x".repeat(size)));
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {HOST}\r\nOrigin: http://{HOST}\r\nX-Forwarded-For: {}\r\n{cookie}\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            client_ip(),
            body.len()
        );
        self.raw(&format!("POST {path} with {size} bytes"), request, false).await
    }

    async fn raw_get(&self, path: &str) -> Answer {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {HOST}\r\nX-Forwarded-For: {}\r\nConnection: close\r\n\r\n",
            client_ip()
        );
        self.raw(&format!("GET {path} (raw)"), request, false).await
    }
}

/// A site with kk/ru, a section, an article carrying an e-mail address and an approved
/// comment, an administrator signed in through the form (from a public test address), served
/// with `admin` settings (`https` for the cookie probe).
async fn site(t: TestDb, secure_cookies: bool, insecure_for_probe_test: bool) -> TestApp {
    news_languages(&t.db).await;
    let now = baspa_domain::time::now();
    let economy =
        published(&t.db, ItemKind::Section, None, None, &[("kk", "Экономика", ""), ("ru", "Экономика", "")], now).await;
    published(
        &t.db,
        ItemKind::Article,
        Some(economy.item_id),
        None,
        &[
            ("kk", "Астанада жаңа зауыт ашылды", &format!("<p>Баспасөз қызметі: {PRESS_EMAIL}</p>")),
            (
                "ru",
                "В Астане открылся новый завод",
                &format!("<p>Пресс-служба: <a href=\"mailto:{PRESS_EMAIL}\">{PRESS_EMAIL}</a></p>"),
            ),
        ],
        now,
    )
    .await;
    staff_user(&t, ADMIN_EMAIL, Role::Administrator).await;
    let mut admin = admin_without_second_factor();
    admin.secure_cookies = secure_cookies;
    let options = AppOptions {
        admin: Some(admin),
        trusted_proxies: vec!["127.0.0.1/32".to_owned()],
        insecure_for_probe_test,
        ..Default::default()
    };
    spawn_app_with(t, options).await
}

/// Signs in through the form as a browser would, from a public test address.
async fn sign_in(app: &TestApp) -> StaffSession {
    let ip = client_ip();
    let mut headers = vec![("x-forwarded-for", ip.as_str())];
    if app.admin.secure_cookies {
        headers.push(("x-forwarded-proto", "https"));
    }
    let res = app.post_form(HOST, "/admin/login", &[("email", ADMIN_EMAIL), ("password", PASSWORD)], &headers).await;
    assert_eq!(res.status, 303, "sign-in: {}", res.body);
    let name = app.admin.session_cookie_name();
    let cookie = res.set_cookie(name).map(|(pair, _)| pair).expect("session cookie");
    headers.push(("cookie", &cookie));
    let page = app.get_with(HOST, "/admin/sessions", &headers).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.hidden("_csrf").expect("csrf field");
    StaffSession { host: HOST.to_owned(), cookie, csrf }
}

// ---------------------------------------------------------------------------------------------
// What every answer is checked for.

/// Application error details: source paths, panics, library and type names (HD-2, HD-4).
const ERROR_MARKERS: &[&str] = &[
    "/src/",
    "/root/",
    "/home/",
    "/work/",
    "/var/cache",
    "/tmp/",
    ".rs:",
    "panicked",
    "backtrace",
    "sqlx",
    "SeaORM",
    "sea_orm",
    "DbErr",
    "StoreError",
    "Cannot parse",
    "Failed to deserialize",
    "Failed to parse",
    "missing field",
    "unknown variant",
    "invalid digit",
    "`i64`",
    "`u64`",
    "length limit exceeded",
    "Invalid URL",
];

/// Database error text (HD-1: an injection that reaches SQL shows up as one of these).
const SQL_MARKERS: &[&str] = &[
    "SQLSTATE",
    "syntax error",
    "SQL syntax",
    "sqlite3",
    "SQLite",
    "MySQL",
    "MariaDB",
    "PostgreSQL",
    "unterminated quoted",
    "ORA-0",
    "near \"",
    "database error",
    "Query Error",
];

/// Error details anywhere in headers or body; `sent` is what the client put in the request
/// (an echo of it, escaped, is not a leak).
fn error_findings(a: &Answer, sent: &str) -> Vec<Finding> {
    let text = a.all_text();
    ERROR_MARKERS
        .iter()
        .filter(|m| text.contains(*m) && !sent.contains(*m))
        .map(|m| finding("application error message / path disclosure", format!("{}: contains {m:?}", a.what)))
        .collect()
}

/// Private, loopback and link-local IPv4 addresses in headers or body that the client did not send.
fn internal_ip_findings(a: &Answer, sent: &str) -> Vec<Finding> {
    let text = a.all_text();
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() || (i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'.')) {
            i += 1;
            continue;
        }
        let end = bytes[i..].iter().position(|b| !(b.is_ascii_digit() || *b == b'.')).map_or(bytes.len(), |p| i + p);
        let candidate = text[i..end].trim_end_matches('.');
        if let Ok(ip) = candidate.parse::<std::net::Ipv4Addr>()
            && (ip.is_private() || ip.is_loopback() || ip.is_link_local())
            && !sent.contains(candidate)
        {
            out.push(finding("internal IP address disclosure", format!("{}: {candidate}", a.what)));
        }
        i = end.max(i + 1);
    }
    out
}

/// `Server`, `X-Powered-By`, generator tags, framework or language names and versions (HD-8).
/// `body_too`: the admin's component page lists versions by design (SC-4), so only its
/// headers are checked.
fn version_findings(a: &Answer, body_too: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    for name in ["server", "x-powered-by", "x-aspnet-version", "x-runtime", "x-generator", "via"] {
        if let Some(v) = a.header(name) {
            out.push(finding("server / language version disclosure", format!("{}: header {name}: {v}", a.what)));
        }
    }
    let version = env!("CARGO_PKG_VERSION");
    let words = ["baspa/", "axum", "hyper", "tokio", "rustc", "rust/", "(rust)", "actix", "tower"];
    for (name, value) in &a.headers {
        let v = value.to_ascii_lowercase();
        if let Some(w) = words.iter().find(|w| v.contains(*w)) {
            out.push(finding("server / language version disclosure", format!("{}: header {name} names {w}", a.what)));
        }
    }
    if body_too {
        let body = a.body.to_ascii_lowercase();
        let version_strings = [format!("baspa/{version}"), format!("baspa {version}"), format!("baspa v{version}")];
        let tells = ["name=\"generator\"", "name=generator", "powered by", "axum/", "hyper/", "rustc ", "tokio/"];
        for t in tells.iter().map(|s| s.to_string()).chain(version_strings) {
            if body.contains(&t) {
                out.push(finding("server / language version disclosure", format!("{}: body contains {t:?}", a.what)));
            }
        }
    }
    out
}

/// Every `Set-Cookie` is `HttpOnly` and `SameSite`; under HTTPS also `Secure`, and the staff
/// session cookie has the `__Host-` prefix (HD-5).
fn cookie_findings(a: &Answer, secure: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in a.cookies() {
        let attrs: Vec<String> = c.split(';').skip(1).map(|s| s.trim().to_ascii_lowercase()).collect();
        let has = |name: &str| attrs.iter().any(|x| x == name || x.starts_with(&format!("{name}=")));
        let name = c.split('=').next().unwrap_or_default().trim();
        if !has("httponly") {
            out.push(finding("cookie without HttpOnly", format!("{}: {c}", a.what)));
        }
        if !has("samesite") {
            out.push(finding("cookie without SameSite", format!("{}: {c}", a.what)));
        }
        if secure && !has("secure") {
            out.push(finding("cookie without Secure under HTTPS", format!("{}: {c}", a.what)));
        }
        if secure && name.contains("staff") && (!name.starts_with("__Host-") || has("domain")) {
            out.push(finding("session cookie without the __Host- prefix under HTTPS", format!("{}: {c}", a.what)));
        }
    }
    out
}

/// The security headers every answer carries (HD-8, HD-9).
fn header_findings(a: &Answer) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut missing = |what: &str| out.push(finding("missing security header", format!("{}: {what}", a.what)));
    match a.header("content-security-policy") {
        None => missing("Content-Security-Policy"),
        Some(csp) => {
            if !csp.contains("'nonce-") {
                missing("CSP without a nonce");
            }
            if csp.contains("unsafe-inline") || csp.contains("unsafe-eval") {
                missing("CSP allows unsafe-inline/unsafe-eval");
            }
            if !csp.contains("frame-ancestors 'none'") {
                missing("CSP without frame-ancestors 'none'");
            }
        }
    }
    if a.header("x-content-type-options") != Some("nosniff") {
        missing("X-Content-Type-Options: nosniff");
    }
    if a.header("referrer-policy").is_none() {
        missing("Referrer-Policy");
    }
    if a.header("permissions-policy").is_none() {
        missing("Permissions-Policy");
    }
    out.extend(version_findings(a, false));
    out
}

/// Plain `x@y.z` addresses in the page (HD-6).
fn email_findings(a: &Answer) -> Vec<Finding> {
    let b = a.body.as_bytes();
    let local = |c: u8| c.is_ascii_alphanumeric() || b"._%+-".contains(&c);
    let domain = |c: u8| c.is_ascii_alphanumeric() || c == b'.' || c == b'-';
    let mut out = Vec::new();
    for (at, _) in a.body.match_indices('@') {
        let start = b[..at].iter().rposition(|c| !local(*c)).map_or(0, |p| p + 1);
        let end = b[at + 1..].iter().position(|c| !domain(*c)).map_or(b.len(), |p| at + 1 + p);
        let host = a.body[at + 1..end].trim_end_matches('.');
        if start < at && host.contains('.') && host.rsplit('.').next().is_some_and(|tld| tld.len() >= 2) {
            out.push(finding(
                "embedded e-mail address",
                format!("{}: {}", a.what, &a.body[start..at + 1 + host.len()]),
            ));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The injection sweep: every query parameter and form field of search, comments, the admin's
// lists and filters, and sign-in, with each payload.

/// (what was asked, the payload, the answer).
type Swept = Vec<(String, String, Answer)>;

async fn sweep(t: &Target<'_>, payloads: &[&str]) -> Swept {
    let mut out = Vec::new();
    for p in payloads {
        let e = enc(p);
        let public_gets = [
            format!("/search?q={e}"),
            format!("/search?q=zauyt&section={e}"),
            format!("/search?q=zauyt&kind={e}"),
            format!("/search?q=zauyt&from={e}&to={e}"),
            format!("/search?q=zauyt&page={e}&sort={e}"),
            format!("/?lang={e}"),
            format!("/{e}"),
            format!("/ekonomika/{e}"),
            format!("{ARTICLE}?lang={e}"),
            format!("/tag/{e}"),
            format!("/author/{e}"),
            format!("/archive/{e}/01/"),
            format!("/ekonomika/feed.xml?{e}={e}"),
            format!("/media/{e}"),
            format!("/theme/{e}"),
        ];
        for path in &public_gets {
            out.push((path.clone(), p.to_string(), t.get(path, false).await));
        }
        let fields = ["item_id", "lang", "return_to", "name", "email", "body", "website"];
        for field in fields {
            let mut form = vec![
                ("item_id", "2"),
                ("lang", "kk"),
                ("return_to", ARTICLE),
                ("name", "Probe"),
                ("email", "probe@example.org"),
                ("body", "Probe comment"),
                ("website", ""),
            ];
            for f in form.iter_mut() {
                if f.0 == field {
                    f.1 = p;
                }
            }
            out.push((format!("POST /comment {field}"), p.to_string(), t.post("/comment", &form, false, false).await));
        }
        out.push((
            "POST /admin/login".into(),
            p.to_string(),
            t.post("/admin/login", &[("email", p), ("password", p)], false, false).await,
        ));
        out.push(("GET /admin/reset".into(), p.to_string(), t.get(&format!("/admin/reset?token={e}"), false).await));
        if t.staff.is_some() {
            let mut admin_gets: Vec<String> = ["status", "lang", "kind", "q", "section", "missing", "page"]
                .iter()
                .map(|k| format!("/admin/content?{k}={e}"))
                .collect();
            admin_gets.extend(
                ["actor", "action", "kind", "entity", "from", "until", "before"]
                    .iter()
                    .map(|k| format!("/admin/journal?{k}={e}")),
            );
            admin_gets.extend([
                format!("/admin/search?q={e}"),
                format!("/admin/search?q=zauyt&page={e}"),
                format!("/admin/media?q={e}"),
                format!("/admin/media?page={e}&uploaded={e}"),
                format!("/admin/users?q={e}"),
                format!("/admin/comments?status={e}"),
                format!("/admin/content/new?kind={e}&lang={e}&section={e}"),
                format!("/admin/item/{e}"),
                format!("/admin/translation/{e}/edit"),
                format!("/admin/translation/1/diff?from={e}&to={e}"),
                format!("/admin/security?{e}={e}"),
            ]);
            for path in &admin_gets {
                out.push((path.clone(), p.to_string(), t.get(path, true).await));
            }
            let posted = t.post("/admin/profile", &[("display_name", p), ("ui", p)], true, true).await;
            out.push(("POST /admin/profile".into(), p.to_string(), posted));
        }
    }
    // What was stored from the payloads (comments awaiting moderation, journal entries) is
    // shown to staff: a stored-XSS check in the same sweep.
    if t.staff.is_some() {
        for path in ["/admin/comments", "/admin/journal", "/admin/security", "/admin/"] {
            let all = payloads.join(" ");
            out.push((path.to_owned(), all, t.get(path, true).await));
        }
    }
    out
}

/// HD-1 SQL injection: no 500, no database error text, no error details.
fn sql_findings(swept: &Swept) -> Vec<Finding> {
    let mut out = Vec::new();
    for (what, payload, a) in swept {
        // 503 is the generic "storage unavailable" answer (fail closed, e.g. a lock timeout
        // under load); its body is still searched for details below.
        if a.status >= 500 && a.status != 503 {
            out.push(finding("SQL injection", format!("{what} with {payload:?}: status {}", a.status)));
        }
        for m in SQL_MARKERS {
            if a.body.contains(m) && !payload.contains(m) {
                out.push(finding("SQL injection", format!("{what} with {payload:?}: body contains {m:?}")));
            }
        }
        out.extend(error_findings(a, payload));
    }
    out
}

/// The markup of the XSS payloads below, which must only ever come back escaped.
const XSS_MARKERS: &[&str] =
    &["<script>alert(7301)", "<img src=x onerror", "<svg onload", "<b>probe7304</b>", "href=\"javascript:", "<iframe"];

/// HD-1 reflected/stored XSS and HTML injection: payloads only ever echo escaped.
fn xss_findings(swept: &Swept) -> Vec<Finding> {
    let mut out = Vec::new();
    for (what, payload, a) in swept {
        let body = a.body.to_ascii_lowercase();
        for m in XSS_MARKERS {
            if body.contains(&m.to_ascii_lowercase()) {
                out.push(finding(
                    "reflected XSS / HTML injection",
                    format!("{what} with {payload:?}: {m:?} unescaped"),
                ));
            }
        }
        if a.cookies().any(|c| c.contains("probe=7308")) {
            out.push(finding("HTML injection (response splitting)", format!("{what}: the payload set a cookie")));
        }
        if let Some(loc) = a.header("location")
            && (loc.contains('<') || loc.to_ascii_lowercase().starts_with("javascript:") || loc.starts_with("//"))
        {
            out.push(finding("reflected XSS / open redirect", format!("{what}: Location {loc:?}")));
        }
        if a.status >= 500 && a.status != 503 {
            out.push(finding("application error message", format!("{what} with {payload:?}: status {}", a.status)));
        }
        out.extend(error_findings(a, payload));
    }
    out
}

const SQL_PAYLOADS: &[&str] = &[
    "'",
    "\"",
    "' OR 1=1--",
    "1' OR '1'='1",
    "1; DROP TABLE users--",
    "1 UNION SELECT NULL,NULL--",
    "') OR ('1'='1",
    "1' AND SLEEP(1)--",
    "\\",
];

const XSS_PAYLOADS: &[&str] = &[
    "<script>alert(7301)</script>",
    "\"><img src=x onerror=alert(7302)>",
    "'><svg onload=alert(7303)>",
    "</title><b>probe7304</b>",
    "javascript:alert(7305)",
    "<iframe src=//evil.example>",
    "//evil.example/%2e%2e",
    // Header injection through a redirect target (`return_to`): once a 500, found by wapiti.
    "/ekonomika/\r\nSet-Cookie: probe=7308",
    "/ekonomika/\nenv;",
];

storage_test!(
    /// HD-1: SQL metacharacters in every query parameter and form field of search, comments,
    /// the admin's lists and filters and sign-in never make a 500 or database error text.
    async fn hd1_sql_injection_probe_finds_nothing(t: TestDb) {
        let app = site(t, false, false).await;
        let staff = sign_in(&app).await;
        let target = Target { app: &app, staff: Some(&staff), secure_cookies: false };
        assert_none(&sql_findings(&sweep(&target, SQL_PAYLOADS).await));
    }
);

storage_test!(
    /// HD-1: script and markup payloads in every parameter, public and admin, come back
    /// escaped, stored ones included (comments and profile shown to staff); no open redirect.
    async fn hd1_reflected_xss_and_html_injection_probe_finds_nothing(t: TestDb) {
        let app = site(t, false, false).await;
        let staff = sign_in(&app).await;
        let target = Target { app: &app, staff: Some(&staff), secure_cookies: false };
        assert_none(&xss_findings(&sweep(&target, XSS_PAYLOADS).await));
    }
);

// ---------------------------------------------------------------------------------------------
// Error paths.

/// Answers of every kind of error: 404, 405, 413, 400/422 from bad input, and a 500 made by
/// breaking the database behind the app's back.
async fn error_answers(t: &Target<'_>, db: Option<&sea_orm::DatabaseConnection>) -> Vec<Answer> {
    let mut out = vec![
        t.get("/no/such/page", false).await,
        t.get("/no/such/page.php", false).await,
        t.get("/%ff%fe%00", false).await,
        t.get(&format!("/{}", "a".repeat(6000)), false).await,
        t.get("/media/no-such-key", false).await,
        t.get("/theme/no-such-file.css", false).await,
        t.get("/admin/assets/no-such.js", false).await,
        t.get("/search?page=-1&from=2026-13-45", false).await,
        t.post("/theme/x.css", &[("a", "b")], false, false).await,
        t.post("/media/x", &[("a", "b")], false, false).await,
        t.post("/comment", &[("item_id", "abc")], false, false).await,
        t.post("/comment", &[("nothing", "here")], false, false).await,
        t.post("/comment", &[("item_id", "999999"), ("lang", "kk"), ("return_to", "/"), ("body", "x")], false, false)
            .await,
        t.post("/comment", &[("item_id", "99999999999999999999999"), ("lang", "kk"), ("return_to", "/")], false, false)
            .await,
        t.raw_post_large("/comment", "body", 3 * 1024 * 1024, false).await,
        t.post("/admin/login", &[("email", "x")], false, false).await,
        t.get_with("/", false, &[("accept-language", &"x".repeat(5000))]).await,
        t.get_with("/", false, &[("cookie", "baspa_staff=%ff%00'\"; lang=<x>")]).await,
    ];
    out.push(
        t.raw(
            "POST /comment with a broken body",
            format!(
                "POST /comment HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                 Content-Length: 100\r\nConnection: close\r\n\r\nitem_id=1"
            ),
            true,
        )
        .await,
    );
    out.push(
        t.raw(
            "POST /comment as JSON",
            format!(
                "POST /comment HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\nOrigin: http://{HOST}\r\n\
                 Content-Length: 11\r\nConnection: close\r\n\r\n{{\"item\":1}}"
            ),
            false,
        )
        .await,
    );
    if t.staff.is_some() {
        for path in [
            "/admin/item/abc",
            "/admin/item/99999999999999999999",
            "/admin/item/999999",
            "/admin/translation/abc/edit",
            "/admin/translation/999999/revisions",
            "/admin/users/abc",
            "/admin/users/999999",
            "/admin/content?page=abc",
            "/admin/journal?before=abc",
            "/admin/no-such-page",
        ] {
            out.push(t.get(path, true).await);
        }
        out.push(t.post("/admin/item/abc/publish", &[], true, true).await);
        out.push(t.post("/admin/users/abc", &[("role", "x")], true, true).await);
        out.push(t.post("/admin/content/new", &[("kind", "nonsense")], true, true).await);
        out.push(t.raw_post_large("/admin/profile", "x", 9 * 1024 * 1024, true).await);
    }
    if let Some(db) = db {
        // A storage failure: the table behind comments disappears, pages that read it fail.
        baspa_testkit::execute_sql(db, "ALTER TABLE comments RENAME TO comments_gone", vec![]).await;
        let page = t.get(ARTICLE, false).await;
        assert_eq!(page.status, 500, "the broken database must make a 500 to probe: {}", page.what);
        out.push(page);
        out.push(t.get("/admin/comments", true).await);
    }
    out
}

storage_test!(
    /// HD-2, HD-4, HD-8: no error answer (404, 405, 413, 400/422, 500) carries a stack trace,
    /// a source or filesystem path, a library or type name, SQL or a version; each is a page
    /// with the security headers.
    async fn hd2_error_messages_probe_finds_nothing(t: TestDb) {
        let db = t.db.clone();
        let app = site(t, false, false).await;
        let staff = sign_in(&app).await;
        let target = Target { app: &app, staff: Some(&staff), secure_cookies: false };
        let answers = error_answers(&target, Some(&db)).await;
        let mut findings = Vec::new();
        for a in &answers {
            findings.extend(error_findings(a, ""));
            findings.extend(version_findings(a, true));
            findings.extend(internal_ip_findings(a, ""));
            // A body cut short may end the connection without an answer: nothing leaks then.
            if a.status == 0 && !a.what.contains("broken body") && !a.what.contains(" bytes") {
                findings.push(finding("application error message", format!("{}: no HTTP answer", a.what)));
            }
            if a.status >= 400 && !a.what.contains("raw") && !a.what.contains("broken body") {
                findings.extend(header_findings(a));
            }
        }
        let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
        for expected in [404, 405, 413, 500] {
            assert!(statuses.contains(&expected), "the probe reached no {expected}: {statuses:?}");
        }
        assert_none(&findings);
    }
);

// ---------------------------------------------------------------------------------------------
// Internal addresses, cookies, e-mail addresses.

/// Public pages, feeds and admin pages that a crawler or a signed-in scanner sees.
const PUBLIC_PAGES: &[&str] = &[
    "/",
    "/ekonomika/",
    ARTICLE,
    "/search?q=zauyt",
    "/search?q=press",
    "/robots.txt",
    "/sitemap.xml",
    "/sitemap-kk.xml",
    "/sitemap-news.xml",
    "/feed.xml",
    "/atom.xml",
    "/ekonomika/feed.xml",
    "/no/such/page",
];

const ADMIN_PAGES: &[&str] = &[
    "/admin/",
    "/admin/content",
    "/admin/search?q=zauyt",
    "/admin/item/2",
    "/admin/media",
    "/admin/users",
    "/admin/profile",
    "/admin/structure",
    "/admin/comments",
    "/admin/sessions",
    "/admin/security",
    "/admin/journal",
    "/admin/system",
];

storage_test!(
    /// HD-4: no private, loopback or link-local address in any header or body, public, admin
    /// (signed in from a public address) or error page, except what the client itself sent.
    async fn hd4_internal_ip_probe_finds_nothing(t: TestDb) {
        let app = site(t, false, false).await;
        let staff = sign_in(&app).await;
        let target = Target { app: &app, staff: Some(&staff), secure_cookies: false };
        let mut findings = Vec::new();
        for path in PUBLIC_PAGES {
            findings.extend(internal_ip_findings(&target.get(path, false).await, ""));
            findings
                .extend(internal_ip_findings(&target.get_with(path, false, &[("host", "10.0.0.7")]).await, "10.0.0.7"));
        }
        for path in ADMIN_PAGES {
            findings.extend(internal_ip_findings(&target.get(path, true).await, ""));
        }
        for a in error_answers(&target, None).await {
            findings.extend(internal_ip_findings(&a, ""));
        }
        assert_none(&findings);
    }
);

/// Answers that set cookies: the language choice, sign-in, the admin's UI language, sign-out.
async fn cookie_answers(t: &Target<'_>) -> Vec<Answer> {
    let mut out = vec![
        t.get("/?lang=ru", false).await,
        t.get(&format!("{ARTICLE}?lang=kk"), false).await,
        t.get_with("/", false, &[("accept-language", "ru")]).await,
    ];
    out.push(t.post("/admin/login", &[("email", ADMIN_EMAIL), ("password", PASSWORD)], false, false).await);
    out.push(t.post("/admin/login", &[("email", ADMIN_EMAIL), ("password", "wrong")], false, false).await);
    out.push(t.get("/admin/?ui=ru", true).await);
    out.push(t.post("/admin/profile", &[("ui", "en")], true, true).await);
    out
}

/// Every route of both routers and the cookies they set (shared with the route test).
async fn route_answers(t: &Target<'_>) -> Vec<Answer> {
    let mut out = Vec::new();
    for path in routes() {
        out.push(t.get(&path, false).await);
        out.push(t.get(&path, true).await);
        out.push(t.post(&path, &[("a", "1")], true, false).await);
        out.push(t.post(&path, &[("a", "1")], false, false).await);
    }
    out
}

storage_test!(
    /// HD-5: every cookie the site sets is HttpOnly and SameSite; with `admin.https` also
    /// Secure, and the staff session is `__Host-` (no Domain, Path=/).
    async fn hd5_cookie_flags_probe_finds_nothing(t: TestDb) {
        let app = site(t, true, false).await;
        let staff = sign_in(&app).await;
        let target = Target { app: &app, staff: Some(&staff), secure_cookies: true };
        let mut answers = cookie_answers(&target).await;
        answers.extend(route_answers(&target).await);
        let set = answers.iter().filter(|a| a.cookies().next().is_some()).count();
        assert!(set >= 2, "the probe saw too few cookies to mean anything");
        let findings: Vec<Finding> = answers.iter().flat_map(|a| cookie_findings(a, target.secure_cookies)).collect();
        assert_none(&findings);
    }
);

storage_test!(
    /// HD-6: an e-mail address in an article (plain text and a mailto link) never reaches a
    /// public page, search result or feed as a plain `x@y.z`.
    async fn hd6_embedded_email_probe_finds_nothing(t: TestDb) {
        let app = site(t, false, false).await;
        let mut findings = Vec::new();
        let mut seen_article = false;
        for host in [HOST, "rus.baq.test"] {
            for path in PUBLIC_PAGES.iter().chain(&["/ekonomika/v-astane-otkrylsya-novyy-zavod", "/search?q=zavod"]) {
                let ip = client_ip();
                let res = app.get_with(host, path, &[("x-forwarded-for", &ip)]).await;
                seen_article |= res.status == 200 && (res.body.contains("зауыт") || res.body.contains("завод"));
                findings.extend(email_findings(&Answer::from_test(format!("GET {host}{path}"), res)));
            }
        }
        assert!(seen_article, "the article must be on the probed pages");
        assert_none(&findings);
    }
);

// ---------------------------------------------------------------------------------------------
// Predictable resource locations.

/// Paths a scanner tries for sources, configuration, backups and dumps (HD-3, HD-7).
const SENSITIVE_PATHS: &[&str] = &[
    "/.git/config",
    "/.git/HEAD",
    "/.env",
    "/.htaccess",
    "/baspa.toml",
    "/Cargo.toml",
    "/Cargo.lock",
    "/backup.sql",
    "/dump.sql.gz",
    "/index.php.bak",
    "/index.html~",
    "/baspa.sqlite",
    "/data/baspa.sqlite",
    "/theme/../Cargo.toml",
    "/theme/..%2F..%2FCargo.toml",
    "/theme/..%2Fsecret.txt",
    "/theme/..%2Fprobe-template.html",
    "/theme/%2e%2e%2fprobe-template.html",
    "/theme/../probe-template.html",
    "/theme/base.html",
    "/theme/article.html",
    "/media/../baspa.sqlite",
    "/media/..%2Fbaspa.sqlite",
    "/media/..%2Fsecret.txt",
    "/media/%2e%2e%2fsecret.txt",
    "/admin/assets/..%2F..%2FCargo.toml",
    "/admin/assets/..%2Fmod.rs",
    "/templates/base.html",
    "/base.html",
    "/src/main.rs",
    "/crates/baspa/src/main.rs",
    "/media/",
    "/theme/",
    "/admin/assets/",
    "/quarantine/",
    "/WEB-INF/web.xml",
    "/server-status",
];

/// HD-3/HD-7: each sensitive path answers 404 (or the monitor's 403, or 400 for a malformed
/// path) with a generic page: no file content, no template source, no directory listing.
async fn location_findings(t: &Target<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for path in SENSITIVE_PATHS {
        let a = t.raw_get(path).await;
        if !matches!(a.status, 400 | 403 | 404) {
            out.push(finding("predictable resource location", format!("{}: status {}", a.what, a.status)));
        }
        let leaks = [
            "[package]",
            "[core]",
            "secret-probe-content",
            "{%",
            "{{",
            "Index of",
            "Parent Directory",
            "SQLite format",
        ];
        for l in leaks {
            if a.body.contains(l) {
                out.push(finding("predictable resource location", format!("{}: body contains {l:?}", a.what)));
            }
        }
        out.extend(error_findings(&a, path));
    }
    out
}

storage_test!(
    /// HD-3, HD-7: sources, configuration, dumps, backups, template sources and files beside
    /// the theme and media folders are never served; no directory listings; admin pages answer
    /// the same for existing and missing ids to someone not signed in (no enumeration).
    async fn hd3_hd7_predictable_resource_locations_probe_finds_nothing(t: TestDb) {
        news_languages(&t.db).await;
        let theme = tempfile::tempdir().expect("theme dir");
        std::fs::create_dir_all(theme.path().join("assets")).expect("assets");
        std::fs::write(theme.path().join("assets/site.css"), "body{}").expect("css");
        std::fs::write(theme.path().join("secret.txt"), "secret-probe-content").expect("secret");
        // A template source beside `assets/` (the renderer reads only its known names).
        std::fs::write(
            theme.path().join("probe-template.html"),
            "{% block x %}{{ secret-probe-content }}{% endblock %}",
        )
        .expect("template");
        let options = AppOptions {
            theme_dir: Some(theme.path().to_path_buf()),
            trusted_proxies: vec!["127.0.0.1/32".to_owned()],
            ..Default::default()
        };
        let app = spawn_app_with(t, options).await;
        let beside_media = app.media_dir.parent().expect("media parent").join("secret.txt");
        std::fs::write(&beside_media, "secret-probe-content").expect("secret");
        std::fs::write(app.media_dir.parent().expect("media parent").join("baspa.sqlite"), "SQLite format 3")
            .expect("fake db");
        let target = Target { app: &app, staff: None, secure_cookies: false };
        let css = target.get("/theme/site.css", false).await;
        assert_eq!(css.status, 200, "the theme's own assets are served");
        let mut findings = location_findings(&target).await;
        for (a, b) in [("/admin/item/1", "/admin/item/999999"), ("/admin/users/1", "/admin/users/999999")] {
            let (x, y) = (target.get(a, false).await, target.get(b, false).await);
            if (x.status, x.header("location")) != (y.status, y.header("location")) {
                findings.push(finding("enumeration", format!("{a} and {b} answer differently when not signed in")));
            }
        }
        assert_none(&findings);
    }
);

// ---------------------------------------------------------------------------------------------
// Server and version disclosure; methods.

/// HD-8: the version-disclosure probe over public pages, the admin's sign-in page and assets,
/// and error pages. Runs against the normal and the deliberately broken app.
async fn version_probe(t: &Target<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for path in PUBLIC_PAGES.iter().chain(&["/admin/login", "/admin/assets/admin.css", "/admin/", "/admin/forgot"]) {
        findings.extend(version_findings(&t.get(path, false).await, true));
    }
    for path in ADMIN_PAGES {
        // The component page lists versions to staff by design (SC-4): headers only there.
        findings.extend(version_findings(&t.get(path, true).await, !path.ends_with("/system")));
    }
    for a in error_answers(t, None).await {
        findings.extend(version_findings(&a, true));
    }
    findings
}

storage_test!(
    /// HD-8: no `Server`, `X-Powered-By`, generator tag or Baspa/axum/hyper/Rust version in any
    /// header or body, public, admin or error.
    async fn hd8_version_disclosure_probe_finds_nothing(t: TestDb) {
        let app = site(t, false, false).await;
        let staff = sign_in(&app).await;
        let target = Target { app: &app, staff: Some(&staff), secure_cookies: false };
        assert_none(&version_probe(&target).await);
    }
);

storage_test!(
    /// Issue 6 acceptance: the probes can fail. Against a deliberately broken build
    /// (`Server: baspa/<version>` and `X-Powered-By` put back) the same version probe and the
    /// route-header probe report the disclosure.
    async fn hd8_probes_catch_a_deliberately_broken_build(t: TestDb) {
        let app = site(t, false, true).await;
        let staff = sign_in(&app).await;
        let target = Target { app: &app, staff: Some(&staff), secure_cookies: false };
        let findings = version_probe(&target).await;
        let version = env!("CARGO_PKG_VERSION");
        assert!(
            findings.iter().any(|f| f.detail.contains(&format!("header server: baspa/{version}"))),
            "the probe must report the Server header: {findings:?}"
        );
        assert!(findings.iter().any(|f| f.detail.contains("header x-powered-by")), "{findings:?}");
        let home = target.get("/", false).await;
        assert!(!header_findings(&home).is_empty(), "the header probe reports it too");
    }
);

storage_test!(
    /// HD-8: TRACE, TRACK and CONNECT are refused (405, or 400 for a malformed CONNECT) and
    /// never echo the request back (cross-site tracing).
    async fn hd8_trace_track_connect_are_refused_without_echo(t: TestDb) {
        let app = site(t, false, false).await;
        let target = Target { app: &app, staff: None, secure_cookies: false };
        let mut findings = Vec::new();
        for method in ["TRACE", "TRACK", "CONNECT", "DEBUG"] {
            for path in ["/", ARTICLE, "/search?q=x", "/admin/login", "/admin/", "/media/x", "/comment", "/no/such"] {
                let target_form = if method == "CONNECT" { format!("{HOST}:443") } else { path.to_owned() };
                let request = format!(
                    "{method} {target_form} HTTP/1.1\r\nHost: {HOST}\r\nX-Forwarded-For: {}\r\n\
                     X-Probe-Echo: echo-7306\r\nCookie: probe=echo-7307\r\nConnection: close\r\n\r\n",
                    client_ip()
                );
                let a = target.raw(&format!("{method} {target_form}"), request, false).await;
                let refused = matches!(a.status, 405 | 400 | 501);
                if !refused {
                    findings.push(finding("TRACE/TRACK/CONNECT allowed", format!("{}: status {}", a.what, a.status)));
                }
                if a.body.contains("echo-7306")
                    || a.body.contains("echo-7307")
                    || a.body.contains(&format!("{method} /"))
                {
                    findings.push(finding("TRACE/TRACK/CONNECT allowed", format!("{}: echoes the request", a.what)));
                }
                findings.extend(version_findings(&a, true));
                findings.extend(error_findings(&a, ""));
            }
        }
        assert_none(&findings);
    }
);

// ---------------------------------------------------------------------------------------------
// Every route.

/// Every route of the admin and the public routers, read from their source so a route added
/// tomorrow is probed without touching this file; `{param}`s are filled with 1.
fn routes() -> Vec<String> {
    const ADMIN: &str = include_str!("../../baspa-site/src/admin/mod.rs");
    const PUBLIC: &str = include_str!("../../baspa-site/src/lib.rs");
    let mut paths = vec!["/admin".to_owned()];
    let mut take = |source: &str, marker: &str, prefix: &str| {
        for chunk in source.split(marker).skip(1) {
            if let Some(end) = chunk.find('"') {
                let path = fill_params(&chunk[..end]);
                paths.push(format!("{prefix}{path}"));
            }
        }
    };
    take(ADMIN, ".route(&at(\"", "/admin");
    take(PUBLIC, ".route(\"", "");
    // The fallback's pages: home, a section, an entry, search, feeds, sitemaps, robots, 404.
    paths.extend(PUBLIC_PAGES.iter().map(|p| (*p).to_owned()));
    paths.sort();
    paths.dedup();
    paths
}

fn fill_params(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        out.push('1');
        rest = rest[open..].find('}').map_or("", |close| &rest[open + close + 1..]);
    }
    out.push_str(rest);
    out
}

#[test]
fn hd9_route_extraction_reads_both_routers() {
    let all = routes();
    for expected in ["/admin/login", "/admin/item/1/1", "/admin/users/1/grants/1/delete", "/comment", "/media/1"] {
        assert!(all.iter().any(|p| p == expected), "{expected} missing from {all:?}");
    }
    assert!(all.len() > 40, "too few routes read: {all:?}");
}

storage_test!(
    /// HD-5, HD-9, HD-10 (issue 6 acceptance): every route of both routers — GET and POST,
    /// anonymous and signed in, POST without the CSRF token — answers with the CSP (nonce, no
    /// unsafe-inline, frame-ancestors 'none'), nosniff, Referrer-Policy, Permissions-Policy and
    /// no `Server`; every cookie is flagged; private routes need a session, state changes need the
    /// CSRF token; no route answers 500.
    async fn hd9_every_route_has_security_headers_cookie_flags_and_guards(t: TestDb) {
        let app = site(t, false, false).await;
        let staff = sign_in(&app).await;
        let target = Target { app: &app, staff: Some(&staff), secure_cookies: false };
        let mut findings = Vec::new();
        for a in route_answers(&target).await {
            findings.extend(header_findings(&a));
            findings.extend(cookie_findings(&a, false));
            // The component page lists library names (sqlx…) to staff by design (SC-4).
            if !a.what.contains(" /admin/system ") {
                findings.extend(error_findings(&a, ""));
            }
            if a.status >= 500 {
                findings.push(finding("application error message", format!("{}: status {}", a.what, a.status)));
            }
            let admin = a.what.contains(" /admin");
            let public_admin = ["/admin/login", "/admin/forgot", "/admin/reset", "/admin/assets/"]
                .iter()
                .any(|p| a.what.contains(&format!(" {p}")));
            if admin && !public_admin && a.what.ends_with("(anonymous)") && (200..300).contains(&a.status) {
                findings.push(finding("broken access control", format!("{}: {} without a session", a.what, a.status)));
            }
            if admin && a.what.ends_with("no CSRF token)") && !public_admin && !matches!(a.status, 403 | 405) {
                findings.push(finding("CSRF", format!("{}: {} without the token", a.what, a.status)));
            }
        }
        assert_none(&findings);
    }
);
