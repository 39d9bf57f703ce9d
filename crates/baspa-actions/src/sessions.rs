//! Where staff sessions live (HD-10): the `sessions` table by default, or Redis when the operator
//! configures it, so several nodes share sessions without a write to the database per sign-in.
//! The auth actions call this one interface either way; the journal stays in the database.
//!
//! Redis layout (`<p>` is the configured prefix, `baspa:` by default):
//! - `<p>session:<token_hash>` → the session as JSON, expiring when the session does;
//! - `<p>session_id:<id>` → the token hash, so the admin can still end a session by number;
//! - `<p>user_sessions:<user_id>` → the set of an account's token hashes (list, end all);
//! - `<p>session_seq` → the counter the numeric ids come from, shared by every node.
//!
//! Ending a session deletes its keys: nothing revoked lingers to be mistaken for live.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use baspa_db::entity::session;
use baspa_db::staff_access as store;
use baspa_domain::{Timestamp, UserId};
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};

use crate::ActionError;

/// The staff session store the auth actions use.
#[derive(Clone, Default)]
pub enum SessionStore {
    /// The `sessions` table, in the action's transaction.
    #[default]
    Db,
    Redis(Arc<RedisSessions>),
}

impl std::fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionStore::Db => f.write_str("SessionStore::Db"),
            // The URL may hold a password; the prefix is enough to tell stores apart.
            SessionStore::Redis(r) => write!(f, "SessionStore::Redis(prefix {:?})", r.prefix),
        }
    }
}

/// Sessions in Redis through one shared, self-reconnecting connection.
pub struct RedisSessions {
    client: redis::Client,
    prefix: String,
    conn: tokio::sync::OnceCell<ConnectionManager>,
    /// Set while Redis is unreachable, so an outage is logged once and not on every request.
    down: AtomicBool,
}

/// A session as stored in Redis: the row's fields without `revoked_at` (ended sessions are deleted).
#[derive(Serialize, Deserialize)]
struct Stored {
    id: i64,
    token_hash: String,
    user_id: i64,
    csrf_token: String,
    second_factor_done: bool,
    pending_totp_secret: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    created_at: Timestamp,
    last_seen_at: Timestamp,
    expires_at: Timestamp,
}

impl From<Stored> for session::Model {
    fn from(s: Stored) -> Self {
        session::Model {
            id: s.id,
            token_hash: s.token_hash,
            user_id: s.user_id,
            csrf_token: s.csrf_token,
            second_factor_done: s.second_factor_done,
            pending_totp_secret: s.pending_totp_secret,
            ip: s.ip,
            user_agent: s.user_agent,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
            revoked_at: None,
        }
    }
}

impl From<&session::Model> for Stored {
    fn from(m: &session::Model) -> Self {
        Stored {
            id: m.id,
            token_hash: m.token_hash.clone(),
            user_id: m.user_id,
            csrf_token: m.csrf_token.clone(),
            second_factor_done: m.second_factor_done,
            pending_totp_secret: m.pending_totp_secret.clone(),
            ip: m.ip.clone(),
            user_agent: m.user_agent.clone(),
            created_at: m.created_at,
            last_seen_at: m.last_seen_at,
            expires_at: m.expires_at,
        }
    }
}

fn unavailable() -> ActionError {
    ActionError::Unavailable("sessions")
}

