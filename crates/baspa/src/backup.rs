//! `baspa backup …` and `baspa upkeep run` (BK-1..BK-7), and their schedules inside `serve`.
//! The work is done by `baspa-upkeep`; this file maps the configuration, records every run in
//! the backup journal (`baspa_actions::upkeep::record_run`, which alerts on failure) and adds
//! what only the binary can do: rendering pages of a restored site in a restore test.

use std::path::{Path, PathBuf};

use anyhow::Context;
use baspa_actions::upkeep::{RunRecord, UpkeepPolicy, record_run, run_upkeep};
use baspa_actions::{Actor, Ctx};
use baspa_upkeep::create::Progress;
use baspa_upkeep::{BackupSettings, RestoreOptions, Retention, Target};
use clap::Subcommand;
use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::config::Config;

#[derive(Subcommand, Debug)]
pub enum BackupCommand {
    /// Back up the database, media, configuration and theme to every target now.
    Create {
        /// No progress lines.
        #[arg(long)]
        quiet: bool,
    },
    /// List complete backups on a target (newest last).
    List {
        /// A target other than the first of backup.targets.
        #[arg(long)]
        target: Option<String>,
    },
    /// Decrypt and check a backup: every hash, row count and media object.
    Verify {
        /// The backup's name (default: the newest).
        name: Option<String>,
        /// Check every backup on the target.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        target: Option<String>,
        /// The age identity file (default: backup.identity_file).
        #[arg(long)]
        identity: Option<PathBuf>,
    },
    /// Restore a backup into a NEW database (and data directory). Verifies it first.
    Restore {
        /// The backup's name (default: the newest, or the newest at or before --at).
        name: Option<String>,
        /// Restore the state of this moment: the newest backup made at or before it
        /// ("YYYY-MM-DD HH:MM", UTC).
        #[arg(long)]
        at: Option<String>,
        /// The database to restore into (must be empty unless --force).
        #[arg(long, value_name = "URL")]
        to_database_url: String,
        /// The data directory to restore media, anchors, configuration and theme into.
        #[arg(long, value_name = "DIR")]
        to_data_dir: Option<PathBuf>,
        /// Replace the rows of a non-empty or the live database / data directory.
        #[arg(long)]
        force: bool,
        #[arg(long)]
        target: Option<String>,
        #[arg(long)]
        identity: Option<PathBuf>,
    },
    /// Record the rows changed since the last backup or change-log link (point in time; run it
    /// every minute with backup.delta_schedule).
    Delta,
    /// Restore the newest (or a random older) backup into a scratch database and check it:
    /// hashes, row counts, the journal's chain, pages render (BK-2, BK-5).
    RestoreTest {
        /// A randomly chosen backup other than the newest.
        #[arg(long)]
        random: bool,
    },
    /// Apply the retention policy (backup.keep_*) to every target.
    Prune,
    /// Copy the newest backup (or NAME) to another target (BK-6), e.g. backup.offsite_target.
    Copy {
        name: Option<String>,
        /// Default: backup.offsite_target.
        #[arg(long)]
        to: Option<String>,
    },
    /// Write the export bundle for an external medium (BK-7) into DIR (default backup.export_dir).
    Export {
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Make an age key pair: writes the identity (private) to FILE, prints the recipient.
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum UpkeepCommand {
    /// Remove expired sessions, finished jobs, old counters, orphaned media files and revisions
    /// beyond upkeep.keep_revisions now (BK-4).
    Run,
}

/// The backup crate's settings from the configuration.
pub fn settings(config: &Config, config_file: Option<&Path>) -> BackupSettings {
    BackupSettings {
        targets: config.backup.targets.clone(),
        recipients: config.backup.recipients.clone(),
        identity_file: config.backup.identity_file.clone(),
        data_dir: config.storage.data_dir.clone(),
        database_url: config.database_url(),
        config_file: config_file.map(Path::to_path_buf),
        theme_dir: config.site.theme_dir.clone(),
        native_dump: config.backup.native_dump,
        zstd_level: config.backup.zstd_level,
    }
}

fn retention(config: &Config) -> Retention {
    let b = &config.backup;
    Retention {
        last: b.keep_last,
        daily: b.keep_daily,
        weekly: b.keep_weekly,
        monthly: b.keep_monthly,
        quarterly: b.keep_quarterly,
    }
}

fn target(config: &Config, explicit: Option<&str>) -> anyhow::Result<Target> {
    let spec = match explicit {
        Some(t) => t.to_owned(),
        None => {
            config.backup.targets.first().cloned().context("no backup target: set backup.targets or pass --target")?
        }
    };
    Ok(Target::open(&spec)?)
}

/// Parses "YYYY-MM-DD HH:MM[:SS]" or RFC 3339 as UTC.
pub fn parse_moment(raw: &str) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(raw, f) {
            return Ok(t.and_utc());
        }
    }
    anyhow::bail!("--at {raw:?}: use \"YYYY-MM-DD HH:MM\" (UTC)")
}

