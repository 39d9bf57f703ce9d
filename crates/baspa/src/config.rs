//! The deployment configuration (STYLE: typed, layered, validated once). Layers, later wins:
//! defaults in code → `baspa.toml` (or `--config FILE`) → environment `BASPA__SECTION__KEY`
//! (plus `BASPA_DATABASE_URL`) → command-line flags. Unknown keys are errors that name the key
//! and where it came from. Site settings editors change (languages, menus) live in the database.
//!
//! `docs/config.md` is generated from the doc comments below (`cargo run -- config docs`), and a
//! test fails when it is stale.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A secret string: serialised as is (for layering) but never shown by `Debug` or in logs.
#[derive(Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

/// Baspa's deployment configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// HTTP server.
    pub server: ServerConfig,
    /// Database connection.
    pub database: DatabaseConfig,
    /// Files on disk.
    pub storage: StorageConfig,
    /// Defaults for the public site.
    pub site: SiteConfig,
    /// The staff admin: where it lives, sign-in rules, mail for password resets.
    pub admin: AdminSettings,
    /// The security functions: dependency audit (SC-4), integrity checks (SC-5), journal
    /// retention (SC-6) and incident alerts (HD-11).
    pub security: SecuritySettings,
    /// The page cache for anonymous visitors (PF-2): in this process, or shared in Redis.
    pub cache: CacheSettings,
    /// Images: the WebP variants made of every uploaded or migrated image (PF-5).
    pub media: MediaSettings,
    /// Backups (BK-1..BK-7): targets, encryption, schedules, retention.
    pub backup: BackupConfig,
    /// Database upkeep (BK-4): what is cleaned up and when.
    pub upkeep: UpkeepConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct MediaSettings {
    /// Lossy WebP quality of the variants (1–100); 80 keeps photos visually identical at about
    /// a third of the JPEG bytes. Applies to new uploads and `baspa media convert-all`.
    pub webp_quality: u8,
}

impl Default for MediaSettings {
    fn default() -> Self {
        Self { webp_quality: 80 }
    }
}

