//! Prometheus as the metrics engine, through real processes: Debian's `prometheus` with its
//! remote-write receiver, a server started with `--metrics-backend prometheus` and an agent.
//! The agent's points arrive in Prometheus with the labels the embedded store gives them,
//! the monitor APIs answer them from PromQL, an alert fires from them, and a Prometheus that
//! is down answers 10017.

mod common;

use std::time::Duration;

use ocp_testkit::{PrometheusServer, Sandbox};
use serde_json::{json, Value};

fn iso(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S%%2B00:00")
        .to_string()
}

/// Prometheus' own answer to an instant `query`.
async fn promql(prom: &PrometheusServer, query: &str) -> Vec<Value> {
    let reply: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/query", prom.url()))
        .query(&[("query", query)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["status"], "success", "{reply}");
    reply["data"]["result"].as_array().unwrap().clone()
}

#[tokio::test]
async fn prometheus_keeps_the_points_answers_the_queries_and_feeds_the_alerts() {
    let prom = PrometheusServer::start().unwrap();
    let mut options = common::options();
    options.extra_args.extend([
        "--metrics-backend".to_string(),
        "prometheus".to_string(),
        "--prometheus-url".to_string(),
        prom.url(),
    ]);
    let sb = Sandbox::start(options, 1, 300).await.unwrap();
    let admin = sb.server.admin();
    let ip = ocp_testkit::host_ip(0);
    admin
        .post(
            "/api/v2/alarm/rules",
            &json!({"name": "prom_load_seen", "alarmName": "Load seen", "scope": "Host",
                    "appType": "OCP", "level": 4, "evaluationIntervalSeconds": 1,
                    "expression": {"metric": "host_load1", "aggregation": "max",
                                   "comparator": ">=", "threshold": 0}}),
        )
        .await
        .ok();

    // The agent's points reach Prometheus, labelled with the host.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let series = loop {
        let found = promql(&prom, "host_load1").await;
        if !found.is_empty() {
            break found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no host_load1 in Prometheus"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let labels = &series[0]["metric"];
    assert_eq!(labels["svr_ip"], ip.as_str(), "{labels}");
    assert!(labels["host_id"].as_str().unwrap().parse::<i64>().is_ok());
    assert_eq!(
        promql(&prom, "host_disk_used_percent").await[0]["metric"]["mount"]
            .as_str()
            .map(|m| m.starts_with('/')),
        Some(true)
    );

    // The shipped Grafana dashboard's queries are PromQL that Prometheus takes; the host
    // charts show this host.
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../deploy/grafana/ocp-hosts-and-clusters.json"),
        )
        .unwrap(),
    )
    .unwrap();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"]
                .as_str()
                .unwrap()
                .replace("$svr_ip", ".*")
                .replace("$ob_cluster", ".*");
            let answer = promql(&prom, &expr).await;
            if ["CPU", "Memory used", "Load (1 min)"].contains(&panel["title"].as_str().unwrap()) {
                assert!(!answer.is_empty(), "{expr} answers nothing");
            }
        }
    }

    // The monitor API answers them from PromQL: per host, point for point.
    let path = |end: i64| {
        format!(
            "/api/v2/monitor/metricsWithLabel?startTime={}&endTime={}&metrics=host_load1,host_memory_used_percent&groupBy=svr_ip&interval=1",
            iso(end - 120),
            iso(end)
        )
    };
    let now = || chrono::Utc::now().timestamp() + 1;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let points = loop {
        let reply = admin.get(&path(now())).await.ok();
        let groups = reply.data()["contents"].as_array().unwrap().clone();
        if let Some(g) = groups.first() {
            assert_eq!(groups.len(), 1);
            assert_eq!(g["svr_ip"], ip.as_str(), "{g}");
            let points = g["data"].as_array().unwrap().clone();
            if points.len() >= 3 {
                break points;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "no points answered");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let last = points.last().unwrap();
    let at = last["timestamp"].as_i64().unwrap();
    let stored = promql(&prom, &format!("host_memory_used_percent @ {at}")).await;
    assert_eq!(
        stored[0]["value"][1]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .unwrap(),
        last["host_memory_used_percent"].as_f64().unwrap(),
        "{last}"
    );

    // An alert fires from Prometheus' points.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let reply = admin
            .get("/api/v2/alarm/alarms?alarmType=prom_load_seen&status=Active")
            .await
            .ok();
        let list = reply.data()["contents"].as_array().unwrap().clone();
        if let Some(a) = list.first() {
            assert_eq!(a["labels"]["svr_ip"], ip.as_str(), "{a}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the alert never fired"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // Prometheus down: the queries answer 10017 (and the agent keeps its points until a
    // batch is taken).
    drop(prom);
    let down = admin.get(&path(now())).await;
    assert_eq!(down.status, 503, "{}", down.text);
    assert_eq!(down.error_code(), 10017);
}
