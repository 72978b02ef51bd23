//! Benchmarks that print numbers. Run with `bash scripts/bench.sh` (release build).
//!
//! 1. Task creation through the HTTP API of a real `ocp-server` process: latency p50/p99 one
//!    request at a time, then throughput with concurrent clients.
//! 2. The engine alone, on SQLite and on PostgreSQL: no-op subtasks executed per second for
//!    DAGs of 5 chained steps and of a 50-way fan-out.
//! 3. Agents: a real agent's idle RSS per process, an agent restart task end to end, and the
//!    server's CPU while 1,000 simulated agents send a heartbeat every 10 s.
//! 4. Clusters on real seekdb: deploy request to RUNNING and start-server request to
//!    SUCCESSFUL, beside seekdb started by hand.
//!
//! 5. Monitoring storage: points ingested per second into SQLite and PostgreSQL, bytes per
//!    point, and a one-day query of 100 series through the HTTP API.
//! 6. Alerts: the time from a threshold crossing on a host to the webhook call, with agents
//!    sampling every 10 s, and the monitor worker's RSS and CPU meanwhile (with a seekdb to
//!    read).
//!
//! 7. Backup and restore on real seekdb: a physical set's copy and restore throughput beside
//!    `tar | zstd` and `zstd -d | tar -x` run by hand on the same data, and the downtime.
//!
//! 8. SQL statistics: 1,000 statements sampled every 15 s for a day stored in SQLite, and the
//!    read behind a 24-hour TopSQL answer.
//!
//! 9. Upgrade on real seekdb: 1.4.0 to 1.4.0.post1, request to SUCCESSFUL and the downtime
//!    a client sees.
//!
//! 10. Standby clusters on real seekdb, two hosts: creation beside the bare commands, the
//!     replication lag under a steady write load, switchover and failover times.
//!
//! `--quick` runs smaller counts; `--only tasks` (or `agents`, `clusters`, `monitor`, `sql`,
//! `alerts`, `backups`, `upgrade`, `standby`) runs one group; `--json FILE` writes the figures there too;
//! `--only tasks --backend sqlite` runs only the engine on that backend (for a profile).
//! `compare BASELINE RUN [--accept]` prints the figures that moved by more than 20 %.

mod agents;
mod alerts;
mod backups;
mod clusters;
mod console;
mod figures;
mod fleet;
mod monitor;
mod standby;
mod upgrade;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use ocp_api::task::TaskStatus;
use ocp_store::{Store, StoreConfig, TaskListFilter};
use ocp_task::{
    Engine, EngineConfig, Registry, Step, StepContext, StepError, StepSpec, TaskTemplate,
};
use serde_json::json;

pub use figures::{record, Better};

