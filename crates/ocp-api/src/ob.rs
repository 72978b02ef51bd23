//! OceanBase clusters, zones, servers and parameters: `/api/v2/ob/clusters/...`.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

wire_enum!(
    /// The status of a cluster.
    ClusterStatus {
        Running = "RUNNING",
        Creating = "CREATING",
        Stopped = "STOPPED",
        Starting = "STARTING",
        Stopping = "STOPPING",
        Restarting = "RESTARTING",
        Upgrading = "UPGRADING",
        TakingOver = "TAKINGOVER",
        Deleting = "DELETING",
        Abandoned = "ABANDONED",
        /// A server of the cluster does not accept SQL though it should.
        Unavailable = "UNAVAILABLE",
        /// Maintained by a task that changes more than status (parameters, compaction).
        Operating = "OPERATING",
    }
);

wire_enum!(
    /// The status of an OBServer (and of a zone).
    ServerStatus {
        Running = "RUNNING",
        Stopped = "STOPPED",
        Starting = "STARTING",
        Stopping = "STOPPING",
        Restarting = "RESTARTING",
        Deleting = "DELETING",
        /// Its process is gone or does not accept SQL, and no task stopped it.
        Unavailable = "UNAVAILABLE",
        ServiceStopped = "SERVICE_STOPPED",
        Creating = "CREATING",
    }
);

wire_enum!(
    /// The role of a cluster.
    ClusterType { Primary = "PRIMARY", Standby = "STANDBY" }
);

wire_enum!(
    /// What a managed server is. seekdb is the OceanBase kernel in one process with one
    /// (sys) tenant; calls that need several servers, zones or tenants are refused on it.
    ServerKind { Seekdb = "SEEKDB", OceanBase = "OCEANBASE" }
);

/// A zone of a cluster to deploy: its name, its IDC and the hosts of its servers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreateZone {
    pub name: String,
    #[serde(default)]
    pub idc_name: Option<String>,
    /// Host ids, one server each.
    pub servers: Vec<i64>,
}

/// `POST /api/v2/ob/clusters/{id}/servers`: servers to add to a zone, one a host.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AddServers {
    pub zone_name: String,
    /// Host ids.
    pub servers: Vec<i64>,
}

/// `POST /api/v2/ob/clusters/{id}/upgrade`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UpgradeCluster {
    /// The file name of an uploaded `OB_SERVER_INSTALL_PACKAGE`.
    pub rpm_file_name: String,
}

/// `POST /api/v2/ob/clusters/{id}/servers/{serverId}/replace`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReplaceServer {
    /// The host of the new server.
    pub host_id: i64,
}

/// `POST /api/v2/ob/clusters/{id}/servers/batchDelete`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeleteServers {
    /// The servers' ids, or their hosts' (the reference says host ids).
    pub servers: Vec<i64>,
}

/// `POST /api/v2/ob/clusters`: OCP's fields, plus the ports, directory and startup
/// parameters of the servers (OCP reads these from its configuration).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreateCluster {
    pub name: String,
    /// The file name of an uploaded `OB_SERVER_INSTALL_PACKAGE`.
    pub rpm_name: String,
    #[serde(rename = "type", default = "primary")]
    pub cluster_type: ClusterType,
    /// The root password of the sys tenant.
    pub password: String,
    #[serde(default)]
    pub primary_zone: Option<String>,
    pub zones: Vec<CreateZone>,
    /// SQL port of every server (default 2881).
    #[serde(default)]
    pub sql_port: Option<u16>,
    /// RPC port (default 2882; seekdb does not listen on it).
    #[serde(default)]
    pub rpc_port: Option<u16>,
    /// The server's base directory on its host (default `ob/NAME` under the agent's data
    /// directory; a relative path is taken under it).
    #[serde(default)]
    pub home_path: Option<String>,
    /// Parameters given to the server at its first start (`--parameter name=value`).
    #[serde(default)]
    pub parameters: Vec<SetParameter>,
}

fn primary() -> ClusterType {
    ClusterType::Primary
}

/// `POST /api/v2/ob/clusters/takeover` (our addition): registers a running server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TakeOverCluster {
    /// The name the platform will show.
    pub name: String,
    /// A registered host the server runs on.
    pub host_id: i64,
    pub sql_port: u16,
    #[serde(default = "root")]
    pub username: String,
    pub password: String,
    /// The server's base directory, if the platform should be able to start it again.
    #[serde(default)]
    pub home_path: Option<String>,
    /// The file name of the package whose binary restarts it.
    #[serde(default)]
    pub rpm_name: Option<String>,
}

