//! Helpers shared by the suites: fixtures, fakes, temporary files, a stand-in server.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use rehook_harness::Client;
use rehook_mock::MockRehook;
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

/// A server on `127.0.0.1:0` serving a router until dropped: the stand-ins the suites
/// check the harness against.
pub struct Served {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Served {
    /// Serves `router`; the listener is bound (ready) when this returns.
    pub async fn start(router: Router) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { addr, task }
    }

    /// A server that reads each request whole and answers every one with the status of
    /// `status_line` (`"404 Not Found"`) and the JSON `body`.
    pub async fn fixed_answer(status_line: &'static str, body: &'static str) -> Self {
        let code = status_line
            .split_whitespace()
            .next()
            .and_then(|code| code.parse::<u16>().ok())
            .and_then(|code| StatusCode::from_u16(code).ok())
            .expect("a status line");
        let answer = move |_body: Bytes| async move {
            (
                code,
                [
                    ("content-type", "application/json"),
                    ("x-request-id", "req_standin"),
                ],
                body,
            )
        };
        Self::start(
            Router::new()
                .fallback(answer)
                .layer(DefaultBodyLimit::disable()),
        )
        .await
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A client for it with the default credentials.
    pub fn client(&self) -> Client {
        Client::new(&self.base_url(), "rk_test_key", "rk_test_secret").expect("valid base URL")
    }
}

impl Drop for Served {
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
