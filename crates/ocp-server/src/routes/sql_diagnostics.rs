//! SQL diagnostics of a tenant, as OCP's: TopSQL, a statement's trend, text and plans, a
//! plan's trend and operators. Everything but the operators is read from the statistics the
//! agents sampled into the metadb (`monitor::sql`); a plan's operators are read from the
//! server that cached it, while it still does.
//!
//! The documented path of `explain` is misspelt (`/api/v2/cluters/...`); it is served as
//! documented and under `/api/v2/ob/clusters/...` too.

use std::collections::HashMap;

use axum::extract::State;
use ocp_api::host::Contents;
use ocp_api::sql::{
    parse_plan_uid, plan_uid, sql_type, PlanExplain, PlanTrend, SlowExecution, SlowQuery, SlowSql,
    SlowSqlQuery, SqlRangeQuery, SqlText, SqlTrend, SqlTrendQuery, TopPlan, TopSql, TopSqlQuery,
};
use ocp_api::Timestamp;
use ocp_store::{SqlStatFilter, SqlStatGroup, SqlStatSum};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{perm, Authz};
use crate::cluster::access::ob_failure;
use crate::http::{parse_flag, parse_id, ApiPath, ApiQuery, ApiResult, Data, Failure};
use crate::monitor::sql::{
    numeric_fields, parse_sort, plan_metrics, plan_tree, plan_type, sort_rows, sql_metrics,
    trend_step, Search,
};
use crate::routes::monitor::seconds;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(top_sql))
        .routes(routes!(sql_trends))
        .routes(routes!(sql_text))
        .routes(routes!(top_plans))
        .routes(routes!(top_plans_of))
        .routes(routes!(plan_trends))
        .routes(routes!(explain))
        .routes(routes!(explain_as_documented))
        .routes(routes!(slow_sql))
        .routes(routes!(slow_executions))
}

/// TopSQL answers this many statements unless `limit` says otherwise.
const DEFAULT_LIMIT: usize = 500;

/// The time range and server of a query, checked, with the cluster checked to exist and
/// the tenant to be its one.
struct Range {
    filter: SqlStatFilter,
    seconds: f64,
}

async fn range(
    state: &AppState,
    cluster: i64,
    tenant: i64,
    start: &Option<String>,
    end: &Option<String>,
    server: &Option<String>,
) -> Result<Range, Failure> {
    crate::cluster::tenant::sys_tenant(&state.store, cluster, tenant).await?;
    let start = seconds("startTime", start)?;
    let end = seconds("endTime", end)?;
    if end < start {
        return Err(Failure::field("endTime", "is before startTime"));
    }
    let server_id = parse_id("serverId", server)?;
    if let Some(id) = server_id {
        let servers = state.store.servers(cluster).await?;
        if !servers.iter().any(|s| s.id == id) {
            return Err(Failure::field(
                "serverId",
                format!("server {id} is not one of cluster {cluster}'s"),
            ));
        }
    }
    let minutes_from = chrono::Utc::now().timestamp() - state.sql_stat_minutes.as_secs() as i64;
    Ok(Range {
        filter: SqlStatFilter {
            cluster_id: cluster,
            start,
            end,
            minutes_from,
            server_id,
            sql_id: None,
            plan: None,
            db_name: None,
            include_inner: true,
        },
        seconds: (end - start + 1) as f64,
    })
}

fn check_sql_id(sql_id: &str) -> Result<(), Failure> {
    if sql_id.is_empty() || sql_id.len() > 64 || !sql_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Failure::field("sqlId", "is not a SQL id (hexadecimal)"));
    }
    Ok(())
}

/// `ip:port` of each server of the cluster.
async fn addresses(state: &AppState, cluster: i64) -> Result<HashMap<i64, String>, Failure> {
    Ok(state
        .store
        .servers(cluster)
        .await?
        .into_iter()
        .map(|s| (s.id, format!("{}:{}", s.ip, s.sql_port)))
        .collect())
}

fn short(text: &str) -> String {
    text.chars().take(100).collect()
}

fn trend_time(bucket: i64) -> Option<Timestamp> {
    Some(Timestamp::from_millis(bucket * 1000))
}

