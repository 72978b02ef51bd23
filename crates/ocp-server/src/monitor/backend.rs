//! Where the monitor's points are kept and read: the metadb's own packed store (the
//! default), or a Prometheus (`--metrics-backend prometheus`) for installs that outgrow it.
//! Ingest, the monitor queries and the alert engine see only this.

use std::collections::BTreeMap;
use std::sync::Arc;

use ocp_store::{NewSample, Store};

use super::prometheus::{Answered, Prometheus};
use crate::coalesce::Coalescer;
use crate::error::Failure;

#[derive(Clone)]
pub enum MetricsBackend {
    /// The metadb, and the writer that commits many agents' batches together.
    Embedded(Store, Coalescer<Vec<NewSample>, u64>),
    Prometheus(Arc<Prometheus>),
}

/// The most agents' batches one transaction of the embedded store takes.
const BATCHES_A_WRITE: usize = 64;

/// One series of a metric and the mean of its points in each bucket.
#[derive(Debug, Clone)]
pub struct SeriesMeans {
    pub metric: String,
    pub labels: BTreeMap<String, String>,
    pub points: Vec<(i64, f64)>,
}

impl MetricsBackend {
    /// The metadb's own store. Needs a Tokio runtime: it starts the batch writer.
    pub fn embedded(store: Store) -> Self {
        let writer = {
            let store = store.clone();
            Coalescer::spawn(BATCHES_A_WRITE, move |batches: Vec<Vec<NewSample>>| {
                let store = store.clone();
                async move { Ok(store.ingest_sample_batches(&batches).await?) }
            })
        };
        Self::Embedded(store, writer)
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Embedded(..) => "embedded",
            Self::Prometheus(_) => "prometheus",
        }
    }

    /// Stores the points; answers how many were new (Prometheus: how many it took).
    pub async fn write(&self, samples: Vec<NewSample>) -> Result<u64, Failure> {
        match self {
            Self::Embedded(_, writer) => writer.submit(samples).await,
            Self::Prometheus(p) => p.write(&samples).await,
        }
    }

    /// Per series of `metrics` whose labels equal `labels`, the mean of its points per
    /// `step` bucket of `start..=end` (buckets from multiples of `step`), by time.
    pub async fn bucket_means(
        &self,
        metrics: &[String],
        labels: &[(String, String)],
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<SeriesMeans>, Failure> {
        match self {
            Self::Embedded(store, _) => {
                let mut wanted = std::collections::HashMap::new();
                for s in store.metric_series(metrics).await? {
                    let Ok(found) = serde_json::from_str::<BTreeMap<String, String>>(&s.labels)
                    else {
                        continue;
                    };
                    if labels.iter().all(|(k, v)| found.get(k) == Some(v)) {
                        wanted.insert(
                            s.id,
                            SeriesMeans {
                                metric: s.metric,
                                labels: found,
                                points: Vec::new(),
                            },
                        );
                    }
                }
                let ids: Vec<i64> = wanted.keys().copied().collect();
                for (id, bucket, mean) in store.metric_means(&ids, start, end, step).await? {
                    if let Some(s) = wanted.get_mut(&id) {
                        s.points.push((bucket, mean));
                    }
                }
                let mut all: Vec<SeriesMeans> = wanted.into_values().collect();
                all.retain(|s| !s.points.is_empty());
                all.sort_by(|a, b| (&a.metric, &a.labels).cmp(&(&b.metric, &b.labels)));
                Ok(all)
            }
            Self::Prometheus(p) => {
                let asked = metrics
                    .iter()
                    .map(|m| p.bucket_means(m, labels, start, end, step));
                let answers = futures::future::try_join_all(asked).await?;
                Ok(metrics
                    .iter()
                    .zip(answers)
                    .flat_map(|(metric, series)| {
                        series
                            .into_iter()
                            .map(|Answered { labels, points }| SeriesMeans {
                                metric: metric.clone(),
                                labels,
                                points,
                            })
                    })
                    .filter(|s| !s.points.is_empty())
                    .collect())
            }
        }
    }

    /// Whether any series of `metric` was ever stored.
    pub async fn knows(&self, metric: &str) -> Result<bool, Failure> {
        match self {
            Self::Embedded(store, _) => Ok(!store
                .metric_series(std::slice::from_ref(&metric.to_string()))
                .await?
                .is_empty()),
            Self::Prometheus(p) => p.knows(metric).await,
        }
    }
}
