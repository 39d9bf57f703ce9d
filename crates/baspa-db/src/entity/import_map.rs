//! Entity for the `import_map` table: which Baspa row an object of an external source (a
//! WordPress post, term, user, comment, attachment) became, with a checksum of what was read (MG-6).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "import_map")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The source, e.g. `wordpress:kk`.
    pub source: String,
    /// The source's object type, e.g. `post`, `page`, `attachment`, `category`, `user`.
    pub object_kind: String,
    pub source_id: i64,
    /// The status the object had in the source (`publish`, `future`, `spam` …).
    pub source_status: String,
    /// `item`, `user`, `media` or `comment`.
    pub target_kind: String,
    pub target_id: i64,
    pub target_lang: Option<String>,
    /// blake3 of the source object as read; a changed checksum means the source changed.
    pub checksum: String,
    pub imported_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
