//! Every state change in Baspa is one function here (house rule 3). Each one checks the actor's
//! right, writes, appends to the change journal and enqueues follow-up jobs in ONE transaction.
//! The admin, the API, the importer, the CLI and the demo seeder all call these; nothing else
//! writes content.

pub mod auth;
pub mod change_journal;
pub mod clamd;
mod content;
mod error;
pub mod imports;
pub mod integrity;
pub mod jobs;
mod people;
mod placement;
mod rights;
pub mod security;
pub mod sessions;
mod site;
pub mod totp;
pub mod upkeep;
pub mod uploads;
pub mod variants;

use baspa_db::journal::JournalActor;
use baspa_domain::{Capability, Role, Timestamp, UserId};
use sea_orm::DatabaseConnection;

pub use content::*;
pub use error::ActionError;
pub use people::*;
pub use placement::{move_to_section, set_item_tags};
pub use rights::{Grant, Scope};
pub use site::*;

/// Who performs an action and from where (SC-2).
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<UserId>,
    pub label: String,
    pub role: Role,
    /// Where the role applies; empty means site-wide (see `rights`).
    pub grants: Vec<Grant>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Actor {
    /// A built-in process (demo seeder, importer, CLI run by the operator) acting with full rights.
    pub fn system(label: &str) -> Self {
        Self {
            user_id: None,
            label: label.to_owned(),
            role: Role::Administrator,
            grants: Vec::new(),
            ip: None,
            user_agent: None,
        }
    }

    /// An anonymous visitor (public comment form): no rights beyond what an action allows
    /// everyone, identified in the journal by address and browser.
    pub fn visitor(ip: Option<String>, user_agent: Option<String>) -> Self {
        Self { user_id: None, label: "visitor".to_owned(), role: Role::Viewer, grants: Vec::new(), ip, user_agent }
    }

    pub fn user(id: UserId, email: &str, role: Role) -> Self {
        Self { user_id: Some(id), label: email.to_owned(), role, grants: Vec::new(), ip: None, user_agent: None }
    }

    fn journal(&self) -> JournalActor {
        JournalActor {
            user_id: self.user_id.map(|u| u.0),
            label: self.label.clone(),
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
        }
    }

    /// Site-wide rights: users, settings, languages, redirects.
    fn require(&self, capability: Capability, action: &'static str) -> Result<(), ActionError> {
        self.require_in(capability, &Scope::site(), action)
    }
}

/// The database, the actor and the moment of an action. Tests fix `now` so rows compare equal
/// across backends.
pub struct Ctx<'a> {
    pub db: &'a DatabaseConnection,
    pub actor: &'a Actor,
    pub now: Timestamp,
}

/// Appends the journal entry of the action being performed, inside its transaction.
pub(crate) async fn journal(
    ctx: &Ctx<'_>,
    tx: &baspa_db::DatabaseTransaction,
    action: &str,
    entity_kind: &str,
    entity_id: Option<i64>,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<baspa_domain::JournalEntryId, ActionError> {
    let actor = ctx.actor.journal();
    let entry =
        baspa_db::journal::NewEntry { at: ctx.now, actor: &actor, action, entity_kind, entity_id, before, after };
    Ok(baspa_db::journal::append(tx, entry).await?)
}

impl<'a> Ctx<'a> {
    pub fn new(db: &'a DatabaseConnection, actor: &'a Actor) -> Self {
        Self { db, actor, now: baspa_domain::time::now() }
    }

    pub fn at(db: &'a DatabaseConnection, actor: &'a Actor, now: Timestamp) -> Self {
        Self { db, actor, now: baspa_domain::time::to_seconds(now) }
    }
}
