//! `baspa backup create` (BK-1): a consistent snapshot of the database (portable export of every
//! table read in one repeatable-read transaction, plus the native dump where cheap), media
//! files as content-addressed encrypted objects (stored once), configuration, theme and the
//! journal's anchor files; packed, encrypted, uploaded to every target, completed by a sidecar.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use baspa_db::portable;
use sea_orm::{AccessMode, DatabaseConnection, DbBackend, IsolationLevel, TransactionTrait};

use crate::archive;
use crate::crypto::Recipients;
use crate::manifest::{self, FileEntry, Manifest, Sidecar, TableEntry};
use crate::{BackupError, BackupSettings, hash_file, walk_files};

/// What a backup run did.
#[derive(Debug, Clone)]
pub struct CreateReport {
    pub name: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub archive_bytes: u64,
    pub rows: u64,
    pub tables: usize,
    pub media_files: u64,
    /// Media objects uploaded by this run (the rest were already on the target).
    pub new_objects: u64,
    /// Targets the backup reached.
    pub targets: Vec<String>,
    /// Everything that went wrong or was left out, each named (the run counts as failed).
    pub problems: Vec<String>,
    /// What is missing but not needed for a restore (the native dump: the portable export
    /// restores on its own), each named; kept in the manifest too.
    pub warnings: Vec<String>,
}

impl CreateReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Console progress on stderr ("[2/6] exporting tables"), quiet when `quiet`.
pub struct Progress {
    pub quiet: bool,
}

impl Progress {
    pub fn step(&self, n: u32, of: u32, what: &str) {
        if !self.quiet {
            eprintln!("[{n}/{of}] {what}");
        }
    }

    /// A bar for long steps (`[#####     ] 512/1000 media objects`), redrawn in place on a
    /// terminal; elsewhere (logs, cron) only the end is printed.
    pub fn bar(&self, done: usize, total: usize, what: &str) {
        use std::io::IsTerminal;
        if self.quiet || total == 0 {
            return;
        }
        let terminal = std::io::stderr().is_terminal();
        if !terminal && done < total {
            return;
        }
        let filled = done * 30 / total;
        let line = format!("[{}{}] {done}/{total} {what}", "#".repeat(filled), " ".repeat(30 - filled));
        if terminal {
            eprint!("\r{line}{}", if done == total { "\n" } else { "" });
        } else {
            eprintln!("{line}");
        }
    }
}

fn backend_name(b: DbBackend) -> &'static str {
    match b {
        DbBackend::Sqlite => "sqlite",
        DbBackend::Postgres => "postgres",
        _ => "mysql",
    }
}

/// Exports every table into `dir/db/<table>.jsonl` from one snapshot.
pub async fn export_tables(db: &DatabaseConnection, dir: &Path) -> Result<BTreeMap<String, TableEntry>, BackupError> {
    export_tables_with_state(db, dir, None).await
}

/// Reads every table from one snapshot (repeatable read), calling `visit` with each row and its
/// canonical line; returns rows and hash per table.
pub async fn read_snapshot(
    db: &DatabaseConnection,
    mut visit: impl FnMut(&portable::Table, &serde_json::Map<String, serde_json::Value>, &str) -> Result<(), sea_orm::DbErr>,
) -> Result<BTreeMap<String, TableEntry>, BackupError> {
    // SQLite in WAL mode reads one snapshot per transaction by itself (and warns about options).
    let tx = match db.get_database_backend() {
        DbBackend::Sqlite => db.begin().await?,
        _ => db.begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await?,
    };
    let mut tables = BTreeMap::new();
    for t in portable::tables() {
        let mut hasher = blake3::Hasher::new();
        let rows = portable::export_table(&tx, &t, |row| {
            let mut line = portable::row_line(&row);
            line.push('\n');
            hasher.update(line.as_bytes());
            visit(&t, &row, &line)
        })
        .await?;
        tables.insert(t.name.to_owned(), TableEntry { rows, blake3: hasher.finalize().to_hex().to_string() });
    }
    tx.commit().await?;
    Ok(tables)
}

