//! Tenants (`/api/v2/ob/tenants`, `/api/v2/ob/clusters/{id}/tenants/{tenantId}`): what a
//! tenant is, its resources (zones, pools, units), its parameters, and the bodies of the calls
//! that change it.
//!
//! A seekdb server has exactly one tenant, sys: its resources are the server's, and the calls
//! that create, drop or reshape tenants are refused with code 10011.

use serde::{Deserialize, Deserializer, Serialize};

use crate::ob::{ClusterStatus, ClusterType, ValueRange};
use crate::Timestamp;

/// A tenant as the tenant lists show it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    pub id: i64,
    pub cluster_id: i64,
    pub cluster_name: String,
    pub cluster_type: ClusterType,
    pub ob_cluster_id: i64,
    pub ob_tenant_id: i64,
    pub name: String,
    /// `MYSQL` or `ORACLE`.
    pub mode: String,
    pub create_time: Timestamp,
    pub primary_zone: String,
    pub zone_list: String,
    /// Where the replicas are, e.g. `FULL{1}@zone1`.
    pub locality: String,
    /// `NORMAL`, `CREATING`, `MODIFYING` or `DELETING`.
    pub status: String,
    pub locked: bool,
    pub readonly: bool,
    pub ob_version: String,
    pub description: Option<String>,
}

/// `GET /api/v2/ob/cluster/{clusterId}/tenants/{tenantId}`: the tenant with what only its
/// server knows. The fields read from the server are null while it does not answer SQL.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TenantDetail {
    #[serde(flatten)]
    pub tenant: Tenant,
    pub cluster_status: ClusterStatus,
    pub charset: Option<String>,
    pub collation: Option<String>,
    /// The addresses admitted over TCP (`ob_tcp_invited_nodes`); loopback and the server's
    /// unix socket are always admitted by seekdb.
    pub whitelist: Option<String>,
    /// Always false on seekdb, which keeps no SQL audit (its statement statistics come from
    /// `__all_virtual_sqlstat` instead).
    pub sql_audit_enabled: bool,
    pub zones: Vec<TenantZone>,
}

/// A zone of a tenant: its replica and the resource pool and units that serve it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TenantZone {
    pub name: String,
    /// `FULL`, `LOGONLY` or `READONLY`.
    pub replica_type: String,
    pub resource_pool: ResourcePool,
    pub units: Vec<TenantUnit>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ResourcePool {
    pub id: i64,
    pub name: String,
    pub unit_count: i64,
    pub unit_config: UnitConfig,
}

/// What each unit of a pool may use; on seekdb, the whole server (null while it does not
/// answer SQL).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UnitConfig {
    pub max_cpu_core_count: Option<f64>,
    pub min_cpu_core_count: Option<f64>,
    /// GiB, rounded down.
    pub max_memory_size: Option<i64>,
    /// GiB, rounded down.
    pub min_memory_size: Option<i64>,
}

/// A unit of a tenant on one server. On seekdb it is the server itself, and carries the
/// server's resources as `V$OB_SERVER_STAT` reports them (null while it does not answer SQL).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TenantUnit {
    pub id: i64,
    pub resource_pool_id: i64,
    pub server_id: i64,
    pub server_ip: String,
    /// The server's RPC port, as OCP shows it.
    pub server_port: i64,
    pub zone_name: String,
    /// `ACTIVE` while the server answers SQL, `INACTIVE` otherwise.
    pub status: String,
    pub cpu_core_count: Option<f64>,
    /// Bytes.
    pub memory_size: Option<i64>,
    /// Bytes.
    pub log_disk_size: Option<i64>,
    /// Bytes.
    pub log_disk_in_use: Option<i64>,
    /// Bytes.
    pub data_disk_size: Option<i64>,
    /// Bytes.
    pub data_disk_in_use: Option<i64>,
}

/// `GET /api/v2/ob/tenants`: filters, every one optional; lists are comma-separated.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct TenantFilter {
    /// Part of the tenant's name, in any case.
    pub name: Option<String>,
    /// `MYSQL`, `ORACLE`.
    pub mode: Option<String>,
    pub locked: Option<String>,
    pub readonly: Option<String>,
    /// `NORMAL`, `CREATING`, `MODIFYING`, `DELETING`.
    pub status: Option<String>,
}

/// `GET .../tenants/{tenantId}/units`.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct UnitFilter {
    pub zone_name: Option<String>,
}

/// A tenant parameter: on seekdb, a system variable of the tenant (every server parameter is
/// cluster-wide there).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TenantParameter {
    pub name: String,
    /// `MYSQL` (or `ORACLE` for a variable of Oracle-mode tenants only).
    pub compatible_type: String,
    pub readonly: bool,
    pub default_value: Option<String>,
    pub current_value: String,
    pub description: String,
    /// Its type is `ENUM`, `INT` or `STRING`.
    pub value_range: ValueRange,
}

/// `PUT .../tenants/{tenantId}/parameters`: one change (a number is taken as its text).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetTenantParameter {
    pub name: String,
    #[serde(deserialize_with = "text_or_number")]
    pub value: String,
}

/// `POST .../tenants/{tenantId}/changePassword`: the tenant administrator's password.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChangeTenantPassword {
    pub new_password: String,
    /// The platform always keeps a sealed copy of the password it manages the cluster with:
    /// false is refused.
    #[serde(default)]
    pub save_to_credential: Option<bool>,
}

/// `POST .../tenants/{tenantId}/modifyWhitelist`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModifyWhitelist {
    /// Addresses and CIDR blocks (or `%` for any), separated by commas.
    pub whitelist: String,
}

/// The answer to `modifyWhitelist`: the list now in force, and what seekdb admits besides.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WhitelistChanged {
    pub whitelist: String,
    pub hint: String,
}

/// `POST .../tenants` and `.../tenants/createTenant`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreateTenant {
    pub name: String,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub primary_zone: Option<String>,
    #[serde(default)]
    pub charset: Option<String>,
    #[serde(default)]
    pub collation: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub whitelist: Option<String>,
    pub root_password: String,
    #[serde(default)]
    pub save_to_credential: Option<bool>,
    pub zones: Vec<TenantReplica>,
}

/// A replica of a tenant in a zone (`addReplica`, `modifyReplica`, and the zones of a new
/// tenant). The reference spells the zone's field `zoneNname`; both spellings are taken.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TenantReplica {
    #[serde(alias = "zoneNname", alias = "name")]
    pub zone_name: String,
    #[serde(default)]
    pub replica_type: Option<String>,
    #[serde(default)]
    pub resource_pool: Option<PoolSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PoolSpec {
    pub unit_spec_name: String,
    pub unit_count: i64,
}

/// `POST .../tenants/{tenantId}/deleteReplica`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeleteReplica {
    #[serde(alias = "zoneNname")]
    pub zone_name: String,
}

/// `POST .../tenants/{tenantId}/modifyPrimaryZone`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ModifyPrimaryZone {
    pub primary_zone: String,
}

/// A JSON string, or a number or boolean taken as its text.
fn text_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(text) => Ok(text),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::Bool(b) => Ok(b.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected a text or a number, not {other}"
        ))),
    }
}
