//! Database clusters on seekdb: SQL access to their servers, the deploy and operation task
//! steps, and the status sync.

pub mod access;
pub mod steps;
pub mod sync;
