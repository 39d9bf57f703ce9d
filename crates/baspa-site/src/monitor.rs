//! Anomaly monitoring (SC-7, HD-10): in-process sliding-window counters per client address, per
//! user agent and per staff account, answering floods with 429 and probes with a temporary 403
//! block, and turning each new anomaly into ONE incident (`baspa_actions::security`) per cause.
//!
//! What is watched, per client address (see `client`): the request rate; probes of paths no
//! Baspa site has ([`PROBE_PATHS`], [`PROBE_SUFFIXES`], any dot-segment but `.well-known`);
//! 404 floods; scraping (many distinct pages a minute); user agents claiming to be a search
//! engine while probing, opening the admin, posting or going far faster than a crawler. Sign-in
//! failures are reported by the sign-in handler ([`Monitor::sign_in_failed`]) per address, per
//! account and across accounts (distributed guessing). Unusual staff actions (mass trash, any
//! rights change, a night sign-in from a new network) are read from the journal by
//! [`Monitor::scan_journal`], which the server runs periodically.
//!
//! Requests never wait on the database: incidents are raised in spawned tasks (serialised, so a
//! cause opens exactly one incident) and event counts are summed in memory and written by
//! [`Monitor::flush_events`] on the server's tick. Counters live in this process only: with
//! several nodes each node counts its own share.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use baspa_actions::security::{IncidentReport, Severity, hour_of, raise_incident};
use baspa_actions::{Actor, Ctx};
use baspa_db::journal::{self, JournalFilter};
use baspa_domain::Timestamp;
use sea_orm::{DatabaseConnection, DbErr};
use serde_json::json;

use crate::SiteState;
use crate::client::ClientAddr;

/// Paths that exist on PHP, WordPress and misconfigured servers but never on a Baspa site;
/// asking for one is a probe. Matched case-insensitively at any `/` boundary of the path.
pub const PROBE_PATHS: &[&str] = &[
    "/wp-login.php",
    "/wp-admin",
    "/wp-content",
    "/wp-includes",
    "/wp-config.php",
    "/xmlrpc.php",
    "/phpmyadmin",
    "/pma",
    "/myadmin",
    "/adminer.php",
    "/config.php",
    "/configuration.php",
    "/phpinfo.php",
    "/info.php",
    "/shell.php",
    "/server-status",
    "/server-info",
    "/cgi-bin",
    "/vendor/phpunit",
    "/web.config",
    "/actuator",
    "/etc/passwd",
    "/boaform",
];

/// File endings of backups and dumps (HD-3); any path ending so is a probe.
pub const PROBE_SUFFIXES: &[&str] = &[".bak", ".sql", ".sql.gz", ".old", ".orig", ".swp", ".save", "~"];

/// Whether a path is a probe of a known weak spot.
pub fn is_probe(path: &str) -> bool {
    // Every request passes here: lower-case a copy only when the path has capitals.
    let p: std::borrow::Cow<'_, str> =
        if path.bytes().any(|b| b.is_ascii_uppercase()) { path.to_ascii_lowercase().into() } else { path.into() };
    // `.env`, `.git/config`, `.htaccess`, `..`: dot segments are never pages here.
    let dot_segment = p.split('/').any(|s| s.starts_with('.') && s != ".well-known");
    let known = p.match_indices('/').any(|(i, _)| {
        let rest = &p[i..];
        PROBE_PATHS.iter().any(|m| rest.starts_with(m) && matches!(rest.as_bytes().get(m.len()), None | Some(b'/')))
    });
    dot_segment || known || PROBE_SUFFIXES.iter().any(|s| p.ends_with(s))
}

/// Thresholds; the binary fills them from `[security]` in the configuration. 0 turns a check off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorConfig {
    /// Requests per minute from one address before 429, files (`/media/`, `/theme/`, the
    /// admin's assets) apart.
    pub requests_per_minute: u32,
    /// Requests per minute for files from one address before 429 (a page brings many).
    pub assets_per_minute: u32,
    /// Requests per minute with one exact user agent (all addresses) before 429.
    pub agent_requests_per_minute: u32,
    /// Distinct public pages per minute from one address (scraping) before 429.
    pub pages_per_minute: u32,
    /// 404 answers per minute to one address before it is blocked.
    pub not_found_per_minute: u32,
    /// Probes of known paths from one address (within a block period) before it is blocked.
    pub probes_before_block: u32,
    /// How long a block lasts, in minutes.
    pub block_minutes: u32,
    /// Requests per minute above which a self-declared crawler is taken for a fake.
    pub crawler_requests_per_minute: u32,
    /// Failed sign-ins from one address within the window before an incident.
    pub login_failures_per_ip: u32,
    /// Failed sign-ins to one account within the window before an incident.
    pub login_failures_per_account: u32,
    /// Distributed guessing: this many distinct accounts failing…
    pub login_distributed_accounts: u32,
    /// …from this many distinct addresses within the window.
    pub login_distributed_ips: u32,
    /// The sign-in window, in minutes.
    pub login_window_minutes: u32,
    /// Trash actions by one account within `mass_trash_minutes` that make an incident.
    pub mass_trash_count: u32,
    pub mass_trash_minutes: u32,
    /// Night in Kazakhstan time (UTC+5), `start..end` hours, wrapping over midnight.
    pub night_start_hour: u32,
    pub night_end_hour: u32,
    /// The most addresses, agents and accounts tracked each; the oldest are forgotten first.
    pub max_tracked: usize,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        Self {
            requests_per_minute: 1200,
            assets_per_minute: 6000,
            agent_requests_per_minute: 0,
            pages_per_minute: 600,
            not_found_per_minute: 60,
            probes_before_block: 5,
            block_minutes: 15,
            crawler_requests_per_minute: 300,
            login_failures_per_ip: 30,
            login_failures_per_account: 20,
            login_distributed_accounts: 20,
            login_distributed_ips: 10,
            login_window_minutes: 15,
            mass_trash_count: 20,
            mass_trash_minutes: 10,
            night_start_hour: 23,
            night_end_hour: 6,
            max_tracked: 100_000,
        }
    }
}

impl MonitorConfig {
    fn block(&self) -> Duration {
        Duration::from_secs(u64::from(self.block_minutes.max(1)) * 60)
    }

    fn login_window(&self) -> Duration {
        Duration::from_secs(u64::from(self.login_window_minutes.max(1)) * 60)
    }
}

const MINUTE: Duration = Duration::from_secs(60);

/// Kinds of the hourly `security_events` counters.
pub mod event {
    pub const THROTTLED: &str = "throttled";
    pub const BLOCKED: &str = "blocked";
    pub const PROBE: &str = "probe";
    pub const SCRAPE: &str = "scrape";
    pub const FAKE_BOT: &str = "fake_bot";
    pub const LOGIN_FAILED: &str = "login_failed";
    pub const STAFF: &str = "staff_anomaly";
}

