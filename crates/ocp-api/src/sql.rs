//! SQL diagnostics: what agents sample of each statement and plan (shipped with their metric
//! batches), and the TopSQL, trend, text, plan and explain answers of
//! `/api/v2/ob/clusters/{id}/tenants/{tenantId}/...`.
//!
//! Fields are OCP's. Where seekdb keeps nothing to fill one (no SQL audit: no per-execution
//! errors, queue or net times, cache hits by kind), it is `null`, never a made-up 0.
//! Times in answers are milliseconds, as OCP's.

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// The cumulative counters of a statement's plan as seekdb keeps them, or what changed of
/// them over an interval. Times in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SqlCounters {
    pub executions: i64,
    pub elapsed_us: i64,
    pub cpu_us: i64,
    pub rows_processed: i64,
    pub disk_reads: i64,
    pub buffer_gets: i64,
    pub retries: i64,
    pub application_wait_us: i64,
    pub concurrency_wait_us: i64,
    pub user_io_wait_us: i64,
    pub memstore_read_rows: i64,
    pub ssstore_read_rows: i64,
    pub rpc_count: i64,
    pub partitions: i64,
    pub plan_cache_hits: i64,
    pub timeouts: i64,
}

impl SqlCounters {
    /// Every counter, in declaration order (the store's column order too).
    pub fn fields(&self) -> [i64; 16] {
        [
            self.executions,
            self.elapsed_us,
            self.cpu_us,
            self.rows_processed,
            self.disk_reads,
            self.buffer_gets,
            self.retries,
            self.application_wait_us,
            self.concurrency_wait_us,
            self.user_io_wait_us,
            self.memstore_read_rows,
            self.ssstore_read_rows,
            self.rpc_count,
            self.partitions,
            self.plan_cache_hits,
            self.timeouts,
        ]
    }

    pub fn from_fields(f: [i64; 16]) -> Self {
        Self {
            executions: f[0],
            elapsed_us: f[1],
            cpu_us: f[2],
            rows_processed: f[3],
            disk_reads: f[4],
            buffer_gets: f[5],
            retries: f[6],
            application_wait_us: f[7],
            concurrency_wait_us: f[8],
            user_io_wait_us: f[9],
            memstore_read_rows: f[10],
            ssstore_read_rows: f[11],
            rpc_count: f[12],
            partitions: f[13],
            plan_cache_hits: f[14],
            timeouts: f[15],
        }
    }

    /// The store's column names, in [`SqlCounters::fields`] order.
    pub const COLUMNS: [&'static str; 16] = [
        "executions",
        "elapsed_us",
        "cpu_us",
        "rows_processed",
        "disk_reads",
        "buffer_gets",
        "retries",
        "application_wait_us",
        "concurrency_wait_us",
        "user_io_wait_us",
        "memstore_read_rows",
        "ssstore_read_rows",
        "rpc_count",
        "partitions",
        "plan_cache_hits",
        "timeouts",
    ];

    /// What happened between `earlier` and `self`. A counter below its earlier value means
    /// the plan was loaded again (it had left the plan cache): then all of `self` is new.
    pub fn since(&self, earlier: &SqlCounters) -> SqlCounters {
        let (now, then) = (self.fields(), earlier.fields());
        if now.iter().zip(then.iter()).any(|(n, t)| n < t) {
            return *self;
        }
        let mut out = [0; 16];
        for (i, o) in out.iter_mut().enumerate() {
            *o = now[i] - then[i];
        }
        Self::from_fields(out)
    }

    /// What grew since `earlier`, each counter on its own (none below zero): for two
    /// readings of one plan whose figures come from different sources.
    pub fn grown_since(&self, earlier: &SqlCounters) -> SqlCounters {
        let (now, then) = (self.fields(), earlier.fields());
        let mut out = [0; 16];
        for (i, o) in out.iter_mut().enumerate() {
            *o = (now[i] - then[i]).max(0);
        }
        Self::from_fields(out)
    }

    pub fn add(&mut self, other: &SqlCounters) {
        let mut sum = self.fields();
        for (s, o) in sum.iter_mut().zip(other.fields()) {
            *s += o;
        }
        *self = Self::from_fields(sum);
    }

