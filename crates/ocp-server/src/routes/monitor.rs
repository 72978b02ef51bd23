//! Monitoring: the metric catalog, metric queries over the series agents ship, and the
//! agents' own `POST /api/v2/agents/metrics`.
//!
//! Queries bucket each series by `interval` (the mean of its samples in a bucket), then take
//! the mean over the series of a group: every metric collected so far is a gauge.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use ocp_api::monitor::{
    MetricBatch, MetricBatchAnswer, MetricClass, MetricGroup, MetricGroupFilter, MetricMeta,
    MetricQuery,
};
use ocp_api::{agent_path, PageData, PageQuery};
use serde_json::value::RawValue;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{perm, Authz};
use crate::http::{page_of, parse_json, ApiQuery, ApiResult, Data, Failure, Paging};
use crate::monitor::ingest;
use crate::monitor::query::{self, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(metric_groups))
        .routes(routes!(metric))
        .routes(routes!(metrics_with_label))
        .routes(routes!(prometheus))
        // Agents' own call: not part of the documented API.
        .route(
            agent_path::server::METRICS,
            axum::routing::post(ingest)
                .layer(axum::extract::DefaultBodyLimit::max(MAX_BATCH_BYTES)),
        )
}

/// The host metrics agents collect: (key, name, unit, group).
const HOST_METRICS: &[(&str, &str, &str, &str)] = &[
    ("host_cpu_percent", "CPU busy", "%", "cpu"),
    ("host_load1", "load average, 1 minute", "", "load"),
    ("host_load5", "load average, 5 minutes", "", "load"),
    ("host_load15", "load average, 15 minutes", "", "load"),
    ("host_memory_used_percent", "memory in use", "%", "memory"),
    (
        "host_memory_available_bytes",
        "memory available",
        "byte",
        "memory",
    ),
    (
        "host_memory_total_bytes",
        "physical memory",
        "byte",
        "memory",
    ),
    (
        "host_disk_used_percent",
        "disk space in use, per mount",
        "%",
        "disk",
    ),
    (
        "host_disk_free_bytes",
        "disk space free, per mount",
        "byte",
        "disk",
    ),
    (
        "host_disk_read_bytes_per_second",
        "disk reads, per device",
        "byte/s",
        "io",
    ),
    (
        "host_disk_write_bytes_per_second",
        "disk writes, per device",
        "byte/s",
        "io",
    ),
    (
        "host_net_recv_bytes_per_second",
        "network received, per interface",
        "byte/s",
        "network",
    ),
    (
        "host_net_send_bytes_per_second",
        "network sent, per interface",
        "byte/s",
        "network",
    ),
    ("host_open_files", "open file handles", "", "files"),
    (
        "agent_monitor_rss_bytes",
        "agent monitor resident memory",
        "byte",
        "agent",
    ),
    (
        "host_agent_res_memory_bytes",
        "resident memory, per agent process",
        "byte",
        "agent_process",
    ),
    (
        "host_agent_open_fd_count",
        "open file handles, per agent process",
        "",
        "agent_process",
    ),
];

/// (key, name, whether its metrics carry a label of their own: mount, device, interface
/// or process).
const HOST_GROUPS: &[(&str, &str, bool)] = &[
    ("cpu", "CPU", false),
    ("load", "Load", false),
    ("memory", "Memory", false),
    ("disk", "Disk space", true),
    ("io", "Disk I/O", true),
    ("network", "Network", true),
    ("files", "Open files", false),
    ("agent", "Agent", false),
    ("agent_process", "Agent processes", true),
];

