//! Delivery: queued notifications are claimed from the metadb (so a server that dies while
//! sending leaves them to another, or to itself after a restart), sent through their
//! channel, and every attempt is recorded. A failed attempt is retried after 1 s, 2 s,
//! 4 s, ... until the channel's attempts are spent; a channel past its rate limit marks
//! notifications Limited instead of sending them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ocp_api::alarm::{ChannelType, NotificationStatus};
use ocp_store::{AttemptOutcome, ChannelRecord, NotificationRecord, Store, StoreError};
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;

use super::engine::event_vars;
use super::outbound::{script_environment, ChannelPolicy};
use super::template::render;

/// How long a claimed notification stays with its sender.
const CLAIM_MS: i64 = 120_000;
/// The longest pause between attempts.
const MAX_BACKOFF_MS: i64 = 300_000;
/// What the history keeps of a receiver's answer or a script's output: enough to tell
/// what went wrong, too little to carry what a receiver should not pass on.
const RESPONSE_CHARS: usize = 120;

#[derive(Clone)]
pub struct Outbox {
    pub store: Store,
    pub wake: Arc<Notify>,
    pub base_url: String,
    pub policy: Arc<ChannelPolicy>,
}

impl Outbox {
    pub fn new(
        store: Store,
        wake: Arc<Notify>,
        base_url: String,
        policy: Arc<ChannelPolicy>,
    ) -> Self {
        Self {
            store,
            wake,
            base_url,
            policy,
        }
    }

    /// Sends what is due, then waits to be woken (or for the next retry to come due).
    pub async fn run(self) {
        loop {
            let claimed = match self.store.claim_notifications(CLAIM_MS, 16).await {
                Ok(claimed) => claimed,
                Err(e) => {
                    tracing::warn!("alert notifications: {e}");
                    Vec::new()
                }
            };
            if claimed.is_empty() {
                tokio::select! {
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                }
                continue;
            }
            let sends = claimed.into_iter().map(|n| {
                let outbox = self.clone();
                async move {
                    if let Err(e) = outbox.deliver(&n).await {
                        tracing::warn!(notification = n.id, "alert notification: {e}");
                    }
                }
            });
            futures::future::join_all(sends).await;
        }
    }

    async fn deliver(&self, n: &NotificationRecord) -> Result<(), StoreError> {
        let channel = self.store.alarm_channel(n.channel_id).await?;
        if channel.rate_limit_per_minute > 0 && n.attempts == 0 {
            let now = ocp_store::now_millis();
            let sent = self
                .store
                .notifications_sent_since(channel.id, now - 60_000)
                .await?;
            if sent >= channel.rate_limit_per_minute {
                let why = format!(
                    "not sent: the channel's limit of {} a minute was reached",
                    channel.rate_limit_per_minute
                );
                return self.store.limit_notification(n.id, &why).await;
            }
        }
        let event = self.store.alarm(n.alarm_id).await?;
        let mut vars = event_vars(&event, &self.base_url);
        vars.insert("message".into(), n.message.clone());
        vars.insert("notification_id".into(), n.id.to_string());
        vars.insert("notification_kind".into(), n.kind.clone());
        let (successful, response) = send(&self.store, &self.policy, &channel, &vars).await;
        let attempt = n.attempts + 1;
        let (status, next) = if successful {
            (NotificationStatus::Success, 0)
        } else if attempt < channel.max_attempts.max(1) {
            let pause = (1000_i64 << (attempt - 1).min(20)).min(MAX_BACKOFF_MS);
            (NotificationStatus::Pending, ocp_store::now_millis() + pause)
        } else {
            (NotificationStatus::Failed, 0)
        };
        if !successful {
            tracing::warn!(
                notification = n.id,
                channel = channel.name,
                attempt,
                "alert notification not delivered: {response}"
            );
        }
        self.store
            .record_attempt(
                n,
                &AttemptOutcome {
                    successful,
                    response,
                    status,
                    next_attempt_at: next,
                },
            )
            .await
    }
}

