//! `baspa bench …`: workloads for the scripts in `bench/` (results in docs/perf.md). They use the
//! real action layer, so what is measured is what the admin and importer pay.

use std::time::Instant;

use baspa_actions::{Actor, Ctx, NewItemInput, TranslationInput};
use baspa_db::content::{self as store, EntryFilter, NewItem, NewTranslation, TranslationContent};
use baspa_domain::{ContentStatus, ItemKind, LangCode, LanguageRouting, LanguageSpec};
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde_json::json;

const KK_BODY: &str = "<p>Астанада өткен жиында өңірлердегі мектептер мен ауруханалардың құрылысы талқыланды. Әкімдік өкілдері биылғы жоспардың орындалуы туралы баяндады.</p><p>Жиынға қатысушылар жаңа нысандардың сапасына ерекше назар аударды.</p>";
const RU_BODY: &str = "<p>На совещании в Астане обсудили строительство школ и больниц в регионах. Представители акимата доложили о выполнении плана текущего года.</p><p>Участники обратили особое внимание на качество новых объектов.</p>";

async fn ensure_languages(db: &DatabaseConnection) -> anyhow::Result<()> {
    let actor = Actor::system("bench");
    let ctx = Ctx::new(db, &actor);
    for (code, host, is_default, position) in [("kk", "baq.localhost", true, 1), ("ru", "rus.baq.localhost", false, 2)]
    {
        let spec = LanguageSpec {
            code: LangCode::parse(code)?,
            bcp47: format!("{code}-KZ"),
            native_name: code.into(),
            routing: LanguageRouting::Host(host.into()),
            is_default,
            fallback: vec![],
            position,
        };
        baspa_actions::upsert_language(&ctx, &spec).await?;
    }
    Ok(())
}

/// Creates `count` articles, each with a kk and a ru version, published, through the actions.
/// Returns articles per second.
pub async fn seed_articles(db: &DatabaseConnection, count: u32, label: &str) -> anyhow::Result<f64> {
    ensure_languages(db).await?;
    let actor = Actor::system("bench");
    let ctx = Ctx::new(db, &actor);
    let section = baspa_actions::create_item(
        &ctx,
        NewItemInput::new(
            ItemKind::Section,
            vec![
                TranslationInput::new(LangCode::parse("kk")?, &format!("Бөлім {label}"), ""),
                TranslationInput::new(LangCode::parse("ru")?, &format!("Раздел {label}"), ""),
            ],
        ),
    )
    .await?;
    for (_, id) in &section.translations {
        baspa_actions::publish_translation(&ctx, *id, None).await?;
    }
    let started = Instant::now();
    for n in 0..count {
        let mut input = NewItemInput::new(
            ItemKind::Article,
            vec![
                TranslationInput::new(
                    LangCode::parse("kk")?,
                    &format!("Өңірлердегі құрылыс туралы жаңалық {label} {n}"),
                    KK_BODY,
                ),
                TranslationInput::new(
                    LangCode::parse("ru")?,
                    &format!("Новость о строительстве в регионах {label} {n}"),
                    RU_BODY,
                ),
            ],
        );
        input.section = Some(section.item_id);
        let created = baspa_actions::create_item(&ctx, input).await?;
        for (_, id) in &created.translations {
            baspa_actions::publish_translation(&ctx, *id, None).await?;
        }
        if n > 0 && n % 1000 == 0 {
            eprintln!("  {n} articles");
        }
    }
    Ok(f64::from(count) / started.elapsed().as_secs_f64())
}

/// Reference for the action layer's cost: the same two translations inserted as bare rows in
/// one transaction per article, with no revision, journal or jobs.
async fn seed_bare_rows(db: &DatabaseConnection, count: u32) -> anyhow::Result<f64> {
    let started = Instant::now();
    let now = baspa_domain::time::now();
    for n in 0..count {
        let tx = db.begin().await?;
        let item = store::insert_item(
            &tx,
            NewItem {
                kind: ItemKind::Article,
                parent_id: None,
                section_id: None,
                position: 0,
                author_id: None,
                featured_media_id: None,
                is_sticky: false,
            },
            now,
        )
        .await?;
        for (lang, title, body) in [("kk", "Қарапайым жол", KK_BODY), ("ru", "Простая строка", RU_BODY)]
        {
            let content = TranslationContent {
                title: title.into(),
                slug: format!("bare-{n}"),
                excerpt: String::new(),
                body: body.into(),
                meta_title: None,
                meta_description: None,
                meta_keywords: None,
                fields: json!({}),
            };
            store::insert_translation(
                &tx,
                NewTranslation {
                    item_id: baspa_domain::ItemId(item.id),
                    lang,
                    status: ContentStatus::Published,
                    slug_scope: ItemKind::Article.slug_scope(None),
                    content,
                    published_at: Some(now),
                },
                now,
            )
            .await?;
        }
        tx.commit().await?;
    }
    Ok(f64::from(count) / started.elapsed().as_secs_f64())
}

