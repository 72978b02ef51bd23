//! `/api/v2/ob/clusters/{id}/tenants/...`: the tenants of a cluster and, inside one, its
//! databases, users and roles, all read from and changed on the server itself (the metadb
//! keeps no copy, and no database password is stored or logged).
//!
//! A seekdb server has one tenant, sys, shown with id 1 (the tenant itself is in
//! `tenants.rs`). The changes to a user's or role's password, lock, privileges and roles are
//! in `ob_grants.rs`.

use axum::extract::State;
use ocp_api::host::Contents;
use ocp_api::obdb::{
    ConnectionUrl, CreateDatabase, CreateDbRole, CreateDbUser, Database, DbPrivilege, DbRole,
    DbUser, ModifyDatabase, ObjectFilter, TenantObject,
};
use ocp_api::Timestamp;
use ocp_ob::{DatabaseRow, ObClient, UserRow};
use ocp_store::ClusterRecord;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{perm, Authz};
use crate::cluster::access::ob_failure;
use crate::http::{comma_list, ApiJson, ApiPath, ApiQuery, ApiResult, Data, Failure, NoData};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_databases, create_database))
        .routes(routes!(list_objects))
        .routes(routes!(modify_database, delete_database))
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, delete_user))
        .routes(routes!(list_roles, create_role))
        .routes(routes!(get_role, delete_role))
}

type TenantPath = ApiPath<(i64, i64)>;

/// The cluster, and a root connection to it, if the tenant is its sys tenant.
pub(crate) async fn open(
    state: &AppState,
    id: i64,
    tenant: i64,
) -> Result<(ClusterRecord, ObClient), Failure> {
    let cluster = crate::cluster::tenant::sys_tenant(&state.store, id, tenant).await?;
    let client = state.ob.connect(id).await?;
    Ok((cluster, client))
}

fn time(text: &Option<String>) -> Option<Timestamp> {
    let parsed =
        chrono::NaiveDateTime::parse_from_str(text.as_deref()?, "%Y-%m-%d %H:%M:%S%.f").ok()?;
    let local = parsed.and_local_timezone(chrono::Local).single()?;
    Some(Timestamp::from_millis(local.timestamp_millis()))
}

async fn direct(state: &AppState, id: i64) -> Result<(String, i64), Failure> {
    let server = state
        .store
        .servers(id)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| Failure::not_found("server of cluster", id))?;
    Ok((server.ip, server.sql_port))
}

fn db_view(row: DatabaseRow, address: &(String, i64)) -> Database {
    Database {
        id: row.id,
        connection_urls: vec![ConnectionUrl {
            connection_string_type: "DIRECT".into(),
            connection_string: format!("jdbc:mysql://{}:{}/{}", address.0, address.1, row.name),
        }],
        db_name: row.name,
        charset: row.charset,
        collation: row.collation,
        primary_zone: None,
        readonly: row.read_only,
        create_time: time(&row.create_time),
    }
}

fn user_view(row: UserRow, databases: &[String], address: &(String, i64)) -> DbUser {
    let global_all = row.global_privileges.iter().any(|p| p == "SELECT");
    let accessible = databases
        .iter()
        .filter(|d| global_all || row.db_privileges.iter().any(|(db, _)| db == *d))
        .cloned()
        .collect();
    DbUser {
        connection_strings: vec![ConnectionUrl {
            connection_string_type: "DIRECT".into(),
            connection_string: format!("mysql -h{} -P{} -u{} -p", address.0, address.1, row.name),
        }],
        username: row.name,
        global_privileges: row.global_privileges,
        db_privileges: row
            .db_privileges
            .into_iter()
            .map(|(db_name, privileges)| DbPrivilege {
                db_name,
                privileges,
            })
            .collect(),
        object_privileges: Vec::new(),
        granted_roles: row.granted_roles,
        is_locked: row.locked,
        create_time: time(&row.create_time),
        update_time: time(&row.update_time),
        accessible_databases: accessible,
    }
}

const OBJECT_TYPES: [&str; 5] = ["TABLE", "VIEW", "INDEX", "STORED_PROCEDURE", "FUNCTION"];

