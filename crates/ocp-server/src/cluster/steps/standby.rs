//! The steps of standby tasks: serve a primary's log, wait until a standby reads what its
//! primary has written, exchange the roles of a pair (switchover) or give the primary's
//! role to the standby (failover), fencing off the old primary, and record the roles.
//!
//! The pair's clusters are in the context: `standby_cluster_id` (a standby being built or
//! checked), `old_primary_id` and `old_standby_id` (a switchover or failover). Every SQL
//! statement here may run twice (see `ocp_ob::standby`).

use std::time::{Duration, Instant};

use async_trait::async_trait;
use ocp_api::ob::{ClusterType, ServerStatus};
use ocp_api::standby::SyncStatus;
use ocp_ob::ObClient;
use ocp_store::{ClusterRole, ServerRecord};
use ocp_task::{Step, StepContext, StepError};

use crate::cluster::access::ObAccess;
use crate::cluster::standby::log_source;

use super::*;

impl ObAccess {
    /// The one server of a cluster and a root connection to it.
    async fn pair_member(&self, cluster_id: i64) -> Result<(ServerRecord, ObClient), StepError> {
        let server = self
            .store
            .servers(cluster_id)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StepError::new(format!("cluster {cluster_id} has no server")))?;
        let client = self.connect(cluster_id).await.map_err(failed)?;
        Ok((server, client))
    }
}

fn rpc_port(server: &ServerRecord) -> Result<u16, StepError> {
    u16::try_from(server.rpc_port).map_err(|_| StepError::new("the RPC port is out of range"))
}

/// Enable primary log service: the primary serves its log on its recorded RPC port.
pub(super) struct ServeLog(pub(super) ObAccess);

#[async_trait]
impl Step for ServeLog {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, mut client) = self
            .0
            .pair_member(context_id(ctx, "primary_cluster_id")?)
            .await?;
        let served = client.serve_log(rpc_port(&server)?).await;
        let checkpoint = match served {
            Ok(()) => primary_settled(ctx, &mut client).await,
            Err(e) => Err(sql_failed(e)),
        };
        client.close().await;
        checkpoint?;
        ctx.log(format!(
            "the primary serves its log on {}",
            log_source(&server)
        ));
        Ok(())
    }
}

/// Waits (up to 120 s) until the primary has settled (see [`ObClient::wait_settled`]).
async fn primary_settled(ctx: &StepContext, client: &mut ObClient) -> Result<(), StepError> {
    let started = Instant::now();
    let (settled, scn, count) = client
        .wait_settled(Duration::from_secs(120))
        .await
        .map_err(sql_failed)?;
    if !settled {
        return Err(StepError::new(format!(
            "the primary has not settled after 120 s (checkpoint SCN {scn}, {count} system \
             packages); a standby cannot be built from it yet"
        )));
    }
    ctx.log(format!(
        "the primary has settled (checkpoint SCN {scn}, {count} system packages) after {} ms",
        started.elapsed().as_millis()
    ));
    Ok(())
}

/// Bootstrap standby: starts the standby on its empty directory and waits until it serves
/// SQL. One that exits or does not serve within 90 s (a primary's young log can stall its
/// replay) is stopped, its directory emptied, and started again, up to 5 times.
pub(super) struct BootstrapStandby(pub(super) ObAccess);

