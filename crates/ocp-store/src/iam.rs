//! Users, roles and access keys.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{flag, now_millis, Result, Store, StoreError};

#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    /// The argon2 PHC string; never leaves the server.
    pub password_hash: String,
    pub email: Option<String>,
    pub description: Option<String>,
    pub enabled: bool,
    pub locked: bool,
    /// `(limit, window_seconds)`.
    pub rate_limit: Option<(u32, u32)>,
    pub role_ids: Vec<i64>,
    pub create_time: i64,
    pub update_time: i64,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub email: Option<String>,
    pub description: Option<String>,
    pub role_ids: Vec<i64>,
    pub rate_limit: Option<(u32, u32)>,
}

#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    pub email: Option<String>,
    pub description: Option<String>,
    pub role_ids: Option<Vec<i64>>,
    pub rate_limit: Option<(u32, u32)>,
}

#[derive(Debug, Clone)]
pub struct RoleRecord {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub built_in: bool,
    pub permissions: Vec<String>,
    pub create_time: i64,
    pub update_time: i64,
}

#[derive(Debug, Clone)]
pub struct AccessKeyRecord {
    pub id: i64,
    pub user_id: i64,
    pub access_key_id: String,
    /// The secret, sealed with the server's master key.
    pub sealed_secret: String,
    pub enabled: bool,
    pub create_time: i64,
    pub last_used_time: Option<i64>,
}

const USER_COLUMNS: &str = "id, username, password_hash, email, description, enabled, locked, \
     rate_limit, rate_limit_window, create_time, update_time";

fn user_from_row(row: &AnyRow) -> Result<UserRecord> {
    let limit: Option<i64> = row.try_get("rate_limit")?;
    let window: Option<i64> = row.try_get("rate_limit_window")?;
    Ok(UserRecord {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        password_hash: row.try_get("password_hash")?,
        email: row.try_get("email")?,
        description: row.try_get("description")?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        locked: row.try_get::<i64, _>("locked")? != 0,
        rate_limit: limit.zip(window).map(|(l, w)| (l as u32, w as u32)),
        role_ids: Vec::new(),
        create_time: row.try_get("create_time")?,
        update_time: row.try_get("update_time")?,
    })
}

fn role_from_row(row: &AnyRow) -> Result<RoleRecord> {
    let permissions: String = row.try_get("permissions")?;
    Ok(RoleRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        built_in: row.try_get::<i64, _>("built_in")? != 0,
        permissions: serde_json::from_str(&permissions)
            .map_err(|e| StoreError::Corrupt(format!("role permissions: {e}")))?,
        create_time: row.try_get("create_time")?,
        update_time: row.try_get("update_time")?,
    })
}

fn access_key_from_row(row: &AnyRow) -> Result<AccessKeyRecord> {
    Ok(AccessKeyRecord {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        access_key_id: row.try_get("access_key_id")?,
        sealed_secret: row.try_get("sealed_secret")?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        create_time: row.try_get("create_time")?,
        last_used_time: row.try_get("last_used_time")?,
    })
}

impl Store {
    // ---- roles ----

    /// Creates the role, or, for a built-in role that exists already, brings its permissions
    /// up to date. Used at start to seed the built-in roles.
    pub async fn upsert_builtin_role(
        &self,
        name: &str,
        description: &str,
        permissions: &[String],
    ) -> Result<i64> {
        let _w = self.writer().await;
        let perms = serde_json::to_string(permissions).expect("strings serialize");
        let now = now_millis();
        let existing: Option<i64> =
            sqlx::query_scalar(&self.sql("SELECT id FROM iam_role WHERE name = ?"))
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        if let Some(id) = existing {
            sqlx::query(&self.sql(
                "UPDATE iam_role SET permissions = ?, description = ?, built_in = 1, update_time = ? WHERE id = ?",
            ))
            .bind(&perms)
            .bind(description)
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
            return Ok(id);
        }
        let id = sqlx::query_scalar(&self.sql(
            "INSERT INTO iam_role (name, description, built_in, permissions, create_time, update_time) \
             VALUES (?, ?, 1, ?, ?, ?) RETURNING id",
        ))
        .bind(name)
        .bind(description)
        .bind(&perms)
        .bind(now)
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .and_then(crate::first_row)?;
        Ok(id)
    }

