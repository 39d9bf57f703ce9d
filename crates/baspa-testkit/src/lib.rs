//! Baspa test kit: a fresh database per test on each backend, `spawn_app`, content builders.
//!
//! Every storage test is written once with [`storage_test!`] and runs three times: on SQLite
//! (always) and on PostgreSQL and MySQL/MariaDB when `BASPA_TEST_POSTGRES_URL` /
//! `BASPA_TEST_MYSQL_URL` are set. Under CI (`CI` set) a missing URL fails the test instead of
//! skipping it, so a green CI run always means all three backends ran.

// Test support fails loudly by design: a broken fixture must stop the test, not be handled.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod app;
pub mod browser;
pub mod builders;
pub mod clamd;
pub mod geoip_fixture;
pub mod smtp;
pub mod snapshot;
pub mod staff;
pub mod upload_corpus;
pub mod wordpress;

use std::time::{SystemTime, UNIX_EPOCH};

pub use app::{AppOptions, TestApp, spawn_app, spawn_app_with};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

impl Backend {
    pub fn env_var(self) -> Option<&'static str> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres => Some("BASPA_TEST_POSTGRES_URL"),
            Backend::MySql => Some("BASPA_TEST_MYSQL_URL"),
        }
    }
}

/// A migrated database that exists only for one test and is dropped afterwards.
pub struct TestDb {
    pub db: DatabaseConnection,
    pub url: String,
    pub backend: Backend,
    server_url: Option<String>,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

fn unique_name() -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    format!("baspa_t_{}_{:x}", std::process::id(), nanos ^ (rand::random::<u64>() as u128))
}

/// A database name no other test uses, with a readable tag.
pub fn unique_name_for(tag: &str) -> String {
    format!("{tag}_{}", unique_name())
}

/// `server_url` pointing at database `name`.
pub fn with_database_pub(server_url: &str, name: &str) -> String {
    with_database(server_url, name)
}

fn with_database(server_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(server_url).unwrap_or_else(|e| panic!("bad test database URL {server_url}: {e}"));
    url.set_path(&format!("/{name}"));
    url.to_string()
}

impl TestDb {
    /// Creates and migrates a new database, or returns `None` when the backend is not configured
    /// (outside CI only).
    pub async fn create(backend: Backend) -> Option<Self> {
        let name = unique_name();
        let (url, server_url, dir) = match backend.env_var() {
            None => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/baspa.sqlite", dir.path().display());
                (url, None, Some(dir))
            }
            Some(var) => {
                let server = match std::env::var(var) {
                    Ok(v) if !v.is_empty() => v,
                    _ if std::env::var_os("CI").is_some() => {
                        panic!("{var} must be set in CI: every storage test runs on every backend")
                    }
                    _ => {
                        eprintln!("skipped on {backend:?}: {var} is not set");
                        return None;
                    }
                };
                let admin =
                    Database::connect(&server).await.unwrap_or_else(|e| panic!("cannot reach {var}={server}: {e}"));
                let backend_kind = admin.get_database_backend();
                let create = match backend_kind {
                    DbBackend::MySql => format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"),
                    _ => format!("CREATE DATABASE \"{name}\" ENCODING 'UTF8'"),
                };
                admin.execute_raw(Statement::from_string(backend_kind, create)).await.expect("create test database");
                let _ = admin.close().await;
                (with_database(&server, &name), Some(server), None)
            }
        };
        let db = baspa_db::connect(&url).await.unwrap_or_else(|e| panic!("{e}"));
        baspa_db::migrate(&db, &url).await.unwrap_or_else(|e| panic!("{e}"));
        Some(Self { db, url, backend, server_url, name, _dir: dir })
    }
}

impl TestDb {
    /// The same database through `db` (a clone of `self.db`, perhaps with a query counter), for
    /// a second app on it. Only the original drops the database.
    pub fn alias(&self, db: DatabaseConnection) -> TestDb {
        TestDb {
            db,
            url: self.url.clone(),
            backend: self.backend,
            server_url: None,
            name: self.name.clone(),
            _dir: None,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(server) = self.server_url.clone() else {
            return;
        };
        let name = self.name.clone();
        let pool = self.db.clone();
        // Drop runs outside async context; a private runtime on a thread does the cleanup.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            rt.block_on(async move {
                let _ = pool.close().await;
                if let Ok(admin) = Database::connect(&server).await {
                    let backend = admin.get_database_backend();
                    let sql = match backend {
                        DbBackend::MySql => format!("DROP DATABASE IF EXISTS `{name}`"),
                        _ => format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                    };
                    let _ = admin.execute_raw(Statement::from_string(backend, sql)).await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// The Redis server for tests (`BASPA_TEST_REDIS_URL`), skipped like the SQL servers: `None`
/// outside CI when unset, a failure under CI so a green run always included Redis.
pub fn redis_url() -> Option<String> {
    const VAR: &str = "BASPA_TEST_REDIS_URL";
    match std::env::var(VAR) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if std::env::var_os("CI").is_some() => panic!("{VAR} must be set in CI: the Redis session tests need it"),
        _ => {
            eprintln!("skipped: {VAR} is not set");
            None
        }
    }
}

/// A key prefix no other test run uses, so tests sharing one Redis never see each other's keys.
pub fn unique_redis_prefix() -> String {
    format!("{}:", unique_name())
}

/// Runs `test` against a fresh database of `backend` (see the crate docs for skipping rules).
pub async fn run_on<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if let Some(db) = TestDb::create(backend).await {
        test(db).await;
    }
}

/// Declares one storage test that runs on SQLite, PostgreSQL and MySQL as three test cases:
/// `name::sqlite`, `name::postgres`, `name::mysql`. The test crate needs `tokio` as a
/// dev-dependency.
#[macro_export]
macro_rules! storage_test {
    ($(#[$meta:meta])* async fn $name:ident($db:ident : TestDb $(,)?) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($db: $crate::TestDb) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::run_on($crate::Backend::Sqlite, body).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::run_on($crate::Backend::Postgres, body).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mysql() {
                $crate::run_on($crate::Backend::MySql, body).await
            }
        }
    };
}

/// Runs SQL written with `?` placeholders (rewritten to `$n` for PostgreSQL) straight on the
/// database, as someone with database access would: tamper tests change rows behind Baspa's back.
pub async fn execute_sql(db: &DatabaseConnection, sql: &str, values: Vec<sea_orm::Value>) {
    let backend = db.get_database_backend();
    let mut sql = sql.to_owned();
    if backend == DbBackend::Postgres {
        let mut n = 0;
        while let Some(pos) = sql.find('?') {
            n += 1;
            sql.replace_range(pos..pos + 1, &format!("${n}"));
        }
    }
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await.expect("raw sql");
}
