//! Scenario tests of the planner against the in-memory service model: each pins one behaviour
//! of the decision table (`decide.rs`) by name.

use std::collections::{BTreeMap, BTreeSet};

use super::service_model::Service;
use super::*;
use crate::model::{
    Agent, AgentName, AgentSpec, DesiredState, MemorySearchTool, MemoryStore, MemoryStoreName,
    MemoryStoreOptions, MemoryStoreSpec, ResourceRef, SetName, Tool,
};

pub(crate) fn store_name(s: &str) -> MemoryStoreName {
    MemoryStoreName::new(s).unwrap()
}

pub(crate) fn agent_name(s: &str) -> AgentName {
    AgentName::new(s).unwrap()
}

pub(crate) fn store(name: &str) -> MemoryStore {
    MemoryStore {
        name: store_name(name),
        spec: MemoryStoreSpec {
            description: "Developer preferences.\n".to_owned(),
            labels: BTreeMap::from([("team".to_owned(), "devex".to_owned())]),
            chat_model: "gpt-4.1-mini".to_owned(),
            embedding_model: "text-embedding-3-large".to_owned(),
            options: MemoryStoreOptions {
                user_profile_details: Some("Languages and tools.".to_owned()),
                ..MemoryStoreOptions::default()
            },
        },
        disposable: false,
    }
}

pub(crate) fn agent(name: &str, store: &str) -> Agent {
    Agent {
        name: agent_name(name),
        spec: AgentSpec {
            description: "Assistant with memory.".to_owned(),
            model: "gpt-4.1-mini".to_owned(),
            instructions: Some("You are helpful.\nAlways call the memory tool.\n".to_owned()),
            tools: vec![Tool::MemorySearch(MemorySearchTool {
                memory_store_name: store_name(store),
                scope: "{{$userId}}".to_owned(),
                max_memories: None,
                update_delay: Some(1),
            })],
            ..AgentSpec::default()
        },
    }
}

pub(crate) fn desired(stores: &[MemoryStore], agents: &[Agent]) -> DesiredState {
    DesiredState {
        stores: stores.iter().map(|s| (s.name.clone(), s.clone())).collect(),
        agents: agents.iter().map(|a| (a.name.clone(), a.clone())).collect(),
        seeds: BTreeMap::new(),
        templates: BTreeMap::new(),
        checks: BTreeMap::new(),
    }
}

fn opts() -> PlanOptions {
    PlanOptions::default()
}

/// Plans against the service (fetching histories the way the engine does).
pub(crate) fn plan_against(svc: &Service, want: &DesiredState, options: &PlanOptions) -> Plan {
    let live = svc.live(&BTreeSet::new());
    let needing = agents_needing_history(want, &live, options);
    plan(want, &svc.live(&needing), options)
}

/// The service after one apply of `want` from an empty project.
pub(crate) fn converged(want: &DesiredState) -> Service {
    let mut svc = Service::default();
    let p = plan_against(&svc, want, &opts());
    svc.apply(&p);
    svc
}

fn kinds(p: &Plan) -> Vec<(String, ActionKind, bool)> {
    p.actions
        .iter()
        .map(|a| (a.id.clone(), a.kind, a.blocked.is_some()))
        .collect()
}

#[test]
fn creates_stores_before_the_agents_that_reference_them() {
    let want = desired(&[store("prefs")], &[agent("buddy", "prefs")]);
    let p = plan_against(&Service::default(), &want, &opts());
    assert_eq!(
        kinds(&p),
        [
            ("memory_store/prefs".to_owned(), ActionKind::Create, false),
            ("agent/buddy".to_owned(), ActionKind::Create, false)
        ]
    );
    assert_eq!(p.actions[1].depends_on, ["memory_store/prefs"]);
    assert_eq!((p.actions[0].level, p.actions[1].level), (0, 1));
    assert_eq!(p.actions[0].precondition, Precondition::Absent);
    assert_eq!(p.summary.to_add, 2);
}

