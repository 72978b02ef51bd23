//! Where backup sets are kept: a directory on this host, or a bucket of an S3-compatible
//! object storage (through `object_store`). Both look the same to the backup code: a set is
//! a named group of files written as streams, read back as streams, and finished once its
//! manifest is there. The backup code runs on blocking threads, so the object storage's
//! async calls are driven from here with the runtime's handle.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use ocp_api::backup::{BackupManifest, SetStorage};
use tokio::runtime::Handle;
use tokio_util::io::SyncIoBridge;

pub const MANIFEST: &str = "manifest.json";

/// A storage opened for one piece of backup work.
pub(crate) enum Storage {
    Dir(PathBuf),
    Bucket(Bucket),
}

pub(crate) struct Bucket {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    runtime: Handle,
    shown: String,
}

/// A file of a set being written: close it with [`SetFile::finish`], or it was never
/// written (an object upload not finished is not there).
pub(crate) enum SetFile {
    File(BufWriter<File>),
    Object(Box<SyncIoBridge<object_store::buffered::BufWriter>>),
}

impl Write for SetFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            SetFile::File(w) => w.write(buf),
            SetFile::Object(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            SetFile::File(w) => w.flush(),
            // An object is sent in parts as they fill, and whole at the end.
            SetFile::Object(_) => Ok(()),
        }
    }
}

impl SetFile {
    /// Ends the file: synced to disk, or its upload completed.
    pub(crate) fn finish(self) -> anyhow::Result<()> {
        match self {
            SetFile::File(w) => w.into_inner().map_err(|e| e.into_error())?.sync_all()?,
            SetFile::Object(mut w) => w.shutdown().context("completing the upload")?,
        }
        Ok(())
    }
}

/// A set's name: `backup_set_N` or another plain name, never a path.
fn check_set_name(set: &str) -> anyhow::Result<()> {
    let ok = (1..=128).contains(&set.len())
        && set
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
    anyhow::ensure!(ok, "{set:?} is not a backup set name");
    Ok(())
}

pub(crate) fn storage_dir(path: &str) -> anyhow::Result<PathBuf> {
    let dir = Path::new(path);
    if !dir.is_absolute()
        || dir
            .components()
            .any(|c| c == std::path::Component::ParentDir)
    {
        anyhow::bail!("the backup storage {path:?} must be an absolute path without ..");
    }
    Ok(dir.to_path_buf())
}

fn not_found(e: &object_store::Error) -> bool {
    matches!(e, object_store::Error::NotFound { .. })
}

impl Storage {
    /// Opens the storage a server named. An S3 key's secret travels sealed with this
    /// agent's own secret, read from `data_dir`.
    pub(crate) fn open(spec: &SetStorage, data_dir: &Path) -> anyhow::Result<Self> {
        match spec {
            SetStorage::File { dir } => Ok(Storage::Dir(storage_dir(dir)?)),
            SetStorage::S3 {
                endpoint,
                region,
                bucket,
                prefix,
                access_key_id,
                sealed_secret,
            } => {
                let credentials = crate::config::load_credentials(data_dir)?
                    .context("the agent is not registered with a server yet")?;
                let secret = ocp_api::agent::open_from_server(&credentials.secret, sealed_secret)
                    .map_err(anyhow::Error::msg)?;
                let store = AmazonS3Builder::new()
                    .with_endpoint(endpoint)
                    .with_allow_http(endpoint.starts_with("http://"))
                    .with_virtual_hosted_style_request(false)
                    .with_region(region)
                    .with_bucket_name(bucket)
                    .with_access_key_id(access_key_id)
                    .with_secret_access_key(secret)
                    .build()
                    .with_context(|| format!("opening s3://{bucket}/ at {endpoint}"))?;
                Ok(Storage::Bucket(Bucket {
                    store: Arc::new(store),
                    prefix: prefix.trim_matches('/').to_string(),
                    runtime: Handle::current(),
                    shown: spec.to_string(),
                }))
            }
        }
    }