impl RedisSessions {
    /// Checks the URL only; the connection is made on first use so the public site starts even
    /// while Redis is down.
    pub fn new(url: &str, prefix: &str) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("redis url: {e}"))?;
        Ok(Self { client, prefix: prefix.to_owned(), conn: tokio::sync::OnceCell::new(), down: AtomicBool::new(false) })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn session_key(&self, token_hash: &str) -> String {
        format!("{}session:{token_hash}", self.prefix)
    }

    fn id_key(&self, id: i64) -> String {
        format!("{}session_id:{id}", self.prefix)
    }

    pub fn user_key(&self, user: UserId) -> String {
        format!("{}user_sessions:{}", self.prefix, user.0)
    }

    async fn conn(&self) -> Result<ConnectionManager, ActionError> {
        // Short timeouts and one retry: a sign-in should fail fast with "unavailable", not hang.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(std::time::Duration::from_secs(2)))
            .set_response_timeout(Some(std::time::Duration::from_secs(2)))
            .set_number_of_retries(1);
        let client = self.client.clone();
        let made = self.conn.get_or_try_init(|| async move { ConnectionManager::new_lazy_with_config(client, config) });
        let conn = made.await;
        self.seen(conn.cloned())
    }

    /// Turns a Redis result into the action's, logging the first failure of an outage and the
    /// recovery.
    fn seen<T>(&self, res: redis::RedisResult<T>) -> Result<T, ActionError> {
        match res {
            Ok(v) => {
                if self.down.swap(false, Ordering::Relaxed) {
                    tracing::info!("redis session store reachable again");
                }
                Ok(v)
            }
            Err(e) => {
                if !self.down.swap(true, Ordering::Relaxed) {
                    tracing::error!(error = %e, "redis session store unavailable; staff sign-in refused until it is back");
                }
                Err(unavailable())
            }
        }
    }

    /// Whole seconds left, at least one so `EX` accepts it.
    fn ttl(expires_at: Timestamp, now: Timestamp) -> u64 {
        u64::try_from((expires_at - now).num_seconds()).unwrap_or(0).max(1)
    }

    async fn insert(&self, new: store::NewSession<'_>, now: Timestamp) -> Result<session::Model, ActionError> {
        let mut conn = self.conn().await?;
        let id: i64 = self.seen(conn.incr(format!("{}session_seq", self.prefix), 1).await)?;
        let row = session::Model {
            id,
            token_hash: new.token_hash.to_owned(),
            user_id: new.user_id.0,
            csrf_token: new.csrf_token.to_owned(),
            second_factor_done: new.second_factor_done,
            pending_totp_secret: None,
            ip: new.ip.map(|s| s.chars().take(64).collect()),
            user_agent: new.user_agent.map(|s| s.chars().take(500).collect()),
            created_at: now,
            last_seen_at: now,
            expires_at: new.expires_at,
            revoked_at: None,
        };
        let json = serde_json::to_string(&Stored::from(&row)).map_err(|e| ActionError::Invalid(e.to_string()))?;
        let ttl = Self::ttl(row.expires_at, now);
        let user_key = self.user_key(new.user_id);
        let res: redis::RedisResult<()> = redis::pipe()
            .atomic()
            .set_ex(self.session_key(&row.token_hash), json, ttl)
            .ignore()
            .set_ex(self.id_key(id), &row.token_hash, ttl)
            .ignore()
            .sadd(&user_key, &row.token_hash)
            .ignore()
            // Every session lasts equally long, so the newest one decides when the set can go.
            .expire(&user_key, i64::try_from(ttl).unwrap_or(i64::MAX))
            .ignore()
            .query_async(&mut conn)
            .await;
        self.seen(res)?;
        Ok(row)
    }

    async fn by_hash(
        &self,
        conn: &mut ConnectionManager,
        token_hash: &str,
    ) -> Result<Option<session::Model>, ActionError> {
        let raw: Option<String> = self.seen(conn.get(self.session_key(token_hash)).await)?;
        Ok(raw.and_then(|r| parse(&r)))
    }

    async fn live(&self, token_hash: &str, now: Timestamp) -> Result<Option<session::Model>, ActionError> {
        let mut conn = self.conn().await?;
        Ok(self.by_hash(&mut conn, token_hash).await?.filter(|s| s.expires_at > now))
    }

    async fn save(&self, row: session::Model) -> Result<session::Model, ActionError> {
        let mut conn = self.conn().await?;
        let json = serde_json::to_string(&Stored::from(&row)).map_err(|e| ActionError::Invalid(e.to_string()))?;
        // XX: a session ended meanwhile stays ended; KEEPTTL: saving never extends its life.
        let res: redis::RedisResult<Option<String>> = redis::cmd("SET")
            .arg(self.session_key(&row.token_hash))
            .arg(json)
            .arg("XX")
            .arg("KEEPTTL")
            .query_async(&mut conn)
            .await;
        match self.seen(res)? {
            Some(_) => Ok(row),
            None => Err(ActionError::NotFound(format!("session {}", row.id))),
        }
    }

    async fn get(&self, id: i64) -> Result<session::Model, ActionError> {
        let mut conn = self.conn().await?;
        let hash: Option<String> = self.seen(conn.get(self.id_key(id)).await)?;
        let found = match hash {
            Some(h) => self.by_hash(&mut conn, &h).await?,
            None => None,
        };
        found.ok_or_else(|| ActionError::NotFound(format!("session {id}")))
    }

    async fn live_of(&self, user: UserId, now: Timestamp) -> Result<Vec<session::Model>, ActionError> {
        let mut conn = self.conn().await?;
        let user_key = self.user_key(user);
        let hashes: Vec<String> = self.seen(conn.smembers(&user_key).await)?;
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = hashes.iter().map(|h| self.session_key(h)).collect();
        let raw: Vec<Option<String>> = self.seen(redis::cmd("MGET").arg(&keys).query_async(&mut conn).await)?;
        let mut live = Vec::new();
        let mut gone = Vec::new();
        for (hash, raw) in hashes.iter().zip(raw) {
            match raw.as_deref().and_then(parse).filter(|s| s.expires_at > now) {
                Some(s) => live.push(s),
                None => gone.push(hash.clone()),
            }
        }
        if !gone.is_empty() {
            // Expired sessions leave their hash in the set; tidy up while we are here.
            let _: usize = self.seen(conn.srem(&user_key, gone).await)?;
        }
        live.sort_by_key(|s| std::cmp::Reverse(s.last_seen_at));
        Ok(live)
    }

    async fn delete(&self, rows: &[session::Model]) -> Result<(), ActionError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn().await?;
        let mut pipe = redis::pipe();
        pipe.atomic();
        for row in rows {
            pipe.del(self.session_key(&row.token_hash))
                .ignore()
                .del(self.id_key(row.id))
                .ignore()
                .srem(self.user_key(UserId(row.user_id)), &row.token_hash)
                .ignore();
        }
        let res: redis::RedisResult<()> = pipe.query_async(&mut conn).await;
        self.seen(res)
    }
}

