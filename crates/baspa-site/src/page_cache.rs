//! The whole-page cache for anonymous visitors (PF-2): pages are rendered once, compressed once
//! (brotli and gzip at fill time, never per request) and answered from memory with an `ETag`,
//! `304 Not Modified` and CDN-friendly headers.
//!
//! **Invalidation by tags.** Every cached page carries tags: `site` (every page shows the section
//! menu), `item:<id>` for the item it shows and for each card on it, and `list:…` for the lists
//! it is (`list:home`, `list:section:<id>`, `list:tag:<id>`, `list:feeds` …). A purge does not
//! look for pages: it records, per tag, the purge sequence number at which the tag was purged. A
//! page is valid while none of its tags was purged after the sequence number read *before* it was
//! rendered, so a page rendered while a publish commits is never kept as fresh.
//!
//! **Several nodes.** With Redis configured, pages are also stored there (shared by the nodes),
//! the sequence and the tag marks live in Redis, and each purge is published on a channel so
//! every node updates its local marks at once (`listen_for_purges`). When Redis is down, the node
//! keeps serving from its own memory, logs once, purges locally and replays those purges to
//! Redis when it is back.
//!
//! **Stale pages.** A page older than `fresh_for` is served while one background render replaces
//! it (stale-while-revalidate). A purged or expired page is kept until `keep_for` and served only
//! when rendering fails, e.g. while the database is down (stale-if-error).

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// How the page cache behaves; the binary fills it from `[cache]`.
#[derive(Clone, Debug)]
pub struct PageCacheConfig {
    pub is_enabled: bool,
    /// A page younger than this is served as is.
    pub fresh_for: Duration,
    /// A page is kept this long for stale-if-error (database down).
    pub keep_for: Duration,
    /// Memory for pages on this node (bodies and their compressed copies).
    pub max_bytes: u64,
    /// Shared cache and purge channel; `None` keeps everything in this process.
    pub redis_url: Option<String>,
    pub redis_prefix: String,
    /// Brotli quality at fill time (0–11).
    pub brotli_quality: u32,
}

impl Default for PageCacheConfig {
    fn default() -> Self {
        Self {
            is_enabled: true,
            fresh_for: Duration::from_secs(600),
            keep_for: Duration::from_secs(86_400),
            max_bytes: 256 * 1024 * 1024,
            redis_url: None,
            redis_prefix: "baspa:".to_owned(),
            brotli_quality: 9,
        }
    }
}

impl PageCacheConfig {
    /// No cache at all: every request renders (tests of the renderer, `cache.enabled = false`).
    pub fn disabled() -> Self {
        Self { is_enabled: false, ..Self::default() }
    }
}

/// One rendered page with its compressed copies and what it depends on.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct CachedPage {
    pub status: u16,
    pub content_type: String,
    pub csp: String,
    pub etag: String,
    /// Unix seconds of the render.
    pub filled_at: i64,
    /// The purge sequence number read before the render.
    pub filled_seq: u64,
    pub tags: Vec<String>,
    #[serde(skip)]
    pub body: Bytes,
    #[serde(skip)]
    pub brotli: Bytes,
    #[serde(skip)]
    pub gzip: Bytes,
    /// Every header of a full answer from this page but the per-request ones (encoding, cache
    /// status, request id, HSTS), built once (`prepare`): a hit copies the map instead of
    /// hashing a dozen names into a new one.
    #[serde(skip)]
    answer_headers: HeaderMap,
    /// `Marks::changes` + 1 when this page was last found valid (0: never checked), so a hit
    /// reads its tags again only after some purge happened.
    #[serde(skip)]
    valid_at: AtomicU64,
}

