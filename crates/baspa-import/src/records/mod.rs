//! Generic import (MG-7): records of a CSV, JSON or XML file become items of one content kind as
//! a TOML mapping file says (`mapping`), read by `read`. Like the WordPress import, every write is
//! a baspa-actions function called as the actor "importer", each record is recorded in
//! `import_map` (`records:<source>`, the record's id and language, a checksum of the record and
//! the mapping) right after its actions, so a second run changes nothing and a changed record
//! becomes a new revision. Records whose group column is equal become the language versions of
//! one item. Bad records are reported with their number and id; the others are imported.

pub mod mapping;
pub mod read;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use baspa_actions::imports::record_import;
use baspa_actions::{
    ActionError, Actor, Ctx, NewItemInput, TranslationInput, add_translation, create_item, move_to_section,
    publish_translation, revise_translation, set_item_tags, submit_for_review, unpublish_translation,
};
use baspa_db::entity::import_map;
use baspa_db::imports::{self, NewMapping};
use baspa_domain::{ContentStatus, ItemId, ItemKind, LangCode, Slug, TranslationId, UserId};
use sea_orm::DatabaseConnection;
use serde::Serialize;
use serde_json::{Value, json};

pub use mapping::{Format, Mapping};
pub use read::{Record, RecordProblem, Records};

use crate::run::Tally;

#[derive(Debug, Clone, Default)]
pub struct RecordsOptions {
    /// Read, resolve and count; write nothing.
    pub dry_run: bool,
    /// Called with a line of progress now and then (the CLI prints it).
    pub progress: Option<fn(&str)>,
}

/// What a run did, in the shape of the WordPress report: counts per object kind (`record`,
/// `tag`) and every problem with the record number and external id.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RecordsReport {
    pub dry_run: bool,
    /// The import map source, `records:<source>`.
    pub source: String,
    pub kind: String,
    pub records_read: u64,
    /// Items the records made or touched (a group of translations is one item).
    pub items: u64,
    pub tallies: BTreeMap<String, Tally>,
    pub problems: Vec<RecordProblem>,
}

impl RecordsReport {
    /// Everything this run wrote (zero on a repeated run over an unchanged file).
    pub fn changes(&self) -> u64 {
        self.tallies.values().map(|t| t.created + t.updated).sum()
    }

    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    fn tally(&mut self, kind: &str) -> &mut Tally {
        self.tallies.entry(kind.to_owned()).or_default()
    }

