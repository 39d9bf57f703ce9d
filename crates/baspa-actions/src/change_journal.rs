//! The change journal as administrators use it (SC-6): export (CSV, XLSX) and retention. Both
//! are actions: an export is journalled (who took the journal away, with which filter), and a
//! prune writes an entry recording the hash it pruned to, so nothing disappears silently and
//! `verify_chain` still proves what remains.

use baspa_db::entity::journal_entry;
use baspa_db::journal::{self as store, JournalFilter, PRUNE_ACTION};
use baspa_domain::{Capability, Timestamp};
use serde_json::json;

use crate::{ActionError, Ctx, journal};

/// Most rows one export holds; a wider filter is refused with advice to narrow it.
pub const EXPORT_LIMIT: u64 = 200_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

impl ExportFormat {
    pub fn parse(raw: &str) -> Result<Self, ActionError> {
        match raw {
            "csv" => Ok(ExportFormat::Csv),
            "xlsx" => Ok(ExportFormat::Xlsx),
            other => Err(ActionError::Invalid(format!("export format {other:?}: use csv or xlsx"))),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

const COLUMNS: [&str; 12] = [
    "id",
    "at (UTC)",
    "actor",
    "actor id",
    "ip",
    "user agent",
    "action",
    "kind",
    "entity id",
    "before",
    "after",
    "hash",
];

fn cells(e: &journal_entry::Model) -> [String; 12] {
    [
        e.id.to_string(),
        e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
        e.actor_label.clone(),
        e.actor_id.map(|v| v.to_string()).unwrap_or_default(),
        e.ip.clone().unwrap_or_default(),
        e.user_agent.clone().unwrap_or_default(),
        e.action.clone(),
        e.entity_kind.clone(),
        e.entity_id.map(|v| v.to_string()).unwrap_or_default(),
        e.before.as_ref().map(|v| v.to_string()).unwrap_or_default(),
        e.after.as_ref().map(|v| v.to_string()).unwrap_or_default(),
        e.hash.clone(),
    ]
}

/// A CSV cell: quoted, and a leading `= + - @` neutralised so a spreadsheet never runs a
/// formula someone typed into a title (CSV injection).
fn csv_cell(text: &str) -> String {
    let safe = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() };
    format!("\"{}\"", safe.replace('"', "\"\""))
}

/// Exports the entries matching `filter` (newest first) and journals the export.
pub async fn export_journal(
    ctx: &Ctx<'_>,
    filter: &JournalFilter,
    format: ExportFormat,
) -> Result<(Vec<u8>, u64), ActionError> {
    ctx.actor.require(Capability::ManageSettings, "export the change journal")?;
    let rows = store::search(ctx.db, filter, None, EXPORT_LIMIT + 1).await?;
    if rows.len() as u64 > EXPORT_LIMIT {
        return Err(ActionError::Invalid(format!(
            "more than {EXPORT_LIMIT} entries match; narrow the period or the filter"
        )));
    }
    let bytes = match format {
        ExportFormat::Csv => {
            // A BOM so Excel opens Kazakh and Russian text as UTF-8.
            let mut out = String::from("\u{feff}");
            out.push_str(&COLUMNS.map(csv_cell).join(","));
            out.push_str("\r\n");
            for e in &rows {
                out.push_str(&cells(e).map(|c| csv_cell(&c)).join(","));
                out.push_str("\r\n");
            }
            out.into_bytes()
        }
        ExportFormat::Xlsx => xlsx(&rows)?,
    };
    let count = rows.len() as u64;
    let tx = baspa_db::begin_write(ctx.db).await?;
    let after = json!({"format": format.extension(), "entries": count, "filter": {
        "actor": filter.actor, "action": filter.action, "entity_kind": filter.entity_kind,
        "entity_id": filter.entity_id, "from": filter.from, "until": filter.until}});
    journal(ctx, &tx, "journal.export", "journal", None, None, Some(after)).await?;
    tx.commit().await?;
    Ok((bytes, count))
}

fn xlsx(rows: &[journal_entry::Model]) -> Result<Vec<u8>, ActionError> {
    let fail = |e: rust_xlsxwriter::XlsxError| ActionError::Invalid(format!("cannot build the XLSX file: {e}"));
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("journal").map_err(fail)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (col, name) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *name, &bold).map_err(fail)?;
    }
    for (i, e) in rows.iter().enumerate() {
        for (col, value) in cells(e).iter().enumerate() {
            // Excel's cell limit is 32,767 characters; the full value stays in the CSV and the DB.
            let value: String = value.chars().take(32_000).collect();
            sheet.write_string((i + 1) as u32, col as u16, value).map_err(fail)?;
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(fail)?;
    book.save_to_buffer().map_err(fail)
}

/// What a prune removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneOutcome {
    pub removed: u64,
    pub through_id: Option<i64>,
}

/// Removes the entries recorded before `before` (retention) and journals the prune with the id
/// and hash of the last removed entry, in the same transaction.
pub async fn prune_journal(ctx: &Ctx<'_>, before: Timestamp) -> Result<PruneOutcome, ActionError> {
    ctx.actor.require(Capability::ManageSettings, "prune the change journal")?;
    let tx = baspa_db::begin_write(ctx.db).await?;
    let Some(last) = store::last_before(&tx, before).await? else {
        return Ok(PruneOutcome { removed: 0, through_id: None });
    };
    let removed = store::delete_through(&tx, last.id).await?;
    // The removed entries vouched for the seals they recorded; the digest takes over (SC-5).
    let seals_digest = crate::integrity::seals_digest(&tx, last.id).await?;
    let after = json!({"through_id": last.id, "through_hash": last.hash, "through_at": last.at,
                       "removed": removed, "before": before, "seals_digest": seals_digest});
    journal(ctx, &tx, PRUNE_ACTION, "journal", None, None, Some(after)).await?;
    tx.commit().await?;
    Ok(PruneOutcome { removed, through_id: Some(last.id) })
}
