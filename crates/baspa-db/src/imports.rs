//! The import map (MG-6): lookups and writes of `import_map` rows for the importer's actions.

use baspa_domain::Timestamp;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::StoreError;
use crate::entity::import_map;

pub struct NewMapping<'a> {
    pub source: &'a str,
    pub object_kind: &'a str,
    pub source_id: i64,
    pub source_status: &'a str,
    pub target_kind: &'a str,
    pub target_id: i64,
    pub target_lang: Option<&'a str>,
    pub checksum: &'a str,
}

/// Every mapping of one source, in source order.
pub async fn of_source(db: &impl ConnectionTrait, source: &str) -> Result<Vec<import_map::Model>, StoreError> {
    Ok(import_map::Entity::find()
        .filter(import_map::Column::Source.eq(source))
        .order_by_asc(import_map::Column::ObjectKind)
        .order_by_asc(import_map::Column::SourceId)
        .all(db)
        .await?)
}

pub async fn find(
    db: &impl ConnectionTrait,
    source: &str,
    object_kind: &str,
    source_id: i64,
) -> Result<Option<import_map::Model>, StoreError> {
    Ok(import_map::Entity::find()
        .filter(import_map::Column::Source.eq(source))
        .filter(import_map::Column::ObjectKind.eq(object_kind))
        .filter(import_map::Column::SourceId.eq(source_id))
        .one(db)
        .await?)
}

/// Inserts the mapping, or updates status, target and checksum of an existing one.
pub async fn upsert(
    db: &impl ConnectionTrait,
    new: NewMapping<'_>,
    now: Timestamp,
) -> Result<import_map::Model, StoreError> {
    if let Some(row) = find(db, new.source, new.object_kind, new.source_id).await? {
        let mut active: import_map::ActiveModel = row.into();
        active.source_status = Set(new.source_status.to_owned());
        active.target_kind = Set(new.target_kind.to_owned());
        active.target_id = Set(new.target_id);
        active.target_lang = Set(new.target_lang.map(str::to_owned));
        active.checksum = Set(new.checksum.to_owned());
        active.imported_at = Set(now);
        return Ok(active.update(db).await?);
    }
    Ok(import_map::ActiveModel {
        source: Set(new.source.to_owned()),
        object_kind: Set(new.object_kind.to_owned()),
        source_id: Set(new.source_id),
        source_status: Set(new.source_status.to_owned()),
        target_kind: Set(new.target_kind.to_owned()),
        target_id: Set(new.target_id),
        target_lang: Set(new.target_lang.map(str::to_owned)),
        checksum: Set(new.checksum.to_owned()),
        imported_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}
