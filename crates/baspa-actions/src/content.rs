//! Content actions: create an item with its translations, revise, translate, publish (now or at a
//! time), trash and restore; tags, comments and redirects.

use baspa_db::content::{
    self as store, NewComment, NewItem, NewRedirect, NewRevision, NewTranslation, TranslationContent,
};
use baspa_db::entity::translation;
use baspa_db::{DatabaseTransaction, jobs};
use baspa_domain::{
    Capability, CommentId, CommentStatus, ContentStatus, ItemId, ItemKind, LangCode, MediaId, RevisionId,
    SanitizedHtml, Slug, Timestamp, TranslationId, UserId,
};
use serde_json::{Value, json};

use crate::rights::{Scope, item_scope, section_scope};
use crate::{ActionError, Ctx, journal};

/// The editable fields of one language version, as they arrive from a form, the API or an import.
#[derive(Debug, Clone)]
pub struct TranslationInput {
    pub lang: LangCode,
    pub title: String,
    /// `None` derives the slug from the title (with `-2`, `-3` … on a clash); an explicit slug
    /// that is taken is refused.
    pub slug: Option<Slug>,
    pub excerpt: String,
    /// Untrusted HTML; sanitised here whatever the client did.
    pub body_html: String,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub meta_keywords: Option<String>,
    pub fields: Value,
}

