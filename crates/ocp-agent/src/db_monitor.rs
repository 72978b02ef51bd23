//! Database metrics: for each database server the manager runs on this host (its pidfile
//! `procs/observer-ID.json`), the monitor logs in over SQL as the host's read-only monitor
//! user (`ocp_api::agent::monitor_user`, its password derived from the host's secret) and
//! reads sessions, statements, the plan cache, memory, disk use and compaction.
//!
//! Points carry `ob_server_id` and `svr_port`; the server adds the cluster's labels.
//! A server that does not answer is skipped until it does: `ob_connectable`, which the
//! platform itself records, says whether it is up.
//!
//! At its own interval the monitor also reads each server's statement statistics
//! (`ocp_ob::SqlStatRow`: sqlstat and the plan cache, cumulative per statement and plan)
//! and turns them into what changed since the previous reading ([`SqlStatDelta`]). The
//! first reading of a server is only a baseline: what it counts may have been shipped by
//! an earlier run of the monitor. A plan seen for the first time later is new since the
//! previous reading; one whose counters went down was loaded again.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ocp_api::monitor::MetricPoint;
use ocp_api::sql::{SlowQuery, SqlCounters, SqlStatDelta};
use ocp_ob::{MonitorStats, ObClient, SqlStatRow, Target};

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
    /// None until the monitor has logged in, and again after a reading failed. What the
    /// statements counted stays: sqlstat's figures live in the server, not the session.
    client: Option<ObClient>,
    previous: Option<(i64, MonitorStats)>,
    sql: SqlWatch,
    slow: Option<SlowLog>,
}

/// A statement's plan: SQL id, plan id, plan hash.
type PlanKey = (String, i64, String);

/// A plan at a reading: its counters, its slowest execution (µs, when), and whether the
/// counters were the plan cache's ([`SqlStatRow::cached`]).
struct Seen {
    counters: SqlCounters,
    slowest: Option<(i64, i64)>,
    cached: bool,
}

/// A text is sent again after this long, so a server that lost it (or a text lost with a
/// sample the monitor's ring dropped) gets it back.
const TEXT_AGAIN_MS: i64 = 3_600_000;

/// The most statements shipped of one reading of a server: those that took longest.
const MAX_DELTAS: usize = 5_000;

/// The longest text sent (the server takes 64 KiB).
const MAX_TEXT: usize = 60 * 1024;

