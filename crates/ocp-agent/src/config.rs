//! The agent's options, its files on disk, logging and the systemd unit.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Where the agent keeps its credentials, pidfiles and logs.
    #[arg(long, env = "OCP_AGENT_DATA_DIR", default_value = "/var/lib/ocp-agent")]
    pub data_dir: PathBuf,
    /// The address the server calls the agent on.
    #[arg(long, env = "OCP_AGENT_LISTEN", default_value = "0.0.0.0:62888")]
    pub listen: SocketAddr,
    /// The host's address as the server sees it (default: the listen address, which must
    /// then not be 0.0.0.0).
    #[arg(long, env = "OCP_AGENT_ADVERTISE_IP")]
    pub advertise_ip: Option<String>,
    /// The server's URL, e.g. http://10.0.0.1:8080; needed to join.
    #[arg(long, env = "OCP_AGENT_SERVER")]
    pub server: Option<String>,
    /// The one-time token printed by `ocp-server join-token`; needed only to join.
    #[arg(long, env = "OCP_AGENT_JOIN_TOKEN", hide_env_values = true)]
    pub join_token: Option<String>,
    /// How often the agent sends a heartbeat.
    #[arg(long, env = "OCP_AGENT_HEARTBEAT_MS", default_value_t = 10_000)]
    pub heartbeat_ms: u64,
    /// How often the monitor samples host metrics.
    #[arg(long, env = "OCP_AGENT_MONITOR_MS", default_value_t = 10_000)]
    pub monitor_ms: u64,
    /// How often the monitor reads the statement statistics of the host's database
    /// servers (SQL diagnostics); seekdb forgets a statement's figures when its plan leaves
    /// the plan cache, so a longer interval loses more.
    #[arg(long, env = "OCP_AGENT_SQL_STAT_MS", default_value_t = 15_000)]
    pub sql_stat_ms: u64,
    /// Also serve the monitor's samples in Prometheus text format, unauthenticated, on
    /// `GET /metrics` at this address (e.g. 127.0.0.1:9108) for an existing Prometheus.
    #[arg(long, env = "OCP_AGENT_PROMETHEUS_LISTEN")]
    pub prometheus_listen: Option<SocketAddr>,
}

#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub advertise_ip: String,
    pub server: Option<String>,
    pub join_token: Option<String>,
    pub heartbeat: Duration,
    pub monitor_interval: Duration,
    pub sql_stat_interval: Duration,
    pub prometheus_listen: Option<SocketAddr>,
    /// When this agent started (ms): calls signed before are refused, since the nonces
    /// seen by an earlier run are forgotten.
    pub started_ms: i64,
}

impl RunArgs {
    pub fn resolve(self) -> anyhow::Result<AgentConfig> {
        let started_ms = crate::server_link::now_ms();
        let advertise_ip = match self.advertise_ip {
            Some(ip) => ip,
            None if self.listen.ip().is_unspecified() => {
                anyhow::bail!("--advertise-ip is needed when listening on {}", self.listen)
            }
            None => self.listen.ip().to_string(),
        };
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating {}", self.data_dir.display()))?;
        let data_dir = self.data_dir.canonicalize()?;
        // Its credentials, pidfiles and logs are the agent's alone.
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&data_dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting {}", data_dir.display()))?;
        for sub in ["run", "log", "procs"] {
            std::fs::create_dir_all(data_dir.join(sub))?;
        }
        Ok(AgentConfig {
            data_dir,
            listen: self.listen,
            advertise_ip,
            server: self.server.map(|s| s.trim_end_matches('/').to_string()),
            join_token: self.join_token,
            heartbeat: Duration::from_millis(self.heartbeat_ms.max(100)),
            monitor_interval: Duration::from_millis(self.monitor_ms.max(100)),
            sql_stat_interval: Duration::from_millis(self.sql_stat_ms.max(100)),
            prometheus_listen: self.prometheus_listen,
            started_ms,
        })
    }
}

impl AgentConfig {
    pub fn log_home(&self) -> PathBuf {
        log_home(&self.data_dir)
    }

    pub fn install_home(&self) -> String {
        std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    }
}

pub fn log_home(data_dir: &Path) -> PathBuf {
    data_dir.join("log")
}

/// The unix socket a worker serves on, inside the data directory.
pub fn worker_socket(data_dir: &Path, alias: &str) -> PathBuf {
    data_dir.join("run").join(format!("{alias}.sock"))
}

/// What the agent got when it joined: the host it speaks for and the shared secret.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    pub host_id: i64,
    pub secret: String,
    pub server: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("host_id", &self.host_id)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

