//! The task templates: which steps each cluster operation runs, in OCP's names.

use ocp_api::backup::BackupMode;
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

/// How a new server starts: bootstrapped on an empty directory.
const BOOTSTRAP: [(&str, &str, i64); 2] = [
    ("Bootstrap ob", "BootstrapObTask", 600),
    (
        "Wait observer accessible",
        "WaitObserverAccessibleTask",
        600,
    ),
];
const SET_PASSWORD: [(&str, &str, i64); 1] = [("Set sys password", "SetSysPasswordTask", 120)];

/// Deploys a cluster registered as CREATING (the create-cluster sample's steps that apply).
pub fn create_cluster(cluster_id: i64, server_ids: &[i64]) -> TaskTemplate {
    install_cluster(
        "Create primary OB cluster",
        cluster_id,
        server_ids,
        &[],
        &BOOTSTRAP,
        &SET_PASSWORD,
        &[],
    )
}

/// Builds a standby registered as CREATING from its primary's log: the primary serves its
/// log, the standby is installed and started as a standby (no password is set: it has its
/// primary's users), and the task ends when it reads what the primary had written.
pub fn create_standby(cluster_id: i64, server_ids: &[i64], primary_id: i64) -> TaskTemplate {
    install_cluster(
        "Create standby OB cluster",
        cluster_id,
        server_ids,
        &[(
            "Enable primary log service",
            "EnablePrimaryLogServiceTask",
            180,
        )],
        &[
            ("Bootstrap standby", "BootstrapStandbyTask", 900),
            (
                "Wait observer accessible",
                "WaitObserverAccessibleTask",
                600,
            ),
        ],
        &[],
        &[("Wait standby synchronized", "WaitStandbySyncTask", 1900)],
    )
    .value("primary_cluster_id", primary_id.to_string())
    .value("standby_cluster_id", cluster_id.to_string())
}

/// The steps that exchange the roles of a pair: the standby is checked to follow, the primary
/// made read-only, and the standby becomes the primary once it has all of the log the
/// primary wrote, so no acknowledged write is lost; the old primary then restarts to follow
/// the new one (seekdb follows a changed source only after a restart).
const SWITCHOVER: [(&str, &str, i64); 13] = [
    ("Check standby synchronized", "CheckStandbySyncTask", 1900),
    (
        "Switch primary to standby",
        "SwitchPrimaryToStandbyTask",
        300,
    ),
    ("Wait standby has all log", "CheckStandbySyncTask", 1900),
    (
        "Switch standby to primary",
        "SwitchStandbyToPrimaryTask",
        300,
    ),
    ("Follow new primary", "FollowNewPrimaryTask", 120),
    ("Update cluster roles", "UpdateSwitchoverRolesTask", 60),
    ("Prepare restart observer", "PrepareRestartObserverTask", 60),
    ("Stop observer process", "StopObserverProcessTask", 600),
    ("Start observer process", "StartObserverProcessTask", 600),
    (
        "Wait observer accessible",
        "WaitObserverAccessibleTask",
        600,
    ),
    ("Update observer status", "UpdateObserverRunningTask", 60),
    ("Wait standby synchronized", "WaitOldPrimarySyncTask", 1900),
    ("Update OB cluster status", "UpdateObClusterStatusTask", 60),
];

/// Switchover: the standby becomes the primary of the pair and the primary its standby.
/// Not rolled back (a half-done switchover is finished by a retry, never undone).
pub fn switchover(primary_id: i64, primary_server: i64, standby_id: i64) -> TaskTemplate {
    let mut template = TaskTemplate::new("Switchover OB cluster")
        .cluster(primary_id)
        .value("server_id", primary_server.to_string())
        .value("old_primary_id", primary_id.to_string())
        .value("old_standby_id", standby_id.to_string())
        .value("standby_cluster_id", standby_id.to_string())
        .prohibit_rollback();
    template.chain(SWITCHOVER.map(|(n, c, t)| spec(n, c, t, None)), &[]);
    template
}

/// Failover: the standby takes the primary's role with the log it has; the old primary is
/// fenced off first (read-only and stopped if it answers, recorded STOPPED if not).
pub fn failover(primary_id: i64, standby_id: i64) -> TaskTemplate {
    let mut template = TaskTemplate::new("Failover OB cluster")
        .cluster(standby_id)
        .value("old_primary_id", primary_id.to_string())
        .value("old_standby_id", standby_id.to_string())
        .prohibit_rollback();
    let steps = [
        ("Fence old primary", "FenceOldPrimaryTask", 300),
        ("Activate standby", "ActivateStandbyTask", 300),
        ("Update cluster roles", "UpdateFailoverRolesTask", 60),
        ("Update OB cluster status", "UpdateObClusterStatusTask", 60),
    ];
    template.chain(steps.map(|(n, c, t)| spec(n, c, t, None)), &[]);
    template
}

