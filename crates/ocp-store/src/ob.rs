//! Software packages and the OceanBase clusters, zones and servers under management.

use ocp_api::ob::{ClusterStatus, ClusterType, ServerKind, ServerStatus};
use ocp_api::obdb::PackageType;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::decode::enum_field;
use crate::{now_millis, NewTask, Result, Store, StoreError};

#[derive(Debug, Clone)]
pub struct PackageRecord {
    pub id: i64,
    pub name: String,
    pub file_name: String,
    pub extension: String,
    pub size: i64,
    pub sha1: String,
    pub sha256: String,
    pub package_type: PackageType,
    pub version: String,
    pub build_number: String,
    pub operating_system: String,
    pub architecture: String,
    /// Where the server binary lies inside the package, for server packages.
    pub binary_path: Option<String>,
    pub create_time: i64,
}

#[derive(Debug, Clone)]
pub struct ClusterRecord {
    pub id: i64,
    pub name: String,
    pub kind: ServerKind,
    pub cluster_type: ClusterType,
    pub status: ClusterStatus,
    pub ob_version: String,
    pub package_id: Option<i64>,
    pub root_user: String,
    pub root_password_sealed: String,
    /// JSON array of `{name, value}` given to the servers at their first start.
    pub startup_parameters: String,
    pub creator: String,
    pub create_time: i64,
    pub update_time: i64,
    /// For a standby: the primary whose log it follows (or, once fenced, followed).
    pub primary_cluster_id: Option<i64>,
    /// For a standby: `SYNCHRONIZING`, `VALID` or `DISABLED` (see the migration).
    pub sync_status: Option<String>,
}

/// The role of one cluster of a primary/standby pair, as a switchover or failover leaves it.
#[derive(Debug, Clone)]
pub struct ClusterRole {
    pub cluster_id: i64,
    pub cluster_type: ClusterType,
    pub primary_cluster_id: Option<i64>,
    pub sync_status: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ZoneRecord {
    pub id: i64,
    pub cluster_id: i64,
    pub name: String,
    pub idc_id: Option<i64>,
    pub status: ServerStatus,
}

#[derive(Debug, Clone)]
pub struct ServerRecord {
    pub id: i64,
    pub cluster_id: i64,
    pub zone_id: i64,
    pub zone_name: String,
    pub host_id: i64,
    /// Where its host stands: the IDC and the region's name.
    pub idc_id: i64,
    pub idc_name: String,
    pub region_name: String,
    /// The host's type (model).
    pub host_type_name: String,
    pub ip: String,
    pub rpc_port: i64,
    pub sql_port: i64,
    pub home_path: String,
    pub status: ServerStatus,
    pub version: String,
    pub start_time: Option<i64>,
    pub stop_time: Option<i64>,
    pub create_time: i64,
    pub update_time: i64,
}

#[derive(Debug, Clone)]
pub struct NewServer {
    pub host_id: i64,
    pub ip: String,
    pub rpc_port: i64,
    pub sql_port: i64,
    pub home_path: String,
}

#[derive(Debug, Clone)]
pub struct NewZone {
    pub name: String,
    pub idc_id: Option<i64>,
    pub servers: Vec<NewServer>,
}

/// A cluster as registered, its zones and servers in `server_status`.
#[derive(Debug, Clone)]
pub struct NewCluster {
    pub name: String,
    pub kind: ServerKind,
    pub cluster_type: ClusterType,
    pub status: ClusterStatus,
    pub server_status: ServerStatus,
    pub ob_version: String,
    pub package_id: Option<i64>,
    pub root_user: String,
    pub root_password_sealed: String,
    pub startup_parameters: String,
    pub creator: String,
    pub zones: Vec<NewZone>,
    /// For a standby: its primary (it starts SYNCHRONIZING).
    pub primary_cluster_id: Option<i64>,
}

fn package_from_row(row: &AnyRow) -> Result<PackageRecord> {
    Ok(PackageRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        file_name: row.try_get("file_name")?,
        extension: row.try_get("extension")?,
        size: row.try_get("size")?,
        sha1: row.try_get("sha1")?,
        sha256: row.try_get("sha256")?,
        package_type: enum_field(row, "package_type", PackageType::parse)?,
        version: row.try_get("version")?,
        build_number: row.try_get("build_number")?,
        operating_system: row.try_get("operating_system")?,
        architecture: row.try_get("architecture")?,
        binary_path: row.try_get("binary_path")?,
        create_time: row.try_get("create_time")?,
    })
}

