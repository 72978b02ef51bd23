//! `/api/v2/ob/clusters/{id}/tenants/{tenantId}/users/{username}/...` and `.../roles/{roleName}/...`:
//! the changes to a database user's or role's password, lock, privileges and roles, one route
//! per documented action, each run as SQL on the server (the users and roles themselves are
//! in `ob_tenants.rs`). Object privileges are for Oracle-mode tenants: checked, then 10011.

use axum::extract::State;
use ocp_api::obdb::{
    ChangeDbPassword, DbPrivileges, DbUser, GlobalPrivileges, ObjectPrivileges, Roles,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{perm, Authz};
use crate::cluster::access::ob_failure;
use crate::http::{ApiJson, ApiPath, Failure, NoData};
use crate::routes::clusters::unsupported;
use crate::routes::ob_tenants::{one_user, open};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(change_user_password))
        .routes(routes!(lock_user))
        .routes(routes!(unlock_user))
        .routes(routes!(grant_db_privilege))
        .routes(routes!(revoke_db_privilege))
        .routes(routes!(modify_db_privilege))
        .routes(routes!(grant_global_privilege))
        .routes(routes!(revoke_global_privilege))
        .routes(routes!(modify_global_privilege))
        .routes(routes!(grant_role))
        .routes(routes!(revoke_role))
        .routes(routes!(modify_role))
        .routes(routes!(grant_object_privilege))
        .routes(routes!(revoke_object_privilege))
        .routes(routes!(modify_object_privilege))
        .routes(routes!(grant_role_global_privilege))
        .routes(routes!(revoke_role_global_privilege))
        .routes(routes!(modify_role_global_privilege))
        .routes(routes!(grant_role_role))
        .routes(routes!(revoke_role_role))
        .routes(routes!(modify_role_role))
        .routes(routes!(grant_role_object_privilege))
        .routes(routes!(revoke_role_object_privilege))
        .routes(routes!(modify_role_object_privilege))
}

/// The privilege names a user has on a database now.
fn current_db(user: &DbUser, db: &str) -> Vec<String> {
    user.db_privileges
        .iter()
        .find(|p| p.db_name == db)
        .map(|p| p.privileges.clone())
        .unwrap_or_default()
}

/// How a privilege or role change applies: added, taken away, or made exactly the given set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Grant,
    Revoke,
    Modify,
}

impl Change {
    /// The grants and revokes (`true`) that make the change to what is `held`: the `given`
    /// ones granted or revoked; for a modify, what is held and not given revoked, then the
    /// given granted, each only if there is any.
    fn steps(self, held: &[String], given: &[String]) -> Vec<(Vec<String>, bool)> {
        match self {
            Change::Grant => vec![(given.to_vec(), false)],
            Change::Revoke => vec![(given.to_vec(), true)],
            Change::Modify => {
                let drop: Vec<String> = held
                    .iter()
                    .filter(|p| !given.contains(p))
                    .cloned()
                    .collect();
                [(drop, true), (given.to_vec(), false)]
                    .into_iter()
                    .filter(|(list, _)| !list.is_empty())
                    .collect()
            }
        }
    }
}

/// What a user action changes.
enum UserChange {
    Password(ChangeDbPassword),
    Lock(bool),
    Db(Change, DbPrivileges),
    Global(Change, GlobalPrivileges),
    Roles(Change, Roles),
    /// Object privileges: Oracle-mode tenants only.
    Objects,
}

type UserPath = ApiPath<(i64, i64, String)>;

