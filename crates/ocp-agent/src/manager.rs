//! The manager worker (`ocp_mgragent`): runs the platform's processes on this host (the
//! database servers) and reports the host's facts.
//!
//! A platform process runs in its own process group, so that neither a signal to the agent's
//! group nor the agent's death reaches it, and is recorded in a pidfile with its start time
//! (`procs/NAME.json`), so that a restarted manager finds it again and never mistakes a
//! reused pid for it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use ocp_api::agent::{AdoptProcess, ManagedProcess, StartProcess, MANAGER_ALIAS};
use ocp_api::agent_path::manager as m;
use ocp_api::backup::{
    BackupMode, BackupSetLocation, BackupStorageDir, ListBackupSets, LoadBackupSet,
    RestoreBackupSet, WriteBackupSet,
};
use ocp_api::log::{AgentLogSearch, LogSource};
use ocp_api::obdb::{DirRequest, InstallPackage};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{backup, facts, install, logical, logsearch, procinfo, worker};

/// What a pidfile holds.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PidFile {
    name: String,
    pid: i32,
    start_ticks: u64,
    command: String,
    log_file: String,
    #[serde(default)]
    adopted: bool,
    #[serde(default)]
    cwd: String,
}

/// The processes the manager runs that are alive now, as (name, pid, command line), read
/// from their pidfiles (the monitor uses this to find the database servers of its host).
pub fn running_processes(data_dir: &std::path::Path) -> Vec<(String, i32, String)> {
    std::fs::read_dir(data_dir.join("procs"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| serde_json::from_slice::<PidFile>(&std::fs::read(e.path()).ok()?).ok())
        .filter(|r| procinfo::is_same_process(r.pid, r.start_ticks))
        .map(|r| (r.name, r.pid, r.command))
        .collect()
}

struct Manager {
    data_dir: PathBuf,
    /// One start or stop at a time, so two calls cannot both start a process.
    lock: tokio::sync::Mutex<()>,
    install_lock: tokio::sync::Mutex<()>,
    /// One backup or restore at a time: a retried call waits for the one still running, even
    /// when the caller of that one went away (the guard goes with the work, not the request).
    backup_lock: Arc<tokio::sync::Mutex<()>>,
}

type Shared = Arc<Manager>;

pub async fn run(data_dir: &Path) -> anyhow::Result<()> {
    let manager = Arc::new(Manager {
        data_dir: data_dir.to_path_buf(),
        lock: tokio::sync::Mutex::new(()),
        install_lock: tokio::sync::Mutex::new(()),
        backup_lock: Arc::new(tokio::sync::Mutex::new(())),
    });
    let app = Router::new()
        .route(m::FACTS_ROUTE, get(|| async { Json(facts::collect()) }))
        .route(m::PROCESSES_ROUTE, get(list).post(start))
        .route(m::PROCESS_ROUTE, get(one))
        .route(m::PROCESS_STOP_ROUTE, post(stop))
        .route(m::PROCESS_ADOPT_ROUTE, post(adopt))
        .route(m::PROCESS_LOG_ROUTE, get(log_tail))
        .route(m::PACKAGE_INSTALL_ROUTE, post(install_package))
        .route(m::DIR_PREPARE_ROUTE, post(prepare_dir))
        .route(m::DIR_REMOVE_ROUTE, post(remove_dir))
        .route(m::BACKUP_WRITE_ROUTE, post(write_backup))
        .route(m::BACKUP_RESTORE_ROUTE, post(restore_backup))
        .route(m::BACKUP_VERIFY_ROUTE, post(verify_backup))
        .route(m::BACKUP_DELETE_ROUTE, post(delete_backup))
        .route(m::BACKUP_LOAD_ROUTE, post(load_backup))
        .route(m::BACKUP_SPACE_ROUTE, post(storage_space))
        .route(m::BACKUP_LIST_ROUTE, post(list_sets))
        .route(m::LOG_SEARCH_ROUTE, post(search_logs))
        .route(
            m::PORT_ROUTE,
            get(|UrlPath(port): UrlPath<u16>| async move { Json(install::port_in_use(port)) }),
        )
        .with_state(manager);
    worker::serve(data_dir, MANAGER_ALIAS, app).await
}

/// The agent's own logs a search may read.
const AGENT_LOGS: [&str; 3] = ["ocp_agentd.log", "ocp_mgragent.log", "ocp_monagent.log"];

/// Searches a managed server's `log/seekdb.log*` or one of the agent's logs: only those
/// files, which the request names by process or log name, never by path.
async fn search_logs(State(m): State<Shared>, Json(q): Json<AgentLogSearch>) -> Response {
    let files = match &q.source {
        LogSource::Server { process } => {
            if !valid_name(process) {
                return failure(StatusCode::BAD_REQUEST, "bad process name");
            }
            match m.read(process) {
                Some(record) if !record.cwd.is_empty() => {
                    logsearch::server_files(Path::new(&record.cwd))
                }
                _ => return failure(StatusCode::NOT_FOUND, format!("no process {process}")),
            }
        }
        LogSource::Agent { file } => {
            if !AGENT_LOGS.contains(&file.as_str()) {
                return failure(
                    StatusCode::BAD_REQUEST,
                    format!("file: one of {}", AGENT_LOGS.join(", ")),
                );
            }
            logsearch::agent_file(&crate::config::log_home(&m.data_dir), file)
                .into_iter()
                .collect()
        }
    };
    match tokio::task::spawn_blocking(move || logsearch::search(&files, &q)).await {
        Ok(Ok(found)) => Json(found).into_response(),
        Ok(Err(message)) => failure(StatusCode::BAD_REQUEST, message),
        Err(e) => failure(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn failure(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "message": message.into() }))).into_response()
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

impl Manager {
    fn pidfile(&self, name: &str) -> PathBuf {
        self.data_dir.join("procs").join(format!("{name}.json"))
    }

    fn read(&self, name: &str) -> Option<PidFile> {
        serde_json::from_slice(&std::fs::read(self.pidfile(name)).ok()?).ok()
    }

    fn save(&self, record: &PidFile) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(record).map_err(std::io::Error::other)?;
        write_atomic(&self.pidfile(&record.name), &bytes)
    }

    fn view(record: &PidFile) -> ManagedProcess {
        ManagedProcess {
            name: record.name.clone(),
            pid: record.pid,
            running: procinfo::is_same_process(record.pid, record.start_ticks),
            command: record.command.clone(),
            log_file: record.log_file.clone(),
            adopted: record.adopted,
            cwd: record.cwd.clone(),
        }
    }

    fn all(&self) -> Vec<ManagedProcess> {
        let mut all: Vec<ManagedProcess> = std::fs::read_dir(self.data_dir.join("procs"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e
                    .file_name()
                    .to_string_lossy()
                    .strip_suffix(".json")?
                    .to_string();
                self.read(&name)
            })
            .map(|r| Self::view(&r))
            .collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }
}

