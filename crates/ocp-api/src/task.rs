//! Tasks and subtasks, in the shapes of the OCP samples (`002_*`, `003_*`, task management).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Timestamp;

wire_enum!(
    /// The status of a task.
    TaskStatus { Running = "RUNNING", Failed = "FAILED", Successful = "SUCCESSFUL" }
);

wire_enum!(
    /// The status of a subtask. A cancelled subtask ends FAILED.
    SubtaskStatus {
        Pending = "PENDING",
        Ready = "READY",
        Running = "RUNNING",
        Canceling = "CANCELING",
        Failed = "FAILED",
        Successful = "SUCCESSFUL",
    }
);

wire_enum!(
    /// What a task or subtask is doing (or last did).
    Operation {
        Execute = "EXECUTE",
        Retry = "RETRY",
        Rollback = "ROLLBACK",
        Skip = "SKIP",
        Cancel = "CANCEL",
    }
);

wire_enum!(
    /// Who started a task. `SYS_ONECE` is spelled as in OCP.
    TaskType {
        Manual = "MANUAL",
        SysOnce = "SYS_ONECE",
        Scheduled = "SCHEDULED",
        SysScheduled = "SYS_SCHEDULED",
    }
);

/// The execution context of a task, as OCP shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TaskContext {
    pub list_map: BTreeMap<String, Vec<String>>,
    pub parallel: bool,
    pub parallel_idx: i32,
    pub string_map: BTreeMap<String, String>,
}

/// A task instance: the shape answered by every call that starts a task (`002_*`) and by
/// `GET /api/v2/tasks/instances/{id}`. Fields that are unknown yet (finish time, a cluster
/// the task is not about) are left out, as OCP does.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TaskInstance {
    pub id: i64,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_id: Option<i64>,
    #[serde(rename = "type")]
    pub task_type: TaskType,
    pub status: TaskStatus,
    pub creator: String,
    pub operation: Operation,
    pub executor: String,
    pub context: TaskContext,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prohibit_rollback: Option<bool>,
    pub task_definition_id: i64,
    pub subtasks: Vec<SubtaskInstance>,
}

impl TaskInstance {
    /// The task as the call that submitted it answers (`002_*`): no creation times and no
    /// task-level rollback flag, which OCP only shows on later reads.
    pub fn as_submitted(mut self) -> Self {
        self.create_time = None;
        self.prohibit_rollback = None;
        for subtask in &mut self.subtasks {
            subtask.create_time = None;
        }
        self
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SubtaskInstance {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub class_name: String,
    pub series_id: i64,
    /// Timeout in seconds.
    pub timeout: i64,
    pub status: SubtaskStatus,
    pub operation: Operation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor: Option<String>,
    /// How many times the subtask has been run.
    pub run_time: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_time: Option<Timestamp>,
    pub node_type: String,
    /// Branch of a parallel fan-out, -1 outside one.
    pub parallel_idx: i32,
    pub upstreams: Vec<i64>,
    pub downstreams: Vec<i64>,
    pub prohibit_rollback: bool,
}

/// A list entry of `GET /api/v2/tasks/instances`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BasicTaskInstance {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub cluster: Option<TaskCluster>,
    #[serde(default)]
    pub tenant: Option<TaskTenant>,
    #[serde(default)]
    pub host_id: Option<i64>,
    pub creator: Creator,
    #[serde(rename = "type")]
    pub task_type: TaskType,
    pub status: TaskStatus,
    pub operation: Operation,
    #[serde(default)]
    pub create_time: Option<Timestamp>,
    #[serde(default)]
    pub start_time: Option<Timestamp>,
    #[serde(default)]
    pub finish_time: Option<Timestamp>,
    pub subtasks: Vec<BasicSubtaskInstance>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TaskCluster {
    pub id: i64,
    /// Null once the cluster is deleted.
    pub name: Option<String>,
    pub ob_cluster_id: i64,
    /// Null once the cluster is deleted.
    #[serde(rename = "type")]
    pub cluster_type: Option<crate::ob::ClusterType>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TaskTenant {
    pub id: i64,
    pub name: Option<String>,
    pub ob_tenant_id: i64,
    /// `MYSQL` or `ORACLE`.
    pub mode: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Creator {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BasicSubtaskInstance {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub status: SubtaskStatus,
    pub operation: Operation,
}

/// Filters of `GET /api/v2/tasks/instances`, besides paging.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct TaskFilter {
    /// Part of the task name.
    pub name: Option<String>,
    /// RUNNING, FAILED or SUCCESSFUL.
    pub status: Option<String>,
    /// MANUAL, SYS_ONECE, SCHEDULED or SYS_SCHEDULED.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", param(rename = "type"))]
    pub task_type: Option<String>,
    pub cluster_id: Option<String>,
    /// Part of the cluster's name, in any case (the reference spells it `cluterName`; both
    /// are taken).
    #[serde(alias = "cluterName")]
    pub cluster_name: Option<String>,
    pub tenant_id: Option<String>,
    /// Part of the tenant's name, in any case.
    pub tenant_name: Option<String>,
    pub host_id: Option<String>,
    /// ISO-8601 times bounding the tasks' creation (our addition).
    pub start_time: Option<String>,
    pub end_time: Option<String>,
}

/// `GET .../subtasks/{id}/log`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubtaskLog {
    /// Lines separated by `\n`.
    pub log: String,
}

wire_enum!(
    /// What a task event reports: the task's status, a subtask's status, or a log line.
    TaskEventKind { Task = "TASK", Subtask = "SUBTASK", Log = "LOG" }
);

/// One Server-Sent Event of `GET /api/v2/tasks/instances/{id}/events` (our addition): its
/// `id:` is `id`, its `event:` the kind in lower case, its `data:` this object. A final
/// `event: end` carries the task's last status when the task has finished.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TaskEvent {
    pub id: i64,
    pub kind: TaskEventKind,
    pub task_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtask_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtask_name: Option<String>,
    /// A task status for TASK events, a subtask status for SUBTASK events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<Operation>,
    /// The log line of a LOG event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    pub time: Timestamp,
}
