//! Backup and restore on real seekdb, through the HTTP API: physical and logical sets
//! written to a directory, restored into a new cluster with exactly the rows, users and
//! grants of the backup; a damaged set refused before anything is unpacked or loaded.

mod common;
mod seekdb_kit;

use std::path::Path;

use ocp_ob::ObClient;
use ocp_testkit::{free_port, Api};
use seekdb_kit::*;
use serde_json::{json, Value};

async fn count(client: &mut ObClient, sql: &str) -> i64 {
    client.fetch_i64(sql).await.expect(sql)
}

/// What the rows of `shop.items` are: their count and the sum of their ids.
async fn items(port: u16) -> (i64, i64) {
    let mut root = connect(port, "root", "Root-Pw-1").await;
    let rows = (
        count(&mut root, "SELECT COUNT(*) FROM shop.items").await,
        count(&mut root, "SELECT CAST(SUM(id) AS SIGNED) FROM shop.items").await,
    );
    root.close().await;
    rows
}

fn back_up(storage: &Path) -> Value {
    back_up_as("PHYSICAL_BACKUP", storage)
}

fn back_up_as(mode: &str, storage: &Path) -> Value {
    json!({"backupMode": mode, "dataBackupTaskType": "FULL_BACKUP",
           "obBackupStorageBaseInfo": {"backupStorageType": "BACKUP_STORAGE_FILE",
                                       "storageUrl": format!("file://{}", storage.display())}})
}

/// The task a backup or restore answer names.
fn task_of(reply: &Value) -> i64 {
    reply["backupObjectOpsResultList"][0]["taskIdList"][0]
        .as_i64()
        .unwrap_or_else(|| panic!("a task in {reply:#}"))
}

