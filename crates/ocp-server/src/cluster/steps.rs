//! The steps of cluster tasks (deploy, start, stop, restart, delete, compaction), named as
//! OCP's (`004_*` and the create-cluster sample), and the templates that wire them.
//!
//! A per-server step finds its server in the task context: `server_id`, or for a branch of
//! a fan-out the `server_ids` entry at its `parallelIdx`. Every step checks before it acts:
//! starting a running process, stopping a stopped one, making a directory that is there, or
//! setting a password that is set already does nothing, so a retried step is harmless.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use ocp_api::ob::{ClusterStatus, ServerStatus, SetParameter};
use ocp_api::obdb::{DirAnswer, DirRequest, InstallPackage, InstalledPackage, PortAnswer};
use ocp_ob::{ObClient, Target};
use ocp_store::{ClusterRecord, ServerRecord};
use ocp_task::{NodeId, Registry, Step, StepContext, StepError, StepSpec, TaskTemplate};

use crate::cluster::access::{process_name, ObAccess, CONNECT_TIMEOUT};
use crate::http::Failure;

const PKG: &str = "com.alipay.ocp.service.task.business";

fn class(name: &str) -> String {
    format!("{PKG}.cluster.{name}")
}

fn failed(e: Failure) -> StepError {
    StepError::new(e.message)
}

fn sql_failed(e: ocp_ob::ObError) -> StepError {
    StepError::new(e.to_string())
}

/// The server a step works on.
fn target_server(ctx: &StepContext) -> Result<i64, StepError> {
    let text = match ctx.parallel_idx() {
        Some(i) => ctx
            .list("server_ids")
            .get(i)
            .cloned()
            .ok_or_else(|| StepError::new(format!("no server_ids entry {i}")))?,
        None => ctx.require("server_id")?.to_string(),
    };
    text.parse()
        .map_err(|_| StepError::new(format!("bad server id {text}")))
}

fn cluster_id(ctx: &StepContext) -> Result<i64, StepError> {
    let text = ctx.require("cluster_id")?;
    text.parse()
        .map_err(|_| StepError::new(format!("bad cluster id {text}")))
}

impl ObAccess {
    async fn server_and_cluster(
        &self,
        ctx: &StepContext,
    ) -> Result<(ServerRecord, ClusterRecord), StepError> {
        let server = self.store.server(target_server(ctx)?).await?;
        let cluster = self.store.cluster(server.cluster_id).await?;
        Ok((server, cluster))
    }

    /// Installs the cluster's package on the server's host (a no-op when it is there) and
    /// answers the path of the server binary.
    async fn binary(
        &self,
        ctx: &StepContext,
        server: &ServerRecord,
        cluster: &ClusterRecord,
    ) -> Result<String, StepError> {
        let package_id = cluster.package_id.ok_or_else(|| {
            StepError::new(
                "the cluster was taken over without a package; the platform cannot start it",
            )
        })?;
        let package = self.store.package(package_id).await?;
        let binary = package.binary_path.clone().ok_or_else(|| {
            StepError::new(format!("{} holds no server binary", package.file_name))
        })?;
        let spec = InstallPackage {
            id: package.id,
            file_name: package.file_name.clone(),
            sha256: package.sha256.clone(),
            size: package.size,
        };
        let installed: InstalledPackage = self
            .agents
            .call(
                server.host_id,
                reqwest::Method::POST,
                "/v1/mgr/packages/install",
                Some(&spec),
            )
            .await
            .map_err(failed)?;
        if installed.downloaded {
            ctx.log(format!(
                "downloaded {} ({} bytes, sha256 {}) to {} on {}",
                package.file_name, package.size, package.sha256, installed.home, server.ip
            ));
        }
        Ok(format!("{}/{binary}", installed.home))
    }

    /// Whether the server's process runs, as its agent sees it.
    async fn process_running(&self, server: &ServerRecord) -> Result<bool, StepError> {
        let path = format!("/v1/mgr/processes/{}", process_name(server.id));
        match self
            .agents
            .call::<ocp_api::agent::ManagedProcess>(
                server.host_id,
                reqwest::Method::GET,
                &path,
                None::<&()>,
            )
            .await
        {
            Ok(process) => Ok(process.running),
            Err(e) if e.message.contains("404") => Ok(false),
            Err(e) => Err(failed(e)),
        }
    }

