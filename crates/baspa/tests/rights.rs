//! The rights matrix (CM-4, SC-1): role × section × language × action → allowed or refused,
//! checked in the action layer on SQLite, PostgreSQL and MySQL/MariaDB. The admin maps a refusal
//! to 403 (see `admin.rs`), so this is the table every entry point obeys.

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

use baspa_actions::{ActionError, Actor, Ctx, Grant, NewItemInput, TranslationInput};
use baspa_db::content as store;
use baspa_domain::{ContentStatus, ItemId, ItemKind, Role, TranslationId, UserId};
use baspa_testkit::builders::{lang, news_languages, published};
use baspa_testkit::{TestDb, storage_test};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Admin,
    Chief,
    Editor,
    SportEditor,
    Author,
    SportAuthor,
    RuTranslator,
    Viewer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Where {
    Football, // under Sport
    Politics,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    Create,
    Translate,
    ReviseOwn,
    ReviseOthers,
    Submit,
    Publish,
    Return,
    Unpublish,
    Trash,
    Restore,
    Purge,
    ManageUsers,
}

struct World {
    sport: ItemId,
    football: ItemId,
    politics: ItemId,
    actors: Vec<(Who, Actor)>,
}

async fn world(t: &TestDb) -> World {
    news_languages(&t.db).await;
    let now = baspa_domain::time::now();
    let sport = published(&t.db, ItemKind::Section, None, None, &[("kk", "Спорт", "")], now).await.item_id;
    let football = published(&t.db, ItemKind::Section, None, Some(sport), &[("kk", "Футбол", "")], now).await.item_id;
    let politics = published(&t.db, ItemKind::Section, None, None, &[("kk", "Саясат", "")], now).await.item_id;
    let system = Actor::system("test");
    let ctx = Ctx::new(&t.db, &system);
    let mut actors = Vec::new();
    type GrantSpec<'a> = Option<(Role, Option<ItemId>, Option<&'a str>)>;
    let people: [(Who, Role, GrantSpec); 8] = [
        (Who::Admin, Role::Administrator, None),
        (Who::Chief, Role::ChiefEditor, None),
        (Who::Editor, Role::Editor, None),
        (Who::SportEditor, Role::Editor, Some((Role::Editor, Some(sport), None))),
        (Who::Author, Role::Author, None),
        (Who::SportAuthor, Role::Author, Some((Role::Author, Some(sport), None))),
        (Who::RuTranslator, Role::Translator, Some((Role::Translator, None, Some("ru")))),
        (Who::Viewer, Role::Viewer, None),
    ];
    for (who, role, grant) in people {
        let email = format!("{who:?}@baq.test").to_lowercase();
        let id = baspa_actions::create_user(&ctx, &email, &format!("{who:?}"), role, "correct horse battery")
            .await
            .expect("user");
        let mut actor = Actor::user(id, &email, role);
        if let Some((grant_role, section, lang_code)) = grant {
            baspa_actions::grant_right(&ctx, id, grant_role, section, lang_code.map(lang).as_ref())
                .await
                .expect("grant");
            actor.grants = vec![Grant { role: grant_role, section, lang: lang_code.map(lang) }];
        }
        actors.push((who, actor));
    }
    World { sport, football, politics, actors }
}

/// A kk draft in the given section, written by `author` (or the system).
async fn draft(t: &TestDb, section: ItemId, author: Option<UserId>) -> (ItemId, TranslationId) {
    let system = Actor::system("test");
    let ctx = Ctx::new(&t.db, &system);
    let mut input = NewItemInput::new(
        ItemKind::Article,
        vec![
            TranslationInput::new(lang("kk"), "Жаңалық", "<p>Мәтін</p>"),
            TranslationInput::new(lang("ru"), "Новость", "<p>Текст</p>"),
        ],
    );
    input.section = Some(section);
    input.author = author;
    let created = baspa_actions::create_item(&ctx, input).await.expect("draft");
    (created.item_id, created.translation("kk").expect("kk"))
}

async fn set_status(t: &TestDb, id: TranslationId, status: ContentStatus) {
    let mut row = store::get_translation(&t.db, id).await.expect("row");
    row.status = status.as_str().to_owned();
    if status == ContentStatus::Trashed {
        row.status_before_trash = Some("draft".into());
    }
    store::save_translation(&t.db, row).await.expect("save");
}

async fn trash_all(t: &TestDb, item: ItemId) {
    let system = Actor::system("test");
    baspa_actions::trash_item(&Ctx::new(&t.db, &system), item).await.expect("trash");
}

