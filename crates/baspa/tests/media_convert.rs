//! `baspa media convert-all` (PF-5 acceptance): every image of the library gets its WebP
//! variants; a run killed with SIGKILL part-way resumes without redoing finished images and
//! leaves no broken file. Runs the real binary on a SQLite data folder, as an operator would.

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

use std::process::{Command, Stdio};

use baspa_actions::{Actor, Ctx, UploadInput};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

const IMAGES: usize = 12;

/// A photo-like JPEG (gradients and noise, so encoding takes real work).
fn photo(seed: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(1800, 1200, |x, y| {
        let n = (x.wrapping_mul(7919) ^ y.wrapping_mul(104_729) ^ seed).wrapping_mul(2_654_435_761) >> 24;
        image::Rgb([(x / 8 + seed) as u8, (y / 6) as u8, n as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Jpeg).expect("jpeg");
    out.into_inner()
}

async fn library(dir: &std::path::Path) -> sea_orm::DatabaseConnection {
    let data = dir.join("data");
    std::fs::create_dir_all(data.join("media")).expect("media dir");
    let url = format!("sqlite://{}?mode=rwc", data.join("baspa.sqlite").display());
    let db = baspa_db::connect(&url).await.expect("connect");
    baspa_db::migrate(&db, &url).await.expect("migrate");
    let actor = Actor::system("test");
    let ctx = Ctx::new(&db, &actor);
    for n in 0..IMAGES {
        let bytes = photo(n as u32);
        let input = UploadInput {
            original_name: "photo.jpg",
            bytes: &bytes,
            alt: serde_json::json!({}),
            max_bytes: 50 << 20,
            scanner: None,
        };
        baspa_actions::upload_media(&ctx, &data.join("media"), input).await.expect("upload");
    }
    db
}

fn convert_all(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_baspa"));
    cmd.args(["media", "convert-all", "--jobs", "2"])
        .current_dir(dir)
        .env_remove("BASPA_DATABASE_URL")
        .env("BASPA_LOG", "error");
    cmd
}

async fn variants_journalled(db: &sea_orm::DatabaseConnection) -> u64 {
    baspa_db::entity::journal_entry::Entity::find()
        .filter(baspa_db::entity::journal_entry::Column::Action.eq("media.variants"))
        .count(db)
        .await
        .expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pf5_convert_all_survives_kill_9_and_resumes_without_redoing_work() {
    let dir = tempfile::tempdir().expect("dir");
    let db = library(dir.path()).await;
    let mut child = convert_all(dir.path()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start");
    // Kill as soon as some, but not all, images are done.
    let started = std::time::Instant::now();
    loop {
        let done = variants_journalled(&db).await;
        if done >= 3 {
            break;
        }
        assert!(started.elapsed().as_secs() < 120, "no progress");
        assert!(child.try_wait().expect("wait").is_none(), "finished before it could be killed");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let done_before = variants_journalled(&db).await;
    assert!(done_before < IMAGES as u64, "the kill came mid-run ({done_before} done)");

    let out = convert_all(dir.path()).output().expect("resume");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("{done_before} already done")), "finished images are skipped: {stdout}");
    assert!(stdout.contains("saved"), "bytes saved reported: {stdout}");
    // Each image was converted exactly once across both runs.
    assert_eq!(variants_journalled(&db).await, IMAGES as u64);
    let media_dir = dir.path().join("data/media");
    for entry in std::fs::read_dir(&media_dir).expect("media").flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        assert!(!name.ends_with(".part"), "no half-written file left: {name}");
    }
    for id in baspa_db::content::image_media_ids(&db).await.expect("ids") {
        let variants = baspa_db::content::variants_of(&db, baspa_domain::MediaId(id)).await.expect("variants");
        let labels: Vec<&str> = variants.iter().map(|v| v.label.as_str()).collect();
        assert_eq!(labels, ["webp-w480", "webp-w960", "webp-w1600", "webp-full"], "media {id}");
        for v in &variants {
            let bytes = std::fs::read(media_dir.join(&v.storage_key)).expect("variant file");
            let decoded = image::load_from_memory(&bytes).expect("a whole WebP");
            assert_eq!(decoded.width() as i32, v.width);
        }
    }
    // A third run has nothing left to do.
    let again = convert_all(dir.path()).output().expect("again");
    assert!(String::from_utf8_lossy(&again.stdout).contains("converted 0 images in"));
}
