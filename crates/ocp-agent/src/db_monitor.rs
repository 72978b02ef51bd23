//! Database metrics: for each database server the manager runs on this host (its pidfile
//! `procs/observer-ID.json`), the monitor logs in over SQL as the host's read-only monitor
//! user (`ocp_api::agent::monitor_user`, its password derived from the host's secret) and
//! reads sessions, statements, the plan cache, memory, disk use and compaction.
//!
//! Points carry `ob_server_id` and `svr_port`; the server adds the cluster's labels.
//! A server that does not answer is skipped until it does: `ob_connectable`, which the
//! platform itself records, says whether it is up.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ocp_api::monitor::MetricPoint;
use ocp_ob::{MonitorStats, ObClient, Target};

use crate::procinfo;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);

/// One server's reading, kept compact: a day of them stays in the monitor's ring.
#[derive(Debug, Clone)]
pub struct DbReading {
    pub server_id: i64,
    pub port: u16,
    pub values: Vec<(&'static str, f64)>,
}

impl DbReading {
    pub fn points(&self, timestamp: i64) -> impl Iterator<Item = MetricPoint> + '_ {
        let labels = BTreeMap::from([
            ("ob_server_id".to_string(), self.server_id.to_string()),
            ("svr_port".to_string(), self.port.to_string()),
        ]);
        self.values.iter().map(move |(metric, value)| MetricPoint {
            metric: (*metric).into(),
            labels: labels.clone(),
            timestamp,
            value: *value,
        })
    }
}

struct Watched {
    port: u16,
    client: ObClient,
    previous: Option<(i64, MonitorStats)>,
}

pub struct DbMonitor {
    data_dir: PathBuf,
    watched: HashMap<i64, Watched>,
}

/// A running database server of this host: (server id, pid, SQL port).
fn servers(data_dir: &Path) -> Vec<(i64, i32, u16)> {
    let prefix = ocp_api::agent::observer_process(0);
    let prefix = prefix.trim_end_matches('0');
    crate::manager::running_processes(data_dir)
        .into_iter()
        .filter_map(|(name, pid, command)| {
            let id = name.strip_prefix(prefix)?.parse::<i64>().ok()?;
            // An adopted process's pidfile holds what it was started with; /proc is surer.
            let line = procinfo::command_line(pid).unwrap_or(command);
            Some((id, pid, sql_port(&line)?))
        })
        .collect()
}

/// The value of `--port` (or `-P`) in a command line.
fn sql_port(command: &str) -> Option<u16> {
    let words: Vec<&str> = command.split_whitespace().collect();
    words.iter().enumerate().find_map(|(i, w)| {
        if let Some(v) = w.strip_prefix("--port=") {
            return v.parse().ok();
        }
        (*w == "--port" || *w == "-P")
            .then(|| words.get(i + 1)?.parse().ok())
            .flatten()
    })
}

impl DbMonitor {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
            watched: HashMap::new(),
        }
    }

    /// One reading of every running server at `timestamp_ms`.
    pub async fn sample(&mut self, timestamp_ms: i64) -> Vec<DbReading> {
        let Ok(Some(credentials)) = crate::config::load_credentials(&self.data_dir) else {
            return Vec::new();
        };
        let running = servers(&self.data_dir);
        self.watched.retain(|id, w| {
            running
                .iter()
                .any(|(r, _, port)| r == id && *port == w.port)
        });
        let mut points = Vec::new();
        for (id, pid, port) in running {
            let w = match self.watched.entry(id) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let target = Target {
                        host: "127.0.0.1".into(),
                        port,
                        user: ocp_api::agent::monitor_user(credentials.host_id),
                        password: ocp_api::agent::monitor_password(&credentials.secret),
                    };
                    match ObClient::connect(&target, CONNECT_TIMEOUT).await {
                        Ok(client) => e.insert(Watched {
                            port,
                            client: client.with_statement_timeout(STATEMENT_TIMEOUT),
                            previous: None,
                        }),
                        Err(err) => {
                            tracing::debug!("monitor cannot log in to server {id}: {err}");
                            continue;
                        }
                    }
                }
            };
            let stats = match w.client.monitor_stats().await {
                Ok(stats) => stats,
                Err(e) => {
                    tracing::debug!("monitor reading server {id}: {e}");
                    self.watched.remove(&id);
                    continue;
                }
            };
            let rss = procinfo::rss_bytes(pid).unwrap_or(0) as f64;
            points.push(DbReading {
                server_id: id,
                port,
                values: readings(&stats, w.previous.as_ref(), timestamp_ms, rss),
            });
            w.previous = Some((timestamp_ms, stats));
        }
        points
    }
}

