//! Signed calls straight to an agent, as the server makes them, and forged ones.

use std::time::Duration;

use ocp_api::agent::signed_headers;
use serde_json::Value;

#[derive(Clone)]
pub struct AgentApi {
    base: String,
    host_id: i64,
    secret: String,
    client: reqwest::Client,
}

/// What the agent answered.
#[derive(Debug, Clone)]
pub struct AgentReply {
    pub status: u16,
    pub body: Value,
}

pub use ocp_api::time::now_millis as now_ms;

impl AgentApi {
    pub fn new(base: &str, host_id: i64, secret: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            host_id,
            secret: secret.to_string(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client"),
        }
    }

    /// The signature headers for a call, signed at `at_ms` with `nonce`.
    pub fn sign(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        at_ms: i64,
        nonce: &str,
    ) -> Vec<(String, String)> {
        signed_headers(&self.secret, self.host_id, method, path, body, at_ms, nonce)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }

    /// A call with the given headers, as they are.
    pub async fn send_raw(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(String, String)],
    ) -> AgentReply {
        let bytes = body
            .map(|b| serde_json::to_vec(b).unwrap())
            .unwrap_or_default();
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        for (k, v) in headers {
            request = request.header(k, v);
        }
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let reply = request.body(bytes).send().await.expect("agent answers");
        let status = reply.status().as_u16();
        let text = reply.text().await.unwrap_or_default();
        AgentReply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        }
    }

    /// A correctly signed call.
    pub async fn send(&self, method: &str, path: &str, body: Option<&Value>) -> AgentReply {
        let bytes = body
            .map(|b| serde_json::to_vec(b).unwrap())
            .unwrap_or_default();
        let nonce = format!("{:x}", rand_nonce());
        let headers = self.sign(method, path, &bytes, now_ms(), &nonce);
        self.send_raw(method, path, body, &headers).await
    }
}

fn rand_nonce() -> u128 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_i64(now_ms());
    (u128::from(h.finish()) << 64) | u128::from(std::process::id())
}
