//! Redirects for every old URL of an imported site (MG-4): permalinks (current and old slugs),
//! `?p=ID` / `?page_id=ID`, attachment pages, category, tag, author and month archives and the
//! main feed, each on the host of the language the site became. What has no new address is
//! listed in the report.

use std::collections::{BTreeSet, HashMap};

use baspa_actions::imports::add_redirect_to_url;
use baspa_actions::{ActionError, Ctx, add_redirect};
use baspa_db::entity::import_map;
use baspa_domain::{ItemId, LangCode, Slug};

use crate::model::Problem;
use crate::permalinks;
use crate::run::{ImportError, ImportReport, SiteSource};
use sea_orm::DatabaseConnection;

/// Where an old URL leads.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    Item(ItemId),
    /// A path on the language's host (archives, feeds, author pages).
    Url(String),
}

/// Every old host-relative URL of a site with its new target, in the order redirects are added
/// (current addresses before old slugs). What has no new address goes to `unmapped`.
pub(crate) async fn old_urls(
    db: &DatabaseConnection,
    src: &SiteSource,
    maps: &HashMap<(String, i64), import_map::Model>,
    unmapped: &mut Vec<String>,
) -> Result<Vec<(String, Target)>, ImportError> {
    let site = &src.site;
    let source = src.source_name();
    let lang = &src.lang;
    let nicename = |id: i64| site.users.iter().find(|u| u.id == id).map(|u| u.nicename.clone()).unwrap_or_default();
    let mut wanted: Vec<(String, Target)> = Vec::new();
    let mut months = BTreeSet::new();
    let mut old_slugs: Vec<(String, Target)> = Vec::new();
    for p in site.posts.iter().filter(|p| p.post_type == "post" || p.post_type == "page") {
        let Some(m) = maps.get(&(p.post_type.clone(), p.id)) else { continue };
        let item = ItemId(m.target_id);
        let query = if p.post_type == "page" { "page_id" } else { "p" };
        wanted.push((format!("/?{query}={}", p.id), Target::Item(item)));
        if p.status != "publish" {
            continue;
        }
        let Some(path) = permalinks::post_path(site, p, &nicename(p.author)) else { continue };
        if p.post_type == "post" {
            months.insert(p.date_local.get(0..7).unwrap_or("").replace('-', "/"));
        }
        for old in p.meta.get("_wp_old_slug").into_iter().flatten() {
            match permalinks::with_old_slug(&path, &p.name, old) {
                // After every current address: WordPress too lets a current slug win over an old one.
                Some(old_path) => old_slugs.push((old_path, Target::Item(item))),
                None => unmapped.push(format!("{source}: old slug {old} of post {}", p.id)),
            }
        }
        wanted.push((path, Target::Item(item)));
    }
    for a in site.posts.iter().filter(|p| p.post_type == "attachment") {
        let parent = a.parent.then_some_nonzero().and_then(|id| site.post(id));
        match parent.and_then(|pp| {
            let m = maps.get(&(pp.post_type.clone(), pp.id))?;
            let path = (pp.status == "publish").then(|| permalinks::post_path(site, pp, &nicename(pp.author))).flatten()?;
            // WordPress's `get_attachment_link`: `attachment/` before the name under a
            // `%category%` structure or for a numeric name.
            let infix = if site.permalink_structure.contains("%category%") || a.name.parse::<i64>().is_ok() {
                "attachment/"
            } else {
                ""
            };
            Some((format!("{path}{infix}{}/", a.name), ItemId(m.target_id)))
        }) {
            Some((path, item)) => {
                wanted.push((format!("/?attachment_id={}", a.id), Target::Item(item)));
                wanted.push((path, Target::Item(item)));
            }
            None => unmapped.push(format!(
                "{source}: attachment page of {} (/?attachment_id={}) has no published parent; its file is in the media library",
                a.id, a.id
            )),
        }
    }
    for t in &site.terms {
        let kind = t.taxonomy.as_str();
        let Some(m) = maps.get(&(kind.to_owned(), t.term_id)) else { continue };
        let path = match kind {
            "category" => format!("/category/{}/", permalinks::category_path(site, t.term_id)),
            "post_tag" => format!("/tag/{}/", t.slug),
            _ => continue,
        };
        wanted.push((path, Target::Item(ItemId(m.target_id))));
    }
    for u in &site.users {
        let Some(m) = maps.get(&("user".to_owned(), u.id)) else { continue };
        let Ok(account) = baspa_db::users::get(db, baspa_domain::UserId(m.target_id)).await else { continue };
        match Slug::from_title(&account.display_name, lang.as_str()) {
            Ok(slug) => wanted.push((format!("/author/{}/", u.nicename), Target::Url(format!("/author/{slug}")))),
            Err(_) => unmapped.push(format!("{source}: /author/{}/", u.nicename)),
        }
    }
    for ym in &months {
        wanted.push((format!("/{ym}/"), Target::Url(format!("/archive/{ym}/"))));
    }
    wanted.push(("/feed/".to_owned(), Target::Url("/feed.xml".to_owned())));
    wanted.extend(old_slugs);
    unmapped.push(format!(
        "{source}: year and day archives, per-post comment feeds and category/tag feeds have no Baspa equivalent"
    ));
    Ok(wanted)
}

/// Adds the redirects of `wanted` (from [`old_urls`]) on the language's host; `done` is told of
/// each one (the progress bar).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn add_all(
    ctx: &Ctx<'_>,
    src: &SiteSource,
    host: &str,
    wanted: Vec<(String, Target)>,
    dry_run: bool,
    report: &mut ImportReport,
    done: &dyn Fn(),
) -> Result<(), ImportError> {
    let source = src.source_name();
    for (path, target) in wanted {
        add_one(ctx, host, &path, target, &src.lang, &source, dry_run, report).await?;
        done();
    }
    Ok(())
}

trait NonZero {
    fn then_some_nonzero(self) -> Option<i64>;
}

impl NonZero for i64 {
    fn then_some_nonzero(self) -> Option<i64> {
        (self != 0).then_some(self)
    }
}

#[allow(clippy::too_many_arguments)]
async fn add_one(
    ctx: &Ctx<'_>,
    host: &str,
    path: &str,
    target: Target,
    lang: &LangCode,
    source: &str,
    dry_run: bool,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    if let Some(r) = baspa_db::content::find_redirect(ctx.db, host, path).await?
        && r.host == host
    {
        let same = match &target {
            Target::Item(item) => r.target_item_id == Some(item.0) && r.target_lang.as_deref() == Some(lang.as_str()),
            Target::Url(url) => r.target_url.as_deref() == Some(url.as_str()),
        };
        if !same {
            report.problems.push(crate::run::SourceProblem {
                source: source.to_owned(),
                problem: Problem::new("url", None, format!("{host}{path} already redirects elsewhere; kept")),
            });
        }
        return Ok(());
    }
    if dry_run {
        report.redirects_added += 1;
        return Ok(());
    }
    let result = match target {
        Target::Item(item) => add_redirect(ctx, host, path, item, lang).await,
        Target::Url(url) => add_redirect_to_url(ctx, host, path, &url).await,
    };
    match result {
        Ok(()) => report.redirects_added += 1,
        Err(e @ ActionError::Invalid(_)) => report.problems.push(crate::run::SourceProblem {
            source: source.to_owned(),
            problem: Problem::new("url", None, format!("{path}: {e}")),
        }),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}
