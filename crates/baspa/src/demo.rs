//! `baspa demo`: a complete demo site from embedded content (genuine Kazakh, Russian and English
//! texts in `crates/baspa/demo/`), seeded through the action layer like any other change.
//! Idempotent: a second run reuses the data and only resets the printed admin password.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use baspa_actions::{Actor, CommentInput, Ctx, NewItemInput, TranslationInput};
use baspa_db::content::NewMedia;
use baspa_db::entity::setting;
use baspa_domain::{
    CommentId, CommentStatus, ItemId, ItemKind, LangCode, LanguageRouting, LanguageSpec, MediaId, Role, UserId,
};
use chrono::Duration;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};
use serde::Deserialize;
use serde_json::json;

use crate::cli::Profile;
use crate::config::Config;

type Texts = BTreeMap<String, String>;

#[derive(Deserialize)]
struct Author {
    key: String,
    email: String,
    role: String,
    name: Texts,
}

#[derive(Deserialize)]
struct Section {
    key: String,
    parent: Option<String>,
    position: i32,
    title: Texts,
    #[serde(default)]
    description: Texts,
    #[serde(default)]
    body_html: Texts,
}

#[derive(Deserialize)]
struct Tag {
    key: String,
    title: Texts,
}

#[derive(Deserialize)]
struct Page {
    title: Texts,
    body_html: Texts,
}

#[derive(Deserialize)]
struct Version {
    title: String,
    #[serde(default)]
    excerpt: String,
    body_html: String,
    #[serde(default)]
    image_caption: String,
}

#[derive(Deserialize)]
struct DemoComment {
    lang: String,
    author_name: String,
    body: String,
    status: String,
    #[serde(default)]
    replies: Vec<DemoComment>,
}

#[derive(Deserialize)]
struct Article {
    key: String,
    #[serde(default)]
    kind: Option<String>,
    section: String,
    author: String,
    #[serde(default)]
    tags: Vec<String>,
    hours_ago: i64,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    comments: Vec<DemoComment>,
    #[serde(flatten)]
    versions: BTreeMap<String, Version>,
}

#[derive(Deserialize)]
struct Structure {
    authors: Vec<Author>,
    sections: Vec<Section>,
    tags: Vec<Tag>,
    pages: Vec<Page>,
    #[serde(default)]
    articles: Vec<Article>,
}

struct Content {
    languages: Vec<LanguageSpec>,
    structure: Structure,
}

fn lang(code: &str) -> anyhow::Result<LangCode> {
    Ok(LangCode::parse(code)?)
}

fn spec(
    code: &str,
    bcp47: &str,
    native: &str,
    routing: LanguageRouting,
    is_default: bool,
    position: i32,
    fallback: &[&str],
) -> anyhow::Result<LanguageSpec> {
    Ok(LanguageSpec {
        code: lang(code)?,
        bcp47: bcp47.into(),
        native_name: native.into(),
        routing,
        is_default,
        fallback: fallback.iter().map(|c| lang(c)).collect::<Result<_, _>>()?,
        position,
    })
}

fn load(profile: Profile) -> anyhow::Result<Content> {
    match profile {
        Profile::News => {
            let mut structure: Structure = serde_json::from_str(include_str!("../demo/news/structure.json"))
                .context("demo news/structure.json")?;
            for (name, text) in [
                ("articles-paired-1.json", include_str!("../demo/news/articles-paired-1.json")),
                ("articles-paired-2.json", include_str!("../demo/news/articles-paired-2.json")),
                ("articles-single.json", include_str!("../demo/news/articles-single.json")),
            ] {
                let articles: Vec<Article> = serde_json::from_str(text).with_context(|| format!("demo news/{name}"))?;
                structure.articles.extend(articles);
            }
            Ok(Content {
                languages: vec![
                    spec("kk", "kk-KZ", "Қазақша", LanguageRouting::Host("baq.localhost".into()), true, 1, &["ru"])?,
                    spec(
                        "ru",
                        "ru-KZ",
                        "Русский",
                        LanguageRouting::Host("rus.baq.localhost".into()),
                        false,
                        2,
                        &["kk"],
                    )?,
                ],
                structure,
            })
        }
        Profile::Gov => Ok(Content {
            languages: vec![
                spec("kk", "kk-KZ", "Қазақша", LanguageRouting::PathPrefix("kk".into()), true, 1, &["ru"])?,
                spec("ru", "ru-KZ", "Русский", LanguageRouting::PathPrefix("ru".into()), false, 2, &["kk"])?,
                spec("en", "en", "English", LanguageRouting::PathPrefix("en".into()), false, 3, &["ru", "kk"])?,
            ],
            structure: serde_json::from_str(include_str!("../demo/gov/site.json")).context("demo gov/site.json")?,
        }),
    }
}

pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..20).map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char).collect()
}

fn random_key() -> String {
    (0..16).map(|_| format!("{:02x}", rand::random::<u8>())).collect()
}

/// A 1200×675 JPEG, different for every key: diagonal gradient plus discs. Real image bytes, so
/// the media pipeline and pages handle them like uploads.
fn demo_image(key: &str) -> anyhow::Result<Vec<u8>> {
    let h = blake3::hash(key.as_bytes());
    let b = h.as_bytes();
    let (w, hgt) = (1200u32, 675u32);
    let c1 = [b[0], b[1], b[2]];
    let c2 = [b[3], b[4], b[5]];
    let discs: Vec<(f32, f32, f32, [u8; 3])> = (0..4)
        .map(|i| {
            (
                f32::from(b[6 + i]) / 255.0 * w as f32,
                f32::from(b[10 + i]) / 255.0 * hgt as f32,
                60.0 + f32::from(b[14 + i]),
                [b[18 + i], b[22 + i], b[26 + i]],
            )
        })
        .collect();
    let img = image::RgbImage::from_fn(w, hgt, |x, y| {
        for (cx, cy, r, color) in &discs {
            let (dx, dy) = (x as f32 - cx, y as f32 - cy);
            if dx * dx + dy * dy < r * r {
                return image::Rgb(*color);
            }
        }
        let t = (x + y) as f32 / (w + hgt) as f32;
        let mix = |a: u8, b: u8| (f32::from(a) * (1.0 - t) + f32::from(b) * t) as u8;
        image::Rgb([mix(c1[0], c2[0]), mix(c1[1], c2[1]), mix(c1[2], c2[2])])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Jpeg)?;
    Ok(out.into_inner())
}

async fn store_image(
    ctx: &Ctx<'_>,
    media_dir: &Path,
    key: &str,
    alt: &Texts,
    uploaded_by: Option<UserId>,
) -> anyhow::Result<MediaId> {
    let bytes = demo_image(key)?;
    // Unguessable name (HD-7): random, unrelated to the title or the upload order.
    let storage_key = format!("{}.jpg", random_key());
    tokio::fs::create_dir_all(media_dir).await.with_context(|| format!("creating {}", media_dir.display()))?;
    tokio::fs::write(media_dir.join(&storage_key), &bytes)
        .await
        .with_context(|| format!("writing into {}", media_dir.display()))?;
    let hash = blake3::hash(&bytes).to_hex().to_string();
    Ok(baspa_actions::register_media(
        ctx,
        NewMedia {
            storage_key: &storage_key,
            original_name: &format!("{key}.jpg"),
            mime: "image/jpeg",
            byte_size: bytes.len() as i64,
            width: Some(1200),
            height: Some(675),
            content_hash: &hash,
            alt: json!(alt),
            uploaded_by: uploaded_by.map(|u| u.0),
        },
    )
    .await?)
}

fn excerpt_of(description: &Texts, code: &str) -> String {
    description.get(code).cloned().unwrap_or_default()
}

async fn publish_all(ctx: &Ctx<'_>, created: &baspa_actions::CreatedItem) -> anyhow::Result<()> {
    for (_, id) in &created.translations {
        baspa_actions::publish_translation(ctx, *id, None).await?;
    }
    Ok(())
}

const SEEDED_KEY: &str = "demo.seeded";

/// Seeds the demo content if this database has none yet. Returns whether it seeded.
pub async fn seed(db: &DatabaseConnection, media_dir: &Path, profile: Profile) -> anyhow::Result<bool> {
    if let Some(row) = setting::Entity::find_by_id(SEEDED_KEY.to_owned()).one(db).await? {
        let seeded = row.value.as_str().unwrap_or_default();
        let wanted = format!("{profile:?}").to_lowercase();
        if seeded != wanted {
            bail!("this data directory holds the {seeded:?} demo; use another --data-dir for the {wanted:?} demo");
        }
        return Ok(false);
    }
    if baspa_db::content::count_items(db, ItemKind::Section).await? > 0 {
        bail!("this database already has content that is not a complete demo; use an empty --data-dir");
    }
    let content = load(profile)?;
    let system = Actor::system("demo-seed");
    let now = baspa_domain::time::now();
    let ctx = Ctx::at(db, &system, now);
    for l in &content.languages {
        baspa_actions::upsert_language(&ctx, l).await?;
    }
    let s = &content.structure;
    let mut authors: HashMap<&str, UserId> = HashMap::new();
    for a in &s.authors {
        let name = a.name.values().next().cloned().unwrap_or_else(|| a.key.clone());
        let id = baspa_actions::create_user(&ctx, &a.email, &name, Role::parse(&a.role)?, &generate_password()).await?;
        authors.insert(a.key.as_str(), id);
    }
    let mut sections: HashMap<&str, ItemId> = HashMap::new();
    for sec in &s.sections {
        let translations = sec
            .title
            .iter()
            .map(|(code, title)| {
                let mut t = TranslationInput::new(
                    lang(code)?,
                    title,
                    sec.body_html.get(code).map(String::as_str).unwrap_or_default(),
                );
                t.excerpt = excerpt_of(&sec.description, code);
                Ok(t)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut input = NewItemInput::new(ItemKind::Section, translations);
        input.parent = sec.parent.as_deref().and_then(|p| sections.get(p).copied());
        input.position = sec.position;
        let created = baspa_actions::create_item(&ctx, input).await?;
        publish_all(&ctx, &created).await?;
        sections.insert(sec.key.as_str(), created.item_id);
    }
    let mut tags: HashMap<&str, ItemId> = HashMap::new();
    for tag in &s.tags {
        let translations = tag
            .title
            .iter()
            .map(|(code, title)| Ok(TranslationInput::new(lang(code)?, title, "")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let created = baspa_actions::create_item(&ctx, NewItemInput::new(ItemKind::Tag, translations)).await?;
        publish_all(&ctx, &created).await?;
        tags.insert(tag.key.as_str(), created.item_id);
    }
    for page in &s.pages {
        let translations = page
            .title
            .iter()
            .map(|(code, title)| {
                Ok(TranslationInput::new(
                    lang(code)?,
                    title,
                    page.body_html.get(code).map(String::as_str).unwrap_or_default(),
                ))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let created = baspa_actions::create_item(&ctx, NewItemInput::new(ItemKind::Page, translations)).await?;
        publish_all(&ctx, &created).await?;
    }
    let media_dir = media_dir.to_path_buf();
    for a in &s.articles {
        let author = *authors
            .get(a.author.as_str())
            .with_context(|| format!("article {}: unknown author {}", a.key, a.author))?;
        let section = *sections
            .get(a.section.as_str())
            .with_context(|| format!("article {}: unknown section {}", a.key, a.section))?;
        let alt: Texts = a
            .versions
            .iter()
            .map(|(code, v)| {
                (code.clone(), if v.image_caption.is_empty() { v.title.clone() } else { v.image_caption.clone() })
            })
            .collect();
        let media = store_image(&ctx, &media_dir, &a.key, &alt, Some(author)).await?;
        let translations = a
            .versions
            .iter()
            .map(|(code, v)| {
                let mut t = TranslationInput::new(lang(code)?, &v.title, &v.body_html);
                t.excerpt = v.excerpt.clone();
                if !v.image_caption.is_empty() {
                    t.fields = json!({"image_caption": v.image_caption});
                }
                Ok(t)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut input = NewItemInput::new(
            if a.kind.as_deref() == Some("document") { ItemKind::Document } else { ItemKind::Article },
            translations,
        );
        input.section = Some(section);
        input.author = Some(author);
        input.featured_media = Some(media);
        input.tags = a.tags.iter().filter_map(|t| tags.get(t.as_str()).copied()).collect();
        let created = baspa_actions::create_item(&ctx, input).await?;
        let when = now - Duration::hours(a.hours_ago);
        for (_, id) in &created.translations {
            match a.status.as_deref().unwrap_or("published") {
                "published" => baspa_actions::publish_translation(&Ctx::at(db, &system, when), *id, None).await?,
                "scheduled" => baspa_actions::publish_translation(&ctx, *id, Some(when)).await?,
                "review" => baspa_actions::submit_for_review(&ctx, *id).await?,
                _ => {}
            }
        }
        for c in &a.comments {
            add_comment_thread(&Ctx::at(db, &system, when + Duration::minutes(30)), created.item_id, c, None).await?;
        }
    }
    setting::ActiveModel {
        key: Set(SEEDED_KEY.to_owned()),
        value: Set(json!(format!("{profile:?}").to_lowercase())),
        updated_by: Set(None),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(true)
}

async fn add_comment_thread(
    ctx: &Ctx<'_>,
    item: ItemId,
    c: &DemoComment,
    parent: Option<CommentId>,
) -> anyhow::Result<()> {
    let id = baspa_actions::add_comment(
        ctx,
        CommentInput {
            item_id: item,
            lang: &c.lang,
            parent,
            author_name: &c.author_name,
            author_email: None,
            body: &c.body,
            status: CommentStatus::parse(&c.status)?,
            posted_at: None,
        },
    )
    .await?;
    for r in &c.replies {
        Box::pin(add_comment_thread(&Ctx::at(ctx.db, ctx.actor, ctx.now + Duration::minutes(20)), item, r, Some(id)))
            .await?;
    }
    Ok(())
}

/// Ensures the demo administrator exists and has a known password; returns (e-mail, password).
async fn admin_login(db: &DatabaseConnection, email: &str) -> anyhow::Result<(String, String)> {
    let password =
        std::env::var("BASPA_DEMO_ADMIN_PASSWORD").ok().filter(|p| !p.is_empty()).unwrap_or_else(generate_password);
    let system = Actor::system("demo-seed");
    let ctx = Ctx::new(db, &system);
    if baspa_db::users::find_by_email(db, email).await?.is_some() {
        baspa_actions::set_password(&ctx, email, &password).await?;
    } else {
        baspa_actions::create_user(&ctx, email, "Demo administrator", Role::Administrator, &password).await?;
    }
    Ok((email.to_owned(), password))
}

pub async fn run(mut config: Config, profile: Profile, no_serve: bool, started: Instant) -> anyhow::Result<()> {
    let content_site_name = match profile {
        Profile::News => "BAQ.KZ",
        Profile::Gov => "Өңірлік онкологиялық орталық",
    };
    if config.site.name == crate::config::SiteConfig::default().name {
        config.site.name = content_site_name.to_owned();
    }
    // A demo is tried without an authenticator app at hand: two-step sign-in stays available
    // (Sessions → set up) but is not forced, unless the configuration asks for it.
    let forced_second_factor =
        config.admin.second_factor_roles != crate::config::AdminSettings::default().second_factor_roles;
    if !forced_second_factor {
        config.admin.second_factor_roles.clear();
    }
    let admin_path = config.admin.path.clone();
    let db = crate::serve::open_database(&config).await?;
    let seeded_now = seed(&db, &config.media_dir(), profile).await?;
    let admin_email = match profile {
        Profile::News => "admin@baq.localhost",
        Profile::Gov => "admin@gov.localhost",
    };
    let (email, password) = admin_login(&db, admin_email).await?;
    let data_dir = config.storage.data_dir.display().to_string();
    let banner = move |addr: std::net::SocketAddr| {
        let port = addr.port();
        println!();
        println!("Baspa demo ({profile:?}) {} in {}", if seeded_now { "seeded" } else { "reused" }, data_dir);
        match profile {
            Profile::News => {
                println!("  Kazakh site:  http://baq.localhost:{port}/");
                println!("  Russian site: http://rus.baq.localhost:{port}/");
                println!(
                    "  (any other host name gets the Kazakh site; try: curl -H 'Host: rus.baq.localhost' http://{addr}/)"
                );
            }
            Profile::Gov => {
                println!(
                    "  Қазақша: http://127.0.0.1:{port}/kk/   Русский: http://127.0.0.1:{port}/ru/   English: http://127.0.0.1:{port}/en/"
                );
            }
        }
        let admin_host = match profile {
            Profile::News => "baq.localhost",
            Profile::Gov => "127.0.0.1",
        };
        println!("  Admin:        http://{admin_host}:{port}{admin_path}/");
        println!("  Admin login:  {email}");
        println!("  Password:     {password}");
        if !forced_second_factor {
            println!("  (two-step sign-in is optional in the demo: Sessions → set up an authenticator app)");
        }
        println!();
    };
    if no_serve {
        banner(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            config.server.listen.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or(8080),
        )));
        return Ok(());
    }
    crate::serve::serve(&config, db, started, banner).await
}
