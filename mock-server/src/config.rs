//! Applications, their settings, and the server-wide settings, from flags, env vars or a file.
//!
//! One [`Config`] describes a whole server: its applications (tenants) in order, the first one
//! being the default, plus the seed, the admin token and the journal size. The binary builds it
//! from [`Cli`]; tests build it with [`crate::MockRehookBuilder`].

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{ApiError, ErrorCode};
use crate::segment::MappingSet;

/// Default API key of the default application.
pub const DEFAULT_API_KEY: &str = "rk_test_key";
/// Default API secret of the default application.
pub const DEFAULT_API_SECRET: &str = "rk_test_secret";
/// Default Segment write key of the default application.
pub const DEFAULT_WRITE_KEY: &str = "wk_test";
/// Default base of every `referral_link`.
pub const DEFAULT_REFERRAL_LINK_BASE: &str = "https://rehook.test/r";
/// Default size of the server-wide request journal.
pub const DEFAULT_JOURNAL_CAPACITY: usize = 10_000;

/// What happens to a call refused by a business rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DropMode {
    /// Answer with the rule's 4xx error (the default).
    #[default]
    Reject,
    /// Answer `200 {"status": "dropped", "reason": CODE}`.
    Accept,
}

/// One application (tenant): a key/secret pair and the settings that shape its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppConfig {
    /// The Basic-auth user name of the Rehook API.
    pub api_key: String,
    /// The Basic-auth password of the Rehook API.
    pub api_secret: String,
    /// Segment write keys whose front-door traffic lands in this application.
    pub write_keys: Vec<String>,
    /// Event names that convert a referral.
    pub conversion_events: Vec<String>,
    /// How business-rule refusals are answered.
    pub drop_mode: DropMode,
    /// The base that `referral_link` is built on (`<base>/<code>`).
    pub referral_link_base: String,
    /// The front door's custom mappings; `None`: the Rehook destination's defaults.
    pub mappings: Option<MappingSet>,
    /// The deliberate deviation from the contract this application runs with, if any
    /// (feature `faults`, test-only). Not shown by `GET /__admin/config`.
    #[cfg(feature = "faults")]
    pub fault: Option<crate::Fault>,
}

impl AppConfig {
    /// An application with the given credentials and default settings (no write keys).
    pub fn new(api_key: impl Into<String>, api_secret: impl Into<String>) -> Self {
        Self {
            api_key: api_key.into(),
            api_secret: api_secret.into(),
            write_keys: Vec::new(),
            conversion_events: vec!["signup".to_owned()],
            drop_mode: DropMode::Reject,
            referral_link_base: DEFAULT_REFERRAL_LINK_BASE.to_owned(),
            mappings: None,
            #[cfg(feature = "faults")]
            fault: None,
        }
    }

    /// The mappings the front door runs for this application (the defaults unless custom
    /// ones were loaded).
    pub fn mapping_set(&self) -> &MappingSet {
        self.mappings.as_ref().unwrap_or(MappingSet::defaults())
    }

    /// Use these mappings (the defaults are kept as `None`).
    pub fn with_mappings(mut self, mappings: MappingSet) -> Self {
        self.set_mappings(mappings);
        self
    }

    /// Replace the mappings (the defaults are kept as `None`).
    pub fn set_mappings(&mut self, mappings: MappingSet) {
        self.mappings = (!mappings.is_default()).then_some(mappings);
    }

    /// The default application: `rk_test_key` / `rk_test_secret`, write key `wk_test`.
    pub fn default_app() -> Self {
        let mut app = Self::new(DEFAULT_API_KEY, DEFAULT_API_SECRET);
        app.write_keys.push(DEFAULT_WRITE_KEY.to_owned());
        app
    }

    /// Whether this application runs with the deliberate fault `fault` (feature `faults`).
    #[cfg(feature = "faults")]
    pub fn is(&self, fault: crate::Fault) -> bool {
        self.fault == Some(fault)
    }

    /// Whether `event_name` converts a referral in this application.
    pub fn is_conversion(&self, event_name: &str) -> bool {
        self.conversion_events.iter().any(|e| e == event_name)
    }

