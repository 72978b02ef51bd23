//! `/api/v2/compute/hosts/{hostId}/agent...` (also answered under `/compute/...`): a host's
//! OCP agent, its processes, and the tasks that restart or stop them.

use std::time::{Duration, Instant};

use axum::extract::State;
use ocp_api::agent::{ProcessReport, WORKER_ALIASES};
use ocp_api::host::{HostAgent, HostAgentProcess, HostIds, ProcessStatus};
use ocp_api::task::{TaskInstance, TaskStatus};
use ocp_api::{ErrorCode, PageData, PageQuery, Timestamp};
use ocp_store::{AgentProcessRecord, HostRecord};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{perm, Authz, Caller};
use crate::host::steps::{operate_process, AgentOperation};
use crate::http::{ApiJson, ApiPath, ApiQuery, ApiResult, Data, Failure, Paging};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_agent))
        .routes(routes!(restart_agent))
        .routes(routes!(stop_agent))
        .routes(routes!(batch_restart))
        .routes(routes!(batch_stop))
        .routes(routes!(list_processes))
        .routes(routes!(restart_process))
        .routes(routes!(stop_process))
}

/// The host, which must have an agent.
async fn host_with_agent(state: &AppState, host_id: i64) -> Result<HostRecord, Failure> {
    let host = state.store.host(host_id).await?;
    if host.agent.is_none() {
        return Err(Failure::new(
            ErrorCode::StateConflict,
            format!("host {} has no agent yet", host.inner_ip_address),
        ));
    }
    Ok(host)
}

fn process_view(
    host_id: i64,
    row: Option<&AgentProcessRecord>,
    report: &ProcessReport,
    last_active: Option<i64>,
) -> HostAgentProcess {
    let now = chrono::Utc::now().timestamp_millis();
    HostAgentProcess {
        id: row.map(|r| r.id).unwrap_or(0),
        host_id,
        alias: report.alias.clone(),
        pid: report.pid,
        user: report.user.clone(),
        start_command: report.start_command.clone(),
        ports: Some(report.ports.clone()),
        elapsed_time: report.elapsed_seconds,
        last_active_time: last_active.map(Timestamp::from_millis),
        status: report.status,
        operable: report.operable,
        log_file_pattern: report.log_file_pattern.clone(),
        create_time: Timestamp::from_millis(row.map(|r| r.create_time).unwrap_or(now)),
        update_time: Timestamp::from_millis(row.map(|r| r.update_time).unwrap_or(now)),
    }
}

/// The agent's processes: asked of the agent now, else as last reported (then STOPPED if
/// the agent is silent).
async fn processes(state: &AppState, host: &HostRecord) -> Result<Vec<HostAgentProcess>, Failure> {
    let rows = state.store.agent_processes(host.id).await?;
    let row = |alias: &str| rows.iter().find(|r| r.alias == alias);
    match state.agents.status(host.id).await {
        Ok(report) => {
            let now = chrono::Utc::now().timestamp_millis();
            Ok(report
                .processes
                .iter()
                .map(|p| process_view(host.id, row(&p.alias), p, Some(now)))
                .collect())
        }
        Err(e) => {
            tracing::info!(
                host_id = host.id,
                "answering processes as last reported: {e}"
            );
            let mut views = Vec::new();
            for r in &rows {
                let mut report: ProcessReport =
                    serde_json::from_str(&r.report).map_err(Failure::internal)?;
                report.status = ProcessStatus::Stopped;
                report.pid = 0;
                views.push(process_view(host.id, Some(r), &report, r.last_active_time));
            }
            Ok(views)
        }
    }
}

/// A host's OCP agent and its processes.
#[utoipa::path(get, path = "/api/v2/compute/hosts/{hostId}/agent", tag = "agent", params(("hostId" = i64, Path)),
    responses((status = 200, body = HostAgent)))]
