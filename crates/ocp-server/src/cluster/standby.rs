//! Standby clusters: what a new standby must be (a new one-server cluster on another host,
//! built from its primary's log, with its primary's package, startup parameters, users and
//! passwords), which pairs a switchover, failover or removal applies to, and the lag of a
//! standby read from both servers. `steps/standby.rs` runs the tasks.

use ocp_api::ob::{
    ClusterStatus, ClusterType, CreateCluster, CreateZone, ServerKind, SetParameter,
};
use ocp_api::standby::{CreateStandby, StandbyCluster, SyncStatus};
use ocp_api::ErrorCode;
use ocp_store::{ClusterRecord, NewCluster, ServerRecord, Store};

use crate::cluster::access::ObAccess;
use crate::cluster::{backup, deploy};
use crate::error::Failure;
use crate::vault::Vault;

/// The startup parameters of a primary a standby does not take: its own RPC port, where it
/// fetches the log from, and the log service (a standby bootstrapped with it on does not
/// start; it serves its log once it becomes a primary).
const PAIR_PARAMETERS: [&str; 3] = ["rpc_port", "log_restore_source", "enable_rpc_service"];

/// The address a standby fetches its primary's log from.
pub fn log_source(primary: &ServerRecord) -> String {
    format!("{}:{}", primary.ip, primary.rpc_port)
}

/// The standbys that follow (or, fenced, followed) the cluster `primary_id`.
pub async fn standbys_of(store: &Store, primary_id: i64) -> Result<Vec<ClusterRecord>, Failure> {
    let mut all = store.clusters().await?;
    all.retain(|c| c.primary_cluster_id == Some(primary_id));
    Ok(all)
}

/// Whether the cluster is the old primary of a failover, fenced off: it is never started
/// again, and read-only if it answers.
pub fn is_fenced(cluster: &ClusterRecord) -> bool {
    cluster.sync_status.as_deref() == Some(SyncStatus::Disabled.as_str())
}

/// Whether `standby` is the standby of `primary` that the path names.
pub fn check_pair(primary: &ClusterRecord, standby: &ClusterRecord) -> Result<(), Failure> {
    if standby.primary_cluster_id != Some(primary.id) {
        return Err(Failure::new(
            ErrorCode::NotFound,
            format!(
                "cluster {} is not a standby of cluster {}",
                standby.name, primary.name
            ),
        ));
    }
    Ok(())
}

/// A pair a switchover or failover may start from: the primary is the primary of the pair,
/// and the standby follows it (not one fenced off by a failover).
pub fn check_switchable(
    primary: &ClusterRecord,
    standby: &ClusterRecord,
    what: &str,
) -> Result<(), Failure> {
    check_pair(primary, standby)?;
    if primary.cluster_type != ClusterType::Primary {
        return Err(Failure::new(
            ErrorCode::StateConflict,
            format!("cluster {} is not a primary", primary.name),
        ));
    }
    if is_fenced(standby) {
        return Err(Failure::new(
            ErrorCode::StateConflict,
            format!(
                "standby {} no longer follows {} (it was fenced off by a failover); remove it \
                 and create a new standby",
                standby.name, primary.name
            ),
        ));
    }
    if standby.status != ClusterStatus::Running {
        return Err(Failure::new(
            ErrorCode::StateConflict,
            format!(
                "a {what} needs standby {} RUNNING; it is {}",
                standby.name, standby.status
            ),
        ));
    }
    Ok(())
}

