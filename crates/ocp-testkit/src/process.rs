//! A child process in its own process group, killed with the whole group on drop.

use std::process::{Child, Command};

pub struct ChildGroup {
    child: Option<Child>,
    name: String,
}

impl ChildGroup {
    /// Spawns `command` as the leader of a new process group.
    pub fn spawn(name: &str, mut command: Command) -> anyhow::Result<Self> {
        use std::os::unix::process::CommandExt as _;
        command.process_group(0);
        let child = command
            .spawn()
            .map_err(|e| anyhow::anyhow!("starting {name}: {e}"))?;
        Ok(Self {
            child: Some(child),
            name: name.to_string(),
        })
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the leader has not exited yet.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    pub fn child_mut(&mut self) -> Option<&mut Child> {
        self.child.as_mut()
    }

    /// Waits for a line of the child's piped stdout that starts with `prefix`, and answers
    /// the rest of it; `None` if none comes within `timeout` (or stdout was not piped).
    pub fn wait_for_line(&mut self, prefix: &str, timeout: std::time::Duration) -> Option<String> {
        use std::io::{BufRead, BufReader};
        let stdout = self.child.as_mut()?.stdout.take()?;
        let prefix = prefix.to_string();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix(&prefix) {
                    let _ = tx.send(rest.trim().to_string());
                }
            }
        });
        rx.recv_timeout(timeout).ok()
    }

    /// Sends `signal` to the whole group.
    #[allow(unsafe_code)]
    pub fn signal(&self, signal: i32) {
        if let Some(pid) = self.pid() {
            // SAFETY: kill(2) has no memory effects; a negative pid names the process group
            // this child leads.
            unsafe {
                libc::kill(-(pid as i32), signal);
            }
        }
    }

    /// SIGKILLs the group and reaps the leader.
    pub fn kill(&mut self) {
        self.signal(libc::SIGKILL);
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
    }

    /// SIGTERMs the group and waits up to `timeout` for the leader, then SIGKILLs.
    pub fn terminate(&mut self, timeout: std::time::Duration) -> Option<std::process::ExitStatus> {
        self.signal(libc::SIGTERM);
        let deadline = std::time::Instant::now() + timeout;
        let child = self.child.as_mut()?;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status);
            }
            if std::time::Instant::now() > deadline {
                eprintln!("{} did not stop on SIGTERM; killing it", self.name);
                self.kill();
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

impl Drop for ChildGroup {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Prints the last `lines` lines of a log file to stderr, which the test harness shows
/// for a failing test.
pub fn print_log_tail(label: &str, path: &std::path::Path, lines: usize) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    let tail = &all[all.len().saturating_sub(lines)..];
    eprintln!("--- last {} lines of the {label} log ---", tail.len());
    for line in tail {
        eprintln!("{line}");
    }
    eprintln!("--- end of the {label} log ---");
}

/// SIGKILLs the process group led by `pid`.
#[allow(unsafe_code)]
pub fn kill_group(pid: i32) {
    // SAFETY: kill(2) has no memory effects; a negative pid names a process group.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
}
