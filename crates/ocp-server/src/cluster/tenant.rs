//! The tenant of a seekdb cluster: what the metadb says of it (for lists), what its server
//! adds (details, units, parameters), and the changes it takes (its root's password, its
//! whitelist, its variables).

use ocp_api::ob::{ClusterStatus, ValueRange};
use ocp_api::obdb::SYS_TENANT_ID;
use ocp_api::tenant::{
    ResourcePool, SetTenantParameter, Tenant, TenantDetail, TenantParameter, TenantUnit,
    TenantZone, UnitConfig,
};
use ocp_api::{ErrorCode, Timestamp};
use ocp_ob::{ObClient, ServerStat, VariableRow};
use ocp_store::{ClusterRecord, ServerRecord, Store, ZoneRecord};

use crate::cluster::access::{ob_failure, refused_value, ObAccess};
use crate::error::Failure;

/// The sys tenant's one resource pool.
const POOL_ID: i64 = 1;

/// The cluster whose sys tenant (seekdb's only one) `tenant` is; any other tenant id is not
/// found.
pub async fn sys_tenant(
    store: &Store,
    cluster_id: i64,
    tenant: i64,
) -> Result<ClusterRecord, Failure> {
    let cluster = store.cluster(cluster_id).await?;
    if tenant != SYS_TENANT_ID {
        return Err(Failure::not_found("tenant", tenant));
    }
    Ok(cluster)
}

/// The tenant as the metadb describes it: its lists need no connection to the server.
pub fn tenant_of(cluster: &ClusterRecord, zones: &[ZoneRecord]) -> Tenant {
    let names: Vec<&str> = zones.iter().map(|z| z.name.as_str()).collect();
    let status = match cluster.status {
        ClusterStatus::Creating | ClusterStatus::TakingOver => "CREATING",
        ClusterStatus::Deleting => "DELETING",
        ClusterStatus::Upgrading | ClusterStatus::Operating => "MODIFYING",
        _ => "NORMAL",
    };
    Tenant {
        id: SYS_TENANT_ID,
        cluster_id: cluster.id,
        cluster_name: cluster.name.clone(),
        cluster_type: cluster.cluster_type,
        ob_cluster_id: cluster.id,
        ob_tenant_id: 1,
        name: "sys".into(),
        mode: "MYSQL".into(),
        create_time: Timestamp::from_millis(cluster.create_time),
        primary_zone: names.join(";"),
        zone_list: names.join(";"),
        locality: names
            .iter()
            .map(|z| format!("FULL{{1}}@{z}"))
            .collect::<Vec<_>>()
            .join(", "),
        status: status.into(),
        locked: false,
        readonly: false,
        ob_version: cluster.ob_version.clone(),
        description: None,
    }
}

/// The tenant's units: one per server, carrying the server's resources when `stat` (read from
/// that server) is given.
pub fn units(servers: &[ServerRecord], stat: Option<&ServerStat>) -> Vec<TenantUnit> {
    servers
        .iter()
        .map(|s| TenantUnit {
            id: s.id,
            resource_pool_id: POOL_ID,
            server_id: s.id,
            server_ip: s.ip.clone(),
            server_port: s.rpc_port,
            zone_name: s.zone_name.clone(),
            status: if stat.is_some() { "ACTIVE" } else { "INACTIVE" }.into(),
            cpu_core_count: stat.map(|t| t.cpu_capacity),
            memory_size: stat.map(|t| t.memory_limit),
            log_disk_size: stat.map(|t| t.log_disk_capacity),
            log_disk_in_use: stat.map(|t| t.log_disk_in_use),
            data_disk_size: stat.map(|t| t.data_disk_capacity),
            data_disk_in_use: stat.map(|t| t.data_disk_in_use),
        })
        .collect()
}

/// What the server says of itself, or nothing while it does not answer.
pub async fn server_stat(access: &ObAccess, cluster_id: i64) -> Option<(ServerStat, ObClient)> {
    let mut client = access.connect(cluster_id).await.ok()?;
    match client.server_stat().await {
        Ok(stat) => Some((stat, client)),
        Err(err) => {
            tracing::debug!(cluster_id, error = %err, "no server stat");
            client.close().await;
            None
        }
    }
}

/// The tenant's details: the metadb's view, with the server's settings and resources when
/// it answers (nulls otherwise).
pub async fn detail(access: &ObAccess, cluster: &ClusterRecord) -> Result<TenantDetail, Failure> {
    let zones = access.store.zones(cluster.id).await?;
    let servers = access.store.servers(cluster.id).await?;
    let mut tenant = tenant_of(cluster, &zones);
    let mut settings = None;
    let stat = match server_stat(access, cluster.id).await {
        Some((stat, mut client)) => {
            settings = client.tenant_settings().await.ok();
            client.close().await;
            Some(stat)
        }
        None => None,
    };
    tenant.readonly = settings.as_ref().is_some_and(|s| s.read_only);
    let gib = |bytes: i64| bytes >> 30;
    let config = UnitConfig {
        max_cpu_core_count: stat.as_ref().map(|s| s.cpu_capacity),
        min_cpu_core_count: stat.as_ref().map(|s| s.cpu_capacity),
        max_memory_size: stat.as_ref().map(|s| gib(s.memory_limit)),
        min_memory_size: stat.as_ref().map(|s| gib(s.memory_limit)),
    };
    let zones = zones
        .iter()
        .map(|z| {
            let here: Vec<ServerRecord> = servers
                .iter()
                .filter(|s| s.zone_id == z.id)
                .cloned()
                .collect();
            TenantZone {
                name: z.name.clone(),
                replica_type: "FULL".into(),
                resource_pool: ResourcePool {
                    id: POOL_ID,
                    name: "sys_pool".into(),
                    unit_count: here.len() as i64,
                    unit_config: config.clone(),
                },
                units: units(&here, stat.as_ref()),
            }
        })
        .collect();
    Ok(TenantDetail {
        tenant,
        cluster_status: cluster.status,
        charset: settings.as_ref().map(|s| s.charset.clone()),
        collation: settings.as_ref().map(|s| s.collation.clone()),
        whitelist: settings.map(|s| s.whitelist),
        sql_audit_enabled: false,
        zones,
    })
}

