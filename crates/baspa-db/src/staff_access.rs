//! Staff sign-in state: sessions, failed-attempt counters and password-reset tokens. Tokens are
//! stored as blake3 hashes only; callers pass the hash.

use baspa_domain::{Timestamp, UserId};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::StoreError;
use crate::entity::{login_throttle, password_reset, session};

pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: UserId,
    pub csrf_token: &'a str,
    pub second_factor_done: bool,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub expires_at: Timestamp,
}

pub async fn insert_session(
    db: &impl ConnectionTrait,
    new: NewSession<'_>,
    now: Timestamp,
) -> Result<session::Model, StoreError> {
    Ok(session::ActiveModel {
        token_hash: Set(new.token_hash.to_owned()),
        user_id: Set(new.user_id.0),
        csrf_token: Set(new.csrf_token.to_owned()),
        second_factor_done: Set(new.second_factor_done),
        pending_totp_secret: Set(None),
        ip: Set(new.ip.map(|s| s.chars().take(64).collect())),
        user_agent: Set(new.user_agent.map(|s| s.chars().take(500).collect())),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(new.expires_at),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// A live session by token hash: not revoked and not expired.
pub async fn live_session(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<session::Model>, StoreError> {
    Ok(session::Entity::find()
        .filter(session::Column::TokenHash.eq(token_hash))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(now))
        .one(db)
        .await?)
}

pub async fn save_session(db: &impl ConnectionTrait, row: session::Model) -> Result<session::Model, StoreError> {
    let active: session::ActiveModel = row.into();
    Ok(active.reset_all().update(db).await?)
}

pub async fn get_session(db: &impl ConnectionTrait, id: i64) -> Result<session::Model, StoreError> {
    session::Entity::find_by_id(id).one(db).await?.ok_or_else(|| StoreError::NotFound(format!("session {id}")))
}

/// The sessions of one account that are still live, newest first.
pub async fn live_sessions_of(
    db: &impl ConnectionTrait,
    user_id: UserId,
    now: Timestamp,
) -> Result<Vec<session::Model>, StoreError> {
    Ok(session::Entity::find()
        .filter(session::Column::UserId.eq(user_id.0))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(now))
        .order_by_desc(session::Column::LastSeenAt)
        .all(db)
        .await?)
}

/// Revokes every live session of an account (password change, deactivation).
pub async fn revoke_sessions_of(db: &impl ConnectionTrait, user_id: UserId, now: Timestamp) -> Result<u64, StoreError> {
    let res = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::UserId.eq(user_id.0))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

pub async fn throttle_row(db: &impl ConnectionTrait, key: &str) -> Result<Option<login_throttle::Model>, StoreError> {
    Ok(login_throttle::Entity::find().filter(login_throttle::Column::ThrottleKey.eq(key)).one(db).await?)
}

/// Counts one more event (a failed sign-in, a comment) against `key` and returns the count in
/// the current window; a window older than `window` starts again at 1. Written as atomic
/// statements, never read-then-write, so concurrent requests cannot lose a count: the row is
/// created if missing, reset if stale, then incremented in place — the UPDATE takes the row lock
/// on PostgreSQL and MariaDB, and later statements in the same transaction see the result.
pub async fn count_event(
    db: &impl ConnectionTrait,
    key: &str,
    window: chrono::Duration,
    now: Timestamp,
) -> Result<i32, StoreError> {
    let fresh = login_throttle::ActiveModel {
        throttle_key: Set(key.to_owned()),
        failures: Set(0),
        window_started_at: Set(now),
        locked_until: Set(None),
        ..Default::default()
    };
    login_throttle::Entity::insert(fresh)
        // A no-op update rather than DO NOTHING, which MySQL has no syntax for.
        .on_conflict(
            OnConflict::column(login_throttle::Column::ThrottleKey)
                .update_column(login_throttle::Column::ThrottleKey)
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    login_throttle::Entity::update_many()
        .col_expr(login_throttle::Column::Failures, Expr::value(0))
        .col_expr(login_throttle::Column::WindowStartedAt, Expr::value(now))
        .filter(login_throttle::Column::ThrottleKey.eq(key))
        .filter(login_throttle::Column::WindowStartedAt.lte(now - window))
        .exec(db)
        .await?;
    login_throttle::Entity::update_many()
        .col_expr(login_throttle::Column::Failures, Expr::col(login_throttle::Column::Failures).add(1))
        .filter(login_throttle::Column::ThrottleKey.eq(key))
        .exec(db)
        .await?;
    Ok(throttle_row(db, key).await?.map_or(1, |r| r.failures))
}

/// Locks `key` until `until` if its count reached `limit`, starting a new count; true when this
/// call set the lock (exactly one of several concurrent callers does).
pub async fn lock_if_reached(
    db: &impl ConnectionTrait,
    key: &str,
    limit: i32,
    until: Timestamp,
) -> Result<bool, StoreError> {
    let res = login_throttle::Entity::update_many()
        .col_expr(login_throttle::Column::Failures, Expr::value(0))
        .col_expr(login_throttle::Column::LockedUntil, Expr::value(Some(until)))
        .filter(login_throttle::Column::ThrottleKey.eq(key))
        .filter(login_throttle::Column::Failures.gte(limit))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

pub async fn clear_throttle(db: &impl ConnectionTrait, key: &str) -> Result<(), StoreError> {
    login_throttle::Entity::delete_many().filter(login_throttle::Column::ThrottleKey.eq(key)).exec(db).await?;
    Ok(())
}

pub async fn insert_password_reset(
    db: &impl ConnectionTrait,
    token_hash: &str,
    user_id: UserId,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<(), StoreError> {
    password_reset::ActiveModel {
        token_hash: Set(token_hash.to_owned()),
        user_id: Set(user_id.0),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Marks a reset token used and returns its account, if the token is unused and unexpired.
pub async fn consume_password_reset(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<UserId>, StoreError> {
    let row = password_reset::Entity::find()
        .filter(password_reset::Column::TokenHash.eq(token_hash))
        .filter(password_reset::Column::UsedAt.is_null())
        .filter(password_reset::Column::ExpiresAt.gt(now))
        .one(db)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let user = UserId(row.user_id);
    let mut active: password_reset::ActiveModel = row.into();
    active.used_at = Set(Some(now));
    active.update(db).await?;
    Ok(Some(user))
}
