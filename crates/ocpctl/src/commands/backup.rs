//! `ocpctl backup`: a cluster's backup sets and restores.

use ocp_api::backup::{
    BackupAbility, BackupCommonResponse, BackupMode, BackupScheduleConfig,
    BackupServiceStorageConfig, BackupStorage, BackupStorageType, BackupStrategy,
    BackupStrategyView, ClusterBackupInfo, DataBackupTask, RestoreCluster, RestoreTask,
    S3AccessKey, StartDataBackup,
};

use super::*;

#[derive(Subcommand)]
pub enum BackupCmd {
    /// What a cluster's backups can be, and why not the rest.
    Ability {
        /// The cluster's id.
        cluster: i64,
    },
    /// Takes a full set of a cluster now: physical (its server stops for the copy) or, with
    /// --logical, a dump of its user databases, users and grants while it serves.
    Now {
        /// The cluster's id.
        cluster: i64,
        #[command(flatten)]
        storage: StorageArgs,
        /// Take a logical set (mariadb-dump) instead of a physical one.
        #[arg(long)]
        logical: bool,
    },
    /// Lists a cluster's backup sets, newest first.
    List {
        /// The cluster's id.
        cluster: i64,
    },
    /// What of a cluster can be restored: its finished sets of the last seven days or, with
    /// --storage, every finished set found in that storage, whoever wrote it.
    Info {
        /// The cluster's id (with --storage, the one whose host's agent reads the storage).
        cluster: i64,
        /// A storage to parse instead of the records: a directory on the cluster's host, or
        /// s3://BUCKET/PREFIX read with the S3 key of the cluster's backup strategy.
        #[arg(long)]
        storage: Option<String>,
    },
    /// Shows one backup set of a cluster.
    Show {
        /// The id of the cluster the set was taken of.
        cluster: i64,
        /// The set's id (see `backup list`).
        set: i64,
    },
    /// Restores a set of a cluster into a new cluster on a host, in place, or (a logical
    /// set) into a running cluster.
    Restore {
        /// The id of the cluster the set was taken of.
        cluster: i64,
        /// The set's id (see `backup list`).
        #[arg(long)]
        set: i64,
        /// Into the backed-up cluster itself: a physical set replaces its data (put back if
        /// the restore fails); a logical set is loaded into it.
        #[arg(long, conflicts_with_all = ["into", "name", "host", "sql_port", "home_path", "package"])]
        in_place: bool,
        /// Load a logical set into this running cluster (the set's databases must hold no
        /// table there).
        #[arg(long, conflicts_with_all = ["name", "host", "sql_port", "home_path", "package"])]
        into: Option<i64>,
        /// The new cluster's name.
        #[arg(long, required_unless_present_any = ["in_place", "into"])]
        name: Option<String>,
        /// The host the new cluster's server goes on.
        #[arg(long, required_unless_present_any = ["in_place", "into"])]
        host: Option<i64>,
        /// The new cluster's SQL port (default 2881).
        #[arg(long)]
        sql_port: Option<u16>,
        /// The new server's base directory (default ob/NAME under the agent's data directory).
        #[arg(long)]
        home_path: Option<String>,
        /// The server package to run (default: the backed-up cluster's).
        #[arg(long)]
        package: Option<String>,
        /// The storage holding the set when the platform has no record of it (another
        /// platform wrote it): a directory, or s3://BUCKET/PREFIX with the --s3-* flags and
        /// $OCP_S3_SECRET_ACCESS_KEY. --set is then its id there (see `backup info
        /// --storage`); a new cluster asks root's password in the set (or
        /// $OCP_CLUSTER_PASSWORD).
        #[arg(long, conflicts_with = "in_place")]
        storage: Option<String>,
        /// With an s3:// --storage: its endpoint.
        #[arg(long, requires = "storage", requires = "s3_access_key_id")]
        s3_endpoint: Option<String>,
        /// With an s3:// --storage: the access key's id.
        #[arg(long, requires = "s3_endpoint")]
        s3_access_key_id: Option<String>,
        /// With an s3:// --storage: the signing region (default us-east-1).
        #[arg(long, requires = "s3_endpoint")]
        s3_region: Option<String>,
    },
    /// Lists the restores from or into a cluster.
    Restores {
        /// The cluster's id.
        cluster: i64,
    },
    /// A cluster's backup strategy: scheduled full sets and their retention.
    #[command(subcommand)]
    Strategy(StrategyCmd),
}

