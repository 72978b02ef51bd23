//! Where agents meet the server: join tokens (`POST /api/v2/compute/agentJoinTokens`), the
//! join itself and heartbeats (`/api/v2/agents/...`, signed by the agent, not by a user),
//! and the watch that marks silent agents OFFLINE.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use ocp_api::agent::{AgentReport, Heartbeat, HostFacts, JoinRequest, JoinResponse};
use ocp_api::host::{CreateJoinToken, JoinToken};
use ocp_api::{ErrorCode, Timestamp};
use ocp_store::{Catalog, HeartbeatUpdate, JoiningAgent, Store, StoreError};
use rand::Rng;
use sha2::{Digest, Sha256};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::app::AppState;
use crate::auth::{perm, Authz, Caller};
use crate::http::{parse_json, ApiJson, ApiResult, Data, Failure, NoData};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_join_token))
        // Agents' own calls: not part of the documented API.
        .route("/api/v2/agents/join", axum::routing::post(join))
        .route("/api/v2/agents/heartbeat", axum::routing::post(heartbeat))
}

const MAX_TTL_SECONDS: i64 = 7 * 24 * 3600;

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The columns a facts report fills: hostname, kernel, release, architecture, JSON.
pub fn facts_columns(facts: &HostFacts) -> (String, String, String, String, String) {
    (
        facts.hostname.clone(),
        facts.kernel.clone(),
        facts.os_release.clone(),
        facts.architecture.clone(),
        serde_json::to_string(facts).unwrap_or_default(),
    )
}

/// What an agent's report (and facts, if any) change in the metadb.
pub fn heartbeat_update(
    report: &AgentReport,
    facts: Option<&HostFacts>,
) -> Result<HeartbeatUpdate, serde_json::Error> {
    let processes = report
        .processes
        .iter()
        .map(|p| Ok((p.alias.clone(), serde_json::to_string(p)?)))
        .collect::<Result<_, serde_json::Error>>()?;
    Ok(HeartbeatUpdate {
        version: report.version.clone(),
        manager_running: report.manager_running(),
        processes,
        facts: facts.map(facts_columns),
    })
}

/// The IDC and host type of hosts placed without being named: the first of each, created
/// as `default` on a fresh platform.
async fn default_placement(store: &Store) -> Result<(i64, i64), StoreError> {
    let first = |(records, _): (Vec<ocp_store::CatalogRecord>, i64)| records.first().map(|r| r.id);
    let idc = match first(
        store
            .catalog_entries(Catalog::Idc, 0, 1, "id", false)
            .await?,
    ) {
        Some(id) => id,
        None => {
            let region = match first(
                store
                    .catalog_entries(Catalog::Region, 0, 1, "id", false)
                    .await?,
            ) {
                Some(id) => id,
                None => {
                    store
                        .create_catalog_entry(Catalog::Region, "default", None, None)
                        .await?
                        .id
                }
            };
            store
                .create_catalog_entry(Catalog::Idc, "default", None, Some(region))
                .await?
                .id
        }
    };
    let host_type = match first(
        store
            .catalog_entries(Catalog::HostType, 0, 1, "id", false)
            .await?,
    ) {
        Some(id) => id,
        None => {
            store
                .create_catalog_entry(Catalog::HostType, "default", None, None)
                .await?
                .id
        }
    };
    Ok((idc, host_type))
}

/// Issues a one-time join token. Only its hash is kept.
pub async fn issue_token(
    store: &Store,
    request: &CreateJoinToken,
    creator: &str,
) -> Result<JoinToken, Failure> {
    let ttl = request.ttl_seconds.unwrap_or(3600);
    if !(60..=MAX_TTL_SECONDS).contains(&ttl) {
        return Err(Failure::field(
            "ttlSeconds",
            format!("must be between 60 and {MAX_TTL_SECONDS}"),
        ));
    }
    let (default_idc, default_type) = match (request.idc_id, request.type_id) {
        (Some(i), Some(t)) => (i, t),
        _ => default_placement(store).await?,
    };
    let idc_id = request.idc_id.unwrap_or(default_idc);
    let type_id = request.type_id.unwrap_or(default_type);
    if store.catalog_entry(Catalog::Idc, idc_id).await.is_err() {
        return Err(Failure::field(
            "idcId",
            format!("IDC {idc_id} does not exist"),
        ));
    }
    if store
        .catalog_entry(Catalog::HostType, type_id)
        .await
        .is_err()
    {
        return Err(Failure::field(
            "typeId",
            format!("host type {type_id} does not exist"),
        ));
    }
    let token = format!(
        "ocpjoin-{}",
        hex::encode(rand::thread_rng().gen::<[u8; 24]>())
    );
    let expire = chrono::Utc::now().timestamp_millis() + ttl * 1000;
    let id = store
        .create_join_token(&token_hash(&token), idc_id, type_id, expire, creator)
        .await?;
    Ok(JoinToken {
        id,
        token,
        idc_id,
        type_id,
        expire_time: Timestamp::from_millis(expire),
    })
}

