//! Alerts: rules (alert items), events, channels, subscriptions, blocking conditions
//! ("silencers") and the notifications with each attempt to deliver them.
//!
//! Whichever server evaluates a rule, the database keeps one open event per rule and target
//! (a partial unique index), and only the writer whose insert, resolve or repeat mark took
//! effect queues notifications. So several servers may evaluate side by side.

use ocp_api::alarm::{AlarmScope, AlarmStatus, AppType, ChannelType, NotificationStatus};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::decode::enum_field;
use crate::{now_millis, Result, Store, StoreError};

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

/// Which events a list shows, newest first: each field that is set must match.
#[derive(Debug, Clone, Default)]
pub struct AlarmListFilter {
    pub app_type: Option<AppType>,
    pub scope: Option<AlarmScope>,
    pub status: Option<AlarmStatus>,
    pub level: Option<i64>,
    pub alarm_type: Option<String>,
    /// Label names and values the event carries.
    pub labels: Vec<(String, String)>,
    pub active_from: Option<i64>,
    pub active_to: Option<i64>,
    /// Part of the target, summary or description, in any case.
    pub keyword: Option<String>,
}

/// Which notifications a list shows, newest first.
#[derive(Debug, Clone, Default)]
pub struct NotificationListFilter {
    /// Only this event's notifications; the other fields are then ignored.
    pub alarm_id: Option<i64>,
    /// What their events must match.
    pub event: AlarmListFilter,
    pub status: Option<NotificationStatus>,
    pub channel_id: Option<i64>,
    pub sent_from: Option<i64>,
    pub sent_to: Option<i64>,
}

/// A bound value of a list's conditions.
#[derive(Debug, Clone)]
enum Arg {
    Int(i64),
    Text(String),
}

