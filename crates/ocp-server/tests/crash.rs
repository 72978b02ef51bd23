//! Nothing lost on a crash: SIGKILL in the middle of a task, restart, the task finishes with
//! every effect applied once; two servers on one PostgreSQL metadb share work without ever
//! running a subtask twice, and one takes over when the other dies.

mod common;

use std::path::Path;
use std::time::Duration;

use common::step;
use ocp_testkit::{Postgres, ServerProcess};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(60);

fn attempts(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path.with_extension("attempts"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn chain(dir: &Path, n: usize, sleep_ms: u64) -> Value {
    let steps: Vec<Value> = (0..n)
        .map(|i| {
            let mut s = step(
                &format!("Step {i}"),
                "createFile",
                Some(&dir.join(format!("step{i}"))),
                if i == 0 { &[] } else { &[0] },
            );
            s["after"] = if i == 0 { json!([]) } else { json!([i - 1]) };
            s["sleepMs"] = json!(sleep_ms);
            s
        })
        .collect();
    json!({"name": "Chain", "steps": steps})
}

#[tokio::test]
async fn sigkill_mid_task_loses_nothing_and_repeats_no_effect() {
    let mut server = common::server();
    let dir = tempfile::tempdir().unwrap();
    let admin = server.admin();
    let id = admin
        .post("/api/v2/debug/tasks", &chain(dir.path(), 4, 500))
        .await
        .ok()
        .data()["id"]
        .as_i64()
        .unwrap();
    admin
        .wait_until(id, WAIT, |t| t["subtasks"][1]["status"] == "RUNNING")
        .await;
    // Acknowledged just before the crash: must survive it too.
    let other_dir = tempfile::tempdir().unwrap();
    let acked = admin
        .post("/api/v2/debug/tasks", &chain(other_dir.path(), 2, 0))
        .await
        .ok()
        .data()["id"]
        .as_i64()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.kill();
    assert!(
        dir.path().join("step1").exists(),
        "step 1 acted before the crash"
    );
    assert!(!dir.path().join("step3").exists());

    server.restart().unwrap();
    let admin = server.admin();
    let done = admin.wait_task(id, WAIT).await;
    assert_eq!(done["status"], "SUCCESSFUL", "{done}");
    for i in 0..4 {
        assert!(dir.path().join(format!("step{i}")).exists());
    }
    assert_eq!(
        attempts(&dir.path().join("step1")),
        vec!["run 1", "run 2"],
        "step 1 ran again after the crash"
    );
    assert_eq!(
        attempts(&dir.path().join("step0")),
        vec!["run 1"],
        "a finished step never runs again"
    );
    assert_eq!(attempts(&dir.path().join("step2")), vec!["run 1"]);
    let sid = done["subtasks"][1]["id"].as_i64().unwrap();
    let log = admin
        .get(&format!("/api/v2/tasks/instances/{id}/subtasks/{sid}/log"))
        .await
        .ok();
    let log = log.data()["log"].as_str().unwrap().to_string();
    assert!(
        log.contains("exists already; nothing to do"),
        "the rerun checked before acting: {log}"
    );
    assert_eq!(admin.wait_task(acked, WAIT).await["status"], "SUCCESSFUL");

    // A clean stop on SIGTERM.
    let status = server.terminate().expect("stops on SIGTERM");
    assert!(status.success(), "{status:?}");
}

fn ha_server(pg: &Postgres, name: &str) -> ServerProcess {
    let mut options = common::options();
    options.metadb = Some(pg.url());
    options
        .extra_args
        .extend(["--advertise-address".into(), name.into()]);
    options.env.push(("OCP_MASTER_KEY".into(), "11".repeat(32)));
    ServerProcess::start(options).expect("server starts")
}

#[tokio::test]
async fn two_servers_share_one_postgres_metadb() {
    let pg = Postgres::start().expect("PostgreSQL starts");
    let a = ha_server(&pg, "node-a");
    let mut b = ha_server(&pg, "node-b");
    let dir = tempfile::tempdir().unwrap();
    // Thirty parallel steps submitted through A: both servers run them, none twice.
    let mut steps = vec![json!({"name": "Prepare", "kind": "noop"})];
    for i in 0..30 {
        let mut s = step(
            &format!("Branch {i}"),
            "createFile",
            Some(&dir.path().join(format!("f{i}"))),
            &[0],
        );
        s["sleepMs"] = json!(50);
        s["parallelIdx"] = json!(i);
        steps.push(s);
    }
    let id = a
        .admin()
        .post(
            "/api/v2/debug/tasks",
            &json!({"name": "Shared", "steps": steps}),
        )
        .await
        .ok()
        .data()["id"]
        .as_i64()
        .unwrap();
    let done = b.admin().wait_task(id, WAIT).await;
    assert_eq!(done["status"], "SUCCESSFUL");
    for i in 0..30 {
        assert_eq!(
            attempts(&dir.path().join(format!("f{i}"))),
            vec!["run 1"],
            "branch {i} ran exactly once"
        );
    }
    // Users and their passwords are shared through the metadb.
    b.admin().get("/api/v2/info").await.ok();

    // A long step on B; kill B; A takes it over when B's lease expires.
    let long = dir.path().join("long");
    let mut s = step("Long", "createFile", Some(&long), &[]);
    s["sleepMs"] = json!(1500);
    let mut id = 0;
    for _ in 0..20 {
        let t = b
            .admin()
            .post(
                "/api/v2/debug/tasks",
                &json!({"name": "Take over", "steps": [s.clone()]}),
            )
            .await
            .ok();
        let tid = t.data()["id"].as_i64().unwrap();
        let running = a
            .admin()
            .wait_until(tid, WAIT, |t| t["subtasks"][0]["status"] == "RUNNING")
            .await;
        if running["subtasks"][0]["executor"] == "node-b" {
            id = tid;
            break;
        }
        a.admin().wait_task(tid, WAIT).await;
        let _ = std::fs::remove_file(&long);
        let _ = std::fs::remove_file(long.with_extension("attempts"));
    }
    assert!(id > 0, "node-b claimed one of the tasks");
    // Kill B while its step is in the middle: after it acted, before it finished.
    let deadline = std::time::Instant::now() + WAIT;
    while !long.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "node-b's step never acted"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    b.kill();
    let done = a.admin().wait_task(id, WAIT).await;
    assert_eq!(done["status"], "SUCCESSFUL", "{done}");
    assert_eq!(done["subtasks"][0]["executor"], "node-a");
    assert_eq!(done["subtasks"][0]["runTime"], 2);
    assert_eq!(attempts(&long), vec!["run 1", "run 2"]);
}

#[tokio::test]
async fn servers_wake_each_other_through_the_metadb() {
    let pg = Postgres::start().expect("PostgreSQL starts");
    // With a one-minute poll, B can only learn of A's task through a wake-up.
    let start = |name: &str| {
        let mut options = common::options();
        options.metadb = Some(pg.url());
        options.extra_args.extend(
            [
                "--advertise-address",
                name,
                "--task-poll-ms",
                "60000",
                "--max-parallel-subtasks",
                "4",
            ]
            .map(String::from),
        );
        options.env.push(("OCP_MASTER_KEY".into(), "22".repeat(32)));
        ServerProcess::start(options).expect("server starts")
    };
    let (a, _b) = (start("node-a"), start("node-b"));
    let steps: Vec<Value> = (0..8)
        .map(|i| json!({"name": format!("Sleep {i}"), "kind": "sleep", "sleepMs": 300, "parallelIdx": i}))
        .collect();
    let id = a
        .admin()
        .post(
            "/api/v2/debug/tasks",
            &json!({"name": "Wake", "steps": steps}),
        )
        .await
        .ok()
        .data()["id"]
        .as_i64()
        .unwrap();
    let done = a.admin().wait_task(id, Duration::from_secs(30)).await;
    assert_eq!(done["status"], "SUCCESSFUL");
    let executors: std::collections::BTreeSet<&str> = done["subtasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["executor"].as_str().unwrap())
        .collect();
    assert_eq!(
        executors.into_iter().collect::<Vec<_>>(),
        vec!["node-a", "node-b"],
        "both servers ran subtasks"
    );
}
