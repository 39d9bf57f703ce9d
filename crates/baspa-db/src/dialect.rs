//! The few places where SQLite, PostgreSQL and MySQL/MariaDB differ, each behind one named
//! function with a test on every backend (see `tests/dialect.rs`).

use sea_orm::sea_query::ColumnDef;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

/// Timestamps: `timestamptz` on PostgreSQL, `DATETIME` on MySQL (its `TIMESTAMP` column ends in
/// 2038 and shifts with the session time zone), RFC 3339 text on SQLite. Values are always UTC
/// seconds.
///
/// Known limit: the MySQL driver binds `DateTime<Utc>` parameters as `TIMESTAMP`, and MariaDB turns
/// values after 2038-01-19 into NULL before they reach the `DATETIME` column. Fixing it means
/// binding naive UTC values on MySQL (tracked in docs/adr/0002); until then times after 2037
/// are refused by MySQL/MariaDB with a NOT NULL error rather than stored wrongly.
pub fn timestamp_column(def: &mut ColumnDef, backend: DbBackend) -> &mut ColumnDef {
    match backend {
        DbBackend::MySql => def.date_time(),
        _ => def.timestamp_with_time_zone(),
    }
}

/// Settings applied to every new connection's session.
pub async fn prepare_connection(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let statements: &[&str] = match db.get_database_backend() {
        // WAL lets the site read while a writer works; FKs are off by default in SQLite.
        DbBackend::Sqlite => &[
            "PRAGMA foreign_keys = ON",
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = NORMAL",
            "PRAGMA busy_timeout = 5000",
        ],
        DbBackend::MySql => &["SET time_zone = '+00:00'"],
        DbBackend::Postgres => &["SET TIME ZONE 'UTC'"],
        _ => &[],
    };
    for sql in statements {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

/// Serialises writers of an append-only chain (the change journal): `FOR UPDATE` on the chain
/// head on PostgreSQL and MySQL. SQLite allows one writer at a time, so nothing is needed there.
pub fn lock_suffix(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Sqlite => "",
        _ => " FOR UPDATE",
    }
}

/// The server's version string, for `baspa --version` reports and OP-4.
pub async fn server_version(db: &impl ConnectionTrait) -> Result<String, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Sqlite => "SELECT sqlite_version() AS v",
        _ => "SELECT version() AS v",
    };
    let row = db.query_one_raw(Statement::from_string(backend, sql)).await?;
    match row {
        Some(row) => row.try_get::<String>("", "v"),
        None => Err(DbErr::RecordNotFound("server version".to_owned())),
    }
}

/// The names of the tables in the connected database (the current schema on PostgreSQL, the
/// current database on MySQL/MariaDB), for the backup's completeness check.
pub async fn table_names(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Sqlite => "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        DbBackend::Postgres => {
            "SELECT table_name::text AS t FROM information_schema.tables WHERE table_schema = current_schema() \
             AND table_type = 'BASE TABLE'"
        }
        _ => {
            "SELECT CAST(table_name AS CHAR) AS t FROM information_schema.tables WHERE table_schema = DATABASE() \
             AND table_type = 'BASE TABLE'"
        }
    };
    let rows = db.query_all_raw(Statement::from_string(backend, sql)).await?;
    let mut names = rows.iter().map(|r| r.try_get::<String>("", "t")).collect::<Result<Vec<_>, _>>()?;
    names.sort();
    Ok(names)
}

/// After rows were restored with their own ids, moves PostgreSQL's id sequence past the largest
/// one. SQLite and MySQL/MariaDB do this by themselves. `table` comes from the schema catalogue
/// in `portable`, never from input.
pub async fn reset_id_sequence(db: &impl ConnectionTrait, table: &str) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let sql = format!(
        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM \"{table}\"), 0) + 1, false)"
    );
    db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await?;
    Ok(())
}

/// SQLite only: writes a consistent copy of the whole database to `path` while the site runs
/// (`VACUUM INTO`). Returns `false` on other backends, whose native dumps come from their tools.
pub async fn vacuum_into(db: &impl ConnectionTrait, path: &std::path::Path) -> Result<bool, DbErr> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(false);
    }
    let quoted = path.display().to_string().replace('\'', "''");
    db.execute_unprepared(&format!("VACUUM INTO '{quoted}'")).await?;
    Ok(true)
}
