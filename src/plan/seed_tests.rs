//! Scenario tests of memory seeds against the in-memory service model.

use std::collections::BTreeSet;

use super::service_model::Service;
use super::tests::{desired, plan_against, store, store_name};
use super::*;
use crate::model::{DesiredState, LiveMemory, MemorySeed, ResourceRef, SeedMemory, SeedName};

fn memory(kind: &str, content: &str) -> SeedMemory {
    SeedMemory {
        kind: kind.to_owned(),
        content: content.to_owned(),
    }
}

fn seed(
    name: &str,
    store: &str,
    scopes: &[(&str, Vec<SeedMemory>)],
    exclusive: bool,
) -> MemorySeed {
    MemorySeed {
        name: SeedName::new(name).unwrap(),
        store: store_name(store),
        scopes: scopes
            .iter()
            .map(|(scope, memories)| ((*scope).to_owned(), memories.clone()))
            .collect(),
        exclusive,
    }
}

fn with_seed(seed: MemorySeed) -> DesiredState {
    let mut want = desired(&[store("prefs")], &[]);
    want.seeds.insert(seed.name.clone(), seed);
    want
}

fn dana() -> Vec<SeedMemory> {
    vec![
        memory("user_profile", "Works mostly in Python."),
        memory("chat_summary", "Asked about pandas."),
    ]
}

fn users_own(svc: &mut Service, scope: &str, content: &str) {
    svc.items
        .entry(store_name("prefs"))
        .or_default()
        .entry(scope.to_owned())
        .or_default()
        .push(LiveMemory {
            id: format!("own-{content}"),
            kind: "user_profile".to_owned(),
            content: content.to_owned(),
        });
}

fn r(s: &str) -> ResourceRef {
    s.parse().unwrap()
}

#[test]
fn a_seed_runs_after_its_store_is_created_and_then_plans_nothing() {
    let mut svc = Service::default();
    let want = with_seed(seed("demo", "prefs", &[("dana", dana())], false));
    let plan = plan_against(&svc, &want, &PlanOptions::default());
    let seed_action = plan
        .actions
        .iter()
        .find(|a| a.resource == r("memory_seed/demo"))
        .expect("a seed action");
    assert_eq!(seed_action.kind, ActionKind::Create);
    assert_eq!(seed_action.depends_on, ["memory_store/prefs"]);
    assert_eq!(seed_action.changes.len(), 2);
    svc.apply(&plan);
    let again = plan_against(&svc, &want, &PlanOptions::default());
    assert!(!again.has_changes(), "{again:#?}");
    assert!(again.memories_left_in_place.is_empty());
}

#[test]
fn present_memories_match_up_to_whitespace_and_only_missing_ones_are_written() {
    let mut svc = Service::default();
    svc.apply(&plan_against(
        &svc,
        &desired(&[store("prefs")], &[]),
        &PlanOptions::default(),
    ));
    users_own(&mut svc, "dana", "  Works mostly\nin Python. ");
    let want = with_seed(seed("demo", "prefs", &[("dana", dana())], false));
    let plan = plan_against(&svc, &want, &PlanOptions::default());
    assert_eq!(plan.actions.len(), 1, "{plan:#?}");
    let Op::SeedMemories { create, delete, .. } = &plan.actions[0].op else {
        panic!("{plan:#?}");
    };
    assert_eq!(create.len(), 1);
    assert_eq!(create[0].content, "Asked about pandas.");
    assert!(delete.is_empty());
}

#[test]
fn undeclared_memories_are_left_in_place_and_listed() {
    let mut svc = Service::default();
    let want = with_seed(seed("demo", "prefs", &[("dana", dana())], false));
    svc.apply(&plan_against(&svc, &want, &PlanOptions::default()));
    users_own(&mut svc, "dana", "Likes tea.");
    users_own(&mut svc, "lee", "Not a seeded scope.");
    let plan = plan_against(&svc, &want, &PlanOptions::default());
    assert!(!plan.has_changes(), "{plan:#?}");
    let listed: Vec<&str> = plan
        .memories_left_in_place
        .iter()
        .map(|m| m.content.as_str())
        .collect();
    assert_eq!(listed, ["Likes tea."]);
}

