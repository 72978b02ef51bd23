//! Who is calling, and may they: HTTP Basic and access keys, argon2 password hashes,
//! failed-login throttling, per-user request throttling and permission checks.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use ocp_api::ErrorCode;
use ocp_store::{Store, UserRecord};
use rand::RngCore;
use sha2::Sha256;

use crate::http::Failure;

/// The built-in roles and their permission patterns (OCP's default roles).
pub const BUILTIN_ROLES: &[(&str, &str, &[&str])] = &[
    (
        "ADMIN",
        "the system administrator: every permission",
        &["**"],
    ),
    (
        "ALARM_MANAGER",
        "manages alerts and subscriptions",
        &[
            "ALARM:*:*",
            "CLUSTER:*:READ",
            "CLUSTER:*:TENANT:*:READ",
            "HOST:*:READ",
            "USER:*:READ",
        ],
    ),
    (
        "ALARM_VIEWER",
        "reads alerts and subscriptions",
        &[
            "ALARM:*:READ",
            "CLUSTER:*:READ",
            "CLUSTER:*:TENANT:*:READ",
            "HOST:*:READ",
            "USER:*:READ",
        ],
    ),
    ("AUDIT_VIEWER", "reads the audit history", &["AUDIT:*:READ"]),
    (
        "BACKUP_MANAGER",
        "manages backup and restore",
        &[
            "CLUSTER:*:BACKUP:*:*",
            "CLUSTER:*:READ",
            "CLUSTER:*:TENANT:*:READ",
            "HOST:*:READ",
            "ALARM:*:READ",
            "TASK:*:*",
            "PACKAGE:*:*",
        ],
    ),
    (
        "CLUSTER_MANAGER",
        "manages OceanBase clusters and what they use",
        &[
            "CLUSTER:*:*",
            "CLUSTER:*:TENANT:*:*",
            "HOST:*:*",
            "TASK:*:*",
            "ALARM:*:*",
            "USER:*:READ",
            "PACKAGE:*:*",
            "OBPROXY:*:*",
        ],
    ),
    (
        "CLUSTER_VIEWER",
        "reads OceanBase clusters and what they use",
        &[
            "CLUSTER:*:READ",
            "CLUSTER:*:TENANT:*:READ",
            "HOST:*:READ",
            "TASK:*:READ",
            "ALARM:*:READ",
            "PACKAGE:*:READ",
            "OBPROXY:*:READ",
        ],
    ),
    (
        "HOST_MANAGER",
        "manages hosts and software packages",
        &["HOST:*:*", "PACKAGE:*:*"],
    ),
    (
        "HOST_VIEWER",
        "reads hosts and software packages",
        &["HOST:*:READ", "PACKAGE:*:READ"],
    ),
    (
        "INSPECTION_MANAGER",
        "manages inspection rules",
        &["INSPECTION:*:*"],
    ),
    (
        "OBPROXY_MANAGER",
        "manages OBProxy clusters",
        &[
            "OBPROXY:*:*",
            "PACKAGE:*:*",
            "CLUSTER:*:READ",
            "HOST:*:READ",
        ],
    ),
    (
        "OBPROXY_VIEWER",
        "reads OBProxy clusters",
        &[
            "OBPROXY:*:READ",
            "PACKAGE:*:READ",
            "CLUSTER:*:READ",
            "HOST:*:READ",
        ],
    ),
    (
        "PACKAGE_MANAGER",
        "manages software packages",
        &["PACKAGE:*:*"],
    ),
    (
        "PACKAGE_VIEWER",
        "reads software packages",
        &["PACKAGE:*:READ"],
    ),
    ("PROFILE", "a user's own profile", &["PROFILE:*:*"]),
    (
        "PROPERTY_MANAGER",
        "manages system parameters",
        &["PROPERTY:*:*"],
    ),
    ("ROLE_MANAGER", "manages roles", &["ROLE:*:*"]),
    ("TASK_MANAGER", "manages tasks", &["TASK:*:*"]),
    (
        "TENANT_MANAGER",
        "manages tenants",
        &[
            "CLUSTER:*:TENANT:*:*",
            "CLUSTER:*:READ",
            "HOST:*:READ",
            "TASK:*:READ",
            "ALARM:*:READ",
            "OBPROXY:*:READ",
        ],
    ),
    (
        "TENANT_VIEWER",
        "reads tenants",
        &[
            "CLUSTER:*:TENANT:*:READ",
            "CLUSTER:*:READ",
            "HOST:*:READ",
            "TASK:*:READ",
            "ALARM:*:READ",
            "OBPROXY:*:READ",
        ],
    ),
    (
        "USER_MANAGER",
        "manages users",
        &["USER:*:*", "ROLE:*:READ"],
    ),
];

