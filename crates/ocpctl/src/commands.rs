//! The commands, one function per resource group. Each reads into the wire types of
//! `ocp-api` and prints through `output`.

use clap::Subcommand;
use ocp_api::host::{Contents, CreateHost, Host, HostAgent, HostAgentProcess};
use ocp_api::iam::{CreateUser, Role, User};
use ocp_api::ob::{
    Cluster, ClusterParameter, ClusterType, CreateCluster, CreateZone, SetParameter,
};
use ocp_api::obdb::{
    ChangeDbPassword, CreateDatabase, CreateDbUser, Database, DbPrivilege, DbPrivileges, DbUser,
    SoftwarePackage,
};
use ocp_api::task::{BasicTaskInstance, SubtaskLog, TaskInstance};
use ocp_api::PageData;
use serde_json::Value;

use crate::client::{CliError, Result};
use crate::config::{self, Config, Profile};
use crate::output::{self, say};
use crate::Ctx;

/// Prints a task a command started, or follows it with `--wait`.
async fn started(ctx: &mut Ctx, task: TaskInstance) -> Result<()> {
    if ctx.wait() {
        eprintln!("task {} started: {}", task.id, task.name);
        let client = ctx.client()?.clone();
        return crate::watch::watch(&client, task.id).await;
    }
    if !output::structured(ctx.format(), &task)? {
        say(&format!("task {} {} {}", task.id, task.name, task.status));
    }
    Ok(())
}

/// Says what was done, or prints the answer as JSON/YAML.
fn done(ctx: &Ctx, what: String, data: &Value) -> Result<()> {
    if !output::structured(ctx.format(), data)? {
        say(&what);
    }
    Ok(())
}

/// A request body from its wire type.
fn body<T: serde::Serialize>(request: &T) -> Value {
    serde_json::to_value(request).unwrap_or(Value::Null)
}

/// `name=value` pairs as parameters.
fn parameters(items: &[String], what: &str) -> Result<Vec<SetParameter>> {
    Ok(pairs(items, what)?
        .into_iter()
        .map(|(name, value)| SetParameter { name, value })
        .collect())
}

/// DELETEs `path` and says `what` was done.
pub(crate) async fn delete(
    ctx: &Ctx,
    client: &crate::client::Client,
    path: &str,
    what: String,
) -> Result<()> {
    let answer: Value = client.call(reqwest::Method::DELETE, path, None).await?;
    done(ctx, what, &answer)
}

fn page_query(page: i64, size: i64) -> String {
    format!("page={page}&size={size}")
}

/// `name=value` pairs.
fn pairs(items: &[String], what: &str) -> Result<Vec<(String, String)>> {
    items
        .iter()
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| CliError::usage(format!("{what} {p:?} is not NAME=VALUE")))
        })
        .collect()
}

fn password_arg(given: Option<String>, env: &str, what: &str) -> Result<String> {
    if let Some(p) = given {
        return Ok(p);
    }
    if let Ok(p) = std::env::var(env) {
        return Ok(p);
    }
    rpassword::prompt_password(format!("{what}: "))
        .map_err(|e| CliError::usage(format!("{what}: {e} (or set {env})")))
}

// ---- config ----

#[derive(Subcommand)]
pub enum ConfigCmd {
    /// Adds or changes a profile and makes it the current one.
    SetProfile {
        name: String,
        #[arg(long)]
        server: String,
        #[arg(long, default_value = "admin")]
        user: String,
        /// Also keep the password (asked, or $OCP_PASSWORD) in the credentials file (0600).
        #[arg(long)]
        save_password: bool,
    },
    /// Makes a profile the current one.
    Use { name: String },
    /// Lists the profiles.
    List,
}

