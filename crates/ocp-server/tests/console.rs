//! The web console: served at `/` with its security headers, console sessions with their CSRF
//! rule, and the built console driven in a real Chromium (console/tests/browser.mjs).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use ocp_testkit::{ChildGroup, ADMIN_PASSWORD};
use reqwest::header;
use serde_json::{json, Value};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Logs in through the console's API; the session cookie and the CSRF token.
async fn log_in(base: &str, user: &str, password: &str) -> (String, String) {
    let reply = client()
        .post(format!("{base}/api/v2/iam/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let cookie = reply
        .headers()
        .get(header::SET_COOKIE)
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let body: Value = reply.json().await.unwrap();
    let pair = cookie.split(';').next().unwrap().to_string();
    (
        pair,
        body["data"]["csrfToken"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn sessions_need_their_csrf_token_and_end_with_logout_or_a_new_password() {
    let server = common::server();
    let base = server.url().to_string();
    let admin = server.admin();
    let password = common::user_with_roles(&server, "ops", &["HOST_VIEWER"]).await;

    // A wrong password is refused, counted and recorded; no cookie is set.
    let refused = client()
        .post(format!("{base}/api/v2/iam/login"))
        .json(&json!({"username": "ops", "password": "wrong-one-123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert!(refused.headers().get(header::SET_COOKIE).is_none());
    assert!(refused.headers().get(header::WWW_AUTHENTICATE).is_none());

    // Behind a proxy that ends TLS, the cookie is Secure.
    let proxied = client()
        .post(format!("{base}/api/v2/iam/login"))
        .header("x-forwarded-proto", "https")
        .json(&json!({"username": "ops", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), 200);
    assert!(proxied.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .ends_with("; Secure"));

    let (cookie, csrf) = log_in(&base, "ops", &password).await;
    let with_cookie = |method: reqwest::Method, path: &str| {
        client()
            .request(method, format!("{base}{path}"))
            .header(header::COOKIE, &cookie)
    };
    let session: Value = with_cookie(reqwest::Method::GET, "/api/v2/iam/session")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(session["data"]["username"], "ops");
    assert_eq!(session["data"]["csrfToken"], csrf.as_str());
    assert_eq!(session["data"]["idleTimeoutSeconds"], 1800);
    assert!(session["data"]["permissions"]
        .as_array()
        .unwrap()
        .contains(&json!("HOST:*:READ")));
    let hosts = with_cookie(reqwest::Method::GET, "/api/v2/compute/hosts")
        .send()
        .await
        .unwrap();
    assert_eq!(hosts.status(), 200);

    // A state-changing call without the token is refused and changes nothing; with it, the
    // caller's permissions decide.
    let join_token =
        || with_cookie(reqwest::Method::POST, "/api/v2/compute/agentJoinTokens").json(&json!({}));
    let forged = join_token().send().await.unwrap();
    assert_eq!(forged.status(), 403);
    let body: Value = forged.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("CSRF"));
    let wrong = join_token()
        .header("x-ocp-csrf", "0".repeat(64))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    let allowed_but_not_permitted = join_token()
        .header("x-ocp-csrf", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(allowed_but_not_permitted.status(), 403);
    let body: Value = allowed_but_not_permitted.json().await.unwrap();
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("lacks permission"));

    // Basic callers are untouched by the CSRF rule.
    let basic = admin
        .post("/api/v2/compute/agentJoinTokens", &json!({}))
        .await;
    assert_eq!(basic.status, 200, "{}", basic.text);

    // A new password set by a manager ends the user's sessions.
    let users = admin.get("/api/v2/iam/users?size=100").await.ok();
    let id = users.data()["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "ops")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    admin
        .post(
            &format!("/api/v2/iam/users/{id}/changePassword"),
            &json!({"newPassword": "Another-Pass-123"}),
        )
        .await
        .ok();
    let ended = with_cookie(reqwest::Method::GET, "/api/v2/iam/session")
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), 401);

    // Logout ends a session at once.
    let (cookie, csrf) = log_in(&base, "ops", "Another-Pass-123").await;
    let logout = client()
        .post(format!("{base}/api/v2/iam/logout"))
        .header(header::COOKIE, &cookie)
        .header("x-ocp-csrf", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 200);
    assert!(logout.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let after = client()
        .get(format!("{base}/api/v2/iam/session"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);

    // Every login is in the history, with its result.
    let history = admin
        .get("/api/v2/iam/loginHistory?username=ops")
        .await
        .ok();
    let results: Vec<bool> = history.data()["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["successful"].as_bool().unwrap())
        .collect();
    assert_eq!(results, vec![true, true, true, false]);
    let viewer = server.client("ops", "Another-Pass-123");
    assert_eq!(viewer.get("/api/v2/iam/loginHistory").await.status, 403);
}

#[tokio::test]
async fn the_console_is_served_at_the_root_and_the_api_stays_enveloped() {
    let server = common::server();
    let base = server.url();
    let index = client()
        .get(format!("{base}/tasks/7"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        index.status(),
        200,
        "build the console first (npm run build)"
    );
    let headers = index.headers().clone();
    let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(policy.starts_with("default-src 'self'"), "{policy}");
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    assert!(headers.get(header::WWW_AUTHENTICATE).is_none());
    let html = index.text().await.unwrap();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap();
    assert!(
        html.contains(nonce),
        "index.html carries its response's nonce"
    );
    let script = html
        .split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    let asset = client()
        .get(format!("{base}{script}"))
        .send()
        .await
        .unwrap();
    assert_eq!(asset.status(), 200);
    assert_eq!(
        asset.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert!(asset.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .contains("javascript"));
    let missing = client()
        .get(format!("{base}/assets/none-such.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // An unknown API path is still the API's 404 envelope.
    let api = server.admin().get("/api/v2/no/such/path").await;
    assert_eq!((api.status, api.error_code()), (404, 10002));
}

/// Every browser process of one run carries this marker among its arguments.
struct Browser {
    node: ChildGroup,
    marker: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.node.kill();
        // Playwright starts the browser in a process group of its own.
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains(&self.marker) {
                if let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() {
                    let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
                }
            }
        }
    }
}

/// Runs one of the console's browser scripts (`console/tests/*.mjs`) with `env`; fails the
/// test with its output unless it passes. Answers where its screenshots are.
async fn run_browser(script: &str, env: &[(&str, String)]) -> std::path::PathBuf {
    let console = repo().join("console");
    assert!(
        console.join("dist/index.html").exists() && console.join("node_modules").exists(),
        "the console is built by README's test command (npm ci && npm run build in console/)"
    );
    let screenshots = console.join("test-output/screenshots");
    let marker = format!("ocp-console-test-{}-{script}", std::process::id());
    let mut command = Command::new("node");
    command
        .arg(script)
        .current_dir(&console)
        .env("OCP_SCREENSHOTS", &screenshots)
        .env("OCP_BROWSER_MARKER", &marker)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let node = ChildGroup::spawn("node", command).expect("node runs (apt-get install nodejs)");
    let mut browser = Browser { node, marker };
    let child = browser.node.child_mut().unwrap();
    let (stdout, stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let output = tokio::task::spawn_blocking(move || {
        use std::io::Read as _;
        let (mut out, mut err) = (String::new(), String::new());
        let _ = { stdout }.read_to_string(&mut out);
        let _ = { stderr }.read_to_string(&mut err);
        (out, err)
    });
    let (out, err) = tokio::time::timeout(Duration::from_secs(420), output)
        .await
        .expect("the browser run ends within 7 minutes")
        .unwrap();
    let status = browser.node.child_mut().unwrap().wait().unwrap();
    assert!(
        status.success(),
        "{script} failed (screenshots in {}):\n{out}\n{err}",
        screenshots.display()
    );
    screenshots
}

#[tokio::test]
async fn the_console_works_in_a_real_browser() {
    let port = ocp_testkit::free_port("127.0.0.1").unwrap();
    let server = common::server_with(&["--local-agent", &format!("127.0.0.1:{port}")]);
    let admin = server.admin();
    admin
        .poll("/api/v2/compute/hosts", Duration::from_secs(60), |d| {
            d["contents"][0]["status"] == "AVAILABLE"
        })
        .await
        .unwrap_or_else(|last| panic!("the local agent never joined: {last:#}"));
    let viewer_password = common::user_with_roles(&server, "viewer", &["HOST_VIEWER"]).await;
    let host_id = admin.get("/api/v2/compute/hosts").await.ok().data()["contents"][0]["id"]
        .as_i64()
        .unwrap();
    // A task that fails until a file exists: the browser reads why, makes it, and retries.
    let files = tempfile::Builder::new()
        .prefix("ocp-console-")
        .tempdir()
        .unwrap();
    let gate = files.path().join("gate");
    let failed = admin
        .post(
            "/api/v2/debug/tasks",
            &json!({"name": "Gated", "steps": [
                common::step("Create a", "createFile", Some(&files.path().join("a")), &[]),
                common::step("Wait for gate", "failUnlessFile", Some(&gate), &[0]),
                common::step("Create c", "createFile", Some(&files.path().join("c")), &[1]),
            ]}),
        )
        .await
        .ok();
    let failed_id = failed.data()["id"].as_i64().unwrap();
    assert_eq!(
        admin.wait_task(failed_id, Duration::from_secs(60)).await["status"],
        "FAILED"
    );
    let screenshots = run_browser(
        "tests/browser.mjs",
        &[
            ("OCP_URL", server.url().to_string()),
            ("OCP_ADMIN_PASSWORD", ADMIN_PASSWORD.to_string()),
            ("OCP_VIEWER", "viewer".to_string()),
            ("OCP_VIEWER_PASSWORD", viewer_password),
            ("OCP_FAILED_TASK", failed_id.to_string()),
            ("OCP_GATE", gate.display().to_string()),
            ("OCP_HOST_ID", host_id.to_string()),
        ],
    )
    .await;
    for page in [
        "login-refused",
        "overview",
        "hosts",
        "add-host",
        "host",
        "tasks",
        "task-retried",
        "agent-restart",
        "packages",
        "users",
        "roles",
        "logon-history",
        "account",
        "viewer",
    ] {
        assert!(screenshots.join(format!("{page}.png")).exists(), "{page}");
    }
}

/// The cluster pages against a real seekdb: deploy through the wizard, topology, a server
/// restart, a parameter change, databases, users and privileges, the cluster's tasks, a
/// viewer's read-only pages; alerts: a lowered threshold fires, the header counts it, a
/// blocking condition made from the event silences it, a channel's test reaches a receiver;
/// delete.
#[tokio::test]
async fn the_cluster_pages_work_in_a_real_browser() {
    let wheel = ocp_testkit::seekdb_wheel().expect("the seekdb wheel");
    let port = ocp_testkit::free_port("127.0.0.1").unwrap();
    let server = common::server_with(&[
        "--local-agent",
        &format!("127.0.0.1:{port}"),
        "--ob-status-interval-ms",
        "1000",
        "--alarm-http-allow",
        "127.0.0.1",
    ]);
    let admin = server.admin();
    admin
        .poll("/api/v2/compute/hosts", Duration::from_secs(60), |d| {
            d["contents"][0]["status"] == "AVAILABLE"
        })
        .await
        .unwrap_or_else(|last| panic!("the local agent never joined: {last:#}"));
    admin.upload_package(&wheel).await.ok();
    let viewer_password = common::user_with_roles(&server, "dba", &["CLUSTER_VIEWER"]).await;
    let sql_port = ocp_testkit::free_port("0.0.0.0").unwrap();
    let screenshots = run_browser(
        "tests/clusters.mjs",
        &[
            ("OCP_URL", server.url().to_string()),
            ("OCP_ADMIN_PASSWORD", ADMIN_PASSWORD.to_string()),
            ("OCP_VIEWER", "dba".to_string()),
            ("OCP_VIEWER_PASSWORD", viewer_password),
            ("OCP_SQL_PORT", sql_port.to_string()),
        ],
    )
    .await;
    // The browser deleted the cluster: nothing is left running.
    let clusters = admin.get("/api/v2/ob/clusters").await.ok();
    assert_eq!(clusters.data()["page"]["totalElements"], 0);
    for page in [
        "cluster-wizard",
        "cluster-deploy",
        "clusters",
        "cluster",
        "server-restart",
        "cluster-parameters",
        "cluster-databases",
        "cluster-db-user",
        "cluster-db-privileges",
        "cluster-db-user-locked",
        "cluster-tasks",
        "cluster-performance",
        "monitor",
        "cluster-viewer",
        "alert-items",
        "alert-events",
        "alert-silenced",
        "alert-channel-test",
        "alerts-viewer",
        "cluster-delete",
    ] {
        assert!(screenshots.join(format!("{page}.png")).exists(), "{page}");
    }
}
