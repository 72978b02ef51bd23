//! The steps of cluster tasks (deploy, start, stop, restart, delete, compaction), named as
//! OCP's (`004_*` and the create-cluster sample), and the templates that wire them.
//!
//! A per-server step finds its server in the task context: `server_id`, or for a branch of
//! a fan-out the `server_ids` entry at its `parallelIdx`. Every step checks before it acts:
//! starting a running process, stopping a stopped one, making a directory that is there, or
//! setting a password that is set already does nothing, so a retried step is harmless.

mod backup;
mod deploy;
mod process;
mod standby;
mod state;
mod templates;
mod upgrade;

use ocp_api::agent_path;
use ocp_api::ob::{ClusterStatus, ServerStatus};
use ocp_api::obdb::{InstallPackage, InstalledPackage};
use ocp_ob::{ObClient, Target};
use ocp_store::{ClusterRecord, ServerRecord};
use ocp_task::{Registry, StepContext, StepError};

use crate::cluster::access::{process_name, ObAccess, CONNECT_TIMEOUT};
use crate::cluster::status::derived;
use crate::error::Failure;

use backup::*;
use deploy::*;
use process::*;
use standby::*;
use state::*;
pub use templates::{
    back_up_now, create_cluster, create_standby, delete_cluster, failover, major_compaction,
    restore_cluster, restore_in_place, restore_logical, restore_logical_cluster, server_operation,
    switchover, take_over, upgrade_cluster,
};
use upgrade::*;

const PKG: &str = "com.alipay.ocp.service.task.business";

pub(super) fn class(name: &str) -> String {
    format!("{PKG}.cluster.{name}")
}

pub(super) fn failed(e: Failure) -> StepError {
    StepError::new(e.message)
}

pub(super) fn sql_failed(e: ocp_ob::ObError) -> StepError {
    StepError::new(e.to_string())
}

/// The server a step works on.
pub(super) fn target_server(ctx: &StepContext) -> Result<i64, StepError> {
    ctx.branch_id("server_id", "server_ids")
}

pub(super) fn cluster_id(ctx: &StepContext) -> Result<i64, StepError> {
    context_id(ctx, "cluster_id")
}

/// An id the task context holds under `key`.
pub(super) fn context_id(ctx: &StepContext, key: &str) -> Result<i64, StepError> {
    let text = ctx.require(key)?;
    text.parse()
        .map_err(|_| StepError::new(format!("bad {key} {text}")))
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
        self.install(ctx, server, &package).await
    }

    /// Installs `package` on the server's host (a no-op when it is there) and answers the
    /// path of its server binary.
    async fn install(
        &self,
        ctx: &StepContext,
        server: &ServerRecord,
        package: &ocp_store::PackageRecord,
    ) -> Result<String, StepError> {
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
                &agent_path::manager::package_install(),
                Some(&spec),
            )
            .await?;
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
        let path = agent_path::manager::process(&process_name(server.id));
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
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Derives the zones' and the cluster's status from their servers.
    async fn settle_cluster(&self, cluster_id: i64) -> Result<ClusterStatus, StepError> {
        let servers = self.store.servers(cluster_id).await?;
        for zone in self.store.zones(cluster_id).await? {
            let of = servers.iter().filter(|s| s.zone_id == zone.id);
            let (status, _) = derived(of.map(|s| s.status));
            self.store.set_zone_status(zone.id, status).await?;
        }
        let (_, status) = derived(servers.iter().map(|s| s.status));
        self.store.set_cluster_status(cluster_id, status).await?;
        Ok(status)
    }
}

/// Connects as root, trying the configured password and, while the server is new, none.
pub(super) async fn connect_root(
    target: &Target,
    fresh: bool,
) -> Result<ObClient, ocp_ob::ObError> {
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

pub fn register(registry: &mut Registry, access: &ObAccess) {
    let a = || access.clone();
    let role = |change| ChangeRole {
        access: access.clone(),
        change,
    };
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
        .register(class("PrepareDataBackupTask"), PrepareBackup(a()))
        .register(class("BackupDataTask"), BackupData(a()))
        .register(class("VerifyBackupSetTask"), VerifyBackupSet(a()))
        .register(class("RestoreBackupDataTask"), RestoreData(a()))
        .register(class("CheckBackupSetTask"), CheckBackupSet(a()))
        .register(class("RestoreBackupDataInPlaceTask"), RestoreInPlace(a()))
        .register(class("BackupLogicalDataTask"), DumpData(a()))
        .register(class("CheckRestoreTargetTask"), CheckRestoreTarget(a()))
        .register(class("RestoreLogicalBackupDataTask"), LoadData(a()))
        .register(class("UpdateRestoreStatusTask"), FinishRestore(a()))
        .register(class("CheckUpgradePackageTask"), CheckUpgrade(a()))
        .register(class("InstallUpgradeRpmTask"), InstallUpgrade(a()))
        .register(class("UpgradeObserverTask"), UpgradeServer(a()))
        .register(class("EnablePrimaryLogServiceTask"), ServeLog(a()))
        .register(class("BootstrapStandbyTask"), BootstrapStandby(a()))
        .register(
            class("WaitStandbySyncTask"),
            WaitSync {
                access: a(),
                key: "standby_cluster_id",
                readable: true,
            },
        )
        .register(
            class("CheckStandbySyncTask"),
            WaitSync {
                access: a(),
                key: "standby_cluster_id",
                readable: false,
            },
        )
        .register(
            class("WaitOldPrimarySyncTask"),
            WaitSync {
                access: a(),
                key: "old_primary_id",
                readable: true,
            },
        )
        .register(
            class("SwitchPrimaryToStandbyTask"),
            role(RoleChange::ToStandby),
        )
        .register(
            class("SwitchStandbyToPrimaryTask"),
            role(RoleChange::ToPrimary),
        )
        .register(class("FollowNewPrimaryTask"), role(RoleChange::Follow))
        .register(class("ActivateStandbyTask"), role(RoleChange::Activate))
        .register(
            class("UpdateSwitchoverRolesTask"),
            UpdateRoles {
                access: a(),
                failover: false,
            },
        )
        .register(
            class("UpdateFailoverRolesTask"),
            UpdateRoles {
                access: a(),
                failover: true,
            },
        )
        .register(class("FenceOldPrimaryTask"), Fence(a()))
        .register(class("TriggerCompactionTask"), TriggerCompaction(a()))
        .register(class("WaitCompactionTask"), WaitCompaction(a()));
}
