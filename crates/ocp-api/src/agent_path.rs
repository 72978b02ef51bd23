//! Every path of the agent protocol, in one place for the side that routes it and the side that
//! calls it.
//!
//! A route is a `*_ROUTE` pattern in axum's syntax (`{name}` for a segment); the caller builds
//! the same path with the function beside it, so the two cannot drift apart (the tests below
//! match every built path against its pattern).

/// The supervisor's report of itself and its workers.
pub const STATUS: &str = "/v1/status";
/// An action (start, stop, restart) on every worker.
pub const ALL_WORKERS_ROUTE: &str = "/v1/workers/{action}";
/// An action on one worker.
pub const WORKER_ROUTE: &str = "/v1/workers/{alias}/{action}";
/// The supervisor forwards `/v1/mgr/...` to the manager worker without this prefix.
pub const MANAGER_PREFIX: &str = "/v1/mgr";
/// The supervisor forwards `/v1/mon/...` to the monitor worker without this prefix.
pub const MONITOR_PREFIX: &str = "/v1/mon";

pub fn all_workers(action: &str) -> String {
    format!("/v1/workers/{action}")
}

pub fn worker(alias: &str, action: &str) -> String {
    format!("/v1/workers/{alias}/{action}")
}

/// The manager worker's routes, relative to [`MANAGER_PREFIX`] as the worker serves them; each
/// function answers the full path a server calls.
pub mod manager {
    use super::MANAGER_PREFIX;

    pub const FACTS_ROUTE: &str = "/facts";
    pub const PROCESSES_ROUTE: &str = "/processes";
    pub const PROCESS_ROUTE: &str = "/processes/{name}";
    pub const PROCESS_STOP_ROUTE: &str = "/processes/{name}/stop";
    pub const PROCESS_ADOPT_ROUTE: &str = "/processes/{name}/adopt";
    pub const PROCESS_LOG_ROUTE: &str = "/processes/{name}/log";
    pub const PACKAGE_INSTALL_ROUTE: &str = "/packages/install";
    pub const DIR_PREPARE_ROUTE: &str = "/dirs/prepare";
    pub const DIR_REMOVE_ROUTE: &str = "/dirs/remove";
    pub const PORT_ROUTE: &str = "/ports/{port}";
    pub const BACKUP_WRITE_ROUTE: &str = "/backups/write";
    pub const BACKUP_RESTORE_ROUTE: &str = "/backups/restore";
    pub const BACKUP_VERIFY_ROUTE: &str = "/backups/verify";
    pub const BACKUP_DELETE_ROUTE: &str = "/backups/delete";
    pub const BACKUP_LOAD_ROUTE: &str = "/backups/load";
    pub const BACKUP_SPACE_ROUTE: &str = "/backups/space";
    pub const BACKUP_LIST_ROUTE: &str = "/backups/list";
    pub const LOG_SEARCH_ROUTE: &str = "/logs/search";

    pub fn facts() -> String {
        format!("{MANAGER_PREFIX}/facts")
    }
    /// Searches a server's or the agent's logs (`ocp_api::log::AgentLogSearch`).
    pub fn log_search() -> String {
        format!("{MANAGER_PREFIX}/logs/search")
    }
    pub fn processes() -> String {
        format!("{MANAGER_PREFIX}/processes")
    }
    pub fn process(name: &str) -> String {
        format!("{MANAGER_PREFIX}/processes/{name}")
    }
    pub fn process_stop(name: &str) -> String {
        format!("{MANAGER_PREFIX}/processes/{name}/stop")
    }
    pub fn process_adopt(name: &str) -> String {
        format!("{MANAGER_PREFIX}/processes/{name}/adopt")
    }
    /// The last 4 KiB of a process's output.
    pub fn process_log(name: &str) -> String {
        format!("{MANAGER_PREFIX}/processes/{name}/log")
    }
    pub fn package_install() -> String {
        format!("{MANAGER_PREFIX}/packages/install")
    }
    pub fn dir_prepare() -> String {
        format!("{MANAGER_PREFIX}/dirs/prepare")
    }
    pub fn dir_remove() -> String {
        format!("{MANAGER_PREFIX}/dirs/remove")
    }
    /// Writes a backup set of a stopped server into a storage directory.
    pub fn backup_write() -> String {
        format!("{MANAGER_PREFIX}/backups/write")
    }
    /// Verifies a backup set and unpacks it into a server's base directory.
    pub fn backup_restore() -> String {
        format!("{MANAGER_PREFIX}/backups/restore")
    }
    /// Checks a backup set against its manifest.
    pub fn backup_verify() -> String {
        format!("{MANAGER_PREFIX}/backups/verify")
    }
    /// Removes a backup set, its manifest first.
    pub fn backup_delete() -> String {
        format!("{MANAGER_PREFIX}/backups/delete")
    }
    /// Verifies a logical backup set and loads it into a running server.
    pub fn backup_load() -> String {
        format!("{MANAGER_PREFIX}/backups/load")
    }
    /// The space of the filesystem a backup storage directory is on.
    pub fn backup_space() -> String {
        format!("{MANAGER_PREFIX}/backups/space")
    }
    /// The manifests of the finished sets in a backup storage directory.
    pub fn backup_list() -> String {
        format!("{MANAGER_PREFIX}/backups/list")
    }
    /// Whether something listens on `port` of the host.
    pub fn port(port: u16) -> String {
        format!("{MANAGER_PREFIX}/ports/{port}")
    }
}