/// The objects of the tenant's databases (tables, views, indexes, procedures, functions), read
/// from `information_schema`; the server's own databases are left out.
#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/objects", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ObjectFilter),
    responses((status = 200, body = ocp_api::host::Contents<TenantObject>)))]
async fn list_objects(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath((id, tenant)): TenantPath,
    ApiQuery(filter): ApiQuery<ObjectFilter>,
) -> ApiResult<Contents<TenantObject>> {
    let kinds = comma_list("objectType", &filter.object_type, |k| {
        OBJECT_TYPES.contains(&k)
    })?;
    let schemas = comma_list("schemaName", &filter.schema_name, |_| true)?;
    let name = filter.object_name.as_deref().map(str::to_lowercase);
    let (_, mut client) = open(&state, id, tenant).await?;
    let rows = client.objects().await;
    client.close().await;
    let contents = rows
        .map_err(ob_failure)?
        .into_iter()
        .filter(|o| {
            (kinds.is_empty() || kinds.contains(&o.kind))
                && (schemas.is_empty() || schemas.contains(&o.schema))
                && name
                    .as_deref()
                    .is_none_or(|n| o.name.to_lowercase().contains(n))
        })
        .map(|o| TenantObject {
            full_name: match &o.table {
                Some(table) => format!("{}.{table}.{}", o.schema, o.name),
                None => format!("{}.{}", o.schema, o.name),
            },
            object_type: o.kind,
            object_name: o.name,
            schema_name: o.schema,
            table_name: o.table,
        })
        .collect();
    Ok(Data(Contents { contents }))
}

#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/databases", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path)), responses((status = 200, body = ocp_api::host::Contents<Database>)))]
async fn list_databases(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath((id, tenant)): TenantPath,
) -> ApiResult<Contents<Database>> {
    let (_, mut client) = open(&state, id, tenant).await?;
    let rows = client.databases().await.map_err(ob_failure)?;
    client.close().await;
    let address = direct(&state, id).await?;
    Ok(Data(Contents {
        contents: rows.into_iter().map(|r| db_view(r, &address)).collect(),
    }))
}

async fn one_database(
    state: &AppState,
    client: &mut ObClient,
    id: i64,
    name: &str,
) -> Result<Database, Failure> {
    let row = client
        .databases()
        .await
        .map_err(ob_failure)?
        .into_iter()
        .find(|d| d.name == name)
        .ok_or_else(|| Failure::not_found("database", name))?;
    Ok(db_view(row, &direct(state, id).await?))
}

#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/databases", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path)), request_body = CreateDatabase,
    responses((status = 200, body = Database)))]
async fn create_database(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath((id, tenant)): TenantPath,
    ApiJson(request): ApiJson<CreateDatabase>,
) -> ApiResult<Database> {
    ocp_ob::check_name("dbName", &request.db_name).map_err(ob_failure)?;
    let (_, mut client) = open(&state, id, tenant).await?;
    client
        .create_database(
            &request.db_name,
            request.collation.as_deref(),
            request.readonly,
        )
        .await
        .map_err(ob_failure)?;
    let db = one_database(&state, &mut client, id, &request.db_name).await;
    client.close().await;
    Ok(Data(db?))
}

#[utoipa::path(put, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/databases/{dbName}", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("dbName" = String, Path)),
    request_body = ModifyDatabase, responses((status = 200, body = Database)))]
async fn modify_database(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath((id, tenant, name)): ApiPath<(i64, i64, String)>,
    ApiJson(request): ApiJson<ModifyDatabase>,
) -> ApiResult<Database> {
    let (_, mut client) = open(&state, id, tenant).await?;
    one_database(&state, &mut client, id, &name).await?;
    client
        .alter_database(&name, request.collation.as_deref(), request.readonly)
        .await
        .map_err(ob_failure)?;
    let db = one_database(&state, &mut client, id, &name).await;
    client.close().await;
    Ok(Data(db?))
}

#[utoipa::path(delete, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/databases/{dbName}", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("dbName" = String, Path)), responses((status = 200)))]
async fn delete_database(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath((id, tenant, name)): ApiPath<(i64, i64, String)>,
) -> Result<NoData, Failure> {
    let (_, mut client) = open(&state, id, tenant).await?;
    one_database(&state, &mut client, id, &name).await?;
    client.drop_database(&name).await.map_err(ob_failure)?;
    client.close().await;
    Ok(NoData)
}

