//! The staff admin over HTTP on a real server (issue 4): sign-in with cookie flags, CSRF,
//! throttling, two-step sign-in, the review workflow through the admin forms, refusals as 403,
//! revisions with diff and restore. Each runs on SQLite, PostgreSQL and MySQL/MariaDB.

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

use baspa_actions::{Actor, Ctx};
use baspa_db::content as store;
use baspa_domain::{ItemId, ItemKind, Role, UserId};
use baspa_testkit::app::{TestApp, TestResponse, spawn_app};
use baspa_testkit::builders::{lang, news_languages, published};
use baspa_testkit::staff::{PASSWORD, StaffSession, staff_user};
use baspa_testkit::{TestDb, storage_test};
use sea_orm::EntityTrait;

const HOST: &str = "baq.test";

async fn user(t: &TestDb, email: &str, role: Role) -> UserId {
    staff_user(t, email, role).await
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> (TestResponse, Option<String>) {
    let res = app.post_form(HOST, "/admin/login", &[("email", email), ("password", password)], &[]).await;
    let cookie = res.set_cookie("baspa_staff").map(|(pair, _)| pair);
    (res, cookie)
}

async fn session(app: &TestApp, email: &str) -> StaffSession {
    StaffSession::sign_in(app, HOST, email).await
}

fn location(res: &TestResponse) -> String {
    res.header("location").expect("location").to_owned()
}

/// The number in `/admin/translation/{n}/…`.
fn translation_id(location: &str) -> i64 {
    location.split('/').nth(3).and_then(|n| n.parse().ok()).expect("translation id in location")
}

async fn sections(t: &TestDb) -> (ItemId, ItemId) {
    let now = baspa_domain::time::now();
    let sport = published(&t.db, ItemKind::Section, None, None, &[("kk", "Спорт", "")], now).await.item_id;
    let politics = published(&t.db, ItemKind::Section, None, None, &[("kk", "Саясат", "")], now).await.item_id;
    (sport, politics)
}

storage_test!(
    /// HD-5, HD-10: the session cookie is HttpOnly + SameSite and the admin is closed without it;
    /// a state change without the session's CSRF token, or from another origin, is refused.
    async fn hd5_hd10_sign_in_cookie_flags_and_csrf(t: TestDb) {
        news_languages(&t.db).await;
        user(&t, "editor@baq.test", Role::Editor).await;
        let app = spawn_app(t).await;
        let anonymous = app.get(HOST, "/admin/content").await;
        assert_eq!((anonymous.status, location(&anonymous).as_str()), (303, "/admin/login"));
        let (res, _) = sign_in(&app, "editor@baq.test", PASSWORD).await;
        let (_, line) = res.set_cookie("baspa_staff").expect("cookie");
        for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(line.contains(flag), "{line} lacks {flag}");
        }
        assert!(!line.contains("Secure"), "no Secure flag without HTTPS, or the browser drops it");
        let s = session(&app, "editor@baq.test").await;
        let form = [("kind", "article"), ("lang", "kk"), ("title", "CSRF сынағы"), ("body", "<p>x</p>")];
        let no_token = app.post_form(HOST, "/admin/content/new", &form, &[("cookie", &s.cookie)]).await;
        assert_eq!(no_token.status, 403);
        let mut wrong = vec![("_csrf", "0".repeat(64))];
        wrong.extend(form.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let wrong: Vec<(&str, &str)> = wrong.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(app.post_form(HOST, "/admin/content/new", &wrong, &[("cookie", &s.cookie)]).await.status, 403);
        let mut with_token = vec![("_csrf", s.csrf.as_str())];
        with_token.extend_from_slice(&form);
        let cross = app
            .post_form(
                HOST,
                "/admin/content/new",
                &with_token,
                &[("cookie", &s.cookie), ("origin", "https://evil.example")],
            )
            .await;
        assert_eq!(cross.status, 403, "another origin is refused even with the token");
        let ok = s.post(&app, "/admin/content/new", &form).await;
        assert_eq!(ok.status, 303, "{}", ok.body);
        assert!(app.db.db.ping().await.is_ok());
        let admin_list = s.get(&app, "/admin/content").await;
        assert!(admin_list.body.contains("CSRF сынағы"));
        assert_eq!(admin_list.header("cache-control"), Some("no-store"));
    }
);

storage_test!(
    /// HD-10, HD-7: five wrong passwords lock the account (even the right password then waits);
    /// an unknown address gets exactly the same answer as a known one.
    async fn hd10_lockout_and_no_account_enumeration(t: TestDb) {
        news_languages(&t.db).await;
        user(&t, "author@baq.test", Role::Author).await;
        let app = spawn_app(t).await;
        let (known, _) = sign_in(&app, "author@baq.test", "wrong password 1").await;
        let (unknown, _) = sign_in(&app, "nobody@baq.test", "wrong password 1").await;
        assert_eq!(known.status, 401);
        assert_eq!(unknown.status, 401);
        let message = |r: &TestResponse| {
            r.body.split("role=\"alert\">").nth(1).map(|s| s.split('<').next().unwrap_or("").to_owned())
        };
        assert_eq!(message(&known), message(&unknown));
        for n in 2..=5 {
            let (res, _) = sign_in(&app, "author@baq.test", &format!("wrong password {n}")).await;
            assert_eq!(res.status, if n < 5 { 401 } else { 429 }, "attempt {n}");
        }
        let (locked, cookie) = sign_in(&app, "author@baq.test", PASSWORD).await;
        assert_eq!(locked.status, 429);
        assert!(cookie.is_none());
    }
);

storage_test!(
    /// SC-1 through the admin: an author writes and submits; an editor for another section is
    /// refused (403, nothing changes); the section's editor publishes and the story is public.
    async fn sc1_author_submits_section_editor_approves(t: TestDb) {
        news_languages(&t.db).await;
        let (sport, politics) = sections(&t).await;
        user(&t, "author@baq.test", Role::Author).await;
        let sport_editor = user(&t, "sport@baq.test", Role::Editor).await;
        let politics_editor = user(&t, "politics@baq.test", Role::Editor).await;
        let system = Actor::system("test");
        let ctx = Ctx::new(&t.db, &system);
        baspa_actions::grant_right(&ctx, sport_editor, Role::Editor, Some(sport), None).await.expect("grant");
        baspa_actions::grant_right(&ctx, politics_editor, Role::Editor, Some(politics), None).await.expect("grant");
        let app = spawn_app(t).await;

        let author = session(&app, "author@baq.test").await;
        let sport_id = sport.0.to_string();
        let created = author
            .post(&app, "/admin/content/new", &[
                ("kind", "article"), ("section_id", &sport_id), ("lang", "kk"),
                ("title", "Футболдан әлем чемпионаты"),
                ("body", "<p style=\"mso-list:l0\">Ойын <b>кеше</b> өтті</p><script>alert(1)</script><img src=x onerror=alert(1)><a href=\"javascript:alert(1)\">сілтеме</a>"),
            ])
            .await;
        assert_eq!(created.status, 303, "{}", created.body);
        let tid = translation_id(&location(&created));
        let row = store::get_translation(&app.db.db, baspa_domain::TranslationId(tid)).await.expect("row");
        for bad in ["<script", "onerror", "javascript:", "mso-"] {
            assert!(!row.body.contains(bad), "sanitised on save: {}", row.body);
        }
        let publish_by_author = author.post(&app, &format!("/admin/translation/{tid}/publish"), &[]).await;
        assert_eq!(publish_by_author.status, 403);
        assert_eq!(author.post(&app, &format!("/admin/translation/{tid}/submit"), &[]).await.status, 303);

        let politics = session(&app, "politics@baq.test").await;
        let refused = politics.post(&app, &format!("/admin/translation/{tid}/publish"), &[]).await;
        assert_eq!(refused.status, 403, "an editor of another section may not approve");
        assert_eq!(
            store::get_translation(&app.db.db, baspa_domain::TranslationId(tid)).await.expect("row").status,
            "in_review"
        );

        let sport = session(&app, "sport@baq.test").await;
        let queue = sport.get(&app, "/admin/").await;
        assert!(queue.body.contains("Футболдан әлем чемпионаты"), "the review queue shows the story: {}", queue.body);
        let approved = sport.post(&app, &format!("/admin/translation/{tid}/publish"), &[]).await;
        assert_eq!(approved.status, 303, "{}", approved.body);
        let row = store::get_translation(&app.db.db, baspa_domain::TranslationId(tid)).await.expect("row");
        assert_eq!(row.status, "published");
        let mut public = app.get(HOST, &format!("/{}", row.slug)).await;
        if public.status == 301 {
            public = app.get(HOST, &location(&public)).await; // to the canonical URL in its section
        }
        assert_eq!(public.status, 200);
        assert!(
            public.body.contains("<b>кеше</b>") || public.body.contains("<strong>кеше</strong>"),
            "{}",
            public.body
        );
    }
);

storage_test!(
    /// HD-10: a role that must use a second factor sets it up at first sign-in, then needs a
    /// code each time; a wrong or replayed code is refused.
    async fn hd10_two_step_sign_in(t: TestDb) {
        news_languages(&t.db).await;
        user(&t, "chief@baq.test", Role::ChiefEditor).await;
        let app = spawn_app(t).await;
        let (res, cookie) = sign_in(&app, "chief@baq.test", PASSWORD).await;
        assert_eq!(location(&res), "/admin/enrol");
        let cookie = cookie.expect("cookie");
        let blocked = app.get_with(HOST, "/admin/content", &[("cookie", &cookie)]).await;
        assert_eq!(location(&blocked), "/admin/enrol", "nothing else until the second factor is set up");
        let enrol = app.get_with(HOST, "/admin/enrol", &[("cookie", &cookie)]).await;
        let secret = enrol
            .body
            .split("id=\"totp-secret\">")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .expect("secret")
            .to_owned();
        let csrf = enrol.hidden("_csrf").expect("csrf");
        let code_now = |offset_steps: i64| {
            let raw = baspa_actions::totp::base32_decode(&secret).expect("base32");
            let step = baspa_domain::time::now().timestamp() / baspa_actions::totp::STEP_SECONDS + offset_steps;
            format!("{:06}", baspa_actions::totp::code_at_step(&raw, step).expect("code"))
        };
        let first = code_now(0);
        let done =
            app.post_form(HOST, "/admin/enrol", &[("_csrf", &csrf), ("code", &first)], &[("cookie", &cookie)]).await;
        assert_eq!((done.status, location(&done).as_str()), (303, "/admin/"));
        assert_eq!(app.get_with(HOST, "/admin/content", &[("cookie", &cookie)]).await.status, 200);

        let (again, cookie2) = sign_in(&app, "chief@baq.test", PASSWORD).await;
        assert_eq!(location(&again), "/admin/code");
        let cookie2 = cookie2.expect("cookie");
        let page = app.get_with(HOST, "/admin/code", &[("cookie", &cookie2)]).await;
        let csrf2 = page.hidden("_csrf").expect("csrf");
        let post_code = |code: String| {
            let (app, cookie2, csrf2) = (&app, cookie2.clone(), csrf2.clone());
            async move {
                app.post_form(HOST, "/admin/code", &[("_csrf", &csrf2), ("code", &code)], &[("cookie", &cookie2)]).await
            }
        };
        assert_eq!(post_code("000000".into()).await.status, 401);
        assert_eq!(post_code(first.clone()).await.status, 401, "a used code cannot be replayed");
        let next = code_now(1);
        let ok = post_code(next).await;
        assert_eq!(ok.status, 303, "{}", ok.body);
        assert_eq!(app.get_with(HOST, "/admin/content", &[("cookie", &cookie2)]).await.status, 200);
    }
);

storage_test!(
    /// CM-10, SC-2: every save is a revision with its author; the diff shows the changed words
    /// side by side; restoring an old revision makes a new one with the old text.
    async fn cm10_revisions_diff_and_restore(t: TestDb) {
        news_languages(&t.db).await;
        user(&t, "editor@baq.test", Role::Editor).await;
        let app = spawn_app(t).await;
        let s = session(&app, "editor@baq.test").await;
        let created = s
            .post(
                &app,
                "/admin/content/new",
                &[
                    ("kind", "article"),
                    ("lang", "kk"),
                    ("title", "Бюджет"),
                    ("body", "<p>Бюджет 100 миллиард теңге.</p>"),
                ],
            )
            .await;
        let tid = translation_id(&location(&created));
        let edit = format!("/admin/translation/{tid}/edit");
        let saved = s
            .post(
                &app,
                &edit,
                &[
                    ("lang", "kk"),
                    ("title", "Бюджет"),
                    ("body", "<p>Бюджет 120 миллиард теңге.</p>"),
                    ("note", "сан түзетілді"),
                ],
            )
            .await;
        assert_eq!(saved.status, 303, "{}", saved.body);
        let revs = store::revisions_of(&app.db.db, baspa_domain::TranslationId(tid)).await.expect("revisions");
        assert_eq!(revs.len(), 2);
        assert!(revs.iter().all(|r| r.author_id.is_some()), "authorship recorded (SC-2)");
        let list = s.get(&app, &format!("/admin/translation/{tid}/revisions")).await;
        assert!(list.body.contains("сан түзетілді"));
        let diff = s.get(&app, &format!("/admin/translation/{tid}/diff?from={}&to={}", revs[0].id, revs[1].id)).await;
        assert_eq!(diff.status, 200);
        assert!(diff.body.contains("<del>100</del>") && diff.body.contains("<ins>120</ins>"), "{}", diff.body);
        let first = revs[0].id.to_string();
        let restored = s.post(&app, &format!("/admin/translation/{tid}/restore"), &[("revision", &first)]).await;
        assert_eq!(restored.status, 303, "{}", restored.body);
        let revs = store::revisions_of(&app.db.db, baspa_domain::TranslationId(tid)).await.expect("revisions");
        assert_eq!(revs.len(), 3, "restoring adds a revision, history is kept");
        assert!(revs[2].body.contains("100 миллиард"));
        let row = store::get_translation(&app.db.db, baspa_domain::TranslationId(tid)).await.expect("row");
        assert!(row.body.contains("100 миллиард"), "a draft shows the restored text at once");
    }
);

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]))
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

