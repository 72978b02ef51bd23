//! The rule engine: every rule is evaluated at its own interval against the collected
//! time series (and a few values the metadb itself knows: agent heartbeats, inactive
//! servers). A target whose value crosses the threshold, for the rule's duration, opens an
//! event; later evaluations repeat or resolve it. Matching blocking conditions keep an
//! event Silenced. Subscribed channels get a notification queued in the metadb.
//!
//! Nothing lives only in memory: "for the duration" is read from the stored samples, the
//! open events and their last notification are rows. A restarted server carries on.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ocp_api::alarm::{level_name, AlarmStatus, RuleExpression};
use ocp_api::backup::BackupTaskStatus;
use ocp_api::ob::ServerStatus;
use ocp_api::Timestamp;
use ocp_store::{
    EventRecord, HostListFilter, NewEvent, NewNotification, RuleRecord, SilencerRecord, Store,
    StoreError,
};
use tokio::sync::Notify;

use crate::error::Failure;

use crate::cluster::backup;

use super::builtin::{
    self, BACKUP_DAYS_WITHOUT_SUCCESS, BACKUP_FAILED_COUNT, BACKUP_STORAGE_OVER_THRESHOLD,
    HOST_HEARTBEAT_AGE, INACTIVE_SERVER_COUNT,
};
use super::evaluate::{aggregate, compare, show_number, silences, target_keys, worst_of};
use super::template::render;

/// A series whose newest sample is older than this says nothing about now.
const STALE_SECS: i64 = 60;

pub const DEFAULT_MESSAGE: &str = "[${alarm_level}] ${alarm_summary}\n\
- Alert target ${alarm_target}\n- Alert details ${alarm_description}\n\
- Active since ${alarm_active_at}";

pub const DEFAULT_RESOLVED_MESSAGE: &str = "[Alert clearance notification]\n\
- Alert target ${alarm_target}\n- Alert details ${alarm_description}\n\
- Clearance time ${alarm_resolved_at}";

/// What the engine needs.
#[derive(Clone)]
pub struct AlarmEngine {
    pub store: Store,
    /// Where the rules' metrics are read.
    pub metrics: crate::monitor::MetricsBackend,
    /// Woken when notifications are queued.
    pub outbox: Arc<Notify>,
    /// The server's URL, for `alarm_url`.
    pub base_url: String,
    /// Metrics that just arrived.
    pub fresh: super::Fresh,
    /// How long each rule's evaluation takes.
    pub timings: super::Timings,
}

/// A rule woken by fresh data is evaluated at most this often...
const FRESH_GAP: Duration = Duration::from_secs(1);
/// ...and waits this many times its last evaluation's length, so that fresh data keeps
/// any rule busy for at most 1/50 of the time (a rule over 10,000 hosts takes a while);
/// its own interval still holds.
const FRESH_DUTY: u32 = 50;

/// One target's value at this evaluation.
struct Observation {
    target: String,
    labels: BTreeMap<String, String>,
    value: f64,
    breached: bool,
}

/// One series as the engine reads it: labels, then (second, value) oldest first.
struct Series {
    labels: BTreeMap<String, String>,
    points: Vec<(i64, f64)>,
}

impl AlarmEngine {
    /// Seeds the built-in items, then evaluates each enabled rule when its interval is due.
    pub async fn run(self, tick: Duration) {
        for rule in builtin::rules() {
            if let Err(e) = self.store.insert_alarm_rule(&rule).await {
                tracing::warn!("seeding alert item {}: {e}", rule.name);
            }
        }
        let mut last: HashMap<i64, (Instant, Duration)> = HashMap::new();
        let mut ticker = tokio::time::interval(tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let fresh = tokio::select! {
                _ = ticker.tick() => None,
                metrics = self.fresh.wait() => Some(metrics),
            };
            if let Err(e) = self.tick(&mut last, fresh.as_ref()).await {
                tracing::warn!("alert evaluation: {e}");
            }
        }
    }

