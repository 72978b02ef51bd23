//! What a logical backup set holds beside its dump: which databases are the users' own, and
//! the users, roles and grants as statements that make them again. `mariadb-dump` writes
//! neither (seekdb refuses `--all-databases`, and users live in its own schema).

use crate::{quote, text, ObClient, Result};

/// The server's own databases, never part of a logical set.
pub(crate) const SYSTEM_DATABASES: [&str; 4] =
    ["information_schema", "mysql", "oceanbase", "__recyclebin"];

/// The users' databases and roles of a server, and the statements that make them again.
#[derive(Debug, Clone, Default)]
pub struct Definitions {
    pub users: Vec<String>,
    /// Roles first, then users (with their password hashes), then every grant.
    pub statements: Vec<String>,
}

impl ObClient {
    /// Every database with the number of tables and views it holds.
    async fn table_counts(&mut self) -> Result<Vec<(String, i64)>> {
        let rows = self
            .rows(
                "SELECT s.SCHEMA_NAME, CAST(COUNT(t.TABLE_NAME) AS CHAR) \
                 FROM information_schema.SCHEMATA s \
                 LEFT JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = s.SCHEMA_NAME \
                 GROUP BY s.SCHEMA_NAME ORDER BY s.SCHEMA_NAME",
            )
            .await?;
        rows.iter()
            .map(|row| Ok((text(row, 0)?, text(row, 1)?.parse().unwrap_or(0))))
            .collect()
    }

    /// The databases a logical set holds: every database but the server's own, and `test`
    /// (which every seekdb has) only when it holds a table.
    pub async fn user_databases(&mut self) -> Result<Vec<String>> {
        Ok(self
            .table_counts()
            .await?
            .into_iter()
            .filter(|(name, tables)| {
                let system = SYSTEM_DATABASES.contains(&name.to_ascii_lowercase().as_str());
                let empty_test = name == "test" && *tables == 0;
                !(system || empty_test)
            })
            .map(|(name, _)| name)
            .collect())
    }

    /// How many tables and views each of `databases` holds on this server, for those that
    /// hold any.
    pub async fn tables_in(&mut self, databases: &[String]) -> Result<Vec<(String, i64)>> {
        Ok(self
            .table_counts()
            .await?
            .into_iter()
            .filter(|(name, tables)| *tables > 0 && databases.contains(name))
            .collect())
    }

    /// Every role and user but root and those `skip` names, as statements that make them
    /// again with their password hashes, locks and grants. Each statement can run twice.
    pub async fn user_definitions(&mut self, skip: impl Fn(&str) -> bool) -> Result<Definitions> {
        let rows = self
            .rows(
                "SELECT USER_NAME, TYPE, IS_LOCKED FROM oceanbase.DBA_OB_USERS \
                 ORDER BY TYPE DESC, USER_NAME",
            )
            .await?;
        let mut accounts = Vec::new();
        for row in &rows {
            let name = text(row, 0)?;
            if name != "root" && !skip(&name) {
                accounts.push((name, text(row, 1)? == "ROLE", text(row, 2)? == "YES"));
            }
        }
        let mut out = Definitions::default();
        let mut grants = Vec::new();
        // Roles sort first (TYPE DESC: ROLE before USER), so a role exists before it is
        // granted.
        for (name, is_role, locked) in &accounts {
            let account = format!("{}@'%'", quote(name));
            if *is_role {
                out.statements
                    .push(format!("CREATE ROLE IF NOT EXISTS {account}"));
            } else {
                let created = self.rows(&format!("SHOW CREATE USER {account}")).await?;
                for row in &created {
                    out.statements.push(text(row, 0)?);
                }
                if *locked {
                    out.statements
                        .push(format!("ALTER USER {account} ACCOUNT LOCK"));
                }
            }
            for row in &self.rows(&format!("SHOW GRANTS FOR {account}")).await? {
                let grant = text(row, 0)?;
                if !grant.starts_with("GRANT USAGE ON *.* TO ") {
                    grants.push(grant);
                }
            }
            out.users.push(name.clone());
        }
        out.statements.extend(grants);
        Ok(out)
    }

    /// Makes (or brings up to date) the user a host's agent dumps and loads logical sets as:
    /// every privilege, with the grant option, since a load makes users and grants.
    pub async fn ensure_backup_user(&mut self, name: &str, password: &str) -> Result<()> {
        let user = self.ensure_user(name, password).await?;
        self.execute_idempotent(&format!(
            "GRANT ALL PRIVILEGES ON *.* TO {user} WITH GRANT OPTION"
        ))
        .await
    }
}
