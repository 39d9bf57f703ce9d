//! The portable, backend-independent form of every table (BK-1): rows as canonical JSON lines
//! (sorted keys, RFC 3339 UTC times, JSON columns as values), read and written through typed
//! sea-query statements. Because the bytes do not depend on the backend, a table's hash proves
//! that a SQLite site restored onto PostgreSQL or MariaDB holds exactly the same rows.
//!
//! `TABLES` lists every table in foreign-key order; `tables_not_covered` finds tables added by a
//! migration but missing here, so a new table cannot silently stay out of the backups.

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{
    ColumnTrait, ColumnType, ConnectionTrait, DbErr, EntityTrait, IdenStatic, Iterable, PrimaryKeyToColumn,
    QueryResult, Value,
};
use serde_json::{Map, Value as Json};

use crate::entity;
use crate::journal::canonical_json;

/// How a column's values are read, written and spelled in the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    BigInt,
    Text,
    Bool,
    Json,
    Time,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
}

/// One table as the backup sees it.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: &'static str,
    pub columns: Vec<Column>,
    pub primary_key: Vec<&'static str>,
    /// Columns referencing the same table (a section's parent): rows are restored parents first.
    pub self_refs: &'static [&'static str],
}

impl Table {
    fn has_serial_id(&self) -> bool {
        self.primary_key == ["id"] && self.columns.iter().any(|c| c.name == "id" && c.kind == Kind::BigInt)
    }
}

fn kind_of(t: &ColumnType) -> Kind {
    match t {
        ColumnType::Integer | ColumnType::SmallInteger | ColumnType::TinyInteger => Kind::Int,
        ColumnType::BigInteger => Kind::BigInt,
        ColumnType::Boolean => Kind::Bool,
        ColumnType::Json | ColumnType::JsonBinary => Kind::Json,
        ColumnType::TimestampWithTimeZone | ColumnType::DateTime | ColumnType::Timestamp => Kind::Time,
        _ => Kind::Text,
    }
}

fn table<E: EntityTrait + Default>(self_refs: &'static [&'static str]) -> Table {
    let columns =
        E::Column::iter().map(|c| Column { name: c.as_str(), kind: kind_of(c.def().get_column_type()) }).collect();
    let primary_key = E::PrimaryKey::iter().map(|p| p.into_column().as_str()).collect();
    Table { name: E::default().table_name(), columns, primary_key, self_refs }
}

/// Every table in an order that satisfies the foreign keys (referenced tables first).
pub fn tables() -> Vec<Table> {
    use entity::*;
    vec![
        table::<language::Entity>(&[]),
        table::<user::Entity>(&[]),
        table::<media::Entity>(&[]),
        table::<media_variant::Entity>(&[]),
        table::<item::Entity>(&["parent_id", "section_id"]),
        table::<grant::Entity>(&[]),
        table::<translation::Entity>(&[]),
        table::<revision::Entity>(&[]),
        table::<item_tag::Entity>(&[]),
        table::<item_relation::Entity>(&[]),
        table::<comment::Entity>(&["parent_id"]),
        table::<redirect::Entity>(&[]),
        table::<journal_entry::Entity>(&[]),
        table::<job::Entity>(&[]),
        table::<setting::Entity>(&[]),
        table::<session::Entity>(&[]),
        table::<login_throttle::Entity>(&[]),
        table::<password_reset::Entity>(&[]),
        table::<integrity_seal::Entity>(&[]),
        table::<journal_anchor::Entity>(&[]),
        table::<incident::Entity>(&[]),
        table::<security_event::Entity>(&[]),
        table::<backup_run::Entity>(&[]),
        table::<import_map::Entity>(&[]),
    ]
}

/// Tables that exist in the database but are not in `tables()` (the migration bookkeeping
/// table apart): a backup reports them as problems.
pub async fn tables_not_covered(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    let known: Vec<&str> = tables().iter().map(|t| t.name).collect();
    Ok(crate::dialect::table_names(db)
        .await?
        .into_iter()
        .filter(|t| t != "schema_migrations" && !known.contains(&t.as_str()))
        .collect())
}

