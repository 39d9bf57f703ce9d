//! `spawn_app`: the real public router on 127.0.0.1:0 over a test database, plus a plain HTTP
//! client that lets tests set the `Host` header (language routing depends on it), and stepped
//! jobs (`run_pending_jobs`) feeding the app's own search index.

use std::path::PathBuf;
use std::sync::Arc;

use baspa_site::SiteState;
use baspa_site::search::SiteSearch;

use crate::TestDb;

pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub db: TestDb,
    pub media_dir: PathBuf,
    /// This app's own search index (in memory unless `AppOptions::search_dir` is set).
    pub search: Arc<SiteSearch>,
    /// The admin settings the app runs with (the alert mailer reads them).
    pub admin: Arc<baspa_site::admin::AdminConfig>,
    /// This app's anomaly monitor (`settle`, `flush_events`, `scan_journal` in tests).
    pub monitor: Arc<baspa_site::monitor::Monitor>,
    /// This app's page cache (off unless `AppOptions::cache` set it).
    pub cache: Arc<baspa_site::page_cache::PageCache>,
    client: reqwest::Client,
    _media: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
    listener_task: tokio::task::JoinHandle<()>,
}

pub struct TestResponse {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl TestResponse {
    async fn read(res: reqwest::Response) -> Self {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.text().await.unwrap_or_default();
        TestResponse { status, headers, body }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body with the HTML escapes of `/` undone, for readable assertions on URLs.
    pub fn text(&self) -> String {
        self.body.replace("&#x2f;", "/").replace("&amp;", "&")
    }
}

pub async fn spawn_app(db: TestDb) -> TestApp {
    spawn_app_with(db, AppOptions::default()).await
}

/// What a test may add to the default app.
#[derive(Default)]
pub struct AppOptions {
    /// A GeoIP database (see `crate::geoip_fixture`).
    pub geoip: Option<baspa_site::geoip::GeoIp>,
    /// A theme folder replacing embedded templates, with `assets/` served under `/theme/`.
    pub theme_dir: Option<PathBuf>,
    /// Admin settings; the default is `/admin` with the default sign-in policy.
    pub admin: Option<baspa_site::admin::AdminConfig>,
    /// Keep the search index in this directory instead of memory (to test what happens to the
    /// files).
    pub search_dir: Option<PathBuf>,
    /// Monitor thresholds; the default is the configuration's defaults.
    pub monitor: Option<baspa_site::monitor::MonitorConfig>,
    /// Proxies whose `X-Forwarded-For` is believed, e.g. `["127.0.0.1/32"]` to let a test
    /// speak for many client addresses from loopback.
    pub trusted_proxies: Vec<String>,
    /// The page cache; the default renders every request, so tests that change content and
    /// read it back need no purge step. Cache tests turn it on (and may share Redis).
    pub cache: Option<baspa_site::page_cache::PageCacheConfig>,
    /// A deliberately broken build (`Server: baspa/<version>`, `X-Powered-By`), only to prove
    /// that the security probes in `tests/probes.rs` catch what they look for.
    pub insecure_for_probe_test: bool,
    /// URLs per sitemap file; the default is `baspa_site::SITEMAP_PART_URLS`.
    pub sitemap_part_urls: Option<u64>,
}

pub async fn spawn_app_with(db: TestDb, options: AppOptions) -> TestApp {
    let AppOptions {
        geoip,
        theme_dir,
        admin,
        search_dir,
        monitor,
        trusted_proxies,
        insecure_for_probe_test,
        cache,
        sitemap_part_urls,
    } = options;
    let cache = Arc::new(
        baspa_site::page_cache::PageCache::new(cache.unwrap_or_else(baspa_site::page_cache::PageCacheConfig::disabled))
            .expect("page cache"),
    );
    let listener_task = tokio::spawn(cache.clone().listen_for_purges());
    let monitor = Arc::new(baspa_site::monitor::Monitor::new(monitor.unwrap_or_default()));
    let media = tempfile::tempdir().expect("media dir");
    // A `media` folder inside the temporary one, so the upload quarantine (its sibling) stays
    // inside the temporary folder too.
    let media_dir = media.path().join("media");
    std::fs::create_dir_all(&media_dir).expect("media dir");
    let search = Arc::new(match search_dir {
        Some(dir) => SiteSearch::open(dir).expect("search index"),
        None => SiteSearch::in_memory(),
    });
    let state = SiteState {
        db: db.db.clone(),
        renderer: baspa_render::Renderer::with_theme_dir(theme_dir.as_deref()).expect("templates"),
        media_dir: Arc::new(media_dir.clone()),
        site_name: Arc::from("Baspa test"),
        geoip: geoip.map(Arc::new),
        theme_assets: theme_dir.map(|d| Arc::new(d.join("assets"))),
        admin: Arc::new(admin.unwrap_or_default()),
        search: Some(search.clone()),
        proxies: Arc::new(baspa_site::client::TrustedProxies::parse(&trusted_proxies).expect("trusted proxies")),
        monitor: monitor.clone(),
        cache: cache.clone(),
        languages: Arc::new(baspa_site::page_cache::Memo::new(std::time::Duration::from_secs(30))),
        sitemap_part_urls: sitemap_part_urls.unwrap_or(baspa_site::SITEMAP_PART_URLS),
    };
    let admin = state.admin.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = if insecure_for_probe_test {
        baspa_site::router_insecure_for_probe_test(state)
    } else {
        baspa_site::router(state)
    };
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await;
    });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .expect("client");
    TestApp { addr, media_dir, search, admin, monitor, cache, db, client, _media: media, server, listener_task }
}

