//! The emulator's modules import downwards only (issue 14): no module of `emulator/src`
//! reaches, through `use` lines and `crate::`/`super::` paths, a module that reaches it back.
//! Handlers (`api::*`) depend on the store layer and the request checks, never on one another;
//! the store layer knows nothing of HTTP.
//!
//! The graph is read from the source text: each file is a module, a parent depends on the
//! modules it declares, and a file depends on the deepest module each of its paths names.
//! Test modules (from `#[cfg(test)]` on) and comments are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The module path of a source file relative to `src`: `lib.rs` → `crate`, `a/mod.rs` and
/// `a.rs` → `crate::a`, `a/b.rs` → `crate::a::b`.
fn module_of(relative: &Path) -> String {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    std::iter::once("crate".to_owned())
        .chain(parts)
        .collect::<Vec<_>>()
        .join("::")
}

/// The code of a file without its test module and comments.
fn code(text: &str) -> String {
    text.split("#[cfg(test)]")
        .next()
        .unwrap_or_default()
        .lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Expands `a::{b, c::{d, e}}` into `a::b`, `a::c::d`, `a::c::e` (`self` names the prefix).
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or_default().trim();
        return vec![path.trim_end_matches("::self").to_owned()];
    };
    let prefix = tree[..open].trim_end_matches("::");
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(expand)
        .map(|p| {
            if p == "self" {
                prefix.to_owned()
            } else {
                format!("{prefix}::{p}")
            }
        })
        .collect()
}

/// Every path a file's code names: its `use` trees, expanded, and inline `crate::`/`super::`
/// paths.
fn paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lines: Vec<&str> = code.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim_start();
        let Some(tree) = ["use ", "pub use ", "pub(crate) use ", "pub(super) use "]
            .iter()
            .find_map(|p| line.strip_prefix(p))
        else {
            continue;
        };
        // A `use` tree may span lines, up to its `;`.
        let mut statement = tree.to_owned();
        for next in &lines[i + 1..] {
            if statement.contains(';') {
                break;
            }
            statement.push_str(next);
        }
        let tree = statement.split(';').next().unwrap_or_default();
        out.extend(expand(tree));
    }
    for word in code.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')) {
        // `crate::{…}` ends in `::` here; its tree was read with the `use` lines.
        if (word.starts_with("crate::") || word.starts_with("super::")) && !word.ends_with(':') {
            out.push(word.to_owned());
        }
    }
    out
}

/// Builds the dependency graph of the files `(module, code)`.
fn graph(files: &[(String, String)]) -> Graph {
    let modules: BTreeSet<&str> = files.iter().map(|(m, _)| m.as_str()).collect();
    let mut graph = Graph::new();
    for (module, code) in files {
        let deps = graph.entry(module.clone()).or_default();
        let parent = module.rsplit_once("::").map(|(p, _)| p.to_owned());
        let children: Vec<String> = modules
            .iter()
            .filter(|m| m.rsplit_once("::").is_some_and(|(p, _)| p == module))
            .map(|m| (*m).to_owned())
            .collect();
        for child in &children {
            deps.insert(child.clone());
        }
        for path in paths(code) {
            let segments: Vec<&str> = path.split("::").collect();
            let absolute: Vec<String> = match segments.first() {
                Some(&"crate") => segments.iter().map(|s| (*s).to_owned()).collect(),
                Some(&"super") => {
                    let Some(parent) = &parent else { continue };
                    std::iter::once(parent.clone())
                        .chain(segments[1..].iter().map(|s| (*s).to_owned()))
                        .collect()
                }
                Some(&"self") => std::iter::once(module.clone())
                    .chain(segments[1..].iter().map(|s| (*s).to_owned()))
                    .collect(),
                Some(first) if children.iter().any(|c| c.ends_with(&format!("::{first}"))) => {
                    std::iter::once(module.clone())
                        .chain(segments.iter().map(|s| (*s).to_owned()))
                        .collect()
                }
                _ => continue,
            };
            let joined = absolute.join("::");
            let target = modules
                .iter()
                .filter(|m| joined == **m || joined.starts_with(&format!("{m}::")))
                .max_by_key(|m| m.len());
            if let Some(target) = target
                && *target != module
            {
                deps.insert((*target).to_owned());
            }
        }
    }
    graph
}

/// A cycle of the graph, if there is one.
fn cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|n| n == node) {
            let mut found = stack[i..].to_vec();
            found.push(node.to_owned());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

fn source_files(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            source_files(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((module_of(path.strip_prefix(root).unwrap()), code(&text)));
        }
    }
}

fn emulator_graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &src, &mut files);
    graph(&files)
}

#[test]
fn emulator_modules_have_no_import_loops() {
    let graph = emulator_graph();
    assert_eq!(cycle(&graph), None, "an import loop in emulator/src");
}

#[test]
fn handlers_use_the_store_and_the_checks_never_each_other() {
    let graph = emulator_graph();
    // The reader sees real edges (a reader that saw none would pass the loop test vacuously).
    for (from, to) in [
        ("crate::api::stores", "crate::store::stores"),
        ("crate::api::items", "crate::api::request"),
        ("crate::api::responses", "crate::agent_run"),
        ("crate::agent_run", "crate::recall"),
        ("crate::server", "crate::store::db"),
    ] {
        assert!(
            graph[from].contains(to),
            "{from} should use {to}: {:?}",
            graph[from]
        );
    }
    let handlers = [
        "agents",
        "conversations",
        "deployments",
        "items",
        "memories",
        "responses",
        "stores",
    ]
    .map(|h| format!("crate::api::{h}"));
    for handler in &handlers {
        let deps = &graph[handler];
        for other in &handlers {
            assert!(!deps.contains(other), "{handler} uses {other}");
        }
        assert!(
            !deps.contains("crate::api"),
            "{handler} uses the router module"
        );
    }
    for (module, deps) in &graph {
        if module.starts_with("crate::store") {
            assert!(
                deps.iter().all(|d| !d.starts_with("crate::api")),
                "{module} (storage) uses HTTP: {deps:?}"
            );
        }
    }
}

#[test]
fn the_reader_finds_a_loop_through_use_trees_and_super_paths() {
    let files = [
        ("crate".to_owned(), "mod a;\nmod b;".to_owned()),
        (
            "crate::a".to_owned(),
            "use crate::b::{self, x::Y as Z};".to_owned(),
        ),
        (
            "crate::b".to_owned(),
            "fn f() { super::a::g(); }".to_owned(),
        ),
    ];
    let found = cycle(&graph(&files)).expect("a → b → a is a loop");
    assert_eq!(found, ["crate::a", "crate::b", "crate::a"]);
    let acyclic = [
        ("crate".to_owned(), String::new()),
        ("crate::a".to_owned(), "use crate::b::X;".to_owned()),
        ("crate::b".to_owned(), "// use crate::a;".to_owned()),
    ];
    let acyclic: Vec<(String, String)> = acyclic.into_iter().map(|(m, c)| (m, code(&c))).collect();
    assert_eq!(cycle(&graph(&acyclic)), None);
}
