//! Upgrade on real seekdb: a cluster deployed on 1.4.0 with a table, upgraded to the default
//! package (1.4.0.post1). Printed: the time from the request to SUCCESSFUL, the downtime a
//! client sees (the longest stretch in which a query every 20 ms got no answer), and the one
//! stop as the task logged it: the backup set's copy and the restart on the new package.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ocp_ob::{ObClient, Target};
use ocp_testkit::{free_port, host_ip, seekdb_wheel_of, Api};
use serde_json::{json, Value};

use crate::{record, report, Better};

const LIMIT: Duration = Duration::from_secs(600);

/// The number a subtask's log gives after `marker` ("downtime: 123 ms ...").
async fn logged_ms(admin: &Api, task: &Value, step: &str, marker: &str) -> Option<f64> {
    let id = task["id"].as_i64()?;
    let sub = task["subtasks"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == step)?;
    let path = format!("/api/v2/tasks/instances/{id}/subtasks/{}/log", sub["id"]);
    let log = admin.get(&path).await.data()["log"].as_str()?.to_string();
    let (_, rest) = log.split_once(marker)?;
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Queries the server every 20 ms until `stop`; answers the longest time without an answer.
async fn watch_downtime(target: Target, stop: Arc<AtomicBool>) -> Duration {
    let mut last_ok = Instant::now();
    let mut longest = Duration::ZERO;
    while !stop.load(Ordering::Relaxed) {
        let answered = match ObClient::connect(&target, Duration::from_millis(500)).await {
            Ok(mut c) => {
                let ok = c
                    .fetch_i64("SELECT COUNT(*) FROM bench.items")
                    .await
                    .is_ok();
                c.close().await;
                ok
            }
            Err(_) => false,
        };
        if answered {
            longest = longest.max(last_ok.elapsed());
            last_ok = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    longest
}

pub async fn run() -> anyhow::Result<()> {
    let (sandbox, new) = crate::clusters::seekdb_sandbox().await?;
    let admin = sandbox.server.admin();
    let old = admin
        .upload_package(&seekdb_wheel_of("1.4.0")?)
        .await
        .ok()
        .data()["fileName"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let port = free_port("0.0.0.0")?;
    let body = json!({"name": "upgrade", "rpmName": old, "type": "PRIMARY",
        "password": "Bench-Pw-1", "zones": [{"name": "zone1", "servers": [sandbox.host_id(0)]}],
        "sqlPort": port});
    let deploy = admin.post("/api/v2/ob/clusters", &body).await.ok();
    let cluster = deploy.data()["clusterId"].as_i64().unwrap_or(0);
    let done = admin
        .wait_task(deploy.data()["id"].as_i64().unwrap_or(0), LIMIT)
        .await;
    anyhow::ensure!(done["status"] == "SUCCESSFUL", "deploy: {done}");
    let target = Target {
        host: host_ip(0),
        port,
        user: "root".into(),
        password: "Bench-Pw-1".into(),
    };
    let mut client = ObClient::connect(&target, Duration::from_secs(5)).await?;
    client.execute("CREATE DATABASE bench").await?;
    client
        .execute("CREATE TABLE bench.items (id INT PRIMARY KEY, v VARCHAR(40))")
        .await?;
    let values: Vec<String> = (0..10_000).map(|i| format!("({i}, 'item {i}')")).collect();
    client
        .execute(&format!(
            "INSERT INTO bench.items VALUES {}",
            values.join(", ")
        ))
        .await?;
    client.close().await;

    let stop = Arc::new(AtomicBool::new(false));
    let watcher = tokio::spawn(watch_downtime(target, stop.clone()));
    let started = Instant::now();
    let reply = admin
        .post(
            &format!("/api/v2/ob/clusters/{cluster}/upgrade"),
            &json!({"rpmFileName": new}),
        )
        .await
        .ok();
    let task = admin
        .wait_task(reply.data()["id"].as_i64().unwrap_or(0), LIMIT)
        .await;
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let seen = watcher.await?;
    anyhow::ensure!(task["status"] == "SUCCESSFUL", "upgrade: {task}");
    let restart = logged_ms(&admin, &task, "Upgrade observer", "downtime:").await;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    report(format!(
        "seekdb upgrade 1.4.0 -> 1.4.0.post1 (10,000 rows), request to SUCCESSFUL: {:.0} ms; \
         longest time without an answer to a query every 20 ms: {:.0} ms; the task's stop \
         (the backup set's copy, the restart on the new package, the checks): {:.0} ms",
        ms(took),
        ms(seen),
        restart.unwrap_or(f64::NAN)
    ));
    record(
        "upgrade.request_to_successful",
        ms(took),
        "ms",
        Better::Lower,
    );
    record("upgrade.client_downtime", ms(seen), "ms", Better::Lower);
    if let Some(restart) = restart {
        record("upgrade.restart_downtime", restart, "ms", Better::Lower);
    }
    Ok(())
}
