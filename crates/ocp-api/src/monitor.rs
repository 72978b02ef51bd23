//! Monitoring: the metric catalog (`GET /api/v2/monitor/metricGroups`), metric queries
//! (`/metric`, `/metricsWithLabel`) and the batches agents ship (`POST /api/v2/agents/metrics`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One metric of the catalog.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MetricMeta {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub description: String,
    pub unit: String,
    pub display_by_default: bool,
}

/// Metrics shown together.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MetricGroup {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub description: String,
    pub metrics: Vec<MetricMeta>,
    pub with_label: bool,
}

/// A category of metric groups for one scope and type.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MetricClass {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub description: String,
    /// CLUSTER, TENANT, HOST or OBPROXY.
    pub scope: String,
    /// TOP or NORMAL.
    #[serde(rename = "type")]
    pub metric_type: String,
    pub metric_groups: Vec<MetricGroup>,
}

/// `GET /api/v2/monitor/metricGroups` filters.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct MetricGroupFilter {
    /// TOP or NORMAL.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", param(rename = "type"))]
    pub metric_type: Option<String>,
    /// CLUSTER, TENANT, HOST or OBPROXY.
    pub scope: Option<String>,
}

/// `GET /api/v2/monitor/metric` and `/metricsWithLabel`. Strings, so that a bad value is
/// answered with its field.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct MetricQuery {
    /// ISO-8601 with offset (`2026-12-03T10:00:00+08:00`, `2026-12-03T02:00:00.000Z`), or
    /// Unix seconds. Also taken as `start_time`, as OCP's reference spells it.
    #[serde(alias = "start_time")]
    pub start_time: Option<String>,
    /// As `startTime`; also taken as `end_time`.
    #[serde(alias = "end_time")]
    pub end_time: Option<String>,
    /// Comma-separated metric keys (as `metricGroups` lists them).
    pub metrics: Option<String>,
    /// Comma-separated label names to group by: app, host_id, svr_ip, svr_port, ob_cluster,
    /// ob_cluster_id, ob_cluster_name, obregion, ob_server_id, device, mount, process.
    pub group_by: Option<String>,
    /// Seconds per point.
    pub interval: Option<String>,
    /// Comma-separated `name:value` (or `name=value`) filters.
    pub labels: Option<String>,
}

/// One value of one series at one second, as an agent ships it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MetricPoint {
    pub metric: String,
    /// Labels besides those the server sets from the agent's host (`host_id`, `svr_ip`).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Seconds since the epoch.
    pub timestamp: i64,
    pub value: f64,
}

/// `POST /api/v2/agents/metrics`: points of one host. Sending a point twice stores it once.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MetricBatch {
    pub points: Vec<MetricPoint>,
    /// What the host's database servers' statements did between samples.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sql_stats: Vec<crate::sql::SqlStatDelta>,
    /// Executions the servers' trace logs recorded as slow.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slow_queries: Vec<crate::sql::SlowQuery>,
}

/// What the server did with a batch.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MetricBatchAnswer {
    pub received: usize,
    /// New points; the rest were there already.
    pub stored: usize,
}
