//! Backup sets and restores: each written with its task or not at all; one set of a cluster
//! is written at a time; a set is DONE only when told, and a restored cluster, its restore
//! and its task come together.

use ocp_api::backup::{BackupMode, BackupStorageType, BackupStrategy, BackupTaskStatus};
use ocp_store::{
    FoundBackupSet, NewBackupSet, NewRestore, S3Access, Store, StoreError, TaskListFilter,
};

use crate::clusters::{cluster_place, task_for};

suite!(backup_sets_and_restores_are_written_with_their_tasks);

async fn task_count(store: &Store) -> i64 {
    store
        .list_tasks(&TaskListFilter::default(), 0, 1, "id", false)
        .await
        .unwrap()
        .1
}

async fn backup_sets_and_restores_are_written_with_their_tasks(store: Store) {
    let (_, _, new) = cluster_place(&store).await;
    let (cluster_id, _) = store
        .create_cluster(&new("source", 2881), |id, _| task_for(id))
        .await
        .unwrap();
    let server_id = store.servers(cluster_id).await.unwrap()[0].id;
    let set = NewBackupSet {
        cluster_id,
        cluster_name: "source".into(),
        server_id,
        mode: BackupMode::PhysicalBackup,
        storage_type: BackupStorageType::BackupStorageS3,
        storage_url: "bucket/prefix".into(),
        s3: Some(S3Access {
            endpoint: "http://127.0.0.1:9000".into(),
            region: "us-east-1".into(),
            access_key_id: "key".into(),
            secret_sealed: "sealed secret".into(),
        }),
        ob_version: "1.4.0".into(),
        root_password_sealed: "sealed".into(),
    };
    let mut seen = None;
    let (set_id, task_id) = store
        .create_backup_set(&set, |id| {
            seen = Some(id);
            task_for(cluster_id)
        })
        .await
        .unwrap();
    assert_eq!(seen, Some(set_id));
    let written = store.backup_set(set_id).await.unwrap();
    assert_eq!(
        (written.task_id, written.status, written.size),
        (task_id, BackupTaskStatus::Doing, None)
    );
    assert_eq!(
        written.s3, set.s3,
        "the storage's access is read back as written"
    );

    // While that set's task runs, another set of the cluster is refused, with no task.
    let before = task_count(&store).await;
    assert!(matches!(
        store
            .create_backup_set(&set, |_| task_for(cluster_id))
            .await,
        Err(StoreError::AlreadyExists { .. })
    ));
    assert_eq!(task_count(&store).await, before);

    store.finish_backup_set(set_id, 1234).await.unwrap();
    assert_eq!(written.name, format!("backup_set_{set_id}"));

    // A set found in a storage is registered DONE without a task, once per cluster,
    // storage and name (its access renewed), and is not among the cluster's own sets.
    let before = task_count(&store).await;
    let mut found = FoundBackupSet {
        set: NewBackupSet {
            server_id: 0,
            storage_url: "bucket/elsewhere".into(),
            ..set.clone()
        },
        name: "backup_set_7".into(),
        size: 99,
        start_time: 1_000,
        finish_time: 2_000,
    };
    let found_id = store.register_found_backup_set(&found).await.unwrap();
    found.set.root_password_sealed = "sealed again".into();
    assert_eq!(
        store.register_found_backup_set(&found).await.unwrap(),
        found_id
    );
    let read = store.backup_set(found_id).await.unwrap();
    assert_eq!(
        (read.status, read.found, read.name.as_str(), read.size),
        (BackupTaskStatus::Done, true, "backup_set_7", Some(99))
    );
    assert_eq!(read.root_password_sealed, "sealed again");
    assert_eq!(task_count(&store).await, before);
    let own: Vec<i64> = store
        .backup_sets(cluster_id)
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(own, [set_id]);

    // A strategy's due time fires once, with its set and task, and never for a time before
    // the strategy was written.
    let strategy: BackupStrategy = serde_json::from_value(serde_json::json!({
        "obBackupScheduleConfig": {"backupScheduleMode": "WEEK",
            "backupScheduleTime": "02:00+08:00",
            "dayAndDataBackupModelMap": {"1": "FULL_BACKUP"}},
        "obBackupServiceStorageConfig": {"configName": "nfs",
            "obBackupStorageBaseInfo": {"backupStorageType": "BACKUP_STORAGE_FILE",
                                        "storageUrl": "/backup"}}
    }))
    .unwrap();
    store
        .put_backup_strategy(cluster_id, &strategy, None, (1, "admin"), true)
        .await
        .unwrap();
    assert!(matches!(
        store
            .put_backup_strategy(cluster_id, &strategy, None, (1, "admin"), true)
            .await,
        Err(StoreError::AlreadyExists { .. })
    ));
    let written = store.backup_strategies(Some(cluster_id)).await.unwrap();
    assert_eq!(written[0].strategy, strategy, "read back as written");
    assert_eq!(written[0].storage_usage, None, "not looked at yet");
    assert_eq!(written[0].s3_secret_sealed, None);
    store
        .put_backup_strategy(cluster_id, &strategy, Some("sealed"), (1, "admin"), false)
        .await
        .unwrap();
    let changed = store.backup_strategies(Some(cluster_id)).await.unwrap();
    assert_eq!(changed[0].s3_secret_sealed.as_deref(), Some("sealed"));
    let usage = ocp_store::StorageUsage {
        total_bytes: 1 << 40,
        used_bytes: 1 << 39,
        checked_at: 1_700_000_000_000,
    };
    store
        .set_backup_storage_usage(cluster_id, usage)
        .await
        .unwrap();
    let looked = store.backup_strategies(Some(cluster_id)).await.unwrap();
    assert_eq!(looked[0].storage_usage, Some(usage));
    let due = written[0].last_due + 1000;
    let before = task_count(&store).await;
    let old = written[0].last_due - 1;
    assert!(store
        .fire_scheduled_backup(old, &set, |_| task_for(cluster_id))
        .await
        .unwrap()
        .is_none());
    let fired = store
        .fire_scheduled_backup(due, &set, |_| task_for(cluster_id))
        .await
        .unwrap();
    assert!(fired.is_some());
    assert!(store
        .fire_scheduled_backup(due, &set, |_| task_for(cluster_id))
        .await
        .unwrap()
        .is_none());
    assert_eq!(task_count(&store).await, before + 1);
    let (fired_set, _) = fired.unwrap();
    store.delete_backup_set(fired_set).await.unwrap();
    store.delete_backup_strategy(cluster_id).await.unwrap();
    assert!(matches!(
        store
            .put_backup_strategy(cluster_id, &strategy, None, (1, "admin"), false)
            .await,
        Err(StoreError::NotFound { .. })
    ));
    let done = store.backup_set(set_id).await.unwrap();
    assert_eq!(
        (done.status, done.size),
        (BackupTaskStatus::Done, Some(1234))
    );
    assert!(done.finish_time.is_some());
    assert_eq!(store.backup_sets(cluster_id).await.unwrap().len(), 1);
    assert!(matches!(
        store.finish_backup_set(set_id + 100, 1).await,
        Err(StoreError::NotFound { .. })
    ));

    // A restore registers its cluster, itself and its task together.
    let restore = NewRestore {
        backup_set_id: set_id,
        backup_cluster_id: cluster_id,
        backup_cluster_name: "source".into(),
        restore_uri: "/backup/backup_set_1".into(),
        mode: BackupMode::PhysicalBackup,
    };
    let mut given = None;
    let (restored_id, restore_task) = store
        .create_restored_cluster(&new("copy", 2891), &restore, |id, servers, restore_id| {
            given = Some((id, servers.len(), restore_id));
            task_for(id)
        })
        .await
        .unwrap();
    let (id, servers, restore_id) = given.unwrap();
    assert_eq!((id, servers), (restored_id, 1));
    let restores = store.restores(restored_id).await.unwrap();
    assert_eq!(restores.len(), 1);
    assert_eq!(
        (restores[0].id, restores[0].task_id, restores[0].status),
        (restore_id, restore_task, BackupTaskStatus::Doing)
    );
    assert_eq!(store.restores(cluster_id).await.unwrap().len(), 1);
    store.finish_restore(restore_id).await.unwrap();
    assert_eq!(
        store.restores(restored_id).await.unwrap()[0].status,
        BackupTaskStatus::Done
    );

    // A restore in place names the backed-up cluster, and is written with its task.
    let mut in_place = None;
    let in_place_task = store
        .create_restore(&restore, cluster_id, "source", |id| {
            in_place = Some(id);
            task_for(cluster_id)
        })
        .await
        .unwrap();
    let listed = store.restores(cluster_id).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(
        (
            listed[0].id,
            listed[0].task_id,
            listed[0].restore_cluster_id
        ),
        (in_place.unwrap(), in_place_task, cluster_id)
    );

    // A restored cluster whose name is taken writes nothing.
    let before = task_count(&store).await;
    assert!(matches!(
        store
            .create_restored_cluster(&new("copy", 2892), &restore, |id, _, _| task_for(id))
            .await,
        Err(StoreError::AlreadyExists { .. })
    ));
    assert_eq!(task_count(&store).await, before);
    assert_eq!(store.restores(cluster_id).await.unwrap().len(), 2);
}
