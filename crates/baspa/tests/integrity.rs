//! Integrity control and the tamper-evident journal (SC-5, SC-6, HD-11), on every backend:
//! each test changes something behind Baspa's back — raw SQL, a file on disk — and expects the
//! check to name exactly what changed; restorable changes are then put back by the action.

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

use baspa_actions::integrity::{self, AnchorKeeper, IntegrityPaths};
use baspa_actions::{Actor, Ctx, TranslationInput, UploadInput};
use baspa_db::content as store;
use baspa_domain::{ItemKind, MediaId, TranslationId};
use baspa_testkit::builders::{lang, news_languages, published};
use baspa_testkit::{TestDb, storage_test};
use sea_orm::Value;

struct Scene {
    kk: TranslationId,
    ru: TranslationId,
    media: MediaId,
    paths: IntegrityPaths,
    _dir: tempfile::TempDir,
}

fn png() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(6, 4, image::Rgb([10, 120, 200]))
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

/// A published kk/ru article, an uploaded picture, and an anchored journal that verifies.
async fn scene(t: &TestDb) -> Scene {
    news_languages(&t.db).await;
    let created = published(
        &t.db,
        ItemKind::Article,
        None,
        None,
        &[
            ("kk", "Астанада жаңа саябақ ашылды", "<p>Саябақ 12 гектар.</p>"),
            ("ru", "В Астане открылся новый парк", "<p>Парк площадью 12 гектаров.</p>"),
        ],
        baspa_domain::time::now(),
    )
    .await;
    let kk = created.translation("kk").expect("kk");
    let ru = created.translation("ru").expect("ru");
    let actor = Actor::system("editor");
    let ctx = Ctx::new(&t.db, &actor);
    let dir = tempfile::tempdir().expect("temp");
    let media_dir = dir.path().join("media");
    let bytes = png();
    let media = baspa_actions::upload_media(
        &ctx,
        &media_dir,
        UploadInput {
            original_name: "park.png",
            bytes: &bytes,
            alt: serde_json::json!({"kk": "Саябақ"}),
            max_bytes: 1 << 20,
            scanner: None,
        },
    )
    .await
    .expect("upload");
    let anchors = AnchorKeeper::open(&dir.path().join("anchors")).expect("anchor keeper");
    let paths = IntegrityPaths { media_dir, anchors: Some(anchors) };
    let (report, _) = integrity::run_scheduled_check(&t.db, &paths).await.expect("check");
    assert_eq!(report.findings, vec![], "an untouched site verifies clean");
    assert_eq!(report.seals_checked, 3, "two published texts and one file");
    Scene { kk, ru, media, paths, _dir: dir }
}

async fn raw_sql(t: &TestDb, sql: &str, values: Vec<Value>) {
    baspa_testkit::execute_sql(&t.db, sql, values).await
}

async fn findings(t: &TestDb, s: &Scene) -> Vec<(String, String)> {
    let report = integrity::check(&t.db, &s.paths).await.expect("check");
    report.findings.into_iter().map(|f| (f.problem.to_owned(), f.subject)).collect()
}

fn admin() -> Actor {
    Actor::system("administrator")
}

storage_test!(
    /// SC-5: a published body edited with raw SQL is found, named, alerted once, and restored.
    async fn sc5_body_edited_with_raw_sql_is_detected_and_restored(t: TestDb) {
        let s = scene(&t).await;
        raw_sql(
            &t,
            "UPDATE translations SET body = ? WHERE id = ?",
            vec!["<p>Подменённый текст</p>".into(), s.ru.0.into()],
        )
        .await;
        let report = integrity::check(&t.db, &s.paths).await.expect("check");
        assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
        let f = &report.findings[0];
        assert_eq!(f.problem, "text-changed");
        assert!(f.subject.starts_with(&format!("translation {} ", s.ru)), "{}", f.subject);
        assert!(f.subject.contains("В Астане открылся новый парк"), "{}", f.subject);
        assert!(f.detail.contains("body") && !f.detail.contains("title"), "{}", f.detail);

        // One incident per cause, however often the check runs.
        for _ in 0..3 {
            integrity::run_scheduled_check(&t.db, &s.paths).await.expect("check");
        }
        let incidents = baspa_db::security::recent_incidents(&t.db, chrono::DateTime::UNIX_EPOCH, 10).await.expect("q");
        assert_eq!(incidents.len(), 1);
        assert_eq!((incidents[0].category.as_str(), incidents[0].occurrences), ("integrity", 3));
        assert_eq!(baspa_db::jobs::queued(&t.db, baspa_actions::security::ALERT_JOB).await.expect("jobs").len(), 1);

        let seal = f.restorable_seal.expect("restorable");
        let actor = admin();
        integrity::restore_sealed(&Ctx::new(&t.db, &actor), &s.paths.media_dir, seal).await.expect("restore");
        assert_eq!(store::get_translation(&t.db, s.ru).await.expect("row").body, "<p>Парк площадью 12 гектаров.</p>");
        assert_eq!(findings(&t, &s).await, vec![], "clean after the restore");
    }
);

