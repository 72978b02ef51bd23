//! `/api/v2/iam/roles`: the built-in roles and custom ones.

use axum::extract::State;
use ocp_api::iam::{CreateRole, Role, UpdateRole};
use ocp_api::{ErrorCode, PageData, PageQuery, Timestamp};
use ocp_store::RoleRecord;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{perm, valid_pattern, Authz};
use crate::http::{ApiJson, ApiPath, ApiQuery, ApiResult, Data, Failure, NoData, Paging};
use crate::iam;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_roles, create_role))
        .routes(routes!(get_role, update_role, delete_role))
}

fn role_view(role: RoleRecord) -> Role {
    Role {
        id: role.id,
        name: role.name,
        description: role.description,
        built_in: role.built_in,
        permissions: role.permissions,
        create_time: Timestamp::from_millis(role.create_time),
        update_time: Timestamp::from_millis(role.update_time),
    }
}

fn check_permissions(permissions: &[String]) -> Result<(), Failure> {
    if permissions.is_empty() {
        return Err(Failure::field(
            "permissions",
            "must name at least one permission",
        ));
    }
    for (i, p) in permissions.iter().enumerate() {
        if !valid_pattern(p) {
            return Err(Failure::field(
                &format!("permissions[{i}]"),
                format!("{p:?} is not a permission pattern such as HOST:*:READ or CLUSTER:*:*"),
            ));
        }
    }
    Ok(())
}

fn editable(role: &RoleRecord) -> Result<(), Failure> {
    if role.built_in {
        return Err(Failure::new(
            ErrorCode::StateConflict,
            format!("built-in role {} cannot be changed or deleted", role.name),
        ));
    }
    Ok(())
}

/// Lists roles.
#[utoipa::path(get, path = "/api/v2/iam/roles", tag = "iam", params(PageQuery), responses((status = 200, body = PageData<Role>)))]
async fn list_roles(
    _: Authz<perm::RoleRead>,
    State(state): State<AppState>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<PageData<Role>> {
    let paging = Paging::parse(&page, &[("id", "id"), ("name", "name")])?;
    let mut roles = state.store.roles().await?;
    if let Some((column, order)) = &paging.sort {
        if column == "name" {
            roles.sort_by(|a, b| a.name.cmp(&b.name));
        }
        if *order == ocp_api::SortOrder::Desc {
            roles.reverse();
        }
    }
    let total = roles.len() as i64;
    let contents = roles
        .into_iter()
        .skip(paging.offset() as usize)
        .take(paging.size as usize)
        .map(role_view)
        .collect();
    Ok(Data(PageData::new(
        contents,
        total,
        paging.page,
        paging.size,
    )))
}

/// Creates a custom role.
#[utoipa::path(post, path = "/api/v2/iam/roles", tag = "iam", request_body = CreateRole, responses((status = 200, body = Role)))]
async fn create_role(
    Authz(caller, _): Authz<perm::RoleCreate>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateRole>,
) -> ApiResult<Role> {
    let name_ok = (2..=64).contains(&body.name.len())
        && body
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !name_ok {
        return Err(Failure::field(
            "name",
            "must be 2 to 64 letters, digits or _",
        ));
    }
    check_permissions(&body.permissions)?;
    iam::ensure_may_give(&caller, &body.permissions)?;
    let role = state
        .store
        .create_role(&body.name, body.description.as_deref(), &body.permissions)
        .await?;
    state.auth.invalidate();
    Ok(Data(role_view(role)))
}

/// One role.
#[utoipa::path(get, path = "/api/v2/iam/roles/{roleId}", tag = "iam", params(("roleId" = i64, Path)), responses((status = 200, body = Role)))]
async fn get_role(
    _: Authz<perm::RoleRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Role> {
    Ok(Data(role_view(state.store.role(id).await?)))
}

/// Changes a custom role.
#[utoipa::path(put, path = "/api/v2/iam/roles/{roleId}", tag = "iam", params(("roleId" = i64, Path)),
    request_body = UpdateRole, responses((status = 200, body = Role)))]
async fn update_role(
    Authz(caller, _): Authz<perm::RoleUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<UpdateRole>,
) -> ApiResult<Role> {
    let role = state.store.role(id).await?;
    editable(&role)?;
    iam::ensure_may_edit(&caller, &role)?;
    if let Some(permissions) = &body.permissions {
        check_permissions(permissions)?;
        iam::ensure_may_give(&caller, permissions)?;
    }
    let role = state
        .store
        .update_role(id, body.description.as_deref(), body.permissions.as_deref())
        .await?;
    state.auth.invalidate();
    Ok(Data(role_view(role)))
}

/// Deletes a custom role that no user holds.
#[utoipa::path(delete, path = "/api/v2/iam/roles/{roleId}", tag = "iam", params(("roleId" = i64, Path)), responses((status = 200, description = "deleted")))]
async fn delete_role(
    Authz(caller, _): Authz<perm::RoleDelete>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<NoData, Failure> {
    let role = state.store.role(id).await?;
    editable(&role)?;
    iam::ensure_may_edit(&caller, &role)?;
    if state.store.role_in_use(id).await? {
        return Err(Failure::new(
            ErrorCode::StateConflict,
            format!(
                "role {} is held by users; take it from them first",
                role.name
            ),
        ));
    }
    state.store.delete_role(id).await?;
    state.auth.invalidate();
    Ok(NoData)
}
