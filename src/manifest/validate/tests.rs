//! Unit tests of validation: what valid manifests become, and that every problem is found.

use super::*;
use std::collections::BTreeSet;

use crate::model::{AgentName, MemoryStoreName, Tool};

fn files(texts: &[(&str, &str)]) -> Vec<SourceFile> {
    texts.iter().map(|(n, t)| SourceFile::new(*n, *t)).collect()
}

fn vars() -> Variables {
    Variables::from_pairs([("CHAT_MODEL", "gpt-4o")])
}

const STORE: &str = "apiVersion: foundryctl/v1
kind: MemoryStore
metadata:
  name: prefs
  labels: {team: devex}
spec:
  chat_model: ${CHAT_MODEL:-gpt-4.1-mini}
  embedding_model: ${EMBEDDING_MODEL:-text-embedding-3-large}
  options: {user_profile_enabled: true}
  lifecycle: {disposable: true}
";

const AGENT: &str = "apiVersion: foundryctl/v1
kind: Agent
metadata: {name: buddy}
spec:
  model: m
  temperature: 0.5
  tools:
    - type: memory_search_preview
      memory_store_name: prefs
      scope: \"{{$userId}}\"
      search_options: {max_memories: 5}
    - type: code_interpreter
      container: {type: auto}
";

fn messages(result: Result<Validated, Diagnostics>) -> Vec<String> {
    result
        .unwrap_err()
        .0
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{}:{} {}", d.line, d.column, d.message))
        .collect()
}

use super::super::diagnostic::Severity;

#[test]
fn valid_manifests_become_the_desired_state() {
    let v = validate(&files(&[("a.yaml", STORE), ("b.yaml", AGENT)]), &vars()).unwrap();
    assert_eq!(v.file_count, 2);
    assert_eq!(v.resource_count(), 2);
    assert!(v.warnings.is_empty(), "{:?}", v.warnings);
    let store = &v.desired.stores[&MemoryStoreName::new("prefs").unwrap()];
    assert_eq!(store.spec.chat_model, "gpt-4o");
    assert_eq!(store.spec.embedding_model, "text-embedding-3-large");
    assert_eq!(store.spec.labels["team"], "devex");
    assert_eq!(store.spec.options.user_profile_enabled, Some(true));
    assert!(store.disposable);
    let agent = &v.desired.agents[&AgentName::new("buddy").unwrap()];
    assert_eq!(agent.spec.temperature, Some(0.5));
    let Tool::MemorySearch(tool) = &agent.spec.tools[0] else {
        panic!("memory_search_preview is the memory tool")
    };
    assert_eq!(tool.scope, "{{$userId}}");
    assert_eq!(tool.max_memories, Some(5));
    assert!(matches!(&agent.spec.tools[1], Tool::Other(v) if v["container"]["type"] == "auto"));
    assert!(v.digest().starts_with("sha256:"));
}

#[test]
fn the_digest_changes_with_variables() {
    let input = files(&[("a.yaml", STORE)]);
    let a = validate(&input, &vars()).unwrap().digest();
    let b = validate(&input, &Variables::default()).unwrap().digest();
    assert_ne!(a, b);
}

/// Saved plans record the digest, so streaming the desired state into the hasher (rather than
/// hashing its JSON built whole) must not change a single digest.
#[test]
fn the_digest_hashes_the_inputs_and_the_json_of_the_desired_state() {
    let input = files(&[("a.yaml", STORE), ("b.yaml", AGENT)]);
    let v = validate(&input, &vars()).unwrap();
    let mut hasher = Sha256::new();
    for file in &input {
        for part in [file.name.as_bytes(), file.text.as_bytes()] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
    }
    hasher.update(serde_json::to_vec(&v.desired).unwrap());
    let hex: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(v.digest(), format!("sha256:{hex}"));
}

#[test]
fn every_problem_in_every_document_is_reported() {
    let bad = "apiVersion: foundryctl/v1
kind: Agent
metadata:
  name: -bad-
spec:
  model: m
  temperature: 2.5
  top_p: -1
  description: "
        .to_owned()
        + &"x".repeat(513)
        + "
---
apiVersion: foundryctl/v1
kind: MemoryStore
metadata: {name: s}
spec: {chat_model: '', embedding_model: e, colour: red}
---
apiVersion: foundryctl/v2
kind: Agent
";
    let got = messages(validate(&files(&[("x.yaml", &bad)]), &vars()));
    assert_eq!(
        got,
        [
            "4:9 invalid agent name: agent names must not start or end with a hyphen",
            "7:16 `temperature` is 2.5; it must be between 0 and 2",
            "8:10 `top_p` is -1; it must be between 0 and 1",
            "9:16 description is 513 characters long; the limit is 512",
            "14:44 unknown field `colour`",
            "16:13 unsupported apiVersion `foundryctl/v2`",
        ]
    );
}