#[allow(clippy::print_stdout)]
fn report(line: String) {
    println!("{line}");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let scale = if quick { 5 } else { 1 };
    let args: Vec<String> = std::env::args().collect();
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    // `seed-console DIR`: what scripts/bench-console.sh has the console draw.
    if let Some(i) = args.iter().position(|a| a == "seed-console") {
        let dir = args
            .get(i + 1)
            .ok_or_else(|| anyhow::anyhow!("seed-console needs the server's data directory"))?;
        return console::seed(std::path::Path::new(dir)).await;
    }
    if let Some(i) = args.iter().position(|a| a == "compare") {
        let (Some(baseline), Some(run)) = (args.get(i + 1), args.get(i + 2)) else {
            anyhow::bail!("usage: ocp-bench compare BASELINE.json RUN.json [--accept]");
        };
        let accept = args.iter().any(|a| a == "--accept");
        figures::compare(baseline.as_ref(), run.as_ref(), accept)?;
        return Ok(());
    }
    let json = args
        .iter()
        .position(|a| a == "--json")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let runs = |group: &str| only.as_deref().is_none_or(|o| o == group);
    // `--backend sqlite` (or `postgres`) runs the engine on that one, for a profile.
    let backend = args
        .iter()
        .position(|a| a == "--backend")
        .and_then(|i| args.get(i + 1))
        .cloned();
    if runs("tasks") && backend.is_none() {
        http_create(2000 / scale).await?;
    }
    if runs("tasks") {
        let backends = ["sqlite", "postgres"];
        for backend in backends
            .into_iter()
            .filter(|b| backend.as_deref().is_none_or(|o| o == *b))
        {
            engine(backend, "chain of 5", 2000 / scale, 5, 1).await?;
            engine(backend, "fan-out of 50", 200 / scale, 50, 50).await?;
            engine(backend, "one chain of 200", 1, 200 / scale, 1).await?;
        }
    }
    if runs("agents") {
        agents::idle_and_restart(10 / scale).await?;
        let window = Duration::from_secs(if quick { 10 } else { 30 });
        agents::heartbeat_load(1000 / scale, Duration::from_secs(10), window).await?;
    }
    if runs("fleet") {
        // 10,000 agents (2,000 with --quick), on SQLite and then on PostgreSQL.
        let agents = if quick { 2000 } else { 10_000 };
        let window = Duration::from_secs(if quick { 30 } else { 60 });
        let every = Duration::from_secs(10);
        if backend.as_deref() != Some("postgres") {
            fleet::fleet("sqlite", None, agents, every, window).await?;
        }
        if backend.as_deref() != Some("sqlite") {
            let pg = ocp_testkit::Postgres::start()?;
            fleet::fleet("postgres", Some(pg.url()), agents, every, window).await?;
        }
    }
    if runs("monitor") {
        monitor::storage(quick).await?;
    }
    if runs("sql") {
        monitor::top_sql(if quick { 2 } else { 24 }, 1000).await?;
    }
    if runs("alerts") {
        alerts::crossing_to_webhook(if quick { 2 } else { 5 }).await?;
    }
    if runs("clusters") {
        clusters::deploy_and_start(if quick { 3 } else { 9 }).await?;
    }
    if runs("backups") {
        backups::run(if quick { 20 } else { 200 }).await?;
    }
    if runs("upgrade") {
        upgrade::run().await?;
    }
    if runs("standby") {
        standby::run(Duration::from_secs(if quick { 5 } else { 20 })).await?;
    }
    if let Some(path) = json {
        figures::write(path.as_ref())?;
    }
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

async fn http_create(n: usize) -> anyhow::Result<()> {
    let mut options = ocp_testkit::ServerOptions::default();
    options.extra_args.extend(["--log".into(), "warn".into()]);
    let server = ocp_testkit::ServerProcess::start(options)?;
    let api = server.admin();
    let body = json!({"name": "bench", "steps": [{"name": "noop", "kind": "noop"}]});
    // Warm up: connection, credential check.
    for _ in 0..20 {
        api.post("/api/v2/debug/tasks", &body).await.ok();
    }
    let mut latencies = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        api.post("/api/v2/debug/tasks", &body).await.ok();
        latencies.push(started.elapsed());
    }
    latencies.sort();
    let (p50, p99) = (
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
    );
    report(format!(
        "http create task (1 client, {n} requests): p50 {p50:.2} ms, p99 {p99:.2} ms"
    ));
    record("tasks.http_create.p50", p50, "ms", Better::Lower);
    record("tasks.http_create.p99", p99, "ms", Better::Lower);
    let clients = 8;
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..clients {
        let api = api.clone();
        let body = body.clone();
        handles.push(tokio::spawn(async move {
            for _ in 0..n / clients {
                api.post("/api/v2/debug/tasks", &body).await.ok();
            }
        }));
    }
    for h in handles {
        h.await?;
    }
    let per_second = (n / clients * clients) as f64 / started.elapsed().as_secs_f64();
    report(format!(
        "http create task ({clients} clients): {per_second:.0} tasks/s"
    ));
    record(
        "tasks.http_create.per_second_8_clients",
        per_second,
        "tasks/s",
        Better::Higher,
    );
    Ok(())
}

/// When each subtask's step began and ended, for the hand-off times.
type StepTimes = Arc<Mutex<HashMap<i64, (Instant, Instant)>>>;

struct Noop(StepTimes);

#[async_trait]
impl Step for Noop {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let began = Instant::now();
        self.0
            .lock()
            .expect("step times")
            .insert(ctx.subtask_id, (began, Instant::now()));
        Ok(())
    }
}

