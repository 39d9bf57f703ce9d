//! Incidents (HD-11, SC-7): one row per open cause. The first report of a cause opens the
//! incident, journals it and queues ONE alert mail in the same transaction; later reports of
//! the same cause only count, so a brute-force run of a thousand requests sends one mail.

use baspa_db::security as store;
use baspa_domain::{Capability, Timestamp};
use serde_json::{Value, json};

use crate::{ActionError, Ctx, journal};

/// Job kind that mails an incident to the site's security contacts (handled in `baspa-site`).
pub const ALERT_JOB: &str = "alert.incident";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// Something worth telling the site owner about.
#[derive(Debug, Clone)]
pub struct IncidentReport {
    /// What makes two reports the same incident, e.g. `login.bruteforce.ip:203.0.113.9`.
    pub cause: String,
    /// `integrity`, `login`, `probe`, `rate`, `bot`, `staff`, `upload`, `backup`…
    pub category: &'static str,
    pub severity: Severity,
    /// One line an administrator understands.
    pub summary: String,
    pub details: Option<Value>,
}

/// What `raise_incident` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Raised {
    /// A new incident: journalled and an alert queued.
    Opened(i64),
    /// An open incident of the same cause counted one more occurrence.
    Counted(i64),
}

/// Opens an incident for a new cause or counts one more occurrence of an open one. Any actor
/// may report (the monitor reports as itself); nothing here needs a right.
pub async fn raise_incident(ctx: &Ctx<'_>, report: IncidentReport) -> Result<Raised, ActionError> {
    let tx = baspa_db::begin_write(ctx.db).await?;
    if let Some(open) = store::open_incident(&tx, &report.cause).await? {
        store::count_occurrence(&tx, open.id, ctx.now).await?;
        tx.commit().await?;
        return Ok(Raised::Counted(open.id));
    }
    let row = store::insert_incident(
        &tx,
        store::NewIncident {
            cause: &report.cause,
            category: report.category,
            severity: report.severity.as_str(),
            summary: &report.summary,
            details: report.details.clone(),
        },
        ctx.now,
    )
    .await?;
    baspa_db::jobs::enqueue(&tx, ALERT_JOB, json!({"incident_id": row.id}), None, ctx.now).await?;
    let after = json!({"cause": row.cause, "category": row.category, "severity": row.severity,
                       "summary": row.summary, "details": row.details});
    journal(ctx, &tx, "incident.open", "incident", Some(row.id), None, Some(after)).await?;
    tx.commit().await?;
    Ok(Raised::Opened(row.id))
}

/// Marks an incident handled; a new report of its cause opens a new incident (and mails again).
pub async fn resolve_incident(ctx: &Ctx<'_>, id: i64) -> Result<(), ActionError> {
    ctx.actor.require(Capability::ManageSettings, "resolve security incidents")?;
    let tx = baspa_db::begin_write(ctx.db).await?;
    let mut row = store::get_incident(&tx, id).await?;
    if row.resolved_at.is_some() {
        return Ok(());
    }
    row.resolved_at = Some(ctx.now);
    row.resolved_by = ctx.actor.user_id.map(|u| u.0);
    let row = store::save_incident(&tx, row).await?;
    journal(ctx, &tx, "incident.resolve", "incident", Some(id), None, Some(json!({"cause": row.cause}))).await?;
    tx.commit().await?;
    Ok(())
}

/// Records that the alert of an incident went out (called by the alert job after sending).
pub async fn mark_notified(ctx: &Ctx<'_>, id: i64, recipients: &[String]) -> Result<(), ActionError> {
    let tx = baspa_db::begin_write(ctx.db).await?;
    let mut row = store::get_incident(&tx, id).await?;
    row.notified_at = Some(ctx.now);
    store::save_incident(&tx, row).await?;
    journal(ctx, &tx, "incident.notify", "incident", Some(id), None, Some(json!({"to": recipients}))).await?;
    tx.commit().await?;
    Ok(())
}

/// The start of the hour a moment falls in (the dashboard's counters are hourly).
pub fn hour_of(at: Timestamp) -> Timestamp {
    let secs = at.timestamp();
    chrono::DateTime::from_timestamp(secs - secs.rem_euclid(3600), 0).unwrap_or(at)
}