/// A system variable as a tenant parameter.
pub fn parameter_view(row: VariableRow) -> TenantParameter {
    let switch = matches!(row.value.as_str(), "ON" | "OFF");
    // The default as it would be shown: the current value's text when it is the default,
    // ON/OFF for a switch, the stored form otherwise.
    let default_value = row.default_value.map(|d| {
        if d == row.stored {
            row.value.clone()
        } else if switch {
            if d == "0" { "OFF" } else { "ON" }.to_string()
        } else {
            d
        }
    });
    let numeric = row.min_value.is_some() || row.max_value.is_some();
    let value_range = ValueRange {
        value_type: if switch {
            "ENUM"
        } else if numeric {
            "INT"
        } else {
            "STRING"
        }
        .into(),
        allowed_values: switch.then(|| "OFF,ON".to_string()),
        max_value: row.max_value,
        min_value: row.min_value,
    };
    TenantParameter {
        name: row.name,
        compatible_type: if row.oracle_only { "ORACLE" } else { "MYSQL" }.into(),
        readonly: row.readonly,
        default_value,
        current_value: row.value,
        description: row.info,
        value_range,
    }
}

/// Sets the tenant's variables: every change is checked (the variable exists, can be set,
/// and the value is a value) before any is made; the server checks the values.
pub async fn set_parameters(
    client: &mut ObClient,
    changes: &[SetTenantParameter],
) -> Result<(), Failure> {
    if changes.is_empty() {
        return Err(Failure::field("[]", "name at least one parameter"));
    }
    let variables = client.variables().await.map_err(ob_failure)?;
    for (i, change) in changes.iter().enumerate() {
        let field = format!("[{i}].name");
        ocp_ob::check_parameter_name(&field, &change.name).map_err(ob_failure)?;
        let Some(variable) = variables.iter().find(|v| v.name == change.name) else {
            return Err(Failure::field(
                &field,
                format!("the tenant has no parameter {}", change.name),
            ));
        };
        if variable.readonly || variable.oracle_only {
            return Err(Failure::new(
                ErrorCode::IllegalArgument,
                format!("{} cannot be changed on this tenant", change.name),
            )
            .with_field(&field));
        }
        if change.value.chars().any(char::is_control) || change.value.len() > 4096 {
            return Err(Failure::field(&format!("[{i}].value"), "must be a value"));
        }
    }
    for (i, change) in changes.iter().enumerate() {
        client
            .set_variable(&change.name, &change.value)
            .await
            .map_err(|e| refused_value(e, &change.name, &change.value, &format!("[{i}].value")))?;
    }
    Ok(())
}

/// Changes the password of the user the platform manages the cluster as (the tenant's
/// administrator, root), then the sealed copy the platform keeps of it.
pub async fn change_root_password(
    access: &ObAccess,
    cluster: &ClusterRecord,
    password: &str,
) -> Result<(), Failure> {
    let sealed = access.vault.seal(password)?;
    let mut client = access.connect(cluster.id).await?;
    let done = client.set_password(&cluster.root_user, password).await;
    client.close().await;
    done.map_err(ob_failure)?;
    access
        .store
        .set_cluster_password(cluster.id, &sealed)
        .await?;
    // A standby has its primary's users: the new password reaches it with the log.
    for standby in crate::cluster::standby::standbys_of(&access.store, cluster.id).await? {
        access
            .store
            .set_cluster_password(standby.id, &sealed)
            .await?;
    }
    Ok(())
}

/// Sets the addresses the tenant admits over TCP. A whitelist that would shut the platform
/// out (a new connection from it is refused) is put back as it was, and refused.
pub async fn modify_whitelist(
    access: &ObAccess,
    cluster: &ClusterRecord,
    whitelist: &str,
) -> Result<(), Failure> {
    ocp_ob::check_whitelist("whitelist", whitelist).map_err(ob_failure)?;
    let mut client = access.connect(cluster.id).await?;
    let result = async {
        let before = client
            .tenant_settings()
            .await
            .map_err(ob_failure)?
            .whitelist;
        let platform = client.client_ip().await.map_err(ob_failure)?;
        client
            .set_variable("ob_tcp_invited_nodes", whitelist)
            .await
            .map_err(|e| match e {
                ocp_ob::ObError::Refused { message, .. } => {
                    Failure::field("whitelist", format!("the server refused it: {message}"))
                }
                other => ob_failure(other),
            })?;
        match access.connect(cluster.id).await {
            Ok(check) => {
                check.close().await;
                Ok(())
            }
            Err(_) => {
                client
                    .set_variable("ob_tcp_invited_nodes", &before)
                    .await
                    .map_err(ob_failure)?;
                Err(Failure::field(
                    "whitelist",
                    format!(
                        "it would shut the platform out: the server sees it connect from \
                         {platform}; add that address (loopback and the server's unix socket \
                         are always admitted by seekdb)"
                    ),
                ))
            }
        }
    }
    .await;
    client.close().await;
    result
}
