//! Task records as the API shows them (`TaskInstance`, `BasicTaskInstance`), for the task
//! routes and for every route that answers a task it submitted.

use ocp_api::task::{
    BasicSubtaskInstance, BasicTaskInstance, Creator, SubtaskInstance, TaskCluster, TaskInstance,
    TaskTenant,
};
use std::collections::HashMap;

use ocp_api::ob::ClusterType;
use ocp_api::obdb::SYS_TENANT_ID;
use ocp_api::Timestamp;
use ocp_store::{SubtaskRecord, TaskRecord};

fn ts(millis: Option<i64>) -> Option<Timestamp> {
    millis.map(Timestamp::from_millis)
}

pub fn subtask_view(s: &SubtaskRecord) -> SubtaskInstance {
    SubtaskInstance {
        id: s.id,
        name: s.name.clone(),
        description: s.description.clone(),
        class_name: s.class_name.clone(),
        series_id: s.series_id,
        timeout: s.timeout_secs,
        status: s.status,
        operation: s.operation,
        executor: s.executor.clone(),
        run_time: s.run_time.max(1),
        context: s.context.clone(),
        create_time: Some(Timestamp::from_millis(s.create_time)),
        start_time: ts(s.start_time),
        finish_time: ts(s.finish_time),
        node_type: s.node_type.clone(),
        parallel_idx: s.parallel_idx,
        upstreams: s.upstreams.clone(),
        downstreams: s.downstreams.clone(),
        prohibit_rollback: s.prohibit_rollback,
    }
}

pub fn task_view(t: &TaskRecord) -> TaskInstance {
    TaskInstance {
        id: t.id,
        name: t.name.clone(),
        cluster_id: t.cluster_id,
        tenant_id: t.tenant_id,
        host_id: t.host_id,
        task_type: t.task_type,
        status: t.status,
        creator: t.creator_name.clone(),
        operation: t.operation,
        executor: t.executor.clone(),
        context: t.context.clone(),
        create_time: Some(Timestamp::from_millis(t.create_time)),
        start_time: ts(t.start_time),
        finish_time: ts(t.finish_time),
        prohibit_rollback: Some(t.prohibit_rollback),
        task_definition_id: t.task_definition_id,
        subtasks: t.subtasks.iter().map(subtask_view).collect(),
    }
}

/// A task as the task list shows it; `cluster` names the clusters that still exist (`id`
/// to name and type).
pub fn basic_view(
    t: &TaskRecord,
    clusters: &HashMap<i64, (String, ClusterType)>,
) -> BasicTaskInstance {
    BasicTaskInstance {
        id: t.id,
        name: t.name.clone(),
        cluster: t.cluster_id.map(|id| {
            let known = clusters.get(&id);
            TaskCluster {
                id,
                name: known.map(|(name, _)| name.clone()),
                ob_cluster_id: id,
                cluster_type: known.map(|(_, kind)| *kind),
            }
        }),
        // A seekdb cluster's one tenant (sys, id 1).
        tenant: t.tenant_id.map(|id| TaskTenant {
            id,
            name: (id == SYS_TENANT_ID).then(|| "sys".to_string()),
            ob_tenant_id: id,
            mode: (id == SYS_TENANT_ID).then(|| "MYSQL".to_string()),
        }),
        host_id: t.host_id,
        creator: Creator {
            id: t.creator_id,
            name: t.creator_name.clone(),
        },
        task_type: t.task_type,
        status: t.status,
        operation: t.operation,
        create_time: Some(Timestamp::from_millis(t.create_time)),
        start_time: ts(t.start_time),
        finish_time: ts(t.finish_time),
        subtasks: t
            .subtasks
            .iter()
            .map(|s| BasicSubtaskInstance {
                id: s.id,
                name: s.name.clone(),
                description: s.description.clone(),
                status: s.status,
                operation: s.operation,
            })
            .collect(),
    }
}