async fn list(State(m): State<Shared>) -> Json<Vec<ManagedProcess>> {
    Json(m.all())
}

async fn one(State(m): State<Shared>, UrlPath(name): UrlPath<String>) -> Response {
    match m.read(&name) {
        Some(record) => Json(Manager::view(&record)).into_response(),
        None => failure(StatusCode::NOT_FOUND, format!("no process {name}")),
    }
}

/// Starts the process unless it already runs (then answers it as it is).
async fn start(State(m): State<Shared>, Json(spec): Json<StartProcess>) -> Response {
    use std::os::unix::process::CommandExt as _;
    if !valid_name(&spec.name) {
        return failure(
            StatusCode::BAD_REQUEST,
            "name must be 1 to 64 letters, digits, _ - or .",
        );
    }
    let _guard = m.lock.lock().await;
    if let Some(record) = m.read(&spec.name) {
        if procinfo::is_same_process(record.pid, record.start_ticks) {
            return Json(Manager::view(&record)).into_response();
        }
        // It died (killed behind our back, say) but may still be exiting.
        let group = Pid::from_raw(record.pid);
        wait_until(Duration::from_secs(10), || group_gone(group)).await;
    }
    let log_file = crate::config::log_home(&m.data_dir).join(format!("{}.log", spec.name));
    let log = match std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_file)
    {
        Ok(f) => f,
        Err(e) => return failure(StatusCode::INTERNAL_SERVER_ERROR, format!("log file: {e}")),
    };
    let mut command = std::process::Command::new(&spec.program);
    command
        .args(&spec.args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().expect("log handle"))
        .stderr(log)
        .process_group(0);
    if let Some(cwd) = &spec.cwd {
        command.current_dir(cwd);
    }
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            return failure(
                StatusCode::BAD_REQUEST,
                format!("cannot start {}: {e}", spec.program),
            )
        }
    };
    let pid = child.id() as i32;
    // Reap it if it exits while this manager lives; after that, init does.
    std::thread::spawn(move || child.wait());
    let record = PidFile {
        name: spec.name.clone(),
        pid,
        start_ticks: procinfo::start_ticks(pid).unwrap_or(0),
        command: std::iter::once(spec.program.clone())
            .chain(spec.args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" "),
        log_file: log_file.display().to_string(),
        adopted: false,
        cwd: spec.cwd.clone().unwrap_or_default(),
    };
    if let Err(e) = m.save(&record) {
        return failure(StatusCode::INTERNAL_SERVER_ERROR, format!("pidfile: {e}"));
    }
    tracing::info!(name = spec.name, pid, "started a platform process");
    Json(Manager::view(&record)).into_response()
}