fn media_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().to_string()).collect())
        .unwrap_or_default()
}

storage_test!(
    /// CM-8, SC-3, HD-7: bad uploads are refused with a clear reason and leave nothing behind;
    /// a good image is stored under an unguessable name, with alt text per language, and its
    /// responsive variants are made by a job.
    async fn cm8_sc3_uploads_are_checked_and_nothing_is_half_stored(t: TestDb) {
        news_languages(&t.db).await;
        user(&t, "editor@baq.test", Role::Editor).await;
        let app = spawn_app(t).await;
        let s = session(&app, "editor@baq.test").await;
        let path = format!("/admin/media?_csrf={}", s.csrf);
        let cookie = [("cookie", s.cookie.as_str())];
        let mut exe = b"MZ\x90\x00\x03\x00\x00\x00".to_vec();
        exe.extend(std::iter::repeat_n(0u8, 4096));
        let res = app.post_file(HOST, &path, &[], ("holiday.jpg", exe), &cookie).await;
        assert_eq!(res.status, 422);
        assert!(res.body.contains("Windows program"), "{}", res.body);
        let broken = [&[0xFFu8, 0xD8, 0xFF, 0xE0][..], &[7u8; 512][..]].concat();
        let res = app.post_file(HOST, &path, &[], ("photo.jpg", broken), &cookie).await;
        assert_eq!(res.status, 422);
        let res =
            app.post_file(HOST, &path, &[], ("note.html", b"<html><script>alert(1)</script>".to_vec()), &cookie).await;
        assert_eq!(res.status, 422);
        let no_token = app.post_file(HOST, "/admin/media", &[], ("a.png", png(10, 10)), &cookie).await;
        assert_eq!(no_token.status, 403, "uploads need the CSRF token too");
        assert!(media_files(&app.media_dir).is_empty(), "nothing stored: {:?}", media_files(&app.media_dir));
        let (rows, _) = baspa_db::content::media_page(&app.db.db, None, 10, 0).await.expect("media");
        assert!(rows.is_empty());

        let ok = app
            .post_file(
                HOST,
                &path,
                &[("alt_kk", "Астана көрінісі"), ("alt_ru", "Вид Астаны")],
                ("Астана.png", png(1200, 800)),
                &cookie,
            )
            .await;
        assert_eq!(ok.status, 303, "{}", ok.body);
        let (rows, _) = baspa_db::content::media_page(&app.db.db, None, 10, 0).await.expect("media");
        assert_eq!(rows.len(), 1);
        let m = &rows[0];
        assert_eq!(m.alt["kk"], "Астана көрінісі");
        let stem = m.storage_key.split('.').next().unwrap_or_default();
        assert!(stem.len() == 32 && stem.chars().all(|c| c.is_ascii_hexdigit()), "unguessable name: {}", m.storage_key);
        let runner = baspa_actions::jobs::JobRunner::new("test").with_media_dir(app.media_dir.clone());
        runner.run_due(&app.db.db, baspa_domain::time::now()).await.expect("jobs");
        let variants = baspa_db::content::variants_of(&app.db.db, baspa_domain::MediaId(m.id)).await.expect("variants");
        // PF-5: lossy WebP at each responsive width and at the original size.
        let made: Vec<(&str, i32, &str)> =
            variants.iter().map(|v| (v.label.as_str(), v.width, v.mime.as_str())).collect();
        assert_eq!(
            made,
            vec![("webp-w480", 480, "image/webp"), ("webp-w960", 960, "image/webp"), ("webp-full", 1200, "image/webp")]
        );
        let served = app.get(HOST, &format!("/media/{}", variants[0].storage_key)).await;
        assert_eq!((served.status, served.header("content-type")), (200, Some("image/webp")));
        let library = s.get(&app, "/admin/media").await;
        assert!(library.body.contains("Астана.png"));
    }
);