pub fn credentials_path(data_dir: &Path) -> PathBuf {
    data_dir.join("credentials.json")
}

pub fn load_credentials(data_dir: &Path) -> anyhow::Result<Option<Credentials>> {
    let path = credentials_path(data_dir);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(
            serde_json::from_slice(&bytes)
                .with_context(|| format!("reading {}", path.display()))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Writes the credentials readable by the owner only, atomically.
pub fn save_credentials(data_dir: &Path, credentials: &Credentials) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = credentials_path(data_dir);
    let temp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(&temp)?;
    file.write_all(&serde_json::to_vec(credentials)?)?;
    file.sync_all()?;
    std::fs::rename(&temp, &path)?;
    Ok(())
}

/// Logs to `file` (the supervisor's log, as `logFilePattern` names it).
pub fn init_logging(file: &Path) -> anyhow::Result<()> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .with_context(|| format!("opening {}", file.display()))?;
    tracing_subscriber::fmt()
        // A log that cannot be written (a full disk) must not take a request with it.
        .log_internal_errors(false)
        .with_env_filter(filter())
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .init();
    Ok(())
}

/// Logs to stderr, which the supervisor sends to the worker's log file.
pub fn init_logging_stderr() {
    tracing_subscriber::fmt()
        // A log that cannot be written (a full disk) must not take a request with it.
        .log_internal_errors(false)
        .with_env_filter(filter())
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .init();
}

fn filter() -> tracing_subscriber::EnvFilter {
    tracing_subscriber::EnvFilter::try_from_env("OCP_AGENT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
}

/// The unit: the supervisor alone is killed on stop (`KillMode=process`); its workers follow
/// it, and the database processes it started keep running.
pub fn unit_file(args: &RunArgs, exe: &Path) -> String {
    let mut command = format!(
        "{} run --data-dir {} --listen {}",
        exe.display(),
        args.data_dir.display(),
        args.listen
    );
    if let Some(ip) = &args.advertise_ip {
        command.push_str(&format!(" --advertise-ip {ip}"));
    }
    if let Some(server) = &args.server {
        command.push_str(&format!(" --server {server}"));
    }
    format!(
        "[Unit]\n\
         Description=OCP agent\n\
         After=network-online.target\n\
         Wants=network-online.target\n\n\
         [Service]\n\
         Type=simple\n\
         ExecStart={command}\n\
         EnvironmentFile=-/etc/ocp-agent.env\n\
         KillMode=process\n\
         Restart=always\n\
         RestartSec=3\n\
         LimitNOFILE=655350\n\n\
         [Install]\n\
         WantedBy=multi-user.target\n"
    )
}

/// Installs the unit. The join token goes to `/etc/ocp-agent.env` (mode 0600), not to the
/// unit file, which anyone may read.
pub fn install_systemd(args: &RunArgs, unit_dir: &Path, print: bool) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let unit = unit_file(args, &exe);
    if print {
        #[allow(clippy::print_stdout)]
        {
            print!("{unit}");
        }
        return Ok(());
    }
    if let Some(token) = &args.join_token {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut env = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open("/etc/ocp-agent.env")?;
        writeln!(env, "OCP_AGENT_JOIN_TOKEN={token}")?;
    }
    let path = unit_dir.join("ocp-agent.service");
    std::fs::write(&path, unit).with_context(|| format!("writing {}", path.display()))?;
    let status = std::process::Command::new("systemctl")
        .args(["daemon-reload"])
        .status();
    if status.map(|s| s.success()).unwrap_or(false) {
        std::process::Command::new("systemctl")
            .args(["enable", "--now", "ocp-agent.service"])
            .status()?;
    } else {
        tracing::warn!("systemctl is not available: start the unit by hand");
    }
    #[allow(clippy::print_stdout)]
    {
        println!("installed {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        run: RunArgs,
    }

    #[test]
    fn the_unit_keeps_the_token_out() {
        let wrap = Wrap::parse_from([
            "x",
            "--server",
            "http://10.0.0.1:8080",
            "--join-token",
            "tok-123",
            "--advertise-ip",
            "10.0.0.2",
        ]);
        let unit = unit_file(&wrap.run, Path::new("/usr/bin/ocp-agent"));
        assert!(unit.contains("ExecStart=/usr/bin/ocp-agent run"));
        assert!(unit.contains("--server http://10.0.0.1:8080"));
        assert!(unit.contains("KillMode=process"));
        assert!(!unit.contains("tok-123"));
    }
}
