//! The compute catalog (regions, IDCs, host types) and hosts with their agents.

use ocp_api::host::{HostAgentStatus, HostStatus};
use ocp_store::{Store, StoreError};

suite!(compute_catalog, hosts_join_beat_and_go_silent,);

async fn compute_catalog(store: Store) {
    use ocp_store::Catalog;
    let region = store
        .create_catalog_entry(Catalog::Region, "bj", Some("Beijing"), None)
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_catalog_entry(Catalog::Region, "bj", None, None)
            .await,
        Err(StoreError::AlreadyExists { .. })
    ));
    let idc = store
        .create_catalog_entry(Catalog::Idc, "bj-1", None, Some(region.id))
        .await
        .unwrap();
    assert_eq!(idc.region_id, Some(region.id));
    assert_eq!(store.idcs_in_region(region.id).await.unwrap(), 1);
    store
        .create_catalog_entry(Catalog::HostType, "tiny", Some("2c16g"), None)
        .await
        .unwrap();
    let (types, total) = store
        .catalog_entries(Catalog::HostType, 0, 10, "name", false)
        .await
        .unwrap();
    assert_eq!((types[0].name.as_str(), total), ("tiny", 1));
    store
        .delete_catalog_entry(Catalog::Idc, idc.id)
        .await
        .unwrap();
    store
        .delete_catalog_entry(Catalog::Region, region.id)
        .await
        .unwrap();
    assert!(matches!(
        store.catalog_entry(Catalog::Region, region.id).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn hosts_join_beat_and_go_silent(store: Store) {
    use ocp_store::{HeartbeatUpdate, HostListFilter, HostRecord, JoiningAgent};
    let new_host = crate::host_place(&store).await;
    let (idc_id, type_id) = (new_host("-").idc_id, new_host("-").type_id);
    let ids = store.create_hosts(&[new_host("10.0.0.1")]).await.unwrap();
    // All or none: the second batch repeats an address and adds nothing.
    assert!(matches!(
        store
            .create_hosts(&[new_host("10.0.0.9"), new_host("10.0.0.1")])
            .await,
        Err(StoreError::AlreadyExists { .. })
    ));
    assert!(store.host_by_address("10.0.0.9").await.unwrap().is_none());

    let far = chrono::Utc::now().timestamp_millis() + 3_600_000;
    store
        .create_join_token("hash-a", idc_id, type_id, far, "admin")
        .await
        .unwrap();
    store
        .create_join_token("hash-b", idc_id, type_id, far, "admin")
        .await
        .unwrap();
    let agent = |ip: &str| JoiningAgent {
        inner_ip_address: ip.into(),
        port: 7000,
        hostname: "h".into(),
        operating_system: "6.1".into(),
        operating_system_release: "debian12".into(),
        architecture: "x86_64".into(),
        facts: "{}".into(),
        version: "0.1.0".into(),
        install_home: "/opt".into(),
        log_home: "/opt/log".into(),
        secret_sealed: "sealed".into(),
    };
    let registered = store
        .join_agent("hash-a", &agent("10.0.0.1"))
        .await
        .unwrap();
    assert!(registered.host_was_registered);
    assert_eq!(registered.host_id, ids[0]);
    assert!(matches!(
        store.join_agent("hash-a", &agent("10.0.0.2")).await,
        Err(StoreError::NotFound { .. })
    ));
    let fresh = store
        .join_agent("hash-b", &agent("10.0.0.2"))
        .await
        .unwrap();
    assert!(!fresh.host_was_registered);

    let beat = HeartbeatUpdate {
        version: "0.1.1".into(),
        manager_running: true,
        processes: vec![
            ("ocp_agentd".into(), "{}".into()),
            ("ocp_mgragent".into(), "{}".into()),
        ],
        facts: Some((
            "h2".into(),
            "6.2".into(),
            "debian12".into(),
            "x86_64".into(),
            "{}".into(),
        )),
    };
    store.record_heartbeat(fresh.host_id, &beat).await.unwrap();
    store.record_heartbeat(fresh.host_id, &beat).await.unwrap();
    store
        .set_host_status(fresh.host_id, HostStatus::Available)
        .await
        .unwrap();
    let host = store.host(fresh.host_id).await.unwrap();
    assert_eq!(host.name, "h2");
    let agent_row = host.agent.unwrap();
    assert_eq!(
        (agent_row.status, agent_row.version.as_deref()),
        (HostAgentStatus::Available, Some("0.1.1"))
    );
    assert_eq!(store.agent_processes(fresh.host_id).await.unwrap().len(), 2);

    let silent = store
        .mark_silent_agents_offline(chrono::Utc::now().timestamp_millis() + 1)
        .await
        .unwrap();
    assert_eq!(silent, vec![fresh.host_id]);
    let (offline, total) = store
        .hosts(&HostListFilter {
            statuses: vec![HostStatus::Offline],
            limit: 10,
            ..HostListFilter::default()
        })
        .await
        .unwrap();
    assert_eq!((offline.len(), total), (1, 1));
    store.record_heartbeat(fresh.host_id, &beat).await.unwrap();
    assert_eq!(
        store.host(fresh.host_id).await.unwrap().status,
        HostStatus::Available
    );

    let (matching, _) = store
        .hosts(&HostListFilter {
            keyword: Some("10.0.0".into()),
            limit: 10,
            sort_column: "inner_ip_address".into(),
            descending: true,
            ..HostListFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(matching[0].inner_ip_address, "10.0.0.2");
    // Several hosts in one transaction, one of them heard twice: its latest stands.
    let newer = HeartbeatUpdate {
        version: "0.1.2".into(),
        facts: None,
        processes: vec![("ocp_agentd".into(), r#"{"pid":2}"#.into())],
        ..beat.clone()
    };
    store
        .record_heartbeats(&[
            (fresh.host_id, newer.clone()),
            (registered.host_id, beat.clone()),
            (fresh.host_id, newer),
        ])
        .await
        .unwrap();
    let version = |h: HostRecord| h.agent.and_then(|a| a.version);
    let (heard, other) = (
        store.host(fresh.host_id).await.unwrap(),
        store.host(registered.host_id).await.unwrap(),
    );
    assert_eq!(
        (version(heard).as_deref(), version(other).as_deref()),
        (Some("0.1.2"), Some("0.1.1"))
    );
    let reports = store.agent_processes(fresh.host_id).await.unwrap();
    let agentd = reports.iter().find(|p| p.alias == "ocp_agentd").unwrap();
    assert_eq!((reports.len(), agentd.report.as_str()), (2, r#"{"pid":2}"#));
    assert_eq!(store.hosts_using(true, idc_id).await.unwrap(), 2);
    store.delete_hosts(&[ids[0], fresh.host_id]).await.unwrap();
    assert_eq!(store.hosts_using(true, idc_id).await.unwrap(), 0);
}
