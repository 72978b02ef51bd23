//! Metric ingest below the HTTP layer: a batch's points checked, labelled with the host they
//! come from (and the cluster of a database server's points), stored once, and marked fresh
//! for the alert engine.

use ocp_api::monitor::MetricBatch;
use ocp_store::{NewSample, Store};

use crate::alarm::Fresh;
use crate::error::Failure;

/// The cluster (id, name) of a database server on `host_id`, looked up once a batch.
async fn server_cluster(
    store: &Store,
    seen: &mut std::collections::HashMap<String, Option<(i64, String)>>,
    host_id: i64,
    server: &str,
) -> Result<Option<(i64, String)>, Failure> {
    if let Some(known) = seen.get(server) {
        return Ok(known.clone());
    }
    let found = match server.parse::<i64>() {
        Ok(id) => match store.server(id).await {
            Ok(s) if s.host_id == host_id => {
                let cluster = store.cluster(s.cluster_id).await?;
                Some((cluster.id, cluster.name))
            }
            _ => None,
        },
        Err(_) => None,
    };
    seen.insert(server.to_string(), found.clone());
    Ok(found)
}

/// Stores the points of `batch` from `host_id`; answers how many were new. The host's id and
/// address label every point, whatever the batch says.
pub async fn store_batch(
    store: &Store,
    fresh: &Fresh,
    host_id: i64,
    batch: &MetricBatch,
) -> Result<u64, Failure> {
    let host = store.host(host_id).await?;
    let now = chrono::Utc::now().timestamp();
    let mut clusters = std::collections::HashMap::new();
    let mut samples = Vec::with_capacity(batch.points.len());
    for (i, p) in batch.points.iter().enumerate() {
        if !valid_metric(&p.metric) {
            return Err(Failure::field(
                &format!("points[{i}].metric"),
                "is not a metric name",
            ));
        }
        if !p.value.is_finite() {
            return Err(Failure::field(
                &format!("points[{i}].value"),
                "must be a finite number",
            ));
        }
        if p.timestamp > now + 300 || p.timestamp < now - 30 * 24 * 3600 {
            return Err(Failure::field(
                &format!("points[{i}].timestamp"),
                "must be within the last 30 days (seconds since the epoch)",
            ));
        }
        let mut labels = p.labels.clone();
        labels.insert("host_id".into(), host_id.to_string());
        labels.insert("svr_ip".into(), host.inner_ip_address.clone());
        if let Some(server) = labels.get("ob_server_id").cloned() {
            // A server deleted since (or not on this host) is no longer monitored: its
            // points are dropped, so the rest of the batch still lands.
            let Some(cluster) = server_cluster(store, &mut clusters, host_id, &server).await?
            else {
                continue;
            };
            labels.insert("ob_cluster".into(), cluster.1);
            labels.insert("ob_cluster_id".into(), cluster.0.to_string());
        }
        samples.push(NewSample {
            metric: p.metric.clone(),
            labels: serde_json::to_string(&labels).map_err(Failure::internal)?,
            ts: p.timestamp,
            value: p.value,
        });
    }
    let stored = store.ingest_samples(&samples).await?;
    fresh.mark(samples.iter().map(|s| s.metric.as_str()));
    Ok(stored)
}

/// A metric name as Prometheus writes them.
pub fn valid_metric(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}