#[test]
fn duplicates_across_files_point_at_both_places() {
    let result = validate(&files(&[("a.yaml", STORE), ("b.yaml", STORE)]), &vars());
    let diagnostics = result.unwrap_err().0;
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].file, "b.yaml");
    assert_eq!(
        diagnostics[0].message,
        "MemoryStore `prefs` is declared twice"
    );
    assert!(
        diagnostics[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("a.yaml:4:9")
    );
}

fn seed(name: &str, store: &str, scopes: &[&str], exclusive: bool) -> String {
    let mut text = format!(
        "apiVersion: foundryctl/v1\nkind: MemorySeed\nmetadata: {{name: {name}}}\nspec:\n  \
         memory_store_name: {store}\n  exclusive: {exclusive}\n  scopes:\n"
    );
    for scope in scopes {
        text.push_str(&format!(
            "    {scope}:\n      - {{kind: user_profile, content: \"{name} knows {scope}.\"}}\n"
        ));
    }
    text
}

/// Two seeds of one scope would never converge when one is exclusive (it deletes what the
/// other writes back) and list each other's memories on every plan otherwise: the second is an
/// error that points at the first. Other scopes, other stores and one seed's own scopes are
/// fine.
#[test]
fn one_scope_of_a_store_is_seeded_by_one_seed() {
    let other_store = STORE.replace("name: prefs", "name: notes");
    let a = seed("seed-a", "prefs", &["dana", "lee"], false);
    let b = seed("seed-b", "prefs", &["sam", "dana"], true);
    let c = seed("seed-c", "notes", &["dana"], false);
    let result = validate(
        &files(&[
            ("stores.yaml", &format!("{STORE}---\n{other_store}")),
            ("a.yaml", &a),
            ("b.yaml", &b),
            ("c.yaml", &c),
        ]),
        &vars(),
    );
    let diagnostics = result.unwrap_err().0;
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    let d = &diagnostics[0];
    assert_eq!(d.file, "b.yaml");
    assert_eq!(d.line, 11, "at seed-b's `dana` memories");
    assert_eq!(
        d.message,
        "scope `dana` of memory store `prefs` is seeded by `seed-a` already (a.yaml:9)"
    );
    assert!(
        d.hint
            .as_deref()
            .unwrap()
            .contains("move these memories into `seed-a`")
    );

    let fine = validate(
        &files(&[
            ("stores.yaml", &format!("{STORE}---\n{other_store}")),
            ("a.yaml", &a),
            ("c.yaml", &c),
            ("d.yaml", &seed("seed-d", "prefs", &["sam"], true)),
        ]),
        &vars(),
    );
    assert!(fine.is_ok(), "{:?}", fine.err());

    // The copies of one template seeding a scope that is not theirs.
    let copies = seed("seed-${each}", "prefs", &["shared"], false).replace(
        "metadata: {name: seed-${each}}",
        "metadata: {name: \"seed-${each}\", for_each: [a, b, c]}",
    );
    let diagnostics = validate(
        &files(&[("stores.yaml", STORE), ("copies.yaml", &copies)]),
        &vars(),
    )
    .unwrap_err()
    .0;
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert!(
        diagnostics[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("(`${each}`)"),
        "{diagnostics:?}"
    );
}

/// A disposable store carries a fourth stamp (`foundryctl-disposable`), so one label fewer
/// fits; the key itself is reserved.
#[test]
fn a_disposable_store_has_room_for_one_label_fewer() {
    let labels: String = (0..13).map(|i| format!("    k{i}: v\n")).collect();
    let text = STORE.replace("  labels: {team: devex}\n", &format!("  labels:\n{labels}"));
    let got = messages(validate(&files(&[("a.yaml", &text)]), &vars()));
    assert_eq!(
        got,
        ["4:9 13 labels declared on a disposable store; at most 12 are allowed"]
    );
    let kept = text.replace("  lifecycle: {disposable: true}\n", "");
    assert!(validate(&files(&[("a.yaml", &kept)]), &vars()).is_ok());
    let reserved = STORE.replace("{team: devex}", "{foundryctl-disposable: 'true'}");
    let got = messages(validate(&files(&[("a.yaml", &reserved)]), &vars()));
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].contains("label `foundryctl-disposable` is reserved"),
        "{got:?}"
    );
}

