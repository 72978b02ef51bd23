//! Tasks: the DAG runs in order, leases, retry, skip, rollback, cancel, events.

use ocp_api::task::{Operation, SubtaskStatus, TaskContext, TaskStatus, TaskType};
use ocp_store::{ClaimNext, Finish, FinishOutcome, NewSubtask, NewTask, Store, TransitionError};

suite!(
    chain_runs_in_order,
    fan_out_joins,
    concurrent_finishes_unblock_the_join,
    a_batch_of_finishes_claims_what_it_unblocks,
    a_created_task_is_answered_as_it_reads_back,
    expired_lease_is_reclaimed,
    retry_and_skip,
    rollback_reverses,
    cancel_and_refusals,
    migrations_are_idempotent,
    task_events_follow_every_change,
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

async fn a_created_task_is_answered_as_it_reads_back(store: Store) {
    let mut subtasks = vec![step("start", &[])];
    for i in 0..3 {
        let mut s = step(&format!("branch{i}"), &[0]);
        s.parallel_idx = i;
        s.prohibit_rollback = i == 1;
        subtasks.push(s);
    }
    subtasks.push(step("join", &[1, 2, 3]));
    let mut new = task(subtasks);
    new.cluster_id = Some(3);
    let written = store.create_task_record(&new).await.unwrap();
    let read = store.task(written.id).await.unwrap().unwrap();
    assert_eq!(format!("{written:?}"), format!("{read:?}"));
}

fn finish(id: i64, outcome: FinishOutcome) -> Finish {
    Finish {
        id,
        outcome,
        log_lines: vec![format!("end of {id}")],
    }
}

async fn a_batch_of_finishes_claims_what_it_unblocks(store: Store) {
    let next = ClaimNext {
        executor: "127.0.0.1",
        lease_ms: 10_000,
        limit: 10,
    };
    // A fan-out of three with a join, and a chain of two.
    let mut fan = vec![step("start", &[])];
    for i in 0..3 {
        let mut s = step(&format!("branch{i}"), &[0]);
        s.parallel_idx = i;
        fan.push(s);
    }
    fan.push(step("join", &[1, 2, 3]));
    let fan_id = store.create_task(&task(fan)).await.unwrap();
    let chain_id = store
        .create_task(&task(vec![step("a", &[]), step("b", &[0])]))
        .await
        .unwrap();
    let first = store
        .claim_subtasks("node-a", "127.0.0.1", 10_000, 10)
        .await
        .unwrap();
    assert_eq!(first.len(), 2);
    let ends: Vec<Finish> = first
        .iter()
        .map(|c| finish(c.id, FinishOutcome::Succeeded))
        .collect();
    let done = store
        .finish_subtasks("node-a", &ends, Some(next))
        .await
        .unwrap();
    assert_eq!(done.recorded, vec![true, true]);
    let mut names: Vec<&str> = done.claimed.iter().map(|c| c.name.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        ["b", "branch0", "branch1", "branch2"],
        "the same transaction claims what the batch unblocked"
    );
    assert!(done.claimed.iter().all(|c| c.run_time == 1));
    for c in &first {
        assert!(store.subtask_log(c.id).await.unwrap().contains("end of"));
    }

    // Two branches, an end of a subtask already finished (not held: refused, nothing of it
    // written) and a failure, in one batch, with no slot for what comes next.
    let by_name = |name: &str| done.claimed.iter().find(|c| c.name == name).unwrap().id;
    let ends = vec![
        finish(by_name("branch0"), FinishOutcome::Succeeded),
        finish(first[0].id, FinishOutcome::Succeeded),
        finish(by_name("b"), FinishOutcome::Failed("broken".into())),
        finish(by_name("branch1"), FinishOutcome::Succeeded),
    ];
    let done2 = store
        .finish_subtasks("node-a", &ends, Some(ClaimNext { limit: 0, ..next }))
        .await
        .unwrap();
    assert_eq!(done2.recorded, vec![true, false, true, true]);
    assert!(done2.claimed.is_empty());
    assert_eq!(
        store
            .subtask_log(first[0].id)
            .await
            .unwrap()
            .matches("end of")
            .count(),
        1,
        "a refused end writes no log"
    );
    assert_eq!(status_of(&store, chain_id).await.0, TaskStatus::Failed);
    assert_eq!(status_of(&store, fan_id).await.0, TaskStatus::Running);

    // The last branch unblocks the join, which the batch claims.
    let done3 = store
        .finish_subtasks(
            "node-a",
            &[finish(by_name("branch2"), FinishOutcome::Succeeded)],
            Some(next),
        )
        .await
        .unwrap();
    assert_eq!(done3.claimed.len(), 1);
    assert_eq!(done3.claimed[0].name, "join");
    let done4 = store
        .finish_subtasks(
            "node-a",
            &[finish(done3.claimed[0].id, FinishOutcome::Succeeded)],
            Some(next),
        )
        .await
        .unwrap();
    assert!(done4.claimed.is_empty());
    assert_eq!(status_of(&store, fan_id).await.0, TaskStatus::Successful);
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
    // By creation time.
    let now = ocp_store::now_millis();
    for (from, to, expected) in [
        (Some(now - 60_000), None, 1),
        (Some(now + 60_000), None, 0),
        (None, Some(now - 60_000), 0),
    ] {
        let filter = ocp_store::TaskListFilter {
            created_from: from,
            created_to: to,
            ..Default::default()
        };
        let (_, total) = store.list_tasks(&filter, 0, 10, "id", true).await.unwrap();
        assert_eq!(total, expected, "created from {from:?} to {to:?}");
    }
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
