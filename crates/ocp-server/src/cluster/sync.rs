//! The status sync: every interval, each server that should run is asked for SQL. One that
//! does not answer goes UNAVAILABLE (and its cluster with it); one that answers again goes
//! back to RUNNING; the cluster follows by the rule of [`super::status::derived`]. Only
//! RUNNING and UNAVAILABLE are touched, with compare-and-set updates, so a status a task set
//! meanwhile (STARTING, STOPPING, ...) is never overwritten. The fenced old primary of a
//! failover is probed whatever its status, and made read-only if it answers as a primary.

use std::time::Duration;

use ocp_api::ob::{ClusterStatus, ServerStatus};
use ocp_ob::ObClient;

use crate::cluster::access::ObAccess;

/// Stores `ob_connectable` (1 or 0) for the server, as OCP collects it itself for the
/// `ob_cannot_connected` alert.
async fn record_connectable(
    access: &ObAccess,
    cluster: &str,
    server: &ocp_store::ServerRecord,
    answers: bool,
) {
    let labels = std::collections::BTreeMap::from([
        ("host_id", server.host_id.to_string()),
        ("ob_cluster", cluster.to_string()),
        ("ob_cluster_id", server.cluster_id.to_string()),
        ("svr_ip", server.ip.clone()),
        ("svr_port", server.sql_port.to_string()),
    ]);
    let sample = ocp_store::NewSample {
        metric: "ob_connectable".into(),
        labels: serde_json::to_string(&labels).unwrap_or_default(),
        ts: ocp_store::now_millis() / 1000,
        value: if answers { 1.0 } else { 0.0 },
    };
    if let Err(e) = access.metrics.write(vec![sample]).await {
        tracing::warn!("storing ob_connectable: {}", e.message);
    }
}

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The old primary of a failover is fenced off; should its server be started again outside
/// the platform, it would take writes beside the new primary. Each sync that finds it
/// answering makes it read-only again (a standby that follows nothing).
async fn fence_if_back(
    access: &ObAccess,
    cluster: &ocp_store::ClusterRecord,
    server: &ocp_store::ServerRecord,
) {
    let Ok(target) = access.target(cluster, server) else {
        return;
    };
    let Ok(mut client) = ObClient::connect(&target, PROBE_TIMEOUT).await else {
        return;
    };
    match client.replica_stat().await {
        Ok(stat) if stat.role == "PRIMARY" => {
            let fenced = client.switchover_to_standby().await;
            tracing::warn!(
                cluster = cluster.name,
                server = target.address(),
                "the fenced old primary of a failover answers as a primary; made read-only: {:?}",
                fenced
            );
        }
        _ => {}
    }
    client.close().await;
}

pub async fn watch(access: ObAccess, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(e) = sync_once(&access).await {
            tracing::warn!("cluster status sync: {}", e.message);
        }
    }
}

async fn sync_once(access: &ObAccess) -> Result<(), crate::error::Failure> {
    let (running, unavailable) = (ServerStatus::Running, ServerStatus::Unavailable);
    let clusters = access.store.clusters().await?;
    for server in access.store.all_servers().await? {
        let Some(cluster) = clusters.iter().find(|c| c.id == server.cluster_id) else {
            continue;
        };
        if super::standby::is_fenced(cluster) {
            fence_if_back(access, cluster, &server).await;
            continue;
        }
        if server.status != running && server.status != unavailable {
            continue;
        }
        let target = access.target(cluster, &server)?;
        let answers = match ObClient::connect(&target, PROBE_TIMEOUT).await {
            Ok(mut client) => {
                let ok = client.ping().await.is_ok();
                client.close().await;
                ok
            }
            Err(_) => false,
        };
        record_connectable(access, &cluster.name, &server, answers).await;
        let (from, to) = if answers {
            (unavailable, running)
        } else {
            (running, unavailable)
        };
        if access.store.swap_server_status(server.id, from, to).await? {
            tracing::warn!(
                cluster = cluster.name,
                server = target.address(),
                "server {from} -> {to}"
            );
            let servers = access.store.servers(server.cluster_id).await?;
            let (_, derived) = super::status::derived(servers.iter().map(|s| s.status));
            let swap = match derived {
                ClusterStatus::Running => Some((ClusterStatus::Unavailable, derived)),
                ClusterStatus::Unavailable => Some((ClusterStatus::Running, derived)),
                _ => None,
            };
            if let Some((cluster_from, cluster_to)) = swap {
                access
                    .store
                    .swap_cluster_status(cluster.id, cluster_from, cluster_to)
                    .await?;
            }
        }
    }
    Ok(())
}