impl CachedPage {
    /// Builds the headers every answer from this page carries.
    fn prepare(mut self, fresh_for: Duration) -> Self {
        let last_modified = chrono::DateTime::from_timestamp(self.filled_at, 0)
            .map(|t| t.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
            .unwrap_or_default();
        let cache_control = format!(
            "public, max-age=60, s-maxage={}, stale-while-revalidate=60, stale-if-error=86400",
            fresh_for.as_secs()
        );
        // Tags a CDN in front can purge by (Fastly/Varnish `Surrogate-Key`); ids only, no names.
        let surrogate = self.tags.join(" ");
        let mut headers = HeaderMap::with_capacity(ANSWER_HEADERS_ROOM);
        let content_type =
            HeaderValue::from_str(&self.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
        headers.insert(header::CONTENT_TYPE, content_type);
        for (name, value) in [
            (header::ETAG, self.etag.as_str()),
            (header::LAST_MODIFIED, last_modified.as_str()),
            (header::CACHE_CONTROL, cache_control.as_str()),
            (header::VARY, "Accept-Encoding"),
            (header::CONTENT_SECURITY_POLICY, self.csp.as_str()),
            (SURROGATE_KEY, surrogate.as_str()),
        ] {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        }
        crate::headers::add_security_headers(&mut headers);
        self.answer_headers = headers;
        self
    }

    /// A copy with its own bytes (body, compressed bodies, header values): answering from it
    /// touches no reference count that another thread's answers touch too.
    fn copy_for_thread(&self) -> Self {
        let own = |v: &HeaderValue| HeaderValue::from_bytes(v.as_bytes()).unwrap_or_else(|_| v.clone());
        Self {
            status: self.status,
            content_type: self.content_type.clone(),
            csp: self.csp.clone(),
            etag: self.etag.clone(),
            filled_at: self.filled_at,
            filled_seq: self.filled_seq,
            tags: self.tags.clone(),
            body: Bytes::copy_from_slice(&self.body),
            brotli: Bytes::copy_from_slice(&self.brotli),
            gzip: Bytes::copy_from_slice(&self.gzip),
            answer_headers: {
                // Collecting would size the map to its entries only: every hit would then grow it.
                let mut headers = HeaderMap::with_capacity(ANSWER_HEADERS_ROOM);
                headers.extend(self.answer_headers.iter().map(|(name, value)| (name.clone(), own(value))));
                headers
            },
            valid_at: AtomicU64::new(0),
        }
    }
}

/// Pages a serving thread answered lately, per page cache, as the thread's own copies (issue 7).
/// Every answer from a shared page bumps and drops the reference counts of its `Arc`, its body
/// and its header values, and with two threads those counters bounce between the cores' caches
/// on every request; the cache's own bookkeeping (moka) costs as much again. A hit on a copy
/// reads only what purges write (rarely): the page is still checked against the purge marks and
/// its age, exactly like a page from the shared cache.
struct ThreadCopies {
    /// `PageCache::cleared` when these copies were made; `clear_local` drops them.
    cleared: u64,
    pages: HashMap<String, ThreadCopy>,
}

struct ThreadCopy {
    /// The shared page the copy was made from: its purge marks decide whether the copy is valid.
    source: Arc<CachedPage>,
    copy: CachedPage,
}

/// Copies kept per thread and cache: a few hot pages take nearly all requests; memory is bounded
/// by this many pages per serving thread (a copy of an evicted page lives until it is replaced).
const THREAD_COPIES_MAX: usize = 128;

thread_local! {
    /// By `PageCache::id`: tests run many caches on one thread.
    static THREAD_COPIES: std::cell::RefCell<HashMap<u64, ThreadCopies>> = std::cell::RefCell::new(HashMap::new());
}

/// Gives every `PageCache` its own `id`.
static NEXT_CACHE_ID: AtomicU64 = AtomicU64::new(1);

/// What a lookup found.
pub enum Lookup {
    /// Valid and young: answer with it.
    Fresh(Arc<CachedPage>),
    /// Valid but older than `fresh_for`: answer with it and render a replacement.
    Stale(Arc<CachedPage>),
    /// Purged or expired: only for when rendering fails.
    Outdated(Arc<CachedPage>),
    Miss,
}

/// The purge marks: the current sequence number and, per tag, the number of its last purge.
#[derive(Default)]
struct Marks {
    seq: AtomicU64,
    tags: std::sync::RwLock<HashMap<String, u64>>,
    /// Counts every `apply`. Two purges can carry the same sequence number (local purges while
    /// Redis is away), so the validity shortcut counts changes rather than trusting `seq`.
    changes: AtomicU64,
}

impl Marks {
    fn current(&self) -> u64 {
        self.seq.load(Ordering::Acquire)
    }

    fn apply(&self, seq: u64, tags: &[String]) {
        if let Ok(mut map) = self.tags.write() {
            for tag in tags {
                let mark = map.entry(tag.clone()).or_insert(0);
                *mark = (*mark).max(seq);
            }
        }
        self.seq.fetch_max(seq, Ordering::AcqRel);
        self.changes.fetch_add(1, Ordering::AcqRel);
    }

    fn is_valid(&self, page: &CachedPage) -> bool {
        // Read before the tags: a purge that lands during the check bumps it again, so the
        // shortcut below never outlives a purge it did not see.
        let changes = self.changes.load(Ordering::Acquire).wrapping_add(1);
        if page.valid_at.load(Ordering::Acquire) == changes {
            return true;
        }
        let Ok(map) = self.tags.read() else { return false };
        let is_valid = page.tags.iter().all(|t| map.get(t).is_none_or(|purged| *purged <= page.filled_seq));
        if is_valid {
            page.valid_at.store(changes, Ordering::Release);
        }
        is_valid
    }
}

struct Shared {
    client: redis::Client,
    conn: tokio::sync::OnceCell<ConnectionManager>,
    prefix: String,
    is_down: AtomicBool,
    /// Purges made while Redis was unreachable, replayed when it is back.
    missed: std::sync::Mutex<Vec<Vec<String>>>,
}

/// The cache of one node; cheap to share (`Arc`).
pub struct PageCache {
    config: PageCacheConfig,
    local: moka::sync::Cache<String, Arc<CachedPage>>,
    marks: Marks,
    shared: Option<Shared>,
    /// Keys whose replacement is being rendered in the background.
    revalidating: std::sync::Mutex<HashSet<String>>,
    /// One render per missing page at a time: the other requests for it wait and take the page
    /// that render made (no thundering herd after a purge).
    fills: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Tells this cache's thread copies (`THREAD_COPIES`) from another's.
    id: u64,
    /// Counts `clear_local` calls: thread copies made before the last one are dropped.
    cleared: AtomicU64,
}

/// Redis calls on the request path give up after this; the page is rendered instead.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

impl PageCache {
    pub fn new(config: PageCacheConfig) -> Result<Self, String> {
        let shared = match config.redis_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => Some(Shared {
                client: redis::Client::open(url).map_err(|e| format!("cache.redis_url: {e}"))?,
                conn: tokio::sync::OnceCell::new(),
                prefix: config.redis_prefix.clone(),
                is_down: AtomicBool::new(false),
                missed: std::sync::Mutex::new(Vec::new()),
            }),
            None => None,
        };
        Ok(Self::local(config, shared))
    }

    fn local(config: PageCacheConfig, shared: Option<Shared>) -> Self {
        let local = moka::sync::Cache::builder()
            .max_capacity(config.max_bytes)
            .weigher(|k: &String, v: &Arc<CachedPage>| {
                let bytes = k.len() + v.body.len() + v.brotli.len() + v.gzip.len() + 512;
                u32::try_from(bytes).unwrap_or(u32::MAX)
            })
            .time_to_live(config.keep_for)
            .build();
        Self {
            config,
            local,
            marks: Marks::default(),
            shared,
            revalidating: Default::default(),
            fills: Default::default(),
            id: NEXT_CACHE_ID.fetch_add(1, Ordering::Relaxed),
            cleared: AtomicU64::new(0),
        }
    }

    pub fn disabled() -> Self {
        Self::local(PageCacheConfig::disabled(), None)
    }

    pub fn is_enabled(&self) -> bool {
        self.config.is_enabled
    }

    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// Whether `tag` was purged after the purge sequence number `seq`.
    pub fn is_purged_since(&self, tag: &str, seq: u64) -> bool {
        self.marks.tags.read().map_or(true, |map| map.get(tag).is_some_and(|at| *at > seq))
    }

    /// The purge sequence number to remember before rendering.
    pub fn sequence(&self) -> u64 {
        self.marks.current()
    }

    pub async fn lookup(&self, key: &str) -> Lookup {
        if !self.config.is_enabled {
            return Lookup::Miss;
        }
        let page = match self.local.get(key) {
            Some(page) => Some(page),
            None => match self.fetch_shared(key).await {
                Some(page) => {
                    let page = Arc::new(page.prepare(self.config.fresh_for));
                    self.local.insert(key.to_owned(), page.clone());
                    Some(page)
                }
                None => None,
            },
        };
        let Some(page) = page else { return Lookup::Miss };
        if !self.marks.is_valid(&page) {
            return Lookup::Outdated(page);
        }
        if self.is_young(&page) { Lookup::Fresh(page) } else { Lookup::Stale(page) }
    }

    /// The page for `key` when this node holds it valid and fresh; never waits (no Redis, no
    /// database): the cached-answer fast path (`cached_answers`) takes only these.
    pub fn fresh_local(&self, key: &str) -> Option<Arc<CachedPage>> {
        if !self.config.is_enabled {
            return None;
        }
        self.local.get(key).filter(|page| self.is_fresh(page))
    }

    /// Valid (no purge of its tags since its render) and younger than `fresh_for`.
    fn is_fresh(&self, page: &CachedPage) -> bool {
        self.is_young(page) && self.marks.is_valid(page)
    }

    /// Rendered less than `fresh_for` ago.
    fn is_young(&self, page: &CachedPage) -> bool {
        // Seconds since the epoch without a calendar date: this runs on every cached answer.
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let age = i64::try_from(now).unwrap_or(i64::MAX) - page.filled_at;
        age < i64::try_from(self.config.fresh_for.as_secs()).unwrap_or(i64::MAX)
    }

    /// `answer` applied to the page for `key` when this node holds it valid and fresh (as
    /// `fresh_local`), read from this thread's own copy of it (`ThreadCopies`).
    pub fn answer_fresh_local<R>(&self, key: &str, answer: impl FnOnce(&CachedPage) -> R) -> Option<R> {
        if !self.config.is_enabled {
            return None;
        }
        THREAD_COPIES.with(|copies| {
            let mut copies = copies.borrow_mut();
            let cleared = self.cleared.load(Ordering::Acquire);
            if copies.len() >= 16 && !copies.contains_key(&self.id) {
                copies.clear(); // copies of caches dropped long ago (tests)
            }
            let mine = copies.entry(self.id).or_insert_with(|| ThreadCopies { cleared, pages: HashMap::new() });
            if mine.cleared != cleared {
                mine.pages.clear();
                mine.cleared = cleared;
            }
            if let Some(kept) = mine.pages.get(key) {
                if self.is_fresh(&kept.source) {
                    return Some(answer(&kept.copy));
                }
                mine.pages.remove(key);
            }
            let source = self.fresh_local(key)?;
            if mine.pages.len() >= THREAD_COPIES_MAX {
                mine.pages.clear();
            }
            let copy = source.copy_for_thread();
            let answered = answer(&copy);
            mine.pages.insert(key.to_owned(), ThreadCopy { source, copy });
            Some(answered)
        })
    }

    /// Compresses and stores a rendered page; returns it ready to answer with.
    pub async fn fill(&self, key: &str, page: RenderedPage) -> Arc<CachedPage> {
        let quality = self.config.brotli_quality.min(11);
        let RenderedPage { status, content_type, csp, body, tags, filled_seq } = page;
        let etag = format!("\"{}\"", &blake3::hash(&body).to_hex()[..20]);
        let (brotli, gzip) = compress(&body, quality);
        let page = Arc::new(
            CachedPage {
                status,
                content_type,
                csp,
                etag,
                filled_at: baspa_domain::time::now().timestamp(),
                filled_seq,
                tags,
                body,
                brotli,
                gzip,
                answer_headers: HeaderMap::new(),
                valid_at: AtomicU64::new(0),
            }
            .prepare(self.config.fresh_for),
        );
        if self.config.is_enabled && self.marks.is_valid(&page) {
            self.local.insert(key.to_owned(), page.clone());
            self.store_shared(key, &page).await;
        }
        page
    }

    /// Purges every page carrying any of `tags`, on every node.
    pub async fn purge(&self, tags: &[String]) {
        if tags.is_empty() {
            return;
        }
        let local_next = self.marks.current() + 1;
        let Some(shared) = &self.shared else {
            self.marks.apply(local_next, tags);
            return;
        };
        match self.publish_purge(shared, tags).await {
            Ok(seq) => self.marks.apply(seq, tags),
            Err(()) => {
                self.marks.apply(local_next, tags);
                if let Ok(mut missed) = shared.missed.lock() {
                    missed.push(tags.to_vec());
                }
            }
        }
    }

    /// Waits until no other request renders `key`; the caller then looks again before
    /// rendering, and calls [`Self::end_fill`] when done.
    pub async fn begin_fill(&self, key: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = match self.fills.lock() {
            Ok(mut fills) => fills.entry(key.to_owned()).or_default().clone(),
            Err(_) => Arc::default(),
        };
        lock.lock_owned().await
    }

    pub fn end_fill(&self, key: &str, guard: tokio::sync::OwnedMutexGuard<()>) {
        drop(guard);
        if let Ok(mut fills) = self.fills.lock()
            && fills.get(key).is_some_and(|l| Arc::strong_count(l) == 1)
        {
            fills.remove(key);
        }
    }

    /// Marks a key as being re-rendered; `false` when another task already does it.
    pub fn start_revalidation(&self, key: &str) -> bool {
        self.revalidating.lock().is_ok_and(|mut set| set.insert(key.to_owned()))
    }

    pub fn end_revalidation(&self, key: &str) {
        if let Ok(mut set) = self.revalidating.lock() {
            set.remove(key);
        }
    }

    /// Drops every page of this node (tests and `cache.enabled` changes).
    pub fn clear_local(&self) {
        self.cleared.fetch_add(1, Ordering::AcqRel);
        self.local.invalidate_all();
    }

    async fn conn(&self, shared: &Shared) -> Option<ConnectionManager> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(0);
        let client = shared.client.clone();
        let made =
            shared.conn.get_or_try_init(|| async move { ConnectionManager::new_lazy_with_config(client, config) });
        let conn = made.await.cloned();
        self.seen(shared, conn).ok()
    }

