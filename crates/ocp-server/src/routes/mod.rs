//! One module per REST resource.

pub mod agent_link;
pub mod alarms;
pub mod backups;
pub mod cluster_params;
mod cluster_view;
pub mod clusters;
pub mod compute;
pub mod debug;
pub mod host_agent;
pub mod hosts;
pub mod iam_roles;
pub mod iam_users;
pub mod logs;
pub mod monitor;
pub mod ob_grants;
pub mod ob_sessions;
pub mod ob_tenants;
pub mod obproxy;
pub mod packages;
pub mod session;
pub mod sql_diagnostics;
pub mod standby;
pub mod system;
pub mod task_events;
pub mod tasks;
pub mod tenants;
