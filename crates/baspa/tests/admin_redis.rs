//! Staff sessions in Redis (HD-10, `admin.redis_url`): sign-in writes the session to Redis with
//! the session's lifetime as TTL and nothing to the `sessions` table; the sessions page, ending
//! one session, signing out and a password reset all work on Redis; the journal still records
//! each step in the database. A Redis that cannot be reached refuses sign-in with 503.
//!
//! Needs `BASPA_TEST_REDIS_URL` (skipped without it, except under CI). Each test writes under
//! its own key prefix, so parallel tests share one Redis safely.

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

use std::sync::Arc;

use baspa_actions::sessions::{RedisSessions, SessionStore};
use baspa_actions::{Actor, Ctx};
use baspa_db::entity::{journal_entry, session};
use baspa_domain::{Role, UserId};
use baspa_site::admin::AdminConfig;
use baspa_testkit::app::{AppOptions, TestApp, TestResponse, spawn_app_with};
use baspa_testkit::builders::news_languages;
use baspa_testkit::{TestDb, storage_test};
use redis::AsyncCommands;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

const HOST: &str = "baq.test";
const PASSWORD: &str = "correct horse battery staple";

/// The test's view of Redis: the store the app uses and a connection to look inside.
struct Redis {
    store: Arc<RedisSessions>,
    conn: redis::aio::MultiplexedConnection,
}

impl Redis {
    async fn connect() -> Option<Self> {
        let url = baspa_testkit::redis_url()?;
        let store = Arc::new(RedisSessions::new(&url, &baspa_testkit::unique_redis_prefix()).expect("redis url"));
        let client = redis::Client::open(url.as_str()).expect("redis url");
        let conn = client.get_multiplexed_async_connection().await.expect("reach BASPA_TEST_REDIS_URL");
        Some(Self { store, conn })
    }

    fn admin(&self) -> AdminConfig {
        let mut admin = AdminConfig::default();
        admin.policy.sessions = SessionStore::Redis(self.store.clone());
        admin
    }

    /// The stored session behind a cookie value, as JSON.
    async fn session(&self, cookie: &str) -> Option<serde_json::Value> {
        let key = self.store.session_key(&token_hash_of(cookie));
        let raw: Option<String> = self.conn.clone().get(key).await.expect("redis get");
        raw.map(|r| serde_json::from_str(&r).expect("session json"))
    }

    async fn ttl(&self, cookie: &str) -> i64 {
        self.conn.clone().ttl(self.store.session_key(&token_hash_of(cookie))).await.expect("redis ttl")
    }

    async fn user_set(&self, user: UserId) -> Vec<String> {
        self.conn.clone().smembers(self.store.user_key(user)).await.expect("redis smembers")
    }

    /// Removes the test's keys; every key carries the test's own prefix.
    async fn clean(&self) {
        let keys: Vec<String> = self.conn.clone().keys(format!("{}*", self.store.prefix())).await.expect("redis keys");
        if !keys.is_empty() {
            let _: usize = self.conn.clone().del(keys).await.expect("redis del");
        }
    }
}

/// `baspa_staff=<token>` → the hash the store keys the session by.
fn token_hash_of(cookie: &str) -> String {
    let token = cookie.split_once('=').map_or(cookie, |(_, v)| v);
    baspa_actions::auth::token_hash(token)
}