/// The statements of a tenant over a time range with their figures, slowest on average
/// first (`sort` names another numeric field); `inner=true` includes seekdb's own
/// statements and the platform's monitor's; `sqlText` keeps those whose text holds a word;
/// `searchAttr`/`searchOp`/`searchVal` keep those whose figure compares so.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/topSql", tag = "sql",
    params(("id" = i64, Path), ("tenantId" = i64, Path), TopSqlQuery),
    responses((status = 200, body = Contents<TopSql>)))]
async fn top_sql(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath((id, tenant)): ApiPath<(i64, i64)>,
    ApiQuery(q): ApiQuery<TopSqlQuery>,
) -> ApiResult<Contents<TopSql>> {
    let mut range = range(&state, id, tenant, &q.start_time, &q.end_time, &q.server_id).await?;
    range.filter.include_inner = parse_flag("inner", q.inner.as_deref())?.unwrap_or(false);
    let fields = numeric_fields();
    let search = Search::parse(&q.search_attr, &q.search_op, &q.search_val, &fields)?;
    let (sort, descending) = parse_sort(&q.sort, &fields)?;
    let limit = match q.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=2000).contains(n))
            .ok_or_else(|| Failure::field("limit", "must be a whole number from 1 to 2000"))?,
    };
    let keyword = q
        .sql_text
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_lowercase);
    let sums = state
        .store
        .sql_stat_sums(&range.filter, SqlStatGroup::Statement)
        .await?;
    let texts = state.store.sql_texts(id, None).await?;
    let servers = addresses(&state, id).await?;
    let mut rows = Vec::with_capacity(sums.len());
    for s in sums {
        let text = texts.get(&s.sql_id).map(String::as_str).unwrap_or("");
        if let Some(k) = &keyword {
            if !text.to_lowercase().contains(k.as_str()) {
                continue;
            }
        }
        let kind = sql_type(text);
        let row = TopSql {
            server: servers.get(&s.server_id).cloned().unwrap_or_default(),
            server_id: s.server_id,
            sql_type: kind.into(),
            sql_text_short: short(text),
            inner: s.inner,
            wait_event: None,
            metrics: sql_metrics(&s, range.seconds, kind),
            sql_id: s.sql_id,
            db_name: s.db_name,
            user_name: s.user_name,
        };
        let json = serde_json::to_value(&row).map_err(Failure::internal)?;
        if search.as_ref().is_some_and(|search| !search.matches(&json)) {
            continue;
        }
        rows.push((row, json));
    }
    sort_rows(&mut rows, &sort, descending);
    rows.truncate(limit);
    Ok(Data(Contents {
        contents: rows.into_iter().map(|(row, _)| row).collect(),
    }))
}

/// A statement's figures over time: about 120 points, each the range from its time to the
/// next; per minute within the minutes' retention, per hour before.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/sqls/{sqlId}/trends",
    tag = "sql",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("sqlId" = String, Path), SqlTrendQuery),
    responses((status = 200, body = Contents<SqlTrend>)))]
async fn sql_trends(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath((id, tenant, sql_id)): ApiPath<(i64, i64, String)>,
    ApiQuery(q): ApiQuery<SqlTrendQuery>,
) -> ApiResult<Contents<SqlTrend>> {
    check_sql_id(&sql_id)?;
    let mut range = range(&state, id, tenant, &q.start_time, &q.end_time, &q.server_id).await?;
    let kind = state
        .store
        .sql_texts(id, Some(std::slice::from_ref(&sql_id)))
        .await?
        .get(&sql_id)
        .map(|t| sql_type(t))
        .unwrap_or("UNKNOWN");
    range.filter.sql_id = Some(sql_id);
    range.filter.db_name = q.db_name.filter(|d| !d.is_empty());
    let contents = trend(&state, &range.filter, |p, step| SqlTrend {
        timestamp: trend_time(p.bucket),
        metrics: sql_metrics(p, step, kind),
    })
    .await?;
    Ok(Data(Contents { contents }))
}

/// The points of a trend over the filter's range, each made by `point` from its sums and
/// its length in seconds.
async fn trend<T>(
    state: &AppState,
    filter: &SqlStatFilter,
    point: impl Fn(&SqlStatSum, f64) -> T,
) -> Result<Vec<T>, Failure> {
    let step = trend_step(filter.start, filter.end);
    let points = state
        .store
        .sql_stat_sums(filter, SqlStatGroup::Bucket(step))
        .await?;
    let step = points_step(&points, step) as f64;
    Ok(points.iter().map(|p| point(p, step)).collect())
}

