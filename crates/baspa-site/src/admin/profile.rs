//! "My profile": the signed-in person's display name, and per language their position and a
//! short biography for the public author page.

use std::collections::BTreeMap;

use axum::Form;
use axum::response::Response;
use baspa_actions::Ctx;
use baspa_domain::UserId;
use serde_json::json;

use super::content::Req;

pub(crate) async fn show(req: Req) -> Response {
    let frame = req.frame("admin-profile");
    let db = &req.state().db;
    let (user, langs) =
        match (baspa_db::users::get(db, UserId(req.staff().user.id)).await, baspa_db::languages::list(db).await) {
            (Ok(u), Ok(l)) => (u, l),
            _ => return req.fail("profile queries failed"),
        };
    let profile = user.profile.clone().unwrap_or_else(|| json!({}));
    let rows: Vec<_> = langs
        .iter()
        .map(|l| {
            let code = l.code.as_str();
            json!({"code": code, "position": profile["position"][code], "bio": profile["bio"][code]})
        })
        .collect();
    req.render("admin/profile.html", &frame, json!({"name": user.display_name, "languages": rows}))
}

/// Fields `name`, `position_<lang>` and `bio_<lang>`.
pub(crate) async fn save(req: Req, Form(form): Form<BTreeMap<String, String>>) -> Response {
    let (actor, now) = req.ctx();
    let ctx = Ctx::at(&req.state().db, &actor, now);
    let pick = |prefix: &str| -> BTreeMap<String, String> {
        form.iter().filter_map(|(k, v)| k.strip_prefix(prefix).map(|lang| (lang.to_owned(), v.clone()))).collect()
    };
    let name = form.get("name").cloned().unwrap_or_default();
    match baspa_actions::update_profile(&ctx, UserId(req.staff().user.id), &name, &pick("position_"), &pick("bio_"))
        .await
    {
        Ok(()) => req.to("/profile"),
        Err(e) => req.refused(&e),
    }
}