async fn record(db: &DatabaseConnection, run: RunRecord) {
    let actor = Actor::system("backup");
    let ctx = Ctx::new(db, &actor);
    if let Err(e) = record_run(&ctx, run).await {
        tracing::error!(error = %e, "the backup journal could not be written");
    }
}

/// One backup, journalled; then retention on every target.
pub async fn create(
    config: &Config,
    config_file: Option<&Path>,
    db: &DatabaseConnection,
    quiet: bool,
) -> anyhow::Result<baspa_upkeep::CreateReport> {
    let started = baspa_domain::time::now();
    let s = settings(config, config_file);
    let result = baspa_upkeep::create_backup(&s, db, &Progress { quiet }).await;
    let (ok, archive, summary, details) = match &result {
        Ok(r) => (
            r.ok(),
            Some(r.name.clone()),
            if r.ok() {
                format!(
                    "{} rows in {} tables, {} media files ({} new), {} bytes, to {}",
                    r.rows,
                    r.tables,
                    r.media_files,
                    r.new_objects,
                    r.archive_bytes,
                    r.targets.join(", ")
                )
            } else {
                r.problems.join("; ")
            },
            Some(
                json!({"rows": r.rows, "bytes": r.archive_bytes, "media_files": r.media_files, "new_objects": r.new_objects,
                        "targets": r.targets, "problems": r.problems, "warnings": r.warnings}),
            ),
        ),
        Err(e) => (false, None, e.to_string(), None),
    };
    record(db, RunRecord { kind: "backup", ok, archive, summary, details, started_at: started }).await;
    let report = result?;
    if !report.ok() {
        anyhow::bail!("backup {} has problems: {}", report.name, report.problems.join("; "));
    }
    Ok(report)
}

/// One link of the point-in-time change log. Journalled when it recorded changes or failed
/// (an unchanged minute leaves no trace).
pub async fn delta(config: &Config, db: &DatabaseConnection) -> anyhow::Result<String> {
    let started = baspa_domain::time::now();
    let s = settings(config, None);
    let result = baspa_upkeep::pitr::create_delta(&s, db).await;
    let (ok, archive, summary) = match &result {
        Ok(r) if r.name.is_none() => return Ok("no change since the previous link".to_owned()),
        Ok(r) if r.problems.is_empty() => (
            true,
            r.name.clone(),
            format!("{} rows changed, {} removed, to {}", r.upserts, r.deletes, r.targets.join(", ")),
        ),
        Ok(r) => (false, r.name.clone(), r.problems.join("; ")),
        Err(e) => (false, None, e.to_string()),
    };
    record(db, RunRecord { kind: "delta", ok, archive, summary: summary.clone(), details: None, started_at: started })
        .await;
    if ok { Ok(summary) } else { anyhow::bail!("change log: {summary}") }
}

