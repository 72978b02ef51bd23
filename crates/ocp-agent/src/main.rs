//! `ocp-agent`: the agent of one host.
//!
//! `ocp-agent run` starts the supervisor (`ocp_agentd`), which joins the server once with a
//! one-time token, serves the server's signed calls, sends heartbeats, and keeps two workers
//! running: the manager (`ocp_mgragent`, which runs the platform's processes on this host)
//! and the monitor (`ocp_monagent`, which samples host metrics). `ocp-agent worker ...` is how
//! the supervisor starts its workers; `ocp-agent install-systemd` installs the unit file.

mod backup;
mod config;
mod db_monitor;
mod facts;
mod http;
mod install;
mod logical;
mod logsearch;
mod manager;
mod monitor;
mod procinfo;
mod server_link;
mod storage;
mod supervisor;
mod worker;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "ocp-agent", version, about = "The OCP agent of one host")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the supervisor and its workers (what the systemd unit starts).
    Run(config::RunArgs),
    /// Writes the systemd unit for `run` with these options and enables it.
    InstallSystemd {
        #[command(flatten)]
        run: config::RunArgs,
        /// Where unit files go.
        #[arg(long, default_value = "/etc/systemd/system")]
        unit_dir: PathBuf,
        /// Print the unit instead of installing it.
        #[arg(long)]
        print: bool,
    },
    /// A worker process; started by the supervisor.
    #[command(hide = true)]
    Worker {
        #[arg(value_enum)]
        kind: WorkerKind,
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long, default_value_t = 10_000)]
        monitor_interval_ms: u64,
        #[arg(long, default_value_t = 15_000)]
        sql_stat_interval_ms: u64,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum WorkerKind {
    Manager,
    Monitor,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The join token is in `cli` now: no worker or database server inherits it.
    ocp_api::agent::remove_secret_env();
    // Logs 0640, the agent's own files 0600 (each says so where it is written).
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o027));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    match cli.command {
        Command::Run(args) => {
            let config = args.resolve()?;
            config::init_logging(&config.log_home().join("ocp_agentd.log"))?;
            runtime.block_on(supervisor::run(config))
        }
        Command::InstallSystemd {
            run,
            unit_dir,
            print,
        } => config::install_systemd(&run, &unit_dir, print),
        Command::Worker {
            kind,
            data_dir,
            monitor_interval_ms,
            sql_stat_interval_ms,
        } => {
            config::init_logging_stderr();
            runtime.block_on(async move {
                match kind {
                    WorkerKind::Manager => manager::run(&data_dir).await,
                    WorkerKind::Monitor => {
                        monitor::run(
                            &data_dir,
                            std::time::Duration::from_millis(monitor_interval_ms),
                            std::time::Duration::from_millis(sql_stat_interval_ms),
                        )
                        .await
                    }
                }
            })
        }
    }
}
