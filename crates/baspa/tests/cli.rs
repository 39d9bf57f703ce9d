//! The command line as an operator meets it: bad input gives ONE clear line on stderr, a
//! non-zero exit code, no panic and no partial data (issue acceptance; HD-2 for operators).

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

use std::process::{Command, Output};

fn baspa(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_baspa"))
        .args(args)
        .current_dir(dir)
        .env_remove("BASPA_DATABASE_URL")
        .env("BASPA_LOG", "error")
        .output()
        .expect("run baspa")
}

fn assert_one_line_failure(out: &Output, must_contain: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure, got success: {stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"), "no panic: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "exactly one line: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    for needle in must_contain {
        assert!(lines[0].contains(needle), "{needle:?} missing in {stderr}");
    }
}

#[test]
fn a_database_url_with_an_unknown_scheme_is_named() {
    let dir = tempfile::tempdir().expect("dir");
    let out = baspa(dir.path(), &["--database-url", "oracle://db.example/baspa", "migrate"]);
    assert_one_line_failure(&out, &["oracle", "sqlite://", "postgres://", "mysql://"]);
}

#[test]
fn an_unreachable_database_server_is_named_without_its_password() {
    let dir = tempfile::tempdir().expect("dir");
    let started = std::time::Instant::now();
    let out = baspa(dir.path(), &["--database-url", "postgres://baspa:s3cret@127.0.0.1:1/baspa", "migrate"]);
    assert_one_line_failure(
        &out,
        &["cannot connect to the database at postgres://baspa:***@127.0.0.1:1/baspa", "connection refused"],
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("s3cret"));
    assert!(started.elapsed().as_secs() < 30, "fails fast");
    let out = baspa(dir.path(), &["--database-url", "mysql://root@127.0.0.1:1/baspa", "migrate"]);
    assert_one_line_failure(&out, &["cannot connect to the database at mysql://root@127.0.0.1:1/baspa"]);
}

#[test]
fn an_unknown_config_key_is_named_with_its_file() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("baspa.toml"),
        "[server]\nlisten = \"127.0.0.1:0\"\n[databse]\nurl = \"sqlite://x\"\n",
    )
    .expect("write");
    let out = baspa(dir.path(), &["migrate"]);
    assert_one_line_failure(&out, &["baspa.toml", "databse"]);
    assert!(!dir.path().join("data").exists(), "nothing was created");
    let out = Command::new(env!("CARGO_BIN_EXE_baspa"))
        .args(["migrate"])
        .current_dir(dir.path())
        .env("BASPA__SERVER__PORT", "80")
        .output()
        .expect("run");
    std::fs::remove_file(dir.path().join("baspa.toml")).ok();
    assert!(!out.status.success());
    let out = Command::new(env!("CARGO_BIN_EXE_baspa"))
        .args(["migrate"])
        .current_dir(dir.path())
        .env("BASPA__SERVER__PORT", "80")
        .env("BASPA_LOG", "error")
        .output()
        .expect("run");
    assert_one_line_failure(&out, &["BASPA__SERVER__PORT", "server.port"]);
}