fn cluster_from_row(row: &AnyRow) -> Result<ClusterRecord> {
    Ok(ClusterRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        kind: enum_field(row, "kind", ServerKind::parse)?,
        cluster_type: enum_field(row, "cluster_type", ClusterType::parse)?,
        status: enum_field(row, "status", ClusterStatus::parse)?,
        ob_version: row.try_get("ob_version")?,
        package_id: row.try_get("package_id")?,
        root_user: row.try_get("root_user")?,
        root_password_sealed: row.try_get("root_password_sealed")?,
        startup_parameters: row.try_get("startup_parameters")?,
        creator: row.try_get("creator")?,
        create_time: row.try_get("create_time")?,
        update_time: row.try_get("update_time")?,
        primary_cluster_id: row.try_get("primary_cluster_id")?,
        sync_status: row.try_get("sync_status")?,
    })
}

fn zone_from_row(row: &AnyRow) -> Result<ZoneRecord> {
    Ok(ZoneRecord {
        id: row.try_get("id")?,
        cluster_id: row.try_get("cluster_id")?,
        name: row.try_get("name")?,
        idc_id: row.try_get("idc_id")?,
        status: enum_field(row, "status", ServerStatus::parse)?,
    })
}

fn server_from_row(row: &AnyRow) -> Result<ServerRecord> {
    Ok(ServerRecord {
        id: row.try_get("id")?,
        cluster_id: row.try_get("cluster_id")?,
        zone_id: row.try_get("zone_id")?,
        zone_name: row.try_get("zone_name")?,
        host_id: row.try_get("host_id")?,
        idc_id: row.try_get("idc_id")?,
        idc_name: row.try_get("idc_name")?,
        region_name: row.try_get("region_name")?,
        host_type_name: row.try_get("host_type_name")?,
        ip: row.try_get("ip")?,
        rpc_port: row.try_get("rpc_port")?,
        sql_port: row.try_get("sql_port")?,
        home_path: row.try_get("home_path")?,
        status: enum_field(row, "status", ServerStatus::parse)?,
        version: row.try_get("version")?,
        start_time: row.try_get("start_time")?,
        stop_time: row.try_get("stop_time")?,
        create_time: row.try_get("create_time")?,
        update_time: row.try_get("update_time")?,
    })
}

const SERVER_SELECT: &str = "SELECT s.*, z.name AS zone_name, h.idc_id AS idc_id, \
     i.name AS idc_name, r.name AS region_name, t.name AS host_type_name \
     FROM ob_server s JOIN ob_zone z ON z.id = s.zone_id \
     JOIN compute_host h ON h.id = s.host_id JOIN compute_idc i ON i.id = h.idc_id \
     JOIN compute_region r ON r.id = i.region_id JOIN compute_host_type t ON t.id = h.type_id";

fn not_found(entity: &'static str, key: impl ToString) -> StoreError {
    StoreError::NotFound {
        entity,
        key: key.to_string(),
    }
}