async fn users_of(
    state: &AppState,
    client: &mut ObClient,
    id: i64,
    roles: bool,
) -> Result<Vec<DbUser>, Failure> {
    let rows = client.users().await.map_err(ob_failure)?;
    let databases: Vec<String> = client
        .databases()
        .await
        .map_err(ob_failure)?
        .into_iter()
        .map(|d| d.name)
        .collect();
    let address = direct(state, id).await?;
    Ok(rows
        .into_iter()
        .filter(|u| u.is_role == roles)
        .map(|u| user_view(u, &databases, &address))
        .collect())
}

pub(super) async fn one_user(
    state: &AppState,
    client: &mut ObClient,
    id: i64,
    name: &str,
    role: bool,
) -> Result<DbUser, Failure> {
    users_of(state, client, id, role)
        .await?
        .into_iter()
        .find(|u| u.username == name)
        .ok_or_else(|| Failure::not_found(if role { "role" } else { "user" }, name))
}

#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/users", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path)), responses((status = 200, body = ocp_api::host::Contents<DbUser>)))]
async fn list_users(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath((id, tenant)): TenantPath,
) -> ApiResult<Contents<DbUser>> {
    let (_, mut client) = open(&state, id, tenant).await?;
    let users = users_of(&state, &mut client, id, false).await;
    client.close().await;
    Ok(Data(Contents { contents: users? }))
}

#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/users/{username}", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("username" = String, Path)),
    responses((status = 200, body = DbUser)))]
async fn get_user(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath((id, tenant, name)): ApiPath<(i64, i64, String)>,
) -> ApiResult<DbUser> {
    let (_, mut client) = open(&state, id, tenant).await?;
    let user = one_user(&state, &mut client, id, &name, false).await;
    client.close().await;
    Ok(Data(user?))
}

/// Create a user with its privileges; if a grant fails, the user is dropped again.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/users", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path)), request_body = CreateDbUser,
    responses((status = 200, body = DbUser)))]
async fn create_user(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath((id, tenant)): TenantPath,
    ApiJson(request): ApiJson<CreateDbUser>,
) -> ApiResult<DbUser> {
    ocp_ob::check_name("username", &request.username).map_err(ob_failure)?;
    for p in &request.global_privileges {
        ocp_ob::sql_privilege("globalPrivileges", p, ocp_ob::GLOBAL_PRIVILEGES)
            .map_err(ob_failure)?;
    }
    for (i, d) in request.db_privileges.iter().enumerate() {
        ocp_ob::check_name(&format!("dbPrivileges[{i}].dbName"), &d.db_name).map_err(ob_failure)?;
        for p in &d.privileges {
            ocp_ob::sql_privilege(
                &format!("dbPrivileges[{i}].privileges"),
                p,
                ocp_ob::DB_PRIVILEGES,
            )
            .map_err(ob_failure)?;
        }
    }
    let (_, mut client) = open(&state, id, tenant).await?;
    client
        .create_user(&request.username, &request.password)
        .await
        .map_err(ob_failure)?;
    let granted = async {
        if !request.global_privileges.is_empty() {
            client
                .grant_global(&request.username, &request.global_privileges, false)
                .await?;
        }
        for d in &request.db_privileges {
            client
                .grant_db(&request.username, &d.db_name, &d.privileges, false)
                .await?;
        }
        if !request.roles.is_empty() {
            client
                .grant_roles(&request.username, &request.roles, false)
                .await?;
        }
        Ok::<(), ocp_ob::ObError>(())
    }
    .await;
    if let Err(e) = granted {
        let _ = client.drop_user(&request.username).await;
        client.close().await;
        return Err(ob_failure(e));
    }
    let user = one_user(&state, &mut client, id, &request.username, false).await;
    client.close().await;
    Ok(Data(user?))
}

