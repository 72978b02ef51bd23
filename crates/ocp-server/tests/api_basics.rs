//! The envelope, the small endpoints, bad input of every class, identity and permissions.

mod common;

use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

const ENVELOPE_KEYS: &[&str] = &[
    "duration",
    "server",
    "status",
    "successful",
    "timestamp",
    "traceId",
];

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

fn assert_error(reply: &ocp_testkit::Reply, status: u16, code: i64) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(reply.body["successful"], false, "{}", reply.text);
    assert_eq!(reply.body["status"], status);
    assert_eq!(reply.error_code(), code, "{}", reply.text);
    assert!(reply.body.get("data").is_none());
    for key in ENVELOPE_KEYS {
        assert!(reply.body.get(*key).is_some(), "{key} in {}", reply.text);
    }
}

#[tokio::test]
async fn with_log_format_json_each_log_line_is_an_object_and_links_use_the_public_url() {
    let server = common::server_with(&[
        "--log-format",
        "json",
        "--public-url",
        "https://ocp.example.com/",
    ]);
    let admin = server.admin();
    let info = admin.get("/api/v2/info").await.ok();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = std::fs::read_to_string(server.log_path()).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let trace = info.body["traceId"].as_str().unwrap();
    assert!(
        lines.iter().any(|l| l["fields"]["trace_id"] == trace),
        "{log}"
    );
    // A package's link starts with the public URL.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tool-1.0.0-1.el7.x86_64.rpm");
    std::fs::write(&file, b"not really an rpm").unwrap();
    let uploaded = admin.upload_package(&file).await.ok();
    let link = uploaded.data()["downloadUrl"].as_str().unwrap();
    assert!(
        link.starts_with("https://ocp.example.com/api/v2/software-packages/"),
        "{link}"
    );
    // A public URL that is not one stops the server at start.
    let mut bad = common::options();
    bad.extra_args = vec!["--public-url".into(), "ftp://x".into()];
    assert!(ocp_testkit::ServerProcess::start(bad).is_err());
}

#[tokio::test]
async fn envelope_and_small_endpoints() {
    let server = common::server();
    let admin = server.admin();
    let info = admin.get("/api/v2/info").await.ok();
    let mut expected: Vec<String> = ENVELOPE_KEYS.iter().map(|s| s.to_string()).collect();
    expected.push("data".into());
    expected.sort();
    assert_eq!(keys(&info.body), expected);
    assert_eq!(info.data()["name"], "ocp-server");
    for key in [
        "artifact",
        "buildJavaVersion",
        "buildTime",
        "buildVersion",
        "group",
        "springBootVersion",
    ] {
        assert!(info.data().get(key).is_some(), "info has {key}");
    }
    let ts = info.body["timestamp"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(ts).is_ok() && ts.len() == 29,
        "millis and offset: {ts}"
    );
    assert_eq!(info.body["server"], "127.0.0.1");
    let other = admin.get("/api/v2/info").await.ok();
    assert_ne!(
        info.body["traceId"], other.body["traceId"],
        "a fresh traceId per request"
    );
    // The trace id is in that request's log line.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = std::fs::read_to_string(server.log_path()).unwrap();
    assert!(log.contains(other.body["traceId"].as_str().unwrap()));

    let time = admin.anonymous().get("/api/v2/time").await;
    assert_eq!(time.status, 200);
    assert!(
        chrono::DateTime::parse_from_rfc3339(time.text.trim()).is_ok(),
        "{}",
        time.text
    );
    let status = admin
        .get("/api/status?includeUnavailableComponent=true")
        .await;
    assert_eq!((status.status, status.text.as_str()), (200, "okay"));
    assert_error(&admin.anonymous().get("/api/status").await, 401, 10008);
}