#[async_trait]
impl Step for BootstrapStandby {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, cluster) = self.0.server_and_cluster(ctx).await?;
        let target = self.0.target(&cluster, &server).map_err(failed)?;
        let mut why = String::new();
        for attempt in 1..=5 {
            if !self.0.process_running(&server).await? {
                spawn_server(&self.0, ctx, &server, &cluster, true).await?;
            }
            let started = Instant::now();
            why = loop {
                if let Ok(client) = connect_root(&target, true).await {
                    client.close().await;
                    ctx.log(format!(
                        "the standby serves SQL after {} ms",
                        started.elapsed().as_millis()
                    ));
                    return Ok(());
                }
                if !self.0.process_running(&server).await? {
                    break "its process exited".to_string();
                }
                if started.elapsed() > Duration::from_secs(90) {
                    break "it served no SQL within 90 s".to_string();
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            };
            ctx.log(format!(
                "WARN attempt {attempt}: {why}; starting it again on an empty directory"
            ));
            stop_process(&self.0, ctx, &server).await?;
            remove_dir(&self.0, ctx, &server).await?;
            prepare_dir(&self.0, &server).await?;
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        Err(StepError::new(format!(
            "the standby did not start in 5 attempts: {why}"
        )))
    }

    async fn rollback(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, _) = self.0.server_and_cluster(ctx).await?;
        stop_process(&self.0, ctx, &server).await
    }
}

/// Wait standby synchronized: until the standby (context `key`) has the log its primary had
/// written when the step began, and, if `readable`, reads consistently up to it (which can
/// take a second or more longer); then it is VALID.
pub(super) struct WaitSync {
    pub(super) access: ObAccess,
    pub(super) key: &'static str,
    pub(super) readable: bool,
}

impl WaitSync {
    fn reached(&self, stat: &ocp_ob::ReplicaStat, target: i64) -> bool {
        match self.readable {
            true => stat.readable_scn >= target,
            false => stat.sync_scn >= target,
        }
    }
}

