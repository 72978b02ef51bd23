//! Console sessions: a login with name and password opens one behind an HttpOnly cookie;
//! the metadb keeps only the SHA-256 of its token, so every server sharing it accepts the
//! session. A session ends at logout, when unused for the idle timeout, at its lifetime, and
//! when its user is locked, deleted or has a new password.
//!
//! CSRF: a request that changes state and is authenticated by the cookie must carry
//! `X-OCP-CSRF`, whose value is an HMAC of a fixed label keyed by the session's token. A page of
//! another origin can neither read the cookie nor the session's answers, so it cannot make
//! the value; the console gets it from the login and from `GET /api/v2/iam/session`.

use std::net::IpAddr;

use axum::http::{header, HeaderMap};
use hmac::{Hmac, Mac};
use ocp_api::ErrorCode;
use ocp_store::{LoginRecord, NewSession, SessionRecord};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

use super::{Authenticator, Caller};
use crate::error::Failure;

/// The cookie that carries a session's token.
pub const SESSION_COOKIE: &str = "ocp_session";
/// The header that carries the CSRF token of a cookie-authenticated request.
pub const CSRF_HEADER: &str = "x-ocp-csrf";
/// A session's last use is written at most this often.
const TOUCH_EVERY_MS: i64 = 60_000;

/// The console session a request was authenticated by, put among the request's extensions
/// for the handlers that act on it (logout, the session's own answer).
#[derive(Debug, Clone)]
pub struct CookieSession {
    pub token: String,
    pub expires_at: i64,
}

/// A session just opened.
pub struct Opened {
    pub token: String,
    pub caller: Caller,
    pub expires_at: i64,
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn csrf_mac(session_token: &str) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(session_token.as_bytes()).expect("HMAC takes any key");
    mac.update(b"ocp-csrf");
    mac
}

/// The CSRF token of a session.
pub fn csrf_token(session_token: &str) -> String {
    hex::encode(csrf_mac(session_token).finalize().into_bytes())
}

/// Whether `given` is the CSRF token of the session (compared in constant time).
pub fn csrf_matches(session_token: &str, given: &str) -> bool {
    hex::decode(given).is_ok_and(|given| csrf_mac(session_token).verify_slice(&given).is_ok())
}

/// A session's token from a request's `Cookie` headers.
pub fn token_from_headers(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(token_from_cookies)
}

/// A session's token from a `Cookie` header.
fn token_from_cookies(cookies: &str) -> Option<&str> {
    cookies
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

fn ended() -> Failure {
    Failure::new(
        ErrorCode::Unauthorized,
        "the session has ended; log in again",
    )
}

impl Authenticator {
    /// Checks a console login (with the lockout of every login), records it, and opens a
    /// session.
    pub async fn open_session(
        &self,
        ip: IpAddr,
        user_agent: &str,
        username: &str,
        password: &str,
    ) -> Result<Opened, Failure> {
        let checked = self.basic(ip, username, password).await;
        let mut record = LoginRecord {
            id: 0,
            username: username.chars().take(128).collect(),
            user_id: None,
            client_address: ip.to_string(),
            user_agent: user_agent.chars().take(256).collect(),
            at: ocp_api::time::now_millis(),
            successful: checked.is_ok(),
            reason: String::new(),
            locked_out: false,
        };
        let caller = match checked {
            Ok(caller) => caller,
            Err(failure) => {
                record.locked_out = failure.code == ErrorCode::TooManyRequests;
                record.reason = failure.message.clone();
                if let Err(e) = self.store.record_login(&record).await {
                    tracing::warn!("recording a failed login: {e}");
                }
                return Err(failure);
            }
        };
        record.user_id = Some(caller.user_id);
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        let token = hex::encode(bytes);
        let expires_at = record.at + self.config.session_lifetime.as_millis() as i64;
        self.store
            .create_session(&NewSession {
                token_hash: token_hash(&token),
                user_id: caller.user_id,
                client_address: record.client_address.clone(),
                user_agent: record.user_agent.clone(),
                expires_at,
            })
            .await?;
        self.store.record_login(&record).await?;
        Ok(Opened {
            token,
            caller,
            expires_at,
        })
    }

    /// The caller of a live session, which is marked used; a session that ended, or whose
    /// user is locked or disabled, is refused.
    pub async fn session(&self, token: &str) -> Result<(Caller, SessionRecord), Failure> {
        let hash = token_hash(token);
        let idle_since = ocp_api::time::now_millis() - self.config.session_idle.as_millis() as i64;
        let session = self
            .store
            .live_session(&hash, idle_since)
            .await?
            .ok_or_else(ended)?;
        let user = match self.store.user(session.user_id).await {
            Ok(user) => user,
            Err(ocp_store::StoreError::NotFound { .. }) => return Err(ended()),
            Err(e) => return Err(e.into()),
        };
        if user.locked || !user.enabled {
            self.store.delete_user_sessions(user.id).await?;
            return Err(ended());
        }
        let caller = self.caller_for(&user).await?;
        self.store.touch_session(&hash, TOUCH_EVERY_MS).await?;
        Ok((caller, session))
    }

    /// Ends the session of a token (logout).
    pub async fn close_session(&self, token: &str) -> Result<(), Failure> {
        Ok(self.store.delete_session(&token_hash(token)).await?)
    }

    /// Ends every session of a user: after a new password, a lock or a deletion.
    pub async fn end_sessions_of(&self, user_id: i64) -> Result<(), Failure> {
        let ended = self.store.delete_user_sessions(user_id).await?;
        if ended > 0 {
            tracing::info!(user_id, ended, "ended the user's console sessions");
        }
        Ok(())
    }

    /// How long a session may stay unused.
    pub fn session_idle(&self) -> std::time::Duration {
        self.config.session_idle
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        assert_eq!(
            token_from_cookies("a=1; ocp_session=abc ; b=2"),
            Some("abc")
        );
        assert_eq!(token_from_cookies("ocp_session="), None);
        assert_eq!(token_from_cookies("other=x"), None);
    }

    #[test]
    fn only_the_sessions_own_csrf_token_matches() {
        let token = csrf_token("t1");
        assert!(csrf_matches("t1", &token));
        assert!(!csrf_matches("t2", &token));
        assert!(!csrf_matches("t1", ""));
        assert_ne!(
            token,
            token_hash("t1"),
            "the CSRF token is not the stored hash"
        );
    }
}
