//! The packed layout of the monitor's time series, apart from SQL: a series' raw points of
//! one hour in one chunk, and its per-bucket aggregates (count, sum, min, max) of 1 minute,
//! 5 minutes and 1 hour in tier blocks of 360 buckets. Numbers are compressed by pco
//! (delta and bit packing, with decimal and integer detection), each array behind its
//! length, so a chunk of points at 10 s costs a few hundred bytes.

use std::collections::BTreeMap;

/// The span of a raw chunk, seconds, from a multiple of it.
pub const CHUNK_SECS: i64 = 3600;

/// One pre-aggregated tier: buckets of `step` seconds, kept in blocks of `span` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    pub step: i64,
    pub span: i64,
}

/// The tiers, finest first. Each span is a multiple of the chunk's and of the finer tiers'
/// spans, so a chunk or a finer block lies inside exactly one block of each tier.
pub const TIERS: [Tier; 3] = [
    Tier {
        step: 60,
        span: 360 * 60,
    },
    Tier {
        step: 300,
        span: 360 * 300,
    },
    Tier {
        step: 3600,
        span: 360 * 3600,
    },
];

impl Tier {
    /// The start of the block holding `ts`.
    pub fn block_of(&self, ts: i64) -> i64 {
        ts - ts.rem_euclid(self.span)
    }
}

/// The start of the chunk holding `ts`.
pub fn chunk_of(ts: i64) -> i64 {
    ts - ts.rem_euclid(CHUNK_SECS)
}

/// pco's effort: level 4 packs these arrays within a few percent of its best (8) at about
/// half the time.
const LEVEL: usize = 4;

#[derive(Debug, thiserror::Error)]
#[error("a packed block does not decode: {0}")]
pub struct Corrupt(String);

fn put<T: pco::data_types::Number>(out: &mut Vec<u8>, nums: &[T]) {
    let packed = pco::standalone::simpler_compress(nums, LEVEL)
        .expect("pco compresses any array of numbers at a valid level");
    out.extend_from_slice(&(packed.len() as u32).to_le_bytes());
    out.extend_from_slice(&packed);
}

fn take<T: pco::data_types::Number>(bytes: &mut &[u8]) -> Result<Vec<T>, Corrupt> {
    let (len, rest) = bytes
        .split_first_chunk::<4>()
        .ok_or_else(|| Corrupt("truncated".into()))?;
    let len = u32::from_le_bytes(*len) as usize;
    if rest.len() < len {
        return Err(Corrupt("truncated".into()));
    }
    let (packed, rest) = rest.split_at(len);
    *bytes = rest;
    pco::standalone::simple_decompress(packed).map_err(|e| Corrupt(e.to_string()))
}

/// A series' raw points in one chunk, by time, one per second at most.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chunk {
    pub ts: Vec<i64>,
    pub values: Vec<f64>,
}

impl Chunk {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.ts.len() * 2);
        put(&mut out, &self.ts);
        put(&mut out, &self.values);
        out
    }

    pub fn decode(mut bytes: &[u8]) -> Result<Self, Corrupt> {
        let ts = take::<i64>(&mut bytes)?;
        let values = take::<f64>(&mut bytes)?;
        if ts.len() != values.len() {
            return Err(Corrupt("times and values differ in length".into()));
        }
        Ok(Self { ts, values })
    }

    /// Adds the points whose second the chunk does not hold yet (the first of several for
    /// one second) and answers them: what a resent point leaves unchanged.
    pub fn merge(&mut self, points: &[(i64, f64)]) -> Vec<(i64, f64)> {
        let mut all: BTreeMap<i64, f64> = self
            .ts
            .iter()
            .copied()
            .zip(self.values.iter().copied())
            .collect();
        let mut added = Vec::new();
        for &(ts, value) in points {
            if let std::collections::btree_map::Entry::Vacant(slot) = all.entry(ts) {
                slot.insert(value);
                added.push((ts, value));
            }
        }
        if !added.is_empty() {
            (self.ts, self.values) = all.into_iter().unzip();
        }
        added
    }
}

/// One bucket of a tier: how many points, their sum, least and greatest.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub at: i64,
    pub count: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
}

/// A series' buckets of one tier block, by time, the empty ones left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TierBlock {
    pub buckets: Vec<Bucket>,
}

impl TierBlock {
    /// Packed: the buckets' indexes in the block, then counts, sums, minimums and maximums.
    pub fn encode(&self, tier: Tier, start: i64) -> Vec<u8> {
        let b = &self.buckets;
        let mut out = Vec::with_capacity(64 + b.len() * 4);
        let slots: Vec<u32> = b
            .iter()
            .map(|x| ((x.at - start) / tier.step) as u32)
            .collect();
        put(&mut out, &slots);
        put(&mut out, &b.iter().map(|x| x.count).collect::<Vec<_>>());
        put(&mut out, &b.iter().map(|x| x.sum).collect::<Vec<_>>());
        put(&mut out, &b.iter().map(|x| x.min).collect::<Vec<_>>());
        put(&mut out, &b.iter().map(|x| x.max).collect::<Vec<_>>());
        out
    }

