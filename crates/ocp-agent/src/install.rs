//! What the manager does on the host's disk for the platform: install software packages
//! pulled from the server, make and remove the directories of database servers, and tell
//! whether a port is free.
//!
//! A package is downloaded over a signed call, checked against the SHA-256 the server gave,
//! and unpacked into `packages/SHA256/` under the data directory; a `.complete` marker makes
//! a second install of the same package a no-op. A directory made for the platform gets an
//! `.ocp-agent-owned` marker, and only such directories are ever removed.

use std::io::Write as _;
use std::path::{Component, Path, PathBuf};

use anyhow::Context as _;
use ocp_api::agent_path;
use ocp_api::obdb::{DirAnswer, InstallPackage, InstalledPackage, PortAnswer};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt as _;

use crate::config;
use crate::server_link::signed;

const COMPLETE: &str = ".complete";
const OWNED: &str = ".ocp-agent-owned";

/// Downloads, checks and unpacks a package unless it is there already.
pub async fn install_package(
    data_dir: &Path,
    spec: &InstallPackage,
) -> anyhow::Result<InstalledPackage> {
    if spec.sha256.len() != 64 || !spec.sha256.chars().all(|c| c.is_ascii_hexdigit()) {
        anyhow::bail!("sha256 must be 64 hex digits");
    }
    let packages = data_dir.join("packages");
    let home = packages.join(&spec.sha256);
    if tokio::fs::try_exists(home.join(COMPLETE)).await? {
        return Ok(InstalledPackage {
            home: home.display().to_string(),
            downloaded: false,
        });
    }
    let credentials =
        config::load_credentials(data_dir)?.context("the agent has not joined a server")?;
    let staging = packages.join(format!("{}.part", spec.sha256));
    let _ = tokio::fs::remove_dir_all(&staging).await;
    tokio::fs::create_dir_all(&staging).await?;
    let archive = staging.join("package.zip");
    let client = reqwest::Client::new();
    let mut reply = signed(
        &client,
        &credentials,
        reqwest::Method::GET,
        &agent_path::server::package(spec.id),
        Vec::new(),
    )
    .send()
    .await?;
    if !reply.status().is_success() {
        anyhow::bail!(
            "the server answered {} for package {}",
            reply.status(),
            spec.id
        );
    }
    let mut file = tokio::fs::File::create(&archive).await?;
    let mut hasher = Sha256::new();
    let mut size: i64 = 0;
    while let Some(chunk) = reply.chunk().await? {
        hasher.update(&chunk);
        size += chunk.len() as i64;
        file.write_all(&chunk).await?;
    }
    file.sync_all().await?;
    drop(file);
    let digest = hex::encode(hasher.finalize());
    if digest != spec.sha256 || size != spec.size {
        let _ = tokio::fs::remove_dir_all(&staging).await;
        anyhow::bail!(
            "package {} fails its checksum: got {size} bytes with sha256 {digest}, \
             expected {} bytes with {}",
            spec.file_name,
            spec.size,
            spec.sha256
        );
    }
    let (file_name, at) = (spec.file_name.clone(), home.clone());
    tokio::task::spawn_blocking(move || settle(&staging, &archive, &at, &file_name)).await??;
    tracing::info!(package = spec.file_name, home = %home.display(), "installed a package");
    Ok(InstalledPackage {
        home: home.display().to_string(),
        downloaded: true,
    })
}

/// Unpacks a checked archive and moves the tree to `home`, durably: the marker that makes a
/// second install a no-op is written, synced and renamed into place with its tree, and the
/// directory holding it is synced, so a crash leaves either no package or a whole one.
fn settle(staging: &Path, archive: &Path, home: &Path, file_name: &str) -> anyhow::Result<()> {
    let tree = staging.join("tree");
    unpack(archive, &tree)?;
    std::fs::remove_file(archive)?;
    let mut marker = std::fs::File::create(tree.join(COMPLETE))?;
    marker.write_all(file_name.as_bytes())?;
    marker.sync_all()?;
    std::fs::File::open(&tree)?.sync_all()?;
    let _ = std::fs::remove_dir_all(home);
    std::fs::rename(&tree, home)?;
    if let Some(parent) = home.parent() {
        std::fs::File::open(parent)?.sync_all()?;
    }
    let _ = std::fs::remove_dir_all(staging);
    Ok(())
}

