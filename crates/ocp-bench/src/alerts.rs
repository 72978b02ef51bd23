//! Alert benchmarks on a real agent sampling at the default 10 s with a seekdb to read: the
//! time from a threshold crossing on the host to the webhook call, and the monitor worker's
//! resident memory and CPU meanwhile.
//!
//! The crossing: the benchmark itself opens 5,000 files at a known instant, so the host's
//! open file handles (`host_open_files`) jump past a threshold set 2,500 above what the host
//! had. The latency counts everything in between: the wait for the next sample, the
//! shipping, the evaluation and the delivery.

use std::time::{Duration, Instant};

use ocp_testkit::{free_port, seekdb_wheel, Sandbox, ServerOptions, WebhookReceiver};
use serde_json::json;

use crate::agents::{cpu_ticks, rss_kib};
use crate::report;

const INTERVAL: Duration = Duration::from_secs(10);
const FILES: usize = 5_000;
const LIMIT: Duration = Duration::from_secs(120);

/// The newest stored value of `host_open_files`.
async fn open_files(admin: &ocp_testkit::Api) -> Option<f64> {
    let format = "%Y-%m-%dT%H:%M:%S%%2B00:00";
    let now = chrono::Utc::now();
    let path = format!(
        "/api/v2/monitor/metric?startTime={}&endTime={}&metrics=host_open_files&interval=1",
        (now - chrono::Duration::minutes(2)).format(format),
        (now + chrono::Duration::minutes(1)).format(format)
    );
    let reply = admin.get(&path).await;
    reply.data()["contents"]
        .as_array()?
        .iter()
        .rev()
        .find_map(|p| p["host_open_files"].as_f64())
}

