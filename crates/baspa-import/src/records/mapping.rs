//! The mapping file of a generic import (MG-7): a TOML document that says how the records of one
//! CSV, JSON or XML source become items of one kind. Parsed and checked once, before any record
//! is read, so a typo in the mapping is one clear error rather than a report full of problems.

use std::collections::BTreeMap;

use baspa_domain::{ContentStatus, ItemKind, LangCode};
use chrono::FixedOffset;
use serde::Deserialize;

/// The record formats a mapping can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    /// One JSON array of objects.
    Json,
    /// JSON Lines: one object per line.
    Jsonl,
    Xml,
}

impl Format {
    /// The format a file name suggests (`.csv`, `.json`, `.jsonl`/`.ndjson`, `.xml`).
    pub fn from_file_name(name: &str) -> Option<Self> {
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
        match ext.as_str() {
            "csv" | "tsv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "xml" => Some(Format::Xml),
            _ => None,
        }
    }
}

/// The mapping file as written (TOML); [`Mapping::parse`] checks it into a [`Mapping`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    source: String,
    format: Option<Format>,
    kind: String,
    record: Option<String>,
    delimiter: Option<String>,
    tag_separator: Option<String>,
    date_format: Option<String>,
    utc_offset: Option<String>,
    default_status: Option<String>,
    #[serde(default = "keep")]
    keep_other_columns: bool,
    language: LanguageFile,
    columns: ColumnsFile,
    #[serde(default)]
    fields: BTreeMap<String, String>,
    #[serde(default)]
    status_values: BTreeMap<String, String>,
}

fn keep() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LanguageFile {
    fixed: Option<String>,
    column: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnsFile {
    id: String,
    title: String,
    group: Option<String>,
    slug: Option<String>,
    body: Option<String>,
    excerpt: Option<String>,
    section: Option<String>,
    tags: Option<String>,
    author: Option<String>,
    status: Option<String>,
    published_at: Option<String>,
}

/// Where a record's language comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LanguageFrom {
    Fixed(LangCode),
    Column(String),
}

/// The columns (CSV header names, JSON keys, XML child element names; nested ones joined with
/// `/`) that feed the item's parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    pub id: String,
    pub title: String,
    pub group: Option<String>,
    pub slug: Option<String>,
    pub body: Option<String>,
    pub excerpt: Option<String>,
    pub section: Option<String>,
    pub tags: Option<String>,
    pub author: Option<String>,
    pub status: Option<String>,
    pub published_at: Option<String>,
}

impl Columns {
    /// Every column the item's own parts read (the rest may become custom fields).
    pub fn used(&self) -> Vec<&str> {
        let mut out = vec![self.id.as_str(), self.title.as_str()];
        for c in [
            &self.group,
            &self.slug,
            &self.body,
            &self.excerpt,
            &self.section,
            &self.tags,
            &self.author,
            &self.status,
            &self.published_at,
        ]
        .into_iter()
        .flatten()
        {
            out.push(c.as_str());
        }
        out
    }
}

/// A checked mapping.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// The name of the source; the import map keys its rows by `records:<source>`, so keep it
    /// stable between runs of the same feed.
    pub source: String,
    pub format: Option<Format>,
    pub kind: ItemKind,
    /// XML: the local name of the repeated record element.
    pub record: Option<String>,
    pub delimiter: u8,
    pub tag_separator: String,
    /// A chrono format for `published_at`; RFC 3339 (and `YYYY-MM-DD[ HH:MM[:SS]]`) without it.
    pub date_format: Option<String>,
    /// The offset of dates written without one.
    pub utc_offset: FixedOffset,
    pub default_status: ContentStatus,
    /// Put every column the mapping does not use into the custom fields under its own name.
    pub keep_other_columns: bool,
    pub language: LanguageFrom,
    pub columns: Columns,
    /// Custom field name → column.
    pub fields: BTreeMap<String, String>,
    /// Source status value → Baspa status, on top of the built-in words.
    pub status_values: BTreeMap<String, ContentStatus>,
    /// blake3 of the mapping text: a changed mapping re-imports every record.
    pub fingerprint: String,
}

/// Item kinds a generic import may create: content, not structure (sections and tags come from
/// the records' section and tag columns).
pub const IMPORTABLE_KINDS: [ItemKind; 3] = [ItemKind::Article, ItemKind::Page, ItemKind::Document];

/// The statuses a record may ask for.
const IMPORTABLE_STATUSES: [ContentStatus; 3] =
    [ContentStatus::Draft, ContentStatus::InReview, ContentStatus::Published];