#[test]
fn apply_then_plan_is_empty() {
    let want = desired(&[store("prefs")], &[agent("buddy", "prefs")]);
    let svc = converged(&want);
    let again = plan_against(&svc, &want, &opts());
    assert!(!again.has_changes(), "{again:#?}");
    assert!(again.drift.is_empty());
}

#[test]
fn description_change_updates_the_store_in_place() {
    let mut want = desired(&[store("prefs")], &[]);
    let svc = converged(&want);
    want.stores
        .get_mut(&store_name("prefs"))
        .unwrap()
        .spec
        .description = "New.".to_owned();
    let p = plan_against(&svc, &want, &opts());
    assert_eq!(
        kinds(&p),
        [("memory_store/prefs".to_owned(), ActionKind::Update, false)]
    );
    assert_eq!(p.actions[0].changes[0].path, "description");
    assert!(p.drift.is_empty());
}

#[test]
fn model_change_replaces_the_store_and_is_blocked_by_default() {
    let mut want = desired(&[store("prefs")], &[]);
    let svc = converged(&want);
    want.stores
        .get_mut(&store_name("prefs"))
        .unwrap()
        .spec
        .chat_model = "gpt-4.1".to_owned();
    let p = plan_against(&svc, &want, &opts());
    assert_eq!(
        kinds(&p),
        [("memory_store/prefs".to_owned(), ActionKind::Replace, true)]
    );
    let blocked = p.actions[0].blocked.as_ref().unwrap();
    assert_eq!(blocked.unblock_flag, "--allow-replace memory_store/prefs");
    assert!(p.is_blocked());

    let allowed = PlanOptions {
        allow_replace: BTreeSet::from([ResourceRef::MemoryStore(store_name("prefs"))]),
        ..opts()
    };
    let p = plan_against(&svc, &want, &allowed);
    assert_eq!(
        kinds(&p),
        [("memory_store/prefs".to_owned(), ActionKind::Replace, false)]
    );
}

#[test]
fn a_store_stamped_disposable_by_an_earlier_apply_is_replaced_without_a_flag() {
    let mut want = desired(&[store("prefs")], &[]);
    want.stores
        .get_mut(&store_name("prefs"))
        .unwrap()
        .disposable = true;
    let svc = converged(&want);
    let s = want.stores.get_mut(&store_name("prefs")).unwrap();
    s.spec.embedding_model = "text-embedding-3-small".to_owned();
    let p = plan_against(&svc, &want, &opts());
    assert_eq!(
        kinds(&p),
        [("memory_store/prefs".to_owned(), ActionKind::Replace, false)]
    );
    // Allowed, and still says what it costs.
    let loss = p.actions[0].data_loss.as_ref().unwrap();
    assert_eq!(
        loss.what,
        "all memories in memory_store/prefs, for every scope"
    );
    assert!(loss.allowed_by.as_ref().unwrap().contains("disposable"));
}

/// Declaring a store disposable and changing a create-only option in the same edit must not
/// replace it: protection is decided from the live store, which is not stamped disposable yet.
#[test]
fn declaring_disposable_and_a_replacing_change_in_one_edit_is_still_blocked() {
    let mut want = desired(&[store("prefs")], &[]);
    let mut svc = converged(&want);
    let s = want.stores.get_mut(&store_name("prefs")).unwrap();
    s.disposable = true;
    s.spec.embedding_model = "text-embedding-3-small".to_owned();
    let p = plan_against(&svc, &want, &opts());
    assert_eq!(
        kinds(&p),
        [("memory_store/prefs".to_owned(), ActionKind::Replace, true)]
    );
    // Declaring it disposable alone stamps it in place (no replace), and from then on it is.
    let mut only_disposable = desired(&[store("prefs")], &[]);
    only_disposable
        .stores
        .get_mut(&store_name("prefs"))
        .unwrap()
        .disposable = true;
    let stamp = plan_against(&svc, &only_disposable, &opts());
    assert_eq!(
        kinds(&stamp),
        [("memory_store/prefs".to_owned(), ActionKind::Update, false)]
    );
    svc.apply(&stamp);
    let p = plan_against(&svc, &want, &opts());
    assert_eq!(
        kinds(&p),
        [("memory_store/prefs".to_owned(), ActionKind::Replace, false)]
    );
    // Deleting it (no longer declared, --prune) is allowed by the same stamp.
    let prune = PlanOptions {
        prune: true,
        ..opts()
    };
    let p = plan_against(&svc, &desired(&[], &[]), &prune);
    assert_eq!(
        kinds(&p),
        [("memory_store/prefs".to_owned(), ActionKind::Delete, false)]
    );
}

