//! The HTTP client: Basic auth, the envelope, and errors mapped to exit codes.

use std::time::Duration;

use base64::Engine as _;
use ocp_api::envelope::Envelope;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Exit codes, as README.md documents them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    TaskFailed = 1,
    Usage = 2,
    Auth = 3,
    NotFound = 4,
    Refused = 5,
    Unreachable = 6,
}

#[derive(Debug)]
pub struct CliError {
    pub exit: Exit,
    pub message: String,
}

impl CliError {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Self {
            exit,
            message: message.into(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, message)
    }

    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(Exit::Auth, message)
    }
}

pub type Result<T, E = CliError> = std::result::Result<T, E>;

#[derive(Clone)]
pub struct Client {
    base: String,
    auth: String,
    http: reqwest::Client,
}

impl Client {
    pub fn new(server: &str, user: &str, password: &str) -> Result<Self> {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| CliError::usage(e.to_string()))?;
        Ok(Self {
            base: server.trim_end_matches('/').to_string(),
            auth: format!("Basic {token}"),
            http,
        })
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("authorization", &self.auth)
    }

    /// Sends a request and answers the envelope's data as `T`.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T> {
        let mut request = self.request(method, path).timeout(Duration::from_secs(120));
        if let Some(body) = body {
            request = request.json(body);
        }
        self.answer(request).await
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// A GET answered with text (a download); a refusal is read as any answer's.
    pub async fn get_text(&self, path: &str) -> Result<String> {
        let response = self
            .request(reqwest::Method::GET, path)
            .timeout(Duration::from_secs(600))
            .send()
            .await
            .map_err(|e| unreachable(&self.base, &e))?;
        let is_text = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/plain"));
        if response.status().is_success() && is_text {
            return response
                .text()
                .await
                .map_err(|e| unreachable(&self.base, &e));
        }
        self.read::<Value>(response).await?;
        Err(CliError::new(Exit::Refused, "the server answered no text"))
    }

    pub async fn post<T: DeserializeOwned>(&self, path: &str, body: Option<&Value>) -> Result<T> {
        self.call(reqwest::Method::POST, path, body).await
    }

    /// Reads the envelope of a response; a refusal becomes an error with the server's code,
    /// message and the fields it names.
    pub async fn answer<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<T> {
        let response = request
            .send()
            .await
            .map_err(|e| unreachable(&self.base, &e))?;
        self.read(response).await
    }

    /// Reads a response's envelope (see `answer`).
    pub async fn read<T: DeserializeOwned>(&self, response: reqwest::Response) -> Result<T> {
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| unreachable(&self.base, &e))?;
        let envelope: Envelope<Value> = serde_json::from_slice(&bytes).map_err(|_| {
            CliError::new(
                Exit::Refused,
                format!(
                    "HTTP {status} without an OCP envelope: {}",
                    String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
                ),
            )
        })?;
        if !envelope.successful {
            let error = envelope.error.unwrap_or_else(|| ocp_api::ApiError {
                code: 0,
                message: format!("HTTP {status}"),
                sub_errors: Vec::new(),
            });
            let mut message = format!("{} (code {})", error.message, error.code);
            for sub in &error.sub_errors {
                message.push_str(&format!(
                    "\n  {}",
                    serde_json::to_string(sub).unwrap_or_default()
                ));
            }
            let exit = match status {
                401 | 403 => Exit::Auth,
                404 => Exit::NotFound,
                _ => Exit::Refused,
            };
            return Err(CliError::new(exit, message));
        }
        serde_json::from_value(envelope.data.unwrap_or(Value::Null)).map_err(|e| {
            CliError::new(
                Exit::Refused,
                format!("unexpected answer from {}: {e}", self.base),
            )
        })
    }
}

pub fn unreachable(base: &str, e: &reqwest::Error) -> CliError {
    CliError::new(Exit::Unreachable, format!("cannot reach {base}: {e}"))
}
