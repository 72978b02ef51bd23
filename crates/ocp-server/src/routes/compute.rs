//! `/api/v2/compute/regions`, `/idcs` and `/hostTypes`: where hosts stand.

use axum::extract::State;
use ocp_api::compute::{CreateIdc, CreateNamed, HostType, Idc, Region};
use ocp_api::{ErrorCode, PageData, PageQuery, SortOrder, Timestamp};
use ocp_store::{Catalog, CatalogRecord};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{perm, Authz};
use crate::http::{ApiJson, ApiPath, ApiQuery, ApiResult, Data, Failure, NoData, Paging};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_regions, create_region))
        .routes(routes!(get_region, delete_region))
        .routes(routes!(list_idcs, create_idc))
        .routes(routes!(get_idc, delete_idc))
        .routes(routes!(list_host_types, create_host_type))
        .routes(routes!(get_host_type, delete_host_type))
}

const SORTABLE: &[(&str, &str)] = &[
    ("id", "id"),
    ("name", "name"),
    ("createTime", "create_time"),
    ("updateTime", "update_time"),
];

fn region_view(r: CatalogRecord) -> Region {
    Region {
        id: r.id,
        name: r.name,
        description: r.description,
        create_time: Timestamp::from_millis(r.create_time),
        update_time: Timestamp::from_millis(r.update_time),
    }
}

fn host_type_view(r: CatalogRecord) -> HostType {
    HostType {
        id: r.id,
        name: r.name,
        descripiton: r.description.clone(),
        description: r.description,
        create_time: Timestamp::from_millis(r.create_time),
        update_time: Timestamp::from_millis(r.update_time),
    }
}

fn idc_view(r: CatalogRecord) -> Idc {
    Idc {
        id: r.id,
        name: r.name,
        descripiton: r.description.clone(),
        description: r.description,
        region_id: r.region_id.unwrap_or_default(),
        region_name: r.region_name.unwrap_or_default(),
        create_time: Timestamp::from_millis(r.create_time),
        update_time: Timestamp::from_millis(r.update_time),
    }
}

/// Names: 1 to 128 letters, digits, `_`, `-` or `.`.
fn check_name(name: &str) -> Result<(), Failure> {
    let ok = (1..=128).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !ok {
        return Err(Failure::field(
            "name",
            "must be 1 to 128 letters, digits, _ - or .",
        ));
    }
    Ok(())
}

fn check_description(description: &Option<String>) -> Result<(), Failure> {
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 256)
    {
        return Err(Failure::field(
            "description",
            "must be at most 256 characters",
        ));
    }
    Ok(())
}

async fn page(
    state: &AppState,
    catalog: Catalog,
    query: &PageQuery,
) -> Result<(Vec<CatalogRecord>, i64, Paging), Failure> {
    let paging = Paging::parse(query, SORTABLE)?;
    let (column, order) = paging.sort.clone().unwrap_or(("id".into(), SortOrder::Asc));
    let (records, total) = state
        .store
        .catalog_entries(
            catalog,
            paging.offset(),
            paging.size,
            &column,
            order == SortOrder::Desc,
        )
        .await?;
    Ok((records, total, paging))
}

async fn create(
    state: &AppState,
    catalog: Catalog,
    body: &CreateNamed,
    region_id: Option<i64>,
) -> Result<CatalogRecord, Failure> {
    check_name(&body.name)?;
    check_description(&body.description)?;
    Ok(state
        .store
        .create_catalog_entry(catalog, &body.name, body.description.as_deref(), region_id)
        .await?)
}

/// Lists regions.
#[utoipa::path(get, path = "/api/v2/compute/regions", tag = "compute", params(PageQuery),
    responses((status = 200, body = PageData<Region>)))]
async fn list_regions(
    _: Authz<perm::HostRead>,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<PageData<Region>> {
    let (records, total, paging) = page(&state, Catalog::Region, &query).await?;
    Ok(Data(PageData::new(
        records.into_iter().map(region_view).collect(),
        total,
        paging.page,
        paging.size,
    )))
}

/// Adds a region.
#[utoipa::path(post, path = "/api/v2/compute/regions", tag = "compute", request_body = CreateNamed,
    responses((status = 200, body = Region), (status = 409, description = "code 10003: the name is taken")))]
async fn create_region(
    _: Authz<perm::HostCreate>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateNamed>,
) -> ApiResult<Region> {
    Ok(Data(region_view(
        create(&state, Catalog::Region, &body, None).await?,
    )))
}

/// One region.
#[utoipa::path(get, path = "/api/v2/compute/regions/{regionId}", tag = "compute", params(("regionId" = i64, Path)),
    responses((status = 200, body = Region)))]
async fn get_region(
    _: Authz<perm::HostRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Region> {
    Ok(Data(region_view(
        state.store.catalog_entry(Catalog::Region, id).await?,
    )))
}

/// Deletes a region that holds no IDC.
#[utoipa::path(delete, path = "/api/v2/compute/regions/{regionId}", tag = "compute", params(("regionId" = i64, Path)),
    responses((status = 200, description = "deleted"), (status = 409, description = "code 10006: IDCs stand in it")))]
