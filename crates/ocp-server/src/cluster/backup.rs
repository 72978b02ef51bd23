//! The rules of a backup and a restore, below the HTTP layer: what a storage location may be,
//! when a cluster can be backed up, and the cluster a restore registers.
//!
//! seekdb has no backup SQL: a physical set is a full copy of the server's data, taken while
//! it is stopped; a logical set is a dump of its user databases, users and grants, taken
//! while it runs (see `steps/backup.rs`). Incremental sets, log archiving and so
//! point-in-time restore need OceanBase's own backup, and answer 10011.

use ocp_api::backup::{
    BackupMode, BackupStorage, BackupStorageType, BackupTaskStatus, RestoreCluster, SetStorage,
    StartDataBackup,
};
use ocp_api::ob::{ClusterStatus, CreateCluster, CreateZone, ServerKind, ServerStatus};
use ocp_api::ErrorCode;
use ocp_store::{
    BackupSetRecord, ClusterRecord, NewBackupSet, NewCluster, NewRestore, S3Access, ServerRecord,
    Store,
};

use crate::cluster::deploy;
use crate::error::Failure;
use crate::host::agent_client::{AgentClient, AgentError};
use crate::vault::Vault;

/// Why seekdb takes only full physical sets, as answers say it.
pub const NO_INCREMENTAL: &str = "seekdb has no backup SQL: the platform takes full sets, \
     physical of the stopped server or logical of the running one; incremental sets need \
     OceanBase's own data backup";
pub const NO_LOG_ARCHIVE: &str = "seekdb has no log archiving, so there is no log backup and no \
     restore to a point in time: a restore brings back a set as it was taken";

/// The directory a `BACKUP_STORAGE_FILE` location names: an absolute path, given plain or
/// as a `file://` URL, without `..`; answered without a trailing slash.
pub fn storage_dir(storage: &BackupStorage, field: &str) -> Result<String, Failure> {
    let url = storage.storage_url.trim();
    let path = url.strip_prefix("file://").unwrap_or(url);
    let ok = path.starts_with('/')
        && path.len() > 1
        && !path.split('/').any(|p| p == "..")
        && !path.chars().any(char::is_control);
    if !ok {
        return Err(Failure::field(
            &format!("{field}.storageUrl"),
            "must be an absolute directory on the server's host (/path or file:///path), \
             without ..",
        ));
    }
    Ok(path.trim_end_matches('/').to_string())
}

/// The signing region of an S3 storage that names none.
pub const DEFAULT_REGION: &str = "us-east-1";

/// The bucket and prefix a `BACKUP_STORAGE_S3` location names (`bucket/some/prefix`, with or
/// without `s3://`): a bucket name as S3 allows it, a prefix of plain path segments.
fn s3_location(storage: &BackupStorage, field: &str) -> Result<(String, String), Failure> {
    let url = storage.storage_url.trim();
    let url = url.strip_prefix("s3://").unwrap_or(url).trim_matches('/');
    let (bucket, prefix) = url.split_once('/').unwrap_or((url, ""));
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    let prefix_ok = prefix.is_empty()
        || prefix
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != ".." && !p.chars().any(char::is_control));
    if !bucket_ok || !prefix_ok {
        return Err(Failure::field(
            &format!("{field}.storageUrl"),
            "must be a bucket and an optional prefix, such as backups or backups/ocp/prod \
             (a bucket of 3 to 63 lowercase letters, digits, dots and hyphens)",
        ));
    }
    Ok((bucket.to_string(), prefix.to_string()))
}

