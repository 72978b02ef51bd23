//! The steps of host and agent tasks, named and shaped as OCP's (`002_*`, `003_*`, the
//! batchCreate sample), and the templates that wire them.
//!
//! A step finds its host in the task context: `host_id`, or for a branch of a batch task the
//! `host_ids` entry at its `parallelIdx`. Every step checks before it acts: stopping stopped
//! workers or starting running ones does nothing, so a retried or taken-over step is safe.

use std::time::Duration;

use async_trait::async_trait;
use ocp_api::agent::{AgentReport, HostFacts, MANAGER_ALIAS, WORKER_ALIASES};
use ocp_api::agent_path;
use ocp_api::host::{HostAgentStatus, HostStatus, ProcessStatus};
use ocp_task::{NodeId, Registry, Step, StepContext, StepError, StepSpec, TaskTemplate};

use crate::host::agent_client::AgentClient;

const PKG: &str = "com.alipay.ocp.service.task.business";

fn class(name: &str) -> String {
    format!("{PKG}.obagent.{name}")
}

fn host_class(name: &str) -> String {
    format!("{PKG}.host.{name}")
}

fn wait_class() -> String {
    format!("{PKG}.WaitNode")
}

/// The host a step works on.
fn target_host(ctx: &StepContext) -> Result<i64, StepError> {
    ctx.branch_id("host_id", "host_ids")
}

fn pids(report: &AgentReport) -> String {
    report
        .processes
        .iter()
        .map(|p| format!("{}={}", p.alias, p.pid))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Records what the agent reported as a heartbeat would (processes, agent status, facts).
async fn record(
    ctx: &StepContext,
    host_id: i64,
    report: &AgentReport,
    facts: Option<&HostFacts>,
) -> Result<(), StepError> {
    let update = crate::host::link::heartbeat_update(report, facts)
        .map_err(|e| StepError::new(e.to_string()))?;
    ctx.store().record_heartbeat(host_id, &update).await?;
    Ok(())
}

/// The agent's status as its manager process makes it.
fn settled_status(report: &AgentReport) -> HostAgentStatus {
    if report.manager_running() {
        HostAgentStatus::Available
    } else {
        HostAgentStatus::Offline
    }
}

/// Prepare restart/stop: the agent must answer; the host's agent is then RESTARTING or
/// STOPPING until the Finish step. Rollback gives the status back.
struct Prepare {
    agents: AgentClient,
    status: HostAgentStatus,
}

#[async_trait]
impl Step for Prepare {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let host_id = target_host(ctx)?;
        let report = self.agents.status(host_id).await?;
        ctx.log(format!(
            "agent {} of host {host_id} answers; processes: {}",
            report.version,
            pids(&report)
        ));
        ctx.set(&format!("pids_before_{host_id}"), &pids(&report))
            .await?;
        ctx.store().set_agent_status(host_id, self.status).await?;
        ctx.log(format!("host {host_id} agent status {}", self.status));
        Ok(())
    }

    async fn rollback(&self, ctx: &StepContext) -> Result<(), StepError> {
        let host_id = target_host(ctx)?;
        let status = match self.agents.status(host_id).await {
            Ok(report) => settled_status(&report),
            Err(_) => HostAgentStatus::Offline,
        };
        ctx.store().set_agent_status(host_id, status).await?;
        ctx.log(format!("host {host_id} agent status back to {status}"));
        Ok(())
    }
}

/// Restart pos proxy. OCP's agent fronts its workers with a proxy process; ours is the
/// supervisor's own listener, which forwards `/v1/mgr` to the manager. It is not a process
/// of its own to restart, so this step proves the forwarding path answers.
struct CheckProxy {
    agents: AgentClient,
}

#[async_trait]
impl Step for CheckProxy {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let host_id = target_host(ctx)?;
        let report = self.agents.status(host_id).await?;
        if report.manager_running() {
            let facts: serde_json::Value = self
                .agents
                .call(
                    host_id,
                    reqwest::Method::GET,
                    &agent_path::manager::facts(),
                    None::<&()>,
                )
                .await?;
            ctx.log(format!(
                "the supervisor forwards to {MANAGER_ALIAS} (host {})",
                facts["hostname"].as_str().unwrap_or("?")
            ));
        } else {
            ctx.log(format!(
                "{MANAGER_ALIAS} is stopped; the supervisor's listener answers"
            ));
        }
        Ok(())
    }
}