    /// Derives the zones' and the cluster's status from their servers.
    async fn settle_cluster(&self, cluster_id: i64) -> Result<ClusterStatus, StepError> {
        let servers = self.store.servers(cluster_id).await?;
        let derive = |of: &[&ServerRecord]| {
            let all = |s: ServerStatus| of.iter().all(|x| x.status == s.as_str());
            if all(ServerStatus::Running) {
                (ServerStatus::Running, ClusterStatus::Running)
            } else if all(ServerStatus::Stopped) {
                (ServerStatus::Stopped, ClusterStatus::Stopped)
            } else if of
                .iter()
                .any(|x| x.status == ServerStatus::Unavailable.as_str())
            {
                (ServerStatus::Unavailable, ClusterStatus::Unavailable)
            } else {
                (ServerStatus::Running, ClusterStatus::Running)
            }
        };
        for zone in self.store.zones(cluster_id).await? {
            let of: Vec<&ServerRecord> = servers.iter().filter(|s| s.zone_id == zone.id).collect();
            self.store
                .set_zone_status(zone.id, derive(&of).0.as_str())
                .await?;
        }
        let all: Vec<&ServerRecord> = servers.iter().collect();
        let status = derive(&all).1;
        self.store
            .set_cluster_status(cluster_id, status.as_str())
            .await?;
        Ok(status)
    }
}

/// Connects as root, trying the configured password and, while the server is new, none.
async fn connect_root(target: &Target, fresh: bool) -> Result<ObClient, ocp_ob::ObError> {
    match ObClient::connect(target, CONNECT_TIMEOUT).await {
        Ok(client) => Ok(client),
        Err(e) if fresh => {
            let empty = Target {
                password: String::new(),
                ..target.clone()
            };
            ObClient::connect(&empty, CONNECT_TIMEOUT)
                .await
                .map_err(|_| e)
        }
        Err(e) => Err(e),
    }
}

/// Prepare install cluster: the cluster row exists (written with the task); rollback forgets
/// it, last of all.
struct PrepareInstall(ObAccess);

#[async_trait]
impl Step for PrepareInstall {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let id = cluster_id(ctx)?;
        let cluster = self.0.store.cluster(id).await?;
        let servers = self.0.store.servers(id).await?;
        for s in &servers {
            ctx.log(format!(
                "server {} in {} on host {} at {}:{}, home {}",
                s.id, s.zone_name, s.host_id, s.ip, s.sql_port, s.home_path
            ));
        }
        ctx.log(format!(
            "cluster {} ({}) is {}",
            cluster.name, cluster.kind, cluster.status
        ));
        Ok(())
    }

    async fn rollback(&self, ctx: &StepContext) -> Result<(), StepError> {
        let id = cluster_id(ctx)?;
        match self.0.store.delete_cluster(id).await {
            Ok(()) => ctx.log(format!("cluster {id} forgotten")),
            Err(ocp_store::StoreError::NotFound { .. }) => ctx.log("cluster already gone"),
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }
}

/// Pre check for install OB: the agent answers and the SQL port is free (or already held
/// by this server's own process).
struct PreCheck(ObAccess);

#[async_trait]
impl Step for PreCheck {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, _) = self.0.server_and_cluster(ctx).await?;
        let report = self.0.agents.status(server.host_id).await.map_err(failed)?;
        if !report.manager_running() {
            return Err(StepError::new(format!(
                "the agent of host {} runs no manager",
                server.ip
            )));
        }
        if self.0.process_running(&server).await? {
            ctx.log("this server's process already runs");
            return Ok(());
        }
        let port: PortAnswer = self
            .0
            .agents
            .call(
                server.host_id,
                reqwest::Method::GET,
                &format!("/v1/mgr/ports/{}", server.sql_port),
                None::<&()>,
            )
            .await
            .map_err(failed)?;
        if port.in_use {
            return Err(StepError::new(format!(
                "port {} of host {} is in use",
                server.sql_port, server.ip
            )));
        }
        ctx.log(format!(
            "host {}: agent answers, port {} free",
            server.ip, server.sql_port
        ));
        Ok(())
    }
}

/// Install rpm: the package on the host, checked against its SHA-256.
struct Install(ObAccess);

