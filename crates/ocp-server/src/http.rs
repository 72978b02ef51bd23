//! The envelope, OCP errors and the extractors that turn bad input into them.
//!
//! Handlers return [`ApiResult`]. Their data and errors are carried to [`envelope`], the
//! outermost middleware, which wraps every answer (including the router's own 404 and 405)
//! in OCP's envelope with the request's trace id, duration and server address.

use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ocp_api::page::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use ocp_api::{ApiError, Envelope, ErrorCode, PageQuery, SortOrder, Timestamp};

pub use crate::error::Failure;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub type ApiResult<T> = Result<Data<T>, Failure>;

/// What a handler answered, waiting for the envelope.
#[derive(Clone)]
enum Answer {
    /// Serialized once, by the handler's answer; the envelope writes it as it is.
    Data(Box<serde_json::value::RawValue>),
    Empty,
    Error(ApiError),
}

/// A successful answer carrying `data`.
pub struct Data<T>(pub T);

/// A successful answer without `data` (as OCP's skip and cancel).
pub struct NoData;

impl<T: Serialize> IntoResponse for Data<T> {
    fn into_response(self) -> Response {
        match serde_json::value::to_raw_value(&self.0) {
            Ok(value) => answer(StatusCode::OK, Answer::Data(value)),
            Err(err) => Failure::internal(err).into_response(),
        }
    }
}

impl IntoResponse for NoData {
    fn into_response(self) -> Response {
        answer(StatusCode::OK, Answer::Empty)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
        answer(
            status,
            Answer::Error(ApiError {
                code: self.code.code(),
                message: self.message,
                sub_errors: self.sub_errors,
            }),
        )
    }
}

fn answer(status: StatusCode, answer: Answer) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response.extensions_mut().insert(answer);
    response
}

/// The path and query as the client sent them, where the server rewrote them: what it signed.
#[derive(Clone, Debug)]
pub struct SentPath(pub String);

/// The request's trace id, for handlers and logs.
#[derive(Clone, Debug)]
pub struct TraceId(pub String);

/// The address this server shows as `server` and `executor`.
#[derive(Clone, Debug)]
pub struct ServerAddress(pub String);

/// Wraps every response in the envelope and logs one line per request with its trace id.
pub async fn envelope(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let trace_id = uuid::Uuid::new_v4().simple().to_string()[..16].to_string();
    let server = request
        .extensions()
        .get::<ServerAddress>()
        .map(|s| s.0.clone())
        .unwrap_or_default();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    request.extensions_mut().insert(TraceId(trace_id.clone()));
    let response = match oversized(&request) {
        Some(refusal) => refusal,
        None => next.run(request).await,
    };
    let status = response.status();
    let (mut parts, body) = response.into_parts();
    let answer = parts.extensions.remove::<Answer>();
    let raw = parts.extensions.get::<RawBody>().is_some();
    let (data, error) = match answer {
        Some(Answer::Data(value)) => (Some(value), None),
        Some(Answer::Empty) => (None, None),
        Some(Answer::Error(error)) => (None, Some(error)),
        None if raw => {
            log_request(&method, &path, status, started, &trace_id);
            let mut response = Response::from_parts(parts, body);
            insert_trace_header(&mut response, &trace_id);
            return response;
        }
        None => (None, Some(framework_error(status, body).await)),
    };
    let envelope = Envelope {
        successful: error.is_none() && status.is_success(),
        data,
        error,
        timestamp: Timestamp::now(),
        duration: started.elapsed().as_millis() as i64,
        status: status.as_u16(),
        trace_id: trace_id.clone(),
        server,
    };
    log_request(&method, &path, status, started, &trace_id);
    let body = serde_json::to_vec(&envelope).unwrap_or_default();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    let mut response = Response::from_parts(parts, Body::from(body));
    insert_trace_header(&mut response, &trace_id);
    response
}

/// The longest request target (path and query) the API reads.
pub const MAX_URI_BYTES: usize = 16 * 1024;
/// The most header bytes the API reads.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// A request line or headers larger than the API reads, answered in the envelope (414,
/// 431). Past about 400 KiB of headers, or a target past 64 KiB, hyper answers itself, bare.
fn oversized(request: &Request) -> Option<Response> {
    let refuse = |status: StatusCode, message: String| {
        answer(
            status,
            Answer::Error(ApiError {
                code: ErrorCode::RequestTooLarge.code(),
                message,
                sub_errors: Vec::new(),
            }),
        )
    };
    let target = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().len())
        .unwrap_or(0);
    if target > MAX_URI_BYTES {
        return Some(refuse(
            StatusCode::URI_TOO_LONG,
            format!("the request target is {target} bytes; the API reads at most {MAX_URI_BYTES}"),
        ));
    }
    let headers: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    (headers > MAX_HEADER_BYTES).then(|| {
        refuse(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!("the headers are {headers} bytes; the API reads at most {MAX_HEADER_BYTES}"),
        )
    })
}

