//! "System: components and audit" (SC-4, OP-4): versions of Baspa, the compiler, the database
//! server, every Rust dependency and every browser file with its SRI hash, and the dependency
//! check against the advisory database. Administrators only: it tells an attacker what to aim at.

use axum::response::Response;
use baspa_actions::{ActionError, Scope};
use baspa_domain::Capability;
use serde_json::json;

use super::content::Req;

pub(crate) async fn show(req: Req) -> Response {
    if !req.staff().actor.may(Capability::ManageSettings, &Scope::site()) {
        return req.refused(&ActionError::NotPermitted { action: "view the system report" });
    }
    let state = req.state();
    let report = crate::audit::report(
        crate::audit::database_server(&state.db).await,
        &state.admin.path,
        state.theme_assets.as_deref().map(|p| p.as_path()),
        state.admin.advisory_db.clone(),
    )
    .await;
    let vulnerabilities = report.advisories.vulnerabilities();
    let frame = req.frame("admin-system");
    req.render("admin/system.html", &frame, json!({"report": report, "vulnerabilities": vulnerabilities}))
}
