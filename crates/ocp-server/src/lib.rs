//! The OCP-compatible server: HTTP API, auth and RBAC, metadb and the task engine.

//!
//! Layers, each pointing only down: `app` (composition root) -> `routes` (HTTP: extract,
//! authorize, call the domain, map to `ocp-api` views) -> `state` (what handlers reach) ->
//! the domains `host`, `cluster`, `monitor`, `alarm`, `iam`, with `auth`, `password`,
//! `vault` and `task_view` beside them. No domain module imports `routes` or `app`.

pub mod alarm;
pub mod app;
pub mod auth;
pub mod cluster;
pub mod coalesce;
pub mod config;
pub mod console;
pub mod error;
pub mod host;
pub mod http;
pub mod iam;
pub mod monitor;
mod openapi;
pub mod package;
pub mod password;
pub mod roles;
pub mod routes;
pub mod state;
pub mod task_view;
pub mod vault;

pub use app::{openapi_document, Server};
pub use config::Config;
