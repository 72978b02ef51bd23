//! `ocpctl cluster`, `ocpctl server` and `ocpctl param`: clusters, their servers and parameters.

use super::*;

#[derive(Subcommand)]
pub enum ClusterCmd {
    List,
    Show {
        id: i64,
    },
    /// Deploys a one-server cluster (seekdb) on a registered host.
    Create {
        #[arg(long)]
        name: String,
        /// The file name of an uploaded software package.
        #[arg(long)]
        package: String,
        #[arg(long)]
        host: i64,
        /// root's password (else $OCP_CLUSTER_PASSWORD, else asked).
        #[arg(long)]
        password: Option<String>,
        #[arg(long)]
        sql_port: Option<u16>,
        #[arg(long)]
        home_path: Option<String>,
        #[arg(long, default_value = "zone1")]
        zone: String,
        /// A startup parameter, NAME=VALUE (repeatable).
        #[arg(long = "param")]
        params: Vec<String>,
    },
    Start {
        id: i64,
    },
    Stop {
        id: i64,
    },
    Restart {
        id: i64,
    },
    Delete {
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
                &["id", "name", "kind", "status", "obVersion", "serverCount"],
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
            password,
            sql_port,
            home_path,
            zone,
            params,
        } => {
            let password = password_arg(password, "OCP_CLUSTER_PASSWORD", "root password")?;
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
    Start { cluster: i64, server_id: i64 },
    Stop { cluster: i64, server_id: i64 },
    Restart { cluster: i64, server_id: i64 },
}

pub async fn server(ctx: &mut Ctx, cmd: ServerCmd) -> Result<()> {
    let (action, cluster, server) = match cmd {
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
    List {
        cluster: i64,
        /// Only parameters whose name contains this.
        #[arg(long)]
        name: Option<String>,
    },
    /// Sets NAME=VALUE pairs (all checked before any is set).
    Set {
        cluster: i64,
        #[arg(required = true)]
        pairs: Vec<String>,
    },
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
