//! The platform tried as an attacker would (issue 13): no escalation through users, roles or
//! alert channels; logins and access keys that resist guessing and replay; agent calls that
//! cannot be replayed across restarts; secrets only their owner reads; no lost write on a
//! full metadb. Each test names the attack it defeats.

mod common;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use ocp_server::auth::{pattern_grants, BUILTIN_ROLES};
use ocp_testkit::{Api, Reply, Sandbox, ServerProcess, ADMIN_PASSWORD};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;

fn assert_error(reply: &Reply, status: u16, code: i64) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(reply.error_code(), code, "{}", reply.text);
}

async fn role_ids(admin: &Api) -> BTreeMap<String, i64> {
    let all = admin.get("/api/v2/iam/roles?size=100").await.ok();
    all.data()["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["id"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn user_id(admin: &Api, name: &str) -> i64 {
    let all = admin.get("/api/v2/iam/users?size=100").await.ok();
    all.data()["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == name)
        .unwrap_or_else(|| panic!("user {name}"))["id"]
        .as_i64()
        .unwrap()
}

const ADMIN_ID: i64 = 1;

#[tokio::test]
async fn a_user_manager_cannot_make_anyone_admin() {
    let server = common::server();
    let admin = server.admin();
    let roles = role_ids(&admin).await;
    let pw = common::user_with_roles(&server, "um", &["USER_MANAGER"]).await;
    let um = server.client("um", &pw);
    let me = user_id(&admin, "um").await;

    // 1. ADMIN added to its own roles.
    let r = um
        .put(
            &format!("/api/v2/iam/users/{me}"),
            &json!({"roleIds": [roles["USER_MANAGER"], roles["ADMIN"]]}),
        )
        .await;
    assert_error(&r, 403, 10004);
    assert_eq!(r.body["error"]["subErrors"][0]["field"], "roleIds");
    // 2. admin's password set without the old one.
    assert_error(
        &um.post(
            &format!("/api/v2/iam/users/{ADMIN_ID}/changePassword"),
            &json!({"newPassword": "Taken-Over-1"}),
        )
        .await,
        403,
        10004,
    );
    server
        .client("admin", "Taken-Over-1")
        .get("/api/v2/info")
        .await;
    admin.get("/api/v2/info").await.ok();
    // 3. a new user with ADMIN.
    assert_error(
        &um.post(
            "/api/v2/iam/users",
            &json!({"username": "sidekick", "password": "Sidekick-123", "roleIds": [roles["ADMIN"]]}),
        )
        .await,
        403,
        10004,
    );
    // 4. admin throttled to one request a day, or locked.
    assert_error(
        &um.put(
            &format!("/api/v2/iam/users/{ADMIN_ID}"),
            &json!({"rateLimit": {"limit": 1, "windowSeconds": 86400}}),
        )
        .await,
        403,
        10004,
    );
    assert_error(
        &um.post_empty(&format!("/api/v2/iam/users/{ADMIN_ID}/lock"))
            .await,
        403,
        10004,
    );
    for _ in 0..3 {
        admin.get("/api/v2/info").await.ok();
    }
    let me_now = admin.get(&format!("/api/v2/iam/users/{me}")).await.ok();
    assert_eq!(
        me_now.data()["roles"],
        json!([{"id": roles["USER_MANAGER"], "name": "USER_MANAGER"}])
    );
    let users = admin.get("/api/v2/iam/users?size=100").await.ok();
    assert!(
        !users.text.contains("sidekick"),
        "nothing was created: {}",
        users.text
    );

    // What a user manager may still do: users with what it holds, and their passwords.
    um.post(
        "/api/v2/iam/users",
        &json!({"username": "clerk", "password": "Clerk-12345", "roleIds": [roles["USER_MANAGER"]]}),
    )
    .await
    .ok();
    let clerk = user_id(&admin, "clerk").await;
    let clerk_api = server.client("clerk", "Clerk-12345");
    clerk_api.get("/api/v2/iam/users/me").await.ok();
    um.post(
        &format!("/api/v2/iam/users/{clerk}/changePassword"),
        &json!({"newPassword": "Clerk-67890"}),
    )
    .await
    .ok();
    // The change ends the user's remembered login at once.
    assert_error(&clerk_api.get("/api/v2/iam/users/me").await, 401, 10008);
    server
        .client("clerk", "Clerk-67890")
        .get("/api/v2/iam/users/me")
        .await
        .ok();
}

#[tokio::test]
async fn a_role_manager_cannot_widen_a_role_or_grant_what_it_lacks() {
    let server = common::server();
    let admin = server.admin();
    let custom = admin
        .post(
            "/api/v2/iam/roles",
            &json!({"name": "HELPERS", "permissions": ["TASK:*:READ"]}),
        )
        .await
        .ok();
    let custom = custom.data()["id"].as_i64().unwrap();
    let roles = role_ids(&admin).await;
    let password = "Roles-12345";
    admin
        .post(
            "/api/v2/iam/users",
            &json!({"username": "rm", "password": password, "roleIds": [roles["ROLE_MANAGER"], custom]}),
        )
        .await
        .ok();
    let rm = server.client("rm", password);
    // The role it holds, widened to everything.
    assert_error(
        &rm.put(
            &format!("/api/v2/iam/roles/{custom}"),
            &json!({"permissions": ["**"]}),
        )
        .await,
        403,
        10004,
    );
    // A new role with what it lacks.
    let r = rm
        .post(
            "/api/v2/iam/roles",
            &json!({"name": "WIDE", "permissions": ["ROLE:*:READ", "HOST:*:*"]}),
        )
        .await;
    assert_error(&r, 403, 10004);
    assert_eq!(r.body["error"]["subErrors"][0]["field"], "permissions");
    let shown = admin.get(&format!("/api/v2/iam/roles/{custom}")).await.ok();
    assert_eq!(shown.data()["permissions"], json!(["TASK:*:READ"]));
    // What it holds, it may give.
    rm.post(
        "/api/v2/iam/roles",
        &json!({"name": "ROLE_READERS", "permissions": ["ROLE:*:READ"]}),
    )
    .await
    .ok();
}

/// Concrete permissions to evaluate grants over: every built-in pattern with each action,
/// the admin-only ones and one no role names.
fn universe() -> Vec<String> {
    let mut all = vec!["SYSTEM:*:UPDATE".to_string(), "NOBODY:*:READ".to_string()];
    for (_, _, patterns) in BUILTIN_ROLES {
        for p in patterns.iter().filter(|p| **p != "**") {
            let (head, last) = p.rsplit_once(':').unwrap();
            if last == "*" {
                for action in ["READ", "CREATE", "UPDATE", "DELETE"] {
                    all.push(format!("{head}:{action}"));
                }
            } else {
                all.push(p.to_string());
            }
        }
    }
    all.sort();
    all.dedup();
    all
}

fn grants(patterns: &[String], required: &str) -> bool {
    patterns.iter().any(|p| pattern_grants(p, required))
}

/// What every user holds, through its roles, as the admin sees it.
async fn holdings(admin: &Api) -> BTreeMap<String, Vec<String>> {
    let roles = admin.get("/api/v2/iam/roles?size=100").await.ok();
    let perms: BTreeMap<i64, Vec<String>> = roles.data()["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_i64().unwrap(),
                serde_json::from_value(r["permissions"].clone()).unwrap(),
            )
        })
        .collect();
    let users = admin.get("/api/v2/iam/users?size=100").await.ok();
    users.data()["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            let held = u["roles"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|r| perms[&r["id"].as_i64().unwrap()].clone())
                .collect();
            (u["username"].as_str().unwrap().to_string(), held)
        })
        .collect()
}

