//! Backups that are proven (BK-1..BK-7) on every backend: create → verify → restore gives the
//! same rows (per-table hashes), the same media files and a journal that still verifies; a
//! SQLite site restores onto PostgreSQL and MariaDB and back; damage of every kind is named by
//! verify; a killed backup never counts; runs are journalled and failures alert; upkeep counts
//! what it removes; the restore drill in docs/operations.md works as written.

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

use std::path::{Path, PathBuf};
use std::process::Command;

use baspa_actions::integrity::{AnchorKeeper, check_journal};
use baspa_actions::{Actor, CommentInput, Ctx, TranslationInput, UploadInput};
use baspa_domain::{CommentStatus, ItemKind};
use baspa_testkit::builders::{lang, news_languages, published};
use baspa_testkit::{Backend, TestDb, storage_test};
use baspa_upkeep::create::Progress;
use baspa_upkeep::{BackupSettings, RestoreOptions, Target};

const QUIET: Progress = Progress { quiet: true };

fn png(seed: u8) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(8, 5, image::Rgb([seed, 120, 200]))
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

/// A site with a section, a published kk/ru article in it with a second revision, a comment
/// thread, a picture, a staff account and an anchored journal; plus its data dir and keys.
struct Site {
    dir: tempfile::TempDir,
    settings: BackupSettings,
}

impl Site {
    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
    /// The binary's configuration for this site (backups to its target with its keys).
    fn config(&self) -> baspa::config::Config {
        let mut config = baspa::config::Config::default();
        config.storage.data_dir = self.data_dir();
        config.database.url = baspa::config::Secret(self.settings.database_url.clone());
        config.backup.targets = self.settings.targets.clone();
        config.backup.recipients = self.settings.recipients.clone();
        config.backup.identity_file = self.settings.identity_file.clone();
        config
    }
    fn target(&self) -> Target {
        Target::open(&self.settings.targets[0]).expect("target")
    }
}

fn keys(dir: &Path, file: &str) -> (PathBuf, String) {
    let (secret, public) = baspa_upkeep::crypto::generate_identity();
    let path = dir.join(file);
    std::fs::write(&path, format!("{secret}\n")).expect("key");
    (path, public)
}

async fn seed(db: &sea_orm::DatabaseConnection, data: &Path) {
    news_languages(db).await;
    let now = baspa_domain::time::now();
    let section =
        published(db, ItemKind::Section, None, None, &[("kk", "Қоғам", ""), ("ru", "Общество", "")], now).await;
    let article = published(
        db,
        ItemKind::Article,
        Some(section.item_id),
        None,
        &[
            ("kk", "Астанада жаңа саябақ ашылды", "<p>Саябақ 12 гектар. «Тырнақша» мен emoji 🌳</p>"),
            ("ru", "В Астане открылся новый парк", "<p>Парк площадью 12 гектаров.</p>"),
        ],
        now,
    )
    .await;
    let actor = Actor::system("editor");
    let ctx = Ctx::new(db, &actor);
    let ru = article.translation("ru").expect("ru");
    baspa_actions::revise_translation(
        &ctx,
        ru,
        TranslationInput::new(lang("ru"), "В Астане открылся новый парк", "<p>Черновик второй версии.</p>"),
        Some("вторая версия"),
    )
    .await
    .expect("revise");
    let first = baspa_actions::add_comment(
        &ctx,
        CommentInput {
            item_id: article.item_id,
            lang: "ru",
            parent: None,
            author_name: "Айгүл",
            author_email: Some("aigul@example.kz"),
            body: "Отличная новость!",
            status: CommentStatus::Approved,
            posted_at: None,
        },
    )
    .await
    .expect("comment");
    baspa_actions::add_comment(
        &ctx,
        CommentInput {
            item_id: article.item_id,
            lang: "ru",
            parent: Some(first),
            author_name: "Ерлан",
            author_email: None,
            body: "Согласен",
            status: CommentStatus::Pending,
            posted_at: None,
        },
    )
    .await
    .expect("reply");
    for (i, name) in ["park.png", "map.png"].iter().enumerate() {
        let bytes = png(10 + i as u8);
        baspa_actions::upload_media(
            &ctx,
            &data.join("media"),
            UploadInput {
                original_name: name,
                bytes: &bytes,
                alt: serde_json::json!({"kk": "Саябақ"}),
                max_bytes: 1 << 20,
                scanner: None,
            },
        )
        .await
        .expect("upload");
    }
    baspa_actions::create_user(
        &ctx,
        "editor@baq.kz",
        "Әлия",
        baspa_domain::Role::Editor,
        "correct horse battery staple",
    )
    .await
    .expect("user");
    AnchorKeeper::open(data).expect("anchors").anchor(db).await.expect("anchor");
}

async fn site(t: &TestDb) -> Site {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data");
    seed(&t.db, &data).await;
    let (identity, recipient) = keys(dir.path(), "backup.key");
    let config = dir.path().join("baspa.toml");
    std::fs::write(&config, "[site]\nname = \"BAQ\"\n").expect("config");
    let settings = BackupSettings {
        targets: vec![format!("file://{}", dir.path().join("target").display())],
        recipients: vec![recipient],
        identity_file: Some(identity),
        data_dir: data,
        database_url: t.url.clone(),
        config_file: Some(config),
        theme_dir: None,
        native_dump: true,
        zstd_level: 3,
    };
    Site { dir, settings }
}