    /// Evaluates the rules whose cycle is due, or (`fresh`) those that read a metric that
    /// just arrived.
    async fn tick(
        &self,
        last: &mut HashMap<i64, (Instant, Duration)>,
        fresh: Option<&std::collections::HashSet<String>>,
    ) -> Result<(), StoreError> {
        let rules = self.store.alarm_rules().await?;
        let due: Vec<RuleRecord> = rules
            .into_iter()
            .filter(|r| r.enabled)
            .filter(|r| {
                let Some(metric) = r
                    .expression
                    .as_deref()
                    .and_then(|e| serde_json::from_str::<RuleExpression>(e).ok())
                    .map(|e| e.metric)
                else {
                    return false;
                };
                let since = last.get(&r.id).map(|(at, took)| (at.elapsed(), *took));
                match fresh {
                    Some(metrics) => {
                        metrics.contains(&metric)
                            && since.is_none_or(|(s, took)| s >= FRESH_GAP.max(took * FRESH_DUTY))
                    }
                    None => since.is_none_or(|(s, _)| {
                        s >= Duration::from_secs(r.interval_secs.max(1) as u64)
                    }),
                }
            })
            .collect();
        if due.is_empty() {
            return Ok(());
        }
        let now = ocp_store::now_millis();
        let silencers = self.store.alarm_silencers(now).await?;
        for rule in due {
            let started = Instant::now();
            if let Err(e) = self.evaluate(&rule, &silencers).await {
                tracing::warn!("alert item {}: {}", rule.name, e.message);
            }
            let took = started.elapsed();
            last.insert(rule.id, (started, took));
            self.timings.record(&rule.name, rule.interval_secs, took);
        }
        Ok(())
    }

    /// Evaluates one rule now and opens, refreshes or resolves its events.
    pub async fn evaluate(
        &self,
        rule: &RuleRecord,
        silencers: &[SilencerRecord],
    ) -> Result<(), Failure> {
        let Some(expr) = rule
            .expression
            .as_deref()
            .and_then(|e| serde_json::from_str::<RuleExpression>(e).ok())
        else {
            return Ok(());
        };
        let now = ocp_store::now_millis();
        let observations = self.observe(rule, &expr, now / 1000).await?;
        let mut open: HashMap<String, EventRecord> = self
            .store
            .open_alarms(rule.id)
            .await?
            .into_iter()
            .map(|e| (e.target.clone(), e))
            .collect();
        for obs in observations {
            let existing = open.remove(&obs.target);
            if !obs.breached {
                if let Some(event) = existing {
                    self.resolve(&event).await?;
                }
                continue;
            }
            let vars = rule_vars(rule, &expr, &obs);
            let summary = render(&rule.summary_template, &vars, false);
            let description = render(&rule.description_template, &vars, false);
            let silenced = silencers
                .iter()
                .any(|s| silences(s, &rule.app_type, &rule.name, &vars, now));
            let status = if silenced {
                AlarmStatus::Silenced
            } else {
                AlarmStatus::Active
            };
            match existing {
                None => {
                    let labels = serde_json::to_string(&vars).unwrap_or_default();
                    let opened = self
                        .store
                        .open_alarm(&NewEvent {
                            rule_id: rule.id,
                            alarm_type: rule.name.clone(),
                            app_type: rule.app_type.clone(),
                            scope: rule.scope.clone(),
                            level: rule.level,
                            target: obs.target.clone(),
                            status,
                            summary,
                            description,
                            labels,
                            value: Some(obs.value),
                        })
                        .await?;
                    if let Some(id) = opened {
                        tracing::info!(alarm = rule.name, target = obs.target, %status, "alert");
                        if !silenced && self.store.mark_alarm_notified(id, None).await? {
                            self.notify(id, "ALERT", None).await?;
                        }
                    }
                }
                Some(event) => {
                    let changed = self
                        .store
                        .refresh_alarm(event.id, status, Some(obs.value), &summary, &description)
                        .await?;
                    if silenced {
                        continue;
                    }
                    if changed {
                        // The blocking condition ended while the alert still fires.
                        if self
                            .store
                            .mark_alarm_notified(event.id, event.last_notified_at)
                            .await?
                        {
                            self.notify(event.id, "ALERT", None).await?;
                        }
                    } else {
                        self.repeat(&event, now).await?;
                    }
                }
            }
        }
        // Targets that report nothing any more are cleared after the rule's clearance time.
        for event in open.into_values() {
            if now - event.last_seen_at >= rule.clear_secs * 1000 {
                self.resolve(&event).await?;
            }
        }
        Ok(())
    }

