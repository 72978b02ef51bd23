//! What the metadb and the hosts keep of servers: cluster info, statuses, services, the
//! rows a delete forgets, and compaction.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use ocp_api::ob::{ClusterType, ServerStatus};
use ocp_ob::{ObClient, Target};
use ocp_task::{Step, StepContext, StepError};

use crate::cluster::access::{ObAccess, CONNECT_TIMEOUT};

use super::*;

/// Sync cluster info: the version the servers report, and the monitor users of their hosts.
pub(super) struct SyncInfo(pub(super) ObAccess);

#[async_trait]
impl Step for SyncInfo {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let id = cluster_id(ctx)?;
        let mut client = self.0.connect(id).await.map_err(failed)?;
        let version = client.version().await.map_err(sql_failed)?;
        // A standby is read-only: its hosts' monitor users are made on its primary, whose
        // users it replicates.
        let cluster = self.0.store.cluster(id).await?;
        if let (ClusterType::Standby, Some(primary)) =
            (cluster.cluster_type, cluster.primary_cluster_id)
        {
            match self.0.connect(primary).await {
                Ok(primary) => std::mem::replace(&mut client, primary).close().await,
                Err(e) => ctx.log(format!("WARN the primary does not answer: {}", e.message)),
            }
        }
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

/// The secret a host's agent shares with the server, from which the passwords of the
/// host's monitor and backup users derive.
pub(super) async fn host_secret(access: &ObAccess, host_id: i64) -> Result<String, String> {
    let host = access
        .store
        .host(host_id)
        .await
        .map_err(|e| e.to_string())?;
    let Some(agent) = host.agent else {
        return Err("the host has no agent".into());
    };
    access
        .vault
        .unseal(&agent.secret_sealed)
        .map_err(|e| e.to_string())
}

/// Makes the monitor user of a host unless it already logs in and reads the monitor views;
/// answers its name if made.
pub(super) async fn ensure_monitor_user(
    access: &ObAccess,
    root: &mut ObClient,
    host_id: i64,
    ip: &str,
    port: u16,
) -> Result<Option<String>, String> {
    let secret = host_secret(access, host_id).await?;
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
pub(super) struct ServerStatusStep {
    pub(super) access: ObAccess,
    pub(super) status: ServerStatus,
}

#[async_trait]
impl Step for ServerStatusStep {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, _) = self.access.server_and_cluster(ctx).await?;
        self.access
            .store
            .set_server_status(server.id, self.status)
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
            .set_server_status(server.id, status)
            .await?;
        self.access.settle_cluster(server.cluster_id).await?;
        ctx.log(format!("server {} back to {status}", server.id));
        Ok(())
    }
}

/// Start ocp agent service: the host's agent must run its workers.
pub(super) struct AgentService(pub(super) ObAccess);

#[async_trait]
impl Step for AgentService {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, _) = self.0.server_and_cluster(ctx).await?;
        let mut report = self.0.agents.status(server.host_id).await?;
        if !report.manager_running() {
            report = self.0.agents.all_workers(server.host_id, "start").await?;
        }
        ctx.log(format!("agent {} on {} serves", report.version, server.ip));
        Ok(())
    }
}

/// Start server / Stop server: OceanBase's `ALTER SYSTEM START|STOP SERVER`. A seekdb
/// server serves as soon as it accepts SQL and has no such switch.
pub(super) struct ServerService {
    pub(super) access: ObAccess,
    pub(super) start: bool,
}

#[async_trait]
impl Step for ServerService {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (_, cluster) = self.access.server_and_cluster(ctx).await?;
        if cluster.kind != ocp_api::ob::ServerKind::Seekdb {
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
pub(super) struct Settle(pub(super) ObAccess);

#[async_trait]
impl Step for Settle {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let status = self.0.settle_cluster(cluster_id(ctx)?).await?;
        ctx.log(format!("cluster {status}"));
        Ok(())
    }
}

/// Remove ob dir (cluster delete, unless the data is kept).
pub(super) struct RemoveDir(pub(super) ObAccess);

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
pub(super) struct DeleteMeta(pub(super) ObAccess);

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
pub(super) struct TriggerCompaction(pub(super) ObAccess);

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
pub(super) struct WaitCompaction(pub(super) ObAccess);

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
