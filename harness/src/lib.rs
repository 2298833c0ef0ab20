//! `rehook-harness`: replays Segment traffic against a Rehook-compatible server, playing
//! Segment's ingestion and the Rehook destination's mapping.
//!
//! A map of the modules:
//!
//! - [`client`]: a typed HTTP client for the Rehook API (Basic auth) and the fake's admin API.
//! - [`input`]: reading Segment messages from files; the format (NDJSON, JSON array, batch
//!   envelopes, gzip) is detected.
//! - [`replay`](mod@replay): the harness playing Segment (ingestion rules and the Rehook destination's
//!   default mapping, from [`rehook_mock::segment`]) and recording what became of each message.
//! - [`engage`]: playing Segment Engage syncing an audience (identify calls to `/v1/batch`).
//! - [`via_segment`]: replaying through a target's Segment front door (`/v1/batch`), with the
//!   per-message outcomes read from its delivery log.
//! - [`error_text`](mod@error_text): one line for an error and its causes, each cause once.
//! - [`model`]: the reference model of one application (the contract's rules, pure, sharing
//!   no code with the fake) that the random sequences of [`contract`] are checked against.
//! - [`contract`]: the contract checks (named scenarios, random sequences against [`model`],
//!   the race) and [`contract::check`], which runs them against any server.
//!
//! The binary `rehook-harness` puts them behind a command line. `replay` exits 0 (every
//! message got an answer), 1 (some call got a 5xx or no answer) or 2 (unusable input or
//! arguments, or a server at `--base-url` that refuses the credentials or is not a Rehook API);
//! `check` exits 0 (every case passed), 1 (a contract case failed) or 2 (the run could not
//! start).

pub mod client;
pub mod contract;
pub mod engage;
pub mod error_text;
pub mod input;
pub mod model;
pub mod replay;
pub mod via_segment;

pub use client::{Answer, Client, ClientError};
pub use error_text::error_text;
pub use input::{Format, InputError, InputMessage, Location, ParsedFile};
pub use replay::{Delivery, Outcome, Replayer, Report, Summary, replay};