    fn problem(&mut self, row: &Row, message: impl Into<String>) {
        self.problems.push(RecordProblem::new(Some(row.number), Some(row.id.clone()), message));
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    #[error("{0}")]
    Mapping(String),
    #[error("{0}")]
    Read(String),
    #[error("language {0} is not configured on this site; add it before importing")]
    UnknownLanguage(String),
    #[error(transparent)]
    Action(#[from] ActionError),
    #[error(transparent)]
    Store(#[from] baspa_db::StoreError),
    #[error(transparent)]
    Db(#[from] baspa_db::DbErr),
}

/// One record made ready for the actions.
#[derive(Debug, Clone)]
struct Row {
    number: u64,
    id: String,
    lang: LangCode,
    group: String,
    title: String,
    slug: Option<Slug>,
    body: String,
    excerpt: String,
    section: Option<String>,
    tags: Vec<String>,
    author: Option<String>,
    status: ContentStatus,
    published_at: Option<chrono::DateTime<chrono::Utc>>,
    fields: Value,
    checksum: String,
    /// The record's key in the import map (its id and language).
    key: i64,
}

/// A 63-bit import map key for a text id (the map keys rows by number, WordPress ids being
/// numbers); collisions inside one file are checked and reported.
fn key_of(parts: &[&str]) -> i64 {
    let mut h = blake3::Hasher::new();
    for p in parts {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    let bytes = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&bytes.as_bytes()[..8]);
    (u64::from_le_bytes(first) >> 1) as i64
}

fn group_key(group: &str) -> i64 {
    key_of(&["group", group])
}

/// Turns one record into a row, or says why it cannot be imported. Softer findings (a slug that
/// is not usable) go to `notes` and the row is still imported.
fn prepare(
    mapping: &Mapping,
    languages: &[LangCode],
    record: &Record,
    notes: &mut Vec<RecordProblem>,
) -> Result<Row, RecordProblem> {
    let c = &mapping.columns;
    let raw_id = record.text(&c.id).ok().flatten().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let fail = |message: String| RecordProblem::new(Some(record.number), raw_id.clone(), message);
    let Some(id) = raw_id.clone() else {
        return Err(fail(format!("the id column {:?} is missing or empty", c.id)));
    };
    let text = |column: &Option<String>| -> Result<Option<String>, RecordProblem> {
        match column {
            None => Ok(None),
            Some(col) => record.text(col).map_err(&fail),
        }
    };
    let lang = match &mapping.language {
        mapping::LanguageFrom::Fixed(code) => code.clone(),
        mapping::LanguageFrom::Column(col) => {
            let raw = record.text(col).map_err(&fail)?.unwrap_or_default();
            let code = LangCode::parse(raw.trim())
                .map_err(|_| fail(format!("language {raw:?} (column {col:?}) is not a language code")))?;
            if !languages.contains(&code) {
                return Err(fail(format!("language {code} is not configured on this site")));
            }
            code
        }
    };
    let title = text(&Some(c.title.clone()))?.map(|t| t.trim().to_owned()).unwrap_or_default();
    if title.is_empty() {
        return Err(fail(format!("the title column {:?} is missing or empty", c.title)));
    }
    let slug = match text(&c.slug)?.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => match Slug::parse(&raw).or_else(|_| Slug::from_title(&raw, lang.as_str())) {
            Ok(s) => Some(s),
            Err(e) => {
                notes.push(RecordProblem::new(
                    Some(record.number),
                    Some(id.clone()),
                    format!("{e}; the slug is made from the title"),
                ));
                None
            }
        },
    };
    let status = match text(&c.status)? {
        Some(raw) => mapping.status_of(&raw).ok_or_else(|| {
            fail(format!("status {raw:?} is not known; map it under [status_values] to draft, in_review or published"))
        })?,
        None => mapping.default_status,
    };
    let published_at = match text(&c.published_at)?.filter(|s| !s.trim().is_empty()) {
        Some(raw) => Some(mapping.parse_date(&raw).map_err(&fail)?),
        None => None,
    };
    let tags = match &c.tags {
        None => Vec::new(),
        Some(col) => {
            let values: Vec<String> = match record.get(col) {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(list)) => list
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect(),
                Some(_) => record
                    .text(col)
                    .map_err(&fail)?
                    .unwrap_or_default()
                    .split(mapping.tag_separator.as_str())
                    .map(str::to_owned)
                    .collect(),
            };
            let mut seen = HashSet::new();
            values
                .into_iter()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty() && seen.insert(t.to_lowercase()))
                .collect()
        }
    };
    let group = text(&c.group)?
        .map(|g| g.trim().to_owned())
        .filter(|g| !g.is_empty())
        .unwrap_or_else(|| format!("{id}\u{1f}{lang}"));
    let mut custom = serde_json::Map::new();
    for (name, col) in &mapping.fields {
        if let Some(v) = record.get(col) {
            custom.insert(name.clone(), v.clone());
        }
    }
    if mapping.keep_other_columns {
        let mut used: HashSet<&str> = c.used().into_iter().collect();
        used.extend(mapping.fields.values().map(String::as_str));
        if let mapping::LanguageFrom::Column(col) = &mapping.language {
            used.insert(col.as_str());
        }
        // `tags` is not a column of its own when `tags/tag` is used (an empty XML `<tags/>`).
        let is_parent_of_used = |k: &str| used.iter().any(|u| u.strip_prefix(k).is_some_and(|r| r.starts_with('/')));
        for (k, v) in &record.fields {
            if !used.contains(k.as_str()) && !is_parent_of_used(k) && !custom.contains_key(k) {
                custom.insert(k.clone(), v.clone());
            }
        }
    }
    let fields = json!({"import": {"source": mapping.source_name(), "id": id, "fields": custom}});
    let content = serde_json::to_string(&(&record.fields, &record.markup)).unwrap_or_default();
    let checksum = key_checksum(&[&mapping.fingerprint, lang.as_str(), &content]);
    Ok(Row {
        number: record.number,
        key: key_of(&["record", &id, lang.as_str()]),
        id,
        lang,
        group,
        title,
        slug,
        body: text(&c.body)?.unwrap_or_default(),
        excerpt: text(&c.excerpt)?.unwrap_or_default(),
        section: text(&c.section)?.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
        tags,
        author: text(&c.author)?.map(|a| a.trim().to_lowercase()).filter(|a| !a.is_empty()),
        status,
        published_at,
        fields,
        checksum,
    })
}

fn key_checksum(parts: &[&str]) -> String {
    let mut h = blake3::Hasher::new();
    for p in parts {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    h.finalize().to_hex().to_string()
}

/// Every section's language versions, to find a section by slug, title or path.
struct Sections {
    /// (item, parent, lang, slug, title lower-cased)
    rows: Vec<(i64, Option<i64>, String, String, String)>,
}

impl Sections {
    async fn load(db: &DatabaseConnection) -> Result<Self, RecordsError> {
        let items = baspa_db::content::items_of_kind(db, ItemKind::Section).await?;
        let parents: HashMap<i64, Option<i64>> = items.iter().map(|i| (i.id, i.parent_id)).collect();
        let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
        let rows = baspa_db::content::translations_of_items(db, &ids, false)
            .await?
            .into_iter()
            .filter(|t| t.status != ContentStatus::Trashed.as_str())
            .map(|t| (t.item_id, parents.get(&t.item_id).copied().flatten(), t.lang, t.slug, t.title.to_lowercase()))
            .collect();
        Ok(Self { rows })
    }

    /// Sections matching one path segment under `parent` (`None`: anywhere when `anywhere`).
    fn matching(&self, segment: &str, lang: Option<&str>, parent: Option<i64>, anywhere: bool) -> BTreeSet<i64> {
        let lowered = segment.to_lowercase();
        let derived = Slug::from_title(segment, lang.unwrap_or("ru")).ok();
        self.rows
            .iter()
            .filter(|(_, p, l, slug, title)| {
                (anywhere || *p == parent)
                    && lang.is_none_or(|want| want == l)
                    && (*slug == lowered || *title == lowered || derived.as_ref().is_some_and(|d| d.as_str() == slug))
            })
            .map(|(id, ..)| *id)
            .collect()
    }

    /// A section by slug or title (`economy`) or by path from the root (`news/economy`), in the
    /// record's language first, then in any language.
    fn find(&self, value: &str, lang: &str) -> Result<ItemId, String> {
        let segments: Vec<&str> = value.split('/').map(str::trim).filter(|s| !s.is_empty()).collect();
        for in_lang in [Some(lang), None] {
            let found = if segments.len() == 1 {
                self.matching(segments[0], in_lang, None, true)
            } else {
                let mut parents: BTreeSet<Option<i64>> = BTreeSet::from([None]);
                let mut found = BTreeSet::new();
                for segment in &segments {
                    found = parents.iter().flat_map(|p| self.matching(segment, in_lang, *p, false)).collect();
                    parents = found.iter().map(|id| Some(*id)).collect();
                }
                found
            };
            match found.len() {
                0 => continue,
                1 => return found.into_iter().next().map(ItemId).ok_or_else(String::new),
                _ => {
                    return Err(format!(
                        "section {value:?} is ambiguous (items {found:?}); give its path, e.g. parent/child"
                    ));
                }
            }
        }
        Err(format!("section {value:?} does not exist; create it first or fix the record"))
    }
}

/// Per-run lookups and caches.
struct Run<'a> {
    ctx: Ctx<'a>,
    mapping: &'a Mapping,
    dry_run: bool,
    source: String,
    maps: HashMap<(String, i64), import_map::Model>,
    sections: Sections,
    tags: HashMap<(String, String), Option<ItemId>>,
    authors: HashMap<String, Option<UserId>>,
}

impl Run<'_> {
    fn mapped(&self, kind: &str, key: i64) -> Option<&import_map::Model> {
        self.maps.get(&(kind.to_owned(), key))
    }

