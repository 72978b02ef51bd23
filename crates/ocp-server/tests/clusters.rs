//! Clusters on real seekdb, through the HTTP API: a server and an agent on 127.0.0.2, the
//! seekdb wheel uploaded as a package, a cluster deployed, operated, and deleted.

mod common;
mod seekdb_kit;

use std::time::Duration;

use ocp_ob::{ObClient, Target};
use ocp_testkit::{free_port, seekdb_wheel, Api, Sandbox};
use seekdb_kit::*;
use serde_json::{json, Value};

/// Starts or stops one server and waits for the task; answers the task as it was accepted.
async fn server_action(admin: &Api, id: i64, server_id: i64, action: &str) -> Value {
    let path = format!("/api/v2/ob/clusters/{id}/servers/{server_id}/{action}");
    run_task(admin, admin.post_empty(&path).await, WAIT).await
}

/// The agent's view of the seekdb process: its pid, if it runs.
async fn seekdb_pid(sb: &Sandbox, server_id: i64) -> Option<i32> {
    let agent = sb.agents[0].signed_client().expect("agent credentials");
    let reply = agent
        .send(
            "GET",
            &format!("/v1/mgr/processes/observer-{server_id}"),
            None,
        )
        .await;
    (reply.status == 200 && reply.body["running"] == true)
        .then(|| reply.body["pid"].as_i64().unwrap() as i32)
}

