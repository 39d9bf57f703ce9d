//! Staff sign-in (HD-10): passwords, throttling per account and per IP, sessions stored in the
//! database or Redis (`crate::sessions`), TOTP second factor (enforced per role), sign-out and revocation, password reset.
//! Every outcome, good or bad, is journalled with the address it came from (SC-2, SC-7).
//!
//! Answers never tell whether an e-mail address has an account: an unknown address costs the
//! same password hash as a known one and gets the same refusal.

use baspa_db::entity::{session, user};
use baspa_db::{DatabaseConnection, staff_access as store, users};
use baspa_domain::{Capability, LangCode, Role, Timestamp, UserId};
use chrono::Duration;
use serde_json::json;

use crate::rights::Grant;
use crate::sessions::SessionStore;
use crate::{ActionError, Actor, Ctx, journal, totp};

/// Limits and lifetimes for staff sign-in; the binary fills this from configuration.
#[derive(Debug, Clone)]
pub struct SignInPolicy {
    pub max_failures_per_account: i32,
    pub max_failures_per_ip: i32,
    pub failure_window: Duration,
    pub lockout: Duration,
    pub session_lifetime: Duration,
    /// Roles that must use a second factor; their first sign-in leads to enrolment.
    pub second_factor_roles: Vec<Role>,
    pub issuer: String,
    /// Where sessions live: the database unless Redis is configured.
    pub sessions: SessionStore,
}

impl Default for SignInPolicy {
    fn default() -> Self {
        Self {
            max_failures_per_account: 5,
            max_failures_per_ip: 30,
            failure_window: Duration::minutes(15),
            lockout: Duration::minutes(15),
            session_lifetime: Duration::hours(12),
            second_factor_roles: vec![Role::Administrator, Role::ChiefEditor],
            issuer: "Baspa".to_owned(),
            sessions: SessionStore::Db,
        }
    }
}

/// Where a sign-in attempt comes from.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A new session: the cookie value (shown once, stored hashed) and what it still needs.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub stage: SessionStage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStage {
    /// Signed in fully.
    Ready,
    /// Must enter a code from the authenticator app.
    NeedsCode,
    /// The role requires a second factor the account has not set up yet.
    NeedsEnrolment,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignInError {
    #[error("wrong e-mail address or password")]
    Refused,
    #[error("too many failed attempts; try again in a few minutes")]
    Throttled,
    #[error("internal storage error")]
    Internal,
    /// The session store (Redis) cannot be reached.
    #[error("sessions unavailable; try again in a moment")]
    Unavailable,
}

impl From<baspa_db::StoreError> for SignInError {
    fn from(e: baspa_db::StoreError) -> Self {
        tracing::error!(error = %e, "sign-in storage error");
        SignInError::Internal
    }
}

impl From<baspa_db::DbErr> for SignInError {
    fn from(e: baspa_db::DbErr) -> Self {
        tracing::error!(error = %e, "sign-in storage error");
        SignInError::Internal
    }
}

impl From<ActionError> for SignInError {
    fn from(e: ActionError) -> Self {
        // The session store logs its own outage once; logging here would repeat it per attempt.
        if let ActionError::Unavailable(_) = e {
            return SignInError::Unavailable;
        }
        tracing::error!(error = %e, "sign-in storage error");
        SignInError::Internal
    }
}

/// A live session with its account, as the admin sees it on each request.
#[derive(Debug, Clone)]
pub struct StaffSession {
    pub session: session::Model,
    pub user: user::Model,
    pub actor: Actor,
    pub stage: SessionStage,
}

pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn token_hash(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

fn account_key(email: &str) -> String {
    format!("account:{}", email.trim().to_lowercase())
}

fn ip_key(ip: &str) -> String {
    format!("ip:{ip}")
}

/// A fixed argon2 hash verified for unknown addresses so they cost the same time as known ones.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| crate::hash_password("decoy-password-never-valid").unwrap_or_default())
}

fn signin_actor(label: &str, client: &ClientInfo) -> Actor {
    let mut actor = Actor::system(label);
    actor.role = Role::Viewer;
    actor.ip = client.ip.clone();
    actor.user_agent = client.user_agent.clone();
    actor
}

async fn is_throttled(db: &DatabaseConnection, key: &str, now: Timestamp) -> Result<bool, SignInError> {
    Ok(store::throttle_row(db, key).await?.and_then(|r| r.locked_until).is_some_and(|until| until > now))
}

