//! Options: command line, `OCP_*` environment variables and a TOML file, in that order of
//! precedence, then the defaults.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use ocp_store::SqliteSync;
use serde::Deserialize;

use crate::auth::AuthConfig;

/// The OCP-compatible control server for OceanBase.
#[derive(Debug, Parser, Default)]
#[command(name = "ocp-server", version, about)]
pub struct Args {
    /// TOML file with the options below (snake_case names, e.g. `listen = "0.0.0.0:8080"`).
    #[arg(long, env = "OCP_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Address to serve the API on [default: 127.0.0.1:8080].
    #[arg(long, env = "OCP_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Directory of the embedded metadb, the node id and the master key [default: ./ocp-data].
    #[arg(long, env = "OCP_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL metadb (postgres://USER:PASSWORD@HOST:PORT/DB) instead of the embedded SQLite.
    #[arg(long, env = "OCP_METADB", global = true)]
    pub metadb: Option<String>,
    /// Address shown as `server` and `executor` [default: the listen address].
    #[arg(long, env = "OCP_ADVERTISE_ADDRESS")]
    pub advertise_address: Option<String>,
    /// Password of the `admin` user created on first start [default: generated and printed].
    #[arg(long, env = "OCP_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// Key sealing access-key secrets, 64 hex digits; servers sharing a metadb need the same
    /// [default: generated into the data directory].
    #[arg(long, env = "OCP_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,
    /// SQLite durability: `normal` survives process crashes, `full` also power loss [default: normal].
    #[arg(long, env = "OCP_SQLITE_SYNC")]
    pub sqlite_sync: Option<String>,
    /// Milliseconds a subtask's lease lasts without renewal [default: 30000].
    #[arg(long, env = "OCP_TASK_LEASE_MS")]
    pub task_lease_ms: Option<u64>,
    /// Milliseconds between looks for work nobody announced [default: 500].
    #[arg(long, env = "OCP_TASK_POLL_MS")]
    pub task_poll_ms: Option<u64>,
    /// Subtasks this server runs at once [default: 64].
    #[arg(long, env = "OCP_MAX_PARALLEL_SUBTASKS")]
    pub max_parallel_subtasks: Option<usize>,
    /// Failed logins for one account, and from one address, before it is locked out [default: 20].
    #[arg(long, env = "OCP_LOGIN_MAX_ATTEMPTS")]
    pub login_max_attempts: Option<u32>,
    /// Minutes a locked-out account or address waits; failures older than this are forgotten [default: 30].
    #[arg(long, env = "OCP_LOGIN_LOCKOUT_MINUTES")]
    pub login_lockout_minutes: Option<u64>,
    /// Minutes a console session may stay unused before it ends [default: 30].
    #[arg(long, env = "OCP_SESSION_IDLE_MINUTES")]
    pub session_idle_minutes: Option<u64>,
    /// Hours a console session lasts at most, however busy [default: 12].
    #[arg(long, env = "OCP_SESSION_LIFETIME_HOURS")]
    pub session_lifetime_hours: Option<u64>,
    /// Password checks computed at once; further logins wait up to 5 s for a slot, then
    /// answer 429 [default: the number of cores, at least 2].
    #[arg(long, env = "OCP_LOGIN_MAX_HASHES")]
    pub login_max_hashes: Option<usize>,
    /// Addresses or networks (comma-separated, e.g. 127.0.0.1,10.0.0.0/8) that HTTP alert
    /// channels may call although they are loopback, link-local, this platform's own or a
    /// managed host's [default: none].
    #[arg(long, env = "OCP_ALARM_HTTP_ALLOW")]
    pub alarm_http_allow: Option<String>,
    /// The user SCRIPT alert channels run as when the server runs as root [default: nobody].
    #[arg(long, env = "OCP_SCRIPT_CHANNEL_USER")]
    pub script_channel_user: Option<String>,
    /// Largest size of the embedded metadb in MiB; writes past it answer 507 and change
    /// nothing, as on a full disk [default: no limit but the disk's].
    #[arg(long, env = "OCP_SQLITE_MAX_SIZE_MB")]
    pub sqlite_max_size_mb: Option<u64>,
    /// Requests per user and window for users without their own limit, as LIMIT/SECONDS (e.g. 600/60) [default: none].
    #[arg(long, env = "OCP_RATE_LIMIT")]
    pub rate_limit: Option<String>,
    /// Log filter, e.g. `info` or `ocp_task=debug` [default: info].
    #[arg(long, env = "OCP_LOG")]
    pub log: Option<String>,
    /// How log lines are written to stderr: text (coloured only on a terminal) or json, one
    /// object per line [default: text].
    #[arg(long, env = "OCP_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
    /// The URL clients reach this server at, for the links it answers (a package's
    /// downloadUrl), such as https://ocp.example.com [default: http:// and the listen
    /// address, or the advertise address with the listen port].
    #[arg(long, env = "OCP_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Mount `POST /api/v2/debug/tasks` (test tasks for the test suite and benchmarks).
    #[arg(long, env = "OCP_ENABLE_TEST_TASKS")]
    pub enable_test_tasks: bool,
    /// Milliseconds without a heartbeat after which a host is OFFLINE [default: 30000].
    #[arg(long, env = "OCP_AGENT_HEARTBEAT_TIMEOUT_MS")]
    pub agent_heartbeat_timeout_ms: Option<u64>,
    /// Milliseconds between two checks that each running database server accepts SQL
    /// [default: 2000].
    #[arg(long, env = "OCP_OB_STATUS_INTERVAL_MS")]
    pub ob_status_interval_ms: Option<u64>,
    /// Milliseconds between two looks at the backup strategies: due sets and expired ones
    /// [default: 30000].
    #[arg(long, env = "OCP_BACKUP_SCHEDULE_INTERVAL_MS")]
    pub backup_schedule_interval_ms: Option<u64>,
    /// For tests: how long a "day" of backup retention lasts, in milliseconds.
    #[arg(long, hide = true)]
    pub backup_day_ms: Option<u64>,
    /// Hours metric points are kept as collected; older ones are read as minute, 5-minute
    /// and hour means
    /// [default: 168].
    #[arg(long, env = "OCP_METRICS_RAW_HOURS")]
    pub metrics_raw_hours: Option<u64>,
    /// Days metric samples are kept at all [default: 30].
    #[arg(long, env = "OCP_METRICS_RETENTION_DAYS")]
    pub metrics_retention_days: Option<u64>,
    /// Where metric points are kept: `embedded` (the metadb's packed store) or
    /// `prometheus` (written by remote write, read by PromQL; see --prometheus-url)
    /// [default: embedded].
    #[arg(long, env = "OCP_METRICS_BACKEND")]
    pub metrics_backend: Option<MetricsBackendKind>,
    /// The Prometheus of `--metrics-backend prometheus`, e.g. http://127.0.0.1:9090; it
    /// runs with --web.enable-remote-write-receiver.
    #[arg(long, env = "OCP_PROMETHEUS_URL")]
    pub prometheus_url: Option<String>,
    /// User for the Prometheus' basic authentication (with --prometheus-password).
    #[arg(long, env = "OCP_PROMETHEUS_USER")]
    pub prometheus_user: Option<String>,
    #[arg(long, env = "OCP_PROMETHEUS_PASSWORD", hide_env_values = true)]
    pub prometheus_password: Option<String>,
    /// Bearer token for the Prometheus, instead of basic authentication.
    #[arg(long, env = "OCP_PROMETHEUS_BEARER_TOKEN", hide_env_values = true)]
    pub prometheus_bearer_token: Option<String>,
    /// Hours SQL statistics are kept per minute; older ones are read per hour
    /// [default: 24].
    #[arg(long, env = "OCP_SQL_STAT_MINUTE_HOURS")]
    pub sql_stat_minute_hours: Option<u64>,
    /// Days SQL statistics and slow executions are kept [default: 7].
    #[arg(long, env = "OCP_SQL_STAT_RETENTION_DAYS")]
    pub sql_stat_retention_days: Option<u64>,
    /// Also run an agent for this machine (the `ocp-agent` beside this binary), joined on
    /// first start; its data goes to DATA_DIR/agent. The value is its listen address.
    #[arg(long, env = "OCP_LOCAL_AGENT")]
    pub local_agent: Option<SocketAddr>,
    /// Print a one-time agent join token (valid an hour) and exit, without serving.
    #[arg(long)]
    pub print_join_token: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do instead of serving.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Give admin a new password, print it once, unlock admin and end its console sessions;
    /// run on the server's host with its --data-dir (or --metadb), to recover a lost
    /// password. A server running meanwhile may accept the old password for up to 5 more
    /// minutes (its login cache) unless restarted.
    ResetAdminPassword,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    metadb: Option<String>,
    advertise_address: Option<String>,
    admin_password: Option<String>,
    master_key: Option<String>,
    sqlite_sync: Option<String>,
    task_lease_ms: Option<u64>,
    task_poll_ms: Option<u64>,
    max_parallel_subtasks: Option<usize>,
    login_max_attempts: Option<u32>,
    login_lockout_minutes: Option<u64>,
    session_idle_minutes: Option<u64>,
    session_lifetime_hours: Option<u64>,
    login_max_hashes: Option<usize>,
    alarm_http_allow: Option<String>,
    script_channel_user: Option<String>,
    sqlite_max_size_mb: Option<u64>,
    rate_limit: Option<String>,
    log: Option<String>,
    log_format: Option<LogFormat>,
    public_url: Option<String>,
    enable_test_tasks: Option<bool>,
    agent_heartbeat_timeout_ms: Option<u64>,
    ob_status_interval_ms: Option<u64>,
    backup_schedule_interval_ms: Option<u64>,
    metrics_raw_hours: Option<u64>,
    metrics_retention_days: Option<u64>,
    metrics_backend: Option<MetricsBackendKind>,
    prometheus_url: Option<String>,
    prometheus_user: Option<String>,
    prometheus_password: Option<String>,
    prometheus_bearer_token: Option<String>,
    sql_stat_minute_hours: Option<u64>,
    sql_stat_retention_days: Option<u64>,
    local_agent: Option<SocketAddr>,
}