/// The database metrics agents read from each server over SQL: (key, name, unit, group).
const OB_METRICS: &[(&str, &str, &str, &str)] = &[
    ("ob_session_num", "sessions", "", "session"),
    ("ob_active_session_num", "active sessions", "", "session"),
    (
        "ob_sql_qps",
        "statements a second (plan cache)",
        "/s",
        "sql",
    ),
    (
        "ob_sql_avg_response_us",
        "mean statement response time",
        "us",
        "sql",
    ),
    (
        "ob_plan_cache_hit_percent",
        "plan cache hit ratio",
        "%",
        "plan_cache",
    ),
    ("ob_plan_cache_plans", "cached plans", "", "plan_cache"),
    (
        "ob_plan_cache_bytes",
        "plan cache size",
        "byte",
        "plan_cache",
    ),
    (
        "ob_process_rss_bytes",
        "server process resident memory",
        "byte",
        "memory",
    ),
    (
        "ob_memory_limit_bytes",
        "server memory limit",
        "byte",
        "memory",
    ),
    (
        "ob_data_disk_used_bytes",
        "data disk in use",
        "byte",
        "storage",
    ),
    (
        "ob_data_disk_total_bytes",
        "data disk capacity",
        "byte",
        "storage",
    ),
    (
        "ob_data_disk_used_percent",
        "data disk in use",
        "%",
        "storage",
    ),
    (
        "ob_log_disk_used_bytes",
        "log disk in use",
        "byte",
        "storage",
    ),
    (
        "ob_log_disk_total_bytes",
        "log disk capacity",
        "byte",
        "storage",
    ),
    (
        "ob_log_disk_used_percent",
        "log disk in use",
        "%",
        "storage",
    ),
    (
        "ob_compaction_running",
        "major compaction running (1) or idle (0)",
        "",
        "compaction",
    ),
    (
        "ob_no_compaction_seconds",
        "time since the last major compaction finished",
        "s",
        "compaction",
    ),
    (
        "ob_connectable",
        "accepts SQL (1) or not (0)",
        "",
        "availability",
    ),
    (
        "ob_sync_delay_time",
        "standby: how far behind now it reads (now less its readable SCN)",
        "s",
        "standby",
    ),
];

const OB_GROUPS: &[(&str, &str, bool)] = &[
    ("session", "Sessions", false),
    ("sql", "SQL", false),
    ("plan_cache", "Plan cache", false),
    ("memory", "Memory", false),
    ("storage", "Storage", false),
    ("compaction", "Compaction", false),
    ("availability", "Availability", false),
    ("standby", "Standby", false),
];

/// One class of the catalog.
fn class(
    id: i64,
    key: &str,
    name: &str,
    scope: &str,
    groups: &[(&str, &str, bool)],
    metrics: &[(&str, &str, &str, &str)],
) -> MetricClass {
    let metric_groups = groups
        .iter()
        .enumerate()
        .map(|(g, (group, group_name, with_label))| MetricGroup {
            id: id * 100 + g as i64 + 1,
            key: (*group).into(),
            name: (*group_name).into(),
            description: format!("{group_name}: {name}"),
            with_label: *with_label,
            metrics: metrics
                .iter()
                .enumerate()
                .filter(|(_, m)| m.3 == *group)
                .map(|(i, (metric, metric_name, unit, _))| MetricMeta {
                    id: id * 1000 + i as i64 + 1,
                    key: (*metric).into(),
                    name: (*metric_name).into(),
                    description: (*metric_name).into(),
                    unit: (*unit).into(),
                    display_by_default: true,
                })
                .collect(),
        })
        .collect();
    MetricClass {
        id,
        key: key.into(),
        name: name.into(),
        description: format!("{name} that every agent collects"),
        scope: scope.into(),
        metric_type: "NORMAL".into(),
        metric_groups,
    }
}

fn catalog() -> Vec<MetricClass> {
    vec![
        class(
            1,
            "metric_host_normal",
            "Host metrics",
            "HOST",
            HOST_GROUPS,
            HOST_METRICS,
        ),
        class(
            2,
            "metric_ob_normal",
            "Database server metrics",
            "CLUSTER",
            OB_GROUPS,
            OB_METRICS,
        ),
    ]
}

/// The metric catalog for a scope and type: HOST metrics and the database servers' own
/// (CLUSTER); TENANT and OBPROXY answer an empty list (seekdb has one tenant, and there is
/// no OBProxy here).
#[utoipa::path(get, path = "/api/v2/monitor/metricGroups", tag = "monitor",
    params(PageQuery, MetricGroupFilter),
    responses((status = 200, body = PageData<MetricClass>)))]
