//! Backup sets on this host's storage: a stopped server's `etc/` and `store/` written as one
//! zstd-compressed tar stream, hashed as it is written, with the manifest written last; and
//! the reverse, which verifies every file against the manifest before it touches the
//! server's directory.
//!
//! A set directory without `manifest.json` is unfinished: a new write of the same set removes
//! it, and a restore refuses it.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use ocp_api::backup::{
    BackupFile, BackupManifest, BackupMode, BackupSetLocation, BackupStorageDir, ListBackupSets,
    RestoreBackupSet, StorageSpace, VerifiedSet, WriteBackupSet,
};
use sha2::{Digest, Sha256};

use crate::install::resolve;
use crate::storage::{sync_dir, SetFile, Storage};

pub use crate::storage::MANIFEST;
pub const DATA: &str = "data.tar.zst";
/// What a physical set holds of a server's base directory.
const PARTS: [&str; 2] = ["etc", "store"];
/// In a restored base directory: the restore began (which set, which restore).
const RESTORING: &str = ".ocp-restoring";
/// In a restored base directory: the restore finished.
const RESTORED: &str = ".ocp-restored";
/// In a base directory restored in place: its data before the restore, until it is done.
const PREVIOUS: &str = ".ocp-restore-previous";
/// Where a set is unpacked before its parts are moved into place.
const STAGING: &str = ".ocp-restore-staging";

/// A writer that hashes and counts what passes through it.
pub(crate) struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Whether a set is to be written: finished already (its manifest), or fresh.
pub(crate) enum Begun {
    Finished(BackupManifest),
    Fresh,
}

/// Opens a set for writing. A finished set of the same id is answered as it is; an
/// unfinished one is removed.
pub(crate) fn begin_set(storage: &Storage, request: &WriteBackupSet) -> anyhow::Result<Begun> {
    let set = &request.set_name;
    if let Some(manifest) = storage.read_manifest(set)? {
        anyhow::ensure!(
            manifest.backup_set_id == request.backup_set_id,
            "{} holds backup set {} already",
            storage.show(set),
            manifest.backup_set_id
        );
        return Ok(Begun::Finished(manifest));
    }
    if storage.holds(set)? {
        storage
            .remove(set)
            .with_context(|| format!("removing the unfinished set {}", storage.show(set)))?;
    }
    storage.prepare(set)?;
    Ok(Begun::Fresh)
}

/// A set's file being written: zstd level 1 over a hashing, counting writer.
pub(crate) type Compressed = zstd::Encoder<'static, Hashing<SetFile>>;

/// Compression runs on a worker thread of zstd's own, so reading what is compressed overlaps
/// with compressing it, as it does in `tar | zstd` or `mariadb-dump | zstd`.
pub(crate) fn create_compressed(
    storage: &Storage,
    set: &str,
    name: &str,
) -> anyhow::Result<Compressed> {
    let mut encoder = zstd::Encoder::new(
        Hashing {
            inner: storage.create(set, name)?,
            hasher: Sha256::new(),
            bytes: 0,
        },
        1,
    )?;
    encoder.multithread(1)?;
    Ok(encoder)
}

/// Ends a compressed file, makes it durable and answers it as the manifest lists it.
pub(crate) fn finish_compressed(encoder: Compressed, name: &str) -> anyhow::Result<BackupFile> {
    let mut hashing = encoder.finish()?;
    hashing.flush()?;
    let (sha256, size) = (hex::encode(hashing.hasher.finalize()), hashing.bytes);
    hashing.inner.finish()?;
    Ok(BackupFile {
        name: name.into(),
        size,
        sha256,
    })
}

/// Writes a small file of a set, durably, and answers it as the manifest lists it.
pub(crate) fn write_plain(
    storage: &Storage,
    set: &str,
    name: &str,
    bytes: &[u8],
) -> anyhow::Result<BackupFile> {
    storage.put(set, name, bytes)?;
    Ok(BackupFile {
        name: name.into(),
        size: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(bytes)),
    })
}

