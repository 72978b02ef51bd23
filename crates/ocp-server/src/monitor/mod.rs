//! Monitoring below the HTTP layer: ingest of agents' batches, queries over the stored
//! samples, and their roll-up and retention.

pub mod ingest;
pub mod query;
pub mod rollup;
pub mod sql;
