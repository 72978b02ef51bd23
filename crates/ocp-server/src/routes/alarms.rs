//! `/api/v2/alarm/...`: alert events and notifications as OCP documents them, and the
//! items (`rules`), channels, subscriptions and blocking conditions (`silencers`) that
//! make and route them.

use std::collections::BTreeMap;

use axum::extract::State;
use ocp_api::alarm::{
    Alarm, AlarmChannel, AlarmChannelRequest, AlarmFilter, AlarmRule, AlarmRuleRequest, AlarmScope,
    AlarmSilencer, AlarmSilencerRequest, AlarmStatus, AlarmSubscription, AlarmSubscriptionRequest,
    AppType, ChannelType, Notification, NotificationAttempt, NotificationFilter,
    NotificationStatus, RuleExpression,
};
use ocp_api::{ErrorCode, PageData, PageQuery, Timestamp};
use ocp_store::{
    Arg, ChannelRecord, Conditions, EventRecord, RuleRecord, SilencerRecord, SubscriptionRecord,
};
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::alarm::engine::{compare, silences, DEFAULT_MESSAGE, DEFAULT_RESOLVED_MESSAGE};
use crate::state::AppState;
use crate::auth::{perm, Authz, Caller, Permission as _};
use crate::http::{ApiJson, ApiPath, ApiQuery, ApiResult, Data, Failure, NoData, Paging};

/// The documented page limit of the alarm lists.
const MAX_ALARM_PAGE: i64 = 200;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_alarms))
        .routes(routes!(get_alarm))
        .routes(routes!(list_notifications))
        .routes(routes!(list_rules, create_rule))
        .routes(routes!(get_rule, update_rule, delete_rule))
        .routes(routes!(list_channels, create_channel))
        .routes(routes!(get_channel, update_channel, delete_channel))
        .routes(routes!(list_subscriptions, create_subscription))
        .routes(routes!(update_subscription, delete_subscription))
        .routes(routes!(list_silencers, create_silencer))
        .routes(routes!(get_silencer, delete_silencer))
}

fn paging(query: &PageQuery) -> Result<Paging, Failure> {
    let paging = Paging::parse(query, &[("id", "id")])?;
    if paging.size > MAX_ALARM_PAGE {
        return Err(Failure::field(
            "size",
            format!("must be at most {MAX_ALARM_PAGE}"),
        ));
    }
    Ok(paging)
}

fn millis(field: &str, text: &Option<String>) -> Result<Option<i64>, Failure> {
    text.as_deref()
        .filter(|t| !t.is_empty())
        .map(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .map(|d| d.timestamp_millis())
                .map_err(|_| {
                    Failure::field(field, format!("{t:?} is not an ISO-8601 time with offset"))
                })
        })
        .transpose()
}

fn level(field: &str, text: &Option<String>) -> Result<Option<i64>, Failure> {
    text.as_deref()
        .filter(|t| !t.is_empty())
        .map(|t| match t.parse::<i64>() {
            Ok(n) if (1..=5).contains(&n) => Ok(n),
            _ => Err(Failure::field(field, "must be 1 to 5")),
        })
        .transpose()
}

fn one_of<T>(
    field: &str,
    text: &Option<String>,
    parse: fn(&str) -> Option<T>,
    all: &[&str],
) -> Result<Option<String>, Failure> {
    text.as_deref()
        .filter(|t| !t.is_empty())
        .map(|t| {
            parse(t)
                .map(|_| t.to_string())
                .ok_or_else(|| Failure::field(field, format!("must be one of {}", all.join(", "))))
        })
        .transpose()
}

fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| name(*v)).collect()
}

