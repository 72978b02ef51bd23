//! `/api/v2/compute/hosts`: the host inventory.

use std::collections::HashSet;
use std::net::IpAddr;

use axum::extract::State;
use ocp_api::host::{
    BatchCreateHosts, Contents, CreateHost, Host, HostFilter, HostIdList, HostKind, HostStatus,
    ServiceType,
};
use ocp_api::task::TaskInstance;
use ocp_api::{ErrorCode, PageData, PageQuery, SortOrder, Timestamp};
use ocp_store::{Catalog, HostListFilter, HostRecord, NewHost};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{perm, Authz};
use crate::http::{
    comma_list, ApiJson, ApiPath, ApiQuery, ApiResult, Data, Failure, NoData, Paging,
};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_hosts, create_host))
        .routes(routes!(get_host, delete_host))
        .routes(routes!(batch_create))
        .routes(routes!(batch_delete))
}

const SORTABLE: &[(&str, &str)] = &[
    ("id", "id"),
    ("name", "name"),
    ("innerIpAddress", "inner_ip_address"),
    ("status", "status"),
    ("createTime", "create_time"),
    ("updateTime", "update_time"),
];

pub fn host_view(r: HostRecord) -> Host {
    let agent = r.agent.as_ref();
    Host {
        id: r.id,
        name: r.name,
        alias: r.alias,
        description: r.description,
        operating_system: r.operating_system,
        operating_system_release: r.operating_system_release,
        architecture: r.architecture,
        serial_number: r.serial_number,
        inner_ip_address: r.inner_ip_address,
        ssh_port: r.ssh_port as i32,
        kind: r.kind,
        publish_ports: r.publish_ports,
        // Services are what clusters deploy; none exist on a host yet.
        services: Vec::new(),
        status: r.status,
        idc_id: r.idc_id,
        idc_name: r.idc_name,
        idc_description: r.idc_description,
        type_id: r.type_id,
        type_name: r.type_name,
        type_description: r.type_description,
        region_id: r.region_id,
        region_name: r.region_name,
        region_description: r.region_description,
        host_agent_id: agent.map(|a| a.id),
        host_agent_version: agent.and_then(|a| a.version.clone()),
        host_agent_status: agent.map(|a| a.status),
        create_time: Timestamp::from_millis(r.create_time),
        update_time: Timestamp::from_millis(r.update_time),
    }
}

/// Lists hosts.
#[utoipa::path(get, path = "/api/v2/compute/hosts", tag = "compute", params(PageQuery, HostFilter),
    responses((status = 200, body = PageData<Host>)))]
async fn list_hosts(
    _: Authz<perm::HostRead>,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<HostFilter>,
) -> ApiResult<PageData<Host>> {
    let paging = Paging::parse(&query, SORTABLE)?;
    let statuses = comma_list("status", &filter.status, |s| HostStatus::parse(s).is_some())?
        .iter()
        .filter_map(|s| HostStatus::parse(s))
        .collect();
    let is_service = |s: &str| ServiceType::parse(s).is_some();
    let included = comma_list(
        "includedServiceType",
        &filter.included_service_type,
        is_service,
    )?;
    comma_list(
        "excludedServiceType",
        &filter.excluded_service_type,
        is_service,
    )?;
    let (column, order) = paging.sort.clone().unwrap_or(("id".into(), SortOrder::Asc));
    let (records, total) = state
        .store
        .hosts(&HostListFilter {
            statuses,
            keyword: filter.keyword.filter(|k| !k.trim().is_empty()),
            requires_service: !included.is_empty(),
            offset: paging.offset(),
            limit: paging.size,
            sort_column: column,
            descending: order == SortOrder::Desc,
        })
        .await?;
    Ok(Data(PageData::new(
        records.into_iter().map(host_view).collect(),
        total,
        paging.page,
        paging.size,
    )))
}

/// One host.
#[utoipa::path(get, path = "/api/v2/compute/hosts/{hostId}", tag = "compute", params(("hostId" = i64, Path)),
    responses((status = 200, body = Host)))]
