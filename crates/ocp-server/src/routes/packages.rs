//! `/api/v2/software-packages`: packages the server stores and its agents install.
//!
//! An upload is streamed to `DATA_DIR/packages/` while its SHA-1 (OCP's field) and SHA-256
//! (what agents check) are computed. Name, version and architecture come from the file
//! name (`NAME-VERSION-RELEASE.OS.ARCH.rpm` or a wheel's `NAME-VERSION-PY-ABI-PLATFORM.whl`).
//! A server package must hold a server binary that this platform can start (seekdb's
//! wheel holds `pylibseekdb/seekdb`); other packages are stored for their record only.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;
use ocp_api::obdb::{PackageFilter, PackageType, SoftwarePackage, UploadQuery};
use ocp_api::{ErrorCode, PageData, PageQuery, Timestamp};
use ocp_store::PackageRecord;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{perm, Authz};
use crate::http::{comma_list, raw, ApiPath, ApiQuery, ApiResult, Data, Failure, NoData, Paging};
use crate::state::AppState;

/// The largest package accepted.
const MAX_PACKAGE_BYTES: u64 = 4 << 30;

/// Where seekdb's server binary lies in its wheel.
pub const SEEKDB_BINARY: &str = "pylibseekdb/seekdb";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_packages, upload_package))
        .routes(routes!(get_package, delete_package))
        .routes(routes!(download_package))
        // The agents' download, signed with the host's secret: not part of the documented API.
        .route(
            "/api/v2/agents/packages/{id}",
            axum::routing::get(agent_download),
        )
        .layer(DefaultBodyLimit::disable())
}

fn view(state: &AppState, p: PackageRecord) -> SoftwarePackage {
    SoftwarePackage {
        id: p.id,
        download_url: format!(
            "http://{}/api/v2/software-packages/{}/download",
            state.address, p.id
        ),
        name: p.name,
        file_name: p.file_name,
        extension: p.extension,
        size: p.size,
        sha1: p.sha1,
        sha256: p.sha256,
        package_type: PackageType::parse(&p.package_type)
            .unwrap_or(PackageType::ObServerInstallPackage),
        version: p.version,
        build_number: p.build_number,
        operating_system: p.operating_system,
        architecture: p.architecture,
        deletable: true,
        create_time: Timestamp::from_millis(p.create_time),
    }
}

pub fn packages_dir(state: &AppState) -> PathBuf {
    state.data_dir.join("packages")
}

fn stored_path(state: &AppState, p: &PackageRecord) -> PathBuf {
    packages_dir(state).join(format!("{}.{}", p.sha256, p.extension))
}

/// What a file name tells: `(name, version, build, os, arch, extension)`.
pub fn parse_file_name(
    file: &str,
) -> Result<(String, String, String, String, String, String), Failure> {
    let bad = || {
        Failure::field(
            "file",
            format!(
                "{file:?} is neither NAME-VERSION-RELEASE.OS.ARCH.rpm nor a wheel \
                 NAME-VERSION-PY-ABI-PLATFORM.whl"
            ),
        )
    };
    if file.contains('/') || file.contains('\\') || file.starts_with('.') {
        return Err(bad());
    }
    if let Some(stem) = file.strip_suffix(".whl") {
        let parts: Vec<&str> = stem.split('-').collect();
        if parts.len() < 5 {
            return Err(bad());
        }
        let platform = parts[parts.len() - 1];
        let arch = ["x86_64", "aarch64", "arm64"]
            .into_iter()
            .find(|a| platform.ends_with(a))
            .unwrap_or("noarch");
        let os = platform
            .strip_suffix(arch)
            .unwrap_or(platform)
            .trim_end_matches('_');
        return Ok((
            parts[0].to_string(),
            parts[1].to_string(),
            parts[2..parts.len() - 1].join("-"),
            os.to_string(),
            arch.to_string(),
            "whl".to_string(),
        ));
    }
    if let Some(stem) = file.strip_suffix(".rpm") {
        let mut dots = stem.rsplitn(3, '.');
        let (arch, os, rest) = (dots.next(), dots.next(), dots.next());
        let (Some(arch), Some(os), Some(rest)) = (arch, os, rest) else {
            return Err(bad());
        };
        let mut dashes = rest.rsplitn(3, '-');
        let (release, version, name) = (dashes.next(), dashes.next(), dashes.next());
        let (Some(release), Some(version), Some(name)) = (release, version, name) else {
            return Err(bad());
        };
        return Ok((
            name.into(),
            version.into(),
            release.into(),
            os.into(),
            arch.into(),
            "rpm".into(),
        ));
    }
    Err(bad())
}

fn package_type(name: &str) -> PackageType {
    if name.contains("ocp-agent") || name.contains("ocp_agent") {
        PackageType::OcpAgentInstallPackage
    } else if name.contains("obproxy") {
        PackageType::ObproxyInstallPackage
    } else if name.contains("backup") {
        PackageType::ObBackupAgentInstallPackage
    } else {
        PackageType::ObServerInstallPackage
    }
}

/// Streams chunks to a temporary file, hashing them.
struct Receiving {
    path: PathBuf,
    file: std::fs::File,
    sha1: Sha1,
    sha256: Sha256,
    size: u64,
}