    pub async fn create_role(
        &self,
        name: &str,
        description: Option<&str>,
        permissions: &[String],
    ) -> Result<RoleRecord> {
        let id: i64 = {
            let _w = self.writer().await;
            let now = now_millis();
            sqlx::query_scalar(&self.sql(
                "INSERT INTO iam_role (name, description, built_in, permissions, create_time, update_time) \
                 VALUES (?, ?, 0, ?, ?, ?) RETURNING id",
            ))
            .bind(name)
            .bind(description)
            .bind(serde_json::to_string(permissions).expect("strings serialize"))
            .bind(now)
            .bind(now)
            .fetch_all(&self.pool)
            .await
            .and_then(crate::first_row)
            .map_err(|e| StoreError::from_unique(e, "role", name))?
        };
        self.role(id).await
    }

    pub async fn update_role(
        &self,
        id: i64,
        description: Option<&str>,
        permissions: Option<&[String]>,
    ) -> Result<RoleRecord> {
        let current = self.role(id).await?;
        {
            let _w = self.writer().await;
            let perms = permissions
                .map(|p| p.to_vec())
                .unwrap_or(current.permissions);
            sqlx::query(&self.sql(
                "UPDATE iam_role SET description = ?, permissions = ?, update_time = ? WHERE id = ?",
            ))
            .bind(description.map(str::to_string).or(current.description))
            .bind(serde_json::to_string(&perms).expect("strings serialize"))
            .bind(now_millis())
            .bind(id)
            .execute(&self.pool)
            .await?;
        }
        self.role(id).await
    }

    pub async fn delete_role(&self, id: i64) -> Result<()> {
        self.delete_row("iam_role", "role", id).await
    }

    pub async fn role(&self, id: i64) -> Result<RoleRecord> {
        let row = sqlx::query(&self.sql("SELECT * FROM iam_role WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                entity: "role",
                key: id.to_string(),
            })?;
        role_from_row(&row)
    }