fn read_value(row: &QueryResult, c: &Column) -> Result<Json, DbErr> {
    let v = match c.kind {
        Kind::Int => row.try_get::<Option<i32>>("", c.name)?.map(Json::from),
        Kind::BigInt => row.try_get::<Option<i64>>("", c.name)?.map(Json::from),
        Kind::Text => row.try_get::<Option<String>>("", c.name)?.map(Json::from),
        Kind::Bool => row.try_get::<Option<bool>>("", c.name)?.map(Json::from),
        Kind::Json => row.try_get::<Option<Json>>("", c.name)?,
        Kind::Time => row
            .try_get::<Option<DateTime<Utc>>>("", c.name)?
            .map(|t| Json::from(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))),
    };
    Ok(v.unwrap_or(Json::Null))
}

fn bad(table: &str, column: &str, value: &Json) -> DbErr {
    DbErr::Custom(format!("table {table}, column {column}: the value {value} does not fit the column"))
}

fn write_value(table: &str, c: &Column, v: &Json) -> Result<Value, DbErr> {
    let null = v.is_null();
    Ok(match c.kind {
        Kind::Int => {
            let n = if null { None } else { Some(v.as_i64().ok_or_else(|| bad(table, c.name, v))? as i32) };
            n.into()
        }
        Kind::BigInt => (if null { None } else { Some(v.as_i64().ok_or_else(|| bad(table, c.name, v))?) }).into(),
        Kind::Text => {
            (if null { None } else { Some(v.as_str().ok_or_else(|| bad(table, c.name, v))?.to_owned()) }).into()
        }
        Kind::Bool => (if null { None } else { Some(v.as_bool().ok_or_else(|| bad(table, c.name, v))?) }).into(),
        Kind::Json => (if null { None } else { Some(v.clone()) }).into(),
        Kind::Time => {
            let t = if null {
                None
            } else {
                let raw = v.as_str().ok_or_else(|| bad(table, c.name, v))?;
                Some(DateTime::parse_from_rfc3339(raw).map_err(|_| bad(table, c.name, v))?.with_timezone(&Utc))
            };
            t.into()
        }
    })
}

/// A row as one canonical JSON line (sorted keys; the same bytes on every backend).
pub fn row_line(row: &Map<String, Json>) -> String {
    canonical_json(&Json::Object(row.clone()))
}

const PAGE: u64 = 1000;

/// Reads a table page by page in primary-key order and hands each row to `sink`. Run it inside
/// a repeatable-read transaction (`snapshot`) so every table comes from the same moment.
pub async fn export_table(
    db: &impl ConnectionTrait,
    t: &Table,
    mut sink: impl FnMut(Map<String, Json>) -> Result<(), DbErr>,
) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let mut count = 0u64;
    let mut last_id: Option<i64> = None;
    loop {
        let mut q = Query::select();
        q.from(Alias::new(t.name));
        for c in &t.columns {
            q.column(Alias::new(c.name));
        }
        for k in &t.primary_key {
            q.order_by(Alias::new(*k), Order::Asc);
        }
        q.limit(PAGE);
        if t.has_serial_id() {
            // Keyset paging: constant cost per page on big tables.
            if let Some(id) = last_id {
                q.and_where(Expr::col(Alias::new("id")).gt(id));
            }
        } else {
            q.offset(count);
        }
        let rows = db.query_all_raw(backend.build(&q)).await?;
        let n = rows.len() as u64;
        for row in rows {
            let mut map = Map::new();
            for c in &t.columns {
                map.insert(c.name.to_owned(), read_value(&row, c)?);
            }
            last_id = map.get("id").and_then(Json::as_i64);
            sink(map)?;
        }
        count += n;
        if n < PAGE {
            return Ok(count);
        }
    }
}

