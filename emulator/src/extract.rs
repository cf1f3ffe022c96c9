//! Deterministic stand-ins for the service's memory models (milestone 2).
