//! Building a task: named steps wired into a DAG.

use ocp_api::task::{TaskContext, TaskType};
use ocp_store::{NewSubtask, NewTask};

use crate::TaskError;

/// A step of a template under construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeId(usize);

/// One subtask's definition.
#[derive(Debug, Clone)]
pub struct StepSpec {
    name: String,
    description: Option<String>,
    class_name: String,
    timeout_secs: i64,
    prohibit_rollback: bool,
    parallel_idx: i32,
}

impl StepSpec {
    /// A step shown as `name`, run by the step registered as `class_name`.
    pub fn new(name: impl Into<String>, class_name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: None,
            class_name: class_name.into(),
            timeout_secs: 60,
            prohibit_rollback: false,
            parallel_idx: -1,
        }
    }

    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    pub fn timeout_secs(mut self, seconds: i64) -> Self {
        self.timeout_secs = seconds;
        self
    }

    /// The step cannot be undone: a task that ran it cannot be rolled back.
    pub fn prohibit_rollback(mut self) -> Self {
        self.prohibit_rollback = true;
        self
    }

    /// The step belongs to branch `idx` of a parallel fan-out.
    pub fn parallel(mut self, idx: usize) -> Self {
        self.parallel_idx = idx as i32;
        self
    }
}

/// A task about to be submitted.
#[derive(Debug, Clone)]
pub struct TaskTemplate {
    name: String,
    task_type: TaskType,
    context: TaskContext,
    cluster_id: Option<i64>,
    tenant_id: Option<i64>,
    host_id: Option<i64>,
    prohibit_rollback: bool,
    steps: Vec<(StepSpec, Vec<usize>)>,
}

impl TaskTemplate {
    pub fn new(name: impl Into<String>) -> Self {
        let mut context = TaskContext {
            parallel_idx: -1,
            ..TaskContext::default()
        };
        context
            .string_map
            .insert("prohibit_rollback".into(), "false".into());
        Self {
            name: name.into(),
            task_type: TaskType::Manual,
            context,
            cluster_id: None,
            tenant_id: None,
            host_id: None,
            prohibit_rollback: false,
            steps: Vec::new(),
        }
    }

    pub fn task_type(mut self, task_type: TaskType) -> Self {
        self.task_type = task_type;
        self
    }

    pub fn host(mut self, host_id: i64) -> Self {
        self.host_id = Some(host_id);
        self.context
            .string_map
            .insert("host_id".into(), host_id.to_string());
        self
    }

    pub fn cluster(mut self, cluster_id: i64) -> Self {
        self.cluster_id = Some(cluster_id);
        self.context
            .string_map
            .insert("cluster_id".into(), cluster_id.to_string());
        self
    }

    pub fn tenant(mut self, tenant_id: i64) -> Self {
        self.tenant_id = Some(tenant_id);
        self.context
            .string_map
            .insert("tenant_id".into(), tenant_id.to_string());
        self
    }

    /// The whole task cannot be rolled back.
    pub fn prohibit_rollback(mut self) -> Self {
        self.prohibit_rollback = true;
        self.context
            .string_map
            .insert("prohibit_rollback".into(), "true".into());
        self
    }

    pub fn value(mut self, key: &str, value: impl Into<String>) -> Self {
        self.context.string_map.insert(key.into(), value.into());
        self
    }

    pub fn list(mut self, key: &str, values: Vec<String>) -> Self {
        self.context.list_map.insert(key.into(), values);
        self
    }

    /// Adds a step that runs once every step of `after` has succeeded.
    pub fn step(&mut self, spec: StepSpec, after: &[NodeId]) -> NodeId {
        self.steps.push((spec, after.iter().map(|n| n.0).collect()));
        NodeId(self.steps.len() - 1)
    }

    /// Adds steps one after the other, the first after `after`; returns the last.
    pub fn chain(
        &mut self,
        specs: impl IntoIterator<Item = StepSpec>,
        after: &[NodeId],
    ) -> Vec<NodeId> {
        let mut previous: Vec<NodeId> = after.to_vec();
        let mut ids = Vec::new();
        for spec in specs {
            let id = self.step(spec, &previous);
            previous = vec![id];
            ids.push(id);
        }
        ids
    }

    /// The task as the store keeps it, its steps numbered (`seriesId`) in run order.
    pub fn build(
        self,
        creator_id: i64,
        creator_name: &str,
        executor: &str,
    ) -> Result<NewTask, TaskError> {
        if self.steps.is_empty() {
            return Err(TaskError::InvalidTemplate {
                template: self.name,
                reason: "it has no steps".into(),
            });
        }
        let order = topological_order(&self.steps).ok_or_else(|| TaskError::InvalidTemplate {
            template: self.name.clone(),
            reason: "its steps form a cycle".into(),
        })?;
        let mut series = vec![0i64; self.steps.len()];
        for (position, &index) in order.iter().enumerate() {
            series[index] = position as i64;
        }
        let subtasks = self
            .steps
            .into_iter()
            .enumerate()
            .map(|(i, (spec, upstreams))| NewSubtask {
                description: spec.description.unwrap_or_else(|| spec.name.clone()),
                name: spec.name,
                class_name: spec.class_name,
                series_id: series[i],
                parallel_idx: spec.parallel_idx,
                timeout_secs: spec.timeout_secs,
                prohibit_rollback: spec.prohibit_rollback,
                node_type: "JAVA_TASK".into(),
                upstreams,
            })
            .collect();
        Ok(NewTask {
            name: self.name,
            task_type: self.task_type,
            creator_id,
            creator_name: creator_name.to_string(),
            executor: executor.to_string(),
            context: self.context,
            cluster_id: self.cluster_id,
            tenant_id: self.tenant_id,
            host_id: self.host_id,
            prohibit_rollback: self.prohibit_rollback,
            subtasks,
        })
    }
}

/// Kahn's algorithm; `None` on a cycle or a dangling reference.
fn topological_order(steps: &[(StepSpec, Vec<usize>)]) -> Option<Vec<usize>> {
    let n = steps.len();
    let mut indegree = vec![0usize; n];
    let mut downstream = vec![Vec::new(); n];
    for (i, (_, ups)) in steps.iter().enumerate() {
        for &u in ups {
            if u >= n {
                return None;
            }
            indegree[i] += 1;
            downstream[u].push(i);
        }
    }
    let mut ready: std::collections::VecDeque<usize> =
        (0..n).filter(|&i| indegree[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop_front() {
        order.push(i);
        for &d in &downstream[i] {
            indegree[d] -= 1;
            if indegree[d] == 0 {
                ready.push_back(d);
            }
        }
    }
    (order.len() == n).then_some(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_steps_in_run_order() {
        let mut t = TaskTemplate::new("t");
        let last = t.step(StepSpec::new("c", "x"), &[]);
        let first = t.step(StepSpec::new("a", "x"), &[]);
        let _ = last;
        let mid = t.step(StepSpec::new("b", "x"), &[first]);
        let task = t.build(1, "admin", "127.0.0.1").unwrap();
        assert_eq!(task.subtasks[1].series_id, 1);
        assert_eq!(task.subtasks[2].upstreams, vec![first.0]);
        assert_eq!(mid.0, 2);
    }

    #[test]
    fn refuses_empty_templates() {
        assert!(TaskTemplate::new("t").build(1, "admin", "x").is_err());
    }
}
