//! Point in time (BK-1 "restorable to their date and time", issue 10): between full backups,
//! `create_delta` (scheduled every minute by `backup.delta_schedule`) reads every table from one
//! snapshot, compares each row's hash with the state of the previous link, and stores only the
//! rows that changed and the keys that disappeared, encrypted, as
//! `deltas/<full backup>/<delta>.age` plus its sidecar (written last). A restore `--at T`
//! loads the newest full backup made at or before T and replays the unbroken chain of deltas
//! made at or before T; the per-table hashes recorded in the last delta prove the result is
//! exactly the database as it was when that delta's snapshot was read.
//!
//! The local state (row hashes of the last link) lives in `<data_dir>/backup-state/rows.json`;
//! without it a delta cannot be made and a full backup is needed first.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;

use baspa_db::portable::{self, Table};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::crypto::{Identities, Recipients};
use crate::manifest::TableEntry;
use crate::target::Target;
use crate::{BackupError, BackupSettings};

/// Per table: row key (canonical JSON of the primary key) → short hash of the row's line.
pub type RowHashes = BTreeMap<String, HashMap<String, String>>;

pub fn key_text(t: &Table, row: &Map<String, Value>) -> String {
    portable::row_key(t, row).to_string()
}

pub fn line_hash(line: &str) -> String {
    blake3::hash(line.as_bytes()).to_hex()[..32].to_owned()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChainState {
    /// The full backup the chain continues from.
    pub base: String,
    /// The newest delta of the chain, if any.
    pub last: Option<String>,
    pub created_at: String,
    pub rows: RowHashes,
}

fn state_path(settings: &BackupSettings) -> std::path::PathBuf {
    settings.data_dir.join("backup-state").join("rows.json")
}

pub fn save_state(settings: &BackupSettings, state: &ChainState) -> std::io::Result<()> {
    let path = state_path(settings);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let temp = path.with_extension("partial");
    std::fs::write(&temp, serde_json::to_vec(state).map_err(std::io::Error::other)?)?;
    std::fs::rename(temp, path)
}

fn load_state(settings: &BackupSettings) -> Option<ChainState> {
    serde_json::from_slice(&std::fs::read(state_path(settings)).ok()?).ok()
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TableChanges {
    pub upsert: Vec<Map<String, Value>>,
    pub delete: Vec<Value>,
}

/// One link of the change log (inside the encrypted delta file).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delta {
    pub format: u32,
    pub name: String,
    pub base: String,
    pub prev: Option<String>,
    pub created_at: String,
    /// Rows and hash of every table at this moment (the proof after a replay).
    pub tables: BTreeMap<String, TableEntry>,
    pub changes: BTreeMap<String, TableChanges>,
}

/// Written after the delta file: its presence makes the link count.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeltaSidecar {
    pub name: String,
    pub base: String,
    pub prev: Option<String>,
    pub created_at: String,
    pub bytes: u64,
    pub blake3: String,
    pub upserts: u64,
    pub deletes: u64,
}

impl DeltaSidecar {
    pub fn created(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        chrono::DateTime::parse_from_rfc3339(&self.created_at).ok().map(|t| t.with_timezone(&chrono::Utc))
    }
}

fn delta_path(base: &str, name: &str) -> String {
    format!("deltas/{base}/{name}.age")
}

fn delta_sidecar_path(base: &str, name: &str) -> String {
    format!("deltas/{base}/{name}.json")
}

/// What `create_delta` did.
#[derive(Debug, Clone, Default)]
pub struct DeltaReport {
    /// `None` when nothing changed since the previous link (nothing is written).
    pub name: Option<String>,
    pub upserts: u64,
    pub deletes: u64,
    pub targets: Vec<String>,
    pub problems: Vec<String>,
}

