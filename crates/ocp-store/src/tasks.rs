//! Tasks and subtasks: creation, leased claiming, completion and the operator transitions.
//!
//! The DAG's state lives entirely in these rows. A subtask runs only while its executor holds
//! a lease (`lease_owner`, `lease_expiry`); a lease that is not renewed expires and any server
//! may claim the subtask again. Every transition is one transaction that ends by recomputing
//! the task's status from its subtasks, so a task's status never disagrees with them.

use std::collections::HashMap;

use ocp_api::task::{Operation, SubtaskStatus, TaskContext, TaskStatus, TaskType};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::decode::enum_field;
use crate::hosts::placeholders;
use crate::{flag, now_millis, Dialect, Result, Store, StoreError};

#[derive(Debug, Clone)]
pub struct NewTask {
    pub name: String,
    pub task_type: TaskType,
    pub creator_id: i64,
    pub creator_name: String,
    pub executor: String,
    pub context: TaskContext,
    pub cluster_id: Option<i64>,
    pub tenant_id: Option<i64>,
    pub host_id: Option<i64>,
    pub prohibit_rollback: bool,
    pub subtasks: Vec<NewSubtask>,
}

#[derive(Debug, Clone)]
pub struct NewSubtask {
    pub name: String,
    pub description: String,
    pub class_name: String,
    pub series_id: i64,
    pub parallel_idx: i32,
    pub timeout_secs: i64,
    pub prohibit_rollback: bool,
    pub node_type: String,
    /// Indexes into [`NewTask::subtasks`] of the subtasks this one waits for.
    pub upstreams: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct TaskRecord {
    pub id: i64,
    pub name: String,
    pub task_type: TaskType,
    pub status: TaskStatus,
    pub operation: Operation,
    pub creator_id: i64,
    pub creator_name: String,
    pub executor: String,
    pub context: TaskContext,
    pub cluster_id: Option<i64>,
    pub tenant_id: Option<i64>,
    pub host_id: Option<i64>,
    pub prohibit_rollback: bool,
    pub task_definition_id: i64,
    pub create_time: i64,
    pub start_time: Option<i64>,
    pub finish_time: Option<i64>,
    pub subtasks: Vec<SubtaskRecord>,
}

#[derive(Debug, Clone)]
pub struct SubtaskRecord {
    pub id: i64,
    pub task_id: i64,
    pub name: String,
    pub description: String,
    pub class_name: String,
    pub series_id: i64,
    pub parallel_idx: i32,
    pub timeout_secs: i64,
    pub status: SubtaskStatus,
    pub operation: Operation,
    pub executor: Option<String>,
    pub run_time: i32,
    pub context: Option<String>,
    pub node_type: String,
    pub prohibit_rollback: bool,
    pub upstreams: Vec<i64>,
    pub downstreams: Vec<i64>,
    pub lease_owner: Option<String>,
    pub lease_expiry: Option<i64>,
    pub create_time: i64,
    pub start_time: Option<i64>,
    pub finish_time: Option<i64>,
}

/// A subtask this executor now holds the lease of.
#[derive(Debug, Clone)]
pub struct ClaimedSubtask {
    pub id: i64,
    pub task_id: i64,
    pub name: String,
    pub class_name: String,
    pub operation: Operation,
    pub timeout_secs: i64,
    /// 1 on the first run; more after a retry or after taking over from a dead executor.
    pub run_time: i32,
    /// Branch of a parallel fan-out, -1 outside one.
    pub parallel_idx: i32,
    /// The task's context as the claim found it.
    pub context: TaskContext,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishOutcome {
    Succeeded,
    Failed(String),
    Cancelled,
}

#[derive(Debug, Clone, Default)]
pub struct TaskListFilter {
    pub name: Option<String>,
    /// Part of the name of the task's cluster, in any case.
    pub cluster_name: Option<String>,
    pub status: Option<TaskStatus>,
    pub task_type: Option<TaskType>,
    pub cluster_id: Option<i64>,
    pub tenant_id: Option<i64>,
    pub host_id: Option<i64>,
    /// Created at or after, at or before (milliseconds).
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
}

/// Why an operator's transition was refused.
#[derive(Debug, thiserror::Error)]
pub enum TransitionError {
    #[error("task {0} does not exist")]
    TaskNotFound(i64),
    #[error("subtask {subtask_id} does not exist in task {task_id}")]
    SubtaskNotFound { task_id: i64, subtask_id: i64 },
    #[error("{0}")]
    InvalidState(String),
    #[error("{0}")]
    ProhibitRollback(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for TransitionError {
    fn from(e: sqlx::Error) -> Self {
        TransitionError::Store(StoreError::Database(e))
    }
}

/// The outcome of renewing this executor's leases.
#[derive(Debug, Clone, Default)]
pub struct LeaseRenewal {
    /// Subtasks an operator asked to cancel.
    pub canceling: Vec<i64>,
    /// Subtasks whose lease this executor no longer holds: it must stop working on them.
    pub lost: Vec<i64>,
}

pub(crate) fn json_field<T: serde::de::DeserializeOwned>(row: &AnyRow, column: &str) -> Result<T> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

fn task_from_row(row: &AnyRow) -> Result<TaskRecord> {
    Ok(TaskRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        task_type: enum_field(row, "task_type", TaskType::parse)?,
        status: enum_field(row, "status", TaskStatus::parse)?,
        operation: enum_field(row, "operation", Operation::parse)?,
        creator_id: row.try_get("creator_id")?,
        creator_name: row.try_get("creator_name")?,
        executor: row.try_get("executor")?,
        context: json_field(row, "context")?,
        cluster_id: row.try_get("cluster_id")?,
        tenant_id: row.try_get("tenant_id")?,
        host_id: row.try_get("host_id")?,
        prohibit_rollback: row.try_get::<i64, _>("prohibit_rollback")? != 0,
        task_definition_id: row.try_get("task_definition_id")?,
        create_time: row.try_get("create_time")?,
        start_time: row.try_get("start_time")?,
        finish_time: row.try_get("finish_time")?,
        subtasks: Vec::new(),
    })
}

fn subtask_from_row(row: &AnyRow) -> Result<SubtaskRecord> {
    Ok(SubtaskRecord {
        id: row.try_get("id")?,
        task_id: row.try_get("task_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        class_name: row.try_get("class_name")?,
        series_id: row.try_get("series_id")?,
        parallel_idx: row.try_get::<i64, _>("parallel_idx")? as i32,
        timeout_secs: row.try_get("timeout_secs")?,
        status: enum_field(row, "status", SubtaskStatus::parse)?,
        operation: enum_field(row, "operation", Operation::parse)?,
        executor: row.try_get("executor")?,
        run_time: row.try_get::<i64, _>("run_time")? as i32,
        context: row.try_get("context")?,
        node_type: row.try_get("node_type")?,
        prohibit_rollback: row.try_get::<i64, _>("prohibit_rollback")? != 0,
        upstreams: json_field(row, "upstreams")?,
        downstreams: json_field(row, "downstreams")?,
        lease_owner: row.try_get("lease_owner")?,
        lease_expiry: row.try_get("lease_expiry")?,
        create_time: row.try_get("create_time")?,
        start_time: row.try_get("start_time")?,
        finish_time: row.try_get("finish_time")?,
    })
}

fn ids_json(ids: &[i64]) -> String {
    serde_json::to_string(ids).expect("ids serialize")
}

impl Store {
    /// Persists a task and its DAG. Subtasks without upstreams start READY.
    pub async fn create_task(&self, task: &NewTask) -> Result<i64> {
        Ok(self.create_task_record(task).await?.id)
    }

    /// [`Self::create_task`], answering the task as written (what [`Self::task`] would
    /// read back before anything ran, without reading it).
    pub async fn create_task_record(&self, task: &NewTask) -> Result<TaskRecord> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let record = self.insert_task_record(&mut tx, task).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Writes a task and its subtasks in the caller's transaction, so a domain row and the
    /// task that acts on it are written together or not at all.
    pub(crate) async fn insert_task(
        &self,
        tx: &mut Transaction<'static, Any>,
        task: &NewTask,
    ) -> Result<i64> {
        Ok(self.insert_task_record(tx, task).await?.id)
    }

    async fn insert_task_record(
        &self,
        tx: &mut Transaction<'static, Any>,
        task: &NewTask,
    ) -> Result<TaskRecord> {
        let now = now_millis();
        let task_id: i64 = sqlx::query_scalar(&self.sql(
            "INSERT INTO task_instance (name, task_type, status, operation, creator_id, creator_name, \
             executor, context, cluster_id, tenant_id, host_id, prohibit_rollback, task_definition_id, \
             create_time, start_time) VALUES (?, ?, 'RUNNING', 'EXECUTE', ?, ?, ?, ?, ?, ?, ?, ?, -1, ?, ?) \
             RETURNING id",
        ))
        .bind(&task.name)
        .bind(task.task_type.as_str())
        .bind(task.creator_id)
        .bind(&task.creator_name)
        .bind(&task.executor)
        .bind(serde_json::to_string(&task.context).expect("context serializes"))
        .bind(task.cluster_id)
        .bind(task.tenant_id)
        .bind(task.host_id)
        .bind(flag(task.prohibit_rollback))
        .bind(now)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;

        // Upstreams come first in a template, so each subtask is written with its upstreams;
        // the downstreams (and any upstream written later) follow in one statement.
        let mut ids: Vec<i64> = Vec::with_capacity(task.subtasks.len());
        let mut late = Vec::new();
        for (i, sub) in task.subtasks.iter().enumerate() {
            let status = if sub.upstreams.is_empty() {
                "READY"
            } else {
                "PENDING"
            };
            let known: Option<Vec<i64>> =
                sub.upstreams.iter().map(|&u| ids.get(u).copied()).collect();
            if known.is_none() {
                late.push(i);
            }
            let id: i64 = sqlx::query_scalar(&self.sql(
                "INSERT INTO subtask_instance (task_id, name, description, class_name, series_id, \
                 parallel_idx, timeout_secs, status, operation, run_time, node_type, prohibit_rollback, \
                 upstreams, downstreams, create_time) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'EXECUTE', 0, ?, ?, ?, '[]', ?) RETURNING id",
            ))
            .bind(task_id)
            .bind(&sub.name)
            .bind(&sub.description)
            .bind(&sub.class_name)
            .bind(sub.series_id)
            .bind(i64::from(sub.parallel_idx))
            .bind(sub.timeout_secs)
            .bind(status)
            .bind(&sub.node_type)
            .bind(flag(sub.prohibit_rollback))
            .bind(ids_json(&known.unwrap_or_default()))
            .bind(now)
            .fetch_one(&mut **tx)
            .await?;
            ids.push(id);
        }
        let mut downstreams: Vec<Vec<i64>> = vec![Vec::new(); ids.len()];
        for (i, sub) in task.subtasks.iter().enumerate() {
            for &up in &sub.upstreams {
                let slot = downstreams.get_mut(up).ok_or_else(|| {
                    StoreError::Corrupt(format!("subtask {i} waits for unknown subtask {up}"))
                })?;
                slot.push(ids[i]);
            }
        }
        let links: Vec<(i64, String, String)> = (0..ids.len())
            .filter(|&i| !downstreams[i].is_empty() || late.contains(&i))
            .map(|i| {
                let upstreams: Vec<i64> =
                    task.subtasks[i].upstreams.iter().map(|&u| ids[u]).collect();
                (ids[i], ids_json(&upstreams), ids_json(&downstreams[i]))
            })
            .collect();
        for chunk in links.chunks(200) {
            let cases = " WHEN ? THEN ?".repeat(chunk.len());
            let marks = placeholders(chunk.len());
            let text = format!(
                "UPDATE subtask_instance SET upstreams = CASE id{cases} END, \
                 downstreams = CASE id{cases} END WHERE id IN ({marks})"
            );
            let sql = self.sql(&text);
            let mut query = sqlx::query(&sql);
            for (id, upstreams, _) in chunk {
                query = query.bind(*id).bind(upstreams.as_str());
            }
            for (id, _, downstreams) in chunk {
                query = query.bind(*id).bind(downstreams.as_str());
            }
            for (id, _, _) in chunk {
                query = query.bind(*id);
            }
            query.execute(&mut **tx).await?;
        }
        // Servers sharing the metadb start on it at once, not at their next poll.
        self.announce_ready(tx).await?;
        let subtasks = task
            .subtasks
            .iter()
            .enumerate()
            .map(|(i, sub)| SubtaskRecord {
                id: ids[i],
                task_id,
                name: sub.name.clone(),
                description: sub.description.clone(),
                class_name: sub.class_name.clone(),
                series_id: sub.series_id,
                parallel_idx: sub.parallel_idx,
                timeout_secs: sub.timeout_secs,
                status: if sub.upstreams.is_empty() {
                    SubtaskStatus::Ready
                } else {
                    SubtaskStatus::Pending
                },
                operation: Operation::Execute,
                executor: None,
                run_time: 0,
                context: None,
                node_type: sub.node_type.clone(),
                prohibit_rollback: sub.prohibit_rollback,
                upstreams: sub.upstreams.iter().map(|&u| ids[u]).collect(),
                downstreams: downstreams[i].clone(),
                lease_owner: None,
                lease_expiry: None,
                create_time: now,
                start_time: None,
                finish_time: None,
            })
            .collect();
        Ok(TaskRecord {
            id: task_id,
            name: task.name.clone(),
            task_type: task.task_type,
            status: TaskStatus::Running,
            operation: Operation::Execute,
            creator_id: task.creator_id,
            creator_name: task.creator_name.clone(),
            executor: task.executor.clone(),
            context: task.context.clone(),
            cluster_id: task.cluster_id,
            tenant_id: task.tenant_id,
            host_id: task.host_id,
            prohibit_rollback: task.prohibit_rollback,
            task_definition_id: -1,
            create_time: now,
            start_time: Some(now),
            finish_time: None,
            subtasks,
        })
    }

    pub async fn task(&self, id: i64) -> Result<Option<TaskRecord>> {
        let Some(row) = sqlx::query(&self.sql("SELECT * FROM task_instance WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let mut task = task_from_row(&row)?;
        task.subtasks = self.subtasks_of(&[id]).await?;
        Ok(Some(task))
    }

    async fn subtasks_of(&self, task_ids: &[i64]) -> Result<Vec<SubtaskRecord>> {
        if task_ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks = placeholders(task_ids.len());
        let text = format!("SELECT * FROM subtask_instance WHERE task_id IN ({marks}) ORDER BY id");
        let sql = self.sql(&text);
        let mut query = sqlx::query(&sql);
        for id in task_ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(subtask_from_row).collect()
    }

    pub async fn subtask(&self, task_id: i64, subtask_id: i64) -> Result<Option<SubtaskRecord>> {
        let row =
            sqlx::query(&self.sql("SELECT * FROM subtask_instance WHERE id = ? AND task_id = ?"))
                .bind(subtask_id)
                .bind(task_id)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(subtask_from_row).transpose()
    }

    /// A page of tasks with their subtasks, and the total count.
    pub async fn list_tasks(
        &self,
        filter: &TaskListFilter,
        offset: i64,
        limit: i64,
        sort_column: &str,
        descending: bool,
    ) -> Result<(Vec<TaskRecord>, i64)> {
        let column = match sort_column {
            "name" | "status" | "create_time" | "start_time" | "finish_time" => sort_column,
            _ => "id",
        };
        let mut clauses = Vec::new();
        if filter.name.is_some() {
            clauses.push("name LIKE ?");
        }
        if filter.cluster_name.is_some() {
            clauses.push("cluster_id IN (SELECT id FROM ob_cluster WHERE LOWER(name) LIKE ?)");
        }
        if filter.status.is_some() {
            clauses.push("status = ?");
        }
        if filter.task_type.is_some() {
            clauses.push("task_type = ?");
        }
        if filter.cluster_id.is_some() {
            clauses.push("cluster_id = ?");
        }
        if filter.tenant_id.is_some() {
            clauses.push("tenant_id = ?");
        }
        if filter.host_id.is_some() {
            clauses.push("host_id = ?");
        }
        if filter.created_from.is_some() {
            clauses.push("create_time >= ?");
        }
        if filter.created_to.is_some() {
            clauses.push("create_time <= ?");
        }
        let where_clause = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let dir = if descending { "DESC" } else { "ASC" };
        let list_text = format!(
            "SELECT * FROM task_instance {where_clause} ORDER BY {column} {dir}, id {dir} LIMIT ? OFFSET ?"
        );
        let count_text = format!("SELECT COUNT(*) FROM task_instance {where_clause}");
        let (list_sql, count_sql) = (self.sql(&list_text), self.sql(&count_text));
        let mut list = sqlx::query(&list_sql);
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        let lower = filter.cluster_name.as_ref().map(|n| n.to_lowercase());
        for name in [&filter.name, &lower].into_iter().flatten() {
            let pattern = format!("%{}%", name.replace('%', "\\%"));
            list = list.bind(pattern.clone());
            count = count.bind(pattern);
        }
        for text in [
            filter.status.map(|s| s.as_str()),
            filter.task_type.map(|t| t.as_str()),
        ]
        .into_iter()
        .flatten()
        {
            list = list.bind(text);
            count = count.bind(text);
        }
        for id in [
            filter.cluster_id,
            filter.tenant_id,
            filter.host_id,
            filter.created_from,
            filter.created_to,
        ]
        .into_iter()
        .flatten()
        {
            list = list.bind(id);
            count = count.bind(id);
        }
        let rows = list.bind(limit).bind(offset).fetch_all(&self.pool).await?;
        let total = count.fetch_one(&self.pool).await?;
        let mut tasks: Vec<TaskRecord> = rows.iter().map(task_from_row).collect::<Result<_>>()?;
        let ids: Vec<i64> = tasks.iter().map(|t| t.id).collect();
        let mut by_task: HashMap<i64, Vec<SubtaskRecord>> = HashMap::new();
        for sub in self.subtasks_of(&ids).await? {
            by_task.entry(sub.task_id).or_default().push(sub);
        }
        for task in &mut tasks {
            task.subtasks = by_task.remove(&task.id).unwrap_or_default();
        }
        Ok((tasks, total))
    }

    /// Marks READY what the success of `done_id` unblocks: its downstreams when executing,
    /// its upstreams when rolling back (undo runs the DAG in reverse).
    pub(crate) async fn promote_after(
        &self,
        tx: &mut Transaction<'static, Any>,
        task_id: i64,
        done_id: i64,
        rolling_back: bool,
    ) -> Result<()> {
        let done: String = sqlx::query_scalar(&self.sql(if rolling_back {
            "SELECT upstreams FROM subtask_instance WHERE id = ?"
        } else {
            "SELECT downstreams FROM subtask_instance WHERE id = ?"
        }))
        .bind(done_id)
        .fetch_one(&mut **tx)
        .await?;
        let candidates: Vec<i64> = serde_json::from_str(&done)
            .map_err(|e| StoreError::Corrupt(format!("subtask links: {e}")))?;
        let candidates: Vec<(i64, i64)> = candidates.into_iter().map(|c| (task_id, c)).collect();
        self.promote(tx, &candidates, rolling_back).await?;
        Ok(())
    }

    pub(crate) async fn subtask_states(
        &self,
        tx: &mut Transaction<'static, Any>,
        task_id: i64,
    ) -> Result<Vec<SubtaskState>> {
        let rows = sqlx::query(&self.sql(
            "SELECT id, status, operation, prohibit_rollback, downstreams \
             FROM subtask_instance WHERE task_id = ? ORDER BY id",
        ))
        .bind(task_id)
        .fetch_all(&mut **tx)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SubtaskState {
                    id: row.try_get("id")?,
                    status: enum_field(row, "status", SubtaskStatus::parse)?,
                    operation: enum_field(row, "operation", Operation::parse)?,
                    prohibit_rollback: row.try_get::<i64, _>("prohibit_rollback")? != 0,
                    downstreams: json_field(row, "downstreams")?,
                })
            })
            .collect()
    }

    /// Derives the task's status from its subtasks (see [`crate::finish::derive_status`]),
    /// writes it if it changed and, while the task runs, tells other servers that work may
    /// be ready.
    pub(crate) async fn recompute_task(
        &self,
        tx: &mut Transaction<'static, Any>,
        task_id: i64,
    ) -> Result<TaskStatus> {
        let row =
            sqlx::query(&self.sql("SELECT status, operation FROM task_instance WHERE id = ?"))
                .bind(task_id)
                .fetch_one(&mut **tx)
                .await?;
        let known = HashMap::from([(
            task_id,
            (
                enum_field(&row, "status", TaskStatus::parse)?,
                enum_field(&row, "operation", Operation::parse)?,
            ),
        )]);
        let status = self.recompute_tasks(tx, &known).await?[&task_id];
        if status == TaskStatus::Running {
            self.announce_ready(tx).await?;
        }
        Ok(status)
    }

    pub(crate) async fn insert_log_lines(
        &self,
        tx: &mut Transaction<'static, Any>,
        subtask_id: i64,
        lines: &[String],
    ) -> Result<()> {
        let lines: Vec<(i64, &str)> = lines.iter().map(|l| (subtask_id, l.as_str())).collect();
        self.insert_logs(tx, &lines).await
    }

    /// Writes log lines of any subtasks, `(subtask id, line)`: one multi-row insert per 200
    /// lines, so a flush or a batch of finishes costs a statement or two.
    pub(crate) async fn insert_logs(
        &self,
        tx: &mut Transaction<'static, Any>,
        lines: &[(i64, &str)],
    ) -> Result<()> {
        for chunk in lines.chunks(200) {
            let values = vec!["(?, ?)"; chunk.len()].join(", ");
            let text = format!("INSERT INTO subtask_log (subtask_id, line) VALUES {values}");
            let sql = self.sql(&text);
            let mut query = sqlx::query(&sql);
            for (id, line) in chunk {
                query = query.bind(*id).bind(*line);
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Appends lines to a subtask's log (used to flush the log of a long step as it runs).
    pub async fn append_subtask_log(&self, subtask_id: i64, lines: &[String]) -> Result<()> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        self.insert_log_lines(&mut tx, subtask_id, lines).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn subtask_log(&self, subtask_id: i64) -> Result<String> {
        let lines: Vec<String> = sqlx::query_scalar(
            &self.sql("SELECT line FROM subtask_log WHERE subtask_id = ? ORDER BY id"),
        )
        .bind(subtask_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(lines.join("\n"))
    }

    pub async fn task_context(&self, task_id: i64) -> Result<TaskContext> {
        let text: String =
            sqlx::query_scalar(&self.sql("SELECT context FROM task_instance WHERE id = ?"))
                .bind(task_id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    entity: "task",
                    key: task_id.to_string(),
                })?;
        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("task context: {e}")))
    }

    /// Sets one `stringMap` entry of a task's context (steps hand values to later steps).
    pub async fn set_task_context_value(&self, task_id: i64, key: &str, value: &str) -> Result<()> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let text: String =
            sqlx::query_scalar(&self.sql("SELECT context FROM task_instance WHERE id = ?"))
                .bind(task_id)
                .fetch_one(&mut *tx)
                .await?;
        let mut context: TaskContext = serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("task context: {e}")))?;
        context
            .string_map
            .insert(key.to_string(), value.to_string());
        sqlx::query(&self.sql("UPDATE task_instance SET context = ? WHERE id = ?"))
            .bind(serde_json::to_string(&context).expect("context serializes"))
            .bind(task_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes the task's row lock for the rest of the transaction (PostgreSQL; SQLite's
    /// writers are serialized already).
    pub(crate) async fn lock_task_row(
        &self,
        tx: &mut Transaction<'static, Any>,
        task_id: i64,
    ) -> Result<()> {
        if self.dialect == Dialect::Postgres {
            sqlx::query("SELECT id FROM task_instance WHERE id = $1 FOR UPDATE")
                .bind(task_id)
                .fetch_optional(&mut **tx)
                .await?;
        }
        Ok(())
    }
}

pub(crate) struct SubtaskState {
    pub(crate) id: i64,
    pub(crate) status: SubtaskStatus,
    pub(crate) operation: Operation,
    pub(crate) prohibit_rollback: bool,
    pub(crate) downstreams: Vec<i64>,
}
