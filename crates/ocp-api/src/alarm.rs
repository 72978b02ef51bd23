//! Alerts: events (`GET /api/v2/alarm/alarms`), notifications
//! (`GET /api/v2/alarm/notifications`), and the items, channels, subscriptions and blocking
//! conditions that produce and route them (`/api/v2/alarm/rules`, `/channels`,
//! `/subscriptions`, `/silencers`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Timestamp;

wire_enum! {
    /// Where an alert comes from.
    AppType { Ob = "OB", Ocp = "OCP" }
}

wire_enum! {
    /// What an alert is about.
    AlarmScope {
        ObCluster = "ObCluster",
        ObTenant = "ObTenant",
        ObServer = "ObServer",
        Host = "Host",
        Service = "Service",
    }
}

wire_enum! {
    /// An event's state: Active fires and notifies, Silenced fires but a blocking condition
    /// keeps it quiet, Inactive is resolved.
    AlarmStatus { Active = "Active", Silenced = "Silenced", Inactive = "Inactive" }
}

wire_enum! {
    /// A notification's delivery state.
    NotificationStatus {
        Pending = "Pending",
        Sending = "Sending",
        Success = "Success",
        Failed = "Failed",
        /// Dropped by the channel's rate limit.
        Limited = "Limited",
    }
}

wire_enum! {
    /// How a channel delivers.
    ChannelType {
        /// An HTTP request built from URL, header and body templates.
        Http = "HTTP",
        /// A program run with the alert as JSON on its standard input.
        Script = "SCRIPT",
    }
}

/// Level names, 1 (most severe) to 5.
pub const LEVEL_NAMES: [&str; 5] = ["Stopped", "Critical", "Warning", "Caution", "Reminder"];

/// The name of a level, 1 to 5.
pub fn level_name(level: i32) -> &'static str {
    usize::try_from(level - 1)
        .ok()
        .and_then(|i| LEVEL_NAMES.get(i))
        .copied()
        .unwrap_or("Unknown")
}

/// An alert event: one item firing on one target, from active to resolved.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Alarm {
    pub id: i64,
    pub app_type: String,
    pub alarm_type: String,
    pub scope: String,
    /// 1 Stopped, 2 Critical, 3 Warning, 4 Caution, 5 Reminder.
    pub level: i32,
    pub status: AlarmStatus,
    pub target: String,
    pub summary: String,
    pub description: String,
    pub active_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub updated_at: Timestamp,
    pub gmt_create: Timestamp,
    pub gmt_modified: Timestamp,
    pub labels: BTreeMap<String, String>,
}

/// `GET /api/v2/alarm/alarms` filters.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct AlarmFilter {
    pub app_type: Option<String>,
    pub alarm_type: Option<String>,
    pub scope: Option<String>,
    /// 1 to 5.
    pub level: Option<String>,
    pub ob_cluster: Option<String>,
    pub host_ip: Option<String>,
    /// Active, Silenced or Inactive.
    pub status: Option<String>,
    pub active_at_start: Option<String>,
    pub active_at_end: Option<String>,
    /// Matched against target, summary and description.
    pub keyword: Option<String>,
}

/// One delivery attempt of a notification.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NotificationAttempt {
    pub attempt: i32,
    pub at: Timestamp,
    pub successful: bool,
    /// The channel's answer: HTTP status and body, or exit status and output.
    pub response: String,
}

/// An alert notification: one event (or its resolution) sent through one channel.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: i64,
    pub alarm_ids: Vec<i64>,
    pub alarm_type: String,
    pub app_type: String,
    pub scope: String,
    pub level: i32,
    pub channel_id: i64,
    pub recipient_uid: String,
    pub recipient_addr: String,
    pub message: String,
    pub status: NotificationStatus,
    /// The answer to the last attempt.
    pub channel_response: String,
    pub generated_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub is_aggregated: bool,
    pub labels: BTreeMap<String, String>,
    /// Every attempt so far, oldest first.
    pub attempts: Vec<NotificationAttempt>,
}

/// `GET /api/v2/alarm/notifications` filters.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct NotificationFilter {
    pub app_type: Option<String>,
    pub alarm_type: Option<String>,
    pub scope: Option<String>,
    pub level: Option<String>,
    /// Pending, Sending, Success, Failed or Limited.
    pub status: Option<String>,
    pub sent_at_start: Option<String>,
    pub sent_at_end: Option<String>,
    pub keyword: Option<String>,
    /// When set, the other filters are ignored.
    pub alarm_id: Option<String>,
    pub channel_id: Option<String>,
}

wire_enum! {
    /// How the series of one target make one value.
    Aggregation { Max = "max", Min = "min", Avg = "avg", Sum = "sum" }
}

wire_enum! {
    /// How a value is compared with a rule's threshold.
    Comparator {
        Greater = ">",
        GreaterOrEqual = ">=",
        Less = "<",
        LessOrEqual = "<=",
        Equal = "==",
        NotEqual = "!=",
    }
}