/// Verifies a backup, journalled.
pub async fn verify(
    config: &Config,
    db: Option<&DatabaseConnection>,
    t: &Target,
    sidecar: &baspa_upkeep::Sidecar,
    identity: Option<&Path>,
) -> anyhow::Result<baspa_upkeep::VerifyReport> {
    let started = baspa_domain::time::now();
    let s = settings(config, None);
    let result = baspa_upkeep::verify_backup(&s, t, sidecar, identity).await;
    let (ok, summary) = match &result {
        Ok(r) if r.ok() => (
            true,
            format!(
                "{} rows in {} tables and {} media files check out on {}",
                r.rows, r.tables, r.media_checked, r.target
            ),
        ),
        Ok(r) => (false, r.problems.join("; ")),
        Err(e) => (false, e.to_string()),
    };
    if let Some(db) = db {
        record(
            db,
            RunRecord {
                kind: "verify",
                ok,
                archive: Some(sidecar.name.clone()),
                summary,
                details: None,
                started_at: started,
            },
        )
        .await;
    }
    Ok(result?)
}

/// BK-2/BK-5: restores a backup into a scratch SQLite database and data directory, then checks
/// the journal chain and that pages render. Journalled; a failure raises an incident.
pub async fn restore_test(config: &Config, db: &DatabaseConnection, random: bool) -> anyhow::Result<String> {
    let started = baspa_domain::time::now();
    let outcome = restore_test_inner(config, random).await;
    let (ok, archive, summary) = match &outcome {
        Ok((name, summary, problems)) if problems.is_empty() => (true, Some(name.clone()), summary.clone()),
        Ok((name, _, problems)) => (false, Some(name.clone()), problems.join("; ")),
        Err(e) => (false, None, format!("{e:#}")),
    };
    let kind = "restore_test";
    record(
        db,
        RunRecord {
            kind,
            ok,
            archive: archive.clone(),
            summary: summary.clone(),
            details: Some(json!({"random": random})),
            started_at: started,
        },
    )
    .await;
    if ok {
        Ok(format!("restore test of {} passed: {summary}", archive.unwrap_or_default()))
    } else {
        anyhow::bail!("restore test failed: {summary}")
    }
}

async fn restore_test_inner(config: &Config, random: bool) -> anyhow::Result<(String, String, Vec<String>)> {
    let s = settings(config, None);
    let t = target(config, None)?;
    let all = t.list_backups().await?;
    let chosen = if random {
        let older: Vec<_> = all.iter().rev().skip(1).collect();
        match older.len() {
            0 => all.last(),
            n => older.get(rand::random_range(0..n)).copied(),
        }
    } else {
        all.last()
    }
    .cloned()
    .context(format!("no complete backup on {}", t.label))?;
    std::fs::create_dir_all(s.spool_dir())?;
    let scratch = tempfile::Builder::new().prefix(".restore-test").tempdir_in(s.spool_dir())?;
    let data = scratch.path().join("data");
    let url = format!("sqlite://{}/baspa.sqlite", data.display());
    let options =
        RestoreOptions { database_url: url.clone(), data_dir: Some(data.clone()), force: false, ..Default::default() };
    let report = baspa_upkeep::restore_backup(&s, &t, &chosen, None, &options).await?;
    let mut problems = report.problems.clone();
    // The restored journal must verify against the restored anchors (SC-6 survives a restore).
    let restored = baspa_db::connect(&url).await?;
    let keeper = baspa_actions::integrity::AnchorKeeper::open(&data)?;
    let journal = baspa_actions::integrity::check_journal(&restored, Some(&keeper)).await?;
    for f in &journal.findings {
        problems.push(format!("restored journal: {} — {}: {}", f.problem, f.subject, f.detail));
    }
    // A sample of pages must render from the restored site.
    let mut scratch_config = config.clone();
    scratch_config.storage.data_dir = data.clone();
    scratch_config.database.url = crate::config::Secret(url.clone());
    let pages = render_sample(&scratch_config, restored.clone()).await;
    match pages {
        Ok(n) => {
            let _ = n;
        }
        Err(e) => problems.push(format!("pages of the restored site: {e}")),
    }
    let _ = restored.close().await;
    let summary = format!(
        "{} rows in {} tables identical to the backup ({} from {}), {} media files, journal of {} entries verified, pages render",
        report.rows, report.tables_identical, chosen.name, chosen.backend, report.media_files, journal.journal_entries
    );
    Ok((chosen.name, summary, problems))
}

