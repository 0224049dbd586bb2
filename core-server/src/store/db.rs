//! Opening the database: SQLite (WAL, foreign keys, busy timeout) or PostgreSQL, both
//! behind one SeaORM connection so every query runs unchanged on either.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sea_orm::{
    DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr, SqliteTransactionMode,
    SqlxPostgresConnector, SqlxSqliteConnector, TransactionOptions, TransactionTrait,
};
use secrecy::ExposeSecret;
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::platform::config::{DatabaseSettings, create_dir_private};

/// How long a request waits for a pooled connection before answering 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long SQLite waits on a locked database before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Creates a missing SQLite file empty (SQLite takes it as a new database) and readable
/// by its owner only, like the JWT secret: it holds password hashes and, in development,
/// the outbox's mailed codes. SQLite gives its `-wal` and `-shm` files the same mode.
/// An existing file keeps the mode its owner chose.
fn create_file_private(path: &std::path::Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => {
            Err(e).with_context(|| format!("cannot create the SQLite database {}", path.display()))
        }
    }
}

/// Opens a pool for `database`; an unreachable database is an error naming it.
pub async fn connect(
    database: &DatabaseSettings,
    max_connections: u32,
) -> anyhow::Result<DatabaseConnection> {
    match database {
        DatabaseSettings::Sqlite { path } => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                create_dir_private(parent)?;
            }
            create_file_private(path)?;
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                // Up to 32 MiB of pages per connection (SQLite's default is 2 MiB), so
                // the indexes a bulk import probes stay in memory rather than being read
                // back from the OS a page at a time.
                .pragma("cache_size", "-32768");
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(options)
                .await
                .with_context(|| format!("cannot open the SQLite database {}", path.display()))?;
            Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
        }
        DatabaseSettings::Postgres { url } => {
            let options = PgConnectOptions::from_str(url.expose_secret())
                .context("database_url is not a valid PostgreSQL URL")?;
            let unreachable = || {
                format!(
                    "cannot connect to PostgreSQL at {}; check that it is running and that EDUPRO_DATABASE_URL is right",
                    database.describe()
                )
            };
            // One direct connection first: the pool would retry a refused connection
            // until its timeout and then report only "pool timed out".
            tokio::time::timeout(ACQUIRE_TIMEOUT, PgConnection::connect_with(&options))
                .await
                .map_err(|_| anyhow::anyhow!("no answer within {} s", ACQUIRE_TIMEOUT.as_secs()))
                .and_then(|connected| Ok(connected?))
                .with_context(unreachable)?
                .close()
                .await
                .ok();
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .after_connect(|conn, _| Box::pin(custom_plans(conn)))
                .connect_with(options)
                .await
                .with_context(unreachable)?;
            Ok(SqlxPostgresConnector::from_sqlx_postgres_pool(pool))
        }
    }
}

/// Asks PostgreSQL to plan every statement with its parameters. sqlx prepares each
/// statement once per connection, and after five runs PostgreSQL may keep a generic
/// plan made while a table was nearly empty: a bulk import's `email IN (…1000…)` then
/// scanned the whole users table, 0.35 s where it takes 3 ms. A `SET` after connecting
/// rather than a startup option, which poolers such as PgBouncer refuse; where the
/// setting is refused (PostgreSQL before 12) the server runs on with generic plans.
async fn custom_plans(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    if let Err(err) =
        sqlx::Executor::execute(&mut *conn, "SET plan_cache_mode = force_custom_plan").await
    {
        tracing::warn!(error = %err, "PostgreSQL refused plan_cache_mode; bulk imports may be slower");
    }
    Ok(())
}

/// Begins a transaction that writes. On SQLite it takes the write lock at `BEGIN`
/// (`BEGIN IMMEDIATE`), waiting for it up to the busy timeout. A deferred transaction
/// that reads first takes its snapshot then; if another writer commits before its first
/// write, that write fails at once (`SQLITE_BUSY_SNAPSHOT`) without waiting, and the
/// request would answer 503 only because, say, the notification consumer committed in
/// between. PostgreSQL is unchanged: its row locks and isolation do that work.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// Connections of the pool: `(in use, idle)`, for `/metrics`.
pub fn pool_usage(db: &DatabaseConnection) -> (u64, u64) {
    let (size, idle) = match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    };
    let idle = u64::try_from(idle).unwrap_or(u64::MAX);
    (u64::from(size).saturating_sub(idle), idle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::ConnectionTrait;

    async fn count(db: &impl ConnectionTrait) -> i64 {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                DatabaseBackend::Sqlite,
                "SELECT count(*) AS n FROM t",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get("", "n").unwrap()
    }

    /// A write transaction that reads first must not fail because another writer
    /// committed after its read: with a deferred `BEGIN` its write fails at once with
    /// SQLITE_BUSY_SNAPSHOT; `begin_write` waits for the lock instead.
    #[tokio::test]
    async fn a_read_then_write_transaction_waits_for_another_writer_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let settings = DatabaseSettings::Sqlite {
            path: dir.path().join("write.db"),
        };
        let db = connect(&settings, 4).await.unwrap();
        db.execute_unprepared("CREATE TABLE t (n INTEGER)")
            .await
            .unwrap();
        let first = begin_write(&db).await.unwrap();
        first
            .execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        let (read, has_read) = tokio::sync::oneshot::channel();
        let second = tokio::spawn({
            let db = db.clone();
            async move {
                let txn = begin_write(&db).await?;
                let seen = count(&txn).await;
                let _ = read.send(());
                txn.execute_unprepared("INSERT INTO t VALUES (2)").await?;
                txn.commit().await?;
                Ok::<i64, DbErr>(seen)
            }
        });
        // The second reads now if its BEGIN did not wait for the lock; either way the
        // first commits after that.
        let _ = tokio::time::timeout(Duration::from_millis(300), has_read).await;
        first.commit().await.unwrap();
        let seen = second
            .await
            .unwrap()
            .expect("the second write waits, then succeeds");
        assert_eq!(seen, 1, "it read after the first committed");
        assert_eq!(count(&db).await, 2);
    }
}
