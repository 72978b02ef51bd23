//! Shared by the tests on real seekdb: a sandbox (a server and one agent), the seekdb
//! package, a deploy request, and waiting for tasks.
#![allow(dead_code)]

use std::time::Duration;

use ocp_ob::{ObClient, Target};
use ocp_testkit::{free_port, seekdb_wheel, Api, Sandbox};
use serde_json::{json, Value};

use crate::common;

pub const DEPLOY: Duration = Duration::from_secs(240);
pub const WAIT: Duration = Duration::from_secs(120);

pub async fn sandbox() -> Sandbox {
    sandbox_with(&[]).await
}

/// A sandbox whose server takes `args` as well.
pub async fn sandbox_with(args: &[&str]) -> Sandbox {
    sandbox_of(1, args).await
}

/// A sandbox of `hosts` hosts whose server takes `args` as well.
pub async fn sandbox_of(hosts: usize, args: &[&str]) -> Sandbox {
    // One test's webhook receiver listens on loopback.
    let mut options = common::options_with_local_webhooks();
    options
        .extra_args
        .extend(["--ob-status-interval-ms".to_string(), "500".to_string()]);
    options
        .extra_args
        .extend(args.iter().map(|a| a.to_string()));
    Sandbox::start(options, hosts, 300)
        .await
        .expect("sandbox starts")
}

pub async fn run_task(admin: &Api, reply: ocp_testkit::Reply, timeout: Duration) -> Value {
    let task = reply.ok();
    let id = task.data()["id"].as_i64().expect("a task");
    let done = admin.wait_task(id, timeout).await;
    if done["status"] != "SUCCESSFUL" {
        for s in done["subtasks"].as_array().unwrap() {
            if s["status"] == "FAILED" {
                let sid = s["id"].as_i64().unwrap();
                let log = admin
                    .get(&format!("/api/v2/tasks/instances/{id}/subtasks/{sid}/log"))
                    .await;
                panic!("task {id} failed in {}: {}", s["name"], log.text);
            }
        }
        panic!("task {id} is {}", done["status"]);
    }
    task.data().clone()
}

pub async fn cluster(admin: &Api, id: i64) -> Value {
    admin
        .get(&format!("/api/v2/ob/clusters/{id}"))
        .await
        .ok()
        .data()
        .clone()
}

pub async fn connect(port: u16, user: &str, password: &str) -> ObClient {
    let target = Target {
        host: ocp_testkit::host_ip(0),
        port,
        user: user.into(),
        password: password.into(),
    };
    ObClient::connect(&target, Duration::from_secs(5))
        .await
        .expect("connects")
}

/// Uploads the seekdb wheel and answers its file name, the deploy's `rpmName`.
pub async fn seekdb_rpm(admin: &Api) -> String {
    upload_seekdb(admin).await["fileName"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Uploads the seekdb wheel and answers the package.
pub async fn upload_seekdb(admin: &Api) -> Value {
    let wheel = seekdb_wheel().expect("the seekdb wheel");
    admin.upload_package(&wheel).await.ok().data().clone()
}

/// A deploy of one seekdb server on the sandbox's first host.
pub fn deploy_request(sb: &Sandbox, rpm: &str, name: &str, parameters: Value) -> Value {
    json!({"name": name, "rpmName": rpm, "type": "PRIMARY", "password": "Root-Pw-1",
           "zones": [{"name": "zone1", "servers": [sb.host_id(0)]}],
           "sqlPort": free_port("0.0.0.0").expect("a free port"),
           "parameters": parameters})
}

/// A cluster of one seekdb server, deployed through the API.
pub struct Deployed {
    pub id: i64,
    pub server_id: i64,
    pub port: u16,
}

/// Uploads the wheel and deploys a cluster of one server on the sandbox's first host, with the
/// default startup parameters; waits for the deploy to succeed.
pub async fn deploy_one(sb: &Sandbox, name: &str) -> Deployed {
    let admin = sb.server.admin();
    let rpm = seekdb_rpm(&admin).await;
    let deploy = admin
        .post(
            "/api/v2/ob/clusters",
            &deploy_request(sb, &rpm, name, json!([])),
        )
        .await;
    let id = deploy.data()["clusterId"].as_i64().unwrap();
    run_task(&admin, deploy, DEPLOY).await;
    let server = &cluster(&admin, id).await["zones"][0]["servers"][0];
    Deployed {
        id,
        server_id: server["id"].as_i64().unwrap(),
        port: server["sqlPort"].as_u64().unwrap() as u16,
    }
}

/// The pids of seekdb processes that run in `home` (see the test kit).
pub fn seekdb_processes(home: &str) -> Vec<i32> {
    ocp_testkit::seekdb_processes(home)
}

pub fn home_of(cluster: &Value) -> String {
    cluster["zones"][0]["servers"][0]["homePath"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Waits until the cluster and its server are `status`; answers the cluster.
pub async fn wait_status(admin: &Api, id: i64, status: &str) -> Value {
    admin
        .poll(&format!("/api/v2/ob/clusters/{id}"), WAIT, |c| {
            c["status"] == status && c["zones"][0]["servers"][0]["status"] == status
        })
        .await
        .unwrap_or_else(|last| panic!("cluster never {status}: {last:#}"))
}

/// Sets an alert item's evaluation interval to one second; answers its id.
pub async fn evaluate_every_second(admin: &Api, item: &str) -> i64 {
    let rules = admin.get("/api/v2/alarm/rules?size=200").await.ok();
    let id = rules.data()["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == item)
        .expect("a built-in item")["id"]
        .as_i64()
        .unwrap();
    admin
        .put(
            &format!("/api/v2/alarm/rules/{id}"),
            &json!({"evaluationIntervalSeconds": 1}),
        )
        .await
        .ok();
    id
}

/// The open events of an item, as `(target, status)`.
pub async fn open_alarms(admin: &Api, item: &str) -> Vec<(String, String)> {
    let reply = admin
        .get(&format!("/api/v2/alarm/alarms?alarmType={item}"))
        .await
        .ok();
    reply.data()["contents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["resolvedAt"].is_null())
        .map(|a| {
            (
                a["target"].as_str().unwrap().to_string(),
                a["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}
