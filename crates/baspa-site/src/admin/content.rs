//! Content pages of the admin: dashboard, list with filters, create, edit (CKEditor), the
//! translations of an item side by side (CM-3), workflow buttons (SC-1), revisions with diff and
//! restore (CM-10). A refused or invalid change re-shows the form with what was typed (nothing
//! is lost) and the reason.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use baspa_actions::{ActionError, Ctx, NewItemInput, TranslationInput};
use baspa_db::content::{self as store, AdminFilter};
use baspa_db::entity::{item, translation};
use baspa_domain::{ContentStatus, ItemId, ItemKind, LangCode, RevisionId, Slug, TranslationId};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Frame, Staff, action_message, action_status, page};
use crate::SiteState;
use crate::headers::{CspNonce, RequestId};

const PAGE_SIZE: u64 = 50;

/// Shared extractors of every content page.
pub(crate) struct Req {
    state: SiteState,
    nonce: CspNonce,
    rid: RequestId,
    staff: Staff,
    headers: HeaderMap,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Req
where
    SiteState: axum::extract::FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = <SiteState as axum::extract::FromRef<S>>::from_ref(state);
        let ext = &parts.extensions;
        let (Some(nonce), Some(rid), Some(staff)) =
            (ext.get::<CspNonce>().cloned(), ext.get::<RequestId>().cloned(), ext.get::<Staff>().cloned())
        else {
            return Err(Redirect::to(&format!("{}/login", state.admin.path)).into_response());
        };
        Ok(Req { state, nonce, rid, staff, headers: parts.headers.clone() })
    }
}

impl Req {
    pub(crate) fn state(&self) -> &SiteState {
        &self.state
    }

    pub(crate) fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    pub(crate) fn rid(&self) -> &RequestId {
        &self.rid
    }

    pub(crate) fn staff(&self) -> &baspa_actions::auth::StaffSession {
        &self.staff.0
    }

    pub(crate) fn frame(&self, title: &str) -> Frame {
        Frame::new(&self.state, &self.headers, &self.nonce, Some(&self.staff), title)
    }

    pub(crate) fn ctx(&self) -> (baspa_actions::Actor, baspa_domain::Timestamp) {
        (self.staff.0.actor.clone(), baspa_domain::time::now())
    }

    pub(crate) fn render(&self, template: &str, frame: &Frame, data: Value) -> Response {
        page(&self.state, template, frame, data, &self.rid)
    }

    pub(crate) fn fail(&self, e: impl std::fmt::Display) -> Response {
        tracing::error!(request_id = %self.rid.0, error = %e, "admin page failed");
        let ui = super::ui_lang(&self.headers);
        let msg = format!("{} ({})", baspa_render::translate(&ui, "admin-error-internal", None), self.rid.0);
        (StatusCode::INTERNAL_SERVER_ERROR, msg).into_response()
    }

    pub(crate) fn refused(&self, e: &ActionError) -> Response {
        let ui = super::ui_lang(&self.headers);
        let mut frame = self.frame("admin-error-title");
        frame.error = Some(action_message(&ui, e, &self.rid));
        (action_status(e), self.render("admin/message.html", &frame, json!({}))).into_response()
    }

    pub(crate) fn to(&self, path: &str) -> Response {
        Redirect::to(&format!("{}{path}", self.state.admin.path)).into_response()
    }
}

fn summary(t: &translation::Model) -> Value {
    json!({"id": t.id, "lang": t.lang, "title": t.title, "status": t.status, "slug": t.slug,
           "updated_at": t.updated_at.to_rfc3339(), "has_pending_revision": t.live_revision_id.is_some() && t.live_revision_id != t.latest_revision_id})
}

fn item_row(i: &item::Model, ts: &[translation::Model], sections: &HashMap<i64, String>) -> Value {
    json!({
        "id": i.id, "kind": i.kind, "updated_at": i.updated_at.to_rfc3339(),
        "section": i.section_id.and_then(|s| sections.get(&s).cloned()),
        "translations": ts.iter().map(summary).collect::<Vec<_>>(),
    })
}