/// What a rule evaluates: `aggregation(metric{labels}) by (groupBy) comparator threshold`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RuleExpression {
    pub metric: String,
    /// max, min, avg or sum over the series of one target.
    pub aggregation: Aggregation,
    /// Only series with these label values.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `>`, `>=`, `<`, `<=`, `==` or `!=`.
    pub comparator: Comparator,
    pub threshold: f64,
    /// The value is divided by this before it is compared (e.g. 1073741824 for GB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub divisor: Option<f64>,
}

/// An alert item.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AlarmRule {
    pub id: i64,
    /// The alert type, e.g. `ob_cannot_connected`.
    pub name: String,
    /// What the alert says, e.g. "The OBServer cannot be connected."
    pub alarm_name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = AppType))]
    pub app_type: String,
    #[cfg_attr(feature = "openapi", schema(value_type = AlarmScope))]
    pub scope: String,
    pub level: i32,
    pub description: String,
    /// `None` for items raised by other components.
    pub expression: Option<RuleExpression>,
    /// How long the condition must hold before the alert fires.
    pub duration_seconds: i64,
    /// How often the condition is checked.
    pub evaluation_interval_seconds: i64,
    /// An event whose target reports nothing for this long is resolved.
    pub clear_seconds: i64,
    pub summary_template: String,
    pub description_template: String,
    pub builtin: bool,
    pub enabled: bool,
    pub create_time: Timestamp,
    pub update_time: Timestamp,
}

/// Create (every field but `name` may be left out on update) an alert item.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlarmRuleRequest {
    pub name: Option<String>,
    pub alarm_name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<AppType>))]
    pub app_type: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<AlarmScope>))]
    pub scope: Option<String>,
    pub level: Option<i32>,
    pub description: Option<String>,
    pub expression: Option<RuleExpression>,
    /// Changes only the expression's threshold.
    pub threshold: Option<f64>,
    pub duration_seconds: Option<i64>,
    pub evaluation_interval_seconds: Option<i64>,
    pub clear_seconds: Option<i64>,
    pub summary_template: Option<String>,
    pub description_template: Option<String>,
    pub enabled: Option<bool>,
}

/// `POST /api/v2/alarm/channels/{id}/test`: whether the receiver took the test notification,
/// and what it answered (an HTTP status and the start of its body, or a script's exit code
/// and output).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChannelTestResult {
    pub successful: bool,
    pub response: String,
}

/// An alert channel.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AlarmChannel {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub channel_type: ChannelType,
    /// HTTP: `method`, `urlTemplate`, `headersTemplate` (one `Name: value` a line),
    /// `bodyTemplate`, `timeoutSeconds`. SCRIPT: `command` (program and arguments),
    /// `timeoutSeconds`.
    pub config: BTreeMap<String, serde_json::Value>,
    /// The notification message for a firing alert; `${variable}` is replaced.
    pub message_template: String,
    /// The message for a resolved alert.
    pub resolved_message_template: String,
    /// Notifications beyond this many a minute are Limited (0: no limit).
    pub rate_limit_per_minute: i32,
    /// Attempts before a notification is Failed; retries back off 1 s, 2 s, 4 s, ...
    pub max_attempts: i32,
    pub create_time: Timestamp,
    pub update_time: Timestamp,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlarmChannelRequest {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub channel_type: Option<String>,
    pub config: Option<BTreeMap<String, serde_json::Value>>,
    pub message_template: Option<String>,
    pub resolved_message_template: Option<String>,
    pub rate_limit_per_minute: Option<i32>,
    pub max_attempts: Option<i32>,
}

/// Which events a channel is told about.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AlarmSubscription {
    pub id: i64,
    pub channel_id: i64,
    /// The recipient, for the notification history.
    pub user_id: Option<i64>,
    /// Alert types; empty: all of them.
    pub alarm_types: Vec<String>,
    /// Events of this level or more severe (1 is the most severe).
    pub max_level: i32,
    pub send_resolved: bool,
    /// An event still active is sent again after this many seconds (0: never).
    pub repeat_seconds: i64,
    pub enabled: bool,
    pub create_time: Timestamp,
    pub update_time: Timestamp,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlarmSubscriptionRequest {
    pub channel_id: Option<i64>,
    pub user_id: Option<i64>,
    pub alarm_types: Option<Vec<String>>,
    pub max_level: Option<i32>,
    pub send_resolved: Option<bool>,
    pub repeat_seconds: Option<i64>,
    pub enabled: Option<bool>,
}

/// A blocking condition: matching events are Silenced until `endsAt`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AlarmSilencer {
    pub id: i64,
    pub app_type: Option<String>,
    /// Alert types; empty: all of them.
    pub alarm_types: Vec<String>,
    /// Labels an event must carry with these values (e.g. `ob_cluster`, `svr_ip`).
    pub matchers: BTreeMap<String, String>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    /// `HH:MM` (server local time): only between these times of each day.
    pub daily_start: Option<String>,
    pub daily_end: Option<String>,
    pub comment: String,
    pub creator: String,
    /// Whether it silences right now.
    pub in_effect: bool,
    pub create_time: Timestamp,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlarmSilencerRequest {
    pub app_type: Option<String>,
    pub alarm_types: Option<Vec<String>>,
    pub matchers: Option<BTreeMap<String, String>>,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
    pub daily_start: Option<String>,
    pub daily_end: Option<String>,
    pub comment: Option<String>,
}