pub async fn crossing_to_webhook(rounds: usize) -> anyhow::Result<()> {
    // Agents sample at their default interval here, not the tests' one second.
    std::env::set_var("OCP_TEST_MONITOR_MS", INTERVAL.as_millis().to_string());
    let mut options = ServerOptions::default();
    options.extra_args.extend([
        "--log".into(),
        "warn".into(),
        "--alarm-http-allow".into(),
        "127.0.0.1".into(),
    ]);
    let sandbox = Sandbox::start(options, 1, 10_000).await;
    std::env::remove_var("OCP_TEST_MONITOR_MS");
    let sandbox = sandbox?;
    let admin = sandbox.server.admin();
    let host = sandbox.host_id(0);

    // A seekdb for the monitor to read as well.
    let rpm = admin.upload_package(&seekdb_wheel()?).await.ok().data()["fileName"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let deploy = admin
        .post(
            "/api/v2/ob/clusters",
            &json!({"name": "benchalerts", "rpmName": rpm, "type": "PRIMARY",
                    "password": "Bench-Pw-1", "zones": [{"name": "zone1", "servers": [host]}],
                    "sqlPort": free_port("0.0.0.0")?}),
        )
        .await
        .ok();
    let task = deploy.data()["id"].as_i64().unwrap_or(0);
    let done = admin.wait_task(task, LIMIT).await;
    anyhow::ensure!(done["status"] == "SUCCESSFUL", "deploy failed: {done}");

    let deadline = Instant::now() + LIMIT;
    let baseline = loop {
        if let Some(v) = open_files(&admin).await {
            break v;
        }
        anyhow::ensure!(Instant::now() < deadline, "no host_open_files sample");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let receiver = WebhookReceiver::start(0).await?;
    let channel = admin
        .post(
            "/api/v2/alarm/channels",
            &json!({"name": "bench", "type": "HTTP",
                    "config": {"urlTemplate": receiver.url("/bench"),
                               "headersTemplate": "Content-Type: application/json",
                               "bodyTemplate": "{\"kind\":\"${notification_kind}\"}"}}),
        )
        .await
        .ok();
    admin
        .post(
            "/api/v2/alarm/rules",
            &json!({"name": "bench_open_files_high", "alarmName": "Many open files",
                    "appType": "OCP", "scope": "Host", "level": 3,
                    "evaluationIntervalSeconds": INTERVAL.as_secs(), "clearSeconds": 300,
                    "expression": {"metric": "host_open_files", "aggregation": "max",
                                   "comparator": ">", "threshold": baseline + 2500.0}}),
        )
        .await
        .ok();
    admin
        .post(
            "/api/v2/alarm/subscriptions",
            &json!({"channelId": channel.data()["id"], "alarmTypes": ["bench_open_files_high"]}),
        )
        .await
        .ok();
    let agent = admin
        .get(&format!("/api/v2/compute/hosts/{host}/agent"))
        .await
        .ok();
    let monitor = agent.data()["processes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["alias"] == "ocp_monagent")
        .and_then(|p| p["pid"].as_i64())
        .unwrap_or(0);

    let cpu_start = (cpu_ticks(monitor as u32), Instant::now());
    let mut latencies = Vec::new();
    for round in 0..rounds {
        let heard = |kind: &str| {
            receiver
                .requests()
                .iter()
                .filter(|r| r.json()["kind"] == kind)
                .count()
        };
        let fired_before = heard("ALERT");
        let crossed = Instant::now();
        let files: Vec<std::fs::File> = (0..FILES)
            .map(|_| std::fs::File::open("/dev/null"))
            .collect::<Result<_, _>>()?;
        while heard("ALERT") == fired_before {
            anyhow::ensure!(crossed.elapsed() < LIMIT, "round {round}: no webhook");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        latencies.push(crossed.elapsed());
        let resolved_before = heard("RESOLVED");
        drop(files);
        let dropped = Instant::now();
        while heard("RESOLVED") == resolved_before {
            anyhow::ensure!(dropped.elapsed() < LIMIT, "round {round}: never resolved");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // A resolution comes at one point of the sampling cycle: start the next crossing
        // at another, so the rounds cover the cycle.
        let offset = (1_000 + 2_300 * round as u64) % INTERVAL.as_millis() as u64;
        tokio::time::sleep(Duration::from_millis(offset)).await;
    }
    let cpu_seconds = cpu_ticks(monitor as u32).saturating_sub(cpu_start.0) as f64 / 100.0;
    let wall = cpu_start.1.elapsed().as_secs_f64();
    latencies.sort();
    let ms = |d: &Duration| d.as_secs_f64() * 1e3;
    let shown: Vec<String> = latencies.iter().map(|d| format!("{:.0}", ms(d))).collect();
    let worst = latencies.last().copied().unwrap_or_default();
    report(format!(
        "alert, threshold crossing to webhook call ({rounds} rounds, sampling and evaluation \
         every {} s): median {:.0} ms, max {:.0} ms = {:.2} intervals (each: {} ms)",
        INTERVAL.as_secs(),
        ms(&latencies[latencies.len() / 2]),
        ms(&worst),
        worst.as_secs_f64() / INTERVAL.as_secs_f64(),
        shown.join(", ")
    ));
    let rss_mib = rss_kib(monitor) as f64 / 1024.0;
    crate::record(
        "alerts.monitor_worker.rss",
        rss_mib,
        "MiB",
        crate::Better::Lower,
    );
    crate::record(
        "alerts.monitor_worker.cpu",
        100.0 * cpu_seconds / wall,
        "% of a core",
        crate::Better::Lower,
    );
    crate::record(
        "alerts.crossing_to_webhook.median",
        ms(&latencies[latencies.len() / 2]),
        "ms",
        crate::Better::Lower,
    );
    report(format!(
        "agent monitor (ocp_monagent) sampling the host and one seekdb every {} s, its \
         statements every {} ms and following its log for slow queries: RSS {:.1} MiB, \
         CPU {:.2}% of one core over {:.0} s",
        INTERVAL.as_secs(),
        std::env::var("OCP_TEST_SQL_STAT_MS").unwrap_or_else(|_| "1000".into()),
        rss_mib,
        100.0 * cpu_seconds / wall,
        wall
    ));
    Ok(())
}
