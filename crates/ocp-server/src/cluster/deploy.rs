//! The rules of a deploy and a take over, below the HTTP layer: what a request must hold
//! (names, password, package, topology, host, ports, home path, parameters), the startup
//! defaults, and the rows registered before the task runs.
//!
//! seekdb runs one zone with one server and one tenant: a request for more answers 10011.

use ocp_api::host::HostStatus;
use ocp_api::ob::{
    ClusterStatus, ClusterType, CreateCluster, CreateZone, ServerKind, ServerStatus, SetParameter,
    TakeOverCluster,
};
use ocp_api::obdb::PackageType;
use ocp_api::ErrorCode;
use ocp_ob::{ObClient, Target};
use ocp_store::{NewCluster, NewServer, NewTask, NewZone, Store};

use crate::cluster::access::{ob_failure, CONNECT_TIMEOUT};
use crate::error::Failure;
use crate::vault::Vault;

/// A checked deploy: the rows to register and what the task needs to know.
pub struct Deployment {
    pub cluster: NewCluster,
    pub rpm_name: String,
    pub sql_port: u16,
}

pub fn check_cluster_name(name: &str) -> Result<(), Failure> {
    let ok = (1..=64).contains(&name.len())
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Failure::field(
            "name",
            "must start with a letter and hold 1 to 64 letters, digits, _ or -",
        ))
    }
}

/// A database password, as the server will be given it.
pub fn check_password(field: &str, password: &str) -> Result<(), Failure> {
    ocp_ob::check_password(field, password).map_err(ob_failure)
}

