//! `/api/v2/ob/clusters`: deploy, take over, list, start/stop/restart (cluster, zone,
//! server), upgrade, delete, password, compaction. Parameters are in `cluster_params.rs`.
//!
//! seekdb runs one zone with one server and one tenant. Calls that need more (a second
//! zone or server, replacing a server) exist, check their input, and answer 10011 for it.

use std::collections::HashMap;

use axum::extract::State;

use ocp_api::ob::{
    AddServers, ChangeClusterPassword, Cluster, ClusterFilter, ClusterStatus, ClusterType,
    Compaction, CreateCluster, CreateZone, DeleteClusterQuery, DeleteServers, ReplaceServer,
    Server, ServerKind, TakeOverCluster, UpgradeCluster, Zone,
};
use ocp_api::task::TaskInstance;
use ocp_api::{ErrorCode, PageData, PageQuery};
use ocp_store::{ClusterRecord, ServerRecord, ZoneRecord};
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{perm, Authz};
use crate::cluster::access::ob_failure;
use crate::cluster::operation::ServerOperation;
use crate::cluster::{deploy, steps};
use crate::http::{
    comma_list, one_or_many, page_of, ApiJson, ApiPath, ApiQuery, ApiResult, Data, Failure, NoData,
    Paging,
};
use crate::roles::Caller;
use crate::state::AppState;

use super::cluster_view::{
    active_alarms, alarm_summaries, cluster_view, link_pair, one_cluster_view, server_view,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_clusters, create_cluster))
        .routes(routes!(take_over))
        .routes(routes!(get_cluster, delete_cluster))
        .routes(routes!(start_cluster))
        .routes(routes!(stop_cluster))
        .routes(routes!(restart_cluster))
        .routes(routes!(upgrade_cluster))
        .routes(routes!(change_password))
        .routes(routes!(list_zones, add_zone))
        .routes(routes!(delete_zone))
        .routes(routes!(start_zone))
        .routes(routes!(stop_zone))
        .routes(routes!(restart_zone))
        .routes(routes!(zone_servers))
        .routes(routes!(zone_servers_as_documented))
        .routes(routes!(list_servers, add_server))
        .routes(routes!(batch_delete_servers))
        .routes(routes!(start_server))
        .routes(routes!(stop_server))
        .routes(routes!(restart_server))
        .routes(routes!(replace_server))
        .routes(routes!(compaction, major_compaction))
}

/// 10011: what the cluster's kind cannot do.
pub fn unsupported(cluster: &ClusterRecord, what: &str) -> Failure {
    let kind = cluster.kind;
    let message = match kind {
        ServerKind::Seekdb => format!(
            "{what} is not supported by this server kind: cluster {} is a seekdb server \
             (one zone, one server, the sys tenant only)",
            cluster.name
        ),
        ServerKind::OceanBase => format!(
            "{what} on a multi-server OceanBase cluster is not available in this platform \
             yet (cluster {})",
            cluster.name
        ),
    };
    Failure::new(ErrorCode::UnsupportedByServerKind, message)
}

/// Query clusters, by part of the name and by status.
#[utoipa::path(get, path = "/api/v2/ob/clusters", tag = "clusters",
    params(ClusterFilter, PageQuery), responses((status = 200, body = PageData<Cluster>)))]
