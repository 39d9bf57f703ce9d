//! The security pages (SC-5..SC-7, HD-11), administrators only:
//! - `/security`: open and recent incidents (resolve; restore the last good version when the
//!   integrity check kept one), security-event counts for the last 24 hours and 30 days, and
//!   "check integrity now";
//! - `/journal`: the change journal filtered by actor, action, kind, item and period, with the
//!   chain's verification status and CSV/XLSX export (the export is itself journalled).

use axum::Form;
use axum::extract::{Path, Query};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use baspa_actions::change_journal::{ExportFormat, export_journal};
use baspa_actions::integrity::{self, IntegrityPaths};
use baspa_actions::{ActionError, Ctx, Scope};
use baspa_db::journal::JournalFilter;
use baspa_domain::Capability;
use chrono::{Duration, NaiveDate};
use serde::Deserialize;
use serde_json::{Value, json};

use super::content::Req;

/// Rows per page of the journal view.
const JOURNAL_PAGE: u64 = 50;

fn guard(req: &Req) -> Option<Response> {
    if req.staff().actor.may(Capability::ManageSettings, &Scope::site()) {
        None
    } else {
        Some(req.refused(&ActionError::NotPermitted { action: "view security information" }))
    }
}

fn paths(req: &Req) -> IntegrityPaths {
    IntegrityPaths { media_dir: req.state().media_dir.as_ref().clone(), anchors: req.state().admin.anchors.clone() }
}

fn incident_view(i: &baspa_db::entity::incident::Model) -> Value {
    let restorable = i.details.as_ref().and_then(|d| d.get("restorable_seal")).and_then(Value::as_i64);
    json!({"id": i.id, "category": i.category, "severity": i.severity, "summary": i.summary,
           "first_seen": i.first_seen.format("%Y-%m-%d %H:%M").to_string(),
           "last_seen": i.last_seen.format("%Y-%m-%d %H:%M").to_string(),
           "occurrences": i.occurrences, "notified": i.notified_at.is_some(),
           "open": i.resolved_at.is_none(), "restorable_seal": if i.resolved_at.is_none() { restorable } else { None }})
}

async fn dashboard_page(req: &Req, notice: Option<String>, error: Option<String>) -> Response {
    let db = &req.state().db;
    let now = baspa_domain::time::now();
    let incidents = match baspa_db::security::recent_incidents(db, now - Duration::days(30), 200).await {
        Ok(rows) => rows,
        Err(e) => return req.fail(e),
    };
    let (day, month) = match (
        baspa_db::security::event_totals(db, now - Duration::hours(24)).await,
        baspa_db::security::event_totals(db, now - Duration::days(30)).await,
    ) {
        (Ok(d), Ok(m)) => (d, m),
        (Err(e), _) | (_, Err(e)) => return req.fail(e),
    };
    let day: std::collections::HashMap<String, i64> = day.into_iter().collect();
    let events: Vec<Value> = month
        .iter()
        .map(|(kind, total)| json!({"kind": kind, "day": day.get(kind).copied().unwrap_or(0), "month": total}))
        .collect();
    let mut frame = req.frame("admin-security");
    frame.notice = notice;
    frame.error = error;
    let open = incidents.iter().filter(|i| i.resolved_at.is_none()).count();
    req.render(
        "admin/security.html",
        &frame,
        json!({"incidents": incidents.iter().map(incident_view).collect::<Vec<_>>(), "open": open, "events": events}),
    )
}

pub(crate) async fn dashboard(req: Req) -> Response {
    if let Some(r) = guard(&req) {
        return r;
    }
    dashboard_page(&req, None, None).await
}

/// Runs the integrity check now and shows its outcome; differences become incidents.
pub(crate) async fn check_now(req: Req) -> Response {
    if let Some(r) = guard(&req) {
        return r;
    }
    let ui = super::ui_lang(req.headers());
    match integrity::run_scheduled_check(&req.state().db, &paths(&req)).await {
        Ok((report, _)) if report.findings.is_empty() => {
            let text = baspa_render::translate(&ui, "admin-security-clean", Some(report.seals_checked as i64));
            dashboard_page(&req, Some(text), None).await
        }
        Ok((report, _)) => {
            let text = baspa_render::translate(&ui, "admin-security-findings", Some(report.findings.len() as i64));
            dashboard_page(&req, None, Some(text)).await
        }
        Err(e) => req.fail(e),
    }
}

pub(crate) async fn resolve(req: Req, Path(id): Path<i64>) -> Response {
    let (actor, now) = req.ctx();
    match baspa_actions::security::resolve_incident(&Ctx::at(&req.state().db, &actor, now), id).await {
        Ok(()) => req.to("/security"),
        Err(e) => req.refused(&e),
    }
}

