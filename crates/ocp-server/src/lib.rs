//! The OCP-compatible server: HTTP API, auth and RBAC, metadb and the task engine.

pub mod agent_client;
pub mod alarm;
pub mod app;
pub mod auth;
pub mod config;
pub mod host_steps;
pub mod http;
pub mod iam;
mod local_agent;
pub mod ob_access;
mod ob_steps;
mod ob_sync;
mod openapi;
pub mod password;
pub mod routes;

pub use app::{openapi_document, Server};
pub use config::Config;
