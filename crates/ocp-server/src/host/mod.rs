//! Hosts and their agents: the signed client the server calls agents with, joining and
//! heartbeats, the watch that marks silent agents OFFLINE, the agent this server may run for
//! its own machine, and the host and agent task steps.

pub mod agent_client;
pub mod link;
pub mod local_agent;
pub mod steps;
