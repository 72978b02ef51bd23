//! `ocpctl alarm`: alert events and notifications, items, channels, subscriptions and
//! blocking conditions.

use std::collections::BTreeMap;

use clap::Subcommand;
use ocp_api::alarm::{
    Alarm, AlarmChannel, AlarmChannelRequest, AlarmRule, AlarmRuleRequest, AlarmSilencer,
    AlarmSilencerRequest, AlarmSubscription, AlarmSubscriptionRequest, Notification,
};
use ocp_api::{PageData, Timestamp};
use serde_json::Value;

use super::{delete, duration_seconds};
use crate::client::{CliError, Client, Result};
use crate::output;
use crate::Ctx;

#[derive(Subcommand)]
pub enum AlarmCmd {
    /// Alert events, newest first.
    List {
        /// Active, Silenced or Inactive.
        #[arg(long)]
        status: Option<String>,
        /// An alert item's name, e.g. ob_cannot_connected.
        #[arg(long = "type")]
        alarm_type: Option<String>,
        /// How many events at most.
        #[arg(long, default_value_t = 50)]
        size: i64,
    },
    /// Shows an alert event with its labels and notifications.
    Show {
        /// The event's id (see `alarm list`).
        id: i64,
    },
    /// Notifications with their delivery attempts.
    Notifications {
        /// Only those of this event.
        #[arg(long)]
        alarm: Option<i64>,
        /// Pending, Sending, Success, Failed or Limited.
        #[arg(long)]
        status: Option<String>,
    },
    /// Alert items: list, show, set.
    #[command(subcommand)]
    Rule(RuleCmd),
    /// Channels: list, add-webhook, add-script, delete.
    #[command(subcommand)]
    Channel(ChannelCmd),
    /// Sends a channel the events of some items (all when none is named).
    Subscribe {
        /// The channel's id (see `alarm channel list`).
        #[arg(long)]
        channel: i64,
        /// An alert item (repeatable).
        #[arg(long = "type")]
        types: Vec<String>,
        /// Events of this level or more severe (1 Stopped ... 5 Reminder).
        #[arg(long)]
        max_level: Option<i32>,
        /// Send an event still active again after this many seconds.
        #[arg(long)]
        repeat: Option<i64>,
        /// Do not send resolutions.
        #[arg(long)]
        no_resolved: bool,
    },
    /// Lists the subscriptions.
    Subscriptions,
    /// Deletes a subscription.
    Unsubscribe {
        /// The subscription's id (see `alarm subscriptions`).
        id: i64,
    },
    /// Blocks matching alerts for a while.
    Silence {
        /// An alert item (repeatable).
        #[arg(long = "type")]
        types: Vec<String>,
        /// A label the event must carry, NAME=VALUE (repeatable): ob_cluster, svr_ip, ...
        #[arg(long = "match")]
        matchers: Vec<String>,
        /// How long: 30m, 2h, 1d.
        #[arg(long = "for")]
        duration: String,
        /// Why, for whoever reads the silencer.
        #[arg(long)]
        comment: Option<String>,
    },
    /// Lists the silencers, active and ended.
    Silencers,
    /// Ends a silencer now.
    Unsilence {
        /// The silencer's id (see `alarm silencers`).
        id: i64,
    },
}

#[derive(Subcommand)]
pub enum RuleCmd {
    /// Lists the alert items with their thresholds and levels.
    List,
    /// One item, by id or name.
    Show {
        /// The item's id or name, such as host_cpu_usage_high.
        item: String,
    },
    /// Changes an item (by id or name).
    Set {
        /// The item's id or name, such as host_cpu_usage_high.
        item: String,
        /// The threshold the item's expression is compared with.
        #[arg(long)]
        threshold: Option<f64>,
        /// Seconds between evaluations.
        #[arg(long)]
        interval: Option<i64>,
        /// Seconds the condition must hold.
        #[arg(long)]
        duration: Option<i64>,
        /// The events' level: 1 Stopped, 2 Critical, 3 Alert, 4 Warning, 5 Reminder.
        #[arg(long)]
        level: Option<i32>,
        /// Evaluate the item.
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Stop evaluating the item.
        #[arg(long)]
        disable: bool,
    },
}

