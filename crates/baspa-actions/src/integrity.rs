//! Integrity control (SC-5, SC-6): proof that what the site shows is what Baspa published.
//!
//! - Every action that publishes (or un-publishes) a translation or stores a media file writes a
//!   **seal** in its transaction: the hash of the published text (or of the file's bytes), the
//!   journal entry that recorded it, and a snapshot to restore from. The journal entry carries the
//!   same hash, so a seal edited by hand no longer matches the hash-chained journal.
//! - **Anchors**: the journal's chain head, signed with a key that lives in a file beside the
//!   data (never in the database), appended to a log file and to `journal_anchors`. Removing the
//!   newest journal rows leaves a signed anchor pointing at an entry that is gone.
//! - [`check`] recomputes everything and names each difference made outside Baspa;
//!   [`restore_sealed`] puts back the last good version of a translation or a media file.

use std::io::Write;
use std::path::{Path, PathBuf};

use baspa_db::content::{self as store, TranslationContent};
use baspa_db::entity::{journal_anchor, media, translation};
use baspa_db::{journal as journal_store, security as seal_store};
use baspa_domain::{Capability, ContentStatus, JournalEntryId, MediaId, TranslationId};
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use serde_json::json;

use crate::security::{IncidentReport, Severity, raise_incident};
use crate::{ActionError, Ctx, journal};

pub const TRANSLATION: &str = "translation";
pub const MEDIA: &str = "media";

/// The hash of a published text: every field a visitor can see, length-prefixed so no two
/// different texts hash alike.
pub fn content_seal(lang: &str, c: &TranslationContent) -> String {
    let fields: [String; 9] = [
        lang.to_owned(),
        c.title.clone(),
        c.slug.clone(),
        c.excerpt.clone(),
        c.body.clone(),
        c.meta_title.clone().unwrap_or_default(),
        c.meta_description.clone().unwrap_or_default(),
        c.meta_keywords.clone().unwrap_or_default(),
        journal_store::canonical_json(&c.fields),
    ];
    let mut h = blake3::Hasher::new();
    for f in &fields {
        h.update(&(f.len() as u64).to_le_bytes());
        h.update(f.as_bytes());
    }
    h.finalize().to_hex().to_string()
}

/// The seal of a translation row as it is now.
pub fn translation_seal(row: &translation::Model) -> String {
    content_seal(&row.lang, &TranslationContent::of(row))
}

/// Keeps a translation's seal in step with its status, after the action journalled `entry`:
/// published → an active seal of its live text; anything else → no active seal.
pub(crate) async fn reseal_translation(
    ctx: &Ctx<'_>,
    tx: &DatabaseTransaction,
    entry: JournalEntryId,
    row: &translation::Model,
) -> Result<(), ActionError> {
    let published = row.status == ContentStatus::Published.as_str();
    let seal = translation_seal(row);
    if let Some(active) = seal_store::active_seal(tx, TRANSLATION, row.id).await? {
        if published && active.seal == seal && active.revision_id == row.live_revision_id {
            return Ok(());
        }
        seal_store::retire_seals(tx, TRANSLATION, row.id, ctx.now).await?;
    }
    if published {
        let snapshot = serde_json::to_value(TranslationContent::of(row)).ok();
        seal_store::insert_seal(
            tx,
            seal_store::NewSeal {
                subject_kind: TRANSLATION,
                subject_id: row.id,
                seal: &seal,
                revision_id: row.live_revision_id,
                journal_id: entry.0,
                snapshot,
            },
            ctx.now,
        )
        .await?;
    }
    Ok(())
}

/// Retires the seals of translations deleted by an action (purge).
pub(crate) async fn retire_translation_seals(
    ctx: &Ctx<'_>,
    tx: &DatabaseTransaction,
    ids: &[i64],
) -> Result<(), ActionError> {
    for id in ids {
        seal_store::retire_seals(tx, TRANSLATION, *id, ctx.now).await?;
    }
    Ok(())
}

