//! The staff admin (issue 4), mounted at a configurable path (HD-7). Server-rendered pages in
//! kk/ru/en with a little JavaScript for the editor. Every change goes through `baspa_actions`,
//! which checks the right; the admin only decides what to show.
//!
//! Request flow: `staff_layer` loads the session from the cookie, refuses state-changing
//! requests without the session's CSRF token (form field `_csrf` or header `x-csrf-token`) or
//! from another origin, and sends half-signed-in sessions to the second-factor pages.

pub(crate) mod assets;
mod auth;
mod backups;
mod content;
mod diff;
mod media;
mod people;
mod profile;
mod security;
mod structure;
mod system;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use baspa_actions::ActionError;
use baspa_actions::auth::{ClientInfo, SessionStage, SignInPolicy, StaffSession};
use serde::Serialize;

use crate::SiteState;
use crate::headers::{CspNonce, RequestId};

/// Admin settings the binary fills from configuration.
#[derive(Debug, Clone)]
pub struct AdminConfig {
    /// Where the admin lives, e.g. `/admin` or something unguessable (HD-7). No trailing slash.
    pub path: String,
    pub policy: SignInPolicy,
    /// Set when the site is served over HTTPS (directly or behind a TLS proxy): cookies get
    /// `Secure` and the session cookie the `__Host-` prefix (HD-5).
    pub secure_cookies: bool,
    /// SMTP for password-reset mail; `None` disables "forgot password".
    pub mail: Option<MailConfig>,
    /// Uploads larger than this are refused while streaming.
    pub max_upload_bytes: usize,
    /// ClamAV for uploads (SC-3); `None`: only the built-in checks.
    pub clamd: Option<baspa_actions::clamd::Clamd>,
    /// A local copy of the RustSec advisory database for the system page (SC-4); `None`: the
    /// dependency audit is reported as not done.
    pub advisory_db: Option<std::path::PathBuf>,
    /// Recipients of incident alerts (HD-11); empty: every active administrator.
    pub alert_to: Vec<String>,
    /// The journal's anchor key and log (SC-6); `None`: the chain is verified without anchors.
    pub anchors: Option<baspa_actions::integrity::AnchorKeeper>,
    /// The next scheduled backup tasks (name, time), kept current by the binary's scheduler
    /// for the backup page's card (BK-3); empty when nothing is scheduled.
    pub backup_next_runs: BackupNextRuns,
}

/// Shared list of the next scheduled backup tasks.
pub type BackupNextRuns = std::sync::Arc<std::sync::RwLock<Vec<(String, chrono::DateTime<chrono::Utc>)>>>;

#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `smtp://host:port` (plain, for a local relay) or `smtps://host:port` (TLS).
    pub smtp_url: String,
    pub from: String,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            path: "/admin".into(),
            policy: SignInPolicy::default(),
            secure_cookies: false,
            mail: None,
            max_upload_bytes: baspa_actions::uploads::DEFAULT_MAX_UPLOAD_BYTES,
            clamd: None,
            advisory_db: None,
            alert_to: Vec::new(),
            anchors: None,
            backup_next_runs: BackupNextRuns::default(),
        }
    }
}

impl AdminConfig {
    /// The name of the staff session cookie (tools that sign in outside a browser need it).
    pub fn session_cookie_name(&self) -> &'static str {
        self.session_cookie()
    }

    pub(crate) fn session_cookie(&self) -> &'static str {
        if self.secure_cookies { "__Host-baspa_staff" } else { "baspa_staff" }
    }

    /// A `Set-Cookie` value with the flags every Baspa cookie carries (HD-5).
    pub(crate) fn cookie(&self, name: &str, value: &str, max_age_seconds: i64) -> String {
        let secure = if self.secure_cookies { "; Secure" } else { "" };
        format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{secure}")
    }
}

