//! Backup and restore steps. seekdb has no backup SQL, so a physical backup set is a copy of
//! the stopped server's data, written by its host's agent straight into the storage; a
//! restore is the reverse, into a new server's empty base directory. A logical set is a dump
//! the agent takes of the running server, and loads into a running one.
//!
//! The task context names the set, `backup_set_id`, whose row says where it is kept; a
//! restore also has `restore_id`.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use ocp_api::agent_path;
use ocp_api::backup::{
    BackupManifest, BackupMode, BackupSetLocation, LoadBackupSet, RestoreBackupSet, VerifiedSet,
    WriteBackupSet,
};
use ocp_ob::{ObClient, Target};
use ocp_store::{ClusterRecord, ServerRecord};
use ocp_task::{Step, StepContext, StepError};

use crate::cluster::access::{ObAccess, CONNECT_TIMEOUT};

use super::*;

/// How long an agent may take to write, check or unpack one set.
const COPY_TIMEOUT: Duration = Duration::from_secs(6 * 3600);

/// Where a set is, for logs: `file:///dir/backup_set_7` or `s3://bucket/prefix/backup_set_7`.
fn shown(location: &BackupSetLocation) -> String {
    format!("{}{}", location.storage, location.set_name)
}

/// The set's bytes, as its manifest lists them.
fn set_size(manifest: &BackupManifest) -> u64 {
    manifest.files.iter().map(|f| f.size).sum()
}

/// What the agent is asked to write: the task's set of `server`, in `mode`.
fn write_request(
    ctx: &StepContext,
    location: BackupSetLocation,
    server: &ServerRecord,
    cluster: &ClusterRecord,
    mode: BackupMode,
) -> Result<WriteBackupSet, StepError> {
    Ok(WriteBackupSet {
        mode,
        home_path: server.home_path.clone(),
        sql_port: match mode {
            BackupMode::LogicalBackup => sql_port(server)?,
            BackupMode::PhysicalBackup => 0,
        },
        storage: location.storage,
        set_name: location.set_name,
        backup_set_id: context_id(ctx, "backup_set_id")?,
        cluster_id: cluster.id,
        cluster_name: cluster.name.clone(),
        server_id: server.id,
        ob_version: ctx
            .get("ob_version")
            .unwrap_or(&cluster.ob_version)
            .to_string(),
    })
}

impl ObAccess {
    /// Where the task's set is, as the agent of `host_id` is to reach it.
    async fn location(
        &self,
        ctx: &StepContext,
        host_id: i64,
    ) -> Result<BackupSetLocation, StepError> {
        let set = self
            .store
            .backup_set(context_id(ctx, "backup_set_id")?)
            .await?;
        Ok(BackupSetLocation {
            storage: crate::cluster::backup::set_storage(&self.agents, &self.vault, host_id, &set)
                .await?,
            set_name: set.name,
        })
    }

    /// Has the agent of `host_id` do a copy, check or load of a set (`path`, POST), with
    /// the time a large set takes.
    async fn set_work<T: serde::de::DeserializeOwned, B: serde::Serialize>(
        &self,
        host_id: i64,
        path: &str,
        body: &B,
    ) -> Result<T, StepError> {
        Ok(self
            .agents
            .call_long(
                host_id,
                reqwest::Method::POST,
                path,
                Some(body),
                COPY_TIMEOUT,
            )
            .await?)
    }

    /// Has the agent of `host_id` check a set: its manifest once every file matched it, none
    /// while the set is absent or unfinished.
    async fn check_set(
        &self,
        host_id: i64,
        location: &BackupSetLocation,
    ) -> Result<Option<BackupManifest>, StepError> {
        let checked: VerifiedSet = self
            .set_work(host_id, &agent_path::manager::backup_verify(), location)
            .await?;
        Ok(checked.manifest)
    }

    /// The task's set, checked by the agent of `host_id`: its manifest once every file
    /// matched it; an error when it is unfinished, absent or damaged.
    async fn finished_set(
        &self,
        ctx: &StepContext,
        host_id: i64,
    ) -> Result<BackupManifest, StepError> {
        let location = self.location(ctx, host_id).await?;
        self.check_set(host_id, &location).await?.ok_or_else(|| {
            StepError::new(format!(
                "{} is not a finished backup set (it has no manifest)",
                shown(&location)
            ))
        })
    }

