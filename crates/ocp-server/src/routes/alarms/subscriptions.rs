//! `/api/v2/alarm/subscriptions`: which alerts go to which channel.

use axum::extract::State;
use ocp_api::alarm::{AlarmSubscription, AlarmSubscriptionRequest};
use ocp_api::{PageData, PageQuery, Timestamp};
use ocp_store::SubscriptionRecord;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::*;
use crate::auth::{perm, Authz};
use crate::http::{ApiJson, ApiPath, ApiQuery, ApiResult, Data, Failure, NoData};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_subscriptions, create_subscription))
        .routes(routes!(update_subscription, delete_subscription))
}

fn subscription_view(s: SubscriptionRecord) -> AlarmSubscription {
    AlarmSubscription {
        id: s.id,
        channel_id: s.channel_id,
        user_id: s.user_id,
        alarm_types: serde_json::from_str(&s.alarm_types).unwrap_or_default(),
        max_level: s.max_level as i32,
        send_resolved: s.send_resolved,
        repeat_seconds: s.repeat_secs,
        enabled: s.enabled,
        create_time: Timestamp::from_millis(s.create_time),
        update_time: Timestamp::from_millis(s.update_time),
    }
}

async fn apply_subscription(
    state: &AppState,
    s: &mut SubscriptionRecord,
    q: AlarmSubscriptionRequest,
) -> Result<(), Failure> {
    if let Some(v) = q.channel_id {
        s.channel_id = v;
    }
    if let Some(v) = q.user_id {
        s.user_id = Some(v);
    }
    if let Some(v) = q.alarm_types {
        let rules = state.store.alarm_rules().await?;
        if let Some(unknown) = v.iter().find(|t| !rules.iter().any(|r| r.name == **t)) {
            return Err(Failure::field(
                "alarmTypes",
                format!("{unknown} is not an alert item"),
            ));
        }
        s.alarm_types = serde_json::to_string(&v).map_err(Failure::internal)?;
    }
    if let Some(v) = q.max_level {
        s.max_level = i64::from(v);
    }
    if let Some(v) = q.send_resolved {
        s.send_resolved = v;
    }
    if let Some(v) = q.repeat_seconds {
        s.repeat_secs = v;
    }
    if let Some(v) = q.enabled {
        s.enabled = v;
    }
    state.store.alarm_channel(s.channel_id).await.map_err(|_| {
        Failure::field(
            "channelId",
            format!("channel {} does not exist", s.channel_id),
        )
    })?;
    if let Some(user) = s.user_id {
        state
            .store
            .user(user)
            .await
            .map_err(|_| Failure::field("userId", format!("user {user} does not exist")))?;
    }
    if !(1..=5).contains(&s.max_level) {
        return Err(Failure::field("maxLevel", "must be 1 to 5"));
    }
    if !(0..=7 * 86_400).contains(&s.repeat_secs) {
        return Err(Failure::field("repeatSeconds", "must be 0 to 604800"));
    }
    Ok(())
}

/// Lists subscriptions.
#[utoipa::path(get, path = "/api/v2/alarm/subscriptions", tag = "alarm", params(PageQuery),
    responses((status = 200, body = PageData<AlarmSubscription>)))]
async fn list_subscriptions(
    _: Authz<perm::AlarmRead>,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<PageData<AlarmSubscription>> {
    let paging = paging(&query)?;
    Ok(Data(page(
        state.store.alarm_subscriptions().await?,
        &paging,
        subscription_view,
    )))
}

/// Subscribes a channel to alert items (all of them when none are named).
#[utoipa::path(post, path = "/api/v2/alarm/subscriptions", tag = "alarm", request_body = AlarmSubscriptionRequest,
    responses((status = 200, body = AlarmSubscription)))]
async fn create_subscription(
    Authz(caller, _): Authz<perm::AlarmCreate>,
    State(state): State<AppState>,
    ApiJson(q): ApiJson<AlarmSubscriptionRequest>,
) -> ApiResult<AlarmSubscription> {
    let Some(channel_id) = q.channel_id else {
        return Err(Failure::field("channelId", "is required"));
    };
    let mut s = SubscriptionRecord {
        id: 0,
        channel_id,
        user_id: Some(caller.user_id),
        alarm_types: "[]".into(),
        max_level: 5,
        send_resolved: true,
        repeat_secs: 0,
        enabled: true,
        create_time: 0,
        update_time: 0,
    };
    apply_subscription(&state, &mut s, q).await?;
    let id = state.store.insert_alarm_subscription(&s).await?;
    Ok(Data(subscription_view(
        state.store.alarm_subscription(id).await?,
    )))
}

/// Changes a subscription.
#[utoipa::path(put, path = "/api/v2/alarm/subscriptions/{id}", tag = "alarm", params(("id" = i64, Path)),
    request_body = AlarmSubscriptionRequest, responses((status = 200, body = AlarmSubscription)))]
async fn update_subscription(
    _: Authz<perm::AlarmUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(q): ApiJson<AlarmSubscriptionRequest>,
) -> ApiResult<AlarmSubscription> {
    let mut s = state.store.alarm_subscription(id).await?;
    apply_subscription(&state, &mut s, q).await?;
    state.store.update_alarm_subscription(&s).await?;
    Ok(Data(subscription_view(
        state.store.alarm_subscription(id).await?,
    )))
}

/// Deletes a subscription.
#[utoipa::path(delete, path = "/api/v2/alarm/subscriptions/{id}", tag = "alarm", params(("id" = i64, Path)),
    responses((status = 200)))]
async fn delete_subscription(
    _: Authz<perm::AlarmDelete>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<NoData, Failure> {
    state.store.delete_alarm_subscription(id).await?;
    Ok(NoData)
}
