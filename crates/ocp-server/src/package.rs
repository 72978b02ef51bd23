//! The software packages the server stores and its agents install.
//!
//! An upload is streamed to `DATA_DIR/packages/` while its SHA-1 (OCP's field) and SHA-256
//! (what agents check) are computed. Name, version and architecture come from the file
//! name (`NAME-VERSION-RELEASE.OS.ARCH.rpm` or a wheel's `NAME-VERSION-PY-ABI-PLATFORM.whl`).
//! A server package must hold a server binary that this platform can start (seekdb's
//! wheel holds `pylibseekdb/seekdb`); other packages are stored for their record only.
//! Every file operation goes through `tokio::fs` or a blocking thread, and a stored package
//! is synced, file and directory, before its row is written.

use std::path::{Path, PathBuf};

use ocp_api::obdb::PackageType;
use ocp_api::ErrorCode;
use ocp_store::{PackageRecord, Store};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt as _;

use crate::error::Failure;

/// The largest package accepted.
const MAX_PACKAGE_BYTES: u64 = 4 << 30;

/// Where seekdb's server binary lies in its wheel.
pub const SEEKDB_BINARY: &str = "pylibseekdb/seekdb";

pub fn packages_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("packages")
}

/// Where a stored package's file lies.
pub fn stored_path(data_dir: &Path, p: &PackageRecord) -> PathBuf {
    packages_dir(data_dir).join(format!("{}.{}", p.sha256, p.extension))
}

/// What a package's file name tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    pub name: String,
    pub version: String,
    pub build_number: String,
    pub operating_system: String,
    pub architecture: String,
    pub extension: String,
}

pub fn parse_file_name(file: &str) -> Result<FileName, Failure> {
    let bad = || {
        Failure::field(
            "file",
            format!(
                "{file:?} is neither NAME-VERSION-RELEASE.OS.ARCH.rpm nor a wheel \
                 NAME-VERSION-PY-ABI-PLATFORM.whl"
            ),
        )
    };
    if file.contains('/') || file.contains('\\') || file.starts_with('.') {
        return Err(bad());
    }
    if let Some(stem) = file.strip_suffix(".whl") {
        let parts: Vec<&str> = stem.split('-').collect();
        if parts.len() < 5 {
            return Err(bad());
        }
        let platform = parts[parts.len() - 1];
        let arch = ["x86_64", "aarch64", "arm64"]
            .into_iter()
            .find(|a| platform.ends_with(a))
            .unwrap_or("noarch");
        let os = platform
            .strip_suffix(arch)
            .unwrap_or(platform)
            .trim_end_matches('_');
        return Ok(FileName {
            name: parts[0].to_string(),
            version: parts[1].to_string(),
            build_number: parts[2..parts.len() - 1].join("-"),
            operating_system: os.to_string(),
            architecture: arch.to_string(),
            extension: "whl".to_string(),
        });
    }
    if let Some(stem) = file.strip_suffix(".rpm") {
        let mut dots = stem.rsplitn(3, '.');
        let (arch, os, rest) = (dots.next(), dots.next(), dots.next());
        let (Some(arch), Some(os), Some(rest)) = (arch, os, rest) else {
            return Err(bad());
        };
        let mut dashes = rest.rsplitn(3, '-');
        let (release, version, name) = (dashes.next(), dashes.next(), dashes.next());
        let (Some(release), Some(version), Some(name)) = (release, version, name) else {
            return Err(bad());
        };
        return Ok(FileName {
            name: name.into(),
            version: version.into(),
            build_number: release.into(),
            operating_system: os.into(),
            architecture: arch.into(),
            extension: "rpm".into(),
        });
    }
    Err(bad())
}

fn package_type(name: &str) -> PackageType {
    if name.contains("ocp-agent") || name.contains("ocp_agent") {
        PackageType::OcpAgentInstallPackage
    } else if name.contains("obproxy") {
        PackageType::ObproxyInstallPackage
    } else if name.contains("backup") {
        PackageType::ObBackupAgentInstallPackage
    } else {
        PackageType::ObServerInstallPackage
    }
}

/// An upload on its way to disk: chunks go to a temporary file and into both hashes. Dropped
/// before [`Upload::store`], it removes its file.
pub struct Upload {
    path: PathBuf,
    file: tokio::fs::File,
    sha1: Sha1,
    sha256: Sha256,
    size: u64,
}

impl Upload {
    pub async fn begin(data_dir: &Path) -> Result<Self, Failure> {
        let dir = packages_dir(data_dir);
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(Failure::internal)?;
        let path = dir.join(format!(".upload-{}", uuid::Uuid::new_v4()));
        let file = tokio::fs::File::create(&path)
            .await
            .map_err(Failure::internal)?;
        Ok(Self {
            path,
            file,
            sha1: Sha1::new(),
            sha256: Sha256::new(),
            size: 0,
        })
    }

