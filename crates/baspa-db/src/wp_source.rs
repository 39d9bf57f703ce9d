//! Reading a WordPress database (MySQL/MariaDB) as an import source (MG-1). The importer names
//! the table (with its configurable prefix) and the columns; every column is read as text
//! (`CAST(… AS CHAR)`) so unsigned ids and WordPress's zero dates (`0000-00-00 00:00:00`) arrive
//! as they are stored. Queries are sea-query builders; no value is ever spliced into SQL.

use sea_orm::sea_query::{Alias, Expr, Func, Order, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};

/// One column value as read from the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Null,
    Text(String),
    /// Bytes that are not UTF-8; the importer reports them with the row's id.
    Bytes(Vec<u8>),
}

impl Cell {
    /// The text, with invalid UTF-8 replaced (the caller reports it separately).
    pub fn text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        }
    }

    pub fn int(&self) -> i64 {
        self.text().trim().parse().unwrap_or(0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read table {table}: {message}")]
    Table { table: String, message: String },
}

/// All rows of `table` with the given columns, ordered by the first column.
pub async fn read_table(db: &DatabaseConnection, table: &str, columns: &[&str]) -> Result<Vec<Vec<Cell>>, SourceError> {
    let mut select = Query::select();
    for c in columns {
        select.expr_as(Func::cast_as(Expr::col(Alias::new(*c)), Alias::new("CHAR")), Alias::new(*c));
    }
    select.from(Alias::new(table));
    if let Some(first) = columns.first() {
        // Numeric order for numeric ids even though the value is read as text.
        select.order_by(Alias::new(*first), Order::Asc);
    }
    let rows = db
        .query_all(&select)
        .await
        .map_err(|e| SourceError::Table { table: table.to_owned(), message: e.to_string() })?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut cells = Vec::with_capacity(columns.len());
        for c in columns {
            let cell = match row.try_get::<Option<String>>("", c) {
                Ok(Some(s)) => Cell::Text(s),
                Ok(None) => Cell::Null,
                Err(_) => match row.try_get::<Option<Vec<u8>>>("", c) {
                    Ok(Some(b)) => match String::from_utf8(b) {
                        Ok(s) => Cell::Text(s),
                        Err(e) => Cell::Bytes(e.into_bytes()),
                    },
                    _ => Cell::Null,
                },
            };
            cells.push(cell);
        }
        out.push(cells);
    }
    Ok(out)
}