#[async_trait]
impl Step for Install {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, cluster) = self.0.server_and_cluster(ctx).await?;
        let binary = self.0.binary(ctx, &server, &cluster).await?;
        ctx.log(format!("server binary {binary}"));
        Ok(())
    }
}

/// Make dir for ob: the server's base directory; rollback removes it.
struct MakeDir(ObAccess);

#[async_trait]
impl Step for MakeDir {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, _) = self.0.server_and_cluster(ctx).await?;
        let made: DirAnswer = self
            .0
            .agents
            .call(
                server.host_id,
                reqwest::Method::POST,
                "/v1/mgr/dirs/prepare",
                Some(&DirRequest {
                    path: server.home_path.clone(),
                }),
            )
            .await
            .map_err(failed)?;
        // The agent resolves a relative path under its data directory, which is where the
        // rule may bite; then the directory goes again before the step fails.
        if let Err(e) = ocp_ob::check_home_path("homePath", &made.path) {
            let mut unusable = server.clone();
            unusable.home_path = made.path.clone();
            remove_dir(&self.0, ctx, &unusable).await?;
            return Err(sql_failed(e));
        }
        if made.path != server.home_path {
            self.0.store.set_server_home(server.id, &made.path).await?;
        }
        ctx.log(format!(
            "{} {}",
            made.path,
            if made.existed { "was there" } else { "made" }
        ));
        Ok(())
    }

    async fn rollback(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, _) = self.0.server_and_cluster(ctx).await?;
        remove_dir(&self.0, ctx, &server).await
    }
}

async fn remove_dir(
    access: &ObAccess,
    ctx: &StepContext,
    server: &ServerRecord,
) -> Result<(), StepError> {
    let removed: DirAnswer = access
        .agents
        .call(
            server.host_id,
            reqwest::Method::POST,
            "/v1/mgr/dirs/remove",
            Some(&DirRequest {
                path: server.home_path.clone(),
            }),
        )
        .await
        .map_err(failed)?;
    ctx.log(format!(
        "{} {}",
        removed.path,
        if removed.existed {
            "removed"
        } else {
            "was not there"
        }
    ));
    Ok(())
}

/// Start observer process: through the agent, in its own process group. A first start
/// (`bootstrap`) passes the cluster's startup parameters; later starts pass none, so that
/// values set since (which the server persists) are kept. Rollback stops it.
struct StartProcess {
    access: ObAccess,
    bootstrap: bool,
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
async fn spawn_server(
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
            "/v1/mgr/processes",
            Some(&spec),
        )
        .await
        .map_err(failed)?;
    ctx.log(format!("started pid {}: {}", started.pid, started.command));
    Ok(())
}

async fn stop_process(
    access: &ObAccess,
    ctx: &StepContext,
    server: &ServerRecord,
) -> Result<(), StepError> {
    let path = format!("/v1/mgr/processes/{}/stop", process_name(server.id));
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
        Err(e) if e.message.contains("404") => ctx.log("no process to stop"),
        Err(e) => return Err(failed(e)),
    }
    Ok(())
}

/// Stop observer process.
struct StopProcess(ObAccess);

#[async_trait]
impl Step for StopProcess {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, _) = self.0.server_and_cluster(ctx).await?;
        stop_process(&self.0, ctx, &server).await
    }
}

/// Wait observer active: until the server accepts SQL as root.
struct WaitActive {
    access: ObAccess,
    fresh: bool,
}

