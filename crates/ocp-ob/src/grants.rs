//! Users, roles and privileges (MySQL mode), and the checks that keep names and values
//! from being read as SQL.

use crate::{text, ObClient, ObError, Result, UserRow};

pub use ocp_api::obdb::{DB_PRIVILEGES, GLOBAL_PRIVILEGES};

/// A user, role or database name: a letter or `_` first, then letters, digits, `_` or `$`,
/// at most 64 characters. Such a name is safe inside backquotes or single quotes.
pub fn check_name(field: &str, name: &str) -> Result<()> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    {
        Ok(())
    } else {
        Err(ObError::invalid(
            field,
            "must start with a letter or _ and hold only letters, digits, _ and $ (at most 64)",
        ))
    }
}

/// A string literal: single quotes, with backslashes and quotes escaped.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The SQL words of an OCP privilege name (`CREATE_VIEW` -> `CREATE VIEW`), if it is one of
/// `allowed`.
pub fn sql_privilege(field: &str, name: &str, allowed: &[&str]) -> Result<String> {
    let upper = name.trim().to_ascii_uppercase();
    if !allowed.contains(&upper.as_str()) {
        return Err(ObError::invalid(
            field,
            format!("unknown privilege {name:?}; one of {}", allowed.join(", ")),
        ));
    }
    Ok(match upper.as_str() {
        "SHOW_DB" => "SHOW DATABASES".to_string(),
        "REPLICATION_SLAVE" => "REPLICATION SLAVE".to_string(),
        "REPLICATION_CLIENT" => "REPLICATION CLIENT".to_string(),
        "GRANT_OPTION" => "GRANT OPTION".to_string(),
        "LOCK_TABLES" => "LOCK TABLES".to_string(),
        other => other.replace('_', " "),
    })
}

fn privilege_list(field: &str, names: &[String], allowed: &[&str]) -> Result<String> {
    if names.is_empty() {
        return Err(ObError::invalid(field, "name at least one privilege"));
    }
    let words = names
        .iter()
        .map(|n| sql_privilege(field, n, allowed))
        .collect::<Result<Vec<_>>>()?;
    Ok(words.join(", "))
}

/// OCP's name for a `PRIV_*` column of `DBA_OB_USERS` or `DBA_OB_DATABASE_PRIVILEGE`.
fn privilege_of_column(column: &str) -> Option<String> {
    let name = column.strip_prefix("PRIV_")?;
    Some(match name {
        "LOCK_TABLE" => "LOCK_TABLES".to_string(),
        "REPL_SLAVE" => "REPLICATION_SLAVE".to_string(),
        "REPL_CLIENT" => "REPLICATION_CLIENT".to_string(),
        other => other.to_string(),
    })
}

fn granted(row: &sqlx::mysql::MySqlRow) -> Vec<String> {
    use sqlx::{Column, Row};
    let mut out = Vec::new();
    for (i, column) in row.columns().iter().enumerate() {
        if let Some(name) = privilege_of_column(column.name()) {
            if text(row, i).is_ok_and(|v| v == "YES") {
                out.push(name);
            }
        }
    }
    out
}

impl ObClient {
    /// Every user and role with its privileges.
    pub async fn users(&mut self) -> Result<Vec<UserRow>> {
        use sqlx::{Column, Row};
        let rows = self
            .rows(
                "SELECT u.*, CAST(a.gmt_create AS CHAR) AS OCP_CREATE_TIME, \
                 CAST(a.gmt_modified AS CHAR) AS OCP_UPDATE_TIME \
                 FROM oceanbase.DBA_OB_USERS u \
                 LEFT JOIN oceanbase.__all_user a ON a.user_name = u.USER_NAME \
                 ORDER BY u.USER_NAME",
            )
            .await?;
        let mut users = Vec::with_capacity(rows.len());
        for row in &rows {
            let column = |name: &str| {
                row.columns()
                    .iter()
                    .position(|c| c.name().eq_ignore_ascii_case(name))
                    .map(|i| text(row, i).unwrap_or_default())
                    .unwrap_or_default()
            };
            users.push(UserRow {
                name: column("USER_NAME"),
                is_role: column("TYPE") == "ROLE",
                locked: column("IS_LOCKED") == "YES",
                global_privileges: granted(row),
                db_privileges: Vec::new(),
                granted_roles: Vec::new(),
                create_time: Some(column("OCP_CREATE_TIME")).filter(|t| !t.is_empty()),
                update_time: Some(column("OCP_UPDATE_TIME")).filter(|t| !t.is_empty()),
            });
        }
        let rows = self
            .rows(
                "SELECT * FROM oceanbase.DBA_OB_DATABASE_PRIVILEGE ORDER BY USERNAME, DATABASE_NAME",
            )
            .await?;
        for row in &rows {
            let position = |name: &str| {
                row.columns()
                    .iter()
                    .position(|c| c.name().eq_ignore_ascii_case(name))
            };
            let (Some(u), Some(d)) = (position("USERNAME"), position("DATABASE_NAME")) else {
                continue;
            };
            let (user, db) = (text(row, u)?, text(row, d)?);
            if let Some(entry) = users.iter_mut().find(|x| x.name == user) {
                entry.db_privileges.push((db, granted(row)));
            }
        }
        // Users and roles alike may hold roles.
        for user in users.iter_mut() {
            user.granted_roles = self.roles_of(&user.name).await.unwrap_or_default();
        }
        Ok(users)
    }

