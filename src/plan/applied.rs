//! Whether a saved plan has already been carried out: the project already holds what each of
//! its actions would make. `apply FILE` run twice then says so in one sentence instead of
//! refusing every action as stale.

use super::types::{Op, Plan};
use crate::model::{LiveState, fingerprint, normalize_content};

/// True when the plan has actions and every one's result is already live: each resource it
/// writes holds exactly the metadata (labels and stamps) the plan would write and the content
/// it would write (a store's description and models, an agent's definition), and each it
/// deletes is gone. Matching stamps alone are not enough: a resource edited behind
/// foundryctl's back keeps its stamps, and the plan must then run (or be refused as stale).
pub fn already_applied(plan: &Plan, live: &LiveState) -> bool {
    !plan.actions.is_empty()
        && plan.actions.iter().all(|action| match &action.op {
            Op::CreateStore {
                name,
                spec,
                metadata,
            }
            | Op::ReplaceStore {
                name,
                spec,
                metadata,
            } => live.stores.get(name).is_some_and(|s| {
                s.metadata == *metadata
                    && s.spec.description == spec.description
                    && s.spec.chat_model == spec.chat_model
                    && s.spec.embedding_model == spec.embedding_model
                    // A reset (`--replace`) makes the store it replaces: done only once the
                    // store is no longer the one the plan read.
                    && (matches!(action.op, Op::CreateStore { .. })
                        || !action.precondition.holds_for_store(Some(s)))
            }),
            Op::UpdateStore {
                name,
                description,
                metadata,
            }
            | Op::StampStore {
                name,
                description,
                metadata,
            } => live
                .stores
                .get(name)
                .is_some_and(|s| s.metadata == *metadata && s.spec.description == *description),
            Op::CreateAgentVersion {
                name,
                spec,
                metadata,
            }
            | Op::StampAgent {
                name,
                spec,
                metadata,
            } => live.agents.get(name).is_some_and(|a| {
                a.latest.metadata == *metadata
                    && a.latest
                        .spec
                        .as_ref()
                        .is_some_and(|have| fingerprint::agent(have) == fingerprint::agent(spec))
            }),
            // Only the scopes a run read are known: a seed whose scopes were not read counts as
            // not applied, and its own precondition decides.
            Op::SeedMemories {
                store,
                create,
                delete,
            } => live.memories.get(store).is_some_and(|scopes| {
                let holds = |scope: &str, test: &dyn Fn(&crate::model::LiveMemory) -> bool| {
                    scopes
                        .get(scope)
                        .is_some_and(|items| items.iter().any(test))
                };
                create.iter().all(|w| {
                    let content = normalize_content(&w.content);
                    holds(&w.scope, &|m| {
                        m.kind == w.kind && normalize_content(&m.content) == content
                    })
                }) && delete.iter().all(|d| {
                    scopes.contains_key(&d.scope) && !holds(&d.scope, &|m| m.id == d.memory_id)
                })
            }),
            Op::DeleteStore { name } => !live.stores.contains_key(name),
            Op::DeleteAgent { name } => !live.agents.contains_key(name),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MemoryStoreName, SetName, stamped_metadata};
    use crate::plan::types::{ActionKind, Precondition};

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
        plan.actions.push(crate::plan::build::action(
            crate::model::ResourceRef::MemoryStore(MemoryStoreName::new("prefs").unwrap()),
            ActionKind::Create,
            op,
            Precondition::Absent,
        ));
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

        // Present with the plan's stamps: applied only while the content is the plan's too.
        let Op::CreateStore { spec, metadata, .. } = &create.actions[0].op else {
            unreachable!()
        };
        let mut store = crate::model::LiveMemoryStore {
            name: MemoryStoreName::new("prefs").unwrap(),
            id: "s1".to_owned(),
            created_at: 0,
            updated_at: 0,
            metadata: metadata.clone(),
            spec: spec.clone(),
        };
        let mut live = LiveState::default();
        live.stores.insert(store.name.clone(), store.clone());
        assert!(already_applied(&create, &live));
        store.spec.description = "edited behind foundryctl's back".to_owned();
        live.stores.insert(store.name.clone(), store);
        assert!(!already_applied(&create, &live), "drift is not 'applied'");
    }
}
