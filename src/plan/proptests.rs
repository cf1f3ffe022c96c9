//! Property tests of the planner over generated desired and live states, against the
//! in-memory service model and an independent, simpler oracle (nextest's rerun.rs approach).
//!
//! Each case: foreign resources exist (unmanaged, or another set's); a first manifest set is
//! applied; someone edits owned resources behind foundryctl's back; then a second manifest set
//! is planned with random options. The properties:
//! - applying the plan (everything allowed) and planning again gives no actions and no drift;
//! - after that apply, every declared resource holds exactly the declared content (the model
//!   knows the hidden options, so this is checked against the truth), except where the plan
//!   warned that it could not verify hidden options;
//! - per resource, the action kind matches the oracle's table computed from the true state;
//! - no delete without `--prune`/`destroy`; foreign resources are never touched;
//! - blocked actions have no effect; dependencies point to earlier levels;
//! - the plan and its renderings are deterministic.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::service_model::Service;
use super::tests::plan_against;
use super::*;
use crate::model::{
    Agent, AgentName, AgentSpec, DesiredState, MemorySearchTool, MemoryStore, MemoryStoreName,
    MemoryStoreOptions, MemoryStoreSpec, Ownership, ResourceRef, SetName, Tool, normalize,
};

const STORES: [&str; 3] = ["s0", "s1", "s2"];
const AGENTS: [&str; 3] = ["a0", "a1", "a2"];

fn store_spec() -> impl Strategy<Value = MemoryStoreSpec> {
    (
        prop::sample::select(vec!["", "d1", "d2\n"]),
        prop::option::of(prop::sample::select(vec!["x", "y"])),
        prop::sample::select(vec!["c1", "c2"]),
        prop::sample::select(vec!["e1", "e2"]),
        (
            prop::option::of(any::<bool>()),
            prop::option::of(prop::sample::select(vec!["", "p", "q"])),
            prop::option::of(any::<bool>()),
            prop::option::of(any::<bool>()),
            prop::option::of(prop::sample::select(vec![0_u64, 100, 200])),
        ),
    )
        .prop_map(
            |(description, team, chat, emb, (upe, upd, cse, pme, ttl))| MemoryStoreSpec {
                description: description.to_owned(),
                labels: team
                    .map(|t| BTreeMap::from([("team".to_owned(), t.to_owned())]))
                    .unwrap_or_default(),
                chat_model: chat.to_owned(),
                embedding_model: emb.to_owned(),
                options: MemoryStoreOptions {
                    user_profile_enabled: upe,
                    user_profile_details: upd.map(str::to_owned),
                    chat_summary_enabled: cse,
                    procedural_memory_enabled: pme,
                    default_ttl_seconds: ttl,
                },
            },
        )
}

fn agent_spec() -> impl Strategy<Value = AgentSpec> {
    (
        prop::sample::select(vec!["", "agent"]),
        prop::sample::select(vec!["m1", "m2"]),
        prop::option::of(prop::sample::select(vec![
            "i1\n",
            "i1",
            "i2\nsecond line\n",
        ])),
        prop::option::of(prop::sample::select(vec![0.2_f64, 0.7])),
        prop::collection::vec(
            (
                prop::sample::select(STORES.to_vec()),
                prop::option::of(prop::sample::select(vec![0_u64, 1, 300])),
            ),
            0..=2,
        ),
    )
        .prop_map(
            |(description, model, instructions, temperature, tools)| AgentSpec {
                description: description.to_owned(),
                model: model.to_owned(),
                instructions: instructions.map(str::to_owned),
                temperature,
                tools: tools
                    .into_iter()
                    .map(|(store, delay)| {
                        Tool::MemorySearch(MemorySearchTool {
                            memory_store_name: MemoryStoreName::new(store).unwrap(),
                            scope: "{{$userId}}".to_owned(),
                            max_memories: None,
                            update_delay: delay,
                        })
                    })
                    .collect(),
                ..AgentSpec::default()
            },
        )
}

fn desired_state() -> impl Strategy<Value = DesiredState> {
    (
        prop::collection::btree_map(
            prop::sample::select(STORES.to_vec()),
            (store_spec(), any::<bool>()),
            0..=3,
        ),
        prop::collection::btree_map(prop::sample::select(AGENTS.to_vec()), agent_spec(), 0..=3),
    )
        .prop_map(|(stores, agents)| DesiredState {
            seeds: BTreeMap::new(),
            stores: stores
                .into_iter()
                .map(|(n, (spec, disposable))| {
                    let name = MemoryStoreName::new(n).unwrap();
                    (
                        name.clone(),
                        MemoryStore {
                            name,
                            spec,
                            disposable,
                        },
                    )
                })
                .collect(),
            agents: agents
                .into_iter()
                .map(|(n, spec)| {
                    let name = AgentName::new(n).unwrap();
                    (name.clone(), Agent { name, spec })
                })
                .collect(),
            templates: std::collections::BTreeMap::new(),
            checks: std::collections::BTreeMap::new(),
        })
}

