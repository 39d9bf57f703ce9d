//! Entity for the `redirects` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "redirects")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub host: String,
    #[sea_orm(column_type = "Text")]
    pub old_path: String,
    pub old_path_hash: String,
    pub target_item_id: Option<i64>,
    pub target_lang: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub target_url: Option<String>,
    pub status_code: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
