//! The router, the serve loop, and [`MockRehook`], the in-process server for tests.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::middleware;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder as ConnectionBuilder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::task::JoinSet;

use crate::config::{AppConfig, Config, DropMode};
use crate::error::ApiError;
use crate::segment::MappingSet;
use crate::store::Store;

/// The whole HTTP surface over `store`: the Rehook API (also under `/api`), the admin API and
/// JSON answers for unknown paths and wrong methods. Test handlers with
/// `app(store).oneshot(request)` without a socket.
pub fn app(store: Arc<Store>) -> Router {
    let routes = Router::new()
        .merge(crate::api::routes())
        .nest("/api", crate::api::routes())
        .merge(crate::segment::front_door::routes())
        .nest("/__admin", crate::admin::routes())
        .fallback(|uri: axum::http::Uri| async move { ApiError::no_route(uri.path()) })
        .with_state(store.clone());
    // The observing layer wraps the router as a whole (not route by route), so it also sees
    // what the router itself answers, such as a 405 and its `Allow` header.
    Router::new()
        .fallback_service(routes)
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(middleware::from_fn_with_state(
            store,
            crate::middleware::observe,
        ))
}

/// How long requests in flight may take to finish once shutdown is asked for; after that the
/// server stops anyway (a client that never completes its request cannot hold it open).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The time limits of the serve loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// How long requests in flight may take to finish after shutdown is asked for.
    pub shutdown_grace: Duration,
    /// How long a client may take to send a whole request head (or its first byte).
    pub header_read: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            shutdown_grace: SHUTDOWN_GRACE,
            header_read: HEADER_READ_TIMEOUT,
        }
    }
}

/// Serve `store` on `listener` until `shutdown` completes; requests in flight then get
/// [`SHUTDOWN_GRACE`] to finish.
pub async fn run(
    listener: TcpListener,
    store: Arc<Store>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    run_with(listener, store, shutdown, Timeouts::default()).await
}

/// [`run`] with chosen time limits.
///
/// Connections are served by hyper directly rather than through `axum::serve`, for the
/// settings a fake must have: HTTP/1.1 only, a client that half-closes its side after
/// sending a request still gets the answer, a client that does not send a whole request head
/// within the header timeout (or nothing at all) is cut off, and requests may carry up
/// to [`MAX_HEADERS`] headers. Once the grace period is over, connections still open are
/// closed, so nothing of the server outlives this function.
pub async fn run_with(
    listener: TcpListener,
    store: Arc<Store>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    timeouts: Timeouts,
) -> std::io::Result<()> {
    let Timeouts {
        shutdown_grace: grace,
        header_read,
    } = timeouts;
    let router = app(store);
    let mut builder = ConnectionBuilder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .half_close(true)
        .timer(TokioTimer::new())
        .header_read_timeout(header_read)
        .max_headers(MAX_HEADERS);
    let connections = GracefulShutdown::new();
    // Tells connections still waiting for their first byte that the server is stopping.
    let (stopping, stop_seen) = tokio::sync::watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors and the like: wait a moment instead of spinning.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(router.clone());
        let (builder, watcher) = (builder.clone(), connections.watcher());
        let mut stop_seen = stop_seen.clone();
        tasks.spawn(async move {
            // hyper times out a request head only once its first byte arrived: a client that
            // connects and sends nothing is cut off here, and at once when the server stops.
            let mut first = [0u8; 1];
            let first_byte = tokio::select! {
                read = tokio::time::timeout(header_read, stream.peek(&mut first)) => {
                    matches!(read, Ok(Ok(1)))
                }
                _ = stop_seen.wait_for(|stopping| *stopping) => false,
            };
            if !first_byte {
                return;
            }
            // `serve_connection` (not the upgrade-capable variant) honours `http1_only`.
            let connection = builder
                .serve_connection(TokioIo::new(stream), service)
                .into_owned();
            if let Err(error) = watcher.watch(connection).await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    tokio::select! {
        () = connections.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!(
                grace_ms = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX),
                open = tasks.len(),
                "requests still open after the grace period; closing them"
            );
        }
    }
    tasks.shutdown().await;
    Ok(())
}

/// How long a client may take to send a request head.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The most headers one request may carry.
pub const MAX_HEADERS: usize = 256;