    async fn resolve(&self, event: &EventRecord) -> Result<(), StoreError> {
        if self.store.resolve_alarm(event.id).await? {
            tracing::info!(
                alarm = event.alarm_type,
                target = event.target,
                "alert resolved"
            );
            if event.status == AlarmStatus::Active {
                self.notify(event.id, "RESOLVED", None).await?;
            }
        }
        Ok(())
    }

    /// Sends an alert that still fires again to subscriptions that ask for repeats.
    async fn repeat(&self, event: &EventRecord, now: i64) -> Result<(), StoreError> {
        let since = now - event.last_notified_at.unwrap_or(event.active_at);
        let subscriptions = self.store.alarm_subscriptions().await?;
        let due: Vec<i64> = subscriptions
            .iter()
            .filter(|s| s.repeat_secs > 0 && since >= s.repeat_secs * 1000)
            .map(|s| s.id)
            .collect();
        if !due.is_empty()
            && self
                .store
                .mark_alarm_notified(event.id, event.last_notified_at)
                .await?
        {
            self.notify(event.id, "REPEAT", Some(&due)).await?;
        }
        Ok(())
    }

    /// Queues a notification of the event for each subscription that wants it (only
    /// `only`, when given).
    pub async fn notify(
        &self,
        alarm_id: i64,
        kind: &str,
        only: Option<&[i64]>,
    ) -> Result<(), StoreError> {
        let event = self.store.alarm(alarm_id).await?;
        let vars = event_vars(&event, &self.base_url);
        let mut queued = Vec::new();
        for s in self.store.alarm_subscriptions().await? {
            if !s.enabled || only.is_some_and(|ids| !ids.contains(&s.id)) {
                continue;
            }
            let types: Vec<String> = serde_json::from_str(&s.alarm_types).unwrap_or_default();
            if (!types.is_empty() && !types.contains(&event.alarm_type))
                || event.level > s.max_level
                || (kind == "RESOLVED" && !s.send_resolved)
            {
                continue;
            }
            let channel = self.store.alarm_channel(s.channel_id).await?;
            let template = if kind == "RESOLVED" {
                &channel.resolved_message_template
            } else {
                &channel.message_template
            };
            queued.push(NewNotification {
                alarm_id,
                channel_id: channel.id,
                subscription_id: Some(s.id),
                recipient_uid: s.user_id.map(|u| u.to_string()).unwrap_or_default(),
                kind: kind.into(),
                message: render(template, &vars, false),
            });
        }
        if !queued.is_empty() {
            self.store.queue_notifications(&queued).await?;
            self.outbox.notify_one();
        }
        Ok(())
    }