/// Which store keeps the metric points.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum MetricsBackendKind {
    #[default]
    Embedded,
    Prometheus,
}

/// How the server writes its log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// A public URL as links are built from it: http(s)://host[:port][/path], no trailing slash.
fn check_public_url(url: &str) -> anyhow::Result<String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or_default();
    let host = rest.split('/').next().unwrap_or_default();
    anyhow::ensure!(
        !host.is_empty() && !url.contains(char::is_whitespace) && !url.contains(['?', '#']),
        "public_url must be an http:// or https:// URL such as https://ocp.example.com, not \
         {url:?}"
    );
    Ok(url.trim_end_matches('/').to_string())
}

/// The resolved options.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub metadb: Option<String>,
    pub advertise_address: Option<String>,
    pub admin_password: Option<String>,
    pub master_key: Option<String>,
    pub sqlite_sync: SqliteSync,
    pub sqlite_max_size_mb: Option<u64>,
    pub task_lease: Duration,
    pub task_poll: Duration,
    pub max_parallel_subtasks: usize,
    pub auth: AuthConfig,
    pub channel_policy: crate::alarm::outbound::ChannelPolicy,
    pub log: String,
    pub log_format: LogFormat,
    pub public_url: Option<String>,
    pub enable_test_tasks: bool,
    pub agent_heartbeat_timeout: Duration,
    pub ob_status_interval: Duration,
    /// How often the backup strategies are looked at, and how long a retention day lasts.
    pub backup_schedule_interval: Duration,
    pub backup_day: Duration,
    /// How long samples stay as collected, and at all.
    pub metrics_raw: Duration,
    pub metrics_retention: Duration,
    /// The Prometheus that keeps the metric points, if not the metadb.
    pub prometheus: Option<crate::monitor::prometheus::PrometheusConfig>,
    /// How long SQL statistics stay per minute, and at all.
    pub sql_stat_minutes: Duration,
    pub sql_stat_retention: Duration,
    pub local_agent: Option<SocketAddr>,
}

