//! The one error type of the public site. Details go to the log with the request id; the
//! visitor sees a generic page in their language with that id (HD-2).

use baspa_db::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error("not found")]
    NotFound,
    /// The item existed and was removed (trashed): 410 tells crawlers to drop it.
    #[error("gone")]
    Gone,
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("storage: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("render: {0}")]
    Render(#[from] baspa_render::RenderError),
    /// A request refused with this status before or instead of a handler (405 for `TRACE`, a
    /// framework error without a page of its own); see `guard`.
    #[error("refused with {0}")]
    Refused(axum::http::StatusCode),
    #[error("internal: {0}")]
    Internal(String),
}

impl SiteError {
    pub fn status(&self) -> axum::http::StatusCode {
        match self {
            SiteError::NotFound => axum::http::StatusCode::NOT_FOUND,
            SiteError::Gone => axum::http::StatusCode::GONE,
            SiteError::Refused(status) => *status,
            _ => axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}