/// Stop or start every worker of the agent, and check that it happened.
struct Workers {
    agents: AgentClient,
    start: bool,
}

#[async_trait]
impl Step for Workers {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let host_id = target_host(ctx)?;
        let action = if self.start { "start" } else { "stop" };
        let report = self.agents.all_workers(host_id, action).await?;
        let wanted = if self.start {
            ProcessStatus::Started
        } else {
            ProcessStatus::Stopped
        };
        for alias in WORKER_ALIASES {
            let process = report.processes.iter().find(|p| p.alias == alias);
            if process.map(|p| p.status) != Some(wanted) {
                return Err(StepError::new(format!(
                    "{alias} did not {action}: {process:?}"
                )));
            }
        }
        ctx.log(format!(
            "{action} done on host {host_id}: {}",
            pids(&report)
        ));
        if self.start {
            let key = format!("pids_before_{host_id}");
            if let Some(before) = ctx.get(&key) {
                ctx.log(format!("before: {before}"));
            }
        }
        Ok(())
    }
}

/// Finish OCP agent operation: record the processes and settle the agent's status.
struct Finish {
    agents: AgentClient,
}

#[async_trait]
impl Step for Finish {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let host_id = target_host(ctx)?;
        let report = self.agents.status(host_id).await?;
        ctx.store()
            .set_agent_status(host_id, settled_status(&report))
            .await?;
        record(ctx, host_id, &report, None).await?;
        ctx.log(format!("host {host_id} agent {}", settled_status(&report)));
        Ok(())
    }
}

/// A barrier between the stages of a batch task.
struct WaitNode;

#[async_trait]
impl Step for WaitNode {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        ctx.log("every branch reached this point");
        Ok(())
    }
}

/// Pre check for create host: the host is registered and placed.
struct PreCheckHost;

#[async_trait]
impl Step for PreCheckHost {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let host_id = target_host(ctx)?;
        let host = ctx.store().host(host_id).await?;
        ctx.log(format!(
            "host {} ({}) in IDC {} of region {}, type {}",
            host.inner_ip_address, host.name, host.idc_name, host.region_name, host.type_name
        ));
        Ok(())
    }
}

/// The legacy agents OCP removes before installing its own. This platform never installs
/// them, and it reaches a host only through an agent that joined: the step records that.
struct NoLegacy(&'static str);

#[async_trait]
impl Step for NoLegacy {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        ctx.log(format!(
            "no {} is managed by this platform; nothing to uninstall",
            self.0
        ));
        Ok(())
    }
}

/// Install ocp agent: agents are installed on the host (package or `ocp-agent
/// install-systemd`) and join with a token; this step waits for that join, then checks
/// the agent answers for this host.
struct AwaitAgent {
    agents: AgentClient,
}

#[async_trait]
impl Step for AwaitAgent {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let host_id = target_host(ctx)?;
        let mut told = false;
        loop {
            let host = ctx.store().host(host_id).await?;
            if host.agent.is_some() {
                break;
            }
            if !told {
                ctx.log(format!(
                    "waiting for the agent of {} to join: on that host run `ocp-agent \
                     install-systemd --server URL --join-token TOKEN --advertise-ip {}` with \
                     a token from `ocp-server --print-join-token`",
                    host.inner_ip_address, host.inner_ip_address
                ));
                told = true;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let report = self.agents.status(host_id).await?;
        if report.host_id != host_id {
            return Err(StepError::new(format!(
                "the agent answers for host {}, not {host_id}",
                report.host_id
            )));
        }
        ctx.log(format!(
            "agent {} answers: {}",
            report.version,
            pids(&report)
        ));
        Ok(())
    }
}

/// Update host status: the agent's facts and processes are recorded, the host AVAILABLE.
struct UpdateHostStatus {
    agents: AgentClient,
}

#[async_trait]
impl Step for UpdateHostStatus {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let host_id = target_host(ctx)?;
        let report = self.agents.status(host_id).await?;
        let facts: HostFacts = self
            .agents
            .call(
                host_id,
                reqwest::Method::GET,
                &agent_path::manager::facts(),
                None::<&()>,
            )
            .await?;
        ctx.log(format!(
            "{}: {} {} {}, {} CPUs, {} MiB memory, {} disks",
            facts.hostname,
            facts.os_release,
            facts.kernel,
            facts.architecture,
            facts.cpu_count,
            facts.memory_bytes >> 20,
            facts.disks.len()
        ));
        record(ctx, host_id, &report, Some(&facts)).await?;
        ctx.store()
            .set_host_status(host_id, HostStatus::Available)
            .await?;
        ctx.log(format!("host {host_id} AVAILABLE"));
        Ok(())
    }
}

