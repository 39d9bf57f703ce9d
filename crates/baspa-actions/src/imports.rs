//! Import actions (MG-1, MG-6): each imported object's state change and the `import_map` row that
//! records which Baspa row it became commit in ONE transaction, so a run killed at any moment
//! (kill -9) resumes without a duplicate and without a half-imported object. Imported media
//! files keep their original bytes (MG-5/PF-5: originals kept; the WebP variants come from the
//! usual `media.variants` job).

use std::path::Path;

use baspa_db::content as store;
use baspa_db::imports::{self, NewMapping};
use baspa_db::{DatabaseTransaction, users};
use baspa_domain::{Capability, CommentId, CommentStatus, ItemId, MediaId, Role, Timestamp, TranslationId, UserId};
use serde_json::{Value, json};

use crate::content::{
    add_comment_in, add_translation_in, create_item_in, moderate_comment_in, publish_translation_in,
    record_stored_media_in, revise_translation_in, submit_for_review_in, trash_item_in,
};
use crate::people::create_user_in;
use crate::{ActionError, CommentInput, Ctx, NewItemInput, TranslationInput, journal};

/// The import-map row of one source object, written by the import action in the transaction of
/// the object's own change (the target row is known only there).
#[derive(Debug, Clone, Copy)]
pub struct ImportMark<'a> {
    /// `wordpress:kk` …
    pub source: &'a str,
    /// `post`, `page`, `attachment`, `category`, `post_tag`, `user`, `comment`.
    pub object_kind: &'a str,
    pub source_id: i64,
    pub source_status: &'a str,
    pub target_lang: Option<&'a str>,
    /// Checksum of what was read: an unchanged object is skipped on the next run.
    pub checksum: &'a str,
}

impl<'a> ImportMark<'a> {
    /// The row for `target_kind` `target_id`.
    pub fn mapping(&self, target_kind: &'a str, target_id: i64) -> NewMapping<'a> {
        NewMapping {
            source: self.source,
            object_kind: self.object_kind,
            source_id: self.source_id,
            source_status: self.source_status,
            target_kind,
            target_id,
            target_lang: self.target_lang,
            checksum: self.checksum,
        }
    }
}

/// Upserts one import-map row and journals it, inside the caller's transaction.
async fn write_mapping(ctx: &Ctx<'_>, tx: &DatabaseTransaction, mapping: NewMapping<'_>) -> Result<(), ActionError> {
    let after = json!({"source": mapping.source, "object_kind": mapping.object_kind, "source_id": mapping.source_id,
        "source_status": mapping.source_status, "target_kind": mapping.target_kind, "target_id": mapping.target_id,
        "target_lang": mapping.target_lang, "checksum": mapping.checksum});
    let row = imports::upsert(tx, mapping, ctx.now).await?;
    journal(ctx, tx, "import.map", "import_map", Some(row.id), None, Some(after)).await?;
    Ok(())
}

/// Records (or updates) the mapping of one source object to a Baspa row that already exists (an
/// account found by e-mail, a media file already stored from the other site), journalled.
pub async fn record_import(ctx: &Ctx<'_>, mapping: NewMapping<'_>) -> Result<(), ActionError> {
    ctx.actor.require(Capability::ManageStructure, "import content")?;
    let tx = baspa_db::begin_write(ctx.db).await?;
    write_mapping(ctx, &tx, mapping).await?;
    tx.commit().await?;
    Ok(())
}

/// What an imported item is created as: a new item, or a new language version of an item (the
/// paired story of the other site, MG-2).
#[derive(Debug, Clone)]
pub enum ImportTarget {
    NewItem(NewItemInput),
    Translation(ItemId, TranslationInput),
}

/// The workflow state an imported translation ends in (from the source's status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportedState {
    Draft,
    InReview,
    /// Published at the given time (scheduled when it is in the future; now when `None`).
    Published(Option<Timestamp>),
    /// In the trash; `was_published` publishes it at `at` first, so a restore brings it back live.
    Trashed {
        was_published: bool,
        at: Option<Timestamp>,
    },
}

