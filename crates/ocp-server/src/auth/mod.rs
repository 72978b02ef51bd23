//! Who is calling, and may they: HTTP Basic and access keys, argon2 password hashes,
//! failed-login throttling, per-user request throttling and permission checks.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use ocp_api::ErrorCode;
use ocp_store::{Store, UserRecord};
use rand::RngCore;
use sha2::{Digest as _, Sha256};

use crate::http::Failure;

pub use crate::roles::{pattern_grants, valid_pattern, Caller, BUILTIN_ROLES};

pub mod session;

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
        ObproxyRead = "OBPROXY:*:READ";
        ObproxyCreate = "OBPROXY:*:CREATE";
        ObproxyUpdate = "OBPROXY:*:UPDATE";
        ObproxyDelete = "OBPROXY:*:DELETE";
        AlarmRead = "ALARM:*:READ";
        AlarmCreate = "ALARM:*:CREATE";
        AlarmUpdate = "ALARM:*:UPDATE";
        AlarmDelete = "ALARM:*:DELETE";
        // Platform-wide settings and what runs on the server itself (SCRIPT alert channels):
        // only ADMIN holds it among the built-in roles.
        SystemUpdate = "SYSTEM:*:UPDATE";
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
    /// Failed logins per account, and per address, before it is locked out.
    pub max_failed_logins: u32,
    /// Password hashes computed at once; more logins wait for a slot.
    pub max_concurrent_hashes: usize,
    pub lockout: Duration,
    /// Requests per window for users without a limit of their own; `None` for no limit.
    pub default_rate_limit: Option<(u32, u32)>,
    pub rate_limit_enabled: bool,
    /// How far an access-key request's `Date` may be off.
    pub signature_window: Duration,
    /// How long a console session may stay unused, and how long it lasts at most.
    pub session_idle: Duration,
    pub session_lifetime: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            max_failed_logins: 20,
            max_concurrent_hashes: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
                .max(2),
            lockout: Duration::from_secs(30 * 60),
            default_rate_limit: None,
            rate_limit_enabled: true,
            signature_window: Duration::from_secs(15 * 60),
            session_idle: Duration::from_secs(30 * 60),
            session_lifetime: Duration::from_secs(12 * 3600),
        }
    }
}

struct CachedLogin {
    caller: Caller,
    generation: u64,
    expires: Instant,
}

/// What failed logins are counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum AttemptKey {
    Account(String),
    Address(IpAddr),
}

struct Counter {
    /// Failures, and attempts still being checked, since `since`.
    failures: u32,
    since: Instant,
}

/// Counters kept before the expired ones are swept.
const MAX_TRACKED_ATTEMPTS: usize = 100_000;

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
    vault: Arc<crate::vault::Vault>,
    cache_key: [u8; 32],
    generation: AtomicU64,
    logins: Mutex<HashMap<[u8; 32], CachedLogin>>,
    attempts: Mutex<HashMap<AttemptKey, Counter>>,
    hashers: crate::password::Hashers,
    windows: Mutex<HashMap<i64, Window>>,
}

type HmacSha256 = Hmac<Sha256>;
type HmacSha1 = Hmac<sha1::Sha1>;

const LOGIN_CACHE_TTL: Duration = Duration::from_secs(300);

impl Authenticator {
    pub fn new(store: Store, config: AuthConfig, vault: Arc<crate::vault::Vault>) -> Self {
        let slots = config.max_concurrent_hashes.max(1);
        let mut cache_key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut cache_key);
        Self {
            store,
            config,
            vault,
            cache_key,
            generation: AtomicU64::new(0),
            logins: Mutex::new(HashMap::new()),
            attempts: Mutex::new(HashMap::new()),
            hashers: crate::password::Hashers::new(slots),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Forgets remembered logins: call after any change to users, roles or passwords.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.logins.lock().expect("logins lock").clear();
    }