#[test]
fn an_exclusive_seed_deletes_undeclared_memories_only_when_allowed() {
    let mut svc = Service::default();
    let want = with_seed(seed("demo", "prefs", &[("dana", dana())], true));
    svc.apply(&plan_against(&svc, &want, &PlanOptions::default()));
    users_own(&mut svc, "dana", "Likes tea.");
    let plan = plan_against(&svc, &want, &PlanOptions::default());
    let blocked = plan.actions[0].blocked.as_ref().expect("blocked");
    assert_eq!(blocked.cause, BlockedCause::DeleteMemories);
    assert_eq!(blocked.unblock_flag, "--allow-delete memory_seed/demo");
    assert!(
        blocked.data_loss.contains("1 memory in scope dana"),
        "{blocked:?}"
    );

    let allowed = PlanOptions {
        allow_delete: BTreeSet::from([r("memory_seed/demo")]),
        ..PlanOptions::default()
    };
    let plan = plan_against(&svc, &want, &allowed);
    assert!(!plan.is_blocked());
    svc.apply(&plan);
    assert_eq!(svc.items[&store_name("prefs")]["dana"].len(), 2);
    assert!(!plan_against(&svc, &want, &PlanOptions::default()).has_changes());

    // A disposable store needs no flag.
    let mut disposable = want.clone();
    disposable
        .stores
        .get_mut(&store_name("prefs"))
        .unwrap()
        .disposable = true;
    users_own(&mut svc, "dana", "Likes coffee.");
    assert!(!plan_against(&svc, &disposable, &PlanOptions::default()).is_blocked());
}

/// A saved plan's seed deletes are judged again at apply time from the op alone: the flag
/// given now or a store that stays disposable lets them go, nothing else; a seed that deletes
/// nothing is never held back.
#[test]
fn a_saved_seed_action_is_protected_by_what_its_op_deletes() {
    let mut svc = Service::default();
    let want = with_seed(seed("demo", "prefs", &[("dana", dana())], true));
    svc.apply(&plan_against(&svc, &want, &PlanOptions::default()));
    users_own(&mut svc, "dana", "Likes tea.");
    let allowed = PlanOptions {
        allow_delete: BTreeSet::from([r("memory_seed/demo")]),
        ..PlanOptions::default()
    };
    let mut action = plan_against(&svc, &want, &allowed).actions.remove(0);
    assert!(action.blocked.is_none(), "allowed when planned");
    protect_deletes(&mut action, false, &PlanOptions::default());
    assert_eq!(
        action.blocked.as_ref().map(|b| b.cause),
        Some(BlockedCause::DeleteMemories)
    );
    protect_deletes(&mut action, true, &PlanOptions::default());
    assert!(action.blocked.is_none(), "a disposable store");
    protect_deletes(&mut action, false, &allowed);
    assert!(action.blocked.is_none(), "the flag given at apply time");
    let Op::SeedMemories { delete, .. } = &mut action.op else {
        panic!("a seed action");
    };
    delete.clear();
    protect_deletes(&mut action, false, &PlanOptions::default());
    assert!(action.blocked.is_none(), "nothing to delete");
}