/// Checks a storage location as a request states it, opening no secret; answers its URL as
/// a set keeps it: a directory, or `bucket/prefix`.
pub fn storage_url(storage: &BackupStorage, field: &str) -> Result<String, Failure> {
    let s3_field = format!("{field}.s3AccessKey");
    match storage.backup_storage_type {
        BackupStorageType::BackupStorageFile => {
            if storage.s3_access_key.is_some() {
                return Err(Failure::field(
                    &s3_field,
                    "is for BACKUP_STORAGE_S3 only; a directory needs no keys",
                ));
            }
            storage_dir(storage, field)
        }
        BackupStorageType::BackupStorageS3 => {
            let (bucket, prefix) = s3_location(storage, field)?;
            let Some(key) = &storage.s3_access_key else {
                return Err(Failure::field(
                    &s3_field,
                    "is required for BACKUP_STORAGE_S3: endpoint, accessKeyId, accessKeySecret",
                ));
            };
            let host = key
                .endpoint
                .strip_prefix("http://")
                .or_else(|| key.endpoint.strip_prefix("https://"))
                .unwrap_or("");
            if host.is_empty() || host.contains(char::is_whitespace) {
                return Err(Failure::field(
                    &format!("{s3_field}.endpoint"),
                    "must be an http:// or https:// URL, such as http://10.0.0.5:9000",
                ));
            }
            if key.access_key_id.trim().is_empty() {
                return Err(Failure::field(
                    &format!("{s3_field}.accessKeyId"),
                    "must not be empty",
                ));
            }
            if let Some(region) = &key.region {
                let ok = !region.is_empty()
                    && region
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                if !ok {
                    return Err(Failure::field(
                        &format!("{s3_field}.region"),
                        "must be a region name such as us-east-1",
                    ));
                }
            }
            Ok(if prefix.is_empty() {
                bucket
            } else {
                format!("{bucket}/{prefix}")
            })
        }
        kind => Err(Failure::new(
            ErrorCode::UnsupportedByServerKind,
            format!(
                "{kind} is not supported; OSS and COS both speak the S3 protocol: give \
                 BACKUP_STORAGE_S3 with their S3 endpoint and keys"
            ),
        )
        .with_field(&format!("{field}.backupStorageType"))),
    }
}

/// A storage location as a set keeps it: its kind, its URL and, for S3, how its bucket is
/// reached with the key's secret sealed. A secret the request leaves out is `kept` (sealed,
/// from the strategy being changed) if the endpoint and key id are the same.
pub struct CheckedStorage {
    pub kind: BackupStorageType,
    pub url: String,
    pub s3: Option<S3Access>,
}

pub fn check_storage(
    storage: &BackupStorage,
    field: &str,
    vault: &Vault,
    kept: Option<&S3Access>,
) -> Result<CheckedStorage, Failure> {
    let url = storage_url(storage, field)?;
    let s3 = match &storage.s3_access_key {
        None => None,
        Some(key) => {
            let secret_sealed = if !key.access_key_secret.is_empty() {
                vault.seal(&key.access_key_secret)?
            } else {
                match kept {
                    Some(k)
                        if k.endpoint == key.endpoint && k.access_key_id == key.access_key_id =>
                    {
                        k.secret_sealed.clone()
                    }
                    _ => {
                        return Err(Failure::field(
                            &format!("{field}.s3AccessKey.accessKeySecret"),
                            "is required for a new S3 endpoint or key id",
                        ))
                    }
                }
            };
            Some(S3Access {
                endpoint: key.endpoint.trim_end_matches('/').to_string(),
                region: key.region.clone().unwrap_or_else(|| DEFAULT_REGION.into()),
                access_key_id: key.access_key_id.clone(),
                secret_sealed,
            })
        }
    };
    Ok(CheckedStorage {
        kind: storage.backup_storage_type,
        url,
        s3,
    })
}

/// A storage location as the API shows it: `file:///dir/` or `s3://bucket/prefix/`.
pub fn storage_uri(kind: BackupStorageType, url: &str) -> String {
    match kind {
        BackupStorageType::BackupStorageS3 => format!("s3://{url}/"),
        _ => format!("file://{url}/"),
    }
}

/// The storage of `set` as the agent of `host_id` is handed it: an S3 key's secret is
/// opened here and sealed again for that agent alone.
pub async fn set_storage(
    agents: &AgentClient,
    vault: &Vault,
    host_id: i64,
    set: &BackupSetRecord,
) -> Result<SetStorage, AgentError> {
    let Some(s3) = &set.s3 else {
        return Ok(SetStorage::File {
            dir: set.storage_url.clone(),
        });
    };
    let (bucket, prefix) = set
        .storage_url
        .split_once('/')
        .unwrap_or((&set.storage_url, ""));
    let secret = vault.unseal(&s3.secret_sealed)?;
    Ok(SetStorage::S3 {
        endpoint: s3.endpoint.clone(),
        region: s3.region.clone(),
        bucket: bucket.to_string(),
        prefix: prefix.to_string(),
        access_key_id: s3.access_key_id.clone(),
        sealed_secret: agents.seal_for(host_id, &secret).await?,
    })
}