    /// Removes what a failed write left of the task's set: never a finished set (one the
    /// agent completed after its caller gave up stays). A failure here is logged: the next
    /// write of the set removes the rest anyway.
    async fn discard_unfinished(&self, ctx: &StepContext, host_id: i64) {
        let Ok(location) = self.location(ctx, host_id).await else {
            return;
        };
        match self.check_set(host_id, &location).await {
            Ok(None) => {
                let removed: Result<bool, _> = self
                    .agents
                    .call(
                        host_id,
                        reqwest::Method::POST,
                        &agent_path::manager::backup_delete(),
                        Some(&location),
                    )
                    .await;
                match removed {
                    Ok(true) => ctx.log(format!(
                        "removed what the failed write left of {}",
                        shown(&location)
                    )),
                    Ok(false) => {}
                    Err(e) => ctx.log(format!("WARN the unfinished set stays: {e}")),
                }
            }
            Ok(Some(_)) => {}
            Err(e) => ctx.log(format!("WARN the set was not checked, so it stays: {e}")),
        }
    }

    /// Starts the server if its process does not run, and waits until it accepts SQL.
    pub(super) async fn ensure_serving(
        &self,
        ctx: &StepContext,
        server: &ServerRecord,
        cluster: &ClusterRecord,
    ) -> Result<(), StepError> {
        if !self.process_running(server).await? {
            spawn_server(self, ctx, server, cluster, false).await?;
        }
        wait_for_sql(self, ctx, server, cluster, false).await?;
        Ok(())
    }
}

/// The task's kind of set: `backup_mode` in its context, physical unless it says otherwise.
fn backup_mode(ctx: &StepContext) -> BackupMode {
    match ctx.get("backup_mode") {
        Some(m) if m == BackupMode::LogicalBackup.as_str() => BackupMode::LogicalBackup,
        _ => BackupMode::PhysicalBackup,
    }
}

/// How long the statements that make the backup user may take: a server that has just
/// started can hold DDL for a while.
const BACKUP_USER_DDL_TIMEOUT: Duration = Duration::from_secs(90);

/// Makes (or mends) the user the agent of the server's host dumps and loads as, unless it
/// logs in already; its password derives from the host's secret. Answers its name.
async fn ensure_backup_user(
    access: &ObAccess,
    server: &ServerRecord,
    cluster: &ClusterRecord,
) -> Result<String, StepError> {
    let secret = host_secret(access, server.host_id)
        .await
        .map_err(StepError::new)?;
    let user = ocp_api::agent::backup_user(server.host_id);
    let password = ocp_api::agent::backup_password(&secret);
    let root = access.target(cluster, server).map_err(failed)?;
    let own = Target {
        user: user.clone(),
        password: password.clone(),
        ..root.clone()
    };
    if let Ok(client) = ObClient::connect(&own, CONNECT_TIMEOUT).await {
        client.close().await;
        return Ok(user);
    }
    let mut client = connect_root(&root, false)
        .await
        .map_err(sql_failed)?
        .with_statement_timeout(BACKUP_USER_DDL_TIMEOUT);
    let made = client.ensure_backup_user(&user, &password).await;
    client.close().await;
    made.map_err(sql_failed)?;
    Ok(user)
}

/// The server's SQL port, as the agent reaches it on loopback.
fn sql_port(server: &ServerRecord) -> Result<u16, StepError> {
    u16::try_from(server.sql_port)
        .map_err(|_| StepError::new(format!("server {} has no SQL port", server.id)))
}

/// Prepare data backup: the server answers SQL now (a set is never taken of a server that
/// was already down), and its version goes into the set's manifest. For a logical set, the
/// host's backup user is made.
pub(super) struct PrepareBackup(pub(super) ObAccess);

#[async_trait]
impl Step for PrepareBackup {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, cluster) = self.0.server_and_cluster(ctx).await?;
        let location = self.0.location(ctx, server.host_id).await?;
        if let Some(manifest) = self.0.check_set(server.host_id, &location).await? {
            ctx.log(format!(
                "{} is written already ({} bytes)",
                shown(&location),
                set_size(&manifest)
            ));
            return Ok(());
        }
        let target = self.0.target(&cluster, &server).map_err(failed)?;
        let mut client = connect_root(&target, false).await.map_err(sql_failed)?;
        let version = client.version().await.map_err(sql_failed)?;
        client.close().await;
        if backup_mode(ctx) == BackupMode::LogicalBackup {
            let user = ensure_backup_user(&self.0, &server, &cluster).await?;
            ctx.log(format!("the host's agent dumps as {user}"));
        }
        ctx.set("ob_version", &version).await?;
        ctx.log(format!(
            "backing up server {} at {}:{} ({version}), home {}, into {}",
            server.id,
            server.ip,
            server.sql_port,
            server.home_path,
            shown(&location)
        ));
        Ok(())
    }
}

