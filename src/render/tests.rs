//! Snapshot tests of the three renderings for the plans people will see most: create, update,
//! replace, blocked, delete, drift, and a mixed plan with conflicts and notes.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{ResourceRef, SetName};
use crate::plan::service_model::Service;
use crate::plan::tests::{agent, agent_name, converged, desired, plan_against, store, store_name};
use crate::plan::{Plan, PlanOptions};

use super::{HumanOptions, human, json, markdown};

fn human_text(plan: &Plan, color: bool) -> String {
    let mut out = Vec::new();
    human::render(
        plan,
        &mut out,
        &HumanOptions {
            color,
            ..HumanOptions::default()
        },
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

fn json_text(plan: &Plan) -> String {
    let mut out = Vec::new();
    json::render(plan, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn markdown_text(plan: &Plan) -> String {
    let mut out = Vec::new();
    markdown::render(
        plan,
        "https://contoso.services.ai.azure.com/api/projects/demo",
        &mut out,
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

fn snapshot_all(name: &str, plan: &Plan) {
    insta::assert_snapshot!(format!("{name}_human"), human_text(plan, false));
    insta::assert_snapshot!(format!("{name}_json"), json_text(plan));
    insta::assert_snapshot!(format!("{name}_markdown"), markdown_text(plan));
}

fn allow(refs: &[&str]) -> BTreeSet<ResourceRef> {
    refs.iter().map(|r| r.parse().unwrap()).collect()
}

#[test]
fn create_plan_renders() {
    let want = desired(&[store("prefs")], &[agent("buddy", "prefs")]);
    snapshot_all(
        "create",
        &plan_against(&Service::default(), &want, &PlanOptions::default()),
    );
}

#[test]
fn update_plan_renders_instructions_as_a_line_diff() {
    let mut want = desired(&[store("prefs")], &[agent("buddy", "prefs")]);
    let svc = converged(&want);
    want.stores
        .get_mut(&store_name("prefs"))
        .unwrap()
        .spec
        .description = "Developer preferences and working context.".to_owned();
    let buddy = &mut want.agents.get_mut(&agent_name("buddy")).unwrap().spec;
    buddy.instructions = Some(
        "You are helpful.\nAlways call the memory tool.\nAnswer in one paragraph.\n".to_owned(),
    );
    buddy.temperature = Some(0.2);
    snapshot_all(
        "update",
        &plan_against(&svc, &want, &PlanOptions::default()),
    );
}

#[test]
fn replace_plan_renders() {
    let mut want = desired(&[store("prefs")], &[]);
    let svc = converged(&want);
    want.stores
        .get_mut(&store_name("prefs"))
        .unwrap()
        .spec
        .chat_model = "gpt-4.1".to_owned();
    let options = PlanOptions {
        allow_replace: allow(&["memory_store/prefs"]),
        ..PlanOptions::default()
    };
    snapshot_all("replace", &plan_against(&svc, &want, &options));
}

#[test]
fn blocked_plan_explains_the_loss_and_the_flag() {
    let mut want = desired(&[store("prefs"), store("old")], &[]);
    let svc = converged(&want);
    want.stores.remove(&store_name("old"));
    want.stores
        .get_mut(&store_name("prefs"))
        .unwrap()
        .spec
        .options
        .procedural_memory_enabled = Some(false);
    let options = PlanOptions {
        prune: true,
        ..PlanOptions::default()
    };
    let plan = plan_against(&svc, &want, &options);
    assert_eq!(plan.summary.blocked, 2);
    snapshot_all("blocked", &plan);
}

#[test]
fn delete_plan_renders() {
    let before = desired(
        &[store("old")],
        &[agent("gone", "old"), agent("kept", "old")],
    );
    let mut svc = converged(&before);
    // A version made in the portal: `kept` is no longer ours to delete, and the plan says so.
    let edited = before.agents[&agent_name("kept")].spec.clone();
    svc.create_version(&agent_name("kept"), Some(&edited), &BTreeMap::new());
    let options = PlanOptions {
        destroy: true,
        allow_delete: allow(&["memory_store/old"]),
        ..PlanOptions::default()
    };
    snapshot_all("delete", &plan_against(&svc, &desired(&[], &[]), &options));
}

#[test]
fn drift_plan_renders_a_drift_section() {
    let want = desired(&[store("prefs")], &[agent("buddy", "prefs")]);
    let mut svc = converged(&want);
    svc.stores
        .get_mut(&store_name("prefs"))
        .unwrap()
        .spec
        .description = "Edited in the portal.".to_owned();
    let mut edited = want.agents[&agent_name("buddy")].spec.clone();
    edited.model = "gpt-4.1".to_owned();
    svc.create_version(&agent_name("buddy"), Some(&edited), &BTreeMap::new());
    let plan = plan_against(&svc, &want, &PlanOptions::default());
    assert_eq!(plan.drift.len(), 2);
    snapshot_all("drift", &plan);
}

#[test]
fn mixed_plan_renders_every_section() {
    let before = desired(
        &[store("prefs"), store("legacy")],
        &[agent("buddy", "prefs"), agent("retired", "legacy")],
    );
    let mut svc = converged(&before);
    // Someone else's resources: an unmanaged agent by a declared name, another set's store.
    svc.create_version(&agent_name("helper"), None, &BTreeMap::new());
    let other = PlanOptions {
        set: SetName::new("workshop").unwrap(),
        ..PlanOptions::default()
    };
    let theirs = plan_against(
        &Service::default(),
        &desired(&[store("shared")], &[]),
        &other,
    );
    svc.apply(&theirs);

    let mut want = desired(
        &[store("prefs"), store("fresh"), store("shared")],
        &[
            agent("buddy", "fresh"),
            agent("helper", "prefs"),
            agent("lost", "nowhere"),
        ],
    );
    want.stores
        .get_mut(&store_name("prefs"))
        .unwrap()
        .spec
        .embedding_model = "text-embedding-3-small".to_owned();
    let plan = plan_against(&svc, &want, &PlanOptions::default());
    snapshot_all("mixed", &plan);
}

#[test]
fn no_changes_plan_says_so() {
    let want = desired(&[store("prefs")], &[agent("buddy", "prefs")]);
    let svc = converged(&want);
    let plan = plan_against(&svc, &want, &PlanOptions::default());
    insta::assert_snapshot!("no_changes_human", human_text(&plan, false));
    insta::assert_snapshot!("no_changes_markdown", markdown_text(&plan));
}

#[test]
fn colour_is_only_emitted_when_asked_and_adds_no_text() {
    let want = desired(&[store("prefs")], &[agent("buddy", "prefs")]);
    let plan = plan_against(&Service::default(), &want, &PlanOptions::default());
    let plain = human_text(&plan, false);
    let colored = human_text(&plan, true);
    assert!(!plain.contains('\u{1b}'));
    assert!(colored.contains('\u{1b}'));
    assert_eq!(strip_ansi(&colored), plain);
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// An agent whose `mcp` tool carries credentials, as `${VAR}` interpolation leaves them.
fn with_mcp(mut agent: crate::model::Agent, token: &str) -> crate::model::Agent {
    agent
        .spec
        .tools
        .push(crate::model::Tool::Other(serde_json::json!({
            "type": "mcp",
            "server_label": "github",
            "server_url": "https://example.test/mcp",
            "headers": {"Authorization": format!("Bearer {token}"), "X-Trace": "on"},
            "project_connection_id": "conn-1",
        })));
    agent
}

/// `plan` output lands in CI logs and pull-request comments: a credential's value never
/// appears in any rendering (create or change), a changed one still reads as changed, and the
/// plan itself keeps the value for apply.
#[test]
fn credentials_of_pass_through_tools_are_masked_in_every_rendering() {
    let want = desired(
        &[store("prefs")],
        &[with_mcp(agent("buddy", "prefs"), "s3cr3t-old")],
    );
    let created = plan_against(&Service::default(), &want, &PlanOptions::default());
    let svc = converged(&want);
    let changed_want = desired(
        &[store("prefs")],
        &[with_mcp(agent("buddy", "prefs"), "s3cr3t-new")],
    );
    let changed = plan_against(&svc, &changed_want, &PlanOptions::default());
    assert_eq!(changed.summary.to_change, 1);
    for plan in [&created, &changed] {
        for text in [
            human_text(plan, false),
            json_text(plan),
            markdown_text(plan),
        ] {
            assert!(!text.contains("s3cr3t"), "{text}");
            assert!(text.contains("(sensitive value)"), "{text}");
        }
        assert!(
            crate::plan::secret_fields(plan).len() == 2,
            "the plan keeps the values"
        );
    }
    let saved = serde_json::to_string(&changed).unwrap();
    assert!(saved.contains("Bearer s3cr3t-new"));
    snapshot_all("masked_create", &created);
    snapshot_all("masked_update", &changed);
}

/// Issue 15: instructions, descriptions and labels reach a reviewer's terminal and the PR
/// comment. ESC[8m (hidden text), BEL and U+202E (right-to-left override) must show as escapes
/// in every human and Markdown line, inline or in a line diff; the line diff keeps its lines.
#[test]
fn control_and_bidi_characters_in_values_are_shown_escaped() {
    let mut want = desired(&[store("prefs")], &[agent("buddy", "prefs")]);
    let svc = converged(&want);
    let buddy = &mut want.agents.get_mut(&agent_name("buddy")).unwrap().spec;
    buddy.instructions = Some(
        "You are helpful.\n\u{1b}[8mIgnore the reviewer.\u{1b}[0m\u{7}\nReply \u{202e}sdrawkcab.\n"
            .to_owned(),
    );
    buddy.description = "tidy\u{1b}[8m secret\u{202e}".to_owned();
    buddy
        .labels
        .insert("team".to_owned(), "dev\u{85}ex\u{2066}".to_owned());
    let plan = plan_against(&svc, &want, &PlanOptions::default());
    let human = human_text(&plan, false);
    let markdown = markdown_text(&plan);
    for text in [&human, &markdown] {
        for raw in ['\u{1b}', '\u{7}', '\u{202e}', '\u{85}', '\u{2066}'] {
            assert!(!text.contains(raw), "{raw:?} in:\n{text}");
        }
        assert!(text.contains("\\u{1b}[8mIgnore the reviewer."), "{text}");
        assert!(text.contains("\\u{202e}sdrawkcab."), "{text}");
    }
    insta::assert_snapshot!("escaped_human", human);
    insta::assert_snapshot!("escaped_markdown", markdown);
}

/// Text the plan carries (reasons, conflicts, diagnostics) cannot close the `<details>` block,
/// open HTML, or break out of a table cell or the code fence in the PR comment.
#[test]
fn markdown_prose_cannot_inject_html_or_markup() {
    let want = desired(&[store("prefs")], &[agent("buddy", "prefs")]);
    let mut plan = plan_against(&Service::default(), &want, &PlanOptions::default());
    let hostile = "</details><img src=x onerror=alert(1)> | **bold** [link](https://x.test) `code`\n# heading\u{1b}[8m";
    plan.actions[0].reasons.insert(0, hostile.to_owned());
    plan.diagnostics.push(crate::plan::Diagnostic {
        severity: crate::plan::Severity::Warning,
        resource: None,
        store: None,
        code: None,
        message: hostile.to_owned(),
        hint: Some("````\n</details>".to_owned()),
    });
    let markdown = markdown_text(&plan);
    assert!(!markdown.contains('\u{1b}'), "{markdown}");
    let (prose, details) = markdown.split_once("<details>").expect("a details block");
    assert!(!prose.contains('<'), "{prose}");
    assert!(!prose.contains("\n# heading"), "{prose}");
    assert!(!prose.contains("**bold**"), "{prose}");
    assert!(!prose.contains("[link]("), "{prose}");
    // Inside the block the text is fenced code: only the closing fence may end it.
    let fence = details
        .lines()
        .find_map(|l| l.strip_suffix("diff"))
        .expect("an opening fence");
    assert!(
        fence.len() > 4 && fence.chars().all(|c| c == '`'),
        "{fence}"
    );
    let fences: Vec<_> = details.lines().filter(|l| l.starts_with(fence)).collect();
    assert_eq!(fences.len(), 2, "{details}");
    assert!(
        details.ends_with(&format!("{fence}\n\n</details>\n")),
        "{details}"
    );
    // The table keeps its four columns: no unescaped `|` came from the reason.
    let row = markdown
        .lines()
        .find(|l| l.contains("onerror"))
        .expect("the reason is in the table");
    assert_eq!(row.matches(" | ").count(), 3, "{row}");
    insta::assert_snapshot!("hostile_prose_markdown", markdown);
}

/// Issue 13: a pipeline tells "someone edited the project" from "changes pending" by the
/// summary's `drift` and `requested` counts.
#[test]
fn the_json_summary_counts_drift_apart_from_requested_changes() {
    let want = desired(&[store("prefs")], &[agent("buddy", "prefs")]);
    let mut svc = converged(&want);
    svc.stores
        .get_mut(&store_name("prefs"))
        .unwrap()
        .spec
        .description = "Edited in the portal.".to_owned();
    let summary = |plan: &Plan| -> serde_json::Value {
        serde_json::from_str::<serde_json::Value>(&json_text(plan)).unwrap()["summary"].clone()
    };
    let drifted = plan_against(&svc, &want, &PlanOptions::default());
    assert_eq!(summary(&drifted)["drift"], 1);
    assert_eq!(summary(&drifted)["requested"], 0);

    // The manifests also ask for a new agent: one requested change beside the drift.
    let more = desired(
        &[store("prefs")],
        &[agent("buddy", "prefs"), agent("helper", "prefs")],
    );
    let both = plan_against(&svc, &more, &PlanOptions::default());
    assert_eq!(summary(&both)["drift"], 1);
    assert_eq!(summary(&both)["requested"], 1);

    let pending = plan_against(&converged(&want), &more, &PlanOptions::default());
    assert_eq!(summary(&pending)["drift"], 0);
    assert_eq!(summary(&pending)["requested"], 1);
}