#[test]
fn change_to_an_option_the_service_never_echoes_is_detected_through_the_stamp() {
    let mut want = desired(&[store("prefs")], &[]);
    let svc = converged(&want);
    want.stores
        .get_mut(&store_name("prefs"))
        .unwrap()
        .spec
        .options
        .procedural_memory_enabled = Some(false);
    let p = plan_against(&svc, &want, &opts());
    assert_eq!(
        kinds(&p),
        [("memory_store/prefs".to_owned(), ActionKind::Replace, true)]
    );
    let change = &p.actions[0].changes[0];
    assert_eq!(change.path, "options.procedural_memory_enabled");
    // The stamp let the planner recover the hidden value: it was the default, true.
    assert_eq!(change.before, Some(serde_json::json!(true)));
    assert!(p.drift.is_empty());
}

#[test]
fn hidden_option_change_with_an_unrecoverable_old_value_still_replaces() {
    // The old TTL (100) is neither the declared value nor the default, and this service does
    // not echo TTLs, so the stamp cannot be reproduced: every reported field matches, so the
    // change must be in a hidden option.
    let mut want = desired(&[store("prefs")], &[]);
    want.stores
        .get_mut(&store_name("prefs"))
        .unwrap()
        .spec
        .options
        .default_ttl_seconds = Some(100);
    let svc = converged(&want);
    want.stores
        .get_mut(&store_name("prefs"))
        .unwrap()
        .spec
        .options
        .default_ttl_seconds = Some(200);
    let p = plan_against(&svc, &want, &opts());
    assert_eq!(
        kinds(&p),
        [("memory_store/prefs".to_owned(), ActionKind::Replace, true)]
    );
    assert!(p.actions[0].changes.iter().all(|c| c.before_unreported));
}

#[test]
fn store_description_edited_behind_our_back_is_drift() {
    let want = desired(&[store("prefs")], &[]);
    let mut svc = converged(&want);
    svc.stores
        .get_mut(&store_name("prefs"))
        .unwrap()
        .spec
        .description = "edited".to_owned();
    let p = plan_against(&svc, &want, &opts());
    assert_eq!(
        kinds(&p),
        [("memory_store/prefs".to_owned(), ActionKind::Update, false)]
    );
    assert_eq!(p.drift.len(), 1);
    assert_eq!(p.drift[0].changes[0].path, "description");
}

#[test]
fn instructions_edit_makes_exactly_one_new_version() {
    let mut want = desired(&[store("prefs")], &[agent("buddy", "prefs")]);
    let mut svc = converged(&want);
    want.agents
        .get_mut(&agent_name("buddy"))
        .unwrap()
        .spec
        .instructions = Some("You are terse.\n".to_owned());
    let p = plan_against(&svc, &want, &opts());
    assert_eq!(
        kinds(&p),
        [("agent/buddy".to_owned(), ActionKind::Update, false)]
    );
    assert_eq!(
        p.actions[0].precondition,
        Precondition::for_agent(svc.live(&BTreeSet::new()).agents.get(&agent_name("buddy")))
    );
    assert!(matches!(
        &p.actions[0].precondition,
        Precondition::Agent { latest_version, .. } if latest_version == "1"
    ));
    svc.apply(&p);
    assert_eq!(svc.agents[&agent_name("buddy")].len(), 2);
    assert!(!plan_against(&svc, &want, &opts()).has_changes());
}

