//! OBProxy clusters: `/api/v2/obproxy/...`. No OBProxy build can be obtained here, so every
//! operation checks its input and answers 10011; these are the documented bodies it checks.

use serde::{Deserialize, Serialize};

wire_enum!(
    /// How an OBProxy cluster finds its OceanBase clusters.
    ObproxyWorkMode {
        /// From a config URL: any number of clusters.
        ConfigUrl = "CONFIG_URL",
        /// From a root server list: one cluster.
        RsList = "RS_LIST",
    }
);

/// An OceanBase cluster an OBProxy cluster connects to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ObLink {
    pub cluster_name: String,
    pub ob_cluster_id: i64,
    pub username: String,
    /// The platform's id of the cluster (the documented samples send it).
    #[serde(default)]
    pub cluster_id: Option<i64>,
}

/// A parameter of OBProxy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ObproxyParameter {
    pub name: String,
    pub value: String,
}

/// Where and what to install for a new OBProxy cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ObproxyInstallParam {
    pub host_ids: Vec<i64>,
    #[serde(default)]
    pub sql_port: Option<i64>,
    #[serde(default)]
    pub export_port: Option<i64>,
    /// The package's file name.
    #[serde(default)]
    pub version: Option<String>,
}

/// `POST /api/v2/obproxy/clusters`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreateObproxyCluster {
    pub name: String,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub port: Option<i64>,
    #[serde(default)]
    pub work_mode: Option<ObproxyWorkMode>,
    #[serde(default)]
    pub obproxy_install_param: Option<ObproxyInstallParam>,
    pub ob_links: Vec<ObLink>,
    #[serde(default)]
    pub startup_parameters: Vec<ObproxyParameter>,
    #[serde(default)]
    pub parameters: Vec<ObproxyParameter>,
}

/// `PATCH /api/v2/obproxy/clusters/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UpdateObproxyCluster {
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub port: Option<i64>,
}

/// `POST /api/v2/obproxy/clusters/{id}/obproxies/batchAdd`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AddObproxies {
    pub host_ids: Vec<i64>,
    pub sql_port: i64,
    pub exporter_port: i64,
    /// The package's file name.
    pub version: String,
}

/// An OBProxy already running on a host, to take over.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ObproxyHost {
    pub host_id: i64,
    pub sql_port: i64,
}

/// `POST /api/v2/obproxy/clusters/{id}/takeOver`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TakeOverObproxies {
    pub hosts: Vec<ObproxyHost>,
}

/// `GET /api/v2/obproxy/parameterInfo`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct ObproxyParameterInfoQuery {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
}
