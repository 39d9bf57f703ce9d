//! The change journal (SC-2, SC-6): append-only and hash-chained. Each entry's hash covers the
//! previous entry's hash and its own fields, so editing or deleting a row breaks the chain at
//! that point. Appended inside the caller's transaction, together with the change it records.

use baspa_domain::{JournalEntryId, Timestamp};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, Statement,
};
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
    let fields: [String; 11] = [
        prev_hash.to_owned(),
        e.at.to_rfc3339(),
        e.actor_id.map(|v| v.to_string()).unwrap_or_default(),
        e.actor_label.clone(),
        e.ip.clone().unwrap_or_default(),
        e.user_agent.clone().unwrap_or_default(),
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
pub fn canonical_json(v: &Value) -> String {
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

/// The outcome of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub entries: u64,
    /// The last entry walked (id, hash) before a break or at the end.
    pub head: Option<(i64, String)>,
    pub first_break: Option<ChainBreak>,
}

/// Entries read per query while verifying: bounded memory for any journal size.
const VERIFY_PAGE: u64 = 5_000;

/// Recomputes the whole chain (SC-6 `baspa journal verify`). A journal pruned by
/// `journal.prune` starts at the hash its prune entry recorded instead of the genesis hash.
pub async fn verify_chain(db: &impl ConnectionTrait) -> Result<ChainReport, DbErr> {
    let mut report = ChainReport { entries: 0, head: None, first_break: None };
    let mut after_id = i64::MIN;
    let mut prev: Option<String> = None;
    loop {
        let page = journal_entry::Entity::find()
            .filter(journal_entry::Column::Id.gt(after_id))
            .order_by_asc(journal_entry::Column::Id)
            .limit(VERIFY_PAGE)
            .all(db)
            .await?;
        let Some(last) = page.last() else { break };
        after_id = last.id;
        for e in &page {
            let expected_prev = match &prev {
                Some(p) => p.clone(),
                None => start_hash(db, e).await?,
            };
            if e.prev_hash != expected_prev {
                report.first_break = Some(ChainBreak {
                    entry_id: e.id,
                    reason: "its link to the previous entry does not match: an entry before it was removed or changed"
                        .into(),
                });
                return Ok(report);
            }
            if entry_hash(&expected_prev, e) != e.hash {
                report.first_break = Some(ChainBreak {
                    entry_id: e.id,
                    reason: "its content does not match its hash: the row was edited outside Baspa".into(),
                });
                return Ok(report);
            }
            report.entries += 1;
            report.head = Some((e.id, e.hash.clone()));
            prev = Some(e.hash.clone());
        }
    }
    Ok(report)
}

/// The hash the first remaining entry must link to: genesis, or the hash a prune entry recorded.
async fn start_hash(db: &impl ConnectionTrait, first: &journal_entry::Model) -> Result<String, DbErr> {
    if first.prev_hash == GENESIS_HASH {
        return Ok(GENESIS_HASH.to_owned());
    }
    let prunes = journal_entry::Entity::find()
        .filter(journal_entry::Column::Action.eq(PRUNE_ACTION))
        .order_by_desc(journal_entry::Column::Id)
        .all(db)
        .await?;
    for p in prunes {
        let through = p.after.as_ref().and_then(|a| a.get("through_hash")).and_then(Value::as_str);
        if through == Some(first.prev_hash.as_str()) {
            return Ok(first.prev_hash.clone());
        }
    }
    Ok(GENESIS_HASH.to_owned())
}

/// The action name of a retention prune; its `after` carries `through_id` and `through_hash`.
pub const PRUNE_ACTION: &str = "journal.prune";

/// The newest entry (id, hash) and the number of entries.
pub async fn head(db: &impl ConnectionTrait) -> Result<Option<(i64, String, u64)>, DbErr> {
    let last = journal_entry::Entity::find().order_by_desc(journal_entry::Column::Id).one(db).await?;
    let count = journal_entry::Entity::find().count(db).await?;
    Ok(last.map(|e| (e.id, e.hash, count)))
}

/// The entries with these ids, by id (ids that do not exist are simply absent). One query per
/// thousand ids, so a check over every seal does not cost a query per seal.
pub async fn get_many(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, journal_entry::Model>, DbErr> {
    let mut found = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(1_000) {
        let rows = journal_entry::Entity::find()
            .filter(journal_entry::Column::Id.is_in(chunk.iter().copied()))
            .all(db)
            .await?;
        found.extend(rows.into_iter().map(|e| (e.id, e)));
    }
    Ok(found)
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Option<journal_entry::Model>, DbErr> {
    journal_entry::Entity::find_by_id(id).one(db).await
}

/// Deletes entries up to and including `through_id` (retention); returns how many went. The
/// caller journals the prune with the hash of the last deleted entry in the same transaction.
pub async fn delete_through(db: &impl ConnectionTrait, through_id: i64) -> Result<u64, DbErr> {
    let result =
        journal_entry::Entity::delete_many().filter(journal_entry::Column::Id.lte(through_id)).exec(db).await?;
    Ok(result.rows_affected)
}

/// The last entry recorded before `before`.
pub async fn last_before(db: &impl ConnectionTrait, before: Timestamp) -> Result<Option<journal_entry::Model>, DbErr> {
    journal_entry::Entity::find()
        .filter(journal_entry::Column::At.lt(before))
        .order_by_desc(journal_entry::Column::Id)
        .one(db)
        .await
}

/// A filter for the admin's journal view and export.
#[derive(Debug, Clone, Default)]
pub struct JournalFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub entity_kind: Option<String>,
    pub entity_id: Option<i64>,
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

/// Entries matching the filter, newest first; `before_id` pages backwards.
pub async fn search(
    db: &impl ConnectionTrait,
    filter: &JournalFilter,
    before_id: Option<i64>,
    limit: u64,
) -> Result<Vec<journal_entry::Model>, DbErr> {
    let mut q = journal_entry::Entity::find();
    if let Some(actor) = filter.actor.as_deref().filter(|a| !a.is_empty()) {
        q = q.filter(crate::content::contains_text(journal_entry::Column::ActorLabel, actor));
    }
    if let Some(action) = filter.action.as_deref().filter(|a| !a.is_empty()) {
        q = q.filter(journal_entry::Column::Action.starts_with(action));
    }
    if let Some(kind) = filter.entity_kind.as_deref().filter(|k| !k.is_empty()) {
        q = q.filter(journal_entry::Column::EntityKind.eq(kind));
    }
    if let Some(id) = filter.entity_id {
        q = q.filter(journal_entry::Column::EntityId.eq(id));
    }
    if let Some(from) = filter.from {
        q = q.filter(journal_entry::Column::At.gte(from));
    }
    if let Some(until) = filter.until {
        q = q.filter(journal_entry::Column::At.lt(until));
    }
    if let Some(before) = before_id {
        q = q.filter(journal_entry::Column::Id.lt(before));
    }
    q.order_by_desc(journal_entry::Column::Id).limit(limit).all(db).await
}
