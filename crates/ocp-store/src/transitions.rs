//! The operator's transitions of a task: retry, rollback, and a subtask's retry, skip and
//! cancel. Each is one transaction that checks the current state, refuses what is impossible
//! (20003, 20004) and ends by recomputing the task's status.

use ocp_api::task::{Operation, SubtaskStatus, TaskStatus};
use sqlx::{Any, Row, Transaction};

use crate::decode::enum_field;
use crate::tasks::{SubtaskState, TransitionError};
use crate::{now_millis, Dialect, Result, Store};

impl Store {
    async fn lock_task(
        &self,
        tx: &mut Transaction<'static, Any>,
        task_id: i64,
    ) -> Result<(TaskStatus, Operation, bool), TransitionError> {
        let lock = match self.dialect {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        };
        let text = format!(
            "SELECT status, operation, prohibit_rollback FROM task_instance WHERE id = ?{lock}"
        );
        let row = sqlx::query(&self.sql(&text))
            .bind(task_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(TransitionError::TaskNotFound(task_id))?;
        Ok((
            enum_field(&row, "status", TaskStatus::parse)?,
            enum_field(&row, "operation", Operation::parse)?,
            row.try_get::<i64, _>("prohibit_rollback")? != 0,
        ))
    }

    async fn set_task_operation(
        &self,
        tx: &mut Transaction<'static, Any>,
        task_id: i64,
        operation: Operation,
    ) -> Result<()> {
        sqlx::query(&self.sql("UPDATE task_instance SET operation = ? WHERE id = ?"))
            .bind(operation.as_str())
            .bind(task_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn set_subtask(
        &self,
        tx: &mut Transaction<'static, Any>,
        id: i64,
        status: SubtaskStatus,
        operation: Operation,
    ) -> Result<()> {
        let finish =
            matches!(status, SubtaskStatus::Successful | SubtaskStatus::Failed).then(now_millis);
        sqlx::query(&self.sql(
            "UPDATE subtask_instance SET status = ?, operation = ?, finish_time = ? WHERE id = ?",
        ))
        .bind(status.as_str())
        .bind(operation.as_str())
        .bind(finish)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Runs the failed subtasks of a failed task again, from where it stopped.
    pub async fn retry_task(&self, task_id: i64) -> Result<(), TransitionError> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let (status, operation, _) = self.lock_task(&mut tx, task_id).await?;
        if status != TaskStatus::Failed {
            return Err(TransitionError::InvalidState(format!(
                "task {task_id} is {status}: only a FAILED task can be retried"
            )));
        }
        let rolling_back = operation == Operation::Rollback;
        let (sub_op, task_op) = if rolling_back {
            (Operation::Rollback, Operation::Rollback)
        } else {
            (Operation::Retry, Operation::Retry)
        };
        for sub in self.subtask_states(&mut tx, task_id).await? {
            if sub.status == SubtaskStatus::Failed {
                self.set_subtask(&mut tx, sub.id, SubtaskStatus::Ready, sub_op)
                    .await?;
            }
        }
        self.set_task_operation(&mut tx, task_id, task_op).await?;
        self.recompute_task(&mut tx, task_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Undoes a failed task: every subtask that ran is rolled back, the last first.
    pub async fn rollback_task(&self, task_id: i64) -> Result<(), TransitionError> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let (status, operation, prohibit) = self.lock_task(&mut tx, task_id).await?;
        if status != TaskStatus::Failed || operation == Operation::Rollback {
            return Err(TransitionError::InvalidState(format!(
                "task {task_id} is {status} ({operation}): only a FAILED task that is not rolling back can be rolled back; retry a failed rollback instead"
            )));
        }
        let subtasks = self.subtask_states(&mut tx, task_id).await?;
        let ran = |s: &SubtaskState| {
            matches!(s.status, SubtaskStatus::Successful | SubtaskStatus::Failed)
                && s.operation != Operation::Skip
        };
        if prohibit {
            return Err(TransitionError::ProhibitRollback(format!(
                "task {task_id} does not allow rollback"
            )));
        }
        if let Some(blocker) = subtasks.iter().find(|s| ran(s) && s.prohibit_rollback) {
            return Err(TransitionError::ProhibitRollback(format!(
                "subtask {} of task {task_id} does not allow rollback",
                blocker.id
            )));
        }
        let participants: Vec<i64> = subtasks.iter().filter(|s| ran(s)).map(|s| s.id).collect();
        for sub in &subtasks {
            if participants.contains(&sub.id) {
                let blocked = sub.downstreams.iter().any(|d| participants.contains(d));
                let status = if blocked {
                    SubtaskStatus::Pending
                } else {
                    SubtaskStatus::Ready
                };
                sqlx::query(&self.sql(
                    "UPDATE subtask_instance SET status = ?, operation = 'ROLLBACK', finish_time = NULL WHERE id = ?",
                ))
                .bind(status.as_str())
                .bind(sub.id)
                .execute(&mut *tx)
                .await?;
            } else if sub.status == SubtaskStatus::Ready {
                self.set_subtask(&mut tx, sub.id, SubtaskStatus::Pending, sub.operation)
                    .await?;
            }
        }
        self.set_task_operation(&mut tx, task_id, Operation::Rollback)
            .await?;
        self.recompute_task(&mut tx, task_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Locks the task and reads one of its subtasks; answers the task's operation too.
    async fn lock_subtask(
        &self,
        tx: &mut Transaction<'static, Any>,
        task_id: i64,
        subtask_id: i64,
    ) -> Result<(Operation, SubtaskState), TransitionError> {
        let (_, task_op, _) = self.lock_task(tx, task_id).await?;
        let sub = self
            .subtask_states(tx, task_id)
            .await?
            .into_iter()
            .find(|s| s.id == subtask_id)
            .ok_or(TransitionError::SubtaskNotFound {
                task_id,
                subtask_id,
            })?;
        Ok((task_op, sub))
    }

    pub async fn retry_subtask(
        &self,
        task_id: i64,
        subtask_id: i64,
    ) -> Result<(), TransitionError> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let (task_op, sub) = self.lock_subtask(&mut tx, task_id, subtask_id).await?;
        require_failed(&sub, "retried")?;
        let op = if task_op == Operation::Rollback {
            Operation::Rollback
        } else {
            Operation::Retry
        };
        self.set_subtask(&mut tx, subtask_id, SubtaskStatus::Ready, op)
            .await?;
        if task_op != Operation::Rollback {
            self.set_task_operation(&mut tx, task_id, Operation::Retry)
                .await?;
        }
        self.recompute_task(&mut tx, task_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks a failed subtask successful without running it, and moves the DAG on.
    pub async fn skip_subtask(&self, task_id: i64, subtask_id: i64) -> Result<(), TransitionError> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let (task_op, sub) = self.lock_subtask(&mut tx, task_id, subtask_id).await?;
        require_failed(&sub, "skipped")?;
        let rolling_back = task_op == Operation::Rollback;
        let op = if rolling_back {
            Operation::Rollback
        } else {
            Operation::Skip
        };
        self.set_subtask(&mut tx, subtask_id, SubtaskStatus::Successful, op)
            .await?;
        self.promote_after(&mut tx, task_id, subtask_id, rolling_back)
            .await?;
        self.recompute_task(&mut tx, task_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Asks for a running subtask to stop (its executor ends it FAILED with operation CANCEL);
    /// a subtask that is only READY is cancelled at once.
    pub async fn cancel_subtask(
        &self,
        task_id: i64,
        subtask_id: i64,
    ) -> Result<(), TransitionError> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let (_, sub) = self.lock_subtask(&mut tx, task_id, subtask_id).await?;
        match sub.status {
            SubtaskStatus::Running => {
                sqlx::query(
                    &self.sql("UPDATE subtask_instance SET status = 'CANCELING' WHERE id = ?"),
                )
                .bind(subtask_id)
                .execute(&mut *tx)
                .await?;
            }
            SubtaskStatus::Ready => {
                self.set_subtask(
                    &mut tx,
                    subtask_id,
                    SubtaskStatus::Failed,
                    Operation::Cancel,
                )
                .await?;
                self.insert_log_lines(
                    &mut tx,
                    subtask_id,
                    &["cancelled before it started".to_string()],
                )
                .await?;
                self.recompute_task(&mut tx, task_id).await?;
            }
            other => {
                return Err(TransitionError::InvalidState(format!(
                "subtask {subtask_id} is {other}: only a RUNNING or READY subtask can be cancelled"
            )))
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Refuses a transition that only a FAILED subtask allows.
fn require_failed(sub: &SubtaskState, verb: &str) -> Result<(), TransitionError> {
    if sub.status != SubtaskStatus::Failed {
        return Err(TransitionError::InvalidState(format!(
            "subtask {} is {}: only a FAILED subtask can be {verb}",
            sub.id, sub.status
        )));
    }
    Ok(())
}