fn labels_of(text: &str) -> BTreeMap<String, String> {
    serde_json::from_str(text).unwrap_or_default()
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
fn event_conditions(c: &mut Conditions, prefix: &str, f: &AlarmFilter) -> Result<(), Failure> {
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
    let mut c = Conditions::default();
    let id = |field: &str, text: &Option<String>| -> Result<Option<i64>, Failure> {
        text.as_deref()
            .filter(|t| !t.is_empty())
            .map(|t| {
                t.parse::<i64>()
                    .map_err(|_| Failure::field(field, format!("{t:?} is not an id")))
            })
            .transpose()
    };
    if let Some(alarm) = id("alarmId", &filter.alarm_id)? {
        c.push("n.alarm_id = ?", vec![Arg::Int(alarm)]);
    } else {
        event_conditions(
            &mut c,
            "e.",
            &AlarmFilter {
                app_type: filter.app_type.clone(),
                alarm_type: filter.alarm_type.clone(),
                scope: filter.scope.clone(),
                level: filter.level.clone(),
                keyword: filter.keyword.clone(),
                ..Default::default()
            },
        )?;
        let statuses = names(NotificationStatus::ALL, NotificationStatus::as_str);
        if let Some(v) = one_of(
            "status",
            &filter.status,
            NotificationStatus::parse,
            &statuses,
        )? {
            c.push("n.status = ?", vec![Arg::Text(v)]);
        }
        if let Some(channel) = id("channelId", &filter.channel_id)? {
            c.push("n.channel_id = ?", vec![Arg::Int(channel)]);
        }
        if let Some(v) = millis("sentAtStart", &filter.sent_at_start)? {
            c.push("n.sent_at >= ?", vec![Arg::Int(v)]);
        }
        if let Some(v) = millis("sentAtEnd", &filter.sent_at_end)? {
            c.push("n.sent_at <= ?", vec![Arg::Int(v)]);
        }
    }
    let (rows, total) = state
        .store
        .notifications(&c, paging.offset(), paging.size)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|n| n.id).collect();
    let attempts = state.store.notification_attempts(&ids).await?;
    let mut contents = Vec::with_capacity(rows.len());
    for n in rows {
        let event = state.store.alarm(n.alarm_id).await?;
        let channel = state.store.alarm_channel(n.channel_id).await.ok();
        contents.push(Notification {
            id: n.id,
            alarm_ids: vec![n.alarm_id],
            alarm_type: event.alarm_type,
            app_type: event.app_type,
            scope: event.scope,
            level: event.level as i32,
            channel_id: n.channel_id,
            recipient_uid: n.recipient_uid,
            recipient_addr: channel.map(|c| recipient_addr(&c)).unwrap_or_default(),
            message: n.message,
            status: NotificationStatus::parse(&n.status).unwrap_or(NotificationStatus::Pending),
            channel_response: n.channel_response,
            generated_at: Timestamp::from_millis(n.generated_at),
            sent_at: n.sent_at.map(Timestamp::from_millis),
            is_aggregated: false,
            labels: labels_of(&event.labels),
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

// ----- alert items -----

fn rule_view(r: RuleRecord) -> AlarmRule {
    AlarmRule {
        id: r.id,
        name: r.name,
        alarm_name: r.display_name,
        app_type: r.app_type,
        scope: r.scope,
        level: r.level as i32,
        description: r.description,
        expression: r.expression.and_then(|e| serde_json::from_str(&e).ok()),
        duration_seconds: r.duration_secs,
        evaluation_interval_seconds: r.interval_secs,
        clear_seconds: r.clear_secs,
        summary_template: r.summary_template,
        description_template: r.description_template,
        builtin: r.builtin,
        enabled: r.enabled,
        create_time: Timestamp::from_millis(r.create_time),
        update_time: Timestamp::from_millis(r.update_time),
    }
}

/// Lists alert items, built-in and user-defined.
#[utoipa::path(get, path = "/api/v2/alarm/rules", tag = "alarm", params(PageQuery),
    responses((status = 200, body = PageData<AlarmRule>)))]
async fn list_rules(
    _: Authz<perm::AlarmRead>,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<PageData<AlarmRule>> {
    let paging = paging(&query)?;
    let rules = state.store.alarm_rules().await?;
    Ok(Data(page(rules, &paging, rule_view)))
}

fn page<R, T>(rows: Vec<R>, paging: &Paging, view: fn(R) -> T) -> PageData<T> {
    let total = rows.len() as i64;
    let contents = rows
        .into_iter()
        .skip(paging.offset() as usize)
        .take(paging.size as usize)
        .map(view)
        .collect();
    PageData::new(contents, total, paging.page, paging.size)
}

/// One alert item.
#[utoipa::path(get, path = "/api/v2/alarm/rules/{id}", tag = "alarm", params(("id" = i64, Path)),
    responses((status = 200, body = AlarmRule)))]
async fn get_rule(
    _: Authz<perm::AlarmRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<AlarmRule> {
    Ok(Data(rule_view(state.store.alarm_rule(id).await?)))
}

fn check_expression(e: &RuleExpression) -> Result<(), Failure> {
    if e.metric.is_empty()
        || !e
            .metric
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(Failure::field(
            "expression.metric",
            "must be a metric name (letters, digits, _)",
        ));
    }
    if !["max", "min", "avg", "sum"].contains(&e.aggregation.as_str()) {
        return Err(Failure::field(
            "expression.aggregation",
            "must be max, min, avg or sum",
        ));
    }
    if !compare(&e.comparator, 0.0, 0.0) && !compare(&e.comparator, 1.0, 0.0) {
        return Err(Failure::field(
            "expression.comparator",
            "must be >, >=, <, <=, == or !=",
        ));
    }
    if !e.threshold.is_finite() {
        return Err(Failure::field("expression.threshold", "must be a number"));
    }
    if e.divisor.is_some_and(|d| d == 0.0 || !d.is_finite()) {
        return Err(Failure::field(
            "expression.divisor",
            "must be a non-zero number",
        ));
    }
    Ok(())
}

/// Applies a request to a rule and checks the result.
fn apply_rule(r: &mut RuleRecord, q: AlarmRuleRequest) -> Result<(), Failure> {
    if let Some(v) = q.alarm_name {
        r.display_name = v;
    }
    if let Some(v) = q.app_type {
        r.app_type = v;
    }
    if let Some(v) = q.scope {
        r.scope = v;
    }
    if let Some(v) = q.level {
        r.level = i64::from(v);
    }
    if let Some(v) = q.description {
        r.description = v;
    }
    if let Some(e) = q.expression {
        check_expression(&e)?;
        r.expression = Some(serde_json::to_string(&e).map_err(Failure::internal)?);
    }
    if let Some(t) = q.threshold {
        let mut e: RuleExpression = r
            .expression
            .as_deref()
            .and_then(|e| serde_json::from_str(e).ok())
            .ok_or_else(|| Failure::field("threshold", "the item has no expression"))?;
        e.threshold = t;
        check_expression(&e)?;
        r.expression = Some(serde_json::to_string(&e).map_err(Failure::internal)?);
    }
    if let Some(v) = q.duration_seconds {
        r.duration_secs = v;
    }
    if let Some(v) = q.evaluation_interval_seconds {
        r.interval_secs = v;
    }
    if let Some(v) = q.clear_seconds {
        r.clear_secs = v;
    }
    if let Some(v) = q.summary_template {
        r.summary_template = v;
    }
    if let Some(v) = q.description_template {
        r.description_template = v;
    }
    if let Some(v) = q.enabled {
        r.enabled = v;
    }
    if r.display_name.trim().is_empty() {
        return Err(Failure::field("alarmName", "is required"));
    }
    if AppType::parse(&r.app_type).is_none() {
        return Err(Failure::field("appType", "must be OB or OCP"));
    }
    if AlarmScope::parse(&r.scope).is_none() {
        let all = names(AlarmScope::ALL, AlarmScope::as_str).join(", ");
        return Err(Failure::field("scope", format!("must be one of {all}")));
    }
    if !(1..=5).contains(&r.level) {
        return Err(Failure::field("level", "must be 1 to 5"));
    }
    if !(0..=86_400).contains(&r.duration_secs) {
        return Err(Failure::field("durationSeconds", "must be 0 to 86400"));
    }
    if !(1..=86_400).contains(&r.interval_secs) {
        return Err(Failure::field(
            "evaluationIntervalSeconds",
            "must be 1 to 86400",
        ));
    }
    if r.clear_secs < r.interval_secs || r.clear_secs > 7 * 86_400 {
        return Err(Failure::field(
            "clearSeconds",
            "must be from the evaluation interval up to 604800",
        ));
    }
    if r.summary_template.trim().is_empty() {
        return Err(Failure::field("summaryTemplate", "is required"));
    }
    Ok(())
}

/// Creates a user-defined alert item.
#[utoipa::path(post, path = "/api/v2/alarm/rules", tag = "alarm", request_body = AlarmRuleRequest,
    responses((status = 200, body = AlarmRule)))]
