//! Time series of the monitor: series (a metric and its labels) and their samples.

use std::collections::HashMap;

use sqlx::Row;

use crate::hosts::placeholders;
use crate::tsdb::{Chunk, Means, Tier, TierBlock, CHUNK_SECS, TIERS};
use crate::{Result, Store, StoreError};

mod pack;
pub use pack::pack_horizon;

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

/// Series ids by metric and labels: a series is never deleted, so its id is looked up once.
#[derive(Default)]
pub(crate) struct SeriesIds(std::sync::Mutex<HashMap<String, HashMap<String, i64>>>);

impl SeriesIds {
    /// More series than this and the cache starts afresh (they are all looked up again).
    const MAX: usize = 1_000_000;

    fn get(&self, metric: &str, labels: &str) -> Option<i64> {
        let ids = self.0.lock().unwrap_or_else(|e| e.into_inner());
        ids.get(metric)?.get(labels).copied()
    }

    fn put(&self, found: &[(&str, &str, i64)]) {
        let mut ids = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if ids.values().map(HashMap::len).sum::<usize>() + found.len() > Self::MAX {
            ids.clear();
        }
        for (metric, labels, id) in found {
            ids.entry(metric.to_string())
                .or_default()
                .insert(labels.to_string(), *id);
        }
    }
}

impl Store {
    /// Stores the points in the head in one transaction and answers how many were new to
    /// it: a point of a series and second already there is left as it is, so a resent
    /// batch adds nothing (and one resent after its hour was packed is merged once).
    pub async fn ingest_samples(&self, samples: &[NewSample]) -> Result<u64> {
        Ok(self.ingest_sample_batches(&[samples]).await?[0])
    }