#[test]
fn label_limits_count_foundryctls_stamps() {
    let labels: String = (0..14).map(|i| format!("    k{i}: v\n")).collect();
    let text = STORE.replace("  labels: {team: devex}\n", &format!("  labels:\n{labels}"));
    let got = messages(validate(&files(&[("a.yaml", &text)]), &vars()));
    assert_eq!(got, ["5:3 14 labels declared; at most 13 are allowed"]);
    let text = STORE.replace(
        "{team: devex}",
        &format!("{{{}: v, t: {}}}", "k".repeat(65), "v".repeat(513)),
    );
    let got = messages(validate(&files(&[("a.yaml", &text)]), &vars()));
    assert_eq!(got.len(), 2, "{got:?}");
}

#[test]
fn undeclared_stores_are_warnings_with_locations() {
    let v = validate(&files(&[("b.yaml", AGENT)]), &vars()).unwrap();
    assert_eq!(v.undeclared_stores.len(), 1);
    let d = &v.undeclared_stores[0].diagnostic;
    assert_eq!((d.severity, d.line, d.column), (Severity::Warning, 9, 7));
    assert_eq!(v.warnings.len(), 1);
}

#[test]
fn empty_files_and_unknown_kinds_are_errors() {
    let got = messages(validate(
        &files(&[("e.yaml", ""), ("c.yaml", "# nothing\n")]),
        &vars(),
    ));
    assert_eq!(
        got,
        [
            "1:1 this file declares no resources",
            "1:1 this file declares no resources"
        ]
    );
    let got = messages(validate(
        &files(&[("k.yaml", "apiVersion: foundryctl/v1\nkind: memorystore\n")]),
        &vars(),
    ));
    assert_eq!(got, ["2:7 unknown kind `memorystore`"]);
}

#[test]
fn every_shape_problem_of_a_document_is_reported_at_once() {
    let store = "apiVersion: foundryctl/v1
kind: MemoryStore
metadata: {name: prefs}
spec:
  chat_modle: gpt
  embedding_model: ${NOPE}
  options:
    user_profile_enabled: \"yes\"
";
    let agent = "apiVersion: foundryctl/v1
kind: Agent
metadata: {name: buddy}
spec:
  model: m
  temprature: 0.5
  top_p: 7
  instructions: ${UNSET_ONE}
  description: ${UNSET_TWO}
  tools:
    - type: memory_search
      memory_store_nme: prefs
      scope: u
";
    let found = messages(validate(
        &files(&[("s.yaml", store), ("a.yaml", agent)]),
        &vars(),
    ));
    assert_eq!(
        found,
        [
            "5:3 unknown field `chat_modle`",
            "6:20 variable `NOPE` is not set",
            // Really missing: the field is misspelled above.
            "7:3 missing field `chat_model`",
            "8:27 invalid boolean (strict mode expects true/false)",
            "6:3 unknown field `temprature`",
            // Limits are checked on what the repaired document holds.
            "7:10 `top_p` is 7; it must be between 0 and 1",
            "8:17 variable `UNSET_ONE` is not set",
            "9:16 variable `UNSET_TWO` is not set",
            "12:7 unknown field `memory_store_nme` in the memory search tool",
        ],
        "{found:#?}"
    );
}

#[test]
fn a_field_of_the_wrong_type_is_not_also_reported_missing() {
    let store = "apiVersion: foundryctl/v1
kind: MemoryStore
metadata: {name: prefs}
spec:
  chat_model: [a, b]
  embedding_model: e
  options: {chat_summary_enabled: maybe}
";
    let found = messages(validate(&files(&[("s.yaml", store)]), &vars()));
    assert_eq!(
        found,
        [
            "5:15 expected a string",
            "7:35 invalid boolean (strict mode expects true/false)"
        ],
        "{found:#?}"
    );
}

