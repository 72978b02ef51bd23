//! `/api/v2/obproxy/...`: OBProxy clusters, their OBProxies, their links to OceanBase
//! clusters and their parameters.
//!
//! No OBProxy build can be obtained where this platform is built and tested, so none of it
//! is implemented: every operation checks the caller's permission and its input as
//! documented (a malformed call is still 10001, naming the field), then answers 10011 with
//! the reason. Clients reach a seekdb server on its own SQL port.

use ocp_api::obproxy::{
    AddObproxies, CreateObproxyCluster, ObLink, ObproxyParameter, ObproxyParameterInfoQuery,
    ObproxyWorkMode, TakeOverObproxies, UpdateObproxyCluster,
};
use ocp_api::{ErrorCode, PageQuery};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{perm, Authz};
use crate::http::{ApiJson, ApiPath, ApiQuery, Failure, NoData, Paging};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_clusters, create_cluster))
        .routes(routes!(get_cluster, update_cluster, delete_cluster))
        .routes(routes!(add_obproxies))
        .routes(routes!(delete_obproxies))
        .routes(routes!(restart_obproxies))
        .routes(routes!(upgrade_obproxies))
        .routes(routes!(take_over))
        .routes(routes!(add_ob_links))
        .routes(routes!(delete_ob_link))
        .routes(routes!(cluster_parameters))
        .routes(routes!(parameter_info))
}

/// 10011: why nothing of OBProxy is done.
fn not_supported(what: &str) -> Failure {
    Failure::new(
        ErrorCode::UnsupportedByServerKind,
        format!(
            "OBProxy is not supported yet: no OBProxy build is available to this platform, so \
             {what} cannot be done; clients connect to a seekdb server's own SQL port"
        ),
    )
}

type Refused = Result<NoData, Failure>;

fn check_id(field: &str, id: i64) -> Result<(), Failure> {
    if id < 1 {
        return Err(Failure::field(
            field,
            format!("must be an id from 1, not {id}"),
        ));
    }
    Ok(())
}

fn check_port(field: &str, port: Option<i64>) -> Result<(), Failure> {
    match port {
        Some(p) if !(1..=65535).contains(&p) => Err(Failure::field(
            field,
            format!("must be a port from 1 to 65535, not {p}"),
        )),
        _ => Ok(()),
    }
}

fn check_text(field: &str, text: &str) -> Result<(), Failure> {
    if text.trim().is_empty() {
        return Err(Failure::field(field, "is required"));
    }
    Ok(())
}

/// `obproxyIds` of a path: ids separated by commas.
fn obproxy_ids(text: &str) -> Result<Vec<i64>, Failure> {
    let ids: Vec<i64> = text
        .split(',')
        .map(|id| id.trim().parse::<i64>().ok().filter(|id| *id >= 1))
        .collect::<Option<_>>()
        .ok_or_else(|| {
            Failure::field(
                "obproxyIds",
                format!("must be ids separated by commas, not {text:?}"),
            )
        })?;
    Ok(ids)
}

/// Checks an OBProxy cluster's id and the OBProxies named in the path, then refuses.
fn refuse_on_obproxies(id: i64, ids: &str, what: &str) -> Refused {
    check_id("id", id)?;
    obproxy_ids(ids)?;
    Err(not_supported(what))
}

fn check_links(links: &[ObLink], prefix: &str) -> Result<(), Failure> {
    for (i, link) in links.iter().enumerate() {
        check_text(&format!("{prefix}[{i}].clusterName"), &link.cluster_name)?;
        check_text(&format!("{prefix}[{i}].username"), &link.username)?;
        check_id(&format!("{prefix}[{i}].obClusterId"), link.ob_cluster_id)?;
    }
    Ok(())
}

fn check_parameters(parameters: &[ObproxyParameter], field: &str) -> Result<(), Failure> {
    for (i, p) in parameters.iter().enumerate() {
        check_text(&format!("{field}[{i}].name"), &p.name)?;
    }
    Ok(())
}

/// List OBProxy clusters.
#[utoipa::path(get, path = "/api/v2/obproxy/clusters", tag = "obproxy", params(PageQuery),
    responses((status = 400, description = "code 10011: OBProxy is not supported yet")))]
async fn list_clusters(
    _: Authz<perm::ObproxyRead>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Refused {
    Paging::parse(&page, &[("id", "id"), ("name", "name")])?;
    Err(not_supported("listing OBProxy clusters"))
}

/// Create an OBProxy cluster.
#[utoipa::path(post, path = "/api/v2/obproxy/clusters", tag = "obproxy",
    request_body = CreateObproxyCluster,
    responses((status = 400, description = "code 10011: OBProxy is not supported yet")))]
