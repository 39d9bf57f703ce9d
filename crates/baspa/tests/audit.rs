//! The security audit and components report (SC-4, OP-4) as visitors, administrators and
//! operators meet it: every script and stylesheet tag carries the SRI hash of the bytes actually
//! served and the CSP allows nothing more; the admin's system page lists the components and the
//! advisories to administrators only; `baspa audit` prints the report and fails when an
//! advisory applies; the advisory database is read from a local folder.

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use base64::Engine;
use baspa_domain::{ItemKind, Role};
use baspa_site::audit::{AdvisoryCheck, Package};
use baspa_testkit::app::{AppOptions, TestApp, spawn_app_with};
use baspa_testkit::builders::{news_languages, published};
use baspa_testkit::staff::{StaffSession, admin_without_second_factor, staff_user};
use baspa_testkit::{TestDb, storage_test};
use sha2::Digest;

const HOST: &str = "baq.test";

async fn user(t: &TestDb, email: &str, role: Role) {
    staff_user(t, email, role).await;
}

/// The session cookie of `email`, signed in through the form.
async fn sign_in(app: &TestApp, email: &str) -> String {
    StaffSession::sign_in(app, HOST, email).await.cookie
}

/// Administrators normally need a second factor; these tests are about the audit, not TOTP.
fn app_options(advisory_db: Option<&Path>) -> AppOptions {
    let mut admin = admin_without_second_factor();
    admin.advisory_db = advisory_db.map(Path::to_path_buf);
    AppOptions { admin: Some(admin), ..Default::default() }
}

/// Every `<name …>` start tag in `html`.
fn start_tags<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&open) {
        let tail = &rest[i..];
        let end = tail.find('>').expect("tag closes");
        let tag = &tail[..=end];
        if tag[open.len()..].starts_with([' ', '>']) {
            out.push(tag);
        }
        rest = &tail[end..];
    }
    out
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = tag[start..].find('"')?;
    Some(tag[start..start + end].to_owned())
}

fn sha384(bytes: &[u8]) -> String {
    format!("sha384-{}", base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(bytes)))
}

/// `'sha256-…'` of every inline `<style>` and `<script>` block's text.
fn inline_block_hashes(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for element in ["style", "script"] {
        let mut rest = html;
        while let Some(at) = rest.find(&format!("<{element}")) {
            let after = &rest[at..];
            let (Some(open_end), Some(close)) = (after.find('>'), after.find(&format!("</{element}>"))) else { break };
            let digest = sha2::Sha256::digest(&after.as_bytes()[open_end + 1..close]);
            out.push(format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest)));
            rest = &after[close..];
        }
    }
    out
}

/// The CSP's directives by name.
fn csp(header: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    header
        .split(';')
        .filter_map(|d| {
            let mut words = d.split_whitespace();
            Some((words.next()?.to_owned(), words.map(str::to_owned).collect()))
        })
        .collect()
}

