//! `ocpctl session`: the sessions of a cluster's tenant, their numbers, and ending them or
//! their statements.

use ocp_api::obdb::{CloseSessions, SessionStats, TenantSession};

use super::*;

#[derive(Subcommand)]
pub enum SessionCmd {
    /// Lists the sessions of a cluster's tenant, for example `ocpctl session list 1 --active`.
    List {
        /// The cluster's id (see `cluster list`).
        cluster: i64,
        /// Only the sessions running a statement.
        #[arg(long)]
        active: bool,
        /// Only sessions of users whose name contains this.
        #[arg(long)]
        user: Option<String>,
        /// Only sessions on databases whose name contains this.
        #[arg(long)]
        db: Option<String>,
        /// Only sessions from client addresses that contain this.
        #[arg(long)]
        client: Option<String>,
        /// The tenant's id (1, the sys tenant: seekdb has only it).
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
    /// Counts the sessions: total and active, by user, database and client address.
    Stats {
        /// The cluster's id.
        cluster: i64,
        /// The tenant's id (1, the sys tenant: seekdb has only it).
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
    /// Ends sessions, or with --query only the statements they run.
    Kill {
        /// The cluster's id.
        cluster: i64,
        /// The sessions' ids (see `session list`).
        #[arg(required = true)]
        sessions: Vec<i64>,
        /// Stop the running statements only; the sessions stay.
        #[arg(long)]
        query: bool,
        /// The tenant's id (1, the sys tenant: seekdb has only it).
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
}

pub async fn session(ctx: &mut Ctx, cmd: SessionCmd) -> Result<()> {
    let format = ctx.format();
    let client = ctx.client()?.clone();
    let base = |cluster: i64, tenant: i64| {
        format!("/api/v2/ob/clusters/{cluster}/tenants/{tenant}/sessions")
    };
    match cmd {
        SessionCmd::List {
            cluster,
            active,
            user,
            db,
            client: from,
            tenant,
        } => {
            let mut path = format!("{}?page=1&size=2000", base(cluster, tenant));
            if active {
                path.push_str("&activeOnly=true");
            }
            for (name, value) in [("dbUser", user), ("dbName", db), ("clientIp", from)] {
                if let Some(value) = value {
                    let value: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
                    path.push_str(&format!("&{name}={value}"));
                }
            }
            let sessions: PageData<TenantSession> = client.get(&path).await?;
            output::list(
                format,
                &sessions.contents,
                &[
                    "id", "dbUser", "host", "dbName", "command", "time", "status", "info",
                ],
            )
        }
        SessionCmd::Stats { cluster, tenant } => {
            let stats: SessionStats = client
                .get(&format!("{}/stats", base(cluster, tenant)))
                .await?;
            if output::structured(format, &stats)? {
                return Ok(());
            }
            say(&format!(
                "{} sessions, {} active; the longest active for {} s",
                stats.total_count, stats.active_count, stats.max_active_time
            ));
            let mut rows = Vec::new();
            for (by, counts) in [
                ("user", &stats.user_stats),
                ("database", &stats.db_stats),
                ("client", &stats.client_stats),
            ] {
                for c in counts {
                    let value = c
                        .db_user
                        .clone()
                        .or_else(|| c.db_name.clone())
                        .or_else(|| c.client_ip.clone())
                        .unwrap_or_default();
                    rows.push(vec![
                        by.to_string(),
                        value,
                        c.total_count.to_string(),
                        c.active_count.to_string(),
                    ]);
                }
            }
            output::table(&["by", "value", "total", "active"], &rows);
            Ok(())
        }
        SessionCmd::Kill {
            cluster,
            sessions,
            query,
            tenant,
        } => {
            let action = if query { "closeQuery" } else { "close" };
            let request = CloseSessions {
                session_ids: sessions.clone(),
            };
            let _: Value = client
                .post(
                    &format!("{}/{action}", base(cluster, tenant)),
                    Some(&body(&request)),
                )
                .await?;
            let what = if query { "statements stopped" } else { "ended" };
            say(&format!("sessions {sessions:?} {what}"));
            Ok(())
        }
    }
}
