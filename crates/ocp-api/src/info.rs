//! `GET /api/v2/info`.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub name: String,
    pub group: String,
    pub artifact: String,
    pub build_time: Timestamp,
    pub build_version: String,
    /// OCP reports its JVM here; we report the Rust toolchain that built the server.
    pub build_java_version: String,
    /// OCP reports Spring Boot here; we report the HTTP framework.
    pub spring_boot_version: String,
}