async fn delete_region(
    _: Authz<perm::HostDelete>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<NoData, Failure> {
    let region = state.store.catalog_entry(Catalog::Region, id).await?;
    let idcs = state.store.idcs_in_region(id).await?;
    if idcs > 0 {
        return Err(Failure::new(
            ErrorCode::StateConflict,
            format!(
                "region {} holds {idcs} IDCs; delete them first",
                region.name
            ),
        ));
    }
    state
        .store
        .delete_catalog_entry(Catalog::Region, id)
        .await?;
    Ok(NoData)
}

/// Lists IDCs.
#[utoipa::path(get, path = "/api/v2/compute/idcs", tag = "compute", params(PageQuery),
    responses((status = 200, body = PageData<Idc>)))]
async fn list_idcs(
    _: Authz<perm::HostRead>,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<PageData<Idc>> {
    let (records, total, paging) = page(&state, Catalog::Idc, &query).await?;
    let contents: Vec<Idc> = records.into_iter().map(idc_view).collect();
    Ok(Data(PageData::new(
        contents,
        total,
        paging.page,
        paging.size,
    )))
}

/// Adds an IDC to a region.
#[utoipa::path(post, path = "/api/v2/compute/idcs", tag = "compute", request_body = CreateIdc,
    responses((status = 200, body = Idc), (status = 400, description = "code 10001: no such region")))]
async fn create_idc(
    _: Authz<perm::HostCreate>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateIdc>,
) -> ApiResult<Idc> {
    if state
        .store
        .catalog_entry(Catalog::Region, body.region_id)
        .await
        .is_err()
    {
        return Err(Failure::field(
            "regionId",
            format!("region {} does not exist", body.region_id),
        ));
    }
    let named = CreateNamed {
        name: body.name,
        description: body.description,
    };
    let record = create(&state, Catalog::Idc, &named, Some(body.region_id)).await?;
    Ok(Data(idc_view(record)))
}

/// One IDC.
#[utoipa::path(get, path = "/api/v2/compute/idcs/{idcId}", tag = "compute", params(("idcId" = i64, Path)),
    responses((status = 200, body = Idc)))]
async fn get_idc(
    _: Authz<perm::HostRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Idc> {
    let record = state.store.catalog_entry(Catalog::Idc, id).await?;
    Ok(Data(idc_view(record)))
}

/// Deletes an IDC.
#[utoipa::path(delete, path = "/api/v2/compute/idcs/{idcId}", tag = "compute", params(("idcId" = i64, Path)),
    responses((status = 200, description = "deleted")))]
async fn delete_idc(
    _: Authz<perm::HostDelete>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<NoData, Failure> {
    refuse_if_used(&state, Catalog::Idc, id).await?;
    state.store.delete_catalog_entry(Catalog::Idc, id).await?;
    Ok(NoData)
}

/// An IDC or host type that hosts use stays.
async fn refuse_if_used(state: &AppState, catalog: Catalog, id: i64) -> Result<(), Failure> {
    let record = state.store.catalog_entry(catalog, id).await?;
    let hosts = state.store.hosts_using(catalog == Catalog::Idc, id).await?;
    if hosts > 0 {
        return Err(Failure::new(
            ErrorCode::StateConflict,
            format!(
                "{} {} is used by {hosts} hosts; move or delete them first",
                catalog.entity(),
                record.name
            ),
        ));
    }
    Ok(())
}

/// Lists host types.
#[utoipa::path(get, path = "/api/v2/compute/hostTypes", tag = "compute", params(PageQuery),
    responses((status = 200, body = PageData<HostType>)))]
async fn list_host_types(
    _: Authz<perm::HostRead>,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<PageData<HostType>> {
    let (records, total, paging) = page(&state, Catalog::HostType, &query).await?;
    Ok(Data(PageData::new(
        records.into_iter().map(host_type_view).collect(),
        total,
        paging.page,
        paging.size,
    )))
}

/// Adds a host type.
#[utoipa::path(post, path = "/api/v2/compute/hostTypes", tag = "compute", request_body = CreateNamed,
    responses((status = 200, body = HostType)))]
async fn create_host_type(
    _: Authz<perm::HostCreate>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateNamed>,
) -> ApiResult<HostType> {
    Ok(Data(host_type_view(
        create(&state, Catalog::HostType, &body, None).await?,
    )))
}

/// One host type.
#[utoipa::path(get, path = "/api/v2/compute/hostTypes/{hostTypeId}", tag = "compute", params(("hostTypeId" = i64, Path)),
    responses((status = 200, body = HostType)))]
async fn get_host_type(
    _: Authz<perm::HostRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<HostType> {
    Ok(Data(host_type_view(
        state.store.catalog_entry(Catalog::HostType, id).await?,
    )))
}

/// Deletes a host type.
#[utoipa::path(delete, path = "/api/v2/compute/hostTypes/{hostTypeId}", tag = "compute", params(("hostTypeId" = i64, Path)),
    responses((status = 200, description = "deleted")))]
async fn delete_host_type(
    _: Authz<perm::HostDelete>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<NoData, Failure> {
    refuse_if_used(&state, Catalog::HostType, id).await?;
    state
        .store
        .delete_catalog_entry(Catalog::HostType, id)
        .await?;
    Ok(NoData)
}