/// Whether the platform can take sets of the cluster in `mode`. A physical set stops and
/// starts the server from its package, so only of a seekdb deployed (or taken over with a
/// package) by the platform; a logical set of any seekdb it manages.
pub fn check_backupable(cluster: &ClusterRecord, mode: BackupMode) -> Result<(), Failure> {
    if cluster.kind != ServerKind::Seekdb {
        return Err(Failure::new(
            ErrorCode::UnsupportedByServerKind,
            format!(
                "cluster {} is not a seekdb; the platform backs up seekdb only",
                cluster.name
            ),
        ));
    }
    if mode == BackupMode::PhysicalBackup && cluster.package_id.is_none() {
        return Err(Failure::new(
            ErrorCode::UnsupportedByServerKind,
            format!(
                "cluster {} was not deployed by this platform from a seekdb package; a \
                 physical set is taken by stopping and starting its server (take a \
                 LOGICAL_BACKUP instead)",
                cluster.name
            ),
        )
        .with_field("backupMode"));
    }
    Ok(())
}

/// The cluster's one server: a set is the copy of one seekdb.
async fn only_server(store: &Store, cluster: &ClusterRecord) -> Result<ServerRecord, Failure> {
    let mut servers = store.servers(cluster.id).await?;
    if servers.len() != 1 {
        return Err(Failure::new(
            ErrorCode::UnsupportedByServerKind,
            format!(
                "cluster {} has {} servers, not one",
                cluster.name,
                servers.len()
            ),
        ));
    }
    Ok(servers.remove(0))
}

/// The cluster and its one server both RUNNING, or a state conflict saying `why` they must.
fn require_running(
    cluster: &ClusterRecord,
    server: &ServerRecord,
    why: &str,
) -> Result<(), Failure> {
    if cluster.status != ClusterStatus::Running || server.status != ServerStatus::Running {
        return Err(Failure::new(
            ErrorCode::StateConflict,
            format!(
                "cluster {} is {} (its server {}); {why}",
                cluster.name, cluster.status, server.status
            ),
        ));
    }
    Ok(())
}

/// Checks a "back up now" request against the cluster; answers the set to register.
pub async fn plan_backup(
    store: &Store,
    vault: &Vault,
    cluster_id: i64,
    request: &StartDataBackup,
    kept: Option<&S3Access>,
) -> Result<NewBackupSet, Failure> {
    let cluster = store.cluster(cluster_id).await?;
    if let Some(kind) = request.data_backup_task_type.as_deref() {
        if kind != "FULL_BACKUP" {
            return Err(
                Failure::new(ErrorCode::UnsupportedByServerKind, NO_INCREMENTAL)
                    .with_field("dataBackupTaskType"),
            );
        }
    }
    let storage = check_storage(
        &request.ob_backup_storage_base_info,
        "obBackupStorageBaseInfo",
        vault,
        kept,
    )?;
    check_backupable(&cluster, request.backup_mode)?;
    let server = only_server(store, &cluster).await?;
    require_running(&cluster, &server, "a backup is taken of a RUNNING cluster")?;
    let set = NewBackupSet {
        cluster_id,
        cluster_name: cluster.name.clone(),
        server_id: server.id,
        mode: request.backup_mode,
        storage_type: storage.kind,
        storage_url: storage.url,
        s3: storage.s3,
        ob_version: cluster.ob_version.clone(),
        root_password_sealed: cluster.root_password_sealed.clone(),
    };
    Ok(set)
}

