//! The server process: start, stop, and wait until it serves SQL and DDL.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use ocp_api::agent_path;
use ocp_api::ob::SetParameter;
use ocp_ob::{ObClient, Target};
use ocp_store::{ClusterRecord, ServerRecord};
use ocp_task::{Step, StepContext, StepError};

use crate::cluster::access::{process_name, ObAccess, CONNECT_TIMEOUT};

use super::*;

/// Start observer process: through the agent, in its own process group. A first start
/// (`bootstrap`) passes the cluster's startup parameters; later starts pass none, so that
/// values set since (which the server persists) are kept. Rollback stops it.
pub(super) struct StartProcess {
    pub(super) access: ObAccess,
    pub(super) bootstrap: bool,
}

#[async_trait]
impl Step for StartProcess {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, cluster) = self.access.server_and_cluster(ctx).await?;
        if self.access.process_running(&server).await? {
            ctx.log("the process runs already");
            return Ok(());
        }
        spawn_server(&self.access, ctx, &server, &cluster, self.bootstrap).await
    }

    async fn rollback(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, _) = self.access.server_and_cluster(ctx).await?;
        stop_process(&self.access, ctx, &server).await
    }
}

/// Has the agent start the server process.
pub(super) async fn spawn_server(
    access: &ObAccess,
    ctx: &StepContext,
    server: &ServerRecord,
    cluster: &ClusterRecord,
    bootstrap: bool,
) -> Result<(), StepError> {
    let program = access.binary(ctx, server, cluster).await?;
    let mut args: Vec<String> = vec![
        "--nodaemon".into(),
        "--port".into(),
        server.sql_port.to_string(),
        "--base-dir".into(),
        server.home_path.clone(),
    ];
    if bootstrap && cluster.cluster_type == ocp_api::ob::ClusterType::Standby {
        // The role is kept in the data directory: later starts need not name it.
        args.extend(["--role".into(), "STANDBY".into()]);
    }
    if bootstrap {
        let parameters: Vec<SetParameter> =
            serde_json::from_str(&cluster.startup_parameters).unwrap_or_default();
        for p in parameters {
            args.push("--parameter".into());
            args.push(format!("{}={}", p.name, p.value));
        }
    }
    let spec = ocp_api::agent::StartProcess {
        name: process_name(server.id),
        program,
        args,
        env: Default::default(),
        cwd: Some(server.home_path.clone()),
    };
    let started: ocp_api::agent::ManagedProcess = access
        .agents
        .call(
            server.host_id,
            reqwest::Method::POST,
            &agent_path::manager::processes(),
            Some(&spec),
        )
        .await?;
    ctx.log(format!("started pid {}: {}", started.pid, started.command));
    Ok(())
}

pub(super) async fn stop_process(
    access: &ObAccess,
    ctx: &StepContext,
    server: &ServerRecord,
) -> Result<(), StepError> {
    let path = agent_path::manager::process_stop(&process_name(server.id));
    match access
        .agents
        .call::<ocp_api::agent::ManagedProcess>(
            server.host_id,
            reqwest::Method::POST,
            &path,
            None::<&()>,
        )
        .await
    {
        Ok(p) => ctx.log(format!("stopped pid {}", p.pid)),
        Err(e) if e.is_not_found() => ctx.log("no process to stop"),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Stop observer process.
pub(super) struct StopProcess(pub(super) ObAccess);

#[async_trait]
impl Step for StopProcess {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, _) = self.0.server_and_cluster(ctx).await?;
        stop_process(&self.0, ctx, &server).await
    }
}

/// Wait observer active: until the server accepts SQL as root.
pub(super) struct WaitActive {
    pub(super) access: ObAccess,
    pub(super) fresh: bool,
}

#[async_trait]
impl Step for WaitActive {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, cluster) = self.access.server_and_cluster(ctx).await?;
        let started = Instant::now();
        let target = wait_for_sql(&self.access, ctx, &server, &cluster, self.fresh).await?;
        // A standby takes no DDL: it is read-only.
        if !self.fresh && cluster.cluster_type == ocp_api::ob::ClusterType::Primary {
            wait_for_ddl(ctx, &target, started).await?;
        }
        Ok(())
    }
}

