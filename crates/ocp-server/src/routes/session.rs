//! `/api/v2/iam/login`, `/logout`, `/session` and `/loginHistory`: the console's sessions and
//! the record of its logins (see `auth::session`).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use ocp_api::iam::{LoginHistoryEntry, LoginHistoryFilter, LoginRequest, SessionInfo};
use ocp_api::{PageData, PageQuery, Timestamp};
use ocp_store::LoginRecordFilter;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::session::{csrf_token, CookieSession, SESSION_COOKIE};
use crate::auth::{perm, Authz, Caller};
use crate::http::{time_millis, ApiJson, ApiQuery, ApiResult, Data, Failure, NoData, Paging};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(current_session))
        .routes(routes!(login_history))
}

fn info(
    state: &AppState,
    caller: &Caller,
    token: Option<&str>,
    expires_at: Option<i64>,
) -> SessionInfo {
    SessionInfo {
        user_id: caller.user_id,
        username: caller.username.clone(),
        permissions: caller.permissions.as_ref().clone(),
        csrf_token: token.map(csrf_token),
        expires_at: expires_at.map(Timestamp::from_millis),
        idle_timeout_seconds: state.auth.session_idle().as_secs() as i64,
    }
}

/// Logs in to the console: checks the name and password (failures count toward the
/// lockout), records the login, and sets the session cookie (HttpOnly, SameSite=Strict).
#[utoipa::path(post, path = "/api/v2/iam/login", tag = "iam", request_body = LoginRequest,
    security(()), responses((status = 200, body = SessionInfo)))]
async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Response, Failure> {
    if request.username.is_empty() {
        return Err(Failure::field("username", "is required"));
    }
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let opened = state
        .auth
        .open_session(peer.ip(), agent, &request.username, &request.password)
        .await?;
    let lifetime = (opened.expires_at - ocp_api::time::now_millis()) / 1000;
    let cookie = session_cookie(&opened.token, lifetime, over_tls(&headers));
    let body = info(
        &state,
        &opened.caller,
        Some(&opened.token),
        Some(opened.expires_at),
    );
    let mut response = Data(body).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// Ends the console session and clears its cookie.
#[utoipa::path(post, path = "/api/v2/iam/logout", tag = "iam", responses((status = 200)))]
async fn logout(
    _: Authz<perm::Authenticated>,
    State(state): State<AppState>,
    session: Option<Extension<CookieSession>>,
    headers: HeaderMap,
) -> Result<Response, Failure> {
    if let Some(Extension(session)) = session {
        state.auth.close_session(&session.token).await?;
    }
    let mut response = NoData.into_response();
    if let Ok(value) = HeaderValue::from_str(&session_cookie("", 0, over_tls(&headers))) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// The session cookie: HttpOnly, sent only to this site, and `Secure` when the browser
/// reached the server over TLS.
fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}")
}

/// Whether the browser's request came over TLS. ocp-server speaks plain HTTP, so TLS ends at a
/// proxy in front of it, which says so in `X-Forwarded-Proto` or `Forwarded` (RFC 7239). A
/// client that claims TLS without it gets a cookie its browser will not send back: trusting
/// the header can only hurt the one who forges it.
fn over_tls(headers: &HeaderMap) -> bool {
    let first = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_ascii_lowercase())
    };
    if let Some(proto) = first("x-forwarded-proto") {
        return proto == "https";
    }
    first("forwarded").is_some_and(|hop| {
        hop.split(';')
            .any(|pair| pair.trim().replace('"', "") == "proto=https")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    header::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn tls_is_what_the_nearest_proxy_says() {
        assert!(!over_tls(&headers(&[])));
        assert!(over_tls(&headers(&[("x-forwarded-proto", "HTTPS")])));
        assert!(!over_tls(&headers(&[("x-forwarded-proto", "http, https")])));
        assert!(over_tls(&headers(&[(
            "forwarded",
            "for=10.0.0.1;proto=\"https\", proto=http"
        )])));
        assert!(!over_tls(&headers(&[(
            "forwarded",
            "for=10.0.0.1;proto=http"
        )])));
        assert!(session_cookie("t", 5, true).ends_with("; Secure"));
        assert!(!session_cookie("t", 5, false).contains("Secure"));
    }
}

/// Who is calling, with the permissions of their roles; for a console session also its CSRF
/// token and end.
#[utoipa::path(get, path = "/api/v2/iam/session", tag = "iam",
    responses((status = 200, body = SessionInfo)))]
async fn current_session(
    Authz(caller, _): Authz<perm::Authenticated>,
    State(state): State<AppState>,
    session: Option<Extension<CookieSession>>,
) -> ApiResult<SessionInfo> {
    // Only the session the request was authenticated by hands out its CSRF token.
    let session = session.map(|Extension(s)| s);
    let token = session.as_ref().map(|s| s.token.as_str());
    let expires_at = session.as_ref().map(|s| s.expires_at);
    Ok(Data(info(&state, &caller, token, expires_at)))
}

/// Console logins, newest first: who, from where, with which client, and the result
/// (OCP's logon history).
#[utoipa::path(get, path = "/api/v2/iam/loginHistory", tag = "iam",
    params(LoginHistoryFilter, PageQuery), responses((status = 200, body = PageData<LoginHistoryEntry>)))]
async fn login_history(
    _: Authz<perm::UserRead>,
    State(state): State<AppState>,
    ApiQuery(filter): ApiQuery<LoginHistoryFilter>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<PageData<LoginHistoryEntry>> {
    let paging = Paging::parse(&page, &[("id", "id")])?;
    let filter = LoginRecordFilter {
        username: filter.username.filter(|u| !u.is_empty()),
        from: time_millis("startTime", &filter.start_time)?,
        to: time_millis("endTime", &filter.end_time)?,
    };
    let (records, total) = state
        .store
        .login_records(&filter, paging.offset(), paging.size)
        .await?;
    let contents = records
        .into_iter()
        .map(|r| LoginHistoryEntry {
            id: r.id,
            username: r.username,
            user_id: r.user_id,
            client_address: r.client_address,
            client: r.user_agent,
            login_time: Timestamp::from_millis(r.at),
            successful: r.successful,
            reason: r.reason,
            locked_out: r.locked_out,
        })
        .collect();
    Ok(Data(PageData::new(
        contents,
        total,
        paging.page,
        paging.size,
    )))
}