/// Insert and read throughput on the configured database; prints one JSON line.
pub async fn storage(db: &DatabaseConnection, backend: &str, count: u32) -> anyhow::Result<()> {
    let label = format!("{}", rand::random::<u32>());
    let actions_per_s = seed_articles(db, count, &label).await?;
    let bare_per_s = seed_bare_rows(db, count).await?;
    // Reads: every article page lookup by slug in both languages, then listing pages.
    let slugs: Vec<(String, String, String)> = {
        let rows =
            store::published_entries(db, "kk", &EntryFilter { limit: u64::from(count), ..Default::default() }).await?;
        rows.into_iter().map(|(t, _)| (t.lang, t.slug_scope, t.slug)).collect()
    };
    let started = Instant::now();
    for (lang, scope, slug) in &slugs {
        store::find_published(db, lang, scope, slug).await?.ok_or_else(|| anyhow::anyhow!("missing {slug}"))?;
    }
    let lookups_per_s = slugs.len() as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    let pages = 200u32;
    for page in 0..pages {
        store::published_entries(
            db,
            "ru",
            &EntryFilter { limit: 20, offset: u64::from(page % 50) * 20, ..Default::default() },
        )
        .await?;
    }
    let listings_per_s = f64::from(pages) / started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({"backend": backend, "articles": count, "insert_articles_per_s_actions": actions_per_s, "insert_articles_per_s_bare_rows": bare_per_s,
               "action_overhead_ratio": bare_per_s / actions_per_s, "read_article_by_slug_per_s": lookups_per_s, "read_listing_page_per_s": listings_per_s})
    );
    Ok(())
}

/// Server time of the admin's content list over `count` articles (issue 4: under 100 ms):
/// the real router in-process (no sockets), a signed-in editor, p50/p95 of each list view;
/// prints one JSON line.
pub async fn admin_list(config: &crate::config::Config, db: DatabaseConnection, count: u32) -> anyhow::Result<()> {
    use tower::ServiceExt;
    ensure_languages(&db).await?;
    let existing = store::count_items(&db, ItemKind::Article).await?;
    if existing < u64::from(count) {
        seed_bare_rows(&db, count - existing as u32).await?;
    }
    let articles = store::count_items(&db, ItemKind::Article).await?;
    let email = format!("bench-{}@baspa.invalid", rand::random::<u32>());
    let system = Actor::system("bench");
    let password = crate::demo::generate_password();
    baspa_actions::create_user(&Ctx::new(&db, &system), &email, "Bench editor", baspa_domain::Role::Editor, &password)
        .await?;
    let mut admin_config = crate::serve::admin_config(config)?;
    admin_config.policy.second_factor_roles.clear();
    let client = baspa_actions::auth::ClientInfo { ip: Some("127.0.0.1".into()), user_agent: None };
    let session =
        baspa_actions::auth::sign_in(&db, &admin_config.policy, &email, &password, &client, baspa_domain::time::now())
            .await
            .map_err(|e| anyhow::anyhow!("bench sign-in: {e}"))?;
    let cookie = format!("{}={}", admin_config.session_cookie_name(), session.token);
    let base = admin_config.path.clone();
    let mut state = crate::serve::site_state(config, db)?;
    state.admin = std::sync::Arc::new(admin_config);
    let app = baspa_site::router(state);
    let views = [
        ("latest", format!("{base}/content")),
        ("published_ru", format!("{base}/content?status=published&lang=ru")),
        ("title_search", format!("{base}/content?q=%D0%90%D1%81%D1%82%D0%B0%D0%BD")),
        ("page_100", format!("{base}/content?page=100")),
        ("missing_en", format!("{base}/content?missing=en")),
    ];
    let mut report = serde_json::Map::new();
    for (name, uri) in views {
        let mut times = Vec::new();
        for _ in 0..40 {
            let req = axum::http::Request::builder()
                .uri(&uri)
                .header("host", "baq.localhost")
                .header("cookie", &cookie)
                .body(axum::body::Body::empty())?;
            let started = Instant::now();
            let res = app.clone().oneshot(req).await?;
            let status = res.status();
            axum::body::to_bytes(res.into_body(), usize::MAX).await?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            anyhow::ensure!(status.is_success(), "{uri} answered {status}");
        }
        times.sort_by(f64::total_cmp);
        let pick = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
        report.insert(name.to_owned(), json!({"p50_ms": pick(0.5), "p95_ms": pick(0.95)}));
    }
    println!("{}", json!({"workload": "admin_list", "articles": articles, "views": report}));
    Ok(())
}

/// Journal entries appended per transaction while seeding (the chain is the same either way).
const JOURNAL_BATCH: u32 = 1_000;

