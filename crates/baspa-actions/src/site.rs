//! Site-level actions: languages (ML-1) and settings.

use baspa_db::languages;
use baspa_domain::{Capability, LanguageSpec};
use serde_json::json;

use crate::{ActionError, Ctx, journal};

/// Adds or changes a language. Exactly one language is the default; setting a new default
/// clears the flag on the others in the same transaction.
pub async fn upsert_language(ctx: &Ctx<'_>, spec: &LanguageSpec) -> Result<(), ActionError> {
    ctx.actor.require(Capability::ManageSettings, "change site languages")?;
    if spec.native_name.trim().is_empty() || spec.bcp47.trim().is_empty() {
        return Err(ActionError::Invalid(format!("language {} needs a native name and a BCP-47 tag", spec.code)));
    }
    let tx = baspa_db::begin_write(ctx.db).await?;
    let before = languages::upsert(&tx, spec, ctx.now).await?;
    if spec.is_default {
        for other in languages::list(&tx).await? {
            if other.code != spec.code && other.is_default {
                let mut cleared = other.clone();
                cleared.is_default = false;
                languages::upsert(&tx, &cleared, ctx.now).await?;
            }
        }
    }
    let action = if before.is_some() { "language.update" } else { "language.create" };
    let before = before
        .map(|b| json!({"code": b.code, "routing": [b.routing_mode, b.routing_value], "is_default": b.is_default}));
    let after = Some(serde_json::to_value(spec).unwrap_or_default());
    journal(ctx, &tx, action, "language", None, before, after).await?;
    // Every page lists the languages (switcher, hreflang).
    crate::content::enqueue_site_purge(&tx, ctx.now).await?;
    tx.commit().await?;
    Ok(())
}