    /// Each target's value for the rule now.
    async fn observe(
        &self,
        rule: &RuleRecord,
        expr: &RuleExpression,
        now: i64,
    ) -> Result<Vec<Observation>, Failure> {
        let servers = if is_server_scope(rule) {
            let servers = self.store.all_servers().await?;
            if servers.is_empty() && expr.metric.starts_with("host_") {
                // A host metric stands for the servers on the host: none, nothing to read.
                return Ok(Vec::new());
            }
            Some(servers)
        } else {
            None
        };
        let series = self.series(rule, expr, now).await?;
        let series = match servers {
            Some(servers) => self.join_scope(expr, &servers, series).await?,
            None => series,
        };
        let keys = target_keys(&rule.scope);
        let mut targets: BTreeMap<String, Vec<Series>> = BTreeMap::new();
        for s in series {
            let target = keys
                .iter()
                .filter_map(|k| s.labels.get(*k).map(|v| format!("{k}={v}")))
                .collect::<Vec<_>>()
                .join(":");
            if !target.is_empty() {
                targets.entry(target).or_default().push(s);
            }
        }
        let divisor = expr.divisor.filter(|d| *d != 0.0).unwrap_or(1.0);
        let window = rule.duration_secs.max(0);
        let mut out = Vec::new();
        for (target, members) in targets {
            let mut latest = Vec::new();
            let mut worst = Vec::new();
            let mut long_enough = true;
            for s in &members {
                let Some(&(newest, value)) = s.points.last() else {
                    continue;
                };
                if newest < now - STALE_SECS - window {
                    continue;
                }
                latest.push(value);
                let held: Vec<f64> = s
                    .points
                    .iter()
                    .filter(|(ts, _)| *ts >= now - window)
                    .map(|(_, v)| *v)
                    .collect();
                // Held long enough: a sample from (about) the start of the window exists.
                let slack = rule.interval_secs.max(15);
                long_enough &= window == 0 || s.points[0].0 <= now - window + slack;
                worst.push(worst_of(expr.comparator, &held).unwrap_or(value));
            }
            if latest.is_empty() {
                continue;
            }
            let value = aggregate(expr.aggregation, &latest) / divisor;
            let held = aggregate(expr.aggregation, &worst) / divisor;
            let breached = long_enough
                && compare(expr.comparator, held, expr.threshold)
                && compare(expr.comparator, value, expr.threshold);
            out.push(Observation {
                target,
                labels: members[0].labels.clone(),
                value,
                breached,
            });
        }
        Ok(out)
    }

    /// The rule's metric: computed from the metadb, or the stored samples of the window.
    async fn series(
        &self,
        rule: &RuleRecord,
        expr: &RuleExpression,
        now: i64,
    ) -> Result<Vec<Series>, Failure> {
        let now_ms = now * 1000;
        let mut out = Vec::new();
        match expr.metric.as_str() {
            HOST_HEARTBEAT_AGE => {
                let (hosts, _) = self.store.hosts(&all_hosts()).await?;
                for h in hosts {
                    let Some(agent) = h.agent else { continue };
                    let heard = agent.last_heartbeat.unwrap_or(agent.create_time);
                    let labels = BTreeMap::from([
                        ("host_id".to_string(), h.id.to_string()),
                        ("svr_ip".to_string(), h.inner_ip_address.clone()),
                        ("host".to_string(), h.inner_ip_address.clone()),
                        ("host_name".to_string(), h.name.clone()),
                    ]);
                    out.push(Series {
                        labels,
                        points: vec![(now, (now_ms - heard) as f64)],
                    });
                }
            }
            INACTIVE_SERVER_COUNT => {
                let unavailable = ServerStatus::Unavailable;
                for cluster in self.store.clusters().await? {
                    let servers = self.store.servers(cluster.id).await?;
                    let down: Vec<String> = servers
                        .iter()
                        .filter(|s| s.status == unavailable)
                        .map(|s| s.ip.clone())
                        .collect();
                    let labels = BTreeMap::from([
                        ("ob_cluster".to_string(), cluster.name.clone()),
                        ("ob_cluster_id".to_string(), cluster.id.to_string()),
                        ("servers".to_string(), down.join(",")),
                    ]);
                    out.push(Series {
                        labels,
                        points: vec![(now, down.len() as f64)],
                    });
                }
            }
            BACKUP_FAILED_COUNT | BACKUP_DAYS_WITHOUT_SUCCESS => {
                out = self.backup_series(&expr.metric, now_ms).await?;
            }
            BACKUP_STORAGE_OVER_THRESHOLD => {
                out = self.storage_series(now_ms).await?;
            }
            metric => {
                let since = now - rule.duration_secs.max(0) - STALE_SECS;
                let labels: Vec<(String, String)> = expr
                    .labels
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let read = self
                    .metrics
                    .bucket_means(&[metric.to_string()], &labels, since, now, 1)
                    .await?;
                out.extend(read.into_iter().map(|s| Series {
                    labels: s.labels,
                    points: s.points,
                }));
            }
        }
        Ok(out)
    }

