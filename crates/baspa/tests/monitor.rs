//! Anomaly monitoring under load (SC-7, HD-10, HD-11), on a real server over loopback: sign-in
//! floods from one address and from many are throttled and make exactly one incident per cause,
//! a probe scan and a 404 flood are blocked, and readers at the same time see only 200. The
//! test speaks for many client addresses through `X-Forwarded-For` from a trusted 127.0.0.1
//! proxy. Plus the journal scan for unusual staff actions. Each runs on every backend.

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

use std::collections::BTreeMap;
use std::sync::Arc;

use baspa_actions::{Actor, Ctx};
use baspa_db::entity::incident;
use baspa_domain::{ItemKind, Role, UserId};
use baspa_site::monitor::MonitorConfig;
use baspa_testkit::app::{AppOptions, TestApp, spawn_app_with};
use baspa_testkit::builders::{news_languages, published};
use baspa_testkit::{TestDb, storage_test};
use sea_orm::EntityTrait;

const HOST: &str = "baq.test";
const PASSWORD: &str = "correct horse battery staple";
const EDITOR: &str = "editor@baq.test";

fn options(monitor: MonitorConfig, admin: Option<baspa_site::admin::AdminConfig>) -> AppOptions {
    AppOptions { monitor: Some(monitor), admin, trusted_proxies: vec!["127.0.0.1/32".to_owned()], ..Default::default() }
}

async fn editor(t: &TestDb) -> UserId {
    let system = Actor::system("test");
    baspa_actions::create_user(&Ctx::new(&t.db, &system), EDITOR, "Editor", Role::Editor, PASSWORD)
        .await
        .expect("editor")
}

/// A sign-in attempt from `ip`; returns the status.
async fn attempt(app: &TestApp, ip: &str, email: &str, password: &str) -> u16 {
    app.post_form(HOST, "/admin/login", &[("email", email), ("password", password)], &[("x-forwarded-for", ip)])
        .await
        .status
}

/// Runs `jobs` (address, account) as wrong-password sign-ins over `workers` concurrent tasks.
fn attack(app: &Arc<TestApp>, jobs: Vec<(String, String)>, workers: usize) -> tokio::task::JoinSet<Vec<u16>> {
    let jobs = Arc::new(jobs);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let (app, jobs, next) = (app.clone(), jobs.clone(), next.clone());
        set.spawn(async move {
            let mut statuses = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some((ip, email)) = jobs.get(i) else { break };
                statuses.push(attempt(&app, ip, email, "wrong password").await);
            }
            statuses
        });
    }
    set
}

/// Readers on their own addresses, each reading the home page `reads` times.
fn readers(app: &Arc<TestApp>, count: u8, reads: usize) -> tokio::task::JoinSet<Vec<u16>> {
    let mut set = tokio::task::JoinSet::new();
    for r in 0..count {
        let app = app.clone();
        set.spawn(async move {
            let ip = format!("192.0.2.{}", r + 1);
            let mut statuses = Vec::new();
            for _ in 0..reads {
                statuses.push(app.get_with(HOST, "/", &[("x-forwarded-for", &ip)]).await.status);
            }
            statuses
        });
    }
    set
}

async fn statuses(set: tokio::task::JoinSet<Vec<u16>>) -> Vec<u16> {
    set.join_all().await.into_iter().flatten().collect()
}

/// Every attempt is refused (401) or throttled (429): concurrent failures are counted atomically
/// (`staff_access::count_event`) in write transactions (`begin_write`), so none meets a busy or
/// deadlocked database (503).
fn assert_refused(attack: &[u16]) {
    assert!(attack.iter().all(|s| matches!(s, 401 | 429)), "only refusals: {attack:?}");
}

/// Incidents by cause: (rows, occurrences of the newest).
async fn incidents(app: &TestApp) -> BTreeMap<String, (usize, i64)> {
    app.monitor.settle().await;
    let mut out: BTreeMap<String, (usize, i64)> = BTreeMap::new();
    for row in incident::Entity::find().all(&app.db.db).await.expect("incidents") {
        let entry = out.entry(row.cause).or_default();
        entry.0 += 1;
        entry.1 = row.occurrences;
    }
    out
}

async fn events(app: &TestApp) -> BTreeMap<String, i64> {
    app.monitor.flush_events(&app.db.db).await.expect("flush");
    let since = baspa_domain::time::now() - chrono::Duration::days(1);
    baspa_db::security::event_totals(&app.db.db, since).await.expect("events").into_iter().collect()
}