pub fn config(ctx: &mut Ctx, cmd: ConfigCmd) -> Result<()> {
    let mut config = Config::load()?;
    match cmd {
        ConfigCmd::SetProfile {
            name,
            server,
            user,
            save_password,
        } => {
            config.profiles.insert(
                name.clone(),
                Profile {
                    server,
                    user: user.clone(),
                },
            );
            config.current = Some(name.clone());
            config.save()?;
            if save_password {
                let password = password_arg(None, "OCP_PASSWORD", &format!("password for {user}"))?;
                config::save_password(&name, &password)?;
            }
            say(&format!(
                "profile {name} saved in {}",
                config::dir().display()
            ));
        }
        ConfigCmd::Use { name } => {
            if !config.profiles.contains_key(&name) {
                return Err(CliError::new(
                    crate::client::Exit::NotFound,
                    format!("no profile {name}"),
                ));
            }
            config.current = Some(name.clone());
            config.save()?;
            say(&format!("using profile {name}"));
        }
        ConfigCmd::List => {
            let current = ctx.profile_name(&config);
            let rows: Vec<Vec<String>> = config
                .profiles
                .iter()
                .map(|(n, p)| {
                    vec![
                        if *n == current {
                            "*".into()
                        } else {
                            String::new()
                        },
                        n.clone(),
                        p.server.clone(),
                        p.user.clone(),
                    ]
                })
                .collect();
            output::table(&["current", "name", "server", "user"], &rows);
        }
    }
    Ok(())
}

// ---- hosts and agents ----

