//! The section tree and its menu order (CM-1), and the comment moderation queue (CM-9).

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query};
use axum::response::Response;
use baspa_db::content as store;
use baspa_domain::{CommentId, CommentStatus, ItemId, ItemKind};
use serde::Deserialize;
use serde_json::{Value, json};

use super::content::Req;

/// The tree as an indented list in menu order.
pub(crate) async fn sections(req: Req) -> Response {
    let frame = req.frame("admin-structure");
    let db = &req.state().db;
    let items = match store::items_of_kind(db, ItemKind::Section).await {
        Ok(i) => i,
        Err(e) => return req.fail(e),
    };
    let titles = match super::content::section_titles(req.state(), &frame.ui).await {
        Ok(t) => t,
        Err(e) => return req.fail(e),
    };
    let mut children: HashMap<Option<i64>, Vec<i64>> = HashMap::new();
    for s in &items {
        children.entry(s.parent_id).or_default().push(s.id);
    }
    let mut rows = Vec::new();
    // Depth-first from the roots; items_of_kind is already in position order.
    let mut stack: Vec<(i64, usize)> =
        children.get(&None).map(|r| r.iter().rev().map(|id| (*id, 0)).collect()).unwrap_or_default();
    while let Some((id, depth)) = stack.pop() {
        rows.push(json!({"id": id, "depth": depth, "indent": "— ".repeat(depth), "title": titles.get(&id).cloned().unwrap_or_default()}));
        if depth < 32 {
            for child in children.get(&Some(id)).map(|c| c.iter().rev().collect::<Vec<_>>()).unwrap_or_default() {
                stack.push((*child, depth + 1));
            }
        }
    }
    req.render("admin/structure.html", &frame, json!({"sections": rows}))
}

pub(crate) async fn move_section(req: Req, Path((id, direction)): Path<(i64, String)>) -> Response {
    let (actor, now) = req.ctx();
    let ctx = baspa_actions::Ctx::at(&req.state().db, &actor, now);
    match baspa_actions::move_item(&ctx, ItemId(id), direction == "up").await {
        Ok(()) => req.to("/structure"),
        Err(e) => req.refused(&e),
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct QueueQuery {
    #[serde(default)]
    status: String,
}

pub(crate) async fn comments(req: Req, Query(q): Query<QueueQuery>) -> Response {
    let frame = req.frame("admin-comments");
    let status = CommentStatus::parse(&q.status).unwrap_or(CommentStatus::Pending);
    let rows = match store::comments_in(&req.state().db, status, 200).await {
        Ok(r) => r,
        Err(e) => return req.fail(e),
    };
    let list: Vec<Value> = rows
        .iter()
        .map(|c| {
            json!({"id": c.id, "item_id": c.item_id, "lang": c.lang, "author": c.author_name, "body": c.body,
                        "ip": c.ip, "created_at": c.created_at.to_rfc3339()})
        })
        .collect();
    req.render(
        "admin/comments.html",
        &frame,
        json!({"comments": list, "status": status.as_str(),
               "statuses": ["pending", "approved", "spam", "trash"]}),
    )
}

#[derive(Deserialize)]
pub(crate) struct ModerateForm {
    status: String,
}

pub(crate) async fn moderate(req: Req, Path(id): Path<i64>, Form(form): Form<ModerateForm>) -> Response {
    let (actor, now) = req.ctx();
    let ctx = baspa_actions::Ctx::at(&req.state().db, &actor, now);
    let result = match CommentStatus::parse(&form.status) {
        Ok(s) => baspa_actions::moderate_comment(&ctx, CommentId(id), s).await,
        Err(e) => Err(baspa_actions::ActionError::Invalid(e.to_string())),
    };
    match result {
        Ok(()) => req.to("/comments"),
        Err(e) => req.refused(&e),
    }
}
