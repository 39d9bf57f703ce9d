//! `baspa backup verify`: proves a backup can be read back. Checks the sidecar (complete?),
//! the archive's size and checksum as written (truncated? changed?), decrypts (wrong key?),
//! decompresses and compares every entry's hash and every table's row count with the manifest,
//! then opens every media object it needs (missing? changed?). All problems are listed, each
//! in words, rather than stopping at the first.

use std::path::Path;

use crate::archive::{self, Unpacked};
use crate::crypto::Identities;
use crate::manifest::{self, Manifest, Sidecar};
use crate::target::Target;
use crate::{BackupError, BackupSettings};

#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    pub name: String,
    pub target: String,
    pub tables: usize,
    pub rows: u64,
    pub media_checked: u64,
    pub problems: Vec<String>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Compares an unpacked archive with its manifest.
pub fn compare(unpacked: &Unpacked, problems: &mut Vec<String>) -> Option<Manifest> {
    let Some(m) = unpacked.manifest.clone() else {
        problems.push("the archive has no manifest.json".into());
        return None;
    };
    for (table, entry) in &m.tables {
        let rel = format!("db/{table}.jsonl");
        match unpacked.hashes.get(&rel) {
            None => problems.push(format!("table {table}: its file {rel} is missing from the archive")),
            Some((hash, _)) if *hash != entry.blake3 => {
                problems.push(format!("table {table}: the rows' hash differs from the manifest"))
            }
            Some(_) => {}
        }
        let lines = unpacked.lines.get(table).copied().unwrap_or(0);
        if lines != entry.rows {
            problems.push(format!("table {table}: {lines} rows in the archive, {} in the manifest", entry.rows));
        }
    }
    for (rel, entry) in &m.entries {
        match unpacked.hashes.get(rel) {
            None => problems.push(format!("{rel} is missing from the archive")),
            Some((hash, bytes)) if *hash != entry.blake3 || *bytes != entry.bytes => {
                problems.push(format!("{rel}: its hash differs from the manifest"))
            }
            Some(_) => {}
        }
    }
    Some(m)
}

