//! The WordPress importer beyond the happy path (issue 8): the WXR source gives the database
//! source's result except what WXR lacks (MG-1), a re-run imports only new posts (MG-6), and bad
//! input — a wrong table prefix, a truncated dump, a missing upload file, invalid UTF-8, an
//! unserializable meta value — is reported with the item id while the rest is imported. The
//! tests that import run on every target backend (`storage_test!`).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashSet;
use std::path::Path;

use baspa_import::model::Site;
use baspa_import::{ImportOptions, SiteSource};
use baspa_testkit::wordpress;
use baspa_testkit::{TestDb, builders, storage_test};
use serde_json::Value;

/// The target database (every backend: `storage_test!`) with the news agency's languages.
async fn with_languages(db: TestDb) -> TestDb {
    builders::news_languages(&db.db).await;
    db
}

fn wxr(lang: &str, structure: &str) -> Site {
    baspa_import::wxr::read_file(&wordpress::fixtures_dir().join(format!("{lang}.wxr.xml")), structure).expect("WXR")
}

fn source(lang: &str, site: Site, uploads: &Path) -> SiteSource {
    SiteSource { lang: builders::lang(lang), site, uploads: uploads.to_path_buf() }
}

fn uploads(lang: &str) -> std::path::PathBuf {
    wordpress::fixtures_dir().join(format!("uploads-{lang}"))
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

storage_test!(
    async fn mg1_mg2_the_wxr_exports_give_the_same_site_except_roles(t: TestDb) {
        let db = with_languages(t).await;
        let media = tempfile::tempdir().unwrap();
        let manifest = wordpress::manifest();
        let sources = vec![
            source("kk", wxr("kk", "/%year%/%monthnum%/%postname%/"), &uploads("kk")),
            source("ru", wxr("ru", "/%category%/%postname%/"), &uploads("ru")),
        ];
        let (report, integrity) =
            baspa_import::import_and_check(&db.db, media.path(), &sources, &ImportOptions::default()).await.unwrap();
        assert!(integrity.is_clean(), "MG-3: {:?}", &integrity.mismatches[..integrity.mismatches.len().min(10)]);
        for site in ["kk", "ru"] {
            let m = &manifest["sites"][site];
            let src = format!("wordpress:{site}");
            for (status, count) in m["posts"]["by_status"].as_object().unwrap() {
                if status != "auto-draft" {
                    assert_eq!(integrity.target(&src, "post", status), n(count), "{site} posts {status}");
                }
            }
            assert_eq!(integrity.target_total(&src, "page"), n(&m["pages"]["total"]));
            assert_eq!(integrity.target_total(&src, "attachment"), n(&m["attachments"]["total"]));
            // export_wp() leaves spam comments out.
            let not_spam = n(&m["comments"]["total"]) - n(&m["comments"]["by_approved"]["spam"]);
            assert_eq!(integrity.target_total(&src, "comment"), not_spam, "{site} comments");
            assert_eq!(integrity.target(&src, "category", "all"), n(&m["terms"]["category"]));
            assert_eq!(integrity.target(&src, "post_tag", "all"), n(&m["terms"]["post_tag"]));
            // WXR lists only the users who wrote something, and without roles.
            assert!(integrity.target_total(&src, "user") <= n(&m["users"]["total"]));
        }
        let truth = wordpress::true_pairs(&manifest);
        let found: HashSet<(i64, i64)> = report.pairing.pairs.iter().map(|p| (p.a, p.b)).collect();
        assert!(found.is_subset(&truth), "MG-2: precision 100 %");
        // MG-1: comments keep their WordPress dates.
        let mut dated = 0;
        for c in &sources[0].site.comments {
            let Some(written) = baspa_import::model::parse_gmt(&c.date_gmt) else { continue };
            let Some(mapped) = baspa_db::imports::find(&db.db, "wordpress:kk", "comment", c.id).await.unwrap() else {
                continue;
            };
            let row = baspa_db::content::get_comment(&db.db, mapped.target_id).await.unwrap();
            assert_eq!(row.created_at, written, "MG-1: comment {} keeps its date", c.id);
            dated += 1;
        }
        assert!(dated > 0, "some comments were checked");
        assert!(found.len() as f64 >= truth.len() as f64 * 0.95, "MG-2: recall {}", found.len());
    }
);

storage_test!(
    async fn mg6_a_rerun_after_new_posts_imports_only_the_delta(t: TestDb) {
        let db = with_languages(t).await;
        let media = tempfile::tempdir().unwrap();
        let full = wxr("kk", "/%year%/%monthnum%/%postname%/");
        let newest: Vec<i64> = {
            let mut ids: Vec<i64> =
                full.posts.iter().filter(|p| p.post_type == "post" && p.status == "publish").map(|p| p.id).collect();
            ids.sort_unstable();
            ids.split_off(ids.len() - 5)
        };
        let mut before = full.clone();
        before.posts.retain(|p| !newest.contains(&p.id) && !newest.contains(&p.parent));
        before.comments.retain(|c| !newest.contains(&c.post_id));
        let options = ImportOptions::default();
        let (first, _) =
            baspa_import::import_and_check(&db.db, media.path(), &[source("kk", before, &uploads("kk"))], &options)
                .await
                .unwrap();
        assert!(first.changes() > 0);
        let (delta, integrity) =
            baspa_import::import_and_check(&db.db, media.path(), &[source("kk", full, &uploads("kk"))], &options)
                .await
                .unwrap();
        let posts = &delta.tallies["wordpress:kk"]["post"];
        assert_eq!(posts.created, 5, "MG-6: only the new posts are created: {:?}", delta.tallies);
        assert_eq!(posts.updated, 0);
        assert!(posts.unchanged > 100);
        assert!(integrity.is_clean(), "{:?}", integrity.mismatches);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mg1_invalid_utf8_in_a_wxr_post_is_reported_with_its_id() {
    let text = std::fs::read(wordpress::fixtures_dir().join("kk.wxr.xml")).unwrap();
    let marker = b"<wp:post_id>54</wp:post_id>";
    let at = text.windows(marker.len()).position(|w| w == marker).expect("post 54 in the export");
    let mut broken = text.clone();
    // An invalid byte inside post 54's item (before its id tag: in its title).
    let title = broken[..at].windows(7).rposition(|w| w == b"<title>").unwrap() + 7;
    broken.insert(title, 0xFF);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kk.wxr.xml");
    std::fs::write(&path, broken).unwrap();
    let site = baspa_import::wxr::read_file(&path, "").unwrap();
    assert!(
        site.problems.iter().any(|p| p.kind == "post" && p.id == Some(54) && p.message.contains("UTF-8")),
        "{:?}",
        site.problems
    );
    assert_eq!(site.posts.len(), wxr("kk", "").posts.len(), "nothing else is lost");
    assert!(site.post(54).unwrap().title.starts_with('\u{FFFD}'));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mg1_a_wrong_table_prefix_is_a_clear_error() {
    let Some(server) = wordpress::mysql_server() else { return };
    let wp = wordpress::load_dump(&server, "kk.sql", |t| t).await;
    let err = baspa_import::mysql::read_url(&wp.url, "blog_").await.expect_err("no blog_ tables");
    let text = err.to_string();
    assert!(text.contains("blog_") && text.contains("--table-prefix"), "{text}");
}

storage_test!(
    async fn mg1_bad_meta_a_missing_file_and_a_truncated_dump_are_reported_and_the_rest_imported(t: TestDb) {
        let Some(server) = wordpress::mysql_server() else { return };
        // An unserializable `dala_seo` value and a dump cut off before the user tables.
        let wp = wordpress::load_dump(&server, "kk.sql", |t| {
            let t = t.replacen("'dala_seo','a:", "'dala_seo','a:99:{broken", 1);
            let cut = t.find("Table structure for table `wp_usermeta`").expect("usermeta in the dump");
            t[..cut + 200].to_owned()
        })
        .await;
        let site = baspa_import::mysql::read_url(&wp.url, "wp_").await.expect("the rest is readable");
        assert!(
            site.problems.iter().any(|p| p.kind == "table" && p.message.contains("wp_users")),
            "{:?}",
            site.problems
        );
        let broken_meta = site
            .posts
            .iter()
            .find(|p| p.meta1("dala_seo").is_some_and(|v| v.contains("broken")))
            .map(|p| p.id)
            .expect("the broken value was loaded");
        // One attachment's file is missing from the uploads folder.
        let copy = tempfile::tempdir().unwrap();
        copy_dir(&uploads("kk"), copy.path());
        let victim =
            site.posts.iter().find(|p| p.post_type == "attachment" && p.mime_type == "image/png").unwrap().clone();
        std::fs::remove_file(copy.path().join(victim.meta1("_wp_attached_file").unwrap())).unwrap();

        let db = with_languages(t).await;
        let media = tempfile::tempdir().unwrap();
        let posts = site.posts.iter().filter(|p| p.post_type == "post" && p.status != "auto-draft").count() as u64;
        let (report, integrity) = baspa_import::import_and_check(
            &db.db,
            media.path(),
            &[source("kk", site, copy.path())],
            &ImportOptions::default(),
        )
        .await
        .unwrap();
        let has = |kind: &str, id: i64, text: &str| {
            report
                .problems
                .iter()
                .any(|p| p.problem.kind == kind && p.problem.id == Some(id) && p.problem.message.contains(text))
        };
        assert!(has("meta", broken_meta, "dala_seo"), "{:?}", report.problems);
        assert!(has("attachment", victim.id, "No such file"), "{:?}", report.problems);
        assert_eq!(integrity.target_total("wordpress:kk", "post"), posts, "every post is imported");
        assert_eq!(integrity.target_total("wordpress:kk", "attachment"), 73, "all attachments but the missing one");
        let mapped =
            baspa_db::imports::find(&db.db, "wordpress:kk", "post", broken_meta).await.unwrap().expect("imported");
        let t = baspa_db::content::translations_of_item(&db.db, baspa_domain::ItemId(mapped.target_id)).await.unwrap();
        let raw = &t[0].fields["wordpress"]["meta"]["dala_seo"];
        assert!(raw.as_str().is_some_and(|s| s.contains("broken")), "the raw value is kept: {raw}");
    }
);

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn cli(data: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_baspa"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("BASPA_DATABASE_URL")
        .env("BASPA_LOG", "error")
        .output()
        .expect("run baspa")
}

#[test]
fn mg3_mg6_the_cli_dry_run_writes_nothing_and_a_mismatch_exits_non_zero() {
    let data = tempfile::tempdir().unwrap();
    let wxr_file = wordpress::fixtures_dir().join("kk.wxr.xml");
    let site = format!("kk={}", wxr_file.display());
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&uploads("kk"), copy.path());
    let up = format!("kk={}", copy.path().display());
    let args = ["import", "wordpress", "--site", &site, "--uploads", &up, "--host", "kk=baq.test"];
    let links = ["--permalinks", "kk=/%year%/%monthnum%/%postname%/"];

    let dry = cli(data.path(), &[&args[..], &links[..], &["--dry-run"]].concat());
    assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
    let report: Value = serde_json::from_slice(&dry.stdout).expect("JSON report");
    assert!(n(&report["changes"]) > 300, "the dry run counts what it would write");
    assert!(
        report["integrity"]["counts"].as_array().unwrap().iter().all(|r| n(&r["target_count"]) == 0),
        "MG-6: nothing written"
    );

    // A file missing from the uploads folder: imported without it, reported, exit code 1 (MG-3).
    let first = wxr("kk", "").posts.into_iter().find(|p| p.post_type == "attachment").unwrap();
    std::fs::remove_file(copy.path().join(first.meta1("_wp_attached_file").unwrap())).unwrap();
    let run = cli(data.path(), &[&args[..], &links[..]].concat());
    assert!(!run.status.success(), "MG-3: a mismatch fails the command");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("integrity check found"), "{stderr}");
    let report: Value = serde_json::from_slice(&run.stdout).expect("JSON report");
    assert_eq!(report["clean"], false);
    assert!(report["report"]["problems"].as_array().unwrap().iter().any(|p| p["id"] == first.id));
}
