//! Wire types of the OCP-compatible API.
//!
//! Everything that crosses HTTP between the server, its agents and `ocpctl` is defined here,
//! once. Field names follow the OCP documentation exactly (camelCase, including its
//! misspellings such as `SYS_ONECE`). This crate does no I/O.

pub mod compute;
pub mod envelope;
pub mod error;
pub mod iam;
pub mod info;
pub mod page;
pub mod task;
pub mod time;

pub use envelope::Envelope;
pub use error::{ApiError, ErrorCode, SubError};
pub use page::{Page, PageData, PageQuery, SortOrder};
pub use time::Timestamp;
