//! Deploy and take-over steps: prepare, pre-check, install, make the directory, the sys
//! password, adopting a running server.

use async_trait::async_trait;
use ocp_api::agent_path;
use ocp_api::ob::SetParameter;
use ocp_api::obdb::{DirAnswer, DirRequest, PortAnswer};
use ocp_ob::ObClient;
use ocp_store::ServerRecord;
use ocp_task::{Step, StepContext, StepError};

use crate::cluster::access::{process_name, ObAccess, CONNECT_TIMEOUT};

use super::*;

/// Prepare install cluster: the cluster row exists (written with the task); rollback forgets
/// it, last of all.
pub(super) struct PrepareInstall(pub(super) ObAccess);

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
pub(super) struct PreCheck(pub(super) ObAccess);

#[async_trait]
impl Step for PreCheck {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, _) = self.0.server_and_cluster(ctx).await?;
        let report = self.0.agents.status(server.host_id).await?;
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
        let sql_port = u16::try_from(server.sql_port)
            .map_err(|_| StepError::new("the server's SQL port is out of range"))?;
        let port: PortAnswer = self
            .0
            .agents
            .call(
                server.host_id,
                reqwest::Method::GET,
                &agent_path::manager::port(sql_port),
                None::<&()>,
            )
            .await?;
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
pub(super) struct Install(pub(super) ObAccess);

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
pub(super) struct MakeDir(pub(super) ObAccess);

#[async_trait]
impl Step for MakeDir {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, _) = self.0.server_and_cluster(ctx).await?;
        let made = prepare_dir(&self.0, &server).await?;
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

/// Has the server's agent make its base directory (nothing when it is there).
pub(super) async fn prepare_dir(
    access: &ObAccess,
    server: &ServerRecord,
) -> Result<DirAnswer, StepError> {
    Ok(access
        .agents
        .call(
            server.host_id,
            reqwest::Method::POST,
            &agent_path::manager::dir_prepare(),
            Some(&DirRequest {
                path: server.home_path.clone(),
            }),
        )
        .await?)
}

pub(super) async fn remove_dir(
    access: &ObAccess,
    ctx: &StepContext,
    server: &ServerRecord,
) -> Result<(), StepError> {
    let removed: DirAnswer = access
        .agents
        .call(
            server.host_id,
            reqwest::Method::POST,
            &agent_path::manager::dir_remove(),
            Some(&DirRequest {
                path: server.home_path.clone(),
            }),
        )
        .await?;
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

/// Take over observer process: the host's agent adopts the process that serves the SQL
/// port, so the platform stops and starts it like one it started; a server registered
/// without a home path gets the process's working directory (seekdb's base directory).
pub(super) struct Adopt(pub(super) ObAccess);

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
                &agent_path::manager::process_adopt(&process_name(server.id)),
                Some(&ocp_api::agent::AdoptProcess {
                    port: u16::try_from(server.sql_port)
                        .map_err(|_| StepError::new("the server's SQL port is out of range"))?,
                }),
            )
            .await?;
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
pub(super) struct SetSysPassword(pub(super) ObAccess);

/// Startup parameters seekdb's bootstrap sets again itself: they are set once more after
/// it, as the cluster's startup parameters say.
const AFTER_BOOTSTRAP: &[&str] = &["enable_record_trace_log"];

#[async_trait]
impl Step for SetSysPassword {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let id = cluster_id(ctx)?;
        let cluster = self.0.store.cluster(id).await?;
        let parameters: Vec<SetParameter> =
            serde_json::from_str(&cluster.startup_parameters).unwrap_or_default();
        for server in self.0.store.servers(id).await? {
            let target = self.0.target(&cluster, &server).map_err(failed)?;
            let mut client = match ObClient::connect(&target, CONNECT_TIMEOUT).await {
                Ok(client) => {
                    ctx.log(format!(
                        "{}: root has its password already",
                        target.address()
                    ));
                    client
                }
                Err(_) => {
                    let mut client = connect_root(&target, true).await.map_err(sql_failed)?;
                    client
                        .set_password(&target.user, &target.password)
                        .await
                        .map_err(sql_failed)?;
                    ctx.log(format!("{}: root password set", target.address()));
                    client
                }
            };
            for p in parameters
                .iter()
                .filter(|p| AFTER_BOOTSTRAP.contains(&p.name.as_str()))
            {
                client
                    .set_parameter(&p.name, &p.value)
                    .await
                    .map_err(sql_failed)?;
                ctx.log(format!("{}: {} = {}", target.address(), p.name, p.value));
            }
            client.close().await;
        }
        Ok(())
    }
}