/// One worker of one agent: restart or stop it.
struct OneWorker {
    agents: AgentClient,
}

#[async_trait]
impl Step for OneWorker {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let host_id = target_host(ctx)?;
        let alias = ctx.require("process_alias")?.to_string();
        let action = ctx.require("process_action")?.to_string();
        let report = self.agents.worker(host_id, &alias, &action).await?;
        record(ctx, host_id, &report, None).await?;
        let status = settled_status(&report);
        ctx.store().set_agent_status(host_id, status).await?;
        ctx.log(format!(
            "{action} {alias} on host {host_id}: {}",
            pids(&report)
        ));
        Ok(())
    }
}

pub fn register(registry: &mut Registry, agents: &AgentClient) {
    let a = || agents.clone();
    registry
        .register(
            class("PrepareRestartOcpAgentTask"),
            Prepare {
                agents: a(),
                status: HostAgentStatus::Restarting,
            },
        )
        .register(
            class("PrepareStopOcpAgentTask"),
            Prepare {
                agents: a(),
                status: HostAgentStatus::Stopping,
            },
        )
        .register(class("RestartPosProxyTask"), CheckProxy { agents: a() })
        .register(
            class("StopAllOcpAgentProcessesTask"),
            Workers {
                agents: a(),
                start: false,
            },
        )
        .register(
            class("StartAllOcpAgentProcessesTask"),
            Workers {
                agents: a(),
                start: true,
            },
        )
        .register(class("FinishOcpAgentOperationTask"), Finish { agents: a() })
        .register(
            class("OperateOcpAgentProcessTask"),
            OneWorker { agents: a() },
        )
        .register(wait_class(), WaitNode)
        .register(host_class("PreCheckForCreateHostTask"), PreCheckHost)
        .register(
            host_class("UninstallLegacyObAgentTask"),
            NoLegacy("obagent"),
        )
        .register(
            host_class("UninstallLegacyOcpAgentTask"),
            NoLegacy("legacy OCP agent"),
        )
        .register(
            host_class("InstallOcpAgentTask"),
            AwaitAgent { agents: a() },
        )
        .register(
            host_class("UpdateHostStatusTask"),
            UpdateHostStatus { agents: a() },
        );
}

/// Which agent operation a task runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentOperation {
    Restart,
    Stop,
}

impl AgentOperation {
    fn stages(self, idx: Option<usize>) -> Vec<StepSpec> {
        let spec = |name: &str, class_name: &str, timeout: i64| {
            let s = StepSpec::new(name, class(class_name)).timeout_secs(timeout);
            match idx {
                Some(i) => s.parallel(i),
                None => s,
            }
        };
        match self {
            Self::Restart => vec![
                spec(
                    "Prepare restart OCP agent",
                    "PrepareRestartOcpAgentTask",
                    60,
                ),
                spec("Restart pos proxy", "RestartPosProxyTask", 60),
                spec(
                    "Stop all OCP agent processes",
                    "StopAllOcpAgentProcessesTask",
                    600,
                ),
                spec(
                    "Start all OCP agent processes",
                    "StartAllOcpAgentProcessesTask",
                    600,
                ),
                spec(
                    "Finish OCP agent operation",
                    "FinishOcpAgentOperationTask",
                    60,
                ),
            ],
            Self::Stop => vec![
                spec("Prepare stop OCP agent", "PrepareStopOcpAgentTask", 60),
                spec(
                    "Stop all OCP agent processes",
                    "StopAllOcpAgentProcessesTask",
                    600,
                ),
                spec(
                    "Finish OCP agent operation",
                    "FinishOcpAgentOperationTask",
                    60,
                ),
            ],
        }
    }

