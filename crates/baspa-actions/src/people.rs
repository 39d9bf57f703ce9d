//! Staff account actions. Passwords are hashed with argon2id; the hash never enters the journal.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use baspa_db::{TransactionTrait, users};
use baspa_domain::{Capability, Role, UserId};
use serde_json::json;

use crate::{ActionError, Ctx, journal};

pub const MIN_PASSWORD_CHARS: usize = 12;

pub fn hash_password(password: &str) -> Result<String, ActionError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ActionError::Invalid(format!("the password must have at least {MIN_PASSWORD_CHARS} characters")));
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ActionError::Invalid(format!("cannot hash the password: {e}")))
}

pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash)
        .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

fn parse_email(raw: &str) -> Result<String, ActionError> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !email.contains(char::is_whitespace)
        });
    if valid { Ok(email) } else { Err(ActionError::Invalid(format!("{raw:?} is not an e-mail address"))) }
}

/// Creates a staff account.
pub async fn create_user(
    ctx: &Ctx<'_>,
    email: &str,
    display_name: &str,
    role: Role,
    password: &str,
) -> Result<UserId, ActionError> {
    ctx.actor.require(Capability::ManageUsers, "manage users")?;
    let email = parse_email(email)?;
    let display_name = display_name.trim();
    if display_name.is_empty() {
        return Err(ActionError::Invalid("the display name is empty".into()));
    }
    let hash = hash_password(password)?;
    let tx = ctx.db.begin().await?;
    let row =
        users::insert(&tx, users::NewUser { email: &email, display_name, password_hash: &hash, role }, ctx.now).await?;
    let after = Some(json!({"email": email, "display_name": display_name, "role": role.as_str()}));
    journal(ctx, &tx, "user.create", "user", Some(row.id), None, after).await?;
    tx.commit().await?;
    Ok(UserId(row.id))
}

/// Sets a new password for the account with this e-mail.
pub async fn set_password(ctx: &Ctx<'_>, email: &str, password: &str) -> Result<(), ActionError> {
    ctx.actor.require(Capability::ManageUsers, "manage users")?;
    let email = parse_email(email)?;
    let hash = hash_password(password)?;
    let tx = ctx.db.begin().await?;
    let user =
        users::find_by_email(&tx, &email).await?.ok_or_else(|| ActionError::NotFound(format!("user {email}")))?;
    users::set_password_hash(&tx, UserId(user.id), &hash, ctx.now).await?;
    journal(ctx, &tx, "user.password_set", "user", Some(user.id), None, Some(json!({"email": email}))).await?;
    tx.commit().await?;
    Ok(())
}