    /// Where a set is, for messages: `/dir/backup_set_7` or `s3://bucket/prefix/backup_set_7`.
    pub(crate) fn show(&self, set: &str) -> String {
        match self {
            Storage::Dir(dir) => dir.join(set).display().to_string(),
            Storage::Bucket(b) => format!("{}{set}", b.shown),
        }
    }

    /// The set's manifest, if the set was finished.
    pub(crate) fn read_manifest(&self, set: &str) -> anyhow::Result<Option<BackupManifest>> {
        check_set_name(set)?;
        let bytes = match self {
            Storage::Dir(dir) => match std::fs::read(dir.join(set).join(MANIFEST)) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e.into()),
            },
            Storage::Bucket(b) => {
                let got = b
                    .runtime
                    .block_on(async { b.store.get(&b.key(set, MANIFEST)).await?.bytes().await });
                match got {
                    Ok(bytes) => bytes.to_vec(),
                    Err(e) if not_found(&e) => return Ok(None),
                    Err(e) => return Err(e.into()),
                }
            }
        };
        Ok(Some(serde_json::from_slice(&bytes).with_context(|| {
            format!("{}/{MANIFEST} is not a backup manifest", self.show(set))
        })?))
    }

    /// Whether anything of the set is there (finished or not).
    pub(crate) fn holds(&self, set: &str) -> anyhow::Result<bool> {
        check_set_name(set)?;
        match self {
            Storage::Dir(dir) => Ok(dir.join(set).exists()),
            Storage::Bucket(b) => Ok(!b.keys_of(set)?.is_empty()),
        }
    }

    /// Removes the set: its manifest first, so a set half removed is unfinished and never
    /// restored. Answers whether there was anything.
    pub(crate) fn remove(&self, set: &str) -> anyhow::Result<bool> {
        check_set_name(set)?;
        match self {
            Storage::Dir(dir) => {
                let dir = dir.join(set);
                if !dir.exists() {
                    return Ok(false);
                }
                match std::fs::remove_file(dir.join(MANIFEST)) {
                    Ok(()) => sync_dir(&dir)?,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e.into()),
                }
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("removing the backup set {}", dir.display()))?;
                Ok(true)
            }
            Storage::Bucket(b) => {
                let keys = b.keys_of(set)?;
                if keys.is_empty() {
                    return Ok(false);
                }
                let manifest = b.key(set, MANIFEST);
                b.runtime.block_on(async {
                    match b.store.delete(&manifest).await {
                        Err(e) if !not_found(&e) => return Err(e),
                        _ => {}
                    }
                    let rest: Vec<_> = keys.into_iter().filter(|k| *k != manifest).collect();
                    let rest = futures::stream::iter(rest.into_iter().map(Ok)).boxed();
                    b.store.delete_stream(rest).try_collect::<Vec<_>>().await?;
                    Ok(())
                })?;
                Ok(true)
            }
        }
    }

    /// Makes room for a fresh set (its directory, for a directory storage).
    pub(crate) fn prepare(&self, set: &str) -> anyhow::Result<()> {
        check_set_name(set)?;
        if let Storage::Dir(dir) = self {
            let dir = dir.join(set);
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("making the backup set directory {}", dir.display()))?;
        }
        Ok(())
    }

    /// Starts writing one file of a set, streamed: to disk, or to the bucket in parts.
    pub(crate) fn create(&self, set: &str, name: &str) -> anyhow::Result<SetFile> {
        Ok(match self {
            Storage::Dir(dir) => {
                let path = dir.join(set).join(name);
                let file =
                    File::create(&path).with_context(|| format!("creating {}", path.display()))?;
                SetFile::File(BufWriter::with_capacity(1 << 20, file))
            }
            Storage::Bucket(b) => {
                let writer = object_store::buffered::BufWriter::with_capacity(
                    b.store.clone(),
                    b.key(set, name),
                    16 << 20,
                );
                SetFile::Object(Box::new(SyncIoBridge::new_with_handle(
                    writer,
                    b.runtime.clone(),
                )))
            }
        })
    }

    /// Reads one file of a set, streamed.
    pub(crate) fn read(&self, set: &str, name: &str) -> anyhow::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Storage::Dir(dir) => {
                let path = dir.join(set).join(name);
                Box::new(std::io::BufReader::with_capacity(
                    1 << 20,
                    File::open(&path).with_context(|| format!("opening {}", path.display()))?,
                ))
            }
            Storage::Bucket(b) => {
                let key = b.key(set, name);
                let got = b
                    .runtime
                    .block_on(b.store.get(&key))
                    .with_context(|| format!("reading {}/{name}", self.show(set)))?;
                let stream = got.into_stream().map_err(std::io::Error::other);
                let reader = tokio_util::io::StreamReader::new(stream);
                Box::new(std::io::BufReader::with_capacity(
                    1 << 20,
                    SyncIoBridge::new_with_handle(reader, b.runtime.clone()),
                ))
            }
        })
    }

    /// Writes a small file of a set whole, durably.
    pub(crate) fn put(&self, set: &str, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
        match self {
            Storage::Dir(dir) => {
                let mut file = File::create(dir.join(set).join(name))?;
                file.write_all(bytes)?;
                file.sync_all()?;
            }
            Storage::Bucket(b) => {
                let payload = PutPayload::from(bytes.to_vec());
                b.runtime
                    .block_on(b.store.put(&b.key(set, name), payload))
                    .with_context(|| format!("writing {}/{name}", self.show(set)))?;
            }
        }
        Ok(())
    }

    /// Writes the manifest last. In a directory: `.partial`, synced, renamed, the directory
    /// synced; in a bucket one PUT, which makes the object whole or not at all. Only then is
    /// the set finished.
    pub(crate) fn write_manifest(
        &self,
        set: &str,
        manifest: &BackupManifest,
    ) -> anyhow::Result<()> {
        let bytes = serde_json::to_vec_pretty(manifest)?;
        match self {
            Storage::Dir(dir) => {
                let dir = dir.join(set);
                let partial = dir.join(format!("{MANIFEST}.partial"));
                std::fs::write(&partial, bytes)?;
                File::open(&partial)?.sync_all()?;
                std::fs::rename(&partial, dir.join(MANIFEST))?;
                sync_dir(&dir)?;
                Ok(())
            }
            Storage::Bucket(_) => self.put(set, MANIFEST, &bytes),
        }
    }

    /// The names of the sets the storage holds (`backup_set_*`), finished or not.
    pub(crate) fn set_names(&self) -> anyhow::Result<Vec<String>> {
        let mut names: Vec<String> = match self {
            Storage::Dir(dir) => match std::fs::read_dir(dir) {
                Ok(entries) => entries
                    .flatten()
                    .filter(|e| e.path().is_dir())
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .collect(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(e) => {
                    return Err(anyhow::Error::new(e).context(format!("reading {}", dir.display())))
                }
            },
            Storage::Bucket(b) => {
                let prefix = (!b.prefix.is_empty()).then(|| ObjectPath::from(b.prefix.as_str()));
                let listed = b
                    .runtime
                    .block_on(b.store.list_with_delimiter(prefix.as_ref()))
                    .with_context(|| format!("listing {}", b.shown))?;
                listed
                    .common_prefixes
                    .iter()
                    .filter_map(|p| p.filename().map(str::to_string))
                    .collect()
            }
        };
        names.retain(|n| n.starts_with("backup_set_") && check_set_name(n).is_ok());
        Ok(names)
    }
}

impl Bucket {
    fn key(&self, set: &str, name: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(format!("{set}/{name}"))
        } else {
            ObjectPath::from(format!("{}/{set}/{name}", self.prefix))
        }
    }

    /// Every object of a set.
    fn keys_of(&self, set: &str) -> anyhow::Result<Vec<ObjectPath>> {
        let prefix = if self.prefix.is_empty() {
            ObjectPath::from(set)
        } else {
            ObjectPath::from(format!("{}/{set}", self.prefix))
        };
        let listed = self.runtime.block_on(
            self.store
                .list(Some(&prefix))
                .map_ok(|meta| meta.location)
                .try_collect::<Vec<_>>(),
        );
        listed.with_context(|| format!("listing {}{set}/", self.shown))
    }
}

pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}
