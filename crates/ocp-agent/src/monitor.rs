//! The monitor worker (`ocp_monagent`): samples the host's CPU, load and memory at an
//! interval, serves the latest sample in Prometheus text format on `GET /metrics`, and keeps
//! the last day of samples (a bounded ring) for the supervisor to ship to the server
//! (`GET /samples?after=MS`), so a server outage shorter than that loses nothing.
//! Samples also carry, at the statement interval, what the host's database servers'
//! statements did since the previous such sample; the ring keeps at most
//! [`SQL_IN_RING`] of those, dropping the oldest first, so a long outage loses statement
//! statistics before it loses metrics.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use ocp_api::agent::MONITOR_ALIAS;
use ocp_api::agent_path;
use ocp_api::monitor::MetricPoint;
use ocp_api::sql::{SlowQuery, SqlStatDelta};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};

use crate::{procinfo, worker};

#[derive(Debug, Default, Clone)]
struct Sample {
    cpu_percent: f64,
    load1: f64,
    load5: f64,
    load15: f64,
    memory_total: u64,
    memory_available: u64,
    rss: u64,
    open_files: u64,
    /// Values per mount point, network interface or disk device.
    labelled: Vec<Labelled>,
    /// Database metrics of the servers on this host, labelled by server.
    db: Vec<crate::db_monitor::DbReading>,
    /// What their statements did since the previous statement reading.
    sql: Vec<SqlStatDelta>,
    /// The executions their logs recorded as slow since.
    slow: Vec<SlowQuery>,
    timestamp_ms: i64,
}

#[derive(Debug, Clone)]
struct Labelled {
    metric: &'static str,
    label: &'static str,
    value_of: String,
    value: f64,
}

/// Cumulative counters of the previous sample, for rates.
#[derive(Default)]
struct Previous {
    cpu: Option<(u64, u64)>,
    /// Per interface: received and sent bytes.
    net: std::collections::HashMap<String, (u64, u64)>,
    /// Per disk device: bytes read and written.
    io: std::collections::HashMap<String, (u64, u64)>,
    at_ms: i64,
}

/// Received and sent bytes per network interface, loopback left out.
fn net_counters() -> Vec<(String, u64, u64)> {
    let text = std::fs::read_to_string("/proc/net/dev").unwrap_or_default();
    text.lines()
        .skip(2)
        .filter_map(|line| {
            let (name, rest) = line.split_once(':')?;
            let f: Vec<u64> = rest
                .split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect();
            let name = name.trim();
            (name != "lo" && f.len() >= 9).then(|| (name.to_string(), f[0], f[8]))
        })
        .collect()
}

/// Bytes read and written per block device named in `devices` (sectors are 512 bytes).
fn io_counters(devices: &[String]) -> Vec<(String, u64, u64)> {
    let text = std::fs::read_to_string("/proc/diskstats").unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let name = f.get(2)?.to_string();
            if !devices.contains(&name) {
                return None;
            }
            let read: u64 = f.get(5)?.parse().ok()?;
            let written: u64 = f.get(9)?.parse().ok()?;
            Some((name, read * 512, written * 512))
        })
        .collect()
}

