//! The end of subtask runs, many in one transaction.
//!
//! An executor finishes what its steps ran in batches: whatever ended while the previous batch
//! was being written goes into the next one. A batch is a fixed handful of statements however
//! many subtasks it holds: the tasks' rows (locked on PostgreSQL), the subtasks' ends guarded
//! by their leases, their log lines, the neighbours they may unblock, the tasks' statuses and,
//! if the executor has free slots, the claim of what is ready next. Every invariant of a single
//! finish holds for each subtask of a batch: its end is recorded only while its lease is held,
//! and each task's status is derived from its subtasks in the same transaction.

use std::collections::{HashMap, HashSet};

use ocp_api::task::{Operation, SubtaskStatus, TaskStatus};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::decode::enum_field;
use crate::hosts::placeholders;
use crate::tasks::{json_field, ClaimedSubtask, FinishOutcome};
use crate::{now_millis, Dialect, Result, Store};

/// The end of one run of a subtask that this executor holds.
#[derive(Debug, Clone)]
pub struct Finish {
    pub id: i64,
    pub outcome: FinishOutcome,
    pub log_lines: Vec<String>,
}

/// What a finishing executor takes on next, in the same transaction.
#[derive(Debug, Clone, Copy)]
pub struct ClaimNext<'a> {
    pub executor: &'a str,
    pub lease_ms: i64,
    /// Its free slots (those of the finished runs among them).
    pub limit: i64,
}

/// What a batch of finishes did.
#[derive(Debug, Default)]
pub struct Finished {
    /// Per finish, in order: false when its lease was lost meanwhile (nothing of it was
    /// written).
    pub recorded: Vec<bool>,
    /// What the executor claimed to run next.
    pub claimed: Vec<ClaimedSubtask>,
}

/// Rows bound into one statement at most; SQLite and PostgreSQL both take far more.
const MAX_ROWS: usize = 1000;

impl Store {
    /// Runs `statement` (its `{ids}` replaced by placeholders) on `ids`, a chunk at a time,
    /// and answers the rows of all chunks.
    async fn on_ids(
        &self,
        tx: &mut Transaction<'static, Any>,
        statement: &str,
        ids: &[i64],
    ) -> Result<Vec<AnyRow>> {
        let mut rows = Vec::new();
        for chunk in ids.chunks(MAX_ROWS) {
            let text = statement.replace("{ids}", &placeholders(chunk.len()));
            let sql = self.sql(&text);
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            rows.extend(query.fetch_all(&mut **tx).await?);
        }
        Ok(rows)
    }

    /// Records the end of a run of a subtask this executor holds, writes its log lines and
    /// moves the DAG on. Returns false, changing nothing, when the lease was lost meanwhile.
    pub async fn finish_subtask(
        &self,
        id: i64,
        owner: &str,
        outcome: &FinishOutcome,
        log_lines: &[String],
    ) -> Result<bool> {
        let finish = Finish {
            id,
            outcome: outcome.clone(),
            log_lines: log_lines.to_vec(),
        };
        let finished = self.finish_subtasks(owner, &[finish], None).await?;
        Ok(finished.recorded.first().copied().unwrap_or(false))
    }

