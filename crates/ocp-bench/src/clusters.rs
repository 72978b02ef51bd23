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

/// Starts seekdb by hand in `base` (a first start bootstraps it with `PARAMETERS`) and
/// answers how long it took to accept a login as root with `password`.
async fn bare_start(
    binary: &Path,
    base: &Path,
    port: u16,
    password: &str,
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

fn installed_binary(agent_data: &Path) -> Option<PathBuf> {
    std::fs::read_dir(agent_data.join("packages"))
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("pylibseekdb/seekdb"))
        .find(|p| p.exists())
}

pub async fn deploy_and_start(runs: usize) -> anyhow::Result<()> {
    let wheel = seekdb_wheel()?;
    let mut options = ServerOptions::default();
    options.extra_args.extend(["--log".into(), "warn".into()]);
    let sandbox = Sandbox::start(options, 1, 1000).await?;
    let admin = sandbox.server.admin();
    let host = sandbox.host_id(0);
    let rpm = admin.upload_package(&wheel).await.ok().data()["fileName"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    let mut deploys = Vec::new();
    let mut starts = Vec::new();
    let mut first_deploy = Duration::ZERO;
    for run in 0..=runs {
        let body = json!({"name": format!("bench{run}"), "rpmName": rpm, "type": "PRIMARY",
            "password": "Bench-Pw-1", "zones": [{"name": "zone1", "servers": [host]}],
            "sqlPort": free_port("0.0.0.0")?});
        let started = Instant::now();
        let reply = admin.post("/api/v2/ob/clusters", &body).await;
        let cluster = reply.data()["clusterId"].as_i64().unwrap_or(0);
        let took = timed_task(&admin, reply, started).await;
        // The first deploy also fetches and unpacks the 54 MB package on the host.
        if run == 0 {
            first_deploy = took;
        } else {
            deploys.push(took);
        }
        let c: Value = admin
            .get(&format!("/api/v2/ob/clusters/{cluster}"))
            .await
            .ok()
            .data()
            .clone();
        let server = c["zones"][0]["servers"][0]["id"].as_i64().unwrap_or(0);
        let path = format!("/api/v2/ob/clusters/{cluster}/servers/{server}");
        let stop = admin.post_empty(&format!("{path}/stop")).await;
        timed_task(&admin, stop, Instant::now()).await;
        let started = Instant::now();
        let start = admin.post_empty(&format!("{path}/start")).await;
        starts.push(timed_task(&admin, start, started).await);
        let delete = admin
            .delete(&format!("/api/v2/ob/clusters/{cluster}"))
            .await;
        timed_task(&admin, delete, Instant::now()).await;
    }

    // The same binary, started by hand: a fresh directory, then again on it.
    let binary = installed_binary(sandbox.agents[0].data_dir())
        .ok_or_else(|| anyhow::anyhow!("no installed seekdb under the agent"))?;
    let scratch = ocp_testkit::temp_dir()?;
    let mut bootstraps = Vec::new();
    let mut restarts = Vec::new();
    for run in 0..runs {
        let base = scratch.path().join(format!("bare{run}"));
        let port = free_port("0.0.0.0")?;
        let (took, mut process) = bare_start(&binary, &base, port, "").await?;
        bootstraps.push(took);
        // As the deploy does: root gets a password.
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
        let (took, mut process) = bare_start(&binary, &base, port, "Bench-Pw-1").await?;
        restarts.push(took);
        process.terminate(Duration::from_secs(30));
    }

    let (deploy, bootstrap) = (median(deploys), median(bootstraps));
    let (start, restart) = (median(starts), median(restarts));
    report(format!(
        "seekdb deploy, request to RUNNING (median of {runs}): {:.0} ms; by hand, start to SQL: \
         {:.0} ms; platform overhead {:.0} ms (first deploy, package download and unpack \
         included: {:.0} ms)",
        millis(deploy),
        millis(bootstrap),
        millis(deploy) - millis(bootstrap),
        millis(first_deploy)
    ));
    report(format!(
        "seekdb start server, request to SUCCESSFUL (median of {}): {:.0} ms; by hand, restart \
         to SQL: {:.0} ms; platform overhead {:.0} ms",
        runs + 1,
        millis(start),
        millis(restart),
        millis(start) - millis(restart)
    ));
    Ok(())
}
