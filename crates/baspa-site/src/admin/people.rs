//! Staff accounts and rights (CM-4): the list of accounts, a new account, role and on/off,
//! and grants of a role within a section subtree and/or a language. Only those with the right
//! to manage users see these pages; the actions check it again.

use axum::Form;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use baspa_actions::{ActionError, Ctx, Scope};
use baspa_domain::{Capability, ItemId, LangCode, Role, UserId};
use serde::Deserialize;
use serde_json::{Value, json};

use super::content::Req;

fn roles() -> Vec<&'static str> {
    Role::ALL.iter().map(|r| r.as_str()).collect()
}

fn guard(req: &Req) -> Option<Response> {
    if req.staff().actor.may(Capability::ManageUsers, &Scope::site()) {
        None
    } else {
        Some(req.refused(&ActionError::NotPermitted { action: "manage users" }))
    }
}

async fn users_page(req: &Req, error: Option<String>, status: StatusCode) -> Response {
    let mut frame = req.frame("admin-users");
    frame.error = error;
    let users = match baspa_db::users::list(&req.state().db).await {
        Ok(u) => u,
        Err(e) => return req.fail(e),
    };
    let list: Vec<Value> = users
        .iter()
        .map(|u| {
            json!({"id": u.id, "email": u.email, "name": u.display_name, "role": u.role, "active": u.is_active,
                        "two_step": u.totp_secret.is_some()})
        })
        .collect();
    (status, req.render("admin/users.html", &frame, json!({"users": list, "roles": roles()}))).into_response()
}

pub(crate) async fn list(req: Req) -> Response {
    if let Some(r) = guard(&req) {
        return r;
    }
    users_page(&req, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub(crate) struct NewUserForm {
    email: String,
    name: String,
    role: String,
    password: String,
}

pub(crate) async fn create(req: Req, Form(form): Form<NewUserForm>) -> Response {
    let (actor, now) = req.ctx();
    let ctx = Ctx::at(&req.state().db, &actor, now);
    let result = match Role::parse(&form.role) {
        Ok(role) => baspa_actions::create_user(&ctx, &form.email, &form.name, role, &form.password).await,
        Err(e) => Err(ActionError::Invalid(e.to_string())),
    };
    match result {
        Ok(id) => req.to(&format!("/users/{id}")),
        Err(e) => {
            let ui = super::ui_lang(req.headers());
            users_page(&req, Some(super::action_message(&ui, &e, req.rid())), super::action_status(&e)).await
        }
    }
}

pub(crate) async fn show(req: Req, Path(id): Path<i64>) -> Response {
    if let Some(r) = guard(&req) {
        return r;
    }
    let frame = req.frame("admin-users");
    let db = &req.state().db;
    let (user, grants) =
        match (baspa_db::users::get(db, UserId(id)).await, baspa_db::users::grants_of(db, UserId(id)).await) {
            (Ok(u), Ok(g)) => (u, g),
            (Err(baspa_db::StoreError::NotFound(_)), _) => return StatusCode::NOT_FOUND.into_response(),
            _ => return req.fail("user page queries failed"),
        };
    let titles = match super::content::section_titles(req.state(), &frame.ui).await {
        Ok(t) => t,
        Err(e) => return req.fail(e),
    };
    let langs: Vec<String> = match baspa_db::languages::list(db).await {
        Ok(l) => l.into_iter().map(|l| l.code.to_string()).collect(),
        Err(e) => return req.fail(e),
    };
    let grant_rows: Vec<Value> = grants
        .iter()
        .map(|g| {
            json!({"id": g.id, "role": g.role, "lang": g.lang,
                        "section": g.section_item_id.and_then(|s| titles.get(&s).cloned())})
        })
        .collect();
    let data = json!({
        "user": {"id": user.id, "email": user.email, "name": user.display_name, "role": user.role, "active": user.is_active},
        "grants": grant_rows, "roles": roles(), "sections": super::content::section_options(&titles), "languages": langs,
    });
    req.render("admin/user.html", &frame, data)
}

#[derive(Deserialize)]
pub(crate) struct AccountForm {
    role: String,
    #[serde(default)]
    active: Option<String>,
}

pub(crate) async fn update(req: Req, Path(id): Path<i64>, Form(form): Form<AccountForm>) -> Response {
    let (actor, now) = req.ctx();
    let ctx = Ctx::at(&req.state().db, &actor, now);
    let result = match Role::parse(&form.role) {
        Ok(role) => {
            baspa_actions::update_account(
                &ctx,
                &req.state().admin.policy.sessions,
                UserId(id),
                role,
                form.active.is_some(),
            )
            .await
        }
        Err(e) => Err(ActionError::Invalid(e.to_string())),
    };
    match result {
        Ok(()) => req.to(&format!("/users/{id}")),
        Err(e) => req.refused(&e),
    }
}

#[derive(Deserialize)]
pub(crate) struct GrantForm {
    role: String,
    #[serde(default)]
    section_id: String,
    #[serde(default)]
    lang: String,
}

pub(crate) async fn grant(req: Req, Path(id): Path<i64>, Form(form): Form<GrantForm>) -> Response {
    let (actor, now) = req.ctx();
    let ctx = Ctx::at(&req.state().db, &actor, now);
    let result = async {
        let role = Role::parse(&form.role).map_err(|e| ActionError::Invalid(e.to_string()))?;
        let lang = match form.lang.trim() {
            "" => None,
            l => Some(LangCode::parse(l).map_err(|e| ActionError::Invalid(e.to_string()))?),
        };
        let section = form.section_id.parse().ok().map(ItemId);
        baspa_actions::grant_right(&ctx, UserId(id), role, section, lang.as_ref()).await
    }
    .await;
    match result {
        Ok(_) => req.to(&format!("/users/{id}")),
        Err(e) => req.refused(&e),
    }
}

pub(crate) async fn revoke_grant(req: Req, Path((user, grant)): Path<(i64, i64)>) -> Response {
    let (actor, now) = req.ctx();
    let ctx = Ctx::at(&req.state().db, &actor, now);
    match baspa_actions::revoke_right(&ctx, grant).await {
        Ok(()) => req.to(&format!("/users/{user}")),
        Err(e) => req.refused(&e),
    }
}
