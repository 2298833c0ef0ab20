//! The reference model: the contract's rules for one application as a pure state machine (no
//! IO, no clock), written independently of the server it checks.
//!
//! - [`coerce`]: which values each field accepts and how numbers become text (sections 2.2, 6).
//! - [`app`]: the state (customers by source_id, code owners, events, the drop log) and the
//!   Rehook API's rules over it (section 2), with generated codes kept symbolic until learned.
//! - [`segment`]: Segment's ingestion and the Rehook destination's default mapping (section 3).
//!
//! [`crate::contract`] runs it beside a real server and compares every answer and every
//! observable piece of state.

pub mod app;
pub mod coerce;
pub mod segment;

pub use app::{App, Customer, DropMode, Endpoint, Event, Referral, Reply, Settings};
pub use segment::{Play, Source};

#[cfg(test)]
mod tests;
