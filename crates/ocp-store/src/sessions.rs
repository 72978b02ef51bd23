//! Console sessions (only a hash of each token) and the record of every console login.

use sqlx::Row;

use crate::{now_millis, Result, Store};

/// A live session: whose, and until when.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub user_id: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

/// A session to open.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token_hash: String,
    pub user_id: i64,
    pub client_address: String,
    pub user_agent: String,
    pub expires_at: i64,
}

/// One login, successful or not.
#[derive(Debug, Clone)]
pub struct LoginRecord {
    pub id: i64,
    pub username: String,
    pub user_id: Option<i64>,
    pub client_address: String,
    pub user_agent: String,
    pub at: i64,
    pub successful: bool,
    /// Why it failed; empty when it succeeded.
    pub reason: String,
    /// The attempt found the account or the address locked out.
    pub locked_out: bool,
}

/// Which logins a list shows, newest first.
#[derive(Debug, Clone, Default)]
pub struct LoginRecordFilter {
    pub username: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

impl Store {
    pub async fn create_session(&self, s: &NewSession) -> Result<()> {
        let _w = self.writer().await;
        let now = now_millis();
        sqlx::query(&self.sql(
            "INSERT INTO iam_session (token_hash, user_id, client_address, user_agent, \
             created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        ))
        .bind(&s.token_hash)
        .bind(s.user_id)
        .bind(&s.client_address)
        .bind(&s.user_agent)
        .bind(now)
        .bind(now)
        .bind(s.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The session of a token's hash, if it is still within its lifetime and was seen since
    /// `idle_since`.
    pub async fn live_session(
        &self,
        token_hash: &str,
        idle_since: i64,
    ) -> Result<Option<SessionRecord>> {
        let row = sqlx::query(&self.sql(
            "SELECT user_id, created_at, last_seen_at, expires_at FROM iam_session \
             WHERE token_hash = ? AND expires_at > ? AND last_seen_at > ?",
        ))
        .bind(token_hash)
        .bind(now_millis())
        .bind(idle_since)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(SessionRecord {
                user_id: row.try_get("user_id")?,
                created_at: row.try_get("created_at")?,
                last_seen_at: row.try_get("last_seen_at")?,
                expires_at: row.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    /// Marks a session used now, unless it was marked within `coarse_ms` (one write a
    /// minute, not one a request).
    pub async fn touch_session(&self, token_hash: &str, coarse_ms: i64) -> Result<()> {
        let now = now_millis();
        let _w = self.writer().await;
        sqlx::query(&self.sql(
            "UPDATE iam_session SET last_seen_at = ? WHERE token_hash = ? AND last_seen_at < ?",
        ))
        .bind(now)
        .bind(token_hash)
        .bind(now - coarse_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(&self.sql("DELETE FROM iam_session WHERE token_hash = ?"))
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends every session of a user (a changed password, a lock).
    pub async fn delete_user_sessions(&self, user_id: i64) -> Result<u64> {
        let _w = self.writer().await;
        let done = sqlx::query(&self.sql("DELETE FROM iam_session WHERE user_id = ?"))
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Drops sessions past their lifetime or idle since `idle_since`; answers how many.
    pub async fn forget_ended_sessions(&self, idle_since: i64) -> Result<u64> {
        let _w = self.writer().await;
        let done = sqlx::query(
            &self.sql("DELETE FROM iam_session WHERE expires_at <= ? OR last_seen_at <= ?"),
        )
        .bind(now_millis())
        .bind(idle_since)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    pub async fn record_login(&self, r: &LoginRecord) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(&self.sql(
            "INSERT INTO iam_login_record (username, user_id, client_address, user_agent, at, \
             successful, reason, locked_out) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        ))
        .bind(&r.username)
        .bind(r.user_id)
        .bind(&r.client_address)
        .bind(&r.user_agent)
        .bind(r.at)
        .bind(i64::from(r.successful))
        .bind(&r.reason)
        .bind(i64::from(r.locked_out))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A page of logins, newest first, and how many match.
    pub async fn login_records(
        &self,
        filter: &LoginRecordFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<LoginRecord>, i64)> {
        let mut clauses = vec!["1 = 1"];
        if filter.username.is_some() {
            clauses.push("username = ?");
        }
        if filter.from.is_some() {
            clauses.push("at >= ?");
        }
        if filter.to.is_some() {
            clauses.push("at <= ?");
        }
        let clause = clauses.join(" AND ");
        let list_text = format!(
            "SELECT * FROM iam_login_record WHERE {clause} ORDER BY id DESC LIMIT ? OFFSET ?"
        );
        let count_text = format!("SELECT COUNT(*) FROM iam_login_record WHERE {clause}");
        let (list, count) = (self.sql(&list_text), self.sql(&count_text));
        let mut list_query = sqlx::query(&list);
        let mut count_query = sqlx::query_scalar::<_, i64>(&count);
        if let Some(name) = &filter.username {
            list_query = list_query.bind(name);
            count_query = count_query.bind(name);
        }
        for at in [filter.from, filter.to].into_iter().flatten() {
            list_query = list_query.bind(at);
            count_query = count_query.bind(at);
        }
        let rows = list_query
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        let total = count_query.fetch_one(&self.pool).await?;
        let records = rows
            .iter()
            .map(|row| {
                Ok(LoginRecord {
                    id: row.try_get("id")?,
                    username: row.try_get("username")?,
                    user_id: row.try_get("user_id")?,
                    client_address: row.try_get("client_address")?,
                    user_agent: row.try_get("user_agent")?,
                    at: row.try_get("at")?,
                    successful: row.try_get::<i64, _>("successful")? != 0,
                    reason: row.try_get("reason")?,
                    locked_out: row.try_get::<i64, _>("locked_out")? != 0,
                })
            })
            .collect::<Result<_>>()?;
        Ok((records, total))
    }
}