/// Section titles in the UI language (falling back to any language), by item id.
pub(crate) async fn section_titles(state: &SiteState, ui: &str) -> Result<HashMap<i64, String>, baspa_db::StoreError> {
    let sections = store::items_of_kind(&state.db, ItemKind::Section).await?;
    let ids: Vec<i64> = sections.iter().map(|s| s.id).collect();
    let mut titles: HashMap<i64, String> = HashMap::new();
    for t in store::translations_of_items(&state.db, &ids, false).await? {
        if t.lang == ui || !titles.contains_key(&t.item_id) {
            titles.insert(t.item_id, t.title);
        }
    }
    Ok(titles)
}

pub(crate) fn section_options(titles: &HashMap<i64, String>) -> Vec<Value> {
    let mut list: Vec<_> = titles.iter().map(|(id, title)| json!({"id": id, "title": title})).collect();
    list.sort_by(|a, b| a["title"].as_str().cmp(&b["title"].as_str()));
    list
}

async fn language_codes(state: &SiteState) -> Result<Vec<String>, sea_orm::DbErr> {
    Ok(baspa_db::languages::list(&state.db).await?.into_iter().map(|l| l.code.to_string()).collect())
}

pub(crate) async fn dashboard(req: Req) -> Response {
    let frame = req.frame("admin-dashboard");
    let titles = match section_titles(&req.state, &frame.ui).await {
        Ok(t) => t,
        Err(e) => return req.fail(e),
    };
    let review = AdminFilter { status: Some(ContentStatus::InReview), limit: 20, ..Default::default() };
    let mine = AdminFilter {
        author_id: Some(req.staff.0.user.id),
        status: Some(ContentStatus::Draft),
        limit: 20,
        ..Default::default()
    };
    let (Ok((review, review_total)), Ok((mine, _))) =
        (store::admin_items(&req.state.db, &review).await, store::admin_items(&req.state.db, &mine).await)
    else {
        return req.fail("dashboard queries failed");
    };
    let rows = |list: &[(item::Model, Vec<translation::Model>)]| {
        list.iter().map(|(i, ts)| item_row(i, ts, &titles)).collect::<Vec<_>>()
    };
    req.render(
        "admin/dashboard.html",
        &frame,
        json!({"review": rows(&review), "review_total": review_total, "mine": rows(&mine)}),
    )
}

#[derive(Deserialize, Default)]
pub(crate) struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    section: String,
    #[serde(default)]
    missing: String,
    #[serde(default)]
    page: Option<u64>,
}

pub(crate) async fn list(req: Req, Query(q): Query<ListQuery>) -> Response {
    let frame = req.frame("admin-content");
    let page_no = q.page.unwrap_or(1).max(1);
    let filter = AdminFilter {
        kinds: match ItemKind::parse(&q.kind) {
            Ok(k) => vec![k],
            Err(_) => vec![ItemKind::Article, ItemKind::Page, ItemKind::Document],
        },
        status: ContentStatus::parse(&q.status).ok(),
        lang: Some(q.lang.clone()).filter(|l| !l.is_empty()),
        section_id: q.section.parse().ok(),
        author_id: None,
        title_contains: Some(q.q.clone()).filter(|s| !s.trim().is_empty()),
        missing_lang: Some(q.missing.clone()).filter(|l| !l.is_empty()),
        limit: PAGE_SIZE,
        offset: (page_no - 1) * PAGE_SIZE,
    };
    let titles = match section_titles(&req.state, &frame.ui).await {
        Ok(t) => t,
        Err(e) => return req.fail(e),
    };
    let (rows, total) = match store::admin_items(&req.state.db, &filter).await {
        Ok(r) => r,
        Err(e) => return req.fail(e),
    };
    let langs = match language_codes(&req.state).await {
        Ok(l) => l,
        Err(e) => return req.fail(e),
    };
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    req.render(
        "admin/list.html",
        &frame,
        json!({
            "rows": rows.iter().map(|(i, ts)| item_row(i, ts, &titles)).collect::<Vec<_>>(),
            "total": total, "page": page_no, "pages": pages, "languages": langs,
            "sections": section_options(&titles),
            "statuses": ["draft", "in_review", "scheduled", "published", "trashed"],
            "q": {"status": q.status, "lang": q.lang, "kind": q.kind, "q": q.q, "section": q.section, "missing": q.missing},
        }),
    )
}

/// The fields of the edit form; also re-shown as typed when saving fails.
#[derive(Deserialize, Default, serde::Serialize, Clone)]
pub(crate) struct EditForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    section_id: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    excerpt: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    meta_description: String,
    #[serde(default)]
    meta_keywords: String,
    #[serde(default)]
    note: String,
}