/// Stops the process group (SIGTERM, SIGKILL after 10 s), waits until all of it is gone and
/// forgets the pidfile.
async fn stop(State(m): State<Shared>, UrlPath(name): UrlPath<String>) -> Response {
    let _guard = m.lock.lock().await;
    let Some(record) = m.read(&name) else {
        return failure(StatusCode::NOT_FOUND, format!("no process {name}"));
    };
    if record.adopted || procinfo::is_same_process(record.pid, record.start_ticks) {
        if !terminate(&record).await {
            return failure(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("{name} (pid {}) did not exit after SIGKILL", record.pid),
            );
        }
        tracing::info!(name, pid = record.pid, "stopped a platform process");
    }
    let _ = std::fs::remove_file(m.pidfile(&name));
    let mut view = Manager::view(&record);
    view.running = false;
    Json(view).into_response()
}

/// SIGTERM, then SIGKILL after 10 s; answers whether the process ended in time.
///
/// A process this manager started leads its own group: the whole group is signalled and
/// waited for until every member is reaped, because a leader shows as a zombie while its
/// other threads still exit holding its files (and their locks), and a server started again
/// in that window finds its directory in use. An adopted process may lead no group: it alone
/// is signalled, and a zombie whose threads are all gone counts as ended, since its own
/// parent reaps it when it will.
async fn terminate(record: &PidFile) -> bool {
    let pid = Pid::from_raw(record.pid);
    let gone = || {
        if record.adopted {
            procinfo::has_exited(record.pid, record.start_ticks)
        } else {
            group_gone(pid)
        }
    };
    for signal in [Signal::SIGTERM, Signal::SIGKILL] {
        if gone() {
            return true;
        }
        let _ = if record.adopted {
            kill(pid, signal)
        } else {
            killpg(pid, signal)
        };
        if wait_until(Duration::from_secs(10), gone).await {
            return true;
        }
    }
    false
}

/// Takes on the process listening on a port, started outside the platform, under `name`:
/// from then on it is stopped, and found again, like one this manager started.
async fn adopt(
    State(m): State<Shared>,
    UrlPath(name): UrlPath<String>,
    Json(spec): Json<AdoptProcess>,
) -> Response {
    if !valid_name(&name) {
        return failure(StatusCode::BAD_REQUEST, "bad process name");
    }
    let _guard = m.lock.lock().await;
    if let Some(record) = m.read(&name) {
        if procinfo::is_same_process(record.pid, record.start_ticks) {
            return Json(Manager::view(&record)).into_response();
        }
    }
    let Some(pid) = procinfo::listener_of(spec.port) else {
        return failure(
            StatusCode::NOT_FOUND,
            format!(
                "no process this agent can see listens on port {}",
                spec.port
            ),
        );
    };
    let record = PidFile {
        name: name.clone(),
        pid,
        start_ticks: procinfo::start_ticks(pid).unwrap_or(0),
        command: procinfo::command_line(pid).unwrap_or_default(),
        log_file: String::new(),
        adopted: true,
        cwd: procinfo::cwd(pid).unwrap_or_default(),
    };
    if let Err(e) = m.save(&record) {
        return failure(StatusCode::INTERNAL_SERVER_ERROR, format!("pidfile: {e}"));
    }
    tracing::info!(name, pid, "adopted a process");
    Json(Manager::view(&record)).into_response()
}

