//! Tenants: `/api/v2/ob/tenants`, and `/api/v2/ob/clusters/{id}/tenants/{tenantId}` with its
//! details, units, parameters, administrator password and whitelist. The reference spells the
//! details and units paths with `/cluster/` (singular); both spellings are served.
//!
//! A seekdb server has one tenant, sys (id 1): what would create, drop, lock or reshape a
//! tenant checks its input and answers 10011.

use axum::extract::State;
use ocp_api::host::Contents;
use ocp_api::tenant::{
    ChangeTenantPassword, CreateTenant, DeleteReplica, ModifyPrimaryZone, ModifyWhitelist,
    SetTenantParameter, Tenant, TenantDetail, TenantFilter, TenantParameter, TenantReplica,
    TenantUnit, UnitFilter, WhitelistChanged,
};
use ocp_api::{PageData, PageQuery, SortOrder};
use ocp_store::{ClusterRecord, ZoneRecord};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{perm, Authz};
use crate::cluster::access::ob_failure;
use crate::cluster::{deploy, tenant};
use crate::http::{
    comma_list, page_of, parse_flag, ApiJson, ApiPath, ApiQuery, ApiResult, Data, Failure, NoData,
    Paging,
};
use crate::routes::clusters::unsupported;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(all_tenants))
        .routes(routes!(cluster_tenants, create_tenant))
        .routes(routes!(create_tenant_async))
        .routes(routes!(tenant_details, delete_tenant))
        .routes(routes!(tenant_details_as_documented))
        .routes(routes!(tenant_units))
        .routes(routes!(tenant_units_as_documented))
        .routes(routes!(delete_unit))
        .routes(routes!(lock_tenant))
        .routes(routes!(unlock_tenant))
        .routes(routes!(add_replica))
        .routes(routes!(modify_replica))
        .routes(routes!(delete_replica))
        .routes(routes!(modify_primary_zone))
        .routes(routes!(tenant_parameters, set_tenant_parameters))
        .routes(routes!(change_password))
        .routes(routes!(modify_whitelist))
}

type TenantPath = ApiPath<(i64, i64)>;

/// A yes/no filter; left empty, it filters nothing.
fn flag(field: &str, text: &Option<String>) -> Result<Option<bool>, Failure> {
    parse_flag(
        field,
        text.as_deref().map(str::trim).filter(|t| !t.is_empty()),
    )
}

/// The tenants of `clusters` that pass `filter`, sorted as asked.
async fn tenants_of(
    state: &AppState,
    clusters: Vec<ClusterRecord>,
    filter: &TenantFilter,
    paging: &Paging,
) -> Result<PageData<Tenant>, Failure> {
    let modes = comma_list("mode", &filter.mode, |m| {
        matches!(m.to_ascii_uppercase().as_str(), "MYSQL" | "ORACLE")
    })?;
    let statuses = comma_list("status", &filter.status, |s| {
        matches!(s, "NORMAL" | "CREATING" | "MODIFYING" | "DELETING")
    })?;
    let locked = flag("locked", &filter.locked)?;
    let readonly = flag("readonly", &filter.readonly)?;
    let name = filter.name.as_deref().map(str::to_lowercase);
    // Every zone in one statement, not one per cluster.
    let zones = state.store.all_zones().await?;
    let mut all = Vec::new();
    for cluster in clusters {
        let of: Vec<ZoneRecord> = zones
            .iter()
            .filter(|z| z.cluster_id == cluster.id)
            .cloned()
            .collect();
        let t = tenant::tenant_of(&cluster, &of);
        let keep = name
            .as_deref()
            .is_none_or(|n| t.name.to_lowercase().contains(n))
            && (modes.is_empty() || modes.iter().any(|m| m.eq_ignore_ascii_case(&t.mode)))
            && (statuses.is_empty() || statuses.contains(&t.status))
            && locked.is_none_or(|l| l == t.locked)
            && readonly.is_none_or(|r| r == t.readonly);
        if keep {
            all.push(t);
        }
    }
    if let Some((column, order)) = &paging.sort {
        all.sort_by(|a, b| {
            let ordering = match column.as_str() {
                "name" => a.name.cmp(&b.name),
                "clusterName" => a.cluster_name.cmp(&b.cluster_name),
                "createTime" => a.create_time.cmp(&b.create_time),
                _ => (a.cluster_id, a.id).cmp(&(b.cluster_id, b.id)),
            };
            match order {
                SortOrder::Asc => ordering,
                SortOrder::Desc => ordering.reverse(),
            }
        });
    }
    Ok(page_of(all, paging))
}

