//! `/api/v2/iam/users`: OCP users, their passwords, locks and access keys.

use std::collections::HashMap;

use axum::extract::State;
use base64::Engine as _;
use ocp_api::iam::{
    AccessKey, ChangePassword, CreateUser, CreatedAccessKey, RateLimit, RoleRef, UpdateUser, User,
};
use ocp_api::{ErrorCode, PageData, PageQuery, SortOrder, Timestamp};
use ocp_store::{NewUser, UserRecord, UserUpdate};
use rand::RngCore;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{perm, Authz, Caller};
use crate::http::{ApiJson, ApiPath, ApiQuery, ApiResult, Data, Failure, NoData, Paging};
use crate::iam;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(current_user))
        .routes(routes!(get_user, update_user, delete_user))
        .routes(routes!(change_password))
        .routes(routes!(lock_user))
        .routes(routes!(unlock_user))
        .routes(routes!(list_access_keys, create_access_key))
        .routes(routes!(delete_access_key))
}

/// OCP's windows are 10 s, 1 min, 1 h and 1 day.
const RATE_WINDOWS: &[u32] = &[10, 60, 3600, 86400];

/// Every role's name by id, read once for a whole list of users.
async fn role_names(state: &AppState) -> Result<HashMap<i64, String>, Failure> {
    Ok(state
        .store
        .roles()
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect())
}

/// A user as the API shows it, with the names of its roles.
fn user_view(user: &UserRecord, role_names: &HashMap<i64, String>) -> User {
    let roles = user
        .role_ids
        .iter()
        .filter_map(|id| {
            role_names.get(id).map(|name| RoleRef {
                id: *id,
                name: name.clone(),
            })
        })
        .collect();
    User {
        id: user.id,
        username: user.username.clone(),
        email: user.email.clone(),
        description: user.description.clone(),
        enabled: user.enabled,
        locked: user.locked,
        roles,
        rate_limit: user.rate_limit.map(|(limit, window_seconds)| RateLimit {
            limit,
            window_seconds,
        }),
        create_time: Timestamp::from_millis(user.create_time),
        update_time: Timestamp::from_millis(user.update_time),
    }
}

pub fn check_password(field: &str, password: &str) -> Result<(), Failure> {
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if !(8..=32).contains(&password.chars().count()) || classes < 2 {
        return Err(Failure::field(
            field,
            "must be 8 to 32 characters with at least two of: lowercase, uppercase, digits, special characters",
        ));
    }
    Ok(())
}

fn check_username(name: &str) -> Result<(), Failure> {
    let ok = (2..=64).contains(&name.len())
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-');
    if !ok {
        return Err(Failure::field(
            "username",
            "must be 2 to 64 characters, start with a letter, and use letters, digits, _ . -",
        ));
    }
    Ok(())
}

fn check_rate_limit(rate: &Option<RateLimit>) -> Result<Option<(u32, u32)>, Failure> {
    match rate {
        None => Ok(None),
        Some(r) if r.limit == 0 => Err(Failure::field("rateLimit.limit", "must be at least 1")),
        Some(r) if !RATE_WINDOWS.contains(&r.window_seconds) => Err(Failure::field(
            "rateLimit.windowSeconds",
            "must be 10, 60, 3600 or 86400",
        )),
        Some(r) => Ok(Some((r.limit, r.window_seconds))),
    }
}

/// Drops repeated role ids, keeping the first of each.
fn distinct(ids: &mut Vec<i64>) {
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(*id));
}

const SORTABLE: &[(&str, &str)] = &[
    ("id", "id"),
    ("username", "username"),
    ("createTime", "create_time"),
    ("updateTime", "update_time"),
];

/// Lists users.
#[utoipa::path(get, path = "/api/v2/iam/users", tag = "iam", params(PageQuery),
    responses((status = 200, body = PageData<User>)))]
async fn list_users(
    _: Authz<perm::UserRead>,
    State(state): State<AppState>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<PageData<User>> {
    let paging = Paging::parse(&page, SORTABLE)?;
    let (column, order) = paging.sort.clone().unwrap_or(("id".into(), SortOrder::Asc));
    let (users, total) = state
        .store
        .users(
            paging.offset(),
            paging.size,
            &column,
            order == SortOrder::Desc,
        )
        .await?;
    let names = role_names(&state).await?;
    let contents: Vec<User> = users.iter().map(|u| user_view(u, &names)).collect();
    Ok(Data(PageData::new(
        contents,
        total,
        paging.page,
        paging.size,
    )))
}

/// Creates a user.
#[utoipa::path(post, path = "/api/v2/iam/users", tag = "iam", request_body = CreateUser,
    responses((status = 200, body = User), (status = 409, description = "code 10003: the name is taken")))]
