//! SQL diagnostics below the HTTP layer: the stored sums of a statement or plan turned into
//! OCP's figures (averages per execution, times in ms, shares from 0 to 1), TopSQL's
//! advanced search and sort over those figures, trend steps and plan trees.

use std::collections::HashMap;

use ocp_api::sql::{PlanMetrics, PlanOperation, SqlMetrics, TopSql};
use ocp_ob::PlanOperatorRow;
use ocp_store::SqlStatSum;

use crate::error::Failure;

/// Trends answer about this many points at most, as OCP's do.
const TREND_POINTS: i64 = 120;

fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

/// Figures per execution of `s`.
struct Per<'a> {
    s: &'a SqlStatSum,
    n: f64,
}

impl Per<'_> {
    fn new(s: &SqlStatSum) -> Per<'_> {
        Per {
            s,
            n: s.counters.executions as f64,
        }
    }

    /// A count per execution, to two places.
    fn count(&self, total: i64) -> f64 {
        if self.n > 0.0 {
            round(total as f64 / self.n, 2)
        } else {
            0.0
        }
    }

    /// Microseconds per execution, in ms to three places.
    fn ms(&self, total_us: i64) -> f64 {
        if self.n > 0.0 {
            round(total_us as f64 / self.n / 1000.0, 3)
        } else {
            0.0
        }
    }

    /// A share of the executions, 0 to 1 to four places.
    fn share(&self, part: i64) -> f64 {
        if self.n > 0.0 {
            round((part as f64 / self.n).clamp(0.0, 1.0), 4)
        } else {
            0.0
        }
    }

    fn per_second(&self, seconds: f64) -> f64 {
        round(self.n / seconds.max(1.0), 2)
    }

    fn max_ms(&self) -> Option<f64> {
        self.s.max_elapsed_us.map(|us| round(us as f64 / 1000.0, 3))
    }
}

/// A statement's figures over `seconds`.
pub fn sql_metrics(s: &SqlStatSum, seconds: f64, sql_type: &str) -> SqlMetrics {
    let c = &s.counters;
    let p = Per::new(s);
    let returns = sql_type == "SELECT";
    let waits = c.application_wait_us + c.concurrency_wait_us + c.user_io_wait_us;
    SqlMetrics {
        executions: c.executions,
        exec_ps: p.per_second(seconds),
        sum_elapsed_time: round(c.elapsed_us as f64 / 1000.0, 3),
        avg_elapsed_time: p.ms(c.elapsed_us),
        max_elapsed_time: p.max_ms(),
        avg_cpu_time: p.ms(c.cpu_us),
        avg_affected_rows: if returns {
            0.0
        } else {
            p.count(c.rows_processed)
        },
        avg_return_rows: if returns {
            p.count(c.rows_processed)
        } else {
            0.0
        },
        avg_partition_count: p.count(c.partitions),
        avg_wait_time: p.ms(waits),
        avg_rpc_count: p.count(c.rpc_count),
        local_plan_percentage: p.share(s.by_plan_type[0]),
        remote_plan_percentage: p.share(s.by_plan_type[1]),
        dist_plan_percentage: p.share(s.by_plan_type[2]),
        miss_plan_percentage: if p.n > 0.0 {
            round(1.0 - p.share(c.plan_cache_hits), 4)
        } else {
            0.0
        },
        avg_application_wait_time: p.ms(c.application_wait_us),
        avg_concurrency_wait_time: p.ms(c.concurrency_wait_us),
        avg_user_io_wait_time: p.ms(c.user_io_wait_us),
        avg_disk_reads: p.count(c.disk_reads),
        avg_buffer_gets: p.count(c.buffer_gets),
        retry_count: c.retries,
        table_scan_percentage: p.share(s.table_scan_executions),
        avg_memstore_read_rows: p.count(c.memstore_read_rows),
        avg_ssstore_read_rows: p.count(c.ssstore_read_rows),
        ..Default::default()
    }
}

/// A plan's figures over `seconds`.
pub fn plan_metrics(s: &SqlStatSum, seconds: f64) -> PlanMetrics {
    let c = &s.counters;
    let p = Per::new(s);
    PlanMetrics {
        hit_percentage: p.share(c.plan_cache_hits),
        executions: c.executions,
        exec_ps: p.per_second(seconds),
        max_exec_time: p.max_ms(),
        avg_disk_reads: p.count(c.disk_reads),
        avg_disk_writes: None,
        avg_buffer_gets: p.count(c.buffer_gets),
        avg_application_wait_time: p.ms(c.application_wait_us),
        avg_concurrency_wait_time: p.ms(c.concurrency_wait_us),
        avg_user_io_wait_time: p.ms(c.user_io_wait_us),
        avg_row_processed: p.count(c.rows_processed),
        avg_elapsed_time: p.ms(c.elapsed_us),
        avg_cpu_time: p.ms(c.cpu_us),
        large_query_percentage: None,
        delayed_large_query_percentage: None,
        timeout_percentage: p.share(c.timeouts),
        table_scan: s.table_scan,
    }
}

