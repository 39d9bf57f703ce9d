//! The command line. Every failure ends as ONE line on stderr and a non-zero exit code, never a
//! panic or a backtrace.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use baspa_actions::{Actor, Ctx};
use baspa_domain::Role;
use chrono::Datelike;
use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{Config, Overrides};
use crate::{demo, serve};

#[derive(Parser, Debug)]
#[command(
    name = "baspa",
    version,
    about = "Baspa: a multilingual publishing platform (site, admin, API, journal, backups) in one binary."
)]
pub struct Cli {
    /// Configuration file (default: ./baspa.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL (overrides the file and BASPA_DATABASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Data directory (SQLite file, media).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the public site.
    Serve {
        /// Address to listen on, e.g. 0.0.0.0:8080.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create (or reuse) a demo site with kk/ru(/en) content, print an admin login, and serve it.
    Demo {
        /// Address to listen on.
        #[arg(long)]
        listen: Option<String>,
        /// Which demo: a news agency (kk/ru by host) or a state organisation (kk/ru/en by path).
        #[arg(long, value_enum, default_value_t = Profile::News)]
        profile: Profile,
        /// Seed and print the login, but do not serve.
        #[arg(long)]
        no_serve: bool,
    },
    /// Staff accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The search index in DATA_DIR/search.
    Search {
        #[command(subcommand)]
        command: SearchCommand,
    },
    /// Benchmark workloads used by the scripts in bench/ (see docs/perf.md).
    #[command(hide = true)]
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Components and their versions, served scripts with SRI hashes, and the dependency check
    /// against the advisory database (SC-4, OP-4). Fails when an advisory applies.
    Audit {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The change journal (SC-6): verify the hash chain and anchors, anchor the head, export,
    /// prune by retention.
    Journal {
        #[command(subcommand)]
        command: JournalCommand,
    },
    /// Integrity control (SC-5): compare published texts, media files and the journal with what
    /// Baspa recorded; raise an incident for each difference. Fails when anything differs.
    Integrity {
        #[command(subcommand)]
        command: IntegrityCommand,
    },
    /// The media library: `convert-all` makes the WebP variants of every image (PF-5).
    Media {
        #[command(subcommand)]
        command: MediaCommand,
    },
    /// Backups (BK-1..BK-7): create, list, verify, restore, restore-test, prune, copy, export.
    Backup {
        #[command(subcommand)]
        command: crate::backup::BackupCommand,
    },
    /// Reports: `monthly` — the month's changes, backups, restore tests, incidents (OP-3).
    Report {
        /// The month, YYYY-MM (UTC; default: the previous month).
        #[arg(long)]
        month: Option<String>,
        /// Write the report to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Database upkeep (BK-4).
    Upkeep {
        #[command(subcommand)]
        command: crate::backup::UpkeepCommand,
    },
    /// Import content from other systems: `baspa import wordpress --help` (MG-1..MG-6),
    /// `baspa import records --help` (CSV/JSON/XML with a mapping file, MG-7).
    Import {
        #[command(subcommand)]
        command: crate::import_records::ImportSubcommand,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Profile {
    News,
    Gov,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a staff account. The password is read from BASPA_NEW_PASSWORD or generated and printed.
    Add {
        email: String,
        #[arg(long)]
        name: String,
        /// administrator, chief_editor, editor, author, translator or viewer.
        #[arg(long, default_value = "author")]
        role: String,
    },
    /// List staff accounts.
    List,
    /// Set a new password (from BASPA_NEW_PASSWORD, or generated and printed).
    Passwd { email: String },
}

#[derive(Subcommand, Debug)]
pub enum MediaCommand {
    /// Make the WebP variants of every image that lacks them (uploads, migrated files), on all
    /// cores, with a progress bar. Safe to interrupt: a re-run skips finished images and redoes
    /// only an unfinished one.
    ConvertAll {
        /// Images converted at once; default: the number of cores.
        #[arg(long)]
        jobs: Option<usize>,
    },
}

#[derive(Subcommand, Debug)]
pub enum SearchCommand {
    /// Rebuild the index from the database. When a running server holds the index, queue the
    /// re-index for it instead.
    Reindex,
}

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Server time of the admin's content list over N articles (seeded as bare rows if fewer).
    AdminList {
        #[arg(long, default_value_t = 10_000)]
        articles: u32,
    },
    /// Add N published articles in kk and ru through the action layer.
    Seed {
        #[arg(long, default_value_t = 10_000)]
        articles: u32,
    },
    /// Add N published kk+ru articles as bare rows (no journal, revisions or jobs): a large site
    /// in minutes, for memory measurements (`/bare-N` pages).
    SeedBare {
        #[arg(long, default_value_t = 100_000)]
        articles: u32,
    },
    /// Create and publish one article (for comparing the same content with another CMS); prints
    /// its path.
    Article {
        #[arg(long, default_value = "kk")]
        lang: String,
        #[arg(long)]
        title: String,
        /// A file with the body HTML (sanitised on save like any other).
        #[arg(long)]
        body_file: PathBuf,
    },
    /// WebP variants of synthetic 4000×3000 photos: one image's time and images/s on all cores
    /// (one JSON line).
    Webp {
        #[arg(long, default_value_t = 8)]
        images: u32,
    },
    /// Measure insert and read throughput on the configured database (one JSON line).
    Storage {
        #[arg(long, default_value_t = 1_000)]
        articles: u32,
    },
    /// Import both WordPress fixture WXR files multiplied N times, then again (one JSON line).
    Import {
        #[arg(long, default_value_t = 10)]
        scale: u32,
        /// The folder with kk.wxr.xml, ru.wxr.xml and the uploads folders.
        #[arg(long)]
        fixtures: PathBuf,
    },
    /// Append N journal entries (if fewer exist), anchor, and time `journal verify` (one JSON line).
    Journal {
        #[arg(long, default_value_t = 100_000)]
        entries: u32,
    },
}

#[derive(Subcommand, Debug)]
pub enum JournalCommand {
    /// Recompute the hash chain and check the newest signed anchor; report the first broken link.
    Verify,
    /// Sign the current chain head into DATA_DIR/journal-anchors.log (the server does this after
    /// every clean integrity check).
    Anchor,
    /// Export entries as CSV or XLSX.
    Export {
        /// csv or xlsx.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// Only entries whose actor contains this text.
        #[arg(long)]
        actor: Option<String>,
        /// Only actions starting with this, e.g. `translation.` or `session.sign_in`.
        #[arg(long)]
        action: Option<String>,
        /// From this day (YYYY-MM-DD, UTC).
        #[arg(long)]
        from: Option<String>,
        /// Until this day, exclusive (YYYY-MM-DD, UTC).
        #[arg(long)]
        until: Option<String>,
    },
    /// Remove entries older than N days (default: security.journal_retention_days), recording
    /// the hash pruned to in a new entry.
    Prune {
        #[arg(long)]
        days: Option<u32>,
    },
}

#[derive(Subcommand, Debug)]
pub enum IntegrityCommand {
    /// Run the check now.
    Check,
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print the configuration reference (docs/config.md).
    Docs,
    /// Print the effective configuration (secrets hidden).
    Show,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BASPA_LOG")
                // tantivy warns when a background merge loses a race with a newer commit (it
                // drops that merge; nothing is lost), which frequent small commits make routine.
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,baspa=info,tantivy=error")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the chain of causes joined, no backtrace (HD-2 applies to operators too).
            let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
            let mut line = chain.join(": ");
            for (i, c) in chain.iter().enumerate().skip(1) {
                if chain[i - 1].contains(c.as_str()) {
                    line = chain[..i].join(": ");
                    break;
                }
            }
            eprintln!("error: {}", line.replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

/// The configuration file in use (for backups): `--config`, else `./baspa.toml` when present.
fn config_file(explicit: &Option<PathBuf>) -> Option<PathBuf> {
    explicit.clone().or_else(|| Some(PathBuf::from("baspa.toml")).filter(|p| p.is_file()))
}

fn new_password() -> String {
    std::env::var("BASPA_NEW_PASSWORD").ok().filter(|p| !p.is_empty()).unwrap_or_else(demo::generate_password)
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let started = Instant::now();
    let env: Vec<(String, String)> = std::env::vars().collect();
    let listen = match &cli.command {
        Command::Serve { listen } | Command::Demo { listen, .. } => listen.clone(),
        _ => None,
    };
    let overrides = Overrides { database_url: cli.database_url.clone(), data_dir: cli.data_dir.clone(), listen };
    let config = Config::load(cli.config.as_deref(), &env, &overrides)?;
    match cli.command {
        Command::Config { command: ConfigCommand::Docs } => {
            print!("{}", crate::config::docs_markdown());
            Ok(())
        }
        Command::Config { command: ConfigCommand::Show } => {
            println!("{config:#?}");
            Ok(())
        }
        Command::Audit { json } => crate::audit::run(&config, json).await,
        Command::Backup { command } => crate::backup::run(&config, config_file(&cli.config).as_deref(), command).await,
        Command::Upkeep { command } => crate::backup::upkeep(&config, command).await,
        Command::Report { month, out } => {
            let db = serve::open_database(&config).await?;
            let month = month.unwrap_or_else(|| {
                let first = baspa_domain::time::now().date_naive().with_day(1).unwrap_or_default();
                (first - chrono::Duration::days(1)).format("%Y-%m").to_string()
            });
            let text = crate::report::monthly(&db, &month).await?;
            match out {
                Some(path) => std::fs::write(&path, text)?,
                None => print!("{text}"),
            }
            Ok(())
        }
        Command::Migrate => {
            serve::open_database(&config).await?;
            println!("database at {} is up to date", baspa_db::redact_url(&config.database_url()));
            Ok(())
        }
        Command::Serve { .. } => {
            let db = serve::open_database(&config).await?;
            crate::backup::spawn_schedules(&config, config_file(&cli.config), db.clone())?;
            serve::serve(&config, db, started, |addr| eprintln!("baspa serving on http://{addr}/")).await
        }
        Command::Bench { command } => {
            let db = serve::open_database(&config).await?;
            match command {
                BenchCommand::AdminList { articles } => crate::bench::admin_list(&config, db, articles).await?,
                BenchCommand::SeedBare { articles } => {
                    let rate = crate::bench::seed_bare(&db, articles).await?;
                    println!("seeded {articles} bare articles x 2 languages at {rate:.0} articles/s");
                }
                BenchCommand::Article { lang, title, body_file } => {
                    let body = std::fs::read_to_string(&body_file)?;
                    println!("{}", crate::bench::article(&db, &lang, &title, &body).await?);
                }
                BenchCommand::Webp { images } => crate::bench::webp(images, config.media.quality())?,
                BenchCommand::Seed { articles } => {
                    let rate = crate::bench::seed_articles(&db, articles, "seed").await?;
                    println!("seeded {articles} articles x 2 languages at {rate:.0} articles/s");
                }
                BenchCommand::Storage { articles } => {
                    let backend = format!("{:?}", db.get_database_backend()).to_lowercase();
                    crate::bench::storage(&db, &backend, articles).await?;
                }
                BenchCommand::Import { scale, fixtures } => {
                    crate::import::bench(&config, &db, &fixtures, scale).await?
                }
                BenchCommand::Journal { entries } => {
                    let backend = format!("{:?}", db.get_database_backend()).to_lowercase();
                    crate::bench::journal(&config, &db, &backend, entries).await?;
                }
            }
            Ok(())
        }
        Command::Demo { profile, no_serve, .. } => demo::run(config, profile, no_serve, started).await,
        Command::Journal { command } => {
            let db = serve::open_database(&config).await?;
            crate::journal::run(&config, &db, command).await
        }
        Command::Integrity { command: IntegrityCommand::Check } => {
            let db = serve::open_database(&config).await?;
            crate::journal::integrity_check(&config, &db).await
        }
        Command::Media { command: MediaCommand::ConvertAll { jobs } } => {
            let db = serve::open_database(&config).await?;
            crate::media::convert_all(&config, &db, jobs).await
        }
        Command::Import { command } => {
            let db = serve::open_database(&config).await?;
            crate::import_records::run(&config, &db, command).await
        }
        Command::Search { command: SearchCommand::Reindex } => {
            let db = serve::open_database(&config).await?;
            crate::search::reindex(&config, &db).await
        }
        Command::User { command } => {
            let db = serve::open_database(&config).await?;
            let actor = Actor::system("cli");
            let ctx = Ctx::new(&db, &actor);
            match command {
                UserCommand::Add { email, name, role } => {
                    let role = Role::parse(&role)?;
                    let password = new_password();
                    baspa_actions::create_user(&ctx, &email, &name, role, &password).await?;
                    println!("added {email} ({role}); password: {password}");
                }
                UserCommand::List => {
                    for u in baspa_db::users::list(&db).await? {
                        println!(
                            "{}\t{}\t{}\t{}",
                            u.id,
                            u.email,
                            u.role,
                            if u.is_active { "active" } else { "disabled" }
                        );
                    }
                }
                UserCommand::Passwd { email } => {
                    let password = new_password();
                    baspa_actions::set_password(&ctx, &email, &password).await?;
                    println!("new password for {email}: {password}");
                }
            }
            Ok(())
        }
    }
}
