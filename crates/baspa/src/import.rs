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

/// The import's progress on stderr (MG-6): one bar per phase on a terminal; otherwise (a log, a
/// pipe, the tests) a plain line when a phase starts and ends, and every 50 objects.
struct PhaseBars {
    multi: Option<indicatif::MultiProgress>,
    current: std::sync::Mutex<Option<Phase>>,
}

struct Phase {
    name: String,
    total: u64,
    done: u64,
    bar: Option<indicatif::ProgressBar>,
}

impl PhaseBars {
    fn new() -> Self {
        use std::io::IsTerminal;
        let multi = std::io::stderr()
            .is_terminal()
            .then(|| indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::stderr()));
        Self { multi, current: std::sync::Mutex::new(None) }
    }
}

impl baspa_import::Progress for PhaseBars {
    fn start(&self, phase: &str, total: u64) {
        let bar = self.multi.as_ref().map(|multi| {
            let bar = multi.add(indicatif::ProgressBar::new(total));
            bar.set_style(
                indicatif::ProgressStyle::with_template("{prefix:>9} {bar:40} {pos}/{len} {per_sec:>10} eta {eta}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.set_prefix(phase.to_owned());
            bar
        });
        if bar.is_none() {
            eprintln!("{phase}: {total} to go through");
        }
        if let Ok(mut current) = self.current.lock() {
            *current = Some(Phase { name: phase.to_owned(), total, done: 0, bar });
        }
    }

    fn advance(&self) {
        let Ok(mut current) = self.current.lock() else { return };
        let Some(p) = current.as_mut() else { return };
        p.done += 1;
        match &p.bar {
            Some(bar) => bar.inc(1),
            None if p.done % 50 == 0 => eprintln!("  {}: {}/{}", p.name, p.done, p.total),
            None => {}
        }
    }

    fn finish(&self) {
        let Ok(mut current) = self.current.lock() else { return };
        if let Some(p) = current.take() {
            match p.bar {
                Some(bar) => bar.finish(),
                None => eprintln!("{}: done, {}/{}", p.name, p.done, p.total),
            }
        }
    }
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
        progress: Some(std::sync::Arc::new(PhaseBars::new())),
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

/// Multiplies a site `scale` times for the import benchmark: every post, attachment and comment
/// is copied with ids shifted by 100,000 per copy (parents, featured images and comment threads
/// follow), slugs suffixed and dates moved back four years per copy, so copies neither clash nor
/// pair with each other. Files are shared, so copies reuse the same media rows.
pub fn scaled(site: &baspa_import::model::Site, scale: u32) -> baspa_import::model::Site {
    let mut out = site.clone();
    for k in 1..i64::from(scale.max(1)) {
        let shift = k * 100_000;
        let move_date = |d: &str| match d.get(0..4).and_then(|y| y.parse::<i64>().ok()) {
            Some(y) if y > 0 => format!("{}{}", y - 4 * k, &d[4..]),
            _ => d.to_owned(),
        };
        for p in &site.posts {
            let mut c = p.clone();
            c.id += shift;
            if c.parent != 0 {
                c.parent += shift;
            }
            if !c.name.is_empty() {
                c.name = format!("{}-x{k}", c.name);
            }
            c.title = format!("{} ({k})", c.title);
            c.date_gmt = move_date(&c.date_gmt);
            c.date_local = move_date(&c.date_local);
            if let Some(t) = c.meta.get_mut("_thumbnail_id") {
                for v in t.iter_mut() {
                    if let Ok(id) = v.parse::<i64>() {
                        *v = (id + shift).to_string();
                    }
                }
            }
            out.posts.push(c);
        }
        for cm in &site.comments {
            let mut c = cm.clone();
            c.id += shift;
            c.post_id += shift;
            if c.parent != 0 {
                c.parent += shift;
            }
            out.comments.push(c);
        }
    }
    out.posts.sort_by_key(|p| p.id);
    out.comments.sort_by_key(|c| c.id);
    out
}

/// `baspa bench import`: imports both fixture WXR files multiplied `scale` times and prints one
/// JSON line with the time and the object count.
pub async fn bench(
    config: &Config,
    db: &DatabaseConnection,
    fixtures: &std::path::Path,
    scale: u32,
) -> anyhow::Result<()> {
    let actor = baspa_actions::Actor::system("bench");
    let ctx = baspa_actions::Ctx::new(db, &actor);
    let mut sources = Vec::new();
    for (i, (code, host, structure)) in [
        ("kk", "baq.localhost", "/%year%/%monthnum%/%postname%/"),
        ("ru", "rus.baq.localhost", "/%category%/%postname%/"),
    ]
    .into_iter()
    .enumerate()
    {
        let lang = LangCode::parse(code)?;
        let spec = LanguageSpec {
            code: lang.clone(),
            bcp47: format!("{code}-KZ"),
            native_name: code.into(),
            routing: LanguageRouting::Host(host.into()),
            is_default: i == 0,
            fallback: Vec::new(),
            position: i as i32 + 1,
        };
        baspa_actions::upsert_language(&ctx, &spec).await?;
        let site = baspa_import::wxr::read_file(&fixtures.join(format!("{code}.wxr.xml")), structure)?;
        let site = scaled(&site, scale);
        sources.push(SiteSource { lang, site, uploads: fixtures.join(format!("uploads-{code}")) });
    }
    let rows: usize = sources.iter().map(|s| s.site.posts.len() + s.site.comments.len()).sum();
    let started = Instant::now();
    let report = baspa_import::import(db, &config.media_dir(), &sources, &ImportOptions::default()).await?;
    let seconds = started.elapsed().as_secs_f64();
    let again = Instant::now();
    let second = baspa_import::import(db, &config.media_dir(), &sources, &ImportOptions::default()).await?;
    let backend = format!("{:?}", db.get_database_backend()).to_lowercase();
    println!(
        "{}",
        serde_json::json!({"backend": backend, "scale": scale, "source_rows": rows, "objects_written": report.changes(),
            "seconds": seconds, "second_run_seconds": again.elapsed().as_secs_f64(), "second_run_changes": second.changes(),
            "pairs": report.pairing.pairs.len(), "problems": report.problems.len(),
            "first_problems": report.problems.iter().take(5).collect::<Vec<_>>()})
    );
    Ok(())
}