/// Puts back the last good version kept by an integrity seal, then re-checks.
pub(crate) async fn restore(req: Req, Path(seal): Path<i64>) -> Response {
    let (actor, now) = req.ctx();
    let ctx = Ctx::at(&req.state().db, &actor, now);
    if let Err(e) = integrity::restore_sealed(&ctx, &req.state().media_dir, seal).await {
        return req.refused(&e);
    }
    check_now(req).await
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct JournalQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    entity: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    before: Option<i64>,
    #[serde(default)]
    format: String,
}

impl JournalQuery {
    /// The filter, or the name of the field that could not be read.
    fn filter(&self) -> Result<JournalFilter, &'static str> {
        let day = |raw: &str, name: &'static str| -> Result<Option<baspa_domain::Timestamp>, &'static str> {
            if raw.trim().is_empty() {
                return Ok(None);
            }
            NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()))
                .map_err(|_| name)
        };
        let entity = match self.entity.trim() {
            "" => None,
            raw => Some(raw.parse::<i64>().map_err(|_| "entity")?),
        };
        Ok(JournalFilter {
            actor: Some(self.actor.trim().to_owned()),
            action: Some(self.action.trim().to_owned()),
            entity_kind: Some(self.kind.trim().to_owned()),
            entity_id: entity,
            from: day(&self.from, "from")?,
            // "until" is inclusive on the page: the whole day counts.
            until: day(&self.until, "until")?.map(|d| d + Duration::days(1)),
        })
    }
}

pub(crate) async fn journal(req: Req, Query(q): Query<JournalQuery>) -> Response {
    if let Some(r) = guard(&req) {
        return r;
    }
    let ui = super::ui_lang(req.headers());
    let mut frame = req.frame("admin-journal");
    let filter = match q.filter() {
        Ok(f) => f,
        Err(field) => {
            frame.error = Some(baspa_render::translate(&ui, &format!("admin-journal-bad-{field}"), None));
            JournalFilter::default()
        }
    };
    let db = &req.state().db;
    let rows = match baspa_db::journal::search(db, &filter, q.before, JOURNAL_PAGE).await {
        Ok(rows) => rows,
        Err(e) => return req.fail(e),
    };
    let chain = match integrity::check_journal(db, req.state().admin.anchors.as_ref()).await {
        Ok(report) => report,
        Err(e) => return req.fail(e),
    };
    let entries: Vec<Value> = rows
        .iter()
        .map(|e| {
            json!({"id": e.id, "at": e.at.format("%Y-%m-%d %H:%M:%S").to_string(), "actor": e.actor_label,
                   "ip": e.ip, "user_agent": e.user_agent, "action": e.action, "kind": e.entity_kind,
                   "entity": e.entity_id,
                   "before": e.before.as_ref().map(|v| shorten(&v.to_string())),
                   "after": e.after.as_ref().map(|v| shorten(&v.to_string())),
                   "hash": e.hash.chars().take(12).collect::<String>()})
        })
        .collect();
    let next = (rows.len() as u64 == JOURNAL_PAGE).then(|| rows.last().map(|e| e.id)).flatten();
    let findings: Vec<Value> =
        chain.findings.iter().map(|f| json!({"subject": f.subject, "detail": f.detail})).collect();
    req.render(
        "admin/journal.html",
        &frame,
        json!({"entries": entries, "next": next, "q": {"actor": q.actor, "action": q.action, "kind": q.kind,
               "entity": q.entity, "from": q.from, "until": q.until},
               "verified": findings.is_empty(), "findings": findings, "total": chain.journal_entries}),
    )
}

fn shorten(text: &str) -> String {
    const MAX: usize = 300;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(MAX).collect::<String>())
    }
}

/// Downloads the filtered journal as CSV or XLSX (a POST: the export is an action).
pub(crate) async fn export(req: Req, Form(q): Form<JournalQuery>) -> Response {
    let (actor, now) = req.ctx();
    let ctx = Ctx::at(&req.state().db, &actor, now);
    let format = match ExportFormat::parse(&q.format) {
        Ok(f) => f,
        Err(e) => return req.refused(&e),
    };
    let filter = match q.filter() {
        Ok(f) => f,
        Err(field) => return req.refused(&ActionError::Invalid(format!("the {field} date is not YYYY-MM-DD"))),
    };
    match export_journal(&ctx, &filter, format).await {
        Ok((bytes, _)) => {
            let name = format!("journal-{}.{}", now.format("%Y%m%d-%H%M"), format.extension());
            let mut res = bytes.into_response();
            let h = res.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.mime()));
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            res
        }
        Err(e) => req.refused(&e),
    }
}
