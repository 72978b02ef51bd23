//! What seekdb keeps of the statements it ran, for SQL diagnostics: the cumulative counters
//! of `oceanbase.__all_virtual_sqlstat` per statement and plan, completed by the plan
//! cache's own (`V$OB_PLAN_CACHE_PLAN_STAT`: CPU time, which sqlstat reads as 0, the slowest
//! execution, timeouts, table scans), and a cached plan's operators
//! (`__all_virtual_sql_plan`).
//!
//! Both views lose a statement's row when its plan leaves the plan cache; the counters of
//! a plan loaded again start from zero.

use std::collections::HashMap;

pub use ocp_api::sql::SqlCounters;

use crate::{optional, text, ObClient, ObError, Result};

/// The database seekdb's own (inner) statements run in.
pub const INNER_DB_ID: i64 = 201001;

/// One statement and plan as sqlstat has it: counters since the plan was loaded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SqlStatRow {
    pub sql_id: String,
    /// 0 for a statement that has no cached plan (DDL, say).
    pub plan_id: i64,
    /// The plan's hash, an unsigned 64-bit number, as text.
    pub plan_hash: String,
    /// The parameterized text.
    pub query_sql: String,
    pub db_id: i64,
    pub db_name: String,
    pub user_name: String,
    /// 1 local, 2 remote, 3 distributed, 0 not cached.
    pub plan_type: i64,
    pub counters: SqlCounters,
    /// The plan cache's slowest execution of the plan (µs) and when it ran (µs since the
    /// epoch), if the plan is cached.
    pub slowest: Option<(i64, i64)>,
    /// Whether the cached plan scans a whole table.
    pub table_scan: bool,
    /// Whether the executions and times are the plan cache's; they are sqlstat's for a
    /// statement without a cached plan, or one whose plan the cache did not show yet.
    pub cached: bool,
}

/// One operator of a cached plan, in plan order (`ID`), with its parent.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanOperatorRow {
    pub id: i64,
    pub parent_id: i64,
    pub operator: String,
    pub object_name: Option<String>,
    pub rows: i64,
    pub cost: i64,
    /// Access and filter predicates and the output, as the plan states them.
    pub property: Option<String>,
}

/// The plan cache's figures of a plan.
struct CachedPlan {
    cpu_us: i64,
    elapsed_us: i64,
    executions: i64,
    slowest: Option<(i64, i64)>,
    timeouts: i64,
    table_scan: bool,
}

fn number(row: &sqlx::mysql::MySqlRow, index: usize) -> Result<i64> {
    let value = text(row, index)?;
    if value.is_empty() {
        return Ok(0);
    }
    value
        .parse()
        .map_err(|e| ObError::Protocol(format!("sqlstat column {index} ({value}): {e}")))
}