#[async_trait]
impl Step for WaitActive {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, cluster) = self.access.server_and_cluster(ctx).await?;
        let target = self.access.target(&cluster, &server).map_err(failed)?;
        let started = Instant::now();
        let mut last_error = String::new();
        while started.elapsed() < Duration::from_secs(300) {
            match connect_root(&target, self.fresh).await {
                Ok(mut client) => {
                    let version = client.version().await.map_err(sql_failed)?;
                    client.close().await;
                    ctx.log(format!(
                        "{} accepts SQL after {} ms: {version}",
                        target.address(),
                        started.elapsed().as_millis()
                    ));
                    if !self.fresh {
                        wait_for_ddl(ctx, &target, started).await?;
                    }
                    return Ok(());
                }
                Err(e) => last_error = e.to_string(),
            }
            if !self.access.process_running(&server).await? {
                let path = format!("/v1/mgr/processes/{}/log", process_name(server.id));
                let tail: serde_json::Value = self
                    .access
                    .agents
                    .call(server.host_id, reqwest::Method::GET, &path, None::<&()>)
                    .await
                    .unwrap_or_default();
                let tail = tail["log"].as_str().unwrap_or("").to_string();
                return Err(StepError::new(format!(
                    "the server process exited (last error: {last_error}); its output ends:\n{tail}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(StepError::new(format!("no SQL after 300 s: {last_error}")))
    }
}

/// After a restart, waits (up to 30 s) until the server takes DDL again. seekdb has no clean shutdown
/// (SIGTERM makes it kill itself), so a transaction it had open comes back from the redo
/// log and holds its locks until the server resolves it, which can take tens of seconds on
/// a loaded host; meanwhile reads work but every DDL waits. The probe is a DDL that changes
/// nothing: setting the platform's user's password to what it is (OceanBase refuses to lock
/// or unlock root, even to no effect).
async fn wait_for_ddl(
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

/// Take over observer process: the host's agent adopts the process that serves the SQL
/// port, so the platform stops and starts it like one it started; a server registered
/// without a home path gets the process's working directory (seekdb's base directory).
struct Adopt(ObAccess);

#[async_trait]
impl Step for Adopt {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, _) = self.0.server_and_cluster(ctx).await?;
        let adopted: ocp_api::agent::ManagedProcess = self
            .0
            .agents
            .call(
                server.host_id,
                reqwest::Method::POST,
                &format!("/v1/mgr/processes/{}/adopt", process_name(server.id)),
                Some(&ocp_api::agent::AdoptProcess {
                    port: u16::try_from(server.sql_port)
                        .map_err(|_| StepError::new("the server's SQL port is out of range"))?,
                }),
            )
            .await
            .map_err(failed)?;
        ctx.log(format!("adopted pid {}: {}", adopted.pid, adopted.command));
        if server.home_path.is_empty() && !adopted.cwd.is_empty() {
            self.0
                .store
                .set_server_home(server.id, &adopted.cwd)
                .await?;
            ctx.log(format!("home path {}", adopted.cwd));
        }
        Ok(())
    }
}

/// Set sys password: root gets the cluster's password (a new server has none).
struct SetSysPassword(ObAccess);

#[async_trait]
impl Step for SetSysPassword {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let id = cluster_id(ctx)?;
        let cluster = self.0.store.cluster(id).await?;
        for server in self.0.store.servers(id).await? {
            let target = self.0.target(&cluster, &server).map_err(failed)?;
            if ObClient::connect(&target, CONNECT_TIMEOUT).await.is_ok() {
                ctx.log(format!(
                    "{}: root has its password already",
                    target.address()
                ));
                continue;
            }
            let mut client = connect_root(&target, true).await.map_err(sql_failed)?;
            client
                .set_password(&target.user, &target.password)
                .await
                .map_err(sql_failed)?;
            client.close().await;
            ctx.log(format!("{}: root password set", target.address()));
        }
        Ok(())
    }
}

/// Sync cluster info: the version the servers report, and the monitor users of their hosts.
struct SyncInfo(ObAccess);

#[async_trait]
impl Step for SyncInfo {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let id = cluster_id(ctx)?;
        let mut client = self.0.connect(id).await.map_err(failed)?;
        let version = client.version().await.map_err(sql_failed)?;
        // The read-only user each host's monitor logs in as, its password derived from
        // the host's secret. Made (or mended) only when it cannot log in: a start or restart
        // then runs no DDL. Monitoring is not the server's service, so a failure here is
        // logged and the step goes on; the next sync tries again.
        let servers = self.0.store.servers(id).await?;
        let mut hosts: Vec<(i64, String, u16)> = servers
            .iter()
            .filter_map(|s| Some((s.host_id, s.ip.clone(), u16::try_from(s.sql_port).ok()?)))
            .collect();
        hosts.dedup_by_key(|h| h.0);
        for (host_id, ip, port) in hosts {
            match ensure_monitor_user(&self.0, &mut client, host_id, &ip, port).await {
                Ok(Some(user)) => ctx.log(format!("monitor user {user} made for host {ip}")),
                Ok(None) => ctx.log(format!("monitor user of host {ip} logs in")),
                Err(e) => ctx.log(format!(
                    "WARN monitor user of host {ip} not made ({e}); database metrics of this \
                     host wait for the next sync"
                )),
            }
        }
        client.close().await;
        self.0.store.set_cluster_version(id, &version).await?;
        ctx.log(format!("version {version}"));
        Ok(())
    }
}

