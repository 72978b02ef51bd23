//! `/api/v2/alarm/alarms`: alert events, as OCP documents them.

use axum::extract::State;
use ocp_api::alarm::{Alarm, AlarmFilter, AlarmScope, AlarmStatus, AppType};
use ocp_api::{PageData, PageQuery, Timestamp};
use ocp_store::{Arg, Conditions, EventRecord};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::*;
use crate::auth::{perm, Authz};
use crate::http::{ApiPath, ApiQuery, ApiResult, Data, Failure};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_alarms))
        .routes(routes!(get_alarm))
}

fn alarm_view(e: EventRecord) -> Alarm {
    Alarm {
        id: e.id,
        app_type: e.app_type,
        alarm_type: e.alarm_type,
        scope: e.scope,
        level: e.level as i32,
        status: AlarmStatus::parse(&e.status).unwrap_or(AlarmStatus::Active),
        target: e.target,
        summary: e.summary,
        description: e.description,
        active_at: Timestamp::from_millis(e.active_at),
        resolved_at: e.resolved_at.map(Timestamp::from_millis),
        updated_at: Timestamp::from_millis(e.updated_at),
        gmt_create: Timestamp::from_millis(e.active_at),
        gmt_modified: Timestamp::from_millis(e.updated_at),
        labels: labels_of(&e.labels),
    }
}

/// Lists alert events, newest first.
#[utoipa::path(get, path = "/api/v2/alarm/alarms", tag = "alarm", params(PageQuery, AlarmFilter),
    responses((status = 200, body = PageData<Alarm>)))]
async fn list_alarms(
    _: Authz<perm::AlarmRead>,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<AlarmFilter>,
) -> ApiResult<PageData<Alarm>> {
    let paging = paging(&query)?;
    let mut c = Conditions::default();
    event_conditions(&mut c, "", &filter)?;
    let (rows, total) = state.store.alarms(&c, paging.offset(), paging.size).await?;
    Ok(Data(PageData::new(
        rows.into_iter().map(alarm_view).collect(),
        total,
        paging.page,
        paging.size,
    )))
}

/// Conditions on event columns (`prefix` is the table alias with its dot, or empty).
pub(super) fn event_conditions(
    c: &mut Conditions,
    prefix: &str,
    f: &AlarmFilter,
) -> Result<(), Failure> {
    let app_types = names(AppType::ALL, AppType::as_str);
    if let Some(v) = one_of("appType", &f.app_type, AppType::parse, &app_types)? {
        c.push(&format!("{prefix}app_type = ?"), vec![Arg::Text(v)]);
    }
    let scopes = names(AlarmScope::ALL, AlarmScope::as_str);
    if let Some(v) = one_of("scope", &f.scope, AlarmScope::parse, &scopes)? {
        c.push(&format!("{prefix}scope = ?"), vec![Arg::Text(v)]);
    }
    let statuses = names(AlarmStatus::ALL, AlarmStatus::as_str);
    if let Some(v) = one_of("status", &f.status, AlarmStatus::parse, &statuses)? {
        c.push(&format!("{prefix}status = ?"), vec![Arg::Text(v)]);
    }
    if let Some(v) = level("level", &f.level)? {
        c.push(&format!("{prefix}level = ?"), vec![Arg::Int(v)]);
    }
    if let Some(v) = f.alarm_type.as_deref().filter(|t| !t.is_empty()) {
        c.push(
            &format!("{prefix}alarm_type = ?"),
            vec![Arg::Text(v.into())],
        );
    }
    for (value, key) in [(&f.ob_cluster, "ob_cluster"), (&f.host_ip, "host_ip")] {
        if let Some(v) = value.as_deref().filter(|t| !t.is_empty()) {
            // Labels are canonical JSON: a pair appears exactly as serde writes it.
            let pair = format!(
                "%{}%",
                serde_json::json!({ key: v })
                    .to_string()
                    .trim_matches(['{', '}'])
            );
            c.push(&format!("{prefix}labels LIKE ?"), vec![Arg::Text(pair)]);
        }
    }
    if let Some(v) = millis("activeAtStart", &f.active_at_start)? {
        c.push(&format!("{prefix}active_at >= ?"), vec![Arg::Int(v)]);
    }
    if let Some(v) = millis("activeAtEnd", &f.active_at_end)? {
        c.push(&format!("{prefix}active_at <= ?"), vec![Arg::Int(v)]);
    }
    if let Some(k) = f.keyword.as_deref().filter(|t| !t.trim().is_empty()) {
        let pattern = format!("%{}%", k.trim().to_lowercase());
        c.push(
            &format!(
                "(LOWER({prefix}target) LIKE ? OR LOWER({prefix}summary) LIKE ? \
                 OR LOWER({prefix}description) LIKE ?)"
            ),
            vec![
                Arg::Text(pattern.clone()),
                Arg::Text(pattern.clone()),
                Arg::Text(pattern),
            ],
        );
    }
    Ok(())
}

/// One alert event.
#[utoipa::path(get, path = "/api/v2/alarm/alarms/{id}", tag = "alarm", params(("id" = i64, Path)),
    responses((status = 200, body = Alarm)))]
async fn get_alarm(
    _: Authz<perm::AlarmRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Alarm> {
    Ok(Data(alarm_view(state.store.alarm(id).await?)))
}