impl Mapping {
    /// Parses and checks a mapping file.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: MappingFile = toml::from_str(text).map_err(|e| format!("mapping file: {}", e.message().trim()))?;
        let source = file.source.trim().to_owned();
        if source.is_empty()
            || !source.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
        {
            return Err(format!(
                "mapping file: source {:?} must be a non-empty name of letters, digits, '-', '_', '.' or ':'",
                file.source
            ));
        }
        let kind =
            ItemKind::parse(file.kind.trim()).ok().filter(|k| IMPORTABLE_KINDS.contains(k)).ok_or_else(|| {
                let known: Vec<&str> = IMPORTABLE_KINDS.iter().map(|k| k.as_str()).collect();
                format!(
                    "mapping file: kind {:?} is not a content kind records can become; use one of: {}",
                    file.kind,
                    known.join(", ")
                )
            })?;
        let language = match (file.language.fixed, file.language.column) {
            (Some(code), None) => {
                LanguageFrom::Fixed(LangCode::parse(&code).map_err(|e| format!("mapping file: {e}"))?)
            }
            (None, Some(column)) if !column.trim().is_empty() => LanguageFrom::Column(column),
            _ => {
                return Err(
                    "mapping file: [language] needs exactly one of `fixed = \"kk\"` or `column = \"lang\"`".into()
                );
            }
        };
        if file.format == Some(Format::Xml) && file.record.as_deref().is_none_or(|r| r.trim().is_empty()) {
            return Err("mapping file: an XML source needs `record = \"<element name>\"`".into());
        }
        let delimiter = match file.delimiter.as_deref() {
            None => b',',
            Some("\\t" | "\t") => b'\t',
            Some(d) if d.len() == 1 && d.is_ascii() => d.as_bytes()[0],
            Some(d) => return Err(format!("mapping file: delimiter {d:?} must be one ASCII character")),
        };
        let tag_separator = file.tag_separator.unwrap_or_else(|| ",".to_owned());
        if tag_separator.is_empty() {
            return Err("mapping file: tag_separator must not be empty".into());
        }
        let utc_offset = match file.utc_offset.as_deref() {
            None => FixedOffset::east_opt(0).ok_or("mapping file: offset")?,
            Some(raw) => {
                parse_offset(raw).ok_or_else(|| format!("mapping file: utc_offset {raw:?} is not like +05:00"))?
            }
        };
        let status = |raw: &str| {
            ContentStatus::parse(raw.trim())
                .ok()
                .filter(|s| IMPORTABLE_STATUSES.contains(s))
                .ok_or_else(|| format!("mapping file: status {raw:?} is not one of draft, in_review, published"))
        };
        let default_status = match file.default_status.as_deref() {
            Some(raw) => status(raw)?,
            None => ContentStatus::Published,
        };
        let mut status_values = BTreeMap::new();
        for (from, to) in &file.status_values {
            status_values.insert(from.trim().to_lowercase(), status(to)?);
        }
        let c = file.columns;
        if kind == ItemKind::Page && c.section.is_some() {
            return Err("mapping file: pages do not sit in a section; remove `section` from [columns]".into());
        }
        let columns = Columns {
            id: c.id,
            title: c.title,
            group: c.group,
            slug: c.slug,
            body: c.body,
            excerpt: c.excerpt,
            section: c.section,
            tags: c.tags,
            author: c.author,
            status: c.status,
            published_at: c.published_at,
        };
        if let Some(format) = &file.date_format
            && format.trim().is_empty()
        {
            return Err("mapping file: date_format is empty".into());
        }
        Ok(Mapping {
            source,
            format: file.format,
            kind,
            record: file.record.map(|r| r.trim().to_owned()),
            delimiter,
            tag_separator,
            date_format: file.date_format,
            utc_offset,
            default_status,
            keep_other_columns: file.keep_other_columns,
            language,
            columns,
            fields: file.fields,
            status_values,
            fingerprint: blake3::hash(text.as_bytes()).to_hex().to_string(),
        })
    }

    /// The import map source of this mapping's records.
    pub fn source_name(&self) -> String {
        format!("records:{}", self.source)
    }

    /// The status a record's status value asks for: the mapping's own words first, then the
    /// Baspa names and the usual words of other systems.
    pub fn status_of(&self, raw: &str) -> Option<ContentStatus> {
        let key = raw.trim().to_lowercase();
        if key.is_empty() {
            return Some(self.default_status);
        }
        if let Some(s) = self.status_values.get(&key) {
            return Some(*s);
        }
        match key.as_str() {
            "published" | "publish" | "public" | "live" | "1" | "true" | "yes" => Some(ContentStatus::Published),
            "draft" | "0" | "false" | "no" | "unpublished" => Some(ContentStatus::Draft),
            "in_review" | "pending" | "review" => Some(ContentStatus::InReview),
            _ => None,
        }
    }

    /// Parses a `published_at` value with the mapping's format (or the default ones).
    pub fn parse_date(&self, raw: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
        let raw = raw.trim();
        let naive = |n: chrono::NaiveDateTime| {
            n.and_local_timezone(self.utc_offset)
                .single()
                .map(|t| t.with_timezone(&chrono::Utc))
                .ok_or_else(|| format!("date {raw:?} does not exist at offset {}", self.utc_offset))
        };
        if let Some(format) = &self.date_format {
            if let Ok(t) = chrono::DateTime::parse_from_str(raw, format) {
                return Ok(t.with_timezone(&chrono::Utc));
            }
            if let Ok(n) = chrono::NaiveDateTime::parse_from_str(raw, format) {
                return naive(n);
            }
            if let Ok(d) = chrono::NaiveDate::parse_from_str(raw, format) {
                return naive(d.and_time(chrono::NaiveTime::MIN));
            }
            return Err(format!("date {raw:?} does not match the format {format:?}"));
        }
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
            return Ok(t.with_timezone(&chrono::Utc));
        }
        for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
            if let Ok(n) = chrono::NaiveDateTime::parse_from_str(raw, f) {
                return naive(n);
            }
        }
        if let Ok(d) = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
            return naive(d.and_time(chrono::NaiveTime::MIN));
        }
        Err(format!("date {raw:?} is not RFC 3339 or YYYY-MM-DD[ HH:MM[:SS]]; set date_format in the mapping"))
    }
}