/// `text` cut to at most `max` bytes, at a character boundary.
fn cut(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// What the previous statement reading of a server held, and when each text was sent.
#[derive(Default)]
struct SqlWatch {
    previous: Option<HashMap<PlanKey, Seen>>,
    texts_sent: HashMap<String, i64>,
    /// The SQL id, database and user of each plan id of the latest reading.
    plans: HashMap<i64, (String, String, String)>,
}

impl SqlWatch {
    /// What changed since the previous reading, at `at_ms`; the first reading answers
    /// nothing.
    fn deltas(&mut self, server_id: i64, rows: Vec<SqlStatRow>, at_ms: i64) -> Vec<SqlStatDelta> {
        let mut current = HashMap::with_capacity(rows.len());
        let mut out = Vec::new();
        let baseline = self.previous.is_none();
        let previous = self.previous.take().unwrap_or_default();
        self.plans.clear();
        for row in rows {
            if row.plan_id > 0 {
                self.plans.insert(
                    row.plan_id,
                    (
                        row.sql_id.clone(),
                        row.db_name.clone(),
                        row.user_name.clone(),
                    ),
                );
            }
            let key = (row.sql_id.clone(), row.plan_id, row.plan_hash.clone());
            let before = previous.get(&key);
            current.insert(
                key,
                Seen {
                    counters: row.counters,
                    slowest: row.slowest,
                    cached: row.cached,
                },
            );
            if baseline {
                continue;
            }
            let counters = match before {
                // Counters that went down mean the plan was loaded again...
                Some(then) if then.cached == row.cached => row.counters.since(&then.counters),
                // ...unless they were read from the other source: sqlstat counts an
                // execution when it starts, the plan cache when it ends.
                Some(then) => row.counters.grown_since(&then.counters),
                None => row.counters,
            };
            if counters.is_zero() {
                continue;
            }
            // The slowest execution is new if it changed since the previous reading.
            let max_elapsed_us = match (row.slowest, before.and_then(|b| b.slowest)) {
                (Some(now), Some(then)) if now == then => None,
                (Some((usec, _)), _) => Some(usec),
                (None, _) => None,
            };
            out.push(SqlStatDelta {
                ob_server_id: server_id,
                timestamp: at_ms / 1000,
                inner: row.db_id == ocp_ob::INNER_DB_ID
                    || ocp_api::agent::is_platform_user(&row.user_name),
                sql_id: row.sql_id,
                plan_id: row.plan_id,
                plan_hash: row.plan_hash,
                db_name: row.db_name,
                user_name: row.user_name,
                plan_type: row.plan_type,
                table_scan: row.table_scan,
                sql_text: Some(row.query_sql),
                counters,
                max_elapsed_us,
            });
        }
        if out.len() > MAX_DELTAS {
            out.sort_by_key(|d| std::cmp::Reverse(d.counters.elapsed_us));
            out.truncate(MAX_DELTAS);
        }
        for d in &mut out {
            let due = self
                .texts_sent
                .get(&d.sql_id)
                .is_none_or(|sent| at_ms - sent >= TEXT_AGAIN_MS);
            let text = d.sql_text.take().unwrap_or_default();
            if due {
                self.texts_sent.insert(d.sql_id.clone(), at_ms);
                d.sql_text = Some(cut(&text, MAX_TEXT).to_string());
            }
        }
        // Texts of statements gone from the server are forgotten with them.
        let present: std::collections::HashSet<&str> =
            current.keys().map(|(id, _, _)| id.as_str()).collect();
        self.texts_sent
            .retain(|sql_id, _| present.contains(sql_id.as_str()));
        self.previous = Some(current);
        out
    }
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

/// Follows a server's `log/seekdb.log` for `[slow query]` lines: from its end when first
/// seen (what came before was shipped by an earlier run, or is history), then across
/// rotations: a renamed file keeps its inode, so the rest of the old file is read first.
struct SlowLog {
    dir: PathBuf,
    at: Option<(u64, u64)>,
    partial: Vec<u8>,
}

/// Bytes of log read at most per reading; the rest waits for the next.
const LOG_READ: u64 = 16 << 20;
/// The longest statement kept of a slow execution.
const MAX_STATEMENT: usize = 4096;

impl SlowLog {
    fn new(home: &Path) -> Self {
        let mut log = Self {
            dir: home.join("log"),
            at: None,
            partial: Vec::new(),
        };
        log.at = log.current();
        log
    }

    fn current(&self) -> Option<(u64, u64)> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(self.dir.join("seekdb.log")).ok()?;
        Some((meta.ino(), meta.len()))
    }

    /// The `[slow query]` lines written since the last call.
    fn new_lines(&mut self) -> Vec<String> {
        use std::os::unix::fs::MetadataExt;
        let Some((inode, len)) = self.current() else {
            return Vec::new();
        };
        let mut bytes = Vec::new();
        match self.at {
            Some((old, offset)) if old != inode => {
                // Rotated: the rest of the old file, wherever it went, then the new one.
                let rotated = std::fs::read_dir(&self.dir)
                    .into_iter()
                    .flatten()
                    .find_map(|e| {
                        let e = e.ok()?;
                        (e.metadata().ok()?.ino() == old).then(|| e.path())
                    });
                if let Some(path) = rotated {
                    read_range(&path, offset, u64::MAX, &mut bytes);
                }
                if !bytes.ends_with(b"\n") {
                    bytes.push(b'\n');
                }
                read_range(&self.dir.join("seekdb.log"), 0, len, &mut bytes);
                self.at = Some((inode, len.min(LOG_READ)));
            }
            Some((_, offset)) if len >= offset => {
                let until = len.min(offset + LOG_READ);
                read_range(&self.dir.join("seekdb.log"), offset, until, &mut bytes);
                self.at = Some((inode, until));
            }
            // Truncated, or first seen now.
            _ => {
                self.at = Some((inode, len));
                self.partial.clear();
                return Vec::new();
            }
        }
        let mut all = std::mem::take(&mut self.partial);
        all.extend_from_slice(&bytes);
        let complete = all.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
        self.partial = all[complete..].to_vec();
        if self.partial.len() > 1 << 20 {
            self.partial.clear();
        }
        String::from_utf8_lossy(&all[..complete])
            .lines()
            .filter(|l| l.contains("[slow query]"))
            .map(str::to_string)
            .collect()
    }
}

fn read_range(path: &Path, from: u64, until: u64, out: &mut Vec<u8>) {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(path) else {
        return;
    };
    if file.seek(SeekFrom::Start(from)).is_ok() {
        let _ = file
            .take(until.saturating_sub(from).min(LOG_READ))
            .read_to_end(out);
    }
}

/// The text after `key` in `line`, up to the first of `|,)}` or a quote.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let at = line.find(key)? + key.len();
    let rest = &line[at..];
    let end = rest.find(['|', ',', ')', '}', '"']).unwrap_or(rest.len());
    Some(rest[..end].trim())
}

