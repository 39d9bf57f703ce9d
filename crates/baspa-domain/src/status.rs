//! Status vocabularies. Stored as stable snake_case strings so that rows stay readable in any
//! SQL console and the same on every backend.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} {value:?} is not known; expected one of: {expected}")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
    pub expected: String,
}

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, $kind:literal { $($variant:ident => $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            pub fn parse(raw: &str) -> Result<Self, UnknownValue> {
                match raw {
                    $($text => Ok($name::$variant),)*
                    other => Err(UnknownValue {
                        kind: $kind,
                        value: other.to_owned(),
                        expected: [$($text),*].join(", "),
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// The life cycle of one translation (CM-10, SC-1).
    ContentStatus, "content status" {
        Draft => "draft",
        InReview => "in_review",
        Scheduled => "scheduled",
        Published => "published",
        Archived => "archived",
        Trashed => "trashed",
    }
);

string_enum!(
    /// What a translation group is. Custom content types (CM-5) will add kinds as data; the
    /// built-in ones are here because routing treats them differently.
    ItemKind, "item kind" {
        Article => "article",
        Page => "page",
        Section => "section",
        Tag => "tag",
        Document => "document",
    }
);

string_enum!(
    /// Comment moderation state (CM-9).
    CommentStatus, "comment status" {
        Pending => "pending",
        Approved => "approved",
        Spam => "spam",
        Trash => "trash",
    }
);

string_enum!(
    /// Durable job state.
    JobStatus, "job status" {
        Queued => "queued",
        Running => "running",
        Done => "done",
        Failed => "failed",
    }
);

impl ContentStatus {
    /// Whether a visitor may see a translation in this state.
    pub fn is_public(self) -> bool {
        self == ContentStatus::Published
    }
}

impl ItemKind {
    /// The slug uniqueness scope (slugs are unique per language within a scope, CM-1).
    /// Sections are unique among siblings; articles and documents share one flat scope because
    /// their URLs end in the slug alone.
    pub fn slug_scope(self, parent: Option<crate::ItemId>) -> String {
        match self {
            ItemKind::Article | ItemKind::Document => "entry".to_owned(),
            ItemKind::Page => "page".to_owned(),
            ItemKind::Tag => "tag".to_owned(),
            ItemKind::Section => match parent {
                Some(p) => format!("section:{p}"),
                None => "section:root".to_owned(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_stored_text() {
        for s in ContentStatus::ALL {
            assert_eq!(ContentStatus::parse(s.as_str()), Ok(*s));
        }
        let err = ContentStatus::parse("live").unwrap_err();
        assert!(err.to_string().contains("draft, in_review"), "{err}");
    }
}