    pub async fn roles(&self) -> Result<Vec<RoleRecord>> {
        let rows = sqlx::query("SELECT * FROM iam_role ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(role_from_row).collect()
    }

    /// Whether any user holds the role.
    pub async fn role_in_use(&self, id: i64) -> Result<bool> {
        let n: i64 =
            sqlx::query_scalar(&self.sql("SELECT COUNT(*) FROM iam_user_role WHERE role_id = ?"))
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
        Ok(n > 0)
    }

    // ---- users ----

    pub async fn create_user(&self, user: &NewUser) -> Result<UserRecord> {
        let id = {
            let _w = self.writer().await;
            let mut tx = self.pool.begin().await?;
            let now = now_millis();
            let id: i64 = sqlx::query_scalar(&self.sql(
                "INSERT INTO iam_user (username, password_hash, email, description, enabled, locked, \
                 rate_limit, rate_limit_window, create_time, update_time) \
                 VALUES (?, ?, ?, ?, 1, 0, ?, ?, ?, ?) RETURNING id",
            ))
            .bind(&user.username)
            .bind(&user.password_hash)
            .bind(&user.email)
            .bind(&user.description)
            .bind(user.rate_limit.map(|r| i64::from(r.0)))
            .bind(user.rate_limit.map(|r| i64::from(r.1)))
            .bind(now)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| StoreError::from_unique(e, "user", &user.username))?;
            for role_id in &user.role_ids {
                sqlx::query(
                    &self.sql("INSERT INTO iam_user_role (user_id, role_id) VALUES (?, ?)"),
                )
                .bind(id)
                .bind(role_id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            id
        };
        self.user(id).await
    }

    pub async fn update_user(&self, id: i64, update: &UserUpdate) -> Result<UserRecord> {
        let current = self.user(id).await?;
        {
            let _w = self.writer().await;
            let mut tx = self.pool.begin().await?;
            let rate = update.rate_limit.or(current.rate_limit);
            sqlx::query(&self.sql(
                "UPDATE iam_user SET email = ?, description = ?, rate_limit = ?, rate_limit_window = ?, \
                 update_time = ? WHERE id = ?",
            ))
            .bind(update.email.clone().or(current.email))
            .bind(update.description.clone().or(current.description))
            .bind(rate.map(|r| i64::from(r.0)))
            .bind(rate.map(|r| i64::from(r.1)))
            .bind(now_millis())
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if let Some(role_ids) = &update.role_ids {
                sqlx::query(&self.sql("DELETE FROM iam_user_role WHERE user_id = ?"))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                for role_id in role_ids {
                    sqlx::query(
                        &self.sql("INSERT INTO iam_user_role (user_id, role_id) VALUES (?, ?)"),
                    )
                    .bind(id)
                    .bind(role_id)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
        }
        self.user(id).await
    }

    pub async fn set_user_password(&self, id: i64, password_hash: &str) -> Result<()> {
        self.update_user_column(id, "password_hash", UserValue::Text(password_hash))
            .await
    }

    pub async fn set_user_enabled(&self, id: i64, enabled: bool) -> Result<()> {
        self.update_user_column(id, "enabled", UserValue::Int(flag(enabled)))
            .await
    }

    pub async fn set_user_locked(&self, id: i64, locked: bool) -> Result<()> {
        self.update_user_column(id, "locked", UserValue::Int(flag(locked)))
            .await
    }

    async fn update_user_column(
        &self,
        id: i64,
        column: &'static str,
        value: UserValue<'_>,
    ) -> Result<()> {
        let _w = self.writer().await;
        let text = format!("UPDATE iam_user SET {column} = ?, update_time = ? WHERE id = ?");
        let sql = self.sql(&text);
        let query = sqlx::query(&sql);
        let query = match value {
            UserValue::Text(v) => query.bind(v.to_string()),
            UserValue::Int(v) => query.bind(v),
        };
        let done = query
            .bind(now_millis())
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                entity: "user",
                key: id.to_string(),
            });
        }
        Ok(())
    }

    pub async fn delete_user(&self, id: i64) -> Result<()> {
        self.delete_row("iam_user", "user", id).await
    }

    pub async fn user(&self, id: i64) -> Result<UserRecord> {
        let text = format!("SELECT {USER_COLUMNS} FROM iam_user WHERE id = ?");
        let row = sqlx::query(&self.sql(&text))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                entity: "user",
                key: id.to_string(),
            })?;
        let mut user = user_from_row(&row)?;
        user.role_ids = self.user_role_ids(id).await?;
        Ok(user)
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>> {
        let text = format!("SELECT {USER_COLUMNS} FROM iam_user WHERE username = ?");
        let Some(row) = sqlx::query(&self.sql(&text))
            .bind(username)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let mut user = user_from_row(&row)?;
        user.role_ids = self.user_role_ids(user.id).await?;
        Ok(Some(user))
    }

    /// A page of users ordered by `sort_column` (one of the user columns), and the total.
    pub async fn users(
        &self,
        offset: i64,
        limit: i64,
        sort_column: &str,
        descending: bool,
    ) -> Result<(Vec<UserRecord>, i64)> {
        let column = match sort_column {
            "username" | "create_time" | "update_time" => sort_column,
            _ => "id",
        };
        let dir = if descending { "DESC" } else { "ASC" };
        let text =
            format!("SELECT {USER_COLUMNS} FROM iam_user ORDER BY {column} {dir} LIMIT ? OFFSET ?");
        let rows = sqlx::query(&self.sql(&text))
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM iam_user")
            .fetch_one(&self.pool)
            .await?;
        let mut users = rows.iter().map(user_from_row).collect::<Result<Vec<_>>>()?;
        if !users.is_empty() {
            // The roles of the whole page in one statement.
            let text = format!(
                "SELECT user_id, role_id FROM iam_user_role WHERE user_id IN ({}) \
                 ORDER BY user_id, role_id",
                crate::hosts::placeholders(users.len())
            );
            let sql = self.sql(&text);
            let mut query = sqlx::query(&sql);
            for user in &users {
                query = query.bind(user.id);
            }
            for row in query.fetch_all(&self.pool).await? {
                let (user_id, role_id): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
                if let Some(user) = users.iter_mut().find(|u| u.id == user_id) {
                    user.role_ids.push(role_id);
                }
            }
        }
        Ok((users, total))
    }