    /// Logs the first failure of an outage and the recovery, once each.
    fn seen<T>(&self, shared: &Shared, res: redis::RedisResult<T>) -> Result<T, ()> {
        match res {
            Ok(v) => {
                if shared.is_down.swap(false, Ordering::Relaxed) {
                    tracing::info!("redis page cache reachable again");
                }
                Ok(v)
            }
            Err(e) => {
                if !shared.is_down.swap(true, Ordering::Relaxed) {
                    tracing::error!(error = %e, "redis page cache unavailable; serving from this node's memory");
                }
                Err(())
            }
        }
    }

    async fn fetch_shared(&self, key: &str) -> Option<CachedPage> {
        let shared = self.shared.as_ref()?;
        let mut conn = self.conn(shared).await?;
        let got = tokio::time::timeout(REDIS_TIMEOUT, conn.get::<_, Option<Vec<u8>>>(page_key(shared, key))).await;
        let raw = match got {
            Ok(res) => self.seen(shared, res).ok()??,
            Err(_) => {
                let _ = self.seen::<()>(shared, Err(timed_out()));
                return None;
            }
        };
        decode(&raw)
    }

    async fn store_shared(&self, key: &str, page: &CachedPage) {
        let Some(shared) = &self.shared else { return };
        let Some(mut conn) = self.conn(shared).await else { return };
        let Some(raw) = encode(page) else { return };
        let seconds = self.config.keep_for.as_secs().max(1);
        let set = conn.set_ex::<_, _, ()>(page_key(shared, key), raw, seconds);
        match tokio::time::timeout(REDIS_TIMEOUT, set).await {
            Ok(res) => {
                let _ = self.seen(shared, res);
            }
            Err(_) => {
                let _ = self.seen::<()>(shared, Err(timed_out()));
            }
        }
    }

