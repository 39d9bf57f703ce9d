//! What a backup holds (`manifest.json`, inside the encrypted archive) and the small sidecar
//! written next to the archive when it is complete (`archives/<name>.json`, readable without
//! the key: size, checksum, time, and which media objects the backup needs).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub const FORMAT: u32 = 1;
pub const ARCHIVE_SUFFIX: &str = ".tar.zst.age";
pub const SIDECAR_SUFFIX: &str = ".json";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TableEntry {
    pub rows: u64,
    /// blake3 of the table's canonical JSON lines (the same on every backend).
    pub blake3: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileEntry {
    pub blake3: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: u32,
    pub name: String,
    /// UTC, RFC 3339: the moment the database snapshot was taken.
    pub created_at: String,
    pub baspa_version: String,
    /// `sqlite`, `postgres` or `mysql`.
    pub backend: String,
    pub server_version: String,
    /// Migrations applied to the database, in order.
    pub migrations: Vec<String>,
    pub tables: BTreeMap<String, TableEntry>,
    /// Every other file in the archive (native dump, configuration, theme, anchors), by its
    /// path inside the archive.
    pub entries: BTreeMap<String, FileEntry>,
    /// Media and sealed copies by their path under the data directory; each is stored as the
    /// object `objects/<recipients>/<hash[..2]>/<hash>.age` on the target.
    pub media: BTreeMap<String, FileEntry>,
    pub recipients_fingerprint: String,
    /// Things that did not go into the backup, each named (a missing dump tool, an unknown table).
    pub problems: Vec<String>,
}

/// Written after the archive and its objects: its presence marks the backup as complete.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Sidecar {
    pub format: u32,
    pub name: String,
    pub created_at: String,
    pub backend: String,
    pub baspa_version: String,
    /// Size and blake3 of the encrypted archive as written.
    pub bytes: u64,
    pub blake3: String,
    pub rows: u64,
    pub media_files: u64,
    pub recipients_fingerprint: String,
    /// The media objects (hashes) this backup needs; retention keeps them while it lives.
    pub objects: Vec<String>,
}

impl Sidecar {
    pub fn created(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        chrono::DateTime::parse_from_rfc3339(&self.created_at).ok().map(|t| t.with_timezone(&chrono::Utc))
    }
}

pub fn archive_path(name: &str) -> String {
    format!("archives/{name}{ARCHIVE_SUFFIX}")
}

pub fn sidecar_path(name: &str) -> String {
    format!("archives/{name}{SIDECAR_SUFFIX}")
}

pub fn object_path(fingerprint: &str, hash: &str) -> String {
    format!("objects/{fingerprint}/{}/{hash}.age", &hash[..2.min(hash.len())])
}

/// A new backup's name: `baspa-YYYYMMDDTHHMMSSmmmZ-xxxx` (milliseconds, so two backups in one
/// second still sort by time).
pub fn new_name(at: chrono::DateTime<chrono::Utc>) -> String {
    let tail: u16 = rand::random();
    format!("baspa-{}-{tail:04x}", at.format("%Y%m%dT%H%M%S%3fZ"))
}