/// Applies one action on a user (or, with `role`, a role) on the server, after it was found
/// there.
async fn change_grantee(
    state: &AppState,
    (id, tenant, name): (i64, i64, String),
    role: bool,
    change: UserChange,
) -> Result<NoData, Failure> {
    let (cluster, mut client) = open(state, id, tenant).await?;
    let user = one_user(state, &mut client, id, &name, role).await?;
    let mut done: Result<(), ocp_ob::ObError> = Ok(());
    match change {
        UserChange::Password(change) => {
            done = client.set_password(&name, &change.new_password).await;
            if done.is_ok() && name == cluster.root_user {
                tracing::warn!(
                    cluster = cluster.name,
                    "root's password changed through the user API"
                );
            }
        }
        UserChange::Lock(lock) => {
            if name == cluster.root_user {
                client.close().await;
                return Err(Failure::new(
                    ocp_api::ErrorCode::StateConflict,
                    "the platform manages the cluster as this user; it cannot be locked",
                ));
            }
            done = client.set_locked(&name, lock).await;
        }
        UserChange::Db(how, change) => {
            'databases: for d in &change.db_privileges {
                for (list, revoke) in how.steps(&current_db(&user, &d.db_name), &d.privileges) {
                    done = client.grant_db(&name, &d.db_name, &list, revoke).await;
                    if done.is_err() {
                        break 'databases;
                    }
                }
            }
        }
        UserChange::Global(how, change) => {
            for (list, revoke) in how.steps(&user.global_privileges, &change.global_privileges) {
                done = client.grant_global(&name, &list, revoke).await;
                if done.is_err() {
                    break;
                }
            }
        }
        UserChange::Roles(how, change) => {
            for (list, revoke) in how.steps(&user.granted_roles, &change.roles) {
                done = client.grant_roles(&name, &list, revoke).await;
                if done.is_err() {
                    break;
                }
            }
        }
        UserChange::Objects => {
            client.close().await;
            return Err(unsupported(
                &cluster,
                "object privileges (Oracle-mode tenants)",
            ));
        }
    }
    client.close().await;
    done.map_err(ob_failure)?;
    Ok(NoData)
}

/// Change a user's password (root's too: the platform's sealed copy is not changed by this call).
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/users/{username}/changePassword", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("username" = String, Path)), request_body = ChangeDbPassword,
    responses((status = 200)))]
async fn change_user_password(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): UserPath,
    ApiJson(body): ApiJson<ChangeDbPassword>,
) -> Result<NoData, Failure> {
    change_grantee(&state, path, false, UserChange::Password(body)).await
}

/// Lock a user (not the one the platform manages the cluster as).
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/users/{username}/lock", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("username" = String, Path)),
    responses((status = 200)))]
async fn lock_user(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): UserPath,
) -> Result<NoData, Failure> {
    change_grantee(&state, path, false, UserChange::Lock(true)).await
}

/// Unlock a user.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/users/{username}/unlock", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("username" = String, Path)),
    responses((status = 200)))]
async fn unlock_user(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): UserPath,
) -> Result<NoData, Failure> {
    change_grantee(&state, path, false, UserChange::Lock(false)).await
}

/// Grant a user privileges on databases.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/users/{username}/grantDbPrivilege", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("username" = String, Path)), request_body = DbPrivileges,
    responses((status = 200)))]
async fn grant_db_privilege(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): UserPath,
    ApiJson(body): ApiJson<DbPrivileges>,
) -> Result<NoData, Failure> {
    change_grantee(&state, path, false, UserChange::Db(Change::Grant, body)).await
}

/// Revoke privileges on databases from a user.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/users/{username}/revokeDbPrivilege", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("username" = String, Path)), request_body = DbPrivileges,
    responses((status = 200)))]
async fn revoke_db_privilege(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): UserPath,
    ApiJson(body): ApiJson<DbPrivileges>,
) -> Result<NoData, Failure> {
    change_grantee(&state, path, false, UserChange::Db(Change::Revoke, body)).await
}

/// Set a user's privileges on databases.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/users/{username}/modifyDbPrivilege", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("username" = String, Path)), request_body = DbPrivileges,
    responses((status = 200)))]
async fn modify_db_privilege(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): UserPath,
    ApiJson(body): ApiJson<DbPrivileges>,
) -> Result<NoData, Failure> {
    change_grantee(&state, path, false, UserChange::Db(Change::Modify, body)).await
}

/// Grant a user global privileges.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/users/{username}/grantGlobalPrivilege", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("username" = String, Path)), request_body = GlobalPrivileges,
    responses((status = 200)))]
