//! SQL diagnostics on real seekdb: a known workload (a hot point query, a slow sleep, a
//! scan) run on a deployed cluster comes back through the agent's sampling as TopSQL rows
//! with the executions made, in the right order, with trends, text, plans and operators.

mod common;
mod seekdb_kit;

use std::time::Duration;

use ocp_testkit::Api;
use seekdb_kit::*;
use serde_json::Value;

fn range_query() -> String {
    let now = chrono::Utc::now().timestamp();
    format!("startTime={}&endTime={}", now - 1800, now + 60)
}

/// The TopSQL row of the statement whose text starts with `prefix`.
fn row<'a>(top: &'a Value, prefix: &str) -> Option<&'a Value> {
    top["contents"].as_array()?.iter().find(|r| {
        r["sqlTextShort"]
            .as_str()
            .is_some_and(|t| t.to_lowercase().starts_with(prefix))
    })
}

async fn top(admin: &Api, base: &str, extra: &str) -> Value {
    let reply = admin
        .get(&format!("{base}/topSql?{}{extra}", range_query()))
        .await;
    reply.ok().data().clone()
}

#[tokio::test]
async fn a_known_workload_shows_in_top_sql_with_its_plans() {
    let sb = sandbox().await;
    let admin = sb.server.admin();
    let Deployed {
        id,
        server_id,
        port,
    } = deploy_one(&sb, "diag").await;
    let base = format!("/api/v2/ob/clusters/{id}/tenants/1");

    // The monitor's own statements arrive first (inner): its readings have begun, so what
    // the workload runs from now on is counted from its first execution.
    admin
        .poll(
            &format!("{base}/topSql?{}&inner=true", range_query()),
            WAIT,
            |d| d["contents"].as_array().is_some_and(|c| !c.is_empty()),
        )
        .await
        .unwrap_or_else(|last| panic!("no statements sampled: {last:#}"));

    let mut db = connect(port, "root", "Root-Pw-1").await;
    db.execute("CREATE DATABASE shop").await.unwrap();
    db.execute("USE shop").await.unwrap();
    db.execute("CREATE TABLE items (id INT PRIMARY KEY, v VARCHAR(40))")
        .await
        .unwrap();
    for batch in 0..10 {
        let values: Vec<String> = (0..500)
            .map(|i| {
                let n = batch * 500 + i;
                format!("({n}, 'item number {n}')")
            })
            .collect();
        db.execute(&format!("INSERT INTO items VALUES {}", values.join(", ")))
            .await
            .unwrap();
    }
    for i in 0..50 {
        db.fetch_i64(&format!("SELECT id FROM items WHERE id = {}", i * 7))
            .await
            .unwrap();
    }
    for _ in 0..3 {
        db.fetch_i64("SELECT sleep(0.3)").await.unwrap();
    }
    for i in 0..5 {
        db.fetch_i64(&format!("SELECT COUNT(*) FROM items WHERE v LIKE '%{i}7%'"))
            .await
            .unwrap();
    }

    // TopSQL: each with the executions made, the slowest on average first.
    let done = |d: &Value| {
        [("select id", 50), ("select sleep", 3), ("select count", 5)]
            .iter()
            .all(|(p, n)| row(d, p).is_some_and(|r| r["executions"] == *n))
    };
    let all = admin
        .poll(&format!("{base}/topSql?{}", range_query()), WAIT, done)
        .await
        .unwrap_or_else(|last| {
            let seen: Vec<(&Value, &Value)> = last["contents"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| (&r["sqlTextShort"], &r["executions"]))
                .collect();
            panic!("the workload is not in TopSQL (text, executions): {seen:?}")
        });
    let order: Vec<&str> = all["contents"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["sqlTextShort"].as_str())
        .filter(|t| t.starts_with("SELECT") || t.starts_with("select"))
        .collect();
    let at = |p: &str| {
        order
            .iter()
            .position(|t| t.to_lowercase().starts_with(p))
            .unwrap()
    };
    assert!(
        at("select sleep") < at("select count") && at("select count") < at("select id"),
        "{order:?}"
    );
    let sleep = row(&all, "select sleep").unwrap().clone();
    assert_eq!(sleep["sqlType"], "SELECT");
    assert_eq!(sleep["dbName"], "shop");
    assert_eq!(sleep["userName"], "root");
    assert_eq!(sleep["inner"], false);
    assert_eq!(sleep["serverId"], server_id);
    assert!(sleep["server"]
        .as_str()
        .unwrap()
        .ends_with(&format!(":{port}")));
    let avg = sleep["avgElapsedTime"].as_f64().unwrap();
    assert!((300.0..1000.0).contains(&avg), "{sleep:#}");
    assert!(
        sleep["sumElapsedTime"].as_f64().unwrap() >= 900.0,
        "{sleep:#}"
    );
    assert!(
        sleep["failCount"].is_null(),
        "seekdb keeps no errors per statement"
    );
    let scan = row(&all, "select count").unwrap().clone();
    assert_eq!(scan["tableScanPercentage"], 1.0, "{scan:#}");
    assert!(row(&all, "select id").unwrap()["avgReturnRows"] == 1.0);

    // Sorting, the keyword and the advanced search.
    let by_count = top(&admin, &base, "&sort=executions,desc").await;
    let first = &by_count["contents"][0];
    assert!(first["executions"].as_i64() >= Some(50), "{by_count:#}");
    let sleeps = top(&admin, &base, "&sqlText=SLEEP").await;
    assert_eq!(
        sleeps["contents"].as_array().unwrap().len(),
        1,
        "{sleeps:#}"
    );
    let fifty = top(
        &admin,
        &base,
        "&searchAttr=executions&searchOp=EQ&searchVal=50",
    )
    .await;
    assert!(row(&fifty, "select id").is_some(), "{fifty:#}");
    assert!(row(&fifty, "select sleep").is_none(), "{fifty:#}");
    let inner = top(&admin, &base, "&inner=true").await;
    assert!(
        inner["contents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["inner"] == true),
        "the monitor's statements are inner"
    );
    assert!(all["contents"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["inner"] == false));

    // The statement's trend, text and plans; the scan's operators.
    let sql_id = sleep["sqlId"].as_str().unwrap();
    let trend = admin
        .get(&format!("{base}/sqls/{sql_id}/trends?{}", range_query()))
        .await
        .ok();
    let points = trend.data()["contents"].as_array().unwrap();
    let executions: i64 = points
        .iter()
        .map(|p| p["executions"].as_i64().unwrap())
        .sum();
    assert_eq!(executions, 3, "{}", trend.text);
    assert!(points.iter().all(|p| p["timestamp"].is_string()));
    let text = admin.get(&format!("{base}/sql/{sql_id}/text")).await.ok();
    assert!(
        text.data()["fulltext"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("sleep("),
        "{}",
        text.text
    );
    let scan_id = scan["sqlId"].as_str().unwrap();
    let plans = admin
        .get(&format!("{base}/sql/{scan_id}/topPlan?{}", range_query()))
        .await
        .ok();
    let plan = plans.data()["contents"][0].clone();
    assert_eq!(plan["executions"], 5, "{}", plans.text);
    assert_eq!(plan["tableScan"], true);
    assert_eq!(plan["planType"], "LOCAL");
    let uid = plan["uid"].as_str().unwrap();
    let also = admin
        .get(&format!("{base}/sqls/{scan_id}/topPlan?{}", range_query()))
        .await
        .ok();
    assert_eq!(also.data()["contents"][0]["uid"], uid);
    let plan_trend = admin
        .get(&format!("{base}/plans/{uid}/trends?{}", range_query()))
        .await
        .ok();
    let plan_executions: i64 = plan_trend.data()["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["executions"].as_i64().unwrap())
        .sum();
    assert_eq!(plan_executions, 5, "{}", plan_trend.text);
    for path in [
        format!("{base}/plans/{uid}/explain"),
        format!("/api/v2/cluters/{id}/tenants/1/plans/{uid}/explain"),
    ] {
        let explain = admin.get(&path).await.ok();
        let text = &explain.text;
        assert!(text.contains("TABLE FULL SCAN"), "{text}");
        assert!(text.contains("\"objectName\":\"items\""), "{text}");
        assert!(
            explain.data()["rootOperations"][0]["operator"].is_string(),
            "{text}"
        );
    }

    let cluster_now = cluster(&admin, id).await;
    // SlowSQL: the sleeps ran over the 100 ms watermark the platform deploys seekdb with;
    // each execution has its trace id, whose log search finds its lines.
    let slow = admin
        .poll(&format!("{base}/slowSql?{}", range_query()), WAIT, |d| {
            row(d, "select sleep").is_some_and(|r| r["executions"] == 3)
        })
        .await
        .unwrap_or_else(|last| {
            let home = home_of(&cluster_now);
            let log = std::fs::read_to_string(format!("{home}/log/seekdb.log")).unwrap_or_default();
            let slow: Vec<&str> = log.lines().filter(|l| l.contains("[slow query]")).collect();
            panic!(
                "the sleeps are not in SlowSQL: {last:#}; the log has {} slow lines, the last {:?}",
                slow.len(),
                slow.last()
            )
        });
    let slow_sleep = row(&slow, "select sleep").unwrap();
    assert_eq!(slow_sleep["sqlId"], sleep["sqlId"], "{slow_sleep:#}");
    assert!(slow_sleep["avgElapsedTime"].as_f64().unwrap() >= 300.0);
    assert!(
        row(&slow, "select id").is_none(),
        "a point query is not slow"
    );
    let executions = admin
        .get(&format!(
            "{base}/slowSql/executions?{}&sqlId={sql_id}",
            range_query()
        ))
        .await
        .ok();
    let runs = executions.data()["contents"].as_array().unwrap();
    assert_eq!(runs.len(), 3, "{}", executions.text);
    assert!(runs
        .iter()
        .all(|r| r["elapsedTime"].as_f64().unwrap() >= 300.0
            && r["client"].as_str().unwrap().starts_with("127.0.0.")
            && r["sessionId"].as_i64() > Some(0)));
    let trace = runs[0]["traceId"].as_str().unwrap();
    let logs = format!("/api/v2/ob/clusters/{id}/servers/{server_id}/logs");
    let traced = admin
        .get(&format!("{logs}?{}&traceId={trace}", range_query()))
        .await
        .ok();
    let lines = traced.data()["lines"].as_array().unwrap();
    assert!(!lines.is_empty(), "{}", traced.text);
    assert!(lines
        .iter()
        .all(|l| l["text"].as_str().unwrap().contains(trace)));
    assert!(
        lines
            .iter()
            .any(|l| l["text"].as_str().unwrap().contains("[slow query]")),
        "{}",
        traced.text
    );

    // A statement on a missing table: its trace id finds why in the log.
    let missing = db.execute("SELECT * FROM no_such_table").await;
    assert!(missing.is_err());
    let failed = db.fetch_text("SELECT last_trace_id()").await.unwrap();
    let why = admin
        .get(&format!("{logs}?{}&traceId={failed}", range_query()))
        .await
        .ok();
    assert!(why.text.contains("no_such_table"), "{}", why.text);
    assert!(why.data()["stoppedEarly"].is_null());
    // Pages: newest first, the next page from the cursor.
    let first = admin
        .get(&format!("{logs}?{}&levels=INFO&limit=3", range_query()))
        .await
        .ok();
    let next = first.data()["next"].as_str().expect("a cursor").to_string();
    let second = admin
        .get(&format!(
            "{logs}?{}&levels=INFO&limit=3&cursor={next}",
            range_query()
        ))
        .await
        .ok();
    let times = |r: &ocp_testkit::Reply| -> Vec<String> {
        r.data()["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["time"].as_str().unwrap().to_string())
            .collect()
    };
    let (a, b) = (times(&first), times(&second));
    assert_eq!((a.len(), b.len()), (3, 3));
    assert!(
        a.windows(2).all(|w| w[0] >= w[1]) && a[2] >= b[0],
        "{a:?} {b:?}"
    );
    let download = admin
        .get(&format!(
            "{logs}/download?{}&traceId={failed}",
            range_query()
        ))
        .await;
    assert!(download.text.contains("no_such_table"), "{}", download.text);
    // The agent's own log, by its name only.
    let host = sb.host_id(0);
    let agent = admin
        .get(&format!("/api/v2/hosts/{host}/agentLogs?keyword=started"))
        .await
        .ok();
    assert!(
        !agent.data()["lines"].as_array().unwrap().is_empty(),
        "{}",
        agent.text
    );
    for (query, field) in [
        ("levels=LOUD", "levels"),
        ("regex=(", "regex"),
        ("cursor=somewhere", "cursor"),
        ("limit=5000", "limit"),
    ] {
        let refused = admin.get(&format!("{logs}?{query}")).await;
        assert_eq!(refused.error_code(), 10001, "{query}: {}", refused.text);
        assert!(refused.text.contains(field), "{query}: {}", refused.text);
    }
    let outside = admin
        .get(&format!(
            "/api/v2/hosts/{host}/agentLogs?file=../../etc/passwd"
        ))
        .await;
    assert_eq!(outside.error_code(), 10001, "{}", outside.text);

    // Bad input is refused with its field; what is not there is not found.
    for (query, field) in [
        ("&searchAttr=executions&searchOp=XX&searchVal=1", "searchOp"),
        ("&searchAttr=sqlId&searchOp=EQ&searchVal=1", "searchAttr"),
        ("&searchAttr=executions", "searchOp"),
        ("&sort=bogus,desc", "sort"),
        ("&serverId=987654", "serverId"),
        ("&inner=maybe", "inner"),
    ] {
        let refused = admin
            .get(&format!("{base}/topSql?{}{query}", range_query()))
            .await;
        assert_eq!(refused.error_code(), 10001, "{query}: {}", refused.text);
        assert!(refused.text.contains(field), "{query}: {}", refused.text);
    }
    let no_time = admin.get(&format!("{base}/topSql")).await;
    assert!(no_time.text.contains("startTime"), "{}", no_time.text);
    let unknown = admin.get(&format!("{base}/sql/ABCDEF/text")).await;
    assert_eq!(unknown.error_code(), 10002, "{}", unknown.text);
    let bad_uid = admin.get(&format!("{base}/plans/nonsense/explain")).await;
    assert_eq!(bad_uid.error_code(), 10001, "{}", bad_uid.text);
    let other_tenant = admin
        .get(&format!(
            "/api/v2/ob/clusters/{id}/tenants/2/topSql?{}",
            range_query()
        ))
        .await;
    assert_eq!(other_tenant.error_code(), 10002, "{}", other_tenant.text);
    db.close().await;
    tokio::time::sleep(Duration::from_millis(10)).await;
}