impl TranslationInput {
    pub fn new(lang: LangCode, title: &str, body_html: &str) -> Self {
        Self {
            lang,
            title: title.to_owned(),
            slug: None,
            excerpt: String::new(),
            body_html: body_html.to_owned(),
            meta_title: None,
            meta_description: None,
            meta_keywords: None,
            fields: json!({}),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewItemInput {
    pub kind: ItemKind,
    pub parent: Option<ItemId>,
    pub section: Option<ItemId>,
    pub position: i32,
    pub author: Option<UserId>,
    pub tags: Vec<ItemId>,
    pub is_sticky: bool,
    pub featured_media: Option<MediaId>,
    pub translations: Vec<TranslationInput>,
}

impl NewItemInput {
    pub fn new(kind: ItemKind, translations: Vec<TranslationInput>) -> Self {
        Self {
            kind,
            parent: None,
            section: None,
            position: 0,
            author: None,
            tags: Vec::new(),
            is_sticky: false,
            featured_media: None,
            translations,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedItem {
    pub item_id: ItemId,
    pub translations: Vec<(LangCode, TranslationId)>,
}

impl CreatedItem {
    pub fn translation(&self, lang: &str) -> Option<TranslationId> {
        self.translations.iter().find(|(l, _)| l.as_str() == lang).map(|(_, id)| *id)
    }
}

const MAX_TITLE_CHARS: usize = 500;

fn clean_content(input: &TranslationInput, slug: Slug) -> Result<TranslationContent, ActionError> {
    let title = input.title.trim();
    if title.is_empty() {
        return Err(ActionError::Invalid(format!("the {} title is empty", input.lang)));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(ActionError::Invalid(format!(
            "the {} title is longer than {MAX_TITLE_CHARS} characters",
            input.lang
        )));
    }
    let body = SanitizedHtml::sanitize(&input.body_html);
    let excerpt = input.excerpt.trim().to_owned();
    let trim_opt = |v: &Option<String>| v.as_ref().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    Ok(TranslationContent {
        title: title.to_owned(),
        slug: slug.into(),
        excerpt,
        body: body.into_string(),
        meta_title: trim_opt(&input.meta_title),
        meta_description: trim_opt(&input.meta_description),
        meta_keywords: trim_opt(&input.meta_keywords),
        fields: if input.fields.is_null() { json!({}) } else { input.fields.clone() },
    })
}

/// Picks the slug: the explicit one must be free; a derived one gets a numeric suffix on a clash.
async fn choose_slug(
    tx: &DatabaseTransaction,
    input: &TranslationInput,
    scope: &str,
    except: Option<TranslationId>,
) -> Result<Slug, ActionError> {
    let lang = input.lang.as_str();
    if let Some(slug) = &input.slug {
        if store::slug_is_taken(tx, lang, scope, slug.as_str(), except).await? {
            return Err(ActionError::SlugTaken { lang: lang.to_owned(), slug: slug.to_string() });
        }
        return Ok(slug.clone());
    }
    let base = Slug::from_title(&input.title, lang).map_err(|e| ActionError::Invalid(e.to_string()))?;
    let mut candidate = base.clone();
    let mut n = 2;
    while store::slug_is_taken(tx, lang, scope, candidate.as_str(), except).await? {
        candidate = base.with_suffix(n);
        n += 1;
    }
    Ok(candidate)
}

async fn require_language(tx: &DatabaseTransaction, lang: &LangCode) -> Result<(), ActionError> {
    let known = baspa_db::languages::list(tx).await?;
    if known.iter().any(|l| &l.code == lang) {
        Ok(())
    } else {
        Err(ActionError::Invalid(format!("language {lang} is not configured on this site")))
    }
}

fn content_summary(t: &translation::Model) -> Value {
    json!({
        "lang": t.lang, "status": t.status, "title": t.title, "slug": t.slug,
        "body_hash": blake3::hash(t.body.as_bytes()).to_hex().to_string(),
        // The integrity seal of this text: the journal vouches for the seal rows (SC-5).
        "seal": crate::integrity::translation_seal(t),
    })
}

/// Re-indexes an item for search (drafts too: editors search them in the admin).
async fn enqueue_search_index(tx: &DatabaseTransaction, item: ItemId, now: Timestamp) -> Result<(), ActionError> {
    jobs::enqueue(tx, "search.index", json!({"item_id": item.0}), Some(format!("search.index:{item}")), now).await?;
    Ok(())
}

/// Queues the page-cache purge of an item's pages in every language (the `cache.purge` job).
pub(crate) async fn enqueue_cache_purge(
    tx: &DatabaseTransaction,
    item: ItemId,
    now: Timestamp,
) -> Result<(), ActionError> {
    jobs::enqueue(tx, "cache.purge", json!({"item_id": item.0}), Some(format!("cache.purge:{item}")), now).await?;
    Ok(())
}

/// Queues a purge of every cached page: what changed is on all of them (menu, languages).
pub(crate) async fn enqueue_site_purge(tx: &DatabaseTransaction, now: Timestamp) -> Result<(), ActionError> {
    jobs::enqueue(tx, "cache.purge", json!({"site": true}), Some("cache.purge:site".to_owned()), now).await?;
    Ok(())
}

async fn enqueue_publish_followups(tx: &DatabaseTransaction, item: ItemId, now: Timestamp) -> Result<(), ActionError> {
    // One search job per item: the index re-reads every language version of it.
    enqueue_search_index(tx, item, now).await?;
    enqueue_cache_purge(tx, item, now).await?;
    jobs::enqueue(tx, "sitemap.rebuild", json!({}), Some("sitemap.rebuild".to_owned()), now).await?;
    Ok(())
}

/// A new language version as a draft with its revision 1 (shared by `create_item` and
/// `add_translation`).
async fn insert_draft_translation(
    ctx: &Ctx<'_>,
    tx: &DatabaseTransaction,
    item_id: ItemId,
    input: &TranslationInput,
    scope: &str,
) -> Result<translation::Model, ActionError> {
    require_language(tx, &input.lang).await?;
    let slug = choose_slug(tx, input, scope, None).await?;
    let content = clean_content(input, slug)?;
    let new = NewTranslation {
        item_id,
        lang: input.lang.as_str(),
        status: ContentStatus::Draft,
        slug_scope: scope.to_owned(),
        content: content.clone(),
        published_at: None,
    };
    let mut row = store::insert_translation(tx, new, ctx.now).await?;
    let revision = NewRevision {
        translation: &row,
        content: &content,
        author_id: ctx.actor.user_id.map(|u| u.0),
        ip: ctx.actor.ip.clone(),
        note: None,
    };
    let rev = store::insert_revision(tx, revision, ctx.now).await?;
    row.latest_revision_id = Some(rev.id);
    Ok(store::save_translation(tx, row).await?)
}

/// Creates an item with one draft translation per given language, each with revision 1.
pub async fn create_item(ctx: &Ctx<'_>, input: NewItemInput) -> Result<CreatedItem, ActionError> {
    let tx = baspa_db::begin_write(ctx.db).await?;
    let out = create_item_in(ctx, &tx, input).await?;
    tx.commit().await?;
    Ok(out)
}

/// [`create_item`] inside the caller's transaction (the importer commits an object and its
/// import-map row together, MG-6).
pub(crate) async fn create_item_in(
    ctx: &Ctx<'_>,
    tx: &DatabaseTransaction,
    input: NewItemInput,
) -> Result<CreatedItem, ActionError> {
    let capability = match input.kind {
        ItemKind::Section | ItemKind::Tag | ItemKind::Page => Capability::ManageStructure,
        ItemKind::Article | ItemKind::Document => Capability::CreateContent,
    };
    if input.translations.is_empty() {
        return Err(ActionError::Invalid("an item needs at least one language version".into()));
    }
    if let Some(section) = input.section {
        let s = store::get_item(tx, section).await?;
        if s.kind != ItemKind::Section.as_str() {
            return Err(ActionError::Invalid(format!("item {section} is not a section")));
        }
    }
    let scope = match input.kind {
        ItemKind::Section => section_scope(tx, input.parent).await?,
        ItemKind::Article | ItemKind::Document => section_scope(tx, input.section).await?,
        ItemKind::Tag | ItemKind::Page => Scope::site(),
    };
    for t in &input.translations {
        ctx.actor.require_in(capability, &scope.clone().in_lang(t.lang.as_str()), "create content here")?;
    }
    let item = store::insert_item(
        tx,
        NewItem {
            kind: input.kind,
            parent_id: input.parent,
            section_id: input.section,
            position: input.position,
            author_id: input.author.map(|u| u.0).or(ctx.actor.user_id.map(|u| u.0)),
            featured_media_id: input.featured_media.map(|m| m.0),
            is_sticky: input.is_sticky,
        },
        ctx.now,
    )
    .await?;
    let item_id = ItemId(item.id);
    store::set_item_tags(tx, item_id, &input.tags).await?;
    let scope = input.kind.slug_scope(input.parent);
    let mut created = Vec::new();
    let mut summaries = Vec::new();
    for t in &input.translations {
        if created.iter().any(|(l, _)| l == &t.lang) {
            return Err(ActionError::Invalid(format!("language {} is given twice", t.lang)));
        }
        let row = insert_draft_translation(ctx, tx, item_id, t, &scope).await?;
        summaries.push(content_summary(&row));
        created.push((t.lang.clone(), TranslationId(row.id)));
    }
    journal(
        ctx,
        tx,
        "item.create",
        input.kind.as_str(),
        Some(item.id),
        None,
        Some(json!({"kind": input.kind.as_str(), "section_id": input.section.map(|s| s.0), "translations": summaries})),
    )
    .await?;
    enqueue_search_index(tx, item_id, ctx.now).await?;
    Ok(CreatedItem { item_id, translations: created })
}

/// Adds a language version to an existing item (draft, revision 1).
pub async fn add_translation(
    ctx: &Ctx<'_>,
    item_id: ItemId,
    input: TranslationInput,
) -> Result<TranslationId, ActionError> {
    let tx = baspa_db::begin_write(ctx.db).await?;
    let out = add_translation_in(ctx, &tx, item_id, input).await?;
    tx.commit().await?;
    Ok(out)
}

/// [`add_translation`] inside the caller's transaction (the importer commits an object and its
/// import-map row together, MG-6).
pub(crate) async fn add_translation_in(
    ctx: &Ctx<'_>,
    tx: &DatabaseTransaction,
    item_id: ItemId,
    input: TranslationInput,
) -> Result<TranslationId, ActionError> {
    let item = store::get_item(tx, item_id).await?;
    let scope = item_scope(tx, &item).await?.in_lang(input.lang.as_str());
    if !(ctx.actor.may(Capability::Translate, &scope) || is_own_and_editable(ctx, &item, &scope)) {
        return Err(ActionError::NotPermitted { action: "translate this item" });
    }
    if store::translations_of_item(tx, item_id).await?.iter().any(|t| t.lang == input.lang.as_str()) {
        return Err(ActionError::Invalid(format!("item {item_id} already has a {} version", input.lang)));
    }
    let kind = ItemKind::parse(&item.kind).map_err(|e| ActionError::Invalid(e.to_string()))?;
    let scope = kind.slug_scope(item.parent_id.map(ItemId));
    let row = insert_draft_translation(ctx, tx, item_id, &input, &scope).await?;
    store::touch_item(tx, item_id, ctx.now).await?;
    enqueue_search_index(tx, item_id, ctx.now).await?;
    journal(ctx, tx, "translation.create", "translation", Some(row.id), None, Some(content_summary(&row))).await?;
    Ok(TranslationId(row.id))
}

/// Saves a new revision of one translation. A draft changes at once; a published translation
/// keeps showing its live version until the new revision is published (CM-10).
pub async fn revise_translation(
    ctx: &Ctx<'_>,
    id: TranslationId,
    input: TranslationInput,
    note: Option<&str>,
) -> Result<RevisionId, ActionError> {
    let tx = baspa_db::begin_write(ctx.db).await?;
    let out = revise_translation_in(ctx, &tx, id, input, note).await?;
    tx.commit().await?;
    Ok(out)
}

/// [`revise_translation`] inside the caller's transaction (the importer commits an object and its
/// import-map row together, MG-6).
pub(crate) async fn revise_translation_in(
    ctx: &Ctx<'_>,
    tx: &DatabaseTransaction,
    id: TranslationId,
    input: TranslationInput,
    note: Option<&str>,
) -> Result<RevisionId, ActionError> {
    let row = store::get_translation(tx, id).await?;
    let item = store::get_item(tx, ItemId(row.item_id)).await?;
    if !may_edit(ctx, tx, &item, &row.lang).await? {
        return Err(ActionError::NotPermitted { action: "edit this item" });
    }
    if input.lang.as_str() != row.lang {
        return Err(ActionError::Invalid(format!("translation {id} is {}, not {}", row.lang, input.lang)));
    }
    let status = ContentStatus::parse(&row.status).map_err(|e| ActionError::Invalid(e.to_string()))?;
    if status == ContentStatus::Trashed {
        return Err(ActionError::Invalid("restore the item from the trash before editing it".into()));
    }
    let slug = match &input.slug {
        Some(s) if s.as_str() == row.slug => s.clone(),
        None if input.title.trim() == row.title => {
            Slug::parse(&row.slug).map_err(|e| ActionError::Invalid(e.to_string()))?
        }
        _ => choose_slug(tx, &input, &row.slug_scope, Some(id)).await?,
    };
    let content = clean_content(&input, slug)?;
    let before = content_summary(&row);
    let rev = store::insert_revision(
        tx,
        NewRevision {
            translation: &row,
            content: &content,
            author_id: ctx.actor.user_id.map(|u| u.0),
            ip: ctx.actor.ip.clone(),
            note: note.map(str::to_owned),
        },
        ctx.now,
    )
    .await?;
    let mut updated = row.clone();
    updated.latest_revision_id = Some(rev.id);
    updated.updated_at = ctx.now;
    if !matches!(status, ContentStatus::Published | ContentStatus::Scheduled) {
        apply_content(&mut updated, &content);
    }
    let updated = store::save_translation(tx, updated).await?;
    store::touch_item(tx, ItemId(row.item_id), ctx.now).await?;
    let mut after = content_summary(&updated);
    after["revision"] = json!(rev.number);
    after["revision_body_hash"] = json!(rev.body_hash);
    if let Some(note) = note {
        after["note"] = json!(note);
    }
    enqueue_search_index(tx, ItemId(row.item_id), ctx.now).await?;
    journal(ctx, tx, "translation.revise", "translation", Some(row.id), Some(before), Some(after)).await?;
    Ok(RevisionId(rev.id))
}

fn apply_content(row: &mut translation::Model, c: &TranslationContent) {
    row.title = c.title.clone();
    row.slug = c.slug.clone();
    row.excerpt = c.excerpt.clone();
    row.body = c.body.clone();
    row.meta_title = c.meta_title.clone();
    row.meta_description = c.meta_description.clone();
    row.meta_keywords = c.meta_keywords.clone();
    row.fields = c.fields.clone();
}

/// Publishes the latest revision of a translation now, or schedules it when `at` is in the
/// future (a `content.publish` job runs it then). Needs the publish right (SC-1).
pub async fn publish_translation(ctx: &Ctx<'_>, id: TranslationId, at: Option<Timestamp>) -> Result<(), ActionError> {
    let tx = baspa_db::begin_write(ctx.db).await?;
    publish_translation_in(ctx, &tx, id, at).await?;
    tx.commit().await?;
    Ok(())
}

/// [`publish_translation`] inside the caller's transaction (the importer commits an object and its
/// import-map row together, MG-6).
pub(crate) async fn publish_translation_in(
    ctx: &Ctx<'_>,
    tx: &DatabaseTransaction,
    id: TranslationId,
    at: Option<Timestamp>,
) -> Result<(), ActionError> {
    let row = store::get_translation(tx, id).await?;
    let item = store::get_item(tx, ItemId(row.item_id)).await?;
    ctx.actor.require_in(Capability::Publish, &item_scope(tx, &item).await?.in_lang(&row.lang), "publish here")?;
    if row.status == ContentStatus::Trashed.as_str() {
        return Err(ActionError::Invalid("restore the item from the trash before publishing it".into()));
    }
    let before = content_summary(&row);
    let mut updated = row.clone();
    updated.updated_at = ctx.now;
    let at = at.map(baspa_domain::time::to_seconds);
    match at {
        Some(when) if when > ctx.now => {
            updated.status = ContentStatus::Scheduled.as_str().to_owned();
            updated.publish_at = Some(when);
            jobs::enqueue(
                tx,
                "content.publish",
                json!({"translation_id": id.0}),
                Some(format!("content.publish:{id}")),
                when,
            )
            .await?;
        }
        _ => {
            if let Some(rev_id) = row.latest_revision_id {
                let rev = store::get_revision(tx, rev_id).await?;
                apply_content(&mut updated, &TranslationContent::of_revision(&rev));
            }
            updated.status = ContentStatus::Published.as_str().to_owned();
            updated.published_at = Some(row.published_at.or(at).unwrap_or(ctx.now));
            updated.publish_at = None;
            updated.live_revision_id = row.latest_revision_id;
            enqueue_publish_followups(tx, ItemId(row.item_id), ctx.now).await?;
        }
    }
    let updated = store::save_translation(tx, updated).await?;
    store::touch_item(tx, ItemId(row.item_id), ctx.now).await?;
    let action = if updated.status == ContentStatus::Scheduled.as_str() {
        "translation.schedule"
    } else {
        "translation.publish"
    };
    let entry =
        journal(ctx, tx, action, "translation", Some(row.id), Some(before), Some(content_summary(&updated))).await?;
    crate::integrity::reseal_translation(ctx, tx, entry, &updated).await?;
    Ok(())
}

/// Moves every language version of an item to the trash, remembering each one's status so a
/// restore puts it back as it was (SC-1: deletion is its own right and goes through the trash).
pub async fn trash_item(ctx: &Ctx<'_>, item_id: ItemId) -> Result<(), ActionError> {
    let tx = baspa_db::begin_write(ctx.db).await?;
    trash_item_in(ctx, &tx, item_id).await?;
    tx.commit().await?;
    Ok(())
}

/// [`trash_item`] inside the caller's transaction (the importer commits an object and its
/// import-map row together, MG-6).
pub(crate) async fn trash_item_in(ctx: &Ctx<'_>, tx: &DatabaseTransaction, item_id: ItemId) -> Result<(), ActionError> {
    let item = store::get_item(tx, item_id).await?;
    ctx.actor.require_in(Capability::Trash, &item_scope(tx, &item).await?, "move this item to the trash")?;
    let rows = store::translations_of_item(tx, item_id).await?;
    let before: Vec<Value> = rows.iter().map(content_summary).collect();
    let mut trashed = Vec::new();
    for row in rows {
        if row.status == ContentStatus::Trashed.as_str() {
            continue;
        }
        let mut updated = row.clone();
        updated.status_before_trash = Some(row.status.clone());
        updated.status = ContentStatus::Trashed.as_str().to_owned();
        updated.updated_at = ctx.now;
        trashed.push(store::save_translation(tx, updated).await?);
    }
    store::touch_item(tx, item_id, ctx.now).await?;
    jobs::enqueue(
        tx,
        "search.remove",
        json!({"item_id": item_id.0}),
        Some(format!("search.remove:{item_id}")),
        ctx.now,
    )
    .await?;
    enqueue_cache_purge(tx, item_id, ctx.now).await?;
    let entry = journal(ctx, tx, "item.trash", "item", Some(item_id.0), Some(json!(before)), None).await?;
    for row in &trashed {
        crate::integrity::reseal_translation(ctx, tx, entry, row).await?;
    }
    Ok(())
}

/// Restores an item from the trash to the statuses it had.
pub async fn restore_item(ctx: &Ctx<'_>, item_id: ItemId) -> Result<(), ActionError> {
    let tx = baspa_db::begin_write(ctx.db).await?;
    let item = store::get_item(&tx, item_id).await?;
    ctx.actor.require_in(Capability::RestoreFromTrash, &item_scope(&tx, &item).await?, "restore this item")?;
    let rows = store::translations_of_item(&tx, item_id).await?;
    let mut after = Vec::new();
    let mut restored = Vec::new();
    for row in rows {
        if row.status != ContentStatus::Trashed.as_str() {
            continue;
        }
        let mut updated = row.clone();
        updated.status = row.status_before_trash.clone().unwrap_or_else(|| ContentStatus::Draft.as_str().to_owned());
        updated.status_before_trash = None;
        updated.updated_at = ctx.now;
        let saved = store::save_translation(&tx, updated).await?;
        if saved.status == ContentStatus::Published.as_str() {
            enqueue_publish_followups(&tx, item_id, ctx.now).await?;
        }
        after.push(content_summary(&saved));
        restored.push(saved);
    }
    store::touch_item(&tx, item_id, ctx.now).await?;
    enqueue_search_index(&tx, item_id, ctx.now).await?;
    let entry = journal(ctx, &tx, "item.restore", "item", Some(item_id.0), None, Some(json!(after))).await?;
    for row in &restored {
        crate::integrity::reseal_translation(ctx, &tx, entry, row).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub struct CommentInput<'a> {
    pub item_id: ItemId,
    pub lang: &'a str,
    pub parent: Option<CommentId>,
    pub author_name: &'a str,
    pub author_email: Option<&'a str>,
    pub body: &'a str,
    pub status: CommentStatus,
    /// When it was written; `None` is now. The importer keeps the source's date (MG-1).
    pub posted_at: Option<baspa_domain::Timestamp>,
}

/// Records a comment in a given moderation state (importer, demo, moderators).
pub async fn add_comment(ctx: &Ctx<'_>, input: CommentInput<'_>) -> Result<CommentId, ActionError> {
    let tx = baspa_db::begin_write(ctx.db).await?;
    let out = add_comment_in(ctx, &tx, input).await?;
    tx.commit().await?;
    Ok(out)
}

/// [`add_comment`] inside the caller's transaction (the importer commits an object and its
/// import-map row together, MG-6).
pub(crate) async fn add_comment_in(
    ctx: &Ctx<'_>,
    tx: &DatabaseTransaction,
    input: CommentInput<'_>,
) -> Result<CommentId, ActionError> {
    if input.body.trim().is_empty() || input.author_name.trim().is_empty() {
        return Err(ActionError::Invalid("a comment needs an author name and text".into()));
    }
    let item = store::get_item(tx, input.item_id).await?;
    let scope = item_scope(tx, &item).await?.in_lang(input.lang);
    ctx.actor.require_in(Capability::ModerateComments, &scope, "add moderated comments")?;
    let row = store::insert_comment(
        tx,
        NewComment {
            item_id: input.item_id,
            lang: input.lang,
            parent_id: input.parent.map(|c| c.0),
            author_name: input.author_name.trim(),
            author_email: input.author_email,
            body: input.body.trim(),
            status: input.status,
            ip: ctx.actor.ip.clone(),
        },
        input.posted_at.unwrap_or(ctx.now),
    )
    .await?;
    journal(
        ctx,
        tx,
        "comment.create",
        "comment",
        Some(row.id),
        None,
        Some(json!({"item_id": input.item_id.0, "lang": input.lang, "status": input.status.as_str()})),
    )
    .await?;
    Ok(CommentId(row.id))
}

/// Records a permanent redirect from an old path (migrations, renamed slugs; MG-4).
pub async fn add_redirect(
    ctx: &Ctx<'_>,
    host: &str,
    old_path: &str,
    target_item: ItemId,
    target_lang: &LangCode,
) -> Result<(), ActionError> {
    let new = NewRedirect {
        host,
        old_path,
        target_item_id: Some(target_item),
        target_lang: Some(target_lang.as_str()),
        target_url: None,
        status_code: 301,
    };
    let after = json!({"host": host, "old_path": old_path, "item_id": target_item.0, "lang": target_lang.as_str()});
    record_redirect(ctx, new, after).await
}

/// Checks, stores and journals one redirect (to an item or to a URL).
pub(crate) async fn record_redirect(ctx: &Ctx<'_>, new: NewRedirect<'_>, after: Value) -> Result<(), ActionError> {
    ctx.actor.require(Capability::ManageStructure, "manage redirects")?;
    if !new.old_path.starts_with('/') {
        return Err(ActionError::Invalid(format!("redirect path {:?} must start with '/'", new.old_path)));
    }
    let tx = baspa_db::begin_write(ctx.db).await?;
    let row = store::insert_redirect(&tx, new, ctx.now).await?;
    journal(ctx, &tx, "redirect.create", "redirect", Some(row.id), None, Some(after)).await?;
    tx.commit().await?;
    Ok(())
}

/// Registers a stored media file (the caller has already written it under `storage_key`).
pub async fn register_media(ctx: &Ctx<'_>, new: store::NewMedia<'_>) -> Result<MediaId, ActionError> {
    if !ctx.actor.may_somewhere(Capability::CreateContent) {
        return Err(ActionError::NotPermitted { action: "upload media" });
    }
    let tx = baspa_db::begin_write(ctx.db).await?;
    let row = store::insert_media(&tx, new, ctx.now).await?;
    let after = json!({"storage_key": row.storage_key, "mime": row.mime, "content_hash": row.content_hash, "bytes": row.byte_size});
    let entry = journal(ctx, &tx, "media.create", "media", Some(row.id), None, Some(after)).await?;
    crate::integrity::seal_media(ctx, &tx, entry, &row).await?;
    tx.commit().await?;
    Ok(MediaId(row.id))
}

/// An author hands a draft to the editors (SC-1): draft → in review.
pub async fn submit_for_review(ctx: &Ctx<'_>, id: TranslationId) -> Result<(), ActionError> {
    let tx = baspa_db::begin_write(ctx.db).await?;
    submit_for_review_in(ctx, &tx, id).await?;
    tx.commit().await?;
    Ok(())
}

/// [`submit_for_review`] inside the caller's transaction (the importer commits an object and its
/// import-map row together, MG-6).
pub(crate) async fn submit_for_review_in(
    ctx: &Ctx<'_>,
    tx: &DatabaseTransaction,
    id: TranslationId,
) -> Result<(), ActionError> {
    let row = store::get_translation(tx, id).await?;
    let item = store::get_item(tx, ItemId(row.item_id)).await?;
    if !may_edit(ctx, tx, &item, &row.lang).await? {
        return Err(ActionError::NotPermitted { action: "submit this item for review" });
    }
    if row.status != ContentStatus::Draft.as_str() {
        return Err(ActionError::Invalid(format!("only drafts can be submitted; this one is {}", row.status)));
    }
    let before = content_summary(&row);
    let mut updated = row.clone();
    updated.status = ContentStatus::InReview.as_str().to_owned();
    updated.updated_at = ctx.now;
    let updated = store::save_translation(tx, updated).await?;
    journal(ctx, tx, "translation.submit", "translation", Some(row.id), Some(before), Some(content_summary(&updated)))
        .await?;
    Ok(())
}

fn is_own_and_editable(ctx: &Ctx<'_>, item: &baspa_db::entity::item::Model, scope: &Scope) -> bool {
    let is_own = item.author_id.is_some() && item.author_id == ctx.actor.user_id.map(|u| u.0);
    is_own && ctx.actor.may(Capability::EditOwnContent, scope)
}

/// Editing one language version: any content with the edit-any right, one's own with the
/// edit-own right, or a translation in a language the actor translates.
async fn may_edit(
    ctx: &Ctx<'_>,
    tx: &DatabaseTransaction,
    item: &baspa_db::entity::item::Model,
    lang: &str,
) -> Result<bool, ActionError> {
    let scope = item_scope(tx, item).await?.in_lang(lang);
    Ok(ctx.actor.may(Capability::EditAnyContent, &scope)
        || is_own_and_editable(ctx, item, &scope)
        || ctx.actor.may(Capability::Translate, &scope))
}

/// An editor sends a translation in review back to its author with a comment (SC-1).
pub async fn return_to_author(ctx: &Ctx<'_>, id: TranslationId, comment: &str) -> Result<(), ActionError> {
    let comment = comment.trim();
    if comment.is_empty() {
        return Err(ActionError::Invalid("say what the author should change".into()));
    }
    let tx = baspa_db::begin_write(ctx.db).await?;
    let row = store::get_translation(&tx, id).await?;
    let item = store::get_item(&tx, ItemId(row.item_id)).await?;
    let scope = item_scope(&tx, &item).await?.in_lang(&row.lang);
    ctx.actor.require_in(Capability::Publish, &scope, "review content here")?;
    if row.status != ContentStatus::InReview.as_str() {
        return Err(ActionError::Invalid(format!(
            "only content in review can be returned; this one is {}",
            row.status
        )));
    }
    let before = content_summary(&row);
    let mut updated = row.clone();
    updated.status = ContentStatus::Draft.as_str().to_owned();
    updated.updated_at = ctx.now;
    let updated = store::save_translation(&tx, updated).await?;
    let mut after = content_summary(&updated);
    after["comment"] = json!(comment);
    journal(ctx, &tx, "translation.return", "translation", Some(row.id), Some(before), Some(after)).await?;
    tx.commit().await?;
    Ok(())
}

/// Takes a published translation off the site now, or at a time (a `content.unpublish` job).
/// It becomes a draft again, keeping its first publication date.
pub async fn unpublish_translation(ctx: &Ctx<'_>, id: TranslationId, at: Option<Timestamp>) -> Result<(), ActionError> {
    let tx = baspa_db::begin_write(ctx.db).await?;
    let row = store::get_translation(&tx, id).await?;
    let item = store::get_item(&tx, ItemId(row.item_id)).await?;
    let scope = item_scope(&tx, &item).await?.in_lang(&row.lang);
    ctx.actor.require_in(Capability::Publish, &scope, "unpublish here")?;
    if !matches!(ContentStatus::parse(&row.status), Ok(ContentStatus::Published | ContentStatus::Scheduled)) {
        return Err(ActionError::Invalid(format!(
            "only published content can be unpublished; this one is {}",
            row.status
        )));
    }
    let before = content_summary(&row);
    let mut updated = row.clone();
    updated.updated_at = ctx.now;
    let action = match at.map(baspa_domain::time::to_seconds) {
        Some(when) if when > ctx.now => {
            updated.unpublish_at = Some(when);
            jobs::enqueue(
                &tx,
                "content.unpublish",
                json!({"translation_id": id.0}),
                Some(format!("content.unpublish:{id}")),
                when,
            )
            .await?;
            "translation.schedule_unpublish"
        }
        _ => {
            updated.status = ContentStatus::Draft.as_str().to_owned();
            updated.unpublish_at = None;
            updated.publish_at = None;
            updated.live_revision_id = None;
            enqueue_removal_followups(&tx, ItemId(row.item_id), ctx.now).await?;
            "translation.unpublish"
        }
    };
    let updated = store::save_translation(&tx, updated).await?;
    store::touch_item(&tx, ItemId(row.item_id), ctx.now).await?;
    let entry =
        journal(ctx, &tx, action, "translation", Some(row.id), Some(before), Some(content_summary(&updated))).await?;
    crate::integrity::reseal_translation(ctx, &tx, entry, &updated).await?;
    tx.commit().await?;
    Ok(())
}

async fn enqueue_removal_followups(tx: &DatabaseTransaction, item: ItemId, now: Timestamp) -> Result<(), ActionError> {
    jobs::enqueue(tx, "search.remove", json!({"item_id": item.0}), Some(format!("search.remove:{item}")), now).await?;
    enqueue_cache_purge(tx, item, now).await?;
    Ok(())
}

/// Saves an older revision's content as a new revision (CM-10): history is never rewritten.
pub async fn restore_revision(
    ctx: &Ctx<'_>,
    id: TranslationId,
    revision: RevisionId,
) -> Result<RevisionId, ActionError> {
    let (old, lang) = {
        let rev = store::get_revision(ctx.db, revision.0).await?;
        if rev.translation_id != id.0 {
            return Err(ActionError::Invalid(format!("revision {revision} belongs to another translation")));
        }
        let lang = LangCode::parse(&rev.lang).map_err(|e| ActionError::Invalid(e.to_string()))?;
        (rev, lang)
    };
    let input = TranslationInput {
        lang,
        title: old.title.clone(),
        slug: Slug::parse(&old.slug).ok(),
        excerpt: old.excerpt.clone(),
        body_html: old.body.clone(),
        meta_title: old.meta_title.clone(),
        meta_description: old.meta_description.clone(),
        meta_keywords: old.meta_keywords.clone(),
        fields: old.fields.clone(),
    };
    let note = format!("restored from revision {}", old.number);
    match revise_translation(ctx, id, input.clone(), Some(&note)).await {
        // The old slug went to another item meanwhile: keep the current one.
        Err(ActionError::SlugTaken { .. }) => {
            let current = store::get_translation(ctx.db, id).await?;
            let input = TranslationInput { slug: Slug::parse(&current.slug).ok(), ..input };
            revise_translation(ctx, id, input, Some(&note)).await
        }
        other => other,
    }
}

/// Deletes a trashed item for good (its own right, SC-1). The journal keeps what was deleted.
pub async fn purge_item(ctx: &Ctx<'_>, item_id: ItemId) -> Result<(), ActionError> {
    let tx = baspa_db::begin_write(ctx.db).await?;
    let item = store::get_item(&tx, item_id).await?;
    ctx.actor.require_in(Capability::Purge, &item_scope(&tx, &item).await?, "delete this item for good")?;
    let rows = store::translations_of_item(&tx, item_id).await?;
    if rows.iter().any(|t| t.status != ContentStatus::Trashed.as_str()) {
        return Err(ActionError::Invalid("move the item to the trash before deleting it for good".into()));
    }
    let before: Vec<Value> = rows.iter().map(content_summary).collect();
    store::delete_item(&tx, item_id).await?;
    enqueue_removal_followups(&tx, item_id, ctx.now).await?;
    journal(ctx, &tx, "item.purge", item.kind.as_str(), Some(item_id.0), Some(json!(before)), None).await?;
    let ids: Vec<i64> = rows.iter().map(|t| t.id).collect();
    crate::integrity::retire_translation_seals(ctx, &tx, &ids).await?;
    tx.commit().await?;
    Ok(())
}

/// An upload as it arrives from the admin, the API or an import.
pub struct UploadInput<'a> {
    pub original_name: &'a str,
    pub bytes: &'a [u8],
    /// Alternative text per language code.
    pub alt: Value,
    pub max_bytes: usize,
    /// ClamAV, when configured: every upload that passes the built-in checks is scanned too.
    pub scanner: Option<&'a crate::clamd::Clamd>,
}

/// Checks and stores an uploaded file (CM-8, SC-3) under an unguessable name (HD-7), registers
/// it, journals it with its hash and queues its image variants. A refused file is journalled
/// too, with its quarantine key, and nothing is stored in the media folder; the file only
/// appears under its final name once fully written, and is removed again if the database
/// refuses the row.
pub async fn upload_media(
    ctx: &Ctx<'_>,
    media_dir: &std::path::Path,
    input: UploadInput<'_>,
) -> Result<MediaId, ActionError> {
    if !ctx.actor.may_somewhere(Capability::CreateContent) {
        return Err(ActionError::NotPermitted { action: "upload media" });
    }
    let sent_hash = blake3::hash(input.bytes).to_hex().to_string();
    let checked =
        match crate::uploads::inspect_with_scanner(input.original_name, input.bytes, input.max_bytes, input.scanner)
            .await
        {
            Ok(c) => c,
            Err(refusal) => {
                // Kept, not deleted, so an administrator can see what was tried (SC-3); the folder
                // sits beside the media folder and is never served.
                let quarantine_key =
                    if refusal.keeps_bytes() { crate::uploads::quarantine(media_dir, input.bytes).await } else { None };
                let tx = baspa_db::begin_write(ctx.db).await?;
                let after = json!({"name": input.original_name, "bytes": input.bytes.len(), "hash": sent_hash,
                               "reason": refusal.to_string(), "quarantine": quarantine_key});
                journal(ctx, &tx, "media.refused", "media", None, None, Some(after)).await?;
                tx.commit().await?;
                return Err(ActionError::Invalid(refusal.to_string()));
            }
        };
    let random: [u8; 16] = rand::random();
    let stem: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let storage_key = format!("{stem}.{}", checked.kind.extension());
    let stored_hash = blake3::hash(&checked.bytes).to_hex().to_string();
    let final_path = store_media_file(media_dir, &stem, &storage_key, &checked.bytes, &stored_hash).await?;
    let name = media_display_name(input.original_name);
    let new = store::NewMedia {
        storage_key: &storage_key,
        original_name: &name,
        mime: checked.kind.mime(),
        byte_size: checked.bytes.len() as i64,
        width: checked.width.map(|w| w as i32),
        height: checked.height.map(|h| h as i32),
        content_hash: &stored_hash,
        alt: input.alt.clone(),
        uploaded_by: ctx.actor.user_id.map(|u| u.0),
    };
    let after = json!({"storage_key": storage_key, "name": name, "mime": checked.kind.mime(), "bytes": checked.bytes.len(),
                       "sent_hash": sent_hash, "stored_hash": stored_hash});
    let result = record_stored_media(ctx, new, checked.kind.is_image(), "media.create", after).await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&final_path).await;
    }
    result
}

/// Writes a media file under its final name only once complete, and keeps the sealed copy that
/// lets an administrator put it back if it is replaced on disk (SC-5). Shared by uploads and imports.
pub(crate) async fn store_media_file(
    media_dir: &std::path::Path,
    stem: &str,
    storage_key: &str,
    bytes: &[u8],
    hash: &str,
) -> Result<std::path::PathBuf, ActionError> {
    let write_err = |e: std::io::Error| {
        tracing::error!(error = %e, dir = %media_dir.display(), "cannot write media");
        ActionError::Invalid("the file could not be stored; tell the administrator (disk full or not writable?)".into())
    };
    tokio::fs::create_dir_all(media_dir).await.map_err(write_err)?;
    let partial = media_dir.join(format!(".partial-{stem}"));
    let final_path = media_dir.join(storage_key);
    tokio::fs::write(&partial, bytes).await.map_err(write_err)?;
    tokio::fs::rename(&partial, &final_path).await.map_err(write_err)?;
    crate::integrity::keep_sealed_copy(media_dir, hash, bytes).await.map_err(write_err)?;
    Ok(final_path)
}

/// The last 200 characters of a file name, as the media library shows it.
pub(crate) fn media_display_name(original: &str) -> String {
    original.chars().rev().take(200).collect::<Vec<_>>().into_iter().rev().collect()
}

/// Registers a stored file in one transaction: the row, its variants job (images), the journal
/// entry `action` and the seal.
pub(crate) async fn record_stored_media(
    ctx: &Ctx<'_>,
    new: store::NewMedia<'_>,
    is_image: bool,
    action: &str,
    after: Value,
) -> Result<MediaId, ActionError> {
    let tx = baspa_db::begin_write(ctx.db).await?;
    let out = record_stored_media_in(ctx, &tx, new, is_image, action, after).await?;
    tx.commit().await?;
    Ok(out)
}

/// [`record_stored_media`] inside the caller's transaction (the importer commits an object and its
/// import-map row together, MG-6).
pub(crate) async fn record_stored_media_in(
    ctx: &Ctx<'_>,
    tx: &DatabaseTransaction,
    new: store::NewMedia<'_>,
    is_image: bool,
    action: &str,
    after: Value,
) -> Result<MediaId, ActionError> {
    let row = store::insert_media(tx, new, ctx.now).await?;
    if is_image {
        jobs::enqueue(
            tx,
            "media.variants",
            json!({"media_id": row.id}),
            Some(format!("media.variants:{}", row.id)),
            ctx.now,
        )
        .await?;
    }
    let entry = journal(ctx, tx, action, "media", Some(row.id), None, Some(after)).await?;
    crate::integrity::seal_media(ctx, tx, entry, &row).await?;
    Ok(MediaId(row.id))
}

/// Moderates a comment (CM-9): approve, mark as spam, or move to the trash.
pub async fn moderate_comment(ctx: &Ctx<'_>, id: CommentId, status: CommentStatus) -> Result<(), ActionError> {
    let tx = baspa_db::begin_write(ctx.db).await?;
    moderate_comment_in(ctx, &tx, id, status).await?;
    tx.commit().await?;
    Ok(())
}

/// [`moderate_comment`] inside the caller's transaction (the importer commits an object and its
/// import-map row together, MG-6).
pub(crate) async fn moderate_comment_in(
    ctx: &Ctx<'_>,
    tx: &DatabaseTransaction,
    id: CommentId,
    status: CommentStatus,
) -> Result<(), ActionError> {
    let mut row = store::get_comment(tx, id.0).await?;
    let item = store::get_item(tx, ItemId(row.item_id)).await?;
    let scope = item_scope(tx, &item).await?.in_lang(&row.lang);
    ctx.actor.require_in(Capability::ModerateComments, &scope, "moderate comments here")?;
    let before = json!({"status": row.status});
    row.status = status.as_str().to_owned();
    row.updated_at = ctx.now;
    store::save_comment(tx, row).await?;
    journal(ctx, tx, "comment.moderate", "comment", Some(id.0), Some(before), Some(json!({"status": status.as_str()})))
        .await?;
    // Approving shows the comment, any other change may hide one that was shown.
    enqueue_cache_purge(tx, ItemId(item.id), ctx.now).await?;
    Ok(())
}

/// Moves a section (or page) one place up or down among its siblings in the menu (CM-1).
/// Positions are renumbered 1..n so gaps and duplicates from imports disappear.
pub async fn move_item(ctx: &Ctx<'_>, id: ItemId, up: bool) -> Result<(), ActionError> {
    let tx = baspa_db::begin_write(ctx.db).await?;
    let item = store::get_item(&tx, id).await?;
    let scope = match item.parent_id {
        Some(parent) if item.kind == ItemKind::Section.as_str() => section_scope(&tx, Some(ItemId(parent))).await?,
        _ => Scope::site(),
    };
    ctx.actor.require_in(Capability::ManageStructure, &scope, "change the menu order here")?;
    let mut order: Vec<i64> = store::siblings_of(&tx, id).await?.into_iter().map(|i| i.id).collect();
    let Some(at) = order.iter().position(|&i| i == id.0) else {
        return Err(ActionError::NotFound(format!("item {id}")));
    };
    let to = if up { at.checked_sub(1) } else { Some(at + 1).filter(|&t| t < order.len()) };
    let Some(to) = to else { return Ok(()) };
    order.swap(at, to);
    for (n, sibling) in order.iter().enumerate() {
        store::set_position(&tx, ItemId(*sibling), n as i32 + 1, ctx.now).await?;
    }
    journal(
        ctx,
        &tx,
        "item.move",
        item.kind.as_str(),
        Some(id.0),
        Some(json!({"index": at})),
        Some(json!({"index": to})),
    )
    .await?;
    // The menu on every page changed order.
    enqueue_site_purge(&tx, ctx.now).await?;
    tx.commit().await?;
    Ok(())
}

/// A visitor's comment as it arrives from the public form.
pub struct PublicComment<'a> {
    pub item_id: ItemId,
    pub lang: &'a str,
    pub author_name: &'a str,
    pub author_email: Option<&'a str>,
    pub body: &'a str,
}

/// Comments one address may post within [`COMMENT_WINDOW_MINUTES`].
pub const COMMENTS_PER_WINDOW: i32 = 3;
pub const COMMENT_WINDOW_MINUTES: i64 = 10;

/// A visitor posts a comment (CM-9): only on a published language version, checked for size,
/// limited per address (HD-10: `COMMENTS_PER_WINDOW` in `COMMENT_WINDOW_MINUTES`), stored as
/// pending for the moderators and journalled with the address. The actor is the visitor.
pub async fn post_public_comment(ctx: &Ctx<'_>, input: PublicComment<'_>) -> Result<CommentId, ActionError> {
    let name = input.author_name.trim();
    let body = input.body.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ActionError::Invalid("write your name (up to 100 characters)".into()));
    }
    if body.chars().count() < 2 || body.chars().count() > 4000 {
        return Err(ActionError::Invalid("the comment must have 2 to 4000 characters".into()));
    }
    let email = input.author_email.map(str::trim).filter(|e| !e.is_empty());
    if email.is_some_and(|e| e.len() > 254 || !e.contains('@') || e.contains(char::is_whitespace)) {
        return Err(ActionError::Invalid(
            "the e-mail address does not look right; leave it empty if you prefer".into(),
        ));
    }
    let tx = baspa_db::begin_write(ctx.db).await?;
    store::get_item(&tx, input.item_id).await?;
    let open = store::translations_of_item(&tx, input.item_id)
        .await?
        .iter()
        .any(|t| t.lang == input.lang && t.status == ContentStatus::Published.as_str());
    if !open {
        return Err(ActionError::NotFound(format!("item {}", input.item_id)));
    }
    let key = format!("comment:{}", ctx.actor.ip.as_deref().unwrap_or("unknown"));
    let window = chrono::Duration::minutes(COMMENT_WINDOW_MINUTES);
    let count = baspa_db::staff_access::count_event(&tx, &key, window, ctx.now).await?;
    if count > COMMENTS_PER_WINDOW {
        return Err(ActionError::Invalid(format!(
            "too many comments from your address; try again in {COMMENT_WINDOW_MINUTES} minutes"
        )));
    }
    let row = store::insert_comment(
        &tx,
        NewComment {
            item_id: input.item_id,
            lang: input.lang,
            parent_id: None,
            author_name: name,
            author_email: email,
            body,
            status: CommentStatus::Pending,
            ip: ctx.actor.ip.clone(),
        },
        ctx.now,
    )
    .await?;
    let after =
        json!({"item_id": input.item_id.0, "lang": input.lang, "status": "pending", "chars": body.chars().count()});
    journal(ctx, &tx, "comment.submit", "comment", Some(row.id), None, Some(after)).await?;
    tx.commit().await?;
    Ok(CommentId(row.id))
}