/// Whether no process of `group` is left, reaped ones included (group 0 would be this
/// agent's own, and counts as gone).
fn group_gone(group: Pid) -> bool {
    group.as_raw() <= 0 || killpg(group, None).is_err()
}

/// Polls `done` every 20 ms for up to `limit`; answers whether it came true.
async fn wait_until(limit: Duration, done: impl Fn() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while !done() {
        if std::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

/// The last 4 KiB of a process's output, to tell why it exited.
async fn log_tail(State(m): State<Shared>, UrlPath(name): UrlPath<String>) -> Response {
    if !valid_name(&name) {
        return failure(StatusCode::BAD_REQUEST, "bad process name");
    }
    let path = crate::config::log_home(&m.data_dir).join(format!("{name}.log"));
    let tail = tail_of(&path, 4096).await.unwrap_or_default();
    // A database server writes why it stopped to its own log, not to its output.
    let server_log = match m.read(&name) {
        Some(record) if !record.cwd.is_empty() => {
            let path = Path::new(&record.cwd).join("log/seekdb.log");
            let tail = tail_of(&path, 1 << 20).await.unwrap_or_default();
            telling_lines(&String::from_utf8_lossy(&tail))
        }
        _ => String::new(),
    };
    Json(json!({ "log": String::from_utf8_lossy(&tail), "serverLog": server_log })).into_response()
}

/// What of a seekdb log's end says why it stopped: its last ERROR and EDIAG lines, or, when
/// it wrote none, its last lines; each cut to 400 characters.
fn telling_lines(tail: &str) -> String {
    let lines: Vec<&str> = tail.lines().filter(|l| l.starts_with('[')).collect();
    let errors: Vec<&str> = lines
        .iter()
        .filter(|l| l.contains("] ERROR ") || l.contains("] EDIAG "))
        .copied()
        .collect();
    let chosen = if errors.is_empty() { &lines } else { &errors };
    let cut = |l: &&str| match l.char_indices().nth(400) {
        Some((at, _)) => format!("{}...", &l[..at]),
        None => l.to_string(),
    };
    let from = chosen.len().saturating_sub(8);
    chosen[from..]
        .iter()
        .map(cut)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The last `bytes` bytes of a file, read without loading the rest.
async fn tail_of(path: &Path, bytes: u64) -> std::io::Result<Vec<u8>> {
    use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};
    let mut file = tokio::fs::File::open(path).await?;
    let length = file.metadata().await?.len();
    file.seek(std::io::SeekFrom::Start(length.saturating_sub(bytes)))
        .await?;
    let mut tail = Vec::with_capacity(bytes as usize);
    file.read_to_end(&mut tail).await?;
    Ok(tail)
}

fn answer<T: Serialize>(result: anyhow::Result<T>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(e) => failure(StatusCode::BAD_REQUEST, format!("{e:#}")),
    }
}

/// Installs a package; one install at a time, so two calls never download it twice.
async fn install_package(State(m): State<Shared>, Json(spec): Json<InstallPackage>) -> Response {
    let _guard = m.install_lock.lock().await;
    answer(install::install_package(&m.data_dir, &spec).await)
}

async fn prepare_dir(State(m): State<Shared>, Json(request): Json<DirRequest>) -> Response {
    let data_dir = m.data_dir.clone();
    answer(blocking(move || install::prepare_dir(&data_dir, &request.path)).await)
}

async fn remove_dir(State(m): State<Shared>, Json(request): Json<DirRequest>) -> Response {
    let data_dir = m.data_dir.clone();
    answer(blocking(move || install::remove_dir(&data_dir, &request.path)).await)
}

/// Runs backup work on a blocking thread under the backup lock. The guard moves into the
/// work, so a caller that goes away does not free the lock while the work still runs.
async fn backup_work<T: Serialize + Send + 'static>(
    m: &Manager,
    work: impl FnOnce(&Path) -> anyhow::Result<T> + Send + 'static,
) -> Response {
    let guard = m.backup_lock.clone().lock_owned().await;
    let data_dir = m.data_dir.clone();
    answer(
        blocking(move || {
            let _guard = guard;
            work(&data_dir)
        })
        .await,
    )
}

