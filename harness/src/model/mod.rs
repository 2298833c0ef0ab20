//! The reference model: the contract's rules for one application as a pure state machine (no
//! IO, no clock), written independently of the server it checks.