    async fn remember(
        &mut self,
        kind: &str,
        key: i64,
        status: &str,
        item: ItemId,
        lang: Option<&str>,
        sum: &str,
    ) -> Result<(), RecordsError> {
        let mapping = NewMapping {
            source: &self.source,
            object_kind: kind,
            source_id: key,
            source_status: status,
            target_kind: "item",
            target_id: item.0,
            target_lang: lang,
            checksum: sum,
        };
        record_import(&self.ctx, mapping).await?;
        self.maps.insert(
            (kind.to_owned(), key),
            import_map::Model {
                id: 0,
                source: self.source.clone(),
                object_kind: kind.to_owned(),
                source_id: key,
                source_status: status.to_owned(),
                target_kind: "item".into(),
                target_id: item.0,
                target_lang: lang.map(str::to_owned),
                checksum: sum.to_owned(),
                imported_at: self.ctx.now,
            },
        );
        Ok(())
    }

    async fn author(&mut self, email: &str) -> Result<Option<UserId>, RecordsError> {
        if let Some(found) = self.authors.get(email) {
            return Ok(*found);
        }
        let found = baspa_db::users::find_by_email(self.ctx.db, email).await?.map(|u| UserId(u.id));
        self.authors.insert(email.to_owned(), found);
        Ok(found)
    }

