//! The supervisor's HTTP API: for the server only, every call signed with the host's secret.
//! It answers agent-level calls itself and forwards `/v1/mgr/...` and `/v1/mon/...` to the
//! manager and monitor workers over their unix sockets.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use http_body_util::BodyExt as _;
use ocp_api::agent::{ReplayGuard, SignedRequest, MANAGER_ALIAS, MONITOR_ALIAS};
use ocp_api::agent_path;
use serde_json::json;

use crate::config::{self, Credentials};
use crate::server_link::now_ms;
use crate::supervisor::Supervisor;

/// The largest body a call may carry: every call from the server is a small control call
/// (packages travel the other way, pulled by the agent as a stream). Larger ones are
/// refused before a byte of them is read.
const MAX_BODY: usize = 1024 * 1024;
/// Calls served at once; more are answered 503 at once.
const MAX_CONCURRENT: usize = 64;

#[derive(Clone)]
struct Shared {
    supervisor: Supervisor,
    credentials: Arc<Credentials>,
    replays: Arc<ReplayGuard>,
    slots: Arc<tokio::sync::Semaphore>,
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "message": message.into() }))).into_response()
}

pub fn router(supervisor: Supervisor, credentials: Credentials) -> Router {
    let started_ms = supervisor.config.started_ms;
    let shared = Shared {
        supervisor,
        credentials: Arc::new(credentials),
        // Nonces seen before a restart are forgotten: take nothing signed before this start.
        replays: Arc::new(ReplayGuard::since(started_ms)),
        slots: Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT)),
    };
    Router::new()
        .route(agent_path::STATUS, get(status))
        .route(agent_path::ALL_WORKERS_ROUTE, post(all_workers))
        .route(agent_path::WORKER_ROUTE, post(one_worker))
        .route(
            &format!("{}/{{*rest}}", agent_path::MANAGER_PREFIX),
            any(to_manager),
        )
        .route(
            &format!("{}/{{*rest}}", agent_path::MONITOR_PREFIX),
            any(to_monitor),
        )
        .layer(middleware::from_fn_with_state(shared.clone(), verify))
        .with_state(shared)
}

