//! The node's search index as the application uses it (WS-2, issue 9): [`SiteSearch`] holds the
//! open `baspa_search::SearchIndex`, builds its documents from the database, runs the `search.*`
//! jobs, re-indexes everything, and repairs itself.
//!
//! The index is a cache of the database (ADR 0004). When it is missing or corrupt at start-up,
//! deleted while the site runs, or fails on a read or a write, the fault is logged and flagged,
//! and [`SiteSearch::maintain`] (called every few seconds by the binary, and by tests) re-opens
//! it and re-indexes from the database. Meanwhile visitors get what the index has, or an empty
//! result with a notice: never an error page.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use baspa_actions::jobs::{Handler, JobRunner};
use baspa_db::entity::{item, job};
use baspa_db::{DatabaseConnection, StoreError, content as store, users};
use baspa_domain::{ContentStatus, ItemId, ItemKind, LangCode, UserId};
use baspa_search::{SearchDoc, SearchIndex};
pub use baspa_search::{SearchError, SearchHit, SearchQuery, SearchResults};

use crate::SiteState;

/// The kinds that are searched: what a visitor reads as a text. Sections and tags are found
/// through the texts filed under them.
pub const SEARCHED_KINDS: [ItemKind; 3] = [ItemKind::Article, ItemKind::Document, ItemKind::Page];

/// Items read from the database per step of a full re-index: large enough that the per-step
/// commit is cheap beside the work, small enough that a job waits at most one step.
const REINDEX_PAGE: u64 = 250;

/// A failed search asks for a rebuild at most this often, so a query that keeps failing (a bug,
/// or someone repeating it) cannot keep the node re-indexing.
const SEARCH_REPAIR_INTERVAL: Duration = Duration::from_secs(600);

/// Why indexing did not happen. None of these reaches a visitor.
#[derive(Debug, thiserror::Error)]
pub enum IndexingError {
    #[error("reading content for the search index failed: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error("the search index is not open yet (it is re-opened within seconds)")]
    NotOpen,
    #[error("the search indexing task stopped: {0}")]
    Task(String),
}

impl IndexingError {
    /// Another process (a running server, or a second `search reindex`) holds the index writer.
    pub fn is_locked(&self) -> bool {
        matches!(self, IndexingError::Search(SearchError::Locked))
    }
}

/// What a full re-index did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReindexReport {
    /// Articles, documents and pages read.
    pub items: u64,
    /// Language versions written to the index (trashed ones are left out).
    pub texts: u64,
    pub elapsed: Duration,
}

/// Search is not available right now (the index is being re-opened); the caller shows a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("search is unavailable while its index is rebuilt")]
pub struct SearchUnavailable;

/// One node's search index, shared by the web handlers, the job runner and the upkeep task.
pub struct SiteSearch {
    /// `None`: an index in memory (tests), rebuilt in memory too.
    dir: Option<PathBuf>,
    index: RwLock<Option<Arc<SearchIndex>>>,
    needs_reopen: AtomicBool,
    needs_reindex: AtomicBool,
    is_reindexing: AtomicBool,
    /// When a failed search last asked for a rebuild.
    last_search_repair: std::sync::Mutex<Option<Instant>>,
    /// Serialises writers (jobs, re-index steps, re-open) so that each one reads the database and
    /// writes the index as one step: a job that runs after a change always has the last word.
    writing: tokio::sync::Mutex<()>,
}

impl SiteSearch {
    /// Opens (or creates) the index in `dir`. A missing, corrupt or outdated index comes back
    /// empty and is flagged for a re-index, which [`SiteSearch::maintain`] performs.
    pub fn open(dir: PathBuf) -> Result<SiteSearch, SearchError> {
        let opened = SearchIndex::open(&dir)?;
        if let Some(reason) = &opened.rebuild_reason {
            tracing::info!(dir = %dir.display(), reason = %reason, "search index created empty; re-indexing from the database");
        }
        let search = SiteSearch::with(Some(dir), Some(opened.index));
        search.needs_reindex.store(opened.rebuilt, Ordering::SeqCst);
        Ok(search)
    }

