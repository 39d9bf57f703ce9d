//! The public comment form (CM-9): a visitor's comment goes to the moderation queue. Cross-site
//! posts are refused by checking `Origin`/`Referer` against the host (the form sets no cookie,
//! so pages stay cacheable); a hidden "website" field catches simple bots; the per-address limit
//! is in the action. A refused comment is shown back with the reason and the typed text.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use baspa_actions::{ActionError, Actor, Ctx, PublicComment};
use baspa_domain::ItemId;
use serde::Deserialize;

use crate::SiteState;

#[derive(Deserialize)]
pub struct CommentForm {
    item_id: i64,
    lang: String,
    return_to: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    body: String,
    /// Hidden from people by CSS; bots fill it.
    #[serde(default)]
    website: String,
}

fn same_site(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let from = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once("://").map(|(_, rest)| rest.split('/').next().unwrap_or_default().to_owned()));
    from.is_some_and(|h| h == host)
}

/// Only paths of this site: no `//host` or scheme, so the redirect cannot leave the site; no
/// control characters, which cannot be in a `Location` header (a 500 before, found by wapiti).
fn safe_return(path: &str) -> &str {
    let is_local = path.starts_with('/') && !path.starts_with("//") && !path.contains('\\');
    if is_local && !path.chars().any(char::is_control) { path } else { "/" }
}

pub async fn post_comment(
    State(state): State<SiteState>,
    client: crate::client::ClientAddr,
    headers: HeaderMap,
    Form(form): Form<CommentForm>,
) -> Response {
    if !same_site(&headers) {
        return (StatusCode::FORBIDDEN, "cross-site form refused").into_response();
    }
    let back = safe_return(&form.return_to).to_owned();
    if !form.website.is_empty() {
        // Pretend success to the bot; nothing is stored.
        return Redirect::to(&format!("{back}#comment-sent")).into_response();
    }
    let ip = client.0.map(|a| a.to_string());
    let ua = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|s| s.chars().take(300).collect());
    let actor = Actor::visitor(ip, ua);
    let ctx = Ctx::new(&state.db, &actor);
    let input = PublicComment {
        item_id: ItemId(form.item_id),
        lang: &form.lang,
        author_name: &form.name,
        author_email: Some(form.email.as_str()),
        body: &form.body,
    };
    match baspa_actions::post_public_comment(&ctx, input).await {
        Ok(_) => Redirect::to(&format!("{back}#comment-sent")).into_response(),
        Err(ActionError::NotFound(_)) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            let (status, message) = match &e {
                ActionError::Internal(inner) => {
                    tracing::error!(error = %inner, "comment failed");
                    (StatusCode::SERVICE_UNAVAILABLE, baspa_render::translate(&form.lang, "comment-failed", None))
                }
                other => (StatusCode::UNPROCESSABLE_ENTITY, other.to_string()),
            };
            let ctx = serde_json::json!({
                "lang": form.lang, "message": message, "return_to": back, "item_id": form.item_id,
                "name": form.name, "email": form.email, "body": form.body,
            });
            match state.renderer.render("comment-refused.html", &ctx) {
                Ok(page) => (status, Html(page)).into_response(),
                Err(err) => {
                    tracing::error!(error = %err, "comment page failed");
                    status.into_response()
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_paths_stay_on_the_site() {
        assert_eq!(safe_return("/sport/match"), "/sport/match");
        assert_eq!(safe_return("//evil.example/x"), "/");
        assert_eq!(safe_return("https://evil.example"), "/");
        assert_eq!(safe_return("/\\evil.example"), "/");
        assert_eq!(safe_return("/sport/match\nenv;"), "/");
        assert_eq!(safe_return("/sport/match\r\nSet-Cookie: x=1"), "/");
    }
}