/// The upload limit holds while streaming: a 200 MB body is refused with the limit named, and
/// nothing is stored. (Not a storage test: no row is involved on any backend.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cm8_a_200_mb_upload_is_refused_with_the_limit_named() {
    let t = TestDb::create(baspa_testkit::Backend::Sqlite).await.expect("sqlite");
    news_languages(&t.db).await;
    user(&t, "editor@baq.test", Role::Editor).await;
    let app = spawn_app(t).await;
    let s = session(&app, "editor@baq.test").await;
    let huge = vec![0xFFu8; 200 * 1024 * 1024];
    let res = app
        .post_file(HOST, &format!("/admin/media?_csrf={}", s.csrf), &[], ("video.jpg", huge), &[("cookie", &s.cookie)])
        .await;
    assert_eq!(res.status, 413);
    assert!(res.body.contains("the limit is 50 MB"), "{}", &res.body[..res.body.len().min(2000)]);
    assert!(media_files(&app.media_dir).is_empty());
}

storage_test!(
    /// HD-10: a password reset by e-mail over real SMTP (aiosmtpd): the same answer for known
    /// and unknown addresses, a one-time link, the old password dead, every session ended.
    async fn hd10_password_reset_by_email(t: TestDb) {
        let Some(smtp) = baspa_testkit::smtp::SmtpSink::start().await else { return };
        news_languages(&t.db).await;
        user(&t, "editor@baq.test", Role::Editor).await;
        let admin = baspa_site::admin::AdminConfig {
            mail: Some(baspa_site::admin::MailConfig { smtp_url: smtp.url(), from: "Baspa <noreply@baq.test>".into() }),
            ..Default::default()
        };
        let app = baspa_testkit::app::spawn_app_with(
            t,
            baspa_testkit::app::AppOptions { admin: Some(admin), ..Default::default() },
        )
        .await;
        let old = session(&app, "editor@baq.test").await;
        let known = app.post_form(HOST, "/admin/forgot", &[("email", "editor@baq.test")], &[]).await;
        let unknown = app.post_form(HOST, "/admin/forgot", &[("email", "nobody@baq.test")], &[]).await;
        assert_eq!((known.status, unknown.status), (200, 200));
        let strip_nonce = |b: &str| b.split("nonce").next().unwrap_or_default().len();
        assert_eq!(strip_nonce(&known.body), strip_nonce(&unknown.body), "no hint whether the address exists");
        let raw = smtp.wait_for("editor@baq.test").await;
        let mail = decode_mail_body(&raw);
        assert!(raw.contains("editor@baq.test"), "{raw}");
        assert!(!smtp.received().contains("nobody@baq.test"));
        let token = mail
            .split("reset?token=")
            .nth(1)
            .map(|s| s.chars().take_while(|c| c.is_ascii_hexdigit()).collect::<String>())
            .expect("token");
        assert_eq!(token.len(), 64);
        let new_password = "a new and long passphrase";
        let done = app.post_form(HOST, "/admin/reset", &[("token", &token), ("password", new_password)], &[]).await;
        assert_eq!(done.status, 200, "{}", done.body);
        assert_eq!(old.get(&app, "/admin/content").await.status, 303, "the old session ended");
        assert_eq!(sign_in(&app, "editor@baq.test", PASSWORD).await.0.status, 401, "the old password is dead");
        assert_eq!(sign_in(&app, "editor@baq.test", new_password).await.0.status, 303);
        let again = app
            .post_form(HOST, "/admin/reset", &[("token", &token), ("password", "yet another passphrase")], &[])
            .await;
        assert_eq!(again.status, 422, "a reset link works once");
    }
);