async fn grant_global_privilege(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): UserPath,
    ApiJson(body): ApiJson<GlobalPrivileges>,
) -> Result<NoData, Failure> {
    change_grantee(&state, path, false, UserChange::Global(Change::Grant, body)).await
}

/// Revoke global privileges from a user.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/users/{username}/revokeGlobalPrivilege", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("username" = String, Path)), request_body = GlobalPrivileges,
    responses((status = 200)))]
async fn revoke_global_privilege(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): UserPath,
    ApiJson(body): ApiJson<GlobalPrivileges>,
) -> Result<NoData, Failure> {
    change_grantee(
        &state,
        path,
        false,
        UserChange::Global(Change::Revoke, body),
    )
    .await
}

/// Set a user's global privileges.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/users/{username}/modifyGlobalPrivilege", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("username" = String, Path)), request_body = GlobalPrivileges,
    responses((status = 200)))]
async fn modify_global_privilege(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): UserPath,
    ApiJson(body): ApiJson<GlobalPrivileges>,
) -> Result<NoData, Failure> {
    change_grantee(
        &state,
        path,
        false,
        UserChange::Global(Change::Modify, body),
    )
    .await
}

/// Grant a user roles.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/users/{username}/grantRole", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("username" = String, Path)), request_body = Roles,
    responses((status = 200)))]
async fn grant_role(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): UserPath,
    ApiJson(body): ApiJson<Roles>,
) -> Result<NoData, Failure> {
    change_grantee(&state, path, false, UserChange::Roles(Change::Grant, body)).await
}

/// Revoke roles from a user.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/users/{username}/revokeRole", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("username" = String, Path)), request_body = Roles,
    responses((status = 200)))]
async fn revoke_role(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): UserPath,
    ApiJson(body): ApiJson<Roles>,
) -> Result<NoData, Failure> {
    change_grantee(&state, path, false, UserChange::Roles(Change::Revoke, body)).await
}

/// Set a user's roles.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/users/{username}/modifyRole", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("username" = String, Path)), request_body = Roles,
    responses((status = 200)))]
async fn modify_role(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): UserPath,
    ApiJson(body): ApiJson<Roles>,
) -> Result<NoData, Failure> {
    change_grantee(&state, path, false, UserChange::Roles(Change::Modify, body)).await
}

/// Grant a user's object privileges: Oracle-mode tenants only (10011 on seekdb).
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/users/{username}/grantObjectPrivilege", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("username" = String, Path)), request_body = ObjectPrivileges,
    responses((status = 200)))]
async fn grant_object_privilege(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): UserPath,
    ApiJson(_checked): ApiJson<ObjectPrivileges>,
) -> Result<NoData, Failure> {
    change_grantee(&state, path, false, UserChange::Objects).await
}

/// Revoke a user's object privileges: Oracle-mode tenants only (10011 on seekdb).
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/users/{username}/revokeObjectPrivilege", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("username" = String, Path)), request_body = ObjectPrivileges,
    responses((status = 200)))]
async fn revoke_object_privilege(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): UserPath,
    ApiJson(_checked): ApiJson<ObjectPrivileges>,
) -> Result<NoData, Failure> {
    change_grantee(&state, path, false, UserChange::Objects).await
}

/// Set a user's object privileges: Oracle-mode tenants only (10011 on seekdb).
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/users/{username}/modifyObjectPrivilege", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("username" = String, Path)), request_body = ObjectPrivileges,
    responses((status = 200)))]
async fn modify_object_privilege(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): UserPath,
    ApiJson(_checked): ApiJson<ObjectPrivileges>,
) -> Result<NoData, Failure> {
    change_grantee(&state, path, false, UserChange::Objects).await
}

/// Grant a role global privileges.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/roles/{roleName}/grantGlobalPrivilege", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("roleName" = String, Path)), request_body = GlobalPrivileges,
    responses((status = 200)))]