async fn get_host(
    _: Authz<perm::HostRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Host> {
    Ok(Data(host_view(state.store.host(id).await?)))
}

/// Checks a registration and turns it into rows, refusing duplicates (in the request or
/// against registered hosts) and unknown places before anything is written.
async fn validate(state: &AppState, batch: &BatchCreateHosts) -> Result<Vec<NewHost>, Failure> {
    if batch.host_basic_data_list.is_empty() {
        return Err(Failure::field(
            "hostBasicDataList",
            "must name at least one host",
        ));
    }
    if batch.host_basic_data_list.len() > 200 {
        return Err(Failure::field(
            "hostBasicDataList",
            "at most 200 hosts at once",
        ));
    }
    let Some(kind) = HostKind::parse(&batch.kind) else {
        return Err(Failure::field(
            "kind",
            "must be DEDICATED_PHYSICAL_MACHINE or DEDICATED_CONTAINER",
        ));
    };
    if !(1..=65535).contains(&batch.ssh_port) {
        return Err(Failure::field("sshPort", "must be between 1 and 65535"));
    }
    let agent_port = batch
        .agent_port
        .unwrap_or(i32::from(ocp_api::agent::DEFAULT_AGENT_PORT));
    if !(1..=65535).contains(&agent_port) {
        return Err(Failure::field("agentPort", "must be between 1 and 65535"));
    }
    if batch.alias.is_some() && batch.host_basic_data_list.len() > 1 {
        return Err(Failure::field(
            "alias",
            "an alias can be set only when adding one host",
        ));
    }
    if state
        .store
        .catalog_entry(Catalog::Idc, batch.idc_id)
        .await
        .is_err()
    {
        return Err(Failure::field(
            "idcId",
            format!("IDC {} does not exist", batch.idc_id),
        ));
    }
    if state
        .store
        .catalog_entry(Catalog::HostType, batch.type_id)
        .await
        .is_err()
    {
        return Err(Failure::field(
            "typeId",
            format!("host type {} does not exist", batch.type_id),
        ));
    }
    let mut seen = HashSet::new();
    let mut hosts = Vec::new();
    for (i, data) in batch.host_basic_data_list.iter().enumerate() {
        let field = format!("hostBasicDataList[{i}].innerIpAddress");
        let address: IpAddr = data.inner_ip_address.trim().parse().map_err(|_| {
            Failure::field(
                &field,
                format!("{} is not an IP address", data.inner_ip_address),
            )
        })?;
        let address = address.to_string();
        if !seen.insert(address.clone()) {
            return Err(Failure::field(&field, format!("{address} is listed twice")));
        }
        if let Some(existing) = state.store.host_by_address(&address).await? {
            return Err(Failure::new(
                ErrorCode::AlreadyExists,
                format!("host {address} is registered already (id {})", existing.id),
            )
            .with_field(&field));
        }
        hosts.push(NewHost {
            inner_ip_address: address,
            serial_number: data.serial_number.clone(),
            alias: batch.alias.clone(),
            description: batch.description.clone(),
            ssh_port: i64::from(batch.ssh_port),
            kind,
            publish_ports: batch.publish_ports.as_ref().map(|p| p.join(",")),
            idc_id: batch.idc_id,
            type_id: batch.type_id,
            agent_port: i64::from(agent_port),
        });
    }
    Ok(hosts)
}

async fn register(
    state: &AppState,
    caller: &crate::auth::Caller,
    batch: &BatchCreateHosts,
) -> Result<Vec<TaskInstance>, Failure> {
    let hosts = validate(state, batch).await?;
    let ids = state.store.create_hosts(&hosts).await?;
    let mut tasks = Vec::with_capacity(ids.len());
    for id in ids {
        tasks.push(
            state
                .submit(crate::host::steps::prepare_host(id), caller)
                .await?,
        );
    }
    Ok(tasks)
}

/// Registers hosts; each gets a Prepare host task that waits for its agent to join.
#[utoipa::path(post, path = "/api/v2/compute/hosts/batchCreate", tag = "compute", request_body = BatchCreateHosts,
    responses((status = 200, body = Contents<TaskInstance>)))]
async fn batch_create(
    Authz(caller, _): Authz<perm::HostCreate>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<BatchCreateHosts>,
) -> ApiResult<Contents<TaskInstance>> {
    Ok(Data(Contents {
        contents: register(&state, &caller, &body).await?,
    }))
}

/// Registers one host; answers its Prepare host task.
#[utoipa::path(post, path = "/api/v2/compute/hosts", tag = "compute", request_body = CreateHost,
    responses((status = 200, body = TaskInstance)))]
async fn create_host(
    Authz(caller, _): Authz<perm::HostCreate>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateHost>,
) -> ApiResult<TaskInstance> {
    let batch = BatchCreateHosts {
        host_basic_data_list: vec![ocp_api::host::HostBasicData {
            inner_ip_address: body.inner_ip_address,
            serial_number: body.serial_number,
        }],
        ssh_port: body.ssh_port,
        kind: body.kind,
        publish_ports: body.publish_ports,
        idc_id: body.idc_id,
        type_id: body.type_id,
        credential_id: body.credential_id,
        alias: body.alias,
        description: body.description,
        agent_port: body.agent_port,
    };
    let mut tasks = register(&state, &caller, &batch).await?;
    Ok(Data(tasks.remove(0)))
}

/// Hosts may go unless services run on them.
async fn deletable(state: &AppState, ids: &[i64]) -> Result<(), Failure> {
    for id in ids {
        let host = state.store.host(*id).await?;
        if host.status == HostStatus::Online {
            return Err(Failure::new(
                ErrorCode::StateConflict,
                format!(
                    "host {} runs services; remove them first",
                    host.inner_ip_address
                ),
            ));
        }
    }
    Ok(())
}

async fn remove(state: &AppState, ids: &[i64]) -> Result<NoData, Failure> {
    deletable(state, ids).await?;
    state.store.delete_hosts(ids).await?;
    for id in ids {
        state.agents.forget(*id);
    }
    Ok(NoData)
}

/// Deletes a host. Its agent's credentials stop working; the agent itself keeps running
/// until it is uninstalled on the host.
#[utoipa::path(delete, path = "/api/v2/compute/hosts/{hostId}", tag = "compute", params(("hostId" = i64, Path)),
    responses((status = 200, description = "deleted")))]
async fn delete_host(
    _: Authz<perm::HostDelete>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<NoData, Failure> {
    remove(&state, &[id]).await
}

/// Deletes several hosts, all or none.
#[utoipa::path(post, path = "/api/v2/compute/hosts/batchDelete", tag = "compute", request_body = HostIdList,
    responses((status = 200, description = "deleted")))]
async fn batch_delete(
    _: Authz<perm::HostDelete>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<HostIdList>,
) -> Result<NoData, Failure> {
    if body.host_id_list.is_empty() {
        return Err(Failure::field("hostIdList", "must name at least one host"));
    }
    remove(&state, &body.host_id_list).await
}