#[derive(Subcommand)]
pub enum HostCmd {
    List {
        /// Comma-separated statuses.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        keyword: Option<String>,
        #[arg(long, default_value_t = 1)]
        page: i64,
        #[arg(long, default_value_t = 100)]
        size: i64,
    },
    Show {
        id: i64,
    },
    /// Registers a host; its agent joins with a token and brings it AVAILABLE.
    Add {
        #[arg(long)]
        ip: String,
        #[arg(long)]
        idc_id: i64,
        #[arg(long)]
        type_id: i64,
        #[arg(long)]
        alias: Option<String>,
        #[arg(long)]
        agent_port: Option<i32>,
    },
    Delete {
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
    Show { host: i64 },
    Processes { host: i64 },
    Restart { host: i64 },
    Stop { host: i64 },
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

// ---- clusters and servers ----

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

// ---- databases and database users ----

#[derive(Subcommand)]
pub enum DbCmd {
    List {
        cluster: i64,
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
    Create {
        cluster: i64,
        name: String,
        #[arg(long, default_value_t = 1)]
        tenant: i64,
        #[arg(long)]
        collation: Option<String>,
    },
    Delete {
        cluster: i64,
        name: String,
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
}

fn tenant_path(cluster: i64, tenant: i64) -> String {
    format!("/api/v2/ob/clusters/{cluster}/tenants/{tenant}")
}

pub async fn db(ctx: &mut Ctx, cmd: DbCmd) -> Result<()> {
    let format = ctx.format();
    let client = ctx.client()?.clone();
    match cmd {
        DbCmd::List { cluster, tenant } => {
            let dbs: Contents<Database> = client
                .get(&format!("{}/databases", tenant_path(cluster, tenant)))
                .await?;
            output::list(
                format,
                &dbs.contents,
                &["id", "dbName", "charset", "collation", "readonly"],
            )
        }
        DbCmd::Create {
            cluster,
            name,
            tenant,
            collation,
        } => {
            let request = CreateDatabase {
                db_name: name,
                collation,
                primary_zone: None,
                readonly: false,
            };
            let db: Database = client
                .post(
                    &format!("{}/databases", tenant_path(cluster, tenant)),
                    Some(&body(&request)),
                )
                .await?;
            output::one(format, &db)
        }
        DbCmd::Delete {
            cluster,
            name,
            tenant,
        } => {
            delete(
                ctx,
                &client,
                &format!("{}/databases/{name}", tenant_path(cluster, tenant)),
                format!("database {name} dropped"),
            )
            .await
        }
    }
}

#[derive(Subcommand)]
pub enum UserCmd {
    List {
        cluster: i64,
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
    Create {
        cluster: i64,
        name: String,
        #[arg(long, default_value_t = 1)]
        tenant: i64,
        /// The password (else $OCP_DB_PASSWORD, else asked).
        #[arg(long)]
        password: Option<String>,
        /// DB:PRIV,PRIV (repeatable), e.g. shop:SELECT,INSERT
        #[arg(long = "grant")]
        grants: Vec<String>,
    },
    Delete {
        cluster: i64,
        name: String,
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
    /// Changes the password.
    Passwd {
        cluster: i64,
        name: String,
        #[arg(long, default_value_t = 1)]
        tenant: i64,
        #[arg(long)]
        password: Option<String>,
    },
    Lock {
        cluster: i64,
        name: String,
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
    Unlock {
        cluster: i64,
        name: String,
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
    /// Grants DB:PRIV,PRIV (repeatable).
    Grant {
        cluster: i64,
        name: String,
        #[arg(required = true)]
        grants: Vec<String>,
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
    /// Revokes DB:PRIV,PRIV (repeatable).
    Revoke {
        cluster: i64,
        name: String,
        #[arg(required = true)]
        grants: Vec<String>,
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
}

/// `DB:PRIV,PRIV` as the API's `dbPrivileges`.
fn db_privileges(grants: &[String]) -> Result<Vec<DbPrivilege>> {
    grants
        .iter()
        .map(|g| {
            let (db, privileges) = g
                .split_once(':')
                .ok_or_else(|| CliError::usage(format!("{g:?} is not DB:PRIV,PRIV")))?;
            Ok(DbPrivilege {
                db_name: db.to_string(),
                privileges: privileges
                    .split(',')
                    .map(|p| p.trim().to_uppercase())
                    .filter(|p| !p.is_empty())
                    .collect(),
            })
        })
        .collect()
}

pub async fn user(ctx: &mut Ctx, cmd: UserCmd) -> Result<()> {
    let format = ctx.format();
    let client = ctx.client()?.clone();
    let action = |cluster: i64, tenant: i64, name: &str, action: &str| {
        format!("{}/users/{name}/{action}", tenant_path(cluster, tenant))
    };
    let verb = match &cmd {
        UserCmd::Lock { .. } => "lock",
        UserCmd::Unlock { .. } => "unlock",
        UserCmd::Grant { .. } => "grantDbPrivilege",
        UserCmd::Revoke { .. } => "revokeDbPrivilege",
        _ => "",
    };
    match cmd {
        UserCmd::List { cluster, tenant } => {
            let users: Contents<DbUser> = client
                .get(&format!("{}/users", tenant_path(cluster, tenant)))
                .await?;
            output::list(
                format,
                &users.contents,
                &[
                    "username",
                    "isLocked",
                    "globalPrivileges",
                    "dbPrivileges",
                    "grantedRoles",
                ],
            )
        }
        UserCmd::Create {
            cluster,
            name,
            tenant,
            password,
            grants,
        } => {
            let password =
                password_arg(password, "OCP_DB_PASSWORD", &format!("password for {name}"))?;
            let request = CreateDbUser {
                username: name,
                password,
                save_to_credential: None,
                global_privileges: Vec::new(),
                db_privileges: db_privileges(&grants)?,
                roles: Vec::new(),
            };
            let user: DbUser = client
                .post(
                    &format!("{}/users", tenant_path(cluster, tenant)),
                    Some(&body(&request)),
                )
                .await?;
            output::one(format, &user)
        }
        UserCmd::Delete {
            cluster,
            name,
            tenant,
        } => {
            delete(
                ctx,
                &client,
                &format!("{}/users/{name}", tenant_path(cluster, tenant)),
                format!("user {name} dropped"),
            )
            .await
        }
        UserCmd::Passwd {
            cluster,
            name,
            tenant,
            password,
        } => {
            let password = password_arg(
                password,
                "OCP_DB_PASSWORD",
                &format!("new password for {name}"),
            )?;
            let answer: Value = client
                .post(
                    &action(cluster, tenant, &name, "changePassword"),
                    Some(&body(&ChangeDbPassword {
                        new_password: password,
                        save_to_credential: None,
                    })),
                )
                .await?;
            done(ctx, format!("password of {name} changed"), &answer)
        }
        UserCmd::Lock {
            cluster,
            name,
            tenant,
        }
        | UserCmd::Unlock {
            cluster,
            name,
            tenant,
        } => {
            let answer: Value = client
                .post(&action(cluster, tenant, &name, verb), None)
                .await?;
            done(ctx, format!("user {name} {verb}ed"), &answer)
        }
        UserCmd::Grant {
            cluster,
            name,
            grants,
            tenant,
        }
        | UserCmd::Revoke {
            cluster,
            name,
            grants,
            tenant,
        } => {
            let request = DbPrivileges {
                db_privileges: db_privileges(&grants)?,
            };
            let answer: Value = client
                .post(&action(cluster, tenant, &name, verb), Some(&body(&request)))
                .await?;
            done(ctx, format!("{verb} for {name} done"), &answer)
        }
    }
}

// ---- packages ----

#[derive(Subcommand)]
pub enum PackageCmd {
    List,
    /// Uploads a package file (a seekdb wheel or an OceanBase rpm).
    Upload {
        file: std::path::PathBuf,
    },
}

pub async fn package(ctx: &mut Ctx, cmd: PackageCmd) -> Result<()> {
    let format = ctx.format();
    let client = ctx.client()?.clone();
    match cmd {
        PackageCmd::List => {
            let packages: PageData<SoftwarePackage> = client
                .get("/api/v2/software-packages?page=1&size=2000")
                .await?;
            output::list(
                format,
                &packages.contents,
                &["id", "fileName", "version", "architecture", "size", "type"],
            )
        }
        PackageCmd::Upload { file } => {
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| CliError::usage("the file needs a name"))?
                .to_string();
            let bytes = std::fs::read(&file)
                .map_err(|e| CliError::usage(format!("{}: {e}", file.display())))?;
            let request = client
                .request(
                    reqwest::Method::POST,
                    &format!("/api/v2/software-packages?file={name}"),
                )
                .header("content-type", "application/octet-stream")
                .body(bytes);
            let package: SoftwarePackage = client.answer(request).await?;
            output::one(format, &package)
        }
    }
}

// ---- tasks ----

#[derive(Subcommand)]
pub enum TaskCmd {
    List {
        /// RUNNING, FAILED or SUCCESSFUL.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 1)]
        page: i64,
        #[arg(long, default_value_t = 20)]
        size: i64,
    },
    Show {
        id: i64,
    },
    /// A subtask's log.
    Log {
        id: i64,
        subtask: i64,
    },
    Retry {
        id: i64,
    },
    Rollback {
        id: i64,
    },
    Skip {
        id: i64,
        subtask: i64,
    },
    Cancel {
        id: i64,
        subtask: i64,
    },
    /// Follows a task live until it ends.
    Watch {
        id: i64,
    },
}

pub async fn task(ctx: &mut Ctx, cmd: TaskCmd) -> Result<()> {
    let format = ctx.format();
    let client = ctx.client()?.clone();
    let base = |id: i64| format!("/api/v2/tasks/instances/{id}");
    match cmd {
        TaskCmd::List { status, page, size } => {
            let mut path = format!("/api/v2/tasks/instances?{}", page_query(page, size));
            if let Some(s) = status {
                path.push_str(&format!("&status={s}"));
            }
            let tasks: PageData<BasicTaskInstance> = client.get(&path).await?;
            output::list(
                format,
                &tasks.contents,
                &[
                    "id",
                    "name",
                    "status",
                    "operation",
                    "creator=creator.name",
                    "createTime",
                ],
            )
        }
        TaskCmd::Show { id } => {
            let task: TaskInstance = client.get(&base(id)).await?;
            if output::structured(format, &task)? {
                return Ok(());
            }
            say(&format!(
                "task {} {} {} ({})",
                task.id, task.name, task.status, task.operation
            ));
            output::list(
                format,
                &task.subtasks,
                &[
                    "id",
                    "name",
                    "status",
                    "operation",
                    "runTime",
                    "startTime",
                    "finishTime",
                ],
            )
        }
        TaskCmd::Log { id, subtask } => {
            let log: SubtaskLog = client
                .get(&format!("{}/subtasks/{subtask}/log", base(id)))
                .await?;
            if !output::structured(format, &log)? {
                say(&log.log);
            }
            Ok(())
        }
        TaskCmd::Retry { id } | TaskCmd::Rollback { id } => {
            let verb = if matches!(cmd, TaskCmd::Retry { .. }) {
                "retry"
            } else {
                "rollback"
            };
            let task: TaskInstance = client.post(&format!("{}/{verb}", base(id)), None).await?;
            started(ctx, task).await
        }
        TaskCmd::Skip { id, subtask } | TaskCmd::Cancel { id, subtask } => {
            let verb = if matches!(cmd, TaskCmd::Skip { .. }) {
                "skip"
            } else {
                "cancel"
            };
            let answer: Value = client
                .post(&format!("{}/subtasks/{subtask}/{verb}", base(id)), None)
                .await?;
            done(
                ctx,
                format!("subtask {subtask} of task {id}: {verb}"),
                &answer,
            )?;
            if ctx.wait() {
                return crate::watch::watch(&client, id).await;
            }
            Ok(())
        }
        TaskCmd::Watch { id } => crate::watch::watch(&client, id).await,
    }
}

// ---- platform users and roles ----

#[derive(Subcommand)]
pub enum IamCmd {
    /// Platform users: list, show, create, delete.
    #[command(subcommand)]
    User(IamUserCmd),
    /// Roles: list, show.
    #[command(subcommand)]
    Role(IamRoleCmd),
}

#[derive(Subcommand)]
pub enum IamUserCmd {
    List,
    Show {
        id: i64,
    },
    Create {
        name: String,
        /// Role names (repeatable).
        #[arg(long = "role")]
        roles: Vec<String>,
        /// The password (else $OCP_NEW_USER_PASSWORD, else asked).
        #[arg(long)]
        password: Option<String>,
        #[arg(long)]
        email: Option<String>,
    },
    Delete {
        id: i64,
    },
}

#[derive(Subcommand)]
pub enum IamRoleCmd {
    List,
    Show { id: i64 },
}

pub async fn iam(ctx: &mut Ctx, cmd: IamCmd) -> Result<()> {
    let format = ctx.format();
    let client = ctx.client()?.clone();
    match cmd {
        IamCmd::User(IamUserCmd::List) => {
            let users: PageData<User> = client.get("/api/v2/iam/users?page=1&size=2000").await?;
            output::list(
                format,
                &users.contents,
                &["id", "username", "enabled", "locked", "roles"],
            )
        }
        IamCmd::User(IamUserCmd::Show { id }) => {
            let user: User = client.get(&format!("/api/v2/iam/users/{id}")).await?;
            output::one(format, &user)
        }
        IamCmd::User(IamUserCmd::Create {
            name,
            roles,
            password,
            email,
        }) => {
            let all: PageData<Role> = client.get("/api/v2/iam/roles?page=1&size=2000").await?;
            let role_ids = roles
                .iter()
                .map(|r| {
                    all.contents
                        .iter()
                        .find(|x| &x.name == r)
                        .map(|x| x.id)
                        .ok_or_else(|| CliError::usage(format!("no role {r}")))
                })
                .collect::<Result<Vec<i64>>>()?;
            let password = password_arg(
                password,
                "OCP_NEW_USER_PASSWORD",
                &format!("password for {name}"),
            )?;
            let request = CreateUser {
                username: name,
                password,
                email,
                description: None,
                role_ids,
                rate_limit: None,
            };
            let user: User = client
                .post("/api/v2/iam/users", Some(&body(&request)))
                .await?;
            output::one(format, &user)
        }
        IamCmd::User(IamUserCmd::Delete { id }) => {
            delete(
                ctx,
                &client,
                &format!("/api/v2/iam/users/{id}"),
                format!("user {id} deleted"),
            )
            .await
        }
        IamCmd::Role(IamRoleCmd::List) => {
            let roles: PageData<Role> = client.get("/api/v2/iam/roles?page=1&size=2000").await?;
            output::list(
                format,
                &roles.contents,
                &["id", "name", "builtIn", "description"],
            )
        }
        IamCmd::Role(IamRoleCmd::Show { id }) => {
            let role: Role = client.get(&format!("/api/v2/iam/roles/{id}")).await?;
            output::one(format, &role)
        }
    }
}