/// One `[slow query]` line of seekdb's trace log as a slow execution of server `server_id`.
fn parse_slow_query(server_id: i64, line: &str) -> Option<SlowQuery> {
    let trace = &line[line.find("[slow query]")?..];
    let begin_us: i64 = field(trace, "begin_ts=")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let statement = {
        let start = trace.find("stmt:\"")? + 6;
        let len_at = trace.rfind("\", stmt_len:")?;
        let len: usize = field(&trace[len_at..], "stmt_len:")?.parse().ok()?;
        let end = (start + len).min(len_at);
        let mut end = end.max(start);
        while !trace.is_char_boundary(end) {
            end -= 1;
        }
        cut(&trace[start..end], MAX_STATEMENT).to_string()
    };
    let ip = field(trace, "addr:{ip:\"").unwrap_or("");
    let port = field(trace, "port:").unwrap_or("");
    let number = |key: &str| field(trace, key).and_then(|v| v.parse::<i64>().ok());
    Some(SlowQuery {
        ob_server_id: server_id,
        request_time: begin_us / 1000,
        trace_id: field(trace, "trace_id:")?.to_string(),
        session_id: number("sid:").unwrap_or(0),
        client: format!("{ip}:{port}"),
        plan_id: trace
            .find("[plan_id]")
            .and_then(|at| field(&trace[at..], "plan_id:"))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        sql_id: None,
        db_name: None,
        user_name: None,
        statement,
        elapsed_us: number("total_timeu=")?,
        return_rows: number("return_rows:").filter(|v| *v >= 0),
        affected_rows: number("affected_rows:").filter(|v| *v >= 0),
    })
}