/// Requests the home page, the sitemap and up to five pages named in it from the restored
/// site in-process; any 5xx is a failure.
async fn render_sample(config: &Config, db: DatabaseConnection) -> anyhow::Result<usize> {
    use tower::ServiceExt;
    let state = crate::serve::site_state(config, db)?;
    let app = baspa_site::router(state);
    let mut paths = vec!["/".to_owned(), "/sitemap.xml".to_owned()];
    let mut done = 0;
    let mut i = 0;
    while i < paths.len() && i < 8 {
        let path = paths[i].clone();
        i += 1;
        let mut req = axum::http::Request::get(&path).body(axum::body::Body::empty())?;
        req.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from(([127, 0, 0, 1], 9))));
        let res = app.clone().oneshot(req).await?;
        let status = res.status();
        if status.is_server_error() {
            anyhow::bail!("{path} answered {status}");
        }
        let body = axum::body::to_bytes(res.into_body(), 8 << 20).await?;
        if path.contains("sitemap") {
            let text = String::from_utf8_lossy(&body);
            for loc in text.split("<loc>").skip(1).take(5) {
                if let Some(url) = loc.split("</loc>").next()
                    && let Ok(u) = url::Url::parse(url)
                {
                    paths.push(u.path().to_owned());
                }
            }
        }
        done += 1;
    }
    Ok(done)
}

/// BK-7: the newest backup that passed a restore test (else the newest), as a self-contained
/// target folder, with a note of the versions.
pub async fn export_bundle(config: &Config, db: &DatabaseConnection, out: &Path) -> anyhow::Result<String> {
    let started = baspa_domain::time::now();
    let result = async {
        let t = target(config, None)?;
        let all = t.list_backups().await?;
        let tested = baspa_db::backup_runs::last_ok(db, "restore_test").await?.and_then(|r| r.archive);
        let chosen = tested
            .and_then(|name| all.iter().find(|s| s.name == name).cloned())
            .or_else(|| all.last().cloned())
            .context(format!("no complete backup on {}", t.label))?;
        let dir = out.join(format!("export-{}", chosen.name));
        let dest = Target::open(&dir.display().to_string())?;
        baspa_upkeep::retention::copy_backup(&t, &dest, &chosen, &settings(config, None).spool_dir()).await?;
        let versions = json!({
            "backup": chosen.name, "created_at": chosen.created_at, "backend": chosen.backend,
            "baspa_version": env!("CARGO_PKG_VERSION"),
            "restore": "baspa backup restore --target file://<this folder> --to-database-url URL --to-data-dir DIR",
        });
        std::fs::write(dir.join("VERSION.json"), serde_json::to_vec_pretty(&versions)?)?;
        std::fs::write(dir.join("Cargo.lock"), include_str!("../../../Cargo.lock"))?;
        Ok::<_, anyhow::Error>((chosen.name, dir))
    }
    .await;
    let (ok, archive, summary) = match &result {
        Ok((name, dir)) => (true, Some(name.clone()), format!("exported to {}", dir.display())),
        Err(e) => (false, None, format!("{e:#}")),
    };
    record(db, RunRecord { kind: "export", ok, archive, summary: summary.clone(), details: None, started_at: started })
        .await;
    result.map(|_| summary)
}

/// BK-6: copies the newest backup to the second medium and expires copies older than
/// `offsite_keep_days` there.
pub async fn offsite_copy(
    config: &Config,
    db: &DatabaseConnection,
    name: Option<&str>,
    to: Option<&str>,
) -> anyhow::Result<String> {
    let started = baspa_domain::time::now();
    let result = async {
        let spec =
            to.map(str::to_owned).or_else(|| Some(config.backup.offsite_target.clone()).filter(|t| !t.is_empty()));
        let spec = spec.context("no second medium: set backup.offsite_target or pass --to")?;
        let from = target(config, None)?;
        let to = Target::open(&spec)?;
        let chosen = baspa_upkeep::verify::choose(&from, name, None).await?;
        baspa_upkeep::retention::copy_backup(&from, &to, &chosen, &settings(config, None).spool_dir()).await?;
        let expired = baspa_upkeep::retention::expire_older_than(
            &to,
            i64::from(config.backup.offsite_keep_days),
            baspa_domain::time::now(),
        )
        .await?;
        Ok::<_, anyhow::Error>((
            chosen.name,
            format!("copied to {}; {} older copies expired", to.label, expired.removed.len()),
        ))
    }
    .await;
    let (ok, archive, summary) = match &result {
        Ok((n, s)) => (true, Some(n.clone()), s.clone()),
        Err(e) => (false, None, format!("{e:#}")),
    };
    record(
        db,
        RunRecord { kind: "offsite_copy", ok, archive, summary: summary.clone(), details: None, started_at: started },
    )
    .await;
    result.map(|_| summary)
}