/// Who else has resources in the project before foundryctl runs.
#[derive(Debug, Clone, Copy)]
enum Foreign {
    Unmanaged,
    OtherSet,
}

#[derive(Debug, Clone)]
struct Scenario {
    before: DesiredState,
    after: DesiredState,
    foreign_stores: BTreeMap<&'static str, Foreign>,
    foreign_agents: BTreeMap<&'static str, Foreign>,
    /// Portal edits to owned resources after the first apply.
    store_edits: BTreeMap<&'static str, &'static str>,
    agent_edits: BTreeMap<&'static str, AgentSpec>,
    echoes_ttl: bool,
    prune: bool,
    destroy: bool,
}

fn foreign() -> impl Strategy<Value = Foreign> {
    prop_oneof![Just(Foreign::Unmanaged), Just(Foreign::OtherSet)]
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        desired_state(),
        desired_state(),
        prop::collection::btree_map(prop::sample::select(STORES.to_vec()), foreign(), 0..=1),
        prop::collection::btree_map(prop::sample::select(AGENTS.to_vec()), foreign(), 0..=1),
        prop::collection::btree_map(
            prop::sample::select(STORES.to_vec()),
            prop::sample::select(vec!["d1", "edited"]),
            0..=2,
        ),
        prop::collection::btree_map(prop::sample::select(AGENTS.to_vec()), agent_spec(), 0..=2),
        any::<bool>(),
        any::<bool>(),
        prop::bool::weighted(0.15),
    )
        .prop_map(
            |(before, after, fs, fa, se, ae, echoes_ttl, prune, destroy)| Scenario {
                before,
                after,
                foreign_stores: fs,
                foreign_agents: fa,
                store_edits: se,
                agent_edits: ae,
                echoes_ttl,
                prune,
                destroy,
            },
        )
}

fn allow_all() -> PlanOptions {
    let all: BTreeSet<ResourceRef> = STORES
        .iter()
        .map(|s| ResourceRef::MemoryStore(MemoryStoreName::new(*s).unwrap()))
        .collect();
    PlanOptions {
        allow_replace: all.clone(),
        allow_delete: all,
        ..PlanOptions::default()
    }
}

/// Builds the project the second plan runs against.
fn project(s: &Scenario) -> Service {
    let mut svc = Service {
        echoes_ttl: s.echoes_ttl,
        ..Service::default()
    };
    let other_set = |name: &str| {
        crate::model::stamped_metadata(
            &BTreeMap::new(),
            &SetName::new("other").unwrap(),
            &format!("{name}-hash"),
        )
    };
    for (name, who) in &s.foreign_stores {
        let metadata = match who {
            Foreign::Unmanaged => BTreeMap::new(),
            Foreign::OtherSet => other_set(name),
        };
        let spec = MemoryStoreSpec {
            chat_model: "foreign".to_owned(),
            embedding_model: "foreign".to_owned(),
            ..MemoryStoreSpec::default()
        };
        svc.create_store(&MemoryStoreName::new(*name).unwrap(), &spec, &metadata);
    }
    for (name, who) in &s.foreign_agents {
        let metadata = match who {
            Foreign::Unmanaged => BTreeMap::new(),
            Foreign::OtherSet => other_set(name),
        };
        svc.create_version(&AgentName::new(*name).unwrap(), None, &metadata);
    }
    let first = plan_against(&svc, &s.before, &allow_all());
    svc.apply(&first);
    let set = SetName::default();
    for (name, description) in &s.store_edits {
        if let Some(store) = svc.stores.get_mut(&MemoryStoreName::new(*name).unwrap())
            && Ownership::from_metadata(&store.metadata).is_owned_by(&set)
        {
            store.spec.description = (*description).to_owned();
        }
    }
    for (name, spec) in &s.agent_edits {
        let name = AgentName::new(*name).unwrap();
        let ours = svc
            .agents
            .get(&name)
            .and_then(|v| v.last())
            .is_some_and(|v| Ownership::from_metadata(&v.metadata).is_owned_by(&set));
        if ours {
            // The portal keeps the labels but drops foundryctl's stamps.
            svc.create_version(&name, Some(spec), &BTreeMap::new());
        }
    }
    svc
}

