//! Backup and restore on real seekdb: a physical set written and restored through the
//! platform, beside `tar | zstd -1` and `zstd -d | tar -x` of the same stopped server run by
//! hand in the same run, and the backup's downtime (the time seekdb refused SQL); a logical
//! set dumped and loaded through the platform, beside `mariadb-dump | zstd -1` and
//! `zstd -d | mariadb` run by hand.

use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use ocp_ob::{ObClient, Target};
use ocp_testkit::{free_port, host_ip, Api};
use serde_json::{json, Value};

use crate::report;

const LIMIT: Duration = Duration::from_secs(1800);

/// Bytes the files under `dir` take on disk (sparse files count what is allocated).
fn allocated(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        total += if meta.is_dir() {
            allocated(&entry.path())
        } else {
            meta.blocks() * 512
        };
    }
    total
}

fn mb_per_s(bytes: u64, took: Duration) -> f64 {
    bytes as f64 / 1e6 / took.as_secs_f64().max(1e-6)
}

/// The milliseconds a log line holding `marker` ends with ("... in 97 ms").
fn logged_ms(log: &str, marker: &str) -> Option<u64> {
    let line = log.lines().find(|l| l.contains(marker))?;
    let (before, _) = line.rsplit_once(" ms")?;
    before.rsplit(' ').next()?.parse().ok()
}

/// The log of a finished task's step.
async fn step_log(admin: &Api, task: i64, step: &str) -> anyhow::Result<String> {
    let detail = admin.get(&format!("/api/v2/tasks/instances/{task}")).await;
    let subtasks = detail.data()["subtasks"].clone();
    let id = subtasks
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["name"] == step)
        .and_then(|s| s["id"].as_i64())
        .ok_or_else(|| anyhow::anyhow!("task {task} has no step {step}"))?;
    let log = admin
        .get(&format!("/api/v2/tasks/instances/{task}/subtasks/{id}/log"))
        .await;
    Ok(log.data()["log"].as_str().unwrap_or_default().to_string())
}

/// Runs a backup call and waits for its task; answers the task and its time.
async fn backup_call(admin: &Api, path: &str, body: &Value) -> anyhow::Result<(i64, Duration)> {
    let started = Instant::now();
    let reply = admin.post(path, body).await.ok();
    let task = reply.data()["backupObjectOpsResultList"][0]["taskIdList"][0]
        .as_i64()
        .ok_or_else(|| anyhow::anyhow!("no task in {}", reply.text))?;
    let done = admin.wait_task(task, LIMIT).await;
    anyhow::ensure!(done["status"] == "SUCCESSFUL", "task {task}: {done}");
    Ok((task, started.elapsed()))
}

async fn run_task(admin: &Api, reply: ocp_testkit::Reply) -> anyhow::Result<Value> {
    let task = reply.ok().data().clone();
    let id = task["id"].as_i64().unwrap_or(0);
    let done = admin.wait_task(id, LIMIT).await;
    anyhow::ensure!(done["status"] == "SUCCESSFUL", "task {id}: {done}");
    Ok(task)
}

fn shell(script: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let status = Command::new("bash").args(["-c", script]).status()?;
    anyhow::ensure!(status.success(), "{script} failed");
    Ok(started.elapsed())
}

/// root's connection to the benchmark's server on `port`.
async fn root(port: u16) -> anyhow::Result<ObClient> {
    let target = Target {
        host: host_ip(0),
        port,
        user: "root".into(),
        password: "Bench-Pw-1".into(),
    };
    Ok(ObClient::connect(&target, Duration::from_secs(5)).await?)
}