/// Restores a backup set into a cluster registered as CREATING: installed as a deploy is,
/// with the set's data in place of a bootstrap.
pub fn restore_cluster(cluster_id: i64, server_ids: &[i64], restore_id: i64) -> TaskTemplate {
    install_cluster(
        "Restore OB cluster",
        cluster_id,
        server_ids,
        &[],
        &[
            ("Restore backup data", "RestoreBackupDataTask", 6 * 3600),
            ("Start observer process", "StartObserverProcessTask", 600),
            ("Wait observer active", "WaitObserverActiveTask", 600),
        ],
        &[],
        &[("Update restore status", "UpdateRestoreStatusTask", 60)],
    )
    .value("restore_id", restore_id.to_string())
}

/// The steps that load a logical set into a running server.
const LOAD_LOGICAL: [(&str, &str, i64); 3] = [
    ("Check restore target", "CheckRestoreTargetTask", 6 * 3600),
    (
        "Restore backup data",
        "RestoreLogicalBackupDataTask",
        6 * 3600,
    ),
    ("Update restore status", "UpdateRestoreStatusTask", 60),
];

/// Restores a logical set into a new cluster registered as CREATING: deployed as a new
/// cluster is, then loaded.
pub fn restore_logical_cluster(
    cluster_id: i64,
    server_ids: &[i64],
    restore_id: i64,
) -> TaskTemplate {
    install_cluster(
        "Restore OB cluster",
        cluster_id,
        server_ids,
        &[],
        &BOOTSTRAP,
        &SET_PASSWORD,
        &LOAD_LOGICAL,
    )
    .value("restore_id", restore_id.to_string())
}

/// Loads a logical set into a running cluster whose databases of the set hold no table.
pub fn restore_logical(
    cluster_id: i64,
    server_id: i64,
    restore_id: i64,
    backup_set_id: i64,
) -> TaskTemplate {
    let mut template = TaskTemplate::new("Restore OB cluster from logical backup")
        .cluster(cluster_id)
        .value("server_id", server_id.to_string())
        .value("restore_id", restore_id.to_string())
        .value("backup_set_id", backup_set_id.to_string());
    template.chain(LOAD_LOGICAL.map(|(n, c, t)| spec(n, c, t, None)), &[]);
    template
}

/// Restores a set into the cluster it was taken of: the set is checked before the server
/// stops, and the server starts again on the set's data.
pub fn restore_in_place(
    cluster_id: i64,
    server_id: i64,
    restore_id: i64,
    backup_set_id: i64,
) -> TaskTemplate {
    let mut template = TaskTemplate::new("Restore OB cluster in place")
        .cluster(cluster_id)
        .value("server_id", server_id.to_string())
        .value("restore_id", restore_id.to_string())
        .value("backup_set_id", backup_set_id.to_string());
    let steps = [
        ("Check backup set", "CheckBackupSetTask", 6 * 3600),
        ("Prepare restart observer", "PrepareRestartObserverTask", 60),
        ("Stop observer process", "StopObserverProcessTask", 600),
        (
            "Restore backup data",
            "RestoreBackupDataInPlaceTask",
            6 * 3600,
        ),
        ("Start observer process", "StartObserverProcessTask", 600),
        ("Wait observer active", "WaitObserverActiveTask", 600),
        ("Update observer status", "UpdateObserverRunningTask", 60),
        ("Sync cluster info", "SyncClusterInfoTask", 120),
        ("Update OB cluster status", "UpdateObClusterStatusTask", 60),
        ("Update restore status", "UpdateRestoreStatusTask", 60),
    ];
    template.chain(steps.map(|(n, c, t)| spec(n, c, t, None)), &[]);
    template
}

/// A new cluster's task: prepare (and `prepare`), then per server pre check, install, make
/// its directory and `start` it; then `before`, the statuses and the cluster's info, and
/// `after`.
fn install_cluster(
    name: &str,
    cluster_id: i64,
    server_ids: &[i64],
    prepare: &[(&str, &str, i64)],
    start: &[(&str, &str, i64)],
    before: &[(&str, &str, i64)],
    after: &[(&str, &str, i64)],
) -> TaskTemplate {
    let mut template = TaskTemplate::new(name)
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
    let first = prepare.iter().fold(first, |previous, &(n, c, t)| {
        template.step(spec(n, c, t, None), &[previous])
    });
    let mut ends = Vec::new();
    for i in 0..server_ids.len() {
        let idx = (!single).then_some(i);
        let chain = [
            ("Pre check for install OB", "PreCheckForInstallObTask", 300),
            ("Install rpm", "InstallRpmTask", 1800),
            ("Make dir for ob", "MakeDirForObTask", 300),
        ];
        let mut previous = vec![first];
        for &(n, c, t) in chain.iter().chain(start) {
            previous = vec![template.step(spec(n, c, t, idx), &previous)];
        }
        ends.extend(previous);
    }
    let settle = [
        ("Update observer status", "UpdateObserverRunningTask", 60),
        ("Sync cluster info", "SyncClusterInfoTask", 120),
        ("Update OB cluster status", "UpdateObClusterStatusTask", 60),
    ];
    let tail = before
        .iter()
        .chain(&settle)
        .chain(after)
        .map(|&(n, c, t)| spec(n, c, t, None));
    template.chain(tail, &ends);
    template
}

