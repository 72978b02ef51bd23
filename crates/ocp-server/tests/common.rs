//! Shared by the integration tests: a server started from this crate's binary.
#![allow(dead_code)]

use ocp_testkit::{ServerOptions, ServerProcess};
use serde_json::{json, Value};

pub fn options() -> ServerOptions {
    ServerOptions {
        binary: env!("CARGO_BIN_EXE_ocp-server").into(),
        ..ServerOptions::default()
    }
}

/// Options for a server whose alert channels may call receivers on this machine's loopback
/// (refused by default: a channel must not reach the platform or its agents).
pub fn options_with_local_webhooks() -> ServerOptions {
    let mut o = options();
    o.extra_args
        .extend(["--alarm-http-allow".to_string(), "127.0.0.1".to_string()]);
    o
}

pub fn server() -> ServerProcess {
    ServerProcess::start(options()).expect("server starts")
}

pub fn server_with(args: &[&str]) -> ServerProcess {
    let mut o = options();
    o.extra_args.extend(args.iter().map(|s| s.to_string()));
    ServerProcess::start(o).expect("server starts")
}

/// Creates a user holding the named built-in roles; returns its password.
pub async fn user_with_roles(server: &ServerProcess, name: &str, roles: &[&str]) -> String {
    let admin = server.admin();
    let all = admin.get("/api/v2/iam/roles?size=100").await.ok();
    let ids: Vec<i64> = all.data()["contents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| roles.contains(&r["name"].as_str().unwrap()))
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), roles.len(), "roles {roles:?} exist");
    let password = format!("Pw-{name}-1234");
    admin
        .post(
            "/api/v2/iam/users",
            &json!({"username": name, "password": password, "roleIds": ids}),
        )
        .await
        .ok();
    password
}

pub fn step(name: &str, kind: &str, path: Option<&std::path::Path>, after: &[usize]) -> Value {
    json!({"name": name, "kind": kind, "path": path.map(|p| p.display().to_string()), "after": after})
}
