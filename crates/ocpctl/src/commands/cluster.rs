//! `ocpctl cluster`, `ocpctl server` and `ocpctl param`: clusters, their servers and parameters.

use super::*;

#[derive(Subcommand)]
pub enum ClusterCmd {
    /// Lists the clusters the platform manages.
    List,
    /// Shows a cluster and its servers.
    Show {
        /// The cluster's id (see `cluster list`).
        id: i64,
    },
    /// Deploys a one-server cluster (seekdb) on a registered host, for example
    /// `ocpctl cluster create --name c1 --package pylibseekdb-....whl --host 1 --param
    /// memory_budget=2G --wait`.
    Create {
        /// The new cluster's name.
        #[arg(long)]
        name: String,
        /// The file name of an uploaded software package (see `package list`).
        #[arg(long)]
        package: String,
        /// The id of the host its server goes on (see `host list`).
        #[arg(long)]
        host: i64,
        /// The database's root password (else $OCP_CLUSTER_PASSWORD, else asked); not the
        /// platform's password, which --password-stdin reads.
        #[arg(long)]
        root_password: Option<String>,
        /// The SQL port (default 2881).
        #[arg(long)]
        sql_port: Option<u16>,
        /// The server's base directory (default ob/NAME under the agent's data directory).
        #[arg(long)]
        home_path: Option<String>,
        /// The zone's name.
        #[arg(long, default_value = "zone1")]
        zone: String,
        /// A startup parameter, NAME=VALUE (repeatable), checked before anything is installed.
        #[arg(long = "param")]
        params: Vec<String>,
    },
    /// Starts a stopped cluster's servers.
    Start {
        /// The cluster's id.
        id: i64,
    },
    /// Stops a cluster's servers.
    Stop {
        /// The cluster's id.
        id: i64,
    },
    /// Restarts a cluster's servers.
    Restart {
        /// The cluster's id.
        id: i64,
    },
    /// Upgrades a cluster to a newer uploaded package, for example `ocpctl cluster upgrade 1
    /// --package pylibseekdb-1.4.0.post1-....whl --wait`: a backup set is taken first, and
    /// a failure after the restart goes back to the old package and the set's data.
    Upgrade {
        /// The cluster's id.
        id: i64,
        /// The file name of the uploaded package to run (see `package list`).
        #[arg(long)]
        package: String,
    },
    /// A primary's standby clusters: create, list (with lag), switchover, failover, remove.
    #[command(subcommand)]
    Standby(super::StandbyCmd),
    /// Stops a cluster, removes its servers' directories and forgets it.
    Delete {
        /// The cluster's id.
        id: i64,
        /// Keep the servers' directories.
        #[arg(long)]
        keep_data: bool,
    },
}

pub async fn cluster(ctx: &mut Ctx, cmd: ClusterCmd) -> Result<()> {
    let format = ctx.format();
    let client = ctx.client()?.clone();
    match cmd {
        ClusterCmd::List => {
            let clusters: PageData<Cluster> =
                client.get("/api/v2/ob/clusters?page=1&size=2000").await?;
            output::list(
                format,
                &clusters.contents,
                &[
                    "id",
                    "name",
                    "kind",
                    "type",
                    "status",
                    "obVersion",
                    "rpmName",
                    "serverCount",
                ],
            )
        }
        ClusterCmd::Show { id } => {
            let cluster: Cluster = client.get(&format!("/api/v2/ob/clusters/{id}")).await?;
            if output::structured(format, &cluster)? {
                return Ok(());
            }
            output::one(format, &cluster)?;
            say("");
            let servers: Vec<Value> = cluster
                .zones
                .iter()
                .flat_map(|z| z.servers.iter())
                .map(|s| serde_json::to_value(s).unwrap_or_default())
                .collect();
            output::list(
                format,
                &servers,
                &["id", "zoneName", "ip", "sqlPort", "status", "homePath"],
            )
        }
        ClusterCmd::Create {
            name,
            package,
            host,
            root_password,
            sql_port,
            home_path,
            zone,
            params,
        } => {
            let password = password_arg(root_password, "OCP_CLUSTER_PASSWORD", "root password")?;
            let request = CreateCluster {
                name,
                rpm_name: package,
                cluster_type: ClusterType::Primary,
                password,
                primary_zone: None,
                zones: vec![CreateZone {
                    name: zone,
                    idc_name: None,
                    servers: vec![host],
                }],
                sql_port,
                rpc_port: None,
                home_path,
                parameters: parameters(&params, "--param")?,
            };
            let task: TaskInstance = client
                .post("/api/v2/ob/clusters", Some(&body(&request)))
                .await?;
            started(ctx, task).await
        }
        ClusterCmd::Start { id } | ClusterCmd::Stop { id } | ClusterCmd::Restart { id } => {
            let action = match cmd {
                ClusterCmd::Start { .. } => "start",
                ClusterCmd::Stop { .. } => "stop",
                _ => "restart",
            };
            let task: TaskInstance = client
                .post(&format!("/api/v2/ob/clusters/{id}/{action}"), None)
                .await?;
            started(ctx, task).await
        }
        ClusterCmd::Upgrade { id, package } => {
            let request = ocp_api::ob::UpgradeCluster {
                rpm_file_name: package,
            };
            let task: TaskInstance = client
                .post(
                    &format!("/api/v2/ob/clusters/{id}/upgrade"),
                    Some(&body(&request)),
                )
                .await?;
            started(ctx, task).await
        }
        ClusterCmd::Standby(cmd) => super::standby(ctx, cmd).await,
        ClusterCmd::Delete { id, keep_data } => {
            let task: TaskInstance = client
                .call(
                    reqwest::Method::DELETE,
                    &format!("/api/v2/ob/clusters/{id}?keepData={keep_data}"),
                    None,
                )
                .await?;
            started(ctx, task).await
        }
    }
}

