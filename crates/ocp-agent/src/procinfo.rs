//! What `/proc` says about a process: whether it lives, its user, command line, listening
//! ports and age.

use std::collections::HashSet;
use std::path::Path;

/// The start time of a process in clock ticks since boot: with the pid, it names one process
/// even after the pid is reused.
pub fn start_ticks(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name sits in parentheses and may hold spaces; fields follow the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `state` is field 3 of stat(5); `starttime` is field 22.
    if fields.first() == Some(&"Z") {
        return None;
    }
    fields.get(19)?.parse().ok()
}

/// Whether `pid` is the process that started at `ticks`.
pub fn is_same_process(pid: i32, ticks: u64) -> bool {
    pid > 0 && start_ticks(pid) == Some(ticks)
}

/// Whether the process that started at `ticks` has exited: its pid is gone or reused, or it
/// is a zombie none of whose threads still run (so it holds no files any more). A process
/// this agent did not start may stay a zombie until its own parent reaps it.
pub fn has_exited(pid: i32, ticks: u64) -> bool {
    match start_ticks(pid) {
        Some(started) => started != ticks,
        None => std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, |d| d.count()) <= 1,
    }
}

/// The process listening on TCP `port`, if any is visible to this agent.
pub fn listener_of(port: u16) -> Option<i32> {
    let wanted = port.to_string();
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .find(|pid| listening_ports(*pid).split(',').any(|p| p == wanted))
}

/// The working directory of a process.
pub fn cwd(pid: i32) -> Option<String> {
    std::fs::read_link(format!("/proc/{pid}/cwd"))
        .ok()
        .map(|p| p.display().to_string())
}

fn clock_ticks_per_second() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .and_then(|v| u64::try_from(v).ok())
        .filter(|v| *v > 0)
        .unwrap_or(100)
}

/// Seconds since the process started.
pub fn elapsed_seconds(pid: i32) -> i64 {
    let Some(ticks) = start_ticks(pid) else {
        return 0;
    };
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    let started = ticks as f64 / clock_ticks_per_second() as f64;
    (uptime - started).max(0.0) as i64
}

/// The command line, arguments joined by spaces.
pub fn command_line(pid: i32) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let parts: Vec<String> = raw
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// The name of the user the process runs as.
pub fn user(pid: i32) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let uid: u32 = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(
        nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
            .ok()
            .flatten()
            .map(|u| u.name)
            .unwrap_or_else(|| uid.to_string()),
    )
}

/// A `/proc/meminfo` value (e.g. `MemTotal:`) in bytes; 0 when absent.
pub fn meminfo(key: &str) -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix(key))?
                .split_whitespace()
                .next()?
                .parse::<u64>()
                .ok()
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// Resident memory in bytes.
/// How many files the process holds open.
pub fn open_fds(pid: i32) -> Option<u64> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()
        .map(|dir| dir.count() as u64)
}

pub fn rss_bytes(pid: i32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// The TCP ports the process listens on, sorted, comma-separated.
pub fn listening_ports(pid: i32) -> String {
    let mut inodes = HashSet::new();
    if let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
        for entry in entries.flatten() {
            if let Ok(target) = std::fs::read_link(entry.path()) {
                let target = target.to_string_lossy();
                if let Some(inode) = target
                    .strip_prefix("socket:[")
                    .and_then(|s| s.strip_suffix(']'))
                {
                    inodes.insert(inode.to_string());
                }
            }
        }
    }
    let mut ports: Vec<u16> = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        ports.extend(listening_in(Path::new(table), &inodes));
    }
    ports.sort_unstable();
    ports.dedup();
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn listening_in(table: &Path, inodes: &HashSet<String>) -> Vec<u16> {
    let Ok(text) = std::fs::read_to_string(table) else {
        return Vec::new();
    };
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            // local_address is field 1 (ADDR:PORT in hex), st is field 3 (0A = LISTEN),
            // inode is field 9.
            if f.len() < 10 || f[3] != "0A" || !inodes.contains(f[9]) {
                return None;
            }
            u16::from_str_radix(f[1].rsplit(':').next()?, 16).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let pid = std::process::id() as i32;
        let ticks = start_ticks(pid).expect("own start time");
        assert!(is_same_process(pid, ticks));
        assert!(!is_same_process(pid, ticks + 1));
        assert!(command_line(pid).is_some());
        assert!(user(pid).is_some());
        assert!(rss_bytes(pid).unwrap() > 0);
        assert!(elapsed_seconds(pid) >= 0);
    }

    #[test]
    fn finds_a_listening_port() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let ports = listening_ports(std::process::id() as i32);
        assert!(
            ports.split(',').any(|p| p == port.to_string()),
            "{port} in {ports}"
        );
    }
}
