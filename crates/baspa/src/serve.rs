//! Wiring for `baspa serve`: connect, migrate, build the routers, listen.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use baspa_site::SiteState;
use baspa_site::search::SiteSearch;
use sea_orm::DatabaseConnection;

use crate::config::Config;

pub async fn open_database(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let url = config.database_url();
    let db = baspa_db::connect(&url).await?;
    baspa_db::migrate(&db, &url).await?;
    Ok(db)
}

pub fn site_state(config: &Config, db: DatabaseConnection) -> anyhow::Result<SiteState> {
    Ok(SiteState {
        db,
        renderer: baspa_render::Renderer::with_theme_dir(config.site.theme_dir.as_deref())?,
        media_dir: Arc::new(config.media_dir()),
        site_name: Arc::from(config.site.name.as_str()),
        theme_assets: config.site.theme_dir.as_ref().map(|d| Arc::new(d.join("assets"))),
        admin: Arc::new(admin_config(config)?),
        search: Some(Arc::new(open_search(config))),
        proxies: Arc::new(
            baspa_site::client::TrustedProxies::parse(&config.security.trusted_proxies)
                .map_err(|e| anyhow::anyhow!("security.trusted_proxies: {e}"))?,
        ),
        monitor: Arc::new(baspa_site::monitor::Monitor::new(config.security.monitor())),
        cache: Arc::new(baspa_site::page_cache::PageCache::new(config.cache.page_cache()).map_err(anyhow::Error::msg)?),
        languages: Arc::new(baspa_site::page_cache::Memo::new(std::time::Duration::from_secs(30))),
        sitemap_part_urls: baspa_site::SITEMAP_PART_URLS,
        geoip: match &config.site.geoip_db {
            Some(path) => Some(Arc::new(
                baspa_site::geoip::GeoIp::open(path, config.site.geoip_languages.clone())
                    .map_err(anyhow::Error::msg)?,
            )),
            None => None,
        },
    })
}

/// The search index in `<data_dir>/search`. It never stops start-up: a missing or corrupt index
/// opens empty and is re-indexed in the background, and one that cannot be opened at all is
/// retried by the upkeep task while the site serves without search results.
pub fn open_search(config: &Config) -> SiteSearch {
    let dir = baspa_search::index_dir(&config.storage.data_dir);
    match SiteSearch::open(dir.clone()) {
        Ok(search) => search,
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "search index unavailable; retrying in the background");
            SiteSearch::unopened(dir)
        }
    }
}

