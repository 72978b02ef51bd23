//! Alert rules (alert items) and the events they open, repeat and resolve.

use super::filter::Conditions;
use super::*;
use crate::{now_millis, Result, Store, StoreError};

impl Store {
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
}
