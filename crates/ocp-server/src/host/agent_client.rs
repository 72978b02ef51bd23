//! The server's side of the agent protocol: signed calls to a host's agent, and the check of
//! the agents' signed calls to the server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ocp_api::agent::{signed_headers, AgentReport, SignatureError, SignedRequest};
use ocp_api::agent_path;
use ocp_api::time::now_millis as now_ms;
use ocp_api::ErrorCode;
use ocp_store::{HeartbeatUpdate, Store};
use rand::Rng;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::Digest as _;

use crate::coalesce::Coalescer;
use crate::error::Failure;
use crate::vault::{Vault, VaultError};

/// Calls to agents and checks of calls from them. Cheap to clone.
#[derive(Clone)]
pub struct AgentClient {
    store: Store,
    vault: Arc<Vault>,
    http: reqwest::Client,
    /// When this server started: agents' calls signed before are refused.
    started_ms: i64,
    /// Unsealed secrets by host id: opening one costs a metadb read and a decryption.
    secrets: Arc<Mutex<HashMap<i64, String>>>,
    /// The digests of agents' calls, remembered many a transaction.
    signatures: Coalescer<(String, i64), bool>,
    /// Heartbeats, recorded many a transaction.
    heartbeats: Coalescer<(i64, HeartbeatUpdate), ()>,
}

/// The most calls one transaction remembers (or heartbeats it records).
const BATCH: usize = 1000;

