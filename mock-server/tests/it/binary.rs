//! The `rehook-mock` binary: it announces where it listens, fails fast on a taken port, and
//! ends with exit 0 on SIGTERM. Readiness is its first stdout line, never a sleep.

use std::io::{BufRead, BufReader, Lines};
use std::net::TcpListener;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};

use crate::support::{basic, client};

/// The binary with none of its `REHOOK_*` variables inherited from the environment.
fn rehook_mock(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rehook-mock"));
    command.args(args).env("RUST_LOG", "warn");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("REHOOK_") {
            command.env_remove(name);
        }
    }
    command
}

/// A free loopback port: bind one, read it, let it go.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("bound address").port()
}

/// A running binary; killed if a test fails before it ends it.
struct Running {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl Running {
    fn spawn(args: &[&str]) -> Self {
        Self::spawn_with_stderr(args, Stdio::null())
    }

    fn spawn_with_stderr(args: &[&str], stderr: Stdio) -> Self {
        let mut child = rehook_mock(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start rehook-mock");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        Self { child, stdout }
    }

    /// The next stdout line (blocks until the binary writes it).
    fn line(&mut self) -> String {
        self.stdout
            .next()
            .expect("rehook-mock printed a line before exiting")
            .expect("stdout is text")
    }

    /// Send SIGTERM and wait for the exit.
    fn terminate(mut self) -> ExitStatus {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        self.child.wait().expect("wait for rehook-mock")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[tokio::test]
async fn the_binary_prints_its_url_and_default_credentials_and_serves() {
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let mut running = Running::spawn(&["--bind", &bind]);
    let url = format!("http://{bind}");
    assert_eq!(running.line(), format!("rehook-mock listening on {url}"));
    let credentials = running.line();
    assert!(
        credentials.contains("Basic rk_test_key:rk_test_secret"),
        "{credentials}"
    );
    assert_eq!(running.line(), "  Segment write key: wk_test");
    let http = client();
    let health = http
        .get(format!("{url}/__admin/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let check = http
        .get(format!("{url}/events/segment/check-auth"))
        .header("authorization", basic("rk_test_key", "rk_test_secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(check.status(), 200);
    let status = running.terminate();
    assert_eq!(status.code(), Some(0), "{status:?}");
}

#[test]
fn a_port_in_use_fails_fast_naming_the_port() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let port = taken.local_addr().unwrap().port();
    let output = rehook_mock(&["--bind", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .output()
        .expect("run rehook-mock");
    assert!(!output.status.success(), "{output:?}");
    assert_ne!(output.status.code(), None, "it exits, it is not killed");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&port.to_string()), "{stderr}");
    assert!(
        String::from_utf8_lossy(&output.stdout).is_empty(),
        "no listening line"
    );
    drop(taken);
}

#[test]
fn sigterm_right_after_the_listening_line_exits_zero() {
    for _ in 0..3 {
        let mut running = Running::spawn(&["--bind", "127.0.0.1:0"]);
        let first = running.line();
        let port: u16 = first
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {first:?}"));
        assert_ne!(port, 0, "the line names the bound port: {first}");
        let status = running.terminate();
        assert_eq!(status.code(), Some(0), "{status:?}");
    }
}

#[tokio::test]
async fn a_stdout_that_cannot_be_written_does_not_stop_the_server() {
    // Regression: with stdout on /dev/full the banner's println! panicked (exit 101).
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let mut child = rehook_mock(&["--bind", &bind])
        .env("RUST_LOG", "info")
        .stdout(std::fs::File::create("/dev/full").expect("open /dev/full"))
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rehook-mock");
    let mut stderr = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
    // Readiness: the "listening" log line on stderr.
    let ready = stderr
        .by_ref()
        .map_while(Result::ok)
        .any(|line| line.contains("listening"));
    assert!(ready, "rehook-mock ended before it listened");
    // Keep reading what it logs, so its stderr never fills up.
    let drain = std::thread::spawn(move || stderr.map_while(Result::ok).count());
    let health = client()
        .get(format!("http://{bind}/__admin/health"))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(health.status(), 200);
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("run kill");
    assert!(status.success());
    assert_eq!(child.wait().expect("wait").code(), Some(0));
    drain.join().expect("stderr reader");
}

#[tokio::test]
async fn a_stderr_that_cannot_be_written_does_not_stop_the_server() {
    // Regression: with stderr on /dev/full, the first log line panicked the server (exit 101).
    let bind = format!("127.0.0.1:{}", free_port());
    let mut running = Running::spawn_with_stderr(
        &["--bind", &bind],
        std::fs::File::create("/dev/full")
            .expect("open /dev/full")
            .into(),
    );
    assert_eq!(
        running.line(),
        format!("rehook-mock listening on http://{bind}")
    );
    for _ in 0..3 {
        let health = client()
            .get(format!("http://{bind}/__admin/health"))
            .send()
            .await
            .expect("the server answers");
        assert_eq!(health.status(), 200);
    }
    assert_eq!(running.terminate().code(), Some(0));
}

#[tokio::test]
async fn the_banner_names_every_applications_segment_write_keys() {
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let mut running = Running::spawn(&[
        "--bind",
        &bind,
        "--app",
        "rk_a:sa",
        "--write-key",
        "wk_a",
        "--write-key",
        "wk_a2",
        "--app",
        "rk_b:sb",
        "--write-key",
        "wk_b",
        "--app",
        "rk_c:sc",
    ]);
    running.line();
    running.line();
    assert_eq!(
        running.line(),
        "  Segment write keys: wk_a, wk_a2 (rk_a); wk_b (rk_b); none (rk_c)"
    );
}