    /// The document shape of `GET /__admin/config`; the secret only when asked for.
    pub fn to_json(&self, secrets: bool) -> Value {
        let mut doc = json!({
            "api_key": self.api_key,
            "write_keys": self.write_keys,
            "conversion_events": self.conversion_events,
            "drop_mode": self.drop_mode,
            "referral_link_base": self.referral_link_base,
        });
        if secrets {
            doc["api_secret"] = json!(self.api_secret);
        }
        if let Some(mappings) = &self.mappings {
            doc["mappings"] = mappings.to_json()["mappings"].take();
        }
        doc
    }
}

/// The settings of one whole server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Applications in order; the first is the default one. Never empty.
    pub apps: Vec<AppConfig>,
    /// Makes every generated id and referral code reproducible.
    pub seed: Option<u64>,
    /// When set, the admin API requires `Authorization: Bearer <token>`.
    pub admin_token: Option<String>,
    /// How many requests the journal keeps.
    pub journal_capacity: usize,
}

impl Config {
    /// Give every application these conversion events and this drop mode, where given.
    pub fn override_settings(
        &mut self,
        conversion_events: Option<&[String]>,
        drop_mode: Option<DropMode>,
    ) {
        for app in &mut self.apps {
            if let Some(events) = conversion_events {
                app.conversion_events = events.to_vec();
            }
            if let Some(mode) = drop_mode {
                app.drop_mode = mode;
            }
        }
    }
}

#[cfg(feature = "faults")]
impl Config {
    /// Run every application with `fault` (feature `faults`, test-only).
    pub fn set_fault(&mut self, fault: Option<crate::Fault>) {
        for app in &mut self.apps {
            app.fault = fault;
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            apps: vec![AppConfig::default_app()],
            seed: None,
            admin_token: None,
            journal_capacity: DEFAULT_JOURNAL_CAPACITY,
        }
    }
}

/// The application list as `PUT /__admin/config` and config files write it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigDoc {
    /// The applications, first one the default.
    pub applications: Vec<AppDoc>,
}

/// One application as a document. A setting left out keeps the running application's value
/// when one with this key exists, and takes its default otherwise.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppDoc {
    /// The API key.
    pub api_key: String,
    /// The API secret; when absent, the running application with this key keeps its own.
    #[serde(default)]
    pub api_secret: Option<String>,
    /// Segment write keys.
    #[serde(default)]
    pub write_keys: Option<Vec<String>>,
    /// Conversion events (default `["signup"]`).
    #[serde(default)]
    pub conversion_events: Option<Vec<String>>,
    /// Drop mode (default `reject`).
    #[serde(default)]
    pub drop_mode: Option<DropMode>,
    /// Referral link base (default `https://rehook.test/r`).
    #[serde(default)]
    pub referral_link_base: Option<String>,
    /// Custom mappings (the array of a mapping document); `null`: the defaults; absent: the
    /// running application's (the defaults for a new one).
    #[serde(default, deserialize_with = "present_value")]
    pub mappings: Option<Value>,
}

/// A key that is present, `null` included (serde reads a present `null` as absent otherwise).
fn present_value<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl ConfigDoc {
    /// Resolve against the running applications (for settings left out) and validate.
    pub fn resolve(self, running: &[AppConfig]) -> Result<Vec<AppConfig>, ApiError> {
        if self.applications.is_empty() {
            return Err(invalid_config(
                "applications must list at least one application",
            ));
        }
        let mut apps = Vec::with_capacity(self.applications.len());
        for doc in self.applications {
            let running_app = running.iter().find(|a| a.api_key == doc.api_key);
            let secret = match (doc.api_secret, running_app) {
                (Some(secret), _) => secret,
                (None, Some(app)) => app.api_secret.clone(),
                (None, None) => {
                    return Err(invalid_config(format!(
                        "application {:?} needs an api_secret (no running application has that key)",
                        doc.api_key
                    )));
                }
            };
            let mut app = match running_app {
                Some(app) => app.clone(),
                None => AppConfig::new(doc.api_key, String::new()),
            };
            // A server runs with one fault: applications added later get it too.
            #[cfg(feature = "faults")]
            if running_app.is_none() {
                app.fault = running.first().and_then(|a| a.fault);
            }
            app.api_secret = secret;
            if let Some(write_keys) = doc.write_keys {
                app.write_keys = write_keys;
            }
            if let Some(events) = doc.conversion_events {
                app.conversion_events = events;
            }
            if let Some(mode) = doc.drop_mode {
                app.drop_mode = mode;
            }
            if let Some(base) = doc.referral_link_base {
                app.referral_link_base = base;
            }
            match doc.mappings {
                None => {}
                Some(Value::Null) => app.mappings = None,
                Some(list) => {
                    let set = MappingSet::from_json(&json!({ "mappings": list })).map_err(|e| {
                        let mut details = e.details;
                        details["app"] = json!(app.api_key);
                        ApiError::new(
                            ErrorCode::InvalidMappings,
                            format!("application {:?}: {}", app.api_key, e.message),
                        )
                        .with_details(details)
                    })?;
                    app.set_mappings(set);
                }
            }
            apps.push(app);
        }
        validate_apps(&apps)?;
        Ok(apps)
    }
}

