//! The protocol between the server and its agents: what they send each other and how every
//! call is signed.
//!
//! Each host's agent shares a secret with the server, issued when the agent joins. Both
//! directions sign a request the same way: HMAC-SHA256 over the method, path and query, a
//! millisecond timestamp, a random nonce and the SHA-256 of the body. The receiver refuses a
//! timestamp more than [`MAX_SKEW_MS`] away from its clock and a nonce it has seen within that
//! window, so a captured request cannot be replayed.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::host::ProcessStatus;

/// The host the signed call is from (agent to server) or for (server to agent).
pub const HEADER_HOST_ID: &str = "x-ocp-host-id";
pub const HEADER_TIMESTAMP: &str = "x-ocp-timestamp";
pub const HEADER_NONCE: &str = "x-ocp-nonce";
pub const HEADER_SIGNATURE: &str = "x-ocp-signature";

/// How far a signed timestamp may be from the receiver's clock.
pub const MAX_SKEW_MS: i64 = 30_000;

/// The port an agent listens on unless told otherwise (OCP's agent uses the same).
pub const DEFAULT_AGENT_PORT: u16 = 62888;

/// The agent's own process names, as OCP lists them.
pub const SUPERVISOR_ALIAS: &str = "ocp_agentd";
pub const MANAGER_ALIAS: &str = "ocp_mgragent";
pub const MONITOR_ALIAS: &str = "ocp_monagent";
pub const WORKER_ALIASES: [&str; 2] = [MANAGER_ALIAS, MONITOR_ALIAS];

fn mac(
    secret: &str,
    method: &str,
    path_and_query: &str,
    timestamp_ms: i64,
    nonce: &str,
    body: &[u8],
) -> Hmac<Sha256> {
    let body_hash = hex::encode(Sha256::digest(body));
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(
        format!(
            "{}\n{path_and_query}\n{timestamp_ms}\n{nonce}\n{body_hash}",
            method.to_ascii_uppercase()
        )
        .as_bytes(),
    );
    mac
}

/// The read-only database user an agent's monitor logs in as on the servers of its host.
pub fn monitor_user(host_id: i64) -> String {
    format!("ocp_monitor_{host_id}")
}

/// That user's password, derived from the host's secret: the server (which sets it) and
/// the agent (which logs in with it) both know the secret, so the password never travels.
pub fn monitor_password(secret: &str) -> String {
    derived_password(secret, b"ocp database monitor password")
}

/// The database user an agent dumps and loads logical backup sets as, on the servers of
/// its host. It holds every privilege (a load makes databases, users and grants).
pub fn backup_user(host_id: i64) -> String {
    format!("ocp_backup_{host_id}")
}

/// That user's password, derived from the host's secret as [`monitor_password`] is.
pub fn backup_password(secret: &str) -> String {
    derived_password(secret, b"ocp database backup password")
}

