//! SC-3 acceptance: the upload corpus (`baspa_testkit::upload_corpus`) goes through the real
//! `upload_media` action on every backend. Every harmful file is refused with its reason,
//! journalled as `media.refused` with its hash and kept in quarantine; every clean file of each
//! accepted type is stored. A real clamd (started by the test with its own signature) adds the
//! virus scan, and a stopped clamd refuses uploads instead of letting them through.

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

use std::path::Path;

use baspa_actions::clamd::Clamd;
use baspa_actions::{Actor, Ctx, UploadInput};
use baspa_db::entity::journal_entry;
use baspa_testkit::clamd::{ClamdServer, TEST_MARKER, TEST_SIGNATURE};
use baspa_testkit::storage_test;
use baspa_testkit::upload_corpus::{Case, Expect, corpus, pdf_clean};
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};
use serde_json::{Value, json};

const LIMIT: usize = 50 << 20;

/// No false negatives and no false positives, straight through `inspect` (no database).
#[test]
fn sc3_the_corpus_is_sorted_without_a_single_mistake() {
    let mut mistakes = Vec::new();
    for case in corpus() {
        let result = baspa_actions::uploads::inspect(case.name, &case.bytes, LIMIT);
        match (&case.expect, result) {
            (Expect::Stored(mime), Ok(checked)) if checked.kind.mime() == *mime => {}
            (Expect::Refused(text), Err(refusal)) if refusal.to_string().contains(text) => {}
            (_, Ok(checked)) => mistakes.push(format!("{}: accepted as {}", case.label, checked.kind.mime())),
            (_, Err(refusal)) => mistakes.push(format!("{}: refused: {refusal}", case.label)),
        }
    }
    assert!(mistakes.is_empty(), "{mistakes:#?}");
}

async fn last_journal(db: &DatabaseConnection) -> journal_entry::Model {
    journal_entry::Entity::find()
        .order_by_desc(journal_entry::Column::Id)
        .one(db)
        .await
        .expect("journal")
        .expect("an entry")
}

/// The refusal is journalled with the hash of the bytes sent and its reason, and the bytes sit
/// in quarantine under the journalled key.
async fn assert_refused_and_quarantined(db: &DatabaseConnection, media_dir: &Path, case: &Case, reason: &str) {
    let entry = last_journal(db).await;
    assert_eq!(entry.action, "media.refused", "{}", case.label);
    let after = entry.after.expect("after");
    assert_eq!(after["hash"], json!(blake3::hash(&case.bytes).to_hex().to_string()), "{}", case.label);
    assert!(after["reason"].as_str().is_some_and(|r| r.contains(reason)), "{}: {after}", case.label);
    let key = after["quarantine"].as_str().expect("a quarantine key");
    let stem = key.strip_suffix(".bin").expect(".bin");
    assert!(stem.len() == 32 && stem.chars().all(|c| c.is_ascii_hexdigit()), "{key}");
    let kept = std::fs::read(baspa_actions::uploads::quarantine_dir(media_dir).join(key)).expect("quarantined file");
    assert!(kept == case.bytes, "{}: the quarantined bytes are the bytes sent", case.label);
}

fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

storage_test!(
    /// SC-3: every harmful file of the corpus is refused, journalled and quarantined; every
    /// clean one is stored with its type. Nothing harmful reaches the media folder.
    async fn sc3_upload_corpus_through_upload_media(t: TestDb) {
        let data = tempfile::tempdir().expect("data dir");
        let media_dir = data.path().join("media");
        let actor = Actor::system("test");
        let ctx = Ctx::at(&t.db, &actor, baspa_domain::time::now());
        let (mut stored, mut refused) = (0, 0);
        for case in corpus() {
            let input = UploadInput {
                original_name: case.name,
                bytes: &case.bytes,
                alt: Value::Null,
                max_bytes: LIMIT,
                scanner: None,
            };
            let result = baspa_actions::upload_media(&ctx, &media_dir, input).await;
            match (&case.expect, result) {
                (Expect::Stored(mime), Ok(id)) => {
                    let row = baspa_db::content::get_media(&t.db, id).await.expect("media row");
                    assert_eq!(row.mime, *mime, "{}", case.label);
                    assert!(media_dir.join(&row.storage_key).is_file(), "{}", case.label);
                    stored += 1;
                }
                (Expect::Refused(reason), Err(e)) => {
                    assert!(e.to_string().contains(reason), "{}: {e}", case.label);
                    assert_refused_and_quarantined(&t.db, &media_dir, case, reason).await;
                    refused += 1;
                }
                (Expect::Stored(_), Err(e)) => panic!("{}: refused: {e}", case.label),
                (Expect::Refused(_), Ok(_)) => panic!("{}: stored", case.label),
            }
        }
        assert_eq!(files_in(&media_dir), stored, "only the clean files are in the media folder");
        assert_eq!(files_in(&baspa_actions::uploads::quarantine_dir(&media_dir)), refused);
    }
);

storage_test!(
    /// SC-3: with clamd configured, a file clamd recognises is refused with clamd's signature
    /// name, a clean one is stored, and while clamd is down every upload is refused as
    /// "virus scanner unavailable" (fail closed) and kept in quarantine.
    async fn sc3_clamd_scans_uploads_and_a_stopped_clamd_refuses_them(t: TestDb) {
        let Some(mut clamd) = ClamdServer::start().await else { return };
        let scanner = Clamd::parse(&clamd.address()).expect("address").expect("configured");
        let data = tempfile::tempdir().expect("data dir");
        let media_dir = data.path().join("media");
        let actor = Actor::system("test");
        let ctx = Ctx::at(&t.db, &actor, baspa_domain::time::now());
        let upload =
            |name: &'static str, bytes: Vec<u8>| Case { label: name, name, bytes, expect: Expect::Refused("") };
        // A PDF that passes every built-in check but carries the test signature's text.
        let marked = upload("marked.pdf", [&pdf_clean()[..], format!("%{TEST_MARKER}\n").as_bytes()].concat());
        assert!(baspa_actions::uploads::inspect(marked.name, &marked.bytes, LIMIT).is_ok(), "built-in checks pass");
        let send = async |case: &Case, scanner: Option<&Clamd>| {
            let input = UploadInput {
                original_name: case.name,
                bytes: &case.bytes,
                alt: Value::Null,
                max_bytes: LIMIT,
                scanner,
            };
            baspa_actions::upload_media(&ctx, &media_dir, input).await
        };
        let err = send(&marked, Some(&scanner)).await.expect_err("infected");
        assert!(err.to_string().contains(TEST_SIGNATURE), "{err}; clamd log: {}", clamd.log());
        assert!(err.to_string().contains("virus scanner found"), "{err}");
        assert_refused_and_quarantined(&t.db, &media_dir, &marked, TEST_SIGNATURE).await;

        let clean = upload("clean.pdf", pdf_clean());
        send(&clean, Some(&scanner)).await.expect("a clean file passes clamd");

        clamd.stop();
        let err = send(&clean, Some(&scanner)).await.expect_err("scanner down");
        assert!(err.to_string().contains("virus scanner is unavailable"), "{err}");
        assert!(err.to_string().contains("try again later"), "{err}");
        assert_refused_and_quarantined(&t.db, &media_dir, &clean, "virus scanner is unavailable").await;
    }
);