/// Fills a table with `mb` MB of rows that compress about as well as real text does.
async fn load(port: u16, mb: usize) -> anyhow::Result<()> {
    let mut client = root(port)
        .await?
        .with_statement_timeout(Duration::from_secs(300));
    client.execute("CREATE DATABASE bench").await?;
    client
        .execute("CREATE TABLE bench.t (id INT PRIMARY KEY, body TEXT)")
        .await?;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let words = [
        "ocean", "base", "seekdb", "backup", "set", "row", "tenant", "zone",
    ];
    let (rows, batch) = (mb * 250, 100);
    for start in (0..rows).step_by(batch) {
        let values: Vec<String> = (start..start + batch)
            .map(|id| {
                let body: Vec<String> = (0..400)
                    .map(|_| {
                        let n = next();
                        format!("{}{}", words[(n % 8) as usize], n % 1000)
                    })
                    .collect();
                format!("({id}, '{}')", body.join(" "))
            })
            .collect();
        client
            .execute(&format!("INSERT INTO bench.t VALUES {}", values.join(",")))
            .await?;
    }
    client.close().await;
    Ok(())
}

pub async fn run(mb: usize) -> anyhow::Result<()> {
    let (sandbox, rpm) = crate::clusters::seekdb_sandbox().await?;
    let admin = sandbox.server.admin();
    let host = sandbox.host_id(0);
    let port = free_port("0.0.0.0")?;
    let deploy = json!({"name": "bsrc", "rpmName": rpm, "type": "PRIMARY",
        "password": "Bench-Pw-1", "zones": [{"name": "zone1", "servers": [host]}],
        "sqlPort": port});
    let task = run_task(&admin, admin.post("/api/v2/ob/clusters", &deploy).await).await?;
    let id = task["clusterId"].as_i64().unwrap_or(0);
    load(port, mb).await?;
    let cluster = admin.get(&format!("/api/v2/ob/clusters/{id}")).await;
    let server = cluster.data()["zones"][0]["servers"][0].clone();
    let home = server["homePath"].as_str().unwrap_or_default().to_string();
    let server_id = server["id"].as_i64().unwrap_or(0);
    let home = Path::new(&home);

    // Through the platform.
    let scratch = ocp_testkit::temp_dir()?;
    let storage = scratch.path().join("sets");
    let body = json!({"backupMode": "PHYSICAL_BACKUP",
        "obBackupStorageBaseInfo": {"backupStorageType": "BACKUP_STORAGE_FILE",
                                    "storageUrl": storage.display().to_string()}});
    let base = format!("/api/v2/ob/clusters/{id}/backup");
    let (backup_task, backup_took) =
        backup_call(&admin, &format!("{base}/task/dataBackupTasks"), &body).await?;
    let log = step_log(&admin, backup_task, "Backup data").await?;
    let copy_ms = logged_ms(&log, "wrote ").unwrap_or(0);
    let downtime_ms = logged_ms(&log, "refused SQL for ").unwrap_or(0);
    let data = allocated(&home.join("etc")) + allocated(&home.join("store"));
    let sets = admin.get(&format!("{base}/task/dataBackupTasks")).await;
    let set = sets.data()["contents"][0].clone();
    let set_id = set["backupSetId"].as_i64().unwrap_or(0);
    let set_bytes = set["size"].as_u64().unwrap_or(0);

    // By hand, on the same stopped server.
    let stop = admin
        .post_empty(&format!(
            "/api/v2/ob/clusters/{id}/servers/{server_id}/stop"
        ))
        .await;
    run_task(&admin, stop).await?;
    let by_hand = scratch.path().join("by-hand.tar.zst");
    let tar_took = shell(&format!(
        "cd {} && tar -S -cf - etc store | zstd -1 -q -o {} && sync {}",
        home.display(),
        by_hand.display(),
        by_hand.display()
    ))?;
    // The unpack by hand, while the server is still stopped and the disk quiet.
    let set_file = storage.join(format!("backup_set_{set_id}/data.tar.zst"));
    let target = scratch.path().join("unpacked");
    std::fs::create_dir_all(&target)?;
    let untar_took = shell(&format!(
        "sha256sum {f} > /dev/null && zstd -d -q -c {f} | tar -x -C {t} && sync -f {t}",
        f = set_file.display(),
        t = target.display()
    ))?;
    let start = admin
        .post_empty(&format!(
            "/api/v2/ob/clusters/{id}/servers/{server_id}/start"
        ))
        .await;
    run_task(&admin, start).await?;

    report(format!(
        "physical backup of {:.0} MB on disk ({mb} MB of rows) to a {:.1} MB set: copy {copy_ms} \
         ms ({:.0} MB/s), task {:.1} s, downtime {downtime_ms} ms; by hand, tar | zstd -1: {:.0} \
         ms ({:.0} MB/s, {:.1} MB): {:.2}x",
        data as f64 / 1e6,
        set_bytes as f64 / 1e6,
        mb_per_s(data, Duration::from_millis(copy_ms)),
        backup_took.as_secs_f64(),
        tar_took.as_secs_f64() * 1e3,
        mb_per_s(data, tar_took),
        std::fs::metadata(&by_hand)?.len() as f64 / 1e6,
        copy_ms as f64 / (tar_took.as_secs_f64() * 1e3)
    ));

    // Restore into a new cluster, and the same unpack by hand.
    let restore = json!({"backupSetId": set_id, "restoreClusterName": "bcopy",
        "hostId": host, "sqlPort": free_port("0.0.0.0")?});
    let (restore_task, restore_took) =
        backup_call(&admin, &format!("{base}/restore"), &restore).await?;
    let log = step_log(&admin, restore_task, "Restore backup data").await?;
    let unpack_ms = logged_ms(&log, "unpacked ").unwrap_or(0);
    report(format!(
        "physical restore into a new cluster: check and unpack {unpack_ms} ms ({:.0} MB/s), \
         task {:.1} s; by hand, sha256sum then zstd -d | tar -x, sync -f: {:.0} ms ({:.0} MB/s): {:.2}x",
        mb_per_s(data, Duration::from_millis(unpack_ms)),
        restore_took.as_secs_f64(),
        untar_took.as_secs_f64() * 1e3,
        mb_per_s(data, untar_took),
        unpack_ms as f64 / (untar_took.as_secs_f64() * 1e3)
    ));
    logical(&admin, &storage, &rpm, (id, host, port)).await
}

