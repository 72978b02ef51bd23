//! Database clusters on seekdb: SQL access to their servers, the rules of a deploy, the deploy
//! and operation task steps, and the status sync.

pub mod access;
pub mod deploy;
pub mod steps;
pub mod sync;
