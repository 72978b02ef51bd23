//! The seekdb server package for tests: the `pylibseekdb` wheel from PyPI, fetched once with
//! pip into `~/.cache/ocp-seekdb` (or taken from `OCP_SEEKDB_WHEEL`).

use std::path::PathBuf;
use std::process::Command;

pub const SEEKDB_WHEEL_SPEC: &str = "pylibseekdb==1.4.0.post1";

fn find_in(dir: &std::path::Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("pylibseekdb-") && n.ends_with(".whl"))
        })
}

/// The path of the seekdb wheel, downloading it with pip if it is not cached.
pub fn seekdb_wheel() -> anyhow::Result<PathBuf> {
    if let Ok(path) = std::env::var("OCP_SEEKDB_WHEEL") {
        return Ok(PathBuf::from(path));
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".into());
    let dir = PathBuf::from(home).join(".cache/ocp-seekdb");
    if let Some(found) = find_in(&dir) {
        return Ok(found);
    }
    std::fs::create_dir_all(&dir)?;
    let status = Command::new("python3")
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .args([
            "--python-version",
            "3.11",
            "--platform",
            "manylinux_2_28_x86_64",
        ])
        .arg("-d")
        .arg(&dir)
        .arg(SEEKDB_WHEEL_SPEC)
        .status()?;
    anyhow::ensure!(status.success(), "pip download {SEEKDB_WHEEL_SPEC} failed");
    find_in(&dir).ok_or_else(|| anyhow::anyhow!("pip left no wheel in {}", dir.display()))
}
