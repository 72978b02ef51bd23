//! Where agents meet the server: join tokens (`POST /api/v2/compute/agentJoinTokens`), the
//! join itself and heartbeats (`/api/v2/agents/...`, signed by the agent, not by a user).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use ocp_api::agent::{Heartbeat, JoinRequest, JoinResponse};
use ocp_api::agent_path;
use ocp_api::host::{CreateJoinToken, JoinToken};
use ocp_api::ErrorCode;
use ocp_store::{JoiningAgent, StoreError};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{perm, Authz, Caller};
use crate::host::link::{heartbeat_update, issue_token, token_hash};
use crate::http::{parse_json, ApiJson, ApiResult, Data, Failure, NoData};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_join_token))
        // Agents' own calls: not part of the documented API.
        .route(agent_path::server::JOIN, axum::routing::post(join))
        .route(
            agent_path::server::HEARTBEAT,
            axum::routing::post(heartbeat),
        )
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
            .submit(crate::host::steps::prepare_host(joined.host_id), &system)
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
        .verify(&headers, "POST", agent_path::server::HEARTBEAT, &body)
        .await?;
    let beat: Heartbeat = parse_json(&body)?;
    if beat.report.host_id != host_id {
        return Err(Failure::field(
            "report.hostId",
            format!("host {host_id} reports for host {}", beat.report.host_id),
        ));
    }
    let update = heartbeat_update(&beat.report, beat.facts.as_ref()).map_err(Failure::internal)?;
    state.agents.record_heartbeat(host_id, update).await?;
    Ok(NoData)
}
