//! Admin journeys in a real Chromium (issue 4 acceptance): (1) an author pastes what Word puts
//! on the clipboard, submits; an editor approves; the public page keeps the list and the table
//! and carries no `mso-` styling; (2) a `.docx` file is imported into the editor; (3) two-step
//! sign-in; (4) an older revision is restored.

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

use baspa_actions::{Actor, Ctx};
use baspa_db::content as store;
use baspa_domain::{ItemKind, Role, TranslationId};
use baspa_testkit::browser::Browser;
use baspa_testkit::builders::{news_languages, published};
use baspa_testkit::{Backend, TestDb, spawn_app};
use serde_json::json;

const PASSWORD: &str = "correct horse battery staple";
const WORD_CLIPBOARD: &str = include_str!("fixtures/word/word-clipboard.html");
/// LibreOffice's HTML of `report.docx`, produced by `soffice --convert-to html` (see make_docx.py).
const LIBREOFFICE_CLIPBOARD: &str = include_str!("fixtures/word/libreoffice-clipboard.html");

async fn sign_in(browser: &Browser, base: &str, email: &str) {
    browser.goto(&format!("{base}/admin/login")).await;
    browser
        .execute(
            "document.getElementById('email').value = arguments[0];
             document.getElementById('password').value = arguments[1];
             document.querySelector('form').submit();",
            json!([email, PASSWORD]),
        )
        .await;
    browser.wait_for("return document.readyState === 'complete' && !location.pathname.endsWith('/login')", 20).await;
}

async fn sign_out(browser: &Browser) {
    browser.execute("document.querySelector('header.admin form').submit()", json!([])).await;
    browser.wait_for("return location.pathname.endsWith('/login')", 20).await;
}

/// Waits for CKEditor, fills the title and returns once the editor is ready for content.
async fn open_new_article(browser: &Browser, base: &str, title: &str) {
    browser.goto(&format!("{base}/admin/content/new")).await;
    browser.wait_for("return window.baspaEditor ? true : false", 30).await;
    browser.execute("document.getElementById('title').value = arguments[0];", json!([title])).await;
}

async fn save_form(browser: &Browser) {
    browser.execute("document.getElementById('save').click()", json!([])).await;
    browser.wait_for("return document.readyState === 'complete' && location.search.includes('saved=1')", 30).await;
}

fn translation_in(url: &str) -> TranslationId {
    let id = url.split("/translation/").nth(1).and_then(|r| r.split('/').next()).and_then(|n| n.parse().ok());
    TranslationId(id.expect("translation id in the URL"))
}

