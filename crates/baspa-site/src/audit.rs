//! Security audit and components report (SC-4, OP-4): every script and stylesheet the site and
//! the admin serve, with size, SRI hash, version and licence; every locked Rust dependency; and
//! the check of those dependencies against a local copy of the RustSec advisory database
//! (`crates/<name>/RUSTSEC-*.md`, see docs/security-audit.md). Used by the admin's system page
//! and by `baspa audit`.
//!
//! The lock file is compiled in, so the report describes the binary that runs, not a checkout.
//! Without a database the check says "not checked" — never "no vulnerabilities".

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha384};

use crate::admin::assets::FILES;

/// Baspa's own version (all workspace crates share it).
pub const BASPA_VERSION: &str = env!("CARGO_PKG_VERSION");
/// `rustc --version` of the compiler that built this binary, when the build script could ask.
pub const RUSTC_VERSION: Option<&str> = option_env!("BASPA_RUSTC_VERSION");
const CARGO_LOCK: &str = include_str!("../../../Cargo.lock");

const CKEDITOR_VERSION: &str = include_str!("../../../vendor/ckeditor5/VERSION");
const MAMMOTH_VERSION: &str = include_str!("../../../vendor/mammoth/VERSION");

/// The `integrity` value of a file: `sha384-` and the base64 of its SHA-384 digest.
pub fn sri(bytes: &[u8]) -> String {
    format!("sha384-{}", base64::engine::general_purpose::STANDARD.encode(Sha384::digest(bytes)))
}

/// One script or stylesheet the site serves (or includes inline).
#[derive(Debug, Clone, Serialize)]
pub struct Asset {
    /// URL path, or where an inline block lives.
    pub url: String,
    /// `script`, `stylesheet`, `inline script` or `inline stylesheet`.
    pub kind: &'static str,
    pub size: usize,
    /// `sha384-…` for files; inline blocks run under the per-request CSP nonce instead.
    pub integrity: String,
    pub component: String,
    pub version: String,
    pub licence: String,
    /// Where the bytes come from in the source tree (or the theme folder).
    pub source: String,
}

/// `"ckeditor5 48.5.2\n"` (the VERSION files written by `vendor/*/fetch.sh`) → `48.5.2`.
fn vendored_version(file: &str) -> String {
    file.split_whitespace().nth(1).unwrap_or("unknown").to_owned()
}

/// Component, version, licence and source path of an admin asset.
fn admin_asset_origin(name: &str) -> (&'static str, String, &'static str, String) {
    let ours = |path: &str| ("Baspa", BASPA_VERSION.to_owned(), "GPL-3.0-or-later", path.to_owned());
    match name {
        "ckeditor5.js" => (
            "CKEditor 5",
            vendored_version(CKEDITOR_VERSION),
            "GPL-2.0-or-later",
            "vendor/ckeditor5/ckeditor5.umd.js".into(),
        ),
        "ckeditor5.css" => (
            "CKEditor 5",
            vendored_version(CKEDITOR_VERSION),
            "GPL-2.0-or-later",
            "vendor/ckeditor5/ckeditor5.css".into(),
        ),
        "ckeditor-ru.js" => (
            "CKEditor 5 (ru)",
            vendored_version(CKEDITOR_VERSION),
            "GPL-2.0-or-later",
            "vendor/ckeditor5/ru.umd.js".into(),
        ),
        "mammoth.js" => (
            "mammoth",
            vendored_version(MAMMOTH_VERSION),
            "BSD-2-Clause",
            "vendor/mammoth/mammoth.browser.min.js".into(),
        ),
        other => ours(&format!("crates/baspa-site/admin-assets/{other}")),
    }
}