    /// Several batches (of several agents) in one transaction: how many new points each
    /// brought.
    pub async fn ingest_sample_batches<B: AsRef<[NewSample]>>(
        &self,
        batches: &[B],
    ) -> Result<Vec<u64>> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let mut ids: HashMap<(&str, &str), i64> = HashMap::new();
        let mut found = Vec::new();
        for s in batches.iter().flat_map(|b| b.as_ref()) {
            let key = (s.metric.as_str(), s.labels.as_str());
            if ids.contains_key(&key) {
                continue;
            }
            if let Some(id) = self.series_ids.get(key.0, key.1) {
                ids.insert(key, id);
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
            found.push((key.0, key.1, id));
        }
        let mut stored = Vec::with_capacity(batches.len());
        for batch in batches {
            let mut new = 0;
            for chunk in batch.as_ref().chunks(CHUNK) {
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
                new += query.execute(&mut *tx).await?.rows_affected();
            }
            stored.push(new);
        }
        tx.commit().await?;
        // Only ids of a committed transaction: a series made in one rolled back is not.
        self.series_ids.put(&found);
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
    /// `(series, step start, mean)`, by series and time. A step that is a multiple of a
    /// tier's is served by the coarsest such tier (each bucket whole), where its blocks
    /// exist; the head adds what is not packed yet. Other steps read the raw chunks, and
    /// before the raw window the minute tier (each minute's mean at its start).
    pub async fn metric_means(
        &self,
        series: &[i64],
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<(i64, i64, f64)>> {
        let step = step.max(1);
        let bucket = |ts: i64| ts - ts.rem_euclid(step);
        let mut means = Means::default();
        let usable: Vec<Tier> = TIERS
            .iter()
            .rev()
            .filter(|t| step % t.step == 0)
            .copied()
            .collect();
        // Where raw chunks begin: read once, for the steps no tier serves.
        let raw_from: Option<i64> = if usable.is_empty() {
            Some(
                sqlx::query_scalar(&self.sql("SELECT raw_from FROM metric_pack WHERE id = 1"))
                    .fetch_one(&self.pool)
                    .await?,
            )
        } else {
            None
        };
        for ids in series.chunks(CHUNK) {
            // Per series, the tier blocks already served: a finer block inside one is not
            // read again.
            let mut served: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
            for tier in &usable {
                for (id, block_start, data) in
                    self.blocks_in_range(ids, Some(tier), start, end).await?
                {
                    let spans = served.entry(id).or_default();
                    if spans
                        .iter()
                        .any(|&(a, b)| a <= block_start && block_start < b)
                    {
                        continue;
                    }
                    spans.push((block_start, block_start + tier.span));
                    let block = TierBlock::decode(*tier, block_start, &data)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    for b in block
                        .buckets
                        .iter()
                        .filter(|b| b.at >= start && b.at <= end)
                    {
                        means.add(id, bucket(b.at), b.sum, b.count);
                    }
                }
            }
            if let Some(raw_from) = raw_from {
                self.add_raw(&mut means, ids, start, end, step, raw_from)
                    .await?;
            }
            self.add_head(&mut means, ids, start, end, step).await?;
        }
        Ok(means.means())
    }

    /// The packed rows of `ids` overlapping `start..=end`: tier blocks of `tier`, or raw
    /// chunks. `(series, block start, data)` by series and time.
    async fn blocks_in_range(
        &self,
        ids: &[i64],
        tier: Option<&Tier>,
        start: i64,
        end: i64,
    ) -> Result<Vec<(i64, i64, Vec<u8>)>> {
        let (table, step, span) = match tier {
            Some(t) => ("metric_tier", " AND step = ?", t.span),
            None => ("metric_chunk", "", CHUNK_SECS),
        };
        let text = format!(
            "SELECT series_id, start, data FROM {table} \
              WHERE series_id IN ({}){step} AND start > ? AND start <= ? \
              ORDER BY series_id, start",
            placeholders(ids.len())
        );
        let sql = self.sql(&text);
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id);
        }
        if let Some(t) = tier {
            query = query.bind(t.step);
        }
        let rows = query
            .bind(start - span)
            .bind(end)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    /// Raw points of the chunks in range; before the raw window (`raw_from`), the minute
    /// tier's means.
    async fn add_raw(
        &self,
        means: &mut Means,
        ids: &[i64],
        start: i64,
        end: i64,
        step: i64,
        raw_from: i64,
    ) -> Result<()> {
        let bucket = |ts: i64| ts - ts.rem_euclid(step);
        if start < raw_from {
            let minutes = TIERS[0];
            for (id, block_start, data) in self
                .blocks_in_range(ids, Some(&minutes), start, end)
                .await?
            {
                let block = TierBlock::decode(minutes, block_start, &data)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                for b in block.buckets.iter() {
                    if b.at >= start && b.at <= end && b.at < raw_from {
                        means.add(id, bucket(b.at), b.sum / b.count as f64, 1);
                    }
                }
            }
        }
        for (id, _, data) in self.blocks_in_range(ids, None, start, end).await? {
            let chunk = Chunk::decode(&data).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            for (ts, value) in chunk.ts.iter().zip(&chunk.values) {
                if *ts >= start && *ts <= end {
                    means.add(id, bucket(*ts), *value, 1);
                }
            }
        }
        Ok(())
    }

    /// The head's points in range: summed per bucket by the database for steps of a
    /// minute or more, which hold several points each.
    async fn add_head(
        &self,
        means: &mut Means,
        ids: &[i64],
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<()> {
        use futures::TryStreamExt as _;
        let marks = placeholders(ids.len());
        let text = if step >= 60 {
            format!(
                "SELECT series_id, ts - (ts % {step}) AS bucket, SUM(value), COUNT(*) \
                   FROM metric_sample WHERE series_id IN ({marks}) AND ts >= ? AND ts <= ? \
                  GROUP BY series_id, bucket"
            )
        } else {
            format!(
                "SELECT series_id, ts, value, CAST(1 AS BIGINT) FROM metric_sample \
                  WHERE series_id IN ({marks}) AND ts >= ? AND ts <= ? ORDER BY series_id, ts"
            )
        };
        let sql = self.sql(&text);
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id);
        }
        let mut rows = query.bind(start).bind(end).fetch(&self.pool);
        while let Some(row) = rows.try_next().await? {
            let (id, ts, sum, count): (i64, i64, f64, i64) = (
                row.try_get(0)?,
                row.try_get(1)?,
                row.try_get(2)?,
                row.try_get(3)?,
            );
            means.add(id, ts - ts.rem_euclid(step), sum, count as u64);
        }
        Ok(())
    }

    /// The bytes the monitor's tables and their indexes take in the metadb (pages in use on
    /// SQLite, relations with their TOAST on PostgreSQL), for the benchmark's bytes a point:
    /// `(packed, head)`, the series, chunks and tiers apart from the head.
    pub async fn metric_storage_bytes(&self) -> Result<(i64, i64)> {
        let mut sizes = [0i64; 2];
        for (i, tables) in [
            "'metric_series', 'metric_chunk', 'metric_tier'",
            "'metric_sample'",
        ]
        .iter()
        .enumerate()
        {
            let sql = match self.dialect {
                crate::Dialect::Sqlite => format!(
                    "SELECT CAST(COALESCE(SUM(d.pgsize), 0) AS BIGINT) FROM dbstat d \
                       JOIN sqlite_master m ON m.name = d.name WHERE m.tbl_name IN ({tables})"
                ),
                crate::Dialect::Postgres => format!(
                    "SELECT CAST(SUM(pg_total_relation_size(CAST(t AS regclass))) AS BIGINT) \
                       FROM unnest(ARRAY[{tables}]) AS t"
                ),
            };
            sizes[i] = sqlx::query_scalar(&sql).fetch_one(&self.pool).await?;
        }
        Ok((sizes[0], sizes[1]))
    }

    /// How many points the head holds (not packed yet).
    pub async fn metric_head_points(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM metric_sample")
            .fetch_one(&self.pool)
            .await?)
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