/// Writes a physical backup set of a stopped server. A finished set of the same id is
/// answered as it is; an unfinished one is removed and written again.
pub fn write_set(data_dir: &Path, request: &WriteBackupSet) -> anyhow::Result<BackupManifest> {
    anyhow::ensure!(
        request.mode == BackupMode::PhysicalBackup,
        "a {} set is dumped, not copied",
        request.mode
    );
    let home = resolve(data_dir, &request.home_path)?;
    let storage = Storage::open(&request.storage, data_dir)?;
    let set = &request.set_name;
    if let Begun::Finished(manifest) = begin_set(&storage, request)? {
        return Ok(manifest);
    }
    for part in PARTS {
        anyhow::ensure!(
            home.join(part).is_dir(),
            "{} has no {part}/: it is not a server's base directory",
            home.display()
        );
    }
    let start_time_ms = ocp_api::time::now_millis();
    let mut builder = tar::Builder::new(create_compressed(&storage, set, DATA)?);
    builder.follow_symlinks(false);
    builder.sparse(true);
    for part in PARTS {
        builder
            .append_dir_all(part, home.join(part))
            .with_context(|| format!("reading {}", home.join(part).display()))?;
    }
    let data = finish_compressed(builder.into_inner()?, DATA)?;
    let manifest = BackupManifest {
        files: vec![data],
        start_time_ms,
        ..manifest_of(request, BackupMode::PhysicalBackup)
    };
    storage.write_manifest(set, &manifest)?;
    Ok(manifest)
}

/// A manifest of the request's set, its times now and without files yet.
pub(crate) fn manifest_of(request: &WriteBackupSet, mode: BackupMode) -> BackupManifest {
    let now = ocp_api::time::now_millis();
    BackupManifest {
        format: 1,
        backup_set_id: request.backup_set_id,
        cluster_id: request.cluster_id,
        cluster_name: request.cluster_name.clone(),
        server_id: request.server_id,
        ob_version: request.ob_version.clone(),
        mode,
        start_time_ms: now,
        end_time_ms: now,
        files: Vec::new(),
        databases: Vec::new(),
        users: Vec::new(),
    }
}

/// Checks a set that may be absent or unfinished: its manifest once every file matched it.
pub fn check_set(data_dir: &Path, location: &BackupSetLocation) -> anyhow::Result<VerifiedSet> {
    let storage = Storage::open(&location.storage, data_dir)?;
    let Some(manifest) = storage.read_manifest(&location.set_name)? else {
        return Ok(VerifiedSet { manifest: None });
    };
    verify_files(&storage, &location.set_name, &manifest)?;
    Ok(VerifiedSet {
        manifest: Some(manifest),
    })
}

/// The space of the filesystem the storage directory is on, or of its nearest existing
/// parent while no set has made it.
pub fn storage_space(request: &BackupStorageDir) -> anyhow::Result<StorageSpace> {
    let mut dir = crate::storage::storage_dir(&request.storage_dir)?;
    while !dir.exists() {
        if !dir.pop() {
            anyhow::bail!("{} has no existing parent", request.storage_dir);
        }
    }
    let stat = nix::sys::statvfs::statvfs(&dir)
        .with_context(|| format!("reading the filesystem of {}", dir.display()))?;
    let block = stat.fragment_size() as u64;
    let total = stat.blocks() as u64 * block;
    let free = stat.blocks_free() as u64 * block;
    Ok(StorageSpace {
        total_bytes: total,
        used_bytes: total.saturating_sub(free),
    })
}

/// The manifests of the finished sets in a storage, newest first: every `backup_set_*` set
/// holding one, whoever wrote it. Unfinished sets are left out.
pub fn list_sets(data_dir: &Path, request: &ListBackupSets) -> anyhow::Result<Vec<BackupManifest>> {
    let storage = Storage::open(&request.storage, data_dir)?;
    let mut sets = Vec::new();
    for name in storage.set_names()? {
        match storage.read_manifest(&name) {
            Ok(Some(manifest)) => sets.push(manifest),
            Ok(None) => {}
            Err(e) => tracing::warn!("{name}: {e:#}"),
        }
    }
    sets.sort_by_key(|m| std::cmp::Reverse((m.start_time_ms, m.backup_set_id)));
    Ok(sets)
}

/// Removes a set: its manifest first, so a set half removed is unfinished and never restored.
/// Answers whether there was one.
pub fn delete_set(data_dir: &Path, location: &BackupSetLocation) -> anyhow::Result<bool> {
    Storage::open(&location.storage, data_dir)?.remove(&location.set_name)
}

