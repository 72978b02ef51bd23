//! The facts an agent reports about its host, read from `/proc`, `/etc/os-release` and
//! statvfs(3).

use ocp_api::agent::{DiskFact, HostFacts};

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// `ID` and `VERSION_ID` of `/etc/os-release`, e.g. `debian12`.
fn os_release() -> String {
    let text = std::fs::read_to_string("/etc/os-release")
        .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
        .unwrap_or_default();
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(|v| v.trim_matches('"').to_string())
            .unwrap_or_default()
    };
    let id = field("ID");
    let version = field("VERSION_ID");
    let version = version.split('.').next().unwrap_or_default();
    format!("{id}{version}")
}

/// Mounted block devices (and the root file system, whatever backs it), one per device.
/// (statvfs counts are 32-bit on some targets, hence the casts.)
#[allow(clippy::unnecessary_cast)]
pub fn disks() -> Vec<DiskFact> {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    let mut disks = Vec::new();
    for line in mounts.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 3 {
            continue;
        }
        let (device, mount_point, fs_type) = (f[0], f[1], f[2]);
        if !(device.starts_with("/dev/") || mount_point == "/") || !seen.insert(device) {
            continue;
        }
        let Ok(stat) = nix::sys::statvfs::statvfs(mount_point) else {
            continue;
        };
        let fragment = stat.fragment_size() as u64;
        disks.push(DiskFact {
            mount_point: mount_point.to_string(),
            device: device.to_string(),
            fs_type: fs_type.to_string(),
            total_bytes: stat.blocks() as u64 * fragment,
            free_bytes: stat.blocks_available() as u64 * fragment,
        });
    }
    disks
}

pub fn collect() -> HostFacts {
    HostFacts {
        hostname: read_trimmed("/proc/sys/kernel/hostname"),
        kernel: read_trimmed("/proc/sys/kernel/osrelease"),
        os_release: os_release(),
        architecture: std::env::consts::ARCH.to_string(),
        cpu_count: std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1),
        memory_bytes: crate::procinfo::meminfo("MemTotal:"),
        disks: disks(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_this_host() {
        let facts = super::collect();
        assert!(!facts.hostname.is_empty());
        assert!(!facts.kernel.is_empty());
        assert!(facts.cpu_count >= 1);
        assert!(facts.memory_bytes > 0);
        assert!(facts.disks.iter().any(|d| d.mount_point == "/"));
    }
}
