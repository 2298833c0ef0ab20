//! The harness's one integration-test binary: replaying files against in-process fakes and
//! tiny stand-in servers, reading every input format, and the command line's exit codes.

mod check;
mod cli;
mod client;
mod corpus;
mod engage;
mod input_formats;
mod proof_of_power;
mod properties;
mod replay_answers;
mod replay_mappings;
mod snapshots;
mod support;
mod via_segment;