/// Checks one page: the CSP allows scripts and styles only from 'self' and this response's
/// nonce; every external script/stylesheet carries the SRI of the bytes served at its URL; every
/// inline one carries the nonce. Returns the URLs of the external files.
async fn check_page(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Vec<String> {
    let res = app.get_with(HOST, path, headers).await;
    assert_eq!(res.status, 200, "{path}: {}", res.body);
    let policy = res.header("content-security-policy").expect("CSP on every page").to_owned();
    assert!(!policy.contains("unsafe-") && !policy.contains('*'), "{path}: {policy}");
    let directives = csp(&policy);
    let nonce = directives["script-src"]
        .iter()
        .find_map(|s| s.strip_prefix("'nonce-").and_then(|n| n.strip_suffix('\'')))
        .expect("a nonce")
        .to_owned();
    // Public templates carry no nonce attribute: their inline blocks are allowed by hash (the
    // same policy a cached page gets), so only the exact blocks of this page may run.
    let html_raw = res.body.clone();
    let mut allowed: BTreeSet<String> = ["'self'".to_owned(), format!("'nonce-{nonce}'")].into();
    allowed.extend(inline_block_hashes(&html_raw));
    for name in ["script-src", "style-src"] {
        let listed: BTreeSet<String> = directives[name].iter().cloned().collect();
        assert!(
            listed.is_subset(&allowed),
            "{path}: {name} lists only 'self', the nonce and this page's inline hashes"
        );
    }
    assert_eq!(directives["default-src"], ["'self'"], "{path}");
    assert_eq!(directives["object-src"], ["'none'"], "{path}");
    assert!(!directives.contains_key("script-src-elem") && !directives.contains_key("script-src-attr"));
    let html = res.text();
    let mut files = Vec::new();
    let scripts = start_tags(&html, "script").into_iter().map(|t| (t, attr(t, "src")));
    let sheets = start_tags(&html, "link")
        .into_iter()
        .filter(|t| attr(t, "rel").as_deref() == Some("stylesheet"))
        .map(|t| (t, attr(t, "href")));
    for (tag, url) in scripts.chain(sheets) {
        let Some(url) = url else {
            let is_data = attr(tag, "type").is_some_and(|t| t.contains("json"));
            let has_nonce = attr(tag, "nonce").as_deref() == Some(nonce.as_str());
            assert!(
                is_data || has_nonce || directives["script-src"].iter().any(|s| s.starts_with("'sha256-")),
                "{path}: inline {tag} is allowed by nonce or hash"
            );
            continue;
        };
        assert!(url.starts_with('/') && !url.starts_with("//"), "{path}: {url} is served by the site itself");
        let served = reqwest::Client::new()
            .get(format!("http://{}{url}", app.addr))
            .header("host", HOST)
            .send()
            .await
            .expect("asset request");
        assert_eq!(served.status().as_u16(), 200, "{url}");
        let bytes = served.bytes().await.expect("asset bytes");
        assert_eq!(attr(tag, "integrity"), Some(sha384(&bytes)), "{path}: {tag}");
        files.push(url);
    }
    files
}

storage_test!(
    /// SC-4: on the public pages and every admin page that loads files (sign-in, editor in
    /// Kazakh and Russian, item page), each `<script src>` and stylesheet link carries
    /// `integrity` equal to the SHA-384 of what the server sends at that URL, inline blocks carry
    /// the nonce, the CSP allows only the site itself and the nonce, and the inventory lists every
    /// file seen.
    async fn sc4_every_script_and_stylesheet_carries_the_hash_of_the_served_bytes(t: TestDb) {
        news_languages(&t.db).await;
        user(&t, "editor@baq.test", Role::Editor).await;
        let now = baspa_domain::time::now();
        let story = published(&t.db, ItemKind::Article, None, None, &[("kk", "Жаңалық", "<p>Мәтін</p>")], now).await;
        let app = spawn_app_with(t, app_options(None)).await;
        let mut seen = BTreeSet::new();
        seen.extend(check_page(&app, "/", &[]).await);
        seen.extend(check_page(&app, "/admin/login", &[]).await);
        let cookie = sign_in(&app, "editor@baq.test").await;
        let signed_in = [("cookie", cookie.as_str())];
        seen.extend(check_page(&app, "/admin/content/new", &signed_in).await);
        seen.extend(
            check_page(&app, "/admin/content/new", &[("cookie", cookie.as_str()), ("accept-language", "ru")]).await,
        );
        seen.extend(check_page(&app, &format!("/admin/item/{}", story.item_id.0), &signed_in).await);
        let expected: BTreeSet<String> = [
            "admin.css",
            "admin.js",
            "ckeditor5.css",
            "ckeditor5.js",
            "ckeditor-kk.js",
            "ckeditor-ru.js",
            "mammoth.js",
        ]
        .iter()
        .map(|f| format!("/admin/assets/{f}"))
        .collect();
        assert_eq!(seen, expected, "the pages load exactly the admin's embedded files");
        let inventory: BTreeSet<String> =
            baspa_site::audit::browser_assets("/admin", None).into_iter().map(|a| a.url).collect();
        assert!(seen.is_subset(&inventory), "every served file is in the inventory: {inventory:?}");
    }
);

/// The lock file's version of `name` (the fixtures are about crates Baspa really uses).
fn locked(name: &str) -> Package {
    baspa_site::audit::locked_packages().into_iter().find(|p| p.name == name).expect("package in Cargo.lock")
}

fn advisory(dir: &Path, package: &str, id: &str, extra: &str, versions: &str) {
    let folder = dir.join("crates").join(package);
    std::fs::create_dir_all(&folder).expect("advisory folder");
    let text = format!(
        "```toml\n[advisory]\nid = \"{id}\"\npackage = \"{package}\"\ndate = \"2099-01-01\"\n\
         url = \"https://rustsec.org/advisories/{id}.html\"\ntitle = \"Test advisory {id}\"\n\
         categories = [\"memory-corruption\"]\nkeywords = [\"test\"]\n{extra}\n\n[versions]\n{versions}\n```\n\n\
         # Test advisory {id}\n\nWritten by tests/audit.rs.\n"
    );
    std::fs::write(folder.join(format!("{id}.md")), text).expect("advisory file");
}

/// A small advisory database about `axum` (locked in Cargo.lock): one that applies (patched above
/// our version), one withdrawn, one patched below our version, one whose range leaves our
/// version unaffected, and one about a crate Baspa does not use.
fn fixture_db(dir: &Path) {
    let ours = semver::Version::parse(&locked("axum").version).expect("semver");
    let above = format!("patched = [\">= {}.0.0\"]", ours.major + 100);
    advisory(dir, "axum", "RUSTSEC-2099-0001", "", &above);
    advisory(dir, "axum", "RUSTSEC-2099-0002", "withdrawn = \"2099-02-01\"", &above);
    advisory(dir, "axum", "RUSTSEC-2099-0003", "", "patched = [\">= 0.0.1\"]");
    advisory(
        dir,
        "axum",
        "RUSTSEC-2099-0004",
        "",
        &format!("patched = []\nunaffected = [\"< {}.0.0\"]", ours.major + 50),
    );
    advisory(dir, "no-such-crate-in-baspa", "RUSTSEC-2099-0005", "", "patched = []");
}

#[test]
fn sc4_the_advisory_check_reports_applicable_skips_withdrawn_and_patched() {
    let dir = tempfile::tempdir().expect("dir");
    fixture_db(dir.path());
    let check = baspa_site::audit::check_advisories(Some(dir.path()), &baspa_site::audit::locked_packages());
    let AdvisoryCheck::Checked { advisories, withdrawn, findings, unreadable, newest, .. } = &check else {
        panic!("not checked: {check:?}");
    };
    let ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["RUSTSEC-2099-0001"], "only the advisory patched above our version applies");
    assert_eq!(findings[0].version, locked("axum").version);
    assert_eq!((*advisories, *withdrawn), (4, 1));
    assert!(unreadable.is_empty(), "{unreadable:?}");
    assert!(newest.is_some());
    assert_eq!(check.vulnerabilities(), 1);

    // A folder that is not an advisory database is "not checked", never "no vulnerabilities".
    let empty = tempfile::tempdir().expect("dir");
    let check = baspa_site::audit::check_advisories(Some(empty.path()), &[]);
    assert!(matches!(&check, AdvisoryCheck::NotChecked { reason, .. } if reason.starts_with("not checked")));
    // A damaged file is named, not silently ignored.
    std::fs::write(dir.path().join("crates/axum/RUSTSEC-2099-0009.md"), "```toml\n[advisory\n```").expect("write");
    let check = baspa_site::audit::check_advisories(Some(dir.path()), &baspa_site::audit::locked_packages());
    assert!(matches!(&check, AdvisoryCheck::Checked { unreadable, .. } if unreadable.len() == 1));
}

