//! Entity for the `journal_anchors` table: the journal's chain head at a moment, signed with the
//! server's key (SC-6). A copy of each anchor also goes to a file outside the database.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "journal_anchors")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub journal_id: i64,
    pub head_hash: String,
    pub entries: i64,
    pub signature: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