fn options_for(s: &Scenario, allow: bool) -> PlanOptions {
    PlanOptions {
        prune: s.prune,
        destroy: s.destroy,
        ..if allow {
            allow_all()
        } else {
            PlanOptions::default()
        }
    }
}

/// The true stored content of a store in normal form (the model knows the hidden options).
fn true_store(svc: &Service, name: &MemoryStoreName) -> Option<serde_json::Value> {
    svc.stores
        .get(name)
        .map(|s| normalize::desired_store(&s.spec))
}

/// The oracle: what should happen to each declared store and agent, from the true state, by a
/// table much simpler than the planner's (which cannot see hidden options).
fn oracle(s: &Scenario, svc: &Service) -> BTreeMap<ResourceRef, Option<ActionKind>> {
    let set = SetName::default();
    let mut expected = BTreeMap::new();
    if s.destroy {
        return expected;
    }
    for (name, want) in &s.after.stores {
        let r = ResourceRef::MemoryStore(name.clone());
        let Some(stored) = svc.stores.get(name) else {
            expected.insert(r, Some(ActionKind::Create));
            continue;
        };
        if !Ownership::from_metadata(&stored.metadata).is_owned_by(&set) {
            expected.insert(r, None);
            continue;
        }
        let want_n = normalize::desired_store(&want.spec);
        let have_n = true_store(svc, name).unwrap_or_default();
        let immutable_differs = ["chat_model", "embedding_model", "options"]
            .iter()
            .any(|k| want_n[k] != have_n[k]);
        let mutable_differs =
            want_n["description"] != have_n["description"] || want_n["labels"] != have_n["labels"];
        // The disposable stamp is part of what an apply writes: declaring it or dropping it
        // is an update of its own.
        let stamp_stale = Ownership::from_metadata(&stored.metadata).hash
            != Some(crate::model::fingerprint::store(&want.spec))
            || crate::model::stamped_disposable(&stored.metadata) != want.disposable;
        let kind = if immutable_differs {
            Some(ActionKind::Replace)
        } else if mutable_differs || stamp_stale {
            Some(ActionKind::Update)
        } else {
            None
        };
        expected.insert(r, kind);
    }
    for (name, want) in &s.after.agents {
        let r = ResourceRef::Agent(name.clone());
        let Some(latest) = svc.agents.get(name).and_then(|v| v.last()) else {
            expected.insert(r, Some(ActionKind::Create));
            continue;
        };
        let ever_ours = svc.agents[name]
            .iter()
            .any(|v| Ownership::from_metadata(&v.metadata).is_owned_by(&set));
        let latest_own = Ownership::from_metadata(&latest.metadata);
        let ours = latest_own.is_owned_by(&set) || (!latest_own.managed && ever_ours);
        if !ours {
            expected.insert(r, None);
            continue;
        }
        let same = latest.spec.as_ref().map(normalize::agent) == Some(normalize::agent(&want.spec));
        let stamped = latest_own.is_owned_by(&set)
            && latest_own.hash == Some(crate::model::fingerprint::agent(&want.spec));
        expected.insert(r, (!same || !stamped).then_some(ActionKind::Update));
    }
    expected
}