    /// The tag item for a name in a language: an existing tag with that slug or title, else a
    /// new published tag (counted under `tag`). `None` in a dry run for a tag not there yet.
    async fn tag(&mut self, name: &str, lang: &LangCode, report: &mut RecordsReport) -> Result<Option<ItemId>, String> {
        let cache_key = (lang.to_string(), name.to_lowercase());
        if let Some(found) = self.tags.get(&cache_key) {
            return Ok(*found);
        }
        let slug = Slug::from_title(name, lang.as_str()).map_err(|e| format!("tag {name:?}: {e}"))?;
        let scope = ItemKind::Tag.slug_scope(None);
        let existing = baspa_db::content::find_any_status(self.ctx.db, lang.as_str(), &scope, slug.as_str())
            .await
            .map_err(|e| e.to_string())?;
        let found = match existing {
            Some(t) => Some(ItemId(t.item_id)),
            None if self.dry_run => {
                report.tally("tag").created += 1;
                None
            }
            None => {
                let mut tr = TranslationInput::new(lang.clone(), name, "");
                tr.slug = Some(slug);
                let created = create_item(&self.ctx, NewItemInput::new(ItemKind::Tag, vec![tr]))
                    .await
                    .map_err(|e| format!("tag {name:?}: {e}"))?;
                if let Some(tid) = created.translation(lang.as_str()) {
                    publish_translation(&self.ctx, tid, None).await.map_err(|e| format!("tag {name:?}: {e}"))?;
                }
                report.tally("tag").created += 1;
                Some(created.item_id)
            }
        };
        self.tags.insert(cache_key, found);
        Ok(found)
    }

    /// The tags of a row; a tag that cannot be made is reported and left out.
    async fn tags_of(&mut self, row: &Row, report: &mut RecordsReport) -> Vec<ItemId> {
        let mut out = Vec::new();
        for name in &row.tags {
            match self.tag(name, &row.lang, report).await {
                Ok(Some(id)) if !out.contains(&id) => out.push(id),
                Ok(_) => {}
                Err(message) => report.problem(row, message),
            }
        }
        out
    }
}