/// Checks a new standby of `primary`; answers the cluster to register (CREATING) and the
/// primary's one server.
pub async fn plan(
    store: &Store,
    vault: &Vault,
    primary: &ClusterRecord,
    request: &CreateStandby,
    creator: &str,
) -> Result<(NewCluster, ServerRecord), Failure> {
    if primary.kind != ServerKind::Seekdb || primary.cluster_type != ClusterType::Primary {
        return Err(Failure::new(
            ErrorCode::StateConflict,
            format!(
                "cluster {} is not a primary seekdb cluster; a standby follows a primary",
                primary.name
            ),
        ));
    }
    let server = backup::only_server(store, primary).await?;
    backup::require_running(
        primary,
        &server,
        "a standby is built from a RUNNING primary",
    )?;
    if let Some(standby) = standbys_of(store, primary.id).await?.first() {
        return Err(Failure::new(
            ErrorCode::UnsupportedByServerKind,
            format!(
                "cluster {} has standby {} already; this platform keeps one standby per \
                 seekdb primary, which a switchover can then exchange roles with",
                primary.name, standby.name
            ),
        ));
    }
    if request.host_id == server.host_id {
        return Err(Failure::field(
            "hostId",
            "a standby goes on another host than its primary's",
        ));
    }
    let package_id = primary.package_id.ok_or_else(|| {
        Failure::new(
            ErrorCode::IllegalArgument,
            format!(
                "cluster {} was taken over without naming its package; a standby runs its \
                 primary's package",
                primary.name
            ),
        )
    })?;
    let package = store.package(package_id).await?;
    let mut parameters: Vec<SetParameter> =
        serde_json::from_str(&primary.startup_parameters).unwrap_or_default();
    parameters.retain(|p| !PAIR_PARAMETERS.contains(&p.name.as_str()));
    parameters.push(SetParameter {
        name: "log_restore_source".into(),
        value: log_source(&server),
    });
    let deploy = CreateCluster {
        name: request.name.clone(),
        rpm_name: package.file_name.clone(),
        cluster_type: ClusterType::Primary,
        password: vault.unseal(&primary.root_password_sealed)?,
        primary_zone: None,
        zones: vec![CreateZone {
            name: "zone1".into(),
            idc_name: None,
            servers: vec![request.host_id],
        }],
        sql_port: request.sql_port,
        rpc_port: request.rpc_port,
        home_path: request.home_path.clone(),
        parameters,
    };
    let planned = deploy::plan(store, vault, &deploy, creator)
        .await
        .map_err(|e| renamed(e, "zones[0].servers[0]", "hostId"))?;
    let mut cluster = planned.cluster;
    // Its users are its primary's, replicated.
    cluster.cluster_type = ClusterType::Standby;
    cluster.primary_cluster_id = Some(primary.id);
    cluster.root_user = primary.root_user.clone();
    cluster.root_password_sealed = primary.root_password_sealed.clone();
    Ok((cluster, server))
}

/// A failure of a deploy's check, its field named as the standby's request names it.
fn renamed(mut failure: Failure, from: &str, to: &str) -> Failure {
    failure.message = failure.message.replace(from, to);
    for sub in &mut failure.sub_errors {
        if sub.field == from {
            sub.field = to.to_string();
        }
    }
    failure
}

/// A standby of `primary` and its lag, read from both servers now.
pub async fn view(
    access: &ObAccess,
    primary: &ClusterRecord,
    standby: ClusterRecord,
) -> Result<StandbyCluster, Failure> {
    let server = access.store.servers(standby.id).await?.into_iter().next();
    let mut view = StandbyCluster {
        id: standby.id,
        name: standby.name.clone(),
        cluster_type: standby.cluster_type,
        status: standby.status,
        sync_status: standby
            .sync_status
            .as_deref()
            .and_then(SyncStatus::parse)
            .unwrap_or(SyncStatus::Synchronizing),
        primary_cluster_id: primary.id,
        primary_cluster_name: primary.name.clone(),
        address: server
            .as_ref()
            .map(|s| format!("{}:{}", s.ip, s.sql_port))
            .unwrap_or_default(),
        rpc_port: server.as_ref().map_or(0, |s| s.rpc_port),
        role: None,
        delay_time: None,
        readable_scn: None,
        sync_scn: None,
        primary_scn: None,
        lag_scn: None,
        fail_to_query_reason: None,
    };
    let stat = match access.connect(standby.id).await {
        Ok(mut client) => {
            let stat = client.replica_stat().await;
            client.close().await;
            stat.map_err(|e| e.to_string())
        }
        Err(e) => Err(e.message),
    };
    let stat = match stat {
        Ok(stat) => stat,
        Err(why) => {
            view.fail_to_query_reason = Some(format!("standby: {why}"));
            return Ok(view);
        }
    };
    view.role = Some(stat.role.clone());
    view.readable_scn = Some(stat.readable_scn);
    view.sync_scn = Some(stat.sync_scn);
    view.delay_time = Some(stat.delay_from_now());
    let end = match access.connect(primary.id).await {
        Ok(mut client) => {
            let end = client.log_end_scn().await;
            client.close().await;
            end.map_err(|e| e.to_string())
        }
        Err(e) => Err(e.message),
    };
    match end {
        Ok(end) => {
            let lag = (end - stat.readable_scn).max(0);
            view.primary_scn = Some(end);
            view.lag_scn = Some(lag);
            view.delay_time = Some(lag as f64 / 1e9);
        }
        Err(why) => view.fail_to_query_reason = Some(format!("primary: {why}")),
    }
    Ok(view)
}
