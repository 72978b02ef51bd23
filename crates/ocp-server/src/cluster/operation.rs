//! The operations a cluster, a zone or a server goes through as a task: start, stop, restart.

use ocp_api::ob::ServerStatus;
use ocp_api::ErrorCode;
use ocp_store::ServerRecord;

use crate::error::Failure;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerOperation {
    Start,
    Stop,
    Restart,
}

impl ServerOperation {
    /// As the API path and the task context spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Stop => "stop",
            Self::Restart => "restart",
        }
    }

    /// The task's name for `what` (cluster, zone or server), as OCP names it.
    pub fn task_name(self, what: &str) -> String {
        let verb = match self {
            Self::Start => "Start",
            Self::Stop => "Stop",
            Self::Restart => "Restart",
        };
        format!("{verb} OB {what}")
    }

    /// The statuses a server may go through this operation from.
    fn allowed_from(self) -> &'static [ServerStatus] {
        match self {
            Self::Start => &[ServerStatus::Stopped, ServerStatus::Unavailable],
            Self::Stop | Self::Restart => &[ServerStatus::Running, ServerStatus::Unavailable],
        }
    }

    /// Checks that every server may go through the operation now.
    pub fn check_operable(self, servers: &[ServerRecord]) -> Result<(), Failure> {
        for s in servers {
            if !self.allowed_from().contains(&s.status) {
                return Err(Failure::new(
                    ErrorCode::StateConflict,
                    format!(
                        "server {}:{} is {}; cannot {} it",
                        s.ip,
                        s.sql_port,
                        s.status,
                        self.as_str()
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl std::fmt::Display for ServerOperation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
