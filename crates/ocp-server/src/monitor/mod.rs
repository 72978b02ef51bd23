//! Monitoring below the HTTP layer: the roll-up and retention of stored samples.

pub mod rollup;
