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

/// How long a claimed job stays locked before another worker may take it over.
const LOCK_SECONDS: i64 = 300;

/// Claims up to `limit` due jobs of the given kinds for `worker`. Each claim is a conditional
/// update (`WHERE status = 'queued'`, or a running job whose lock expired), so two nodes never
/// run the same job; no backend-specific `SKIP LOCKED` needed.
pub async fn claim_due(
    db: &impl ConnectionTrait,
    worker: &str,
    kinds: &[&str],
    now: Timestamp,
    limit: u64,
) -> Result<Vec<job::Model>, DbErr> {
    use sea_orm::sea_query::Expr;
    use sea_orm::{Condition, QueryOrder, QuerySelect};
    let claimable = || {
        Condition::any().add(job::Column::Status.eq(JobStatus::Queued.as_str())).add(
            Condition::all()
                .add(job::Column::Status.eq(JobStatus::Running.as_str()))
                .add(job::Column::LockedUntil.lt(now)),
        )
    };
    let candidates = job::Entity::find()
        .filter(job::Column::Kind.is_in(kinds.iter().copied()))
        .filter(job::Column::RunAt.lte(now))
        .filter(claimable())
        .order_by_asc(job::Column::RunAt)
        .order_by_asc(job::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let mut claimed = Vec::new();
    for candidate in candidates {
        let until = now + chrono::Duration::seconds(LOCK_SECONDS);
        let res = job::Entity::update_many()
            .col_expr(job::Column::Status, Expr::value(JobStatus::Running.as_str()))
            .col_expr(job::Column::LockedBy, Expr::value(worker))
            .col_expr(job::Column::LockedUntil, Expr::value(until))
            .col_expr(job::Column::Attempts, Expr::value(candidate.attempts + 1))
            .col_expr(job::Column::UpdatedAt, Expr::value(now))
            .filter(job::Column::Id.eq(candidate.id))
            .filter(claimable())
            .exec(db)
            .await?;
        if res.rows_affected == 1 {
            let mut row = candidate;
            row.status = JobStatus::Running.as_str().to_owned();
            row.attempts += 1;
            claimed.push(row);
        }
    }
    Ok(claimed)
}

/// Marks a claimed job done.
pub async fn finish(db: &impl ConnectionTrait, id: JobId, now: Timestamp) -> Result<(), DbErr> {
    set_outcome(db, id, JobStatus::Done, None, None, now).await
}

/// Records a failure: retried later with backoff while attempts remain, else failed for good.
pub async fn fail(
    db: &impl ConnectionTrait,
    job: &job::Model,
    error: &str,
    retry: bool,
    now: Timestamp,
) -> Result<(), DbErr> {
    let error: String = error.chars().take(2000).collect();
    if retry && job.attempts < job.max_attempts {
        let backoff = chrono::Duration::seconds(30 * i64::from(job.attempts.max(1)).pow(2));
        set_outcome(db, JobId(job.id), JobStatus::Queued, Some(error), Some(now + backoff), now).await
    } else {
        set_outcome(db, JobId(job.id), JobStatus::Failed, Some(error), None, now).await
    }
}

async fn set_outcome(
    db: &impl ConnectionTrait,
    id: JobId,
    status: JobStatus,
    error: Option<String>,
    run_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<(), DbErr> {
    let Some(row) = job::Entity::find_by_id(id.0).one(db).await? else { return Ok(()) };
    let mut active: job::ActiveModel = row.into();
    active.status = Set(status.as_str().to_owned());
    active.locked_by = Set(None);
    active.locked_until = Set(None);
    active.updated_at = Set(now);
    if error.is_some() {
        active.last_error = Set(error);
    }
    if let Some(at) = run_at {
        active.run_at = Set(at);
    }
    active.update(db).await?;
    Ok(())
}
