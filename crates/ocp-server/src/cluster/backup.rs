//! The rules of a backup and a restore, below the HTTP layer: what a storage location may be,
//! when a cluster can be backed up, and the cluster a restore registers.
//!
//! seekdb has no backup SQL: a physical set is a full copy of the server's data, taken while
//! it is stopped; a logical set is a dump of its user databases, users and grants, taken
//! while it runs (see `steps/backup.rs`). Incremental sets, log archiving and so
//! point-in-time restore need OceanBase's own backup, and answer 10011.

use ocp_api::backup::{
    BackupManifest, BackupMode, BackupStorage, BackupStorageType, BackupTaskStatus, RestoreCluster,
    S3AccessKey, SetStorage, StartDataBackup,
};
use ocp_api::ob::{ClusterStatus, CreateCluster, CreateZone, ServerKind, ServerStatus};
use ocp_api::ErrorCode;
use ocp_store::{
    BackupSetRecord, BackupStrategyRecord, ClusterRecord, FoundBackupSet, NewBackupSet, NewCluster,
    NewRestore, S3Access, ServerRecord, Store,
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
const DEFAULT_REGION: &str = "us-east-1";

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
            Some(s3_access(key, secret_sealed))
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
    storage_for_agent(agents, vault, host_id, &set.storage_url, set.s3.as_ref()).await
}