    /// The roles granted to a user or a role, read from `SHOW GRANTS`.
    async fn roles_of(&mut self, user: &str) -> Result<Vec<String>> {
        let rows = self
            .rows(&format!("SHOW GRANTS FOR {}", quote(user)))
            .await?;
        let mut roles = Vec::new();
        for row in &rows {
            let line = text(row, 0)?;
            // GRANT 'r1'@'%', 'r2' TO 'u1'  (no ON: a role grant)
            if let Some(rest) = line.strip_prefix("GRANT ") {
                if !line.contains(" ON ") {
                    if let Some((list, _)) = rest.split_once(" TO ") {
                        for part in list.split(',') {
                            let name = part.trim().split('@').next().unwrap_or("");
                            let name = name.trim_matches(|c| c == '\'' || c == '`');
                            if !name.is_empty() {
                                roles.push(name.to_string());
                            }
                        }
                    }
                }
            }
        }
        Ok(roles)
    }

    pub async fn create_user(&mut self, name: &str, password: &str) -> Result<()> {
        check_name("username", name)?;
        check_password("password", password)?;
        self.execute(&format!(
            "CREATE USER {} IDENTIFIED BY {}",
            quote(name),
            quote(password)
        ))
        .await
    }

    pub async fn create_role(&mut self, name: &str) -> Result<()> {
        check_name("roleName", name)?;
        self.execute(&format!("CREATE ROLE {}", quote(name))).await
    }

    pub async fn drop_user(&mut self, name: &str) -> Result<()> {
        check_name("username", name)?;
        self.execute(&format!("DROP USER {}", quote(name))).await
    }

    pub async fn drop_role(&mut self, name: &str) -> Result<()> {
        check_name("roleName", name)?;
        self.execute(&format!("DROP ROLE {}", quote(name))).await
    }

    pub async fn set_password(&mut self, name: &str, password: &str) -> Result<()> {
        check_name("username", name)?;
        check_password("newPassword", password)?;
        self.execute_idempotent(&format!(
            "ALTER USER {} IDENTIFIED BY {}",
            quote(name),
            quote(password)
        ))
        .await
    }

    pub async fn set_locked(&mut self, name: &str, locked: bool) -> Result<()> {
        check_name("username", name)?;
        let action = if locked { "LOCK" } else { "UNLOCK" };
        self.execute_idempotent(&format!("ALTER USER {} ACCOUNT {action}", quote(name)))
            .await
    }

    /// Grants (or revokes) privileges on one database.
    pub async fn grant_db(
        &mut self,
        name: &str,
        db: &str,
        privileges: &[String],
        revoke: bool,
    ) -> Result<()> {
        check_name("username", name)?;
        check_name("dbPrivileges.dbName", db)?;
        let list = privilege_list("dbPrivileges.privileges", privileges, DB_PRIVILEGES)?;
        let statement = if revoke {
            format!("REVOKE {list} ON `{db}`.* FROM {}", quote(name))
        } else {
            format!("GRANT {list} ON `{db}`.* TO {}", quote(name))
        };
        self.execute(&statement).await
    }

    /// Grants (or revokes) privileges on `*.*`.
    pub async fn grant_global(
        &mut self,
        name: &str,
        privileges: &[String],
        revoke: bool,
    ) -> Result<()> {
        check_name("username", name)?;
        let list = privilege_list("globalPrivileges", privileges, GLOBAL_PRIVILEGES)?;
        let statement = if revoke {
            format!("REVOKE {list} ON *.* FROM {}", quote(name))
        } else {
            format!("GRANT {list} ON *.* TO {}", quote(name))
        };
        self.execute(&statement).await
    }

    /// Grants (or revokes) roles to a user or a role.
    pub async fn grant_roles(&mut self, name: &str, roles: &[String], revoke: bool) -> Result<()> {
        check_name("username", name)?;
        if roles.is_empty() {
            return Err(ObError::invalid("roles", "name at least one role"));
        }
        for role in roles {
            check_name("roles", role)?;
        }
        let list = roles
            .iter()
            .map(|r| quote(r))
            .collect::<Vec<_>>()
            .join(", ");
        let statement = if revoke {
            format!("REVOKE {list} FROM {}", quote(name))
        } else {
            format!("GRANT {list} TO {}", quote(name))
        };
        self.execute(&statement).await
    }
}

/// A password as statements take it: 1 to 128 characters, none of them control characters.
pub fn check_password(field: &str, password: &str) -> Result<()> {
    if password.is_empty() || password.len() > 128 || password.chars().any(char::is_control) {
        return Err(ObError::invalid(
            field,
            "must be 1 to 128 characters without control characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_quotes() {
        assert!(check_name("f", "user_1$").is_ok());
        for bad in ["", "1abc", "a b", "a'b", "a`b", &"x".repeat(65)] {
            assert!(check_name("f", bad).is_err(), "{bad}");
        }
        assert_eq!(quote(r"it's \ ok"), r"'it\'s \\ ok'");
    }

    #[test]
    fn privileges_map_to_sql_words() {
        assert_eq!(
            sql_privilege("f", "create_view", DB_PRIVILEGES).unwrap(),
            "CREATE VIEW"
        );
        assert!(sql_privilege("f", "SUPER", DB_PRIVILEGES).is_err());
        assert_eq!(
            sql_privilege("f", "SHOW_DB", GLOBAL_PRIVILEGES).unwrap(),
            "SHOW DATABASES"
        );
        assert_eq!(
            privilege_of_column("PRIV_CREATE_VIEW").as_deref(),
            Some("CREATE_VIEW")
        );
    }
}
