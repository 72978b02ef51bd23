//! Backup and restore: `/api/v2/ob/clusters/{id}/backup/...`, and what a server asks an agent
//! to write or read.
//!
//! seekdb has no backup SQL, so the platform makes backup sets itself: a physical set is a
//! copy of the server's `etc/` and `store/` taken while it is stopped, packed as one
//! `tar` stream compressed with zstd; a logical set is a `mariadb-dump` of the user
//! databases taken while it runs, compressed with zstd, with the users and grants beside it.
//! Either has a manifest written last.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

wire_enum!(
    /// How a backup set was made.
    BackupMode { PhysicalBackup = "PHYSICAL_BACKUP", LogicalBackup = "LOGICAL_BACKUP" }
);

wire_enum!(
    /// Where backup sets are kept. `BACKUP_STORAGE_FILE` is a directory on the host of the
    /// server (for a restore on another host, one both reach, such as an NFS mount);
    /// `BACKUP_STORAGE_S3` a bucket of an S3-compatible object storage. OSS and COS, which
    /// OCP names too, are refused with 10011: both speak S3, so name their S3 endpoint.
    BackupStorageType {
        BackupStorageFile = "BACKUP_STORAGE_FILE",
        BackupStorageS3 = "BACKUP_STORAGE_S3",
        BackupStorageOss = "BACKUP_STORAGE_OSS",
        BackupStorageCos = "BACKUP_STORAGE_COS",
    }
);

wire_enum!(
    /// Where a backup set or a restore stands.
    BackupTaskStatus { Doing = "DOING", Done = "DONE", Failed = "FAILED" }
);

wire_enum!(
    /// A restore's status, as OCP names them.
    RestoreStatus {
        Restoring = "RESTORING",
        RestoreSuccess = "RESTORE_SUCCESS",
        RestoreFail = "RESTORE_FAIL",
    }
);

/// `obBackupStorageBaseInfo`: a storage location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BackupStorage {
    pub backup_storage_type: BackupStorageType,
    /// For `BACKUP_STORAGE_FILE`, an absolute directory without a protocol; for
    /// `BACKUP_STORAGE_S3`, the bucket and an optional prefix (`bucket/some/prefix`).
    pub storage_url: String,
    /// How to reach a `BACKUP_STORAGE_S3` bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_access_key: Option<S3AccessKey>,
}

/// The endpoint and keys of an S3-compatible storage. The secret is only ever written: the
/// server seals it apart from the rest and never answers (nor logs) it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct S3AccessKey {
    /// `http://host:port` or `https://host`; requests address the bucket in the path.
    pub endpoint: String,
    /// The signing region, `us-east-1` unless given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub access_key_id: String,
    /// Required when a storage is first given; a strategy changed without it keeps the
    /// secret it had for the same endpoint and key id. Never answered.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub access_key_secret: String,
}

/// "Back up now": a full backup of the cluster into a storage location.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartDataBackup {
    #[serde(default = "physical")]
    pub backup_mode: BackupMode,
    /// `FULL_BACKUP`, the only kind seekdb can take.
    #[serde(default)]
    pub data_backup_task_type: Option<String>,
    pub ob_backup_storage_base_info: BackupStorage,
}

fn physical() -> BackupMode {
    BackupMode::PhysicalBackup
}

/// `ObDataBackupSupportAbility`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DataBackupSupportAbility {
    pub full_backup_enabled: bool,
    pub increment_backup_enabled: bool,
    pub can_do_incremental_backup: bool,
    pub hint: String,
}

/// `ObBackupAbility`: what a cluster's backups can be.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BackupAbility {
    /// `LOGICAL_AND_PHYSICAL` where both can be taken.
    pub backup_ability: String,
    pub backup_mode: BackupMode,
    pub ob_data_backup_support_ability: DataBackupSupportAbility,
    /// Whether log archiving (and so point-in-time restore) can run.
    pub log_backup_enabled: bool,
    pub log_backup_hint: String,
}

/// `DataBackupHistoryWrapperTask`: a data backup and the set it made.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DataBackupTask {
    pub task_id: i64,
    pub backup_set_id: i64,
    pub cluster_id: i64,
    pub cluster_name: String,
    pub ob_cluster_id: i64,
    pub cluster_type: String,
    pub tenant_id: i64,
    pub backup_mode: BackupMode,
    pub data_backup_task_type: String,
    pub backup_uri: String,
    pub status: BackupTaskStatus,
    pub start_time: Timestamp,
    pub finish_time: Option<Timestamp>,
    /// The set's size in bytes, once it is written.
    pub size: Option<i64>,
    pub ob_version: String,
    pub error_msg: String,
}