/// Per-table hashes of a database's portable export (an independent re-read, not the restore's
/// own check).
async fn table_hashes(db: &sea_orm::DatabaseConnection) -> std::collections::BTreeMap<String, (u64, String)> {
    let dir = tempfile::tempdir().expect("dir");
    baspa_upkeep::create::export_tables(db, dir.path())
        .await
        .expect("export")
        .into_iter()
        .map(|(k, v)| (k, (v.rows, v.blake3)))
        .collect()
}

fn files_with_hashes(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for sub in ["media", "sealed"] {
        let base = dir.join(sub);
        let Ok(entries) = std::fs::read_dir(&base) else { continue };
        for e in entries.flatten() {
            let bytes = std::fs::read(e.path()).expect("read");
            out.push((format!("{sub}/{}", e.file_name().to_string_lossy()), blake3::hash(&bytes).to_hex().to_string()));
        }
    }
    out.sort();
    out
}

async fn restore_into(s: &Site, url: &str, data_dir: Option<PathBuf>) -> baspa_upkeep::RestoreReport {
    let target = s.target();
    let chosen = baspa_upkeep::verify::choose(&target, None, None).await.expect("a backup");
    let options = RestoreOptions {
        database_url: url.to_owned(),
        data_dir,
        force: false,
        live_database_url: Some(s.settings.database_url.clone()),
        live_data_dir: Some(s.settings.data_dir.clone()),
        until: None,
    };
    baspa_upkeep::restore_backup(&s.settings, &target, &chosen, None, &options).await.expect("restore")
}

storage_test!(
    /// BK-1: a backup verifies, and restoring it into a fresh database of the same backend and
    /// into SQLite gives identical rows in every table, identical media files, and a journal
    /// whose chain and signed anchor still verify.
    async fn bk1_create_verify_restore_gives_identical_tables_media_and_journal(t: TestDb) {
        let s = site(&t).await;
        let created = baspa_upkeep::create_backup(&s.settings, &t.db, &QUIET).await.expect("create");
        assert!(created.ok(), "{:?}", created.problems);
        assert_eq!(
            created.warnings,
            Vec::<String>::new(),
            "the native dump (VACUUM INTO, pg_dump, mariadb-dump) is in"
        );
        assert!(created.rows > 20 && created.media_files >= 4, "{created:?}");
        let target = s.target();
        let sidecar = baspa_upkeep::verify::choose(&target, None, None).await.expect("listed");
        assert_eq!(sidecar.name, created.name);
        let verified = baspa_upkeep::verify_backup(&s.settings, &target, &sidecar, None).await.expect("verify");
        assert!(verified.ok(), "{:?}", verified.problems);
        assert_eq!(verified.media_checked, created.media_files);

        let source = table_hashes(&t.db).await;
        let same = TestDb::create(t.backend).await.expect("a second database of this backend");
        let sqlite_dir = tempfile::tempdir().expect("dir");
        let sqlite_url = format!("sqlite://{}/restored.sqlite", sqlite_dir.path().display());
        for (url, data) in [(same.url.clone(), None), (sqlite_url.clone(), Some(sqlite_dir.path().join("data")))] {
            let report = restore_into(&s, &url, data.clone()).await;
            assert!(report.ok(), "{url}: {:?}", report.problems);
            assert_eq!(report.tables_identical, source.len(), "{url}");
            let restored = baspa_db::connect(&url).await.expect("connect");
            assert_eq!(table_hashes(&restored).await, source, "{url}: every table identical");
            assert_eq!(
                baspa_testkit::snapshot::content_snapshot(&restored).await,
                baspa_testkit::snapshot::content_snapshot(&t.db).await
            );
            if let Some(data) = data {
                assert_eq!(files_with_hashes(&data), files_with_hashes(&s.data_dir()), "media and sealed copies");
                let keeper = AnchorKeeper::open(&data).expect("restored anchors");
                let journal = check_journal(&restored, Some(&keeper)).await.expect("journal");
                assert_eq!(journal.findings, vec![], "the restored journal verifies against its anchors");
                assert!(data.join("restored-config/baspa.toml").is_file());
            }
            // New rows after a restore get new ids (sequences moved past the restored ones).
            let actor = Actor::system("after-restore");
            let ctx = Ctx::new(&restored, &actor);
            baspa_actions::create_user(
                &ctx,
                "new@baq.kz",
                "New",
                baspa_domain::Role::Author,
                "correct horse battery staple",
            )
            .await
            .expect("a new row after the restore");
        }
        // With --force a non-empty database (here with a row added after the first restore) is
        // emptied and replaced: self-references and RESTRICT keys do not block it.
        let target = s.target();
        let options = RestoreOptions { database_url: same.url.clone(), force: true, ..Default::default() };
        let forced =
            baspa_upkeep::restore_backup(&s.settings, &target, &sidecar, None, &options).await.expect("forced");
        assert!(forced.ok(), "{:?}", forced.problems);
        assert_eq!(table_hashes(&same.db).await, source, "replaced exactly");
        // A second restore into the now non-empty database is refused without --force.
        let target = s.target();
        let options = RestoreOptions { database_url: sqlite_url.clone(), ..Default::default() };
        let err =
            baspa_upkeep::restore_backup(&s.settings, &target, &sidecar, None, &options).await.expect_err("refused");
        assert!(err.to_string().contains("not empty"), "{err}");
        // …and the live database is refused too.
        let options = RestoreOptions {
            database_url: t.url.clone(),
            live_database_url: Some(t.url.clone()),
            ..Default::default()
        };
        let err = baspa_upkeep::restore_backup(&s.settings, &target, &sidecar, None, &options).await.expect_err("live");
        assert!(err.to_string().contains("live database"), "{err}");
    }
);