/// Every script and stylesheet served: the admin's embedded files under `<admin_path>/assets/`,
/// the default theme's inline blocks, and the `.js`/`.css` files of a theme folder's `assets/`.
pub fn browser_assets(admin_path: &str, theme_assets: Option<&Path>) -> Vec<Asset> {
    let mut out: Vec<Asset> = FILES
        .iter()
        .map(|(name, mime, bytes)| {
            let (component, version, licence, source) = admin_asset_origin(name);
            Asset {
                url: format!("{admin_path}/assets/{name}"),
                kind: if *mime == "text/css" { "stylesheet" } else { "script" },
                size: bytes.len(),
                integrity: sri(bytes),
                component: component.to_owned(),
                version,
                licence: licence.to_owned(),
                source,
            }
        })
        .collect();
    // The default theme loads no files: its styles and JSON-LD are inline under the nonce.
    for (kind, what) in [("inline stylesheet", "<style> in base.html"), ("inline script", "JSON-LD data in base.html")]
    {
        out.push(Asset {
            url: format!("public pages: {what}"),
            kind,
            size: 0,
            integrity: "CSP nonce per request".into(),
            component: "Baspa default theme".into(),
            version: BASPA_VERSION.into(),
            licence: "GPL-3.0-or-later".into(),
            source: "crates/baspa-render/theme/base.html".into(),
        });
    }
    if let Some(dir) = theme_assets {
        out.extend(theme_files(dir));
    }
    out
}

/// A theme folder's scripts and stylesheets; its templates must carry these hashes themselves.
fn theme_files(dir: &Path) -> Vec<Asset> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<Asset> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let kind = match name.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).as_deref() {
                Some("js") => "script",
                Some("css") => "stylesheet",
                _ => return None,
            };
            let bytes = std::fs::read(e.path()).ok()?;
            Some(Asset {
                url: format!("/theme/{name}"),
                kind,
                size: bytes.len(),
                integrity: sri(&bytes),
                component: "site theme".into(),
                version: "—".into(),
                licence: "—".into(),
                source: e.path().display().to_string(),
            })
        })
        .collect();
    files.sort_by(|a, b| a.url.cmp(&b.url));
    files
}

/// A package from the compiled-in `Cargo.lock`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub version: String,
    /// `crates.io`, a git URL, or `workspace` for Baspa's own crates.
    pub source: String,
}

#[derive(Deserialize)]
struct LockFile {
    #[serde(default)]
    package: Vec<LockEntry>,
}

#[derive(Deserialize)]
struct LockEntry {
    name: String,
    version: String,
    source: Option<String>,
}

fn parse_lock(text: &str) -> Result<Vec<Package>, String> {
    let lock: LockFile = toml::from_str(text).map_err(|e| e.to_string())?;
    Ok(lock
        .package
        .into_iter()
        .map(|p| Package {
            source: match p.source.as_deref() {
                None => "workspace".to_owned(),
                Some(s) if s.starts_with("registry+https://github.com/rust-lang/crates.io-index") => {
                    "crates.io".to_owned()
                }
                Some(s) => s.to_owned(),
            },
            name: p.name,
            version: p.version,
        })
        .collect())
}

/// Every package locked into this build, Baspa's own crates included.
pub fn locked_packages() -> Vec<Package> {
    parse_lock(CARGO_LOCK).unwrap_or_default()
}

/// An advisory that applies to a locked package.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub id: String,
    pub package: String,
    pub version: String,
    pub title: String,
    pub date: String,
    pub url: Option<String>,
    /// Versions without the problem (semver requirements).
    pub patched: Vec<String>,
    /// `unmaintained`, `unsound` … : a warning, not a vulnerability.
    pub informational: Option<String>,
}

/// The outcome of the dependency check.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum AdvisoryCheck {
    /// No check was made; `reason` says why and how to get a database.
    NotChecked { reason: String, is_configured: bool },
    Checked {
        database: String,
        /// Advisories read (withdrawn ones excluded).
        advisories: usize,
        withdrawn: usize,
        /// The newest advisory date in the database: how fresh the copy is.
        newest: Option<String>,
        /// Files that could not be read as advisories (named, so a broken copy is noticed).
        unreadable: Vec<String>,
        findings: Vec<Finding>,
    },
}

impl AdvisoryCheck {
    /// Findings that are vulnerabilities (not informational warnings).
    pub fn vulnerabilities(&self) -> usize {
        match self {
            AdvisoryCheck::NotChecked { .. } => 0,
            AdvisoryCheck::Checked { findings, .. } => findings.iter().filter(|f| f.informational.is_none()).count(),
        }
    }
}