async fn get_agent(
    _: Authz<perm::HostRead>,
    State(state): State<AppState>,
    ApiPath(host_id): ApiPath<i64>,
) -> ApiResult<HostAgent> {
    let host = host_with_agent(&state, host_id).await?;
    let processes = processes(&state, &host).await?;
    let agent = host.agent.expect("checked above");
    let manager_up = processes
        .iter()
        .any(|p| p.alias == ocp_api::agent::MANAGER_ALIAS && p.status == ProcessStatus::Started);
    Ok(Data(HostAgent {
        id: agent.id,
        version: agent.version,
        install_home: agent.install_home,
        log_home: agent.log_home,
        last_available_time: agent.last_available_time.map(Timestamp::from_millis),
        host_id,
        host_inner_ip_address: host.inner_ip_address,
        status: if manager_up {
            ProcessStatus::Started
        } else {
            ProcessStatus::Stopped
        },
        processes,
        create_time: Timestamp::from_millis(agent.create_time),
        update_time: Timestamp::from_millis(agent.update_time),
    }))
}

async fn operate(
    state: &AppState,
    caller: &Caller,
    host_id: i64,
    operation: AgentOperation,
) -> ApiResult<TaskInstance> {
    host_with_agent(state, host_id).await?;
    Ok(Data(state.submit(operation.single(host_id), caller).await?))
}

/// Restarts the agent's processes on a host (a task).
#[utoipa::path(post, path = "/api/v2/compute/hosts/{hostId}/agent/restart", tag = "agent", params(("hostId" = i64, Path)),
    responses((status = 200, body = TaskInstance)))]
async fn restart_agent(
    Authz(caller, _): Authz<perm::HostUpdate>,
    State(state): State<AppState>,
    ApiPath(host_id): ApiPath<i64>,
) -> ApiResult<TaskInstance> {
    operate(&state, &caller, host_id, AgentOperation::Restart).await
}

/// Stops the agent's processes on a host (a task); its supervisor stays to start them again.
#[utoipa::path(post, path = "/api/v2/compute/hosts/{hostId}/agent/stop", tag = "agent", params(("hostId" = i64, Path)),
    responses((status = 200, body = TaskInstance)))]
async fn stop_agent(
    Authz(caller, _): Authz<perm::HostUpdate>,
    State(state): State<AppState>,
    ApiPath(host_id): ApiPath<i64>,
) -> ApiResult<TaskInstance> {
    operate(&state, &caller, host_id, AgentOperation::Stop).await
}

async fn batch(
    state: &AppState,
    caller: &Caller,
    body: &HostIds,
    operation: AgentOperation,
) -> ApiResult<TaskInstance> {
    if body.host_ids.is_empty() || body.host_ids.len() > 200 {
        return Err(Failure::field("hostIds", "must name 1 to 200 hosts"));
    }
    let mut seen = std::collections::HashSet::new();
    for id in &body.host_ids {
        if !seen.insert(*id) {
            return Err(Failure::field(
                "hostIds",
                format!("host {id} is listed twice"),
            ));
        }
        host_with_agent(state, *id)
            .await
            .map_err(|f| f.with_field("hostIds"))?;
    }
    Ok(Data(
        state
            .submit(operation.batch(&body.host_ids), caller)
            .await?,
    ))
}

/// Restarts the agents of several hosts at once (one branch per host).
#[utoipa::path(post, path = "/api/v2/compute/hosts/batchRestartAgents", tag = "agent", request_body = HostIds,
    responses((status = 200, body = TaskInstance)))]
async fn batch_restart(
    Authz(caller, _): Authz<perm::HostUpdate>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<HostIds>,
) -> ApiResult<TaskInstance> {
    batch(&state, &caller, &body, AgentOperation::Restart).await
}

/// Stops the agents of several hosts at once (one branch per host).
#[utoipa::path(post, path = "/api/v2/compute/hosts/batchStopAgents", tag = "agent", request_body = HostIds,
    responses((status = 200, body = TaskInstance)))]
async fn batch_stop(
    Authz(caller, _): Authz<perm::HostUpdate>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<HostIds>,
) -> ApiResult<TaskInstance> {
    batch(&state, &caller, &body, AgentOperation::Stop).await
}

