//! Security headers on every response (HD-8, HD-9): a CSP with a per-request nonce, no framing,
//! no sniffing, a strict referrer policy; and never a `Server` or `X-Powered-By` header.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The CSP nonce of this request, generated before the handler runs so templates can use it.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// A request id for logs and error pages.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// 128 random bits as 32 hex digits: a CSP nonce.
fn new_nonce() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// 64 random bits as 16 hex digits: random rather than counted, so ids do not tell an outsider
/// how busy the site is.
pub(crate) fn new_request_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

pub async fn security_headers(mut req: Request, next: Next) -> Response {
    let nonce = new_nonce();
    let request_id = new_request_id();
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let mut res = next.run(req).await;
    // A cached page brings its own policy (hashes computed when it was cached, since a nonce
    // cannot change inside a stored body); every other page gets this request's nonce plus the
    // hashes of its inline blocks, so public templates need no nonce attribute.
    if !res.headers().contains_key(header::CONTENT_SECURITY_POLICY) {
        let is_plain_html = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/html"))
            && !res.headers().contains_key(header::CONTENT_ENCODING);
        let hashes = if is_plain_html {
            let (parts, body) = res.into_parts();
            let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024).await.unwrap_or_default();
            let hashes = inline_hashes(&bytes);
            res = Response::from_parts(parts, axum::body::Body::from(bytes));
            hashes
        } else {
            InlineHashes::default()
        };
        if let Ok(v) = HeaderValue::from_str(&content_security_policy(Some(&nonce), &hashes)) {
            res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
    add_fixed_headers(res.headers_mut(), &request_id);
    res
}

/// Header names spelled once: a name given as a string is parsed again on every response.
const PERMISSIONS_POLICY: HeaderName = HeaderName::from_static("permissions-policy");
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const X_POWERED_BY: HeaderName = HeaderName::from_static("x-powered-by");

/// The headers every response carries whatever made it (the page cache's answers included).
pub(crate) fn add_fixed_headers(h: &mut axum::http::HeaderMap, request_id: &str) {
    add_security_headers(h);
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert(X_REQUEST_ID, v);
    }
}

/// The fixed headers but the request id: a cached page carries them from the start
/// (`page_cache::CachedPage::prepare`), so its answers only add the id.
pub(crate) fn add_security_headers(h: &mut axum::http::HeaderMap) {
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    h.insert(
        PERMISSIONS_POLICY,
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    );
    h.remove(header::SERVER);
    h.remove(X_POWERED_BY);
}

/// A new request id (`new_request_id`) as the `X-Request-Id` header.
pub(crate) fn add_new_request_id(h: &mut axum::http::HeaderMap) {
    if let Ok(v) = HeaderValue::from_str(&new_request_id()) {
        h.insert(X_REQUEST_ID, v);
    }
}

/// `'sha256-…'` sources for the inline `<script>` and `<style>` blocks of a page.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct InlineHashes {
    pub scripts: Vec<String>,
    pub styles: Vec<String>,
}

/// Hashes every inline script (not JSON-LD or other data blocks, which never run) and style
/// block of an HTML page, for a CSP that allows exactly them (CSP3 hash sources).
pub fn inline_hashes(html: &[u8]) -> InlineHashes {
    use base64::Engine as _;
    use sha2::Digest as _;
    let mut out = InlineHashes::default();
    let text = String::from_utf8_lossy(html);
    let lower = text.to_ascii_lowercase();
    for (element, is_script) in [("style", false), ("script", true)] {
        let open = format!("<{element}");
        let close = format!("</{element}");
        let mut from = 0;
        while let Some(at) = lower[from..].find(&open).map(|i| i + from) {
            let Some(tag_end) = lower[at..].find('>').map(|i| i + at) else { break };
            let tag = &lower[at..tag_end];
            let after_name = tag.as_bytes().get(open.len()).copied();
            if !matches!(after_name, None | Some(b' ' | b'>' | b'\t' | b'\n' | b'/')) {
                from = tag_end;
                continue;
            }
            let Some(end) = lower[tag_end..].find(&close).map(|i| i + tag_end) else { break };
            let is_data_block =
                is_script && tag.contains("type=") && !tag.contains("javascript") && !tag.contains("module");
            let has_src = is_script && tag.contains(" src=");
            if !is_data_block && !has_src {
                let content = &text.as_bytes()[tag_end + 1..end];
                let digest = sha2::Sha256::digest(content);
                let source = format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest));
                let list = if is_script { &mut out.scripts } else { &mut out.styles };
                if !list.contains(&source) {
                    list.push(source);
                }
            }
            from = end;
        }
    }
    out
}