/// SQL conditions (with `?` placeholders) and their values, joined by AND.
#[derive(Debug, Clone, Default)]
struct Conditions {
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Conditions {
    fn push(&mut self, clause: String, args: Vec<Arg>) {
        self.clauses.push(clause);
        self.args.extend(args);
    }

    fn clause(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }

    /// The conditions of an event filter on the columns of table alias `t`.
    fn of_events(t: &str, f: &AlarmListFilter) -> Self {
        let mut c = Self::default();
        let text = |v: &str| vec![Arg::Text(v.to_string())];
        if let Some(v) = f.app_type {
            c.push(format!("{t}.app_type = ?"), text(v.as_str()));
        }
        if let Some(v) = f.scope {
            c.push(format!("{t}.scope = ?"), text(v.as_str()));
        }
        if let Some(v) = f.status {
            c.push(format!("{t}.status = ?"), text(v.as_str()));
        }
        if let Some(v) = f.level {
            c.push(format!("{t}.level = ?"), vec![Arg::Int(v)]);
        }
        if let Some(v) = &f.alarm_type {
            c.push(format!("{t}.alarm_type = ?"), text(v));
        }
        for (key, value) in &f.labels {
            // Labels are canonical JSON: a pair appears exactly as serde writes it.
            let pair = serde_json::json!({ key: value }).to_string();
            let pattern = format!("%{}%", pair.trim_matches(['{', '}']));
            c.push(format!("{t}.labels LIKE ?"), vec![Arg::Text(pattern)]);
        }
        if let Some(v) = f.active_from {
            c.push(format!("{t}.active_at >= ?"), vec![Arg::Int(v)]);
        }
        if let Some(v) = f.active_to {
            c.push(format!("{t}.active_at <= ?"), vec![Arg::Int(v)]);
        }
        if let Some(k) = &f.keyword {
            let pattern = format!("%{}%", k.to_lowercase());
            c.push(
                format!(
                    "(LOWER({t}.target) LIKE ? OR LOWER({t}.summary) LIKE ? \
                     OR LOWER({t}.description) LIKE ?)"
                ),
                vec![Arg::Text(pattern); 3],
            );
        }
        c
    }

    fn of_notifications(f: &NotificationListFilter) -> Self {
        if let Some(alarm) = f.alarm_id {
            let mut c = Self::default();
            c.push("n.alarm_id = ?".into(), vec![Arg::Int(alarm)]);
            return c;
        }
        let mut c = Self::of_events("e", &f.event);
        if let Some(v) = f.status {
            c.push("n.status = ?".into(), vec![Arg::Text(v.as_str().into())]);
        }
        if let Some(v) = f.channel_id {
            c.push("n.channel_id = ?".into(), vec![Arg::Int(v)]);
        }
        if let Some(v) = f.sent_from {
            c.push("n.sent_at >= ?".into(), vec![Arg::Int(v)]);
        }
        if let Some(v) = f.sent_to {
            c.push("n.sent_at <= ?".into(), vec![Arg::Int(v)]);
        }
        c
    }
}

fn flag(row: &AnyRow, column: &str) -> Result<bool> {
    Ok(row.try_get::<i64, _>(column)? != 0)
}

const RULE_COLUMNS: &str = "id, name, display_name, app_type, scope, level, description, \
    expression, duration_secs, interval_secs, clear_secs, summary_template, \
    description_template, builtin, enabled, create_time, update_time";

fn rule_from_row(row: &AnyRow) -> Result<RuleRecord> {
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

const EVENT_COLUMNS: &str = "id, rule_id, alarm_type, app_type, scope, level, target, status, \
    summary, description, labels, value, active_at, updated_at, resolved_at, last_seen_at, \
    last_notified_at";

fn event_from_row(row: &AnyRow) -> Result<EventRecord> {
    event_from_prefixed(row, "")
}

/// An event from columns named with `prefix` before their own names.
fn event_from_prefixed(row: &AnyRow, prefix: &str) -> Result<EventRecord> {
    let c = |name: &str| format!("{prefix}{name}");
    Ok(EventRecord {
        id: row.try_get(c("id").as_str())?,
        rule_id: row.try_get(c("rule_id").as_str())?,
        alarm_type: row.try_get(c("alarm_type").as_str())?,
        app_type: row.try_get(c("app_type").as_str())?,
        scope: row.try_get(c("scope").as_str())?,
        level: row.try_get(c("level").as_str())?,
        target: row.try_get(c("target").as_str())?,
        status: enum_field(row, &c("status"), AlarmStatus::parse)?,
        summary: row.try_get(c("summary").as_str())?,
        description: row.try_get(c("description").as_str())?,
        labels: row.try_get(c("labels").as_str())?,
        value: row.try_get(c("value").as_str())?,
        active_at: row.try_get(c("active_at").as_str())?,
        updated_at: row.try_get(c("updated_at").as_str())?,
        resolved_at: row.try_get(c("resolved_at").as_str())?,
        last_seen_at: row.try_get(c("last_seen_at").as_str())?,
        last_notified_at: row.try_get(c("last_notified_at").as_str())?,
    })
}

const CHANNEL_COLUMNS: &str = "id, name, channel_type, config, message_template, \
    resolved_message_template, rate_limit_per_minute, max_attempts, create_time, update_time";

fn channel_from_row(row: &AnyRow) -> Result<ChannelRecord> {
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

const SUBSCRIPTION_COLUMNS: &str = "id, channel_id, user_id, alarm_types, max_level, \
    send_resolved, repeat_secs, enabled, create_time, update_time";

fn subscription_from_row(row: &AnyRow) -> Result<SubscriptionRecord> {
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

const SILENCER_COLUMNS: &str = "id, app_type, alarm_types, matchers, starts_at, ends_at, \
    daily_start, daily_end, comment, creator, create_time";

fn silencer_from_row(row: &AnyRow) -> Result<SilencerRecord> {
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

const NOTIFICATION_COLUMNS: &str = "id, alarm_id, channel_id, subscription_id, recipient_uid, \
    kind, status, message, attempts, next_attempt_at, channel_response, generated_at, sent_at";

fn notification_from_row(row: &AnyRow) -> Result<NotificationRecord> {
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
    async fn row_by_id<T>(
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
    async fn rows_of<T>(&self, text: &str, map: fn(&AnyRow) -> Result<T>) -> Result<Vec<T>> {
        let rows = sqlx::query(text).fetch_all(&self.pool).await?;
        rows.iter().map(map).collect()
    }

    // ----- rules -----

    pub async fn alarm_rules(&self) -> Result<Vec<RuleRecord>> {
        let text = format!("SELECT {RULE_COLUMNS} FROM alarm_rule ORDER BY id");
        self.rows_of(&text, rule_from_row).await
    }

    pub async fn alarm_rule(&self, id: i64) -> Result<RuleRecord> {
        self.row_by_id(RULE_COLUMNS, "alarm_rule", "alarm rule", id, rule_from_row)
            .await
    }

    /// Inserts a rule; `None` when one of that name exists (built-ins are seeded this way,
    /// so an operator's changes to them are kept).
    pub async fn insert_alarm_rule(&self, r: &RuleRecord) -> Result<Option<i64>> {
        let _w = self.writer().await;
        let now = now_millis();
        let id: Option<i64> = sqlx::query_scalar(&self.sql(
            "INSERT INTO alarm_rule (name, display_name, app_type, scope, level, description, \
             expression, duration_secs, interval_secs, clear_secs, summary_template, \
             description_template, builtin, enabled, create_time, update_time) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (name) DO NOTHING RETURNING id",
        ))
        .bind(&r.name)
        .bind(&r.display_name)
        .bind(&r.app_type)
        .bind(&r.scope)
        .bind(r.level)
        .bind(&r.description)
        .bind(&r.expression)
        .bind(r.duration_secs)
        .bind(r.interval_secs)
        .bind(r.clear_secs)
        .bind(&r.summary_template)
        .bind(&r.description_template)
        .bind(i64::from(r.builtin))
        .bind(i64::from(r.enabled))
        .bind(now)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(id)
    }

    pub async fn update_alarm_rule(&self, r: &RuleRecord) -> Result<()> {
        let _w = self.writer().await;
        let done = sqlx::query(&self.sql(
            "UPDATE alarm_rule SET display_name = ?, app_type = ?, scope = ?, level = ?, \
             description = ?, expression = ?, duration_secs = ?, interval_secs = ?, \
             clear_secs = ?, summary_template = ?, description_template = ?, enabled = ?, \
             update_time = ? WHERE id = ?",
        ))
        .bind(&r.display_name)
        .bind(&r.app_type)
        .bind(&r.scope)
        .bind(r.level)
        .bind(&r.description)
        .bind(&r.expression)
        .bind(r.duration_secs)
        .bind(r.interval_secs)
        .bind(r.clear_secs)
        .bind(&r.summary_template)
        .bind(&r.description_template)
        .bind(i64::from(r.enabled))
        .bind(now_millis())
        .bind(r.id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                entity: "alarm rule",
                key: r.id.to_string(),
            });
        }
        Ok(())
    }

    /// Deletes a rule with its events and their notifications.
    pub async fn delete_alarm_rule(&self, id: i64) -> Result<()> {
        self.delete_row("alarm_rule", "alarm rule", id).await
    }

    // ----- events -----

    /// Opens an event; `None` if the rule already has one open on that target.
    pub async fn open_alarm(&self, e: &NewEvent) -> Result<Option<i64>> {
        let _w = self.writer().await;
        let now = now_millis();
        let id: Option<i64> = sqlx::query_scalar(&self.sql(
            "INSERT INTO alarm_event (rule_id, alarm_type, app_type, scope, level, target, \
             status, summary, description, labels, value, active_at, updated_at, last_seen_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT DO NOTHING RETURNING id",
        ))
        .bind(e.rule_id)
        .bind(&e.alarm_type)
        .bind(&e.app_type)
        .bind(&e.scope)
        .bind(e.level)
        .bind(&e.target)
        .bind(e.status.as_str())
        .bind(&e.summary)
        .bind(&e.description)
        .bind(&e.labels)
        .bind(e.value)
        .bind(now)
        .bind(now)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(id)
    }

    /// The open (not resolved) events of a rule.
    pub async fn open_alarms(&self, rule_id: i64) -> Result<Vec<EventRecord>> {
        let text = format!(
            "SELECT {EVENT_COLUMNS} FROM alarm_event WHERE rule_id = ? AND resolved_at IS NULL"
        );
        let rows = sqlx::query(&self.sql(&text))
            .bind(rule_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Records that an open event still fires: its value, texts and status (Active or
    /// Silenced). Answers whether the status changed, so the caller notifies once.
    pub async fn refresh_alarm(
        &self,
        id: i64,
        status: AlarmStatus,
        value: Option<f64>,
        summary: &str,
        description: &str,
    ) -> Result<bool> {
        let _w = self.writer().await;
        let now = now_millis();
        let changed = sqlx::query(&self.sql(
            "UPDATE alarm_event SET status = ?, updated_at = ? \
             WHERE id = ? AND resolved_at IS NULL AND status <> ?",
        ))
        .bind(status.as_str())
        .bind(now)
        .bind(id)
        .bind(status.as_str())
        .execute(&self.pool)
        .await?
        .rows_affected()
            > 0;
        sqlx::query(&self.sql(
            "UPDATE alarm_event SET value = ?, summary = ?, description = ?, last_seen_at = ? \
             WHERE id = ? AND resolved_at IS NULL",
        ))
        .bind(value)
        .bind(summary)
        .bind(description)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(changed)
    }

    /// Resolves an open event; false if it was resolved already.
    pub async fn resolve_alarm(&self, id: i64) -> Result<bool> {
        let _w = self.writer().await;
        let now = now_millis();
        let done = sqlx::query(&self.sql(
            "UPDATE alarm_event SET status = 'Inactive', resolved_at = ?, updated_at = ? \
             WHERE id = ? AND resolved_at IS NULL",
        ))
        .bind(now)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Moves an event's last notification time from `seen` to now; false if another
    /// writer moved it first.
    pub async fn mark_alarm_notified(&self, id: i64, seen: Option<i64>) -> Result<bool> {
        let _w = self.writer().await;
        let done = sqlx::query(&self.sql(
            "UPDATE alarm_event SET last_notified_at = ? \
             WHERE id = ? AND COALESCE(last_notified_at, -1) = ?",
        ))
        .bind(now_millis())
        .bind(id)
        .bind(seen.unwrap_or(-1))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn alarm(&self, id: i64) -> Result<EventRecord> {
        self.row_by_id(EVENT_COLUMNS, "alarm_event", "alarm", id, event_from_row)
            .await
    }

    /// A page of the events `filter` matches, newest first, and how many match.
    pub async fn alarms(
        &self,
        filter: &AlarmListFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<EventRecord>, i64)> {
        let conditions = Conditions::of_events("e", filter);
        let clause = conditions.clause();
        let list = format!(
            "SELECT {EVENT_COLUMNS} FROM alarm_event e{clause} ORDER BY id DESC LIMIT ? OFFSET ?"
        );
        let count = format!("SELECT COUNT(*) FROM alarm_event e{clause}");
        let (rows, total) = self
            .page_of(&list, &count, &conditions, offset, limit)
            .await?;
        Ok((
            rows.iter().map(event_from_row).collect::<Result<_>>()?,
            total,
        ))
    }

    async fn page_of(
        &self,
        list: &str,
        count: &str,
        conditions: &Conditions,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<AnyRow>, i64)> {
        let (list, count) = (self.sql(list), self.sql(count));
        let mut list_query = sqlx::query(&list);
        let mut count_query = sqlx::query_scalar::<_, i64>(&count);
        for arg in &conditions.args {
            (list_query, count_query) = match arg {
                Arg::Int(v) => (list_query.bind(*v), count_query.bind(*v)),
                Arg::Text(v) => (list_query.bind(v.clone()), count_query.bind(v.clone())),
            };
        }
        let rows = list_query
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        let total = count_query.fetch_one(&self.pool).await?;
        Ok((rows, total))
    }

    // ----- channels -----

    pub async fn alarm_channels(&self) -> Result<Vec<ChannelRecord>> {
        let text = format!("SELECT {CHANNEL_COLUMNS} FROM alarm_channel ORDER BY id");
        self.rows_of(&text, channel_from_row).await
    }

    pub async fn alarm_channel(&self, id: i64) -> Result<ChannelRecord> {
        self.row_by_id(
            CHANNEL_COLUMNS,
            "alarm_channel",
            "alarm channel",
            id,
            channel_from_row,
        )
        .await
    }

    /// Inserts a channel; `Conflict` if the name is taken.
    pub async fn insert_alarm_channel(&self, c: &ChannelRecord) -> Result<i64> {
        let _w = self.writer().await;
        let now = now_millis();
        let id: Option<i64> = sqlx::query_scalar(&self.sql(
            "INSERT INTO alarm_channel (name, channel_type, config, message_template, \
             resolved_message_template, rate_limit_per_minute, max_attempts, create_time, \
             update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (name) DO NOTHING RETURNING id",
        ))
        .bind(&c.name)
        .bind(c.channel_type.as_str())
        .bind(&c.config)
        .bind(&c.message_template)
        .bind(&c.resolved_message_template)
        .bind(c.rate_limit_per_minute)
        .bind(c.max_attempts)
        .bind(now)
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map(|rows| rows.into_iter().next())?;
        id.ok_or_else(|| StoreError::AlreadyExists {
            entity: "alarm channel",
            key: c.name.clone(),
        })
    }

    pub async fn update_alarm_channel(&self, c: &ChannelRecord) -> Result<()> {
        let _w = self.writer().await;
        let done = sqlx::query(&self.sql(
            "UPDATE alarm_channel SET name = ?, config = ?, message_template = ?, \
             resolved_message_template = ?, rate_limit_per_minute = ?, max_attempts = ?, \
             update_time = ? WHERE id = ?",
        ))
        .bind(&c.name)
        .bind(&c.config)
        .bind(&c.message_template)
        .bind(&c.resolved_message_template)
        .bind(c.rate_limit_per_minute)
        .bind(c.max_attempts)
        .bind(now_millis())
        .bind(c.id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                entity: "alarm channel",
                key: c.id.to_string(),
            });
        }
        Ok(())
    }

    /// Deletes a channel with its subscriptions and notification history.
    pub async fn delete_alarm_channel(&self, id: i64) -> Result<()> {
        self.delete_row("alarm_channel", "alarm channel", id).await
    }

    // ----- subscriptions -----

    pub async fn alarm_subscriptions(&self) -> Result<Vec<SubscriptionRecord>> {
        let text = format!("SELECT {SUBSCRIPTION_COLUMNS} FROM alarm_subscription ORDER BY id");
        self.rows_of(&text, subscription_from_row).await
    }

    pub async fn alarm_subscription(&self, id: i64) -> Result<SubscriptionRecord> {
        self.row_by_id(
            SUBSCRIPTION_COLUMNS,
            "alarm_subscription",
            "alarm subscription",
            id,
            subscription_from_row,
        )
        .await
    }

    pub async fn insert_alarm_subscription(&self, s: &SubscriptionRecord) -> Result<i64> {
        let _w = self.writer().await;
        let now = now_millis();
        let id: i64 = sqlx::query_scalar(&self.sql(
            "INSERT INTO alarm_subscription (channel_id, user_id, alarm_types, max_level, \
             send_resolved, repeat_secs, enabled, create_time, update_time) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        ))
        .bind(s.channel_id)
        .bind(s.user_id)
        .bind(&s.alarm_types)
        .bind(s.max_level)
        .bind(i64::from(s.send_resolved))
        .bind(s.repeat_secs)
        .bind(i64::from(s.enabled))
        .bind(now)
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .and_then(crate::first_row)?;
        Ok(id)
    }

    pub async fn update_alarm_subscription(&self, s: &SubscriptionRecord) -> Result<()> {
        let _w = self.writer().await;
        let done = sqlx::query(&self.sql(
            "UPDATE alarm_subscription SET channel_id = ?, user_id = ?, alarm_types = ?, \
             max_level = ?, send_resolved = ?, repeat_secs = ?, enabled = ?, update_time = ? \
             WHERE id = ?",
        ))
        .bind(s.channel_id)
        .bind(s.user_id)
        .bind(&s.alarm_types)
        .bind(s.max_level)
        .bind(i64::from(s.send_resolved))
        .bind(s.repeat_secs)
        .bind(i64::from(s.enabled))
        .bind(now_millis())
        .bind(s.id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                entity: "alarm subscription",
                key: s.id.to_string(),
            });
        }
        Ok(())
    }

    pub async fn delete_alarm_subscription(&self, id: i64) -> Result<()> {
        self.delete_row("alarm_subscription", "alarm subscription", id)
            .await
    }

    // ----- silencers -----

    /// Blocking conditions that have not ended before `ended_after` (ms).
    pub async fn alarm_silencers(&self, ended_after: i64) -> Result<Vec<SilencerRecord>> {
        let text =
            format!("SELECT {SILENCER_COLUMNS} FROM alarm_silencer WHERE ends_at > ? ORDER BY id");
        let rows = sqlx::query(&self.sql(&text))
            .bind(ended_after)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(silencer_from_row).collect()
    }

    pub async fn alarm_silencer(&self, id: i64) -> Result<SilencerRecord> {
        self.row_by_id(
            SILENCER_COLUMNS,
            "alarm_silencer",
            "alarm silencer",
            id,
            silencer_from_row,
        )
        .await
    }

    pub async fn insert_alarm_silencer(&self, s: &SilencerRecord) -> Result<i64> {
        let _w = self.writer().await;
        let id: i64 = sqlx::query_scalar(&self.sql(
            "INSERT INTO alarm_silencer (app_type, alarm_types, matchers, starts_at, ends_at, \
             daily_start, daily_end, comment, creator, create_time) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        ))
        .bind(&s.app_type)
        .bind(&s.alarm_types)
        .bind(&s.matchers)
        .bind(s.starts_at)
        .bind(s.ends_at)
        .bind(s.daily_start)
        .bind(s.daily_end)
        .bind(&s.comment)
        .bind(&s.creator)
        .bind(now_millis())
        .fetch_all(&self.pool)
        .await
        .and_then(crate::first_row)?;
        Ok(id)
    }

    pub async fn delete_alarm_silencer(&self, id: i64) -> Result<()> {
        self.delete_row("alarm_silencer", "alarm silencer", id)
            .await
    }

    // ----- notifications -----

    /// Queues notifications, due now.
    pub async fn queue_notifications(&self, list: &[NewNotification]) -> Result<()> {
        if list.is_empty() {
            return Ok(());
        }
        let _w = self.writer().await;
        let now = now_millis();
        let mut tx = self.pool.begin().await?;
        for n in list {
            sqlx::query(&self.sql(
                "INSERT INTO alarm_notification (alarm_id, channel_id, subscription_id, \
                 recipient_uid, kind, status, message, attempts, next_attempt_at, \
                 channel_response, generated_at) \
                 VALUES (?, ?, ?, ?, ?, 'Pending', ?, 0, ?, '', ?)",
            ))
            .bind(n.alarm_id)
            .bind(n.channel_id)
            .bind(n.subscription_id)
            .bind(&n.recipient_uid)
            .bind(&n.kind)
            .bind(&n.message)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Claims up to `limit` notifications that are due (Pending), or whose sender's claim
    /// ran out (a server that died while sending), for `lease_ms`.
    pub async fn claim_notifications(
        &self,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<NotificationRecord>> {
        let _w = self.writer().await;
        let now = now_millis();
        let text = format!(
            "UPDATE alarm_notification SET status = 'Sending', claimed_until = ? \
             WHERE id IN (SELECT id FROM alarm_notification \
               WHERE (status = 'Pending' AND next_attempt_at <= ?) \
                  OR (status = 'Sending' AND claimed_until < ?) \
               ORDER BY id LIMIT ?) \
             RETURNING {NOTIFICATION_COLUMNS}"
        );
        let rows = sqlx::query(&self.sql(&text))
            .bind(now + lease_ms)
            .bind(now)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(notification_from_row).collect()
    }

    /// The notifications of a channel sent (tried at least once) since `since` (ms).
    pub async fn notifications_sent_since(&self, channel_id: i64, since: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            &self.sql(
                "SELECT COUNT(*) FROM alarm_notification WHERE channel_id = ? AND sent_at >= ?",
            ),
        )
        .bind(channel_id)
        .bind(since)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Records one attempt and the notification's next state.
    pub async fn record_attempt(
        &self,
        notification: &NotificationRecord,
        outcome: &AttemptOutcome,
    ) -> Result<()> {
        let _w = self.writer().await;
        let now = now_millis();
        let attempt = notification.attempts + 1;
        let mut tx = self.pool.begin().await?;
        sqlx::query(&self.sql(
            "INSERT INTO alarm_notification_attempt (notification_id, attempt, at, successful, \
             response) VALUES (?, ?, ?, ?, ?) ON CONFLICT (notification_id, attempt) DO NOTHING",
        ))
        .bind(notification.id)
        .bind(attempt)
        .bind(now)
        .bind(i64::from(outcome.successful))
        .bind(&outcome.response)
        .execute(&mut *tx)
        .await?;
        sqlx::query(&self.sql(
            "UPDATE alarm_notification SET status = ?, attempts = ?, next_attempt_at = ?, \
             claimed_until = NULL, channel_response = ?, sent_at = ? WHERE id = ?",
        ))
        .bind(outcome.status.as_str())
        .bind(attempt)
        .bind(outcome.next_attempt_at)
        .bind(&outcome.response)
        .bind(now)
        .bind(notification.id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks a notification Limited: the channel's rate limit dropped it.
    pub async fn limit_notification(&self, id: i64, response: &str) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(&self.sql(
            "UPDATE alarm_notification SET status = 'Limited', claimed_until = NULL, \
             channel_response = ? WHERE id = ?",
        ))
        .bind(response)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A page of the notifications `filter` matches, newest first, each with its event, and
    /// how many match: one query for the page, one for the count.
    pub async fn notifications(
        &self,
        filter: &NotificationListFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<(NotificationRecord, EventRecord)>, i64)> {
        let conditions = Conditions::of_notifications(filter);
        let clause = conditions.clause();
        let prefixed = |columns: &str, t: &str, alias: &str| {
            columns
                .split(", ")
                .map(|c| format!("{t}.{c} AS {alias}{c}", c = c.trim()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let columns = format!(
            "{}, {}",
            prefixed(NOTIFICATION_COLUMNS, "n", ""),
            prefixed(EVENT_COLUMNS, "e", "e_")
        );
        let from = "alarm_notification n JOIN alarm_event e ON e.id = n.alarm_id";
        let list =
            format!("SELECT {columns} FROM {from}{clause} ORDER BY n.id DESC LIMIT ? OFFSET ?");
        let count = format!("SELECT COUNT(*) FROM {from}{clause}");
        let (rows, total) = self
            .page_of(&list, &count, &conditions, offset, limit)
            .await?;
        let pairs = rows
            .iter()
            .map(|row| Ok((notification_from_row(row)?, event_from_prefixed(row, "e_")?)))
            .collect::<Result<_>>()?;
        Ok((pairs, total))
    }

    /// The attempts of these notifications, oldest first.
    pub async fn notification_attempts(&self, ids: &[i64]) -> Result<Vec<AttemptRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let text = format!(
            "SELECT notification_id, attempt, at, successful, response \
             FROM alarm_notification_attempt WHERE notification_id IN ({}) \
             ORDER BY notification_id, attempt",
            crate::hosts::placeholders(ids.len())
        );
        let sql = self.sql(&text);
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok(AttemptRecord {
                    notification_id: row.try_get("notification_id")?,
                    attempt: row.try_get("attempt")?,
                    at: row.try_get("at")?,
                    successful: flag(row, "successful")?,
                    response: row.try_get("response")?,
                })
            })
            .collect()
    }
}