fn once(causes: &[&str]) -> BTreeMap<String, (usize, i64)> {
    causes.iter().map(|c| ((*c).to_owned(), (1, 1))).collect()
}

fn hundred_accounts(i: usize) -> String {
    format!("user{}@baq.test", i % 100)
}

storage_test!(
    /// SC-7, HD-10, HD-11: 1,000 wrong sign-ins over 100 accounts from ONE address are
    /// throttled (the sign-in lockout, then the monitor's rate limit) and open exactly one
    /// incident per cause; readers meanwhile get 200 and the editor still signs in elsewhere.
    async fn sc7_single_address_sign_in_flood_is_throttled_with_one_incident_per_cause(t: TestDb) {
        news_languages(&t.db).await;
        editor(&t).await;
        let monitor = MonitorConfig { requests_per_minute: 500, ..Default::default() };
        let app = Arc::new(spawn_app_with(t, options(monitor, None)).await);
        let attacker = "203.0.113.66";
        let jobs = (0..1000).map(|i| (attacker.to_owned(), hundred_accounts(i))).collect();
        let (attack, reading) = (attack(&app, jobs, 8), readers(&app, 4, 50));
        let (attack, reading) = (statuses(attack).await, statuses(reading).await);

        assert_eq!(attack.len(), 1000);
        assert_refused(&attack);
        let throttled = attack.iter().filter(|s| **s == 429).count();
        assert!(throttled >= 900, "{throttled} of 1000 throttled");
        assert_eq!(reading.len(), 200);
        assert!(reading.iter().all(|s| *s == 200), "readers: {reading:?}");
        assert_eq!(attempt(&app, "192.0.2.200", EDITOR, PASSWORD).await, 303, "the editor signs in elsewhere");

        assert_eq!(
            incidents(&app).await,
            once(&[&format!("login.bruteforce.ip:{attacker}"), &format!("rate.ip:{attacker}")])
        );
        let events = events(&app).await;
        assert!(events.get("throttled").copied().unwrap_or(0) >= 900, "{events:?}");
        assert!(events.get("login_failed").copied().unwrap_or(0) >= 30, "{events:?}");
        // One alert job per incident, not per attempt.
        let jobs = baspa_db::entity::job::Entity::find().all(&app.db.db).await.expect("jobs");
        assert_eq!(jobs.iter().filter(|j| j.kind == baspa_actions::security::ALERT_JOB).count(), 2);
    }
);

storage_test!(
    /// SC-7, HD-10: the same 1,000 attempts spread over 250 addresses (a botnet) pass no
    /// per-address limit but lock the accounts and open ONE distributed brute-force incident.
    async fn sc7_distributed_sign_in_flood_opens_one_distributed_incident(t: TestDb) {
        news_languages(&t.db).await;
        editor(&t).await;
        // Fewer tries per account keeps the password hashing (the costly part) short.
        let mut admin = baspa_site::admin::AdminConfig::default();
        admin.policy.max_failures_per_account = 1;
        let app = Arc::new(spawn_app_with(t, options(MonitorConfig::default(), Some(admin))).await);
        let jobs = (0..1000).map(|i| (format!("100.64.{}.{}", i % 250 / 100, i % 250), hundred_accounts(i))).collect();
        let (attack, reading) = (attack(&app, jobs, 8), readers(&app, 4, 50));
        let (attack, reading) = (statuses(attack).await, statuses(reading).await);

        assert_refused(&attack);
        let throttled = attack.iter().filter(|s| **s == 429).count();
        assert!(throttled >= 700, "{throttled} of 1000 throttled");
        assert!(reading.iter().all(|s| *s == 200), "readers: {reading:?}");
        assert_eq!(attempt(&app, "192.0.2.200", EDITOR, PASSWORD).await, 303, "the editor signs in");
        assert_eq!(incidents(&app).await, once(&["login.bruteforce.distributed"]));
        // Every refused or throttled attempt counted.
        assert!(events(&app).await.get("login_failed").copied().unwrap_or(0) >= 950);
    }
);