/// `export_tables`, also collecting each row's hash by key for the point-in-time change log.
pub async fn export_tables_with_state(
    db: &DatabaseConnection,
    dir: &Path,
    mut state: Option<&mut crate::pitr::RowHashes>,
) -> Result<BTreeMap<String, TableEntry>, BackupError> {
    std::fs::create_dir_all(dir.join("db")).map_err(|e| BackupError::io(dir.display(), e))?;
    for t in portable::tables() {
        let path = dir.join(format!("db/{}.jsonl", t.name));
        std::fs::File::create(&path).map_err(|e| BackupError::io(path.display(), e))?;
    }
    let mut current: Option<(&'static str, std::io::BufWriter<std::fs::File>)> = None;
    let tables = read_snapshot(db, |t, row, line| {
        let io = |e: std::io::Error| sea_orm::DbErr::Custom(format!("db/{}.jsonl: {e}", t.name));
        if current.as_ref().map(|(n, _)| *n) != Some(t.name) {
            if let Some((_, mut w)) = current.take() {
                w.flush().map_err(io)?;
            }
            let f =
                std::fs::OpenOptions::new().append(true).open(dir.join(format!("db/{}.jsonl", t.name))).map_err(io)?;
            current = Some((t.name, std::io::BufWriter::new(f)));
        }
        if let Some((_, w)) = current.as_mut() {
            w.write_all(line.as_bytes()).map_err(io)?;
        }
        if let Some(state) = state.as_deref_mut() {
            state
                .entry(t.name.to_owned())
                .or_default()
                .insert(crate::pitr::key_text(t, row), crate::pitr::line_hash(line));
        }
        Ok(())
    })
    .await?;
    if let Some((_, mut w)) = current.take() {
        w.flush().map_err(|e| BackupError::io("table export", e))?;
    }
    Ok(tables)
}

/// The backend's own dump into `dir/db/native.*`; `Err` names why it was not made.
async fn native_dump(db: &DatabaseConnection, url: &str, dir: &Path) -> Result<String, String> {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            let rel = "db/native.sqlite".to_owned();
            baspa_db::dialect::vacuum_into(db, &dir.join(&rel)).await.map_err(|e| e.to_string())?;
            Ok(rel)
        }
        DbBackend::Postgres => {
            let rel = "db/native.pgdump".to_owned();
            let out = tokio::process::Command::new("pg_dump")
                .arg("--format=custom")
                .arg(format!("--file={}", dir.join(&rel).display()))
                .arg(format!("--dbname={url}"))
                .output()
                .await
                .map_err(|e| format!("pg_dump could not be started: {e}"))?;
            if !out.status.success() {
                return Err(format!("pg_dump failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
            }
            Ok(rel)
        }
        _ => {
            let rel = "db/native.sql".to_owned();
            let u = url::Url::parse(url).map_err(|e| e.to_string())?;
            let mut cmd = tokio::process::Command::new("mariadb-dump");
            cmd.arg("--single-transaction")
                .arg("--routines")
                .arg(format!("--host={}", u.host_str().unwrap_or("localhost")))
                .arg(format!("--port={}", u.port().unwrap_or(3306)))
                .arg(format!("--user={}", u.username()))
                .arg(format!("--result-file={}", dir.join(&rel).display()))
                .arg(u.path().trim_start_matches('/'));
            if let Some(pw) = u.password() {
                // The password goes through the environment, never the process list.
                cmd.env("MYSQL_PWD", pw);
            }
            let out = cmd.output().await.map_err(|e| format!("mariadb-dump could not be started: {e}"))?;
            if !out.status.success() {
                return Err(format!("mariadb-dump failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
            }
            Ok(rel)
        }
    }
}

fn copy_into(src: &Path, staging: &Path, rel: &str) -> Result<(), BackupError> {
    let dest = staging.join(rel);
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(|e| BackupError::io(parent.display(), e))?;
    }
    std::fs::copy(src, &dest).map_err(|e| BackupError::io(src.display(), e))?;
    Ok(())
}

/// Removes what an interrupted run left in the spool (a killed process cannot clean up).
fn clean_spool(spool: &Path) {
    if let Ok(entries) = std::fs::read_dir(spool) {
        for e in entries.flatten() {
            let p = e.path();
            if !e.file_name().to_string_lossy().starts_with("baspa-") {
                continue;
            }
            if p.is_dir() {
                let _ = std::fs::remove_dir_all(&p);
            } else {
                let _ = std::fs::remove_file(&p);
            }
        }
    }
}

/// Makes one backup and writes it to every target.
pub async fn create_backup(
    settings: &BackupSettings,
    db: &DatabaseConnection,
    progress: &Progress,
) -> Result<CreateReport, BackupError> {
    let recipients = Recipients::parse(&settings.recipients)?;
    let targets = settings.open_targets()?;
    // Milliseconds: backups are ordered (and chosen by --at) by this moment.
    let created_at = chrono::Utc::now();
    let name = manifest::new_name(created_at);
    let _lock = crate::SpoolLock::acquire(settings)?;
    let spool = settings.spool_dir();
    clean_spool(&spool);
    let staging = spool.join(format!("{name}.staging"));
    std::fs::create_dir_all(&staging).map_err(|e| BackupError::io(staging.display(), e))?;
    let mut problems = Vec::new();
    let mut warnings = Vec::new();

    progress.step(1, 6, "exporting every table from one snapshot");
    for t in portable::tables_not_covered(db).await? {
        problems.push(format!("table {t} is not covered by the backup (add it to baspa_db::portable::tables)"));
    }
    let mut row_hashes = crate::pitr::RowHashes::new();
    let tables = export_tables_with_state(db, &staging, Some(&mut row_hashes)).await?;
    let migrations = portable::applied_migrations(db).await?;
    let server_version = baspa_db::dialect::server_version(db).await.unwrap_or_default();

    let mut files: Vec<String> = tables.keys().map(|t| format!("db/{t}.jsonl")).collect();
    if settings.native_dump {
        progress.step(2, 6, "native dump");
        match native_dump(db, &settings.database_url, &staging).await {
            Ok(rel) => files.push(rel),
            Err(why) => warnings.push(format!("native dump not included: {why}")),
        }
    }

    progress.step(3, 6, "configuration, theme and journal anchors");
    if let Some(cfg) = settings.config_file.as_ref().filter(|p| p.is_file()) {
        copy_into(cfg, &staging, "files/config/baspa.toml")?;
        files.push("files/config/baspa.toml".into());
    }
    if let Some(theme) = settings.theme_dir.as_ref().filter(|p| p.is_dir()) {
        for rel in walk_files(theme) {
            let inside = format!("files/theme/{rel}");
            copy_into(&theme.join(&rel), &staging, &inside)?;
            files.push(inside);
        }
    }
    for name in ["journal-anchor.key", "journal-anchors.log"] {
        let p = settings.data_dir.join(name);
        if p.is_file() {
            let inside = format!("files/data/{name}");
            copy_into(&p, &staging, &inside)?;
            files.push(inside);
        }
    }
    let mut entries = BTreeMap::new();
    for rel in &files {
        let (blake3, bytes) = hash_file(&staging.join(rel)).map_err(|e| BackupError::io(rel, e))?;
        entries.insert(rel.clone(), FileEntry { blake3, bytes });
    }
    // Table files are described by `tables` (with their row counts); keep `entries` for the rest.
    for t in tables.keys() {
        entries.remove(&format!("db/{t}.jsonl"));
    }

    progress.step(4, 6, "hashing media files");
    let mut media = BTreeMap::new();
    for folder in ["media", "sealed"] {
        let base = settings.data_dir.join(folder);
        for rel in walk_files(&base) {
            if rel.starts_with(".partial-") {
                continue;
            }
            match hash_file(&base.join(&rel)) {
                Ok((blake3, bytes)) => {
                    media.insert(format!("{folder}/{rel}"), FileEntry { blake3, bytes });
                }
                Err(e) => problems.push(format!("{folder}/{rel} could not be read: {e}")),
            }
        }
    }

    let manifest = Manifest {
        format: manifest::FORMAT,
        name: name.clone(),
        created_at: created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        baspa_version: env!("CARGO_PKG_VERSION").to_owned(),
        backend: backend_name(db.get_database_backend()).to_owned(),
        server_version,
        migrations,
        tables: tables.clone(),
        entries,
        media: media.clone(),
        recipients_fingerprint: recipients.fingerprint.clone(),
        problems: problems.iter().chain(&warnings).cloned().collect(),
    };
    let manifest_bytes =
        serde_json::to_vec_pretty(&manifest).map_err(|e| BackupError::io("manifest.json", e.to_string()))?;
    std::fs::write(staging.join("manifest.json"), &manifest_bytes).map_err(|e| BackupError::io("manifest.json", e))?;
    let mut pack_list = files.clone();
    pack_list.push("manifest.json".into());

    progress.step(5, 6, "packing, compressing and encrypting");
    let archive_file = spool.join(format!("{name}{}", manifest::ARCHIVE_SUFFIX));
    let level = if settings.zstd_level == 0 { 3 } else { settings.zstd_level };
    let (digest, archive_bytes) = {
        let staging = staging.clone();
        let archive_file = archive_file.clone();
        let recipients = Recipients::parse(&settings.recipients)?;
        tokio::task::spawn_blocking(move || archive::pack(&staging, &pack_list, &recipients, level, &archive_file))
            .await
            .map_err(|e| BackupError::io("packing", e))??
    };

    progress.step(6, 6, "writing to the targets");
    let mut objects: Vec<String> = media.values().map(|f| f.blake3.clone()).collect();
    objects.sort();
    objects.dedup();
    let sidecar = Sidecar {
        format: manifest::FORMAT,
        name: name.clone(),
        created_at: manifest.created_at.clone(),
        backend: manifest.backend.clone(),
        baspa_version: manifest.baspa_version.clone(),
        bytes: archive_bytes,
        blake3: digest,
        rows: tables.values().map(|t| t.rows).sum(),
        media_files: media.len() as u64,
        recipients_fingerprint: recipients.fingerprint.clone(),
        objects: objects.clone(),
    };
    let sidecar_bytes = serde_json::to_vec_pretty(&sidecar).map_err(|e| BackupError::io("sidecar", e.to_string()))?;
    let mut new_objects = 0u64;
    let mut reached = Vec::new();
    let by_hash: BTreeMap<&str, &str> = media.iter().map(|(p, f)| (f.blake3.as_str(), p.as_str())).collect();
    for target in &targets {
        let result: Result<u64, BackupError> = async {
            let mut uploaded = 0;
            for (i, (hash, rel)) in by_hash.iter().enumerate() {
                progress.bar(i + 1, by_hash.len(), &format!("media objects on {}", target.label));
                let path = manifest::object_path(&recipients.fingerprint, hash);
                if target.exists(&path).await? {
                    continue;
                }
                let src: PathBuf = settings.data_dir.join(rel);
                let bytes = tokio::fs::read(&src).await.map_err(|e| BackupError::io(src.display(), e))?;
                if blake3::hash(&bytes).to_hex().as_str() != *hash {
                    return Err(BackupError::Refused(format!("{rel} changed while the backup ran; run it again")));
                }
                let sealed = recipients.encrypt_bytes(&bytes)?;
                target.write(&path, sealed).await?;
                uploaded += 1;
            }
            target.upload_file(&archive_file, &manifest::archive_path(&name)).await?;
            // Written last: from here on the backup counts as complete.
            target.write(&manifest::sidecar_path(&name), sidecar_bytes.clone()).await?;
            Ok(uploaded)
        }
        .await;
        match result {
            Ok(n) => {
                new_objects += n;
                reached.push(target.label.clone());
            }
            Err(e) => problems.push(format!("target {}: {e}", target.label)),
        }
    }
    clean_spool(&spool);
    if !reached.is_empty() {
        // The point-in-time change log continues from this backup.
        let state = crate::pitr::ChainState {
            base: name.clone(),
            last: None,
            created_at: manifest.created_at.clone(),
            rows: row_hashes,
        };
        if let Err(e) = crate::pitr::save_state(settings, &state) {
            problems.push(format!("the change-log state could not be saved: {e}"));
        }
    }
    Ok(CreateReport {
        name,
        created_at,
        archive_bytes,
        rows: sidecar.rows,
        tables: tables.len(),
        media_files: media.len() as u64,
        new_objects,
        targets: reached,
        problems,
        warnings,
    })
}