/// The step the store used: a trend read from hours has hour steps.
fn points_step(points: &[SqlStatSum], asked: i64) -> i64 {
    if points.iter().any(|p| p.bucket % 3600 != 0) {
        asked
    } else if points.len() > 1 {
        points
            .windows(2)
            .map(|w| w[1].bucket - w[0].bucket)
            .min()
            .unwrap_or(asked)
            .max(asked)
    } else {
        asked
    }
}

/// A statement's whole parameterized text.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/sql/{sqlId}/text",
    tag = "sql",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("sqlId" = String, Path), SqlRangeQuery),
    responses((status = 200, body = SqlText)))]
async fn sql_text(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath((id, tenant, sql_id)): ApiPath<(i64, i64, String)>,
) -> ApiResult<SqlText> {
    check_sql_id(&sql_id)?;
    crate::cluster::tenant::sys_tenant(&state.store, id, tenant).await?;
    let texts = state
        .store
        .sql_texts(id, Some(std::slice::from_ref(&sql_id)))
        .await?;
    let fulltext = texts
        .get(&sql_id)
        .cloned()
        .ok_or_else(|| Failure::not_found("SQL", &sql_id))?;
    Ok(Data(SqlText { fulltext }))
}

async fn plans(
    state: &AppState,
    id: i64,
    tenant: i64,
    sql_id: String,
    q: SqlRangeQuery,
) -> Result<Contents<TopPlan>, Failure> {
    check_sql_id(&sql_id)?;
    let mut range = range(state, id, tenant, &q.start_time, &q.end_time, &q.server_id).await?;
    range.filter.sql_id = Some(sql_id);
    let sums = state
        .store
        .sql_stat_sums(&range.filter, SqlStatGroup::Plan)
        .await?;
    let servers = addresses(state, id).await?;
    let mut plans: Vec<TopPlan> = sums
        .iter()
        .map(|s| TopPlan {
            uid: plan_uid(s.server_id, s.plan_id, &s.plan_hash),
            server: servers.get(&s.server_id).cloned().unwrap_or_default(),
            server_id: s.server_id,
            plan_id: s.plan_id,
            first_load_time: None,
            plan_type: plan_type(s.plan_type).into(),
            plan_hash: s.plan_hash.parse::<u64>().map(|h| h as i64).unwrap_or(0),
            plan_size: None,
            schema_version: None,
            merged_version: None,
            metrics: plan_metrics(s, range.seconds),
        })
        .collect();
    plans.sort_by(|a, b| {
        b.metrics
            .avg_elapsed_time
            .total_cmp(&a.metrics.avg_elapsed_time)
    });
    Ok(Contents { contents: plans })
}

/// The plans a statement ran with over a time range, slowest on average first; their uid
/// names them in `plans/{uid}/...`.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/sql/{sqlId}/topPlan",
    tag = "sql",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("sqlId" = String, Path), SqlRangeQuery),
    responses((status = 200, body = Contents<TopPlan>)))]
async fn top_plans(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath((id, tenant, sql_id)): ApiPath<(i64, i64, String)>,
    ApiQuery(q): ApiQuery<SqlRangeQuery>,
) -> ApiResult<Contents<TopPlan>> {
    Ok(Data(plans(&state, id, tenant, sql_id, q).await?))
}

/// The same as `sql/{sqlId}/topPlan`, at the path of OCP's sample request.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/sqls/{sqlId}/topPlan",
    tag = "sql",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("sqlId" = String, Path), SqlRangeQuery),
    responses((status = 200, body = Contents<TopPlan>)))]
async fn top_plans_of(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath((id, tenant, sql_id)): ApiPath<(i64, i64, String)>,
    ApiQuery(q): ApiQuery<SqlRangeQuery>,
) -> ApiResult<Contents<TopPlan>> {
    Ok(Data(plans(&state, id, tenant, sql_id, q).await?))
}

fn uid(uid: &str) -> Result<(i64, i64, String), Failure> {
    parse_plan_uid(uid).ok_or_else(|| {
        Failure::field(
            "uid",
            "is not a plan uid (SERVER-PLAN-HASH, as topPlan answers it)",
        )
    })
}