    /// A search that could not open its directory yet (e.g. another process holds a broken
    /// index): it serves no results and retries on every [`SiteSearch::maintain`].
    pub fn unopened(dir: PathBuf) -> SiteSearch {
        let search = SiteSearch::with(Some(dir), None);
        search.flag_broken();
        search
    }

    /// An index in memory (tests): it starts empty, so it is flagged for a re-index.
    pub fn in_memory() -> SiteSearch {
        let index = match SearchIndex::in_memory() {
            Ok(index) => Some(index),
            Err(e) => {
                tracing::warn!(error = %e, "cannot create an in-memory search index");
                None
            }
        };
        let search = SiteSearch::with(None, index);
        search.needs_reopen.store(search.current().is_none(), Ordering::SeqCst);
        search.needs_reindex.store(true, Ordering::SeqCst);
        search
    }

    fn with(dir: Option<PathBuf>, index: Option<SearchIndex>) -> SiteSearch {
        SiteSearch {
            dir,
            index: RwLock::new(index.map(Arc::new)),
            needs_reopen: AtomicBool::new(false),
            needs_reindex: AtomicBool::new(false),
            is_reindexing: AtomicBool::new(false),
            last_search_repair: std::sync::Mutex::new(None),
            writing: tokio::sync::Mutex::new(()),
        }
    }

