//! Hosts and their OCP agents: `/api/v2/compute/hosts` and `/compute/hosts/{id}/agent`.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

wire_enum!(
    /// The status of a host.
    HostStatus {
        /// Registered; its agent has not joined yet.
        New = "NEW",
        /// Its agent answers and no database service runs on it.
        Available = "AVAILABLE",
        /// Its agent answers and services are deployed on it.
        Online = "ONLINE",
        /// Its agent stopped sending heartbeats.
        Offline = "OFFLINE",
        Deleting = "DELETING",
    }
);

wire_enum!(
    /// The status of a host's OCP agent (`hostAgentStatus`). `REINTSTALLING` is spelled as
    /// in OCP.
    HostAgentStatus {
        Available = "AVAILABLE",
        Restarting = "RESTARTING",
        Stopping = "STOPPING",
        Reinstalling = "REINTSTALLING",
        Offline = "OFFLINE",
        Deleted = "DELETED",
    }
);

wire_enum!(
    /// What kind of machine a host is.
    HostKind {
        DedicatedPhysicalMachine = "DEDICATED_PHYSICAL_MACHINE",
        DedicatedContainer = "DEDICATED_CONTAINER",
    }
);

wire_enum!(
    /// A kind of service deployed on a host.
    ServiceType {
        ObCluster = "OB_CLUSTER",
        ObProxy = "OB_PROXY",
        OcpAgent = "OCP_AGENT",
        BackupAgent = "BACKUP_AGENT",
        RestoreAgent = "RESTORE_AGENT",
        BackupRestoreAgent = "BACKUP_RESTORE_AGENT",
        Oms = "OMS",
    }
);

wire_enum!(
    /// Whether a process runs.
    ProcessStatus { Started = "STARTED", Stopped = "STOPPED" }
);

/// A service deployed on a host.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ServiceSummary {
    pub name: String,
    pub version: Option<String>,
    #[serde(rename = "type")]
    pub service_type: ServiceType,
    pub software_package_id: Option<i64>,
}

/// A host, as `GET /api/v2/compute/hosts` lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Host {
    pub id: i64,
    pub name: String,
    pub alias: Option<String>,
    pub description: Option<String>,
    pub operating_system: Option<String>,
    pub operating_system_release: Option<String>,
    pub architecture: Option<String>,
    pub serial_number: Option<String>,
    pub inner_ip_address: String,
    pub ssh_port: i32,
    pub kind: HostKind,
    pub publish_ports: Option<String>,
    pub services: Vec<ServiceSummary>,
    pub status: HostStatus,
    pub idc_id: i64,
    pub idc_name: String,
    pub idc_description: Option<String>,
    pub type_id: i64,
    pub type_name: String,
    pub type_description: Option<String>,
    pub region_id: i64,
    pub region_name: String,
    pub region_description: Option<String>,
    pub host_agent_id: Option<i64>,
    pub host_agent_version: Option<String>,
    pub host_agent_status: Option<HostAgentStatus>,
    pub create_time: Timestamp,
    pub update_time: Timestamp,
}

/// One host of `batchCreate`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HostBasicData {
    pub inner_ip_address: String,
    #[serde(default)]
    pub serial_number: Option<String>,
}

/// `POST /api/v2/compute/hosts/batchCreate`. Hosts are not reached over SSH: the agent is
/// installed on each (package or systemd unit) and joins; `credentialId` is accepted for
/// compatibility and must name nothing in particular.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchCreateHosts {
    pub host_basic_data_list: Vec<HostBasicData>,
    pub ssh_port: i32,
    pub kind: String,
    #[serde(default)]
    pub publish_ports: Option<Vec<String>>,
    pub idc_id: i64,
    pub type_id: i64,
    #[serde(default)]
    pub credential_id: Option<i64>,
    #[serde(default)]
    pub alias: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// The port the host's agent listens on (default 62888).
    #[serde(default)]
    pub agent_port: Option<i32>,
}

/// `POST /api/v2/compute/hosts`: one host, the fields of `batchCreate` for a single address.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateHost {
    pub inner_ip_address: String,
    #[serde(default)]
    pub serial_number: Option<String>,
    #[serde(default = "default_ssh_port")]
    pub ssh_port: i32,
    #[serde(default = "default_kind")]
    pub kind: String,
    #[serde(default)]
    pub publish_ports: Option<Vec<String>>,
    pub idc_id: i64,
    pub type_id: i64,
    #[serde(default)]
    pub credential_id: Option<i64>,
    #[serde(default)]
    pub alias: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub agent_port: Option<i32>,
}

fn default_ssh_port() -> i32 {
    22
}

fn default_kind() -> String {
    "DEDICATED_PHYSICAL_MACHINE".into()
}

/// `POST /api/v2/compute/hosts/batchDelete`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HostIdList {
    pub host_id_list: Vec<i64>,
}

/// `POST /compute/hosts/batchStopAgents` and `batchRestartAgents`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HostIds {
    pub host_ids: Vec<i64>,
}

/// A list answered without paging (`batchCreate` answers its tasks so).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contents<T> {
    pub contents: Vec<T>,
}

/// Filters of `GET /api/v2/compute/hosts`.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct HostFilter {
    /// Comma-separated statuses: NEW, AVAILABLE, ONLINE, OFFLINE, DELETING.
    pub status: Option<String>,
    /// Part of the host name, alias or address, or of a deployed service's name.
    pub keyword: Option<String>,
    /// Comma-separated service types the host must run.
    pub included_service_type: Option<String>,
    /// Comma-separated service types the host must not run.
    pub excluded_service_type: Option<String>,
}

/// A process of a host's OCP agent.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct HostAgentProcess {
    pub id: i64,
    pub host_id: i64,
    pub alias: String,
    pub pid: i32,
    pub user: Option<String>,
    pub start_command: Option<String>,
    pub ports: Option<String>,
    /// Seconds the process has been running.
    pub elapsed_time: i64,
    pub last_active_time: Option<Timestamp>,
    pub status: ProcessStatus,
    pub operable: bool,
    pub log_file_pattern: String,
    pub create_time: Timestamp,
    pub update_time: Timestamp,
}

/// A host's OCP agent.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct HostAgent {
    pub id: i64,
    pub version: Option<String>,
    pub install_home: Option<String>,
    pub log_home: Option<String>,
    pub last_available_time: Option<Timestamp>,
    pub host_id: i64,
    pub host_inner_ip_address: String,
    /// STARTED while its manager process runs, else STOPPED.
    pub status: ProcessStatus,
    pub processes: Vec<HostAgentProcess>,
    pub create_time: Timestamp,
    pub update_time: Timestamp,
}

/// `POST /api/v2/compute/agentJoinTokens`: a one-time token an agent joins with.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateJoinToken {
    /// Where a host that joins without being registered first is placed.
    #[serde(default)]
    pub idc_id: Option<i64>,
    #[serde(default)]
    pub type_id: Option<i64>,
    /// How long the token stays valid (default 3600, at most 7 days).
    #[serde(default)]
    pub ttl_seconds: Option<i64>,
}

/// A join token; `token` is shown only in this answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct JoinToken {
    pub id: i64,
    pub token: String,
    pub idc_id: i64,
    pub type_id: i64,
    pub expire_time: Timestamp,
}