/// A sliding window approximated by two fixed buckets (the previous one weighted by how much of
/// it still overlaps): constant memory per key.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    current: u32,
    previous: u32,
}

impl Window {
    fn new(now: Instant) -> Self {
        Window { start: now, current: 0, previous: 0 }
    }

    fn roll(&mut self, now: Instant, span: Duration) {
        let elapsed = now.saturating_duration_since(self.start);
        if elapsed >= span * 2 {
            *self = Window::new(now);
        } else if elapsed >= span {
            self.previous = self.current;
            self.current = 0;
            self.start += span;
        }
    }

    fn estimate(&self, now: Instant, span: Duration) -> u32 {
        let gone = now.saturating_duration_since(self.start).as_secs_f64() / span.as_secs_f64();
        let carried = (f64::from(self.previous) * (1.0 - gone).max(0.0)) as u32;
        carried.saturating_add(self.current)
    }

    /// The count now, without adding to it.
    fn level(&mut self, now: Instant, span: Duration) -> u32 {
        self.roll(now, span);
        self.estimate(now, span)
    }

    fn hit(&mut self, now: Instant, span: Duration) -> u32 {
        self.add(now, span, 1)
    }

    /// Counts `n` events now (a lease's requests, see [`Lease`]) and returns the count.
    fn add(&mut self, now: Instant, span: Duration, n: u32) -> u32 {
        self.roll(now, span);
        self.current = self.current.saturating_add(n);
        self.estimate(now, span)
    }

    /// Takes back `n` events counted ahead at `counted` that did not happen (a lease's unused
    /// requests) from the span they were counted in; what has rolled out is gone already.
    fn take_back(&mut self, now: Instant, span: Duration, counted: Instant, n: u32) {
        self.roll(now, span);
        if counted >= self.start {
            self.current = self.current.saturating_sub(n);
        } else if self.start.checked_sub(span).is_some_and(|previous| counted >= previous) {
            self.previous = self.previous.saturating_sub(n);
        }
    }
}

#[derive(Debug)]
struct IpRecord {
    seen: Instant,
    requests: Window,
    assets: Window,
    not_found: Window,
    probes: Window,
    login_failures: Window,
    pages_since: Instant,
    pages: HashSet<u64>,
    blocked_until: Option<Instant>,
    is_fake_bot: bool,
}

impl IpRecord {
    fn new(now: Instant) -> Self {
        IpRecord {
            seen: now,
            requests: Window::new(now),
            assets: Window::new(now),
            not_found: Window::new(now),
            probes: Window::new(now),
            login_failures: Window::new(now),
            pages_since: now,
            pages: HashSet::new(),
            blocked_until: None,
            is_fake_bot: false,
        }
    }

    /// Eviction order: a blocked address counts as recent until its block ends.
    fn freshness(&self) -> Instant {
        self.blocked_until.map_or(self.seen, |b| b.max(self.seen))
    }
}

/// Failures across accounts in one fixed window, for distributed guessing. Sets stop growing
/// once they pass the thresholds: only "at least N" matters.
#[derive(Debug)]
struct Spread {
    start: Instant,
    accounts: HashSet<String>,
    ips: HashSet<IpAddr>,
}

#[derive(Debug)]
struct Tables {
    ips: HashMap<IpAddr, IpRecord>,
    agents: HashMap<String, (Instant, Window)>,
    accounts: HashMap<String, (Instant, Window)>,
    spread: Spread,
    /// When each cause was last raised, so a cause is raised once per period, not per request.
    raised: HashMap<String, Instant>,
    /// Recent trash times per staff account (journal scan).
    trash: HashMap<i64, VecDeque<Timestamp>>,
}

/// Forgets the oldest tenth of `map` when it is full.
fn make_room<K: Clone + Eq + Hash, V>(map: &mut HashMap<K, V>, cap: usize, fresh: impl Fn(&V) -> Instant) {
    if map.len() < cap.max(1) {
        return;
    }
    let mut ages: Vec<(Instant, K)> = map.iter().map(|(k, v)| (fresh(v), k.clone())).collect();
    let drop = (ages.len() / 10).max(1);
    ages.select_nth_unstable_by_key(drop - 1, |(t, _)| *t);
    for (_, k) in ages.into_iter().take(drop) {
        map.remove(&k);
    }
}

/// The most requests one lease admits, and how many threads may hold a lease on one client at
/// once before what their leases counted ahead could throttle it early (each takes this share of
/// the room left below the limit).
const LEASE_MOST: u32 = 64;
const LEASE_SHARERS: u32 = 8;
/// How long a lease admits requests; what it left unused stays counted until the client's next
/// full check on the thread (or until it rolls out of the window).
const LEASE_FOR: Duration = Duration::from_secs(1);
/// The most clients one thread holds leases for; when full, their counts are settled and the
/// leases dropped.
const LEASES_MOST: usize = 1024;

/// A serving thread's permission to admit one client's repeats of one plain page read without
/// taking the monitor's lock, which every request of every core would otherwise take (issue 7's
/// profile: the lock's cache line bouncing between cores was most of the monitor's cost). Given
/// by a full check that passed, and counted in the client's tables whole when given: what it
/// admits is never more than was counted, however many threads hold one, so the limit holds
/// exactly. What it leaves unused is taken back at the client's next full check on the thread.
#[derive(Debug)]
struct Lease {
    /// `Monitor::blocks` when it was given: any block since ends it.
    blocks: u64,
    given: Instant,
    until: Instant,
    /// Requests counted ahead and not admitted yet.
    left: u32,
    path: Box<str>,
    agent: Box<str>,
}

impl Lease {
    fn admits(&self, seen: &Seen<'_>, now: Instant, blocks: u64) -> bool {
        self.left > 0
            && now < self.until
            && self.blocks == blocks
            && matches!(*seen.method, Method::GET | Method::HEAD)
            && *self.path == *seen.path
            && *self.agent == *seen.user_agent
    }
}

thread_local! {
    /// Leases by monitor and client address.
    static LEASES: RefCell<HashMap<(u64, IpAddr), Lease>> = RefCell::new(HashMap::new());
}

/// What the monitor decided about a request before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// 429 with `Retry-After` seconds.
    Throttle(u64),
    /// 403 for the rest of the block, in seconds.
    Block(u64),
}

/// One request as the monitor sees it.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    pub ip: IpAddr,
    pub path: &'a str,
    pub method: &'a Method,
    pub user_agent: &'a str,
    /// The admin's path prefix: never a probe, never scraping, but a crawler has no business there.
    pub admin_path: &'a str,
}

