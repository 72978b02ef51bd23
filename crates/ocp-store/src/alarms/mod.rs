//! Alerts: rules (alert items), events, channels, subscriptions, blocking conditions
//! ("silencers") and the notifications with each attempt to deliver them.
//!
//! Whichever server evaluates a rule, the database keeps one open event per rule and target
//! (a partial unique index), and only the writer whose insert, resolve or repeat mark took
//! effect queues notifications. So several servers may evaluate side by side.

use ocp_api::alarm::{AlarmStatus, ChannelType, NotificationStatus};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::decode::enum_field;
use crate::{Result, Store, StoreError};

mod filter;
mod notifications;
mod routing;
mod rules;

pub use filter::{AlarmListFilter, NotificationListFilter};

#[derive(Debug, Clone)]
pub struct RuleRecord {
    pub id: i64,
    pub name: String,
    pub display_name: String,
    pub app_type: String,
    pub scope: String,
    pub level: i64,
    pub description: String,
    pub expression: Option<String>,
    pub duration_secs: i64,
    pub interval_secs: i64,
    pub clear_secs: i64,
    pub summary_template: String,
    pub description_template: String,
    pub builtin: bool,
    pub enabled: bool,
    pub create_time: i64,
    pub update_time: i64,
}

#[derive(Debug, Clone)]
pub struct EventRecord {
    pub id: i64,
    pub rule_id: i64,
    pub alarm_type: String,
    pub app_type: String,
    pub scope: String,
    pub level: i64,
    pub target: String,
    pub status: AlarmStatus,
    pub summary: String,
    pub description: String,
    pub labels: String,
    pub value: Option<f64>,
    pub active_at: i64,
    pub updated_at: i64,
    pub resolved_at: Option<i64>,
    pub last_seen_at: i64,
    pub last_notified_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct ChannelRecord {
    pub id: i64,
    pub name: String,
    pub channel_type: ChannelType,
    pub config: String,
    pub message_template: String,
    pub resolved_message_template: String,
    pub rate_limit_per_minute: i64,
    pub max_attempts: i64,
    pub create_time: i64,
    pub update_time: i64,
}

#[derive(Debug, Clone)]
pub struct SubscriptionRecord {
    pub id: i64,
    pub channel_id: i64,
    pub user_id: Option<i64>,
    pub alarm_types: String,
    pub max_level: i64,
    pub send_resolved: bool,
    pub repeat_secs: i64,
    pub enabled: bool,
    pub create_time: i64,
    pub update_time: i64,
}

#[derive(Debug, Clone)]
pub struct SilencerRecord {
    pub id: i64,
    pub app_type: Option<String>,
    pub alarm_types: String,
    pub matchers: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub daily_start: Option<i64>,
    pub daily_end: Option<i64>,
    pub comment: String,
    pub creator: String,
    pub create_time: i64,
}

#[derive(Debug, Clone)]
pub struct NotificationRecord {
    pub id: i64,
    pub alarm_id: i64,
    pub channel_id: i64,
    pub subscription_id: Option<i64>,
    pub recipient_uid: String,
    pub kind: String,
    pub status: NotificationStatus,
    pub message: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub channel_response: String,
    pub generated_at: i64,
    pub sent_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub notification_id: i64,
    pub attempt: i64,
    pub at: i64,
    pub successful: bool,
    pub response: String,
}

/// A notification to queue.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub alarm_id: i64,
    pub channel_id: i64,
    pub subscription_id: Option<i64>,
    pub recipient_uid: String,
    pub kind: String,
    pub message: String,
}

/// The outcome of one delivery attempt.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    pub successful: bool,
    pub response: String,
    /// Pending (another attempt at `next_attempt_at`), Success or Failed.
    pub status: NotificationStatus,
    pub next_attempt_at: i64,
}

/// An event to open.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub rule_id: i64,
    pub alarm_type: String,
    pub app_type: String,
    pub scope: String,
    pub level: i64,
    pub target: String,
    pub status: AlarmStatus,
    pub summary: String,
    pub description: String,
    pub labels: String,
    pub value: Option<f64>,
}

pub(super) fn flag(row: &AnyRow, column: &str) -> Result<bool> {
    Ok(row.try_get::<i64, _>(column)? != 0)
}

pub(super) const RULE_COLUMNS: &str =
    "id, name, display_name, app_type, scope, level, description, \
    expression, duration_secs, interval_secs, clear_secs, summary_template, \
    description_template, builtin, enabled, create_time, update_time";

pub(super) fn rule_from_row(row: &AnyRow) -> Result<RuleRecord> {
    Ok(RuleRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        display_name: row.try_get("display_name")?,
        app_type: row.try_get("app_type")?,
        scope: row.try_get("scope")?,
        level: row.try_get("level")?,
        description: row.try_get("description")?,
        expression: row.try_get("expression")?,
        duration_secs: row.try_get("duration_secs")?,
        interval_secs: row.try_get("interval_secs")?,
        clear_secs: row.try_get("clear_secs")?,
        summary_template: row.try_get("summary_template")?,
        description_template: row.try_get("description_template")?,
        builtin: flag(row, "builtin")?,
        enabled: flag(row, "enabled")?,
        create_time: row.try_get("create_time")?,
        update_time: row.try_get("update_time")?,
    })
}

pub(super) const EVENT_COLUMNS: &str =
    "id, rule_id, alarm_type, app_type, scope, level, target, status, \
    summary, description, labels, value, active_at, updated_at, resolved_at, last_seen_at, \
    last_notified_at";

pub(super) fn event_from_row(row: &AnyRow) -> Result<EventRecord> {
    event_from_prefixed(row, "")
}