/// Runs one action; `Ok(true)` allowed, `Ok(false)` refused for lack of right.
async fn attempt(t: &TestDb, w: &World, actor: &Actor, act: Act, place: Where, lang_code: &str) -> bool {
    let section = match place {
        Where::Football => w.football,
        Where::Politics => w.politics,
    };
    let ctx = Ctx::new(&t.db, actor);
    let (item, kk) =
        draft(t, section, if act == Act::ReviseOwn || act == Act::Submit { actor.user_id } else { None }).await;
    let ru = store::translations_of_item(&t.db, item)
        .await
        .expect("rows")
        .into_iter()
        .find(|r| r.lang == "ru")
        .map(|r| TranslationId(r.id))
        .expect("ru");
    let target = if lang_code == "ru" { ru } else { kk };
    let result: Result<(), ActionError> = match act {
        Act::Create => {
            let mut input = NewItemInput::new(
                ItemKind::Article,
                vec![TranslationInput::new(lang(lang_code), "Тағы бір жаңалық", "<p>x</p>")],
            );
            input.section = Some(section);
            baspa_actions::create_item(&ctx, input).await.map(|_| ())
        }
        Act::Translate => {
            let system = Actor::system("test");
            let mut only_kk = NewItemInput::new(
                ItemKind::Article,
                vec![TranslationInput::new(lang("kk"), "Аударылмаған", "<p>x</p>")],
            );
            only_kk.section = Some(section);
            let created = baspa_actions::create_item(&Ctx::new(&t.db, &system), only_kk).await.expect("kk only");
            baspa_actions::add_translation(
                &ctx,
                created.item_id,
                TranslationInput::new(lang("ru"), "Перевод", "<p>x</p>"),
            )
            .await
            .map(|_| ())
        }
        Act::ReviseOwn | Act::ReviseOthers => {
            let l = if lang_code == "ru" { "Новость 2" } else { "Жаңалық 2" };
            baspa_actions::revise_translation(&ctx, target, TranslationInput::new(lang(lang_code), l, "<p>2</p>"), None)
                .await
                .map(|_| ())
        }
        Act::Submit => baspa_actions::submit_for_review(&ctx, target).await,
        Act::Publish => baspa_actions::publish_translation(&ctx, target, None).await,
        Act::Return => {
            set_status(t, target, ContentStatus::InReview).await;
            baspa_actions::return_to_author(&ctx, target, "Дереккөзді көрсетіңіз").await
        }
        Act::Unpublish => {
            set_status(t, target, ContentStatus::Published).await;
            baspa_actions::unpublish_translation(&ctx, target, None).await
        }
        Act::Trash => baspa_actions::trash_item(&ctx, item).await,
        Act::Restore => {
            trash_all(t, item).await;
            baspa_actions::restore_item(&ctx, item).await
        }
        Act::Purge => {
            trash_all(t, item).await;
            baspa_actions::purge_item(&ctx, item).await
        }
        Act::ManageUsers => baspa_actions::create_user(
            &ctx,
            &format!("new-{}@baq.test", rand_suffix()),
            "New",
            Role::Author,
            "correct horse battery",
        )
        .await
        .map(|_| ()),
    };
    match result {
        Ok(()) => true,
        Err(ActionError::NotPermitted { .. }) => false,
        Err(other) => panic!("{act:?} by {:?} failed for another reason: {other}", actor.label),
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

use Act::*;
use Where::*;
use Who::*;

/// (who, action, where, language, allowed). Written by hand from the role table in
/// `baspa_domain::permission` and the grant rules in `baspa_actions::rights`.
const MATRIX: &[(Who, Act, Where, &str, bool)] = &[
    (Admin, Create, Politics, "kk", true),
    (Admin, Purge, Politics, "kk", true),
    (Admin, ManageUsers, Politics, "kk", true),
    (Chief, Publish, Politics, "kk", true),
    (Chief, Purge, Football, "kk", true),
    (Chief, ManageUsers, Politics, "kk", false),
    (Editor, Create, Politics, "kk", true),
    (Editor, ReviseOthers, Politics, "kk", true),
    (Editor, Publish, Politics, "ru", true),
    (Editor, Return, Politics, "kk", true),
    (Editor, Unpublish, Politics, "kk", true),
    (Editor, Trash, Politics, "kk", true),
    (Editor, Restore, Politics, "kk", true),
    (Editor, Purge, Politics, "kk", false),
    (Editor, ManageUsers, Politics, "kk", false),
    (SportEditor, Publish, Football, "kk", true),
    (SportEditor, Publish, Football, "ru", true),
    (SportEditor, Publish, Politics, "kk", false),
    (SportEditor, ReviseOthers, Football, "kk", true),
    (SportEditor, ReviseOthers, Politics, "kk", false),
    (SportEditor, Create, Football, "kk", true),
    (SportEditor, Create, Politics, "kk", false),
    (SportEditor, Return, Football, "kk", true),
    (SportEditor, Return, Politics, "kk", false),
    (SportEditor, Trash, Football, "kk", true),
    (SportEditor, Trash, Politics, "kk", false),
    (SportEditor, Restore, Politics, "kk", false),
    (Author, Create, Politics, "kk", true),
    (Author, ReviseOwn, Politics, "kk", true),
    (Author, ReviseOthers, Politics, "kk", false),
    (Author, Submit, Politics, "kk", true),
    (Author, Publish, Politics, "kk", false),
    (Author, Trash, Politics, "kk", false),
    (Author, Translate, Politics, "ru", false),
    (SportAuthor, Create, Football, "kk", true),
    (SportAuthor, Create, Politics, "kk", false),
    (SportAuthor, ReviseOwn, Football, "kk", true),
    (SportAuthor, Publish, Football, "kk", false),
    (RuTranslator, Translate, Politics, "ru", true),
    (RuTranslator, ReviseOthers, Politics, "ru", true),
    (RuTranslator, ReviseOthers, Politics, "kk", false),
    (RuTranslator, Publish, Politics, "ru", false),
    (RuTranslator, Create, Politics, "ru", false),
    (RuTranslator, Trash, Politics, "ru", false),
    (Viewer, Create, Politics, "kk", false),
    (Viewer, ReviseOthers, Politics, "kk", false),
    (Viewer, Submit, Politics, "kk", false),
    (Viewer, Publish, Politics, "kk", false),
    (Viewer, Trash, Politics, "kk", false),
];

storage_test!(
    /// Every row of the matrix on every backend; a refusal must be `NotPermitted`, nothing else.
    async fn cm4_sc1_rights_matrix(t: TestDb) {
        let w = world(&t).await;
        assert_ne!(w.sport, w.football);
        let mut wrong = Vec::new();
        for &(who, act, place, lang_code, expected) in MATRIX {
            let actor = &w.actors.iter().find(|(w, _)| *w == who).expect("actor").1;
            let got = attempt(&t, &w, actor, act, place, lang_code).await;
            if got != expected {
                wrong.push(format!("{who:?} {act:?} in {place:?} ({lang_code}): expected {expected}, got {got}"));
            }
        }
        assert!(wrong.is_empty(), "rights matrix mismatches:\n{}", wrong.join("\n"));
    }
);

storage_test!(
    /// A refused action writes nothing: no row, no journal entry.
    async fn sc1_refused_action_leaves_no_trace(t: TestDb) {
        let w = world(&t).await;
        let (_, kk) = draft(&t, w.politics, None).await;
        let journal_before = baspa_db::journal::verify_chain(&t.db).await.expect("chain").entries;
        let sport_editor = &w.actors.iter().find(|(w, _)| *w == SportEditor).expect("actor").1;
        let err = baspa_actions::publish_translation(&Ctx::new(&t.db, sport_editor), kk, None).await;
        assert!(matches!(err, Err(ActionError::NotPermitted { .. })), "{err:?}");
        assert_eq!(store::get_translation(&t.db, kk).await.expect("row").status, "draft");
        let journal_after = baspa_db::journal::verify_chain(&t.db).await.expect("chain").entries;
        assert_eq!(journal_before, journal_after);
    }
);

storage_test!(
    /// CM-10, SC-1: scheduled publishing and unpublishing run as jobs at their time, through the
    /// same actions, journalled as the scheduler; nothing happens early.
    async fn cm10_scheduled_publish_and_unpublish_run_as_jobs(t: TestDb) {
        news_languages(&t.db).await;
        let w_section =
            published(&t.db, ItemKind::Section, None, None, &[("kk", "Қоғам", "")], baspa_domain::time::now())
                .await
                .item_id;
        let (_, kk) = draft(&t, w_section, None).await;
        let system = Actor::system("test");
        let t0 = baspa_domain::time::now();
        let at = |minutes: i64| t0 + chrono::Duration::minutes(minutes);
        baspa_actions::publish_translation(&Ctx::at(&t.db, &system, t0), kk, Some(at(10))).await.expect("schedule");
        assert_eq!(store::get_translation(&t.db, kk).await.expect("row").status, "scheduled");
        let runner = baspa_actions::jobs::JobRunner::new("test-node");
        runner.run_due(&t.db, at(5)).await.expect("run");
        assert_eq!(store::get_translation(&t.db, kk).await.expect("row").status, "scheduled", "not before its time");
        runner.run_due(&t.db, at(11)).await.expect("run");
        assert_eq!(store::get_translation(&t.db, kk).await.expect("row").status, "published");

        baspa_actions::unpublish_translation(&Ctx::at(&t.db, &system, at(12)), kk, Some(at(60)))
            .await
            .expect("schedule");
        runner.run_due(&t.db, at(30)).await.expect("run");
        assert_eq!(store::get_translation(&t.db, kk).await.expect("row").status, "published");
        runner.run_due(&t.db, at(61)).await.expect("run");
        assert_eq!(store::get_translation(&t.db, kk).await.expect("row").status, "draft");
        let by_scheduler = baspa_db::entity::journal_entry::Entity::find()
            .filter(baspa_db::entity::journal_entry::Column::ActorLabel.eq("scheduler"))
            .all(&t.db)
            .await
            .expect("journal");
        let actions: Vec<&str> = by_scheduler.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, vec!["translation.publish", "translation.unpublish"]);
        assert!(baspa_db::jobs::queued(&t.db, "content.publish").await.expect("jobs").is_empty());
    }
);