/// Counts a failure against a key and locks it when the limit is reached (atomic in the
/// database, so a flood of concurrent failures neither loses counts nor slips past the limit).
async fn count_failure(
    db: &impl sea_orm::ConnectionTrait,
    key: &str,
    limit: i32,
    policy: &SignInPolicy,
    now: Timestamp,
) -> Result<bool, FailureError> {
    let failures = store::count_event(db, key, policy.failure_window, now).await.map_err(store_failure)?;
    if failures < limit {
        return Ok(false);
    }
    store::lock_if_reached(db, key, limit, now + policy.lockout).await.map_err(store_failure)?;
    Ok(true)
}

fn store_failure(e: baspa_db::StoreError) -> FailureError {
    match e {
        baspa_db::StoreError::Internal(db) => FailureError::Db(db),
        other => FailureError::Other(other.into()),
    }
}

/// Counts a failed sign-in against the account and the address and journals it, in one
/// transaction. A flood of failures makes transactions collide (deadlocks on MariaDB); the
/// loser was rolled back and simply runs again, so every failure is counted and answered.
async fn record_failure(
    ctx: &Ctx<'_>,
    policy: &SignInPolicy,
    email: &str,
    ip: &str,
    user_id: Option<i64>,
) -> Result<bool, SignInError> {
    let mut attempt = 0u32;
    loop {
        let outcome = async {
            let tx = baspa_db::begin_write(ctx.db).await?;
            let by_account =
                count_failure(&tx, &account_key(email), policy.max_failures_per_account, policy, ctx.now).await?;
            let by_ip = count_failure(&tx, &ip_key(ip), policy.max_failures_per_ip, policy, ctx.now).await?;
            let after = json!({"email": email, "locked": by_account || by_ip});
            journal(ctx, &tx, "session.sign_in_failed", "user", user_id, None, Some(after)).await?;
            tx.commit().await?;
            Ok::<_, FailureError>(by_account || by_ip)
        }
        .await;
        match outcome {
            Err(FailureError::Db(e)) if baspa_db::is_transient(&e) && attempt < 5 => {
                attempt += 1;
                let pause = 10 * u64::from(attempt) + rand::random::<u64>() % 30;
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
            Err(FailureError::Db(e)) => return Err(e.into()),
            Err(FailureError::Other(e)) => return Err(e),
            Ok(locked) => return Ok(locked),
        }
    }
}

/// A failure while recording a failed sign-in: a database error may be worth a retry.
enum FailureError {
    Db(baspa_db::DbErr),
    Other(SignInError),
}

impl From<baspa_db::DbErr> for FailureError {
    fn from(e: baspa_db::DbErr) -> Self {
        FailureError::Db(e)
    }
}

impl From<SignInError> for FailureError {
    fn from(e: SignInError) -> Self {
        FailureError::Other(e)
    }
}

impl From<FailureError> for SignInError {
    fn from(e: FailureError) -> Self {
        match e {
            FailureError::Db(db) => db.into(),
            FailureError::Other(e) => e,
        }
    }
}

impl From<ActionError> for FailureError {
    fn from(e: ActionError) -> Self {
        match e {
            ActionError::Internal(db) => FailureError::Db(db),
            other => FailureError::Other(other.into()),
        }
    }
}

/// What a session still needs: nothing once the second step is done; else a code when the
/// account has an authenticator, set-up when its role requires one.
fn stage_of(policy: &SignInPolicy, user: &user::Model, second_factor_done: bool) -> SessionStage {
    let role = Role::parse(&user.role).unwrap_or(Role::Viewer);
    if second_factor_done {
        SessionStage::Ready
    } else if user.totp_secret.is_some() {
        SessionStage::NeedsCode
    } else if policy.second_factor_roles.contains(&role) {
        SessionStage::NeedsEnrolment
    } else {
        SessionStage::Ready
    }
}

/// Checks the e-mail address and password and opens a session.
pub async fn sign_in(
    db: &DatabaseConnection,
    policy: &SignInPolicy,
    email: &str,
    password: &str,
    client: &ClientInfo,
    now: Timestamp,
) -> Result<NewSession, SignInError> {
    let email = email.trim().to_lowercase();
    let ip = client.ip.clone().unwrap_or_default();
    if is_throttled(db, &account_key(&email), now).await? || is_throttled(db, &ip_key(&ip), now).await? {
        return Err(SignInError::Throttled);
    }
    let account = users::find_by_email(db, &email).await?;
    let hash = account.as_ref().map_or(decoy_hash(), |u| u.password_hash.as_str());
    let password_ok = crate::verify_password(password, hash);
    let actor = signin_actor(&email, client);
    let ctx = Ctx::at(db, &actor, now);
    let user = match account {
        Some(u) if password_ok && u.is_active => u,
        other => {
            let locked = record_failure(&ctx, policy, &email, &ip, other.map(|u| u.id)).await?;
            return Err(if locked { SignInError::Throttled } else { SignInError::Refused });
        }
    };
    let tx = baspa_db::begin_write(db).await?;
    store::clear_throttle(&tx, &account_key(&email)).await?;
    let stage = stage_of(policy, &user, false);
    let token = random_token();
    let csrf = random_token();
    let sessions = &policy.sessions;
    let row = sessions
        .insert(
            &tx,
            store::NewSession {
                token_hash: &token_hash(&token),
                user_id: UserId(user.id),
                csrf_token: &csrf,
                second_factor_done: stage == SessionStage::Ready,
                ip: client.ip.as_deref(),
                user_agent: client.user_agent.as_deref(),
                expires_at: now + policy.session_lifetime,
            },
            now,
        )
        .await?;
    let after = json!({"session_id": row.id, "stage": format!("{stage:?}")});
    let journalled = match journal(&ctx, &tx, "session.sign_in", "user", Some(user.id), None, Some(after)).await {
        Ok(_) => tx.commit().await.map_err(ActionError::from),
        Err(e) => Err(e),
    };
    if let Err(e) = journalled {
        sessions.forget(&row).await;
        return Err(e.into());
    }
    Ok(NewSession { token, stage })
}

/// Loads the live session behind a cookie value, with the account's current rights.
pub async fn session_by_token(
    db: &DatabaseConnection,
    policy: &SignInPolicy,
    token: &str,
    now: Timestamp,
) -> Result<Option<StaffSession>, ActionError> {
    if token.len() != 64 {
        return Ok(None);
    }
    let Some(mut session) = policy.sessions.live(db, &token_hash(token), now).await? else { return Ok(None) };
    let user = users::get(db, UserId(session.user_id)).await?;
    if !user.is_active {
        return Ok(None);
    }
    let role = Role::parse(&user.role).unwrap_or(Role::Viewer);
    let grants = users::grants_of(db, UserId(user.id))
        .await?
        .into_iter()
        .filter_map(|g| {
            Some(Grant {
                role: Role::parse(&g.role).ok()?,
                section: g.section_item_id.map(baspa_domain::ItemId),
                lang: g.lang.as_deref().and_then(|l| LangCode::parse(l).ok()),
            })
        })
        .collect();
    let stage = stage_of(policy, &user, session.second_factor_done);
    // One write a minute at most keeps "last seen" useful without a write per request.
    if now - session.last_seen_at > Duration::minutes(1) {
        session.last_seen_at = now;
        session = policy.sessions.save(db, session).await?;
    }
    let mut actor = Actor::user(UserId(user.id), &user.email, role);
    actor.grants = grants;
    Ok(Some(StaffSession { session, user, actor, stage }))
}

/// Checks a code from the authenticator app and completes the sign-in.
pub async fn verify_second_factor(
    db: &DatabaseConnection,
    policy: &SignInPolicy,
    staff: &StaffSession,
    code: &str,
    client: &ClientInfo,
    now: Timestamp,
) -> Result<(), SignInError> {
    let key = account_key(&staff.user.email);
    if is_throttled(db, &key, now).await? {
        return Err(SignInError::Throttled);
    }
    let Some(secret) = &staff.user.totp_secret else { return Err(SignInError::Refused) };
    let step = totp::matching_step(secret, code, now.timestamp())
        .filter(|step| staff.user.totp_last_step.is_none_or(|last| *step > last));
    let actor = signin_actor(&staff.user.email, client);
    let ctx = Ctx::at(db, &actor, now);
    let tx = baspa_db::begin_write(db).await?;
    let Some(step) = step else {
        let locked = count_failure(&tx, &key, policy.max_failures_per_account, policy, now).await?;
        journal(&ctx, &tx, "session.code_failed", "user", Some(staff.user.id), None, Some(json!({"locked": locked})))
            .await?;
        tx.commit().await?;
        return Err(if locked { SignInError::Throttled } else { SignInError::Refused });
    };
    let mut user = users::get(&tx, UserId(staff.user.id)).await?;
    user.totp_last_step = Some(step);
    users::save(&tx, user).await?;
    let mut session = staff.session.clone();
    session.second_factor_done = true;
    policy.sessions.save(&tx, session).await?;
    store::clear_throttle(&tx, &key).await?;
    journal(&ctx, &tx, "session.code_accepted", "user", Some(staff.user.id), None, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Starts setting up an authenticator app: a new secret kept in the session until confirmed.
/// Returns the `otpauth://` link and the secret for manual entry.
pub async fn begin_totp_enrolment(
    db: &DatabaseConnection,
    policy: &SignInPolicy,
    staff: &StaffSession,
) -> Result<(String, String), ActionError> {
    let secret = match &staff.session.pending_totp_secret {
        Some(s) => s.clone(),
        None => {
            let s = totp::new_secret();
            let mut session = staff.session.clone();
            session.pending_totp_secret = Some(s.clone());
            policy.sessions.save(db, session).await?;
            s
        }
    };
    Ok((totp::otpauth_uri(&policy.issuer, &staff.user.email, &secret), secret))
}

/// Confirms the authenticator app with a first code; from now on the account needs codes.
pub async fn confirm_totp_enrolment(
    ctx: &Ctx<'_>,
    sessions: &SessionStore,
    staff: &StaffSession,
    code: &str,
) -> Result<(), ActionError> {
    let secret = staff
        .session
        .pending_totp_secret
        .clone()
        .ok_or_else(|| ActionError::Invalid("start setting up the authenticator app first".into()))?;
    let step = totp::matching_step(&secret, code, ctx.now.timestamp())
        .ok_or_else(|| ActionError::Invalid("the code does not match; check the phone's clock and try again".into()))?;
    let tx = baspa_db::begin_write(ctx.db).await?;
    let mut user = users::get(&tx, UserId(staff.user.id)).await?;
    user.totp_secret = Some(secret);
    user.totp_last_step = Some(step);
    user.updated_at = ctx.now;
    users::save(&tx, user).await?;
    let mut session = staff.session.clone();
    session.pending_totp_secret = None;
    session.second_factor_done = true;
    sessions.save(&tx, session).await?;
    journal(ctx, &tx, "user.second_factor_enabled", "user", Some(staff.user.id), None, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Ends a session: one's own, or anyone's with the right to manage users.
pub async fn revoke_session(ctx: &Ctx<'_>, sessions: &SessionStore, session_id: i64) -> Result<(), ActionError> {
    let tx = baspa_db::begin_write(ctx.db).await?;
    let session = sessions.get(&tx, session_id).await?;
    let own = Some(session.user_id) == ctx.actor.user_id.map(|u| u.0);
    if !own {
        ctx.actor.require(Capability::ManageUsers, "end other people's sessions")?;
    }
    if session.revoked_at.is_none() {
        let action = if own { "session.sign_out" } else { "session.revoke" };
        journal(ctx, &tx, action, "session", Some(session_id), None, None).await?;
        // Last before the commit: should Redis fail, nothing is journalled that did not happen.
        sessions.revoke(&tx, session, ctx.now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Starts a password reset: returns the token to e-mail, or `None` for an unknown or inactive
/// address (the caller answers the same either way).
pub async fn request_password_reset(
    db: &DatabaseConnection,
    email: &str,
    client: &ClientInfo,
    now: Timestamp,
) -> Result<Option<(user::Model, String)>, ActionError> {
    let email = email.trim().to_lowercase();
    let Some(user) = users::find_by_email(db, &email).await?.filter(|u| u.is_active) else { return Ok(None) };
    let token = random_token();
    let actor = signin_actor(&email, client);
    let ctx = Ctx::at(db, &actor, now);
    let tx = baspa_db::begin_write(db).await?;
    store::insert_password_reset(&tx, &token_hash(&token), UserId(user.id), now, now + Duration::hours(1)).await?;
    journal(&ctx, &tx, "user.password_reset_requested", "user", Some(user.id), None, None).await?;
    tx.commit().await?;
    Ok(Some((user, token)))
}

/// Sets a new password with a reset token; every session of the account ends.
pub async fn reset_password(
    db: &DatabaseConnection,
    sessions: &SessionStore,
    token: &str,
    new_password: &str,
    client: &ClientInfo,
    now: Timestamp,
) -> Result<(), ActionError> {
    let hash = crate::hash_password(new_password)?;
    let actor = signin_actor("password reset", client);
    let ctx = Ctx::at(db, &actor, now);
    let tx = baspa_db::begin_write(db).await?;
    let user_id = store::consume_password_reset(&tx, &token_hash(token), now)
        .await?
        .ok_or_else(|| ActionError::Invalid("this reset link is used or expired; ask for a new one".into()))?;
    users::set_password_hash(&tx, user_id, &hash, now).await?;
    let ended = sessions.revoke_all_of(&tx, user_id, now).await?;
    journal(&ctx, &tx, "user.password_reset", "user", Some(user_id.0), None, Some(json!({"sessions_ended": ended})))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The same session re-read from the database (after a request changed it).
pub async fn reload_session(
    db: &DatabaseConnection,
    sessions: &SessionStore,
    staff: &StaffSession,
) -> Result<StaffSession, ActionError> {
    let session = sessions.get(db, staff.session.id).await?;
    let user = users::get(db, UserId(staff.user.id)).await?;
    Ok(StaffSession { session, user, actor: staff.actor.clone(), stage: staff.stage })
}