async fn metric_groups(
    _: Authz<perm::HostRead>,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<MetricGroupFilter>,
) -> ApiResult<PageData<MetricClass>> {
    let paging = Paging::parse(&page, &[])?;
    let scope = one_of(
        "scope",
        &filter.scope,
        &["CLUSTER", "TENANT", "HOST", "OBPROXY"],
    )?;
    let kind = one_of("type", &filter.metric_type, &["TOP", "NORMAL"])?;
    let all = catalog()
        .into_iter()
        .filter(|c| scope.as_ref().is_none_or(|s| *s == c.scope))
        .filter(|c| kind.as_ref().is_none_or(|k| *k == c.metric_type))
        .collect();
    Ok(Data(page_of(all, &paging)))
}

fn one_of(field: &str, value: &Option<String>, valid: &[&str]) -> Result<Option<String>, Failure> {
    match value.as_deref() {
        None | Some("") => Ok(None),
        Some(v) if valid.contains(&v) => Ok(Some(v.to_string())),
        Some(v) => Err(Failure::field(
            field,
            format!("must be one of {}, not {v:?}", valid.join(", ")),
        )),
    }
}

pub(crate) fn seconds(field: &str, value: &Option<String>) -> Result<i64, Failure> {
    let text = value
        .as_deref()
        .ok_or_else(|| Failure::field(field, "is required"))?;
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp());
    }
    text.parse::<i64>()
        .ok()
        .filter(|s| (0..=253_402_300_799).contains(s))
        .ok_or_else(|| Failure::field(field, format!("{text:?} is not a time: {TIME_FORMATS}")))
}

/// The times a metric query takes, as its errors and README say.
const TIME_FORMATS: &str = "give an ISO-8601 time with its offset, such as \
                            2026-12-03T10:00:00+08:00 or 2026-12-03T02:00:00.000Z, or Unix seconds";

/// Checks label names against [`query::LABELS`].
fn known_label(field: &str, label: &str) -> Result<(), Failure> {
    if query::LABELS.contains(&label) {
        return Ok(());
    }
    Err(Failure::field(
        field,
        format!(
            "{label:?} is not a label; the labels are {}",
            query::LABELS.join(", ")
        ),
    ))
}

/// Refuses a metric neither in the catalog nor in any series: a misspelt name would
/// otherwise answer an empty result.
async fn check_metrics(
    backend: &crate::monitor::MetricsBackend,
    metrics: &[String],
) -> Result<(), Failure> {
    let catalog: Vec<&str> = HOST_METRICS
        .iter()
        .chain(OB_METRICS)
        .map(|(key, ..)| *key)
        .collect();
    for metric in metrics {
        if catalog.contains(&metric.as_str()) {
            continue;
        }
        if !backend.knows(metric).await? {
            return Err(Failure::field(
                "metrics",
                format!("{metric:?} is not a metric (GET /api/v2/monitor/metricGroups lists them)"),
            ));
        }
    }
    Ok(())
}

fn parse_query(q: &MetricQuery) -> Result<Query, Failure> {
    let start = seconds("startTime", &q.start_time)?;
    let end = seconds("endTime", &q.end_time)?;
    if end < start {
        return Err(Failure::field("endTime", "is before startTime"));
    }
    let list = |text: &Option<String>| -> Vec<String> {
        text.iter()
            .flat_map(|t| t.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    };
    let metrics = list(&q.metrics);
    if metrics.is_empty() {
        return Err(Failure::field("metrics", "name at least one metric"));
    }
    let interval = match q.interval.as_deref() {
        None => 60,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|v| *v > 0)
            .ok_or_else(|| Failure::field("interval", "must be a number of seconds above 0"))?,
    };
    // About 1440 points at most, as OCP answers, however long the range: a longer range
    // takes the next round step, which the store's tiers serve whole.
    let interval = interval.max(round_step((end - start + 1439) / 1440));
    let labels = list(&q.labels)
        .into_iter()
        .map(|l| {
            l.split_once([':', '='])
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| Failure::field("labels", format!("{l:?} is not name:value")))
        })
        .collect::<Result<Vec<(String, String)>, _>>()?;
    for (label, _) in &labels {
        known_label("labels", label)?;
    }
    let group_by = list(&q.group_by);
    for label in &group_by {
        known_label("groupBy", label)?;
    }
    Ok(Query {
        start,
        end,
        metrics,
        group_by,
        interval,
        labels,
    })
}

