//! Baspa rendering: the embedded default theme (minijinja, autoescape on), UI strings in kk/ru/en
//! (Fluent, CLDR plurals) and local date formats. Receives view-models; knows nothing of the
//! database or HTTP.

mod dates;
mod email;
mod i18n;
pub mod view;

use std::sync::Arc;

use minijinja::{AutoEscape, Environment};

pub use dates::{format_date, format_month};

/// HTML escaping of text and quoted attribute values: `& < > " '`. Unlike minijinja's default,
/// `/` stays a slash: it is harmless in both places (OWASP dropped it), and scanners read a
/// visitor's `../x` echoed back as `..&#x2f;x` for a path traversal (issue 6).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
    out
}
pub use email::{embed_videos, lazy_images, obfuscate_emails};
pub use i18n::translate;

/// The embedded default theme. Loaded once; a theme directory override arrives with the theming
/// issue.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../theme/base.html")),
    ("home.html", include_str!("../theme/home.html")),
    ("section.html", include_str!("../theme/section.html")),
    ("entry.html", include_str!("../theme/entry.html")),
    ("page.html", include_str!("../theme/page.html")),
    ("error.html", include_str!("../theme/error.html")),
    ("cards.html", include_str!("../theme/cards.html")),
    ("comment-refused.html", include_str!("../theme/comment-refused.html")),
    ("search.html", include_str!("../theme/search.html")),
    ("admin/layout.html", include_str!("../admin/layout.html")),
    ("admin/message.html", include_str!("../admin/message.html")),
    ("admin/login.html", include_str!("../admin/login.html")),
    ("admin/code.html", include_str!("../admin/code.html")),
    ("admin/enrol.html", include_str!("../admin/enrol.html")),
    ("admin/forgot.html", include_str!("../admin/forgot.html")),
    ("admin/reset.html", include_str!("../admin/reset.html")),
    ("admin/sessions.html", include_str!("../admin/sessions.html")),
    ("admin/rows.html", include_str!("../admin/rows.html")),
    ("admin/dashboard.html", include_str!("../admin/dashboard.html")),
    ("admin/list.html", include_str!("../admin/list.html")),
    ("admin/edit.html", include_str!("../admin/edit.html")),
    ("admin/item.html", include_str!("../admin/item.html")),
    ("admin/revisions.html", include_str!("../admin/revisions.html")),
    ("admin/diff.html", include_str!("../admin/diff.html")),
    ("admin/media.html", include_str!("../admin/media.html")),
    ("admin/users.html", include_str!("../admin/users.html")),
    ("admin/search.html", include_str!("../admin/search.html")),
    ("admin/profile.html", include_str!("../admin/profile.html")),
    ("admin/user.html", include_str!("../admin/user.html")),
    ("admin/structure.html", include_str!("../admin/structure.html")),
    ("admin/comments.html", include_str!("../admin/comments.html")),
    ("admin/system.html", include_str!("../admin/system.html")),
    ("admin/security.html", include_str!("../admin/security.html")),
    ("admin/backups.html", include_str!("../admin/backups.html")),
    ("admin/journal.html", include_str!("../admin/journal.html")),
];

#[derive(Debug, thiserror::Error)]
#[error("template {template} failed: {message}")]
pub struct RenderError {
    pub template: String,
    pub message: String,
}

#[derive(Clone)]
pub struct Renderer {
    env: Arc<Environment<'static>>,
}

impl Renderer {
    /// The embedded default theme.
    pub fn new() -> Result<Self, RenderError> {
        Self::with_theme_dir(None)
    }

