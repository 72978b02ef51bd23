//! `/api/v2/ob/clusters/{id}/parameters` and `/api/v2/ob/clusters/parameterInfo`: read
//! from the servers themselves (`SHOW PARAMETERS`), set with `ALTER SYSTEM SET`, which the
//! server checks and persists.

use std::collections::BTreeMap;

use axum::extract::State;
use ocp_api::ob::{
    ClusterParameter, ObParameter, ParameterInfo, ParameterValue, SetParameter, ValueRange,
};
use ocp_api::ErrorCode;
use ocp_ob::ParameterRow;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{perm, Authz};
use crate::cluster::access::{ob_failure, refused_value};
use crate::http::{ApiJson, ApiPath, ApiResult, Data, Failure, NoData};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_parameters, set_parameters))
        .routes(routes!(parameter_info))
}

fn readonly(row: &ParameterRow) -> bool {
    row.edit_level.eq_ignore_ascii_case("READONLY")
}

fn need_restart(row: &ParameterRow) -> bool {
    row.edit_level.eq_ignore_ascii_case("STATIC_EFFECTIVE")
}

/// Groups the per-server rows by parameter.
fn group(rows: Vec<ParameterRow>) -> Vec<ClusterParameter> {
    let mut by_name: BTreeMap<String, Vec<ParameterRow>> = BTreeMap::new();
    for row in rows {
        by_name.entry(row.name.clone()).or_default().push(row);
    }
    by_name
        .into_values()
        .map(|rows| {
            let first = rows[0].clone();
            let mut value_to_servers: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for r in &rows {
                value_to_servers
                    .entry(r.value.clone())
                    .or_default()
                    .push(format!("{}:{}", r.svr_ip, r.svr_port));
            }
            ClusterParameter {
                name: first.name.clone(),
                section: first.section.clone(),
                scope: first.scope.clone(),
                default_value: first.default_value.clone(),
                value_range: ValueRange {
                    value_type: first.data_type.clone(),
                    allowed_values: None,
                    max_value: None,
                    min_value: None,
                },
                current_value: ParameterValue {
                    values: value_to_servers.keys().cloned().collect(),
                    single_value_in_cluster: value_to_servers.len() == 1,
                    value_to_servers,
                    ob_parameters: rows
                        .iter()
                        .map(|r| ObParameter {
                            name: r.name.clone(),
                            zone: r.zone.clone(),
                            svr_ip: r.svr_ip.clone(),
                            svr_port: r.svr_port,
                            svr_type: r.svr_type.clone(),
                            value: r.value.clone(),
                        })
                        .collect(),
                },
                need_restart: need_restart(&first),
                readonly: readonly(&first),
                description: first.info.clone(),
            }
        })
        .collect()
}

/// The parameters of a cluster with their values on each server.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/parameters", tag = "clusters",
    params(("id" = i64, Path)), responses((status = 200, body = ocp_api::host::Contents<ClusterParameter>)))]
async fn list_parameters(
    _: Authz<perm::ClusterRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<ocp_api::host::Contents<ClusterParameter>> {
    let mut client = state.ob.connect(id).await?;
    let rows = client.parameters(None).await.map_err(ob_failure)?;
    client.close().await;
    Ok(Data(ocp_api::host::Contents {
        contents: group(rows),
    }))
}

/// Sets parameters: each must exist and be writable; the server checks the value. All are
/// checked before any is set.
#[utoipa::path(put, path = "/api/v2/ob/clusters/{id}/parameters", tag = "clusters",
    params(("id" = i64, Path)), request_body = Vec<SetParameter>, responses((status = 200)))]
async fn set_parameters(
    _: Authz<perm::ClusterUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(changes): ApiJson<Vec<SetParameter>>,
) -> Result<NoData, Failure> {
    if changes.is_empty() {
        return Err(Failure::field("[]", "name at least one parameter"));
    }
    let mut client = state.ob.connect(id).await?;
    for (i, change) in changes.iter().enumerate() {
        let field = format!("[{i}].name");
        ocp_ob::check_parameter_name(&field, &change.name).map_err(ob_failure)?;
        let rows = client
            .parameters(Some(&change.name))
            .await
            .map_err(ob_failure)?;
        let Some(row) = rows.first() else {
            return Err(Failure::field(
                &field,
                format!("the server has no parameter {}", change.name),
            ));
        };
        if readonly(row) {
            return Err(Failure::new(
                ErrorCode::IllegalArgument,
                format!("{} is read-only", change.name),
            )
            .with_field(&field));
        }
        if change.value.chars().any(char::is_control) {
            return Err(Failure::field(&format!("[{i}].value"), "must be a value"));
        }
    }
    for (i, change) in changes.iter().enumerate() {
        client
            .set_parameter(&change.name, &change.value)
            .await
            .map_err(|e| refused_value(e, &change.name, &change.value, &format!("[{i}].value")))?;
    }
    client.close().await;
    Ok(NoData)
}

/// The parameters' metadata, as the first cluster that answers reports it (empty when no
/// cluster is managed).
#[utoipa::path(get, path = "/api/v2/ob/clusters/parameterInfo", tag = "clusters",
    responses((status = 200, body = ocp_api::host::Contents<ParameterInfo>)))]
async fn parameter_info(
    _: Authz<perm::ClusterRead>,
    State(state): State<AppState>,
) -> ApiResult<ocp_api::host::Contents<ParameterInfo>> {
    for cluster in state.store.clusters().await? {
        let Ok(mut client) = state.ob.connect(cluster.id).await else {
            continue;
        };
        let Ok(rows) = client.parameters(None).await else {
            continue;
        };
        client.close().await;
        let contents = group(rows)
            .into_iter()
            .map(|p| ParameterInfo {
                name: p.name,
                version: cluster.ob_version.clone(),
                value_type: p.value_range.value_type,
                allowed_string_values: None,
                max_value: None,
                min_value: None,
                default_value: p.default_value,
                need_restart: p.need_restart,
                readonly: p.readonly,
                description: p.description,
            })
            .collect();
        return Ok(Data(ocp_api::host::Contents { contents }));
    }
    Ok(Data(ocp_api::host::Contents {
        contents: Vec::new(),
    }))
}
