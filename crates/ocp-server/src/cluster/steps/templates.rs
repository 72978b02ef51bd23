//! The task templates: which steps each cluster operation runs, in OCP's names.

use ocp_task::{NodeId, StepSpec, TaskTemplate};

use super::*;
use crate::cluster::operation::ServerOperation;

fn spec(name: &str, class_name: &str, timeout: i64, idx: Option<usize>) -> StepSpec {
    let s = StepSpec::new(name, class(class_name)).timeout_secs(timeout);
    match idx {
        Some(i) => s.parallel(i),
        None => s,
    }
}

/// The per-server steps of each operation, as `(name, class, timeout)`.
fn server_steps(operation: ServerOperation) -> Vec<(&'static str, &'static str, i64)> {
    let start = [
        ("Start observer process", "StartObserverProcessTask", 600),
        ("Wait observer active", "WaitObserverActiveTask", 600),
        ("Start ocp agent service", "StartOcpAgentServiceTask", 300),
        ("Start server", "StartServerTask", 300),
        ("Update observer status", "UpdateObserverRunningTask", 60),
    ];
    let stop = [
        ("Stop server", "StopServerTask", 300),
        ("Stop observer process", "StopObserverProcessTask", 600),
        ("Update observer status", "UpdateObserverStoppedTask", 60),
    ];
    match operation {
        ServerOperation::Start => {
            std::iter::once(("Prepare start observer", "PrepareStartObserverTask", 60))
                .chain(start)
                .collect()
        }
        ServerOperation::Stop => {
            std::iter::once(("Prepare stop observer", "PrepareStopObserverTask", 60))
                .chain(stop)
                .collect()
        }
        ServerOperation::Restart => {
            std::iter::once(("Prepare restart observer", "PrepareRestartObserverTask", 60))
                .chain(stop.into_iter().take(2))
                .chain(start)
                .collect()
        }
    }
}

/// Start, stop or restart servers of a cluster: one branch per server (one chain for one
/// server, as in `004_*`), then the zone and cluster status and, when servers run, the
/// cluster's info.
pub fn server_operation(
    what: &str,
    cluster_id: i64,
    server_ids: &[i64],
    operation: ServerOperation,
) -> TaskTemplate {
    let mut template = TaskTemplate::new(operation.task_name(what))
        .cluster(cluster_id)
        .value("operation", operation.as_str())
        .list(
            "server_ids",
            server_ids.iter().map(i64::to_string).collect(),
        );
    if let [only] = server_ids {
        template = template.value("server_id", only.to_string());
    }
    let single = server_ids.len() == 1;
    let mut ends: Vec<NodeId> = Vec::new();
    for i in 0..server_ids.len() {
        let idx = (!single).then_some(i);
        let specs: Vec<StepSpec> = server_steps(operation)
            .into_iter()
            .map(|(n, c, t)| spec(n, c, t, idx))
            .collect();
        let mut previous: Vec<NodeId> = Vec::new();
        for s in specs {
            previous = vec![template.step(s, &previous)];
        }
        ends.extend(previous);
    }
    if !single {
        ends = vec![template.step(
            StepSpec::new("Wait node", format!("{PKG}.WaitNode")).timeout_secs(30),
            &ends,
        )];
    }
    let mut tail = vec![spec("Update zone status", "UpdateZoneStatusTask", 60, None)];
    if operation != ServerOperation::Stop {
        tail.push(spec("Sync cluster info", "SyncClusterInfoTask", 120, None));
    }
    tail.push(spec(
        "Update OB cluster status",
        "UpdateObClusterStatusTask",
        60,
        None,
    ));
    template.chain(tail, &ends);
    template
}