    /// Records the ends of runs of subtasks that `owner` holds, each as
    /// [`Self::finish_subtask`] would, in one transaction; then, with `next`, claims up to
    /// `next.limit` ready subtasks for `owner` in the same transaction, so that a downstream
    /// unblocked here starts without another round trip.
    pub async fn finish_subtasks(
        &self,
        owner: &str,
        finishes: &[Finish],
        next: Option<ClaimNext<'_>>,
    ) -> Result<Finished> {
        let mut finished = Finished {
            recorded: vec![false; finishes.len()],
            claimed: Vec::new(),
        };
        if finishes.is_empty() {
            return Ok(finished);
        }
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let ids: Vec<i64> = finishes.iter().map(|f| f.id).collect();
        // Finishes of one task are serialized on its row (in id order, so two batches never
        // wait on each other): two last branches of a fan-out finishing at once must not both
        // miss that the join is now unblocked.
        let lock = match self.dialect {
            Dialect::Postgres => " FOR UPDATE",
            Dialect::Sqlite => "",
        };
        let mut tasks: HashMap<i64, (TaskStatus, Operation)> = HashMap::new();
        let statement = format!(
            "SELECT id, status, operation FROM task_instance WHERE id IN \
             (SELECT task_id FROM subtask_instance WHERE id IN ({{ids}})) ORDER BY id{lock}"
        );
        for row in self.on_ids(&mut tx, &statement, &ids).await? {
            tasks.insert(
                row.try_get("id")?,
                (
                    enum_field(&row, "status", TaskStatus::parse)?,
                    enum_field(&row, "operation", Operation::parse)?,
                ),
            );
        }
        if tasks.is_empty() {
            return Ok(finished);
        }

        // The ends, one statement per kind of outcome, each guarded by the lease.
        let now = now_millis();
        let mut ended: HashMap<i64, Ended> = HashMap::new();
        for (status, cancelled) in [
            (SubtaskStatus::Successful, false),
            (SubtaskStatus::Failed, false),
            (SubtaskStatus::Failed, true),
        ] {
            let of_kind: Vec<i64> = finishes
                .iter()
                .filter(|f| kind_of(&f.outcome) == (status, cancelled))
                .map(|f| f.id)
                .collect();
            for chunk in of_kind.chunks(MAX_ROWS) {
                let operation = if cancelled { "'CANCEL'" } else { "operation" };
                let text = format!(
                    "UPDATE subtask_instance SET status = ?, operation = {operation}, finish_time = ?, \
                     lease_owner = NULL, lease_expiry = NULL \
                     WHERE lease_owner = ? AND status IN ('RUNNING', 'CANCELING') AND id IN ({}) \
                     RETURNING id, task_id, operation, upstreams, downstreams",
                    placeholders(chunk.len())
                );
                let sql = self.sql(&text);
                let mut query = sqlx::query(&sql)
                    .bind(status.as_str())
                    .bind(now)
                    .bind(owner);
                for id in chunk {
                    query = query.bind(*id);
                }
                for row in query.fetch_all(&mut *tx).await? {
                    let id: i64 = row.try_get("id")?;
                    let rolling_back =
                        enum_field(&row, "operation", Operation::parse)? == Operation::Rollback;
                    // Undo runs the DAG in reverse: a rolled-back subtask unblocks its upstreams.
                    let links = if rolling_back {
                        "upstreams"
                    } else {
                        "downstreams"
                    };
                    ended.insert(
                        id,
                        Ended {
                            task_id: row.try_get("task_id")?,
                            succeeded: status == SubtaskStatus::Successful,
                            rolling_back,
                            candidates: json_field(&row, links)?,
                        },
                    );
                }
            }
        }
        for (i, finish) in finishes.iter().enumerate() {
            finished.recorded[i] = ended.contains_key(&finish.id);
        }
        if ended.is_empty() {
            return Ok(finished);
        }

        // Their log lines, for the recorded ones only.
        let lines: Vec<(i64, &str)> = finishes
            .iter()
            .filter(|f| ended.contains_key(&f.id))
            .flat_map(|f| f.log_lines.iter().map(move |l| (f.id, l.as_str())))
            .collect();
        self.insert_logs(&mut tx, &lines).await?;

        // What the successes unblock, in each direction.
        let mut promoted: HashSet<i64> = HashSet::new();
        let mut newly_ready = 0;
        for rolling_back in [false, true] {
            let candidates: Vec<(i64, i64)> = ended
                .values()
                .filter(|e| e.succeeded && e.rolling_back == rolling_back)
                .flat_map(|e| e.candidates.iter().map(|c| (e.task_id, *c)))
                .collect();
            let ready = self.promote(&mut tx, &candidates, rolling_back).await?;
            newly_ready += ready.len();
            promoted.extend(ready.into_iter().map(|(task_id, _)| task_id));
        }

        // The tasks' statuses, then what comes next. A running task that this batch gave a
        // ready subtask and no failure is still running: it is not counted again.
        let failed: HashSet<i64> = ended
            .values()
            .filter(|e| !e.succeeded)
            .map(|e| e.task_id)
            .collect();
        let mut statuses: HashMap<i64, TaskStatus> = HashMap::new();
        let mut touched: HashMap<i64, (TaskStatus, Operation)> = HashMap::new();
        for e in ended.values() {
            let Some(known) = tasks.get(&e.task_id) else {
                continue;
            };
            if known.0 == TaskStatus::Running
                && promoted.contains(&e.task_id)
                && !failed.contains(&e.task_id)
            {
                statuses.insert(e.task_id, TaskStatus::Running);
            } else {
                touched.insert(e.task_id, *known);
            }
        }
        statuses.extend(self.recompute_tasks(&mut tx, &touched).await?);
        if let Some(next) = next.filter(|n| n.limit > 0) {
            finished.claimed = self
                .claim_on(&mut tx, owner, next.executor, next.lease_ms, next.limit)
                .await?;
        }
        // Other servers are told of the work this batch made ready and this executor did not
        // take. Work that was ready before was announced by whoever made it ready; what no one
        // had a slot for is claimed by the next finish anywhere, or the next poll. (Counting
        // rather than asking whether every slot was filled keeps a chain's hand-off from waking
        // every server's claim loop, which would then hold the free slots during the next
        // hand-off.)
        if newly_ready > finished.claimed.len()
            && statuses.values().any(|s| *s == TaskStatus::Running)
        {
            self.announce_ready(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(finished)
    }

    /// Marks READY those of `candidates` (pairs of a task and one of its subtasks, linked to
    /// one that has just succeeded in this transaction) that are pending and that no neighbour
    /// holds back any more; answers those, as pairs too. One statement does it, whatever the
    /// number of candidates: each candidate's links are read from its own row (a JSON array)
    /// inside the UPDATE, so a hand-off costs one round trip, and a wide fan-out little more.
    pub(crate) async fn promote(
        &self,
        tx: &mut Transaction<'static, Any>,
        candidates: &[(i64, i64)],
        rolling_back: bool,
    ) -> Result<Vec<(i64, i64)>> {
        let mut pairs: Vec<(i64, i64)> = candidates.to_vec();
        pairs.sort_unstable();
        pairs.dedup();
        // Undo runs the DAG in reverse: a rollback waits on its downstreams' undo.
        let (links, own, holding) = if rolling_back {
            (
                "downstreams",
                " AND operation = 'ROLLBACK'",
                "n.operation = 'ROLLBACK' AND n.status <> 'SUCCESSFUL'",
            )
        } else {
            ("upstreams", "", "n.status <> 'SUCCESSFUL'")
        };
        // The neighbours that just succeeded read as SUCCESSFUL already.
        let (each, value) = match self.dialect {
            Dialect::Sqlite => (
                format!("json_each(subtask_instance.{links}) AS l"),
                "l.value",
            ),
            Dialect::Postgres => (
                format!("json_array_elements_text(subtask_instance.{links}::json) AS l(value)"),
                "CAST(l.value AS BIGINT)",
            ),
        };
        let mut ready = Vec::new();
        // A link to another task's subtask is not followed: candidates are matched as pairs
        // (and found by their ids: SQLite walks the whole table for a row-value IN alone).
        for chunk in pairs.chunks(MAX_ROWS / 3) {
            let text = format!(
                "UPDATE subtask_instance SET status = 'READY' \
                 WHERE id IN ({}) AND (task_id, id) IN (VALUES {}) AND status = 'PENDING'{own} \
                 AND NOT EXISTS (SELECT 1 FROM {each} \
                 JOIN subtask_instance n ON n.id = {value} WHERE {holding}) \
                 RETURNING task_id, id",
                placeholders(chunk.len()),
                vec!["(?, ?)"; chunk.len()].join(", ")
            );
            let sql = self.sql(&text);
            let mut query = sqlx::query(&sql);
            for (_, id) in chunk {
                query = query.bind(*id);
            }
            for (task_id, id) in chunk {
                query = query.bind(*task_id).bind(*id);
            }
            for row in query.fetch_all(&mut **tx).await? {
                ready.push((row.try_get("task_id")?, row.try_get("id")?));
            }
        }
        Ok(ready)
    }

    /// Derives each task's status from its subtasks (see [`derive_status`]), given the
    /// status and operation read in this transaction, and writes those that changed.
    pub(crate) async fn recompute_tasks(
        &self,
        tx: &mut Transaction<'static, Any>,
        tasks: &HashMap<i64, (TaskStatus, Operation)>,
    ) -> Result<HashMap<i64, TaskStatus>> {
        let ids: Vec<i64> = tasks.keys().copied().collect();
        let mut counts: HashMap<i64, Vec<(SubtaskStatus, Operation, i64)>> = HashMap::new();
        // One aggregate instead of every row: this runs on every finish.
        let statement = "SELECT task_id, status, operation, COUNT(*) AS n FROM subtask_instance \
                         WHERE task_id IN ({ids}) GROUP BY task_id, status, operation";
        for row in self.on_ids(tx, statement, &ids).await? {
            counts.entry(row.try_get("task_id")?).or_default().push((
                enum_field(&row, "status", SubtaskStatus::parse)?,
                enum_field(&row, "operation", Operation::parse)?,
                row.try_get::<i64, _>("n")?,
            ));
        }
        let mut statuses = HashMap::new();
        for (id, (current, operation)) in tasks {
            let status = derive_status(
                counts.get(id).map(Vec::as_slice).unwrap_or_default(),
                *operation == Operation::Rollback,
            );
            statuses.insert(*id, status);
            if status == *current {
                continue;
            }
            let finish = (status != TaskStatus::Running).then(now_millis);
            sqlx::query(&self.sql(
                "UPDATE task_instance SET status = ?, \
                 finish_time = CASE WHEN status = ? THEN finish_time ELSE ? END WHERE id = ?",
            ))
            .bind(status.as_str())
            .bind(status.as_str())
            .bind(finish)
            .bind(*id)
            .execute(&mut **tx)
            .await?;
        }
        Ok(statuses)
    }
}

/// A subtask whose end a batch recorded.
struct Ended {
    task_id: i64,
    succeeded: bool,
    rolling_back: bool,
    /// The neighbours its success may unblock.
    candidates: Vec<i64>,
}

/// The status and whether the operation becomes CANCEL, for an outcome.
fn kind_of(outcome: &FinishOutcome) -> (SubtaskStatus, bool) {
    match outcome {
        FinishOutcome::Succeeded => (SubtaskStatus::Successful, false),
        FinishOutcome::Failed(_) => (SubtaskStatus::Failed, false),
        FinishOutcome::Cancelled => (SubtaskStatus::Failed, true),
    }
}

/// A task's status from how many of its subtasks are in each status and operation: FAILED
/// while any subtask is failed; when rolling back, SUCCESSFUL once no undo is left to run;
/// otherwise SUCCESSFUL once every subtask succeeded; RUNNING in between.
pub(crate) fn derive_status(
    counts: &[(SubtaskStatus, Operation, i64)],
    rolling_back: bool,
) -> TaskStatus {
    if counts.iter().any(|(s, _, _)| *s == SubtaskStatus::Failed) {
        return TaskStatus::Failed;
    }
    let done = if rolling_back {
        !counts.iter().any(|(s, op, _)| {
            matches!(
                s,
                SubtaskStatus::Ready | SubtaskStatus::Running | SubtaskStatus::Canceling
            ) || (*op == Operation::Rollback && *s == SubtaskStatus::Pending)
        })
    } else {
        counts
            .iter()
            .all(|(s, _, _)| *s == SubtaskStatus::Successful)
    };
    if done {
        TaskStatus::Successful
    } else {
        TaskStatus::Running
    }
}
