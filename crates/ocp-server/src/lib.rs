//! The OCP-compatible server: HTTP API, auth and RBAC, metadb and the task engine.

pub mod app;
pub mod auth;
pub mod config;
pub mod http;
pub mod routes;

pub use app::{openapi_document, Server};
pub use config::Config;