storage_test!(
    /// OP-4, SC-4: an administrator sees Baspa's version, the database server, the browser files
    /// with versions and hashes, the Rust dependencies and the applicable advisory; an editor is
    /// refused the page.
    async fn op4_sc4_system_page_shows_components_to_administrators_only(t: TestDb) {
        news_languages(&t.db).await;
        user(&t, "admin@baq.test", Role::Administrator).await;
        user(&t, "editor@baq.test", Role::Editor).await;
        let adb = tempfile::tempdir().expect("dir");
        fixture_db(adb.path());
        let app = spawn_app_with(t, app_options(Some(adb.path()))).await;

        let editor = sign_in(&app, "editor@baq.test").await;
        let refused = app.get_with(HOST, "/admin/system", &[("cookie", editor.as_str())]).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert!(!refused.text().contains("RUSTSEC-2099-0001") && !refused.text().contains("mammoth"));

        let admin = sign_in(&app, "admin@baq.test").await;
        let page = app.get_with(HOST, "/admin/system", &[("cookie", admin.as_str()), ("accept-language", "en")]).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let text = page.text();
        let ckeditor = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../vendor/ckeditor5/VERSION"))
            .expect("vendored version");
        let axum = locked("axum");
        for needle in [
            "System: components and audit",
            env!("CARGO_PKG_VERSION"),
            "/admin/assets/ckeditor5.js",
            ckeditor.split_whitespace().nth(1).expect("version"),
            "GPL-2.0-or-later",
            "BSD-2-Clause",
            "sha384-",
            &format!("<td>axum</td><td>{}</td>", axum.version),
            "RUSTSEC-2099-0001",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from the system page");
        }
        let server = ["SQLite", "PostgreSQL", "MySQL"];
        assert!(server.iter().any(|s| text.contains(s)), "database server named");
        for absent in ["RUSTSEC-2099-0002", "RUSTSEC-2099-0003", "RUSTSEC-2099-0004", "version unknown"] {
            assert!(!text.contains(absent), "{absent:?} must not be on the page");
        }
        // The nav offers the page; the Kazakh page is translated.
        let kk = app.get_with(HOST, "/admin/system", &[("cookie", admin.as_str()), ("accept-language", "kk")]).await;
        assert!(kk.text().contains("Жүйе: құрамдас бөліктер және аудит"));
        assert!(kk.text().contains("href=\"/admin/system\""));
    }
);

