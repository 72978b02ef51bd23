//! The supervisor (`ocp_agentd`): starts the workers, restarts one that dies, stops and
//! starts them on the server's request, and reports them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::response::IntoResponse as _;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use ocp_api::agent::{
    AgentReport, ProcessReport, MANAGER_ALIAS, MONITOR_ALIAS, SUPERVISOR_ALIAS, WORKER_ALIASES,
};
use ocp_api::host::ProcessStatus;
use tokio::sync::Mutex;

use crate::config::{self, AgentConfig};
use crate::procinfo;

/// One worker's state. `generation` changes whenever the supervisor starts or stops it on
/// purpose, so the watcher of an older child knows its exit was expected.
#[derive(Debug, Default)]
struct Worker {
    wanted: bool,
    pid: Option<i32>,
    generation: u64,
    restarts: u32,
    started: Option<Instant>,
}

#[derive(Clone)]
pub struct Supervisor {
    workers: Arc<Mutex<BTreeMap<&'static str, Worker>>>,
    exe: PathBuf,
    pub config: Arc<AgentConfig>,
    pub host_id: i64,
}

impl Supervisor {
    fn new(config: Arc<AgentConfig>, host_id: i64) -> anyhow::Result<Self> {
        let workers = WORKER_ALIASES
            .iter()
            .map(|a| (*a, Worker::default()))
            .collect();
        Ok(Self {
            workers: Arc::new(Mutex::new(workers)),
            exe: std::env::current_exe()?,
            config,
            host_id,
        })
    }