#[tokio::test]
async fn bad_input_is_refused_in_the_envelope() {
    let server = common::server();
    let admin = server.admin();
    assert_error(&admin.get("/api/v2/nothing/here").await, 404, 10002);
    assert_error(&admin.delete("/api/v2/info").await, 405, 10005);
    // An action no route knows is an unknown path, whatever the resource it names (the
    // resource is looked up only by a route that matched).
    for path in [
        "/api/v2/iam/users/1/fly",
        "/api/v2/ob/clusters/1/fly",
        "/api/v2/ob/clusters/424242/fly",
        "/api/v2/ob/clusters/1/zones/zone1/fly",
        "/api/v2/ob/clusters/1/servers/1/fly",
        "/api/v2/ob/clusters/1/tenants/1/users/root/fly",
        "/api/v2/ob/clusters/1/tenants/1/fly",
        "/api/v2/tasks/instances/1/fly",
    ] {
        let reply = admin.post(path, &serde_json::json!({})).await;
        assert_error(&reply, 404, 10002);
        assert_eq!(
            reply.body["error"]["message"], "no such API path",
            "{path}: {}",
            reply.text
        );
    }
    let bad_id = admin.get("/api/v2/tasks/instances/abc").await;
    assert_error(&bad_id, 400, 10001);
    assert_eq!(
        bad_id.body["error"]["subErrors"][0]["field"],
        "taskInstanceId"
    );
    assert_error(
        &admin.get("/api/v2/tasks/instances/424242").await,
        404,
        20000,
    );
    for (query, field) in [
        ("size=0", "size"),
        ("size=2001", "size"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("sort=bogus,asc", "sort"),
        ("sort=id,sideways", "sort"),
        ("status=DONE", "status"),
        ("hostId=h", "hostId"),
        ("type=X", "type"),
    ] {
        let reply = admin.get(&format!("/api/v2/tasks/instances?{query}")).await;
        assert_error(&reply, 400, 10001);
        assert_eq!(
            reply.body["error"]["subErrors"][0]["field"], field,
            "{query}: {}",
            reply.text
        );
    }
    // Malformed JSON, wrong types, missing and unknown fields, wrong content type.
    let raw = admin.raw();
    let auth = (
        "authorization",
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("admin:{}", ocp_testkit::ADMIN_PASSWORD))
        ),
    );
    let post = |body: &'static str, ctype: &'static str| {
        raw.post(format!("{}/api/v2/iam/users", admin.base()))
            .header(auth.0, auth.1.clone())
            .header("content-type", ctype)
            .body(body)
            .send()
    };
    let r = post("{\"username\": ", "application/json").await.unwrap();
    assert_eq!(r.status(), 400);
    let r: Value = post("{\"username\": 5, \"password\": \"x\"}", "application/json")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["error"]["subErrors"][0]["field"], "username", "{r}");
    let r: Value = post("{\"username\": \"bob\"}", "application/json")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["error"]["subErrors"][0]["field"], "password", "{r}");
    let r: Value = post(
        "{\"username\": \"bob\", \"password\": \"Secret-123\", \"colour\": 1}",
        "application/json",
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(r["error"]["subErrors"][0]["field"], "colour", "{r}");
    let r = post("{}", "text/plain").await.unwrap();
    assert_eq!(r.status(), 415);
    let r = admin
        .post(
            "/api/v2/iam/users",
            &json!({"username": "bob", "password": "short"}),
        )
        .await;
    assert_error(&r, 400, 10001);
    assert_eq!(r.body["error"]["subErrors"][0]["field"], "password");
    // None of that created anything.
    let users = admin.get("/api/v2/iam/users").await.ok();
    assert_eq!(users.data()["page"]["totalElements"], 1);
}