    /// Host metrics for a server- or cluster-scoped rule: each host's series stands for the
    /// OBServers on that host (for disk usage, only the mount that holds the server's home).
    async fn join_scope(
        &self,
        expr: &RuleExpression,
        servers: &[ocp_store::ServerRecord],
        series: Vec<Series>,
    ) -> Result<Vec<Series>, StoreError> {
        if series.iter().all(|s| s.labels.contains_key("ob_cluster")) {
            return Ok(series);
        }
        let clusters: HashMap<i64, String> = self
            .store
            .clusters()
            .await?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect();
        let mut by_host: HashMap<&str, Vec<&Series>> = HashMap::new();
        for s in &series {
            if let Some(host) = s.labels.get("host_id") {
                by_host.entry(host.as_str()).or_default().push(s);
            }
        }
        let mut out = Vec::new();
        for server in servers {
            let host = server.host_id.to_string();
            let on_host = by_host.get(host.as_str()).cloned().unwrap_or_default();
            // Disk usage: the mount that holds the home path is the longest prefix of it.
            let mount = on_host
                .iter()
                .filter_map(|s| s.labels.get("mount"))
                .filter(|m| {
                    server.home_path == **m
                        || server
                            .home_path
                            .starts_with(&format!("{}/", m.trim_end_matches('/')))
                })
                .max_by_key(|m| m.len())
                .cloned();
            for s in on_host {
                if expr.metric == "host_disk_used_percent"
                    && s.labels.get("mount") != mount.as_ref()
                {
                    continue;
                }
                let mut labels = s.labels.clone();
                labels.insert(
                    "ob_cluster".into(),
                    clusters
                        .get(&server.cluster_id)
                        .cloned()
                        .unwrap_or_default(),
                );
                labels.insert("ob_cluster_id".into(), server.cluster_id.to_string());
                labels.insert("svr_ip".into(), server.ip.clone());
                labels.insert("svr_port".into(), server.sql_port.to_string());
                if let Some(m) = &mount {
                    labels.insert("mount_point".into(), m.clone());
                }
                labels.insert("data_disk_path".into(), server.home_path.clone());
                labels.insert("log_disk_path".into(), server.home_path.clone());
                out.push(Series {
                    labels,
                    points: s.points.clone(),
                });
            }
        }
        Ok(out)
    }
}

/// Rules about database servers or clusters: host metrics stand for the servers on a host.
fn is_server_scope(rule: &RuleRecord) -> bool {
    rule.scope == "ObServer" || rule.scope == "ObCluster"
}

/// The query of every host.
fn all_hosts() -> HostListFilter {
    HostListFilter {
        statuses: Vec::new(),
        keyword: None,
        requires_service: false,
        offset: 0,
        limit: i64::MAX,
        sort_column: "id".into(),
        descending: false,
    }
}

pub(crate) fn level_color(level: i64) -> &'static str {
    match level {
        1 => "#722ED1",
        2 => "#F5222D",
        3 => "#FA8C16",
        4 => "#1890FF",
        _ => "#52C41A",
    }
}

