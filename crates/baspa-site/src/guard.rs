//! Requests refused before any handler, on every path, public and admin (HD-3, HD-8):
//!
//! - methods other than `GET`, `HEAD`, `POST`, `PUT`, `PATCH`, `DELETE` and `OPTIONS` — `TRACE`,
//!   `TRACK`, `CONNECT`, anything unknown — get `405` and the generic error page, never an echo
//!   of the request;
//! - paths that name a sensitive file ([`is_sensitive_path`]: dotfiles such as `.git` and
//!   `.env`, `..`, backups, SQL dumps, configuration, source, databases, keys and template
//!   sources), however they are encoded (`%2e%2e`, `%252e`, backslashes), get the generic
//!   `404` page;
//! - an error answer without a body (axum's own `405`, a file handler's `404`) or with one of
//!   axum's plain-text rejection messages (a bad path parameter, an unreadable form: they name
//!   types and fields) is replaced by the generic error page with the same status, so no
//!   framework message reaches a visitor (HD-2). Baspa's own plain-text messages ("the form
//!   expired; reload the page") are kept.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::headers::RequestId;
use crate::{SiteError, SiteState, pages};

/// The methods Baspa answers; everything else is refused. No route takes PUT, PATCH or DELETE
/// (the admin's changes are form POSTs); the mobile API will add them for its own paths.
const ALLOWED_METHODS: &[Method] = &[Method::GET, Method::HEAD, Method::POST, Method::OPTIONS];

/// Extensions never served, whatever the folder: backups and editor leftovers, dumps and
/// databases, configuration, source code, keys, logs and template sources.
const SENSITIVE_EXTENSIONS: &[&str] = &[
    "bak", "backup", "old", "orig", "save", "swp", "swo", "tmp", "sql", "dump", "sqlite", "sqlite3", "db", "mdb",
    "toml", "ini", "cfg", "conf", "config", "env", "yml", "yaml", "lock", "log", "rs", "py", "php", "sh", "pl", "rb",
    "go", "java", "pem", "key", "p12", "pfx", "ftl", "j2", "jinja", "tmpl", "tpl", "twig", "mmdb",
];

/// How axum's extractor rejections begin (`Form`, `Query`, `Path`, `Json`, `Multipart`, body
/// limits, missing extensions).
const FRAMEWORK_MESSAGES: &[&str] = &[
    "Failed to ",
    "Invalid URL",
    "Invalid `boundary`",
    "Error parsing",
    "Expected request with",
    "Form requests must",
    "Missing request extension",
    "Wrong number of path",
    "No paths parameters",
    "Cannot parse",
    "Request body didn't",
    "Extension of type",
    "length limit exceeded",
];

pub async fn refuse(State(state): State<SiteState>, req: Request, next: Next) -> Response {
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    if !ALLOWED_METHODS.contains(req.method()) {
        let mut res = pages::error_page(&state, None, &SiteError::Refused(StatusCode::METHOD_NOT_ALLOWED), &request_id);
        res.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD, POST"));
        return res;
    }
    if is_sensitive_path(req.uri().path()) {
        return pages::error_page(&state, None, &SiteError::NotFound, &request_id);
    }
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let content_type = res.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap_or("?").to_owned());
    let is_plain_text = content_type.as_deref().is_some_and(|t| t.starts_with("text/plain"));
    if content_type.is_some() && !is_plain_text {
        return res;
    }
    let (parts, body) = res.into_parts();
    if is_plain_text {
        let Ok(bytes) = axum::body::to_bytes(body, 16 * 1024).await else {
            return pages::error_page(&state, None, &SiteError::Refused(status), &request_id);
        };
        let text = String::from_utf8_lossy(&bytes);
        if !FRAMEWORK_MESSAGES.iter().any(|m| text.starts_with(m)) {
            return Response::from_parts(parts, axum::body::Body::from(bytes));
        }
    }
    let mut page = pages::error_page(&state, None, &SiteError::Refused(status), &request_id);
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            page.headers_mut().append(name, value.clone());
        }
    }
    page
}

/// Whether a request path names something that is never served. The path is percent-decoded
/// until it stops changing (so `%252e` counts as `.`) and backslashes count as `/`.
pub fn is_sensitive_path(raw: &str) -> bool {
    let mut path = raw.to_owned();
    for _ in 0..4 {
        let decoded = percent_decode(&path);
        if decoded == path {
            break;
        }
        path = decoded;
    }
    if path.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return true;
    }
    let path = path.replace('\\', "/").to_ascii_lowercase();
    path.split('/').any(|segment| {
        let is_dotted = segment.starts_with('.') && segment != ".well-known";
        let is_leftover = segment.ends_with('~') || segment.ends_with('#');
        let extension = segment.rsplit_once('.').map(|(_, ext)| ext.trim_end_matches(|c: char| !c.is_alphanumeric()));
        is_dotted || is_leftover || extension.is_some_and(|ext| SENSITIVE_EXTENSIONS.contains(&ext))
    })
}

/// `%XX` sequences decoded (invalid ones kept as they are); invalid UTF-8 becomes U+FFFD.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) =
                (bytes.get(i + 1).and_then(|b| hex(*b)), bytes.get(i + 2).and_then(|b| hex(*b)))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hd3_sensitive_paths_are_recognised_however_encoded() {
        for path in [
            "/.git/config",
            "/.env",
            "/ru/.env",
            "/backup.sql",
            "/index.php.bak",
            "/baspa.toml",
            "/Cargo.toml",
            "/src/main.rs",
            "/data/baspa.sqlite",
            "/theme/base.html~",
            "/locales/kk/main.ftl",
            "/%2e%2e/%2e%2e/etc/passwd",
            "/%252e%252e/secret",
            "/media/..%5c..%5cbaspa.toml",
            "/theme/..\\..\\x",
            "/theme/%2Eenv",
            "/x.toml%00.css",
            "/.DS_Store",
            "/admin/.htpasswd",
            "/..;/admin",
        ] {
            assert!(is_sensitive_path(path), "{path}");
        }
        for path in [
            "/",
            "/ru/",
            "/en/news/some-article",
            "/sitemap.xml",
            "/robots.txt",
            "/ru/rss.xml",
            "/media/3f9a0c2e.webp",
            "/theme/site.css",
            "/.well-known/security.txt",
            "/admin/assets/ckeditor.js",
            "/search",
        ] {
            assert!(!is_sensitive_path(path), "{path}");
        }
    }
}
