//! Wire types of the OCP-compatible API.
//!
//! Everything that crosses HTTP between the server, its agents and `ocpctl` is defined here,
//! once. Field names follow the OCP documentation exactly (camelCase, including its
//! misspellings such as `SYS_ONECE`). This crate does no I/O.

/// An enum that travels as its documented upper-case text.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod agent;
pub mod agent_path;
pub mod alarm;
pub mod backup;
pub mod compute;
pub mod envelope;
pub mod error;
pub mod host;
pub mod iam;
pub mod info;
pub mod log;
pub mod monitor;
pub mod ob;
pub mod obdb;
pub mod obproxy;
pub mod page;
pub mod sql;
pub mod standby;
pub mod task;
pub mod tenant;
pub mod time;

pub use envelope::Envelope;
pub use error::{ApiError, ErrorCode, SubError};
pub use page::{Page, PageData, PageQuery, SortOrder};
pub use time::Timestamp;
