//! The seekdb server package for tests: the `pylibseekdb` wheel from PyPI, fetched once with
//! pip into `~/.cache/ocp-seekdb` (or taken from `OCP_SEEKDB_WHEEL`).

use std::path::PathBuf;
use std::process::Command;

/// The version the tests deploy unless they name another.
pub const SEEKDB_VERSION: &str = "1.4.0.post1";

fn find_in(dir: &std::path::Path, version: &str) -> Option<PathBuf> {
    let prefix = format!("pylibseekdb-{version}-");
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".whl"))
        })
}

/// The path of the seekdb wheel, downloading it with pip if it is not cached.
pub fn seekdb_wheel() -> anyhow::Result<PathBuf> {
    if let Ok(path) = std::env::var("OCP_SEEKDB_WHEEL") {
        return Ok(PathBuf::from(path));
    }
    seekdb_wheel_of(SEEKDB_VERSION)
}

/// The path of the wheel of seekdb `version` (`1.4.0`, `1.3.0.post5`), downloading it with
/// pip if it is not cached. pip writes into a directory of its own, and the wheel is moved
/// into the cache whole, so tests that want it at once never read half of it.
pub fn seekdb_wheel_of(version: &str) -> anyhow::Result<PathBuf> {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".into());
    let dir = PathBuf::from(home).join(".cache/ocp-seekdb");
    if let Some(found) = find_in(&dir, version) {
        return Ok(found);
    }
    std::fs::create_dir_all(&dir)?;
    let download = dir.join(format!("download-{version}-{}", std::process::id()));
    std::fs::create_dir_all(&download)?;
    let status = Command::new("python3")
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .args([
            "--python-version",
            "3.11",
            "--platform",
            "manylinux_2_28_x86_64",
        ])
        .arg("-d")
        .arg(&download)
        .arg(format!("pylibseekdb=={version}"))
        .status()?;
    let fetched = find_in(&download, version);
    let moved = match (status.success(), fetched) {
        (true, Some(wheel)) => {
            let into = dir.join(wheel.file_name().expect("a file name"));
            std::fs::rename(&wheel, &into).map(|_| into).ok()
        }
        _ => None,
    };
    let _ = std::fs::remove_dir_all(&download);
    moved
        .or_else(|| find_in(&dir, version))
        .ok_or_else(|| anyhow::anyhow!("pip download pylibseekdb=={version} failed"))
}

/// The pids of seekdb processes on this machine that run in `home` (seekdb makes its base
/// directory its working directory).
pub fn seekdb_processes(home: &str) -> Vec<i32> {
    let home = std::path::Path::new(home);
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
            let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap_or_default();
            exe.file_name().is_some_and(|n| n == "seekdb") && cwd == home
        })
        .collect()
}
