//! `baspa report monthly` (OP-3): the month's work in one text an administrator can forward —
//! changes from the change journal grouped by action, backups, restore tests and other backup
//! runs with failures named, incidents, and refused or blocked requests (security events).
//! Read-only: it changes nothing.

use anyhow::Context;
use chrono::{Datelike, NaiveDate};
use sea_orm::DatabaseConnection;

/// The report for the month `YYYY-MM` (UTC), as Markdown.
pub async fn monthly(db: &DatabaseConnection, month: &str) -> anyhow::Result<String> {
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .with_context(|| format!("--month {month:?}: use YYYY-MM"))?;
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    }
    .context("month out of range")?;
    let from = first.and_hms_opt(0, 0, 0).context("date")?.and_utc();
    let until = next.and_hms_opt(0, 0, 0).context("date")?.and_utc();
    let changes = baspa_db::backup_runs::journal_counts_between(db, from, until).await?;
    let runs = baspa_db::backup_runs::runs_between(db, from, until).await?;
    let incidents = baspa_db::backup_runs::incidents_between(db, from, until).await?;
    let events = baspa_db::backup_runs::event_totals_between(db, from, until).await?;

    let mut out = format!(
        "# Work report for {month} (UTC)\n\n## Changes ({} journal entries)\n\n",
        changes.iter().map(|(_, n)| n).sum::<i64>()
    );
    for (action, n) in &changes {
        out.push_str(&format!("- {action}: {n}\n"));
    }
    out.push_str("\n## Backups, restore tests and upkeep\n\n");
    let mut kinds: std::collections::BTreeMap<&str, (u32, u32)> = std::collections::BTreeMap::new();
    for r in &runs {
        let e = kinds.entry(r.kind.as_str()).or_default();
        if r.status == "ok" {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }
    for (kind, (ok, failed)) in &kinds {
        out.push_str(&format!("- {kind}: {ok} ok, {failed} failed\n"));
    }
    for r in runs.iter().filter(|r| r.status != "ok") {
        out.push_str(&format!(
            "  - FAILED {} {} {}: {}\n",
            r.finished_at.format("%Y-%m-%d %H:%M"),
            r.kind,
            r.archive.as_deref().unwrap_or(""),
            r.summary
        ));
    }
    out.push_str(&format!("\n## Incidents ({})\n\n", incidents.len()));
    for i in &incidents {
        let state = if i.resolved_at.is_some() { "resolved" } else { "open" };
        out.push_str(&format!(
            "- {} [{}] {} ({} times, {state})\n",
            i.first_seen.format("%Y-%m-%d %H:%M"),
            i.category,
            i.summary,
            i.occurrences
        ));
    }
    out.push_str("\n## Requests refused or blocked (security events)\n\n");
    for (kind, n) in &events {
        out.push_str(&format!("- {kind}: {n}\n"));
    }
    Ok(out)
}