const FOR_EACH: &str = "apiVersion: foundryctl/v1
kind: MemoryStore
metadata:
  name: ${each}-memory
  for_each: [att01, att02]
spec: {chat_model: m, embedding_model: e, description: \"for ${each}\"}
---
apiVersion: foundryctl/v1
kind: Agent
metadata:
  name: ${each}-tutor
  for_each: {file: attendees.txt}
spec:
  model: m
  instructions: |
    You teach ${each}.
  tools:
    - type: memory_search
      memory_store_name: ${each}-memory
      scope: \"{{$userId}}\"
";

fn lists(text: &str) -> ForEachLists {
    ForEachLists(BTreeMap::from([(
        ("w.yaml".to_owned(), "attendees.txt".to_owned()),
        Ok(text.to_owned()),
    )]))
}

#[test]
fn for_each_declares_one_resource_per_value_and_copies_reference_each_other() {
    let v = validate_with(
        &files(&[("w.yaml", FOR_EACH)]),
        &vars(),
        &lists("# attendees\natt01\natt02\n"),
    )
    .unwrap();
    assert!(v.warnings.is_empty(), "{:?}", v.warnings);
    let stores: Vec<_> = v.desired.stores.keys().map(|n| n.as_str()).collect();
    assert_eq!(stores, ["att01-memory", "att02-memory"]);
    let store = &v.desired.stores[&MemoryStoreName::new("att02-memory").unwrap()];
    assert_eq!(store.spec.description, "for att02");
    let tutor = &v.desired.agents[&AgentName::new("att01-tutor").unwrap()];
    assert_eq!(
        tutor.spec.instructions.as_deref(),
        Some("You teach att01.\n")
    );
    let Tool::MemorySearch(tool) = &tutor.spec.tools[0] else {
        panic!("{:?}", tutor.spec.tools);
    };
    assert_eq!(tool.memory_store_name.as_str(), "att01-memory");
    let templates: BTreeSet<_> = v.desired.templates.values().cloned().collect();
    assert_eq!(
        templates,
        BTreeSet::from(["w.yaml:5".into(), "w.yaml:12".into()])
    );
    assert_eq!(v.desired.templates.len(), 4);
}

#[test]
fn a_for_each_value_that_repeats_a_name_is_an_error_at_the_template_naming_it() {
    let got = messages(validate_with(
        &files(&[("w.yaml", FOR_EACH)]),
        &vars(),
        &lists("att01\natt03\natt01\n"),
    ));
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].starts_with("11:9 Agent `att01-tutor` is declared twice"),
        "{got:?}"
    );
    assert!(got[0].contains("`for_each` value `att01`"), "{got:?}");
    // The tutor of att03 names a store nobody declares: a warning, not an error.
}

#[test]
fn a_template_problem_is_reported_once_not_once_per_copy() {
    let text = FOR_EACH.replace("model: m\n", "model: m\n  temperature: 9\n");
    let got = messages(validate_with(
        &files(&[("w.yaml", &text)]),
        &vars(),
        &lists("a\nb\nc\n"),
    ));
    assert_eq!(got.len(), 1, "{got:?}");
}

#[test]
fn for_each_must_list_values_and_its_file_must_have_been_read() {
    let empty = FOR_EACH.replace("[att01, att02]", "[]");
    let got = messages(validate_with(
        &files(&[("w.yaml", &empty)]),
        &vars(),
        &lists("a\n"),
    ));
    assert_eq!(got, ["5:13 `for_each` has no values"]);
    let got = messages(validate(&files(&[("w.yaml", FOR_EACH)]), &vars()));
    assert_eq!(
        got,
        ["12:13 the `for_each` file attendees.txt was not read"]
    );
    let got = messages(validate_with(
        &files(&[("w.yaml", FOR_EACH)]),
        &vars(),
        &ForEachLists(BTreeMap::from([(
            ("w.yaml".to_owned(), "attendees.txt".to_owned()),
            Err("no such file".to_owned()),
        )])),
    ));
    assert_eq!(
        got,
        ["12:13 cannot read the `for_each` file attendees.txt: no such file"]
    );
}

const PROBED: &str = "apiVersion: foundryctl/v1
kind: Agent
metadata: {name: buddy}
spec:
  model: m
  checks:
    - ask: Which language should the examples use?
      user_id: user_dana
      expect: {memory_recalled: Python, answer_contains: python}
    - ask: Are you there?