/// Whether a database user is one the platform makes for itself (its monitor or backup
/// user): never part of a logical set.
pub fn is_platform_user(name: &str) -> bool {
    ["ocp_monitor_", "ocp_backup_"].iter().any(|prefix| {
        name.strip_prefix(prefix)
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// The key a secret travels to an agent under: derived from the host's secret, so only that
/// agent (and the server) can open it.
fn travel_key(secret: &str) -> chacha20poly1305::Key {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(b"ocp secret for the agent");
    mac.finalize().into_bytes()
}

/// Seals `plain` (a storage's access-key secret) for the agent that shares `secret`:
/// ChaCha20-Poly1305 with a random nonce, in hex. Agent calls are signed, not encrypted, so
/// a secret an agent needs crosses the network only this way.
pub fn seal_for_agent(secret: &str, plain: &str) -> String {
    use chacha20poly1305::aead::{Aead, KeyInit};
    use rand::RngCore;
    let cipher = chacha20poly1305::ChaCha20Poly1305::new(&travel_key(secret));
    let mut nonce = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut nonce);
    let sealed = cipher
        .encrypt(
            chacha20poly1305::Nonce::from_slice(&nonce),
            plain.as_bytes(),
        )
        .expect("ChaCha20-Poly1305 seals any length a request carries");
    format!("{}{}", hex::encode(nonce), hex::encode(sealed))
}

/// Opens what [`seal_for_agent`] sealed with the same host secret.
pub fn open_from_server(secret: &str, sealed: &str) -> Result<String, &'static str> {
    use chacha20poly1305::aead::{Aead, KeyInit};
    let bytes = hex::decode(sealed).map_err(|_| "the sealed secret is not hex")?;
    if bytes.len() < 12 {
        return Err("the sealed secret is too short");
    }
    let cipher = chacha20poly1305::ChaCha20Poly1305::new(&travel_key(secret));
    let plain = cipher
        .decrypt(
            chacha20poly1305::Nonce::from_slice(&bytes[..12]),
            &bytes[12..],
        )
        .map_err(|_| "the sealed secret does not open with this agent's secret")?;
    String::from_utf8(plain).map_err(|_| "the sealed secret is not UTF-8")
}

fn derived_password(secret: &str, purpose: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(purpose);
    hex::encode(mac.finalize().into_bytes())[..32].to_string()
}

/// The name the agent runs a database server's process under.
pub fn observer_process(server_id: i64) -> String {
    format!("observer-{server_id}")
}

/// The hex signature of one request.
pub fn signature(
    secret: &str,
    method: &str,
    path_and_query: &str,
    timestamp_ms: i64,
    nonce: &str,
    body: &[u8],
) -> String {
    let mac = mac(secret, method, path_and_query, timestamp_ms, nonce, body);
    hex::encode(mac.finalize().into_bytes())
}

/// The headers of a signed request.
pub fn signed_headers(
    secret: &str,
    host_id: i64,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    now_ms: i64,
    nonce: &str,
) -> [(&'static str, String); 4] {
    [
        (HEADER_HOST_ID, host_id.to_string()),
        (HEADER_TIMESTAMP, now_ms.to_string()),
        (HEADER_NONCE, nonce.to_string()),
        (
            HEADER_SIGNATURE,
            signature(secret, method, path_and_query, now_ms, nonce, body),
        ),
    ]
}

/// Why a signed call was refused. The message is safe to send back: it names no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    Missing(&'static str),
    Malformed(&'static str),
    Expired,
    /// Signed before the receiver started: a receiver that restarted forgot the nonces it
    /// had seen, so it takes nothing from before its own start.
    BeforeStart,
    Replayed,
    Mismatch,
}

impl std::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing(h) => write!(f, "header {h} is missing"),
            Self::Malformed(h) => write!(f, "header {h} is malformed"),
            Self::Expired => write!(
                f,
                "the request timestamp is more than {} s from the receiver's clock",
                MAX_SKEW_MS / 1000
            ),
            Self::BeforeStart => write!(f, "the request was signed before the receiver started"),
            Self::Replayed => write!(f, "the request was seen before"),
            Self::Mismatch => write!(f, "the signature does not match"),
        }
    }
}

impl std::error::Error for SignatureError {}

/// The signature headers of a received request.
#[derive(Debug, Clone)]
pub struct SignedRequest<'a> {
    pub host_id: i64,
    pub timestamp_ms: i64,
    pub nonce: &'a str,
    pub signature: &'a str,
}

impl<'a> SignedRequest<'a> {
    /// Reads the headers through `get`, a lookup by lower-case header name.
    pub fn parse(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, SignatureError> {
        let header = |name: &'static str| get(name).ok_or(SignatureError::Missing(name));
        let host_id = header(HEADER_HOST_ID)?
            .parse()
            .map_err(|_| SignatureError::Malformed(HEADER_HOST_ID))?;
        let timestamp_ms = header(HEADER_TIMESTAMP)?
            .parse()
            .map_err(|_| SignatureError::Malformed(HEADER_TIMESTAMP))?;
        let nonce = header(HEADER_NONCE)?;
        if nonce.is_empty() || nonce.len() > 64 {
            return Err(SignatureError::Malformed(HEADER_NONCE));
        }
        Ok(Self {
            host_id,
            timestamp_ms,
            nonce,
            signature: header(HEADER_SIGNATURE)?,
        })
    }

    /// Checks the clock window: within [`MAX_SKEW_MS`] of `now_ms`, and not before
    /// `not_before_ms` (the receiver's start). Cheap, so it runs before a body is read.
    pub fn check_time(&self, now_ms: i64, not_before_ms: i64) -> Result<(), SignatureError> {
        if (now_ms - self.timestamp_ms).abs() > MAX_SKEW_MS {
            return Err(SignatureError::Expired);
        }
        if self.timestamp_ms < not_before_ms {
            return Err(SignatureError::BeforeStart);
        }
        Ok(())
    }

    /// Checks the signature over the request and its body (constant time).
    pub fn check_mac(
        &self,
        secret: &str,
        method: &str,
        path_and_query: &str,
        body: &[u8],
    ) -> Result<(), SignatureError> {
        let given = hex::decode(self.signature).map_err(|_| SignatureError::Mismatch)?;
        let mac = mac(
            secret,
            method,
            path_and_query,
            self.timestamp_ms,
            self.nonce,
            body,
        );
        mac.verify_slice(&given)
            .map_err(|_| SignatureError::Mismatch)
    }

    /// What identifies this request among all signed ones, for a shared record of those seen.
    pub fn replay_key(&self) -> String {
        format!("agent\n{}\n{}", self.host_id, self.nonce)
    }

    /// How long a record of this request must be kept: past that it is refused as expired.
    pub fn replay_expiry_ms(&self) -> i64 {
        self.timestamp_ms + MAX_SKEW_MS + 1000
    }

    /// Checks the clock window, the signature, then records the nonce.
    pub fn verify(
        &self,
        secret: &str,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        now_ms: i64,
        replays: &ReplayGuard,
    ) -> Result<(), SignatureError> {
        self.check_time(now_ms, replays.not_before_ms)?;
        self.check_mac(secret, method, path_and_query, body)?;
        replays.check(self.host_id, self.nonce, now_ms)
    }
}

/// Nonces seen within the clock window, per host. Bounded: entries older than the window
/// are dropped as new ones arrive.
#[derive(Debug, Default)]
pub struct ReplayGuard {
    inner: Mutex<ReplayState>,
    /// Requests signed before this (the receiver's start) are refused.
    not_before_ms: i64,
}

#[derive(Debug, Default)]
struct ReplayState {
    seen: HashSet<(i64, String)>,
    /// When each nonce was seen, oldest first, to forget them once out of the window.
    order: VecDeque<(i64, (i64, String))>,
}

impl ReplayGuard {
    /// A guard that takes no request signed before `not_before_ms`: its owner's start, since
    /// the nonces seen before it are forgotten.
    pub fn since(not_before_ms: i64) -> Self {
        Self {
            not_before_ms,
            ..Self::default()
        }
    }