/// The least of the round steps (seconds, then minutes, hours and days) at or above `least`.
fn round_step(least: i64) -> i64 {
    const STEPS: [i64; 20] = [
        1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600,
        43200, 86400,
    ];
    match STEPS.iter().find(|s| **s >= least) {
        Some(step) => *step,
        None => (least + 86_399) / 86_400 * 86_400,
    }
}

/// `{timestamp, metricA, metricB}`: one bucket, written straight out (a day of 100 series
/// is some 150,000 values).
struct Point<'a> {
    ts: i64,
    metrics: &'a [String],
    values: &'a [Option<f64>],
}

impl serde::Serialize for Point<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("timestamp", &self.ts)?;
        for (metric, value) in self.metrics.iter().zip(self.values) {
            if let Some(value) = value {
                map.serialize_entry(metric, &round(*value))?;
            }
        }
        map.end()
    }
}

fn points<'a>(
    metrics: &'a [String],
    buckets: &'a BTreeMap<i64, Vec<Option<f64>>>,
) -> Vec<Point<'a>> {
    buckets
        .iter()
        .map(|(ts, values)| Point {
            ts: *ts,
            metrics,
            values,
        })
        .collect()
}

/// `{LABEL: value, ..., data: [point]}`: one group of `metricsWithLabel`.
struct Group<'a> {
    labels: Vec<(&'a String, &'a String)>,
    data: Vec<Point<'a>>,
}

impl serde::Serialize for Group<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = s.serialize_map(None)?;
        for (label, value) in &self.labels {
            map.serialize_entry(label, value)?;
        }
        map.serialize_entry("data", &self.data)?;
        map.end()
    }
}

fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// The metrics over time: one point per interval (about 1440 at most), each the mean over
/// the matching series.
#[utoipa::path(get, path = "/api/v2/monitor/metric", tag = "monitor", params(MetricQuery),
    responses((status = 200, description = "contents: [{timestamp, METRIC: value, ...}], a page")))]
async fn metric(
    _: Authz<perm::HostRead>,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<MetricQuery>,
) -> ApiResult<Box<RawValue>> {
    let mut q = parse_query(&query)?;
    check_metrics(&state.metrics, &q.metrics).await?;
    q.group_by.clear();
    let grouped = query::evaluate(&state.metrics, &q).await?;
    let contents = grouped
        .values()
        .next()
        .map(|b| points(&q.metrics, b))
        .unwrap_or_default();
    let total = contents.len() as i64;
    answer_page(PageData::new(contents, total, 1, total.max(1)))
}

/// A page of points serialized once, where they are borrowed, for the envelope to copy.
fn answer_page<T: serde::Serialize>(page: PageData<T>) -> ApiResult<Box<RawValue>> {
    Ok(Data(
        serde_json::value::to_raw_value(&page).map_err(Failure::internal)?,
    ))
}

/// The metrics over time per group of the `groupBy` labels: `{LABEL: value, ..., data}`.
#[utoipa::path(get, path = "/api/v2/monitor/metricsWithLabel", tag = "monitor",
    params(MetricQuery),
    responses((status = 200, description = "contents: [{LABEL: value, ..., data: [{timestamp, METRIC: value}]}]")))]
async fn metrics_with_label(
    _: Authz<perm::HostRead>,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<MetricQuery>,
) -> ApiResult<Box<RawValue>> {
    let q = parse_query(&query)?;
    check_metrics(&state.metrics, &q.metrics).await?;
    let grouped = query::evaluate(&state.metrics, &q).await?;
    let contents: Vec<Group> = grouped
        .iter()
        .map(|(key, buckets)| Group {
            labels: q.group_by.iter().zip(key).collect(),
            data: points(&q.metrics, buckets),
        })
        .collect();
    let total = contents.len() as i64;
    answer_page(PageData::new(contents, total, 1, total.max(1)))
}