/// The per-second rates of a pair of counters per device (`metrics` name them), against
/// the counters of the previous sample, which `previous` then holds.
fn push_rates(
    out: &mut Vec<Labelled>,
    previous: &mut std::collections::HashMap<String, (u64, u64)>,
    counters: Vec<(String, u64, u64)>,
    metrics: [&'static str; 2],
    seconds: f64,
) {
    for (device, a, b) in counters {
        let before = previous.insert(device.clone(), (a, b));
        for (metric, now, then) in [
            (metrics[0], a, before.map(|p| p.0)),
            (metrics[1], b, before.map(|p| p.1)),
        ] {
            out.push(Labelled {
                metric,
                label: "device",
                value_of: device.clone(),
                value: rate(then, now, seconds),
            });
        }
    }
}

/// A rate per second between two counters `seconds` apart; 0 on the first sample or after
/// a counter reset.
fn rate(before: Option<u64>, now: u64, seconds: f64) -> f64 {
    match before {
        Some(b) if now >= b && seconds > 0.0 => (now - b) as f64 / seconds,
        _ => 0.0,
    }
}

/// `(busy, total)` jiffies of all CPUs.
fn cpu_jiffies() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: u64 = values.iter().sum();
    // idle and iowait are fields 4 and 5.
    let idle = values.get(3).copied().unwrap_or(0) + values.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

fn sample(previous: &mut Previous) -> Sample {
    let now = cpu_jiffies();
    let cpu_percent = match (previous.cpu, now) {
        (Some((b0, t0)), Some((b1, t1))) if t1 > t0 => (b1 - b0) as f64 * 100.0 / (t1 - t0) as f64,
        _ => 0.0,
    };
    previous.cpu = now;
    let timestamp_ms = crate::server_link::now_ms();
    let seconds = if previous.at_ms > 0 {
        (timestamp_ms - previous.at_ms) as f64 / 1000.0
    } else {
        0.0
    };
    previous.at_ms = timestamp_ms;
    let mut labelled = Vec::new();
    let mut push = |metric, label, value_of: &str, value| {
        labelled.push(Labelled {
            metric,
            label,
            value_of: value_of.to_string(),
            value,
        })
    };
    let disks = crate::facts::disks();
    for d in &disks {
        let used = d.total_bytes.saturating_sub(d.free_bytes);
        let percent = if d.total_bytes > 0 {
            100.0 * used as f64 / d.total_bytes as f64
        } else {
            0.0
        };
        push("host_disk_used_percent", "mount", &d.mount_point, percent);
        push(
            "host_disk_free_bytes",
            "mount",
            &d.mount_point,
            d.free_bytes as f64,
        );
    }
    push_rates(
        &mut labelled,
        &mut previous.net,
        net_counters(),
        [
            "host_net_recv_bytes_per_second",
            "host_net_send_bytes_per_second",
        ],
        seconds,
    );
    let devices: Vec<String> = disks
        .iter()
        .filter_map(|d| d.device.strip_prefix("/dev/").map(str::to_string))
        .collect();
    push_rates(
        &mut labelled,
        &mut previous.io,
        io_counters(&devices),
        [
            "host_disk_read_bytes_per_second",
            "host_disk_write_bytes_per_second",
        ],
        seconds,
    );
    for (alias, pid) in agent_processes() {
        if let Some(rss) = procinfo::rss_bytes(pid) {
            push_process(
                &mut labelled,
                "host_agent_res_memory_bytes",
                alias,
                rss as f64,
            );
        }
        if let Some(fds) = procinfo::open_fds(pid) {
            push_process(&mut labelled, "host_agent_open_fd_count", alias, fds as f64);
        }
    }
    let open_files = std::fs::read_to_string("/proc/sys/fs/file-nr")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let load: Vec<f64> = std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .filter_map(|v| v.parse().ok())
        .collect();
    Sample {
        cpu_percent,
        load1: load.first().copied().unwrap_or(0.0),
        load5: load.get(1).copied().unwrap_or(0.0),
        load15: load.get(2).copied().unwrap_or(0.0),
        memory_total: procinfo::meminfo("MemTotal:"),
        memory_available: procinfo::meminfo("MemAvailable:"),
        rss: procinfo::rss_bytes(std::process::id() as i32).unwrap_or(0),
        open_files,
        labelled,
        db: Vec::new(),
        sql: Vec::new(),
        slow: Vec::new(),
        timestamp_ms,
    }
}

fn push_process(labelled: &mut Vec<Labelled>, metric: &'static str, alias: &str, value: f64) {
    labelled.push(Labelled {
        metric,
        label: "process",
        value_of: alias.to_string(),
        value,
    });
}

/// The agent's own processes: the supervisor (this worker's parent) and its workers.
fn agent_processes() -> Vec<(&'static str, i32)> {
    use ocp_api::agent::{MANAGER_ALIAS, SUPERVISOR_ALIAS};
    let parent = std::os::unix::process::parent_id() as i32;
    let mut out = vec![(MONITOR_ALIAS, std::process::id() as i32)];
    if parent <= 1 {
        return out;
    }
    out.push((SUPERVISOR_ALIAS, parent));
    let children = std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children"))
        .unwrap_or_default();
    for child in children
        .split_whitespace()
        .filter_map(|c| c.parse::<i32>().ok())
    {
        let line = procinfo::command_line(child).unwrap_or_default();
        if line.contains(" worker manager") {
            out.push((MANAGER_ALIAS, child));
        }
    }
    out
}

/// The content type of [`render`]'s text.
pub const OPENMETRICS_TEXT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = Vec<(String, String)>;
type Gauges = Family<Labels, Gauge<f64, AtomicU64>>;

/// The latest sample in the OpenMetrics text format, encoded by `prometheus-client`.
fn render(s: &Sample) -> String {
    let mut registry = Registry::default();
    let mut gauge = |name: &str, help: &str, value: f64| {
        let family = Gauges::default();
        family.get_or_create(&Vec::new()).set(value);
        registry.register(name, help, family);
    };
    gauge(
        "host_cpu_percent",
        "CPU busy over the last interval, percent",
        s.cpu_percent,
    );
    gauge("host_load1", "load average over 1 minute", s.load1);
    gauge("host_load5", "load average over 5 minutes", s.load5);
    gauge("host_load15", "load average over 15 minutes", s.load15);
    gauge(
        "host_memory_total_bytes",
        "physical memory",
        s.memory_total as f64,
    );
    gauge(
        "host_memory_available_bytes",
        "memory available to programs",
        s.memory_available as f64,
    );
    gauge(
        "agent_monitor_rss_bytes",
        "resident memory of the monitor",
        s.rss as f64,
    );
    gauge("host_open_files", "open file handles", s.open_files as f64);
    gauge(
        "agent_sample_timestamp_ms",
        "when the sample was taken",
        s.timestamp_ms as f64,
    );
    // Labelled values: one family per metric, one gauge per label set.
    let mut families: std::collections::BTreeMap<String, (String, Gauges)> = Default::default();
    for p in s.db.iter().flat_map(|r| r.points(0)) {
        let labels: Labels = p.labels.into_iter().collect();
        let help = || "read from a database server on this host".to_string();
        families
            .entry(p.metric)
            .or_insert_with(|| (help(), Gauges::default()))
            .1
            .get_or_create(&labels)
            .set(p.value);
    }
    for l in &s.labelled {
        let labels = vec![(l.label.to_string(), l.value_of.clone())];
        let help = || format!("one series per {}", l.label);
        families
            .entry(l.metric.to_string())
            .or_insert_with(|| (help(), Gauges::default()))
            .1
            .get_or_create(&labels)
            .set(l.value);
    }
    for (name, (help, family)) in families {
        registry.register(name, help, family);
    }
    let mut out = String::new();
    encode(&mut out, &registry).expect("writing to a String does not fail");
    out
}

/// Samples kept for shipping: a day at the default 10 s interval.
const RING: usize = 8640;
/// Samples answered per `/samples` call.
const PAGE: usize = 200;
/// About the most bytes of JSON a `/samples` call answers (unless one sample has more):
/// the server takes batches of up to 16 MiB.
const PAGE_BYTES: usize = 4 << 20;

/// About how many bytes of JSON a sample's points and statement deltas take.
fn json_bytes(s: &Sample) -> usize {
    let sql: usize = s
        .sql
        .iter()
        .map(|d| 700 + d.sql_text.as_ref().map_or(0, String::len))
        .sum();
    let slow: usize = s.slow.iter().map(|q| 400 + q.statement.len()).sum();
    sql + slow + 150 * (16 + s.labelled.len() + s.db.iter().map(|r| r.values.len()).sum::<usize>())
}
/// Statement deltas the ring holds at most (about 200 bytes each).
pub const SQL_IN_RING: usize = 50_000;

#[derive(Default)]
struct History {
    latest: Sample,
    ring: VecDeque<Sample>,
    /// Statement deltas in the ring.
    sql_held: usize,
}

impl History {
    fn push(&mut self, s: Sample) {
        if self.ring.len() == RING {
            if let Some(old) = self.ring.pop_front() {
                self.sql_held -= old.sql.len() + old.slow.len();
            }
        }
        self.sql_held += s.sql.len() + s.slow.len();
        self.ring.push_back(s.clone());
        self.latest = s;
        if self.sql_held > SQL_IN_RING {
            let mut dropped = 0;
            for old in self.ring.iter_mut() {
                if self.sql_held <= SQL_IN_RING {
                    break;
                }
                self.sql_held -= old.sql.len() + old.slow.len();
                dropped += old.sql.len() + old.slow.len();
                old.sql = Vec::new();
                old.slow = Vec::new();
            }
            tracing::warn!(
                dropped,
                "statement statistics not yet shipped were dropped to bound the monitor's memory"
            );
        }
    }
}

/// The points of one sample, timestamped in seconds.
fn points(s: &Sample) -> Vec<MetricPoint> {
    let used = if s.memory_total > 0 {
        100.0 * (s.memory_total.saturating_sub(s.memory_available)) as f64 / s.memory_total as f64
    } else {
        0.0
    };
    [
        ("host_cpu_percent", s.cpu_percent),
        ("host_load1", s.load1),
        ("host_load5", s.load5),
        ("host_load15", s.load15),
        ("host_memory_total_bytes", s.memory_total as f64),
        ("host_memory_available_bytes", s.memory_available as f64),
        ("host_memory_used_percent", used),
        ("agent_monitor_rss_bytes", s.rss as f64),
        ("host_open_files", s.open_files as f64),
    ]
    .into_iter()
    .map(|(metric, value)| MetricPoint {
        metric: metric.into(),
        labels: Default::default(),
        timestamp: s.timestamp_ms / 1000,
        value: shown(metric, value),
    })
    .chain(s.labelled.iter().map(|l| MetricPoint {
        metric: l.metric.into(),
        labels: [(l.label.to_string(), l.value_of.clone())].into(),
        timestamp: s.timestamp_ms / 1000,
        value: shown(l.metric, l.value),
    }))
    .chain(s.db.iter().flat_map(|r| r.points(s.timestamp_ms / 1000)))
    .collect()
}

/// A host metric to the precision OCP shows it: percentages to two decimals, rates to
/// whole bytes a second. What is not measured finer packs far smaller in the server's store.
fn shown(metric: &str, value: f64) -> f64 {
    if metric.ends_with("_percent") {
        (value * 100.0).round() / 100.0
    } else if metric.ends_with("_per_second") {
        value.round()
    } else {
        value
    }
}

#[derive(Deserialize)]
struct After {
    #[serde(default)]
    after: i64,
}

/// What `/samples` answers: the points of the samples taken after `after` (oldest first, at
/// most `PAGE` samples) and the time of the last of them, the next `after`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct SamplePage {
    pub points: Vec<MetricPoint>,
    #[serde(default)]
    pub sql_stats: Vec<SqlStatDelta>,
    #[serde(default)]
    pub slow_queries: Vec<SlowQuery>,
    pub last: i64,
}