/// Writes a backup set: a copy of a stopped server (see [`backup::write_set`]) or a dump of
/// a running one (see [`logical::dump_set`]).
async fn write_backup(State(m): State<Shared>, Json(request): Json<WriteBackupSet>) -> Response {
    let runtime = tokio::runtime::Handle::current();
    backup_work(&m, move |data_dir| match request.mode {
        BackupMode::PhysicalBackup => backup::write_set(data_dir, &request),
        BackupMode::LogicalBackup => logical::dump_set(data_dir, &request, &runtime),
    })
    .await
}

/// Verifies a logical set and loads it into a running server (see [`logical::load_set`]).
async fn load_backup(State(m): State<Shared>, Json(request): Json<LoadBackupSet>) -> Response {
    backup_work(&m, move |data_dir| logical::load_set(data_dir, &request)).await
}

/// Verifies a backup set and unpacks it into a base directory (see [`backup::restore_set`]).
async fn restore_backup(
    State(m): State<Shared>,
    Json(request): Json<RestoreBackupSet>,
) -> Response {
    backup_work(&m, move |data_dir| backup::restore_set(data_dir, &request)).await
}

/// Checks a backup set against its manifest (see [`backup::check_set`]).
async fn verify_backup(
    State(m): State<Shared>,
    Json(request): Json<BackupSetLocation>,
) -> Response {
    backup_work(&m, move |data_dir| backup::check_set(data_dir, &request)).await
}

/// Removes a backup set (see [`backup::delete_set`]).
async fn delete_backup(
    State(m): State<Shared>,
    Json(request): Json<BackupSetLocation>,
) -> Response {
    backup_work(&m, move |data_dir| backup::delete_set(data_dir, &request)).await
}

/// The space of a backup storage's filesystem (see [`backup::storage_space`]). It takes no
/// backup lock: a look at the space never waits for a copy.
async fn storage_space(Json(request): Json<BackupStorageDir>) -> Response {
    answer(blocking(move || backup::storage_space(&request)).await)
}

/// The finished sets of a backup storage (see [`backup::list_sets`]); no backup lock, since
/// a set being written has no manifest yet.
async fn list_sets(State(m): State<Shared>, Json(request): Json<ListBackupSets>) -> Response {
    let data_dir = m.data_dir.clone();
    answer(blocking(move || backup::list_sets(&data_dir, &request)).await)
}

/// Runs disk work (walking or removing a tree) off the runtime's threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(work).await?
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temp = path.with_extension("tmp");
    std::fs::write(&temp, bytes)?;
    std::fs::File::open(&temp)?.sync_all()?;
    std::fs::rename(temp, path)
}

#[cfg(test)]
mod tests {
    use super::telling_lines;

    #[test]
    fn a_seekdb_logs_errors_are_told_before_its_last_lines() {
        let info = "[2026-12-03 06:41:34.484470] INFO  [COMMON] get_file_id_range (x.cpp:1) [1][seekdb][Y0] [lt=1] log dir is empty";
        let error = "[2026-12-03 06:41:35.000000] ERROR [SERVER] start (ob_server.cpp:9) [1][seekdb][Y0] [lt=1][errcode=-4184] log disk too small";
        let continued = "  a continuation line";
        assert_eq!(telling_lines(&format!("{info}\n{continued}\n")), info);
        assert_eq!(telling_lines(&format!("{error}\n{info}\n{info}\n")), error);
        let long = format!("[x] INFO {}", "y".repeat(500));
        assert_eq!(telling_lines(&long).chars().count(), 403);
    }
}
