//! Baspa storage: the only crate that speaks SQL.
//!
//! One code path for SQLite (default), PostgreSQL and MySQL/MariaDB: the backend is picked from
//! the URL at run time; the schema is one migration set (`migration`); backend differences live in
//! `dialect`. Repository modules are named after the aggregate they read and write.

pub mod connect;
pub mod content;
pub mod dialect;
pub mod entity;
pub mod jobs;
pub mod journal;
pub mod security;
pub mod languages;
pub mod migration;
pub mod staff_access;
pub mod users;

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
