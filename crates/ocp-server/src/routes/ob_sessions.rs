//! `/api/v2/ob/clusters/{id}/tenants/{tenantId}/sessions`: the sessions of a tenant, read
//! from the server's process list, their statistics, and ending them or their statements,
//! as OCP's session pages do. The platform's own sessions (its monitor's and backups'
//! users, and the connection that asks) are never ended.

use std::collections::BTreeMap;

use axum::extract::State;
use ocp_api::obdb::{CloseSessions, SessionCount, SessionQuery, SessionStats, TenantSession};
use ocp_api::{PageData, PageQuery};
use ocp_ob::SessionRow;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{perm, Authz};
use crate::cluster::access::ob_failure;
use crate::http::{
    page_of, parse_flag, ApiJson, ApiPath, ApiQuery, ApiResult, Data, Failure, NoData, Paging,
};
use crate::routes::ob_tenants::open;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sessions))
        .routes(routes!(session_stats))
        .routes(routes!(get_session))
        .routes(routes!(close_sessions))
        .routes(routes!(close_queries))
}

type TenantPath = ApiPath<(i64, i64)>;

/// The users the platform itself connects as: its monitor and its logical backups.
const PLATFORM_USERS: &[&str] = &["ocp_monitor_", "ocp_backup_"];

fn view(row: SessionRow) -> TenantSession {
    let status = if row.active() { "ACTIVE" } else { "SLEEP" };
    TenantSession {
        id: row.id,
        db_user: row.user,
        client_ip: row.client_ip,
        host: row.host,
        db_name: row.db,
        command: row.command,
        time: row.time as i64,
        status: status.into(),
        info: row.info,
        proxy_ip: None,
        sql_id: row.sql_id,
        trace_id: row.trace_id,
        trans_state: row.trans_state,
    }
}

/// The tenant's sessions, but for the one that lists them.
async fn sessions(state: &AppState, id: i64, tenant: i64) -> Result<Vec<SessionRow>, Failure> {
    let (_, mut client) = open(state, id, tenant).await?;
    let listed = client.sessions().await.map_err(ob_failure);
    client.close().await;
    let (rows, own) = listed?;
    Ok(rows.into_iter().filter(|r| r.id != own).collect())
}

/// The sessions of a tenant, by id; filtered by user, database and client address, and to
/// the active ones with `activeOnly=true`.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/sessions", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), PageQuery, SessionQuery),
    responses((status = 200, body = PageData<TenantSession>)))]
async fn list_sessions(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath((id, tenant)): TenantPath,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(query): ApiQuery<SessionQuery>,
) -> ApiResult<PageData<TenantSession>> {
    let paging = Paging::parse(&page, &[])?;
    let active_only = parse_flag("activeOnly", query.active_only.as_deref())?.unwrap_or(false);
    let matches = |wanted: &Option<String>, value: Option<&str>| {
        wanted
            .as_deref()
            .is_none_or(|w| value.is_some_and(|v| v.contains(w)))
    };
    let rows = sessions(&state, id, tenant).await?;
    let shown = rows
        .into_iter()
        .filter(|r| !active_only || r.active())
        .filter(|r| matches(&query.db_user, Some(&r.user)))
        .filter(|r| matches(&query.db_name, r.db.as_deref()))
        .filter(|r| matches(&query.client_ip, Some(&r.client_ip)))
        .map(view)
        .collect();
    Ok(Data(page_of(shown, &paging)))
}

/// Counts per key, sorted by key.
fn counted(
    rows: &[SessionRow],
    key: impl Fn(&SessionRow) -> String,
    make: impl Fn(String, i64, i64) -> SessionCount,
) -> Vec<SessionCount> {
    let mut counts: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for row in rows {
        let entry = counts.entry(key(row)).or_default();
        entry.0 += 1;
        entry.1 += i64::from(row.active());
    }
    counts
        .into_iter()
        .map(|(k, (total, active))| make(k, total, active))
        .collect()
}

