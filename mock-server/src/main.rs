//! `rehook-mock`: run the fake Rehook until Ctrl-C or SIGTERM.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use rehook_mock::config::{Cli, LogFormat, Settings};
use rehook_mock::{Store, run};

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match Cli::from_args().into_settings() {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("rehook-mock: {message}");
            return ExitCode::from(2);
        }
    };
    init_tracing(settings.log_format);
    #[cfg(feature = "faults")]
    if let Some(fault) = settings.config.apps[0].fault {
        tracing::warn!(%fault, "running with a deliberate fault: this server breaks the contract");
    }
    let Settings { bind, config, .. } = settings;
    let listener = match tokio::net::TcpListener::bind(bind).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!(
                "rehook-mock: cannot listen on {bind} (port {}): {e}",
                bind.port()
            );
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().unwrap_or(bind);
    // Installed before readiness is announced: a SIGTERM sent as soon as the listening line
    // appears must shut down cleanly, not kill the process with the default action.
    let shutdown = shutdown_signal();
    let default_app = &config.apps[0];
    // A closed or full stdout must not stop the server: the banner is a courtesy.
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "rehook-mock listening on http://{addr}");
    let _ = writeln!(
        stdout,
        "  Rehook API: Basic {}:{}   admin: http://{addr}/__admin/health",
        default_app.api_key, default_app.api_secret,
    );
    let _ = writeln!(stdout, "  {}", write_keys_line(&config.apps));
    let _ = stdout.flush();
    drop(stdout);
    tracing::info!(%addr, "listening");
    let store = Arc::new(Store::new(config));
    match run(listener, store, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rehook-mock: server error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        // A log line that cannot be written is lost; reporting it on the same broken stderr
        // would panic and take the server down.
        .log_internal_errors(false)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Completes on Ctrl-C or SIGTERM. The handlers are installed by the call itself, not on the
/// first poll.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let mut signals = {
        use tokio::signal::unix::{SignalKind, signal};
        [SignalKind::interrupt(), SignalKind::terminate()].map(|kind| signal(kind).ok())
    };
    async move {
        #[cfg(unix)]
        {
            let [interrupt, terminate] = &mut signals;
            tokio::select! {
                () = recv(interrupt.as_mut()) => {},
                () = recv(terminate.as_mut()) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down: finishing requests in flight");
    }
}

/// The next delivery of `signal`; never, when its handler could not be installed.
#[cfg(unix)]
async fn recv(signal: Option<&mut tokio::signal::unix::Signal>) {
    match signal {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}

/// The banner's write-key line: the default application's key alone when it is the only
/// application with one key, else every application's keys, each followed by its API key.
fn write_keys_line(apps: &[rehook_mock::AppConfig]) -> String {
    if let [app] = apps
        && let [key] = app.write_keys.as_slice()
    {
        return format!("Segment write key: {key}");
    }
    let each: Vec<String> = apps
        .iter()
        .map(|app| {
            let keys = if app.write_keys.is_empty() {
                "none".to_owned()
            } else {
                app.write_keys.join(", ")
            };
            format!("{keys} ({})", app.api_key)
        })
        .collect();
    format!("Segment write keys: {}", each.join("; "))
}