/// Whether a permission pattern grants `required` (both `RESOURCE:instance:...:action`;
/// `*` in the pattern matches one part, `**` everything).
pub fn pattern_grants(pattern: &str, required: &str) -> bool {
    if pattern == "**" {
        return true;
    }
    let have: Vec<&str> = pattern.split(':').collect();
    let want: Vec<&str> = required.split(':').collect();
    have.len() == want.len()
        && have
            .iter()
            .zip(&want)
            .all(|(h, w)| *h == "*" || h.eq_ignore_ascii_case(w))
}

/// Checks a permission pattern's syntax, for role create and update.
pub fn valid_pattern(pattern: &str) -> bool {
    pattern == "**"
        || (pattern.split(':').count() >= 3
            && pattern.split(':').all(|p| {
                p == "*"
                    || (!p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            }))
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: i64,
    pub username: String,
    pub permissions: Arc<Vec<String>>,
    /// The user's own throttle `(limit, window_seconds)`, if any.
    pub rate_limit: Option<(u32, u32)>,
}

impl Caller {
    pub fn may(&self, required: &str) -> bool {
        self.permissions.iter().any(|p| pattern_grants(p, required))
    }
}

/// A permission a route needs, as a type, so that it stands in the handler's signature.
pub trait Permission {
    const REQUIRED: &'static str;
}

macro_rules! permissions {
    ($($name:ident = $text:literal;)+) => {
        $(
            pub struct $name;
            impl Permission for $name {
                const REQUIRED: &'static str = $text;
            }
        )+
    };
}

pub mod perm {
    use super::Permission;
    permissions! {
        TaskRead = "TASK:*:READ";
        TaskCreate = "TASK:*:CREATE";
        TaskUpdate = "TASK:*:UPDATE";
        UserRead = "USER:*:READ";
        UserCreate = "USER:*:CREATE";
        UserUpdate = "USER:*:UPDATE";
        UserDelete = "USER:*:DELETE";
        RoleRead = "ROLE:*:READ";
        RoleCreate = "ROLE:*:CREATE";
        RoleUpdate = "ROLE:*:UPDATE";
        RoleDelete = "ROLE:*:DELETE";
        HostRead = "HOST:*:READ";
        HostCreate = "HOST:*:CREATE";
        HostDelete = "HOST:*:DELETE";
        HostUpdate = "HOST:*:UPDATE";
        PackageRead = "PACKAGE:*:READ";
        PackageCreate = "PACKAGE:*:CREATE";
        PackageDelete = "PACKAGE:*:DELETE";
        ClusterRead = "CLUSTER:*:READ";
        ClusterCreate = "CLUSTER:*:CREATE";
        ClusterUpdate = "CLUSTER:*:UPDATE";
        ClusterDelete = "CLUSTER:*:DELETE";
        TenantRead = "CLUSTER:*:TENANT:*:READ";
        TenantUpdate = "CLUSTER:*:TENANT:*:UPDATE";
        AlarmRead = "ALARM:*:READ";
        AlarmCreate = "ALARM:*:CREATE";
        AlarmUpdate = "ALARM:*:UPDATE";
        AlarmDelete = "ALARM:*:DELETE";
    }

    /// Any authenticated caller (a user's own profile, the application info).
    pub struct Authenticated;
    impl Permission for Authenticated {
        const REQUIRED: &'static str = "";
    }
}

/// The caller, checked against `P`; refused with 403 otherwise.
pub struct Authz<P: Permission>(pub Caller, pub PhantomData<P>);

impl<P: Permission, S: Send + Sync> FromRequestParts<S> for Authz<P> {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let caller = parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Failure::new(ErrorCode::Unauthorized, "authentication required"))?;
        if !P::REQUIRED.is_empty() && !caller.may(P::REQUIRED) {
            return Err(Failure::new(
                ErrorCode::AccessDenied,
                format!("user {} lacks permission {}", caller.username, P::REQUIRED),
            ));
        }
        Ok(Authz(caller, PhantomData))
    }
}

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub max_failed_logins: u32,
    pub lockout: Duration,
    /// Requests per window for users without a limit of their own; `None` for no limit.
    pub default_rate_limit: Option<(u32, u32)>,
    pub rate_limit_enabled: bool,
    /// How far an access-key request's `Date` may be off.
    pub signature_window: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            max_failed_logins: 20,
            lockout: Duration::from_secs(30 * 60),
            default_rate_limit: None,
            rate_limit_enabled: true,
            signature_window: Duration::from_secs(15 * 60),
        }
    }
}