/// OCP's name of a plan type.
pub fn plan_type(code: i64) -> &'static str {
    match code {
        1 => "LOCAL",
        2 => "REMOTE",
        3 => "DIST",
        _ => "UNCACHED",
    }
}

/// Seconds per point of a trend over `[start, end]`: about [`TREND_POINTS`] points of
/// whole minutes, ten minutes or hours (the tiers of sums the metadb keeps).
pub fn trend_step(start: i64, end: i64) -> i64 {
    let per_point = ((end - start).max(1) + TREND_POINTS - 1) / TREND_POINTS;
    let whole = |unit: i64| (per_point + unit - 1) / unit * unit;
    match per_point {
        ..=600 => whole(60).max(60),
        601..=3600 => whole(600),
        _ => whole(3600),
    }
}

/// A comparison of TopSQL's advanced search.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// `searchAttr` `searchOp` `searchVal`.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    attr: String,
    op: Op,
    value: f64,
}

/// The numeric fields of a TopSQL row, by wire name: what search and sort may name.
pub fn numeric_fields() -> Vec<String> {
    let sample = TopSql {
        metrics: SqlMetrics {
            max_elapsed_time: Some(0.0),
            ..Default::default()
        },
        ..Default::default()
    };
    match serde_json::to_value(sample) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .filter(|(_, v)| v.is_number() || v.is_null())
            .filter(|(k, _)| k != "waitEvent")
            .map(|(k, _)| k)
            .collect(),
        _ => Vec::new(),
    }
}

fn known_field(field: &str, name: &str, fields: &[String]) -> Result<(), Failure> {
    if fields.iter().any(|f| f == name) {
        return Ok(());
    }
    Err(Failure::field(
        field,
        format!(
            "{name:?} is not a numeric field; use one of {}",
            fields.join(", ")
        ),
    ))
}

impl Search {
    /// The search of a query: all three parts or none.
    pub fn parse(
        attr: &Option<String>,
        op: &Option<String>,
        value: &Option<String>,
        fields: &[String],
    ) -> Result<Option<Search>, Failure> {
        let (attr, op, value) = match (attr, op, value) {
            (None, None, None) => return Ok(None),
            (Some(a), Some(o), Some(v)) => (a, o, v),
            _ => {
                let missing = [("searchAttr", attr), ("searchOp", op), ("searchVal", value)]
                    .into_iter()
                    .find(|(_, v)| v.is_none())
                    .map(|(name, _)| name)
                    .unwrap_or("searchAttr");
                return Err(Failure::field(
                    missing,
                    "searchAttr, searchOp and searchVal go together",
                ));
            }
        };
        known_field("searchAttr", attr, fields)?;
        let op = match op.to_ascii_uppercase().as_str() {
            "EQ" => Op::Eq,
            "NE" => Op::Ne,
            "GT" => Op::Gt,
            "GE" => Op::Ge,
            "LT" => Op::Lt,
            "LE" => Op::Le,
            _ => {
                return Err(Failure::field(
                    "searchOp",
                    format!("{op:?} is not EQ, NE, GT, GE, LT or LE"),
                ))
            }
        };
        let value = value
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| Failure::field("searchVal", format!("{value:?} is not a number")))?;
        Ok(Some(Search {
            attr: attr.clone(),
            op,
            value,
        }))
    }

    /// Whether a row (as JSON) passes; a field that is null passes no comparison.
    pub fn matches(&self, row: &serde_json::Value) -> bool {
        let Some(v) = row.get(&self.attr).and_then(serde_json::Value::as_f64) else {
            return false;
        };
        match self.op {
            Op::Eq => v == self.value,
            Op::Ne => v != self.value,
            Op::Gt => v > self.value,
            Op::Ge => v >= self.value,
            Op::Lt => v < self.value,
            Op::Le => v <= self.value,
        }
    }
}

/// `sort=field,asc|desc` over the numeric fields; `avgElapsedTime,desc` by default.
pub fn parse_sort(text: &Option<String>, fields: &[String]) -> Result<(String, bool), Failure> {
    let Some(text) = text else {
        return Ok(("avgElapsedTime".into(), true));
    };
    let (name, order) = text.split_once(',').unwrap_or((text, "asc"));
    known_field("sort", name.trim(), fields)?;
    let descending = match order.trim().to_ascii_lowercase().as_str() {
        "asc" => false,
        "desc" => true,
        other => {
            return Err(Failure::field(
                "sort",
                format!("order must be asc or desc, not {other:?}"),
            ))
        }
    };
    Ok((name.trim().to_string(), descending))
}