fn insert_trace_header(response: &mut Response, trace_id: &str) {
    if let Ok(value) = HeaderValue::from_str(trace_id) {
        response.headers_mut().insert("x-trace-id", value);
    }
}

fn log_request(
    method: &axum::http::Method,
    path: &str,
    status: StatusCode,
    started: Instant,
    trace_id: &str,
) {
    let duration_us = started.elapsed().as_micros() as u64;
    let status = status.as_u16();
    // Agents' heartbeats and metric batches, and clock checks, come every few seconds from
    // every host: only their failures are worth a line at INFO.
    if status < 400 && is_routine(path) {
        tracing::debug!(trace_id, %method, path, status, duration_us, "request");
    } else {
        tracing::info!(trace_id, %method, path, status, duration_us, "request");
    }
}

/// A path called on a timer rather than by someone.
fn is_routine(path: &str) -> bool {
    use ocp_api::agent_path::server;
    let path = path.split('?').next().unwrap_or_default();
    [server::HEARTBEAT, server::METRICS, "/api/v2/time"].contains(&path)
}

/// Marks a response that is not enveloped (the plain-text endpoints, the OpenAPI document).
#[derive(Clone, Copy)]
pub struct RawBody;

pub fn raw(response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    response.extensions_mut().insert(RawBody);
    response
}

/// An error answered by the router itself (no route, wrong method, a panic).
async fn framework_error(status: StatusCode, body: Body) -> ApiError {
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let code = match status {
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::URI_TOO_LONG | StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
            ErrorCode::RequestTooLarge
        }
        s if s.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::IllegalArgument,
    };
    let message = match status {
        StatusCode::NOT_FOUND => "no such API path".to_string(),
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed on this path".to_string(),
        _ if text.is_empty() => status.canonical_reason().unwrap_or("error").to_lowercase(),
        _ => text,
    };
    ApiError {
        code: code.code(),
        message,
        sub_errors: Vec::new(),
    }
}

/// The largest JSON body a call takes (axum's default limit).
pub const JSON_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// A JSON body; a syntax error or a field of the wrong type is answered with that field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Failure;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json") || v.ends_with("+json"));
        if !json_type {
            return Err(Failure::new(
                ErrorCode::UnsupportedMediaType,
                "the request body must be JSON with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Failure::new(
                    ErrorCode::PayloadTooLarge,
                    format!(
                        "the body is larger than the {} KiB this call takes",
                        JSON_BODY_LIMIT / 1024
                    ),
                )
            } else {
                Failure::new(
                    ErrorCode::IllegalArgument,
                    format!("could not read the body: {e}"),
                )
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Failure> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize(&mut de) {
        Ok(value) => Ok(value),
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                Err(Failure::new(
                    ErrorCode::IllegalArgument,
                    format!("malformed JSON body: {inner}"),
                ))
            } else if path == "." || path.is_empty() {
                Err(Failure::field(
                    &missing_or_unknown_field(&inner.to_string()),
                    inner.to_string(),
                ))
            } else {
                Err(Failure::field(&path, inner.to_string()))
            }
        }
    }
}

/// A body documented as one object that earlier versions of this API took as an array of
/// such objects: either is taken.
pub fn one_or_many<T: DeserializeOwned>(body: &serde_json::Value) -> Result<Vec<T>, Failure> {
    let bytes = serde_json::to_vec(body).expect("a JSON value serializes");
    if body.is_array() {
        parse_json(&bytes)
    } else {
        parse_json::<T>(&bytes).map(|one| vec![one])
    }
}

/// serde names the field of a missing or unknown field error in backquotes.
fn missing_or_unknown_field(message: &str) -> String {
    message
        .split('`')
        .nth(1)
        .map(str::to_string)
        .unwrap_or_else(|| "body".to_string())
}

/// Query parameters; a value that does not parse is answered with its name.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|err| {
                let path = err.path().to_string();
                Failure::field(&path, err.into_inner().to_string())
            })
    }
}