struct CachedLogin {
    caller: Caller,
    generation: u64,
    expires: Instant,
}

struct Window {
    start: Instant,
    count: u32,
}

/// Authenticates requests. Verified credentials are remembered for a short while, keyed by a
/// keyed hash (never the password), so that a client sending Basic auth on every call does
/// not pay an argon2 verification each time; any change to users or roles forgets them.
pub struct Authenticator {
    store: Store,
    config: AuthConfig,
    master_key: [u8; 32],
    cache_key: [u8; 32],
    generation: AtomicU64,
    logins: Mutex<HashMap<[u8; 32], CachedLogin>>,
    failures: Mutex<HashMap<IpAddr, (u32, Option<Instant>)>>,
    windows: Mutex<HashMap<i64, Window>>,
}

type HmacSha256 = Hmac<Sha256>;
type HmacSha1 = Hmac<sha1::Sha1>;

const LOGIN_CACHE_TTL: Duration = Duration::from_secs(300);

impl Authenticator {
    pub fn new(store: Store, config: AuthConfig, master_key: [u8; 32]) -> Self {
        let mut cache_key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut cache_key);
        Self {
            store,
            config,
            master_key,
            cache_key,
            generation: AtomicU64::new(0),
            logins: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Forgets remembered logins: call after any change to users, roles or passwords.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.logins.lock().expect("logins lock").clear();
    }

