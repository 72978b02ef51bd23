//! The real `ocpctl` binary against a real server and agent (and seekdb for the cluster
//! commands): each command group, JSON/YAML output, exit codes, `--wait` on a task that
//! fails, and an event stream that drops (the server restarts) and resumes.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use ocp_testkit::{free_port, Sandbox, ServerOptions, ServerProcess};
use serde_json::{json, Value};

use ocp_testkit::ADMIN_PASSWORD;

/// Runs ocpctl with its own config directory, against `server`, as admin.
fn ocpctl(config: &Path, server: &str, args: &[&str]) -> Output {
    command(config, server, args).output().expect("ocpctl runs")
}

fn command(config: &Path, server: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ocpctl"));
    command
        .args(args)
        .env("OCPCTL_CONFIG_DIR", config)
        .env("OCP_SERVER", server)
        .env("OCP_USER", "admin")
        .env("OCP_PASSWORD", ADMIN_PASSWORD)
        .env_remove("OCPCTL_PROFILE")
        .stdin(Stdio::null());
    command
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts the exit code, showing both streams when it differs.
fn expect(output: &Output, code: i32) -> &Output {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
    output
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&expect(output, 0).stdout).expect("JSON on stdout")
}

async fn debug_task(server: &ServerProcess, steps: Value) -> i64 {
    server
        .admin()
        .post(
            "/api/v2/debug/tasks",
            &json!({"name": "cli task", "steps": steps}),
        )
        .await
        .ok()
        .data()["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn hosts_agents_tasks_iam_and_exit_codes() {
    let sb = Sandbox::start(ServerOptions::default(), 1, 300)
        .await
        .unwrap();
    let url = sb.server.url().to_string();
    let cfg = tempfile::tempdir().unwrap();
    let c = cfg.path();
    let host = sb.host_id(0).to_string();

    // Profiles: saved, listed, used. A password is saved only once the server takes it, and
    // comes on stdin without a terminal.
    let save = |password: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ocpctl"))
            .args(["config", "set-profile", "lab", "--server", &url])
            .args(["--user", "admin", "--save-password", "--password-stdin"])
            .env("OCPCTL_CONFIG_DIR", c)
            .env_remove("OCP_PASSWORD")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    };
    expect(&save("Not-The-Password-1"), 3);
    assert!(!c.join("credentials").exists());
    assert!(!c.join("config.toml").exists());
    let no_terminal = Command::new(env!("CARGO_BIN_EXE_ocpctl"))
        .args([
            "config",
            "set-profile",
            "lab",
            "--server",
            &url,
            "--save-password",
        ])
        .env("OCPCTL_CONFIG_DIR", c)
        .env_remove("OCP_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(stderr(expect(&no_terminal, 2)).contains("--password-stdin"));
    expect(&save(ADMIN_PASSWORD), 0);
    let credentials = c.join("credentials");
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&credentials)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // The profile alone (no server, user or password given) is enough.
    let from_profile = Command::new(env!("CARGO_BIN_EXE_ocpctl"))
        .args(["host", "list"])
        .env("OCPCTL_CONFIG_DIR", c)
        .env_remove("OCP_PASSWORD")
        .env_remove("OCP_SERVER")
        .output()
        .unwrap();
    assert!(stdout(expect(&from_profile, 0)).contains("127.0.0.2"));
    std::fs::set_permissions(&credentials, std::fs::Permissions::from_mode(0o644)).unwrap();
    let loose = Command::new(env!("CARGO_BIN_EXE_ocpctl"))
        .args(["host", "list"])
        .env("OCPCTL_CONFIG_DIR", c)
        .env_remove("OCP_PASSWORD")
        .output()
        .unwrap();
    assert!(stderr(expect(&loose, 2)).contains("chmod 600"));
    assert!(stdout(expect(&ocpctl(c, &url, &["config", "list"]), 0)).contains("lab"));

    // Hosts and agents, as tables and as JSON.
    let hosts = json_of(&ocpctl(c, &url, &["-o", "json", "host", "list"]));
    assert_eq!(hosts[0]["innerIpAddress"], "127.0.0.2");
    let shown = ocpctl(c, &url, &["host", "show", &host]);
    assert!(stdout(expect(&shown, 0)).contains("AVAILABLE"));
    let yaml = ocpctl(c, &url, &["-o", "yaml", "agent", "show", &host]);
    assert!(stdout(expect(&yaml, 0)).contains("hostInnerIpAddress: 127.0.0.2"));
    let processes = ocpctl(c, &url, &["agent", "processes", &host]);
    assert!(stdout(expect(&processes, 0)).contains("ocp_mgragent"));
    let restart = ocpctl(c, &url, &["agent", "restart", &host, "--wait"]);
    assert!(stderr(expect(&restart, 0)).contains("SUCCESSFUL"));

    // Tasks.
    let tasks = json_of(&ocpctl(c, &url, &["-o", "json", "task", "list"]));
    let task_id = tasks[0]["id"].as_i64().unwrap().to_string();
    let shown = ocpctl(c, &url, &["task", "show", &task_id]);
    assert!(stdout(expect(&shown, 0)).contains("SUCCESSFUL"));
    let task = json_of(&ocpctl(c, &url, &["-o", "json", "task", "show", &task_id]));
    let subtask = task["subtasks"][0]["id"].as_i64().unwrap().to_string();
    let log = ocpctl(c, &url, &["task", "log", &task_id, &subtask]);
    assert!(stdout(expect(&log, 0)).contains("run subtask"));

    // Platform users and roles.
    let roles = ocpctl(c, &url, &["iam", "role", "list"]);
    assert!(stdout(expect(&roles, 0)).contains("CLUSTER_VIEWER"));
    let created = json_of(&ocpctl(
        c,
        &url,
        &[
            "-o",
            "json",
            "iam",
            "user",
            "create",
            "viewer1",
            "--role",
            "CLUSTER_VIEWER",
            "--password",
            "Viewer-Pw-123",
        ],
    ));
    let user_id = created["id"].as_i64().unwrap().to_string();
    let users = ocpctl(c, &url, &["iam", "user", "list"]);
    assert!(stdout(expect(&users, 0)).contains("viewer1"));
    // The viewer may read hosts but not restart agents: exit 3.
    let denied = command(c, &url, &["agent", "restart", &host])
        .env("OCP_USER", "viewer1")
        .env("OCP_PASSWORD", "Viewer-Pw-123")
        .output()
        .unwrap();
    assert!(stderr(expect(&denied, 3)).contains("code"));
    expect(&ocpctl(c, &url, &["iam", "user", "delete", &user_id]), 0);

    // Exit codes: not found 4, bad password 3, usage 2, refused 5, unreachable 6.
    let missing = ocpctl(c, &url, &["host", "show", "999"]);
    assert!(stderr(expect(&missing, 4)).contains("(code 10002)"));
    let wrong = command(c, &url, &["host", "list"])
        .env("OCP_PASSWORD", "wrong")
        .output()
        .unwrap();
    expect(&wrong, 3);
    expect(&ocpctl(c, &url, &["host", "frobnicate"]), 2);
    let bad = ocpctl(c, &url, &["param", "set", "999", "x"]);
    expect(&bad, 2);
    let refused = ocpctl(c, &url, &["task", "retry", &task_id]);
    assert!(stderr(expect(&refused, 5)).contains("code"));
    let port = free_port("127.0.0.1").unwrap();
    let nowhere = ocpctl(c, &format!("http://127.0.0.1:{port}"), &["host", "list"]);
    assert!(stderr(expect(&nowhere, 6)).contains("cannot reach"));

    // Completions.
    for shell in ["bash", "zsh", "fish"] {
        let script = ocpctl(c, &url, &["completion", shell]);
        assert!(stdout(expect(&script, 0)).contains("ocpctl"));
    }
}

