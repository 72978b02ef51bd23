//! Standby clusters on real seekdb, on two hosts of a sandbox. Printed: the time from a
//! create-standby request to SUCCESSFUL (the standby reads what its primary had written),
//! beside the same done by hand in the same run (a bare primary serving its log, settled as
//! the platform waits for, a bare standby started on it, until it reads the primary's newest
//! log); the replication lag under
//! a steady write load (a row committed on the primary every 10 ms, until it reads back on
//! the standby), p50 and p99; and the switchover and failover times, from the request to the
//! new primary taking a write and to the task's end.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ocp_ob::{ObClient, Target};
use ocp_testkit::{free_port, host_ip, Api};
use serde_json::{json, Value};

use crate::clusters::{bare_start, installed_binary, seekdb_sandbox_of, task_steps};
use crate::{percentile, record, report, Better};

const LIMIT: Duration = Duration::from_secs(600);
const PASSWORD: &str = "Bench-Pw-1";

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn target(port: u16, password: &str) -> Target {
    Target {
        host: host_ip(0),
        port,
        user: "root".into(),
        password: password.into(),
    }
}

async fn client(port: u16, password: &str) -> anyhow::Result<ObClient> {
    Ok(ObClient::connect(&target(port, password), Duration::from_secs(3)).await?)
}

/// Waits for a task; answers it, failing unless it is SUCCESSFUL.
async fn finished(admin: &Api, reply: ocp_testkit::Reply) -> anyhow::Result<Value> {
    let id = reply.ok().data()["id"].as_i64().unwrap_or(0);
    let task = admin.wait_task(id, LIMIT).await;
    anyhow::ensure!(task["status"] == "SUCCESSFUL", "task {id}: {task}");
    Ok(task)
}

