//! Log search: a server's `log/seekdb.log*` or an agent's own logs, searched on the host by
//! its agent, newest first, bounded in bytes and time per call.

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// `GET /api/v2/ob/clusters/{id}/servers/{serverId}/logs` and
/// `GET /api/v2/hosts/{id}/agentLogs` (and their `/download`).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct LogQuery {
    /// ISO-8601 with offset, or Unix seconds; default an hour before `endTime`.
    pub start_time: Option<String>,
    /// Default now.
    pub end_time: Option<String>,
    /// Comma-separated: ERROR, WARN, INFO, TRACE, DEBUG (seekdb's EDIAG and WDIAG count as
    /// ERROR and WARN); default all.
    pub levels: Option<String>,
    /// Lines holding this text.
    pub keyword: Option<String>,
    /// Lines matching this regular expression (Rust `regex` syntax).
    pub regex: Option<String>,
    /// Comma-separated words the lines must not hold.
    pub exclude_keywords: Option<String>,
    /// Lines of this trace id (`[YB...-0-0]` in seekdb's log).
    pub trace_id: Option<String>,
    /// Lines answered, 1 to 1000 (default 100; a download takes up to 100000).
    pub limit: Option<String>,
    /// Where to go on from: the `next` of the previous answer.
    pub cursor: Option<String>,
    /// For agent logs: ocp_agentd.log (default), ocp_mgragent.log or ocp_monagent.log.
    pub file: Option<String>,
}

/// Which logs an agent searches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum LogSource {
    /// `log/seekdb.log` and its rotated files in a managed process's directory.
    Server { process: String },
    /// One of the agent's own log files.
    Agent { file: String },
}

/// What the server asks an agent to search.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentLogSearch {
    pub source: LogSource,
    /// ms since the epoch, inclusive.
    pub start_ms: i64,
    pub end_ms: i64,
    /// Upper case; empty for all.
    pub levels: Vec<String>,
    pub keyword: Option<String>,
    pub regex: Option<String>,
    pub exclude: Vec<String>,
    pub trace_id: Option<String>,
    pub limit: usize,
    pub cursor: Option<String>,
    /// Bytes read at most, and milliseconds spent at most, before it answers what it found.
    pub max_bytes: u64,
    pub max_millis: u64,
}

/// One log line (with the lines that continue it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LogLine {
    pub time: Option<Timestamp>,
    /// ERROR, WARN, INFO, TRACE or DEBUG.
    pub level: String,
    /// The file it is in.
    pub file: String,
    pub text: String,
}

/// Why a search answered before it looked through the whole range.
pub const STOPPED_BYTES: &str = "BYTES";
pub const STOPPED_TIME: &str = "TIME";

/// A page of matching lines, newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LogSearchResult {
    pub lines: Vec<LogLine>,
    /// Bytes of log read.
    pub scanned_bytes: u64,
    /// BYTES or TIME when the search stopped at its bound before the range's start; null
    /// when it went through the range (or found `limit` lines).
    pub stopped_early: Option<String>,
    /// Pass as `cursor` for the lines after these (older); null at the range's start.
    pub next: Option<String>,
}

/// A line as an agent answers it: its time in ms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentLogLine {
    pub time_ms: Option<i64>,
    pub level: String,
    pub file: String,
    pub text: String,
}

/// An agent's answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentLogResult {
    pub lines: Vec<AgentLogLine>,
    pub scanned_bytes: u64,
    pub stopped_early: Option<String>,
    pub next: Option<String>,
}

/// The level of a seekdb or agent log as the search names it.
pub fn normal_level(level: &str) -> &'static str {
    match level.to_ascii_uppercase().as_str() {
        "ERROR" | "EDIAG" => "ERROR",
        "WARN" | "WDIAG" | "WARNING" => "WARN",
        "INFO" => "INFO",
        "TRACE" => "TRACE",
        "DEBUG" => "DEBUG",
        _ => "INFO",
    }
}

/// The levels a query may name.
pub const LEVELS: [&str; 5] = ["ERROR", "WARN", "INFO", "TRACE", "DEBUG"];