#[test]
fn agent_version_made_in_the_portal_is_drift_not_a_foreign_agent() {
    let want = desired(&[store("prefs")], &[agent("buddy", "prefs")]);
    let mut svc = converged(&want);
    let mut edited = want.agents[&agent_name("buddy")].spec.clone();
    edited.model = "gpt-4.1".to_owned();
    svc.create_version(&agent_name("buddy"), Some(&edited), &BTreeMap::new());
    assert_eq!(
        agents_needing_history(&want, &svc.live(&BTreeSet::new()), &opts()),
        BTreeSet::from([agent_name("buddy")])
    );
    let p = plan_against(&svc, &want, &opts());
    assert!(p.conflicts.is_empty());
    assert_eq!(
        kinds(&p),
        [("agent/buddy".to_owned(), ActionKind::Update, false)]
    );
    assert_eq!(p.drift.len(), 1);
    assert!(p.drift[0].description.contains("version 2"));
    svc.apply(&p);
    assert!(!plan_against(&svc, &want, &opts()).has_changes());
}

#[test]
fn unmanaged_resources_in_the_way_are_conflicts_with_an_import_hint() {
    let want = desired(&[store("prefs")], &[agent("buddy", "prefs")]);
    let mut svc = Service::default();
    svc.create_store(&store_name("prefs"), &store("prefs").spec, &BTreeMap::new());
    svc.create_version(&agent_name("buddy"), None, &BTreeMap::new());
    let p = plan_against(&svc, &want, &opts());
    assert!(p.actions.is_empty());
    assert_eq!(p.conflicts.len(), 2);
    assert_eq!(
        p.conflicts[0].hint,
        "adopt it with `foundryctl import memory_store/prefs -f …`"
    );
    assert_eq!(p.summary.conflicts, 2);
}

#[test]
fn undeclared_owned_resources_are_kept_without_prune_and_deleted_with_it() {
    let svc = converged(&desired(&[store("old")], &[agent("gone", "old")]));
    let want = desired(&[], &[]);
    let p = plan_against(&svc, &want, &opts());
    assert!(p.actions.is_empty());
    assert_eq!(p.not_in_manifests.len(), 2);

    let prune = PlanOptions {
        prune: true,
        ..opts()
    };
    let p = plan_against(&svc, &want, &prune);
    assert_eq!(
        kinds(&p),
        [
            ("agent/gone".to_owned(), ActionKind::Delete, false),
            ("memory_store/old".to_owned(), ActionKind::Delete, true)
        ]
    );
    assert_eq!(p.actions[1].depends_on, ["agent/gone"]);
    assert_eq!(
        p.actions[1].blocked.as_ref().unwrap().unblock_flag,
        "--allow-delete memory_store/old"
    );
}

#[test]
fn destroy_deletes_only_this_sets_resources() {
    let mut svc = converged(&desired(&[store("mine")], &[]));
    let other = PlanOptions {
        set: SetName::new("other").unwrap(),
        ..opts()
    };
    let p = plan_against(
        &Service::default(),
        &desired(&[store("theirs")], &[]),
        &other,
    );
    svc.apply(&p);
    svc.create_store(&store_name("foreign"), &store("x").spec, &BTreeMap::new());
    let destroy = PlanOptions {
        destroy: true,
        allow_delete: BTreeSet::from([ResourceRef::MemoryStore(store_name("mine"))]),
        ..opts()
    };
    let p = plan_against(&svc, &desired(&[], &[]), &destroy);
    assert_eq!(
        kinds(&p),
        [("memory_store/mine".to_owned(), ActionKind::Delete, false)]
    );
}

