//! Staff accounts and signed-in admin sessions for HTTP tests: one place for what every admin
//! test needs (an account with a known password, the session cookie, the CSRF token).

use baspa_actions::{Actor, Ctx};
use baspa_domain::{Role, UserId};

use crate::TestDb;
use crate::app::{TestApp, TestResponse};

/// The password of every account made by [`staff_user`].
pub const PASSWORD: &str = "correct horse battery staple";

/// Creates a staff account whose display name is its e-mail address.
pub async fn staff_user(t: &TestDb, email: &str, role: Role) -> UserId {
    let system = Actor::system("test");
    baspa_actions::create_user(&Ctx::new(&t.db, &system), email, email, role, PASSWORD).await.expect("user")
}

/// Admin settings without the second factor for administrators (for tests about other things).
pub fn admin_without_second_factor() -> baspa_site::admin::AdminConfig {
    let mut admin = baspa_site::admin::AdminConfig::default();
    admin.policy.second_factor_roles.clear();
    admin
}

/// A signed-in browser: the session cookie and the CSRF token of the session.
pub struct StaffSession {
    pub host: String,
    pub cookie: String,
    pub csrf: String,
}

impl StaffSession {
    /// Signs in through the form at `/admin/login` and reads the CSRF token from a page.
    pub async fn sign_in(app: &TestApp, host: &str, email: &str) -> Self {
        let res = app.post_form(host, "/admin/login", &[("email", email), ("password", PASSWORD)], &[]).await;
        assert_eq!(res.status, 303, "sign-in of {email}: {}", res.body);
        let cookie = res.set_cookie("baspa_staff").map(|(pair, _)| pair).expect("session cookie");
        let page = app.get_with(host, "/admin/sessions", &[("cookie", &cookie)]).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let csrf = page.hidden("_csrf").expect("csrf field");
        Self { host: host.to_owned(), cookie, csrf }
    }

    pub async fn get(&self, app: &TestApp, path: &str) -> TestResponse {
        app.get_with(&self.host, path, &[("cookie", &self.cookie)]).await
    }

    /// POSTs a form with the session's CSRF token added.
    pub async fn post(&self, app: &TestApp, path: &str, form: &[(&str, &str)]) -> TestResponse {
        let mut with_token = vec![("_csrf", self.csrf.as_str())];
        with_token.extend_from_slice(form);
        app.post_form(&self.host, path, &with_token, &[("cookie", &self.cookie)]).await
    }
}
