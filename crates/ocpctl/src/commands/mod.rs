//! The commands, one module per command group. Each reads into the wire types of `ocp-api`
//! and prints through `output`; the helpers they share are here.

mod alarm;
mod backup;
mod cluster;
mod db;
mod host;
mod iam;
mod log;
mod metric;
mod package;
mod profiles;
mod session;
mod sql;
mod standby;
mod task;
mod tenant;

pub use alarm::{alarm, AlarmCmd};
pub use backup::{backup, BackupCmd};
pub use cluster::{
    cluster, compaction, param, server, ClusterCmd, CompactionCmd, ParamCmd, ServerCmd,
};
pub use db::{db, user, DbCmd, UserCmd};
pub use host::{agent, host, AgentCmd, HostCmd};
pub use iam::{iam, IamCmd};
pub use log::{log, LogCmd};
pub use metric::{metric, MetricCmd};
pub use package::{package, PackageCmd};
pub use profiles::{config, ConfigCmd};
pub use session::{session, SessionCmd};
pub use sql::{sql, SqlCmd};
pub use standby::{standby, StandbyCmd};
pub use task::{task, TaskCmd};
pub use tenant::{tenant, TenantCmd};

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

/// The API path of a cluster's tenant.
fn tenant_path(cluster: i64, tenant: i64) -> String {
    format!("/api/v2/ob/clusters/{cluster}/tenants/{tenant}")
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

/// "30s", "30m", "2h", "1d" as seconds.
/// `text` as a query string value.
pub(crate) fn encoded(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The start and end of a time range: `--from` and `--to` as given, or `--last` back from
/// now in Unix seconds.
pub(crate) fn time_range(
    last: &str,
    from: &Option<String>,
    to: &Option<String>,
) -> Result<(String, String)> {
    match (from, to) {
        (Some(from), Some(to)) => Ok((from.clone(), to.clone())),
        _ => {
            let now = chrono::Utc::now().timestamp();
            Ok(((now - duration_seconds(last)?).to_string(), now.to_string()))
        }
    }
}

pub(crate) fn duration_seconds(text: &str) -> Result<i64> {
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    match number.parse::<i64>() {
        Ok(n) if n > 0 && scale > 0 => Ok(n * scale),
        _ => Err(CliError::usage(format!(
            "{text:?} is not a duration such as 30m, 2h or 1d"
        ))),
    }
}
