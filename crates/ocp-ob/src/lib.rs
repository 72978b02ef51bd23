//! SQL to the OceanBase servers the platform manages (seekdb here): the only crate that
//! speaks to them.
//!
//! Every statement runs on one short-lived connection ([`ObClient`]). Statement logging is
//! off: statements may carry passwords (`CREATE USER ... IDENTIFIED BY`), and the platform
//! never logs a secret. Names that go into statements are checked by [`check_name`] and
//! privileges by [`sql_privilege`]; text values are quoted by [`quote`].

mod grants;
mod logical;
mod objects;
mod sessions;
mod sqlstat;
mod standby;
mod tenant;

use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::{ConnectOptions, Connection, Executor, Row};

pub use grants::{
    check_name, check_password, quote, sql_privilege, DB_PRIVILEGES, GLOBAL_PRIVILEGES,
};
pub use logical::Definitions;
pub use objects::ObjectRow;
pub use sessions::SessionRow;
pub use sqlstat::{PlanOperatorRow, SqlCounters, SqlStatRow, INNER_DB_ID};
pub use standby::ReplicaStat;
pub use tenant::{check_whitelist, ServerStat, TenantSettings, VariableRow};

#[derive(Debug, thiserror::Error)]
pub enum ObError {
    /// The server cannot be reached or did not answer in time.
    #[error("cannot connect to {address}: {message}")]
    Unreachable { address: String, message: String },
    /// The server refused the statement.
    #[error("the server refused it: ERROR {number}: {message}")]
    Refused { number: u16, message: String },
    /// The request names something the server cannot take.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
}

impl ObError {
    fn from_sql(err: sqlx::Error, address: &str) -> Self {
        match err {
            sqlx::Error::Database(db) => {
                let number = db
                    .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                    .map(|e| e.number())
                    .unwrap_or(0);
                ObError::Refused {
                    number,
                    message: db.message().to_string(),
                }
            }
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_) => ObError::Unreachable {
                address: address.to_string(),
                message: err.to_string(),
            },
            other => ObError::Protocol(other.to_string()),
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ObError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, ObError>;

/// Where a server listens and who to log in as.
#[derive(Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}:{}", self.user, self.host, self.port)
    }
}

