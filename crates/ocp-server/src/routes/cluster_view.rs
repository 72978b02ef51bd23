//! The API's views of clusters, zones and servers, from their records: what `clusters.rs`
//! answers, with each cluster's active alerts by level and, for one cluster, its zone's
//! compaction status read from the running server.

use std::collections::HashMap;

use ocp_api::alarm::AlarmStatus;
use ocp_api::ob::{AlarmSummary, Cluster, ClusterStatus, RootServer, Server, ServerStatus, Zone};
use ocp_api::standby::{ClusterLink, SyncStatus};
use ocp_api::Timestamp;
use ocp_store::{AlarmListFilter, ClusterRecord, ServerRecord, ZoneRecord};

use crate::http::Failure;
use crate::state::AppState;

pub(super) fn server_view(s: &ServerRecord) -> Server {
    Server {
        id: s.id,
        cluster_id: s.cluster_id,
        host_id: s.host_id,
        ip: s.ip.clone(),
        port: s.rpc_port as u16,
        sql_port: s.sql_port as u16,
        status: s.status,
        inner_status: if s.status == ServerStatus::Running {
            "ACTIVE"
        } else {
            "INACTIVE"
        }
        .to_string(),
        version: s.version.clone(),
        with_rootserver: true,
        zone_name: s.zone_name.clone(),
        idc_name: s.idc_name.clone(),
        region_name: s.region_name.clone(),
        host_type_name: s.host_type_name.clone(),
        home_path: s.home_path.clone(),
        start_time: s.start_time.map(Timestamp::from_millis),
        stop_time: s.stop_time.map(Timestamp::from_millis),
        update_time: Timestamp::from_millis(s.update_time),
    }
}

pub(super) fn root_server(s: &ServerRecord) -> RootServer {
    RootServer {
        address: format!("{}:{}", s.ip, s.rpc_port),
        role: "LEADER".into(),
        sql_port: s.sql_port as u16,
    }
}

/// How many active alert events each cluster has (by name), per level.
pub(super) async fn active_alarms(
    state: &AppState,
) -> Result<HashMap<(String, i64), i64>, Failure> {
    let filter = AlarmListFilter {
        status: Some(AlarmStatus::Active),
        ..Default::default()
    };
    let (events, _) = state.store.alarms(&filter, 0, i64::MAX).await?;
    let mut counts = HashMap::new();
    for event in events {
        let labels: HashMap<String, String> =
            serde_json::from_str(&event.labels).unwrap_or_default();
        if let Some(cluster) = labels.get("ob_cluster") {
            *counts.entry((cluster.clone(), event.level)).or_insert(0) += 1;
        }
    }
    Ok(counts)
}

/// A cluster's summary of active alert events, one per level, with their lists' links.
pub(super) fn alarm_summaries(
    name: &str,
    counts: &HashMap<(String, i64), i64>,
    base_url: &str,
) -> Vec<AlarmSummary> {
    let base = base_url.trim_end_matches('/');
    let name_in_query: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
    (1..=5)
        .map(|level| {
            let query = format!("level={level}&status=Active&obCluster={name_in_query}");
            AlarmSummary {
                level: level as i32,
                count: counts.get(&(name.to_string(), level)).copied().unwrap_or(0),
                link_data_url: format!("{base}/api/v2/alarm/alarms?{query}"),
                link_url: format!("{base}/alerts?{query}"),
            }
        })
        .collect()
}

