//! The task API through the real server: shapes, runs, retries, rollbacks, skips, cancels.

mod common;

use std::time::Duration;

use common::step;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(30);

fn sorted_keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

/// The task of `002_*` as the seed page shows it, for its keys.
fn seed_task() -> Value {
    json!({
        "context": {"listMap": {}, "parallel": false, "parallelIdx": -1, "stringMap": {"prohibit_rollback": "false", "host_id": "2"}},
        "creator": "admin", "executor": "192.168.0.1", "hostId": 2, "id": 30208, "name": "Restart OCP agent",
        "operation": "EXECUTE", "startTime": "2021-09-03T14:17:06.328+08:00", "status": "RUNNING",
        "subtasks": [{"className": "x", "description": "Prepare restart OCP agent", "downstreams": [], "id": 31817,
            "name": "Prepare restart OCP agent", "nodeType": "JAVA_TASK", "operation": "EXECUTE", "parallelIdx": -1,
            "prohibitRollback": false, "runTime": 1, "seriesId": 2, "status": "READY", "timeout": 60, "upstreams": []}],
        "taskDefinitionId": -1, "type": "MANUAL"
    })
}

#[tokio::test]
async fn submitted_and_read_tasks_have_the_documented_shape() {
    let server = common::server();
    let admin = server.admin();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let submitted = admin
        .post(
            "/api/v2/debug/tasks",
            &json!({"name": "Two files", "steps": [
                step("Create a", "createFile", Some(&a), &[]),
                step("Create b", "createFile", Some(&b), &[0]),
            ]}),
        )
        .await
        .ok();
    let task = submitted.data();
    let mut seed_keys = sorted_keys(&seed_task());
    seed_keys.retain(|k| k != "hostId");
    assert_eq!(sorted_keys(task), seed_keys, "task fields as in 002_*");
    let first = &task["subtasks"][0];
    assert_eq!(
        sorted_keys(first),
        sorted_keys(&seed_task()["subtasks"][0]),
        "subtask fields as in 002_*"
    );
    assert_eq!(first["status"], "READY");
    assert_eq!(task["subtasks"][1]["status"], "PENDING");
    assert_eq!(task["subtasks"][1]["upstreams"], json!([first["id"]]));
    assert_eq!(first["downstreams"], json!([task["subtasks"][1]["id"]]));
    assert_eq!(task["context"]["stringMap"]["prohibit_rollback"], "false");

    let id = task["id"].as_i64().unwrap();
    let done = admin.wait_task(id, WAIT).await;
    assert_eq!(done["status"], "SUCCESSFUL", "{done}");
    for key in ["createTime", "finishTime", "prohibitRollback"] {
        assert!(done.get(key).is_some(), "a finished task shows {key}");
    }
    assert!(a.exists() && b.exists());
    let sub = &done["subtasks"][1];
    assert_eq!(sub["executor"], "127.0.0.1");
    let sid = sub["id"].as_i64().unwrap();
    let one = admin
        .get(&format!("/api/v2/tasks/instances/{id}/subtasks/{sid}"))
        .await
        .ok();
    assert_eq!(one.data()["name"], "Create b");
    let log = admin
        .get(&format!("/api/v2/tasks/instances/{id}/subtasks/{sid}/log"))
        .await
        .ok();
    let log = log.data()["log"].as_str().unwrap();
    assert!(log.starts_with("############{EXECUTE}{"), "{log}");
    assert!(
        log.contains("created") && log.contains("subtask succeeded"),
        "{log}"
    );

    let list = admin
        .get("/api/v2/tasks/instances?status=SUCCESSFUL&name=files")
        .await
        .ok();
    assert_eq!(list.data()["page"]["totalElements"], 1);
    let entry = &list.data()["contents"][0];
    assert_eq!(entry["creator"], json!({"id": 1, "name": "admin"}));
    assert_eq!(entry["subtasks"][0]["operation"], "EXECUTE");
    let none = admin
        .get("/api/v2/tasks/instances?status=FAILED")
        .await
        .ok();
    assert_eq!(none.data()["page"]["totalElements"], 0);
    let paged = admin
        .get("/api/v2/tasks/instances?page=2&size=1")
        .await
        .ok();
    assert_eq!(
        paged.data()["page"],
        json!({"number": 2, "size": 1, "totalElements": 1, "totalPages": 1})
    );
    assert_eq!(paged.data()["contents"], json!([]));
}

