//! The monitor worker (`ocp_monagent`): samples the host's CPU, load and memory at an
//! interval, serves the latest sample in Prometheus text format on `GET /metrics`, and keeps
//! the last day of samples (a bounded ring) for the supervisor to ship to the server
//! (`GET /samples?after=MS`), so a server outage shorter than that loses nothing.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use ocp_api::agent::MONITOR_ALIAS;
use ocp_api::monitor::MetricPoint;
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
    timestamp_ms: i64,
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

fn sample(previous: &mut Option<(u64, u64)>) -> Sample {
    let now = cpu_jiffies();
    let cpu_percent = match (*previous, now) {
        (Some((b0, t0)), Some((b1, t1))) if t1 > t0 => (b1 - b0) as f64 * 100.0 / (t1 - t0) as f64,
        _ => 0.0,
    };
    *previous = now;
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
        timestamp_ms: crate::server_link::now_ms(),
    }
}

fn render(s: &Sample) -> String {
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, value: f64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
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
    gauge(
        "agent_sample_timestamp_ms",
        "when the sample was taken",
        s.timestamp_ms as f64,
    );
    out
}

/// Samples kept for shipping: a day at the default 10 s interval.
const RING: usize = 8640;
/// Samples answered per `/samples` call.
const PAGE: usize = 1000;

#[derive(Default)]
struct History {
    latest: Sample,
    ring: VecDeque<Sample>,
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
    ]
    .into_iter()
    .map(|(metric, value)| MetricPoint {
        metric: metric.into(),
        labels: Default::default(),
        timestamp: s.timestamp_ms / 1000,
        value,
    })
    .collect()
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
    pub last: i64,
}

pub async fn run(data_dir: &Path, interval: Duration) -> anyhow::Result<()> {
    let history = Arc::new(Mutex::new(History::default()));
    let writer = history.clone();
    tokio::spawn(async move {
        let mut previous = None;
        let mut ticker = tokio::time::interval(interval);
        loop {
            ticker.tick().await;
            let s = sample(&mut previous);
            let mut h = writer.lock().expect("sample lock");
            if h.ring.len() == RING {
                h.ring.pop_front();
            }
            h.ring.push_back(s.clone());
            h.latest = s;
        }
    });
    let app = Router::new()
        .route(
            "/metrics",
            get(|State(h): State<Arc<Mutex<History>>>| async move {
                render(&h.lock().expect("sample lock").latest)
            }),
        )
        .route(
            "/samples",
            get(
                |State(h): State<Arc<Mutex<History>>>, Query(q): Query<After>| async move {
                    let h = h.lock().expect("sample lock");
                    let mut page = SamplePage {
                        points: Vec::new(),
                        last: q.after,
                    };
                    for s in h
                        .ring
                        .iter()
                        .filter(|s| s.timestamp_ms > q.after)
                        .take(PAGE)
                    {
                        page.points.extend(points(s));
                        page.last = s.timestamp_ms;
                    }
                    Json(page)
                },
            ),
        )
        .with_state(history);
    worker::serve(data_dir, MONITOR_ALIAS, app).await
}
