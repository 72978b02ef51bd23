//! OCP error codes and the error body.
//!
//! The codes of the OCP documentation are kept; the ones we add follow the same style and
//! are listed in ARCHITECTURE.md.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ApiError {
    pub code: i32,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sub_errors: Vec<SubError>,
}

/// One offending field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SubError {
    pub field: String,
    pub message: String,
}

/// Every error code the server answers with, and its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// Throttled; OCP answers code 0 with HTTP 429.
    TooManyRequests,
    IllegalArgument,
    NotFound,
    /// The resource exists already (a duplicate name, for example).
    AlreadyExists,
    AccessDenied,
    MethodNotAllowed,
    Unauthorized,
    /// The request is well formed but conflicts with the resource's state.
    StateConflict,
    UnsupportedMediaType,
    Internal,
    /// A host's agent did not answer, or answered with an error.
    AgentUnavailable,
    /// The managed database cannot do this (a tenant on seekdb, a second zone, ...).
    UnsupportedByServerKind,
    /// The managed database refused the statement; the message carries its error.
    ObRefused,
    /// The managed database does not accept connections.
    ObUnreachable,
    /// The metadb cannot write (a full disk, an I/O error): nothing was changed.
    InsufficientStorage,
    /// The request's body is larger than the route takes.
    PayloadTooLarge,
    /// The request line or headers are larger than the server reads.
    RequestTooLarge,
    /// The metrics engine (a Prometheus the server writes to and reads from) did not answer.
    MetricsUnavailable,
    TaskNotExists,
    TaskStateInvalid,
    TaskProhibitRollback,
}

impl ErrorCode {
    pub fn code(self) -> i32 {
        match self {
            Self::TooManyRequests => 0,
            Self::IllegalArgument => 10001,
            Self::NotFound => 10002,
            Self::AlreadyExists => 10003,
            Self::AccessDenied => 10004,
            Self::MethodNotAllowed => 10005,
            Self::StateConflict => 10006,
            Self::UnsupportedMediaType => 10007,
            Self::Unauthorized => 10008,
            Self::Internal => 10009,
            Self::AgentUnavailable => 10010,
            Self::UnsupportedByServerKind => 10011,
            Self::ObRefused => 10012,
            Self::ObUnreachable => 10013,
            Self::InsufficientStorage => 10014,
            Self::PayloadTooLarge => 10015,
            Self::RequestTooLarge => 10016,
            Self::MetricsUnavailable => 10017,
            Self::TaskNotExists => 20000,
            Self::TaskStateInvalid => 20003,
            Self::TaskProhibitRollback => 20004,
        }
    }

    pub fn http_status(self) -> u16 {
        match self {
            Self::TooManyRequests => 429,
            Self::IllegalArgument => 400,
            Self::NotFound | Self::TaskNotExists => 404,
            Self::AlreadyExists | Self::StateConflict => 409,
            Self::AccessDenied => 403,
            Self::MethodNotAllowed => 405,
            Self::UnsupportedMediaType => 415,
            Self::Unauthorized => 401,
            Self::Internal => 500,
            Self::AgentUnavailable | Self::ObUnreachable | Self::MetricsUnavailable => 503,
            Self::UnsupportedByServerKind | Self::ObRefused => 400,
            Self::TaskStateInvalid | Self::TaskProhibitRollback => 400,
            Self::InsufficientStorage => 507,
            Self::PayloadTooLarge => 413,
            Self::RequestTooLarge => 431,
        }
    }

    pub fn from_code(code: i32) -> Option<Self> {
        [
            Self::TooManyRequests,
            Self::IllegalArgument,
            Self::NotFound,
            Self::AlreadyExists,
            Self::AccessDenied,
            Self::MethodNotAllowed,
            Self::StateConflict,
            Self::UnsupportedMediaType,
            Self::Unauthorized,
            Self::Internal,
            Self::AgentUnavailable,
            Self::UnsupportedByServerKind,
            Self::ObRefused,
            Self::ObUnreachable,
            Self::InsufficientStorage,
            Self::PayloadTooLarge,
            Self::RequestTooLarge,
            Self::MetricsUnavailable,
            Self::TaskNotExists,
            Self::TaskStateInvalid,
            Self::TaskProhibitRollback,
        ]
        .into_iter()
        .find(|c| c.code() == code)
    }
}
