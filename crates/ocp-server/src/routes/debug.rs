//! Test tasks: `POST /api/v2/debug/tasks`, mounted only with `--enable-test-tasks`.
//!
//! These are not an OCP feature. They let the test suite and the benchmark drive the task
//! engine through real subtasks with observable, idempotent effects on files, before any
//! operation of the platform (hosts, clusters) exists to do it. A production server never
//! mounts them.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::State;
use ocp_api::task::TaskInstance;
use ocp_task::{Registry, Step, StepContext, StepError, StepSpec, TaskTemplate};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{perm, Authz};
use crate::http::{ApiJson, ApiResult, Data, Failure};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_test_task))
}

pub fn register_steps(registry: &mut Registry) {
    registry.register(CREATE_FILE, CreateFile);
    registry.register(FAIL_UNLESS_FILE, FailUnlessFile);
    registry.register(SLEEP, Sleep);
    registry.register(NOOP, Noop);
}

const CREATE_FILE: &str = "ocp.debug.CreateFile";
const FAIL_UNLESS_FILE: &str = "ocp.debug.FailUnlessFile";
const SLEEP: &str = "ocp.debug.Sleep";
const NOOP: &str = "ocp.debug.Noop";

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestTask {
    pub name: String,
    pub steps: Vec<TestStep>,
    #[serde(default)]
    pub prohibit_rollback: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestStep {
    pub name: String,
    /// `createFile` (creates `path` once; rollback removes it), `failUnlessFile` (fails while
    /// `path` is missing), `sleep`, `noop`.
    pub kind: String,
    #[serde(default)]
    pub path: Option<String>,
    /// Sleep this long after acting.
    #[serde(default)]
    pub sleep_ms: u64,
    /// Indexes of the steps this one waits for.
    #[serde(default)]
    pub after: Vec<usize>,
    #[serde(default)]
    pub timeout_secs: Option<i64>,
    #[serde(default)]
    pub parallel_idx: Option<usize>,
    #[serde(default)]
    pub prohibit_rollback: bool,
}

/// Starts a test task (test servers only).
#[utoipa::path(post, path = "/api/v2/debug/tasks", tag = "debug", request_body = TestTask,
    responses((status = 200, body = TaskInstance)))]
async fn create_test_task(
    Authz(caller, _): Authz<perm::TaskCreate>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<TestTask>,
) -> ApiResult<TaskInstance> {
    let mut template = TaskTemplate::new(&body.name).task_type(ocp_api::task::TaskType::Manual);
    if body.prohibit_rollback {
        template = template.prohibit_rollback();
    }
    let mut nodes = Vec::new();
    for (i, step) in body.steps.iter().enumerate() {
        let class = match step.kind.as_str() {
            "createFile" => CREATE_FILE,
            "failUnlessFile" => FAIL_UNLESS_FILE,
            "sleep" => SLEEP,
            "noop" => NOOP,
            other => {
                return Err(Failure::field(
                    &format!("steps[{i}].kind"),
                    format!("unknown kind {other:?}"),
                ))
            }
        };
        if matches!(class, CREATE_FILE | FAIL_UNLESS_FILE) && step.path.is_none() {
            return Err(Failure::field(
                &format!("steps[{i}].path"),
                "is required for this kind",
            ));
        }
        if let Some(bad) = step.after.iter().find(|a| **a >= i) {
            return Err(Failure::field(
                &format!("steps[{i}].after"),
                format!("step {bad} is not an earlier step"),
            ));
        }
        template = template.value(
            &format!("step.{i}.path"),
            step.path.clone().unwrap_or_default(),
        );
        template = template.value(&format!("step.{i}.sleepMs"), step.sleep_ms.to_string());
        let mut spec =
            StepSpec::new(&step.name, class).timeout_secs(step.timeout_secs.unwrap_or(60));
        if let Some(idx) = step.parallel_idx {
            spec = spec.parallel(idx);
        }
        if step.prohibit_rollback {
            spec = spec.prohibit_rollback();
        }
        let after: Vec<_> = step.after.iter().map(|a| nodes[*a]).collect();
        nodes.push(template.step(spec, &after));
    }
    let task = state.submit(template, &caller).await?;
    Ok(Data(task))
}

/// The index of this step in the request, from its position among the task's subtasks.
async fn step_index(ctx: &StepContext) -> Result<usize, StepError> {
    let task = ctx
        .store()
        .task(ctx.task_id)
        .await?
        .ok_or("task vanished")?;
    task.subtasks
        .iter()
        .position(|s| s.id == ctx.subtask_id)
        .ok_or_else(|| StepError::new("subtask not in its task"))
}

async fn setting(ctx: &StepContext, key: &str) -> Result<String, StepError> {
    let i = step_index(ctx).await?;
    Ok(ctx
        .get(&format!("step.{i}.{key}"))
        .unwrap_or_default()
        .to_string())
}

async fn pause(ctx: &StepContext) -> Result<(), StepError> {
    let ms: u64 = setting(ctx, "sleepMs").await?.parse().unwrap_or(0);
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    Ok(())
}

struct CreateFile;

#[async_trait]
impl Step for CreateFile {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let path = PathBuf::from(setting(ctx, "path").await?);
        // Record every attempt, so tests can tell a rerun from a repeated effect.
        let attempts = path.with_extension("attempts");
        let mut line = tokio::fs::read_to_string(&attempts)
            .await
            .unwrap_or_default();
        line.push_str(&format!("run {}\n", ctx.run_time));
        tokio::fs::write(&attempts, line)
            .await
            .map_err(|e| StepError::new(e.to_string()))?;
        // Check before acting: the effect happens once however often the step runs.
        match tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await
        {
            Ok(_) => ctx.log(format!("created {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                ctx.log(format!("{} exists already; nothing to do", path.display()))
            }
            Err(e) => return Err(StepError::new(format!("creating {}: {e}", path.display()))),
        }
        pause(ctx).await
    }

    async fn rollback(&self, ctx: &StepContext) -> Result<(), StepError> {
        let path = PathBuf::from(setting(ctx, "path").await?);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => ctx.log(format!("removed {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                ctx.log(format!("{} is gone already", path.display()))
            }
            Err(e) => return Err(StepError::new(format!("removing {}: {e}", path.display()))),
        }
        Ok(())
    }
}

struct FailUnlessFile;

#[async_trait]
impl Step for FailUnlessFile {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let path = setting(ctx, "path").await?;
        pause(ctx).await?;
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            ctx.log(format!("{path} exists"));
            Ok(())
        } else {
            Err(StepError::new(format!("{path} does not exist")))
        }
    }
}

struct Sleep;

#[async_trait]
impl Step for Sleep {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        ctx.log("sleeping");
        pause(ctx).await
    }
}

struct Noop;

#[async_trait]
impl Step for Noop {
    async fn execute(&self, _ctx: &StepContext) -> Result<(), StepError> {
        Ok(())
    }
}
