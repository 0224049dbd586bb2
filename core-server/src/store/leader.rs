//! Which instance runs the scheduled jobs: class reminders, activity roll-ups, the
//! test-deadline sweep and the expiry of unpaid orders.
//!
//! On PostgreSQL several instances share one database, and each of those jobs is
//! written to be safe when two run it at once (a reminder is claimed by a conditional
//! update, a roll-up holds its cursor row's lock, a sweep's updates are conditional).
//! Running them everywhere would still do the work once per instance and make the
//! instances queue on each other's locks, so one instance leads: it holds a
//! session-level advisory lock ([`LOCK_KEY`]) on a connection of its own, outside the
//! pool. The others try for the lock every `EDUPRO_LEADER_INTERVAL`; the leader checks
//! its connection as often. When the leader stops, is killed, or loses its connection,
//! PostgreSQL ends its session and releases the lock, and the next instance to try takes
//! it over. Between a lost connection and the old leader noticing (at most one interval)
//! both may run a pass; the jobs' own claims keep that harmless.
//!
//! On SQLite there is one instance per database file and it always leads.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use crate::platform::config::DatabaseSettings;

/// The advisory lock's key: "EduPro+" in ASCII, so that it cannot be mistaken for a
/// lock another application sharing the database takes.
const LOCK_KEY: i64 = 0x0045_6475_5072_6f2b;

/// Whether this instance leads; cheap to clone and to ask.
#[derive(Clone, Debug)]
pub struct Leadership {
    leads: Arc<AtomicBool>,
}

impl Leadership {
    /// Leadership for `database`: SQLite's one instance leads from the start; on
    /// PostgreSQL no instance leads until [`hold`] has taken the lock.
    pub fn for_database(database: &DatabaseSettings) -> Self {
        let sole = matches!(database, DatabaseSettings::Sqlite { .. });
        Self {
            leads: Arc::new(AtomicBool::new(sole)),
        }
    }

    /// Whether this instance runs the scheduled jobs now.
    pub fn leads(&self) -> bool {
        self.leads.load(Ordering::Acquire)
    }

    /// Whether to run a pass of `job` now: true on the leader, where the pass is also
    /// counted (`scheduled_job_runs_total{job}` in `/metrics`).
    pub fn runs(&self, job: &'static str) -> bool {
        let leads = self.leads();
        if leads {
            metrics::counter!("scheduled_job_runs_total", "job" => job).increment(1);
        }
        leads
    }

    fn set(&self, leads: bool) {
        if self.leads.swap(leads, Ordering::AcqRel) != leads {
            if leads {
                tracing::info!("this instance now runs the scheduled jobs");
            } else {
                tracing::warn!("this instance no longer runs the scheduled jobs");
            }
        }
    }
}

/// Makes a first try for the lock now, so that a lone instance leads before its jobs
/// first run, and returns the loop that keeps trying every `interval` (or, once the lock
/// is held, checks the connection holding it as often) for as long as the server runs.
/// On SQLite the loop has nothing to do. Stopping the loop drops the connection, which
/// releases the lock.
pub async fn start(
    database: &DatabaseSettings,
    interval: Duration,
    leadership: Leadership,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let options = match database {
        DatabaseSettings::Postgres { url } => PgConnectOptions::from_str(url.expose_secret())
            .map(|options| options.application_name("edupro-server leader"))
            .map_err(|err| {
                tracing::error!(error = %err, "the database URL does not parse; no scheduled jobs run here");
            })
            .ok(),
        DatabaseSettings::Sqlite { .. } => None,
    };
    let held = match &options {
        Some(options) => attempt(options, interval, &leadership).await,
        None => None,
    };
    async move {
        let Some(options) = options else { return };
        let mut held = held;
        loop {
            tokio::time::sleep(interval).await;
            held = match held {
                Some(mut conn) => match still_held(&mut conn, interval).await {
                    Ok(()) => Some(conn),
                    Err(err) => {
                        tracing::warn!(error = %err, "lost the connection that holds the scheduled jobs' lock");
                        leadership.set(false);
                        None
                    }
                },
                None => attempt(&options, interval, &leadership).await,
            };
        }
    }
}

/// One try for the lock; the connection that holds it, if this one does.
async fn attempt(
    options: &PgConnectOptions,
    interval: Duration,
    leadership: &Leadership,
) -> Option<PgConnection> {
    match try_lock(options, interval).await {
        Ok(Some(conn)) => {
            leadership.set(true);
            Some(conn)
        }
        Ok(None) => {
            leadership.set(false);
            None
        }
        Err(err) => {
            tracing::warn!(error = %err, "could not try for the scheduled jobs' lock; trying again");
            leadership.set(false);
            None
        }
    }
}

/// A new connection holding the lock, or `None` when another session holds it.
async fn try_lock(
    options: &PgConnectOptions,
    timeout: Duration,
) -> anyhow::Result<Option<PgConnection>> {
    let mut conn = tokio::time::timeout(
        timeout.max(Duration::from_secs(5)),
        PgConnection::connect_with(options),
    )
    .await
    .map_err(|_| anyhow::anyhow!("no connection within the interval"))??;
    let (locked,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
        .bind(LOCK_KEY)
        .fetch_one(&mut conn)
        .await?;
    if locked {
        Ok(Some(conn))
    } else {
        conn.close().await.ok();
        Ok(None)
    }
}

/// Whether the session still holds the lock: a dead connection, or a session that no
/// longer has it (an administrator's `pg_advisory_unlock_all`), is an error.
async fn still_held(conn: &mut PgConnection, timeout: Duration) -> anyhow::Result<()> {
    let check = sqlx::query_as::<_, (bool,)>(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' \
         AND pid = pg_backend_pid() AND granted AND objsubid = 1 \
         AND ((classid::bigint << 32) | objid::bigint) = $1)",
    )
    .bind(LOCK_KEY)
    .fetch_one(&mut *conn);
    let (held,) = tokio::time::timeout(timeout.max(Duration::from_secs(5)), check)
        .await
        .map_err(|_| anyhow::anyhow!("no answer within the interval"))??;
    anyhow::ensure!(held, "the session no longer holds the advisory lock");
    Ok(())
}
