//! Standby clusters on real seekdb, on two hosts of the sandbox: a standby built from a
//! primary's log reads what the primary writes and refuses writes, and reports its delay,
//! which alerts; an upgrade goes to the standby first (1.4.0 to 1.4.0.post1), then a
//! switchover (through `ocpctl`) exchanges the roles, the old primary follows the new one
//! and is upgraded in turn; when the new
//! primary's server is killed, a failover makes the standby writable, fences the lost one
//! off (it is not started again) and the platform shows the roles; the fenced one is removed.

mod common;
mod seekdb_kit;

use std::process::Command;
use std::time::{Duration, Instant};

use ocp_testkit::{
    free_port, ocpctl_binary, seekdb_wheel_of, Api, Sandbox, ADMIN_PASSWORD, SEEKDB_VERSION,
};
use seekdb_kit::*;
use serde_json::{json, Value};

async fn upload(admin: &Api, version: &str) -> String {
    let wheel = seekdb_wheel_of(version).expect("the seekdb wheel");
    let reply = admin.upload_package(&wheel).await.ok();
    reply.data()["fileName"].as_str().unwrap().to_string()
}

async fn upgrade(admin: &Api, id: i64, rpm: &str) -> ocp_testkit::Reply {
    let path = format!("/api/v2/ob/clusters/{id}/upgrade");
    admin.post(&path, &json!({"rpmFileName": rpm})).await
}

fn port_of(cluster: &Value) -> u16 {
    cluster["zones"][0]["servers"][0]["sqlPort"]
        .as_u64()
        .unwrap() as u16
}

async fn execute(port: u16, statement: &str) -> Result<(), String> {
    let mut db = connect(port, "root", "Root-Pw-1").await;
    let done = db.execute(statement).await.map_err(|e| e.to_string());
    db.close().await;
    done
}

async fn count(port: u16) -> Option<i64> {
    let mut db = connect(port, "root", "Root-Pw-1").await;
    let n = db.fetch_i64("SELECT COUNT(*) FROM shop.items").await.ok();
    db.close().await;
    n
}

/// Waits until the server on `port` has `rows` rows; answers how long that took.
async fn until_rows(port: u16, rows: i64) -> Duration {
    let started = Instant::now();
    while count(port).await != Some(rows) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "port {port} never had {rows} rows (has {:?})",
            count(port).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    started.elapsed()
}

