//! `baspa audit` (SC-4, OP-4): prints what this binary is made of — Baspa, the compiler, the
//! database server, every locked Rust dependency, every script and stylesheet served with its SRI
//! hash — and the dependency check against the configured advisory database. Exits non-zero when
//! an advisory (not a mere warning) applies, so it can gate a deployment.

use std::fmt::Write as _;

use baspa_site::audit::{AdvisoryCheck, Report};

use crate::config::Config;

pub async fn run(config: &Config, json: bool) -> anyhow::Result<()> {
    // Plain connect, no migration: an audit must not change the database.
    let database_server = match baspa_db::connect(&config.database_url()).await {
        Ok(db) => baspa_site::audit::database_server(&db).await,
        Err(e) => format!("unavailable ({e})"),
    };
    let theme_assets = config.site.theme_dir.as_ref().map(|d| d.join("assets"));
    let report = baspa_site::audit::report(
        database_server,
        &config.admin.path,
        theme_assets.as_deref(),
        config.security.advisory_db.clone(),
    )
    .await;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", text(&report));
    }
    match report.advisories.vulnerabilities() {
        0 => Ok(()),
        n => anyhow::bail!("{n} security advisories apply to locked dependencies (see the report above)"),
    }
}

/// The report as plain text, one fact per line, for terminals and cron mail.
pub fn text(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Baspa {}", r.baspa);
    let _ = writeln!(out, "compiler: {}", r.rustc.unwrap_or("unknown"));
    let _ = writeln!(out, "database server: {}", r.database_server);
    let _ = writeln!(out, "\nscripts and stylesheets served ({}):", r.assets.len());
    for a in &r.assets {
        let _ = writeln!(
            out,
            "  {}  [{}]  {} {}  {}  {} bytes  {}",
            a.url, a.kind, a.component, a.version, a.licence, a.size, a.integrity
        );
    }
    let _ = writeln!(out, "\nRust dependencies ({}):", r.dependencies.len());
    for p in &r.dependencies {
        let _ = writeln!(out, "  {} {} ({})", p.name, p.version, p.source);
    }
    let _ = writeln!(out, "\nadvisories:");
    match &r.advisories {
        AdvisoryCheck::NotChecked { reason, .. } => {
            let _ = writeln!(out, "  {reason}");
        }
        AdvisoryCheck::Checked { database, advisories, withdrawn, newest, unreadable, findings } => {
            let _ = writeln!(
                out,
                "  database {database}: {advisories} advisories ({withdrawn} withdrawn, skipped), newest {}",
                newest.as_deref().unwrap_or("none")
            );
            for f in unreadable {
                let _ = writeln!(out, "  unreadable: {f}");
            }
            for f in findings {
                let level = f.informational.as_deref().map_or("VULNERABLE".to_owned(), |i| format!("warning: {i}"));
                let patched = if f.patched.is_empty() { "none".to_owned() } else { f.patched.join(", ") };
                let _ = writeln!(
                    out,
                    "  {} {} {} [{level}]: {} (patched: {patched}) {}",
                    f.id,
                    f.package,
                    f.version,
                    f.title,
                    f.url.as_deref().unwrap_or("")
                );
            }
            if findings.is_empty() {
                let _ = writeln!(out, "  no advisory applies to the locked versions");
            }
        }
    }
    out
}