#[test]
fn manifests_the_project_has_only_under_another_set_are_told_apart_for_destroy() {
    let theirs = desired(&[store("theirs")], &[agent("tutor", "theirs")]);
    let mut svc = converged(&desired(&[store("mine")], &[]));
    let workshop = PlanOptions {
        set: SetName::new("workshop").unwrap(),
        ..opts()
    };
    svc.apply(&plan_against(&svc, &theirs, &workshop));
    svc.create_store(&store_name("foreign"), &store("x").spec, &BTreeMap::new());
    let live = svc.live(&BTreeSet::new());
    let default = &opts().set;
    // `destroy -f` with the workshop's manifests, but for set `default`.
    assert_eq!(
        sets_of_declared_elsewhere(&theirs, &live, default),
        BTreeSet::from(["workshop".to_owned()])
    );
    // Its own manifests, ones that also declare another set's resources, ones the project
    // lacks or has unmanaged, and none: nothing to say.
    let mixed = desired(&[store("mine"), store("theirs")], &[]);
    for manifests in [
        desired(&[store("mine")], &[]),
        mixed,
        desired(&[store("absent"), store("foreign")], &[]),
        desired(&[], &[]),
    ] {
        assert!(sets_of_declared_elsewhere(&manifests, &live, default).is_empty());
    }
    assert!(sets_of_declared_elsewhere(&theirs, &live, &workshop.set).is_empty());
}

#[test]
fn reference_to_a_store_nobody_has_is_an_error_diagnostic() {
    let want = desired(&[], &[agent("buddy", "missing")]);
    let p = plan_against(&Service::default(), &want, &opts());
    assert!(p.has_errors());
    assert!(p.diagnostics[0].message.contains("`missing`"));
}

#[test]
fn target_plans_only_the_named_agent_and_its_store() {
    let want = desired(
        &[store("prefs"), store("other")],
        &[agent("buddy", "prefs"), agent("solo", "other")],
    );
    let targeted = PlanOptions {
        targets: Some(BTreeSet::from([ResourceRef::Agent(agent_name("buddy"))])),
        ..opts()
    };
    let p = plan_against(&Service::default(), &want, &targeted);
    let ids: Vec<&str> = p.actions.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["memory_store/prefs", "agent/buddy"]);
    // The store was not named; the plan says why it is there.
    assert_eq!(
        p.actions[0].reasons.last().map(String::as_str),
        Some("included because agent/buddy (--target) uses it")
    );
    assert!(p.actions[1].reasons.iter().all(|r| !r.contains("--target")));
}

#[test]
fn saved_plan_round_trips_through_json() {
    let want = desired(&[store("prefs")], &[agent("buddy", "prefs")]);
    let p = plan_against(&Service::default(), &want, &opts());
    let saved = SavedPlan {
        format_version: SavedPlan::FORMAT_VERSION,
        tool_version: "0.1.0".to_owned(),
        endpoint: "local".to_owned(),
        set: p.set.clone(),
        manifest_digest: "abc".to_owned(),
        variables: vec!["CHAT_MODEL".to_owned(), "MCP_API_KEY".to_owned()],
        plan: p,
    };
    let text = serde_json::to_string(&saved).unwrap();
    let back: SavedPlan = serde_json::from_str(&text).unwrap();
    assert_eq!(back, saved);
    assert_eq!(serde_json::to_string(&back).unwrap(), text);
}

#[test]
fn store_precondition_detects_a_change_since_planning() {
    let want = desired(&[store("prefs")], &[]);
    let mut svc = converged(&want);
    let live = svc.live(&BTreeSet::new());
    let pre = Precondition::for_store(live.stores.get(&store_name("prefs")));
    assert!(pre.holds_for_store(live.stores.get(&store_name("prefs"))));
    svc.stores
        .get_mut(&store_name("prefs"))
        .unwrap()
        .spec
        .description = "x".to_owned();
    let live = svc.live(&BTreeSet::new());
    assert!(!pre.holds_for_store(live.stores.get(&store_name("prefs"))));
    assert!(!pre.holds_for_store(None));
}

