//! A backend-independent dump of the content tables, used to prove that the same actions leave
//! the same rows on SQLite, PostgreSQL and MySQL (same order, same timestamps, same text).

use baspa_db::entity::{item, item_tag, job, journal_entry, revision, translation};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};
use serde_json::{Value, json};

/// Rows of the content tables in id order, as JSON with times in RFC 3339.
pub async fn content_snapshot(db: &impl ConnectionTrait) -> Value {
    let items = item::Entity::find().order_by_asc(item::Column::Id).all(db).await.expect("items");
    let translations =
        translation::Entity::find().order_by_asc(translation::Column::Id).all(db).await.expect("translations");
    let revisions = revision::Entity::find().order_by_asc(revision::Column::Id).all(db).await.expect("revisions");
    let tags = item_tag::Entity::find()
        .order_by_asc(item_tag::Column::ItemId)
        .order_by_asc(item_tag::Column::TagId)
        .all(db)
        .await
        .expect("tags");
    let journal = journal_entry::Entity::find().order_by_asc(journal_entry::Column::Id).all(db).await.expect("journal");
    let jobs = job::Entity::find().order_by_asc(job::Column::Id).all(db).await.expect("jobs");
    json!({
        "items": items.iter().map(|i| json!([i.id, i.kind, i.parent_id, i.section_id, i.position, i.author_id, i.is_sticky, i.created_at.to_rfc3339(), i.updated_at.to_rfc3339()])).collect::<Vec<_>>(),
        "translations": translations.iter().map(|t| json!([t.id, t.item_id, t.lang, t.status, t.title, t.slug, t.slug_scope, t.excerpt, t.body, t.meta_title, t.meta_description, t.meta_keywords, t.fields, t.published_at.map(|d| d.to_rfc3339()), t.status_before_trash, t.live_revision_id, t.latest_revision_id, t.created_at.to_rfc3339(), t.updated_at.to_rfc3339()])).collect::<Vec<_>>(),
        "revisions": revisions.iter().map(|r| json!([r.id, r.translation_id, r.lang, r.number, r.author_id, r.title, r.slug, r.body, r.body_hash, r.fields, r.created_at.to_rfc3339()])).collect::<Vec<_>>(),
        "item_tags": tags.iter().map(|t| json!([t.item_id, t.tag_id, t.position])).collect::<Vec<_>>(),
        "journal": journal.iter().map(|j| json!([j.id, j.at.to_rfc3339(), j.actor_label, j.action, j.entity_kind, j.entity_id, j.before, j.after, j.prev_hash, j.hash])).collect::<Vec<_>>(),
        "jobs": jobs.iter().map(|j| json!([j.id, j.kind, j.payload, j.dedupe_key, j.status, j.run_at.to_rfc3339()])).collect::<Vec<_>>(),
    })
}
