//! Standby clusters: a cluster that follows another's log on another host,
//! `/api/v2/ob/clusters/{id}/standbyClusters...`.

use serde::{Deserialize, Serialize};

use crate::ob::{ClusterStatus, ClusterType};

wire_enum!(
    /// How a standby stands with its primary.
    SyncStatus {
        /// It follows the primary's log.
        Valid = "VALID",
        /// It no longer follows: the primary it was before a failover, fenced off.
        Disabled = "DISABLED",
        /// It is building itself from the primary.
        Synchronizing = "SYNCHRONIZING",
    }
);

/// `POST /api/v2/ob/clusters/{id}/standbyClusters`: a standby of cluster `id` on another
/// host. It runs the primary's package and has the primary's users and passwords.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreateStandby {
    /// The standby cluster's name.
    pub name: String,
    /// The host of its one server.
    pub host_id: i64,
    /// Its SQL port (default 2881).
    #[serde(default)]
    pub sql_port: Option<u16>,
    /// Its RPC port, on which it serves its log once it is a primary (default 2882).
    #[serde(default)]
    pub rpc_port: Option<u16>,
    /// Its base directory on its host (default `ob/NAME` under the agent's data directory).
    #[serde(default)]
    pub home_path: Option<String>,
}

/// Another cluster of a primary/standby pair, as a cluster's view names it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ClusterLink {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub cluster_type: ClusterType,
    pub status: ClusterStatus,
    /// For a standby: how it stands with its primary.
    pub sync_status: Option<SyncStatus>,
}

/// A standby of a cluster and its lag, read from both servers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StandbyCluster {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub cluster_type: ClusterType,
    pub status: ClusterStatus,
    pub sync_status: SyncStatus,
    pub primary_cluster_id: i64,
    pub primary_cluster_name: String,
    /// Its server's address, `ip:sqlPort`.
    pub address: String,
    pub rpc_port: i64,
    /// The role its server reports (`V$OB_SERVER_STAT.ROLE`); null when it cannot be read.
    pub role: Option<String>,
    /// How far it is behind its primary, in seconds: the primary's newest log SCN less the
    /// standby's readable SCN (both nanoseconds since the epoch), or, when the primary
    /// cannot be read, now less the readable SCN.
    pub delay_time: Option<f64>,
    /// The SCN up to which it reads consistently.
    pub readable_scn: Option<i64>,
    /// The SCN up to which it has the primary's log.
    pub sync_scn: Option<i64>,
    /// The primary's newest log SCN.
    pub primary_scn: Option<i64>,
    /// `primaryScn - readableScn`, in SCN units (nanoseconds).
    pub lag_scn: Option<i64>,
    /// Why the lag could not be read, when it could not.
    pub fail_to_query_reason: Option<String>,
}
