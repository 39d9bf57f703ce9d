//! [`SearchIndex`]: one tantivy index in a directory of the data dir, opened or (re)created so a
//! missing, corrupt or outdated index never stops the site: it comes back empty with `rebuilt`
//! set, and the caller re-feeds it from the database.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use baspa_domain::{ContentStatus, ItemId, ItemKind, LangCode, TranslationId};
use tantivy::collector::Count;
use tantivy::directory::error::LockError;
use tantivy::directory::{Directory, INDEX_WRITER_LOCK, MmapDirectory};
use tantivy::query::AllQuery;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, TantivyError, Term};

use crate::analysis::{self, Analysis};
use crate::error::SearchError;
use crate::fold::compose;
use crate::schema::{self, Fields};
use crate::text::html_to_text;

/// One translation as the index sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchDoc {
    pub translation_id: TranslationId,
    pub item_id: ItemId,
    /// Picks the analyzer family (`kk`, `ru`, `en`; anything else is folded only).
    pub lang: LangCode,
    pub kind: ItemKind,
    pub status: ContentStatus,
    /// Plain text.
    pub title: String,
    /// Plain text or HTML (tags are stripped).
    pub excerpt: String,
    /// The sanitised body HTML; the index strips it with [`html_to_text`].
    pub body_html: String,
    pub section_ids: Vec<ItemId>,
    pub tags: Vec<String>,
    pub author: Option<String>,
    /// Unix seconds.
    pub published_at: Option<i64>,
}

/// Resources for indexing. The defaults suit a job worker beside a web server on two cores.
#[derive(Debug, Clone, Copy)]
pub struct IndexOptions {
    pub writer_threads: usize,
    /// Memory the writer buffers before it flushes a segment (tantivy needs at least 15 MB per
    /// thread).
    pub writer_memory_bytes: usize,
}

impl Default for IndexOptions {
    fn default() -> Self {
        IndexOptions { writer_threads: 1, writer_memory_bytes: 50_000_000 }
    }
}

/// What [`SearchIndex::open`] found.
pub struct Opened {
    pub index: SearchIndex,
    /// The index was missing, unreadable or of an older schema and is now empty: re-index every
    /// translation.
    pub rebuilt: bool,
    /// Why it was rebuilt, for the log.
    pub rebuild_reason: Option<String>,
}

pub struct SearchIndex {
    pub(crate) index: Index,
    pub(crate) reader: IndexReader,
    /// Taken on the first write, so a process that only searches (the web server beside a
    /// separate worker) never holds the writer lock.
    writer: Mutex<Option<IndexWriter>>,
    pub(crate) fields: Fields,
    options: IndexOptions,
}

impl SearchIndex {
    /// Opens the index in `dir` (created if needed), rebuilding it empty when it is missing,
    /// corrupt or of another schema. Errors only when the directory itself is unusable or
    /// another process is writing to it.
    pub fn open(dir: &Path) -> Result<Opened, SearchError> {
        SearchIndex::open_with(dir, IndexOptions::default())
    }

    pub fn open_with(dir: &Path, options: IndexOptions) -> Result<Opened, SearchError> {
        let unavailable = |source| SearchError::Unavailable { path: dir.to_path_buf(), source };
        std::fs::create_dir_all(dir).map_err(unavailable)?;
        let reason = match try_open(dir, options) {
            Ok(index) => return Ok(Opened { index, rebuilt: false, rebuild_reason: None }),
            Err(reason) => reason,
        };
        ensure_no_writer(dir)?;
        remove_index_files(dir).map_err(unavailable)?;
        let (schema, _) = schema::build();
        let index = SearchIndex::from_index(Index::create_in_dir(dir, schema)?, options)?;
        Ok(Opened { index, rebuilt: true, rebuild_reason: Some(reason) })
    }

    /// An index in memory, for tests and benchmarks.
    pub fn in_memory() -> Result<SearchIndex, SearchError> {
        let (schema, _) = schema::build();
        SearchIndex::from_index(Index::create_in_ram(schema), IndexOptions::default())
    }

