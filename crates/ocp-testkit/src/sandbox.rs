//! A server and N agents, each agent a distinct host on its own loopback address.

use std::time::Duration;

use serde_json::json;

use crate::{AgentProcess, ServerOptions, ServerProcess};

/// The address of the `i`th sandbox host: 127.0.0.2, 127.0.0.3, ...
pub fn host_ip(i: usize) -> String {
    format!("127.0.0.{}", i + 2)
}

pub struct Sandbox {
    pub agents: Vec<AgentProcess>,
    pub server: ServerProcess,
}

impl Sandbox {
    /// Starts the server, then `hosts` agents that join with tokens from the API, and waits
    /// until every host is AVAILABLE. Agents beat every `heartbeat_ms`.
    pub async fn start(
        mut options: ServerOptions,
        hosts: usize,
        heartbeat_ms: u64,
    ) -> anyhow::Result<Self> {
        options.extra_args.extend([
            "--agent-heartbeat-timeout-ms".to_string(),
            (heartbeat_ms * 6).max(2000).to_string(),
        ]);
        let server = ServerProcess::start(options)?;
        let mut sandbox = Self {
            agents: Vec::new(),
            server,
        };
        for i in 0..hosts {
            sandbox.join(&host_ip(i), heartbeat_ms).await?;
        }
        Ok(sandbox)
    }

    /// Starts one more agent on `ip` and waits until its host is AVAILABLE.
    pub async fn join(&mut self, ip: &str, heartbeat_ms: u64) -> anyhow::Result<i64> {
        let admin = self.server.admin();
        let token = admin
            .post("/api/v2/compute/agentJoinTokens", &json!({}))
            .await
            .ok();
        let token = token.data()["token"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let agent = AgentProcess::start(self.server.url(), ip, &token, heartbeat_ms)?;
        let (host_id, _) = agent.credentials()?;
        self.agents.push(agent);
        self.wait_host(host_id, "AVAILABLE", "AVAILABLE", Duration::from_secs(60))
            .await?;
        Ok(host_id)
    }

    pub fn host_id(&self, i: usize) -> i64 {
        self.agents[i].credentials().expect("agent joined").0
    }

    /// Waits until the host's status and agent status are as given.
    pub async fn wait_host(
        &self,
        host_id: i64,
        status: &str,
        agent_status: &str,
        timeout: Duration,
    ) -> anyhow::Result<serde_json::Value> {
        let path = format!("/api/v2/compute/hosts/{host_id}");
        self.server
            .admin()
            .poll(&path, timeout, |host| {
                host["status"] == status && host["hostAgentStatus"] == agent_status
            })
            .await
            .map_err(|host| {
                anyhow::anyhow!(
                    "host {host_id} is {} / agent {}, not {status} / {agent_status}",
                    host["status"],
                    host["hostAgentStatus"]
                )
            })
    }
}