/// The admin's settings, checked: a bad path or role name stops start-up with the reason.
pub fn admin_config(config: &Config) -> anyhow::Result<baspa_site::admin::AdminConfig> {
    let a = &config.admin;
    let path_ok = a.path.len() > 1
        && a.path.starts_with('/')
        && !a.path.ends_with('/')
        && a.path[1..]
            .split('/')
            .all(|seg| !seg.is_empty() && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    if !path_ok {
        anyhow::bail!("admin.path {:?}: use a path like /admin (letters, digits, - and _; no trailing /)", a.path);
    }
    let mut roles = Vec::new();
    for r in &a.second_factor_roles {
        roles.push(baspa_domain::Role::parse(r).map_err(|e| anyhow::anyhow!("admin.second_factor_roles: {e}"))?);
    }
    if a.session_hours < 1 || a.max_failures_per_account < 1 || a.max_failures_per_ip < 1 {
        anyhow::bail!("admin.session_hours and the admin.max_failures_* limits must be at least 1");
    }
    let sessions = if a.redis_url.0.trim().is_empty() {
        baspa_actions::sessions::SessionStore::Db
    } else {
        let redis = baspa_actions::sessions::RedisSessions::new(a.redis_url.0.trim(), &a.redis_prefix)
            .map_err(|e| anyhow::anyhow!("admin.redis_url: {e}"))?;
        baspa_actions::sessions::SessionStore::Redis(Arc::new(redis))
    };
    let policy = baspa_actions::auth::SignInPolicy {
        max_failures_per_account: a.max_failures_per_account,
        max_failures_per_ip: a.max_failures_per_ip,
        session_lifetime: chrono::Duration::hours(a.session_hours),
        second_factor_roles: roles,
        issuer: config.site.name.clone(),
        sessions,
        ..Default::default()
    };
    let mail = (!a.smtp_url.trim().is_empty())
        .then(|| baspa_site::admin::MailConfig { smtp_url: a.smtp_url.clone(), from: a.mail_from.clone() });
    if a.max_upload_mb < 1 {
        anyhow::bail!("admin.max_upload_mb must be at least 1");
    }
    Ok(baspa_site::admin::AdminConfig {
        path: a.path.clone(),
        policy,
        // Direct TLS implies HTTPS-only cookies (`Secure`, `__Host-`), HD-5.
        secure_cookies: a.https || config.server.tls_cert.is_some(),
        mail,
        max_upload_bytes: a.max_upload_mb.saturating_mul(1 << 20),
        clamd: baspa_actions::clamd::Clamd::parse(&a.clamd).map_err(|e| anyhow::anyhow!("admin.clamd: {e}"))?,
        advisory_db: config.security.advisory_db.clone(),
        alert_to: config.security.alert_to.clone(),
        anchors: Some(anchor_keeper(config)?),
        backup_next_runs: crate::backup::NEXT_RUNS.clone(),
    })
}

/// The journal's anchor key and log in the data directory (SC-6). The key never enters the
/// database, so someone who can edit the database cannot forge an anchor.
pub fn anchor_keeper(config: &Config) -> anyhow::Result<baspa_actions::integrity::AnchorKeeper> {
    baspa_actions::integrity::AnchorKeeper::open(&config.storage.data_dir)
        .with_context(|| format!("journal anchors in {}", config.storage.data_dir.display()))
}

/// What the integrity check looks at.
pub fn integrity_paths(config: &Config) -> anyhow::Result<baspa_actions::integrity::IntegrityPaths> {
    Ok(baspa_actions::integrity::IntegrityPaths {
        media_dir: config.media_dir(),
        anchors: Some(anchor_keeper(config)?),
    })
}

/// Checks published content, media and the journal every `security.integrity_check_minutes`
/// (SC-5), raising an incident on the first detection of each difference; with
/// `security.journal_retention_days` set, prunes older journal entries after a clean check
/// (the prune is journalled with the hash it pruned to, SC-6).
fn spawn_integrity_check(
    db: DatabaseConnection,
    paths: baspa_actions::integrity::IntegrityPaths,
    minutes: u64,
    retention_days: u32,
) {
    if minutes == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(minutes.saturating_mul(60)));
        let retention = baspa_actions::Actor::system("retention");
        loop {
            tick.tick().await;
            match baspa_actions::integrity::run_scheduled_check(&db, &paths).await {
                Ok((report, opened)) if !report.findings.is_empty() => {
                    tracing::error!(findings = report.findings.len(), new_incidents = opened, "integrity check failed");
                }
                Ok(_) if retention_days > 0 => {
                    let ctx = baspa_actions::Ctx::new(&db, &retention);
                    let before = ctx.now - chrono::Duration::days(i64::from(retention_days));
                    match baspa_actions::change_journal::prune_journal(&ctx, before).await {
                        Ok(outcome) if outcome.removed > 0 => {
                            tracing::info!(removed = outcome.removed, "journal pruned by retention")
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "journal retention prune failed; retrying next time"),
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "integrity check could not run; retrying next time"),
            }
        }
    });
}

