//! `/api/v2/alarm/channels`: HTTP and SCRIPT channels, and what each may reach.

use std::collections::BTreeMap;

use axum::extract::State;
use ocp_api::alarm::{AlarmChannel, AlarmChannelRequest, ChannelTestResult, ChannelType};
use ocp_api::{ErrorCode, PageData, PageQuery, Timestamp};
use ocp_store::ChannelRecord;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::*;
use crate::alarm::engine::{DEFAULT_MESSAGE, DEFAULT_RESOLVED_MESSAGE};
use crate::auth::{perm, Authz, Caller, Permission as _};
use crate::http::{ApiJson, ApiPath, ApiQuery, ApiResult, Data, Failure, NoData};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_channels, create_channel))
        .routes(routes!(get_channel, update_channel, delete_channel))
        .routes(routes!(test_channel))
}

fn channel_view(c: ChannelRecord) -> AlarmChannel {
    AlarmChannel {
        id: c.id,
        name: c.name,
        channel_type: c.channel_type,
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
    check_config(
        c.channel_type,
        &serde_json::from_str(&c.config).unwrap_or_default(),
    )?;
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
            return Err(Failure::field("config.urlTemplate", why));
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

/// Sends a test notification through a channel now and answers what the receiver said (our
/// addition: OCP's console has the button, its API documents no call). Nothing is recorded:
/// no alert fired.
#[utoipa::path(post, path = "/api/v2/alarm/channels/{id}/test", tag = "alarm", params(("id" = i64, Path)),
    responses((status = 200, body = ChannelTestResult)))]
async fn test_channel(
    Authz(caller, _): Authz<perm::AlarmUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<ChannelTestResult> {
    let channel = state.store.alarm_channel(id).await?;
    may_configure(&caller, channel.channel_type)?;
    let vars = crate::alarm::deliver::test_vars(&channel);
    let (successful, response) =
        crate::alarm::deliver::send(&state.store, &state.channel_policy, &channel, &vars).await;
    Ok(Data(ChannelTestResult {
        successful,
        response,
    }))
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
        channel_type: parsed,
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
        .is_some_and(|t| t != channel.channel_type.as_str())
    {
        return Err(Failure::field("type", "a channel's type cannot change"));
    }
    may_configure(&caller, channel.channel_type)?;
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