";

#[test]
fn checks_become_probes_beside_the_agent_not_in_its_spec() {
    let v = validate(&files(&[("a.yaml", PROBED)]), &vars()).unwrap();
    let name = AgentName::new("buddy").unwrap();
    let probes = &v.desired.checks[&name];
    assert_eq!(probes.len(), 2);
    assert_eq!(probes[0].user_id.as_deref(), Some("user_dana"));
    assert_eq!(probes[0].expect.memory_recalled.as_deref(), Some("Python"));
    assert_eq!(probes[0].expect.answer_contains.as_deref(), Some("python"));
    assert_eq!(probes[1].user_id, None);
    assert_eq!(probes[1].expect, crate::model::ProbeExpect::default());
    // The agent is the same as without checks: probes never reach a plan.
    let plain = validate(
        &files(&[("a.yaml", PROBED.split("  checks:").next().unwrap())]),
        &vars(),
    )
    .unwrap();
    assert_eq!(v.desired.agents, plain.desired.agents);
    assert!(plain.desired.checks.is_empty());
}

#[test]
fn a_probe_with_an_unknown_key_or_empty_texts_is_an_error_at_its_line() {
    let bad = "apiVersion: foundryctl/v1
kind: Agent
metadata: {name: buddy}
spec:
  model: m
  checks:
    - ask: \"  \"
      user_id: \"\"
      expect: {answer_contains: \"\"}
    - ask: hi
      expect: {memory_recaled: Python}
";
    let found = messages(validate(&files(&[("a.yaml", bad)]), &vars()));
    let joined = found.join("\n");
    assert!(
        joined.contains("7:12 a probe's `ask` must not be empty"),
        "{joined}"
    );
    assert!(
        joined.contains("8:16 a probe's `user_id` must not be empty"),
        "{joined}"
    );
    assert!(
        joined.contains("`expect.answer_contains` must not be empty"),
        "{joined}"
    );
    assert!(
        found
            .iter()
            .any(|m| m.starts_with("11:") && m.contains("unknown field `memory_recaled`")),
        "{joined}"
    );
}

#[test]
fn a_reference_in_a_flow_collection_is_hinted_to_be_quoted() {
    let seed = "apiVersion: foundryctl/v1
kind: MemorySeed
metadata: {name: s}
spec:
  memory_store_name: prefs
  scopes: {${each}: [{kind: user_profile, content: x}]}
";
    let diagnostics = validate(&files(&[("seed.yaml", seed)]), &vars()).unwrap_err();
    let first = &diagnostics.0[0];
    assert_eq!(first.line, 6, "{first:?}");
    assert_eq!(
        first.hint.as_deref(),
        Some("inside `{ }` or `[ ]`, quote a ${…} reference: \"${each}\""),
        "{first:?}"
    );
}

/// The cheap head (`yaml::quick_head`) decides which documents skip the full header parse, so
/// wherever it answers it must say what the full parse says: over every manifest the
/// repository holds (examples, workshop, the bad-manifest corpus) and some tricky texts.
#[test]
fn the_quick_head_agrees_with_the_full_header_parse() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut texts: Vec<String> = [
        "kind: Agent\nmetadata: {for_each: {file: l.txt}, name: a}\napiVersion: foundryctl/v1\n",
        "{apiVersion: foundryctl/v1, kind: MemoryStore, metadata: {name: s}, spec: {}}\n",
        "apiVersion: foundryctl/v1\nkind: Agent\nmetadata:\n  name: a\nmetadata:\n  for_each: [x]\n",
        "apiVersion: \"foundryctl/v1\"\nkind: 'Agent'\nmetadata: {name: a, for_each: null}\n",
        "%YAML 1.2\n---\napiVersion: foundryctl/v1\nkind: Agent\nmetadata: {name: a}\n",
        "apiVersion: foundryctl/v1\nkind: Agent\n? metadata\n: {name: a}\n",
    ]
    .map(str::to_owned)
    .to_vec();
    let mut dirs = vec![
        root.join("manifests"),
        root.join("tests/fixtures"),
        root.join("examples"),
    ];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml")
                && let Ok(text) = std::fs::read_to_string(&path)
            {
                texts.push(text);
            }
        }
    }
    let mut answered = 0;
    for text in &texts {
        let file = SourceFile::new("m.yaml", text.as_str());
        for doc in document::split(&file) {
            let Some(head) = yaml::quick_head(doc.text) else {
                continue;
            };
            answered += 1;
            let full = yaml::from_document::<Header>(doc.text);
            let for_each = yaml::from_document::<raw::ForEachHeader>(doc.text)
                .ok()
                .flatten()
                .and_then(|h| h.metadata)
                .and_then(|m| m.for_each);
            match full {
                Ok(Some(header)) => {
                    assert_eq!(
                        header.api_version.map(|v| v.value).as_deref(),
                        Some(head.api_version.as_str()),
                        "{}",
                        doc.text
                    );
                    assert_eq!(
                        header.kind.map(|k| k.value).as_deref(),
                        Some(head.kind.as_str()),
                        "{}",
                        doc.text
                    );
                    // The head says `for_each` is there when the key is (`for_each: null`
                    // too, which the full parse reads as absent): the full path then decides.
                    assert!(head.for_each || for_each.is_none(), "{}", doc.text);
                }
                // The full parse may find what the head did not read (a syntax error or a
                // repeated key further on); then the typed parse reports it too.
                Err(_) => {}
                Ok(None) => panic!("quick_head answered for an empty document: {}", doc.text),
            }
        }
    }
    assert!(answered > 40, "only {answered} documents had a quick head");
}

