//! `baspa search reindex`: rebuilds the search index in `<data_dir>/search` from the database,
//! with progress on stderr; when a running server holds the index, queues the re-index for that
//! server instead (a `search.reindex` job), since only one process may write the index.

use std::io::{IsTerminal, Write};

use baspa_db::DatabaseConnection;
use baspa_search::SearchError;
use baspa_site::search::SiteSearch;

use crate::config::Config;

pub async fn reindex(config: &Config, db: &DatabaseConnection) -> anyhow::Result<()> {
    let dir = baspa_search::index_dir(&config.storage.data_dir);
    let search = match SiteSearch::open(dir.clone()) {
        Ok(search) => search,
        Err(SearchError::Locked) => return queue_for_server(db, &dir).await,
        Err(e) => anyhow::bail!("{e}"),
    };
    let mut progress = Progress::new();
    let outcome = search.reindex_all(db, |done, total| progress.show(done, total)).await;
    progress.finish();
    match outcome {
        Ok(report) => {
            println!(
                "re-indexed {} texts of {} articles, documents and pages in {:.1} s into {}",
                report.texts,
                report.items,
                report.elapsed.as_secs_f64(),
                dir.display()
            );
            Ok(())
        }
        Err(e) if e.is_locked() => queue_for_server(db, &dir).await,
        Err(e) => anyhow::bail!("{e}"),
    }
}

async fn queue_for_server(db: &DatabaseConnection, dir: &std::path::Path) -> anyhow::Result<()> {
    let job = baspa_db::jobs::enqueue(
        db,
        "search.reindex",
        serde_json::json!({}),
        Some("search.reindex".to_owned()),
        baspa_domain::time::now(),
    )
    .await?;
    println!(
        "a running server holds the search index in {}; queued a full re-index for it (job {}), which starts within seconds",
        dir.display(),
        job.0
    );
    Ok(())
}

/// A bar on a terminal; on a pipe or in a log, a line at every tenth.
struct Progress {
    is_terminal: bool,
    shown_tenths: u64,
    has_bar: bool,
}

impl Progress {
    fn new() -> Progress {
        Progress { is_terminal: std::io::stderr().is_terminal(), shown_tenths: 0, has_bar: false }
    }

    fn show(&mut self, done: u64, total: u64) {
        if total == 0 {
            return;
        }
        let mut err = std::io::stderr().lock();
        if self.is_terminal {
            const WIDTH: u64 = 30;
            let filled = (done * WIDTH / total).min(WIDTH) as usize;
            let bar = format!("{}{}", "#".repeat(filled), "-".repeat(WIDTH as usize - filled));
            let _ = write!(err, "\rindexing [{bar}] {done}/{total}");
            let _ = err.flush();
            self.has_bar = true;
        } else {
            let tenths = done * 10 / total;
            if tenths > self.shown_tenths {
                self.shown_tenths = tenths;
                let _ = writeln!(err, "indexed {done} of {total} items ({}%)", done * 100 / total);
            }
        }
    }

    fn finish(&self) {
        if self.has_bar {
            eprintln!();
        }
    }
}