/// Puts rows whose self-references point at other rows of the batch after those rows.
fn parents_first(t: &Table, rows: Vec<Map<String, Json>>) -> Vec<Map<String, Json>> {
    if t.self_refs.is_empty() {
        return rows;
    }
    let ids: std::collections::HashSet<i64> = rows.iter().filter_map(|r| r.get("id").and_then(Json::as_i64)).collect();
    let mut placed = std::collections::HashSet::new();
    let mut pending = rows;
    let mut ordered = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let before = pending.len();
        let (ready, rest): (Vec<_>, Vec<_>) = pending.into_iter().partition(|r| {
            t.self_refs.iter().all(|c| match r.get(*c).and_then(Json::as_i64) {
                Some(parent) => placed.contains(&parent) || !ids.contains(&parent),
                None => true,
            })
        });
        for r in &ready {
            if let Some(id) = r.get("id").and_then(Json::as_i64) {
                placed.insert(id);
            }
        }
        ordered.extend(ready);
        pending = rest;
        if pending.len() == before {
            // A cycle cannot be satisfied by order; the database will name the row.
            ordered.extend(pending);
            break;
        }
    }
    ordered
}

/// Inserts rows (with their ids) into an empty table, in batches.
pub async fn import_rows(db: &impl ConnectionTrait, t: &Table, rows: Vec<Map<String, Json>>) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let rows = parents_first(t, rows);
    // Parameters per statement stay far below every backend's limit (SQLite: 32,766).
    let per_batch = (8000 / t.columns.len().max(1)).max(1);
    let mut done = 0u64;
    for chunk in rows.chunks(per_batch) {
        let mut q = Query::insert();
        q.into_table(Alias::new(t.name)).columns(t.columns.iter().map(|c| Alias::new(c.name)));
        for row in chunk {
            let mut values = Vec::with_capacity(t.columns.len());
            for c in &t.columns {
                let v = row.get(c.name).unwrap_or(&Json::Null);
                values.push(write_value(t.name, c, v)?.into());
            }
            q.values(values).map_err(|e| DbErr::Custom(format!("table {}: {e}", t.name)))?;
        }
        db.execute_raw(backend.build(&q)).await?;
        done += chunk.len() as u64;
    }
    Ok(done)
}

/// The primary-key values of a row, as the JSON array that names it in change logs.
pub fn row_key(t: &Table, row: &Map<String, Json>) -> Json {
    Json::Array(t.primary_key.iter().map(|k| row.get(*k).cloned().unwrap_or(Json::Null)).collect())
}

fn key_condition(t: &Table, key: &Json) -> Result<sea_orm::sea_query::Condition, DbErr> {
    let values = key.as_array().ok_or_else(|| DbErr::Custom(format!("table {}: key {key} is not a list", t.name)))?;
    let mut cond = sea_orm::sea_query::Condition::all();
    for (name, v) in t.primary_key.iter().zip(values) {
        let column = t
            .columns
            .iter()
            .find(|c| c.name == *name)
            .ok_or_else(|| DbErr::Custom(format!("table {}: no key column {name}", t.name)))?;
        cond = cond.add(Expr::col(Alias::new(*name)).eq(write_value(t.name, column, v)?));
    }
    Ok(cond)
}

/// Deletes the rows with these keys (a point-in-time change log replayed onto a restore).
pub async fn delete_rows(db: &impl ConnectionTrait, t: &Table, keys: &[Json]) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let mut done = 0;
    for key in keys {
        let mut q = Query::delete();
        q.from_table(Alias::new(t.name)).cond_where(key_condition(t, key)?);
        done += db.execute_raw(backend.build(&q)).await?.rows_affected();
    }
    Ok(done)
}