impl ObClient {
    /// Every statement and plan sqlstat holds, with the plan cache's figures of its plan.
    pub async fn sql_stats(&mut self) -> Result<Vec<SqlStatRow>> {
        let users: HashMap<String, String> = self
            .rows("SELECT CAST(USER_ID AS CHAR), USER_NAME FROM oceanbase.__all_user")
            .await?
            .iter()
            .map(|r| Ok((text(r, 0)?, text(r, 1)?)))
            .collect::<Result<_>>()?;
        let plans = self
            .rows(
                "SELECT CAST(PLAN_ID AS CHAR), SQL_ID, CAST(CPU_TIME AS CHAR), \
                 CAST(SLOWEST_EXE_USEC AS CHAR), CAST(TIME_TO_USEC(SLOWEST_EXE_TIME) AS CHAR), \
                 CAST(TIMEOUT_COUNT AS CHAR), CAST(TABLE_SCAN AS CHAR), \
                 CAST(ELAPSED_TIME AS CHAR), CAST(EXECUTIONS AS CHAR) \
                 FROM oceanbase.V$OB_PLAN_CACHE_PLAN_STAT",
            )
            .await?;
        let mut cached: HashMap<(i64, String), CachedPlan> = HashMap::with_capacity(plans.len());
        for r in &plans {
            let slowest = number(r, 3)?;
            let at = number(r, 4)?;
            cached.insert(
                (number(r, 0)?, text(r, 1)?),
                CachedPlan {
                    cpu_us: number(r, 2)?,
                    slowest: (slowest > 0).then_some((slowest, at)),
                    timeouts: number(r, 5)?,
                    table_scan: number(r, 6)? != 0,
                    elapsed_us: number(r, 7)?,
                    executions: number(r, 8)?,
                },
            );
        }
        let rows = self
            .rows(
                "SELECT SQL_ID, CAST(PLAN_ID AS CHAR), CAST(PLAN_HASH AS CHAR), QUERY_SQL, \
                 CAST(PARSING_DB_ID AS CHAR), PARSING_DB_NAME, CAST(PARSING_USER_ID AS CHAR), \
                 CAST(EXECUTIONS_TOTAL AS CHAR), CAST(ELAPSED_TIME_TOTAL AS CHAR), \
                 CAST(ROWS_PROCESSED_TOTAL AS CHAR), CAST(DISK_READS_TOTAL AS CHAR), \
                 CAST(BUFFER_GETS_TOTAL AS CHAR), CAST(RETRY_TOTAL AS CHAR), \
                 CAST(APWAIT_TOTAL AS CHAR), CAST(CCWAIT_TOTAL AS CHAR), \
                 CAST(USERIO_WAIT_TOTAL AS CHAR), CAST(MEMSTORE_READ_ROWS_TOTAL AS CHAR), \
                 CAST(MINOR_SSSTORE_READ_ROWS_TOTAL + MAJOR_SSSTORE_READ_ROWS_TOTAL AS CHAR), \
                 CAST(RPC_TOTAL AS CHAR), CAST(PARTITION_TOTAL AS CHAR), \
                 CAST(PLAN_CACHE_HIT_TOTAL AS CHAR), CAST(CPU_TIME_TOTAL AS CHAR), \
                 CAST(PLAN_TYPE AS CHAR) \
                 FROM oceanbase.__all_virtual_sqlstat",
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let sql_id = text(r, 0)?;
            let plan_id = number(r, 1)?;
            let plan = cached.get(&(plan_id, sql_id.clone()));
            let user_id = text(r, 6)?;
            out.push(SqlStatRow {
                plan_hash: text(r, 2)?,
                query_sql: text(r, 3)?,
                db_id: number(r, 4)?,
                db_name: text(r, 5)?,
                user_name: users.get(&user_id).cloned().unwrap_or(user_id),
                plan_type: number(r, 22)?,
                counters: SqlCounters {
                    // sqlstat counts an execution when it starts and its time when it
                    // ends, so a reading during one pairs them wrongly; the plan cache
                    // counts both at its end.
                    executions: plan.map_or(number(r, 7)?, |p| p.executions),
                    elapsed_us: plan.map_or(number(r, 8)?, |p| p.elapsed_us),
                    // sqlstat reads 0 here on seekdb 1.4; the plan cache has it.
                    cpu_us: plan.map_or(0, |p| p.cpu_us).max(number(r, 21)?),
                    rows_processed: number(r, 9)?,
                    disk_reads: number(r, 10)?,
                    buffer_gets: number(r, 11)?,
                    retries: number(r, 12)?,
                    application_wait_us: number(r, 13)?,
                    concurrency_wait_us: number(r, 14)?,
                    user_io_wait_us: number(r, 15)?,
                    memstore_read_rows: number(r, 16)?,
                    ssstore_read_rows: number(r, 17)?,
                    rpc_count: number(r, 18)?,
                    partitions: number(r, 19)?,
                    plan_cache_hits: number(r, 20)?,
                    timeouts: plan.map_or(0, |p| p.timeouts),
                },
                slowest: plan.and_then(|p| p.slowest),
                table_scan: plan.is_some_and(|p| p.table_scan),
                cached: plan.is_some(),
                sql_id,
                plan_id,
            });
        }
        Ok(out)
    }

    /// The operators of a cached plan, by plan id (and hash, so that a plan id reused for
    /// another statement is not mistaken for it); empty once the plan has left the cache.
    pub async fn plan_operators(
        &mut self,
        plan_id: i64,
        plan_hash: &str,
    ) -> Result<Vec<PlanOperatorRow>> {
        if !plan_hash.chars().all(|c| c.is_ascii_digit()) || plan_hash.is_empty() {
            return Err(ObError::invalid("uid", "has no plan hash"));
        }
        let rows = self
            .rows(&format!(
                "SELECT CAST(ID AS CHAR), CAST(PARENT_ID AS CHAR), OPERATOR, OBJECT_NAME, \
                 CAST(CARDINALITY AS CHAR), CAST(COST AS CHAR), ACCESS_PREDICATES, \
                 FILTER_PREDICATES, PROJECTION FROM oceanbase.__all_virtual_sql_plan \
                 WHERE PLAN_ID = {plan_id} AND CAST(PLAN_HASH AS CHAR) = '{plan_hash}' \
                 ORDER BY ID"
            ))
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let property: Vec<String> = [6, 7, 8]
                .into_iter()
                .filter_map(|i| text(r, i).ok().filter(|t| !t.is_empty()))
                .collect();
            out.push(PlanOperatorRow {
                id: number(r, 0)?,
                parent_id: number(r, 1)?,
                operator: text(r, 2)?,
                object_name: optional(r, 3)?,
                rows: number(r, 4)?,
                cost: number(r, 5)?,
                property: (!property.is_empty()).then(|| property.join(", ")),
            });
        }
        Ok(out)
    }
}
