//! `rehook-mock`: a local, in-memory fake of the Rehook referral API.
//!
//! One process (or one in-process server per test) keeps customers, unique referral codes,
//! events, referrals and logs in memory and serves them on one port through the Rehook API
//! (Basic auth), the Segment front door (`/v1/...`) and the admin API (`/__admin/...`), which
//! inspects, resets, configures, exports and imports the state. The behaviour follows the contract in `docs/contract.md`.
//!
//! A map of the modules:
//!
//! - [`config`]: applications (tenants), their settings, and the command line.
//! - [`store`]: the state; dashmap inside, owned values out, no guard leaves a method.
//! - `rehook`: the business rules of the Rehook API as plain functions over the store.
//! - `api`: the Rehook HTTP surface (customers, events, auth).
//! - [`segment`]: Segment's ingestion rules, the Rehook destination's default mapping and
//!   custom mappings, and the Segment front door (`/v1/...`) that runs them for real SDKs.
//! - `admin`: the `/__admin` control plane.
//! - [`body`]: how JSON bodies are read (media type, gzip, size, BOM, shape).
//! - [`error`]: the one error type and its JSON body.
//! - [`server`]: the router, the serve loop and [`MockRehook`], the in-process handle.
//! - `Fault` (cargo feature `faults`, test-only): one deliberate deviation from the contract
//!   per server, to prove that contract checkers catch it; absent from normal builds.
//!
//! ```no_run
//! # async fn demo() {
//! let mock = rehook_mock::MockRehook::start().await;
//! println!("Rehook API at {}", mock.base_url());
//! # }
//! ```

pub mod body;
pub mod config;
pub mod error;
pub mod request_id;
pub mod segment;
pub mod server;
pub mod store;

mod admin;
mod api;
mod extract;
mod middleware;
mod rehook;

pub use config::{AppConfig, Config, DropMode};
pub use error::{ApiError, ErrorCode};
#[cfg(feature = "faults")]
pub use rehook::fault::Fault;
pub use server::{MockRehook, MockRehookBuilder, SHUTDOWN_GRACE, Timeouts, app, run, run_with};
pub use store::{Customer, DeliveryEntry, DeliveryOutcome, DropEntry, Event, Store};