pub fn upkeep_policy(config: &Config) -> UpkeepPolicy {
    let u = &config.upkeep;
    UpkeepPolicy {
        jobs_days: u.jobs_days,
        statistics_days: u.statistics_days,
        keep_revisions: u.keep_revisions,
        orphan_media_hours: u.orphan_media_hours,
    }
}

pub async fn run(config: &Config, config_file: Option<&Path>, command: BackupCommand) -> anyhow::Result<()> {
    if let BackupCommand::Keygen { out } = &command {
        if out.exists() {
            anyhow::bail!("{} exists; not overwriting a key", out.display());
        }
        let (secret, public) = baspa_upkeep::crypto::generate_identity();
        let text = format!("# created: {}\n# public key: {public}\n{secret}\n", baspa_domain::time::now().to_rfc3339());
        write_private(out, &text)?;
        println!("identity written to {} (keep it safe, away from the backups)", out.display());
        println!("recipient for backup.recipients: {public}");
        return Ok(());
    }
    if let BackupCommand::List { target: spec } = &command {
        let t = target(config, spec.as_deref())?;
        let all = t.list_backups().await?;
        if all.is_empty() {
            println!("no complete backups on {}", t.label);
        }
        for s in all {
            println!(
                "{}\t{}\t{}\t{} bytes\t{} rows\t{} media files",
                s.name, s.created_at, s.backend, s.bytes, s.rows, s.media_files
            );
        }
        return Ok(());
    }
    if let BackupCommand::Restore { name, at, to_database_url, to_data_dir, force, target: spec, identity } = &command {
        let t = target(config, spec.as_deref())?;
        let at = at.as_deref().map(parse_moment).transpose()?;
        let chosen = baspa_upkeep::verify::choose(&t, name.as_deref(), at).await?;
        let started = baspa_domain::time::now();
        let options = RestoreOptions {
            database_url: to_database_url.clone(),
            data_dir: to_data_dir.clone(),
            force: *force,
            live_database_url: Some(config.database_url()),
            live_data_dir: Some(config.storage.data_dir.clone()),
            until: at,
        };
        eprintln!("restoring {} (made {} on {})", chosen.name, chosen.created_at, chosen.backend);
        let s = settings(config, config_file);
        let result = baspa_upkeep::restore_backup(&s, &t, &chosen, identity.as_deref(), &options).await;
        let (ok, summary) = match &result {
            Ok(r) if r.ok() => (
                true,
                format!(
                    "{} rows in {} tables ({} identical to the backup), {} change-log links replayed (state of {}), {} media files into {}",
                    r.rows,
                    r.tables,
                    r.tables_identical,
                    r.deltas,
                    r.state_at,
                    r.media_files,
                    baspa_db::redact_url(to_database_url)
                ),
            ),
            Ok(r) => (false, r.problems.join("; ")),
            Err(e) => (false, e.to_string()),
        };
        // Journalled in the live database when it is reachable, else in the restored one.
        let journal_db = match baspa_db::connect(&config.database_url()).await {
            Ok(db) if baspa_db::migrate(&db, &config.database_url()).await.is_ok() => Some(db),
            _ => baspa_db::connect(to_database_url).await.ok(),
        };
        if let Some(db) = &journal_db {
            record(
                db,
                RunRecord {
                    kind: "restore",
                    ok,
                    archive: Some(chosen.name.clone()),
                    summary: summary.clone(),
                    details: None,
                    started_at: started,
                },
            )
            .await;
        }
        let report = result?;
        if !report.ok() {
            anyhow::bail!("restore of {} has problems: {}", report.name, report.problems.join("; "));
        }
        println!("restored {}: {summary}", report.name);
        return Ok(());
    }
    if let BackupCommand::Verify { name, all, target: spec, identity } = &command {
        // Verifying must work when the live database is down (3 a.m.): journal only if it answers.
        let db = crate::serve::open_database(config).await.ok();
        let t = target(config, spec.as_deref())?;
        let chosen = if *all {
            t.list_backups().await?
        } else {
            vec![baspa_upkeep::verify::choose(&t, name.as_deref(), None).await?]
        };
        let mut failed = 0;
        for s in &chosen {
            let r = verify(config, db.as_ref(), &t, s, identity.as_deref()).await?;
            if r.ok() {
                println!("OK   {}: {} rows in {} tables, {} media objects", r.name, r.rows, r.tables, r.media_checked);
            } else {
                failed += 1;
                for p in &r.problems {
                    println!("FAIL {}: {p}", r.name);
                }
            }
        }
        if failed > 0 {
            anyhow::bail!("{failed} of {} backups failed verification", chosen.len());
        }
        return Ok(());
    }
    let db = crate::serve::open_database(config).await?;
    match command {
        BackupCommand::Create { quiet } => {
            let r = create(config, config_file, &db, quiet).await?;
            for w in &r.warnings {
                eprintln!("warning: {w}");
            }
            println!(
                "backup {} written to {}: {} rows in {} tables, {} media files ({} new objects), {} bytes",
                r.name,
                r.targets.join(", "),
                r.rows,
                r.tables,
                r.media_files,
                r.new_objects,
                r.archive_bytes
            );
            Ok(())
        }
        BackupCommand::Delta => {
            println!("{}", delta(config, &db).await?);
            Ok(())
        }
        BackupCommand::RestoreTest { random } => {
            println!("{}", restore_test(config, &db, random).await?);
            Ok(())
        }
        BackupCommand::Prune => {
            for spec in &config.backup.targets {
                let t = Target::open(spec)?;
                let r = baspa_upkeep::prune_target(&t, retention(config)).await?;
                println!(
                    "{}: kept {}, removed {} backups and {} objects",
                    t.label,
                    r.kept,
                    r.removed.len(),
                    r.objects_removed
                );
            }
            Ok(())
        }
        BackupCommand::Copy { name, to } => {
            println!("{}", offsite_copy(config, &db, name.as_deref(), to.as_deref()).await?);
            Ok(())
        }
        BackupCommand::Export { out } => {
            let out =
                out.or_else(|| config.backup.export_dir.clone()).context("pass --out DIR or set backup.export_dir")?;
            println!("{}", export_bundle(config, &db, &out).await?);
            Ok(())
        }
        BackupCommand::Keygen { .. }
        | BackupCommand::List { .. }
        | BackupCommand::Restore { .. }
        | BackupCommand::Verify { .. } => Ok(()),
    }
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

pub async fn upkeep(config: &Config, command: UpkeepCommand) -> anyhow::Result<()> {
    let UpkeepCommand::Run = command;
    let db = crate::serve::open_database(config).await?;
    let actor = Actor::system("upkeep");
    let ctx = Ctx::new(&db, &actor);
    let r = run_upkeep(&ctx, &upkeep_policy(config), Some(&config.media_dir())).await?;
    println!(
        "upkeep: removed {} sessions, {} reset tokens, {} throttle counters, {} jobs, {} statistics rows, {} revisions, {} orphaned media files",
        r.sessions, r.password_resets, r.login_throttles, r.jobs, r.statistics, r.revisions, r.orphan_media_files
    );
    for p in &r.problems {
        println!("FAIL {p}");
    }
    if !r.problems.is_empty() {
        anyhow::bail!("{} files could not be removed", r.problems.len());
    }
    Ok(())
}

/// What the scheduler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Task {
    Backup,
    Delta,
    RestoreTest,
    RandomRestoreTest,
    Offsite,
    Export,
    Upkeep,
}