/// A document whose head is read cheaply must come out as when it is read in full first,
/// whatever order its keys are in: what the full read finds wrong is reported alone, and the
/// resource is not declared (so nothing else is said about it).
#[test]
fn key_order_does_not_change_what_is_found() {
    let head = |kind: &str, name: &str| {
        format!("apiVersion: foundryctl/v1\nkind: {kind}\nmetadata: {{name: {name}}}\n")
    };
    let seed = "apiVersion: foundryctl/v1
kind: MemorySeed
metadata: {name: seed}
spec:
  memory_store_name: s
  scopes: {u: [{kind: user_profile, content: x}]}
";
    let vars = Variables::from_pairs([("TEMP", "0.5")]);
    for (kind, name, spec) in [
        // A repeated key further on than the head, which the typed parse can repair past.
        (
            "MemoryStore",
            "s",
            "spec:\n  chat_model: m\n  embedding_model: e\n  description: a\n  description: b\n",
        ),
        // A repeated top-level key, after the head has been read.
        (
            "MemoryStore",
            "s",
            "spec:\n  chat_model: m\n  embedding_model: e\napiVersion: foundryctl/v1\n",
        ),
        // A standard tag on a reference, judged on the text as written, however the tag and
        // the reference are spelled.
        (
            "Agent",
            "a",
            "spec:\n  model: m\n  temperature: !!float ${TEMP}\n",
        ),
        (
            "Agent",
            "a",
            "spec:\n  model: m\n  temperature: !float ${TEMP}\n",
        ),
        (
            "Agent",
            "a",
            "spec:\n  model: m\n  temperature: !<tag:yaml.org,2002:float> ${TEMP}\n",
        ),
        (
            "Agent",
            "a",
            "spec:\n  model: m\n  temperature: !!float \"$\\u007BTEMP}\"\n",
        ),
    ] {
        let [first, second] =
            [head(kind, name) + spec, spec.to_owned() + &head(kind, name)].map(|text| {
                let result = validate(&files(&[("m.yaml", &text), ("seed.yaml", seed)]), &vars);
                let mut found: Vec<String> = result
                    .map_or_else(|d| d.0, |v| v.warnings)
                    .into_iter()
                    .map(|d| format!("{} {}", d.file, d.message))
                    .collect();
                found.sort();
                found
            });
        assert_eq!(first, second, "{spec}");
        assert_eq!(
            first.iter().filter(|m| m.starts_with("m.yaml")).count(),
            1,
            "{first:?}"
        );
    }
}

