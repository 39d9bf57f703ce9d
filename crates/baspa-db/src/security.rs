//! Storage of the security functions (issue 5): integrity seals (SC-5), journal anchors (SC-6),
//! incidents (HD-11) and hourly security-event counters (SC-7).

use baspa_domain::Timestamp;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use serde_json::Value;

use crate::StoreError;
use crate::entity::{incident, integrity_seal, journal_anchor, security_event};

// ---- integrity seals ----

pub struct NewSeal<'a> {
    pub subject_kind: &'a str,
    pub subject_id: i64,
    pub seal: &'a str,
    pub revision_id: Option<i64>,
    pub journal_id: i64,
    pub snapshot: Option<Value>,
}

/// The active (not retired) seal of a subject.
pub async fn active_seal(
    db: &impl ConnectionTrait,
    subject_kind: &str,
    subject_id: i64,
) -> Result<Option<integrity_seal::Model>, StoreError> {
    Ok(integrity_seal::Entity::find()
        .filter(integrity_seal::Column::SubjectKind.eq(subject_kind))
        .filter(integrity_seal::Column::SubjectId.eq(subject_id))
        .filter(integrity_seal::Column::RetiredAt.is_null())
        .order_by_desc(integrity_seal::Column::Id)
        .one(db)
        .await?)
}