#[derive(Subcommand)]
pub enum StrategyCmd {
    /// Shows the cluster's strategy.
    Show {
        /// The cluster's id.
        cluster: i64,
    },
    /// Creates the cluster's strategy, or replaces the one it has.
    Set {
        /// The cluster's id.
        cluster: i64,
        #[command(flatten)]
        storage: StorageArgs,
        /// Days of the week a set is taken, 1 (Monday) to 7 (Sunday), comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,2,3,4,5,6,7")]
        days: Vec<u8>,
        /// The time of day, with its offset: 02:00:00.000+08:00.
        #[arg(long, default_value = "02:00:00.000+00:00")]
        time: String,
        /// Delete sets older than this many days (never the newest finished one).
        #[arg(long)]
        retention_days: Option<i64>,
        /// Take logical sets instead of physical ones.
        #[arg(long)]
        logical: bool,
        /// Keep the strategy but take no set until it is set again without --paused.
        #[arg(long)]
        paused: bool,
    },
    /// Deletes the cluster's strategy (its sets stay).
    Delete {
        /// The cluster's id.
        cluster: i64,
    },
}

fn mode(logical: bool) -> BackupMode {
    if logical {
        BackupMode::LogicalBackup
    } else {
        BackupMode::PhysicalBackup
    }
}

/// Where sets go: a directory on the server's host, or an S3 bucket.
#[derive(clap::Args)]
pub struct StorageArgs {
    /// An absolute directory on the server's host (or file:///path), or s3://BUCKET/PREFIX
    /// with --s3-endpoint and --s3-access-key-id; the key's secret is read from
    /// $OCP_S3_SECRET_ACCESS_KEY (left out, a strategy keeps the one it has).
    #[arg(long)]
    storage: String,
    /// The S3 endpoint, such as http://10.0.0.5:9000 or https://s3.amazonaws.com.
    #[arg(long, requires = "s3_access_key_id")]
    s3_endpoint: Option<String>,
    /// The S3 access key's id.
    #[arg(long, requires = "s3_endpoint")]
    s3_access_key_id: Option<String>,
    /// The S3 signing region (default us-east-1).
    #[arg(long, requires = "s3_endpoint")]
    s3_region: Option<String>,
}

impl StorageArgs {
    fn storage(self) -> Result<BackupStorage> {
        let Some(bucket) = self.storage.strip_prefix("s3://") else {
            if self.s3_endpoint.is_some() {
                return Err(CliError::usage(
                    "--s3-endpoint is for an s3://BUCKET/PREFIX storage",
                ));
            }
            return Ok(BackupStorage {
                backup_storage_type: BackupStorageType::BackupStorageFile,
                storage_url: self.storage,
                s3_access_key: None,
            });
        };
        let (Some(endpoint), Some(access_key_id)) = (self.s3_endpoint, self.s3_access_key_id)
        else {
            return Err(CliError::usage(
                "an s3:// storage needs --s3-endpoint and --s3-access-key-id",
            ));
        };
        Ok(BackupStorage {
            backup_storage_type: BackupStorageType::BackupStorageS3,
            storage_url: bucket.to_string(),
            s3_access_key: Some(S3AccessKey {
                endpoint,
                region: self.s3_region,
                access_key_id,
                access_key_secret: std::env::var("OCP_S3_SECRET_ACCESS_KEY").unwrap_or_default(),
            }),
        })
    }
}

