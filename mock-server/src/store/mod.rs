//! The in-memory state of a whole server.
//!
//! A [`Store`] holds the applications (each with its own customers, codes, events and logs),
//! the server-wide request journal and the log of front-door traffic for unknown write keys.
//! Readers get owned values; no lock guard ever leaves a method. See [`app`] for how writes
//! stay atomic.

pub mod app;
pub mod ids;
pub mod journal;
pub mod records;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use app::{App, AppDataDoc};
pub use journal::{Captured, Journal, JournalEntry};
pub use records::{
    Customer, CustomerRecord, DeliveryEntry, DeliveryOutcome, DropEntry, Event, Referral,
};

use crate::config::{AppConfig, Config, ConfigDoc};
use crate::error::{ApiError, ErrorCode};
use crate::segment::MappingSet;
use app::{AppData, MappingFacts, lock};
use ids::IdGen;

/// The applications, in order; the first is the default.
#[derive(Debug)]
pub struct Registry {
    /// Never empty.
    pub(crate) apps: Vec<App>,
}

impl Registry {
    /// The application with this API key.
    pub fn by_api_key(&self, key: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.config.api_key == key)
    }

    /// The application that owns this Segment write key.
    pub fn by_write_key(&self, write_key: &str) -> Option<&App> {
        self.apps
            .iter()
            .find(|a| a.config.write_keys.iter().any(|k| k == write_key))
    }

    /// `?app=KEY` when given, else the default application.
    pub fn select(&self, key: Option<&str>) -> Result<&App, ApiError> {
        Ok(&self.apps[self.index_of(key)?])
    }

    /// Where `select` finds its application.
    fn index_of(&self, key: Option<&str>) -> Result<usize, ApiError> {
        match key {
            None => Ok(0),
            Some(k) => self
                .apps
                .iter()
                .position(|a| a.config.api_key == k)
                .ok_or_else(|| app_not_found(k)),
        }
    }

    /// The applications' settings as `GET /__admin/config` shows them.
    fn config_json(&self, secrets: bool) -> Value {
        json!({
            "applications": self.apps.iter().map(|a| a.config.to_json(secrets)).collect::<Vec<_>>(),
        })
    }

    /// The settings of every application.
    pub fn configs(&self) -> Vec<AppConfig> {
        self.apps.iter().map(|a| a.config.clone()).collect()
    }
}

fn app_not_found(key: &str) -> ApiError {
    ApiError::new(
        ErrorCode::AppNotFound,
        format!("no application has the API key {key:?}"),
    )
    .with_details(json!({ "app": key }))
}

/// The whole state as `GET /__admin/state` writes it and `PUT /__admin/state` reads it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateDoc {
    /// The format's name and version.
    pub format: String,
    /// Applications and settings, as `GET /__admin/config` shows them.
    pub config: Value,
    /// Each application's data, by API key (an application left out starts empty; the key
    /// itself is required, so a document without data is refused rather than read as "empty
    /// everything").
    pub data: std::collections::BTreeMap<String, AppDataDoc>,
}

/// The format name written into every state document.
pub const STATE_FORMAT: &str = "rehook-mock-state/1";

/// The server's state. Share it as `Arc<Store>`.
#[derive(Debug)]
pub struct Store {
    /// Held shared by every request while it touches state, exclusively by reset and import.
    registry: RwLock<Registry>,
    /// The server-wide request journal.
    journal: Journal,
    /// Front-door messages whose write key no application owns.
    unknown_sources: Mutex<Vec<Value>>,
    /// Request ids.
    request_ids: IdGen,
    /// The seed every generator derives from.
    seed: Option<u64>,
    /// How many imports this store has taken: each one moves request ids to a new stream, so
    /// ids in an imported drop log are never handed out again.
    imports: AtomicU64,
    /// The admin API's bearer token, when one is required (an empty one means none).
    admin_token: Option<String>,
    /// How many of the next front-door requests are answered `500 INJECTED_FAULT`.
    front_door_faults: AtomicU64,
}

