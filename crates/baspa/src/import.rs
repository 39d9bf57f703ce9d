//! `baspa import wordpress`: one WordPress site per language, from its MySQL/MariaDB database or
//! its WXR export plus its uploads folder, imported through the actions (crate `baspa-import`).
//! Prints the report as JSON and exits non-zero when the integrity check finds a mismatch (MG-3).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use baspa_domain::{LangCode, LanguageRouting, LanguageSpec};
use baspa_import::{ImportOptions, SiteSource};
use clap::Subcommand;
use sea_orm::DatabaseConnection;

use crate::config::Config;

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// WordPress sites, one per language; the first `--site` is the primary language and stories
    /// of the others are paired with it.
    Wordpress {
        /// `LANG=SOURCE` where SOURCE is a `mysql://…` URL or a WXR file path, e.g.
        /// `kk=mysql://root@127.0.0.1/wp_kk` or `ru=ru.wxr.xml`. Repeat per language.
        #[arg(long = "site", required = true)]
        sites: Vec<String>,
        /// `LANG=DIR`: the site's `wp-content/uploads` folder. Repeat per language.
        #[arg(long = "uploads")]
        uploads: Vec<String>,
        /// Table prefix of the WordPress databases.
        #[arg(long, default_value = "wp_")]
        table_prefix: String,
        /// `LANG=STRUCTURE`: permalink structure for WXR sources (WXR does not carry it), e.g.
        /// `kk=/%year%/%monthnum%/%postname%/`.
        #[arg(long = "permalinks")]
        permalinks: Vec<String>,
        /// CSV of `primary id,other id` pairs that always win over the pairing rules.
        #[arg(long)]
        pairs: Option<PathBuf>,
        /// Minutes two versions of a story may be apart to be paired.
        #[arg(long, default_value_t = 45)]
        pair_window: i64,
        /// `LANG=HOST`: creates the language with this host when the site does not have it yet
        /// (the first `--site` becomes the default language). Redirects of that site answer on it.
        #[arg(long = "host")]
        hosts: Vec<String>,
        /// Read and report, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

fn lang_value<'a>(list: &'a [String], lang: &str) -> Option<&'a str> {
    list.iter().find_map(|s| s.split_once('=').filter(|(l, _)| *l == lang).map(|(_, v)| v))
}

pub async fn run(config: &Config, db: &DatabaseConnection, command: ImportCommand) -> anyhow::Result<()> {
    let ImportCommand::Wordpress { sites, uploads, table_prefix, permalinks, pairs, pair_window, hosts, dry_run } =
        command;
    let started = Instant::now();
    let mut sources = Vec::new();
    for spec in &sites {
        let (lang, source) = spec.split_once('=').with_context(|| format!("--site {spec}: expected LANG=SOURCE"))?;
        let lang = LangCode::parse(lang)?;
        let site = if source.starts_with("mysql://") || source.starts_with("mariadb://") {
            baspa_import::mysql::read_url(&source.replacen("mariadb://", "mysql://", 1), &table_prefix).await?
        } else {
            let structure = lang_value(&permalinks, lang.as_str()).unwrap_or("");
            baspa_import::wxr::read_file(std::path::Path::new(source), structure)?
        };
        let Some(dir) = lang_value(&uploads, lang.as_str()) else {
            bail!("--uploads {lang}=DIR is missing");
        };
        eprintln!(
            "read {source}: {} rows of posts, {} comments, {} users",
            site.posts.len(),
            site.comments.len(),
            site.users.len()
        );
        if let Some(host) = lang_value(&hosts, lang.as_str())
            && !dry_run
            && !baspa_db::languages::list(db).await?.iter().any(|l| l.code == lang)
        {
            let actor = baspa_actions::Actor::system("importer");
            let spec = LanguageSpec {
                code: lang.clone(),
                bcp47: lang.to_string(),
                native_name: lang.to_string(),
                routing: LanguageRouting::Host(host.to_owned()),
                is_default: sources.is_empty(),
                fallback: Vec::new(),
                position: sources.len() as i32 + 1,
            };
            baspa_actions::upsert_language(&baspa_actions::Ctx::new(db, &actor), &spec).await?;
        }
        sources.push(SiteSource { lang, site, uploads: PathBuf::from(dir) });
    }
    let mut options = ImportOptions {
        dry_run,
        pair_window_minutes: pair_window,
        progress: Some(|line| eprintln!("{line}")),
        ..Default::default()
    };
    if let Some(path) = pairs {
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        options.explicit_pairs = baspa_import::parse_pairs_csv(&text).map_err(anyhow::Error::msg)?;
    }
    let (report, integrity) = baspa_import::import_and_check(db, &config.media_dir(), &sources, &options).await?;
    let summary = serde_json::json!({
        "seconds": started.elapsed().as_secs_f64(),
        "changes": report.changes(),
        "report": report,
        "integrity": integrity,
        "clean": integrity.is_clean(),
    });
    println!("{}", serde_json::to_string_pretty(&summary)?);
    if !dry_run && !integrity.is_clean() {
        bail!("the integrity check found {} mismatches (see the report)", integrity.mismatches.len());
    }
    Ok(())
}
