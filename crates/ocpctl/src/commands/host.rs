//! `ocpctl host` and `ocpctl agent`: hosts, and the agents on them.

use super::*;

#[derive(Subcommand)]
pub enum HostCmd {
    /// Lists hosts, with their status and agent's status.
    List {
        /// Comma-separated statuses.
        #[arg(long)]
        status: Option<String>,
        /// Only hosts whose name or address contains this.
        #[arg(long)]
        keyword: Option<String>,
        /// The page, from 1.
        #[arg(long, default_value_t = 1)]
        page: i64,
        /// Rows per page.
        #[arg(long, default_value_t = 100)]
        size: i64,
    },
    /// Shows a host: its facts, IDC, type and agent.
    Show {
        /// The host's id (see `host list`).
        id: i64,
    },
    /// Registers a host; its agent joins with a token and brings it AVAILABLE.
    Add {
        /// The host's address, as the server reaches its agent.
        #[arg(long)]
        ip: String,
        /// The id of its IDC (GET /api/v2/compute/idcs).
        #[arg(long)]
        idc_id: i64,
        /// The id of its host type (GET /api/v2/compute/hostTypes).
        #[arg(long)]
        type_id: i64,
        /// A name to show beside the address.
        #[arg(long)]
        alias: Option<String>,
        /// The port its agent listens on (default 62888).
        #[arg(long)]
        agent_port: Option<i32>,
    },
    /// Deletes a host no server runs on (a task).
    Delete {
        /// The host's id.
        id: i64,
    },
}

const HOST_COLUMNS: &[&str] = &[
    "id",
    "name",
    "innerIpAddress",
    "status",
    "hostAgentStatus",
    "idcName",
    "typeName",
];

pub async fn host(ctx: &mut Ctx, cmd: HostCmd) -> Result<()> {
    let format = ctx.format();
    let client = ctx.client()?.clone();
    match cmd {
        HostCmd::List {
            status,
            keyword,
            page,
            size,
        } => {
            let mut path = format!("/api/v2/compute/hosts?{}", page_query(page, size));
            if let Some(s) = status {
                path.push_str(&format!("&status={s}"));
            }
            if let Some(k) = keyword {
                path.push_str(&format!("&keyword={k}"));
            }
            let hosts: PageData<Host> = client.get(&path).await?;
            output::list(format, &hosts.contents, HOST_COLUMNS)
        }
        HostCmd::Show { id } => {
            let host: Host = client.get(&format!("/api/v2/compute/hosts/{id}")).await?;
            output::one(format, &host)
        }
        HostCmd::Add {
            ip,
            idc_id,
            type_id,
            alias,
            agent_port,
        } => {
            let request = CreateHost {
                inner_ip_address: ip,
                serial_number: None,
                ssh_port: 22,
                kind: "DEDICATED_PHYSICAL_MACHINE".into(),
                publish_ports: None,
                idc_id,
                type_id,
                credential_id: None,
                alias,
                description: None,
                agent_port,
            };
            let task: TaskInstance = client
                .post("/api/v2/compute/hosts", Some(&body(&request)))
                .await?;
            started(ctx, task).await
        }
        HostCmd::Delete { id } => {
            delete(
                ctx,
                &client,
                &format!("/api/v2/compute/hosts/{id}"),
                format!("host {id} deleted"),
            )
            .await
        }
    }
}

#[derive(Subcommand)]
pub enum AgentCmd {
    /// Shows a host's agent: version, status, last heartbeat.
    Show {
        /// The host's id (see `host list`).
        host: i64,
    },
    /// Lists the agent's own processes (supervisor, manager, monitor).
    Processes {
        /// The host's id (see `host list`).
        host: i64,
    },
    /// Restarts a host's agent (a task); database servers keep running.
    Restart {
        /// The host's id (see `host list`).
        host: i64,
    },
    /// Stops a host's agent (a task); database servers keep running.
    Stop {
        /// The host's id (see `host list`).
        host: i64,
    },
}

pub async fn agent(ctx: &mut Ctx, cmd: AgentCmd) -> Result<()> {
    let format = ctx.format();
    let client = ctx.client()?.clone();
    let base = |host: i64| format!("/api/v2/compute/hosts/{host}/agent");
    match cmd {
        AgentCmd::Show { host } => {
            let agent: HostAgent = client.get(&base(host)).await?;
            output::one(format, &agent)
        }
        AgentCmd::Processes { host } => {
            let processes: PageData<HostAgentProcess> = client
                .get(&format!("{}/processes?page=1&size=2000", base(host)))
                .await?;
            output::list(
                format,
                &processes.contents,
                &["id", "alias", "pid", "status", "ports", "elapsedTime"],
            )
        }
        AgentCmd::Restart { host } | AgentCmd::Stop { host } => {
            let action = if matches!(cmd, AgentCmd::Restart { .. }) {
                "restart"
            } else {
                "stop"
            };
            let task: TaskInstance = client
                .post(&format!("{}/{action}", base(host)), None)
                .await?;
            started(ctx, task).await
        }
    }
}