/// Seals a stored media file; `sealed_copy` is where a copy of the bytes was kept (if any).
pub(crate) async fn seal_media(
    ctx: &Ctx<'_>,
    tx: &DatabaseTransaction,
    entry: JournalEntryId,
    row: &media::Model,
) -> Result<(), ActionError> {
    let snapshot = json!({"storage_key": row.storage_key, "bytes": row.byte_size, "mime": row.mime});
    seal_store::insert_seal(
        tx,
        seal_store::NewSeal {
            subject_kind: MEDIA,
            subject_id: row.id,
            seal: &row.content_hash,
            revision_id: None,
            journal_id: entry.0,
            snapshot: Some(snapshot),
        },
        ctx.now,
    )
    .await?;
    Ok(())
}

/// Where the sealed copies of media files are kept: beside the media folder, never served.
pub fn sealed_dir(media_dir: &Path) -> PathBuf {
    media_dir.parent().map(|p| p.join("sealed")).unwrap_or_else(|| PathBuf::from("sealed"))
}

/// Keeps a copy of a media file's bytes under its hash, so a replaced file can be put back.
pub(crate) async fn keep_sealed_copy(media_dir: &Path, hash: &str, bytes: &[u8]) -> std::io::Result<()> {
    let dir = sealed_dir(media_dir);
    tokio::fs::create_dir_all(&dir).await?;
    let path = dir.join(hash);
    if tokio::fs::try_exists(&path).await? {
        return Ok(());
    }
    let partial = dir.join(format!(".partial-{hash}"));
    tokio::fs::write(&partial, bytes).await?;
    tokio::fs::rename(&partial, &path).await
}

// ---------------------------------------------------------------------------------------------
// Anchors

/// The server's anchor key and the log of anchors, both outside the database.
#[derive(Clone)]
pub struct AnchorKeeper {
    key: [u8; 32],
    log: PathBuf,
}

impl std::fmt::Debug for AnchorKeeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("AnchorKeeper").field("log", &self.log).finish_non_exhaustive()
    }
}

/// One line of the anchor log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorLine {
    pub journal_id: i64,
    pub head_hash: String,
    pub entries: i64,
    pub created_at: String,
    pub signature: String,
}

impl AnchorKeeper {
    /// Opens (or creates, readable by the owner only) `journal-anchor.key` and
    /// `journal-anchors.log` in `dir`.
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let key_path = dir.join("journal-anchor.key");
        let key = match std::fs::read(&key_path) {
            Ok(bytes) if bytes.len() == 32 => {
                let mut key = [0u8; 32];
                key.copy_from_slice(&bytes);
                key
            }
            Ok(_) => {
                return Err(std::io::Error::other(format!(
                    "{} is not a 32-byte key; restore it from the backup",
                    key_path.display()
                )));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key: [u8; 32] = rand::random();
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                options.open(&key_path)?.write_all(&key)?;
                key
            }
            Err(e) => return Err(e),
        };
        Ok(Self { key, log: dir.join("journal-anchors.log") })
    }

    fn sign(&self, journal_id: i64, head_hash: &str, entries: i64, created_at: &str) -> String {
        let message = format!("{journal_id}|{head_hash}|{entries}|{created_at}");
        blake3::keyed_hash(&self.key, message.as_bytes()).to_hex().to_string()
    }

    /// Anchors the current chain head unless it is already the newest anchor.
    pub async fn anchor(&self, db: &DatabaseConnection) -> Result<Option<journal_anchor::Model>, ActionError> {
        let Some((journal_id, head_hash, entries)) = journal_store::head(db).await? else {
            return Ok(None);
        };
        if self.latest().map(|a| a.journal_id) == Some(journal_id) {
            return Ok(None);
        }
        let now = baspa_domain::time::now();
        let created_at = now.to_rfc3339();
        let entries = entries as i64;
        let signature = self.sign(journal_id, &head_hash, entries, &created_at);
        let line = format!("{journal_id}\t{head_hash}\t{entries}\t{created_at}\t{signature}\n");
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .and_then(|mut f| f.write_all(line.as_bytes()).and_then(|_| f.sync_data()))
            .map_err(|e| ActionError::Invalid(format!("cannot write the anchor log {}: {e}", self.log.display())))?;
        let row = journal_anchor::Model { id: 0, journal_id, head_hash, entries, signature, created_at: now };
        Ok(Some(seal_store::insert_anchor(db, row).await?))
    }

    /// Every anchor in the log, oldest first; unreadable lines are reported by [`check`].
    pub fn lines(&self) -> Vec<Result<AnchorLine, String>> {
        let Ok(text) = std::fs::read_to_string(&self.log) else { return Vec::new() };
        text.lines()
            .enumerate()
            .map(|(n, line)| {
                let parts: Vec<&str> = line.split('\t').collect();
                match parts.as_slice() {
                    [id, hash, entries, at, sig] => Ok(AnchorLine {
                        journal_id: id.parse().map_err(|_| format!("anchor log line {} is damaged", n + 1))?,
                        head_hash: (*hash).to_owned(),
                        entries: entries.parse().map_err(|_| format!("anchor log line {} is damaged", n + 1))?,
                        created_at: (*at).to_owned(),
                        signature: (*sig).to_owned(),
                    }),
                    _ => Err(format!("anchor log line {} is damaged", n + 1)),
                }
            })
            .collect()
    }

    fn latest(&self) -> Option<AnchorLine> {
        self.lines().into_iter().rev().find_map(Result::ok)
    }

    fn is_genuine(&self, a: &AnchorLine) -> bool {
        self.sign(a.journal_id, &a.head_hash, a.entries, &a.created_at) == a.signature
    }
}