impl Config {
    pub fn resolve(args: Args) -> anyhow::Result<Self> {
        let file: FileConfig = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let sqlite_sync = match args.sqlite_sync.or(file.sqlite_sync).as_deref() {
            None | Some("normal") => SqliteSync::Normal,
            Some("full") => SqliteSync::Full,
            Some(other) => anyhow::bail!("sqlite_sync must be normal or full, not {other:?}"),
        };
        let prometheus = match args
            .metrics_backend
            .or(file.metrics_backend)
            .unwrap_or_default()
        {
            MetricsBackendKind::Embedded => None,
            MetricsBackendKind::Prometheus => {
                let url = args.prometheus_url.or(file.prometheus_url).context(
                    "metrics_backend prometheus needs prometheus_url (e.g. http://127.0.0.1:9090)",
                )?;
                let user = args.prometheus_user.or(file.prometheus_user);
                let password = args.prometheus_password.or(file.prometheus_password);
                let basic_auth = match (user, password) {
                    (Some(user), Some(password)) => Some((user, password)),
                    (None, None) => None,
                    _ => anyhow::bail!("prometheus_user and prometheus_password go together"),
                };
                Some(crate::monitor::prometheus::PrometheusConfig {
                    url,
                    basic_auth,
                    bearer_token: args
                        .prometheus_bearer_token
                        .or(file.prometheus_bearer_token),
                })
            }
        };
        let rate_limit = match args.rate_limit.or(file.rate_limit) {
            None => None,
            Some(text) => {
                let (limit, window) = text
                    .split_once('/')
                    .and_then(|(l, w)| Some((l.parse::<u32>().ok()?, w.parse::<u32>().ok()?)))
                    .filter(|(l, w)| *l > 0 && *w > 0)
                    .with_context(|| format!("rate_limit must be LIMIT/SECONDS, not {text:?}"))?;
                Some((limit, window))
            }
        };
        let defaults = AuthConfig::default();
        let allow = match args.alarm_http_allow.or(file.alarm_http_allow) {
            None => Vec::new(),
            Some(text) => crate::alarm::outbound::parse_allow_list(&text)
                .map_err(|e| anyhow::anyhow!("alarm_http_allow: {e}"))?,
        };
        Ok(Self {
            listen: args
                .listen
                .or(file.listen)
                .unwrap_or_else(|| "127.0.0.1:8080".parse().expect("valid")),
            data_dir: args
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from("ocp-data")),
            metadb: args.metadb.or(file.metadb),
            advertise_address: args.advertise_address.or(file.advertise_address),
            admin_password: args.admin_password.or(file.admin_password),
            master_key: args.master_key.or(file.master_key),
            sqlite_sync,
            sqlite_max_size_mb: args.sqlite_max_size_mb.or(file.sqlite_max_size_mb),
            task_lease: Duration::from_millis(
                args.task_lease_ms
                    .or(file.task_lease_ms)
                    .unwrap_or(30_000)
                    .max(100),
            ),
            task_poll: Duration::from_millis(
                args.task_poll_ms
                    .or(file.task_poll_ms)
                    .unwrap_or(500)
                    .max(10),
            ),
            max_parallel_subtasks: args
                .max_parallel_subtasks
                .or(file.max_parallel_subtasks)
                .unwrap_or(64)
                .max(1),
            auth: AuthConfig {
                max_failed_logins: args
                    .login_max_attempts
                    .or(file.login_max_attempts)
                    .unwrap_or(defaults.max_failed_logins),
                lockout: args
                    .login_lockout_minutes
                    .or(file.login_lockout_minutes)
                    .map(|m| Duration::from_secs(m * 60))
                    .unwrap_or(defaults.lockout),
                max_concurrent_hashes: args
                    .login_max_hashes
                    .or(file.login_max_hashes)
                    .unwrap_or(defaults.max_concurrent_hashes)
                    .max(1),
                session_idle: args
                    .session_idle_minutes
                    .or(file.session_idle_minutes)
                    .map(|m| Duration::from_secs(m.max(1) * 60))
                    .unwrap_or(defaults.session_idle),
                session_lifetime: args
                    .session_lifetime_hours
                    .or(file.session_lifetime_hours)
                    .map(|h| Duration::from_secs(h.max(1) * 3600))
                    .unwrap_or(defaults.session_lifetime),
                default_rate_limit: rate_limit,
                ..defaults
            },
            channel_policy: crate::alarm::outbound::ChannelPolicy {
                allow,
                own: Vec::new(),
                script_user: args
                    .script_channel_user
                    .or(file.script_channel_user)
                    .unwrap_or_else(|| "nobody".into()),
            },
            log: args.log.or(file.log).unwrap_or_else(|| "info".into()),
            log_format: args.log_format.or(file.log_format).unwrap_or_default(),
            public_url: match args.public_url.or(file.public_url) {
                None => None,
                Some(url) => Some(check_public_url(&url)?),
            },
            enable_test_tasks: args.enable_test_tasks || file.enable_test_tasks.unwrap_or(false),
            agent_heartbeat_timeout: Duration::from_millis(
                args.agent_heartbeat_timeout_ms
                    .or(file.agent_heartbeat_timeout_ms)
                    .unwrap_or(30_000)
                    .max(500),
            ),
            ob_status_interval: Duration::from_millis(
                args.ob_status_interval_ms
                    .or(file.ob_status_interval_ms)
                    .unwrap_or(2_000)
                    .max(200),
            ),
            backup_schedule_interval: Duration::from_millis(
                args.backup_schedule_interval_ms
                    .or(file.backup_schedule_interval_ms)
                    .unwrap_or(30_000)
                    .max(100),
            ),
            backup_day: Duration::from_millis(args.backup_day_ms.unwrap_or(86_400_000).max(1)),
            metrics_raw: Duration::from_secs(
                3600 * args
                    .metrics_raw_hours
                    .or(file.metrics_raw_hours)
                    .unwrap_or(168)
                    .max(1),
            ),
            metrics_retention: Duration::from_secs(
                86_400
                    * args
                        .metrics_retention_days
                        .or(file.metrics_retention_days)
                        .unwrap_or(30)
                        .max(1),
            ),
            prometheus,
            sql_stat_minutes: Duration::from_secs(
                3600 * args
                    .sql_stat_minute_hours
                    .or(file.sql_stat_minute_hours)
                    .unwrap_or(24)
                    .max(1),
            ),
            sql_stat_retention: Duration::from_secs(
                86_400
                    * args
                        .sql_stat_retention_days
                        .or(file.sql_stat_retention_days)
                        .unwrap_or(7)
                        .max(1),
            ),
            local_agent: args.local_agent.or(file.local_agent),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_beats_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ocp.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:9000\"\ntask_lease_ms = 2000\n").unwrap();
        let args = Args {
            config: Some(path),
            listen: Some("127.0.0.1:9001".parse().unwrap()),
            ..Args::default()
        };
        let config = Config::resolve(args).unwrap();
        assert_eq!(config.listen.port(), 9001);
        assert_eq!(config.task_lease, Duration::from_secs(2));
    }

    #[test]
    fn refuses_unknown_file_options() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ocp.toml");
        std::fs::write(&path, "listne = \"127.0.0.1:9000\"\n").unwrap();
        assert!(Config::resolve(Args {
            config: Some(path),
            ..Args::default()
        })
        .is_err());
    }
}