#[derive(Subcommand)]
pub enum ServerCmd {
    /// Lists a cluster's servers with their ids, addresses and status.
    List {
        /// The cluster's id.
        cluster: i64,
    },
    /// Starts one server of a cluster.
    Start {
        /// The cluster's id.
        cluster: i64,
        /// The server's id (see `server list CLUSTER`).
        server_id: i64,
    },
    /// Stops one server of a cluster.
    Stop {
        /// The cluster's id.
        cluster: i64,
        /// The server's id (see `server list CLUSTER`).
        server_id: i64,
    },
    /// Restarts one server of a cluster.
    Restart {
        /// The cluster's id.
        cluster: i64,
        /// The server's id (see `server list CLUSTER`).
        server_id: i64,
    },
}

pub async fn server(ctx: &mut Ctx, cmd: ServerCmd) -> Result<()> {
    let (action, cluster, server) = match cmd {
        ServerCmd::List { cluster } => {
            let format = ctx.format();
            let servers: ocp_api::host::Contents<Value> = ctx
                .client()?
                .get(&format!("/api/v2/ob/clusters/{cluster}/servers"))
                .await?;
            return output::list(
                format,
                &servers.contents,
                &[
                    "id", "zoneName", "ip", "sqlPort", "status", "version", "homePath",
                ],
            );
        }
        ServerCmd::Start { cluster, server_id } => ("start", cluster, server_id),
        ServerCmd::Stop { cluster, server_id } => ("stop", cluster, server_id),
        ServerCmd::Restart { cluster, server_id } => ("restart", cluster, server_id),
    };
    let path = format!("/api/v2/ob/clusters/{cluster}/servers/{server}/{action}");
    let task: TaskInstance = ctx.client()?.post(&path, None).await?;
    started(ctx, task).await
}

#[derive(Subcommand)]
pub enum ParamCmd {
    /// Lists a cluster's parameters with their values on each server.
    List {
        /// The cluster's id.
        cluster: i64,
        /// Only parameters whose name contains this.
        #[arg(long)]
        name: Option<String>,
    },
    /// Sets NAME=VALUE pairs (all checked before any is set).
    Set {
        /// The cluster's id.
        cluster: i64,
        /// NAME=VALUE, such as syslog_level=WARN (several allowed).
        #[arg(required = true)]
        pairs: Vec<String>,
    },
}

#[derive(Subcommand)]
pub enum CompactionCmd {
    /// Starts a major compaction of a cluster (a task that follows it to its end).
    Start {
        /// The cluster's id.
        cluster: i64,
    },
    /// Shows whether a major compaction runs and when the last one finished.
    Show {
        /// The cluster's id.
        cluster: i64,
    },
}

pub async fn compaction(ctx: &mut Ctx, cmd: CompactionCmd) -> Result<()> {
    let path = |cluster: i64| format!("/api/v2/ob/clusters/{cluster}/compaction");
    match cmd {
        CompactionCmd::Start { cluster } => {
            let task: TaskInstance = ctx.client()?.post(&path(cluster), None).await?;
            started(ctx, task).await
        }
        CompactionCmd::Show { cluster } => {
            let format = ctx.format();
            let state: ocp_api::ob::Compaction = ctx.client()?.get(&path(cluster)).await?;
            output::one(format, &state)
        }
    }
}

pub async fn param(ctx: &mut Ctx, cmd: ParamCmd) -> Result<()> {
    let format = ctx.format();
    let client = ctx.client()?.clone();
    match cmd {
        ParamCmd::List { cluster, name } => {
            let mut params: Contents<ClusterParameter> = client
                .get(&format!("/api/v2/ob/clusters/{cluster}/parameters"))
                .await?;
            let params = &mut params.contents;
            if let Some(part) = name {
                params.retain(|p| p.name.contains(&part));
            }
            output::list(
                format,
                params,
                &[
                    "name",
                    "value=currentValue.values",
                    "defaultValue",
                    "scope",
                    "needRestart",
                ],
            )
        }
        ParamCmd::Set { cluster, pairs: p } => {
            let answer: Value = client
                .call(
                    reqwest::Method::PUT,
                    &format!("/api/v2/ob/clusters/{cluster}/parameters"),
                    Some(&body(&parameters(&p, "parameter")?)),
                )
                .await?;
            done(ctx, format!("{} parameter(s) set", p.len()), &answer)
        }
    }
}
