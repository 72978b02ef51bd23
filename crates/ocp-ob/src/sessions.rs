//! The server's sessions (`oceanbase.V$OB_PROCESSLIST`) and ending them or their running
//! statement (`KILL`, `KILL QUERY`).

use crate::{optional, text, ObClient, ObError, Result};

/// One session as the server lists it.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: i64,
    pub user: String,
    /// The client's address and port.
    pub host: String,
    pub client_ip: String,
    pub db: Option<String>,
    /// `Sleep`, `Query`, ...
    pub command: String,
    /// Seconds in its current state.
    pub time: f64,
    /// `ACTIVE` or `SLEEP`.
    pub state: String,
    /// The statement it runs, if it runs one.
    pub info: Option<String>,
    pub sql_id: Option<String>,
    pub trace_id: Option<String>,
    pub trans_state: Option<String>,
}

impl SessionRow {
    /// Whether it runs a statement now.
    pub fn active(&self) -> bool {
        self.state.eq_ignore_ascii_case("ACTIVE")
    }
}

impl ObClient {
    /// Every session of the server, by id, and the id of this connection's own.
    pub async fn sessions(&mut self) -> Result<(Vec<SessionRow>, i64)> {
        let rows = self
            .rows(
                "SELECT CAST(ID AS CHAR), USER, HOST, USER_CLIENT_IP, DB, COMMAND, \
                 CAST(TIME AS CHAR), STATE, INFO, SQL_ID, TRACE_ID, TRANS_STATE, \
                 CAST(CONNECTION_ID() AS CHAR) FROM oceanbase.V$OB_PROCESSLIST ORDER BY ID",
            )
            .await?;
        let mut own = 0;
        let mut sessions = Vec::with_capacity(rows.len());
        for row in &rows {
            let number = |index| -> Result<i64> {
                text(row, index)?
                    .parse()
                    .map_err(|e| ObError::Protocol(format!("session column {index}: {e}")))
            };
            own = number(12)?;
            sessions.push(SessionRow {
                id: number(0)?,
                user: text(row, 1)?,
                host: text(row, 2)?,
                client_ip: text(row, 3)?,
                db: optional(row, 4)?,
                command: text(row, 5)?,
                time: text(row, 6)?.parse().unwrap_or(0.0),
                state: text(row, 7)?,
                info: optional(row, 8)?,
                sql_id: optional(row, 9)?,
                trace_id: optional(row, 10)?,
                trans_state: optional(row, 11)?,
            });
        }
        Ok((sessions, own))
    }

    /// Ends a session (`KILL`), or only the statement it runs (`KILL QUERY`).
    pub async fn kill(&mut self, session_id: i64, query_only: bool) -> Result<()> {
        let what = if query_only { "KILL QUERY" } else { "KILL" };
        self.execute(&format!("{what} {session_id}")).await
    }
}
