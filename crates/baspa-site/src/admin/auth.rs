//! Sign-in pages: password, second factor, authenticator set-up, sign-out, sessions, and the
//! password reset by e-mail. Refusals never say whether an address has an account.

use axum::Form;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use baspa_actions::Ctx;
use baspa_actions::auth::{self as staff_auth, SessionStage, SignInError};
use serde::Deserialize;
use serde_json::json;

use super::{Frame, Staff, action_message, client_info, page};
use crate::SiteState;
use crate::headers::{CspNonce, RequestId};

/// What every sign-in page needs, taken from the request once: the state, the CSP nonce and
/// request id set by the security layer, the headers, the client's address and browser, and
/// the (possibly half-signed-in) staff session set by `staff_layer`.
pub(crate) struct Visit {
    state: SiteState,
    nonce: CspNonce,
    rid: RequestId,
    headers: HeaderMap,
    client: baspa_actions::auth::ClientInfo,
    staff: Option<Staff>,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Visit
where
    SiteState: axum::extract::FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ext = &parts.extensions;
        let (Some(nonce), Some(rid)) = (ext.get::<CspNonce>().cloned(), ext.get::<RequestId>().cloned()) else {
            return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
        };
        let state = <SiteState as axum::extract::FromRef<S>>::from_ref(state);
        let addr = crate::client::ClientAddr::from_request(ext, &parts.headers, &state.proxies);
        Ok(Visit {
            client: client_info(&parts.headers, addr),
            state,
            staff: ext.get::<Staff>().cloned(),
            nonce,
            rid,
            headers: parts.headers.clone(),
        })
    }
}

/// The status and message key of a refused password or code.
fn refusal(e: SignInError, refused_key: &'static str) -> (StatusCode, &'static str) {
    match e {
        SignInError::Refused => (StatusCode::UNAUTHORIZED, refused_key),
        SignInError::Throttled => (StatusCode::TOO_MANY_REQUESTS, "admin-sign-in-throttled"),
        SignInError::Internal => (StatusCode::SERVICE_UNAVAILABLE, "admin-error-internal"),
        SignInError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "admin-sessions-unavailable"),
    }
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    email: String,
    password: String,
}

pub(crate) async fn login_form(v: Visit) -> Response {
    let Visit { state, nonce, rid, headers, .. } = v;
    let frame = Frame::new(&state, &headers, &nonce, None, "admin-sign-in");
    page(&state, "admin/login.html", &frame, json!({"email": "", "can_reset": state.admin.mail.is_some()}), &rid)
}