/// The schedules of `config` that are set, checked (a bad cron expression stops start-up).
fn schedules(config: &Config) -> anyhow::Result<Vec<(Task, String)>> {
    let b = &config.backup;
    let mut out = Vec::new();
    for (task, pattern, name) in [
        (Task::Backup, &b.schedule, "backup.schedule"),
        (Task::Delta, &b.delta_schedule, "backup.delta_schedule"),
        (Task::RestoreTest, &b.restore_test_schedule, "backup.restore_test_schedule"),
        (Task::RandomRestoreTest, &b.random_restore_test_schedule, "backup.random_restore_test_schedule"),
        (Task::Offsite, &b.offsite_schedule, "backup.offsite_schedule"),
        (Task::Export, &b.export_schedule, "backup.export_schedule"),
        (Task::Upkeep, &config.upkeep.schedule, "upkeep.schedule"),
    ] {
        if pattern.trim().is_empty() {
            continue;
        }
        baspa_upkeep::next_run(pattern, baspa_domain::time::now()).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        out.push((task, pattern.clone()));
    }
    Ok(out)
}

/// The next scheduled run of each task (the dashboard's "next run").
pub fn next_runs(config: &Config) -> Vec<(String, chrono::DateTime<chrono::Utc>)> {
    let now = baspa_domain::time::now();
    schedules(config)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(t, p)| baspa_upkeep::next_run(&p, now).ok().map(|n| (format!("{t:?}"), n)))
        .collect()
}

