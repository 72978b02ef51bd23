//! Building and running the server: `Config -> Server::build() -> run()`.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use axum::middleware;
use axum::Router;
use ocp_api::Timestamp;
use ocp_store::{Store, StoreConfig};
use ocp_task::{Engine, EngineConfig, EngineHandle, Registry};
use rand::{distributions::Alphanumeric, Rng};
use tokio::net::TcpListener;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::auth::{Authenticator, BUILTIN_ROLES};
use crate::cluster::access::ObAccess;
use crate::config::Config;
use crate::host::agent_client::AgentClient;
use crate::http::{self, ServerAddress};
use crate::routes;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "OCP-compatible API", description = "Responses travel in OCP's envelope: data or error, successful, timestamp, duration, status, traceId, server."),
    modifiers(&BasicAuth)
)]
struct ApiDoc;

struct BasicAuth;

impl utoipa::Modify for BasicAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
        openapi.security = Some(vec![SecurityRequirement::new(
            "basic",
            Vec::<String>::new(),
        )]);
    }
}

fn api_router(test_tasks: bool) -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::system::router())
        .merge(routes::tasks::router())
        .merge(routes::compute::router())
        .merge(routes::hosts::router())
        .merge(routes::host_agent::router())
        .merge(routes::agent_link::router())
        .merge(routes::iam_users::router())
        .merge(routes::session::router())
        .merge(routes::iam_roles::router())
        .merge(routes::packages::router())
        .merge(routes::clusters::router())
        .merge(routes::standby::router())
        .merge(routes::cluster_params::router())
        .merge(routes::backups::router())
        .merge(routes::ob_tenants::router())
        .merge(routes::tenants::router())
        .merge(routes::ob_grants::router())
        .merge(routes::ob_sessions::router())
        .merge(routes::obproxy::router())
        .merge(routes::sql_diagnostics::router())
        .merge(routes::logs::router())
        .merge(routes::monitor::router())
        .merge(routes::alarms::router());
    if test_tasks {
        router = router.merge(routes::debug::router());
    }
    router
}

/// The OpenAPI document of the production routes.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = api_router(false).split_for_parts();
    utoipa::Modify::modify(&crate::openapi::Enveloped, &mut doc);
    crate::openapi::document_compute_aliases(&mut doc);
    doc
}

/// A server ready to serve.
pub struct Server {
    /// The address tasks record as their executor.
    address: String,
    /// Where clients reach it: the base of the links it builds.
    public_url: String,
    listener: TcpListener,
    router: Router,
    store: Store,
    engine: Engine,
    ob: ObAccess,
    fresh: crate::alarm::Fresh,
    alarm_timings: crate::alarm::Timings,
    channel_policy: Arc<crate::alarm::outbound::ChannelPolicy>,
    config: Config,
    _lock: std::fs::File,
}

impl Server {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
        restrict(&config.data_dir, 0o700)?;
        let lock = lock_data_dir(&config.data_dir)?;
        let node_id = read_or_create(&config.data_dir.join("node-id"), || {
            uuid::Uuid::new_v4().to_string()
        })?;
        let master_key = master_key(&config)?;

        let store_config = store_config(&config);
        let store = Store::open(&store_config).await.with_context(|| {
            format!(
                "opening the metadb {}",
                ocp_store::redact_url(&store_config.url)
            )
        })?;

