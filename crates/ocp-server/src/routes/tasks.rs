//! `/api/v2/tasks/instances`: tasks, their subtasks, logs and the operator transitions.

use axum::extract::State;
use ocp_api::obdb::SYS_TENANT_ID;
use ocp_api::task::{
    BasicTaskInstance, SubtaskInstance, SubtaskLog, TaskFilter, TaskInstance, TaskStatus, TaskType,
};
use ocp_api::{PageData, PageQuery, SortOrder};
use ocp_store::{SubtaskRecord, TaskListFilter, TaskRecord};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{perm, Authz};
use crate::http::{parse_id, ApiPath, ApiQuery, ApiResult, Data, Failure, NoData, Paging};
use crate::state::AppState;
use crate::task_view::{basic_view, subtask_view, task_view};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tasks))
        .routes(routes!(get_task))
        .routes(routes!(super::task_events::task_events))
        .routes(routes!(retry_task))
        .routes(routes!(rollback_task))
        .routes(routes!(get_subtask))
        .routes(routes!(subtask_log))
        .routes(routes!(retry_subtask))
        .routes(routes!(skip_subtask))
        .routes(routes!(cancel_subtask))
}

pub(crate) async fn load_task(state: &AppState, id: i64) -> Result<TaskRecord, Failure> {
    state.store.task(id).await?.ok_or_else(|| {
        Failure::new(
            ocp_api::ErrorCode::TaskNotExists,
            format!("task {id} does not exist"),
        )
    })
}

const SORTABLE: &[(&str, &str)] = &[
    ("id", "id"),
    ("name", "name"),
    ("status", "status"),
    ("createTime", "create_time"),
    ("startTime", "start_time"),
    ("finishTime", "finish_time"),
];

/// Lists tasks, newest first unless sorted otherwise.
#[utoipa::path(get, path = "/api/v2/tasks/instances", tag = "tasks",
    params(PageQuery, TaskFilter),
    responses((status = 200, description = "a page of tasks in the envelope", body = PageData<BasicTaskInstance>)))]
async fn list_tasks(
    _: Authz<perm::TaskRead>,
    State(state): State<AppState>,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<TaskFilter>,
) -> ApiResult<PageData<BasicTaskInstance>> {
    let paging = Paging::parse(&page, SORTABLE)?;
    let status = filter
        .status
        .as_deref()
        .map(|s| {
            TaskStatus::parse(s).ok_or_else(|| {
                Failure::field(
                    "status",
                    format!("must be RUNNING, FAILED or SUCCESSFUL, not {s:?}"),
                )
            })
        })
        .transpose()?;
    let task_type = filter
        .task_type
        .as_deref()
        .map(|s| {
            TaskType::parse(s).ok_or_else(|| {
                Failure::field(
                    "type",
                    format!("must be MANUAL, SYS_ONECE, SCHEDULED or SYS_SCHEDULED, not {s:?}"),
                )
            })
        })
        .transpose()?;
    let mut tenant_id = parse_id("tenantId", &filter.tenant_id)?;
    if let Some(name) = filter.tenant_name.as_deref().map(str::to_lowercase) {
        // seekdb's clusters have one tenant, sys (id 1): another name matches no task.
        if !"sys".contains(name.as_str()) || tenant_id.is_some_and(|t| t != SYS_TENANT_ID) {
            return Ok(Data(PageData::new(Vec::new(), 0, paging.page, paging.size)));
        }
        tenant_id = Some(SYS_TENANT_ID);
    }
    let store_filter = TaskListFilter {
        name: filter.name.clone(),
        cluster_name: filter.cluster_name.clone().filter(|n| !n.is_empty()),
        status,
        task_type,
        cluster_id: parse_id("clusterId", &filter.cluster_id)?,
        tenant_id,
        host_id: parse_id("hostId", &filter.host_id)?,
        created_from: crate::http::time_millis("startTime", &filter.start_time)?,
        created_to: crate::http::time_millis("endTime", &filter.end_time)?,
    };
    let (column, order) = paging
        .sort
        .clone()
        .unwrap_or(("id".into(), SortOrder::Desc));
    let (tasks, total) = state
        .store
        .list_tasks(
            &store_filter,
            paging.offset(),
            paging.size,
            &column,
            order == SortOrder::Desc,
        )
        .await?;
    let clusters = state
        .store
        .clusters()
        .await?
        .into_iter()
        .map(|c| (c.id, (c.name, c.cluster_type)))
        .collect();
    Ok(Data(PageData::new(
        tasks.iter().map(|t| basic_view(t, &clusters)).collect(),
        total,
        paging.page,
        paging.size,
    )))
}

/// A task with its subtasks.
#[utoipa::path(get, path = "/api/v2/tasks/instances/{taskInstanceId}", tag = "tasks",
    params(("taskInstanceId" = i64, Path, description = "task id")),
    responses((status = 200, body = TaskInstance), (status = 404, description = "code 20000: no such task")))]
async fn get_task(
    _: Authz<perm::TaskRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<TaskInstance> {
    Ok(Data(task_view(&load_task(&state, id).await?)))
}

/// Runs the failed subtasks of a failed task again.
#[utoipa::path(post, path = "/api/v2/tasks/instances/{taskInstanceId}/retry", tag = "tasks",
    params(("taskInstanceId" = i64, Path, description = "task id")),
    responses((status = 200, body = TaskInstance), (status = 400, description = "code 20003: the task is not FAILED")))]