    pub async fn hash_password(password: &str) -> Result<String, Failure> {
        let password = password.to_string();
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| Failure::internal(format!("hashing a password: {e}")))
        })
        .await
        .map_err(Failure::internal)?
    }

    pub async fn verify_password(password: &str, hash: &str) -> bool {
        let (password, hash) = (password.to_string(), hash.to_string());
        tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false)
    }

    async fn caller_for(&self, user: &UserRecord) -> Result<Caller, Failure> {
        let mut permissions = Vec::new();
        for role_id in &user.role_ids {
            if let Ok(role) = self.store.role(*role_id).await {
                permissions.extend(role.permissions);
            }
        }
        Ok(Caller {
            user_id: user.id,
            username: user.username.clone(),
            permissions: Arc::new(permissions),
            rate_limit: user.rate_limit,
        })
    }

    fn login_key(&self, username: &str, password: &str) -> [u8; 32] {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.cache_key).expect("any key length");
        mac.update(username.as_bytes());
        mac.update(&[0]);
        mac.update(password.as_bytes());
        mac.finalize().into_bytes().into()
    }

    fn check_lockout(&self, ip: IpAddr) -> Result<(), Failure> {
        let failures = self.failures.lock().expect("failures lock");
        if let Some((_, Some(until))) = failures.get(&ip) {
            if Instant::now() < *until {
                let minutes = (until.duration_since(Instant::now()).as_secs() / 60) + 1;
                return Err(Failure::new(
                    ErrorCode::TooManyRequests,
                    format!("too many failed logins from {ip}; try again in {minutes} minutes"),
                ));
            }
        }
        Ok(())
    }

    fn record_failure(&self, ip: IpAddr) {
        let mut failures = self.failures.lock().expect("failures lock");
        let entry = failures.entry(ip).or_insert((0, None));
        if entry.1.is_some_and(|until| Instant::now() >= until) {
            *entry = (0, None);
        }
        entry.0 += 1;
        if entry.0 >= self.config.max_failed_logins {
            entry.1 = Some(Instant::now() + self.config.lockout);
            tracing::warn!(%ip, attempts = entry.0, "locking out a client after repeated failed logins");
        }
    }

    /// Checks a user name and password.
    pub async fn basic(
        &self,
        ip: IpAddr,
        username: &str,
        password: &str,
    ) -> Result<Caller, Failure> {
        self.check_lockout(ip)?;
        let key = self.login_key(username, password);
        let generation = self.generation.load(Ordering::SeqCst);
        if let Some(hit) = self.logins.lock().expect("logins lock").get(&key) {
            if hit.generation == generation && hit.expires > Instant::now() {
                return Ok(hit.caller.clone());
            }
        }
        let refused = || Failure::new(ErrorCode::Unauthorized, "wrong user name or password");
        let user = self.store.user_by_name(username).await?;
        let Some(user) = user else {
            // Spend the time a verification takes, so that unknown names are not revealed.
            Self::verify_password(password, DUMMY_HASH).await;
            self.record_failure(ip);
            return Err(refused());
        };
        if !Self::verify_password(password, &user.password_hash).await {
            self.record_failure(ip);
            return Err(refused());
        }
        if user.locked || !user.enabled {
            return Err(Failure::new(
                ErrorCode::Unauthorized,
                format!("user {username} is locked"),
            ));
        }
        self.failures.lock().expect("failures lock").remove(&ip);
        let caller = self.caller_for(&user).await?;
        if self.generation.load(Ordering::SeqCst) == generation {
            self.logins.lock().expect("logins lock").insert(
                key,
                CachedLogin {
                    caller: caller.clone(),
                    generation,
                    expires: Instant::now() + LOGIN_CACHE_TTL,
                },
            );
        }
        Ok(caller)
    }

    /// Checks an access-key signature:
    /// `Authorization: OCP-ACCESS-KEY-HMACSHA1 <AK>:<base64 HMAC-SHA1 of
    /// METHOD\nContent-MD5\nContent-Type\nDate\nPATH>`, with `Date` within the window.
    pub async fn access_key(
        &self,
        ip: IpAddr,
        credentials: &str,
        parts: &Parts,
    ) -> Result<Caller, Failure> {
        self.check_lockout(ip)?;
        let refused = |why: &str| {
            Failure::new(
                ErrorCode::Unauthorized,
                format!("access key refused: {why}"),
            )
        };
        let (ak, signature) = credentials
            .trim()
            .split_once(':')
            .ok_or_else(|| refused("expected AK:signature"))?;
        let header = |name: header::HeaderName| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let date = header(header::DATE);
        let sent = chrono::DateTime::parse_from_rfc2822(&date)
            .map_err(|_| refused("missing or malformed Date header"))?;
        let skew = (chrono::Utc::now().timestamp() - sent.timestamp()).unsigned_abs();
        if skew > self.config.signature_window.as_secs() {
            return Err(refused("the Date header is too far from the server's time"));
        }
        let Some(key) = self.store.access_key(ak).await? else {
            self.record_failure(ip);
            return Err(refused("unknown access key"));
        };
        if !key.enabled {
            return Err(refused("the access key is disabled"));
        }
        let secret = self.unseal(&key.sealed_secret)?;
        let content_md5 = parts
            .headers
            .get("content-md5")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let string_to_sign = format!(
            "{}\n{}\n{}\n{}\n{}",
            parts.method,
            content_md5,
            header(header::CONTENT_TYPE),
            date,
            parts.uri.path()
        );
        let mut mac = <HmacSha1 as Mac>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(string_to_sign.as_bytes());
        let expected = base64::engine::general_purpose::STANDARD
            .decode(signature.trim())
            .unwrap_or_default();
        if mac.verify_slice(&expected).is_err() {
            self.record_failure(ip);
            return Err(refused("signature mismatch"));
        }
        let user = self.store.user(key.user_id).await?;
        if user.locked || !user.enabled {
            return Err(Failure::new(
                ErrorCode::Unauthorized,
                format!("user {} is locked", user.username),
            ));
        }
        let _ = self.store.touch_access_key(key.id).await;
        self.caller_for(&user).await
    }

    /// Seals an access-key secret with the master key (nonce and ciphertext, hex).
    pub fn seal(&self, secret: &str) -> Result<String, Failure> {
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.master_key));
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), secret.as_bytes())
            .map_err(|_| Failure::internal("sealing a secret"))?;
        Ok(format!("{}{}", hex::encode(nonce), hex::encode(sealed)))
    }

    pub fn unseal(&self, sealed: &str) -> Result<String, Failure> {
        let bytes =
            hex::decode(sealed).map_err(|_| Failure::internal("a sealed secret is not hex"))?;
        if bytes.len() < 12 {
            return Err(Failure::internal("a sealed secret is too short"));
        }
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.master_key));
        let plain = cipher
            .decrypt(Nonce::from_slice(&bytes[..12]), &bytes[12..])
            .map_err(|_| {
                Failure::internal("a sealed secret does not open with this server's master key")
            })?;
        String::from_utf8(plain).map_err(Failure::internal)
    }

    /// Counts a request against the caller's window.
    fn throttle(&self, caller: &Caller) -> Throttle {
        let Some((limit, window_secs)) = caller.rate_limit.or(self.config.default_rate_limit)
        else {
            return Throttle::Unlimited;
        };
        if !self.config.rate_limit_enabled || limit == 0 || window_secs == 0 {
            return Throttle::Unlimited;
        }
        let window = Duration::from_secs(u64::from(window_secs));
        let mut windows = self.windows.lock().expect("windows lock");
        let now = Instant::now();
        let entry = windows.entry(caller.user_id).or_insert(Window {
            start: now,
            count: 0,
        });
        if now.duration_since(entry.start) >= window {
            *entry = Window {
                start: now,
                count: 0,
            };
        }
        let reset = window
            .saturating_sub(now.duration_since(entry.start))
            .as_secs()
            .max(1);
        if entry.count >= limit {
            return Throttle::Refused(RateState {
                limit,
                remaining: 0,
                reset,
            });
        }
        entry.count += 1;
        Throttle::Allowed(RateState {
            limit,
            remaining: limit - entry.count,
            reset,
        })
    }
}