#[tokio::test]
async fn users_roles_and_permissions() {
    let server = common::server();
    let admin = server.admin();
    let anonymous = admin.anonymous();
    assert_error(&anonymous.get("/api/v2/tasks/instances").await, 401, 10008);
    assert_error(
        &server.client("admin", "wrong").get("/api/v2/info").await,
        401,
        10008,
    );
    assert_error(
        &server.client("nobody", "wrong").get("/api/v2/info").await,
        401,
        10008,
    );

    let viewer_pw = common::user_with_roles(&server, "viewer", &["CLUSTER_VIEWER"]).await;
    let viewer = server.client("viewer", &viewer_pw);
    viewer.get("/api/v2/tasks/instances").await.ok();
    assert_error(
        &viewer.post_empty("/api/v2/tasks/instances/1/retry").await,
        403,
        10004,
    );
    assert_error(&viewer.get("/api/v2/iam/users").await, 403, 10004);
    assert_error(
        &viewer
            .post("/api/v2/debug/tasks", &json!({"name": "x", "steps": []}))
            .await,
        403,
        10004,
    );

    let host_pw = common::user_with_roles(&server, "hosts", &["HOST_MANAGER"]).await;
    let hosts = server.client("hosts", &host_pw);
    assert_error(&hosts.get("/api/v2/tasks/instances").await, 403, 10004);

    let task_pw = common::user_with_roles(&server, "tasker", &["TASK_MANAGER"]).await;
    let tasker = server.client("tasker", &task_pw);
    assert_error(
        &tasker
            .post_empty("/api/v2/tasks/instances/424242/retry")
            .await,
        404,
        20000,
    );

    // Custom roles: created, granted, refused when built-in.
    let role = admin
        .post(
            "/api/v2/iam/roles",
            &json!({"name": "READERS", "permissions": ["TASK:*:READ", "USER:*:READ"]}),
        )
        .await
        .ok();
    let role_id = role.data()["id"].as_i64().unwrap();
    assert_error(
        &admin
            .post(
                "/api/v2/iam/roles",
                &json!({"name": "READERS", "permissions": ["TASK:*:READ"]}),
            )
            .await,
        409,
        10003,
    );
    let bad = admin
        .post(
            "/api/v2/iam/roles",
            &json!({"name": "BAD", "permissions": ["nonsense"]}),
        )
        .await;
    assert_eq!(bad.body["error"]["subErrors"][0]["field"], "permissions[0]");
    let builtin = admin.get("/api/v2/iam/roles?size=100").await.ok();
    let admin_role = builtin.data()["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "ADMIN")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_error(
        &admin
            .delete(&format!("/api/v2/iam/roles/{admin_role}"))
            .await,
        409,
        10006,
    );
    let viewer_id = admin
        .get("/api/v2/iam/users?sort=username,desc")
        .await
        .ok()
        .data()["contents"][0]["id"]
        .as_i64()
        .unwrap();
    admin
        .put(
            &format!("/api/v2/iam/users/{viewer_id}"),
            &json!({"roleIds": [role_id]}),
        )
        .await
        .ok();
    viewer.get("/api/v2/iam/users").await.ok();
    assert_error(
        &admin.delete(&format!("/api/v2/iam/roles/{role_id}")).await,
        409,
        10006,
    );

    // Passwords: own change needs the old one; lock shuts the door.
    let me = viewer.get("/api/v2/iam/users/me").await.ok();
    assert_eq!(me.data()["username"], "viewer");
    assert!(
        !me.text.contains("password") && !me.text.contains("argon2"),
        "{}",
        me.text
    );
    let r = viewer
        .post(
            &format!("/api/v2/iam/users/{viewer_id}/changePassword"),
            &json!({"newPassword": "Another-1234"}),
        )
        .await;
    assert_eq!(r.body["error"]["subErrors"][0]["field"], "oldPassword");
    viewer
        .post(
            &format!("/api/v2/iam/users/{viewer_id}/changePassword"),
            &json!({"oldPassword": viewer_pw, "newPassword": "Another-1234"}),
        )
        .await
        .ok();
    assert_error(&viewer.get("/api/v2/iam/users/me").await, 401, 10008);
    let viewer = server.client("viewer", "Another-1234");
    viewer.get("/api/v2/iam/users/me").await.ok();
    admin
        .post_empty(&format!("/api/v2/iam/users/{viewer_id}/lock"))
        .await
        .ok();
    assert_error(&viewer.get("/api/v2/iam/users/me").await, 401, 10008);
    admin
        .post_empty(&format!("/api/v2/iam/users/{viewer_id}/unlock"))
        .await
        .ok();
    viewer.get("/api/v2/iam/users/me").await.ok();
    assert_error(&admin.delete("/api/v2/iam/users/1").await, 409, 10006);
    admin
        .delete(&format!("/api/v2/iam/users/{viewer_id}"))
        .await
        .ok();
    assert_error(&viewer.get("/api/v2/iam/users/me").await, 401, 10008);

    // No password or hash in the log.
    let log = std::fs::read_to_string(server.log_path()).unwrap();
    for secret in [
        ocp_testkit::ADMIN_PASSWORD,
        "Another-1234",
        viewer_pw.as_str(),
        "argon2",
    ] {
        assert!(!log.contains(secret), "the log shows {secret}");
    }
}