async fn list_clusters(
    _: Authz<perm::ClusterRead>,
    State(state): State<AppState>,
    ApiQuery(filter): ApiQuery<ClusterFilter>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<PageData<Cluster>> {
    let paging = Paging::parse(&page, &[("id", "id"), ("name", "name")])?;
    let statuses = comma_list("status", &filter.status, |s| {
        ClusterStatus::parse(s).is_some()
    })?;
    let name = filter.name.as_deref().map(str::to_lowercase);
    let all = state.store.clusters().await?;
    let only_primaries = filter.with_standby == Some(true);
    let mut records: Vec<ClusterRecord> = all
        .iter()
        .filter(|c| !only_primaries || c.cluster_type == ClusterType::Primary)
        .filter(|c| {
            name.as_deref()
                .is_none_or(|n| c.name.to_lowercase().contains(n))
        })
        .filter(|c| statuses.is_empty() || statuses.iter().any(|s| s == c.status.as_str()))
        .cloned()
        .collect();
    if let Some((column, order)) = &paging.sort {
        if column == "name" {
            records.sort_by(|a, b| a.name.cmp(&b.name));
        }
        if *order == ocp_api::SortOrder::Desc {
            records.reverse();
        }
    }
    let page = page_of(records, &paging);
    // Every server and zone in two statements, not two per cluster.
    let (servers, zones) = (
        state.store.all_servers().await?,
        state.store.all_zones().await?,
    );
    let alarms = active_alarms(&state).await?;
    let packages: HashMap<i64, String> = state
        .store
        .packages()
        .await?
        .into_iter()
        .map(|p| (p.id, p.file_name))
        .collect();
    let contents = page
        .contents
        .into_iter()
        .map(|c| {
            let of_servers: Vec<&ServerRecord> =
                servers.iter().filter(|s| s.cluster_id == c.id).collect();
            let of_zones: Vec<&ZoneRecord> =
                zones.iter().filter(|z| z.cluster_id == c.id).collect();
            let mut view = cluster_view(c, &of_servers, &of_zones, &packages);
            view.alarm_summaries = alarm_summaries(&view.name, &alarms, &state.public_url);
            link_pair(&mut view, &all);
            view
        })
        .collect();
    Ok(Data(PageData {
        contents,
        page: page.page,
    }))
}

#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}", tag = "clusters",
    params(("id" = i64, Path)), responses((status = 200, body = Cluster)))]
async fn get_cluster(
    _: Authz<perm::ClusterRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Cluster> {
    Ok(Data(one_cluster_view(&state, id).await?))
}

/// Create an OceanBase cluster: checks everything, registers it CREATING, and answers
/// the deploy task.
#[utoipa::path(post, path = "/api/v2/ob/clusters", tag = "clusters",
    request_body = CreateCluster, responses((status = 200, body = TaskInstance)))]
async fn create_cluster(
    Authz(caller, _): Authz<perm::ClusterCreate>,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<CreateCluster>,
) -> ApiResult<TaskInstance> {
    let plan = deploy::plan(&state.store, &state.vault, &request, &caller.username).await?;
    let task = |cluster_id, servers: &[i64]| {
        let template = steps::create_cluster(cluster_id, servers)
            .value("cluster_name", request.name.clone())
            .value("rpm_name", plan.rpm_name.clone())
            .value("sql_port", plan.sql_port.to_string());
        state.task_of(template, &caller)
    };
    let task_id = deploy::register(&state.store, &plan.cluster, task).await?;
    Ok(Data(state.submitted(task_id).await?))
}

/// Take over a running seekdb: checks the login now, registers the cluster and answers a
/// task that syncs it. The server is not restarted.
#[utoipa::path(post, path = "/api/v2/ob/clusters/takeover", tag = "clusters",
    request_body = TakeOverCluster, responses((status = 200, body = TaskInstance)))]
async fn take_over(
    Authz(caller, _): Authz<perm::ClusterCreate>,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<TakeOverCluster>,
) -> ApiResult<TaskInstance> {
    let new =
        deploy::plan_take_over(&state.store, &state.vault, &request, &caller.username).await?;
    // A take over registers exactly one server.
    let task = |cluster_id, servers: &[i64]| {
        state.task_of(steps::take_over(cluster_id, servers[0]), &caller)
    };
    let task_id = deploy::register_taken_over(&state.store, &new, task).await?;
    Ok(Data(state.submitted(task_id).await?))
}

/// Starts, stops or restarts every server of a cluster, as a task.
async fn operate_cluster(
    state: &AppState,
    caller: &Caller,
    id: i64,
    operation: ServerOperation,
) -> ApiResult<TaskInstance> {
    let cluster = state.store.cluster(id).await?;
    if operation != ServerOperation::Stop && crate::cluster::standby::is_fenced(&cluster) {
        return Err(Failure::new(
            ErrorCode::StateConflict,
            format!(
                "cluster {} was the primary before a failover and is fenced off: its log has \
                 parted from the new primary's, so starting it would make a second primary; \
                 remove it and create a new standby",
                cluster.name
            ),
        ));
    }
    let servers = state.store.servers(id).await?;
    operation.check_operable(&servers)?;
    let ids: Vec<i64> = servers.iter().map(|s| s.id).collect();
    let template = steps::server_operation("cluster", id, &ids, operation)
        .value("cluster_name", cluster.name.clone())
        .value("former_cluster_status", cluster.status.as_str());
    Ok(Data(state.submit(template, caller).await?))
}