#[tokio::test]
async fn no_role_a_manager_lacks_can_be_given_by_it() {
    // Every pair of built-in roles: a user manager that also holds A gives B to a new user;
    // it may exactly when A and USER_MANAGER together grant all that B grants.
    let server = common::server();
    let admin = server.admin();
    let roles = role_ids(&admin).await;
    let universe = universe();
    let perms: BTreeMap<&str, Vec<String>> = BUILTIN_ROLES
        .iter()
        .map(|(name, _, p)| (*name, p.iter().map(|s| s.to_string()).collect()))
        .collect();
    let mut n = 0;
    for (a, _, _) in BUILTIN_ROLES {
        let caller = format!("m{n}");
        n += 1;
        admin
            .post(
                "/api/v2/iam/users",
                &json!({"username": caller, "password": "Pairs-12345", "roleIds": [roles["USER_MANAGER"], roles[*a]]}),
            )
            .await
            .ok();
        let api = server.client(&caller, "Pairs-12345");
        let mut held = perms["USER_MANAGER"].clone();
        held.extend(perms[a].clone());
        for (b, _, _) in BUILTIN_ROLES {
            let may = universe
                .iter()
                .all(|r| !grants(&perms[b], r) || grants(&held, r));
            let target = format!("u{n}");
            n += 1;
            let reply = api
                .post(
                    "/api/v2/iam/users",
                    &json!({"username": target, "password": "Pairs-12345", "roleIds": [roles[*b]]}),
                )
                .await;
            if may {
                assert_eq!(reply.status, 200, "{a} gives {b}: {}", reply.text);
            } else {
                assert_error(&reply, 403, 10004);
            }
        }
    }
}