const SORTABLE: &[(&str, &str)] = &[
    ("id", "id"),
    ("name", "name"),
    ("clusterName", "clusterName"),
    ("createTime", "createTime"),
];

/// Every cluster's tenants, paged and filtered as documented.
#[utoipa::path(get, path = "/api/v2/ob/tenants", tag = "tenants",
    params(PageQuery, TenantFilter), responses((status = 200, body = PageData<Tenant>)))]
async fn all_tenants(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<TenantFilter>,
) -> ApiResult<PageData<Tenant>> {
    let paging = Paging::parse(&page, SORTABLE)?;
    let clusters = state.store.clusters().await?;
    Ok(Data(tenants_of(&state, clusters, &filter, &paging).await?))
}

/// The tenants of a cluster: on seekdb, the sys tenant.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/tenants", tag = "tenants",
    params(("id" = i64, Path), PageQuery, TenantFilter),
    responses((status = 200, body = PageData<Tenant>)))]
async fn cluster_tenants(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<TenantFilter>,
) -> ApiResult<PageData<Tenant>> {
    let paging = Paging::parse(&page, SORTABLE)?;
    let cluster = state.store.cluster(id).await?;
    Ok(Data(
        tenants_of(&state, vec![cluster], &filter, &paging).await?,
    ))
}

/// What a new tenant needs, checked before the refusal.
fn check_new_tenant(request: &CreateTenant) -> Result<(), Failure> {
    if request.name.trim().is_empty() {
        return Err(Failure::field("name", "is required"));
    }
    if let Some(mode) = &request.mode {
        if !matches!(mode.to_ascii_uppercase().as_str(), "MYSQL" | "ORACLE") {
            return Err(Failure::field("mode", "must be MYSQL or ORACLE"));
        }
    }
    deploy::check_password("rootPassword", &request.root_password)?;
    if request.zones.is_empty() {
        return Err(Failure::field("zones", "name at least one zone"));
    }
    for (i, zone) in request.zones.iter().enumerate() {
        check_replica(&format!("zones[{i}]."), zone)?;
    }
    Ok(())
}

fn check_replica(prefix: &str, replica: &TenantReplica) -> Result<(), Failure> {
    if replica.zone_name.trim().is_empty() {
        return Err(Failure::field(&format!("{prefix}zoneName"), "is required"));
    }
    if let Some(kind) = &replica.replica_type {
        if !matches!(kind.as_str(), "FULL" | "LOGONLY" | "READONLY") {
            return Err(Failure::field(
                &format!("{prefix}replicaType"),
                "must be FULL, LOGONLY or READONLY",
            ));
        }
    }
    if let Some(pool) = &replica.resource_pool {
        if pool.unit_count < 1 {
            return Err(Failure::field(
                &format!("{prefix}resourcePool.unitCount"),
                "must be at least 1",
            ));
        }
    }
    Ok(())
}

/// Create a tenant: needs resource units and pools, which seekdb does not have.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants", tag = "tenants",
    params(("id" = i64, Path)), request_body = CreateTenant,
    responses((status = 400, description = "code 10011 on seekdb")))]
async fn create_tenant(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<CreateTenant>,
) -> Result<NoData, Failure> {
    check_new_tenant(&request)?;
    Err(unsupported(
        &state.store.cluster(id).await?,
        "creating a tenant",
    ))
}

/// Create a tenant as a task (the asynchronous form): refused as `create_tenant` is.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/createTenant", tag = "tenants",
    params(("id" = i64, Path)), request_body = CreateTenant,
    responses((status = 400, description = "code 10011 on seekdb")))]
async fn create_tenant_async(
    authz: Authz<perm::TenantUpdate>,
    state: State<AppState>,
    path: ApiPath<i64>,
    body: ApiJson<CreateTenant>,
) -> Result<NoData, Failure> {
    create_tenant(authz, state, path, body).await
}

async fn details(state: &AppState, (id, tenant_id): (i64, i64)) -> ApiResult<TenantDetail> {
    let cluster = tenant::sys_tenant(&state.store, id, tenant_id).await?;
    Ok(Data(tenant::detail(&state.ob, &cluster).await?))
}

/// A tenant's details: with its character set, whitelist, zones, pool and units, read from
/// its server (null while it does not answer).
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path)),
    responses((status = 200, body = TenantDetail)))]
async fn tenant_details(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath(path): TenantPath,
) -> ApiResult<TenantDetail> {
    details(&state, path).await
}

/// A tenant's details, at the path the reference gives (`/cluster/`, singular).
#[utoipa::path(get, path = "/api/v2/ob/cluster/{clusterId}/tenants/{tenantId}", tag = "tenants",
    params(("clusterId" = i64, Path), ("tenantId" = i64, Path)),
    responses((status = 200, body = TenantDetail)))]
