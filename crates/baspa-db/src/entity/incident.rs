//! Entity for the `incidents` table: one row per open cause (HD-11), counting occurrences.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incidents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub cause: String,
    pub category: String,
    pub severity: String,
    pub summary: String,
    pub details: Option<Json>,
    pub first_seen: DateTimeUtc,
    pub last_seen: DateTimeUtc,
    pub occurrences: i64,
    pub notified_at: Option<DateTimeUtc>,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolved_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
