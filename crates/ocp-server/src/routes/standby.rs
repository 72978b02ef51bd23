//! Standby clusters of a primary: create one (a task), list them with their lag, switch
//! over, fail over and remove one (tasks). `cluster/standby.rs` holds the rules.

use axum::extract::State;
use ocp_api::standby::{CreateStandby, StandbyCluster};
use ocp_api::task::TaskInstance;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{perm, Authz};
use crate::cluster::{deploy, standby, steps};
use crate::http::{ApiJson, ApiPath, ApiResult, Data, Failure};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_standbys, create_standby))
        .routes(routes!(remove_standby))
        .routes(routes!(switchover))
        .routes(routes!(failover))
}

/// Create a standby of a running primary on another host, as a task: the primary serves its
/// log on its RPC port, the standby is installed and started from it and the task ends when
/// the standby reads what the primary had written. The standby has the primary's package,
/// startup parameters, users and passwords.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/standbyClusters", tag = "clusters",
    params(("id" = i64, Path)), request_body = CreateStandby,
    responses((status = 200, body = TaskInstance)))]
async fn create_standby(
    Authz(caller, _): Authz<perm::ClusterCreate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<CreateStandby>,
) -> ApiResult<TaskInstance> {
    let primary = state.store.cluster(id).await?;
    let (cluster, primary_server) = standby::plan(
        &state.store,
        &state.vault,
        &primary,
        &request,
        &caller.username,
    )
    .await?;
    let task = |cluster_id, servers: &[i64]| {
        let template = steps::create_standby(cluster_id, servers, id)
            .value("cluster_name", request.name.clone())
            .value("primary_cluster_name", primary.name.clone())
            .value("log_restore_source", standby::log_source(&primary_server));
        state.task_of(template, &caller)
    };
    let task_id = deploy::register(&state.store, &cluster, task).await?;
    Ok(Data(state.submitted(task_id).await?))
}

/// The standbys of a cluster, each with its lag read now from both servers: in seconds
/// (`delayTime`) and in SCN (`lagScn`).
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/standbyClusters", tag = "clusters",
    params(("id" = i64, Path)), responses((status = 200, body = Vec<StandbyCluster>)))]
async fn list_standbys(
    _: Authz<perm::ClusterRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Vec<StandbyCluster>> {
    let primary = state.store.cluster(id).await?;
    let mut views = Vec::new();
    for c in standby::standbys_of(&state.store, id).await? {
        views.push(standby::view(&state.ob, &primary, c).await?);
    }
    Ok(Data(views))
}

/// The pair `{id}` (primary) and `{standbyId}` names.
async fn pair(
    state: &AppState,
    id: i64,
    standby_id: i64,
) -> Result<(ocp_store::ClusterRecord, ocp_store::ClusterRecord), Failure> {
    let primary = state.store.cluster(id).await?;
    let standby_cluster = state.store.cluster(standby_id).await?;
    standby::check_pair(&primary, &standby_cluster)?;
    Ok((primary, standby_cluster))
}

/// Switchover: the standby becomes the primary and the primary its standby, following it
/// after a restart. Both must run and the standby must follow; the task first waits until
/// the standby has the primary's log, so no acknowledged write is lost.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/standbyClusters/{standbyId}/switchover",
    tag = "clusters", params(("id" = i64, Path), ("standbyId" = i64, Path)),
    responses((status = 200, body = TaskInstance)))]
async fn switchover(
    Authz(caller, _): Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath((id, standby_id)): ApiPath<(i64, i64)>,
) -> ApiResult<TaskInstance> {
    let (primary, standby_cluster) = pair(&state, id, standby_id).await?;
    standby::check_switchable(&primary, &standby_cluster, "switchover")?;
    let server = crate::cluster::backup::only_server(&state.store, &primary).await?;
    crate::cluster::backup::require_running(
        &primary,
        &server,
        "a switchover needs both clusters RUNNING (a lost primary is failed over)",
    )?;
    let template = steps::switchover(id, server.id, standby_id)
        .value("cluster_name", primary.name.clone())
        .value("standby_cluster_name", standby_cluster.name.clone());
    Ok(Data(state.submit(template, &caller).await?))
}

/// Failover: the standby becomes the primary with the log it has (writes the primary
/// acknowledged but had not shipped are lost). The old primary is fenced off first: made
/// read-only and stopped if it answers, recorded STOPPED if not; the platform does not start
/// it again. Remove it and create a new standby to have a pair again.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/standbyClusters/{standbyId}/failover",
    tag = "clusters", params(("id" = i64, Path), ("standbyId" = i64, Path)),
    responses((status = 200, body = TaskInstance)))]
async fn failover(
    Authz(caller, _): Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath((id, standby_id)): ApiPath<(i64, i64)>,
) -> ApiResult<TaskInstance> {
    let (primary, standby_cluster) = pair(&state, id, standby_id).await?;
    standby::check_switchable(&primary, &standby_cluster, "failover")?;
    let template = steps::failover(id, standby_id)
        .value("cluster_name", standby_cluster.name.clone())
        .value("former_primary_name", primary.name.clone());
    Ok(Data(state.submit(template, &caller).await?))
}

/// Remove a standby: its server stops and its directory is removed, as a task; the primary
/// goes on serving its log for a standby created later.
#[utoipa::path(delete, path = "/api/v2/ob/clusters/{id}/standbyClusters/{standbyId}",
    tag = "clusters", params(("id" = i64, Path), ("standbyId" = i64, Path)),
    responses((status = 200, body = TaskInstance)))]
async fn remove_standby(
    Authz(caller, _): Authz<perm::ClusterDelete>,
    State(state): State<AppState>,
    ApiPath((id, standby_id)): ApiPath<(i64, i64)>,
) -> ApiResult<TaskInstance> {
    let (_, standby_cluster) = pair(&state, id, standby_id).await?;
    super::clusters::delete_task(&state, &caller, standby_cluster, false).await
}
