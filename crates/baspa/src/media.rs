//! `baspa media convert-all` (PF-5): the WebP variants of every image in the library, made
//! through the same action as after an upload (`baspa_actions::variants`), several at once,
//! with a progress bar and a closing report of bytes saved. Resumable: an image counts as done
//! only once its variants are recorded, and the action writes files under temporary names, so a
//! killed run leaves nothing half-made that a re-run would take for finished.

use std::sync::Arc;

use baspa_actions::{Actor, Ctx};
use baspa_domain::MediaId;
use sea_orm::DatabaseConnection;

use crate::config::Config;

/// What a conversion run did.
#[derive(Debug, Default)]
struct Totals {
    converted: usize,
    skipped: usize,
    failed: Vec<(i64, String)>,
    original_bytes: u64,
    webp_bytes: u64,
}

pub async fn convert_all(config: &Config, db: &DatabaseConnection, jobs: Option<usize>) -> anyhow::Result<()> {
    let media_dir = config.media_dir();
    remove_leftovers(&media_dir)?;
    let ids = baspa_db::content::image_media_ids(db).await?;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let jobs = jobs.unwrap_or(cores).clamp(1, 64);
    let bar = indicatif::ProgressBar::new(ids.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} images, {per_sec}, eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let quality = config.media.quality();
    let started = std::time::Instant::now();
    let limit = Arc::new(tokio::sync::Semaphore::new(jobs));
    let mut tasks = tokio::task::JoinSet::new();
    for id in ids {
        let (db, dir, limit, bar) = (db.clone(), media_dir.clone(), limit.clone(), bar.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let actor = Actor::system("cli");
            let made =
                baspa_actions::variants::make_webp_variants(&Ctx::new(&db, &actor), &dir, MediaId(id), quality).await;
            bar.inc(1);
            (id, made)
        });
    }
    let mut totals = Totals::default();
    while let Some(joined) = tasks.join_next().await {
        let (id, made) = joined?;
        match made {
            Ok(outcome) if outcome.made == 0 => totals.skipped += 1,
            Ok(outcome) => {
                totals.converted += 1;
                totals.original_bytes += outcome.original_bytes;
                totals.webp_bytes += outcome.full_webp_bytes;
            }
            Err(e) => totals.failed.push((id, e.to_string())),
        }
    }
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let saved = totals.original_bytes.saturating_sub(totals.webp_bytes);
    println!(
        "converted {} images in {seconds:.1} s ({:.1} images/s, {jobs} at once), {} already done, {} failed; \
         full-size WebP {} bytes instead of {} ({} bytes, {:.0}% saved)",
        totals.converted,
        totals.converted as f64 / seconds.max(0.001),
        totals.skipped,
        totals.failed.len(),
        totals.webp_bytes,
        totals.original_bytes,
        saved,
        if totals.original_bytes == 0 { 0.0 } else { saved as f64 * 100.0 / totals.original_bytes as f64 },
    );
    for (id, reason) in &totals.failed {
        eprintln!("media {id}: {reason}");
    }
    if totals.failed.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("{} images could not be converted (listed above); the rest are done", totals.failed.len())
    }
}

/// Removes the temporary files of a run that was killed mid-write (`.<key>.part`).
fn remove_leftovers(media_dir: &std::path::Path) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(media_dir) else { return Ok(()) };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') && name.ends_with(".part") {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}
