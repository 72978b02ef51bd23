//! `GET /api/v2/info`, `GET /api/v2/time` and `GET /api/status`.

use axum::extract::State;
use axum::response::Response;
use ocp_api::info::AppInfo;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{perm, Authz};
use crate::http::{raw, ApiQuery, ApiResult, Data};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(info))
        .routes(routes!(time))
        .routes(routes!(status))
}

/// The application's name, version and build.
#[utoipa::path(get, path = "/api/v2/info", tag = "system", responses((status = 200, body = AppInfo)))]
async fn info(_: Authz<perm::Authenticated>, State(state): State<AppState>) -> ApiResult<AppInfo> {
    Ok(Data(AppInfo {
        name: "ocp-server".into(),
        group: "io.github.ocp-rs".into(),
        artifact: "ocp-server".into(),
        build_time: state.build_time,
        build_version: env!("CARGO_PKG_VERSION").into(),
        build_java_version: "none (Rust)".into(),
        spring_boot_version: "none (axum 0.8)".into(),
    }))
}

/// The server's time as plain text, for clock comparison; needs no authentication.
#[utoipa::path(get, path = "/api/v2/time", tag = "system", security(()),
    responses((status = 200, description = "e.g. 2020-11-11T15:46:27.316+08:00", content_type = "text/plain", body = String)))]
async fn time() -> Response {
    raw(ocp_api::Timestamp::now().to_string())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct StatusQuery {
    /// Also name the modules that are unhealthy.
    include_unavailable_component: Option<bool>,
}

/// `okay` when healthy, else `bad` (with the failing modules when asked).
#[utoipa::path(get, path = "/api/status", tag = "system", params(StatusQuery),
    responses((status = 200, description = "okay | bad [modules]", content_type = "text/plain", body = String)))]
async fn status(
    _: Authz<perm::Authenticated>,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<StatusQuery>,
) -> Response {
    let mut bad = Vec::new();
    if !state.store.ping().await {
        bad.push("metadb");
    }
    let text = if bad.is_empty() {
        "okay".to_string()
    } else if query.include_unavailable_component.unwrap_or(false) {
        format!("bad {}", bad.join(" "))
    } else {
        "bad".to_string()
    };
    raw(text)
}
