//! Errors by meaning. None of them is about the visitor's text: any text searches (see
//! `query`), so these are operational faults the caller logs and shows as "search unavailable".

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The index directory cannot be created or read (permissions, disk).
    #[error("the search index directory {path} cannot be used: {source}")]
    Unavailable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Another process holds the index writer (a second worker on the same data dir).
    #[error("another process is writing the search index")]
    Locked,
    /// tantivy failed while reading or writing (IO error, full disk, a bug).
    #[error("the search index failed: {0}")]
    Index(#[from] tantivy::TantivyError),
}

impl SearchError {
    /// A stable code for logs and error pages.
    pub fn code(&self) -> &'static str {
        match self {
            SearchError::Unavailable { .. } => "search_unavailable",
            SearchError::Locked => "search_locked",
            SearchError::Index(_) => "search_failed",
        }
    }
}