impl EditForm {
    fn to_input(&self) -> Result<TranslationInput, ActionError> {
        let lang = LangCode::parse(&self.lang).map_err(|e| ActionError::Invalid(e.to_string()))?;
        let slug = match self.slug.trim() {
            "" => None,
            s => Some(Slug::parse(s).map_err(|e| ActionError::Invalid(e.to_string()))?),
        };
        let opt = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        Ok(TranslationInput {
            lang,
            title: self.title.clone(),
            slug,
            excerpt: self.excerpt.clone(),
            body_html: self.body.clone(),
            meta_title: None,
            meta_description: opt(&self.meta_description),
            meta_keywords: opt(&self.meta_keywords),
            fields: json!({}),
        })
    }
}

async fn edit_page(req: &Req, frame: Frame, form: &EditForm, extra: Value, status: StatusCode) -> Response {
    let titles = match section_titles(&req.state, &frame.ui).await {
        Ok(t) => t,
        Err(e) => return req.fail(e),
    };
    let langs = match language_codes(&req.state).await {
        Ok(l) => l,
        Err(e) => return req.fail(e),
    };
    let mut data = json!({"form": form, "sections": section_options(&titles), "languages": langs});
    if let (Some(obj), Value::Object(extra)) = (data.as_object_mut(), extra) {
        obj.extend(extra);
    }
    (status, req.render("admin/edit.html", &frame, data)).into_response()
}

#[derive(Deserialize)]
pub(crate) struct NewQuery {
    #[serde(default)]
    kind: String,
}

pub(crate) async fn new_form(req: Req, Query(q): Query<NewQuery>) -> Response {
    let frame = req.frame("admin-new");
    let lang = match language_codes(&req.state).await {
        Ok(l) => l.into_iter().next().unwrap_or_default(),
        Err(e) => return req.fail(e),
    };
    let kind = if q.kind.is_empty() { "article".to_owned() } else { q.kind };
    let form = EditForm { kind, lang, ..Default::default() };
    edit_page(&req, frame, &form, json!({"mode": "new"}), StatusCode::OK).await
}

pub(crate) async fn create(req: Req, Form(form): Form<EditForm>) -> Response {
    let (actor, now) = req.ctx();
    let ctx = Ctx::at(&req.state.db, &actor, now);
    let result = async {
        let kind = ItemKind::parse(&form.kind).map_err(|e| ActionError::Invalid(e.to_string()))?;
        let mut input = NewItemInput::new(kind, vec![form.to_input()?]);
        // For a new section the chosen section is its parent in the tree.
        let chosen = form.section_id.parse().ok().map(ItemId);
        if kind == ItemKind::Section {
            input.parent = chosen;
        } else {
            input.section = chosen;
        }
        baspa_actions::create_item(&ctx, input).await
    }
    .await;
    match result {
        Ok(created) => match created.translations.first() {
            Some((_, id)) => req.to(&format!("/translation/{id}/edit?saved=1")),
            None => req.to("/content"),
        },
        Err(e) => {
            let mut frame = req.frame("admin-new");
            frame.error = Some(action_message(&frame.ui, &e, &req.rid));
            edit_page(&req, frame, &form, json!({"mode": "new"}), action_status(&e)).await
        }
    }
}

/// The latest revision's content (which may be newer than the live text) as a form.
async fn current_form(
    state: &SiteState,
    row: &translation::Model,
    item: &item::Model,
) -> Result<EditForm, baspa_db::StoreError> {
    let content = match row.latest_revision_id {
        Some(rev) => store::TranslationContent::of_revision(&store::get_revision(&state.db, rev).await?),
        None => store::TranslationContent::of(row),
    };
    Ok(EditForm {
        kind: item.kind.clone(),
        section_id: item.section_id.map(|s| s.to_string()).unwrap_or_default(),
        lang: row.lang.clone(),
        title: content.title,
        slug: content.slug,
        excerpt: content.excerpt,
        body: content.body,
        meta_description: content.meta_description.unwrap_or_default(),
        meta_keywords: content.meta_keywords.unwrap_or_default(),
        note: String::new(),
    })
}

async fn load(state: &SiteState, id: i64) -> Result<(translation::Model, item::Model), baspa_db::StoreError> {
    let row = store::get_translation(&state.db, TranslationId(id)).await?;
    let item = store::get_item(&state.db, ItemId(row.item_id)).await?;
    Ok((row, item))
}