/// Restore a backup set, either in place (`restoreClusterId`, the backed-up cluster: its
/// data is replaced by the set's) or into a new cluster (`restoreClusterName` and `hostId`,
/// with the port and directory as a deploy takes them). With `obBackupStorageBaseInfo`, the
/// set is the one a storage holds as `backup_set_{backupSetId}` (as `backup/info` with
/// that storage lists it), whoever wrote it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestoreCluster {
    pub backup_set_id: i64,
    /// The storage holding the set, when the platform has no record of it (another platform
    /// wrote it, or this one before its metadb was lost). Such a set restores into a new
    /// cluster (with `rootPassword`, root's password in the set) or, logical, loads into a
    /// running one.
    #[serde(default)]
    pub ob_backup_storage_base_info: Option<BackupStorage>,
    /// For a restore in place: the backed-up cluster.
    #[serde(default)]
    pub restore_cluster_id: Option<i64>,
    #[serde(default)]
    pub restore_cluster_name: Option<String>,
    #[serde(default)]
    pub host_id: Option<i64>,
    #[serde(default)]
    pub sql_port: Option<u16>,
    #[serde(default)]
    pub home_path: Option<String>,
    /// Root's password as the set holds it, when the platform's record of it is older.
    #[serde(default)]
    pub root_password: Option<String>,
    /// The server package to run (by default the backed-up cluster's, or one of the set's
    /// version).
    #[serde(default)]
    pub rpm_name: Option<String>,
}

/// `RestoreHistoryTask`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RestoreTask {
    pub id: i64,
    pub task_id: i64,
    pub backup_mode: BackupMode,
    pub backup_set_id: i64,
    pub backup_cluster_id: i64,
    pub backup_cluster_name: String,
    pub restore_cluster_id: i64,
    pub restore_cluster_name: String,
    pub restore_uri: String,
    pub status: RestoreStatus,
    pub status_desc: String,
    pub finished: bool,
    pub successful: bool,
    pub create_time: Timestamp,
    pub finish_time: Option<Timestamp>,
    pub error_msg: String,
}

/// One file of a backup set, as its manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupFile {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

/// A backup set's `manifest.json`, written after its data: a set without one is unfinished
/// and never restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupManifest {
    /// The format's version, 1.
    pub format: u32,
    pub backup_set_id: i64,
    pub cluster_id: i64,
    pub cluster_name: String,
    pub server_id: i64,
    pub ob_version: String,
    pub mode: BackupMode,
    pub start_time_ms: i64,
    pub end_time_ms: i64,
    pub files: Vec<BackupFile>,
    /// A logical set's databases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub databases: Vec<String>,
    /// A logical set's users and roles (their definitions and grants are in `users.sql`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
}

/// A storage as the server hands it to an agent: a directory on the host, or an S3 bucket
/// and prefix with the key's secret sealed for that agent alone (see
/// [`crate::agent::seal_for_agent`]), since agent calls are signed but not encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum SetStorage {
    File {
        dir: String,
    },
    S3 {
        endpoint: String,
        region: String,
        bucket: String,
        /// Without a leading or trailing slash; empty for the bucket's root.
        prefix: String,
        access_key_id: String,
        sealed_secret: String,
    },
}

impl std::fmt::Display for SetStorage {
    /// `file:///dir/` or `s3://bucket/prefix/`: where the sets are, naming no secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetStorage::File { dir } => write!(f, "file://{}/", dir.trim_end_matches('/')),
            SetStorage::S3 { bucket, prefix, .. } if prefix.is_empty() => {
                write!(f, "s3://{bucket}/")
            }
            SetStorage::S3 { bucket, prefix, .. } => write!(f, "s3://{bucket}/{prefix}/"),
        }
    }
}

/// What a server asks an agent to back up into `storage/set_name`: for a physical set
/// the stopped server's base directory, for a logical one a dump of the running server on
/// `sql_port`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteBackupSet {
    #[serde(default = "physical")]
    pub mode: BackupMode,
    pub home_path: String,
    #[serde(default)]
    pub sql_port: u16,
    pub storage: SetStorage,
    pub set_name: String,
    pub backup_set_id: i64,
    pub cluster_id: i64,
    pub cluster_name: String,
    pub server_id: i64,
    pub ob_version: String,
}

