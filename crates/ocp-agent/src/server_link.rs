//! The agent's calls to the server: the one-time join, then signed heartbeats and metric
//! batches.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use ocp_api::agent::{signed_headers, Heartbeat, HostFacts, JoinRequest, JoinResponse};
use ocp_api::agent_path;
use rand::Rng;
use serde_json::Value;

use crate::config::{self, AgentConfig, Credentials};
use crate::facts;
use crate::supervisor::Supervisor;

/// Facts are resent this often even when nothing changed (disk use moves).
const FACTS_EVERY: Duration = Duration::from_secs(300);

/// The credentials saved by an earlier join, or a new join with the configured token.
pub async fn credentials(config: &AgentConfig, port: u16) -> anyhow::Result<Credentials> {
    if let Some(saved) = config::load_credentials(&config.data_dir)? {
        let mut saved = saved;
        if let Some(server) = &config.server {
            saved.server = server.clone();
        }
        return Ok(saved);
    }
    let server = config
        .server
        .clone()
        .context("this agent has not joined: give --server and --join-token")?;
    let token = config.join_token.clone().context(
        "this agent has not joined: give --join-token (ocp-server join-token prints one)",
    )?;
    let request = JoinRequest {
        token,
        inner_ip_address: config.advertise_ip.clone(),
        port,
        version: env!("CARGO_PKG_VERSION").to_string(),
        install_home: config.install_home(),
        log_home: config.log_home().display().to_string(),
        facts: facts::collect(),
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let reply = client
        .post(format!("{server}{}", agent_path::server::JOIN))
        .json(&request)
        .send()
        .await
        .with_context(|| format!("joining {server}"))?;
    let status = reply.status();
    let body: Value = reply.json().await.context("reading the join answer")?;
    if !status.is_success() {
        anyhow::bail!(
            "the server refused to let this agent join ({status}): {}",
            body["error"]["message"]
                .as_str()
                .unwrap_or("no reason given")
        );
    }
    let joined: JoinResponse = serde_json::from_value(body["data"].clone())?;
    let credentials = Credentials {
        host_id: joined.host_id,
        secret: joined.secret,
        server,
    };
    config::save_credentials(&config.data_dir, &credentials)?;
    tracing::info!(host_id = joined.host_id, task = ?joined.task_id, "joined the server");
    Ok(credentials)
}

pub struct ServerLink {
    credentials: Credentials,
    client: reqwest::Client,
}

impl ServerLink {
    pub fn new(credentials: Credentials) -> anyhow::Result<Self> {
        Ok(Self {
            credentials,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
        })
    }

    /// Sends a heartbeat every interval, forever. A failed one is logged and the next one
    /// goes out on time.
    pub async fn heartbeats(self, supervisor: Supervisor) {
        let mut ticker = tokio::time::interval(supervisor.config.heartbeat);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_facts: Option<(HostFacts, Instant)> = None;
        let mut failing = false;
        loop {
            ticker.tick().await;
            let facts = facts::collect();
            let send_facts = match &last_facts {
                Some((previous, at)) => {
                    without_free_space(previous) != without_free_space(&facts)
                        || at.elapsed() > FACTS_EVERY
                }
                None => true,
            };
            let beat = Heartbeat {
                report: supervisor.report().await,
                facts: send_facts.then(|| facts.clone()),
            };
            match self.send(&beat).await {
                Ok(()) => {
                    if send_facts {
                        last_facts = Some((facts, Instant::now()));
                    }
                    if failing {
                        tracing::info!("heartbeats reach the server again");
                        failing = false;
                    }
                }
                Err(e) => {
                    if !failing {
                        tracing::warn!("heartbeat failed: {e:#}");
                    }
                    failing = true;
                }
            }
        }
    }

    /// Ships the monitor's samples to the server soon after each is taken: it looks five
    /// times a monitor interval (a local call that costs next to nothing when there is no
    /// new sample), so an alert's sample waits at most a fifth of an interval here. After a
    /// failure it tries again once an interval. What the server has not acknowledged is
    /// sent again, from the monitor's bounded ring; the server stores a point once however
    /// often it comes.
    pub async fn ship_metrics(self, supervisor: Supervisor) {
        let interval = supervisor.config.monitor_interval;
        let mut ticker =
            tokio::time::interval((interval / 5).max(std::time::Duration::from_millis(200)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut acknowledged = 0i64;
        let mut failing = false;
        let mut tried = tokio::time::Instant::now();
        loop {
            ticker.tick().await;
            if failing && tried.elapsed() < interval {
                continue;
            }
            tried = tokio::time::Instant::now();
            // Catch up page by page after an outage.
            loop {
                match self.ship_page(&supervisor, acknowledged).await {
                    Ok(Some(last)) => {
                        acknowledged = last;
                        if failing {
                            tracing::info!("metrics reach the server again");
                            failing = false;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        if !failing {
                            tracing::warn!("shipping metrics failed: {e:#}");
                        }
                        failing = true;
                        break;
                    }
                }
            }
        }
    }

    /// Sends the samples after `after`; answers the time of the last one sent, or `None`
    /// when there was nothing to send.
    async fn ship_page(&self, supervisor: &Supervisor, after: i64) -> anyhow::Result<Option<i64>> {
        let bytes = crate::http::worker_get(
            &supervisor.config.data_dir,
            ocp_api::agent::MONITOR_ALIAS,
            &agent_path::monitor::samples_after(after),
        )
        .await?;
        let page: crate::monitor::SamplePage = serde_json::from_slice(&bytes)?;
        if page.points.is_empty() && page.sql_stats.is_empty() && page.slow_queries.is_empty() {
            return Ok(None);
        }
        let batch = ocp_api::monitor::MetricBatch {
            points: page.points,
            sql_stats: page.sql_stats,
            slow_queries: page.slow_queries,
        };
        self.post(agent_path::server::METRICS, serde_json::to_vec(&batch)?)
            .await?;
        Ok(Some(page.last))
    }

    async fn send(&self, beat: &Heartbeat) -> anyhow::Result<()> {
        self.post(agent_path::server::HEARTBEAT, serde_json::to_vec(beat)?)
            .await
    }

    async fn post(&self, path: &str, body: Vec<u8>) -> anyhow::Result<()> {
        let reply = signed(
            &self.client,
            &self.credentials,
            reqwest::Method::POST,
            path,
            body,
        )
        .header("content-type", "application/json")
        .send()
        .await?;
        if !reply.status().is_success() {
            let status = reply.status();
            let text = reply.text().await.unwrap_or_default();
            anyhow::bail!("the server answered {status}: {text}");
        }
        Ok(())
    }
}

/// A request to the server signed with this host's secret.
pub fn signed(
    client: &reqwest::Client,
    credentials: &Credentials,
    method: reqwest::Method,
    path: &str,
    body: Vec<u8>,
) -> reqwest::RequestBuilder {
    let nonce = hex::encode(rand::thread_rng().gen::<[u8; 16]>());
    let mut request = client.request(method.clone(), format!("{}{path}", credentials.server));
    for (name, value) in signed_headers(
        &credentials.secret,
        credentials.host_id,
        method.as_str(),
        path,
        &body,
        now_ms(),
        &nonce,
    ) {
        request = request.header(name, value);
    }
    request.body(body)
}

/// The facts but for free disk space, which changes all the time.
fn without_free_space(facts: &HostFacts) -> HostFacts {
    let mut facts = facts.clone();
    for disk in &mut facts.disks {
        disk.free_bytes = 0;
    }
    facts
}

pub use ocp_api::time::now_millis as now_ms;
