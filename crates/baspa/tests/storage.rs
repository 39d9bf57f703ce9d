//! Storage tests: each runs on SQLite, PostgreSQL and MySQL/MariaDB (see `baspa_testkit`).

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

use baspa_actions::{ActionError, Actor, Ctx, NewItemInput, TranslationInput};
use baspa_db::content as store;
use baspa_db::entity::{item, journal_entry, translation};
use baspa_domain::{ContentStatus, ItemKind, LanguageRouting, LanguageSpec, Role, Slug, Timestamp};
use baspa_testkit::builders::{lang, news_languages};
use baspa_testkit::snapshot::content_snapshot;
use baspa_testkit::{TestDb, storage_test};
use chrono::{Duration, TimeZone, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, PaginatorTrait, Set, Statement};

fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 35, 0).single().expect("valid time")
}

const KAZAKH_LETTERS: &str = "Әә Ғғ Ққ Ңң Өө Ұұ Үү Һһ Іі";

async fn fixed_languages(t: &TestDb) {
    let actor = Actor::system("test");
    let ctx = Ctx::at(&t.db, &actor, t0());
    for (code, host, is_default, position) in [("kk", "baq.test", true, 1), ("ru", "rus.baq.test", false, 2)] {
        let spec = LanguageSpec {
            code: lang(code),
            bcp47: format!("{code}-KZ"),
            native_name: code.into(),
            routing: LanguageRouting::Host(host.into()),
            is_default,
            fallback: vec![],
            position,
        };
        baspa_actions::upsert_language(&ctx, &spec).await.expect("language");
    }
}

storage_test!(
    /// Acceptance: create, revise, publish and trash an article with two translations; the rows
    /// must be the same on every backend, compared with one committed golden file.
    async fn ml1_cm10_article_with_two_translations_round_trips_identically(t: TestDb) {
        fixed_languages(&t).await;
        let actor = Actor::system("test");
        let at = |minutes: i64| Ctx::at(&t.db, &actor, t0() + Duration::minutes(minutes));
        let kk = TranslationInput::new(
            lang("kk"),
            "Шымкентте жаңа мектеп ашылды",
            "<p>Мектеп <strong>1200</strong> оқушыға арналған.</p><script>alert(1)</script>",
        );
        let mut ru = TranslationInput::new(
            lang("ru"),
            "В Шымкенте открылась новая школа",
            "<p>Школа рассчитана на 1200 учеников.</p>",
        );
        ru.excerpt = "Ещё одна школа — «ёлка» и кавычки".into();
        let created =
            baspa_actions::create_item(&at(0), NewItemInput::new(ItemKind::Article, vec![kk.clone(), ru.clone()]))
                .await
                .expect("create");
        let kk_id = created.translation("kk").expect("kk");
        let ru_id = created.translation("ru").expect("ru");
        let mut kk2 = kk.clone();
        kk2.title = format!("Шымкентте жаңа мектеп ашылды: {KAZAKH_LETTERS}");
        kk2.slug = Some(Slug::parse("shymkentte-jana-mektep").expect("slug"));
        baspa_actions::revise_translation(&at(5), kk_id, kk2, Some("тақырып түзетілді")).await.expect("revise kk");
        baspa_actions::publish_translation(&at(10), kk_id, None).await.expect("publish kk");
        baspa_actions::publish_translation(&at(11), ru_id, None).await.expect("publish ru");
        let mut ru2 = ru.clone();
        ru2.body_html = "<p>Школа рассчитана на 1250 учеников.</p>".into();
        baspa_actions::revise_translation(&at(20), ru_id, ru2, None).await.expect("revise ru");
        let live = store::get_translation(&t.db, ru_id).await.expect("ru row");
        assert!(
            live.body.contains("1200"),
            "a published translation keeps its live text until the revision is published"
        );
        baspa_actions::publish_translation(&at(25), ru_id, None).await.expect("publish ru again");
        baspa_actions::trash_item(&at(30), created.item_id).await.expect("trash");

        let kk_row = store::get_translation(&t.db, kk_id).await.expect("kk row");
        assert_eq!(kk_row.title, format!("Шымкентте жаңа мектеп ашылды: {KAZAKH_LETTERS}"));
        assert_eq!(kk_row.status, ContentStatus::Trashed.as_str());
        assert_eq!(kk_row.status_before_trash.as_deref(), Some("published"));
        assert!(!kk_row.body.contains("script"), "sanitised on save");
        assert_eq!(kk_row.published_at, Some(t0() + Duration::minutes(10)));

        let snapshot = content_snapshot(&t.db).await;
        let golden_path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/round_trip.json");
        if std::env::var_os("BASPA_BLESS").is_some() && t.backend == baspa_testkit::Backend::Sqlite {
            std::fs::write(golden_path, serde_json::to_string_pretty(&snapshot).expect("json")).expect("write golden");
        }
        let golden: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(golden_path).expect("golden file")).expect("golden json");
        assert_eq!(snapshot, golden, "rows on {:?} differ from the golden file", t.backend);
    }
);

