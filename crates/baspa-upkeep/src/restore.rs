//! `baspa backup restore` (BK-1): verifies the chosen backup, then loads it into a NEW database
//! (any of the three backends: the export is portable) and optionally a new data directory.
//! It refuses the live database, or one that already holds rows, unless `force` is given.
//! Migrations run up to the backup's schema, the rows go in, then any newer migrations run, so
//! an old backup restores into a newer Baspa. Afterwards every table's rows are counted and,
//! when the schema did not move, hashed again and compared with the manifest.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use baspa_db::portable;
use sea_orm::DatabaseConnection;
use serde_json::{Map, Value};

use crate::crypto::Identities;
use crate::manifest::Sidecar;
use crate::target::Target;
use crate::verify::{check_objects, fetch_and_unpack};
use crate::{BackupError, BackupSettings};

#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    /// The database to restore into.
    pub database_url: String,
    /// Where media files, sealed copies, anchors, configuration and theme go; `None` restores
    /// the database only.
    pub data_dir: Option<PathBuf>,
    /// Allow a non-empty or the live database / data directory (its rows are replaced).
    pub force: bool,
    /// The live database's URL, refused without `force`.
    pub live_database_url: Option<String>,
    pub live_data_dir: Option<PathBuf>,
    /// Replay the change log of the chosen backup up to this moment (point in time).
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct RestoreReport {
    pub name: String,
    pub created_at: String,
    pub backend_from: String,
    pub tables: usize,
    pub rows: u64,
    pub media_files: u64,
    /// Tables whose hash after the restore equals the manifest's (all of them when ok).
    pub tables_identical: usize,
    /// Change-log links replayed after the full backup, and the moment the result reflects.
    pub deltas: usize,
    pub state_at: String,
    pub problems: Vec<String>,
}

impl RestoreReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

fn same_database(a: &str, b: &str) -> bool {
    let norm =
        |s: &str| s.trim().trim_end_matches('/').replacen("mariadb:", "mysql:", 1).replace("sqlite:///", "sqlite://");
    let strip = |s: String| s.split('?').next().unwrap_or_default().to_owned();
    strip(norm(a)) == strip(norm(b))
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (std::path::absolute(a), std::path::absolute(b)) {
        (Ok(a), Ok(b)) => a == b || a.canonicalize().ok() == b.canonicalize().ok() && a.exists(),
        _ => false,
    }
}

/// Reads `db/<table>.jsonl` and inserts its rows.
async fn load_table(db: &DatabaseConnection, t: &portable::Table, file: &Path) -> Result<u64, BackupError> {
    let f = std::fs::File::open(file).map_err(|e| BackupError::io(file.display(), e))?;
    let reader = std::io::BufReader::new(f);
    let mut batch: Vec<Map<String, Value>> = Vec::new();
    let mut total = 0;
    // Tables with rows pointing at rows of the same table are loaded at once, parents first.
    let whole = !t.self_refs.is_empty();
    let mut columns_checked = false;
    let mut table = t.clone();
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| BackupError::io(file.display(), e))?;
        let row: Map<String, Value> = serde_json::from_str(&line)
            .map_err(|e| BackupError::Refused(format!("table {} line {}: {e}", t.name, n + 1)))?;
        if !columns_checked {
            // A backup from an older schema lacks newer columns: insert only the ones it has.
            table.columns.retain(|c| row.contains_key(c.name));
            columns_checked = true;
        }
        batch.push(row);
        if !whole && batch.len() >= 2000 {
            total += portable::import_rows(db, &table, std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        total += portable::import_rows(db, &table, batch).await?;
    }
    Ok(total)
}