/// Makes the monitor user of a host unless it already logs in and reads the monitor views;
/// answers its name if made.
async fn ensure_monitor_user(
    access: &ObAccess,
    root: &mut ObClient,
    host_id: i64,
    ip: &str,
    port: u16,
) -> Result<Option<String>, String> {
    let host = access
        .store
        .host(host_id)
        .await
        .map_err(|e| e.to_string())?;
    let Some(agent) = host.agent else {
        return Err("the host has no agent".into());
    };
    let secret = access
        .vault
        .unseal(&agent.secret_sealed)
        .map_err(|e| e.to_string())?;
    let user = ocp_api::agent::monitor_user(host_id);
    let password = ocp_api::agent::monitor_password(&secret);
    let target = Target {
        host: ip.to_string(),
        port,
        user: user.clone(),
        password: password.clone(),
    };
    if let Ok(mut client) = ObClient::connect(&target, CONNECT_TIMEOUT).await {
        let reads = client.monitor_stats().await.is_ok();
        client.close().await;
        if reads {
            return Ok(None);
        }
    }
    root.ensure_monitor_user(&user, &password)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Some(user))
}

/// Sets a server's status (Prepare start/stop observer, Update observer status). A prepare
/// step's rollback gives the server the status its process shows.
struct ServerStatusStep {
    access: ObAccess,
    status: ServerStatus,
}

#[async_trait]
impl Step for ServerStatusStep {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, _) = self.access.server_and_cluster(ctx).await?;
        self.access
            .store
            .set_server_status(server.id, self.status.as_str())
            .await?;
        ctx.log(format!(
            "server {} {} -> {}",
            server.id, server.status, self.status
        ));
        Ok(())
    }

    async fn rollback(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, _) = self.access.server_and_cluster(ctx).await?;
        let status = if self.access.process_running(&server).await? {
            ServerStatus::Running
        } else {
            ServerStatus::Stopped
        };
        self.access
            .store
            .set_server_status(server.id, status.as_str())
            .await?;
        self.access.settle_cluster(server.cluster_id).await?;
        ctx.log(format!("server {} back to {status}", server.id));
        Ok(())
    }
}

/// Start ocp agent service: the host's agent must run its workers.
struct AgentService(ObAccess);

#[async_trait]
impl Step for AgentService {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, _) = self.0.server_and_cluster(ctx).await?;
        let mut report = self.0.agents.status(server.host_id).await.map_err(failed)?;
        if !report.manager_running() {
            report = self
                .0
                .agents
                .all_workers(server.host_id, "start")
                .await
                .map_err(failed)?;
        }
        ctx.log(format!("agent {} on {} serves", report.version, server.ip));
        Ok(())
    }
}

/// Start server / Stop server: OceanBase's `ALTER SYSTEM START|STOP SERVER`. A seekdb
/// server serves as soon as it accepts SQL and has no such switch.
struct ServerService {
    access: ObAccess,
    start: bool,
}

#[async_trait]
impl Step for ServerService {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (_, cluster) = self.access.server_and_cluster(ctx).await?;
        if cluster.kind != ocp_api::ob::ServerKind::Seekdb.as_str() {
            return Err(StepError::new(
                "ALTER SYSTEM START/STOP SERVER needs a multi-server OceanBase cluster, \
                 which this platform cannot reach here",
            ));
        }
        ctx.log(format!(
            "seekdb has no separate service switch: it {} with its process",
            if self.start {
                "serves"
            } else {
                "stops serving"
            }
        ));
        Ok(())
    }
}

/// Update zone status / Update OB cluster status: derived from the servers.
struct Settle(ObAccess);

#[async_trait]
impl Step for Settle {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let status = self.0.settle_cluster(cluster_id(ctx)?).await?;
        ctx.log(format!("cluster {status}"));
        Ok(())
    }
}

/// Remove ob dir (cluster delete, unless the data is kept).
struct RemoveDir(ObAccess);

#[async_trait]
impl Step for RemoveDir {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, _) = self.0.server_and_cluster(ctx).await?;
        if ctx.get("keep_data") == Some("true") {
            ctx.log(format!("keeping {}", server.home_path));
            return Ok(());
        }
        remove_dir(&self.0, ctx, &server).await
    }
}