fn invalid_config(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidConfig, message)
}

/// Check what must hold across applications: keys present and unique, write keys unique.
pub fn validate_apps(apps: &[AppConfig]) -> Result<(), ApiError> {
    if apps.is_empty() {
        return Err(invalid_config("at least one application is needed"));
    }
    let mut keys = std::collections::HashSet::new();
    let mut write_keys = std::collections::HashSet::new();
    for app in apps {
        if app.api_key.is_empty() || app.api_key.contains(':') {
            return Err(invalid_config(format!(
                "api_key {:?} must be non-empty and contain no ':'",
                app.api_key
            )));
        }
        if app.api_secret.is_empty() {
            return Err(invalid_config(format!(
                "application {:?} has an empty api_secret",
                app.api_key
            )));
        }
        if !keys.insert(app.api_key.as_str()) {
            return Err(invalid_config(format!(
                "api_key {:?} is listed twice",
                app.api_key
            )));
        }
        let mut own = std::collections::HashSet::new();
        for wk in &app.write_keys {
            if !own.insert(wk.as_str()) {
                return Err(invalid_config(format!(
                    "application {:?} lists the write key {wk:?} twice",
                    app.api_key
                )));
            }
            if wk.is_empty() {
                return Err(invalid_config(format!(
                    "application {:?} has an empty write key",
                    app.api_key
                )));
            }
            if !write_keys.insert(wk.as_str()) {
                return Err(invalid_config(format!(
                    "write key {wk:?} belongs to more than one application"
                )));
            }
        }
        if app.referral_link_base.trim().is_empty() {
            return Err(invalid_config(format!(
                "application {:?} has an empty referral_link_base",
                app.api_key
            )));
        }
        if app.conversion_events.iter().any(|e| e.trim().is_empty()) {
            return Err(invalid_config(format!(
                "application {:?} lists a blank conversion event",
                app.api_key
            )));
        }
    }
    Ok(())
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The command line of `rehook-mock`. Every flag can also be set through its env var.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "rehook-mock",
    version,
    about = "A local fake of the Rehook referral API, with an admin API to inspect, reset, configure and export it."
)]
pub struct Cli {
    /// Address to listen on, HOST:PORT (default 127.0.0.1:4100).
    #[arg(long, env = "REHOOK_BIND", value_name = "ADDR")]
    pub bind: Option<String>,
    /// An application as KEY:SECRET (repeatable; the first is the default application; the
    /// secret may contain ':' and ','). Without any, the default application
    /// rk_test_key:rk_test_secret with write key wk_test.
    #[arg(long = "app", env = "REHOOK_APP", value_name = "KEY:SECRET")]
    pub apps: Vec<String>,
    /// A Segment write key, for the --app given before it (repeatable; commas separate several).
    #[arg(
        long = "write-key",
        env = "REHOOK_WRITE_KEY",
        value_name = "KEY",
        value_delimiter = ','
    )]
    pub write_keys: Vec<String>,
    /// An event name that converts a referral, for every application (repeatable; commas
    /// separate several; default signup).
    #[arg(
        long = "conversion-event",
        env = "REHOOK_CONVERSION_EVENT",
        value_name = "NAME",
        value_delimiter = ','
    )]
    pub conversion_events: Vec<String>,
    /// How business-rule refusals are answered, for every application.
    #[arg(long, env = "REHOOK_DROP_MODE", value_enum)]
    pub drop_mode: Option<DropMode>,
    /// Seed that makes generated ids and referral codes reproducible.
    #[arg(long, env = "REHOOK_SEED")]
    pub seed: Option<u64>,
    /// Require `Authorization: Bearer <T>` on the admin API.
    #[arg(long, env = "REHOOK_ADMIN_TOKEN", value_name = "T")]
    pub admin_token: Option<String>,
    /// A TOML or JSON file with the same settings; flags win over it.
    #[arg(long, env = "REHOOK_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log line format (default text).
    #[arg(long, env = "REHOOK_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// A JSON mapping file: custom mappings for the front door, for the default application
    /// (`{"mappings": [...]}`) or by API key (`{"applications": {"KEY": {"mappings": [...]}}}`).
    #[arg(long, env = "REHOOK_MAPPINGS", value_name = "FILE")]
    pub mappings: Option<PathBuf>,
    /// For each --write-key, the index of the --app before it (`None`: it comes before every
    /// --app). Filled in from the parsed matches by [`Cli::from_args`] / [`Cli::try_parse_args`].
    #[arg(skip)]
    pub write_key_owners: Vec<Option<usize>>,
    /// Run with one deliberate deviation from the contract (feature `faults`, test-only;
    /// hidden from the help).
    #[cfg(feature = "faults")]
    #[arg(long, hide = true, value_enum, value_name = "NAME")]
    pub fault: Option<crate::Fault>,
}

