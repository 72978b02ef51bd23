//! `--local-agent`: the server also runs an agent for its own machine, so that a fresh
//! install has a host to deploy on. The agent is the `ocp-agent` binary beside the server's,
//! with its data in DATA_DIR/agent; it joins with a token the server issues itself on the
//! first start.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use ocp_store::Store;

pub struct LocalAgent {
    child: tokio::process::Child,
}

pub async fn start(
    store: &Store,
    data_dir: &Path,
    listen: SocketAddr,
    server: SocketAddr,
) -> anyhow::Result<LocalAgent> {
    let exe = std::env::current_exe()?
        .parent()
        .map(|d| d.join("ocp-agent"))
        .context("no directory for the ocp-agent binary")?;
    let agent_dir = data_dir.join("agent");
    std::fs::create_dir_all(&agent_dir)?;
    let server_ip = if server.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        server.ip().to_string()
    };
    let mut command = tokio::process::Command::new(&exe);
    command
        .arg("run")
        .arg("--data-dir")
        .arg(&agent_dir)
        .arg("--listen")
        .arg(listen.to_string())
        .arg("--server")
        .arg(format!("http://{server_ip}:{}", server.port()))
        .stdout(std::process::Stdio::null());
    if listen.ip().is_unspecified() {
        command.arg("--advertise-ip").arg("127.0.0.1");
    }
    if !agent_dir.join("credentials.json").exists() {
        let token = crate::host::link::issue_token(
            store,
            &ocp_api::host::CreateJoinToken::default(),
            "admin",
        )
        .await
        .map_err(|f| anyhow::anyhow!(f.message))?;
        command.env("OCP_AGENT_JOIN_TOKEN", token.token);
    }
    let child = command
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    tracing::info!(%listen, pid = child.id(), "started the local agent");
    Ok(LocalAgent { child })
}

impl LocalAgent {
    /// SIGTERM, and SIGKILL after 15 s. The processes it started for the platform stay.
    pub async fn stop(&mut self) {
        if let Some(pid) = self.child.id() {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
        }
        if tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}