/// `--wait` on a task that fails exits 1 and prints the failed subtask's log tail; so does
/// `task watch`.
#[tokio::test]
async fn waiting_on_a_failing_task_exits_1_with_its_log() {
    let server = ServerProcess::start(ServerOptions::default()).unwrap();
    let url = server.url().to_string();
    let cfg = tempfile::tempdir().unwrap();
    let missing = cfg.path().join("never-there");
    let id = debug_task(
        &server,
        json!([{"name": "Look for the file", "kind": "failUnlessFile",
                "path": missing.display().to_string()}]),
    )
    .await;
    let watched = ocpctl(cfg.path(), &url, &["task", "watch", &id.to_string()]);
    let text = stderr(expect(&watched, 1));
    assert!(text.contains("Look for the file: FAILED"), "{text}");
    assert!(text.contains("does not exist"), "the log tail: {text}");
    let retried = ocpctl(
        cfg.path(),
        &url,
        &["--wait", "task", "retry", &id.to_string()],
    );
    let text = stderr(expect(&retried, 1));
    assert!(text.contains("its log ends"), "{text}");

    // Skipping the failed subtask lets the task end SUCCESSFUL.
    let task = json_of(&ocpctl(
        cfg.path(),
        &url,
        &["-o", "json", "task", "show", &id.to_string()],
    ));
    let subtask = task["subtasks"][0]["id"].as_i64().unwrap().to_string();
    let skipped = ocpctl(
        cfg.path(),
        &url,
        &["task", "skip", &id.to_string(), &subtask, "--wait"],
    );
    assert!(stderr(expect(&skipped, 0)).contains("SUCCESSFUL"));
}