impl Receiving {
    fn new(dir: &Path) -> Result<Self, Failure> {
        std::fs::create_dir_all(dir).map_err(Failure::internal)?;
        let path = dir.join(format!(".upload-{}", uuid::Uuid::new_v4()));
        let file = std::fs::File::create(&path).map_err(Failure::internal)?;
        Ok(Self {
            path,
            file,
            sha1: Sha1::new(),
            sha256: Sha256::new(),
            size: 0,
        })
    }

    fn take(&mut self, chunk: &[u8]) -> Result<(), Failure> {
        self.size += chunk.len() as u64;
        if self.size > MAX_PACKAGE_BYTES {
            return Err(Failure::field("file", "is larger than 4 GiB"));
        }
        self.sha1.update(chunk);
        self.sha256.update(chunk);
        self.file.write_all(chunk).map_err(Failure::internal)
    }
}

impl Drop for Receiving {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
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
    let dir = packages_dir(&state);
    let mut receiving = Receiving::new(&dir)?;
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
                receiving.take(&chunk)?;
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
            receiving.take(&chunk.map_err(|e| Failure::field("file", e.to_string()))?)?;
        }
        name
    };
    if receiving.size == 0 {
        return Err(Failure::field("file", "is empty"));
    }
    let (name, version, build_number, os, arch, extension) = parse_file_name(&file_name)?;
    if state
        .store
        .package_by_file_name(&file_name)
        .await?
        .is_some()
    {
        return Err(Failure::new(
            ErrorCode::AlreadyExists,
            format!("software package {file_name} already exists"),
        )
        .with_field("file"));
    }
    receiving.file.sync_all().map_err(Failure::internal)?;
    let sha256 = hex::encode(receiving.sha256.clone().finalize());
    let sha1 = hex::encode(receiving.sha1.clone().finalize());
    let kind = package_type(&name);
    let binary_path = if kind == PackageType::ObServerInstallPackage && extension == "whl" {
        let path = receiving.path.clone();
        let has_binary = tokio::task::spawn_blocking(move || -> bool {
            std::fs::File::open(&path)
                .ok()
                .and_then(|f| zip::ZipArchive::new(f).ok())
                .is_some_and(|mut z| z.by_name(SEEKDB_BINARY).is_ok())
        })
        .await
        .map_err(Failure::internal)?;
        if !has_binary {
            return Err(Failure::field(
                "file",
                format!("the wheel holds no {SEEKDB_BINARY}; it is not a seekdb server package"),
            ));
        }
        Some(SEEKDB_BINARY.to_string())
    } else {
        None
    };
    let record = PackageRecord {
        id: 0,
        name,
        file_name,
        extension,
        size: receiving.size as i64,
        sha1,
        sha256,
        package_type: kind.as_str().to_string(),
        version,
        build_number,
        operating_system: os,
        architecture: arch,
        binary_path,
        create_time: 0,
    };
    let stored = stored_path(&state, &record);
    std::fs::rename(&receiving.path, &stored).map_err(Failure::internal)?;
    let id = match state.store.create_package(&record).await {
        Ok(id) => id,
        Err(e) => {
            let _ = std::fs::remove_file(&stored);
            return Err(e.into());
        }
    };
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
                && within(&types, &p.package_type)
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
    let package = state.store.package(id).await?;
    let users = state.store.clusters_using_package(id).await?;
    if !users.is_empty() {
        return Err(Failure::new(
            ErrorCode::StateConflict,
            format!("clusters {} run {}", users.join(", "), package.file_name),
        ));
    }
    state.store.delete_package(id).await?;
    let _ = std::fs::remove_file(stored_path(&state, &package));
    Ok(NoData)
}

async fn send_file(state: &AppState, id: i64) -> Result<Response, Failure> {
    let package = state.store.package(id).await?;
    let file = tokio::fs::File::open(stored_path(state, &package))
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
    let path = format!("/api/v2/agents/packages/{id}");
    match state.agents.verify(&headers, "GET", &path, b"").await {
        Ok(_) => match send_file(&state, id).await {
            Ok(response) => response,
            Err(e) => e.into_response(),
        },
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_tell_name_version_and_architecture() {
        let (name, version, _, os, arch, ext) =
            parse_file_name("pylibseekdb-1.4.0.post1-cp311-cp311-manylinux_2_28_x86_64.whl")
                .unwrap();
        assert_eq!(
            (
                name.as_str(),
                version.as_str(),
                os.as_str(),
                arch.as_str(),
                ext.as_str()
            ),
            (
                "pylibseekdb",
                "1.4.0.post1",
                "manylinux_2_28",
                "x86_64",
                "whl"
            )
        );
        let (name, version, build, os, arch, _) =
            parse_file_name("oceanbase-2.2.76-20210219154519.el7.x86_64.rpm").unwrap();
        assert_eq!(
            (
                name.as_str(),
                version.as_str(),
                build.as_str(),
                os.as_str(),
                arch.as_str()
            ),
            ("oceanbase", "2.2.76", "20210219154519", "el7", "x86_64")
        );
        assert!(parse_file_name("../x.rpm").is_err());
        assert!(parse_file_name("seekdb.tar.gz").is_err());
    }
}