/// A cluster as the API shows it, from its own servers and zones.
pub(super) fn cluster_view(
    c: ClusterRecord,
    servers: &[&ServerRecord],
    zones: &[&ZoneRecord],
    packages: &HashMap<i64, String>,
) -> Cluster {
    let mut zone_views = Vec::new();
    for z in zones {
        let of: Vec<&ServerRecord> = servers
            .iter()
            .copied()
            .filter(|s| s.zone_id == z.id)
            .collect();
        let first = of.first();
        let mut hosts: Vec<i64> = of.iter().map(|s| s.host_id).collect();
        hosts.sort_unstable();
        hosts.dedup();
        zone_views.push(Zone {
            name: z.name.clone(),
            cluster_id: c.id,
            ob_cluster_id: c.id,
            idc_id: first.map(|s| s.idc_id),
            idc_name: first.map(|s| s.idc_name.clone()),
            region_name: first.map(|s| s.region_name.clone()),
            status: z.status,
            inner_status: if z.status == ServerStatus::Running {
                "ACTIVE"
            } else {
                "INACTIVE"
            }
            .into(),
            operate_status: "NORMAL".into(),
            server_count: of.len() as i64,
            host_count: hosts.len() as i64,
            compaction_status: None,
            root_server: first.map(|s| root_server(s)),
            // Zones are made with their cluster (seekdb has one); they change with their servers.
            create_time: Timestamp::from_millis(c.create_time),
            update_time: Timestamp::from_millis(
                of.iter()
                    .map(|s| s.update_time)
                    .chain([c.update_time])
                    .max()
                    .unwrap_or(c.update_time),
            ),
            servers: of.iter().map(|s| server_view(s)).collect(),
        });
    }
    let zones = zone_views;
    let regions: std::collections::HashSet<_> =
        zones.iter().filter_map(|z| z.region_name.clone()).collect();
    Cluster {
        id: c.id,
        name: c.name,
        ob_cluster_id: c.id,
        ob_version: c.ob_version,
        rpm_name: c.package_id.and_then(|p| packages.get(&p).cloned()),
        kind: c.kind,
        cluster_type: c.cluster_type,
        status: c.status,
        root_servers: servers.iter().map(|s| root_server(s)).collect(),
        region_count: regions.len() as i64,
        tenant_count: 1,
        server_count: servers.len() as i64,
        zones,
        primary_cluster: None,
        standby_clusters: Vec::new(),
        sync_status: c.sync_status.as_deref().and_then(SyncStatus::parse),
        delay_time: None,
        alarm_summaries: Vec::new(),
        create_time: Timestamp::from_millis(c.create_time),
        update_time: Timestamp::from_millis(c.update_time),
        creator: c.creator,
        fail_to_query_from_ob_reason: None,
    }
}

/// How a cluster's record names another of its pair.
fn link(c: &ClusterRecord) -> ClusterLink {
    ClusterLink {
        id: c.id,
        name: c.name.clone(),
        cluster_type: c.cluster_type,
        status: c.status,
        sync_status: c.sync_status.as_deref().and_then(SyncStatus::parse),
    }
}

/// Names a cluster's primary and standbys, from the records of every cluster.
pub(super) fn link_pair(view: &mut Cluster, all: &[ClusterRecord]) {
    let primary_id = all
        .iter()
        .find(|c| c.id == view.id)
        .and_then(|c| c.primary_cluster_id);
    view.primary_cluster = primary_id.and_then(|id| all.iter().find(|c| c.id == id).map(link));
    view.standby_clusters = all
        .iter()
        .filter(|c| c.primary_cluster_id == Some(view.id))
        .map(link)
        .collect();
}

/// One cluster, with its zones' compaction status read from its server while it runs.
pub(super) async fn one_cluster_view(state: &AppState, id: i64) -> Result<Cluster, Failure> {
    let cluster = state.store.cluster(id).await?;
    let running = cluster.status == ClusterStatus::Running;
    let (servers, zones) = (state.store.servers(id).await?, state.store.zones(id).await?);
    let mut packages = HashMap::new();
    if let Some(id) = cluster.package_id {
        packages.insert(id, state.store.package(id).await?.file_name);
    }
    let record = cluster.clone();
    let mut view = cluster_view(
        cluster,
        &servers.iter().collect::<Vec<_>>(),
        &zones.iter().collect::<Vec<_>>(),
        &packages,
    );
    view.alarm_summaries =
        alarm_summaries(&view.name, &active_alarms(state).await?, &state.public_url);
    let all = state.store.clusters().await?;
    link_pair(&mut view, &all);
    let primary = all.iter().find(|p| Some(p.id) == record.primary_cluster_id);
    if let (true, Some(primary)) = (running, primary) {
        let lag = crate::cluster::standby::view(&state.ob, primary, record).await?;
        view.delay_time = lag.delay_time;
    }
    if running {
        if let Ok(mut client) = state.ob.connect(id).await {
            let row = client.compaction().await;
            client.close().await;
            if let Ok(row) = row {
                // seekdb's one zone compacts with its one server.
                let status = if row.status == "IDLE" {
                    "IDLE"
                } else {
                    "COMPACTING"
                };
                for zone in &mut view.zones {
                    zone.compaction_status = Some(status.to_string());
                }
            }
        }
    }
    Ok(view)
}
