//! Baspa's public site: language routing by host or path prefix (ML-2), home, sections, entries,
//! pages, tags, search (`search`, `/search`), redirects from old URLs, media files, security
//! headers and generic error pages; and the staff admin (`admin`) at its configurable path.
//!
//! The full public site (detection, switcher fallbacks, SEO) is built on this in later issues.

pub mod admin;
pub mod alerts;
pub mod audit;
mod cached_answers;
pub mod client;
mod comments;
mod error;
mod feeds;
pub mod geoip;
mod guard;
mod headers;
mod mail;
pub mod monitor;
#[doc(hidden)]
pub mod negotiate;
pub mod page_cache;
mod pages;
mod routing;
pub mod search;
mod search_page;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use baspa_render::Renderer;
use sea_orm::DatabaseConnection;

pub use error::SiteError;
#[doc(hidden)]
pub use guard::is_sensitive_path;
pub use headers::ServedOverTls;

/// What the public router needs. The binary builds it from the configuration.
#[derive(Clone)]
pub struct SiteState {
    pub db: DatabaseConnection,
    pub renderer: Renderer,
    pub media_dir: Arc<PathBuf>,
    pub site_name: Arc<str>,
    /// Country lookup for first visits (ML-3); `None` when no database is configured.
    pub geoip: Option<Arc<geoip::GeoIp>>,
    /// `assets/` of the configured theme folder, served under `/theme/`.
    pub theme_assets: Option<Arc<PathBuf>>,
    /// The staff admin's path, sign-in policy, cookie flags and mail settings.
    pub admin: Arc<admin::AdminConfig>,
    /// The node's search index (`/search`, the admin's search); `None` turns search off.
    pub search: Option<Arc<search::SiteSearch>>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (HD-10); empty by default.
    pub proxies: Arc<client::TrustedProxies>,
    /// Anomaly monitoring, throttling and blocks (SC-7); default thresholds by default.
    pub monitor: Arc<monitor::Monitor>,
    /// The page cache (PF-2); `PageCache::disabled()` renders every request.
    pub cache: Arc<page_cache::PageCache>,
    /// The enabled languages, remembered between requests (`page_cache::Memo`).
    pub languages: Arc<page_cache::Memo<Vec<baspa_domain::LanguageSpec>>>,
    /// URLs per sitemap file: [`SITEMAP_PART_URLS`] (tests make parts small to see the split).
    pub sitemap_part_urls: u64,
}

pub use feeds::SITEMAP_PART_URLS;

/// The public router with its security layers.
pub fn router(state: SiteState) -> Router {
    let public = Router::new()
        .route("/comment", axum::routing::post(comments::post_comment))
        .route("/media/{key}", axum::routing::get(pages::media_file))
        .route("/theme/{file}", axum::routing::get(pages::theme_asset))
        .fallback(pages::any_page)
        .with_state(state.clone());
    let monitor = axum::middleware::from_fn_with_state(state.clone(), monitor::watch);
    // Refused methods and sensitive paths (HD-3, HD-8) before any handler; HSTS and `Secure`
    // cookies under HTTPS (HD-5, HD-9).
    let guard = axum::middleware::from_fn_with_state(state.clone(), guard::refuse);
    let transport = axum::middleware::from_fn_with_state(state.proxies.clone(), headers::transport_security);
    let cached_answers = cached_answers::CachedAnswersLayer::new(state.clone());
    let site = admin::router(state)
        .merge(public)
        .layer(guard)
        .layer(monitor)
        .layer(transport)
        .layer(axum::middleware::from_fn(headers::security_headers));
    // Outermost, around the whole router rather than each route (`Router::layer` would clone the
    // layered stack per request): a fresh cached page is answered before routing and every layer.
    Router::new().fallback_service(tower::Layer::layer(&cached_answers, site))
}

/// Test-only (feature `probe-self-test`): the router with the version headers put back, a
/// deliberately broken build for proving that the security probes can fail (issue 6).
#[cfg(feature = "probe-self-test")]
pub fn router_insecure_for_probe_test(state: SiteState) -> Router {
    router(state).layer(axum::middleware::from_fn(headers::insecure_for_probe_test))
}