    pub async fn take(&mut self, chunk: &[u8]) -> Result<(), Failure> {
        self.size += chunk.len() as u64;
        if self.size > MAX_PACKAGE_BYTES {
            return Err(Failure::field("file", "is larger than 4 GiB"));
        }
        self.sha1.update(chunk);
        self.sha256.update(chunk);
        self.file.write_all(chunk).await.map_err(Failure::internal)
    }

    /// Checks the upload as the package `file_name`, moves it into place and records it; the
    /// new package's id.
    pub async fn store(
        self,
        store: &Store,
        data_dir: &Path,
        file_name: String,
    ) -> Result<i64, Failure> {
        if self.size == 0 {
            return Err(Failure::field("file", "is empty"));
        }
        let parsed = parse_file_name(&file_name)?;
        if store.package_by_file_name(&file_name).await?.is_some() {
            return Err(Failure::new(
                ErrorCode::AlreadyExists,
                format!("software package {file_name} already exists"),
            )
            .with_field("file"));
        }
        self.file.sync_all().await.map_err(Failure::internal)?;
        let kind = package_type(&parsed.name);
        let binary_path =
            if kind == PackageType::ObServerInstallPackage && parsed.extension == "whl" {
                let path = self.path.clone();
                let has_binary = tokio::task::spawn_blocking(move || -> bool {
                    std::fs::File::open(&path)
                        .ok()
                        .and_then(|f| zip::ZipArchive::new(f).ok())
                        .is_some_and(|mut z| z.by_name(SEEKDB_BINARY).is_ok())
                })
                .await
                .map_err(Failure::internal)?;
                if !has_binary {
                    return Err(Failure::field(
                        "file",
                        format!(
                            "the wheel holds no {SEEKDB_BINARY}; it is not a seekdb server package"
                        ),
                    ));
                }
                Some(SEEKDB_BINARY.to_string())
            } else {
                None
            };
        let record = PackageRecord {
            id: 0,
            name: parsed.name,
            file_name,
            extension: parsed.extension,
            size: self.size as i64,
            sha1: hex::encode(self.sha1.clone().finalize()),
            sha256: hex::encode(self.sha256.clone().finalize()),
            package_type: kind,
            version: parsed.version,
            build_number: parsed.build_number,
            operating_system: parsed.operating_system,
            architecture: parsed.architecture,
            binary_path,
            create_time: 0,
        };
        let stored = stored_path(data_dir, &record);
        let dir = packages_dir(data_dir);
        let from = self.path.clone();
        let to = stored.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            std::fs::rename(&from, &to)?;
            std::fs::File::open(&dir)?.sync_all()
        })
        .await
        .map_err(Failure::internal)?
        .map_err(Failure::internal)?;
        match store.create_package(&record).await {
            Ok(id) => Ok(id),
            Err(e) => {
                let _ = tokio::fs::remove_file(&stored).await;
                Err(e.into())
            }
        }
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        // After a successful store the file was renamed away, and this finds nothing.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Deletes a package that no cluster runs, row first, then its file.
pub async fn delete(store: &Store, data_dir: &Path, id: i64) -> Result<(), Failure> {
    let package = store.package(id).await?;
    let users = store.clusters_using_package(id).await?;
    if !users.is_empty() {
        return Err(Failure::new(
            ErrorCode::StateConflict,
            format!("clusters {} run {}", users.join(", "), package.file_name),
        ));
    }
    store.delete_package(id).await?;
    let _ = tokio::fs::remove_file(stored_path(data_dir, &package)).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_tell_name_version_and_architecture() {
        let wheel =
            parse_file_name("pylibseekdb-1.4.0.post1-cp311-cp311-manylinux_2_28_x86_64.whl")
                .unwrap();
        assert_eq!(
            wheel,
            FileName {
                name: "pylibseekdb".into(),
                version: "1.4.0.post1".into(),
                build_number: "cp311-cp311".into(),
                operating_system: "manylinux_2_28".into(),
                architecture: "x86_64".into(),
                extension: "whl".into(),
            }
        );
        let rpm = parse_file_name("oceanbase-2.2.76-20210219154519.el7.x86_64.rpm").unwrap();
        assert_eq!(
            rpm,
            FileName {
                name: "oceanbase".into(),
                version: "2.2.76".into(),
                build_number: "20210219154519".into(),
                operating_system: "el7".into(),
                architecture: "x86_64".into(),
                extension: "rpm".into(),
            }
        );
        assert!(parse_file_name("../x.rpm").is_err());
        assert!(parse_file_name("seekdb.tar.gz").is_err());
    }
}
