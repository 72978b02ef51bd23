//! Log search: a database server's `log/seekdb.log*` and a host agent's own logs, searched
//! on the host by its agent (`ocp_api::log`), newest first, a page at a time; and the
//! matching lines as a text download.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ocp_api::agent_path;
use ocp_api::log::{
    AgentLogResult, AgentLogSearch, LogLine, LogQuery, LogSearchResult, LogSource, LEVELS,
};
use ocp_api::Timestamp;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{perm, Authz};
use crate::http::{raw, ApiPath, ApiQuery, ApiResult, Data, Failure};
use crate::routes::monitor::seconds;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(server_logs))
        .routes(routes!(download_server_logs))
        .routes(routes!(agent_logs))
        .routes(routes!(download_agent_logs))
}

/// Bounds of one search: bytes read and time spent on the host.
const MAX_BYTES: u64 = 256 << 20;
const MAX_MILLIS: u64 = 5_000;
/// Lines a page answers by default and at most, and a download at most.
const PAGE_LINES: usize = 100;
const MAX_PAGE_LINES: usize = 1000;
const DOWNLOAD_LINES: usize = 100_000;
/// A download reads this many bytes at most.
const DOWNLOAD_BYTES: u64 = 2 << 30;

/// The search a query asks for, checked here so that bad input never reaches the host.
fn search_of(q: &LogQuery, source: LogSource, download: bool) -> Result<AgentLogSearch, Failure> {
    let now = chrono::Utc::now().timestamp();
    let end = match &q.end_time {
        Some(_) => seconds("endTime", &q.end_time)?,
        None => now,
    };
    let start = match &q.start_time {
        Some(_) => seconds("startTime", &q.start_time)?,
        None => end - 3600,
    };
    if end < start {
        return Err(Failure::field("endTime", "is before startTime"));
    }
    let mut levels = Vec::new();
    for level in q.levels.iter().flat_map(|l| l.split(',')).map(str::trim) {
        if level.is_empty() {
            continue;
        }
        let upper = level.to_ascii_uppercase();
        if !LEVELS.contains(&upper.as_str()) {
            return Err(Failure::field(
                "levels",
                format!("{level:?} is not one of {}", LEVELS.join(", ")),
            ));
        }
        levels.push(upper);
    }
    if let Some(r) = &q.regex {
        regex::RegexBuilder::new(r)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| Failure::field("regex", e.to_string()))?;
    }
    let (most, default) = if download {
        (DOWNLOAD_LINES, DOWNLOAD_LINES)
    } else {
        (MAX_PAGE_LINES, PAGE_LINES)
    };
    let limit = match q.limit.as_deref() {
        None => default,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=most).contains(n))
            .ok_or_else(|| Failure::field("limit", format!("must be from 1 to {most}")))?,
    };
    if let Some(c) = &q.cursor {
        let ok = c
            .split_once(':')
            .is_some_and(|(a, b)| a.parse::<u64>().is_ok() && b.parse::<u64>().is_ok());
        if !ok {
            return Err(Failure::field(
                "cursor",
                "is not a cursor a search answered",
            ));
        }
    }
    let text = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let trace_id = text(&q.trace_id);
    if trace_id
        .as_ref()
        .is_some_and(|t| t.len() > 128 || t.chars().any(char::is_whitespace))
    {
        return Err(Failure::field("traceId", "is not a trace id"));
    }
    Ok(AgentLogSearch {
        source,
        start_ms: start * 1000,
        end_ms: end * 1000 + 999,
        levels,
        keyword: text(&q.keyword),
        regex: text(&q.regex),
        exclude: q
            .exclude_keywords
            .iter()
            .flat_map(|e| e.split(','))
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(String::from)
            .collect(),
        trace_id,
        limit,
        cursor: text(&q.cursor),
        max_bytes: if download { DOWNLOAD_BYTES } else { MAX_BYTES },
        max_millis: if download { 6 * MAX_MILLIS } else { MAX_MILLIS },
    })
}

async fn search(
    state: &AppState,
    host_id: i64,
    search: &AgentLogSearch,
) -> Result<LogSearchResult, Failure> {
    let found: AgentLogResult = state
        .agents
        .call_long(
            host_id,
            reqwest::Method::POST,
            &agent_path::manager::log_search(),
            Some(search),
            std::time::Duration::from_millis(search.max_millis + 30_000),
        )
        .await?;
    Ok(LogSearchResult {
        lines: found
            .lines
            .into_iter()
            .map(|l| LogLine {
                time: l.time_ms.map(Timestamp::from_millis),
                level: l.level,
                file: l.file,
                text: l.text,
            })
            .collect(),
        scanned_bytes: found.scanned_bytes,
        stopped_early: found.stopped_early,
        next: found.next,
    })
}