fn ocpctl(sb: &Sandbox, config: &std::path::Path, args: &[&str]) -> std::process::Output {
    let output = Command::new(ocpctl_binary())
        .args(args)
        .env("OCPCTL_CONFIG_DIR", config)
        .env("OCP_SERVER", sb.server.url())
        .env("OCP_USER", "admin")
        .env("OCP_PASSWORD", ADMIN_PASSWORD)
        .output()
        .expect("ocpctl runs");
    assert!(
        output.status.success(),
        "ocpctl {args:?}:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The newest value of a cluster's metric, waiting until there is one.
async fn metric_of(admin: &Api, cluster: &str, metric: &str) -> f64 {
    let start = chrono::Utc::now() - chrono::Duration::minutes(5);
    let end = chrono::Utc::now() + chrono::Duration::hours(1);
    let format = "%Y-%m-%dT%H:%M:%S%%2B00:00";
    let path = format!(
        "/api/v2/monitor/metricsWithLabel?startTime={}&endTime={}&metrics={metric}\
         &groupBy=ob_cluster&interval=1&labels=ob_cluster:{cluster}",
        start.format(format),
        end.format(format)
    );
    let read = admin
        .poll(&path, WAIT, |d| {
            d["contents"][0]["data"]
                .as_array()
                .is_some_and(|points| points.iter().any(|p| p[metric].is_number()))
        })
        .await
        .unwrap_or_else(|last| panic!("no {metric} of {cluster}: {last:#}"));
    let points = read["contents"][0]["data"].as_array().unwrap().clone();
    let last = points.iter().rev().find(|p| p[metric].is_number()).unwrap();
    last[metric].as_f64().unwrap()
}

fn standby_request(sb: &Sandbox, host: usize, name: &str) -> Value {
    json!({"name": name, "hostId": sb.host_id(host),
           "sqlPort": free_port("0.0.0.0").unwrap(),
           "rpcPort": free_port("0.0.0.0").unwrap()})
}

async fn roles(admin: &Api, id: i64) -> (String, Value, Vec<i64>, Value) {
    let view = cluster(admin, id).await;
    let standbys = view["standbyClusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    (
        view["type"].as_str().unwrap().to_string(),
        view["primaryCluster"]["id"].clone(),
        standbys,
        view["syncStatus"].clone(),
    )
}

#[tokio::test]
async fn a_standby_follows_switches_over_and_takes_over_a_lost_primary() {
    let sb = sandbox_of(2, &[]).await;
    let admin = sb.server.admin();
    let rpm = upload(&admin, "1.4.0").await;
    let newer = upload(&admin, SEEKDB_VERSION).await;
    let mut request = deploy_request(&sb, &rpm, "north", json!([]));
    request["rpcPort"] = json!(free_port("0.0.0.0").unwrap());
    let deploy = admin.post("/api/v2/ob/clusters", &request).await;
    let north = deploy.data()["clusterId"].as_i64().unwrap();
    run_task(&admin, deploy, DEPLOY).await;
    let north_port = port_of(&cluster(&admin, north).await);
    for statement in [
        "CREATE DATABASE shop",
        "CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(20))",
        "INSERT INTO shop.items VALUES (1, 'apple')",
    ] {
        execute(north_port, statement).await.unwrap();
    }

    // Refused before anything runs: a standby on the primary's own host, of a cluster that
    // does not exist.
    let path = format!("/api/v2/ob/clusters/{north}/standbyClusters");
    let same_host = admin.post(&path, &standby_request(&sb, 0, "south")).await;
    assert_eq!(same_host.error_code(), 10001, "{}", same_host.text);
    assert!(same_host.text.contains("hostId"), "{}", same_host.text);
    let missing = admin
        .post(
            "/api/v2/ob/clusters/999999/standbyClusters",
            &standby_request(&sb, 1, "south"),
        )
        .await;
    assert_eq!(missing.error_code(), 10002, "{}", missing.text);

    // The standby is built from the primary's log on the other host.
    let created = admin.post(&path, &standby_request(&sb, 1, "south")).await;
    let south = created.data()["clusterId"].as_i64().unwrap();
    run_task(&admin, created, DEPLOY).await;
    let south_port = port_of(&cluster(&admin, south).await);
    assert_eq!(count(south_port).await, Some(1), "the standby has the data");
    let second = admin.post(&path, &standby_request(&sb, 1, "west")).await;
    assert_eq!(second.error_code(), 10011, "{}", second.text);

    let (kind, _, standbys, _) = roles(&admin, north).await;
    assert_eq!((kind.as_str(), standbys), ("PRIMARY", vec![south]));
    let (kind, primary, _, sync) = roles(&admin, south).await;
    assert_eq!(
        (kind.as_str(), primary, sync),
        ("STANDBY", json!(north), json!("VALID"))
    );
    let list = admin.get(&path).await.ok();
    let listed = &list.data()[0];
    assert_eq!(listed["id"], south, "{listed:#}");
    assert_eq!(listed["role"], "STANDBY", "{listed:#}");
    assert!(listed["lagScn"].as_i64().is_some(), "{listed:#}");
    assert!(listed["delayTime"].as_f64().unwrap() < 60.0, "{listed:#}");

    // A write on the primary reads back on the standby; the standby takes none.
    execute(north_port, "INSERT INTO shop.items VALUES (2, 'pear')")
        .await
        .unwrap();
    let seen = until_rows(south_port, 2).await;
    eprintln!(
        "a primary's write read on its standby after {} ms",
        seen.as_millis()
    );
    let refused = execute(south_port, "INSERT INTO shop.items VALUES (9, 'no')").await;
    assert!(refused.unwrap_err().contains("read only"));

    // The standby's agent reports its delay as a metric, and the sync delay item alerts on
    // it (here with a threshold every delay passes).
    let delay = metric_of(&admin, "south", "ob_sync_delay_time").await;
    assert!((0.0..60.0).contains(&delay), "delay {delay}");
    let item = "ob_cluster_sync_delay_time_too_long";
    let rule = evaluate_every_second(&admin, item).await;
    let rule_path = format!("/api/v2/alarm/rules/{rule}");
    admin
        .put(&rule_path, &json!({"threshold": -1.0}))
        .await
        .ok();
    let started = Instant::now();
    let firing = loop {
        let open = open_alarms(&admin, item).await;
        if !open.is_empty() {
            break open;
        }
        assert!(started.elapsed() < WAIT, "{item} never fired");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(firing[0].0.contains("south"), "{firing:?}");
    admin
        .put(&rule_path, &json!({"threshold": 600.0}))
        .await
        .ok();

    let deleted = admin.delete(&format!("/api/v2/ob/clusters/{north}")).await;
    assert_eq!(
        deleted.error_code(),
        10006,
        "a primary with a standby stays"
    );

    // An upgrade goes to the standby first: the primary's is refused while its standby runs
    // the older version; the standby's is taken, and it follows again on the new build.
    let first = upgrade(&admin, north, &newer).await;
    assert_eq!(first.error_code(), 10006, "{}", first.text);
    assert!(first.text.contains("upgrade the standby"), "{}", first.text);
    run_task(&admin, upgrade(&admin, south, &newer).await, DEPLOY).await;
    assert_eq!(cluster(&admin, south).await["rpmName"], newer.as_str());
    execute(north_port, "INSERT INTO shop.items VALUES (10, 'kiwi')")
        .await
        .unwrap();
    until_rows(south_port, 3).await;
    execute(north_port, "DELETE FROM shop.items WHERE id = 10")
        .await
        .unwrap();
    until_rows(south_port, 2).await;

    // Switchover, through the command line: the roles are exchanged, the old primary follows.
    let cfg = tempfile::tempdir().unwrap();
    let (n, s) = (north.to_string(), south.to_string());
    ocpctl(
        &sb,
        cfg.path(),
        &["-w", "cluster", "standby", "switchover", &n, &s],
    );
    let (kind, _, standbys, _) = roles(&admin, south).await;
    assert_eq!((kind.as_str(), standbys), ("PRIMARY", vec![north]));
    let (kind, primary, _, sync) = roles(&admin, north).await;
    assert_eq!(
        (kind.as_str(), primary, sync),
        ("STANDBY", json!(south), json!("VALID"))
    );
    execute(south_port, "INSERT INTO shop.items VALUES (3, 'plum')")
        .await
        .unwrap();
    until_rows(north_port, 3).await;
    let refused = execute(north_port, "INSERT INTO shop.items VALUES (9, 'no')").await;
    assert!(refused.unwrap_err().contains("read only"));
    let listed = ocpctl(
        &sb,
        cfg.path(),
        &["-o", "json", "cluster", "standby", "list", &s],
    );
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed[0]["id"], north, "{listed:#}");
    // Then the old primary, a standby now, is upgraded too.
    run_task(&admin, upgrade(&admin, north, &newer).await, DEPLOY).await;
    assert_eq!(cluster(&admin, north).await["rpmName"], newer.as_str());
    execute(south_port, "INSERT INTO shop.items VALUES (11, 'lime')")
        .await
        .unwrap();
    until_rows(north_port, 4).await;

    // The new primary's server is lost; a failover makes its standby the primary.
    let home = home_of(&cluster(&admin, south).await);
    for pid in seekdb_processes(&home) {
        let killed = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        assert!(killed.unwrap().success());
    }
    let failover = admin
        .post_empty(&format!(
            "/api/v2/ob/clusters/{south}/standbyClusters/{north}/failover"
        ))
        .await;
    let task = run_task(&admin, failover, WAIT).await;
    assert_eq!(task["name"], "Failover OB cluster");
    execute(north_port, "INSERT INTO shop.items VALUES (4, 'fig')")
        .await
        .unwrap();
    assert_eq!(count(north_port).await, Some(5));
    let (kind, _, standbys, _) = roles(&admin, north).await;
    assert_eq!((kind.as_str(), standbys), ("PRIMARY", vec![south]));
    let (kind, primary, _, sync) = roles(&admin, south).await;
    assert_eq!(
        (kind.as_str(), primary, sync),
        ("STANDBY", json!(north), json!("DISABLED"))
    );
    assert_eq!(cluster(&admin, south).await["status"], "STOPPED");
    let start = admin
        .post_empty(&format!("/api/v2/ob/clusters/{south}/start"))
        .await;
    assert_eq!(start.error_code(), 10006, "a fenced primary is not started");

    // Started outside the platform, the fenced server is made read-only again by the status
    // sync before long.
    let packages = sb.agents[1].data_dir().join("packages");
    let binary = std::fs::read_dir(&packages)
        .unwrap()
        .map(|e| e.unwrap().path().join("pylibseekdb/seekdb"))
        .find(|p| p.exists())
        .expect("the installed seekdb");
    let mut by_hand = Command::new(binary);
    by_hand
        .args([
            "--nodaemon",
            "--port",
            &south_port.to_string(),
            "--base-dir",
            &home,
        ])
        .current_dir(&home)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut rogue = ocp_testkit::ChildGroup::spawn("seekdb", by_hand).unwrap();
    let started = Instant::now();
    for id in 100.. {
        let tried = match ocp_ob::ObClient::connect(
            &ocp_ob::Target {
                host: ocp_testkit::host_ip(1),
                port: south_port,
                user: "root".into(),
                password: "Root-Pw-1".into(),
            },
            Duration::from_secs(2),
        )
        .await
        {
            Ok(mut db) => {
                let tried = db
                    .execute(&format!("INSERT INTO shop.items VALUES ({id}, 'rogue')"))
                    .await;
                db.close().await;
                Some(tried)
            }
            Err(_) => None,
        };
        if let Some(Err(e)) = tried {
            assert!(e.to_string().contains("read only"), "{e}");
            break;
        }
        assert!(
            started.elapsed() < WAIT,
            "the fenced server still takes writes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    rogue.kill();
    let switch = admin
        .post_empty(&format!(
            "/api/v2/ob/clusters/{north}/standbyClusters/{south}/switchover"
        ))
        .await;
    assert_eq!(switch.error_code(), 10006, "{}", switch.text);

    // The fenced one is removed; the primary goes on alone.
    let removed = admin
        .delete(&format!(
            "/api/v2/ob/clusters/{north}/standbyClusters/{south}"
        ))
        .await;
    run_task(&admin, removed, WAIT).await;
    assert_eq!(
        admin
            .get(&format!("/api/v2/ob/clusters/{south}"))
            .await
            .error_code(),
        10002
    );
    assert!(seekdb_processes(&home).is_empty());
    let (_, _, standbys, _) = roles(&admin, north).await;
    assert!(standbys.is_empty());
}
