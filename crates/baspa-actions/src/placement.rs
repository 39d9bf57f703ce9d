//! Where an entry lives: moving it to another section (CM-2), and its tags. The page cache purge names the
//! section it left, since that section's lists no longer show it (PF-2).

use baspa_db::{content as store, jobs};
use baspa_domain::{Capability, ItemId, ItemKind};
use serde_json::json;

use crate::rights::{item_scope, section_scope};
use crate::{ActionError, Ctx, journal};

/// Moves an article or document to `section` (or out of every section). The editor needs the
/// right to edit any content both where the entry is and where it goes.
pub async fn move_to_section(ctx: &Ctx<'_>, id: ItemId, section: Option<ItemId>) -> Result<(), ActionError> {
    let tx = baspa_db::begin_write(ctx.db).await?;
    let item = store::get_item(&tx, id).await?;
    if !matches!(ItemKind::parse(&item.kind), Ok(ItemKind::Article | ItemKind::Document)) {
        return Err(ActionError::Invalid(format!(
            "only articles and documents sit in a section; item {id} is a {}",
            item.kind
        )));
    }
    if let Some(to) = section {
        let target = store::get_item(&tx, to).await?;
        if target.kind != ItemKind::Section.as_str() {
            return Err(ActionError::Invalid(format!("item {to} is not a section")));
        }
    }
    if item.section_id == section.map(|s| s.0) {
        return Ok(());
    }
    ctx.actor.require_in(
        Capability::EditAnyContent,
        &item_scope(&tx, &item).await?,
        "move entries out of this section",
    )?;
    ctx.actor.require_in(
        Capability::EditAnyContent,
        &section_scope(&tx, section).await?,
        "move entries into this section",
    )?;
    store::set_item_section(&tx, id, section, ctx.now).await?;
    let left: Vec<i64> = item.section_id.into_iter().collect();
    jobs::enqueue(
        &tx,
        "cache.purge",
        json!({"item_id": id.0, "sections": left}),
        Some(format!("cache.purge:{id}:from:{}", item.section_id.unwrap_or(0))),
        ctx.now,
    )
    .await?;
    jobs::enqueue(&tx, "search.index", json!({"item_id": id.0}), Some(format!("search.index:{id}")), ctx.now).await?;
    jobs::enqueue(&tx, "sitemap.rebuild", json!({}), Some("sitemap.rebuild".to_owned()), ctx.now).await?;
    journal(
        ctx,
        &tx,
        "item.move_section",
        item.kind.as_str(),
        Some(id.0),
        Some(json!({"section_id": item.section_id})),
        Some(json!({"section_id": section.map(|s| s.0)})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Replaces the tags of an item (an import row whose tags changed, MG-7). The editor needs the
/// right to edit any content where the item is; the item's pages and the tags' lists are purged.
pub async fn set_item_tags(ctx: &Ctx<'_>, id: ItemId, tags: &[ItemId]) -> Result<(), ActionError> {
    let tx = baspa_db::begin_write(ctx.db).await?;
    let item = store::get_item(&tx, id).await?;
    ctx.actor.require_in(Capability::EditAnyContent, &item_scope(&tx, &item).await?, "change the tags of this item")?;
    for tag in tags {
        if store::get_item(&tx, *tag).await?.kind != ItemKind::Tag.as_str() {
            return Err(ActionError::Invalid(format!("item {tag} is not a tag")));
        }
    }
    let before = store::tag_ids_of(&tx, id).await?;
    let after: Vec<i64> = tags.iter().map(|t| t.0).collect();
    if before == after {
        return Ok(());
    }
    store::set_item_tags(&tx, id, tags).await?;
    store::touch_item(&tx, id, ctx.now).await?;
    crate::content::enqueue_cache_purge(&tx, id, ctx.now).await?;
    jobs::enqueue(&tx, "search.index", json!({"item_id": id.0}), Some(format!("search.index:{id}")), ctx.now).await?;
    journal(
        ctx,
        &tx,
        "item.tags",
        item.kind.as_str(),
        Some(id.0),
        Some(json!({"tags": before})),
        Some(json!({"tags": after})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