storage_test!(
    /// BK-1: a SQLite site restores onto each backend (PostgreSQL and MariaDB included) with
    /// identical tables: the export is portable.
    async fn bk1_a_sqlite_site_restores_onto_every_backend(t: TestDb) {
        let source = TestDb::create(Backend::Sqlite).await.expect("sqlite");
        let s = site(&source).await;
        let created = baspa_upkeep::create_backup(&s.settings, &source.db, &QUIET).await.expect("create");
        assert!(created.ok(), "{:?}", created.problems);
        let report = restore_into(&s, &t.url, None).await;
        assert!(report.ok(), "{:?}", report.problems);
        assert_eq!(table_hashes(&t.db).await, table_hashes(&source.db).await);
    }
);

fn flip_byte(path: &Path, at: usize) {
    let mut bytes = std::fs::read(path).expect("read");
    let i = at.min(bytes.len() - 1);
    bytes[i] ^= 0x01;
    std::fs::write(path, bytes).expect("write");
}

fn archive_file(s: &Site, name: &str) -> PathBuf {
    s.dir.path().join("target").join(baspa_upkeep::manifest::archive_path(name))
}

async fn verify_problems(s: &Site, identity: Option<&Path>) -> Vec<String> {
    let target = s.target();
    let sidecar = baspa_upkeep::verify::choose(&target, None, None).await.expect("listed");
    match baspa_upkeep::verify_backup(&s.settings, &target, &sidecar, identity).await {
        Ok(r) => r.problems,
        Err(e) => vec![e.to_string()],
    }
}

/// BK-1, fault tests: a flipped byte, a truncated archive, a wrong key and a missing media
/// object are each detected by verify and named in words; a damaged backup is never restored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bk1_flipped_byte_truncation_wrong_key_and_missing_object_are_each_named() {
    let t = TestDb::create(Backend::Sqlite).await.expect("sqlite");
    let s = site(&t).await;
    let created = baspa_upkeep::create_backup(&s.settings, &t.db, &QUIET).await.expect("create");
    let archive = archive_file(&s, &created.name);
    let pristine = std::fs::read(&archive).expect("archive");
    assert_eq!(verify_problems(&s, None).await, Vec::<String>::new());

    flip_byte(&archive, pristine.len() / 2);
    let problems = verify_problems(&s, None).await.join(" | ");
    assert!(problems.contains("changed after it was written"), "{problems}");
    assert!(problems.contains("damaged"), "decryption names the damage too: {problems}");
    let target = s.target();
    let sidecar = baspa_upkeep::verify::choose(&target, None, None).await.expect("listed");
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}/r.sqlite", dir.path().display());
    let options = RestoreOptions { database_url: url, ..Default::default() };
    let err = baspa_upkeep::restore_backup(&s.settings, &target, &sidecar, None, &options).await.expect_err("refused");
    assert!(err.to_string().contains("does not verify, nothing was restored"), "{err}");

    std::fs::write(&archive, &pristine[..pristine.len() * 2 / 3]).expect("truncate");
    let problems = verify_problems(&s, None).await.join(" | ");
    assert!(problems.contains("truncated"), "{problems}");

    std::fs::write(&archive, &pristine).expect("repair");
    let (other, _) = keys(s.dir.path(), "other.key");
    let problems = verify_problems(&s, Some(&other)).await.join(" | ");
    assert!(problems.contains("wrong key"), "{problems}");

    assert_eq!(verify_problems(&s, None).await, Vec::<String>::new(), "the repaired archive verifies");
    let objects = s.dir.path().join("target/objects");
    let first = walk(&objects).into_iter().next().expect("an object");
    std::fs::remove_file(&first).expect("remove object");
    let problems = verify_problems(&s, None).await.join(" | ");
    assert!(problems.contains("media object") && problems.contains("missing"), "{problems}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.path().is_dir() {
                out.extend(walk(&e.path()));
            } else {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

/// BK-1 + BK-6: media files are stored once across backups (incremental), and retention
/// removes backups beyond the policy together with objects no remaining backup needs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bk1_media_are_stored_once_and_retention_removes_unneeded_objects() {
    let t = TestDb::create(Backend::Sqlite).await.expect("sqlite");
    let s = site(&t).await;
    let first = baspa_upkeep::create_backup(&s.settings, &t.db, &QUIET).await.expect("first");
    // Two pictures, each in media/ and as its sealed copy: four files, two distinct contents.
    assert_eq!((first.media_files, first.new_objects), (4, 2), "each content is stored once");
    {
        // While another run holds the node's backup lock, a second one is refused (it would
        // otherwise clear the first one's spool).
        let _held = baspa_upkeep::SpoolLock::acquire(&s.settings).expect("lock");
        let refused = baspa_upkeep::create_backup(&s.settings, &t.db, &QUIET).await.expect_err("refused");
        assert!(refused.to_string().contains("another backup is running"), "{refused}");
    }
    let second = baspa_upkeep::create_backup(&s.settings, &t.db, &QUIET).await.expect("second");
    assert_eq!(second.new_objects, 0, "unchanged files are not stored again");
    assert_eq!(s.target().list_backups().await.expect("list").len(), 2);
    let objects_before = walk(&s.dir.path().join("target/objects")).len();
    // Keep only the newest: the first backup goes, its objects stay (the second needs them).
    let policy = baspa_upkeep::Retention { last: 1, daily: 1, weekly: 0, monthly: 0, quarterly: 0 };
    let pruned = baspa_upkeep::prune_target(&s.target(), policy).await.expect("prune");
    assert_eq!(pruned.removed, vec![first.name.clone()]);
    assert_eq!(pruned.objects_removed, 0);
    assert_eq!(walk(&s.dir.path().join("target/objects")).len(), objects_before);
    assert!(!archive_file(&s, &first.name).exists());
}

