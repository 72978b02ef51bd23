//! Metric queries below the HTTP layer: the series of the asked metrics, filtered by labels,
//! bucketed by the backend and averaged per group.

use std::collections::BTreeMap;

use super::backend::MetricsBackend;
use crate::error::Failure;

/// A checked metric query.
pub struct Query {
    pub start: i64,
    pub end: i64,
    pub metrics: Vec<String>,
    pub group_by: Vec<String>,
    pub interval: i64,
    pub labels: Vec<(String, String)>,
}

/// The labels a query may filter or group by: the ones series carry, and OCP's `app` (OB
/// for a database server's series, HOST for a host's), `obregion` and `ob_cluster_name`
/// (both the cluster's name).
pub const LABELS: &[&str] = &[
    "app",
    "host_id",
    "svr_ip",
    "svr_port",
    "ob_cluster",
    "ob_cluster_id",
    "ob_cluster_name",
    "obregion",
    "ob_server_id",
    "device",
    "mount",
    "process",
];

/// A series' value of a label, OCP's derived ones included.
fn label_value(labels: &BTreeMap<String, String>, name: &str) -> Option<String> {
    match name {
        "app" => Some(
            if labels.contains_key("ob_server_id") {
                "OB"
            } else {
                "HOST"
            }
            .into(),
        ),
        "obregion" | "ob_cluster_name" => labels.get("ob_cluster").cloned(),
        _ => labels.get(name).cloned(),
    }
}

/// Per group (its label values): per bucket start, the value of each asked metric (in the
/// order asked), if it has one.
pub type Grouped = BTreeMap<Vec<String>, BTreeMap<i64, Vec<Option<f64>>>>;

pub async fn evaluate(metrics: &MetricsBackend, q: &Query) -> Result<Grouped, Failure> {
    // The backend filters by the labels series carry (OCP's cluster names are the
    // `ob_cluster` label); `app` is told from the labels here.
    let stored: Vec<(String, String)> = q
        .labels
        .iter()
        .filter(|(k, _)| k != "app")
        .map(|(k, v)| match k.as_str() {
            "obregion" | "ob_cluster_name" => ("ob_cluster".to_string(), v.clone()),
            _ => (k.clone(), v.clone()),
        })
        .collect();
    let series = metrics
        .bucket_means(&q.metrics, &stored, q.start, q.end, q.interval)
        .await?;
    let mut groups: Vec<Vec<String>> = Vec::new();
    // Per group, bucket and metric, the sum of the series' means and how many.
    let mut sums: Vec<BTreeMap<i64, Vec<(f64, u32)>>> = Vec::new();
    for s in series {
        let matches = |(k, v): &(String, String)| match label_value(&s.labels, k) {
            Some(value) if k == "app" => value.eq_ignore_ascii_case(v),
            Some(value) => value == *v,
            None => false,
        };
        if !q.labels.iter().all(matches) {
            continue;
        }
        let key: Vec<String> = q
            .group_by
            .iter()
            .map(|g| label_value(&s.labels, g).unwrap_or_default())
            .collect();
        let group = match groups.iter().position(|g| *g == key) {
            Some(i) => i,
            None => {
                groups.push(key);
                sums.push(BTreeMap::new());
                groups.len() - 1
            }
        };
        let metric = q.metrics.iter().position(|m| *m == s.metric).unwrap_or(0);
        for (bucket, mean) in s.points {
            let slots = sums[group]
                .entry(bucket)
                .or_insert_with(|| vec![(0.0, 0); q.metrics.len()]);
            slots[metric].0 += mean;
            slots[metric].1 += 1;
        }
    }
    Ok(groups
        .into_iter()
        .zip(sums)
        .map(|(key, buckets)| {
            let buckets = buckets
                .into_iter()
                .map(|(bucket, slots)| {
                    let values = slots
                        .into_iter()
                        .map(|(sum, n)| (n > 0).then(|| sum / f64::from(n)))
                        .collect();
                    (bucket, values)
                })
                .collect();
            (key, buckets)
        })
        .collect())
}