#[derive(Subcommand)]
pub enum ChannelCmd {
    /// Lists the channels.
    List,
    /// An HTTP channel.
    AddWebhook {
        /// The channel's name.
        name: String,
        /// The URL (a template: ${variable} is replaced).
        #[arg(long)]
        url: String,
        /// A header, "Name: value" (repeatable).
        #[arg(long = "header")]
        headers: Vec<String>,
        /// The body template (default: every variable as JSON).
        #[arg(long)]
        body: Option<String>,
        /// Notifications a minute at most (0: no limit).
        #[arg(long)]
        rate_limit: Option<i32>,
        /// Attempts before a notification is Failed.
        #[arg(long)]
        attempts: Option<i32>,
    },
    /// A program run with the alert as JSON on standard input.
    AddScript {
        /// The channel's name.
        name: String,
        /// The program (an absolute path) and its arguments, after `--`.
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Deletes a channel and its subscriptions.
    Delete {
        /// The channel's id (see `alarm channel list`).
        id: i64,
    },
}

/// An item's id from its id or name.
async fn rule_id(client: &Client, item: &str) -> Result<i64> {
    if let Ok(id) = item.parse::<i64>() {
        return Ok(id);
    }
    let rules: PageData<AlarmRule> = client.get("/api/v2/alarm/rules?size=200").await?;
    rules
        .contents
        .iter()
        .find(|r| r.name == item)
        .map(|r| r.id)
        .ok_or_else(|| {
            CliError::new(
                crate::client::Exit::NotFound,
                format!("no alert item {item}"),
            )
        })
}

fn to_value<T: serde::Serialize>(request: &T) -> Value {
    serde_json::to_value(request).unwrap_or(Value::Null)
}

pub async fn alarm(ctx: &mut Ctx, cmd: AlarmCmd) -> Result<()> {
    let format = ctx.format();
    let client = ctx.client()?.clone();
    match cmd {
        AlarmCmd::List {
            status,
            alarm_type,
            size,
        } => {
            let mut path = format!("/api/v2/alarm/alarms?size={size}");
            if let Some(s) = status {
                path.push_str(&format!("&status={s}"));
            }
            if let Some(t) = alarm_type {
                path.push_str(&format!("&alarmType={t}"));
            }
            let alarms: PageData<Alarm> = client.get(&path).await?;
            output::list(
                format,
                &alarms.contents,
                &[
                    "id",
                    "level",
                    "status",
                    "alarmType",
                    "target",
                    "activeAt",
                    "resolvedAt",
                ],
            )
        }
        AlarmCmd::Show { id } => {
            let alarm: Alarm = client.get(&format!("/api/v2/alarm/alarms/{id}")).await?;
            output::one(format, &alarm)
        }
        AlarmCmd::Notifications { alarm, status } => {
            let mut path = "/api/v2/alarm/notifications?size=200".to_string();
            if let Some(a) = alarm {
                path.push_str(&format!("&alarmId={a}"));
            }
            if let Some(s) = status {
                path.push_str(&format!("&status={s}"));
            }
            let list: PageData<Notification> = client.get(&path).await?;
            let rows: Vec<Value> = list
                .contents
                .iter()
                .map(|n| {
                    serde_json::json!({
                        "id": n.id, "alarmIds": n.alarm_ids, "channelId": n.channel_id,
                        "status": n.status, "attempts": n.attempts.len(),
                        "channelResponse": n.channel_response, "sentAt": n.sent_at,
                    })
                })
                .collect();
            if output::structured(format, &list.contents)? {
                return Ok(());
            }
            output::list(
                format,
                &rows,
                &[
                    "id",
                    "alarmIds",
                    "channelId",
                    "status",
                    "attempts",
                    "channelResponse",
                ],
            )
        }
        AlarmCmd::Rule(RuleCmd::List) => {
            let rules: PageData<AlarmRule> = client.get("/api/v2/alarm/rules?size=200").await?;
            output::list(
                format,
                &rules.contents,
                &[
                    "id",
                    "name",
                    "level",
                    "scope",
                    "enabled",
                    "evaluationIntervalSeconds",
                ],
            )
        }
        AlarmCmd::Rule(RuleCmd::Show { item }) => {
            let id = rule_id(&client, &item).await?;
            let rule: AlarmRule = client.get(&format!("/api/v2/alarm/rules/{id}")).await?;
            output::one(format, &rule)
        }
        AlarmCmd::Rule(RuleCmd::Set {
            item,
            threshold,
            interval,
            duration,
            level,
            enable,
            disable,
        }) => {
            let id = rule_id(&client, &item).await?;
            let request = AlarmRuleRequest {
                threshold,
                evaluation_interval_seconds: interval,
                duration_seconds: duration,
                level,
                enabled: (enable || disable).then_some(enable),
                ..Default::default()
            };
            let rule: AlarmRule = client
                .call(
                    reqwest::Method::PUT,
                    &format!("/api/v2/alarm/rules/{id}"),
                    Some(&to_value(&request)),
                )
                .await?;
            output::one(format, &rule)
        }
        AlarmCmd::Channel(ChannelCmd::List) => {
            let channels: PageData<AlarmChannel> = client.get("/api/v2/alarm/channels").await?;
            output::list(
                format,
                &channels.contents,
                &["id", "name", "type", "rateLimitPerMinute", "maxAttempts"],
            )
        }
        AlarmCmd::Channel(ChannelCmd::AddWebhook {
            name,
            url,
            headers,
            body,
            rate_limit,
            attempts,
        }) => {
            let mut config = BTreeMap::from([("urlTemplate".to_string(), Value::from(url))]);
            if !headers.is_empty() {
                config.insert("headersTemplate".into(), Value::from(headers.join("\n")));
            }
            if let Some(b) = body {
                config.insert("bodyTemplate".into(), Value::from(b));
            }
            let request = AlarmChannelRequest {
                name: Some(name),
                channel_type: Some("HTTP".into()),
                config: Some(config),
                rate_limit_per_minute: rate_limit,
                max_attempts: attempts,
                ..Default::default()
            };
            let channel: AlarmChannel = client
                .post("/api/v2/alarm/channels", Some(&to_value(&request)))
                .await?;
            output::one(format, &channel)
        }
        AlarmCmd::Channel(ChannelCmd::AddScript { name, command }) => {
            let config = BTreeMap::from([("command".to_string(), Value::from(command))]);
            let request = AlarmChannelRequest {
                name: Some(name),
                channel_type: Some("SCRIPT".into()),
                config: Some(config),
                ..Default::default()
            };
            let channel: AlarmChannel = client
                .post("/api/v2/alarm/channels", Some(&to_value(&request)))
                .await?;
            output::one(format, &channel)
        }
        AlarmCmd::Channel(ChannelCmd::Delete { id }) => {
            delete(
                ctx,
                &client,
                &format!("/api/v2/alarm/channels/{id}"),
                format!("channel {id} deleted"),
            )
            .await
        }
        AlarmCmd::Subscribe {
            channel,
            types,
            max_level,
            repeat,
            no_resolved,
        } => {
            let request = AlarmSubscriptionRequest {
                channel_id: Some(channel),
                alarm_types: Some(types),
                max_level,
                repeat_seconds: repeat,
                send_resolved: Some(!no_resolved),
                ..Default::default()
            };
            let sub: AlarmSubscription = client
                .post("/api/v2/alarm/subscriptions", Some(&to_value(&request)))
                .await?;
            output::one(format, &sub)
        }
        AlarmCmd::Subscriptions => {
            let subs: PageData<AlarmSubscription> =
                client.get("/api/v2/alarm/subscriptions?size=200").await?;
            output::list(
                format,
                &subs.contents,
                &[
                    "id",
                    "channelId",
                    "alarmTypes",
                    "maxLevel",
                    "sendResolved",
                    "enabled",
                ],
            )
        }
        AlarmCmd::Unsubscribe { id } => {
            delete(
                ctx,
                &client,
                &format!("/api/v2/alarm/subscriptions/{id}"),
                format!("subscription {id} deleted"),
            )
            .await
        }
        AlarmCmd::Silence {
            types,
            matchers,
            duration,
            comment,
        } => {
            let seconds = duration_seconds(&duration)?;
            let matchers = matchers
                .iter()
                .map(|m| {
                    m.split_once('=')
                        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                        .ok_or_else(|| CliError::usage(format!("--match {m:?} is not NAME=VALUE")))
                })
                .collect::<Result<BTreeMap<_, _>>>()?;
            let ends =
                Timestamp::from_millis(chrono::Utc::now().timestamp_millis() + seconds * 1000);
            let request = AlarmSilencerRequest {
                alarm_types: Some(types),
                matchers: Some(matchers),
                ends_at: Some(ends),
                comment,
                ..Default::default()
            };
            let silencer: AlarmSilencer = client
                .post("/api/v2/alarm/silencers", Some(&to_value(&request)))
                .await?;
            output::one(format, &silencer)
        }
        AlarmCmd::Silencers => {
            let list: PageData<AlarmSilencer> =
                client.get("/api/v2/alarm/silencers?size=200").await?;
            output::list(
                format,
                &list.contents,
                &[
                    "id",
                    "alarmTypes",
                    "matchers",
                    "endsAt",
                    "inEffect",
                    "creator",
                    "comment",
                ],
            )
        }
        AlarmCmd::Unsilence { id } => {
            delete(
                ctx,
                &client,
                &format!("/api/v2/alarm/silencers/{id}"),
                format!("blocking condition {id} deleted"),
            )
            .await
        }
    }
}