/// Tries a write on `port` every 10 ms from now; answers the time until one is taken.
async fn until_writable(port: u16, id: i64) -> Duration {
    let started = Instant::now();
    loop {
        if let Ok(mut c) = ObClient::connect(&target(port, PASSWORD), Duration::from_secs(1)).await
        {
            let insert = format!("INSERT INTO bench.rows VALUES ({id}, 0)");
            let taken = c.execute(&insert).await.is_ok();
            c.close().await;
            if taken {
                return started.elapsed();
            }
        }
        if started.elapsed() > LIMIT {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The bare commands: a primary started by hand serves its log; once it has settled, a
/// standby is started on an empty directory; answers the time from the standby's start until
/// it reads the primary's newest log, and how many starts that took.
async fn by_hand(binary: &std::path::Path) -> anyhow::Result<(Duration, usize)> {
    let scratch = ocp_testkit::temp_dir()?;
    let (port, rpc) = (free_port("0.0.0.0")?, free_port("0.0.0.0")?);
    let rpc_arg = vec!["--parameter".to_string(), format!("rpc_port={rpc}")];
    let (_, mut primary) =
        bare_start(binary, &scratch.path().join("p"), port, "", &rpc_arg).await?;
    let mut p = client(port, "").await?;
    p.serve_log(rpc).await?;
    // As the platform does: a first checkpoint, and the system packages loaded.
    let (settled, ..) = p.wait_settled(LIMIT).await?;
    anyhow::ensure!(settled, "the bare primary never settled");
    let end = p.log_end_scn().await?;
    let (s_port, s_rpc) = (free_port("0.0.0.0")?, free_port("0.0.0.0")?);
    let args: Vec<String> = [
        "--role",
        "STANDBY",
        "--parameter",
        &format!("rpc_port={s_rpc}"),
        "--parameter",
        &format!("log_restore_source={}:{rpc}", host_ip(0)),
    ]
    .map(String::from)
    .to_vec();
    // As the platform does, a standby that exits is started again on an empty directory.
    let base = scratch.path().join("s");
    let started = Instant::now();
    for attempt in 1..=5 {
        let (_, mut standby) = bare_start(binary, &base, s_port, "", &args).await?;
        let mut s = client(s_port, "").await?;
        let caught_up = loop {
            match s.replica_stat().await {
                Ok(stat) if stat.readable_scn >= end => break true,
                Ok(_) if started.elapsed() < LIMIT => {}
                _ => break false,
            }
            if !standby.is_running() {
                break false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        s.close().await;
        standby.terminate(Duration::from_secs(30));
        if caught_up {
            p.close().await;
            primary.terminate(Duration::from_secs(30));
            return Ok((started.elapsed(), attempt));
        }
        std::fs::remove_dir_all(&base)?;
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    anyhow::bail!("the bare standby did not start in 5 attempts")
}

/// Commits a row on the primary every 10 ms for `window` while the standby is read every
/// 5 ms; answers each row's time from its commit to its reading back on the standby.
async fn lag_under_load(
    primary: u16,
    standby: u16,
    window: Duration,
) -> anyhow::Result<Vec<Duration>> {
    let committed: Arc<Mutex<BTreeMap<i64, Instant>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (committed, done) = (committed.clone(), done.clone());
        tokio::spawn(async move {
            let mut c = client(primary, PASSWORD).await?;
            let started = Instant::now();
            let mut id = 1_000_000;
            while started.elapsed() < window {
                id += 1;
                c.execute(&format!("INSERT INTO bench.rows VALUES ({id}, 1)"))
                    .await?;
                committed.lock().expect("rows").insert(id, Instant::now());
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            c.close().await;
            done.store(true, Ordering::Relaxed);
            anyhow::Ok(id)
        })
    };
    let mut reader = client(standby, PASSWORD).await?;
    let mut lags = Vec::new();
    let mut seen = 1_000_000;
    loop {
        let max = reader
            .fetch_i64("SELECT COALESCE(MAX(id), 0) FROM bench.rows WHERE v = 1")
            .await?;
        let now = Instant::now();
        if max > seen {
            let rows = committed.lock().expect("rows");
            lags.extend(rows.range(seen + 1..=max).map(|(_, at)| now - *at));
            seen = max;
        }
        if done.load(Ordering::Relaxed) {
            let last = *committed.lock().expect("rows").keys().last().unwrap_or(&0);
            if seen >= last {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    reader.close().await;
    writer.await??;
    Ok(lags)
}

/// A finished task's steps with their durations, as one line.
async fn steps_of(admin: &Api, task: i64) -> String {
    let (steps, _) = task_steps(admin, task).await;
    let steps: Vec<String> = steps
        .into_iter()
        .map(|(name, ms)| format!("{name} {ms} ms"))
        .collect();
    steps.join(", ")
}

pub async fn run(window: Duration) -> anyhow::Result<()> {
    let (sandbox, rpm) = seekdb_sandbox_of(2).await?;
    let admin = sandbox.server.admin();
    let port = free_port("0.0.0.0")?;
    let body = json!({"name": "north", "rpmName": rpm, "type": "PRIMARY", "password": PASSWORD,
        "zones": [{"name": "zone1", "servers": [sandbox.host_id(0)]}],
        "sqlPort": port, "rpcPort": free_port("0.0.0.0")?});
    let deploy = admin.post("/api/v2/ob/clusters", &body).await;
    let north = deploy.data()["clusterId"].as_i64().unwrap_or(0);
    finished(&admin, deploy).await?;
    let mut c = client(port, PASSWORD).await?;
    c.execute("CREATE DATABASE bench").await?;
    c.execute("CREATE TABLE bench.rows (id BIGINT PRIMARY KEY, v INT)")
        .await?;
    let values: Vec<String> = (0..10_000).map(|i| format!("({i}, 0)")).collect();
    c.execute(&format!(
        "INSERT INTO bench.rows VALUES {}",
        values.join(", ")
    ))
    .await?;
    c.close().await;

    // Through the platform, then by hand with the binary the agent installed.
    let standby_port = free_port("0.0.0.0")?;
    let request = json!({"name": "south", "hostId": sandbox.host_id(1),
        "sqlPort": standby_port, "rpcPort": free_port("0.0.0.0")?});
    let started = Instant::now();
    let created = admin
        .post(
            &format!("/api/v2/ob/clusters/{north}/standbyClusters"),
            &request,
        )
        .await;
    let south = created.data()["clusterId"].as_i64().unwrap_or(0);
    let create_task = created.data()["id"].as_i64().unwrap_or(0);
    finished(&admin, created).await?;
    let create = started.elapsed();
    let binary = installed_binary(sandbox.agents[1].data_dir())
        .ok_or_else(|| anyhow::anyhow!("no installed seekdb under the second agent"))?;
    let (bare, bare_starts) = by_hand(&binary).await?;
    let task = admin
        .get(&format!("/api/v2/tasks/instances/{create_task}"))
        .await;
    let starts = match task.data()["subtasks"]
        .as_array()
        .and_then(|subs| subs.iter().find(|s| s["name"] == "Bootstrap standby"))
    {
        Some(sub) => {
            let path = format!(
                "/api/v2/tasks/instances/{create_task}/subtasks/{}/log",
                sub["id"]
            );
            let log = admin.get(&path).await;
            1 + log.data()["log"]
                .as_str()
                .unwrap_or_default()
                .matches("WARN attempt")
                .count()
        }
        None => 0,
    };
    report(format!(
        "seekdb standby (10,000 rows), create request to SUCCESSFUL: {:.0} ms ({starts} \
         standby start(s)); by hand, standby start to reading the primary's newest log: {:.0} \
         ms ({bare_starts} start(s))",
        ms(create),
        ms(bare)
    ));
    report(format!(
        "  the create task, step by step: {}",
        steps_of(&admin, create_task).await
    ));
    record("standby.create", ms(create), "ms", Better::Lower);
    record("standby.create_by_hand", ms(bare), "ms", Better::Lower);

    let mut lags = lag_under_load(port, standby_port, window).await?;
    lags.sort();
    let (p50, p99) = (percentile(&lags, 0.5), percentile(&lags, 0.99));
    report(format!(
        "  replication lag, a row committed every 10 ms for {} s ({} rows) until read back \
         on the standby: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        window.as_secs(),
        lags.len(),
        ms(p50),
        ms(p99),
        ms(*lags.last().unwrap_or(&Duration::ZERO))
    ));
    record("standby.lag_p50", ms(p50), "ms", Better::Lower);
    record("standby.lag_p99", ms(p99), "ms", Better::Lower);

    // Switchover: until the standby takes a write, and until the task (which restarts the old
    // primary to follow) ends.
    let started = Instant::now();
    let reply = admin
        .post_empty(&format!(
            "/api/v2/ob/clusters/{north}/standbyClusters/{south}/switchover"
        ))
        .await;
    let switchover_task = reply.data()["id"].as_i64().unwrap_or(0);
    let writable = until_writable(standby_port, 2_000_001).await;
    finished(&admin, reply).await?;
    let switchover = started.elapsed();
    report(format!(
        "  the switchover task, step by step: {}",
        steps_of(&admin, switchover_task).await
    ));
    report(format!(
        "  switchover, request to the new primary taking a write: {:.0} ms; to SUCCESSFUL \
         (the old primary restarted and following): {:.0} ms",
        ms(writable),
        ms(switchover)
    ));
    record(
        "standby.switchover_to_write",
        ms(writable),
        "ms",
        Better::Lower,
    );
    record(
        "standby.switchover_task",
        ms(switchover),
        "ms",
        Better::Lower,
    );

    // Failover: the new primary's server is killed; until the standby (north) takes a write.
    let view = admin.get(&format!("/api/v2/ob/clusters/{south}")).await;
    let home = view.data()["zones"][0]["servers"][0]["homePath"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    for pid in ocp_testkit::seekdb_processes(&home) {
        let _ = std::process::Command::new("kill")
            .arg("-9")
            .arg(pid.to_string())
            .status();
    }
    let started = Instant::now();
    let reply = admin
        .post_empty(&format!(
            "/api/v2/ob/clusters/{south}/standbyClusters/{north}/failover"
        ))
        .await;
    let writable = until_writable(port, 2_000_002).await;
    finished(&admin, reply).await?;
    let failover = started.elapsed();
    report(format!(
        "  failover (the primary's server killed), request to the standby taking a write: \
         {:.0} ms; to SUCCESSFUL: {:.0} ms",
        ms(writable),
        ms(failover)
    ));
    record(
        "standby.failover_to_write",
        ms(writable),
        "ms",
        Better::Lower,
    );
    record("standby.failover_task", ms(failover), "ms", Better::Lower);
    Ok(())
}
