//! ONE migration set for SQLite, PostgreSQL and MySQL/MariaDB, written with sea-query builders and
//! rendered per dialect at run time. Column types that differ per backend come from `dialect`.
//!
//! Rule: never edit a migration that has shipped; add a new one.

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

use crate::dialect;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(M0001Foundation),
            Box::new(M0002EntryListingIndex),
            Box::new(M0003StaffAccess),
            Box::new(M0004AuthorProfiles),
            Box::new(M0005SecurityFunctions),
            Box::new(M0006BackupRuns),
            Box::new(M0007ImportMap),
        ]
    }

    fn migration_table_name() -> DynIden {
        Alias::new("schema_migrations").into_iden()
    }
}

/// A column-by-column table builder so the schema below reads like a list of fields.
struct TableSpec {
    name: String,
    stmt: TableCreateStatement,
    backend: DbBackend,
}

impl TableSpec {
    fn new(name: &str, backend: DbBackend) -> Self {
        let mut stmt = Table::create();
        stmt.table(Alias::new(name)).if_not_exists();
        Self { name: name.to_owned(), stmt, backend }
    }

    fn col(&mut self, def: &mut ColumnDef) -> &mut Self {
        self.stmt.col(def);
        self
    }

    fn id(&mut self) -> &mut Self {
        self.col(ColumnDef::new(Alias::new("id")).big_integer().not_null().auto_increment().primary_key())
    }

    fn string(&mut self, name: &str, len: u32) -> &mut Self {
        self.col(ColumnDef::new(Alias::new(name)).string_len(len).not_null())
    }

    fn string_null(&mut self, name: &str, len: u32) -> &mut Self {
        self.col(ColumnDef::new(Alias::new(name)).string_len(len).null())
    }

    fn text(&mut self, name: &str) -> &mut Self {
        self.col(ColumnDef::new(Alias::new(name)).text().not_null())
    }

    fn text_null(&mut self, name: &str) -> &mut Self {
        self.col(ColumnDef::new(Alias::new(name)).text().null())
    }

    fn bigint(&mut self, name: &str) -> &mut Self {
        self.col(ColumnDef::new(Alias::new(name)).big_integer().not_null())
    }

    fn bigint_null(&mut self, name: &str) -> &mut Self {
        self.col(ColumnDef::new(Alias::new(name)).big_integer().null())
    }

    fn int(&mut self, name: &str) -> &mut Self {
        self.col(ColumnDef::new(Alias::new(name)).integer().not_null().default(0))
    }

    fn int_null(&mut self, name: &str) -> &mut Self {
        self.col(ColumnDef::new(Alias::new(name)).integer().null())
    }

    fn boolean(&mut self, name: &str) -> &mut Self {
        self.col(ColumnDef::new(Alias::new(name)).boolean().not_null().default(false))
    }

    fn json(&mut self, name: &str) -> &mut Self {
        self.col(ColumnDef::new(Alias::new(name)).json().not_null())
    }

    fn json_null(&mut self, name: &str) -> &mut Self {
        self.col(ColumnDef::new(Alias::new(name)).json().null())
    }

    fn timestamp(&mut self, name: &str) -> &mut Self {
        let backend = self.backend;
        self.col(dialect::timestamp_column(ColumnDef::new(Alias::new(name)).not_null(), backend))
    }

    fn timestamp_null(&mut self, name: &str) -> &mut Self {
        let backend = self.backend;
        self.col(dialect::timestamp_column(ColumnDef::new(Alias::new(name)).null(), backend))
    }

    fn timestamps(&mut self) -> &mut Self {
        self.timestamp("created_at").timestamp("updated_at")
    }

    /// A named foreign key, so constraint errors can be mapped to meanings.
    fn references(&mut self, column: &str, table: &str, on_delete: ForeignKeyAction) -> &mut Self {
        let name = format!("fk_{}_{}", self.name, column);
        self.stmt.foreign_key(
            ForeignKey::create()
                .name(name)
                .from_col(Alias::new(column))
                .to(Alias::new(table), Alias::new(if table == "languages" { "code" } else { "id" }))
                .on_delete(on_delete),
        );
        self
    }