    /// The task for one host: the stages in a chain.
    pub fn single(self, host_id: i64) -> TaskTemplate {
        let name = match self {
            Self::Restart => "Restart OCP agent",
            Self::Stop => "Stop OCP agent",
        };
        let mut template = TaskTemplate::new(name).host(host_id);
        template.chain(self.stages(None), &[]);
        template
    }

    /// The task for several hosts: each stage runs on every host at once (one branch per
    /// host, `parallelIdx` its position in `host_ids`), with a Wait node between stages.
    pub fn batch(self, host_ids: &[i64]) -> TaskTemplate {
        let name = match self {
            Self::Restart => "Batch restart OCP agent",
            Self::Stop => "Batch stop OCP agent",
        };
        let mut template =
            TaskTemplate::new(name).list("host_ids", host_ids.iter().map(i64::to_string).collect());
        let per_host: Vec<Vec<StepSpec>> =
            (0..host_ids.len()).map(|i| self.stages(Some(i))).collect();
        let stages = per_host.first().map(Vec::len).unwrap_or(0);
        let mut previous: Vec<NodeId> = Vec::new();
        for stage in 0..stages {
            if stage > 0 {
                let wait = StepSpec::new("Wait node", wait_class()).timeout_secs(30);
                previous = vec![template.step(wait, &previous)];
            }
            previous = per_host
                .iter()
                .map(|specs| template.step(specs[stage].clone(), &previous))
                .collect();
        }
        template
    }
}

/// The task that brings a registered host into service (the batchCreate sample's steps).
pub fn prepare_host(host_id: i64) -> TaskTemplate {
    let mut template = TaskTemplate::new("Prepare host").host(host_id);
    let spec = |name: &str, class_name: &str, timeout: i64| {
        StepSpec::new(name, host_class(class_name)).timeout_secs(timeout)
    };
    template.chain(
        [
            spec(
                "Pre check for create host",
                "PreCheckForCreateHostTask",
                1800,
            ),
            spec(
                "Uninstall legacy obagent",
                "UninstallLegacyObAgentTask",
                2100,
            ),
            spec(
                "Uninstall legacy ocp agent",
                "UninstallLegacyOcpAgentTask",
                600,
            ),
            spec("Install ocp agent", "InstallOcpAgentTask", 5400),
            spec("Update host status", "UpdateHostStatusTask", 1800),
        ],
        &[],
    );
    template
}

/// The task that restarts or stops one worker of an agent.
pub fn operate_process(host_id: i64, alias: &str, action: &str) -> TaskTemplate {
    let name = if action == "restart" {
        "Restart OCP agent process"
    } else {
        "Stop OCP agent process"
    };
    let mut template = TaskTemplate::new(name)
        .host(host_id)
        .value("process_alias", alias)
        .value("process_action", action);
    template.step(
        StepSpec::new(
            format!("{name} {alias}"),
            class("OperateOcpAgentProcessTask"),
        )
        .timeout_secs(120),
        &[],
    );
    template
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_stop_has_the_shape_of_the_sample() {
        let task = AgentOperation::Stop
            .batch(&[2])
            .build(1, "admin", "x")
            .unwrap();
        let names: Vec<&str> = task.subtasks.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Prepare stop OCP agent",
                "Wait node",
                "Stop all OCP agent processes",
                "Wait node",
                "Finish OCP agent operation"
            ]
        );
        let parallel: Vec<i32> = task.subtasks.iter().map(|s| s.parallel_idx).collect();
        assert_eq!(parallel, [0, -1, 0, -1, 0]);
    }

    #[test]
    fn batch_restart_fans_out_per_host() {
        let task = AgentOperation::Restart
            .batch(&[4, 5, 6])
            .build(1, "admin", "x")
            .unwrap();
        // 5 stages of 3 branches and 4 wait nodes.
        assert_eq!(task.subtasks.len(), 19);
        let waits = task
            .subtasks
            .iter()
            .filter(|s| s.name == "Wait node")
            .count();
        assert_eq!(waits, 4);
    }
}