#[tokio::test]
async fn failed_task_retries_from_the_failed_subtask() {
    let server = common::server();
    let admin = server.admin();
    let dir = tempfile::tempdir().unwrap();
    let (a, gate, c) = (
        dir.path().join("a"),
        dir.path().join("gate"),
        dir.path().join("c"),
    );
    let task = admin
        .post(
            "/api/v2/debug/tasks",
            &json!({"name": "Gated", "steps": [
                step("Create a", "createFile", Some(&a), &[]),
                step("Wait for gate", "failUnlessFile", Some(&gate), &[0]),
                step("Create c", "createFile", Some(&c), &[1]),
            ]}),
        )
        .await
        .ok();
    let id = task.data()["id"].as_i64().unwrap();
    let failed = admin.wait_task(id, WAIT).await;
    assert_eq!(failed["status"], "FAILED");
    let gate_id = failed["subtasks"][1]["id"].as_i64().unwrap();
    let log = admin
        .get(&format!(
            "/api/v2/tasks/instances/{id}/subtasks/{gate_id}/log"
        ))
        .await
        .ok();
    assert!(log.data()["log"]
        .as_str()
        .unwrap()
        .contains("does not exist"));
    // Illegal transitions answer 20003 and change nothing.
    let c_id = failed["subtasks"][2]["id"].as_i64().unwrap();
    for path in [
        format!("subtasks/{c_id}/retry"),
        format!("subtasks/{c_id}/skip"),
        format!("subtasks/{c_id}/cancel"),
    ] {
        let r = admin
            .post_empty(&format!("/api/v2/tasks/instances/{id}/{path}"))
            .await;
        assert_eq!(
            (r.status, r.error_code()),
            (400, 20003),
            "{path}: {}",
            r.text
        );
    }
    let r = admin
        .post_empty(&format!(
            "/api/v2/tasks/instances/{id}/subtasks/99999/retry"
        ))
        .await;
    assert_eq!((r.status, r.error_code()), (404, 10002));

    std::fs::write(&gate, "open").unwrap();
    let retried = admin
        .post_empty(&format!("/api/v2/tasks/instances/{id}/retry"))
        .await
        .ok();
    assert_eq!(retried.data()["operation"], "RETRY");
    let done = admin.wait_task(id, WAIT).await;
    assert_eq!(done["status"], "SUCCESSFUL", "{done}");
    assert_eq!(done["subtasks"][1]["runTime"], 2);
    assert_eq!(
        done["subtasks"][0]["runTime"], 1,
        "the subtask that succeeded did not run again"
    );
    assert!(c.exists());
    let r = admin
        .post_empty(&format!("/api/v2/tasks/instances/{id}/retry"))
        .await;
    assert_eq!(
        (r.status, r.error_code()),
        (400, 20003),
        "a successful task cannot be retried"
    );
    let r = admin
        .post_empty(&format!("/api/v2/tasks/instances/{id}/rollback"))
        .await;
    assert_eq!((r.status, r.error_code()), (400, 20003));
}