#[tokio::test]
async fn no_sequence_of_user_and_role_calls_yields_a_permission_the_caller_lacks() {
    let server = common::server();
    let admin = server.admin();
    let roles = role_ids(&admin).await;
    let pool: Vec<&str> = vec![
        "TASK:*:READ",
        "TASK:*:*",
        "HOST:*:READ",
        "HOST:*:*",
        "USER:*:*",
        "USER:*:READ",
        "ROLE:*:*",
        "ROLE:*:READ",
        "CLUSTER:*:*",
        "ALARM:*:*",
        "SYSTEM:*:UPDATE",
        "**",
    ];
    let universe = universe();
    let mut rng = rand::rngs::StdRng::seed_from_u64(13);
    let mut custom: Vec<i64> = Vec::new();
    for (i, name) in ["C0", "C1", "C2"].iter().enumerate() {
        let perms: Vec<&str> = pool.choose_multiple(&mut rng, 2 + i).cloned().collect();
        let r = admin
            .post(
                "/api/v2/iam/roles",
                &json!({"name": name, "permissions": perms}),
            )
            .await
            .ok();
        custom.push(r.data()["id"].as_i64().unwrap());
    }
    let managers = [
        roles["USER_MANAGER"],
        roles["ROLE_MANAGER"],
        roles["ALARM_MANAGER"],
        roles["HOST_MANAGER"],
    ];
    for sequence in 0..6 {
        let every_role: Vec<i64> = role_ids(&admin)
            .await
            .values()
            .cloned()
            .chain(custom.iter().cloned())
            .collect();
        // The caller: a user and role manager with one more role at random.
        let caller = format!("caller{sequence}");
        let extra = *[managers[2], managers[3], custom[sequence % 3]]
            .choose(&mut rng)
            .unwrap();
        admin
            .post(
                "/api/v2/iam/users",
                &json!({"username": caller, "password": "Caller-12345", "roleIds": [managers[0], managers[1], extra]}),
            )
            .await
            .ok();
        let api = server.client(&caller, "Caller-12345");
        let before = holdings(&admin).await;
        let held = before[&caller].clone();
        for step in 0..12 {
            let users = admin.get("/api/v2/iam/users?size=100").await.ok();
            let user_ids: Vec<i64> = users.data()["contents"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["id"].as_i64().unwrap())
                .collect();
            let n = rng.gen_range(0..3);
            let some_roles: Vec<i64> = every_role.choose_multiple(&mut rng, n).cloned().collect();
            let user = *user_ids.choose(&mut rng).unwrap();
            let role = *every_role.choose(&mut rng).unwrap();
            let n = rng.gen_range(1..3);
            let perms: Vec<&str> = pool.choose_multiple(&mut rng, n).cloned().collect();
            let _ = match rng.gen_range(0..6) {
                0 => {
                    api.post(
                        "/api/v2/iam/users",
                        &json!({"username": format!("s{sequence}x{step}"), "password": "Made-123456", "roleIds": some_roles}),
                    )
                    .await
                }
                1 | 2 => {
                    api.put(
                        &format!("/api/v2/iam/users/{user}"),
                        &json!({"roleIds": some_roles}),
                    )
                    .await
                }
                3 => {
                    api.put(
                        &format!("/api/v2/iam/roles/{role}"),
                        &json!({"permissions": perms}),
                    )
                    .await
                }
                4 => {
                    api.post(
                        "/api/v2/iam/roles",
                        &json!({"name": format!("R{sequence}x{step}"), "permissions": perms}),
                    )
                    .await
                }
                _ => {
                    api.post(
                        &format!("/api/v2/iam/users/{user}/changePassword"),
                        &json!({"newPassword": "Changed-12345"}),
                    )
                    .await
                }
            };
        }
        // Whatever was allowed: no user gained a permission the caller did not hold.
        let after = holdings(&admin).await;
        for (name, now) in &after {
            let was = before.get(name).cloned().unwrap_or_default();
            for r in &universe {
                if grants(now, r) && !grants(&was, r) {
                    assert!(
                        grants(&held, r),
                        "sequence {sequence}: {name} gained {r}, which {caller} lacks"
                    );
                }
            }
        }
        // And nobody the caller could not manage was touched by a password change.
        server
            .client("admin", ADMIN_PASSWORD)
            .get("/api/v2/info")
            .await
            .ok();
    }
}