async fn user(t: &TestDb, email: &str, role: Role) -> UserId {
    let system = Actor::system("test");
    baspa_actions::create_user(&Ctx::new(&t.db, &system), email, email, role, PASSWORD).await.expect("user")
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> (TestResponse, Option<String>) {
    let res = app.post_form(HOST, "/admin/login", &[("email", email), ("password", password)], &[]).await;
    let cookie = res.set_cookie("baspa_staff").map(|(pair, _)| pair);
    (res, cookie)
}

/// A signed-in browser: its cookie and its session's CSRF token.
async fn signed_in(app: &TestApp, email: &str) -> (String, String) {
    let (res, cookie) = sign_in(app, email, PASSWORD).await;
    assert_eq!(res.status, 303, "sign-in of {email}: {}", res.body);
    let cookie = cookie.expect("session cookie");
    let page = app.get_with(HOST, "/admin/content/new", &[("cookie", &cookie)]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    (cookie.clone(), page.hidden("_csrf").expect("csrf field"))
}

async fn journal_actions(t: &TestDb, prefix: &str) -> Vec<String> {
    journal_entry::Entity::find()
        .filter(journal_entry::Column::Action.starts_with(prefix))
        .all(&t.db)
        .await
        .expect("journal")
        .into_iter()
        .map(|e| e.action)
        .collect()
}

storage_test!(
    /// HD-10: with Redis configured the session lives in Redis (with a TTL of the session's
    /// lifetime) and not in the table; the sessions page lists it, another session can be ended
    /// by number, signing out deletes the keys, and every step is journalled in the database.
    async fn hd10_redis_sessions_sign_in_list_revoke_sign_out(t: TestDb) {
        let Some(redis) = Redis::connect().await else { return };
        news_languages(&t.db).await;
        let editor = user(&t, "editor@baq.test", Role::Editor).await;
        let app = spawn_app_with(t, AppOptions { admin: Some(redis.admin()), ..Default::default() }).await;

        let (first, csrf) = signed_in(&app, "editor@baq.test").await;
        let stored = redis.session(&first).await.expect("session in redis");
        assert_eq!(stored["user_id"], editor.0);
        assert!(stored["csrf_token"].as_str().is_some_and(|c| c == csrf), "{stored}");
        let ttl = redis.ttl(&first).await;
        let lifetime = AdminConfig::default().policy.session_lifetime.num_seconds();
        assert!(ttl > lifetime - 60 && ttl <= lifetime, "TTL {ttl}s is the session lifetime {lifetime}s");
        assert!(session::Entity::find().all(&app.db.db).await.expect("sessions").is_empty(), "nothing in the table");

        let (second, _) = signed_in(&app, "editor@baq.test").await;
        let second_id = redis.session(&second).await.expect("second session")["id"].as_i64().expect("numeric id");
        assert_eq!(redis.user_set(editor).await.len(), 2);
        let list = app.get_with(HOST, "/admin/sessions", &[("cookie", &first)]).await;
        assert_eq!(list.status, 200, "{}", list.body);
        assert!(list.text().contains(&format!("/admin/sessions/{second_id}/revoke")), "{}", list.body);

        let revoke = app
            .post_form(HOST, &format!("/admin/sessions/{second_id}/revoke"), &[("_csrf", &csrf)], &[("cookie", &first)])
            .await;
        assert_eq!(revoke.status, 303, "{}", revoke.body);
        assert!(redis.session(&second).await.is_none(), "the ended session is gone from redis");
        let ended = app.get_with(HOST, "/admin/content", &[("cookie", &second)]).await;
        assert_eq!((ended.status, ended.header("location")), (303, Some("/admin/login")));
        assert_eq!(app.get_with(HOST, "/admin/content", &[("cookie", &first)]).await.status, 200);

        let out = app.post_form(HOST, "/admin/logout", &[("_csrf", &csrf)], &[("cookie", &first)]).await;
        assert_eq!(out.status, 303, "{}", out.body);
        assert!(redis.session(&first).await.is_none(), "signing out deletes the session");
        assert!(redis.user_set(editor).await.is_empty());
        assert_eq!(app.get_with(HOST, "/admin/content", &[("cookie", &first)]).await.status, 303);
        assert_eq!(
            sorted(journal_actions(&app.db, "session.").await),
            // Ending one's own other session counts as signing out, as with the table.
            ["session.sign_in", "session.sign_in", "session.sign_out", "session.sign_out"]
        );
        redis.clean().await;
    }
);

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

storage_test!(
    /// HD-10: the two-step sign-in on Redis: the authenticator secret waits in the Redis session,
    /// the code completes it, and saving the session never drops or extends its TTL.
    async fn hd10_redis_two_step_sign_in(t: TestDb) {
        let Some(redis) = Redis::connect().await else { return };
        news_languages(&t.db).await;
        user(&t, "chief@baq.test", Role::ChiefEditor).await;
        let app = spawn_app_with(t, AppOptions { admin: Some(redis.admin()), ..Default::default() }).await;
        let (res, cookie) = sign_in(&app, "chief@baq.test", PASSWORD).await;
        assert_eq!(res.header("location"), Some("/admin/enrol"));
        let cookie = cookie.expect("cookie");
        assert_eq!(redis.session(&cookie).await.expect("session")["second_factor_done"], false);
        let enrol = app.get_with(HOST, "/admin/enrol", &[("cookie", &cookie)]).await;
        assert_eq!(enrol.status, 200, "{}", enrol.body);
        let stored = redis.session(&cookie).await.expect("session");
        let secret = stored["pending_totp_secret"].as_str().expect("pending secret in redis").to_owned();
        let lifetime = AdminConfig::default().policy.session_lifetime.num_seconds();
        let ttl = redis.ttl(&cookie).await;
        assert!(ttl > lifetime - 60 && ttl <= lifetime, "TTL kept on save: {ttl}");
        let code = |offset: i64| {
            let raw = baspa_actions::totp::base32_decode(&secret).expect("base32");
            let step = baspa_domain::time::now().timestamp() / baspa_actions::totp::STEP_SECONDS + offset;
            format!("{:06}", baspa_actions::totp::code_at_step(&raw, step).expect("code"))
        };
        let csrf = enrol.hidden("_csrf").expect("csrf");
        let done =
            app.post_form(HOST, "/admin/enrol", &[("_csrf", &csrf), ("code", &code(0))], &[("cookie", &cookie)]).await;
        assert_eq!((done.status, done.header("location")), (303, Some("/admin/")), "{}", done.body);
        let stored = redis.session(&cookie).await.expect("session");
        assert_eq!(
            (stored["second_factor_done"].clone(), stored["pending_totp_secret"].clone()),
            (true.into(), None::<String>.into())
        );
        assert_eq!(app.get_with(HOST, "/admin/content", &[("cookie", &cookie)]).await.status, 200);

        let (again, second) = sign_in(&app, "chief@baq.test", PASSWORD).await;
        assert_eq!(again.header("location"), Some("/admin/code"));
        let second = second.expect("cookie");
        let page = app.get_with(HOST, "/admin/code", &[("cookie", &second)]).await;
        let csrf = page.hidden("_csrf").expect("csrf");
        let ok =
            app.post_form(HOST, "/admin/code", &[("_csrf", &csrf), ("code", &code(1))], &[("cookie", &second)]).await;
        assert_eq!((ok.status, ok.header("location")), (303, Some("/admin/")), "{}", ok.body);
        assert_eq!(redis.session(&second).await.expect("session")["second_factor_done"], true);
        assert_eq!(app.get_with(HOST, "/admin/content", &[("cookie", &second)]).await.status, 200);
        redis.clean().await;
    }
);

storage_test!(
    /// HD-10: a password reset ends every Redis session of the account, and so does switching
    /// the account off.
    async fn hd10_redis_password_reset_and_switch_off_end_sessions(t: TestDb) {
        let Some(redis) = Redis::connect().await else { return };
        news_languages(&t.db).await;
        let editor = user(&t, "editor@baq.test", Role::Editor).await;
        user(&t, "admin@baq.test", Role::Administrator).await;
        let app = spawn_app_with(t, AppOptions { admin: Some(redis.admin()), ..Default::default() }).await;

        let (one, _) = signed_in(&app, "editor@baq.test").await;
        let (two, _) = signed_in(&app, "editor@baq.test").await;
        assert!(redis.session(&one).await.is_some() && redis.session(&two).await.is_some());
        let client = baspa_actions::auth::ClientInfo::default();
        let (_, token) = baspa_actions::auth::request_password_reset(
            &app.db.db,
            "editor@baq.test",
            &client,
            baspa_domain::time::now(),
        )
        .await
        .expect("reset request")
        .expect("known address");
        let new_password = "a new and long passphrase";
        let done = app.post_form(HOST, "/admin/reset", &[("token", &token), ("password", new_password)], &[]).await;
        assert_eq!(done.status, 200, "{}", done.body);
        assert!(redis.session(&one).await.is_none() && redis.session(&two).await.is_none(), "both sessions ended");
        assert!(redis.user_set(editor).await.is_empty());
        assert_eq!(app.get_with(HOST, "/admin/content", &[("cookie", &one)]).await.status, 303);
        let reset = journal_entry::Entity::find()
            .filter(journal_entry::Column::Action.eq("user.password_reset"))
            .one(&app.db.db)
            .await
            .expect("journal")
            .expect("reset journalled");
        assert_eq!(reset.after.expect("after")["sessions_ended"], 2);

        // Switching the account off ends the session it opened with the new password.
        let (_, three) = sign_in(&app, "editor@baq.test", new_password).await;
        let three = three.expect("signed in again");
        assert!(redis.session(&three).await.is_some());
        let admin = Actor::system("test");
        baspa_actions::update_account(
            &Ctx::new(&app.db.db, &admin),
            &SessionStore::Redis(redis.store.clone()),
            editor,
            Role::Editor,
            false,
        )
        .await
        .expect("switch off");
        assert!(redis.session(&three).await.is_none(), "switching off ends the session");
        redis.clean().await;
    }
);

storage_test!(
    /// HD-10: Redis out of reach refuses sign-in with 503 and a clear message, nothing panics,
    /// and no session is left in the table instead.
    async fn hd10_redis_down_refuses_sign_in(t: TestDb) {
        news_languages(&t.db).await;
        user(&t, "editor@baq.test", Role::Editor).await;
        // Port 1 on the loopback: nothing listens there, so connecting fails at once.
        let store = RedisSessions::new("redis://127.0.0.1:1/", &baspa_testkit::unique_redis_prefix()).expect("url");
        let mut admin = AdminConfig::default();
        admin.policy.sessions = SessionStore::Redis(Arc::new(store));
        let app = spawn_app_with(t, AppOptions { admin: Some(admin), ..Default::default() }).await;
        for _ in 0..2 {
            let (res, cookie) = sign_in(&app, "editor@baq.test", PASSWORD).await;
            assert_eq!(res.status, 503, "{}", res.body);
            assert!(res.text().contains("unavailable") || res.text().contains("қолжетімсіз"), "{}", res.body);
            assert!(cookie.is_none(), "no cookie without a session");
        }
        assert!(session::Entity::find().all(&app.db.db).await.expect("sessions").is_empty());
        let public = app.get(HOST, "/admin/login").await;
        assert_eq!(public.status, 200, "the sign-in page itself still shows");
        let cookie = format!("baspa_staff={}", "ab".repeat(32));
        let guarded = app.get_with(HOST, "/admin/content", &[("cookie", &cookie)]).await;
        assert_eq!(guarded.status, 503, "a session cookie cannot be checked: unavailable, not signed out");
        assert!(guarded.body.contains("sessions unavailable"), "{}", guarded.body);
    }
);
