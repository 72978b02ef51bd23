//! An S3-compatible object storage for tests: moto's server (`moto[server]` from PyPI,
//! installed once into a virtualenv under `~/.cache/ocp-s3`), on a loopback port, in its own
//! process group, killed on drop. It keeps its objects in memory.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{free_port, ChildGroup};

pub const MOTO_SPEC: &str = "moto[server]>=5.1,<6";

/// The `moto_server` of the cached virtualenv, made with pip if it is not there yet. The
/// virtualenv counts once pip finished in it (its stamp file); one cut short is made again.
pub fn moto_server() -> anyhow::Result<PathBuf> {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".into());
    let venv = PathBuf::from(home).join(".cache/ocp-s3");
    let binary = venv.join("bin/moto_server");
    let stamp = venv.join("installed");
    if stamp.exists() && binary.exists() {
        return Ok(binary);
    }
    let _ = std::fs::remove_dir_all(&venv);
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()?;
    anyhow::ensure!(
        made.success(),
        "python3 -m venv failed: install Debian's python3-venv"
    );
    let installed = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", MOTO_SPEC])
        .status()?;
    anyhow::ensure!(installed.success(), "pip install {MOTO_SPEC} failed");
    std::fs::write(&stamp, MOTO_SPEC)?;
    Ok(binary)
}

pub struct S3Server {
    pub port: u16,
    _process: ChildGroup,
}

impl S3Server {
    /// Starts a server and waits until it answers.
    pub async fn start() -> anyhow::Result<Self> {
        let binary = tokio::task::spawn_blocking(moto_server).await??;
        let port = free_port("127.0.0.1")?;
        let mut command = Command::new(binary);
        command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let process = ChildGroup::spawn("moto_server", command)?;
        let server = Self {
            port,
            _process: process,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while reqwest::get(server.endpoint()).await.is_err() {
            anyhow::ensure!(Instant::now() < deadline, "moto_server never answered");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(server)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Makes a bucket (moto takes requests unsigned).
    pub async fn create_bucket(&self, bucket: &str) -> anyhow::Result<()> {
        let reply = reqwest::Client::new()
            .put(format!("{}/{bucket}", self.endpoint()))
            .send()
            .await?;
        anyhow::ensure!(
            reply.status().is_success(),
            "creating bucket {bucket}: {}",
            reply.status()
        );
        Ok(())
    }

    /// A client of one bucket that signs its requests (moto refuses unsigned reads of
    /// objects), with any key id and secret.
    fn bucket(&self, bucket: &str) -> anyhow::Result<object_store::aws::AmazonS3> {
        Ok(object_store::aws::AmazonS3Builder::new()
            .with_endpoint(self.endpoint())
            .with_allow_http(true)
            .with_region("us-east-1")
            .with_bucket_name(bucket)
            .with_access_key_id("AKIDOCPTEST")
            .with_secret_access_key("any")
            .build()?)
    }

    /// The keys of a bucket's objects under `prefix`.
    pub async fn keys(&self, bucket: &str, prefix: &str) -> anyhow::Result<Vec<String>> {
        use futures::TryStreamExt;
        use object_store::ObjectStore;
        let prefix = object_store::path::Path::from(prefix.trim_end_matches('/'));
        let objects: Vec<_> = self
            .bucket(bucket)?
            .list(Some(&prefix))
            .try_collect()
            .await?;
        Ok(objects
            .into_iter()
            .map(|o| o.location.to_string())
            .collect())
    }

    /// An object's bytes.
    pub async fn object(&self, bucket: &str, key: &str) -> anyhow::Result<Vec<u8>> {
        use object_store::ObjectStoreExt;
        let got = self.bucket(bucket)?.get(&key.into()).await?;
        Ok(got.bytes().await?.to_vec())
    }

    /// Replaces an object's bytes.
    pub async fn put_object(&self, bucket: &str, key: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
        use object_store::ObjectStoreExt;
        self.bucket(bucket)?.put(&key.into(), bytes.into()).await?;
        Ok(())
    }
}
