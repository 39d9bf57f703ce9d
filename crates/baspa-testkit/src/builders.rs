//! Content builders: one call sets up languages or a published story, through the real actions.

use baspa_actions::{Actor, CreatedItem, Ctx, NewItemInput, TranslationInput};
use baspa_domain::{ItemId, ItemKind, LangCode, LanguageRouting, LanguageSpec, Timestamp};
use sea_orm::DatabaseConnection;

pub fn lang(code: &str) -> LangCode {
    LangCode::parse(code).expect("language code")
}

/// kk on `baq.test` (default) and ru on `rus.baq.test`, like the news agency.
pub async fn news_languages(db: &DatabaseConnection) {
    let actor = Actor::system("test");
    let ctx = Ctx::new(db, &actor);
    for (code, bcp47, name, host, is_default, position) in
        [("kk", "kk-KZ", "Қазақша", "baq.test", true, 1), ("ru", "ru-KZ", "Русский", "rus.baq.test", false, 2)]
    {
        let spec = LanguageSpec {
            code: lang(code),
            bcp47: bcp47.into(),
            native_name: name.into(),
            routing: LanguageRouting::Host(host.into()),
            is_default,
            fallback: vec![],
            position,
        };
        baspa_actions::upsert_language(&ctx, &spec).await.expect("language");
    }
}

/// kk/ru/en by path prefix on one host, like the state site.
pub async fn gov_languages(db: &DatabaseConnection) {
    let actor = Actor::system("test");
    let ctx = Ctx::new(db, &actor);
    for (code, position) in [("kk", 1), ("ru", 2), ("en", 3)] {
        let spec = LanguageSpec {
            code: lang(code),
            bcp47: code.into(),
            native_name: code.to_uppercase(),
            routing: LanguageRouting::PathPrefix(code.into()),
            is_default: code == "kk",
            fallback: vec![],
            position,
        };
        baspa_actions::upsert_language(&ctx, &spec).await.expect("language");
    }
}

/// Creates and publishes an item with the given (lang, title, body) versions.
pub async fn published(
    db: &DatabaseConnection,
    kind: ItemKind,
    section: Option<ItemId>,
    parent: Option<ItemId>,
    versions: &[(&str, &str, &str)],
    at: Timestamp,
) -> CreatedItem {
    let actor = Actor::system("test");
    let ctx = Ctx::at(db, &actor, at);
    let translations =
        versions.iter().map(|(code, title, body)| TranslationInput::new(lang(code), title, body)).collect();
    let mut input = NewItemInput::new(kind, translations);
    input.section = section;
    input.parent = parent;
    let created = baspa_actions::create_item(&ctx, input).await.expect("create");
    for (_, id) in &created.translations {
        baspa_actions::publish_translation(&ctx, *id, None).await.expect("publish");
    }
    created
}
