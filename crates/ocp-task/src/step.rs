//! What a subtask runs: a [`Step`], found by its class name in the [`Registry`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use ocp_api::task::{Operation, TaskContext};
use ocp_store::Store;

/// Why a step failed; the message goes to the subtask's log.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct StepError(pub String);

impl StepError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl From<String> for StepError {
    fn from(message: String) -> Self {
        Self(message)
    }
}

impl From<&str> for StepError {
    fn from(message: &str) -> Self {
        Self(message.to_string())
    }
}

impl From<ocp_store::StoreError> for StepError {
    fn from(err: ocp_store::StoreError) -> Self {
        Self(err.to_string())
    }
}

/// One step of an operation. `execute` may run more than once for the same subtask (after a
/// retry, or when another executor takes over from a dead one): it must check the state of the
/// world before acting so that running it twice has the effect of running it once.
#[async_trait]
pub trait Step: Send + Sync + 'static {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError>;

    /// Undoes what `execute` did, for a task rollback. The default has nothing to undo.
    async fn rollback(&self, ctx: &StepContext) -> Result<(), StepError> {
        ctx.log("nothing to roll back");
        Ok(())
    }
}

/// The steps a server can run, by class name.
#[derive(Default, Clone)]
pub struct Registry {
    steps: HashMap<String, Arc<dyn Step>>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register(&mut self, class_name: impl Into<String>, step: impl Step) -> &mut Self {
        self.steps.insert(class_name.into(), Arc::new(step));
        self
    }

    pub fn get(&self, class_name: &str) -> Option<Arc<dyn Step>> {
        self.steps.get(class_name).cloned()
    }
}

/// What a running step sees: its task's context, a log, and the store to hand values on.
pub struct StepContext {
    pub task_id: i64,
    pub subtask_id: i64,
    pub subtask_name: String,
    /// 1 on the first run of this subtask.
    pub run_time: i32,
    pub operation: Operation,
    pub context: TaskContext,
    pub(crate) store: Store,
    pub(crate) log: Arc<Mutex<Vec<String>>>,
}

impl StepContext {
    /// Adds a line to the subtask's log, as operators read it with `.../log`.
    pub fn log(&self, message: impl AsRef<str>) {
        let line = format!(
            "{} INFO {}",
            chrono::Local::now().format("%Y-%m-%d %H:%M:%S%.3f"),
            message.as_ref()
        );
        self.log.lock().expect("log lock").push(line);
    }

    /// A `stringMap` value of the task's context.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.context.string_map.get(key).map(String::as_str)
    }

    /// A `stringMap` value that must be there.
    pub fn require(&self, key: &str) -> Result<&str, StepError> {
        self.get(key)
            .ok_or_else(|| StepError(format!("task context has no {key}")))
    }

    /// A `listMap` value of the task's context.
    pub fn list(&self, key: &str) -> &[String] {
        self.context
            .list_map
            .get(key)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The id this step works on: for a branch of a fan-out, the entry at its `parallelIdx`
    /// in the list `plural` (`server_ids`, `host_ids`); otherwise the value `singular`
    /// (`server_id`, `host_id`).
    pub fn branch_id(&self, singular: &str, plural: &str) -> Result<i64, StepError> {
        let text = match self.parallel_idx() {
            Some(i) => self
                .list(plural)
                .get(i)
                .map(String::as_str)
                .ok_or_else(|| StepError(format!("task context has no {plural} entry {i}")))?,
            None => self.require(singular)?,
        };
        text.parse()
            .map_err(|_| StepError(format!("task context has a bad {singular}: {text}")))
    }

    /// The branch index for a subtask of a parallel fan-out.
    pub fn parallel_idx(&self) -> Option<usize> {
        usize::try_from(self.context.parallel_idx).ok()
    }

    /// Stores a value in the task's context for the steps that follow.
    pub async fn set(&self, key: &str, value: &str) -> Result<(), StepError> {
        self.store
            .set_task_context_value(self.task_id, key, value)
            .await?;
        Ok(())
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
}
