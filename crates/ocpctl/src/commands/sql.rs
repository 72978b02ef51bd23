//! `ocpctl sql`: SQL diagnostics of a cluster's tenant: TopSQL, a statement's text, its
//! plans and a plan's operators.

use ocp_api::host::Contents;
use ocp_api::sql::{PlanExplain, PlanOperation, SlowExecution, SlowSql, SqlText, TopPlan, TopSql};

use super::*;

/// The time range of a query: `--last`, or `--from` and `--to`.
#[derive(clap::Args, Clone)]
pub struct TimeRange {
    /// How far back from now: 90s, 30m, 6h, 7d.
    #[arg(long, default_value = "30m", conflicts_with = "from")]
    last: String,
    /// The start instead, as ISO-8601 with its offset (2026-12-03T10:00:00+08:00) or Unix
    /// seconds.
    #[arg(long, requires = "to")]
    from: Option<String>,
    /// The end, with --from.
    #[arg(long, requires = "from")]
    to: Option<String>,
}

impl TimeRange {
    /// `startTime=...&endTime=...`.
    fn query(&self) -> Result<String> {
        let (start, end) = time_range(&self.last, &self.from, &self.to)?;
        Ok(format!(
            "startTime={}&endTime={}",
            encoded(&start),
            encoded(&end)
        ))
    }
}