async fn create_cluster(
    _: Authz<perm::ObproxyCreate>,
    ApiJson(body): ApiJson<CreateObproxyCluster>,
) -> Refused {
    check_text("name", &body.name)?;
    check_port("port", body.port)?;
    if body.work_mode == Some(ObproxyWorkMode::RsList) && body.ob_links.len() > 1 {
        return Err(Failure::field(
            "obLinks",
            "RS_LIST mode connects to one OceanBase cluster",
        ));
    }
    check_links(&body.ob_links, "obLinks")?;
    check_parameters(&body.startup_parameters, "startupParameters")?;
    check_parameters(&body.parameters, "parameters")?;
    if let Some(install) = &body.obproxy_install_param {
        check_port("obproxyInstallParam.sqlPort", install.sql_port)?;
        check_port("obproxyInstallParam.exportPort", install.export_port)?;
        for (i, host) in install.host_ids.iter().enumerate() {
            check_id(&format!("obproxyInstallParam.hostIds[{i}]"), *host)?;
        }
    }
    Err(not_supported("creating an OBProxy cluster"))
}

/// One OBProxy cluster.
#[utoipa::path(get, path = "/api/v2/obproxy/clusters/{id}", tag = "obproxy",
    params(("id" = i64, Path)),
    responses((status = 400, description = "code 10011: OBProxy is not supported yet")))]
async fn get_cluster(_: Authz<perm::ObproxyRead>, ApiPath(id): ApiPath<i64>) -> Refused {
    check_id("id", id)?;
    Err(not_supported("reading an OBProxy cluster"))
}

/// Change an OBProxy cluster's address or port.
#[utoipa::path(patch, path = "/api/v2/obproxy/clusters/{id}", tag = "obproxy",
    params(("id" = i64, Path)), request_body = UpdateObproxyCluster,
    responses((status = 400, description = "code 10011: OBProxy is not supported yet")))]
async fn update_cluster(
    _: Authz<perm::ObproxyUpdate>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<UpdateObproxyCluster>,
) -> Refused {
    check_id("id", id)?;
    check_port("port", body.port)?;
    Err(not_supported("changing an OBProxy cluster"))
}

/// Delete an OBProxy cluster.
#[utoipa::path(delete, path = "/api/v2/obproxy/clusters/{id}", tag = "obproxy",
    params(("id" = i64, Path)),
    responses((status = 400, description = "code 10011: OBProxy is not supported yet")))]
async fn delete_cluster(_: Authz<perm::ObproxyDelete>, ApiPath(id): ApiPath<i64>) -> Refused {
    check_id("id", id)?;
    Err(not_supported("deleting an OBProxy cluster"))
}

/// Install OBProxies on hosts of an OBProxy cluster.
#[utoipa::path(post, path = "/api/v2/obproxy/clusters/{id}/obproxies/batchAdd", tag = "obproxy",
    params(("id" = i64, Path)), request_body = AddObproxies,
    responses((status = 400, description = "code 10011: OBProxy is not supported yet")))]
async fn add_obproxies(
    _: Authz<perm::ObproxyUpdate>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AddObproxies>,
) -> Refused {
    check_id("id", id)?;
    if body.host_ids.is_empty() {
        return Err(Failure::field("hostIds", "names at least one host"));
    }
    for (i, host) in body.host_ids.iter().enumerate() {
        check_id(&format!("hostIds[{i}]"), *host)?;
    }
    check_port("sqlPort", Some(body.sql_port))?;
    check_port("exporterPort", Some(body.exporter_port))?;
    check_text("version", &body.version)?;
    Err(not_supported("adding OBProxies"))
}

/// Delete OBProxies of an OBProxy cluster.
#[utoipa::path(delete, path = "/api/v2/obproxy/clusters/{id}/obproxies/{obproxyIds}", tag = "obproxy",
    params(("id" = i64, Path), ("obproxyIds" = String, Path, description = "ids separated by commas")),
    responses((status = 400, description = "code 10011: OBProxy is not supported yet")))]
async fn delete_obproxies(
    _: Authz<perm::ObproxyUpdate>,
    ApiPath((id, ids)): ApiPath<(i64, String)>,
) -> Refused {
    refuse_on_obproxies(id, &ids, "deleting OBProxies")
}

