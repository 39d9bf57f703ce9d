//! Storage for backups and database upkeep (BK-3, BK-4): the `backup_runs` journal and the
//! deletions of obsolete rows (expired sessions, finished jobs, old counters, revisions beyond
//! the policy). Called only from the actions in `baspa_actions::upkeep`.

use baspa_domain::{JobStatus, Timestamp};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::Value;

use crate::entity::{
    backup_run, job, login_throttle, media, media_variant, password_reset, revision, security_event, session,
    translation,
};

pub struct NewRun<'a> {
    pub kind: &'a str,
    pub ok: bool,
    pub archive: Option<&'a str>,
    pub summary: &'a str,
    pub details: Option<Value>,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
}

pub async fn insert_run(db: &impl ConnectionTrait, new: NewRun<'_>) -> Result<backup_run::Model, DbErr> {
    backup_run::ActiveModel {
        kind: Set(new.kind.to_owned()),
        status: Set(if new.ok { "ok" } else { "failed" }.to_owned()),
        archive: Set(new.archive.map(str::to_owned)),
        summary: Set(new.summary.to_owned()),
        details: Set(new.details),
        started_at: Set(new.started_at),
        finished_at: Set(new.finished_at),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// The newest runs, newest first (the admin's backup journal).
pub async fn recent_runs(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<backup_run::Model>, DbErr> {
    backup_run::Entity::find().order_by_desc(backup_run::Column::Id).limit(limit).all(db).await
}

/// The newest successful run of a kind (the dashboard's "last good backup").
pub async fn last_ok(db: &impl ConnectionTrait, kind: &str) -> Result<Option<backup_run::Model>, DbErr> {
    backup_run::Entity::find()
        .filter(backup_run::Column::Kind.eq(kind))
        .filter(backup_run::Column::Status.eq("ok"))
        .order_by_desc(backup_run::Column::Id)
        .one(db)
        .await
}

/// Sessions that expired or were revoked before `before`.
pub async fn delete_dead_sessions(db: &impl ConnectionTrait, before: Timestamp) -> Result<u64, DbErr> {
    let res = session::Entity::delete_many()
        .filter(Condition::any().add(session::Column::ExpiresAt.lt(before)).add(session::Column::RevokedAt.lt(before)))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Password-reset tokens that expired before `before` (used or not).
pub async fn delete_dead_resets(db: &impl ConnectionTrait, before: Timestamp) -> Result<u64, DbErr> {
    let res =
        password_reset::Entity::delete_many().filter(password_reset::Column::ExpiresAt.lt(before)).exec(db).await?;
    Ok(res.rows_affected)
}

/// Throttle counters whose window and lock both ended before `before`.
pub async fn delete_stale_throttles(db: &impl ConnectionTrait, before: Timestamp) -> Result<u64, DbErr> {
    let res = login_throttle::Entity::delete_many()
        .filter(login_throttle::Column::WindowStartedAt.lt(before))
        .filter(
            Condition::any()
                .add(login_throttle::Column::LockedUntil.is_null())
                .add(login_throttle::Column::LockedUntil.lt(before)),
        )
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Jobs that finished (done or failed for good) before `before`.
pub async fn delete_finished_jobs(db: &impl ConnectionTrait, before: Timestamp) -> Result<u64, DbErr> {
    let res = job::Entity::delete_many()
        .filter(job::Column::Status.is_in([JobStatus::Done.as_str(), JobStatus::Failed.as_str()]))
        .filter(job::Column::UpdatedAt.lt(before))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Hourly anonymous counters older than `before`.
pub async fn delete_old_event_counts(db: &impl ConnectionTrait, before: Timestamp) -> Result<u64, DbErr> {
    let res = security_event::Entity::delete_many().filter(security_event::Column::Hour.lt(before)).exec(db).await?;
    Ok(res.rows_affected)
}

/// Deletes revisions beyond the newest `keep` of each translation, never a translation's live
/// (published) or latest revision, nor one an active integrity seal refers to.
pub async fn delete_revisions_beyond(db: &impl ConnectionTrait, keep: u32) -> Result<u64, DbErr> {
    use crate::entity::integrity_seal;
    let mut protected: std::collections::HashSet<i64> = std::collections::HashSet::new();
    let pins: Vec<(Option<i64>, Option<i64>)> = translation::Entity::find()
        .select_only()
        .column(translation::Column::LiveRevisionId)
        .column(translation::Column::LatestRevisionId)
        .into_tuple()
        .all(db)
        .await?;
    for (live, latest) in pins {
        protected.extend(live);
        protected.extend(latest);
    }
    let sealed: Vec<Option<i64>> = integrity_seal::Entity::find()
        .select_only()
        .column(integrity_seal::Column::RevisionId)
        .filter(integrity_seal::Column::RetiredAt.is_null())
        .into_tuple()
        .all(db)
        .await?;
    protected.extend(sealed.into_iter().flatten());
    let all: Vec<(i64, i64)> = revision::Entity::find()
        .select_only()
        .column(revision::Column::Id)
        .column(revision::Column::TranslationId)
        .order_by_asc(revision::Column::TranslationId)
        .order_by_desc(revision::Column::Number)
        .into_tuple()
        .all(db)
        .await?;
    let mut doomed = Vec::new();
    let mut current = None;
    let mut seen = 0u32;
    for (id, translation_id) in all {
        if current != Some(translation_id) {
            current = Some(translation_id);
            seen = 0;
        }
        seen += 1;
        if seen > keep && !protected.contains(&id) {
            doomed.push(id);
        }
    }
    let mut removed = 0;
    for chunk in doomed.chunks(500) {
        let res = revision::Entity::delete_many()
            .filter(Expr::col(revision::Column::Id).is_in(chunk.iter().copied()))
            .exec(db)
            .await?;
        removed += res.rows_affected;
    }
    Ok(removed)
}

/// Every storage key the database knows (media and their variants), to find orphaned files.
pub async fn media_storage_keys(db: &impl ConnectionTrait) -> Result<std::collections::HashSet<String>, DbErr> {
    let mut keys: std::collections::HashSet<String> = media::Entity::find()
        .select_only()
        .column(media::Column::StorageKey)
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let variants: Vec<String> = media_variant::Entity::find()
        .select_only()
        .column(media_variant::Column::StorageKey)
        .into_tuple()
        .all(db)
        .await?;
    keys.extend(variants);
    Ok(keys)
}

/// Runs finished in `[from, until)`, oldest first (the monthly report, OP-3).
pub async fn runs_between(
    db: &impl ConnectionTrait,
    from: Timestamp,
    until: Timestamp,
) -> Result<Vec<backup_run::Model>, DbErr> {
    backup_run::Entity::find()
        .filter(backup_run::Column::FinishedAt.gte(from))
        .filter(backup_run::Column::FinishedAt.lt(until))
        .order_by_asc(backup_run::Column::Id)
        .all(db)
        .await
}

/// Journal entries per action in `[from, until)` (the monthly report's "changes", OP-3).
pub async fn journal_counts_between(
    db: &impl ConnectionTrait,
    from: Timestamp,
    until: Timestamp,
) -> Result<Vec<(String, i64)>, DbErr> {
    use crate::entity::journal_entry;
    use sea_orm::sea_query::Asterisk;
    journal_entry::Entity::find()
        .select_only()
        .column(journal_entry::Column::Action)
        .expr(Expr::col(Asterisk).count())
        .filter(journal_entry::Column::At.gte(from))
        .filter(journal_entry::Column::At.lt(until))
        .group_by(journal_entry::Column::Action)
        .order_by_asc(journal_entry::Column::Action)
        .into_tuple()
        .all(db)
        .await
}

/// Hourly security-event totals per kind in `[from, until)` (requests refused, probes…).
pub async fn event_totals_between(
    db: &impl ConnectionTrait,
    from: Timestamp,
    until: Timestamp,
) -> Result<Vec<(String, i64)>, DbErr> {
    let rows = security_event::Entity::find()
        .filter(security_event::Column::Hour.gte(from))
        .filter(security_event::Column::Hour.lt(until))
        .all(db)
        .await?;
    let mut totals: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for row in rows {
        *totals.entry(row.kind).or_default() += row.events;
    }
    Ok(totals.into_iter().collect())
}

/// Incidents first seen in `[from, until)`.
pub async fn incidents_between(
    db: &impl ConnectionTrait,
    from: Timestamp,
    until: Timestamp,
) -> Result<Vec<crate::entity::incident::Model>, DbErr> {
    use crate::entity::incident;
    incident::Entity::find()
        .filter(incident::Column::FirstSeen.gte(from))
        .filter(incident::Column::FirstSeen.lt(until))
        .order_by_asc(incident::Column::Id)
        .all(db)
        .await
}