    fn primary_key(&mut self, columns: &[&str]) -> &mut Self {
        let mut index = Index::create();
        for c in columns {
            index.col(Alias::new(*c));
        }
        self.stmt.primary_key(&mut index);
        self
    }

    async fn create(&mut self, manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        if self.backend == DbBackend::MySql {
            // utf8mb4 keeps every Kazakh letter and emoji; InnoDB gives transactions and FKs.
            self.stmt.engine("InnoDB").character_set("utf8mb4").collate("utf8mb4_bin");
        }
        manager.create_table(self.stmt.to_owned()).await
    }
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: &str,
    columns: &[&str],
    is_unique: bool,
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(Alias::new(table)).if_not_exists();
    for c in columns {
        stmt.col(Alias::new(*c));
    }
    if is_unique {
        stmt.unique();
    }
    manager.create_index(stmt).await
}

struct M0001Foundation;

impl MigrationName for M0001Foundation {
    fn name(&self) -> &str {
        "m0001_foundation"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Foundation {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict, SetNull};
        let b = m.get_database_backend();

        TableSpec::new("languages", b)
            .col(ColumnDef::new(Alias::new("code")).string_len(16).not_null().primary_key())
            .string("bcp47", 35)
            .string("native_name", 100)
            .string("routing_mode", 16)
            .string("routing_value", 255)
            .boolean("is_default")
            .string("fallback", 255)
            .int("position")
            .boolean("is_enabled")
            .timestamps()
            .create(m)
            .await?;

        TableSpec::new("users", b)
            .id()
            .string("email", 254)
            .string("display_name", 200)
            .text("password_hash")
            .string("role", 32)
            .boolean("is_active")
            .text_null("totp_secret")
            .timestamps()
            .create(m)
            .await?;
        index(m, "users_email_unique", "users", &["email"], true).await?;

        TableSpec::new("media", b)
            .id()
            .string("storage_key", 128)
            .string("original_name", 255)
            .string("mime", 100)
            .bigint("byte_size")
            .int_null("width")
            .int_null("height")
            .string("content_hash", 64)
            .json("alt")
            .bigint_null("uploaded_by")
            .timestamp("created_at")
            .references("uploaded_by", "users", SetNull)
            .create(m)
            .await?;
        index(m, "media_storage_key_unique", "media", &["storage_key"], true).await?;
        index(m, "media_content_hash_idx", "media", &["content_hash"], false).await?;

        TableSpec::new("media_variants", b)
            .id()
            .bigint("media_id")
            .string("label", 32)
            .string("storage_key", 128)
            .string("mime", 100)
            .int("width")
            .int("height")
            .bigint("byte_size")
            .string("content_hash", 64)
            .timestamp("created_at")
            .references("media_id", "media", Cascade)
            .create(m)
            .await?;
        index(m, "media_variants_storage_key_unique", "media_variants", &["storage_key"], true).await?;
        index(m, "media_variants_media_label_unique", "media_variants", &["media_id", "label"], true).await?;

        TableSpec::new("items", b)
            .id()
            .string("kind", 32)
            .bigint_null("parent_id")
            .bigint_null("section_id")
            .int("position")
            .bigint_null("author_id")
            .bigint_null("featured_media_id")
            .boolean("is_sticky")
            .timestamps()
            .references("parent_id", "items", Restrict)
            .references("section_id", "items", Restrict)
            .references("author_id", "users", SetNull)
            .references("featured_media_id", "media", SetNull)
            .create(m)
            .await?;
        index(m, "items_kind_parent_idx", "items", &["kind", "parent_id", "position"], false).await?;
        index(m, "items_section_idx", "items", &["section_id"], false).await?;

        TableSpec::new("grants", b)
            .id()
            .bigint("user_id")
            .string("role", 32)
            .bigint_null("section_item_id")
            .string_null("lang", 16)
            .timestamp("created_at")
            .references("user_id", "users", Cascade)
            .references("section_item_id", "items", Cascade)
            .create(m)
            .await?;
        index(m, "grants_user_idx", "grants", &["user_id"], false).await?;

        TableSpec::new("translations", b)
            .id()
            .bigint("item_id")
            .string("lang", 16)
            .string("status", 16)
            .string("title", 500)
            .string("slug", 160)
            .string("slug_scope", 64)
            .text("excerpt")
            .text("body")
            .string_null("meta_title", 500)
            .text_null("meta_description")
            .text_null("meta_keywords")
            .bigint_null("og_image_media_id")
            .json("fields")
            .timestamp_null("published_at")
            .timestamp_null("publish_at")
            .timestamp_null("unpublish_at")
            .string_null("status_before_trash", 16)
            .bigint_null("live_revision_id")
            .bigint_null("latest_revision_id")
            .timestamps()
            .references("item_id", "items", Cascade)
            .references("lang", "languages", Restrict)
            .references("og_image_media_id", "media", SetNull)
            .create(m)
            .await?;
        index(m, "translations_slug_unique", "translations", &["lang", "slug_scope", "slug"], true).await?;
        index(m, "translations_item_lang_unique", "translations", &["item_id", "lang"], true).await?;
        index(m, "translations_listing_idx", "translations", &["lang", "status", "published_at"], false).await?;

        TableSpec::new("revisions", b)
            .id()
            .bigint("item_id")
            .bigint("translation_id")
            .string("lang", 16)
            .int("number")
            .bigint_null("author_id")
            .string_null("ip", 64)
            .string_null("note", 500)
            .string("title", 500)
            .string("slug", 160)
            .text("excerpt")
            .text("body")
            .string_null("meta_title", 500)
            .text_null("meta_description")
            .text_null("meta_keywords")
            .json("fields")
            .string("body_hash", 64)
            .timestamp("created_at")
            .references("translation_id", "translations", Cascade)
            .references("item_id", "items", Cascade)
            .references("author_id", "users", SetNull)
            .create(m)
            .await?;
        index(m, "revisions_translation_number_unique", "revisions", &["translation_id", "number"], true).await?;

        TableSpec::new("item_tags", b)
            .bigint("item_id")
            .bigint("tag_id")
            .int("position")
            .primary_key(&["item_id", "tag_id"])
            .references("item_id", "items", Cascade)
            .references("tag_id", "items", Cascade)
            .create(m)
            .await?;
        index(m, "item_tags_tag_idx", "item_tags", &["tag_id"], false).await?;

        TableSpec::new("item_relations", b)
            .id()
            .bigint("from_item_id")
            .bigint("to_item_id")
            .string("kind", 32)
            .int("position")
            .references("from_item_id", "items", Cascade)
            .references("to_item_id", "items", Cascade)
            .create(m)
            .await?;
        index(m, "item_relations_unique", "item_relations", &["from_item_id", "to_item_id", "kind"], true).await?;

        TableSpec::new("comments", b)
            .id()
            .bigint("item_id")
            .string("lang", 16)
            .bigint_null("parent_id")
            .string("author_name", 200)
            .string_null("author_email", 254)
            .bigint_null("user_id")
            .text("body")
            .string("status", 16)
            .string_null("ip", 64)
            .string_null("user_agent", 500)
            .timestamps()
            .references("item_id", "items", Cascade)
            .references("parent_id", "comments", Cascade)
            .references("user_id", "users", SetNull)
            .create(m)
            .await?;
        index(m, "comments_item_status_idx", "comments", &["item_id", "lang", "status"], false).await?;

        TableSpec::new("redirects", b)
            .id()
            .string("host", 255)
            .text("old_path")
            .string("old_path_hash", 64)
            .bigint_null("target_item_id")
            .string_null("target_lang", 16)
            .text_null("target_url")
            .int("status_code")
            .timestamp("created_at")
            .references("target_item_id", "items", Cascade)
            .create(m)
            .await?;
        index(m, "redirects_host_path_unique", "redirects", &["host", "old_path_hash"], true).await?;

        TableSpec::new("journal", b)
            .id()
            .timestamp("at")
            .bigint_null("actor_id")
            .string("actor_label", 254)
            .string_null("ip", 64)
            .string_null("user_agent", 500)
            .string("action", 64)
            .string("entity_kind", 32)
            .bigint_null("entity_id")
            .json_null("before")
            .json_null("after")
            .string("prev_hash", 64)
            .string("hash", 64)
            .create(m)
            .await?;
        index(m, "journal_entity_idx", "journal", &["entity_kind", "entity_id"], false).await?;
        index(m, "journal_actor_idx", "journal", &["actor_id", "at"], false).await?;

        TableSpec::new("jobs", b)
            .id()
            .string("kind", 64)
            .json("payload")
            .string_null("dedupe_key", 191)
            .string("status", 16)
            .timestamp("run_at")
            .int("attempts")
            .int("max_attempts")
            .string_null("locked_by", 64)
            .timestamp_null("locked_until")
            .text_null("last_error")
            .timestamps()
            .create(m)
            .await?;
        index(m, "jobs_claim_idx", "jobs", &["status", "run_at"], false).await?;
        index(m, "jobs_dedupe_idx", "jobs", &["dedupe_key", "status"], false).await?;

        TableSpec::new("settings", b)
            .col(ColumnDef::new(Alias::new("key")).string_len(128).not_null().primary_key())
            .json("value")
            .bigint_null("updated_by")
            .timestamp("updated_at")
            .create(m)
            .await?;
        Ok(())
    }
}