/// Restart OBProxies of an OBProxy cluster.
#[utoipa::path(post, path = "/api/v2/obproxy/clusters/{id}/obproxies/{obproxyIds}/restart", tag = "obproxy",
    params(("id" = i64, Path), ("obproxyIds" = String, Path, description = "ids separated by commas")),
    responses((status = 400, description = "code 10011: OBProxy is not supported yet")))]
async fn restart_obproxies(
    _: Authz<perm::ObproxyUpdate>,
    ApiPath((id, ids)): ApiPath<(i64, String)>,
) -> Refused {
    refuse_on_obproxies(id, &ids, "restarting OBProxies")
}

/// Upgrade OBProxies of an OBProxy cluster.
#[utoipa::path(post, path = "/api/v2/obproxy/clusters/{id}/obproxies/{obproxyIds}/upgrade", tag = "obproxy",
    params(("id" = i64, Path), ("obproxyIds" = String, Path, description = "ids separated by commas")),
    responses((status = 400, description = "code 10011: OBProxy is not supported yet")))]
async fn upgrade_obproxies(
    _: Authz<perm::ObproxyUpdate>,
    ApiPath((id, ids)): ApiPath<(i64, String)>,
) -> Refused {
    refuse_on_obproxies(id, &ids, "upgrading OBProxies")
}

/// Take over OBProxies already running on hosts.
#[utoipa::path(post, path = "/api/v2/obproxy/clusters/{id}/takeOver", tag = "obproxy",
    params(("id" = i64, Path)), request_body = TakeOverObproxies,
    responses((status = 400, description = "code 10011: OBProxy is not supported yet")))]
async fn take_over(
    _: Authz<perm::ObproxyUpdate>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<TakeOverObproxies>,
) -> Refused {
    check_id("id", id)?;
    if body.hosts.is_empty() {
        return Err(Failure::field("hosts", "names at least one host"));
    }
    for (i, host) in body.hosts.iter().enumerate() {
        check_id(&format!("hosts[{i}].hostId"), host.host_id)?;
        check_port(&format!("hosts[{i}].sqlPort"), Some(host.sql_port))?;
    }
    Err(not_supported("taking over OBProxies"))
}

/// Connect an OBProxy cluster to more OceanBase clusters.
#[utoipa::path(post, path = "/api/v2/obproxy/clusters/{id}/obLinks/batchAdd", tag = "obproxy",
    params(("id" = i64, Path)), request_body = Vec<ObLink>,
    responses((status = 400, description = "code 10011: OBProxy is not supported yet")))]
async fn add_ob_links(
    _: Authz<perm::ObproxyUpdate>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(links): ApiJson<Vec<ObLink>>,
) -> Refused {
    check_id("id", id)?;
    if links.is_empty() {
        return Err(Failure::field("obLinks", "names at least one cluster"));
    }
    check_links(&links, "")?;
    Err(not_supported(
        "connecting an OBProxy cluster to OceanBase clusters",
    ))
}

/// Disconnect an OBProxy cluster from an OceanBase cluster.
#[utoipa::path(delete, path = "/api/v2/obproxy/clusters/{id}/obLinks/{obClusterName}", tag = "obproxy",
    params(("id" = i64, Path), ("obClusterName" = String, Path)),
    responses((status = 400, description = "code 10011: OBProxy is not supported yet")))]
async fn delete_ob_link(
    _: Authz<perm::ObproxyUpdate>,
    ApiPath((id, name)): ApiPath<(i64, String)>,
) -> Refused {
    check_id("id", id)?;
    check_text("obClusterName", &name)?;
    Err(not_supported(
        "disconnecting an OBProxy cluster from an OceanBase cluster",
    ))
}

/// The parameters of an OBProxy cluster.
#[utoipa::path(get, path = "/api/v2/obproxy/clusters/{id}/parameters", tag = "obproxy",
    params(("id" = i64, Path)),
    responses((status = 400, description = "code 10011: OBProxy is not supported yet")))]
async fn cluster_parameters(_: Authz<perm::ObproxyRead>, ApiPath(id): ApiPath<i64>) -> Refused {
    check_id("id", id)?;
    Err(not_supported("reading OBProxy parameters"))
}

/// What OBProxy's parameters are (by name and OBProxy version).
#[utoipa::path(get, path = "/api/v2/obproxy/parameterInfo", tag = "obproxy",
    params(ObproxyParameterInfoQuery),
    responses((status = 400, description = "code 10011: OBProxy is not supported yet")))]
async fn parameter_info(
    _: Authz<perm::ObproxyRead>,
    ApiQuery(_query): ApiQuery<ObproxyParameterInfoQuery>,
) -> Refused {
    Err(not_supported("describing OBProxy parameters"))
}