fn totp_code(secret: &str, offset: i64) -> String {
    let raw = baspa_actions::totp::base32_decode(secret).expect("base32");
    let step = baspa_domain::time::now().timestamp() / baspa_actions::totp::STEP_SECONDS + offset;
    format!("{:06}", baspa_actions::totp::code_at_step(&raw, step).expect("code"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cm2_cm10_hd10_admin_journeys_in_chromium() {
    let Some(browser) = Browser::start().await else { return };
    browser.call_timeouts().await;
    let db = TestDb::create(Backend::Sqlite).await.expect("sqlite");
    news_languages(&db.db).await;
    let section = published(&db.db, ItemKind::Section, None, None, &[("kk", "Білім", "")], baspa_domain::time::now())
        .await
        .item_id;
    let system = Actor::system("test");
    let ctx = Ctx::new(&db.db, &system);
    for (email, role) in
        [("author@baq.test", Role::Author), ("editor@baq.test", Role::Editor), ("chief@baq.test", Role::ChiefEditor)]
    {
        baspa_actions::create_user(&ctx, email, email, role, PASSWORD).await.expect("user");
    }
    let app = spawn_app(db).await;
    let base = format!("http://baq.localhost:{}", app.addr.port());

    // (1) Paste from Word, submit, approve, public page.
    sign_in(&browser, &base, "author@baq.test").await;
    open_new_article(&browser, &base, "Облыстағы білім беру").await;
    browser
        .execute("document.getElementById('section_id').value = arguments[0];", json!([section.0.to_string()]))
        .await;
    browser
        .execute(
            "const dt = new DataTransfer();
             dt.setData('text/html', arguments[0]);
             dt.setData('text/plain', 'Облыстағы білім беру жүйесі');
             const editable = document.querySelector('.ck-editor__editable');
             editable.focus();
             editable.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));",
            json!([WORD_CLIPBOARD]),
        )
        .await;
    let data =
        browser.wait_for("const d = window.baspaEditor.getData(); return d.includes('<table') ? d : ''", 20).await;
    let data = data.as_str().unwrap_or_default().to_owned();
    assert!(data.contains("<ol>") && data.contains("<li"), "Word's mso-list paragraphs become a real list: {data}");
    save_form(&browser).await;
    let tid = translation_in(&browser.current_url().await);
    browser
        .goto(&format!("{base}/admin/item/{}", store::get_translation(&app.db.db, tid).await.expect("row").item_id))
        .await;
    browser
        .execute(
            &format!("document.querySelector('form[action$=\"/translation/{}/submit\"]').submit()", tid.0),
            json!([]),
        )
        .await;
    browser
        .wait_for("return document.readyState === 'complete' && !!document.querySelector('.st.in_review')", 20)
        .await;
    sign_out(&browser).await;

    sign_in(&browser, &base, "editor@baq.test").await;
    let queue = browser.execute("return document.querySelector('main').innerText", json!([])).await;
    assert!(queue.as_str().unwrap_or_default().contains("Облыстағы білім беру"), "in the editor's review queue");
    let item_id = store::get_translation(&app.db.db, tid).await.expect("row").item_id;
    browser.goto(&format!("{base}/admin/item/{item_id}")).await;
    browser
        .execute(
            &format!("document.querySelector('form[action$=\"/translation/{}/publish\"]').submit()", tid.0),
            json!([]),
        )
        .await;
    browser
        .wait_for("return document.readyState === 'complete' && !!document.querySelector('.st.published')", 20)
        .await;
    let row = store::get_translation(&app.db.db, tid).await.expect("row");
    assert_eq!(row.status, "published");
    assert!(!row.body.contains("mso-") && !row.body.contains("MsoNormal") && !row.body.contains("o:p"), "{}", row.body);
    let mut public = app.get("baq.test", &format!("/{}", row.slug)).await;
    if public.status == 301 {
        let to = public.header("location").expect("location").to_owned();
        public = app.get("baq.test", &to).await;
    }
    assert_eq!(public.status, 200);
    let article = public.body.split("<article").nth(1).expect("article");
    for needle in
        ["<ol>", "<li>Мектептерді цифрландыру</li>", "<table>", "<td>Түркістан</td>", "<strong>12 жаңа мектеп</strong>"]
    {
        assert!(article.contains(needle), "public page keeps {needle}: {article}");
    }
    assert!(!public.body.contains("mso-"), "no Office styling reaches visitors");

    // (1b) The same document pasted from LibreOffice Writer: structure kept, its styling dropped.
    open_new_article(&browser, &base, "LibreOffice құжаты").await;
    browser
        .execute(
            "const dt = new DataTransfer();
             dt.setData('text/html', arguments[0]);
             const editable = document.querySelector('.ck-editor__editable');
             editable.focus();
             editable.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));",
            json!([LIBREOFFICE_CLIPBOARD]),
        )
        .await;
    browser.wait_for("return window.baspaEditor.getData().includes('<table') ? 1 : 0", 20).await;
    save_form(&browser).await;
    let lo = store::get_translation(&app.db.db, translation_in(&browser.current_url().await)).await.expect("row");
    for kept in ["<ol>", "<table>", "<strong>12 жаңа", "<h2>"] {
        assert!(lo.body.contains(kept), "LibreOffice paste keeps {kept}: {}", lo.body);
    }
    for dropped in ["<font", "style=", "Cambria"] {
        assert!(!lo.body.contains(dropped), "LibreOffice styling {dropped} is dropped: {}", lo.body);
    }

    // (2) Import a .docx into the editor.
    open_new_article(&browser, &base, "Word құжатынан").await;
    let docx = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/word/report.docx");
    let input = browser.find("input[data-docx]").await;
    browser.send_keys(&input, &docx.display().to_string()).await;
    let imported =
        browser.wait_for("const d = window.baspaEditor.getData(); return d.includes('<table') ? d : ''", 30).await;
    let imported = imported.as_str().unwrap_or_default().to_owned();
    assert!(imported.contains("Облыстағы білім беру жүйесі") && imported.contains("<h2>"), "{imported}");
    assert!(imported.contains("<strong>12 жаңа мектеп</strong>"), "{imported}");
    save_form(&browser).await;
    let docx_tid = translation_in(&browser.current_url().await);
    let saved = store::get_translation(&app.db.db, docx_tid).await.expect("row");
    assert!(saved.body.contains("<table>") && saved.body.contains("Сайрам"), "{}", saved.body);

    // (4) Restore an older revision: edit the text, then restore revision 1 from the list.
    browser.execute("window.baspaEditor.setData('<p>Қате мәтін</p>')", json!([])).await;
    save_form(&browser).await;
    assert!(store::get_translation(&app.db.db, docx_tid).await.expect("row").body.contains("Қате мәтін"));
    browser.goto(&format!("{base}/admin/translation/{}/revisions", docx_tid.0)).await;
    browser.execute("document.querySelector('button[data-restore=\"1\"]').click()", json!([])).await;
    browser
        .wait_for("return document.readyState === 'complete' && location.pathname.includes('/admin/item/')", 20)
        .await;
    let restored = store::get_translation(&app.db.db, docx_tid).await.expect("row");
    assert!(restored.body.contains("Сайрам") && !restored.body.contains("Қате мәтін"), "{}", restored.body);
    assert_eq!(store::revisions_of(&app.db.db, docx_tid).await.expect("revisions").len(), 3);
    sign_out(&browser).await;

    // (3) Two-step sign-in: set up at first sign-in, then a code each time.
    sign_in(&browser, &base, "chief@baq.test").await;
    assert!(browser.current_url().await.ends_with("/admin/enrol"));
    let secret = browser.execute("return document.getElementById('totp-secret').textContent", json!([])).await;
    let secret = secret.as_str().expect("secret").to_owned();
    browser
        .execute(
            "document.getElementById('code').value = arguments[0]; document.querySelector('main form').submit();",
            json!([totp_code(&secret, 0)]),
        )
        .await;
    browser.wait_for("return document.readyState === 'complete' && location.pathname === '/admin/'", 20).await;
    sign_out(&browser).await;
    sign_in(&browser, &base, "chief@baq.test").await;
    assert!(browser.current_url().await.ends_with("/admin/code"));
    browser
        .execute(
            "document.getElementById('code').value = arguments[0]; document.querySelector('main form').submit();",
            json!([totp_code(&secret, 1)]),
        )
        .await;
    browser.wait_for("return document.readyState === 'complete' && location.pathname === '/admin/'", 20).await;
    let heading = browser.execute("return document.querySelector('h1').textContent", json!([])).await;
    assert!(!heading.as_str().unwrap_or_default().is_empty());

    // The admin works on a phone: no page of the daily round scrolls sideways at 360 px.
    browser.set_window_size(360, 740).await;
    for path in ["/admin/", "/admin/content", "/admin/search?q=мектеп", "/admin/media", "/admin/sessions"] {
        browser.goto(&format!("{base}{path}")).await;
        let fits =
            browser.execute("return document.documentElement.scrollWidth <= window.innerWidth + 1", json!([])).await;
        assert_eq!(fits, json!(true), "{path} scrolls sideways at 360 px");
    }
}