        if config.metadb.is_none() {
            // Files from before the server set its umask may still be readable by others.
            for suffix in ["", "-wal", "-shm"] {
                let path = config.data_dir.join(format!("metadb.sqlite{suffix}"));
                if path.exists() {
                    restrict(&path, 0o600)?;
                }
            }
        }

        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        let local = listener.local_addr()?;
        let address = config
            .advertise_address
            .clone()
            .unwrap_or_else(|| advertise(local));

        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| default_public_url(config.advertise_address.as_deref(), local));
        let vault = Arc::new(crate::vault::Vault::new(master_key));
        let auth = Arc::new(Authenticator::new(
            store.clone(),
            config.auth.clone(),
            vault.clone(),
        ));
        let agents = AgentClient::new(store.clone(), vault.clone());

        let mut registry = Registry::new();
        routes::debug::register_steps(&mut registry);
        crate::host::steps::register(&mut registry, &agents);
        let metrics = match &config.prometheus {
            None => crate::monitor::MetricsBackend::embedded(store.clone()),
            Some(p) => crate::monitor::MetricsBackend::Prometheus(Arc::new(
                crate::monitor::prometheus::Prometheus::new(p.clone())?,
            )),
        };
        let ob = ObAccess {
            store: store.clone(),
            metrics: metrics.clone(),
            vault: vault.clone(),
            agents: agents.clone(),
        };
        crate::cluster::steps::register(&mut registry, &ob);
        let mut engine_config = EngineConfig::new(node_id, address.clone());
        engine_config.lease = config.task_lease;
        engine_config.poll_interval = config.task_poll;
        engine_config.max_parallel = config.max_parallel_subtasks;
        let engine = Engine::new(store.clone(), registry, engine_config);
        seed_identity(&store, &auth, &config).await?;

        let fresh = crate::alarm::Fresh::default();
        let alarm_timings = crate::alarm::Timings::default();
        let mut channel_policy = config.channel_policy.clone();
        channel_policy.own.push(local.ip());
        if let Some(ip) = address
            .rsplit_once(':')
            .and_then(|(host, _)| host.trim_matches(['[', ']']).parse().ok())
        {
            channel_policy.own.push(ip);
        }
        let channel_policy = Arc::new(channel_policy);
        let state = AppState {
            store: store.clone(),
            metrics: metrics.clone(),
            engine: engine.clone(),
            auth: auth.clone(),
            vault,
            agents,
            ob: ob.clone(),
            data_dir: config.data_dir.clone(),
            address: address.clone(),
            public_url: public_url.clone(),
            build_time: Timestamp::now(),
            fresh: fresh.clone(),
            alarm_timings: alarm_timings.clone(),
            channel_policy: channel_policy.clone(),
            sql_stat_minutes: config.sql_stat_minutes,
        };
        let (api, _) = api_router(config.enable_test_tasks).split_for_parts();
        let openapi = openapi_document();
        let router = api
            .route(
                "/api/v2/openapi.json",
                axum::routing::get(move || {
                    let doc = openapi.clone();
                    async move { http::raw(axum::Json(doc)) }
                }),
            )
            .fallback(crate::console::serve)
            .with_state(state)
            .layer(middleware::from_fn_with_state(
                auth,
                crate::auth::authenticate,
            ))
            .layer(tower_http::catch_panic::CatchPanicLayer::new())
            .layer(middleware::from_fn(http::envelope))
            .layer(axum::Extension(ServerAddress(address.clone())));
        Ok(Self {
            address,
            public_url,
            listener,
            router,
            store,
            engine,
            ob,
            config,
            fresh,
            alarm_timings,
            channel_policy,
            _lock: lock,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    /// Serves until `shutdown` resolves, then stops the engine and closes the metadb.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let handle: EngineHandle = self.engine.start().await?;
        let watch = tokio::spawn(crate::host::link::watch_heartbeats(
            self.store.clone(),
            self.config.agent_heartbeat_timeout,
        ));
        let ob_sync = tokio::spawn(crate::cluster::sync::watch(
            self.ob.clone(),
            self.config.ob_status_interval,
        ));
        let backups = tokio::spawn(crate::cluster::backup_schedule::run(
            self.ob.clone(),
            self.address.clone(),
            self.config.backup_schedule_interval,
            self.config.backup_day,
        ));
        let rollup = tokio::spawn(crate::monitor::rollup::roll_up(
            self.store.clone(),
            crate::monitor::rollup::Retention {
                metrics_raw: self.config.metrics_raw,
                metrics: self.config.metrics_retention,
                sql_minutes: self.config.sql_stat_minutes,
                sql: self.config.sql_stat_retention,
            },
        ));
        let local = self.local_addr();
        let outbox = std::sync::Arc::new(tokio::sync::Notify::new());
        let base_url = self.public_url.clone();
        let alarms = tokio::spawn(
            crate::alarm::AlarmEngine {
                store: self.store.clone(),
                metrics: self.ob.metrics.clone(),
                outbox: outbox.clone(),
                base_url: base_url.clone(),
                fresh: self.fresh.clone(),
                timings: self.alarm_timings.clone(),
            }
            .run(std::time::Duration::from_millis(500)),
        );
        let delivery = tokio::spawn(
            crate::alarm::Outbox::new(
                self.store.clone(),
                outbox,
                base_url,
                self.channel_policy.clone(),
            )
            .run(),
        );
        let signatures = tokio::spawn(sweep_expired(
            self.store.clone(),
            self.config.auth.session_idle,
        ));
        let mut local_agent = match self.config.local_agent {
            Some(listen) => Some(
                crate::host::local_agent::start(&self.store, &self.config.data_dir, listen, local)
                    .await?,
            ),
            None => None,
        };
        // OCP documents the agent paths without the /api/v2 prefix: both are served.
        let app = tower::Layer::layer(
            &tower::util::MapRequestLayer::new(alias_compute_paths),
            self.router,
        );
        axum::serve(
            self.listener,
            axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
                SocketAddr,
            >(app),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        if let Some(agent) = local_agent.as_mut() {
            agent.stop().await;
        }
        watch.abort();
        ob_sync.abort();
        backups.abort();
        rollup.abort();
        alarms.abort();
        delivery.abort();
        signatures.abort();
        handle.shutdown().await;
        self.store.close().await;
        Ok(())
    }
}

/// Sets a file's or directory's mode (the data directory and the metadb are the server's alone).
fn restrict(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("restricting {} to {mode:o}", path.display()))
}

