//! Items (translation groups), their translations and revisions, tags, comments, redirects and
//! media rows: everything a story, page, section or tag is made of.
//!
//! Reads used by the public site fetch whole lists in one query each (no N+1, PF-3).

use std::collections::HashMap;

use baspa_domain::{CommentStatus, ContentStatus, ItemId, ItemKind, MediaId, Timestamp, TranslationId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::Value;

use crate::StoreError;
use crate::entity::{comment, item, item_tag, media, media_variant, redirect, revision, translation};

/// The editable text of one translation; a revision stores a copy of it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TranslationContent {
    pub title: String,
    pub slug: String,
    pub excerpt: String,
    pub body: String,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub meta_keywords: Option<String>,
    pub fields: Value,
}

impl TranslationContent {
    pub fn of(t: &translation::Model) -> Self {
        Self {
            title: t.title.clone(),
            slug: t.slug.clone(),
            excerpt: t.excerpt.clone(),
            body: t.body.clone(),
            meta_title: t.meta_title.clone(),
            meta_description: t.meta_description.clone(),
            meta_keywords: t.meta_keywords.clone(),
            fields: t.fields.clone(),
        }
    }

    pub fn of_revision(r: &revision::Model) -> Self {
        Self {
            title: r.title.clone(),
            slug: r.slug.clone(),
            excerpt: r.excerpt.clone(),
            body: r.body.clone(),
            meta_title: r.meta_title.clone(),
            meta_description: r.meta_description.clone(),
            meta_keywords: r.meta_keywords.clone(),
            fields: r.fields.clone(),
        }
    }
}

pub struct NewItem {
    pub kind: ItemKind,
    pub parent_id: Option<ItemId>,
    pub section_id: Option<ItemId>,
    pub position: i32,
    pub author_id: Option<i64>,
    pub featured_media_id: Option<i64>,
    pub is_sticky: bool,
}