/// The variables of a firing target, kept as the event's labels.
fn rule_vars(
    rule: &RuleRecord,
    expr: &RuleExpression,
    obs: &Observation,
) -> BTreeMap<String, String> {
    let mut vars = obs.labels.clone();
    let host = vars
        .get("svr_ip")
        .or(vars.get("host"))
        .cloned()
        .unwrap_or_default();
    let cluster = vars.get("ob_cluster").cloned().unwrap_or_default();
    for (k, v) in [
        ("app_type", rule.app_type.clone()),
        ("app", rule.app_type.clone()),
        ("alarm_type", rule.name.clone()),
        ("alarm_name", rule.display_name.clone()),
        ("alarm_target", obs.target.clone()),
        ("alarm_scope", rule.scope.clone()),
        ("alarm_level", level_name(rule.level as i32).to_string()),
        ("alarm_level_color", level_color(rule.level).to_string()),
        ("alarm_evaluation_interval", rule.interval_secs.to_string()),
        ("alarm_duration", rule.duration_secs.to_string()),
        ("alarm_threshold", show_number(expr.threshold)),
        ("alarm_is_build_in_rule", rule.builtin.to_string()),
        ("value", show_number(obs.value)),
        ("host", host.clone()),
        ("host_ip", host),
        ("ob_cluster_name", cluster),
    ] {
        vars.insert(k.to_string(), v);
    }
    vars
}

/// The variables of a stored event, for notification messages and channel templates.
pub fn event_vars(event: &EventRecord, base_url: &str) -> BTreeMap<String, String> {
    let mut vars: BTreeMap<String, String> =
        serde_json::from_str(&event.labels).unwrap_or_default();
    let at = |ms: i64| Timestamp::from_millis(ms).0.to_rfc3339();
    let end = event.resolved_at.unwrap_or_else(ocp_store::now_millis);
    for (k, v) in [
        ("alarm_id", event.id.to_string()),
        ("alarm_status", event.status.to_string()),
        ("alarm_summary", event.summary.clone()),
        ("alarm_description", event.description.clone()),
        ("alarm_active_at", at(event.active_at)),
        ("alarm_updated_at", at(event.updated_at)),
        (
            "alarm_resolved_at",
            event.resolved_at.map(at).unwrap_or_default(),
        ),
        (
            "alarm_last_interval",
            format!("PT{}S", (end - event.active_at).max(0) / 1000),
        ),
        (
            "alarm_url",
            format!(
                "{}/api/v2/alarm/alarms/{}",
                base_url.trim_end_matches('/'),
                event.id
            ),
        ),
    ] {
        vars.insert(k.to_string(), v);
    }
    if let Some(value) = event.value {
        vars.insert("value".into(), show_number(value));
    }
    vars.entry("service".into())
        .or_insert_with(|| event.app_type.clone());
    vars
}

/// The storage threshold of a strategy that names none, as OCP's alarm reference has it.
const DEFAULT_STORAGE_THRESHOLD: i64 = 70;
/// A storage looked at longer ago than this says nothing about now.
const STORAGE_USAGE_STALE_MS: i64 = 30 * 60 * 1000;

/// How recent a failed set must be to alert, as OCP's `base_backup_fail` looks.
const BACKUP_FAILURE_WINDOW_MS: i64 = 5 * 60 * 1000;
const DAY_MS: i64 = 86_400_000;

impl AlarmEngine {
    /// Per cluster with a strategy whose storage was looked at lately: the percent of the
    /// storage's filesystem in use beyond the strategy's threshold.
    async fn storage_series(&self, now_ms: i64) -> Result<Vec<Series>, StoreError> {
        let clusters: HashMap<i64, String> = self
            .store
            .clusters()
            .await?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect();
        let mut out = Vec::new();
        for record in self.store.backup_strategies(None).await? {
            let (Some(usage), Some(name)) =
                (record.storage_usage, clusters.get(&record.cluster_id))
            else {
                continue;
            };
            if usage.total_bytes <= 0 || usage.checked_at < now_ms - STORAGE_USAGE_STALE_MS {
                continue;
            }
            let config = &record.strategy.ob_backup_service_storage_config;
            let threshold = config
                .alarm_storage_percentage_threshold
                .unwrap_or(DEFAULT_STORAGE_THRESHOLD);
            let used = usage.used_bytes as f64 * 100.0 / usage.total_bytes as f64;
            let Ok(dir) = backup::storage_dir(&config.ob_backup_storage_base_info, "") else {
                continue;
            };
            let labels = BTreeMap::from([
                ("ob_cluster".to_string(), name.clone()),
                ("ob_cluster_id".to_string(), record.cluster_id.to_string()),
                (
                    "storage_url".to_string(),
                    backup::storage_uri(
                        ocp_api::backup::BackupStorageType::BackupStorageFile,
                        &dir,
                    ),
                ),
                ("used_percent".to_string(), format!("{used:.0}")),
                ("storage_threshold".to_string(), threshold.to_string()),
            ]);
            out.push(Series {
                labels,
                points: vec![(now_ms / 1000, used - threshold as f64)],
            });
        }
        Ok(out)
    }

