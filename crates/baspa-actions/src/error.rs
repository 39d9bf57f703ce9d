//! Action errors, grouped by meaning, each with a stable code the UI translates.

use baspa_db::{DbErr, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("you are not allowed to {action}")]
    NotPermitted { action: &'static str },
    #[error("{0} was not found")]
    NotFound(String),
    #[error("the slug {slug:?} is already used in language {lang}; choose another")]
    SlugTaken { lang: String, slug: String },
    #[error("the e-mail address {0:?} already belongs to another account")]
    EmailTaken(String),
    #[error("{0}")]
    Invalid(String),
    #[error("internal storage error")]
    Internal(#[source] DbErr),
    /// A store outside the database (Redis sessions) cannot be reached; worth retrying later.
    #[error("{0} unavailable; try again in a moment")]
    Unavailable(&'static str),
}

impl ActionError {
    /// A stable snake_case code for templates, API clients and logs.
    pub fn code(&self) -> &'static str {
        match self {
            ActionError::NotPermitted { .. } => "not_permitted",
            ActionError::NotFound(_) => "not_found",
            ActionError::SlugTaken { .. } => "slug_taken",
            ActionError::EmailTaken(_) => "email_taken",
            ActionError::Invalid(_) => "invalid_input",
            ActionError::Internal(_) => "internal",
            ActionError::Unavailable(_) => "unavailable",
        }
    }
}

impl From<StoreError> for ActionError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::SlugTaken { lang, slug } => ActionError::SlugTaken { lang, slug },
            StoreError::EmailTaken(email) => ActionError::EmailTaken(email),
            StoreError::NotFound(what) => ActionError::NotFound(what),
            StoreError::InUse(what) => ActionError::Invalid(what),
            StoreError::Internal(e) => ActionError::Internal(e),
        }
    }
}

impl From<DbErr> for ActionError {
    fn from(e: DbErr) -> Self {
        ActionError::Internal(e)
    }
}
