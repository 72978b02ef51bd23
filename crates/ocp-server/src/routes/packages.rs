//! `/api/v2/software-packages`: upload, list, download and delete the packages of
//! `crate::package`, and the agents' signed download.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;
use ocp_api::obdb::{PackageFilter, PackageType, SoftwarePackage, UploadQuery};
use ocp_api::{agent_path, PageData, PageQuery, Timestamp};
use ocp_store::PackageRecord;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{perm, Authz};
use crate::http::{comma_list, raw, ApiPath, ApiQuery, ApiResult, Data, Failure, NoData, Paging};
use crate::package::{self, Upload};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_packages, upload_package))
        .routes(routes!(get_package, delete_package))
        .routes(routes!(download_package))
        // The agents' download, signed with the host's secret: not part of the documented API.
        .route(
            agent_path::server::PACKAGE_ROUTE,
            axum::routing::get(agent_download),
        )
        .layer(DefaultBodyLimit::disable())
}

fn view(state: &AppState, p: PackageRecord) -> SoftwarePackage {
    SoftwarePackage {
        id: p.id,
        download_url: format!(
            "{}/api/v2/software-packages/{}/download",
            state.public_url, p.id
        ),
        name: p.name,
        file_name: p.file_name,
        extension: p.extension,
        size: p.size,
        sha1: p.sha1,
        sha256: p.sha256,
        package_type: p.package_type,
        version: p.version,
        build_number: p.build_number,
        operating_system: p.operating_system,
        architecture: p.architecture,
        deletable: true,
        create_time: Timestamp::from_millis(p.create_time),
    }
}

/// Upload a package: a multipart form with a `file` part, or the file as the body with its
/// name in `?file=`.
#[utoipa::path(post, path = "/api/v2/software-packages", tag = "software-packages",
    params(UploadQuery), responses((status = 200, body = SoftwarePackage)))]
async fn upload_package(
    _: Authz<perm::PackageCreate>,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<UploadQuery>,
    request: Request,
) -> ApiResult<SoftwarePackage> {
    let mut upload = Upload::begin(&state.data_dir).await?;
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let file_name = if multipart {
        let mut form = Multipart::from_request(request, &state)
            .await
            .map_err(|e| Failure::field("file", e.body_text()))?;
        let mut name = None;
        while let Some(mut field) = form
            .next_field()
            .await
            .map_err(|e| Failure::field("file", e.body_text()))?
        {
            if field.name() != Some("file") {
                continue;
            }
            name = field.file_name().map(str::to_string).or(query.file.clone());
            while let Some(chunk) = field
                .chunk()
                .await
                .map_err(|e| Failure::field("file", e.body_text()))?
            {
                upload.take(&chunk).await?;
            }
        }
        name.ok_or_else(|| Failure::field("file", "the form has no file part"))?
    } else {
        let name = query
            .file
            .clone()
            .ok_or_else(|| Failure::field("file", "send a multipart form or ?file=NAME"))?;
        let mut stream = request.into_body().into_data_stream();
        while let Some(chunk) = stream.next().await {
            upload
                .take(&chunk.map_err(|e| Failure::field("file", e.to_string()))?)
                .await?;
        }
        name
    };
    let id = upload
        .store(&state.store, &state.data_dir, file_name)
        .await?;
    Ok(Data(view(&state, state.store.package(id).await?)))
}

/// List packages, with OCP's filters.
#[utoipa::path(get, path = "/api/v2/software-packages", tag = "software-packages",
    params(PackageFilter, PageQuery), responses((status = 200, body = PageData<SoftwarePackage>)))]
async fn list_packages(
    _: Authz<perm::PackageRead>,
    State(state): State<AppState>,
    ApiQuery(filter): ApiQuery<PackageFilter>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<PageData<SoftwarePackage>> {
    let paging = Paging::parse(&page, &[("id", "id"), ("name", "name")])?;
    let types = comma_list("type", &filter.package_type, |t| {
        PackageType::parse(t).is_some()
    })?;
    let any = |_: &str| true;
    let versions = comma_list("version", &filter.version, any)?;
    let systems = comma_list("operatingSystem", &filter.operating_system, any)?;
    let arches = comma_list("architecture", &filter.architecture, any)?;
    let keyword = filter.keyword.as_deref().map(str::to_lowercase);
    let within = |list: &[String], v: &str| list.is_empty() || list.iter().any(|x| x == v);
    let mut all: Vec<SoftwarePackage> = state
        .store
        .packages()
        .await?
        .into_iter()
        .filter(|p| {
            keyword
                .as_deref()
                .is_none_or(|k| p.name.to_lowercase().contains(k))
                && within(&types, p.package_type.as_str())
                && within(&versions, &p.version)
                && within(&systems, &p.operating_system)
                && within(&arches, &p.architecture)
        })
        .map(|p| view(&state, p))
        .collect();
    if let Some((column, order)) = &paging.sort {
        if column == "name" {
            all.sort_by(|a, b| a.name.cmp(&b.name));
        }
        if *order == ocp_api::SortOrder::Desc {
            all.reverse();
        }
    }
    Ok(Data(crate::http::page_of(all, &paging)))
}

#[utoipa::path(get, path = "/api/v2/software-packages/{id}", tag = "software-packages",
    params(("id" = i64, Path)), responses((status = 200, body = SoftwarePackage)))]
async fn get_package(
    _: Authz<perm::PackageRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<SoftwarePackage> {
    Ok(Data(view(&state, state.store.package(id).await?)))
}

/// Delete a package that no cluster runs.
#[utoipa::path(delete, path = "/api/v2/software-packages/{id}", tag = "software-packages",
    params(("id" = i64, Path)), responses((status = 200)))]
async fn delete_package(
    _: Authz<perm::PackageDelete>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<NoData, Failure> {
    package::delete(&state.store, &state.data_dir, id).await?;
    Ok(NoData)
}

async fn send_file(state: &AppState, id: i64) -> Result<Response, Failure> {
    let package = state.store.package(id).await?;
    let file = tokio::fs::File::open(package::stored_path(&state.data_dir, &package))
        .await
        .map_err(|e| Failure::internal(format!("package file of {}: {e}", package.file_name)))?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    Ok(raw((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, package.size.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", package.file_name),
            ),
        ],
        body,
    )))
}

/// The package file itself.
#[utoipa::path(get, path = "/api/v2/software-packages/{id}/download", tag = "software-packages",
    params(("id" = i64, Path)), responses((status = 200, content_type = "application/octet-stream")))]
async fn download_package(
    _: Authz<perm::PackageRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, Failure> {
    send_file(&state, id).await
}

async fn agent_download(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Response {
    let path = agent_path::server::package(id);
    match state.agents.verify(&headers, "GET", &path, b"").await {
        Ok(_) => match send_file(&state, id).await {
            Ok(response) => response,
            Err(e) => e.into_response(),
        },
        Err(e) => e.into_response(),
    }
}
