//! Typed ids. A bare `i64` never crosses a crate boundary, so an `ItemId` cannot be passed where a
//! `TranslationId` is expected.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(ItemId, TranslationId, RevisionId, UserId, MediaId, CommentId, JobId, JournalEntryId, RedirectId);
