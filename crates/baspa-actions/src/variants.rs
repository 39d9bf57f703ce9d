//! WebP variants of stored images (PF-5): made by `baspa-media`, written under a temporary name
//! and renamed into place, then recorded with a journal entry in one transaction. Used by the
//! `media.variants` job after each upload and by `baspa media convert-all` for every image
//! already in the library (migrated ones too). A kill at any moment leaves either no row (the
//! next run redoes that image) or a row whose file is complete.

use std::path::Path;

use baspa_db::content as store;
use baspa_domain::{Capability, MediaId};
use serde_json::json;

use crate::{ActionError, Ctx, journal};

/// Label prefix of the WebP variants (`webp-w480`, …, `webp-full`).
pub const WEBP_LABEL_PREFIX: &str = "webp-";

/// What one image's conversion did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VariantsOutcome {
    /// Variants written now (0 when the image was already done).
    pub made: usize,
    pub original_bytes: u64,
    /// Bytes of the full-size WebP (what the original costs a visitor now).
    pub full_webp_bytes: u64,
}

/// A file or worker failure: internal, so the job runner retries it.
fn io_failure(id: MediaId, e: impl std::fmt::Display) -> ActionError {
    ActionError::Internal(baspa_db::DbErr::Custom(format!("media {id}: {e}")))
}

/// Whether an image already has its WebP variants with their files present.
pub async fn has_webp_variants(
    db: &baspa_db::DatabaseConnection,
    media_dir: &Path,
    id: MediaId,
) -> Result<bool, ActionError> {
    let variants = store::variants_of(db, id).await?;
    let full = variants.iter().find(|v| v.label == format!("{WEBP_LABEL_PREFIX}full"));
    Ok(full.is_some_and(|v| media_dir.join(&v.storage_key).is_file()))
}

/// Makes and records the WebP variants of one stored image; skips an image already done and
/// anything that is not a raster image.
pub async fn make_webp_variants(
    ctx: &Ctx<'_>,
    media_dir: &Path,
    id: MediaId,
    quality: f32,
) -> Result<VariantsOutcome, ActionError> {
    ctx.actor.require(Capability::CreateContent, "make image variants")?;
    let media = store::get_media(ctx.db, id).await?;
    if !matches!(media.mime.as_str(), "image/jpeg" | "image/png" | "image/gif" | "image/webp") {
        return Ok(VariantsOutcome::default());
    }
    if has_webp_variants(ctx.db, media_dir, id).await? {
        return Ok(VariantsOutcome::default());
    }
    let original = tokio::fs::read(media_dir.join(&media.storage_key)).await.map_err(|e| io_failure(id, e))?;
    let original_bytes = original.len() as u64;
    // Decoding, resizing and encoding are CPU work: keep them off the async threads.
    let made = tokio::task::spawn_blocking(move || {
        baspa_media::webp_variants(&original, &baspa_media::VARIANT_WIDTHS, quality)
    })
    .await
    .map_err(|e| io_failure(id, e))?
    .map_err(|e| ActionError::Invalid(format!("media {id}: {e}")))?;
    let stem = media.storage_key.rsplit_once('.').map_or(media.storage_key.as_str(), |(s, _)| s).to_owned();
    let mut written = Vec::new();
    for v in &made {
        let key = format!("{stem}-{}.webp", v.label);
        let temp = media_dir.join(format!(".{key}.part"));
        tokio::fs::write(&temp, &v.webp).await.map_err(|e| io_failure(id, e))?;
        tokio::fs::rename(&temp, media_dir.join(&key)).await.map_err(|e| io_failure(id, e))?;
        written.push((key, v));
    }
    let tx = baspa_db::begin_write(ctx.db).await?;
    let mut summary = Vec::new();
    for (key, v) in &written {
        let hash = blake3::hash(&v.webp).to_hex();
        let label = format!("{WEBP_LABEL_PREFIX}{}", v.label);
        store::insert_variant(
            &tx,
            store::NewVariant {
                media_id: id,
                label: &label,
                storage_key: key,
                mime: "image/webp",
                width: v.width as i32,
                height: v.height as i32,
                byte_size: v.webp.len() as i64,
                content_hash: hash.as_str(),
            },
            ctx.now,
        )
        .await?;
        summary.push(json!({"label": label, "width": v.width, "bytes": v.webp.len()}));
    }
    journal(ctx, &tx, "media.variants", "media", Some(id.0), None, Some(json!({"variants": summary}))).await?;
    // Pages cached before the variants existed show the original only: purge the items that
    // feature this image so their pages get the WebP `srcset`.
    for item in store::items_featuring(&tx, id).await? {
        crate::content::enqueue_cache_purge(&tx, baspa_domain::ItemId(item), ctx.now).await?;
    }
    tx.commit().await?;
    let full_webp_bytes = made.iter().find(|v| v.label == "full").map_or(0, |v| v.webp.len() as u64);
    Ok(VariantsOutcome { made: made.len(), original_bytes, full_webp_bytes })
}