#[derive(Subcommand)]
pub enum SqlCmd {
    /// The statements of a tenant over a time range, slowest on average first, for example
    /// `ocpctl sql top 1 --last 1h --sort executions,desc`.
    Top {
        /// The cluster's id (see `cluster list`).
        cluster: i64,
        #[command(flatten)]
        range: TimeRange,
        /// Only statements run on this server (see `server list`).
        #[arg(long)]
        server_id: Option<i64>,
        /// Include seekdb's own statements and the platform's monitor's.
        #[arg(long)]
        inner: bool,
        /// Only statements whose text holds this, any case.
        #[arg(long)]
        text: Option<String>,
        /// Only statements whose figure compares so, FIELD:OP:VALUE with OP one of EQ, NE,
        /// GT, GE, LT, LE, such as executions:GE:500 or avgElapsedTime:GT:100.
        #[arg(long)]
        search: Option<String>,
        /// FIELD,asc|desc over the figures, such as executions,desc or sumElapsedTime,desc.
        #[arg(long)]
        sort: Option<String>,
        /// How many statements, 1 to 2000.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// The tenant's id (1, the sys tenant: seekdb has only it).
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
    /// The statements that ran slower than the trace watermark (100 ms by default), or
    /// with --executions each slow execution with its trace id.
    Slow {
        /// The cluster's id.
        cluster: i64,
        #[command(flatten)]
        range: TimeRange,
        /// Each execution, newest first, instead of one row per statement.
        #[arg(long)]
        executions: bool,
        /// Only this statement (see `sql slow`).
        #[arg(long)]
        sql_id: Option<String>,
        /// Only statements holding this, any case.
        #[arg(long)]
        text: Option<String>,
        /// Only those run on this server.
        #[arg(long)]
        server_id: Option<i64>,
        /// How many rows, 1 to 2000.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// The tenant's id (1, the sys tenant: seekdb has only it).
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
    /// A statement's whole parameterized text.
    Text {
        /// The cluster's id.
        cluster: i64,
        /// The statement's SQL id (see `sql top`).
        sql_id: String,
        /// The tenant's id (1, the sys tenant: seekdb has only it).
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
    /// The plans a statement ran with, and with --explain the operators of the slowest
    /// (or of --uid).
    Plan {
        /// The cluster's id.
        cluster: i64,
        /// The statement's SQL id (see `sql top`).
        sql_id: String,
        #[command(flatten)]
        range: TimeRange,
        /// Show the operators of a plan: the slowest one, or the one --uid names.
        #[arg(long)]
        explain: bool,
        /// The plan's uid (see the plan list), for --explain.
        #[arg(long, requires = "explain")]
        uid: Option<String>,
        /// The tenant's id (1, the sys tenant: seekdb has only it).
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
}

pub async fn sql(ctx: &mut Ctx, cmd: SqlCmd) -> Result<()> {
    let format = ctx.format();
    let client = ctx.client()?.clone();
    let base =
        |cluster: i64, tenant: i64| format!("/api/v2/ob/clusters/{cluster}/tenants/{tenant}");
    match cmd {
        SqlCmd::Top {
            cluster,
            range,
            server_id,
            inner,
            text,
            search,
            sort,
            limit,
            tenant,
        } => {
            let mut path = format!(
                "{}/topSql?{}&limit={limit}",
                base(cluster, tenant),
                range.query()?
            );
            if let Some(server) = server_id {
                path.push_str(&format!("&serverId={server}"));
            }
            if inner {
                path.push_str("&inner=true");
            }
            if let Some(text) = &text {
                path.push_str(&format!("&sqlText={}", encoded(text)));
            }
            if let Some(search) = &search {
                let parts: Vec<&str> = search.splitn(3, ':').collect();
                let [attr, op, value] = parts[..] else {
                    return Err(CliError::usage(format!(
                        "--search {search}: give FIELD:OP:VALUE, such as executions:GE:500"
                    )));
                };
                path.push_str(&format!(
                    "&searchAttr={}&searchOp={}&searchVal={}",
                    encoded(attr),
                    encoded(op),
                    encoded(value)
                ));
            }
            if let Some(sort) = &sort {
                path.push_str(&format!("&sort={}", encoded(sort)));
            }
            let top: Contents<TopSql> = client.get(&path).await?;
            output::list(
                format,
                &top.contents,
                &[
                    "sqlId",
                    "server",
                    "dbName",
                    "userName",
                    "executions",
                    "avg ms=avgElapsedTime",
                    "max ms=maxElapsedTime",
                    "total ms=sumElapsedTime",
                    "sqlTextShort",
                ],
            )
        }
        SqlCmd::Slow {
            cluster,
            range,
            executions,
            sql_id,
            text,
            server_id,
            limit,
            tenant,
        } => {
            let what = if executions {
                "slowSql/executions"
            } else {
                "slowSql"
            };
            let mut path = format!(
                "{}/{what}?{}&limit={limit}",
                base(cluster, tenant),
                range.query()?
            );
            for (name, value) in [
                ("sqlId", sql_id),
                ("sqlText", text),
                ("serverId", server_id.map(|s| s.to_string())),
            ] {
                if let Some(value) = value {
                    path.push_str(&format!("&{name}={}", encoded(&value)));
                }
            }
            if executions {
                let found: Contents<SlowExecution> = client.get(&path).await?;
                return output::list(
                    format,
                    &found.contents,
                    &[
                        "requestTime",
                        "ms=elapsedTime",
                        "traceId",
                        "sessionId",
                        "client",
                        "sqlId",
                        "statement",
                    ],
                );
            }
            let found: Contents<SlowSql> = client.get(&path).await?;
            output::list(
                format,
                &found.contents,
                &[
                    "sqlId",
                    "server",
                    "executions",
                    "avg ms=avgElapsedTime",
                    "max ms=maxElapsedTime",
                    "lastTraceId",
                    "sqlTextShort",
                ],
            )
        }
        SqlCmd::Text {
            cluster,
            sql_id,
            tenant,
        } => {
            let text: SqlText = client
                .get(&format!(
                    "{}/sql/{}/text",
                    base(cluster, tenant),
                    encoded(&sql_id)
                ))
                .await?;
            if output::structured(format, &text)? {
                return Ok(());
            }
            say(&text.fulltext);
            Ok(())
        }
        SqlCmd::Plan {
            cluster,
            sql_id,
            range,
            explain,
            uid,
            tenant,
        } => {
            let plans: Contents<TopPlan> = client
                .get(&format!(
                    "{}/sql/{}/topPlan?{}",
                    base(cluster, tenant),
                    encoded(&sql_id),
                    range.query()?
                ))
                .await?;
            if !explain {
                return output::list(
                    format,
                    &plans.contents,
                    &[
                        "uid",
                        "server",
                        "planType",
                        "executions",
                        "avg ms=avgElapsedTime",
                        "max ms=maxExecTime",
                        "avgRowProcessed",
                        "tableScan",
                    ],
                );
            }
            let uid = match uid.or_else(|| plans.contents.first().map(|p| p.uid.clone())) {
                Some(uid) => uid,
                None => {
                    return Err(CliError::usage(format!(
                        "statement {sql_id} ran with no plan in that time range"
                    )))
                }
            };
            let tree: PlanExplain = client
                .get(&format!(
                    "{}/plans/{}/explain",
                    base(cluster, tenant),
                    encoded(&uid)
                ))
                .await?;
            if output::structured(format, &tree)? {
                return Ok(());
            }
            let mut rows = Vec::new();
            for op in &tree.root_operations {
                operator_rows(op, 0, &mut rows);
            }
            say(&format!("plan {uid}"));
            output::table(&["operator", "object", "rows", "cost", "property"], &rows);
            Ok(())
        }
    }
}

/// One row per operator, indented under its parent.
fn operator_rows(op: &PlanOperation, depth: usize, rows: &mut Vec<Vec<String>>) {
    rows.push(vec![
        format!("{}{}", "  ".repeat(depth), op.operator),
        op.object_name.clone().unwrap_or_default(),
        op.rows.to_string(),
        op.cost.to_string(),
        op.property.clone().unwrap_or_default(),
    ]);
    for child in &op.children {
        operator_rows(child, depth + 1, rows);
    }
}