storage_test!(
    async fn migrations_are_idempotent_and_create_every_table(t: TestDb) {
        baspa_db::migrate(&t.db, &t.url).await.expect("second run is a no-op");
        for table in [
            "languages",
            "users",
            "grants",
            "items",
            "translations",
            "revisions",
            "item_tags",
            "item_relations",
            "media",
            "media_variants",
            "comments",
            "redirects",
            "journal",
            "jobs",
            "settings",
        ] {
            let backend = t.db.get_database_backend();
            let row =
                t.db.query_one_raw(Statement::from_string(backend, format!("SELECT COUNT(*) AS n FROM {table}"))).await;
            assert!(row.is_ok(), "table {table} is missing on {:?}: {row:?}", t.backend);
        }
    }
);

storage_test!(
    /// Acceptance: a duplicate slug gives one clear error and writes nothing.
    async fn cm1_duplicate_explicit_slug_is_refused_and_nothing_is_written(t: TestDb) {
        news_languages(&t.db).await;
        let actor = Actor::system("test");
        let ctx = Ctx::new(&t.db, &actor);
        let mut first = TranslationInput::new(lang("kk"), "Астана", "<p>бір</p>");
        first.slug = Some(Slug::parse("astana").expect("slug"));
        baspa_actions::create_item(&ctx, NewItemInput::new(ItemKind::Article, vec![first.clone()]))
            .await
            .expect("first");
        let items_before = item::Entity::find().count(&t.db).await.expect("count");
        let journal_before = journal_entry::Entity::find().count(&t.db).await.expect("count");
        let ru = TranslationInput::new(lang("ru"), "Астана", "<p>раз</p>");
        let err = baspa_actions::create_item(&ctx, NewItemInput::new(ItemKind::Article, vec![ru, first]))
            .await
            .expect_err("duplicate");
        assert!(matches!(err, ActionError::SlugTaken { .. }), "{err:?}");
        assert_eq!(err.to_string(), "the slug \"astana\" is already used in language kk; choose another");
        assert_eq!(item::Entity::find().count(&t.db).await.expect("count"), items_before, "no partial item");
        assert_eq!(
            journal_entry::Entity::find().count(&t.db).await.expect("count"),
            journal_before,
            "no journal entry for a failed action"
        );
        let derived = baspa_actions::create_item(
            &ctx,
            NewItemInput::new(ItemKind::Article, vec![TranslationInput::new(lang("kk"), "Астана", "")]),
        )
        .await
        .expect("derived slug");
        let row = store::get_translation(&t.db, derived.translation("kk").expect("kk")).await.expect("row");
        assert_eq!(row.slug, "astana-2", "a slug derived from the title gets a suffix instead of failing");
    }
);

storage_test!(
    /// The database's own unique constraint catches a clash the pre-check cannot see, and it is
    /// mapped to the same meaning on every backend.
    async fn cm1_slug_constraint_violation_maps_to_slug_taken_on_every_backend(t: TestDb) {
        news_languages(&t.db).await;
        let actor = Actor::system("test");
        let ctx = Ctx::new(&t.db, &actor);
        let a = baspa_actions::create_item(
            &ctx,
            NewItemInput::new(ItemKind::Article, vec![TranslationInput::new(lang("kk"), "Бір", "")]),
        )
        .await
        .expect("a");
        let b = baspa_actions::create_item(
            &ctx,
            NewItemInput::new(ItemKind::Article, vec![TranslationInput::new(lang("kk"), "Екі", "")]),
        )
        .await
        .expect("b");
        let mut row = store::get_translation(&t.db, b.translation("kk").expect("kk")).await.expect("row");
        row.slug = store::get_translation(&t.db, a.translation("kk").expect("kk")).await.expect("row").slug;
        let err = store::save_translation(&t.db, row).await.expect_err("unique violation");
        assert!(matches!(err, baspa_db::StoreError::SlugTaken { .. }), "{err:?}");
    }
);

