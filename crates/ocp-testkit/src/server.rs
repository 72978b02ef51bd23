//! An `ocp-server` process for tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::{Api, ChildGroup, ADMIN_PASSWORD};

/// Where the `ocp-server` binary is: `OCP_SERVER_BIN`, else beside the running test binary.
pub fn server_binary() -> PathBuf {
    sibling_binary("OCP_SERVER_BIN", "ocp-server")
}

/// Where the `ocpctl` binary is: `OCPCTL_BIN`, else beside the running test binary.
pub fn ocpctl_binary() -> PathBuf {
    sibling_binary("OCPCTL_BIN", "ocpctl")
}

/// The binary named by `env_var`, else `name` in the target directory of the running binary.
pub(crate) fn sibling_binary(env_var: &str, name: &str) -> PathBuf {
    if let Ok(path) = std::env::var(env_var) {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("current exe");
    let mut dir = exe.parent().expect("exe dir").to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join(name)
}

#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub binary: PathBuf,
    /// PostgreSQL metadb URL; SQLite in the data directory when `None`.
    pub metadb: Option<String>,
    pub extra_args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            binary: server_binary(),
            metadb: None,
            extra_args: vec![
                "--enable-test-tasks".into(),
                "--task-lease-ms".into(),
                "2000".into(),
            ],
            env: Vec::new(),
        }
    }
}

/// A running server; killed on drop. Its data directory outlives restarts.
pub struct ServerProcess {
    process: Option<ChildGroup>,
    options: ServerOptions,
    data_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    url: String,
}

impl ServerProcess {
    /// Starts a server on a new temporary data directory.
    pub fn start(options: ServerOptions) -> anyhow::Result<Self> {
        let temp = crate::temp_dir()?;
        let data_dir = temp.path().join("data");
        let mut server = Self {
            process: None,
            options,
            data_dir,
            _temp: Some(temp),
            url: String::new(),
        };
        server.launch()?;
        Ok(server)
    }

    pub fn start_default() -> anyhow::Result<Self> {
        Self::start(ServerOptions::default())
    }

    /// Starts a server on an existing data directory that the caller keeps.
    pub fn start_in(data_dir: &Path, options: ServerOptions) -> anyhow::Result<Self> {
        let mut server = Self {
            process: None,
            options,
            data_dir: data_dir.to_path_buf(),
            _temp: None,
            url: String::new(),
        };
        server.launch()?;
        Ok(server)
    }

    fn launch(&mut self) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.data_dir)?;
        let mut command = Command::new(&self.options.binary);
        command
            .arg("--listen")
            .arg(self.listen_address())
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(&self.options.extra_args)
            .env("OCP_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("OCP_LOG", "info,sqlx=warn")
            .stdout(Stdio::piped())
            .stderr(
                std::fs::File::options()
                    .create(true)
                    .append(true)
                    .open(self.log_path())?,
            );
        if let Some(url) = &self.options.metadb {
            command.arg("--metadb").arg(url);
        }
        for (k, v) in &self.options.env {
            command.env(k, v);
        }
        let mut process = ChildGroup::spawn("ocp-server", command)?;
        let url = process
            .wait_for_line("ocp-server listening on ", Duration::from_secs(60))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "ocp-server did not start; its log:\n{}",
                    std::fs::read_to_string(self.log_path()).unwrap_or_default()
                )
            })?;
        self.url = url;
        self.process = Some(process);
        Ok(())
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn log_path(&self) -> PathBuf {
        self.data_dir.with_file_name("server.log")
    }

    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().and_then(ChildGroup::pid)
    }

    /// A client logged in as `admin`.
    pub fn admin(&self) -> Api {
        Api::new(&self.url, "admin", ADMIN_PASSWORD)
    }

    pub fn client(&self, user: &str, password: &str) -> Api {
        Api::new(&self.url, user, password)
    }

    /// SIGKILL: the crash case.
    pub fn kill(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.kill();
        }
    }

    /// SIGTERM and wait: the clean stop. Returns the exit status.
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        self.process
            .take()
            .and_then(|mut p| p.terminate(Duration::from_secs(30)))
    }

    /// Where to listen: any free port at first, then the same one again, so that agents
    /// (which call the URL they joined with) find a restarted server.
    fn listen_address(&self) -> String {
        self.url
            .strip_prefix("http://")
            .unwrap_or("127.0.0.1:0")
            .trim_end_matches('/')
            .to_string()
    }

    /// Starts the server again on the same data directory and port.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.kill();
        self.launch()
    }
}

impl Drop for ServerProcess {
    /// A failing test shows what the server logged last: its directory goes with it.
    fn drop(&mut self) {
        if std::thread::panicking() {
            crate::process::print_log_tail("ocp-server", &self.log_path(), 120);
        }
    }
}