/// Start a cluster's servers.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/start", tag = "clusters",
    params(("id" = i64, Path)), responses((status = 200, body = TaskInstance)))]
async fn start_cluster(
    Authz(caller, _): Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<TaskInstance> {
    operate_cluster(&state, &caller, id, ServerOperation::Start).await
}

/// Stop a cluster's servers.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/stop", tag = "clusters",
    params(("id" = i64, Path)), responses((status = 200, body = TaskInstance)))]
async fn stop_cluster(
    Authz(caller, _): Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<TaskInstance> {
    operate_cluster(&state, &caller, id, ServerOperation::Stop).await
}

/// Restart a cluster's servers.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/restart", tag = "clusters",
    params(("id" = i64, Path)), responses((status = 200, body = TaskInstance)))]
async fn restart_cluster(
    Authz(caller, _): Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<TaskInstance> {
    operate_cluster(&state, &caller, id, ServerOperation::Restart).await
}

/// Upgrade a cluster to a package, as a task: the package is checked (uploaded, the same
/// server, newer than the one the cluster runs), a physical backup set is taken first (into
/// the storage of the cluster's backup strategy, or beside the server's base directory),
/// then the server restarts on the new package; a failure after the stop rolls back.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/upgrade", tag = "clusters",
    params(("id" = i64, Path)), request_body = UpgradeCluster,
    responses((status = 200, body = TaskInstance)))]
async fn upgrade_cluster(
    Authz(caller, _): Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<UpgradeCluster>,
) -> ApiResult<TaskInstance> {
    let cluster = state.store.cluster(id).await?;
    let plan =
        crate::cluster::upgrade::plan(&state.store, &state.vault, &cluster, &body.rpm_file_name)
            .await?;
    let task = |set_id| {
        let template =
            steps::upgrade_cluster(id, plan.server.id, set_id, plan.package.id, plan.running.id)
                .value("cluster_name", cluster.name.clone())
                .value("rpm_name", plan.package.file_name.clone())
                .value("former_rpm_name", plan.running.file_name.clone());
        state.task_of(template, &caller)
    };
    let (_, task_id) = state.store.create_backup_set(&plan.set, task).await?;
    Ok(Data(state.submitted(task_id).await?))
}

/// Delete a cluster: stops its servers and removes their directories unless `keepData`.
#[utoipa::path(delete, path = "/api/v2/ob/clusters/{id}", tag = "clusters",
    params(("id" = i64, Path), DeleteClusterQuery), responses((status = 200, body = TaskInstance)))]
async fn delete_cluster(
    Authz(caller, _): Authz<perm::ClusterDelete>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<DeleteClusterQuery>,
) -> ApiResult<TaskInstance> {
    let cluster = state.store.cluster(id).await?;
    if let Some(standby) = crate::cluster::standby::standbys_of(&state.store, id)
        .await?
        .first()
    {
        return Err(Failure::new(
            ErrorCode::StateConflict,
            format!(
                "cluster {} has standby {}; remove the standby first",
                cluster.name, standby.name
            ),
        ));
    }
    delete_task(&state, &caller, cluster, query.keep_data.unwrap_or(false)).await
}

/// Marks a cluster DELETING and submits the task that stops its servers, removes their
/// directories unless `keep_data` and forgets it.
pub(super) async fn delete_task(
    state: &AppState,
    caller: &Caller,
    cluster: ClusterRecord,
    keep_data: bool,
) -> ApiResult<TaskInstance> {
    let being_deleted = || {
        Failure::new(
            ErrorCode::StateConflict,
            format!("cluster {} is being deleted", cluster.name),
        )
    };
    if cluster.status == ClusterStatus::Deleting {
        return Err(being_deleted());
    }
    let ids: Vec<i64> = state
        .store
        .servers(cluster.id)
        .await?
        .iter()
        .map(|s| s.id)
        .collect();
    let template = steps::delete_cluster(cluster.id, &ids, keep_data)
        .value("cluster_name", cluster.name.clone());
    let task = state.task_of(template, caller);
    let task_id = state
        .store
        .begin_cluster_delete(cluster.id, &task)
        .await?
        .ok_or_else(being_deleted)?;
    Ok(Data(state.submitted(task_id).await?))
}

