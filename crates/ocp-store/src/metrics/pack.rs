//! The pack job's writes: the head's finished hours moved into chunks and tiers, and
//! retention.

use std::collections::{BTreeMap, HashMap};

use sqlx::Row;

use crate::tsdb::{chunk_of, Chunk, TierBlock, CHUNK_SECS, TIERS};
use crate::{Dialect, Result, Store, StoreError};

/// Series packed per transaction: the writer is held a short while at a time.
const WINDOW: i64 = 500;
/// Points packed per transaction at most.
const POINTS_PER_PACK: usize = 200_000;

/// Per (series, block start) the points of one window, by time.
type Blocks = BTreeMap<(i64, i64), Vec<(i64, f64)>>;

impl Store {
    /// Moves the head's points before `until` (seconds) into their series' chunks and
    /// tiers, a window of series per transaction; answers how many points were added (a
    /// point whose second a chunk already holds is dropped, so a batch resent after its
    /// hour was packed counts once). Points before the raw window are dropped: their
    /// buckets were counted when they first came.
    pub async fn pack_metrics(&self, until: i64) -> Result<u64> {
        self.pack_metrics_by(until, POINTS_PER_PACK).await
    }

    /// As [`Store::pack_metrics`], at most `per_transaction` points a transaction.
    pub async fn pack_metrics_by(&self, until: i64, per_transaction: usize) -> Result<u64> {
        let per_transaction = per_transaction.max(1);
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM metric_series")
            .fetch_one(&self.pool)
            .await?;
        let mut added = 0;
        let mut from = 0;
        while from <= last.unwrap_or(0) {
            // A window with more points than a transaction takes (a head filled before
            // this layout, or by a long pause of the job) is packed in several.
            loop {
                let (taken, new) = self
                    .pack_window(from, from + WINDOW, until, per_transaction)
                    .await?;
                added += new;
                if taken < per_transaction {
                    break;
                }
            }
            from += WINDOW;
        }
        Ok(added)
    }

    /// Where raw points start, the row locked on PostgreSQL (`FOR UPDATE`), where servers
    /// sharing the metadb pack and expire in turn.
    async fn lock_pack(&self, tx: &mut sqlx::Transaction<'static, sqlx::Any>) -> Result<i64> {
        let lock = match self.dialect {
            Dialect::Postgres => " FOR UPDATE",
            Dialect::Sqlite => "",
        };
        let sql = format!("SELECT raw_from FROM metric_pack WHERE id = 1{lock}");
        Ok(sqlx::query_scalar(&sql).fetch_one(&mut **tx).await?)
    }