/// A storage (its URL as a set keeps it, and for S3 how it is reached) as the agent of
/// `host_id` is handed it.
async fn storage_for_agent(
    agents: &AgentClient,
    vault: &Vault,
    host_id: i64,
    url: &str,
    s3: Option<&S3Access>,
) -> Result<SetStorage, AgentError> {
    let Some(s3) = s3 else {
        return Ok(SetStorage::File {
            dir: url.to_string(),
        });
    };
    let (bucket, prefix) = url.split_once('/').unwrap_or((url, ""));
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
pub(crate) async fn only_server(
    store: &Store,
    cluster: &ClusterRecord,
) -> Result<ServerRecord, Failure> {
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
pub(crate) fn require_running(
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

/// The finished sets in a storage, whoever wrote them, as the agent of the cluster's host
/// reads their manifests: a directory (`/dir` or `file:///dir`), or `s3://bucket/prefix`
/// reached with the S3 key of the cluster's strategy (a query carries no secret).
pub async fn sets_in_storage(
    store: &Store,
    vault: &Vault,
    agents: &AgentClient,
    cluster_id: i64,
    storage_url: &str,
) -> Result<Vec<BackupManifest>, Failure> {
    let as_query = |f: Failure| {
        let why = f.sub_errors.first().map(|s| s.message.clone());
        Failure::field("storageUrl", why.unwrap_or(f.message))
    };
    let (url, s3) = match storage_url.strip_prefix("s3://") {
        None => {
            let storage = BackupStorage {
                backup_storage_type: BackupStorageType::BackupStorageFile,
                storage_url: storage_url.to_string(),
                s3_access_key: None,
            };
            (storage_dir(&storage, "query").map_err(as_query)?, None)
        }
        Some(bucket) => {
            let storage = BackupStorage {
                backup_storage_type: BackupStorageType::BackupStorageS3,
                storage_url: bucket.to_string(),
                s3_access_key: None,
            };
            let (bucket, prefix) = s3_location(&storage, "query").map_err(as_query)?;
            let strategies = store.backup_strategies(Some(cluster_id)).await?;
            let Some(key) = strategies.first().and_then(strategy_s3) else {
                return Err(Failure::field(
                    "storageUrl",
                    "an s3:// storage is read with the S3 key of the cluster's backup \
                     strategy, and the cluster has none",
                ));
            };
            let url = match prefix.is_empty() {
                true => bucket,
                false => format!("{bucket}/{prefix}"),
            };
            (url, Some(key))
        }
    };
    let cluster = store.cluster(cluster_id).await?;
    let server = only_server(store, &cluster).await?;
    manifests_in(agents, vault, server.host_id, &url, s3.as_ref()).await
}

/// How a strategy's S3 storage is reached, its secret sealed; none for a directory.
pub fn strategy_s3(record: &BackupStrategyRecord) -> Option<S3Access> {
    let key = record
        .strategy
        .ob_backup_service_storage_config
        .ob_backup_storage_base_info
        .s3_access_key
        .as_ref()?;
    Some(s3_access(key, record.s3_secret_sealed.clone()?))
}

/// How a key reaches its storage, with its secret sealed.
fn s3_access(key: &S3AccessKey, secret_sealed: String) -> S3Access {
    S3Access {
        endpoint: key.endpoint.trim_end_matches('/').to_string(),
        region: key.region.clone().unwrap_or_else(|| DEFAULT_REGION.into()),
        access_key_id: key.access_key_id.clone(),
        secret_sealed,
    }
}

/// The manifests of the finished sets in a storage, as the agent of `host_id` reads them.
async fn manifests_in(
    agents: &AgentClient,
    vault: &Vault,
    host_id: i64,
    url: &str,
    s3: Option<&S3Access>,
) -> Result<Vec<BackupManifest>, Failure> {
    let storage = storage_for_agent(agents, vault, host_id, url, s3).await?;
    Ok(agents
        .call(
            host_id,
            reqwest::Method::POST,
            &ocp_api::agent_path::manager::backup_list(),
            Some(&ocp_api::backup::ListBackupSets { storage }),
        )
        .await?)
}

/// The set a restore names in a storage (`obBackupStorageBaseInfo`, `backupSetId`), as the
/// agent of the host it goes to reads its manifest there; registered once as a set of
/// `cluster_id` found in that storage, so the restore's steps read it as any other.
pub async fn found_set(
    store: &Store,
    vault: &Vault,
    agents: &AgentClient,
    cluster_id: i64,
    request: &RestoreCluster,
    storage: &BackupStorage,
) -> Result<BackupSetRecord, Failure> {
    let checked = check_storage(storage, "obBackupStorageBaseInfo", vault, None)?;
    store.cluster(cluster_id).await?;
    let host_id = match (request.host_id, request.restore_cluster_id) {
        (Some(host_id), _) => match store.host(host_id).await {
            Ok(_) => host_id,
            Err(ocp_store::StoreError::NotFound { .. }) => {
                return Err(Failure::field(
                    "hostId",
                    format!("there is no host {host_id}"),
                ))
            }
            Err(e) => return Err(e.into()),
        },
        (None, Some(target)) => {
            let cluster = target_cluster(store, target).await?;
            only_server(store, &cluster).await?.host_id
        }
        (None, None) => {
            return Err(Failure::field(
                "hostId",
                "name the new cluster and its host, or the cluster to load a logical set into",
            ))
        }
    };
    let shown = storage_uri(checked.kind, &checked.url);
    let manifests = manifests_in(agents, vault, host_id, &checked.url, checked.s3.as_ref()).await?;
    let Some(manifest) = manifests
        .into_iter()
        .find(|m| m.backup_set_id == request.backup_set_id)
    else {
        return Err(Failure::field(
            "backupSetId",
            format!(
                "{shown} holds no finished set {}",
                ocp_api::backup::set_name(request.backup_set_id)
            ),
        ));
    };
    let root_password_sealed = match &request.root_password {
        Some(password) => vault.seal(password)?,
        None => String::new(),
    };
    let found = FoundBackupSet {
        set: NewBackupSet {
            cluster_id,
            cluster_name: manifest.cluster_name.clone(),
            server_id: 0,
            mode: manifest.mode,
            storage_type: checked.kind,
            storage_url: checked.url,
            s3: checked.s3,
            ob_version: manifest.ob_version.clone(),
            root_password_sealed,
        },
        name: ocp_api::backup::set_name(manifest.backup_set_id),
        size: manifest.files.iter().map(|f| f.size as i64).sum(),
        start_time: manifest.start_time_ms,
        finish_time: manifest.end_time_ms,
    };
    let id = store.register_found_backup_set(&found).await?;
    Ok(store.backup_set(id).await?)
}

/// The cluster a restore goes into, or a field error naming `restoreClusterId`.
async fn target_cluster(store: &Store, id: i64) -> Result<ClusterRecord, Failure> {
    match store.cluster(id).await {
        Ok(cluster) => Ok(cluster),
        Err(ocp_store::StoreError::NotFound { .. }) => Err(Failure::field(
            "restoreClusterId",
            format!("there is no cluster {id}"),
        )),
        Err(e) => Err(e.into()),
    }
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
            set.name
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
    if set.found && request.root_password.is_none() {
        return Err(Failure::field(
            "rootPassword",
            "is required for a set found in a storage: the platform does not know the \
             password root had when it was taken",
        ));
    }
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
    let cluster = target_cluster(store, target_id).await?;
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
    if set.found {
        return Err(Failure::new(
            ErrorCode::UnsupportedByServerKind,
            format!(
                "{} was found in a storage, not taken of this cluster: it restores into a new \
                 cluster",
                set.name
            ),
        )
        .with_field("restoreClusterId"));
    }
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

/// Whether a package's version (`1.4.0.post1`) is the release a server reported
/// (`5.7.25-OceanBase seekdb-v1.4.0.0`): the same first three numbers.
fn same_release(package_version: &str, server_version: &str) -> bool {
    fn release(version: &str) -> Vec<&str> {
        let version = version.rsplit_once("-v").map_or(version, |(_, v)| v);
        version
            .split('.')
            .map(|part| {
                let digits = part.bytes().take_while(u8::is_ascii_digit).count();
                &part[..digits]
            })
            .take_while(|part| !part.is_empty())
            .take(3)
            .collect()
    }
    let wanted = release(server_version);
    wanted.len() == 3 && release(package_version) == wanted
}

/// The backed-up cluster's package if it is still there, else one of the set's version.
async fn default_package(store: &Store, set: &BackupSetRecord) -> Result<String, Failure> {
    let own_cluster = match set.found {
        true => None,
        false => store.cluster(set.cluster_id).await.ok(),
    };
    if let Some(cluster) = own_cluster {
        if let Some(id) = cluster.package_id {
            if let Ok(package) = store.package(id).await {
                return Ok(package.file_name);
            }
        }
    }
    let packages = store.packages().await?;
    packages
        .into_iter()
        .find(|p| same_release(&p.version, &set.ob_version) && p.binary_path.is_some())
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_package_is_of_the_release_a_server_reports() {
        let server = "5.7.25-OceanBase seekdb-v1.4.0.0";
        assert!(super::same_release("1.4.0.post1", server));
        assert!(super::same_release("1.4.0.0", server));
        assert!(super::same_release("1.4.0", "1.4.0"));
        assert!(!super::same_release("1.4.1.post1", server));
        assert!(!super::same_release("1.4", "1.4"));
    }
}