/// Change the root password of the sys tenant.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/changePassword", tag = "clusters",
    params(("id" = i64, Path)), request_body = ChangeClusterPassword, responses((status = 200)))]
async fn change_password(
    _: Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<ChangeClusterPassword>,
) -> Result<NoData, Failure> {
    deploy::check_password("newPassword", &request.new_password)?;
    let cluster = state.store.cluster(id).await?;
    crate::cluster::tenant::change_root_password(&state.ob, &cluster, &request.new_password)
        .await?;
    Ok(NoData)
}

/// The zones of a cluster.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/zones", tag = "clusters",
    params(("id" = i64, Path)), responses((status = 200, body = ocp_api::host::Contents<Zone>)))]
async fn list_zones(
    _: Authz<perm::ClusterRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<ocp_api::host::Contents<Zone>> {
    let cluster = one_cluster_view(&state, id).await?;
    Ok(Data(ocp_api::host::Contents {
        contents: cluster.zones,
    }))
}

/// Checks zones to add, then answers that this server kind cannot grow (seekdb runs one
/// zone of one server).
async fn refuse_new_servers(
    state: &AppState,
    id: i64,
    zones: &[CreateZone],
    what: &str,
) -> ApiResult<TaskInstance> {
    for (i, zone) in zones.iter().enumerate() {
        deploy::check_zone(zone, &format!("[{i}]"))?;
    }
    Err(unsupported(&state.store.cluster(id).await?, what))
}

/// Add a zone (a second zone: not on seekdb). The documented body is one zone; an array of
/// zones is taken too.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/zones", tag = "clusters",
    params(("id" = i64, Path)), request_body = CreateZone, responses((status = 200, body = TaskInstance)))]
async fn add_zone(
    _: Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<TaskInstance> {
    let zones: Vec<CreateZone> = one_or_many(&body)?;
    refuse_new_servers(&state, id, &zones, "adding a zone").await
}

async fn zone_servers_of(
    state: &AppState,
    id: i64,
    zone: &str,
) -> Result<(ClusterRecord, Vec<ServerRecord>), Failure> {
    let cluster = state.store.cluster(id).await?;
    if !state.store.zones(id).await?.iter().any(|z| z.name == zone) {
        return Err(Failure::not_found("zone", zone));
    }
    let servers = state
        .store
        .servers(id)
        .await?
        .into_iter()
        .filter(|s| s.zone_name == zone)
        .collect();
    Ok((cluster, servers))
}

/// Starts, stops or restarts the servers of a zone, as a task.
async fn operate_zone(
    state: &AppState,
    caller: &Caller,
    (id, zone): (i64, String),
    operation: ServerOperation,
) -> ApiResult<TaskInstance> {
    let (cluster, servers) = zone_servers_of(state, id, &zone).await?;
    operation.check_operable(&servers)?;
    let ids: Vec<i64> = servers.iter().map(|s| s.id).collect();
    let template = steps::server_operation("zone", id, &ids, operation)
        .value("cluster_name", cluster.name)
        .value("zone_name", zone);
    Ok(Data(state.submit(template, caller).await?))
}

/// Start a zone's servers.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/zones/{zoneName}/start", tag = "clusters",
    params(("id" = i64, Path), ("zoneName" = String, Path)), responses((status = 200, body = TaskInstance)))]
async fn start_zone(
    Authz(caller, _): Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<(i64, String)>,
) -> ApiResult<TaskInstance> {
    operate_zone(&state, &caller, path, ServerOperation::Start).await
}

/// Stop a zone's servers.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/zones/{zoneName}/stop", tag = "clusters",
    params(("id" = i64, Path), ("zoneName" = String, Path)), responses((status = 200, body = TaskInstance)))]
async fn stop_zone(
    Authz(caller, _): Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<(i64, String)>,
) -> ApiResult<TaskInstance> {
    operate_zone(&state, &caller, path, ServerOperation::Stop).await
}

/// Restart a zone's servers.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/zones/{zoneName}/restart", tag = "clusters",
    params(("id" = i64, Path), ("zoneName" = String, Path)), responses((status = 200, body = TaskInstance)))]
async fn restart_zone(
    Authz(caller, _): Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<(i64, String)>,
) -> ApiResult<TaskInstance> {
    operate_zone(&state, &caller, path, ServerOperation::Restart).await
}