storage_test!(
    /// BK-3: every run is recorded in `backup_runs` and the change journal in one action; a
    /// failed run raises an incident that queues an alert mail at once.
    async fn bk3_runs_are_journalled_and_a_failure_alerts(t: TestDb) {
        use baspa_actions::upkeep::{RunRecord, record_run};
        let actor = Actor::system("backup");
        let ctx = Ctx::new(&t.db, &actor);
        let started = baspa_domain::time::now();
        record_run(
            &ctx,
            RunRecord {
                kind: "backup",
                ok: true,
                archive: Some("baspa-x".into()),
                summary: "fine".into(),
                details: None,
                started_at: started,
            },
        )
        .await
        .expect("record");
        record_run(
            &ctx,
            RunRecord {
                kind: "verify",
                ok: false,
                archive: Some("baspa-x".into()),
                summary: "the archive is truncated".into(),
                details: None,
                started_at: started,
            },
        )
        .await
        .expect("record");
        let runs = baspa_db::backup_runs::recent_runs(&t.db, 10).await.expect("runs");
        assert_eq!(
            runs.iter().map(|r| (r.kind.as_str(), r.status.as_str())).collect::<Vec<_>>(),
            vec![("verify", "failed"), ("backup", "ok")]
        );
        assert_eq!(
            baspa_db::backup_runs::last_ok(&t.db, "backup").await.expect("q").map(|r| r.archive),
            Some(Some("baspa-x".into()))
        );
        let entries = baspa_db::journal::search(
            &t.db,
            &baspa_db::journal::JournalFilter { action: Some("backup.".into()), ..Default::default() },
            None,
            10,
        )
        .await
        .expect("journal");
        assert_eq!(entries.len(), 2);
        let incidents =
            baspa_db::security::recent_incidents(&t.db, chrono::DateTime::UNIX_EPOCH, 10).await.expect("incidents");
        assert_eq!(incidents.len(), 1);
        assert_eq!(incidents[0].cause, "backup.verify");
        assert!(incidents[0].summary.contains("truncated"));
        assert_eq!(baspa_db::jobs::queued(&t.db, baspa_actions::security::ALERT_JOB).await.expect("jobs").len(), 1);
    }
);

storage_test!(
    /// BK-4: upkeep removes expired sessions, old finished jobs, old counters, orphaned media
    /// files and revisions beyond the policy — never a live or latest revision — and journals
    /// the counts.
    async fn bk4_upkeep_removes_obsolete_records_and_journals_the_counts(t: TestDb) {
        use baspa_actions::upkeep::{UpkeepPolicy, run_upkeep};
        let dir = tempfile::tempdir().expect("dir");
        let data = dir.path().join("data");
        news_languages(&t.db).await;
        let now = baspa_domain::time::now();
        let created = published(&t.db, ItemKind::Article, None, None, &[("kk", "Тақырып", "<p>1</p>")], now).await;
        let kk = created.translation("kk").expect("kk");
        let actor = Actor::system("upkeep");
        let ctx = Ctx::new(&t.db, &actor);
        for i in 2..=6 {
            baspa_actions::revise_translation(
                &ctx,
                kk,
                TranslationInput::new(lang("kk"), "Тақырып", &format!("<p>{i}</p>")),
                None,
            )
            .await
            .expect("revise");
        }
        let user = baspa_actions::create_user(
            &ctx,
            "u@baq.kz",
            "U",
            baspa_domain::Role::Author,
            "correct horse battery staple",
        )
        .await
        .expect("user");
        let hour = chrono::Duration::hours(1);
        for (i, expires) in [now - hour, now - hour * 2, now + hour].into_iter().enumerate() {
            baspa_db::staff_access::insert_session(
                &t.db,
                baspa_db::staff_access::NewSession {
                    token_hash: &format!("{i:064}"),
                    user_id: user,
                    csrf_token: "c",
                    second_factor_done: true,
                    ip: None,
                    user_agent: None,
                    expires_at: expires,
                },
                now - hour * 3,
            )
            .await
            .expect("session");
        }
        let old = now - chrono::Duration::days(40);
        let job = baspa_db::jobs::enqueue(&t.db, "test.old", serde_json::json!({}), None, old).await.expect("job");
        baspa_db::jobs::finish(&t.db, job, old).await.expect("finish");
        baspa_db::jobs::enqueue(&t.db, "test.queued", serde_json::json!({}), None, old)
            .await
            .expect("queued job stays");
        std::fs::create_dir_all(data.join("media")).expect("media dir");
        let orphan = data.join("media/left-behind.png");
        std::fs::write(&orphan, png(1)).expect("orphan");
        let f = std::fs::File::options().write(true).open(&orphan).expect("open");
        f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(48 * 3600)).expect("mtime");
        std::fs::write(data.join("media/fresh.png"), png(2)).expect("fresh file stays");

        let policy = UpkeepPolicy { jobs_days: 30, statistics_days: 400, keep_revisions: 2, orphan_media_hours: 24 };
        let report = run_upkeep(&ctx, &policy, Some(&data.join("media"))).await.expect("upkeep");
        assert_eq!(report.sessions, 2);
        assert_eq!(report.jobs, 1);
        assert_eq!(report.orphan_media_files, 1);
        // Six revisions: the newest two stay, the live one (the first, published) is protected.
        assert_eq!(report.revisions, 3, "{report:?}");
        assert!(!orphan.exists() && data.join("media/fresh.png").exists());
        let tr = baspa_db::content::get_translation(&t.db, kk).await.expect("translation");
        for rev in [tr.live_revision_id, tr.latest_revision_id].into_iter().flatten() {
            assert!(
                baspa_db::entity::revision::Entity::find_by_id(rev).one(&t.db).await.expect("q").is_some(),
                "live and latest revisions are never removed"
            );
        }
        let runs = baspa_db::backup_runs::recent_runs(&t.db, 1).await.expect("runs");
        assert_eq!(runs[0].kind, "upkeep");
        assert!(
            runs[0].summary.contains("2 sessions") && runs[0].summary.contains("3 revisions"),
            "{}",
            runs[0].summary
        );
        // A second run finds nothing more to do.
        let again = run_upkeep(&ctx, &policy, Some(&data.join("media"))).await.expect("upkeep");
        assert_eq!((again.sessions, again.jobs, again.revisions, again.orphan_media_files), (0, 0, 0, 0));
    }
);

