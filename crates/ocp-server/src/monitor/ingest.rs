//! Metric ingest below the HTTP layer: a batch's points checked, labelled with the host they
//! come from (and the cluster of a database server's points), stored once, and marked fresh
//! for the alert engine.

use ocp_api::monitor::MetricBatch;
use ocp_api::sql::{SlowQuery, SqlStatDelta};
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
    metrics: &super::MetricsBackend,
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
    let names: std::collections::BTreeSet<String> =
        samples.iter().map(|s| s.metric.clone()).collect();
    let stored = metrics.write(samples).await?;
    fresh.mark(names.iter().map(String::as_str));
    let mut deltas = Vec::with_capacity(batch.sql_stats.len());
    for (i, d) in batch.sql_stats.iter().enumerate() {
        check_delta(i, d, now)?;
        let server = d.ob_server_id.to_string();
        // As for points: a server not (or no longer) on this host is dropped.
        if let Some((cluster, _)) = server_cluster(store, &mut clusters, host_id, &server).await? {
            deltas.push((cluster, d));
        }
    }
    let statements = store.ingest_sql_stats(&deltas).await?;
    let mut slow = Vec::with_capacity(batch.slow_queries.len());
    for (i, q) in batch.slow_queries.iter().enumerate() {
        check_slow(i, q, now)?;
        let server = q.ob_server_id.to_string();
        if let Some((cluster, _)) = server_cluster(store, &mut clusters, host_id, &server).await? {
            slow.push((cluster, q));
        }
    }
    let slow = store.ingest_slow_queries(&slow).await?;
    Ok(stored + statements + slow)
}

fn check_slow(i: usize, q: &SlowQuery, now: i64) -> Result<(), Failure> {
    let field = |name: &str| format!("slowQueries[{i}].{name}");
    if q.trace_id.is_empty() || q.trace_id.len() > 128 {
        return Err(Failure::field(&field("traceId"), "is not a trace id"));
    }
    if q.statement.len() > 8192 || q.client.len() > 128 {
        return Err(Failure::field(&field("statement"), "is too long"));
    }
    let seconds = q.request_time / 1000;
    if seconds > now + 300 || seconds < now - 30 * 24 * 3600 || q.elapsed_us < 0 {
        return Err(Failure::field(
            &field("requestTime"),
            "must be within the last 30 days (ms since the epoch)",
        ));
    }
    Ok(())
}

/// The longest statement text kept; longer ones are cut.
const MAX_SQL_TEXT: usize = 64 * 1024;

fn check_delta(i: usize, d: &SqlStatDelta, now: i64) -> Result<(), Failure> {
    let field = |name: &str| format!("sqlStats[{i}].{name}");
    let hex = |t: &str| !t.is_empty() && t.len() <= 64 && t.bytes().all(|b| b.is_ascii_hexdigit());
    if !hex(&d.sql_id) {
        return Err(Failure::field(&field("sqlId"), "is not a SQL id"));
    }
    if d.plan_hash.is_empty() || d.plan_hash.parse::<u64>().is_err() {
        return Err(Failure::field(
            &field("planHash"),
            "is not an unsigned 64-bit number",
        ));
    }
    if d.db_name.len() > 128 || d.user_name.len() > 128 {
        return Err(Failure::field(
            &field("dbName"),
            "names are 128 bytes at most",
        ));
    }
    if d.sql_text.as_ref().is_some_and(|t| t.len() > MAX_SQL_TEXT) {
        return Err(Failure::field(
            &field("sqlText"),
            format!("is longer than {MAX_SQL_TEXT} bytes"),
        ));
    }
    if d.counters.fields().iter().any(|v| *v < 0) {
        return Err(Failure::field(&field("counters"), "cannot be negative"));
    }
    if d.timestamp > now + 300 || d.timestamp < now - 30 * 24 * 3600 {
        return Err(Failure::field(
            &field("timestamp"),
            "must be within the last 30 days (seconds since the epoch)",
        ));
    }
    Ok(())
}

/// A metric name as Prometheus writes them.
pub fn valid_metric(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}