async fn create_user(
    Authz(caller, _): Authz<perm::UserCreate>,
    State(state): State<AppState>,
    ApiJson(mut body): ApiJson<CreateUser>,
) -> ApiResult<User> {
    distinct(&mut body.role_ids);
    check_username(&body.username)?;
    check_password("password", &body.password)?;
    let rate_limit = check_rate_limit(&body.rate_limit)?;
    iam::ensure_may_grant(&state.store, &caller, &body.role_ids, "roleIds").await?;
    if state.store.user_by_name(&body.username).await?.is_some() {
        return Err(Failure::new(
            ErrorCode::AlreadyExists,
            format!("user {} already exists", body.username),
        ));
    }
    let user = state
        .store
        .create_user(&NewUser {
            username: body.username,
            password_hash: state.auth.hash_password(&body.password).await?,
            email: body.email,
            description: body.description,
            role_ids: body.role_ids,
            rate_limit,
        })
        .await?;
    state.auth.invalidate();
    Ok(Data(user_view(&user, &role_names(&state).await?)))
}

/// The calling user.
#[utoipa::path(get, path = "/api/v2/iam/users/me", tag = "iam", responses((status = 200, body = User)))]
async fn current_user(
    Authz(caller, _): Authz<perm::Authenticated>,
    State(state): State<AppState>,
) -> ApiResult<User> {
    let user = state.store.user(caller.user_id).await?;
    Ok(Data(user_view(&user, &role_names(&state).await?)))
}

/// One user.
#[utoipa::path(get, path = "/api/v2/iam/users/{userId}", tag = "iam", params(("userId" = i64, Path)),
    responses((status = 200, body = User)))]
async fn get_user(
    _: Authz<perm::UserRead>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<User> {
    let user = state.store.user(id).await?;
    Ok(Data(user_view(&user, &role_names(&state).await?)))
}

/// Changes a user's email, description, roles or throttle.
#[utoipa::path(put, path = "/api/v2/iam/users/{userId}", tag = "iam", params(("userId" = i64, Path)),
    request_body = UpdateUser, responses((status = 200, body = User)))]
async fn update_user(
    Authz(caller, _): Authz<perm::UserUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(mut body): ApiJson<UpdateUser>,
) -> ApiResult<User> {
    if let Some(ids) = body.role_ids.as_mut() {
        distinct(ids);
    }
    let rate_limit = check_rate_limit(&body.rate_limit)?;
    let target = iam::ensure_may_manage(&state.store, &caller, id).await?;
    if let Some(role_ids) = &body.role_ids {
        iam::ensure_may_grant(&state.store, &caller, role_ids, "roleIds").await?;
        if target.username == "admin" || id == caller.user_id {
            let admin_role = state
                .store
                .roles()
                .await?
                .into_iter()
                .find(|r| r.name == "ADMIN")
                .map(|r| r.id);
            if target.role_ids.iter().any(|r| Some(*r) == admin_role)
                && !role_ids.iter().any(|r| Some(*r) == admin_role)
            {
                return Err(Failure::field(
                    "roleIds",
                    format!("user {} cannot lose the ADMIN role", target.username),
                ));
            }
        }
    }
    let user = state
        .store
        .update_user(
            id,
            &UserUpdate {
                email: body.email,
                description: body.description,
                role_ids: body.role_ids,
                rate_limit,
            },
        )
        .await?;
    state.auth.invalidate();
    Ok(Data(user_view(&user, &role_names(&state).await?)))
}

/// Deletes a user (not `admin`, not yourself).
#[utoipa::path(delete, path = "/api/v2/iam/users/{userId}", tag = "iam", params(("userId" = i64, Path)),
    responses((status = 200, description = "deleted")))]
async fn delete_user(
    Authz(caller, _): Authz<perm::UserDelete>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<NoData, Failure> {
    let user = iam::ensure_may_manage(&state.store, &caller, id).await?;
    if user.username == "admin" || user.id == caller.user_id {
        return Err(Failure::new(
            ErrorCode::StateConflict,
            format!("user {} cannot be deleted", user.username),
        ));
    }
    state.store.delete_user(id).await?;
    state.auth.invalidate();
    state.auth.end_sessions_of(id).await?;
    Ok(NoData)
}

/// Changes a password: your own (with the old one), or anyone's with USER update permission.
#[utoipa::path(post, path = "/api/v2/iam/users/{userId}/changePassword", tag = "iam", params(("userId" = i64, Path)),
    request_body = ChangePassword, responses((status = 200, description = "changed")))]