#[utoipa::path(delete, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/users/{username}", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("username" = String, Path)), responses((status = 200)))]
async fn delete_user(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath((id, tenant, name)): ApiPath<(i64, i64, String)>,
) -> Result<NoData, Failure> {
    let (cluster, mut client) = open(&state, id, tenant).await?;
    if name == cluster.root_user {
        return Err(Failure::new(
            ocp_api::ErrorCode::StateConflict,
            "the platform manages the cluster as this user; it cannot be deleted",
        ));
    }
    one_user(&state, &mut client, id, &name, false).await?;
    client.drop_user(&name).await.map_err(ob_failure)?;
    client.close().await;
    Ok(NoData)
}

/// A role as the API shows it, with the users and the roles it is granted to.
fn role_view(role: DbUser, users: &[DbUser], roles: &[DbUser]) -> DbRole {
    let holders = |of: &[DbUser]| {
        of.iter()
            .filter(|u| u.granted_roles.contains(&role.username))
            .map(|u| u.username.clone())
            .collect()
    };
    DbRole {
        user_grantees: holders(users),
        role_grantees: holders(roles),
        name: role.username.clone(),
        global_privileges: role.global_privileges,
        granted_roles: role.granted_roles,
        object_privileges: Vec::new(),
        create_time: role.create_time,
        update_time: role.update_time,
    }
}

#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/roles", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path)), responses((status = 200, body = ocp_api::host::Contents<DbRole>)))]
async fn list_roles(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath((id, tenant)): TenantPath,
) -> ApiResult<Contents<DbRole>> {
    let (_, mut client) = open(&state, id, tenant).await?;
    let roles = users_of(&state, &mut client, id, true).await?;
    let users = users_of(&state, &mut client, id, false).await?;
    client.close().await;
    Ok(Data(Contents {
        contents: roles
            .iter()
            .map(|r| role_view(r.clone(), &users, &roles))
            .collect(),
    }))
}

#[utoipa::path(get, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/roles/{roleName}", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("roleName" = String, Path)),
    responses((status = 200, body = DbRole)))]
async fn get_role(
    _: Authz<perm::TenantRead>,
    State(state): State<AppState>,
    ApiPath((id, tenant, name)): ApiPath<(i64, i64, String)>,
) -> ApiResult<DbRole> {
    let (_, mut client) = open(&state, id, tenant).await?;
    let roles = users_of(&state, &mut client, id, true).await?;
    let role = roles
        .iter()
        .find(|r| r.username == name)
        .cloned()
        .ok_or_else(|| Failure::not_found("role", &name))?;
    let users = users_of(&state, &mut client, id, false).await?;
    client.close().await;
    Ok(Data(role_view(role, &users, &roles)))
}

/// Create a role with global privileges and roles.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/roles", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path)), request_body = CreateDbRole,
    responses((status = 200, body = DbRole)))]
async fn create_role(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath((id, tenant)): TenantPath,
    ApiJson(request): ApiJson<CreateDbRole>,
) -> ApiResult<DbRole> {
    ocp_ob::check_name("roleName", &request.role_name).map_err(ob_failure)?;
    let (_, mut client) = open(&state, id, tenant).await?;
    client
        .create_role(&request.role_name)
        .await
        .map_err(ob_failure)?;
    let mut granted = Ok(());
    if !request.global_privileges.is_empty() {
        granted = client
            .grant_global(&request.role_name, &request.global_privileges, false)
            .await;
    }
    if granted.is_ok() && !request.roles.is_empty() {
        granted = client
            .grant_roles(&request.role_name, &request.roles, false)
            .await;
    }
    if let Err(e) = granted {
        let _ = client.drop_role(&request.role_name).await;
        client.close().await;
        return Err(ob_failure(e));
    }
    let role = one_user(&state, &mut client, id, &request.role_name, true).await?;
    let users = users_of(&state, &mut client, id, false).await?;
    client.close().await;
    // A new role is granted to nobody yet.
    Ok(Data(role_view(role, &users, &[])))
}

#[utoipa::path(delete, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/roles/{roleName}", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("roleName" = String, Path)), responses((status = 200)))]
async fn delete_role(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath((id, tenant, name)): ApiPath<(i64, i64, String)>,
) -> Result<NoData, Failure> {
    let (_, mut client) = open(&state, id, tenant).await?;
    one_user(&state, &mut client, id, &name, true).await?;
    client.drop_role(&name).await.map_err(ob_failure)?;
    client.close().await;
    Ok(NoData)
}