/// A physical set: the server stops for the copy (RESTARTING meanwhile) and serves again
/// before the set is checked.
const PHYSICAL_SET: [(&str, &str, i64); 6] = [
    ("Prepare data backup", "PrepareDataBackupTask", 120),
    ("Prepare restart observer", "PrepareRestartObserverTask", 60),
    ("Backup data", "BackupDataTask", 6 * 3600),
    ("Wait observer active", "WaitObserverActiveTask", 600),
    ("Update observer status", "UpdateObserverRunningTask", 60),
    ("Verify backup set", "VerifyBackupSetTask", 6 * 3600),
];

/// Back up now: a full set of the cluster's one server, then checked against its manifest.
/// A physical set is taken while the server is stopped for the copy; it is RESTARTING
/// meanwhile, so no start, stop or restart runs beside the copy. A logical set is a dump
/// of the running server.
pub fn back_up_now(
    cluster_id: i64,
    server_id: i64,
    backup_set_id: i64,
    mode: BackupMode,
) -> TaskTemplate {
    let mut template = TaskTemplate::new("Back up OB cluster")
        .cluster(cluster_id)
        .value("server_id", server_id.to_string())
        .value("backup_set_id", backup_set_id.to_string())
        .value("backup_mode", mode.as_str());
    if mode == BackupMode::LogicalBackup {
        let steps = [
            ("Prepare data backup", "PrepareDataBackupTask", 120),
            ("Backup data", "BackupLogicalDataTask", 6 * 3600),
            ("Verify backup set", "VerifyBackupSetTask", 6 * 3600),
        ];
        template.chain(steps.map(|(n, c, t)| spec(n, c, t, None)), &[]);
        return template;
    }
    let steps =
        PHYSICAL_SET
            .iter()
            .chain(&[("Update OB cluster status", "UpdateObClusterStatusTask", 60)]);
    template.chain(steps.map(|&(n, c, t)| spec(n, c, t, None)), &[]);
    template
}

/// Upgrades a cluster's one server to the package `package_id`: checked and installed while
/// the server runs; then one stop, in which the physical backup set is written, and the start
/// on the new package, checked; a failure after the stop goes back to the old package and the
/// set's data, which are the data at the stop.
pub fn upgrade_cluster(
    cluster_id: i64,
    server_id: i64,
    backup_set_id: i64,
    package_id: i64,
    old_package_id: i64,
) -> TaskTemplate {
    let mut template = TaskTemplate::new("Upgrade OB cluster")
        .cluster(cluster_id)
        .value("server_id", server_id.to_string())
        .value("backup_set_id", backup_set_id.to_string())
        .value("backup_mode", BackupMode::PhysicalBackup.as_str())
        .value("package_id", package_id.to_string())
        .value("old_package_id", old_package_id.to_string());
    let steps = [
        ("Check upgrade package", "CheckUpgradePackageTask", 600),
        ("Install rpm", "InstallUpgradeRpmTask", 1800),
        ("Prepare data backup", "PrepareDataBackupTask", 120),
        ("Prepare restart observer", "PrepareRestartObserverTask", 60),
        ("Upgrade observer", "UpgradeObserverTask", 6 * 3600),
        ("Update observer status", "UpdateObserverRunningTask", 60),
        ("Sync cluster info", "SyncClusterInfoTask", 120),
        ("Update OB cluster status", "UpdateObClusterStatusTask", 60),
    ];
    template.chain(steps.map(|(n, c, t)| spec(n, c, t, None)), &[]);
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
        assert!(build(restore_cluster(1, &[2], 3)).unwrap() > 3);
        assert!(build(back_up_now(1, 2, 3, BackupMode::PhysicalBackup)).unwrap() > 3);
        assert!(build(back_up_now(1, 2, 3, BackupMode::LogicalBackup)).unwrap() > 2);
        assert!(build(restore_logical(1, 2, 3, 4)).unwrap() > 2);
        assert!(build(restore_logical_cluster(1, &[2], 3)).unwrap() > 5);
        assert!(build(restore_in_place(1, 2, 3, 4)).unwrap() > 3);
        assert!(build(take_over(1, 2)).unwrap() > 1);
        assert!(build(upgrade_cluster(1, 2, 3, 4, 5)).unwrap() > 5);
        assert!(build(delete_cluster(1, &[2, 3], true)).unwrap() > 1);
        assert!(build(major_compaction(1)).unwrap() > 0);
    }
}