impl Target {
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// A parameter as `SHOW PARAMETERS` reports it on one server.
#[derive(Debug, Clone)]
pub struct ParameterRow {
    pub zone: String,
    pub svr_ip: String,
    pub svr_port: u16,
    pub svr_type: String,
    pub name: String,
    pub data_type: String,
    pub value: String,
    pub info: String,
    pub section: String,
    pub scope: String,
    pub edit_level: String,
    pub default_value: String,
}

#[derive(Debug, Clone)]
pub struct DatabaseRow {
    pub id: i64,
    pub name: String,
    pub charset: String,
    pub collation: String,
    pub read_only: bool,
    /// `YYYY-MM-DD HH:MM:SS.ffffff` in the server's time zone.
    pub create_time: Option<String>,
}

#[derive(Debug, Clone)]
pub struct UserRow {
    pub name: String,
    pub is_role: bool,
    pub locked: bool,
    pub global_privileges: Vec<String>,
    /// `(database, privileges)`.
    pub db_privileges: Vec<(String, Vec<String>)>,
    pub granted_roles: Vec<String>,
    pub create_time: Option<String>,
    /// When its row last changed (a password, a lock).
    pub update_time: Option<String>,
}

/// One reading of a server's monitor views; `executions`, `elapsed_us` and `plan_hits` are
/// cumulative.
#[derive(Debug, Clone, Default)]
pub struct MonitorStats {
    pub sessions: f64,
    pub active_sessions: f64,
    pub plans: f64,
    pub executions: f64,
    pub elapsed_us: f64,
    pub plan_hits: f64,
    pub plan_bytes: f64,
    pub memory_limit: f64,
    pub data_disk_total: f64,
    pub data_disk_used: f64,
    pub log_disk_total: f64,
    pub log_disk_used: f64,
    /// Whether a major compaction runs, and for how long none has finished (as long as the
    /// server has existed if none ever has); None on a standby, which shows no compaction
    /// of its own (it follows its primary's).
    pub compaction: Option<(bool, f64)>,
    /// On a standby: how far behind now it reads consistently, in seconds (OCP's sync delay:
    /// now less its readable SCN). None on a primary.
    pub standby_delay_seconds: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct CompactionRow {
    pub frozen_scn: String,
    pub last_scn: String,
    pub status: String,
    pub is_error: bool,
    pub last_finish_time: Option<String>,
    pub start_time: Option<String>,
}

/// How long one statement may take before the client gives up on it. A server that has
/// just restarted can hold DDL for a while; an API call must answer before its caller's
/// own timeout, so it answers a clear error instead of hanging.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(20);

async fn open(
    options: &MySqlConnectOptions,
    address: &str,
    timeout: Duration,
) -> Result<MySqlConnection> {
    tokio::time::timeout(timeout, MySqlConnection::connect_with(options))
        .await
        .map_err(|_| ObError::Unreachable {
            address: address.to_string(),
            message: format!("no answer within {} ms", timeout.as_millis()),
        })?
        .map_err(|e| ObError::from_sql(e, address))
}

/// One connection to a managed server.
pub struct ObClient {
    conn: MySqlConnection,
    address: String,
    options: MySqlConnectOptions,
    connect_timeout: Duration,
    statement_timeout: Duration,
}

fn text(row: &sqlx::mysql::MySqlRow, index: usize) -> Result<String> {
    row.try_get::<Option<String>, _>(index)
        .map(Option::unwrap_or_default)
        .map_err(|e| ObError::Protocol(e.to_string()))
}

/// A column's text, or None when it is NULL or empty.
fn optional(row: &sqlx::mysql::MySqlRow, index: usize) -> Result<Option<String>> {
    Ok(Some(text(row, index)?).filter(|t| !t.is_empty()))
}

impl ObClient {
    /// Connects within `timeout`.
    pub async fn connect(target: &Target, timeout: Duration) -> Result<Self> {
        let address = target.address();
        let mut options = MySqlConnectOptions::new()
            .host(&target.host)
            .port(target.port)
            .username(&target.user)
            // OceanBase knows utf8mb4_general_ci, not the driver's default collation.
            .charset("utf8mb4")
            .collation("utf8mb4_general_ci")
            .log_statements(log::LevelFilter::Off)
            .log_slow_statements(log::LevelFilter::Off, Duration::from_secs(3600));
        if !target.password.is_empty() {
            options = options.password(&target.password);
        }
        let conn = open(&options, &address, timeout).await?;
        Ok(Self {
            conn,
            address,
            options,
            connect_timeout: timeout,
            statement_timeout: STATEMENT_TIMEOUT,
        })
    }

    /// Gives each statement `timeout` instead of [`STATEMENT_TIMEOUT`].
    pub fn with_statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = timeout;
        self
    }

    fn timed_out(&self) -> ObError {
        ObError::Unreachable {
            address: self.address.clone(),
            message: format!(
                "no answer to the statement within {} s",
                self.statement_timeout.as_secs()
            ),
        }
    }

    /// Runs a statement that returns no rows, as plain text (DDL cannot be prepared).
    pub async fn execute(&mut self, statement: &str) -> Result<()> {
        let limit = self.statement_timeout;
        tokio::time::timeout(limit, self.conn.execute(statement))
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|e| ObError::from_sql(e, &self.address))?;
        Ok(())
    }

    /// Runs a statement whose second run changes nothing more than its first (a lock, a
    /// grant, a password, a parameter). If it times out, the connection may be stuck behind
    /// it, so the statement is sent once more on a new connection.
    pub async fn execute_idempotent(&mut self, statement: &str) -> Result<()> {
        match self.execute(statement).await {
            Err(ObError::Unreachable { .. }) => {
                let fresh = open(&self.options, &self.address, self.connect_timeout).await?;
                let stale = std::mem::replace(&mut self.conn, fresh);
                drop(stale);
                self.execute(statement).await
            }
            done => done,
        }
    }