/// Seeds the journal up to `entries` with entries shaped like a publish (before/after summaries),
/// anchors its head, then times the full verification an operator runs (`baspa journal verify`:
/// every hash recomputed, the newest anchor checked). One JSON line.
pub async fn journal(
    config: &crate::config::Config,
    db: &DatabaseConnection,
    backend: &str,
    entries: u32,
) -> anyhow::Result<()> {
    let existing = baspa_db::journal::head(db).await?.map(|(_, _, n)| n).unwrap_or(0);
    let actor = baspa_db::journal::JournalActor {
        user_id: Some(1),
        label: "editor@baq.kz".into(),
        ip: Some("203.0.113.7".into()),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0".into()),
    };
    let seed_started = Instant::now();
    let mut n = existing as u32;
    while n < entries {
        let tx = db.begin().await?;
        for _ in 0..JOURNAL_BATCH.min(entries - n) {
            let summary = |status: &str| {
                json!({"lang": "kk", "status": status, "title": "Астанада жаңа саябақ ашылды", "slug": format!("saiabaq-{n}"),
                       "body_hash": blake3::hash(n.to_string().as_bytes()).to_hex().to_string()})
            };
            let entry = baspa_db::journal::NewEntry {
                at: baspa_domain::time::now(),
                actor: &actor,
                action: "translation.publish",
                entity_kind: "translation",
                entity_id: Some(i64::from(n)),
                before: Some(summary("draft")),
                after: Some(summary("published")),
            };
            baspa_db::journal::append(&tx, entry).await?;
            n += 1;
        }
        tx.commit().await?;
    }
    let seed_s = seed_started.elapsed().as_secs_f64();
    let keeper = crate::serve::anchor_keeper(config)?;
    keeper.anchor(db).await?;
    let started = Instant::now();
    let report = baspa_actions::integrity::check_journal(db, Some(&keeper)).await?;
    let verify_s = started.elapsed().as_secs_f64();
    anyhow::ensure!(report.findings.is_empty(), "the seeded journal does not verify: {:?}", report.findings);
    println!(
        "{}",
        json!({"backend": backend, "entries": report.journal_entries, "seed_s": (seed_s * 10.0).round() / 10.0,
               "verify_s": (verify_s * 1000.0).round() / 1000.0,
               "entries_per_s": (report.journal_entries as f64 / verify_s).round()})
    );
    Ok(())
}

/// `bench seed-bare`: the languages, then `count` bare articles.
pub async fn seed_bare(db: &DatabaseConnection, count: u32) -> anyhow::Result<f64> {
    ensure_languages(db).await?;
    seed_bare_rows(db, count).await
}

/// `bench article`: one published article through the actions; returns its path.
pub async fn article(db: &DatabaseConnection, lang: &str, title: &str, body: &str) -> anyhow::Result<String> {
    ensure_languages(db).await?;
    let actor = Actor::system("bench");
    let ctx = Ctx::new(db, &actor);
    let lang = LangCode::parse(lang)?;
    let created = baspa_actions::create_item(
        &ctx,
        NewItemInput::new(ItemKind::Article, vec![TranslationInput::new(lang, title, body)]),
    )
    .await?;
    let (_, id) = created.translations.first().ok_or_else(|| anyhow::anyhow!("no translation created"))?;
    baspa_actions::publish_translation(&ctx, *id, None).await?;
    let row = store::get_translation(db, *id).await?;
    Ok(format!("/{}", row.slug))
}

/// A photo-like JPEG: gradients with noise, so the encoders do real work.
fn synthetic_photo(width: u32, height: u32, seed: u32) -> anyhow::Result<Vec<u8>> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        let n = (x.wrapping_mul(7919) ^ y.wrapping_mul(104_729) ^ seed).wrapping_mul(2_654_435_761) >> 26;
        image::Rgb([((x / 16 + seed) % 256) as u8, ((y / 12) % 256) as u8, (n as u8).wrapping_add(90)])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Jpeg)?;
    Ok(out.into_inner())
}

/// `bench webp`: the time to make every variant of one 4000×3000 JPEG (median of 3), then
/// `images` such photos on all cores at once.
pub fn webp(images: u32, quality: f32) -> anyhow::Result<()> {
    let photos: Vec<Vec<u8>> = (0..images.max(1)).map(|i| synthetic_photo(4000, 3000, i)).collect::<Result<_, _>>()?;
    let mut single = Vec::new();
    let mut webp_bytes = 0;
    for photo in photos.iter().take(3) {
        let started = Instant::now();
        let variants = baspa_media::webp_variants(photo, &baspa_media::VARIANT_WIDTHS, quality)?;
        single.push(started.elapsed().as_secs_f64());
        webp_bytes = variants.iter().map(|v| v.webp.len()).sum();
    }
    single.sort_by(f64::total_cmp);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let started = Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..cores)
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<()> {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(photo) = photos.get(i) else { return Ok(()) };
                        baspa_media::webp_variants(photo, &baspa_media::VARIANT_WIDTHS, quality)?;
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().map_err(|_| anyhow::anyhow!("a worker panicked"))??;
        }
        Ok(())
    })?;
    let parallel = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({
            "bench": "webp", "date": chrono::Utc::now().to_rfc3339(), "width": 4000, "height": 3000,
            "jpeg_bytes": photos[0].len(), "variants_bytes": webp_bytes, "quality": quality,
            "one_image_s_median": single[single.len() / 2], "one_image_s_runs": single,
            "images": photos.len(), "cores": cores, "images_per_s": photos.len() as f64 / parallel,
        })
    );
    Ok(())
}