/// Waits (up to 300 s) until the server accepts SQL as root; fails at once, with the end of
/// its output, when its process exits. Answers the login that worked.
pub(super) async fn wait_for_sql(
    access: &ObAccess,
    ctx: &StepContext,
    server: &ServerRecord,
    cluster: &ClusterRecord,
    fresh: bool,
) -> Result<Target, StepError> {
    let target = access.target(cluster, server).map_err(failed)?;
    let started = Instant::now();
    let mut last_error = String::new();
    while started.elapsed() < Duration::from_secs(300) {
        match connect_root(&target, fresh).await {
            Ok(mut client) => {
                let version = client.version().await.map_err(sql_failed)?;
                client.close().await;
                ctx.log(format!(
                    "{} accepts SQL after {} ms: {version}",
                    target.address(),
                    started.elapsed().as_millis()
                ));
                return Ok(target);
            }
            Err(e) => last_error = e.to_string(),
        }
        if !access.process_running(server).await? {
            let path = agent_path::manager::process_log(&process_name(server.id));
            let tail: serde_json::Value = access
                .agents
                .call(server.host_id, reqwest::Method::GET, &path, None::<&()>)
                .await
                .unwrap_or_default();
            let output = tail["log"].as_str().unwrap_or("");
            let server_log = tail["serverLog"].as_str().unwrap_or("");
            let why = match server_log.is_empty() {
                true => format!("its output ends:\n{output}"),
                false => format!("its log/seekdb.log ends:\n{server_log}"),
            };
            ctx.log(format!("the server process exited; {why}"));
            return Err(StepError::new(format!(
                "the server process exited (last error: {last_error}); {why}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(StepError::new(format!("no SQL after 300 s: {last_error}")))
}

/// After a restart, waits (up to 30 s) until the server takes DDL again. seekdb has no clean shutdown
/// (SIGTERM makes it kill itself), so a transaction it had open comes back from the redo
/// log and holds its locks until the server resolves it, which can take tens of seconds on
/// a loaded host; meanwhile reads work but every DDL waits. The probe is a DDL that changes
/// nothing: setting the platform's user's password to what it is (OceanBase refuses to lock
/// or unlock root, even to no effect).
pub(super) async fn wait_for_ddl(
    ctx: &StepContext,
    target: &Target,
    started: Instant,
) -> Result<(), StepError> {
    const PROBE: Duration = Duration::from_secs(5);
    const PATIENCE: Duration = Duration::from_secs(30);
    let mut said = false;
    let waiting = Instant::now();
    while waiting.elapsed() < PATIENCE {
        let client = ObClient::connect(target, CONNECT_TIMEOUT)
            .await
            .map_err(sql_failed)?;
        let mut client = client.with_statement_timeout(PROBE);
        let probe = if target.password.is_empty() {
            Err(ocp_ob::ObError::invalid("password", "empty"))
        } else {
            client
                .execute(&format!(
                    "ALTER USER {} IDENTIFIED BY {}",
                    ocp_ob::quote(&target.user),
                    ocp_ob::quote(&target.password)
                ))
                .await
        };
        client.close().await;
        match probe {
            Ok(()) => {
                ctx.log(format!(
                    "{} takes DDL after {} ms",
                    target.address(),
                    started.elapsed().as_millis()
                ));
                return Ok(());
            }
            Err(ocp_ob::ObError::Unreachable { .. }) => {
                if !said {
                    ctx.log("DDL waits: a transaction cut short by the stop is being resolved");
                    said = true;
                }
            }
            Err(ocp_ob::ObError::Invalid { .. }) => {
                ctx.log("no DDL probe: the platform's user has no password");
                return Ok(());
            }
            Err(e) => return Err(sql_failed(e)),
        }
    }
    // Some such transactions take minutes to resolve. The server serves reads and writes
    // meanwhile, so the start goes on; DDL calls answer 10013 until it is done.
    ctx.log(format!(
        "WARN {} takes no DDL yet after {} s; it serves queries, and DDL will follow once the \
         server has resolved the interrupted transaction",
        target.address(),
        PATIENCE.as_secs()
    ));
    Ok(())
}