/// The finished sets in a storage directory, whoever wrote them, as the agent of the
/// cluster's host reads their manifests.
pub async fn sets_in_storage(
    store: &Store,
    agents: &AgentClient,
    cluster_id: i64,
    storage_url: &str,
) -> Result<Vec<ocp_api::backup::BackupManifest>, Failure> {
    let storage = BackupStorage {
        backup_storage_type: BackupStorageType::BackupStorageFile,
        storage_url: storage_url.to_string(),
        s3_access_key: None,
    };
    let dir = storage_dir(&storage, "query").map_err(|f| {
        let why = f.sub_errors.first().map(|s| s.message.clone());
        Failure::field("storageUrl", why.unwrap_or(f.message))
    })?;
    let cluster = store.cluster(cluster_id).await?;
    let server = only_server(store, &cluster).await?;
    Ok(agents
        .call(
            server.host_id,
            reqwest::Method::POST,
            &ocp_api::agent_path::manager::backup_list(),
            Some(&ocp_api::backup::ListBackupSets {
                storage: SetStorage::File { dir },
            }),
        )
        .await?)
}

/// A set may be restored only once it is finished and verified.
fn check_restorable(set: &BackupSetRecord) -> Result<(), Failure> {
    if set.status != BackupTaskStatus::Done {
        return Err(Failure::new(
            ErrorCode::StateConflict,
            format!(
                "backup set {} is {}: only a finished, verified set is restored",
                set.id, set.status
            ),
        )
        .with_field("backupSetId"));
    }
    Ok(())
}

fn restore_of(set: &BackupSetRecord) -> NewRestore {
    NewRestore {
        backup_set_id: set.id,
        backup_cluster_id: set.cluster_id,
        backup_cluster_name: set.cluster_name.clone(),
        restore_uri: format!(
            "{}{}",
            storage_uri(set.storage_type, &set.storage_url),
            ocp_api::backup::set_name(set.id)
        ),
        mode: set.mode,
    }
}

/// Checks a restore of `set` into a new cluster as a deploy is checked; answers the cluster
/// to register and its restore.
pub async fn plan_restore(
    store: &Store,
    vault: &Vault,
    set: &BackupSetRecord,
    request: &RestoreCluster,
    creator: &str,
) -> Result<(NewCluster, NewRestore), Failure> {
    check_restorable(set)?;
    let (Some(name), Some(host_id)) = (&request.restore_cluster_name, request.host_id) else {
        let missing = if request.restore_cluster_name.is_none() {
            "restoreClusterName"
        } else {
            "hostId"
        };
        return Err(Failure::field(
            missing,
            "name the new cluster and its host, or restoreClusterId for a restore in place",
        ));
    };
    let rpm_name = match &request.rpm_name {
        Some(name) => name.clone(),
        None => default_package(store, set).await?,
    };
    let password = match &request.root_password {
        Some(p) => p.clone(),
        None => vault.unseal(&set.root_password_sealed)?,
    };
    let deploy = CreateCluster {
        name: name.clone(),
        rpm_name,
        cluster_type: ocp_api::ob::ClusterType::Primary,
        password,
        primary_zone: None,
        zones: vec![CreateZone {
            name: "zone1".into(),
            idc_name: None,
            servers: vec![host_id],
        }],
        sql_port: request.sql_port,
        rpc_port: None,
        home_path: request.home_path.clone(),
        parameters: Vec::new(),
    };
    let plan = deploy::plan(store, vault, &deploy, creator)
        .await
        .map_err(restore_fields)?;
    Ok((plan.cluster, restore_of(set)))
}

/// A restore into a cluster that exists names `restoreClusterId` alone.
fn check_existing_target(request: &RestoreCluster) -> Result<(), Failure> {
    let given = [
        ("restoreClusterName", request.restore_cluster_name.is_some()),
        ("hostId", request.host_id.is_some()),
        ("sqlPort", request.sql_port.is_some()),
        ("homePath", request.home_path.is_some()),
        ("rpmName", request.rpm_name.is_some()),
        ("rootPassword", request.root_password.is_some()),
    ];
    if let Some((field, _)) = given.iter().find(|(_, given)| *given) {
        return Err(Failure::field(
            field,
            "a restore into a cluster that exists keeps its server, package and password: \
             name restoreClusterId alone",
        ));
    }
    Ok(())
}