/// Unpacks a zip archive (a wheel); ELF files become executable.
fn unpack(archive: &Path, into: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut zip = zip::ZipArchive::new(std::fs::File::open(archive)?)?;
    zip.extract(into)?;
    for i in 0..zip.len() {
        let entry = zip.by_index(i)?;
        let Some(relative) = entry.enclosed_name() else {
            continue;
        };
        let path = into.join(relative);
        if !path.is_file() {
            continue;
        }
        let mut magic = [0u8; 4];
        let is_elf = std::fs::File::open(&path)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
            .is_ok()
            && magic == *b"\x7fELF";
        if is_elf {
            let mut permissions = std::fs::metadata(&path)?.permissions();
            permissions.set_mode(permissions.mode() | 0o755);
            std::fs::set_permissions(&path, permissions)?;
        }
    }
    Ok(())
}

/// An absolute path as given, or one relative to the data directory; `..` is refused.
pub fn resolve(data_dir: &Path, path: &str) -> anyhow::Result<PathBuf> {
    let given = Path::new(path);
    if path.is_empty() || given.components().any(|c| c == Component::ParentDir) {
        anyhow::bail!("{path:?} is not a usable directory path");
    }
    Ok(if given.is_absolute() {
        given.to_path_buf()
    } else {
        data_dir.join(given)
    })
}

/// Makes a directory for the platform (and its parents) and marks it as ours.
pub fn prepare_dir(data_dir: &Path, path: &str) -> anyhow::Result<DirAnswer> {
    let dir = resolve(data_dir, path)?;
    let existed = dir.exists();
    if existed && !dir.join(OWNED).exists() && std::fs::read_dir(&dir)?.next().is_some() {
        anyhow::bail!(
            "{} exists, is not empty and was not made by this agent",
            dir.display()
        );
    }
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(OWNED), b"")?;
    Ok(DirAnswer {
        path: dir.display().to_string(),
        existed,
    })
}

/// Removes a directory this agent made; any other is refused.
pub fn remove_dir(data_dir: &Path, path: &str) -> anyhow::Result<DirAnswer> {
    let dir = resolve(data_dir, path)?;
    if !dir.exists() {
        return Ok(DirAnswer {
            path: dir.display().to_string(),
            existed: false,
        });
    }
    if !dir.join(OWNED).exists() {
        anyhow::bail!(
            "{} was not made by this agent; not removing it",
            dir.display()
        );
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(DirAnswer {
        path: dir.display().to_string(),
        existed: true,
    })
}

/// Whether something listens on a TCP port (of any address of this host).
pub fn port_in_use(port: u16) -> PortAnswer {
    let in_use = matches!(
        std::net::TcpListener::bind(("0.0.0.0", port)),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse
    );
    PortAnswer { port, in_use }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_owned_directories_are_removed() {
        let data = tempfile::tempdir().unwrap();
        let made = prepare_dir(data.path(), "ob/c1").unwrap();
        assert!(!made.existed);
        std::fs::write(Path::new(&made.path).join("data"), b"x").unwrap();
        assert!(remove_dir(data.path(), "ob/c1").unwrap().existed);
        assert!(!Path::new(&made.path).exists());

        let foreign = data.path().join("foreign");
        std::fs::create_dir_all(&foreign).unwrap();
        std::fs::write(foreign.join("keep"), b"x").unwrap();
        assert!(remove_dir(data.path(), foreign.to_str().unwrap()).is_err());
        assert!(prepare_dir(data.path(), foreign.to_str().unwrap()).is_err());
        assert!(resolve(data.path(), "../etc").is_err());
    }
}
