//! The backup page (BK-3), administrators only: the dashboard card (last good backup, last
//! successful restore test, next scheduled runs) and the backup journal — every backup,
//! verification, restore, restore test, copy, export and upkeep run with its outcome. The rows
//! are also in the change journal (`backup.*`), exportable from `/journal`.

use axum::response::Response;
use baspa_actions::{ActionError, Scope};
use baspa_domain::Capability;
use serde_json::{Value, json};

use super::content::Req;

fn when(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

fn run_view(r: &baspa_db::entity::backup_run::Model) -> Value {
    json!({"kind": r.kind, "ok": r.status == "ok", "archive": r.archive, "summary": r.summary,
           "finished": when(&r.finished_at), "seconds": (r.finished_at - r.started_at).num_seconds()})
}

pub(crate) async fn page(req: Req) -> Response {
    if !req.staff().actor.may(Capability::ManageSettings, &Scope::site()) {
        return req.refused(&ActionError::NotPermitted { action: "view the backup journal" });
    }
    let db = &req.state().db;
    let (backup, tested, runs) = match (
        baspa_db::backup_runs::last_ok(db, "backup").await,
        baspa_db::backup_runs::last_ok(db, "restore_test").await,
        baspa_db::backup_runs::recent_runs(db, 100).await,
    ) {
        (Ok(b), Ok(t), Ok(r)) => (b, t, r),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return req.fail(e),
    };
    let next: Vec<Value> = req
        .state()
        .admin
        .backup_next_runs
        .read()
        .map(|n| n.iter().map(|(task, at)| json!({"task": task, "at": when(at)})).collect())
        .unwrap_or_default();
    let frame = req.frame("admin-backups");
    req.render(
        "admin/backups.html",
        &frame,
        json!({"last_backup": backup.as_ref().map(run_view), "last_test": tested.as_ref().map(run_view),
               "next": next, "runs": runs.iter().map(run_view).collect::<Vec<_>>()}),
    )
}
