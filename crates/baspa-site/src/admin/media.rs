//! The media library (CM-8): upload with checks from the bytes (see `baspa_actions::uploads`),
//! alternative text per language, search by name, and each file's address for reuse. Images
//! get variants through a job; documents are served as downloads.

use axum::extract::{Multipart, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use baspa_actions::{ActionError, Ctx, UploadInput};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::content::Req;
use super::{action_message, action_status};

const PAGE_SIZE: u64 = 60;

#[derive(Deserialize, Default)]
pub(crate) struct LibraryQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<u64>,
    #[serde(default)]
    uploaded: Option<i64>,
}

async fn library(req: &Req, q: &LibraryQuery, error: Option<String>, status: StatusCode) -> Response {
    let mut frame = req.frame("admin-media");
    frame.error = error;
    if q.uploaded.is_some() {
        frame.notice = Some(baspa_render::translate(&frame.ui, "admin-uploaded", None));
    }
    let page = q.page.unwrap_or(1).max(1);
    let (rows, total) =
        match baspa_db::content::media_page(&req.state().db, Some(&q.q), PAGE_SIZE, (page - 1) * PAGE_SIZE).await {
            Ok(r) => r,
            Err(e) => return req.fail(e),
        };
    let languages: Vec<String> = match baspa_db::languages::list(&req.state().db).await {
        Ok(l) => l.into_iter().map(|l| l.code.to_string()).collect(),
        Err(e) => return req.fail(e),
    };
    let files: Vec<Value> = rows
        .iter()
        .map(|m| {
            json!({"id": m.id, "name": m.original_name, "mime": m.mime, "url": format!("/media/{}", m.storage_key),
                   "is_image": m.mime.starts_with("image/"), "kb": (m.byte_size + 1023) / 1024, "width": m.width, "height": m.height,
                   "alt": m.alt, "highlight": Some(m.id) == q.uploaded})
        })
        .collect();
    let data = json!({"files": files, "total": total, "page": page, "pages": total.div_ceil(PAGE_SIZE).max(1), "q": q.q,
                      "languages": languages, "max_mb": req.state().admin.max_upload_bytes >> 20});
    (status, req.render("admin/media.html", &frame, data)).into_response()
}

pub(crate) async fn list(req: Req, Query(q): Query<LibraryQuery>) -> Response {
    library(&req, &q, None, StatusCode::OK).await
}

/// Reads the multipart upload with the size limit applied while streaming, so a 200 MB file
/// is refused after the limit, not after it has filled memory.
pub(crate) async fn upload(req: Req, mut form: Multipart) -> Response {
    let limit = req.state().admin.max_upload_bytes;
    let mut name = String::new();
    let mut bytes: Vec<u8> = Vec::new();
    let mut alt = Map::new();
    let mut too_large = false;
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return refused(&req, ActionError::Invalid(format!("the upload was cut off ({e})"))).await,
        };
        let field_name = field.name().unwrap_or_default().to_owned();
        if field_name == "file" {
            name = field.file_name().unwrap_or_default().to_owned();
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) => {
                        if bytes.len() + chunk.len() > limit {
                            too_large = true;
                            break;
                        }
                        bytes.extend_from_slice(&chunk);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        return refused(&req, ActionError::Invalid(format!("the upload was cut off ({e})"))).await;
                    }
                }
            }
            if too_large {
                break;
            }
        } else if let Some(lang) = field_name.strip_prefix("alt_") {
            let text = field.text().await.unwrap_or_default();
            if !text.trim().is_empty() {
                alt.insert(lang.to_owned(), Value::String(text.trim().chars().take(500).collect()));
            }
        }
    }
    if too_large {
        let refusal =
            baspa_actions::uploads::UploadRefusal::TooLarge { size_mb: (limit >> 20) + 1, limit_mb: limit >> 20 };
        let msg = format!("{refusal}");
        return library(&req, &LibraryQuery::default(), Some(msg), StatusCode::PAYLOAD_TOO_LARGE).await;
    }
    if name.is_empty() {
        return refused(&req, ActionError::Invalid("choose a file to upload".into())).await;
    }
    let (actor, now) = req.ctx();
    let ctx = Ctx::at(&req.state().db, &actor, now);
    let media_dir = req.state().media_dir.clone();
    let scanner = req.state().admin.clamd.as_ref();
    let input = UploadInput { original_name: &name, bytes: &bytes, alt: Value::Object(alt), max_bytes: limit, scanner };
    match baspa_actions::upload_media(&ctx, &media_dir, input).await {
        Ok(id) => req.to(&format!("/media?uploaded={id}")),
        Err(e) => refused(&req, e).await,
    }
}

async fn refused(req: &Req, e: ActionError) -> Response {
    let ui = super::ui_lang(req.headers());
    let msg = action_message(&ui, &e, req.rid());
    library(req, &LibraryQuery::default(), Some(msg), action_status(&e)).await
}
