//! WordPress fixtures for the importer tests (MG-1..MG-6): the dumps and uploads in
//! `shared/fixtures/wordpress`, loaded into a fresh MariaDB database per test with the `mariadb`
//! client (as the fixture README does) and dropped afterwards. Skipping follows [`crate::TestDb`]:
//! without `BASPA_TEST_MYSQL_URL` the loader returns `None` outside CI and fails under CI.

use std::path::PathBuf;
use std::process::Stdio;

use sea_orm::{ConnectionTrait, Database, Statement};

/// `shared/fixtures/wordpress` (override with `BASPA_WP_FIXTURES`).
pub fn fixtures_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BASPA_WP_FIXTURES") {
        return PathBuf::from(dir);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..");
    for candidate in [root.join("shared/fixtures/wordpress"), PathBuf::from("/work/shared/fixtures/wordpress")] {
        if candidate.join("manifest.json").exists() {
            return candidate;
        }
    }
    panic!("the WordPress fixtures were not found; set BASPA_WP_FIXTURES")
}

pub fn manifest() -> serde_json::Value {
    let text = std::fs::read_to_string(fixtures_dir().join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).expect("manifest.json is JSON")
}

/// The manifest's ground-truth story pairs: (kk post id, ru post id).
pub fn true_pairs(manifest: &serde_json::Value) -> std::collections::HashSet<(i64, i64)> {
    let pairs = manifest["pairs"].as_array().expect("manifest pairs");
    pairs.iter().map(|p| (p[0].as_i64().expect("kk id"), p[1].as_i64().expect("ru id"))).collect()
}

/// A WordPress database loaded from a dump, dropped when this value is dropped.
pub struct WpDatabase {
    pub url: String,
    server: String,
    name: String,
}

/// The MySQL/MariaDB server for source databases, with the CI rule of `TestDb`.
pub fn mysql_server() -> Option<String> {
    match std::env::var("BASPA_TEST_MYSQL_URL") {
        Ok(v) if !v.is_empty() => Some(v),
        _ if std::env::var_os("CI").is_some() => {
            panic!("BASPA_TEST_MYSQL_URL must be set in CI: the WordPress import reads a real MariaDB")
        }
        _ => {
            eprintln!("skipped the MariaDB source: BASPA_TEST_MYSQL_URL is not set");
            None
        }
    }
}

/// Loads `sql` (a file in the fixtures folder, or any path; `edit` may change the text first,
/// e.g. to truncate it) into a new database.
pub async fn load_dump(server: &str, sql: &str, edit: impl FnOnce(String) -> String) -> WpDatabase {
    let path = if std::path::Path::new(sql).is_absolute() { PathBuf::from(sql) } else { fixtures_dir().join(sql) };
    let text = edit(std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
    let name = format!("wp_{}", crate::unique_name_for("src"));
    let admin = Database::connect(server).await.expect("connect to the MySQL test server");
    let backend = admin.get_database_backend();
    admin
        .execute_raw(Statement::from_string(
            backend,
            format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci"),
        ))
        .await
        .expect("create the WordPress database");
    let _ = admin.close().await;
    let url = url::Url::parse(server).expect("server URL");
    let mut cmd = std::process::Command::new("mariadb");
    cmd.arg(format!("-u{}", if url.username().is_empty() { "root" } else { url.username() }))
        .arg(format!("-h{}", url.host_str().unwrap_or("127.0.0.1")))
        .arg(format!("-P{}", url.port().unwrap_or(3306)))
        .arg(&name)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(pw) = url.password() {
        cmd.env("MYSQL_PWD", pw);
    }
    let out = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = cmd.spawn().expect("the mariadb client (apt install mariadb-client)");
        if let Some(mut stdin) = child.stdin.take() {
            // A truncated dump may make the client stop reading early; that is the point of that test.
            let _ = stdin.write_all(text.as_bytes());
        }
        child.wait_with_output().expect("mariadb finished")
    })
    .await
    .expect("loader thread");
    if !out.status.success() {
        eprintln!("mariadb reported: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    WpDatabase { url: crate::with_database_pub(server, &name), server: server.to_owned(), name }
}

impl Drop for WpDatabase {
    fn drop(&mut self) {
        let server = self.server.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async move {
                if let Ok(admin) = Database::connect(&server).await {
                    let backend = admin.get_database_backend();
                    let _ = admin
                        .execute_raw(Statement::from_string(backend, format!("DROP DATABASE IF EXISTS `{name}`")))
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}