/// Where to get a database, in the words of every "not checked" report.
pub const HOW_TO_GET_A_DATABASE: &str = "copy https://github.com/rustsec/advisory-db to this machine and set \
     [security] advisory_db (BASPA__SECURITY__ADVISORY_DB) to its folder; see docs/security-audit.md";

#[derive(Deserialize)]
struct AdvisoryFile {
    advisory: AdvisoryMeta,
    #[serde(default)]
    versions: VersionsMeta,
}

#[derive(Deserialize)]
struct AdvisoryMeta {
    id: String,
    package: String,
    date: toml::Value,
    #[serde(default)]
    title: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    withdrawn: Option<toml::Value>,
    #[serde(default)]
    informational: Option<String>,
}

#[derive(Deserialize, Default)]
struct VersionsMeta {
    #[serde(default)]
    patched: Vec<String>,
    #[serde(default)]
    unaffected: Vec<String>,
}

fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The TOML front matter of an advisory `.md` file (between "```toml" and "```").
fn front_matter(text: &str) -> Option<&str> {
    let rest = text.trim_start().strip_prefix("```toml")?;
    let end = rest.find("\n```")?;
    Some(&rest[..end])
}

/// Whether `version` is outside every patched and unaffected range. A pre-release also counts as
/// its release, since lock files hold few and advisories rarely name them.
fn is_affected(version: &semver::Version, safe: &[semver::VersionReq]) -> bool {
    let mut release = version.clone();
    release.pre = semver::Prerelease::EMPTY;
    !safe.iter().any(|req| req.matches(version) || req.matches(&release))
}

/// Checks `packages` against the advisory database at `db`; `None` means none is configured.
pub fn check_advisories(db: Option<&Path>, packages: &[Package]) -> AdvisoryCheck {
    let Some(db) = db else {
        return AdvisoryCheck::NotChecked {
            reason: format!("not checked: no advisory database configured ({HOW_TO_GET_A_DATABASE})"),
            is_configured: false,
        };
    };
    let crates_dir = db.join("crates");
    let Ok(dirs) = std::fs::read_dir(&crates_dir) else {
        return AdvisoryCheck::NotChecked {
            reason: format!(
                "not checked: {} is not a RustSec advisory database (no readable crates/ folder; {HOW_TO_GET_A_DATABASE})",
                db.display()
            ),
            is_configured: true,
        };
    };
    let mut locked: BTreeMap<&str, Vec<&Package>> = BTreeMap::new();
    for p in packages.iter().filter(|p| p.source != "workspace") {
        locked.entry(p.name.as_str()).or_default().push(p);
    }
    let mut files: Vec<PathBuf> = dirs
        .filter_map(Result::ok)
        .filter_map(|d| std::fs::read_dir(d.path()).ok())
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    let (mut advisories, mut withdrawn, mut newest, mut unreadable, mut findings) =
        (0, 0, None::<String>, Vec::new(), Vec::new());
    for path in files {
        let parsed = std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| front_matter(&text).and_then(|toml_text| toml::from_str::<AdvisoryFile>(toml_text).ok()));
        let Some(file) = parsed else {
            unreadable.push(path.strip_prefix(db).unwrap_or(&path).display().to_string());
            continue;
        };
        let a = file.advisory;
        if a.withdrawn.is_some() {
            withdrawn += 1;
            continue;
        }
        advisories += 1;
        let date = value_text(&a.date);
        if newest.as_ref().is_none_or(|n| date > *n) {
            newest = Some(date.clone());
        }
        let Some(candidates) = locked.get(a.package.as_str()) else { continue };
        let safe: Result<Vec<semver::VersionReq>, _> = file
            .versions
            .patched
            .iter()
            .chain(&file.versions.unaffected)
            .map(|r| semver::VersionReq::parse(r))
            .collect();
        let Ok(safe) = safe else {
            unreadable.push(path.strip_prefix(db).unwrap_or(&path).display().to_string());
            continue;
        };
        for p in candidates {
            let Ok(version) = semver::Version::parse(&p.version) else { continue };
            if is_affected(&version, &safe) {
                findings.push(Finding {
                    id: a.id.clone(),
                    package: p.name.clone(),
                    version: p.version.clone(),
                    title: a.title.clone(),
                    date: date.clone(),
                    url: a.url.clone(),
                    patched: file.versions.patched.clone(),
                    informational: a.informational.clone(),
                });
            }
        }
    }
    AdvisoryCheck::Checked { database: db.display().to_string(), advisories, withdrawn, newest, unreadable, findings }
}

