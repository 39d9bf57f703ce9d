//! Full-text search for Baspa (issue 9): one tantivy index per node, fed by the job worker, with
//! Kazakh (our suffix-stripping stemmer), Russian and English (Snowball) analyzers and a plain one
//! for any other language. The public surface:
//!
//! - [`SearchIndex::open`] — open or (re)create the index in `<data_dir>/search` ([`index_dir`]);
//! - [`SearchIndex::upsert`], [`SearchIndex::delete`], [`SearchIndex::commit`] — feed it;
//! - [`SearchIndex::search`] with a [`SearchQuery`] — visitor or admin search, never a syntax
//!   error, results with safe highlighted HTML and a "did you mean";
//! - [`html_to_text`] — the plain text of a sanitised body.
//!
//! Design, rules and measured relevance: `docs/search.md`; where the index lives and why:
//! `docs/adr/0004-search-index-per-node.md`.

pub mod analysis;
mod error;
pub mod fold;
mod index;
pub mod kazakh;
mod query;
mod schema;
mod search;
mod stopwords;
mod suggest;
mod text;

pub use error::SearchError;
pub use index::{IndexOptions, Opened, SearchDoc, SearchIndex, index_dir};
pub use query::{
    MAX_PAGE, MAX_PER_PAGE, MAX_QUERY_CHARS, MAX_QUERY_WORDS, SearchFilters, SearchQuery, SortOrder, StatusFilter,
};
pub use search::{FEW_HITS, SearchHit, SearchResults};
pub use text::{escape_html, html_to_text};