/// Backup data: stops the server, has its agent write the set, starts the server again
/// whatever the copy's outcome, and waits until it accepts SQL. A set written by an earlier
/// run of this step is not written again; what a failed write left is removed. Rollback
/// starts the server if it is down, and removes an unfinished set.
pub(super) struct BackupData(pub(super) ObAccess);

#[async_trait]
impl Step for BackupData {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, cluster) = self.0.server_and_cluster(ctx).await?;
        let location = self.0.location(ctx, server.host_id).await?;
        if self.0.check_set(server.host_id, &location).await?.is_some() {
            ctx.log("the set is written already; making sure the server serves");
            return self.0.ensure_serving(ctx, &server, &cluster).await;
        }
        let into = shown(&location);
        let request = write_request(ctx, location, &server, &cluster, BackupMode::PhysicalBackup)?;
        let stopped = Instant::now();
        stop_process(&self.0, ctx, &server).await?;
        let written: Result<BackupManifest, StepError> = self
            .0
            .set_work(
                server.host_id,
                &agent_path::manager::backup_write(),
                &request,
            )
            .await;
        let copied = stopped.elapsed();
        match &written {
            Ok(m) => ctx.log(format!(
                "wrote {} bytes into {into} in {} ms",
                set_size(m),
                copied.as_millis()
            )),
            Err(e) => ctx.log(format!(
                "ERROR the copy failed after {} ms: {e}; starting the server again",
                copied.as_millis()
            )),
        }
        self.0.ensure_serving(ctx, &server, &cluster).await?;
        ctx.log(format!(
            "downtime: the server refused SQL for {} ms",
            stopped.elapsed().as_millis()
        ));
        if written.is_err() {
            self.0.discard_unfinished(ctx, server.host_id).await;
        }
        written.map(|_| ())
    }

    async fn rollback(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, cluster) = self.0.server_and_cluster(ctx).await?;
        self.0.ensure_serving(ctx, &server, &cluster).await?;
        self.0.discard_unfinished(ctx, server.host_id).await;
        Ok(())
    }
}

/// Has the agent write the task's physical set of the stopped server (unless a finished one
/// is there), checks every file of it against its manifest, and marks it DONE. What a failed
/// write left is removed. For an upgrade, whose one stop is both the copy and the restart.
pub(super) async fn write_stopped_set(
    access: &ObAccess,
    ctx: &StepContext,
    server: &ServerRecord,
    cluster: &ClusterRecord,
) -> Result<BackupManifest, StepError> {
    let location = access.location(ctx, server.host_id).await?;
    let manifest = match access.check_set(server.host_id, &location).await? {
        Some(manifest) => manifest,
        None => {
            let into = shown(&location);
            let request =
                write_request(ctx, location, server, cluster, BackupMode::PhysicalBackup)?;
            let started = Instant::now();
            let written: Result<BackupManifest, StepError> = access
                .set_work(
                    server.host_id,
                    &agent_path::manager::backup_write(),
                    &request,
                )
                .await;
            if written.is_err() {
                access.discard_unfinished(ctx, server.host_id).await;
            }
            let manifest = written?;
            ctx.log(format!(
                "wrote {} bytes into {into} in {} ms",
                set_size(&manifest),
                started.elapsed().as_millis()
            ));
            access.finished_set(ctx, server.host_id).await?
        }
    };
    access
        .store
        .finish_backup_set(
            context_id(ctx, "backup_set_id")?,
            i64::try_from(set_size(&manifest)).unwrap_or(i64::MAX),
        )
        .await?;
    ctx.log(format!(
        "backup set {} matches its manifest and is done",
        manifest.backup_set_id
    ));
    Ok(manifest)
}

/// Backup data, logical: the agent dumps the running server's user databases in one
/// consistent snapshot, with its users and grants. The server serves throughout. A set
/// written by an earlier run of this step is not written again.
pub(super) struct DumpData(pub(super) ObAccess);