/// Every 10 s: writes the monitor's event counts, reads new journal entries for unusual staff
/// actions and forgets idle addresses (SC-7). Starts after the journal's current head, so a
/// restart does not report old history again.
fn spawn_monitor(db: DatabaseConnection, monitor: Arc<baspa_site::monitor::Monitor>) {
    tokio::spawn(async move {
        if let Err(e) = monitor.skip_journal_history(&db).await {
            tracing::warn!(error = %e, "monitor: journal head unavailable; scanning from the start");
        }
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
        loop {
            tick.tick().await;
            if let Err(e) = monitor.flush_events(&db).await {
                tracing::warn!(error = %e, "monitor: event counts not written; retrying");
            }
            if let Err(e) = monitor.scan_journal(&db).await {
                tracing::warn!(error = %e, "monitor: journal scan failed; retrying");
            }
            monitor.prune(std::time::Instant::now());
        }
    });
}

/// How often the job runner and the search upkeep look for work: a published text is searchable
/// about this long after the click.
const TICK: std::time::Duration = std::time::Duration::from_secs(2);

/// Runs due jobs (scheduled publishing and unpublishing, search indexing …) every few seconds in
/// the background.
fn spawn_job_runner(
    db: DatabaseConnection,
    config: &Config,
    search: Option<Arc<SiteSearch>>,
    admin: Arc<baspa_site::admin::AdminConfig>,
    cache: Arc<baspa_site::page_cache::PageCache>,
) {
    let worker = format!("node-{}", std::process::id());
    let runner = baspa_actions::jobs::JobRunner::new(&worker).with_media(config.media_dir(), config.media.quality());
    let runner = baspa_site::page_cache::with_cache_jobs(runner, cache);
    let mut runner = baspa_site::alerts::with_alert_jobs(runner, admin);
    if let Some(search) = search {
        runner = baspa_site::search::with_search_jobs(runner, search);
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        loop {
            tick.tick().await;
            if let Err(e) = runner.run_due(&db, baspa_domain::time::now()).await {
                tracing::warn!(error = %e, "job runner: database unavailable, retrying");
            }
        }
    });
}

/// Keeps the search index whole in the background: the first re-index after start-up (when the
/// index was missing or corrupt) and any rebuild after a fault. Separate from the job runner so
/// a long re-index does not hold up scheduled publishing.
fn spawn_search_upkeep(db: DatabaseConnection, search: Arc<SiteSearch>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        let mut failures: u32 = 0;
        loop {
            tick.tick().await;
            match search.maintain(&db).await {
                Ok(Some(report)) => {
                    failures = 0;
                    tracing::info!(
                        items = report.items,
                        texts = report.texts,
                        ms = report.elapsed.as_millis() as u64,
                        "search index rebuilt from the database"
                    );
                }
                Ok(None) => failures = 0,
                Err(e) => {
                    failures = failures.saturating_add(1);
                    // A lasting fault (a full disk) is retried every tick but logged at 1, 2, 4, 8 …
                    if failures.is_power_of_two() {
                        tracing::warn!(error = %e, failures, "search index upkeep failed; retrying");
                    }
                }
            }
        }
    });
}