/// What a server asks an agent to restore: a verified set unpacked into a server's base
/// directory. Unless `replace`, the directory must hold no data yet; with it, the data there
/// is moved aside first and put back if the restore fails.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreBackupSet {
    pub storage: SetStorage,
    pub set_name: String,
    pub home_path: String,
    /// The platform's restore: a repeated call of the same restore is answered as done.
    pub restore_id: i64,
    #[serde(default)]
    pub replace: bool,
}

/// What a server asks an agent to load: a verified logical set into the running server on
/// `sql_port`, whose databases of the set hold no table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadBackupSet {
    pub storage: SetStorage,
    pub set_name: String,
    pub sql_port: u16,
}

/// The name of a backup set's directory in its storage.
pub fn set_name(backup_set_id: i64) -> String {
    format!("backup_set_{backup_set_id}")
}

/// Which set an agent should check: `storage/set_name`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupSetLocation {
    pub storage: SetStorage,
    pub set_name: String,
}

/// A storage directory an agent should look at (the space of its filesystem).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupStorageDir {
    pub storage_dir: String,
}

/// A storage whose sets an agent should list.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListBackupSets {
    pub storage: SetStorage,
}

/// The space of the filesystem a storage directory is on (of its nearest existing parent,
/// before the first set makes it).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageSpace {
    pub total_bytes: u64,
    pub used_bytes: u64,
}

/// What an agent found checking a set: its manifest if the set is finished, every file having
/// matched it; none if the set is absent or unfinished. A damaged set is an error.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedSet {
    pub manifest: Option<BackupManifest>,
}

/// The answer to starting a backup or restore, as OCP's `BackupCommonResponse`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BackupCommonResponse {
    /// `START_DATA_BACKUP` or `RESTORE`.
    pub ob_backup_task_type: String,
    pub backup_object_ops_result_list: Vec<BackupObjectOpsResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BackupObjectOpsResult {
    pub be_successful: bool,
    pub ob_backup_object_list: Vec<BackupObject>,
    pub task_id_list: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BackupObject {
    /// `CLUSTER`: seekdb's one tenant is backed up with its server.
    pub backup_dimension: String,
    pub cluster_id: i64,
}

impl BackupCommonResponse {
    /// One successful operation on a cluster that started no task.
    pub fn none(kind: &str, cluster_id: i64) -> Self {
        let mut answer = Self::one(kind, cluster_id, 0);
        answer.backup_object_ops_result_list[0].task_id_list.clear();
        answer
    }

    /// One successful operation on a cluster, run by a task.
    pub fn one(kind: &str, cluster_id: i64, task_id: i64) -> Self {
        Self {
            ob_backup_task_type: kind.into(),
            backup_object_ops_result_list: vec![BackupObjectOpsResult {
                be_successful: true,
                ob_backup_object_list: vec![BackupObject {
                    backup_dimension: "CLUSTER".into(),
                    cluster_id,
                }],
                task_id_list: vec![task_id],
            }],
        }
    }
}

/// `obBackupScheduleConfig`: on which days (`WEEK`: 1 Monday to 7 Sunday; `MONTH`: 1 to 31)
/// a full set is taken, at what time of day, and how long sets are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BackupScheduleConfig {
    /// `WEEK` or `MONTH`.
    pub backup_schedule_mode: String,
    #[serde(default = "yes")]
    pub backup_schedule_enabled: bool,
    /// The time of day with its offset, as `02:00:00.000+08:00`.
    pub backup_schedule_time: String,
    /// Day to `FULL_BACKUP`, the only kind seekdb can take.
    pub day_and_data_backup_model_map: std::collections::BTreeMap<String, String>,
    /// Log backup: seekdb archives no log, so this must be false.
    #[serde(default)]
    pub start_log_backup: bool,
    /// Delete sets older than `backupDataRetentionDays`, never the newest finished one.
    #[serde(default)]
    pub clean_enabled: bool,
    #[serde(default)]
    pub backup_data_retention_days: Option<i64>,
    #[serde(default)]
    pub clean_schedule_time: Option<String>,
}

fn yes() -> bool {
    true
}

/// `obBackupThresholdConfig`: when backups alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BackupThresholdConfig {
    #[serde(default = "default_timeout_minutes")]
    pub data_backup_timeout_minutes: i64,
    #[serde(default = "default_alarm_days")]
    pub no_successful_data_backup_alarm_days: i64,
    #[serde(default)]
    pub lib_ob_log_expire_days: Option<i64>,
    #[serde(default)]
    pub log_backup_delay_seconds: Option<i64>,
}

fn default_timeout_minutes() -> i64 {
    120
}

fn default_alarm_days() -> i64 {
    2
}