    pub fn not_before_ms(&self) -> i64 {
        self.not_before_ms
    }

    /// Whether a nonce was seen already (without recording it).
    pub fn seen(&self, host_id: i64, nonce: &str) -> bool {
        let state = self.inner.lock().expect("replay guard lock");
        state.seen.contains(&(host_id, nonce.to_string()))
    }

    fn check(&self, host_id: i64, nonce: &str, now_ms: i64) -> Result<(), SignatureError> {
        let mut state = self.inner.lock().expect("replay guard lock");
        while let Some((at, _)) = state.order.front() {
            if now_ms - *at <= 2 * MAX_SKEW_MS {
                break;
            }
            let (_, key) = state.order.pop_front().expect("front exists");
            state.seen.remove(&key);
        }
        let key = (host_id, nonce.to_string());
        if !state.seen.insert(key.clone()) {
            return Err(SignatureError::Replayed);
        }
        state.order.push_back((now_ms, key));
        Ok(())
    }
}

/// A disk (mount point) of a host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiskFact {
    pub mount_point: String,
    pub device: String,
    pub fs_type: String,
    pub total_bytes: u64,
    pub free_bytes: u64,
}

/// What an agent reports about its host.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostFacts {
    pub hostname: String,
    /// The kernel release, e.g. `6.1.0-18-amd64` (OCP's `operatingSystem`).
    pub kernel: String,
    /// The distribution, e.g. `debian12` (OCP's `operatingSystemRelease`).
    pub os_release: String,
    pub architecture: String,
    pub cpu_count: u32,
    pub memory_bytes: u64,
    pub disks: Vec<DiskFact>,
}

/// One process of the agent as the agent sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessReport {
    pub alias: String,
    /// 0 while stopped.
    pub pid: i32,
    pub user: Option<String>,
    pub start_command: Option<String>,
    /// Listening TCP ports, comma-separated.
    pub ports: String,
    pub elapsed_seconds: i64,
    pub status: ProcessStatus,
    pub operable: bool,
    pub log_file_pattern: String,
}

/// `GET /v1/status` on an agent, and the body of its heartbeats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentReport {
    pub host_id: i64,
    pub version: String,
    pub install_home: String,
    pub log_home: String,
    pub processes: Vec<ProcessReport>,
}

impl AgentReport {
    /// Whether the process that executes the server's commands runs.
    pub fn manager_running(&self) -> bool {
        self.processes
            .iter()
            .any(|p| p.alias == MANAGER_ALIAS && p.status == ProcessStatus::Started)
    }
}

/// `POST /api/v2/agents/join`: an agent joins with a one-time token.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JoinRequest {
    pub token: String,
    /// The address the server reaches the agent on, and the host's address.
    pub inner_ip_address: String,
    pub port: u16,
    pub version: String,
    pub install_home: String,
    pub log_home: String,
    pub facts: HostFacts,
}