storage_test!(
    /// SC-5: a media file replaced on disk is found by its hash and put back from the sealed copy.
    async fn sc5_replaced_media_file_is_detected_and_restored(t: TestDb) {
        let s = scene(&t).await;
        let row = store::get_media(&t.db, s.media).await.expect("media");
        let path = s.paths.media_dir.join(&row.storage_key);
        let original = std::fs::read(&path).expect("file");
        std::fs::write(&path, b"GIF89a<?php system($_GET['c']); ?>").expect("replace");
        let report = integrity::check(&t.db, &s.paths).await.expect("check");
        assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
        assert_eq!(report.findings[0].problem, "file-replaced");
        assert!(report.findings[0].subject.starts_with(&format!("media {} ({}", s.media.0, row.storage_key)));
        let actor = admin();
        let seal = report.findings[0].restorable_seal.expect("restorable");
        integrity::restore_sealed(&Ctx::new(&t.db, &actor), &s.paths.media_dir, seal).await.expect("restore");
        assert_eq!(std::fs::read(&path).expect("file"), original);
        assert_eq!(findings(&t, &s).await, vec![]);

        std::fs::remove_file(&path).expect("remove");
        assert_eq!(findings(&t, &s).await, vec![("file-missing".to_owned(), report.findings[0].subject.clone())]);
    }
);

storage_test!(
    /// SC-5: deleting the published revision row is found and named; the restore writes it back.
    async fn sc5_deleted_revision_row_is_detected(t: TestDb) {
        let s = scene(&t).await;
        let row = store::get_translation(&t.db, s.kk).await.expect("row");
        let live = row.live_revision_id.expect("live revision");
        raw_sql(&t, "DELETE FROM revisions WHERE id = ?", vec![live.into()]).await;
        let report = integrity::check(&t.db, &s.paths).await.expect("check");
        let problems: Vec<&str> = report.findings.iter().map(|f| f.problem).collect();
        assert!(problems.contains(&"revision-deleted"), "{:?}", report.findings);
        let f = report.findings.iter().find(|f| f.problem == "revision-deleted").expect("finding");
        assert!(f.subject.starts_with(&format!("translation {} ", s.kk)), "{}", f.subject);
        assert!(f.detail.contains(&live.to_string()), "{}", f.detail);
        let actor = admin();
        integrity::restore_sealed(&Ctx::new(&t.db, &actor), &s.paths.media_dir, f.restorable_seal.expect("seal"))
            .await
            .expect("restore");
        assert_eq!(findings(&t, &s).await, vec![], "a new revision holds the sealed text again");
    }
);

storage_test!(
    /// SC-6: a journal row changed by hand breaks the chain at exactly that entry.
    async fn sc6_edited_journal_row_is_detected(t: TestDb) {
        let s = scene(&t).await;
        let (head, _, _) = baspa_db::journal::head(&t.db).await.expect("head").expect("entries");
        let victim = head - 3;
        raw_sql(&t, "UPDATE journal SET actor_label = ? WHERE id = ?", vec!["nobody".into(), victim.into()]).await;
        let found = findings(&t, &s).await;
        assert_eq!(found, vec![("journal-edited".to_owned(), format!("journal entry {victim}"))]);
        let visitor = Actor::visitor(None, None);
        let err = baspa_actions::change_journal::prune_journal(&Ctx::new(&t.db, &visitor), chrono::Utc::now())
            .await
            .expect_err("visitors cannot prune");
        assert!(matches!(err, baspa_actions::ActionError::NotPermitted { .. }), "{err:?}");
    }
);

storage_test!(
    /// SC-6: removing the newest journal rows is caught by the signed anchor (the chain alone
    /// cannot see a shortened tail); a forged anchor line is caught by its signature.
    async fn sc6_truncated_journal_tail_is_detected_by_the_anchor(t: TestDb) {
        let s = scene(&t).await;
        let (head, _, entries) = baspa_db::journal::head(&t.db).await.expect("head").expect("entries");
        raw_sql(&t, "DELETE FROM journal WHERE id >= ?", vec![(head - 1).into()]).await;
        let chain = baspa_db::journal::verify_chain(&t.db).await.expect("chain");
        assert_eq!(chain.first_break, None, "the shortened chain is still a valid chain");
        let report = integrity::check_journal(&t.db, s.paths.anchors.as_ref()).await.expect("check");
        assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
        assert_eq!(report.findings[0].problem, "journal-truncated");
        assert_eq!(report.findings[0].subject, format!("journal entry {head}"));
        assert!(report.findings[0].detail.contains(&format!("({entries} entries)")), "{}", report.findings[0].detail);

        // Someone appends a forged anchor for the shortened chain: the signature gives it away.
        let log = s._dir.path().join("anchors").join("journal-anchors.log");
        let (id, hash, count) = baspa_db::journal::head(&t.db).await.expect("head").expect("entries");
        let forged = format!("{id}\t{hash}\t{count}\t2026-11-25T00:00:00+00:00\t{}\n", "0".repeat(64));
        let mut text = std::fs::read_to_string(&log).expect("log");
        text.push_str(&forged);
        std::fs::write(&log, text).expect("forge");
        let report = integrity::check_journal(&t.db, s.paths.anchors.as_ref()).await.expect("check");
        assert_eq!(report.findings.iter().map(|f| f.problem).collect::<Vec<_>>(), vec!["anchor-forged"]);
    }
);