/// The site's CSP: only our own origin, plus this request's nonce when there is one and the
/// hashes of the page's inline blocks.
pub fn content_security_policy(nonce: Option<&str>, hashes: &InlineHashes) -> String {
    let nonce = nonce.map(|n| format!(" 'nonce-{n}'")).unwrap_or_default();
    let scripts: String = hashes.scripts.iter().map(|h| format!(" {h}")).collect();
    let styles: String = hashes.styles.iter().map(|h| format!(" {h}")).collect();
    format!(
        "default-src 'self'; script-src 'self'{nonce}{scripts}; style-src 'self'{nonce}{styles}; img-src 'self' data:; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; \
         frame-src https://www.youtube-nocookie.com https://www.youtube.com https://player.vimeo.com"
    )
}

/// Test-only: puts back the `Server` and `X-Powered-By` headers that `security_headers` removes,
/// so the probe suite can show that its version-disclosure probe catches them (issue 6). Never
/// compiled into a release build: the `probe-self-test` feature is enabled by the test kit alone.
#[cfg(feature = "probe-self-test")]
pub async fn insecure_for_probe_test(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("baspa/{}", env!("CARGO_PKG_VERSION"))) {
        h.insert(header::SERVER, v);
    }
    h.insert("x-powered-by", HeaderValue::from_static("axum (Rust)"));
    res
}

/// Marks requests that arrived over Baspa's own TLS listener (`baspa serve` with `server.tls_*`);
/// the binary adds it as a request extension.
#[derive(Clone, Copy, Debug)]
pub struct ServedOverTls;

/// The HSTS value sent on every HTTPS response (HD-9).
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Whether the visitor's connection is HTTPS: Baspa's own TLS, or `X-Forwarded-Proto: https`
/// from a configured trusted proxy (the right-most value, the one the nearest proxy wrote). The
/// header from anyone else is ignored, since any client can send it.
pub fn is_https(req: &Request, proxies: &crate::client::TrustedProxies) -> bool {
    if req.extensions().get::<ServedOverTls>().is_some() {
        return true;
    }
    let peer = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    if !peer.is_some_and(|ip| proxies.contains(ip)) {
        return false;
    }
    let proto = req.headers().get_all("x-forwarded-proto").iter().filter_map(|v| v.to_str().ok()).next_back();
    proto.and_then(|p| p.rsplit(',').next()).is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

/// Under HTTPS: `Strict-Transport-Security` on every response and `Secure` on every cookie that
/// lacks it (the language cookie as much as the admin's), HD-5 and HD-9.
pub async fn transport_security(
    axum::extract::State(proxies): axum::extract::State<std::sync::Arc<crate::client::TrustedProxies>>,
    req: Request,
    next: Next,
) -> Response {
    let is_https = is_https(&req, &proxies);
    let mut res = next.run(req).await;
    if !is_https {
        return res;
    }
    let h = res.headers_mut();
    h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    let cookies: Vec<HeaderValue> = h.get_all(header::SET_COOKIE).iter().cloned().collect();
    if cookies.iter().any(|c| !has_secure_flag(c)) {
        h.remove(header::SET_COOKIE);
        for c in cookies {
            let secured = if has_secure_flag(&c) {
                Some(c)
            } else {
                c.to_str().ok().and_then(|s| HeaderValue::from_str(&format!("{s}; Secure")).ok())
            };
            if let Some(v) = secured {
                h.append(header::SET_COOKIE, v);
            }
        }
    }
    res
}

fn has_secure_flag(cookie: &HeaderValue) -> bool {
    cookie.to_str().is_ok_and(|s| s.split(';').skip(1).any(|attr| attr.trim().eq_ignore_ascii_case("secure")))
}
