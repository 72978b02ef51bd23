//! `ocpctl task`: tasks, their subtasks and logs, and what an operator does to them.

use super::*;

#[derive(Subcommand)]
pub enum TaskCmd {
    /// Lists tasks, newest first.
    List {
        /// RUNNING, FAILED or SUCCESSFUL.
        #[arg(long)]
        status: Option<String>,
        /// The page, from 1.
        #[arg(long, default_value_t = 1)]
        page: i64,
        /// Rows per page.
        #[arg(long, default_value_t = 20)]
        size: i64,
    },
    /// Shows a task and its subtasks.
    Show {
        /// The task's id (see `task list`).
        id: i64,
    },
    /// A subtask's log.
    Log {
        /// The task's id (see `task list`).
        id: i64,
        /// The subtask's id (see `task show ID`).
        subtask: i64,
    },
    /// Runs a failed task again from its failed subtasks.
    Retry {
        /// The task's id (see `task list`).
        id: i64,
    },
    /// Undoes what a failed task did, step by step in reverse.
    Rollback {
        /// The task's id (see `task list`).
        id: i64,
    },
    /// Marks a failed subtask done and goes on with the task.
    Skip {
        /// The task's id (see `task list`).
        id: i64,
        /// The subtask's id (see `task show ID`).
        subtask: i64,
    },
    /// Cancels a running subtask (the task fails there).
    Cancel {
        /// The task's id (see `task list`).
        id: i64,
        /// The subtask's id (see `task show ID`).
        subtask: i64,
    },
    /// Follows a task live until it ends.
    Watch {
        /// The task's id (see `task list`).
        id: i64,
    },
}

pub async fn task(ctx: &mut Ctx, cmd: TaskCmd) -> Result<()> {
    let format = ctx.format();
    let client = ctx.client()?.clone();
    let base = |id: i64| format!("/api/v2/tasks/instances/{id}");
    match cmd {
        TaskCmd::List { status, page, size } => {
            let mut path = format!("/api/v2/tasks/instances?{}", page_query(page, size));
            if let Some(s) = status {
                path.push_str(&format!("&status={s}"));
            }
            let tasks: PageData<BasicTaskInstance> = client.get(&path).await?;
            output::list(
                format,
                &tasks.contents,
                &[
                    "id",
                    "name",
                    "status",
                    "operation",
                    "creator=creator.name",
                    "createTime",
                ],
            )
        }
        TaskCmd::Show { id } => {
            let task: TaskInstance = client.get(&base(id)).await?;
            if output::structured(format, &task)? {
                return Ok(());
            }
            say(&format!(
                "task {} {} {} ({})",
                task.id, task.name, task.status, task.operation
            ));
            output::list(
                format,
                &task.subtasks,
                &[
                    "id",
                    "name",
                    "status",
                    "operation",
                    "runTime",
                    "startTime",
                    "finishTime",
                ],
            )
        }
        TaskCmd::Log { id, subtask } => {
            let log: SubtaskLog = client
                .get(&format!("{}/subtasks/{subtask}/log", base(id)))
                .await?;
            if !output::structured(format, &log)? {
                say(&log.log);
            }
            Ok(())
        }
        TaskCmd::Retry { id } | TaskCmd::Rollback { id } => {
            let verb = if matches!(cmd, TaskCmd::Retry { .. }) {
                "retry"
            } else {
                "rollback"
            };
            let task: TaskInstance = client.post(&format!("{}/{verb}", base(id)), None).await?;
            started(ctx, task).await
        }
        TaskCmd::Skip { id, subtask } | TaskCmd::Cancel { id, subtask } => {
            let verb = if matches!(cmd, TaskCmd::Skip { .. }) {
                "skip"
            } else {
                "cancel"
            };
            let answer: Value = client
                .post(&format!("{}/subtasks/{subtask}/{verb}", base(id)), None)
                .await?;
            done(
                ctx,
                format!("subtask {subtask} of task {id}: {verb}"),
                &answer,
            )?;
            if ctx.wait() {
                return crate::watch::watch(&client, id).await;
            }
            Ok(())
        }
        TaskCmd::Watch { id } => crate::watch::watch(&client, id).await,
    }
}