async fn change_password(
    Authz(caller, _): Authz<perm::Authenticated>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ChangePassword>,
) -> Result<NoData, Failure> {
    let user = state.store.user(id).await?;
    if user.id == caller.user_id {
        let old = body.old_password.as_deref().ok_or_else(|| {
            Failure::field("oldPassword", "is required to change your own password")
        })?;
        if !state.auth.verify_password(old, &user.password_hash).await? {
            return Err(Failure::field("oldPassword", "does not match"));
        }
    } else {
        if !caller.may(perm::UserUpdate::REQUIRED) {
            return Err(Failure::new(
                ErrorCode::AccessDenied,
                format!(
                    "user {} lacks permission {}",
                    caller.username,
                    perm::UserUpdate::REQUIRED
                ),
            ));
        }
        iam::ensure_may_manage(&state.store, &caller, id).await?;
    }
    check_password("newPassword", &body.new_password)?;
    state
        .store
        .set_user_password(id, &state.auth.hash_password(&body.new_password).await?)
        .await?;
    // Every remembered login and console session of the user goes with its old password.
    state.auth.invalidate();
    state.auth.end_sessions_of(id).await?;
    Ok(NoData)
}

use crate::auth::Permission as _;

async fn set_locked(
    state: &AppState,
    caller: &Caller,
    id: i64,
    locked: bool,
) -> Result<NoData, Failure> {
    let user = iam::ensure_may_manage(&state.store, caller, id).await?;
    if locked && (user.username == "admin" || user.id == caller.user_id) {
        return Err(Failure::new(
            ErrorCode::StateConflict,
            format!("user {} cannot be locked", user.username),
        ));
    }
    state.store.set_user_locked(id, locked).await?;
    state.auth.invalidate();
    if locked {
        state.auth.end_sessions_of(id).await?;
    }
    Ok(NoData)
}

/// Locks a user out.
#[utoipa::path(post, path = "/api/v2/iam/users/{userId}/lock", tag = "iam", params(("userId" = i64, Path)),
    responses((status = 200, description = "locked")))]
async fn lock_user(
    Authz(caller, _): Authz<perm::UserUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<NoData, Failure> {
    set_locked(&state, &caller, id, true).await
}

/// Lets a locked user in again.
#[utoipa::path(post, path = "/api/v2/iam/users/{userId}/unlock", tag = "iam", params(("userId" = i64, Path)),
    responses((status = 200, description = "unlocked")))]
async fn unlock_user(
    Authz(caller, _): Authz<perm::UserUpdate>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<NoData, Failure> {
    set_locked(&state, &caller, id, false).await
}

/// The caller's access keys (never their secrets).
#[utoipa::path(get, path = "/api/v2/iam/users/me/accessKeys", tag = "iam", responses((status = 200, body = Vec<AccessKey>)))]
async fn list_access_keys(
    Authz(caller, _): Authz<perm::Authenticated>,
    State(state): State<AppState>,
) -> ApiResult<Vec<AccessKey>> {
    let keys = state.store.access_keys_of(caller.user_id).await?;
    Ok(Data(
        keys.into_iter()
            .map(|k| AccessKey {
                id: k.id,
                access_key_id: k.access_key_id,
                user_id: k.user_id,
                enabled: k.enabled,
                create_time: Timestamp::from_millis(k.create_time),
                last_used_time: k.last_used_time.map(Timestamp::from_millis),
            })
            .collect(),
    ))
}

/// Creates an access key for the caller; the secret is shown this once.
#[utoipa::path(post, path = "/api/v2/iam/users/me/accessKeys", tag = "iam", responses((status = 200, body = CreatedAccessKey)))]
async fn create_access_key(
    Authz(caller, _): Authz<perm::Authenticated>,
    State(state): State<AppState>,
) -> ApiResult<CreatedAccessKey> {
    let mut id_bytes = [0u8; 12];
    let mut secret_bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut id_bytes);
    rand::thread_rng().fill_bytes(&mut secret_bytes);
    let access_key_id = format!("AK{}", hex::encode_upper(id_bytes));
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret_bytes);
    let record = state
        .store
        .create_access_key(caller.user_id, &access_key_id, &state.vault.seal(&secret)?)
        .await?;
    Ok(Data(CreatedAccessKey {
        id: record.id,
        access_key_id,
        access_key_secret: secret,
    }))
}

/// Deletes one of the caller's access keys.
#[utoipa::path(delete, path = "/api/v2/iam/users/me/accessKeys/{accessKeyId}", tag = "iam", params(("accessKeyId" = i64, Path)),
    responses((status = 200, description = "deleted")))]
async fn delete_access_key(
    Authz(caller, _): Authz<perm::Authenticated>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<NoData, Failure> {
    state.store.delete_access_key(caller.user_id, id).await?;
    Ok(NoData)
}