impl Store {
    pub async fn create_package(&self, p: &PackageRecord) -> Result<i64> {
        let _w = self.writer().await;
        let id: i64 = sqlx::query_scalar(&self.sql(
            "INSERT INTO software_package (name, file_name, extension, size, sha1, sha256, \
             package_type, version, build_number, operating_system, architecture, binary_path, \
             create_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        ))
        .bind(&p.name)
        .bind(&p.file_name)
        .bind(&p.extension)
        .bind(p.size)
        .bind(&p.sha1)
        .bind(&p.sha256)
        .bind(p.package_type.as_str())
        .bind(&p.version)
        .bind(&p.build_number)
        .bind(&p.operating_system)
        .bind(&p.architecture)
        .bind(&p.binary_path)
        .bind(now_millis())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| StoreError::from_unique(e, "software package", &p.file_name))?;
        Ok(id)
    }

    pub async fn package(&self, id: i64) -> Result<PackageRecord> {
        let row = sqlx::query(&self.sql("SELECT * FROM software_package WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| not_found("software package", id))?;
        package_from_row(&row)
    }

    pub async fn package_by_file_name(&self, file_name: &str) -> Result<Option<PackageRecord>> {
        let row = sqlx::query(&self.sql("SELECT * FROM software_package WHERE file_name = ?"))
            .bind(file_name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(package_from_row).transpose()
    }

    pub async fn packages(&self) -> Result<Vec<PackageRecord>> {
        let rows = sqlx::query("SELECT * FROM software_package ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(package_from_row).collect()
    }

    /// The names of the clusters that run a package.
    pub async fn clusters_using_package(&self, id: i64) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar(&self.sql("SELECT name FROM ob_cluster WHERE package_id = ?"))
                .bind(id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn delete_package(&self, id: i64) -> Result<()> {
        let _w = self.writer().await;
        let done = sqlx::query(&self.sql("DELETE FROM software_package WHERE id = ?"))
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(not_found("software package", id));
        }
        Ok(())
    }

    /// Registers a cluster, its zones and servers, and the task that deploys or takes it over,
    /// in one transaction: `task` is given the cluster's and its servers' new ids. The hosts
    /// of its servers become ONLINE. Answers the cluster's and the task's ids.
    pub async fn create_cluster(
        &self,
        c: &NewCluster,
        task: impl FnOnce(i64, &[i64]) -> NewTask,
    ) -> Result<(i64, i64)> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let (cluster_id, server_ids) = self.insert_cluster(&mut tx, c).await?;
        let task_id = self
            .insert_task(&mut tx, &task(cluster_id, &server_ids))
            .await?;
        tx.commit().await?;
        Ok((cluster_id, task_id))
    }

    /// Writes a cluster, its zones and servers in the caller's transaction and marks their
    /// hosts ONLINE; answers the cluster's and the servers' ids.
    pub(crate) async fn insert_cluster(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        c: &NewCluster,
    ) -> Result<(i64, Vec<i64>)> {
        let now = now_millis();
        let mut server_ids = Vec::new();
        let cluster_id: i64 = sqlx::query_scalar(&self.sql(
            "INSERT INTO ob_cluster (name, kind, cluster_type, status, ob_version, package_id, \
             root_user, root_password_sealed, startup_parameters, creator, create_time, \
             update_time, primary_cluster_id, sync_status) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        ))
        .bind(&c.name)
        .bind(c.kind.as_str())
        .bind(c.cluster_type.as_str())
        .bind(c.status.as_str())
        .bind(&c.ob_version)
        .bind(c.package_id)
        .bind(&c.root_user)
        .bind(&c.root_password_sealed)
        .bind(&c.startup_parameters)
        .bind(&c.creator)
        .bind(now)
        .bind(now)
        .bind(c.primary_cluster_id)
        .bind(c.primary_cluster_id.map(|_| "SYNCHRONIZING"))
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| StoreError::from_unique(e, "cluster", &c.name))?;
        for zone in &c.zones {
            let zone_id: i64 = sqlx::query_scalar(&self.sql(
                "INSERT INTO ob_zone (cluster_id, name, idc_id, status) VALUES (?, ?, ?, ?) \
                 RETURNING id",
            ))
            .bind(cluster_id)
            .bind(&zone.name)
            .bind(zone.idc_id)
            .bind(c.server_status.as_str())
            .fetch_one(&mut **tx)
            .await
            .map_err(|e| StoreError::from_unique(e, "zone", &zone.name))?;
            for s in &zone.servers {
                let key = format!("{}:{}", s.ip, s.sql_port);
                let server_id: i64 = sqlx::query_scalar(&self.sql(
                    "INSERT INTO ob_server (cluster_id, zone_id, host_id, ip, rpc_port, \
                     sql_port, home_path, status, version, create_time, update_time) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                ))
                .bind(cluster_id)
                .bind(zone_id)
                .bind(s.host_id)
                .bind(&s.ip)
                .bind(s.rpc_port)
                .bind(s.sql_port)
                .bind(&s.home_path)
                .bind(c.server_status.as_str())
                .bind(&c.ob_version)
                .bind(now)
                .bind(now)
                .fetch_one(&mut **tx)
                .await
                .map_err(|e| StoreError::from_unique(e, "server", &key))?;
                server_ids.push(server_id);
                sqlx::query(&self.sql(
                    "UPDATE compute_host SET status = 'ONLINE', update_time = ? \
                     WHERE id = ? AND status IN ('AVAILABLE', 'OFFLINE')",
                ))
                .bind(now)
                .bind(s.host_id)
                .execute(&mut **tx)
                .await?;
            }
        }
        Ok((cluster_id, server_ids))
    }

    /// Marks a cluster DELETING and writes the task that deletes it, in one transaction;
    /// `None` (and nothing written) if it is being deleted already.
    pub async fn begin_cluster_delete(&self, id: i64, task: &NewTask) -> Result<Option<i64>> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let marked =
            sqlx::query(&self.sql(
                "UPDATE ob_cluster SET status = ?, update_time = ? WHERE id = ? AND status <> ?",
            ))
            .bind(ClusterStatus::Deleting.as_str())
            .bind(now_millis())
            .bind(id)
            .bind(ClusterStatus::Deleting.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if marked == 0 {
            return Ok(None);
        }
        let task_id = self.insert_task(&mut tx, task).await?;
        tx.commit().await?;
        Ok(Some(task_id))
    }

    pub async fn cluster(&self, id: i64) -> Result<ClusterRecord> {
        let row = sqlx::query(&self.sql("SELECT * FROM ob_cluster WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| not_found("cluster", id))?;
        cluster_from_row(&row)
    }

    pub async fn clusters(&self) -> Result<Vec<ClusterRecord>> {
        let rows = sqlx::query("SELECT * FROM ob_cluster ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(cluster_from_row).collect()
    }

    /// Every zone of every cluster, for a list of clusters.
    pub async fn all_zones(&self) -> Result<Vec<ZoneRecord>> {
        let rows = sqlx::query("SELECT * FROM ob_zone ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(zone_from_row).collect()
    }

    pub async fn zones(&self, cluster_id: i64) -> Result<Vec<ZoneRecord>> {
        let rows = sqlx::query(&self.sql("SELECT * FROM ob_zone WHERE cluster_id = ? ORDER BY id"))
            .bind(cluster_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(zone_from_row).collect()
    }

    pub async fn servers(&self, cluster_id: i64) -> Result<Vec<ServerRecord>> {
        let text = format!("{SERVER_SELECT} WHERE s.cluster_id = ? ORDER BY s.id");
        let rows = sqlx::query(&self.sql(&text))
            .bind(cluster_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(server_from_row).collect()
    }

    /// Every managed server, for the status sync and a list of clusters.
    pub async fn all_servers(&self) -> Result<Vec<ServerRecord>> {
        let text = format!("{SERVER_SELECT} ORDER BY s.id");
        let rows = sqlx::query(&text).fetch_all(&self.pool).await?;
        rows.iter().map(server_from_row).collect()
    }

    pub async fn server(&self, id: i64) -> Result<ServerRecord> {
        let text = format!("{SERVER_SELECT} WHERE s.id = ?");
        let row = sqlx::query(&self.sql(&text))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| not_found("server", id))?;
        server_from_row(&row)
    }

    pub async fn set_cluster_status(&self, id: i64, status: ClusterStatus) -> Result<()> {
        self.update_one(
            "UPDATE ob_cluster SET status = ?, update_time = ? WHERE id = ?",
            status.as_str(),
            id,
            "cluster",
        )
        .await
    }

    pub async fn set_zone_status(&self, id: i64, status: ServerStatus) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(&self.sql("UPDATE ob_zone SET status = ? WHERE id = ?"))
            .bind(status.as_str())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Sets a server's status; RUNNING stamps its start time and STOPPED its stop time.
    pub async fn set_server_status(&self, id: i64, status: ServerStatus) -> Result<()> {
        let _w = self.writer().await;
        let now = now_millis();
        let stamp = match status {
            ServerStatus::Running => Some("start_time"),
            ServerStatus::Stopped => Some("stop_time"),
            _ => None,
        };
        let text = match stamp {
            Some(column) => format!(
                "UPDATE ob_server SET status = ?, update_time = ?, {column} = ? WHERE id = ?"
            ),
            None => "UPDATE ob_server SET status = ?, update_time = ? WHERE id = ?".to_string(),
        };
        let text = self.sql(&text);
        let mut query = sqlx::query(&text).bind(status.as_str()).bind(now);
        if stamp.is_some() {
            query = query.bind(now);
        }
        query.bind(id).execute(&self.pool).await?;
        Ok(())
    }

    /// Moves a server from one status to another only if it is still in the first: the
    /// status sync never overwrites what a task set meanwhile. True if it moved.
    pub async fn swap_server_status(
        &self,
        id: i64,
        from: ServerStatus,
        to: ServerStatus,
    ) -> Result<bool> {
        let _w = self.writer().await;
        let done =
            sqlx::query(&self.sql(
                "UPDATE ob_server SET status = ?, update_time = ? WHERE id = ? AND status = ?",
            ))
            .bind(to.as_str())
            .bind(now_millis())
            .bind(id)
            .bind(from.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// As [`Store::swap_server_status`], for a cluster.
    pub async fn swap_cluster_status(
        &self,
        id: i64,
        from: ClusterStatus,
        to: ClusterStatus,
    ) -> Result<bool> {
        let _w = self.writer().await;
        let done =
            sqlx::query(&self.sql(
                "UPDATE ob_cluster SET status = ?, update_time = ? WHERE id = ? AND status = ?",
            ))
            .bind(to.as_str())
            .bind(now_millis())
            .bind(id)
            .bind(from.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn set_server_home(&self, id: i64, home_path: &str) -> Result<()> {
        self.update_one(
            "UPDATE ob_server SET home_path = ?, update_time = ? WHERE id = ?",
            home_path,
            id,
            "server",
        )
        .await
    }

    pub async fn set_cluster_version(&self, id: i64, version: &str) -> Result<()> {
        let _w = self.writer().await;
        let now = now_millis();
        let mut tx = self.pool.begin().await?;
        for text in [
            "UPDATE ob_cluster SET ob_version = ?, update_time = ? WHERE id = ?",
            "UPDATE ob_server SET version = ?, update_time = ? WHERE cluster_id = ?",
        ] {
            sqlx::query(&self.sql(text))
                .bind(version)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The package whose binary the cluster's servers start from: changed by an upgrade
    /// (and back by its rollback).
    pub async fn set_cluster_package(&self, id: i64, package_id: i64) -> Result<()> {
        let _w = self.writer().await;
        let done = sqlx::query(
            &self.sql("UPDATE ob_cluster SET package_id = ?, update_time = ? WHERE id = ?"),
        )
        .bind(package_id)
        .bind(now_millis())
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(not_found("cluster", id));
        }
        Ok(())
    }

    /// Sets the roles of the clusters of a pair in one transaction: a switchover or a
    /// failover never leaves one half written.
    pub async fn set_cluster_roles(&self, roles: &[ClusterRole]) -> Result<()> {
        let _w = self.writer().await;
        let now = now_millis();
        let mut tx = self.pool.begin().await?;
        for role in roles {
            let done = sqlx::query(&self.sql(
                "UPDATE ob_cluster SET cluster_type = ?, primary_cluster_id = ?, \
                 sync_status = ?, update_time = ? WHERE id = ?",
            ))
            .bind(role.cluster_type.as_str())
            .bind(role.primary_cluster_id)
            .bind(role.sync_status.as_deref())
            .bind(now)
            .bind(role.cluster_id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(not_found("cluster", role.cluster_id));
            }
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_cluster_password(&self, id: i64, sealed: &str) -> Result<()> {
        self.update_one(
            "UPDATE ob_cluster SET root_password_sealed = ?, update_time = ? WHERE id = ?",
            sealed,
            id,
            "cluster",
        )
        .await
    }

    async fn update_one(
        &self,
        text: &str,
        value: &str,
        id: i64,
        entity: &'static str,
    ) -> Result<()> {
        let _w = self.writer().await;
        let done = sqlx::query(&self.sql(text))
            .bind(value)
            .bind(now_millis())
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(not_found(entity, id));
        }
        Ok(())
    }

    /// Forgets a cluster, its zones and servers; hosts left without a server become
    /// AVAILABLE again.
    pub async fn delete_cluster(&self, id: i64) -> Result<()> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let hosts: Vec<i64> =
            sqlx::query_scalar(&self.sql("SELECT host_id FROM ob_server WHERE cluster_id = ?"))
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        for text in [
            "DELETE FROM ob_server WHERE cluster_id = ?",
            "DELETE FROM ob_zone WHERE cluster_id = ?",
            "DELETE FROM ob_cluster WHERE id = ?",
        ] {
            sqlx::query(&self.sql(text))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        for host in hosts {
            sqlx::query(&self.sql(
                "UPDATE compute_host SET status = 'AVAILABLE', update_time = ? \
                 WHERE id = ? AND status = 'ONLINE' \
                 AND NOT EXISTS (SELECT 1 FROM ob_server s WHERE s.host_id = compute_host.id)",
            ))
            .bind(now_millis())
            .bind(host)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The ids of the clusters with a server on a host.
    pub async fn clusters_on_host(&self, host_id: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(&self.sql(
            "SELECT DISTINCT cluster_id FROM ob_server WHERE host_id = ? ORDER BY cluster_id",
        ))
        .bind(host_id)
        .fetch_all(&self.pool)
        .await?)
    }
}
