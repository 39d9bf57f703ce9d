//! The import run (MG-1..MG-6): users, terms, attachments, posts and pages, comments and
//! redirects, in that order, each object through the baspa-actions functions as the actor
//! "importer" and recorded in the import map right after, so a second run changes nothing, a
//! killed run resumes, and a later run picks up only new or changed source objects.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use baspa_actions::imports::{
    ImportMark, ImportMediaInput, ImportTarget, ImportedState, import_comment, import_comment_moderation, import_item,
    import_media, import_revision, import_user, record_import,
};
use baspa_actions::{ActionError, Actor, CommentInput, Ctx, NewItemInput, TranslationInput};
use baspa_db::entity::import_map;
use baspa_db::imports;
use baspa_domain::{
    CommentId, CommentStatus, ContentStatus, ItemId, ItemKind, LangCode, LanguageRouting, MediaId, Role, SanitizedHtml,
    Slug, TranslationId, UserId,
};
use sea_orm::DatabaseConnection;
use serde::Serialize;
use serde_json::{Value, json};

use crate::links::Links;
use crate::model::{Post, Problem, Site, parse_gmt};
use crate::pairing::{self, Pairing, Story};
use crate::permalinks;
use crate::php;
use crate::rewrite::{Rewriter, percent_decode};

/// One WordPress site to import into one Baspa language.
pub struct SiteSource {
    pub lang: LangCode,
    pub site: Site,
    /// The site's `wp-content/uploads` folder.
    pub uploads: PathBuf,
}

impl SiteSource {
    pub fn source_name(&self) -> String {
        format!("wordpress:{}", self.lang)
    }
}

/// Receives the import's progress, phase by phase (MG-6): the CLI draws a bar per phase on a
/// terminal and plain lines otherwise; library callers and tests may leave it out.
pub trait Progress: Send + Sync {
    /// A phase (`users`, `terms`, `media`, `posts`, `links`, `comments`, `redirects`) starts with
    /// `total` objects to go through, over all sources.
    fn start(&self, phase: &str, total: u64);
    /// One more object of the current phase is done.
    fn advance(&self);
    /// The current phase is over.
    fn finish(&self);
}

#[derive(Clone)]
pub struct ImportOptions {
    pub dry_run: bool,
    /// (first source id, second source id) pairs that always win (MG-2).
    pub explicit_pairs: Vec<(i64, i64)>,
    /// Two versions of a story further apart than this are never paired.
    pub pair_window_minutes: i64,
    pub max_media_bytes: usize,
    /// Told of each phase and object (the CLI's progress bars; MG-6).
    pub progress: Option<std::sync::Arc<dyn Progress>>,
}

impl std::fmt::Debug for ImportOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportOptions")
            .field("dry_run", &self.dry_run)
            .field("explicit_pairs", &self.explicit_pairs.len())
            .field("pair_window_minutes", &self.pair_window_minutes)
            .field("max_media_bytes", &self.max_media_bytes)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            dry_run: false,
            explicit_pairs: Vec::new(),
            pair_window_minutes: 45,
            max_media_bytes: 64 * 1024 * 1024,
            progress: None,
        }
    }
}

/// Objects created, updated and left unchanged per object kind, per source.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Tally {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub dry_run: bool,
    /// `source → object kind → tally`.
    pub tallies: BTreeMap<String, BTreeMap<String, Tally>>,
    pub redirects_added: u64,
    pub pairing: Pairing,
    pub problems: Vec<SourceProblem>,
    /// Old URLs that have no new address, with the reason.
    pub unmapped_urls: Vec<String>,
    /// Objects the import leaves out by design (revisions, menu items …) per source and type.
    pub not_imported: BTreeMap<String, BTreeMap<String, u64>>,
    /// What an object became that is worth knowing but is no problem (a private post kept as a
    /// draft), with the source id.
    pub notes: Vec<SourceProblem>,
    /// Internal links of the bodies (MG-5).
    pub links: LinkReport,
}

/// How the bodies' links into the old sites were rewritten, counted over the final bodies of
/// this run's posts and pages.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LinkReport {
    /// Pointed straight at the new address of their target.
    pub to_new_url: u64,
    /// Unknown target: kept as the old path, which a redirect answers with 301 (if it has one).
    pub to_old_path: u64,
    /// `source post-id path` of each link kept as an old path.
    pub old_paths: Vec<String>,
    /// Bodies that got a new revision because a link could now point at its new address.
    pub bodies_relinked: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceProblem {
    pub source: String,
    #[serde(flatten)]
    pub problem: Problem,
}

impl ImportReport {
    /// Everything this run wrote (zero on a repeated run over an unchanged source).
    pub fn changes(&self) -> u64 {
        let objects: u64 = self.tallies.values().flat_map(|m| m.values()).map(|t| t.created + t.updated).sum();
        objects + self.redirects_added + self.links.bodies_relinked
    }

    fn tally(&mut self, source: &str, kind: &str) -> &mut Tally {
        self.tallies.entry(source.to_owned()).or_default().entry(kind.to_owned()).or_default()
    }

    fn problem(&mut self, source: &str, problem: Problem) {
        self.problems.push(SourceProblem { source: source.to_owned(), problem });
    }

