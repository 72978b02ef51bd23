//! `GET /api/v2/tasks/instances/{id}/events` (our addition): a task's progress as
//! Server-Sent Events, from the metadb's `task_event` stream, so any server of an HA group
//! serves it and a client resumes with `Last-Event-ID` where it left off.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::Response;
use ocp_api::task::{TaskEvent, TaskStatus};
use ocp_api::Timestamp;
use ocp_store::{Store, TaskEventRecord};
use serde_json::json;

use crate::auth::{perm, Authz};
use crate::http::{ApiPath, Failure};
use crate::state::AppState;

/// How often a stream looks for new events.
const POLL: Duration = Duration::from_millis(100);
const BATCH: i64 = 500;

/// Every status change of the task and its subtasks and every log line, oldest first, each
/// with its event id. Ends with `event: end` once the task has finished (SUCCESSFUL or
/// FAILED) and all its events are sent; a FAILED task retried later has a new stream.
#[utoipa::path(get, path = "/api/v2/tasks/instances/{taskInstanceId}/events", tag = "tasks",
    params(("taskInstanceId" = i64, Path, description = "task id"),
        ("Last-Event-ID" = Option<i64>, Header, description = "send only the events after this one")),
    responses((status = 200, content_type = "text/event-stream", body = TaskEvent,
        description = "`id:` the event id, `event:` task, subtask or log, `data:` the event"),
        (status = 404, description = "code 20000: no such task")))]
pub async fn task_events(
    _: Authz<perm::TaskRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
) -> Result<Response, Failure> {
    super::tasks::load_task(&state, id).await?;
    let after = match headers.get("last-event-id") {
        None => 0,
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|v| *v >= 0)
            .ok_or_else(|| Failure::field("Last-Event-ID", "must be an event id"))?,
    };
    let cursor = Cursor {
        store: state.store.clone(),
        task_id: id,
        after,
        pending: VecDeque::new(),
        ended: false,
    };
    let stream = futures::stream::unfold(cursor, |mut cursor| async move {
        let event = cursor.next().await?;
        Some((Ok::<_, Infallible>(event), cursor))
    });
    // Not enveloped: the stream is the answer.
    Ok(crate::http::raw(
        Sse::new(stream).keep_alive(KeepAlive::default()),
    ))
}

struct Cursor {
    store: Store,
    task_id: i64,
    after: i64,
    pending: VecDeque<Event>,
    ended: bool,
}

impl Cursor {
    /// The next event to send; `None` ends the stream (finished, or the metadb failed: the
    /// client resumes from its last event id).
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            if self.ended {
                return None;
            }
            let batch = match self
                .store
                .task_events(self.task_id, self.after, BATCH)
                .await
            {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(task = self.task_id, error = %e, "task event stream ends");
                    return None;
                }
            };
            if batch.is_empty() {
                if let Some(end) = self.end().await? {
                    self.ended = true;
                    return Some(end);
                }
                tokio::time::sleep(POLL).await;
            }
            for record in batch {
                self.after = record.id;
                self.pending.push_back(sse(&record));
            }
        }
    }

    /// `event: end` when the task has finished and every event of it has been sent.
    async fn end(&self) -> Option<Option<Event>> {
        let task = self.store.task(self.task_id).await.ok()??;
        if task.status == TaskStatus::Running {
            return Some(None);
        }
        if self.store.last_task_event(self.task_id).await.ok()? > self.after {
            return Some(None);
        }
        let data = json!({"taskId": self.task_id, "status": task.status});
        Some(Some(Event::default().event("end").data(data.to_string())))
    }
}

fn sse(record: &TaskEventRecord) -> Event {
    let event = TaskEvent {
        id: record.id,
        kind: record.kind,
        task_id: record.task_id,
        subtask_id: record.subtask_id,
        subtask_name: record.subtask_name.clone(),
        status: record.status.clone(),
        operation: record.operation,
        line: record.line.clone(),
        time: Timestamp::from_millis(record.create_time),
    };
    Event::default()
        .id(record.id.to_string())
        .event(record.kind.as_str().to_ascii_lowercase())
        .data(serde_json::to_string(&event).unwrap_or_default())
}
