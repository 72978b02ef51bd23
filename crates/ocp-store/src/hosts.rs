//! Hosts, their agents (secret sealed, status, heartbeats), the agents' processes as last
//! reported, and the one-time tokens agents join with.

use ocp_api::host::{HostAgentStatus, HostKind, HostStatus};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::decode::enum_field;
use crate::{now_millis, Result, Store, StoreError};

/// A host with the names of where it stands and its agent's summary.
#[derive(Debug, Clone)]
pub struct HostRecord {
    pub id: i64,
    pub name: String,
    pub alias: Option<String>,
    pub description: Option<String>,
    pub inner_ip_address: String,
    pub ssh_port: i64,
    pub kind: HostKind,
    pub publish_ports: Option<String>,
    pub serial_number: Option<String>,
    pub status: HostStatus,
    pub operating_system: Option<String>,
    pub operating_system_release: Option<String>,
    pub architecture: Option<String>,
    /// The agent's last facts report, as JSON.
    pub facts: Option<String>,
    pub agent_port: i64,
    pub idc_id: i64,
    pub idc_name: String,
    pub idc_description: Option<String>,
    pub region_id: i64,
    pub region_name: String,
    pub region_description: Option<String>,
    pub type_id: i64,
    pub type_name: String,
    pub type_description: Option<String>,
    pub agent: Option<AgentRecord>,
    pub create_time: i64,
    pub update_time: i64,
}

#[derive(Debug, Clone)]
pub struct AgentRecord {
    pub id: i64,
    pub host_id: i64,
    pub version: Option<String>,
    pub secret_sealed: String,
    pub install_home: Option<String>,
    pub log_home: Option<String>,
    pub status: HostAgentStatus,
    pub manager_running: bool,
    pub last_heartbeat: Option<i64>,
    pub last_available_time: Option<i64>,
    pub create_time: i64,
    pub update_time: i64,
}

/// A host being registered through the API (status NEW until its agent is verified).
#[derive(Debug, Clone)]
pub struct NewHost {
    pub inner_ip_address: String,
    pub serial_number: Option<String>,
    pub alias: Option<String>,
    pub description: Option<String>,
    pub ssh_port: i64,
    pub kind: HostKind,
    pub publish_ports: Option<String>,
    pub idc_id: i64,
    pub type_id: i64,
    pub agent_port: i64,
}

/// What an agent tells about itself when it joins.
#[derive(Debug, Clone)]
pub struct JoiningAgent {
    pub inner_ip_address: String,
    pub port: i64,
    pub hostname: String,
    pub operating_system: String,
    pub operating_system_release: String,
    pub architecture: String,
    pub facts: String,
    pub version: String,
    pub install_home: String,
    pub log_home: String,
    pub secret_sealed: String,
}

#[derive(Debug, Clone, Copy)]
pub struct Joined {
    pub host_id: i64,
    pub agent_id: i64,
    /// The host was registered through the API and its Prepare host task awaits the agent.
    pub host_was_registered: bool,
}

/// The filters of a host listing.
#[derive(Debug, Clone, Default)]
pub struct HostListFilter {
    pub statuses: Vec<HostStatus>,
    pub keyword: Option<String>,
    /// Only hosts with a database server on them.
    pub requires_service: bool,
    pub offset: i64,
    pub limit: i64,
    pub sort_column: String,
    pub descending: bool,
}

/// A process of an agent, as the agent last reported it (`report` is JSON).
#[derive(Debug, Clone)]
pub struct AgentProcessRecord {
    pub id: i64,
    pub host_id: i64,
    pub alias: String,
    pub report: String,
    pub last_active_time: Option<i64>,
    pub create_time: i64,
    pub update_time: i64,
}

/// What a heartbeat changes.
#[derive(Debug, Clone)]
pub struct HeartbeatUpdate {
    pub version: String,
    pub manager_running: bool,
    /// `(alias, report JSON)` of every agent process.
    pub processes: Vec<(String, String)>,
    /// New facts: `(hostname, kernel, release, architecture, JSON)`.
    pub facts: Option<(String, String, String, String, String)>,
}