/// The text of a single-part message as printed by aiosmtpd: base64 or quoted-printable
/// bodies decoded (lettre picks one for Cyrillic text).
fn decode_mail_body(raw: &str) -> String {
    use base64::Engine;
    let body = raw.split("\n\n").skip(1).collect::<Vec<_>>().join("\n");
    let body = body.split("------------ END MESSAGE").next().unwrap_or_default();
    if raw.to_ascii_lowercase().contains("content-transfer-encoding: base64") {
        let compact: String =
            body.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')).collect();
        let bytes = base64::engine::general_purpose::STANDARD.decode(compact).expect("base64 body");
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    // Quoted-printable: soft breaks and =XX escapes.
    let joined = body.replace("=\n", "");
    let mut out = Vec::new();
    let bytes = joined.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    format!("{}\n{}", raw.split("\n\n").next().unwrap_or_default(), String::from_utf8_lossy(&out))
}

storage_test!(
    /// CM-4, CM-1, CM-9 in the admin: an administrator creates an account and limits it to one
    /// section; others cannot see the accounts page; sections move in the menu; a pending
    /// comment is approved from the queue.
    async fn cm4_cm1_cm9_people_structure_and_comments(t: TestDb) {
        news_languages(&t.db).await;
        let (sport, politics) = sections(&t).await;
        user(&t, "admin@baq.test", Role::Administrator).await;
        let system = Actor::system("test");
        let story = published(
            &t.db,
            ItemKind::Article,
            Some(sport),
            None,
            &[("kk", "Жарыс", "<p>x</p>")],
            baspa_domain::time::now(),
        )
        .await;
        baspa_actions::add_comment(
            &Ctx::new(&t.db, &system),
            baspa_actions::CommentInput {
                item_id: story.item_id,
                lang: "kk",
                parent: None,
                author_name: "Оқырман",
                author_email: None,
                body: "Керемет жарыс болды!",
                status: baspa_domain::CommentStatus::Pending,
                posted_at: None,
            },
        )
        .await
        .expect("comment");
        let mut admin_config = baspa_site::admin::AdminConfig::default();
        admin_config.policy.second_factor_roles.clear();
        let app = baspa_testkit::app::spawn_app_with(
            t,
            baspa_testkit::app::AppOptions { admin: Some(admin_config), ..Default::default() },
        )
        .await;
        let admin = session(&app, "admin@baq.test").await;
        let created = admin
            .post(
                &app,
                "/admin/users",
                &[("name", "Спорт редакторы"), ("email", "sport@baq.test"), ("role", "editor"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(created.status, 303, "{}", created.body);
        let user_path = location(&created);
        let sport_id = sport.0.to_string();
        let granted = admin
            .post(&app, &format!("{user_path}/grants"), &[("role", "editor"), ("section_id", &sport_id), ("lang", "")])
            .await;
        assert_eq!(granted.status, 303, "{}", granted.body);
        let id: i64 = user_path.rsplit('/').next().and_then(|n| n.parse().ok()).expect("user id");
        let grants = baspa_db::users::grants_of(&app.db.db, UserId(id)).await.expect("grants");
        assert_eq!((grants.len(), grants[0].section_item_id), (1, Some(sport.0)));
        let page = admin.get(&app, &user_path).await;
        assert!(page.body.contains("Спорт"), "the grant is listed with its section");

        let editor = session(&app, "sport@baq.test").await;
        assert_eq!(editor.get(&app, "/admin/users").await.status, 403, "accounts are for those who manage users");

        let before = baspa_db::content::siblings_of(&app.db.db, politics).await.expect("siblings");
        let order_before: Vec<i64> = before.iter().map(|i| i.id).collect();
        assert_eq!(admin.post(&app, &format!("/admin/structure/{}/up", politics.0), &[]).await.status, 303);
        let after: Vec<i64> = baspa_db::content::siblings_of(&app.db.db, politics)
            .await
            .expect("siblings")
            .iter()
            .map(|i| i.id)
            .collect();
        assert_ne!(order_before, after);
        assert_eq!(after.first(), Some(&politics.0), "moved to the top of the menu");
        assert!(admin.get(&app, "/admin/structure").await.body.contains("Саясат"));

        let queue = admin.get(&app, "/admin/comments").await;
        assert!(queue.body.contains("Керемет жарыс болды!"));
        let pending =
            baspa_db::content::comments_in(&app.db.db, baspa_domain::CommentStatus::Pending, 10).await.expect("queue");
        let approve = admin.post(&app, &format!("/admin/comments/{}", pending[0].id), &[("status", "approved")]).await;
        assert_eq!(approve.status, 303);
        let row = baspa_db::content::get_comment(&app.db.db, pending[0].id).await.expect("comment");
        assert_eq!(row.status, "approved");
        let other_section = editor.post(&app, &format!("/admin/structure/{}/down", sport.0), &[]).await;
        assert_eq!(other_section.status, 403, "a section editor cannot reorder the root menu");
    }
);

storage_test!(
    /// CM-1 with issue 9: the admin's search finds drafts in any language by inflected forms
    /// (the public search never shows them).
    async fn cm1_admin_search_finds_drafts_by_word_forms(t: TestDb) {
        news_languages(&t.db).await;
        user(&t, "editor@baq.test", Role::Editor).await;
        let app = spawn_app(t).await;
        let s = session(&app, "editor@baq.test").await;
        let created = s
            .post(
                &app,
                "/admin/content/new",
                &[
                    ("kind", "article"),
                    ("lang", "kk"),
                    ("title", "Ауылдағы мектептер жөнделді"),
                    ("body", "<p>Биыл ауылдық мектептерге күрделі жөндеу жүргізілді.</p>"),
                ],
            )
            .await;
        assert_eq!(created.status, 303, "{}", created.body);
        app.run_pending_jobs().await;
        let found = s
            .get(&app, "/admin/search?q=%D0%BC%D0%B5%D0%BA%D1%82%D0%B5%D0%BF%D1%82%D0%B5%D1%80%D0%B4%D1%96%D2%A3")
            .await; // мектептердің
        assert_eq!(found.status, 200);
        assert!(found.body.contains("<mark>"), "{}", found.body);
        assert!(found.body.contains("Ауылдағы"), "the draft is found: {}", found.body);
        let public = app.get(HOST, "/search?q=%D0%BC%D0%B5%D0%BA%D1%82%D0%B5%D0%BF").await;
        assert!(!public.body.contains("Ауылдағы мектептер жөнделді"), "visitors never see drafts");
        let hostile = s.get(&app, "/admin/search?q=%22%29%28%20AND%20%3Cscript%3E").await;
        assert_eq!(hostile.status, 200);
        assert!(!hostile.body.contains("<script>"));
    }
);

storage_test!(
    /// CM-9, HD-10: visitors post comments that wait for moderation; cross-site posts, bots
    /// (honeypot) and floods (3 per 10 minutes per address) are refused; a refused comment
    /// comes back with the reason and the typed text.
    async fn cm9_visitors_comment_into_the_moderation_queue_with_limits(t: TestDb) {
        news_languages(&t.db).await;
        let story = published(
            &t.db,
            ItemKind::Article,
            Some(sections(&t).await.0),
            None,
            &[("kk", "Пікір сынағы", "<p>Мәтін</p>")],
            baspa_domain::time::now(),
        )
        .await;
        let app = spawn_app(t).await;
        let page = app
            .get(
                HOST,
                &format!(
                    "/{}",
                    store::get_translation(&app.db.db, story.translation("kk").expect("kk")).await.expect("row").slug
                ),
            )
            .await;
        let page = if page.status == 301 { app.get(HOST, &location(&page)).await } else { page };
        assert!(page.body.contains("action=\"/comment\""), "the entry page carries the form");
        let return_to = page.hidden("return_to").expect("return_to");
        let item = story.item_id.0.to_string();
        let form = |body: &'static str, website: &'static str| {
            vec![
                ("item_id", item.clone()),
                ("lang", "kk".to_owned()),
                ("return_to", return_to.clone()),
                ("name", "Оқырман".to_owned()),
                ("email", String::new()),
                ("body", body.to_owned()),
                ("website", website.to_owned()),
            ]
        };
        let post = |f: Vec<(&'static str, String)>, headers: &'static [(&'static str, &'static str)]| {
            let app = &app;
            async move {
                let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
                app.post_form(HOST, "/comment", &pairs, headers).await
            }
        };
        let cross = post(form("Сырттан", ""), &[("origin", "https://evil.example")]).await;
        assert_eq!(cross.status, 403);
        let bot = post(form("Спам", "http://spam.example"), &[("origin", "http://baq.test")]).await;
        assert_eq!(bot.status, 303);
        let ok = post(form("Өте пайдалы мақала!", ""), &[("origin", "http://baq.test")]).await;
        assert_eq!(ok.status, 303, "{}", ok.body);
        assert!(location(&ok).ends_with("#comment-sent"));
        let queue =
            baspa_db::content::comments_in(&app.db.db, baspa_domain::CommentStatus::Pending, 10).await.expect("queue");
        assert_eq!(queue.len(), 1, "the honeypot stored nothing, the visitor's comment waits");
        assert_eq!(queue[0].ip.as_deref(), Some("127.0.0.1"));
        let public = app.get(HOST, &return_to).await;
        assert!(!public.body.contains("Өте пайдалы мақала!"), "not shown before approval");
        let short = post(form("х", ""), &[("origin", "http://baq.test")]).await;
        assert_eq!(short.status, 422);
        assert!(short.body.contains("2 to 4000"));
        for _ in 0..2 {
            assert_eq!(post(form("Тағы бір пікір", ""), &[("origin", "http://baq.test")]).await.status, 303);
        }
        let flood = post(form("Төртінші пікір", ""), &[("origin", "http://baq.test")]).await;
        assert_eq!(flood.status, 422);
        assert!(
            flood.body.contains("too many comments") && flood.body.contains("Төртінші пікір"),
            "reason and text come back: {}",
            flood.body
        );
        let journal = baspa_db::entity::journal_entry::Entity::find().all(&app.db.db).await.expect("journal");
        assert_eq!(journal.iter().filter(|e| e.action == "comment.submit" && e.actor_label == "visitor").count(), 3);
    }
);

storage_test!(
    /// Issue 4 (authors' profiles): a journalist edits their own name, position and biography
    /// per language; the public author page shows them in its language, escaped.
    async fn authors_edit_their_profile_and_the_author_page_shows_it(t: TestDb) {
        news_languages(&t.db).await;
        let author = user(&t, "aigerim@baq.test", Role::Author).await;
        let system = Actor::system("test");
        let ctx = Ctx::new(&t.db, &system);
        let mut input = baspa_actions::NewItemInput::new(
            ItemKind::Article,
            vec![baspa_actions::TranslationInput::new(lang("kk"), "Авторлық мақала", "<p>Мәтін</p>")],
        );
        input.author = Some(author);
        let created = baspa_actions::create_item(&ctx, input).await.expect("create");
        baspa_actions::publish_translation(&ctx, created.translation("kk").expect("kk"), None).await.expect("publish");
        let app = spawn_app(t).await;
        let s = session(&app, "aigerim@baq.test").await;
        let saved = s
            .post(
                &app,
                "/admin/profile",
                &[
                    ("name", "Әйгерім Сәрсенова"),
                    ("position_kk", "Тілші"),
                    ("bio_kk", "Білім тақырыбын <жазады>."),
                    ("position_ru", "Корреспондент"),
                ],
            )
            .await;
        assert_eq!(saved.status, 303, "{}", saved.body);
        let row = baspa_db::users::get(&app.db.db, author).await.expect("user");
        assert_eq!(row.display_name, "Әйгерім Сәрсенова");
        let page = s.get(&app, "/admin/profile").await;
        assert!(page.body.contains("Корреспондент"));
        let slug = baspa_domain::Slug::from_title("Әйгерім Сәрсенова", "kk").expect("slug");
        let public = app.get(HOST, &format!("/author/{slug}")).await;
        assert_eq!(public.status, 200, "{}", public.body);
        assert!(public.body.contains("Тілші — Білім тақырыбын &lt;жазады&gt;."), "{}", public.body);
        let other = user(&app.db, "other@baq.test", Role::Author).await;
        let as_author = Actor::user(author, "aigerim@baq.test", Role::Author);
        let ctx = Ctx::new(&app.db.db, &as_author);
        let empty = std::collections::BTreeMap::new();
        let refused = baspa_actions::update_profile(&ctx, other, "X", &empty, &empty).await;
        assert!(matches!(refused, Err(baspa_actions::ActionError::NotPermitted { .. })));
    }
);

storage_test!(
    /// CM-2: a YouTube embed from the editor survives the sanitiser and plays on the public page
    /// through youtube-nocookie, allowed by the CSP; an embed from elsewhere is dropped on save.
    async fn cm2_allow_listed_video_embeds_play_on_the_public_page(t: TestDb) {
        news_languages(&t.db).await;
        let (sport, _) = sections(&t).await;
        user(&t, "editor@baq.test", Role::Editor).await;
        let app = spawn_app(t).await;
        let s = session(&app, "editor@baq.test").await;
        let sport_id = sport.0.to_string();
        let body = r#"<p>Ойынға шолу:</p><figure class="media"><oembed url="https://www.youtube.com/watch?v=dQw4w9WgXcQ"></oembed></figure><figure class="media"><oembed url="https://evil.example/v"></oembed></figure>"#;
        let created = s
            .post(
                &app,
                "/admin/content/new",
                &[
                    ("kind", "article"),
                    ("section_id", &sport_id),
                    ("lang", "kk"),
                    ("title", "Бейне шолу"),
                    ("body", body),
                ],
            )
            .await;
        let tid = translation_id(&location(&created));
        assert_eq!(s.post(&app, &format!("/admin/translation/{tid}/publish"), &[]).await.status, 303);
        let row = store::get_translation(&app.db.db, baspa_domain::TranslationId(tid)).await.expect("row");
        assert!(!row.body.contains("evil.example"), "{}", row.body);
        let mut public = app.get(HOST, &format!("/{}", row.slug)).await;
        if public.status == 301 {
            public = app.get(HOST, &location(&public)).await;
        }
        assert!(public.body.contains("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"), "{}", public.body);
        assert!(
            public
                .header("content-security-policy")
                .is_some_and(|c| c.contains("frame-src https://www.youtube-nocookie.com"))
        );
    }
);
