//! Primary and standby: a server's role and how far it has the primary's log
//! (`V$OB_SERVER_STAT`), the primary's newest log (`V$OB_LOG_STAT`), and the statements that
//! serve the log, follow it, and exchange or take over the primary's role. Each statement
//! may be sent twice: seekdb answers a second switchover or activation as it did the first.

use std::time::{Duration, Instant};

use crate::{quote, text, ObClient, ObError, Result};

/// What a server reports of its role. SCNs are nanoseconds since the epoch.
#[derive(Debug, Clone)]
pub struct ReplicaStat {
    /// `PRIMARY` or `STANDBY`. A primary switched over keeps answering `PRIMARY` for a
    /// while, read-only, before it shows `STANDBY`.
    pub role: String,
    /// Up to where it has the primary's log (0 on a primary).
    pub sync_scn: i64,
    /// Up to where it reads consistently (0 on a primary).
    pub readable_scn: i64,
    /// The server's clock, in nanoseconds.
    pub now_scn: i64,
}

impl ReplicaStat {
    /// How far behind now it reads, in seconds (OCP's sync delay).
    pub fn delay_from_now(&self) -> f64 {
        (self.now_scn - self.readable_scn).max(0) as f64 / 1e9
    }
}

impl ObClient {
    pub async fn replica_stat(&mut self) -> Result<ReplicaStat> {
        let rows = self
            .rows(
                "SELECT ROLE, CAST(SYNC_SCN AS CHAR), CAST(READABLE_SCN AS CHAR), \
                 CAST(time_to_usec(now(6)) * 1000 AS CHAR) FROM oceanbase.V$OB_SERVER_STAT",
            )
            .await?;
        let row = rows
            .first()
            .ok_or_else(|| ObError::Protocol("V$OB_SERVER_STAT has no row".into()))?;
        let scn = |index| -> Result<i64> {
            text(row, index)?
                .parse()
                .map_err(|e| ObError::Protocol(format!("server stat column {index}: {e}")))
        };
        Ok(ReplicaStat {
            role: text(row, 0)?,
            sync_scn: scn(1)?,
            readable_scn: scn(2)?,
            now_scn: scn(3)?,
        })
    }

    /// The SCN of the newest log the server has written (a primary writes one at least
    /// every 10 s, so an idle primary's log moves too).
    pub async fn log_end_scn(&mut self) -> Result<i64> {
        let end = self
            .one_text("SELECT CAST(MAX(END_SCN) AS CHAR) FROM oceanbase.V$OB_LOG_STAT")
            .await?;
        end.parse()
            .map_err(|e| ObError::Protocol(format!("log stat END_SCN {end:?}: {e}")))
    }

    /// The oldest checkpoint of the server's log streams. A new server has none (1) for its
    /// first seconds, and a standby built from it then fails to start (OB_EAGAIN).
    pub async fn checkpoint_scn(&mut self) -> Result<i64> {
        let scn = self
            .one_text(
                "SELECT CAST(MIN(checkpoint_scn) AS CHAR) FROM oceanbase.__all_virtual_ls_info",
            )
            .await?;
        scn.parse()
            .map_err(|e| ObError::Protocol(format!("checkpoint SCN {scn:?}: {e}")))
    }

    /// How many system packages (specs and bodies) the server has. A new server loads them
    /// some seconds after it first serves SQL; a standby built from it meanwhile may fail to
    /// replay that load.
    pub async fn sys_package_count(&mut self) -> Result<i64> {
        self.fetch_i64("SELECT COUNT(*) FROM oceanbase.__all_package")
            .await
    }

    /// Waits up to `limit` until the server is past its first seconds: it has made its first
    /// checkpoint and loaded its system packages (their count holds for 1.5 s). A standby
    /// built from a primary started moments ago exits at once or never serves. Answers the
    /// checkpoint SCN and the package count, settled or, at the limit, as they were last.
    pub async fn wait_settled(&mut self, limit: Duration) -> Result<(bool, i64, i64)> {
        let started = Instant::now();
        let mut packages = -1;
        loop {
            let scn = self.checkpoint_scn().await?;
            let count = self.sys_package_count().await?;
            if scn > 1 && count > 0 && count == packages {
                return Ok((true, scn, count));
            }
            if started.elapsed() > limit {
                return Ok((false, scn, count));
            }
            packages = count;
            tokio::time::sleep(Duration::from_millis(1500)).await;
        }
    }

    /// Serves the server's log to standbys on `rpc_port` (both settings take effect at once).
    pub async fn serve_log(&mut self, rpc_port: u16) -> Result<()> {
        self.execute_idempotent(&format!("ALTER SYSTEM SET rpc_port = {rpc_port}"))
            .await?;
        self.execute_idempotent("ALTER SYSTEM SET enable_rpc_service = true")
            .await
    }

    /// Follows the log of the primary at `address` (`ip:rpcPort`).
    pub async fn follow(&mut self, address: &str) -> Result<()> {
        self.execute_idempotent(&format!(
            "ALTER SYSTEM SET log_restore_source = {}",
            quote(address)
        ))
        .await
    }

    /// On a primary: read-only at once, then a standby.
    pub async fn switchover_to_standby(&mut self) -> Result<()> {
        self.execute_idempotent("ALTER SYSTEM SWITCHOVER TO STANDBY")
            .await
    }

    /// On a standby that has its primary's log: the primary, writable.
    pub async fn switchover_to_primary(&mut self) -> Result<()> {
        self.execute_idempotent("ALTER SYSTEM SWITCHOVER TO PRIMARY")
            .await
    }

    /// On a standby whose primary is lost: the primary, writable, with what log it has.
    pub async fn activate_standby(&mut self) -> Result<()> {
        self.execute_idempotent("ALTER SYSTEM ACTIVATE STANDBY")
            .await
    }
}