    /// Takes the next sequence number in Redis, marks the tags and tells the other nodes.
    async fn publish_purge(&self, shared: &Shared, tags: &[String]) -> Result<u64, ()> {
        let mut conn = self.conn(shared).await.ok_or(())?;
        let floor = self.marks.current();
        let mut seq: u64 = self.seen(shared, conn.incr(seq_key(shared), 1).await)?;
        if seq <= floor {
            // Purges made here while Redis was away moved this node ahead: catch Redis up.
            seq = self.seen(shared, conn.incr(seq_key(shared), floor + 1 - seq).await)?;
        }
        let fields: Vec<(&str, u64)> = tags.iter().map(|t| (t.as_str(), seq)).collect();
        let mut pipe = redis::pipe();
        pipe.hset_multiple(marks_key(shared), &fields).ignore();
        pipe.publish(channel(shared), purge_message(seq, tags)).ignore();
        self.seen(shared, pipe.query_async::<()>(&mut conn).await)?;
        Ok(seq)
    }

    /// Keeps this node's purge marks in step with the other nodes' purges until the process
    /// ends: subscribes to the purge channel and, on every (re)connection, reads all marks so a
    /// purge missed while disconnected is applied too. Does nothing without Redis.
    pub async fn listen_for_purges(self: Arc<Self>) {
        let Some(shared) = &self.shared else { return };
        loop {
            if let Err(e) = self.follow(shared).await {
                let _ = self.seen::<()>(shared, Err(e));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn follow(&self, shared: &Shared) -> redis::RedisResult<()> {
        use futures_util::StreamExt as _;
        let mut pubsub = shared.client.get_async_pubsub().await?;
        pubsub.subscribe(channel(shared)).await?;
        self.resync(shared).await?;
        self.replay_missed(shared).await;
        let mut messages = pubsub.on_message();
        // A subscription whose server went away may never end on its own: a ping every half
        // second notices the outage, and the first ping after it starts over (subscribe, read
        // every mark, replay this node's missed purges).
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        let mut has_seen_outage = false;
        loop {
            tokio::select! {
                msg = messages.next() => {
                    let Some(msg) = msg else {
                        return Err(redis::RedisError::from((redis::ErrorKind::Io, "purge channel closed")));
                    };
                    let Ok(text) = msg.get_payload::<String>() else { continue };
                    if let Some((seq, tags)) = parse_purge_message(&text) {
                        self.marks.apply(seq, &tags);
                    }
                }
                _ = tick.tick() => {
                    if !self.ping(shared).await {
                        has_seen_outage = true;
                    } else if has_seen_outage {
                        return Err(redis::RedisError::from((redis::ErrorKind::Io, "redis came back")));
                    } else {
                        self.replay_missed(shared).await;
                    }
                }
            }
        }
    }

    /// Publishes the purges this node made while Redis was unreachable (kept if it still is).
    async fn replay_missed(&self, shared: &Shared) {
        let batches: Vec<Vec<String>> = shared.missed.lock().map(|mut m| std::mem::take(&mut *m)).unwrap_or_default();
        for batch in batches {
            self.purge(&batch).await;
        }
    }

    async fn ping(&self, shared: &Shared) -> bool {
        let Some(mut conn) = self.conn(shared).await else { return false };
        let pong = tokio::time::timeout(REDIS_TIMEOUT, redis::cmd("PING").query_async::<String>(&mut conn)).await;
        match pong {
            Ok(res) => self.seen(shared, res).is_ok(),
            Err(_) => self.seen::<()>(shared, Err(timed_out())).is_ok(),
        }
    }

    async fn resync(&self, shared: &Shared) -> redis::RedisResult<()> {
        let mut conn = shared.client.get_multiplexed_async_connection().await?;
        let marks: HashMap<String, u64> = conn.hgetall(marks_key(shared)).await?;
        let seq: Option<u64> = conn.get(seq_key(shared)).await?;
        for (tag, at) in marks {
            self.marks.apply(at, &[tag]);
        }
        if let Some(seq) = seq {
            self.marks.apply(seq, &[]);
        }
        if shared.is_down.swap(false, Ordering::Relaxed) {
            tracing::info!("redis page cache reachable again");
        }
        Ok(())
    }
}

/// A hot query's last answer (the language list every request needs), reloaded after `max_age`
/// or a purge of the `site` tag, and kept for when the database cannot answer: with the page
/// cache, a site whose database is down still knows its languages and serves cached pages.
/// One caller reloads at a time; the others go on with the last answer meanwhile (before, every
/// request in flight when it aged reloaded it at once, and under load they queued for the
/// database's connections for a quarter of a second).
pub struct Memo<T> {
    value: std::sync::RwLock<Option<(std::time::Instant, u64, Arc<T>)>>,
    max_age: Duration,
    reloading: AtomicBool,
}

/// Ends a reload, finished or dropped half-way.
struct Reloading<'a>(&'a AtomicBool);

impl Drop for Reloading<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl<T> Memo<T> {
    pub fn new(max_age: Duration) -> Self {
        Self { value: std::sync::RwLock::new(None), max_age, reloading: AtomicBool::new(false) }
    }

    /// The last answer while it is fresh, without waiting: `None` when [`Memo::get`] would load.
    pub fn fresh(&self, cache: &PageCache) -> Option<Arc<T>> {
        self.value.read().ok().and_then(|v| v.as_ref().and_then(|known| self.fresh_of(known, cache)))
    }

    fn fresh_of(&self, (at, seq, value): &(std::time::Instant, u64, Arc<T>), cache: &PageCache) -> Option<Arc<T>> {
        (at.elapsed() < self.max_age && !cache.is_purged_since("site", *seq)).then(|| value.clone())
    }

    pub async fn get<E: std::fmt::Display, Fut: Future<Output = Result<T, E>>>(
        &self,
        cache: &PageCache,
        load: impl FnOnce() -> Fut,
    ) -> Result<Arc<T>, E> {
        let known = self.value.read().ok().and_then(|v| v.clone());
        if let Some(value) = known.as_ref().and_then(|known| self.fresh_of(known, cache)) {
            return Ok(value);
        }
        // With nothing known yet, every caller loads: there is no answer to give meanwhile.
        let _reloading = match &known {
            Some((_, _, value)) if self.reloading.swap(true, Ordering::AcqRel) => return Ok(value.clone()),
            Some(_) => Some(Reloading(&self.reloading)),
            None => None,
        };
        let seq = cache.sequence();
        match load().await {
            Ok(value) => {
                let value = Arc::new(value);
                if let Ok(mut slot) = self.value.write() {
                    *slot = Some((std::time::Instant::now(), seq, value.clone()));
                }
                Ok(value)
            }
            Err(e) => match known {
                Some((_, _, value)) => {
                    tracing::warn!(error = %e, "query failed; using its last answer");
                    Ok(value)
                }
                None => Err(e),
            },
        }
    }
}

fn timed_out() -> redis::RedisError {
    redis::RedisError::from((redis::ErrorKind::Io, "timed out"))
}

fn page_key(shared: &Shared, key: &str) -> String {
    format!("{}page:{}", shared.prefix, blake3::hash(key.as_bytes()).to_hex())
}

fn seq_key(shared: &Shared) -> String {
    format!("{}purge_seq", shared.prefix)
}

fn marks_key(shared: &Shared) -> String {
    format!("{}purge_marks", shared.prefix)
}

fn channel(shared: &Shared) -> String {
    format!("{}purge", shared.prefix)
}

/// `"<seq> <tag> <tag>…"`; tags never contain spaces.
fn purge_message(seq: u64, tags: &[String]) -> String {
    let mut out = seq.to_string();
    for t in tags {
        out.push(' ');
        out.push_str(t);
    }
    out
}

fn parse_purge_message(text: &str) -> Option<(u64, Vec<String>)> {
    let mut parts = text.split(' ');
    let seq = parts.next()?.parse().ok()?;
    Some((seq, parts.filter(|t| !t.is_empty()).map(str::to_owned).collect()))
}

/// A page just rendered, before compression.
pub struct RenderedPage {
    pub status: u16,
    pub content_type: String,
    pub csp: String,
    pub body: Bytes,
    pub tags: Vec<String>,
    pub filled_seq: u64,
}

fn compress(body: &[u8], brotli_quality: u32) -> (Bytes, Bytes) {
    let mut br = Vec::with_capacity(body.len() / 3);
    {
        let mut w = brotli::CompressorWriter::new(&mut br, 4096, brotli_quality, 22);
        let _ = w.write_all(body);
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 3), flate2::Compression::new(6));
    let _ = gz.write_all(body);
    let gzip = gz.finish().unwrap_or_default();
    (Bytes::from(br), Bytes::from(gzip))
}

/// `BSP1`, the metadata as JSON with its length, then the three bodies with their lengths.
fn encode(page: &CachedPage) -> Option<Vec<u8>> {
    let meta = serde_json::to_vec(page).ok()?;
    let mut out = Vec::with_capacity(16 + meta.len() + page.body.len() + page.brotli.len() + page.gzip.len());
    out.extend_from_slice(b"BSP1");
    for part in [&meta[..], &page.body[..], &page.brotli[..], &page.gzip[..]] {
        out.extend_from_slice(&u32::try_from(part.len()).ok()?.to_le_bytes());
        out.extend_from_slice(part);
    }
    Some(out)
}

fn decode(raw: &[u8]) -> Option<CachedPage> {
    let mut rest = raw.strip_prefix(b"BSP1")?;
    let mut parts = Vec::with_capacity(4);
    for _ in 0..4 {
        let (len, tail) = rest.split_first_chunk::<4>()?;
        let len = usize::try_from(u32::from_le_bytes(*len)).ok()?;
        if tail.len() < len {
            return None;
        }
        let (part, tail) = tail.split_at(len);
        parts.push(Bytes::copy_from_slice(part));
        rest = tail;
    }
    let mut page: CachedPage = serde_json::from_slice(&parts[0]).ok()?;
    page.body = parts[1].clone();
    page.brotli = parts[2].clone();
    page.gzip = parts[3].clone();
    Some(page)
}

/// How the answer came about, in `X-Cache`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    Hit,
    Miss,
    Stale,
}