#[tokio::test]
async fn alert_channels_reach_nothing_their_maker_cannot() {
    let sb = Sandbox::start(common::options(), 1, 300).await.unwrap();
    let admin = sb.server.admin();
    let pw = common::user_with_roles(&sb.server, "alarms", &["ALARM_MANAGER"]).await;
    let am = sb.server.client("alarms", &pw);
    // A SCRIPT channel is a shell on the server: not for an alarm manager.
    let shell = json!({"name": "pwn", "type": "SCRIPT",
        "config": {"command": ["/bin/sh", "-c", "id; cat DATA/master.key; env"]}});
    assert_error(&am.post("/api/v2/alarm/channels", &shell).await, 403, 10004);
    // HTTP channels may not call loopback, link-local, the platform or its agents.
    let agent = format!(
        "http://{}/v1/status",
        sb.agents[0].url().trim_start_matches("http://")
    );
    for url in [
        format!("{}/api/v2/info", sb.server.url()),
        agent,
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://[::1]:9/".to_string(),
    ] {
        let r = am
            .post(
                "/api/v2/alarm/channels",
                &json!({"name": "peek", "type": "HTTP", "config": {"urlTemplate": url}}),
            )
            .await;
        assert_eq!(r.status, 400, "{url}: {}", r.text);
        assert_eq!(
            r.body["error"]["subErrors"][0]["field"],
            "config.urlTemplate"
        );
    }

    // An admin's script runs with nothing of the server's: no OCP_* variable, no root,
    // and its output is not kept beyond a short excerpt.
    let dir = ocp_testkit::shared_dir().unwrap();
    // One file a run, renamed once written: every alert runs the script, and runs overlap.
    let script = format!(
        "f=$(mktemp -p {dir}); {{ id -u; env; cat {key}; }} > $f 2>&1; mv $f $f.done; yes leak | head -c 100000",
        dir = dir.path().display(),
        key = sb.server.data_dir().join("master.key").display()
    );
    let channel = admin
        .post(
            "/api/v2/alarm/channels",
            &json!({"name": "script", "type": "SCRIPT", "config": {"command": ["/bin/sh", "-c", script]}}),
        )
        .await
        .ok();
    let channel = channel.data()["id"].as_i64().unwrap();
    admin
        .post(
            "/api/v2/alarm/subscriptions",
            &json!({"channelId": channel}),
        )
        .await
        .ok();
    let rules = admin.get("/api/v2/alarm/rules?size=200").await.ok();
    let rule = rules.data()["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "host_agent_open_fd_count_over_threshold")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    admin
        .put(
            &format!("/api/v2/alarm/rules/{rule}"),
            &json!({"threshold": 1.0, "evaluationIntervalSeconds": 1}),
        )
        .await
        .ok();
    let history = admin
        .poll(
            &format!("/api/v2/alarm/notifications?channelId={channel}"),
            Duration::from_secs(30),
            |d| {
                d["contents"]
                    .as_array()
                    .is_some_and(|l| l.iter().any(|n| n["status"] == "Success"))
            },
        )
        .await
        .unwrap_or_else(|last| panic!("the script never ran: {last:#}"));
    let runs: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|f| f.path().extension().is_some_and(|e| e == "done"))
        .map(|f| std::fs::read_to_string(f.path()).unwrap_or_default())
        .collect();
    assert!(
        !runs.is_empty(),
        "no run of the script finished: {history:#}"
    );
    for text in &runs {
        let uid: u32 = text.lines().next().unwrap().trim().parse().unwrap();
        if nix::unistd::geteuid().is_root() {
            assert_ne!(uid, 0, "scripts do not run as root");
            assert!(
                text.contains("Permission denied"),
                "the script read the master key: {text}"
            );
        }
        assert!(!text.contains("OCP_"), "{text}");
        assert!(!text.contains(ADMIN_PASSWORD), "{text}");
    }
    let kept = history["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["status"] == "Success")
        .unwrap()["channelResponse"]
        .as_str()
        .unwrap();
    assert!(kept.starts_with("exit=0"), "{kept}");
    assert!(kept.len() < 400, "{kept}");
}

/// A client that connects from `source` (any 127.x address reaches the server).
fn client_from(server: &ServerProcess, source: &str, user: &str, password: &str) -> Api {
    let http = reqwest::Client::builder()
        .local_address(source.parse::<IpAddr>().unwrap())
        .no_proxy()
        .build()
        .unwrap();
    Api::with_client(server.url(), user, password, http)
}

#[tokio::test]
async fn lockouts_count_per_account_and_address_and_reveal_no_password() {
    let server = common::server_with(&["--login-max-attempts", "5"]);
    let admin = server.admin();
    common::user_with_roles(&server, "mallory", &["TASK_MANAGER"]).await;
    let victim = common::user_with_roles(&server, "victim", &["TASK_MANAGER"]).await;
    let mallory_pw = "Pw-mallory-1234";
    let from_a = |user: &str, pw: &str| client_from(&server, "127.0.0.21", user, pw);
    // Four guesses, the attacker's own login, a fifth guess: the attacker's success does
    // not reset the count, so admin is locked, from anywhere.
    for _ in 0..4 {
        assert_error(
            &from_a("admin", "guess").get("/api/v2/info").await,
            401,
            10008,
        );
    }
    from_a("mallory", mallory_pw).get("/api/v2/info").await.ok();
    assert_error(
        &from_a("admin", "guess").get("/api/v2/info").await,
        401,
        10008,
    );
    let right = client_from(&server, "127.0.0.22", "admin", ADMIN_PASSWORD);
    assert_error(&right.get("/api/v2/info").await, 429, 0);
    // The address is locked for every account; another address still serves another one.
    assert_error(
        &from_a("mallory", mallory_pw).get("/api/v2/info").await,
        429,
        0,
    );
    client_from(&server, "127.0.0.23", "mallory", mallory_pw)
        .get("/api/v2/info")
        .await
        .ok();
    // Guesses at one account from many addresses lock that account.
    for i in 0..5 {
        let from = format!("127.0.0.{}", 30 + i);
        assert_error(
            &client_from(&server, &from, "victim", "guess")
                .get("/api/v2/info")
                .await,
            401,
            10008,
        );
    }
    assert_error(
        &client_from(&server, "127.0.0.40", "victim", &victim)
            .get("/api/v2/info")
            .await,
        429,
        0,
    );
    drop(admin);

    // A locked user: the right password and a wrong one get the same answer.
    let server = common::server();
    let admin = server.admin();
    let pw = common::user_with_roles(&server, "locked", &["TASK_MANAGER"]).await;
    let id = user_id(&admin, "locked").await;
    admin
        .post_empty(&format!("/api/v2/iam/users/{id}/lock"))
        .await
        .ok();
    let right = server.client("locked", &pw).get("/api/v2/info").await;
    let wrong = server
        .client("locked", "Not-it-123")
        .get("/api/v2/info")
        .await;
    assert_eq!(right.status, wrong.status);
    assert_eq!(right.body["error"], wrong.body["error"]);
}

fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .unwrap()
        / 1024
}

