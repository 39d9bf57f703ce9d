//! Query hygiene (PF-3): the number of SQL statements each public page type runs is counted
//! with SeaORM's metric callback, must stay under a fixed bound and must not grow with the number
//! of articles on the page (no N+1). The page cache is off here: these are the costs of a miss.

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use baspa_domain::ItemKind;
use baspa_testkit::builders::{news_languages, published};
use baspa_testkit::{AppOptions, spawn_app_with, storage_test};

/// The most statements any page type may run on a miss (home runs one list per top section).
const MAX_QUERIES_PER_PAGE: usize = 16;

fn page_types() -> Vec<String> {
    let month = baspa_domain::time::now().format("/archive/%Y/%m/").to_string();
    ["/", "/news/", "/news/story-1", "/feed.xml", "/news/feed.xml", "/sitemap-kk.xml", "/sitemap-news.xml", "/about"]
        .into_iter()
        .map(str::to_owned)
        .chain([month])
        .collect()
}

async fn add_stories(db: &sea_orm::DatabaseConnection, section: baspa_domain::ItemId, from: usize, to: usize) {
    let now = baspa_domain::time::now();
    for n in from..to {
        let title = format!("Story {n}");
        published(
            db,
            ItemKind::Article,
            Some(section),
            None,
            &[("kk", &title, "<p>text</p>"), ("ru", &title, "")],
            now,
        )
        .await;
    }
}

storage_test!(
    /// PF-3 acceptance: each page type runs at most `MAX_QUERIES_PER_PAGE` statements, and the
    /// same number with 5 or 15 articles on it.
    async fn pf3_page_queries_are_bounded_and_do_not_grow_with_the_articles_shown(t: TestDb) {
        news_languages(&t.db).await;
        let now = baspa_domain::time::now();
        let news =
            published(&t.db, ItemKind::Section, None, None, &[("kk", "News", ""), ("ru", "News", "")], now).await;
        published(&t.db, ItemKind::Section, None, None, &[("kk", "Sport", ""), ("ru", "Sport", "")], now).await;
        published(&t.db, ItemKind::Page, None, None, &[("kk", "About", "<p>about</p>")], now).await;
        add_stories(&t.db, news.item_id, 1, 6).await;
        let counter = Arc::new(AtomicUsize::new(0));
        let mut counted = t.db.clone();
        let seen = counter.clone();
        counted.set_metric_callback(move |_| {
            seen.fetch_add(1, Ordering::Relaxed);
        });
        let db = t.db.clone();
        let alias = t.alias(counted);
        let app = spawn_app_with(alias, AppOptions::default()).await;
        let measure = || async {
            let mut out = Vec::new();
            for path in page_types() {
                // Once to fill the language memo, then counted.
                app.get("baq.test", &path).await;
                counter.store(0, Ordering::Relaxed);
                let res = app.get("baq.test", &path).await;
                assert_eq!(res.status, 200, "{path}");
                out.push((path, counter.load(Ordering::Relaxed)));
            }
            out
        };
        let few = measure().await;
        add_stories(&db, news.item_id, 6, 16).await;
        let many = measure().await;
        for ((path, with_few), (_, with_many)) in few.iter().zip(&many) {
            assert!(*with_many <= MAX_QUERIES_PER_PAGE, "{path} ran {with_many} statements");
            assert_eq!(with_few, with_many, "{path}: statements grew with the articles (N+1)");
        }
        eprintln!("statements per page: {many:?}");
        drop(t);
    }
);