/// Listings of articles and documents filter on the `entry` slug scope (no join with `items`);
/// this index lets every backend walk them in publication order instead of sorting.
struct M0002EntryListingIndex;

impl MigrationName for M0002EntryListingIndex {
    fn name(&self) -> &str {
        "m0002_entry_listing_index"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002EntryListingIndex {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        index(
            m,
            "translations_entry_listing_idx",
            "translations",
            &["lang", "slug_scope", "status", "published_at"],
            false,
        )
        .await
    }
}

/// Staff sign-in (issue 4, HD-10): sessions stored in the database, throttling counters per
/// account and per IP, one-time password-reset tokens, and the last TOTP step used (replay guard).
struct M0003StaffAccess;

impl MigrationName for M0003StaffAccess {
    fn name(&self) -> &str {
        "m0003_staff_access"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0003StaffAccess {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::Cascade;
        let b = m.get_database_backend();

        TableSpec::new("sessions", b)
            .id()
            .string("token_hash", 64)
            .bigint("user_id")
            .string("csrf_token", 64)
            .boolean("second_factor_done")
            .text_null("pending_totp_secret")
            .string_null("ip", 64)
            .string_null("user_agent", 500)
            .timestamp("created_at")
            .timestamp("last_seen_at")
            .timestamp("expires_at")
            .timestamp_null("revoked_at")
            .references("user_id", "users", Cascade)
            .create(m)
            .await?;
        index(m, "sessions_token_hash_unique", "sessions", &["token_hash"], true).await?;
        index(m, "sessions_user_idx", "sessions", &["user_id"], false).await?;

        // One row per throttled key ("account:<id>" or "ip:<address>").
        TableSpec::new("login_throttle", b)
            .id()
            .string("throttle_key", 128)
            .int("failures")
            .timestamp("window_started_at")
            .timestamp_null("locked_until")
            .create(m)
            .await?;
        index(m, "login_throttle_key_unique", "login_throttle", &["throttle_key"], true).await?;

        TableSpec::new("password_resets", b)
            .id()
            .string("token_hash", 64)
            .bigint("user_id")
            .timestamp("created_at")
            .timestamp("expires_at")
            .timestamp_null("used_at")
            .references("user_id", "users", Cascade)
            .create(m)
            .await?;
        index(m, "password_resets_token_hash_unique", "password_resets", &["token_hash"], true).await?;

        m.alter_table(
            Table::alter()
                .table(Alias::new("users"))
                .add_column(ColumnDef::new(Alias::new("totp_last_step")).big_integer().null())
                .to_owned(),
        )
        .await
    }
}

/// Authors' profiles (issue 4): position and biography per language, shown on author pages.
struct M0004AuthorProfiles;

impl MigrationName for M0004AuthorProfiles {
    fn name(&self) -> &str {
        "m0004_author_profiles"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0004AuthorProfiles {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("users"))
                .add_column(ColumnDef::new(Alias::new("profile")).json().null())
                .to_owned(),
        )
        .await
    }
}

/// The security functions (issue 5, SC-5..SC-7, HD-11): integrity seals of published content and
/// media, signed anchors of the journal's chain head, incidents (one per cause), and hourly
/// counters of security events for the dashboard.
struct M0005SecurityFunctions;

impl MigrationName for M0005SecurityFunctions {
    fn name(&self) -> &str {
        "m0005_security_functions"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0005SecurityFunctions {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let b = m.get_database_backend();

        // No foreign keys: a seal must outlive a row deleted by hand, or the deletion goes unseen.
        TableSpec::new("integrity_seals", b)
            .id()
            .string("subject_kind", 16)
            .bigint("subject_id")
            .string("seal", 64)
            .bigint_null("revision_id")
            .bigint("journal_id")
            .json_null("snapshot")
            .timestamp("sealed_at")
            .timestamp_null("retired_at")
            .create(m)
            .await?;
        index(m, "integrity_seals_subject_idx", "integrity_seals", &["subject_kind", "subject_id"], false).await?;
        index(m, "integrity_seals_journal_idx", "integrity_seals", &["journal_id"], false).await?;

        TableSpec::new("journal_anchors", b)
            .id()
            .bigint("journal_id")
            .string("head_hash", 64)
            .bigint("entries")
            .string("signature", 64)
            .timestamp("created_at")
            .create(m)
            .await?;

        TableSpec::new("incidents", b)
            .id()
            .string("cause", 191)
            .string("category", 32)
            .string("severity", 16)
            .text("summary")
            .json_null("details")
            .timestamp("first_seen")
            .timestamp("last_seen")
            .bigint("occurrences")
            .timestamp_null("notified_at")
            .timestamp_null("resolved_at")
            .bigint_null("resolved_by")
            .create(m)
            .await?;
        index(m, "incidents_cause_idx", "incidents", &["cause", "resolved_at"], false).await?;
        index(m, "incidents_seen_idx", "incidents", &["last_seen"], false).await?;

        TableSpec::new("security_events", b)
            .id()
            .timestamp("hour")
            .string("kind", 64)
            .bigint("events")
            .create(m)
            .await?;
        index(m, "security_events_hour_kind_unique", "security_events", &["hour", "kind"], true).await?;
        Ok(())
    }
}

/// The backup journal (issue 10, BK-3): every backup, verification, restore, restore test, copy
/// and upkeep run with its outcome, for the admin's journal and dashboard card.
struct M0006BackupRuns;

impl MigrationName for M0006BackupRuns {
    fn name(&self) -> &str {
        "m0006_backup_runs"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0006BackupRuns {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let b = m.get_database_backend();
        TableSpec::new("backup_runs", b)
            .id()
            .string("kind", 32)
            .string("status", 16)
            .string_null("archive", 191)
            .text("summary")
            .json_null("details")
            .timestamp("started_at")
            .timestamp("finished_at")
            .create(m)
            .await?;
        index(m, "backup_runs_kind_idx", "backup_runs", &["kind", "status", "finished_at"], false).await
    }
}

struct M0007ImportMap;

impl MigrationName for M0007ImportMap {
    fn name(&self) -> &str {
        "m0007_import_map"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0007ImportMap {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let b = m.get_database_backend();
        // Which Baspa row an object of an external source became (MG-6): a second run skips
        // what is mapped and unchanged, a killed run resumes after the last mapped object, and a
        // delta run imports only unmapped or changed objects. No foreign keys: the target kind
        // varies (item, user, media, comment).
        TableSpec::new("import_map", b)
            .id()
            .string("source", 64)
            .string("object_kind", 32)
            .bigint("source_id")
            .string("source_status", 32)
            .string("target_kind", 16)
            .bigint("target_id")
            .string_null("target_lang", 16)
            .string("checksum", 64)
            .timestamp("imported_at")
            .create(m)
            .await?;
        index(m, "import_map_source_unique", "import_map", &["source", "object_kind", "source_id"], true).await?;
        index(m, "import_map_target_idx", "import_map", &["target_kind", "target_id"], false).await?;
        Ok(())
    }
}
