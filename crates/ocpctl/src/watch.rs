//! Following a task live: its event stream (Server-Sent Events) drawn as a bar for the whole
//! DAG and a spinner per running subtask with its latest log line. A dropped connection is
//! resumed with `Last-Event-ID`, so nothing is missed or shown twice. Progress goes to
//! standard error; without a terminal it is a line per subtask state change.

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::time::Duration;

use eventsource_stream::Eventsource as _;
use futures::StreamExt as _;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use ocp_api::task::{TaskEvent, TaskEventKind, TaskInstance};
use serde_json::Value;

use crate::client::{unreachable, CliError, Client, Exit, Result};

/// How long to keep trying to resume a dropped stream.
const RESUME_FOR: Duration = Duration::from_secs(120);

struct Board {
    multi: MultiProgress,
    overall: ProgressBar,
    running: BTreeMap<i64, ProgressBar>,
    status: BTreeMap<i64, (String, String)>,
    tty: bool,
}

impl Board {
    fn new(task: &TaskInstance) -> Self {
        let tty = std::io::stderr().is_terminal();
        let multi = MultiProgress::with_draw_target(if tty {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        let overall = multi.add(ProgressBar::new(task.subtasks.len() as u64));
        overall.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        overall.set_prefix(format!("task {} {}", task.id, task.name));
        let status = task
            .subtasks
            .iter()
            .map(|s| (s.id, (s.name.clone(), String::new())))
            .collect();
        Self {
            multi,
            overall,
            running: BTreeMap::new(),
            status,
            tty,
        }
    }

    fn line(&self, text: String) {
        if self.tty {
            let _ = self.multi.println(text);
        } else {
            eprintln!("{text}");
        }
    }

    fn apply(&mut self, event: &TaskEvent) {
        match event.kind {
            TaskEventKind::Subtask => {
                let id = event.subtask_id.unwrap_or(0);
                let status = event.status.clone().unwrap_or_default();
                let name = event.subtask_name.clone().unwrap_or_default();
                let entry = self
                    .status
                    .entry(id)
                    .or_insert((name.clone(), String::new()));
                if entry.1 == status {
                    return;
                }
                entry.1 = status.clone();
                if status == "RUNNING" {
                    let spinner = self.multi.add(ProgressBar::new_spinner());
                    spinner.set_style(
                        ProgressStyle::with_template("  {spinner} {prefix} {elapsed} {wide_msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    spinner.set_prefix(name.clone());
                    spinner.enable_steady_tick(Duration::from_millis(120));
                    self.running.insert(id, spinner);
                } else if let Some(spinner) = self.running.remove(&id) {
                    spinner.finish_and_clear();
                }
                let done = self
                    .status
                    .values()
                    .filter(|(_, s)| s == "SUCCESSFUL")
                    .count();
                self.overall.set_position(done as u64);
                // Waiting states (PENDING, READY) are not news; the rest is.
                if !matches!(status.as_str(), "PENDING" | "READY") {
                    let operation = event.operation.map(|o| o.as_str()).unwrap_or("");
                    self.line(format!("{name}: {status} ({operation})"));
                }
            }
            TaskEventKind::Log => {
                if let (Some(id), Some(line)) = (event.subtask_id, &event.line) {
                    if let Some(spinner) = self.running.get(&id) {
                        spinner.set_message(line.clone());
                    }
                }
            }
            TaskEventKind::Task => {
                self.overall
                    .set_message(event.status.clone().unwrap_or_default());
            }
        }
    }

    fn finish(&mut self) {
        for spinner in std::mem::take(&mut self.running).into_values() {
            spinner.finish_and_clear();
        }
        self.overall.finish();
    }
}

/// Follows task `id` until it ends; a FAILED task is an error (exit 1) that carries the
/// tail of each failed subtask's log.
pub async fn watch(client: &Client, id: i64) -> Result<()> {
    let task: TaskInstance = client.get(&format!("/api/v2/tasks/instances/{id}")).await?;
    let mut board = Board::new(&task);
    let mut last_event: Option<String> = None;
    let mut lost_since: Option<std::time::Instant> = None;
    let status = loop {
        let seen = last_event.clone();
        match follow(client, id, &mut board, &mut last_event).await {
            Ok(Some(status)) => break status,
            Err(e) if e.exit != Exit::Unreachable => {
                board.finish();
                return Err(e);
            }
            Ok(None) | Err(_) => {
                // A connection that delivered events starts a new resume window.
                if last_event != seen {
                    lost_since = None;
                }
                if lost_since.is_none() {
                    board.line(format!(
                        "event stream lost; resuming after event {}",
                        last_event.as_deref().unwrap_or("0")
                    ));
                }
                let since = *lost_since.get_or_insert_with(std::time::Instant::now);
                if since.elapsed() > RESUME_FOR {
                    board.finish();
                    return Err(CliError::new(
                        Exit::Unreachable,
                        format!("lost the event stream of task {id} and could not resume it"),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    };
    board.finish();
    if status == "SUCCESSFUL" {
        board.line(format!("task {id} SUCCESSFUL"));
        return Ok(());
    }
    let task: TaskInstance = client.get(&format!("/api/v2/tasks/instances/{id}")).await?;
    let mut message = format!("task {id} ({}) {status}", task.name);
    for sub in task
        .subtasks
        .iter()
        .filter(|s| s.status.as_str() == "FAILED")
    {
        let log: Value = client
            .get(&format!(
                "/api/v2/tasks/instances/{id}/subtasks/{}/log",
                sub.id
            ))
            .await
            .unwrap_or_default();
        let text = log["log"].as_str().unwrap_or("");
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(15)..].join("\n    ");
        message.push_str(&format!(
            "\n  subtask {} ({}) FAILED; its log ends:\n    {tail}",
            sub.id, sub.name
        ));
    }
    Err(CliError::new(Exit::TaskFailed, message))
}

/// Reads the stream once: `Some(status)` at its end, `None` if the connection dropped.
async fn follow(
    client: &Client,
    id: i64,
    board: &mut Board,
    last_event: &mut Option<String>,
) -> Result<Option<String>> {
    let mut request = client.request(
        reqwest::Method::GET,
        &format!("/api/v2/tasks/instances/{id}/events"),
    );
    if let Some(last) = last_event.as_deref() {
        request = request.header("last-event-id", last);
    }
    let response = request
        .send()
        .await
        .map_err(|e| unreachable("the server", &e))?;
    if !response.status().is_success() {
        return client.read::<Value>(response).await.map(|_| None);
    }
    let mut events = response.bytes_stream().eventsource();
    // A broken connection or a stream that does not parse ends this read; the caller resumes.
    while let Some(Ok(frame)) = events.next().await {
        if frame.event == "end" {
            let data: Value = serde_json::from_str(&frame.data).unwrap_or_default();
            return Ok(Some(
                data["status"].as_str().unwrap_or("FAILED").to_string(),
            ));
        }
        if let Ok(event) = serde_json::from_str::<TaskEvent>(&frame.data) {
            board.apply(&event);
        }
        if !frame.id.is_empty() {
            *last_event = Some(frame.id);
        }
    }
    Ok(None)
}