/// Restores `sidecar`'s backup from `target`.
pub async fn restore_backup(
    settings: &BackupSettings,
    target: &Target,
    sidecar: &Sidecar,
    identity: Option<&Path>,
    options: &RestoreOptions,
) -> Result<RestoreReport, BackupError> {
    if !options.force {
        if let Some(live) = &options.live_database_url
            && same_database(live, &options.database_url)
        {
            return Err(BackupError::Refused(format!(
                "{} is the live database; restore into a new one (--database-url) or add --force to replace the live data",
                baspa_db::redact_url(&options.database_url)
            )));
        }
        if let (Some(live), Some(new)) = (&options.live_data_dir, &options.data_dir)
            && same_dir(live, new)
        {
            return Err(BackupError::Refused(format!(
                "{} is the live data directory; restore into a new one (--to-data-dir) or add --force",
                new.display()
            )));
        }
        if let Some(dir) = &options.data_dir
            && dir.join("media").read_dir().is_ok_and(|mut d| d.next().is_some())
        {
            return Err(BackupError::Refused(format!(
                "{} already holds media files; choose an empty data directory or add --force",
                dir.display()
            )));
        }
    }
    let ids = Identities::load(identity.or(settings.identity_file.as_deref()))?;
    let spool = settings.spool_dir();
    std::fs::create_dir_all(&spool).map_err(|e| BackupError::io(spool.display(), e))?;
    let work = tempfile::tempdir_in(&spool).map_err(|e| BackupError::io(spool.display(), e))?;
    let extract = work.path().join("x");
    let mut report =
        RestoreReport { name: sidecar.name.clone(), created_at: sidecar.created_at.clone(), ..Default::default() };
    let manifest = fetch_and_unpack(target, sidecar, &ids, work.path(), Some(&extract), &mut report.problems).await?;
    let Some(m) = manifest else {
        return Err(BackupError::Refused(format!(
            "backup {} does not verify, nothing was restored: {}",
            sidecar.name,
            report.problems.join("; ")
        )));
    };
    if !report.problems.is_empty() {
        return Err(BackupError::Refused(format!(
            "backup {} does not verify, nothing was restored: {}",
            sidecar.name,
            report.problems.join("; ")
        )));
    }
    report.backend_from = m.backend.clone();

    // The database.
    let db = baspa_db::connect(&options.database_url).await.map_err(|e| BackupError::Refused(e.to_string()))?;
    let known = baspa_db::connect::migration_names();
    let steps = m.migrations.iter().filter(|name| known.contains(name)).count();
    if let Some(unknown) = m.migrations.iter().find(|name| !known.contains(name)) {
        return Err(BackupError::Refused(format!(
            "backup {} was made by a newer Baspa (migration {unknown} is unknown here); restore it with that version",
            sidecar.name
        )));
    }
    baspa_db::connect::migrate_steps(&db, steps as u32)
        .await
        .map_err(|e| BackupError::Refused(format!("migrating the new database: {e}")))?;
    let mut non_empty = Vec::new();
    for t in portable::tables() {
        if portable::count_rows(&db, &t).await.unwrap_or(0) > 0 {
            non_empty.push(t.name);
        }
    }
    if !non_empty.is_empty() {
        if !options.force {
            return Err(BackupError::Refused(format!(
                "the database {} is not empty (tables {}); restore needs a new, empty database, or --force to replace its rows",
                baspa_db::redact_url(&options.database_url),
                non_empty.join(", ")
            )));
        }
        portable::wipe_all(&db).await?;
    }
    for t in portable::tables() {
        if !m.tables.contains_key(t.name) {
            continue;
        }
        let file = extract.join(format!("db/{}.jsonl", t.name));
        let rows = load_table(&db, &t, &file).await?;
        report.rows += rows;
        report.tables += 1;
    }
    let mut expected = m.tables.clone();
    report.state_at = m.created_at.clone();
    if let Some(until) = options.until {
        let chain = crate::pitr::chain_until(target, &sidecar.name, until, &mut report.problems).await?;
        for link in &chain {
            let delta = crate::pitr::read_delta(target, link, &ids).await?;
            expected = delta.tables.clone();
            crate::pitr::apply_delta(&db, delta).await?;
            report.deltas += 1;
            report.state_at = link.created_at.clone();
        }
    }
    portable::reset_id_sequences(&db).await?;
    let migrated_further = known.len() > steps;
    baspa_db::migrate(&db, &options.database_url).await.map_err(|e| BackupError::Refused(e.to_string()))?;

    // Proof: counts always, hashes when the schema is the backup's.
    let check = tempfile::tempdir_in(&spool).map_err(|e| BackupError::io(spool.display(), e))?;
    let after = crate::create::export_tables(&db, check.path()).await?;
    for (name, entry) in &expected {
        match after.get(name) {
            None => report.problems.push(format!("table {name} is missing after the restore")),
            Some(a) if a.rows != entry.rows => {
                report.problems.push(format!("table {name}: {} rows restored, {} expected", a.rows, entry.rows))
            }
            Some(a) if a.blake3 != entry.blake3 && !migrated_further => {
                report.problems.push(format!("table {name}: the restored rows differ from the backup (hash)"))
            }
            Some(_) => report.tables_identical += 1,
        }
    }
    let _ = db.close().await;

    // The files.
    if let Some(dir) = &options.data_dir {
        std::fs::create_dir_all(dir).map_err(|e| BackupError::io(dir.display(), e))?;
        report.media_files = check_objects(target, &m, &ids, Some(dir), &mut report.problems).await?;
        for name in ["journal-anchor.key", "journal-anchors.log"] {
            let src = extract.join(format!("files/data/{name}"));
            if src.is_file() {
                std::fs::copy(&src, dir.join(name)).map_err(|e| BackupError::io(src.display(), e))?;
            }
        }
        for (from, to) in [("files/config", "restored-config"), ("files/theme", "restored-theme")] {
            let src = extract.join(from);
            for rel in crate::walk_files(&src) {
                let dest = dir.join(to).join(&rel);
                if let Some(parent) = dest.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| BackupError::io(parent.display(), e))?;
                }
                std::fs::copy(src.join(&rel), &dest).map_err(|e| BackupError::io(dest.display(), e))?;
            }
        }
    }
    Ok(report)
}
