//! `ocpctl tenant`: tenants, their details and units, parameters (system variables),
//! whitelist, administrator password and database objects.

use ocp_api::obdb::TenantObject;
use ocp_api::tenant::{
    ChangeTenantPassword, ModifyWhitelist, Tenant, TenantDetail, TenantParameter, WhitelistChanged,
};

use super::*;

#[derive(Subcommand)]
pub enum TenantCmd {
    /// Lists tenants: every cluster's, or one cluster's.
    List {
        /// Only this cluster's.
        #[arg(long)]
        cluster: Option<i64>,
        /// Only tenants whose name contains this (in any case).
        #[arg(long)]
        name: Option<String>,
    },
    /// Shows a tenant: its settings, zones and units, with its server's resources.
    Show {
        /// The cluster's id (see `cluster list`).
        cluster: i64,
        /// The tenant's id (1, the sys tenant: seekdb has only it).
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
    /// Lists a tenant's parameters (on seekdb, its system variables).
    Params {
        /// The cluster's id.
        cluster: i64,
        /// Only parameters whose name contains this.
        #[arg(long)]
        name: Option<String>,
        /// The tenant's id.
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
    /// Sets tenant parameters NAME=VALUE (all checked before any is set).
    Set {
        /// The cluster's id.
        cluster: i64,
        /// NAME=VALUE, such as ob_query_timeout=20000000 (several allowed).
        #[arg(required = true)]
        pairs: Vec<String>,
        /// The tenant's id.
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
    /// Sets the addresses the tenant admits over TCP: addresses, CIDR blocks, % patterns,
    /// comma-separated (seekdb always admits loopback and its unix socket).
    Whitelist {
        /// The cluster's id.
        cluster: i64,
        /// Such as 10.0.0.0/8,192.168.1.%.
        whitelist: String,
        /// The tenant's id.
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
    /// Changes the password of the tenant's administrator (root); the platform's sealed copy
    /// follows.
    Passwd {
        /// The cluster's id.
        cluster: i64,
        /// The new password (else $OCP_DB_PASSWORD, else asked).
        #[arg(long)]
        password: Option<String>,
        /// The tenant's id.
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
    /// Lists the objects of the tenant's databases: tables, views, indexes, procedures.
    Objects {
        /// The cluster's id.
        cluster: i64,
        /// Only these kinds, comma-separated: TABLE, VIEW, INDEX, STORED_PROCEDURE, FUNCTION.
        #[arg(long = "type")]
        kind: Option<String>,
        /// Only these databases, comma-separated.
        #[arg(long)]
        db: Option<String>,
        /// The tenant's id.
        #[arg(long, default_value_t = 1)]
        tenant: i64,
    },
}

pub async fn tenant(ctx: &mut Ctx, cmd: TenantCmd) -> Result<()> {
    let format = ctx.format();
    let client = ctx.client()?.clone();
    match cmd {
        TenantCmd::List { cluster, name } => {
            let base = match cluster {
                Some(id) => format!("/api/v2/ob/clusters/{id}/tenants"),
                None => "/api/v2/ob/tenants".to_string(),
            };
            let mut path = format!("{base}?size=2000");
            if let Some(name) = name {
                path.push_str(&format!("&name={}", encoded(&name)));
            }
            let tenants: PageData<Tenant> = client.get(&path).await?;
            output::list(
                format,
                &tenants.contents,
                &[
                    "id",
                    "name",
                    "clusterId",
                    "clusterName",
                    "mode",
                    "status",
                    "locality",
                    "obVersion",
                ],
            )
        }
        TenantCmd::Show { cluster, tenant } => {
            let detail: TenantDetail = client.get(&tenant_path(cluster, tenant)).await?;
            output::one(format, &detail)
        }
        TenantCmd::Params {
            cluster,
            name,
            tenant,
        } => {
            let mut params: Contents<TenantParameter> = client
                .get(&format!("{}/parameters", tenant_path(cluster, tenant)))
                .await?;
            if let Some(part) = name {
                params.contents.retain(|p| p.name.contains(&part));
            }
            output::list(
                format,
                &params.contents,
                &[
                    "name",
                    "value=currentValue",
                    "defaultValue",
                    "type=valueRange.type",
                    "readonly",
                ],
            )
        }
        TenantCmd::Set {
            cluster,
            pairs: p,
            tenant,
        } => {
            let answer: Value = client
                .call(
                    reqwest::Method::PUT,
                    &format!("{}/parameters", tenant_path(cluster, tenant)),
                    Some(&body(&parameters(&p, "parameter")?)),
                )
                .await?;
            done(ctx, format!("{} parameter(s) set", p.len()), &answer)
        }
        TenantCmd::Whitelist {
            cluster,
            whitelist,
            tenant,
        } => {
            let changed: WhitelistChanged = client
                .post(
                    &format!("{}/modifyWhitelist", tenant_path(cluster, tenant)),
                    Some(&body(&ModifyWhitelist { whitelist })),
                )
                .await?;
            if !output::structured(format, &changed)? {
                say(&format!("whitelist set to {}", changed.whitelist));
                say(&changed.hint);
            }
            Ok(())
        }
        TenantCmd::Passwd {
            cluster,
            password,
            tenant,
        } => {
            let password = password_arg(password, "OCP_DB_PASSWORD", "new password for root")?;
            let answer: Value = client
                .post(
                    &format!("{}/changePassword", tenant_path(cluster, tenant)),
                    Some(&body(&ChangeTenantPassword {
                        new_password: password,
                        save_to_credential: None,
                    })),
                )
                .await?;
            done(ctx, "password of root changed".into(), &answer)
        }
        TenantCmd::Objects {
            cluster,
            kind,
            db,
            tenant,
        } => {
            let mut path = format!("{}/objects?", tenant_path(cluster, tenant));
            if let Some(kind) = kind {
                path.push_str(&format!("objectType={}&", encoded(&kind)));
            }
            if let Some(db) = db {
                path.push_str(&format!("schemaName={}&", encoded(&db)));
            }
            let objects: Contents<TenantObject> =
                client.get(path.trim_end_matches(['?', '&'])).await?;
            output::list(
                format,
                &objects.contents,
                &["type=objectType", "schemaName", "objectName", "tableName"],
            )
        }
    }
}
