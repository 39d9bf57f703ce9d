//! Entity for the `item_relations` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "item_relations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub from_item_id: i64,
    pub to_item_id: i64,
    pub kind: String,
    pub position: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