fn not_found_or_fail(req: &Req, e: baspa_db::StoreError) -> Response {
    match e {
        baspa_db::StoreError::NotFound(_) => StatusCode::NOT_FOUND.into_response(),
        other => req.fail(other),
    }
}

#[derive(Deserialize)]
pub(crate) struct SavedQuery {
    #[serde(default)]
    saved: Option<u8>,
}

pub(crate) async fn edit_form(req: Req, Path(id): Path<i64>, Query(q): Query<SavedQuery>) -> Response {
    let (row, item) = match load(&req.state, id).await {
        Ok(x) => x,
        Err(e) => return not_found_or_fail(&req, e),
    };
    let form = match current_form(&req.state, &row, &item).await {
        Ok(f) => f,
        Err(e) => return req.fail(e),
    };
    let mut frame = req.frame("admin-edit");
    if q.saved.is_some() {
        frame.notice = Some(baspa_render::translate(&frame.ui, "admin-saved", None));
    }
    let extra = json!({"mode": "edit", "translation": summary(&row), "item_id": item.id});
    edit_page(&req, frame, &form, extra, StatusCode::OK).await
}

pub(crate) async fn save(req: Req, Path(id): Path<i64>, Form(form): Form<EditForm>) -> Response {
    let (actor, now) = req.ctx();
    let ctx = Ctx::at(&req.state.db, &actor, now);
    let note = Some(form.note.trim()).filter(|n| !n.is_empty());
    let result = match form.to_input() {
        Ok(input) => baspa_actions::revise_translation(&ctx, TranslationId(id), input, note).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => req.to(&format!("/translation/{id}/edit?saved=1")),
        Err(e) => {
            let mut frame = req.frame("admin-edit");
            frame.error = Some(action_message(&frame.ui, &e, &req.rid));
            let translation = match load(&req.state, id).await {
                Ok((row, _)) => summary(&row),
                Err(_) => Value::Null,
            };
            edit_page(&req, frame, &form, json!({"mode": "edit", "translation": translation}), action_status(&e)).await
        }
    }
}

/// All language versions of an item side by side (CM-3).
pub(crate) async fn item_page(req: Req, Path(id): Path<i64>) -> Response {
    let frame = req.frame("admin-item");
    let item = match store::get_item(&req.state.db, ItemId(id)).await {
        Ok(i) => i,
        Err(e) => return not_found_or_fail(&req, e),
    };
    let (rows, langs) =
        match (store::translations_of_item(&req.state.db, ItemId(id)).await, language_codes(&req.state).await) {
            (Ok(r), Ok(l)) => (r, l),
            _ => return req.fail("item page queries failed"),
        };
    let mut columns = Vec::new();
    for lang in &langs {
        match rows.iter().find(|t| &t.lang == lang) {
            Some(t) => {
                let content = match current_form(&req.state, t, &item).await {
                    Ok(f) => f,
                    Err(e) => return req.fail(e),
                };
                let mut c = summary(t);
                c["body"] = json!(content.body);
                c["excerpt"] = json!(content.excerpt);
                c["latest_title"] = json!(content.title);
                columns.push(c);
            }
            None => columns.push(json!({"lang": lang, "missing": true})),
        }
    }
    let sources: Vec<&str> = rows.iter().map(|t| t.lang.as_str()).collect();
    req.render(
        "admin/item.html",
        &frame,
        json!({"item": {"id": item.id, "kind": item.kind}, "columns": columns, "sources": sources}),
    )
}

#[derive(Deserialize)]
pub(crate) struct TranslateQuery {
    lang: String,
    #[serde(default)]
    from: String,
}

