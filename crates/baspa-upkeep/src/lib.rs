//! Baspa upkeep: backups that are proven (BK-1..BK-7) and the scheduling helpers around them.
//!
//! A backup is a tar stream (portable export of every table, the native dump where cheap,
//! configuration, theme, journal anchors, `manifest.json`) → zstd → age (x25519 recipients) →
//! written to each target through opendal, under a temporary name and renamed when complete;
//! a small sidecar `archives/<name>.json` written last marks it complete. Media files are
//! stored once per content hash as separate encrypted objects (incremental across backups).
//!
//! `verify` decrypts, decompresses and compares every hash and row count; `restore` refuses a
//! non-empty or live database without `force`; `restore_test` restores into a scratch SQLite
//! database and checks it. Recording runs in the journal is the caller's job through
//! `baspa_actions::upkeep::record_run` (this crate does no state change in the live database).

pub mod archive;
pub mod create;
pub mod crypto;
pub mod manifest;
pub mod pitr;
pub mod restore;
pub mod retention;
pub mod target;
pub mod verify;

use std::path::PathBuf;

pub use create::{CreateReport, create_backup};
pub use manifest::{Manifest, Sidecar};
pub use restore::{RestoreOptions, RestoreReport, restore_backup};
pub use retention::{Retention, prune_target};
pub use target::Target;
pub use verify::{VerifyReport, verify_backup};

/// Everything a backup needs to know, built by the binary from its `Config`.
#[derive(Debug, Clone, Default)]
pub struct BackupSettings {
    /// Where backups go: `file:///var/backups/baspa` (or a plain path), `s3://bucket/prefix?…`.
    pub targets: Vec<String>,
    /// age recipients (`age1…`) every archive and media object is encrypted to.
    pub recipients: Vec<String>,
    /// The age identity file that opens the archives (verify, restore). Keep it off the server
    /// or at least off the backup targets.
    pub identity_file: Option<PathBuf>,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub config_file: Option<PathBuf>,
    pub theme_dir: Option<PathBuf>,
    /// Also add the backend's own dump (`VACUUM INTO`, `pg_dump -Fc`, `mariadb-dump`).
    pub native_dump: bool,
    /// zstd level (1 fast … 19 small).
    pub zstd_level: i32,
}

impl BackupSettings {
    /// Scratch space for building and checking archives: `<data_dir>/backup-spool`.
    pub fn spool_dir(&self) -> PathBuf {
        self.data_dir.join("backup-spool")
    }

    pub fn open_targets(&self) -> Result<Vec<Target>, BackupError> {
        if self.targets.is_empty() {
            return Err(BackupError::Config(
                "no backup target: set backup.targets, e.g. [\"file:///var/backups/baspa\"]".into(),
            ));
        }
        self.targets.iter().map(|t| Target::open(t)).collect()
    }
}

/// Failures that stop a backup operation as a whole; problems found inside a backup (a wrong
/// hash, a missing object) are listed in the reports instead.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Crypto(String),
    #[error("backup target {target}: {reason}")]
    Target { target: String, reason: String },
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("{what}: {reason}")]
    Io { what: String, reason: String },
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    NotFound(String),
}

impl BackupError {
    pub(crate) fn io(what: impl std::fmt::Display, e: impl std::fmt::Display) -> Self {
        BackupError::Io { what: what.to_string(), reason: e.to_string() }
    }
}

/// Held while a backup or change-log link is made on this node: a second run (the scheduler and
/// an operator's `baspa backup create` at once) is refused instead of clearing the first one's
/// spool. The operating system releases the lock when the process ends, even by `kill -9`.
pub struct SpoolLock {
    _file: std::fs::File,
}

impl SpoolLock {
    pub fn acquire(settings: &BackupSettings) -> Result<Self, BackupError> {
        let spool = settings.spool_dir();
        std::fs::create_dir_all(&spool).map_err(|e| BackupError::io(spool.display(), e))?;
        let path = spool.join("lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| BackupError::io(path.display(), e))?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(BackupError::Refused(
                "another backup is running on this node; try again when it has finished".into(),
            )),
            Err(std::fs::TryLockError::Error(e)) => Err(BackupError::io(path.display(), e)),
        }
    }
}

/// blake3 of a file, streamed.
pub(crate) fn hash_file(path: &std::path::Path) -> std::io::Result<(String, u64)> {
    let mut hasher = blake3::Hasher::new();
    let mut file = std::fs::File::open(path)?;
    let bytes = std::io::copy(&mut file, &mut hasher)?;
    Ok((hasher.finalize().to_hex().to_string(), bytes))
}

/// Files under `dir`, recursively, as paths relative to `dir` with `/` separators, sorted.
pub(crate) fn walk_files(dir: &std::path::Path) -> Vec<String> {
    fn go(base: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                go(base, &p, out);
            } else if ft.is_file()
                && let Ok(rel) = p.strip_prefix(base)
            {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    go(dir, dir, &mut out);
    out.sort();
    out
}

/// The next time a cron expression (`minute hour day month weekday`, UTC) fires after `after`.
pub fn next_run(pattern: &str, after: chrono::DateTime<chrono::Utc>) -> Result<chrono::DateTime<chrono::Utc>, String> {
    let cron: croner::Cron = pattern.parse().map_err(|e| format!("{pattern:?} is not a cron expression: {e}"))?;
    cron.find_next_occurrence(&after, false).map_err(|e| format!("{pattern:?} never fires: {e}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn cron_expressions_give_the_next_run_and_bad_ones_are_named() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-05T13:52:00Z").unwrap().with_timezone(&chrono::Utc);
        let next = super::next_run("0 3 * * *", at).unwrap();
        assert_eq!(next.to_rfc3339(), "2026-12-06T03:00:00+00:00");
        let quarterly = super::next_run("0 4 1 1,4,7,10 *", at).unwrap();
        assert_eq!(quarterly.to_rfc3339(), "2027-01-01T04:00:00+00:00");
        assert!(super::next_run("every night", at).unwrap_err().contains("every night"));
    }
}