async fn retry_task(
    _: Authz<perm::TaskUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<TaskInstance> {
    state.store.retry_task(id).await?;
    state.engine.wake();
    Ok(Data(task_view(&load_task(&state, id).await?)))
}

/// Undoes the subtasks of a failed task that ran, the last first.
#[utoipa::path(post, path = "/api/v2/tasks/instances/{taskInstanceId}/rollback", tag = "tasks",
    params(("taskInstanceId" = i64, Path, description = "task id")),
    responses((status = 200, body = TaskInstance),
        (status = 400, description = "code 20003: not a FAILED task; code 20004: a subtask that ran prohibits rollback")))]
async fn rollback_task(
    _: Authz<perm::TaskUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<TaskInstance> {
    state.store.rollback_task(id).await?;
    state.engine.wake();
    Ok(Data(task_view(&load_task(&state, id).await?)))
}

async fn load_subtask(
    state: &AppState,
    task_id: i64,
    subtask_id: i64,
) -> Result<SubtaskRecord, Failure> {
    load_task(state, task_id).await?;
    state
        .store
        .subtask(task_id, subtask_id)
        .await?
        .ok_or_else(|| Failure::not_found(&format!("subtask of task {task_id}"), subtask_id))
}

/// One subtask.
#[utoipa::path(get, path = "/api/v2/tasks/instances/{taskInstanceId}/subtasks/{subtaskInstanceId}", tag = "tasks",
    params(("taskInstanceId" = i64, Path), ("subtaskInstanceId" = i64, Path)),
    responses((status = 200, body = SubtaskInstance)))]
async fn get_subtask(
    _: Authz<perm::TaskRead>,
    State(state): State<AppState>,
    ApiPath((task_id, subtask_id)): ApiPath<(i64, i64)>,
) -> ApiResult<SubtaskInstance> {
    Ok(Data(subtask_view(
        &load_subtask(&state, task_id, subtask_id).await?,
    )))
}

/// A subtask's log, every run of it, lines separated by `\n`.
#[utoipa::path(get, path = "/api/v2/tasks/instances/{taskInstanceId}/subtasks/{subtaskInstanceId}/log", tag = "tasks",
    params(("taskInstanceId" = i64, Path), ("subtaskInstanceId" = i64, Path)),
    responses((status = 200, body = SubtaskLog)))]
async fn subtask_log(
    _: Authz<perm::TaskRead>,
    State(state): State<AppState>,
    ApiPath((task_id, subtask_id)): ApiPath<(i64, i64)>,
) -> ApiResult<SubtaskLog> {
    load_subtask(&state, task_id, subtask_id).await?;
    Ok(Data(SubtaskLog {
        log: state.store.subtask_log(subtask_id).await?,
    }))
}

/// Runs a failed subtask again.
#[utoipa::path(post, path = "/api/v2/tasks/instances/{taskInstanceId}/subtasks/{subtaskInstanceId}/retry", tag = "tasks",
    params(("taskInstanceId" = i64, Path), ("subtaskInstanceId" = i64, Path)),
    responses((status = 200, body = SubtaskInstance), (status = 400, description = "code 20003: the subtask is not FAILED")))]
async fn retry_subtask(
    _: Authz<perm::TaskUpdate>,
    State(state): State<AppState>,
    ApiPath((task_id, subtask_id)): ApiPath<(i64, i64)>,
) -> ApiResult<SubtaskInstance> {
    state.store.retry_subtask(task_id, subtask_id).await?;
    state.engine.wake();
    Ok(Data(subtask_view(
        &load_subtask(&state, task_id, subtask_id).await?,
    )))
}

/// Marks a failed subtask successful without running it.
#[utoipa::path(post, path = "/api/v2/tasks/instances/{taskInstanceId}/subtasks/{subtaskInstanceId}/skip", tag = "tasks",
    params(("taskInstanceId" = i64, Path), ("subtaskInstanceId" = i64, Path)),
    responses((status = 200, description = "skipped (no data)"), (status = 400, description = "code 20003: the subtask is not FAILED")))]
async fn skip_subtask(
    _: Authz<perm::TaskUpdate>,
    State(state): State<AppState>,
    ApiPath((task_id, subtask_id)): ApiPath<(i64, i64)>,
) -> Result<NoData, Failure> {
    state.store.skip_subtask(task_id, subtask_id).await?;
    state.engine.wake();
    Ok(NoData)
}

/// Stops a running subtask; it ends FAILED with operation CANCEL.
#[utoipa::path(post, path = "/api/v2/tasks/instances/{taskInstanceId}/subtasks/{subtaskInstanceId}/cancel", tag = "tasks",
    params(("taskInstanceId" = i64, Path), ("subtaskInstanceId" = i64, Path)),
    responses((status = 200, description = "cancellation requested (no data)"),
        (status = 400, description = "code 20003: the subtask is neither RUNNING nor READY")))]
async fn cancel_subtask(
    _: Authz<perm::TaskUpdate>,
    State(state): State<AppState>,
    ApiPath((task_id, subtask_id)): ApiPath<(i64, i64)>,
) -> Result<NoData, Failure> {
    state.store.cancel_subtask(task_id, subtask_id).await?;
    state.engine.cancel_local(subtask_id);
    Ok(NoData)
}