/// The monitor worker's routes, relative to [`MONITOR_PREFIX`].
pub mod monitor {
    /// The latest sample as Prometheus text.
    pub const METRICS_ROUTE: &str = "/metrics";
    /// The samples kept since a time, a page at a time.
    pub const SAMPLES_ROUTE: &str = "/samples";

    pub fn samples_after(after_ms: i64) -> String {
        format!("/samples?after={after_ms}")
    }
}

/// The server's routes an agent calls: the join with a token, then signed calls.
pub mod server {
    pub const JOIN: &str = "/api/v2/agents/join";
    pub const HEARTBEAT: &str = "/api/v2/agents/heartbeat";
    pub const METRICS: &str = "/api/v2/agents/metrics";
    pub const PACKAGE_ROUTE: &str = "/api/v2/agents/packages/{id}";
    /// Every path under this is signed by an agent, not by a user.
    pub const PREFIX: &str = "/api/v2/agents/";

    pub fn package(id: i64) -> String {
        format!("/api/v2/agents/packages/{id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `path` (its query ignored) has the segments of `pattern`, where `{x}` takes any
    /// one segment.
    fn matches(pattern: &str, path: &str) -> bool {
        let path = path.split('?').next().unwrap_or_default();
        let (p, q): (Vec<_>, Vec<_>) = (pattern.split('/').collect(), path.split('/').collect());
        p.len() == q.len()
            && p.iter()
                .zip(&q)
                .all(|(p, q)| (p.starts_with('{') && p.ends_with('}') && !q.is_empty()) || p == q)
    }

    #[test]
    fn every_built_path_matches_its_route() {
        let mgr = |route: &str| format!("{MANAGER_PREFIX}{route}");
        let cases = [
            (ALL_WORKERS_ROUTE.to_string(), all_workers("restart")),
            (WORKER_ROUTE.to_string(), worker("ocp_mgragent", "stop")),
            (mgr(manager::FACTS_ROUTE), manager::facts()),
            (mgr(manager::PROCESSES_ROUTE), manager::processes()),
            (mgr(manager::PROCESS_ROUTE), manager::process("observer_1")),
            (mgr(manager::PROCESS_STOP_ROUTE), manager::process_stop("o")),
            (
                mgr(manager::PROCESS_ADOPT_ROUTE),
                manager::process_adopt("o"),
            ),
            (mgr(manager::PROCESS_LOG_ROUTE), manager::process_log("o")),
            (
                mgr(manager::PACKAGE_INSTALL_ROUTE),
                manager::package_install(),
            ),
            (mgr(manager::DIR_PREPARE_ROUTE), manager::dir_prepare()),
            (mgr(manager::DIR_REMOVE_ROUTE), manager::dir_remove()),
            (mgr(manager::PORT_ROUTE), manager::port(2881)),
            (mgr(manager::BACKUP_WRITE_ROUTE), manager::backup_write()),
            (
                mgr(manager::BACKUP_RESTORE_ROUTE),
                manager::backup_restore(),
            ),
            (mgr(manager::BACKUP_VERIFY_ROUTE), manager::backup_verify()),
            (mgr(manager::BACKUP_DELETE_ROUTE), manager::backup_delete()),
            (mgr(manager::BACKUP_LOAD_ROUTE), manager::backup_load()),
            (mgr(manager::BACKUP_SPACE_ROUTE), manager::backup_space()),
            (mgr(manager::BACKUP_LIST_ROUTE), manager::backup_list()),
            (mgr(manager::LOG_SEARCH_ROUTE), manager::log_search()),
            (
                monitor::SAMPLES_ROUTE.to_string(),
                monitor::samples_after(5),
            ),
            (server::PACKAGE_ROUTE.to_string(), server::package(3)),
        ];
        for (route, path) in cases {
            assert!(matches(&route, &path), "{path} does not match {route}");
        }
        for path in [server::JOIN, server::HEARTBEAT, server::METRICS] {
            assert!(path.starts_with(server::PREFIX));
        }
        assert!(!matches("/a/{b}", "/a/"));
    }
}