async fn grant_role_global_privilege(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): UserPath,
    ApiJson(body): ApiJson<GlobalPrivileges>,
) -> Result<NoData, Failure> {
    change_grantee(&state, path, true, UserChange::Global(Change::Grant, body)).await
}

/// Revoke global privileges from a role.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/roles/{roleName}/revokeGlobalPrivilege", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("roleName" = String, Path)), request_body = GlobalPrivileges,
    responses((status = 200)))]
async fn revoke_role_global_privilege(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): UserPath,
    ApiJson(body): ApiJson<GlobalPrivileges>,
) -> Result<NoData, Failure> {
    change_grantee(&state, path, true, UserChange::Global(Change::Revoke, body)).await
}

/// Set a role's global privileges.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/roles/{roleName}/modifyGlobalPrivilege", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("roleName" = String, Path)), request_body = GlobalPrivileges,
    responses((status = 200)))]
async fn modify_role_global_privilege(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): UserPath,
    ApiJson(body): ApiJson<GlobalPrivileges>,
) -> Result<NoData, Failure> {
    change_grantee(&state, path, true, UserChange::Global(Change::Modify, body)).await
}

/// Grant the roles a role holds.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/roles/{roleName}/grantRole", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("roleName" = String, Path)), request_body = Roles,
    responses((status = 200)))]
async fn grant_role_role(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): UserPath,
    ApiJson(body): ApiJson<Roles>,
) -> Result<NoData, Failure> {
    change_grantee(&state, path, true, UserChange::Roles(Change::Grant, body)).await
}

/// Revoke the roles a role holds.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/roles/{roleName}/revokeRole", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("roleName" = String, Path)), request_body = Roles,
    responses((status = 200)))]
async fn revoke_role_role(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): UserPath,
    ApiJson(body): ApiJson<Roles>,
) -> Result<NoData, Failure> {
    change_grantee(&state, path, true, UserChange::Roles(Change::Revoke, body)).await
}

/// Set the roles a role holds.
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/roles/{roleName}/modifyRole", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("roleName" = String, Path)), request_body = Roles,
    responses((status = 200)))]
async fn modify_role_role(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): UserPath,
    ApiJson(body): ApiJson<Roles>,
) -> Result<NoData, Failure> {
    change_grantee(&state, path, true, UserChange::Roles(Change::Modify, body)).await
}

/// Grant a role's object privileges: Oracle-mode tenants only (10011 on seekdb).
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/roles/{roleName}/grantObjectPrivilege", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("roleName" = String, Path)), request_body = ObjectPrivileges,
    responses((status = 200)))]
async fn grant_role_object_privilege(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): UserPath,
    ApiJson(_checked): ApiJson<ObjectPrivileges>,
) -> Result<NoData, Failure> {
    change_grantee(&state, path, true, UserChange::Objects).await
}

/// Revoke a role's object privileges: Oracle-mode tenants only (10011 on seekdb).
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/roles/{roleName}/revokeObjectPrivilege", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("roleName" = String, Path)), request_body = ObjectPrivileges,
    responses((status = 200)))]
async fn revoke_role_object_privilege(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): UserPath,
    ApiJson(_checked): ApiJson<ObjectPrivileges>,
) -> Result<NoData, Failure> {
    change_grantee(&state, path, true, UserChange::Objects).await
}

/// Set a role's object privileges: Oracle-mode tenants only (10011 on seekdb).
#[utoipa::path(post, path = "/api/v2/ob/clusters/{id}/tenants/{tenantId}/roles/{roleName}/modifyObjectPrivilege", tag = "tenants",
    params(("id" = i64, Path), ("tenantId" = i64, Path), ("roleName" = String, Path)), request_body = ObjectPrivileges,
    responses((status = 200)))]
async fn modify_role_object_privilege(
    _: Authz<perm::TenantUpdate>,
    State(state): State<AppState>,
    ApiPath(path): UserPath,
    ApiJson(_checked): ApiJson<ObjectPrivileges>,
) -> Result<NoData, Failure> {
    change_grantee(&state, path, true, UserChange::Objects).await
}