storage_test!(
    /// SC-1: an author cannot publish; the check is in the action, not the UI.
    async fn sc1_author_cannot_publish_and_viewer_cannot_create(t: TestDb) {
        news_languages(&t.db).await;
        let system = Actor::system("test");
        let admin_ctx = Ctx::new(&t.db, &system);
        let author_id =
            baspa_actions::create_user(&admin_ctx, "author@baq.test", "Автор", Role::Author, "a-long-enough-password")
                .await
                .expect("user");
        let author = Actor::user(author_id, "author@baq.test", Role::Author);
        let ctx = Ctx::new(&t.db, &author);
        let created = baspa_actions::create_item(
            &ctx,
            NewItemInput::new(ItemKind::Article, vec![TranslationInput::new(lang("kk"), "Жоба", "")]),
        )
        .await
        .expect("author creates");
        let id = created.translation("kk").expect("kk");
        baspa_actions::submit_for_review(&ctx, id).await.expect("author submits");
        let err = baspa_actions::publish_translation(&ctx, id, None).await.expect_err("author may not publish");
        assert_eq!(err.code(), "not_permitted");
        assert_eq!(store::get_translation(&t.db, id).await.expect("row").status, "in_review");
        let viewer = Actor::user(author_id, "v@baq.test", Role::Viewer);
        let err = baspa_actions::create_item(
            &Ctx::new(&t.db, &viewer),
            NewItemInput::new(ItemKind::Article, vec![TranslationInput::new(lang("kk"), "Жоқ", "")]),
        )
        .await
        .expect_err("viewer");
        assert_eq!(err.code(), "not_permitted");
    }
);

storage_test!(
    /// SC-6: every action leaves a hash-chained journal entry in the same transaction; editing a
    /// row breaks the chain at that row.
    async fn sc6_journal_is_hash_chained_and_detects_an_edited_entry(t: TestDb) {
        news_languages(&t.db).await;
        let actor = Actor::system("test");
        let ctx = Ctx::new(&t.db, &actor);
        let created = baspa_actions::create_item(
            &ctx,
            NewItemInput::new(ItemKind::Article, vec![TranslationInput::new(lang("kk"), "Жаңалық", "")]),
        )
        .await
        .expect("create");
        baspa_actions::publish_translation(&ctx, created.translation("kk").expect("kk"), None).await.expect("publish");
        let report = baspa_db::journal::verify_chain(&t.db).await.expect("verify");
        assert_eq!(report.first_break, None);
        assert_eq!(report.entries, 4, "two languages, one create, one publish");
        let third = journal_entry::Entity::find_by_id(3).one(&t.db).await.expect("query").expect("entry 3");
        let mut edited: journal_entry::ActiveModel = third.into();
        edited.actor_label = Set("someone-else".into());
        edited.update(&t.db).await.expect("tamper");
        let report = baspa_db::journal::verify_chain(&t.db).await.expect("verify");
        assert_eq!(report.first_break.map(|b| b.entry_id), Some(3));
    }
);

storage_test!(
    /// Follow-up work is queued with the change, and repeated publishes do not pile up jobs.
    async fn publish_enqueues_deduplicated_follow_up_jobs_and_scheduling_waits(t: TestDb) {
        news_languages(&t.db).await;
        let actor = Actor::system("test");
        let ctx = Ctx::new(&t.db, &actor);
        let created = baspa_actions::create_item(
            &ctx,
            NewItemInput::new(
                ItemKind::Article,
                vec![
                    TranslationInput::new(lang("kk"), "Кесте", ""),
                    TranslationInput::new(lang("ru"), "Расписание", ""),
                ],
            ),
        )
        .await
        .expect("create");
        let kk = created.translation("kk").expect("kk");
        baspa_actions::publish_translation(&ctx, kk, None).await.expect("publish");
        baspa_actions::publish_translation(&ctx, kk, None).await.expect("publish again");
        assert_eq!(baspa_db::jobs::queued(&t.db, "search.index").await.expect("jobs").len(), 1);
        assert_eq!(baspa_db::jobs::queued(&t.db, "sitemap.rebuild").await.expect("jobs").len(), 1);
        let ru = created.translation("ru").expect("ru");
        let later = ctx.now + Duration::hours(2);
        baspa_actions::publish_translation(&ctx, ru, Some(later)).await.expect("schedule");
        let row = store::get_translation(&t.db, ru).await.expect("row");
        assert_eq!((row.status.as_str(), row.publish_at), ("scheduled", Some(later)));
        let jobs = baspa_db::jobs::queued(&t.db, "content.publish").await.expect("jobs");
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].run_at, later);
    }
);

