//! `baspa journal …` and `baspa integrity check` (SC-5, SC-6): the operator's side of the change
//! journal and of integrity control. Findings are printed one per line with the exact thing
//! named; the exit code is non-zero when anything is wrong, so cron or monitoring can act on it.

use anyhow::Context;
use baspa_actions::change_journal::{ExportFormat, export_journal, prune_journal};
use baspa_actions::integrity::{self, IntegrityReport};
use baspa_actions::{Actor, Ctx};
use baspa_db::DatabaseConnection;
use baspa_db::journal::JournalFilter;

use crate::cli::JournalCommand;
use crate::config::Config;
use crate::serve;

fn print_findings(report: &IntegrityReport) {
    for f in &report.findings {
        println!("FAIL {} — {}: {}", f.problem, f.subject, f.detail);
    }
}

fn day(raw: &Option<String>, flag: &str) -> anyhow::Result<Option<baspa_domain::Timestamp>> {
    let Some(raw) = raw else { return Ok(None) };
    let date = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .with_context(|| format!("--{flag} {raw:?}: use YYYY-MM-DD"))?;
    Ok(date.and_hms_opt(0, 0, 0).map(|t| t.and_utc()))
}

pub async fn run(config: &Config, db: &DatabaseConnection, command: JournalCommand) -> anyhow::Result<()> {
    let actor = Actor::system("cli");
    let ctx = Ctx::new(db, &actor);
    match command {
        JournalCommand::Verify => {
            let keeper = serve::anchor_keeper(config)?;
            let started = std::time::Instant::now();
            let report = integrity::check_journal(db, Some(&keeper)).await?;
            print_findings(&report);
            let took = started.elapsed().as_secs_f64();
            if report.findings.is_empty() {
                println!(
                    "journal verified: {} entries, chain and newest anchor intact ({took:.2} s)",
                    report.journal_entries
                );
                Ok(())
            } else {
                anyhow::bail!("journal verification failed after {} intact entries", report.journal_entries)
            }
        }
        JournalCommand::Anchor => {
            let keeper = serve::anchor_keeper(config)?;
            let report = integrity::check_journal(db, Some(&keeper)).await?;
            if !report.findings.is_empty() {
                print_findings(&report);
                anyhow::bail!("not anchoring a journal that does not verify");
            }
            match keeper.anchor(db).await? {
                Some(a) => println!("anchored entry {} ({} entries) hash {}", a.journal_id, a.entries, a.head_hash),
                None => println!("nothing new to anchor"),
            }
            Ok(())
        }
        JournalCommand::Export { format, out, actor, action, from, until } => {
            let format = ExportFormat::parse(&format)?;
            let filter = JournalFilter {
                actor,
                action,
                from: day(&from, "from")?,
                until: day(&until, "until")?,
                ..Default::default()
            };
            let (bytes, count) = export_journal(&ctx, &filter, format).await?;
            std::fs::write(&out, bytes).with_context(|| format!("cannot write {}", out.display()))?;
            println!("exported {count} entries to {}", out.display());
            Ok(())
        }
        JournalCommand::Prune { days } => {
            let days = days.unwrap_or(config.security.journal_retention_days);
            if days == 0 {
                anyhow::bail!("retention is 0 (keep everything); pass --days N to prune entries older than N days");
            }
            let before = baspa_domain::time::now() - chrono::Duration::days(i64::from(days));
            let outcome = prune_journal(&ctx, before).await?;
            match outcome.through_id {
                Some(id) => {
                    println!("pruned {} entries (through entry {id}); the prune is journalled", outcome.removed)
                }
                None => println!("no entries older than {days} days"),
            }
            Ok(())
        }
    }
}

pub async fn integrity_check(config: &Config, db: &DatabaseConnection) -> anyhow::Result<()> {
    let paths = serve::integrity_paths(config)?;
    let (report, opened) = integrity::run_scheduled_check(db, &paths).await?;
    print_findings(&report);
    if report.findings.is_empty() {
        println!(
            "integrity verified: {} journal entries, {} seals of published texts and media files",
            report.journal_entries, report.seals_checked
        );
        Ok(())
    } else {
        anyhow::bail!("{} difference(s) found; {opened} new incident(s) raised", report.findings.len())
    }
}
