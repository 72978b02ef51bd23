//! One suite, run against every backend: SQLite in a temporary file and a real PostgreSQL.

use ocp_api::task::{Operation, SubtaskStatus, TaskContext, TaskStatus, TaskType};
use ocp_store::{
    FinishOutcome, NewSubtask, NewTask, NewUser, Store, StoreConfig, StoreError, TransitionError,
};

struct Backend {
    store: Store,
    _guard: Box<dyn std::any::Any>,
}

async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreConfig::sqlite_file(&dir.path().join("m.db")))
        .await
        .unwrap();
    Backend {
        store,
        _guard: Box::new(dir),
    }
}

async fn postgres() -> Backend {
    let pg =
        ocp_testkit::Postgres::start().expect("PostgreSQL starts (apt-get install postgresql)");
    let store = Store::open(&StoreConfig::postgres(&pg.url()))
        .await
        .unwrap();
    Backend {
        store,
        _guard: Box::new(pg),
    }
}

macro_rules! suite {
    ($($test:ident),+ $(,)?) => {
        mod on_sqlite {
            $(#[tokio::test] async fn $test() { super::$test(super::sqlite().await.store).await; })+
        }
        mod on_postgres {
            $(#[tokio::test] async fn $test() { super::$test(super::postgres().await.store).await; })+
        }
    };
}

suite!(
    users_and_roles,
    compute_catalog,
    hosts_join_beat_and_go_silent,
    chain_runs_in_order,
    fan_out_joins,
    concurrent_finishes_unblock_the_join,
    expired_lease_is_reclaimed,
    retry_and_skip,
    rollback_reverses,
    cancel_and_refusals,
    migrations_are_idempotent,
    task_events_follow_every_change,
    metrics_are_stored_once_and_rolled_up,
    alarms_open_once_resolve_once_and_notifications_are_claimed_once,
    signatures_are_taken_once_until_they_expire
);

fn step(name: &str, upstreams: &[usize]) -> NewSubtask {
    NewSubtask {
        name: name.into(),
        description: name.into(),
        class_name: "test.Step".into(),
        series_id: 0,
        parallel_idx: -1,
        timeout_secs: 60,
        prohibit_rollback: false,
        node_type: "JAVA_TASK".into(),
        upstreams: upstreams.to_vec(),
    }
}

fn task(subtasks: Vec<NewSubtask>) -> NewTask {
    NewTask {
        name: "test".into(),
        task_type: TaskType::Manual,
        creator_id: 1,
        creator_name: "admin".into(),
        executor: "127.0.0.1".into(),
        context: TaskContext {
            parallel_idx: -1,
            ..Default::default()
        },
        cluster_id: None,
        tenant_id: None,
        host_id: Some(7),
        prohibit_rollback: false,
        subtasks,
    }
}

/// Claims everything ready and finishes it with `outcome`; returns the names run.
async fn run_ready(store: &Store, outcome: FinishOutcome) -> Vec<String> {
    let claimed = store
        .claim_subtasks("node-a", "127.0.0.1", 10_000, 100)
        .await
        .unwrap();
    let mut names = Vec::new();
    for c in claimed {
        assert!(store
            .finish_subtask(c.id, "node-a", &outcome, &[format!("ran {}", c.name)])
            .await
            .unwrap());
        names.push(c.name);
    }
    names.sort();
    names
}

async fn status_of(
    store: &Store,
    id: i64,
) -> (TaskStatus, Vec<(String, SubtaskStatus, Operation)>) {
    let t = store.task(id).await.unwrap().unwrap();
    (
        t.status,
        t.subtasks
            .into_iter()
            .map(|s| (s.name, s.status, s.operation))
            .collect(),
    )
}

async fn users_and_roles(store: Store) {
    let role = store
        .create_role("OPS", Some("ops"), &["HOST:*:READ".into()])
        .await
        .unwrap();
    assert!(matches!(
        store.create_role("OPS", None, &[]).await,
        Err(StoreError::AlreadyExists { .. })
    ));
    let user = store
        .create_user(&NewUser {
            username: "alice".into(),
            password_hash: "$argon2id$x".into(),
            email: Some("a@example.com".into()),
            description: None,
            role_ids: vec![role.id],
            rate_limit: Some((10, 60)),
        })
        .await
        .unwrap();
    assert_eq!(user.role_ids, vec![role.id]);
    assert_eq!(user.rate_limit, Some((10, 60)));
    assert!(store.role_in_use(role.id).await.unwrap());
    store.set_user_locked(user.id, true).await.unwrap();
    assert!(store.user_by_name("alice").await.unwrap().unwrap().locked);
    let (page, total) = store.users(0, 10, "username", false).await.unwrap();
    assert_eq!((page.len(), total), (1, 1));
    let key = store
        .create_access_key(user.id, "AK1", "sealed")
        .await
        .unwrap();
    assert_eq!(store.access_key("AK1").await.unwrap().unwrap().id, key.id);
    store.delete_user(user.id).await.unwrap();
    assert!(
        store.access_key("AK1").await.unwrap().is_none(),
        "keys go with their user"
    );
    assert!(matches!(
        store.user(user.id).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn chain_runs_in_order(store: Store) {
    let id = store
        .create_task(&task(vec![
            step("a", &[]),
            step("b", &[0]),
            step("c", &[1]),
        ]))
        .await
        .unwrap();
    for expected in ["a", "b", "c"] {
        assert_eq!(
            run_ready(&store, FinishOutcome::Succeeded).await,
            vec![expected.to_string()]
        );
    }
    let t = store.task(id).await.unwrap().unwrap();
    assert_eq!(t.status, TaskStatus::Successful);
    assert!(t.finish_time.is_some());
    let a = &t.subtasks[0];
    assert_eq!(a.downstreams, vec![t.subtasks[1].id]);
    assert_eq!(store.subtask_log(a.id).await.unwrap(), "ran a");
    assert!(run_ready(&store, FinishOutcome::Succeeded).await.is_empty());
}

async fn fan_out_joins(store: Store) {
    let mut subtasks = vec![step("start", &[])];
    for i in 0..5 {
        let mut s = step(&format!("branch{i}"), &[0]);
        s.parallel_idx = i;
        subtasks.push(s);
    }
    subtasks.push(step("join", &[1, 2, 3, 4, 5]));
    let id = store.create_task(&task(subtasks)).await.unwrap();
    assert_eq!(
        run_ready(&store, FinishOutcome::Succeeded).await,
        vec!["start"]
    );
    assert_eq!(run_ready(&store, FinishOutcome::Succeeded).await.len(), 5);
    assert_eq!(
        run_ready(&store, FinishOutcome::Succeeded).await,
        vec!["join"]
    );
    assert_eq!(status_of(&store, id).await.0, TaskStatus::Successful);
}

async fn expired_lease_is_reclaimed(store: Store) {
    let id = store
        .create_task(&task(vec![step("a", &[])]))
        .await
        .unwrap();
    let claimed = store.claim_subtasks("node-a", "x", 1, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let again = store
        .claim_subtasks("node-b", "y", 10_000, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1, "an expired lease is claimed again");
    assert_eq!(again[0].run_time, 2);
    assert!(
        !store
            .finish_subtask(claimed[0].id, "node-a", &FinishOutcome::Succeeded, &[])
            .await
            .unwrap(),
        "the old owner's late finish is refused"
    );
    let renewal = store
        .renew_leases("node-a", &[claimed[0].id], 1000)
        .await
        .unwrap();
    assert_eq!(renewal.lost, vec![claimed[0].id]);
    assert!(store
        .finish_subtask(again[0].id, "node-b", &FinishOutcome::Succeeded, &[])
        .await
        .unwrap());
    assert_eq!(status_of(&store, id).await.0, TaskStatus::Successful);
    // A restarted node takes its own leases back at once.
    let id2 = store
        .create_task(&task(vec![step("b", &[])]))
        .await
        .unwrap();
    store
        .claim_subtasks("node-c", "z", 600_000, 10)
        .await
        .unwrap();
    assert!(store
        .claim_subtasks("node-c", "z", 600_000, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.release_leases_of("node-c").await.unwrap(), 1);
    assert_eq!(
        store
            .claim_subtasks("node-c", "z", 600_000, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let _ = id2;
}

async fn retry_and_skip(store: Store) {
    let id = store
        .create_task(&task(vec![
            step("a", &[]),
            step("b", &[0]),
            step("c", &[1]),
        ]))
        .await
        .unwrap();
    run_ready(&store, FinishOutcome::Succeeded).await;
    run_ready(&store, FinishOutcome::Failed("boom".into())).await;
    assert_eq!(status_of(&store, id).await.0, TaskStatus::Failed);
    store.retry_task(id).await.unwrap();
    let (status, subs) = status_of(&store, id).await;
    assert_eq!(status, TaskStatus::Running);
    assert_eq!(
        subs[1],
        ("b".into(), SubtaskStatus::Ready, Operation::Retry)
    );
    run_ready(&store, FinishOutcome::Failed("boom again".into())).await;
    let b = store.task(id).await.unwrap().unwrap().subtasks[1].id;
    store.skip_subtask(id, b).await.unwrap();
    let (status, subs) = status_of(&store, id).await;
    assert_eq!(status, TaskStatus::Running);
    assert_eq!(
        subs[1],
        ("b".into(), SubtaskStatus::Successful, Operation::Skip)
    );
    assert_eq!(subs[2].1, SubtaskStatus::Ready);
    run_ready(&store, FinishOutcome::Succeeded).await;
    assert_eq!(status_of(&store, id).await.0, TaskStatus::Successful);
    assert!(matches!(
        store.retry_task(id).await,
        Err(TransitionError::InvalidState(_))
    ));
    assert!(matches!(
        store.skip_subtask(id, b).await,
        Err(TransitionError::InvalidState(_))
    ));
    assert!(matches!(
        store.retry_task(999_999).await,
        Err(TransitionError::TaskNotFound(_))
    ));
}

async fn rollback_reverses(store: Store) {
    let id = store
        .create_task(&task(vec![
            step("a", &[]),
            step("b", &[0]),
            step("c", &[1]),
            step("d", &[2]),
        ]))
        .await
        .unwrap();
    run_ready(&store, FinishOutcome::Succeeded).await;
    run_ready(&store, FinishOutcome::Succeeded).await;
    run_ready(&store, FinishOutcome::Failed("c broke".into())).await;
    store.rollback_task(id).await.unwrap();
    let t = store.task(id).await.unwrap().unwrap();
    assert_eq!(t.operation, Operation::Rollback);
    // Undo runs c, then b, then a; d never ran and is left alone.
    for expected in ["c", "b", "a"] {
        assert_eq!(
            run_ready(&store, FinishOutcome::Succeeded).await,
            vec![expected.to_string()]
        );
    }
    let (status, subs) = status_of(&store, id).await;
    assert_eq!(status, TaskStatus::Successful);
    assert_eq!(
        subs[3],
        ("d".into(), SubtaskStatus::Pending, Operation::Execute)
    );
    assert!(matches!(
        store.rollback_task(id).await,
        Err(TransitionError::InvalidState(_))
    ));

    let mut guarded = task(vec![step("a", &[]), step("b", &[0])]);
    guarded.subtasks[0].prohibit_rollback = true;
    let id = store.create_task(&guarded).await.unwrap();
    run_ready(&store, FinishOutcome::Succeeded).await;
    run_ready(&store, FinishOutcome::Failed("b broke".into())).await;
    assert!(matches!(
        store.rollback_task(id).await,
        Err(TransitionError::ProhibitRollback(_))
    ));
}

async fn cancel_and_refusals(store: Store) {
    let id = store
        .create_task(&task(vec![step("a", &[]), step("b", &[0])]))
        .await
        .unwrap();
    let t = store.task(id).await.unwrap().unwrap();
    let (a, b) = (t.subtasks[0].id, t.subtasks[1].id);
    assert!(
        matches!(
            store.cancel_subtask(id, b).await,
            Err(TransitionError::InvalidState(_))
        ),
        "PENDING cannot be cancelled"
    );
    assert!(matches!(
        store.cancel_subtask(id, 424_242).await,
        Err(TransitionError::SubtaskNotFound { .. })
    ));
    let claimed = store
        .claim_subtasks("node-a", "x", 10_000, 10)
        .await
        .unwrap();
    store.cancel_subtask(id, a).await.unwrap();
    let renewal = store.renew_leases("node-a", &[a], 10_000).await.unwrap();
    assert_eq!(renewal.canceling, vec![a]);
    store
        .finish_subtask(claimed[0].id, "node-a", &FinishOutcome::Cancelled, &[])
        .await
        .unwrap();
    let (status, subs) = status_of(&store, id).await;
    assert_eq!(status, TaskStatus::Failed);
    assert_eq!(
        subs[0],
        ("a".into(), SubtaskStatus::Failed, Operation::Cancel)
    );
    assert!(matches!(
        store.retry_subtask(id, b).await,
        Err(TransitionError::InvalidState(_))
    ));
    store.retry_subtask(id, a).await.unwrap();
    assert_eq!(run_ready(&store, FinishOutcome::Succeeded).await, vec!["a"]);
}

async fn migrations_are_idempotent(store: Store) {
    // Opening runs the migrations; the suite's store already ran them once. A task written
    // before must be readable after a second open of the same database.
    let id = store
        .create_task(&task(vec![step("a", &[])]))
        .await
        .unwrap();
    assert!(store.task(id).await.unwrap().is_some());
    assert!(store.ping().await);
    let (list, total) = store
        .list_tasks(
            &ocp_store::TaskListFilter {
                host_id: Some(7),
                ..Default::default()
            },
            0,
            10,
            "id",
            true,
        )
        .await
        .unwrap();
    assert_eq!((list.len(), total), (1, 1));
    let (none, _) = store
        .list_tasks(
            &ocp_store::TaskListFilter {
                host_id: Some(8),
                ..Default::default()
            },
            0,
            10,
            "id",
            true,
        )
        .await
        .unwrap();
    assert!(none.is_empty());
}

async fn concurrent_finishes_unblock_the_join(store: Store) {
    for _ in 0..5 {
        let mut subtasks = vec![step("start", &[])];
        for i in 0..20 {
            let mut s = step(&format!("branch{i}"), &[0]);
            s.parallel_idx = i;
            subtasks.push(s);
        }
        subtasks.push(step("join", &(1..=20).collect::<Vec<_>>()));
        let id = store.create_task(&task(subtasks)).await.unwrap();
        run_ready(&store, FinishOutcome::Succeeded).await;
        let claimed = store
            .claim_subtasks("node-a", "x", 10_000, 100)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 20);
        let finishes = claimed.iter().map(|c| {
            let store = store.clone();
            let id = c.id;
            tokio::spawn(async move {
                store
                    .finish_subtask(id, "node-a", &FinishOutcome::Succeeded, &[])
                    .await
                    .unwrap()
            })
        });
        for f in finishes {
            assert!(f.await.unwrap());
        }
        assert_eq!(
            run_ready(&store, FinishOutcome::Succeeded).await,
            vec!["join"],
            "the join is unblocked exactly once"
        );
        assert_eq!(status_of(&store, id).await.0, TaskStatus::Successful);
    }
}

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
    use ocp_store::{Catalog, HeartbeatUpdate, HostListFilter, JoiningAgent, NewHost};
    let region = store
        .create_catalog_entry(Catalog::Region, "r", None, None)
        .await
        .unwrap();
    let idc = store
        .create_catalog_entry(Catalog::Idc, "i", None, Some(region.id))
        .await
        .unwrap();
    let kind = store
        .create_catalog_entry(Catalog::HostType, "t", None, None)
        .await
        .unwrap();
    let new_host = |ip: &str| NewHost {
        inner_ip_address: ip.into(),
        serial_number: None,
        alias: None,
        description: None,
        ssh_port: 22,
        kind: "DEDICATED_PHYSICAL_MACHINE".into(),
        publish_ports: None,
        idc_id: idc.id,
        type_id: kind.id,
        agent_port: 62888,
    };
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
        .create_join_token("hash-a", idc.id, kind.id, far, "admin")
        .await
        .unwrap();
    store
        .create_join_token("hash-b", idc.id, kind.id, far, "admin")
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
        .set_host_status(fresh.host_id, "AVAILABLE")
        .await
        .unwrap();
    let host = store.host(fresh.host_id).await.unwrap();
    assert_eq!(host.name, "h2");
    let agent_row = host.agent.unwrap();
    assert_eq!(
        (agent_row.status.as_str(), agent_row.version.as_deref()),
        ("AVAILABLE", Some("0.1.1"))
    );
    assert_eq!(store.agent_processes(fresh.host_id).await.unwrap().len(), 2);

    let silent = store
        .mark_silent_agents_offline(chrono::Utc::now().timestamp_millis() + 1)
        .await
        .unwrap();
    assert_eq!(silent, vec![fresh.host_id]);
    let (offline, total) = store
        .hosts(&HostListFilter {
            statuses: vec!["OFFLINE".into()],
            limit: 10,
            ..HostListFilter::default()
        })
        .await
        .unwrap();
    assert_eq!((offline.len(), total), (1, 1));
    store.record_heartbeat(fresh.host_id, &beat).await.unwrap();
    assert_eq!(store.host(fresh.host_id).await.unwrap().status, "AVAILABLE");

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
    assert_eq!(store.hosts_using(true, idc.id).await.unwrap(), 2);
    store.delete_hosts(&[ids[0], fresh.host_id]).await.unwrap();
    assert_eq!(store.hosts_using(true, idc.id).await.unwrap(), 0);
}

/// Triggers record every status change and log line of a task, in order; on PostgreSQL an
/// event is answered once it is a second old.
async fn task_events_follow_every_change(store: Store) {
    let id = store
        .create_task(&task(vec![step("a", &[]), step("b", &[0])]))
        .await
        .unwrap();
    run_ready(&store, FinishOutcome::Succeeded).await;
    run_ready(&store, FinishOutcome::Succeeded).await;
    let last = store.last_task_event(id).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let events = loop {
        let events = store.task_events(id, 0, 100).await.unwrap();
        if events.last().map(|e| e.id) == Some(last) || std::time::Instant::now() > deadline {
            break events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let seen: Vec<String> = events
        .iter()
        .map(|e| {
            let what = e.status.clone().or(e.line.clone()).unwrap_or_default();
            format!(
                "{} {} {what}",
                e.kind,
                e.subtask_name.as_deref().unwrap_or("-")
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            "TASK - RUNNING",
            "SUBTASK a READY",
            "SUBTASK b PENDING",
            "SUBTASK a RUNNING",
            "SUBTASK a SUCCESSFUL",
            "LOG a ran a",
            "SUBTASK b READY",
            "SUBTASK b RUNNING",
            "SUBTASK b SUCCESSFUL",
            "LOG b ran b",
            "TASK - SUCCESSFUL",
        ]
    );
    let after = store.task_events(id, events[4].id, 100).await.unwrap();
    assert_eq!(after.len(), events.len() - 5);
}

/// A point resent is stored once; old samples become one mean per step, once; samples past
/// retention go.
async fn metrics_are_stored_once_and_rolled_up(store: Store) {
    use ocp_store::NewSample;
    let t0 = 999_900; // a multiple of the 300 s step
    let point = |ts: i64, value: f64| NewSample {
        metric: "host_load1".into(),
        labels: r#"{"host_id":"1"}"#.into(),
        ts,
        value,
    };
    let mut raw: Vec<NewSample> = (0..60).map(|i| point(t0 + 10 * i, i as f64)).collect();
    raw.push(point(t0 - 10_000, 99.0));
    raw.push(point(t0 + 610, 7.0));
    assert_eq!(store.ingest_samples(&raw).await.unwrap(), 62);
    assert_eq!(store.ingest_samples(&raw[..5]).await.unwrap(), 0);
    let series = store
        .metric_series(&["host_load1".to_string()])
        .await
        .unwrap();
    assert_eq!(series.len(), 1);

    // Means per 5 minutes, as the database averages them for long steps.
    let means: Vec<(i64, f64)> = store
        .metric_means(&[series[0].id], t0, t0 + 610, 300)
        .await
        .unwrap()
        .iter()
        .map(|m| (m.1, m.2))
        .collect();
    assert_eq!(means, vec![(t0, 14.5), (t0 + 300, 44.5), (t0 + 600, 7.0)]);

    let (rolled, dropped) = store
        .roll_up_metrics(t0 + 600, 300, t0 - 5_000)
        .await
        .unwrap();
    assert_eq!((rolled, dropped), (60, 1));
    // Means over one-second steps are the samples themselves.
    let samples = store
        .metric_means(&[series[0].id], 0, i64::MAX, 1)
        .await
        .unwrap();
    let values: Vec<(i64, f64)> = samples.iter().map(|s| (s.1, s.2)).collect();
    assert_eq!(values, vec![(t0, 14.5), (t0 + 300, 44.5), (t0 + 610, 7.0)]);
    assert_eq!(
        store
            .roll_up_metrics(t0 + 600, 300, t0 - 5_000)
            .await
            .unwrap(),
        (0, 0)
    );
}

/// One open event per rule and target; a resolve or a notified mark takes effect once;
/// a notification is claimed by one sender, its attempts are kept, and a sender's claim
/// that runs out frees it again.
async fn alarms_open_once_resolve_once_and_notifications_are_claimed_once(store: Store) {
    use ocp_store::{
        Arg, AttemptOutcome, ChannelRecord, Conditions, NewEvent, NewNotification, RuleRecord,
    };
    let rule = RuleRecord {
        id: 0,
        name: "host_load_high".into(),
        display_name: "load is high".into(),
        app_type: "OCP".into(),
        scope: "Host".into(),
        level: 2,
        description: String::new(),
        expression: Some("{}".into()),
        duration_secs: 0,
        interval_secs: 10,
        clear_secs: 300,
        summary_template: "${alarm_target}".into(),
        description_template: String::new(),
        builtin: true,
        enabled: true,
        create_time: 0,
        update_time: 0,
    };
    let rule_id = store.insert_alarm_rule(&rule).await.unwrap().unwrap();
    assert_eq!(
        store.insert_alarm_rule(&rule).await.unwrap(),
        None,
        "seeded once"
    );
    let event = |target: &str| NewEvent {
        rule_id,
        alarm_type: rule.name.clone(),
        app_type: "OCP".into(),
        scope: "Host".into(),
        level: 2,
        target: target.into(),
        status: "Active".into(),
        summary: format!("{target} is busy"),
        description: String::new(),
        labels: r#"{"svr_ip":"10.0.0.1"}"#.into(),
        value: Some(3.5),
    };
    let id = store
        .open_alarm(&event("svr_ip=10.0.0.1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.open_alarm(&event("svr_ip=10.0.0.1")).await.unwrap(),
        None
    );
    let other = store.open_alarm(&event("svr_ip=10.0.0.2")).await.unwrap();
    assert!(other.is_some());
    assert_eq!(store.open_alarms(rule_id).await.unwrap().len(), 2);

    assert!(store.mark_alarm_notified(id, None).await.unwrap());
    assert!(
        !store.mark_alarm_notified(id, None).await.unwrap(),
        "moved once"
    );
    assert!(!store
        .refresh_alarm(id, "Active", Some(4.0), "s", "d")
        .await
        .unwrap());
    assert!(store
        .refresh_alarm(id, "Silenced", Some(4.0), "s", "d")
        .await
        .unwrap());

    let channel = store
        .insert_alarm_channel(&ChannelRecord {
            id: 0,
            name: "hook".into(),
            channel_type: "HTTP".into(),
            config: "{}".into(),
            message_template: String::new(),
            resolved_message_template: String::new(),
            rate_limit_per_minute: 0,
            max_attempts: 3,
            create_time: 0,
            update_time: 0,
        })
        .await
        .unwrap();
    store
        .queue_notifications(&[NewNotification {
            alarm_id: id,
            channel_id: channel,
            subscription_id: None,
            recipient_uid: "1".into(),
            kind: "ALERT".into(),
            message: "busy".into(),
        }])
        .await
        .unwrap();
    let claimed = store.claim_notifications(60_000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(store
        .claim_notifications(60_000, 10)
        .await
        .unwrap()
        .is_empty());
    store
        .record_attempt(
            &claimed[0],
            &AttemptOutcome {
                successful: false,
                response: "refused".into(),
                status: "Pending".into(),
                next_attempt_at: 0,
            },
        )
        .await
        .unwrap();
    // Due again at once (next_attempt_at 0); this time the claim runs out unrecorded.
    let again = store.claim_notifications(-1, 10).await.unwrap();
    assert_eq!(again[0].attempts, 1);
    let reclaimed = store.claim_notifications(60_000, 10).await.unwrap();
    assert_eq!(reclaimed.len(), 1, "an expired claim is taken over");
    store
        .record_attempt(
            &reclaimed[0],
            &AttemptOutcome {
                successful: true,
                response: "HTTP 200".into(),
                status: "Success".into(),
                next_attempt_at: 0,
            },
        )
        .await
        .unwrap();
    let attempts = store.notification_attempts(&[claimed[0].id]).await.unwrap();
    let results: Vec<(i64, bool)> = attempts.iter().map(|a| (a.attempt, a.successful)).collect();
    assert_eq!(results, vec![(1, false), (2, true)]);
    assert_eq!(store.notifications_sent_since(channel, 0).await.unwrap(), 1);

    let mut active = Conditions::default();
    active.push("status = ?", vec![Arg::Text("Active".into())]);
    let (rows, total) = store.alarms(&active, 0, 10).await.unwrap();
    assert_eq!((rows.len(), total), (1, 1));
    let mut joined = Conditions::default();
    joined.push("e.level = ?", vec![Arg::Int(2)]);
    joined.push("n.status = ?", vec![Arg::Text("Success".into())]);
    let (rows, total) = store.notifications(&joined, 0, 10).await.unwrap();
    assert_eq!((rows.len(), total), (1, 1));

    assert!(store.resolve_alarm(id).await.unwrap());
    assert!(!store.resolve_alarm(id).await.unwrap(), "resolved once");
    let reopened = store.open_alarm(&event("svr_ip=10.0.0.1")).await.unwrap();
    assert!(
        reopened.is_some_and(|r| r != id),
        "a new event after the resolve"
    );
    store.delete_alarm_rule(rule_id).await.unwrap();
    assert!(store.alarm(id).await.is_err(), "events go with their rule");
}

/// A signed request is remembered once, by whichever server sees it first, until it expires.
async fn signatures_are_taken_once_until_they_expire(store: Store) {
    let now = ocp_store::now_millis();
    assert!(store.remember_signature("a", now + 60_000).await.unwrap());
    assert!(!store.remember_signature("a", now + 60_000).await.unwrap());
    assert!(store.remember_signature("old", now - 1).await.unwrap());
    assert_eq!(store.forget_expired_signatures().await.unwrap(), 1);
    assert!(!store.remember_signature("a", now + 60_000).await.unwrap());
    assert!(store.remember_signature("old", now + 60_000).await.unwrap());
}