/// Documents are examined on several threads and committed in reading order: what is found,
/// and in what order, must not depend on how many threads there were. Every bad manifest of
/// the tests and the repository's manifests (with their `for_each` list files) are validated
/// together (so there are duplicates across files, within `for_each` copies and within files,
/// besides every kind of error), each file of several documents alone, the valid manifests
/// alone, and documents made to put a duplicate beside other errors.
#[test]
fn the_threads_do_not_change_what_is_found() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    let mut dirs = vec![
        root.join("tests/fixtures/bad-manifests"),
        root.join("manifests"),
    ];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                paths.push(path);
            }
        }
    }
    paths.sort();
    let all: Vec<SourceFile> = paths
        .iter()
        .filter_map(|p| {
            let text = String::from_utf8(std::fs::read(p).ok()?).ok()?;
            Some(SourceFile::new(p.display().to_string(), text))
        })
        .collect();
    assert!(all.len() > 40, "{} manifests found", all.len());
    let crafted = files(&[
        ("one.yaml", &format!("{STORE}---\n{AGENT}---\n{AGENT}")),
        ("two.yaml", &format!("{AGENT}---\n{STORE}")),
        ("copies.yaml", TWINS),
    ]);
    let valid: Vec<SourceFile> = all
        .iter()
        .filter(|f| f.name.contains("/manifests/"))
        .cloned()
        .collect();
    let mut sets: Vec<Vec<SourceFile>> = vec![all.clone(), crafted.clone(), valid.clone()];
    sets.push(all.iter().chain(&crafted).cloned().collect());
    // Alone, the files of more than one document (one document has nothing to share).
    sets.extend(
        all.iter()
            .filter(|f| document::split(f).len() > 1)
            .map(|f| vec![f.clone()]),
    );
    for set in &sets {
        let lists = crate::manifest::source::read_list_files(&list_files(set));
        // One thread and the fewest windows (one, but for a window of its own for each
        // document that may have `for_each` copies), against several threads, and windows of
        // one to three documents, whose edges fall inside files and between them.
        let alone = format!("{:?}", validate_on(set, &vars(), &lists, 1, usize::MAX));
        for (threads, window) in [(2, WINDOW), (5, WINDOW), (1, 1), (2, 3), (3, 2)] {
            let shared = format!("{:?}", validate_on(set, &vars(), &lists, threads, window));
            assert!(
                alone == shared,
                "{threads} threads, {window} documents at a time, found otherwise than one \
                 thread in {} files",
                set.len()
            );
        }
    }
    // The comparisons are not of empty or failed reads: the workshop's `for_each` copies
    // validate, and the whole set finds duplicates of both sorts.
    let lists = crate::manifest::source::read_list_files(&list_files(&valid));
    let workshop = validate_on(&valid, &vars(), &lists, 2, WINDOW).unwrap();
    assert!(workshop.desired.templates.len() >= 20, "{workshop:?}");
    let found = format!("{:?}", validate_on(&sets[3], &vars(), &lists, 2, 3));
    assert!(found.contains("is declared twice\""), "{found}");
    assert!(found.contains("gives a name already taken"), "{found}");
}

/// Copies of one name beside other errors: a problem at the name's own position (labels
/// written inline are located at the name), a repeated copy value, a failed interpolation.
const TWINS: &str = "apiVersion: foundryctl/v1
kind: Agent
metadata: {name: twin, for_each: [a, b, b], labels: {k1: v, k2: v, k3: v, k4: v, k5: v, k6: v, k7: v, k8: v, k9: v, k10: v, k11: v, k12: v, k13: v, k14: v}}
spec: {model: m, temperature: 9}
---
apiVersion: foundryctl/v1
kind: Agent
metadata: {name: solo}
spec: {model: m}
---
apiVersion: foundryctl/v1
kind: Agent
metadata: {name: solo}
spec: {model: '${NOPE}'}
";

/// What the documents of [`TWINS`] report, in order: each problem once, the duplicates where
/// the copies reached them, the failed interpolation last in its document.
#[test]
fn duplicates_are_reported_in_reading_order_beside_other_errors() {
    let twins = files(&[("twins.yaml", TWINS)]);
    for threads in [1, 2] {
        let found: Vec<String> =
            validate_on(&twins, &vars(), &ForEachLists::default(), threads, WINDOW)
                .unwrap_err()
                .0
                .into_iter()
                .map(|d| format!("{}:{} {}", d.line, d.column, d.message))
                .collect();
        let expected = [
            "3:18 14 labels declared; at most 13 are allowed",
            "3:18 Agent `twin` is declared twice: the `for_each` value `b` gives a name already taken",
            "4:31 `temperature` is 9; it must be between 0 and 2",
            "13:18 Agent `solo` is declared twice",
            "14:16 variable `NOPE` is not set",
        ];
        assert_eq!(found, expected, "{threads} threads");
    }
}
