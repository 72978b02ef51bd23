//! `ocpctl db` and `ocpctl user`: the databases and database users of a tenant.

use super::*;

#[derive(Subcommand)]
pub enum DbCmd {
    /// Lists the databases of a cluster.
    List {
        /// The cluster's id (see `cluster list`).
        cluster: i64,
        /// The tenant's id (1, the sys tenant: seekdb has only it).
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
    /// Creates a database, for example `ocpctl db create 1 shop`.
    Create {
        /// The cluster's id (see `cluster list`).
        cluster: i64,
        /// The database's name.
        name: String,
        /// The tenant's id (1, the sys tenant: seekdb has only it).
        #[arg(long, default_value_t = 1)]
        tenant: i64,
        /// Its collation, such as utf8mb4_bin (default: the server's).
        #[arg(long)]
        collation: Option<String>,
    },
    /// Drops a database and everything in it.
    Delete {
        /// The cluster's id (see `cluster list`).
        cluster: i64,
        /// The database's name.
        name: String,
        /// The tenant's id (1, the sys tenant: seekdb has only it).
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
}

pub async fn db(ctx: &mut Ctx, cmd: DbCmd) -> Result<()> {
    let format = ctx.format();
    let client = ctx.client()?.clone();
    match cmd {
        DbCmd::List { cluster, tenant } => {
            let dbs: Contents<Database> = client
                .get(&format!("{}/databases", tenant_path(cluster, tenant)))
                .await?;
            output::list(
                format,
                &dbs.contents,
                &["id", "dbName", "charset", "collation", "readonly"],
            )
        }
        DbCmd::Create {
            cluster,
            name,
            tenant,
            collation,
        } => {
            let request = CreateDatabase {
                db_name: name,
                collation,
                primary_zone: None,
                readonly: false,
            };
            let db: Database = client
                .post(
                    &format!("{}/databases", tenant_path(cluster, tenant)),
                    Some(&body(&request)),
                )
                .await?;
            output::one(format, &db)
        }
        DbCmd::Delete {
            cluster,
            name,
            tenant,
        } => {
            delete(
                ctx,
                &client,
                &format!("{}/databases/{name}", tenant_path(cluster, tenant)),
                format!("database {name} dropped"),
            )
            .await
        }
    }
}

#[derive(Subcommand)]
pub enum UserCmd {
    /// Lists the database users of a cluster, with their grants.
    List {
        /// The cluster's id (see `cluster list`).
        cluster: i64,
        /// The tenant's id (1, the sys tenant: seekdb has only it).
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
    /// Creates a database user, for example `ocpctl user create 1 clerk --grant shop:SELECT`.
    Create {
        /// The cluster's id (see `cluster list`).
        cluster: i64,
        /// The database user's name.
        name: String,
        /// The tenant's id (1, the sys tenant: seekdb has only it).
        #[arg(long, default_value_t = 1)]
        tenant: i64,
        /// The password (else $OCP_DB_PASSWORD, else asked).
        #[arg(long)]
        password: Option<String>,
        /// DB:PRIV,PRIV (repeatable), e.g. shop:SELECT,INSERT
        #[arg(long = "grant")]
        grants: Vec<String>,
    },
    /// Drops a database user.
    Delete {
        /// The cluster's id (see `cluster list`).
        cluster: i64,
        /// The database user's name.
        name: String,
        /// The tenant's id (1, the sys tenant: seekdb has only it).
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
    /// Changes the password.
    Passwd {
        /// The cluster's id (see `cluster list`).
        cluster: i64,
        /// The database user's name.
        name: String,
        /// The tenant's id (1, the sys tenant: seekdb has only it).
        #[arg(long, default_value_t = 1)]
        tenant: i64,
        /// The new password (else $OCP_DB_PASSWORD, else asked).
        #[arg(long)]
        password: Option<String>,
    },
    /// Locks a database user: it can no longer log in.
    Lock {
        /// The cluster's id (see `cluster list`).
        cluster: i64,
        /// The database user's name.
        name: String,
        /// The tenant's id (1, the sys tenant: seekdb has only it).
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
    /// Unlocks a database user.
    Unlock {
        /// The cluster's id (see `cluster list`).
        cluster: i64,
        /// The database user's name.
        name: String,
        /// The tenant's id (1, the sys tenant: seekdb has only it).
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
    /// Grants DB:PRIV,PRIV (repeatable).
    Grant {
        /// The cluster's id (see `cluster list`).
        cluster: i64,
        /// The database user's name.
        name: String,
        /// DB:PRIV,PRIV, such as shop:SELECT,INSERT (several allowed).
        #[arg(required = true)]
        grants: Vec<String>,
        /// The tenant's id (1, the sys tenant: seekdb has only it).
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
    /// Revokes DB:PRIV,PRIV (repeatable).
    Revoke {
        /// The cluster's id (see `cluster list`).
        cluster: i64,
        /// The database user's name.
        name: String,
        /// DB:PRIV,PRIV, such as shop:INSERT (several allowed).
        #[arg(required = true)]
        grants: Vec<String>,
        /// The tenant's id (1, the sys tenant: seekdb has only it).
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
}

/// `DB:PRIV,PRIV` as the API's `dbPrivileges`.
fn db_privileges(grants: &[String]) -> Result<Vec<DbPrivilege>> {
    grants
        .iter()
        .map(|g| {
            let (db, privileges) = g
                .split_once(':')
                .ok_or_else(|| CliError::usage(format!("{g:?} is not DB:PRIV,PRIV")))?;
            Ok(DbPrivilege {
                db_name: db.to_string(),
                privileges: privileges
                    .split(',')
                    .map(|p| p.trim().to_uppercase())
                    .filter(|p| !p.is_empty())
                    .collect(),
            })
        })
        .collect()
}

pub async fn user(ctx: &mut Ctx, cmd: UserCmd) -> Result<()> {
    let format = ctx.format();
    let client = ctx.client()?.clone();
    let action = |cluster: i64, tenant: i64, name: &str, action: &str| {
        format!("{}/users/{name}/{action}", tenant_path(cluster, tenant))
    };
    let verb = match &cmd {
        UserCmd::Lock { .. } => "lock",
        UserCmd::Unlock { .. } => "unlock",
        UserCmd::Grant { .. } => "grantDbPrivilege",
        UserCmd::Revoke { .. } => "revokeDbPrivilege",
        _ => "",
    };
    match cmd {
        UserCmd::List { cluster, tenant } => {
            let users: Contents<DbUser> = client
                .get(&format!("{}/users", tenant_path(cluster, tenant)))
                .await?;
            output::list(
                format,
                &users.contents,
                &[
                    "username",
                    "isLocked",
                    "globalPrivileges",
                    "dbPrivileges",
                    "grantedRoles",
                ],
            )
        }
        UserCmd::Create {
            cluster,
            name,
            tenant,
            password,
            grants,
        } => {
            let password =
                password_arg(password, "OCP_DB_PASSWORD", &format!("password for {name}"))?;
            let request = CreateDbUser {
                username: name,
                password,
                save_to_credential: None,
                global_privileges: Vec::new(),
                db_privileges: db_privileges(&grants)?,
                roles: Vec::new(),
            };
            let user: DbUser = client
                .post(
                    &format!("{}/users", tenant_path(cluster, tenant)),
                    Some(&body(&request)),
                )
                .await?;
            output::one(format, &user)
        }
        UserCmd::Delete {
            cluster,
            name,
            tenant,
        } => {
            delete(
                ctx,
                &client,
                &format!("{}/users/{name}", tenant_path(cluster, tenant)),
                format!("user {name} dropped"),
            )
            .await
        }
        UserCmd::Passwd {
            cluster,
            name,
            tenant,
            password,
        } => {
            let password = password_arg(
                password,
                "OCP_DB_PASSWORD",
                &format!("new password for {name}"),
            )?;
            let answer: Value = client
                .post(
                    &action(cluster, tenant, &name, "changePassword"),
                    Some(&body(&ChangeDbPassword {
                        new_password: password,
                        save_to_credential: None,
                    })),
                )
                .await?;
            done(ctx, format!("password of {name} changed"), &answer)
        }
        UserCmd::Lock {
            cluster,
            name,
            tenant,
        }
        | UserCmd::Unlock {
            cluster,
            name,
            tenant,
        } => {
            let answer: Value = client
                .post(&action(cluster, tenant, &name, verb), None)
                .await?;
            done(ctx, format!("user {name} {verb}ed"), &answer)
        }
        UserCmd::Grant {
            cluster,
            name,
            grants,
            tenant,
        }
        | UserCmd::Revoke {
            cluster,
            name,
            grants,
            tenant,
        } => {
            let request = DbPrivileges {
                db_privileges: db_privileges(&grants)?,
            };
            let answer: Value = client
                .post(&action(cluster, tenant, &name, verb), Some(&body(&request)))
                .await?;
            done(ctx, format!("{verb} for {name} done"), &answer)
        }
    }
}