/// What a channel's test notification carries: the variables of an alert that is not one,
/// and its message as the channel's template renders it.
pub fn test_vars(channel: &ChannelRecord) -> BTreeMap<String, String> {
    /// The least severe level: a test is a reminder.
    const LEVEL: i64 = 5;
    let now = ocp_api::Timestamp::from_millis(ocp_store::now_millis())
        .0
        .to_rfc3339();
    let mut vars: BTreeMap<String, String> = [
        ("alarm_id", "0"),
        ("alarm_status", "Active"),
        ("alarm_type", "channel_test"),
        ("alarm_name", "Channel test"),
        ("alarm_target", "this channel"),
        ("alarm_scope", "System"),
        ("alarm_summary", "Test notification from OCP"),
        (
            "alarm_description",
            "Sent from the console to check this channel; no alert fired.",
        ),
        ("app_type", "System"),
        ("notification_kind", "test"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    vars.insert(
        "alarm_level".into(),
        ocp_api::alarm::level_name(LEVEL as i32).to_string(),
    );
    vars.insert(
        "alarm_level_color".into(),
        super::engine::level_color(LEVEL).to_string(),
    );
    vars.insert("alarm_active_at".into(), now.clone());
    vars.insert("alarm_updated_at".into(), now);
    vars.insert("channel_name".into(), channel.name.clone());
    let template = match channel.message_template.as_str() {
        "" => super::engine::DEFAULT_MESSAGE,
        t => t,
    };
    let message = render(template, &vars, false);
    vars.insert("message".into(), message);
    vars
}

/// Sends through a channel: `(delivered, what the receiver answered)`.
pub async fn send(
    store: &Store,
    policy: &ChannelPolicy,
    channel: &ChannelRecord,
    vars: &BTreeMap<String, String>,
) -> (bool, String) {
    let config: BTreeMap<String, Value> = serde_json::from_str(&channel.config).unwrap_or_default();
    let text = |key: &str| config.get(key).and_then(Value::as_str).unwrap_or("");
    let timeout = Duration::from_secs(
        config
            .get("timeoutSeconds")
            .and_then(Value::as_u64)
            .unwrap_or(10)
            .clamp(1, 60),
    );
    match channel.channel_type {
        ChannelType::Http => {
            let headers = render(text("headersTemplate"), vars, false);
            let json = headers.to_ascii_lowercase().contains("json");
            let body = match text("bodyTemplate") {
                "" => serde_json::to_string(vars).unwrap_or_default(),
                template => render(template, vars, json),
            };
            let method = match text("method") {
                "" => reqwest::Method::POST,
                m => reqwest::Method::from_bytes(m.as_bytes()).unwrap_or(reqwest::Method::POST),
            };
            let url = match reqwest::Url::parse(&render(text("urlTemplate"), vars, false)) {
                Ok(url) => url,
                Err(e) => return (false, format!("not sent: the URL does not parse: {e}")),
            };
            let destination = match policy.destination(store, &url).await {
                Ok(addr) => addr,
                Err(why) => return (false, format!("not sent: {why}")),
            };
            // Connect to the address just checked, whatever the name resolves to next.
            let http = reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .resolve(url.host_str().unwrap_or(""), destination)
                .build()
                .expect("HTTP client");
            let mut request = http.request(method, url).timeout(timeout);
            for line in headers.lines() {
                if let Some((name, value)) = line.split_once(':') {
                    request = request.header(name.trim(), value.trim());
                }
            }
            match request.body(body).send().await {
                Ok(response) => {
                    let status = response.status();
                    let text = response.text().await.unwrap_or_default();
                    (
                        status.is_success(),
                        format!("HTTP {}: {}", status.as_u16(), clip(&text)),
                    )
                }
                Err(e) => (false, format!("not delivered: {}", error_chain(&e))),
            }
        }
        ChannelType::Script => run_script(policy, &config, vars, timeout).await,
    }
}

/// Runs the channel's program with the alert as JSON on stdin.
async fn run_script(
    policy: &ChannelPolicy,
    config: &BTreeMap<String, Value>,
    vars: &BTreeMap<String, String>,
    timeout: Duration,
) -> (bool, String) {
    let command: Vec<String> = config
        .get("command")
        .and_then(|c| serde_json::from_value(c.clone()).ok())
        .unwrap_or_default();
    let Some(program) = command.first() else {
        return (false, "the channel names no command".into());
    };
    // The line run may put `setpriv` before the channel's own program.
    let line = match policy.script_command(&command) {
        Ok(line) => line,
        Err(why) => return (false, format!("not run: {why}")),
    };
    let child = tokio::process::Command::new(&line[0])
        .args(&line[1..])
        .env_clear()
        .envs(script_environment(vars))
        .current_dir("/")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => return (false, format!("cannot run {program}: {e}")),
    };
    let input = serde_json::to_vec(vars).unwrap_or_default();
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(&input).await;
    }
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(output)) => (
            output.status.success(),
            format!(
                "exit={}, stdout={}, stderr={}",
                output.status.code().unwrap_or(-1),
                clip(String::from_utf8_lossy(&output.stdout).trim()),
                clip(String::from_utf8_lossy(&output.stderr).trim())
            ),
        ),
        Ok(Err(e)) => (false, format!("{program} failed: {e}")),
        Err(_) => (
            false,
            format!("{program} did not finish within {} s", timeout.as_secs()),
        ),
    }
}

fn clip(text: &str) -> String {
    text.chars().take(RESPONSE_CHARS).collect()
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