/// Why a call to an agent failed. It keeps what the agent answered, so a step can tell "no such
/// process" (404) from an agent that is down.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("the agent of host {host_id}: no agent has joined")]
    NotJoined { host_id: i64 },
    #[error("the agent of host {host_id}: unreachable at {url}: {reason}")]
    Unreachable {
        host_id: i64,
        url: String,
        reason: String,
    },
    /// The agent answered, with an error status and its message.
    #[error("the agent of host {host_id}: {status}: {message}")]
    Refused {
        host_id: i64,
        status: reqwest::StatusCode,
        message: String,
    },
    /// The agent's answer was cut off or is not what the protocol says.
    #[error("the agent of host {host_id}: unreadable answer: {reason}")]
    BadAnswer { host_id: i64, reason: String },
    #[error(transparent)]
    Store(#[from] ocp_store::StoreError),
    #[error(transparent)]
    Vault(#[from] VaultError),
}

impl AgentError {
    /// The agent has no such thing (process, worker, path).
    pub fn is_not_found(&self) -> bool {
        matches!(self, AgentError::Refused { status, .. } if *status == reqwest::StatusCode::NOT_FOUND)
    }
}

impl From<AgentError> for Failure {
    fn from(err: AgentError) -> Self {
        match err {
            AgentError::Store(e) => e.into(),
            AgentError::Vault(e) => e.into(),
            other => Failure::new(ErrorCode::AgentUnavailable, other.to_string()),
        }
    }
}

impl AgentClient {
    /// Needs a Tokio runtime: it starts the writers of signatures and heartbeats.
    pub fn new(store: Store, vault: Arc<Vault>) -> Self {
        let signatures = {
            let store = store.clone();
            Coalescer::spawn(BATCH, move |calls: Vec<(String, i64)>| {
                let store = store.clone();
                async move { Ok(store.remember_signatures(&calls).await?) }
            })
        };
        let heartbeats = {
            let store = store.clone();
            Coalescer::spawn(BATCH, move |beats: Vec<(i64, HeartbeatUpdate)>| {
                let store = store.clone();
                async move {
                    store.record_heartbeats(&beats).await?;
                    Ok(vec![(); beats.len()])
                }
            })
        };
        Self {
            signatures,
            heartbeats,
            store,
            vault,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .connect_timeout(Duration::from_secs(5))
                .build()
                .expect("HTTP client"),
            started_ms: now_ms(),
            secrets: Arc::default(),
        }
    }

    /// A new random secret for an agent, and the same sealed for the metadb.
    pub fn new_secret(&self) -> Result<(String, String), VaultError> {
        let secret = hex::encode(rand::thread_rng().gen::<[u8; 32]>());
        let sealed = self.vault.seal(&secret)?;
        Ok((secret, sealed))
    }

    async fn secret(&self, host_id: i64) -> Result<String, AgentError> {
        if let Some(secret) = self.secrets.lock().expect("secrets lock").get(&host_id) {
            return Ok(secret.clone());
        }
        let host = self.store.host(host_id).await?;
        let agent = host.agent.ok_or(AgentError::NotJoined { host_id })?;
        let secret = self.vault.unseal(&agent.secret_sealed)?;
        self.secrets
            .lock()
            .expect("secrets lock")
            .insert(host_id, secret.clone());
        Ok(secret)
    }

    /// Seals a secret for the agent of `host_id` alone (see
    /// [`ocp_api::agent::seal_for_agent`]): what a call to it may carry of a secret.
    pub async fn seal_for(&self, host_id: i64, plain: &str) -> Result<String, AgentError> {
        let secret = self.secret(host_id).await?;
        Ok(ocp_api::agent::seal_for_agent(&secret, plain))
    }

    /// Records a verified heartbeat of `host_id`, together with those arriving meanwhile.
    pub async fn record_heartbeat(
        &self,
        host_id: i64,
        update: HeartbeatUpdate,
    ) -> Result<(), Failure> {
        self.heartbeats.submit((host_id, update)).await
    }

    /// Forgets a host's secret (the host was deleted).
    pub fn forget(&self, host_id: i64) {
        self.secrets.lock().expect("secrets lock").remove(&host_id);
    }

    /// A signed call to the agent of `host_id`; its JSON answer.
    pub async fn call<T: DeserializeOwned>(
        &self,
        host_id: i64,
        method: reqwest::Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T, AgentError> {
        self.call_within(host_id, method, path, body, None).await
    }

    /// As [`Self::call`], for work that may take longer than a minute (a backup, a restore).
    pub async fn call_long<T: DeserializeOwned>(
        &self,
        host_id: i64,
        method: reqwest::Method,
        path: &str,
        body: Option<&impl Serialize>,
        timeout: Duration,
    ) -> Result<T, AgentError> {
        self.call_within(host_id, method, path, body, Some(timeout))
            .await
    }

    async fn call_within<T: DeserializeOwned>(
        &self,
        host_id: i64,
        method: reqwest::Method,
        path: &str,
        body: Option<&impl Serialize>,
        timeout: Option<Duration>,
    ) -> Result<T, AgentError> {
        let host = self.store.host(host_id).await?;
        let secret = self.secret(host_id).await?;
        let body = match body {
            Some(b) => serde_json::to_vec(b).expect("request bodies serialize"),
            None => Vec::new(),
        };
        let nonce = hex::encode(rand::thread_rng().gen::<[u8; 16]>());
        let url = format!("http://{}:{}{path}", host.inner_ip_address, host.agent_port);
        let mut request = self.http.request(method.clone(), &url);
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        for (name, value) in signed_headers(
            &secret,
            host_id,
            method.as_str(),
            path,
            &body,
            now_ms(),
            &nonce,
        ) {
            request = request.header(name, value);
        }
        if !body.is_empty() {
            request = request.header("content-type", "application/json");
        }
        let reply = request
            .body(body)
            .send()
            .await
            .map_err(|e| AgentError::Unreachable {
                host_id,
                url: url.clone(),
                reason: e.to_string(),
            })?;
        let status = reply.status();
        let bad_answer = |reason: &dyn std::fmt::Display| AgentError::BadAnswer {
            host_id,
            reason: reason.to_string(),
        };
        let bytes = reply.bytes().await.map_err(|e| bad_answer(&e))?;
        if !status.is_success() {
            let message = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_string))
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            return Err(AgentError::Refused {
                host_id,
                status,
                message,
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| bad_answer(&e))
    }

    pub async fn status(&self, host_id: i64) -> Result<AgentReport, AgentError> {
        self.call(
            host_id,
            reqwest::Method::GET,
            agent_path::STATUS,
            None::<&()>,
        )
        .await
    }

    /// `action` (start, stop, restart) on every worker of the agent.
    pub async fn all_workers(&self, host_id: i64, action: &str) -> Result<AgentReport, AgentError> {
        let path = agent_path::all_workers(action);
        self.call(host_id, reqwest::Method::POST, &path, None::<&()>)
            .await
    }

    /// `action` on one worker of the agent.
    pub async fn worker(
        &self,
        host_id: i64,
        alias: &str,
        action: &str,
    ) -> Result<AgentReport, AgentError> {
        let path = agent_path::worker(alias, action);
        self.call(host_id, reqwest::Method::POST, &path, None::<&()>)
            .await
    }

    /// Checks a call signed by an agent; answers the host it speaks for.
    pub async fn verify(
        &self,
        headers: &HeaderMap,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<i64, Failure> {
        let refused = |e: &dyn std::fmt::Display| {
            Failure::new(ErrorCode::Unauthorized, format!("agent call refused: {e}"))
        };
        let signed = SignedRequest::parse(|name| headers.get(name)?.to_str().ok())
            .map_err(|e| refused(&e))?;
        let secret = match self.secret(signed.host_id).await {
            Ok(secret) => secret,
            Err(_) => return Err(refused(&"unknown host")),
        };
        signed
            .check_time(now_ms(), self.started_ms)
            .and_then(|()| signed.check_mac(&secret, method, path, body))
            .map_err(|e| refused(&e))?;
        // Nonces are kept in the metadb, so that neither a restart nor another server sharing
        // it takes the same call twice.
        let digest = hex::encode(sha2::Sha256::digest(signed.replay_key().as_bytes()));
        if !self
            .signatures
            .submit((digest, signed.replay_expiry_ms()))
            .await?
        {
            return Err(refused(&SignatureError::Replayed));
        }
        Ok(signed.host_id)
    }
}

impl From<AgentError> for ocp_task::StepError {
    fn from(err: AgentError) -> Self {
        ocp_task::StepError::new(err.to_string())
    }
}
