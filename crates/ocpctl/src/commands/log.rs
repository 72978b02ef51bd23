//! `ocpctl log`: a database server's or a host agent's log lines, searched on the host.

use ocp_api::log::LogSearchResult;

use super::*;

/// What lines to find.
#[derive(clap::Args, Clone)]
pub struct LogFilter {
    /// How far back from now: 90s, 30m, 6h, 7d.
    #[arg(long, default_value = "1h", conflicts_with = "from")]
    last: String,
    /// The start instead, as ISO-8601 with its offset or Unix seconds.
    #[arg(long, requires = "to")]
    from: Option<String>,
    /// The end, with --from.
    #[arg(long, requires = "from")]
    to: Option<String>,
    /// Levels, comma-separated: ERROR, WARN, INFO, TRACE, DEBUG.
    #[arg(long)]
    level: Option<String>,
    /// Lines holding this text.
    #[arg(long)]
    keyword: Option<String>,
    /// Lines matching this regular expression.
    #[arg(long)]
    regex: Option<String>,
    /// Words the lines must not hold, comma-separated.
    #[arg(long)]
    exclude: Option<String>,
    /// Lines of this trace id (from `sql slow --executions`, a session, or an error).
    #[arg(long)]
    trace_id: Option<String>,
    /// How many lines, newest first (1 to 1000; with --download up to 100000).
    #[arg(long, default_value_t = 100)]
    limit: u32,
    /// Write the matching lines to this file instead.
    #[arg(long)]
    download: Option<std::path::PathBuf>,
}

impl LogFilter {
    fn query(&self) -> Result<String> {
        let (start, end) = time_range(&self.last, &self.from, &self.to)?;
        let mut query = format!(
            "startTime={}&endTime={}&limit={}",
            encoded(&start),
            encoded(&end),
            self.limit
        );
        for (name, value) in [
            ("levels", &self.level),
            ("keyword", &self.keyword),
            ("regex", &self.regex),
            ("excludeKeywords", &self.exclude),
            ("traceId", &self.trace_id),
        ] {
            if let Some(value) = value {
                query.push_str(&format!("&{name}={}", encoded(value)));
            }
        }
        Ok(query)
    }
}

#[derive(Subcommand)]
pub enum LogCmd {
    /// Searches a database server's log/seekdb.log and its rotated files, for example
    /// `ocpctl log search 1 --level ERROR --last 30m` or `--trace-id YB42...`.
    Search {
        /// The cluster's id.
        cluster: i64,
        /// The server's id (see `server list`); default the cluster's first.
        #[arg(long)]
        server_id: Option<i64>,
        #[command(flatten)]
        filter: LogFilter,
    },
    /// Searches a host agent's own log.
    Agent {
        /// The host's id (see `host list`).
        host: i64,
        /// ocp_agentd.log, ocp_mgragent.log or ocp_monagent.log.
        #[arg(long, default_value = "ocp_agentd.log")]
        file: String,
        #[command(flatten)]
        filter: LogFilter,
    },
}

pub async fn log(ctx: &mut Ctx, cmd: LogCmd) -> Result<()> {
    let format = ctx.format();
    let client = ctx.client()?.clone();
    let (base, filter) = match cmd {
        LogCmd::Search {
            cluster,
            server_id,
            filter,
        } => {
            let server = match server_id {
                Some(s) => s,
                None => {
                    let shown: Value = client
                        .get(&format!("/api/v2/ob/clusters/{cluster}"))
                        .await?;
                    shown["zones"][0]["servers"][0]["id"]
                        .as_i64()
                        .ok_or_else(|| {
                            CliError::usage(format!("cluster {cluster} has no server"))
                        })?
                }
            };
            (
                format!("/api/v2/ob/clusters/{cluster}/servers/{server}/logs"),
                filter,
            )
        }
        LogCmd::Agent { host, file, filter } => (
            format!("/api/v2/hosts/{host}/agentLogs?file={}", encoded(&file)),
            filter,
        ),
    };
    let join = if base.contains('?') { '&' } else { '?' };
    if let Some(to) = &filter.download {
        let (path, rest) = base
            .split_once('?')
            .map_or((base.as_str(), ""), |(p, r)| (p, r));
        let rest = if rest.is_empty() {
            String::new()
        } else {
            format!("&{rest}")
        };
        let text = client
            .get_text(&format!("{path}/download?{}{rest}", filter.query()?))
            .await?;
        std::fs::write(to, &text)
            .map_err(|e| CliError::usage(format!("writing {}: {e}", to.display())))?;
        say(&format!(
            "{} lines written to {}",
            text.lines().count(),
            to.display()
        ));
        return Ok(());
    }
    let found: LogSearchResult = client
        .get(&format!("{base}{join}{}", filter.query()?))
        .await?;
    if output::structured(format, &found)? {
        return Ok(());
    }
    for line in &found.lines {
        say(&line.text);
    }
    if let Some(why) = &found.stopped_early {
        say(&format!(
            "stopped early ({why}) after {} bytes: narrow the time range to see older lines",
            found.scanned_bytes
        ));
    }
    Ok(())
}
