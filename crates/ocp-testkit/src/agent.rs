//! `ocp-agent` processes for tests, each its own "host": its own loopback address
//! (127.0.0.2, 127.0.0.3, ...) and data directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::ChildGroup;

/// Where the `ocp-agent` binary is: `OCP_AGENT_BIN`, else beside the running test binary.
pub fn agent_binary() -> PathBuf {
    crate::server::sibling_binary("OCP_AGENT_BIN", "ocp-agent")
}

/// A free TCP port on `ip`, never one this process was answered before. Tests in one binary
/// run side by side, and a port is only taken when its server starts: two tests given the
/// same port both deploy a seekdb on it, the second exits at the bind, and its deploy, which
/// waits for a login on that port, logs in to the first test's server (all tests use one
/// root password) and goes on there. CI saw a fresh cluster answer "database exists".
pub fn free_port(ip: &str) -> anyhow::Result<u16> {
    static HANDED: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    loop {
        let port = std::net::TcpListener::bind((ip, 0))?.local_addr()?.port();
        let mut handed = HANDED.lock().unwrap_or_else(|e| e.into_inner());
        if !handed.contains(&port) {
            handed.push(port);
            return Ok(port);
        }
    }
}

/// A running agent; killed on drop with the platform processes it started.
pub struct AgentProcess {
    process: Option<ChildGroup>,
    data_dir: PathBuf,
    _temp: tempfile::TempDir,
    ip: String,
    port: u16,
    prometheus_port: u16,
    server_url: String,
    join_token: Option<String>,
    heartbeat_ms: u64,
}

impl AgentProcess {
    /// Starts an agent on `ip` that joins `server_url` with `join_token`.
    pub fn start(
        server_url: &str,
        ip: &str,
        join_token: &str,
        heartbeat_ms: u64,
    ) -> anyhow::Result<Self> {
        let temp = crate::temp_dir()?;
        let mut agent = Self {
            process: None,
            data_dir: temp.path().join("agent"),
            _temp: temp,
            ip: ip.to_string(),
            port: free_port(ip)?,
            prometheus_port: free_port(ip)?,
            server_url: server_url.to_string(),
            join_token: Some(join_token.to_string()),
            heartbeat_ms,
        };
        agent.launch()?;
        Ok(agent)
    }

    /// Starts the agent. Its Prometheus port is picked free before the start, so a test
    /// running beside may take it first: the agent then exits at its bind, and it is started
    /// again on another port (its main port was bound before it joined, so it is its own).
    fn launch(&mut self) -> anyhow::Result<()> {
        for _ in 0..2 {
            match self.launch_once()? {
                Some(process) => {
                    self.process = Some(process);
                    return Ok(());
                }
                None => self.prometheus_port = free_port(&self.ip)?,
            }
        }
        self.process = self.launch_once()?;
        anyhow::ensure!(
            self.process.is_some(),
            "ocp-agent on {} exited at start",
            self.ip
        );
        Ok(())
    }

    /// One start: the running agent, or none if it exited before it listened.
    fn launch_once(&mut self) -> anyhow::Result<Option<ChildGroup>> {
        std::fs::create_dir_all(&self.data_dir)?;
        let mut command = Command::new(agent_binary());
        command
            .arg("run")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--listen")
            .arg(format!("{}:{}", self.ip, self.port))
            .arg("--server")
            .arg(&self.server_url)
            .arg("--heartbeat-ms")
            .arg(self.heartbeat_ms.to_string())
            .arg("--monitor-ms")
            // Tests sample every second; a benchmark may ask for the default 10 s.
            .arg(std::env::var("OCP_TEST_MONITOR_MS").unwrap_or_else(|_| "1000".into()))
            .arg("--sql-stat-ms")
            .arg(std::env::var("OCP_TEST_SQL_STAT_MS").unwrap_or_else(|_| "1000".into()))
            .arg("--prometheus-listen")
            .arg(format!("{}:{}", self.ip, self.prometheus_port))
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(token) = &self.join_token {
            command.env("OCP_AGENT_JOIN_TOKEN", token);
        }
        let mut process = ChildGroup::spawn("ocp-agent", command)?;
        if process
            .wait_for_line("ocp-agent listening on ", Duration::from_secs(60))
            .is_some()
        {
            return Ok(Some(process));
        }
        // Its output ends as it exits: give it a moment to be reaped.
        for _ in 0..100 {
            if !process.is_running() {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        anyhow::bail!(
            "ocp-agent on {} did not start; its log:\n{}",
            self.ip,
            std::fs::read_to_string(self.log_path()).unwrap_or_default()
        )
    }

    pub fn ip(&self) -> &str {
        &self.ip
    }

    pub fn url(&self) -> String {
        format!("http://{}:{}", self.ip, self.port)
    }

    /// Where the agent serves its samples for Prometheus.
    pub fn prometheus_url(&self) -> String {
        format!("http://{}:{}/metrics", self.ip, self.prometheus_port)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn log_path(&self) -> PathBuf {
        self.data_dir.join("log").join("ocp_agentd.log")
    }

    /// The supervisor's pid.
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().and_then(ChildGroup::pid)
    }

    /// The host id and secret the agent got when it joined.
    pub fn credentials(&self) -> anyhow::Result<(i64, String)> {
        let text = std::fs::read_to_string(self.data_dir.join("credentials.json"))?;
        let v: Value = serde_json::from_str(&text)?;
        Ok((
            v["hostId"].as_i64().unwrap_or_default(),
            v["secret"].as_str().unwrap_or_default().to_string(),
        ))
    }

    /// SIGKILL to the agent's process group: the crash case. Platform processes live on.
    pub fn kill(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.kill();
        }
    }

    /// Starts the agent again on the same address and data directory (no token needed).
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.kill();
        self.join_token = None;
        self.launch()
    }

    /// A client that signs its calls with this agent's secret.
    pub fn signed_client(&self) -> anyhow::Result<crate::AgentApi> {
        let (host_id, secret) = self.credentials()?;
        Ok(crate::AgentApi::new(&self.url(), host_id, &secret))
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        self.kill();
        // The platform processes it started run in groups of their own: end them too.
        let procs = self.data_dir.join("procs");
        for entry in std::fs::read_dir(procs).into_iter().flatten().flatten() {
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            let pid = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["pid"].as_i64())
                .unwrap_or(0);
            if pid > 0 {
                crate::process::kill_group(pid as i32);
            }
        }
    }
}
