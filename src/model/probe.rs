//! Probes: what `foundryctl check` asks a declared agent and what the answer must show. They
//! are foundryctl's own (never sent to the service as part of the agent) and play no part in
//! plans.

use serde::{Deserialize, Serialize};

/// One probe, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    /// The question put to the agent; never empty.
    pub ask: String,
    /// Who asks (`x-memory-user-id`); `None` asks as a throw-away user.
    pub user_id: Option<String>,
    pub expect: ProbeExpect,
}

/// What a probe's answer must show; `None` checks nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeExpect {
    /// A memory the agent's memory tool recalled contains this (case-insensitive).
    pub memory_recalled: Option<String>,
    /// The answer contains this (case-insensitive).
    pub answer_contains: Option<String>,
}

impl Probe {
    /// The probe `check` runs for an agent that declares none: any answer will do, and an
    /// agent with a memory tool must call it.
    pub fn default_for_agent() -> Self {
        Self {
            ask: "Hello! Please answer briefly: are you there?".to_owned(),
            user_id: None,
            expect: ProbeExpect::default(),
        }
    }
}
