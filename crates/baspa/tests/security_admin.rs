//! The admin's security pages over HTTP (SC-5, SC-6, HD-11): an administrator sees an integrity
//! incident after a change made behind Baspa's back, restores the last good version with one
//! button, reads and filters the change journal and exports it; an editor sees none of it.

#![allow(clippy::expect_used)] // tests stop at the first broken expectation

use baspa_domain::time::now;
use baspa_domain::{ItemKind, Role};
use baspa_testkit::app::{AppOptions, spawn_app_with};
use baspa_testkit::builders::{news_languages, published};
use baspa_testkit::staff::{StaffSession, admin_without_second_factor, staff_user};
use baspa_testkit::{execute_sql, storage_test};

const HOST: &str = "baq.test";

storage_test!(
    /// SC-5/SC-6: detect → incident → restore → clean, and the journal view and export.
    async fn sc5_sc6_admin_detects_restores_and_exports_the_journal(t: TestDb) {
        news_languages(&t.db).await;
        staff_user(&t, "admin@baq.test", Role::Administrator).await;
        staff_user(&t, "editor@baq.test", Role::Editor).await;
        let created =
            published(&t.db, ItemKind::Article, None, None, &[("kk", "Ауа райы", "<p>Күн ашық.</p>")], now()).await;
        let kk = created.translation("kk").expect("kk");
        let db = t.db.clone();
        let app =
            spawn_app_with(t, AppOptions { admin: Some(admin_without_second_factor()), ..Default::default() }).await;
        let admin = StaffSession::sign_in(&app, HOST, "admin@baq.test").await;
        let editor = StaffSession::sign_in(&app, HOST, "editor@baq.test").await;

        let page = admin.get(&app, "/admin/security").await;
        assert_eq!(page.status, 200, "{}", page.body);
        execute_sql(&db, "UPDATE translations SET body = ? WHERE id = ?", vec!["<p>Жалған</p>".into(), kk.0.into()])
            .await;
        let checked = admin.post(&app, "/admin/security/check", &[]).await;
        assert_eq!(checked.status, 200, "{}", checked.body);
        let html = checked.text();
        assert!(html.contains(&format!("translation {kk} (item")), "the incident names the text: {html}");
        let marker = "/admin/security/restore/";
        let start = html.find(marker).expect("a restore button") + marker.len();
        let seal: String = html[start..].chars().take_while(char::is_ascii_digit).collect();

        let refused = editor.post(&app, &format!("{marker}{seal}"), &[]).await;
        assert_eq!(refused.status, 403);
        let restored = admin.post(&app, &format!("{marker}{seal}"), &[]).await;
        assert_eq!(restored.status, 200, "{}", restored.body);
        assert!(
            restored.text().contains("Тұтастық расталды"),
            "the admin speaks Kazakh by default: {}",
            restored.text()
        );
        assert_eq!(baspa_db::content::get_translation(&db, kk).await.expect("row").body, "<p>Күн ашық.</p>");

        let journal = admin.get(&app, "/admin/journal?action=integrity.").await;
        assert_eq!(journal.status, 200);
        assert!(
            journal.text().contains("integrity.restore") && journal.text().contains("тізбек тексерілді"),
            "{}",
            journal.text()
        );
        assert!(!journal.text().contains("translation.publish"), "the filter applies");
        let bad = admin.get(&app, "/admin/journal?from=yesterday").await;
        assert!(bad.text().contains("«Бастап» күні дұрыс емес"), "{}", bad.text());

        let csv = admin.post(&app, "/admin/journal/export", &[("format", "csv"), ("action", "translation.")]).await;
        assert_eq!(csv.status, 200);
        assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
        assert!(csv.header("content-disposition").is_some_and(|d| d.contains(".csv")));
        assert!(csv.body.contains("translation.publish") && csv.body.contains("Ауа райы"), "{}", csv.body);
        let xlsx = admin.post(&app, "/admin/journal/export", &[("format", "xlsx")]).await;
        assert_eq!(xlsx.status, 200);
        let exports = admin.get(&app, "/admin/journal?action=journal.export").await;
        assert!(exports.text().contains("admin@baq.test"), "the exports are journalled with who took them");

        for path in ["/admin/security", "/admin/journal"] {
            assert_eq!(editor.get(&app, path).await.status, 403, "{path}");
        }
        assert_eq!(editor.post(&app, "/admin/journal/export", &[("format", "csv")]).await.status, 403);
    }
);