/// Imports one content object: creates the item (or the translation), moves it to its state and
/// records its import-map row, all in one transaction (MG-6).
pub async fn import_item(
    ctx: &Ctx<'_>,
    target: ImportTarget,
    state: ImportedState,
    mark: ImportMark<'_>,
) -> Result<(ItemId, TranslationId), ActionError> {
    ctx.actor.require(Capability::ManageStructure, "import content")?;
    let tx = baspa_db::begin_write(ctx.db).await?;
    let (item, tid) = match target {
        ImportTarget::NewItem(input) => {
            let lang = input.translations.first().map(|t| t.lang.clone());
            let created = create_item_in(ctx, &tx, input).await?;
            let tid = lang
                .and_then(|l| created.translation(l.as_str()))
                .ok_or_else(|| ActionError::Invalid("no translation created".into()))?;
            (created.item_id, tid)
        }
        ImportTarget::Translation(item, input) => (item, add_translation_in(ctx, &tx, item, input).await?),
    };
    match state {
        ImportedState::Draft => {}
        ImportedState::InReview => submit_for_review_in(ctx, &tx, tid).await?,
        ImportedState::Published(at) => publish_translation_in(ctx, &tx, tid, at).await?,
        ImportedState::Trashed { was_published, at } => {
            if was_published {
                publish_translation_in(ctx, &tx, tid, at).await?;
            }
            trash_item_in(ctx, &tx, item).await?;
        }
    }
    write_mapping(ctx, &tx, mark.mapping("item", item.0)).await?;
    tx.commit().await?;
    Ok((item, tid))
}

/// A new revision of an imported translation (the source changed, or its links could be pointed
/// at their new pages), published when `publish`, with the import-map row updated when `mark`
/// is given, in one transaction.
pub async fn import_revision(
    ctx: &Ctx<'_>,
    id: TranslationId,
    input: TranslationInput,
    note: Option<&str>,
    publish: bool,
    mark: Option<ImportMark<'_>>,
) -> Result<(), ActionError> {
    ctx.actor.require(Capability::ManageStructure, "import content")?;
    let tx = baspa_db::begin_write(ctx.db).await?;
    revise_translation_in(ctx, &tx, id, input, note).await?;
    if publish {
        publish_translation_in(ctx, &tx, id, None).await?;
    }
    if let Some(mark) = mark {
        let item = store::get_translation(&tx, id).await?.item_id;
        write_mapping(ctx, &tx, mark.mapping("item", item)).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Imports one comment with its moderation state and its import-map row (one transaction).
pub async fn import_comment(
    ctx: &Ctx<'_>,
    input: CommentInput<'_>,
    mark: ImportMark<'_>,
) -> Result<CommentId, ActionError> {
    ctx.actor.require(Capability::ManageStructure, "import content")?;
    let tx = baspa_db::begin_write(ctx.db).await?;
    let id = add_comment_in(ctx, &tx, input).await?;
    write_mapping(ctx, &tx, mark.mapping("comment", id.0)).await?;
    tx.commit().await?;
    Ok(id)
}

/// Moves an imported comment to the source's new moderation state, with its import-map row.
pub async fn import_comment_moderation(
    ctx: &Ctx<'_>,
    id: CommentId,
    status: CommentStatus,
    mark: ImportMark<'_>,
) -> Result<(), ActionError> {
    ctx.actor.require(Capability::ManageStructure, "import content")?;
    let tx = baspa_db::begin_write(ctx.db).await?;
    moderate_comment_in(ctx, &tx, id, status).await?;
    write_mapping(ctx, &tx, mark.mapping("comment", id.0)).await?;
    tx.commit().await?;
    Ok(())
}

/// Imports one account (or maps the source user to the account that already has the e-mail)
/// with its import-map row, in one transaction.
pub async fn import_user(
    ctx: &Ctx<'_>,
    email: &str,
    display_name: &str,
    role: Role,
    password: &str,
    mark: ImportMark<'_>,
) -> Result<UserId, ActionError> {
    ctx.actor.require(Capability::ManageStructure, "import content")?;
    let tx = baspa_db::begin_write(ctx.db).await?;
    let id = match users::find_by_email(&tx, email).await? {
        Some(row) => UserId(row.id),
        None => create_user_in(ctx, &tx, email, display_name, role, password).await?,
    };
    write_mapping(ctx, &tx, mark.mapping("user", id.0)).await?;
    tx.commit().await?;
    Ok(id)
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
    mark: ImportMark<'_>,
) -> Result<MediaId, ActionError> {
    if !ctx.actor.may_somewhere(Capability::CreateContent) {
        return Err(ActionError::NotPermitted { action: "upload media" });
    }
    let hash = blake3::hash(input.bytes).to_hex().to_string();
    // The same bytes were checked and stored before (the other site's copy of a photo).
    if let Some(existing) = store::media_by_hash(ctx.db, &hash).await? {
        record_import(ctx, mark.mapping("media", existing.id)).await?;
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
    let result = async {
        let tx = baspa_db::begin_write(ctx.db).await?;
        let id = record_stored_media_in(ctx, &tx, new, checked.kind.is_image(), "media.import", after).await?;
        write_mapping(ctx, &tx, mark.mapping("media", id.0)).await?;
        tx.commit().await?;
        Ok::<_, ActionError>(id)
    }
    .await;
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