#[async_trait]
impl Step for DumpData {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, cluster) = self.0.server_and_cluster(ctx).await?;
        let location = self.0.location(ctx, server.host_id).await?;
        if self.0.check_set(server.host_id, &location).await?.is_some() {
            ctx.log("the set is written already");
            return Ok(());
        }
        let into = shown(&location);
        let request = write_request(ctx, location, &server, &cluster, BackupMode::LogicalBackup)?;
        let started = Instant::now();
        let dumped: Result<BackupManifest, StepError> = self
            .0
            .set_work(
                server.host_id,
                &agent_path::manager::backup_write(),
                &request,
            )
            .await;
        let manifest = match dumped {
            Ok(manifest) => manifest,
            Err(e) => {
                ctx.log(format!("ERROR the dump failed: {e}"));
                self.0.discard_unfinished(ctx, server.host_id).await;
                return Err(e);
            }
        };
        ctx.log(format!(
            "dumped databases [{}] and {} users and roles: {} bytes into {into} in {} ms; the \
             server served throughout",
            manifest.databases.join(", "),
            manifest.users.len(),
            set_size(&manifest),
            started.elapsed().as_millis()
        ));
        Ok(())
    }

    async fn rollback(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, _) = self.0.server_and_cluster(ctx).await?;
        self.0.discard_unfinished(ctx, server.host_id).await;
        Ok(())
    }
}

/// Check restore target: every file of the logical set matches its manifest, none of the
/// set's databases holds a table on the target server, and the target host's backup user
/// is made.
pub(super) struct CheckRestoreTarget(pub(super) ObAccess);

#[async_trait]
impl Step for CheckRestoreTarget {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, cluster) = self.0.server_and_cluster(ctx).await?;
        let manifest = self.0.finished_set(ctx, server.host_id).await?;
        if manifest.mode != BackupMode::LogicalBackup {
            return Err(StepError::new(format!(
                "backup set {} is {}, not a logical set",
                manifest.backup_set_id, manifest.mode
            )));
        }
        let target = self.0.target(&cluster, &server).map_err(failed)?;
        let mut client = connect_root(&target, false).await.map_err(sql_failed)?;
        let held = client.tables_in(&manifest.databases).await;
        client.close().await;
        let held = held.map_err(sql_failed)?;
        if !held.is_empty() {
            let list: Vec<String> = held
                .iter()
                .map(|(db, n)| format!("{db} ({n} tables)"))
                .collect();
            return Err(StepError::new(format!(
                "cluster {} holds databases of the set already: {}; a logical restore loads \
                 only into databases that do not exist or are empty (drop them, or restore \
                 into a new cluster)",
                cluster.name,
                list.join(", ")
            )));
        }
        let user = ensure_backup_user(&self.0, &server, &cluster).await?;
        ctx.log(format!(
            "backup set {} of cluster {} matches its manifest; databases [{}] are free on \
             cluster {}; the host's agent loads as {user}",
            manifest.backup_set_id,
            manifest.cluster_name,
            manifest.databases.join(", "),
            cluster.name
        ));
        Ok(())
    }
}

/// Restore backup data, logical: the agent checks every file of the set again and loads the
/// dump, then the users and grants, into the running server.
pub(super) struct LoadData(pub(super) ObAccess);

#[async_trait]
impl Step for LoadData {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, _) = self.0.server_and_cluster(ctx).await?;
        let location = self.0.location(ctx, server.host_id).await?;
        let request = LoadBackupSet {
            storage: location.storage,
            set_name: location.set_name,
            sql_port: sql_port(&server)?,
        };
        let started = Instant::now();
        let manifest: BackupManifest = self
            .0
            .set_work(
                server.host_id,
                &agent_path::manager::backup_load(),
                &request,
            )
            .await?;
        ctx.log(format!(
            "loaded databases [{}] and users [{}] of backup set {} ({} bytes) into server {} \
             in {} ms",
            manifest.databases.join(", "),
            manifest.users.join(", "),
            manifest.backup_set_id,
            set_size(&manifest),
            server.id,
            started.elapsed().as_millis()
        ));
        Ok(())
    }
}

/// Verify backup set: every file of the set matches its manifest; the set is then DONE and
/// offered for restore.
pub(super) struct VerifyBackupSet(pub(super) ObAccess);