#[tokio::test]
async fn throttling() {
    let server = common::server_with(&["--login-max-attempts", "3"]);
    let admin = server.admin();
    for _ in 0..3 {
        assert_error(
            &server.client("admin", "wrong").get("/api/v2/info").await,
            401,
            10008,
        );
    }
    let locked = admin.get("/api/v2/info").await;
    assert_error(&locked, 429, 0);
    assert!(locked.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("failed logins"));

    let server = common::server();
    let admin = server.admin();
    admin
        .post("/api/v2/iam/users", &json!({"username": "busy", "password": "Busy-12345", "roleIds": [], "rateLimit": {"limit": 3, "windowSeconds": 10}}))
        .await
        .ok();
    let bad = admin.post("/api/v2/iam/users", &json!({"username": "odd", "password": "Busy-12345", "rateLimit": {"limit": 3, "windowSeconds": 7}})).await;
    assert_eq!(
        bad.body["error"]["subErrors"][0]["field"],
        "rateLimit.windowSeconds"
    );
    let busy = server.client("busy", "Busy-12345");
    for remaining in (0..3).rev() {
        let r = busy.get("/api/v2/iam/users/me").await.ok();
        assert_eq!(r.headers["ratelimit-limit"], "3");
        assert_eq!(
            r.headers["ratelimit-remaining"],
            remaining.to_string().as_str()
        );
    }
    let refused = busy.get("/api/v2/iam/users/me").await;
    assert_error(&refused, 429, 0);
    assert_eq!(refused.headers["ratelimit-remaining"], "0");
    let reset: u64 = refused.headers["ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&reset));
    admin.get("/api/v2/iam/users/me").await.ok();
}

#[tokio::test]
async fn access_keys_sign_requests() {
    let server = common::server();
    let admin = server.admin();
    let created = admin
        .post_empty("/api/v2/iam/users/me/accessKeys")
        .await
        .ok();
    let ak = created.data()["accessKeyId"].as_str().unwrap().to_string();
    let sk = created.data()["accessKeySecret"]
        .as_str()
        .unwrap()
        .to_string();
    let listed = admin.get("/api/v2/iam/users/me/accessKeys").await.ok();
    assert!(!listed.text.contains(&sk), "the secret is shown once only");
    let sign = |method: &str, path: &str, date: &str, secret: &str| {
        let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{method}\n\n\n{date}\n{path}").as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    };
    let call = |date: String, signature: String| {
        let anonymous = admin.anonymous();
        let ak = ak.clone();
        async move {
            anonymous
                .send(
                    reqwest::Method::GET,
                    "/api/v2/info",
                    None,
                    &[
                        (
                            "authorization",
                            &format!("OCP-ACCESS-KEY-HMACSHA1 {ak}:{signature}"),
                        ),
                        ("date", &date),
                    ],
                )
                .await
        }
    };
    let now = chrono::Utc::now().to_rfc2822();
    call(now.clone(), sign("GET", "/api/v2/info", &now, &sk))
        .await
        .ok();
    assert_error(
        &call(
            now.clone(),
            sign("GET", "/api/v2/info", &now, "wrong-secret"),
        )
        .await,
        401,
        10008,
    );
    assert_error(
        &call(now.clone(), sign("GET", "/api/v2/time", &now, &sk)).await,
        401,
        10008,
    );
    let stale = (chrono::Utc::now() - chrono::Duration::minutes(16)).to_rfc2822();
    assert_error(
        &call(stale.clone(), sign("GET", "/api/v2/info", &stale, &sk)).await,
        401,
        10008,
    );
    let log = std::fs::read_to_string(server.log_path()).unwrap();
    assert!(!log.contains(&sk));
}

#[test]
fn help_documents_every_option() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ocp-server"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for option in [
        "--listen",
        "--data-dir",
        "--metadb",
        "--config",
        "--admin-password",
        "--master-key",
        "--task-lease-ms",
        "--login-max-attempts",
        "--rate-limit",
        "--sqlite-sync",
        "OCP_LISTEN",
        "OCP_METADB",
    ] {
        assert!(help.contains(option), "--help mentions {option}");
    }
}

