//! The admin's browser files, compiled into the binary: CKEditor 5 (GPL, vendored from npm),
//! mammoth.js for `.docx` import, our Kazakh editor strings, and the admin script and styles.
//! Names carry no version; responses are revalidated by ETag (blake3 of the bytes). Every tag
//! that loads one carries its SRI hash (`integrity`), computed here from the embedded bytes
//! (SC-4), so a file changed on the way or on a proxy is refused by the browser.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Name under `<admin>/assets/`, MIME type, bytes.
pub(crate) const FILES: &[(&str, &str, &[u8])] = &[
    ("ckeditor5.js", "text/javascript", include_bytes!("../../../../vendor/ckeditor5/ckeditor5.umd.js")),
    ("ckeditor5.css", "text/css", include_bytes!("../../../../vendor/ckeditor5/ckeditor5.css")),
    ("ckeditor-ru.js", "text/javascript", include_bytes!("../../../../vendor/ckeditor5/ru.umd.js")),
    ("ckeditor-kk.js", "text/javascript", include_bytes!("../../admin-assets/ckeditor-kk.js")),
    ("mammoth.js", "text/javascript", include_bytes!("../../../../vendor/mammoth/mammoth.browser.min.js")),
    ("admin.js", "text/javascript", include_bytes!("../../admin-assets/admin.js")),
    ("admin.css", "text/css", include_bytes!("../../admin-assets/admin.css")),
];

/// `sha384-<base64>` of each file, computed once; templates read it as `frame.sri[name]`.
pub(crate) fn integrity() -> &'static BTreeMap<&'static str, String> {
    static SRI: LazyLock<BTreeMap<&'static str, String>> =
        LazyLock::new(|| FILES.iter().map(|(name, _, bytes)| (*name, crate::audit::sri(bytes))).collect());
    &SRI
}

pub(crate) async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some((_, mime, bytes)) = FILES.iter().find(|(name, _, _)| *name == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"{}\"", &blake3::hash(bytes).to_hex()[..16]);
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mut res = (*bytes).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    res
}