/// A fake Rehook running inside the current process, on `127.0.0.1` and a free port.
///
/// It stops when dropped. Many can run at once, each with its own state.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use rehook_mock::MockRehook;
///
/// let mock = MockRehook::builder().seed(7).start().await;
/// assert!(mock.base_url().starts_with("http://127.0.0.1:"));
/// assert_eq!(mock.api_key(), "rk_test_key");
/// assert!(mock.store().customers(None).unwrap().is_empty());
/// # }
/// ```
#[derive(Debug)]
pub struct MockRehook {
    addr: SocketAddr,
    base_url: String,
    store: Arc<Store>,
    api_key: String,
    api_secret: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl MockRehook {
    /// Start a fake with the default application (`rk_test_key` / `rk_test_secret`, write
    /// key `wk_test`, conversion event `signup`).
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// Configure a fake before starting it.
    pub fn builder() -> MockRehookBuilder {
        MockRehookBuilder::default()
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The default application's API key.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The default application's API secret.
    pub fn api_secret(&self) -> &str {
        &self.api_secret
    }

    /// Direct read access to the state (customers, events, drops, export ...).
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Stop accepting requests, let those in flight finish, and wait for the server to end.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(task) => task.await.unwrap_or_else(|e| Err(std::io::Error::other(e))),
            None => Ok(()),
        }
    }
}

impl Drop for MockRehook {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Settings for a [`MockRehook`]; unset ones take the defaults.
#[derive(Debug, Clone, Default)]
pub struct MockRehookBuilder {
    apps: Vec<AppConfig>,
    conversion_events: Vec<String>,
    drop_mode: Option<DropMode>,
    seed: Option<u64>,
    admin_token: Option<String>,
    journal_capacity: Option<usize>,
    mappings: Option<MappingSet>,
    front_door_faults: u64,
    #[cfg(feature = "faults")]
    fault: Option<crate::Fault>,
}

impl MockRehookBuilder {
    /// Run these mappings at the default application's front door instead of the Rehook
    /// destination's defaults (other applications set theirs with
    /// [`AppConfig::with_mappings`]).
    pub fn mappings(mut self, mappings: MappingSet) -> Self {
        self.mappings = Some(mappings);
        self
    }

    /// Add an application (the first one added is the default). Without any, the default
    /// application is used.
    pub fn app(mut self, app: AppConfig) -> Self {
        self.apps.push(app);
        self
    }

    /// Add a conversion event to every application, replacing the events each application
    /// had (the default `signup`, or those set on an [`AppConfig`] given to [`Self::app`]).
    pub fn conversion_event(mut self, name: impl Into<String>) -> Self {
        self.conversion_events.push(name.into());
        self
    }

    /// Set the drop mode of every application.
    pub fn drop_mode(mut self, mode: DropMode) -> Self {
        self.drop_mode = Some(mode);
        self
    }

    /// Make generated ids and codes reproducible.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Require a bearer token on the admin API (a blank token means none).
    pub fn admin_token(mut self, token: impl Into<String>) -> Self {
        self.admin_token = Some(token.into());
        self
    }

    /// Keep at most `capacity` requests in the journal.
    pub fn journal_capacity(mut self, capacity: usize) -> Self {
        self.journal_capacity = Some(capacity);
        self
    }

    /// Answer the first `count` front-door (`/v1/...`) requests with `500 INJECTED_FAULT`,
    /// as a flaky collector would: nothing of them is stored and their messageIds stay
    /// unseen, so an SDK's retry goes through once. Also settable at run time with
    /// `POST /__admin/faults` or [`Store::fail_front_door_requests`].
    pub fn fail_front_door_requests(mut self, count: u64) -> Self {
        self.front_door_faults = count;
        self
    }

    /// Run every application with one deliberate deviation from the contract (feature
    /// `faults`, test-only): for proving that a contract checker catches it.
    #[cfg(feature = "faults")]
    pub fn fault(mut self, fault: crate::Fault) -> Self {
        self.fault = Some(fault);
        self
    }

    /// The server settings this builder describes.
    pub fn config(&self) -> Config {
        let mut config = Config::default();
        if !self.apps.is_empty() {
            config.apps = self.apps.clone();
        }
        let events = (!self.conversion_events.is_empty()).then_some(&self.conversion_events[..]);
        config.override_settings(events, self.drop_mode);
        #[cfg(feature = "faults")]
        config.set_fault(self.fault);
        config.seed = self.seed;
        config.admin_token = self.admin_token.clone();
        if let Some(capacity) = self.journal_capacity {
            config.journal_capacity = capacity;
        }
        if let Some(mappings) = &self.mappings {
            config.apps[0].set_mappings(mappings.clone());
        }
        config
    }

    /// Bind `127.0.0.1:0` and serve in a background task.
    ///
    /// # Panics
    /// When no loopback port can be bound or the applications are invalid (duplicate keys):
    /// a test cannot go on without its server.
    pub async fn start(self) -> MockRehook {
        let config = self.config();
        crate::config::validate_apps(&config.apps).expect("valid applications");
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("bound address");
        let api_key = config.apps[0].api_key.clone();
        let api_secret = config.apps[0].api_secret.clone();
        let store = Arc::new(Store::new(config));
        store.fail_front_door_requests(self.front_door_faults);
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(run(listener, store.clone(), async move {
            let _ = rx.await;
        }));
        MockRehook {
            addr,
            base_url: format!("http://{addr}"),
            store,
            api_key,
            api_secret,
            shutdown: Some(tx),
            task: Some(task),
        }
    }
}