/// The settings a config file may hold: every flag's, plus the journal size and
/// per-application settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Address to listen on.
    pub bind: Option<String>,
    /// Conversion events of every application that does not list its own.
    pub conversion_events: Option<Vec<String>>,
    /// Drop mode of every application that does not set its own.
    pub drop_mode: Option<DropMode>,
    /// Log line format.
    pub log_format: Option<LogFormat>,
    /// Seed for generated ids and codes.
    pub seed: Option<u64>,
    /// Admin token.
    pub admin_token: Option<String>,
    /// Journal size.
    pub journal_capacity: Option<usize>,
    /// Applications, first the default.
    #[serde(default)]
    pub applications: Vec<AppDoc>,
    /// A mapping file, as `--mappings` takes it (a relative path is read from the config
    /// file's folder).
    pub mappings: Option<PathBuf>,
}

impl FileConfig {
    /// Read a file as JSON (when it looks like JSON) or TOML.
    pub fn load(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
        let text = text.strip_prefix('\u{FEFF}').unwrap_or(&text);
        let is_json =
            path.extension().is_some_and(|e| e == "json") || text.trim_start().starts_with('{');
        if is_json {
            serde_json::from_str(text)
                .map_err(|e| format!("config file {} is not valid: {e}", path.display()))
        } else {
            toml::from_str(text)
                .map_err(|e| format!("config file {} is not valid: {e}", path.display()))
        }
    }
}

impl Cli {
    /// Parse the process arguments, remembering which --app each --write-key follows.
    pub fn from_args() -> Self {
        Self::try_parse_args(std::env::args_os()).unwrap_or_else(|e| e.exit())
    }

