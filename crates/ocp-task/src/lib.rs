//! The durable task engine.
//!
//! An operation is a [`TaskTemplate`]: named steps wired into a DAG, written down in one place.
//! Submitting it persists the whole DAG in the metadb before anything runs, so an acknowledged
//! task survives any crash. The [`Engine`] claims ready subtasks under a lease, runs their
//! [`Step`], renews the lease while the step runs and records the outcome in the same
//! transaction that moves the DAG on. A subtask whose executor dies is claimed again when its
//! lease expires (at once when the same node restarts), so steps must check before they act.

mod engine;
mod step;
mod template;

pub use engine::{Engine, EngineConfig, EngineHandle};
pub use step::{Registry, Step, StepContext, StepError};
pub use template::{NodeId, StepSpec, TaskTemplate};

#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error(transparent)]
    Store(#[from] ocp_store::StoreError),
    #[error("task template {template} is invalid: {reason}")]
    InvalidTemplate { template: String, reason: String },
}