pub(crate) fn router(state: SiteState) -> Router {
    let base = state.admin.path.clone();
    // Full paths rather than `nest`, so `/admin/` (the dashboard) matches and the bare
    // `/admin` can redirect to it.
    let at = |p: &str| format!("{base}{p}");
    let dashboard = at("/");
    Router::new()
        .route(&base, get(move || async move { Redirect::permanent(&dashboard) }))
        .route(&at("/"), get(content::dashboard))
        .route(&at("/login"), get(auth::login_form).post(auth::login))
        .route(&at("/code"), get(auth::code_form).post(auth::code))
        .route(&at("/enrol"), get(auth::enrol_form).post(auth::enrol))
        .route(&at("/logout"), post(auth::logout))
        .route(&at("/forgot"), get(auth::forgot_form).post(auth::forgot))
        .route(&at("/reset"), get(auth::reset_form).post(auth::reset))
        .route(&at("/sessions"), get(auth::sessions))
        .route(&at("/sessions/{id}/revoke"), post(auth::revoke))
        .route(&at("/content"), get(content::list))
        .route(&at("/search"), get(content::search))
        .route(&at("/content/new"), get(content::new_form).post(content::create))
        .route(&at("/item/{id}"), get(content::item_page))
        .route(&at("/item/{id}/{action}"), post(content::item_action))
        .route(&at("/item/{id}/translate"), get(content::translate_form).post(content::translate))
        .route(&at("/translation/{id}/edit"), get(content::edit_form).post(content::save))
        .route(&at("/translation/{id}/revisions"), get(content::revisions))
        .route(&at("/translation/{id}/diff"), get(content::diff_page))
        .route(&at("/translation/{id}/{action}"), post(content::translation_action))
        .route(&at("/media"), get(media::list).post(media::upload).layer(axum::extract::DefaultBodyLimit::disable()))
        .route(&at("/users"), get(people::list).post(people::create))
        .route(&at("/users/{id}"), get(people::show).post(people::update))
        .route(&at("/users/{id}/grants"), post(people::grant))
        .route(&at("/users/{id}/grants/{grant}/delete"), post(people::revoke_grant))
        .route(&at("/profile"), get(profile::show).post(profile::save))
        .route(&at("/structure"), get(structure::sections))
        .route(&at("/structure/{id}/{direction}"), post(structure::move_section))
        .route(&at("/comments"), get(structure::comments))
        .route(&at("/comments/{id}"), post(structure::moderate))
        .route(&at("/security"), get(security::dashboard))
        .route(&at("/security/check"), post(security::check_now))
        .route(&at("/security/incidents/{id}/resolve"), post(security::resolve))
        .route(&at("/security/restore/{seal}"), post(security::restore))
        .route(&at("/journal"), get(security::journal))
        .route(&at("/backups"), get(backups::page))
        .route(&at("/journal/export"), post(security::export))
        .route(&at("/assets/{file}"), get(assets::serve))
        .route(&at("/system"), get(system::show))
        .layer(axum::middleware::from_fn_with_state(state.clone(), staff_layer))
        .with_state(state)
}

/// The signed-in staff member of this request, if any (set by `staff_layer`).
#[derive(Clone)]
pub(crate) struct Staff(pub Arc<StaffSession>);

/// Pages reachable without a full session.
fn is_public(path: &str) -> bool {
    matches!(path, "/login" | "/forgot" | "/reset") || path.starts_with("/assets/")
}

fn is_second_factor_page(path: &str) -> bool {
    matches!(path, "/code" | "/enrol" | "/logout")
}

async fn staff_layer(State(state): State<SiteState>, mut req: Request, next: Next) -> Response {
    let full_path = req.uri().path().to_owned();
    let path = full_path.strip_prefix(state.admin.path.as_str()).unwrap_or(&full_path).to_owned();
    let now = baspa_domain::time::now();
    let token = cookie(req.headers(), state.admin.session_cookie()).map(str::to_owned);
    let staff = match token {
        Some(t) => match baspa_actions::auth::session_by_token(&state.db, &state.admin.policy, &t, now).await {
            Ok(s) => s,
            // The session store logs its own outage once; repeating it per request would flood.
            Err(e @ ActionError::Unavailable(_)) => {
                return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response();
            }
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed");
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
        },
        None => None,
    };
    let state_changing = !matches!(*req.method(), Method::GET | Method::HEAD);
    if state_changing && !same_origin(req.headers()) {
        return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
    }
    let admin = &state.admin.path;
    match &staff {
        None if !is_public(&path) => return Redirect::to(&format!("{admin}/login")).into_response(),
        Some(s) if s.stage != SessionStage::Ready && !is_second_factor_page(&path) && !is_public(&path) => {
            let to = if s.stage == SessionStage::NeedsCode { "code" } else { "enrol" };
            return Redirect::to(&format!("{admin}/{to}")).into_response();
        }
        _ => {}
    }
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if state_changing
        && is_multipart
        && let Some(s) = &staff
    {
        // Uploads are streamed, not buffered: their token travels in the form's action URL.
        let sent = req.uri().query().and_then(|q| form_field(q.as_bytes(), "_csrf"));
        if !sent.is_some_and(|t| constant_time_eq(t.as_bytes(), s.session.csrf_token.as_bytes())) {
            return (StatusCode::FORBIDDEN, "the form expired; reload the page and try again").into_response();
        }
    } else if state_changing && let Some(s) = &staff {
        let (parts, body) = req.into_parts();
        let bytes = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
            Ok(b) => b,
            Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "the form is too large").into_response(),
        };
        let sent = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| form_field(&bytes, "_csrf"));
        if !sent.is_some_and(|t| constant_time_eq(t.as_bytes(), s.session.csrf_token.as_bytes())) {
            return (StatusCode::FORBIDDEN, "the form expired; reload the page and try again").into_response();
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }
    if let Some(s) = staff {
        req.extensions_mut().insert(Staff(Arc::new(s)));
    }
    let mut res = next.run(req).await;
    // Admin pages are private: never cached by browsers or proxies. Assets are the same for
    // everyone and revalidate by ETag.
    let cache = if path.starts_with("/assets/") { "no-cache" } else { "no-store" };
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