#[tokio::test]
async fn rollback_undoes_in_reverse_and_respects_prohibit() {
    let server = common::server();
    let admin = server.admin();
    let dir = tempfile::tempdir().unwrap();
    let (a, b, gate) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("gate"),
    );
    let steps = json!([
        step("Create a", "createFile", Some(&a), &[]),
        step("Create b", "createFile", Some(&b), &[0]),
        step("Wait for gate", "failUnlessFile", Some(&gate), &[1]),
    ]);
    let id = admin
        .post(
            "/api/v2/debug/tasks",
            &json!({"name": "Undo me", "steps": steps}),
        )
        .await
        .ok()
        .data()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(admin.wait_task(id, WAIT).await["status"], "FAILED");
    assert!(a.exists() && b.exists());
    let rolling = admin
        .post_empty(&format!("/api/v2/tasks/instances/{id}/rollback"))
        .await
        .ok();
    assert_eq!(rolling.data()["operation"], "ROLLBACK");
    let done = admin.wait_task(id, WAIT).await;
    assert_eq!(done["status"], "SUCCESSFUL", "{done}");
    assert!(
        !a.exists() && !b.exists(),
        "rollback removed what the task made"
    );
    let finish = |i: usize| {
        done["subtasks"][i]["finishTime"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(
        finish(2) <= finish(1) && finish(1) <= finish(0),
        "undo ran last step first: {done}"
    );
    for s in done["subtasks"].as_array().unwrap() {
        assert_eq!(s["operation"], "ROLLBACK");
    }

    let mut guarded = steps.clone();
    guarded[0]["prohibitRollback"] = json!(true);
    let id = admin
        .post(
            "/api/v2/debug/tasks",
            &json!({"name": "No undo", "steps": guarded}),
        )
        .await
        .ok()
        .data()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(admin.wait_task(id, WAIT).await["status"], "FAILED");
    let r = admin
        .post_empty(&format!("/api/v2/tasks/instances/{id}/rollback"))
        .await;
    assert_eq!((r.status, r.error_code()), (400, 20004), "{}", r.text);
    let still = admin
        .get(&format!("/api/v2/tasks/instances/{id}"))
        .await
        .ok();
    assert_eq!(still.data()["status"], "FAILED");
    assert_eq!(still.data()["operation"], "EXECUTE");

    // Skip the failed subtask: the task completes.
    let gate_id = still.data()["subtasks"][2]["id"].as_i64().unwrap();
    let skipped = admin
        .post_empty(&format!(
            "/api/v2/tasks/instances/{id}/subtasks/{gate_id}/skip"
        ))
        .await
        .ok();
    assert!(skipped.body.get("data").is_none());
    let done = admin.wait_task(id, WAIT).await;
    assert_eq!(done["status"], "SUCCESSFUL");
    assert_eq!(done["subtasks"][2]["operation"], "SKIP");
}

#[tokio::test]
async fn cancel_timeout_and_parallel_branches() {
    let server = common::server();
    let admin = server.admin();
    let long = json!({"name": "Sleep", "kind": "sleep", "sleepMs": 60000});
    let id = admin
        .post(
            "/api/v2/debug/tasks",
            &json!({"name": "Long", "steps": [long]}),
        )
        .await
        .ok()
        .data()["id"]
        .as_i64()
        .unwrap();
    let running = admin
        .wait_until(id, WAIT, |t| t["subtasks"][0]["status"] == "RUNNING")
        .await;
    let sid = running["subtasks"][0]["id"].as_i64().unwrap();
    admin
        .post_empty(&format!(
            "/api/v2/tasks/instances/{id}/subtasks/{sid}/cancel"
        ))
        .await
        .ok();
    let done = admin.wait_task(id, WAIT).await;
    assert_eq!(done["status"], "FAILED");
    assert_eq!(done["subtasks"][0]["status"], "FAILED");
    assert_eq!(done["subtasks"][0]["operation"], "CANCEL");

    let short = json!({"name": "Too slow", "kind": "sleep", "sleepMs": 5000, "timeoutSecs": 1});
    let id = admin
        .post(
            "/api/v2/debug/tasks",
            &json!({"name": "Timeout", "steps": [short]}),
        )
        .await
        .ok()
        .data()["id"]
        .as_i64()
        .unwrap();
    let done = admin.wait_task(id, WAIT).await;
    assert_eq!(done["status"], "FAILED");
    let sid = done["subtasks"][0]["id"].as_i64().unwrap();
    let log = admin
        .get(&format!("/api/v2/tasks/instances/{id}/subtasks/{sid}/log"))
        .await
        .ok();
    assert!(log.data()["log"]
        .as_str()
        .unwrap()
        .contains("timed out after 1 s"));

    // Fan out: five branches of 300 ms run at once, then join.
    let mut steps = vec![json!({"name": "Prepare", "kind": "noop"})];
    for i in 0..5 {
        steps.push(json!({"name": format!("Branch {i}"), "kind": "sleep", "sleepMs": 300, "after": [0], "parallelIdx": i}));
    }
    steps.push(json!({"name": "Join", "kind": "noop", "after": [1, 2, 3, 4, 5]}));
    let started = std::time::Instant::now();
    let id = admin
        .post(
            "/api/v2/debug/tasks",
            &json!({"name": "Fan out", "steps": steps}),
        )
        .await
        .ok()
        .data()["id"]
        .as_i64()
        .unwrap();
    let done = admin.wait_task(id, WAIT).await;
    assert_eq!(done["status"], "SUCCESSFUL");
    let branches: Vec<i64> = done["subtasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["parallelIdx"].as_i64().unwrap())
        .collect();
    assert_eq!(branches, vec![-1, 0, 1, 2, 3, 4, -1]);
    // Not a timing assertion on the engine's speed: five 300 ms sleeps one after the other
    // would take 1.5 s, so finishing sooner shows they overlapped.
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "branches ran in parallel"
    );
}

/// `GET .../events`: every state change and log line in order with rising ids, `end` once
/// the task has finished, a resume after any id that repeats nothing and loses nothing, and
/// a new stream after a retry.
#[tokio::test]
async fn task_events_stream_and_resume() {
    let server = common::server();
    let admin = server.admin();
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("gate");
    let mut slow = step("Wait a little", "sleep", None, &[]);
    slow["sleepMs"] = json!(300);
    let steps = json!([
        slow,
        step("Needs the gate", "failUnlessFile", Some(&gate), &[0])
    ]);
    let id = admin
        .post(
            "/api/v2/debug/tasks",
            &json!({"name": "Watch me", "steps": steps}),
        )
        .await
        .ok()
        .data()["id"]
        .as_i64()
        .unwrap();

    let frames = admin.task_events(id, None, 10_000, WAIT).await;
    let end = frames.last().expect("events");
    assert_eq!(end.event, "end", "{frames:?}");
    assert_eq!(
        serde_json::from_str::<Value>(&end.data).unwrap()["status"],
        "FAILED"
    );
    let events: Vec<Value> = frames[..frames.len() - 1]
        .iter()
        .map(|f| {
            let data: Value = serde_json::from_str(&f.data).unwrap();
            assert_eq!(f.id.as_deref(), Some(data["id"].to_string().as_str()));
            assert_eq!(f.event, data["kind"].as_str().unwrap().to_lowercase());
            data
        })
        .collect();
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids rise: {ids:?}");
    let states = |name: &str| -> Vec<String> {
        events
            .iter()
            .filter(|e| e["kind"] == "SUBTASK" && e["subtaskName"] == name)
            .map(|e| e["status"].as_str().unwrap().to_string())
            .collect()
    };
    let first = states("Wait a little");
    assert_eq!(
        first.last().map(String::as_str),
        Some("SUCCESSFUL"),
        "{first:?}"
    );
    assert!(first.iter().any(|s| s == "RUNNING"), "{first:?}");
    assert_eq!(
        states("Needs the gate").last().map(String::as_str),
        Some("FAILED")
    );
    assert!(events
        .iter()
        .any(|e| e["kind"] == "LOG" && e["line"].as_str().unwrap().contains("sleeping")));
    assert!(events
        .iter()
        .any(|e| e["kind"] == "TASK" && e["status"] == "FAILED"));

    // Resuming after any event answers exactly the events after it.
    let middle = frames[frames.len() / 2].id.clone().unwrap();
    let rest = admin.task_events(id, Some(&middle), 10_000, WAIT).await;
    let expected: Vec<_> = frames
        .iter()
        .skip_while(|f| f.id.as_deref() != Some(&middle))
        .skip(1)
        .collect();
    assert_eq!(rest.iter().collect::<Vec<_>>(), expected);

    // A retry goes on in the same stream, after the last event seen.
    std::fs::write(&gate, b"").unwrap();
    admin
        .post_empty(&format!("/api/v2/tasks/instances/{id}/retry"))
        .await
        .ok();
    let last = ids.last().unwrap().to_string();
    let after_retry = admin.task_events(id, Some(&last), 10_000, WAIT).await;
    assert_eq!(after_retry.last().unwrap().event, "end");
    assert!(after_retry.last().unwrap().data.contains("SUCCESSFUL"));
    assert!(after_retry
        .iter()
        .any(|f| f.event == "task" && f.data.contains("\"operation\":\"RETRY\"")));

    let bad = admin
        .send(
            reqwest::Method::GET,
            &format!("/api/v2/tasks/instances/{id}/events"),
            None,
            &[("last-event-id", "soon")],
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert!(bad.text.contains("Last-Event-ID"));
}
