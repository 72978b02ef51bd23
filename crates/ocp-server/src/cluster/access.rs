//! Reaching a managed cluster: its root credentials (sealed in the metadb), a SQL connection
//! to one of its servers, and the mapping of the server's errors to OCP's.

use std::sync::Arc;
use std::time::Duration;

use ocp_api::ob::ServerStatus;
use ocp_api::ErrorCode;
use ocp_ob::{ObClient, ObError, Target};
use ocp_store::{ClusterRecord, ServerRecord, Store};

use crate::error::Failure;
use crate::host::agent_client::AgentClient;
use crate::vault::Vault;

/// How long a connection attempt to a managed server may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// What steps and routes need to work on clusters.
#[derive(Clone)]
pub struct ObAccess {
    pub store: Store,
    /// Where the status sync's `ob_connectable` points go.
    pub metrics: crate::monitor::MetricsBackend,
    pub vault: Arc<Vault>,
    pub agents: AgentClient,
}

/// The agent's name for the process of a server.
pub fn process_name(server_id: i64) -> String {
    ocp_api::agent::observer_process(server_id)
}

pub fn ob_failure(err: ObError) -> Failure {
    match err {
        ObError::Unreachable { .. } => Failure::new(ErrorCode::ObUnreachable, err.to_string()),
        ObError::Refused { .. } => Failure::new(ErrorCode::ObRefused, err.to_string()),
        ObError::Invalid { field, message } => Failure::field(&field, message),
        ObError::Protocol(_) => Failure::internal(err),
    }
}

/// A setting's value the server refused, as a bad argument naming `field`; other errors as
/// [`ob_failure`].
pub fn refused_value(err: ObError, name: &str, value: &str, field: &str) -> Failure {
    match err {
        ObError::Refused { message, .. } => Failure::new(
            ErrorCode::IllegalArgument,
            format!("{name} = {value:?}: {message}"),
        )
        .with_field(field),
        other => ob_failure(other),
    }
}

impl ObAccess {
    /// The root login of a server of the cluster.
    pub fn target(
        &self,
        cluster: &ClusterRecord,
        server: &ServerRecord,
    ) -> Result<Target, Failure> {
        Ok(Target {
            host: server.ip.clone(),
            port: u16::try_from(server.sql_port).map_err(Failure::internal)?,
            user: cluster.root_user.clone(),
            password: self.vault.unseal(&cluster.root_password_sealed)?,
        })
    }

    /// A root connection to one server of the cluster.
    pub async fn connect_to(
        &self,
        cluster: &ClusterRecord,
        server: &ServerRecord,
    ) -> Result<ObClient, Failure> {
        let target = self.target(cluster, server)?;
        ObClient::connect(&target, CONNECT_TIMEOUT)
            .await
            .map_err(ob_failure)
    }

    /// A root connection to the cluster: to a RUNNING server if there is one.
    pub async fn connect(&self, cluster_id: i64) -> Result<ObClient, Failure> {
        let cluster = self.store.cluster(cluster_id).await?;
        let servers = self.store.servers(cluster_id).await?;
        let server = servers
            .iter()
            .find(|s| s.status == ServerStatus::Running)
            .or(servers.first())
            .ok_or_else(|| Failure::new(ErrorCode::StateConflict, "the cluster has no server"))?;
        let target = self.target(&cluster, server)?;
        ObClient::connect(&target, CONNECT_TIMEOUT)
            .await
            .map_err(ob_failure)
    }
}