use sea_orm::EntityTrait;

// ---- through the binary ----

fn baspa(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_baspa"))
        .args(args)
        .current_dir(dir)
        .env_remove("BASPA_DATABASE_URL")
        .env("BASPA_LOG", "error")
        .output()
        .expect("run baspa")
}

fn ok(out: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "failed: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// A site on disk with a baspa.toml that backs up to ./backups with a fresh key pair.
fn binary_site(dir: &Path, articles: u32) {
    let key = dir.join("backup.key");
    let out = ok(&baspa(dir, &["backup", "keygen", "--out", key.to_str().expect("utf8")]));
    let recipient =
        out.lines().find_map(|l| l.strip_prefix("recipient for backup.recipients: ")).expect("recipient").to_owned();
    std::fs::write(
        dir.join("baspa.toml"),
        format!(
            "[storage]\ndata_dir = \"data\"\n[backup]\ntargets = [\"backups\"]\nrecipients = [\"{recipient}\"]\nidentity_file = \"backup.key\"\n"
        ),
    )
    .expect("config");
    ok(&baspa(dir, &["bench", "seed", "--articles", &articles.to_string()]));
}

/// BK-1 fault test: `kill -9` during a backup leaves no archive that counts as good, at any
/// moment; the next backup cleans up and verifies.
#[test]
fn bk1_kill_9_during_backup_leaves_nothing_counted_as_good() {
    let dir = tempfile::tempdir().expect("dir");
    binary_site(dir.path(), 400);
    // A large media file makes the upload phase long enough to be interrupted too.
    let media = dir.path().join("data/media");
    std::fs::create_dir_all(&media).expect("media");
    let noise: Vec<u8> = (0..24u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(media.join("big.bin"), noise).expect("big file");
    let complete = || {
        let list = ok(&baspa(dir.path(), &["backup", "list"]));
        list.lines().filter(|l| l.starts_with("baspa-")).count()
    };
    let mut interrupted = 0;
    for delay_ms in [30u64, 80, 150, 300, 450, 600, 1000, 1600] {
        let before = complete();
        let mut child = Command::new(env!("CARGO_BIN_EXE_baspa"))
            .args(["backup", "create", "--quiet"])
            .current_dir(dir.path())
            .env("BASPA_LOG", "error")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        child.kill().ok(); // SIGKILL, unless it already finished
        let status = child.wait().expect("reap");
        let after = complete();
        if std::os::unix::process::ExitStatusExt::signal(&status) != Some(9) {
            assert!(status.success(), "a run that was not killed succeeds");
            assert_eq!(after, before + 1, "a finished run counts");
            continue;
        }
        // Killed: either before its sidecar (nothing new counts) or after it (the backup was
        // complete; it must then verify, checked below with every other one).
        assert!(after == before || after == before + 1, "killed after {delay_ms} ms: {before} → {after}");
        if after == before {
            interrupted += 1;
        }
    }
    assert!(interrupted >= 3, "the backup was actually interrupted ({interrupted} times)");
    ok(&baspa(dir.path(), &["backup", "create", "--quiet"]));
    let verify = ok(&baspa(dir.path(), &["backup", "verify", "--all"]));
    assert!(verify.lines().all(|l| l.starts_with("OK ")), "every backup that counts verifies: {verify}");
    let spool = dir.path().join("data/backup-spool");
    let leftovers: Vec<_> = walk(&spool).into_iter().filter(|p| !p.ends_with("lock")).collect();
    assert!(leftovers.is_empty(), "leftovers of killed runs are cleaned: {leftovers:?}");
}

/// BK-2, BK-5: the automatic restore test restores the newest backup into a scratch database,
/// checks hashes, the journal and that pages render, and is journalled; after the archive is
/// damaged the test fails, is journalled as failed and raises an incident (alert mail queued).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bk5_restore_test_passes_then_fails_and_alerts_on_a_damaged_backup() {
    let t = TestDb::create(Backend::Sqlite).await.expect("sqlite");
    let s = site(&t).await;
    let config = s.config();
    let made = baspa::backup::create(&config, None, &t.db, true).await.expect("backup");
    let passed = baspa::backup::restore_test(&config, &t.db, false).await.expect("restore test");
    assert!(passed.contains("passed") && passed.contains("journal of"), "{passed}");
    let random = baspa::backup::restore_test(&config, &t.db, true).await.expect("random restore test");
    assert!(random.contains(&made.name), "with one backup the random choice is that one: {random}");
    flip_byte(&archive_file(&s, &made.name), 5000);
    let err = baspa::backup::restore_test(&config, &t.db, false).await.expect_err("fails");
    assert!(err.to_string().contains("restore test failed"), "{err}");
    let runs = baspa_db::backup_runs::recent_runs(&t.db, 10).await.expect("runs");
    let kinds: Vec<_> = runs.iter().map(|r| (r.kind.as_str(), r.status.as_str())).collect();
    assert_eq!(
        kinds,
        vec![("restore_test", "failed"), ("restore_test", "ok"), ("restore_test", "ok"), ("backup", "ok")]
    );
    let incidents =
        baspa_db::security::recent_incidents(&t.db, chrono::DateTime::UNIX_EPOCH, 10).await.expect("incidents");
    assert!(incidents.iter().any(|i| i.cause == "backup.restore_test"), "{incidents:?}");
    assert!(!baspa_db::jobs::queued(&t.db, baspa_actions::security::ALERT_JOB).await.expect("jobs").is_empty());
}

/// BK-2 (partial, see docs/operations.md): `restore --at` restores the state of the newest
/// backup made at or before that moment — a change made after it is not there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bk2_restore_at_a_moment_gives_the_state_of_that_moment() {
    let t = TestDb::create(Backend::Sqlite).await.expect("sqlite");
    let s = site(&t).await;
    let before = baspa_upkeep::create_backup(&s.settings, &t.db, &QUIET).await.expect("first");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let between = baspa_domain::time::now();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let actor = Actor::system("editor");
    let ctx = Ctx::new(&t.db, &actor);
    baspa_actions::create_user(
        &ctx,
        "later@baq.kz",
        "Later",
        baspa_domain::Role::Author,
        "correct horse battery staple",
    )
    .await
    .expect("a later change");
    baspa_upkeep::create_backup(&s.settings, &t.db, &QUIET).await.expect("second");
    let target = s.target();
    let chosen = baspa_upkeep::verify::choose(&target, None, Some(between)).await.expect("chosen");
    assert_eq!(chosen.name, before.name);
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}/r.sqlite", dir.path().display());
    let options = RestoreOptions { database_url: url.clone(), ..Default::default() };
    baspa_upkeep::restore_backup(&s.settings, &target, &chosen, None, &options).await.expect("restore");
    let restored = baspa_db::connect(&url).await.expect("connect");
    let emails: Vec<String> =
        baspa_db::users::list(&restored).await.expect("users").into_iter().map(|u| u.email).collect();
    assert!(emails.contains(&"editor@baq.kz".to_owned()) && !emails.contains(&"later@baq.kz".to_owned()), "{emails:?}");
}