/// Checks every file of a finished set against its manifest.
pub(crate) fn verify_set(storage: &Storage, set: &str) -> anyhow::Result<BackupManifest> {
    let manifest = storage.read_manifest(set)?.with_context(|| {
        format!(
            "{} is not a finished backup set (it has no {MANIFEST})",
            storage.show(set)
        )
    })?;
    verify_files(storage, set, &manifest)?;
    Ok(manifest)
}

/// Checks every file a manifest lists: its size and SHA-256.
fn verify_files(storage: &Storage, set: &str, manifest: &BackupManifest) -> anyhow::Result<()> {
    for f in &manifest.files {
        anyhow::ensure!(
            !f.name.contains('/') && f.name != MANIFEST,
            "the manifest names {:?}, which is not a file of the set",
            f.name
        );
        let mut file = storage.read(set, &f.name)?;
        let mut hasher = Sha256::new();
        let size = std::io::copy(&mut file, &mut hasher)
            .with_context(|| format!("reading {}/{}", storage.show(set), f.name))?;
        let sha256 = hex::encode(hasher.finalize());
        anyhow::ensure!(
            size == f.size && sha256 == f.sha256,
            "checksum mismatch: {}/{} has {size} bytes with sha256 {sha256}, the manifest \
             says {} bytes with sha256 {}; the backup set is damaged",
            storage.show(set),
            f.name,
            f.size,
            f.sha256
        );
    }
    Ok(())
}

/// Unpacks a verified set into a server's base directory. Nothing is written before every
/// checksum matched. Without `replace` the directory must hold no data; with it, its `etc/`
/// and `store/` are moved aside first, put back if the unpack fails, and removed once the
/// set is in place. A call repeated after a crash goes on from where the first stopped; one
/// repeated after it finished is answered as done.
pub fn restore_set(data_dir: &Path, request: &RestoreBackupSet) -> anyhow::Result<BackupManifest> {
    let storage = Storage::open(&request.storage, data_dir)?;
    let set = &request.set_name;
    let home = resolve(data_dir, &request.home_path)?;
    let token = format!("{} {}", request.set_name, request.restore_id);
    let previous = home.join(PREVIOUS);
    let marked = |name: &str| std::fs::read_to_string(home.join(name)).ok() == Some(token.clone());
    if marked(RESTORED) {
        if previous.exists() {
            std::fs::remove_dir_all(&previous)?;
        }
        return storage
            .read_manifest(set)?
            .context("the restored set has lost its manifest");
    }
    let manifest = verify_set(&storage, set)?;
    anyhow::ensure!(
        manifest.mode == BackupMode::PhysicalBackup,
        "backup set {} is {}, not a physical set",
        manifest.backup_set_id,
        manifest.mode
    );
    std::fs::create_dir_all(&home)?;
    if marked(RESTORING) {
        // An earlier call stopped half way: what it unpacked goes; what it moved aside stays.
        for part in PARTS {
            if home.join(part).exists() {
                std::fs::remove_dir_all(home.join(part))?;
            }
        }
    } else {
        anyhow::ensure!(
            !previous.exists(),
            "{} holds data an unfinished restore moved aside; put it back by hand",
            previous.display()
        );
        let held: Vec<&str> = PARTS
            .into_iter()
            .filter(|p| home.join(p).exists())
            .collect();
        if !held.is_empty() {
            anyhow::ensure!(
                request.replace,
                "{} holds data already; a restore goes into an empty base directory",
                home.display()
            );
            std::fs::create_dir(&previous)?;
            for part in held {
                std::fs::rename(home.join(part), previous.join(part))?;
            }
            sync_dir(&home)?;
        }
        let _ = std::fs::remove_file(home.join(RESTORED));
        std::fs::write(home.join(RESTORING), &token)?;
    }
    if let Err(e) = unpack(&storage, set, &home) {
        put_back(&home)?;
        return Err(e);
    }
    // Every unpacked file reaches the disk before the restore says it is done.
    let opened = File::open(&home)?;
    nix::unistd::syncfs(std::os::fd::AsRawFd::as_raw_fd(&opened))
        .context("syncing the restored files")?;
    std::fs::write(home.join(RESTORED), &token)?;
    std::fs::remove_file(home.join(RESTORING))?;
    sync_dir(&home)?;
    if previous.exists() {
        std::fs::remove_dir_all(&previous)?;
    }
    Ok(manifest)
}