/// Listens and serves until Ctrl-C. `ready` is called with the bound address once accepting.
pub async fn serve(
    config: &Config,
    db: DatabaseConnection,
    started: Instant,
    ready: impl FnOnce(std::net::SocketAddr),
) -> anyhow::Result<()> {
    let tls = crate::tls::from_config(&config.server)?;
    let state = site_state(config, db.clone())?;
    if let Some(search) = &state.search {
        spawn_search_upkeep(db.clone(), search.clone());
    }
    spawn_integrity_check(
        db.clone(),
        integrity_paths(config)?,
        config.security.integrity_check_minutes,
        config.security.journal_retention_days,
    );
    spawn_monitor(db.clone(), state.monitor.clone());
    spawn_job_runner(db, config, state.search.clone(), state.admin.clone(), state.cache.clone());
    tokio::spawn(state.cache.clone().listen_for_purges());
    let app = baspa_site::router(state);
    let listener = tokio::net::TcpListener::bind(&config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let redirect = match (&config.server.redirect_http, &tls) {
        (Some(addr), Some(_)) => {
            Some(tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?)
        }
        _ => None,
    };
    let addr = listener.local_addr()?;
    tracing::info!(%addr, tls = tls.is_some(), startup_ms = started.elapsed().as_millis() as u64, "serving");
    ready(addr);
    serve_app(app, listener, tls, redirect, config.server.http_threads, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// Serves `app` on `listener` until `shutdown` completes: HTTPS when `tls` is given (HSTS on
/// every response, `Secure` on every cookie), and then optionally the plain-HTTP `redirect`
/// listener that sends everything to HTTPS (HD-9). Tests call this with their own listeners.
///
/// Requests are served by `threads` OS threads (0: one per core), each running its own
/// single-threaded runtime: the nginx worker model. The caller's runtime accepts and hands each
/// connection to the thread with the fewest open ones (`accept`); a connection then stays on
/// that thread, so a cached answer never pays for a cross-thread wake-up or work stealing
/// (issue 7 measured the multi-threaded runtime at 0.73× nginx). Background work stays on the
/// caller's runtime.
pub async fn serve_app(
    app: axum::Router,
    listener: tokio::net::TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    redirect: Option<tokio::net::TcpListener>,
    threads: usize,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = match (&tls, redirect) {
        (None, _) => app,
        (Some(_), None) => app.layer(axum::Extension(baspa_site::ServedOverTls)),
        (Some(_), Some(plain)) => {
            let port = listener.local_addr()?.port();
            tracing::info!(addr = %plain.local_addr()?, "redirecting plain HTTP to HTTPS");
            tokio::spawn(async move {
                if let Err(e) = axum::serve(plain, crate::tls::redirect_router(port)).await {
                    tracing::error!(error = %e, "the plain-HTTP redirect stopped");
                }
            });
            app.layer(axum::Extension(baspa_site::ServedOverTls))
        }
    };
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let spread = crate::accept::Spread::new(threads);
    let (accepting, listeners) = crate::accept::spread_connections(listener, spread);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut workers = tokio::task::JoinSet::new();
    for (number, listener) in listeners.into_iter().enumerate() {
        let (app, tls, mut stopped) = (app.clone(), tls.clone(), stopped.clone());
        let (done, finished) = tokio::sync::oneshot::channel();
        std::thread::Builder::new().name(format!("baspa-http-{number}")).spawn(move || {
            let served = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(anyhow::Error::from)
                .and_then(|runtime| {
                    runtime.block_on(serve_on_this_thread(app, listener, tls, async move {
                        let _ = stopped.wait_for(|stop| *stop).await;
                    }))
                });
            let _ = done.send(served);
        })?;
        workers
            .spawn(async move { finished.await.unwrap_or_else(|_| Err(anyhow::anyhow!("a serving thread panicked"))) });
    }
    // A thread that stops on its own (it cannot accept any more) stops the server too.
    let first = tokio::select! {
        () = shutdown => None,
        Some(ended) = workers.join_next() => Some(ended),
    };
    let _ = stop.send(true);
    accepting.abort();
    let mut ended = Vec::from_iter(first);
    while let Some(one) = workers.join_next().await {
        ended.push(one);
    }
    // Every thread is waited for; the first failure is the answer.
    ended.into_iter().try_for_each(|one| one.map_err(anyhow::Error::from).and_then(|served| served))
}

/// One serving thread's part of [`serve_app`]: the connections handed to it.
async fn serve_on_this_thread(
    app: axum::Router,
    listener: crate::accept::ThreadListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use axum::serve::ListenerExt;
    let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    // `tap_io` gives any listener axum's `ConnectInfo<SocketAddr>` (client addresses, HD-10).
    match tls {
        None => axum::serve(listener.tap_io(|_| {}), service).with_graceful_shutdown(shutdown).await?,
        Some(tls) => {
            let listener = crate::tls::TlsListener::new(listener, tls)?.tap_io(|_| {});
            axum::serve(listener, service).with_graceful_shutdown(shutdown).await?
        }
    }
    Ok(())
}