#[tokio::test]
async fn a_burst_of_wrong_passwords_takes_bounded_memory() {
    // 128 concurrent guesses used to run 128 argon2 hashes of 19 MiB at once (2.5 GB).
    let server = common::server_with(&["--login-max-attempts", "100000"]);
    server.admin().get("/api/v2/info").await.ok();
    let before = peak_rss_mib(server.pid().unwrap());
    let guesses = (0..128).map(|i| {
        let api = server.client(&format!("user{i}"), "wrong-password");
        async move { api.get("/api/v2/info").await.status }
    });
    let statuses = futures::future::join_all(guesses).await;
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    let after = peak_rss_mib(server.pid().unwrap());
    eprintln!("peak RSS before the burst {before} MiB, after {after} MiB");
    // Two hashing threads keep 19 MiB each, whatever the number of guesses.
    assert!(after < before + 64, "peak RSS {before} -> {after} MiB");
}

struct AccessKey {
    ak: String,
    sk: String,
}

impl AccessKey {
    async fn create(admin: &Api) -> Self {
        let created = admin
            .post_empty("/api/v2/iam/users/me/accessKeys")
            .await
            .ok();
        Self {
            ak: created.data()["accessKeyId"].as_str().unwrap().to_string(),
            sk: created.data()["accessKeySecret"]
                .as_str()
                .unwrap()
                .to_string(),
        }
    }

    /// The headers of a request signed now, with a nonce of its own: `(name, value)`.
    fn sign(&self, method: &str, resource: &str, body: Option<&[u8]>) -> Vec<(String, String)> {
        let date = chrono::Utc::now().to_rfc2822();
        let md5 = body
            .map(|b| {
                use md5::Digest as _;
                base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(b))
            })
            .unwrap_or_default();
        let content_type = if body.is_some() {
            "application/json"
        } else {
            ""
        };
        let nonce = format!("{:016x}", rand::random::<u64>());
        let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(self.sk.as_bytes()).unwrap();
        mac.update(
            format!("{method}\n{md5}\n{content_type}\n{date}\n{resource}\n{nonce}").as_bytes(),
        );
        let signature =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        let mut headers = vec![
            (
                "authorization".to_string(),
                format!("OCP-ACCESS-KEY-HMACSHA1 {}:{signature}", self.ak),
            ),
            ("date".to_string(), date),
            ("x-ocp-nonce".to_string(), nonce),
        ];
        if body.is_some() {
            headers.push(("content-md5".into(), md5));
            headers.push(("content-type".into(), content_type.into()));
        }
        headers
    }
}

async fn send(
    anonymous: &Api,
    method: reqwest::Method,
    path: &str,
    body: Option<&[u8]>,
    headers: &[(String, String)],
) -> Reply {
    let mut request = anonymous
        .raw()
        .request(method, format!("{}{path}", anonymous.base()));
    for (k, v) in headers {
        request = request.header(k, v);
    }
    if let Some(body) = body {
        request = request.body(body.to_vec());
    }
    Api::reply_to(request).await
}