    pub(crate) async fn rows(&mut self, statement: &str) -> Result<Vec<sqlx::mysql::MySqlRow>> {
        let limit = self.statement_timeout;
        tokio::time::timeout(limit, self.conn.fetch_all(statement))
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|e| ObError::from_sql(e, &self.address))
    }

    /// The first column of the first row as an integer (a `COUNT(*)`, say).
    pub async fn fetch_i64(&mut self, statement: &str) -> Result<i64> {
        let rows = self.rows(statement).await?;
        let row = rows
            .first()
            .ok_or_else(|| ObError::Protocol(format!("no row from {statement}")))?;
        row.try_get::<i64, _>(0)
            .map_err(|e| ObError::Protocol(e.to_string()))
    }

    /// The first column of the first row as text (`SELECT last_trace_id()`, say).
    pub async fn fetch_text(&mut self, statement: &str) -> Result<String> {
        let rows = self.rows(statement).await?;
        let row = rows
            .first()
            .ok_or_else(|| ObError::Protocol(format!("no row from {statement}")))?;
        text(row, 0)
    }

    pub async fn ping(&mut self) -> Result<()> {
        self.rows("SELECT 1").await.map(|_| ())
    }

    /// The version string, e.g. `5.7.25-OceanBase seekdb-v1.4.0.0`.
    pub async fn version(&mut self) -> Result<String> {
        self.one_text("SELECT version()").await
    }

    /// The text of the first column of the first row `statement` answers.
    pub(crate) async fn one_text(&mut self, statement: &str) -> Result<String> {
        let rows = self.rows(statement).await?;
        let row = rows
            .first()
            .ok_or_else(|| ObError::Protocol(format!("no row answers {statement}")))?;
        text(row, 0)
    }

    /// `@@version_comment`: the release and build, `OceanBase 4.3.5.3 seekdb (r1.4.0.0)
    /// (Built ...)`; `version()` names the release only.
    pub async fn version_comment(&mut self) -> Result<String> {
        self.one_text("SELECT @@version_comment").await
    }

    pub async fn close(self) {
        let _ = self.conn.close().await;
    }

    /// Makes a user, or gives the one there `password`; answers its quoted name.
    async fn ensure_user(&mut self, name: &str, password: &str) -> Result<String> {
        check_name("username", name)?;
        check_password("password", password)?;
        let user = quote(name);
        self.execute(&format!(
            "CREATE USER IF NOT EXISTS {user} IDENTIFIED BY {}",
            quote(password)
        ))
        .await?;
        self.execute_idempotent(&format!(
            "ALTER USER {user} IDENTIFIED BY {}",
            quote(password)
        ))
        .await?;
        Ok(user)
    }

    /// Makes (or brings up to date) the read-only user the host's monitor logs in as: it may
    /// read the `oceanbase` views and see every session, and nothing else.
    pub async fn ensure_monitor_user(&mut self, name: &str, password: &str) -> Result<()> {
        let user = self.ensure_user(name, password).await?;
        self.execute_idempotent(&format!("GRANT SELECT ON oceanbase.* TO {user}"))
            .await?;
        self.execute_idempotent(&format!("GRANT PROCESS ON *.* TO {user}"))
            .await
    }

    /// What the monitor samples: sessions, the plan cache's cumulative counters, disk use
    /// and compaction. seekdb has no `V$SYSSTAT`, so statements are counted by the plan
    /// cache (statements that are not cached, DDL say, are not in it).
    pub async fn monitor_stats(&mut self) -> Result<MonitorStats> {
        let number = |row: &sqlx::mysql::MySqlRow, i: usize| -> f64 {
            text(row, i)
                .ok()
                .and_then(|t| t.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let sessions = self
            .rows(
                "SELECT CAST(COUNT(*) AS CHAR), \
                 CAST(COALESCE(SUM(COMMAND <> 'Sleep' AND ID <> CONNECTION_ID()), 0) AS CHAR) \
                 FROM oceanbase.V$OB_PROCESSLIST",
            )
            .await?;
        let plans = self
            .rows(
                "SELECT CAST(COUNT(*) AS CHAR), CAST(COALESCE(SUM(EXECUTIONS), 0) AS CHAR), \
                 CAST(COALESCE(SUM(ELAPSED_TIME), 0) AS CHAR), \
                 CAST(COALESCE(SUM(HIT_COUNT), 0) AS CHAR), \
                 CAST(COALESCE(SUM(PLAN_SIZE), 0) AS CHAR) \
                 FROM oceanbase.V$OB_PLAN_CACHE_PLAN_STAT",
            )
            .await?;
        let server = self
            .rows(
                "SELECT CAST(MEMORY_LIMIT AS CHAR), CAST(DATA_DISK_CAPACITY AS CHAR), \
                 CAST(DATA_DISK_IN_USE AS CHAR), CAST(LOG_DISK_CAPACITY AS CHAR), \
                 CAST(LOG_DISK_IN_USE AS CHAR), \
                 CAST(TIME_TO_USEC(NOW()) - TIME_TO_USEC(CREATE_TIME) AS CHAR), ROLE, \
                 CAST((TIME_TO_USEC(NOW(6)) * 1000 - READABLE_SCN) / 1000000000 AS CHAR), \
                 CAST(READABLE_SCN AS CHAR) \
                 FROM oceanbase.V$OB_SERVER_STAT",
            )
            .await?;
        let compaction = self
            .rows(
                "SELECT STATUS, CAST(TIME_TO_USEC(LAST_FINISH_TIME) AS CHAR), \
                 CAST(TIME_TO_USEC(NOW()) AS CHAR) FROM oceanbase.DBA_OB_MAJOR_COMPACTION",
            )
            .await?;
        let (s, p, v) = match (sessions.first(), plans.first(), server.first()) {
            (Some(s), Some(p), Some(v)) => (s, p, v),
            _ => return Err(ObError::Protocol("a monitor view answered no row".into())),
        };
        let age_s = number(v, 5) / 1e6;
        let compaction = compaction.first().map(|c| {
            let finished_us = number(c, 1);
            let idle_s = if finished_us > 0.0 {
                (number(c, 2) - finished_us) / 1e6
            } else {
                age_s
            };
            (text(c, 0).map(|t| t != "IDLE").unwrap_or(false), idle_s)
        });
        Ok(MonitorStats {
            sessions: number(s, 0),
            active_sessions: number(s, 1),
            plans: number(p, 0),
            executions: number(p, 1),
            elapsed_us: number(p, 2),
            plan_hits: number(p, 3),
            plan_bytes: number(p, 4),
            memory_limit: number(v, 0),
            data_disk_total: number(v, 1),
            data_disk_used: number(v, 2),
            log_disk_total: number(v, 3),
            log_disk_used: number(v, 4),
            compaction,
            // A standby still building itself reads nothing yet (its readable SCN is 0 or 1).
            standby_delay_seconds: (text(v, 6).ok().as_deref() == Some("STANDBY")
                && number(v, 8) > 1.0)
                .then(|| number(v, 7).max(0.0)),
        })
    }

    /// `SHOW PARAMETERS`, all of them or those whose name matches `name`.
    pub async fn parameters(&mut self, name: Option<&str>) -> Result<Vec<ParameterRow>> {
        let statement = match name {
            Some(name) => format!("SHOW PARAMETERS WHERE name = {}", quote(name)),
            None => "SHOW PARAMETERS".to_string(),
        };
        let rows = self.rows(&statement).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let get = |column: &str| -> Result<String> {
                let index = row
                    .columns()
                    .iter()
                    .position(|c| sqlx::Column::name(c).eq_ignore_ascii_case(column));
                match index {
                    Some(i) => {
                        // Some columns are numbers; read them as such when text fails.
                        text(row, i).or_else(|_| {
                            row.try_get::<Option<i64>, _>(i)
                                .map(|v| v.map(|v| v.to_string()).unwrap_or_default())
                                .map_err(|e| ObError::Protocol(e.to_string()))
                        })
                    }
                    None => Ok(String::new()),
                }
            };
            out.push(ParameterRow {
                zone: get("zone")?,
                svr_ip: get("svr_ip")?,
                svr_port: get("svr_port")?.parse().unwrap_or(0),
                svr_type: get("svr_type")?,
                name: get("name")?,
                data_type: get("data_type")?,
                value: get("value")?,
                info: get("info")?,
                section: get("section")?,
                scope: get("scope")?,
                edit_level: get("edit_level")?,
                default_value: get("default_value")?,
            });
        }
        Ok(out)
    }

    /// `ALTER SYSTEM SET name = 'value'`: the server checks the value and persists it.
    pub async fn set_parameter(&mut self, name: &str, value: &str) -> Result<()> {
        check_parameter_name("name", name)?;
        self.execute_idempotent(&format!("ALTER SYSTEM SET {name} = {}", quote(value)))
            .await
    }

    pub async fn databases(&mut self) -> Result<Vec<DatabaseRow>> {
        let rows = self
            .rows(
                "SELECT CAST(a.database_id AS CHAR), d.DATABASE_NAME, \
                 s.DEFAULT_CHARACTER_SET_NAME, s.DEFAULT_COLLATION_NAME, d.READ_ONLY, \
                 CAST(a.gmt_create AS CHAR) \
                 FROM oceanbase.DBA_OB_DATABASES d \
                 JOIN information_schema.SCHEMATA s ON s.SCHEMA_NAME = d.DATABASE_NAME \
                 LEFT JOIN oceanbase.__all_database a ON a.database_name = d.DATABASE_NAME \
                 WHERE d.IN_RECYCLEBIN = 'NO' ORDER BY d.DATABASE_NAME",
            )
            .await?;
        rows.iter()
            .map(|row| {
                Ok(DatabaseRow {
                    id: text(row, 0)?.parse().unwrap_or(0),
                    name: text(row, 1)?,
                    charset: text(row, 2)?,
                    collation: text(row, 3)?,
                    read_only: text(row, 4)? == "YES",
                    create_time: optional(row, 5)?,
                })
            })
            .collect()
    }

    pub async fn create_database(
        &mut self,
        name: &str,
        collation: Option<&str>,
        read_only: bool,
    ) -> Result<()> {
        check_name("dbName", name)?;
        let mut statement = format!("CREATE DATABASE `{name}`");
        if let Some(collation) = collation {
            check_collation(collation)?;
            statement.push_str(&format!(" COLLATE {collation}"));
        }
        if read_only {
            statement.push_str(" READ ONLY");
        }
        self.execute(&statement).await
    }

    pub async fn alter_database(
        &mut self,
        name: &str,
        collation: Option<&str>,
        read_only: bool,
    ) -> Result<()> {
        check_name("dbName", name)?;
        let mut statement = format!("ALTER DATABASE `{name}`");
        if let Some(collation) = collation {
            check_collation(collation)?;
            statement.push_str(&format!(" COLLATE {collation}"));
        }
        statement.push_str(if read_only {
            " READ ONLY"
        } else {
            " READ WRITE"
        });
        self.execute(&statement).await
    }

    pub async fn drop_database(&mut self, name: &str) -> Result<()> {
        check_name("dbName", name)?;
        self.execute(&format!("DROP DATABASE `{name}`")).await
    }

    /// `ALTER SYSTEM MAJOR FREEZE`: starts a major compaction.
    pub async fn major_freeze(&mut self) -> Result<()> {
        self.execute("ALTER SYSTEM MAJOR FREEZE").await
    }

    pub async fn compaction(&mut self) -> Result<CompactionRow> {
        let rows = self
            .rows(
                "SELECT CAST(FROZEN_SCN AS CHAR), CAST(LAST_SCN AS CHAR), STATUS, IS_ERROR, \
                 CAST(LAST_FINISH_TIME AS CHAR), CAST(START_TIME AS CHAR) \
                 FROM oceanbase.DBA_OB_MAJOR_COMPACTION",
            )
            .await?;
        let row = rows
            .first()
            .ok_or_else(|| ObError::Protocol("DBA_OB_MAJOR_COMPACTION is empty".into()))?;
        let time = |i| -> Result<Option<String>> {
            Ok(Some(text(row, i)?).filter(|t| !t.is_empty() && !t.starts_with("1970-01-01")))
        };
        Ok(CompactionRow {
            frozen_scn: text(row, 0)?,
            last_scn: text(row, 1)?,
            status: text(row, 2)?,
            is_error: text(row, 3)? == "YES",
            last_finish_time: time(4)?,
            start_time: time(5)?,
        })
    }
}