fn parse_offset(raw: &str) -> Option<FixedOffset> {
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("z") || raw.eq_ignore_ascii_case("utc") {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match raw.as_bytes().first()? {
        b'+' => (1, &raw[1..]),
        b'-' => (-1, &raw[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if !(0..=14).contains(&h) || !(0..60).contains(&m) {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "source = \"news\"\nkind = \"article\"\n[language]\nfixed = \"kk\"\n[columns]\nid = \"id\"\ntitle = \"title\"\n";

    #[test]
    fn mg7_a_minimal_mapping_parses_with_its_defaults() {
        let m = Mapping::parse(MINIMAL).expect("mapping");
        assert_eq!(m.kind, ItemKind::Article);
        assert_eq!(m.source_name(), "records:news");
        assert_eq!(m.default_status, ContentStatus::Published);
        assert!(m.keep_other_columns);
        assert_eq!(m.status_of("publish"), Some(ContentStatus::Published));
        assert_eq!(m.status_of("archived"), None);
    }

    #[test]
    fn mg7_unknown_kinds_keys_and_languages_are_clear_errors() {
        let check = |text: String, needle: &str| {
            let err = Mapping::parse(&text).expect_err("refused");
            assert!(err.contains(needle), "{needle:?} not in {err}");
        };
        check(MINIMAL.replace("article", "recipe"), "kind \"recipe\" is not a content kind");
        check(MINIMAL.replace("article", "section"), "article, page, document");
        check(MINIMAL.replace("fixed = \"kk\"", "fixed = \"k1\""), "language code");
        check(MINIMAL.replace("[columns]", "[columns]\ntitel = \"x\""), "unknown field");
        check(MINIMAL.replace("fixed = \"kk\"", ""), "exactly one of");
        check(
            MINIMAL.replace("article", "page").replace("[columns]", "[columns]\nsection = \"s\""),
            "pages do not sit",
        );
        check(MINIMAL.replace("kind", "format = \"xml\"\nkind"), "record =");
    }

    #[test]
    fn mg7_the_mapping_example_in_the_docs_parses() {
        let doc = include_str!("../../../../docs/import.md");
        let section = doc.split("## Generic import (MG-7)").nth(1).expect("the MG-7 section");
        let example = section.split("```toml\n").nth(1).and_then(|s| s.split("```").next()).expect("a toml block");
        let m = Mapping::parse(example).expect("the documented mapping");
        assert_eq!(m.source_name(), "records:ministry-news");
        assert_eq!(m.status_of("черновик"), Some(ContentStatus::Draft));
        assert_eq!(m.fields.get("source_url").map(String::as_str), Some("link"));
    }

    #[test]
    fn mg7_dates_follow_the_mapping_format_and_offset() {
        let m =
            Mapping::parse(&MINIMAL.replace("kind", "date_format = \"%d.%m.%Y %H:%M\"\nutc_offset = \"+05:00\"\nkind"))
                .expect("mapping");
        assert_eq!(m.parse_date("02.03.2024 10:30").expect("date").to_rfc3339(), "2024-03-02T05:30:00+00:00");
        assert!(m.parse_date("2024-03-02").is_err());
        let m = Mapping::parse(MINIMAL).expect("mapping");
        assert_eq!(
            m.parse_date("2024-03-02T10:30:00+05:00").expect("rfc3339").to_rfc3339(),
            "2024-03-02T05:30:00+00:00"
        );
        assert_eq!(m.parse_date("2024-03-02").expect("date").to_rfc3339(), "2024-03-02T00:00:00+00:00");
        assert!(m.parse_date("yesterday").expect_err("refused").contains("date_format"));
    }
}