    pub fn is_zero(&self) -> bool {
        self.fields().iter().all(|v| *v == 0)
    }
}

/// What one statement's plan did on one server between two samples, as an agent ships it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SqlStatDelta {
    pub ob_server_id: i64,
    /// When the later sample was taken, seconds since the epoch.
    pub timestamp: i64,
    pub sql_id: String,
    pub plan_id: i64,
    /// An unsigned 64-bit number, as text.
    pub plan_hash: String,
    pub db_name: String,
    pub user_name: String,
    /// seekdb's own statement (or the platform's monitor's).
    pub inner: bool,
    /// 1 local, 2 remote, 3 distributed, 0 not cached.
    pub plan_type: i64,
    pub table_scan: bool,
    /// The parameterized text: sent with a statement's first delta, then once an hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_text: Option<String>,
    pub counters: SqlCounters,
    /// The plan's slowest execution, if it happened in this interval (µs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_elapsed_us: Option<i64>,
}

/// `GET .../topSql`.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct TopSqlQuery {
    /// ISO-8601 with offset, or Unix seconds.
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub server_id: Option<String>,
    /// `true` to include seekdb's own statements and the platform's monitor's.
    pub inner: Option<String>,
    /// A word of the statement's text, any case.
    pub sql_text: Option<String>,
    /// A numeric field of the answer (`executions`, `avgElapsedTime`, ...).
    pub search_attr: Option<String>,
    /// EQ, NE, GT, GE, LT or LE.
    pub search_op: Option<String>,
    pub search_val: Option<String>,
    /// `field,asc|desc` over the numeric fields; default `avgElapsedTime,desc`.
    pub sort: Option<String>,
    /// Statements answered, 1 to 2000 (default 500).
    pub limit: Option<String>,
}

/// `GET .../sqls/{sqlId}/trends`.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct SqlTrendQuery {
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub server_id: Option<String>,
    pub db_name: Option<String>,
}

/// `GET .../sql/{sqlId}/text`, `.../topPlan`, `plans/{uid}/trends|explain`.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct SqlRangeQuery {
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub server_id: Option<String>,
}

/// The performance of a statement over a time range (TopSQL) or one trend point.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SqlMetrics {
    pub executions: i64,
    pub exec_ps: f64,
    /// Total response time, ms.
    pub sum_elapsed_time: f64,
    pub avg_elapsed_time: f64,
    /// The slowest execution the plan cache recorded in the range, ms.
    pub max_elapsed_time: Option<f64>,
    pub avg_cpu_time: f64,
    pub max_cpu_time: Option<f64>,
    pub avg_affected_rows: f64,
    pub avg_return_rows: f64,
    pub avg_partition_count: f64,
    pub fail_count: Option<i64>,
    pub fail_percentage: Option<f64>,
    pub ret_code4012_count: Option<i64>,
    pub ret_code4013_count: Option<i64>,
    pub ret_code5001_count: Option<i64>,
    pub ret_code5024_count: Option<i64>,
    pub ret_code5167_count: Option<i64>,
    pub ret_code5217_count: Option<i64>,
    pub ret_code6002_count: Option<i64>,
    /// Application, concurrency and user I/O waits, ms.
    pub avg_wait_time: f64,
    pub avg_wait_count: Option<f64>,
    pub avg_rpc_count: f64,
    pub local_plan_percentage: f64,
    pub remote_plan_percentage: f64,
    pub dist_plan_percentage: f64,
    pub avg_net_time: Option<f64>,
    pub avg_net_wait_time: Option<f64>,
    pub avg_queue_time: Option<f64>,
    pub avg_decode_time: Option<f64>,
    pub avg_get_plan_time: Option<f64>,
    pub avg_execute_time: Option<f64>,
    pub avg_executor_rpc_count: Option<f64>,
    /// Executions that found no cached plan, 0 to 1.
    pub miss_plan_percentage: f64,
    pub avg_application_wait_time: f64,
    pub avg_concurrency_wait_time: f64,
    pub avg_user_io_wait_time: f64,
    pub avg_schedule_time: Option<f64>,
    pub avg_row_cache_hit: Option<f64>,
    pub avg_bloom_filter_cache_hit: Option<f64>,
    pub avg_block_cache_hit: Option<f64>,
    pub avg_block_index_cache_hit: Option<f64>,
    pub avg_disk_reads: f64,
    pub avg_buffer_gets: f64,
    pub retry_count: i64,
    /// Executions of plans that scan a whole table, 0 to 1.
    pub table_scan_percentage: f64,
    pub strong_consistency_percentage: Option<f64>,
    pub weak_consistency_percentage: Option<f64>,
    pub avg_memstore_read_rows: f64,
    pub avg_ssstore_read_rows: f64,
}

