//! Notifications: queued, claimed by one sender, each attempt kept.

use sqlx::Row;

use super::filter::Conditions;
use super::*;
use crate::{now_millis, Result, Store};

impl Store {
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