/// Records the rows changed since the previous link of the chain.
pub async fn create_delta(settings: &BackupSettings, db: &DatabaseConnection) -> Result<DeltaReport, BackupError> {
    let _lock = crate::SpoolLock::acquire(settings)?;
    let Some(state) = load_state(settings) else {
        return Err(BackupError::Refused(
            "no full backup to continue the change log from on this node: run `baspa backup create` first".into(),
        ));
    };
    let recipients = Recipients::parse(&settings.recipients)?;
    let targets = settings.open_targets()?;
    let created_at = chrono::Utc::now();
    let mut rows = RowHashes::new();
    let mut changes: BTreeMap<String, TableChanges> = BTreeMap::new();
    let tables = crate::create::read_snapshot(db, |t, row, line| {
        let key = key_text(t, row);
        let hash = line_hash(line);
        let before = state.rows.get(t.name).and_then(|r| r.get(&key));
        if before != Some(&hash) {
            changes.entry(t.name.to_owned()).or_default().upsert.push(row.clone());
        }
        rows.entry(t.name.to_owned()).or_default().insert(key, hash);
        Ok(())
    })
    .await?;
    for (table, old) in &state.rows {
        let now: HashSet<&String> = rows.get(table).map(|r| r.keys().collect()).unwrap_or_default();
        for key in old.keys().filter(|k| !now.contains(k)) {
            let parsed: Value = serde_json::from_str(key).map_err(|e| BackupError::Refused(e.to_string()))?;
            changes.entry(table.clone()).or_default().delete.push(parsed);
        }
    }
    let upserts: u64 = changes.values().map(|c| c.upsert.len() as u64).sum();
    let deletes: u64 = changes.values().map(|c| c.delete.len() as u64).sum();
    let mut report = DeltaReport { upserts, deletes, ..Default::default() };
    if upserts == 0 && deletes == 0 {
        return Ok(report);
    }
    let name = format!("delta-{}-{:04x}", created_at.format("%Y%m%dT%H%M%S%3fZ"), rand::random::<u16>());
    let delta = Delta {
        format: 1,
        name: name.clone(),
        base: state.base.clone(),
        prev: state.last.clone(),
        created_at: created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        tables,
        changes,
    };
    let json = serde_json::to_vec(&delta).map_err(|e| BackupError::io("delta", e))?;
    let compressed = zstd::encode_all(&json[..], 3).map_err(|e| BackupError::io("delta", e))?;
    let sealed = recipients.encrypt_bytes(&compressed)?;
    let sidecar = DeltaSidecar {
        name: name.clone(),
        base: delta.base.clone(),
        prev: delta.prev.clone(),
        created_at: delta.created_at.clone(),
        bytes: sealed.len() as u64,
        blake3: blake3::hash(&sealed).to_hex().to_string(),
        upserts,
        deletes,
    };
    let sidecar_bytes = serde_json::to_vec_pretty(&sidecar).map_err(|e| BackupError::io("delta sidecar", e))?;
    for target in &targets {
        let written = async {
            target.write(&delta_path(&delta.base, &name), sealed.clone()).await?;
            target.write(&delta_sidecar_path(&delta.base, &name), sidecar_bytes.clone()).await
        }
        .await;
        match written {
            Ok(()) => report.targets.push(target.label.clone()),
            Err(e) => report.problems.push(format!("target {}: {e}", target.label)),
        }
    }
    if !report.targets.is_empty() {
        let next = ChainState { base: delta.base, last: Some(name.clone()), created_at: delta.created_at, rows };
        save_state(settings, &next).map_err(|e| BackupError::io("change-log state", e))?;
    }
    report.name = Some(name);
    Ok(report)
}

/// The unbroken chain of deltas of `base` made at or before `until`, oldest first. A missing or
/// unreadable link ends the chain there; the gap is reported.
pub async fn chain_until(
    target: &Target,
    base: &str,
    until: chrono::DateTime<chrono::Utc>,
    problems: &mut Vec<String>,
) -> Result<Vec<DeltaSidecar>, BackupError> {
    let mut all = Vec::new();
    for path in target.list_files(&format!("deltas/{base}/")).await? {
        if !path.ends_with(".json") {
            continue;
        }
        match serde_json::from_slice::<DeltaSidecar>(&target.read(&path).await?) {
            Ok(s) if s.created().is_some_and(|c| c <= until) => all.push(s),
            Ok(_) => {}
            Err(e) => problems.push(format!("{path}: unreadable sidecar: {e}")),
        }
    }
    all.sort_by(|a, b| (a.created(), &a.name).cmp(&(b.created(), &b.name)));
    let mut chain: Vec<DeltaSidecar> = Vec::new();
    for s in all {
        let expected = chain.last().map(|l| l.name.clone());
        if s.prev != expected {
            problems.push(format!(
                "the change log of {base} is broken before {} (it follows {:?}, expected {:?}); restored up to the link before",
                s.name, s.prev, expected
            ));
            break;
        }
        chain.push(s);
    }
    Ok(chain)
}

/// Reads, checks and opens one delta.
pub async fn read_delta(target: &Target, s: &DeltaSidecar, ids: &Identities) -> Result<Delta, BackupError> {
    let bytes = target.read(&delta_path(&s.base, &s.name)).await?;
    if bytes.len() as u64 != s.bytes || blake3::hash(&bytes).to_hex().as_str() != s.blake3 {
        return Err(BackupError::Refused(format!("delta {}: its size or checksum differs from its sidecar", s.name)));
    }
    let compressed = ids.decrypt_bytes(&bytes)?;
    let mut json = Vec::new();
    zstd::Decoder::new(&compressed[..])
        .and_then(|mut d| d.read_to_end(&mut json))
        .map_err(|e| BackupError::Refused(format!("delta {}: {e}", s.name)))?;
    serde_json::from_slice(&json).map_err(|e| BackupError::Refused(format!("delta {}: {e}", s.name)))
}

/// Replays one delta: removed rows (children first; a removal a foreign key blocks is retried
/// after the updates), then changed and new rows (parents first).
pub async fn apply_delta(db: &DatabaseConnection, delta: Delta) -> Result<(), BackupError> {
    let tables = portable::tables();
    let mut changes = delta.changes;
    let mut deferred = Vec::new();
    for t in tables.iter().rev() {
        if let Some(c) = changes.get(t.name) {
            for key in &c.delete {
                if portable::delete_rows(db, t, std::slice::from_ref(key)).await.is_err() {
                    deferred.push((t, key.clone()));
                }
            }
        }
    }
    for t in &tables {
        if let Some(c) = changes.remove(t.name)
            && !c.upsert.is_empty()
        {
            portable::upsert_rows(db, t, c.upsert).await?;
        }
    }
    for (t, key) in deferred {
        portable::delete_rows(db, t, std::slice::from_ref(&key)).await?;
    }
    Ok(())
}