const HOST_SELECT: &str = "SELECT h.*, i.name AS idc_name, i.description AS idc_description, \
     r.id AS region_id, r.name AS region_name, r.description AS region_description, \
     t.name AS type_name, t.description AS type_description, \
     a.id AS a_id, a.version AS a_version, a.secret_sealed AS a_secret_sealed, \
     a.install_home AS a_install_home, a.log_home AS a_log_home, a.status AS a_status, \
     a.manager_running AS a_manager_running, a.last_heartbeat AS a_last_heartbeat, \
     a.last_available_time AS a_last_available_time, a.create_time AS a_create_time, \
     a.update_time AS a_update_time \
     FROM compute_host h \
     JOIN compute_idc i ON i.id = h.idc_id \
     JOIN compute_region r ON r.id = i.region_id \
     JOIN compute_host_type t ON t.id = h.type_id \
     LEFT JOIN host_agent a ON a.host_id = h.id";

fn host_from_row(row: &AnyRow) -> Result<HostRecord> {
    let id: i64 = row.try_get("id")?;
    let agent_id: Option<i64> = row.try_get("a_id")?;
    let agent = match agent_id {
        Some(agent_id) => Some(AgentRecord {
            id: agent_id,
            host_id: id,
            version: row.try_get("a_version")?,
            secret_sealed: row.try_get("a_secret_sealed")?,
            install_home: row.try_get("a_install_home")?,
            log_home: row.try_get("a_log_home")?,
            status: enum_field(row, "a_status", HostAgentStatus::parse)?,
            manager_running: row.try_get::<i64, _>("a_manager_running")? != 0,
            last_heartbeat: row.try_get("a_last_heartbeat")?,
            last_available_time: row.try_get("a_last_available_time")?,
            create_time: row.try_get("a_create_time")?,
            update_time: row.try_get("a_update_time")?,
        }),
        None => None,
    };
    Ok(HostRecord {
        id,
        name: row.try_get("name")?,
        alias: row.try_get("alias")?,
        description: row.try_get("description")?,
        inner_ip_address: row.try_get("inner_ip_address")?,
        ssh_port: row.try_get("ssh_port")?,
        kind: enum_field(row, "kind", HostKind::parse)?,
        publish_ports: row.try_get("publish_ports")?,
        serial_number: row.try_get("serial_number")?,
        status: enum_field(row, "status", HostStatus::parse)?,
        operating_system: row.try_get("operating_system")?,
        operating_system_release: row.try_get("operating_system_release")?,
        architecture: row.try_get("architecture")?,
        facts: row.try_get("facts")?,
        agent_port: row.try_get("agent_port")?,
        idc_id: row.try_get("idc_id")?,
        idc_name: row.try_get("idc_name")?,
        idc_description: row.try_get("idc_description")?,
        region_id: row.try_get("region_id")?,
        region_name: row.try_get("region_name")?,
        region_description: row.try_get("region_description")?,
        type_id: row.try_get("type_id")?,
        type_name: row.try_get("type_name")?,
        type_description: row.try_get("type_description")?,
        agent,
        create_time: row.try_get("create_time")?,
        update_time: row.try_get("update_time")?,
    })
}

fn process_from_row(row: &AnyRow) -> Result<AgentProcessRecord> {
    Ok(AgentProcessRecord {
        id: row.try_get("id")?,
        host_id: row.try_get("host_id")?,
        alias: row.try_get("alias")?,
        report: row.try_get("report")?,
        last_active_time: row.try_get("last_active_time")?,
        create_time: row.try_get("create_time")?,
        update_time: row.try_get("update_time")?,
    })
}

pub(crate) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

