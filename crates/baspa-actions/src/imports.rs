//! Import actions (MG-1, MG-6): recording which Baspa row an external object became, and
//! storing an imported media file with its original bytes (MG-5/PF-5: originals kept; the
//! WebP variants come from the usual `media.variants` job).

use std::path::Path;

use baspa_db::content as store;
use baspa_db::imports::{self, NewMapping};
use baspa_domain::{Capability, MediaId};
use serde_json::{Value, json};

use crate::{ActionError, Ctx, journal};

/// Records (or updates) the mapping of one source object to its Baspa row, journalled. The
/// importer calls it right after the object's own action, so a killed run resumes after the
/// last mapped object (MG-6).
pub async fn record_import(ctx: &Ctx<'_>, mapping: NewMapping<'_>) -> Result<(), ActionError> {
    ctx.actor.require(Capability::ManageStructure, "import content")?;
    let tx = baspa_db::begin_write(ctx.db).await?;
    let after = json!({"source": mapping.source, "object_kind": mapping.object_kind, "source_id": mapping.source_id,
        "source_status": mapping.source_status, "target_kind": mapping.target_kind, "target_id": mapping.target_id,
        "target_lang": mapping.target_lang, "checksum": mapping.checksum});
    let row = imports::upsert(&tx, mapping, ctx.now).await?;
    journal(ctx, &tx, "import.map", "import_map", Some(row.id), None, Some(after)).await?;
    tx.commit().await?;
    Ok(())
}

/// Stores the journalled summary of one import run (MG-3: the integrity report is in the journal).
pub async fn record_import_report(ctx: &Ctx<'_>, source: &str, report: Value) -> Result<(), ActionError> {
    ctx.actor.require(Capability::ManageStructure, "import content")?;
    let tx = baspa_db::begin_write(ctx.db).await?;
    journal(ctx, &tx, "import.report", source, None, None, Some(report)).await?;
    tx.commit().await?;
    Ok(())
}

/// An imported file (a WordPress attachment).
pub struct ImportMediaInput<'a> {
    pub original_name: &'a str,
    pub bytes: &'a [u8],
    pub alt: Value,
    pub max_bytes: usize,
}

/// Checks an imported file like an upload (type from the bytes, polyglots, active PDF content …)
/// but stores the ORIGINAL bytes, named after their hash: the same file imported twice (the two
/// sites uploaded the same photo) is one media row. Images get their variants queued.
pub async fn import_media(
    ctx: &Ctx<'_>,
    media_dir: &Path,
    input: ImportMediaInput<'_>,
) -> Result<MediaId, ActionError> {
    if !ctx.actor.may_somewhere(Capability::CreateContent) {
        return Err(ActionError::NotPermitted { action: "upload media" });
    }
    let hash = blake3::hash(input.bytes).to_hex().to_string();
    // The same bytes were checked and stored before (the other site's copy of a photo).
    if let Some(existing) = store::media_by_hash(ctx.db, &hash).await? {
        return Ok(MediaId(existing.id));
    }
    let checked = crate::uploads::inspect(input.original_name, input.bytes, input.max_bytes)
        .map_err(|refusal| ActionError::Invalid(format!("{}: {refusal}", input.original_name)))?;
    let storage_key = format!("{}.{}", &hash[..32], checked.kind.extension());
    let stem = &hash[..32];
    let final_path = crate::content::store_media_file(media_dir, stem, &storage_key, input.bytes, &hash).await?;
    let name = crate::content::media_display_name(input.original_name);
    let new = store::NewMedia {
        storage_key: &storage_key,
        original_name: &name,
        mime: checked.kind.mime(),
        byte_size: input.bytes.len() as i64,
        width: checked.width.map(|w| w as i32),
        height: checked.height.map(|h| h as i32),
        content_hash: &hash,
        alt: input.alt,
        uploaded_by: ctx.actor.user_id.map(|u| u.0),
    };
    let after = json!({"storage_key": storage_key, "name": name, "mime": checked.kind.mime(),
        "bytes": input.bytes.len(), "stored_hash": hash, "imported": true});
    let result = crate::content::record_stored_media(ctx, new, checked.kind.is_image(), "media.import", after).await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&final_path).await;
    }
    result
}

/// Records a permanent redirect from an old path to a fixed URL or path that is not an item
/// (archives, feeds, author pages of a migrated site; MG-4).
pub async fn add_redirect_to_url(
    ctx: &Ctx<'_>,
    host: &str,
    old_path: &str,
    target_url: &str,
) -> Result<(), ActionError> {
    let new = store::NewRedirect {
        host,
        old_path,
        target_item_id: None,
        target_lang: None,
        target_url: Some(target_url),
        status_code: 301,
    };
    let after = json!({"host": host, "old_path": old_path, "target_url": target_url});
    crate::content::record_redirect(ctx, new, after).await
}
