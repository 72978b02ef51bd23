//! `/api/v2/alarm/silencers`: blocking conditions.

use std::collections::BTreeMap;

use axum::extract::State;
use ocp_api::alarm::{AlarmSilencer, AlarmSilencerRequest, AppType};
use ocp_api::{PageData, PageQuery, Timestamp};
use ocp_store::SilencerRecord;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::*;
use crate::alarm::evaluate::silences;
use crate::auth::{perm, Authz};
use crate::http::{ApiJson, ApiPath, ApiQuery, ApiResult, Data, Failure, NoData};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_silencers, create_silencer))
        .routes(routes!(get_silencer, delete_silencer))
}

fn hhmm(field: &str, text: &Option<String>) -> Result<Option<i64>, Failure> {
    text.as_deref()
        .map(|t| {
            chrono::NaiveTime::parse_from_str(t, "%H:%M")
                .map(|time| {
                    use chrono::Timelike;
                    i64::from(time.hour() * 60 + time.minute())
                })
                .map_err(|_| Failure::field(field, format!("{t:?} is not HH:MM")))
        })
        .transpose()
}

fn silencer_view(s: SilencerRecord) -> AlarmSilencer {
    let now = ocp_store::now_millis();
    let labels: BTreeMap<String, String> = serde_json::from_str(&s.matchers).unwrap_or_default();
    let types: Vec<String> = serde_json::from_str(&s.alarm_types).unwrap_or_default();
    let probe_type = types.first().cloned().unwrap_or_default();
    let in_effect = silences(
        &s,
        s.app_type.as_deref().unwrap_or(""),
        &probe_type,
        &labels,
        now,
    );
    let time = |m: Option<i64>| m.map(|m| format!("{:02}:{:02}", m / 60, m % 60));
    AlarmSilencer {
        id: s.id,
        app_type: s.app_type,
        alarm_types: types,
        matchers: labels,
        starts_at: Timestamp::from_millis(s.starts_at),
        ends_at: Timestamp::from_millis(s.ends_at),
        daily_start: time(s.daily_start),
        daily_end: time(s.daily_end),
        comment: s.comment,
        creator: s.creator,
        in_effect,
        create_time: Timestamp::from_millis(s.create_time),
    }
}

/// Lists blocking conditions, but those ended more than seven days ago.
#[utoipa::path(get, path = "/api/v2/alarm/silencers", tag = "alarm", params(PageQuery),
    responses((status = 200, body = PageData<AlarmSilencer>)))]
async fn list_silencers(
    _: Authz<perm::AlarmRead>,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<PageData<AlarmSilencer>> {
    let paging = paging(&query)?;
    let week_ago = ocp_store::now_millis() - 7 * 86_400_000;
    Ok(Data(page(
        state.store.alarm_silencers(week_ago).await?,
        &paging,
        silencer_view,
    )))
}

/// One blocking condition.
#[utoipa::path(get, path = "/api/v2/alarm/silencers/{id}", tag = "alarm", params(("id" = i64, Path)),
    responses((status = 200, body = AlarmSilencer)))]
async fn get_silencer(
    _: Authz<perm::AlarmRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<AlarmSilencer> {
    Ok(Data(silencer_view(state.store.alarm_silencer(id).await?)))
}

/// Creates a blocking condition; it applies from the next evaluation.
#[utoipa::path(post, path = "/api/v2/alarm/silencers", tag = "alarm", request_body = AlarmSilencerRequest,
    responses((status = 200, body = AlarmSilencer)))]
async fn create_silencer(
    Authz(caller, _): Authz<perm::AlarmCreate>,
    State(state): State<AppState>,
    ApiJson(q): ApiJson<AlarmSilencerRequest>,
) -> ApiResult<AlarmSilencer> {
    let now = ocp_store::now_millis();
    let app_types = names(AppType::ALL, AppType::as_str);
    let app_type =
        one_of("appType", &q.app_type, AppType::parse, &app_types)?.map(|t| t.as_str().to_string());
    let starts_at = q.starts_at.map(|t| t.millis()).unwrap_or(now);
    let ends_at = q
        .ends_at
        .map(|t| t.millis())
        .ok_or_else(|| Failure::field("endsAt", "is required"))?;
    if ends_at <= starts_at.max(now) {
        return Err(Failure::field("endsAt", "must be after startsAt and now"));
    }
    let types = q.alarm_types.unwrap_or_default();
    if !types.is_empty() {
        let rules = state.store.alarm_rules().await?;
        if let Some(unknown) = types.iter().find(|t| !rules.iter().any(|r| r.name == **t)) {
            return Err(Failure::field(
                "alarmTypes",
                format!("{unknown} is not an alert item"),
            ));
        }
    }
    let matchers = q.matchers.unwrap_or_default();
    if types.is_empty() && matchers.is_empty() && app_type.is_none() {
        return Err(Failure::field(
            "matchers",
            "name an alert item, an application or labels to match: this would block everything",
        ));
    }
    let daily_start = hhmm("dailyStart", &q.daily_start)?;
    let daily_end = hhmm("dailyEnd", &q.daily_end)?;
    if daily_start.is_some() != daily_end.is_some()
        || (daily_start.is_some() && daily_start == daily_end)
    {
        return Err(Failure::field(
            "dailyEnd",
            "a daily window needs a different start and end",
        ));
    }
    let id = state
        .store
        .insert_alarm_silencer(&SilencerRecord {
            id: 0,
            app_type,
            alarm_types: serde_json::to_string(&types).map_err(Failure::internal)?,
            matchers: serde_json::to_string(&matchers).map_err(Failure::internal)?,
            starts_at,
            ends_at,
            daily_start,
            daily_end,
            comment: q.comment.unwrap_or_default(),
            creator: caller.username.clone(),
            create_time: 0,
        })
        .await?;
    Ok(Data(silencer_view(state.store.alarm_silencer(id).await?)))
}

/// Deletes a blocking condition: matching alerts that still fire become Active again.
#[utoipa::path(delete, path = "/api/v2/alarm/silencers/{id}", tag = "alarm", params(("id" = i64, Path)),
    responses((status = 200)))]
async fn delete_silencer(
    _: Authz<perm::AlarmDelete>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<NoData, Failure> {
    state.store.delete_alarm_silencer(id).await?;
    Ok(NoData)
}