fn median_ms(runs: &mut [Duration]) -> f64 {
    runs.sort();
    runs[runs.len() / 2].as_secs_f64() * 1e3
}

/// Runs a major compaction on the server on `port` and waits until it is idle again.
async fn settle(port: u16) -> anyhow::Result<()> {
    let mut client = root(port)
        .await?
        .with_statement_timeout(Duration::from_secs(120));
    let before = client.compaction().await?.frozen_scn;
    client.major_freeze().await?;
    let deadline = Instant::now() + LIMIT;
    loop {
        let now = client.compaction().await?;
        if now.frozen_scn != before && now.status == "IDLE" {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "the compaction never ended");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    client.close().await;
    Ok(())
}

/// A logical set of the cluster on `port` through the platform, then loaded into a new
/// cluster; and the same dump and load by hand.
async fn logical(
    admin: &Api,
    storage: &Path,
    rpm: &str,
    (id, host, port): (i64, i64, u16),
) -> anyhow::Result<()> {
    let base = format!("/api/v2/ob/clusters/{id}/backup");
    let body = json!({"backupMode": "LOGICAL_BACKUP",
        "obBackupStorageBaseInfo": {"backupStorageType": "BACKUP_STORAGE_FILE",
                                    "storageUrl": storage.display().to_string()}});
    let scratch = ocp_testkit::temp_dir()?;
    let by_hand = scratch.path().join("by-hand.sql.zst");
    let client = |port: u16| format!("-h {} -P {port} -uroot -pBench-Pw-1", host_ip(0));
    // seekdb's background work after the load (freezes, compactions) slows whichever run
    // meets it: settle a major compaction first, then take turns, three runs each.
    settle(port).await?;
    let (mut platform, mut hand) = (Vec::new(), Vec::new());
    let (mut set_id, mut set_bytes, mut backup_took) = (0, 0, Duration::ZERO);
    for _ in 0..3 {
        hand.push(shell(&format!(
            "mariadb-dump {} --single-transaction --routines --triggers --hex-blob \
             --databases bench | zstd -1 -q -f -o {f} && sync {f}",
            client(port),
            f = by_hand.display()
        ))?);
        let (task, took) =
            backup_call(admin, &format!("{base}/task/dataBackupTasks"), &body).await?;
        let log = step_log(admin, task, "Backup data").await?;
        platform.push(Duration::from_millis(
            logged_ms(&log, "dumped ").unwrap_or(0),
        ));
        let sets = admin.get(&format!("{base}/task/dataBackupTasks")).await;
        let set = sets.data()["contents"][0].clone();
        set_id = set["backupSetId"].as_i64().unwrap_or(0);
        set_bytes = set["size"].as_u64().unwrap_or(0);
        backup_took = took;
    }
    let (dump_ms, hand_ms) = (median_ms(&mut platform), median_ms(&mut hand));
    report(format!(
        "logical backup to a {:.1} MB set: dump {dump_ms:.0} ms, task {:.1} s, no downtime; by \
         hand, mariadb-dump | zstd -1: {hand_ms:.0} ms ({:.1} MB): {:.2}x (medians of three \
         runs each, taking turns)",
        set_bytes as f64 / 1e6,
        backup_took.as_secs_f64(),
        std::fs::metadata(&by_hand)?.len() as f64 / 1e6,
        dump_ms / hand_ms
    ));

    // Each load goes into a fresh cluster: by hand into one deployed for it, then the
    // platform's into the one its restore deploys.
    let hand_port = free_port("0.0.0.0")?;
    let fresh = json!({"name": "bhand", "rpmName": rpm, "type": "PRIMARY",
        "password": "Bench-Pw-1", "zones": [{"name": "zone1", "servers": [host]}],
        "sqlPort": hand_port});
    run_task(admin, admin.post("/api/v2/ob/clusters", &fresh).await).await?;
    let load_took = shell(&format!(
        "zstd -d -q -c {f} | mariadb {c} --init-command='SET SESSION ob_query_timeout = \
         3600000000'",
        c = client(hand_port),
        f = by_hand.display()
    ))?;
    let copy_port = free_port("0.0.0.0")?;
    let restore = json!({"backupSetId": set_id, "restoreClusterName": "blogical",
        "hostId": host, "sqlPort": copy_port});
    let (restore_task, restore_took) =
        backup_call(admin, &format!("{base}/restore"), &restore).await?;
    let log = step_log(admin, restore_task, "Restore backup data").await?;
    let load_ms = logged_ms(&log, "loaded ").unwrap_or(0);
    let rows = |port: u16| async move {
        let mut c = root(port).await?;
        let n = c.fetch_i64("SELECT COUNT(*) FROM bench.t").await?;
        c.close().await;
        Ok::<_, anyhow::Error>(n)
    };
    let source_rows = rows(port).await?;
    for loaded in [rows(copy_port).await?, rows(hand_port).await?] {
        anyhow::ensure!(
            loaded == source_rows,
            "a load brought {loaded} rows of {source_rows}"
        );
    }
    report(format!(
        "logical restore of {source_rows} rows into a new cluster: check and load {load_ms} ms, \
         task {:.1} s; by hand into a fresh cluster, zstd -d | mariadb: {:.0} ms: {:.2}x",
        restore_took.as_secs_f64(),
        load_took.as_secs_f64() * 1e3,
        load_ms as f64 / (load_took.as_secs_f64() * 1e3)
    ));
    Ok(())
}