    /// The backup items' values per cluster, read from the metadb: failed (or overdue) sets,
    /// and days without a finished set beyond the strategy's allowance.
    async fn backup_series(&self, metric: &str, now_ms: i64) -> Result<Vec<Series>, StoreError> {
        let strategies: HashMap<i64, (ocp_api::backup::BackupStrategy, i64)> = self
            .store
            .backup_strategies(None)
            .await?
            .into_iter()
            .map(|r| (r.cluster_id, (r.strategy, r.update_time)))
            .collect();
        let now = now_ms / 1000;
        let mut out = Vec::new();
        for cluster in self.store.clusters().await? {
            let strategy = strategies.get(&cluster.id);
            if metric == BACKUP_DAYS_WITHOUT_SUCCESS && strategy.is_none() {
                continue;
            }
            let sets = self.store.backup_sets(cluster.id).await?;
            if metric == BACKUP_FAILED_COUNT && sets.is_empty() {
                continue;
            }
            let mut labels = BTreeMap::from([
                ("ob_cluster".to_string(), cluster.name.clone()),
                ("ob_cluster_name".to_string(), cluster.name.clone()),
                ("ob_cluster_id".to_string(), cluster.id.to_string()),
            ]);
            let value = if metric == BACKUP_FAILED_COUNT {
                // Without a strategy, the timeout a strategy has by default.
                let thresholds = strategy
                    .map(|(s, _)| s.ob_backup_threshold_config.clone())
                    .unwrap_or_default();
                let timeout_ms = thresholds.data_backup_timeout_minutes * 60_000;
                let failed: Vec<String> = sets
                    .iter()
                    .filter_map(|s| match s.status {
                        BackupTaskStatus::Failed
                            if s.start_time > now_ms - BACKUP_FAILURE_WINDOW_MS =>
                        {
                            Some(format!("backup set {} failed (task {})", s.id, s.task_id))
                        }
                        BackupTaskStatus::Doing if s.start_time < now_ms - timeout_ms => {
                            Some(format!(
                                "backup set {} runs past its timeout (task {})",
                                s.id, s.task_id
                            ))
                        }
                        _ => None,
                    })
                    .collect();
                labels.insert("error_message".into(), failed.join("; "));
                failed.len() as f64
            } else {
                let (strategy, written) = strategy.expect("checked above");
                let allowed = strategy
                    .ob_backup_threshold_config
                    .no_successful_data_backup_alarm_days;
                let last = sets
                    .iter()
                    .filter(|s| s.status == BackupTaskStatus::Done)
                    .filter_map(|s| s.finish_time)
                    .max();
                // Never finished: counted from when the strategy was written.
                let since = last.unwrap_or(*written);
                let days = (now_ms - since) as f64 / DAY_MS as f64;
                let shown = |ms: i64| Timestamp::from_millis(ms).to_string();
                labels.insert("no_success_days_threshold".into(), allowed.to_string());
                labels.insert(
                    "last_success_time".into(),
                    last.map(shown).unwrap_or_else(|| "never".into()),
                );
                labels.insert("current_time".into(), shown(now_ms));
                labels.insert(
                    "error_message".into(),
                    format!("no successful data backup in {allowed} days"),
                );
                days - allowed as f64
            };
            out.push(Series {
                labels,
                points: vec![(now, value)],
            });
        }
        Ok(out)
    }
}