#[async_trait]
impl Step for VerifyBackupSet {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, _) = self.0.server_and_cluster(ctx).await?;
        let manifest = self.0.finished_set(ctx, server.host_id).await?;
        let size = set_size(&manifest);
        for f in &manifest.files {
            ctx.log(format!("{}: {} bytes, sha256 {}", f.name, f.size, f.sha256));
        }
        self.0
            .store
            .finish_backup_set(
                context_id(ctx, "backup_set_id")?,
                i64::try_from(size).unwrap_or(i64::MAX),
            )
            .await?;
        ctx.log(format!("backup set {} is done", manifest.backup_set_id));
        Ok(())
    }
}

/// Restore backup data: the agent checks every file of the set, then unpacks it into the
/// new server's empty base directory.
pub(super) struct RestoreData(pub(super) ObAccess);

#[async_trait]
impl Step for RestoreData {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, _) = self.0.server_and_cluster(ctx).await?;
        let restore_id = context_id(ctx, "restore_id")?;
        unpack_set(&self.0, ctx, &server, false, restore_id)
            .await
            .map(|_| ())
    }
}

/// Has the server's agent check and unpack the set into the server's base directory,
/// replacing the data there when `replace`. A repeated call with the same `restore_id` goes
/// on from where the first stopped.
pub(super) async fn unpack_set(
    access: &ObAccess,
    ctx: &StepContext,
    server: &ServerRecord,
    replace: bool,
    restore_id: i64,
) -> Result<BackupManifest, StepError> {
    let location = access.location(ctx, server.host_id).await?;
    let request = RestoreBackupSet {
        storage: location.storage,
        set_name: location.set_name,
        home_path: server.home_path.clone(),
        restore_id,
        replace,
    };
    let started = Instant::now();
    let manifest: BackupManifest = access
        .set_work(
            server.host_id,
            &agent_path::manager::backup_restore(),
            &request,
        )
        .await?;
    ctx.log(format!(
        "checked and unpacked {} bytes of backup set {} (cluster {}, {}) into {} in {} ms",
        set_size(&manifest),
        manifest.backup_set_id,
        manifest.cluster_name,
        manifest.ob_version,
        server.home_path,
        started.elapsed().as_millis()
    ));
    Ok(manifest)
}

/// Check backup set: before a restore in place stops anything, every file of the set
/// matches its manifest.
pub(super) struct CheckBackupSet(pub(super) ObAccess);

#[async_trait]
impl Step for CheckBackupSet {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, _) = self.0.server_and_cluster(ctx).await?;
        let manifest = self.0.finished_set(ctx, server.host_id).await?;
        ctx.log(format!(
            "backup set {} of cluster {} ({} bytes) matches its manifest",
            manifest.backup_set_id,
            manifest.cluster_name,
            set_size(&manifest)
        ));
        Ok(())
    }
}

/// Restore backup data, in place: the agent moves the stopped server's data aside, unpacks
/// the set and removes the old data, or puts it back if the unpack fails; the server is
/// then started again whatever happened. root's password becomes the one of the set.
/// Rollback starts the server if it is down.
pub(super) struct RestoreInPlace(pub(super) ObAccess);

#[async_trait]
impl Step for RestoreInPlace {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, cluster) = self.0.server_and_cluster(ctx).await?;
        let set = self
            .0
            .store
            .backup_set(context_id(ctx, "backup_set_id")?)
            .await?;
        let restore_id = context_id(ctx, "restore_id")?;
        match unpack_set(&self.0, ctx, &server, true, restore_id).await {
            Ok(_) => {
                if set.root_password_sealed != cluster.root_password_sealed {
                    self.0
                        .store
                        .set_cluster_password(cluster.id, &set.root_password_sealed)
                        .await?;
                    ctx.log("root's password is the one of the set now");
                }
                Ok(())
            }
            Err(e) => {
                ctx.log(format!(
                    "ERROR the restore failed, the data before it is back: {e}; starting the \
                     server again"
                ));
                self.0.ensure_serving(ctx, &server, &cluster).await?;
                Err(e)
            }
        }
    }

    async fn rollback(&self, ctx: &StepContext) -> Result<(), StepError> {
        let (server, cluster) = self.0.server_and_cluster(ctx).await?;
        self.0.ensure_serving(ctx, &server, &cluster).await
    }
}

/// Update restore status: the restored cluster serves; the restore is done.
pub(super) struct FinishRestore(pub(super) ObAccess);

#[async_trait]
impl Step for FinishRestore {
    async fn execute(&self, ctx: &StepContext) -> Result<(), StepError> {
        let id = context_id(ctx, "restore_id")?;
        self.0.store.finish_restore(id).await?;
        ctx.log(format!("restore {id} is done"));
        Ok(())
    }
}
