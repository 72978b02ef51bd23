//! The test harness: real processes on loopback, killed by process group on drop, in
//! temporary directories.
//!
//! - [`ServerProcess`]: an `ocp-server` binary on `127.0.0.1:0`, restartable on the same data
//!   directory, killable with SIGKILL.
//! - [`Postgres`]: a throwaway PostgreSQL cluster on a loopback port.
//! - [`Api`]: a small HTTP client that speaks the envelope.

mod api;
mod postgres;
mod process;
mod server;

pub use api::{Api, Reply};
pub use postgres::Postgres;
pub use process::ChildGroup;
pub use server::{server_binary, ServerOptions, ServerProcess};

/// The admin password every test server is started with.
pub const ADMIN_PASSWORD: &str = "Admin-Test-123";
