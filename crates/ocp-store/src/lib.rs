//! The metadb: the single source of truth of the platform, and the only crate that writes SQL.
//!
//! One [`Store`] serves both backends through sqlx's `Any` driver: SQLite (embedded, the
//! default) and PostgreSQL (several servers sharing one metadb). Statements are written once
//! with `?` placeholders and rewritten to `$n` for PostgreSQL; the few statements that need a
//! dialect of their own say so where they stand. Every value is stored as an integer, text
//! or JSON text, so both backends decode the same way; times are milliseconds since the epoch.

mod alarms;
mod backups;
mod catalog;
mod decode;
mod events;
mod finish;
mod hosts;
mod iam;
mod leases;
mod metrics;
mod ob;
mod sessions;
mod sqlstats;
mod tasks;
mod transitions;
pub mod tsdb;

use std::borrow::Cow;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use tokio::sync::{Mutex, MutexGuard};

pub use alarms::{
    AlarmListFilter, AttemptOutcome, AttemptRecord, ChannelRecord, EventRecord, NewEvent,
    NewNotification, NotificationListFilter, NotificationRecord, RuleRecord, SilencerRecord,
    SubscriptionRecord,
};
pub use backups::{
    BackupSetRecord, BackupStrategyRecord, FoundBackupSet, NewBackupSet, NewRestore, RestoreRecord,
    S3Access, StorageUsage,
};
pub use catalog::{Catalog, CatalogRecord};
pub use events::TaskEventRecord;
pub use finish::{ClaimNext, Finish, Finished};
pub use hosts::{
    AgentProcessRecord, AgentRecord, HeartbeatUpdate, HostListFilter, HostRecord, Joined,
    JoiningAgent, NewHost,
};
pub use iam::{AccessKeyRecord, NewUser, RoleRecord, UserRecord, UserUpdate};
pub use metrics::{pack_horizon, NewSample, SeriesRecord};
pub use ob::{
    ClusterRecord, ClusterRole, NewCluster, NewServer, NewZone, PackageRecord, ServerRecord,
    ZoneRecord,
};
pub use sessions::{LoginRecord, LoginRecordFilter, NewSession, SessionRecord};
pub use sqlstats::{SqlStatFilter, SqlStatGroup, SqlStatSum};
pub use tasks::{
    ClaimedSubtask, FinishOutcome, LeaseRenewal, NewSubtask, NewTask, SubtaskRecord,
    TaskListFilter, TaskRecord, TransitionError,
};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database driver's error, as [`StoreError::Database`] carries it.
pub use sqlx::Error as SqlxError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("metadb error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("metadb migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("{entity} {key} already exists")]
    AlreadyExists { entity: &'static str, key: String },
    #[error("{entity} {key} does not exist")]
    NotFound { entity: &'static str, key: String },
    #[error("corrupt metadb row: {0}")]
    Corrupt(String),
    #[error("unsupported metadb url {0}: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
}

/// SQLite's default page size, which the metadb keeps.
const SQLITE_PAGE_BYTES: u64 = 4096;

impl StoreError {
    /// Whether the metadb could not write for lack of space or an I/O error: SQLite's
    /// SQLITE_FULL and SQLITE_IOERR (with their extended codes), PostgreSQL's classes 53
    /// (insufficient resources) and 58 (system errors such as an I/O error). Nothing of the
    /// failed write was kept, and the same write may succeed once space is freed.
    pub fn is_out_of_storage(&self) -> bool {
        let StoreError::Database(sqlx::Error::Database(db)) = self else {
            return matches!(self, StoreError::Database(sqlx::Error::Io(_)));
        };
        let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
        match code.parse::<i64>() {
            // SQLite: the primary code is the low byte of the extended one.
            Ok(n) => matches!(n & 0xff, 13 | 10),
            Err(_) => code.starts_with("53") || code.starts_with("58"),
        }
    }

    fn from_unique(err: sqlx::Error, entity: &'static str, key: &str) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::AlreadyExists {
                entity,
                key: key.to_string(),
            },
            _ => StoreError::Database(err),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// How SQLite makes commits durable. `Normal` (the default, in WAL mode) survives any crash of
/// the process; `Full` also survives a power loss, at the cost of an fsync per commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SqliteSync {
    #[default]
    Normal,
    Full,
}

#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `sqlite://PATH` or `postgres://USER@HOST:PORT/DB`.
    pub url: String,
    pub max_connections: u32,
    pub sqlite_sync: SqliteSync,
    /// The largest the SQLite file may grow (`max_page_count`); a write past it fails as on
    /// a full disk. `None`: as large as the disk allows.
    pub sqlite_max_bytes: Option<u64>,
}

impl StoreConfig {
    pub fn sqlite_file(path: &Path) -> Self {
        Self {
            url: format!("sqlite://{}", path.display()),
            max_connections: 4,
            sqlite_sync: SqliteSync::Normal,
            sqlite_max_bytes: None,
        }
    }

    pub fn postgres(url: &str) -> Self {
        Self {
            url: url.to_string(),
            max_connections: 10,
            sqlite_sync: SqliteSync::Normal,
            sqlite_max_bytes: None,
        }
    }
}

/// A handle on the metadb. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    url: String,
    /// SQLite has one writer: writers queue here instead of failing with SQLITE_BUSY.
    write_lock: std::sync::Arc<Mutex<()>>,
    series_ids: std::sync::Arc<metrics::SeriesIds>,
}

