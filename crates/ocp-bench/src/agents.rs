//! Agent benchmarks: the idle memory of a real agent, the time an agent restart task takes
//! end to end, and the server's CPU while many agents send heartbeats.

use std::time::{Duration, Instant};

use ocp_testkit::{AgentApi, Sandbox, ServerOptions};

use crate::report;

pub(crate) fn rss_kib(pid: i64) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// utime + stime of a process, in clock ticks.
pub(crate) fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = stat.rfind(')').map(|i| &stat[i + 2..]).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat(5); `rest` starts at field 3.
    f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

fn options() -> ServerOptions {
    let mut options = ServerOptions::default();
    options.extra_args.extend(["--log".into(), "warn".into()]);
    options
}

pub async fn idle_and_restart(restarts: usize) -> anyhow::Result<()> {
    let sandbox = Sandbox::start(options(), 1, 10_000).await?;
    let admin = sandbox.server.admin();
    let host = sandbox.host_id(0);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let agent = admin
        .get(&format!("/api/v2/compute/hosts/{host}/agent"))
        .await
        .ok();
    let mut parts = Vec::new();
    for p in agent.data()["processes"].as_array().into_iter().flatten() {
        let kib = rss_kib(p["pid"].as_i64().unwrap_or(0));
        parts.push(format!(
            "{} {:.1} MiB",
            p["alias"].as_str().unwrap_or("?"),
            kib as f64 / 1024.0
        ));
    }
    report(format!("agent idle RSS: {}", parts.join(", ")));

    let mut times = Vec::new();
    for _ in 0..restarts {
        let started = Instant::now();
        let task = admin
            .post_empty(&format!("/compute/hosts/{host}/agent/restart"))
            .await
            .ok();
        let id = task.data()["id"].as_i64().unwrap_or(0);
        let done = admin.wait_task(id, Duration::from_secs(60)).await;
        anyhow::ensure!(done["status"] == "SUCCESSFUL", "restart failed: {done}");
        times.push(started.elapsed());
    }
    times.sort();
    report(format!(
        "agent restart task, request to SUCCESSFUL ({restarts} runs): median {:.0} ms, max {:.0} ms",
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3
    ));
    Ok(())
}

/// `agents` simulated agents join (their hosts' Prepare tasks fail: nothing answers at their
/// addresses), then each sends a signed heartbeat every `interval`; the server's CPU is
/// measured over `window`.
pub async fn heartbeat_load(
    agents: usize,
    interval: Duration,
    window: Duration,
) -> anyhow::Result<()> {
    let mut options = options();
    options
        .extra_args
        .extend(["--agent-heartbeat-timeout-ms".into(), "60000".into()]);
    let server = ocp_testkit::ServerProcess::start(options)?;
    let fleet = crate::fleet::join_all(&server, agents).await?;
    let host_ids: Vec<i64> = fleet.iter().map(|a| a.host_id).collect();
    let simulated: Vec<AgentApi> = fleet
        .iter()
        .map(|a| AgentApi::new(server.url(), a.host_id, &a.secret))
        .collect();
    // Let the Prepare host tasks of the simulated hosts run out.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let pid = server.pid().unwrap_or(0);
    let ticks_before = cpu_ticks(pid);
    let started = Instant::now();
    let per_agent = interval.as_secs_f64() / agents as f64;
    let mut sent = 0usize;
    let mut failed = 0usize;
    let beat = |i: usize| crate::fleet::heartbeat(host_ids[i]);
    while started.elapsed() < window {
        let i = sent % agents;
        let due = Duration::from_secs_f64(per_agent * sent as f64);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            tokio::time::sleep(wait).await;
        }
        let api = simulated[i].clone();
        let body = beat(i);
        let reply = api
            .send("POST", ocp_api::agent_path::server::HEARTBEAT, Some(&body))
            .await;
        if reply.status != 200 {
            failed += 1;
        }
        sent += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let ticks = cpu_ticks(pid) - ticks_before;
    let cpu_percent = ticks as f64 / 100.0 / elapsed * 100.0;
    crate::record(
        "agents.heartbeat_load.server_cpu",
        cpu_percent,
        "% of a core",
        crate::Better::Lower,
    );
    crate::record(
        "agents.heartbeat_load.server_rss",
        rss_kib(i64::from(pid)) as f64 / 1024.0,
        "MiB",
        crate::Better::Lower,
    );
    report(format!(
        "heartbeats: {agents} agents every {}s = {:.0}/s for {elapsed:.0}s, {failed} failed; server CPU {cpu_percent:.1}% of one core, RSS {:.1} MiB",
        interval.as_secs(),
        sent as f64 / elapsed,
        rss_kib(i64::from(pid)) as f64 / 1024.0,
    ));
    Ok(())
}
