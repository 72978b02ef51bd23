//! Backup sets and restores, each written in one transaction with the task that makes it.
//!
//! A set or restore is DONE only when its task's last step says so; while it is not, its
//! status is read through its task, so a task that failed (or was rolled back) shows its set
//! FAILED without any step having to write that.

use ocp_api::backup::{BackupMode, BackupStorageType, BackupStrategy, BackupTaskStatus};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::decode::enum_field;
use crate::{now_millis, NewCluster, NewTask, Result, Store, StoreError};

/// How an S3-compatible storage is reached, its key's secret sealed with the master key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Access {
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_sealed: String,
}

/// A backup set to register as DOING, with the task that writes it.
#[derive(Debug, Clone)]
pub struct NewBackupSet {
    pub cluster_id: i64,
    pub cluster_name: String,
    pub server_id: i64,
    pub mode: BackupMode,
    pub storage_type: BackupStorageType,
    pub storage_url: String,
    /// For an S3 storage: how its bucket is reached.
    pub s3: Option<S3Access>,
    pub ob_version: String,
    pub root_password_sealed: String,
}

/// A finished set found in a storage, as its manifest describes it, registered to restore
/// it. `set.server_id` is 0: the server it was taken of is not one of the platform's.
#[derive(Debug, Clone)]
pub struct FoundBackupSet {
    pub set: NewBackupSet,
    /// Its name in the storage, such as `backup_set_7`.
    pub name: String,
    pub size: i64,
    pub start_time: i64,
    pub finish_time: i64,
}

#[derive(Debug, Clone)]
pub struct BackupSetRecord {
    pub id: i64,
    pub cluster_id: i64,
    pub cluster_name: String,
    pub server_id: i64,
    pub task_id: i64,
    pub mode: BackupMode,
    pub storage_type: BackupStorageType,
    pub storage_url: String,
    pub s3: Option<S3Access>,
    pub status: BackupTaskStatus,
    pub size: Option<i64>,
    pub ob_version: String,
    pub root_password_sealed: String,
    pub start_time: i64,
    pub finish_time: Option<i64>,
    /// Its name in the storage: `backup_set_{id}`, or the one it was found under.
    pub name: String,
    /// Found in a storage rather than taken by the platform.
    pub found: bool,
}

/// A cluster's backup strategy (kept in the API's shape, as JSON), who made it, the last
/// due time a set was started for, and what its storage held when last looked at.
#[derive(Debug, Clone)]
pub struct BackupStrategyRecord {
    pub cluster_id: i64,
    pub strategy: BackupStrategy,
    pub creator_id: i64,
    pub creator_name: String,
    pub last_due: i64,
    pub create_time: i64,
    pub update_time: i64,
    pub storage_usage: Option<StorageUsage>,
    /// The secret of the strategy's S3 key, sealed (the strategy itself never holds it).
    pub s3_secret_sealed: Option<String>,
}

/// The filesystem (or bucket) a strategy's sets go to, as its agent saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageUsage {
    pub total_bytes: i64,
    pub used_bytes: i64,
    /// When it was looked at, in ms.
    pub checked_at: i64,
}

/// A restore into a new cluster, registered with that cluster and its task.
#[derive(Debug, Clone)]
pub struct NewRestore {
    pub backup_set_id: i64,
    pub backup_cluster_id: i64,
    pub backup_cluster_name: String,
    pub restore_uri: String,
    pub mode: BackupMode,
}

#[derive(Debug, Clone)]
pub struct RestoreRecord {
    pub id: i64,
    pub task_id: i64,
    pub backup_set_id: i64,
    pub backup_cluster_id: i64,
    pub backup_cluster_name: String,
    pub restore_cluster_id: i64,
    pub restore_cluster_name: String,
    pub restore_uri: String,
    pub mode: BackupMode,
    pub status: BackupTaskStatus,
    pub create_time: i64,
    pub finish_time: Option<i64>,
}

/// A row's own status, or FAILED while it is DOING and its task failed.
fn status_through_task(row: &AnyRow) -> Result<BackupTaskStatus> {
    let own = enum_field(row, "status", BackupTaskStatus::parse)?;
    let task: Option<String> = row.try_get("task_status")?;
    Ok(match (own, task.as_deref()) {
        (BackupTaskStatus::Doing, Some("FAILED") | None) => BackupTaskStatus::Failed,
        (own, _) => own,
    })
}

