//! `/api/v2/alarm/notifications`: every notification with its delivery attempts.

use std::collections::BTreeMap;

use axum::extract::State;
use ocp_api::alarm::{
    AlarmFilter, Notification, NotificationAttempt, NotificationFilter, NotificationStatus,
};
use ocp_api::{PageData, PageQuery, Timestamp};
use ocp_store::{ChannelRecord, NotificationListFilter};
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::events::event_filter;
use super::*;
use crate::auth::{perm, Authz};
use crate::http::{ApiQuery, ApiResult, Data, Failure};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_notifications))
}

/// Lists notifications with every delivery attempt, newest first.
#[utoipa::path(get, path = "/api/v2/alarm/notifications", tag = "alarm", params(PageQuery, NotificationFilter),
    responses((status = 200, body = PageData<Notification>)))]
async fn list_notifications(
    _: Authz<perm::AlarmRead>,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<NotificationFilter>,
) -> ApiResult<PageData<Notification>> {
    let paging = paging(&query)?;
    let id = |field: &str, text: &Option<String>| -> Result<Option<i64>, Failure> {
        text.as_deref()
            .filter(|t| !t.is_empty())
            .map(|t| {
                t.parse::<i64>()
                    .map_err(|_| Failure::field(field, format!("{t:?} is not an id")))
            })
            .transpose()
    };
    let statuses = names(NotificationStatus::ALL, NotificationStatus::as_str);
    let filter = NotificationListFilter {
        alarm_id: id("alarmId", &filter.alarm_id)?,
        event: event_filter(&AlarmFilter {
            app_type: filter.app_type.clone(),
            alarm_type: filter.alarm_type.clone(),
            scope: filter.scope.clone(),
            level: filter.level.clone(),
            keyword: filter.keyword.clone(),
            ..Default::default()
        })?,
        status: one_of(
            "status",
            &filter.status,
            NotificationStatus::parse,
            &statuses,
        )?,
        channel_id: id("channelId", &filter.channel_id)?,
        sent_from: millis("sentAtStart", &filter.sent_at_start)?,
        sent_to: millis("sentAtEnd", &filter.sent_at_end)?,
    };
    let (rows, total) = state
        .store
        .notifications(&filter, paging.offset(), paging.size)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|(n, _)| n.id).collect();
    let attempts = state.store.notification_attempts(&ids).await?;
    let channels: BTreeMap<i64, ChannelRecord> = state
        .store
        .alarm_channels()
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut contents = Vec::with_capacity(rows.len());
    for (n, event) in rows {
        let labels = crate::alarm::engine::event_vars(&event, &state.public_url);
        contents.push(Notification {
            id: n.id,
            alarm_ids: vec![n.alarm_id],
            alarm_type: event.alarm_type,
            app_type: event.app_type,
            scope: event.scope,
            level: event.level as i32,
            channel_id: n.channel_id,
            recipient_uid: n.recipient_uid,
            recipient_addr: channels
                .get(&n.channel_id)
                .map(recipient_addr)
                .unwrap_or_default(),
            message: n.message,
            status: n.status,
            channel_response: n.channel_response,
            generated_at: Timestamp::from_millis(n.generated_at),
            sent_at: n.sent_at.map(Timestamp::from_millis),
            is_aggregated: false,
            labels,
            attempts: attempts
                .iter()
                .filter(|a| a.notification_id == n.id)
                .map(|a| NotificationAttempt {
                    attempt: a.attempt as i32,
                    at: Timestamp::from_millis(a.at),
                    successful: a.successful,
                    response: a.response.clone(),
                })
                .collect(),
        });
    }
    Ok(Data(PageData::new(
        contents,
        total,
        paging.page,
        paging.size,
    )))
}

/// Where a channel sends: its URL, or its program.
fn recipient_addr(channel: &ChannelRecord) -> String {
    let config: BTreeMap<String, Value> = serde_json::from_str(&channel.config).unwrap_or_default();
    match config.get("urlTemplate").and_then(Value::as_str) {
        Some(url) => url.to_string(),
        None => config
            .get("command")
            .and_then(Value::as_array)
            .and_then(|c| c.first())
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    }
}
