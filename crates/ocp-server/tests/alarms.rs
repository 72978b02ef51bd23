//! Alerts through real processes: an agent's monitor reports its processes' open files; a
//! lowered threshold fires `host_agent_open_fd_count_over_threshold`, whose webhook reaches a
//! local receiver; a raised one resolves it; a blocking condition silences a target; a
//! receiver that is down gets retries, recorded in the history; a script channel gets the
//! alert as JSON; a rate limit marks the rest Limited.

mod common;

use std::time::Duration;

use ocp_testkit::{Api, Sandbox, WebhookReceiver};
use serde_json::{json, Value};

const ITEM: &str = "host_agent_open_fd_count_over_threshold";
const WAIT: Duration = Duration::from_secs(30);

async fn rule_id(admin: &Api, name: &str) -> i64 {
    let rules = admin.get("/api/v2/alarm/rules?size=200").await.ok();
    rules.data()["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("built-in item {name}"))["id"]
        .as_i64()
        .unwrap()
}

async fn set_threshold(admin: &Api, rule: i64, threshold: f64) {
    admin
        .put(
            &format!("/api/v2/alarm/rules/{rule}"),
            &json!({"threshold": threshold, "evaluationIntervalSeconds": 1}),
        )
        .await
        .ok();
}

async fn alarms(admin: &Api, query: &str) -> Vec<Value> {
    let reply = admin
        .get(&format!(
            "/api/v2/alarm/alarms?size=200&alarmType={ITEM}{query}"
        ))
        .await
        .ok();
    reply.data()["contents"].as_array().unwrap().clone()
}

async fn wait_alarms(admin: &Api, query: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let list = alarms(admin, query).await;
        if done(&list) {
            return list;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "alarms{query} never as expected: {list:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn http_channel(name: &str, url: &str, extra: Value) -> Value {
    let mut channel = json!({
        "name": name,
        "type": "HTTP",
        "config": {
            "urlTemplate": url,
            "headersTemplate": "Content-Type: application/json\nX-Alarm: ${alarm_type}",
            "bodyTemplate": "{\"kind\":\"${notification_kind}\",\"type\":\"${alarm_type}\",\"target\":\"${alarm_target}\",\"status\":\"${alarm_status}\",\"process\":\"${process}\",\"message\":\"${message}\"}",
            "timeoutSeconds": 5
        },
        "maxAttempts": 3
    });
    for (k, v) in extra.as_object().unwrap() {
        channel[k] = v.clone();
    }
    channel
}

async fn subscribe(admin: &Api, channel: &Value) -> i64 {
    let sub = admin
        .post(
            "/api/v2/alarm/subscriptions",
            &json!({"channelId": channel["id"], "alarmTypes": [ITEM], "sendResolved": true}),
        )
        .await
        .ok();
    sub.data()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn alerts_fire_notify_resolve_and_are_silenced() {
    let sb = Sandbox::start(common::options_with_local_webhooks(), 1, 300)
        .await
        .unwrap();
    let admin = sb.server.admin();
    let rule = rule_id(&admin, ITEM).await;
    let item = admin.get(&format!("/api/v2/alarm/rules/{rule}")).await.ok();
    assert_eq!(item.data()["level"], 3);
    assert_eq!(item.data()["expression"]["threshold"], 1000.0);
    assert_eq!(item.data()["builtin"], true);

    let receiver = WebhookReceiver::start(0).await.unwrap();
    let channel = admin
        .post(
            "/api/v2/alarm/channels",
            &http_channel("ops-webhook", &receiver.url("/hook"), json!({})),
        )
        .await
        .ok();
    let channel = channel.data().clone();

    // A test notification reaches the receiver at once; its answer comes back.
    let test = admin
        .post_empty(&format!("/api/v2/alarm/channels/{}/test", channel["id"]))
        .await
        .ok();
    assert_eq!(test.data()["successful"], true, "{}", test.text);
    assert!(test.data()["response"]
        .as_str()
        .unwrap()
        .starts_with("HTTP 200"));
    let tested = receiver
        .wait_for(WAIT, |r| r.json()["type"] == "channel_test")
        .await
        .unwrap_or_else(|all| panic!("no test notification: {all:#?}"));
    assert!(tested.json()["message"]
        .as_str()
        .unwrap()
        .contains("Test notification from OCP"));
    subscribe(&admin, &channel).await;

    // Lowered threshold: every agent process is over it; the webhook gets each alert.
    set_threshold(&admin, rule, 1.0).await;
    let fired = receiver
        .wait_for(WAIT, |r| r.json()["process"] == "ocp_monagent")
        .await
        .unwrap_or_else(|all| panic!("no webhook: {all:#?}"));
    assert_eq!(fired.method, "POST");
    assert_eq!(fired.path, "/hook");
    assert!(fired
        .headers
        .contains(&("x-alarm".to_string(), ITEM.to_string())));
    let body = fired.json();
    assert_eq!(body["kind"], "ALERT");
    assert_eq!(body["status"], "Active");
    let ip = ocp_testkit::host_ip(0);
    assert_eq!(
        body["target"],
        format!("svr_ip={ip}:process=ocp_monagent").as_str()
    );
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("Excessive number of Agent file handles"));

    let active = wait_alarms(&admin, "&status=Active", |l| l.len() == 3).await;
    let one = &active[0];
    assert_eq!(one["appType"], "OCP");
    assert_eq!(one["scope"], "Host");
    assert_eq!(one["labels"]["alarm_threshold"], "1");
    assert_eq!(one["labels"]["svr_ip"], ip.as_str());
    // The labels carry the alarm reference's template variables of the event too.
    let labels = &one["labels"];
    assert_eq!(labels["alarm_status"], "Active", "{labels:#}");
    assert_eq!(labels["alarm_summary"], one["summary"]);
    assert_eq!(labels["alarm_description"], one["description"]);
    assert_eq!(labels["service"], "OCP");
    assert!(labels["alarm_active_at"].as_str().unwrap().contains('T'));
    assert!(labels["alarm_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/api/v2/alarm/alarms/{}", one["id"])));
    let id = one["id"].as_i64().unwrap();
    let detail = admin.get(&format!("/api/v2/alarm/alarms/{id}")).await.ok();
    assert_eq!(detail.data()["target"], one["target"]);
    assert!(detail.data()["description"]
        .as_str()
        .unwrap()
        .contains("exceeding the threshold of 1."));

    // The history: one successful attempt each.
    let history = admin
        .poll(
            &format!("/api/v2/alarm/notifications?alarmId={id}"),
            WAIT,
            |d| d["contents"][0]["status"] == "Success",
        )
        .await
        .unwrap_or_else(|last| panic!("never delivered: {last:#}"));
    let n = &history["contents"][0];
    assert_eq!(n["channelId"], channel["id"]);
    assert_eq!(n["alarmIds"], json!([id]));
    assert_eq!(n["attempts"].as_array().unwrap().len(), 1);
    assert!(n["channelResponse"]
        .as_str()
        .unwrap()
        .starts_with("HTTP 200"));

    // Raised threshold: each resolves and the webhook hears it once.
    set_threshold(&admin, rule, 1_000_000.0).await;
    wait_alarms(&admin, "&status=Active", |l| l.is_empty()).await;
    let inactive = alarms(&admin, "&status=Inactive").await;
    assert_eq!(inactive.len(), 3);
    assert!(inactive.iter().all(|a| a["resolvedAt"].is_string()));
    receiver
        .wait_for(WAIT, |r| {
            r.json()["kind"] == "RESOLVED" && r.json()["process"] == "ocp_monagent"
        })
        .await
        .unwrap_or_else(|all| panic!("no resolution: {all:#?}"));

    // A blocking condition on the supervisor: its alert is Silenced and sends nothing.
    let ends = chrono::Utc::now() + chrono::Duration::hours(1);
    let silencer = admin
        .post(
            "/api/v2/alarm/silencers",
            &json!({"alarmTypes": [ITEM], "matchers": {"process": "ocp_agentd"},
                    "endsAt": ends.to_rfc3339(), "comment": "maintenance"}),
        )
        .await
        .ok();
    assert_eq!(silencer.data()["inEffect"], true);
    assert_eq!(silencer.data()["creator"], "admin");
    let before = receiver.requests().len();
    set_threshold(&admin, rule, 1.0).await;
    let open = wait_alarms(&admin, "", |l| {
        l.iter().filter(|a| a["resolvedAt"].is_null()).count() == 3
    })
    .await;
    let supervisor = open
        .iter()
        .find(|a| a["resolvedAt"].is_null() && a["labels"]["process"] == "ocp_agentd")
        .unwrap();
    assert_eq!(supervisor["status"], "Silenced");
    receiver
        .wait_for(WAIT, |r| {
            r.json()["kind"] == "ALERT" && r.json()["process"] == "ocp_mgragent"
        })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let silenced_sent = receiver.requests()[before..]
        .iter()
        .filter(|r| r.json()["process"] == "ocp_agentd")
        .count();
    assert_eq!(silenced_sent, 0, "a silenced alert notified");
    // The condition removed: the alert, still firing, becomes Active and notifies.
    let sid = silencer.data()["id"].as_i64().unwrap();
    admin
        .delete(&format!("/api/v2/alarm/silencers/{sid}"))
        .await
        .ok();
    receiver
        .wait_for(WAIT, |r| {
            r.json()["kind"] == "ALERT" && r.json()["process"] == "ocp_agentd"
        })
        .await
        .unwrap_or_else(|all| panic!("never notified after the block: {all:#?}"));
    set_threshold(&admin, rule, 1_000_000.0).await;
    wait_alarms(&admin, "&status=Active", |l| l.is_empty()).await;
}

#[tokio::test]
async fn receivers_that_fail_get_retries_and_channels_have_limits() {
    let sb = Sandbox::start(common::options_with_local_webhooks(), 1, 300)
        .await
        .unwrap();
    let admin = sb.server.admin();
    let rule = rule_id(&admin, ITEM).await;

    // Down: nothing listens on the port at first.
    let port = ocp_testkit::free_port("127.0.0.1").unwrap();
    let down = admin
        .post(
            "/api/v2/alarm/channels",
            &http_channel(
                "down",
                &format!("http://127.0.0.1:{port}/hook"),
                json!({"maxAttempts": 4}),
            ),
        )
        .await
        .ok();
    let down = down.data().clone();
    subscribe(&admin, &down).await;

    // A script channel: the program gets the alert as JSON on stdin.
    // The script runs as nobody when the tests run as root: it writes where nobody may.
    let dir = ocp_testkit::shared_dir().unwrap();
    let out = dir.path().join("alerts.jsonl");
    let script = admin
        .post(
            "/api/v2/alarm/channels",
            &json!({"name": "script", "type": "SCRIPT",
                    "config": {"command": ["/bin/sh", "-c", format!("cat >> {}; echo >> {}; echo done", out.display(), out.display())]}}),
        )
        .await
        .ok();
    let script = script.data().clone();
    subscribe(&admin, &script).await;

    // Limited: one notification a minute.
    let receiver = WebhookReceiver::start(0).await.unwrap();
    let limited = admin
        .post(
            "/api/v2/alarm/channels",
            &http_channel(
                "limited",
                &receiver.url("/l"),
                json!({"rateLimitPerMinute": 1}),
            ),
        )
        .await
        .ok();
    let limited = limited.data().clone();
    subscribe(&admin, &limited).await;

    set_threshold(&admin, rule, 1.0).await;

    // The script ran for each alert.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        if text.lines().filter(|l| !l.is_empty()).count() >= 3 {
            let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
            assert_eq!(first["alarm_type"], ITEM);
            assert_eq!(first["notification_kind"], "ALERT");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "script ran: {text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let ran = admin
        .poll(
            &format!(
                "/api/v2/alarm/notifications?channelId={}&status=Success",
                script["id"]
            ),
            WAIT,
            |d| d["page"]["totalElements"] == 3,
        )
        .await
        .unwrap();
    assert!(ran["contents"][0]["channelResponse"]
        .as_str()
        .unwrap()
        .starts_with("exit=0, stdout=done"));

    // The rate limit let one through.
    let by_status = |d: &Value, status: &str| {
        d["contents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["status"] == status)
            .count()
    };
    let history = admin
        .poll(
            &format!("/api/v2/alarm/notifications?channelId={}", limited["id"]),
            WAIT,
            |d| by_status(d, "Success") == 1 && by_status(d, "Limited") == 2,
        )
        .await
        .unwrap_or_else(|last| panic!("rate limit: {last:#}"));
    assert!(history["contents"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["channelResponse"]
            .as_str()
            .unwrap()
            .contains("limit of 1")));
    assert_eq!(receiver.requests().len(), 1);

    // The receiver that is down: attempts with backoff, each one in the history...
    let path = format!("/api/v2/alarm/notifications?channelId={}", down["id"]);
    let retried = admin
        .poll(&path, WAIT, |d| {
            d["contents"]
                .as_array()
                .unwrap()
                .iter()
                .all(|n| n["attempts"].as_array().unwrap().len() >= 2)
        })
        .await
        .unwrap_or_else(|last| panic!("no retries: {last:#}"));
    let attempts = retried["contents"][0]["attempts"].as_array().unwrap();
    assert_eq!(attempts[0]["successful"], false);
    assert!(attempts[0]["response"]
        .as_str()
        .unwrap()
        .contains("not delivered"));
    assert_ne!(retried["contents"][0]["status"], "Failed");
    // ...then it comes up and the next attempt delivers.
    let late = WebhookReceiver::start(port).await.unwrap();
    let delivered = admin
        .poll(&path, WAIT, |d| {
            d["contents"]
                .as_array()
                .unwrap()
                .iter()
                .all(|n| n["status"] == "Success")
        })
        .await
        .unwrap_or_else(|last| panic!("never delivered: {last:#}"));
    let last = delivered["contents"][0]["attempts"].as_array().unwrap();
    assert!(last.len() >= 3, "{last:#?}");
    assert_eq!(last.last().unwrap()["successful"], true);
    assert_eq!(late.requests().len(), 3);
    set_threshold(&admin, rule, 1_000_000.0).await;
}

#[tokio::test]
async fn bad_alarm_input_is_refused_and_viewers_only_read() {
    let server = common::server();
    let admin = server.admin();
    let expect = |reply: ocp_testkit::Reply, field: &str| {
        assert_eq!(reply.error_code(), 10001, "{}", reply.text);
        assert!(reply.text.contains(field), "{field} in {}", reply.text);
    };
    expect(admin.get("/api/v2/alarm/alarms?size=201").await, "size");
    expect(admin.get("/api/v2/alarm/alarms?level=9").await, "level");
    expect(
        admin.get("/api/v2/alarm/alarms?status=Burning").await,
        "status",
    );
    expect(
        admin
            .get("/api/v2/alarm/alarms?activeAtStart=yesterday")
            .await,
        "activeAtStart",
    );
    expect(
        admin.get("/api/v2/alarm/notifications?status=Lost").await,
        "status",
    );
    let rule = rule_id(&admin, "ob_cannot_connected").await;
    expect(
        admin
            .put(
                &format!("/api/v2/alarm/rules/{rule}"),
                &json!({"evaluationIntervalSeconds": 0}),
            )
            .await,
        "evaluationIntervalSeconds",
    );
    let unchanged = admin.get(&format!("/api/v2/alarm/rules/{rule}")).await.ok();
    assert_eq!(unchanged.data()["evaluationIntervalSeconds"], 10);
    let builtin = admin.delete(&format!("/api/v2/alarm/rules/{rule}")).await;
    assert_eq!(builtin.error_code(), 10006, "{}", builtin.text);
    expect(
        admin
            .post(
                "/api/v2/alarm/rules",
                &json!({"name": "my rule!", "alarmName": "x",
                        "expression": {"metric": "host_cpu_percent", "aggregation": "max",
                                       "comparator": ">", "threshold": 1}}),
            )
            .await,
        "name",
    );
    expect(
        admin
            .post(
                "/api/v2/alarm/rules",
                &json!({"name": "my_rule", "alarmName": "x",
                        "expression": {"metric": "host_cpu_percent", "aggregation": "median",
                                       "comparator": ">", "threshold": 1}}),
            )
            .await,
        "expression.aggregation",
    );
    let created = admin
        .post(
            "/api/v2/alarm/rules",
            &json!({"name": "my_cpu_high", "alarmName": "CPU is busy", "scope": "Host",
                    "appType": "OCP", "level": 2,
                    "expression": {"metric": "host_cpu_percent", "aggregation": "max",
                                   "comparator": ">", "threshold": 95}}),
        )
        .await
        .ok();
    assert_eq!(created.data()["builtin"], false);
    let again = admin
        .post(
            "/api/v2/alarm/rules",
            &json!({"name": "my_cpu_high", "alarmName": "CPU is busy",
                    "expression": {"metric": "host_cpu_percent", "aggregation": "max",
                                   "comparator": ">", "threshold": 95}}),
        )
        .await;
    assert_eq!(again.error_code(), 10003, "{}", again.text);
    let mine = created.data()["id"].as_i64().unwrap();
    admin
        .delete(&format!("/api/v2/alarm/rules/{mine}"))
        .await
        .ok();

    expect(
        admin
            .post(
                "/api/v2/alarm/channels",
                &json!({"name": "x", "type": "HTTP", "config": {"urlTemplate": "ftp://x"}}),
            )
            .await,
        "config.urlTemplate",
    );
    expect(
        admin
            .post(
                "/api/v2/alarm/channels",
                &json!({"name": "x", "type": "SCRIPT", "config": {"command": ["run.sh"]}}),
            )
            .await,
        "config.command",
    );
    expect(
        admin
            .post(
                "/api/v2/alarm/channels",
                &json!({"name": "x", "type": "HTTP", "config": {"urlTemplate": "http://x", "proxy": "y"}}),
            )
            .await,
        "config.proxy",
    );
    expect(
        admin
            .post("/api/v2/alarm/subscriptions", &json!({"channelId": 999}))
            .await,
        "channelId",
    );
    expect(
        admin
            .post(
                "/api/v2/alarm/silencers",
                &json!({"alarmTypes": ["ob_cannot_connected"]}),
            )
            .await,
        "endsAt",
    );
    let ends = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    expect(
        admin
            .post("/api/v2/alarm/silencers", &json!({"endsAt": ends}))
            .await,
        "matchers",
    );
    expect(
        admin
            .post(
                "/api/v2/alarm/silencers",
                &json!({"endsAt": ends, "alarmTypes": ["no_such_item"]}),
            )
            .await,
        "alarmTypes",
    );
    let listed = admin.get("/api/v2/alarm/channels").await.ok();
    assert_eq!(
        listed.data()["page"]["totalElements"],
        0,
        "nothing was made"
    );

    let password = common::user_with_roles(&server, "watcher", &["ALARM_VIEWER"]).await;
    let viewer = server.client("watcher", &password);
    viewer.get("/api/v2/alarm/alarms").await.ok();
    viewer.get("/api/v2/alarm/rules").await.ok();
    let refused = viewer
        .put(
            &format!("/api/v2/alarm/rules/{rule}"),
            &json!({"threshold": 0}),
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.text);
}

#[tokio::test]
async fn a_silent_host_fires_host_unavailable_and_repeats_until_it_is_back() {
    const HOST: &str = "host_unavailable";
    let mut sb = Sandbox::start(common::options_with_local_webhooks(), 1, 300)
        .await
        .unwrap();
    let admin = sb.server.admin();
    let rule = rule_id(&admin, HOST).await;
    admin
        .put(
            &format!("/api/v2/alarm/rules/{rule}"),
            &json!({"threshold": 1500, "evaluationIntervalSeconds": 1}),
        )
        .await
        .ok();
    let receiver = WebhookReceiver::start(0).await.unwrap();
    let channel = admin
        .post(
            "/api/v2/alarm/channels",
            &http_channel("host-watch", &receiver.url("/h"), json!({})),
        )
        .await
        .ok();
    admin
        .post(
            "/api/v2/alarm/subscriptions",
            &json!({"channelId": channel.data()["id"], "alarmTypes": [HOST],
                    "repeatSeconds": 2}),
        )
        .await
        .ok();
    let open = |admin: Api| async move {
        let reply = admin
            .get(&format!(
                "/api/v2/alarm/alarms?alarmType={HOST}&status=Active"
            ))
            .await
            .ok();
        reply.data()["contents"].as_array().unwrap().clone()
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        open(admin.clone()).await.is_empty(),
        "a beating host is fine"
    );

    // The agent dies: no heartbeat, the alert fires and repeats every 2 s.
    sb.agents[0].kill();
    let ip = ocp_testkit::host_ip(0);
    receiver
        .wait_for(WAIT, |r| r.json()["kind"] == "ALERT")
        .await
        .unwrap_or_else(|all| panic!("no alert: {all:#?}"));
    let event = open(admin.clone()).await;
    assert_eq!(event.len(), 1);
    assert_eq!(event[0]["target"], format!("svr_ip={ip}").as_str());
    assert_eq!(event[0]["level"], 1);
    receiver
        .wait_for(WAIT, |r| r.json()["kind"] == "REPEAT")
        .await
        .unwrap_or_else(|all| panic!("no repeat: {all:#?}"));

    // Back: resolved once.
    sb.agents[0].restart().unwrap();
    receiver
        .wait_for(WAIT, |r| r.json()["kind"] == "RESOLVED")
        .await
        .unwrap_or_else(|all| panic!("no resolution: {all:#?}"));
    assert!(open(admin.clone()).await.is_empty());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let kinds: Vec<String> = receiver
        .requests()
        .iter()
        .map(|r| r.json()["kind"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "ALERT").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "RESOLVED").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("RESOLVED"),
        "{kinds:?}"
    );
}