#[tokio::test]
async fn every_builtin_role_gets_exactly_its_permissions() {
    let server = common::server();
    let admin = server.admin();
    let roles = admin.get("/api/v2/iam/roles?size=100").await.ok();
    let roles: Vec<(String, Vec<String>)> = roles.data()["contents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["builtIn"] == true)
        .map(|r| {
            let perms = r["permissions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_string())
                .collect();
            (r["name"].as_str().unwrap().to_string(), perms)
        })
        .collect();
    assert!(roles.len() >= 20, "OCP's default roles are built in");
    for (name, perms) in roles {
        let user = format!("u-{}", name.to_lowercase().replace('_', "-"));
        let password = common::user_with_roles(&server, &user, &[&name]).await;
        let client = server.client(&user, &password);
        let has = |needed: &[&str]| perms.iter().any(|p| needed.contains(&p.as_str()));
        let checks = [
            (
                client.get("/api/v2/tasks/instances").await,
                has(&["**", "TASK:*:*", "TASK:*:READ"]),
            ),
            (
                client
                    .post_empty("/api/v2/tasks/instances/424242/retry")
                    .await,
                has(&["**", "TASK:*:*"]),
            ),
            (
                client.get("/api/v2/iam/users").await,
                has(&["**", "USER:*:*", "USER:*:READ"]),
            ),
            (
                client.get("/api/v2/iam/roles").await,
                has(&["**", "ROLE:*:*", "ROLE:*:READ", "USER:*:*"]) || name == "USER_MANAGER",
            ),
        ];
        for (i, (reply, allowed)) in checks.iter().enumerate() {
            if *allowed {
                assert_ne!(reply.status, 403, "{name} check {i}: {}", reply.text);
            } else {
                assert_error(reply, 403, 10004);
            }
        }
        client.get("/api/v2/iam/users/me").await.ok();
    }
}

#[tokio::test]
async fn a_lost_admin_password_is_reset_on_the_servers_host() {
    let mut server = common::server();
    let base = server.url().to_string();
    let login = |password: String| {
        let base = base.clone();
        async move {
            reqwest::Client::new()
                .post(format!("{base}/api/v2/iam/login"))
                .json(&json!({"username": "admin", "password": password}))
                .send()
                .await
                .unwrap()
        }
    };
    let before = login(ocp_testkit::ADMIN_PASSWORD.into()).await;
    let cookie = before.headers()["set-cookie"].to_str().unwrap();
    let session = cookie.split(';').next().unwrap().to_string();
    let session_of = |base: String, session: String| async move {
        reqwest::Client::new()
            .get(format!("{base}/api/v2/iam/session"))
            .header("cookie", session)
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(session_of(base.clone(), session.clone()).await, 200);

    // Without a metadb there is nothing to reset, and nothing is made.
    let empty = tempfile::tempdir().unwrap();
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_ocp-server"))
        .args(["reset-admin-password", "--data-dir"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no metadb"));
    assert!(std::fs::read_dir(empty.path()).unwrap().next().is_none());

    server.terminate();
    let reset = std::process::Command::new(env!("CARGO_BIN_EXE_ocp-server"))
        .args(["reset-admin-password", "--data-dir"])
        .arg(server.data_dir())
        .env_remove("OCP_ADMIN_PASSWORD")
        .output()
        .unwrap();
    assert!(reset.status.success(), "{reset:?}");
    let printed = String::from_utf8_lossy(&reset.stdout).to_string();
    let password = printed
        .split_once("admin's new password: ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no password in {printed:?}"))
        .to_string();
    server.restart().unwrap();
    // The new password logs in; the old one and admin's console session are gone.
    assert_eq!(login(password.clone()).await.status(), 200);
    assert_eq!(
        login(ocp_testkit::ADMIN_PASSWORD.into()).await.status(),
        401
    );
    assert_eq!(session_of(base.clone(), session).await, 401);
    let info = server
        .client("admin", &password)
        .get("/api/v2/iam/session")
        .await;
    assert_eq!(info.status, 200, "{}", info.text);
}

#[tokio::test]
async fn obproxy_calls_check_the_caller_and_their_input_then_answer_10011() {
    let server = common::server();
    let admin = server.admin();
    let refused = |reply: &ocp_testkit::Reply| {
        assert_error(reply, 400, 10011);
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("OBProxy is not supported yet"),
            "{}",
            reply.text
        );
    };
    // The documented samples, each of the fourteen operations.
    let create = json!({
        "obproxyInstallParam": {"hostIds": []},
        "obLinks": [{"clusterName": "hooray", "clusterId": 1, "username": "proxyro", "obClusterId": 1}],
        "name": "OBProxy001", "address": "foo.bar", "port": 2883, "workMode": "CONFIG_URL"
    });
    let link =
        json!([{"username": "proxyro", "clusterId": 1, "obClusterId": 1, "clusterName": "hooray"}]);
    let add = json!({"hostIds": [2], "sqlPort": 2883, "exporterPort": 2884,
                     "version": "obproxy-1.9.1.1-1919579.el7.x86_64.rpm"});
    let take_over = json!({"hosts": [{"hostId": 1, "sqlPort": 2883}]});
    let patch = json!({"address": "foo.bar", "port": 2883});
    refused(&admin.post("/api/v2/obproxy/clusters", &create).await);
    refused(&admin.get("/api/v2/obproxy/clusters?page=1&size=10").await);
    refused(&admin.get("/api/v2/obproxy/clusters/1").await);
    refused(
        &admin
            .send(
                reqwest::Method::PATCH,
                "/api/v2/obproxy/clusters/1",
                Some(&patch),
                &[],
            )
            .await,
    );
    refused(&admin.delete("/api/v2/obproxy/clusters/27").await);
    refused(
        &admin
            .post("/api/v2/obproxy/clusters/1/obproxies/batchAdd", &add)
            .await,
    );
    refused(
        &admin
            .delete("/api/v2/obproxy/clusters/1/obproxies/1,2,3,4")
            .await,
    );
    refused(
        &admin
            .post_empty("/api/v2/obproxy/clusters/1/obproxies/2/restart")
            .await,
    );
    refused(
        &admin
            .post_empty("/api/v2/obproxy/clusters/1/obproxies/2/upgrade")
            .await,
    );
    refused(
        &admin
            .post("/api/v2/obproxy/clusters/1/takeOver", &take_over)
            .await,
    );
    refused(
        &admin
            .post("/api/v2/obproxy/clusters/1/obLinks/batchAdd", &link)
            .await,
    );
    refused(
        &admin
            .delete("/api/v2/obproxy/clusters/1/obLinks/obcluster")
            .await,
    );
    refused(&admin.get("/api/v2/obproxy/clusters/3/parameters").await);
    refused(
        &admin
            .get("/api/v2/obproxy/parameterInfo?name=rootservice_list")
            .await,
    );

    // Bad input is named first.
    let field_of = |reply: &ocp_testkit::Reply| {
        assert_error(reply, 400, 10001);
        reply.body["error"]["subErrors"][0]["field"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let mut nameless = create.clone();
    nameless["name"] = json!(" ");
    let mut bad_port = create.clone();
    bad_port["port"] = json!(70000);
    let mut two_links = create.clone();
    two_links["workMode"] = json!("RS_LIST");
    two_links["obLinks"] = json!([create["obLinks"][0], create["obLinks"][0]]);
    let mut bad_mode = create.clone();
    bad_mode["workMode"] = json!("DNS");
    for (body, field) in [
        (nameless, "name"),
        (bad_port, "port"),
        (two_links, "obLinks"),
    ] {
        assert_eq!(
            field_of(&admin.post("/api/v2/obproxy/clusters", &body).await),
            field
        );
    }
    assert_error(
        &admin.post("/api/v2/obproxy/clusters", &bad_mode).await,
        400,
        10001,
    );
    assert_eq!(
        field_of(
            &admin
                .delete("/api/v2/obproxy/clusters/1/obproxies/1,x")
                .await
        ),
        "obproxyIds"
    );
    assert_eq!(
        field_of(&admin.get("/api/v2/obproxy/clusters?size=0").await),
        "size"
    );
    assert_eq!(
        field_of(
            &admin
                .post(
                    "/api/v2/obproxy/clusters/1/obLinks/batchAdd",
                    &json!([{"clusterName": "", "obClusterId": 1, "username": "proxyro"}])
                )
                .await
        ),
        "[0].clusterName"
    );
    assert_eq!(
        field_of(
            &admin
                .post(
                    "/api/v2/obproxy/clusters/1/takeOver",
                    &json!({"hosts": [{"hostId": 0, "sqlPort": 2883}]})
                )
                .await
        ),
        "hosts[0].hostId"
    );

    // The caller's permission comes before anything else.
    let password = common::user_with_roles(&server, "proxy-viewer", &["OBPROXY_VIEWER"]).await;
    let viewer = server.client("proxy-viewer", &password);
    refused(&viewer.get("/api/v2/obproxy/clusters").await);
    assert_error(
        &viewer.post("/api/v2/obproxy/clusters", &json!({})).await,
        403,
        10004,
    );
    assert_error(
        &viewer.delete("/api/v2/obproxy/clusters/1").await,
        403,
        10004,
    );
    let password = common::user_with_roles(&server, "host-viewer", &["HOST_VIEWER"]).await;
    let other = server.client("host-viewer", &password);
    assert_error(&other.get("/api/v2/obproxy/clusters").await, 403, 10004);
}
