//! Packages and clusters: a cluster, its zones, servers and task are written together or not
//! at all; statuses move by compare-and-set; a delete is begun once.

use ocp_api::host::HostStatus;
use ocp_api::ob::{ClusterStatus, ClusterType, ServerKind, ServerStatus};
use ocp_api::obdb::PackageType;
use ocp_api::task::{TaskContext, TaskType};
use ocp_store::{
    NewCluster, NewServer, NewSubtask, NewTask, NewZone, PackageRecord, Store, StoreError,
    TaskListFilter,
};

suite!(clusters_are_written_with_their_task_and_deleted_once);

pub(crate) fn task_for(cluster_id: i64) -> NewTask {
    NewTask {
        name: "Create primary OB cluster".into(),
        task_type: TaskType::Manual,
        creator_id: 1,
        creator_name: "admin".into(),
        executor: "127.0.0.1".into(),
        context: TaskContext {
            parallel_idx: -1,
            ..Default::default()
        },
        cluster_id: Some(cluster_id),
        tenant_id: None,
        host_id: None,
        prohibit_rollback: false,
        subtasks: vec![NewSubtask {
            name: "step".into(),
            description: "step".into(),
            class_name: "test.Step".into(),
            series_id: 0,
            parallel_idx: -1,
            timeout_secs: 60,
            prohibit_rollback: false,
            node_type: "JAVA_TASK".into(),
            upstreams: Vec::new(),
        }],
    }
}

async fn tasks_of(store: &Store, cluster_id: i64) -> i64 {
    let filter = TaskListFilter {
        cluster_id: Some(cluster_id),
        ..Default::default()
    };
    store
        .list_tasks(&filter, 0, 10, "id", false)
        .await
        .unwrap()
        .1
}

/// A registered AVAILABLE host and an uploaded seekdb package: answers them and a function
/// that makes a one-server cluster on them from a name and a SQL port.
pub(crate) async fn cluster_place(store: &Store) -> (i64, i64, impl Fn(&str, i64) -> NewCluster) {
    let new_host = crate::host_place(store).await;
    let host = new_host("10.0.0.1");
    let idc_id = host.idc_id;
    let host_id = store.create_hosts(&[host]).await.unwrap()[0];
    store
        .set_host_status(host_id, HostStatus::Available)
        .await
        .unwrap();
    let package_id = store
        .create_package(&PackageRecord {
            id: 0,
            name: "pylibseekdb".into(),
            file_name: "pylibseekdb-1.4.0-cp311-cp311-manylinux_2_28_x86_64.whl".into(),
            extension: "whl".into(),
            size: 1,
            sha1: "0".repeat(40),
            sha256: "0".repeat(64),
            package_type: PackageType::ObServerInstallPackage,
            version: "1.4.0".into(),
            build_number: "cp311-cp311".into(),
            operating_system: "manylinux_2_28".into(),
            architecture: "x86_64".into(),
            binary_path: Some("pylibseekdb/seekdb".into()),
            create_time: 0,
        })
        .await
        .unwrap();
    assert_eq!(
        store.package(package_id).await.unwrap().package_type,
        PackageType::ObServerInstallPackage
    );
    let new = move |name: &str, sql_port: i64| NewCluster {
        name: name.into(),
        kind: ServerKind::Seekdb,
        cluster_type: ClusterType::Primary,
        status: ClusterStatus::Creating,
        server_status: ServerStatus::Creating,
        ob_version: "1.4.0".into(),
        package_id: Some(package_id),
        root_user: "root".into(),
        root_password_sealed: "sealed".into(),
        startup_parameters: "[]".into(),
        creator: "admin".into(),
        primary_cluster_id: None,
        zones: vec![NewZone {
            name: "zone1".into(),
            idc_id: Some(idc_id),
            servers: vec![NewServer {
                host_id,
                ip: "10.0.0.1".into(),
                rpc_port: 2882,
                sql_port,
                home_path: format!("/data/{name}"),
            }],
        }],
    };

    (host_id, package_id, new)
}