/// A plan's figures over time, as a statement's trend.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/plans/{uid}/trends",
    tag = "sql",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("uid" = String, Path), SqlRangeQuery),
    responses((status = 200, body = Contents<PlanTrend>)))]
async fn plan_trends(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath((id, tenant, plan)): ApiPath<(i64, i64, String)>,
    ApiQuery(q): ApiQuery<SqlRangeQuery>,
) -> ApiResult<Contents<PlanTrend>> {
    let (server, plan_id, hash) = uid(&plan)?;
    let server = Some(server.to_string());
    let mut range = range(&state, id, tenant, &q.start_time, &q.end_time, &server).await?;
    range.filter.plan = Some((plan_id, hash));
    let contents = trend(&state, &range.filter, |p, step| PlanTrend {
        timestamp: trend_time(p.bucket),
        metrics: plan_metrics(p, step),
    })
    .await?;
    Ok(Data(Contents { contents }))
}

async fn operators(
    state: &AppState,
    id: i64,
    tenant: i64,
    plan: &str,
) -> Result<PlanExplain, Failure> {
    let (server_id, plan_id, hash) = uid(plan)?;
    let cluster = crate::cluster::tenant::sys_tenant(&state.store, id, tenant).await?;
    let server = state
        .store
        .servers(id)
        .await?
        .into_iter()
        .find(|s| s.id == server_id)
        .ok_or_else(|| {
            Failure::field(
                "uid",
                format!("server {server_id} is not one of cluster {id}'s"),
            )
        })?;
    let mut client = state.ob.connect_to(&cluster, &server).await?;
    let rows = client
        .plan_operators(plan_id, &hash)
        .await
        .map_err(ob_failure);
    client.close().await;
    let rows = rows?;
    if rows.is_empty() {
        return Err(Failure::new(
            ocp_api::ErrorCode::NotFound,
            format!(
                "plan {plan_id} is no longer in the server's plan cache (seekdb keeps a \
                 plan's operators only while it is cached); run the statement again and take \
                 the uid of its new plan"
            ),
        ));
    }
    Ok(PlanExplain {
        root_operations: plan_tree(&rows),
    })
}

/// A cached plan's operators as a tree, read from the server that holds it.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/plans/{uid}/explain",
    tag = "sql",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("uid" = String, Path), SqlRangeQuery),
    responses((status = 200, body = PlanExplain)))]
async fn explain(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath((id, tenant, plan)): ApiPath<(i64, i64, String)>,
) -> ApiResult<PlanExplain> {
    Ok(Data(operators(&state, id, tenant, &plan).await?))
}

/// `explain` at the path OCP's reference gives (sic).
#[utoipa::path(get, path = "/api/v2/cluters/{id}/tenants/{tenantId}/plans/{uid}/explain",
    tag = "sql",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("uid" = String, Path), SqlRangeQuery),
    responses((status = 200, body = PlanExplain)))]
async fn explain_as_documented(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath((id, tenant, plan)): ApiPath<(i64, i64, String)>,
) -> ApiResult<PlanExplain> {
    Ok(Data(operators(&state, id, tenant, &plan).await?))
}

/// Slow executions read per query at most.
const SLOW_READ: i64 = 20_000;

fn parse_limit(text: &Option<String>) -> Result<usize, Failure> {
    match text.as_deref() {
        None => Ok(DEFAULT_LIMIT),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=2000).contains(n))
            .ok_or_else(|| Failure::field("limit", "must be a whole number from 1 to 2000")),
    }
}

async fn slow_of(
    state: &AppState,
    id: i64,
    tenant: i64,
    q: &SlowSqlQuery,
) -> Result<Vec<SlowQuery>, Failure> {
    let range = range(state, id, tenant, &q.start_time, &q.end_time, &q.server_id).await?;
    if let Some(sql_id) = &q.sql_id {
        check_sql_id(sql_id)?;
    }
    let keyword = q
        .sql_text
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_lowercase);
    let mut found = state
        .store
        .slow_queries(
            id,
            range.filter.start * 1000,
            range.filter.end * 1000 + 999,
            range.filter.server_id,
            q.sql_id.as_deref(),
            SLOW_READ,
        )
        .await?;
    if let Some(k) = &keyword {
        found.retain(|s| s.statement.to_lowercase().contains(k.as_str()));
    }
    Ok(found)
}