storage_test!(
    /// SC-7, HD-3, HD-10: a scan for known weak spots is blocked (403) from the fifth probe on,
    /// a 404 flood from the 60th miss on; readers and the editor's sign-in on other addresses
    /// are untouched, and each scanner makes one incident.
    async fn sc7_probe_scan_and_404_flood_are_blocked_while_readers_are_served(t: TestDb) {
        news_languages(&t.db).await;
        editor(&t).await;
        let app = Arc::new(spawn_app_with(t, options(MonitorConfig::default(), None)).await);
        let reading = readers(&app, 4, 50);
        let (prober, flooder) = ("198.51.100.23", "198.51.100.24");
        let probes = [
            "/wp-login.php",
            "/wp-admin/",
            "/xmlrpc.php",
            "/.env",
            "/.git/config",
            "/phpmyadmin/",
            "/backup.sql",
            "/site.bak",
            "/config.php",
            "/server-status",
        ];
        let mut scan = Vec::new();
        for path in probes.iter().cycle().take(40) {
            scan.push(app.get_with(HOST, path, &[("x-forwarded-for", prober)]).await.status);
        }
        let mut flood = Vec::new();
        for i in 0..100 {
            let path = format!("/no-such-page-{i}");
            flood.push(app.get_with(HOST, &path, &[("x-forwarded-for", flooder)]).await.status);
        }
        let reading = statuses(reading).await;

        assert!(scan[..4].iter().all(|s| *s == 404), "{scan:?}");
        assert!(scan[4..].iter().all(|s| *s == 403), "{scan:?}");
        assert!(flood[..60].iter().all(|s| *s == 404), "{flood:?}");
        assert!(flood[60..].iter().all(|s| *s == 403), "{flood:?}");
        assert!(reading.iter().all(|s| *s == 200), "readers: {reading:?}");
        let blocked = app.get_with(HOST, "/admin/login", &[("x-forwarded-for", prober)]).await;
        assert_eq!(blocked.status, 403);
        assert!(blocked.header("retry-after").is_some());
        assert!(!blocked.body.contains("probe") && !blocked.body.contains(prober), "nothing about the rule");
        assert_eq!(attempt(&app, "192.0.2.201", EDITOR, PASSWORD).await, 303, "the editor signs in elsewhere");

        assert_eq!(incidents(&app).await, once(&[&format!("probe.ip:{prober}"), &format!("probe.ip:{flooder}")]));
        let events = events(&app).await;
        assert!(events.get("probe").copied().unwrap_or(0) >= 5, "{events:?}");
        assert!(events.get("blocked").copied().unwrap_or(0) >= 36 + 40, "{events:?}");
    }
);

storage_test!(
    /// SC-7: the journal scan turns a burst of trash actions, rights changes and a night
    /// sign-in from a new network into one incident per cause; a second night sign-in from the
    /// same /24 is not news.
    async fn sc7_unusual_staff_actions_are_reported_from_the_journal(t: TestDb) {
        news_languages(&t.db).await;
        let editor_id = editor(&t).await;
        let admin = Actor::user(UserId(9_001), "chief@baq.test", Role::Administrator);
        let ctx = Ctx::new(&t.db, &admin);
        let now = baspa_domain::time::now();
        for n in 0..3 {
            let title = format!("Жаңалық {n}");
            let item = published(&t.db, ItemKind::Article, None, None, &[("kk", &title, "")], now).await.item_id;
            baspa_actions::trash_item(&ctx, item).await.expect("trash");
        }
        let grant = baspa_actions::grant_right(&ctx, editor_id, Role::Editor, None, None).await.expect("grant");
        baspa_actions::revoke_right(&ctx, grant).await.expect("revoke");
        // 20:00 UTC is 01:00 in Almaty.
        let night = chrono::DateTime::parse_from_rfc3339("2026-01-10T20:00:00Z").expect("time").to_utc();
        let policy = baspa_actions::auth::SignInPolicy::default();
        for ip in ["203.0.113.50", "203.0.113.51"] {
            let client = baspa_actions::auth::ClientInfo { ip: Some(ip.to_owned()), user_agent: None };
            baspa_actions::auth::sign_in(&t.db, &policy, EDITOR, PASSWORD, &client, night).await.expect("sign in");
        }

        let app = spawn_app_with(t, options(MonitorConfig { mass_trash_count: 3, ..Default::default() }, None)).await;
        assert!(app.monitor.scan_journal(&app.db.db).await.expect("scan") > 0);
        // The second scan reads only what the first wrote (the incidents' own journal entries).
        assert!(app.monitor.scan_journal(&app.db.db).await.expect("scan again") <= 3);
        assert_eq!(app.monitor.scan_journal(&app.db.db).await.expect("scan once more"), 0);
        let found = incidents(&app).await;
        let expected: BTreeMap<String, (usize, i64)> = [
            ("staff.mass_trash:9001".to_owned(), (1, 1)),
            ("staff.rights:9001".to_owned(), (1, 2)),
            (format!("staff.night_login:{}", editor_id.0), (1, 1)),
        ]
        .into_iter()
        .collect();
        assert_eq!(found, expected);
    }
);