/// Downloads and checks the archive bytes against the sidecar, then unpacks (and extracts when
/// `extract_to` is given). `Err` only for failures to even start.
pub async fn fetch_and_unpack(
    target: &Target,
    sidecar: &Sidecar,
    ids: &Identities,
    work: &Path,
    extract_to: Option<&Path>,
    problems: &mut Vec<String>,
) -> Result<Option<Manifest>, BackupError> {
    let local = work.join("archive");
    let size = match target.download(&manifest::archive_path(&sidecar.name), &local).await {
        Ok(s) => s,
        Err(BackupError::NotFound(what)) => {
            problems.push(format!("the archive is missing: {what}"));
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    if size < sidecar.bytes {
        problems.push(format!(
            "the archive is truncated: {size} of {} bytes are there (cut off after it was written)",
            sidecar.bytes
        ));
    } else if size > sidecar.bytes {
        problems.push(format!("the archive is longer than written: {size} bytes instead of {}", sidecar.bytes));
    } else {
        let (hash, _) = crate::hash_file(&local).map_err(|e| BackupError::io(local.display(), e))?;
        if hash != sidecar.blake3 {
            problems.push(
                "the archive was changed after it was written: its checksum differs from the sidecar (a flipped byte?)"
                    .into(),
            );
        }
    }
    let ids_path = local.clone();
    let extract = extract_to.map(Path::to_path_buf);
    // Blocking work on this worker thread (the identities are borrowed, not moved).
    let unpacked = tokio::task::block_in_place(|| archive::unpack(&ids_path, ids, extract.as_deref()));
    match unpacked {
        Ok(u) => Ok(compare(&u, problems)),
        Err(e) => {
            problems.push(e.to_string());
            Ok(None)
        }
    }
}

/// Opens every media object the manifest names and compares its hash.
pub async fn check_objects(
    target: &Target,
    m: &Manifest,
    ids: &Identities,
    restore_into: Option<&Path>,
    problems: &mut Vec<String>,
) -> Result<u64, BackupError> {
    let mut checked = 0;
    // Each content is opened once; a second file with the same content (a media file and its
    // sealed copy) is counted, and when restoring, copied from the first one written.
    let mut opened: std::collections::HashMap<&str, Option<std::path::PathBuf>> = std::collections::HashMap::new();
    for (rel, entry) in &m.media {
        let dest = restore_into.map(|dir| dir.join(rel));
        if let Some(parent) = dest.as_ref().and_then(|d| d.parent()) {
            tokio::fs::create_dir_all(parent).await.map_err(|e| BackupError::io(parent.display(), e))?;
        }
        if let Some(first) = opened.get(entry.blake3.as_str()) {
            if let (Some(first), Some(dest)) = (first, &dest) {
                tokio::fs::copy(first, dest).await.map_err(|e| BackupError::io(dest.display(), e))?;
            }
            checked += 1;
            continue;
        }
        let path = manifest::object_path(&m.recipients_fingerprint, &entry.blake3);
        let bytes = match target.read(&path).await {
            Ok(b) => b,
            Err(BackupError::NotFound(_)) => {
                problems.push(format!("media object {} for {rel} is missing from {}", entry.blake3, target.label));
                continue;
            }
            Err(e) => return Err(e),
        };
        let plain = match ids.decrypt_bytes(&bytes) {
            Ok(p) if blake3::hash(&p).to_hex().as_str() == entry.blake3 => p,
            Ok(_) => {
                problems.push(format!("media object {} for {rel}: its content does not match its hash", entry.blake3));
                continue;
            }
            Err(e) => {
                problems.push(format!("media object {} for {rel}: {e}", entry.blake3));
                continue;
            }
        };
        if let Some(dest) = &dest {
            tokio::fs::write(dest, &plain).await.map_err(|e| BackupError::io(dest.display(), e))?;
        }
        opened.insert(entry.blake3.as_str(), dest);
        checked += 1;
    }
    Ok(checked)
}

/// Finds a backup by name, by time (the newest at or before `at`), or the newest.
pub async fn choose(
    target: &Target,
    name: Option<&str>,
    at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Sidecar, BackupError> {
    let all = target.list_backups().await?;
    let found = match (name, at) {
        (Some(n), _) => all.into_iter().find(|s| s.name == n),
        (None, Some(at)) => all.into_iter().rev().find(|s| s.created().is_some_and(|c| c <= at)),
        (None, None) => all.into_iter().last(),
    };
    found.ok_or_else(|| {
        BackupError::NotFound(match (name, at) {
            (Some(n), _) => format!("no complete backup named {n} on {}", target.label),
            (None, Some(at)) => format!("no complete backup made at or before {at} on {}", target.label),
            (None, None) => format!("no complete backup on {}", target.label),
        })
    })
}

/// Verifies one backup on one target.
pub async fn verify_backup(
    settings: &BackupSettings,
    target: &Target,
    sidecar: &Sidecar,
    identity: Option<&Path>,
) -> Result<VerifyReport, BackupError> {
    let ids = Identities::load(identity.or(settings.identity_file.as_deref()))?;
    let spool = settings.spool_dir();
    std::fs::create_dir_all(&spool).map_err(|e| BackupError::io(spool.display(), e))?;
    let work = tempfile::tempdir_in(&spool).map_err(|e| BackupError::io(spool.display(), e))?;
    let mut report = VerifyReport { name: sidecar.name.clone(), target: target.label.clone(), ..Default::default() };
    let manifest = fetch_and_unpack(target, sidecar, &ids, work.path(), None, &mut report.problems).await?;
    if let Some(m) = manifest {
        report.tables = m.tables.len();
        report.rows = m.tables.values().map(|t| t.rows).sum();
        report.media_checked = check_objects(target, &m, &ids, None, &mut report.problems).await?;
    }
    Ok(report)
}
