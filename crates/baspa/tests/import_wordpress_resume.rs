//! `baspa import wordpress` killed with SIGKILL part-way (MG-6 acceptance): the two fixture sites
//! are loaded into MariaDB, the real binary imports them into a Baspa database of each backend
//! and is killed once posts are being imported; a second run finishes the import with exactly
//! one Baspa row per source object (every object commits with its import-map row, so none is
//! imported twice), a clean integrity report, and a third run changes nothing.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::{Command, Stdio};

use baspa_db::entity::{comment, import_map, media, translation, user};
use baspa_testkit::wordpress::{self, WpDatabase};
use baspa_testkit::{builders, storage_test};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::Value;

/// Both fixture dumps in fresh MariaDB databases (dropped with the returned values).
async fn sources() -> Vec<(&'static str, WpDatabase)> {
    let server = wordpress::mysql_server().expect("the MariaDB source server (BASPA_TEST_MYSQL_URL)");
    let mut out = Vec::new();
    for lang in ["kk", "ru"] {
        out.push((lang, wordpress::load_dump(&server, &format!("{lang}.sql"), |t| t).await));
    }
    out
}

fn import_command(data: &std::path::Path, target_url: &str, sources: &[(&str, WpDatabase)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_baspa"));
    cmd.arg("--data-dir").arg(data).args(["--database-url", target_url, "import", "wordpress"]);
    for (lang, db) in sources {
        let uploads = wordpress::fixtures_dir().join(format!("uploads-{lang}"));
        cmd.args(["--site", &format!("{lang}={}", db.url)])
            .args(["--uploads", &format!("{lang}={}", uploads.display())]);
    }
    cmd.env_remove("BASPA_DATABASE_URL").env("BASPA_LOG", "error");
    cmd
}

async fn map_rows(db: &DatabaseConnection, kinds: &[&str]) -> u64 {
    import_map::Entity::find()
        .filter(import_map::Column::ObjectKind.is_in(kinds.iter().copied()))
        .count(db)
        .await
        .expect("count")
}

/// Every Baspa row the import made is named by exactly one import-map row: a duplicate (an object
/// imported twice) would be a row without one.
async fn assert_no_duplicates(db: &DatabaseConnection) {
    let maps = import_map::Entity::find().all(db).await.expect("map");
    for lang in ["kk", "ru"] {
        let source = format!("wordpress:{lang}");
        let mapped = maps.iter().filter(|m| m.source == source && m.target_kind == "item").count() as u64;
        let translations =
            translation::Entity::find().filter(translation::Column::Lang.eq(lang)).count(db).await.expect("count");
        assert_eq!(translations, mapped, "MG-6: one {lang} translation per imported post, page and term");
    }
    let distinct = |kind: &str| {
        let mut ids: Vec<i64> = maps.iter().filter(|m| m.object_kind == kind).map(|m| m.target_id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len() as u64
    };
    let comments = comment::Entity::find().count(db).await.expect("count");
    assert_eq!(comments, map_rows(db, &["comment"]).await, "MG-6: one comment per source comment");
    assert_eq!(comments, distinct("comment"));
    assert_eq!(media::Entity::find().count(db).await.expect("count"), distinct("attachment"), "MG-6: media");
    assert_eq!(user::Entity::find().count(db).await.expect("count"), distinct("user"), "MG-6: accounts");
}

fn report_of(out: &std::process::Output) -> Value {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the import failed: {stderr}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("JSON report ({e}): {stderr}"))
}

storage_test!(
    async fn mg6_an_import_killed_with_sigkill_resumes_without_duplicates_and_a_third_run_changes_nothing(db: TestDb) {
        builders::news_languages(&db.db).await;
        let manifest = wordpress::manifest();
        let sources = sources().await;
        let data = tempfile::tempdir().expect("data dir");

        let mut child = import_command(data.path(), &db.url, &sources)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start");
        // Kill once some posts, but far from all, are in.
        let started = std::time::Instant::now();
        while map_rows(&db.db, &["post", "page"]).await < 40 {
            assert!(started.elapsed().as_secs() < 600, "no progress");
            assert!(child.try_wait().expect("wait").is_none(), "finished before it could be killed");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        let posts_before = map_rows(&db.db, &["post", "page"]).await;
        assert_no_duplicates(&db.db).await;

        let resumed = import_command(data.path(), &db.url, &sources).output().expect("resume");
        let report = report_of(&resumed);
        let stderr = String::from_utf8_lossy(&resumed.stderr);
        for phase in ["users", "terms", "media", "posts", "links", "comments", "redirects"] {
            assert!(stderr.contains(&format!("{phase}: done")), "MG-6: a progress line per phase ({phase}): {stderr}");
        }
        assert_eq!(report["clean"], true, "MG-3: {}", report["integrity"]["mismatches"]);
        let unchanged: u64 = ["wordpress:kk", "wordpress:ru"]
            .iter()
            .flat_map(|s| {
                ["post", "page"].map(|k| report["report"]["tallies"][s][k]["unchanged"].as_u64().unwrap_or(0))
            })
            .sum();
        assert!(
            unchanged >= posts_before,
            "MG-6: what the killed run imported is skipped ({unchanged} < {posts_before})"
        );
        assert_no_duplicates(&db.db).await;
        // The manifest's counts, per site.
        for site in ["kk", "ru"] {
            let m = &manifest["sites"][site];
            let source = format!("wordpress:{site}");
            let target = |kind: &str| -> u64 {
                report["integrity"]["counts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|r| r["source"] == source.as_str() && r["kind"] == kind)
                    .map(|r| r["target_count"].as_u64().unwrap())
                    .sum()
            };
            assert_eq!(target("post"), m["posts"]["total_excluding_auto_draft"].as_u64().unwrap(), "{site} posts");
            assert_eq!(target("page"), m["pages"]["total"].as_u64().unwrap(), "{site} pages");
            assert_eq!(target("attachment"), m["attachments"]["total"].as_u64().unwrap(), "{site} attachments");
            assert_eq!(target("comment"), m["comments"]["total"].as_u64().unwrap(), "{site} comments");
            assert_eq!(target("user"), m["users"]["total"].as_u64().unwrap(), "{site} users");
        }

        let third = report_of(&import_command(data.path(), &db.url, &sources).output().expect("third run"));
        assert_eq!(third["changes"], 0, "MG-6: a third run changes nothing: {}", third["report"]["tallies"]);
        assert_eq!(third["clean"], true);
        assert_no_duplicates(&db.db).await;
    }
);