/// The restore drill in docs/operations.md, followed literally: its commands (the lines of the
/// fenced block marked `drill`) run against a site made here; the restored copy serves its
/// journal and verifies.
#[test]
fn the_restore_drill_in_operations_md_works_as_written() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/operations.md"))
        .expect("docs/operations.md");
    let block = doc.split("```sh drill").nth(1).and_then(|b| b.split("```").next()).expect("a ```sh drill block");
    let commands: Vec<&str> = block.lines().map(str::trim).filter(|l| l.starts_with("baspa ")).collect();
    assert!(commands.len() >= 5, "{commands:?}");
    let dir = tempfile::tempdir().expect("dir");
    binary_site(dir.path(), 20);
    ok(&baspa(dir.path(), &["backup", "create", "--quiet"]));
    let mut outputs = Vec::new();
    for line in commands {
        let line = line.replace("$RESTORE_DIR", "restored");
        let args: Vec<String> = shell_words(&line[6..]);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        outputs.push(ok(&baspa(dir.path(), &argv)));
    }
    let all = outputs.join("\n");
    assert!(all.contains("OK "), "verify ran: {all}");
    assert!(all.contains("restored "), "restore ran: {all}");
    assert!(all.contains("journal verified"), "the restored journal verifies: {all}");
}

/// Splits a command line on spaces, keeping "quoted parts" together.
fn shell_words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// BK-6, BK-7: the copy to a second medium and the export bundle for an external medium are
/// complete backups there (they verify on their own), journalled; copies past the keeping
/// period expire on the second medium, the newest never.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bk6_bk7_offsite_copy_and_export_bundle_verify_on_their_own() {
    let t = TestDb::create(Backend::Sqlite).await.expect("sqlite");
    let s = site(&t).await;
    let mut config = s.config();
    let offsite = s.dir.path().join("offsite");
    config.backup.offsite_target = format!("file://{}", offsite.display());
    let made = baspa::backup::create(&config, None, &t.db, true).await.expect("backup");
    baspa::backup::restore_test(&config, &t.db, false).await.expect("restore test");
    let copied = baspa::backup::offsite_copy(&config, &t.db, None, None).await.expect("copy");
    assert!(copied.contains("copied to"), "{copied}");
    let second = Target::open(&config.backup.offsite_target).expect("offsite");
    let there = baspa_upkeep::verify::choose(&second, None, None).await.expect("on the second medium");
    assert_eq!(there.name, made.name);
    let report = baspa_upkeep::verify_backup(&s.settings, &second, &there, None).await.expect("verify");
    assert!(report.ok(), "{:?}", report.problems);
    let expired =
        baspa_upkeep::retention::expire_older_than(&second, 0, baspa_domain::time::now() + chrono::Duration::days(2))
            .await
            .expect("expire");
    assert!(expired.removed.is_empty(), "the newest copy is always kept");

    let export_dir = s.dir.path().join("export");
    let exported = baspa::backup::export_bundle(&config, &t.db, &export_dir).await.expect("export");
    let bundle = export_dir.join(format!("export-{}", made.name));
    assert!(exported.contains(&bundle.display().to_string()), "{exported}");
    let version: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("VERSION.json")).expect("VERSION.json")).expect("json");
    assert_eq!(version["backup"], made.name.as_str());
    assert!(bundle.join("Cargo.lock").is_file());
    let bundled = Target::open(&bundle.display().to_string()).expect("bundle");
    let inside = baspa_upkeep::verify::choose(&bundled, None, None).await.expect("a backup in the bundle");
    assert!(baspa_upkeep::verify_backup(&s.settings, &bundled, &inside, None).await.expect("verify").ok());
    let kinds: Vec<String> = baspa_db::backup_runs::recent_runs(&t.db, 10)
        .await
        .expect("runs")
        .into_iter()
        .map(|r| format!("{} {}", r.kind, r.status))
        .collect();
    assert_eq!(kinds, vec!["export ok", "offsite_copy ok", "restore_test ok", "backup ok"]);
}