/// The host and process of a cluster's server.
async fn server_source(
    state: &AppState,
    cluster: i64,
    server: i64,
) -> Result<(i64, LogSource), Failure> {
    state.store.cluster(cluster).await?;
    let server = state
        .store
        .servers(cluster)
        .await?
        .into_iter()
        .find(|s| s.id == server)
        .ok_or_else(|| Failure::not_found("server", server))?;
    Ok((
        server.host_id,
        LogSource::Server {
            process: ocp_api::agent::observer_process(server.id),
        },
    ))
}

fn agent_source(q: &LogQuery) -> Result<LogSource, Failure> {
    const FILES: [&str; 3] = ["ocp_agentd.log", "ocp_mgragent.log", "ocp_monagent.log"];
    let file = q.file.clone().unwrap_or_else(|| FILES[0].to_string());
    if !FILES.contains(&file.as_str()) {
        return Err(Failure::field(
            "file",
            format!("{file:?} is not one of {}", FILES.join(", ")),
        ));
    }
    Ok(LogSource::Agent { file })
}

/// The matching lines as text, newest first, one entry per line group.
fn download(result: LogSearchResult, name: &str) -> Response {
    let mut text = String::new();
    for line in &result.lines {
        text.push_str(&line.text);
        text.push('\n');
    }
    if let Some(why) = &result.stopped_early {
        text.push_str(&format!(
            "# stopped early ({why}) after {} bytes; older lines were not searched\n",
            result.scanned_bytes
        ));
    }
    raw((
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        text,
    )
        .into_response())
}

/// A database server's log lines over a time range (default the last hour), newest first:
/// by level, keyword, regular expression, excluded words and trace id; `next` goes on.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/servers/{serverId}/logs", tag = "logs",
    params(("id" = i64, Path), ("serverId" = i64, Path), LogQuery),
    responses((status = 200, body = LogSearchResult)))]
async fn server_logs(
    _: Authz<perm::ClusterRead>,
    State(state): State<AppState>,
    ApiPath((id, server)): ApiPath<(i64, i64)>,
    ApiQuery(q): ApiQuery<LogQuery>,
) -> ApiResult<LogSearchResult> {
    let (host, source) = server_source(&state, id, server).await?;
    let wanted = search_of(&q, source, false)?;
    Ok(Data(search(&state, host, &wanted).await?))
}

/// The same lines as a text file (up to 100000).
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/servers/{serverId}/logs/download",
    tag = "logs", params(("id" = i64, Path), ("serverId" = i64, Path), LogQuery),
    responses((status = 200, content_type = "text/plain", description = "the matching lines")))]
async fn download_server_logs(
    _: Authz<perm::ClusterRead>,
    State(state): State<AppState>,
    ApiPath((id, server)): ApiPath<(i64, i64)>,
    ApiQuery(q): ApiQuery<LogQuery>,
) -> Result<Response, Failure> {
    let (host, source) = server_source(&state, id, server).await?;
    let wanted = search_of(&q, source, true)?;
    let found = search(&state, host, &wanted).await?;
    Ok(download(found, &format!("seekdb-{server}.log")))
}

/// A host agent's own log lines (`file`: ocp_agentd.log, ocp_mgragent.log or
/// ocp_monagent.log), as a server's.
#[utoipa::path(get, path = "/api/v2/hosts/{id}/agentLogs", tag = "logs",
    params(("id" = i64, Path), LogQuery),
    responses((status = 200, body = LogSearchResult)))]
async fn agent_logs(
    _: Authz<perm::HostRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<LogQuery>,
) -> ApiResult<LogSearchResult> {
    state.store.host(id).await?;
    let wanted = search_of(&q, agent_source(&q)?, false)?;
    Ok(Data(search(&state, id, &wanted).await?))
}

/// The same lines as a text file.
#[utoipa::path(get, path = "/api/v2/hosts/{id}/agentLogs/download", tag = "logs",
    params(("id" = i64, Path), LogQuery),
    responses((status = 200, content_type = "text/plain", description = "the matching lines")))]
async fn download_agent_logs(
    _: Authz<perm::HostRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<LogQuery>,
) -> Result<Response, Failure> {
    state.store.host(id).await?;
    let source = agent_source(&q)?;
    let name = match &source {
        LogSource::Agent { file } => file.clone(),
        LogSource::Server { .. } => "agent.log".into(),
    };
    let wanted = search_of(&q, source, true)?;
    let found = search(&state, id, &wanted).await?;
    Ok(download(found, &name))
}