async fn tenant_details_as_documented(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath(path): TenantPath,
) -> ApiResult<TenantDetail> {
    details(&state, path).await
}

/// Drop a tenant: the sys tenant is the server itself.
#[utoipa::path(delete, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path)),
    responses((status = 400, description = "code 10011 on seekdb")))]
async fn delete_tenant(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath((id, tenant_id)): TenantPath,
) -> Result<NoData, Failure> {
    let cluster = tenant::sys_tenant(&state.store, id, tenant_id).await?;
    Err(unsupported(&cluster, "dropping the sys tenant"))
}

async fn units(
    state: &AppState,
    (id, tenant_id): (i64, i64),
    filter: &UnitFilter,
) -> ApiResult<Contents<TenantUnit>> {
    tenant::sys_tenant(&state.store, id, tenant_id).await?;
    let servers = state.store.servers(id).await?;
    let stat = match tenant::server_stat(&state.ob, id).await {
        Some((stat, client)) => {
            client.close().await;
            Some(stat)
        }
        None => None,
    };
    let contents = tenant::units(&servers, stat.as_ref())
        .into_iter()
        .filter(|u| filter.zone_name.as_ref().is_none_or(|z| *z == u.zone_name))
        .collect();
    Ok(Data(Contents { contents }))
}

/// A tenant's units: on seekdb, its server, with the resources it has.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/units", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), UnitFilter),
    responses((status = 200, body = Contents<TenantUnit>)))]
async fn tenant_units(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath(path): TenantPath,
    ApiQuery(filter): ApiQuery<UnitFilter>,
) -> ApiResult<Contents<TenantUnit>> {
    units(&state, path, &filter).await
}

/// A tenant's units, at the path the reference gives (`/cluster/`, singular).
#[utoipa::path(get, path = "/api/v2/ob/cluster/{clusterId}/tenants/{tenantId}/units", tag = "tenants",
    params(("clusterId" = i64, Path), ("tenantId" = i64, Path), UnitFilter),
    responses((status = 200, body = Contents<TenantUnit>)))]
async fn tenant_units_as_documented(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath(path): TenantPath,
    ApiQuery(filter): ApiQuery<UnitFilter>,
) -> ApiResult<Contents<TenantUnit>> {
    units(&state, path, &filter).await
}

/// Delete a unit: a seekdb tenant's only unit is its server.
#[utoipa::path(delete, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/units/{unitId}", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("unitId" = i64, Path)),
    responses((status = 400, description = "code 10011 on seekdb")))]
async fn delete_unit(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath((id, tenant_id, unit_id)): ApiPath<(i64, i64, i64)>,
) -> Result<NoData, Failure> {
    let cluster = tenant::sys_tenant(&state.store, id, tenant_id).await?;
    if !state
        .store
        .servers(id)
        .await?
        .iter()
        .any(|s| s.id == unit_id)
    {
        return Err(Failure::not_found("unit", unit_id));
    }
    Err(unsupported(&cluster, "deleting the unit of the sys tenant"))
}

/// The refusal of a change of the sys tenant's shape, once the tenant is found.
async fn refuse(state: &AppState, (id, tenant_id): (i64, i64), what: &str) -> Failure {
    match tenant::sys_tenant(&state.store, id, tenant_id).await {
        Ok(cluster) => unsupported(&cluster, what),
        Err(failure) => failure,
    }
}

/// Lock a tenant: the sys tenant cannot be locked.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/lock", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path)),
    responses((status = 400, description = "code 10011 on seekdb")))]
async fn lock_tenant(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): TenantPath,
) -> Result<NoData, Failure> {
    Err(refuse(&state, path, "locking the sys tenant").await)
}

/// Unlock a tenant: the sys tenant is never locked.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/unlock", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path)),
    responses((status = 400, description = "code 10011 on seekdb")))]
async fn unlock_tenant(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): TenantPath,
) -> Result<NoData, Failure> {
    Err(refuse(&state, path, "unlocking the sys tenant").await)
}

/// Add a replica of the tenant in a zone.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/addReplica", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path)), request_body = TenantReplica,
    responses((status = 400, description = "code 10011 on seekdb")))]
async fn add_replica(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): TenantPath,
    ApiJson(request): ApiJson<TenantReplica>,
) -> Result<NoData, Failure> {
    check_replica("", &request)?;
    Err(refuse(&state, path, "adding a replica").await)
}

/// Change the tenant's replica in a zone.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/modifyReplica", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path)), request_body = TenantReplica,
    responses((status = 400, description = "code 10011 on seekdb")))]
