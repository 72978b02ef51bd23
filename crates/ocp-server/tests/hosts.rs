//! Hosts and agents through real processes: a server and agents on 127.0.0.2, .3, .4, each
//! its own host, joined with tokens; agent tasks, heartbeats, signed calls.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use ocp_testkit::{host_ip, now_ms, Sandbox};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(60);

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// `002_*`: the answer to `POST /compute/hosts/2/agent/restart`, one subtask shown.
fn restart_sample() -> Value {
    json!({
        "context": {"listMap": {}, "parallel": false, "parallelIdx": -1,
            "stringMap": {"prohibit_rollback": "false", "host_id": "2"}},
        "creator": "admin", "executor": "192.168.0.1", "hostId": 2, "id": 30208,
        "name": "Restart OCP agent", "operation": "EXECUTE",
        "startTime": "2021-09-03T14:17:06.328+08:00", "status": "RUNNING",
        "subtasks": [{"className": "com.alipay.ocp.service.task.business.obagent.RestartPosProxyTask",
            "description": "Restart pos proxy", "downstreams": [31816], "id": 31813,
            "name": "Restart pos proxy", "nodeType": "JAVA_TASK", "operation": "EXECUTE",
            "parallelIdx": -1, "prohibitRollback": false, "runTime": 1, "seriesId": 0,
            "status": "PENDING", "timeout": 60, "upstreams": [31817]}],
        "taskDefinitionId": -1, "type": "MANUAL"
    })
}

