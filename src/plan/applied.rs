//! Whether a saved plan has already been carried out: the project already holds what each of
//! its actions would make. `apply FILE` run twice then says so in one sentence instead of
//! refusing every action as stale.

use std::collections::BTreeMap;

use super::types::{Op, Plan};
use crate::model::{LiveState, Ownership};

/// True when the plan has actions and every one's result is already live: each resource it
/// writes carries the stamp (set and fingerprint) the plan would write, and each it deletes is
/// gone. A fingerprint covers the whole applied spec, so an equal one means the same content.
pub fn already_applied(plan: &Plan, live: &LiveState) -> bool {
    let stamped = |have: &BTreeMap<String, String>, want: &BTreeMap<String, String>| {
        let (have, want) = (
            Ownership::from_metadata(have),
            Ownership::from_metadata(want),
        );
        have.managed && have.set == want.set && have.hash.is_some() && have.hash == want.hash
    };
    !plan.actions.is_empty()
        && plan.actions.iter().all(|action| match &action.op {
            Op::CreateStore { name, metadata, .. }
            | Op::UpdateStore { name, metadata, .. }
            | Op::ReplaceStore { name, metadata, .. }
            | Op::StampStore { name, metadata, .. } => live
                .stores
                .get(name)
                .is_some_and(|s| stamped(&s.metadata, metadata)),
            Op::CreateAgentVersion { name, metadata, .. }
            | Op::StampAgent { name, metadata, .. } => live
                .agents
                .get(name)
                .is_some_and(|a| stamped(&a.latest.metadata, metadata)),
            Op::DeleteStore { name } => !live.stores.contains_key(name),
            Op::DeleteAgent { name } => !live.agents.contains_key(name),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MemoryStoreName, SetName, stamped_metadata};
    use crate::plan::types::{Action, ActionKind, Precondition};

    fn plan_with(op: Op) -> Plan {
        let set = SetName::default();
        let mut plan = crate::plan::plan(
            &crate::model::DesiredState::default(),
            &LiveState::default(),
            &crate::plan::PlanOptions {
                set,
                ..Default::default()
            },
        );
        plan.actions.push(Action {
            id: "memory_store/prefs".to_owned(),
            resource: crate::model::ResourceRef::MemoryStore(
                MemoryStoreName::new("prefs").unwrap(),
            ),
            kind: ActionKind::Create,
            op,
            fingerprint: None,
            precondition: Precondition::Absent,
            reasons: Vec::new(),
            changes: Vec::new(),
            depends_on: Vec::new(),
            level: 0,
            blocked: None,
        });
        plan
    }

    #[test]
    fn an_empty_plan_is_not_already_applied_and_a_delete_is_once_the_resource_is_gone() {
        let live = LiveState::default();
        let mut empty = plan_with(Op::DeleteStore {
            name: MemoryStoreName::new("prefs").unwrap(),
        });
        assert!(already_applied(&empty, &live));
        empty.actions.clear();
        assert!(!already_applied(&empty, &live));
        let create = plan_with(Op::CreateStore {
            name: MemoryStoreName::new("prefs").unwrap(),
            spec: Default::default(),
            metadata: stamped_metadata(&Default::default(), &SetName::default(), "h1"),
        });
        assert!(!already_applied(&create, &live), "the store is absent");
    }
}