storage_test!(
    /// BK-3: administrators see the backup journal and the dashboard card (last good backup,
    /// last successful restore test) in the admin; an editor does not.
    async fn bk3_the_admin_shows_the_backup_journal_to_administrators_only(t: TestDb) {
        use baspa_actions::upkeep::{RunRecord, record_run};
        use baspa_testkit::app::{AppOptions, spawn_app_with};
        use baspa_testkit::staff::{StaffSession, admin_without_second_factor, staff_user};
        news_languages(&t.db).await;
        staff_user(&t, "admin@baq.test", baspa_domain::Role::Administrator).await;
        staff_user(&t, "editor@baq.test", baspa_domain::Role::Editor).await;
        let actor = Actor::system("backup");
        let ctx = Ctx::new(&t.db, &actor);
        let started = baspa_domain::time::now();
        for (kind, ok, summary) in [
            ("backup", true, "120 rows in 23 tables"),
            ("restore_test", true, "identical"),
            ("verify", false, "the archive is truncated: 10 of 20 bytes"),
        ] {
            let run = RunRecord {
                kind,
                ok,
                archive: Some("baspa-20261205T030000Z-abcd".into()),
                summary: summary.into(),
                details: None,
                started_at: started,
            };
            record_run(&ctx, run).await.expect("record");
        }
        let app =
            spawn_app_with(t, AppOptions { admin: Some(admin_without_second_factor()), ..Default::default() }).await;
        let admin = StaffSession::sign_in(&app, "baq.test", "admin@baq.test").await;
        let page = admin.get(&app, "/admin/backups").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let html = page.text();
        assert!(html.contains("baspa-20261205T030000Z-abcd") && html.contains("the archive is truncated"), "{html}");
        assert!(html.contains("Соңғы сәтті көшірме"), "the card, in Kazakh by default: {html}");
        let editor = StaffSession::sign_in(&app, "baq.test", "editor@baq.test").await;
        assert_eq!(editor.get(&app, "/admin/backups").await.status, 403);
    }
);

storage_test!(
    /// OP-3: the monthly report lists the month's changes by action, backup runs with failures
    /// named, and incidents; another month's rows stay out.
    async fn op3_monthly_report_counts_changes_backups_and_incidents(t: TestDb) {
        use baspa_actions::upkeep::{RunRecord, record_run};
        news_languages(&t.db).await;
        let actor = Actor::system("backup");
        let now = baspa_domain::time::now();
        let ctx = Ctx::new(&t.db, &actor);
        record_run(
            &ctx,
            RunRecord {
                kind: "backup",
                ok: true,
                archive: Some("baspa-a".into()),
                summary: "fine".into(),
                details: None,
                started_at: now,
            },
        )
        .await
        .expect("record");
        record_run(
            &ctx,
            RunRecord {
                kind: "restore_test",
                ok: false,
                archive: Some("baspa-a".into()),
                summary: "table users: 3 rows restored, 4 in the backup".into(),
                details: None,
                started_at: now,
            },
        )
        .await
        .expect("record");
        let month = now.format("%Y-%m").to_string();
        let report = baspa::report::monthly(&t.db, &month).await.expect("report");
        assert!(report.contains("- language.create: 2"), "{report}");
        assert!(
            report.contains("- backup: 1 ok, 0 failed") && report.contains("- restore_test: 0 ok, 1 failed"),
            "{report}"
        );
        assert!(report.contains("FAILED") && report.contains("3 rows restored, 4 in the backup"), "{report}");
        assert!(report.contains("## Incidents (1)") && report.contains("[backup]"), "{report}");
        let other = baspa::report::monthly(&t.db, "2020-01").await.expect("report");
        assert!(other.contains("(0 journal entries)") && other.contains("## Incidents (0)"), "{other}");
    }
);

