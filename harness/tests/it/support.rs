//! Helpers shared by the suites: fixtures, fakes, temporary files, a stand-in server.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use rehook_harness::Client;
use rehook_mock::MockRehook;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A file under `harness/tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The example file the README's replay command uses.
pub fn example_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/segment-events.ndjson")
}

/// A seeded fake and a client for its default application.
pub async fn seeded_fake(seed: u64) -> (MockRehook, Client) {
    let mock = MockRehook::builder().seed(seed).start().await;
    let client = client_for(&mock);
    (mock, client)
}

/// A client for the default application of `mock`.
pub fn client_for(mock: &MockRehook) -> Client {
    Client::new(mock.base_url(), mock.api_key(), mock.api_secret()).expect("valid base URL")
}

/// A fresh directory for one test's files, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rehook-harness-it-{}-{}-{name}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }

    /// Writes `bytes` to `name` inside the directory and returns its path.
    pub fn file(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).expect("write temp file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// gzip-compresses `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("compress");
    encoder.finish().expect("compress")
}

/// Runs the built `rehook-harness` binary with `args`, off the async runtime's threads.
pub async fn run_harness(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_rehook-harness"))
            .args(&args)
            .output()
            .expect("run rehook-harness")
    })
    .await
    .expect("the blocking task finished")
}

/// A stand-in server on `127.0.0.1:0` that reads each request whole and answers every one
/// with the same status and JSON body; it stops when dropped.
pub struct FixedAnswerServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl FixedAnswerServer {
    pub async fn start(status_line: &'static str, body: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut read = BufReader::new(read);
                    loop {
                        let mut content_length = 0usize;
                        let mut line = String::new();
                        // Request line and headers.
                        loop {
                            line.clear();
                            match read.read_line(&mut line).await {
                                Ok(0) | Err(_) => return,
                                Ok(_) => {}
                            }
                            if line == "\r\n" {
                                break;
                            }
                            if let Some((name, value)) = line.split_once(':')
                                && name.eq_ignore_ascii_case("content-length")
                            {
                                content_length = value.trim().parse().unwrap_or(0);
                            }
                        }
                        let mut body_in = vec![0; content_length];
                        if read.read_exact(&mut body_in).await.is_err() {
                            return;
                        }
                        let answer = format!(
                            "HTTP/1.1 {status_line}\r\ncontent-type: application/json\r\n\
                             x-request-id: req_standin\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if write.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Self { addr, task }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for FixedAnswerServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A base URL on which nothing listens (the port was bound, then released).
pub async fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    drop(listener);
    format!("http://{addr}")
}