/// The monitor of one node. `Default` uses the default thresholds.
#[derive(Debug)]
pub struct Monitor {
    config: MonitorConfig,
    /// Tells this monitor's leases (`LEASES`) from another's in the same thread.
    id: u64,
    /// Bumped whenever an address is blocked: every lease taken before is void at once.
    blocks: AtomicU64,
    tables: Mutex<Tables>,
    events: Mutex<HashMap<(Timestamp, &'static str), i64>>,
    raising: Arc<tokio::sync::Mutex<()>>,
    in_flight: Arc<AtomicUsize>,
    journal_cursor: tokio::sync::Mutex<Option<i64>>,
}

impl Default for Monitor {
    fn default() -> Self {
        Monitor::new(MonitorConfig::default())
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves counters, not invariants: keep going.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn path_hash(path: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    path.hash(&mut h);
    h.finish()
}

fn report(cause: String, category: &'static str, severity: Severity, summary: String) -> IncidentReport {
    IncidentReport { cause, category, severity, summary, details: None }
}

impl Monitor {
    pub fn new(config: MonitorConfig) -> Self {
        let now = Instant::now();
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Monitor {
            config,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            blocks: AtomicU64::new(0),
            tables: Mutex::new(Tables {
                ips: HashMap::new(),
                agents: HashMap::new(),
                accounts: HashMap::new(),
                spread: Spread { start: now, accounts: HashSet::new(), ips: HashSet::new() },
                raised: HashMap::new(),
                trash: HashMap::new(),
            }),
            events: Mutex::new(HashMap::new()),
            raising: Arc::new(tokio::sync::Mutex::new(())),
            in_flight: Arc::new(AtomicUsize::new(0)),
            journal_cursor: tokio::sync::Mutex::new(None),
        }
    }

    pub fn config(&self) -> &MonitorConfig {
        &self.config
    }

    /// Counts one event of `kind` in this hour (written by `flush_events`).
    pub fn count(&self, kind: &'static str) {
        *lock(&self.events).entry((hour_of(baspa_domain::time::now()), kind)).or_default() += 1;
    }

    /// Decides about a request before it runs. Incidents to raise are pushed to `reports`.
    pub fn check(&self, seen: &Seen<'_>, now: Instant, reports: &mut Vec<IncidentReport>) -> Verdict {
        self.check_counting(seen, now, reports, None, false).0
    }

    /// [`Monitor::check`] for a serving thread: a client repeating, within a second and through
    /// the same thread, a plain page read the full check let through is admitted from the
    /// thread's lease (see [`Lease`]). Limits hold exactly as with `check`, whatever the number of
    /// threads; a block ends every lease at once.
    pub fn check_leased(&self, seen: &Seen<'_>, now: Instant, reports: &mut Vec<IncidentReport>) -> Verdict {
        let key = (self.id, seen.ip);
        // Read before the full check: a block that lands after it voids the lease given below.
        let blocks = self.blocks.load(Ordering::Acquire);
        let previous = LEASES.with_borrow_mut(|leases| match leases.get_mut(&key) {
            Some(lease) if lease.admits(seen, now, blocks) => {
                lease.left -= 1;
                Ok(())
            }
            _ => Err(leases.remove(&key)),
        });
        let Err(previous) = previous else { return Verdict::Pass };
        let unused = previous.as_ref().map(|l| (l.given, l.left));
        let (verdict, size) = self.check_counting(seen, now, reports, unused, true);
        if size > 0 {
            let (path, agent) = match previous {
                Some(l) if *l.path == *seen.path && *l.agent == *seen.user_agent => (l.path, l.agent),
                _ => (seen.path.into(), seen.user_agent.into()),
            };
            let lease = Lease { blocks, given: now, until: now + LEASE_FOR, left: size, path, agent };
            LEASES.with_borrow_mut(|leases| {
                if leases.len() >= LEASES_MOST {
                    self.settle_leases(leases, now);
                }
                leases.insert(key, lease);
            });
        }
        verdict
    }

    /// Takes back what this thread's leases of this monitor left unused and drops them.
    fn settle_leases(&self, leases: &mut HashMap<(u64, IpAddr), Lease>, now: Instant) {
        let unused: Vec<(IpAddr, Instant, u32)> = leases
            .extract_if(|(monitor, _), _| *monitor == self.id)
            .map(|((_, ip), l)| (ip, l.given, l.left))
            .collect();
        if leases.len() >= LEASES_MOST {
            // Other monitors' leases (tests make many monitors; a node has one): their clients are
            // over-counted by what is left, until it rolls out of the window.
            leases.clear();
        }
        let mut t = lock(&self.tables);
        for (ip, given, left) in unused {
            if let Some(rec) = t.ips.get_mut(&ip) {
                rec.requests.take_back(now, MINUTE, given, left);
            }
        }
    }

    /// [`Monitor::check`], and when `leasing`, the size of the lease the thread may admit the
    /// client's next requests from, counted already. `unused` requests counted for the client's
    /// previous lease on this thread (and when) are taken back first.
    fn check_counting(
        &self,
        seen: &Seen<'_>,
        now: Instant,
        reports: &mut Vec<IncidentReport>,
        unused: Option<(Instant, u32)>,
        leasing: bool,
    ) -> (Verdict, u32) {
        let c = &self.config;
        let mut guard = lock(&self.tables);
        let t = &mut *guard;
        if !t.ips.contains_key(&seen.ip) {
            make_room(&mut t.ips, c.max_tracked, IpRecord::freshness);
        }
        let rec = t.ips.entry(seen.ip).or_insert_with(|| IpRecord::new(now));
        rec.seen = now;
        if let Some((given, left)) = unused.filter(|(_, left)| *left > 0) {
            rec.requests.take_back(now, MINUTE, given, left);
        }
        if let Some(until) = rec.blocked_until {
            if until > now {
                self.count(event::BLOCKED);
                return (Verdict::Block(until.saturating_duration_since(now).as_secs().max(1)), 0);
            }
            rec.blocked_until = None;
        }
        let ip = seen.ip;
        let below_admin = seen.path.strip_prefix(seen.admin_path);
        let is_admin = below_admin.is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        // Files come many to a page: counted apart, so a reader's images do not eat the page limit.
        let is_file = seen.path.starts_with("/media/")
            || seen.path.starts_with("/theme/")
            || (is_admin && below_admin.is_some_and(|rest| rest.starts_with("/assets/")));
        let (rate, limit) = if is_file {
            (rec.assets.hit(now, MINUTE), c.assets_per_minute)
        } else {
            (rec.requests.hit(now, MINUTE), c.requests_per_minute)
        };

        let probe = !is_admin && is_probe(seen.path);
        let claims_crawler = crate::negotiate::is_crawler(seen.user_agent);
        let is_write = !matches!(*seen.method, Method::GET | Method::HEAD);
        let too_fast_for_crawler =
            !is_file && c.crawler_requests_per_minute > 0 && rate > c.crawler_requests_per_minute;
        if claims_crawler && !rec.is_fake_bot && (probe || is_admin || is_write || too_fast_for_crawler) {
            // From now on the address gets no crawler leniency.
            rec.is_fake_bot = true;
            self.count(event::FAKE_BOT);
            let mut r = report(
                format!("bot.fake:{ip}"),
                "bot",
                Severity::Warning,
                format!("{ip} claims to be a search engine but does not behave like one"),
            );
            r.details = Some(json!({"ip": ip.to_string(), "user_agent": seen.user_agent, "path": seen.path}));
            reports.push(r);
        }
        if probe {
            self.count(event::PROBE);
            let probes = rec.probes.hit(now, c.block());
            if c.probes_before_block > 0 && probes >= c.probes_before_block {
                rec.blocked_until = Some(now + c.block());
                self.blocks.fetch_add(1, Ordering::Release);
                self.count(event::BLOCKED);
                let mut r = report(
                    format!("probe.ip:{ip}"),
                    "probe",
                    Severity::Warning,
                    format!("{ip} probed for weak spots and is blocked for {} minutes", c.block_minutes),
                );
                r.details = Some(json!({"ip": ip.to_string(), "last_path": seen.path}));
                reports.push(r);
                return (Verdict::Block(c.block().as_secs()), 0);
            }
        }
        let is_crawler_in_good_standing = claims_crawler && !rec.is_fake_bot;
        let mut verdict = Verdict::Pass;
        let mut cause = None;
        if limit > 0 && rate > limit {
            verdict = Verdict::Throttle(60);
            cause = Some((format!("rate.ip:{ip}"), "rate", format!("{ip} exceeds {limit} requests a minute")));
        } else if *seen.method == Method::POST
            && seen.path == format!("{}/login", seen.admin_path)
            && c.login_failures_per_ip > 0
            && rec.login_failures.level(now, c.login_window()) >= c.login_failures_per_ip
        {
            // An address already guessing passwords is stopped here, before the password hash and
            // the database: under a flood the sign-in lockout's own counters are not the only line.
            self.count(event::THROTTLED);
            return (Verdict::Throttle(60), 0);
        } else if c.pages_per_minute > 0 && !is_admin && !is_file && !is_crawler_in_good_standing {
            if now.saturating_duration_since(rec.pages_since) >= MINUTE {
                rec.pages.clear();
                rec.pages_since = now;
            }
            if rec.pages.len() <= c.pages_per_minute as usize {
                rec.pages.insert(path_hash(seen.path));
            }
            if rec.pages.len() > c.pages_per_minute as usize {
                self.count(event::SCRAPE);
                let retry = MINUTE.saturating_sub(now.saturating_duration_since(rec.pages_since)).as_secs().max(1);
                verdict = Verdict::Throttle(retry);
                cause = Some((
                    format!("scrape.ip:{ip}"),
                    "rate",
                    format!("{ip} reads more than {} distinct pages a minute", c.pages_per_minute),
                ));
            }
        }
        // A lease for plain page reads only: what it admits changes no other counter (the path is
        // already among the client's pages, a crawler's pace is not watched, no agent is counted).
        // Counted now and sized to a share of the room left, so that up to [`LEASE_SHARERS`]
        // threads leasing for one client leave it room below its limit.
        let lease = if leasing
            && verdict == Verdict::Pass
            && !is_file
            && !is_admin
            && !probe
            && !claims_crawler
            && matches!(*seen.method, Method::GET | Method::HEAD)
            && c.agent_requests_per_minute == 0
        {
            if limit == 0 { LEASE_MOST } else { (limit.saturating_sub(rate) / LEASE_SHARERS).min(LEASE_MOST) }
        } else {
            0
        };
        if lease > 0 {
            rec.requests.add(now, MINUTE, lease);
        }
        if verdict == Verdict::Pass && c.agent_requests_per_minute > 0 && !seen.user_agent.is_empty() {
            let agent: String = seen.user_agent.chars().take(200).collect();
            if !t.agents.contains_key(&agent) {
                make_room(&mut t.agents, c.max_tracked, |(seen, _)| *seen);
            }
            let (agent_seen, window) = t.agents.entry(agent).or_insert_with(|| (now, Window::new(now)));
            *agent_seen = now;
            if window.hit(now, MINUTE) > c.agent_requests_per_minute {
                verdict = Verdict::Throttle(60);
                let key = blake3::hash(seen.user_agent.as_bytes()).to_hex();
                cause = Some((
                    format!("rate.agent:{}", &key[..16]),
                    "rate",
                    format!("one user agent exceeds {} requests a minute", c.agent_requests_per_minute),
                ));
            }
        }
        if let Some((cause, category, summary)) = cause {
            self.count(event::THROTTLED);
            if should_raise(&mut t.raised, &cause, now, MINUTE * 10, c.max_tracked) {
                let mut r = report(cause, category, Severity::Warning, summary);
                r.details = Some(json!({"ip": ip.to_string(), "user_agent": seen.user_agent}));
                reports.push(r);
            }
        }
        (verdict, lease)
    }

    /// Counts a 404 answered to `ip`; a flood blocks the address. Returns the incident to raise.
    pub fn not_found(&self, ip: IpAddr, now: Instant) -> Option<IncidentReport> {
        let c = &self.config;
        if c.not_found_per_minute == 0 {
            return None;
        }
        let mut t = lock(&self.tables);
        let rec = t.ips.get_mut(&ip)?;
        if rec.blocked_until.is_some_and(|u| u > now) || rec.not_found.hit(now, MINUTE) < c.not_found_per_minute {
            return None;
        }
        rec.blocked_until = Some(now + c.block());
        self.blocks.fetch_add(1, Ordering::Release);
        self.count(event::BLOCKED);
        Some(report(
            format!("probe.ip:{ip}"),
            "probe",
            Severity::Warning,
            format!("{ip} asked for {} missing pages within a minute and is blocked", c.not_found_per_minute),
        ))
    }

    /// A failed staff sign-in (refused or throttled by `baspa_actions::auth`). Detection only: the
    /// lockouts themselves stay in the sign-in action. Returns the incidents to raise.
    pub fn sign_in_failed(
        &self,
        ip: Option<IpAddr>,
        account: &str,
        was_throttled: bool,
        now: Instant,
    ) -> Vec<IncidentReport> {
        let c = &self.config;
        let window = c.login_window();
        self.count(event::LOGIN_FAILED);
        if was_throttled {
            self.count(event::THROTTLED);
        }
        let account: String = account.trim().to_lowercase().chars().take(190).collect();
        let mut reports = Vec::new();
        let mut guard = lock(&self.tables);
        let t = &mut *guard;
        if let Some(ip) = ip {
            if !t.ips.contains_key(&ip) {
                make_room(&mut t.ips, c.max_tracked, IpRecord::freshness);
            }
            let rec = t.ips.entry(ip).or_insert_with(|| IpRecord::new(now));
            let failures = rec.login_failures.hit(now, window);
            let cause = format!("login.bruteforce.ip:{ip}");
            if c.login_failures_per_ip > 0
                && failures >= c.login_failures_per_ip
                && should_raise(&mut t.raised, &cause, now, window, c.max_tracked)
            {
                reports.push(report(
                    cause,
                    "login",
                    Severity::Critical,
                    format!("{failures} failed staff sign-ins from {ip}"),
                ));
            }
        }
        if !t.accounts.contains_key(&account) {
            make_room(&mut t.accounts, c.max_tracked, |(seen, _)| *seen);
        }
        let (seen, failures) = t.accounts.entry(account.clone()).or_insert_with(|| (now, Window::new(now)));
        *seen = now;
        let failures = failures.hit(now, window);
        let cause = format!("login.bruteforce.account:{account}");
        if c.login_failures_per_account > 0
            && failures >= c.login_failures_per_account
            && should_raise(&mut t.raised, &cause, now, window, c.max_tracked)
        {
            reports.push(report(
                cause,
                "login",
                Severity::Critical,
                format!("{failures} failed sign-ins to the account {account}"),
            ));
        }
        let spread = &mut t.spread;
        if now.saturating_duration_since(spread.start) >= window {
            *spread = Spread { start: now, accounts: HashSet::new(), ips: HashSet::new() };
        }
        if spread.accounts.len() < c.login_distributed_accounts as usize {
            spread.accounts.insert(account);
        }
        if let Some(ip) = ip.filter(|_| spread.ips.len() < c.login_distributed_ips as usize) {
            spread.ips.insert(ip);
        }
        let cause = "login.bruteforce.distributed".to_owned();
        if c.login_distributed_accounts > 0
            && c.login_distributed_ips > 0
            && spread.accounts.len() >= c.login_distributed_accounts as usize
            && spread.ips.len() >= c.login_distributed_ips as usize
            && should_raise(&mut t.raised, &cause, now, window, c.max_tracked)
        {
            reports.push(report(
                cause,
                "login",
                Severity::Critical,
                format!(
                    "failed sign-ins to at least {} accounts from at least {} addresses within {} minutes",
                    c.login_distributed_accounts, c.login_distributed_ips, c.login_window_minutes
                ),
            ));
        }
        reports
    }

    /// Raises an incident off the request path. Raises are serialised so two reports of a new
    /// cause cannot both open an incident.
    pub fn raise(&self, db: &DatabaseConnection, report: IncidentReport) {
        let db = db.clone();
        let raising = self.raising.clone();
        let in_flight = InFlight::enter(&self.in_flight);
        tokio::spawn(async move {
            let _in_flight = in_flight;
            let _turn = raising.lock().await;
            raise_now(&db, report).await;
        });
    }

    /// Waits until every raised incident is written (tests, shutdown); gives up after 30 s.
    pub async fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.in_flight.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Writes the summed event counts to `security_events`; what fails stays for the next flush.
    pub async fn flush_events(&self, db: &DatabaseConnection) -> Result<(), baspa_db::StoreError> {
        let pending: Vec<_> = std::mem::take(&mut *lock(&self.events)).into_iter().collect();
        let mut result = Ok(());
        let mut unwritten = Vec::new();
        for ((hour, kind), n) in pending {
            if result.is_ok() {
                result = baspa_db::security::add_events(db, hour, kind, n).await;
                if result.is_ok() {
                    continue;
                }
            }
            unwritten.push(((hour, kind), n));
        }
        let mut events = lock(&self.events);
        for (key, n) in unwritten {
            *events.entry(key).or_default() += n;
        }
        result
    }

    /// Forgets addresses, agents and accounts not seen for a while (the server's tick).
    pub fn prune(&self, now: Instant) {
        let keep = self.config.block().max(self.config.login_window()).max(MINUTE * 2);
        let fresh = |t: Instant| now.saturating_duration_since(t) < keep;
        let mut t = lock(&self.tables);
        t.ips.retain(|_, r| fresh(r.freshness()));
        t.agents.retain(|_, (seen, _)| fresh(*seen));
        t.accounts.retain(|_, (seen, _)| fresh(*seen));
        t.raised.retain(|_, at| fresh(*at));
    }

    /// Starts the journal scan at the journal's head, so a restart does not report old history.
    pub async fn skip_journal_history(&self, db: &DatabaseConnection) -> Result<(), DbErr> {
        let head = journal::head(db).await?;
        *self.journal_cursor.lock().await = Some(head.map_or(0, |(id, _, _)| id));
        Ok(())
    }

    /// Reads journal entries written since the last scan (all of them on the first scan unless
    /// `skip_journal_history` ran) and raises incidents for unusual staff actions. Returns how
    /// many entries were read.
    pub async fn scan_journal(&self, db: &DatabaseConnection) -> Result<usize, DbErr> {
        const PAGE: u64 = 500;
        const MOST: usize = 20_000;
        let mut cursor = self.journal_cursor.lock().await;
        let from = cursor.unwrap_or(0);
        let mut entries = Vec::new();
        let mut before = None;
        'pages: loop {
            let page = journal::search(db, &JournalFilter::default(), before, PAGE).await?;
            let is_last = (page.len() as u64) < PAGE;
            for e in page {
                if e.id <= from {
                    break 'pages;
                }
                before = Some(e.id);
                entries.push(e);
            }
            if is_last || entries.len() >= MOST {
                break;
            }
        }
        entries.reverse();
        if let Some(last) = entries.last() {
            *cursor = Some(last.id);
        }
        for e in &entries {
            for r in self.inspect(db, e).await? {
                self.count(event::STAFF);
                let _turn = self.raising.lock().await;
                raise_now(db, r).await;
            }
        }
        Ok(entries.len())
    }

    async fn inspect(
        &self,
        db: &DatabaseConnection,
        e: &baspa_db::entity::journal_entry::Model,
    ) -> Result<Vec<IncidentReport>, DbErr> {
        let c = &self.config;
        let who = e.actor_id.map_or_else(|| e.actor_label.clone(), |id| id.to_string());
        let mut out = Vec::new();
        match e.action.as_str() {
            "item.trash" if c.mass_trash_count > 0 => {
                let Some(user) = e.actor_id else { return Ok(out) };
                let window = chrono::Duration::minutes(i64::from(c.mass_trash_minutes));
                let mut t = lock(&self.tables);
                let times = t.trash.entry(user).or_default();
                times.push_back(e.at);
                while times.front().is_some_and(|first| e.at - *first > window) {
                    times.pop_front();
                }
                if times.len() >= c.mass_trash_count as usize {
                    // Start counting afresh: the next batch is one more occurrence, not one per item.
                    times.clear();
                    let mut r = report(
                        format!("staff.mass_trash:{who}"),
                        "staff",
                        Severity::Critical,
                        format!(
                            "{} moved {} items to the trash within {} minutes",
                            e.actor_label, c.mass_trash_count, c.mass_trash_minutes
                        ),
                    );
                    r.details = Some(json!({"journal_id": e.id, "actor": e.actor_label, "ip": e.ip}));
                    out.push(r);
                }
            }
            "grant.create" | "grant.delete" => {
                let mut r = report(
                    format!("staff.rights:{who}"),
                    "staff",
                    Severity::Warning,
                    format!("{} changed access rights ({})", e.actor_label, e.action),
                );
                r.details = Some(json!({"journal_id": e.id, "actor": e.actor_label, "ip": e.ip,
                                        "before": e.before, "after": e.after}));
                out.push(r);
            }
            "session.sign_in" if self.is_night(e.at) => {
                let (Some(user), Some(ip)) = (e.entity_id, e.ip.as_deref().and_then(|i| i.parse::<IpAddr>().ok()))
                else {
                    return Ok(out);
                };
                if !self.is_known_network(db, user, e.id, ip).await? {
                    let mut r = report(
                        format!("staff.night_login:{user}"),
                        "staff",
                        Severity::Critical,
                        format!("{} signed in at night from a new network ({ip})", e.actor_label),
                    );
                    r.details = Some(json!({"journal_id": e.id, "account": e.actor_label, "ip": ip.to_string()}));
                    out.push(r);
                }
            }
            _ => {}
        }
        Ok(out)
    }

    /// Night in Kazakhstan time (UTC+5, no daylight saving since 2024).
    fn is_night(&self, at: Timestamp) -> bool {
        use chrono::Timelike;
        let (start, end) = (self.config.night_start_hour, self.config.night_end_hour);
        let hour = (at + chrono::Duration::hours(5)).hour();
        match start.cmp(&end) {
            std::cmp::Ordering::Equal => false,
            std::cmp::Ordering::Less => (start..end).contains(&hour),
            std::cmp::Ordering::Greater => hour >= start || hour < end,
        }
    }

    /// Whether the account signed in before (journal entries older than `before_id`) from the
    /// same network: /24 for IPv4, /48 for IPv6.
    async fn is_known_network(
        &self,
        db: &DatabaseConnection,
        user: i64,
        before_id: i64,
        ip: IpAddr,
    ) -> Result<bool, DbErr> {
        let filter = JournalFilter {
            action: Some("session.sign_in".to_owned()),
            entity_kind: Some("user".to_owned()),
            entity_id: Some(user),
            ..Default::default()
        };
        let earlier = journal::search(db, &filter, Some(before_id), 2000).await?;
        Ok(earlier
            .iter()
            .filter(|e| e.action == "session.sign_in")
            .any(|e| e.ip.as_deref().and_then(|i| i.parse::<IpAddr>().ok()).is_some_and(|prev| same_network(prev, ip))))
    }
}

fn same_network(a: IpAddr, b: IpAddr) -> bool {
    match (a.to_canonical(), b.to_canonical()) {
        (IpAddr::V4(a), IpAddr::V4(b)) => a.octets()[..3] == b.octets()[..3],
        (IpAddr::V6(a), IpAddr::V6(b)) => a.segments()[..3] == b.segments()[..3],
        _ => false,
    }
}

/// True when `cause` was not raised within `period` (and notes that it is now).
fn should_raise(
    raised: &mut HashMap<String, Instant>,
    cause: &str,
    now: Instant,
    period: Duration,
    cap: usize,
) -> bool {
    if raised.get(cause).is_some_and(|at| now.saturating_duration_since(*at) < period) {
        return false;
    }
    if !raised.contains_key(cause) {
        make_room(raised, cap, |at| *at);
    }
    raised.insert(cause.to_owned(), now);
    true
}

async fn raise_now(db: &DatabaseConnection, report: IncidentReport) {
    let actor = Actor::system("monitor");
    // Under an attack the database is busy with the attack's own writes (SQLite "locked",
    // MySQL deadlocks): retry with growing, jittered pauses, since an incident that is never
    // recorded is never mailed, and nobody waits on this task.
    let mut pause = 20;
    for attempt in 1..=10 {
        match raise_incident(&Ctx::new(db, &actor), report.clone()).await {
            Ok(_) => return,
            Err(e) if attempt == 10 => {
                tracing::warn!(cause = %report.cause, error = %e, "could not record a security incident")
            }
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(pause + rand::random::<u64>() % pause)).await;
                pause = (pause * 2).min(2000);
            }
        }
    }
}

