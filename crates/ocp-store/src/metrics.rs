//! Time series of the monitor: series (a metric and its labels) and their samples.

use std::collections::HashMap;

use sqlx::Row;

use crate::hosts::placeholders;
use crate::{Result, Store};

/// One point to store: a metric, its labels as canonical JSON (keys sorted), the second and
/// the value.
#[derive(Debug, Clone)]
pub struct NewSample {
    pub metric: String,
    pub labels: String,
    pub ts: i64,
    pub value: f64,
}

/// A stored series.
#[derive(Debug, Clone)]
pub struct SeriesRecord {
    pub id: i64,
    pub metric: String,
    pub labels: String,
}

/// Rows per multi-row insert.
const CHUNK: usize = 300;

/// Query steps from this many seconds up are averaged by the database.
const GROUP_IN_DATABASE: i64 = 60;

impl Store {
    /// Stores the points in one transaction and answers how many were new: a point of a
    /// series and second already stored is left as it is, so a resent batch adds nothing.
    pub async fn ingest_samples(&self, samples: &[NewSample]) -> Result<u64> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let mut ids: HashMap<(&str, &str), i64> = HashMap::new();
        for s in samples {
            let key = (s.metric.as_str(), s.labels.as_str());
            if ids.contains_key(&key) {
                continue;
            }
            sqlx::query(&self.sql(
                "INSERT INTO metric_series (metric, labels) VALUES (?, ?) \
                 ON CONFLICT (metric, labels) DO NOTHING",
            ))
            .bind(&s.metric)
            .bind(&s.labels)
            .execute(&mut *tx)
            .await?;
            let id: i64 = sqlx::query_scalar(
                &self.sql("SELECT id FROM metric_series WHERE metric = ? AND labels = ?"),
            )
            .bind(&s.metric)
            .bind(&s.labels)
            .fetch_one(&mut *tx)
            .await?;
            ids.insert(key, id);
        }
        let mut stored = 0;
        for chunk in samples.chunks(CHUNK) {
            let values = vec!["(?, ?, ?)"; chunk.len()].join(", ");
            let text = format!(
                "INSERT INTO metric_sample (series_id, ts, value) VALUES {values} \
                 ON CONFLICT (series_id, ts) DO NOTHING"
            );
            let sql = self.sql(&text);
            let mut query = sqlx::query(&sql);
            for s in chunk {
                query = query
                    .bind(ids[&(s.metric.as_str(), s.labels.as_str())])
                    .bind(s.ts)
                    .bind(s.value);
            }
            stored += query.execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(stored)
    }

