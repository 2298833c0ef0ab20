//! The integration tests of `rehook-mock`: one binary, one module per part of the contract.
//!
//! Every test starts its own fake on `127.0.0.1:0` (or drives the router without a socket),
//! asserts exact outcomes, and never sleeps.

mod shutdown;
mod support;

mod admin;
mod auth;
mod binary;
mod common_rules;
mod concurrency;
mod customers;
mod events;
mod faults;
mod front_door;
mod mappings;
mod real_clients;