async fn create_rule(
    _: Authz<perm::AlarmCreate>,
    State(state): State<AppState>,
    ApiJson(q): ApiJson<AlarmRuleRequest>,
) -> ApiResult<AlarmRule> {
    let name = q.name.clone().unwrap_or_default();
    if name.is_empty()
        || name.len() > 128
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(Failure::field(
            "name",
            "must be 1 to 128 letters, digits and underscores",
        ));
    }
    if q.expression.is_none() {
        return Err(Failure::field("expression", "is required"));
    }
    let mut rule = RuleRecord {
        id: 0,
        name: name.clone(),
        display_name: String::new(),
        app_type: "OB".into(),
        scope: "ObServer".into(),
        level: 3,
        description: String::new(),
        expression: None,
        duration_secs: 0,
        interval_secs: 60,
        clear_secs: 300,
        summary_template: "${alarm_target} ${alarm_name}".into(),
        description_template:
            "${alarm_target} ${alarm_name}: ${value}, threshold ${alarm_threshold}".into(),
        builtin: false,
        enabled: true,
        create_time: 0,
        update_time: 0,
    };
    apply_rule(&mut rule, q)?;
    let id = state.store.insert_alarm_rule(&rule).await?.ok_or_else(|| {
        Failure::new(
            ErrorCode::AlreadyExists,
            format!("alert item {name} exists"),
        )
    })?;
    Ok(Data(rule_view(state.store.alarm_rule(id).await?)))
}