    /// Parse `args` (the first is the program name) like [`Cli::from_args`].
    pub fn try_parse_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let matches = <Self as clap::CommandFactory>::command().try_get_matches_from(args)?;
        let mut cli = <Self as clap::FromArgMatches>::from_arg_matches(&matches)?;
        cli.write_key_owners = write_key_owners(&matches);
        Ok(cli)
    }

    /// Build the server settings: the file first, then flags and env vars over it.
    pub fn into_settings(self) -> Result<Settings, String> {
        let mut file = match &self.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        let mut config = Config::default();
        let bind_text = self
            .bind
            .clone()
            .or(file.bind.take())
            .unwrap_or_else(|| DEFAULT_BIND.to_owned());
        let bind = resolve_bind(&bind_text)?;
        if !self.apps.is_empty() {
            config.apps = self
                .apps
                .iter()
                .map(|pair| {
                    let (key, secret) = pair
                        .split_once(':')
                        .ok_or_else(|| format!("--app {pair:?} must be KEY:SECRET"))?;
                    Ok(AppConfig::new(key, secret))
                })
                .collect::<Result<_, String>>()?;
        }
        let apps_from_file = self.apps.is_empty() && !file.applications.is_empty();
        if apps_from_file {
            // The file's own applications: their own settings first, the file-wide ones
            // for what they leave out.
            for app in &mut file.applications {
                if app.conversion_events.is_none() {
                    app.conversion_events.clone_from(&file.conversion_events);
                }
                app.drop_mode = app.drop_mode.or(file.drop_mode);
            }
            config.apps = ConfigDoc {
                applications: std::mem::take(&mut file.applications),
            }
            .resolve(&[])
            .map_err(|e| e.message)?;
        } else {
            config.override_settings(file.conversion_events.as_deref(), file.drop_mode);
        }
        for (i, wk) in self.write_keys.iter().enumerate() {
            let owner = self.write_key_owners.get(i).copied().unwrap_or(Some(0));
            let app = owner.and_then(|o| config.apps.get_mut(o)).ok_or_else(|| {
                format!("--write-key {wk:?} comes before any --app; put it after the --app it belongs to")
            })?;
            if !app.write_keys.contains(wk) {
                app.write_keys.push(wk.clone());
            }
        }
        let events = (!self.conversion_events.is_empty()).then_some(&self.conversion_events[..]);
        config.override_settings(events, self.drop_mode);
        #[cfg(feature = "faults")]
        config.set_fault(self.fault);
        config.seed = self.seed.or(file.seed);
        config.admin_token = self.admin_token.or(file.admin_token);
        if config
            .admin_token
            .as_deref()
            .is_some_and(|t| t.trim().is_empty())
        {
            return Err("the admin token must not be empty (leave it out for no token)".to_owned());
        }
        if let Some(capacity) = file.journal_capacity {
            config.journal_capacity = capacity;
        }
        let mappings = self.mappings.clone().or_else(|| {
            let path = file.mappings.take()?;
            let folder = self.config.as_deref().and_then(std::path::Path::parent);
            Some(match folder {
                Some(folder) if path.is_relative() => folder.join(path),
                _ => path,
            })
        });
        if let Some(path) = mappings {
            load_mappings(&path, &mut config.apps)?;
        }
        validate_apps(&config.apps).map_err(|e| e.message)?;
        Ok(Settings {
            bind,
            config,
            log_format: self.log_format.or(file.log_format).unwrap_or_default(),
        })
    }
}

/// Read a mapping file into the applications it names (the default one when it names none).
pub fn load_mappings(path: &std::path::Path, apps: &mut [AppConfig]) -> Result<(), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read mapping file {}: {e}", path.display()))?;
    let sets = crate::segment::read_mappings_file(&text)
        .map_err(|e| format!("mapping file {} is not valid: {e}", path.display()))?;
    for (key, set) in sets {
        let app = match &key {
            None => apps.first_mut(),
            Some(key) => apps.iter_mut().find(|a| &a.api_key == key),
        };
        let app = app.ok_or_else(|| {
            format!(
                "mapping file {} names the application {:?}, which is not configured",
                path.display(),
                key.unwrap_or_default()
            )
        })?;
        app.set_mappings(set);
    }
    Ok(())
}

/// For each --write-key given on the command line, the --app it follows. Write keys from the
/// environment, or without any --app on the command line, belong to the first application.
fn write_key_owners(matches: &clap::ArgMatches) -> Vec<Option<usize>> {
    let on_command_line =
        |id: &str| matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
    let Some(keys) = matches.indices_of("write_keys") else {
        return Vec::new();
    };
    if !on_command_line("write_keys") || !on_command_line("apps") {
        return keys.map(|_| Some(0)).collect();
    }
    let apps: Vec<usize> = matches
        .indices_of("apps")
        .map(Iterator::collect)
        .unwrap_or_default();
    keys.map(|i| apps.partition_point(|&a| a < i).checked_sub(1))
        .collect()
}

