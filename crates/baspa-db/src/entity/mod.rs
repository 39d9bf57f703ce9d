//! SeaORM entities, one module per table. Relations are expressed as explicit queries in the
//! repository modules rather than ORM relation graphs, so the SQL each page costs stays visible.

pub mod backup_run;
pub mod comment;
pub mod grant;
pub mod import_map;
pub mod incident;
pub mod integrity_seal;
pub mod item;
pub mod item_relation;
pub mod item_tag;
pub mod job;
pub mod journal_anchor;
pub mod journal_entry;
pub mod language;
pub mod login_throttle;
pub mod media;
pub mod media_variant;
pub mod password_reset;
pub mod redirect;
pub mod revision;
pub mod security_event;
pub mod session;
pub mod setting;
pub mod translation;
pub mod user;
