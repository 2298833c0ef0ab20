//! The contract checks: named scenarios, randomised sequences checked against the reference
//! model, and a concurrency race, runnable against any Rehook-compatible server.
//!
//! - `scenarios`: one named scenario per rule of the contract, with explicit expectations.
//! - `random`: seeded random sequences checked step by step against [`crate::model`].
//! - `race`: concurrent calls claiming overlapping codes; codes stay unique, no update is lost.
//! - `report`: JUnit XML and JSON summaries of a run.

pub mod race;
pub mod random;
pub mod report;
pub mod scenarios;
