//! Time as Baspa stores it: UTC, whole seconds. Truncating at the source makes a row read back
//! identical on SQLite (text), PostgreSQL (timestamptz, micros) and MySQL (DATETIME, seconds).

use chrono::{DateTime, SubsecRound, Utc};

pub type Timestamp = DateTime<Utc>;

/// The current time truncated to whole seconds.
pub fn now() -> Timestamp {
    Utc::now().trunc_subsecs(0)
}

/// Truncates any time to whole seconds, e.g. one parsed from an import.
pub fn to_seconds(at: Timestamp) -> Timestamp {
    at.trunc_subsecs(0)
}
