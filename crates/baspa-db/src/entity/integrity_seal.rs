//! Entity for the `integrity_seals` table: the recorded hash of a published translation or a
//! media file (SC-5), with the journal entry that recorded it and a snapshot to restore from.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "integrity_seals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `translation` or `media`.
    pub subject_kind: String,
    pub subject_id: i64,
    pub seal: String,
    pub revision_id: Option<i64>,
    pub journal_id: i64,
    pub snapshot: Option<Json>,
    pub sealed_at: DateTimeUtc,
    pub retired_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