#[tokio::test]
async fn a_seekdb_cluster_is_deployed_operated_and_deleted() {
    let wheel = seekdb_wheel().expect("the seekdb wheel");
    let sb = sandbox().await;
    let admin = sb.server.admin();
    let host = sb.host_id(0);

    // The package: stored with its checksums and what its name tells.
    let package = admin.upload_package(&wheel).await.ok();
    let package = package.data().clone();
    assert_eq!(package["name"], "pylibseekdb");
    assert_eq!(package["version"], "1.4.0.post1");
    assert_eq!(package["architecture"], "x86_64");
    assert_eq!(package["type"], "OB_SERVER_INSTALL_PACKAGE");
    assert_eq!(package["sha256"].as_str().unwrap().len(), 64);
    let again = admin.upload_package(&wheel).await;
    assert_eq!(again.error_code(), 10003);
    // Its downloadUrl is where this server is reached, port and all.
    let link = package["downloadUrl"].as_str().unwrap();
    assert!(
        link.starts_with(&format!("{}/api/v2/", sb.server.url())),
        "{link}"
    );
    let downloaded = reqwest::Client::new()
        .get(link)
        .basic_auth("admin", Some(ocp_testkit::ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(downloaded.status(), 200);
    assert_eq!(
        downloaded.bytes().await.unwrap().len() as u64,
        package["size"].as_u64().unwrap()
    );
    let listed = admin
        .get("/api/v2/software-packages?type=OB_SERVER_INSTALL_PACKAGE")
        .await
        .ok();
    assert_eq!(listed.data()["page"]["totalElements"], 1);
    let rpm = package["fileName"].as_str().unwrap().to_string();

    // Topologies seekdb cannot run are refused before anything is written.
    let port = free_port("0.0.0.0").expect("a free port");
    let body = |zones: Value| {
        json!({"name": "c1", "rpmName": rpm, "type": "PRIMARY", "password": "Root-Pw-1",
               "zones": zones, "sqlPort": port})
    };
    let two_zones = json!([{"name": "z1", "servers": [host]}, {"name": "z2", "servers": [host]}]);
    let refused = admin.post("/api/v2/ob/clusters", &body(two_zones)).await;
    assert_eq!(refused.error_code(), 10011, "{}", refused.text);
    let bad_rpm = admin
        .post(
            "/api/v2/ob/clusters",
            &json!({"name": "c1", "rpmName": "nope.rpm", "password": "x", "zones": []}),
        )
        .await;
    assert_eq!(bad_rpm.error_code(), 10001);
    assert!(bad_rpm.text.contains("rpmName"));
    let mut in_tmp = body(json!([{"name": "zone1", "servers": [host]}]));
    in_tmp["homePath"] = json!("/var/lib/.tmp1/ob");
    let refused = admin.post("/api/v2/ob/clusters", &in_tmp).await;
    assert_eq!(refused.error_code(), 10001, "{}", refused.text);
    assert!(refused.text.contains("homePath"), "{}", refused.text);
    // So are startup parameters seekdb would refuse at start, naming the rule.
    for (parameter, field, rule) in [
        (
            json!({"name": "memory_budget", "value": "lots"}),
            "parameters[0].value",
            "is not a capacity",
        ),
        (
            json!({"name": "memory_budget", "value": "512M"}),
            "parameters[0].value",
            "0 or [1G,)",
        ),
        (
            json!({"name": "memroy_budget", "value": "1G"}),
            "parameters[0].name",
            "not a seekdb parameter",
        ),
    ] {
        let mut bad = body(json!([{"name": "zone1", "servers": [host]}]));
        bad["parameters"] = json!([parameter]);
        let refused = admin.post("/api/v2/ob/clusters", &bad).await;
        assert_eq!(refused.error_code(), 10001, "{}", refused.text);
        assert!(refused.text.contains(field), "{}", refused.text);
        assert!(refused.text.contains(rule), "{}", refused.text);
    }
    let none = admin.get("/api/v2/ob/clusters").await.ok();
    assert_eq!(none.data()["page"]["totalElements"], 0);

    // Deploy: RUNNING, with every server RUNNING.
    let zones = json!([{"name": "zone1", "servers": [host]}]);
    let deploy = admin.post("/api/v2/ob/clusters", &body(zones)).await;
    let task = run_task(&admin, deploy, DEPLOY).await;
    let id = task["clusterId"]
        .as_i64()
        .expect("the task names its cluster");
    let c = cluster(&admin, id).await;
    assert_eq!(c["status"], "RUNNING", "{c:#}");
    assert_eq!(c["kind"], "SEEKDB");
    assert!(c["obVersion"].as_str().unwrap().contains("seekdb"));
    let server = &c["zones"][0]["servers"][0];
    assert_eq!(server["status"], "RUNNING");
    let server_id = server["id"].as_i64().unwrap();
    let hosts = admin
        .get("/api/v2/compute/hosts?serviceTypes=OB_CLUSTER")
        .await
        .ok();
    assert_eq!(hosts.data()["contents"][0]["status"], "ONLINE");

    // Root has the password now; a database and a user are made through the API.
    connect(port, "root", "Root-Pw-1").await.close().await;
    let base = format!("/api/v2/ob/clusters/{id}/tenants/1");
    let db = admin
        .post(&format!("{base}/databases"), &json!({"dbName": "shop"}))
        .await
        .ok();
    assert_eq!(db.data()["dbName"], "shop");
    let user = admin
        .post(
            &format!("{base}/users"),
            &json!({"username": "clerk", "password": "Clerk-Pw-1",
                    "dbPrivileges": [{"dbName": "shop", "privileges": ["SELECT", "INSERT", "CREATE"]}]}),
        )
        .await
        .ok();
    assert_eq!(user.data()["dbPrivileges"][0]["dbName"], "shop");
    let bad_priv = admin
        .post(
            &format!("{base}/users/clerk/grantDbPrivilege"),
            &json!({"dbPrivileges": [{"dbName": "shop", "privileges": ["FLY"]}]}),
        )
        .await;
    assert_eq!(bad_priv.error_code(), 10001);
    // A second zone or server, or deleting the only one: the documented bodies (and the
    // arrays taken before) reach the refusal; bad ones are named first.
    let cpath = format!("/api/v2/ob/clusters/{id}");
    for (path, body) in [
        (
            "zones",
            json!({"name": "zone2", "idcName": "hz2", "servers": [host]}),
        ),
        ("zones", json!([{"name": "zone2", "servers": [host]}])),
        ("servers", json!({"zoneName": "zone1", "servers": [host]})),
        ("servers", json!([{"name": "zone1", "servers": [host]}])),
        ("servers/batchDelete", json!({"servers": [server_id]})),
        ("servers/batchDelete", json!({"servers": [host]})),
        ("servers/batchDelete", json!([server_id])),
    ] {
        let reply = admin.post(&format!("{cpath}/{path}"), &body).await;
        assert_eq!(reply.error_code(), 10011, "{path} {body}: {}", reply.text);
    }
    for (path, body, field) in [
        (
            "servers",
            json!({"zoneName": "", "servers": [host]}),
            "zoneName",
        ),
        ("servers", json!({"servers": [host]}), "zoneName"),
        (
            "servers/batchDelete",
            json!({"servers": [424242]}),
            "servers[0]",
        ),
        (
            "zones",
            json!({"name": "zone2", "servers": "all"}),
            "servers",
        ),
    ] {
        let reply = admin.post(&format!("{cpath}/{path}"), &body).await;
        assert_eq!(reply.error_code(), 10001, "{path} {body}: {}", reply.text);
        assert_eq!(
            reply.body["error"]["subErrors"][0]["field"], field,
            "{path} {body}: {}",
            reply.text
        );
    }
    // Each documented action is its own route: an unknown one is no API path at all, even
    // on a cluster that does not exist; upgrade and replace check their bodies first.
    for path in [
        format!("{cpath}/explode"),
        format!("{cpath}/zones/zone1/explode"),
        format!("{cpath}/servers/{server_id}/explode"),
        "/api/v2/ob/clusters/424242/explode".to_string(),
    ] {
        let reply = admin.post_empty(&path).await;
        assert_eq!(
            (reply.status, reply.error_code()),
            (404, 10002),
            "{path}: {}",
            reply.text
        );
    }
    for (path, body, code) in [
        (
            format!("{cpath}/upgrade"),
            json!({"rpmFileName": ""}),
            10001,
        ),
        // A package must be uploaded, and newer than the one the cluster runs.
        (
            format!("{cpath}/upgrade"),
            json!({"rpmFileName": "seekdb-1.5.rpm"}),
            10001,
        ),
        (
            format!("{cpath}/upgrade"),
            json!({"rpmFileName": rpm}),
            10001,
        ),
        (
            format!("{cpath}/servers/{server_id}/replace"),
            json!({"hostId": 0}),
            10001,
        ),
        (
            format!("{cpath}/servers/{server_id}/replace"),
            json!({"hostId": host}),
            10011,
        ),
    ] {
        let reply = admin.post(&path, &body).await;
        assert_eq!(reply.error_code(), code, "{path} {body}: {}", reply.text);
    }

    // The zone's servers, also at the path the reference gives without `/ob/`.
    for path in [
        format!("/api/v2/ob/clusters/{id}/zones/zone1/servers"),
        format!("/api/v2/clusters/{id}/zones/zone1/servers"),
    ] {
        let servers = admin.get(&path).await.ok();
        assert_eq!(servers.data()["contents"][0]["id"], server_id, "{path}");
    }

    // The user writes rows with a MySQL driver.
    let mut clerk = connect(port, "clerk", "Clerk-Pw-1").await;
    clerk
        .execute("CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(20))")
        .await
        .unwrap();
    clerk
        .execute("INSERT INTO shop.items VALUES (1, 'apple'), (2, 'pear')")
        .await
        .unwrap();
    clerk.close().await;

    // A parameter set now, and a bad value refused.
    let params = format!("/api/v2/ob/clusters/{id}/parameters");
    admin
        .put(
            &params,
            &json!([{"name": "plan_cache_evict_interval", "value": "7s"}]),
        )
        .await
        .ok();
    let bad = admin
        .put(
            &params,
            &json!([{"name": "plan_cache_evict_interval", "value": "soon"}]),
        )
        .await;
    assert_eq!(bad.error_code(), 10001, "{}", bad.text);
    let unknown = admin
        .put(
            &params,
            &json!([{"name": "no_such_parameter", "value": "1"}]),
        )
        .await;
    assert_eq!(unknown.error_code(), 10001);

    // Lock the user: it cannot log in; unlock: it can.
    admin
        .post_empty(&format!("{base}/users/clerk/lock"))
        .await
        .ok();
    let target = Target {
        host: ocp_testkit::host_ip(0),
        port,
        user: "clerk".into(),
        password: "Clerk-Pw-1".into(),
    };
    assert!(ObClient::connect(&target, Duration::from_secs(5))
        .await
        .is_err());
    admin
        .post_empty(&format!("{base}/users/clerk/unlock"))
        .await
        .ok();
    connect(port, "clerk", "Clerk-Pw-1").await.close().await;
    // Each user action is its own route: global privileges granted and revoked for real,
    // Oracle object privileges checked and refused, an unknown action no API path.
    let clerk = format!("{base}/users/clerk");
    admin
        .post(
            &format!("{clerk}/grantGlobalPrivilege"),
            &json!({"globalPrivileges": ["PROCESS"]}),
        )
        .await
        .ok();
    let granted = admin.get(&clerk).await.ok();
    assert!(
        granted.data()["globalPrivileges"]
            .as_array()
            .unwrap()
            .contains(&json!("PROCESS")),
        "{}",
        granted.text
    );
    admin
        .post(
            &format!("{clerk}/revokeGlobalPrivilege"),
            &json!({"globalPrivileges": ["PROCESS"]}),
        )
        .await
        .ok();
    let revoked = admin.get(&clerk).await.ok();
    assert!(!revoked.data()["globalPrivileges"]
        .as_array()
        .unwrap()
        .contains(&json!("PROCESS")));
    let objects = json!({"objectPrivileges": [{"dbObject": {"objectType": "TABLE",
        "objectName": "items", "schemaName": "shop"}, "privileges": ["SELECT"]}]});
    let refused = admin
        .post(&format!("{clerk}/grantObjectPrivilege"), &objects)
        .await;
    assert_eq!(refused.error_code(), 10011, "{}", refused.text);
    let malformed = admin
        .post(
            &format!("{clerk}/grantObjectPrivilege"),
            &json!({"objectPrivileges": [{"privileges": ["SELECT"]}]}),
        )
        .await;
    assert_eq!(malformed.error_code(), 10001, "{}", malformed.text);
    let unknown = admin.post_empty(&format!("{clerk}/promote")).await;
    assert_eq!((unknown.status, unknown.error_code()), (404, 10002));
    // The same changes on roles: a role's global privileges and the roles it holds.
    for role in ["auditor", "lead"] {
        admin
            .post(&format!("{base}/roles"), &json!({"roleName": role}))
            .await
            .ok();
    }
    let auditor = format!("{base}/roles/auditor");
    for (action, body) in [
        (
            "grantGlobalPrivilege",
            json!({"globalPrivileges": ["PROCESS", "SHOW_DB"]}),
        ),
        (
            "modifyGlobalPrivilege",
            json!({"globalPrivileges": ["PROCESS"]}),
        ),
        ("grantRole", json!({"roles": ["lead"]})),
    ] {
        admin.post(&format!("{auditor}/{action}"), &body).await.ok();
    }
    let role = admin.get(&auditor).await.ok();
    assert_eq!(
        role.data()["globalPrivileges"],
        json!(["PROCESS"]),
        "{}",
        role.text
    );
    assert_eq!(
        role.data()["grantedRoles"],
        json!(["lead"]),
        "{}",
        role.text
    );
    let lead = admin.get(&format!("{base}/roles/lead")).await.ok();
    assert_eq!(
        lead.data()["roleGrantees"],
        json!(["auditor"]),
        "{}",
        lead.text
    );
    admin
        .post(
            &format!("{auditor}/revokeRole"),
            &json!({"roles": ["lead"]}),
        )
        .await
        .ok();
    let role = admin.get(&auditor).await.ok();
    assert_eq!(role.data()["grantedRoles"], json!([]), "{}", role.text);
    let refused = admin
        .post(&format!("{auditor}/modifyObjectPrivilege"), &objects)
        .await;
    assert_eq!(refused.error_code(), 10011, "{}", refused.text);
    let missing = admin
        .post(
            &format!("{base}/roles/nobody/grantRole"),
            &json!({"roles": ["lead"]}),
        )
        .await;
    assert_eq!(missing.status, 404, "{}", missing.text);
    for role in ["auditor", "lead"] {
        admin.delete(&format!("{base}/roles/{role}")).await.ok();
    }

    // A major compaction runs to its end.
    let compaction = admin
        .post_empty(&format!("/api/v2/ob/clusters/{id}/compaction"))
        .await;
    run_task(&admin, compaction, Duration::from_secs(300)).await;
    let state = admin
        .get(&format!("/api/v2/ob/clusters/{id}/compaction"))
        .await
        .ok();
    assert_eq!(state.data()["status"], "IDLE");

    // After the restarts only queries run: seekdb stops abruptly, and a transaction it had
    // open can hold up DDL for a while after a start (see "Wait observer active").
    stop_start_and_restart(&admin, id, server_id, port, &sb, &params, &base).await;

    // SIGKILL seekdb behind the platform's back: UNAVAILABLE, then RUNNING after a start.
    let pid = seekdb_pid(&sb, server_id).await.expect("seekdb runs");
    unsafe_kill(pid);
    wait_status(&admin, id, "UNAVAILABLE").await;
    server_action(&admin, id, server_id, "start").await;
    wait_status(&admin, id, "RUNNING").await;

    // Delete it: the process and the directory are gone, and so is the cluster.
    let home = home_of(&cluster(&admin, id).await);
    assert!(std::path::Path::new(&home).exists());
    let delete = admin.delete(&format!("/api/v2/ob/clusters/{id}")).await;
    run_task(&admin, delete, WAIT).await;
    assert_gone(&admin, id, &home).await;
    assert_eq!(seekdb_pid(&sb, server_id).await, None);
}

/// Stop and start the server, restart the cluster: rows and parameters survive.
async fn stop_start_and_restart(
    admin: &Api,
    id: i64,
    server_id: i64,
    port: u16,
    sb: &Sandbox,
    params: &str,
    base: &str,
) {
    // Stop the server, then start it: the answer has the shape and steps of 004_*.
    server_action(admin, id, server_id, "stop").await;
    wait_status(admin, id, "STOPPED").await;
    assert_eq!(seekdb_pid(sb, server_id).await, None);
    let started = server_action(admin, id, server_id, "start").await;
    assert_eq!(started["name"], "Start OB server");
    let names: Vec<&str> = started["subtasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for step in [
        "Prepare start observer",
        "Start observer process",
        "Wait observer active",
        "Start ocp agent service",
        "Start server",
        "Update observer status",
        "Update zone status",
        "Sync cluster info",
        "Update OB cluster status",
    ] {
        assert!(names.contains(&step), "{step} in {names:?}");
    }
    wait_status(admin, id, "RUNNING").await;

    // Restart the whole cluster; the rows and the parameter are still there.
    let restart = admin
        .post_empty(&format!("/api/v2/ob/clusters/{id}/restart"))
        .await;
    run_task(admin, restart, WAIT).await;
    wait_status(admin, id, "RUNNING").await;
    let mut root = connect(port, "root", "Root-Pw-1").await;
    let rows = root
        .parameters(Some("plan_cache_evict_interval"))
        .await
        .unwrap();
    assert_eq!(rows[0].value, "7s");
    root.close().await;
    let listed = admin.get(params).await.ok();
    let evict = listed.data()["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "plan_cache_evict_interval")
        .cloned()
        .unwrap();
    assert_eq!(evict["currentValue"]["values"], json!(["7s"]));
    assert!(!evict["description"].as_str().unwrap().is_empty());
    let dbs = admin.get(&format!("{base}/databases")).await.ok();
    assert!(dbs.data()["contents"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["dbName"] == "shop"));
    let mut clerk = connect(port, "clerk", "Clerk-Pw-1").await;
    let rows = clerk.fetch_i64("SELECT COUNT(*) FROM shop.items").await;
    assert_eq!(rows.unwrap(), 2, "the rows written before the stop");
    clerk.close().await;
}

fn unsafe_kill(pid: i32) {
    let status = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// The cluster is forgotten, its directory removed and no seekdb runs in it.
async fn assert_gone(admin: &Api, id: i64, home: &str) {
    let answer = admin.get(&format!("/api/v2/ob/clusters/{id}")).await;
    assert_eq!(answer.error_code(), 10002, "{}", answer.text);
    assert!(!std::path::Path::new(home).exists(), "{home} removed");
    assert!(seekdb_processes(home).is_empty(), "no seekdb in {home}");
}

/// SIGKILL the platform server while the deploy waits for seekdb: after a restart the task
/// goes on where it was and ends with the cluster RUNNING and exactly one seekdb.
#[tokio::test]
async fn a_deploy_finishes_after_the_platform_server_is_killed() {
    let mut sb = sandbox().await;
    let admin = sb.server.admin();
    let rpm = seekdb_rpm(&admin).await;
    let deploy = admin
        .post(
            "/api/v2/ob/clusters",
            &deploy_request(&sb, &rpm, "crash1", json!([])),
        )
        .await
        .ok();
    let task_id = deploy.data()["id"].as_i64().unwrap();
    let id = deploy.data()["clusterId"].as_i64().unwrap();
    let server_id = cluster(&admin, id).await["zones"][0]["servers"][0]["id"]
        .as_i64()
        .unwrap();

    // Once the agent runs seekdb, the platform dies in the middle of the deploy.
    let deadline = std::time::Instant::now() + DEPLOY;
    while seekdb_pid(&sb, server_id).await.is_none() {
        assert!(std::time::Instant::now() < deadline, "seekdb never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = admin
        .get(&format!("/api/v2/tasks/instances/{task_id}"))
        .await
        .ok();
    assert_eq!(before.data()["status"], "RUNNING", "{}", before.text);
    sb.server.restart().expect("the server starts again");

    let admin = sb.server.admin();
    let done = admin.wait_task(task_id, DEPLOY).await;
    assert_eq!(done["status"], "SUCCESSFUL", "{done:#}");
    let c = wait_status(&admin, id, "RUNNING").await;
    let home = home_of(&c);
    assert_eq!(seekdb_processes(&home).len(), 1, "one seekdb in {home}");
    connect(
        c["zones"][0]["servers"][0]["sqlPort"].as_u64().unwrap() as u16,
        "root",
        "Root-Pw-1",
    )
    .await
    .close()
    .await;

    let delete = admin.delete(&format!("/api/v2/ob/clusters/{id}")).await;
    run_task(&admin, delete, WAIT).await;
    assert!(seekdb_processes(&home).is_empty());
}

/// A deploy whose server cannot start (log_disk_size under 2G) fails; its rollback stops
/// what ran, removes the directory and forgets the cluster, and the host is free again.
#[tokio::test]
async fn a_failed_deploy_rolls_back() {
    let sb = sandbox().await;
    let admin = sb.server.admin();
    let rpm = seekdb_rpm(&admin).await;
    let request = deploy_request(
        &sb,
        &rpm,
        "doomed",
        json!([{"name": "log_disk_size", "value": "1G"}]),
    );
    let deploy = admin.post("/api/v2/ob/clusters", &request).await.ok();
    let task_id = deploy.data()["id"].as_i64().unwrap();
    let id = deploy.data()["clusterId"].as_i64().unwrap();
    let failed = admin.wait_task(task_id, DEPLOY).await;
    assert_eq!(failed["status"], "FAILED", "{failed:#}");
    let failed_step = failed["subtasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["status"] == "FAILED")
        .expect("a failed subtask");
    assert_eq!(failed_step["name"], "Wait observer accessible");
    // Its log says what seekdb's own log ended with, not the start banner of its output.
    let log = admin
        .get(&format!(
            "/api/v2/tasks/instances/{task_id}/subtasks/{}/log",
            failed_step["id"]
        ))
        .await;
    assert!(log.text.contains("log/seekdb.log ends"), "{}", log.text);
    assert!(log.text.contains("[seekdb]"), "{}", log.text);
    let home = home_of(&cluster(&admin, id).await);
    assert!(std::path::Path::new(&home).exists());

    let rolling = admin
        .post_empty(&format!("/api/v2/tasks/instances/{task_id}/rollback"))
        .await
        .ok();
    assert_eq!(rolling.data()["operation"], "ROLLBACK");
    let done = admin.wait_task(task_id, WAIT).await;
    assert_eq!(done["status"], "SUCCESSFUL", "{done:#}");
    assert_gone(&admin, id, &home).await;
    let host = admin
        .get(&format!("/api/v2/compute/hosts/{}", sb.host_id(0)))
        .await
        .ok();
    assert_eq!(host.data()["status"], "AVAILABLE");
}

/// A seekdb started by hand is taken over without a restart; the platform then stops it and
/// starts it again from the package, in the same base directory, and its rows are there.
#[tokio::test]
async fn a_running_seekdb_is_taken_over_and_operated() {
    let sb = sandbox().await;
    let admin = sb.server.admin();
    let package = upload_seekdb(&admin).await;

    // The agent unpacks the package; the binary is then started by hand, outside the platform.
    let agent = sb.agents[0].signed_client().expect("agent credentials");
    let installed = agent
        .send(
            "POST",
            "/v1/mgr/packages/install",
            Some(
                &json!({"id": package["id"], "fileName": package["fileName"],
                         "sha256": package["sha256"], "size": package["size"]}),
            ),
        )
        .await;
    assert_eq!(installed.status, 200, "{:?}", installed.body);
    let binary = format!(
        "{}/pylibseekdb/seekdb",
        installed.body["home"].as_str().unwrap()
    );
    let scratch = ocp_testkit::temp_dir().unwrap();
    let home = scratch.path().join("by-hand");
    std::fs::create_dir_all(&home).unwrap();
    let port = free_port("0.0.0.0").unwrap();
    let mut command = std::process::Command::new(&binary);
    command
        .args(["--nodaemon", "--port", &port.to_string(), "--base-dir"])
        .arg(&home)
        .args([
            "--parameter",
            "memory_budget=1G",
            "--parameter",
            "log_disk_size=2G",
        ])
        .args(["--parameter", "datafile_size=64M"])
        .current_dir(&home)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut by_hand = ocp_testkit::ChildGroup::spawn("seekdb", command).unwrap();
    let root = Target {
        host: ocp_testkit::host_ip(0),
        port,
        user: "root".into(),
        password: String::new(),
    };
    let deadline = std::time::Instant::now() + DEPLOY;
    let mut client = loop {
        if let Ok(client) = ObClient::connect(&root, Duration::from_secs(3)).await {
            break client;
        }
        assert!(by_hand.is_running() && std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    client.set_password("root", "Root-Pw-1").await.unwrap();
    client.execute("CREATE DATABASE kept").await.unwrap();
    client
        .execute("CREATE TABLE kept.t (id INT PRIMARY KEY)")
        .await
        .unwrap();
    client
        .execute("INSERT INTO kept.t VALUES (7)")
        .await
        .unwrap();
    client.close().await;

    let takeover = admin
        .post(
            "/api/v2/ob/clusters/takeover",
            &json!({"name": "byhand", "hostId": sb.host_id(0), "sqlPort": port,
                    "password": "Root-Pw-1", "rpmName": package["fileName"]}),
        )
        .await;
    let task = run_task(&admin, takeover, WAIT).await;
    let id = task["clusterId"]
        .as_i64()
        .expect("the task names its cluster");
    let c = wait_status(&admin, id, "RUNNING").await;
    assert_eq!(c["kind"], "SEEKDB");
    assert_eq!(home_of(&c), home.display().to_string());
    let server_id = c["zones"][0]["servers"][0]["id"].as_i64().unwrap();
    assert!(by_hand.is_running(), "taking over did not restart it");
    assert_eq!(
        seekdb_pid(&sb, server_id).await,
        by_hand.pid().map(|p| p as i32)
    );

    // The platform stops the process it did not start, and starts it from the package.
    server_action(&admin, id, server_id, "stop").await;
    wait_status(&admin, id, "STOPPED").await;
    assert!(!by_hand.is_running());
    server_action(&admin, id, server_id, "start").await;
    wait_status(&admin, id, "RUNNING").await;
    let pids = seekdb_processes(&home.display().to_string());
    assert_eq!(pids.len(), 1);
    assert_eq!(seekdb_pid(&sb, server_id).await, Some(pids[0]));
    let mut root = connect(port, "root", "Root-Pw-1").await;
    assert_eq!(root.fetch_i64("SELECT id FROM kept.t").await.unwrap(), 7);
    root.close().await;

    // Deleting it keeps the directory the platform did not make.
    let delete = admin
        .delete(&format!("/api/v2/ob/clusters/{id}?keepData=true"))
        .await;
    run_task(&admin, delete, WAIT).await;
    assert!(home.exists());
    assert!(seekdb_processes(&home.display().to_string()).is_empty());
}

#[tokio::test]
async fn a_killed_seekdb_fires_ob_cannot_connected_until_it_is_started() {
    const ITEM: &str = "ob_cannot_connected";
    let sb = sandbox().await;
    let admin = sb.server.admin();
    let Deployed { id, server_id, .. } = deploy_one(&sb, "watched").await;

    let receiver = ocp_testkit::WebhookReceiver::start(0).await.unwrap();
    let channel = admin
        .post(
            "/api/v2/alarm/channels",
            &json!({"name": "oncall", "type": "HTTP",
                    "config": {"urlTemplate": receiver.url("/alert"),
                               "headersTemplate": "Content-Type: application/json",
                               "bodyTemplate": "{\"kind\":\"${notification_kind}\",\"target\":\"${alarm_target}\",\"level\":\"${alarm_level}\",\"summary\":\"${alarm_summary}\"}"}}),
        )
        .await
        .ok();
    admin
        .post(
            "/api/v2/alarm/subscriptions",
            &json!({"channelId": channel.data()["id"], "alarmTypes": [ITEM]}),
        )
        .await
        .ok();
    evaluate_every_second(&admin, ITEM).await;
    evaluate_every_second(&admin, "ob_cluster_exists_inactive_server").await;
    let target = format!("ob_cluster=watched:svr_ip={}", ocp_testkit::host_ip(0));
    assert!(
        open_alarms(&admin, ITEM).await.is_empty(),
        "a running server is fine"
    );

    // The agent's monitor reads the server over SQL, as its host's read-only user.
    let start = chrono::Utc::now() - chrono::Duration::minutes(5);
    let end = chrono::Utc::now() + chrono::Duration::hours(1);
    let format = "%Y-%m-%dT%H:%M:%S%%2B00:00";
    let metrics = "ob_session_num,ob_sql_qps,ob_plan_cache_plans,ob_data_disk_used_bytes,\
                   ob_no_compaction_seconds,ob_process_rss_bytes";
    let path = format!(
        "/api/v2/monitor/metricsWithLabel?startTime={}&endTime={}&metrics={metrics}\
         &groupBy=ob_cluster&interval=1&labels=ob_cluster:watched",
        start.format(format),
        end.format(format)
    );
    let read = admin
        .poll(&path, WAIT, |d| {
            d["contents"][0]["data"]
                .as_array()
                .is_some_and(|points| points.iter().any(|p| p["ob_sql_qps"].is_number()))
        })
        .await
        .unwrap_or_else(|last| panic!("no database metrics: {last:#}"));
    let point = read["contents"][0]["data"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|p| p["ob_sql_qps"].is_number())
        .unwrap()
        .clone();
    assert!(point["ob_session_num"].as_f64().unwrap() >= 1.0, "{point}");
    assert!(
        point["ob_data_disk_used_bytes"].as_f64().unwrap() > 0.0,
        "{point}"
    );
    assert!(
        point["ob_process_rss_bytes"].as_f64().unwrap() > 1e7,
        "{point}"
    );
    let users = admin
        .get(&format!("/api/v2/ob/clusters/{id}/tenants/1/users"))
        .await
        .ok();
    assert!(users
        .text
        .contains(&format!("ocp_monitor_{}", sb.host_id(0))));

    // A statement running long is an active session: over a threshold of 0, it fires.
    let item = "ob_host_active_session_count_over_threshold";
    let sessions = evaluate_every_second(&admin, item).await;
    admin
        .put(
            &format!("/api/v2/alarm/rules/{sessions}"),
            &json!({"threshold": 0}),
        )
        .await
        .ok();
    let port = cluster(&admin, id).await["zones"][0]["servers"][0]["sqlPort"]
        .as_u64()
        .unwrap() as u16;
    let mut busy = connect(port, "root", "Root-Pw-1").await;
    let sleeper = tokio::spawn(async move {
        let _ = busy.fetch_i64("SELECT SLEEP(6)").await;
        busy.close().await;
    });
    let deadline = std::time::Instant::now() + WAIT;
    while open_alarms(&admin, item).await != vec![(target.clone(), "Active".to_string())] {
        assert!(std::time::Instant::now() < deadline, "sessions never fired");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    sleeper.await.unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    while !open_alarms(&admin, item).await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "sessions never resolved"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Sessions: a running statement is listed ACTIVE with its trace id. Stopping it leaves
    // its session; ending the session ends it. The monitor's session is never ended, and a
    // request naming a session that does not exist ends none.
    let sessions = format!("/api/v2/ob/clusters/{id}/tenants/1/sessions");
    let mut sleepy = connect(port, "root", "Root-Pw-1").await;
    let sleeping = tokio::spawn(async move {
        let started = std::time::Instant::now();
        let _ = sleepy.fetch_i64("SELECT SLEEP(30)").await;
        (sleepy, started.elapsed())
    });
    let is_sleep = |s: &Value| s["info"].as_str().is_some_and(|i| i.contains("SLEEP(30)"));
    let listed = admin
        .poll(
            &format!("{sessions}?activeOnly=true&dbUser=root"),
            WAIT,
            |d| {
                d["contents"]
                    .as_array()
                    .is_some_and(|all| all.iter().any(is_sleep))
            },
        )
        .await
        .unwrap_or_else(|last| panic!("no sleeping session: {last:#}"));
    let session = listed["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| is_sleep(s))
        .unwrap()
        .clone();
    assert_eq!(session["status"], "ACTIVE", "{session:#}");
    assert!(session["traceId"].as_str().is_some_and(|t| !t.is_empty()));
    let session_id = session["id"].as_i64().unwrap();
    let stats = admin.get(&format!("{sessions}/stats")).await.ok();
    assert!(
        stats.data()["activeCount"].as_i64().unwrap() >= 1,
        "{}",
        stats.text
    );
    assert!(stats.data()["userStats"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["dbUser"] == "root" && u["activeCount"].as_i64() >= Some(1)));
    let monitor = admin
        .get(&format!("{sessions}?dbUser=ocp_monitor"))
        .await
        .ok();
    let monitor_id = monitor.data()["contents"][0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no monitor session: {}", monitor.text));
    let close = format!("{sessions}/close");
    let refused = admin
        .post(&close, &json!({"sessionIds": [monitor_id]}))
        .await;
    assert_eq!(refused.error_code(), 10001, "{}", refused.text);
    assert!(refused.text.contains("platform's own"), "{}", refused.text);
    let refused = admin
        .post(&close, &json!({"sessionIds": [session_id, 987654321]}))
        .await;
    assert!(
        refused.text.contains("no session 987654321"),
        "{}",
        refused.text
    );
    admin
        .post(
            &format!("{sessions}/closeQuery"),
            &json!({"sessionIds": [session_id]}),
        )
        .await
        .ok();
    let (mut sleepy, took) = sleeping.await.unwrap();
    assert!(
        took < Duration::from_secs(20),
        "the statement ran on: {took:?}"
    );
    assert_eq!(
        sleepy.fetch_i64("SELECT 1").await.unwrap(),
        1,
        "the session survives"
    );
    admin.get(&format!("{sessions}/{session_id}")).await.ok();
    admin
        .post(&close, &json!({"sessionIds": [session_id]}))
        .await
        .ok();
    assert!(
        sleepy.fetch_i64("SELECT 1").await.is_err(),
        "the session ended"
    );
    let gone = admin.get(&format!("{sessions}/{session_id}")).await;
    assert_eq!(gone.status, 404, "{}", gone.text);

    // Killed: the alert fires and the webhook hears it.
    let pid = seekdb_pid(&sb, server_id).await.expect("seekdb runs");
    unsafe_kill(pid);
    let fired = receiver
        .wait_for(WAIT, |r| r.json()["kind"] == "ALERT")
        .await
        .unwrap_or_else(|all| panic!("no alert: {all:#?}"));
    let body = fired.json();
    assert_eq!(body["target"], target.as_str());
    assert_eq!(body["level"], "Stopped");
    assert_eq!(
        body["summary"],
        format!("{target} The OBServer cannot be connected.").as_str()
    );
    let events = admin
        .get(&format!(
            "/api/v2/alarm/alarms?alarmType={ITEM}&status=Active"
        ))
        .await
        .ok();
    let event = &events.data()["contents"][0];
    assert_eq!(event["appType"], "OB");
    assert_eq!(event["scope"], "ObServer");
    assert_eq!(event["level"], 1);
    assert_eq!(event["labels"]["ob_cluster"], "watched");
    admin
        .poll(
            "/api/v2/alarm/alarms?alarmType=ob_cluster_exists_inactive_server&status=Active",
            WAIT,
            |d| d["contents"][0]["labels"]["servers"] == ocp_testkit::host_ip(0).as_str(),
        )
        .await
        .unwrap_or_else(|last| panic!("no inactive-server alert: {last:#}"));

    // Started again: resolved, and the webhook hears that too.
    server_action(&admin, id, server_id, "start").await;
    receiver
        .wait_for(WAIT, |r| r.json()["kind"] == "RESOLVED")
        .await
        .unwrap_or_else(|all| panic!("no resolution: {all:#?}"));
    assert!(open_alarms(&admin, ITEM).await.is_empty());

    // Under a blocking condition for the cluster the same kill is Silenced and quiet.
    let ends = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    admin
        .post(
            "/api/v2/alarm/silencers",
            &json!({"appType": "OB", "matchers": {"ob_cluster": "watched"}, "endsAt": ends}),
        )
        .await
        .ok();
    let heard = receiver.requests().len();
    let pid = seekdb_pid(&sb, server_id).await.expect("seekdb runs");
    unsafe_kill(pid);
    let deadline = std::time::Instant::now() + WAIT;
    while open_alarms(&admin, ITEM).await != vec![(target.clone(), "Silenced".to_string())] {
        assert!(std::time::Instant::now() < deadline, "never Silenced");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server_action(&admin, id, server_id, "start").await;
    let deadline = std::time::Instant::now() + WAIT;
    while !open_alarms(&admin, ITEM).await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "never resolved");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(receiver.requests().len(), heard, "a blocked alert notified");

    let delete = admin.delete(&format!("/api/v2/ob/clusters/{id}")).await;
    run_task(&admin, delete, WAIT).await;
}