/// Sorts rows (with their JSON) by a numeric field; null sorts last either way.
pub fn sort_rows<T>(rows: &mut [(T, serde_json::Value)], field: &str, descending: bool) {
    rows.sort_by(|(_, a), (_, b)| {
        let (a, b) = (
            a.get(field).and_then(serde_json::Value::as_f64),
            b.get(field).and_then(serde_json::Value::as_f64),
        );
        match (a, b) {
            (Some(a), Some(b)) if descending => b.total_cmp(&a),
            (Some(a), Some(b)) => a.total_cmp(&b),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }
    });
}

/// The operators of a plan as a tree: each under its parent, in plan order.
pub fn plan_tree(rows: &[PlanOperatorRow]) -> Vec<PlanOperation> {
    let mut children: HashMap<i64, Vec<&PlanOperatorRow>> = HashMap::new();
    for row in rows {
        children.entry(row.parent_id).or_default().push(row);
    }
    fn build(
        row: &PlanOperatorRow,
        children: &HashMap<i64, Vec<&PlanOperatorRow>>,
    ) -> PlanOperation {
        PlanOperation {
            operator: row.operator.clone(),
            object_name: row.object_name.clone(),
            rows: row.rows,
            cost: row.cost,
            property: row.property.clone(),
            children: children
                .get(&row.id)
                .map(|kids| kids.iter().map(|k| build(k, children)).collect())
                .unwrap_or_default(),
        }
    }
    let ids: std::collections::HashSet<i64> = rows.iter().map(|r| r.id).collect();
    rows.iter()
        .filter(|r| !ids.contains(&r.parent_id))
        .map(|r| build(r, &children))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ocp_api::sql::SqlCounters;

    #[test]
    fn figures_are_per_execution_in_ms() {
        let s = SqlStatSum {
            counters: SqlCounters {
                executions: 4,
                elapsed_us: 1_200_000,
                rows_processed: 8,
                plan_cache_hits: 3,
                ..Default::default()
            },
            by_plan_type: [4, 0, 0],
            max_elapsed_us: Some(400_000),
            ..Default::default()
        };
        let m = sql_metrics(&s, 60.0, "SELECT");
        assert_eq!(m.avg_elapsed_time, 300.0);
        assert_eq!(m.max_elapsed_time, Some(400.0));
        assert_eq!(m.avg_return_rows, 2.0);
        assert_eq!(m.avg_affected_rows, 0.0);
        assert_eq!(m.exec_ps, 0.07);
        assert_eq!(m.local_plan_percentage, 1.0);
        assert_eq!(m.miss_plan_percentage, 0.25);
        assert_eq!(m.fail_count, None);
    }

    #[test]
    fn search_and_sort_name_numeric_fields() {
        let fields = numeric_fields();
        assert!(fields.contains(&"executions".to_string()));
        assert!(fields.contains(&"maxElapsedTime".to_string()));
        assert!(!fields.contains(&"sqlId".to_string()));
        let search = Search::parse(
            &Some("executions".into()),
            &Some("ge".into()),
            &Some("500".into()),
            &fields,
        )
        .unwrap()
        .unwrap();
        assert!(search.matches(&serde_json::json!({"executions": 500})));
        assert!(!search.matches(&serde_json::json!({"executions": 499})));
        assert!(Search::parse(
            &Some("sqlId".into()),
            &Some("EQ".into()),
            &Some("1".into()),
            &fields
        )
        .is_err());
        assert!(Search::parse(&Some("executions".into()), &None, &None, &fields).is_err());
        assert_eq!(
            parse_sort(&None, &fields).unwrap(),
            ("avgElapsedTime".into(), true)
        );
        assert!(parse_sort(&Some("executions,up".into()), &fields).is_err());
        assert_eq!(trend_step(0, 3600), 60);
        assert_eq!(trend_step(0, 86_400), 1200);
        assert_eq!(trend_step(0, 7 * 86_400), 7200);
    }

    #[test]
    fn operators_hang_under_their_parents() {
        let op = |id, parent_id, operator: &str| PlanOperatorRow {
            id,
            parent_id,
            operator: operator.into(),
            object_name: None,
            rows: 1,
            cost: 1,
            property: None,
        };
        let tree = plan_tree(&[
            op(0, -1, "SORT"),
            op(1, 0, "HASH JOIN"),
            op(2, 1, "TABLE FULL SCAN"),
            op(3, 1, "TABLE RANGE SCAN"),
        ]);
        assert_eq!(tree.len(), 1);
        assert_eq!(tree[0].children[0].children.len(), 2);
        assert_eq!(tree[0].children[0].children[1].operator, "TABLE RANGE SCAN");
    }
}
