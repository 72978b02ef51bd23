//! SQL diagnostics: the statement statistics agents ship, summed per minute, ten minutes
//! and hour, and the parameterized texts. Buckets and sample times are seconds since the
//! epoch.
//!
//! A sample of a server is stored once (`sql_stat_sample`): its deltas add to the sums of
//! every tier in the transaction that records it, so a resent batch adds nothing. A range
//! is read from the hours it covers whole, then the ten minutes and the minutes at its
//! edges, so a day's TopSQL reads at most 39 buckets of each statement; before
//! the minutes' retention (which the ten minutes share), from hours alone.

use std::collections::{BTreeMap, HashMap, HashSet};

use ocp_api::sql::{SlowQuery, SqlCounters, SqlStatDelta};
use sqlx::Row;

use crate::hosts::placeholders;
use crate::{Result, Store};

/// Rows per multi-row upsert (31 values each).
const CHUNK: usize = 200;
const MINUTE: i64 = 60;
const TEN_MINUTES: i64 = 600;
const HOUR: i64 = 3600;

/// The tiers of sums, coarsest first.
const TIERS: [(&str, i64); 3] = [
    ("sql_stat_hour", HOUR),
    ("sql_stat_10min", TEN_MINUTES),
    ("sql_stat_minute", MINUTE),
];

/// What a query sums its rows by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlStatGroup {
    /// Server, statement, database and user: TopSQL's rows.
    Statement,
    /// Server and plan: a statement's plans.
    Plan,
    /// Buckets of this many seconds: a trend.
    Bucket(i64),
}

/// Which statistics a query reads.
#[derive(Debug, Clone)]
pub struct SqlStatFilter {
    pub cluster_id: i64,
    /// Seconds, inclusive.
    pub start: i64,
    pub end: i64,
    /// Minute sums before this second are gone (their retention): hours stand for them.
    pub minutes_from: i64,
    pub server_id: Option<i64>,
    pub sql_id: Option<String>,
    /// Plan id and hash.
    pub plan: Option<(i64, String)>,
    pub db_name: Option<String>,
    pub include_inner: bool,
}

/// Sums of a group of rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SqlStatSum {
    pub server_id: i64,
    pub sql_id: String,
    pub plan_id: i64,
    pub plan_hash: String,
    pub db_name: String,
    pub user_name: String,
    pub inner: bool,
    /// The plan's type (the largest of the group's).
    pub plan_type: i64,
    pub table_scan: bool,
    /// The group's first bucket (its bucket, for a trend).
    pub bucket: i64,
    pub counters: SqlCounters,
    pub max_elapsed_us: Option<i64>,
    /// Executions of local, remote and distributed plans.
    pub by_plan_type: [i64; 3],
    /// Executions of plans that scan a whole table.
    pub table_scan_executions: i64,
}

/// How the sums of each table a query reads combine into one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Combine {
    /// A key of the group.
    Key,
    Min,
    Max,
    Sum,
}

/// The sums of one bucket of one plan.
#[derive(Debug, Clone)]
struct Sum<'a> {
    delta: &'a SqlStatDelta,
    counters: SqlCounters,
    max: Option<i64>,
}

type SumKey<'a> = (i64, i64, i64, &'a str, i64, &'a str);

fn sum_into<'a>(
    sums: &mut BTreeMap<SumKey<'a>, Sum<'a>>,
    cluster_id: i64,
    step: i64,
    d: &'a SqlStatDelta,
) {
    let bucket = d.timestamp - d.timestamp.rem_euclid(step);
    let key = (
        cluster_id,
        bucket,
        d.ob_server_id,
        d.sql_id.as_str(),
        d.plan_id,
        d.plan_hash.as_str(),
    );
    let sum = sums.entry(key).or_insert_with(|| Sum {
        delta: d,
        counters: SqlCounters::default(),
        max: None,
    });
    sum.counters.add(&d.counters);
    sum.max = sum.max.max(d.max_elapsed_us);
    sum.delta = d;
}

