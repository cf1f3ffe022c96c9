//! Integration tests of the emulator over raw HTTP (one test binary, one module per area).

mod agents;
mod common;
mod contract;
mod conversations;
mod deployments;
mod faults;
mod layers;
mod memories;
mod responses;
mod stores;
mod tokens;
