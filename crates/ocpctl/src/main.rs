//! `ocpctl`: the command-line client of the platform, on the server's own wire types
//! (`ocp-api`). See README.md for profiles, output formats and exit codes.

mod client;
mod commands;
mod config;
mod output;
mod watch;

use std::process::ExitCode;

use clap::{Args, CommandFactory as _, Parser, Subcommand};

use crate::client::{CliError, Client, Exit};
use crate::output::Format;

#[derive(Parser)]
#[command(
    name = "ocpctl",
    version,
    about = "Operate the platform from the command line"
)]
pub struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
pub struct Global {
    /// The profile of config.toml to use (default: its `current`, else "default").
    #[arg(long, global = true, env = "OCPCTL_PROFILE")]
    profile: Option<String>,
    /// The server URL, instead of the profile's.
    #[arg(long, global = true, env = "OCP_SERVER")]
    server: Option<String>,
    /// The user, instead of the profile's.
    #[arg(long, global = true, env = "OCP_USER")]
    user: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long, global = true)]
    password_stdin: bool,
    /// table (default), json (the envelope's data) or yaml.
    #[arg(short, long, global = true, value_enum, default_value = "table")]
    output: Format,
    /// Follow a task the command starts until it ends; exit 1 if it fails.
    #[arg(short, long, global = true)]
    wait: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Profiles: where the server is and who you are.
    #[command(subcommand)]
    Config(commands::ConfigCmd),
    /// Hosts: list, show, add, delete.
    #[command(subcommand)]
    Host(commands::HostCmd),
    /// A host's agent: show, processes, restart, stop.
    #[command(subcommand)]
    Agent(commands::AgentCmd),
    /// OB clusters: list, show, create, start, stop, restart, delete.
    #[command(subcommand)]
    Cluster(commands::ClusterCmd),
    /// The servers of a cluster: list, start, stop, restart.
    #[command(subcommand)]
    Server(commands::ServerCmd),
    /// Major compaction of a cluster: start, show.
    #[command(subcommand)]
    Compaction(commands::CompactionCmd),
    /// Monitoring: the metric catalog, and metrics over a time range.
    #[command(subcommand)]
    Metric(commands::MetricCmd),
    /// Backup sets and restores of a cluster: ability, now, list, restore, restores.
    #[command(subcommand)]
    Backup(commands::BackupCmd),
    /// Cluster parameters: list, set.
    #[command(subcommand)]
    Param(commands::ParamCmd),
    /// Tenants: list, show, params, set, whitelist, passwd, objects.
    #[command(subcommand)]
    Tenant(commands::TenantCmd),
    /// Databases of a cluster's tenant: list, create, delete.
    #[command(subcommand)]
    Db(commands::DbCmd),
    /// Database users of a cluster's tenant.
    #[command(subcommand)]
    User(commands::UserCmd),
    /// Sessions of a cluster's tenant: list, stats, kill.
    #[command(subcommand)]
    Session(commands::SessionCmd),
    /// SQL diagnostics of a cluster's tenant: top, slow, text, plan.
    #[command(subcommand)]
    Sql(commands::SqlCmd),
    /// Log search: a database server's log, or a host agent's.
    #[command(subcommand)]
    Log(commands::LogCmd),
    /// Software packages: list, upload.
    #[command(subcommand)]
    Package(commands::PackageCmd),
    /// Tasks: list, show, log, retry, rollback, skip, cancel, watch.
    #[command(subcommand)]
    Task(commands::TaskCmd),
    /// Platform users and roles.
    #[command(subcommand)]
    Iam(commands::IamCmd),
    /// Alerts: events, notifications, items, channels, subscriptions, blocking.
    #[command(subcommand)]
    Alarm(commands::AlarmCmd),
    /// Print a shell completion script, for example `ocpctl completion bash >
    /// /etc/bash_completion.d/ocpctl`.
    Completion {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

/// What every command gets: the client (made on first use), the output format, --wait.
pub struct Ctx {
    global: Global,
    client: Option<Client>,
}

impl Ctx {
    pub fn format(&self) -> Format {
        self.global.output
    }

    pub fn wait(&self) -> bool {
        self.global.wait
    }

    /// Whether the password comes on standard input.
    pub fn password_stdin(&self) -> bool {
        self.global.password_stdin
    }

    /// The profile name in use.
    pub fn profile_name(&self, config: &config::Config) -> String {
        self.global
            .profile
            .clone()
            .or_else(|| config.current.clone())
            .unwrap_or_else(|| "default".into())
    }

    pub fn client(&mut self) -> Result<&Client, CliError> {
        if self.client.is_none() {
            let config = config::Config::load()?;
            let name = self.profile_name(&config);
            let profile = config.profiles.get(&name).cloned().unwrap_or_default();
            let server = self
                .global
                .server
                .clone()
                .filter(|s| !s.is_empty())
                .or_else(|| Some(profile.server.clone()).filter(|s| !s.is_empty()))
                .ok_or_else(|| {
                    CliError::usage(format!(
                        "no server: use --server or `ocpctl config set-profile {name} --server URL --user NAME`"
                    ))
                })?;
            let user = self
                .global
                .user
                .clone()
                .filter(|s| !s.is_empty())
                .or_else(|| Some(profile.user.clone()).filter(|s| !s.is_empty()))
                .unwrap_or_else(|| "admin".into());
            let password = config::password(&name, &user, self.global.password_stdin)?;
            self.client = Some(Client::new(&server, &user, &password)?);
        }
        Ok(self.client.as_ref().expect("made above"))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(Exit::Usage as u8);
        }
    };
    let mut ctx = Ctx {
        global: cli.global,
        client: None,
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Config(c) => commands::config(&mut ctx, c).await,
            Command::Host(c) => commands::host(&mut ctx, c).await,
            Command::Agent(c) => commands::agent(&mut ctx, c).await,
            Command::Cluster(c) => commands::cluster(&mut ctx, c).await,
            Command::Server(c) => commands::server(&mut ctx, c).await,
            Command::Compaction(c) => commands::compaction(&mut ctx, c).await,
            Command::Metric(c) => commands::metric(&mut ctx, c).await,
            Command::Backup(c) => commands::backup(&mut ctx, c).await,
            Command::Param(c) => commands::param(&mut ctx, c).await,
            Command::Tenant(c) => commands::tenant(&mut ctx, c).await,
            Command::Db(c) => commands::db(&mut ctx, c).await,
            Command::User(c) => commands::user(&mut ctx, c).await,
            Command::Session(c) => commands::session(&mut ctx, c).await,
            Command::Sql(c) => commands::sql(&mut ctx, c).await,
            Command::Log(c) => commands::log(&mut ctx, c).await,
            Command::Package(c) => commands::package(&mut ctx, c).await,
            Command::Task(c) => commands::task(&mut ctx, c).await,
            Command::Iam(c) => commands::iam(&mut ctx, c).await,
            Command::Alarm(c) => commands::alarm(&mut ctx, c).await,
            Command::Completion { shell } => {
                clap_complete::generate(
                    shell,
                    &mut Cli::command(),
                    "ocpctl",
                    &mut std::io::stdout(),
                );
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.message);
            ExitCode::from(e.exit as u8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// clap's own checks: no two arguments share a name (a global and a positional did).
    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}

#[cfg(test)]
mod help_tests {
    use clap::CommandFactory as _;

    /// Every subcommand and argument a user can name, without a one-line description.
    fn undescribed(command: &clap::Command, path: &str, out: &mut Vec<String>) {
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" || arg.is_hide_set() {
                continue;
            }
            if arg
                .get_help()
                .is_none_or(|h| h.to_string().trim().is_empty())
            {
                out.push(format!("{path} <{id}>"));
            }
        }
        for sub in command.get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            let here = format!("{path} {}", sub.get_name());
            if sub
                .get_about()
                .is_none_or(|a| a.to_string().trim().is_empty())
            {
                out.push(here.clone());
            }
            undescribed(sub, &here, out);
        }
    }

    #[test]
    fn every_command_and_argument_says_what_it_is() {
        let mut missing = Vec::new();
        undescribed(&super::Cli::command(), "ocpctl", &mut missing);
        assert!(
            missing.is_empty(),
            "{} without a description:\n{}",
            missing.len(),
            missing.join("\n")
        );
    }
}