/// The time from the end of the last upstream's step to the start of each subtask's step:
/// the finish, the promotion, the claim and the start, sorted.
async fn hand_offs(store: &Store, times: &StepTimes) -> anyhow::Result<Vec<Duration>> {
    let times = times.lock().expect("step times").clone();
    let (tasks, _) = store
        .list_tasks(&TaskListFilter::default(), 0, i64::MAX, "id", false)
        .await?;
    let mut gaps = Vec::new();
    for task in &tasks {
        for sub in &task.subtasks {
            let Some((began, _)) = times.get(&sub.id) else {
                continue;
            };
            let last_upstream = sub
                .upstreams
                .iter()
                .filter_map(|up| times.get(up).map(|(_, ended)| *ended))
                .max();
            if let Some(ended) = last_upstream {
                gaps.push(began.saturating_duration_since(ended));
            }
        }
    }
    gaps.sort();
    Ok(gaps)
}

async fn engine(
    backend: &str,
    shape: &str,
    tasks: usize,
    steps: usize,
    width: usize,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let pg;
    let config = match backend {
        "sqlite" => StoreConfig::sqlite_file(&dir.path().join("bench.db")),
        _ => {
            pg = ocp_testkit::Postgres::start()?;
            StoreConfig::postgres(&pg.url())
        }
    };
    let store = Store::open(&config).await?;
    let times = StepTimes::default();
    let mut registry = Registry::new();
    registry.register("bench.Noop", Noop(times.clone()));
    let mut engine_config = EngineConfig::new("bench-node", "127.0.0.1");
    engine_config.max_parallel = 64;
    let engine = Engine::new(store.clone(), registry, engine_config);
    let mut built = Vec::with_capacity(tasks);
    for _ in 0..tasks {
        let mut t = TaskTemplate::new("bench");
        if width > 1 {
            let first = t.step(StepSpec::new("start", "bench.Noop"), &[]);
            let branches: Vec<_> = (0..width)
                .map(|i| t.step(StepSpec::new("branch", "bench.Noop").parallel(i), &[first]))
                .collect();
            t.step(StepSpec::new("join", "bench.Noop"), &branches);
        } else {
            t.chain((0..steps).map(|_| StepSpec::new("step", "bench.Noop")), &[]);
        }
        built.push(t.build(1, "bench", "127.0.0.1")?);
    }
    let per_task = built[0].subtasks.len();
    for t in &built {
        store.create_task(t).await?;
    }
    // The statistics a running PostgreSQL would have by now.
    store.analyze_tasks().await?;
    let started = Instant::now();
    let handle = engine.start().await?;
    let store = Arc::new(store);
    let running = TaskListFilter {
        status: Some(TaskStatus::Running),
        ..Default::default()
    };
    // The metadb is asked only once every step has run, so that the wait costs the engine
    // nothing; then only the last finishes are left.
    let total = tasks * per_task;
    loop {
        let ran = times.lock().expect("step times").len();
        if ran >= total {
            let (_, left) = store.list_tasks(&running, 0, 1, "id", false).await?;
            if left == 0 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = started.elapsed();
    handle.shutdown().await;
    let failed = TaskListFilter {
        status: Some(TaskStatus::Failed),
        ..Default::default()
    };
    let (_, failures) = store.list_tasks(&failed, 0, 1, "id", false).await?;
    let subtasks = tasks * per_task;
    let per_second = subtasks as f64 / elapsed.as_secs_f64();
    report(format!(
        "engine on {backend}, {shape}: {subtasks} subtasks in {:.2} s = {per_second:.0} subtasks/s \
         ({failures} failed tasks)",
        elapsed.as_secs_f64(),
    ));
    let key = format!("tasks.engine.{backend}.{}", shape.replace(' ', "_"));
    if tasks > 1 {
        record(
            &format!("{key}.subtasks_per_second"),
            per_second,
            "subtasks/s",
            Better::Higher,
        );
    } else {
        // One task alone: nothing queues, so the gaps are the engine's own latency.
        let gaps = hand_offs(&store, &times).await?;
        anyhow::ensure!(!gaps.is_empty(), "no hand-off was measured");
        let (p50, p99) = (
            percentile(&gaps, 0.50).as_secs_f64() * 1e3,
            percentile(&gaps, 0.99).as_secs_f64() * 1e3,
        );
        report(format!(
            "engine on {backend}, hand-off from a step's end to its downstream's start \
             ({} hand-offs): p50 {p50:.2} ms, p99 {p99:.2} ms",
            gaps.len()
        ));
        record(
            &format!("tasks.engine.{backend}.hand_off.p50"),
            p50,
            "ms",
            Better::Lower,
        );
        record(
            &format!("tasks.engine.{backend}.hand_off.p99"),
            p99,
            "ms",
            Better::Lower,
        );
    }
    Ok(())
}
