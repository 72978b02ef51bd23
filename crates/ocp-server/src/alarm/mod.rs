//! Alerts: the built-in items, the rule engine that opens and resolves events, and the
//! outbox that delivers notifications through channels.

pub mod builtin;
pub mod deliver;
pub mod engine;
pub mod template;

pub use deliver::Outbox;
pub use engine::AlarmEngine;