#[test]
fn migrate_creates_a_sqlite_database_in_the_data_dir_and_version_and_help_work() {
    let dir = tempfile::tempdir().expect("dir");
    let out = baspa(dir.path(), &["--data-dir", "site-data", "migrate"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join("site-data/baspa.sqlite").exists());
    let version = baspa(dir.path(), &["--version"]);
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("baspa "));
    let help = baspa(dir.path(), &["--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    for cmd in ["serve", "migrate", "demo", "user"] {
        assert!(help.contains(cmd), "{cmd} in --help");
    }
}

#[test]
fn user_add_list_and_passwd_go_through_the_actions() {
    let dir = tempfile::tempdir().expect("dir");
    let add = |email: &str| {
        Command::new(env!("CARGO_BIN_EXE_baspa"))
            .args(["--data-dir", "d", "user", "add", email, "--name", "Әлия Нұрланқызы", "--role", "editor"])
            .current_dir(dir.path())
            .env("BASPA_NEW_PASSWORD", "correct horse battery staple")
            .env("BASPA_LOG", "error")
            .output()
            .expect("run")
    };
    assert!(add("aliya@baq.kz").status.success());
    assert_one_line_failure(&add("aliya@baq.kz"), &["aliya@baq.kz", "already belongs"]);
    let list = baspa(dir.path(), &["--data-dir", "d", "user", "list"]);
    assert!(String::from_utf8_lossy(&list.stdout).contains("aliya@baq.kz\teditor\tactive"));
    let bad_role = baspa(dir.path(), &["--data-dir", "d", "user", "add", "x@baq.kz", "--name", "X", "--role", "root"]);
    assert_one_line_failure(&bad_role, &["role \"root\" is not known", "administrator"]);
    let passwd = baspa(dir.path(), &["--data-dir", "d", "user", "passwd", "nobody@baq.kz"]);
    assert_one_line_failure(&passwd, &["nobody@baq.kz", "not found"]);
}

#[test]
fn demo_seeds_once_prints_a_login_and_reuses_the_data_dir() {
    let dir = tempfile::tempdir().expect("dir");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_baspa"))
            .args(["--data-dir", "demo", "demo", "--profile", "gov", "--no-serve"])
            .current_dir(dir.path())
            .env("BASPA_DEMO_ADMIN_PASSWORD", "demo-password-for-tests")
            .env("BASPA_LOG", "error")
            .output()
            .expect("run")
    };
    let first = run();
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(
        stdout.contains("seeded")
            && stdout.contains("admin@gov.localhost")
            && stdout.contains("demo-password-for-tests"),
        "{stdout}"
    );
    assert!(stdout.contains("/kk/") && stdout.contains("/en/"));
    let second = run();
    assert!(String::from_utf8_lossy(&second.stdout).contains("reused"));
    let news_on_gov = Command::new(env!("CARGO_BIN_EXE_baspa"))
        .args(["--data-dir", "demo", "demo", "--no-serve"])
        .current_dir(dir.path())
        .env("BASPA_LOG", "error")
        .output()
        .expect("run");
    assert_one_line_failure(&news_on_gov, &["\"gov\" demo", "--data-dir"]);
}

#[test]
fn ws2_search_reindex_rebuilds_the_index_and_defers_to_a_server_that_holds_it() {
    let dir = tempfile::tempdir().expect("dir");
    let seeded = Command::new(env!("CARGO_BIN_EXE_baspa"))
        .args(["--data-dir", "d", "demo", "--profile", "gov", "--no-serve"])
        .current_dir(dir.path())
        .env("BASPA_DEMO_ADMIN_PASSWORD", "demo-password-for-tests")
        .env("BASPA_LOG", "error")
        .output()
        .expect("run");
    assert!(seeded.status.success(), "{}", String::from_utf8_lossy(&seeded.stderr));
    let out = baspa(dir.path(), &["--data-dir", "d", "search", "reindex"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("re-indexed ") && !stdout.starts_with("re-indexed 0 "), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("(100%)"), "progress is shown");

    // The index now answers, and a process that writes it (as a running server does) makes
    // the command queue the re-index for that process instead of failing.
    let index_dir = dir.path().join("d/search");
    let held = baspa_search::SearchIndex::open(&index_dir).expect("open");
    assert!(!held.rebuilt, "the command left a whole index");
    let kk = baspa_domain::LangCode::parse("kk").expect("kk");
    let found = held.index.search(&baspa_search::SearchQuery::visitor(kk, "онкологтардың")).expect("search");
    assert!(found.total > 0 && found.hits[0].title_html.contains("<mark>"), "{found:?}");
    held.index.delete_all().expect("take the writer");
    let queued = baspa(dir.path(), &["--data-dir", "d", "search", "reindex"]);
    assert!(queued.status.success(), "{}", String::from_utf8_lossy(&queued.stderr));
    assert!(String::from_utf8_lossy(&queued.stdout).contains("queued a full re-index"), "{queued:?}");
}