/// Samples the host every `interval`, and the statements of its database servers every
/// `statements` (rounded up to a sample).
pub async fn run(data_dir: &Path, interval: Duration, statements: Duration) -> anyhow::Result<()> {
    let history = Arc::new(Mutex::new(History::default()));
    let writer = history.clone();
    let dir = data_dir.to_path_buf();
    tokio::spawn(async move {
        let mut previous = Previous::default();
        let mut db = crate::db_monitor::DbMonitor::new(&dir);
        let mut ticker = tokio::time::interval(interval);
        let mut statements_read: Option<tokio::time::Instant> = None;
        loop {
            ticker.tick().await;
            let mut s = sample(&mut previous);
            // A little early counts, so a 15 s statement interval over 5 s samples is 15 s.
            let due = statements_read.is_none_or(|at| at.elapsed() + interval / 2 >= statements);
            if due {
                statements_read = Some(tokio::time::Instant::now());
            }
            (s.db, s.sql, s.slow) = db.sample(s.timestamp_ms, due).await;
            writer.lock().expect("sample lock").push(s);
        }
    });
    let app = Router::new()
        .route(
            agent_path::monitor::METRICS_ROUTE,
            get(|State(h): State<Arc<Mutex<History>>>| async move {
                render(&h.lock().expect("sample lock").latest)
            }),
        )
        .route(
            agent_path::monitor::SAMPLES_ROUTE,
            get(
                |State(h): State<Arc<Mutex<History>>>, Query(q): Query<After>| async move {
                    let h = h.lock().expect("sample lock");
                    let mut page = SamplePage {
                        points: Vec::new(),
                        sql_stats: Vec::new(),
                        slow_queries: Vec::new(),
                        last: q.after,
                    };
                    let mut bytes = 0;
                    for s in h
                        .ring
                        .iter()
                        .filter(|s| s.timestamp_ms > q.after)
                        .take(PAGE)
                    {
                        // A sample goes whole: the server stores its statements once.
                        let size = json_bytes(s);
                        if bytes > 0 && bytes + size > PAGE_BYTES {
                            break;
                        }
                        bytes += size;
                        page.points.extend(points(s));
                        page.sql_stats.extend(s.sql.iter().cloned());
                        page.slow_queries.extend(s.slow.iter().cloned());
                        page.last = s.timestamp_ms;
                    }
                    Json(page)
                },
            ),
        )
        .with_state(history);
    worker::serve(data_dir, MONITOR_ALIAS, app).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_render_as_openmetrics_gauges_with_escaped_labels() {
        let sample = Sample {
            load1: 0.5,
            labelled: vec![
                Labelled {
                    metric: "host_disk_used_percent",
                    label: "mount",
                    value_of: "/data \"x\"".into(),
                    value: 12.5,
                },
                Labelled {
                    metric: "host_disk_used_percent",
                    label: "mount",
                    value_of: "/".into(),
                    value: 40.0,
                },
            ],
            ..Default::default()
        };
        let text = render(&sample);
        assert!(text.contains("# TYPE host_load1 gauge\n"), "{text}");
        assert!(text.contains("\nhost_load1 0.5\n"), "{text}");
        assert!(
            text.contains(r#"host_disk_used_percent{mount="/data \"x\""} 12.5"#),
            "{text}"
        );
        assert!(
            text.contains(r#"host_disk_used_percent{mount="/"} 40.0"#),
            "{text}"
        );
        assert_eq!(
            text.matches("# TYPE host_disk_used_percent gauge").count(),
            1
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