/// Checks the signature headers, the clock window and the nonce before a byte of the body is
/// read, then the signature over the body, before anything else runs.
async fn verify(State(shared): State<Shared>, request: Request, next: Next) -> Response {
    let Ok(_slot) = shared.slots.clone().try_acquire_owned() else {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "too many calls at once");
    };
    let (parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .to_string();
    let signed = SignedRequest::parse(|name| parts.headers.get(name)?.to_str().ok());
    let headers_ok = signed.and_then(|s| {
        if s.host_id != shared.credentials.host_id {
            return Err(ocp_api::agent::SignatureError::Mismatch);
        }
        s.check_time(now_ms(), shared.replays.not_before_ms())?;
        if shared.replays.seen(s.host_id, s.nonce) {
            return Err(ocp_api::agent::SignatureError::Replayed);
        }
        Ok(s)
    });
    let signed = match headers_ok {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(path, "refused a call: {e}");
            return refuse(StatusCode::UNAUTHORIZED, e.to_string());
        }
    };
    let declared = parts
        .headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "body too large");
    }
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return refuse(StatusCode::PAYLOAD_TOO_LARGE, "body too large"),
    };
    let checked = signed.verify(
        &shared.credentials.secret,
        parts.method.as_str(),
        &path,
        &bytes,
        now_ms(),
        &shared.replays,
    );
    if let Err(e) = checked {
        tracing::warn!(path, "refused a call: {e}");
        return refuse(StatusCode::UNAUTHORIZED, e.to_string());
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

async fn status(State(shared): State<Shared>) -> Response {
    Json(shared.supervisor.report().await).into_response()
}

/// `POST /v1/workers/start|stop|restart`: every worker.
async fn all_workers(State(shared): State<Shared>, Path(action): Path<String>) -> Response {
    let s = &shared.supervisor;
    let done = match action.as_str() {
        "start" => s.start_all().await,
        "stop" => s.stop_all().await,
        "restart" => match s.stop_all().await {
            Ok(()) => s.start_all().await,
            Err(e) => Err(e),
        },
        _ => return refuse(StatusCode::NOT_FOUND, format!("no action {action}")),
    };
    answer(s, done).await
}

/// `POST /v1/workers/{alias}/start|stop|restart`.
async fn one_worker(
    State(shared): State<Shared>,
    Path((alias, action)): Path<(String, String)>,
) -> Response {
    if ![MANAGER_ALIAS, MONITOR_ALIAS].contains(&alias.as_str()) {
        return refuse(StatusCode::NOT_FOUND, format!("no worker {alias}"));
    }
    let s = &shared.supervisor;
    let done = match action.as_str() {
        "start" => s.start(&alias).await,
        "stop" => s.stop(&alias).await,
        "restart" => s.restart(&alias).await,
        _ => return refuse(StatusCode::NOT_FOUND, format!("no action {action}")),
    };
    answer(s, done).await
}

/// The processes after a worker action, or why it failed.
async fn answer(supervisor: &Supervisor, done: anyhow::Result<()>) -> Response {
    match done {
        Ok(()) => Json(supervisor.report().await).into_response(),
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
    }
}

async fn to_manager(State(shared): State<Shared>, request: Request) -> Response {
    forward(&shared, MANAGER_ALIAS, agent_path::MANAGER_PREFIX, request).await
}

async fn to_monitor(State(shared): State<Shared>, request: Request) -> Response {
    forward(&shared, MONITOR_ALIAS, agent_path::MONITOR_PREFIX, request).await
}

/// GETs `path` from a worker over its unix socket and answers the body of a 2xx answer.
pub async fn worker_get(
    data_dir: &std::path::Path,
    alias: &str,
    path: &str,
) -> anyhow::Result<Bytes> {
    let socket = config::worker_socket(data_dir, alias);
    let stream = tokio::net::UnixStream::connect(&socket).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let request = hyper::Request::builder()
        .uri(path)
        .header("host", "localhost")
        .body(Body::empty())?;
    let reply = sender.send_request(request).await?;
    let status = reply.status();
    let bytes = reply.into_body().collect().await?.to_bytes();
    anyhow::ensure!(status.is_success(), "{alias} answered {status} to {path}");
    Ok(bytes)
}

/// Sends the request on to a worker's unix socket, without the prefix, and its answer back.
async fn forward(shared: &Shared, alias: &str, prefix: &str, request: Request) -> Response {
    let socket = config::worker_socket(&shared.supervisor.config.data_dir, alias);
    let stream = match tokio::net::UnixStream::connect(&socket).await {
        Ok(s) => s,
        Err(_) => {
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("{alias} is not running"),
            )
        }
    };
    let (parts, body) = request.into_parts();
    let rest = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .strip_prefix(prefix)
        .unwrap_or("/")
        .to_string();
    let (mut sender, connection) =
        match hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await {
            Ok(pair) => pair,
            Err(e) => return refuse(StatusCode::BAD_GATEWAY, format!("{alias}: {e}")),
        };
    tokio::spawn(connection);
    let mut inner = hyper::Request::builder()
        .method(parts.method)
        .uri(
            rest.parse::<Uri>()
                .unwrap_or_else(|_| Uri::from_static("/")),
        )
        .header("host", "localhost");
    if let Some(ct) = parts.headers.get("content-type") {
        inner = inner.header("content-type", ct);
    }
    let inner = match inner.body(body) {
        Ok(r) => r,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, e.to_string()),
    };
    match sender.send_request(inner).await {
        Ok(reply) => {
            let (parts, body) = reply.into_parts();
            let bytes: Bytes = body
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(e) => refuse(StatusCode::BAD_GATEWAY, format!("{alias}: {e}")),
    }
}