fn root() -> String {
    "root".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RootServer {
    pub address: String,
    pub role: String,
    #[serde(rename = "sql_port")]
    pub sql_port: u16,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Server {
    pub id: i64,
    pub cluster_id: i64,
    pub host_id: i64,
    pub ip: String,
    pub port: u16,
    pub sql_port: u16,
    pub status: ServerStatus,
    pub inner_status: String,
    pub version: String,
    pub with_rootserver: bool,
    pub zone_name: String,
    pub idc_name: String,
    pub region_name: String,
    pub host_type_name: String,
    pub home_path: String,
    pub start_time: Option<Timestamp>,
    pub stop_time: Option<Timestamp>,
    pub update_time: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Zone {
    pub name: String,
    pub cluster_id: i64,
    pub ob_cluster_id: i64,
    pub idc_id: Option<i64>,
    pub idc_name: Option<String>,
    pub region_name: Option<String>,
    pub status: ServerStatus,
    pub inner_status: String,
    pub operate_status: String,
    pub server_count: i64,
    pub host_count: i64,
    /// `IDLE` or `COMPACTING`, read from the server when the cluster runs; null otherwise (and
    /// in cluster lists, which read only the metadb).
    pub compaction_status: Option<String>,
    /// The zone's server that holds its root service (seekdb's one server).
    pub root_server: Option<RootServer>,
    pub create_time: Timestamp,
    pub update_time: Timestamp,
    pub servers: Vec<Server>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Cluster {
    pub id: i64,
    pub name: String,
    pub ob_cluster_id: i64,
    pub ob_version: String,
    /// The package its servers start from, by file name (an upgrade changes it); none for a
    /// cluster taken over without one.
    pub rpm_name: Option<String>,
    pub kind: ServerKind,
    #[serde(rename = "type")]
    pub cluster_type: ClusterType,
    pub status: ClusterStatus,
    pub root_servers: Vec<RootServer>,
    pub region_count: i64,
    pub tenant_count: i64,
    pub server_count: i64,
    pub zones: Vec<Zone>,
    /// For a standby: the primary it follows (or, fenced, followed).
    pub primary_cluster: Option<crate::standby::ClusterLink>,
    /// For a primary: its standbys.
    pub standby_clusters: Vec<crate::standby::ClusterLink>,
    /// For a standby: how it stands with its primary.
    pub sync_status: Option<crate::standby::SyncStatus>,
    /// For a standby, in one cluster's view: how far behind its primary it reads, in
    /// seconds (see `GET .../standbyClusters`); null in lists and for a primary.
    pub delay_time: Option<f64>,
    /// How many of its alert events are active, per level (1, the most severe, to 5).
    pub alarm_summaries: Vec<AlarmSummary>,
    pub create_time: Timestamp,
    pub update_time: Timestamp,
    pub creator: String,
    pub fail_to_query_from_ob_reason: Option<String>,
}

/// The active alert events of a cluster at one level.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AlarmSummary {
    pub level: i32,
    pub count: i64,
    /// The API call that lists them.
    pub link_data_url: String,
    /// The console page that lists them.
    pub link_url: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ClusterFilter {
    /// A case-insensitive part of the name.
    pub name: Option<String>,
    /// Comma-separated statuses.
    pub status: Option<String>,
    pub with_standby: Option<bool>,
}

/// One `name`/`value` of `PUT .../parameters` (and startup parameters).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SetParameter {
    pub name: String,
    pub value: String,
}

/// A parameter's value on one server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ObParameter {
    pub name: String,
    pub zone: String,
    pub svr_ip: String,
    pub svr_port: u16,
    pub svr_type: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ParameterValue {
    pub values: Vec<String>,
    pub single_value_in_cluster: bool,
    pub value_to_servers: std::collections::BTreeMap<String, Vec<String>>,
    pub ob_parameters: Vec<ObParameter>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ValueRange {
    #[serde(rename = "type")]
    pub value_type: String,
    pub allowed_values: Option<String>,
    pub max_value: Option<String>,
    pub min_value: Option<String>,
}

/// `GET .../parameters`: a parameter as the server reports it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ClusterParameter {
    pub name: String,
    pub section: String,
    pub scope: String,
    pub default_value: String,
    pub value_range: ValueRange,
    pub current_value: ParameterValue,
    pub need_restart: bool,
    pub readonly: bool,
    pub description: String,
}

/// `GET /api/v2/ob/clusters/parameterInfo`: a parameter's metadata.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ParameterInfo {
    pub name: String,
    pub version: String,
    #[serde(rename = "type")]
    pub value_type: String,
    pub allowed_string_values: Option<String>,
    pub max_value: Option<String>,
    pub min_value: Option<String>,
    pub default_value: String,
    pub need_restart: bool,
    pub readonly: bool,
    pub description: String,
}

/// `POST .../changePassword` of a cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChangeClusterPassword {
    pub new_password: String,
    /// Accepted for compatibility; the platform keeps the root password sealed anyway.
    #[serde(default)]
    pub save_to_credential: Option<bool>,
}

/// `DELETE /api/v2/ob/clusters/{id}` options (query).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct DeleteClusterQuery {
    /// Keep the servers' directories (data and logs) on their hosts.
    pub keep_data: Option<bool>,
}

/// The state of major compaction, from `DBA_OB_MAJOR_COMPACTION`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Compaction {
    /// IDLE or COMPACTING.
    pub status: String,
    pub frozen_scn: String,
    pub last_scn: String,
    pub is_error: bool,
    pub last_finish_time: Option<String>,
    pub start_time: Option<String>,
}