fn parse(raw: &str) -> Option<session::Model> {
    match serde_json::from_str::<Stored>(raw) {
        Ok(s) => Some(s.into()),
        Err(e) => {
            // Unreadable means unusable: treated as signed out rather than failing every request.
            tracing::warn!(error = %e, "unreadable session in redis ignored");
            None
        }
    }
}

impl SessionStore {
    /// Opens a session. `db` is the action's transaction; Redis does not take part in it.
    pub async fn insert(
        &self,
        db: &impl ConnectionTrait,
        new: store::NewSession<'_>,
        now: Timestamp,
    ) -> Result<session::Model, ActionError> {
        match self {
            SessionStore::Db => Ok(store::insert_session(db, new, now).await?),
            SessionStore::Redis(r) => r.insert(new, now).await,
        }
    }

    /// A live session by token hash: not ended and not expired.
    pub async fn live(
        &self,
        db: &impl ConnectionTrait,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<session::Model>, ActionError> {
        match self {
            SessionStore::Db => Ok(store::live_session(db, token_hash, now).await?),
            SessionStore::Redis(r) => r.live(token_hash, now).await,
        }
    }

    pub async fn save(&self, db: &impl ConnectionTrait, row: session::Model) -> Result<session::Model, ActionError> {
        match self {
            SessionStore::Db => Ok(store::save_session(db, row).await?),
            SessionStore::Redis(r) => r.save(row).await,
        }
    }

    /// A session by number. In Redis only live sessions exist, so an ended one is not found.
    pub async fn get(&self, db: &impl ConnectionTrait, id: i64) -> Result<session::Model, ActionError> {
        match self {
            SessionStore::Db => Ok(store::get_session(db, id).await?),
            SessionStore::Redis(r) => r.get(id).await,
        }
    }

    /// The live sessions of one account, most recently seen first.
    pub async fn live_of(
        &self,
        db: &impl ConnectionTrait,
        user: UserId,
        now: Timestamp,
    ) -> Result<Vec<session::Model>, ActionError> {
        match self {
            SessionStore::Db => Ok(store::live_sessions_of(db, user, now).await?),
            SessionStore::Redis(r) => r.live_of(user, now).await,
        }
    }

    /// Ends one session: marked revoked in the table, deleted from Redis.
    pub async fn revoke(
        &self,
        db: &impl ConnectionTrait,
        mut row: session::Model,
        now: Timestamp,
    ) -> Result<(), ActionError> {
        match self {
            SessionStore::Db => {
                row.revoked_at = Some(now);
                store::save_session(db, row).await?;
                Ok(())
            }
            SessionStore::Redis(r) => r.delete(std::slice::from_ref(&row)).await,
        }
    }

    /// Ends every live session of an account (password reset, switching the account off) and
    /// returns how many there were.
    pub async fn revoke_all_of(
        &self,
        db: &impl ConnectionTrait,
        user: UserId,
        now: Timestamp,
    ) -> Result<u64, ActionError> {
        match self {
            SessionStore::Db => Ok(store::revoke_sessions_of(db, user, now).await?),
            SessionStore::Redis(r) => {
                let rows = r.live_of(user, now).await?;
                r.delete(&rows).await?;
                Ok(u64::try_from(rows.len()).unwrap_or(u64::MAX))
            }
        }
    }

    /// Undoes a Redis write whose database transaction then failed, so no session exists
    /// without its journal entry. Best effort: the session expires anyway.
    pub async fn forget(&self, row: &session::Model) {
        if let SessionStore::Redis(r) = self
            && let Err(e) = r.delete(std::slice::from_ref(row)).await
        {
            tracing::warn!(error = %e, "could not remove an unjournalled session from redis");
        }
    }
}