/// An event from columns named with `prefix` before their own names.
pub(super) fn event_from_prefixed(row: &AnyRow, prefix: &str) -> Result<EventRecord> {
    // Most reads have no prefix: only a prefixed name is built.
    let c = |name: &'static str| -> std::borrow::Cow<'static, str> {
        if prefix.is_empty() {
            name.into()
        } else {
            format!("{prefix}{name}").into()
        }
    };
    Ok(EventRecord {
        id: row.try_get(&*c("id"))?,
        rule_id: row.try_get(&*c("rule_id"))?,
        alarm_type: row.try_get(&*c("alarm_type"))?,
        app_type: row.try_get(&*c("app_type"))?,
        scope: row.try_get(&*c("scope"))?,
        level: row.try_get(&*c("level"))?,
        target: row.try_get(&*c("target"))?,
        status: enum_field(row, &c("status"), AlarmStatus::parse)?,
        summary: row.try_get(&*c("summary"))?,
        description: row.try_get(&*c("description"))?,
        labels: row.try_get(&*c("labels"))?,
        value: row.try_get(&*c("value"))?,
        active_at: row.try_get(&*c("active_at"))?,
        updated_at: row.try_get(&*c("updated_at"))?,
        resolved_at: row.try_get(&*c("resolved_at"))?,
        last_seen_at: row.try_get(&*c("last_seen_at"))?,
        last_notified_at: row.try_get(&*c("last_notified_at"))?,
    })
}

pub(super) const CHANNEL_COLUMNS: &str = "id, name, channel_type, config, message_template, \
    resolved_message_template, rate_limit_per_minute, max_attempts, create_time, update_time";

pub(super) fn channel_from_row(row: &AnyRow) -> Result<ChannelRecord> {
    Ok(ChannelRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        channel_type: enum_field(row, "channel_type", ChannelType::parse)?,
        config: row.try_get("config")?,
        message_template: row.try_get("message_template")?,
        resolved_message_template: row.try_get("resolved_message_template")?,
        rate_limit_per_minute: row.try_get("rate_limit_per_minute")?,
        max_attempts: row.try_get("max_attempts")?,
        create_time: row.try_get("create_time")?,
        update_time: row.try_get("update_time")?,
    })
}

pub(super) const SUBSCRIPTION_COLUMNS: &str = "id, channel_id, user_id, alarm_types, max_level, \
    send_resolved, repeat_secs, enabled, create_time, update_time";

pub(super) fn subscription_from_row(row: &AnyRow) -> Result<SubscriptionRecord> {
    Ok(SubscriptionRecord {
        id: row.try_get("id")?,
        channel_id: row.try_get("channel_id")?,
        user_id: row.try_get("user_id")?,
        alarm_types: row.try_get("alarm_types")?,
        max_level: row.try_get("max_level")?,
        send_resolved: flag(row, "send_resolved")?,
        repeat_secs: row.try_get("repeat_secs")?,
        enabled: flag(row, "enabled")?,
        create_time: row.try_get("create_time")?,
        update_time: row.try_get("update_time")?,
    })
}

pub(super) const SILENCER_COLUMNS: &str =
    "id, app_type, alarm_types, matchers, starts_at, ends_at, \
    daily_start, daily_end, comment, creator, create_time";

pub(super) fn silencer_from_row(row: &AnyRow) -> Result<SilencerRecord> {
    Ok(SilencerRecord {
        id: row.try_get("id")?,
        app_type: row.try_get("app_type")?,
        alarm_types: row.try_get("alarm_types")?,
        matchers: row.try_get("matchers")?,
        starts_at: row.try_get("starts_at")?,
        ends_at: row.try_get("ends_at")?,
        daily_start: row.try_get("daily_start")?,
        daily_end: row.try_get("daily_end")?,
        comment: row.try_get("comment")?,
        creator: row.try_get("creator")?,
        create_time: row.try_get("create_time")?,
    })
}

pub(super) const NOTIFICATION_COLUMNS: &str =
    "id, alarm_id, channel_id, subscription_id, recipient_uid, \
    kind, status, message, attempts, next_attempt_at, channel_response, generated_at, sent_at";

pub(super) fn notification_from_row(row: &AnyRow) -> Result<NotificationRecord> {
    Ok(NotificationRecord {
        id: row.try_get("id")?,
        alarm_id: row.try_get("alarm_id")?,
        channel_id: row.try_get("channel_id")?,
        subscription_id: row.try_get("subscription_id")?,
        recipient_uid: row.try_get("recipient_uid")?,
        kind: row.try_get("kind")?,
        status: enum_field(row, "status", NotificationStatus::parse)?,
        message: row.try_get("message")?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        channel_response: row.try_get("channel_response")?,
        generated_at: row.try_get("generated_at")?,
        sent_at: row.try_get("sent_at")?,
    })
}

impl Store {
    /// One row of `table` by id, or NotFound naming `entity`.
    pub(super) async fn row_by_id<T>(
        &self,
        columns: &str,
        table: &str,
        entity: &'static str,
        id: i64,
        map: fn(&AnyRow) -> Result<T>,
    ) -> Result<T> {
        let text = format!("SELECT {columns} FROM {table} WHERE id = ?");
        let row = sqlx::query(&self.sql(&text))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(map)
            .transpose()?
            .ok_or(StoreError::NotFound {
                entity,
                key: id.to_string(),
            })
    }

    /// Every row a parameterless query answers.
    pub(super) async fn rows_of<T>(
        &self,
        text: &str,
        map: fn(&AnyRow) -> Result<T>,
    ) -> Result<Vec<T>> {
        let rows = sqlx::query(text).fetch_all(&self.pool).await?;
        rows.iter().map(map).collect()
    }
}