/// The statements that ran slower than the servers' trace watermark
/// (`trace_log_slow_query_watermark`, 100 ms as the platform deploys seekdb) over a time
/// range, from their `[slow query]` log lines: how often, how slow on average and at
/// most, the latest trace id; slowest on average first.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/slowSql", tag = "sql",
    params(("id" = i64, Path), ("tenantId" = i64, Path), SlowSqlQuery),
    responses((status = 200, body = Contents<SlowSql>)))]
async fn slow_sql(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath((id, tenant)): ApiPath<(i64, i64)>,
    ApiQuery(q): ApiQuery<SlowSqlQuery>,
) -> ApiResult<Contents<SlowSql>> {
    let limit = parse_limit(&q.limit)?;
    let found = slow_of(&state, id, tenant, &q).await?;
    let servers = addresses(&state, id).await?;
    // Newest first, so the first of a group is its latest.
    let mut groups: Vec<(SlowSql, i64)> = Vec::new();
    let mut index: HashMap<(i64, String), usize> = HashMap::new();
    for s in &found {
        let key = (
            s.ob_server_id,
            s.sql_id.clone().unwrap_or_else(|| s.statement.clone()),
        );
        let at = *index.entry(key).or_insert_with(|| {
            groups.push((
                SlowSql {
                    sql_id: s.sql_id.clone(),
                    server: servers.get(&s.ob_server_id).cloned().unwrap_or_default(),
                    server_id: s.ob_server_id,
                    db_name: s.db_name.clone(),
                    user_name: s.user_name.clone(),
                    sql_type: sql_type(&s.statement).into(),
                    sql_text_short: short(&s.statement),
                    last_request_time: Some(Timestamp::from_millis(s.request_time)),
                    last_trace_id: s.trace_id.clone(),
                    ..Default::default()
                },
                0,
            ));
            groups.len() - 1
        });
        let (g, total_us) = &mut groups[at];
        g.executions += 1;
        *total_us += s.elapsed_us;
        g.max_elapsed_time = g.max_elapsed_time.max(s.elapsed_us as f64 / 1000.0);
    }
    let mut rows: Vec<SlowSql> = groups
        .into_iter()
        .map(|(mut g, total_us)| {
            g.avg_elapsed_time =
                (total_us as f64 / g.executions.max(1) as f64 / 1000.0 * 1000.0).round() / 1000.0;
            g
        })
        .collect();
    rows.sort_by(|a, b| b.avg_elapsed_time.total_cmp(&a.avg_elapsed_time));
    rows.truncate(limit);
    Ok(Data(Contents { contents: rows }))
}

/// Each slow execution over a time range, newest first (of one statement with `sqlId`):
/// when, how long, its trace id (which a log search takes), session and client.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/slowSql/executions",
    tag = "sql",
    params(("id" = i64, Path), ("tenantId" = i64, Path), SlowSqlQuery),
    responses((status = 200, body = Contents<SlowExecution>)))]
async fn slow_executions(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath((id, tenant)): ApiPath<(i64, i64)>,
    ApiQuery(q): ApiQuery<SlowSqlQuery>,
) -> ApiResult<Contents<SlowExecution>> {
    let limit = parse_limit(&q.limit)?;
    let found = slow_of(&state, id, tenant, &q).await?;
    let servers = addresses(&state, id).await?;
    Ok(Data(Contents {
        contents: found
            .into_iter()
            .take(limit)
            .map(|s| SlowExecution {
                request_time: Some(Timestamp::from_millis(s.request_time)),
                server: servers.get(&s.ob_server_id).cloned().unwrap_or_default(),
                server_id: s.ob_server_id,
                elapsed_time: s.elapsed_us as f64 / 1000.0,
                trace_id: s.trace_id,
                session_id: s.session_id,
                client: s.client,
                sql_id: s.sql_id,
                plan_id: s.plan_id,
                db_name: s.db_name,
                user_name: s.user_name,
                return_rows: s.return_rows,
                affected_rows: s.affected_rows,
                statement: s.statement,
            })
            .collect(),
    }))
}