/// Checks a load of the logical `set` into a running cluster (any the platform manages, the
/// backed-up one too); answers the restore, the cluster's one server and the cluster.
/// Whether the set's databases are free there is checked by the task's first step.
pub async fn plan_logical_into(
    store: &Store,
    set: &BackupSetRecord,
    request: &RestoreCluster,
) -> Result<(NewRestore, ServerRecord, ClusterRecord), Failure> {
    check_restorable(set)?;
    check_existing_target(request)?;
    let target_id = request.restore_cluster_id.unwrap_or(set.cluster_id);
    let cluster = match store.cluster(target_id).await {
        Ok(cluster) => cluster,
        Err(ocp_store::StoreError::NotFound { .. }) => {
            return Err(Failure::field(
                "restoreClusterId",
                format!("there is no cluster {target_id}"),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    check_backupable(&cluster, BackupMode::LogicalBackup)?;
    let server = only_server(store, &cluster).await?;
    require_running(
        &cluster,
        &server,
        "a logical set is loaded into a RUNNING cluster",
    )?;
    Ok((restore_of(set), server, cluster))
}

/// Checks a restore of `set` in place, into the cluster it was taken of; answers the restore
/// and the cluster's one server.
pub async fn plan_in_place(
    store: &Store,
    set: &BackupSetRecord,
    request: &RestoreCluster,
) -> Result<(NewRestore, ServerRecord, ClusterRecord), Failure> {
    check_restorable(set)?;
    check_existing_target(request)?;
    if request.restore_cluster_id != Some(set.cluster_id) {
        return Err(Failure::new(
            ErrorCode::UnsupportedByServerKind,
            format!(
                "backup set {} is of cluster {}; a set is restored in place only into its own \
                 cluster, or into a new one",
                set.id, set.cluster_name
            ),
        )
        .with_field("restoreClusterId"));
    }
    let cluster = store.cluster(set.cluster_id).await?;
    let server = only_server(store, &cluster).await?;
    if server.id != set.server_id {
        return Err(Failure::new(
            ErrorCode::StateConflict,
            format!(
                "the set was taken of server {}, and cluster {} runs server {} now",
                set.server_id, cluster.name, server.id
            ),
        ));
    }
    if !matches!(server.status, ServerStatus::Running | ServerStatus::Stopped)
        || !matches!(
            cluster.status,
            ClusterStatus::Running | ClusterStatus::Stopped
        )
    {
        return Err(Failure::new(
            ErrorCode::StateConflict,
            format!(
                "cluster {} is {} (its server {}); a restore in place needs it RUNNING or \
                 STOPPED",
                cluster.name, cluster.status, server.status
            ),
        ));
    }
    Ok((restore_of(set), server, cluster))
}

/// A deploy's field names, as the restore request spells them.
fn restore_fields(mut failure: Failure) -> Failure {
    for sub in &mut failure.sub_errors {
        let renamed = match sub.field.as_str() {
            "name" => "restoreClusterName",
            "password" => "rootPassword",
            f if f.starts_with("zones") => "hostId",
            _ => continue,
        };
        failure.message = failure.message.replace(
            &format!("invalid {}:", sub.field),
            &format!("invalid {renamed}:"),
        );
        sub.field = renamed.to_string();
    }
    failure
}

/// The backed-up cluster's package if it is still there, else one of the set's version.
async fn default_package(store: &Store, set: &BackupSetRecord) -> Result<String, Failure> {
    if let Ok(cluster) = store.cluster(set.cluster_id).await {
        if let Some(id) = cluster.package_id {
            if let Ok(package) = store.package(id).await {
                return Ok(package.file_name);
            }
        }
    }
    let packages = store.packages().await?;
    packages
        .into_iter()
        .find(|p| p.version == set.ob_version && p.binary_path.is_some())
        .map(|p| p.file_name)
        .ok_or_else(|| {
            Failure::field(
                "rpmName",
                format!(
                    "no uploaded package is of the set's version {}; upload one and name it",
                    set.ob_version
                ),
            )
        })
}