/// A server's home directory must not contain `.tmp` anywhere in its path: at start the
/// server removes every redo-log file whose *full path* contains `.tmp` (it takes them for
/// leftovers of an interrupted block switch) and then fails on its own log, so a server
/// under such a path starts once and never again (seen with seekdb 1.4.0; OceanBase CE's
/// log service has the same check). Rust's and Python's temporary directories are named
/// `.tmpXXXX`, which is how this bites.
pub fn check_home_path(field: &str, path: &str) -> Result<()> {
    if path.contains(".tmp") {
        return Err(ObError::invalid(
            field,
            format!(
                "{path:?} contains \".tmp\"; the server would delete its own redo log when it \
                 restarts there, so choose a directory without \".tmp\" in its path"
            ),
        ));
    }
    Ok(())
}

/// Parameter names are identifiers; they go into `ALTER SYSTEM SET` unquoted.
pub fn check_parameter_name(field: &str, name: &str) -> Result<()> {
    if !name.is_empty()
        && name.len() <= 128
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        Ok(())
    } else {
        Err(ObError::invalid(
            field,
            format!("{name:?} is not a parameter name"),
        ))
    }
}

fn check_collation(collation: &str) -> Result<()> {
    if !collation.is_empty()
        && collation.len() <= 64
        && collation
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        Ok(())
    } else {
        Err(ObError::invalid(
            "collation",
            format!("{collation:?} is not a collation"),
        ))
    }
}
