//! A throwaway Prometheus for tests and benchmarks: Debian's `prometheus` on a free loopback
//! port, a temporary data directory, the remote-write receiver on, killed with its process
//! group on drop.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::ChildGroup;

pub struct PrometheusServer {
    _process: ChildGroup,
    dir: tempfile::TempDir,
    port: u16,
}

/// Where Debian puts the binaries (`apt-get install prometheus`).
pub fn prometheus_binary(name: &str) -> anyhow::Result<std::path::PathBuf> {
    let path = std::path::PathBuf::from("/usr/bin").join(name);
    anyhow::ensure!(
        path.exists(),
        "{} is not installed (apt-get install prometheus)",
        path.display()
    );
    Ok(path)
}

/// Its configuration: nothing scraped; points arrive by remote write, up to an hour late
/// (an agent's backlog after an outage).
const CONFIG: &str =
    "global:\n  scrape_interval: 15s\nstorage:\n  tsdb:\n    out_of_order_time_window: 1h\n";

impl PrometheusServer {
    pub fn start() -> anyhow::Result<Self> {
        Self::start_with_data(None)
    }

    /// Started on `data` (a TSDB directory made elsewhere, e.g. by promtool) or a new one.
    pub fn start_with_data(data: Option<&std::path::Path>) -> anyhow::Result<Self> {
        let binary = prometheus_binary("prometheus")?;
        let dir = crate::temp_dir()?;
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, CONFIG)?;
        let tsdb = data.map_or_else(|| dir.path().join("data"), |d| d.to_path_buf());
        let port = crate::free_port("127.0.0.1")?;
        let mut command = Command::new(binary);
        command
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", tsdb.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .args([
                "--web.enable-remote-write-receiver",
                "--storage.tsdb.retention.time=60d",
                "--log.level=warn",
            ])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("prometheus.log"))?);
        let process = ChildGroup::spawn("prometheus", command)?;
        let server = Self {
            _process: process,
            dir,
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if server.ready() {
                return Ok(server);
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "Prometheus did not become ready: {}",
                std::fs::read_to_string(server.dir.path().join("prometheus.log"))
                    .unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Whether `/-/ready` answers 200.
    fn ready(&self) -> bool {
        use std::io::{Read as _, Write as _};
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        if s.write_all(b"GET /-/ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .is_err()
        {
            return false;
        }
        let mut reply = String::new();
        let _ = s.read_to_string(&mut reply);
        reply.starts_with("HTTP/1.0 200") || reply.starts_with("HTTP/1.1 200")
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its own directory (configuration, log, data unless given).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}