/// Counts a spawned raise until it finishes, even if it panics.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn enter(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        InFlight(counter.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The middleware: decides before the handler, counts 404s after it, and leaves the client's
/// address in the request for the handlers.
pub async fn watch(State(state): State<SiteState>, mut req: Request, next: Next) -> Response {
    let client = match admit(&state, &req) {
        Ok(client) => client,
        Err(refused) => return refused.into_response(),
    };
    req.extensions_mut().insert(client);
    let Some(ip) = client.0 else { return next.run(req).await };
    let monitor = &state.monitor;
    let res = next.run(req).await;
    if res.status() == StatusCode::NOT_FOUND
        && let Some(r) = monitor.not_found(ip, Instant::now())
    {
        monitor.raise(&state.db, r);
    }
    res
}

/// A request the monitor refuses: 429 (throttled) or 403 (blocked), retry after seconds.
pub(crate) struct Refusal(StatusCode, u64);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        refusal(self.0, self.1)
    }
}

/// Counts the request against its client's limits: the client, or the refusal to answer with
/// (throttled or blocked). The page cache's answers pass here too (`cached_answers`).
pub(crate) fn admit(state: &SiteState, req: &Request) -> Result<ClientAddr, Refusal> {
    let client = ClientAddr::from_request(req.extensions(), req.headers(), &state.proxies);
    let Some(ip) = client.0 else { return Ok(client) };
    let monitor = &state.monitor;
    let mut reports = Vec::new();
    let user_agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let seen = Seen { ip, path: req.uri().path(), method: req.method(), user_agent, admin_path: &state.admin.path };
    let verdict = monitor.check_leased(&seen, Instant::now(), &mut reports);
    for r in reports {
        monitor.raise(&state.db, r);
    }
    match verdict {
        Verdict::Pass => Ok(client),
        Verdict::Throttle(retry) => Err(Refusal(StatusCode::TOO_MANY_REQUESTS, retry)),
        Verdict::Block(retry) => Err(Refusal(StatusCode::FORBIDDEN, retry)),
    }
}

