//! Upgrade steps. The new package is checked and installed while the server still runs.
//! Then the server stops once: its agent writes a physical backup set of the stopped data,
//! and the server starts from the new package and must answer as its version with the tables
//! and rows it had at the stop. A failure after the stop puts the old package and the set's
//! data (the data at the stop: nothing written before it is lost) back and starts the server
//! on them, so a failed upgrade ends with the cluster running what it ran before.
//!
//! The task context holds `package_id` (the new package), `old_package_id`, `backup_set_id`,
//! and, read just before the stop, `tables_before`.

use std::time::Instant;

use async_trait::async_trait;
use ocp_api::ob::ServerStatus;
use ocp_store::{ClusterRecord, ServerRecord};
use ocp_task::{Step, StepContext, StepError};

use crate::cluster::access::ObAccess;
use crate::cluster::upgrade::comment_is_of;

use super::*;

/// The most tables whose rows are counted before and after (each is read to its end).
const TABLES_COUNTED: usize = 200;

/// The rows of each table, as the context keeps them.
type Tables = Vec<(String, Option<i64>)>;

/// The server's `@@version_comment` and its tables, the first `counted` with their rows.
async fn read_server(
    access: &ObAccess,
    server: &ServerRecord,
    cluster: &ClusterRecord,
    counted: usize,
) -> Result<(String, Tables), StepError> {
    let target = access.target(cluster, server).map_err(failed)?;
    let mut client = connect_root(&target, false).await.map_err(sql_failed)?;
    let read = async {
        let comment = client.version_comment().await?;
        Ok::<_, ocp_ob::ObError>((comment, client.table_rows(counted).await?))
    }
    .await;
    client.close().await;
    read.map_err(sql_failed)
}

/// Check upgrade package: the server answers SQL and its tables read, before anything stops.
pub(super) struct CheckUpgrade(pub(super) ObAccess);

#[async_trait]
impl Step for CheckUpgrade {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, cluster) = self.0.server_and_cluster(ctx).await?;
        let package = self.0.store.package(context_id(ctx, "package_id")?).await?;
        let old = self
            .0
            .store
            .package(context_id(ctx, "old_package_id")?)
            .await?;
        // Their names only: the rows are counted once, just before the stop.
        let (comment, tables) = read_server(&self.0, &server, &cluster, 0).await?;
        ctx.log(format!(
            "server {} at {}:{} runs {} ({comment}) with {} tables; upgrading to {} {}",
            server.id,
            server.ip,
            server.sql_port,
            old.file_name,
            tables.len(),
            package.name,
            package.version
        ));
        Ok(())
    }
}

/// Install rpm: the new package on the server's host, checked against its SHA-256, while the
/// server still runs on the old one.
pub(super) struct InstallUpgrade(pub(super) ObAccess);

#[async_trait]
impl Step for InstallUpgrade {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, _) = self.0.server_and_cluster(ctx).await?;
        let package = self.0.store.package(context_id(ctx, "package_id")?).await?;
        let binary = self.0.install(ctx, &server, &package).await?;
        ctx.log(format!("new server binary {binary}"));
        Ok(())
    }
}

/// Upgrade observer: reads the server's tables, stops it, has its agent write the backup set
/// of the stopped data, starts it from the new package, and checks that it answers as the
/// new version with every table and row it had. If anything after the stop
/// fails, the old package and the backup set's data are put back and the server starts on
/// them; the step then fails saying so. Rollback (of a task that failed after this step
/// succeeded too) does the same.
pub(super) struct UpgradeServer(pub(super) ObAccess);

impl UpgradeServer {
    /// Starts the server from the cluster's package (the new one by now) and checks it.
    async fn start_new(
        &self,
        ctx: &StepContext,
        server: &ServerRecord,
        cluster: &ClusterRecord,
        before: &Tables,
    ) -> Result<String, StepError> {
        let package = self.0.store.package(context_id(ctx, "package_id")?).await?;
        if !self.0.process_running(server).await? {
            spawn_server(&self.0, ctx, server, cluster, false).await?;
        }
        wait_for_sql(&self.0, ctx, server, cluster, false).await?;
        let (comment, tables) = read_server(&self.0, server, cluster, TABLES_COUNTED).await?;
        if !comment_is_of(&comment, &package.version) {
            return Err(StepError::new(format!(
                "the server answers as {comment:?}, not as {}",
                package.version
            )));
        }
        // A standby's rows follow its primary's writes during the stop: its tables must be
        // found again, their rows need not be as they were.
        let found = |t: &(String, Option<i64>)| match cluster.cluster_type {
            ocp_api::ob::ClusterType::Standby => tables.iter().any(|n| n.0 == t.0),
            ocp_api::ob::ClusterType::Primary => tables.contains(t),
        };
        let same = match cluster.cluster_type {
            ocp_api::ob::ClusterType::Standby => before.iter().all(found),
            ocp_api::ob::ClusterType::Primary => tables == *before,
        };
        if !same {
            let lost: Vec<String> = before
                .iter()
                .filter(|t| !found(t))
                .map(|(name, rows)| match rows {
                    Some(n) => format!("{name} ({n} rows)"),
                    None => name.clone(),
                })
                .collect();
            return Err(StepError::new(format!(
                "the data did not read back as it was: {} is not found again",
                lost.join(", ")
            )));
        }
        let rows: i64 = tables.iter().filter_map(|t| t.1).sum();
        ctx.log(format!(
            "{}:{} answers as {comment}; its {} tables read back with their {rows} rows",
            server.ip,
            server.sql_port,
            tables.len()
        ));
        Ok(comment)
    }

