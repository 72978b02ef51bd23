//! The tenant of a deployed seekdb cluster through the documented tenant API: the lists with
//! their filters and paging, the details and units at both spellings of their paths (with the
//! server's resources), the parameters (system variables) read and set through real SQL, the
//! administrator's password and the whitelist, and the refusals (10011) of what a seekdb
//! tenant cannot be, each after its input was checked.

mod common;
mod seekdb_kit;

use ocp_testkit::Api;
use seekdb_kit::*;
use serde_json::{json, Value};

async fn parameter(admin: &Api, base: &str, name: &str) -> Value {
    let all = admin.get(&format!("{base}/parameters")).await.ok();
    all.data()["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no parameter {name}"))
        .clone()
}

#[tokio::test]
async fn the_sys_tenant_is_read_changed_and_refuses_what_seekdb_cannot_do() {
    let sb = sandbox().await;
    let admin = sb.server.admin();
    let Deployed {
        id,
        server_id,
        port,
    } = deploy_one(&sb, "ten").await;
    let base = format!("/api/v2/ob/clusters/{id}/tenants/1");

    // Every cluster's tenants, with the documented fields (null where there is no value).
    let all = admin.get("/api/v2/ob/tenants").await.ok();
    let data = all.data();
    assert_eq!(data["page"]["totalElements"], 1, "{data:#}");
    let t = &data["contents"][0];
    for (field, value) in [
        ("id", json!(1)),
        ("name", json!("sys")),
        ("clusterId", json!(id)),
        ("clusterName", json!("ten")),
        ("clusterType", json!("PRIMARY")),
        ("mode", json!("MYSQL")),
        ("status", json!("NORMAL")),
        ("locality", json!("FULL{1}@zone1")),
        ("zoneList", json!("zone1")),
        ("primaryZone", json!("zone1")),
        ("locked", json!(false)),
        ("readonly", json!(false)),
        ("description", Value::Null),
    ] {
        assert_eq!(t[field], value, "{field} in {t:#}");
    }
    assert!(t.as_object().unwrap().contains_key("description"));
    assert!(t["obVersion"].as_str().unwrap().contains("seekdb"), "{t:#}");
    assert!(t["createTime"].as_str().unwrap().contains('T'), "{t:#}");
    for (query, total) in [
        ("name=SY", 1),
        ("name=foo", 0),
        ("mode=ORACLE", 0),
        ("mode=MYSQL,ORACLE", 1),
        ("status=NORMAL,CREATING", 1),
        ("status=DELETING", 0),
        ("locked=true", 0),
        ("readonly=false", 1),
        ("sort=name,desc&page=1&size=10", 1),
        ("page=2&size=1", 1),
    ] {
        let page = admin.get(&format!("/api/v2/ob/tenants?{query}")).await.ok();
        assert_eq!(page.data()["page"]["totalElements"], total, "{query}");
    }
    let second = admin.get("/api/v2/ob/tenants?page=2&size=1").await.ok();
    assert_eq!(second.data()["contents"].as_array().unwrap().len(), 0);
    for (query, field) in [
        ("locked=maybe", "locked"),
        ("mode=SQLITE", "mode"),
        ("status=GONE", "status"),
        ("sort=password", "sort"),
        ("size=0", "size"),
    ] {
        let bad = admin.get(&format!("/api/v2/ob/tenants?{query}")).await;
        assert_eq!(bad.error_code(), 10001, "{query}: {}", bad.text);
        assert!(bad.text.contains(field), "{query}: {}", bad.text);
    }
    let of_cluster = admin
        .get(&format!("/api/v2/ob/clusters/{id}/tenants"))
        .await
        .ok();
    assert_eq!(of_cluster.data()["page"]["totalElements"], 1);
    assert_eq!(of_cluster.data()["contents"][0]["clusterName"], "ten");

    // Details and units, at the documented path (`/cluster/`) and the plural one, with what
    // the server reports of itself.
    for path in [base.clone(), format!("/api/v2/ob/cluster/{id}/tenants/1")] {
        let detail = admin.get(&path).await.ok();
        let d = detail.data();
        assert_eq!(d["name"], "sys", "{d:#}");
        assert_eq!(d["clusterStatus"], "RUNNING");
        assert_eq!(d["charset"], "utf8mb4");
        assert_eq!(d["collation"], "utf8mb4_general_ci");
        assert_eq!(d["whitelist"], "%");
        assert_eq!(d["sqlAuditEnabled"], false);
        let zone = &d["zones"][0];
        assert_eq!(zone["name"], "zone1");
        assert_eq!(zone["replicaType"], "FULL");
        assert_eq!(zone["resourcePool"]["unitCount"], 1);
        assert!(
            zone["resourcePool"]["unitConfig"]["maxCpuCoreCount"]
                .as_f64()
                .unwrap()
                > 0.0
        );
        let unit = &zone["units"][0];
        assert_eq!(unit["serverId"], server_id);
        assert_eq!(unit["status"], "ACTIVE");
        assert!(unit["memorySize"].as_i64().unwrap() > 0, "{unit:#}");
        assert!(unit["dataDiskSize"].as_i64().unwrap() > 0, "{unit:#}");
    }
    for path in [
        format!("{base}/units"),
        format!("/api/v2/ob/cluster/{id}/tenants/1/units"),
    ] {
        let units = admin.get(&path).await.ok();
        let unit = &units.data()["contents"][0];
        assert_eq!(unit["serverId"], server_id, "{path}");
        assert_eq!(unit["zoneName"], "zone1");
        assert!(unit["logDiskSize"].as_i64().unwrap() > 0, "{unit:#}");
        assert!(unit["cpuCoreCount"].as_f64().unwrap() > 0.0, "{unit:#}");
    }
    let none = admin
        .get(&format!("{base}/units?zoneName=zone9"))
        .await
        .ok();
    assert_eq!(none.data()["contents"].as_array().unwrap().len(), 0);
    let missing = admin
        .get(&format!("/api/v2/ob/clusters/{id}/tenants/2"))
        .await;
    assert_eq!(missing.status, 404, "{}", missing.text);

    // Parameters: the tenant's system variables, as shown and with their ranges.
    let autocommit = parameter(&admin, &base, "autocommit").await;
    assert_eq!(autocommit["currentValue"], "ON", "{autocommit:#}");
    assert_eq!(autocommit["defaultValue"], "ON");
    assert_eq!(autocommit["valueRange"]["type"], "ENUM");
    assert_eq!(autocommit["valueRange"]["allowedValues"], "OFF,ON");
    assert_eq!(autocommit["readonly"], false);
    let packet = parameter(&admin, &base, "max_allowed_packet").await;
    assert_eq!(packet["valueRange"]["type"], "INT", "{packet:#}");
    assert_eq!(packet["valueRange"]["minValue"], "1024");
    let version = parameter(&admin, &base, "version_comment").await;
    assert_eq!(version["readonly"], true);

    // Set as documented (a number as the value), checked first, all or nothing.
    let mut db = connect(port, "root", "Root-Pw-1").await;
    let timeout = "SELECT @@global.ob_query_timeout";
    let before = db.fetch_i64(timeout).await.unwrap();
    for (body, field) in [
        (
            json!([{"name": "no_such_variable", "value": "1"}]),
            "[0].name",
        ),
        (
            json!([{"name": "version_comment", "value": "x"}]),
            "[0].name",
        ),
        (
            json!([{"name": "ob_query_timeout", "value": 20000000},
                   {"name": "no_such_variable", "value": "1"}]),
            "[1].name",
        ),
        (
            json!([{"name": "ob_query_timeout", "value": "soon"}]),
            "[0].value",
        ),
        (json!([]), "[]"),
    ] {
        let refused = admin.put(&format!("{base}/parameters"), &body).await;
        assert_eq!(refused.error_code(), 10001, "{body}: {}", refused.text);
        assert!(refused.text.contains(field), "{body}: {}", refused.text);
    }
    assert_eq!(db.fetch_i64(timeout).await.unwrap(), before);
    admin
        .put(
            &format!("{base}/parameters"),
            &json!([{"name": "ob_query_timeout", "value": 20000000}]),
        )
        .await
        .ok();
    assert_eq!(db.fetch_i64(timeout).await.unwrap(), 20000000);
    assert_eq!(
        parameter(&admin, &base, "ob_query_timeout").await["currentValue"],
        "20000000"
    );
    db.close().await;

    // Objects: what the databases hold, by kind, filtered; the server's own are left out.
    let mut db = connect(port, "root", "Root-Pw-1").await;
    for statement in [
        "CREATE DATABASE shop",
        "CREATE TABLE shop.items (id INT PRIMARY KEY, sku VARCHAR(20), KEY by_sku (sku))",
        "CREATE VIEW shop.cheap AS SELECT id FROM shop.items",
        "CREATE PROCEDURE shop.restock() SELECT 1",
    ] {
        db.execute(statement).await.unwrap();
    }
    db.close().await;
    let objects = admin.get(&format!("{base}/objects")).await.ok();
    let mut found: Vec<(String, String)> = objects.data()["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["objectType"].as_str().unwrap().to_string(),
                o["fullName"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("INDEX", "shop.items.by_sku"),
            ("STORED_PROCEDURE", "shop.restock"),
            ("TABLE", "shop.items"),
            ("VIEW", "shop.cheap"),
        ]
        .map(|(k, n)| (k.to_string(), n.to_string()))
    );
    let index = admin
        .get(&format!("{base}/objects?objectType=INDEX&schemaName=shop"))
        .await
        .ok();
    let index = &index.data()["contents"];
    assert_eq!(index.as_array().unwrap().len(), 1);
    assert_eq!(index[0]["tableName"], "items");
    assert_eq!(index[0]["schemaName"], "shop");
    let by_name = admin
        .get(&format!(
            "{base}/objects?objectName=ITEM&objectType=TABLE,VIEW"
        ))
        .await
        .ok();
    assert_eq!(by_name.data()["contents"][0]["objectName"], "items");
    assert!(by_name.data()["contents"][0]["tableName"].is_null());
    let bad = admin
        .get(&format!("{base}/objects?objectType=TRIGGER"))
        .await;
    assert_eq!(bad.error_code(), 10001, "{}", bad.text);
    assert!(bad.text.contains("objectType"), "{}", bad.text);

    // The administrator's password: the server's and the platform's sealed copy change
    // together, so the platform still reaches the server.
    for (body, field) in [
        (json!({"newPassword": ""}), "newPassword"),
        (
            json!({"newPassword": "Tenant-Pw-2", "saveToCredential": false}),
            "saveToCredential",
        ),
    ] {
        let refused = admin.post(&format!("{base}/changePassword"), &body).await;
        assert_eq!(refused.error_code(), 10001, "{body}: {}", refused.text);
        assert!(refused.text.contains(field), "{}", refused.text);
    }
    admin
        .post(
            &format!("{base}/changePassword"),
            &json!({"newPassword": "Tenant-Pw-2", "saveToCredential": true}),
        )
        .await
        .ok();
    connect(port, "root", "Tenant-Pw-2").await.close().await;
    parameter(&admin, &base, "autocommit").await;

    // The whitelist: set on the server, shown in the details; loopback stays admitted.
    let bad = admin
        .post(
            &format!("{base}/modifyWhitelist"),
            &json!({"whitelist": "10.0.0.1; DROP"}),
        )
        .await;
    assert_eq!(bad.error_code(), 10001, "{}", bad.text);
    assert!(bad.text.contains("whitelist"));
    let set = admin
        .post(
            &format!("{base}/modifyWhitelist"),
            &json!({"whitelist": "10.0.0.0/8,192.168.1.%"}),
        )
        .await
        .ok();
    assert!(
        set.data()["hint"].as_str().unwrap().contains("loopback"),
        "{}",
        set.text
    );
    let detail = admin.get(&base).await.ok();
    assert_eq!(detail.data()["whitelist"], "10.0.0.0/8,192.168.1.%");
    let mut db = connect(port, "root", "Tenant-Pw-2").await;
    assert_eq!(
        db.fetch_text("SELECT @@global.ob_tcp_invited_nodes")
            .await
            .unwrap(),
        "10.0.0.0/8,192.168.1.%"
    );
    db.close().await;

    // What a seekdb tenant cannot be: input checked first (10001), then 10011.
    let new_tenant = json!({"name": "t1", "mode": "MYSQL", "rootPassword": "Tenant-Pw-3",
        "zones": [{"name": "zone1", "replicaType": "FULL",
                   "resourcePool": {"unitSpecName": "S1", "unitCount": 1}}]});
    let cluster_path = format!("/api/v2/ob/clusters/{id}");
    for path in ["tenants", "tenants/createTenant"] {
        let refused = admin
            .post(&format!("{cluster_path}/{path}"), &new_tenant)
            .await;
        assert_eq!(refused.error_code(), 10011, "{path}: {}", refused.text);
        let incomplete = admin
            .post(&format!("{cluster_path}/{path}"), &json!({"name": "t1"}))
            .await;
        assert_eq!(
            incomplete.error_code(),
            10001,
            "{path}: {}",
            incomplete.text
        );
    }
    for (path, body) in [
        ("lock", json!({})),
        ("unlock", json!({})),
        (
            "addReplica",
            json!({"zoneNname": "zone2", "replicaType": "FULL"}),
        ),
        (
            "modifyReplica",
            json!({"zoneName": "zone1", "replicaType": "READONLY"}),
        ),
        ("deleteReplica", json!({"zoneNname": "zone1"})),
        ("modifyPrimaryZone", json!({"primaryZone": "zone1"})),
    ] {
        let refused = admin.post(&format!("{base}/{path}"), &body).await;
        assert_eq!(refused.error_code(), 10011, "{path}: {}", refused.text);
        assert!(refused.text.contains("seekdb"), "{path}: {}", refused.text);
    }
    for (path, body, field) in [
        (
            "modifyReplica",
            json!({"zoneName": "zone1", "replicaType": "BEST"}),
            "replicaType",
        ),
        ("deleteReplica", json!({"zoneName": ""}), "zoneName"),
        (
            "modifyPrimaryZone",
            json!({"primaryZone": " "}),
            "primaryZone",
        ),
        (
            "addReplica",
            json!({"zoneName": "zone2", "resourcePool": {"unitSpecName": "S1", "unitCount": 0}}),
            "unitCount",
        ),
    ] {
        let refused = admin.post(&format!("{base}/{path}"), &body).await;
        assert_eq!(refused.error_code(), 10001, "{path}: {}", refused.text);
        assert!(refused.text.contains(field), "{path}: {}", refused.text);
    }
    let refused = admin.delete(&base).await;
    assert_eq!(refused.error_code(), 10011, "{}", refused.text);
    let refused = admin.delete(&format!("{base}/units/{server_id}")).await;
    assert_eq!(refused.error_code(), 10011, "{}", refused.text);
    let refused = admin.delete(&format!("{base}/units/999999")).await;
    assert_eq!(refused.status, 404, "{}", refused.text);
    let refused = admin
        .post(
            &format!("/api/v2/ob/clusters/{id}/tenants/7/lock"),
            &json!({}),
        )
        .await;
    assert_eq!(refused.status, 404, "{}", refused.text);

    // Read-only callers read, and change nothing.
    let pw = common::user_with_roles(&sb.server, "viewer", &["TENANT_VIEWER"]).await;
    let viewer = sb.server.client("viewer", &pw);
    viewer.get("/api/v2/ob/tenants").await.ok();
    viewer.get(&format!("{base}/parameters")).await.ok();
    let denied = viewer
        .post(
            &format!("{base}/modifyWhitelist"),
            &json!({"whitelist": "%"}),
        )
        .await;
    assert_eq!(denied.status, 403, "{}", denied.text);
    admin
        .post(
            &format!("{base}/modifyWhitelist"),
            &json!({"whitelist": "%"}),
        )
        .await
        .ok();
}