/// One statement of TopSQL.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TopSql {
    pub sql_id: String,
    /// The server's address, `ip:port`.
    pub server: String,
    pub server_id: i64,
    pub db_name: String,
    pub user_name: String,
    /// SELECT, INSERT, UPDATE, DELETE, REPLACE, EXPLAIN or UNKNOWN.
    pub sql_type: String,
    /// The first 100 characters of the text.
    pub sql_text_short: String,
    pub inner: bool,
    /// seekdb keeps no wait events per statement.
    pub wait_event: Option<String>,
    #[serde(flatten)]
    pub metrics: SqlMetrics,
}

/// One point of a statement's trend: the range from `timestamp` to the next point.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SqlTrend {
    pub timestamp: Option<Timestamp>,
    #[serde(flatten)]
    pub metrics: SqlMetrics,
}

/// `GET .../sql/{sqlId}/text`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SqlText {
    pub fulltext: String,
}

/// The performance of one plan over a time range or one trend point.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PlanMetrics {
    /// Executions that found the plan cached, 0 to 1.
    pub hit_percentage: f64,
    pub executions: i64,
    pub exec_ps: f64,
    pub max_exec_time: Option<f64>,
    pub avg_disk_reads: f64,
    pub avg_disk_writes: Option<f64>,
    pub avg_buffer_gets: f64,
    pub avg_application_wait_time: f64,
    pub avg_concurrency_wait_time: f64,
    pub avg_user_io_wait_time: f64,
    pub avg_row_processed: f64,
    pub avg_elapsed_time: f64,
    pub avg_cpu_time: f64,
    pub large_query_percentage: Option<f64>,
    pub delayed_large_query_percentage: Option<f64>,
    pub timeout_percentage: f64,
    pub table_scan: bool,
}

/// One plan of a statement (`.../sql/{sqlId}/topPlan`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TopPlan {
    /// `{serverId}-{planId}-{planHash}`: what `plans/{uid}/...` take.
    pub uid: String,
    pub server: String,
    pub server_id: i64,
    pub plan_id: i64,
    pub first_load_time: Option<Timestamp>,
    /// LOCAL, REMOTE, DIST, or UNCACHED for a statement without a cached plan.
    pub plan_type: String,
    /// As OceanBase's OCP shows it: the unsigned hash read as a signed 64-bit number.
    pub plan_hash: i64,
    pub plan_size: Option<i64>,
    pub schema_version: Option<i64>,
    pub merged_version: Option<i64>,
    #[serde(flatten)]
    pub metrics: PlanMetrics,
}

/// One point of a plan's trend.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PlanTrend {
    pub timestamp: Option<Timestamp>,
    #[serde(flatten)]
    pub metrics: PlanMetrics,
}

/// One operator of a plan, with the operators below it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PlanOperation {
    pub operator: String,
    pub object_name: Option<String>,
    pub rows: i64,
    pub cost: i64,
    /// Access and filter predicates and the output.
    pub property: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub children: Vec<PlanOperation>,
}

/// `GET .../plans/{uid}/explain`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PlanExplain {
    pub root_operations: Vec<PlanOperation>,
}

/// One execution slower than the server's `trace_log_slow_query_watermark`, as seekdb's
/// trace log has it (a `[slow query]` line of `log/seekdb.log`), shipped by agents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SlowQuery {
    pub ob_server_id: i64,
    /// When it began, ms since the epoch.
    pub request_time: i64,
    pub trace_id: String,
    pub session_id: i64,
    /// The client's `ip:port`.
    pub client: String,
    pub plan_id: i64,
    /// The statement's SQL id, from the server's statistics of its plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// The statement as sent (not parameterized), cut to 4 KiB.
    pub statement: String,
    pub elapsed_us: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_rows: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affected_rows: Option<i64>,
}

