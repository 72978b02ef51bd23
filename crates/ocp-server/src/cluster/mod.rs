//! Database clusters on seekdb: SQL access to their servers, the rules of a deploy, the deploy
//! and operation task steps, the rule of a cluster's status and the status sync.

pub mod access;
pub mod backup;
pub mod backup_schedule;
pub mod deploy;
pub mod operation;
pub mod parameters;
pub mod standby;
pub mod status;
pub mod steps;
pub mod sync;
pub mod tenant;
pub mod upgrade;
