//! `ocpctl cluster standby`: a primary's standby, its lag, switchover, failover and removal.

use ocp_api::standby::{CreateStandby, StandbyCluster};

use super::*;

#[derive(Subcommand)]
pub enum StandbyCmd {
    /// Builds a standby of a running primary on another host, for example
    /// `ocpctl cluster standby create 1 --name c1-standby --host 2 --sql-port 2881 --rpc-port
    /// 2882 --wait`. It runs the primary's package and has its users and passwords.
    Create {
        /// The primary cluster's id.
        primary: i64,
        /// The standby cluster's name.
        #[arg(long)]
        name: String,
        /// The id of the host its server goes on (not the primary's).
        #[arg(long)]
        host: i64,
        /// Its SQL port (default 2881).
        #[arg(long)]
        sql_port: Option<u16>,
        /// Its RPC port, which it serves its log on once it is the primary (default 2882).
        #[arg(long)]
        rpc_port: Option<u16>,
        /// Its base directory (default ob/NAME under the agent's data directory).
        #[arg(long)]
        home_path: Option<String>,
    },
    /// Lists a primary's standbys with their lag, in seconds and in SCN.
    List {
        /// The primary cluster's id.
        primary: i64,
    },
    /// Exchanges the roles of a primary and its standby; the old primary follows the new.
    Switchover {
        /// The primary cluster's id.
        primary: i64,
        /// The standby cluster's id.
        standby: i64,
    },
    /// Makes the standby the primary with the log it has; the old primary is fenced off
    /// (read-only and stopped if it answers) and not started again.
    Failover {
        /// The primary cluster's id.
        primary: i64,
        /// The standby cluster's id.
        standby: i64,
    },
    /// Stops a standby, removes its directory and forgets it.
    Remove {
        /// The primary cluster's id.
        primary: i64,
        /// The standby cluster's id.
        standby: i64,
    },
}

pub async fn standby(ctx: &mut Ctx, cmd: StandbyCmd) -> Result<()> {
    let format = ctx.format();
    let client = ctx.client()?.clone();
    let of = |primary: i64| format!("/api/v2/ob/clusters/{primary}/standbyClusters");
    let task: TaskInstance = match cmd {
        StandbyCmd::Create {
            primary,
            name,
            host,
            sql_port,
            rpc_port,
            home_path,
        } => {
            let request = CreateStandby {
                name,
                host_id: host,
                sql_port,
                rpc_port,
                home_path,
            };
            client.post(&of(primary), Some(&body(&request))).await?
        }
        StandbyCmd::List { primary } => {
            let standbys: Vec<StandbyCluster> = client.get(&of(primary)).await?;
            return output::list(
                format,
                &standbys,
                &[
                    "id",
                    "name",
                    "status",
                    "syncStatus",
                    "role",
                    "address",
                    "delayTime",
                    "lagScn",
                    "failToQueryReason",
                ],
            );
        }
        StandbyCmd::Switchover { primary, standby } => {
            let path = format!("{}/{standby}/switchover", of(primary));
            client.post(&path, None).await?
        }
        StandbyCmd::Failover { primary, standby } => {
            let path = format!("{}/{standby}/failover", of(primary));
            client.post(&path, None).await?
        }
        StandbyCmd::Remove { primary, standby } => {
            let path = format!("{}/{standby}", of(primary));
            client.call(reqwest::Method::DELETE, &path, None).await?
        }
    };
    started(ctx, task).await
}
