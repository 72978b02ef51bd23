//! The executor: claims ready subtasks under a lease and runs them.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use ocp_api::task::Operation;
use ocp_store::{ClaimNext, ClaimedSubtask, Finish, FinishOutcome, NewTask, Store, TaskRecord};
use tokio::sync::{oneshot, watch, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use crate::step::{Registry, StepContext};

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Who holds the leases: stable for one data directory, so that a restarted server takes
    /// its own subtasks back at once.
    pub node_id: String,
    /// The address shown as `executor`.
    pub executor: String,
    /// How long a claim lasts without renewal; renewed every third of it.
    pub lease: Duration,
    /// How many subtasks this server runs at once.
    pub max_parallel: usize,
    /// How often to look for work that no wake-up announced (other servers' tasks, expired
    /// leases).
    pub poll_interval: Duration,
    /// How long a shutdown waits for running steps before it stops them.
    pub shutdown_grace: Duration,
}

impl EngineConfig {
    pub fn new(node_id: impl Into<String>, executor: impl Into<String>) -> Self {
        Self {
            node_id: node_id.into(),
            executor: executor.into(),
            lease: Duration::from_secs(30),
            max_parallel: 64,
            poll_interval: Duration::from_millis(500),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// An operator cancelled the subtask.
    Cancel,
    /// Another executor holds the lease now.
    LeaseLost,
    /// This server is shutting down.
    Shutdown,
}

struct Running {
    stop: Option<oneshot::Sender<Stop>>,
    log: Arc<Mutex<Vec<String>>>,
}

/// A run that ended, waiting for its end to be written.
struct Ending {
    finish: Finish,
    /// The run's slot, handed to what the batch claims next (or freed).
    slot: OwnedSemaphorePermit,
    written: oneshot::Sender<Result<bool, String>>,
}

/// How many ends one transaction writes at most.
const MAX_BATCH: usize = 256;

struct Inner {
    store: Store,
    registry: Registry,
    config: EngineConfig,
    wake: Notify,
    slots: Arc<Semaphore>,
    running: Mutex<HashMap<i64, Running>>,
    /// Ends not yet written; whoever holds `writing` writes them all in one batch.
    ending: Mutex<Vec<Ending>>,
    writing: tokio::sync::Mutex<()>,
    /// Set once the engine stops claiming, for a shutdown.
    stopping: AtomicBool,
}

/// Runs tasks. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

/// Stops the engine's loops when asked (and waits for them).
pub struct EngineHandle {
    shutdown: watch::Sender<bool>,
    loops: Vec<JoinHandle<()>>,
}

impl EngineHandle {
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for handle in self.loops {
            let _ = handle.await;
        }
    }
}

impl Engine {
    pub fn new(store: Store, registry: Registry, config: EngineConfig) -> Self {
        let slots = Arc::new(Semaphore::new(config.max_parallel.max(1)));
        Self {
            inner: Arc::new(Inner {
                store,
                registry,
                config,
                wake: Notify::new(),
                slots,
                running: Mutex::new(HashMap::new()),
                ending: Mutex::new(Vec::new()),
                writing: tokio::sync::Mutex::new(()),
                stopping: AtomicBool::new(false),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// Persists the task, then wakes the executor; answers the task as written. Once this
    /// returns, the task is durable; the record shows it before any subtask ran.
    pub async fn submit(&self, task: &NewTask) -> Result<TaskRecord, ocp_store::StoreError> {
        let record = self.inner.store.create_task_record(task).await?;
        self.wake();
        Ok(record)
    }

    /// A task the store wrote together with the rows it acts on: its record, and the executor
    /// told that it is ready.
    pub async fn submitted(&self, id: i64) -> Result<TaskRecord, ocp_store::StoreError> {
        let record =
            self.inner
                .store
                .task(id)
                .await?
                .ok_or_else(|| ocp_store::StoreError::NotFound {
                    entity: "task",
                    key: id.to_string(),
                })?;
        self.wake();
        Ok(record)
    }

    /// Tells the executor that work may be ready (after a retry, a skip, a rollback).
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Stops a subtask running on this server at once, for a cancellation; subtasks running
    /// elsewhere see the request at their next lease renewal.
    pub fn cancel_local(&self, subtask_id: i64) {
        let mut running = self.inner.running.lock().expect("running lock");
        if let Some(stop) = running.get_mut(&subtask_id).and_then(|r| r.stop.take()) {
            let _ = stop.send(Stop::Cancel);
        }
    }

    /// Starts the claim loop and the lease loop.
    pub async fn start(&self) -> Result<EngineHandle, ocp_store::StoreError> {
        let released = self
            .inner
            .store
            .release_leases_of(&self.inner.config.node_id)
            .await?;
        if released > 0 {
            tracing::info!(
                released,
                "taking back subtasks this node was running before it stopped"
            );
        }
        let (shutdown, rx) = watch::channel(false);
        let claim = tokio::spawn(self.clone().claim_loop(rx.clone()));
        let lease = tokio::spawn(self.clone().lease_loop(rx));
        Ok(EngineHandle {
            shutdown,
            loops: vec![claim, lease],
        })
    }

    async fn claim_loop(self, mut shutdown: watch::Receiver<bool>) {
        let config = &self.inner.config;
        let mut listener = match self.inner.store.ready_listener().await {
            Ok(listener) => listener,
            Err(err) => {
                tracing::warn!(error = %err, "no wake-ups from other servers; polling only");
                None
            }
        };
        let mut last_sweep = tokio::time::Instant::now();
        loop {
            if *shutdown.borrow() {
                self.inner.stopping.store(true, Ordering::SeqCst);
                break;
            }
            if last_sweep.elapsed() >= config.poll_interval {
                last_sweep = tokio::time::Instant::now();
                if let Err(err) = self.inner.store.expire_orphans().await {
                    tracing::warn!(error = %err, "could not end orphaned subtasks");
                }
            }
            let mut slots = self.free_slots();
            let mut claimed_all = false;
            if !slots.is_empty() {
                match self
                    .inner
                    .store
                    .claim_subtasks(
                        &config.node_id,
                        &config.executor,
                        config.lease.as_millis() as i64,
                        slots.len() as i64,
                    )
                    .await
                {
                    Ok(claimed) => {
                        claimed_all = !claimed.is_empty() && claimed.len() == slots.len();
                        self.spawn_runs(claimed, &mut slots);
                    }
                    Err(err) => tracing::warn!(error = %err, "could not claim subtasks"),
                }
            }
            if claimed_all {
                continue;
            }
            let announced = async {
                match listener.as_mut() {
                    Some(l) => {
                        if l.wait().await.is_err() {
                            tokio::time::sleep(config.poll_interval).await;
                        }
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = self.inner.wake.notified() => {}
                _ = announced => {}
                _ = tokio::time::sleep(config.poll_interval) => {}
                _ = shutdown.changed() => {}
            }
        }
        self.drain().await;
    }

    /// Waits for running steps up to the grace period, then stops the rest and gives their
    /// leases up so that they resume at once elsewhere or after a restart.
    async fn drain(&self) {
        let deadline = tokio::time::Instant::now() + self.inner.config.shutdown_grace;
        while !self.inner.running.lock().expect("running lock").is_empty()
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let stopped: Vec<i64> = {
            let mut running = self.inner.running.lock().expect("running lock");
            running
                .iter_mut()
                .filter_map(|(id, r)| r.stop.take().map(|s| (id, s)))
                .map(|(id, stop)| {
                    let _ = stop.send(Stop::Shutdown);
                    *id
                })
                .collect()
        };
        if !stopped.is_empty() {
            tracing::info!(
                ?stopped,
                "stopped running subtasks for shutdown; they resume later"
            );
            if let Err(err) = self
                .inner
                .store
                .release_leases_of(&self.inner.config.node_id)
                .await
            {
                tracing::warn!(error = %err, "could not release leases at shutdown");
            }
        }
    }

    async fn lease_loop(self, mut shutdown: watch::Receiver<bool>) {
        let period = (self.inner.config.lease / 3).max(Duration::from_millis(50));
        loop {
            tokio::select! {
                _ = tokio::time::sleep(period) => {}
                _ = shutdown.changed() => break,
            }
            let (ids, flushes): (Vec<i64>, Vec<(i64, Vec<String>)>) = {
                let running = self.inner.running.lock().expect("running lock");
                let ids = running.keys().copied().collect();
                let flushes = running
                    .iter()
                    .map(|(id, r)| (*id, std::mem::take(&mut *r.log.lock().expect("log lock"))))
                    .filter(|(_, lines)| !lines.is_empty())
                    .collect();
                (ids, flushes)
            };
            for (id, lines) in flushes {
                if let Err(err) = self.inner.store.append_subtask_log(id, &lines).await {
                    tracing::warn!(subtask_id = id, error = %err, "could not flush subtask log");
                }
            }
            match self
                .inner
                .store
                .renew_leases(
                    &self.inner.config.node_id,
                    &ids,
                    self.inner.config.lease.as_millis() as i64,
                )
                .await
            {
                Ok(renewal) => {
                    let mut running = self.inner.running.lock().expect("running lock");
                    let stops = renewal
                        .canceling
                        .iter()
                        .map(|id| (id, Stop::Cancel))
                        .chain(renewal.lost.iter().map(|id| (id, Stop::LeaseLost)));
                    for (id, why) in stops {
                        if let Some(stop) = running.get_mut(id).and_then(|r| r.stop.take()) {
                            let _ = stop.send(why);
                        }
                    }
                }
                Err(err) => tracing::warn!(error = %err, "could not renew leases"),
            }
        }
    }

    /// Every slot free now, taken before a claim so that each claimed subtask has one.
    fn free_slots(&self) -> Vec<OwnedSemaphorePermit> {
        std::iter::from_fn(|| self.inner.slots.clone().try_acquire_owned().ok()).collect()
    }

    /// Runs each claimed subtask in one of `slots`; the slots left over are freed by the
    /// caller.
    fn spawn_runs(&self, claimed: Vec<ClaimedSubtask>, slots: &mut Vec<OwnedSemaphorePermit>) {
        for subtask in claimed {
            let Some(slot) = slots.pop() else {
                // Never: a claim asks for as many as there are slots.
                tracing::error!(
                    subtask_id = subtask.id,
                    "claimed a subtask without a free slot"
                );
                continue;
            };
            let engine = self.clone();
            tokio::spawn(async move {
                if engine.run(subtask, slot).await {
                    engine.wake();
                }
            });
        }
    }

    /// Runs a subtask and records its end; true when the claim loop should look for work
    /// (its slot was freed without a claim, or there may be more ready than was claimed).
    async fn run(&self, mut subtask: ClaimedSubtask, slot: OwnedSemaphorePermit) -> bool {
        let inner = &self.inner;
        let log = Arc::new(Mutex::new(Vec::new()));
        let (stop_tx, stop_rx) = oneshot::channel();
        inner.running.lock().expect("running lock").insert(
            subtask.id,
            Running {
                stop: Some(stop_tx),
                log: log.clone(),
            },
        );
        let mut context = std::mem::take(&mut subtask.context);
        context.parallel = subtask.parallel_idx >= 0;
        context.parallel_idx = subtask.parallel_idx;
        let ctx = StepContext {
            task_id: subtask.task_id,
            subtask_id: subtask.id,
            subtask_name: subtask.name.clone(),
            run_time: subtask.run_time,
            operation: subtask.operation,
            context,
            store: inner.store.clone(),
            log: log.clone(),
        };
        log.lock().expect("log lock").push(format!(
            "############{{{}}}{{{}}}############",
            subtask.operation,
            ocp_api::Timestamp::now()
        ));
        ctx.log(format!(
            "run subtask {} ({}) of task {}, run {} on {}",
            subtask.id, subtask.name, subtask.task_id, subtask.run_time, inner.config.executor
        ));
        let outcome = self.execute(&subtask, &ctx, stop_rx).await;
        let Some(outcome) = outcome else {
            self.forget(subtask.id);
            drop(slot);
            return true;
        };
        match &outcome {
            FinishOutcome::Succeeded => ctx.log("subtask succeeded"),
            FinishOutcome::Failed(message) => ctx.log(format!("subtask failed: {message}")),
            FinishOutcome::Cancelled => ctx.log("subtask cancelled"),
        }
        // Take the entry out before the final write so the lease loop cannot flush lines twice.
        self.forget(subtask.id);
        let log_lines = std::mem::take(&mut *log.lock().expect("log lock"));
        let (written, result) = oneshot::channel();
        inner.ending.lock().expect("ending lock").push(Ending {
            finish: Finish {
                id: subtask.id,
                outcome: outcome.clone(),
                log_lines,
            },
            slot,
            written,
        });
        let look_for_work = self.write_ends().await;
        let result = result
            .await
            .unwrap_or_else(|_| Err("the batch that held it was dropped".into()));
        match result {
            Ok(true) => {
                tracing::debug!(
                    task_id = subtask.task_id,
                    subtask_id = subtask.id,
                    ?outcome,
                    "subtask finished"
                )
            }
            Ok(false) => tracing::warn!(
                task_id = subtask.task_id,
                subtask_id = subtask.id,
                "subtask finished after its lease was lost; its outcome is dropped"
            ),
            Err(err) => tracing::error!(
                task_id = subtask.task_id,
                subtask_id = subtask.id,
                error = %err,
                "could not record the end of a subtask; it runs again when its lease expires"
            ),
        }
        look_for_work
    }

    /// Writes the ends that are waiting, in one transaction, unless another run is writing
    /// (it, or the next writer, takes them): ends pile up while a batch is written, so the
    /// busier the engine, the larger its batches. The same transaction claims, in the freed
    /// slots and any other free one, what is ready next. Answers whether the claim loop
    /// should look for work: the write failed (the slots were freed), or every slot was
    /// filled and more may be ready than fitted (a slot the claim loop held meanwhile is
    /// free again soon).
    async fn write_ends(&self) -> bool {
        let inner = &self.inner;
        let _writing = inner.writing.lock().await;
        let batch: Vec<Ending> = {
            let mut ending = inner.ending.lock().expect("ending lock");
            let take = ending.len().min(MAX_BATCH);
            ending.drain(..take).collect()
        };
        if batch.is_empty() {
            // An earlier writer took this run's end along; its slot went with it.
            return false;
        }
        let mut slots = Vec::with_capacity(batch.len());
        let mut finishes = Vec::with_capacity(batch.len());
        let mut replies = Vec::with_capacity(batch.len());
        for ending in batch {
            slots.push(ending.slot);
            finishes.push(ending.finish);
            replies.push(ending.written);
        }
        slots.extend(self.free_slots());
        let lease_ms = inner.config.lease.as_millis() as i64;
        let next = (!inner.stopping.load(Ordering::SeqCst)).then(|| ClaimNext {
            executor: &inner.config.executor,
            lease_ms,
            limit: slots.len() as i64,
        });
        match inner
            .store
            .finish_subtasks(&inner.config.node_id, &finishes, next)
            .await
        {
            Ok(finished) => {
                for (reply, recorded) in replies.into_iter().zip(finished.recorded) {
                    let _ = reply.send(Ok(recorded));
                }
                let filled = next.is_some_and(|n| finished.claimed.len() as i64 >= n.limit);
                self.spawn_runs(finished.claimed, &mut slots);
                filled
            }
            Err(err) => {
                let message = err.to_string();
                for reply in replies {
                    let _ = reply.send(Err(message.clone()));
                }
                true
            }
        }
    }

    /// Drops a subtask from the ones this executor runs (and renews, and flushes).
    fn forget(&self, subtask_id: i64) {
        self.inner
            .running
            .lock()
            .expect("running lock")
            .remove(&subtask_id);
    }

    /// Runs the step; `None` when it was stopped without an outcome to record.
    async fn execute(
        &self,
        subtask: &ClaimedSubtask,
        ctx: &StepContext,
        stop: oneshot::Receiver<Stop>,
    ) -> Option<FinishOutcome> {
        let Some(step) = self.inner.registry.get(&subtask.class_name) else {
            return Some(FinishOutcome::Failed(format!(
                "this server has no step {}",
                subtask.class_name
            )));
        };
        let work = async {
            match subtask.operation {
                Operation::Rollback => step.rollback(ctx).await,
                _ => step.execute(ctx).await,
            }
        };
        let timeout = Duration::from_secs(subtask.timeout_secs.max(1) as u64);
        let guarded = AssertUnwindSafe(tokio::time::timeout(timeout, work)).catch_unwind();
        tokio::select! {
            result = guarded => Some(match result {
                Ok(Ok(Ok(()))) => FinishOutcome::Succeeded,
                Ok(Ok(Err(err))) => FinishOutcome::Failed(err.0),
                Ok(Err(_)) => FinishOutcome::Failed(format!("timed out after {} s", subtask.timeout_secs)),
                Err(panic) => FinishOutcome::Failed(format!("step panicked: {}", panic_message(&panic))),
            }),
            why = stop => match why {
                Ok(Stop::Cancel) => Some(FinishOutcome::Cancelled),
                Ok(Stop::LeaseLost) => {
                    tracing::warn!(subtask_id = subtask.id, "lease lost; another executor runs this subtask now");
                    None
                }
                Ok(Stop::Shutdown) | Err(_) => None,
            },
        }
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}