/// Every minute, forgets the signed requests whose acceptance window has passed, and the
/// console sessions that ended.
async fn sweep_expired(store: Store, session_idle: std::time::Duration) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        if let Err(e) = store.forget_expired_signatures().await {
            tracing::warn!("forgetting expired signatures: {e}");
        }
        let idle_since = ocp_api::time::now_millis() - session_idle.as_millis() as i64;
        if let Err(e) = store.forget_ended_sessions(idle_since).await {
            tracing::warn!("forgetting ended sessions: {e}");
        }
    }
}

/// `/compute/...` is served as `/api/v2/compute/...`.
fn alias_compute_paths(mut request: axum::extract::Request) -> axum::extract::Request {
    if request.uri().path().starts_with("/compute/") {
        let sent = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        if let Ok(uri) = format!("/api/v2{sent}").parse() {
            *request.uri_mut() = uri;
            // What the client signed, for an access key's check.
            request.extensions_mut().insert(http::SentPath(sent));
        }
    }
    request
}

/// Opens the metadb of `config` and issues a one-time agent join token (`--print-join-token`).
pub async fn issue_join_token(config: &Config) -> anyhow::Result<ocp_api::host::JoinToken> {
    let store = Store::open(&store_config(config)).await?;
    let token =
        crate::host::link::issue_token(&store, &ocp_api::host::CreateJoinToken::default(), "admin")
            .await
            .map_err(|f| anyhow::anyhow!(f.message))?;
    store.close().await;
    Ok(token)
}

/// Gives admin a new, generated password (answered, to be shown once), unlocks and enables
/// it, and ends its console sessions.
pub async fn reset_admin_password(config: &Config) -> anyhow::Result<String> {
    if config.metadb.is_none() {
        let file = config.data_dir.join("metadb.sqlite");
        anyhow::ensure!(
            file.exists(),
            "no metadb at {}: give the server's --data-dir (or --metadb)",
            file.display()
        );
    }
    let store = Store::open(&store_config(config)).await?;
    let admin = store
        .user_by_name("admin")
        .await?
        .context("this metadb has no user admin")?;
    let password = generated_password();
    let hash = crate::password::Hashers::new(1)
        .hash(&password)
        .await
        .map_err(|f| anyhow::anyhow!(f.message))?;
    store.set_user_password(admin.id, &hash).await?;
    store.set_user_locked(admin.id, false).await?;
    store.set_user_enabled(admin.id, true).await?;
    store.delete_user_sessions(admin.id).await?;
    store.close().await;
    Ok(password)
}

/// A password for admin: 20 random letters and digits, then what any password rule wants.
fn generated_password() -> String {
    let p: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(20)
        .map(char::from)
        .collect();
    format!("{p}-Aa1")
}

