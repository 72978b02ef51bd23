//! The answers carry the fields of the reference's samples: for every GET operation whose
//! documented sample is JSON (`tests/documented_fields.txt`, made from the reference by
//! `scripts/documented-fields.py`), the live answer on a sandbox with a deployed seekdb
//! cluster has every field the sample has, `null` where it has no value. Operations whose
//! sample needs what this sandbox does not make (statements with statistics, backups, alert
//! events, OBProxy, which answers 10011) are named in `UNCHECKED` with the reason.

mod common;
mod seekdb_kit;

use std::collections::BTreeMap;

use seekdb_kit::*;
use serde_json::{json, Value};

/// Operations not checked here, and why: a part that starts and ends with `/` names every
/// path holding it, another the paths that end with it.
const UNCHECKED: &[(&str, &str)] = &[
    (
        "/api/v2/obproxy/",
        "OBProxy answers 10011 (README: a known gap)",
    ),
    (
        "/topSql",
        "needs sampled statements: tests/sql_diagnostics.rs",
    ),
    (
        "/sqls/",
        "needs sampled statements: tests/sql_diagnostics.rs",
    ),
    (
        "/sql/",
        "needs sampled statements: tests/sql_diagnostics.rs",
    ),
    (
        "/plans/",
        "needs sampled statements: tests/sql_diagnostics.rs",
    ),
    ("/backup/", "needs backup sets: tests/backups.rs"),
    (
        "/api/v2/monitor/metric",
        "needs collected series: tests/monitor.rs",
    ),
    (
        "/api/v2/monitor/metricsWithLabel",
        "needs collected series: tests/monitor.rs",
    ),
    ("/api/v2/alarm/", "needs alert events: tests/alarms.rs"),
];

/// Fields of a sample not checked, and why.
const UNCHECKED_FIELDS: &[(&str, &str)] = &[
    (
        "/api/v2/tasks/instances/{taskInstanceId}: creator.",
        "sample 002, which this project reproduces field for field, gives a task's creator as \
         its name; the task list gives it as {id, name}",
    ),
    (
        "/api/v2/monitor/metricGroups: contents[].metricGroups[].Description",
        "the sample's typo of `description` in its last group (its table says description)",
    ),
    (
        "/api/v2/monitor/metricGroups: contents[].metricGroups[].metrics[].Description",
        "the same typo",
    ),
    (
        "/api/v2/software-packages: contents[].installationDataList",
        "OCP's own record of where it installed a package; the platform keeps none",
    ),
];

/// Whether `answer` has `field` (a dotted path, `[]` for each item of a list); a list with no
/// item, or a null on the way, has nothing deeper to check.
fn has(answer: &Value, field: &str) -> bool {
    let (head, rest) = match field.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (field, None),
    };
    let key = head.trim_end_matches("[]");
    let inner = if key.is_empty() {
        Some(answer)
    } else {
        answer.as_object().and_then(|o| o.get(key))
    };
    let Some(inner) = inner else {
        return false;
    };
    // `a[]`: each item of the list; `a[][]`: of the lists in it.
    let mut items = vec![inner];
    for _ in 0..head.matches("[]").count() {
        items = items
            .into_iter()
            .flat_map(|v| v.as_array().into_iter().flatten())
            .collect();
    }
    match rest {
        None => true,
        Some(rest) => items.iter().all(|item| item.is_null() || has(item, rest)),
    }
}

