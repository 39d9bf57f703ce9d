//! The change journal (SC-2, SC-6): append-only and hash-chained. Each entry's hash covers the
//! previous entry's hash and its own fields, so editing or deleting a row breaks the chain at
//! that point. Appended inside the caller's transaction, together with the change it records.

use baspa_domain::{JournalEntryId, Timestamp};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, QueryOrder, Set, Statement};
use serde_json::Value;

use crate::dialect;
use crate::entity::journal_entry;

/// The chain starts from this value.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who did something, from where.
#[derive(Debug, Clone)]
pub struct JournalActor {
    pub user_id: Option<i64>,
    pub label: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub at: Timestamp,
    pub actor: &'a JournalActor,
    pub action: &'a str,
    pub entity_kind: &'a str,
    pub entity_id: Option<i64>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

fn entry_hash(prev_hash: &str, e: &journal_entry::Model) -> String {
    let mut h = blake3::Hasher::new();
    // Length-prefixed fields, so no two different entries serialise to the same bytes.
    let fields: [String; 10] = [
        prev_hash.to_owned(),
        e.at.to_rfc3339(),
        e.actor_id.map(|v| v.to_string()).unwrap_or_default(),
        e.actor_label.clone(),
        e.ip.clone().unwrap_or_default(),
        e.action.clone(),
        e.entity_kind.clone(),
        e.entity_id.map(|v| v.to_string()).unwrap_or_default(),
        e.before.as_ref().map(canonical_json).unwrap_or_default(),
        e.after.as_ref().map(canonical_json).unwrap_or_default(),
    ];
    for f in &fields {
        h.update(&(f.len() as u64).to_le_bytes());
        h.update(f.as_bytes());
    }
    h.finalize().to_hex().to_string()
}

/// JSON with sorted keys: MySQL and PostgreSQL `jsonb` reorder object keys, so the hash must not
/// depend on key order.
fn canonical_json(v: &Value) -> String {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<_> = map.keys().collect();
            keys.sort();
            let inner: Vec<String> =
                keys.iter().map(|k| format!("{}:{}", Value::String((*k).clone()), canonical_json(&map[*k]))).collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(canonical_json).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

/// Appends one entry after the current chain head.
pub async fn append(db: &impl ConnectionTrait, entry: NewEntry<'_>) -> Result<JournalEntryId, DbErr> {
    let backend = db.get_database_backend();
    let sql = format!("SELECT hash FROM journal ORDER BY id DESC LIMIT 1{}", dialect::lock_suffix(backend));
    let prev_hash = match db.query_one_raw(Statement::from_string(backend, sql)).await? {
        Some(row) => row.try_get::<String>("", "hash")?,
        None => GENESIS_HASH.to_owned(),
    };
    let mut model = journal_entry::Model {
        id: 0,
        at: entry.at,
        actor_id: entry.actor.user_id,
        actor_label: entry.actor.label.clone(),
        ip: entry.actor.ip.clone(),
        user_agent: entry.actor.user_agent.clone(),
        action: entry.action.to_owned(),
        entity_kind: entry.entity_kind.to_owned(),
        entity_id: entry.entity_id,
        before: entry.before,
        after: entry.after,
        prev_hash: prev_hash.clone(),
        hash: String::new(),
    };
    model.hash = entry_hash(&prev_hash, &model);
    let active = journal_entry::ActiveModel {
        at: Set(model.at),
        actor_id: Set(model.actor_id),
        actor_label: Set(model.actor_label),
        ip: Set(model.ip),
        user_agent: Set(model.user_agent),
        action: Set(model.action),
        entity_kind: Set(model.entity_kind),
        entity_id: Set(model.entity_id),
        before: Set(model.before),
        after: Set(model.after),
        prev_hash: Set(model.prev_hash),
        hash: Set(model.hash),
        ..Default::default()
    };
    let saved = active.insert(db).await?;
    Ok(JournalEntryId(saved.id))
}

/// Where the chain first breaks, if it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub entry_id: i64,
    pub reason: String,
}

/// Recomputes the whole chain (SC-6 `baspa journal verify`).
pub async fn verify_chain(db: &impl ConnectionTrait) -> Result<(u64, Option<ChainBreak>), DbErr> {
    let entries = journal_entry::Entity::find().order_by_asc(journal_entry::Column::Id).all(db).await?;
    let mut prev = GENESIS_HASH.to_owned();
    for (n, e) in entries.iter().enumerate() {
        if e.prev_hash != prev {
            return Ok((
                n as u64,
                Some(ChainBreak {
                    entry_id: e.id,
                    reason: "previous-hash link does not match (an entry before it was removed or changed)".into(),
                }),
            ));
        }
        if entry_hash(&prev, e) != e.hash {
            return Ok((
                n as u64,
                Some(ChainBreak {
                    entry_id: e.id,
                    reason: "entry content does not match its hash (edited outside Baspa)".into(),
                }),
            ));
        }
        prev = e.hash.clone();
    }
    Ok((entries.len() as u64, None))
}
