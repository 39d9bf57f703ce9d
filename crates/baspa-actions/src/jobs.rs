//! The job runner: claims due jobs from the table and runs each through the same actions a
//! person would use, as the system actor "scheduler" (so the journal says who did it). Any
//! node may run it; claims are conditional updates, so a job runs once.
//!
//! Kinds handled here: `content.publish` and `content.unpublish` (scheduled by editors),
//! `cache.purge` and `sitemap.rebuild` (nothing to do while pages and sitemaps are rendered per
//! request; the page-cache issue gives them work). The `search.*` handlers need the node's
//! search index, so the site crate adds them (`baspa_site::search::with_search_jobs`, through
//! [`JobRunner::with_handler`]); a runner without them leaves those jobs queued.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use baspa_db::entity::job;
use baspa_db::{DatabaseConnection, content as store, jobs};
use baspa_domain::{ContentStatus, JobId, Timestamp, TranslationId};

use crate::{ActionError, Actor, Ctx};

/// A job handler: returns `Err((message, retry))` on failure.
pub type Handler = Arc<
    dyn Fn(DatabaseConnection, job::Model) -> Pin<Box<dyn Future<Output = Result<(), (String, bool)>> + Send>>
        + Send
        + Sync,
>;

#[derive(Clone)]
pub struct JobRunner {
    worker: String,
    handlers: HashMap<&'static str, Handler>,
}

fn translation_of(job: &job::Model) -> Result<TranslationId, (String, bool)> {
    job.payload
        .get("translation_id")
        .and_then(|v| v.as_i64())
        .map(TranslationId)
        .ok_or_else(|| ("payload has no translation_id".to_owned(), false))
}

fn outcome(result: Result<(), ActionError>) -> Result<(), (String, bool)> {
    result.map_err(|e| {
        let retry = matches!(e, ActionError::Internal(_));
        (e.to_string(), retry)
    })
}

async fn scheduled_publish(db: DatabaseConnection, job: job::Model) -> Result<(), (String, bool)> {
    let id = translation_of(&job)?;
    let row = store::get_translation(&db, id).await.map_err(|e| (e.to_string(), false))?;
    // Unscheduled, published by hand or trashed since: nothing left to do.
    if row.status != ContentStatus::Scheduled.as_str() {
        return Ok(());
    }
    let actor = Actor::system("scheduler");
    outcome(crate::publish_translation(&Ctx::new(&db, &actor), id, None).await)
}

async fn scheduled_unpublish(db: DatabaseConnection, job: job::Model) -> Result<(), (String, bool)> {
    let id = translation_of(&job)?;
    let row = store::get_translation(&db, id).await.map_err(|e| (e.to_string(), false))?;
    if row.status != ContentStatus::Published.as_str() || row.unpublish_at.is_none() {
        return Ok(());
    }
    let actor = Actor::system("scheduler");
    outcome(crate::unpublish_translation(&Ctx::new(&db, &actor), id, None).await)
}

/// Makes the WebP variants of an uploaded image (`crate::variants`) at the default quality;
/// the binary's runner passes the configured one through [`JobRunner::with_media`].
async fn image_variants(
    db: DatabaseConnection,
    job: job::Model,
    dir: &std::path::Path,
    quality: f32,
) -> Result<(), (String, bool)> {
    let id =
        job.payload.get("media_id").and_then(|v| v.as_i64()).ok_or(("payload has no media_id".to_owned(), false))?;
    let actor = Actor::system("scheduler");
    let made =
        crate::variants::make_webp_variants(&Ctx::new(&db, &actor), dir, baspa_domain::MediaId(id), quality).await;
    outcome(made.map(|_| ()))
}

fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(DatabaseConnection, job::Model) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), (String, bool)>> + Send + 'static,
{
    Arc::new(move |db, job| Box::pin(f(db, job)))
}

impl JobRunner {
    pub fn new(worker: &str) -> Self {
        let mut handlers: HashMap<&'static str, Handler> = HashMap::new();
        handlers.insert("content.publish", handler(scheduled_publish));
        handlers.insert("content.unpublish", handler(scheduled_unpublish));
        handlers.insert("cache.purge", handler(|_, _| async { Ok(()) }));
        handlers.insert("sitemap.rebuild", handler(|_, _| async { Ok(()) }));
        Self { worker: worker.to_owned(), handlers }
    }

    /// Generates the WebP variants of uploaded images into `media_dir` (`media.variants`).
    pub fn with_media_dir(self, media_dir: std::path::PathBuf) -> Self {
        self.with_media(media_dir, baspa_media::DEFAULT_QUALITY)
    }

    /// As [`Self::with_media_dir`], at WebP `quality` (0–100).
    pub fn with_media(self, media_dir: std::path::PathBuf, quality: f32) -> Self {
        let dir = Arc::new(media_dir);
        self.with_handler(
            "media.variants",
            handler(move |db, job| {
                let dir = dir.clone();
                async move { image_variants(db, job, &dir, quality).await }
            }),
        )
    }

    /// Adds or replaces the handler of a job kind.
    pub fn with_handler(mut self, kind: &'static str, h: Handler) -> Self {
        self.handlers.insert(kind, h);
        self
    }

    /// Runs every job due at `now`; returns how many ran (successfully or not).
    pub async fn run_due(&self, db: &DatabaseConnection, now: Timestamp) -> Result<usize, baspa_db::DbErr> {
        let kinds: Vec<&str> = self.handlers.keys().copied().collect();
        let mut ran = 0;
        loop {
            let batch = jobs::claim_due(db, &self.worker, &kinds, now, 50).await?;
            if batch.is_empty() {
                return Ok(ran);
            }
            for job in batch {
                ran += 1;
                let Some(h) = self.handlers.get(job.kind.as_str()) else { continue };
                match h(db.clone(), job.clone()).await {
                    Ok(()) => jobs::finish(db, JobId(job.id), now).await?,
                    Err((message, retry)) => {
                        tracing::warn!(job = job.id, kind = %job.kind, error = %message, "job failed");
                        jobs::fail(db, &job, &message, retry, now).await?;
                    }
                }
            }
        }
    }
}
