//! Baspa importers (MG-1..MG-6). `wordpress`: two (or more) WordPress sites, one per language,
//! read from their MySQL/MariaDB databases (`mysql`) or WXR export files (`wxr`) into one
//! [`model::Site`] each, then written through the baspa-actions functions (`run`) with story
//! pairing across languages (`pairing`), body rewriting (`rewrite`, `links`), redirects for every
//! old URL (`redirects`) and an integrity report (`integrity`). `records` (MG-7): CSV, JSON and
//! XML records into items of one kind through a TOML mapping file, with the same actions and
//! import map.

pub mod integrity;
pub mod links;
pub mod model;
pub mod mysql;
pub mod pairing;
pub mod permalinks;
pub mod php;
pub mod records;
mod redirects;
pub mod rewrite;
pub mod run;
pub mod wxr;

pub use run::{ImportError, ImportOptions, ImportReport, Progress, SiteSource, import};

/// Reads an explicit pairing file: `first id,second id` per line; `#` comments and a header
/// line without numbers are skipped (MG-2: the mapping always wins).
pub fn parse_pairs_csv(text: &str) -> Result<Vec<(i64, i64)>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split([',', ';', '\t']).map(str::trim);
        match (parts.next().map(str::parse::<i64>), parts.next().map(str::parse::<i64>)) {
            (Some(Ok(a)), Some(Ok(b))) => out.push((a, b)),
            _ if n == 0 => continue,
            _ => return Err(format!("line {}: expected two post ids, got {line:?}", n + 1)),
        }
    }
    Ok(out)
}

/// Imports, checks integrity, and journals the summary of both (unless it is a dry run): what
/// the CLI and the tests run.
pub async fn import_and_check(
    db: &sea_orm::DatabaseConnection,
    media_dir: &std::path::Path,
    sources: &[SiteSource],
    options: &ImportOptions,
) -> Result<(ImportReport, integrity::Integrity), ImportError> {
    let report = import(db, media_dir, sources, options).await?;
    let integrity = integrity::check(db, sources).await?;
    if !options.dry_run {
        let actor = baspa_actions::Actor::system("importer");
        let ctx = baspa_actions::Ctx::new(db, &actor);
        let summary = serde_json::json!({
            "changes": report.changes(),
            "tallies": report.tallies,
            "redirects_added": report.redirects_added,
            "pairs": report.pairing.pairs.len(),
            "uncertain": report.pairing.uncertain,
            "problems": report.problems,
            "unmapped_urls": report.unmapped_urls,
            "integrity": integrity,
            "clean": integrity.is_clean(),
        });
        baspa_actions::imports::record_import_report(&ctx, "import", summary).await?;
    }
    Ok((report, integrity))
}