    fn from_index(index: Index, options: IndexOptions) -> Result<SearchIndex, SearchError> {
        analysis::register(index.tokenizers());
        let (_, fields) = schema::build();
        // OnCommitWithDelay also sees commits made by another process (the job worker).
        let reader = index.reader_builder().reload_policy(ReloadPolicy::OnCommitWithDelay).try_into()?;
        Ok(SearchIndex { index, reader, writer: Mutex::new(None), fields, options })
    }

    fn writer(&self) -> Result<MutexGuard<'_, Option<IndexWriter>>, SearchError> {
        // A panic while indexing leaves the writer usable: tantivy discards uncommitted work on
        // its own errors, so a poisoned lock is taken over rather than failing every later call.
        let mut guard = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        if guard.is_none() {
            let writer = self
                .index
                .writer_with_num_threads(self.options.writer_threads.max(1), self.options.writer_memory_bytes)
                .map_err(|e| match e {
                    TantivyError::LockFailure(LockError::LockBusy, _) => SearchError::Locked,
                    other => SearchError::Index(other),
                })?;
            *guard = Some(writer);
        }
        Ok(guard)
    }

    fn with_writer<T>(&self, f: impl FnOnce(&mut IndexWriter) -> Result<T, SearchError>) -> Result<T, SearchError> {
        let mut guard = self.writer()?;
        match guard.as_mut() {
            Some(writer) => f(writer),
            None => Err(SearchError::Locked),
        }
    }

    /// Adds or replaces the translation; visible after [`SearchIndex::commit`].
    pub fn upsert(&self, doc: &SearchDoc) -> Result<(), SearchError> {
        let document = self.document(doc);
        let id = Term::from_field_i64(self.fields.translation_id, doc.translation_id.0);
        self.with_writer(|w| {
            // Deletes apply only to documents added before them, so delete-then-add replaces.
            w.delete_term(id);
            w.add_document(document)?;
            Ok(())
        })
    }

    /// Removes the translation; visible after [`SearchIndex::commit`].
    pub fn delete(&self, translation_id: TranslationId) -> Result<(), SearchError> {
        let id = Term::from_field_i64(self.fields.translation_id, translation_id.0);
        self.with_writer(|w| {
            w.delete_term(id);
            Ok(())
        })
    }

    /// Removes every translation of an item (the `search.remove` job, on trash).
    pub fn delete_item(&self, item_id: ItemId) -> Result<(), SearchError> {
        let item = Term::from_field_i64(self.fields.item_id, item_id.0);
        self.with_writer(|w| {
            w.delete_term(item);
            Ok(())
        })
    }

    /// Removes everything, before a full re-index.
    pub fn delete_all(&self) -> Result<(), SearchError> {
        self.with_writer(|w| {
            w.delete_all_documents()?;
            Ok(())
        })
    }

    /// Makes the writes so far durable and visible to searches.
    pub fn commit(&self) -> Result<(), SearchError> {
        self.with_writer(|w| {
            w.commit()?;
            Ok(())
        })?;
        self.reader.reload()?;
        Ok(())
    }

    /// How many segments a search visits (tests and diagnostics).
    pub fn segment_count(&self) -> Result<usize, SearchError> {
        Ok(self.index.searchable_segment_ids()?.len())
    }

    /// Merges every committed segment into one and waits for it: after a bulk build (a full
    /// re-index) a query then visits one segment instead of dozens. Ongoing writes keep using
    /// tantivy's merge policy.
    pub fn merge_all(&self) -> Result<(), SearchError> {
        let ids = self.index.searchable_segment_ids()?;
        if ids.len() > 1 {
            self.with_writer(|w| {
                w.merge(&ids).wait()?;
                Ok(())
            })?;
            self.with_writer(|w| {
                w.commit()?;
                Ok(())
            })?;
            self.reader.reload()?;
        }
        Ok(())
    }

    /// Like [`SearchIndex::commit`], and records `position` (e.g. the id of the last job row
    /// applied) in the same atomic commit, so after a crash the index and the feed position
    /// agree (ADR 0004).
    pub fn commit_at(&self, position: &str) -> Result<(), SearchError> {
        self.with_writer(|w| {
            let mut prepared = w.prepare_commit()?;
            prepared.set_payload(position);
            prepared.commit()?;
            Ok(())
        })?;
        self.reader.reload()?;
        Ok(())
    }

    /// The position recorded by the last [`SearchIndex::commit_at`]; None for a new or rebuilt
    /// index, or after a plain commit.
    pub fn committed_position(&self) -> Result<Option<String>, SearchError> {
        Ok(self.index.load_metas()?.payload)
    }

    /// Live documents visible to searches.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    fn document(&self, doc: &SearchDoc) -> TantivyDocument {
        let f = &self.fields;
        let family = Analysis::for_lang(&doc.lang);
        let ff = f.family(family);
        let title = compose(&doc.title);
        let excerpt = html_to_text(&compose(&doc.excerpt));
        let body = html_to_text(&compose(&doc.body_html));
        let mut extra: Vec<String> = doc.tags.iter().map(|t| compose(t)).collect();
        extra.extend(doc.author.as_deref().map(compose));
        let extra = extra.join(" \n ");

        let mut d = TantivyDocument::default();
        d.add_i64(f.translation_id, doc.translation_id.0);
        d.add_i64(f.item_id, doc.item_id.0);
        d.add_text(f.lang, doc.lang.as_str());
        d.add_text(f.kind, doc.kind.as_str());
        d.add_text(f.status, doc.status.as_str());
        for section in &doc.section_ids {
            d.add_i64(f.section, section.0);
        }
        if let Some(at) = doc.published_at {
            d.add_i64(f.published_at, at);
        }
        d.add_text(f.title, &title);
        d.add_text(f.excerpt, &excerpt);
        d.add_text(f.body, &body);

        d.add_text(ff.title, &title);
        d.add_text(ff.body, &excerpt);
        d.add_text(ff.body, &body);
        d.add_text(ff.extra, &extra);
        if doc.status == ContentStatus::Published {
            for text in [&title, &excerpt, &body, &extra] {
                d.add_text(ff.words, text);
            }
        }
        for field in [ff.root, ff.grams].into_iter().flatten() {
            for text in [&title, &excerpt, &body] {
                d.add_text(field, text);
            }
        }
        d
    }
}

