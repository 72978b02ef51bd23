//! Alerts: the built-in items, the rule engine that opens and resolves events, and the
//! outbox that delivers notifications through channels.

pub mod builtin;
pub mod deliver;
pub mod engine;
pub mod evaluate;
pub mod outbound;
pub mod template;

pub use deliver::Outbox;
pub use engine::AlarmEngine;

/// Metrics that just arrived, so that the rules reading them are evaluated at once rather
/// than at their next cycle: the time from a threshold crossing to the alert is then the
/// time the sample takes to reach the server.
#[derive(Clone, Default)]
pub struct Fresh {
    metrics: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
    wake: std::sync::Arc<tokio::sync::Notify>,
}

impl Fresh {
    pub fn mark<'a>(&self, metrics: impl IntoIterator<Item = &'a str>) {
        let mut set = self.metrics.lock().expect("fresh metrics");
        for m in metrics {
            if !set.contains(m) {
                set.insert(m.to_string());
            }
        }
        drop(set);
        self.wake.notify_one();
    }

    pub async fn wait(&self) -> std::collections::HashSet<String> {
        self.wake.notified().await;
        std::mem::take(&mut *self.metrics.lock().expect("fresh metrics"))
    }
}

/// How long the engine takes over each rule: the last and the slowest evaluation since the
/// server started, beside the rule's interval, for `/metrics` (an engine slower than its
/// rules' intervals falls behind).
#[derive(Clone, Default)]
pub struct Timings {
    rules: std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<String, RuleTiming>>>,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct RuleTiming {
    pub interval_secs: i64,
    pub last: std::time::Duration,
    pub max: std::time::Duration,
}

impl Timings {
    pub fn record(&self, rule: &str, interval_secs: i64, took: std::time::Duration) {
        let mut rules = self.rules.lock().expect("rule timings");
        let timing = rules.entry(rule.to_string()).or_default();
        timing.interval_secs = interval_secs;
        timing.last = took;
        timing.max = timing.max.max(took);
    }

    pub fn all(&self) -> Vec<(String, RuleTiming)> {
        let rules = self.rules.lock().expect("rule timings");
        rules.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}