// ---------------------------------------------------------------------------------------------
// The check

/// One difference made outside Baspa.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// Stable code of the problem, e.g. `text-changed`, `file-replaced`, `journal-edited`.
    pub problem: &'static str,
    /// The exact thing, e.g. `translation 12 (item 5, kk) «Title»` or `journal entry 41`.
    pub subject: String,
    pub detail: String,
    /// The seal to restore from, when Baspa can put the last good version back.
    pub restorable_seal: Option<i64>,
}

impl Finding {
    /// The incident cause: one incident per problem and thing.
    pub fn cause(&self) -> String {
        format!("integrity:{}:{}", self.problem, self.subject)
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct IntegrityReport {
    pub journal_entries: u64,
    pub seals_checked: u64,
    pub findings: Vec<Finding>,
}

/// Where the check finds files and anchors.
#[derive(Clone)]
pub struct IntegrityPaths {
    pub media_dir: PathBuf,
    pub anchors: Option<AnchorKeeper>,
}

/// Verifies the journal's chain and its newest anchor (`baspa journal verify`).
pub async fn check_journal(
    db: &DatabaseConnection,
    anchors: Option<&AnchorKeeper>,
) -> Result<IntegrityReport, ActionError> {
    let mut report = IntegrityReport::default();
    let chain = journal_store::verify_chain(db).await?;
    report.journal_entries = chain.entries;
    if let Some(b) = chain.first_break {
        report.findings.push(Finding {
            problem: "journal-edited",
            subject: format!("journal entry {}", b.entry_id),
            detail: b.reason,
            restorable_seal: None,
        });
    }
    let Some(keeper) = anchors else { return Ok(report) };
    let lines = keeper.lines();
    for damaged in lines.iter().filter_map(|l| l.as_ref().err()) {
        report.findings.push(Finding {
            problem: "anchor-damaged",
            subject: "journal anchor log".into(),
            detail: damaged.clone(),
            restorable_seal: None,
        });
    }
    if let Some(anchor) = lines.into_iter().rev().find_map(Result::ok) {
        if !keeper.is_genuine(&anchor) {
            report.findings.push(Finding {
                problem: "anchor-forged",
                subject: format!("journal anchor at entry {}", anchor.journal_id),
                detail: "the newest anchor's signature does not match the server's key".into(),
                restorable_seal: None,
            });
        } else {
            match journal_store::get(db, anchor.journal_id).await? {
                None if !pruned_through(db, anchor.journal_id).await? => report.findings.push(Finding {
                    problem: "journal-truncated",
                    subject: format!("journal entry {}", anchor.journal_id),
                    detail: format!(
                        "the journal was anchored at entry {} ({} entries) on {}, and that entry is gone: \
                         entries were removed from the end of the journal",
                        anchor.journal_id, anchor.entries, anchor.created_at
                    ),
                    restorable_seal: None,
                }),
                Some(e) if e.hash != anchor.head_hash => report.findings.push(Finding {
                    problem: "journal-rewritten",
                    subject: format!("journal entry {}", anchor.journal_id),
                    detail: "the entry differs from the anchored one: the journal was rewritten".into(),
                    restorable_seal: None,
                }),
                _ => {}
            }
        }
    }
    Ok(report)
}

/// True when a retention prune removed entries up to at least `id`.
async fn pruned_through(db: &DatabaseConnection, id: i64) -> Result<bool, ActionError> {
    Ok(latest_prune(db).await?.is_some_and(|(through, _)| through >= id))
}

/// The newest prune: (through_id, digest of the seals it vouched for).
async fn latest_prune(db: &impl sea_orm::ConnectionTrait) -> Result<Option<(i64, String)>, ActionError> {
    let filter =
        journal_store::JournalFilter { action: Some(journal_store::PRUNE_ACTION.into()), ..Default::default() };
    let prunes = journal_store::search(db, &filter, None, 1).await?;
    Ok(prunes.first().and_then(|p| {
        let after = p.after.as_ref()?;
        let through = after.get("through_id")?.as_i64()?;
        let digest = after.get("seals_digest").and_then(|d| d.as_str()).unwrap_or_default().to_owned();
        Some((through, digest))
    }))
}

/// The digest of every seal recorded up to a journal entry: a prune stores it, because the
/// entries that vouched for those seals are gone afterwards.
pub async fn seals_digest(db: &impl sea_orm::ConnectionTrait, through_id: i64) -> Result<String, ActionError> {
    let mut h = blake3::Hasher::new();
    for seal in seal_store::seals_through(db, through_id).await? {
        let line = format!("{}|{}|{}|{}|{};", seal.id, seal.subject_kind, seal.subject_id, seal.seal, seal.journal_id);
        h.update(line.as_bytes());
    }
    Ok(h.finalize().to_hex().to_string())
}

/// The whole check (`baspa integrity check`, the scheduled job): journal, anchors, every active
/// seal against the rows and files it covers, and published texts that have no seal.
pub async fn check(db: &DatabaseConnection, paths: &IntegrityPaths) -> Result<IntegrityReport, ActionError> {
    let mut report = check_journal(db, paths.anchors.as_ref()).await?;
    let mut sealed_translations = std::collections::HashSet::new();
    let prune = latest_prune(db).await?;
    // Seals whose journal entries were pruned are vouched for by the prune's digest instead.
    let pruned_seals_intact = match &prune {
        Some((through, digest)) => &seals_digest(db, *through).await? == digest,
        None => true,
    };
    let seals = seal_store::active_seals(db).await?;
    let sealing_ids: Vec<i64> = seals.iter().map(|s| s.journal_id).collect();
    let sealing_entries = journal_store::get_many(db, &sealing_ids).await?;
    for seal in seals {
        report.seals_checked += 1;
        let mut problems = Vec::new();
        let journal_agrees = match &prune {
            Some((through, _)) if seal.journal_id <= *through => pruned_seals_intact,
            _ => sealing_entries
                .get(&seal.journal_id)
                .and_then(|e| e.after.as_ref())
                .is_some_and(|after| after.to_string().contains(&seal.seal)),
        };
        if !journal_agrees {
            problems.push((
                "seal-tampered",
                format!("the recorded hash does not match journal entry {} that sealed it", seal.journal_id),
            ));
        }
        let subject = match seal.subject_kind.as_str() {
            TRANSLATION => {
                sealed_translations.insert(seal.subject_id);
                check_translation_seal(db, &seal, &mut problems).await?
            }
            MEDIA => check_media_seal(db, &paths.media_dir, &seal, &mut problems).await?,
            other => format!("{other} {}", seal.subject_id),
        };
        let restorable = seal.snapshot.is_some() && journal_agrees;
        for (problem, detail) in problems {
            report.findings.push(Finding {
                problem,
                subject: subject.clone(),
                detail,
                restorable_seal: restorable.then_some(seal.id),
            });
        }
    }
    // Ids first, rows only for the unsealed and a batch at a time: the check runs at every
    // start, whatever the size of the site.
    let unsealed: Vec<i64> = store::published_translation_ids(db)
        .await?
        .into_iter()
        .filter(|id| !sealed_translations.contains(id))
        .collect();
    for batch in unsealed.chunks(500) {
        for row in store::translations_by_ids(db, batch).await? {
            report.findings.push(Finding {
                problem: "published-unsealed",
                subject: describe_translation(&row),
                detail: "shown as published, but Baspa never published this version: changed in the database".into(),
                restorable_seal: None,
            });
        }
    }
    Ok(report)
}

fn describe_translation(row: &translation::Model) -> String {
    format!("translation {} (item {}, {}) «{}»", row.id, row.item_id, row.lang, row.title)
}

async fn check_translation_seal(
    db: &DatabaseConnection,
    seal: &baspa_db::entity::integrity_seal::Model,
    problems: &mut Vec<(&'static str, String)>,
) -> Result<String, ActionError> {
    let snapshot_title =
        seal.snapshot.as_ref().and_then(|s| s.get("title")).and_then(|t| t.as_str()).unwrap_or_default().to_owned();
    let row = match store::get_translation(db, TranslationId(seal.subject_id)).await {
        Ok(row) => row,
        Err(baspa_db::StoreError::NotFound(_)) => {
            problems.push(("translation-deleted", "the published translation row was deleted".into()));
            return Ok(format!("translation {} «{snapshot_title}»", seal.subject_id));
        }
        Err(e) => return Err(e.into()),
    };
    let subject = describe_translation(&row);
    if row.status != ContentStatus::Published.as_str() {
        problems.push(("status-changed", format!("status changed to {} outside Baspa", row.status)));
    }
    if translation_seal(&row) != seal.seal {
        let changed = changed_fields(seal.snapshot.as_ref(), &TranslationContent::of(&row));
        problems.push(("text-changed", format!("the published text was changed outside Baspa ({changed})")));
    }
    if row.live_revision_id != seal.revision_id {
        problems.push(("revision-switched", "the live revision was switched outside Baspa".into()));
    }
    if let Some(rev_id) = seal.revision_id {
        match store::get_revision(db, rev_id).await {
            Ok(rev) => {
                if content_seal(&rev.lang, &TranslationContent::of_revision(&rev)) != seal.seal {
                    let changed = changed_fields(seal.snapshot.as_ref(), &TranslationContent::of_revision(&rev));
                    problems.push((
                        "revision-changed",
                        format!("revision {} (the published one) was edited outside Baspa ({changed})", rev.number),
                    ));
                }
            }
            Err(baspa_db::StoreError::NotFound(_)) => problems
                .push(("revision-deleted", format!("the published revision (id {rev_id}) was deleted outside Baspa"))),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(subject)
}

/// Which visible fields differ from the sealed snapshot, for the report.
fn changed_fields(snapshot: Option<&serde_json::Value>, now: &TranslationContent) -> String {
    let Some(then) = snapshot.and_then(|s| serde_json::from_value::<TranslationContent>(s.clone()).ok()) else {
        return "no snapshot to compare".into();
    };
    let mut names = Vec::new();
    for (name, differs) in [
        ("title", then.title != now.title),
        ("slug", then.slug != now.slug),
        ("excerpt", then.excerpt != now.excerpt),
        ("body", then.body != now.body),
        ("meta title", then.meta_title != now.meta_title),
        ("meta description", then.meta_description != now.meta_description),
        ("meta keywords", then.meta_keywords != now.meta_keywords),
        ("fields", then.fields != now.fields),
    ] {
        if differs {
            names.push(name);
        }
    }
    if names.is_empty() { "language".into() } else { names.join(", ") }
}

async fn check_media_seal(
    db: &DatabaseConnection,
    media_dir: &Path,
    seal: &baspa_db::entity::integrity_seal::Model,
    problems: &mut Vec<(&'static str, String)>,
) -> Result<String, ActionError> {
    let sealed_key =
        seal.snapshot.as_ref().and_then(|s| s.get("storage_key")).and_then(|k| k.as_str()).unwrap_or_default();
    let row = match store::get_media(db, MediaId(seal.subject_id)).await {
        Ok(row) => row,
        Err(baspa_db::StoreError::NotFound(_)) => {
            problems.push(("media-deleted", "the media row was deleted outside Baspa".into()));
            return Ok(format!("media {} ({sealed_key})", seal.subject_id));
        }
        Err(e) => return Err(e.into()),
    };
    let subject = format!("media {} ({}, «{}»)", row.id, row.storage_key, row.original_name);
    if row.content_hash != seal.seal || row.storage_key != sealed_key {
        problems.push(("media-row-changed", "the media row's hash or file name was changed outside Baspa".into()));
    }
    let path = media_dir.join(sealed_key);
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            if blake3::hash(&bytes).to_hex().as_str() != seal.seal {
                problems.push(("file-replaced", format!("the file {sealed_key} was replaced or changed on disk")));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            problems.push(("file-missing", format!("the file {sealed_key} is missing from the media folder")))
        }
        Err(e) => problems.push(("file-unreadable", format!("the file {sealed_key} cannot be read: {e}"))),
    }
    Ok(subject)
}

/// Raises one incident per finding (an already open one only counts), as the actor of `ctx`.
pub async fn report_findings(ctx: &Ctx<'_>, report: &IntegrityReport) -> Result<usize, ActionError> {
    let mut opened = 0;
    for f in &report.findings {
        let raised = raise_incident(
            ctx,
            IncidentReport {
                cause: f.cause(),
                category: "integrity",
                severity: Severity::Critical,
                summary: format!("{}: {}", f.subject, f.detail),
                details: serde_json::to_value(f).ok(),
            },
        )
        .await?;
        if matches!(raised, crate::security::Raised::Opened(_)) {
            opened += 1;
        }
    }
    Ok(opened)
}

/// Puts back the last good version recorded by a seal: the published text (translation row and
/// its live revision) or the media file's bytes (from the sealed copy). Administrators only.
pub async fn restore_sealed(ctx: &Ctx<'_>, media_dir: &Path, seal_id: i64) -> Result<(), ActionError> {
    ctx.actor.require(Capability::ManageSettings, "restore content after an integrity alert")?;
    let tx = baspa_db::begin_write(ctx.db).await?;
    let seal = seal_store::get_seal(&tx, seal_id).await?;
    let vouched = match journal_store::get(&tx, seal.journal_id).await? {
        Some(e) => e.after.is_some_and(|after| after.to_string().contains(&seal.seal)),
        None => match latest_prune(&tx).await? {
            Some((through, digest)) => seal.journal_id <= through && seals_digest(&tx, through).await? == digest,
            None => false,
        },
    };
    if !vouched {
        return Err(ActionError::Invalid(
            "this seal does not match the journal, so its copy cannot be trusted; restore from a backup".into(),
        ));
    }
    match seal.subject_kind.as_str() {
        TRANSLATION => restore_translation(ctx, &tx, &seal).await?,
        MEDIA => restore_media(ctx, &tx, media_dir, &seal).await?,
        other => return Err(ActionError::Invalid(format!("cannot restore a {other}"))),
    }
    tx.commit().await?;
    Ok(())
}

async fn restore_translation(
    ctx: &Ctx<'_>,
    tx: &DatabaseTransaction,
    seal: &baspa_db::entity::integrity_seal::Model,
) -> Result<(), ActionError> {
    let content: TranslationContent = seal
        .snapshot
        .clone()
        .and_then(|s| serde_json::from_value(s).ok())
        .ok_or_else(|| ActionError::Invalid("the seal keeps no copy of the text".into()))?;
    let row = store::get_translation(tx, TranslationId(seal.subject_id))
        .await
        .map_err(|_| ActionError::Invalid("the translation row itself was deleted; restore it from a backup".into()))?;
    if content_seal(&row.lang, &content) != seal.seal {
        return Err(ActionError::Invalid("the kept copy does not match its seal; restore from a backup".into()));
    }
    let before =
        json!({"status": row.status, "seal": translation_seal(&row), "live_revision_id": row.live_revision_id});
    let revision = match seal.revision_id {
        Some(id) => match store::get_revision(tx, id).await {
            Ok(mut rev) => {
                apply_to_revision(&mut rev, &content);
                Some(store::save_revision(tx, rev).await?.id)
            }
            Err(baspa_db::StoreError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let revision = match revision {
        Some(id) => id,
        None => {
            let rev = store::insert_revision(
                tx,
                store::NewRevision {
                    translation: &row,
                    content: &content,
                    author_id: ctx.actor.user_id.map(|u| u.0),
                    ip: ctx.actor.ip.clone(),
                    note: Some("restored after an integrity alert".into()),
                },
                ctx.now,
            )
            .await?;
            rev.id
        }
    };
    let mut updated = row.clone();
    updated.title = content.title.clone();
    updated.slug = content.slug.clone();
    updated.excerpt = content.excerpt.clone();
    updated.body = content.body.clone();
    updated.meta_title = content.meta_title.clone();
    updated.meta_description = content.meta_description.clone();
    updated.meta_keywords = content.meta_keywords.clone();
    updated.fields = content.fields.clone();
    updated.status = ContentStatus::Published.as_str().to_owned();
    updated.live_revision_id = Some(revision);
    if updated.latest_revision_id.is_none_or(|latest| latest < revision) {
        updated.latest_revision_id = Some(revision);
    }
    updated.updated_at = ctx.now;
    let saved = store::save_translation(tx, updated).await?;
    let after = json!({"status": saved.status, "seal": translation_seal(&saved), "live_revision_id": revision,
                       "from_seal": seal.id});
    let entry = journal(ctx, tx, "integrity.restore", TRANSLATION, Some(saved.id), Some(before), Some(after)).await?;
    reseal_translation(ctx, tx, entry, &saved).await?;
    for kind in ["search.index", "cache.purge"] {
        baspa_db::jobs::enqueue(
            tx,
            kind,
            json!({"item_id": saved.item_id}),
            Some(format!("{kind}:{}", saved.item_id)),
            ctx.now,
        )
        .await?;
    }
    Ok(())
}

fn apply_to_revision(rev: &mut baspa_db::entity::revision::Model, c: &TranslationContent) {
    rev.title = c.title.clone();
    rev.slug = c.slug.clone();
    rev.excerpt = c.excerpt.clone();
    rev.body = c.body.clone();
    rev.meta_title = c.meta_title.clone();
    rev.meta_description = c.meta_description.clone();
    rev.meta_keywords = c.meta_keywords.clone();
    rev.fields = c.fields.clone();
    rev.body_hash = blake3::hash(c.body.as_bytes()).to_hex().to_string();
}

async fn restore_media(
    ctx: &Ctx<'_>,
    tx: &DatabaseTransaction,
    media_dir: &Path,
    seal: &baspa_db::entity::integrity_seal::Model,
) -> Result<(), ActionError> {
    let key = seal
        .snapshot
        .as_ref()
        .and_then(|s| s.get("storage_key"))
        .and_then(|k| k.as_str())
        .filter(|k| !k.contains('/') && !k.contains('\\') && !k.starts_with('.'))
        .ok_or_else(|| ActionError::Invalid("the seal keeps no file name".into()))?
        .to_owned();
    let copy = sealed_dir(media_dir).join(&seal.seal);
    let bytes = tokio::fs::read(&copy)
        .await
        .map_err(|_| ActionError::Invalid("no sealed copy of this file is kept; restore it from a backup".into()))?;
    if blake3::hash(&bytes).to_hex().as_str() != seal.seal {
        return Err(ActionError::Invalid("the sealed copy is damaged too; restore it from a backup".into()));
    }
    let mut row = store::get_media(tx, MediaId(seal.subject_id))
        .await
        .map_err(|_| ActionError::Invalid("the media row itself was deleted; restore it from a backup".into()))?;
    let partial = media_dir.join(format!(".partial-restore-{}", seal.id));
    let write = |e: std::io::Error| ActionError::Invalid(format!("cannot write the media folder: {e}"));
    tokio::fs::write(&partial, &bytes).await.map_err(write)?;
    tokio::fs::rename(&partial, media_dir.join(&key)).await.map_err(write)?;
    let before = json!({"storage_key": row.storage_key, "content_hash": row.content_hash});
    row.storage_key = key.clone();
    row.content_hash = seal.seal.clone();
    row.byte_size = bytes.len() as i64;
    store::save_media(tx, row).await?;
    let after = json!({"storage_key": key, "content_hash": seal.seal, "from_seal": seal.id});
    journal(ctx, tx, "integrity.restore", MEDIA, Some(seal.subject_id), Some(before), Some(after)).await?;
    Ok(())
}

/// Anchors and checks in one go, raising incidents (the scheduled job and `baspa integrity check`).
pub async fn run_scheduled_check(
    db: &DatabaseConnection,
    paths: &IntegrityPaths,
) -> Result<(IntegrityReport, usize), ActionError> {
    let report = check(db, paths).await?;
    let actor = crate::Actor::system("integrity-check");
    let opened = report_findings(&Ctx::new(db, &actor), &report).await?;
    if report.findings.is_empty()
        && let Some(keeper) = &paths.anchors
    {
        // Anchor only a journal that verified: an anchor vouches for everything before it.
        keeper.anchor(db).await?;
    }
    Ok((report, opened))
}