/// A saved seed action edited to write another store, or scopes the plan did not read, or to
/// delete while shown as an addition, is refused as an edit.
#[test]
fn a_saved_seed_action_edited_out_of_shape_is_an_inconsistency() {
    let mut svc = Service::default();
    let want = with_seed(seed("demo", "prefs", &[("dana", dana())], true));
    svc.apply(&plan_against(&svc, &want, &PlanOptions::default()));
    svc.items.clear();
    let plan = plan_against(&svc, &want, &PlanOptions::default());
    let saved = |plan: Plan| SavedPlan {
        format_version: SavedPlan::FORMAT_VERSION,
        tool_version: "0.1.0".to_owned(),
        endpoint: "local".to_owned(),
        set: plan.set.clone(),
        manifest_digest: "abc".to_owned(),
        variables: Vec::new(),
        plan,
    };
    assert_eq!(plan.actions.len(), 1, "{plan:#?}");
    assert!(saved(plan.clone()).inconsistencies().is_empty());
    let edit = |change: &dyn Fn(&mut Action)| {
        let mut plan = plan.clone();
        change(&mut plan.actions[0]);
        saved(plan).inconsistencies()
    };
    let found = edit(&|a| {
        if let Op::SeedMemories { store, .. } = &mut a.op {
            *store = store_name("other");
        }
    });
    assert!(
        found[0].contains("writes memory_store/other, not the store"),
        "{found:?}"
    );
    let found = edit(&|a| {
        if let Op::SeedMemories { create, .. } = &mut a.op {
            create[0].scope = "lee".to_owned();
        }
    });
    assert!(
        found[0].contains("writes scope lee, which the plan did not read"),
        "{found:?}"
    );
    let found = edit(&|a| {
        if let Op::SeedMemories { delete, .. } = &mut a.op {
            delete.push(SeedDelete {
                scope: "dana".to_owned(),
                memory_id: "m1".to_owned(),
                kind: "user_profile".to_owned(),
                content: "x".to_owned(),
            });
        }
    });
    assert!(
        found[0].contains("is not the create the plan shows"),
        "{found:?}"
    );
}

#[test]
fn replace_on_request_wipes_the_store_and_writes_its_seeds_again() {
    let mut svc = Service::default();
    let want = with_seed(seed("demo", "prefs", &[("dana", dana())], false));
    svc.apply(&plan_against(&svc, &want, &PlanOptions::default()));
    users_own(&mut svc, "dana", "Likes tea.");
    let options = PlanOptions {
        replace: BTreeSet::from([r("memory_store/prefs")]),
        ..PlanOptions::default()
    };
    let plan = plan_against(&svc, &want, &options);
    assert!(
        !plan.is_blocked(),
        "--replace is its own permission: {plan:#?}"
    );
    let kinds: Vec<(String, ActionKind)> = plan
        .actions
        .iter()
        .map(|a| (a.id.clone(), a.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("memory_store/prefs".to_owned(), ActionKind::Replace),
            ("memory_seed/demo".to_owned(), ActionKind::Create),
        ]
    );
    assert_eq!(plan.actions[1].depends_on, ["memory_store/prefs"]);
    assert!(
        plan.actions[0]
            .reasons
            .iter()
            .any(|r| r.contains("every memory"))
    );
    assert!(plan.memories_left_in_place.is_empty());
    svc.apply(&plan);
    let items: Vec<&str> = svc.items[&store_name("prefs")]["dana"]
        .iter()
        .map(|m| m.content.as_str())
        .collect();
    assert_eq!(items, ["Works mostly in Python.", "Asked about pandas."]);
    // Without the flag, an unchanged store is left alone.
    assert!(!plan_against(&svc, &want, &PlanOptions::default()).has_changes());
}

#[test]
fn a_targeted_store_brings_its_seeds_and_a_targeted_seed_its_store() {
    let svc = Service::default();
    let want = with_seed(seed("demo", "prefs", &[("dana", dana())], false));
    for target in ["memory_store/prefs", "memory_seed/demo"] {
        let options = PlanOptions {
            targets: Some(BTreeSet::from([r(target)])),
            ..PlanOptions::default()
        };
        let plan = plan_against(&svc, &want, &options);
        let ids: Vec<String> = plan.actions.iter().map(|a| a.id.clone()).collect();
        assert_eq!(
            ids,
            ["memory_store/prefs", "memory_seed/demo"],
            "--target {target}"
        );
        let pulled_in = plan.actions.iter().find(|a| a.id != target).unwrap();
        assert!(
            pulled_in
                .reasons
                .iter()
                .any(|r| r.starts_with("included because")),
            "{pulled_in:#?}"
        );
    }
}