/// Path parameters; `/tasks/instances/abc` is answered with the parameter's name.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => {
                // Every path parameter of the API is an id: name the first that is not one.
                let raw = axum::extract::RawPathParams::from_request_parts(parts, state).await;
                let bad = raw.ok().and_then(|params| {
                    params
                        .iter()
                        .find(|(_, value)| value.parse::<i64>().is_err())
                        .map(|(key, value)| (key.to_string(), value.to_string()))
                });
                Err(match bad {
                    Some((key, value)) => {
                        Failure::field(&key, format!("must be a whole number, not {value:?}"))
                    }
                    None => Failure::field("path", rejection.body_text()),
                })
            }
        }
    }
}

/// A validated page request.
#[derive(Debug, Clone)]
pub struct Paging {
    pub page: i64,
    pub size: i64,
    pub sort: Option<(String, SortOrder)>,
}

impl Paging {
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.size
    }

    /// Validates `page`, `size` and `sort` against the sortable fields (wire name, column).
    pub fn parse(query: &PageQuery, sortable: &[(&str, &str)]) -> Result<Self, Failure> {
        let page = match &query.page {
            None => 1,
            Some(text) => match text.parse::<i64>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    return Err(Failure::field(
                        "page",
                        format!("must be a whole number from 1, not {text:?}"),
                    ))
                }
            },
        };
        let size = match &query.size {
            None => DEFAULT_PAGE_SIZE,
            Some(text) => match text.parse::<i64>() {
                Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
                _ => {
                    return Err(Failure::field(
                        "size",
                        format!("must be a whole number from 1 to {MAX_PAGE_SIZE}, not {text:?}"),
                    ))
                }
            },
        };
        if page
            .checked_sub(1)
            .and_then(|p| p.checked_mul(size))
            .is_none()
        {
            return Err(Failure::field("page", "is too large"));
        }
        let sort = match &query.sort {
            None => None,
            Some(text) => {
                let mut parts = text.splitn(2, ',');
                let field = parts.next().unwrap_or("").trim();
                let order = match parts
                    .next()
                    .map(|s| s.trim().to_ascii_lowercase())
                    .as_deref()
                {
                    None | Some("asc") => SortOrder::Asc,
                    Some("desc") => SortOrder::Desc,
                    Some(other) => {
                        return Err(Failure::field(
                            "sort",
                            format!("order must be asc or desc, not {other:?}"),
                        ))
                    }
                };
                let column = sortable
                    .iter()
                    .find(|(wire, _)| *wire == field)
                    .map(|(_, column)| column.to_string())
                    .ok_or_else(|| {
                        let names: Vec<&str> = sortable.iter().map(|(w, _)| *w).collect();
                        Failure::field(
                            "sort",
                            format!("cannot sort by {field:?}; use one of {}", names.join(", ")),
                        )
                    })?;
                Some((column, order))
            }
        };
        Ok(Self { page, size, sort })
    }
}

/// The values of a comma-separated filter, each checked by `valid`.
pub fn comma_list(
    field: &str,
    text: &Option<String>,
    valid: impl Fn(&str) -> bool,
) -> Result<Vec<String>, Failure> {
    let mut values = Vec::new();
    for value in text.iter().flat_map(|t| t.split(',')).map(str::trim) {
        if value.is_empty() {
            continue;
        }
        if !valid(value) {
            return Err(Failure::field(field, format!("unknown value {value}")));
        }
        values.push(value.to_string());
    }
    Ok(values)
}

/// One page of a list held in memory.
pub fn page_of<T>(all: Vec<T>, paging: &Paging) -> ocp_api::PageData<T> {
    let total = all.len() as i64;
    let contents = all
        .into_iter()
        .skip(paging.offset() as usize)
        .take(paging.size as usize)
        .collect();
    ocp_api::PageData::new(contents, total, paging.page, paging.size)
}

/// Parses an optional `true`/`false` query parameter, naming the field when it is neither.
pub fn parse_flag(field: &str, value: Option<&str>) -> Result<Option<bool>, Failure> {
    match value {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(Failure::field(
            field,
            format!("must be true or false, not {other:?}"),
        )),
    }
}

/// Parses an optional id filter, naming the field when it is not a number.
pub fn parse_id(field: &str, value: &Option<String>) -> Result<Option<i64>, Failure> {
    value
        .as_deref()
        .map(|text| {
            text.parse::<i64>()
                .map_err(|_| Failure::field(field, format!("must be a whole number, not {text:?}")))
        })
        .transpose()
}

/// An optional ISO-8601 time with offset, in milliseconds; a bad one names its field.
pub fn time_millis(field: &str, text: &Option<String>) -> Result<Option<i64>, Failure> {
    text.as_deref()
        .filter(|t| !t.is_empty())
        .map(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .map(|d| d.timestamp_millis())
                .map_err(|_| {
                    Failure::field(field, format!("{t:?} is not an ISO-8601 time with offset"))
                })
        })
        .transpose()
}