fn percent(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        100.0 * part / whole
    } else {
        0.0
    }
}

/// The metrics of one reading; rates need the previous one.
fn readings(
    s: &MonitorStats,
    previous: Option<&(i64, MonitorStats)>,
    at_ms: i64,
    rss: f64,
) -> Vec<(&'static str, f64)> {
    let mut out = vec![
        ("ob_session_num", s.sessions),
        ("ob_active_session_num", s.active_sessions),
        ("ob_plan_cache_plans", s.plans),
        ("ob_plan_cache_bytes", s.plan_bytes),
        ("ob_memory_limit_bytes", s.memory_limit),
        ("ob_process_rss_bytes", rss),
        ("ob_data_disk_used_bytes", s.data_disk_used),
        ("ob_data_disk_total_bytes", s.data_disk_total),
        (
            "ob_data_disk_used_percent",
            percent(s.data_disk_used, s.data_disk_total),
        ),
        ("ob_log_disk_used_bytes", s.log_disk_used),
        ("ob_log_disk_total_bytes", s.log_disk_total),
        (
            "ob_log_disk_used_percent",
            percent(s.log_disk_used, s.log_disk_total),
        ),
        ("ob_compaction_running", f64::from(u8::from(s.compacting))),
        ("ob_no_compaction_seconds", s.no_compaction_seconds.max(0.0)),
    ];
    if let Some((then, p)) = previous {
        let seconds = (at_ms - then) as f64 / 1000.0;
        let executions = (s.executions - p.executions).max(0.0);
        if seconds > 0.0 {
            out.push(("ob_sql_qps", executions / seconds));
            out.push((
                "ob_sql_avg_response_us",
                if executions > 0.0 {
                    (s.elapsed_us - p.elapsed_us).max(0.0) / executions
                } else {
                    0.0
                },
            ));
            out.push((
                "ob_plan_cache_hit_percent",
                percent((s.plan_hits - p.plan_hits).max(0.0), executions),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_is_read_from_the_command_line() {
        assert_eq!(
            sql_port("/x/seekdb --nodaemon --port 2881 --base-dir /d"),
            Some(2881)
        );
        assert_eq!(sql_port("observer -P 2882 -p 2881"), Some(2882));
        assert_eq!(sql_port("seekdb --port=3306"), Some(3306));
        assert_eq!(sql_port("seekdb --nodaemon"), None);
    }

    #[test]
    fn rates_come_from_two_readings() {
        let first = MonitorStats {
            executions: 100.0,
            elapsed_us: 1000.0,
            plan_hits: 90.0,
            ..Default::default()
        };
        let second = MonitorStats {
            executions: 300.0,
            elapsed_us: 5000.0,
            plan_hits: 280.0,
            ..Default::default()
        };
        let values: HashMap<&str, f64> = readings(&second, Some(&(0, first)), 2000, 0.0)
            .into_iter()
            .collect();
        assert_eq!(values["ob_sql_qps"], 100.0);
        assert_eq!(values["ob_sql_avg_response_us"], 20.0);
        assert_eq!(values["ob_plan_cache_hit_percent"], 95.0);
    }
}