pub async fn insert_item(db: &impl ConnectionTrait, new: NewItem, now: Timestamp) -> Result<item::Model, StoreError> {
    Ok(item::ActiveModel {
        kind: Set(new.kind.as_str().to_owned()),
        parent_id: Set(new.parent_id.map(|i| i.0)),
        section_id: Set(new.section_id.map(|i| i.0)),
        position: Set(new.position),
        author_id: Set(new.author_id),
        featured_media_id: Set(new.featured_media_id),
        is_sticky: Set(new.is_sticky),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn get_item(db: &impl ConnectionTrait, id: ItemId) -> Result<item::Model, StoreError> {
    item::Entity::find_by_id(id.0).one(db).await?.ok_or_else(|| StoreError::NotFound(format!("item {id}")))
}

pub async fn touch_item(db: &impl ConnectionTrait, id: ItemId, now: Timestamp) -> Result<(), StoreError> {
    item::Entity::update_many()
        .col_expr(item::Column::UpdatedAt, Expr::value(now))
        .filter(item::Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Puts an entry into another section (or none).
pub async fn set_item_section(
    db: &impl ConnectionTrait,
    id: ItemId,
    section: Option<ItemId>,
    now: Timestamp,
) -> Result<(), StoreError> {
    item::Entity::update_many()
        .col_expr(item::Column::SectionId, Expr::value(section.map(|s| s.0)))
        .col_expr(item::Column::UpdatedAt, Expr::value(now))
        .filter(item::Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn set_item_tags(db: &impl ConnectionTrait, id: ItemId, tag_ids: &[ItemId]) -> Result<(), StoreError> {
    item_tag::Entity::delete_many().filter(item_tag::Column::ItemId.eq(id.0)).exec(db).await?;
    for (position, tag) in tag_ids.iter().enumerate() {
        item_tag::ActiveModel { item_id: Set(id.0), tag_id: Set(tag.0), position: Set(position as i32) }
            .insert(db)
            .await?;
    }
    Ok(())
}

pub async fn slug_is_taken(
    db: &impl ConnectionTrait,
    lang: &str,
    scope: &str,
    slug: &str,
    except: Option<TranslationId>,
) -> Result<bool, StoreError> {
    let mut q = translation::Entity::find()
        .filter(translation::Column::Lang.eq(lang))
        .filter(translation::Column::SlugScope.eq(scope))
        .filter(translation::Column::Slug.eq(slug));
    if let Some(id) = except {
        q = q.filter(translation::Column::Id.ne(id.0));
    }
    Ok(q.count(db).await? > 0)
}

pub struct NewTranslation<'a> {
    pub item_id: ItemId,
    pub lang: &'a str,
    pub status: ContentStatus,
    pub slug_scope: String,
    pub content: TranslationContent,
    pub published_at: Option<Timestamp>,
}

fn map_slug_conflict(e: sea_orm::DbErr, lang: &str, slug: &str) -> StoreError {
    if crate::is_unique_violation(&e, "translations_slug_unique", "translations.slug") {
        StoreError::SlugTaken { lang: lang.to_owned(), slug: slug.to_owned() }
    } else {
        StoreError::Internal(e)
    }
}

pub async fn insert_translation(
    db: &impl ConnectionTrait,
    new: NewTranslation<'_>,
    now: Timestamp,
) -> Result<translation::Model, StoreError> {
    let c = new.content;
    let (lang, slug) = (new.lang.to_owned(), c.slug.clone());
    translation::ActiveModel {
        item_id: Set(new.item_id.0),
        lang: Set(new.lang.to_owned()),
        status: Set(new.status.as_str().to_owned()),
        title: Set(c.title),
        slug: Set(c.slug),
        slug_scope: Set(new.slug_scope),
        excerpt: Set(c.excerpt),
        body: Set(c.body),
        meta_title: Set(c.meta_title),
        meta_description: Set(c.meta_description),
        meta_keywords: Set(c.meta_keywords),
        og_image_media_id: Set(None),
        fields: Set(c.fields),
        published_at: Set(new.published_at),
        publish_at: Set(None),
        unpublish_at: Set(None),
        status_before_trash: Set(None),
        live_revision_id: Set(None),
        latest_revision_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| map_slug_conflict(e, &lang, &slug))
}

/// Writes every column of a translation row as given.
pub async fn save_translation(
    db: &impl ConnectionTrait,
    row: translation::Model,
) -> Result<translation::Model, StoreError> {
    let (lang, slug) = (row.lang.clone(), row.slug.clone());
    let active: translation::ActiveModel = row.into();
    active.reset_all().update(db).await.map_err(|e| map_slug_conflict(e, &lang, &slug))
}

pub async fn get_translation(db: &impl ConnectionTrait, id: TranslationId) -> Result<translation::Model, StoreError> {
    translation::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("translation {id}")))
}

pub async fn translations_of_item(
    db: &impl ConnectionTrait,
    id: ItemId,
) -> Result<Vec<translation::Model>, StoreError> {
    Ok(translation::Entity::find()
        .filter(translation::Column::ItemId.eq(id.0))
        .order_by_asc(translation::Column::Id)
        .all(db)
        .await?)
}

/// Translations of many items at once (switchers, section names, tag names), optionally only
/// the public ones.
pub async fn translations_of_items(
    db: &impl ConnectionTrait,
    ids: &[i64],
    only_published: bool,
) -> Result<Vec<translation::Model>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = translation::Entity::find().filter(translation::Column::ItemId.is_in(ids.iter().copied()));
    if only_published {
        q = q.filter(translation::Column::Status.eq(ContentStatus::Published.as_str()));
    }
    Ok(q.order_by_asc(translation::Column::Id).all(db).await?)
}

pub struct NewRevision<'a> {
    pub translation: &'a translation::Model,
    pub content: &'a TranslationContent,
    pub author_id: Option<i64>,
    pub ip: Option<String>,
    pub note: Option<String>,
}

pub async fn insert_revision(
    db: &impl ConnectionTrait,
    new: NewRevision<'_>,
    now: Timestamp,
) -> Result<revision::Model, StoreError> {
    let last: Option<i32> = revision::Entity::find()
        .select_only()
        .column_as(revision::Column::Number.max(), "max_number")
        .filter(revision::Column::TranslationId.eq(new.translation.id))
        .into_tuple::<Option<i32>>()
        .one(db)
        .await?
        .flatten();
    let c = new.content;
    Ok(revision::ActiveModel {
        item_id: Set(new.translation.item_id),
        translation_id: Set(new.translation.id),
        lang: Set(new.translation.lang.clone()),
        number: Set(last.unwrap_or(0) + 1),
        author_id: Set(new.author_id),
        ip: Set(new.ip),
        note: Set(new.note),
        title: Set(c.title.clone()),
        slug: Set(c.slug.clone()),
        excerpt: Set(c.excerpt.clone()),
        body: Set(c.body.clone()),
        meta_title: Set(c.meta_title.clone()),
        meta_description: Set(c.meta_description.clone()),
        meta_keywords: Set(c.meta_keywords.clone()),
        fields: Set(c.fields.clone()),
        body_hash: Set(blake3::hash(c.body.as_bytes()).to_hex().to_string()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Writes a revision row back (only the integrity restore does: history is otherwise never edited).
pub async fn save_revision(db: &impl ConnectionTrait, row: revision::Model) -> Result<revision::Model, StoreError> {
    let active: revision::ActiveModel = row.into();
    Ok(active.reset_all().update(db).await?)
}

pub async fn get_revision(db: &impl ConnectionTrait, id: i64) -> Result<revision::Model, StoreError> {
    revision::Entity::find_by_id(id).one(db).await?.ok_or_else(|| StoreError::NotFound(format!("revision {id}")))
}

pub async fn revisions_of(db: &impl ConnectionTrait, id: TranslationId) -> Result<Vec<revision::Model>, StoreError> {
    Ok(revision::Entity::find()
        .filter(revision::Column::TranslationId.eq(id.0))
        .order_by_asc(revision::Column::Number)
        .all(db)
        .await?)
}

/// All items of one kind (sections and tags are few; the site keeps them in memory per request).
pub async fn items_of_kind(db: &impl ConnectionTrait, kind: ItemKind) -> Result<Vec<item::Model>, StoreError> {
    Ok(item::Entity::find()
        .filter(item::Column::Kind.eq(kind.as_str()))
        .order_by_asc(item::Column::Position)
        .order_by_asc(item::Column::Id)
        .all(db)
        .await?)
}

/// Items of the given kinds with ids above `after`, by id, at most `limit`: one page of a walk
/// over a large table (the search re-index) without loading it all or an OFFSET scan.
pub async fn items_after(
    db: &impl ConnectionTrait,
    kinds: &[ItemKind],
    after: Option<ItemId>,
    limit: u64,
) -> Result<Vec<item::Model>, StoreError> {
    let mut q = item::Entity::find().filter(item::Column::Kind.is_in(kinds.iter().map(|k| k.as_str())));
    if let Some(after) = after {
        q = q.filter(item::Column::Id.gt(after.0));
    }
    Ok(q.order_by_asc(item::Column::Id).limit(limit.max(1)).all(db).await?)
}

/// Items by id, in no particular order; unknown ids are left out.
pub async fn items_by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<item::Model>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(item::Entity::find().filter(item::Column::Id.is_in(ids.iter().copied())).all(db).await?)
}

/// The tag ids of many items at once, each list in the editor's order.
pub async fn tag_ids_of_items(db: &impl ConnectionTrait, ids: &[i64]) -> Result<HashMap<i64, Vec<i64>>, StoreError> {
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let rows: Vec<(i64, i64)> = item_tag::Entity::find()
        .select_only()
        .column(item_tag::Column::ItemId)
        .column(item_tag::Column::TagId)
        .filter(item_tag::Column::ItemId.is_in(ids.iter().copied()))
        .order_by_asc(item_tag::Column::ItemId)
        .order_by_asc(item_tag::Column::Position)
        .into_tuple()
        .all(db)
        .await?;
    for (item_id, tag_id) in rows {
        out.entry(item_id).or_default().push(tag_id);
    }
    Ok(out)
}

/// A published translation by slug within a scope.
pub async fn find_published(
    db: &impl ConnectionTrait,
    lang: &str,
    scope: &str,
    slug: &str,
) -> Result<Option<translation::Model>, StoreError> {
    find_by_slug(db, lang, scope, slug, Some(ContentStatus::Published)).await
}

/// A translation by language, slug scope and slug, optionally only in one status.
async fn find_by_slug(
    db: &impl ConnectionTrait,
    lang: &str,
    scope: &str,
    slug: &str,
    status: Option<ContentStatus>,
) -> Result<Option<translation::Model>, StoreError> {
    let mut q = translation::Entity::find()
        .filter(translation::Column::Lang.eq(lang))
        .filter(translation::Column::SlugScope.eq(scope))
        .filter(translation::Column::Slug.eq(slug));
    if let Some(status) = status {
        q = q.filter(translation::Column::Status.eq(status.as_str()));
    }
    Ok(q.one(db).await?)
}

/// Filter for listing published entries.
#[derive(Debug, Default, Clone)]
pub struct EntryFilter {
    pub section_ids: Option<Vec<i64>>,
    pub tag_id: Option<i64>,
    pub author_id: Option<i64>,
    /// Published at or after this time and before the second one.
    pub published_between: Option<(Timestamp, Timestamp)>,
    pub limit: u64,
    pub offset: u64,
}

/// Published articles and documents in a language, newest first, with their items. One query
/// with a subquery on `items` (no id lists in parameters, which would hit the backends'
/// parameter limits on large archives), then one query for the page's items.
pub async fn published_entries(
    db: &impl ConnectionTrait,
    lang: &str,
    filter: &EntryFilter,
) -> Result<Vec<(translation::Model, item::Model)>, StoreError> {
    use sea_orm::sea_query::Query;
    // Articles and documents are exactly the translations in the "entry" slug scope, so the
    // common listing (home, feeds) needs no join: it walks `translations_listing_idx`. Filters
    // on item columns add one subquery on `items`.
    let mut item_cond = Condition::all();
    let mut has_item_filter = false;
    if let Some(sections) = &filter.section_ids {
        item_cond = item_cond.add(item::Column::SectionId.is_in(sections.iter().copied()));
        has_item_filter = true;
    }
    if let Some(author) = filter.author_id {
        item_cond = item_cond.add(item::Column::AuthorId.eq(author));
        has_item_filter = true;
    }
    if let Some(tag) = filter.tag_id {
        item_cond = item_cond.add(
            item::Column::Id.in_subquery(
                Query::select()
                    .column(item_tag::Column::ItemId)
                    .from(item_tag::Entity)
                    .and_where(item_tag::Column::TagId.eq(tag))
                    .to_owned(),
            ),
        );
        has_item_filter = true;
    }
    let mut q = translation::Entity::find()
        .filter(translation::Column::Lang.eq(lang))
        .filter(translation::Column::Status.eq(ContentStatus::Published.as_str()))
        .filter(translation::Column::SlugScope.eq(ItemKind::Article.slug_scope(None)));
    if has_item_filter {
        q =
            q.filter(translation::Column::ItemId.in_subquery(
                Query::select().column(item::Column::Id).from(item::Entity).cond_where(item_cond).to_owned(),
            ));
    }
    if let Some((from, to)) = filter.published_between {
        q = q.filter(translation::Column::PublishedAt.gte(from)).filter(translation::Column::PublishedAt.lt(to));
    }
    let rows = q
        .order_by_desc(translation::Column::PublishedAt)
        .order_by_desc(translation::Column::Id)
        .limit(filter.limit.max(1))
        .offset(filter.offset)
        .all(db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|t| t.item_id).collect();
    let items: HashMap<i64, item::Model> = item::Entity::find()
        .filter(item::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    Ok(rows.into_iter().filter_map(|t| items.get(&t.item_id).cloned().map(|i| (t, i))).collect())
}

pub async fn tag_ids_of(db: &impl ConnectionTrait, id: ItemId) -> Result<Vec<i64>, StoreError> {
    Ok(item_tag::Entity::find()
        .select_only()
        .column(item_tag::Column::TagId)
        .filter(item_tag::Column::ItemId.eq(id.0))
        .order_by_asc(item_tag::Column::Position)
        .into_tuple()
        .all(db)
        .await?)
}

pub struct NewComment<'a> {
    pub item_id: ItemId,
    pub lang: &'a str,
    pub parent_id: Option<i64>,
    pub author_name: &'a str,
    pub author_email: Option<&'a str>,
    pub body: &'a str,
    pub status: CommentStatus,
    pub ip: Option<String>,
}

pub async fn insert_comment(
    db: &impl ConnectionTrait,
    new: NewComment<'_>,
    now: Timestamp,
) -> Result<comment::Model, StoreError> {
    Ok(comment::ActiveModel {
        item_id: Set(new.item_id.0),
        lang: Set(new.lang.to_owned()),
        parent_id: Set(new.parent_id),
        author_name: Set(new.author_name.to_owned()),
        author_email: Set(new.author_email.map(str::to_owned)),
        user_id: Set(None),
        body: Set(new.body.to_owned()),
        status: Set(new.status.as_str().to_owned()),
        ip: Set(new.ip),
        user_agent: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn approved_comments(
    db: &impl ConnectionTrait,
    id: ItemId,
    lang: &str,
) -> Result<Vec<comment::Model>, StoreError> {
    Ok(comment::Entity::find()
        .filter(comment::Column::ItemId.eq(id.0))
        .filter(comment::Column::Lang.eq(lang))
        .filter(comment::Column::Status.eq(CommentStatus::Approved.as_str()))
        .order_by_asc(comment::Column::CreatedAt)
        .order_by_asc(comment::Column::Id)
        .all(db)
        .await?)
}

pub fn path_hash(path: &str) -> String {
    blake3::hash(path.as_bytes()).to_hex().to_string()
}

pub struct NewRedirect<'a> {
    pub host: &'a str,
    pub old_path: &'a str,
    pub target_item_id: Option<ItemId>,
    pub target_lang: Option<&'a str>,
    pub target_url: Option<&'a str>,
    pub status_code: i32,
}

pub async fn insert_redirect(
    db: &impl ConnectionTrait,
    new: NewRedirect<'_>,
    now: Timestamp,
) -> Result<redirect::Model, StoreError> {
    Ok(redirect::ActiveModel {
        host: Set(new.host.to_owned()),
        old_path: Set(new.old_path.to_owned()),
        old_path_hash: Set(path_hash(new.old_path)),
        target_item_id: Set(new.target_item_id.map(|i| i.0)),
        target_lang: Set(new.target_lang.map(str::to_owned)),
        target_url: Set(new.target_url.map(str::to_owned)),
        status_code: Set(new.status_code),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// A redirect for this exact path on this host, or on any host (`""`).
pub async fn find_redirect(
    db: &impl ConnectionTrait,
    host: &str,
    path: &str,
) -> Result<Option<redirect::Model>, StoreError> {
    let rows = redirect::Entity::find()
        .filter(redirect::Column::OldPathHash.eq(path_hash(path)))
        .filter(redirect::Column::Host.is_in([host, ""]))
        .all(db)
        .await?;
    Ok(rows.iter().find(|r| r.host == host).or_else(|| rows.first()).cloned())
}

pub struct NewMedia<'a> {
    pub storage_key: &'a str,
    pub original_name: &'a str,
    pub mime: &'a str,
    pub byte_size: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub content_hash: &'a str,
    pub alt: Value,
    pub uploaded_by: Option<i64>,
}

pub async fn insert_media(
    db: &impl ConnectionTrait,
    new: NewMedia<'_>,
    now: Timestamp,
) -> Result<media::Model, StoreError> {
    Ok(media::ActiveModel {
        storage_key: Set(new.storage_key.to_owned()),
        original_name: Set(new.original_name.to_owned()),
        mime: Set(new.mime.to_owned()),
        byte_size: Set(new.byte_size),
        width: Set(new.width),
        height: Set(new.height),
        content_hash: Set(new.content_hash.to_owned()),
        alt: Set(new.alt),
        uploaded_by: Set(new.uploaded_by),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn media_by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<media::Model>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(media::Entity::find().filter(media::Column::Id.is_in(ids.iter().copied())).all(db).await?)
}

/// A media row with these exact bytes (blake3), if any: imports store each file once.
pub async fn media_by_hash(db: &impl ConnectionTrait, hash: &str) -> Result<Option<media::Model>, StoreError> {
    Ok(media::Entity::find()
        .filter(media::Column::ContentHash.eq(hash))
        .order_by_asc(media::Column::Id)
        .one(db)
        .await?)
}

pub async fn media_by_storage_key(db: &impl ConnectionTrait, key: &str) -> Result<Option<media::Model>, StoreError> {
    Ok(media::Entity::find().filter(media::Column::StorageKey.eq(key)).one(db).await?)
}

/// Count of items of a kind (demo seeding and reports).
pub async fn count_items(db: &impl ConnectionTrait, kind: ItemKind) -> Result<u64, StoreError> {
    Ok(item::Entity::find().filter(item::Column::Kind.eq(kind.as_str())).count(db).await?)
}

/// A translation by slug whatever its status (to answer 410 for trashed items).
pub async fn find_any_status(
    db: &impl ConnectionTrait,
    lang: &str,
    scope: &str,
    slug: &str,
) -> Result<Option<translation::Model>, StoreError> {
    find_by_slug(db, lang, scope, slug, None).await
}

/// Published translations in `lang` with their items, from item `from` (inclusive) in item
/// order, at most `limit`: a page of a sitemap. Sitemaps of any size are read this way, a page at
/// a time, never whole (WS-3: 100,000 articles must not mean 100,000 rows in memory).
pub async fn published_page(
    db: &impl ConnectionTrait,
    lang: &str,
    from: Option<i64>,
    limit: u64,
) -> Result<Vec<(translation::Model, item::Model)>, StoreError> {
    let mut q = translation::Entity::find()
        .filter(translation::Column::Status.eq(ContentStatus::Published.as_str()))
        .filter(translation::Column::Lang.eq(lang));
    if let Some(from) = from {
        q = q.filter(translation::Column::ItemId.gte(from));
    }
    let rows =
        q.order_by_asc(translation::Column::ItemId).order_by_asc(translation::Column::Id).limit(limit).all(db).await?;
    with_items(db, rows).await
}

/// Every published translation (any language) of the given items, with its item.
pub async fn published_of_items(
    db: &impl ConnectionTrait,
    item_ids: &[i64],
) -> Result<Vec<(translation::Model, item::Model)>, StoreError> {
    if item_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = translation::Entity::find()
        .filter(translation::Column::Status.eq(ContentStatus::Published.as_str()))
        .filter(translation::Column::ItemId.is_in(item_ids.iter().copied()))
        .order_by_asc(translation::Column::ItemId)
        .order_by_asc(translation::Column::Id)
        .all(db)
        .await?;
    with_items(db, rows).await
}

async fn with_items(
    db: &impl ConnectionTrait,
    rows: Vec<translation::Model>,
) -> Result<Vec<(translation::Model, item::Model)>, StoreError> {
    let mut ids: Vec<i64> = rows.iter().map(|t| t.item_id).collect();
    ids.dedup();
    let items: HashMap<i64, item::Model> = items_by_ids(db, &ids).await?.into_iter().map(|i| (i.id, i)).collect();
    Ok(rows.into_iter().filter_map(|t| items.get(&t.item_id).cloned().map(|i| (t, i))).collect())
}

/// How many translations are published in `lang`.
pub async fn count_published(db: &impl ConnectionTrait, lang: &str) -> Result<u64, StoreError> {
    Ok(translation::Entity::find()
        .filter(translation::Column::Status.eq(ContentStatus::Published.as_str()))
        .filter(translation::Column::Lang.eq(lang))
        .count(db)
        .await?)
}

/// The item of the `skip`-th published translation in `lang` (in item order): where a sitemap
/// part after the first begins.
pub async fn nth_published_item(db: &impl ConnectionTrait, lang: &str, skip: u64) -> Result<Option<i64>, StoreError> {
    let row = translation::Entity::find()
        .select_only()
        .column(translation::Column::ItemId)
        .filter(translation::Column::Status.eq(ContentStatus::Published.as_str()))
        .filter(translation::Column::Lang.eq(lang))
        .order_by_asc(translation::Column::ItemId)
        .order_by_asc(translation::Column::Id)
        .offset(skip)
        .limit(1)
        .into_tuple::<i64>()
        .one(db)
        .await?;
    Ok(row)
}

/// Translations by id, in id order; unknown ids are left out.
pub async fn translations_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<translation::Model>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(translation::Entity::find()
        .filter(translation::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(translation::Column::Id)
        .all(db)
        .await?)
}

/// The ids of every published translation (ids only: cheap at any size).
pub async fn published_translation_ids(db: &impl ConnectionTrait) -> Result<Vec<i64>, StoreError> {
    Ok(translation::Entity::find()
        .select_only()
        .column(translation::Column::Id)
        .filter(translation::Column::Status.eq(ContentStatus::Published.as_str()))
        .order_by_asc(translation::Column::Id)
        .into_tuple::<i64>()
        .all(db)
        .await?)
}

/// A section and its ancestors, nearest first; the walk is bounded so a cycle made by hand in
/// the database cannot loop.
pub async fn section_ancestry(db: &impl ConnectionTrait, section: ItemId) -> Result<Vec<i64>, StoreError> {
    const MAX_DEPTH: usize = 32;
    let mut chain = Vec::new();
    let mut next = Some(section.0);
    while let Some(id) = next {
        if chain.len() >= MAX_DEPTH || chain.contains(&id) {
            break;
        }
        let row = get_item(db, ItemId(id)).await?;
        chain.push(id);
        next = row.parent_id;
    }
    Ok(chain)
}

/// Deletes an item; its translations, revisions, tags, relations and comments go with it (FK
/// cascades). Refused while other items sit under it.
pub async fn delete_item(db: &impl ConnectionTrait, id: ItemId) -> Result<(), StoreError> {
    let dependants = item::Entity::find()
        .filter(Condition::any().add(item::Column::ParentId.eq(id.0)).add(item::Column::SectionId.eq(id.0)))
        .count(db)
        .await?;
    if dependants > 0 {
        return Err(StoreError::InUse(format!("item {id} still holds {dependants} other items")));
    }
    item::Entity::delete_by_id(id.0).exec(db).await?;
    Ok(())
}

/// What the admin's content list filters on. Text matches titles (case as stored; LIKE with
/// the pattern characters escaped).
#[derive(Debug, Default, Clone)]
pub struct AdminFilter {
    pub kinds: Vec<ItemKind>,
    pub status: Option<ContentStatus>,
    pub lang: Option<String>,
    pub section_id: Option<i64>,
    pub author_id: Option<i64>,
    pub title_contains: Option<String>,
    /// Items lacking a version in this language (CM-3).
    pub missing_lang: Option<String>,
    pub limit: u64,
    pub offset: u64,
}

/// One page of items for the admin, most recently changed first, each with all its language
/// versions, and the total count. Three queries whatever the page size.
pub async fn admin_items(
    db: &impl ConnectionTrait,
    filter: &AdminFilter,
) -> Result<(Vec<(item::Model, Vec<translation::Model>)>, u64), StoreError> {
    use sea_orm::sea_query::Query;
    let mut cond = Condition::all();
    if !filter.kinds.is_empty() {
        cond = cond.add(item::Column::Kind.is_in(filter.kinds.iter().map(|k| k.as_str())));
    }
    if let Some(section) = filter.section_id {
        cond = cond.add(item::Column::SectionId.eq(section));
    }
    if let Some(author) = filter.author_id {
        cond = cond.add(item::Column::AuthorId.eq(author));
    }
    let mut t_cond = Condition::all();
    let mut has_t_filter = false;
    if let Some(status) = filter.status {
        t_cond = t_cond.add(translation::Column::Status.eq(status.as_str()));
        has_t_filter = true;
    }
    if let Some(lang) = &filter.lang {
        t_cond = t_cond.add(translation::Column::Lang.eq(lang.as_str()));
        has_t_filter = true;
    }
    if let Some(text) = filter.title_contains.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        t_cond = t_cond.add(contains_text(translation::Column::Title, text));
        has_t_filter = true;
    }
    if has_t_filter {
        cond = cond.add(item::Column::Id.in_subquery(
            Query::select().column(translation::Column::ItemId).from(translation::Entity).cond_where(t_cond).to_owned(),
        ));
    }
    if let Some(lang) = &filter.missing_lang {
        cond = cond.add(
            item::Column::Id.not_in_subquery(
                Query::select()
                    .column(translation::Column::ItemId)
                    .from(translation::Entity)
                    .and_where(translation::Column::Lang.eq(lang.as_str()))
                    .to_owned(),
            ),
        );
    }
    let total = item::Entity::find().filter(cond.clone()).count(db).await?;
    let items = item::Entity::find()
        .filter(cond)
        .order_by_desc(item::Column::UpdatedAt)
        .order_by_desc(item::Column::Id)
        .limit(filter.limit.max(1))
        .offset(filter.offset)
        .all(db)
        .await?;
    let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    let mut by_item: HashMap<i64, Vec<translation::Model>> = HashMap::new();
    for t in translation::Entity::find()
        .filter(translation::Column::ItemId.is_in(ids))
        .order_by_asc(translation::Column::Id)
        .all(db)
        .await?
    {
        by_item.entry(t.item_id).or_default().push(t);
    }
    Ok((
        items
            .into_iter()
            .map(|i| {
                let ts = by_item.remove(&i.id).unwrap_or_default();
                (i, ts)
            })
            .collect(),
        total,
    ))
}

/// A page of the media library, newest first, optionally filtered by name.
pub async fn media_page(
    db: &impl ConnectionTrait,
    name_contains: Option<&str>,
    limit: u64,
    offset: u64,
) -> Result<(Vec<media::Model>, u64), StoreError> {
    let mut q = media::Entity::find();
    if let Some(text) = name_contains.map(str::trim).filter(|t| !t.is_empty()) {
        q = q.filter(contains_text(media::Column::OriginalName, text));
    }
    let total = q.clone().count(db).await?;
    let rows = q.order_by_desc(media::Column::Id).limit(limit.max(1)).offset(offset).all(db).await?;
    Ok((rows, total))
}

/// Writes a media row back (the integrity restore).
pub async fn save_media(db: &impl ConnectionTrait, row: media::Model) -> Result<media::Model, StoreError> {
    let active: media::ActiveModel = row.into();
    Ok(active.reset_all().update(db).await?)
}

pub async fn get_media(db: &impl ConnectionTrait, id: MediaId) -> Result<media::Model, StoreError> {
    media::Entity::find_by_id(id.0).one(db).await?.ok_or_else(|| StoreError::NotFound(format!("media {id}")))
}

pub struct NewVariant<'a> {
    pub media_id: MediaId,
    pub label: &'a str,
    pub storage_key: &'a str,
    pub mime: &'a str,
    pub width: i32,
    pub height: i32,
    pub byte_size: i64,
    pub content_hash: &'a str,
}

/// Records a generated variant; a second run for the same label replaces nothing and returns
/// the existing row (jobs may run twice).
pub async fn insert_variant(
    db: &impl ConnectionTrait,
    new: NewVariant<'_>,
    now: Timestamp,
) -> Result<media_variant::Model, StoreError> {
    if let Some(existing) = media_variant::Entity::find()
        .filter(media_variant::Column::MediaId.eq(new.media_id.0))
        .filter(media_variant::Column::Label.eq(new.label))
        .one(db)
        .await?
    {
        return Ok(existing);
    }
    Ok(media_variant::ActiveModel {
        media_id: Set(new.media_id.0),
        label: Set(new.label.to_owned()),
        storage_key: Set(new.storage_key.to_owned()),
        mime: Set(new.mime.to_owned()),
        width: Set(new.width),
        height: Set(new.height),
        byte_size: Set(new.byte_size),
        content_hash: Set(new.content_hash.to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn variants_of(db: &impl ConnectionTrait, id: MediaId) -> Result<Vec<media_variant::Model>, StoreError> {
    Ok(media_variant::Entity::find()
        .filter(media_variant::Column::MediaId.eq(id.0))
        .order_by_asc(media_variant::Column::Width)
        .all(db)
        .await?)
}

/// Items that show a media row as their featured image.
pub async fn items_featuring(db: &impl ConnectionTrait, media: MediaId) -> Result<Vec<i64>, StoreError> {
    Ok(item::Entity::find()
        .filter(item::Column::FeaturedMediaId.eq(media.0))
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.id)
        .collect())
}

/// Ids of every stored raster image, oldest first (for converting the whole library).
pub async fn image_media_ids(db: &impl ConnectionTrait) -> Result<Vec<i64>, StoreError> {
    Ok(media::Entity::find()
        .filter(media::Column::Mime.is_in(["image/jpeg", "image/png", "image/gif", "image/webp"]))
        .order_by_asc(media::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect())
}

/// The variants of several media rows, by media id (one query for a whole page of cards).
pub async fn variants_of_many(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<media_variant::Model>>, StoreError> {
    let mut out: HashMap<i64, Vec<media_variant::Model>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for v in media_variant::Entity::find()
        .filter(media_variant::Column::MediaId.is_in(ids.iter().copied()))
        .order_by_asc(media_variant::Column::Width)
        .all(db)
        .await?
    {
        out.entry(v.media_id).or_default().push(v);
    }
    Ok(out)
}

/// The MIME type of a stored file by its key: an original or one of its variants.
pub async fn stored_file_mime(db: &impl ConnectionTrait, key: &str) -> Result<Option<String>, StoreError> {
    if let Some(m) = media_by_storage_key(db, key).await? {
        return Ok(Some(m.mime));
    }
    Ok(media_variant::Entity::find().filter(media_variant::Column::StorageKey.eq(key)).one(db).await?.map(|v| v.mime))
}

pub async fn get_comment(db: &impl ConnectionTrait, id: i64) -> Result<comment::Model, StoreError> {
    comment::Entity::find_by_id(id).one(db).await?.ok_or_else(|| StoreError::NotFound(format!("comment {id}")))
}

pub async fn save_comment(db: &impl ConnectionTrait, row: comment::Model) -> Result<comment::Model, StoreError> {
    let active: comment::ActiveModel = row.into();
    Ok(active.reset_all().update(db).await?)
}

/// Comments in one moderation state, newest first (the moderation queue).
pub async fn comments_in(
    db: &impl ConnectionTrait,
    status: CommentStatus,
    limit: u64,
) -> Result<Vec<comment::Model>, StoreError> {
    Ok(comment::Entity::find()
        .filter(comment::Column::Status.eq(status.as_str()))
        .order_by_desc(comment::Column::CreatedAt)
        .order_by_desc(comment::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// The items under the same parent as `id` (siblings in the section tree), in menu order.
pub async fn siblings_of(db: &impl ConnectionTrait, id: ItemId) -> Result<Vec<item::Model>, StoreError> {
    let row = get_item(db, id).await?;
    let mut q = item::Entity::find().filter(item::Column::Kind.eq(row.kind.as_str()));
    q = match row.parent_id {
        Some(p) => q.filter(item::Column::ParentId.eq(p)),
        None => q.filter(item::Column::ParentId.is_null()),
    };
    Ok(q.order_by_asc(item::Column::Position).order_by_asc(item::Column::Id).all(db).await?)
}

pub async fn set_position(
    db: &impl ConnectionTrait,
    id: ItemId,
    position: i32,
    now: Timestamp,
) -> Result<(), StoreError> {
    item::Entity::update_many()
        .col_expr(item::Column::Position, Expr::value(position))
        .col_expr(item::Column::UpdatedAt, Expr::value(now))
        .filter(item::Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// `column LIKE '%text%'` with the pattern characters of `text` escaped, so a search for
/// "50%" or "a_b" means those characters (bound as a parameter like every value).
pub(crate) fn contains_text(column: impl sea_orm::ColumnTrait, text: &str) -> sea_orm::sea_query::SimpleExpr {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    sea_orm::sea_query::ExprTrait::like(
        Expr::col(column),
        sea_orm::sea_query::LikeExpr::new(format!("%{escaped}%")).escape('\\'),
    )
}
