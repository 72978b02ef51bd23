//! The envelope every response travels in, success or error.

use serde::{Deserialize, Serialize};

use crate::{ApiError, Timestamp};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Envelope<T> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
    pub successful: bool,
    pub timestamp: Timestamp,
    /// Server-side processing time in milliseconds.
    pub duration: i64,
    /// The HTTP status, repeated in the body.
    pub status: u16,
    pub trace_id: String,
    /// The address of the server that answered.
    pub server: String,
}