impl Store {
    /// A store for these settings, with empty applications.
    pub fn new(config: Config) -> Self {
        let apps = if config.apps.is_empty() {
            vec![AppConfig::default_app()]
        } else {
            config.apps
        };
        Self {
            registry: RwLock::new(Registry {
                apps: apps.into_iter().map(|c| App::new(c, config.seed)).collect(),
            }),
            journal: Journal::new(config.journal_capacity),
            unknown_sources: Mutex::new(Vec::new()),
            request_ids: IdGen::new(config.seed, "requests"),
            seed: config.seed,
            imports: AtomicU64::new(0),
            admin_token: config.admin_token.filter(|t| !t.trim().is_empty()),
            front_door_faults: AtomicU64::new(0),
        }
    }

    /// Shared access to the applications; hold it only in synchronous code, and never call
    /// back into the store while holding it (a queued reset would wait on it forever).
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Registry> {
        self.registry.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Registry> {
        self.registry
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A fresh request id.
    pub fn next_request_id(&self) -> String {
        self.request_ids.id("req_")
    }

    /// The request journal.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The admin token, when one is required.
    pub fn admin_token(&self) -> Option<&str> {
        self.admin_token.as_deref()
    }

    /// Run `f` on one application (`None`: the default one), under the registry lock.
    pub(crate) fn with_app<T>(
        &self,
        app: Option<&str>,
        f: impl FnOnce(&App) -> T,
    ) -> Result<T, ApiError> {
        let registry = self.read();
        Ok(f(registry.select(app)?))
    }

    /// Run `f` on the application whose Segment write key is `write_key`, under the registry
    /// lock; `None` when no application has that key.
    pub(crate) fn with_write_key<T>(
        &self,
        write_key: &str,
        f: impl FnOnce(&App) -> T,
    ) -> Option<T> {
        let registry = self.read();
        registry.by_write_key(write_key).map(f)
    }

    /// Every customer of an application, sorted by source_id.
    pub fn customers(&self, app: Option<&str>) -> Result<Vec<Customer>, ApiError> {
        self.with_app(app, App::customers)
    }

    /// One customer by source_id.
    pub fn customer(
        &self,
        app: Option<&str>,
        source_id: &str,
    ) -> Result<Option<Customer>, ApiError> {
        self.with_app(app, |a| a.customer(source_id))
    }

    /// Stored events in arrival order.
    pub fn events(&self, app: Option<&str>) -> Result<Vec<Event>, ApiError> {
        self.with_app(app, |a| a.events(None))
    }

    /// The drop log in arrival order.
    pub fn drops(&self, app: Option<&str>) -> Result<Vec<DropEntry>, ApiError> {
        self.with_app(app, App::drops)
    }

    /// Front-door messages whose write key no application owns.
    pub fn unknown_sources(&self) -> Vec<Value> {
        lock(&self.unknown_sources).clone()
    }

    /// Append front-door messages of an unknown write key to the server-wide log.
    pub(crate) fn log_unknown_sources(&self, entries: impl IntoIterator<Item = Value>) {
        lock(&self.unknown_sources).extend(entries);
    }

    /// The front-door delivery log in arrival order.
    pub fn deliveries(&self, app: Option<&str>) -> Result<Vec<DeliveryEntry>, ApiError> {
        self.with_app(app, App::deliveries)
    }

    /// Answer the next `count` front-door requests with `500 INJECTED_FAULT` (nothing of them
    /// is stored, their messageIds stay unseen); `0` turns the fault off. Replaces any count
    /// still pending.
    pub fn fail_front_door_requests(&self, count: u64) {
        self.front_door_faults.store(count, Ordering::SeqCst);
    }

    /// How many front-door requests the fault setting will still answer with `500`.
    pub fn front_door_faults(&self) -> u64 {
        self.front_door_faults.load(Ordering::SeqCst)
    }

    /// Take one pending front-door fault; `true` when this request must fail.
    pub(crate) fn take_front_door_fault(&self) -> bool {
        self.front_door_faults
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Empty one application (or all); waits for writes in flight, which hold the lock shared.
    /// A named application must exist, also with `all`.
    pub fn reset(&self, app: Option<&str>, all: bool) -> Result<(), ApiError> {
        let mut registry = self.write();
        // A named application must exist, also with `all`.
        let index = registry.index_of(app)?;
        if all {
            for a in &mut registry.apps {
                a.clear();
            }
            lock(&self.unknown_sources).clear();
            self.front_door_faults.store(0, Ordering::SeqCst);
            self.journal.clear(None);
            // Request ids restart only when nothing that carries one is left anywhere.
            self.request_ids.reseed();
        } else {
            let target = &mut registry.apps[index];
            target.clear();
            self.journal.clear(Some(&target.config.api_key));
        }
        Ok(())
    }

    /// The applications' settings as a document; secrets only when asked for.
    pub fn config_doc(&self, secrets: bool) -> Value {
        self.read().config_json(secrets)
    }

    /// Replace the applications' settings. Applications whose key stays keep their data;
    /// the others start empty; those left out are removed with their data.
    pub fn put_config(&self, doc: ConfigDoc) -> Result<(), ApiError> {
        let mut registry = self.write();
        let apps = doc.resolve(&registry.configs())?;
        let mut old: Vec<App> = std::mem::take(&mut registry.apps);
        registry.apps = apps
            .into_iter()
            .map(
                |config| match old.iter().position(|a| a.config.api_key == config.api_key) {
                    Some(i) => {
                        let mut app = old.swap_remove(i);
                        app.config = config;
                        app
                    }
                    None => App::new(config, self.seed),
                },
            )
            .collect();
        Ok(())
    }

    /// One application's mappings as a mapping document (the defaults' when none are custom).
    pub fn mappings_doc(&self, app: Option<&str>) -> Result<Value, ApiError> {
        self.with_app(app, |a| a.config.mapping_set().to_json())
    }

    /// Replace one application's mappings; its data stays.
    pub fn put_mappings(&self, app: Option<&str>, mappings: MappingSet) -> Result<(), ApiError> {
        let mut registry = self.write();
        let index = registry.index_of(app)?;
        registry.apps[index].config.set_mappings(mappings);
        Ok(())
    }

    /// The whole state (config and data; not the journal).
    pub fn export(&self, secrets: bool) -> StateDoc {
        // Exclusive, like a reset: writes hold the lock shared, so a shared export could read
        // a friend before its conversion and the referral after it (not importable).
        let registry = self.write();
        StateDoc {
            format: STATE_FORMAT.to_owned(),
            config: registry.config_json(secrets),
            data: registry
                .apps
                .iter()
                .map(|a| (a.config.api_key.clone(), a.export()))
                .collect(),
        }
    }

    /// Replace the whole state at once; on any error nothing changes.
    pub fn import(&self, doc: StateDoc) -> Result<(), ApiError> {
        let invalid = |m: String| ApiError::new(ErrorCode::InvalidState, m);
        if doc.format != STATE_FORMAT {
            return Err(invalid(format!(
                "format must be {STATE_FORMAT:?}, got {:?}",
                doc.format
            )));
        }
        let config: ConfigDoc = serde_json::from_value(doc.config)
            .map_err(|e| invalid(format!("config is not valid: {e}")))?;
        let mut data = doc.data;
        // An import replaces everything: an application whose entry names no mappings gets
        // the defaults, not the running ones.
        let with_mappings: std::collections::HashSet<String> = config
            .applications
            .iter()
            .filter(|a| a.mappings.is_some())
            .map(|a| a.api_key.clone())
            .collect();
        let mut registry = self.write();
        let mut configs = config
            .resolve(&registry.configs())
            .map_err(|e| invalid(format!("config is not valid: {}", e.message)))?;
        for config in &mut configs {
            if !with_mappings.contains(&config.api_key) {
                config.mappings = None;
            }
        }
        if let Some(stray) = data
            .keys()
            .find(|k| !configs.iter().any(|c| &c.api_key == *k))
        {
            return Err(invalid(format!(
                "data for {stray:?}, which the config does not list"
            )));
        }
        let mut apps = Vec::with_capacity(configs.len());
        for config in configs {
            let app_data = data.remove(&config.api_key).unwrap_or_default();
            let key = config.api_key.clone();
            let mut app = App::new(config, self.seed);
            let facts = MappingFacts::of(app.config().mapping_set());
            app.data = AppData::import(app_data, facts)
                .map_err(|m| invalid(format!("application {key:?}: {m}")))?;
            apps.push(app);
        }
        registry.apps = apps;
        let stream = self.imports.fetch_add(1, Ordering::Relaxed) + 1;
        self.request_ids.switch_stream(stream);
        Ok(())
    }
}