    pub fn decode(tier: Tier, start: i64, mut bytes: &[u8]) -> Result<Self, Corrupt> {
        let slots = take::<u32>(&mut bytes)?;
        let counts = take::<u64>(&mut bytes)?;
        let sums = take::<f64>(&mut bytes)?;
        let mins = take::<f64>(&mut bytes)?;
        let maxs = take::<f64>(&mut bytes)?;
        let n = slots.len();
        if [counts.len(), sums.len(), mins.len(), maxs.len()] != [n; 4] {
            return Err(Corrupt("tier arrays differ in length".into()));
        }
        let buckets = (0..n)
            .map(|i| Bucket {
                at: start + i64::from(slots[i]) * tier.step,
                count: counts[i],
                sum: sums[i],
                min: mins[i],
                max: maxs[i],
            })
            .collect();
        Ok(Self { buckets })
    }

    /// Folds points (of this block's span) into their buckets.
    pub fn add(&mut self, tier: Tier, points: &[(i64, f64)]) {
        let mut by_at: BTreeMap<i64, Bucket> = self.buckets.iter().map(|b| (b.at, *b)).collect();
        for &(ts, value) in points {
            let at = ts - ts.rem_euclid(tier.step);
            by_at
                .entry(at)
                .and_modify(|b| {
                    b.count += 1;
                    b.sum += value;
                    b.min = b.min.min(value);
                    b.max = b.max.max(value);
                })
                .or_insert(Bucket {
                    at,
                    count: 1,
                    sum: value,
                    min: value,
                    max: value,
                });
        }
        self.buckets = by_at.into_values().collect();
    }
}

/// Per series, the (bucket, sum, count) parts of a query's means as its sources give them;
/// `means` folds them.
#[derive(Debug, Default)]
pub struct Means {
    parts: std::collections::HashMap<i64, Vec<(i64, f64, u64)>>,
}

impl Means {
    pub fn add(&mut self, series: i64, bucket: i64, sum: f64, count: u64) {
        self.parts
            .entry(series)
            .or_default()
            .push((bucket, sum, count));
    }

    /// `(series, bucket, mean)` by series and time.
    pub fn means(self) -> Vec<(i64, i64, f64)> {
        let mut series: Vec<_> = self.parts.into_iter().collect();
        series.sort_unstable_by_key(|(id, _)| *id);
        let mut out = Vec::new();
        for (id, mut parts) in series {
            // The sources come mostly in time order: the stable sort finds the runs.
            parts.sort_by_key(|p| p.0);
            let mut current: Option<(i64, f64, u64)> = None;
            for (bucket, sum, count) in parts {
                match &mut current {
                    Some(c) if c.0 == bucket => {
                        c.1 += sum;
                        c.2 += count;
                    }
                    _ => {
                        if let Some((b, s, n)) = current.take() {
                            out.push((id, b, s / n as f64));
                        }
                        current = Some((bucket, sum, count));
                    }
                }
            }
            if let Some((b, s, n)) = current {
                out.push((id, b, s / n as f64));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_round_trips_and_merges_only_new_seconds() {
        let mut chunk = Chunk {
            ts: vec![0, 10, 20],
            values: vec![1.5, 2.25, 3.0],
        };
        assert_eq!(Chunk::decode(&chunk.encode()).unwrap(), chunk);
        let added = chunk.merge(&[(10, 9.0), (5, 4.0), (5, 8.0)]);
        assert_eq!(added, vec![(5, 4.0)]);
        assert_eq!(chunk.ts, vec![0, 5, 10, 20]);
        assert_eq!(chunk.values, vec![1.5, 4.0, 2.25, 3.0]);
        assert!(Chunk::decode(&[1, 0]).is_err());
        assert!(Chunk::decode(&[]).is_err());
    }

    #[test]
    fn a_tier_block_folds_points_into_buckets() {
        let tier = TIERS[0];
        let mut block = TierBlock::default();
        block.add(tier, &[(21600, 1.0), (21610, 3.0), (21700, 5.0)]);
        block.add(tier, &[(21620, -1.0)]);
        let packed = block.encode(tier, 21600);
        let back = TierBlock::decode(tier, 21600, &packed).unwrap();
        assert_eq!(back, block);
        assert_eq!(
            back.buckets,
            vec![
                Bucket {
                    at: 21600,
                    count: 3,
                    sum: 3.0,
                    min: -1.0,
                    max: 3.0
                },
                Bucket {
                    at: 21660,
                    count: 1,
                    sum: 5.0,
                    min: 5.0,
                    max: 5.0
                },
            ]
        );
        assert!(
            TierBlock::decode(tier, 0, &TierBlock::default().encode(tier, 0))
                .unwrap()
                .buckets
                .is_empty()
        );
    }

    #[test]
    fn spans_nest() {
        for (i, t) in TIERS.iter().enumerate() {
            assert_eq!(t.span % CHUNK_SECS, 0);
            assert_eq!(t.span % t.step, 0);
            if i > 0 {
                assert_eq!(t.span % TIERS[i - 1].span, 0);
                assert_eq!(t.step % TIERS[i - 1].step, 0);
            }
        }
    }

    #[test]
    fn means_fold_parts_of_a_bucket() {
        let mut m = Means::default();
        m.add(2, 60, 3.0, 2);
        m.add(1, 0, 1.0, 1);
        m.add(2, 0, 4.0, 1);
        m.add(2, 60, 3.0, 1);
        assert_eq!(m.means(), vec![(1, 0, 1.0), (2, 0, 4.0), (2, 60, 2.0)]);
    }
}
