//! The durable job queue table. Actions enqueue follow-up work (search indexing, cache purge,
//! scheduled publishing) inside their own transaction, so a change and its follow-up commit or
//! roll back together. The worker that claims jobs arrives with the jobs issue.

use baspa_domain::{JobId, JobStatus, Timestamp};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use serde_json::Value;

use crate::entity::job;

/// Enqueues a job unless one with the same dedupe key is still queued.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    kind: &str,
    payload: Value,
    dedupe_key: Option<String>,
    run_at: Timestamp,
) -> Result<JobId, DbErr> {
    if let Some(key) = &dedupe_key {
        let existing = job::Entity::find()
            .filter(job::Column::DedupeKey.eq(key.as_str()))
            .filter(job::Column::Status.eq(JobStatus::Queued.as_str()))
            .one(db)
            .await?;
        if let Some(existing) = existing {
            let earlier = existing.run_at.min(run_at);
            let id = existing.id;
            let mut active: job::ActiveModel = existing.into();
            active.run_at = Set(earlier);
            active.update(db).await?;
            return Ok(JobId(id));
        }
    }
    let saved = job::ActiveModel {
        kind: Set(kind.to_owned()),
        payload: Set(payload),
        dedupe_key: Set(dedupe_key),
        status: Set(JobStatus::Queued.as_str().to_owned()),
        run_at: Set(run_at),
        attempts: Set(0),
        max_attempts: Set(5),
        locked_by: Set(None),
        locked_until: Set(None),
        last_error: Set(None),
        created_at: Set(run_at.min(baspa_domain::time::now())),
        updated_at: Set(baspa_domain::time::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(JobId(saved.id))
}

/// Queued jobs of a kind, oldest first (for tests and the admin's queue view).
pub async fn queued(db: &impl ConnectionTrait, kind: &str) -> Result<Vec<job::Model>, DbErr> {
    use sea_orm::QueryOrder;
    job::Entity::find()
        .filter(job::Column::Kind.eq(kind))
        .filter(job::Column::Status.eq(JobStatus::Queued.as_str()))
        .order_by_asc(job::Column::Id)
        .all(db)
        .await
}