impl Freshness {
    fn as_str(self) -> &'static str {
        match self {
            Freshness::Hit => "hit",
            Freshness::Miss => "miss",
            Freshness::Stale => "stale",
        }
    }
}

/// Whether an answer came from the cache (`hit`, `stale`) or was rendered (`miss`).
const X_CACHE: header::HeaderName = header::HeaderName::from_static("x-cache");
/// Room in a page's answer headers for its own (about 11) and the per-request ones (encoding,
/// cache status, request id, HSTS): a cloned map keeps its room, so a hit never regrows it.
const ANSWER_HEADERS_ROOM: usize = 16;
/// Tags a CDN in front can purge by (Fastly/Varnish).
const SURROGATE_KEY: header::HeaderName = header::HeaderName::from_static("surrogate-key");

/// The answer to a visitor from a cached page: `304` when their copy is current, else the body
/// in the best encoding they accept.
pub fn respond(page: &CachedPage, request: &HeaderMap, freshness: Freshness) -> Response {
    let if_none_match = request.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
    let is_current = if_none_match.is_some_and(|v| {
        v.split(',').any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == page.etag
        })
    });
    let is_unmodified_since = if_none_match.is_none()
        && request
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok())
            .is_some_and(|since| since.timestamp() >= page.filled_at);
    if is_current || is_unmodified_since {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        let h = res.headers_mut();
        h.extend(
            page.answer_headers
                .iter()
                .filter(|(name, _)| *name != header::CONTENT_TYPE)
                .map(|(n, v)| (n.clone(), v.clone())),
        );
        h.insert(X_CACHE, HeaderValue::from_static(freshness.as_str()));
        return res;
    }
    let accepted = request.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let (body, encoding) = if accepts(accepted, "br") && !page.brotli.is_empty() {
        (page.brotli.clone(), Some("br"))
    } else if accepts(accepted, "gzip") && !page.gzip.is_empty() {
        (page.gzip.clone(), Some("gzip"))
    } else {
        (page.body.clone(), None)
    };
    let mut res = Response::new(axum::body::Body::from(body));
    *res.status_mut() = StatusCode::from_u16(page.status).unwrap_or(StatusCode::OK);
    *res.headers_mut() = page.answer_headers.clone();
    let h = res.headers_mut();
    if let Some(enc) = encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(enc));
    }
    h.insert(X_CACHE, HeaderValue::from_static(freshness.as_str()));
    res
}