#[test]
fn a_target_that_names_nothing_declared_or_live_is_reported() {
    let want = desired(&[store("prefs")], &[]);
    let svc = converged(&desired(&[], &[agent("live-only", "prefs")]));
    let live = svc.live(&BTreeSet::new());
    let targets = BTreeSet::from([
        ResourceRef::MemoryStore(store_name("prefs")),
        ResourceRef::Agent(agent_name("live-only")),
        ResourceRef::Agent(agent_name("typo")),
    ]);
    assert_eq!(
        unmatched_targets(&want, &live, &targets),
        [ResourceRef::Agent(agent_name("typo"))]
    );
}

/// Plans name a field the way the manifest does: `max_memories` is under `search_options`.
#[test]
fn a_max_memories_change_is_named_by_its_manifest_path() {
    let set_max = |want: &mut DesiredState, max| {
        let spec = &mut want.agents.get_mut(&agent_name("buddy")).unwrap().spec;
        let Tool::MemorySearch(tool) = &mut spec.tools[0] else {
            unreachable!("the fixture's first tool is the memory tool")
        };
        tool.max_memories = Some(max);
    };
    let mut want = desired(&[store("prefs")], &[agent("buddy", "prefs")]);
    set_max(&mut want, 5);
    let mut svc = converged(&want);
    set_max(&mut want, 7);
    let p = plan_against(&svc, &want, &opts());
    let paths: Vec<&str> = p.actions[0]
        .changes
        .iter()
        .map(|c| c.path.as_str())
        .collect();
    assert_eq!(paths, ["tools[0].search_options.max_memories"]);
    svc.apply(&p);
    assert!(!plan_against(&svc, &want, &opts()).has_changes());
}