/// Most points one batch may carry.
const MAX_POINTS: usize = 20_000;
/// Most statement deltas one batch may carry.
const MAX_SQL_STATS: usize = 20_000;
/// The largest batch body (an agent sends at most 4 MiB).
const MAX_BATCH_BYTES: usize = 16 << 20;

/// A signed batch of points from an agent. The server sets `host_id` and `svr_ip` from the
/// agent's own host, whatever the batch says, and the cluster of a database server's
/// points (`ob_server_id`) when that server runs on the host.
async fn ingest(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<MetricBatchAnswer> {
    let host_id = state
        .agents
        .verify(&headers, "POST", agent_path::server::METRICS, &body)
        .await?;
    let batch: MetricBatch = parse_json(&body)?;
    if batch.points.len() > MAX_POINTS {
        return Err(Failure::field(
            "points",
            format!("at most {MAX_POINTS} points a batch"),
        ));
    }
    if batch.slow_queries.len() > MAX_SQL_STATS {
        return Err(Failure::field(
            "slowQueries",
            format!("at most {MAX_SQL_STATS} slow executions a batch"),
        ));
    }
    if batch.sql_stats.len() > MAX_SQL_STATS {
        return Err(Failure::field(
            "sqlStats",
            format!("at most {MAX_SQL_STATS} statement deltas a batch"),
        ));
    }
    let stored =
        ingest::store_batch(&state.store, &state.metrics, &state.fresh, host_id, &batch).await?;
    Ok(Data(MetricBatchAnswer {
        received: batch.points.len(),
        stored: stored as usize,
    }))
}

/// The platform's own numbers in Prometheus text format, for an existing Prometheus to scrape
/// (with Basic auth, like every call): tasks, hosts, agents and clusters per status, metric
/// series kept, and this server's resident memory.
#[utoipa::path(get, path = "/metrics", tag = "monitor",
    responses((status = 200, content_type = "application/openmetrics-text", description = "OpenMetrics text format")))]
async fn prometheus(
    _: Authz<perm::HostRead>,
    State(state): State<AppState>,
) -> Result<axum::response::Response, Failure> {
    use prometheus_client::metrics::{family::Family, gauge::Gauge};
    type Counts = Family<Vec<(String, String)>, Gauge>;
    let mut families: std::collections::BTreeMap<String, Counts> = Default::default();
    for (what, status, count) in state.store.platform_counts().await? {
        let labels = if status.is_empty() {
            Vec::new()
        } else {
            vec![("status".to_string(), status)]
        };
        families
            .entry(what)
            .or_default()
            .get_or_create(&labels)
            .set(count);
    }
    let mut registry = prometheus_client::registry::Registry::default();
    for (what, family) in families {
        registry.register(
            format!("ocp_{what}"),
            format!("{what} known to the platform"),
            family,
        );
    }
    let rss = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or(0);
    let memory = Gauge::<i64>::default();
    memory.set(i64::try_from(rss * 1024).unwrap_or(i64::MAX));
    registry.register(
        "ocp_server_rss_bytes",
        "resident memory of this server",
        memory,
    );
    type Seconds = Family<Vec<(String, String)>, Gauge<f64, std::sync::atomic::AtomicU64>>;
    let (last, max) = (Seconds::default(), Seconds::default());
    for (rule, timing) in state.alarm_timings.all() {
        let labels = vec![
            ("rule".to_string(), rule),
            ("interval".to_string(), timing.interval_secs.to_string()),
        ];
        last.get_or_create(&labels).set(timing.last.as_secs_f64());
        max.get_or_create(&labels).set(timing.max.as_secs_f64());
    }
    registry.register(
        "ocp_alarm_rule_evaluation_seconds",
        "how long the alert engine's last evaluation of a rule took",
        last,
    );
    registry.register(
        "ocp_alarm_rule_evaluation_max_seconds",
        "the alert engine's slowest evaluation of a rule since the server started",
        max,
    );
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &registry).map_err(Failure::internal)?;
    Ok(crate::http::raw((
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        out,
    )))
}
