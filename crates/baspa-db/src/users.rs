//! Staff accounts.

use baspa_domain::{Role, Timestamp, UserId};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::StoreError;
use crate::entity::{grant, user};

pub struct NewUser<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
}

pub async fn insert(db: &impl ConnectionTrait, new: NewUser<'_>, now: Timestamp) -> Result<user::Model, StoreError> {
    if find_by_email(db, new.email).await?.is_some() {
        return Err(StoreError::EmailTaken(new.email.to_owned()));
    }
    user::ActiveModel {
        email: Set(new.email.to_owned()),
        display_name: Set(new.display_name.to_owned()),
        password_hash: Set(new.password_hash.to_owned()),
        role: Set(new.role.as_str().to_owned()),
        is_active: Set(true),
        totp_secret: Set(None),
        totp_last_step: Set(None),
        profile: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| {
        if crate::is_unique_violation(&e, "users_email_unique", "users.email") {
            StoreError::EmailTaken(new.email.to_owned())
        } else {
            StoreError::Internal(e)
        }
    })
}

pub async fn find_by_email(db: &impl ConnectionTrait, email: &str) -> Result<Option<user::Model>, StoreError> {
    Ok(user::Entity::find().filter(user::Column::Email.eq(email)).one(db).await?)
}

pub async fn get(db: &impl ConnectionTrait, id: UserId) -> Result<user::Model, StoreError> {
    user::Entity::find_by_id(id.0).one(db).await?.ok_or_else(|| StoreError::NotFound(format!("user {id}")))
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<user::Model>, StoreError> {
    Ok(user::Entity::find().order_by_asc(user::Column::Id).all(db).await?)
}

pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    id: UserId,
    hash: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let row = get(db, id).await?;
    let mut active: user::ActiveModel = row.into();
    active.password_hash = Set(hash.to_owned());
    active.updated_at = Set(now);
    active.update(db).await?;
    Ok(())
}

/// Saves changed account fields (role, active flag, TOTP secret and step).
pub async fn save(db: &impl ConnectionTrait, row: user::Model) -> Result<user::Model, StoreError> {
    let active: user::ActiveModel = row.into();
    Ok(active.reset_all().update(db).await?)
}

pub struct NewGrant<'a> {
    pub user_id: UserId,
    pub role: Role,
    pub section_item_id: Option<i64>,
    pub lang: Option<&'a str>,
}

pub async fn insert_grant(
    db: &impl ConnectionTrait,
    new: NewGrant<'_>,
    now: Timestamp,
) -> Result<grant::Model, StoreError> {
    Ok(grant::ActiveModel {
        user_id: Set(new.user_id.0),
        role: Set(new.role.as_str().to_owned()),
        section_item_id: Set(new.section_item_id),
        lang: Set(new.lang.map(str::to_owned)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn grants_of(db: &impl ConnectionTrait, user_id: UserId) -> Result<Vec<grant::Model>, StoreError> {
    Ok(grant::Entity::find()
        .filter(grant::Column::UserId.eq(user_id.0))
        .order_by_asc(grant::Column::Id)
        .all(db)
        .await?)
}

pub async fn delete_grant(db: &impl ConnectionTrait, id: i64) -> Result<grant::Model, StoreError> {
    let row =
        grant::Entity::find_by_id(id).one(db).await?.ok_or_else(|| StoreError::NotFound(format!("grant {id}")))?;
    grant::Entity::delete_by_id(id).exec(db).await?;
    Ok(row)
}
