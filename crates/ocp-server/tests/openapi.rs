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