/// Article bodies pasted from Word can be large; media uploads have their own limit.
const MAX_FORM_BYTES: usize = 8 * 1024 * 1024;

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Browsers send `Origin` on POST; when present it must name this host.
fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        None => true,
        Some(origin) => origin.split_once("://").is_some_and(|(_, rest)| rest == host),
    }
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(body).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .find_map(|h| crate::negotiate::cookie_value(h, name))
}

pub(crate) fn client_info(headers: &HeaderMap, client: crate::client::ClientAddr) -> ClientInfo {
    ClientInfo {
        ip: client.0.map(|ip| ip.to_string()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(300).collect()),
    }
}

/// The admin UI language: the `ui` cookie, else the browser's first kk/ru/en, else Kazakh.
pub(crate) fn ui_lang(headers: &HeaderMap) -> String {
    const UI: [&str; 3] = ["kk", "ru", "en"];
    if let Some(c) = cookie(headers, "baspa_ui").filter(|c| UI.contains(c)) {
        return c.to_owned();
    }
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    accept
        .split(',')
        .filter_map(|part| part.split(';').next())
        .map(|tag| tag.trim().split('-').next().unwrap_or_default().to_lowercase())
        .find(|l| UI.contains(&l.as_str()))
        .unwrap_or_else(|| "kk".to_owned())
}

/// What every admin page template receives.
#[derive(Serialize)]
pub(crate) struct Frame {
    pub ui: String,
    pub admin: String,
    pub nonce: String,
    pub csrf: String,
    pub user: Option<String>,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    /// SRI hashes of the admin's assets by file name, for `integrity` attributes (SC-4).
    pub sri: &'static std::collections::BTreeMap<&'static str, String>,
}

impl Frame {
    pub fn new(state: &SiteState, headers: &HeaderMap, nonce: &CspNonce, staff: Option<&Staff>, title: &str) -> Self {
        let ui = ui_lang(headers);
        Frame {
            title: baspa_render::translate(&ui, title, None),
            ui,
            admin: state.admin.path.clone(),
            nonce: nonce.0.clone(),
            csrf: staff.map(|s| s.0.session.csrf_token.clone()).unwrap_or_default(),
            user: staff.map(|s| s.0.user.display_name.clone()),
            notice: None,
            error: None,
            sri: assets::integrity(),
        }
    }
}

/// Renders an admin template with the frame and page data merged.
pub(crate) fn page(
    state: &SiteState,
    template: &str,
    frame: &Frame,
    data: serde_json::Value,
    rid: &RequestId,
) -> Response {
    let mut ctx = serde_json::json!({ "frame": frame });
    if let (Some(obj), serde_json::Value::Object(extra)) = (ctx.as_object_mut(), data) {
        obj.extend(extra);
    }
    match state.renderer.render(template, &ctx) {
        Ok(html) => axum::response::Html(html).into_response(),
        Err(e) => {
            tracing::error!(request_id = %rid.0, error = %e, "admin render failed");
            (StatusCode::INTERNAL_SERVER_ERROR, format!("Error. Request id: {}", rid.0)).into_response()
        }
    }
}

/// Maps an action error to a status and a message for the person at the keyboard.
pub(crate) fn action_status(e: &ActionError) -> StatusCode {
    match e {
        ActionError::NotPermitted { .. } => StatusCode::FORBIDDEN,
        ActionError::NotFound(_) => StatusCode::NOT_FOUND,
        ActionError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        ActionError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

pub(crate) fn action_message(ui: &str, e: &ActionError, rid: &RequestId) -> String {
    match e {
        ActionError::Internal(inner) => {
            tracing::error!(request_id = %rid.0, error = %inner, "action failed");
            format!("{} ({})", baspa_render::translate(ui, "admin-error-internal", None), rid.0)
        }
        ActionError::NotPermitted { .. } => baspa_render::translate(ui, "admin-error-forbidden", None),
        other => other.to_string(),
    }
}
