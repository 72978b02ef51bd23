//! Regions, IDCs and host types through the real server.

mod common;

use serde_json::json;

#[tokio::test]
async fn regions_idcs_and_host_types() {
    let server = common::server();
    let admin = server.admin();

    let region = admin
        .post(
            "/api/v2/compute/regions",
            &json!({"name": "shanghai", "description": "The Shanghai region."}),
        )
        .await
        .ok();
    let region_id = region.data()["id"].as_i64().unwrap();
    for key in ["createTime", "id", "name", "updateTime"] {
        assert!(region.data().get(key).is_some(), "region has {key}");
    }
    let dup = admin
        .post("/api/v2/compute/regions", &json!({"name": "shanghai"}))
        .await;
    assert_eq!((dup.status, dup.error_code()), (409, 10003));
    let bad = admin
        .post("/api/v2/compute/regions", &json!({"name": "has space"}))
        .await;
    assert_eq!(bad.body["error"]["subErrors"][0]["field"], "name");

    let idc = admin
        .post(
            "/api/v2/compute/idcs",
            &json!({"name": "idc-sh", "description": "The Shanghai IDC.", "regionId": region_id}),
        )
        .await
        .ok();
    assert_eq!(idc.data()["regionName"], "shanghai");
    assert_eq!(idc.data()["regionId"], region_id);
    let idc_id = idc.data()["id"].as_i64().unwrap();
    let orphan = admin
        .post(
            "/api/v2/compute/idcs",
            &json!({"name": "idc-x", "regionId": 424242}),
        )
        .await;
    assert_eq!((orphan.status, orphan.error_code()), (400, 10001));
    assert_eq!(orphan.body["error"]["subErrors"][0]["field"], "regionId");
    let missing = admin
        .post("/api/v2/compute/idcs", &json!({"name": "idc-y"}))
        .await;
    assert_eq!(missing.body["error"]["subErrors"][0]["field"], "regionId");

    let listed = admin.get("/api/v2/compute/idcs?page=1&size=10").await.ok();
    assert_eq!(listed.data()["page"]["totalElements"], 1);
    assert_eq!(listed.data()["contents"][0]["name"], "idc-sh");
    assert_eq!(
        admin
            .get(&format!("/api/v2/compute/idcs/{idc_id}"))
            .await
            .ok()
            .data()["name"],
        "idc-sh"
    );

    let in_use = admin
        .delete(&format!("/api/v2/compute/regions/{region_id}"))
        .await;
    assert_eq!(
        (in_use.status, in_use.error_code()),
        (409, 10006),
        "{}",
        in_use.text
    );
    admin
        .delete(&format!("/api/v2/compute/idcs/{idc_id}"))
        .await
        .ok();
    admin
        .delete(&format!("/api/v2/compute/regions/{region_id}"))
        .await
        .ok();
    let gone = admin
        .get(&format!("/api/v2/compute/regions/{region_id}"))
        .await;
    assert_eq!((gone.status, gone.error_code()), (404, 10002));

    let tiny = admin
        .post(
            "/api/v2/compute/hostTypes",
            &json!({"name": "tiny", "description": "2core 16gb"}),
        )
        .await
        .ok();
    let type_id = tiny.data()["id"].as_i64().unwrap();
    assert_eq!(
        admin
            .get(&format!("/api/v2/compute/hostTypes/{type_id}"))
            .await
            .ok()
            .data()["description"],
        "2core 16gb"
    );
    let types = admin
        .get("/api/v2/compute/hostTypes?sort=name,desc")
        .await
        .ok();
    assert_eq!(types.data()["page"]["totalElements"], 1);

    // HOST_VIEWER reads, HOST_MANAGER writes.
    let viewer_pw = common::user_with_roles(&server, "hostviewer", &["HOST_VIEWER"]).await;
    let viewer = server.client("hostviewer", &viewer_pw);
    viewer.get("/api/v2/compute/hostTypes").await.ok();
    let refused = viewer
        .post("/api/v2/compute/regions", &json!({"name": "beijing"}))
        .await;
    assert_eq!((refused.status, refused.error_code()), (403, 10004));
    let refused = viewer
        .delete(&format!("/api/v2/compute/hostTypes/{type_id}"))
        .await;
    assert_eq!((refused.status, refused.error_code()), (403, 10004));
    let manager_pw = common::user_with_roles(&server, "hostmanager", &["HOST_MANAGER"]).await;
    let manager = server.client("hostmanager", &manager_pw);
    manager
        .post("/api/v2/compute/regions", &json!({"name": "beijing"}))
        .await
        .ok();
    manager
        .delete(&format!("/api/v2/compute/hostTypes/{type_id}"))
        .await
        .ok();
}