/// Reads `bytes` with the mapping and imports the records (see the module docs). The format is
/// the mapping's, else the one `file_name` suggests.
pub async fn import_records(
    db: &DatabaseConnection,
    mapping: &Mapping,
    file_name: &str,
    bytes: &[u8],
    options: &RecordsOptions,
) -> Result<RecordsReport, RecordsError> {
    let format = mapping.format.or_else(|| Format::from_file_name(file_name)).ok_or_else(|| {
        RecordsError::Mapping(format!(
            "cannot tell the format of {file_name}; set format = \"csv\" | \"json\" | \"jsonl\" | \"xml\" in the mapping"
        ))
    })?;
    if format == Format::Xml && mapping.record.is_none() {
        return Err(RecordsError::Mapping("an XML source needs `record = \"<element name>\"` in the mapping".into()));
    }
    let languages: Vec<LangCode> = baspa_db::languages::list(db).await?.into_iter().map(|l| l.code).collect();
    if let mapping::LanguageFrom::Fixed(code) = &mapping.language
        && !languages.contains(code)
    {
        return Err(RecordsError::UnknownLanguage(code.to_string()));
    }
    let Records { records, problems } = read::read(bytes, format, mapping).map_err(RecordsError::Read)?;
    let mut report = RecordsReport {
        dry_run: options.dry_run,
        source: mapping.source_name(),
        kind: mapping.kind.as_str().to_owned(),
        records_read: records.len() as u64 + problems.iter().filter(|p| p.record.is_some()).count() as u64,
        problems,
        ..Default::default()
    };

    // Rows, grouped into items in the order they first appear.
    let mut groups: Vec<(String, Vec<Row>)> = Vec::new();
    let mut group_at: HashMap<String, usize> = HashMap::new();
    let mut seen: HashMap<i64, (String, String, u64)> = HashMap::new();
    for record in &records {
        let mut notes = Vec::new();
        let row = match prepare(mapping, &languages, record, &mut notes) {
            Ok(row) => row,
            Err(p) => {
                report.problems.push(p);
                continue;
            }
        };
        report.problems.extend(notes);
        if let Some((id, lang, first)) = seen.get(&row.key) {
            let message = if *id == row.id && *lang == row.lang.as_str() {
                format!("id {id:?} in {lang} was already given by record {first}; this record is not imported")
            } else {
                format!("the import key of this record equals that of record {first}; give it another id")
            };
            report.problem(&row, message);
            continue;
        }
        seen.insert(row.key, (row.id.clone(), row.lang.to_string(), row.number));
        let at = *group_at.entry(row.group.clone()).or_insert_with(|| {
            groups.push((row.group.clone(), Vec::new()));
            groups.len() - 1
        });
        let rows = &mut groups[at].1;
        if let Some(first) = rows.iter().find(|r| r.lang == row.lang) {
            let message = format!(
                "group {:?} already has a {} version (record {}); this record is not imported",
                row.group, row.lang, first.number
            );
            report.problem(&row, message);
            continue;
        }
        rows.push(row);
    }

    let actor = Actor::system("importer");
    let source = mapping.source_name();
    let maps =
        imports::of_source(db, &source).await?.into_iter().map(|r| ((r.object_kind.clone(), r.source_id), r)).collect();
    let mut run = Run {
        ctx: Ctx::new(db, &actor),
        mapping,
        dry_run: options.dry_run,
        source,
        maps,
        sections: Sections::load(db).await?,
        tags: HashMap::new(),
        authors: HashMap::new(),
    };
    let total = groups.len();
    for (done, (group, rows)) in groups.iter().enumerate() {
        if done % 100 == 0
            && let Some(progress) = options.progress
        {
            progress(&format!("{}: {done}/{total} items", run.source));
        }
        import_group(&mut run, group, rows, &mut report).await?;
    }
    if !options.dry_run {
        let summary = json!({"changes": report.changes(), "tallies": report.tallies, "records_read": report.records_read,
            "items": report.items, "problems": report.problems, "clean": report.is_clean()});
        baspa_actions::imports::record_import_report(&run.ctx, &run.source, summary).await?;
    }
    Ok(report)
}