impl Default for BackupThresholdConfig {
    fn default() -> Self {
        Self {
            data_backup_timeout_minutes: default_timeout_minutes(),
            no_successful_data_backup_alarm_days: default_alarm_days(),
            lib_ob_log_expire_days: None,
            log_backup_delay_seconds: None,
        }
    }
}

/// `obBackupServiceStorageConfig`: where scheduled sets go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BackupServiceStorageConfig {
    pub config_name: String,
    pub ob_backup_storage_base_info: BackupStorage,
    #[serde(default)]
    pub alarm_storage_percentage_threshold: Option<i64>,
}

/// `POST|PATCH .../backup/config/backupStrategy`: a cluster's backup strategy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BackupStrategy {
    #[serde(default = "physical")]
    pub backup_mode: BackupMode,
    pub ob_backup_schedule_config: BackupScheduleConfig,
    #[serde(default)]
    pub ob_backup_threshold_config: BackupThresholdConfig,
    pub ob_backup_service_storage_config: BackupServiceStorageConfig,
    /// Secondary backup (a copy of the sets elsewhere) is not available: must be false.
    #[serde(default)]
    pub secondary_backup_enabled: bool,
}

/// A cluster's backup strategy as the platform keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BackupStrategyView {
    pub cluster_id: i64,
    #[serde(flatten)]
    pub strategy: BackupStrategy,
    pub creator: String,
    pub create_time: Timestamp,
    pub update_time: Timestamp,
    /// The last scheduled time a set was started for, if any.
    pub last_scheduled_time: Option<Timestamp>,
}

/// `ClusterBackupInfoDetail`: a cluster's backups at a glance.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BackupOverview {
    pub cluster_id: i64,
    pub ob_cluster_id: i64,
    pub cluster_name: String,
    pub ob_cluster_type: String,
    pub ob_cluster_status: String,
    /// The server's major compaction status, when it answers.
    pub compaction_status: Option<String>,
    pub primary_and_standby_mode: bool,
    pub ob_version: String,
    /// `HAS_BACKUP_STRATEGY` or `NO_BACKUP_STRATEGY`.
    pub ob_cluster_backup_status: String,
    pub ob_backup_ability: BackupAbility,
    pub backup_dimension: String,
    /// `NONE` (no strategy), `NORMAL`, `PAUSED` (its schedule is off) or `ABNORMAL` (the last
    /// set failed).
    pub backup_schedule_status: String,
    pub last_data_backup_time: Option<Timestamp>,
    /// Always none: seekdb archives no log.
    pub latest_log_backup_checkpoint: Option<Timestamp>,
    pub log_backup_delay_seconds: Option<i64>,
    /// The finished sets' bytes.
    pub backup_size: f64,
    pub ob_storage_volume_unit: String,
}

/// `dataBackupRecoverableInfo`: a set one can restore.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DataBackupRecoverableInfo {
    pub full_backup_set_id: i64,
    /// When the copy began: the server was stopped from then, so this is the data's time.
    pub freeze_time: Timestamp,
    pub recoverable_time: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RecoverableSectionItem {
    /// `FULL_DATA_BACKUP`: seekdb has no log backup, so no `LOG_BACKUP` or `RECOVERABLE`
    /// intervals.
    pub ob_recoverable_section_item_type: String,
    pub backup_mode: BackupMode,
    pub data_backup_recoverable_info: DataBackupRecoverableInfo,
    /// For a set parsed from a storage: the cluster it was taken of, as its manifest says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_cluster_name: Option<String>,
    /// For a set parsed from a storage: the version its server reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ob_version: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RecoverableSections {
    pub ob_recoverable_section_items: Vec<RecoverableSectionItem>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RecoverableAggregation {
    pub ob_query_time_scope_type: String,
    pub latest_seven_days_aggregation: RecoverableSections,
}

/// `ObClusterBackupInfo`: what of the cluster can be restored, set by set.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ClusterBackupInfo {
    pub cluster_id: i64,
    pub ob_cluster_id: i64,
    pub cluster_name: String,
    pub online: bool,
    pub ob_recoverable_info_aggregation: RecoverableAggregation,
}

/// `GET .../backup/info`: the window of sets to show (default the last seven days).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
pub struct BackupInfoQuery {
    #[serde(default)]
    pub start_time: Option<String>,
    #[serde(default)]
    pub end_time: Option<String>,
    /// A storage to parse instead of the platform's records: the finished sets in it,
    /// whoever wrote them (read by the agent of the cluster's host; every set unless a window
    /// is given). A directory, or `s3://bucket/prefix` read with the S3 key of the cluster's
    /// backup strategy.
    #[serde(default)]
    pub storage_url: Option<String>,
}