/// Delete cluster metadata: the last step of a delete.
struct DeleteMeta(ObAccess);

#[async_trait]
impl Step for DeleteMeta {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let id = cluster_id(ctx)?;
        match self.0.store.delete_cluster(id).await {
            Ok(()) | Err(ocp_store::StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        ctx.log(format!("cluster {id} deleted"));
        Ok(())
    }
}

/// Trigger compaction: `ALTER SYSTEM MAJOR FREEZE`, remembering the frozen SCN before.
struct TriggerCompaction(ObAccess);

#[async_trait]
impl Step for TriggerCompaction {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let id = cluster_id(ctx)?;
        let mut client = self.0.connect(id).await.map_err(failed)?;
        if ctx.get("frozen_scn_before").is_none() {
            let before = client.compaction().await.map_err(sql_failed)?;
            ctx.set("frozen_scn_before", &before.frozen_scn).await?;
            client.major_freeze().await.map_err(sql_failed)?;
            ctx.log(format!(
                "major freeze after frozen SCN {}",
                before.frozen_scn
            ));
        } else {
            ctx.log("the freeze was triggered by an earlier run");
        }
        client.close().await;
        Ok(())
    }
}

/// Wait compaction finished: a new frozen SCN, compacted (LAST_SCN reaches it), IDLE.
struct WaitCompaction(ObAccess);