    fn alias(name: &str) -> Option<&'static str> {
        WORKER_ALIASES.iter().copied().find(|a| *a == name)
    }

    /// Starts the worker unless it runs; waits until it serves. Idempotent.
    pub async fn start(&self, name: &str) -> anyhow::Result<()> {
        let alias = Self::alias(name).ok_or_else(|| anyhow::anyhow!("no worker {name}"))?;
        {
            let mut workers = self.workers.lock().await;
            let worker = workers.get_mut(alias).expect("known worker");
            worker.wanted = true;
            if worker.pid.is_none() {
                worker.generation += 1;
                worker.restarts = 0;
                self.spawn(alias, worker)?;
            }
        }
        self.wait_serving(alias).await
    }

    /// Stops the worker (SIGTERM, then SIGKILL after 10 s) and keeps it stopped. Idempotent.
    pub async fn stop(&self, name: &str) -> anyhow::Result<()> {
        let alias = Self::alias(name).ok_or_else(|| anyhow::anyhow!("no worker {name}"))?;
        let pid = {
            let mut workers = self.workers.lock().await;
            let worker = workers.get_mut(alias).expect("known worker");
            worker.wanted = false;
            worker.generation += 1;
            worker.started = None;
            worker.pid.take()
        };
        if let Some(pid) = pid {
            terminate(pid, Duration::from_secs(10)).await;
            tracing::info!(worker = alias, pid, "stopped");
        }
        let _ = std::fs::remove_file(config::worker_socket(&self.config.data_dir, alias));
        Ok(())
    }

    pub async fn restart(&self, name: &str) -> anyhow::Result<()> {
        self.stop(name).await?;
        self.start(name).await
    }

    pub async fn start_all(&self) -> anyhow::Result<()> {
        for alias in WORKER_ALIASES {
            self.start(alias).await?;
        }
        Ok(())
    }

    pub async fn stop_all(&self) -> anyhow::Result<()> {
        for alias in WORKER_ALIASES {
            self.stop(alias).await?;
        }
        Ok(())
    }

    fn spawn(&self, alias: &'static str, worker: &mut Worker) -> anyhow::Result<()> {
        let kind = if alias == MANAGER_ALIAS {
            "manager"
        } else {
            "monitor"
        };
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.config.log_home().join(format!("{alias}.log")))?;
        let mut command = tokio::process::Command::new(&self.exe);
        command
            .arg("worker")
            .arg(kind)
            .arg("--data-dir")
            .arg(&self.config.data_dir)
            .arg("--monitor-interval-ms")
            .arg(self.config.monitor_interval.as_millis().to_string())
            .arg("--sql-stat-interval-ms")
            .arg(self.config.sql_stat_interval.as_millis().to_string())
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let mut child = command.spawn()?;
        let pid = child.id().map(|p| p as i32).unwrap_or(0);
        worker.pid = Some(pid);
        worker.started = Some(Instant::now());
        let generation = worker.generation;
        tracing::info!(worker = alias, pid, "started");
        let me = self.clone();
        tokio::spawn(async move {
            let status = child.wait().await;
            me.exited(alias, generation, status.ok()).await;
        });
        Ok(())
    }

    /// A child exited: restart it if it was meant to run, with a growing pause.
    async fn exited(
        &self,
        alias: &'static str,
        generation: u64,
        status: Option<std::process::ExitStatus>,
    ) {
        let delay = {
            let mut workers = self.workers.lock().await;
            let worker = workers.get_mut(alias).expect("known worker");
            if worker.generation != generation || !worker.wanted {
                return;
            }
            worker.pid = None;
            if worker
                .started
                .is_some_and(|s| s.elapsed() > Duration::from_secs(60))
            {
                worker.restarts = 0;
            }
            worker.restarts += 1;
            Duration::from_millis(200 * 2u64.pow(worker.restarts.min(7)))
        };
        tracing::warn!(
            worker = alias,
            ?status,
            ?delay,
            "worker died; restarting it"
        );
        tokio::time::sleep(delay).await;
        let mut workers = self.workers.lock().await;
        let worker = workers.get_mut(alias).expect("known worker");
        if worker.generation == generation && worker.wanted && worker.pid.is_none() {
            if let Err(e) = self.spawn(alias, worker) {
                tracing::error!(worker = alias, "cannot restart: {e}");
            }
        }
    }

    /// Waits until the worker accepts connections on its socket.
    async fn wait_serving(&self, alias: &str) -> anyhow::Result<()> {
        let socket = config::worker_socket(&self.config.data_dir, alias);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if tokio::net::UnixStream::connect(&socket).await.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                anyhow::bail!("{alias} did not start serving within 15 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every process of the agent, read from `/proc` now.
    pub async fn report(&self) -> AgentReport {
        let log_home = self.config.log_home();
        let describe = |alias: &str, pid: Option<i32>, operable: bool| {
            let pid = pid.filter(|p| procinfo::start_ticks(*p).is_some());
            ProcessReport {
                alias: alias.to_string(),
                pid: pid.unwrap_or(0),
                user: pid.and_then(procinfo::user),
                start_command: pid.and_then(procinfo::command_line),
                ports: pid.map(procinfo::listening_ports).unwrap_or_default(),
                elapsed_seconds: pid.map(procinfo::elapsed_seconds).unwrap_or(0),
                status: if pid.is_some() {
                    ProcessStatus::Started
                } else {
                    ProcessStatus::Stopped
                },
                operable,
                log_file_pattern: format!("{}/{alias}.log*", log_home.display()),
            }
        };
        let mut processes = vec![describe(
            SUPERVISOR_ALIAS,
            Some(std::process::id() as i32),
            false,
        )];
        let workers = self.workers.lock().await;
        for alias in [MANAGER_ALIAS, MONITOR_ALIAS] {
            processes.push(describe(alias, workers[alias].pid, true));
        }
        AgentReport {
            host_id: self.host_id,
            version: env!("CARGO_PKG_VERSION").to_string(),
            install_home: self.config.install_home(),
            log_home: log_home.display().to_string(),
            processes,
        }
    }
}

/// SIGTERM, then SIGKILL once `grace` has passed.
pub async fn terminate(pid: i32, grace: Duration) {
    let Some(ticks) = procinfo::start_ticks(pid) else {
        return;
    };
    let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    let deadline = Instant::now() + grace;
    while procinfo::is_same_process(pid, ticks) {
        if Instant::now() > deadline {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Joins if needed, starts the workers, then serves and sends heartbeats until SIGTERM.
pub async fn run(config: AgentConfig) -> anyhow::Result<()> {
    let config = Arc::new(config);
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let local = listener.local_addr()?;
    let credentials = crate::server_link::credentials(&config, local.port()).await?;
    let supervisor = Supervisor::new(config.clone(), credentials.host_id)?;
    std::fs::write(
        config
            .data_dir
            .join("run")
            .join(format!("{SUPERVISOR_ALIAS}.pid")),
        std::process::id().to_string(),
    )?;
    supervisor.start_all().await?;

    let link = crate::server_link::ServerLink::new(credentials.clone())?;
    tokio::spawn(link.heartbeats(supervisor.clone()));
    let shipper = crate::server_link::ServerLink::new(credentials.clone())?;
    tokio::spawn(shipper.ship_metrics(supervisor.clone()));
    if let Some(address) = config.prometheus_listen {
        let listener = tokio::net::TcpListener::bind(address).await?;
        let data_dir = config.data_dir.clone();
        let page = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let data_dir = data_dir.clone();
                async move {
                    match crate::http::worker_get(
                        &data_dir,
                        MONITOR_ALIAS,
                        ocp_api::agent_path::monitor::METRICS_ROUTE,
                    )
                    .await
                    {
                        Ok(text) => (
                            [(
                                axum::http::header::CONTENT_TYPE,
                                crate::monitor::OPENMETRICS_TEXT,
                            )],
                            text,
                        )
                            .into_response(),
                        Err(e) => (axum::http::StatusCode::SERVICE_UNAVAILABLE, e.to_string())
                            .into_response(),
                    }
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, page).await });
        tracing::info!(%address, "serving Prometheus metrics");
    }

    let app = crate::http::router(supervisor.clone(), credentials);
    #[allow(clippy::print_stdout)]
    {
        println!("ocp-agent listening on {local}");
    }
    tracing::info!(%local, "serving");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("stopping workers");
    supervisor.stop_all().await?;
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