#[tokio::test]
async fn access_key_signatures_cover_query_and_body_and_work_once() {
    let mut server = common::server();
    let admin = server.admin();
    let key = AccessKey::create(&admin).await;
    let anonymous = admin.anonymous();
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;

    let signed = key.sign("GET", "/api/v2/iam/users?size=10", None);
    send(
        &anonymous,
        get.clone(),
        "/api/v2/iam/users?size=10",
        None,
        &signed,
    )
    .await
    .ok();
    // The same request again, within its window: refused.
    let again = send(
        &anonymous,
        get.clone(),
        "/api/v2/iam/users?size=10",
        None,
        &signed,
    )
    .await;
    assert_error(&again, 401, 10008);
    assert!(again.text.contains("used already"), "{}", again.text);
    // The query is signed: another size is another request.
    let signed = key.sign("GET", "/api/v2/iam/users?size=10", None);
    assert_error(
        &send(
            &anonymous,
            get.clone(),
            "/api/v2/iam/users?size=2000",
            None,
            &signed,
        )
        .await,
        401,
        10008,
    );
    // A body needs its Content-MD5, and must match it.
    let body = br#"{"name": "r1"}"#;
    let mut no_md5 = key.sign("POST", "/api/v2/compute/regions", None);
    no_md5.push(("content-type".into(), "application/json".into()));
    assert_error(
        &send(
            &anonymous,
            post.clone(),
            "/api/v2/compute/regions",
            Some(body),
            &no_md5,
        )
        .await,
        401,
        10008,
    );
    let signed = key.sign("POST", "/api/v2/compute/regions", Some(body));
    let other = br#"{"name": "r2"}"#;
    let r = send(
        &anonymous,
        post.clone(),
        "/api/v2/compute/regions",
        Some(other),
        &signed,
    )
    .await;
    assert_ne!(r.status, 200, "{}", r.text);
    let signed = key.sign("POST", "/api/v2/compute/regions", Some(body));
    send(
        &anonymous,
        post.clone(),
        "/api/v2/compute/regions",
        Some(body),
        &signed,
    )
    .await
    .ok();
    let resent = send(
        &anonymous,
        post.clone(),
        "/api/v2/compute/regions",
        Some(body),
        &signed,
    )
    .await;
    assert_error(&resent, 401, 10008);
    let regions = admin.get("/api/v2/compute/regions?size=100").await.ok();
    let names: Vec<&str> = regions.data()["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"r1") && !names.contains(&"r2"), "{names:?}");

    // A restart forgets nothing: the seen signatures are in the metadb.
    let signed = key.sign("GET", "/api/v2/info", None);
    send(&anonymous, get.clone(), "/api/v2/info", None, &signed)
        .await
        .ok();
    server.restart().unwrap();
    let anonymous = server.admin().anonymous();
    assert_error(
        &send(&anonymous, get, "/api/v2/info", None, &signed).await,
        401,
        10008,
    );
}

#[tokio::test]
async fn agent_calls_cannot_be_replayed_after_a_restart_and_bodies_are_bounded() {
    let mut sb = Sandbox::start(common::options(), 1, 300).await.unwrap();
    let api = sb.agents[0].signed_client().unwrap();
    let path = "/v1/status";
    let headers = api.sign("GET", path, b"", ocp_testkit::now_ms(), "before-restart");
    assert_eq!(api.send_raw("GET", path, None, &headers).await.status, 200);
    sb.agents[0].restart().unwrap();
    let api = sb.agents[0].signed_client().unwrap();
    let replay = api.send_raw("GET", path, None, &headers).await;
    assert_eq!(replay.status, 401, "{:?}", replay.body);
    assert!(
        replay
            .body
            .to_string()
            .contains("before the receiver started"),
        "{:?}",
        replay.body
    );
    assert_eq!(api.send("GET", path, None).await.status, 200);

    // Unsigned bodies are refused before they are read; signed ones are bounded.
    let big = vec![b'x'; 15 * 1024 * 1024];
    let http = reqwest::Client::new();
    let pid = sb.agents[0].pid().unwrap();
    for _ in 0..8 {
        let r = http
            .post(format!("{}/v1/mgr/processes", sb.agents[0].url()))
            .body(big.clone())
            .send()
            .await;
        if let Ok(r) = r {
            assert_eq!(r.status(), 401);
        }
    }
    let headers = api.sign(
        "POST",
        "/v1/mgr/processes",
        &big,
        ocp_testkit::now_ms(),
        "big-1",
    );
    let mut request = http.post(format!("{}/v1/mgr/processes", sb.agents[0].url()));
    for (k, v) in &headers {
        request = request.header(k, v);
    }
    let r = request.body(big.clone()).send().await;
    if let Ok(r) = r {
        assert_eq!(r.status(), 413);
    }
    let rss = peak_rss_mib(pid);
    assert!(rss < 100, "the agent peaked at {rss} MiB");

    // The server keeps the nonces it saw in the metadb: a heartbeat replayed after its
    // restart is refused too.
    let (host_id, secret) = sb.agents[0].credentials().unwrap();
    let body = serde_json::to_vec(&json!({"report": {"processes": []}})).unwrap();
    let headers = ocp_api::agent::signed_headers(
        &secret,
        host_id,
        "POST",
        "/api/v2/agents/heartbeat",
        &body,
        ocp_testkit::now_ms(),
        "server-replay",
    );
    let beat = |headers: Vec<(&'static str, String)>, base: String| {
        let body = body.clone();
        let url = format!("{base}/api/v2/agents/heartbeat");
        async move {
            let mut request = reqwest::Client::new()
                .post(url)
                .header("content-type", "application/json");
            for (k, v) in headers {
                request = request.header(k, v);
            }
            request.body(body).send().await.unwrap().status().as_u16()
        }
    };
    let first = beat(headers.to_vec(), sb.server.url().to_string()).await;
    assert_ne!(first, 401, "a fresh signed heartbeat is taken");
    sb.server.restart().unwrap();
    assert_eq!(
        beat(headers.to_vec(), sb.server.url().to_string()).await,
        401
    );
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The environment a process started with (`/proc/PID/environ`).
fn environment(pid: u32) -> String {
    String::from_utf8_lossy(&std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default())
        .replace('\0', "\n")
}

/// The processes whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let parent = stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if parent == Some(pid) {
            found.push(child);
        }
    }
    found
}