/// The server restarts while `task watch` follows a task: the stream drops, ocpctl resumes
/// after the last event it saw, and each state change is shown once.
#[tokio::test]
async fn a_dropped_event_stream_resumes() {
    let mut server = ServerProcess::start(ServerOptions::default()).unwrap();
    let url = server.url().to_string();
    let cfg = tempfile::tempdir().unwrap();
    let id = debug_task(
        &server,
        json!([{"name": "Take a while", "kind": "sleep", "sleepMs": 3000},
               {"name": "Then this", "kind": "noop", "after": [0]}]),
    )
    .await;
    let watcher = command(cfg.path(), &url, &["task", "watch", &id.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    server.restart().unwrap();
    let output = tokio::task::spawn_blocking(move || watcher.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let text = stderr(expect(&output, 0));
    assert!(
        text.contains("event stream lost; resuming after event"),
        "{text}"
    );
    assert_eq!(text.matches("Then this: SUCCESSFUL").count(), 1, "{text}");
    assert_eq!(
        text.matches("Take a while: SUCCESSFUL").count(),
        1,
        "{text}"
    );
    assert!(text.contains(&format!("task {id} SUCCESSFUL")), "{text}");
}

/// Packages, clusters, servers, parameters, databases and database users on real seekdb.
#[tokio::test]
async fn clusters_databases_and_users_on_seekdb() {
    let wheel = ocp_testkit::seekdb_wheel().expect("the seekdb wheel");
    let sb = Sandbox::start(ServerOptions::default(), 1, 300)
        .await
        .unwrap();
    let url = sb.server.url().to_string();
    let cfg = tempfile::tempdir().unwrap();
    let c = cfg.path();
    let run = |args: &[&str]| ocpctl(c, &url, args);

    let package = json_of(&run(&[
        "-o",
        "json",
        "package",
        "upload",
        wheel.to_str().unwrap(),
    ]));
    let rpm = package["fileName"].as_str().unwrap().to_string();
    assert!(stdout(expect(&run(&["package", "list"]), 0)).contains(&rpm));

    let port = free_port("0.0.0.0").unwrap().to_string();
    let host = sb.host_id(0).to_string();
    let created = command(
        c,
        &url,
        &[
            "cluster",
            "create",
            "--name",
            "cli1",
            "--package",
            &rpm,
            "--host",
            &host,
            "--sql-port",
            &port,
            "--param",
            "memory_budget=1G",
            "--wait",
        ],
    )
    .env("OCP_CLUSTER_PASSWORD", "Root-Pw-1")
    .output()
    .unwrap();
    assert!(stderr(expect(&created, 0)).contains("SUCCESSFUL"));
    let clusters = json_of(&run(&["-o", "json", "cluster", "list"]));
    assert_eq!(clusters[0]["status"], "RUNNING");
    let id = clusters[0]["id"].as_i64().unwrap().to_string();
    let shown = run(&["cluster", "show", &id]);
    assert!(stdout(expect(&shown, 0)).contains("RUNNING"));
    let cluster = json_of(&run(&["-o", "json", "cluster", "show", &id]));
    let server = cluster["zones"][0]["servers"][0]["id"]
        .as_i64()
        .unwrap()
        .to_string();

    // Its servers, by id; the state of major compaction.
    let servers = run(&["server", "list", &id]);
    assert!(stdout(expect(&servers, 0)).contains("RUNNING"));
    let listed = json_of(&run(&["-o", "json", "server", "list", &id]));
    assert_eq!(listed[0]["id"].as_i64().unwrap().to_string(), server);
    let compaction = json_of(&run(&["-o", "json", "compaction", "show", &id]));
    assert!(compaction["status"].is_string(), "{compaction:#}");
    // Its sessions: listed, counted; a kill of one that does not exist is refused.
    expect(&run(&["session", "list", &id]), 0);
    let stats = run(&["session", "stats", &id]);
    assert!(stdout(expect(&stats, 0)).contains("active"));
    let missing = run(&["session", "kill", &id, "987654321", "--query"]);
    assert!(stderr(expect(&missing, 5)).contains("no session 987654321"));
    // SQL diagnostics: the monitor's own statements (inner) are sampled within seconds;
    // their text and plans; slow statements; the server's log and the agent's.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let top = loop {
        let found = json_of(expect(
            &run(&["-o", "json", "sql", "top", &id, "--inner", "--last", "10m"]),
            0,
        ));
        if found.as_array().is_some_and(|rows| !rows.is_empty()) {
            break found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no statements sampled"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let sql_id = top[0]["sqlId"].as_str().unwrap();
    assert!(!stdout(expect(&run(&["sql", "text", &id, sql_id]), 0)).is_empty());
    expect(&run(&["sql", "plan", &id, sql_id, "--last", "10m"]), 0);
    expect(&run(&["sql", "slow", &id, "--executions"]), 0);
    let bad = run(&["sql", "top", &id, "--search", "executions"]);
    assert!(stderr(expect(&bad, 2)).contains("FIELD:OP:VALUE"));
    let refused = run(&["sql", "top", &id, "--search", "executions:ABOUT:3"]);
    assert!(stderr(expect(&refused, 5)).contains("searchOp"));
    let logged = run(&["log", "search", &id, "--level", "INFO", "--limit", "3"]);
    assert!(stdout(expect(&logged, 0)).lines().count() >= 3);
    let agent_log = run(&[
        "log",
        "agent",
        &sb.host_id(0).to_string(),
        "--keyword",
        "started",
    ]);
    assert!(stdout(expect(&agent_log, 0)).contains("started"));
    let saved = cfg.path().join("seekdb.txt");
    let downloaded = run(&[
        "log",
        "search",
        &id,
        "--limit",
        "20",
        "--download",
        saved.to_str().unwrap(),
    ]);
    expect(&downloaded, 0);
    assert!(std::fs::read_to_string(&saved).unwrap().lines().count() >= 20);
    // What its agent's monitor collects, from the catalog and over the last minutes.
    let catalog = run(&["metric", "groups", "--scope", "CLUSTER"]);
    assert!(stdout(expect(&catalog, 0)).contains("ob_sql_qps"));
    let queried = run(&[
        "metric",
        "query",
        "host_load1,host_cpu_percent",
        "--last",
        "10m",
        "--group-by",
        "svr_ip",
    ]);
    let table = stdout(expect(&queried, 0));
    assert!(
        table.contains("host_load1") && table.contains("MEAN"),
        "{table}"
    );
    let unknown = run(&["metric", "query", "host_load1", "--group-by", "host_ip"]);
    assert!(stderr(expect(&unknown, 5)).contains("host_ip"));
    expect(
        &run(&["metric", "query", "host_load1", "--last", "a while"]),
        2,
    );

    // Parameters.
    expect(
        &run(&["param", "set", &id, "plan_cache_evict_interval=9s"]),
        0,
    );
    let params = run(&["param", "list", &id, "--name", "plan_cache_evict"]);
    assert!(stdout(expect(&params, 0)).contains("9s"));
    let refused = run(&["param", "set", &id, "plan_cache_evict_interval=soon"]);
    assert!(stderr(expect(&refused, 5)).contains("code 10001"));

    // Databases and users.
    expect(&run(&["db", "create", &id, "shop"]), 0);
    assert!(stdout(expect(&run(&["db", "list", &id]), 0)).contains("shop"));

    // The tenant: listed, shown, its variables read and set, its objects, its whitelist.
    assert!(stdout(expect(&run(&["tenant", "list"]), 0)).contains("sys"));
    let shown = json_of(&run(&["-o", "json", "tenant", "show", &id]));
    assert_eq!(shown["charset"], "utf8mb4", "{shown:#}");
    assert!(
        shown["zones"][0]["units"][0]["memorySize"]
            .as_i64()
            .unwrap()
            > 0
    );
    expect(
        &run(&["tenant", "set", &id, "ob_query_timeout=20000000"]),
        0,
    );
    let params = run(&["tenant", "params", &id, "--name", "ob_query_timeout"]);
    assert!(stdout(expect(&params, 0)).contains("20000000"));
    let refused = run(&["tenant", "set", &id, "version_comment=mine"]);
    assert!(stderr(expect(&refused, 5)).contains("code 10001"));
    let objects = run(&["tenant", "objects", &id, "--db", "shop"]);
    expect(&objects, 0);
    let whitelist = run(&["tenant", "whitelist", &id, "10.0.0.0/8"]);
    assert!(stdout(expect(&whitelist, 0)).contains("loopback"));
    expect(&run(&["tenant", "whitelist", &id, "%"]), 0);
    let user = run(&[
        "user",
        "create",
        &id,
        "clerk",
        "--password",
        "Clerk-Pw-1",
        "--grant",
        "shop:SELECT,INSERT",
    ]);
    expect(&user, 0);
    expect(&run(&["user", "grant", &id, "clerk", "shop:UPDATE"]), 0);
    expect(&run(&["user", "revoke", &id, "clerk", "shop:INSERT"]), 0);
    let users = json_of(&run(&["-o", "json", "user", "list", &id]));
    let clerk = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "clerk")
        .unwrap();
    let privileges = clerk["dbPrivileges"][0]["privileges"].to_string();
    assert!(
        privileges.contains("UPDATE") && !privileges.contains("INSERT"),
        "{privileges}"
    );
    expect(&run(&["user", "lock", &id, "clerk"]), 0);
    let users = json_of(&run(&["-o", "json", "user", "list", &id]));
    assert!(users
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["username"] == "clerk" && u["isLocked"] == true));
    expect(&run(&["user", "unlock", &id, "clerk"]), 0);
    expect(
        &run(&["user", "passwd", &id, "clerk", "--password", "Clerk-Pw-2"]),
        0,
    );
    expect(&run(&["user", "delete", &id, "clerk"]), 0);
    expect(&run(&["db", "delete", &id, "shop"]), 0);

    // A backup set taken now and restored into a new cluster, each waited for.
    let storage = ocp_testkit::temp_dir().unwrap();
    let storage_dir = storage.path().to_str().unwrap();
    let ability = run(&["backup", "ability", &id]);
    assert!(stdout(expect(&ability, 0)).contains("PHYSICAL_BACKUP"));
    let backed_up = run(&["backup", "now", &id, "--storage", storage_dir, "--wait"]);
    assert!(stderr(expect(&backed_up, 0)).contains("Verify backup set: SUCCESSFUL"));
    let sets = json_of(&run(&["-o", "json", "backup", "list", &id]));
    assert_eq!(sets[0]["status"], "DONE", "{sets:#}");
    let set = sets[0]["backupSetId"].to_string();
    assert!(stdout(expect(&run(&["backup", "list", &id]), 0)).contains("DONE"));
    let restore_port = free_port("0.0.0.0").unwrap().to_string();
    let restored = run(&[
        "backup",
        "restore",
        &id,
        "--set",
        &set,
        "--name",
        "cli2",
        "--host",
        &host,
        "--sql-port",
        &restore_port,
        "--wait",
    ]);
    assert!(stderr(expect(&restored, 0)).contains("Restore backup data: SUCCESSFUL"));
    let restores = json_of(&run(&["-o", "json", "backup", "restores", &id]));
    assert_eq!(restores[0]["status"], "RESTORE_SUCCESS", "{restores:#}");
    let copy = restores[0]["restoreClusterId"].to_string();
    let deleted = run(&["cluster", "delete", &copy, "--wait"]);
    assert!(stderr(expect(&deleted, 0)).contains("SUCCESSFUL"));
    // A logical set, one set shown, and a strategy set, shown and deleted.
    let dumped = run(&[
        "backup",
        "now",
        &id,
        "--storage",
        storage_dir,
        "--logical",
        "--wait",
    ]);
    assert!(stderr(expect(&dumped, 0)).contains("Verify backup set: SUCCESSFUL"));
    let sets = json_of(&run(&["-o", "json", "backup", "list", &id]));
    assert_eq!(sets[0]["backupMode"], "LOGICAL_BACKUP", "{sets:#}");
    let parsed = json_of(&run(&[
        "-o",
        "json",
        "backup",
        "info",
        &id,
        "--storage",
        storage_dir,
    ]));
    assert_eq!(parsed.as_array().unwrap().len(), 2, "{parsed:#}");
    assert!(stdout(expect(&run(&["backup", "info", &id]), 0)).contains("LOGICAL_BACKUP"));
    let shown = json_of(&run(&["-o", "json", "backup", "show", &id, &set]));
    assert_eq!(shown["backupMode"], "PHYSICAL_BACKUP", "{shown:#}");
    expect(&run(&["backup", "show", &id, "999999"]), 4);
    let strategy = json_of(&run(&[
        "-o",
        "json",
        "backup",
        "strategy",
        "set",
        &id,
        "--storage",
        storage_dir,
        "--days",
        "1,4",
        "--time",
        "03:30:00.000+08:00",
        "--retention-days",
        "7",
        "--paused",
    ]));
    assert_eq!(
        strategy["obBackupScheduleConfig"]["backupDataRetentionDays"], 7,
        "{strategy:#}"
    );
    let shown = json_of(&run(&["-o", "json", "backup", "strategy", "show", &id]));
    assert_eq!(
        shown["obBackupScheduleConfig"]["dayAndDataBackupModelMap"],
        serde_json::json!({"1": "FULL_BACKUP", "4": "FULL_BACKUP"})
    );
    expect(&run(&["backup", "strategy", "delete", &id]), 0);
    expect(&run(&["backup", "strategy", "show", &id]), 4);

    // A server stopped and started, then the cluster deleted, each waited for.
    let stopped = run(&["server", "stop", &id, &server, "--wait"]);
    assert!(stderr(expect(&stopped, 0)).contains("SUCCESSFUL"));
    let started = run(&["server", "start", &id, &server, "--wait"]);
    assert!(stderr(expect(&started, 0)).contains("Wait observer active: SUCCESSFUL"));
    let restarted = run(&["cluster", "restart", &id, "--wait"]);
    assert!(stderr(expect(&restarted, 0)).contains("SUCCESSFUL"));
    let deleted = run(&["cluster", "delete", &id, "--wait"]);
    assert!(stderr(expect(&deleted, 0)).contains("SUCCESSFUL"));
    expect(&run(&["cluster", "show", &id]), 4);
}

#[tokio::test]
async fn alerts_from_the_command_line() {
    let sb = Sandbox::start(ServerOptions::default(), 1, 300)
        .await
        .expect("sandbox");
    let config = ocp_testkit::temp_dir().unwrap();
    let run = |args: &[&str]| ocpctl(config.path(), sb.server.url(), args);
    let item = "host_agent_open_fd_count_over_threshold";

    let rules = json_of(&run(&["-o", "json", "alarm", "rule", "list"]));
    assert!(rules.as_array().unwrap().iter().any(|r| r["name"] == item));
    // The script runs as nobody when the tests run as root: it writes where nobody may.
    let shared = ocp_testkit::shared_dir().unwrap();
    let out = dir_file(&shared, "alerts.jsonl");
    let script = format!("cat >> {out}; echo >> {out}");
    let channel = json_of(&run(&[
        "-o",
        "json",
        "alarm",
        "channel",
        "add-script",
        "log",
        "--",
        "/bin/sh",
        "-c",
        &script,
    ]));
    let channel_id = channel["id"].to_string();
    expect(
        &run(&[
            "alarm",
            "subscribe",
            "--channel",
            &channel_id,
            "--type",
            item,
        ]),
        0,
    );
    let set = json_of(&run(&[
        "-o",
        "json",
        "alarm",
        "rule",
        "set",
        item,
        "--threshold",
        "1",
        "--interval",
        "1",
    ]));
    assert_eq!(set["expression"]["threshold"], 1.0);

    // The alert fires; the script channel gets it.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let active = loop {
        let list = json_of(&run(&["-o", "json", "alarm", "list", "--status", "Active"]));
        if list.as_array().unwrap().len() == 3 {
            break list;
        }
        assert!(std::time::Instant::now() < deadline, "never fired: {list}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let id = active[0]["id"].to_string();
    let table = stdout(expect(&run(&["alarm", "list"]), 0));
    assert!(table.contains(item), "{table}");
    let shown = json_of(&run(&["-o", "json", "alarm", "show", &id]));
    assert_eq!(shown["alarmType"], item);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let sent = json_of(&run(&[
            "-o",
            "json",
            "alarm",
            "notifications",
            "--alarm",
            &id,
        ]));
        if sent[0]["status"] == "Success" {
            assert_eq!(sent[0]["attempts"].as_array().unwrap().len(), 1);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never sent: {sent}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(std::fs::read_to_string(&out).unwrap().contains(item));

    // A blocking condition, listed, then lifted.
    let silencer = json_of(&run(&[
        "-o",
        "json",
        "alarm",
        "silence",
        "--type",
        item,
        "--match",
        "process=ocp_agentd",
        "--for",
        "2h",
        "--comment",
        "maintenance",
    ]));
    assert_eq!(silencer["inEffect"], true);
    let listed = stdout(expect(&run(&["alarm", "silencers"]), 0));
    assert!(listed.contains("maintenance"), "{listed}");
    let sid = silencer["id"].to_string();
    expect(&run(&["alarm", "unsilence", &sid]), 0);

    // Bad input: a usage error, an unknown item, a refused value.
    expect(
        &run(&["alarm", "silence", "--type", item, "--for", "soon"]),
        2,
    );
    expect(&run(&["alarm", "rule", "show", "no_such_item"]), 4);
    let refused = run(&["alarm", "rule", "set", item, "--interval", "0"]);
    expect(&refused, 5);
    assert!(stderr(&refused).contains("evaluationIntervalSeconds"));
    expect(&run(&["alarm", "rule", "set", item, "--disable"]), 0);
}

fn dir_file(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).display().to_string()
}