    /// Packs the first `limit` points of the window's series before `until`; answers
    /// (points taken from the head, points new to the chunks).
    async fn pack_window(
        &self,
        from: i64,
        to: i64,
        until: i64,
        limit: usize,
    ) -> Result<(usize, u64)> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let raw_from = self.lock_pack(&mut tx).await?;
        // Deleted and answered in one statement: exactly the points read leave the head.
        let taken = sqlx::query(&self.sql(&format!(
            "DELETE FROM metric_sample WHERE (series_id, ts) IN \
               (SELECT series_id, ts FROM metric_sample \
                 WHERE series_id >= ? AND series_id < ? AND ts < ? \
                 ORDER BY series_id, ts LIMIT {limit}) \
             RETURNING series_id, ts, value"
        )))
        .bind(from)
        .bind(to)
        .bind(until)
        .fetch_all(&mut *tx)
        .await?;
        if taken.is_empty() {
            tx.commit().await?;
            return Ok((0, 0));
        }
        let mut chunks: Blocks = BTreeMap::new();
        for row in &taken {
            let (id, ts, value): (i64, i64, f64) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            if ts >= raw_from {
                chunks
                    .entry((id, chunk_of(ts)))
                    .or_default()
                    .push((ts, value));
            }
        }
        let mut existing = self
            .packed_rows(&mut tx, "metric_chunk", None, from, to, &chunks)
            .await?;
        let mut new_points: Blocks = BTreeMap::new();
        let mut rows = Vec::with_capacity(chunks.len());
        for ((id, start), mut points) in chunks {
            points.sort_by_key(|p| p.0);
            let mut chunk = match existing.remove(&(id, start)) {
                Some(data) => {
                    Chunk::decode(&data).map_err(|e| StoreError::Corrupt(e.to_string()))?
                }
                None => Chunk::default(),
            };
            let added = chunk.merge(&points);
            if added.is_empty() {
                continue;
            }
            rows.push((id, start, chunk.encode()));
            new_points.entry((id, start)).or_default().extend(added);
        }
        let added: usize = new_points.values().map(Vec::len).sum();
        self.put_packed(&mut tx, "metric_chunk", None, &rows)
            .await?;
        for tier in TIERS {
            let mut blocks: Blocks = BTreeMap::new();
            for ((id, start), points) in &new_points {
                blocks
                    .entry((*id, tier.block_of(*start)))
                    .or_default()
                    .extend_from_slice(points);
            }
            let mut existing = self
                .packed_rows(&mut tx, "metric_tier", Some(tier.step), from, to, &blocks)
                .await?;
            let mut rows = Vec::with_capacity(blocks.len());
            for ((id, start), points) in blocks {
                let mut block = match existing.remove(&(id, start)) {
                    Some(data) => TierBlock::decode(tier, start, &data)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    None => TierBlock::default(),
                };
                block.add(tier, &points);
                rows.push((id, start, block.encode(tier, start)));
            }
            self.put_packed(&mut tx, "metric_tier", Some(tier.step), &rows)
                .await?;
        }
        tx.commit().await?;
        Ok((taken.len(), added as u64))
    }

    /// The packed rows of `table` (of the tier of `step`) of the window's series, from the
    /// earliest block to the latest that `wanted` names, by (series, start).
    async fn packed_rows(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        table: &str,
        step: Option<i64>,
        from: i64,
        to: i64,
        wanted: &Blocks,
    ) -> Result<HashMap<(i64, i64), Vec<u8>>> {
        let (Some(first), Some(last)) = (
            wanted.keys().map(|k| k.1).min(),
            wanted.keys().map(|k| k.1).max(),
        ) else {
            return Ok(HashMap::new());
        };
        let tier = if step.is_some() { " AND step = ?" } else { "" };
        let text = format!(
            "SELECT series_id, start, data FROM {table} \
              WHERE series_id >= ? AND series_id < ? AND start >= ? AND start <= ?{tier}"
        );
        let sql = self.sql(&text);
        let mut query = sqlx::query(&sql).bind(from).bind(to).bind(first).bind(last);
        if let Some(step) = step {
            query = query.bind(step);
        }
        let mut found = HashMap::new();
        for row in query.fetch_all(&mut **tx).await? {
            let key: (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
            if wanted.contains_key(&key) {
                found.insert(key, row.try_get(2)?);
            }
        }
        Ok(found)
    }

    /// Writes packed rows, replacing those of the same series and start (and step).
    async fn put_packed(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        table: &str,
        step: Option<i64>,
        rows: &[(i64, i64, Vec<u8>)],
    ) -> Result<()> {
        const ROWS: usize = 200;
        for part in rows.chunks(ROWS) {
            let (columns, key, mark) = match step {
                Some(_) => (
                    "series_id, step, start, data",
                    "series_id, step, start",
                    "(?, ?, ?, ?)",
                ),
                None => ("series_id, start, data", "series_id, start", "(?, ?, ?)"),
            };
            let text = format!(
                "INSERT INTO {table} ({columns}) VALUES {} \
                 ON CONFLICT ({key}) DO UPDATE SET data = excluded.data",
                vec![mark; part.len()].join(", ")
            );
            let sql = self.sql(&text);
            let mut query = sqlx::query(&sql);
            for (id, start, data) in part {
                query = query.bind(id);
                if let Some(step) = step {
                    query = query.bind(step);
                }
                query = query.bind(start).bind(data.as_slice());
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Retention: raw chunks wholly before `raw_before` go (and the raw window then starts
    /// at the first chunk kept), tier blocks wholly before `drop_before` go, and head
    /// points before it. Chunks never outlive the tiers. Answers `(chunks, tier rows)`
    /// removed.
    pub async fn expire_metrics(&self, raw_before: i64, drop_before: i64) -> Result<(u64, u64)> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let raw_from = self.lock_pack(&mut tx).await?;
        let bound = chunk_of(raw_before.max(drop_before));
        let chunks = sqlx::query(&self.sql("DELETE FROM metric_chunk WHERE start < ?"))
            .bind(bound)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let mut tiers = 0;
        for tier in TIERS {
            tiers += sqlx::query(&self.sql("DELETE FROM metric_tier WHERE step = ? AND start < ?"))
                .bind(tier.step)
                .bind(tier.block_of(drop_before))
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        sqlx::query(&self.sql("DELETE FROM metric_sample WHERE ts < ?"))
            .bind(drop_before)
            .execute(&mut *tx)
            .await?;
        if bound > raw_from {
            sqlx::query(&self.sql("UPDATE metric_pack SET raw_from = ? WHERE id = 1"))
                .bind(bound)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok((chunks, tiers))
    }
}

/// The end of the last whole hour before `now` less `lag` seconds: what the pack job packs.
pub fn pack_horizon(now: i64, lag: i64) -> i64 {
    (now - lag) - (now - lag).rem_euclid(CHUNK_SECS)
}
