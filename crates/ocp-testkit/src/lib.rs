//! The test harness: real processes on loopback, killed by process group on drop, in
//! temporary directories.
//!
//! - [`ServerProcess`]: an `ocp-server` binary on `127.0.0.1:0`, restartable on the same data
//!   directory, killable with SIGKILL.
//! - [`Postgres`]: a throwaway PostgreSQL cluster on a loopback port.
//! - [`Api`]: a small HTTP client that speaks the envelope.
//! - [`AgentProcess`] and [`Sandbox`]: real agents, each a host on its own loopback address,
//!   and a server with N of them joined; [`AgentApi`] signs (or forges) calls to an agent.
//! - [`seekdb_wheel`]: the seekdb server package, fetched with pip once.
//! - [`S3Server`]: an S3-compatible object storage (moto's server, installed with pip once).
//! - [`WebhookReceiver`]: a local HTTP receiver that records alert webhooks.

mod agent;
mod agent_api;
mod api;
mod postgres;
mod process;
mod prometheus;
mod s3;
mod sandbox;
mod seekdb;
mod server;
mod webhook;

pub use agent::{agent_binary, free_port, AgentProcess};
pub use agent_api::{now_ms, AgentApi, AgentReply};
pub use api::{Api, Reply, SseFrame};
pub use postgres::Postgres;
pub use process::ChildGroup;
pub use prometheus::{prometheus_binary, PrometheusServer};
pub use s3::{moto_server, S3Server, MOTO_SPEC};
pub use sandbox::{host_ip, Sandbox};
pub use seekdb::{seekdb_processes, seekdb_wheel, seekdb_wheel_of, SEEKDB_VERSION};
pub use server::{ocpctl_binary, server_binary, ServerOptions, ServerProcess};
pub use webhook::{Received, WebhookReceiver};

/// The admin password every test server is started with.
pub const ADMIN_PASSWORD: &str = "Admin-Test-123";

/// A temporary directory named `ocp-test-XXXX` rather than tempfile's `.tmpXXXX`: seekdb
/// deletes its own redo log at start when its path contains `.tmp` (see
/// `ocp_ob::check_home_path`), so agents, and the servers they run, live under this name.
pub fn temp_dir() -> std::io::Result<tempfile::TempDir> {
    tempfile::Builder::new().prefix("ocp-test-").tempdir()
}

/// A temporary directory everyone may write to, for what a process running as another user
/// leaves there (an alert script runs as `nobody` when the server runs as root).
pub fn shared_dir() -> std::io::Result<tempfile::TempDir> {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = temp_dir()?;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))?;
    Ok(dir)
}
