//! Baspa storage: the only crate that speaks SQL.
//!
//! One code path for SQLite (default), PostgreSQL and MySQL/MariaDB: the backend is picked from
//! the URL at run time; the schema is one migration set (`migration`); backend differences live in
//! `dialect`. Repository modules are named after the aggregate they read and write.

pub mod backup_runs;
pub mod connect;
pub mod content;
pub mod dialect;
pub mod entity;
pub mod imports;
pub mod jobs;
pub mod journal;
pub mod languages;
pub mod migration;
pub mod portable;
pub mod security;
pub mod staff_access;
pub mod users;
pub mod wp_source;

pub use connect::{ConnectError, connect, migrate, redact_url};
pub use sea_orm::{DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, TransactionTrait};

/// Storage failures grouped by meaning; everything else is `Internal` and stays in the logs.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the slug {slug:?} is already used in language {lang}")]
    SlugTaken { lang: String, slug: String },
    #[error("the e-mail address {0:?} already belongs to another account")]
    EmailTaken(String),
    #[error("{0} was not found")]
    NotFound(String),
    #[error("{0}")]
    InUse(String),
    #[error("storage error: {0}")]
    Internal(#[from] DbErr),
}

/// Maps a unique-constraint violation to the constraint's meaning. SQLite names the columns
/// instead of the constraint, so both spellings are matched.
pub(crate) fn is_unique_violation(err: &DbErr, constraint: &str, sqlite_columns: &str) -> bool {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(message)) => {
            message.contains(constraint) || message.contains(sqlite_columns)
        }
        _ => false,
    }
}

/// Begins a transaction that will write. On SQLite it starts as `BEGIN IMMEDIATE`, taking the
/// write lock up front: a deferred transaction that reads first and writes later fails with
/// "database is locked" (SQLITE_BUSY_SNAPSHOT) when another writer commits in between, and the
/// busy timeout cannot help it. Other backends ignore the SQLite mode.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let options = sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    db.begin_with_options(options).await
}

/// True for failures that say "another transaction got there first; run yours again": a
/// deadlock (MySQL/MariaDB 1213, PostgreSQL 40P01), a serialization failure (40001), a lock
/// wait timeout (1205), SQLite's busy database. The transaction was rolled back.
pub fn is_transient(err: &DbErr) -> bool {
    let text = err.to_string();
    ["Deadlock", "deadlock", "1213", "40P01", "40001", "could not serialize", "1205", "database is locked"]
        .iter()
        .any(|marker| text.contains(marker))
}