async fn run_task(
    config: &Config,
    config_file: Option<&Path>,
    db: &DatabaseConnection,
    task: Task,
) -> anyhow::Result<()> {
    match task {
        Task::Backup => {
            create(config, config_file, db, true).await?;
            for spec in &config.backup.targets {
                let t = Target::open(spec)?;
                baspa_upkeep::prune_target(&t, retention(config)).await?;
            }
        }
        Task::Delta => {
            delta(config, db).await?;
        }
        Task::RestoreTest => {
            restore_test(config, db, false).await?;
        }
        Task::RandomRestoreTest => {
            restore_test(config, db, true).await?;
        }
        Task::Offsite => {
            offsite_copy(config, db, None, None).await?;
        }
        Task::Export => {
            let out = config.backup.export_dir.clone().context("backup.export_dir is not set")?;
            export_bundle(config, db, &out).await?;
        }
        Task::Upkeep => {
            let actor = Actor::system("upkeep");
            let ctx = Ctx::new(db, &actor);
            run_upkeep(&ctx, &upkeep_policy(config), Some(&config.media_dir())).await?;
        }
    }
    Ok(())
}

/// The next scheduled runs, shown on the admin's backup page (`AdminConfig::backup_next_runs`).
pub static NEXT_RUNS: std::sync::LazyLock<baspa_site::admin::BackupNextRuns> =
    std::sync::LazyLock::new(Default::default);

/// Runs the configured schedules in one background task, one run at a time (so retention never
/// races a backup). Run `serve` with schedules on one node only.
pub fn spawn_schedules(config: &Config, config_file: Option<PathBuf>, db: DatabaseConnection) -> anyhow::Result<()> {
    let plan = schedules(config)?;
    if plan.is_empty() {
        return Ok(());
    }
    let config = config.clone();
    tokio::spawn(async move {
        loop {
            let now = baspa_domain::time::now();
            let next = plan
                .iter()
                .filter_map(|(task, p)| baspa_upkeep::next_run(p, now).ok().map(|at| (at, *task)))
                .min_by_key(|(at, _)| *at);
            if let Ok(mut shown) = NEXT_RUNS.write() {
                *shown = next_runs(&config);
            }
            let Some((at, task)) = next else { return };
            let wait = (at - now).to_std().unwrap_or_default();
            tokio::time::sleep(wait).await;
            if let Err(e) = run_task(&config, config_file.as_deref(), &db, task).await {
                // Already journalled with an incident by the run itself.
                tracing::error!(task = ?task, error = %format!("{e:#}"), "scheduled backup task failed");
            }
        }
    });
    Ok(())
}