/// The answer to a join: the host the agent now speaks for and its secret (only here).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinResponse {
    pub host_id: i64,
    pub agent_id: i64,
    pub secret: String,
    /// The task that verifies the agent and marks the host AVAILABLE.
    pub task_id: Option<i64>,
}

/// `POST /api/v2/agents/heartbeat` from an agent.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Heartbeat {
    pub report: AgentReport,
    /// Sent with the first heartbeat after a start and when they change.
    #[serde(default)]
    pub facts: Option<HostFacts>,
}

/// A process the agent runs for the platform (a database server), in its own session so
/// that it outlives the agent. `POST /v1/mgr/processes` on an agent.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartProcess {
    /// Unique on the host: letters, digits, `_`, `-` and `.`.
    pub name: String,
    pub program: String,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: Vec<(String, String)>,
    #[serde(default)]
    pub cwd: Option<String>,
}

/// A platform process as the agent finds it from its pidfile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedProcess {
    pub name: String,
    pub pid: i32,
    pub running: bool,
    pub command: String,
    pub log_file: String,
    /// Started outside the platform and adopted (`POST /v1/mgr/processes/{name}/adopt`):
    /// a stop signals the process alone, not a process group.
    #[serde(default)]
    pub adopted: bool,
    /// Its working directory when it was started or adopted.
    #[serde(default)]
    pub cwd: String,
}

/// `POST /v1/mgr/processes/{name}/adopt`: take on the process that listens on `port`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdoptProcess {
    pub port: u16,
}

/// Whether an environment variable carries one of the platform's secrets (`OCP_ADMIN_PASSWORD`,
/// `OCP_MASTER_KEY`, `OCP_AGENT_JOIN_TOKEN`, a metadb URL with its password, ...). The server
/// and the agent read such variables once at start and then drop them, so that no process
/// they start (agent workers, database servers, alert scripts) inherits one.
pub fn is_secret_env(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.starts_with("OCP_")
        && ["PASSWORD", "TOKEN", "KEY", "SECRET", "METADB"]
            .iter()
            .any(|word| upper.contains(word))
}

/// Drops the secret variables from this process's environment. Call it once the options
/// are read and before any thread starts.
pub fn remove_secret_env() {
    let names: Vec<_> = std::env::vars_os()
        .map(|(name, _)| name)
        .filter(|name| name.to_str().is_some_and(is_secret_env))
        .collect();
    for name in names {
        std::env::remove_var(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_sealed_for_an_agent_opens_with_its_secret_only() {
        let sealed = seal_for_agent("host-secret", "s3 key secret");
        assert!(!sealed.contains("s3 key secret"));
        assert_eq!(
            open_from_server("host-secret", &sealed).unwrap(),
            "s3 key secret"
        );
        assert!(open_from_server("other", &sealed).is_err());
        assert_ne!(sealed, seal_for_agent("host-secret", "s3 key secret"));
    }

    fn signed(now: i64, nonce: &str) -> [(&'static str, String); 4] {
        signed_headers("s3cret", 7, "POST", "/v1/x?a=1", b"{}", now, nonce)
    }

    fn check(
        headers: &[(&'static str, String); 4],
        body: &[u8],
        now: i64,
        guard: &ReplayGuard,
    ) -> Result<(), SignatureError> {
        let request = SignedRequest::parse(|name| {
            headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        })?;
        request.verify("s3cret", "POST", "/v1/x?a=1", body, now, guard)
    }

    #[test]
    fn accepts_once_and_refuses_replays_tampering_and_old_clocks() {
        let guard = ReplayGuard::default();
        let now = 1_700_000_000_000;
        let headers = signed(now, "n1");
        assert_eq!(check(&headers, b"{}", now + 10, &guard), Ok(()));
        assert_eq!(
            check(&headers, b"{}", now + 20, &guard),
            Err(SignatureError::Replayed)
        );
        assert_eq!(
            check(&signed(now, "n2"), b"{\"x\":1}", now, &guard),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check(&signed(now, "n3"), b"{}", now + MAX_SKEW_MS + 1, &guard),
            Err(SignatureError::Expired)
        );
    }

    #[test]
    fn secret_variables() {
        for name in [
            "OCP_ADMIN_PASSWORD",
            "OCP_MASTER_KEY",
            "OCP_AGENT_JOIN_TOKEN",
            "OCP_METADB",
            "ocp_password",
        ] {
            assert!(is_secret_env(name), "{name}");
        }
        for name in ["OCP_LOG", "OCP_LISTEN", "PATH", "MY_PASSWORD"] {
            assert!(!is_secret_env(name), "{name}");
        }
    }
}
