//! The typed filters of the event and notification lists, and the SQL they become.

use ocp_api::alarm::{AlarmScope, AlarmStatus, AppType, NotificationStatus};
use sqlx::any::AnyRow;

use crate::{Result, Store};

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
pub(super) enum Arg {
    Int(i64),
    Text(String),
}

/// SQL conditions (with `?` placeholders) and their values, joined by AND.
#[derive(Debug, Clone, Default)]
pub(super) struct Conditions {
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Conditions {
    pub(super) fn push(&mut self, clause: String, args: Vec<Arg>) {
        self.clauses.push(clause);
        self.args.extend(args);
    }

    pub(super) fn clause(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }

    /// The conditions of an event filter on the columns of table alias `t`.
    pub(super) fn of_events(t: &str, f: &AlarmListFilter) -> Self {
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

    pub(super) fn of_notifications(f: &NotificationListFilter) -> Self {
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

impl Store {
    /// A page of `list` and the count of `count`, both with the conditions' values.
    pub(super) async fn page_of(
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
}