/// The bucket ranges `[from, to)` of each table a range reads.
fn sources(f: &SqlStatFilter, step: Option<i64>) -> Vec<(&'static str, i64, i64)> {
    let from = f.start - f.start.rem_euclid(MINUTE);
    let to = f.end + 1;
    let floor = |t: i64, s: i64| t - t.rem_euclid(s);
    if from < f.minutes_from || step.is_some_and(|s| s >= HOUR) {
        return vec![(
            "sql_stat_hour",
            floor(from, HOUR),
            floor(to + HOUR - 1, HOUR),
        )];
    }
    if let Some(step) = step {
        // A trend's buckets are whole buckets of the coarsest tier that divides its step.
        let table = TIERS
            .iter()
            .skip(1)
            .find(|(_, s)| step % s == 0)
            .map_or("sql_stat_minute", |(t, _)| t);
        return vec![(table, from, to)];
    }
    let mut parts = Vec::new();
    cover(from, to, &TIERS, &mut parts);
    parts
}

/// Covers `[from, to)` with whole buckets of the coarsest tier, then the edges with finer
/// ones; `from` and `to` are whole minutes (the finest tier's `to` may not be).
fn cover(
    from: i64,
    to: i64,
    tiers: &[(&'static str, i64)],
    parts: &mut Vec<(&'static str, i64, i64)>,
) {
    let Some(((table, step), finer)) = tiers.split_first() else {
        return;
    };
    if finer.is_empty() {
        if from < to {
            parts.push((table, from, to));
        }
        return;
    }
    let (a, b) = (
        from + (step - from.rem_euclid(*step)) % step,
        to - to.rem_euclid(*step),
    );
    if a >= b {
        cover(from, to, finer, parts);
        return;
    }
    parts.push((table, a, b));
    cover(from, a, finer, parts);
    cover(b, to, finer, parts);
}

impl Store {
    /// Stores the statement deltas of a batch, each with its server's cluster; answers how
    /// many were new. The deltas of a (server, second) already stored are left out.
    pub async fn ingest_sql_stats(&self, deltas: &[(i64, &SqlStatDelta)]) -> Result<u64> {
        if deltas.is_empty() {
            return Ok(0);
        }
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let samples: HashSet<(i64, i64)> = deltas
            .iter()
            .map(|(_, d)| (d.ob_server_id, d.timestamp))
            .collect();
        let mut new_samples = HashSet::new();
        for (server, ts) in samples {
            let inserted = sqlx::query(&self.sql(
                "INSERT INTO sql_stat_sample (server_id, ts) VALUES (?, ?) \
                 ON CONFLICT (server_id, ts) DO NOTHING",
            ))
            .bind(server)
            .bind(ts)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted > 0 {
                new_samples.insert((server, ts));
            }
        }
        let kept: Vec<&(i64, &SqlStatDelta)> = deltas
            .iter()
            .filter(|(_, d)| new_samples.contains(&(d.ob_server_id, d.timestamp)))
            .collect();
        for (table, step) in TIERS {
            let mut sums = BTreeMap::new();
            for (cluster, d) in &kept {
                sum_into(&mut sums, *cluster, step, d);
            }
            let sums: Vec<(SumKey, Sum)> = sums.into_iter().collect();
            for chunk in sums.chunks(CHUNK) {
                self.upsert_sums(&mut tx, table, chunk).await?;
            }
        }
        let mut texts: HashMap<(i64, &str), (&str, i64)> = HashMap::new();
        for (cluster, d) in &kept {
            if let Some(text) = &d.sql_text {
                texts.insert((*cluster, d.sql_id.as_str()), (text.as_str(), d.timestamp));
            }
        }
        for ((cluster, sql_id), (text, seen)) in texts {
            sqlx::query(&self.sql(
                "INSERT INTO sql_text (cluster_id, sql_id, text, last_seen) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (cluster_id, sql_id) DO UPDATE SET text = excluded.text, \
                 last_seen = excluded.last_seen",
            ))
            .bind(cluster)
            .bind(sql_id)
            .bind(text)
            .bind(seen)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(kept.len() as u64)
    }

    async fn upsert_sums(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        table: &str,
        chunk: &[(SumKey<'_>, Sum<'_>)],
    ) -> Result<()> {
        let counters = SqlCounters::COLUMNS;
        let columns = format!(
            "cluster_id, bucket, server_id, sql_id, plan_id, plan_hash, db_name, user_name, \
             is_inner, plan_type, table_scan, {}, max_elapsed_us",
            counters.join(", ")
        );
        let row = format!("({})", placeholders(11 + counters.len() + 1));
        let adds: Vec<String> = counters
            .iter()
            .map(|c| format!("{c} = {table}.{c} + excluded.{c}"))
            .collect();
        let text = format!(
            "INSERT INTO {table} ({columns}) VALUES {} \
             ON CONFLICT (cluster_id, bucket, server_id, sql_id, plan_id, plan_hash) DO UPDATE SET \
             {}, db_name = excluded.db_name, user_name = excluded.user_name, \
             is_inner = excluded.is_inner, plan_type = excluded.plan_type, \
             table_scan = excluded.table_scan, \
             max_elapsed_us = CASE WHEN excluded.max_elapsed_us IS NULL THEN {table}.max_elapsed_us \
             WHEN {table}.max_elapsed_us IS NULL OR excluded.max_elapsed_us > {table}.max_elapsed_us \
             THEN excluded.max_elapsed_us ELSE {table}.max_elapsed_us END",
            vec![row; chunk.len()].join(", "),
            adds.join(", "),
        );
        let sql = self.sql(&text);
        let mut query = sqlx::query(&sql);
        for ((cluster, bucket, server, sql_id, plan_id, plan_hash), sum) in chunk {
            let d = sum.delta;
            query = query
                .bind(*cluster)
                .bind(*bucket)
                .bind(*server)
                .bind(*sql_id)
                .bind(*plan_id)
                .bind(*plan_hash)
                .bind(d.db_name.as_str())
                .bind(d.user_name.as_str())
                .bind(i64::from(d.inner))
                .bind(d.plan_type)
                .bind(i64::from(d.table_scan));
            for value in sum.counters.fields() {
                query = query.bind(value);
            }
            query = query.bind(sum.max);
        }
        query.execute(&mut **tx).await?;
        Ok(())
    }

    /// The sums of the statistics `filter` selects, by `group`.
    pub async fn sql_stat_sums(
        &self,
        filter: &SqlStatFilter,
        group: SqlStatGroup,
    ) -> Result<Vec<SqlStatSum>> {
        let step = match group {
            SqlStatGroup::Bucket(step) => Some(step.max(MINUTE)),
            _ => None,
        };
        let mut conditions = vec!["cluster_id = ?".to_string()];
        if filter.server_id.is_some() {
            conditions.push("server_id = ?".into());
        }
        if filter.sql_id.is_some() {
            conditions.push("sql_id = ?".into());
        }
        if filter.plan.is_some() {
            conditions.push("plan_id = ? AND plan_hash = ?".into());
        }
        if filter.db_name.is_some() {
            conditions.push("db_name = ?".into());
        }
        if !filter.include_inner {
            conditions.push("is_inner = 0".into());
        }
        let conditions = conditions.join(" AND ");
        let sources = sources(filter, step);
        // Each table's rows are summed by the group, then those few sums by it again.
        let bucket = match step {
            Some(step) => format!("bucket - (bucket % {step})"),
            None => "bucket".into(),
        };
        let key = |e: &str| (e.to_string(), Combine::Key);
        let min = |e: &str| (format!("MIN({e})"), Combine::Min);
        let zero = ("CAST(0 AS BIGINT)".to_string(), Combine::Min);
        // Server, statement, database, user, plan id and hash, bucket: as read below.
        let mut columns = match group {
            SqlStatGroup::Statement => vec![
                key("server_id"),
                key("sql_id"),
                key("db_name"),
                key("user_name"),
                min("plan_id"),
                min("plan_hash"),
                min("bucket"),
            ],
            SqlStatGroup::Plan => vec![
                key("server_id"),
                key("sql_id"),
                min("db_name"),
                min("user_name"),
                key("plan_id"),
                key("plan_hash"),
                min("bucket"),
            ],
            SqlStatGroup::Bucket(_) => vec![
                zero.clone(),
                min("sql_id"),
                min("db_name"),
                min("user_name"),
                zero,
                min("plan_hash"),
                key(&bucket),
            ],
        };
        for c in ["is_inner", "plan_type", "table_scan"] {
            columns.push((format!("MAX({c})"), Combine::Max));
        }
        for c in SqlCounters::COLUMNS {
            columns.push((format!("SUM({c})"), Combine::Sum));
        }
        columns.push(("MAX(max_elapsed_us)".into(), Combine::Max));
        for case in [
            "plan_type = 1",
            "plan_type = 2",
            "plan_type = 3",
            "table_scan = 1",
        ] {
            columns.push((
                format!("SUM(CASE WHEN {case} THEN executions ELSE 0 END)"),
                Combine::Sum,
            ));
        }
        let keys = || {
            columns
                .iter()
                .enumerate()
                .filter(|(_, (_, c))| *c == Combine::Key)
        };
        let inner_keys: Vec<&str> = keys().map(|(_, (e, _))| e.as_str()).collect();
        let outer_keys: Vec<String> = keys().map(|(i, _)| format!("c{i}")).collect();
        let inner: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, (e, _))| format!("{e} AS c{i}"))
            .collect();
        let outer: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, (_, c))| match c {
                Combine::Key => format!("c{i}"),
                Combine::Min => format!("MIN(c{i})"),
                Combine::Max => format!("CAST(MAX(c{i}) AS BIGINT)"),
                Combine::Sum => format!("CAST(SUM(c{i}) AS BIGINT)"),
            })
            .collect();
        let parts: Vec<String> = sources
            .iter()
            .map(|(table, _, _)| {
                format!(
                    "SELECT {} FROM {table} WHERE {conditions} AND bucket >= ? AND bucket < ? \
                     GROUP BY {}",
                    inner.join(", "),
                    inner_keys.join(", ")
                )
            })
            .collect();
        let order = match group {
            SqlStatGroup::Bucket(_) => " ORDER BY c6",
            _ => "",
        };
        let text = format!(
            "SELECT {} FROM ({}) u GROUP BY {}{order}",
            outer.join(", "),
            parts.join(" UNION ALL "),
            outer_keys.join(", "),
        );
        let sql = self.sql(&text);
        let mut query = sqlx::query(&sql);
        for (_, from, to) in &sources {
            query = query.bind(filter.cluster_id);
            if let Some(server) = filter.server_id {
                query = query.bind(server);
            }
            if let Some(sql_id) = &filter.sql_id {
                query = query.bind(sql_id.as_str());
            }
            if let Some((plan_id, hash)) = &filter.plan {
                query = query.bind(*plan_id).bind(hash.as_str());
            }
            if let Some(db) = &filter.db_name {
                query = query.bind(db.as_str());
            }
            query = query.bind(*from).bind(*to);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let mut counters = [0i64; 16];
                for (i, c) in counters.iter_mut().enumerate() {
                    *c = r.try_get(10 + i)?;
                }
                let at = 10 + counters.len();
                Ok(SqlStatSum {
                    server_id: r.try_get(0)?,
                    sql_id: r.try_get(1)?,
                    db_name: r.try_get(2)?,
                    user_name: r.try_get(3)?,
                    plan_id: r.try_get(4)?,
                    plan_hash: r.try_get(5)?,
                    bucket: r.try_get(6)?,
                    inner: r.try_get::<i64, _>(7)? != 0,
                    plan_type: r.try_get(8)?,
                    table_scan: r.try_get::<i64, _>(9)? != 0,
                    counters: SqlCounters::from_fields(counters),
                    max_elapsed_us: r.try_get(at)?,
                    by_plan_type: [r.try_get(at + 1)?, r.try_get(at + 2)?, r.try_get(at + 3)?],
                    table_scan_executions: r.try_get(at + 4)?,
                })
            })
            .collect()
    }

    /// The texts of a cluster's statements, by SQL id: all of them, or those named.
    pub async fn sql_texts(
        &self,
        cluster_id: i64,
        sql_ids: Option<&[String]>,
    ) -> Result<HashMap<String, String>> {
        let mut out = HashMap::new();
        let chunks: Vec<&[String]> = match sql_ids {
            Some(ids) => ids.chunks(500).collect(),
            None => vec![&[]],
        };
        for chunk in chunks {
            if sql_ids.is_some() && chunk.is_empty() {
                continue;
            }
            let text = if sql_ids.is_some() {
                format!(
                    "SELECT sql_id, text FROM sql_text WHERE cluster_id = ? AND sql_id IN ({})",
                    placeholders(chunk.len())
                )
            } else {
                "SELECT sql_id, text FROM sql_text WHERE cluster_id = ?".to_string()
            };
            let sql = self.sql(&text);
            let mut query = sqlx::query(&sql).bind(cluster_id);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            for row in query.fetch_all(&self.pool).await? {
                out.insert(row.try_get(0)?, row.try_get(1)?);
            }
        }
        Ok(out)
    }

    /// Stores slow executions, each with its server's cluster; answers how many were new.
    pub async fn ingest_slow_queries(&self, queries: &[(i64, &SlowQuery)]) -> Result<u64> {
        if queries.is_empty() {
            return Ok(0);
        }
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let mut stored = 0;
        for (cluster, q) in queries {
            stored += sqlx::query(&self.sql(
                "INSERT INTO slow_query (cluster_id, server_id, request_time, trace_id, \
                 session_id, client, plan_id, sql_id, db_name, user_name, statement, elapsed_us, \
                 return_rows, affected_rows) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (server_id, trace_id, request_time) DO NOTHING",
            ))
            .bind(*cluster)
            .bind(q.ob_server_id)
            .bind(q.request_time)
            .bind(q.trace_id.as_str())
            .bind(q.session_id)
            .bind(q.client.as_str())
            .bind(q.plan_id)
            .bind(q.sql_id.as_deref())
            .bind(q.db_name.as_deref())
            .bind(q.user_name.as_deref())
            .bind(q.statement.as_str())
            .bind(q.elapsed_us)
            .bind(q.return_rows)
            .bind(q.affected_rows)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(stored)
    }

    /// The slow executions of a cluster from `start_ms` to `end_ms`, newest first, at most
    /// `limit`; of one server and one statement if named.
    pub async fn slow_queries(
        &self,
        cluster_id: i64,
        start_ms: i64,
        end_ms: i64,
        server_id: Option<i64>,
        sql_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<SlowQuery>> {
        let mut text = "SELECT server_id, request_time, trace_id, session_id, client, plan_id, \
                        sql_id, db_name, user_name, statement, elapsed_us, return_rows, \
                        affected_rows FROM slow_query \
                        WHERE cluster_id = ? AND request_time >= ? AND request_time <= ?"
            .to_string();
        if server_id.is_some() {
            text.push_str(" AND server_id = ?");
        }
        if sql_id.is_some() {
            text.push_str(" AND sql_id = ?");
        }
        text.push_str(" ORDER BY request_time DESC LIMIT ?");
        let sql = self.sql(&text);
        let mut query = sqlx::query(&sql)
            .bind(cluster_id)
            .bind(start_ms)
            .bind(end_ms);
        if let Some(server) = server_id {
            query = query.bind(server);
        }
        if let Some(sql_id) = sql_id {
            query = query.bind(sql_id);
        }
        query
            .bind(limit)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(SlowQuery {
                    ob_server_id: r.try_get(0)?,
                    request_time: r.try_get(1)?,
                    trace_id: r.try_get(2)?,
                    session_id: r.try_get(3)?,
                    client: r.try_get(4)?,
                    plan_id: r.try_get(5)?,
                    sql_id: r.try_get(6)?,
                    db_name: r.try_get(7)?,
                    user_name: r.try_get(8)?,
                    statement: r.try_get(9)?,
                    elapsed_us: r.try_get(10)?,
                    return_rows: r.try_get(11)?,
                    affected_rows: r.try_get(12)?,
                })
            })
            .collect()
    }

    /// Removes minute sums and sample records before `minutes_before`, and hour sums,
    /// texts not seen and slow executions since `hours_before` (seconds); answers the rows
    /// removed.
    pub async fn expire_sql_stats(&self, minutes_before: i64, hours_before: i64) -> Result<u64> {
        let _w = self.writer().await;
        let mut removed = 0;
        for (text, before) in [
            (
                "DELETE FROM sql_stat_minute WHERE bucket < ?",
                minutes_before,
            ),
            (
                "DELETE FROM sql_stat_10min WHERE bucket < ?",
                minutes_before,
            ),
            ("DELETE FROM sql_stat_sample WHERE ts < ?", minutes_before),
            ("DELETE FROM sql_stat_hour WHERE bucket < ?", hours_before),
            ("DELETE FROM sql_text WHERE last_seen < ?", hours_before),
            (
                "DELETE FROM slow_query WHERE request_time < ?",
                hours_before * 1000,
            ),
        ] {
            removed += sqlx::query(&self.sql(text))
                .bind(before)
                .execute(&self.pool)
                .await?
                .rows_affected();
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(start: i64, end: i64, minutes_from: i64) -> SqlStatFilter {
        SqlStatFilter {
            cluster_id: 1,
            start,
            end,
            minutes_from,
            server_id: None,
            sql_id: None,
            plan: None,
            db_name: None,
            include_inner: false,
        }
    }

    #[test]
    fn a_range_reads_whole_hours_then_ten_minutes_then_minutes_at_its_edges() {
        // 00:27 to 03:15: hours 01 and 02 whole; 00:30-01:00 and 03:00-03:10 in ten
        // minutes; 00:27-00:30 and 03:10-03:15 in minutes.
        let f = filter(27 * MINUTE, 3 * HOUR + 900, 0);
        assert_eq!(
            sources(&f, None),
            vec![
                ("sql_stat_hour", HOUR, 3 * HOUR),
                ("sql_stat_10min", 1800, HOUR),
                ("sql_stat_minute", 27 * MINUTE, 1800),
                ("sql_stat_10min", 3 * HOUR, 3 * HOUR + 600),
                ("sql_stat_minute", 3 * HOUR + 600, 3 * HOUR + 901),
            ]
        );
        // Within ten minutes: minutes alone.
        assert_eq!(
            sources(&filter(1805, 2200, 0), None),
            vec![("sql_stat_minute", 1800, 2201)]
        );
        // A day, as TopSQL asks it, from any second: at most 39 buckets (23 hours, then
        // ten minutes and minutes), where hours and minutes alone read up to 83.
        let most = (0..HOUR)
            .step_by(7)
            .map(|offset| {
                let start = HOUR + offset;
                sources(&filter(start, start + 86_400 - 1, 0), None)
                    .iter()
                    .map(|(t, a, b)| {
                        let step = TIERS.iter().find(|(n, _)| n == t).unwrap().1;
                        (b - a + step - 1) / step
                    })
                    .sum::<i64>()
            })
            .max();
        assert_eq!(most, Some(39));
        // Before the minutes' retention: the hours that hold the range.
        assert_eq!(
            sources(&filter(1800, 2400, 7200), None),
            vec![("sql_stat_hour", 0, HOUR)]
        );
        // A trend reads the coarsest tier its step is made of.
        assert_eq!(
            sources(&filter(1800, 5 * HOUR, 0), Some(HOUR)),
            vec![("sql_stat_hour", 0, 6 * HOUR)]
        );
        assert_eq!(
            sources(&filter(1800, 5 * HOUR, 0), Some(1200)),
            vec![("sql_stat_10min", 1800, 5 * HOUR + 1)]
        );
        assert_eq!(
            sources(&filter(1800, 5 * HOUR, 0), Some(120)),
            vec![("sql_stat_minute", 1800, 5 * HOUR + 1)]
        );
    }
}