#[async_trait]
impl Step for WaitSync {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let standby_id = context_id(ctx, self.key)?;
        let standby = self.access.store.cluster(standby_id).await?;
        let primary_id = standby.primary_cluster_id.ok_or_else(|| {
            StepError::new(format!("cluster {} follows no primary", standby.name))
        })?;
        let (_, mut primary) = self.access.pair_member(primary_id).await?;
        let target = primary.log_end_scn().await;
        primary.close().await;
        let target = target.map_err(sql_failed)?;
        let started = Instant::now();
        let mut last;
        loop {
            match self.access.connect(standby_id).await {
                Ok(mut client) => {
                    let stat = client.replica_stat().await;
                    client.close().await;
                    match stat {
                        Ok(stat) if self.reached(&stat, target) => {
                            ctx.log(format!(
                                "{} has the log to SCN {} and reads up to {} (the primary had \
                                 written {target}) after {} ms, as {}",
                                standby.name,
                                stat.sync_scn,
                                stat.readable_scn,
                                started.elapsed().as_millis(),
                                stat.role
                            ));
                            break;
                        }
                        Ok(stat) => {
                            last = format!(
                                "readable SCN {} of {target}, {:.1} s behind",
                                stat.readable_scn,
                                (target - stat.readable_scn) as f64 / 1e9
                            )
                        }
                        Err(e) => last = e.to_string(),
                    }
                }
                Err(e) => last = e.message,
            }
            if started.elapsed() > Duration::from_secs(1800) {
                return Err(StepError::new(format!(
                    "{} has not caught up with its primary after 1800 s: {last}",
                    standby.name
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.access
            .store
            .set_cluster_roles(&[ClusterRole {
                cluster_id: standby_id,
                cluster_type: ClusterType::Standby,
                primary_cluster_id: Some(primary_id),
                sync_status: Some(SyncStatus::Valid.as_str().into()),
            }])
            .await?;
        Ok(())
    }
}

/// What a role-changing step does to its cluster.
#[derive(Clone, Copy)]
pub(super) enum RoleChange {
    /// The primary of a switchover: read-only at once, a standby once its log is shipped.
    ToStandby,
    /// The standby of a switchover: the primary, serving its log to the old primary.
    ToPrimary,
    /// The standby of a failover: the primary, with the log it has.
    Activate,
    /// The old primary of a switchover: follows the new primary's log.
    Follow,
}

pub(super) struct ChangeRole {
    pub(super) access: ObAccess,
    pub(super) change: RoleChange,
}

#[async_trait]
impl Step for ChangeRole {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let old_primary = context_id(ctx, "old_primary_id")?;
        let old_standby = context_id(ctx, "old_standby_id")?;
        let on = match self.change {
            RoleChange::ToStandby | RoleChange::Follow => old_primary,
            RoleChange::ToPrimary | RoleChange::Activate => old_standby,
        };
        let (server, mut client) = self.access.pair_member(on).await?;
        let done = match self.change {
            RoleChange::ToStandby => client.switchover_to_standby().await,
            RoleChange::ToPrimary => match client.switchover_to_primary().await {
                Ok(()) => client.serve_log(rpc_port(&server)?).await,
                e => e,
            },
            RoleChange::Activate => match client.activate_standby().await {
                Ok(()) => client.serve_log(rpc_port(&server)?).await,
                e => e,
            },
            RoleChange::Follow => {
                let new_primary = self.access.store.servers(old_standby).await?;
                let source = new_primary
                    .first()
                    .map(log_source)
                    .ok_or_else(|| StepError::new("the new primary has no server"))?;
                ctx.log(format!("following {source}"));
                client.follow(&source).await
            }
        };
        client.close().await;
        done.map_err(sql_failed)?;
        ctx.log(format!("{}:{} done", server.ip, server.sql_port));
        Ok(())
    }
}

/// Update cluster roles: the standby is the primary; the old primary is its standby,
/// following it after a switchover, fenced off (DISABLED) after a failover.
pub(super) struct UpdateRoles {
    pub(super) access: ObAccess,
    pub(super) failover: bool,
}

#[async_trait]
impl Step for UpdateRoles {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let old_primary = context_id(ctx, "old_primary_id")?;
        let old_standby = context_id(ctx, "old_standby_id")?;
        let status = match self.failover {
            true => SyncStatus::Disabled,
            false => SyncStatus::Synchronizing,
        };
        self.access
            .store
            .set_cluster_roles(&[
                ClusterRole {
                    cluster_id: old_standby,
                    cluster_type: ClusterType::Primary,
                    primary_cluster_id: None,
                    sync_status: None,
                },
                ClusterRole {
                    cluster_id: old_primary,
                    cluster_type: ClusterType::Standby,
                    primary_cluster_id: Some(old_standby),
                    sync_status: Some(status.as_str().into()),
                },
            ])
            .await?;
        ctx.log(format!(
            "cluster {old_standby} is the primary; cluster {old_primary} its standby, {status}"
        ));
        Ok(())
    }
}

/// Fence old primary: before the standby takes the primary's role, the old primary, if
/// it answers, is made read-only and stopped, so that there is never a second writable
/// primary. A primary that does not answer (the reason for most failovers) is recorded
/// STOPPED; the platform refuses to start it again, since its log has parted from the new
/// primary's.
pub(super) struct Fence(pub(super) ObAccess);

#[async_trait]
impl Step for Fence {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let id = context_id(ctx, "old_primary_id")?;
        let cluster = self.0.store.cluster(id).await?;
        for server in self.0.store.servers(id).await? {
            match self.0.connect_to(&cluster, &server).await {
                Ok(mut client) => {
                    let done = client.switchover_to_standby().await;
                    client.close().await;
                    match done {
                        Ok(()) => ctx.log(format!("{} is read-only", server.ip)),
                        Err(e) => ctx.log(format!("WARN {} not made read-only: {e}", server.ip)),
                    }
                }
                Err(e) => ctx.log(format!("{} does not answer SQL: {}", server.ip, e.message)),
            }
            if let Err(e) = stop_process(&self.0, ctx, &server).await {
                ctx.log(format!(
                    "WARN the agent of {} did not stop the process ({e}); should the host come \
                     back, the server stays fenced: the platform does not start it again",
                    server.ip
                ));
            }
            self.0
                .store
                .set_server_status(server.id, ServerStatus::Stopped)
                .await?;
        }
        self.0.settle_cluster(id).await?;
        Ok(())
    }
}