/// Unpacks a set's data into a staging directory inside `home`, then moves its parts into
/// place.
fn unpack(storage: &Storage, set: &str, home: &Path) -> anyhow::Result<()> {
    let staging = home.join(STAGING);
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir(&staging)?;
    let data = storage.read(set, DATA)?;
    let mut archive = tar::Archive::new(zstd::Decoder::new(data)?);
    archive.set_preserve_permissions(true);
    archive.set_overwrite(false);
    archive
        .unpack(&staging)
        .with_context(|| format!("unpacking {} into {}", storage.show(set), staging.display()))?;
    for part in PARTS {
        std::fs::rename(staging.join(part), home.join(part))?;
    }
    std::fs::remove_dir(&staging)?;
    Ok(())
}

/// After a failed unpack: removes what it left and puts the data moved aside back.
fn put_back(home: &Path) -> anyhow::Result<()> {
    let staging = home.join(STAGING);
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    let previous = home.join(PREVIOUS);
    for part in PARTS {
        if previous.join(part).exists() {
            if home.join(part).exists() {
                std::fs::remove_dir_all(home.join(part))?;
            }
            std::fs::rename(previous.join(part), home.join(part))?;
        }
    }
    if previous.exists() {
        std::fs::remove_dir(&previous)?;
    }
    std::fs::remove_file(home.join(RESTORING))?;
    sync_dir(home)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn file_storage(dir: &Path) -> ocp_api::backup::SetStorage {
        ocp_api::backup::SetStorage::File {
            dir: dir.display().to_string(),
        }
    }

    fn request(home: &Path, storage: &Path) -> WriteBackupSet {
        WriteBackupSet {
            mode: BackupMode::PhysicalBackup,
            home_path: home.display().to_string(),
            sql_port: 0,
            storage: file_storage(storage),
            set_name: "backup_set_7".into(),
            backup_set_id: 7,
            cluster_id: 1,
            cluster_name: "c1".into(),
            server_id: 2,
            ob_version: "v".into(),
        }
    }

    fn server_dir(root: &Path) -> PathBuf {
        let home = root.join("home");
        std::fs::create_dir_all(home.join("etc")).unwrap();
        std::fs::create_dir_all(home.join("store/clog")).unwrap();
        std::fs::write(home.join("etc/observer.config.bin"), b"config").unwrap();
        // A sparse data file, as seekdb preallocates them.
        let block = File::create(home.join("store/block_file")).unwrap();
        block.set_len(64 << 20).unwrap();
        std::fs::write(home.join("store/clog/1"), vec![7u8; 10_000]).unwrap();
        std::fs::write(home.join("log.txt"), b"not in the set").unwrap();
        home
    }

    #[test]
    fn a_set_restores_what_was_written_and_refuses_a_flipped_byte() {
        let root = tempfile::tempdir().unwrap();
        let home = server_dir(root.path());
        let storage = root.path().join("storage");
        let manifest = write_set(root.path(), &request(&home, &storage)).unwrap();
        let set = storage.join("backup_set_7");
        assert_eq!(
            manifest.files[0].size,
            std::fs::read(set.join(DATA)).unwrap().len() as u64
        );
        assert!(manifest.files[0].size < 1 << 20, "sparse and compressed");
        // Written again: the finished set is answered as it is.
        assert_eq!(
            write_set(root.path(), &request(&home, &storage)).unwrap(),
            manifest
        );

        let target = root.path().join("restored");
        let restore = RestoreBackupSet {
            storage: file_storage(&storage),
            set_name: "backup_set_7".into(),
            home_path: target.display().to_string(),
            restore_id: 1,
            replace: false,
        };
        restore_set(root.path(), &restore).unwrap();
        assert_eq!(
            std::fs::read(target.join("etc/observer.config.bin")).unwrap(),
            b"config"
        );
        assert_eq!(
            std::fs::read(target.join("store/clog/1")).unwrap(),
            vec![7u8; 10_000]
        );
        let meta = std::fs::metadata(target.join("store/block_file")).unwrap();
        assert_eq!(meta.len(), 64 << 20);
        assert!(!target.join("log.txt").exists());
        // Again: done already.
        restore_set(root.path(), &restore).unwrap();

        let mut bytes = std::fs::read(set.join(DATA)).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 1;
        std::fs::write(set.join(DATA), bytes).unwrap();
        let other = root.path().join("other");
        let error = restore_set(
            root.path(),
            &RestoreBackupSet {
                home_path: other.display().to_string(),
                ..restore
            },
        )
        .unwrap_err();
        assert!(
            format!("{error:#}").contains("checksum mismatch"),
            "{error:#}"
        );
        assert!(!other.exists(), "nothing was written");
    }

    #[test]
    fn an_unfinished_set_is_never_restored_and_is_written_again() {
        let root = tempfile::tempdir().unwrap();
        let home = server_dir(root.path());
        let storage = root.path().join("storage");
        let set = storage.join("backup_set_7");
        std::fs::create_dir_all(&set).unwrap();
        std::fs::write(set.join(DATA), b"half").unwrap();
        let restore = RestoreBackupSet {
            storage: file_storage(&storage),
            set_name: "backup_set_7".into(),
            home_path: root.path().join("r").display().to_string(),
            restore_id: 1,
            replace: false,
        };
        let error = restore_set(root.path(), &restore).unwrap_err();
        assert!(format!("{error:#}").contains("not a finished backup set"));
        write_set(root.path(), &request(&home, &storage)).unwrap();
        restore_set(root.path(), &restore).unwrap();
    }

    #[test]
    fn a_restore_in_place_replaces_the_data_and_a_failed_one_puts_it_back() {
        let root = tempfile::tempdir().unwrap();
        let home = server_dir(root.path());
        let storage = root.path().join("storage");
        let manifest = write_set(root.path(), &request(&home, &storage)).unwrap();
        let config = home.join("etc/observer.config.bin");
        std::fs::write(&config, b"changed").unwrap();
        let restore = RestoreBackupSet {
            storage: file_storage(&storage),
            set_name: "backup_set_7".into(),
            home_path: home.display().to_string(),
            restore_id: 1,
            replace: false,
        };
        let refused = restore_set(root.path(), &restore).unwrap_err();
        assert!(format!("{refused:#}").contains("holds data already"));
        assert_eq!(std::fs::read(&config).unwrap(), b"changed");

        let restore = RestoreBackupSet {
            replace: true,
            ..restore
        };
        restore_set(root.path(), &restore).unwrap();
        assert_eq!(std::fs::read(&config).unwrap(), b"config");
        assert!(!home.join(PREVIOUS).exists());
        assert!(home.join("log.txt").exists(), "what is not in a set stays");
        // The same restore again is done; a new one of the same set runs again.
        std::fs::write(&config, b"changed").unwrap();
        restore_set(root.path(), &restore).unwrap();
        assert_eq!(std::fs::read(&config).unwrap(), b"changed");
        let again = RestoreBackupSet {
            restore_id: 2,
            ..restore.clone()
        };
        restore_set(root.path(), &again).unwrap();
        assert_eq!(std::fs::read(&config).unwrap(), b"config");

        // A set that matches its manifest but cannot be unpacked: the data is put back.
        std::fs::write(&config, b"kept").unwrap();
        let broken = storage.join("backup_set_8");
        std::fs::create_dir_all(&broken).unwrap();
        let garbage = vec![0x5au8; 4096];
        std::fs::write(broken.join(DATA), &garbage).unwrap();
        let bad = BackupManifest {
            backup_set_id: 8,
            files: vec![BackupFile {
                name: DATA.into(),
                size: garbage.len() as u64,
                sha256: hex::encode(Sha256::digest(&garbage)),
            }],
            ..manifest
        };
        std::fs::write(broken.join(MANIFEST), serde_json::to_vec(&bad).unwrap()).unwrap();
        let failed = restore_set(
            root.path(),
            &RestoreBackupSet {
                set_name: "backup_set_8".into(),
                restore_id: 3,
                ..restore
            },
        );
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&config).unwrap(), b"kept");
        assert!(home.join("store/clog/1").exists());
        assert!(!home.join(PREVIOUS).exists());
        assert!(!home.join(RESTORING).exists());
        assert!(!home.join(STAGING).exists());
    }
}