/// "Create translation from": the source language's text beside an editor prefilled with it.
pub(crate) async fn translate_form(req: Req, Path(id): Path<i64>, Query(q): Query<TranslateQuery>) -> Response {
    let frame = req.frame("admin-translate");
    let item = match store::get_item(&req.state.db, ItemId(id)).await {
        Ok(i) => i,
        Err(e) => return not_found_or_fail(&req, e),
    };
    let rows = match store::translations_of_item(&req.state.db, ItemId(id)).await {
        Ok(r) => r,
        Err(e) => return req.fail(e),
    };
    let source = rows.iter().find(|t| t.lang == q.from).or(rows.first());
    let mut form = EditForm { kind: item.kind.clone(), lang: q.lang.clone(), ..Default::default() };
    let mut extra = json!({"mode": "translate", "item_id": id});
    if let Some(src) = source {
        match current_form(&req.state, src, &item).await {
            Ok(f) => {
                form.title = f.title.clone();
                form.excerpt = f.excerpt.clone();
                form.body = f.body.clone();
                extra["source"] = json!({"lang": src.lang, "title": f.title, "body": f.body});
            }
            Err(e) => return req.fail(e),
        }
    }
    edit_page(&req, frame, &form, extra, StatusCode::OK).await
}

pub(crate) async fn translate(req: Req, Path(id): Path<i64>, Form(form): Form<EditForm>) -> Response {
    let (actor, now) = req.ctx();
    let ctx = Ctx::at(&req.state.db, &actor, now);
    let result = match form.to_input() {
        Ok(input) => baspa_actions::add_translation(&ctx, ItemId(id), input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(tid) => req.to(&format!("/translation/{tid}/edit?saved=1")),
        Err(e) => {
            let mut frame = req.frame("admin-translate");
            frame.error = Some(action_message(&frame.ui, &e, &req.rid));
            edit_page(&req, frame, &form, json!({"mode": "translate", "item_id": id}), action_status(&e)).await
        }
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct WorkflowForm {
    #[serde(default)]
    comment: String,
    /// `YYYY-MM-DDTHH:MM` in Kazakhstan time (UTC+5), from a datetime-local input.
    #[serde(default)]
    at: String,
    #[serde(default)]
    revision: Option<i64>,
}

fn parse_local_time(raw: &str) -> Result<Option<baspa_domain::Timestamp>, ActionError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let naive = chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .map_err(|_| ActionError::Invalid(format!("{raw:?} is not a date and time (YYYY-MM-DD HH:MM)")))?;
    let offset = chrono::FixedOffset::east_opt(5 * 3600).ok_or_else(|| ActionError::Invalid("offset".into()))?;
    naive
        .and_local_timezone(offset)
        .single()
        .map(|t| Some(t.with_timezone(&chrono::Utc)))
        .ok_or_else(|| ActionError::Invalid(format!("{raw:?} is not a valid time")))
}

pub(crate) async fn translation_action(
    req: Req,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<WorkflowForm>,
) -> Response {
    let (actor, now) = req.ctx();
    let ctx = Ctx::at(&req.state.db, &actor, now);
    let tid = TranslationId(id);
    let result = match action.as_str() {
        "submit" => baspa_actions::submit_for_review(&ctx, tid).await,
        "publish" => match parse_local_time(&form.at) {
            Ok(at) => baspa_actions::publish_translation(&ctx, tid, at).await,
            Err(e) => Err(e),
        },
        "return" => baspa_actions::return_to_author(&ctx, tid, &form.comment).await,
        "unpublish" => match parse_local_time(&form.at) {
            Ok(at) => baspa_actions::unpublish_translation(&ctx, tid, at).await,
            Err(e) => Err(e),
        },
        "restore" => match form.revision {
            Some(rev) => baspa_actions::restore_revision(&ctx, tid, RevisionId(rev)).await.map(|_| ()),
            None => Err(ActionError::Invalid("choose a revision to restore".into())),
        },
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match result {
        Ok(()) => match store::get_translation(&req.state.db, tid).await {
            Ok(row) => req.to(&format!("/item/{}", row.item_id)),
            Err(e) => req.fail(e),
        },
        Err(e) => req.refused(&e),
    }
}

pub(crate) async fn item_action(req: Req, Path((id, action)): Path<(i64, String)>) -> Response {
    let (actor, now) = req.ctx();
    let ctx = Ctx::at(&req.state.db, &actor, now);
    let item = ItemId(id);
    let result = match action.as_str() {
        "trash" => baspa_actions::trash_item(&ctx, item).await,
        "restore" => baspa_actions::restore_item(&ctx, item).await,
        "purge" => baspa_actions::purge_item(&ctx, item).await,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match result {
        Ok(()) if action == "purge" => req.to("/content?status=trashed"),
        Ok(()) => req.to(&format!("/item/{id}")),
        Err(e) => req.refused(&e),
    }
}

/// Revisions of one translation, newest first, with author, time, address and note (SC-2).
pub(crate) async fn revisions(req: Req, Path(id): Path<i64>) -> Response {
    let frame = req.frame("admin-revisions");
    let (row, _) = match load(&req.state, id).await {
        Ok(x) => x,
        Err(e) => return not_found_or_fail(&req, e),
    };
    let (revs, users) =
        match (store::revisions_of(&req.state.db, TranslationId(id)).await, baspa_db::users::list(&req.state.db).await)
        {
            (Ok(r), Ok(u)) => (r, u),
            _ => return req.fail("revision queries failed"),
        };
    let names: HashMap<i64, String> = users.into_iter().map(|u| (u.id, u.display_name)).collect();
    let list: Vec<Value> = revs
        .iter()
        .rev()
        .map(|r| {
            json!({
                "id": r.id, "number": r.number, "title": r.title, "note": r.note, "ip": r.ip,
                "created_at": r.created_at.to_rfc3339(),
                "author": r.author_id.and_then(|a| names.get(&a).cloned()),
                "is_live": Some(r.id) == row.live_revision_id, "is_latest": Some(r.id) == row.latest_revision_id,
            })
        })
        .collect();
    req.render(
        "admin/revisions.html",
        &frame,
        json!({"translation": summary(&row), "item_id": row.item_id, "revisions": list}),
    )
}

#[derive(Deserialize)]
pub(crate) struct DiffQuery {
    from: i64,
    to: i64,
}

/// Two revisions side by side: the fields, then the body block by block (CM-10).
pub(crate) async fn diff_page(req: Req, Path(id): Path<i64>, Query(q): Query<DiffQuery>) -> Response {
    let frame = req.frame("admin-diff");
    let (old, new) =
        match (store::get_revision(&req.state.db, q.from).await, store::get_revision(&req.state.db, q.to).await) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => return not_found_or_fail(&req, e),
        };
    if old.translation_id != id || new.translation_id != id {
        return StatusCode::NOT_FOUND.into_response();
    }
    let fields: Vec<Value> = [
        ("title", &old.title, &new.title),
        ("slug", &old.slug, &new.slug),
        ("excerpt", &old.excerpt, &new.excerpt),
        (
            "meta_description",
            &old.meta_description.clone().unwrap_or_default(),
            &new.meta_description.clone().unwrap_or_default(),
        ),
        (
            "meta_keywords",
            &old.meta_keywords.clone().unwrap_or_default(),
            &new.meta_keywords.clone().unwrap_or_default(),
        ),
    ]
    .into_iter()
    .map(|(name, a, b)| json!({"name": name, "old": a, "new": b, "changed": a != b}))
    .collect();
    let rows = super::diff::side_by_side(&old.body, &new.body);
    req.render(
        "admin/diff.html",
        &frame,
        json!({"translation_id": id, "old": {"id": old.id, "number": old.number}, "new": {"id": new.id, "number": new.number},
               "fields": fields, "rows": rows}),
    )
}

#[derive(Deserialize, Default)]
pub(crate) struct SearchQueryForm {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<usize>,
}

/// Full-text search across every language and status (CM-1, issue 9): title, body, author
/// and tags, Kazakh and Russian word forms included. Drafts are shown to staff only.
pub(crate) async fn search(req: Req, Query(q): Query<SearchQueryForm>) -> Response {
    let mut frame = req.frame("admin-search");
    let text: String = q.q.chars().take(200).collect();
    let page = q.page.unwrap_or(1).max(1);
    let mut data = json!({"q": text, "hits": [], "total": 0, "page": page});
    if !text.trim().is_empty() {
        match crate::search::admin_search(&req.state, &text, page).await {
            Ok(results) => {
                let hits: Vec<Value> = results
                    .hits
                    .iter()
                    .map(|h| {
                        json!({"translation_id": h.translation_id.0, "item_id": h.item_id.0, "lang": h.lang,
                                    "status": h.status, "title_html": h.title_html, "snippet_html": h.snippet_html})
                    })
                    .collect();
                data["hits"] = json!(hits);
                data["total"] = json!(results.total);
                data["did_you_mean"] = json!(results.did_you_mean);
            }
            Err(_) => frame.error = Some(baspa_render::translate(&frame.ui, "admin-search-unavailable", None)),
        }
    }
    req.render("admin/search.html", &frame, data)
}
