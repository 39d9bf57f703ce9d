//! Staff account actions. Passwords are hashed with argon2id; the hash never enters the journal.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use baspa_db::{DatabaseTransaction, users};
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
    let tx = baspa_db::begin_write(ctx.db).await?;
    let out = create_user_in(ctx, &tx, email, display_name, role, password).await?;
    tx.commit().await?;
    Ok(out)
}

/// [`create_user`] inside the caller's transaction (the importer commits an object and its
/// import-map row together, MG-6).
pub(crate) async fn create_user_in(
    ctx: &Ctx<'_>,
    tx: &DatabaseTransaction,
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
    let row =
        users::insert(tx, users::NewUser { email: &email, display_name, password_hash: &hash, role }, ctx.now).await?;
    let after = Some(json!({"email": email, "display_name": display_name, "role": role.as_str()}));
    journal(ctx, tx, "user.create", "user", Some(row.id), None, after).await?;
    Ok(UserId(row.id))
}

/// Sets a new password for the account with this e-mail.
pub async fn set_password(ctx: &Ctx<'_>, email: &str, password: &str) -> Result<(), ActionError> {
    ctx.actor.require(Capability::ManageUsers, "manage users")?;
    let email = parse_email(email)?;
    let hash = hash_password(password)?;
    let tx = baspa_db::begin_write(ctx.db).await?;
    let user =
        users::find_by_email(&tx, &email).await?.ok_or_else(|| ActionError::NotFound(format!("user {email}")))?;
    users::set_password_hash(&tx, UserId(user.id), &hash, ctx.now).await?;
    journal(ctx, &tx, "user.password_set", "user", Some(user.id), None, Some(json!({"email": email}))).await?;
    tx.commit().await?;
    Ok(())
}

/// Grants a role within a section subtree and/or a language (CM-4). Once an account has grants,
/// only its grants apply (see `rights`).
pub async fn grant_right(
    ctx: &Ctx<'_>,
    user: UserId,
    role: Role,
    section: Option<baspa_domain::ItemId>,
    lang: Option<&baspa_domain::LangCode>,
) -> Result<i64, ActionError> {
    ctx.actor.require(Capability::ManageUsers, "manage users' rights")?;
    let tx = baspa_db::begin_write(ctx.db).await?;
    users::get(&tx, user).await?;
    if let Some(section) = section {
        let item = baspa_db::content::get_item(&tx, section).await?;
        if item.kind != baspa_domain::ItemKind::Section.as_str() {
            return Err(ActionError::Invalid(format!("item {section} is not a section")));
        }
    }
    let row = users::insert_grant(
        &tx,
        users::NewGrant { user_id: user, role, section_item_id: section.map(|s| s.0), lang: lang.map(|l| l.as_str()) },
        ctx.now,
    )
    .await?;
    let after = json!({"user_id": user.0, "role": role.as_str(), "section_id": row.section_item_id, "lang": row.lang});
    journal(ctx, &tx, "grant.create", "grant", Some(row.id), None, Some(after)).await?;
    tx.commit().await?;
    Ok(row.id)
}

pub async fn revoke_right(ctx: &Ctx<'_>, grant_id: i64) -> Result<(), ActionError> {
    ctx.actor.require(Capability::ManageUsers, "manage users' rights")?;
    let tx = baspa_db::begin_write(ctx.db).await?;
    let row = users::delete_grant(&tx, grant_id).await?;
    let before = json!({"user_id": row.user_id, "role": row.role, "section_id": row.section_item_id, "lang": row.lang});
    journal(ctx, &tx, "grant.delete", "grant", Some(grant_id), Some(before), None).await?;
    tx.commit().await?;
    Ok(())
}

/// Changes an account's role or switches it off; switching off ends its sessions at once.
pub async fn update_account(
    ctx: &Ctx<'_>,
    sessions: &crate::sessions::SessionStore,
    user: UserId,
    role: Role,
    is_active: bool,
) -> Result<(), ActionError> {
    ctx.actor.require(Capability::ManageUsers, "manage users")?;
    if ctx.actor.user_id == Some(user) && (!is_active || role != Role::Administrator) {
        return Err(ActionError::Invalid("you cannot demote or switch off your own account".into()));
    }
    let tx = baspa_db::begin_write(ctx.db).await?;
    let mut row = users::get(&tx, user).await?;
    let before = json!({"role": row.role, "is_active": row.is_active});
    row.role = role.as_str().to_owned();
    row.is_active = is_active;
    row.updated_at = ctx.now;
    users::save(&tx, row).await?;
    if !is_active {
        sessions.revoke_all_of(&tx, user, ctx.now).await?;
    }
    let after = json!({"role": role.as_str(), "is_active": is_active});
    journal(ctx, &tx, "user.update", "user", Some(user.0), Some(before), Some(after)).await?;
    tx.commit().await?;
    Ok(())
}

/// An author's public profile (issue 4): display name, and per language a position and a short
/// biography (plain text, shown escaped). One's own, or anyone's with the right to manage users.
pub async fn update_profile(
    ctx: &Ctx<'_>,
    user: UserId,
    display_name: &str,
    position: &std::collections::BTreeMap<String, String>,
    bio: &std::collections::BTreeMap<String, String>,
) -> Result<(), ActionError> {
    if ctx.actor.user_id != Some(user) {
        ctx.actor.require(Capability::ManageUsers, "edit other people's profiles")?;
    }
    let display_name = display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > 200 {
        return Err(ActionError::Invalid("the display name must have 1 to 200 characters".into()));
    }
    let clean =
        |m: &std::collections::BTreeMap<String, String>, max: usize| -> Result<serde_json::Value, ActionError> {
            let mut out = serde_json::Map::new();
            for (lang, text) in m {
                let text = text.trim();
                if text.chars().count() > max {
                    return Err(ActionError::Invalid(format!("the {lang} text is longer than {max} characters")));
                }
                if !text.is_empty() {
                    out.insert(lang.clone(), json!(text));
                }
            }
            Ok(serde_json::Value::Object(out))
        };
    let profile = json!({"position": clean(position, 200)?, "bio": clean(bio, 3000)?});
    let tx = baspa_db::begin_write(ctx.db).await?;
    let mut row = users::get(&tx, user).await?;
    let before = json!({"display_name": row.display_name, "profile": row.profile});
    row.display_name = display_name.to_owned();
    row.profile = Some(profile.clone());
    row.updated_at = ctx.now;
    users::save(&tx, row).await?;
    journal(
        ctx,
        &tx,
        "user.profile",
        "user",
        Some(user.0),
        Some(before),
        Some(json!({"display_name": display_name, "profile": profile})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
