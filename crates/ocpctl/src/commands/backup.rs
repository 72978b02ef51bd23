//! `ocpctl backup`: a cluster's backup sets and restores.

use ocp_api::backup::{
    BackupAbility, BackupCommonResponse, BackupMode, BackupStorage, BackupStorageType,
    DataBackupTask, RestoreCluster, RestoreTask, StartDataBackup,
};

use super::*;

#[derive(Subcommand)]
pub enum BackupCmd {
    /// What a cluster's backups can be, and why not the rest.
    Ability {
        /// The cluster's id.
        cluster: i64,
    },
    /// Takes a full physical set of a cluster now; its server stops for the copy.
    Now {
        /// The cluster's id.
        cluster: i64,
        /// An absolute directory on the server's host (or file:///path) to write the set in.
        #[arg(long)]
        storage: String,
    },
    /// Lists a cluster's backup sets, newest first.
    List {
        /// The cluster's id.
        cluster: i64,
    },
    /// Restores a set of a cluster into a new cluster on a host, or in place.
    Restore {
        /// The id of the cluster the set was taken of.
        cluster: i64,
        /// The set's id (see `backup list`).
        #[arg(long)]
        set: i64,
        /// Replace the cluster's own data with the set's (put back if the restore fails).
        #[arg(long, conflicts_with_all = ["name", "host", "sql_port", "home_path", "package"])]
        in_place: bool,
        /// The new cluster's name.
        #[arg(long, required_unless_present = "in_place")]
        name: Option<String>,
        /// The host the new cluster's server goes on.
        #[arg(long, required_unless_present = "in_place")]
        host: Option<i64>,
        #[arg(long)]
        sql_port: Option<u16>,
        /// The new server's base directory (default ob/NAME under the agent's data directory).
        #[arg(long)]
        home_path: Option<String>,
        /// The server package to run (default: the backed-up cluster's).
        #[arg(long)]
        package: Option<String>,
    },
    /// Lists the restores from or into a cluster.
    Restores {
        /// The cluster's id.
        cluster: i64,
    },
}

/// Follows (or prints) the task a backup call started.
async fn backup_started(ctx: &mut Ctx, answer: BackupCommonResponse) -> Result<()> {
    let task_id = answer
        .backup_object_ops_result_list
        .first()
        .and_then(|r| r.task_id_list.first())
        .copied()
        .ok_or_else(|| CliError::usage("the server answered no task"))?;
    let task: TaskInstance = ctx
        .client()?
        .get(&format!("/api/v2/tasks/instances/{task_id}"))
        .await?;
    started(ctx, task).await
}

pub async fn backup(ctx: &mut Ctx, cmd: BackupCmd) -> Result<()> {
    let format = ctx.format();
    let client = ctx.client()?.clone();
    let base = |cluster: i64| format!("/api/v2/ob/clusters/{cluster}/backup");
    match cmd {
        BackupCmd::Ability { cluster } => {
            let ability: BackupAbility = client.get(&format!("{}/ability", base(cluster))).await?;
            output::one(format, &ability)
        }
        BackupCmd::Now { cluster, storage } => {
            let request = StartDataBackup {
                backup_mode: BackupMode::PhysicalBackup,
                data_backup_task_type: Some("FULL_BACKUP".into()),
                ob_backup_storage_base_info: BackupStorage {
                    backup_storage_type: BackupStorageType::BackupStorageFile,
                    storage_url: storage,
                },
            };
            let answer: BackupCommonResponse = client
                .post(
                    &format!("{}/task/dataBackupTasks", base(cluster)),
                    Some(&body(&request)),
                )
                .await?;
            backup_started(ctx, answer).await
        }
        BackupCmd::List { cluster } => {
            let sets: PageData<DataBackupTask> = client
                .get(&format!(
                    "{}/task/dataBackupTasks?{}",
                    base(cluster),
                    page_query(1, 2000)
                ))
                .await?;
            output::list(
                format,
                &sets.contents,
                &[
                    "backupSetId",
                    "status",
                    "backupMode",
                    "size",
                    "backupUri",
                    "startTime",
                    "finishTime",
                    "taskId",
                ],
            )
        }
        BackupCmd::Restore {
            cluster,
            set,
            in_place,
            name,
            host,
            sql_port,
            home_path,
            package,
        } => {
            let request = RestoreCluster {
                backup_set_id: set,
                restore_cluster_id: in_place.then_some(cluster),
                restore_cluster_name: name,
                host_id: host,
                sql_port,
                home_path,
                root_password: None,
                rpm_name: package,
            };
            let answer: BackupCommonResponse = client
                .post(&format!("{}/restore", base(cluster)), Some(&body(&request)))
                .await?;
            backup_started(ctx, answer).await
        }
        BackupCmd::Restores { cluster } => {
            let restores: PageData<RestoreTask> = client
                .get(&format!(
                    "{}/task/restoreTasks?{}",
                    base(cluster),
                    page_query(1, 2000)
                ))
                .await?;
            output::list(
                format,
                &restores.contents,
                &[
                    "id",
                    "status",
                    "backupSetId",
                    "backupClusterName",
                    "restoreClusterName",
                    "restoreClusterId",
                    "createTime",
                    "taskId",
                ],
            )
        }
    }
}
