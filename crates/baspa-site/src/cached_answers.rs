//! The cached-answer fast path (PF-1, PF-2): the outermost layer of the public router answers a
//! fresh page from this node's page cache before routing, extractors or the other layers run.
//!
//! It does only what a cached page needs from them, in the same order:
//! - the monitor counts the request and may refuse it (SC-7: a blocked address stays blocked);
//! - HSTS under HTTPS (HD-9); a cached page sets no cookie, so there is none to mark `Secure`;
//! - the fixed security headers and a request id (HD-8); the page's own hash-based CSP;
//! - `304 Not Modified`, brotli or gzip (`page_cache::respond`).
//!
//! The guard's refusals (methods, sensitive paths) need no check: only `GET` and `HEAD` come
//! here, and a page is in the cache only if the guard let its path through when it was rendered.
//! The main domain's home is an entry point whose answer depends on the visitor's languages: it is
//! answered here, from its own key (`pages::NEGOTIATED`), only to a visitor who does not ask for
//! another language. Everything else — a miss, a stale page, a page kept in Redis only, a visitor
//! to redirect — goes down the normal path, which gives the same answer more slowly.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use futures_util::future::Either;

use crate::SiteState;
use crate::client::ClientAddr;
use crate::page_cache::{Freshness, respond};
use crate::routing::{self, Resolution};

/// Wraps the public router (`crate::router`).
#[derive(Clone)]
pub struct CachedAnswersLayer {
    /// Behind one `Arc`: the service is cloned for every request.
    state: Arc<SiteState>,
}

impl CachedAnswersLayer {
    pub fn new(state: SiteState) -> Self {
        Self { state: Arc::new(state) }
    }
}

impl<S> tower::Layer<S> for CachedAnswersLayer {
    type Service = CachedAnswers<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CachedAnswers { inner, state: self.state.clone() }
    }
}

#[derive(Clone)]
pub struct CachedAnswers<S> {
    inner: S,
    state: Arc<SiteState>,
}

impl<S> tower::Service<Request> for CachedAnswers<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<std::future::Ready<Result<Response, Infallible>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        match answer_from_cache(&self.state, &req) {
            Some(res) => Either::Left(std::future::ready(Ok(res))),
            None => Either::Right(self.inner.call(req)),
        }
    }
}

/// The whole answer for `req` when this node holds its page fresh; `None` sends the request
/// down the normal path.
fn answer_from_cache(state: &SiteState, req: &Request) -> Option<Response> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) || !state.cache.is_enabled() {
        return None;
    }
    let headers = req.headers();
    let query = req.uri().query().unwrap_or_default();
    // `/search` is never cached, so the inner path the normal path checks is not needed here.
    if !crate::pages::is_cacheable_request(headers, "", query) {
        return None;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let path = req.uri().path();
    let mut key = crate::pages::page_cache_key(host, path, crate::pages::page_number(req.uri().query()));
    let is_entry_point = path == "/" && is_entry_point_for_this_visitor(state, req, host)?;
    if is_entry_point {
        key.push_str(crate::pages::NEGOTIATED);
    }
    // A cached page's answer carries the fixed security headers already (`CachedPage::prepare`).
    let mut res = state.cache.answer_fresh_local(&key, |page| match crate::monitor::admit(state, req) {
        Ok(_) => {
            let mut res = respond(page, headers, Freshness::Hit);
            if is_entry_point {
                crate::pages::vary_on_languages(&mut res);
            }
            res
        }
        Err(refused) => {
            let mut refused = refused.into_response();
            let csp = crate::headers::content_security_policy(None, &Default::default());
            if let Ok(v) = HeaderValue::from_str(&csp) {
                refused.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
            }
            crate::headers::add_security_headers(refused.headers_mut());
            refused
        }
    })?;
    if crate::headers::is_https(req, &state.proxies) {
        res.headers_mut().insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(crate::headers::HSTS));
    }
    crate::headers::add_new_request_id(res.headers_mut());
    Some(res)
}

/// Whether the home at `host` is an entry point (`pages::is_entry_point`) whose answer for this
/// visitor is the page itself, found under the entry point's key; `None` sends the request down
/// the normal path: a visitor who asks for another language is redirected there, and languages
/// not known fresh are loaded there.
fn is_entry_point_for_this_visitor(state: &SiteState, req: &Request, host: &str) -> Option<bool> {
    let languages = state.languages.fresh(&state.cache)?;
    let Some(Resolution::Serve { lang, path }) = routing::resolve(&languages, host, "/") else {
        // A prefix-routed root redirects (or, for a crawler, is the entry point): the normal path.
        return None;
    };
    if !crate::pages::is_entry_point(lang, &path) {
        return Some(false);
    }
    let client = ClientAddr::from_request(req.extensions(), req.headers(), &state.proxies);
    let wanted = crate::pages::visitor_language(state, &languages, req.headers(), client.0);
    wanted.is_none_or(|wanted| wanted.code == lang.code).then_some(true)
}