impl MediaSettings {
    pub fn quality(&self) -> f32 {
        f32::from(self.webp_quality.clamp(1, 100))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct CacheSettings {
    /// Cache whole pages for visitors without a session; `false` renders every request.
    pub enabled: bool,
    /// Seconds a cached page is served as is. Publishing purges the pages it changes at once,
    /// so this only bounds what no purge knows about (an author's renamed byline).
    pub fresh_seconds: u64,
    /// Seconds a page is kept to answer while the database is down (stale-if-error).
    pub keep_seconds: u64,
    /// Memory for cached pages on each node, in MiB.
    pub max_mib: u64,
    /// Redis shared by several nodes, e.g. `redis://127.0.0.1:6379/0`; purges reach every node
    /// over pub/sub. Empty: `BASPA_REDIS_URL` if set, else pages stay in this process.
    pub redis_url: Secret,
    /// Prefix of every Redis key and channel the cache uses.
    pub redis_prefix: String,
    /// Brotli quality used once per cached page (0–11).
    pub brotli_quality: u32,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            fresh_seconds: 600,
            keep_seconds: 86_400,
            max_mib: 256,
            redis_url: Secret::default(),
            redis_prefix: "baspa:cache:".to_owned(),
            brotli_quality: 9,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct BackupConfig {
    /// Where backups are written, each a folder or bucket: `file:///var/backups/baspa` (or a plain
    /// path) or `s3://BUCKET/PREFIX?endpoint=https://…&region=…` (keys from `AWS_ACCESS_KEY_ID` /
    /// `AWS_SECRET_ACCESS_KEY`). Every backup goes to each. Empty: no backups.
    pub targets: Vec<String>,
    /// age public keys (`age1…`) the backups are encrypted to; `baspa backup keygen` makes a
    /// pair. Keep the private half off this server's backup targets.
    pub recipients: Vec<String>,
    /// The age identity file (private key) used by verify, restore and the restore tests.
    pub identity_file: Option<PathBuf>,
    /// Also include the backend's own dump (SQLite `VACUUM INTO`, `pg_dump -Fc`,
    /// `mariadb-dump --single-transaction`) beside the portable export.
    pub native_dump: bool,
    /// zstd compression level, 1 (fast) to 19 (small).
    pub zstd_level: i32,
    /// When to back up: a cron expression in UTC (`minute hour day month weekday`), e.g.
    /// `0 */6 * * *`. Empty: only `baspa backup create`. Each scheduled backup is followed by
    /// retention (`keep_*`).
    pub schedule: String,
    /// When to record the point-in-time change log: the rows changed since the last backup or
    /// link (cron, UTC), e.g. `* * * * *` so that `backup restore --at` can reach any minute.
    /// Empty: restores reach the moments of full backups only.
    pub delta_schedule: String,
    /// When to restore the newest backup into a scratch database and check it (BK-2, BK-5).
    pub restore_test_schedule: String,
    /// When to do the same with a randomly chosen older backup (BK-5: monthly).
    pub random_restore_test_schedule: String,
    /// Retention keeps the newest this many backups whatever their age…
    pub keep_last: u32,
    /// …one per day for this many days…
    pub keep_daily: u32,
    /// …one per ISO week for this many weeks…
    pub keep_weekly: u32,
    /// …one per month for this many months…
    pub keep_monthly: u32,
    /// …and one per quarter for this many quarters.
    pub keep_quarterly: u32,
    /// A second medium (same forms as `targets`) that gets a copy of the newest verified backup
    /// on `offsite_schedule` (BK-6). Empty: no copies.
    pub offsite_target: String,
    /// When to copy to `offsite_target`, e.g. quarterly `0 4 1 1,4,7,10 *`.
    pub offsite_schedule: String,
    /// Days copies are kept on `offsite_target` (the newest is always kept).
    pub offsite_keep_days: u32,
    /// A folder for the export bundle for an external medium (BK-7): the newest backup that
    /// passed a restore test, with version information. Empty: no export.
    pub export_dir: Option<PathBuf>,
    /// When to write the export bundle, e.g. monthly `0 5 1 * *`.
    pub export_schedule: String,
}

impl Default for BackupConfig {
    fn default() -> Self {
        Self {
            targets: Vec::new(),
            recipients: Vec::new(),
            identity_file: None,
            native_dump: true,
            zstd_level: 3,
            schedule: String::new(),
            delta_schedule: String::new(),
            restore_test_schedule: String::new(),
            random_restore_test_schedule: String::new(),
            keep_last: 10,
            keep_daily: 7,
            keep_weekly: 5,
            keep_monthly: 12,
            keep_quarterly: 4,
            offsite_target: String::new(),
            offsite_schedule: String::new(),
            offsite_keep_days: 366,
            export_dir: None,
            export_schedule: String::new(),
        }
    }
}

impl CacheSettings {
    /// The page cache settings, with `BASPA_REDIS_URL` standing in for an empty `redis_url`.
    pub fn page_cache(&self) -> baspa_site::page_cache::PageCacheConfig {
        let url = Some(self.redis_url.0.trim().to_owned())
            .filter(|u| !u.is_empty())
            .or_else(|| std::env::var("BASPA_REDIS_URL").ok().filter(|u| !u.trim().is_empty()));
        baspa_site::page_cache::PageCacheConfig {
            is_enabled: self.enabled,
            fresh_for: std::time::Duration::from_secs(self.fresh_seconds.max(1)),
            keep_for: std::time::Duration::from_secs(self.keep_seconds.max(self.fresh_seconds).max(1)),
            max_bytes: self.max_mib.saturating_mul(1024 * 1024),
            redis_url: url,
            redis_prefix: self.redis_prefix.clone(),
            brotli_quality: self.brotli_quality.min(11),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct UpkeepConfig {
    /// When to clean up (cron, UTC). Empty: only `baspa upkeep run`.
    pub schedule: String,
    /// Finished jobs are removed after this many days.
    pub jobs_days: u32,
    /// Hourly security counters (anonymous statistics) are removed after this many days.
    pub statistics_days: u32,
    /// Revisions kept per translation besides the published and the latest one (never those).
    /// 0 keeps every revision.
    pub keep_revisions: u32,
    /// Files in the media folder that no media row names are removed after this many hours.
    pub orphan_media_hours: u32,
}

impl Default for UpkeepConfig {
    fn default() -> Self {
        Self {
            schedule: "30 2 * * *".to_owned(),
            jobs_days: 30,
            statistics_days: 400,
            keep_revisions: 0,
            orphan_media_hours: 24,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct SecuritySettings {
    /// A local copy of the RustSec advisory database (a clone of
    /// `https://github.com/rustsec/advisory-db`, the folder holding `crates/`), refreshed as
    /// described in `docs/security-audit.md`. Unset: dependencies are reported as not checked.
    pub advisory_db: Option<PathBuf>,
    /// Who receives security incident alerts (HD-11), e.g. `["security@example.kz"]`. Empty:
    /// every active administrator. Mail goes through `admin.smtp_url`; one mail per incident.
    pub alert_to: Vec<String>,
    /// Minutes between integrity checks of published content, media files and the journal
    /// (SC-5); each check that finds the journal whole also anchors its head. 0 turns the
    /// scheduled check off (`baspa integrity check` still works).
    pub integrity_check_minutes: u64,
    /// Days the change journal is kept; older entries are pruned after each clean integrity
    /// check (and by `baspa journal prune`), with a journal entry recording the hash they were
    /// pruned to. 0 keeps everything.
    pub journal_retention_days: u32,
    /// Reverse proxies (CIDRs or addresses) whose `X-Forwarded-For` header is believed, e.g.
    /// `["127.0.0.1/32", "10.0.0.0/8"]` (HD-10). The client is the right-most forwarded address
    /// that is not itself a trusted proxy. Empty: the socket peer is the client and the header
    /// is ignored.
    pub trusted_proxies: Vec<String>,
    /// Requests per minute from one client address before it gets 429 with `Retry-After`
    /// (SC-7), files apart (see `assets_per_minute`). Generous because many readers may share
    /// one address (mobile carriers' NAT). 0 turns the limit off.
    pub requests_per_minute: u32,
    /// Requests per minute for files (`/media/`, `/theme/`, the admin's assets) from one
    /// address before 429; a page brings many. 0 turns the limit off.
    pub assets_per_minute: u32,
    /// Requests per minute carrying one exact user agent, all addresses together, before 429.
    /// 0 (the default) turns it off; set it against a botnet that uses one odd user agent.
    pub agent_requests_per_minute: u32,
    /// Distinct public pages per minute from one address before 429 (scraping). Search engines
    /// that behave are exempt. 0 turns it off.
    pub pages_per_minute: u32,
    /// 404 answers per minute to one address before it is blocked (403) for `block_minutes`.
    /// 0 turns it off.
    pub not_found_per_minute: u32,
    /// Requests for paths of known weak spots (`/wp-login.php`, `/.env`, `/.git/`, `*.sql`,
    /// `*.bak`…: the list is `PROBE_PATHS` in `crates/baspa-site/src/monitor.rs`) from one
    /// address before it is blocked (403) for `block_minutes`. 0 turns probe blocking off.
    pub probes_before_block: u32,
    /// How long a blocked address gets 403, in minutes. Blocks are per address: the admin's
    /// sign-in stays open to everyone else.
    pub block_minutes: u32,
    /// Requests per minute above which an address whose user agent claims to be a search
    /// engine (Googlebot, YandexBot, Bingbot…) is taken for a fake; so is one that probes,
    /// opens the admin or posts. A fake loses the crawler exemption and raises an incident.
    pub crawler_requests_per_minute: u32,
    /// Failed staff sign-ins from one address within `login_window_minutes` that raise a
    /// brute-force incident (the lockouts are `admin.max_failures_per_*`). 0: no incident.
    pub login_failures_per_ip: u32,
    /// Failed sign-ins to one account within `login_window_minutes` that raise an incident.
    pub login_failures_per_account: u32,
    /// Distributed guessing: failures to at least this many distinct accounts…
    pub login_distributed_accounts: u32,
    /// …from at least this many distinct addresses within `login_window_minutes` raise one
    /// incident.
    pub login_distributed_ips: u32,
    /// The window for the sign-in counts above, in minutes.
    pub login_window_minutes: u32,
    /// Items moved to the trash by one account within `mass_trash_minutes` that raise an
    /// incident (mass deletion). 0 turns it off.
    pub mass_trash_count: u32,
    /// The window for `mass_trash_count`, in minutes.
    pub mass_trash_minutes: u32,
    /// Start of the night in Kazakhstan time (hour 0-23): a staff sign-in at night from a
    /// network (/24) the account never signed in from raises an incident.
    pub night_start_hour: u32,
    /// End of the night (hour 0-23, exclusive). Equal to the start: no night check.
    pub night_end_hour: u32,
    /// The most client addresses, user agents and accounts the monitor tracks each (memory
    /// bound); the least recently seen are forgotten first.
    pub monitor_max_tracked: usize,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        let m = baspa_site::monitor::MonitorConfig::default();
        Self {
            advisory_db: None,
            alert_to: Vec::new(),
            integrity_check_minutes: 15,
            journal_retention_days: 0,
            trusted_proxies: Vec::new(),
            requests_per_minute: m.requests_per_minute,
            assets_per_minute: m.assets_per_minute,
            agent_requests_per_minute: m.agent_requests_per_minute,
            pages_per_minute: m.pages_per_minute,
            not_found_per_minute: m.not_found_per_minute,
            probes_before_block: m.probes_before_block,
            block_minutes: m.block_minutes,
            crawler_requests_per_minute: m.crawler_requests_per_minute,
            login_failures_per_ip: m.login_failures_per_ip,
            login_failures_per_account: m.login_failures_per_account,
            login_distributed_accounts: m.login_distributed_accounts,
            login_distributed_ips: m.login_distributed_ips,
            login_window_minutes: m.login_window_minutes,
            mass_trash_count: m.mass_trash_count,
            mass_trash_minutes: m.mass_trash_minutes,
            night_start_hour: m.night_start_hour,
            night_end_hour: m.night_end_hour,
            monitor_max_tracked: m.max_tracked,
        }
    }
}

impl SecuritySettings {
    /// The monitor's thresholds (SC-7).
    pub fn monitor(&self) -> baspa_site::monitor::MonitorConfig {
        baspa_site::monitor::MonitorConfig {
            requests_per_minute: self.requests_per_minute,
            assets_per_minute: self.assets_per_minute,
            agent_requests_per_minute: self.agent_requests_per_minute,
            pages_per_minute: self.pages_per_minute,
            not_found_per_minute: self.not_found_per_minute,
            probes_before_block: self.probes_before_block,
            block_minutes: self.block_minutes,
            crawler_requests_per_minute: self.crawler_requests_per_minute,
            login_failures_per_ip: self.login_failures_per_ip,
            login_failures_per_account: self.login_failures_per_account,
            login_distributed_accounts: self.login_distributed_accounts,
            login_distributed_ips: self.login_distributed_ips,
            login_window_minutes: self.login_window_minutes,
            mass_trash_count: self.mass_trash_count,
            mass_trash_minutes: self.mass_trash_minutes,
            night_start_hour: self.night_start_hour,
            night_end_hour: self.night_end_hour,
            max_tracked: self.monitor_max_tracked,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct AdminSettings {
    /// URL path of the admin. Choose something not guessable in production, e.g.
    /// `/redaktsiya-7f3k` (HD-7). Starts with `/`, no trailing `/`; letters, digits, `-`, `_`.
    pub path: String,
    /// Set when visitors reach the site over HTTPS (directly or through a TLS proxy): cookies
    /// get `Secure` and the session cookie the `__Host-` prefix (HD-5).
    pub https: bool,
    /// Roles that must sign in with a code from an authenticator app (TOTP). Their first
    /// sign-in leads to setting it up.
    pub second_factor_roles: Vec<String>,
    /// Failed sign-ins (or codes) per account within 15 minutes before a 15-minute lockout.
    pub max_failures_per_account: i32,
    /// Failed sign-ins per IP address within 15 minutes before a 15-minute lockout.
    pub max_failures_per_ip: i32,
    /// How long a staff session lasts, in hours.
    pub session_hours: i64,
    /// SMTP server for password-reset mail: `smtp://host:port` (plain, local relay) or
    /// `smtps://host:port` (TLS). Empty: no "forgot password" link.
    pub smtp_url: String,
    /// Sender address of the admin's mail, e.g. `Baspa <noreply@example.kz>`.
    pub mail_from: String,
    /// Largest accepted upload, in megabytes.
    pub max_upload_mb: usize,
    /// ClamAV daemon that scans every upload: `host:port` (e.g. `127.0.0.1:3310`) or a unix
    /// socket path (e.g. `/run/clamav/clamd.ctl`). While it is set but unreachable, uploads are
    /// refused ("virus scanner unavailable"). clamd's `StreamMaxLength` must be at least
    /// `max_upload_mb`, or large files are refused the same way. Empty: only the built-in checks.
    pub clamd: String,
    /// Redis for staff sessions, e.g. `redis://127.0.0.1:6379/0` (may hold a password). Set it
    /// when several nodes serve the admin; sessions then live in Redis instead of the database
    /// and sign-in is refused while Redis is down. Empty: sessions live in the database.
    pub redis_url: Secret,
    /// Prefix of every Redis key Baspa writes, so several sites can share one Redis.
    pub redis_prefix: String,
}

impl Default for AdminSettings {
    fn default() -> Self {
        Self {
            path: "/admin".to_owned(),
            https: false,
            second_factor_roles: vec!["administrator".to_owned(), "chief_editor".to_owned()],
            max_failures_per_account: 5,
            max_failures_per_ip: 30,
            session_hours: 12,
            smtp_url: String::new(),
            mail_from: "Baspa <noreply@localhost>".to_owned(),
            max_upload_mb: 50,
            clamd: String::new(),
            redis_url: Secret::default(),
            redis_prefix: "baspa:".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address and port to listen on, e.g. `0.0.0.0:8080`.
    pub listen: String,
    /// A PEM file with the TLS certificate chain (leaf first). With `tls_key`, `listen` serves
    /// HTTPS only (rustls, TLS 1.2 and 1.3; no TLS 1.0/1.1), every response carries HSTS and
    /// every cookie is `Secure` (this implies `admin.https`). Unset: plain HTTP, for use behind a
    /// TLS-terminating proxy (see `security.trusted_proxies`). Read at start-up; restart to
    /// load a renewed certificate. ACME is not built in: use certbot or the proxy's ACME.
    pub tls_cert: Option<PathBuf>,
    /// The PEM file with the certificate's private key (PKCS#8, PKCS#1 or SEC1). Keep it
    /// readable by the Baspa user only.
    pub tls_key: Option<PathBuf>,
    /// With TLS: a second, plain-HTTP address (e.g. `0.0.0.0:80`) that answers every request
    /// with `308 Permanent Redirect` to the same host and path over HTTPS. Unset: no plain port.
    pub redirect_http: Option<String>,
    /// Threads that serve requests, each with its own event loop (like nginx's worker
    /// processes); each new connection goes to the thread with the fewest open ones. `0`: one per
    /// CPU core. Background work (jobs, search indexing, backups) runs on its own threads either way.
    pub http_threads: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            tls_cert: None,
            tls_key: None,
            redirect_http: None,
            http_threads: 0,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Database URL: `sqlite://PATH`, `postgres://USER:PASS@HOST/DB` or `mysql://USER:PASS@HOST/DB`
    /// (MariaDB too). Empty means a SQLite file `baspa.sqlite` in the data directory. Also read from
    /// `BASPA_DATABASE_URL`.
    pub url: Secret,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// Data directory: the SQLite database, uploaded media and the search index live here.
    pub data_dir: PathBuf,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self { data_dir: PathBuf::from("data") }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct SiteConfig {
    /// The site's name shown in the header and page titles.
    pub name: String,
    /// A folder of minijinja templates (`base.html`, `home.html`, `section.html`, `entry.html`,
    /// `page.html`, `error.html`, `cards.html`) that replace the embedded theme's files of the
    /// same name, read at start-up; no rebuild needed. Its `assets/` folder is served under
    /// `/theme/`. Unset: the embedded theme.
    pub theme_dir: Option<PathBuf>,
    /// A MaxMind-format country database (GeoLite2-Country or DB-IP `.mmdb`). When set, a first
    /// visit whose `Accept-Language` matches no site language is sent to the language of its
    /// country (see `geoip_languages`). Unset: no GeoIP.
    pub geoip_db: Option<PathBuf>,
    /// ISO country code → language code for GeoIP, e.g. `KZ = "kk"`.
    pub geoip_languages: std::collections::BTreeMap<String, String>,
}

impl Default for SiteConfig {
    fn default() -> Self {
        let geoip_languages = [("KZ", "kk"), ("RU", "ru"), ("BY", "ru"), ("KG", "ru")]
            .iter()
            .map(|(c, l)| ((*c).to_owned(), (*l).to_owned()))
            .collect();
        Self { name: "Baspa".to_owned(), theme_dir: None, geoip_db: None, geoip_languages }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("configuration file {path}: {reason}")]
    File { path: String, reason: String },
    #[error("environment variable {var}: {reason}")]
    Env { var: String, reason: String },
}

/// Values given on the command line; `None` leaves the lower layers alone.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub database_url: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
}

impl Config {
    /// Builds the configuration from all layers. `explicit_file` must exist; otherwise
    /// `./baspa.toml` is read when present.
    pub fn load(
        explicit_file: Option<&Path>,
        env: &[(String, String)],
        overrides: &Overrides,
    ) -> Result<Self, ConfigError> {
        let (path, required) = match explicit_file {
            Some(p) => (p.to_path_buf(), true),
            None => (PathBuf::from("baspa.toml"), false),
        };
        let mut config = if path.exists() || required {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| ConfigError::Read { path: path.display().to_string(), reason: e.to_string() })?;
            toml::from_str::<Config>(&text)
                .map_err(|e| ConfigError::File { path: path.display().to_string(), reason: one_line(&e.to_string()) })?
        } else {
            Config::default()
        };
        config.apply_env(env)?;
        if let Some(url) = &overrides.database_url {
            config.database.url = Secret(url.clone());
        }
        if let Some(dir) = &overrides.data_dir {
            config.storage.data_dir = dir.clone();
        }
        if let Some(listen) = &overrides.listen {
            config.server.listen = listen.clone();
        }
        Ok(config)
    }

    fn apply_env(&mut self, env: &[(String, String)]) -> Result<(), ConfigError> {
        let mut tree =
            serde_json::to_value(&*self).map_err(|e| ConfigError::Env { var: "-".into(), reason: e.to_string() })?;
        let mut vars: Vec<&(String, String)> = env.iter().collect();
        vars.sort();
        for (var, value) in vars {
            let path: Vec<String> = if var == "BASPA_DATABASE_URL" {
                vec!["database".into(), "url".into()]
            } else if let Some(rest) = var.strip_prefix("BASPA__") {
                rest.split("__").map(|s| s.to_ascii_lowercase()).collect()
            } else {
                continue;
            };
            set_path(&mut tree, &path, value).map_err(|reason| ConfigError::Env { var: var.clone(), reason })?;
            *self = serde_json::from_value(tree.clone())
                .map_err(|e| ConfigError::Env { var: var.clone(), reason: e.to_string() })?;
        }
        Ok(())
    }

    /// The database URL to use: the configured one, or SQLite in the data directory.
    pub fn database_url(&self) -> String {
        if self.database.url.0.trim().is_empty() {
            format!("sqlite://{}", self.storage.data_dir.join("baspa.sqlite").display())
        } else {
            self.database.url.0.clone()
        }
    }

    pub fn media_dir(&self) -> PathBuf {
        self.storage.data_dir.join("media")
    }
}

fn one_line(text: &str) -> String {
    // toml's errors quote the offending line under a gutter (`1 | [databse]`, `|`, `^^^`): keep
    // the position and the message, drop the drawing.
    let is_drawing = |l: &str| {
        l.starts_with('|')
            || l.chars().all(|c| c == '^' || c == ' ')
            || l.split_once(" |").is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
    };
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !is_drawing(l)).collect::<Vec<_>>().join(": ")
}

fn set_path(tree: &mut Value, path: &[String], raw: &str) -> Result<(), String> {
    let mut node = tree;
    for (i, key) in path.iter().enumerate() {
        let Value::Object(map) = node else {
            return Err(format!("{} is not a section", path[..i].join(".")));
        };
        if !map.contains_key(key) {
            let known: Vec<&String> = map.keys().collect();
            return Err(format!(
                "there is no setting {:?}; known here: {}",
                path[..=i].join("."),
                known.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
        if i + 1 == path.len() {
            let old = &map[key];
            let new = match old {
                Value::Number(_) => raw
                    .parse::<serde_json::Number>()
                    .map(Value::Number)
                    .map_err(|_| format!("{raw:?} is not a number"))?,
                Value::Bool(_) => {
                    Value::Bool(raw.parse::<bool>().map_err(|_| format!("{raw:?} is not true or false"))?)
                }
                // Lists from the environment are comma-separated: `administrator,chief_editor`.
                Value::Array(_) => Value::Array(
                    raw.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(|s| Value::String(s.to_owned()))
                        .collect(),
                ),
                _ => Value::String(raw.to_owned()),
            };
            map.insert(key.clone(), new);
            return Ok(());
        }
        node = map.get_mut(key).ok_or_else(|| "unreachable".to_owned())?;
    }
    Ok(())
}

/// Markdown reference of every setting, generated from the doc comments.
pub fn docs_markdown() -> String {
    let schema = serde_json::to_value(schemars::schema_for!(Config)).unwrap_or_default();
    let defaults = serde_json::to_value(Config::default()).unwrap_or_default();
    let mut out = String::from(
        "# Configuration reference\n\nGenerated from `crates/baspa/src/config.rs` by `cargo run -- config docs > docs/config.md`; a test fails when this file is stale.\n\nLayers, later wins: defaults → `baspa.toml` (or `--config FILE`) → environment `BASPA__SECTION__KEY` (and `BASPA_DATABASE_URL`) → command-line flags. Unknown keys are refused with the key's name.\n\n| setting | environment | default | meaning |\n|---|---|---|---|\n",
    );
    let defs = schema.get("$defs").cloned().unwrap_or_default();
    if let Some(sections) = schema.get("properties").and_then(Value::as_object) {
        for (section, sdef) in sections {
            let reference =
                sdef.get("$ref").and_then(Value::as_str).unwrap_or_default().rsplit('/').next().unwrap_or_default();
            let Some(props) = defs.get(reference).and_then(|d| d.get("properties")).and_then(Value::as_object) else {
                continue;
            };
            for (key, def) in props {
                let doc = def.get("description").and_then(Value::as_str).unwrap_or_default().replace('\n', " ");
                let default = defaults.get(section).and_then(|s| s.get(key)).map(|v| v.to_string()).unwrap_or_default();
                out.push_str(&format!(
                    "| `{section}.{key}` | `BASPA__{}__{}` | `{default}` | {doc} |\n",
                    section.to_uppercase(),
                    key.to_uppercase()
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn layers_apply_in_order_defaults_file_env_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("baspa.toml");
        std::fs::write(&file, "[server]\nlisten = \"0.0.0.0:9000\"\n[site]\nname = \"BAQ\"\n").unwrap();
        let c = Config::load(
            Some(&file),
            &env(&[("BASPA__SITE__NAME", "BAQ.KZ"), ("BASPA_DATABASE_URL", "postgres://x@h/db")]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(c.server.listen, "0.0.0.0:9000");
        assert_eq!(c.site.name, "BAQ.KZ");
        assert_eq!(c.database_url(), "postgres://x@h/db");
        let c = Config::load(Some(&file), &[], &Overrides { listen: Some("127.0.0.1:1".into()), ..Default::default() })
            .unwrap();
        assert_eq!(c.server.listen, "127.0.0.1:1");
        assert!(
            !format!(
                "{:?}",
                Config { database: DatabaseConfig { url: Secret("postgres://u:pw@h/d".into()) }, ..Default::default() }
            )
            .contains("pw")
        );
    }

    #[test]
    fn unknown_keys_are_named_with_where_they_came_from() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("baspa.toml");
        std::fs::write(&file, "[server]\nlissten = \"0.0.0.0:9000\"\n").unwrap();
        let err = Config::load(Some(&file), &[], &Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("baspa.toml") && err.contains("lissten") && !err.contains('\n'), "{err}");
        let err =
            Config::load(None, &env(&[("BASPA__SERVER__LISTN", "x")]), &Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("BASPA__SERVER__LISTN") && err.contains("server.listn"), "{err}");
        let missing = Config::load(Some(Path::new("/nonexistent/baspa.toml")), &[], &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(missing.contains("/nonexistent/baspa.toml"), "{missing}");
    }

    #[test]
    fn config_docs_are_current() {
        let committed =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/config.md")).unwrap_or_default();
        assert_eq!(
            committed,
            docs_markdown(),
            "docs/config.md is stale: run `cargo run -- config docs > docs/config.md`"
        );
    }
}
