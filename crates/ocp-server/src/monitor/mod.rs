//! Monitoring below the HTTP layer: ingest of agents' batches, queries over the stored
//! points, the backends that keep them (the metadb's packed store or a Prometheus), and the
//! embedded store's packing and retention.

pub mod backend;
pub mod ingest;
pub mod prometheus;
pub mod query;
pub mod rollup;
pub mod sql;

pub use backend::MetricsBackend;