/// The host a server goes on: registered, with an agent that answers heartbeats.
async fn usable_host(
    store: &Store,
    field: &str,
    host_id: i64,
) -> Result<ocp_store::HostRecord, Failure> {
    let host = match store.host(host_id).await {
        Ok(h) => h,
        Err(ocp_store::StoreError::NotFound { .. }) => {
            return Err(Failure::field(
                field,
                format!("host {host_id} does not exist"),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    if host.agent.is_none() || !matches!(host.status, HostStatus::Available | HostStatus::Online) {
        return Err(Failure::new(
            ErrorCode::StateConflict,
            format!(
                "host {} is {} and cannot take a server; its agent must be AVAILABLE",
                host.inner_ip_address, host.status
            ),
        )
        .with_field(field));
    }
    Ok(host)
}

/// Small-footprint startup defaults for seekdb, used unless the request names them; and
/// the trace log's `[slow query]` line for each execution over 100 ms, which SlowSQL reads
/// (seekdb starts with it off).
const SEEKDB_DEFAULTS: &[(&str, &str)] = &[
    ("memory_budget", "1G"),
    ("log_disk_size", "2G"),
    ("datafile_size", "64M"),
    ("enable_record_trace_log", "true"),
    ("trace_log_slow_query_watermark", "100ms"),
];

pub fn check_zone(zone: &CreateZone, field: &str) -> Result<(), Failure> {
    let ok = (1..=64).contains(&zone.name.len())
        && zone
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        return Err(Failure::field(
            &format!("{field}.name"),
            "must be 1 to 64 letters, digits or _",
        ));
    }
    if zone.servers.is_empty() {
        return Err(Failure::field(
            &format!("{field}.servers"),
            "name at least one host",
        ));
    }
    Ok(())
}

/// Checks a deploy request; answers the cluster to register (CREATING).
pub async fn plan(
    store: &Store,
    vault: &Vault,
    request: &CreateCluster,
    creator: &str,
) -> Result<Deployment, Failure> {
    check_cluster_name(&request.name)?;
    check_password("password", &request.password)?;
    let package = store
        .package_by_file_name(&request.rpm_name)
        .await?
        .ok_or_else(|| {
            Failure::field(
                "rpmName",
                format!("no software package {:?} is uploaded", request.rpm_name),
            )
        })?;
    if package.package_type != PackageType::ObServerInstallPackage || package.binary_path.is_none()
    {
        return Err(Failure::new(
            ErrorCode::UnsupportedByServerKind,
            format!(
                "{} is not a server package this platform can run; upload seekdb's wheel",
                package.file_name
            ),
        )
        .with_field("rpmName"));
    }
    if request.cluster_type != ClusterType::Primary {
        return Err(Failure::field(
            "type",
            "a standby is built from its primary: POST \
             /api/v2/ob/clusters/{primaryId}/standbyClusters",
        ));
    }
    let [zone] = request.zones.as_slice() else {
        return Err(Failure::new(
            ErrorCode::UnsupportedByServerKind,
            format!(
                "a seekdb cluster has exactly one zone, not {}",
                request.zones.len()
            ),
        )
        .with_field("zones"));
    };
    check_zone(zone, "zones[0]")?;
    let [host_id] = zone.servers.as_slice() else {
        return Err(Failure::new(
            ErrorCode::UnsupportedByServerKind,
            format!(
                "a seekdb zone has exactly one server, not {}",
                zone.servers.len()
            ),
        )
        .with_field("zones[0].servers"));
    };
    let host = usable_host(store, "zones[0].servers[0]", *host_id).await?;
    let sql_port = request.sql_port.unwrap_or(2881);
    let rpc_port = request.rpc_port.unwrap_or(2882);
    for (field, port) in [("sqlPort", sql_port), ("rpcPort", rpc_port)] {
        if port < 1024 {
            return Err(Failure::field(field, "must be from 1024 to 65535"));
        }
    }
    let home_path = request
        .home_path
        .clone()
        .unwrap_or_else(|| format!("ob/{}", request.name));
    if home_path.split('/').any(|p| p == "..") || home_path.is_empty() {
        return Err(Failure::field("homePath", "must be a path without .."));
    }
    ocp_ob::check_home_path("homePath", &home_path).map_err(ob_failure)?;
    let mut parameters = request.parameters.clone();
    for (i, p) in parameters.iter().enumerate() {
        ocp_ob::check_parameter_name(&format!("parameters[{i}].name"), &p.name)
            .map_err(ob_failure)?;
        if p.value.is_empty() || p.value.chars().any(char::is_control) {
            return Err(Failure::field(
                &format!("parameters[{i}].value"),
                "must be a value",
            ));
        }
        match crate::cluster::parameters::check(&p.name, &p.value) {
            Ok(()) => {}
            Err(None) => {
                return Err(Failure::field(
                    &format!("parameters[{i}].name"),
                    format!("{} is not a seekdb parameter", p.name),
                ))
            }
            Err(Some(rule)) => {
                return Err(Failure::field(
                    &format!("parameters[{i}].value"),
                    format!("{}: {rule}", p.name),
                ))
            }
        }
    }
    // The recorded RPC port is the one the server uses when it serves its log (a primary
    // with a standby); seekdb listens on it only then.
    if let Some(p) = parameters.iter().find(|p| p.name == "rpc_port") {
        if p.value != rpc_port.to_string() {
            return Err(Failure::field(
                "rpcPort",
                format!("differs from the parameter rpc_port = {}", p.value),
            ));
        }
    } else {
        parameters.push(SetParameter {
            name: "rpc_port".into(),
            value: rpc_port.to_string(),
        });
    }
    for (name, value) in SEEKDB_DEFAULTS {
        if !parameters.iter().any(|p| p.name == *name) {
            parameters.push(SetParameter {
                name: name.to_string(),
                value: value.to_string(),
            });
        }
    }
    let new = NewCluster {
        name: request.name.clone(),
        kind: ServerKind::Seekdb,
        cluster_type: ClusterType::Primary,
        status: ClusterStatus::Creating,
        server_status: ServerStatus::Creating,
        ob_version: package.version.clone(),
        package_id: Some(package.id),
        root_user: "root".into(),
        root_password_sealed: vault.seal(&request.password)?,
        startup_parameters: serde_json::to_string(&parameters).map_err(Failure::internal)?,
        creator: creator.to_string(),
        primary_cluster_id: None,
        zones: vec![NewZone {
            name: zone.name.clone(),
            idc_id: Some(host.idc_id),
            servers: vec![NewServer {
                host_id: host.id,
                ip: host.inner_ip_address.clone(),
                rpc_port: rpc_port.into(),
                sql_port: sql_port.into(),
                home_path,
            }],
        }],
    };
    Ok(Deployment {
        cluster: new,
        rpm_name: package.file_name.clone(),
        sql_port,
    })
}

/// Registers a planned cluster and its deploy task in one transaction: if either cannot be
/// written, neither is. `task` is given the new cluster's and servers' ids. Answers the task.
pub async fn register(
    store: &Store,
    cluster: &NewCluster,
    task: impl FnOnce(i64, &[i64]) -> NewTask,
) -> Result<i64, Failure> {
    let registered = store.create_cluster(cluster, task).await;
    registered
        .map(|(_, task_id)| task_id)
        .map_err(|e| registration_failure(e, &cluster.name))
}

/// Why a new cluster could not be registered: a taken port or name is named in the answer.
pub fn registration_failure(err: ocp_store::StoreError, name: &str) -> Failure {
    match err {
        ocp_store::StoreError::AlreadyExists {
            entity: "server",
            key,
        } => Failure::new(
            ErrorCode::AlreadyExists,
            format!("a server already uses {key}"),
        )
        .with_field("sqlPort"),
        ocp_store::StoreError::AlreadyExists { .. } => Failure::new(
            ErrorCode::AlreadyExists,
            format!("cluster {name} already exists"),
        )
        .with_field("name"),
        other => other.into(),
    }
}

/// Checks a take-over request and logs in to the server now; answers the cluster to
/// register (TAKING_OVER).
pub async fn plan_take_over(
    store: &Store,
    vault: &Vault,
    request: &TakeOverCluster,
    creator: &str,
) -> Result<NewCluster, Failure> {
    check_cluster_name(&request.name)?;
    check_password("password", &request.password)?;
    ocp_ob::check_name("username", &request.username).map_err(ob_failure)?;
    if let Some(home) = &request.home_path {
        ocp_ob::check_home_path("homePath", home).map_err(ob_failure)?;
    }
    let host = usable_host(store, "hostId", request.host_id).await?;
    let package = match &request.rpm_name {
        Some(name) => Some(store.package_by_file_name(name).await?.ok_or_else(|| {
            Failure::field(
                "rpmName",
                format!("no software package {name:?} is uploaded"),
            )
        })?),
        None => None,
    };
    let target = Target {
        host: host.inner_ip_address.clone(),
        port: request.sql_port,
        user: request.username.clone(),
        password: request.password.clone(),
    };
    let mut client = ObClient::connect(&target, CONNECT_TIMEOUT)
        .await
        .map_err(ob_failure)?;
    let version = client.version().await.map_err(ob_failure)?;
    client.close().await;
    let kind = if version.contains("seekdb") {
        ServerKind::Seekdb
    } else {
        ServerKind::OceanBase
    };
    let new = NewCluster {
        name: request.name.clone(),
        kind,
        cluster_type: ClusterType::Primary,
        status: ClusterStatus::TakingOver,
        // A server being taken over is shown UNAVAILABLE until its task settles it.
        server_status: ServerStatus::Unavailable,
        ob_version: version,
        package_id: package.map(|p| p.id),
        root_user: request.username.clone(),
        root_password_sealed: vault.seal(&request.password)?,
        startup_parameters: "[]".into(),
        creator: creator.to_string(),
        primary_cluster_id: None,
        zones: vec![NewZone {
            name: "zone1".into(),
            idc_id: Some(host.idc_id),
            servers: vec![NewServer {
                host_id: host.id,
                ip: host.inner_ip_address.clone(),
                rpc_port: 2882,
                sql_port: request.sql_port.into(),
                home_path: request.home_path.clone().unwrap_or_default(),
            }],
        }],
    };
    Ok(new)
}

/// Registers a taken-over cluster.
/// As [`register`], for a cluster being taken over.
pub async fn register_taken_over(
    store: &Store,
    cluster: &NewCluster,
    task: impl FnOnce(i64, &[i64]) -> NewTask,
) -> Result<i64, Failure> {
    let registered = store.create_cluster(cluster, task).await;
    registered.map(|(_, task_id)| task_id).map_err(|e| match e {
        ocp_store::StoreError::AlreadyExists { key, .. } => Failure::new(
            ErrorCode::AlreadyExists,
            format!("{key} is registered already"),
        ),
        other => other.into(),
    })
}