storage_test!(
    /// No false alarms: the whole workflow (revise, re-publish, unpublish, trash, restore, purge,
    /// scheduled publishing, journal export and prune) keeps the seals in step.
    async fn sc5_normal_workflow_never_raises_a_false_alarm(t: TestDb) {
        let s = scene(&t).await;
        let actor = admin();
        let ctx = Ctx::new(&t.db, &actor);
        let mut input = TranslationInput::new(lang("kk"), "Астанада жаңа саябақ ашылды", "<p>Саябақ 15 гектар.</p>");
        input.excerpt = "Жаңартылды".into();
        baspa_actions::revise_translation(&ctx, s.kk, input, Some("fix")).await.expect("revise");
        assert_eq!(findings(&t, &s).await, vec![], "a saved draft of a published text changes nothing live");
        baspa_actions::publish_translation(&ctx, s.kk, None).await.expect("re-publish");
        baspa_actions::unpublish_translation(&ctx, s.ru, None).await.expect("unpublish");
        assert_eq!(findings(&t, &s).await, vec![]);
        baspa_actions::publish_translation(&ctx, s.ru, None).await.expect("publish again");
        let item = baspa_domain::ItemId(store::get_translation(&t.db, s.kk).await.expect("row").item_id);
        baspa_actions::trash_item(&ctx, item).await.expect("trash");
        assert_eq!(findings(&t, &s).await, vec![]);
        baspa_actions::restore_item(&ctx, item).await.expect("restore");
        assert_eq!(findings(&t, &s).await, vec![]);
        baspa_actions::trash_item(&ctx, item).await.expect("trash");
        baspa_actions::purge_item(&ctx, item).await.expect("purge");
        assert_eq!(findings(&t, &s).await, vec![]);

        let filter = baspa_db::journal::JournalFilter { action: Some("translation.".into()), ..Default::default() };
        let (csv, count) = baspa_actions::change_journal::export_journal(
            &ctx,
            &filter,
            baspa_actions::change_journal::ExportFormat::Csv,
        )
        .await
        .expect("csv");
        let csv = String::from_utf8(csv).expect("utf-8");
        assert!(count >= 6 && csv.contains("translation.publish") && csv.contains("В Астане"), "{csv}");
        let (xlsx, _) = baspa_actions::change_journal::export_journal(
            &ctx,
            &filter,
            baspa_actions::change_journal::ExportFormat::Xlsx,
        )
        .await
        .expect("xlsx");
        assert!(xlsx.starts_with(b"PK\x03\x04"), "an XLSX is a zip");
        let pruned = baspa_actions::change_journal::prune_journal(&ctx, chrono::Utc::now() + chrono::Duration::days(1))
            .await
            .expect("prune");
        assert!(pruned.removed > 10);
        assert_eq!(findings(&t, &s).await, vec![], "a pruned journal verifies from the prune entry on");
        let exports = baspa_db::journal::search(
            &t.db,
            &baspa_db::journal::JournalFilter { action: Some("journal.".into()), ..Default::default() },
            None,
            10,
        )
        .await
        .expect("journal");
        assert_eq!(exports.len(), 1, "the prune entry survives (the exports before it were pruned)");
    }
);

storage_test!(
    /// HD-11: the first detection mails the administrators once through a real SMTP server.
    async fn hd11_integrity_alert_is_mailed_once(t: TestDb) {
        let Some(smtp) = baspa_testkit::smtp::SmtpSink::start().await else { return };
        let s = scene(&t).await;
        let admin_config = baspa_site::admin::AdminConfig {
            mail: Some(baspa_site::admin::MailConfig {
                smtp_url: smtp.url(),
                from: "Baspa <noreply@baspa.test>".into(),
            }),
            alert_to: vec!["security@baspa.test".into()],
            ..Default::default()
        };
        let db = t.db.clone();
        let app = baspa_testkit::app::spawn_app_with(
            t,
            baspa_testkit::app::AppOptions { admin: Some(admin_config), ..Default::default() },
        )
        .await;
        baspa_testkit::execute_sql(
            &db,
            "UPDATE translations SET title = ? WHERE id = ?",
            vec!["Hacked".into(), s.kk.0.into()],
        )
        .await;
        integrity::run_scheduled_check(&db, &s.paths).await.expect("check");
        integrity::run_scheduled_check(&db, &s.paths).await.expect("check");
        app.run_pending_jobs().await;
        let received = smtp.wait_for("security@baspa.test").await;
        assert!(received.contains("Security incident"), "{received}");
        assert_eq!(received.matches("Subject:").count(), 1, "one mail for one cause: {received}");
        let incident = baspa_db::security::recent_incidents(&db, chrono::DateTime::UNIX_EPOCH, 5).await.expect("q");
        assert!(incident[0].notified_at.is_some());
    }
);