    async fn user_role_ids(&self, user_id: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            &self.sql("SELECT role_id FROM iam_user_role WHERE user_id = ? ORDER BY role_id"),
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?)
    }

    // ---- access keys ----

    pub async fn create_access_key(
        &self,
        user_id: i64,
        access_key_id: &str,
        sealed_secret: &str,
    ) -> Result<AccessKeyRecord> {
        let _w = self.writer().await;
        let row = sqlx::query(&self.sql(
            "INSERT INTO iam_access_key (user_id, access_key_id, sealed_secret, enabled, create_time) \
             VALUES (?, ?, ?, 1, ?) RETURNING *",
        ))
        .bind(user_id)
        .bind(access_key_id)
        .bind(sealed_secret)
        .bind(now_millis())
        .fetch_all(&self.pool)
        .await
        .and_then(crate::first_row)
        .map_err(|e| StoreError::from_unique(e, "access key", access_key_id))?;
        access_key_from_row(&row)
    }

    pub async fn access_key(&self, access_key_id: &str) -> Result<Option<AccessKeyRecord>> {
        let row = sqlx::query(&self.sql("SELECT * FROM iam_access_key WHERE access_key_id = ?"))
            .bind(access_key_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(access_key_from_row).transpose()
    }

    pub async fn access_keys_of(&self, user_id: i64) -> Result<Vec<AccessKeyRecord>> {
        let rows =
            sqlx::query(&self.sql("SELECT * FROM iam_access_key WHERE user_id = ? ORDER BY id"))
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(access_key_from_row).collect()
    }

    pub async fn delete_access_key(&self, user_id: i64, id: i64) -> Result<()> {
        let _w = self.writer().await;
        let done =
            sqlx::query(&self.sql("DELETE FROM iam_access_key WHERE id = ? AND user_id = ?"))
                .bind(id)
                .bind(user_id)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                entity: "access key",
                key: id.to_string(),
            });
        }
        Ok(())
    }

    pub async fn touch_access_key(&self, id: i64) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(&self.sql("UPDATE iam_access_key SET last_used_time = ? WHERE id = ?"))
            .bind(now_millis())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

impl Store {
    /// Deletes the row `id` of `table`; `NotFound` names it as `entity` when there is none.
    pub(crate) async fn delete_row(
        &self,
        table: &'static str,
        entity: &'static str,
        id: i64,
    ) -> Result<()> {
        let _w = self.writer().await;
        let text = format!("DELETE FROM {table} WHERE id = ?");
        let done = sqlx::query(&self.sql(&text))
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                entity,
                key: id.to_string(),
            });
        }
        Ok(())
    }
}

enum UserValue<'a> {
    Text(&'a str),
    Int(i64),
}

impl Store {
    /// Records a signed request as seen until `expires_at` (ms); false when it was seen already.
    pub async fn remember_signature(&self, digest: &str, expires_at: i64) -> Result<bool> {
        let first = self
            .remember_signatures(&[(digest.to_string(), expires_at)])
            .await?;
        Ok(first[0])
    }

    /// [`Store::remember_signature`] for many calls in one transaction: whether each is new.
    /// Of a digest given twice, only the first is.
    pub async fn remember_signatures(&self, calls: &[(String, i64)]) -> Result<Vec<bool>> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let mut fresh = std::collections::HashSet::new();
        for chunk in calls.chunks(400) {
            let rows = vec!["(?, ?)"; chunk.len()].join(", ");
            let sql = format!(
                "INSERT INTO seen_signature (digest, expires_at) VALUES {rows} \
                 ON CONFLICT (digest) DO NOTHING RETURNING digest"
            );
            let sql = self.sql(&sql);
            let mut query = sqlx::query_scalar::<_, String>(&sql);
            for (digest, expires_at) in chunk {
                query = query.bind(digest).bind(expires_at);
            }
            fresh.extend(query.fetch_all(&mut *tx).await?);
        }
        tx.commit().await?;
        Ok(calls
            .iter()
            .map(|(digest, _)| fresh.remove(digest))
            .collect())
    }

    /// Forgets signatures whose window has passed; answers how many.
    pub async fn forget_expired_signatures(&self) -> Result<u64> {
        let _w = self.writer().await;
        let done = sqlx::query(&self.sql("DELETE FROM seen_signature WHERE expires_at < ?"))
            .bind(now_millis())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
