//! Monitoring through real processes: an agent's monitor samples the host every second and
//! ships the samples; the metric APIs answer from them; a server outage loses nothing; a
//! batch sent twice is stored once.

mod common;

use std::time::Duration;

use ocp_testkit::{AgentApi, Sandbox};
use serde_json::{json, Value};

fn iso(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S%%2B00:00")
        .to_string()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The timestamps of the points `/metric` answers for `metric` from `start` to `end`.
async fn timestamps(admin: &ocp_testkit::Api, metric: &str, start: i64, end: i64) -> Vec<i64> {
    let path = format!(
        "/api/v2/monitor/metric?startTime={}&endTime={}&metrics={metric}&interval=1",
        iso(start),
        iso(end)
    );
    let reply = admin.get(&path).await.ok();
    reply.data()["contents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p[metric].is_number())
        .map(|p| p["timestamp"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn host_metrics_are_collected_queried_and_survive_an_outage() {
    let mut sb = Sandbox::start(common::options(), 1, 300).await.unwrap();
    let admin = sb.server.admin();
    let started = now() - 1;

    // The catalog.
    let groups = admin
        .get("/api/v2/monitor/metricGroups?scope=HOST&type=NORMAL")
        .await
        .ok();
    let text = groups.text.clone();
    for metric in ["host_cpu_percent", "host_load1", "host_memory_used_percent"] {
        assert!(text.contains(metric), "{metric} in {text}");
    }
    let cluster = admin
        .get("/api/v2/monitor/metricGroups?scope=CLUSTER&type=NORMAL")
        .await
        .ok();
    assert_eq!(cluster.data()["page"]["totalElements"], 1);
    assert!(cluster.text.contains("ob_active_session_num"));
    let tenant = admin
        .get("/api/v2/monitor/metricGroups?scope=TENANT")
        .await
        .ok();
    assert_eq!(tenant.data()["page"]["totalElements"], 0);
    let bad = admin.get("/api/v2/monitor/metricGroups?scope=PLANET").await;
    assert_eq!(bad.error_code(), 10001);
    assert!(bad.text.contains("scope"));

    // The platform's own numbers, for Prometheus, to authenticated callers only.
    let page = admin.get("/metrics").await;
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("ocp_hosts{status=\"AVAILABLE\"} 1"),
        "{}",
        page.text
    );
    assert!(page.text.contains("# TYPE ocp_server_rss_bytes gauge"));
    assert_eq!(admin.anonymous().get("/metrics").await.status, 401);

    // Each agent serves its host's samples for Prometheus too (opt-in, --prometheus-listen).
    let text = reqwest::get(sb.agents[0].prometheus_url())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("# TYPE host_load1 gauge"), "{text}");

    // Points arrive within seconds.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while timestamps(&admin, "host_load1", started, now() + 1)
        .await
        .len()
        < 3
    {
        assert!(std::time::Instant::now() < deadline, "no metrics arrived");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Grouped by host address.
    let path = format!(
        "/api/v2/monitor/metricsWithLabel?startTime={}&endTime={}&metrics=host_memory_used_percent,host_cpu_percent&groupBy=svr_ip&interval=60&labels=svr_ip:127.0.0.2",
        iso(started - 120),
        iso(now() + 1)
    );
    let grouped = admin.get(&path).await.ok();
    let contents = grouped.data()["contents"].as_array().unwrap().clone();
    assert_eq!(contents.len(), 1, "{}", grouped.text);
    assert_eq!(contents[0]["svr_ip"], "127.0.0.2");
    let used = contents[0]["data"][0]["host_memory_used_percent"]
        .as_f64()
        .unwrap();
    assert!(used > 0.0 && used < 100.0, "{used}");
    // Disk space per mount: the root file system is always there.
    let path = format!(
        "/api/v2/monitor/metricsWithLabel?startTime={}&endTime={}&metrics=host_disk_used_percent&groupBy=mount&interval=60",
        iso(started - 120),
        iso(now() + 1)
    );
    let mounts = admin.get(&path).await.ok();
    let root = mounts.data()["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["mount"] == "/")
        .cloned()
        .unwrap_or_else(|| panic!("no / in {}", mounts.text));
    let used = root["data"][0]["host_disk_used_percent"].as_f64().unwrap();
    assert!(used > 0.0 && used <= 100.0, "{used}");
    // The reference spells the window start_time and end_time: the same answer.
    let snake = admin
        .get(
            &path
                .replace("startTime=", "start_time=")
                .replace("endTime=", "end_time="),
        )
        .await
        .ok();
    assert!(
        snake.data()["contents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["mount"] == "/"),
        "{}",
        snake.text
    );
    assert!(!timestamps(&admin, "host_open_files", started, now() + 1)
        .await
        .is_empty());
    let missing = admin.get("/api/v2/monitor/metric?metrics=host_load1").await;
    assert_eq!(missing.error_code(), 10001);
    assert!(missing.text.contains("startTime"));
    // OCP's app label: HOST for a host's series.
    let window = format!(
        "startTime={}&endTime={}",
        iso(started - 120),
        iso(now() + 1)
    );
    let by_app = admin
        .get(&format!(
            "/api/v2/monitor/metricsWithLabel?{window}&metrics=host_load1&groupBy=app&labels=app:host"
        ))
        .await
        .ok();
    assert_eq!(
        by_app.data()["contents"][0]["app"],
        "HOST",
        "{}",
        by_app.text
    );
    // What a query cannot answer is refused, naming it, rather than answered empty.
    for (query, field, named) in [
        ("metrics=host_load1&groupBy=host_ip", "groupBy", "host_ip"),
        ("metrics=host_load1&labels=zone:z1", "labels", "zone"),
        ("metrics=host_lod1", "metrics", "host_lod1"),
    ] {
        let refused = admin
            .get(&format!(
                "/api/v2/monitor/metricsWithLabel?{window}&{query}"
            ))
            .await;
        assert_eq!(refused.error_code(), 10001, "{}", refused.text);
        assert!(refused.text.contains(field), "{}", refused.text);
        assert!(refused.text.contains(named), "{}", refused.text);
    }
    let bad_time = admin
        .get("/api/v2/monitor/metric?metrics=host_load1&startTime=yesterday&endTime=now")
        .await;
    assert!(bad_time.text.contains("ISO-8601"), "{}", bad_time.text);
    let in_seconds = admin
        .get(&format!(
            "/api/v2/monitor/metric?metrics=host_load1&startTime={}&endTime={}",
            started - 120,
            now() + 1
        ))
        .await
        .ok();
    assert!(!in_seconds.data()["contents"].as_array().unwrap().is_empty());

    // The server is down for 4 seconds: the agent keeps its samples and sends them after.
    let down_from = now();
    sb.server.kill();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let down_to = now();
    sb.server.restart().unwrap();
    let admin = sb.server.admin();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let seen = timestamps(&admin, "host_cpu_percent", down_from, down_to).await;
        if seen.len() >= 3 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the outage's samples never arrived: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // A batch sent twice is stored once; a bad one is refused whole.
    let (host_id, secret) = sb.agents[0].credentials().unwrap();
    let agent = AgentApi::new(sb.server.url(), host_id, &secret);
    let batch =
        json!({"points": [{"metric": "host_test_gauge", "timestamp": now(), "value": 4.5}]});
    let first = agent
        .send("POST", "/api/v2/agents/metrics", Some(&batch))
        .await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["data"]["stored"], 1);
    let again = agent
        .send("POST", "/api/v2/agents/metrics", Some(&batch))
        .await;
    assert_eq!(again.body["data"]["stored"], 0);
    let bad: Value = json!({"points": [{"metric": "bad name", "timestamp": now(), "value": 1}]});
    let refused = agent
        .send("POST", "/api/v2/agents/metrics", Some(&bad))
        .await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.to_string().contains("points[0].metric"));
    let unsigned = admin.post("/api/v2/agents/metrics", &batch).await;
    assert_ne!(unsigned.status, 200);
}