/// The agent's processes, read from the host.
#[utoipa::path(get, path = "/api/v2/compute/hosts/{hostId}/agent/processes", tag = "agent",
    params(("hostId" = i64, Path), PageQuery), responses((status = 200, body = PageData<HostAgentProcess>)))]
async fn list_processes(
    _: Authz<perm::HostRead>,
    State(state): State<AppState>,
    ApiPath(host_id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<PageData<HostAgentProcess>> {
    let paging = Paging::parse(&query, &[])?;
    let host = host_with_agent(&state, host_id).await?;
    let all = processes(&state, &host).await?;
    let total = all.len() as i64;
    let page = all
        .into_iter()
        .skip(paging.offset() as usize)
        .take(paging.size as usize)
        .collect();
    Ok(Data(PageData::new(page, total, paging.page, paging.size)))
}

/// Runs the task that restarts or stops one worker and answers the process afterwards, as
/// OCP does; the task stays in the task list for the audit.
async fn operate_process_and_wait(
    state: &AppState,
    caller: &Caller,
    host_id: i64,
    process_id: i64,
    action: &str,
) -> ApiResult<HostAgentProcess> {
    let host = host_with_agent(state, host_id).await?;
    let rows = state.store.agent_processes(host_id).await?;
    let row = rows
        .iter()
        .find(|r| r.id == process_id)
        .ok_or_else(|| Failure::not_found("agent process", process_id))?;
    if !WORKER_ALIASES.contains(&row.alias.as_str()) {
        return Err(Failure::new(
            ErrorCode::StateConflict,
            format!("{} is not operable: restart the agent instead", row.alias),
        ));
    }
    let task = state
        .submit(operate_process(host_id, &row.alias, action), caller)
        .await?;
    let deadline = Instant::now() + Duration::from_secs(150);
    loop {
        let record = state
            .store
            .task(task.id)
            .await?
            .ok_or_else(|| Failure::not_found("task", task.id))?;
        match record.status {
            TaskStatus::Successful => break,
            TaskStatus::Failed => {
                return Err(Failure::new(
                    ErrorCode::AgentUnavailable,
                    format!("task {} failed; see its log", task.id),
                ))
            }
            TaskStatus::Running if Instant::now() > deadline => {
                return Err(Failure::new(
                    ErrorCode::AgentUnavailable,
                    format!("task {} is still running", task.id),
                ))
            }
            TaskStatus::Running => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    processes(state, &host)
        .await?
        .into_iter()
        .find(|p| p.id == process_id)
        .map(Data)
        .ok_or_else(|| Failure::not_found("agent process", process_id))
}

/// Restarts one worker process of the agent.
#[utoipa::path(post, path = "/api/v2/compute/hosts/{hostId}/agent/processes/{agentProcessId}/restart", tag = "agent",
    params(("hostId" = i64, Path), ("agentProcessId" = i64, Path)), responses((status = 200, body = HostAgentProcess)))]
async fn restart_process(
    Authz(caller, _): Authz<perm::HostUpdate>,
    State(state): State<AppState>,
    ApiPath((host_id, process_id)): ApiPath<(i64, i64)>,
) -> ApiResult<HostAgentProcess> {
    operate_process_and_wait(&state, &caller, host_id, process_id, "restart").await
}

/// Stops one worker process of the agent.
#[utoipa::path(post, path = "/api/v2/compute/hosts/{hostId}/agent/processes/{agentProcessId}/stop", tag = "agent",
    params(("hostId" = i64, Path), ("agentProcessId" = i64, Path)), responses((status = 200, body = HostAgentProcess)))]
async fn stop_process(
    Authz(caller, _): Authz<perm::HostUpdate>,
    State(state): State<AppState>,
    ApiPath((host_id, process_id)): ApiPath<(i64, i64)>,
) -> ApiResult<HostAgentProcess> {
    operate_process_and_wait(&state, &caller, host_id, process_id, "stop").await
}
