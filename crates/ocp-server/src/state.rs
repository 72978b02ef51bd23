//! What every handler can reach: the services the composition root (`app`) builds.

use std::sync::Arc;

use ocp_api::task::TaskInstance;
use ocp_api::Timestamp;
use ocp_store::Store;
use ocp_task::{Engine, TaskTemplate};

use crate::auth::Authenticator;
use crate::cluster::access::ObAccess;
use crate::error::Failure;
use crate::host::agent_client::AgentClient;
use crate::roles::Caller;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Where metric points are kept and read.
    pub metrics: crate::monitor::MetricsBackend,
    pub engine: Engine,
    pub auth: Arc<Authenticator>,
    pub vault: Arc<crate::vault::Vault>,
    pub agents: AgentClient,
    pub ob: ObAccess,
    pub data_dir: std::path::PathBuf,
    pub address: String,
    /// Where clients reach this server (`--public-url`): the base of the links it answers.
    pub public_url: String,
    pub build_time: Timestamp,
    /// Metrics that just arrived, for the alert engine.
    pub fresh: crate::alarm::Fresh,
    /// How long the alert engine takes over each rule.
    pub alarm_timings: crate::alarm::Timings,
    /// What alert channels may reach and run as.
    pub channel_policy: Arc<crate::alarm::outbound::ChannelPolicy>,
    /// How long SQL statistics stay per minute (queries read hours before that).
    pub sql_stat_minutes: std::time::Duration,
}

impl AppState {
    /// The task `template` makes for `caller`, to be written with the rows it acts on; then
    /// [`AppState::submitted`] answers it. A template's steps are fixed in code and tested, so
    /// one that does not build is a bug.
    pub fn task_of(&self, template: TaskTemplate, caller: &Caller) -> ocp_store::NewTask {
        template
            .build(caller.user_id, &caller.username, &self.address)
            .expect("the task templates build (see their tests)")
    }

    /// A task written by the store and the executor told about it, answered as submitted.
    pub async fn submitted(&self, task_id: i64) -> Result<TaskInstance, Failure> {
        let record = self.engine.submitted(task_id).await?;
        Ok(crate::task_view::task_view(&record).as_submitted())
    }

    /// Persists a task built from `template` for `caller` and answers it as submitted.
    pub async fn submit(
        &self,
        template: TaskTemplate,
        caller: &Caller,
    ) -> Result<TaskInstance, Failure> {
        let task = template
            .build(caller.user_id, &caller.username, &self.address)
            .map_err(Failure::internal)?;
        let record = self.engine.submit(&task).await?;
        Ok(crate::task_view::task_view(&record).as_submitted())
    }
}