fn worker_pids(agent: &Value) -> Vec<i64> {
    agent["processes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["alias"] != "ocp_agentd")
        .map(|p| p["pid"].as_i64().unwrap())
        .collect()
}

async fn sandbox(hosts: usize) -> Sandbox {
    Sandbox::start(common::options(), hosts, 300)
        .await
        .expect("sandbox starts")
}

#[tokio::test]
async fn hosts_join_and_agents_restart_and_stop_as_tasks() {
    let mut sb = sandbox(2).await;
    let admin = sb.server.admin();

    // A third host is registered first; its Prepare host task waits for the agent to join.
    let placed = admin
        .post("/api/v2/compute/agentJoinTokens", &json!({}))
        .await
        .ok();
    let (idc, host_type) = (
        placed.data()["idcId"].clone(),
        placed.data()["typeId"].clone(),
    );
    let registered = admin
        .post(
            "/api/v2/compute/hosts/batchCreate",
            &json!({"hostBasicDataList": [{"innerIpAddress": host_ip(2)}], "sshPort": 22,
                "kind": "DEDICATED_PHYSICAL_MACHINE", "idcId": idc, "typeId": host_type,
                "credentialId": 1}),
        )
        .await
        .ok();
    let prepare = &registered.data()["contents"][0];
    let names: Vec<&str> = prepare["subtasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for name in [
        "Pre check for create host",
        "Uninstall legacy obagent",
        "Uninstall legacy ocp agent",
        "Install ocp agent",
        "Update host status",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let third_id = prepare["hostId"].as_i64().unwrap();
    let host = admin
        .get(&format!("/api/v2/compute/hosts/{third_id}"))
        .await
        .ok();
    assert_eq!(host.data()["status"], "NEW");

    // Refused before anything is written: a duplicate address, an unknown IDC, a bad kind.
    let before = admin.get("/api/v2/compute/hosts").await.ok();
    let dup = admin
        .post(
            "/api/v2/compute/hosts/batchCreate",
            &json!({"hostBasicDataList": [{"innerIpAddress": host_ip(0)}], "sshPort": 22,
                "kind": "DEDICATED_PHYSICAL_MACHINE", "idcId": idc, "typeId": host_type}),
        )
        .await;
    assert_eq!((dup.status, dup.error_code()), (409, 10003), "{}", dup.text);
    assert_eq!(
        dup.body["error"]["subErrors"][0]["field"],
        "hostBasicDataList[0].innerIpAddress"
    );
    let unknown = admin
        .post(
            "/api/v2/compute/hosts",
            &json!({"innerIpAddress": "10.9.9.9", "idcId": 999, "typeId": host_type}),
        )
        .await;
    assert_eq!((unknown.status, unknown.error_code()), (400, 10001));
    assert_eq!(unknown.body["error"]["subErrors"][0]["field"], "idcId");
    let kind = admin
        .post(
            "/api/v2/compute/hosts",
            &json!({"innerIpAddress": "10.9.9.9", "idcId": idc, "typeId": host_type, "kind": "VM"}),
        )
        .await;
    assert_eq!(kind.body["error"]["subErrors"][0]["field"], "kind");
    let after = admin.get("/api/v2/compute/hosts").await.ok();
    assert_eq!(
        before.data()["page"]["totalElements"],
        after.data()["page"]["totalElements"]
    );

    let joined = sb.join(&host_ip(2), 300).await.unwrap();
    assert_eq!(joined, third_id, "the agent joined the registered host");
    let prepared = admin.wait_task(prepare["id"].as_i64().unwrap(), WAIT).await;
    assert_eq!(prepared["status"], "SUCCESSFUL", "{prepared}");

    // The inventory: facts from the hosts, filters, paging.
    let list = admin
        .get("/api/v2/compute/hosts?status=AVAILABLE&sort=innerIpAddress,desc&size=2")
        .await
        .ok();
    assert_eq!(list.data()["page"]["totalElements"], 3);
    assert_eq!(list.data()["contents"].as_array().unwrap().len(), 2);
    let first = &list.data()["contents"][0];
    assert_eq!(first["innerIpAddress"], host_ip(2));
    assert_eq!(first["architecture"], std::env::consts::ARCH);
    assert!(first["operatingSystem"].as_str().unwrap().len() > 1);
    assert_eq!(first["hostAgentStatus"], "AVAILABLE");
    let none = admin
        .get("/api/v2/compute/hosts?keyword=no-such-host")
        .await
        .ok();
    assert_eq!(none.data()["page"]["totalElements"], 0);
    let bad = admin.get("/api/v2/compute/hosts?status=SLEEPING").await;
    assert_eq!(bad.body["error"]["subErrors"][0]["field"], "status");

    // Restart one agent: the answer of 002_*, the steps in order, new worker pids.
    let host_id = sb.host_id(0);
    let agent_before = admin
        .get(&format!("/compute/hosts/{host_id}/agent"))
        .await
        .ok();
    assert_eq!(agent_before.data()["status"], "STARTED");
    let pids_before = worker_pids(agent_before.data());
    let restarted = admin
        .post_empty(&format!("/compute/hosts/{host_id}/agent/restart"))
        .await
        .ok();
    let task = restarted.data();
    let sample = restart_sample();
    assert_eq!(keys(task), keys(&sample), "task fields as in 002_*");
    assert_eq!(keys(&task["subtasks"][0]), keys(&sample["subtasks"][0]));
    assert_eq!(task["name"], "Restart OCP agent");
    assert_eq!(task["context"]["stringMap"]["host_id"], host_id.to_string());
    let mut steps: Vec<(i64, String)> = task["subtasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["seriesId"].as_i64().unwrap(),
                s["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    steps.sort();
    let steps: Vec<String> = steps.into_iter().map(|(_, n)| n).collect();
    assert_eq!(
        steps,
        [
            "Prepare restart OCP agent",
            "Restart pos proxy",
            "Stop all OCP agent processes",
            "Start all OCP agent processes",
            "Finish OCP agent operation"
        ]
    );
    let done = admin.wait_task(task["id"].as_i64().unwrap(), WAIT).await;
    assert_eq!(done["status"], "SUCCESSFUL", "{done}");
    let agent_after = admin
        .get(&format!("/api/v2/compute/hosts/{host_id}/agent"))
        .await
        .ok();
    let pids_after = worker_pids(agent_after.data());
    assert!(
        pids_before.iter().all(|p| !pids_after.contains(p)),
        "{pids_before:?} -> {pids_after:?}"
    );
    sb.wait_host(host_id, "AVAILABLE", "AVAILABLE", WAIT)
        .await
        .unwrap();

    // Processes: real values from the host.
    let processes = admin
        .get(&format!(
            "/compute/hosts/{host_id}/agent/processes?page=1&size=10"
        ))
        .await
        .ok();
    let contents = processes.data()["contents"].as_array().unwrap();
    assert_eq!(contents.len(), 3);
    let agentd = contents
        .iter()
        .find(|p| p["alias"] == "ocp_agentd")
        .unwrap();
    assert_eq!(agentd["pid"], sb.agents[0].pid().unwrap());
    assert_eq!(agentd["operable"], false);
    // The ports it listens on: the API's, and the Prometheus page the test kit turns on.
    let ports: Vec<&str> = agentd["ports"].as_str().unwrap().split(',').collect();
    assert!(ports
        .iter()
        .any(|p| sb.agents[0].url().ends_with(&format!(":{p}"))));
    assert!(agentd["logFilePattern"]
        .as_str()
        .unwrap()
        .ends_with("ocp_agentd.log*"));
    let manager = contents
        .iter()
        .find(|p| p["alias"] == "ocp_mgragent")
        .unwrap();
    assert_eq!(manager["status"], "STARTED");
    assert!(manager["startCommand"]
        .as_str()
        .unwrap()
        .contains("worker manager"));

    // One worker: restart answers the process with a new pid; the supervisor is not operable.
    let monitor = contents
        .iter()
        .find(|p| p["alias"] == "ocp_monagent")
        .unwrap();
    let one = admin
        .post_empty(&format!(
            "/compute/hosts/{host_id}/agent/processes/{}/restart",
            monitor["id"]
        ))
        .await
        .ok();
    assert_eq!(one.data()["alias"], "ocp_monagent");
    assert_eq!(one.data()["status"], "STARTED");
    assert_ne!(one.data()["pid"], monitor["pid"]);
    let refused = admin
        .post_empty(&format!(
            "/compute/hosts/{host_id}/agent/processes/{}/stop",
            agentd["id"]
        ))
        .await;
    assert_eq!(refused.error_code(), 10006);

    // Batch stop: one branch per host, stages separated by Wait nodes, run in parallel.
    let ids: Vec<i64> = (0..3).map(|i| sb.host_id(i)).collect();
    let stop = admin
        .post(
            "/api/v2/compute/hosts/batchStopAgents",
            &json!({"hostIds": ids}),
        )
        .await
        .ok();
    let stop = stop.data();
    assert_eq!(stop["name"], "Batch stop OCP agent");
    assert_eq!(
        stop["context"]["listMap"]["host_ids"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let subtasks = stop["subtasks"].as_array().unwrap();
    assert_eq!(subtasks.len(), 3 * 3 + 2);
    for name in [
        "Prepare stop OCP agent",
        "Stop all OCP agent processes",
        "Finish OCP agent operation",
    ] {
        let branches: BTreeSet<i64> = subtasks
            .iter()
            .filter(|s| s["name"] == name)
            .map(|s| s["parallelIdx"].as_i64().unwrap())
            .collect();
        assert_eq!(branches, BTreeSet::from([0, 1, 2]), "{name}");
    }
    assert!(subtasks
        .iter()
        .filter(|s| s["name"] == "Wait node")
        .all(|s| s["parallelIdx"] == -1));
    let stopped = admin.wait_task(stop["id"].as_i64().unwrap(), WAIT).await;
    assert_eq!(stopped["status"], "SUCCESSFUL", "{stopped}");
    for id in &ids {
        let agent = admin
            .get(&format!("/api/v2/compute/hosts/{id}/agent"))
            .await
            .ok();
        assert_eq!(agent.data()["status"], "STOPPED");
        assert!(worker_pids(agent.data()).iter().all(|p| *p == 0));
        // The supervisor still beats: the host is there, its agent is not.
        sb.wait_host(*id, "AVAILABLE", "OFFLINE", WAIT)
            .await
            .unwrap();
    }
    let restart = admin
        .post(
            "/api/v2/compute/hosts/batchRestartAgents",
            &json!({"hostIds": ids}),
        )
        .await
        .ok();
    assert_eq!(restart.data()["name"], "Batch restart OCP agent");
    let restarted = admin
        .wait_task(restart.data()["id"].as_i64().unwrap(), WAIT)
        .await;
    assert_eq!(restarted["status"], "SUCCESSFUL", "{restarted}");
    for id in &ids {
        sb.wait_host(*id, "AVAILABLE", "AVAILABLE", WAIT)
            .await
            .unwrap();
    }

    // A viewer reads but cannot restart; a batch naming an unknown host changes nothing.
    let password = common::user_with_roles(&sb.server, "viewer", &["HOST_VIEWER"]).await;
    let viewer = sb.server.client("viewer", &password);
    viewer.get("/api/v2/compute/hosts").await.ok();
    let denied = viewer
        .post_empty(&format!("/compute/hosts/{host_id}/agent/restart"))
        .await;
    assert_eq!((denied.status, denied.error_code()), (403, 10004));
    let unknown = admin
        .post(
            "/api/v2/compute/hosts/batchStopAgents",
            &json!({"hostIds": [host_id, 9999]}),
        )
        .await;
    assert_eq!(unknown.error_code(), 10002);

    // An IDC that hosts stand in cannot be deleted.
    let in_use = admin.delete(&format!("/api/v2/compute/idcs/{idc}")).await;
    assert_eq!((in_use.status, in_use.error_code()), (409, 10006));

    // Deleting hosts: their agents' credentials stop working.
    admin
        .post(
            "/api/v2/compute/hosts/batchDelete",
            &json!({"hostIdList": [ids[2]]}),
        )
        .await
        .ok();
    let gone = admin
        .get(&format!("/api/v2/compute/hosts/{}", ids[2]))
        .await;
    assert_eq!(gone.status, 404);
}

#[tokio::test]
async fn heartbeats_signatures_and_processes_that_outlive_the_agent() {
    let mut sb = sandbox(2).await;
    let admin = sb.server.admin();
    let host_id = sb.host_id(0);
    let api = sb.agents[0].signed_client().unwrap();

    // A platform process started through the agent, in its own process group.
    let started = api
        .send(
            "POST",
            "/v1/mgr/processes",
            Some(&json!({"name": "db1", "program": "sleep", "args": ["600"]})),
        )
        .await;
    assert_eq!(started.status, 200, "{:?}", started.body);
    let db_pid = started.body["pid"].as_i64().unwrap();
    assert_eq!(started.body["running"], true);

    // Restart the agent through the API, then SIGKILL its whole group: db1 lives on.
    let task = admin
        .post_empty(&format!("/compute/hosts/{host_id}/agent/restart"))
        .await
        .ok();
    let done = admin
        .wait_task(task.data()["id"].as_i64().unwrap(), WAIT)
        .await;
    assert_eq!(done["status"], "SUCCESSFUL");
    sb.agents[0].kill();
    assert!(
        std::path::Path::new(&format!("/proc/{db_pid}")).exists(),
        "db1 outlived the agent"
    );

    // The silent host goes OFFLINE within the heartbeat window, and comes back.
    let t0 = std::time::Instant::now();
    sb.wait_host(host_id, "OFFLINE", "OFFLINE", WAIT)
        .await
        .unwrap();
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    sb.agents[0].restart().unwrap();
    sb.wait_host(host_id, "AVAILABLE", "AVAILABLE", WAIT)
        .await
        .unwrap();

    // The restarted agent finds db1 again from its pidfile.
    let api = sb.agents[0].signed_client().unwrap();
    let listed = api.send("GET", "/v1/mgr/processes", None).await;
    assert_eq!(listed.body[0]["name"], "db1");
    assert_eq!(listed.body[0]["pid"], db_pid);
    assert_eq!(listed.body[0]["running"], true);

    // Forged, tampered, stale and replayed calls are refused.
    let path = "/v1/status";
    let headers = api.sign("GET", path, b"", now_ms(), "nonce-1");
    assert_eq!(api.send_raw("GET", path, None, &headers).await.status, 200);
    assert_eq!(
        api.send_raw("GET", path, None, &headers).await.status,
        401,
        "replay"
    );
    let stale = api.sign("GET", path, b"", now_ms() - 120_000, "nonce-2");
    assert_eq!(
        api.send_raw("GET", path, None, &stale).await.status,
        401,
        "stale"
    );
    let other = api.sign("GET", "/v1/workers/stop", b"", now_ms(), "nonce-3");
    assert_eq!(
        api.send_raw("POST", "/v1/workers/stop", None, &other)
            .await
            .status,
        401,
        "signed for another method"
    );
    let forged = ocp_testkit::AgentApi::new(&sb.agents[0].url(), host_id, "not-the-secret");
    assert_eq!(forged.send("GET", path, None).await.status, 401);
    let unsigned = forged.send_raw("GET", path, None, &[]).await;
    assert_eq!(unsigned.status, 401);
    // The other agent's secret does not open this one.
    let neighbour = sb.agents[1].signed_client().unwrap();
    let (other_host, other_secret) = sb.agents[1].credentials().unwrap();
    assert_ne!(other_host, host_id);
    let cross = ocp_testkit::AgentApi::new(&sb.agents[0].url(), other_host, &other_secret);
    assert_eq!(cross.send("GET", path, None).await.status, 401);
    assert_eq!(neighbour.send("GET", path, None).await.status, 200);

    // A forged heartbeat to the server is refused.
    let beat_path = "/api/v2/agents/heartbeat";
    let to_server = ocp_testkit::AgentApi::new(sb.server.url(), host_id, "not-the-secret");
    let body = json!({"report": {"hostId": host_id, "version": "x", "installHome": "", "logHome": "", "processes": []}});
    let refused = to_server.send("POST", beat_path, Some(&body)).await;
    assert_eq!(refused.status, 401);

    // The platform process stops through the agent.
    let stopped = api.send("POST", "/v1/mgr/processes/db1/stop", None).await;
    assert_eq!(stopped.body["running"], false);
    assert!(
        !std::path::Path::new(&format!("/proc/{db_pid}/stat")).exists()
            || std::fs::read_to_string(format!("/proc/{db_pid}/stat"))
                .unwrap()
                .contains(") Z")
    );
    // The server's log file is plain text, and the agents' heartbeats and metric batches,
    // sent all along, are not in it at INFO (only the ones refused above).
    let log = std::fs::read_to_string(sb.server.log_path()).unwrap();
    assert!(!log.contains('\x1b'), "colour codes in the log file");
    let answered = |l: &&str| l.contains("path=\"/api/v2/") && l.contains("status=200");
    assert!(log.lines().any(|l| answered(&l)), "{log}");
    for routine in ["/api/v2/agents/heartbeat", "/api/v2/agents/metrics"] {
        let taken = log
            .lines()
            .find(|l| l.contains(&format!("path=\"{routine}\"")) && l.contains("status=200"));
        assert!(taken.is_none(), "logged at INFO: {taken:?}");
    }
    let _ = admin;
}

/// Tokens issued at once on a fresh server, before any IDC exists, all place their hosts in
/// the one default IDC and host type that the first of them made.
#[tokio::test]
async fn join_tokens_issued_at_once_share_the_default_placement() {
    let server = common::server();
    let admin = server.admin();
    let empty = json!({});
    let issued = futures::future::join_all(
        (0..8).map(|_| admin.post("/api/v2/compute/agentJoinTokens", &empty)),
    )
    .await;
    let placements: BTreeSet<(i64, i64)> = issued
        .into_iter()
        .map(|r| {
            let r = r.ok();
            (
                r.data()["idcId"].as_i64().unwrap(),
                r.data()["typeId"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(placements.len(), 1, "{placements:?}");
}