#[async_trait]
impl Step for WaitCompaction {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let id = cluster_id(ctx)?;
        let before: u64 = ctx.require("frozen_scn_before")?.parse().unwrap_or(0);
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < Duration::from_secs(3600) {
            let mut client = self.0.connect(id).await.map_err(failed)?;
            let now = client.compaction().await.map_err(sql_failed)?;
            client.close().await;
            if now.is_error {
                return Err(StepError::new(format!(
                    "compaction reports an error: {now:?}"
                )));
            }
            let frozen: u64 = now.frozen_scn.parse().unwrap_or(0);
            let state = format!(
                "{} frozen {} last {}",
                now.status, now.frozen_scn, now.last_scn
            );
            if state != last {
                ctx.log(&state);
                last = state;
            }
            if frozen > before && now.last_scn == now.frozen_scn && now.status == "IDLE" {
                ctx.log(format!(
                    "compaction done in {} ms",
                    started.elapsed().as_millis()
                ));
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Err(StepError::new("compaction did not finish within an hour"))
    }
}

pub fn register(registry: &mut Registry, access: &ObAccess) {
    let a = || access.clone();
    let status = |s| ServerStatusStep {
        access: access.clone(),
        status: s,
    };
    registry
        .register(class("PrepareInstallClusterTask"), PrepareInstall(a()))
        .register(class("PreCheckForInstallObTask"), PreCheck(a()))
        .register(class("InstallRpmTask"), Install(a()))
        .register(class("MakeDirForObTask"), MakeDir(a()))
        .register(
            class("BootstrapObTask"),
            StartProcess {
                access: a(),
                bootstrap: true,
            },
        )
        .register(
            class("StartObserverProcessTask"),
            StartProcess {
                access: a(),
                bootstrap: false,
            },
        )
        .register(class("StopObserverProcessTask"), StopProcess(a()))
        .register(
            class("WaitObserverAccessibleTask"),
            WaitActive {
                access: a(),
                fresh: true,
            },
        )
        .register(
            class("WaitObserverActiveTask"),
            WaitActive {
                access: a(),
                fresh: false,
            },
        )
        .register(class("SetSysPasswordTask"), SetSysPassword(a()))
        .register(class("TakeOverObserverProcessTask"), Adopt(a()))
        .register(class("SyncClusterInfoTask"), SyncInfo(a()))
        .register(
            class("PrepareStartObserverTask"),
            status(ServerStatus::Starting),
        )
        .register(
            class("PrepareStopObserverTask"),
            status(ServerStatus::Stopping),
        )
        .register(
            class("PrepareRestartObserverTask"),
            status(ServerStatus::Restarting),
        )
        .register(
            class("PrepareDeleteObserverTask"),
            status(ServerStatus::Deleting),
        )
        .register(
            class("UpdateObserverRunningTask"),
            status(ServerStatus::Running),
        )
        .register(
            class("UpdateObserverStoppedTask"),
            status(ServerStatus::Stopped),
        )
        .register(class("StartOcpAgentServiceTask"), AgentService(a()))
        .register(
            class("StartServerTask"),
            ServerService {
                access: a(),
                start: true,
            },
        )
        .register(
            class("StopServerTask"),
            ServerService {
                access: a(),
                start: false,
            },
        )
        .register(class("UpdateZoneStatusTask"), Settle(a()))
        .register(class("UpdateObClusterStatusTask"), Settle(a()))
        .register(class("RemoveObDirTask"), RemoveDir(a()))
        .register(class("DeleteClusterMetaTask"), DeleteMeta(a()))
        .register(class("TriggerCompactionTask"), TriggerCompaction(a()))
        .register(class("WaitCompactionTask"), WaitCompaction(a()));
}

fn spec(name: &str, class_name: &str, timeout: i64, idx: Option<usize>) -> StepSpec {
    let s = StepSpec::new(name, class(class_name)).timeout_secs(timeout);
    match idx {
        Some(i) => s.parallel(i),
        None => s,
    }
}

/// The per-server steps of each operation, as `(name, class, timeout)`.
fn server_steps(operation: &str) -> Vec<(&'static str, &'static str, i64)> {
    let start = [
        ("Start observer process", "StartObserverProcessTask", 600),
        ("Wait observer active", "WaitObserverActiveTask", 600),
        ("Start ocp agent service", "StartOcpAgentServiceTask", 300),
        ("Start server", "StartServerTask", 300),
        ("Update observer status", "UpdateObserverRunningTask", 60),
    ];
    let stop = [
        ("Stop server", "StopServerTask", 300),
        ("Stop observer process", "StopObserverProcessTask", 600),
        ("Update observer status", "UpdateObserverStoppedTask", 60),
    ];
    match operation {
        "start" => std::iter::once(("Prepare start observer", "PrepareStartObserverTask", 60))
            .chain(start)
            .collect(),
        "stop" => std::iter::once(("Prepare stop observer", "PrepareStopObserverTask", 60))
            .chain(stop)
            .collect(),
        _ => std::iter::once(("Prepare restart observer", "PrepareRestartObserverTask", 60))
            .chain(stop.into_iter().take(2))
            .chain(start)
            .collect(),
    }
}

/// Start, stop or restart servers of a cluster: one branch per server (one chain for one
/// server, as in `004_*`), then the zone and cluster status and, when servers run, the
/// cluster's info.
pub fn server_operation(
    name: &str,
    cluster_id: i64,
    server_ids: &[i64],
    operation: &str,
) -> TaskTemplate {
    let mut template = TaskTemplate::new(name)
        .cluster(cluster_id)
        .value("operation", operation)
        .list(
            "server_ids",
            server_ids.iter().map(i64::to_string).collect(),
        );
    if let [only] = server_ids {
        template = template.value("server_id", only.to_string());
    }
    let single = server_ids.len() == 1;
    let mut ends: Vec<NodeId> = Vec::new();
    for i in 0..server_ids.len() {
        let idx = (!single).then_some(i);
        let specs: Vec<StepSpec> = server_steps(operation)
            .into_iter()
            .map(|(n, c, t)| spec(n, c, t, idx))
            .collect();
        let mut previous: Vec<NodeId> = Vec::new();
        for s in specs {
            previous = vec![template.step(s, &previous)];
        }
        ends.extend(previous);
    }
    if !single {
        ends = vec![template.step(
            StepSpec::new("Wait node", format!("{PKG}.WaitNode")).timeout_secs(30),
            &ends,
        )];
    }
    let mut tail = vec![spec("Update zone status", "UpdateZoneStatusTask", 60, None)];
    if operation != "stop" {
        tail.push(spec("Sync cluster info", "SyncClusterInfoTask", 120, None));
    }
    tail.push(spec(
        "Update OB cluster status",
        "UpdateObClusterStatusTask",
        60,
        None,
    ));
    template.chain(tail, &ends);
    template
}

/// Deploys a cluster registered as CREATING (the create-cluster sample's steps that apply).
pub fn create_cluster(cluster_id: i64, server_ids: &[i64]) -> TaskTemplate {
    let mut template = TaskTemplate::new("Create primary OB cluster")
        .cluster(cluster_id)
        .value("target_cluster_status", "RUNNING")
        .list(
            "server_ids",
            server_ids.iter().map(i64::to_string).collect(),
        );
    if let [only] = server_ids {
        template = template.value("server_id", only.to_string());
    }
    let single = server_ids.len() == 1;
    let first = template.step(
        spec(
            "Prepare install cluster",
            "PrepareInstallClusterTask",
            60,
            None,
        ),
        &[],
    );
    let mut ends = Vec::new();
    for i in 0..server_ids.len() {
        let idx = (!single).then_some(i);
        let chain = [
            ("Pre check for install OB", "PreCheckForInstallObTask", 300),
            ("Install rpm", "InstallRpmTask", 1800),
            ("Make dir for ob", "MakeDirForObTask", 300),
            ("Bootstrap ob", "BootstrapObTask", 600),
            (
                "Wait observer accessible",
                "WaitObserverAccessibleTask",
                600,
            ),
        ];
        let mut previous = vec![first];
        for (n, c, t) in chain {
            previous = vec![template.step(spec(n, c, t, idx), &previous)];
        }
        ends.extend(previous);
    }
    template.chain(
        [
            spec("Set sys password", "SetSysPasswordTask", 120, None),
            spec(
                "Update observer status",
                "UpdateObserverRunningTask",
                60,
                None,
            ),
            spec("Sync cluster info", "SyncClusterInfoTask", 120, None),
            spec(
                "Update OB cluster status",
                "UpdateObClusterStatusTask",
                60,
                None,
            ),
        ],
        &ends,
    );
    template
}

/// Registers a running server: no process is touched.
pub fn take_over(cluster_id: i64, server_id: i64) -> TaskTemplate {
    let mut template = TaskTemplate::new("Take over OB cluster")
        .cluster(cluster_id)
        .value("server_id", server_id.to_string());
    template.chain(
        [
            spec("Wait observer active", "WaitObserverActiveTask", 60, None),
            spec(
                "Take over observer process",
                "TakeOverObserverProcessTask",
                60,
                None,
            ),
            spec(
                "Update observer status",
                "UpdateObserverRunningTask",
                60,
                None,
            ),
            spec("Sync cluster info", "SyncClusterInfoTask", 120, None),
            spec(
                "Update OB cluster status",
                "UpdateObClusterStatusTask",
                60,
                None,
            ),
        ],
        &[],
    );
    template
}

/// Stops every server, removes their directories unless `keep_data`, forgets the cluster.
pub fn delete_cluster(cluster_id: i64, server_ids: &[i64], keep_data: bool) -> TaskTemplate {
    let mut template = TaskTemplate::new("Delete OB cluster")
        .cluster(cluster_id)
        .value("keep_data", keep_data.to_string())
        .list(
            "server_ids",
            server_ids.iter().map(i64::to_string).collect(),
        )
        .prohibit_rollback();
    let mut ends = Vec::new();
    for i in 0..server_ids.len() {
        let mut previous = Vec::new();
        for (n, c, t) in [
            ("Prepare delete observer", "PrepareDeleteObserverTask", 60),
            ("Stop observer process", "StopObserverProcessTask", 600),
            ("Remove ob dir", "RemoveObDirTask", 600),
        ] {
            previous = vec![template.step(spec(n, c, t, Some(i)), &previous)];
        }
        ends.extend(previous);
    }
    template.step(
        spec("Delete cluster metadata", "DeleteClusterMetaTask", 60, None),
        &ends,
    );
    template
}

/// A major compaction, followed to its end.
pub fn major_compaction(cluster_id: i64) -> TaskTemplate {
    let mut template = TaskTemplate::new("Major compaction").cluster(cluster_id);
    template.chain(
        [
            spec("Trigger compaction", "TriggerCompactionTask", 120, None),
            spec("Wait compaction finished", "WaitCompactionTask", 3600, None),
        ],
        &[],
    );
    template
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_server_has_the_steps_of_the_sample() {
        let task = server_operation("Start OB server", 20, &[3], "start")
            .build(1, "admin", "x")
            .unwrap();
        let names: Vec<&str> = task.subtasks.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Prepare start observer",
                "Start observer process",
                "Wait observer active",
                "Start ocp agent service",
                "Start server",
                "Update observer status",
                "Update zone status",
                "Sync cluster info",
                "Update OB cluster status"
            ]
        );
    }
}
