//! `/api/v2/alarm/alarms`: alert events, as OCP documents them.

use axum::extract::State;
use ocp_api::alarm::{Alarm, AlarmFilter, AlarmScope, AlarmStatus, AppType};
use ocp_api::{PageData, PageQuery, Timestamp};
use ocp_store::{AlarmListFilter, EventRecord};
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

/// An event with its labels: what the rule saw, and every template variable of the event
/// (`alarm_summary`, `alarm_status`, `alarm_active_at`, `service`, ...).
fn alarm_view(e: EventRecord, base_url: &str) -> Alarm {
    let labels = crate::alarm::engine::event_vars(&e, base_url);
    Alarm {
        id: e.id,
        app_type: e.app_type,
        alarm_type: e.alarm_type,
        scope: e.scope,
        level: e.level as i32,
        status: e.status,
        target: e.target,
        summary: e.summary,
        description: e.description,
        active_at: Timestamp::from_millis(e.active_at),
        resolved_at: e.resolved_at.map(Timestamp::from_millis),
        updated_at: Timestamp::from_millis(e.updated_at),
        gmt_create: Timestamp::from_millis(e.active_at),
        gmt_modified: Timestamp::from_millis(e.updated_at),
        labels,
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
    let filter = event_filter(&filter)?;
    let (rows, total) = state
        .store
        .alarms(&filter, paging.offset(), paging.size)
        .await?;
    Ok(Data(PageData::new(
        rows.into_iter()
            .map(|e| alarm_view(e, &state.public_url))
            .collect(),
        total,
        paging.page,
        paging.size,
    )))
}

/// The store's filter for an event filter of the API; a bad value names its field.
pub(super) fn event_filter(f: &AlarmFilter) -> Result<AlarmListFilter, Failure> {
    let app_types = names(AppType::ALL, AppType::as_str);
    let scopes = names(AlarmScope::ALL, AlarmScope::as_str);
    let statuses = names(AlarmStatus::ALL, AlarmStatus::as_str);
    let given = |v: &Option<String>| v.as_deref().filter(|t| !t.is_empty()).map(str::to_string);
    let mut labels = Vec::new();
    for (value, key) in [(&f.ob_cluster, "ob_cluster"), (&f.host_ip, "host_ip")] {
        if let Some(v) = given(value) {
            labels.push((key.to_string(), v));
        }
    }
    Ok(AlarmListFilter {
        app_type: one_of("appType", &f.app_type, AppType::parse, &app_types)?,
        scope: one_of("scope", &f.scope, AlarmScope::parse, &scopes)?,
        status: one_of("status", &f.status, AlarmStatus::parse, &statuses)?,
        level: level("level", &f.level)?,
        alarm_type: given(&f.alarm_type),
        labels,
        active_from: millis("activeAtStart", &f.active_at_start)?,
        active_to: millis("activeAtEnd", &f.active_at_end)?,
        keyword: f
            .keyword
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_string),
    })
}

/// One alert event.
#[utoipa::path(get, path = "/api/v2/alarm/alarms/{id}", tag = "alarm", params(("id" = i64, Path)),
    responses((status = 200, body = Alarm)))]
async fn get_alarm(
    _: Authz<perm::AlarmRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Alarm> {
    Ok(Data(alarm_view(
        state.store.alarm(id).await?,
        &state.public_url,
    )))
}