/// Delete a zone (a cluster's only zone cannot go; seekdb has one).
#[utoipa::path(delete, path = "/api/v2/ob/clusters/{id}/zones/{zoneName}", tag = "clusters",
    params(("id" = i64, Path), ("zoneName" = String, Path)), responses((status = 200, body = TaskInstance)))]
async fn delete_zone(
    _: Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath((id, zone)): ApiPath<(i64, String)>,
) -> ApiResult<TaskInstance> {
    let (cluster, _) = zone_servers_of(&state, id, &zone).await?;
    Err(unsupported(&cluster, "deleting a zone"))
}

/// The servers of a zone.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/zones/{zoneName}/servers", tag = "clusters",
    params(("id" = i64, Path), ("zoneName" = String, Path)), responses((status = 200, body = ocp_api::host::Contents<Server>)))]
async fn zone_servers(
    _: Authz<perm::ClusterRead>,
    State(state): State<AppState>,
    ApiPath((id, zone)): ApiPath<(i64, String)>,
) -> ApiResult<ocp_api::host::Contents<Server>> {
    let (_, servers) = zone_servers_of(&state, id, &zone).await?;
    Ok(Data(ocp_api::host::Contents {
        contents: servers.iter().map(server_view).collect(),
    }))
}

/// The servers of a zone, at the path OCP's reference gives (without `/ob/`).
#[utoipa::path(get, path = "/api/v2/clusters/{id}/zones/{zoneName}/servers", tag = "clusters",
    params(("id" = i64, Path), ("zoneName" = String, Path)), responses((status = 200, body = ocp_api::host::Contents<Server>)))]
async fn zone_servers_as_documented(
    authz: Authz<perm::ClusterRead>,
    state: State<AppState>,
    path: ApiPath<(i64, String)>,
) -> ApiResult<ocp_api::host::Contents<Server>> {
    zone_servers(authz, state, path).await
}

/// The servers of a cluster.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/servers", tag = "clusters",
    params(("id" = i64, Path)), responses((status = 200, body = ocp_api::host::Contents<Server>)))]
async fn list_servers(
    _: Authz<perm::ClusterRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<ocp_api::host::Contents<Server>> {
    state.store.cluster(id).await?;
    let servers = state.store.servers(id).await?;
    Ok(Data(ocp_api::host::Contents {
        contents: servers.iter().map(server_view).collect(),
    }))
}

/// Add servers (a second server: not on seekdb). The documented body is `{zoneName,
/// servers}`; an array of zones (`{name, servers}`) is taken too.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/servers", tag = "clusters",
    params(("id" = i64, Path)), request_body = AddServers, responses((status = 200, body = TaskInstance)))]
async fn add_server(
    _: Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<TaskInstance> {
    let zones: Vec<CreateZone> = if body.is_array() {
        one_or_many(&body)?
    } else {
        let add: AddServers = one_or_many(&body)?.remove(0);
        if add.zone_name.trim().is_empty() {
            return Err(Failure::field("zoneName", "is required"));
        }
        vec![CreateZone {
            name: add.zone_name,
            idc_name: None,
            servers: add.servers,
        }]
    };
    refuse_new_servers(&state, id, &zones, "adding a server").await
}

/// Delete servers (a cluster's only server cannot go). The documented body is `{servers}`,
/// server or host ids; an array of server ids is taken too.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/servers/batchDelete", tag = "clusters",
    params(("id" = i64, Path)), request_body = DeleteServers, responses((status = 200, body = TaskInstance)))]