    /// The default theme with any template found in `theme_dir` used instead of the embedded one
    /// of the same name (`base.html`, `entry.html` …), so a site can restyle without a rebuild.
    /// Every template is compiled here, so a broken theme stops start-up with the file named.
    pub fn with_theme_dir(theme_dir: Option<&std::path::Path>) -> Result<Self, RenderError> {
        if let Some(dir) = theme_dir.filter(|d| !d.is_dir()) {
            return Err(RenderError {
                template: dir.display().to_string(),
                message: "the theme folder does not exist".into(),
            });
        }
        let mut env = Environment::new();
        // HTML-escape everything rendered into .html templates (HD-1); only sanitised bodies are
        // marked safe explicitly in the templates.
        env.set_auto_escape_callback(|name| if name.ends_with(".html") { AutoEscape::Html } else { AutoEscape::None });
        env.set_formatter(|out, state, value| match value.as_str() {
            Some(text) if matches!(state.auto_escape(), AutoEscape::Html) && !value.is_safe() => {
                Ok(out.write_str(&escape_html(text))?)
            }
            _ => minijinja::escape_formatter(out, state, value),
        });
        env.set_fuel(Some(5_000_000));
        for (name, source) in TEMPLATES {
            let overridden = theme_dir.map(|d| d.join(name)).filter(|p| p.is_file());
            match overridden {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| RenderError { template: path.display().to_string(), message: e.to_string() })?;
                    env.add_template_owned(name.to_string(), text)
                        .map_err(|e| RenderError { template: path.display().to_string(), message: e.to_string() })?;
                }
                None => env
                    .add_template(name, source)
                    .map_err(|e| RenderError { template: (*name).to_owned(), message: e.to_string() })?,
            }
        }
        env.add_function("t", |lang: String, key: String, count: Option<i64>| translate(&lang, &key, count));
        env.add_filter("date", |at: String, lang: String| format_date(&at, &lang));
        Ok(Self { env: Arc::new(env) })
    }

    pub fn render(&self, template: &str, context: &impl serde::Serialize) -> Result<String, RenderError> {
        let err = |e: minijinja::Error| RenderError { template: template.to_owned(), message: format!("{e:#}") };
        let tmpl = self.env.get_template(template).map_err(err)?;
        tmpl.render(minijinja::value::Serde(context)).map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_theme_folder_replaces_templates_without_a_rebuild_and_broken_ones_are_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("error.html"), "custom {{ status }}").unwrap();
        let r = Renderer::with_theme_dir(Some(dir.path())).unwrap();
        let html = r.render("error.html", &serde_json::json!({"status": 404})).unwrap();
        assert_eq!(html, "custom 404");
        std::fs::write(dir.path().join("page.html"), "{% if %}").unwrap();
        let err = Renderer::with_theme_dir(Some(dir.path())).err().expect("syntax error refused");
        assert!(err.template.ends_with("page.html"), "{err}");
        assert!(
            Renderer::with_theme_dir(Some(&dir.path().join("missing"))).is_err(),
            "a missing folder is an error, not a silent fallback"
        );
    }

    #[test]
    fn every_embedded_template_parses_and_autoescape_stays_on() {
        let r = Renderer::new().unwrap();
        let html = r.env.render_str("{{ x }}", minijinja::context! { x => "<script>" }).unwrap();
        assert_eq!(html, "<script>", "render_str has no .html name; the check below is the real one");
        let tmpl = r.env.template_from_named_str("probe.html", "{{ x }}").unwrap();
        assert_eq!(tmpl.render(minijinja::context! { x => "<script>" }).unwrap(), "&lt;script&gt;");
        for (name, source) in TEMPLATES {
            assert!(!source.contains("autoescape false"), "{name} disables autoescape");
        }
    }

    #[test]
    fn hd1_html_escaping_covers_markup_and_quotes_but_keeps_slashes() {
        let r = Renderer::new().unwrap();
        let tmpl = r.env.template_from_named_str("probe.html", "<a title=\"{{ x }}\">{{ x }}</a>").unwrap();
        let out = tmpl.render(minijinja::context! { x => "../a/<b>&\"'" }).unwrap();
        let escaped = "../a/&lt;b&gt;&amp;&quot;&#x27;";
        assert_eq!(out, format!("<a title=\"{escaped}\">{escaped}</a>"));
        let safe = r.env.template_from_named_str("safe.html", "{{ x|safe }}").unwrap();
        assert_eq!(safe.render(minijinja::context! { x => "<b>ok</b>" }).unwrap(), "<b>ok</b>");
    }
}