/// Opens an existing index and checks it can serve; the error is the reason to rebuild.
fn try_open(dir: &Path, options: IndexOptions) -> Result<SearchIndex, String> {
    if !dir.join("meta.json").exists() {
        return Err("no index in the directory yet".to_owned());
    }
    let index = Index::open_in_dir(dir).map_err(|e| format!("cannot open: {e}"))?;
    let (expected, _) = schema::build();
    if index.schema() != expected {
        return Err("the index was built with another schema".to_owned());
    }
    let opened = SearchIndex::from_index(index, options).map_err(|e| format!("cannot read: {e}"))?;
    opened.reader.searcher().search(&AllQuery, &Count).map_err(|e| format!("cannot search: {e}"))?;
    Ok(opened)
}

/// Refuses to delete files another process is writing.
fn ensure_no_writer(dir: &Path) -> Result<(), SearchError> {
    let directory = MmapDirectory::open(dir).map_err(|e| SearchError::Unavailable {
        path: dir.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    })?;
    match directory.acquire_lock(&INDEX_WRITER_LOCK) {
        Ok(_released_on_drop) => Ok(()),
        Err(LockError::LockBusy) => Err(SearchError::Locked),
        Err(LockError::IoError(e)) => {
            Err(SearchError::Unavailable { path: dir.to_path_buf(), source: std::io::Error::other(e.to_string()) })
        }
    }
}

/// Removes tantivy's files (meta.json, .managed.json, segment files named by a 32-hex-digit id)
/// and nothing else, so a misconfigured path that points at a shared folder loses no other file.
fn remove_index_files(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        let segment_id = name.split('.').next().unwrap_or_default();
        let is_segment_file = segment_id.len() == 32 && segment_id.bytes().all(|b| b.is_ascii_hexdigit());
        if (name == "meta.json" || name == ".managed.json" || is_segment_file) && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// The conventional index location inside a data dir.
pub fn index_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("search")
}