async fn batch_delete_servers(
    _: Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<TaskInstance> {
    let (ids, field) = if body.is_array() {
        (one_or_many::<i64>(&body)?, "")
    } else {
        (
            one_or_many::<DeleteServers>(&body)?.remove(0).servers,
            "servers",
        )
    };
    let cluster = state.store.cluster(id).await?;
    let servers = state.store.servers(id).await?;
    for (i, sid) in ids.iter().enumerate() {
        if !servers.iter().any(|s| s.id == *sid || s.host_id == *sid) {
            return Err(Failure::field(
                &format!("{field}[{i}]"),
                format!("server {sid} is not in cluster {}", cluster.name),
            ));
        }
    }
    Err(unsupported(&cluster, "deleting servers"))
}

/// A cluster and one of its servers.
async fn cluster_server(
    state: &AppState,
    id: i64,
    server_id: i64,
) -> Result<(ClusterRecord, ServerRecord), Failure> {
    let cluster = state.store.cluster(id).await?;
    let server = state.store.server(server_id).await?;
    if server.cluster_id != id {
        return Err(Failure::not_found("server", server_id));
    }
    Ok((cluster, server))
}

/// Starts, stops or restarts one server, as a task.
async fn operate_server(
    state: &AppState,
    caller: &Caller,
    (id, server_id): (i64, i64),
    operation: ServerOperation,
) -> ApiResult<TaskInstance> {
    let (cluster, server) = cluster_server(state, id, server_id).await?;
    operation.check_operable(std::slice::from_ref(&server))?;
    let template = steps::server_operation("server", id, &[server_id], operation)
        .value("cluster_name", cluster.name)
        .value("zone_name", server.zone_name.clone())
        .value("former_cluster_status", cluster.status.as_str());
    Ok(Data(state.submit(template, caller).await?))
}

/// Start a server; `004_*` is its answer.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/servers/{serverId}/start", tag = "clusters",
    params(("id" = i64, Path), ("serverId" = i64, Path)), responses((status = 200, body = TaskInstance)))]
async fn start_server(
    Authz(caller, _): Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<(i64, i64)>,
) -> ApiResult<TaskInstance> {
    operate_server(&state, &caller, path, ServerOperation::Start).await
}

/// Stop a server.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/servers/{serverId}/stop", tag = "clusters",
    params(("id" = i64, Path), ("serverId" = i64, Path)), responses((status = 200, body = TaskInstance)))]
async fn stop_server(
    Authz(caller, _): Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<(i64, i64)>,
) -> ApiResult<TaskInstance> {
    operate_server(&state, &caller, path, ServerOperation::Stop).await
}

/// Restart a server.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/servers/{serverId}/restart", tag = "clusters",
    params(("id" = i64, Path), ("serverId" = i64, Path)), responses((status = 200, body = TaskInstance)))]
async fn restart_server(
    Authz(caller, _): Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<(i64, i64)>,
) -> ApiResult<TaskInstance> {
    operate_server(&state, &caller, path, ServerOperation::Restart).await
}

/// Replace a server with one on another host: seekdb has no second server to hand over to.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/servers/{serverId}/replace", tag = "clusters",
    params(("id" = i64, Path), ("serverId" = i64, Path)), request_body = ReplaceServer,
    responses((status = 200, body = TaskInstance), (status = 400, description = "code 10011 on seekdb")))]
async fn replace_server(
    _: Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath((id, server_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<ReplaceServer>,
) -> ApiResult<TaskInstance> {
    if body.host_id < 1 {
        return Err(Failure::field(
            "hostId",
            format!("must be an id from 1, not {}", body.host_id),
        ));
    }
    let (cluster, _) = cluster_server(&state, id, server_id).await?;
    Err(unsupported(&cluster, "replacing a server"))
}

/// The state of major compaction, read from the server.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/compaction", tag = "clusters",
    params(("id" = i64, Path)), responses((status = 200, body = Compaction)))]
async fn compaction(
    _: Authz<perm::ClusterRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Compaction> {
    let mut client = state.ob.connect(id).await?;
    let row = client.compaction().await.map_err(ob_failure)?;
    client.close().await;
    Ok(Data(Compaction {
        status: row.status,
        frozen_scn: row.frozen_scn,
        last_scn: row.last_scn,
        is_error: row.is_error,
        last_finish_time: row.last_finish_time,
        start_time: row.start_time,
    }))
}

/// Trigger a major compaction; the task follows it to its end.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/compaction", tag = "clusters",
    params(("id" = i64, Path)), responses((status = 200, body = TaskInstance)))]
async fn major_compaction(
    Authz(caller, _): Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<TaskInstance> {
    let cluster = state.store.cluster(id).await?;
    if cluster.status != ClusterStatus::Running {
        return Err(Failure::new(
            ErrorCode::StateConflict,
            format!(
                "cluster {} is {}, not RUNNING",
                cluster.name, cluster.status
            ),
        ));
    }
    let template = steps::major_compaction(id).value("cluster_name", cluster.name);
    Ok(Data(state.submit(template, &caller).await?))
}
