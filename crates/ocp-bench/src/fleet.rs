//! A fleet of simulated agents on one server: each joins with its own token, then every
//! `interval` sends a signed heartbeat and a batch of host metrics (29 series: the
//! host-wide ones and four per mount), spread evenly over the interval. Meanwhile an
//! operator opens the host list and a host's page. Printed: refused or lost batches,
//! heartbeat and batch latency, the operator's pages, the server's CPU and RSS, and how long
//! the alert engine's host rules take against their interval.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use ocp_api::agent::signed_headers;
use ocp_api::agent_path::server::{HEARTBEAT, METRICS};
use ocp_testkit::{ServerOptions, ServerProcess};
use serde_json::{json, Value};

use crate::agents::{cpu_ticks, rss_kib};
use crate::{record, report, Better};

/// Senders: each owns every `SENDERS`-th agent and walks them in phase order.
const SENDERS: usize = 256;
const MOUNTS: [&str; 5] = ["/", "/data", "/log", "/home", "/var"];

pub(crate) struct Agent {
    pub host_id: i64,
    pub secret: String,
}

#[derive(Default)]
struct Tally {
    heartbeats: Vec<f64>,
    batches: Vec<f64>,
    refused: Vec<String>,
    points_sent: u64,
    points_stored: u64,
    late: usize,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// One batch of `host`'s metrics at `ts`; values drift with `round` so that packing sees
/// realistic series.
fn batch(host: usize, round: u64, ts: i64) -> Value {
    let wobble = |k: usize| ((host * 31 + k * 17 + round as usize * 7) % 100) as f64;
    let mut points = vec![
        json!({"metric": "host_cpu_percent", "timestamp": ts, "value": wobble(1) / 2.0}),
        json!({"metric": "host_memory_used_percent", "timestamp": ts, "value": 40.0 + wobble(2) / 10.0}),
        json!({"metric": "host_memory_available_bytes", "timestamp": ts, "value": 8.0e9 - wobble(3) * 4096.0}),
        json!({"metric": "host_memory_total_bytes", "timestamp": ts, "value": 16.0e9}),
        json!({"metric": "host_open_files", "timestamp": ts, "value": 2000.0 + wobble(4)}),
        json!({"metric": "host_agent_res_memory_bytes", "timestamp": ts, "value": 2.0e7 + wobble(5) * 4096.0}),
        json!({"metric": "host_agent_open_fd_count", "timestamp": ts, "value": 30.0 + wobble(6) / 20.0}),
        json!({"metric": "host_net_recv_bytes_per_second", "timestamp": ts, "value": wobble(7) * 1000.0}),
        json!({"metric": "host_net_send_bytes_per_second", "timestamp": ts, "value": wobble(8) * 1000.0}),
    ];
    for (m, mount) in MOUNTS.iter().enumerate() {
        let labels = json!({ "mount": mount });
        for (metric, value) in [
            ("host_disk_used_percent", 20.0 + wobble(10 + m) / 4.0),
            ("host_disk_free_bytes", 1.0e11 - wobble(20 + m) * 1.0e6),
            ("host_disk_read_bytes_per_second", wobble(30 + m) * 4096.0),
            ("host_disk_write_bytes_per_second", wobble(40 + m) * 4096.0),
        ] {
            points
                .push(json!({"metric": metric, "labels": labels, "timestamp": ts, "value": value}));
        }
    }
    json!({ "points": points })
}

pub(crate) fn heartbeat(host_id: i64) -> Value {
    json!({"report": {"hostId": host_id, "version": "sim", "installHome": "/", "logHome": "/",
        "processes": [{"alias": "ocp_mgragent", "pid": 1, "user": "root", "startCommand": "x",
            "ports": "", "elapsedSeconds": 1, "status": "STARTED", "operable": true,
            "logFilePattern": "x"}]}})
}

/// Sends one signed call; answers (milliseconds, status, body).
async fn signed(
    client: &reqwest::Client,
    base: &str,
    agent: &Agent,
    path: &str,
    body: &Value,
) -> (f64, u16, Value) {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let nonce = format!("{:016x}{:08x}", rand_u64(), agent.host_id);
    let now = ocp_api::time::now_millis();
    let mut request = client
        .post(format!("{base}{path}"))
        .header("content-type", "application/json");
    for (k, v) in signed_headers(
        &agent.secret,
        agent.host_id,
        "POST",
        path,
        &bytes,
        now,
        &nonce,
    ) {
        request = request.header(k, v);
    }
    let started = Instant::now();
    match request.body(bytes).send().await {
        Ok(reply) => {
            let status = reply.status().as_u16();
            let body = reply.json::<Value>().await.unwrap_or(Value::Null);
            (started.elapsed().as_secs_f64() * 1e3, status, body)
        }
        Err(e) => (
            started.elapsed().as_secs_f64() * 1e3,
            0,
            Value::String(e.to_string()),
        ),
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

/// Joins `count` agents, a few at a time, each with its own one-time token.
pub(crate) async fn join_all(server: &ServerProcess, count: usize) -> anyhow::Result<Vec<Agent>> {
    let admin = server.admin();
    let client = reqwest::Client::new();
    let url = server.url().to_string();
    let joined: Vec<anyhow::Result<Agent>> = futures::stream::iter(0..count)
        .map(|i| {
            let (admin, client, url) = (admin.clone(), client.clone(), url.clone());
            async move {
                let token = admin
                    .post("/api/v2/compute/agentJoinTokens", &json!({}))
                    .await
                    .ok();
                let ip = format!("127.2.{}.{}", i / 250, i % 250 + 1);
                let join = json!({"token": token.data()["token"], "innerIpAddress": ip, "port": 9,
                    "version": "sim", "installHome": "/", "logHome": "/",
                    "facts": {"hostname": format!("sim{i}"), "kernel": "k", "osRelease": "r",
                        "architecture": "x86_64", "cpuCount": 1, "memoryBytes": 1, "disks": []}});
                let reply: Value = client
                    .post(format!("{url}/api/v2/agents/join"))
                    .json(&join)
                    .send()
                    .await?
                    .json()
                    .await?;
                let data = &reply["data"];
                anyhow::ensure!(data["hostId"].is_i64(), "join {i} refused: {reply}");
                Ok(Agent {
                    host_id: data["hostId"].as_i64().unwrap_or(0),
                    secret: data["secret"].as_str().unwrap_or("").to_string(),
                })
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    joined.into_iter().collect()
}

/// Waits until no task is left running or waiting: the simulated hosts' Prepare tasks fail
/// (nothing answers at their addresses).
async fn settle(server: &ServerProcess) {
    let admin = server.admin();
    let deadline = Instant::now() + Duration::from_secs(600);
    while Instant::now() < deadline {
        let running = admin
            .get("/api/v2/tasks/instances?status=RUNNING&size=1")
            .await
            .ok();
        if running.data()["page"]["totalElements"].as_i64() == Some(0) {
            return;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// What the operator sees meanwhile: the host list, a host's page and its charts.
async fn operator(
    server: &ServerProcess,
    hosts: Vec<i64>,
    until: Instant,
) -> [(&'static str, Vec<f64>); 3] {
    let admin = server.admin();
    let (mut list, mut page, mut charts) = (Vec::new(), Vec::new(), Vec::new());
    let mut i = 0usize;
    while Instant::now() < until {
        let host = hosts[(i * 7919) % hosts.len()];
        i += 1;
        let timed = |path: String| {
            let admin = admin.clone();
            async move {
                let started = Instant::now();
                let reply = admin.get(&path).await;
                let ms = started.elapsed().as_secs_f64() * 1e3;
                (ms, reply.status)
            }
        };
        let (ms, _) = timed("/api/v2/compute/hosts?page=1&size=10&sort=id,desc".into()).await;
        list.push(ms);
        let (ms, _) = timed(format!("/api/v2/compute/hosts/{host}")).await;
        page.push(ms);
        let end = chrono::Utc::now();
        let start = end - chrono::Duration::hours(1);
        let (ms, _) = timed(format!(
            "/api/v2/monitor/metric?metrics=host_cpu_percent,host_memory_used_percent&groupBy=host_id&labels=host_id:{host}&interval=60&startTime={}&endTime={}",
            start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ))
        .await;
        charts.push(ms);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    [
        ("host list", list),
        ("host page", page),
        ("host charts (1 h)", charts),
    ]
}

/// The alert engine's slowest evaluation of each host rule, against its interval, from the
/// server's `/metrics`.
async fn rule_times(server: &ServerProcess) -> Vec<(String, f64, f64)> {
    let text = server.admin().get("/metrics").await.text;
    let mut out: Vec<(String, f64, f64)> = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("ocp_alarm_rule_evaluation_max_seconds{") else {
            continue;
        };
        let Some((labels, value)) = rest.split_once("} ") else {
            continue;
        };
        let field = |name: &str| {
            labels
                .split(',')
                .find_map(|kv| kv.strip_prefix(&format!("{name}=\"")))
                .map(|v| v.trim_end_matches('"').to_string())
        };
        let (Some(rule), Some(interval)) = (field("rule"), field("interval")) else {
            continue;
        };
        if !rule.contains("host") {
            continue;
        }
        out.push((
            rule,
            value.parse().unwrap_or(0.0),
            interval.parse().unwrap_or(0.0),
        ));
    }
    out
}

pub async fn fleet(
    label: &str,
    metadb: Option<String>,
    agents: usize,
    interval: Duration,
    window: Duration,
) -> anyhow::Result<()> {
    let mut options = ServerOptions {
        metadb,
        ..ServerOptions::default()
    };
    options.extra_args.extend([
        "--log".into(),
        "warn".into(),
        "--agent-heartbeat-timeout-ms".into(),
        "60000".into(),
    ]);
    let server = ServerProcess::start(options)?;
    let joining = Instant::now();
    let fleet = Arc::new(join_all(&server, agents).await?);
    let joined = joining.elapsed().as_secs_f64();
    settle(&server).await;
    report(format!(
        "fleet ({label}): {agents} agents joined in {joined:.0} s, their Prepare tasks done after {:.0} s",
        joining.elapsed().as_secs_f64()
    ));

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(SENDERS)
        .timeout(Duration::from_secs(30))
        .build()?;
    let base = server.url().to_string();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let pid = server.pid().unwrap_or(0);
    let started = Instant::now();
    let until = started + window;
    let ticks_before = cpu_ticks(pid);
    let mut senders = Vec::new();
    for s in 0..SENDERS {
        let (client, base, fleet, tally) =
            (client.clone(), base.clone(), fleet.clone(), tally.clone());
        senders.push(tokio::spawn(async move {
            let mut mine = Tally::default();
            let mut round = 0u64;
            'rounds: loop {
                for i in (s..fleet.len()).step_by(SENDERS) {
                    let due = interval.mul_f64(round as f64 + i as f64 / fleet.len() as f64);
                    let at = started + due;
                    if at >= until {
                        break 'rounds;
                    }
                    match at.checked_duration_since(Instant::now()) {
                        Some(wait) => tokio::time::sleep(wait).await,
                        None => mine.late += usize::from(at.elapsed() > interval / 2),
                    }
                    let agent = &fleet[i];
                    let (ms, status, body) =
                        signed(&client, &base, agent, HEARTBEAT, &heartbeat(agent.host_id)).await;
                    mine.heartbeats.push(ms);
                    if status != 200 {
                        mine.refused.push(format!("heartbeat {status}: {body}"));
                    }
                    let ts = chrono::Utc::now().timestamp();
                    let points = batch(i, round, ts);
                    let sent = points["points"].as_array().map_or(0, Vec::len) as u64;
                    let (ms, status, body) = signed(&client, &base, agent, METRICS, &points).await;
                    mine.batches.push(ms);
                    mine.points_sent += sent;
                    if status == 200 {
                        mine.points_stored += body["data"]["stored"].as_u64().unwrap_or(0);
                    } else {
                        mine.refused.push(format!("batch {status}: {body}"));
                    }
                }
                round += 1;
            }
            let mut all = tally.lock().expect("tally");
            all.heartbeats.append(&mut mine.heartbeats);
            all.batches.append(&mut mine.batches);
            all.refused.append(&mut mine.refused);
            all.points_sent += mine.points_sent;
            all.points_stored += mine.points_stored;
            all.late += mine.late;
        }));
    }
    // The operator starts once the first round has filled the head.
    tokio::time::sleep(interval.min(window / 2)).await;
    let hosts: Vec<i64> = fleet.iter().map(|a| a.host_id).collect();
    let pages = operator(&server, hosts, until).await;
    for sender in senders {
        sender.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = (cpu_ticks(pid) - ticks_before) as f64 / 100.0 / elapsed * 100.0;
    let rss = rss_kib(i64::from(pid)) as f64 / 1024.0;
    let rules = rule_times(&server).await;
    let tally = std::mem::take(&mut *tally.lock().expect("tally"));
    let beats = sorted(tally.heartbeats);
    let batches = sorted(tally.batches);
    let key = |what: &str| format!("fleet.{label}.{what}");
    record(
        &key("heartbeat_p99"),
        percentile(&beats, 0.99),
        "ms",
        Better::Lower,
    );
    record(
        &key("batch_p99"),
        percentile(&batches, 0.99),
        "ms",
        Better::Lower,
    );
    record(&key("server_cpu"), cpu, "% of a core", Better::Lower);
    record(&key("server_rss"), rss, "MiB", Better::Lower);
    report(format!(
        "fleet ({label}): {agents} agents every {} s for {elapsed:.0} s: {} heartbeats (p50 {:.1} ms, p99 {:.1} ms), {} batches (p50 {:.1} ms, p99 {:.1} ms), {} refused, {} of {} points stored, {} sends late by over half an interval; server CPU {cpu:.0}% of a core, RSS {rss:.0} MiB",
        interval.as_secs(),
        beats.len(),
        percentile(&beats, 0.5),
        percentile(&beats, 0.99),
        batches.len(),
        percentile(&batches, 0.5),
        percentile(&batches, 0.99),
        tally.refused.len(),
        tally.points_stored,
        tally.points_sent,
        tally.late,
    ));
    for refusal in tally.refused.iter().take(3) {
        report(format!("  refused: {refusal}"));
    }
    for (what, times) in pages {
        let times = sorted(times);
        let name = what.split(' ').take(2).collect::<Vec<_>>().join("_");
        record(
            &key(&format!("{name}_p99")),
            percentile(&times, 0.99),
            "ms",
            Better::Lower,
        );
        report(format!(
            "  {what}: {} requests, p50 {:.1} ms, p99 {:.1} ms",
            times.len(),
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        ));
    }
    let slowest = rules
        .iter()
        .map(|(rule, secs, every)| format!("{rule} {:.0} ms (every {every:.0} s)", secs * 1e3))
        .collect::<Vec<_>>();
    if let Some(worst) = rules.iter().map(|r| r.1).reduce(f64::max) {
        record(&key("host_rule_max"), worst * 1e3, "ms", Better::Lower);
    }
    report(format!(
        "  host alert rules, slowest evaluation: {}",
        slowest.join(", ")
    ));
    anyhow::ensure!(
        tally.refused.is_empty() && tally.points_stored == tally.points_sent,
        "fleet ({label}): batches were refused or points lost"
    );
    Ok(())
}