/// An agent stamped before the agent normal form's tag was bumped (`foundryctl-spec/v1`) reads
/// as a stale stamp: one re-stamping version, then nothing.
#[test]
fn an_agent_stamped_under_the_previous_format_tag_is_restamped_once() {
    use sha2::Digest as _;
    let want = desired(&[store("prefs")], &[agent("buddy", "prefs")]);
    let mut svc = converged(&want);
    let spec = &want.agents[&agent_name("buddy")].spec;
    // This fixture has no max_memories, so its v1 normal form equals today's; only the tag
    // differs.
    let v1_text = format!(
        "foundryctl-spec/v1\nagent\n{}",
        crate::model::fingerprint::canonical_json(&crate::model::normalize::agent(spec))
    );
    let v1_stamp: String = sha2::Sha256::digest(v1_text.as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    let latest = svc
        .agents
        .get_mut(&agent_name("buddy"))
        .unwrap()
        .last_mut()
        .unwrap();
    latest
        .metadata
        .insert(crate::model::HASH_KEY.to_owned(), v1_stamp);
    let p = plan_against(&svc, &want, &opts());
    assert_eq!(
        kinds(&p),
        [("agent/buddy".to_owned(), ActionKind::Update, false)]
    );
    assert!(p.actions[0].reasons[0].starts_with("re-stamp"), "{p:#?}");
    assert!(p.actions[0].changes.is_empty());
    svc.apply(&p);
    assert!(!plan_against(&svc, &want, &opts()).has_changes());
}

/// `destroy` and `--prune` never delete an agent whose latest version someone else made, even
/// though an earlier one is ours; the plan says so instead of keeping it silently.
#[test]
fn an_agent_edited_outside_foundryctl_is_not_deleted_and_the_plan_says_so() {
    let want = desired(&[store("prefs")], &[agent("buddy", "prefs")]);
    let mut svc = converged(&want);
    let edited = want.agents[&agent_name("buddy")].spec.clone();
    svc.create_version(&agent_name("buddy"), Some(&edited), &BTreeMap::new());
    let deleting = [
        PlanOptions {
            prune: true,
            ..opts()
        },
        PlanOptions {
            destroy: true,
            ..opts()
        },
    ];
    for options in deleting {
        let p = plan_against(&svc, &desired(&[store("prefs")], &[]), &options);
        assert!(p.actions.iter().all(|a| a.id != "agent/buddy"), "{p:#?}");
        // Under destroy its store is kept too (it still references it).
        let kept = p.not_deleted.last().unwrap();
        assert_eq!(kept.resource, ResourceRef::Agent(agent_name("buddy")));
        assert!(
            kept.reason
                .contains("latest version (2) was made outside foundryctl"),
            "{}",
            kept.reason
        );
        assert!(kept.reason.contains("applied is 1"));
    }
}

/// A kept agent (its latest version made in the portal) still uses its store: deleting the
/// store would leave the agent pointing at nothing, so `destroy` and `--prune` keep the store
/// too, say why and name the agent, even when `--allow-delete` permits losing its memories. An
/// agent the run does delete lets its store go as before.
#[test]
fn a_store_a_kept_agent_references_is_not_deleted_and_the_plan_says_why() {
    let want = desired(
        &[store("prefs"), store("other")],
        &[agent("buddy", "prefs"), agent("gone", "other")],
    );
    let mut svc = converged(&want);
    let edited = want.agents[&agent_name("buddy")].spec.clone();
    svc.create_version(&agent_name("buddy"), Some(&edited), &BTreeMap::new());
    let allow_all: BTreeSet<ResourceRef> = ["memory_store/prefs", "memory_store/other"]
        .iter()
        .map(|r| r.parse().unwrap())
        .collect();
    let deleting = [
        PlanOptions {
            prune: true,
            allow_delete: allow_all.clone(),
            ..opts()
        },
        PlanOptions {
            destroy: true,
            allow_delete: allow_all,
            ..opts()
        },
    ];
    for options in deleting {
        let p = plan_against(&svc, &desired(&[], &[]), &options);
        let ids: Vec<&str> = p.actions.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["agent/gone", "memory_store/other"], "{options:?}");
        let kept: Vec<String> = p
            .not_deleted
            .iter()
            .map(|n| n.resource.to_string())
            .collect();
        assert_eq!(kept, ["memory_store/prefs", "agent/buddy"], "{options:?}");
        let store = &p.not_deleted[0];
        assert!(store.reason.contains("`agent/buddy`"), "{}", store.reason);
        assert!(
            store.reason.contains("pointing at a deleted store"),
            "{}",
            store.reason
        );
        assert!(
            store.hint.contains("remove the memory tool"),
            "{}",
            store.hint
        );
        assert!(!p.has_errors() && !p.is_blocked(), "{p:#?}");
        // Applied, the kept agent's store is still there.
        let mut after = svc.clone();
        after.apply(&p);
        assert!(after.stores.contains_key(&store_name("prefs")));
        assert!(!after.stores.contains_key(&store_name("other")));
    }
}

#[test]
fn drift_that_hides_the_unreported_options_warns_with_a_way_to_replace_that_exists() {
    // TTLs are not echoed here; the description changed both live and in the manifests, so
    // the stamp cannot tell whether the TTL changed too.
    let mut want = desired(&[store("prefs")], &[]);
    want.stores
        .get_mut(&store_name("prefs"))
        .unwrap()
        .spec
        .options
        .default_ttl_seconds = Some(100);
    let mut svc = converged(&want);
    svc.stores
        .get_mut(&store_name("prefs"))
        .unwrap()
        .spec
        .description = "edited in the portal".to_owned();
    want.stores
        .get_mut(&store_name("prefs"))
        .unwrap()
        .spec
        .description = "new".to_owned();
    let p = plan_against(&svc, &want, &opts());
    let warning = p
        .diagnostics
        .iter()
        .find(|d| d.message.starts_with("cannot verify"))
        .unwrap_or_else(|| panic!("{:#?}", p.diagnostics));
    let hint = warning.hint.as_deref().unwrap();
    assert!(
        hint.contains("run `foundryctl apply --prune --allow-delete memory_store/prefs`"),
        "{hint}"
    );
}