    fn note(&mut self, source: &str, note: Problem) {
        self.notes.push(SourceProblem { source: source.to_owned(), problem: note });
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("language {0} is not configured on this site; add it before importing")]
    UnknownLanguage(String),
    #[error(transparent)]
    Action(#[from] ActionError),
    #[error(transparent)]
    Store(#[from] baspa_db::StoreError),
    #[error(transparent)]
    Db(#[from] baspa_db::DbErr),
}

/// Post types imported as items.
const CONTENT_TYPES: [&str; 2] = ["post", "page"];
/// Meta that describes WordPress's own bookkeeping, not content; not kept as custom fields.
const TECHNICAL_META: [&str; 9] = [
    "_edit_lock",
    "_edit_last",
    "_thumbnail_id",
    "_wp_attached_file",
    "_wp_attachment_metadata",
    "_encloseme",
    "_pingme",
    "_wp_trash_meta_status",
    "_wp_trash_meta_time",
];

fn checksum(parts: &[&str]) -> String {
    let mut h = blake3::Hasher::new();
    for p in parts {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    h.finalize().to_hex().to_string()
}

fn post_checksum(site: &Site, p: &Post) -> String {
    let meta = format!(
        "{:?}",
        p.meta.iter().filter(|(k, _)| !matches!(k.as_str(), "_edit_lock" | "_edit_last")).collect::<Vec<_>>()
    );
    let terms = format!("{:?}", p.terms);
    let sticky = site.sticky.contains(&p.id).to_string();
    checksum(&[
        &p.title,
        &p.content,
        &p.excerpt,
        &p.status,
        &p.name,
        &p.date_gmt,
        &p.date_local,
        &p.parent.to_string(),
        &p.author.to_string(),
        &meta,
        &terms,
        &sticky,
    ])
}

/// What a WordPress status becomes in Baspa (private has no Baspa equivalent: draft, with the
/// WordPress status kept in the custom fields).
pub fn target_status(
    wp_status: &str,
    publish_at: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> ContentStatus {
    match wp_status {
        "publish" => ContentStatus::Published,
        "future" if publish_at.is_some_and(|t| t > now) => ContentStatus::Scheduled,
        "future" => ContentStatus::Published,
        "pending" => ContentStatus::InReview,
        "trash" => ContentStatus::Trashed,
        _ => ContentStatus::Draft,
    }
}

fn role_of(wp_role: &str) -> Role {
    match wp_role {
        "administrator" => Role::Administrator,
        "editor" => Role::Editor,
        "author" | "contributor" => Role::Author,
        _ => Role::Viewer,
    }
}

fn role_rank(r: Role) -> u8 {
    match r {
        Role::Administrator => 5,
        Role::ChiefEditor => 4,
        Role::Editor => 3,
        Role::Author => 2,
        Role::Translator => 1,
        Role::Viewer => 0,
    }
}

/// A readable Baspa slug from a WordPress slug: Latin slugs kept as they are, percent-encoded
/// Cyrillic ones transliterated (ML-8); `None` lets the action derive one from the title.
fn slug_from_wp(name: &str, lang: &str) -> Option<Slug> {
    let decoded = percent_decode(name);
    let decoded = decoded.trim_end_matches("__trashed");
    if decoded.is_empty() {
        return None;
    }
    Slug::parse(decoded).ok().or_else(|| Slug::from_title(&decoded.replace('-', " "), lang).ok())
}

struct Maps {
    rows: HashMap<(String, i64), import_map::Model>,
}

impl Maps {
    async fn load(db: &DatabaseConnection, source: &str) -> Result<Self, ImportError> {
        let rows = imports::of_source(db, source)
            .await?
            .into_iter()
            .map(|r| ((r.object_kind.clone(), r.source_id), r))
            .collect();
        Ok(Self { rows })
    }

    fn get(&self, kind: &str, id: i64) -> Option<&import_map::Model> {
        self.rows.get(&(kind.to_owned(), id))
    }

    fn target(&self, kind: &str, id: i64) -> Option<i64> {
        self.get(kind, id).map(|r| r.target_id)
    }
}

/// Per-source state built while importing.
struct SourceState {
    name: String,
    host: String,
    maps: Maps,
    /// Attachment id → blake3 of its file.
    attachment_hash: HashMap<i64, String>,
    /// Attachment id → `/media/<key>`.
    attachment_url: HashMap<i64, String>,
    /// Upload path (original and every size variant) → `/media/<key>`.
    upload_url: HashMap<String, String>,
}

/// Keeps the import-map row an import action just committed in the run's picture of the map.
fn note(maps: &mut Maps, mark: &ImportMark<'_>, target_kind: &str, target_id: i64) {
    maps.rows.insert(
        (mark.object_kind.to_owned(), mark.source_id),
        import_map::Model {
            id: 0,
            source: mark.source.to_owned(),
            object_kind: mark.object_kind.to_owned(),
            source_id: mark.source_id,
            source_status: mark.source_status.to_owned(),
            target_kind: target_kind.to_owned(),
            target_id,
            target_lang: mark.target_lang.map(str::to_owned),
            checksum: mark.checksum.to_owned(),
            imported_at: chrono::Utc::now(),
        },
    );
}

/// The import map of one object kind and source object, pointing at a row that already exists.
async fn map_existing(
    ctx: &Ctx<'_>,
    maps: &mut Maps,
    mark: ImportMark<'_>,
    target_kind: &str,
    target_id: i64,
) -> Result<(), ImportError> {
    record_import(ctx, mark.mapping(target_kind, target_id)).await?;
    note(maps, &mark, target_kind, target_id);
    Ok(())
}

/// Imports the sources (the first is the primary language; with two sources, stories of the
/// second are paired with the first) into the Baspa database.
pub async fn import(
    db: &DatabaseConnection,
    media_dir: &Path,
    sources: &[SiteSource],
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let actor = Actor::system("importer");
    let ctx = Ctx::new(db, &actor);
    let now = chrono::Utc::now();
    let languages = baspa_db::languages::list(db).await?;
    let mut report = ImportReport { dry_run: options.dry_run, ..Default::default() };
    let mut states = Vec::new();
    for src in sources {
        let host = match languages.iter().find(|l| l.code == src.lang).map(|l| &l.routing) {
            Some(LanguageRouting::Host(h)) => h.to_ascii_lowercase(),
            Some(LanguageRouting::PathPrefix(_)) => String::new(),
            // A dry run may come before the languages exist; a real run needs them.
            None if options.dry_run => String::new(),
            None => return Err(ImportError::UnknownLanguage(src.lang.to_string())),
        };
        let name = src.source_name();
        for p in &src.site.problems {
            report.problem(&name, p.clone());
        }
        let maps = Maps::load(db, &name).await?;
        states.push(SourceState {
            name,
            host,
            maps,
            attachment_hash: HashMap::new(),
            attachment_url: HashMap::new(),
            upload_url: HashMap::new(),
        });
    }

    // Users: one account per e-mail across all sources (MG-2).
    let total = |f: &dyn Fn(&SiteSource) -> usize| sources.iter().map(f).sum::<usize>() as u64;
    phase(options, "users", total(&|s| s.site.users.len()));
    let mut account_roles: HashMap<String, (Role, String)> = HashMap::new();
    for (src, st) in sources.iter().zip(states.iter_mut()) {
        for u in &src.site.users {
            let sum = checksum(&[&u.email, &u.display_name, &u.role, &u.login]);
            let role = role_of(&u.role);
            let email = u.email.trim().to_lowercase();
            if let Some((other, from)) = account_roles.get(&email)
                && *other != role
            {
                report.problem(
                    &st.name,
                    Problem::new(
                        "user",
                        Some(u.id),
                        format!(
                            "{email} is {} here but {} on {from}; the account keeps the higher role",
                            role.as_str(),
                            other.as_str()
                        ),
                    ),
                );
            }
            let keep = match account_roles.get(&email) {
                Some((other, _)) if role_rank(*other) >= role_rank(role) => *other,
                _ => role,
            };
            account_roles.insert(email.clone(), (keep, st.name.clone()));
            tick(options);
            if st.maps.get("user", u.id).is_some_and(|m| m.checksum == sum) {
                report.tally(&st.name, "user").unchanged += 1;
                continue;
            }
            if options.dry_run {
                report.tally(&st.name, "user").created += 1;
                continue;
            }
            // WordPress's phpass hashes are not carried over: the person sets a new password
            // through the reset link.
            let random: [u8; 24] = rand::random();
            let password: String = random.iter().map(|b| format!("{b:02x}")).collect();
            let name = if u.display_name.trim().is_empty() { &u.login } else { &u.display_name };
            let mark = ImportMark {
                source: &st.name,
                object_kind: "user",
                source_id: u.id,
                source_status: &u.role,
                target_lang: None,
                checksum: &sum,
            };
            match import_user(&ctx, &email, name, keep, &password, mark).await {
                Ok(id) => note(&mut st.maps, &mark, "user", id.0),
                Err(e) => {
                    report.problem(&st.name, Problem::new("user", Some(u.id), format!("{email}: {e}")));
                    continue;
                }
            }
            report.tally(&st.name, "user").created += 1;
        }
    }

    // Terms: categories (nested → sections, parents first) and tags.
    let is_term = |t: &crate::model::Term| t.taxonomy == "category" || t.taxonomy == "post_tag";
    phase(options, "terms", total(&|s| s.site.terms.iter().filter(|t| is_term(t)).count()));
    for (src, st) in sources.iter().zip(states.iter_mut()) {
        let lang = src.lang.as_str();
        let mut cats: Vec<_> = src.site.terms.iter().filter(|t| t.taxonomy == "category").collect();
        let depth = |id: i64| permalinks::category_path(&src.site, id).matches('/').count();
        cats.sort_by_key(|t| (depth(t.term_id), t.term_id));
        let tags = src.site.terms.iter().filter(|t| t.taxonomy == "post_tag");
        for t in cats.into_iter().chain(tags) {
            let (kind, item_kind) =
                if t.taxonomy == "category" { ("category", ItemKind::Section) } else { ("post_tag", ItemKind::Tag) };
            tick(options);
            let sum = checksum(&[&t.name, &t.slug, &t.parent.to_string()]);
            if st.maps.get(kind, t.term_id).is_some_and(|m| m.checksum == sum) {
                report.tally(&st.name, kind).unchanged += 1;
                continue;
            }
            if options.dry_run {
                report.tally(&st.name, kind).created += 1;
                continue;
            }
            let mark = ImportMark {
                source: &st.name,
                object_kind: kind,
                source_id: t.term_id,
                source_status: "publish",
                target_lang: Some(lang),
                checksum: &sum,
            };
            if let Some(existing) = st.maps.get(kind, t.term_id) {
                // Renamed term: a new revision with the new name.
                let item = ItemId(existing.target_id);
                if let Some(tid) = translation_of(db, item, lang).await? {
                    let mut input = TranslationInput::new(src.lang.clone(), &t.name, "");
                    input.slug = None;
                    import_revision(&ctx, tid, input, Some("changed in WordPress"), true, Some(mark)).await?;
                    note(&mut st.maps, &mark, "item", item.0);
                } else {
                    map_existing(&ctx, &mut st.maps, mark, "item", item.0).await?;
                }
                report.tally(&st.name, kind).updated += 1;
                continue;
            }
            let parent = (t.parent != 0).then(|| st.maps.target("category", t.parent)).flatten().map(ItemId);
            let mut tr = TranslationInput::new(src.lang.clone(), &t.name, "");
            tr.slug = slug_from_wp(&t.slug, lang);
            tr.fields = json!({"wordpress": {"source": st.name, "term_id": t.term_id, "slug": t.slug}});
            let mut input = NewItemInput::new(item_kind, vec![tr.clone()]);
            input.parent = parent;
            let published = ImportedState::Published(None);
            let created = match import_item(&ctx, ImportTarget::NewItem(input.clone()), published, mark).await {
                Err(ActionError::SlugTaken { .. }) => {
                    input.translations[0].slug = None;
                    import_item(&ctx, ImportTarget::NewItem(input), published, mark).await
                }
                other => other,
            };
            match created {
                Ok((item, _)) => note(&mut st.maps, &mark, "item", item.0),
                Err(e) => {
                    report.problem(&st.name, Problem::new(kind, Some(t.term_id), e.to_string()));
                    continue;
                }
            }
            report.tally(&st.name, kind).created += 1;
        }
        for t in src.site.terms.iter().filter(|t| t.taxonomy != "category" && t.taxonomy != "post_tag") {
            *report
                .not_imported
                .entry(st.name.clone())
                .or_default()
                .entry(format!("term:{}", t.taxonomy))
                .or_default() += 1;
        }
    }

    // Attachments: the original file of each, checked like an upload, stored as it is.
    phase(options, "media", total(&|s| s.site.posts.iter().filter(|p| p.post_type == "attachment").count()));
    for (src, st) in sources.iter().zip(states.iter_mut()) {
        for a in src.site.posts.iter().filter(|p| p.post_type == "attachment") {
            tick(options);
            let Some(rel) = a.meta1("_wp_attached_file").map(str::to_owned) else {
                report.problem(&st.name, Problem::new("attachment", Some(a.id), "no _wp_attached_file meta"));
                continue;
            };
            let path = src.uploads.join(&rel);
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) => {
                    report
                        .problem(&st.name, Problem::new("attachment", Some(a.id), format!("{}: {e}", path.display())));
                    continue;
                }
            };
            let hash = blake3::hash(&bytes).to_hex().to_string();
            st.attachment_hash.insert(a.id, hash.clone());
            let variants = upload_variants(a, &rel, &mut report, &st.name);
            let sum = checksum(&[
                &hash,
                &rel,
                &a.title,
                a.meta1("_wp_attachment_image_alt").unwrap_or(""),
                &a.parent.to_string(),
            ]);
            let media_id = match st.maps.get("attachment", a.id).cloned() {
                Some(m) if m.checksum == sum => {
                    report.tally(&st.name, "attachment").unchanged += 1;
                    Some(m.target_id)
                }
                _ if options.dry_run => {
                    report.tally(&st.name, "attachment").created += 1;
                    None
                }
                existing => {
                    let alt = a.meta1("_wp_attachment_image_alt").unwrap_or("");
                    let name = rel.rsplit('/').next().unwrap_or(&rel).to_owned();
                    let input = ImportMediaInput {
                        original_name: &name,
                        bytes: &bytes,
                        alt: json!({ src.lang.as_str(): alt }),
                        max_bytes: options.max_media_bytes,
                    };
                    let mark = ImportMark {
                        source: &st.name,
                        object_kind: "attachment",
                        source_id: a.id,
                        source_status: &a.status,
                        target_lang: None,
                        checksum: &sum,
                    };
                    match import_media(&ctx, media_dir, input, mark).await {
                        Ok(MediaId(id)) => {
                            note(&mut st.maps, &mark, "media", id);
                            let t = report.tally(&st.name, "attachment");
                            if existing.is_some() {
                                t.updated += 1
                            } else {
                                t.created += 1
                            }
                            Some(id)
                        }
                        Err(e) => {
                            report.problem(&st.name, Problem::new("attachment", Some(a.id), e.to_string()));
                            None
                        }
                    }
                }
            };
            if let Some(id) = media_id
                && let Some(m) = baspa_db::content::media_by_ids(db, &[id]).await?.into_iter().next()
            {
                let url = format!("/media/{}", m.storage_key);
                st.attachment_url.insert(a.id, url.clone());
                for v in variants {
                    st.upload_url.insert(v, url.clone());
                }
                st.upload_url.insert(rel.clone(), url);
            }
        }
    }

    // Pairing between the first two sources (MG-2).
    if sources.len() >= 2 {
        let stories = |i: usize| -> Vec<Story> { stories_of(&sources[i].site, &states[i]) };
        let window = options.pair_window_minutes * 60;
        report.pairing = pairing::pair(&stories(0), &stories(1), &options.explicit_pairs, window);
    }
    let partner: HashMap<i64, i64> = report.pairing.pairs.iter().map(|p| (p.b, p.a)).collect();

    // Posts and pages.
    let is_content =
        |p: &Post| CONTENT_TYPES.contains(&p.post_type.as_str()) && p.status != "auto-draft" && p.status != "inherit";
    phase(options, "posts", total(&|s| s.site.posts.iter().filter(|p| is_content(p)).count()));
    // Links to what earlier runs imported already point to their new address (MG-5); the rest are
    // pointed there by the second pass below, once every post exists.
    let links = {
        let maps: Vec<_> = states.iter().map(|st| &st.maps.rows).collect();
        Links::load(db, sources, &maps).await?
    };
    for (i, src) in sources.iter().enumerate() {
        let mut content: Vec<&Post> = src.site.posts.iter().filter(|p| is_content(p)).collect();
        // Parents before children (pages), pages before posts.
        let depth = |p: &Post| {
            let mut d = 0;
            let mut parent = p.parent;
            while parent != 0 && d < 16 {
                parent = src.site.post(parent).map(|x| x.parent).unwrap_or(0);
                d += 1;
            }
            d
        };
        content.sort_by_key(|p| (p.post_type != "page", depth(p), p.id));
        for p in &src.site.posts {
            if !CONTENT_TYPES.contains(&p.post_type.as_str()) && p.post_type != "attachment" {
                *report
                    .not_imported
                    .entry(states[i].name.clone())
                    .or_default()
                    .entry(p.post_type.clone())
                    .or_default() += 1;
            } else if p.status == "auto-draft" {
                *report
                    .not_imported
                    .entry(states[i].name.clone())
                    .or_default()
                    .entry("auto-draft".into())
                    .or_default() += 1;
            }
        }
        for p in content {
            tick(options);
            let primary_item = if i > 0 {
                partner.get(&p.id).and_then(|a| states[0].maps.get("post", *a)).map(|m| ItemId(m.target_id))
            } else {
                None
            };
            let step = Step { links: &links, options, now };
            if let Err(e) = import_post(&ctx, src, &mut states, i, p, primary_item, &step, &mut report).await {
                let name = states[i].name.clone();
                report.problem(&name, Problem::new(&p.post_type, Some(p.id), e.to_string()));
            }
        }
    }

    // Second pass over the bodies: links to posts imported in this run now have a target (MG-5).
    relink(&ctx, sources, &states, options, &mut report).await?;

    // Comments, parents first.
    phase(options, "comments", total(&|s| s.site.comments.len()));
    for (src, st) in sources.iter().zip(states.iter_mut()) {
        let mut comments: Vec<_> = src.site.comments.iter().collect();
        comments.sort_by_key(|c| c.id);
        for c in comments {
            tick(options);
            let sum = checksum(&[
                &c.content,
                &c.approved,
                &c.author,
                &c.author_email,
                &c.parent.to_string(),
                &c.post_id.to_string(),
            ]);
            let status = match c.approved.as_str() {
                "1" => CommentStatus::Approved,
                "spam" => CommentStatus::Spam,
                "trash" | "post-trashed" => CommentStatus::Trash,
                _ => CommentStatus::Pending,
            };
            // One mark for either outcome: a moderation change or a new comment.
            let mark = ImportMark {
                source: &st.name,
                object_kind: "comment",
                source_id: c.id,
                source_status: &c.approved,
                target_lang: Some(src.lang.as_str()),
                checksum: &sum,
            };
            if let Some(m) = st.maps.get("comment", c.id) {
                if m.checksum == sum {
                    report.tally(&st.name, "comment").unchanged += 1;
                    continue;
                }
                if options.dry_run {
                    report.tally(&st.name, "comment").updated += 1;
                    continue;
                }
                let target = CommentId(m.target_id);
                import_comment_moderation(&ctx, target, status, mark).await?;
                note(&mut st.maps, &mark, "comment", target.0);
                report.tally(&st.name, "comment").updated += 1;
                continue;
            }
            if options.dry_run {
                report.tally(&st.name, "comment").created += 1;
                continue;
            }
            let kind = src.site.post(c.post_id).map(|p| p.post_type.clone()).unwrap_or_default();
            let Some(item) = st.maps.target(&kind, c.post_id) else {
                report.problem(
                    &st.name,
                    Problem::new("comment", Some(c.id), format!("its {kind} {} was not imported", c.post_id)),
                );
                continue;
            };
            let parent = (c.parent != 0).then(|| st.maps.target("comment", c.parent)).flatten().map(CommentId);
            if c.parent != 0 && parent.is_none() {
                report.problem(
                    &st.name,
                    Problem::new("comment", Some(c.id), format!("its parent comment {} was not imported", c.parent)),
                );
            }
            let author = if c.author.trim().is_empty() { "—" } else { c.author.as_str() };
            let body = if c.comment_type == "pingback" || c.comment_type == "trackback" {
                format!("[{}] {}", c.comment_type, c.content)
            } else {
                c.content.clone()
            };
            let email = Some(c.author_email.as_str()).filter(|e| !e.is_empty());
            let input = CommentInput {
                item_id: ItemId(item),
                lang: src.lang.as_str(),
                parent,
                author_name: author,
                author_email: email,
                body: &body,
                status,
                posted_at: parse_gmt(&c.date_gmt),
            };
            match import_comment(&ctx, input, mark).await {
                Ok(id) => {
                    note(&mut st.maps, &mark, "comment", id.0);
                    report.tally(&st.name, "comment").created += 1;
                }
                Err(e) => report.problem(&st.name, Problem::new("comment", Some(c.id), e.to_string())),
            }
        }
    }

    // Redirects of every old URL (MG-4).
    let mut wanted = Vec::new();
    for (src, st) in sources.iter().zip(states.iter()) {
        wanted.push(crate::redirects::old_urls(db, src, &st.maps.rows, &mut report.unmapped_urls).await?);
    }
    phase(options, "redirects", wanted.iter().map(Vec::len).sum::<usize>() as u64);
    for ((src, st), wanted) in sources.iter().zip(states.iter()).zip(wanted) {
        let done = || tick(options);
        crate::redirects::add_all(&ctx, src, st.host.as_str(), wanted, options.dry_run, &mut report, &done).await?;
    }
    if let Some(progress) = &options.progress {
        progress.finish();
    }
    Ok(report)
}

/// The upload paths of an attachment's size variants (from `_wp_attachment_metadata`), and its
/// original when WordPress scaled or rotated it.
fn upload_variants(a: &Post, rel: &str, report: &mut ImportReport, source: &str) -> Vec<String> {
    let Some(raw) = a.meta1("_wp_attachment_metadata") else { return Vec::new() };
    let meta = match php::unserialize(raw) {
        Ok(v) => v,
        Err(e) => {
            report.problem(source, Problem::new("meta", Some(a.id), format!("_wp_attachment_metadata: {e}")));
            return Vec::new();
        }
    };
    let dir = rel.rsplit_once('/').map(|(d, _)| format!("{d}/")).unwrap_or_default();
    let mut out = Vec::new();
    if let Some(sizes) = meta.get("sizes").and_then(Value::as_object) {
        for s in sizes.values() {
            if let Some(f) = s.get("file").and_then(Value::as_str) {
                out.push(format!("{dir}{f}"));
            }
        }
    }
    if let Some(f) = meta.get("original_image").and_then(Value::as_str) {
        out.push(format!("{dir}{f}"));
    }
    out
}

fn stories_of(site: &Site, st: &SourceState) -> Vec<Story> {
    site.posts
        .iter()
        .filter(|p| p.post_type == "post" && p.status == "publish")
        .filter_map(|p| {
            let at = parse_gmt(&p.date_gmt)?.timestamp();
            let mut images = HashSet::new();
            if let Some(h) =
                p.meta1("_thumbnail_id").and_then(|t| t.parse::<i64>().ok()).and_then(|t| st.attachment_hash.get(&t))
            {
                images.insert(h.clone());
            }
            for a in site.posts.iter().filter(|a| a.post_type == "attachment" && a.parent == p.id) {
                if let Some(h) = st.attachment_hash.get(&a.id) {
                    images.insert(h.clone());
                }
            }
            let text = format!("{} {}", p.title, SanitizedHtml::sanitize(&p.content).plain_text());
            Some(Story { id: p.id, at, images, numbers: pairing::numbers_in(&text) })
        })
        .collect()
}

async fn translation_of(
    db: &DatabaseConnection,
    item: ItemId,
    lang: &str,
) -> Result<Option<TranslationId>, ImportError> {
    Ok(baspa_db::content::translations_of_item(db, item)
        .await?
        .into_iter()
        .find(|t| t.lang == lang)
        .map(|t| TranslationId(t.id)))
}

/// The rewriter for one source's bodies.
fn rewriter(src: &SiteSource, st: &SourceState) -> (Vec<String>, HashMap<String, String>, HashMap<i64, String>) {
    let mut bases = vec![src.site.base_url().to_owned()];
    if src.site.siteurl.trim_end_matches('/') != src.site.base_url() && !src.site.siteurl.is_empty() {
        bases.push(src.site.siteurl.trim_end_matches('/').to_owned());
    }
    (bases, st.upload_url.clone(), st.attachment_url.clone())
}

/// The custom fields of an imported translation: where it came from and its post meta (MG-1).
fn fields_of(source: &str, p: &Post, report: &mut ImportReport) -> Value {
    let mut meta = serde_json::Map::new();
    for (k, values) in &p.meta {
        if TECHNICAL_META.contains(&k.as_str()) || k.starts_with("_menu_item_") {
            continue;
        }
        let decoded: Vec<Value> = values
            .iter()
            .map(|raw| match php::meta_value(raw) {
                Ok(v) => v,
                Err(e) => {
                    report
                        .problem(source, Problem::new("meta", Some(p.id), format!("{k}: {e}; the raw value is kept")));
                    Value::String(raw.clone())
                }
            })
            .collect();
        let v =
            if decoded.len() == 1 { decoded.into_iter().next().unwrap_or(Value::Null) } else { Value::Array(decoded) };
        meta.insert(k.clone(), v);
    }
    json!({"wordpress": {"source": source, "id": p.id, "type": p.post_type, "status": p.status,
        "date_local": p.date_local, "date_gmt": p.date_gmt, "slug": percent_decode(&p.name), "meta": meta}})
}

#[allow(clippy::too_many_arguments)]
async fn import_post(
    ctx: &Ctx<'_>,
    src: &SiteSource,
    states: &mut [SourceState],
    i: usize,
    p: &Post,
    primary_item: Option<ItemId>,
    step: &Step<'_>,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let Step { links, options, now } = *step;
    let lang = src.lang.as_str();
    let kind = p.post_type.as_str();
    let sum = post_checksum(&src.site, p);
    let st_name = states[i].name.clone();
    let existing = states[i].maps.get(kind, p.id).cloned();
    if existing.as_ref().is_some_and(|m| m.checksum == sum) {
        report.tally(&st_name, kind).unchanged += 1;
        return Ok(());
    }
    if options.dry_run {
        let t = report.tally(&st_name, kind);
        if existing.is_some() {
            t.updated += 1
        } else {
            t.created += 1
        }
        return Ok(());
    }
    let (bases, uploads, attachments) = rewriter(src, &states[i]);
    // A trashed post keeps its links' old paths: it is not rewritten again by the second pass.
    let links = (p.status != "trash").then_some((links, i));
    let rw = Rewriter { base_urls: bases, uploads: &uploads, attachments: &attachments, links };
    let (body, notes) = rw.rewrite(&p.content);
    for u in notes.unmapped_uploads {
        report.problem(
            &st_name,
            Problem::new(kind, Some(p.id), format!("upload {u} is not among the imported files; the link is kept")),
        );
    }
    let mut title = p.title.trim().to_owned();
    if title.is_empty() {
        title = format!("({kind} {})", p.id);
        report.problem(&st_name, Problem::new(kind, Some(p.id), format!("empty title; imported as {title:?}")));
    }
    let mut tr = TranslationInput::new(src.lang.clone(), &title, &body);
    tr.excerpt = p.excerpt.clone();
    tr.slug = slug_from_wp(&p.name, lang);
    tr.fields = fields_of(&st_name, p, report);
    let mark = ImportMark {
        source: &st_name,
        object_kind: kind,
        source_id: p.id,
        source_status: &p.status,
        target_lang: Some(lang),
        checksum: &sum,
    };
    if let Some(m) = existing {
        // Changed in the source since the last run (delta): a new revision, published if live.
        let Some(tid) = translation_of(ctx.db, ItemId(m.target_id), lang).await? else {
            return Ok(());
        };
        let status = baspa_db::content::get_translation(ctx.db, tid).await?.status;
        if status != ContentStatus::Trashed.as_str() {
            let input = TranslationInput { slug: None, ..tr };
            let is_live = status == ContentStatus::Published.as_str();
            import_revision(ctx, tid, input, Some("changed in WordPress"), is_live, Some(mark)).await?;
            note(&mut states[i].maps, &mark, "item", m.target_id);
        } else {
            map_existing(ctx, &mut states[i].maps, mark, "item", m.target_id).await?;
        }
        report.tally(&st_name, kind).updated += 1;
        return Ok(());
    }
    let st = &states[i];
    let section = permalinks::primary_category(&src.site, p).and_then(|c| st.maps.target("category", c)).map(ItemId);
    let tags: Vec<ItemId> = p
        .terms
        .iter()
        .filter(|t| src.site.term(**t).is_some_and(|t| t.taxonomy == "post_tag"))
        .filter_map(|t| st.maps.target("post_tag", *t))
        .map(ItemId)
        .collect();
    let featured = p.meta1("_thumbnail_id").and_then(|t| t.parse::<i64>().ok()).and_then(|t| {
        let m = st.maps.target("attachment", t);
        if m.is_none() {
            report.problem(&st_name, Problem::new(kind, Some(p.id), format!("featured image {t} was not imported")));
        }
        m
    });
    let author = st.maps.target("user", p.author).map(UserId);
    if p.status == "private" {
        report.note(
            &st_name,
            Problem::new(
                kind,
                Some(p.id),
                "private in WordPress: imported as a draft (Baspa has no private visibility); \
                 wordpress.status in its fields says private",
            ),
        );
    }
    let at = parse_gmt(&p.date_gmt);
    let state = match p.status.as_str() {
        "publish" | "future" => ImportedState::Published(at.or(Some(now))),
        "pending" => ImportedState::InReview,
        "trash" => ImportedState::Trashed { was_published: p.meta1("_wp_trash_meta_status") == Some("publish"), at },
        _ => ImportedState::Draft,
    };
    let target = match primary_item {
        Some(item) => ImportTarget::Translation(item, tr),
        None => {
            let mut input =
                NewItemInput::new(if kind == "page" { ItemKind::Page } else { ItemKind::Article }, vec![tr]);
            input.section = section;
            input.parent = if kind == "page" {
                (p.parent != 0).then(|| st.maps.target("page", p.parent)).flatten().map(ItemId)
            } else {
                None
            };
            input.position = p.menu_order as i32;
            input.author = author;
            input.tags = tags;
            input.is_sticky = src.site.sticky.contains(&p.id);
            input.featured_media = featured.map(MediaId);
            ImportTarget::NewItem(input)
        }
    };
    let (item_id, _) = match import_item(ctx, target.clone(), state, mark).await {
        // The old slug belongs to something else here: let the action derive a free one.
        Err(ActionError::SlugTaken { .. }) => {
            let target = match target {
                ImportTarget::Translation(item, tr) => {
                    ImportTarget::Translation(item, TranslationInput { slug: None, ..tr })
                }
                ImportTarget::NewItem(mut input) => {
                    input.translations[0].slug = None;
                    ImportTarget::NewItem(input)
                }
            };
            import_item(ctx, target, state, mark).await?
        }
        other => other?,
    };
    note(&mut states[i].maps, &mark, "item", item_id.0);
    report.tally(&st_name, kind).created += 1;
    Ok(())
}

/// Ends the previous phase and starts the next one.
fn phase(options: &ImportOptions, name: &str, total: u64) {
    if let Some(progress) = &options.progress {
        progress.finish();
        progress.start(name, total);
    }
}

fn tick(options: &ImportOptions) {
    if let Some(progress) = &options.progress {
        progress.advance();
    }
}

/// What every post of one run is imported with.
#[derive(Clone, Copy)]
struct Step<'a> {
    links: &'a Links,
    options: &'a ImportOptions,
    now: chrono::DateTime<chrono::Utc>,
}

/// The second pass over the bodies (MG-5): with every post imported, each body is rewritten again
/// with the complete link map, and a translation gets a new revision (published if live) only when
/// that changes its latest text, so a repeated run writes nothing. Counts the links of the final
/// bodies in the report.
async fn relink(
    ctx: &Ctx<'_>,
    sources: &[SiteSource],
    states: &[SourceState],
    options: &ImportOptions,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let maps: Vec<_> = states.iter().map(|st| &st.maps.rows).collect();
    let links = Links::load(ctx.db, sources, &maps).await?;
    let todo: Vec<(usize, &Post, i64)> = sources
        .iter()
        .enumerate()
        .flat_map(|(i, src)| {
            let st = &states[i];
            src.site.posts.iter().filter(|p| p.status != "trash").filter_map(move |p| {
                CONTENT_TYPES
                    .contains(&p.post_type.as_str())
                    .then(|| st.maps.target(&p.post_type, p.id))
                    .flatten()
                    .map(|item| (i, p, item))
            })
        })
        .collect();
    phase(options, "links", todo.len() as u64);
    for (i, p, item) in todo {
        tick(options);
        let (src, st) = (&sources[i], &states[i]);
        let (bases, uploads, attachments) = rewriter(src, st);
        let rw = Rewriter { base_urls: bases, uploads: &uploads, attachments: &attachments, links: Some((&links, i)) };
        let (body, notes) = rw.rewrite(&p.content);
        report.links.to_new_url += notes.new_url_links as u64;
        report.links.to_old_path += notes.old_path_links.len() as u64;
        for path in notes.old_path_links {
            report.links.old_paths.push(format!("{} {} {path}", st.name, p.id));
        }
        if notes.new_url_links == 0 || options.dry_run {
            continue;
        }
        let Some(tid) = translation_of(ctx.db, ItemId(item), src.lang.as_str()).await? else { continue };
        let t = baspa_db::content::get_translation(ctx.db, tid).await?;
        let Some(latest) = t.latest_revision_id else { continue };
        let latest = baspa_db::content::get_revision(ctx.db, latest).await?;
        let body = SanitizedHtml::sanitize(&body).into_string();
        if t.status == ContentStatus::Trashed.as_str() || latest.body == body {
            continue;
        }
        let input = TranslationInput {
            lang: src.lang.clone(),
            title: latest.title.clone(),
            slug: Slug::parse(&latest.slug).ok(),
            excerpt: latest.excerpt.clone(),
            body_html: body,
            meta_title: latest.meta_title.clone(),
            meta_description: latest.meta_description.clone(),
            meta_keywords: latest.meta_keywords.clone(),
            fields: latest.fields.clone(),
        };
        let is_live = t.status == ContentStatus::Published.as_str();
        let note = Some("links point to their new pages");
        match import_revision(ctx, tid, input, note, is_live, None).await {
            Ok(()) => report.links.bodies_relinked += 1,
            Err(e) => report.problem(&st.name, Problem::new(&p.post_type, Some(p.id), e.to_string())),
        }
    }
    Ok(())
}