fn baspa(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_baspa"));
    cmd.args(args).current_dir(dir).env_remove("BASPA_DATABASE_URL").env("BASPA_LOG", "error");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run baspa")
}

#[test]
fn op4_sc4_baspa_audit_prints_components_and_fails_when_an_advisory_applies() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    baspa(dir.path(), &["--data-dir", data.to_str().expect("utf-8"), "migrate"], &[]);

    let out = baspa(dir.path(), &["--data-dir", data.to_str().expect("utf-8"), "audit"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let axum = locked("axum");
    for needle in [
        format!("Baspa {}", env!("CARGO_PKG_VERSION")),
        "database server: SQLite".into(),
        "/admin/assets/ckeditor5.js".into(),
        "/admin/assets/mammoth.js".into(),
        "sha384-".into(),
        format!("axum {} (crates.io)", axum.version),
        "not checked: no advisory database".into(),
        "docs/security-audit.md".into(),
    ] {
        assert!(stdout.contains(&needle), "{needle:?} missing from:\n{stdout}");
    }
    assert!(!stdout.to_lowercase().contains("no vulnerabilities"));

    fixture_db(&dir.path().join("advisory-db"));
    let db_env = [("BASPA__SECURITY__ADVISORY_DB", dir.path().join("advisory-db").to_str().expect("utf-8").to_owned())];
    let env: Vec<(&str, &str)> = db_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = baspa(dir.path(), &["--data-dir", data.to_str().expect("utf-8"), "audit"], &env);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "an applicable advisory fails the audit: {stdout}");
    assert!(stdout.contains("RUSTSEC-2099-0001") && !stdout.contains("RUSTSEC-2099-0002"), "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "one error line: {stderr}");
    assert!(stderr.contains("1 security advisories apply"), "{stderr}");

    let out = baspa(dir.path(), &["--data-dir", data.to_str().expect("utf-8"), "audit", "--json"], &env);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["advisories"]["status"], "checked");
    assert_eq!(report["advisories"]["findings"][0]["id"], "RUSTSEC-2099-0001");
}