#[tokio::test]
async fn secrets_stay_in_files_only_their_owner_reads() {
    let port = ocp_testkit::free_port("127.0.0.1").unwrap();
    let server = common::server_with(&["--local-agent", &format!("127.0.0.1:{port}")]);
    let admin = server.admin();
    admin
        .poll("/api/v2/compute/hosts", Duration::from_secs(60), |d| {
            d["contents"][0]["status"] == "AVAILABLE"
        })
        .await
        .unwrap_or_else(|last| panic!("the local agent never joined: {last:#}"));
    let data = server.data_dir();
    assert_eq!(mode(data), 0o700);
    for file in [
        "metadb.sqlite",
        "metadb.sqlite-wal",
        "metadb.sqlite-shm",
        "master.key",
    ] {
        let path = data.join(file);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{file}");
        }
    }
    let agent_dir = data.join("agent");
    assert_eq!(mode(&agent_dir), 0o700);
    assert_eq!(mode(&agent_dir.join("credentials.json")), 0o600);
    for log in std::fs::read_dir(agent_dir.join("log")).unwrap().flatten() {
        assert_eq!(mode(&log.path()) & 0o037, 0, "{}", log.path().display());
    }
    // No process the platform starts carries its secrets.
    let agents = children(server.pid().unwrap());
    assert!(!agents.is_empty());
    let mut seen = 0;
    for agent in agents {
        for pid in std::iter::once(agent).chain(children(agent)) {
            let env = environment(pid);
            assert!(!env.contains("OCP_ADMIN_PASSWORD"), "process {pid}: {env}");
            assert!(!env.contains(ADMIN_PASSWORD), "process {pid}");
            if pid != agent {
                assert!(!env.contains("OCP_AGENT_JOIN_TOKEN"), "worker {pid}: {env}");
            }
            seen += 1;
        }
    }
    assert!(seen >= 3, "the agent and its two workers");
}

async fn create_regions(admin: &Api, prefix: &str, n: usize) -> (Vec<String>, Vec<String>, Reply) {
    let (mut acknowledged, mut refused) = (Vec::new(), Vec::new());
    let mut last = None;
    let description: String = "d".repeat(256);
    for i in 0..n {
        let name = format!("{prefix}{i}");
        let r = admin
            .post(
                "/api/v2/compute/regions",
                &json!({"name": name, "description": description}),
            )
            .await;
        if r.status == 200 {
            acknowledged.push(name);
        } else {
            refused.push(name);
            last = Some(r);
            if refused.len() >= 5 {
                break;
            }
        }
    }
    (acknowledged, refused, last.expect("the metadb filled up"))
}

/// Every region's id by name.
async fn regions(admin: &Api) -> BTreeMap<String, i64> {
    let mut all = BTreeMap::new();
    for page in 1.. {
        let r = admin
            .get(&format!("/api/v2/compute/regions?size=2000&page={page}"))
            .await
            .ok();
        let contents = r.data()["contents"].as_array().unwrap().clone();
        if contents.is_empty() {
            break;
        }
        for c in contents {
            all.insert(
                c["name"].as_str().unwrap().to_string(),
                c["id"].as_i64().unwrap(),
            );
        }
    }
    all
}

/// Fills the metadb until writes answer 507, frees space with `free`, then checks that
/// writes work again at once and that exactly the acknowledged writes are kept, before and
/// after a crash (SIGKILL) and restart.
async fn fill_and_recover(
    server: &mut ServerProcess,
    free: impl AsyncFnOnce(&Api, &[String]) -> Vec<String>,
) {
    let admin = server.admin();
    let (acknowledged, refused, full) = create_regions(&admin, "fill", 100_000).await;
    assert_error(&full, 507, 10014);
    assert!(full.text.contains("nothing was changed"), "{}", full.text);
    // Reads go on.
    admin.get("/api/v2/iam/users/me").await.ok();
    let freed = free(&admin, &acknowledged).await;
    // Writes succeed at once, without a restart.
    let mut after = Vec::new();
    for i in 0..20 {
        let name = format!("after{i}");
        admin
            .post("/api/v2/compute/regions", &json!({"name": name}))
            .await
            .ok();
        after.push(name);
    }
    let kept: Vec<&String> = acknowledged
        .iter()
        .filter(|n| !freed.contains(n))
        .chain(&after)
        .collect();
    for pass in ["before a restart", "after a restart"] {
        let names = regions(&server.admin()).await;
        for name in &kept {
            assert!(
                names.contains_key(*name),
                "{pass}: {name} was acknowledged and is gone"
            );
        }
        for name in refused.iter().chain(&freed) {
            assert!(!names.contains_key(name), "{pass}: {name} is there");
        }
        server.restart().unwrap();
    }
}