fn backup_set(row: &AnyRow) -> Result<BackupSetRecord> {
    let id: i64 = row.try_get("id")?;
    let found_name: Option<String> = row.try_get("found_name")?;
    Ok(BackupSetRecord {
        id,
        cluster_id: row.try_get("cluster_id")?,
        cluster_name: row.try_get("cluster_name")?,
        server_id: row.try_get("server_id")?,
        task_id: row.try_get("task_id")?,
        mode: enum_field(row, "mode", BackupMode::parse)?,
        storage_type: enum_field(row, "storage_type", BackupStorageType::parse)?,
        storage_url: row.try_get("storage_url")?,
        s3: match row.try_get::<Option<String>, _>("storage_access")? {
            Some(json) => Some(
                serde_json::from_str(&json)
                    .map_err(|e| StoreError::Corrupt(format!("backup storage access: {e}")))?,
            ),
            None => None,
        },
        status: status_through_task(row)?,
        size: row.try_get("size")?,
        ob_version: row.try_get("ob_version")?,
        root_password_sealed: row.try_get("root_password_sealed")?,
        start_time: row.try_get("start_time")?,
        finish_time: row.try_get("finish_time")?,
        name: found_name
            .clone()
            .unwrap_or_else(|| ocp_api::backup::set_name(id)),
        found: found_name.is_some(),
    })
}

fn restore(row: &AnyRow) -> Result<RestoreRecord> {
    Ok(RestoreRecord {
        id: row.try_get("id")?,
        task_id: row.try_get("task_id")?,
        backup_set_id: row.try_get("backup_set_id")?,
        backup_cluster_id: row.try_get("backup_cluster_id")?,
        backup_cluster_name: row.try_get("backup_cluster_name")?,
        restore_cluster_id: row.try_get("restore_cluster_id")?,
        restore_cluster_name: row.try_get("restore_cluster_name")?,
        restore_uri: row.try_get("restore_uri")?,
        mode: enum_field(row, "mode", BackupMode::parse)?,
        status: status_through_task(row)?,
        create_time: row.try_get("create_time")?,
        finish_time: row.try_get("finish_time")?,
    })
}

const SETS: &str = "SELECT s.*, t.status AS task_status FROM ob_backup_set s \
                    LEFT JOIN task_instance t ON t.id = s.task_id";
const RESTORES: &str = "SELECT r.*, t.status AS task_status FROM ob_restore r \
                        LEFT JOIN task_instance t ON t.id = r.task_id";