#[tokio::test]
async fn answers_carry_the_fields_of_the_documented_samples() {
    let sb = sandbox().await;
    let admin = sb.server.admin();
    let Deployed {
        id,
        server_id,
        port,
    } = deploy_one(&sb, "shapes").await;
    let base = format!("/api/v2/ob/clusters/{id}/tenants/1");
    admin
        .post(&format!("{base}/roles"), &json!({"roleName": "auditor"}))
        .await
        .ok();
    let mut db = connect(port, "root", "Root-Pw-1").await;
    db.execute("CREATE DATABASE shop").await.unwrap();
    db.execute("CREATE TABLE shop.t (id INT PRIMARY KEY)")
        .await
        .unwrap();
    db.close().await;
    let host = admin
        .get(&format!("/api/v2/compute/hosts/{}", sb.host_id(0)))
        .await
        .ok();
    let host = host.data().clone();
    let tasks = admin.get("/api/v2/tasks/instances").await.ok();
    let task = &tasks.data()["contents"][0];
    // Task list items name their cluster as documented, and filter by its name (also spelled
    // `cluterName`, as the reference does).
    assert_eq!(
        task["cluster"],
        json!({"id": id, "name": "shapes", "obClusterId": id, "type": "PRIMARY"}),
        "{task:#}"
    );
    for (query, total) in [
        ("clusterName=SHAP", 1),
        ("cluterName=shapes", 1),
        ("clusterName=other", 0),
        ("tenantName=nope", 0),
    ] {
        let found = admin
            .get(&format!("/api/v2/tasks/instances?{query}"))
            .await
            .ok();
        assert_eq!(found.data()["page"]["totalElements"], total, "{query}");
    }
    // Zones as documented: compaction status, root server, times; servers with their IDC,
    // region and host type.
    let zones = admin
        .get(&format!("/api/v2/ob/clusters/{id}/zones"))
        .await
        .ok();
    let zone = &zones.data()["contents"][0];
    assert!(
        zone["compactionStatus"] == "IDLE" || zone["compactionStatus"] == "COMPACTING",
        "{zone:#}"
    );
    assert_eq!(zone["rootServer"]["role"], "LEADER");
    assert!(zone["servers"][0]["hostTypeName"].is_string(), "{zone:#}");
    let clusters = admin.get("/api/v2/ob/clusters").await.ok();
    let summaries = &clusters.data()["contents"][0]["alarmSummaries"];
    assert_eq!(summaries.as_array().unwrap().len(), 5, "{summaries:#}");
    assert!(summaries[0]["linkDataUrl"]
        .as_str()
        .unwrap()
        .contains("/api/v2/alarm/alarms?level=1&status=Active&obCluster=shapes"));
    let values: BTreeMap<&str, String> = [
        ("{id}", id.to_string()),
        ("{clusterId}", id.to_string()),
        ("{tenantId}", "1".to_string()),
        ("{roleName}", "auditor".to_string()),
        ("{zoneName}", "zone1".to_string()),
        ("{serverId}", server_id.to_string()),
        ("{hostId}", sb.host_id(0).to_string()),
        ("{hostTypeId}", host["typeId"].to_string()),
        ("{idcId}", host["idcId"].to_string()),
        ("{regionId}", host["regionId"].to_string()),
        ("{taskInstanceId}", task["id"].to_string()),
        ("{subtaskInstanceId}", task["subtasks"][0]["id"].to_string()),
    ]
    .into_iter()
    .collect();

    let list = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/documented_fields.txt"),
    )
    .unwrap();
    let mut missing = Vec::new();
    let mut checked = 0;
    for line in list.lines().filter(|l| !l.starts_with('#')) {
        let mut parts = line.split_whitespace();
        let documented = parts.next().unwrap();
        let unchecked = |part: &str| {
            if part.starts_with('/') && part.ends_with('/') {
                documented.contains(part)
            } else {
                documented.ends_with(part)
            }
        };
        if UNCHECKED.iter().any(|(part, _)| unchecked(part)) {
            continue;
        }
        let mut path = documented.to_string();
        for (name, value) in &values {
            path = path.replace(name, value);
        }
        assert!(
            !path.contains('{'),
            "no value for a parameter of {documented}"
        );
        let reply = admin.get(&path).await;
        assert!(reply.status == 200, "{documented} ({path}): {}", reply.text);
        checked += 1;
        let data = &reply.body["data"];
        for field in parts {
            let named = format!("{documented}: {field}");
            if UNCHECKED_FIELDS.iter().any(|(f, _)| named.starts_with(f)) {
                continue;
            }
            if !has(data, field) {
                missing.push(named);
            }
        }
    }
    assert!(checked >= 27, "only {checked} operations checked");
    assert!(
        missing.is_empty(),
        "documented fields missing from the answers:\n{}",
        missing.join("\n")
    );
}