    /// Where the index lives (`None` in memory).
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    fn current(&self) -> Option<Arc<SearchIndex>> {
        self.index.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn install(&self, index: Option<Arc<SearchIndex>>) -> Option<Arc<SearchIndex>> {
        std::mem::replace(&mut *self.index.write().unwrap_or_else(PoisonError::into_inner), index)
    }

    fn flag_broken(&self) {
        self.needs_reopen.store(true, Ordering::SeqCst);
        self.needs_reindex.store(true, Ordering::SeqCst);
    }

    /// Asks for a full re-index at the next [`SiteSearch::maintain`] (the `search.reindex` job).
    pub fn request_reindex(&self) {
        self.needs_reindex.store(true, Ordering::SeqCst);
    }

    /// False while the index is missing, being re-opened or re-indexed: results may be partial.
    pub fn is_complete(&self) -> bool {
        !(self.needs_reopen.load(Ordering::SeqCst)
            || self.needs_reindex.load(Ordering::SeqCst)
            || self.is_reindexing.load(Ordering::SeqCst))
    }

    /// Runs a query on a blocking thread. An index fault is logged and flagged for repair, and
    /// answered as [`SearchUnavailable`].
    pub async fn search(&self, query: SearchQuery) -> Result<SearchResults, SearchUnavailable> {
        let Some(index) = self.current() else { return Err(SearchUnavailable) };
        match tokio::task::spawn_blocking(move || index.search(&query)).await {
            Ok(Ok(results)) => Ok(results),
            Ok(Err(e)) => {
                let mut last = self.last_search_repair.lock().unwrap_or_else(PoisonError::into_inner);
                if last.is_none_or(|at| at.elapsed() >= SEARCH_REPAIR_INTERVAL) {
                    tracing::warn!(error = %e, code = e.code(), "search failed; the index will be re-opened and rebuilt");
                    *last = Some(Instant::now());
                    self.flag_broken();
                } else {
                    tracing::warn!(error = %e, code = e.code(), "search failed");
                }
                Err(SearchUnavailable)
            }
            Err(e) => {
                tracing::warn!(error = %e, "search task failed");
                Err(SearchUnavailable)
            }
        }
    }

    /// Repairs the index if needed: notices a deleted index directory, re-opens a broken index,
    /// runs a requested or pending full re-index. Returns the re-index report when one ran.
    pub async fn maintain(&self, db: &DatabaseConnection) -> Result<Option<ReindexReport>, IndexingError> {
        if let Some(dir) = &self.dir
            && self.current().is_some()
            && !dir.join("meta.json").exists()
        {
            tracing::warn!(dir = %dir.display(), "the search index files are gone; rebuilding from the database");
            self.flag_broken();
        }
        if self.needs_reopen.load(Ordering::SeqCst) {
            self.reopen().await?;
        }
        if self.needs_reindex.load(Ordering::SeqCst) {
            return self.reindex_all(db, |_, _| {}).await.map(Some);
        }
        Ok(None)
    }

    async fn reopen(&self) -> Result<(), IndexingError> {
        let _writing = self.writing.lock().await;
        self.needs_reopen.store(false, Ordering::SeqCst);
        // The old index goes first so that its writer lock is released before the directory is
        // opened again (searches still running keep their own handle for a moment).
        drop(self.install(None));
        let dir = self.dir.clone();
        let opened = tokio::task::spawn_blocking(move || match dir {
            Some(dir) => SearchIndex::open(&dir).map(|o| o.index),
            None => SearchIndex::in_memory(),
        })
        .await
        .map_err(|e| IndexingError::Task(e.to_string()));
        match opened {
            Ok(Ok(index)) => {
                self.install(Some(Arc::new(index)));
                self.needs_reindex.store(true, Ordering::SeqCst);
                Ok(())
            }
            Ok(Err(e)) => {
                self.needs_reopen.store(true, Ordering::SeqCst);
                Err(e.into())
            }
            Err(e) => {
                self.needs_reopen.store(true, Ordering::SeqCst);
                Err(e)
            }
        }
    }

    /// Empties the index and indexes every article, document and page from the database, a
    /// page of items at a time; `progress(done, total)` is called after each page. Each page is
    /// committed, so searches answer from what is indexed so far.
    pub async fn reindex_all<F>(&self, db: &DatabaseConnection, mut progress: F) -> Result<ReindexReport, IndexingError>
    where
        F: FnMut(u64, u64) + Send,
    {
        let started = Instant::now();
        // Cleared before reading anything, so a change made from now on is either read by a
        // later page or applied by its own job (see `sync_item`).
        self.needs_reindex.store(false, Ordering::SeqCst);
        self.is_reindexing.store(true, Ordering::SeqCst);
        let result = self.reindex_pages(db, &mut progress).await;
        self.is_reindexing.store(false, Ordering::SeqCst);
        match result {
            Ok((items, texts)) => Ok(ReindexReport { items, texts, elapsed: started.elapsed() }),
            Err(e) => {
                self.needs_reindex.store(true, Ordering::SeqCst);
                if matches!(e, IndexingError::Search(SearchError::Index(_) | SearchError::Unavailable { .. })) {
                    self.needs_reopen.store(true, Ordering::SeqCst);
                }
                Err(e)
            }
        }
    }

    async fn reindex_pages<F>(&self, db: &DatabaseConnection, progress: &mut F) -> Result<(u64, u64), IndexingError>
    where
        F: FnMut(u64, u64) + Send,
    {
        let mut total = 0;
        for kind in SEARCHED_KINDS {
            total += store::count_items(db, kind).await?;
        }
        {
            let _writing = self.writing.lock().await;
            let index = self.current().ok_or(IndexingError::NotOpen)?;
            index.delete_all()?;
        }
        let mut builder = DocBuilder::default();
        let (mut items, mut texts, mut after) = (0u64, 0u64, None);
        loop {
            let _writing = self.writing.lock().await;
            let page = store::items_after(db, &SEARCHED_KINDS, after, REINDEX_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(ItemId(last.id));
            let docs = builder.docs_for_items(db, &page).await?;
            items += page.len() as u64;
            texts += docs.len() as u64;
            let index = self.current().ok_or(IndexingError::NotOpen)?;
            write_blocking(move || {
                for doc in &docs {
                    index.upsert(doc)?;
                }
                index.commit()
            })
            .await?;
            progress(items, total.max(items));
        }
        // An empty database still commits the emptied index; then one segment for queries
        // (bench/search.sh: p95 13.8 ms unmerged vs 9.7 ms merged at 100k texts a language).
        let index = self.current().ok_or(IndexingError::NotOpen)?;
        write_blocking(move || {
            index.commit()?;
            index.merge_all()
        })
        .await?;
        Ok((items, texts))
    }

    /// Re-reads one item from the database and replaces all its language versions in the index
    /// (removing them when the item is gone, trashed or not a searched kind). Returns the number
    /// of texts written.
    pub async fn sync_item(&self, db: &DatabaseConnection, item_id: ItemId) -> Result<usize, IndexingError> {
        let _writing = self.writing.lock().await;
        if self.needs_reindex.load(Ordering::SeqCst) {
            // A full re-index has not started reading yet, so it will see this change.
            return Ok(0);
        }
        let row = match store::get_item(db, item_id).await {
            Ok(row) => Some(row),
            Err(StoreError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        };
        let docs = match row {
            Some(row) if is_searched(&row) => DocBuilder::default().docs_for_items(db, &[row]).await?,
            _ => Vec::new(),
        };
        let written = docs.len();
        let index = self.current().ok_or(IndexingError::NotOpen)?;
        let outcome = write_blocking(move || {
            index.delete_item(item_id)?;
            for doc in &docs {
                index.upsert(doc)?;
            }
            index.commit()
        })
        .await;
        match &outcome {
            // Another process (`baspa search reindex`) is writing: the job is retried later.
            Err(e) if e.is_locked() => tracing::info!(item = item_id.0, error = %e, "search index busy"),
            Err(e) => {
                tracing::warn!(item = item_id.0, error = %e, "search index write failed; it will be re-opened and rebuilt");
                self.flag_broken();
            }
            Ok(()) => {}
        }
        outcome.map(|()| written)
    }

    async fn run_job(&self, db: &DatabaseConnection, job: &job::Model) -> Result<(), (String, bool)> {
        let item = job
            .payload
            .get("item_id")
            .and_then(serde_json::Value::as_i64)
            .ok_or_else(|| ("payload has no item_id".to_owned(), false))?;
        self.sync_item(db, ItemId(item)).await.map(|_| ()).map_err(|e| (e.to_string(), true))
    }
}

async fn write_blocking(f: impl FnOnce() -> Result<(), SearchError> + Send + 'static) -> Result<(), IndexingError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| IndexingError::Task(e.to_string()))?.map_err(Into::into)
}

fn is_searched(row: &item::Model) -> bool {
    ItemKind::parse(&row.kind).is_ok_and(|k| SEARCHED_KINDS.contains(&k))
}

/// Adds the handlers of the search jobs to a job runner: `search.index` and `search.remove`
/// both re-read the item (so an unpublished language version is re-indexed as a draft while
/// the others stay, and an old job never writes old text); `search.reindex` asks for a full
/// re-index (queued by `baspa search reindex` when a running server holds the index).
///
/// Jobs are claimed, so each runs on one node: right for one node; with several nodes, see
/// ADR 0004 for what is left to do.
pub fn with_search_jobs(runner: JobRunner, search: Arc<SiteSearch>) -> JobRunner {
    let sync = |search: Arc<SiteSearch>| -> Handler {
        Arc::new(move |db, job| {
            let search = search.clone();
            Box::pin(async move { search.run_job(&db, &job).await })
        })
    };
    let reindex: Handler = {
        let search = search.clone();
        Arc::new(move |_, _| {
            search.request_reindex();
            Box::pin(async { Ok(()) })
        })
    };
    runner
        .with_handler("search.index", sync(search.clone()))
        .with_handler("search.remove", sync(search))
        .with_handler("search.reindex", reindex)
}

/// The admin's search (CM-1): every language and every status (trashed texts are not indexed),
/// best match first, `page` from 1, 10 hits a page. Titles, bodies, tags and the author's name
/// are searched. The caller shows only what the signed-in person may see; titles and snippets
/// are safe HTML with `<mark>`.
pub async fn admin_search(state: &SiteState, text: &str, page: usize) -> Result<SearchResults, SearchUnavailable> {
    state.search.as_ref().ok_or(SearchUnavailable)?.admin_search(text, page).await
}

impl SiteSearch {
    /// [`admin_search`] on this index.
    pub async fn admin_search(&self, text: &str, page: usize) -> Result<SearchResults, SearchUnavailable> {
        let mut query = SearchQuery::admin(text);
        query.page = page;
        self.search(query).await
    }
}

/// Builds index documents from rows, remembering section ancestry, author names and tag titles
/// between pages of a re-index (they repeat across items).
#[derive(Default)]
struct DocBuilder {
    ancestry: HashMap<i64, Vec<ItemId>>,
    authors: HashMap<i64, Option<String>>,
    /// Tag id → (language, title) of its published versions.
    tags: HashMap<i64, Vec<(String, String)>>,
}

impl DocBuilder {
    /// Every language version of the items except trashed ones, with its current status: the
    /// visitor search keeps to published texts, the admin's sees drafts too.
    async fn docs_for_items(
        &mut self,
        db: &DatabaseConnection,
        items: &[item::Model],
    ) -> Result<Vec<SearchDoc>, StoreError> {
        let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
        let mut translations: HashMap<i64, Vec<_>> = HashMap::new();
        for t in store::translations_of_items(db, &ids, false).await? {
            translations.entry(t.item_id).or_default().push(t);
        }
        let tag_ids = store::tag_ids_of_items(db, &ids).await?;
        let mut unknown: Vec<i64> =
            tag_ids.values().flatten().copied().filter(|t| !self.tags.contains_key(t)).collect();
        unknown.sort_unstable();
        unknown.dedup();
        for id in &unknown {
            self.tags.insert(*id, Vec::new());
        }
        for t in store::translations_of_items(db, &unknown, true).await? {
            self.tags.entry(t.item_id).or_default().push((t.lang, t.title));
        }
        let mut docs = Vec::new();
        for row in items {
            let Ok(kind) = ItemKind::parse(&row.kind) else { continue };
            let sections = match row.section_id {
                Some(section) => self.ancestry_of(db, section).await?,
                None => Vec::new(),
            };
            let author = match row.author_id {
                Some(id) => self.author_of(db, id).await?,
                None => None,
            };
            for t in translations.remove(&row.id).unwrap_or_default() {
                let (Ok(lang), Ok(status)) = (LangCode::parse(&t.lang), ContentStatus::parse(&t.status)) else {
                    continue;
                };
                if status == ContentStatus::Trashed {
                    continue;
                }
                let tags = tag_ids
                    .get(&row.id)
                    .into_iter()
                    .flatten()
                    .filter_map(|tag| self.tags.get(tag))
                    .flat_map(|versions| versions.iter().filter(|(l, _)| *l == t.lang).map(|(_, title)| title.clone()))
                    .collect();
                docs.push(SearchDoc {
                    translation_id: baspa_domain::TranslationId(t.id),
                    item_id: ItemId(row.id),
                    lang,
                    kind,
                    status,
                    title: t.title,
                    excerpt: t.excerpt,
                    body_html: t.body,
                    section_ids: sections.clone(),
                    tags,
                    author: author.clone(),
                    published_at: t.published_at.map(|at| at.timestamp()),
                });
            }
        }
        Ok(docs)
    }

    async fn ancestry_of(&mut self, db: &DatabaseConnection, section: i64) -> Result<Vec<ItemId>, StoreError> {
        if let Some(known) = self.ancestry.get(&section) {
            return Ok(known.clone());
        }
        let chain = match store::section_ancestry(db, ItemId(section)).await {
            Ok(chain) => chain.into_iter().map(ItemId).collect(),
            // A dangling section id files the text nowhere rather than failing the re-index.
            Err(StoreError::NotFound(_)) => Vec::new(),
            Err(e) => return Err(e),
        };
        self.ancestry.insert(section, chain);
        Ok(self.ancestry.get(&section).cloned().unwrap_or_default())
    }

    async fn author_of(&mut self, db: &DatabaseConnection, id: i64) -> Result<Option<String>, StoreError> {
        if let Some(known) = self.authors.get(&id) {
            return Ok(known.clone());
        }
        let name = match users::get(db, UserId(id)).await {
            Ok(user) => Some(user.display_name),
            Err(StoreError::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        self.authors.insert(id, name.clone());
        Ok(name)
    }
}