    /// Puts the old package and the set's data back and starts the server on them. A
    /// rollback cut short is finished by the next run of the step, with the same id for the
    /// agent's unpack, which goes on from where it stopped.
    async fn put_back(&self, ctx: &StepContext, server: &ServerRecord) -> Result<(), StepError> {
        let seq = match ctx.get("rolling_back").filter(|s| !s.is_empty()) {
            Some(seq) => seq.parse().unwrap_or(1),
            None => {
                let seq = ctx
                    .get("rollbacks")
                    .and_then(|n| n.parse::<i64>().ok())
                    .unwrap_or(0)
                    + 1;
                ctx.set("rollbacks", &seq.to_string()).await?;
                ctx.set("rolling_back", &seq.to_string()).await?;
                seq
            }
        };
        let old = context_id(ctx, "old_package_id")?;
        stop_process(&self.0, ctx, server).await?;
        unpack_set(&self.0, ctx, server, true, seq).await?;
        self.0
            .store
            .set_cluster_package(server.cluster_id, old)
            .await?;
        let cluster = self.0.store.cluster(server.cluster_id).await?;
        self.0.ensure_serving(ctx, server, &cluster).await?;
        self.0
            .store
            .set_server_status(server.id, ServerStatus::Running)
            .await?;
        self.0.settle_cluster(cluster.id).await?;
        ctx.set("rolling_back", "").await?;
        let package = self.0.store.package(old).await?;
        ctx.log(format!(
            "server {} runs {} again, with the data of the backup set",
            server.id, package.file_name
        ));
        Ok(())
    }
}

#[async_trait]
impl Step for UpgradeServer {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, cluster) = self.0.server_and_cluster(ctx).await?;
        if ctx.get("rolling_back").is_some_and(|s| !s.is_empty()) {
            ctx.log("a rollback was under way when the step was cut short: finishing it");
            self.put_back(ctx, &server).await?;
            return Err(StepError::new(
                "the upgrade was cut short and rolled back; retry the task to upgrade again",
            ));
        }
        let new = context_id(ctx, "package_id")?;
        // What the server holds just before the stop; a run after one that stopped it reads
        // what that run kept.
        let mut before = None;
        if cluster.package_id != Some(new) && self.0.process_running(&server).await? {
            let (_, tables) = read_server(&self.0, &server, &cluster, TABLES_COUNTED).await?;
            let json = serde_json::to_string(&tables).map_err(|e| StepError::new(e.to_string()))?;
            ctx.set("tables_before", &json).await?;
            before = Some(tables);
        }
        let before = match before {
            Some(tables) => tables,
            None => serde_json::from_str(ctx.require("tables_before")?)
                .map_err(|e| StepError::new(format!("bad tables_before: {e}")))?,
        };
        let stopped = Instant::now();
        if cluster.package_id != Some(new) {
            stop_process(&self.0, ctx, &server).await?;
            if let Err(e) = write_stopped_set(&self.0, ctx, &server, &cluster).await {
                ctx.log("ERROR no backup set, so no upgrade: starting the server again");
                self.0.ensure_serving(ctx, &server, &cluster).await?;
                return Err(e);
            }
            self.0.store.set_cluster_package(cluster.id, new).await?;
        } else {
            ctx.log("the cluster is on the new package already; checking its server");
        }
        let cluster = self.0.store.cluster(cluster.id).await?;
        match self.start_new(ctx, &server, &cluster, &before).await {
            Ok(_) => {
                ctx.log(format!(
                    "downtime: {} ms from the stop to the checked start, the backup set's \
                     copy included",
                    stopped.elapsed().as_millis()
                ));
                Ok(())
            }
            Err(e) => {
                ctx.log(
                    "ERROR the upgrade failed after the stop; putting the old package and the \
                     backup set's data back",
                );
                self.put_back(ctx, &server).await?;
                Err(StepError::new(format!(
                    "the upgrade failed and was rolled back: {e}"
                )))
            }
        }
    }

    async fn rollback(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, cluster) = self.0.server_and_cluster(ctx).await?;
        let old = context_id(ctx, "old_package_id")?;
        if cluster.package_id == Some(old) && ctx.get("rolling_back").is_none_or(str::is_empty) {
            ctx.log("the cluster runs its old package");
            return self.0.ensure_serving(ctx, &server, &cluster).await;
        }
        ctx.log(
            "WARN the cluster goes back to its old package and to the data of the backup set \
             taken before the upgrade: what was written since is lost",
        );
        self.put_back(ctx, &server).await
    }
}