impl Store {
    /// Connects and runs the migrations of the backend.
    pub async fn open(config: &StoreConfig) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let dialect = if config.url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if config.url.starts_with("postgres:") || config.url.starts_with("postgresql:") {
            Dialect::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(redact_url(&config.url)));
        };
        let url = match dialect {
            Dialect::Sqlite if !config.url.contains('?') => format!("{}?mode=rwc", config.url),
            _ => config.url.clone(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let sync = match config.sqlite_sync {
            SqliteSync::Normal => "NORMAL",
            SqliteSync::Full => "FULL",
        };
        let max_pages = config
            .sqlite_max_bytes
            .map(|bytes| (bytes / SQLITE_PAGE_BYTES).max(16));
        let pool = AnyPoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute(format!("PRAGMA synchronous = {sync}").as_str())
                            .await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        if let Some(pages) = max_pages {
                            conn.execute(format!("PRAGMA max_page_count = {pages}").as_str())
                                .await?;
                        }
                    }
                    Ok(())
                })
            })
            .after_release(move |conn, _meta| {
                Box::pin(async move {
                    // A transaction whose commit failed (disk full, I/O error) and whose
                    // rollback failed too leaves the connection inside it: it would hold the
                    // write lock ("database is locked" for every other writer) and swallow
                    // later writes into a transaction that never commits. Such a connection
                    // is closed and replaced, never reused. (A check of sqlx's own count, so
                    // it costs nothing on the way back to the pool.)
                    Ok(dialect != Dialect::Sqlite || !sqlx::Connection::is_in_transaction(conn))
                })
            })
            .connect_with(options)
            .await?;
        let store = Store {
            pool,
            dialect,
            url: config.url.clone(),
            write_lock: Default::default(),
            series_ids: Default::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        match self.dialect {
            Dialect::Sqlite => {
                sqlx::migrate!("./migrations/sqlite")
                    .run(&self.pool)
                    .await?
            }
            Dialect::Postgres => {
                sqlx::migrate!("./migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        Ok(())
    }

    /// On PostgreSQL, a subscription to "work may be ready" announcements from every server
    /// sharing the metadb (sent on commit of any change that readies subtasks); on SQLite,
    /// `None`: only this process writes, and it wakes its engine directly.
    pub async fn ready_listener(&self) -> Result<Option<ReadyListener>> {
        if self.dialect != Dialect::Postgres {
            return Ok(None);
        }
        let mut listener = sqlx::postgres::PgListener::connect(&self.url).await?;
        listener.listen(READY_CHANNEL).await?;
        Ok(Some(ReadyListener(listener)))
    }

    /// Announces (at commit) that subtasks may be ready.
    async fn announce_ready(&self, tx: &mut sqlx::Transaction<'static, sqlx::Any>) -> Result<()> {
        if self.dialect == Dialect::Postgres {
            sqlx::query(&format!("NOTIFY {READY_CHANNEL}"))
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Refreshes PostgreSQL's statistics of the task tables, as its autovacuum does within
    /// a minute or so of heavy changes on a running install (a claim's plan depends on them:
    /// without them it joins every running task, 15 ms instead of 0.3). For benchmarks that
    /// load thousands of tasks at once; nothing to do on SQLite.
    pub async fn analyze_tasks(&self) -> Result<()> {
        if self.dialect == Dialect::Postgres {
            sqlx::query("ANALYZE task_instance, subtask_instance")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Answers whether the metadb takes a query now (for `/api/status`).
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Rewrites `?` placeholders to `$1..$n` for PostgreSQL.
    fn sql<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.dialect {
            Dialect::Sqlite => Cow::Borrowed(text),
            Dialect::Postgres => {
                let mut out = String::with_capacity(text.len() + 8);
                let mut n = 0;
                for ch in text.chars() {
                    if ch == '?' {
                        n += 1;
                        out.push('$');
                        out.push_str(&n.to_string());
                    } else {
                        out.push(ch);
                    }
                }
                Cow::Owned(out)
            }
        }
    }

    /// Serializes writers on SQLite; PostgreSQL takes its own row locks.
    async fn writer(&self) -> Option<MutexGuard<'_, ()>> {
        match self.dialect {
            Dialect::Sqlite => Some(self.write_lock.lock().await),
            Dialect::Postgres => None,
        }
    }
}

const READY_CHANNEL: &str = "ocp_task_ready";

/// Wakes when another server (or this one) has readied subtasks.
pub struct ReadyListener(sqlx::postgres::PgListener);

impl ReadyListener {
    /// Waits for the next announcement.
    pub async fn wait(&mut self) -> Result<()> {
        self.0.recv().await?;
        Ok(())
    }
}

/// The URL without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..])
        }
        _ => url.to_string(),
    }
}

/// Milliseconds since the epoch, as the metadb stores times.
pub use ocp_api::time::now_millis;

/// The first row of a write that returns rows (`INSERT ... RETURNING`), which is fetched
/// whole: SQLite commits an autocommit statement when it is stepped past its last row, and
/// a statement stopped at its first row loses the error of that commit (a full disk) while
/// its caller goes on as if it had been written.
pub(crate) fn first_row<T>(rows: Vec<T>) -> std::result::Result<T, sqlx::Error> {
    rows.into_iter().next().ok_or(sqlx::Error::RowNotFound)
}

pub(crate) fn flag(value: bool) -> i64 {
    i64::from(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_password() {
        assert_eq!(
            redact_url("postgres://ocp:secret@127.0.0.1:5432/ocp"),
            "postgres://ocp:***@127.0.0.1:5432/ocp"
        );
        assert_eq!(redact_url("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }
}
