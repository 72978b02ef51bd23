//! The status sync: every interval, each server that should run is asked for SQL. One that
//! does not answer goes UNAVAILABLE (and its cluster with it); one that answers again goes
//! back to RUNNING. Only RUNNING and UNAVAILABLE are touched, with compare-and-set updates,
//! so a status a task set meanwhile (STARTING, STOPPING, ...) is never overwritten.

use std::time::Duration;

use ocp_api::ob::{ClusterStatus, ServerStatus};
use ocp_ob::ObClient;

use crate::ob_access::ObAccess;

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

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

async fn sync_once(access: &ObAccess) -> Result<(), crate::http::Failure> {
    let running = ServerStatus::Running.as_str();
    let unavailable = ServerStatus::Unavailable.as_str();
    for server in access.store.all_servers().await? {
        if server.status != running && server.status != unavailable {
            continue;
        }
        let cluster = access.store.cluster(server.cluster_id).await?;
        let target = access.target(&cluster, &server)?;
        let answers = match ObClient::connect(&target, PROBE_TIMEOUT).await {
            Ok(mut client) => {
                let ok = client.ping().await.is_ok();
                client.close().await;
                ok
            }
            Err(_) => false,
        };
        let (from, to, cluster_from, cluster_to) = if answers {
            (
                unavailable,
                running,
                ClusterStatus::Unavailable,
                ClusterStatus::Running,
            )
        } else {
            (
                running,
                unavailable,
                ClusterStatus::Running,
                ClusterStatus::Unavailable,
            )
        };
        if access.store.swap_server_status(server.id, from, to).await? {
            tracing::warn!(
                cluster = cluster.name,
                server = target.address(),
                "server {from} -> {to}"
            );
            let others_fine = access
                .store
                .servers(server.cluster_id)
                .await?
                .iter()
                .all(|s| s.status == running);
            if !answers || others_fine {
                access
                    .store
                    .swap_cluster_status(cluster.id, cluster_from.as_str(), cluster_to.as_str())
                    .await?;
            }
        }
    }
    Ok(())
}
