//! `baspa import records --mapping map.toml FILE`: the generic import (MG-7) of CSV, JSON (array
//! or JSON Lines) or XML records into items of one kind, as the mapping file says (crate
//! `baspa-import`, module `records`). Prints the report as JSON and exits non-zero when any
//! record had a problem; `baspa import wordpress` sits next to it (`import.rs`).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use baspa_import::records::{Mapping, RecordsOptions, import_records};
use clap::{Args, Subcommand};
use sea_orm::DatabaseConnection;

use crate::config::Config;

/// Every `baspa import` subcommand: the WordPress one and the generic one.
#[derive(Subcommand, Debug)]
pub enum ImportSubcommand {
    #[command(flatten)]
    Wordpress(crate::import::ImportCommand),
    /// CSV, JSON (an array of objects, or JSON Lines) or XML records into articles, pages or
    /// documents, as a TOML mapping file says (MG-7; docs/import.md).
    Records(RecordsArgs),
}

#[derive(Args, Debug)]
pub struct RecordsArgs {
    /// The mapping file (TOML): source name, format, kind, language and columns.
    #[arg(long)]
    mapping: PathBuf,
    /// The records: a .csv, .json, .jsonl or .xml file (the mapping's `format` wins).
    file: PathBuf,
    /// Read and report, write nothing.
    #[arg(long)]
    dry_run: bool,
}

pub async fn run(config: &Config, db: &DatabaseConnection, command: ImportSubcommand) -> anyhow::Result<()> {
    match command {
        ImportSubcommand::Wordpress(command) => crate::import::run(config, db, command).await,
        ImportSubcommand::Records(args) => records(db, args).await,
    }
}

async fn records(db: &DatabaseConnection, args: RecordsArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let text = std::fs::read_to_string(&args.mapping)
        .with_context(|| format!("cannot read the mapping file {}", args.mapping.display()))?;
    let mapping = Mapping::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", args.mapping.display()))?;
    let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let name = args.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let options = RecordsOptions { dry_run: args.dry_run, progress: Some(|line| eprintln!("{line}")) };
    let report = import_records(db, &mapping, &name, &bytes, &options).await?;
    let summary = serde_json::json!({
        "seconds": started.elapsed().as_secs_f64(),
        "changes": report.changes(),
        "clean": report.is_clean(),
        "report": report,
    });
    println!("{}", serde_json::to_string_pretty(&summary)?);
    if !report.is_clean() {
        let n = report.problems.len();
        bail!("{n} record problem{} in {} (see the report)", if n == 1 { "" } else { "s" }, args.file.display());
    }
    Ok(())
}
