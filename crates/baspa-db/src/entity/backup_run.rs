//! Entity for the `backup_runs` table (BK-3): one row per backup, verification, restore,
//! restore test, copy or upkeep run, for the journal page and the dashboard card.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "backup_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `backup`, `verify`, `restore`, `restore_test`, `offsite_copy`, `export`, `upkeep`.
    pub kind: String,
    /// `ok` or `failed`.
    pub status: String,
    /// The archive's name, when the run concerns one.
    pub archive: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub summary: String,
    pub details: Option<Json>,
    pub started_at: DateTimeUtc,
    pub finished_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