async fn clusters_are_written_with_their_task_and_deleted_once(store: Store) {
    let (host_id, package_id, new) = cluster_place(&store).await;
    let mut seen_ids = None;
    let (cluster_id, task_id) = store
        .create_cluster(&new("c1", 2881), |cluster, servers| {
            seen_ids = Some((cluster, servers.to_vec()));
            task_for(cluster)
        })
        .await
        .unwrap();
    let servers = store.servers(cluster_id).await.unwrap();
    assert_eq!(
        seen_ids,
        Some((cluster_id, servers.iter().map(|s| s.id).collect()))
    );
    let task = store.task(task_id).await.unwrap().unwrap();
    assert_eq!(task.cluster_id, Some(cluster_id));
    let cluster = store.cluster(cluster_id).await.unwrap();
    assert_eq!(
        (cluster.kind, cluster.cluster_type, cluster.status),
        (
            ServerKind::Seekdb,
            ClusterType::Primary,
            ClusterStatus::Creating
        )
    );
    assert_eq!(servers[0].status, ServerStatus::Creating);
    assert_eq!(
        store.zones(cluster_id).await.unwrap()[0].status,
        ServerStatus::Creating
    );
    assert_eq!(
        store.host(host_id).await.unwrap().status,
        HostStatus::Online
    );
    assert_eq!(
        store.clusters_on_host(host_id).await.unwrap(),
        vec![cluster_id]
    );
    assert_eq!(
        store.clusters_using_package(package_id).await.unwrap(),
        vec!["c1".to_string()]
    );

    // A cluster that cannot be written leaves no task, and a task refers to no lost cluster.
    let before = store
        .list_tasks(&TaskListFilter::default(), 0, 1, "id", false)
        .await
        .unwrap()
        .1;
    for (name, port) in [("c1", 2991), ("c2", 2881)] {
        assert!(matches!(
            store
                .create_cluster(&new(name, port), |id, _| task_for(id))
                .await,
            Err(StoreError::AlreadyExists { .. })
        ));
    }
    let after = store
        .list_tasks(&TaskListFilter::default(), 0, 1, "id", false)
        .await
        .unwrap()
        .1;
    assert_eq!(before, after);
    assert_eq!(store.clusters().await.unwrap().len(), 1);

    // Statuses: RUNNING stamps the start; a swap moves only from the status it names.
    let server = servers[0].id;
    store
        .set_server_status(server, ServerStatus::Running)
        .await
        .unwrap();
    assert!(store.server(server).await.unwrap().start_time.is_some());
    assert!(!store
        .swap_server_status(server, ServerStatus::Unavailable, ServerStatus::Running)
        .await
        .unwrap());
    assert!(store
        .swap_server_status(server, ServerStatus::Running, ServerStatus::Unavailable)
        .await
        .unwrap());
    store
        .set_cluster_status(cluster_id, ClusterStatus::Running)
        .await
        .unwrap();
    assert!(store
        .swap_cluster_status(
            cluster_id,
            ClusterStatus::Running,
            ClusterStatus::Unavailable
        )
        .await
        .unwrap());
    assert_eq!(
        store.cluster(cluster_id).await.unwrap().status,
        ClusterStatus::Unavailable
    );

    // A delete is begun once, with its task; the rows then go and the host is free again.
    assert_eq!(tasks_of(&store, cluster_id).await, 1);
    let first = store
        .begin_cluster_delete(cluster_id, &task_for(cluster_id))
        .await
        .unwrap();
    assert!(first.is_some());
    assert_eq!(
        store
            .begin_cluster_delete(cluster_id, &task_for(cluster_id))
            .await
            .unwrap(),
        None
    );
    assert_eq!(tasks_of(&store, cluster_id).await, 2);
    assert_eq!(
        store.cluster(cluster_id).await.unwrap().status,
        ClusterStatus::Deleting
    );
    store.delete_cluster(cluster_id).await.unwrap();
    assert!(matches!(
        store.cluster(cluster_id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(
        store.host(host_id).await.unwrap().status,
        HostStatus::Available
    );
    store.delete_package(package_id).await.unwrap();
}
