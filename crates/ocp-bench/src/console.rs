//! What the console's benchmark draws (`scripts/bench-console.sh`): written into a running
//! server's SQLite metadb through the store, since no real install here has 100 servers.
//! A cluster of 100 servers in 10 zones (on 100 hosts with loopback addresses), a day of one sessions series per
//! server at 60 s, and 10,000 alert events. Prints the cluster's id.

use std::path::Path;

use ocp_api::alarm::AlarmStatus;
use ocp_api::host::HostKind;
use ocp_api::ob::{ClusterStatus, ClusterType, ServerKind, ServerStatus};
use ocp_api::task::{TaskContext, TaskType};
use ocp_store::{
    Catalog, NewCluster, NewEvent, NewHost, NewSample, NewServer, NewSubtask, NewTask, NewZone,
    Store, StoreConfig,
};

use crate::report;

pub const SERVERS: usize = 100;
pub const EVENTS: usize = 10_000;

pub async fn seed(data_dir: &Path) -> anyhow::Result<()> {
    let store = Store::open(&StoreConfig::sqlite_file(&data_dir.join("metadb.sqlite"))).await?;
    let region = store
        .create_catalog_entry(Catalog::Region, "bench-region", None, None)
        .await?;
    let idc = store
        .create_catalog_entry(Catalog::Idc, "bench-idc", None, Some(region.id))
        .await?;
    let host_type = store
        .create_catalog_entry(Catalog::HostType, "bench-type", None, None)
        .await?;
    let hosts: Vec<NewHost> = (0..SERVERS)
        .map(|i| NewHost {
            inner_ip_address: format!("127.1.{}.{}", i / 250, i % 250 + 1),
            serial_number: None,
            alias: None,
            description: None,
            ssh_port: 22,
            kind: HostKind::DedicatedPhysicalMachine,
            publish_ports: None,
            idc_id: idc.id,
            type_id: host_type.id,
            agent_port: 62888,
        })
        .collect();
    let host_ids = store.create_hosts(&hosts).await?;
    let zones = (0..10)
        .map(|z| NewZone {
            name: format!("zone{z}"),
            idc_id: Some(idc.id),
            servers: (0..SERVERS / 10)
                .map(|s| {
                    let i = z * (SERVERS / 10) + s;
                    NewServer {
                        host_id: host_ids[i],
                        ip: hosts[i].inner_ip_address.clone(),
                        rpc_port: 2882,
                        // Loopback, where nothing listens: the status job is refused at once.
                        sql_port: 1,
                        home_path: "/home/admin/oceanbase".into(),
                    }
                })
                .collect(),
        })
        .collect();
    let cluster = NewCluster {
        name: "bench-100".into(),
        kind: ServerKind::OceanBase,
        cluster_type: ClusterType::Primary,
        status: ClusterStatus::Running,
        server_status: ServerStatus::Running,
        ob_version: "4.3.5".into(),
        package_id: None,
        root_user: "root".into(),
        root_password_sealed: String::new(),
        startup_parameters: "[]".into(),
        creator: "bench".into(),
        zones,
        primary_cluster_id: None,
    };
    // A cluster is registered with a task; this one does nothing (the bench's server runs
    // with --enable-test-tasks, whose no-op step it is).
    let (cluster_id, _) = store
        .create_cluster(&cluster, |id, _| NewTask {
            name: "Register bench cluster".into(),
            task_type: TaskType::Manual,
            creator_id: 1,
            creator_name: "bench".into(),
            executor: String::new(),
            context: TaskContext::default(),
            cluster_id: Some(id),
            tenant_id: None,
            host_id: None,
            prohibit_rollback: false,
            subtasks: vec![NewSubtask {
                name: "Nothing".into(),
                description: String::new(),
                class_name: "ocp.debug.Noop".into(),
                series_id: 0,
                parallel_idx: 0,
                timeout_secs: 60,
                prohibit_rollback: false,
                node_type: "JAVA_TASK".into(),
                upstreams: Vec::new(),
            }],
        })
        .await?;

    let end = chrono::Utc::now().timestamp();
    let mut batch = Vec::new();
    for (i, host) in hosts.iter().enumerate() {
        let labels = format!(
            r#"{{"ob_cluster":"bench-100","ob_cluster_id":"{cluster_id}","ob_server_id":"{}","svr_ip":"{}"}}"#,
            i + 1,
            host.inner_ip_address
        );
        for step in 0..1440 {
            batch.push(NewSample {
                metric: "ob_session_num".into(),
                labels: labels.clone(),
                ts: end - 86_400 + step * 60,
                value: ((step as f64 / 30.0 + i as f64).sin() + 1.5) * 20.0,
            });
        }
        if batch.len() >= 20_000 {
            store.ingest_samples(&batch).await?;
            batch.clear();
        }
    }
    store.ingest_samples(&batch).await?;

    let rule = store
        .alarm_rules()
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("no alert items"))?;
    for i in 0..EVENTS {
        store
            .open_alarm(&NewEvent {
                rule_id: rule.id,
                alarm_type: rule.name.clone(),
                app_type: rule.app_type.clone(),
                scope: rule.scope.clone(),
                level: (i % 5 + 1) as i64,
                target: format!("bench target {i}"),
                status: AlarmStatus::Inactive,
                summary: format!("bench event {i}"),
                description: "seeded by the console benchmark".into(),
                labels: "{}".into(),
                value: Some(i as f64),
            })
            .await?;
    }
    store.close().await;
    report(format!("{cluster_id}"));
    Ok(())
}
