//! A real S3-compatible server for the tests and the throughput example:
//! `s3s-fs` (installed by `scripts/setup.sh`) on a free loopback port, over a
//! temporary root directory, with its own access key, killed on drop.
//!
//! Included with `#[path]` by `tests/blob_store.rs` and `examples/s3_throughput.rs`;
//! returns errors instead of panicking so that both can use it.

use std::io::Read;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ehrchain_server::store::s3::S3Config;

/// The bucket every `S3sFs` serves.
pub(crate) const BUCKET: &str = "ehrchain-test";
const ACCESS_KEY: &str = "ehrchain-test-access";
const SECRET_KEY: &str = "ehrchain-test-secret-key";
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A running `s3s-fs`; killed (and its root removed) on drop.
pub(crate) struct S3sFs {
    child: Child,
    endpoint: String,
    root: tempfile::TempDir,
    _log: tempfile::NamedTempFile,
}

/// Where the `s3s-fs` binary is: on `PATH`, or in cargo's bin directory.
fn binary() -> Result<PathBuf, String> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("s3s-fs"))
                .collect()
        })
        .unwrap_or_default();
    if let Some(cargo_home) = std::env::var_os("CARGO_HOME") {
        candidates.push(PathBuf::from(cargo_home).join("bin").join("s3s-fs"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(PathBuf::from(home).join(".cargo/bin/s3s-fs"));
    }
    candidates.into_iter().find(|p| p.is_file()).ok_or_else(|| {
        "the S3 test server `s3s-fs` is not installed (not on PATH nor in ~/.cargo/bin): \
         run `scripts/setup.sh` (it runs `cargo install s3s-fs --version 0.14.1 --features binary`)"
            .to_owned()
    })
}

fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("no free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

impl S3sFs {
    /// Starts `s3s-fs` with an empty bucket [`BUCKET`] and waits until it
    /// accepts connections.
    pub(crate) fn start() -> Result<Self, String> {
        let binary = binary()?;
        let root = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
        // s3s-fs serves each directory under its root as a bucket.
        std::fs::create_dir(root.path().join(BUCKET)).map_err(|e| format!("bucket: {e}"))?;
        let port = free_port()?;
        let log = tempfile::NamedTempFile::new().map_err(|e| format!("log file: {e}"))?;
        let log_writer = log.reopen().map_err(|e| format!("log file: {e}"))?;
        let mut child = Command::new(&binary)
            .arg("--host")
            .arg("127.0.0.1")
            .arg("--port")
            .arg(port.to_string())
            .arg("--access-key")
            .arg(ACCESS_KEY)
            .arg("--secret-key")
            .arg(SECRET_KEY)
            .arg(root.path())
            .env("RUST_LOG", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_writer)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                let mut stderr = String::new();
                if let Ok(mut file) = log.reopen() {
                    let _ = file.read_to_string(&mut stderr);
                }
                return Err(format!("s3s-fs exited ({status}): {stderr}"));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "s3s-fs did not listen on port {port} within {START_TIMEOUT:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(S3sFs {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            root,
            _log: log,
        })
    }

    /// How many parts of incomplete multipart uploads the server holds
    /// (s3s-fs keeps them as `.upload_id-<id>.part-<n>` files in its root):
    /// 0 once every multipart upload was completed or aborted.
    #[allow(dead_code)] // used by the tests, not by the example
    pub(crate) fn pending_multipart_parts(&self) -> usize {
        std::fs::read_dir(self.root.path())
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().starts_with(".upload_id-"))
                    .count()
            })
            .unwrap_or(0)
    }

    /// Writes an object straight into the bucket's directory (s3s-fs serves
    /// a file as an object): what a process killed half-way leaves, or a
    /// damaged object.
    #[allow(dead_code)] // used by the tests, not by the example
    pub(crate) fn write_object(&self, key: &str, data: &[u8]) -> std::io::Result<()> {
        let path = self.root.path().join(BUCKET).join(key);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, data)
    }

    /// The configuration of a store on this server's bucket under `prefix`.
    pub(crate) fn config(&self, prefix: &str) -> S3Config {
        S3Config {
            endpoint: self.endpoint.clone(),
            bucket: BUCKET.to_owned(),
            region: "us-east-1".to_owned(),
            access_key_id: ACCESS_KEY.to_owned(),
            secret_access_key: SECRET_KEY.to_owned(),
            prefix: prefix.to_owned(),
            allow_http: true,
        }
    }
}

impl Drop for S3sFs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
