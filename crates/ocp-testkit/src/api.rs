//! A blocking-free HTTP client for tests that understands the envelope.

use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;

/// One event of a stream as a test sees it: its id (the last one given, per the SSE rules),
/// its name and its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseFrame {
    pub id: Option<String>,
    pub event: String,
    pub data: String,
}

#[derive(Clone)]
pub struct Api {
    base: String,
    auth: Option<String>,
    client: reqwest::Client,
}

/// A response: HTTP status, the parsed body (the whole envelope), headers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    pub fn error_code(&self) -> i64 {
        self.body["error"]["code"].as_i64().unwrap_or(-1)
    }

    /// Panics with the whole body unless the request succeeded.
    pub fn ok(self) -> Self {
        assert!(
            self.status == 200 && self.body["successful"] == true,
            "expected success, got {}: {}",
            self.status,
            self.text
        );
        self
    }
}

impl Api {
    pub fn new(base: &str, user: &str, password: &str) -> Self {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        Self {
            base: base.trim_end_matches('/').to_string(),
            auth: Some(format!("Basic {token}")),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client"),
        }
    }

    /// A client with Basic credentials that sends through `client` (bound to a source
    /// address, say).
    pub fn with_client(base: &str, user: &str, password: &str, client: reqwest::Client) -> Self {
        Self {
            client,
            ..Self::new(base, user, password)
        }
    }

    /// Sends a request built elsewhere and reads its answer.
    pub async fn reply_to(request: reqwest::RequestBuilder) -> Reply {
        reply(request).await
    }

    /// The same server without credentials.
    pub fn anonymous(&self) -> Self {
        Self {
            auth: None,
            ..self.clone()
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn raw(&self) -> &reqwest::Client {
        &self.client
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(auth) = &self.auth {
            request = request.header("authorization", auth);
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        reply(request).await
    }

    /// Uploads a file as a software package (the file is the body, its name in `?file=`).
    pub async fn upload_package(&self, file: &std::path::Path) -> Reply {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("package");
        let bytes = std::fs::read(file).expect("package file reads");
        let mut request = self
            .client
            .post(format!(
                "{}/api/v2/software-packages?file={name}",
                self.base
            ))
            .header("content-type", "application/octet-stream")
            .body(bytes);
        if let Some(auth) = &self.auth {
            request = request.header("authorization", auth);
        }
        reply(request).await
    }

    /// Reads a task's event stream until the server ends it, `max` events came or `timeout`
    /// passed; `last_event_id` resumes after that event.
    pub async fn task_events(
        &self,
        task_id: i64,
        last_event_id: Option<&str>,
        max: usize,
        timeout: Duration,
    ) -> Vec<SseFrame> {
        let mut request = self.client.get(format!(
            "{}/api/v2/tasks/instances/{task_id}/events",
            self.base
        ));
        if let Some(auth) = &self.auth {
            request = request.header("authorization", auth);
        }
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let mut frames = Vec::new();
        let read = async {
            use eventsource_stream::Eventsource as _;
            use futures::StreamExt as _;
            let response = request.send().await.expect("events request");
            assert_eq!(response.status(), 200, "events of task {task_id}");
            let mut events = response.bytes_stream().eventsource();
            while let Some(Ok(event)) = events.next().await {
                frames.push(SseFrame {
                    id: Some(event.id).filter(|id| !id.is_empty()),
                    event: event.event,
                    data: event.data,
                });
                if frames.len() >= max {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(timeout, read).await;
        frames.truncate(max);
        frames
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(reqwest::Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(reqwest::Method::POST, path, Some(body), &[])
            .await
    }

    pub async fn post_empty(&self, path: &str) -> Reply {
        self.send(reqwest::Method::POST, path, None, &[]).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Reply {
        self.send(reqwest::Method::PUT, path, Some(body), &[]).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(reqwest::Method::DELETE, path, None, &[]).await
    }

    /// GETs `path` until `done` holds for its data; `Err` with the last data on timeout.
    pub async fn poll(
        &self,
        path: &str,
        timeout: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Result<Value, Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let data = self.get(path).await.ok().data().clone();
            if done(&data) {
                return Ok(data);
            }
            if tokio::time::Instant::now() > deadline {
                return Err(data);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Polls a task until it is no longer RUNNING (or the timeout passes) and returns it.
    pub async fn wait_task(&self, id: i64, timeout: Duration) -> Value {
        let path = format!("/api/v2/tasks/instances/{id}");
        self.poll(&path, timeout, |task| task["status"] != "RUNNING")
            .await
            .unwrap_or_else(|last| last)
    }

    /// Polls a task until `done` holds for it.
    pub async fn wait_until(
        &self,
        id: i64,
        timeout: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let path = format!("/api/v2/tasks/instances/{id}");
        match self.poll(&path, timeout, done).await {
            Ok(data) => data,
            Err(data) => panic!("timed out waiting for task {id}: {data}"),
        }
    }
}

/// Sends a request and reads its answer.
async fn reply(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.expect("request reaches the server");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        body,
        text,
        headers,
    }
}