storage_test!(
    /// ML-1: a language is a row; adding one needs no code, and there is always one default.
    async fn ml1_languages_are_data_with_a_single_default(t: TestDb) {
        news_languages(&t.db).await;
        let actor = Actor::system("test");
        let ctx = Ctx::new(&t.db, &actor);
        let en = LanguageSpec {
            code: lang("kk-latn"),
            bcp47: "kk-Latn".into(),
            native_name: "Qazaqşa".into(),
            routing: LanguageRouting::Host("latyn.baq.test".into()),
            is_default: true,
            fallback: vec![lang("kk")],
            position: 3,
        };
        baspa_actions::upsert_language(&ctx, &en).await.expect("new language");
        let all = baspa_db::languages::list(&t.db).await.expect("list");
        assert_eq!(all.iter().map(|l| l.code.as_str()).collect::<Vec<_>>(), ["kk", "ru", "kk-latn"]);
        assert_eq!(all.iter().filter(|l| l.is_default).map(|l| l.code.as_str()).collect::<Vec<_>>(), ["kk-latn"]);
        let created = baspa_actions::create_item(
            &ctx,
            NewItemInput::new(
                ItemKind::Article,
                vec![TranslationInput::new(lang("kk-latn"), "Qazaqstan jañalyqtary", "")],
            ),
        )
        .await
        .expect("content in the new language");
        assert!(created.translation("kk-latn").is_some());
        let err = baspa_actions::create_item(
            &ctx,
            NewItemInput::new(ItemKind::Article, vec![TranslationInput::new(lang("de"), "Nachrichten", "")]),
        )
        .await
        .expect_err("unknown language");
        assert!(err.to_string().contains("language de is not configured"), "{err}");
    }
);

storage_test!(
    /// Each dialect function on each backend: timestamps keep whole seconds and UTC, dates up to
    /// the end of 2037 survive (see the 2038 note in `dialect::timestamp_column`), the version
    /// query answers.
    async fn dialect_functions_work_on_every_backend(t: TestDb) {
        let version = baspa_db::dialect::server_version(&t.db).await.expect("version");
        assert!(!version.is_empty());
        news_languages(&t.db).await;
        let actor = Actor::system("test");
        let far = Utc.with_ymd_and_hms(2037, 12, 31, 23, 59, 59).single().expect("time");
        let ctx = Ctx::at(&t.db, &actor, far);
        let created = baspa_actions::create_item(
            &ctx,
            NewItemInput::new(ItemKind::Article, vec![TranslationInput::new(lang("kk"), "Болашақ", "")]),
        )
        .await
        .expect("create");
        let row = item::Entity::find_by_id(created.item_id.0).one(&t.db).await.expect("query").expect("row");
        assert_eq!(row.created_at, far);
        assert_eq!(
            baspa_db::dialect::lock_suffix(t.db.get_database_backend()).is_empty(),
            t.backend == baspa_testkit::Backend::Sqlite
        );
    }
);

storage_test!(
    /// The news demo seeds the required volume on every backend: ≥ 60 articles per language,
    /// ≥ 40 in both, ≥ 8 sections with nesting, tags, ≥ 3 authors, pages, comments, images.
    async fn demo_news_profile_seeds_the_promised_content(t: TestDb) {
        let media = tempfile::tempdir().expect("dir");
        assert!(baspa::demo::seed(&t.db, media.path(), baspa::cli::Profile::News).await.expect("seed"));
        assert!(
            !baspa::demo::seed(&t.db, media.path(), baspa::cli::Profile::News).await.expect("reseed"),
            "second run reuses"
        );
        let articles = store::items_of_kind(&t.db, ItemKind::Article).await.expect("articles");
        let ids: Vec<i64> = articles.iter().map(|a| a.id).collect();
        let rows = store::translations_of_items(&t.db, &ids, false).await.expect("translations");
        let count = |code: &str| rows.iter().filter(|r| r.lang == code).count();
        assert!(count("kk") >= 60 && count("ru") >= 60, "kk {} ru {}", count("kk"), count("ru"));
        let both = ids.iter().filter(|id| rows.iter().filter(|r| r.item_id == **id).count() == 2).count();
        assert!(both >= 40, "{both} translated in both");
        let sections = store::items_of_kind(&t.db, ItemKind::Section).await.expect("sections");
        assert!(sections.len() >= 8 && sections.iter().any(|s| s.parent_id.is_some()));
        assert!(store::count_items(&t.db, ItemKind::Tag).await.expect("tags") >= 10);
        assert!(store::count_items(&t.db, ItemKind::Page).await.expect("pages") >= 3);
        assert!(baspa_db::users::list(&t.db).await.expect("users").len() >= 3);
        let comments = baspa_db::entity::comment::Entity::find().count(&t.db).await.expect("comments");
        assert!(comments >= 20, "{comments} comments");
        let files = std::fs::read_dir(media.path()).expect("media").count();
        assert_eq!(files, articles.len(), "one real image per article");
        let kazakh =
            rows.iter().filter(|r| r.lang == "kk").filter(|r| r.body.contains(['ә', 'қ', 'ң', 'ү', 'ұ', 'і'])).count();
        assert!(kazakh >= 55, "genuine Kazakh text: {kazakh}");
        let published: Vec<&translation::Model> = rows.iter().filter(|r| r.status == "published").collect();
        assert!(published.len() >= 120);
    }
);
