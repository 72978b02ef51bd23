//! The event stream of a task: status changes of the task and its subtasks and their log
//! lines, in the order they happened. Triggers (migration 0005) write `task_event`; this
//! only reads it.

use ocp_api::task::{Operation, TaskEventKind};
use sqlx::Row;

use crate::decode::{enum_field, optional_enum_field};
use crate::{Dialect, Result, Store};

/// One entry of a task's event stream.
#[derive(Debug, Clone)]
pub struct TaskEventRecord {
    pub id: i64,
    pub task_id: i64,
    pub subtask_id: Option<i64>,
    pub subtask_name: Option<String>,
    pub kind: TaskEventKind,
    /// The task's or the subtask's new status.
    pub status: Option<String>,
    pub operation: Option<Operation>,
    pub line: Option<String>,
    pub create_time: i64,
}

impl Store {
    /// The events of `task_id` after event `after`, oldest first, at most `limit`.
    ///
    /// On PostgreSQL several servers write, and an id is taken before its transaction
    /// commits, so an event with a smaller id can become visible after a larger one. Only
    /// events at least a second old are answered there, so that a reader that has moved past
    /// an id never skips one that committed late.
    pub async fn task_events(
        &self,
        task_id: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<TaskEventRecord>> {
        let settled = match self.dialect {
            Dialect::Sqlite => "",
            Dialect::Postgres => "AND e.create_time <= task_event_now() - 1000",
        };
        let text = format!(
            "SELECT e.id, e.task_id, e.subtask_id, s.name, e.kind AS kind, e.status, \
                    e.operation AS operation, l.line, e.create_time \
               FROM task_event e \
               LEFT JOIN subtask_instance s ON s.id = e.subtask_id \
               LEFT JOIN subtask_log l ON l.id = e.log_id \
              WHERE e.task_id = ? AND e.id > ? {settled} \
              ORDER BY e.id LIMIT ?"
        );
        let rows = sqlx::query(&self.sql(&text))
            .bind(task_id)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(TaskEventRecord {
                    id: row.try_get(0)?,
                    task_id: row.try_get(1)?,
                    subtask_id: row.try_get(2)?,
                    subtask_name: row.try_get(3)?,
                    kind: enum_field(row, "kind", TaskEventKind::parse)?,
                    status: row.try_get(5)?,
                    operation: optional_enum_field(row, "operation", Operation::parse)?,
                    line: row.try_get(7)?,
                    create_time: row.try_get(8)?,
                })
            })
            .collect()
    }

    /// The id of the task's newest event, committed or settling; 0 when it has none.
    pub async fn last_task_event(&self, task_id: i64) -> Result<i64> {
        let id: Option<i64> =
            sqlx::query_scalar(&self.sql("SELECT MAX(id) FROM task_event WHERE task_id = ?"))
                .bind(task_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(id.unwrap_or(0))
    }
}