async fn modify_replica(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): TenantPath,
    ApiJson(request): ApiJson<TenantReplica>,
) -> Result<NoData, Failure> {
    check_replica("", &request)?;
    Err(refuse(&state, path, "changing a replica").await)
}

/// Remove the tenant's replica from a zone.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/deleteReplica", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path)), request_body = DeleteReplica,
    responses((status = 400, description = "code 10011 on seekdb")))]
async fn delete_replica(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): TenantPath,
    ApiJson(request): ApiJson<DeleteReplica>,
) -> Result<NoData, Failure> {
    if request.zone_name.trim().is_empty() {
        return Err(Failure::field("zoneName", "is required"));
    }
    Err(refuse(&state, path, "removing a replica").await)
}

/// Change the order of zones the tenant's leaders prefer.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/modifyPrimaryZone", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path)), request_body = ModifyPrimaryZone,
    responses((status = 400, description = "code 10011 on seekdb")))]
async fn modify_primary_zone(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): TenantPath,
    ApiJson(request): ApiJson<ModifyPrimaryZone>,
) -> Result<NoData, Failure> {
    if request.primary_zone.trim().is_empty() {
        return Err(Failure::field("primaryZone", "is required"));
    }
    Err(refuse(
        &state,
        path,
        "changing the primary zone (there is one zone)",
    )
    .await)
}

/// The tenant's parameters: on seekdb, its system variables (every server parameter is the
/// cluster's: `GET /api/v2/ob/clusters/{id}/parameters`).
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/parameters", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path)),
    responses((status = 200, body = Contents<TenantParameter>)))]
async fn tenant_parameters(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath((id, tenant_id)): TenantPath,
) -> ApiResult<Contents<TenantParameter>> {
    tenant::sys_tenant(&state.store, id, tenant_id).await?;
    let mut client = state.ob.connect(id).await?;
    let rows = client.variables().await;
    client.close().await;
    let contents = rows
        .map_err(ob_failure)?
        .into_iter()
        .map(tenant::parameter_view)
        .collect();
    Ok(Data(Contents { contents }))
}

/// Set tenant parameters (system variables): all are checked before any is set, and the
/// server checks each value.
#[utoipa::path(put, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/parameters", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path)), request_body = Vec<SetTenantParameter>,
    responses((status = 200)))]
async fn set_tenant_parameters(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath((id, tenant_id)): TenantPath,
    ApiJson(changes): ApiJson<Vec<SetTenantParameter>>,
) -> Result<NoData, Failure> {
    tenant::sys_tenant(&state.store, id, tenant_id).await?;
    let mut client = state.ob.connect(id).await?;
    let done = tenant::set_parameters(&mut client, &changes).await;
    client.close().await;
    done.map(|()| NoData)
}

/// Change the password of the tenant's administrator (root, whom the platform manages the
/// cluster as; its sealed copy follows).
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/changePassword", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path)), request_body = ChangeTenantPassword,
    responses((status = 200)))]
async fn change_password(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath((id, tenant_id)): TenantPath,
    ApiJson(request): ApiJson<ChangeTenantPassword>,
) -> Result<NoData, Failure> {
    deploy::check_password("newPassword", &request.new_password)?;
    if request.save_to_credential == Some(false) {
        return Err(Failure::field(
            "saveToCredential",
            "the platform manages the cluster as this user, so it keeps the password (sealed)",
        ));
    }
    let cluster = tenant::sys_tenant(&state.store, id, tenant_id).await?;
    tenant::change_root_password(&state.ob, &cluster, &request.new_password).await?;
    Ok(NoData)
}

/// Set the addresses the tenant admits over TCP (`ob_tcp_invited_nodes`). seekdb always
/// admits loopback and its unix socket, whatever the list; a list that would shut the
/// platform out is refused.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/modifyWhitelist", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path)), request_body = ModifyWhitelist,
    responses((status = 200, body = WhitelistChanged)))]
async fn modify_whitelist(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath((id, tenant_id)): TenantPath,
    ApiJson(request): ApiJson<ModifyWhitelist>,
) -> ApiResult<WhitelistChanged> {
    let cluster = tenant::sys_tenant(&state.store, id, tenant_id).await?;
    let whitelist = request.whitelist.trim();
    tenant::modify_whitelist(&state.ob, &cluster, whitelist).await?;
    Ok(Data(WhitelistChanged {
        whitelist: whitelist.to_string(),
        hint: "seekdb admits connections over loopback (127.0.0.1, ::1) and its unix socket \
               whatever the whitelist; firewall the SQL port to keep other hosts out"
            .into(),
    }))
}