/// Whether an `Accept-Encoding` value accepts `coding` (present and not `q=0`).
fn accepts(accept_encoding: &str, coding: &str) -> bool {
    accept_encoding.split(',').any(|part| {
        let mut pieces = part.split(';');
        let name = pieces.next().unwrap_or_default().trim();
        let is_refused = pieces.any(|p| {
            let p = p.trim();
            p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()).is_some_and(|q| q <= 0.0)
        });
        name.eq_ignore_ascii_case(coding) && !is_refused
    })
}

/// The tags a change to an item purges: the item's own pages in every language and the lists
/// that show or should now show it. Sections, pages and tags appear in menus, breadcrumbs and
/// on entries, so a change to one purges the whole site.
pub fn purge_tags(kind: &str, item: i64, sections: &[i64], tags: &[i64]) -> Vec<String> {
    if !matches!(kind, "article" | "document") {
        return vec!["site".to_owned()];
    }
    let mut out = vec![format!("item:{item}")];
    out.extend(["list:home", "list:archive", "list:feeds", "list:sitemaps", "list:author"].map(str::to_owned));
    out.extend(sections.iter().map(|s| format!("list:section:{s}")));
    out.extend(tags.iter().map(|t| format!("list:tag:{t}")));
    out.sort();
    out.dedup();
    out
}

