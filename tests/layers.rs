//! The module layering, checked over the source text: `src/` imports downwards only (the table
//! in [`LAYERS`], as ARCHITECTURE.md draws it), and no two modules import each other, directly
//! or around a loop, either between the top-level modules of a crate or between the
//! submodules of one module.
//!
//! An import is any `crate::NAME` path (and, inside a module's directory, `super::NAME` from
//! one of its files), in `use` lines or inline. Test code is left out: test modules
//! (`#[cfg(test)] mod x;` files and the trailing `#[cfg(test)] mod tests { … }`) may reach
//! sideways, e.g. a property test of the planner that also renders its plans.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers of `src/`, lowest first. A module may import from its own layer's modules only
/// when the table says so (none do today), and from any lower layer.
const LAYERS: &[&[&str]] = &[
    &["exit", "dotenv"],
    &["env"],
    &["model"],
    &["manifest"],
    &["plan"],
    &["render"],
    &["foundry"],
    &["apply"],
    &["ops"],
    &["commands"],
    &["cli"],
];

/// Module → the modules it imports, from the production code of every file under `root`.
/// `within` `None` groups files by top-level module (`src/plan/store.rs` is `plan`); `Some(m)`
/// groups the files of module `m` by its submodules (`store`).
fn imports(root: &Path, within: Option<&str>) -> BTreeMap<String, BTreeSet<String>> {
    let base = match within {
        None => root.to_path_buf(),
        Some(module) => root.join(module),
    };
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(&base) {
        let relative: Vec<String> = file
            .strip_prefix(&base)
            .unwrap()
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let module = relative[0].trim_end_matches(".rs").to_owned();
        if within.is_some() && module == "mod" {
            // `mod.rs` declares and re-exports; it is the module itself, not a submodule.
            continue;
        }
        if is_test_file(&file) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let prefix = match within {
            None => "crate::".to_owned(),
            Some(m) => format!("crate::{m}::"),
        };
        let direct_child = relative.len() == 1;
        let entry = graph.entry(module.clone()).or_default();
        for line in production_code(&text).lines() {
            let code = line.split("//").next().unwrap_or("");
            let mut names = paths_after(code, &prefix);
            if within.is_some() && direct_child {
                names.extend(paths_after(code, "super::"));
            }
            for name in names {
                if name != module && is_module(&base, &name) {
                    entry.insert(name);
                }
            }
        }
    }
    graph
}

/// Every name that follows `prefix` in `code`: `crate::plan::Plan` gives `plan`, and a group
/// `crate::{plan, model::X}` gives `plan` and `model`.
fn paths_after(code: &str, prefix: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        let preceded_by_ident = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
        rest = &rest[at + prefix.len()..];
        if preceded_by_ident {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                names.push(identifier(item.trim()));
            }
        } else {
            names.push(identifier(rest));
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

fn identifier(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Whether `name` is a module under `base` (a file `name.rs` or a directory `name/`).
fn is_module(base: &Path, name: &str) -> bool {
    base.join(format!("{name}.rs")).is_file() || base.join(name).is_dir()
}

/// The text up to a trailing inline test module.
fn production_code(text: &str) -> &str {
    let end = text.find("#[cfg(test)]\nmod tests {").unwrap_or(text.len());
    &text[..end]
}

/// Files declared as `#[cfg(test)] mod NAME;` by their parent (or named `tests.rs`).
fn is_test_file(file: &Path) -> bool {
    let stem = file.file_stem().unwrap().to_string_lossy();
    if stem == "tests" {
        return true;
    }
    let dir = file.parent().unwrap();
    let parents = [
        dir.join("mod.rs"),
        dir.with_extension("rs"),
        dir.join("lib.rs"),
        dir.join("main.rs"),
    ];
    let declaration = format!("mod {stem};");
    parents.iter().any(|p| {
        let Ok(text) = std::fs::read_to_string(p) else {
            return false;
        };
        let lines: Vec<&str> = text.lines().collect();
        lines.iter().enumerate().any(|(i, line)| {
            line.trim().ends_with(&declaration) && i > 0 && lines[i - 1].trim() == "#[cfg(test)]"
        })
    })
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The loops of `graph`, each as the path that closes it (`a → b → a`).
fn loops(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        found: &mut Vec<String>,
    ) {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            found.push(cycle.join(" → "));
            return;
        }
        if !done.insert(node.to_owned()) {
            return;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path, done, found);
        }
        path.pop();
    }
    let mut found = Vec::new();
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, graph, &mut Vec::new(), &mut done, &mut found);
    }
    found
}

/// The loops among the top-level modules of `root`, and among the submodules of each of them.
fn all_loops(root: &Path) -> Vec<String> {
    let mut found = loops(&imports(root, None));
    let mut modules: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    modules.sort();
    for dir in modules {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        for cycle in loops(&imports(root, Some(&name))) {
            found.push(format!("inside {name}: {cycle}"));
        }
    }
    found
}

fn crate_src(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

#[test]
fn src_imports_downwards_only() {
    let layer_of = |module: &str| LAYERS.iter().position(|layer| layer.contains(&module));
    let graph = imports(&crate_src("src"), None);
    let mut wrong = Vec::new();
    for (module, used) in &graph {
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(own) = layer_of(module) else {
            wrong.push(format!(
                "{module} is in no layer: add it to LAYERS and ARCHITECTURE.md"
            ));
            continue;
        };
        for other in used {
            match layer_of(other) {
                Some(layer) if layer < own => {}
                _ => wrong.push(format!("{module} imports {other}, which is not below it")),
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn src_has_no_import_loops() {
    let found = all_loops(&crate_src("src"));
    assert!(found.is_empty(), "import loops:\n{}", found.join("\n"));
}

#[test]
fn emulator_src_has_no_import_loops() {
    let found = all_loops(&crate_src("emulator/src"));
    assert!(found.is_empty(), "import loops:\n{}", found.join("\n"));
}

#[test]
fn the_checker_finds_a_loop_and_a_grouped_import() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("c".into());
    graph.entry("c".into()).or_default().insert("a".into());
    graph.entry("d".into()).or_default().insert("a".into());
    assert_eq!(loops(&graph), ["a → b → c → a"]);
    assert_eq!(
        paths_after("use crate::{plan::Plan, model};", "crate::"),
        ["plan", "model"]
    );
    assert_eq!(
        paths_after("x: foundryctl::crate::model::X, super::crate::y", "crate::"),
        Vec::<String>::new()
    );
    assert_eq!(
        paths_after("let p = crate::plan::make();", "crate::"),
        ["plan"]
    );
}
