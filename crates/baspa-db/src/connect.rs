//! Opening the database named by a URL, with errors an operator can act on at 3 a.m.

use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr};
use sea_orm_migration::MigratorTrait;

use crate::migration::Migrator;

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("database URL {url:?} is not valid: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("database URL {url} uses {scheme:?}; use sqlite://, postgres:// or mysql:// (MariaDB too)")]
    UnknownScheme { url: String, scheme: String },
    #[error("cannot create the data directory {path} for the SQLite database: {reason}")]
    DataDir { path: String, reason: String },
    #[error("cannot connect to the database at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("migrating the database at {url} failed: {reason}")]
    Migration { url: String, reason: String },
}

/// The URL with any password replaced by `***`, safe for logs and error lines.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => raw.to_owned(),
    }
}

pub fn backend_of(raw: &str) -> Result<DbBackend, ConnectError> {
    let url =
        url::Url::parse(raw).map_err(|e| ConnectError::InvalidUrl { url: redact_url(raw), reason: e.to_string() })?;
    match url.scheme() {
        "sqlite" => Ok(DbBackend::Sqlite),
        "postgres" | "postgresql" => Ok(DbBackend::Postgres),
        "mysql" | "mariadb" => Ok(DbBackend::MySql),
        other => Err(ConnectError::UnknownScheme { url: redact_url(raw), scheme: other.to_owned() }),
    }
}

/// Connects (creating a SQLite file and its folder when needed) and checks the connection works.
pub async fn connect(raw: &str) -> Result<DatabaseConnection, ConnectError> {
    let backend = backend_of(raw)?;
    let mut url = raw.to_owned();
    if backend == DbBackend::MySql && url.starts_with("mariadb:") {
        url = url.replacen("mariadb:", "mysql:", 1);
    }
    if backend == DbBackend::Sqlite {
        ensure_sqlite_dir(&url)?;
        if !url.contains("mode=") && !url.contains(":memory:") {
            url.push_str(if url.contains('?') { "&mode=rwc" } else { "?mode=rwc" });
        }
    }
    let mut options = ConnectOptions::new(url);
    options
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        .max_connections(if backend == DbBackend::Sqlite { 8 } else { 16 })
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
            o.foreign_keys(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
        });
    let db = Database::connect(options).await.map_err(|e| ConnectError::Unreachable {
        url: redact_url(raw),
        reason: network_reason(raw).unwrap_or_else(|| describe(&e)),
    })?;
    db.ping().await.map_err(|e| ConnectError::Unreachable { url: redact_url(raw), reason: describe(&e) })?;
    Ok(db)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection, raw_url: &str) -> Result<(), ConnectError> {
    Migrator::up(db, None).await.map_err(|e| ConnectError::Migration { url: redact_url(raw_url), reason: describe(&e) })
}

/// The names of every migration this build knows, in order (recorded in backups).
pub fn migration_names() -> Vec<String> {
    Migrator::migrations().iter().map(|m| m.name().to_owned()).collect()
}

/// Applies migrations until the first `total` are applied (a restore loads an older backup's
/// rows into the schema they were written for, then migrates the rest).
pub async fn migrate_steps(db: &DatabaseConnection, total: u32) -> Result<(), DbErr> {
    let applied = Migrator::get_applied_migrations(db).await?.len() as u32;
    if total > applied {
        Migrator::up(db, Some(total - applied)).await?;
    }
    Ok(())
}

/// One line from a driver error, without the nested debug noise.
fn describe(err: &DbErr) -> String {
    let text = err.to_string();
    let text = text
        .trim_start_matches("Connection Error: ")
        .trim_start_matches("Failed to acquire connection from pool: ")
        .trim_start_matches("Connection Error: ");
    text.lines().next().unwrap_or_default().to_owned()
}

/// The pool only says it timed out; a plain TCP connect says why (refused, no route, unknown
/// host), which is what the operator needs to know.
fn network_reason(raw: &str) -> Option<String> {
    let url = url::Url::parse(raw).ok()?;
    let host = url.host_str()?;
    let port = url.port_or_known_default().or(match url.scheme() {
        "postgres" | "postgresql" => Some(5432),
        "mysql" | "mariadb" => Some(3306),
        _ => None,
    })?;
    let addrs = match std::net::ToSocketAddrs::to_socket_addrs(&(host, port)) {
        Ok(a) => a.collect::<Vec<_>>(),
        Err(e) => return Some(format!("cannot resolve host {host}: {e}")),
    };
    let addr = addrs.first()?;
    match std::net::TcpStream::connect_timeout(addr, Duration::from_secs(3)) {
        Ok(_) => None,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            Some(format!("connection refused by {host}:{port} (is the server running?)"))
        }
        Err(e) => Some(format!("{host}:{port} is unreachable: {e}")),
    }
}

fn ensure_sqlite_dir(url: &str) -> Result<(), ConnectError> {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| ConnectError::DataDir { path: parent.display().to_string(), reason: e.to_string() })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_appear_in_error_lines() {
        assert_eq!(redact_url("postgres://baspa:s3cret@db:5432/baspa"), "postgres://baspa:***@db:5432/baspa");
        assert_eq!(redact_url("sqlite://data/baspa.sqlite"), "sqlite://data/baspa.sqlite");
    }

    #[test]
    fn unknown_schemes_are_named() {
        let err = backend_of("oracle://x/y").unwrap_err().to_string();
        assert!(err.contains("\"oracle\"") && err.contains("sqlite://"), "{err}");
        assert!(matches!(backend_of("not a url"), Err(ConnectError::InvalidUrl { .. })));
        assert_eq!(backend_of("mariadb://root@127.0.0.1/x").ok(), Some(DbBackend::MySql));
    }
}