/// A generic page: nothing about which rule fired (that would teach the attacker the limits).
fn refusal(status: StatusCode, retry_after: u64) -> Response {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{code}</title></head><body><h1>{code}</h1>\
         <p>Сұраныстар тым көп. Слишком много запросов. Too many requests.</p></body></html>",
        code = status.as_u16()
    );
    let mut res = (status, Html(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen<'a>(ip: &str, path: &'a str, ua: &'a str) -> Seen<'a> {
        Seen { ip: ip.parse().expect("ip"), path, method: &Method::GET, user_agent: ua, admin_path: "/admin" }
    }

    #[test]
    fn sc7_known_probe_paths_are_recognised_and_pages_are_not() {
        for p in [
            "/wp-login.php",
            "/WP-ADMIN/",
            "/xmlrpc.php",
            "/.env",
            "/.git/config",
            "/phpmyadmin/index.php",
            "/db.sql",
            "/site.bak",
            "/config.php",
            "/server-status",
            "/en/wp-admin",
            "/a/../b",
        ] {
            assert!(is_probe(p), "{p}");
        }
        for p in [
            "/",
            "/en/",
            "/kk/sport/football",
            "/.well-known/security.txt",
            "/media/abc.jpg",
            "/wp-administrator-news",
            "/sitemap.xml",
        ] {
            assert!(!is_probe(p), "{p}");
        }
    }

    #[test]
    fn sc7_probes_block_the_address_but_not_others() {
        let m = Monitor::new(MonitorConfig { probes_before_block: 3, ..Default::default() });
        let now = Instant::now();
        let mut reports = Vec::new();
        assert_eq!(m.check(&seen("203.0.113.1", "/.env", ""), now, &mut reports), Verdict::Pass);
        assert_eq!(m.check(&seen("203.0.113.1", "/wp-login.php", ""), now, &mut reports), Verdict::Pass);
        assert!(matches!(m.check(&seen("203.0.113.1", "/x.sql", ""), now, &mut reports), Verdict::Block(_)));
        assert!(matches!(m.check(&seen("203.0.113.1", "/", ""), now, &mut reports), Verdict::Block(_)));
        assert_eq!(m.check(&seen("203.0.113.2", "/admin/login", ""), now, &mut reports), Verdict::Pass);
        assert_eq!(reports.iter().map(|r| r.cause.as_str()).collect::<Vec<_>>(), ["probe.ip:203.0.113.1"]);
        let later = now + Duration::from_secs(16 * 60);
        assert_eq!(m.check(&seen("203.0.113.1", "/", ""), later, &mut reports), Verdict::Pass);
    }

    #[test]
    fn sc7_rate_limit_throttles_and_reports_once() {
        let m = Monitor::new(MonitorConfig { requests_per_minute: 10, ..Default::default() });
        let now = Instant::now();
        let mut reports = Vec::new();
        let verdicts: Vec<Verdict> =
            (0..30).map(|_| m.check(&seen("198.51.100.1", "/", ""), now, &mut reports)).collect();
        assert!(verdicts[..10].iter().all(|v| *v == Verdict::Pass));
        assert!(verdicts[10..].iter().all(|v| *v == Verdict::Throttle(60)));
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].cause, "rate.ip:198.51.100.1");
        // Files are counted apart: a page's images do not eat the page limit.
        assert!((0..30).all(|i| {
            let path = format!("/media/img{i}.webp");
            m.check(&seen("198.51.100.2", &path, ""), now, &mut reports) == Verdict::Pass
        }));
        assert_eq!(m.check(&seen("198.51.100.2", "/", ""), now, &mut reports), Verdict::Pass);
        // Two minutes later the window is empty again.
        assert_eq!(m.check(&seen("198.51.100.1", "/", ""), now + MINUTE * 2, &mut reports), Verdict::Pass);
    }

    #[test]
    fn sc7_scraping_many_distinct_pages_is_throttled_but_a_real_crawler_is_not() {
        let m = Monitor::new(MonitorConfig { pages_per_minute: 5, ..Default::default() });
        let now = Instant::now();
        let mut reports = Vec::new();
        let paths: Vec<String> = (0..8).map(|i| format!("/kk/news-{i}")).collect();
        let scraper: Vec<Verdict> =
            paths.iter().map(|p| m.check(&seen("192.0.2.1", p, "curl"), now, &mut reports)).collect();
        assert_eq!(scraper.iter().filter(|v| **v == Verdict::Pass).count(), 5);
        let bot = "Mozilla/5.0 (compatible; Googlebot/2.1)";
        assert!(paths.iter().all(|p| m.check(&seen("192.0.2.2", p, bot), now, &mut reports) == Verdict::Pass));
        assert_eq!(reports.iter().map(|r| r.cause.as_str()).collect::<Vec<_>>(), ["scrape.ip:192.0.2.1"]);
    }

    fn counted(m: &Monitor, ip: &str) -> u32 {
        lock(&m.tables).ips[&ip.parse::<IpAddr>().expect("ip")].requests.current
    }

    /// What this thread's lease for `ip` counted ahead and has not admitted yet.
    fn lease_left(m: &Monitor, ip: &str) -> u32 {
        let key = (m.id, ip.parse::<IpAddr>().expect("ip"));
        LEASES.with_borrow(|leases| leases.get(&key).map_or(0, |l| l.left))
    }

    #[test]
    fn sc7_leases_are_counted_when_given_and_what_they_leave_is_taken_back() {
        let m = Monitor::new(MonitorConfig { requests_per_minute: 1000, pages_per_minute: 5, ..Default::default() });
        let now = Instant::now();
        let mut reports = Vec::new();
        let ip = "198.51.100.7";
        assert!((0..50).all(|_| m.check_leased(&seen(ip, "/kk/news", ""), now, &mut reports) == Verdict::Pass));
        assert_eq!(counted(&m, ip), 1 + LEASE_MOST, "the first check counts its lease whole");
        assert_eq!(lease_left(&m, ip), LEASE_MOST - 49, "the repeats came from the thread's lease");
        assert_eq!(m.check_leased(&seen(ip, "/kk/other", ""), now, &mut reports), Verdict::Pass);
        assert_eq!(counted(&m, ip) - lease_left(&m, ip), 51, "another page takes back what the lease left");
        // Another agent on the leased page is checked in full and counted too.
        assert_eq!(m.check_leased(&seen(ip, "/kk/other", "curl"), now, &mut reports), Verdict::Pass);
        assert_eq!(counted(&m, ip) - lease_left(&m, ip), 52);
        // A plain check gets no lease, so it counts nothing ahead.
        let plain = "198.51.100.9";
        assert_eq!(m.check(&seen(plain, "/kk/news", ""), now, &mut reports), Verdict::Pass);
        assert_eq!((counted(&m, plain), lease_left(&m, plain)), (1, 0));
        // Distinct pages each get a full check: scraping is still caught.
        let scraped = (0..8)
            .filter(|i| m.check_leased(&seen(ip, &format!("/kk/p{i}"), ""), now, &mut reports) == Verdict::Pass)
            .count();
        assert_eq!(scraped, 3, "5 distinct pages a minute, 2 of them read already");

        // What a lease left is taken back from the span it was counted in, even a minute on.
        let ip = "198.51.100.10";
        assert_eq!(m.check_leased(&seen(ip, "/kk/news", ""), now, &mut reports), Verdict::Pass);
        let later = now + MINUTE + Duration::from_secs(1);
        assert_eq!(m.check_leased(&seen(ip, "/kk/other", ""), later, &mut reports), Verdict::Pass);
        let requests = |m: &Monitor| {
            let t = lock(&m.tables);
            let w = &t.ips[&ip.parse::<IpAddr>().expect("ip")].requests;
            (w.previous, w.current)
        };
        assert_eq!(requests(&m), (1, 1 + LEASE_MOST));

        let tight = Monitor::new(MonitorConfig { requests_per_minute: 100, ..Default::default() });
        let passed =
            (0..300).filter(|_| tight.check_leased(&seen(ip, "/", ""), now, &mut reports) == Verdict::Pass).count();
        assert_eq!(passed, 100);
    }

    #[test]
    fn sc7_threads_leasing_one_client_let_through_exactly_its_limit() {
        // More threads than LEASE_SHARERS: what leases admit is counted when they are given, so
        // the limit holds whatever the number of threads and however they interleave.
        for threads in [2, 4, 12] {
            let m = Monitor::new(MonitorConfig { requests_per_minute: 50, ..Default::default() });
            let now = Instant::now();
            let passed: usize = std::thread::scope(|s| {
                let serving: Vec<_> = (0..threads)
                    .map(|_| {
                        s.spawn(|| {
                            let mut reports = Vec::new();
                            (0..200)
                                .filter(|_| {
                                    m.check_leased(&seen("198.51.100.8", "/", ""), now, &mut reports) == Verdict::Pass
                                })
                                .count()
                        })
                    })
                    .collect();
                serving.into_iter().map(|t| t.join().expect("thread")).sum()
            });
            assert_eq!(passed, 50, "{threads} threads");
        }
    }

    #[test]
    fn sc7_a_block_ends_every_lease_at_once() {
        let m = Monitor::new(MonitorConfig { probes_before_block: 1, not_found_per_minute: 3, ..Default::default() });
        let now = Instant::now();
        let mut reports = Vec::new();
        for ip in ["203.0.113.20", "203.0.113.21"] {
            assert!((0..5).all(|_| m.check_leased(&seen(ip, "/", ""), now, &mut reports) == Verdict::Pass));
        }
        // A probe through another thread blocks the first address…
        std::thread::scope(|s| {
            s.spawn(|| m.check(&seen("203.0.113.20", "/.env", ""), now, &mut Vec::new()));
        });
        assert!(matches!(m.check_leased(&seen("203.0.113.20", "/", ""), now, &mut reports), Verdict::Block(_)));
        // …and a flood of 404s the second.
        assert_eq!(m.check_leased(&seen("203.0.113.21", "/", ""), now, &mut reports), Verdict::Pass);
        let ip = "203.0.113.21".parse().expect("ip");
        assert!((0..3).any(|_| m.not_found(ip, now).is_some()));
        assert!(matches!(m.check_leased(&seen("203.0.113.21", "/", ""), now, &mut reports), Verdict::Block(_)));
    }

    #[test]
    fn sc7_a_crawler_gets_no_lease_so_its_pace_is_watched() {
        let m = Monitor::new(MonitorConfig { crawler_requests_per_minute: 5, ..Default::default() });
        let now = Instant::now();
        let mut reports = Vec::new();
        let bot = "Mozilla/5.0 (compatible; Googlebot/2.1)";
        for _ in 0..10 {
            m.check_leased(&seen("192.0.2.30", "/", bot), now, &mut reports);
        }
        assert_eq!(reports.iter().map(|r| r.cause.as_str()).collect::<Vec<_>>(), ["bot.fake:192.0.2.30"]);
        assert_eq!(counted(&m, "192.0.2.30"), 10);
    }

    #[test]
    fn sc7_fake_crawler_loses_its_leniency() {
        let m = Monitor::new(MonitorConfig { pages_per_minute: 3, ..Default::default() });
        let now = Instant::now();
        let mut reports = Vec::new();
        let bot = "Mozilla/5.0 (compatible; YandexBot/3.0)";
        assert_eq!(m.check(&seen("192.0.2.9", "/admin/login", bot), now, &mut reports), Verdict::Pass);
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].cause, "bot.fake:192.0.2.9");
        let verdicts: Vec<Verdict> =
            (0..5).map(|i| m.check(&seen("192.0.2.9", &format!("/p{i}"), bot), now, &mut reports)).collect();
        assert!(matches!(verdicts[4], Verdict::Throttle(_)), "{verdicts:?}");
    }

    #[test]
    fn sc7_sign_in_failures_raise_one_incident_per_cause() {
        let m = Monitor::new(MonitorConfig {
            login_failures_per_ip: 10,
            login_failures_per_account: 5,
            login_distributed_accounts: 4,
            login_distributed_ips: 4,
            ..Default::default()
        });
        let now = Instant::now();
        let one: IpAddr = "203.0.113.7".parse().expect("ip");
        let mut causes: Vec<String> = (0..40)
            .flat_map(|i| m.sign_in_failed(Some(one), &format!("user{}@x.kz", i % 20), false, now))
            .map(|r| r.cause)
            .collect();
        assert_eq!(causes, ["login.bruteforce.ip:203.0.113.7"]);
        causes = (0..40u8)
            .flat_map(|i| {
                let ip = IpAddr::from([198, 18, 0, i]);
                m.sign_in_failed(Some(ip), "chief@x.kz", i % 2 == 0, now)
            })
            .map(|r| r.cause)
            .collect();
        causes.sort();
        assert_eq!(causes, ["login.bruteforce.account:chief@x.kz", "login.bruteforce.distributed"]);
    }

    #[test]
    fn sc7_tracked_addresses_are_bounded() {
        let m = Monitor::new(MonitorConfig { max_tracked: 100, ..Default::default() });
        let now = Instant::now();
        let mut reports = Vec::new();
        for i in 0..1000u32 {
            m.check(&seen(&IpAddr::from(i.to_be_bytes()).to_string(), "/", ""), now, &mut reports);
        }
        assert!(lock(&m.tables).ips.len() <= 100);
    }

    #[test]
    fn sc7_night_is_kazakhstan_time() {
        let m = Monitor::default();
        let at = |h: u32| chrono::DateTime::from_timestamp(i64::from(h) * 3600, 0).expect("time");
        // 20:00 UTC = 01:00 in Almaty; 10:00 UTC = 15:00.
        assert!(m.is_night(at(20)));
        assert!(m.is_night(at(18)));
        assert!(!m.is_night(at(10)));
        assert!(!m.is_night(at(1)));
        assert!(same_network("10.1.2.3".parse().expect("ip"), "10.1.2.200".parse().expect("ip")));
        assert!(!same_network("10.1.2.3".parse().expect("ip"), "10.1.3.3".parse().expect("ip")));
    }
}
