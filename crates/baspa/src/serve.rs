//! Wiring for `baspa serve`: connect, migrate, build the routers, listen.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use baspa_site::SiteState;
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
        geoip: match &config.site.geoip_db {
            Some(path) => Some(Arc::new(
                baspa_site::geoip::GeoIp::open(path, config.site.geoip_languages.clone())
                    .map_err(anyhow::Error::msg)?,
            )),
            None => None,
        },
    })
}

/// Listens and serves until Ctrl-C. `ready` is called with the bound address once accepting.
pub async fn serve(
    config: &Config,
    db: DatabaseConnection,
    started: Instant,
    ready: impl FnOnce(std::net::SocketAddr),
) -> anyhow::Result<()> {
    let app = baspa_site::router(site_state(config, db)?);
    let listener = tokio::net::TcpListener::bind(&config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, startup_ms = started.elapsed().as_millis() as u64, "serving");
    ready(addr);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