impl DbMonitor {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
            watched: HashMap::new(),
        }
    }

    /// One reading of every running server at `timestamp_ms`, and with `statements` what
    /// their statements did since the previous such reading and the slow executions their
    /// logs recorded since.
    pub async fn sample(
        &mut self,
        timestamp_ms: i64,
        statements: bool,
    ) -> (Vec<DbReading>, Vec<SqlStatDelta>, Vec<SlowQuery>) {
        let Ok(Some(credentials)) = crate::config::load_credentials(&self.data_dir) else {
            return Default::default();
        };
        let running = servers(&self.data_dir);
        self.watched.retain(|id, w| {
            running
                .iter()
                .any(|(r, _, port)| r == id && *port == w.port)
        });
        let mut points = Vec::new();
        let mut sql = Vec::new();
        let mut slow = Vec::new();
        for (id, pid, port) in running {
            let w = self.watched.entry(id).or_insert_with(|| Watched {
                port,
                client: None,
                previous: None,
                sql: SqlWatch::default(),
                slow: procinfo::cwd(pid).map(|home| SlowLog::new(Path::new(&home))),
            });
            if w.client.is_none() {
                let target = Target {
                    host: "127.0.0.1".into(),
                    port,
                    user: ocp_api::agent::monitor_user(credentials.host_id),
                    password: ocp_api::agent::monitor_password(&credentials.secret),
                };
                match ObClient::connect(&target, CONNECT_TIMEOUT).await {
                    Ok(c) => w.client = Some(c.with_statement_timeout(STATEMENT_TIMEOUT)),
                    Err(err) => {
                        tracing::debug!("monitor cannot log in to server {id}: {err}");
                        continue;
                    }
                }
            }
            let Some(client) = w.client.as_mut() else {
                continue;
            };
            let stats = match client.monitor_stats().await {
                Ok(stats) => stats,
                Err(e) => {
                    // Logged in again next time; a rate needs two readings of one run.
                    tracing::debug!("monitor reading server {id}: {e}");
                    w.client = None;
                    w.previous = None;
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
            if statements {
                match client.sql_stats().await {
                    Ok(rows) => sql.extend(w.sql.deltas(id, rows, timestamp_ms)),
                    Err(e) => tracing::debug!("monitor reading statements of server {id}: {e}"),
                }
                if let Some(log) = &mut w.slow {
                    for line in log.new_lines() {
                        if let Some(mut q) = parse_slow_query(id, &line) {
                            if let Some((sql_id, db, user)) = w.sql.plans.get(&q.plan_id) {
                                q.sql_id = Some(sql_id.clone());
                                q.db_name = Some(db.clone()).filter(|d| !d.is_empty());
                                q.user_name = Some(user.clone());
                            }
                            slow.push(q);
                        }
                    }
                }
            }
        }
        (points, sql, slow)
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
    ];
    if let Some((running, idle_s)) = s.compaction {
        out.push(("ob_compaction_running", f64::from(u8::from(running))));
        out.push(("ob_no_compaction_seconds", idle_s.max(0.0)));
    }
    if let Some(delay) = s.standby_delay_seconds {
        out.push(("ob_sync_delay_time", delay));
    }
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
    fn a_slow_query_line_is_read_whole() {
        let line = r#"[2026-12-03 08:04:35.594516] TRACE [TRACE] after_process (obmp_base.cpp:111) [2896][T1_ReqWorker][YB427F000001-000661B60EAD5723-0-0] [lt=42] [slow query](TRACE=begin_ts=1796285075342177 2026-12-03 08:04:35.342177|[process_begin] u=0 in_queue_time:30, receive_ts:1796285075342146, enqueue_ts:1796285075342148|[start_sql] u=0 addr:{ip:"127.0.0.1", port:44492}|[query_begin] u=1 trace_id:YB427F000001-000661B60EAD5723-0-0|[before_processor_run] u=4 |[session] u=6 sid:2836|[parse_begin] u=84 |[plan_id] u=228 plan_id:222|[stmt_query_end] u=4 stmt:"select sleep(0.25), 'a|b'", stmt_len:25|[affected_rows] u=0 affected_rows:-1|[store_found_rows] u=1 found_rows:0, return_rows:1|[process_end] u=117 run_ts:1796285075342182|total_timeu=252336)"#;
        let q = parse_slow_query(4, line).unwrap();
        assert_eq!(q.request_time, 1796285075342);
        assert_eq!(q.trace_id, "YB427F000001-000661B60EAD5723-0-0");
        assert_eq!(q.session_id, 2836);
        assert_eq!(q.client, "127.0.0.1:44492");
        assert_eq!(q.plan_id, 222);
        assert_eq!(q.statement, "select sleep(0.25), 'a|b'");
        assert_eq!(q.elapsed_us, 252336);
        assert_eq!((q.return_rows, q.affected_rows), (Some(1), None));
        assert!(parse_slow_query(4, "[2026-12-03 08:04:35.594516] INFO nothing").is_none());
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

    fn plan(executions: i64, elapsed_us: i64, cached: bool) -> SqlStatRow {
        SqlStatRow {
            sql_id: "AB".into(),
            plan_id: 7,
            plan_hash: "1".into(),
            counters: SqlCounters {
                executions,
                elapsed_us,
                ..Default::default()
            },
            cached,
            ..Default::default()
        }
    }

    #[test]
    fn a_plan_counts_each_execution_once_whichever_source_its_figures_came_from() {
        let mut watch = SqlWatch::default();
        assert!(watch.deltas(1, vec![], 1_000).is_empty(), "a baseline");
        // New since the baseline, read from sqlstat: one execution still running.
        let first = watch.deltas(1, vec![plan(26, 9_000, false)], 2_000);
        assert_eq!(first[0].counters.executions, 26);
        // Then from the plan cache, whose time of the same executions is lower.
        let second = watch.deltas(1, vec![plan(50, 8_000, true)], 3_000);
        assert_eq!(second[0].counters.executions, 24);
        assert_eq!(second[0].counters.elapsed_us, 0);
        // Counters that go down in one source: the plan was loaded again.
        let third = watch.deltas(1, vec![plan(3, 100, true)], 4_000);
        assert_eq!(third[0].counters.executions, 3);
    }
}
