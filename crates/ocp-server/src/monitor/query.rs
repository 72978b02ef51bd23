//! Metric queries below the HTTP layer: the series of the asked metrics, filtered by labels,
//! bucketed by the database and averaged per group.

use std::collections::BTreeMap;

use ocp_store::Store;

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

pub async fn evaluate(store: &Store, q: &Query) -> Result<Grouped, Failure> {
    let mut groups: Vec<Vec<String>> = Vec::new();
    // Per series id: its group's index and its metric's index.
    let mut places: std::collections::HashMap<i64, (usize, usize)> = Default::default();
    for s in store.metric_series(&q.metrics).await? {
        let Ok(labels) = serde_json::from_str::<BTreeMap<String, String>>(&s.labels) else {
            continue;
        };
        let matches = |(k, v): &(String, String)| match label_value(&labels, k) {
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
            .map(|g| label_value(&labels, g).unwrap_or_default())
            .collect();
        let group = match groups.iter().position(|g| *g == key) {
            Some(i) => i,
            None => {
                groups.push(key);
                groups.len() - 1
            }
        };
        let metric = q.metrics.iter().position(|m| *m == s.metric).unwrap_or(0);
        places.insert(s.id, (group, metric));
    }
    let ids: Vec<i64> = places.keys().copied().collect();
    // Per series and bucket, the mean, from the database; then per group, bucket and metric,
    // the mean over the group's series.
    let means = store.metric_means(&ids, q.start, q.end, q.interval).await?;
    let mut sums: Vec<BTreeMap<i64, Vec<(f64, u32)>>> = vec![BTreeMap::new(); groups.len()];
    for (id, bucket, mean) in means {
        let (group, metric) = places[&id];
        let slots = sums[group]
            .entry(bucket)
            .or_insert_with(|| vec![(0.0, 0); q.metrics.len()]);
        slots[metric].0 += mean;
        slots[metric].1 += 1;
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