/// Issues a one-time token an agent joins with. The token is shown only in this answer.
#[utoipa::path(post, path = "/api/v2/compute/agentJoinTokens", tag = "compute",
    request_body = CreateJoinToken, responses((status = 200, body = JoinToken)))]
async fn create_join_token(
    Authz(caller, _): Authz<perm::HostCreate>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateJoinToken>,
) -> ApiResult<JoinToken> {
    Ok(Data(
        issue_token(&state.store, &body, &caller.username).await?,
    ))
}

/// An agent joins with a one-time token: it gets its host and secret, and the host a
/// Prepare host task (or the registered host's waiting task goes on).
async fn join(State(state): State<AppState>, body: Bytes) -> ApiResult<serde_json::Value> {
    let request: JoinRequest = parse_json(&body)?;
    if request
        .inner_ip_address
        .parse::<std::net::IpAddr>()
        .is_err()
    {
        return Err(Failure::field("innerIpAddress", "must be an IP address"));
    }
    if request.port == 0 {
        return Err(Failure::field("port", "must be a port number"));
    }
    let (secret, sealed) = state.agents.new_secret()?;
    let joining = JoiningAgent {
        inner_ip_address: request.inner_ip_address.clone(),
        port: i64::from(request.port),
        hostname: request.facts.hostname.clone(),
        operating_system: request.facts.kernel.clone(),
        operating_system_release: request.facts.os_release.clone(),
        architecture: request.facts.architecture.clone(),
        facts: serde_json::to_string(&request.facts).map_err(Failure::internal)?,
        version: request.version.clone(),
        install_home: request.install_home.clone(),
        log_home: request.log_home.clone(),
        secret_sealed: sealed,
    };
    let joined = match state
        .store
        .join_agent(&token_hash(&request.token), &joining)
        .await
    {
        Ok(j) => j,
        Err(StoreError::NotFound { .. }) => {
            return Err(Failure::new(
                ErrorCode::Unauthorized,
                "the join token is unknown, spent or expired",
            ))
        }
        Err(StoreError::AlreadyExists { .. }) => {
            return Err(Failure::new(
                ErrorCode::AlreadyExists,
                format!(
                    "host {} has an agent already; delete the host to join it again",
                    request.inner_ip_address
                ),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(host_id = joined.host_id, address = %request.inner_ip_address, "agent joined");
    let task_id = if joined.host_was_registered {
        None
    } else {
        let system = Caller {
            user_id: 0,
            username: "system".into(),
            permissions: Default::default(),
            role_ids: Vec::new(),
            rate_limit: None,
        };
        let task = state
            .submit(crate::host_steps::prepare_host(joined.host_id), &system)
            .await?;
        Some(task.id)
    };
    let response = JoinResponse {
        host_id: joined.host_id,
        agent_id: joined.agent_id,
        secret,
        task_id,
    };
    Ok(Data(
        serde_json::to_value(response).map_err(Failure::internal)?,
    ))
}

/// A signed heartbeat: the agent lives; its processes and (now and then) facts.
async fn heartbeat(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<NoData, Failure> {
    let host_id = state
        .agents
        .verify(&headers, "POST", "/api/v2/agents/heartbeat", &body)
        .await?;
    let beat: Heartbeat = parse_json(&body)?;
    if beat.report.host_id != host_id {
        return Err(Failure::field(
            "report.hostId",
            format!("host {host_id} reports for host {}", beat.report.host_id),
        ));
    }
    let update = heartbeat_update(&beat.report, beat.facts.as_ref()).map_err(Failure::internal)?;
    state.store.record_heartbeat(host_id, &update).await?;
    Ok(NoData)
}

/// Marks agents that missed their heartbeats OFFLINE, every third of `timeout`.
pub async fn watch_heartbeats(store: Store, timeout: Duration) {
    let mut ticker = tokio::time::interval(timeout / 3);
    loop {
        ticker.tick().await;
        let cutoff = chrono::Utc::now().timestamp_millis() - timeout.as_millis() as i64;
        match store.mark_silent_agents_offline(cutoff).await {
            Ok(hosts) if !hosts.is_empty() => {
                tracing::warn!(?hosts, "agents missed their heartbeats; hosts OFFLINE");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("heartbeat watch: {e}"),
        }
    }
}