async fn failed_log(admin: &Api, task: &Value) -> (String, String) {
    let id = task["id"].as_i64().unwrap();
    let failed = task["subtasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["status"] == "FAILED")
        .unwrap_or_else(|| panic!("a failed subtask in {task:#}"));
    let sid = failed["id"].as_i64().unwrap();
    let log = admin
        .get(&format!("/api/v2/tasks/instances/{id}/subtasks/{sid}/log"))
        .await;
    (failed["name"].as_str().unwrap().to_string(), log.text)
}

#[tokio::test]
async fn a_physical_set_is_restored_into_a_new_cluster_and_a_damaged_one_is_refused() {
    // Strategies are looked at every 300 ms, and a retention "day" lasts 1.5 s.
    let mut sb = sandbox_with(&[
        "--backup-schedule-interval-ms",
        "300",
        "--backup-day-ms",
        "1500",
    ])
    .await;
    let admin = sb.server.admin();
    // Rows, a user and its grant, as the backup will hold them.
    let (id, port) = deploy_shop(&sb, &admin, "source", &[]).await;
    let base = format!("/api/v2/ob/clusters/{id}/backup");

    let ability = admin.get(&format!("{base}/ability")).await.ok();
    let ability = ability.data();
    assert_eq!(
        ability["obDataBackupSupportAbility"]["fullBackupEnabled"],
        true
    );
    assert_eq!(
        ability["obDataBackupSupportAbility"]["incrementBackupEnabled"],
        false
    );
    assert_eq!(ability["logBackupEnabled"], false);
    assert!(ability["logBackupHint"].as_str().unwrap().contains("log"));

    // Bad requests are refused with the field, and start nothing.
    let scratch = ocp_testkit::temp_dir().unwrap();
    let storage = scratch.path().join("backups");
    let tasks = format!("{base}/task/dataBackupTasks");
    let mut relative = back_up(&storage);
    relative["obBackupStorageBaseInfo"]["storageUrl"] = json!("backups/here");
    let refused = admin.post(&tasks, &relative).await;
    assert_eq!(refused.error_code(), 10001, "{}", refused.text);
    assert!(refused.text.contains("storageUrl"), "{}", refused.text);
    let mut incremental = back_up(&storage);
    incremental["dataBackupTaskType"] = json!("INCREMENTAL_BACKUP");
    assert_eq!(admin.post(&tasks, &incremental).await.error_code(), 10011);
    let unknown = admin
        .post(&tasks, &json!({"obBackupStorageBaseInfo": {}}))
        .await;
    assert_eq!(unknown.error_code(), 10001, "{}", unknown.text);
    let none = admin.get(&tasks).await.ok();
    assert_eq!(none.data()["page"]["totalElements"], 0);

    // Back up now: the server stops for the copy and serves again; the set is DONE.
    let started = admin.post(&tasks, &back_up(&storage)).await.ok();
    assert_eq!(started.data()["obBackupTaskType"], "START_DATA_BACKUP");
    let task_id = task_of(started.data());
    let done = admin.wait_task(task_id, DEPLOY).await;
    if done["status"] != "SUCCESSFUL" {
        panic!("the backup failed: {:?}", failed_log(&admin, &done).await);
    }
    let copy_step = done["subtasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Backup data")
        .expect("a Backup data step");
    let log = admin
        .get(&format!(
            "/api/v2/tasks/instances/{task_id}/subtasks/{}/log",
            copy_step["id"]
        ))
        .await;
    assert!(log.text.contains("downtime"), "{}", log.text);
    let sets = admin.get(&tasks).await.ok();
    let set = &sets.data()["contents"][0];
    assert_eq!(set["status"], "DONE", "{set:#}");
    assert_eq!(set["backupMode"], "PHYSICAL_BACKUP");
    assert_eq!(
        set["backupUri"],
        format!("file://{}/", storage.display()).as_str()
    );
    assert!(set["size"].as_i64().unwrap() > 1000, "{set:#}");
    let set_id = set["backupSetId"].as_i64().unwrap();
    let set_dir = storage.join(format!("backup_set_{set_id}"));
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(set_dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["clusterName"], "source");
    assert_eq!(manifest["files"][0]["name"], "data.tar.zst");
    assert!(manifest["obVersion"].as_str().unwrap().contains("seekdb"));
    wait_status(&admin, id, "RUNNING").await;

    // Rows written after the backup are not in it.
    as_root(port, &["INSERT INTO shop.items VALUES (3, 'plum')"]).await;
    assert_eq!(items(port).await, (3, 6));

    // Restore into a new cluster on another port: exactly the rows of the backup, with the
    // user and its grant.
    let restore_port = free_port("0.0.0.0").unwrap();
    let host_id = sb.host_id(0);
    let restore = |name: &str, port: u16| {
        json!({"backupSetId": set_id, "restoreClusterName": name,
               "hostId": host_id, "sqlPort": port})
    };
    let mut no_such = restore("copy", restore_port);
    no_such["backupSetId"] = json!(set_id + 100);
    let refused = admin.post(&format!("{base}/restore"), &no_such).await;
    assert_eq!(refused.error_code(), 10001, "{}", refused.text);
    assert!(refused.text.contains("backupSetId"), "{}", refused.text);
    let taken = admin
        .post(&format!("{base}/restore"), &restore("source", restore_port))
        .await;
    assert_eq!(taken.error_code(), 10003, "{}", taken.text);
    assert!(taken.text.contains("restoreClusterName"), "{}", taken.text);

    let restoring = admin
        .post(&format!("{base}/restore"), &restore("copy", restore_port))
        .await
        .ok();
    assert_eq!(restoring.data()["obBackupTaskType"], "RESTORE");
    let copy_id = restoring.data()["backupObjectOpsResultList"][0]["obBackupObjectList"][0]
        ["clusterId"]
        .as_i64()
        .unwrap();
    let restored = admin.wait_task(task_of(restoring.data()), DEPLOY).await;
    if restored["status"] != "SUCCESSFUL" {
        panic!(
            "the restore failed: {:?}",
            failed_log(&admin, &restored).await
        );
    }
    let copy = wait_status(&admin, copy_id, "RUNNING").await;
    assert_eq!(copy["name"], "copy");
    assert_eq!(items(restore_port).await, (2, 3));
    let mut clerk = connect(restore_port, "clerk", "Clerk-Pw-1").await;
    assert_eq!(
        count(&mut clerk, "SELECT COUNT(*) FROM shop.items").await,
        2
    );
    assert!(clerk
        .execute("INSERT INTO shop.items VALUES (9, 'fig')")
        .await
        .is_err());
    clerk.close().await;
    // The copy writes in its own directory: the source is untouched.
    let copy_home = home_of(&copy);
    assert!(Path::new(&copy_home).join("store").is_dir());
    assert_ne!(copy_home, home_of(&cluster(&admin, id).await));
    assert_eq!(items(port).await, (3, 6));
    let restores = admin.get(&format!("{base}/task/restoreTasks")).await.ok();
    let listed = &restores.data()["contents"][0];
    assert_eq!(listed["status"], "RESTORE_SUCCESS", "{listed:#}");
    assert_eq!(listed["restoreClusterName"], "copy");
    assert_eq!(listed["backupSetId"], set_id);

    // Restore in place: the cluster's rows become the set's again, its server RUNNING.
    as_root(port, &["INSERT INTO shop.items VALUES (4, 'fig')"]).await;
    let in_place = json!({"backupSetId": set_id, "restoreClusterId": id});
    let mut elsewhere = in_place.clone();
    elsewhere["restoreClusterId"] = json!(copy_id);
    let refused = admin.post(&format!("{base}/restore"), &elsewhere).await;
    assert_eq!(refused.error_code(), 10011, "{}", refused.text);
    let mut mixed = in_place.clone();
    mixed["hostId"] = json!(host_id);
    let refused = admin.post(&format!("{base}/restore"), &mixed).await;
    assert_eq!(refused.error_code(), 10001, "{}", refused.text);
    assert!(refused.text.contains("hostId"), "{}", refused.text);
    let replacing = admin.post(&format!("{base}/restore"), &in_place).await.ok();
    let replaced = admin.wait_task(task_of(replacing.data()), DEPLOY).await;
    if replaced["status"] != "SUCCESSFUL" {
        panic!(
            "the restore in place failed: {:?}",
            failed_log(&admin, &replaced).await
        );
    }
    let source = wait_status(&admin, id, "RUNNING").await;
    assert_eq!(items(port).await, (2, 3));
    assert!(!Path::new(&home_of(&source))
        .join(".ocp-restore-previous")
        .exists());
    let restores = admin.get(&format!("{base}/task/restoreTasks")).await.ok();
    let listed = &restores.data()["contents"][0];
    assert_eq!(
        (&listed["status"], &listed["restoreClusterId"]),
        (&json!("RESTORE_SUCCESS"), &json!(id)),
        "{listed:#}"
    );

    // SIGKILL the platform server while the copy runs: after a restart the task ends, the
    // set is DONE and seekdb serves, once.
    let started = admin.post(&tasks, &back_up(&storage)).await.ok();
    let crash_task = task_of(started.data());
    let path = format!("/api/v2/tasks/instances/{crash_task}");
    copy_running(&admin, &path).await;
    sb.server.restart().expect("the server starts again");
    let admin = sb.server.admin();
    let done = admin.wait_task(crash_task, DEPLOY).await;
    if done["status"] != "SUCCESSFUL" {
        panic!(
            "the backup failed after the crash: {:?}",
            failed_log(&admin, &done).await
        );
    }
    let source = wait_status(&admin, id, "RUNNING").await;
    assert_eq!(seekdb_processes(&home_of(&source)).len(), 1);
    assert_eq!(items(port).await, (2, 3));
    let sets = admin.get(&tasks).await.ok();
    assert_eq!(sets.data()["contents"][0]["status"], "DONE");
    assert_eq!(sets.data()["page"]["totalElements"], 2);

    // One flipped byte: the restore fails on its checksum and unpacks nothing.
    let data = set_dir.join("data.tar.zst");
    let mut bytes = std::fs::read(&data).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&data, &bytes).unwrap();
    let damaged = admin
        .post(
            &format!("{base}/restore"),
            &restore("damaged", free_port("0.0.0.0").unwrap()),
        )
        .await
        .ok();
    let damaged_task = task_of(damaged.data());
    let damaged_id = damaged.data()["backupObjectOpsResultList"][0]["obBackupObjectList"][0]
        ["clusterId"]
        .as_i64()
        .unwrap();
    let failed = admin.wait_task(damaged_task, DEPLOY).await;
    assert_eq!(failed["status"], "FAILED", "{failed:#}");
    let (step, log) = failed_log(&admin, &failed).await;
    assert_eq!(step, "Restore backup data");
    assert!(log.contains("checksum mismatch"), "{log}");
    let damaged_home = home_of(&cluster(&admin, damaged_id).await);
    assert!(!Path::new(&damaged_home).join("store").exists());
    let restores = admin.get(&format!("{base}/task/restoreTasks")).await.ok();
    assert_eq!(restores.data()["contents"][0]["status"], "RESTORE_FAIL");
    // In place, the damaged set is refused before the server stops: nothing changes.
    refused_on_checksum(&admin, &base, &in_place).await;
    let source = cluster(&admin, id).await;
    assert_eq!(source["status"], "RUNNING", "{source:#}");
    assert_eq!(items(port).await, (2, 3));
    // Its rollback forgets the cluster it registered.
    admin
        .post_empty(&format!("/api/v2/tasks/instances/{damaged_task}/rollback"))
        .await
        .ok();
    let rolled = admin.wait_task(damaged_task, WAIT).await;
    assert_eq!(rolled["status"], "SUCCESSFUL", "{rolled:#}");
    let gone = admin
        .get(&format!("/api/v2/ob/clusters/{damaged_id}"))
        .await;
    assert_eq!(gone.error_code(), 10002, "{}", gone.text);

    // A strategy: bad ones refused with the field; a good one fires once at its time, and
    // sets past its retention go, the newest finished one kept.
    let strategy_path = format!("{base}/config/backupStrategy");
    let missing = admin.get(&strategy_path).await;
    assert_eq!(missing.error_code(), 10002, "{}", missing.text);
    let overview = admin.get(&format!("{base}/overview")).await.ok();
    assert_eq!(
        overview.data()["obClusterBackupStatus"],
        "NO_BACKUP_STRATEGY"
    );
    assert_eq!(overview.data()["backupScheduleStatus"], "NONE");
    let soon = chrono::Utc::now() + chrono::Duration::seconds(4);
    let mut strategy = json!({
        "backupMode": "PHYSICAL_BACKUP",
        "obBackupScheduleConfig": {
            "backupScheduleMode": "WEEK",
            "backupScheduleTime": soon.format("%H:%M:%S%.3f+00:00").to_string(),
            "dayAndDataBackupModelMap": {"1": "FULL_BACKUP", "2": "FULL_BACKUP",
                "3": "FULL_BACKUP", "4": "FULL_BACKUP", "5": "FULL_BACKUP",
                "6": "FULL_BACKUP", "7": "FULL_BACKUP"},
            "cleanEnabled": true, "backupDataRetentionDays": 2},
        "obBackupThresholdConfig": {"dataBackupTimeoutMinutes": 30,
                                    "noSuccessfulDataBackupAlarmDays": 2},
        "obBackupServiceStorageConfig": {"configName": "local",
            "obBackupStorageBaseInfo": {"backupStorageType": "BACKUP_STORAGE_FILE",
                                        "storageUrl": storage.display().to_string()},
            "alarmStoragePercentageThreshold": 0}
    });
    let mut logs = strategy.clone();
    logs["obBackupScheduleConfig"]["startLogBackup"] = json!(true);
    let refused = admin.post(&strategy_path, &logs).await;
    assert_eq!(refused.error_code(), 10011, "{}", refused.text);
    let mut bad_day = strategy.clone();
    bad_day["obBackupScheduleConfig"]["dayAndDataBackupModelMap"] = json!({"8": "FULL_BACKUP"});
    let refused = admin.post(&strategy_path, &bad_day).await;
    assert_eq!(refused.error_code(), 10001, "{}", refused.text);
    assert!(
        refused.text.contains("dayAndDataBackupModelMap"),
        "{}",
        refused.text
    );
    let created = admin.post(&strategy_path, &strategy).await.ok();
    assert_eq!(created.data()["obBackupTaskType"], "CREATE_BACKUP_STRATEGY");
    assert_eq!(
        admin.post(&strategy_path, &strategy).await.error_code(),
        10003
    );
    let kept = admin.get(&strategy_path).await.ok();
    assert_eq!(
        kept.data()["obBackupScheduleConfig"]["backupDataRetentionDays"],
        2
    );
    let scheduled = admin
        .poll(&tasks, DEPLOY, |page| {
            page["contents"][0]["backupSetId"].as_i64() > Some(2)
                && page["contents"][0]["status"] == "DONE"
        })
        .await
        .unwrap_or_else(|last| panic!("the schedule never fired: {last:#}"));
    let scheduled_set = scheduled["contents"][0]["backupSetId"].as_i64().unwrap();
    let task = admin
        .get(&format!(
            "/api/v2/tasks/instances/{}",
            scheduled["contents"][0]["taskId"]
        ))
        .await
        .ok();
    assert_eq!(task.data()["type"], "SCHEDULED", "{}", task.text);
    // Older sets expire; the scheduled one is the newest finished set and stays.
    let left = admin
        .poll(&tasks, WAIT, |page| page["page"]["totalElements"] == 1)
        .await
        .unwrap_or_else(|last| panic!("old sets were never deleted: {last:#}"));
    assert_eq!(left["contents"][0]["backupSetId"], scheduled_set);
    assert!(
        !set_dir.exists(),
        "set {set_id} is removed from the storage"
    );
    let overview = admin.get(&format!("{base}/overview")).await.ok();
    let overview = overview.data();
    assert_eq!(overview["obClusterBackupStatus"], "HAS_BACKUP_STRATEGY");
    assert_eq!(overview["backupScheduleStatus"], "NORMAL");
    assert!(
        overview["backupSize"].as_f64().unwrap() > 1000.0,
        "{overview:#}"
    );
    assert!(overview["lastDataBackupTime"].is_string(), "{overview:#}");
    let info = admin.get(&format!("{base}/info")).await.ok();
    let sections = &info.data()["obRecoverableInfoAggregation"]["latestSevenDaysAggregation"]
        ["obRecoverableSectionItems"];
    assert_eq!(
        sections[0]["dataBackupRecoverableInfo"]["fullBackupSetId"], scheduled_set,
        "{}",
        info.text
    );
    let bad = admin.get(&format!("{base}/info?startTime=yesterday")).await;
    assert_eq!(bad.error_code(), 10001, "{}", bad.text);
    // A storage parsed as another platform would find it: its finished sets, not the
    // unfinished one beside them.
    let elsewhere = scratch.path().join("elsewhere");
    let copied = elsewhere.join(format!("backup_set_{scheduled_set}"));
    std::fs::create_dir_all(&copied).unwrap();
    let from = storage.join(format!("backup_set_{scheduled_set}"));
    for f in ["manifest.json", "data.tar.zst"] {
        std::fs::copy(from.join(f), copied.join(f)).unwrap();
    }
    std::fs::create_dir_all(elsewhere.join("backup_set_999")).unwrap();
    let parsed = admin
        .get(&format!(
            "{base}/info?storageUrl=file://{}",
            elsewhere.display()
        ))
        .await
        .ok();
    let found = parsed.data()["obRecoverableInfoAggregation"]["latestSevenDaysAggregation"]
        ["obRecoverableSectionItems"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(found.len(), 1, "{}", parsed.text);
    assert_eq!(
        found[0]["dataBackupRecoverableInfo"]["fullBackupSetId"],
        scheduled_set
    );
    assert_eq!(found[0]["backupClusterName"], "source");
    let bad = admin
        .get(&format!("{base}/info?storageUrl=relative/dir"))
        .await;
    assert_eq!(bad.error_code(), 10001, "{}", bad.text);
    assert!(bad.text.contains("storageUrl"), "{}", bad.text);
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let still = admin.get(&tasks).await.ok();
    assert_eq!(still.data()["page"]["totalElements"], 1, "it fired once");
    let kept = admin.get(&strategy_path).await.ok();
    assert!(
        kept.data()["lastScheduledTime"].is_string(),
        "{}",
        kept.text
    );
    // Its storage is fuller than its threshold of 0 %: the capacity alert fires, and
    // resolves once the threshold is 100 %.
    let capacity = "backup_storage_capacity_over_threshold";
    evaluate_every_second(&admin, capacity).await;
    let firing = wait_alarms(&admin, capacity, true).await;
    assert!(firing[0].0.contains("source"), "{firing:?}");
    strategy["obBackupServiceStorageConfig"]["alarmStoragePercentageThreshold"] = json!(100);
    strategy["obBackupScheduleConfig"]["backupScheduleEnabled"] = json!(false);
    let modified = admin
        .send(reqwest::Method::PATCH, &strategy_path, Some(&strategy), &[])
        .await
        .ok();
    assert_eq!(
        modified.data()["obBackupTaskType"],
        "UPDATE_BACKUP_STRATEGY"
    );
    wait_alarms(&admin, capacity, false).await;
    admin.delete(&strategy_path).await.ok();
    assert_eq!(admin.get(&strategy_path).await.error_code(), 10002);

    // A backup that fails alerts base_backup_fail, and the cluster keeps serving.
    evaluate_every_second(&admin, "base_backup_fail").await;
    let failing = admin
        .post(&tasks, &back_up(Path::new("/dev/null/sets")))
        .await
        .ok();
    let failed = admin.wait_task(task_of(failing.data()), WAIT).await;
    assert_eq!(failed["status"], "FAILED", "{failed:#}");
    let failed_sets = admin.get(&tasks).await.ok();
    assert_eq!(failed_sets.data()["contents"][0]["status"], "FAILED");
    let deadline = std::time::Instant::now() + WAIT;
    while open_alarms(&admin, "base_backup_fail").await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "base_backup_fail never fired"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let alarms = open_alarms(&admin, "base_backup_fail").await;
    assert!(alarms[0].0.contains("source"), "{alarms:?}");
    assert_eq!(cluster(&admin, id).await["status"], "RUNNING");

    // SIGKILL the agent while the server is stopped for a copy: the task ends (or its
    // rollback does) with seekdb serving again, and a backup after it succeeds.
    let started = admin.post(&tasks, &back_up(&storage)).await.ok();
    let killed_task = task_of(started.data());
    let path = format!("/api/v2/tasks/instances/{killed_task}");
    copy_running(&admin, &path).await;
    sb.agents[0].restart().expect("the agent starts again");
    let ended = admin.wait_task(killed_task, DEPLOY).await;
    if ended["status"] == "FAILED" {
        admin.post_empty(&format!("{path}/rollback")).await.ok();
        let rolled = admin.wait_task(killed_task, DEPLOY).await;
        assert_eq!(rolled["status"], "SUCCESSFUL", "{rolled:#}");
    } else {
        assert_eq!(ended["status"], "SUCCESSFUL", "{ended:#}");
    }
    let source = wait_status(&admin, id, "RUNNING").await;
    assert_eq!(seekdb_processes(&home_of(&source)).len(), 1);
    assert_eq!(items(port).await, (2, 3));
    // Its set is finished, or what the killed copy left of it is gone.
    let sets = admin.get(&tasks).await.ok();
    let killed_set = sets.data()["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["taskId"] == killed_task)
        .expect("the killed backup's set")
        .clone();
    let killed_dir = storage.join(format!("backup_set_{}", killed_set["backupSetId"]));
    if killed_set["status"] == "DONE" {
        assert!(killed_dir.join("manifest.json").exists());
    } else {
        assert!(!killed_dir.exists(), "{killed_set:#}");
    }
    let again = admin.post(&tasks, &back_up(&storage)).await.ok();
    succeeded(&admin, again.data(), "the backup after the agent's crash").await;

    for cluster in [copy_id, id] {
        let delete = admin
            .delete(&format!("/api/v2/ob/clusters/{cluster}"))
            .await;
        run_task(&admin, delete, WAIT).await;
    }
}

/// Waits until the task at `path` runs its "Backup data" step.
async fn copy_running(admin: &Api, path: &str) {
    admin
        .poll(path, DEPLOY, |t| {
            t["subtasks"].as_array().is_some_and(|s| {
                s.iter()
                    .any(|s| s["name"] == "Backup data" && s["status"] == "RUNNING")
            })
        })
        .await
        .unwrap_or_else(|last| panic!("the copy never ran: {last:#}"));
}

/// Deploys a cluster named `name` and fills it: `shop.items` with two rows, the user clerk
/// who may read them, then `more`. Answers the cluster's id and SQL port.
async fn deploy_shop(
    sb: &ocp_testkit::Sandbox,
    admin: &Api,
    name: &str,
    more: &[&str],
) -> (i64, u16) {
    let rpm = seekdb_rpm(admin).await;
    let request = deploy_request(sb, &rpm, name, json!([]));
    let port = request["sqlPort"].as_u64().unwrap() as u16;
    let deploy = admin.post("/api/v2/ob/clusters", &request).await;
    let id = run_task(admin, deploy, DEPLOY).await["clusterId"]
        .as_i64()
        .unwrap();
    let mut root = connect(port, "root", "Root-Pw-1").await;
    let shop = [
        "CREATE DATABASE shop",
        "CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(20))",
        "INSERT INTO shop.items VALUES (1, 'apple'), (2, 'pear')",
        "CREATE USER clerk IDENTIFIED BY 'Clerk-Pw-1'",
        "GRANT SELECT ON shop.* TO clerk",
    ];
    for sql in shop.iter().chain(more) {
        root.execute(sql).await.expect(sql);
    }
    root.close().await;
    (id, port)
}

/// Waits until an item has open alerts (`open`) or none; answers them.
async fn wait_alarms(admin: &Api, item: &str, open: bool) -> Vec<(String, String)> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let alarms = open_alarms(admin, item).await;
        if alarms.is_empty() != open {
            return alarms;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{item} never {}: {alarms:?}",
            if open { "fired" } else { "resolved" }
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// The log of a task's step named `name`.
async fn step_log(admin: &Api, task: &Value, name: &str) -> String {
    let step = task["subtasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("a step {name} in {task:#}"));
    admin
        .get(&format!(
            "/api/v2/tasks/instances/{}/subtasks/{}/log",
            task["id"], step["id"]
        ))
        .await
        .text
}

/// Runs statements as the shop cluster's root. Right after a restart, a DDL can wait for a
/// transaction seekdb resolves from its redo log, for minutes on a loaded host (README, "no
/// clean shutdown"): these statements may take that long.
async fn as_root(port: u16, statements: &[&str]) {
    let mut root = connect(port, "root", "Root-Pw-1")
        .await
        .with_statement_timeout(std::time::Duration::from_secs(180));
    for statement in statements {
        root.execute(statement).await.unwrap();
    }
    root.close().await;
}

/// Posts a restore in place of a damaged set and waits for "Check backup set" to refuse it.
async fn refused_on_checksum(admin: &Api, base: &str, in_place: &Value) {
    let reply = admin.post(&format!("{base}/restore"), in_place).await.ok();
    let failed = admin.wait_task(task_of(reply.data()), DEPLOY).await;
    assert_eq!(failed["status"], "FAILED", "{failed:#}");
    let (step, log) = failed_log(admin, &failed).await;
    assert_eq!(step, "Check backup set");
    assert!(log.contains("checksum mismatch"), "{log}");
}

/// Posts a restore of the cluster at `base` and waits for its task to succeed.
async fn restore_task(admin: &Api, base: &str, body: &Value, what: &str) -> Value {
    let reply = admin.post(&format!("{base}/restore"), body).await.ok();
    succeeded(admin, reply.data(), what).await
}

async fn succeeded(admin: &Api, reply: &Value, what: &str) -> Value {
    let task = admin.wait_task(task_of(reply), DEPLOY).await;
    if task["status"] != "SUCCESSFUL" {
        panic!("{what} failed: {:?}", failed_log(admin, &task).await);
    }
    task
}

/// What a logical restore must bring back: the rows, the view, the user with its password
/// and grant, and the role granted to another user.
async fn check_logical_copy(port: u16) {
    assert_eq!(items(port).await, (2, 3));
    let mut clerk = connect(port, "clerk", "Clerk-Pw-1").await;
    assert_eq!(
        count(&mut clerk, "SELECT COUNT(*) FROM shop.cheap").await,
        1
    );
    assert!(clerk
        .execute("INSERT INTO shop.items VALUES (9, 'fig')")
        .await
        .is_err());
    clerk.close().await;
    let mut auditor = connect(port, "auditor", "Auditor-Pw-1").await;
    auditor.execute("SET ROLE reader").await.unwrap();
    assert_eq!(
        count(&mut auditor, "SELECT COUNT(*) FROM shop.items").await,
        2
    );
    auditor.close().await;
}

#[tokio::test]
async fn a_logical_set_is_loaded_into_a_new_and_a_running_cluster_with_users_and_grants() {
    let sb = sandbox().await;
    let admin = sb.server.admin();
    let (id, port) = deploy_shop(
        &sb,
        &admin,
        "shop",
        &[
            "CREATE VIEW shop.cheap AS SELECT * FROM shop.items WHERE id < 2",
            "CREATE ROLE reader",
            "GRANT SELECT ON shop.* TO reader",
            "CREATE USER auditor IDENTIFIED BY 'Auditor-Pw-1'",
            "GRANT reader TO auditor",
        ],
    )
    .await;
    let base = format!("/api/v2/ob/clusters/{id}/backup");
    let ability = admin.get(&format!("{base}/ability")).await.ok();
    assert_eq!(ability.data()["backupAbility"], "LOGICAL_AND_PHYSICAL");

    // Back up now, logical: a dump of the running server, with its users and grants.
    let scratch = ocp_testkit::temp_dir().unwrap();
    let storage = scratch.path().join("dumps");
    let tasks = format!("{base}/task/dataBackupTasks");
    let started = admin
        .post(&tasks, &back_up_as("LOGICAL_BACKUP", &storage))
        .await
        .ok();
    let done = succeeded(&admin, started.data(), "the logical backup").await;
    let log = step_log(&admin, &done, "Backup data").await;
    assert!(log.contains("served throughout"), "{log}");
    assert!(
        !done["subtasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "Prepare restart observer"),
        "a logical backup stops nothing"
    );
    let sets = admin.get(&tasks).await.ok();
    let set = &sets.data()["contents"][0];
    assert_eq!(
        (&set["status"], &set["backupMode"]),
        (&json!("DONE"), &json!("LOGICAL_BACKUP")),
        "{set:#}"
    );
    let set_id = set["backupSetId"].as_i64().unwrap();
    let set_dir = storage.join(format!("backup_set_{set_id}"));
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(set_dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["mode"], "LOGICAL_BACKUP");
    assert_eq!(manifest["databases"], json!(["shop"]));
    let users = std::fs::read_to_string(set_dir.join("users.sql")).unwrap();
    assert!(users.contains("`clerk`"), "{users}");
    assert!(
        users.contains("CREATE ROLE IF NOT EXISTS 'reader'"),
        "{users}"
    );
    assert!(!users.contains("ocp_"), "platform users stay out: {users}");
    assert!(
        !users.contains("Clerk-Pw-1"),
        "only password hashes: {users}"
    );

    // Rows written after the backup are not in it.
    as_root(port, &["INSERT INTO shop.items VALUES (3, 'plum')"]).await;

    // Into a new cluster: deployed, then loaded.
    let copy_port = free_port("0.0.0.0").unwrap();
    let restoring = admin
        .post(
            &format!("{base}/restore"),
            &json!({"backupSetId": set_id, "restoreClusterName": "shop_copy",
                    "hostId": sb.host_id(0), "sqlPort": copy_port}),
        )
        .await
        .ok();
    let copy_id = restoring.data()["backupObjectOpsResultList"][0]["obBackupObjectList"][0]
        ["clusterId"]
        .as_i64()
        .unwrap();
    let restored = succeeded(&admin, restoring.data(), "the restore into a new cluster").await;
    assert!(step_log(&admin, &restored, "Restore backup data")
        .await
        .contains("loaded databases [shop]"));
    wait_status(&admin, copy_id, "RUNNING").await;
    check_logical_copy(copy_port).await;

    // Into a running cluster whose databases of the set hold tables: refused, unchanged.
    let into_copy = json!({"backupSetId": set_id, "restoreClusterId": copy_id});
    let refusing = admin
        .post(&format!("{base}/restore"), &into_copy)
        .await
        .ok();
    let failed = admin.wait_task(task_of(refusing.data()), DEPLOY).await;
    assert_eq!(failed["status"], "FAILED", "{failed:#}");
    let (step, log) = failed_log(&admin, &failed).await;
    assert_eq!(step, "Check restore target");
    assert!(log.contains("shop (2 tables)"), "{log}");
    check_logical_copy(copy_port).await;
    let mut bad = into_copy.clone();
    bad["sqlPort"] = json!(copy_port);
    let refused = admin.post(&format!("{base}/restore"), &bad).await;
    assert_eq!(refused.error_code(), 10001, "{}", refused.text);

    // Into the backed-up cluster once its database is gone: the rows of the backup again.
    as_root(port, &["DROP DATABASE shop", "DROP USER clerk"]).await;
    let into_source = json!({"backupSetId": set_id, "restoreClusterId": id});
    restore_task(&admin, &base, &into_source, "the load into the source").await;
    check_logical_copy(port).await;
    let restores = admin.get(&format!("{base}/task/restoreTasks")).await.ok();
    let listed = &restores.data()["contents"][0];
    assert_eq!(
        (
            &listed["status"],
            &listed["backupMode"],
            &listed["restoreClusterId"]
        ),
        (
            &json!("RESTORE_SUCCESS"),
            &json!("LOGICAL_BACKUP"),
            &json!(id)
        ),
        "{listed:#}"
    );

    // One flipped byte in the dump: refused on its checksum before anything is loaded.
    as_root(port, &["DROP DATABASE shop"]).await;
    let dump = set_dir.join("dump.sql.zst");
    let mut bytes = std::fs::read(&dump).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&dump, &bytes).unwrap();
    let refusing = admin
        .post(&format!("{base}/restore"), &into_source)
        .await
        .ok();
    let failed = admin.wait_task(task_of(refusing.data()), DEPLOY).await;
    assert_eq!(failed["status"], "FAILED", "{failed:#}");
    let (step, log) = failed_log(&admin, &failed).await;
    assert_eq!(step, "Check restore target");
    assert!(log.contains("checksum mismatch"), "{log}");
    let mut root = connect(port, "root", "Root-Pw-1").await;
    assert_eq!(
        count(
            &mut root,
            "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'shop'"
        )
        .await,
        0
    );
    root.close().await;

    for cluster in [copy_id, id] {
        let delete = admin
            .delete(&format!("/api/v2/ob/clusters/{cluster}"))
            .await;
        run_task(&admin, delete, WAIT).await;
    }
}

/// Every step log of a task, one after the other.
async fn task_logs(admin: &Api, task: &Value) -> String {
    let mut all = String::new();
    for step in task["subtasks"].as_array().unwrap() {
        let name = step["name"].as_str().unwrap();
        all.push_str(&step_log(admin, task, name).await);
    }
    all
}

#[tokio::test]
async fn sets_in_an_s3_bucket_are_written_and_restored_and_its_secret_is_never_answered() {
    let s3 = ocp_testkit::S3Server::start().await.unwrap();
    s3.create_bucket("ocp-backups").await.unwrap();
    let sb = sandbox().await;
    let admin = sb.server.admin();
    let (id, port) = deploy_shop(&sb, &admin, "s3shop", &[]).await;
    let base = format!("/api/v2/ob/clusters/{id}/backup");
    let tasks = format!("{base}/task/dataBackupTasks");
    const SECRET: &str = "S3-Secret-Never-Shown";
    let bucket = |secret: &str| {
        json!({"backupStorageType": "BACKUP_STORAGE_S3", "storageUrl": "ocp-backups/prod/s3shop",
               "s3AccessKey": {"endpoint": s3.endpoint(), "accessKeyId": "AKIDOCPTEST",
                               "accessKeySecret": secret}})
    };
    let now = |mode: &str, storage: Value| {
        json!({"backupMode": mode, "dataBackupTaskType": "FULL_BACKUP",
               "obBackupStorageBaseInfo": storage})
    };

    // Bad storages are refused with the field, and start nothing.
    let mut bad_bucket = bucket(SECRET);
    bad_bucket["storageUrl"] = json!("Not_A_Bucket/x");
    let mut no_keys = bucket(SECRET);
    no_keys.as_object_mut().unwrap().remove("s3AccessKey");
    let mut oss = bucket(SECRET);
    oss["backupStorageType"] = json!("BACKUP_STORAGE_OSS");
    for (storage, code, field) in [
        (bad_bucket, 10001, "obBackupStorageBaseInfo.storageUrl"),
        (no_keys, 10001, "obBackupStorageBaseInfo.s3AccessKey"),
        (bucket(""), 10001, "accessKeySecret"),
        (oss, 10011, "obBackupStorageBaseInfo.backupStorageType"),
    ] {
        let refused = admin.post(&tasks, &now("LOGICAL_BACKUP", storage)).await;
        assert_eq!(refused.error_code(), code, "{}", refused.text);
        assert!(refused.text.contains(field), "{field}: {}", refused.text);
    }
    let none = admin.get(&tasks).await.ok();
    assert_eq!(none.data()["page"]["totalElements"], 0, "{:#}", none.data());

    // A strategy keeps the key's secret sealed: it is never answered.
    let strategy = json!({
        "backupMode": "LOGICAL_BACKUP",
        "obBackupScheduleConfig": {"backupScheduleMode": "WEEK", "backupScheduleEnabled": false,
            "backupScheduleTime": "02:00:00.000+00:00",
            "dayAndDataBackupModelMap": {"1": "FULL_BACKUP"}},
        "obBackupServiceStorageConfig": {"configName": "s3",
            "obBackupStorageBaseInfo": bucket(SECRET)}
    });
    let strategy_path = format!("{base}/config/backupStrategy");
    admin.post(&strategy_path, &strategy).await.ok();
    let shown = admin.get(&strategy_path).await.ok();
    assert!(!shown.text.contains(SECRET), "{}", shown.text);
    let key =
        &shown.data()["obBackupServiceStorageConfig"]["obBackupStorageBaseInfo"]["s3AccessKey"];
    assert_eq!(key["accessKeyId"], "AKIDOCPTEST", "{}", shown.text);
    // Changed without the secret, it keeps the one it had.
    let mut renamed = strategy.clone();
    renamed["obBackupServiceStorageConfig"]["configName"] = json!("s3 prod");
    renamed["obBackupServiceStorageConfig"]["obBackupStorageBaseInfo"] = bucket("");
    admin
        .send(reqwest::Method::PATCH, &strategy_path, Some(&renamed), &[])
        .await
        .ok();

    // Back up now, logical, into the strategy's bucket without the secret: the kept one
    // signs. The set is objects under the prefix, its manifest among them.
    let started = admin
        .post(&tasks, &now("LOGICAL_BACKUP", bucket("")))
        .await
        .ok();
    let done = succeeded(&admin, started.data(), "the logical backup into S3").await;
    let logs = task_logs(&admin, &done).await;
    assert!(!logs.contains(SECRET), "{logs}");
    let sets = admin.get(&tasks).await.ok();
    let set = &sets.data()["contents"][0];
    assert_eq!(set["backupUri"], "s3://ocp-backups/prod/s3shop/", "{set:#}");
    let logical_id = set["backupSetId"].as_i64().unwrap();
    let prefix = format!("prod/s3shop/backup_set_{logical_id}/");
    let mut keys = s3.keys("ocp-backups", &prefix).await.unwrap();
    keys.sort();
    assert_eq!(
        keys,
        ["dump.sql.zst", "manifest.json", "users.sql"].map(|f| format!("{prefix}{f}")),
    );
    let manifest: Value = serde_json::from_slice(
        &s3.object("ocp-backups", &format!("{prefix}manifest.json"))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["databases"], json!(["shop"]));

    // A row written after the set is not in it: loaded from the bucket into a new cluster,
    // exactly the set's rows, with the user and its grant.
    as_root(port, &["INSERT INTO shop.items VALUES (3, 'plum')"]).await;
    let logical_port = free_port("0.0.0.0").unwrap();
    let into_new = json!({"backupSetId": logical_id, "restoreClusterName": "s3copy",
                          "hostId": sb.host_id(0), "sqlPort": logical_port});
    let loaded = restore_task(
        &admin,
        &base,
        &into_new,
        "the load from S3 into a new cluster",
    )
    .await;
    assert!(!task_logs(&admin, &loaded).await.contains(SECRET));
    assert_eq!(items(logical_port).await, (2, 3));
    let mut clerk = connect(logical_port, "clerk", "Clerk-Pw-1").await;
    assert_eq!(
        count(&mut clerk, "SELECT COUNT(*) FROM shop.items").await,
        2
    );
    assert!(clerk
        .execute("INSERT INTO shop.items VALUES (9, 'fig')")
        .await
        .is_err());
    clerk.close().await;
    let copies = admin.get("/api/v2/ob/clusters").await.ok();
    let copy_id = copies.data()["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "s3copy")
        .expect("the new cluster")["id"]
        .as_i64()
        .unwrap();
    let delete = admin
        .delete(&format!("/api/v2/ob/clusters/{copy_id}"))
        .await;
    run_task(&admin, delete, WAIT).await;
    as_root(port, &["DELETE FROM shop.items WHERE id = 3"]).await;

    // A physical set into the bucket (in parts: it is larger than one), restored in place.
    let started = admin
        .post(&tasks, &now("PHYSICAL_BACKUP", bucket(SECRET)))
        .await
        .ok();
    let done = succeeded(&admin, started.data(), "the physical backup into S3").await;
    assert!(!task_logs(&admin, &done).await.contains(SECRET));
    let sets = admin.get(&tasks).await.ok();
    let physical_id = sets.data()["contents"][0]["backupSetId"].as_i64().unwrap();
    let data_key = format!("prod/s3shop/backup_set_{physical_id}/data.tar.zst");
    // Both sets copied under another prefix, as another platform would have left them.
    for set in [logical_id, physical_id] {
        let from = format!("prod/s3shop/backup_set_{set}/");
        for key in s3.keys("ocp-backups", &from).await.unwrap() {
            let bytes = s3.object("ocp-backups", &key).await.unwrap();
            let to = key.replace("prod/s3shop/", "elsewhere/");
            s3.put_object("ocp-backups", &to, bytes).await.unwrap();
        }
    }
    as_root(port, &["INSERT INTO shop.items VALUES (3, 'plum')"]).await;
    let in_place = json!({"backupSetId": physical_id, "restoreClusterId": id});
    restore_task(&admin, &base, &in_place, "the restore in place from S3").await;
    wait_status(&admin, id, "RUNNING").await;
    assert_eq!(items(port).await, (2, 3));

    // One flipped byte in the bucket: refused on its checksum before the server stops.
    let mut bytes = s3.object("ocp-backups", &data_key).await.unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    s3.put_object("ocp-backups", &data_key, bytes)
        .await
        .unwrap();
    refused_on_checksum(&admin, &base, &in_place).await;
    assert_eq!(items(port).await, (2, 3));

    // The copies are found by parsing the bucket, read with the strategy's key.
    let parsed = admin
        .get(&format!(
            "{base}/info?storageUrl=s3%3A%2F%2Focp-backups%2Felsewhere"
        ))
        .await
        .ok();
    let found = &parsed.data()["obRecoverableInfoAggregation"]["latestSevenDaysAggregation"]
        ["obRecoverableSectionItems"];
    let mut ids: Vec<i64> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f["dataBackupRecoverableInfo"]["fullBackupSetId"]
                .as_i64()
                .unwrap()
        })
        .collect();
    ids.sort();
    assert_eq!(ids, [logical_id, physical_id], "{}", parsed.text);
    assert_eq!(found[0]["backupClusterName"], "s3shop");

    // Restored from the storage alone: the logical copy loads into the running cluster...
    let elsewhere = |secret: &str| {
        let mut storage = bucket(secret);
        storage["storageUrl"] = json!("ocp-backups/elsewhere");
        storage
    };
    as_root(port, &["DROP DATABASE shop"]).await;
    let mut found_logical = json!({"backupSetId": logical_id, "restoreClusterId": id,
                                   "obBackupStorageBaseInfo": elsewhere(SECRET)});
    found_logical["backupSetId"] = json!(logical_id + 1000);
    let refused = admin.post(&format!("{base}/restore"), &found_logical).await;
    assert_eq!(refused.error_code(), 10001, "{}", refused.text);
    assert!(refused.text.contains("backupSetId"), "{}", refused.text);
    found_logical["backupSetId"] = json!(logical_id);
    let loaded = restore_task(&admin, &base, &found_logical, "the load of a found set").await;
    assert!(!task_logs(&admin, &loaded).await.contains(SECRET));
    assert_eq!(items(port).await, (2, 3));
    let restores = admin.get(&format!("{base}/task/restoreTasks")).await.ok();
    let listed = &restores.data()["contents"][0];
    assert_eq!(
        listed["restoreUri"],
        format!("s3://ocp-backups/elsewhere/backup_set_{logical_id}"),
        "{listed:#}"
    );
    // ...and the physical one restores into a new cluster, given root's password in it;
    // never in place, and never listed among the cluster's own sets.
    let foreign_port = free_port("0.0.0.0").unwrap();
    let mut found_physical = json!({"backupSetId": physical_id, "restoreClusterName": "foreign",
                                    "hostId": sb.host_id(0), "sqlPort": foreign_port,
                                    "obBackupStorageBaseInfo": elsewhere(SECRET)});
    let refused = admin
        .post(&format!("{base}/restore"), &found_physical)
        .await;
    assert!(refused.text.contains("rootPassword"), "{}", refused.text);
    let in_place_found = json!({"backupSetId": physical_id, "restoreClusterId": id,
                                "obBackupStorageBaseInfo": elsewhere(SECRET)});
    let refused = admin
        .post(&format!("{base}/restore"), &in_place_found)
        .await;
    assert_eq!(refused.error_code(), 10011, "{}", refused.text);
    found_physical["rootPassword"] = json!("Root-Pw-1");
    let restoring = admin
        .post(&format!("{base}/restore"), &found_physical)
        .await
        .ok();
    let foreign_id = restoring.data()["backupObjectOpsResultList"][0]["obBackupObjectList"][0]
        ["clusterId"]
        .as_i64()
        .unwrap();
    succeeded(&admin, restoring.data(), "the restore of a found set").await;
    wait_status(&admin, foreign_id, "RUNNING").await;
    assert_eq!(items(foreign_port).await, (2, 3));
    let sets = admin.get(&tasks).await.ok();
    assert_eq!(sets.data()["page"]["totalElements"], 2, "{}", sets.text);

    for cluster in [foreign_id, id] {
        let delete = admin
            .delete(&format!("/api/v2/ob/clusters/{cluster}"))
            .await;
        run_task(&admin, delete, WAIT).await;
    }
}