fn warned(plan: &Plan) -> BTreeSet<ResourceRef> {
    plan.diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .filter_map(|d| d.resource.clone())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn apply_then_plan_converges_and_matches_the_oracle(s in scenario()) {
        let mut svc = project(&s);
        let options = options_for(&s, true);
        let plan = plan_against(&svc, &s.after, &options);

        // Per-resource decision against the oracle.
        let expected = oracle(&s, &svc);
        let warned = warned(&plan);
        for (resource, kind) in &expected {
            if warned.contains(resource) {
                continue;
            }
            let got = plan.actions.iter().find(|a| &a.resource == resource).map(|a| a.kind);
            prop_assert_eq!(got, *kind, "{} in {:#?}", resource, plan);
        }

        // Dependencies always point to earlier levels and earlier positions.
        for (i, a) in plan.actions.iter().enumerate() {
            for d in &a.depends_on {
                let j = plan.actions.iter().position(|b| &b.id == d).unwrap();
                prop_assert!(j < i && plan.actions[j].level < a.level);
            }
        }

        svc.apply(&plan);
        let again = plan_against(&svc, &s.after, &options);
        prop_assert!(again.actions.is_empty(), "not converged: {:#?}\nfirst: {:#?}", again, plan);
        prop_assert!(again.drift.is_empty());

        // The truth after apply: declared content, hidden options included.
        if !s.destroy {
            for (name, want) in &s.after.stores {
                let r = ResourceRef::MemoryStore(name.clone());
                if plan.conflicts.iter().any(|c| c.resource == r) || warned.contains(&r) {
                    continue;
                }
                prop_assert_eq!(
                    true_store(&svc, name),
                    Some(normalize::desired_store(&want.spec)),
                    "{}", r
                );
            }
        }
    }

    #[test]
    fn safety_properties_hold_with_default_protection(s in scenario()) {
        let mut svc = project(&s);
        let before_live = svc.live(&BTreeSet::new());
        let options = options_for(&s, false);
        let plan = plan_against(&svc, &s.after, &options);
        let set = SetName::default();

        for a in &plan.actions {
            // Only this set's resources (or absent ones) are acted on.
            let owned = match &a.resource {
                ResourceRef::MemoryStore(n) => before_live
                    .stores
                    .get(n)
                    .is_none_or(|l| l.ownership().is_owned_by(&set)),
                // Seeds are not generated here (see the seed tests in plan/tests.rs).
                ResourceRef::MemorySeed(_) => true,
                ResourceRef::Agent(n) => match before_live.agents.get(n) {
                    None => true,
                    Some(l) if l.ownership().is_owned_by(&set) => true,
                    Some(l) => !l.ownership().managed && svc.agents[n].iter().any(|v| {
                        Ownership::from_metadata(&v.metadata).is_owned_by(&set)
                    }),
                },
            };
            prop_assert!(owned, "{} is not ours", a.id);
            if a.kind == ActionKind::Delete {
                prop_assert!(s.prune || s.destroy, "delete without --prune: {}", a.id);
                prop_assert!(before_live.stores.contains_key(&store_of(&a.resource)) ||
                    matches!(a.resource, ResourceRef::Agent(_)));
            }
        }

        let stores_before = svc.stores.clone();
        svc.apply(&plan);
        let after_live = svc.live(&BTreeSet::new());
        // Foreign resources are untouched.
        for (name, l) in &before_live.stores {
            if !l.ownership().is_owned_by(&set) {
                prop_assert_eq!(after_live.stores.get(name), Some(l));
            }
        }
        for (name, l) in &before_live.agents {
            if !l.ownership().managed || !l.ownership().is_owned_by(&set) {
                let ever_ours = svc.agents.get(name).is_some_and(|vs| vs.iter().any(|v|
                    Ownership::from_metadata(&v.metadata).is_owned_by(&set)));
                if !ever_ours {
                    prop_assert_eq!(&after_live.agents.get(name).map(|a| &a.latest), &Some(&l.latest));
                }
            }
        }
        // Blocked actions had no effect: the store and its memories are still there.
        for a in plan.actions.iter().filter(|a| a.blocked.is_some()) {
            let name = store_of(&a.resource);
            let (b, after) = (&stores_before[&name], &svc.stores[&name]);
            prop_assert_eq!(b.updated_at, after.updated_at);
            prop_assert_eq!(b.memories, after.memories);
        }
        // Without --prune or destroy, nothing that existed is gone.
        if !s.prune && !s.destroy {
            for name in before_live.stores.keys() {
                prop_assert!(svc.stores.contains_key(name));
            }
            for name in before_live.agents.keys() {
                prop_assert!(svc.agents.contains_key(name));
            }
        }
    }

    #[test]
    fn planning_and_rendering_are_deterministic(s in scenario()) {
        let svc = project(&s);
        let options = options_for(&s, false);
        let a = plan_against(&svc, &s.after, &options);
        let b = plan_against(&svc, &s.after, &options);
        prop_assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
        let render = |p: &Plan| {
            let mut out = Vec::new();
            crate::render::human::render(p, &mut out, &crate::render::HumanOptions::default()).unwrap();
            crate::render::json::render(p, &mut out).unwrap();
            crate::render::markdown::render(p, "local:/tmp/project", &mut out).unwrap();
            out
        };
        prop_assert_eq!(render(&a), render(&b));
    }
}

fn store_of(r: &ResourceRef) -> MemoryStoreName {
    match r {
        ResourceRef::MemoryStore(n) => n.clone(),
        ResourceRef::Agent(_) | ResourceRef::MemorySeed(_) => MemoryStoreName::new("none").unwrap(),
    }
}