/// Deploys a cluster registered as CREATING (the create-cluster sample's steps that apply).
pub fn create_cluster(cluster_id: i64, server_ids: &[i64]) -> TaskTemplate {
    let mut template = TaskTemplate::new("Create primary OB cluster")
        .cluster(cluster_id)
        .value("target_cluster_status", "RUNNING")
        .list(
            "server_ids",
            server_ids.iter().map(i64::to_string).collect(),
        );
    if let [only] = server_ids {
        template = template.value("server_id", only.to_string());
    }
    let single = server_ids.len() == 1;
    let first = template.step(
        spec(
            "Prepare install cluster",
            "PrepareInstallClusterTask",
            60,
            None,
        ),
        &[],
    );
    let mut ends = Vec::new();
    for i in 0..server_ids.len() {
        let idx = (!single).then_some(i);
        let chain = [
            ("Pre check for install OB", "PreCheckForInstallObTask", 300),
            ("Install rpm", "InstallRpmTask", 1800),
            ("Make dir for ob", "MakeDirForObTask", 300),
            ("Bootstrap ob", "BootstrapObTask", 600),
            (
                "Wait observer accessible",
                "WaitObserverAccessibleTask",
                600,
            ),
        ];
        let mut previous = vec![first];
        for (n, c, t) in chain {
            previous = vec![template.step(spec(n, c, t, idx), &previous)];
        }
        ends.extend(previous);
    }
    template.chain(
        [
            spec("Set sys password", "SetSysPasswordTask", 120, None),
            spec(
                "Update observer status",
                "UpdateObserverRunningTask",
                60,
                None,
            ),
            spec("Sync cluster info", "SyncClusterInfoTask", 120, None),
            spec(
                "Update OB cluster status",
                "UpdateObClusterStatusTask",
                60,
                None,
            ),
        ],
        &ends,
    );
    template
}

/// Registers a running server: no process is touched.
pub fn take_over(cluster_id: i64, server_id: i64) -> TaskTemplate {
    let mut template = TaskTemplate::new("Take over OB cluster")
        .cluster(cluster_id)
        .value("server_id", server_id.to_string());
    template.chain(
        [
            spec("Wait observer active", "WaitObserverActiveTask", 60, None),
            spec(
                "Take over observer process",
                "TakeOverObserverProcessTask",
                60,
                None,
            ),
            spec(
                "Update observer status",
                "UpdateObserverRunningTask",
                60,
                None,
            ),
            spec("Sync cluster info", "SyncClusterInfoTask", 120, None),
            spec(
                "Update OB cluster status",
                "UpdateObClusterStatusTask",
                60,
                None,
            ),
        ],
        &[],
    );
    template
}

/// Stops every server, removes their directories unless `keep_data`, forgets the cluster.
pub fn delete_cluster(cluster_id: i64, server_ids: &[i64], keep_data: bool) -> TaskTemplate {
    let mut template = TaskTemplate::new("Delete OB cluster")
        .cluster(cluster_id)
        .value("keep_data", keep_data.to_string())
        .list(
            "server_ids",
            server_ids.iter().map(i64::to_string).collect(),
        )
        .prohibit_rollback();
    let mut ends = Vec::new();
    for i in 0..server_ids.len() {
        let mut previous = Vec::new();
        for (n, c, t) in [
            ("Prepare delete observer", "PrepareDeleteObserverTask", 60),
            ("Stop observer process", "StopObserverProcessTask", 600),
            ("Remove ob dir", "RemoveObDirTask", 600),
        ] {
            previous = vec![template.step(spec(n, c, t, Some(i)), &previous)];
        }
        ends.extend(previous);
    }
    template.step(
        spec("Delete cluster metadata", "DeleteClusterMetaTask", 60, None),
        &ends,
    );
    template
}

/// A major compaction, followed to its end.
pub fn major_compaction(cluster_id: i64) -> TaskTemplate {
    let mut template = TaskTemplate::new("Major compaction").cluster(cluster_id);
    template.chain(
        [
            spec("Trigger compaction", "TriggerCompactionTask", 120, None),
            spec("Wait compaction finished", "WaitCompactionTask", 3600, None),
        ],
        &[],
    );
    template
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_server_has_the_steps_of_the_sample() {
        let task = server_operation("server", 20, &[3], ServerOperation::Start)
            .build(1, "admin", "x")
            .unwrap();
        assert_eq!(task.name, "Start OB server");
        let names: Vec<&str> = task.subtasks.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Prepare start observer",
                "Start observer process",
                "Wait observer active",
                "Start ocp agent service",
                "Start server",
                "Update observer status",
                "Update zone status",
                "Sync cluster info",
                "Update OB cluster status"
            ]
        );
    }

    #[test]
    fn every_template_builds() {
        let build = |t: TaskTemplate| t.build(1, "admin", "x").map(|t| t.subtasks.len());
        for operation in [
            ServerOperation::Start,
            ServerOperation::Stop,
            ServerOperation::Restart,
        ] {
            assert!(build(server_operation("cluster", 1, &[2, 3], operation)).unwrap() > 3);
        }
        assert!(build(create_cluster(1, &[2])).unwrap() > 3);
        assert!(build(take_over(1, 2)).unwrap() > 1);
        assert!(build(delete_cluster(1, &[2, 3], true)).unwrap() > 1);
        assert!(build(major_compaction(1)).unwrap() > 0);
    }
}
