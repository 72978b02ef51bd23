//! Leases: how executors claim subtasks, keep them, give them up, and what happens to the
//! subtasks of an executor that died.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use ocp_api::task::{Operation, TaskContext};
use sqlx::AnyConnection;
use sqlx::Row;

use crate::decode::enum_field;
use crate::hosts::placeholders;
use crate::tasks::{ClaimedSubtask, LeaseRenewal};
use crate::{now_millis, Dialect, Result, Store, StoreError};

impl Store {
    /// Takes the lease of up to `limit` subtasks that are ready to run, or whose executor's
    /// lease has expired, in tasks that are running.
    pub async fn claim_subtasks(
        &self,
        owner: &str,
        executor: &str,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<ClaimedSubtask>> {
        let _w = self.writer().await;
        let mut conn = self.pool.acquire().await?;
        self.claim_on(&mut conn, owner, executor, lease_ms, limit)
            .await
    }

    /// [`Self::claim_subtasks`] on a connection the caller holds (inside its transaction, or
    /// not), with the write lock taken.
    pub(crate) async fn claim_on(
        &self,
        conn: &mut AnyConnection,
        owner: &str,
        executor: &str,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<ClaimedSubtask>> {
        let now = now_millis();
        let lock = match self.dialect {
            Dialect::Sqlite => "",
            Dialect::Postgres => "FOR UPDATE OF s SKIP LOCKED",
        };
        // Written so that it walks the claimable subtasks (`subtask_instance_claimable`) in id
        // order and stops at `limit`, checking each one's task by its key, rather than joining
        // every running task with every ready subtask and sorting.
        let text = format!(
            "UPDATE subtask_instance SET status = 'RUNNING', lease_owner = ?, lease_expiry = ?, \
             executor = ?, run_time = run_time + 1, start_time = ?, finish_time = NULL \
             WHERE id IN (SELECT s.id FROM subtask_instance s \
               WHERE (s.status = 'READY' OR (s.status = 'RUNNING' AND s.lease_expiry < ?)) \
                 AND EXISTS (SELECT 1 FROM task_instance t WHERE t.id = s.task_id AND t.status = 'RUNNING') \
               ORDER BY s.id LIMIT ? {lock}) \
             RETURNING id, task_id, name, class_name, operation, timeout_secs, run_time, parallel_idx, \
               (SELECT context FROM task_instance t WHERE t.id = subtask_instance.task_id) AS context"
        );
        // The task's context comes along in the same statement, parsed once per task however
        // many of its subtasks are claimed.
        let rows = sqlx::query(&self.sql(&text))
            .bind(owner)
            .bind(now + lease_ms)
            .bind(executor)
            .bind(now)
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?;
        let mut contexts: HashMap<i64, TaskContext> = HashMap::new();
        for row in &rows {
            let task_id: i64 = row.try_get("task_id")?;
            if let Entry::Vacant(slot) = contexts.entry(task_id) {
                let text: String = row.try_get("context")?;
                let context = serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt(format!("task context: {e}")))?;
                slot.insert(context);
            }
        }
        rows.iter()
            .map(|row| {
                let task_id: i64 = row.try_get("task_id")?;
                Ok(ClaimedSubtask {
                    id: row.try_get("id")?,
                    task_id,
                    name: row.try_get("name")?,
                    class_name: row.try_get("class_name")?,
                    operation: enum_field(row, "operation", Operation::parse)?,
                    timeout_secs: row.try_get("timeout_secs")?,
                    run_time: row.try_get::<i64, _>("run_time")? as i32,
                    parallel_idx: row.try_get::<i64, _>("parallel_idx")? as i32,
                    context: contexts.get(&task_id).cloned().unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Extends this executor's leases on `ids`, and tells which of them an operator wants
    /// cancelled and which are no longer ours.
    pub async fn renew_leases(
        &self,
        owner: &str,
        ids: &[i64],
        lease_ms: i64,
    ) -> Result<LeaseRenewal> {
        if ids.is_empty() {
            return Ok(LeaseRenewal::default());
        }
        let _w = self.writer().await;
        let marks = placeholders(ids.len());
        let update = format!(
            "UPDATE subtask_instance SET lease_expiry = ? WHERE lease_owner = ? \
             AND status IN ('RUNNING', 'CANCELING') AND id IN ({marks})"
        );
        let update_sql = self.sql(&update);
        let mut query = sqlx::query(&update_sql)
            .bind(now_millis() + lease_ms)
            .bind(owner);
        for id in ids {
            query = query.bind(*id);
        }
        query.execute(&self.pool).await?;
        let select =
            format!("SELECT id, status, lease_owner FROM subtask_instance WHERE id IN ({marks})");
        let select_sql = self.sql(&select);
        let mut query = sqlx::query(&select_sql);
        for id in ids {
            query = query.bind(*id);
        }
        let mut renewal = LeaseRenewal::default();
        let mut seen = Vec::new();
        for row in query.fetch_all(&self.pool).await? {
            let id: i64 = row.try_get("id")?;
            let status: String = row.try_get("status")?;
            let lease_owner: Option<String> = row.try_get("lease_owner")?;
            seen.push(id);
            if lease_owner.as_deref() != Some(owner)
                || !(status == "RUNNING" || status == "CANCELING")
            {
                renewal.lost.push(id);
            } else if status == "CANCELING" {
                renewal.canceling.push(id);
            }
        }
        renewal
            .lost
            .extend(ids.iter().filter(|id| !seen.contains(id)));
        Ok(renewal)
    }

    /// Gives up every lease held under `owner`, so that they can be claimed at once. A server
    /// calls this at start for its own node id: the previous process on its data directory is
    /// gone (the directory is locked), so nobody runs those subtasks.
    pub async fn release_leases_of(&self, owner: &str) -> Result<u64> {
        let _w = self.writer().await;
        let done = sqlx::query(&self.sql(
            "UPDATE subtask_instance SET lease_expiry = 0 WHERE lease_owner = ? \
             AND status IN ('RUNNING', 'CANCELING')",
        ))
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Ends subtasks whose executor died while they could not simply be taken over: a
    /// cancellation in progress (it ends cancelled) or a subtask of a task that is no longer
    /// running (it ends failed, to be retried with the task).
    pub async fn expire_orphans(&self) -> Result<Vec<i64>> {
        let now = now_millis();
        let rows = sqlx::query(&self.sql(
            "SELECT s.id, s.task_id, s.status FROM subtask_instance s JOIN task_instance t ON t.id = s.task_id \
             WHERE s.lease_expiry < ? AND (s.status = 'CANCELING' \
               OR (s.status = 'RUNNING' AND t.status <> 'RUNNING'))",
        ))
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let mut touched = Vec::new();
        for row in rows {
            let id: i64 = row.try_get("id")?;
            let task_id: i64 = row.try_get("task_id")?;
            let status: String = row.try_get("status")?;
            self.lock_task_row(&mut tx, task_id).await?;
            let (operation_sql, line) = if status == "CANCELING" {
                (
                    "operation = 'CANCEL', ",
                    "cancelled: its executor stopped before it could finish",
                )
            } else {
                (
                    "",
                    "failed: its executor stopped and the task is not running",
                )
            };
            let text = format!(
                "UPDATE subtask_instance SET status = 'FAILED', {operation_sql}finish_time = ?, \
                 lease_owner = NULL, lease_expiry = NULL WHERE id = ? AND status = ? AND lease_expiry < ?"
            );
            let done = sqlx::query(&self.sql(&text))
                .bind(now)
                .bind(id)
                .bind(&status)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 1 {
                self.insert_log_lines(&mut tx, id, &[line.to_string()])
                    .await?;
                self.recompute_task(&mut tx, task_id).await?;
                touched.push(task_id);
            }
        }
        tx.commit().await?;
        Ok(touched)
    }
}