#[tokio::test]
async fn a_full_metadb_answers_507_loses_nothing_and_recovers_without_a_restart() {
    // Portable: SQLite's own size cap fails writes as a full disk does.
    let mut server = common::server_with(&["--sqlite-max-size-mb", "2"]);
    fill_and_recover(&mut server, async |admin: &Api, acknowledged: &[String]| {
        let ids = regions(admin).await;
        let freed: Vec<String> = acknowledged.iter().take(1000).cloned().collect();
        for name in &freed {
            admin
                .delete(&format!("/api/v2/compute/regions/{}", ids[name]))
                .await
                .ok();
        }
        freed
    })
    .await;
}

/// A small tmpfs mounted over a temporary directory, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Option<Self> {
        let dir = ocp_testkit::temp_dir().unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .ok()?;
        status.success().then_some(Self { dir })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[tokio::test]
async fn a_full_disk_answers_507_loses_nothing_and_recovers_without_a_restart() {
    // The real thing: the data directory on a 12 MiB filesystem that fills up (root only).
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: mounting a small filesystem needs root");
        return;
    }
    let Some(disk) = SmallDisk::mount(12) else {
        eprintln!("skipped: tmpfs could not be mounted here");
        return;
    };
    let data = disk.dir.path().join("data");
    let mut server = ServerProcess::start_in(&data, common::options()).unwrap();
    let ballast = disk.dir.path().join("ballast");
    std::fs::write(&ballast, vec![0u8; 4 * 1024 * 1024]).unwrap();
    fill_and_recover(&mut server, async |_: &Api, _: &[String]| {
        std::fs::remove_file(&ballast).unwrap();
        Vec::new()
    })
    .await;
    drop(server);
}

#[tokio::test]
async fn clean_edges() {
    let server = common::server();
    let admin = server.admin();
    // An IDC named only by a join token.
    let region = admin
        .post("/api/v2/compute/regions", &json!({"name": "east"}))
        .await
        .ok();
    let region = region.data()["id"].as_i64().unwrap();
    let idc = admin
        .post(
            "/api/v2/compute/idcs",
            &json!({"name": "dc1", "regionId": region}),
        )
        .await
        .ok();
    let idc = idc.data()["id"].as_i64().unwrap();
    admin
        .post("/api/v2/compute/agentJoinTokens", &json!({"idcId": idc}))
        .await
        .ok();
    assert_error(
        &admin.delete(&format!("/api/v2/compute/idcs/{idc}")).await,
        409,
        10006,
    );
    // A body over the limit.
    let huge = "x".repeat(3 * 1024 * 1024);
    let r = admin
        .post(
            "/api/v2/compute/regions",
            &json!({"name": "big", "description": huge}),
        )
        .await;
    assert_error(&r, 413, 10015);
    // A request target or headers past what the API reads: in the envelope too. (A new
    // client: the server closes a connection whose body it did not read.)
    let admin = server.admin();
    let long = format!("/api/v2/info?x={}", "a".repeat(20 * 1024));
    assert_error(&admin.get(&long).await, 414, 10016);
    let big = "b".repeat(70 * 1024);
    let r = admin
        .send(
            reqwest::Method::GET,
            "/api/v2/info",
            None,
            &[("x-big", &big)],
        )
        .await;
    assert_error(&r, 431, 10016);
}

#[tokio::test]
async fn a_signature_taken_by_one_server_is_refused_by_another_on_the_same_metadb() {
    let pg = ocp_testkit::Postgres::start().expect("PostgreSQL starts");
    let server = |name: &str| {
        let mut options = common::options();
        options.metadb = Some(pg.url());
        options
            .extra_args
            .extend(["--advertise-address".into(), name.into()]);
        options.env.push(("OCP_MASTER_KEY".into(), "33".repeat(32)));
        ServerProcess::start(options).expect("server starts")
    };
    let (a, b) = (server("node-a"), server("node-b"));
    let key = AccessKey::create(&a.admin()).await;
    let signed = key.sign("GET", "/api/v2/info", None);
    let get = reqwest::Method::GET;
    send(
        &a.admin().anonymous(),
        get.clone(),
        "/api/v2/info",
        None,
        &signed,
    )
    .await
    .ok();
    let replayed = send(&b.admin().anonymous(), get, "/api/v2/info", None, &signed).await;
    assert_error(&replayed, 401, 10008);
    assert!(replayed.text.contains("used already"), "{}", replayed.text);
}