storage_test!(
    /// BK-1/BK-2 point in time: between full backups the change log records changed and removed
    /// rows; `restore --at` a moment between two changes gives exactly the database of that
    /// moment (every table's hash equals the one recorded then), and a later moment the later
    /// state.
    async fn bk2_restore_to_a_moment_between_two_changes_gives_exactly_that_state(t: TestDb) {
        use baspa_actions::upkeep::{UpkeepPolicy, run_upkeep};
        let s = site(&t).await;
        let user = baspa_db::users::list(&t.db).await.expect("users")[0].id;
        let now = baspa_domain::time::now();
        baspa_db::staff_access::insert_session(
            &t.db,
            baspa_db::staff_access::NewSession {
                token_hash: &format!("{:064}", 7),
                user_id: baspa_domain::UserId(user),
                csrf_token: "c",
                second_factor_done: true,
                ip: None,
                user_agent: None,
                expires_at: now - chrono::Duration::hours(1),
            },
            now - chrono::Duration::hours(2),
        )
        .await
        .expect("an expired session");
        let full = baspa_upkeep::create_backup(&s.settings, &t.db, &QUIET).await.expect("full");
        assert!(full.ok(), "{:?}", full.problems);
        let actor = Actor::system("editor");
        let ctx = Ctx::new(&t.db, &actor);
        // Change 1: a new account, and upkeep removes the expired session (a deletion).
        baspa_actions::create_user(
            &ctx,
            "first@baq.kz",
            "First",
            baspa_domain::Role::Author,
            "correct horse battery staple",
        )
        .await
        .expect("change 1");
        run_upkeep(&ctx, &UpkeepPolicy::default(), None).await.expect("upkeep");
        let d1 = baspa_upkeep::pitr::create_delta(&s.settings, &t.db).await.expect("delta 1");
        assert!(d1.name.is_some() && d1.deletes >= 1, "{d1:?}");
        let after_first = table_hashes(&t.db).await;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let between = chrono::Utc::now();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        // Change 2: another account, and a text edited.
        baspa_actions::create_user(
            &ctx,
            "second@baq.kz",
            "Second",
            baspa_domain::Role::Author,
            "correct horse battery staple",
        )
        .await
        .expect("change 2");
        let d2 = baspa_upkeep::pitr::create_delta(&s.settings, &t.db).await.expect("delta 2");
        assert!(d2.name.is_some(), "{d2:?}");
        let unchanged = baspa_upkeep::pitr::create_delta(&s.settings, &t.db).await.expect("delta 3");
        assert!(unchanged.name.is_none(), "nothing changed, nothing written");
        let after_second = table_hashes(&t.db).await;

        let target = s.target();
        let chosen = baspa_upkeep::verify::choose(&target, None, Some(between)).await.expect("full backup");
        assert_eq!(chosen.name, full.name);
        for (until, expected, deltas) in [(between, &after_first, 1), (chrono::Utc::now(), &after_second, 2)] {
            let dir = tempfile::tempdir().expect("dir");
            let url = format!("sqlite://{}/r.sqlite", dir.path().display());
            let options = RestoreOptions { database_url: url.clone(), until: Some(until), ..Default::default() };
            let report =
                baspa_upkeep::restore_backup(&s.settings, &target, &chosen, None, &options).await.expect("restore");
            assert!(report.ok(), "{:?}", report.problems);
            assert_eq!(report.deltas, deltas);
            let restored = baspa_db::connect(&url).await.expect("connect");
            assert_eq!(&table_hashes(&restored).await, expected, "exactly the state of that moment");
        }
    }
);

/// BK-1/BK-2: the schedules run inside `baspa serve`: with a backup every few seconds (cron
/// with seconds) complete backups appear on the target and are journalled while the site
/// serves.
#[test]
fn bk1_bk2_serve_runs_the_backup_schedule() {
    let dir = tempfile::tempdir().expect("dir");
    binary_site(dir.path(), 5);
    let config = std::fs::read_to_string(dir.path().join("baspa.toml")).expect("config");
    let config = config.replace(
        "[backup]\n",
        "[backup]\nschedule = \"*/2 * * * * *\"\nrestore_test_schedule = \"1-59/3 * * * * *\"\n",
    );
    std::fs::write(dir.path().join("baspa.toml"), config).expect("config");
    let mut server = Command::new(env!("CARGO_BIN_EXE_baspa"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env("BASPA_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve");
    let started = std::time::Instant::now();
    let mut complete = 0;
    while started.elapsed() < std::time::Duration::from_secs(40) {
        std::thread::sleep(std::time::Duration::from_millis(500));
        let list = ok(&baspa(dir.path(), &["backup", "list"]));
        complete = list.lines().filter(|l| l.starts_with("baspa-")).count();
        let report = ok(&baspa(dir.path(), &["report", "--month", &chrono::Utc::now().format("%Y-%m").to_string()]));
        if complete >= 2 && report.contains("- restore_test: ") && !report.contains("- restore_test: 0 ok") {
            break;
        }
    }
    server.kill().ok();
    server.wait().ok();
    assert!(complete >= 2, "scheduled backups were made: {complete}");
    let report = ok(&baspa(dir.path(), &["report", "--month", &chrono::Utc::now().format("%Y-%m").to_string()]));
    assert!(report.contains("- backup: ") && report.contains("- restore_test: "), "journalled: {report}");
    assert!(!report.contains("- restore_test: 0 ok"), "a scheduled restore test passed: {report}");
}