/// Writes rows as they were at a later moment: an UPDATE of every column for a row that exists
/// (never delete-and-insert, which would cascade to other tables), an INSERT otherwise.
pub async fn upsert_rows(db: &impl ConnectionTrait, t: &Table, rows: Vec<Map<String, Json>>) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let mut done = 0;
    for row in parents_first(t, rows) {
        let key = row_key(t, &row);
        let mut q = Query::update();
        q.table(Alias::new(t.name)).cond_where(key_condition(t, &key)?);
        let mut any = false;
        for c in t.columns.iter().filter(|c| !t.primary_key.contains(&c.name)) {
            q.value(Alias::new(c.name), write_value(t.name, c, row.get(c.name).unwrap_or(&Json::Null))?);
            any = true;
        }
        let updated = if any { db.execute_raw(backend.build(&q)).await?.rows_affected() } else { 0 };
        // MySQL counts only rows it changed, so 0 may still mean "exists": look before inserting.
        if updated == 0 {
            let mut s = Query::select();
            s.expr(Expr::val(1)).from(Alias::new(t.name)).cond_where(key_condition(t, &key)?);
            if db.query_one_raw(backend.build(&s)).await?.is_none() {
                import_rows(db, t, vec![row]).await?;
            }
        }
        done += 1;
    }
    Ok(done)
}

/// Rows per table, for checks after a restore.
pub async fn count_rows(db: &impl ConnectionTrait, t: &Table) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let mut q = Query::select();
    q.expr_as(Expr::col(sea_orm::sea_query::Asterisk).count(), Alias::new("n")).from(Alias::new(t.name));
    let row = db.query_one_raw(backend.build(&q)).await?;
    let n = row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0);
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Empties every table (children first); self-references are cleared before the rows go, so
/// `RESTRICT` keys between rows of one table never block. Used only by `restore --force`.
pub async fn wipe_all(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    for t in tables().iter().rev() {
        for c in t.self_refs {
            let mut q = Query::update();
            q.table(Alias::new(t.name)).value(Alias::new(*c), Value::BigInt(None));
            db.execute_raw(backend.build(&q)).await?;
        }
        let mut q = Query::delete();
        q.from_table(Alias::new(t.name));
        db.execute_raw(backend.build(&q)).await?;
    }
    Ok(())
}

/// After rows were inserted with their ids, makes the next generated id follow the largest one.
pub async fn reset_id_sequences(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    for t in tables().iter().filter(|t| t.has_serial_id()) {
        crate::dialect::reset_id_sequence(db, t.name).await?;
    }
    Ok(())
}

/// The migrations applied to this database, in order (recorded in backups' manifests).
pub async fn applied_migrations(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    let backend = db.get_database_backend();
    let mut q = Query::select();
    q.column(Alias::new("version")).from(Alias::new("schema_migrations")).order_by(Alias::new("version"), Order::Asc);
    let rows = db.query_all_raw(backend.build(&q)).await?;
    rows.iter().map(|r| r.try_get::<String>("", "version")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entity_column_has_a_kind_and_tables_have_keys() {
        for t in tables() {
            assert!(!t.primary_key.is_empty(), "{} has a primary key", t.name);
            assert!(!t.columns.is_empty());
            for r in t.self_refs {
                assert!(t.columns.iter().any(|c| c.name == *r), "{}.{r}", t.name);
            }
        }
        let items = tables().into_iter().find(|t| t.name == "items").unwrap();
        assert!(items.has_serial_id());
        assert_eq!(items.columns.iter().find(|c| c.name == "created_at").unwrap().kind, Kind::Time);
    }

    #[test]
    fn children_are_restored_after_their_parents() {
        let t = tables().into_iter().find(|t| t.name == "items").unwrap();
        let row = |id: i64, parent: Option<i64>| {
            let mut m = Map::new();
            m.insert("id".into(), id.into());
            m.insert("parent_id".into(), parent.map(Json::from).unwrap_or(Json::Null));
            m.insert("section_id".into(), Json::Null);
            m
        };
        let ordered = parents_first(&t, vec![row(1, Some(3)), row(2, None), row(3, Some(2)), row(4, Some(99))]);
        let ids: Vec<i64> = ordered.iter().map(|r| r["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, vec![2, 4, 3, 1]);
    }
}
