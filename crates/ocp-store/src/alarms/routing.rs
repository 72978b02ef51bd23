//! Where alerts go: channels, subscriptions and blocking conditions ("silencers").

use super::*;
use crate::{now_millis, Result, Store, StoreError};

impl Store {
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
}
