//! Security headers on every response (HD-8, HD-9): a CSP with a per-request nonce, no framing,
//! no sniffing, a strict referrer policy; and never a `Server` or `X-Powered-By` header.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The CSP nonce of this request, generated before the handler runs so templates can use it.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// A request id for logs and error pages.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

fn random_token(bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    raw.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn security_headers(mut req: Request, next: Next) -> Response {
    let nonce = random_token(16);
    let request_id = random_token(8);
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let csp = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; \
         frame-src https://www.youtube-nocookie.com https://www.youtube.com https://player.vimeo.com"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    );
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert("x-request-id", v);
    }
    h.remove(header::SERVER);
    h.remove("x-powered-by");
    res
}