/// Everything the system page and `baspa audit` show.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub baspa: &'static str,
    pub rustc: Option<&'static str>,
    /// The database server's name and version, or why it could not be asked.
    pub database_server: String,
    pub assets: Vec<Asset>,
    pub dependencies: Vec<Package>,
    pub advisories: AdvisoryCheck,
}

/// `SQLite 3.46.1`, `PostgreSQL 16.4 on …`, `MySQL 10.11.6-MariaDB`.
pub async fn database_server(db: &DatabaseConnection) -> String {
    let backend = match db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => "SQLite",
        sea_orm::DbBackend::Postgres => "PostgreSQL",
        _ => "MySQL/MariaDB",
    };
    match baspa_db::dialect::server_version(db).await {
        // PostgreSQL's `version()` already starts with its name.
        Ok(v) if v.starts_with(backend) => v,
        Ok(v) => format!("{backend} {v}"),
        Err(e) => format!("{backend} (version unknown: {e})"),
    }
}

/// Builds the whole report around `database_server` (from [`database_server`], or why the
/// database could not be reached). The advisory check reads many small files, so it runs on the
/// blocking pool.
pub async fn report(
    database_server: String,
    admin_path: &str,
    theme_assets: Option<&Path>,
    advisory_db: Option<PathBuf>,
) -> Report {
    let dependencies = locked_packages();
    let for_check = dependencies.clone();
    let advisories = tokio::task::spawn_blocking(move || check_advisories(advisory_db.as_deref(), &for_check))
        .await
        .unwrap_or_else(|e| AdvisoryCheck::NotChecked {
            reason: format!("not checked: the check stopped ({e})"),
            is_configured: true,
        });
    Report {
        baspa: BASPA_VERSION,
        rustc: RUSTC_VERSION,
        database_server,
        assets: browser_assets(admin_path, theme_assets),
        dependencies,
        advisories,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sc4_sri_is_sha384_in_base64() {
        // `printf abc | openssl dgst -sha384 -binary | base64`
        assert_eq!(sri(b"abc"), "sha384-ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn");
    }

    #[test]
    fn op4_the_compiled_in_lock_file_lists_our_crates_and_dependencies() {
        let packages = locked_packages();
        assert!(packages.iter().any(|p| p.name == "baspa-site" && p.source == "workspace"));
        assert!(packages.iter().any(|p| p.name == "axum" && p.source == "crates.io"));
    }

    #[test]
    fn sc4_every_admin_asset_has_a_version_and_licence() {
        let assets = browser_assets("/admin", None);
        assert_eq!(assets.iter().filter(|a| a.url.starts_with("/admin/assets/")).count(), FILES.len());
        for a in &assets {
            assert!(!a.version.is_empty() && a.version != "unknown", "{a:?}");
            assert!(!a.licence.is_empty(), "{a:?}");
        }
        let ck = assets.iter().find(|a| a.url == "/admin/assets/ckeditor5.js");
        assert!(ck.is_some_and(|a| a.version.starts_with(|c: char| c.is_ascii_digit())));
    }

    #[test]
    fn sc4_without_a_database_the_check_says_not_checked() {
        let check = check_advisories(None, &locked_packages());
        let AdvisoryCheck::NotChecked { reason, .. } = check else { panic!("checked without a database") };
        assert!(reason.starts_with("not checked") && reason.contains("advisory-db"), "{reason}");
    }

    #[test]
    fn sc4_prerelease_counts_as_its_release() {
        let safe = [semver::VersionReq::parse(">= 1.2.0").unwrap_or_default()];
        assert!(!is_affected(&semver::Version::new(1, 2, 0), &safe));
        assert!(is_affected(&semver::Version::new(1, 1, 9), &safe));
        assert!(!is_affected(
            &semver::Version::parse("1.2.2+spec-1.1.0").unwrap_or(semver::Version::new(0, 0, 0)),
            &safe
        ));
    }
}