#[test]
fn destroy_plans_nothing_for_seeds() {
    let mut svc = Service::default();
    let want = with_seed(seed("demo", "prefs", &[("dana", dana())], false));
    svc.apply(&plan_against(&svc, &want, &PlanOptions::default()));
    let options = PlanOptions {
        destroy: true,
        allow_delete: BTreeSet::from([r("memory_store/prefs")]),
        ..PlanOptions::default()
    };
    let plan = plan_against(&svc, &want, &options);
    let ids: Vec<&str> = plan.actions.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["memory_store/prefs"]);
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    const SCOPES: [&str; 3] = ["dana", "lee", "kim"];
    const CONTENTS: [&str; 4] = ["Likes tea.", "Uses Rust.", "Works in Python.", "Has a cat."];
    const KINDS: [&str; 2] = ["user_profile", "chat_summary"];

    fn memories() -> impl Strategy<Value = Vec<SeedMemory>> {
        prop::collection::btree_set((0..KINDS.len(), 0..CONTENTS.len()), 1..4).prop_map(|set| {
            set.into_iter()
                .map(|(k, c)| memory(KINDS[k], CONTENTS[c]))
                .collect()
        })
    }

    fn case() -> impl Strategy<Value = (MemorySeed, Vec<(usize, usize, bool)>)> {
        (
            prop::collection::btree_map(0..SCOPES.len(), memories(), 1..3),
            any::<bool>(),
            // The users' own memories: (scope, content, a whitespace variant).
            prop::collection::vec((0..SCOPES.len(), 0..CONTENTS.len(), any::<bool>()), 0..5),
        )
            .prop_map(|(scopes, exclusive, own)| {
                let scopes: Vec<(&str, Vec<SeedMemory>)> =
                    scopes.into_iter().map(|(s, m)| (SCOPES[s], m)).collect();
                (seed("demo", "prefs", &scopes, exclusive), own)
            })
    }

    proptest! {
        /// Whatever the scopes held, one allowed apply makes the next plan empty; scopes the
        /// seed does not declare are never touched, nor (unless exclusive) undeclared memories.
        #[test]
        fn apply_then_plan_shows_no_changes((declared, own) in case()) {
            let mut svc = Service::default();
            svc.apply(&plan_against(&svc, &desired(&[store("prefs")], &[]), &PlanOptions::default()));
            for (scope, content, spaced) in &own {
                let text = if *spaced { format!(" {}  ", CONTENTS[*content]) } else { CONTENTS[*content].to_owned() };
                users_own(&mut svc, SCOPES[*scope], &text);
            }
            let before = svc.items.clone();
            let want = with_seed(declared.clone());
            let allowed = PlanOptions {
                allow_delete: BTreeSet::from([r("memory_seed/demo")]),
                ..PlanOptions::default()
            };
            let plan = plan_against(&svc, &want, &allowed);
            prop_assert!(!plan.is_blocked());
            svc.apply(&plan);
            let again = plan_against(&svc, &want, &PlanOptions::default());
            prop_assert!(!again.has_changes(), "{:#?}", again);
            let store = store_name("prefs");
            for (scope, items) in before.get(&store).into_iter().flatten() {
                let now = svc.items[&store].get(scope).cloned().unwrap_or_default();
                let declared_here = declared.scopes.get(scope);
                for item in items {
                    let kept = now.iter().any(|m| m.id == item.id);
                    let wanted = declared_here.is_some_and(|d| d.iter().any(|m| m.matches(item)));
                    if declared_here.is_none() || !declared.exclusive || wanted {
                        prop_assert!(kept, "{item:?} of {scope} was deleted");
                    } else {
                        prop_assert!(!kept, "{item:?} of {scope} was kept by an exclusive seed");
                    }
                }
            }
        }
    }
}