/// Adds the `cache.purge` job: the actions queue it (payload `item_id`, and `sections` an item
/// left, or `site: true`) in the same transaction as the change, and this purges the tags.
/// An item purged for good (no row left) purges the whole site: nothing says where it was shown.
pub fn with_cache_jobs(
    runner: baspa_actions::jobs::JobRunner,
    cache: Arc<PageCache>,
) -> baspa_actions::jobs::JobRunner {
    runner.with_handler(
        "cache.purge",
        Arc::new(move |db, job| {
            let cache = cache.clone();
            Box::pin(async move {
                let tags = match tags_for_job(&db, &job.payload).await {
                    Ok(tags) => tags,
                    // The item or a section of it is gone for good: nothing says where it showed.
                    Err(baspa_db::StoreError::NotFound(_)) => vec!["site".to_owned()],
                    Err(e) => return Err((e.to_string(), true)),
                };
                cache.purge(&tags).await;
                Ok(())
            })
        }),
    )
}

async fn tags_for_job(
    db: &sea_orm::DatabaseConnection,
    payload: &serde_json::Value,
) -> Result<Vec<String>, baspa_db::StoreError> {
    use baspa_db::content as store;
    let item_id = payload.get("item_id").and_then(serde_json::Value::as_i64);
    let (Some(id), false) = (item_id, payload.get("site").and_then(serde_json::Value::as_bool).unwrap_or(false)) else {
        return Ok(vec!["site".to_owned()]);
    };
    let item = store::get_item(db, baspa_domain::ItemId(id)).await?;
    let mut sections = Vec::new();
    let left = payload.get("sections").and_then(serde_json::Value::as_array).cloned().unwrap_or_default();
    for section in item.section_id.into_iter().chain(left.iter().filter_map(serde_json::Value::as_i64)) {
        sections.extend(store::section_ancestry(db, baspa_domain::ItemId(section)).await?);
    }
    let tags = store::tag_ids_of(db, baspa_domain::ItemId(id)).await?;
    Ok(purge_tags(&item.kind, id, &sections, &tags))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(tags: &[&str], seq: u64) -> CachedPage {
        CachedPage {
            status: 200,
            content_type: "text/html; charset=utf-8".into(),
            csp: "default-src 'self'".into(),
            etag: "\"x\"".into(),
            filled_at: 0,
            filled_seq: seq,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            body: Bytes::from_static(b"<p>hello</p>"),
            brotli: Bytes::from_static(b"br"),
            gzip: Bytes::new(),
            answer_headers: HeaderMap::new(),
            valid_at: AtomicU64::new(0),
        }
    }

    #[tokio::test]
    async fn pf2_one_caller_reloads_an_aged_memo_while_the_others_use_its_last_answer() {
        let cache = PageCache::disabled();
        let memo = Memo::new(Duration::ZERO); // always aged
        let loads = AtomicU64::new(0);
        let load = |answer: u64| {
            let loads = &loads;
            move || async move {
                loads.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok::<u64, String>(answer)
            }
        };
        assert_eq!(*memo.get(&cache, load(1)).await.expect("first"), 1);
        // Sixteen requests at once find it aged: one reloads, fifteen answer with the last value.
        let answers = futures_util::future::join_all((0..16).map(|_| memo.get(&cache, load(2)))).await;
        let answers: Vec<u64> = answers.into_iter().map(|a| *a.expect("answer")).collect();
        assert_eq!(loads.load(Ordering::SeqCst), 2, "{answers:?}");
        assert_eq!((answers.iter().filter(|a| **a == 1).count(), answers.iter().filter(|a| **a == 2).count()), (15, 1));
        // A reload dropped half-way (its request went away) lets the next caller reload.
        let dropped = tokio::time::timeout(Duration::from_millis(5), memo.get(&cache, load(3))).await;
        assert!(dropped.is_err(), "timed out while loading");
        assert_eq!(*memo.get(&cache, load(4)).await.expect("reloaded"), 4);
        assert_eq!(loads.load(Ordering::SeqCst), 4);
        // A failed reload keeps the last answer.
        let failed = memo.get(&cache, || async { Err::<u64, String>("database down".into()) }).await;
        assert_eq!(*failed.expect("last answer"), 4);
    }

    #[test]
    fn pf2_a_page_found_valid_is_checked_again_after_a_purge_with_the_same_sequence_number() {
        // Two local purges while Redis is away can carry one number; the remembered validity
        // must not hide the second.
        let marks = Marks::default();
        marks.apply(3, &["item:9".to_owned()]);
        let page = page(&["site", "item:10"], 2);
        assert!(marks.is_valid(&page));
        assert!(marks.is_valid(&page), "remembered");
        marks.apply(3, &["item:10".to_owned()]);
        assert!(!marks.is_valid(&page), "the second purge of number 3 outdates it");
    }

    #[tokio::test]
    async fn pf1_a_threads_own_copy_of_a_page_follows_purges_and_clear_local() {
        let cache = PageCache::new(PageCacheConfig::default()).expect("cache");
        let rendered = |body: &'static str, seq: u64| RenderedPage {
            status: 200,
            content_type: "text/html; charset=utf-8".into(),
            csp: "default-src 'self'".into(),
            body: Bytes::from_static(body.as_bytes()),
            tags: vec!["site".into(), "item:1".into()],
            filled_seq: seq,
        };
        cache.fill("k", rendered("one", cache.sequence())).await;
        let body = |c: &PageCache| c.answer_fresh_local("k", |p| p.body.clone());
        assert_eq!(body(&cache).as_deref(), Some(&b"one"[..]));
        let copy_at = cache.answer_fresh_local("k", |p| p.body.as_ptr());
        assert_eq!(copy_at, cache.answer_fresh_local("k", |p| p.body.as_ptr()), "the same copy answers again");
        let shared_at = cache.fresh_local("k").map(|p| p.body.as_ptr());
        assert!(copy_at.is_some() && copy_at != shared_at, "the thread answers from its own bytes");
        let room = cache.answer_fresh_local("k", |p| p.answer_headers.capacity());
        assert!(room >= Some(ANSWER_HEADERS_ROOM), "a hit adds its headers without regrowing the map: {room:?}");

        cache.purge(&["item:1".to_owned()]).await;
        assert_eq!(body(&cache), None, "a purge outdates the thread's copy too");
        cache.fill("k", rendered("two", cache.sequence())).await;
        assert_eq!(body(&cache).as_deref(), Some(&b"two"[..]), "the new render, not the old copy");
        cache.clear_local();
        assert_eq!(body(&cache), None, "clear_local drops the copies");
    }

    #[test]
    fn pf2_a_purge_after_the_render_started_outdates_the_page_and_an_earlier_one_does_not() {
        let marks = Marks::default();
        marks.apply(1, &["item:7".to_owned()]);
        let rendered_after = page(&["site", "item:7"], 1);
        assert!(marks.is_valid(&rendered_after));
        marks.apply(2, &["item:7".to_owned()]);
        assert!(!marks.is_valid(&rendered_after), "purged after its render began");
        assert!(marks.is_valid(&page(&["site", "item:8"], 1)), "other tags untouched");
    }

    #[test]
    fn pf2_pages_survive_the_trip_through_redis_bytes_and_truncation_is_refused() {
        let original = page(&["site", "list:home"], 5);
        let raw = encode(&original).expect("encode");
        let back = decode(&raw).expect("decode");
        assert_eq!(
            (back.tags, back.filled_seq, back.body, back.brotli),
            (original.tags, 5, original.body, original.brotli)
        );
        assert!(decode(&raw[..raw.len() - 1]).is_none());
        assert_eq!(
            parse_purge_message(&purge_message(9, &["a".into(), "b".into()])),
            Some((9, vec!["a".into(), "b".into()]))
        );
    }

    #[test]
    fn pf2_accept_encoding_honours_q_zero() {
        assert!(accepts("gzip, deflate, br", "br"));
        assert!(!accepts("gzip, br;q=0", "br"));
        assert!(accepts("br;q=0.5", "br"));
        assert!(!accepts("identity", "gzip"));
    }
}