/// A large project's agents are prepared on two threads: every agent once, under its own name,
/// as preparing it alone makes it.
#[test]
fn a_large_project_is_prepared_as_each_resource_alone() {
    use super::prepare::{DeclaredAgent, prepare};
    let agents: Vec<Agent> = (0..601)
        .map(|i| {
            let mut a = agent(&format!("agent-{i:03}"), "prefs");
            a.spec.description = format!("Agent {i}.");
            a
        })
        .collect();
    let want = desired(&[store("prefs")], &agents);
    let prepared = prepare(&want);
    assert_eq!(prepared.stores.len(), 1);
    assert!(prepared.agents.keys().eq(want.agents.keys()));
    for (name, declared) in &prepared.agents {
        let alone = DeclaredAgent::new(&want.agents[name].spec);
        assert_eq!(declared.canonical, alone.canonical, "{name}");
        assert_eq!(declared.fingerprint, alone.fingerprint, "{name}");
    }
}

/// A plan read from a file is checked for what only an edit makes: an id twice, a dependency
/// on no action, a cycle (whose actions would never start).
#[test]
fn edited_dependencies_are_found_and_a_made_plan_has_none() {
    let want = desired(&[store("prefs")], &[agent("buddy", "prefs")]);
    let p = plan_against(&Service::default(), &want, &opts());
    assert_eq!(p.actions.len(), 2);
    assert_eq!(p.actions[1].depends_on, ["memory_store/prefs"]);
    assert!(p.dependency_problems().is_empty());

    let mut cycle = p.clone();
    cycle.actions[0].depends_on = vec!["agent/buddy".to_owned()];
    assert_eq!(
        cycle.dependency_problems(),
        ["action `memory_store/prefs` depends on itself through its dependencies"]
    );
    let mut unknown = p.clone();
    unknown.actions[1].depends_on = vec!["memory_store/other".to_owned()];
    assert_eq!(
        unknown.dependency_problems(),
        ["action `agent/buddy` depends on `memory_store/other`, which is not in the plan"]
    );
    let mut twice = p;
    twice.actions.push(twice.actions[1].clone());
    assert_eq!(
        twice.dependency_problems(),
        ["action `agent/buddy` is there twice"]
    );
}

/// An agent another set adopted after this set's versions (a portal version, then `import` by
/// set `other`, then a portal version again) is not this set's to restore: the newest stamped
/// version says whose it was, not any version in its history.
#[test]
fn an_agent_another_set_adopted_is_not_restored_by_the_set_before_it() {
    let want = desired(&[store("prefs")], &[agent("buddy", "prefs")]);
    let mut svc = converged(&want);
    let buddy = agent_name("buddy");
    let spec = want.agents[&buddy].spec.clone();
    svc.create_version(&buddy, Some(&spec), &BTreeMap::new());
    let other = SetName::new("other").unwrap();
    svc.create_version(
        &buddy,
        Some(&spec),
        &crate::model::stamped_metadata(&BTreeMap::new(), &other, "h"),
    );
    svc.create_version(&buddy, Some(&spec), &BTreeMap::new());
    let p = plan_against(&svc, &want, &opts());
    assert!(
        p.actions
            .iter()
            .all(|a| a.resource != ResourceRef::Agent(buddy.clone()))
    );
    assert_eq!(p.conflicts.len(), 1, "{p:#?}");
    assert_eq!(p.conflicts[0].resource, ResourceRef::Agent(buddy));
}
