//! Upgrades on real seekdb. 1.4.0 to 1.4.0.post1 keeps the data, runs the new build and
//! says so; a downgrade or the same version is refused before anything runs. 1.3.0.post5 to
//! 1.4.0 is a real failure after the restart (seekdb 1.4 will not start on a 1.3 data
//! directory): the task rolls back, and the cluster runs 1.3.0.post5 again with its data.

mod common;
mod seekdb_kit;

use ocp_testkit::{seekdb_wheel_of, Api, Sandbox, SEEKDB_VERSION};
use seekdb_kit::*;
use serde_json::{json, Value};

async fn upload(admin: &Api, version: &str) -> String {
    let wheel = seekdb_wheel_of(version).expect("the seekdb wheel");
    let reply = admin.upload_package(&wheel).await.ok();
    reply.data()["fileName"].as_str().unwrap().to_string()
}

/// Deploys a one-server cluster of `rpm` with a table of two rows; answers its id and port.
async fn deploy_with_rows(sb: &Sandbox, rpm: &str, name: &str) -> (i64, u16) {
    let admin = sb.server.admin();
    let deploy = admin
        .post(
            "/api/v2/ob/clusters",
            &deploy_request(sb, rpm, name, json!([])),
        )
        .await;
    let id = deploy.data()["clusterId"].as_i64().unwrap();
    run_task(&admin, deploy, DEPLOY).await;
    let port = cluster(&admin, id).await["zones"][0]["servers"][0]["sqlPort"]
        .as_u64()
        .unwrap() as u16;
    let mut db = connect(port, "root", "Root-Pw-1").await;
    for statement in [
        "CREATE DATABASE shop",
        "CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(20))",
        "INSERT INTO shop.items VALUES (1, 'apple'), (2, 'pear')",
    ] {
        db.execute(statement).await.unwrap();
    }
    db.close().await;
    (id, port)
}

async fn version_comment(port: u16) -> String {
    let mut db = connect(port, "root", "Root-Pw-1").await;
    let comment = db.version_comment().await.unwrap();
    db.close().await;
    comment
}

async fn rows(port: u16) -> i64 {
    let mut db = connect(port, "root", "Root-Pw-1").await;
    let n = db
        .fetch_i64("SELECT COUNT(*) FROM shop.items")
        .await
        .unwrap();
    db.close().await;
    n
}

fn upgrade(
    admin: &Api,
    id: i64,
    rpm: &str,
) -> impl std::future::Future<Output = ocp_testkit::Reply> {
    let admin = admin.clone();
    let (path, body) = (
        format!("/api/v2/ob/clusters/{id}/upgrade"),
        json!({"rpmFileName": rpm}),
    );
    async move { admin.post(&path, &body).await }
}

/// The log of the task's subtask named `name`.
async fn subtask_log(admin: &Api, task: &Value, name: &str) -> String {
    let id = task["id"].as_i64().unwrap();
    let sub = task["subtasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no subtask {name}: {task:#}"));
    let sid = sub["id"].as_i64().unwrap();
    admin
        .get(&format!("/api/v2/tasks/instances/{id}/subtasks/{sid}/log"))
        .await
        .text
}

#[tokio::test]
async fn an_upgrade_keeps_the_data_and_one_that_fails_after_the_restart_goes_back() {
    let sb = sandbox().await;
    let admin = sb.server.admin();
    let old = upload(&admin, "1.4.0").await;
    let new = upload(&admin, SEEKDB_VERSION).await;
    let v13 = upload(&admin, "1.3.0.post5").await;
    let ((a, a_port), (b, b_port)) = tokio::join!(
        deploy_with_rows(&sb, &old, "up"),
        deploy_with_rows(&sb, &v13, "stuck")
    );
    let a_before = version_comment(a_port).await;
    let b_before = version_comment(b_port).await;
    assert!(b_before.contains("r1.3.0"), "{b_before}");

    // Refused before anything runs: the same version, and a downgrade.
    assert_eq!(upgrade(&admin, a, &old).await.error_code(), 10001);
    let down = upgrade(&admin, b, &v13).await;
    assert_eq!(down.error_code(), 10001, "{}", down.text);
    let newer_only = upgrade(&admin, a, &v13).await;
    assert_eq!(newer_only.error_code(), 10001, "{}", newer_only.text);

    // Both upgrades at once: one works, one fails after its restart.
    let (up, stuck) = tokio::join!(upgrade(&admin, a, &new), upgrade(&admin, b, &old));
    let (up, stuck) = (up.ok(), stuck.ok());
    let up_id = up.data()["id"].as_i64().unwrap();
    let stuck_id = stuck.data()["id"].as_i64().unwrap();
    let (up_task, stuck_task) = tokio::join!(
        admin.wait_task(up_id, DEPLOY),
        admin.wait_task(stuck_id, DEPLOY)
    );

    assert_eq!(
        up_task["status"],
        "SUCCESSFUL",
        "{}",
        subtask_log(&admin, &up_task, "Upgrade observer").await
    );
    let view = wait_status(&admin, a, "RUNNING").await;
    assert_eq!(view["rpmName"], new.as_str(), "{view:#}");
    let a_after = version_comment(a_port).await;
    assert_ne!(a_after, a_before, "the new build answers");
    assert!(a_after.contains("r1.4.0"), "{a_after}");
    assert_eq!(rows(a_port).await, 2);
    let mut db = connect(a_port, "root", "Root-Pw-1").await;
    db.execute("INSERT INTO shop.items VALUES (3, 'plum')")
        .await
        .unwrap();
    db.close().await;
    let log = subtask_log(&admin, &up_task, "Upgrade observer").await;
    assert!(log.contains("read back with their 2 rows"), "{log}");
    assert!(log.contains("downtime"), "{log}");
    // The set taken first is the cluster's, done, and kept beside its server's directory.
    let sets = admin
        .get(&format!(
            "/api/v2/ob/clusters/{a}/backup/task/dataBackupTasks"
        ))
        .await
        .ok();
    let set = &sets.data()["contents"][0];
    assert_eq!(set["status"], "DONE", "{set:#}");
    let home = home_of(&view);
    assert!(std::path::Path::new(&format!("{home}-backups")).is_dir());

    assert_eq!(stuck_task["status"], "FAILED", "{stuck_task:#}");
    let log = subtask_log(&admin, &stuck_task, "Upgrade observer").await;
    assert!(log.contains("rolled back"), "{log}");
    assert!(log.contains(&format!("runs {v13} again")), "{log}");
    let view = wait_status(&admin, b, "RUNNING").await;
    assert_eq!(view["rpmName"], v13.as_str(), "{view:#}");
    assert_eq!(version_comment(b_port).await, b_before);
    assert_eq!(rows(b_port).await, 2);
}