    async fn caller_for(&self, user: &UserRecord) -> Result<Caller, Failure> {
        let permissions = crate::iam::user_permissions(&self.store, &user.role_ids).await?;
        Ok(Caller {
            user_id: user.id,
            username: user.username.clone(),
            permissions: Arc::new(permissions),
            role_ids: user.role_ids.clone(),
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

    /// Counts a login attempt against the account and the address before any password is
    /// hashed, or refuses it when either has had its fill of failures (attempts still being
    /// checked count). The attempt stays counted as a failure unless
    /// [`Self::take_back_attempt`] takes it back.
    fn begin_attempt(&self, ip: IpAddr, account: &str) -> Result<(), Failure> {
        let mut attempts = self.attempts.lock().expect("attempts lock");
        let now = Instant::now();
        let lockout = self.config.lockout;
        let keys = [
            AttemptKey::Account(account.to_ascii_lowercase()),
            AttemptKey::Address(ip),
        ];
        for key in &keys {
            let Some(counter) = attempts.get_mut(key) else {
                continue;
            };
            // A count starts over once its window has passed (and so does a lockout).
            if now.duration_since(counter.since) >= lockout {
                *counter = Counter {
                    failures: 0,
                    since: now,
                };
            }
            if counter.failures >= self.config.max_failed_logins {
                let left = lockout.saturating_sub(now.duration_since(counter.since));
                let minutes = left.as_secs() / 60 + 1;
                return Err(Failure::new(
                    ErrorCode::TooManyRequests,
                    format!(
                        "too many failed logins for user {account} or from {ip}; try again in {minutes} minutes"
                    ),
                ));
            }
        }
        for key in keys {
            let counter = attempts.entry(key.clone()).or_insert(Counter {
                failures: 0,
                since: now,
            });
            counter.failures += 1;
            if counter.failures == self.config.max_failed_logins {
                tracing::warn!(?key, "locking out after repeated failed logins");
            }
        }
        if attempts.len() > MAX_TRACKED_ATTEMPTS {
            attempts.retain(|_, c| now.duration_since(c.since) < lockout);
        }
        Ok(())
    }

    /// Takes back the attempt [`Self::begin_attempt`] counted: it was no guess (the password
    /// was right, or it was never checked). A right password also clears its account's count,
    /// unless the account is locked out by then; it never clears the address's.
    fn take_back_attempt(&self, ip: IpAddr, account: &str, succeeded: bool) {
        let mut attempts = self.attempts.lock().expect("attempts lock");
        if let Some(c) = attempts.get_mut(&AttemptKey::Address(ip)) {
            c.failures = c.failures.saturating_sub(1);
        }
        if let Some(c) = attempts.get_mut(&AttemptKey::Account(account.to_ascii_lowercase())) {
            c.failures = c.failures.saturating_sub(1);
            if succeeded && c.failures < self.config.max_failed_logins {
                c.failures = 0;
            }
        }
    }

    /// The argon2 PHC string of a new password.
    pub async fn hash_password(&self, password: &str) -> Result<String, Failure> {
        self.hashers.hash(password).await
    }

    /// Whether `password` matches `hash`.
    pub async fn verify_password(&self, password: &str, hash: &str) -> Result<bool, Failure> {
        self.hashers.verify(password, hash).await
    }

    /// Checks a user name and password.
    pub async fn basic(
        &self,
        ip: IpAddr,
        username: &str,
        password: &str,
    ) -> Result<Caller, Failure> {
        let key = self.login_key(username, password);
        let generation = self.generation.load(Ordering::SeqCst);
        let cached = self
            .logins
            .lock()
            .expect("logins lock")
            .get(&key)
            .filter(|hit| hit.generation == generation && hit.expires > Instant::now())
            .map(|hit| hit.caller.clone());
        self.begin_attempt(ip, username)?;
        if let Some(caller) = cached {
            self.take_back_attempt(ip, username, true);
            return Ok(caller);
        }
        let refused = || Failure::new(ErrorCode::Unauthorized, "wrong user name or password");
        let user = match self.store.user_by_name(username).await {
            Ok(user) => user,
            Err(e) => {
                self.take_back_attempt(ip, username, false);
                return Err(e.into());
            }
        };
        if user.as_ref().is_some_and(|u| u.locked || !u.enabled) {
            // The same answer whatever the password: a locked account confirms none.
            return Err(Failure::new(
                ErrorCode::Unauthorized,
                format!("user {username} is locked"),
            ));
        }
        // An unknown name is checked against a dummy hash, so that it costs what a known one
        // does and is not revealed.
        let stored = user
            .as_ref()
            .map_or(crate::password::DUMMY_HASH, |u| u.password_hash.as_str());
        let matched = match self.verify_password(password, stored).await {
            Ok(matched) => matched,
            Err(busy) => {
                self.take_back_attempt(ip, username, false);
                return Err(busy);
            }
        };
        let Some(user) = user.filter(|_| matched) else {
            return Err(refused());
        };
        self.take_back_attempt(ip, username, true);
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

    /// Checks an access-key signature (see README, "Access keys"):
    /// `Authorization: OCP-ACCESS-KEY-HMACSHA1 <AK>:<base64 HMAC-SHA1 of
    /// METHOD\nContent-MD5\nContent-Type\nDate\nPATH?QUERY>`, with `Date` within the
    /// window and a `Content-MD5` whenever the request has a body. Each signature is
    /// accepted once: the metadb remembers it until its `Date` leaves the window, so neither
    /// a restart nor another server sharing the metadb takes it again.
    pub async fn access_key(
        &self,
        ip: IpAddr,
        credentials: &str,
        parts: &Parts,
    ) -> Result<Caller, Failure> {
        let refused = access_key_refused;
        let (ak, signature) = credentials
            .trim()
            .split_once(':')
            .ok_or_else(|| refused("expected AK:signature"))?;
        let account = format!("access key {ak}");
        self.begin_attempt(ip, &account)?;
        let outcome = self.check_access_key(ak, signature, parts).await;
        match &outcome {
            Ok(_) => self.take_back_attempt(ip, &account, true),
            Err(failure) if failure.code != ErrorCode::Unauthorized => {
                self.take_back_attempt(ip, &account, false)
            }
            Err(_) => {}
        }
        outcome
    }

    async fn check_access_key(
        &self,
        ak: &str,
        signature: &str,
        parts: &Parts,
    ) -> Result<Caller, Failure> {
        let refused = access_key_refused;
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let date = header("date");
        let sent = chrono::DateTime::parse_from_rfc2822(&date)
            .map_err(|_| refused("missing or malformed Date header"))?;
        let window = self.config.signature_window.as_millis() as i64;
        let skew = (chrono::Utc::now().timestamp_millis() - sent.timestamp_millis()).abs();
        if skew > window {
            return Err(refused("the Date header is too far from the server's time"));
        }
        let content_md5 = header("content-md5");
        if has_body(parts) && content_md5.is_empty() {
            return Err(refused(
                "a request with a body must send Content-MD5 (base64 MD5 of the body) and sign it",
            ));
        }
        let Some(key) = self.store.access_key(ak).await? else {
            return Err(refused("unknown access key"));
        };
        if !key.enabled {
            return Err(refused("the access key is disabled"));
        }
        let secret = self.vault.unseal(&key.sealed_secret)?;
        let resource = match parts.extensions.get::<crate::http::SentPath>() {
            Some(sent) => sent.0.as_str(),
            None => parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/"),
        };
        let mut string_to_sign = format!(
            "{}\n{content_md5}\n{}\n{date}\n{resource}",
            parts.method,
            header("content-type"),
        );
        // `Date` counts in seconds: a client sending the same request twice in one second
        // tells them apart with a nonce, signed too.
        let nonce = header(NONCE_HEADER);
        if nonce.len() > 128 {
            return Err(refused("X-OCP-Nonce is longer than 128 characters"));
        }
        if !nonce.is_empty() {
            string_to_sign.push('\n');
            string_to_sign.push_str(&nonce);
        }
        let mut mac = <HmacSha1 as Mac>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(string_to_sign.as_bytes());
        let given = base64::engine::general_purpose::STANDARD
            .decode(signature.trim())
            .unwrap_or_default();
        if mac.verify_slice(&given).is_err() {
            return Err(refused("signature mismatch"));
        }
        let digest = hex::encode(sha2::Sha256::digest(
            format!("ak\n{ak}\n{}", signature.trim()).as_bytes(),
        ));
        let expires = sent.timestamp_millis() + window + 1000;
        if !self.store.remember_signature(&digest, expires).await? {
            return Err(refused(
                "this signed request was used already; sign each request anew",
            ));
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

/// Paths anyone may call.
const PUBLIC_PATHS: &[&str] = &["/api/v2/time", "/api/v2/openapi.json", "/api/v2/iam/login"];
const AGENT_PATHS: &str = ocp_api::agent_path::server::PREFIX;

/// Authenticates every request but the public ones, then applies the caller's throttle.
pub async fn authenticate(
    State(auth): State<Arc<Authenticator>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    // Agents sign their calls with their host's secret; the handlers check that. The
    // console's pages and assets are public; its data comes from the API.
    let path = request.uri().path();
    if PUBLIC_PATHS.contains(&path)
        || path.starts_with(AGENT_PATHS)
        || crate::console::is_console_path(path)
    {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let (caller, session) = match identify(&auth, peer.ip(), &parts).await {
        Ok(identified) => identified,
        Err(failure) => {
            let mut response = failure.into_response();
            // A browser answers a Basic challenge with its own password dialog: the console
            // (its header, or a session cookie) gets none.
            let from_console = parts.headers.contains_key("x-ocp-client")
                || session::token_from_headers(&parts.headers).is_some();
            if response.status() == axum::http::StatusCode::UNAUTHORIZED && !from_console {
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
    if let Some(session) = session {
        parts.extensions.insert(session);
    }
    let body = match parts
        .headers
        .get("content-md5")
        .and_then(|v| v.to_str().ok())
    {
        Some(md5) if signed_with_access_key(&parts) => {
            match base64::engine::general_purpose::STANDARD.decode(md5.trim()) {
                Ok(expected) => md5_checked(body, expected),
                Err(_) => {
                    return Failure::new(
                        ErrorCode::Unauthorized,
                        "access key refused: Content-MD5 is not base64",
                    )
                    .into_response()
                }
            }
        }
        _ => body,
    };
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if let Some(state) = state {
        state.set_headers(response.headers_mut());
    }
    response
}

const ACCESS_KEY_SCHEME: &str = "OCP-ACCESS-KEY-HMACSHA1 ";

fn access_key_refused(why: &str) -> Failure {
    Failure::new(
        ErrorCode::Unauthorized,
        format!("access key refused: {why}"),
    )
}
/// An access-key request's optional nonce, signed after the resource.
const NONCE_HEADER: &str = "x-ocp-nonce";

fn signed_with_access_key(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(ACCESS_KEY_SCHEME))
}

/// Whether a request carries a body (a length above zero, or one sent in chunks).
fn has_body(parts: &Parts) -> bool {
    let length = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    length.is_some_and(|n| n > 0) || parts.headers.contains_key(header::TRANSFER_ENCODING)
}

/// The body as it streams on to the handler, failing at its end when its MD5 is not the
/// signed `Content-MD5`: whoever reads it (a JSON body, an upload) gets an error instead of
/// the last bytes, so nothing is acted on.
fn md5_checked(body: axum::body::Body, expected: Vec<u8>) -> axum::body::Body {
    use futures::StreamExt as _;
    use md5::Digest as _;
    let hasher = Arc::new(Mutex::new(md5::Md5::new()));
    let fed = hasher.clone();
    let data = body.into_data_stream().map(move |chunk| {
        if let Ok(bytes) = &chunk {
            fed.lock().expect("md5 lock").update(bytes);
        }
        chunk.map_err(std::io::Error::other)
    });
    let end = futures::stream::once(async move {
        let digest = hasher.lock().expect("md5 lock").clone().finalize();
        (digest.as_slice() != expected.as_slice()).then(|| {
            Err(std::io::Error::other(
                "the body does not match its signed Content-MD5",
            ))
        })
    })
    .filter_map(|end| async move { end });
    axum::body::Body::from_stream(data.chain(end))
}

/// The caller of a console session, and the session; a request that may change state must
/// carry the session's CSRF token.
async fn from_session(
    auth: &Authenticator,
    token: &str,
    parts: &Parts,
) -> Result<(Caller, Option<session::CookieSession>), Failure> {
    let (caller, record) = auth.session(token).await?;
    let safe = matches!(
        parts.method,
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    if !safe {
        let given = parts
            .headers
            .get(session::CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !session::csrf_matches(token, given) {
            return Err(Failure::new(
                ErrorCode::AccessDenied,
                "a request made with the console's session must carry its CSRF token (X-OCP-CSRF)",
            ));
        }
    }
    let session = session::CookieSession {
        token: token.to_string(),
        expires_at: record.expires_at,
    };
    Ok((caller, Some(session)))
}

/// The caller of a request, and the console session it came with, if any.
async fn identify(
    auth: &Authenticator,
    ip: IpAddr,
    parts: &Parts,
) -> Result<(Caller, Option<session::CookieSession>), Failure> {
    let Some(value) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return match session::token_from_headers(&parts.headers) {
            Some(token) => from_session(auth, token, parts).await,
            None => Err(Failure::new(
                ErrorCode::Unauthorized,
                "authentication required: log in, or use HTTP Basic or an access key",
            )),
        };
    };
    if let Some(encoded) = value.strip_prefix("Basic ") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| Failure::new(ErrorCode::Unauthorized, "malformed Basic credentials"))?;
        let (user, password) = decoded
            .split_once(':')
            .ok_or_else(|| Failure::new(ErrorCode::Unauthorized, "malformed Basic credentials"))?;
        return Ok((auth.basic(ip, user, password).await?, None));
    }
    if let Some(credentials) = value.strip_prefix(ACCESS_KEY_SCHEME) {
        return Ok((auth.access_key(ip, credentials, parts).await?, None));
    }
    Err(Failure::new(
        ErrorCode::Unauthorized,
        "unsupported authorization scheme",
    ))
}
