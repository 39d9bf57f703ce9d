//! Backups and database upkeep as actions (BK-3, BK-4): every backup, verification, restore,
//! restore test and clean-up run is written to `backup_runs` and to the change journal in one
//! transaction; a failed run also raises an incident (one alert mail per cause).

use baspa_db::backup_runs as store;
use baspa_domain::{Capability, Timestamp};
use serde_json::{Value, json};

use crate::security::{IncidentReport, Severity, raise_incident};
use crate::{ActionError, Ctx, journal};

/// The outcome of one run, as the backup crate reports it.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// `backup`, `verify`, `restore`, `restore_test`, `offsite_copy`, `export`, `upkeep`.
    pub kind: &'static str,
    pub ok: bool,
    pub archive: Option<String>,
    /// One line an administrator understands.
    pub summary: String,
    pub details: Option<Value>,
    pub started_at: Timestamp,
}

/// Records a run (row + journal entry in one transaction). A failed run raises an incident
/// with the cause `backup.<kind>` so the administrators get one mail at once (BK-3).
pub async fn record_run(ctx: &Ctx<'_>, run: RunRecord) -> Result<i64, ActionError> {
    ctx.actor.require(Capability::ManageSettings, "record backup runs")?;
    let tx = baspa_db::begin_write(ctx.db).await?;
    let row = store::insert_run(
        &tx,
        store::NewRun {
            kind: run.kind,
            ok: run.ok,
            archive: run.archive.as_deref(),
            summary: &run.summary,
            details: run.details.clone(),
            started_at: run.started_at,
            finished_at: ctx.now,
        },
    )
    .await?;
    let after = json!({"status": row.status, "archive": row.archive, "summary": row.summary, "details": row.details});
    journal(ctx, &tx, &format!("backup.{}", run.kind), "backup_run", Some(row.id), None, Some(after)).await?;
    tx.commit().await?;
    if !run.ok {
        raise_incident(
            ctx,
            IncidentReport {
                cause: format!("backup.{}", run.kind),
                category: "backup",
                severity: Severity::Critical,
                summary: format!("{} failed: {}", run.kind.replace('_', " "), run.summary),
                details: Some(json!({"run_id": row.id, "archive": run.archive})),
            },
        )
        .await?;
    }
    Ok(row.id)
}

/// What upkeep removes, and how old things must be first (BK-4).
#[derive(Debug, Clone)]
pub struct UpkeepPolicy {
    /// Finished jobs older than this many days.
    pub jobs_days: u32,
    /// Hourly security counters older than this many days (anonymous statistics).
    pub statistics_days: u32,
    /// Revisions kept per translation besides the live and latest ones; 0 keeps all.
    pub keep_revisions: u32,
    /// Files in the media folder that no media row names, older than this many hours.
    pub orphan_media_hours: u32,
}

impl Default for UpkeepPolicy {
    fn default() -> Self {
        Self { jobs_days: 30, statistics_days: 400, keep_revisions: 0, orphan_media_hours: 24 }
    }
}

/// Counts of what one upkeep run removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct UpkeepReport {
    pub sessions: u64,
    pub password_resets: u64,
    pub login_throttles: u64,
    pub jobs: u64,
    pub statistics: u64,
    pub revisions: u64,
    pub orphan_media_files: u64,
    /// Files that should have gone but could not (named, with the reason).
    pub problems: Vec<String>,
}

/// Removes obsolete rows in one transaction with their journal entry, then orphaned media
/// files (files cannot join the transaction; each removal is counted and reported).
pub async fn run_upkeep(
    ctx: &Ctx<'_>,
    policy: &UpkeepPolicy,
    media_dir: Option<&std::path::Path>,
) -> Result<UpkeepReport, ActionError> {
    ctx.actor.require(Capability::ManageSettings, "run database upkeep")?;
    let started = ctx.now;
    let days = |d: u32| ctx.now - chrono::Duration::days(i64::from(d));
    let mut report = UpkeepReport::default();
    let tx = baspa_db::begin_write(ctx.db).await?;
    report.sessions = store::delete_dead_sessions(&tx, ctx.now).await?;
    report.password_resets = store::delete_dead_resets(&tx, ctx.now).await?;
    report.login_throttles = store::delete_stale_throttles(&tx, days(1)).await?;
    report.jobs = store::delete_finished_jobs(&tx, days(policy.jobs_days)).await?;
    report.statistics = store::delete_old_event_counts(&tx, days(policy.statistics_days)).await?;
    if policy.keep_revisions > 0 {
        report.revisions = store::delete_revisions_beyond(&tx, policy.keep_revisions).await?;
    }
    let keys = store::media_storage_keys(&tx).await?;
    tx.commit().await?;
    if let Some(dir) = media_dir {
        let grace = std::time::Duration::from_secs(u64::from(policy.orphan_media_hours) * 3600);
        remove_orphans(dir, &keys, grace, &mut report);
    }
    let ok = report.problems.is_empty();
    let summary = format!(
        "removed {} sessions, {} reset tokens, {} throttle counters, {} jobs, {} statistics rows, {} revisions, {} orphaned media files",
        report.sessions,
        report.password_resets,
        report.login_throttles,
        report.jobs,
        report.statistics,
        report.revisions,
        report.orphan_media_files
    );
    let details = serde_json::to_value(&report).ok();
    record_run(ctx, RunRecord { kind: "upkeep", ok, archive: None, summary, details, started_at: started }).await?;
    Ok(report)
}

fn remove_orphans(
    dir: &std::path::Path,
    keys: &std::collections::HashSet<String>,
    grace: std::time::Duration,
    report: &mut UpkeepReport,
) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let now = std::time::SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() || keys.contains(&name) {
            continue;
        }
        // A file younger than the grace period may belong to an upload still being registered.
        let old = meta.modified().ok().and_then(|m| now.duration_since(m).ok()).is_some_and(|age| age >= grace);
        if !old {
            continue;
        }
        match std::fs::remove_file(entry.path()) {
            Ok(()) => report.orphan_media_files += 1,
            Err(e) => report.problems.push(format!("media/{name}: {e}")),
        }
    }
}