pub async fn insert_seal(
    db: &impl ConnectionTrait,
    new: NewSeal<'_>,
    now: Timestamp,
) -> Result<integrity_seal::Model, StoreError> {
    Ok(integrity_seal::ActiveModel {
        subject_kind: Set(new.subject_kind.to_owned()),
        subject_id: Set(new.subject_id),
        seal: Set(new.seal.to_owned()),
        revision_id: Set(new.revision_id),
        journal_id: Set(new.journal_id),
        snapshot: Set(new.snapshot),
        sealed_at: Set(now),
        retired_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Retires every active seal of a subject (it was unpublished, superseded or deleted by an action).
pub async fn retire_seals(
    db: &impl ConnectionTrait,
    subject_kind: &str,
    subject_id: i64,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let result = integrity_seal::Entity::update_many()
        .col_expr(integrity_seal::Column::RetiredAt, Expr::value(now))
        .filter(integrity_seal::Column::SubjectKind.eq(subject_kind))
        .filter(integrity_seal::Column::SubjectId.eq(subject_id))
        .filter(integrity_seal::Column::RetiredAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Every active seal, in id order (the integrity check walks them all).
pub async fn active_seals(db: &impl ConnectionTrait) -> Result<Vec<integrity_seal::Model>, StoreError> {
    Ok(integrity_seal::Entity::find()
        .filter(integrity_seal::Column::RetiredAt.is_null())
        .order_by_asc(integrity_seal::Column::Id)
        .all(db)
        .await?)
}

/// Every seal (active or retired) recorded by journal entries up to `journal_id`, in id order.
/// Seal rows are never deleted and their hashes never change, so this set is fixed once the
/// journal has moved past `journal_id` (a prune records its digest).
pub async fn seals_through(
    db: &impl ConnectionTrait,
    journal_id: i64,
) -> Result<Vec<integrity_seal::Model>, StoreError> {
    Ok(integrity_seal::Entity::find()
        .filter(integrity_seal::Column::JournalId.lte(journal_id))
        .order_by_asc(integrity_seal::Column::Id)
        .all(db)
        .await?)
}

pub async fn get_seal(db: &impl ConnectionTrait, id: i64) -> Result<integrity_seal::Model, StoreError> {
    integrity_seal::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("integrity seal {id}")))
}

// ---- journal anchors ----

pub async fn insert_anchor(
    db: &impl ConnectionTrait,
    anchor: journal_anchor::Model,
) -> Result<journal_anchor::Model, StoreError> {
    Ok(journal_anchor::ActiveModel {
        journal_id: Set(anchor.journal_id),
        head_hash: Set(anchor.head_hash),
        entries: Set(anchor.entries),
        signature: Set(anchor.signature),
        created_at: Set(anchor.created_at),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn latest_anchor(db: &impl ConnectionTrait) -> Result<Option<journal_anchor::Model>, StoreError> {
    Ok(journal_anchor::Entity::find().order_by_desc(journal_anchor::Column::Id).one(db).await?)
}

// ---- incidents ----

pub struct NewIncident<'a> {
    pub cause: &'a str,
    pub category: &'a str,
    pub severity: &'a str,
    pub summary: &'a str,
    pub details: Option<Value>,
}

/// The open (unresolved) incident of a cause, locked for update where the backend can.
pub async fn open_incident(db: &impl ConnectionTrait, cause: &str) -> Result<Option<incident::Model>, StoreError> {
    Ok(incident::Entity::find()
        .filter(incident::Column::Cause.eq(cause))
        .filter(incident::Column::ResolvedAt.is_null())
        .order_by_desc(incident::Column::Id)
        .one(db)
        .await?)
}

pub async fn insert_incident(
    db: &impl ConnectionTrait,
    new: NewIncident<'_>,
    now: Timestamp,
) -> Result<incident::Model, StoreError> {
    Ok(incident::ActiveModel {
        cause: Set(new.cause.chars().take(191).collect()),
        category: Set(new.category.to_owned()),
        severity: Set(new.severity.to_owned()),
        summary: Set(new.summary.to_owned()),
        details: Set(new.details),
        first_seen: Set(now),
        last_seen: Set(now),
        occurrences: Set(1),
        notified_at: Set(None),
        resolved_at: Set(None),
        resolved_by: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Counts one more occurrence of an open incident without reading it first (no lost updates).
pub async fn count_occurrence(db: &impl ConnectionTrait, id: i64, now: Timestamp) -> Result<(), StoreError> {
    incident::Entity::update_many()
        .col_expr(incident::Column::Occurrences, Expr::col(incident::Column::Occurrences).add(1))
        .col_expr(incident::Column::LastSeen, Expr::value(now))
        .filter(incident::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn get_incident(db: &impl ConnectionTrait, id: i64) -> Result<incident::Model, StoreError> {
    incident::Entity::find_by_id(id).one(db).await?.ok_or_else(|| StoreError::NotFound(format!("incident {id}")))
}

pub async fn save_incident(db: &impl ConnectionTrait, row: incident::Model) -> Result<incident::Model, StoreError> {
    let active: incident::ActiveModel = row.into();
    Ok(active.reset_all().update(db).await?)
}

/// Incidents seen since `since`, newest first, open ones before resolved ones.
pub async fn recent_incidents(
    db: &impl ConnectionTrait,
    since: Timestamp,
    limit: u64,
) -> Result<Vec<incident::Model>, StoreError> {
    Ok(incident::Entity::find()
        .filter(incident::Column::LastSeen.gte(since))
        .order_by_asc(incident::Column::ResolvedAt.is_not_null())
        .order_by_desc(incident::Column::LastSeen)
        .limit(limit)
        .all(db)
        .await?)
}

pub async fn open_incident_count(db: &impl ConnectionTrait) -> Result<u64, StoreError> {
    Ok(incident::Entity::find().filter(incident::Column::ResolvedAt.is_null()).count(db).await?)
}

// ---- security events ----

/// Adds `events` to the counter of `kind` for the hour that starts at `hour`.
pub async fn add_events(db: &impl ConnectionTrait, hour: Timestamp, kind: &str, events: i64) -> Result<(), StoreError> {
    let row = security_event::ActiveModel {
        hour: Set(hour),
        kind: Set(kind.chars().take(64).collect()),
        events: Set(events),
        ..Default::default()
    };
    security_event::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([security_event::Column::Hour, security_event::Column::Kind])
                .value(
                    security_event::Column::Events,
                    Expr::col((security_event::Entity, security_event::Column::Events)).add(events),
                )
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Event counts per kind since `since`, summed.
pub async fn event_totals(db: &impl ConnectionTrait, since: Timestamp) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = security_event::Entity::find().filter(security_event::Column::Hour.gte(since)).all(db).await?;
    let mut totals: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for row in rows {
        *totals.entry(row.kind).or_default() += row.events;
    }
    Ok(totals.into_iter().collect())
}
