//! The OpenAPI document is generated from the handlers; this pins it. After an intended API
//! change, regenerate with `UPDATE_SNAPSHOTS=1 cargo test -p ocp-server --test openapi`.

mod common;

#[test]
fn openapi_document_is_pinned() {
    let doc = ocp_server::openapi_document().to_pretty_json().unwrap();
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/openapi.json");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("{doc}\n")).unwrap();
    }
    let pinned =
        std::fs::read_to_string(&path).expect("snapshot exists (UPDATE_SNAPSHOTS=1 writes it)");
    assert_eq!(
        pinned.trim_end(),
        doc.trim_end(),
        "the API changed; review and regenerate the snapshot"
    );
    for path in [
        "/api/v2/tasks/instances",
        "/api/v2/tasks/instances/{taskInstanceId}/subtasks/{subtaskInstanceId}/log",
        "/api/v2/iam/users",
        "/api/v2/iam/roles",
        "/api/v2/info",
        "/api/v2/time",
        "/api/status",
    ] {
        assert!(doc.contains(&format!("\"{path}\"")), "{path} documented");
    }
    assert!(
        !doc.contains("/api/v2/debug/tasks"),
        "test routes stay out of the document"
    );
}

#[tokio::test]
async fn served_document_matches() {
    let server = common::server();
    let reply = server.admin().anonymous().get("/api/v2/openapi.json").await;
    assert_eq!(reply.status, 200);
    let served: serde_json::Value = reply.body;
    let generated: serde_json::Value =
        serde_json::to_value(ocp_server::openapi_document()).unwrap();
    assert_eq!(served, generated);
}

/// `(METHOD, path)` with every path parameter written `{}`, so that `{id}` and `{clusterId}`
/// name the same operation.
fn operation_key(method: &str, path: &str) -> (String, String) {
    let mut normal = String::with_capacity(path.len());
    let mut in_parameter = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_parameter = true;
                normal.push_str("{}");
            }
            '}' => in_parameter = false,
            c if !in_parameter => normal.push(c),
            _ => {}
        }
    }
    (method.to_ascii_uppercase(), normal)
}

/// Every operation of OCP's API reference (`tests/documented_operations.txt`, made from the
/// reference by `scripts/documented-operations.py`) is in the served document, at the path the
/// reference spells, and each with typed bodies.
#[test]
fn every_documented_operation_is_in_the_document() {
    let doc = serde_json::to_value(ocp_server::openapi_document()).unwrap();
    let mut served = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if operation.get("responses").is_none() {
                continue;
            }
            served.insert(operation_key(method, path));
            // No untyped JSON body: each names its schema.
            let bodies = operation["requestBody"]["content"]
                .as_object()
                .into_iter()
                .flatten();
            for (media, content) in bodies {
                if media == "application/json" {
                    let schema = &content["schema"];
                    assert!(
                        schema.get("$ref").is_some()
                            || schema["type"] == "array"
                            || schema["type"] == "object",
                        "{method} {path}: untyped request body {schema}"
                    );
                }
            }
        }
    }
    let list =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/documented_operations.txt");
    let list = std::fs::read_to_string(list).unwrap();
    let documented: Vec<(String, String, String)> = list
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut parts = l.split_whitespace();
            let (method, path, page) = (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap(),
            );
            (method.to_string(), path.to_string(), page.to_string())
        })
        .collect();
    let distinct: std::collections::HashSet<_> = documented
        .iter()
        .map(|(m, p, _)| operation_key(m, p))
        .collect();
    assert_eq!(
        distinct.len(),
        156,
        "the reference documents 156 operations"
    );
    let missing: Vec<String> = documented
        .iter()
        .filter(|(m, p, _)| !served.contains(&operation_key(m, p)))
        .map(|(m, p, page)| format!("{m} {p} ({page})"))
        .collect();
    assert!(
        missing.is_empty(),
        "documented but not in the OpenAPI document:\n{}",
        missing.join("\n")
    );
}