async fn strategy(ctx: &mut Ctx, cmd: StrategyCmd) -> Result<()> {
    let format = ctx.format();
    let client = ctx.client()?.clone();
    let path = |cluster: i64| format!("/api/v2/ob/clusters/{cluster}/backup/config/backupStrategy");
    match cmd {
        StrategyCmd::Show { cluster } => {
            let view: BackupStrategyView = client.get(&path(cluster)).await?;
            output::one(format, &view)
        }
        StrategyCmd::Set {
            cluster,
            storage,
            days,
            time,
            retention_days,
            logical,
            paused,
        } => {
            let strategy = BackupStrategy {
                backup_mode: mode(logical),
                ob_backup_schedule_config: BackupScheduleConfig {
                    backup_schedule_mode: "WEEK".into(),
                    backup_schedule_enabled: !paused,
                    backup_schedule_time: time,
                    day_and_data_backup_model_map: days
                        .iter()
                        .map(|d| (d.to_string(), "FULL_BACKUP".to_string()))
                        .collect(),
                    start_log_backup: false,
                    clean_enabled: retention_days.is_some(),
                    backup_data_retention_days: retention_days,
                    clean_schedule_time: None,
                },
                ob_backup_threshold_config: Default::default(),
                ob_backup_service_storage_config: BackupServiceStorageConfig {
                    config_name: "ocpctl".into(),
                    ob_backup_storage_base_info: storage.storage()?,
                    alarm_storage_percentage_threshold: None,
                },
                secondary_backup_enabled: false,
            };
            let exists = client
                .get::<BackupStrategyView>(&path(cluster))
                .await
                .is_ok();
            let method = if exists {
                reqwest::Method::PATCH
            } else {
                reqwest::Method::POST
            };
            let _: BackupCommonResponse = client
                .call(method, &path(cluster), Some(&body(&strategy)))
                .await?;
            let view: BackupStrategyView = client.get(&path(cluster)).await?;
            output::one(format, &view)
        }
        StrategyCmd::Delete { cluster } => {
            delete(
                ctx,
                &client,
                &path(cluster),
                format!("the backup strategy of cluster {cluster} is deleted"),
            )
            .await
        }
    }
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
        BackupCmd::Now {
            cluster,
            storage,
            logical,
        } => {
            let request = StartDataBackup {
                backup_mode: mode(logical),
                data_backup_task_type: Some("FULL_BACKUP".into()),
                ob_backup_storage_base_info: storage.storage()?,
            };
            let answer: BackupCommonResponse = client
                .post(
                    &format!("{}/task/dataBackupTasks", base(cluster)),
                    Some(&body(&request)),
                )
                .await?;
            backup_started(ctx, answer).await
        }
        BackupCmd::Info { cluster, storage } => {
            let mut path = format!("{}/info", base(cluster));
            if let Some(dir) = storage {
                let dir: String = form_urlencoded::byte_serialize(dir.as_bytes()).collect();
                path.push_str(&format!("?storageUrl={dir}"));
            }
            let info: ClusterBackupInfo = client.get(&path).await?;
            let sets: Vec<serde_json::Value> = info
                .ob_recoverable_info_aggregation
                .latest_seven_days_aggregation
                .ob_recoverable_section_items
                .iter()
                .map(|item| {
                    let set = &item.data_backup_recoverable_info;
                    serde_json::json!({
                        "backupSetId": set.full_backup_set_id,
                        "backupMode": item.backup_mode,
                        "freezeTime": set.freeze_time,
                        "backupClusterName": item.backup_cluster_name,
                        "obVersion": item.ob_version,
                    })
                })
                .collect();
            output::list(
                format,
                &sets,
                &[
                    "backupSetId",
                    "backupMode",
                    "freezeTime",
                    "backupClusterName",
                    "obVersion",
                ],
            )
        }
        BackupCmd::Show { cluster, set } => {
            let sets: PageData<DataBackupTask> = client
                .get(&format!(
                    "{}/task/dataBackupTasks?{}",
                    base(cluster),
                    page_query(1, 2000)
                ))
                .await?;
            let found = sets
                .contents
                .iter()
                .find(|s| s.backup_set_id == set)
                .ok_or_else(|| {
                    CliError::new(
                        crate::client::Exit::NotFound,
                        format!("cluster {cluster} has no backup set {set}"),
                    )
                })?;
            output::one(format, found)
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
            into,
            name,
            host,
            sql_port,
            home_path,
            package,
            storage,
            s3_endpoint,
            s3_access_key_id,
            s3_region,
        } => {
            let storage = match storage {
                Some(storage) => Some(
                    StorageArgs {
                        storage,
                        s3_endpoint,
                        s3_access_key_id,
                        s3_region,
                    }
                    .storage()?,
                ),
                None => None,
            };
            let root_password = match (&storage, &name) {
                (Some(_), Some(_)) => Some(password_arg(
                    None,
                    "OCP_CLUSTER_PASSWORD",
                    "root password in the set",
                )?),
                _ => None,
            };
            let request = RestoreCluster {
                backup_set_id: set,
                ob_backup_storage_base_info: storage,
                restore_cluster_id: into.or(in_place.then_some(cluster)),
                restore_cluster_name: name,
                host_id: host,
                sql_port,
                home_path,
                root_password,
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
        BackupCmd::Strategy(cmd) => strategy(ctx, cmd).await,
    }
}
