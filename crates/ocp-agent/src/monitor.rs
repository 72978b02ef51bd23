//! The monitor worker (`ocp_monagent`): samples the host's CPU, load and memory at an
//! interval and serves the latest sample in Prometheus text format on `GET /metrics`.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use ocp_api::agent::MONITOR_ALIAS;

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

pub async fn run(data_dir: &Path, interval: Duration) -> anyhow::Result<()> {
    let latest = Arc::new(Mutex::new(Sample::default()));
    let writer = latest.clone();
    tokio::spawn(async move {
        let mut previous = None;
        let mut ticker = tokio::time::interval(interval);
        loop {
            ticker.tick().await;
            let s = sample(&mut previous);
            *writer.lock().expect("sample lock") = s;
        }
    });
    let app = Router::new()
        .route(
            "/metrics",
            get(|State(latest): State<Arc<Mutex<Sample>>>| async move {
                render(&latest.lock().expect("sample lock"))
            }),
        )
        .with_state(latest);
    worker::serve(data_dir, MONITOR_ALIAS, app).await
}