impl Store {
    /// Registers a backup set (DOING) and the task that writes it, which `task` builds from
    /// the set's id. Refused with [`StoreError::AlreadyExists`] while another set of the
    /// cluster is being written.
    pub async fn create_backup_set(
        &self,
        set: &NewBackupSet,
        task: impl FnOnce(i64) -> NewTask,
    ) -> Result<(i64, i64)> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let ids = self.insert_backup_set(&mut tx, set, task).await?;
        tx.commit().await?;
        Ok(ids)
    }

    async fn insert_backup_set(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        set: &NewBackupSet,
        task: impl FnOnce(i64) -> NewTask,
    ) -> Result<(i64, i64)> {
        let busy: Option<i64> = sqlx::query_scalar(&self.sql(
            "SELECT s.id FROM ob_backup_set s JOIN task_instance t ON t.id = s.task_id \
             WHERE s.cluster_id = ? AND s.status = 'DOING' AND t.status = 'RUNNING'",
        ))
        .bind(set.cluster_id)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(id) = busy {
            return Err(StoreError::AlreadyExists {
                entity: "running backup",
                key: format!("(set {id}) of cluster {}", set.cluster_name),
            });
        }
        let set_id = self.insert_set_row(tx, set, None).await?;
        let task_id = self.insert_task(tx, &task(set_id)).await?;
        sqlx::query(&self.sql("UPDATE ob_backup_set SET task_id = ? WHERE id = ?"))
            .bind(task_id)
            .bind(set_id)
            .execute(&mut **tx)
            .await?;
        Ok((set_id, task_id))
    }

    /// Writes a set's row: one the platform takes DOING (its task id set by the caller), one
    /// it `found` DONE as its manifest describes it.
    async fn insert_set_row(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        set: &NewBackupSet,
        found: Option<&FoundBackupSet>,
    ) -> Result<i64> {
        let access = set
            .s3
            .as_ref()
            .map(|s3| serde_json::to_string(s3).expect("storage access serializes"));
        Ok(sqlx::query_scalar(&self.sql(
            "INSERT INTO ob_backup_set (cluster_id, cluster_name, server_id, task_id, mode, \
             storage_type, storage_url, storage_access, status, size, ob_version, \
             root_password_sealed, start_time, finish_time, found_name) \
             VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        ))
        .bind(set.cluster_id)
        .bind(&set.cluster_name)
        .bind(set.server_id)
        .bind(set.mode.as_str())
        .bind(set.storage_type.as_str())
        .bind(&set.storage_url)
        .bind(access)
        .bind(if found.is_some() { "DONE" } else { "DOING" })
        .bind(found.map(|f| f.size))
        .bind(&set.ob_version)
        .bind(&set.root_password_sealed)
        .bind(found.map_or_else(now_millis, |f| f.start_time))
        .bind(found.map(|f| f.finish_time))
        .bind(found.map(|f| f.name.as_str()))
        .fetch_one(&mut **tx)
        .await?)
    }

    /// Starts the scheduled set due at `due` (ms) unless a set was started for it, or a later
    /// due time, already: moves the strategy's last due time forward and writes the set and
    /// its task in one transaction. `None` when another server (or an earlier tick) did.
    pub async fn fire_scheduled_backup(
        &self,
        due: i64,
        set: &NewBackupSet,
        task: impl FnOnce(i64) -> NewTask,
    ) -> Result<Option<(i64, i64)>> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let moved = sqlx::query(&self.sql(
            "UPDATE ob_backup_strategy SET last_due = ? WHERE cluster_id = ? AND last_due < ?",
        ))
        .bind(due)
        .bind(set.cluster_id)
        .bind(due)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved == 0 {
            return Ok(None);
        }
        let ids = self.insert_backup_set(&mut tx, set, task).await?;
        tx.commit().await?;
        Ok(Some(ids))
    }

    /// Writes a cluster's strategy: a new one (refused if there is one) or a change of the
    /// one there (refused if there is none). A new or changed strategy fires only for due
    /// times after now.
    pub async fn put_backup_strategy(
        &self,
        cluster_id: i64,
        strategy: &BackupStrategy,
        s3_secret_sealed: Option<&str>,
        creator: (i64, &str),
        create: bool,
    ) -> Result<()> {
        let body = serde_json::to_string(strategy).expect("a strategy serializes");
        let _w = self.writer().await;
        let now = now_millis();
        let written = if create {
            sqlx::query(&self.sql(
                "INSERT INTO ob_backup_strategy (cluster_id, body, storage_secret_sealed, \
                 creator_id, creator_name, last_due, create_time, update_time) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            ))
            .bind(cluster_id)
            .bind(&body)
            .bind(s3_secret_sealed)
            .bind(creator.0)
            .bind(creator.1)
            .bind(now)
            .bind(now)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(|e| {
                StoreError::from_unique(e, "backup strategy of cluster", &cluster_id.to_string())
            })?
        } else {
            sqlx::query(&self.sql(
                "UPDATE ob_backup_strategy SET body = ?, storage_secret_sealed = ?, last_due = ?, \
                 update_time = ? WHERE cluster_id = ?",
            ))
            .bind(&body)
            .bind(s3_secret_sealed)
            .bind(now)
            .bind(now)
            .bind(cluster_id)
            .execute(&self.pool)
            .await?
        };
        if written.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                entity: "backup strategy of cluster",
                key: cluster_id.to_string(),
            });
        }
        Ok(())
    }

    pub async fn delete_backup_strategy(&self, cluster_id: i64) -> Result<()> {
        let _w = self.writer().await;
        let done = sqlx::query(&self.sql("DELETE FROM ob_backup_strategy WHERE cluster_id = ?"))
            .bind(cluster_id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                entity: "backup strategy of cluster",
                key: cluster_id.to_string(),
            });
        }
        Ok(())
    }

    /// Every cluster's strategy, or one cluster's.
    pub async fn backup_strategies(
        &self,
        cluster_id: Option<i64>,
    ) -> Result<Vec<BackupStrategyRecord>> {
        let rows = match cluster_id {
            Some(id) => {
                sqlx::query(&self.sql("SELECT * FROM ob_backup_strategy WHERE cluster_id = ?"))
                    .bind(id)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT * FROM ob_backup_strategy ORDER BY cluster_id")
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter()
            .map(|row| {
                Ok(BackupStrategyRecord {
                    cluster_id: row.try_get("cluster_id")?,
                    strategy: {
                        let body: String = row.try_get("body")?;
                        serde_json::from_str(&body)
                            .map_err(|e| StoreError::Corrupt(format!("backup strategy: {e}")))?
                    },
                    creator_id: row.try_get("creator_id")?,
                    creator_name: row.try_get("creator_name")?,
                    last_due: row.try_get("last_due")?,
                    create_time: row.try_get("create_time")?,
                    update_time: row.try_get("update_time")?,
                    storage_usage: match (
                        row.try_get::<Option<i64>, _>("storage_total_bytes")?,
                        row.try_get::<Option<i64>, _>("storage_used_bytes")?,
                        row.try_get::<Option<i64>, _>("storage_checked_at")?,
                    ) {
                        (Some(total_bytes), Some(used_bytes), Some(checked_at)) => {
                            Some(StorageUsage {
                                total_bytes,
                                used_bytes,
                                checked_at,
                            })
                        }
                        _ => None,
                    },
                    s3_secret_sealed: row.try_get("storage_secret_sealed")?,
                })
            })
            .collect()
    }

    /// Records what a strategy's storage holds now (no row changes if it has none).
    pub async fn set_backup_storage_usage(
        &self,
        cluster_id: i64,
        usage: StorageUsage,
    ) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(&self.sql(
            "UPDATE ob_backup_strategy SET storage_total_bytes = ?, storage_used_bytes = ?, \
             storage_checked_at = ? WHERE cluster_id = ?",
        ))
        .bind(usage.total_bytes)
        .bind(usage.used_bytes)
        .bind(usage.checked_at)
        .bind(cluster_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets a set whose files were removed (retention). Restores made from it keep their
    /// record.
    pub async fn delete_backup_set(&self, id: i64) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(&self.sql("DELETE FROM ob_backup_set WHERE id = ?"))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks a set written and verified, with its size in bytes.
    pub async fn finish_backup_set(&self, id: i64, size: i64) -> Result<()> {
        let _w = self.writer().await;
        let done = sqlx::query(&self.sql(
            "UPDATE ob_backup_set SET status = 'DONE', size = ?, \
             finish_time = COALESCE(finish_time, ?) WHERE id = ?",
        ))
        .bind(size)
        .bind(now_millis())
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                entity: "backup set",
                key: id.to_string(),
            });
        }
        Ok(())
    }

    pub async fn backup_set(&self, id: i64) -> Result<BackupSetRecord> {
        let row = sqlx::query(&self.sql(&format!("{SETS} WHERE s.id = ?")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                entity: "backup set",
                key: id.to_string(),
            })?;
        backup_set(&row)
    }

    /// The sets the platform took of a cluster, newest first (not the ones it found).
    pub async fn backup_sets(&self, cluster_id: i64) -> Result<Vec<BackupSetRecord>> {
        let rows = sqlx::query(&self.sql(&format!(
            "{SETS} WHERE s.cluster_id = ? AND s.found_name IS NULL ORDER BY s.id DESC"
        )))
        .bind(cluster_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(backup_set).collect()
    }

    /// Registers a finished set found in a storage (DONE, without a task), or answers the
    /// one registered already for the same cluster, storage and name, its storage access
    /// renewed (the key may have changed).
    pub async fn register_found_backup_set(&self, found: &FoundBackupSet) -> Result<i64> {
        let set = &found.set;
        let access = set
            .s3
            .as_ref()
            .map(|s3| serde_json::to_string(s3).expect("storage access serializes"));
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let known: Option<i64> = sqlx::query_scalar(&self.sql(
            "SELECT id FROM ob_backup_set WHERE cluster_id = ? AND storage_type = ? \
             AND storage_url = ? AND found_name = ?",
        ))
        .bind(set.cluster_id)
        .bind(set.storage_type.as_str())
        .bind(&set.storage_url)
        .bind(&found.name)
        .fetch_optional(&mut *tx)
        .await?;
        let id = match known {
            Some(id) => {
                sqlx::query(&self.sql(
                    "UPDATE ob_backup_set SET storage_access = ?, root_password_sealed = ? \
                     WHERE id = ?",
                ))
                .bind(access)
                .bind(&set.root_password_sealed)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                id
            }
            None => self.insert_set_row(&mut tx, set, Some(found)).await?,
        };
        tx.commit().await?;
        Ok(id)
    }

    /// Registers a cluster to restore a set into, its restore and its task, in one
    /// transaction; `task` is given the cluster's, its servers' and the restore's ids.
    pub async fn create_restored_cluster(
        &self,
        cluster: &NewCluster,
        restore: &NewRestore,
        task: impl FnOnce(i64, &[i64], i64) -> NewTask,
    ) -> Result<(i64, i64)> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let (cluster_id, server_ids) = self.insert_cluster(&mut tx, cluster).await?;
        let restore_id = self
            .insert_restore(&mut tx, restore, cluster_id, &cluster.name)
            .await?;
        let task_id = self
            .insert_task(&mut tx, &task(cluster_id, &server_ids, restore_id))
            .await?;
        self.link_restore_task(&mut tx, restore_id, task_id).await?;
        tx.commit().await?;
        Ok((cluster_id, task_id))
    }

    /// Registers a restore into an existing cluster and its task, in one transaction; `task`
    /// is given the restore's id. Answers the task.
    pub async fn create_restore(
        &self,
        restore: &NewRestore,
        cluster_id: i64,
        cluster_name: &str,
        task: impl FnOnce(i64) -> NewTask,
    ) -> Result<i64> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let restore_id = self
            .insert_restore(&mut tx, restore, cluster_id, cluster_name)
            .await?;
        let task_id = self.insert_task(&mut tx, &task(restore_id)).await?;
        self.link_restore_task(&mut tx, restore_id, task_id).await?;
        tx.commit().await?;
        Ok(task_id)
    }

    async fn insert_restore(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        restore: &NewRestore,
        cluster_id: i64,
        cluster_name: &str,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(&self.sql(
            "INSERT INTO ob_restore (task_id, backup_set_id, backup_cluster_id, \
             backup_cluster_name, restore_cluster_id, restore_cluster_name, restore_uri, mode, \
             status, create_time) VALUES (0, ?, ?, ?, ?, ?, ?, ?, 'DOING', ?) RETURNING id",
        ))
        .bind(restore.backup_set_id)
        .bind(restore.backup_cluster_id)
        .bind(&restore.backup_cluster_name)
        .bind(cluster_id)
        .bind(cluster_name)
        .bind(&restore.restore_uri)
        .bind(restore.mode.as_str())
        .bind(now_millis())
        .fetch_one(&mut **tx)
        .await?)
    }

    async fn link_restore_task(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        restore_id: i64,
        task_id: i64,
    ) -> Result<()> {
        sqlx::query(&self.sql("UPDATE ob_restore SET task_id = ? WHERE id = ?"))
            .bind(task_id)
            .bind(restore_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Marks a restore finished.
    pub async fn finish_restore(&self, id: i64) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(&self.sql(
            "UPDATE ob_restore SET status = 'DONE', finish_time = COALESCE(finish_time, ?) \
             WHERE id = ?",
        ))
        .bind(now_millis())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The restores from or into a cluster, newest first.
    pub async fn restores(&self, cluster_id: i64) -> Result<Vec<RestoreRecord>> {
        let rows = sqlx::query(&self.sql(&format!(
            "{RESTORES} WHERE r.restore_cluster_id = ? OR r.backup_cluster_id = ? \
             ORDER BY r.id DESC"
        )))
        .bind(cluster_id)
        .bind(cluster_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(restore).collect()
    }
}