fn store_config(config: &Config) -> StoreConfig {
    match &config.metadb {
        Some(url) => StoreConfig::postgres(url),
        None => {
            let mut c = StoreConfig::sqlite_file(&config.data_dir.join("metadb.sqlite"));
            c.sqlite_sync = config.sqlite_sync;
            c.sqlite_max_bytes = config.sqlite_max_size_mb.map(|mb| mb * 1024 * 1024);
            c
        }
    }
}

/// `http://` and where clients reach the server: the advertise address (with the listen
/// port unless it names one), or the listen address (the host's name for 0.0.0.0).
fn default_public_url(advertised: Option<&str>, local: SocketAddr) -> String {
    let host = advertised.map_or_else(|| advertise(local), str::to_string);
    let has_port = host.parse::<SocketAddr>().is_ok()
        || host
            .split_once(':')
            .is_some_and(|(h, p)| !h.is_empty() && !p.contains(':') && p.parse::<u16>().is_ok());
    if has_port {
        return format!("http://{host}");
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(ip)) => format!("http://[{ip}]:{}", local.port()),
        _ => format!("http://{host}:{}", local.port()),
    }
}

fn advertise(local: SocketAddr) -> String {
    if local.ip().is_unspecified() {
        std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "localhost".into())
    } else {
        local.ip().to_string()
    }
}

/// One server per data directory: a second one would fight the first over its leases.
fn lock_data_dir(dir: &Path) -> anyhow::Result<std::fs::File> {
    let path = dir.join("ocp-server.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    file.try_lock().map_err(|_| {
        anyhow::anyhow!(
            "data directory {} is in use by another ocp-server",
            dir.display()
        )
    })?;
    Ok(file)
}

fn read_or_create(path: &Path, make: impl FnOnce() -> String) -> anyhow::Result<String> {
    if let Ok(text) = std::fs::read_to_string(path) {
        return Ok(text.trim().to_string());
    }
    let value = make();
    write_private(path, &value)?;
    Ok(value)
}

fn write_private(path: &Path, value: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(value.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// The key that seals access-key secrets: configured (servers sharing a PostgreSQL metadb
/// must share it), else kept in the data directory.
fn master_key(config: &Config) -> anyhow::Result<[u8; 32]> {
    let text = match &config.master_key {
        Some(key) => key.clone(),
        None => read_or_create(&config.data_dir.join("master.key"), || {
            let mut bytes = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
            hex::encode(bytes)
        })?,
    };
    let bytes = hex::decode(text.trim()).context("the master key must be 64 hex digits")?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("the master key must be 64 hex digits"))
}

/// Creates the built-in roles and, on first start, the `admin` user.
async fn seed_identity(store: &Store, auth: &Authenticator, config: &Config) -> anyhow::Result<()> {
    let mut admin_role = None;
    for (name, description, patterns) in BUILTIN_ROLES {
        let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
        let id = store
            .upsert_builtin_role(name, description, &patterns)
            .await?;
        if *name == "ADMIN" {
            admin_role = Some(id);
        }
    }
    if store.user_by_name("admin").await?.is_some() {
        return Ok(());
    }
    let (password, generated) = match &config.admin_password {
        Some(p) => (p.clone(), false),
        None => (generated_password(), true),
    };
    let hash = auth
        .hash_password(&password)
        .await
        .map_err(|f| anyhow::anyhow!(f.message))?;
    store
        .create_user(&ocp_store::NewUser {
            username: "admin".into(),
            password_hash: hash,
            email: None,
            description: Some("the built-in administrator".into()),
            role_ids: admin_role.into_iter().collect(),
            rate_limit: None,
        })
        .await?;
    if generated {
        // Shown once, on the terminal that started the server; never logged.
        #[allow(clippy::print_stdout)]
        {
            println!("created user admin with password {password} (shown only this once)");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_use_the_address_and_port_clients_reach() {
        let local: std::net::SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(
            super::default_public_url(None, local),
            "http://127.0.0.1:8080"
        );
        let public = |a| super::default_public_url(Some(a), local);
        assert_eq!(public("ocp.example.com"), "http://ocp.example.com:8080");
        assert_eq!(public("ocp.example.com:80"), "http://ocp.example.com:80");
        assert_eq!(public("10.0.0.5:9000"), "http://10.0.0.5:9000");
        assert_eq!(public("fd00::5"), "http://[fd00::5]:8080");
    }
}