impl TestApp {
    /// Does what the server's background tasks do, once: repairs or fills the search index if it
    /// needs it, then runs every due job (search indexing included). Returns the jobs run.
    pub async fn run_pending_jobs(&self) -> usize {
        self.search.maintain(&self.db.db).await.expect("search upkeep");
        let runner = baspa_site::search::with_search_jobs(
            baspa_actions::jobs::JobRunner::new("test").with_media_dir(self.media_dir.clone()),
            self.search.clone(),
        );
        let runner = baspa_site::alerts::with_alert_jobs(runner, self.admin.clone());
        let runner = baspa_site::page_cache::with_cache_jobs(runner, self.cache.clone());
        let ran = runner.run_due(&self.db.db, baspa_domain::time::now()).await.expect("jobs");
        // A `search.reindex` job only asks; the upkeep does it.
        self.search.maintain(&self.db.db).await.expect("search upkeep");
        ran
    }

    /// GET `path` with the given `Host` header.
    pub async fn get(&self, host: &str, path: &str) -> TestResponse {
        self.get_with(host, path, &[]).await
    }

    /// GET with extra request headers (`Accept-Language`, `Cookie`, `User-Agent` …).
    pub async fn get_with(&self, host: &str, path: &str, headers: &[(&str, &str)]) -> TestResponse {
        let mut req = self.client.get(format!("http://{}{}", self.addr, path)).header("host", host);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        TestResponse::read(req.send().await.expect("request")).await
    }
}

impl TestApp {
    /// POST a form (`application/x-www-form-urlencoded`) with extra headers; redirects are not
    /// followed.
    pub async fn post_form(
        &self,
        host: &str,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut req = self.client.post(format!("http://{}{}", self.addr, path)).header("host", host).form(form);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        TestResponse::read(req.send().await.expect("request")).await
    }
}

impl TestApp {
    /// POST `multipart/form-data` with text fields and one file field named `file`.
    pub async fn post_file(
        &self,
        host: &str,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, Vec<u8>),
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in fields {
            form = form.text((*k).to_owned(), (*v).to_owned());
        }
        form = form.part("file", reqwest::multipart::Part::bytes(file.1).file_name(file.0.to_owned()));
        let mut req = self.client.post(format!("http://{}{}", self.addr, path)).header("host", host).multipart(form);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        TestResponse::read(req.send().await.expect("request")).await
    }
}

impl TestResponse {
    /// The `name=value` of a `Set-Cookie` header for this cookie, and the whole header line.
    pub fn set_cookie(&self, name: &str) -> Option<(String, String)> {
        self.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|line| {
            let pair = line.split(';').next()?.trim();
            pair.starts_with(&format!("{name}=")).then(|| (pair.to_owned(), line.to_owned()))
        })
    }

    /// The value of a hidden input in the page (`name="…" value="…"`).
    pub fn hidden(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')?;
        // Undo the template's HTML escaping, as a browser does when it submits the form.
        let raw = &self.body[start..start + end];
        Some(raw.replace("&#x2f;", "/").replace("&#x27;", "'").replace("&quot;", "\"").replace("&amp;", "&"))
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        self.listener_task.abort();
    }
}