/// Imports one group of rows (the language versions of one item). Problems of a row are
/// reported and the next row goes on; only storage failures stop the run.
async fn import_group(
    run: &mut Run<'_>,
    group: &str,
    rows: &[Row],
    report: &mut RecordsReport,
) -> Result<(), RecordsError> {
    let changed: Vec<&Row> =
        rows.iter().filter(|r| run.mapped("record", r.key).is_none_or(|m| m.checksum != r.checksum)).collect();
    report.tally("record").unchanged += (rows.len() - changed.len()) as u64;
    if changed.is_empty() {
        return Ok(());
    }
    report.items += 1;
    // The item: the group's, else one a row of it made before.
    let gkey = group_key(group);
    let mut item = run
        .mapped("group", gkey)
        .or_else(|| rows.iter().find_map(|r| run.mapped("record", r.key)))
        .map(|m| ItemId(m.target_id));
    if let Some(id) = item
        && matches!(baspa_db::content::get_item(run.ctx.db, id).await, Err(baspa_db::StoreError::NotFound(_)))
    {
        // Deleted in Baspa since the last run: the records make a new item.
        item = None;
    }
    let mut section_of_group: Option<ItemId> = None;
    // The tags of the rows resolved in the loop (their problems reported once).
    let mut tags_by_row: HashMap<i64, Vec<ItemId>> = HashMap::new();
    for row in changed {
        let section = match &row.section {
            Some(value) => match run.sections.find(value, row.lang.as_str()) {
                Ok(id) => Some(id),
                Err(message) => {
                    report.problem(row, message);
                    continue;
                }
            },
            None => None,
        };
        if let (Some(first), Some(this)) = (section_of_group, section)
            && first != this
        {
            report.problem(
                row,
                format!("this version names another section than the group's first ({first}); the first wins"),
            );
        }
        let author = match &row.author {
            Some(email) => {
                let found = run.author(email).await?;
                if found.is_none() {
                    report.problem(row, format!("author {email} has no account; the item is imported without one"));
                }
                found
            }
            None => None,
        };
        let was_mapped = run.mapped("record", row.key).is_some();
        if run.dry_run {
            run.tags_of(row, report).await;
            let t = report.tally("record");
            if was_mapped {
                t.updated += 1
            } else {
                t.created += 1
            }
            continue;
        }
        let tags = run.tags_of(row, report).await;
        tags_by_row.insert(row.key, tags.clone());
        match import_row(run, row, item, section_of_group.or(section), author, tags, report).await {
            Ok(id) => {
                item = Some(id);
                section_of_group = section_of_group.or(section);
                if run.mapped("group", gkey).is_none_or(|m| m.target_id != id.0) {
                    run.remember("group", gkey, "", id, None, "").await?;
                }
                run.remember("record", row.key, row.status.as_str(), id, Some(row.lang.as_str()), &row.checksum)
                    .await?;
                let t = report.tally("record");
                if was_mapped { t.updated += 1 } else { t.created += 1 }
            }
            Err(RecordsError::Action(ActionError::Internal(e))) => return Err(ActionError::Internal(e).into()),
            Err(RecordsError::Store(e)) => return Err(e.into()),
            Err(RecordsError::Db(e)) => return Err(e.into()),
            Err(e) => report.problem(row, e.to_string()),
        }
    }
    // Item-level parts: the section of the first changed version, the tags of all versions.
    if !run.dry_run
        && let Some(id) = item
    {
        let current = baspa_db::content::get_item(run.ctx.db, id).await?;
        if let Some(section) = section_of_group
            && current.section_id != Some(section.0)
            && let Err(e) = move_to_section(&run.ctx, id, Some(section)).await
            && let Some(row) = rows.first()
        {
            report.problem(row, e.to_string());
        }
        let mut tags = Vec::new();
        // Versions that are in the item (imported now or before); a refused record adds none.
        let imported: Vec<&Row> = rows.iter().filter(|r| run.mapped("record", r.key).is_some()).collect();
        for row in imported.into_iter().filter(|_| run.mapping.columns.tags.is_some()) {
            let of_row = match tags_by_row.remove(&row.key) {
                Some(known) => known,
                None => run.tags_of(row, report).await,
            };
            for t in of_row {
                if !tags.contains(&t) {
                    tags.push(t);
                }
            }
        }
        let before = baspa_db::content::tag_ids_of(run.ctx.db, id).await?;
        if run.mapping.columns.tags.is_some()
            && before.iter().copied().collect::<BTreeSet<_>>() != tags.iter().map(|t| t.0).collect::<BTreeSet<_>>()
            && let Err(e) = set_item_tags(&run.ctx, id, &tags).await
            && let Some(row) = rows.first()
        {
            report.problem(row, e.to_string());
        }
    }
    Ok(())
}