/// Where a caller stands in their throttling window.
#[derive(Debug, Clone, Copy)]
struct RateState {
    limit: u32,
    remaining: u32,
    /// Seconds until the window starts over.
    reset: u64,
}

impl RateState {
    fn set_headers(&self, map: &mut HeaderMap) {
        map.insert("ratelimit-limit", HeaderValue::from(self.limit));
        map.insert("ratelimit-remaining", HeaderValue::from(self.remaining));
        map.insert("ratelimit-reset", HeaderValue::from(self.reset));
    }
}

enum Throttle {
    Unlimited,
    Allowed(RateState),
    Refused(RateState),
}

/// A valid argon2 hash of a random string, verified against when the user does not exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$K2o4qCqfH9eXzwqHq0k7Sx0M7VbPpM0S1oJc8bG3YkE";

/// Paths anyone may call.
const PUBLIC_PATHS: &[&str] = &["/api/v2/time", "/api/v2/openapi.json"];
const AGENT_PATHS: &str = "/api/v2/agents/";

/// Authenticates every request but the public ones, then applies the caller's throttle.
pub async fn authenticate(
    State(auth): State<Arc<Authenticator>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    // Agents sign their calls with their host's secret; the handlers check that.
    if PUBLIC_PATHS.contains(&request.uri().path()) || request.uri().path().starts_with(AGENT_PATHS)
    {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let caller = match identify(&auth, peer.ip(), &parts).await {
        Ok(caller) => caller,
        Err(failure) => {
            let mut response = failure.into_response();
            if response.status() == axum::http::StatusCode::UNAUTHORIZED {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"OCP\""),
                );
            }
            return response;
        }
    };
    let state = match auth.throttle(&caller) {
        Throttle::Unlimited => None,
        Throttle::Allowed(state) => Some(state),
        Throttle::Refused(state) => {
            let mut response = Failure::new(
                ErrorCode::TooManyRequests,
                "Excessive number of requests. You have exceeded the request limit for the current throttling window.",
            )
            .into_response();
            state.set_headers(response.headers_mut());
            return response;
        }
    };
    parts.extensions.insert(caller);
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if let Some(state) = state {
        state.set_headers(response.headers_mut());
    }
    response
}

async fn identify(auth: &Authenticator, ip: IpAddr, parts: &Parts) -> Result<Caller, Failure> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            Failure::new(
                ErrorCode::Unauthorized,
                "authentication required: use HTTP Basic or an access key",
            )
        })?;
    if let Some(encoded) = value.strip_prefix("Basic ") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| Failure::new(ErrorCode::Unauthorized, "malformed Basic credentials"))?;
        let (user, password) = decoded
            .split_once(':')
            .ok_or_else(|| Failure::new(ErrorCode::Unauthorized, "malformed Basic credentials"))?;
        return auth.basic(ip, user, password).await;
    }
    if let Some(credentials) = value.strip_prefix("OCP-ACCESS-KEY-HMACSHA1 ") {
        return auth.access_key(ip, credentials, parts).await;
    }
    Err(Failure::new(
        ErrorCode::Unauthorized,
        "unsupported authorization scheme",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(pattern_grants("**", "TASK:*:READ"));
        assert!(pattern_grants("TASK:*:*", "TASK:*:UPDATE"));
        assert!(pattern_grants("TASK:*:READ", "TASK:*:READ"));
        assert!(!pattern_grants("TASK:*:READ", "TASK:*:UPDATE"));
        assert!(!pattern_grants("HOST:*:*", "TASK:*:READ"));
        assert!(!pattern_grants("CLUSTER:*:*", "CLUSTER:*:TENANT:*:READ"));
        assert!(valid_pattern("CLUSTER:*:TENANT:*:READ"));
        assert!(!valid_pattern("TASK"));
        assert!(!valid_pattern("TASK:*:RE AD"));
    }

    #[test]
    fn dummy_hash_parses() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