/// Changes an alert item (built-in ones too: threshold, cycles, level, templates, enabled).
#[utoipa::path(put, path = "/api/v2/alarm/rules/{id}", tag = "alarm", params(("id" = i64, Path)),
    request_body = AlarmRuleRequest, responses((status = 200, body = AlarmRule)))]
async fn update_rule(
    _: Authz<perm::AlarmUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(q): ApiJson<AlarmRuleRequest>,
) -> ApiResult<AlarmRule> {
    let mut rule = state.store.alarm_rule(id).await?;
    if q.name.as_ref().is_some_and(|n| *n != rule.name) {
        return Err(Failure::field("name", "an item's name cannot change"));
    }
    apply_rule(&mut rule, q)?;
    state.store.update_alarm_rule(&rule).await?;
    Ok(Data(rule_view(state.store.alarm_rule(id).await?)))
}

/// Deletes a user-defined alert item with its events; built-in items can only be disabled.
#[utoipa::path(delete, path = "/api/v2/alarm/rules/{id}", tag = "alarm", params(("id" = i64, Path)),
    responses((status = 200)))]
async fn delete_rule(
    _: Authz<perm::AlarmDelete>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<NoData, Failure> {
    let rule = state.store.alarm_rule(id).await?;
    if rule.builtin {
        return Err(Failure::new(
            ErrorCode::StateConflict,
            format!(
                "built-in alert item {} can be disabled, not deleted",
                rule.name
            ),
        ));
    }
    state.store.delete_alarm_rule(id).await?;
    Ok(NoData)
}

// ----- channels -----

fn channel_view(c: ChannelRecord) -> AlarmChannel {
    AlarmChannel {
        id: c.id,
        name: c.name,
        channel_type: ChannelType::parse(&c.channel_type).unwrap_or(ChannelType::Http),
        config: serde_json::from_str(&c.config).unwrap_or_default(),
        message_template: c.message_template,
        resolved_message_template: c.resolved_message_template,
        rate_limit_per_minute: c.rate_limit_per_minute as i32,
        max_attempts: c.max_attempts as i32,
        create_time: Timestamp::from_millis(c.create_time),
        update_time: Timestamp::from_millis(c.update_time),
    }
}

/// Checks a channel's settings for its type.
fn check_config(kind: ChannelType, config: &BTreeMap<String, Value>) -> Result<(), Failure> {
    let allowed: &[&str] = match kind {
        ChannelType::Http => &[
            "method",
            "urlTemplate",
            "headersTemplate",
            "bodyTemplate",
            "timeoutSeconds",
        ],
        ChannelType::Script => &["command", "timeoutSeconds"],
    };
    if let Some(key) = config.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(Failure::field(
            &format!("config.{key}"),
            format!(
                "is not a setting of a {kind} channel; it takes {}",
                allowed.join(", ")
            ),
        ));
    }
    for (key, value) in config {
        let ok = match key.as_str() {
            "timeoutSeconds" => value.as_u64().is_some_and(|t| (1..=60).contains(&t)),
            "command" => value
                .as_array()
                .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string)),
            _ => value.is_string(),
        };
        if !ok {
            let what = match key.as_str() {
                "timeoutSeconds" => "must be 1 to 60",
                "command" => "must be a list of strings: the program, then its arguments",
                _ => "must be a string",
            };
            return Err(Failure::field(&format!("config.{key}"), what));
        }
    }
    match kind {
        ChannelType::Http => {
            let url = config
                .get("urlTemplate")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(Failure::field(
                    "config.urlTemplate",
                    "must be an http:// or https:// URL",
                ));
            }
            let method = config
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or("POST");
            if !["GET", "POST", "PUT"].contains(&method) {
                return Err(Failure::field("config.method", "must be GET, POST or PUT"));
            }
        }
        ChannelType::Script => {
            let program = config
                .get("command")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(Value::as_str)
                .unwrap_or("");
            if !program.starts_with('/') {
                return Err(Failure::field(
                    "config.command",
                    "must start with the program's absolute path",
                ));
            }
        }
    }
    Ok(())
}

