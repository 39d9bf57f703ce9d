//! Languages as rows (ML-1).

use baspa_domain::{LangCode, LanguageRouting, LanguageSpec, Timestamp};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, QueryOrder, Set};

use crate::entity::language;

pub fn to_spec(row: language::Model) -> Result<LanguageSpec, DbErr> {
    let bad = |what: String| DbErr::Custom(format!("languages row {:?}: {what}", row.code));
    let code = LangCode::parse(&row.code).map_err(|e| bad(e.to_string()))?;
    let routing = match row.routing_mode.as_str() {
        "host" => LanguageRouting::Host(row.routing_value.clone()),
        "path_prefix" => LanguageRouting::PathPrefix(row.routing_value.clone()),
        other => return Err(bad(format!("unknown routing mode {other:?}"))),
    };
    let fallback = row
        .fallback
        .split(',')
        .filter(|s| !s.is_empty())
        .map(LangCode::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    Ok(LanguageSpec {
        code,
        bcp47: row.bcp47,
        native_name: row.native_name,
        routing,
        is_default: row.is_default,
        fallback,
        position: row.position,
    })
}

/// Enabled languages in display order.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<LanguageSpec>, DbErr> {
    let rows = language::Entity::find()
        .order_by_asc(language::Column::Position)
        .order_by_asc(language::Column::Code)
        .all(db)
        .await?;
    rows.into_iter().filter(|r| r.is_enabled).map(to_spec).collect()
}

/// Inserts or replaces a language; returns the row as it was before, for the journal.
pub async fn upsert(
    db: &impl ConnectionTrait,
    spec: &LanguageSpec,
    now: Timestamp,
) -> Result<Option<language::Model>, DbErr> {
    let (mode, value) = match &spec.routing {
        LanguageRouting::Host(h) => ("host", h.clone()),
        LanguageRouting::PathPrefix(p) => ("path_prefix", p.clone()),
    };
    let before = language::Entity::find_by_id(spec.code.as_str().to_owned()).one(db).await?;
    let fallback = spec.fallback.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(",");
    let mut active = language::ActiveModel {
        code: Set(spec.code.as_str().to_owned()),
        bcp47: Set(spec.bcp47.clone()),
        native_name: Set(spec.native_name.clone()),
        routing_mode: Set(mode.to_owned()),
        routing_value: Set(value),
        is_default: Set(spec.is_default),
        fallback: Set(fallback),
        position: Set(spec.position),
        is_enabled: Set(true),
        created_at: Set(before.as_ref().map(|b| b.created_at).unwrap_or(now)),
        updated_at: Set(now),
    };
    if before.is_some() {
        active = active.reset_all();
        active.update(db).await?;
    } else {
        active.insert(db).await?;
    }
    Ok(before)
}