    /// The series of the named metrics.
    pub async fn metric_series(&self, metrics: &[String]) -> Result<Vec<SeriesRecord>> {
        if metrics.is_empty() {
            return Ok(Vec::new());
        }
        let marks = placeholders(metrics.len());
        let text = format!(
            "SELECT id, metric, labels FROM metric_series WHERE metric IN ({marks}) ORDER BY id"
        );
        let sql = self.sql(&text);
        let mut query = sqlx::query(&sql);
        for m in metrics {
            query = query.bind(m);
        }
        query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(SeriesRecord {
                    id: row.try_get(0)?,
                    metric: row.try_get(1)?,
                    labels: row.try_get(2)?,
                })
            })
            .collect()
    }

    /// The mean of each series per `step` seconds from `start` to `end` inclusive:
    /// `(series, step start, mean)`, by series and time. The samples are read in key order
    /// and folded as they come, which beats a GROUP BY (it sorts) when most steps hold one
    /// or two samples, as a query of about 1440 points does.
    pub async fn metric_means(
        &self,
        series: &[i64],
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<(i64, i64, f64)>> {
        use futures::TryStreamExt as _;
        let mut all = Vec::new();
        for chunk in series.chunks(CHUNK) {
            let marks = placeholders(chunk.len());
            // Steps of a minute or more hold several samples each: the database averages
            // them, so fewer rows come back; shorter steps are folded here.
            let text = if step >= GROUP_IN_DATABASE {
                format!(
                    "SELECT series_id, ts - (ts % {step}) AS bucket, AVG(value) FROM metric_sample \
                      WHERE series_id IN ({marks}) AND ts >= ? AND ts <= ? \
                      GROUP BY series_id, bucket ORDER BY series_id, bucket"
                )
            } else {
                format!(
                    "SELECT series_id, ts, value FROM metric_sample \
                      WHERE series_id IN ({marks}) AND ts >= ? AND ts <= ? ORDER BY series_id, ts"
                )
            };
            let sql = self.sql(&text);
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(id);
            }
            let mut rows = query.bind(start).bind(end).fetch(&self.pool);
            let mut current: Option<(i64, i64, f64, u32)> = None;
            while let Some(row) = rows.try_next().await? {
                let (id, ts, value): (i64, i64, f64) =
                    (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
                let bucket = ts - ts.rem_euclid(step);
                match &mut current {
                    Some((cid, cb, sum, n)) if *cid == id && *cb == bucket => {
                        *sum += value;
                        *n += 1;
                    }
                    _ => {
                        if let Some((cid, cb, sum, n)) = current.take() {
                            all.push((cid, cb, sum / f64::from(n)));
                        }
                        current = Some((id, bucket, value, 1));
                    }
                }
            }
            if let Some((cid, cb, sum, n)) = current {
                all.push((cid, cb, sum / f64::from(n)));
            }
        }
        Ok(all)
    }

    /// Keeps the time series small: samples before `drop_before` go, and those from the
    /// last rollup up to `raw_until` (both in seconds) become one sample per series and
    /// `step` seconds, their mean, at the start of the step. Steps already rolled up are not
    /// touched again. Answers `(rolled, dropped)`: raw samples replaced and samples deleted.
    pub async fn roll_up_metrics(
        &self,
        raw_until: i64,
        step: i64,
        drop_before: i64,
    ) -> Result<(u64, u64)> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let dropped = sqlx::query(&self.sql("DELETE FROM metric_sample WHERE ts < ?"))
            .bind(drop_before)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let from: i64 =
            sqlx::query_scalar(&self.sql("SELECT rolled_until FROM metric_rollup WHERE id = 1"))
                .fetch_one(&mut *tx)
                .await?;
        let until = raw_until - raw_until.rem_euclid(step);
        let from = from.max(drop_before - drop_before.rem_euclid(step));
        if until <= from {
            tx.commit().await?;
            return Ok((0, dropped));
        }
        let means: Vec<(i64, i64, f64)> = sqlx::query(&self.sql(
            "SELECT series_id, ts - (ts % ?) AS bucket, AVG(value) FROM metric_sample \
              WHERE ts >= ? AND ts < ? GROUP BY series_id, bucket",
        ))
        .bind(step)
        .bind(from)
        .bind(until)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
        .collect::<Result<_>>()?;
        let rolled = sqlx::query(&self.sql("DELETE FROM metric_sample WHERE ts >= ? AND ts < ?"))
            .bind(from)
            .bind(until)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        for chunk in means.chunks(CHUNK) {
            let values = vec!["(?, ?, ?)"; chunk.len()].join(", ");
            let text = format!("INSERT INTO metric_sample (series_id, ts, value) VALUES {values}");
            let sql = self.sql(&text);
            let mut query = sqlx::query(&sql);
            for (series, bucket, mean) in chunk {
                query = query.bind(series).bind(bucket).bind(mean);
            }
            query.execute(&mut *tx).await?;
        }
        sqlx::query(&self.sql("UPDATE metric_rollup SET rolled_until = ? WHERE id = 1"))
            .bind(until)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((rolled, dropped))
    }

    /// How many tasks, hosts, agents and clusters are in each status, and how many series
    /// the monitor keeps: `(what, status, count)`, for the server's Prometheus page.
    pub async fn platform_counts(&self) -> Result<Vec<(String, String, i64)>> {
        let rows = sqlx::query(
            "SELECT 'tasks', status, COUNT(*) FROM task_instance GROUP BY status \
             UNION ALL SELECT 'hosts', status, COUNT(*) FROM compute_host GROUP BY status \
             UNION ALL SELECT 'agents', status, COUNT(*) FROM host_agent GROUP BY status \
             UNION ALL SELECT 'clusters', status, COUNT(*) FROM ob_cluster GROUP BY status \
             UNION ALL SELECT 'metric_series', '', COUNT(*) FROM metric_series",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .collect()
    }
}