/// The listen address when none is given.
pub const DEFAULT_BIND: &str = "127.0.0.1:4100";

/// Everything the binary needs to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Where to listen.
    pub bind: SocketAddr,
    /// The server's settings.
    pub config: Config,
    /// How to write log lines.
    pub log_format: LogFormat,
}

/// `HOST:PORT` to a socket address: an IP literal, or a name such as `localhost` (its first
/// address).
fn resolve_bind(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    std::net::ToSocketAddrs::to_socket_addrs(text)
        .map_err(|e| format!("--bind {text:?} is not HOST:PORT: {e}"))?
        .next()
        .ok_or_else(|| format!("--bind {text:?} names no address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<(SocketAddr, Config), String> {
        settings(args).map(|s| (s.bind, s.config))
    }

    fn settings(args: &[&str]) -> Result<Settings, String> {
        let cli = Cli::try_parse_args(std::iter::once("rehook-mock").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        cli.into_settings()
    }

    #[test]
    fn no_flags_give_the_default_application() {
        let (bind, config) = parse(&[]).unwrap();
        assert_eq!(bind.to_string(), "127.0.0.1:4100");
        assert_eq!(config.apps, vec![AppConfig::default_app()]);
    }

    #[test]
    fn apps_and_settings_from_flags() {
        let (_, config) = parse(&[
            "--app",
            "k1:s1",
            "--app",
            "k2:s:2",
            "--write-key",
            "w1",
            "--conversion-event",
            "signup",
            "--conversion-event",
            "trial_started",
            "--drop-mode",
            "accept",
            "--seed",
            "7",
        ])
        .unwrap();
        assert_eq!(config.apps.len(), 2);
        assert_eq!(config.apps[1].api_secret, "s:2");
        assert!(config.apps[0].write_keys.is_empty());
        assert_eq!(
            config.apps[1].write_keys,
            vec!["w1".to_owned()],
            "after the second --app"
        );
        assert_eq!(
            config.apps[1].conversion_events,
            vec!["signup".to_owned(), "trial_started".to_owned()]
        );
        assert_eq!(config.apps[1].drop_mode, DropMode::Accept);
        assert_eq!(config.seed, Some(7));
    }

    #[test]
    fn an_app_without_a_colon_is_refused() {
        let err = parse(&["--app", "nocolon"]).unwrap_err();
        assert!(err.contains("KEY:SECRET"), "{err}");
    }

    #[test]
    fn config_doc_keeps_running_secrets_and_refuses_duplicates() {
        let running = vec![AppConfig::default_app()];
        let doc: ConfigDoc =
            serde_json::from_value(json!({"applications": [{"api_key": "rk_test_key"}]})).unwrap();
        let apps = doc.resolve(&running).unwrap();
        assert_eq!(apps[0].api_secret, DEFAULT_API_SECRET);
        let dup: ConfigDoc = serde_json::from_value(json!({"applications": [
            {"api_key": "a", "api_secret": "s", "write_keys": ["w"]},
            {"api_key": "b", "api_secret": "s", "write_keys": ["w"]}
        ]}))
        .unwrap();
        assert_eq!(
            dup.resolve(&running).unwrap_err().code,
            ErrorCode::InvalidConfig
        );
    }

    fn write_config(name: &str, text: &str) -> std::path::PathBuf {
        let path =
            std::env::temp_dir().join(format!("rehook-mock-config-{}-{name}", std::process::id()));
        std::fs::write(&path, text).expect("write a temporary config file");
        path
    }

    #[test]
    fn the_readme_config_file_example_loads() {
        let path = write_config(
            "readme.toml",
            r#"
seed = 7
[[applications]]
api_key = "rk_live_like"
api_secret = "s3cret"
write_keys = ["wk_web", "wk_ios"]
conversion_events = ["signup", "trial_started"]
drop_mode = "accept"
referral_link_base = "https://example.test/invite"
"#,
        );
        let s = settings(&["--config", path.to_str().unwrap()]).unwrap();
        let app = &s.config.apps[0];
        assert_eq!(s.config.seed, Some(7));
        assert_eq!(app.api_key, "rk_live_like");
        assert_eq!(
            app.write_keys,
            vec!["wk_web".to_owned(), "wk_ios".to_owned()]
        );
        assert_eq!(app.drop_mode, DropMode::Accept);
        assert_eq!(app.referral_link_base, "https://example.test/invite");
        assert_eq!(s.log_format, LogFormat::Text);
    }

    #[test]
    fn a_config_file_holds_every_flag_and_flags_win() {
        let path = write_config(
            "all.json",
            r#"{"bind": "localhost:0", "log_format": "json", "drop_mode": "accept",
                "conversion_events": ["purchase"], "journal_capacity": 5, "admin_token": "t",
                "applications": [{"api_key": "a", "api_secret": "s"},
                                 {"api_key": "b", "api_secret": "s", "drop_mode": "reject"}]}"#,
        );
        let file = path.to_str().unwrap();
        let s = settings(&["--config", file]).unwrap();
        assert!(s.bind.ip().is_loopback(), "{}", s.bind);
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(s.config.journal_capacity, 5);
        assert_eq!(s.config.admin_token.as_deref(), Some("t"));
        assert_eq!(s.config.apps[0].drop_mode, DropMode::Accept);
        assert_eq!(
            s.config.apps[1].drop_mode,
            DropMode::Reject,
            "its own setting"
        );
        assert_eq!(
            s.config.apps[1].conversion_events,
            vec!["purchase".to_owned()]
        );
        let s = settings(&[
            "--config",
            file,
            "--log-format",
            "text",
            "--bind",
            "127.0.0.1:9",
        ])
        .unwrap();
        assert_eq!(s.log_format, LogFormat::Text);
        assert_eq!(s.bind.to_string(), "127.0.0.1:9");
        let bad = write_config("bad.toml", "colour = \"red\"\n");
        let err = settings(&["--config", bad.to_str().unwrap()]).unwrap_err();
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn an_empty_referral_link_base_is_refused() {
        let mut app = AppConfig::default_app();
        app.referral_link_base = " ".into();
        assert_eq!(
            validate_apps(&[app]).unwrap_err().code,
            ErrorCode::InvalidConfig
        );
    }

    #[test]
    fn secrets_may_hold_commas_and_write_keys_follow_their_app() {
        let (_, config) = parse(&["--app", "k:se,cret"]).unwrap();
        assert_eq!(config.apps[0].api_secret, "se,cret");
        let (_, config) = parse(&["--write-key", "a,b"]).unwrap();
        assert_eq!(config.apps[0].write_keys, vec!["wk_test", "a", "b"]);
        let (_, config) = parse(&[
            "--app",
            "k1:s",
            "--write-key",
            "w1",
            "--app",
            "k2:s",
            "--write-key",
            "w2",
            "--write-key",
            "w3",
        ])
        .unwrap();
        assert_eq!(config.apps[0].write_keys, vec!["w1"]);
        assert_eq!(config.apps[1].write_keys, vec!["w2", "w3"]);
        let err = parse(&["--write-key", "w", "--app", "k:s"]).unwrap_err();
        assert!(err.contains("before any --app"), "{err}");
    }

    #[test]
    fn an_empty_admin_token_is_refused_at_start() {
        let err = parse(&["--admin-token", " "]).unwrap_err();
        assert!(err.contains("admin token"), "{err}");
    }

    #[test]
    fn a_config_file_may_start_with_a_byte_order_mark() {
        let path = write_config("bom.json", "\u{FEFF}{\"seed\": 3}");
        let s = settings(&["--config", path.to_str().unwrap()]).unwrap();
        assert_eq!(s.config.seed, Some(3));
    }

    #[test]
    fn blank_conversion_events_and_repeated_write_keys_are_refused() {
        let mut app = AppConfig::default_app();
        app.conversion_events = vec![" ".into()];
        assert!(
            validate_apps(&[app])
                .unwrap_err()
                .message
                .contains("blank conversion event")
        );
        let mut app = AppConfig::default_app();
        app.write_keys = vec!["w".into(), "w".into()];
        assert!(validate_apps(&[app]).unwrap_err().message.contains("twice"));
    }
}