/// The tenant's sessions in numbers: total and active, the longest active one, and both
/// counts by user, by database and by client address.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/sessions/stats", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path)),
    responses((status = 200, body = SessionStats)))]
async fn session_stats(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath((id, tenant)): TenantPath,
) -> ApiResult<SessionStats> {
    let rows = sessions(&state, id, tenant).await?;
    let count = |db_user, db_name, client_ip, total_count, active_count| SessionCount {
        db_user,
        db_name,
        client_ip,
        total_count,
        active_count,
    };
    Ok(Data(SessionStats {
        total_count: rows.len() as i64,
        active_count: rows.iter().filter(|r| r.active()).count() as i64,
        max_active_time: rows
            .iter()
            .filter(|r| r.active())
            .map(|r| r.time as i64)
            .max()
            .unwrap_or(0),
        db_stats: counted(
            &rows,
            |r| r.db.clone().unwrap_or_default(),
            |k, t, a| count(None, Some(k), None, t, a),
        ),
        user_stats: counted(
            &rows,
            |r| r.user.clone(),
            |k, t, a| count(Some(k), None, None, t, a),
        ),
        client_stats: counted(
            &rows,
            |r| r.client_ip.clone(),
            |k, t, a| count(None, None, Some(k), t, a),
        ),
    }))
}

/// One session.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/sessions/{sessionId}", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("sessionId" = i64, Path)),
    responses((status = 200, body = TenantSession)))]
async fn get_session(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath((id, tenant, session)): ApiPath<(i64, i64, i64)>,
) -> ApiResult<TenantSession> {
    let rows = sessions(&state, id, tenant).await?;
    rows.into_iter()
        .find(|r| r.id == session)
        .map(|r| Data(view(r)))
        .ok_or_else(|| Failure::not_found("session", session))
}

/// Ends sessions, or stops their statements (`query_only`): every id is checked first, so
/// one that does not exist, or is the platform's own, ends none.
async fn close(
    state: &AppState,
    id: i64,
    tenant: i64,
    request: &CloseSessions,
    query_only: bool,
) -> Result<NoData, Failure> {
    if request.session_ids.is_empty() {
        return Err(Failure::field("sessionIds", "name at least one session"));
    }
    let (_, mut client) = open(state, id, tenant).await?;
    let checked = async {
        let (rows, own) = client.sessions().await.map_err(ob_failure)?;
        for session in &request.session_ids {
            let Some(row) = rows.iter().find(|r| r.id == *session) else {
                return Err(Failure::field(
                    "sessionIds",
                    format!("there is no session {session}"),
                ));
            };
            if row.id == own || PLATFORM_USERS.iter().any(|p| row.user.starts_with(p)) {
                return Err(Failure::field(
                    "sessionIds",
                    format!(
                        "session {session} ({}) is the platform's own and is not ended",
                        row.user
                    ),
                ));
            }
        }
        for session in &request.session_ids {
            client
                .kill(*session, query_only)
                .await
                .map_err(ob_failure)?;
        }
        Ok(NoData)
    }
    .await;
    client.close().await;
    checked
}

/// End sessions (`KILL`).
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/sessions/close", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path)), request_body = CloseSessions,
    responses((status = 200)))]
async fn close_sessions(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath((id, tenant)): TenantPath,
    ApiJson(request): ApiJson<CloseSessions>,
) -> Result<NoData, Failure> {
    close(&state, id, tenant, &request, false).await
}

/// Stop the statements sessions run (`KILL QUERY`); the sessions stay.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/sessions/closeQuery", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path)), request_body = CloseSessions,
    responses((status = 200)))]
async fn close_queries(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath((id, tenant)): TenantPath,
    ApiJson(request): ApiJson<CloseSessions>,
) -> Result<NoData, Failure> {
    close(&state, id, tenant, &request, true).await
}
