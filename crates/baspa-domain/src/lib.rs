//! Baspa's domain: the vocabulary every other crate speaks. No IO, no async, no SQL.
//!
//! Types here are parsed once at the edge (HTTP form, CLI flag, import row) and trusted afterwards.

pub mod ids;
pub mod lang;
pub mod permission;
pub mod rich_text;
pub mod slug;
pub mod status;
pub mod time;

pub use ids::*;
pub use lang::{LangCode, LangCodeError, LanguageRouting, LanguageSpec};
pub use permission::{Capability, Role};
pub use rich_text::{SanitizedHtml, video_embed_src};
pub use slug::{Slug, SlugError};
pub use status::{CommentStatus, ContentStatus, ItemKind, JobStatus, UnknownValue};
pub use time::Timestamp;
