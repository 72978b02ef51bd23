//! Cluster benchmarks on real seekdb: the time from a deploy request to a RUNNING cluster and
//! from a start-server request to SUCCESSFUL, beside the time the same seekdb binary takes
//! to accept SQL when started by hand on this machine in the same run. The difference is
//! what the platform adds.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ocp_ob::{ObClient, Target};
use ocp_testkit::{free_port, host_ip, seekdb_wheel, Api, ChildGroup, Sandbox, ServerOptions};
use serde_json::{json, Value};

use crate::report;

/// The startup parameters the platform gives seekdb unless told otherwise.
const PARAMETERS: [&str; 3] = ["memory_budget=1G", "log_disk_size=2G", "datafile_size=64M"];
const LIMIT: Duration = Duration::from_secs(300);

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Starts seekdb by hand in `base` (a first start bootstraps it with `PARAMETERS` and
/// `extra` arguments) and answers how long it took to accept a login as root with
/// `password`.
pub(crate) async fn bare_start(
    binary: &Path,
    base: &Path,
    port: u16,
    password: &str,
    extra: &[String],
) -> anyhow::Result<(Duration, ChildGroup)> {
    let bootstrap = !base.exists();
    std::fs::create_dir_all(base)?;
    let mut command = Command::new(binary);
    command
        .args(["--nodaemon", "--port", &port.to_string(), "--base-dir"])
        .arg(base)
        .current_dir(base)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if bootstrap {
        for p in PARAMETERS {
            command.args(["--parameter", p]);
        }
        command.args(extra);
    }
    let target = Target {
        host: host_ip(0),
        port,
        user: "root".into(),
        password: password.into(),
    };
    let started = Instant::now();
    let mut process = ChildGroup::spawn("seekdb", command)?;
    loop {
        if let Ok(client) = ObClient::connect(&target, Duration::from_secs(3)).await {
            client.close().await;
            return Ok((started.elapsed(), process));
        }
        anyhow::ensure!(process.is_running(), "seekdb exited in {}", base.display());
        anyhow::ensure!(started.elapsed() < LIMIT, "seekdb never accepted SQL");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Runs a task-answering request and answers the time until the task is SUCCESSFUL.
async fn timed_task(admin: &Api, reply: ocp_testkit::Reply, started: Instant) -> Duration {
    let id = reply.ok().data()["id"].as_i64().unwrap_or(0);
    let done = admin.wait_task(id, LIMIT).await;
    let elapsed = started.elapsed();
    assert_eq!(done["status"], "SUCCESSFUL", "task {id}: {done}");
    elapsed
}

/// A finished task's subtasks in the order they ran, each with its duration in ms, and the
/// log of the step that waits for SQL.
pub(crate) async fn task_steps(admin: &Api, task: i64) -> (Vec<(String, i64)>, String) {
    let detail = admin
        .get(&format!("/api/v2/tasks/instances/{task}"))
        .await
        .ok()
        .data()
        .clone();
    let time = |s: &Value, key: &str| {
        s[key]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    };
    let mut steps = Vec::new();
    let mut wait_log = String::new();
    for s in detail["subtasks"].as_array().into_iter().flatten() {
        let (Some(from), Some(to)) = (time(s, "startTime"), time(s, "finishTime")) else {
            continue;
        };
        let name = s["name"].as_str().unwrap_or_default().to_string();
        // "Wait observer accessible" in a deploy, "Wait observer active" in a start.
        if name.starts_with("Wait observer ") {
            let path = format!("/api/v2/tasks/instances/{task}/subtasks/{}/log", s["id"]);
            let log = admin.get(&path).await.ok().data().clone();
            wait_log = log["log"].as_str().unwrap_or_default().to_string();
        }
        steps.push((from, name, (to - from).num_milliseconds()));
    }
    steps.sort();
    let steps = steps.into_iter().map(|(_, n, ms)| (n, ms)).collect();
    (steps, wait_log)
}

/// How long seekdb itself took to accept SQL in a task, as the step that waits for it
/// logged it ("... accepts SQL after N ms"): the part of the task's time that is the
/// server's own start, which varies by about a second from one start to the next.
fn seekdb_own_time(wait_log: &str) -> Option<Duration> {
    let (_, rest) = wait_log.split_once("accepts SQL after ")?;
    let ms = rest.split_once(" ms")?.0.parse().ok()?;
    Some(Duration::from_millis(ms))
}

pub(crate) fn installed_binary(agent_data: &Path) -> Option<PathBuf> {
    std::fs::read_dir(agent_data.join("packages"))
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("pylibseekdb/seekdb"))
        .find(|p| p.exists())
}

/// A deploy or start through the platform, read back once it is SUCCESSFUL: the time from
/// request to SUCCESSFUL, what of it the platform added (the task's time less seekdb's own
/// time to accept SQL), and the task's steps with their durations.
struct Timed {
    took: Duration,
    overhead: Duration,
    steps: Vec<(String, i64)>,
}

impl Timed {
    async fn of(admin: &Api, reply: ocp_testkit::Reply, started: Instant) -> anyhow::Result<Timed> {
        let task = reply.data()["id"].as_i64().unwrap_or(0);
        let took = timed_task(admin, reply, started).await;
        let (steps, wait_log) = task_steps(admin, task).await;
        let own = seekdb_own_time(&wait_log)
            .ok_or_else(|| anyhow::anyhow!("task {task}: no SQL wait in its log"))?;
        Ok(Timed {
            took,
            overhead: took.saturating_sub(own),
            steps,
        })
    }
}

/// Deploys a cluster through the platform, stops its server and starts it again, then
/// deletes it; answers the deploy and the start.
async fn platform_round(
    admin: &Api,
    rpm: &str,
    host: i64,
    name: &str,
) -> anyhow::Result<(Timed, Timed)> {
    let body = json!({"name": name, "rpmName": rpm, "type": "PRIMARY",
        "password": "Bench-Pw-1", "zones": [{"name": "zone1", "servers": [host]}],
        "sqlPort": free_port("0.0.0.0")?});
    let started = Instant::now();
    let reply = admin.post("/api/v2/ob/clusters", &body).await;
    let cluster = reply.data()["clusterId"].as_i64().unwrap_or(0);
    let deploy = Timed::of(admin, reply, started).await?;
    let c: Value = admin
        .get(&format!("/api/v2/ob/clusters/{cluster}"))
        .await
        .ok()
        .data()
        .clone();
    let server = c["zones"][0]["servers"][0]["id"].as_i64().unwrap_or(0);
    let path = format!("/api/v2/ob/clusters/{cluster}/servers/{server}");
    let stop = admin.post_empty(&format!("{path}/stop")).await;
    timed_task(admin, stop, Instant::now()).await;
    let started = Instant::now();
    let reply = admin.post_empty(&format!("{path}/start")).await;
    let start = Timed::of(admin, reply, started).await?;
    let delete = admin
        .delete(&format!("/api/v2/ob/clusters/{cluster}"))
        .await;
    timed_task(admin, delete, Instant::now()).await;
    Ok((deploy, start))
}

/// The same binary started by hand in a fresh directory, root given its password as the
/// deploy does, stopped and started again: answers the two times to SQL.
async fn bare_round(binary: &Path, base: &Path) -> anyhow::Result<(Duration, Duration)> {
    let port = free_port("0.0.0.0")?;
    let (bootstrap, mut process) = bare_start(binary, base, port, "", &[]).await?;
    let root = Target {
        host: host_ip(0),
        port,
        user: "root".into(),
        password: String::new(),
    };
    let mut client = ObClient::connect(&root, Duration::from_secs(3)).await?;
    client.set_password("root", "Bench-Pw-1").await?;
    client.close().await;
    process.terminate(Duration::from_secs(30));
    let (restart, mut process) = bare_start(binary, base, port, "Bench-Pw-1", &[]).await?;
    process.terminate(Duration::from_secs(30));
    Ok((bootstrap, restart))
}

fn summary(times: &[Duration]) -> String {
    let most = times.iter().max().copied().unwrap_or_default();
    format!(
        "median {:.0} ms, max {:.0} ms",
        millis(median(times.to_vec())),
        millis(most)
    )
}

/// A server (logging warnings only) with one agent, and the seekdb wheel uploaded: answers
/// them and the package's file name.
pub(crate) async fn seekdb_sandbox() -> anyhow::Result<(Sandbox, String)> {
    seekdb_sandbox_of(1).await
}

/// As [`seekdb_sandbox`], with `hosts` agents.
pub(crate) async fn seekdb_sandbox_of(hosts: usize) -> anyhow::Result<(Sandbox, String)> {
    let wheel = seekdb_wheel()?;
    let mut options = ServerOptions::default();
    options.extra_args.extend(["--log".into(), "warn".into()]);
    let sandbox = Sandbox::start(options, hosts, 1000).await?;
    let uploaded = sandbox.server.admin().upload_package(&wheel).await.ok();
    let rpm = uploaded.data()["fileName"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    Ok((sandbox, rpm))
}

/// seekdb's own restart takes either about 1.7 s or about 2.7 s on this machine: some
/// restarts wait about a second more on log replay. Which one a restart gets depends on
/// how long the server ran before the stop, not on who starts it. A bare server kept up
/// 1.5 s longer before its stop turned slow while the platform's turned fast. So the
/// medians of platform and bare rounds (which alternate) can differ by that second either
/// way. The overhead that counts is measured per task: the task's time less the time
/// seekdb took to accept SQL in that very task.
pub async fn deploy_and_start(runs: usize) -> anyhow::Result<()> {
    let (sandbox, rpm) = seekdb_sandbox().await?;
    let admin = sandbox.server.admin();
    let host = sandbox.host_id(0);

    // The first deploy also fetches and unpacks the 54 MB package on the host.
    let (first, _) = platform_round(&admin, &rpm, host, "bench0").await?;
    let binary = installed_binary(sandbox.agents[0].data_dir())
        .ok_or_else(|| anyhow::anyhow!("no installed seekdb under the agent"))?;
    let scratch = ocp_testkit::temp_dir()?;
    let (mut deploys, mut starts) = (Vec::new(), Vec::new());
    let (mut deploy_overheads, mut start_overheads) = (Vec::new(), Vec::new());
    let (mut bootstraps, mut restarts) = (Vec::new(), Vec::new());
    let mut last_steps = Vec::new();
    for run in 1..=runs {
        let (deploy, start) = platform_round(&admin, &rpm, host, &format!("bench{run}")).await?;
        deploy_overheads.push(deploy.overhead);
        start_overheads.push(start.overhead);
        deploys.push(deploy.took);
        starts.push(start.took);
        last_steps = start.steps;
        let (bootstrap, restart) =
            bare_round(&binary, &scratch.path().join(format!("bare{run}"))).await?;
        bootstraps.push(bootstrap);
        restarts.push(restart);
    }

    report(format!(
        "seekdb deploy, request to RUNNING ({runs} runs): {}; by hand, start to SQL: {}; \
         first deploy, package download and unpack included: {:.0} ms",
        summary(&deploys),
        summary(&bootstraps),
        millis(first.took)
    ));
    report(format!(
        "  platform overhead of a deploy: {} (task less seekdb's own time to SQL in it); \
         {:.0} ms by the medians",
        summary(&deploy_overheads),
        millis(median(deploys)) - millis(median(bootstraps))
    ));
    report(format!(
        "seekdb start server, request to SUCCESSFUL ({runs} runs): {}; by hand, restart to \
         SQL: {}",
        summary(&starts),
        summary(&restarts)
    ));
    report(format!(
        "  platform overhead of a start: {} (task less seekdb's own time to SQL in it); \
         {:.0} ms by the medians",
        summary(&start_overheads),
        millis(median(starts)) - millis(median(restarts))
    ));
    let steps: Vec<String> = last_steps
        .into_iter()
        .map(|(name, ms)| format!("{name} {ms} ms"))
        .collect();
    report(format!(
        "  the last start, step by step: {}",
        steps.join(", ")
    ));
    Ok(())
}