fn apply_channel(c: &mut ChannelRecord, q: AlarmChannelRequest) -> Result<(), Failure> {
    if let Some(v) = q.name {
        c.name = v;
    }
    if let Some(v) = q.config {
        c.config = serde_json::to_string(&v).map_err(Failure::internal)?;
    }
    if let Some(v) = q.message_template {
        c.message_template = v;
    }
    if let Some(v) = q.resolved_message_template {
        c.resolved_message_template = v;
    }
    if let Some(v) = q.rate_limit_per_minute {
        c.rate_limit_per_minute = i64::from(v);
    }
    if let Some(v) = q.max_attempts {
        c.max_attempts = i64::from(v);
    }
    if c.name.trim().is_empty() || c.name.len() > 128 {
        return Err(Failure::field("name", "must be 1 to 128 characters"));
    }
    let kind = ChannelType::parse(&c.channel_type)
        .ok_or_else(|| Failure::field("type", "must be HTTP or SCRIPT"))?;
    check_config(kind, &serde_json::from_str(&c.config).unwrap_or_default())?;
    if !(0..=10_000).contains(&c.rate_limit_per_minute) {
        return Err(Failure::field("rateLimitPerMinute", "must be 0 to 10000"));
    }
    if !(1..=20).contains(&c.max_attempts) {
        return Err(Failure::field("maxAttempts", "must be 1 to 20"));
    }
    Ok(())
}

/// A SCRIPT channel runs a program on the server: only a holder of SYSTEM:*:UPDATE (an
/// admin) may set one up or change it.
fn may_configure(caller: &Caller, kind: ChannelType) -> Result<(), Failure> {
    if kind == ChannelType::Script && !caller.may(perm::SystemUpdate::REQUIRED) {
        return Err(Failure::new(
            ErrorCode::AccessDenied,
            format!(
                "user {} lacks permission {}, which SCRIPT channels need: they run programs on the server",
                caller.username,
                perm::SystemUpdate::REQUIRED
            ),
        ));
    }
    Ok(())
}

/// Refuses at once an HTTP channel whose URL names an address it may not reach (each
/// delivery checks again, after its template is filled in and its host resolved).
async fn check_destination(state: &AppState, channel: &ChannelRecord) -> Result<(), Failure> {
    let config: BTreeMap<String, Value> = serde_json::from_str(&channel.config).unwrap_or_default();
    let Some(template) = config.get("urlTemplate").and_then(Value::as_str) else {
        return Ok(());
    };
    let Ok(url) = reqwest::Url::parse(template) else {
        return Ok(());
    };
    let host = url.host_str().unwrap_or("").trim_matches(['[', ']']);
    let literal = host.parse::<std::net::IpAddr>().is_ok() || host == "localhost";
    if literal {
        if let Err(why) = state.channel_policy.destination(&state.store, &url).await {
            return Err(Failure::field(
                "config.urlTemplate",
                why.trim_start_matches("not sent: ").to_string(),
            ));
        }
    }
    Ok(())
}