pub(crate) async fn login(v: Visit, Form(form): Form<LoginForm>) -> Response {
    let Visit { state, nonce, rid, headers, client, .. } = v;
    let now = baspa_domain::time::now();
    let outcome = staff_auth::sign_in(&state.db, &state.admin.policy, &form.email, &form.password, &client, now).await;
    let admin = &state.admin.path;
    match outcome {
        Ok(session) => {
            let next = match session.stage {
                SessionStage::Ready => format!("{admin}/"),
                SessionStage::NeedsCode => format!("{admin}/code"),
                SessionStage::NeedsEnrolment => format!("{admin}/enrol"),
            };
            let max_age = state.admin.policy.session_lifetime.num_seconds();
            let cookie = state.admin.cookie(state.admin.session_cookie(), &session.token, max_age);
            let mut res = Redirect::to(&next).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Err(e) => {
            if matches!(e, SignInError::Refused | SignInError::Throttled) {
                // Detection and counting (SC-7); the lockouts themselves stay in the action.
                let ip = client.ip.as_deref().and_then(|ip| ip.parse().ok());
                let throttled = e == SignInError::Throttled;
                let now = std::time::Instant::now();
                for report in state.monitor.sign_in_failed(ip, &form.email, throttled, now) {
                    state.monitor.raise(&state.db, report);
                }
            }
            let mut frame = Frame::new(&state, &headers, &nonce, None, "admin-sign-in");
            let (status, key) = refusal(e, "admin-sign-in-refused");
            frame.error = Some(baspa_render::translate(&frame.ui, key, None));
            let data = json!({"email": form.email, "can_reset": state.admin.mail.is_some()});
            (status, page(&state, "admin/login.html", &frame, data, &rid)).into_response()
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct CodeForm {
    code: String,
}

pub(crate) async fn code_form(v: Visit) -> Response {
    let Visit { state, nonce, rid, headers, staff, .. } = v;
    let Some(staff) = staff else { return Redirect::to(&format!("{}/login", state.admin.path)).into_response() };
    let frame = Frame::new(&state, &headers, &nonce, Some(&staff), "admin-code-title");
    page(&state, "admin/code.html", &frame, json!({}), &rid)
}

pub(crate) async fn code(v: Visit, Form(form): Form<CodeForm>) -> Response {
    let Visit { state, nonce, rid, headers, client, staff, .. } = v;
    let Some(staff) = staff else { return Redirect::to(&format!("{}/login", state.admin.path)).into_response() };
    let now = baspa_domain::time::now();
    match staff_auth::verify_second_factor(&state.db, &state.admin.policy, &staff.0, &form.code, &client, now).await {
        Ok(()) => Redirect::to(&format!("{}/", state.admin.path)).into_response(),
        Err(e) => {
            let mut frame = Frame::new(&state, &headers, &nonce, Some(&staff), "admin-code-title");
            let (status, key) = refusal(e, "admin-code-refused");
            frame.error = Some(baspa_render::translate(&frame.ui, key, None));
            (status, page(&state, "admin/code.html", &frame, json!({}), &rid)).into_response()
        }
    }
}

pub(crate) async fn enrol_form(v: Visit) -> Response {
    let Visit { state, nonce, rid, headers, staff, .. } = v;
    let Some(staff) = staff else { return Redirect::to(&format!("{}/login", state.admin.path)).into_response() };
    let frame = Frame::new(&state, &headers, &nonce, Some(&staff), "admin-enrol-title");
    match staff_auth::begin_totp_enrolment(&state.db, &state.admin.policy, &staff.0).await {
        Ok((uri, secret)) => page(&state, "admin/enrol.html", &frame, json!({"uri": uri, "secret": secret}), &rid),
        Err(e) => (super::action_status(&e), action_message(&frame.ui, &e, &rid)).into_response(),
    }
}

pub(crate) async fn enrol(v: Visit, Form(form): Form<CodeForm>) -> Response {
    let Visit { state, nonce, rid, headers, client, staff, .. } = v;
    let Some(staff) = staff else { return Redirect::to(&format!("{}/login", state.admin.path)).into_response() };
    let mut actor = staff.0.actor.clone();
    actor.ip = client.ip;
    actor.user_agent = client.user_agent;
    let ctx = Ctx::new(&state.db, &actor);
    // Reload: the pending secret was stored by the GET that showed it.
    let fresh = match staff_auth::reload_session(&state.db, &state.admin.policy.sessions, &staff.0).await {
        Ok(s) => s,
        Err(e) => return (super::action_status(&e), action_message("en", &e, &rid)).into_response(),
    };
    match staff_auth::confirm_totp_enrolment(&ctx, &state.admin.policy.sessions, &fresh, &form.code).await {
        Ok(()) => Redirect::to(&format!("{}/", state.admin.path)).into_response(),
        Err(e) => {
            let mut frame = Frame::new(&state, &headers, &nonce, Some(&staff), "admin-enrol-title");
            frame.error = Some(action_message(&frame.ui, &e, &rid));
            let (uri, secret) = match staff_auth::begin_totp_enrolment(&state.db, &state.admin.policy, &fresh).await {
                Ok(pair) => pair,
                Err(e) => return (super::action_status(&e), action_message("en", &e, &rid)).into_response(),
            };
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                page(&state, "admin/enrol.html", &frame, json!({"uri": uri, "secret": secret}), &rid),
            )
                .into_response()
        }
    }
}

pub(crate) async fn logout(v: Visit) -> Response {
    let Visit { state, staff, .. } = v;
    let Some(staff) = staff else { return Redirect::to(&format!("{}/login", state.admin.path)).into_response() };
    let ctx = Ctx::new(&state.db, &staff.0.actor);
    if let Err(e) = staff_auth::revoke_session(&ctx, &state.admin.policy.sessions, staff.0.session.id).await {
        tracing::error!(error = %e, "sign-out failed");
    }
    let mut res = Redirect::to(&format!("{}/login", state.admin.path)).into_response();
    let cookie = state.admin.cookie(state.admin.session_cookie(), "", 0);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

pub(crate) async fn sessions(v: Visit) -> Response {
    let Visit { state, nonce, rid, headers, staff, .. } = v;
    let Some(staff) = staff else { return Redirect::to(&format!("{}/login", state.admin.path)).into_response() };
    let frame = Frame::new(&state, &headers, &nonce, Some(&staff), "admin-sessions");
    let now = baspa_domain::time::now();
    let user = baspa_domain::UserId(staff.0.user.id);
    match state.admin.policy.sessions.live_of(&state.db, user, now).await {
        Ok(rows) => {
            let list: Vec<_> = rows
                .iter()
                .map(|s| {
                    json!({
                        "id": s.id, "ip": s.ip, "user_agent": s.user_agent,
                        "created_at": s.created_at.to_rfc3339(), "last_seen_at": s.last_seen_at.to_rfc3339(),
                        "is_current": s.id == staff.0.session.id,
                    })
                })
                .collect();
            page(&state, "admin/sessions.html", &frame, json!({"sessions": list}), &rid)
        }
        Err(e) => {
            tracing::error!(request_id = %rid.0, error = %e, "sessions list failed");
            (super::action_status(&e), rid.0.clone()).into_response()
        }
    }
}

pub(crate) async fn revoke(v: Visit, Path(id): Path<i64>) -> Response {
    let Visit { state, rid, staff, .. } = v;
    let Some(staff) = staff else { return Redirect::to(&format!("{}/login", state.admin.path)).into_response() };
    let ctx = Ctx::new(&state.db, &staff.0.actor);
    match staff_auth::revoke_session(&ctx, &state.admin.policy.sessions, id).await {
        Ok(()) => Redirect::to(&format!("{}/sessions", state.admin.path)).into_response(),
        Err(e) => (super::action_status(&e), action_message("en", &e, &rid)).into_response(),
    }
}

#[derive(Deserialize)]
pub(crate) struct ForgotForm {
    email: String,
}

pub(crate) async fn forgot_form(v: Visit) -> Response {
    let Visit { state, nonce, rid, headers, .. } = v;
    if state.admin.mail.is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let frame = Frame::new(&state, &headers, &nonce, None, "admin-forgot-title");
    page(&state, "admin/forgot.html", &frame, json!({"sent": false}), &rid)
}

/// Always answers "if the address has an account, a link is on its way" (no enumeration).
pub(crate) async fn forgot(v: Visit, Form(form): Form<ForgotForm>) -> Response {
    let Visit { state, nonce, rid, headers, client, .. } = v;
    let Some(mail) = state.admin.mail.clone() else { return StatusCode::NOT_FOUND.into_response() };
    let now = baspa_domain::time::now();
    let frame = Frame::new(&state, &headers, &nonce, None, "admin-forgot-title");
    match staff_auth::request_password_reset(&state.db, &form.email, &client, now).await {
        Ok(Some((user, token))) => {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
            let scheme = if state.admin.secure_cookies { "https" } else { "http" };
            let link = format!("{scheme}://{host}{}/reset?token={token}", state.admin.path);
            let subject = baspa_render::translate(&frame.ui, "admin-reset-mail-subject", None);
            let body = format!("{}\n\n{link}\n", baspa_render::translate(&frame.ui, "admin-reset-mail-body", None));
            // Sent in the background so the answer takes the same time for unknown addresses.
            tokio::spawn(async move {
                if let Err(e) = crate::mail::send(&mail, &user.email, &subject, &body).await {
                    tracing::error!(error = %e, "password reset mail failed");
                }
            });
        }
        Ok(None) => {}
        Err(e) => tracing::error!(request_id = %rid.0, error = %e, "password reset request failed"),
    }
    page(&state, "admin/forgot.html", &frame, json!({"sent": true}), &rid)
}

#[derive(Deserialize)]
pub(crate) struct ResetQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub(crate) struct ResetForm {
    token: String,
    password: String,
}

pub(crate) async fn reset_form(v: Visit, Query(q): Query<ResetQuery>) -> Response {
    let Visit { state, nonce, rid, headers, .. } = v;
    let frame = Frame::new(&state, &headers, &nonce, None, "admin-reset-title");
    page(&state, "admin/reset.html", &frame, json!({"token": q.token, "done": false}), &rid)
}

pub(crate) async fn reset(v: Visit, Form(form): Form<ResetForm>) -> Response {
    let Visit { state, nonce, rid, headers, client, .. } = v;
    let now = baspa_domain::time::now();
    let mut frame = Frame::new(&state, &headers, &nonce, None, "admin-reset-title");
    match staff_auth::reset_password(&state.db, &state.admin.policy.sessions, &form.token, &form.password, &client, now)
        .await
    {
        Ok(()) => page(&state, "admin/reset.html", &frame, json!({"token": "", "done": true}), &rid),
        Err(e) => {
            frame.error = Some(action_message(&frame.ui, &e, &rid));
            let body = page(&state, "admin/reset.html", &frame, json!({"token": form.token, "done": false}), &rid);
            (StatusCode::UNPROCESSABLE_ENTITY, body).into_response()
        }
    }
}