/// Writes one changed or new row: creates the item, adds or revises its language version, then
/// brings its status where the record says. Returns the item.
async fn import_row(
    run: &mut Run<'_>,
    row: &Row,
    item: Option<ItemId>,
    section: Option<ItemId>,
    author: Option<UserId>,
    tags: Vec<ItemId>,
    report: &mut RecordsReport,
) -> Result<ItemId, RecordsError> {
    let ctx = &run.ctx;
    let lang = row.lang.as_str();
    let mut tr = TranslationInput::new(row.lang.clone(), &row.title, &row.body);
    tr.excerpt = row.excerpt.clone();
    tr.slug = row.slug.clone();
    tr.fields = row.fields.clone();
    let slug_taken = |report: &mut RecordsReport, e: &ActionError| {
        report.problem(row, format!("{e}; the slug is made from the title instead"));
    };
    let (item_id, tid) = match item {
        None => {
            let mut input = NewItemInput::new(run.mapping.kind, vec![tr.clone()]);
            if matches!(run.mapping.kind, ItemKind::Article | ItemKind::Document) {
                input.section = section;
            }
            input.author = author;
            input.tags = tags;
            let created = match create_item(ctx, input.clone()).await {
                Err(e @ ActionError::SlugTaken { .. }) => {
                    slug_taken(report, &e);
                    input.translations[0].slug = None;
                    create_item(ctx, input).await?
                }
                other => other?,
            };
            let tid = created.translation(lang).ok_or_else(|| ActionError::Invalid("no translation created".into()))?;
            (created.item_id, tid)
        }
        Some(item) => {
            let existing =
                baspa_db::content::translations_of_item(ctx.db, item).await?.into_iter().find(|t| t.lang == lang);
            let tid = match existing {
                Some(current) => {
                    let tid = TranslationId(current.id);
                    // Without a slug in the record, the address stays what it was (a changed
                    // title does not move a live page).
                    if tr.slug.is_none() {
                        tr.slug = Slug::parse(&current.slug).ok();
                    }
                    match revise_translation(ctx, tid, tr.clone(), Some("changed in the import source")).await {
                        Err(e @ ActionError::SlugTaken { .. }) => {
                            slug_taken(report, &e);
                            let input = TranslationInput { slug: None, ..tr };
                            revise_translation(ctx, tid, input, Some("changed in the import source")).await?;
                        }
                        other => {
                            other?;
                        }
                    }
                    tid
                }
                None => match add_translation(ctx, item, tr.clone()).await {
                    Err(e @ ActionError::SlugTaken { .. }) => {
                        slug_taken(report, &e);
                        add_translation(ctx, item, TranslationInput { slug: None, ..tr }).await?
                    }
                    other => other?,
                },
            };
            (item, tid)
        }
    };
    let current = ContentStatus::parse(&baspa_db::content::get_translation(ctx.db, tid).await?.status)
        .map_err(|e| ActionError::Invalid(e.to_string()))?;
    let is_live = matches!(current, ContentStatus::Published | ContentStatus::Scheduled);
    match row.status {
        // Publishing again puts the new revision live (CM-10: a live version changes only when
        // published).
        ContentStatus::Published => publish_translation(ctx, tid, row.published_at).await?,
        ContentStatus::Draft if is_live => unpublish_translation(ctx, tid, None).await?,
        ContentStatus::InReview if is_live => {
            unpublish_translation(ctx, tid, None).await?;
            submit_for_review(ctx, tid).await?;
        }
        ContentStatus::InReview if current == ContentStatus::Draft => submit_for_review(ctx, tid).await?,
        _ => {}
    }
    Ok(item_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mg7_import_keys_are_stable_non_negative_and_distinct() {
        let a = key_of(&["record", "1", "kk"]);
        assert_eq!(a, key_of(&["record", "1", "kk"]));
        assert!(a >= 0);
        assert_ne!(a, key_of(&["record", "1", "ru"]));
        assert_ne!(key_of(&["record", "1k", "k"]), key_of(&["record", "1", "kk"]));
    }
}