/// Lists alert channels.
#[utoipa::path(get, path = "/api/v2/alarm/channels", tag = "alarm", params(PageQuery),
    responses((status = 200, body = PageData<AlarmChannel>)))]
async fn list_channels(
    _: Authz<perm::AlarmRead>,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<PageData<AlarmChannel>> {
    let paging = paging(&query)?;
    Ok(Data(page(
        state.store.alarm_channels().await?,
        &paging,
        channel_view,
    )))
}

/// One alert channel.
#[utoipa::path(get, path = "/api/v2/alarm/channels/{id}", tag = "alarm", params(("id" = i64, Path)),
    responses((status = 200, body = AlarmChannel)))]
async fn get_channel(
    _: Authz<perm::AlarmRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<AlarmChannel> {
    Ok(Data(channel_view(state.store.alarm_channel(id).await?)))
}

/// Creates an HTTP or SCRIPT channel.
#[utoipa::path(post, path = "/api/v2/alarm/channels", tag = "alarm", request_body = AlarmChannelRequest,
    responses((status = 200, body = AlarmChannel)))]
async fn create_channel(
    Authz(caller, _): Authz<perm::AlarmCreate>,
    State(state): State<AppState>,
    ApiJson(q): ApiJson<AlarmChannelRequest>,
) -> ApiResult<AlarmChannel> {
    let kind = q.channel_type.clone().unwrap_or_default();
    let Some(parsed) = ChannelType::parse(&kind) else {
        return Err(Failure::field("type", "must be HTTP or SCRIPT"));
    };
    may_configure(&caller, parsed)?;
    if q.config.is_none() {
        return Err(Failure::field("config", "is required"));
    }
    let mut channel = ChannelRecord {
        id: 0,
        name: String::new(),
        channel_type: kind,
        config: "{}".into(),
        message_template: DEFAULT_MESSAGE.into(),
        resolved_message_template: DEFAULT_RESOLVED_MESSAGE.into(),
        rate_limit_per_minute: 60,
        max_attempts: 5,
        create_time: 0,
        update_time: 0,
    };
    apply_channel(&mut channel, q)?;
    check_destination(&state, &channel).await?;
    let id = state.store.insert_alarm_channel(&channel).await?;
    Ok(Data(channel_view(state.store.alarm_channel(id).await?)))
}

/// Changes a channel (not its type).
#[utoipa::path(put, path = "/api/v2/alarm/channels/{id}", tag = "alarm", params(("id" = i64, Path)),
    request_body = AlarmChannelRequest, responses((status = 200, body = AlarmChannel)))]
async fn update_channel(
    Authz(caller, _): Authz<perm::AlarmUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(q): ApiJson<AlarmChannelRequest>,
) -> ApiResult<AlarmChannel> {
    let mut channel = state.store.alarm_channel(id).await?;
    if q.channel_type
        .as_ref()
        .is_some_and(|t| *t != channel.channel_type)
    {
        return Err(Failure::field("type", "a channel's type cannot change"));
    }
    if let Some(kind) = ChannelType::parse(&channel.channel_type) {
        may_configure(&caller, kind)?;
    }
    apply_channel(&mut channel, q)?;
    check_destination(&state, &channel).await?;
    state.store.update_alarm_channel(&channel).await?;
    Ok(Data(channel_view(state.store.alarm_channel(id).await?)))
}

/// Deletes a channel with its subscriptions and notification history.
#[utoipa::path(delete, path = "/api/v2/alarm/channels/{id}", tag = "alarm", params(("id" = i64, Path)),
    responses((status = 200)))]
async fn delete_channel(
    _: Authz<perm::AlarmDelete>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<NoData, Failure> {
    state.store.delete_alarm_channel(id).await?;
    Ok(NoData)
}

// ----- subscriptions -----

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

// ----- blocking conditions -----

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
    let app_type = one_of("appType", &q.app_type, AppType::parse, &app_types)?;
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