impl Store {
    /// Registers hosts, all or none. Each starts NEW, without an agent.
    pub async fn create_hosts(&self, hosts: &[NewHost]) -> Result<Vec<i64>> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let now = now_millis();
        let mut ids = Vec::with_capacity(hosts.len());
        for host in hosts {
            let id: i64 = sqlx::query_scalar(&self.sql(
                "INSERT INTO compute_host (name, alias, description, inner_ip_address, ssh_port, \
                 kind, publish_ports, serial_number, idc_id, type_id, status, agent_port, \
                 create_time, update_time) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'NEW', ?, ?, ?) RETURNING id",
            ))
            .bind(&host.inner_ip_address)
            .bind(&host.alias)
            .bind(&host.description)
            .bind(&host.inner_ip_address)
            .bind(host.ssh_port)
            .bind(host.kind.as_str())
            .bind(&host.publish_ports)
            .bind(&host.serial_number)
            .bind(host.idc_id)
            .bind(host.type_id)
            .bind(host.agent_port)
            .bind(now)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| StoreError::from_unique(e, "host", &host.inner_ip_address))?;
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
    }

    pub async fn host(&self, id: i64) -> Result<HostRecord> {
        let text = format!("{HOST_SELECT} WHERE h.id = ?");
        let row = sqlx::query(&self.sql(&text))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                entity: "host",
                key: id.to_string(),
            })?;
        host_from_row(&row)
    }

    pub async fn host_by_address(&self, address: &str) -> Result<Option<HostRecord>> {
        let text = format!("{HOST_SELECT} WHERE h.inner_ip_address = ?");
        let row = sqlx::query(&self.sql(&text))
            .bind(address)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(host_from_row).transpose()
    }

    /// A page of hosts and the number that match.
    pub async fn hosts(&self, filter: &HostListFilter) -> Result<(Vec<HostRecord>, i64)> {
        let mut conditions = Vec::new();
        if !filter.statuses.is_empty() {
            conditions.push(format!(
                "h.status IN ({})",
                placeholders(filter.statuses.len())
            ));
        }
        if filter.keyword.is_some() {
            conditions.push(
                "(LOWER(h.name) LIKE ? OR LOWER(COALESCE(h.alias, '')) LIKE ? \
                 OR h.inner_ip_address LIKE ?)"
                    .to_string(),
            );
        }
        if filter.requires_service {
            conditions
                .push("EXISTS (SELECT 1 FROM ob_server s WHERE s.host_id = h.id)".to_string());
        }
        let clause = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        let column = match filter.sort_column.as_str() {
            "name" | "inner_ip_address" | "status" | "create_time" | "update_time" => {
                filter.sort_column.as_str()
            }
            _ => "id",
        };
        let dir = if filter.descending { "DESC" } else { "ASC" };
        let pattern = filter
            .keyword
            .as_ref()
            .map(|k| format!("%{}%", k.to_lowercase()));
        let list = format!("{HOST_SELECT}{clause} ORDER BY h.{column} {dir} LIMIT ? OFFSET ?");
        let count = format!("SELECT COUNT(*) FROM compute_host h{clause}");
        let (list, count) = (self.sql(&list), self.sql(&count));
        let mut list_query = sqlx::query(&list);
        let mut count_query = sqlx::query_scalar::<_, i64>(&count);
        for status in &filter.statuses {
            list_query = list_query.bind(status.as_str());
            count_query = count_query.bind(status.as_str());
        }
        if let Some(pattern) = &pattern {
            for _ in 0..3 {
                list_query = list_query.bind(pattern);
                count_query = count_query.bind(pattern);
            }
        }
        let rows = list_query
            .bind(filter.limit)
            .bind(filter.offset)
            .fetch_all(&self.pool)
            .await?;
        let total = count_query.fetch_one(&self.pool).await?;
        let hosts = rows.iter().map(host_from_row).collect::<Result<_>>()?;
        Ok((hosts, total))
    }

    /// How many hosts stand in an IDC (`idc = true`) or are of a host type.
    pub async fn hosts_using(&self, idc: bool, id: i64) -> Result<i64> {
        let column = if idc { "idc_id" } else { "type_id" };
        let text = format!("SELECT COUNT(*) FROM compute_host WHERE {column} = ?");
        Ok(sqlx::query_scalar(&self.sql(&text))
            .bind(id)
            .fetch_one(&self.pool)
            .await?)
    }

    /// Deletes hosts with their agents and processes, all or none.
    pub async fn delete_hosts(&self, ids: &[i64]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        for table in ["host_agent_process", "host_agent"] {
            let text = format!(
                "DELETE FROM {table} WHERE host_id IN ({})",
                placeholders(ids.len())
            );
            let text = self.sql(&text);
            let mut query = sqlx::query(&text);
            for id in ids {
                query = query.bind(id);
            }
            query.execute(&mut *tx).await?;
        }
        let text = format!(
            "DELETE FROM compute_host WHERE id IN ({})",
            placeholders(ids.len())
        );
        let text = self.sql(&text);
        let mut query = sqlx::query(&text);
        for id in ids {
            query = query.bind(id);
        }
        query.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn create_join_token(
        &self,
        token_hash: &str,
        idc_id: i64,
        type_id: i64,
        expire_time: i64,
        creator: &str,
    ) -> Result<i64> {
        let _w = self.writer().await;
        Ok(sqlx::query_scalar(&self.sql(
            "INSERT INTO agent_join_token (token_hash, idc_id, type_id, expire_time, creator, \
             create_time) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        ))
        .bind(token_hash)
        .bind(idc_id)
        .bind(type_id)
        .bind(expire_time)
        .bind(creator)
        .bind(now_millis())
        .fetch_all(&self.pool)
        .await
        .and_then(crate::first_row)?)
    }

    /// Spends a join token and gives the host at the agent's address an agent: the host
    /// registered there through the API, or a new one placed where the token says.
    /// Refused (`NotFound`) for an unknown, spent or expired token, and (`AlreadyExists`)
    /// when the host has an agent already.
    pub async fn join_agent(&self, token_hash: &str, agent: &JoiningAgent) -> Result<Joined> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let now = now_millis();
        let token = sqlx::query(&self.sql(
            "SELECT id, idc_id, type_id FROM agent_join_token \
             WHERE token_hash = ? AND used_time IS NULL AND expire_time > ?",
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound {
            entity: "join token",
            key: "(given)".into(),
        })?;
        let token_id: i64 = token.try_get("id")?;
        let existing: Option<(i64, Option<i64>)> = sqlx::query(&self.sql(
            "SELECT h.id, a.id AS agent_id FROM compute_host h \
             LEFT JOIN host_agent a ON a.host_id = h.id WHERE h.inner_ip_address = ?",
        ))
        .bind(&agent.inner_ip_address)
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| -> Result<_> { Ok((row.try_get("id")?, row.try_get("agent_id")?)) })
        .transpose()?;
        let (host_id, host_was_registered) = match existing {
            Some((_, Some(_))) => {
                return Err(StoreError::AlreadyExists {
                    entity: "agent of host",
                    key: agent.inner_ip_address.clone(),
                })
            }
            Some((id, None)) => {
                sqlx::query(&self.sql(
                    "UPDATE compute_host SET name = ?, operating_system = ?, \
                     operating_system_release = ?, architecture = ?, facts = ?, agent_port = ?, \
                     update_time = ? WHERE id = ?",
                ))
                .bind(&agent.hostname)
                .bind(&agent.operating_system)
                .bind(&agent.operating_system_release)
                .bind(&agent.architecture)
                .bind(&agent.facts)
                .bind(agent.port)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                (id, true)
            }
            None => {
                let id: i64 = sqlx::query_scalar(&self.sql(
                    "INSERT INTO compute_host (name, inner_ip_address, ssh_port, kind, idc_id, \
                     type_id, status, operating_system, operating_system_release, architecture, \
                     facts, agent_port, create_time, update_time) \
                     VALUES (?, ?, 22, 'DEDICATED_PHYSICAL_MACHINE', ?, ?, 'NEW', ?, ?, ?, ?, ?, \
                     ?, ?) RETURNING id",
                ))
                .bind(&agent.hostname)
                .bind(&agent.inner_ip_address)
                .bind(token.try_get::<i64, _>("idc_id")?)
                .bind(token.try_get::<i64, _>("type_id")?)
                .bind(&agent.operating_system)
                .bind(&agent.operating_system_release)
                .bind(&agent.architecture)
                .bind(&agent.facts)
                .bind(agent.port)
                .bind(now)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                (id, false)
            }
        };
        let agent_id: i64 = sqlx::query_scalar(&self.sql(
            "INSERT INTO host_agent (host_id, version, secret_sealed, install_home, log_home, \
             status, manager_running, create_time, update_time) \
             VALUES (?, ?, ?, ?, ?, 'OFFLINE', 0, ?, ?) RETURNING id",
        ))
        .bind(host_id)
        .bind(&agent.version)
        .bind(&agent.secret_sealed)
        .bind(&agent.install_home)
        .bind(&agent.log_home)
        .bind(now)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            &self.sql("UPDATE agent_join_token SET used_time = ?, host_id = ? WHERE id = ?"),
        )
        .bind(now)
        .bind(host_id)
        .bind(token_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Joined {
            host_id,
            agent_id,
            host_was_registered,
        })
    }

    /// Records a heartbeat. The agent's status follows its manager process unless a task
    /// holds it (RESTARTING, STOPPING); a host that was OFFLINE is AVAILABLE again. A host
    /// still NEW waits for its Prepare host task.
    pub async fn record_heartbeat(&self, host_id: i64, beat: &HeartbeatUpdate) -> Result<()> {
        self.record_heartbeats(&[(host_id, beat.clone())]).await
    }

    /// The heartbeats of many hosts in one transaction, a few statements for all: agents of
    /// the same version and state are updated together, and their processes' reports
    /// written in multi-row upserts.
    pub async fn record_heartbeats(&self, beats: &[(i64, HeartbeatUpdate)]) -> Result<()> {
        const CHUNK: usize = 400;
        let now = now_millis();
        let mut alike: std::collections::BTreeMap<(&str, bool), Vec<i64>> = Default::default();
        let mut processes: std::collections::BTreeMap<(i64, &str), &str> = Default::default();
        // A host heard twice in a batch: its latest heartbeat stands.
        let latest: std::collections::HashMap<i64, &HeartbeatUpdate> = beats
            .iter()
            .map(|(host_id, beat)| (*host_id, beat))
            .collect();
        for (host_id, beat) in &latest {
            alike
                .entry((beat.version.as_str(), beat.manager_running))
                .or_default()
                .push(*host_id);
        }
        for (host_id, beat) in beats {
            for (alias, report) in &beat.processes {
                processes.insert((*host_id, alias.as_str()), report.as_str());
            }
        }
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        for ((version, running), hosts) in &alike {
            let derived = if *running { "AVAILABLE" } else { "OFFLINE" };
            for chunk in hosts.chunks(CHUNK) {
                let ids = vec!["?"; chunk.len()].join(", ");
                let sql = format!(
                    "UPDATE host_agent SET last_heartbeat = ?, version = ?, manager_running = ?, \
                     last_available_time = CASE WHEN ? = 1 THEN ? ELSE last_available_time END, \
                     status = CASE WHEN status IN ('AVAILABLE', 'OFFLINE') THEN ? ELSE status END, \
                     update_time = ? WHERE host_id IN ({ids})"
                );
                let sql = self.sql(&sql);
                let mut query = sqlx::query(&sql)
                    .bind(now)
                    .bind(*version)
                    .bind(i64::from(*running))
                    .bind(i64::from(*running))
                    .bind(now)
                    .bind(derived)
                    .bind(now);
                for id in chunk {
                    query = query.bind(id);
                }
                query.execute(&mut *tx).await?;
                let sql = format!(
                    "UPDATE compute_host SET status = 'AVAILABLE', update_time = ? \
                     WHERE id IN ({ids}) AND status = 'OFFLINE'"
                );
                let sql = self.sql(&sql);
                let mut query = sqlx::query(&sql).bind(now);
                for id in chunk {
                    query = query.bind(id);
                }
                query.execute(&mut *tx).await?;
            }
        }
        for (host_id, beat) in beats {
            let Some((hostname, kernel, release, arch, json)) = &beat.facts else {
                continue;
            };
            sqlx::query(&self.sql(
                "UPDATE compute_host SET name = ?, operating_system = ?, \
                 operating_system_release = ?, architecture = ?, facts = ?, update_time = ? \
                 WHERE id = ?",
            ))
            .bind(hostname)
            .bind(kernel)
            .bind(release)
            .bind(arch)
            .bind(json)
            .bind(now)
            .bind(host_id)
            .execute(&mut *tx)
            .await?;
        }
        let processes: Vec<_> = processes.into_iter().collect();
        for chunk in processes.chunks(CHUNK / 2) {
            let rows = vec!["(?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
            let sql = format!(
                "INSERT INTO host_agent_process (host_id, alias, report, last_active_time, \
                 create_time, update_time) VALUES {rows} \
                 ON CONFLICT (host_id, alias) DO UPDATE SET report = excluded.report, \
                 last_active_time = excluded.last_active_time, update_time = excluded.update_time"
            );
            let sql = self.sql(&sql);
            let mut query = sqlx::query(&sql);
            for ((host_id, alias), report) in chunk {
                query = query
                    .bind(*host_id)
                    .bind(*alias)
                    .bind(*report)
                    .bind(now)
                    .bind(now)
                    .bind(now);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Agents silent since `cutoff` go OFFLINE with their hosts; answers the hosts it moved.
    pub async fn mark_silent_agents_offline(&self, cutoff: i64) -> Result<Vec<i64>> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let now = now_millis();
        let silent: Vec<i64> = sqlx::query_scalar(&self.sql(
            "SELECT h.id FROM compute_host h JOIN host_agent a ON a.host_id = h.id \
             WHERE a.last_heartbeat < ? AND (a.status = 'AVAILABLE' \
             OR h.status IN ('AVAILABLE', 'ONLINE'))",
        ))
        .bind(cutoff)
        .fetch_all(&mut *tx)
        .await?;
        for id in &silent {
            sqlx::query(&self.sql(
                "UPDATE host_agent SET status = CASE WHEN status = 'AVAILABLE' THEN 'OFFLINE' \
                 ELSE status END, manager_running = 0, update_time = ? WHERE host_id = ?",
            ))
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(&self.sql(
                "UPDATE compute_host SET status = 'OFFLINE', update_time = ? \
                 WHERE id = ? AND status IN ('AVAILABLE', 'ONLINE')",
            ))
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(silent)
    }

    pub async fn set_host_status(&self, host_id: i64, status: HostStatus) -> Result<()> {
        self.set_status_column("compute_host", "id", host_id, status.as_str())
            .await
    }

    pub async fn set_agent_status(&self, host_id: i64, status: HostAgentStatus) -> Result<()> {
        self.set_status_column("host_agent", "host_id", host_id, status.as_str())
            .await
    }

    async fn set_status_column(&self, table: &str, key: &str, id: i64, status: &str) -> Result<()> {
        let _w = self.writer().await;
        let text = format!("UPDATE {table} SET status = ?, update_time = ? WHERE {key} = ?");
        sqlx::query(&self.sql(&text))
            .bind(status)
            .bind(now_millis())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The agent's processes as last reported, by id.
    pub async fn agent_processes(&self, host_id: i64) -> Result<Vec<AgentProcessRecord>> {
        let rows = sqlx::query(
            &self.sql("SELECT * FROM host_agent_process WHERE host_id = ? ORDER BY id"),
        )
        .bind(host_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(process_from_row).collect()
    }
}