/// `GET .../slowSql` and `.../slowSql/{sqlId}/executions`.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct SlowSqlQuery {
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub server_id: Option<String>,
    /// A word of the statement, any case.
    pub sql_text: Option<String>,
    /// For executions: those of this statement.
    pub sql_id: Option<String>,
    /// Entries answered, 1 to 2000 (default 500).
    pub limit: Option<String>,
}

/// A statement that ran slower than the watermark, over a time range (SlowSQL).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SlowSql {
    /// Null for a statement seekdb had no statistics of when it was seen.
    pub sql_id: Option<String>,
    pub server: String,
    pub server_id: i64,
    pub db_name: Option<String>,
    pub user_name: Option<String>,
    pub sql_type: String,
    /// The first 100 characters of its latest slow execution's statement.
    pub sql_text_short: String,
    /// Slow executions.
    pub executions: i64,
    pub avg_elapsed_time: f64,
    pub max_elapsed_time: f64,
    pub last_request_time: Option<Timestamp>,
    pub last_trace_id: String,
}

/// One slow execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SlowExecution {
    pub request_time: Option<Timestamp>,
    pub trace_id: String,
    pub session_id: i64,
    pub client: String,
    pub server: String,
    pub server_id: i64,
    pub sql_id: Option<String>,
    pub plan_id: i64,
    pub db_name: Option<String>,
    pub user_name: Option<String>,
    pub elapsed_time: f64,
    pub return_rows: Option<i64>,
    pub affected_rows: Option<i64>,
    pub statement: String,
}

/// The statement kind from its text's first word.
pub fn sql_type(text: &str) -> &'static str {
    let word: String = text
        .trim_start_matches(|c: char| c.is_whitespace() || c == '(')
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_uppercase();
    match word.as_str() {
        "SELECT" | "WITH" => "SELECT",
        "INSERT" => "INSERT",
        "UPDATE" => "UPDATE",
        "DELETE" => "DELETE",
        "REPLACE" => "REPLACE",
        "EXPLAIN" => "EXPLAIN",
        _ => "UNKNOWN",
    }
}

/// A plan's uid as the API shows it.
pub fn plan_uid(server_id: i64, plan_id: i64, plan_hash: &str) -> String {
    format!("{server_id}-{plan_id}-{plan_hash}")
}

/// The (server id, plan id, plan hash) of a uid made by [`plan_uid`].
pub fn parse_plan_uid(uid: &str) -> Option<(i64, i64, String)> {
    let mut parts = uid.splitn(3, '-');
    let server = parts.next()?.parse().ok()?;
    let plan = parts.next()?.parse().ok()?;
    let hash = parts.next()?;
    (!hash.is_empty() && hash.chars().all(|c| c.is_ascii_digit()) && hash.parse::<u64>().is_ok())
        .then(|| (server, plan, hash.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_that_went_down_means_a_new_plan() {
        let earlier = SqlCounters {
            executions: 10,
            elapsed_us: 1000,
            ..Default::default()
        };
        let later = SqlCounters {
            executions: 15,
            elapsed_us: 1600,
            ..Default::default()
        };
        assert_eq!(later.since(&earlier).executions, 5);
        assert_eq!(later.since(&earlier).elapsed_us, 600);
        let reloaded = SqlCounters {
            executions: 2,
            elapsed_us: 300,
            ..Default::default()
        };
        assert_eq!(reloaded.since(&later), reloaded);
        assert!(later.since(&later).is_zero());
    }

    #[test]
    fn kinds_and_uids() {
        assert_eq!(sql_type("  select 1"), "SELECT");
        assert_eq!(sql_type("(SELECT 1) UNION (SELECT 2)"), "SELECT");
        assert_eq!(sql_type("insert into t values (?)"), "INSERT");
        assert_eq!(sql_type("create table t (id int)"), "UNKNOWN");
        let uid = plan_uid(3, 170, "12344705374688757106");
        assert_eq!(
            parse_plan_uid(&uid),
            Some((3, 170, "12344705374688757106".to_string()))
        );
        assert_eq!(parse_plan_uid("3-170-"), None);
        assert_eq!(parse_plan_uid("3-170-x"), None);
        assert_eq!(parse_plan_uid("a-1-2"), None);
    }
}
