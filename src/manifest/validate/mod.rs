//! Validation: source files → [`Validated`] desired state, or every problem found.
//!
//! Each file is split into documents; each document is parsed twice, first for its header
//! (`apiVersion`, `kind`), then as the type its kind names. A syntax error ends that document
//! only; shape errors (unknown fields, wrong types, unset variables) are all reported, by
//! parsing again past each one ([`repair`]), and every `${…}` that cannot be expanded; limits, names and cross-document checks
//! (duplicates, store references) are collected for everything that parsed. Nothing here does
//! I/O.

mod agent;
mod common;
mod document;
mod for_each;
mod repair;
mod seed;
mod store;

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest as _, Sha256};

use crate::model::fingerprint::Hashing;
use crate::model::{DesiredState, References, ResourceKind, StoreReference};

use super::diagnostic::{Diagnostic, Diagnostics};
use super::raw::{self, API_VERSION, Header};
use super::source::SourceFile;
use super::suggest::did_you_mean;
use super::variables::Variables;
use super::yaml::{self, Pos};
use common::Checker;
pub use for_each::{ForEachLists, list_files};
use repair::Repair;

/// Valid manifests: the desired state and what else commands need to know about them.
#[derive(Debug, Clone)]
pub struct Validated {
    pub desired: DesiredState,
    /// `sha256:…` over the inputs (names and contents) and the resulting desired state, so a
    /// saved plan can tell whether it was made from the same manifests and variables.
    pub digest: String,
    pub warnings: Vec<Diagnostic>,
    pub file_count: usize,
    /// The variables the manifests' references found set, with their values (a saved plan
    /// records their names).
    pub variables: BTreeMap<String, String>,
    /// Memory search tools naming a store the manifests do not declare. At `validate` these
    /// are warnings (already in `warnings`); `plan` checks them against the live project and
    /// turns the ones it cannot find into errors with [`UndeclaredStore::diagnostic`].
    pub undeclared_stores: Vec<UndeclaredStore>,
    /// Every model deployment the manifests name (`chat_model`, `embedding_model`, an agent's
    /// `model`), located, for the deployments preflight of `plan` and `validate
    /// --against-project`.
    pub deployment_refs: Vec<DeploymentRef>,
}

/// A manifest's reference to a model deployment, by name.
#[derive(Debug, Clone)]
pub struct DeploymentRef {
    pub resource: crate::model::ResourceRef,
    /// `chat_model`, `embedding_model` or `model`.
    pub field: &'static str,
    pub deployment: String,
    /// Located at the value, message empty: [`DeploymentRef::missing`] fills it in.
    diagnostic: Diagnostic,
}

impl DeploymentRef {
    /// The error for a project that has no deployment of this name, at the manifest's line.
    pub fn missing(&self, deployed: &BTreeSet<String>) -> Diagnostic {
        let mut d = self.diagnostic.clone().into_error();
        d.message = format!(
            "{} `{}` names the model deployment `{}` in `{}`, which the project does not have",
            self.resource.kind().manifest_kind(),
            self.resource.name(),
            self.deployment,
            self.field
        );
        d.hint = Some(if deployed.is_empty() {
            "the project has no model deployments; deploy the model first".to_owned()
        } else {
            let names: Vec<&str> = deployed.iter().map(String::as_str).collect();
            match did_you_mean(&self.deployment, names.iter().copied()) {
                Some(near) => format!(
                    "did you mean `{near}`? The project's deployments: {}",
                    names.join(", ")
                ),
                None => format!(
                    "name one of the project's deployments ({}), or deploy the model first",
                    names.join(", ")
                ),
            }
        });
        d
    }
}

impl Validated {
    /// How many resources the manifests declare.
    pub fn resource_count(&self) -> usize {
        self.desired.stores.len() + self.desired.agents.len() + self.desired.seeds.len()
    }
}

/// A memory tool's reference to a store the manifests do not declare.
#[derive(Debug, Clone)]
pub struct UndeclaredStore {
    pub agent: crate::model::AgentName,
    pub store: crate::model::MemoryStoreName,
    /// A located warning; use [`Diagnostic::into_error`] when the project lacks it too.
    pub diagnostic: Diagnostic,
}

/// The references between documents, checked once all are read.
#[derive(Default)]
struct StoreRefs {
    /// Memory tools → stores.
    tools: Vec<(crate::model::AgentName, usize, agent::ToolStoreRef)>,
    /// Seeds → stores.
    seeds: Vec<(String, usize, seed::SeedStoreRef)>,
}

/// Where a resource was declared, to point at both places of a duplicate.
struct Declared {
    location: String,
}

/// Validates `files` with `vars` for interpolation. Pure: no I/O, no environment. A
/// `for_each: {file: …}` is an error here; see [`validate_with`].
pub fn validate(files: &[SourceFile], vars: &Variables) -> Result<Validated, Diagnostics> {
    validate_with(files, vars, &ForEachLists::default())
}

/// [`validate`], with the list files that `for_each: {file: …}` documents name (read by the
/// edge, see [`list_files`]).
pub fn validate_with(
    files: &[SourceFile],
    vars: &Variables,
    lists: &ForEachLists,
) -> Result<Validated, Diagnostics> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut desired = DesiredState::default();
    let mut declared: BTreeMap<(ResourceKind, String), Declared> = BTreeMap::new();
    let mut tool_refs = StoreRefs::default();
    let mut used = std::collections::BTreeSet::new();
    let mut deployment_refs = Vec::new();

    for (file_index, file) in files.iter().enumerate() {
        let mut resources = 0usize;
        let errors_before = errors.len();
        for doc in document::split(file) {
            let doc_errors = errors.len();
            let mut check = Checker {
                doc,
                errors: &mut errors,
                failed: Vec::new(),
                interpolation: Vec::new(),
                used: std::collections::BTreeSet::new(),
                deployments: Vec::new(),
                head_only: false,
            };
            if let Some(found) = check_document(
                &mut check,
                file_index,
                vars,
                lists,
                &mut desired,
                &mut declared,
                &mut tool_refs,
            ) {
                resources += found;
            }
            used.append(&mut check.used);
            deployment_refs.append(&mut check.deployments);
            let failed = std::mem::take(&mut check.failed);
            let interpolation = std::mem::take(&mut check.interpolation);
            if !interpolation.is_empty() {
                let mut index = 0;
                errors.retain(|d| {
                    index += 1;
                    index <= doc_errors || !failed.contains(&(d.line, d.column))
                });
                errors.extend(interpolation);
            }
            // The copies of a `for_each` document repeat the template's problems: once each.
            let mut seen = std::collections::BTreeSet::new();
            let mut index = 0;
            errors.retain(|d| {
                index += 1;
                index <= doc_errors || seen.insert((d.line, d.column, d.message.clone()))
            });
        }
        // Within a file, in reading order (repairs and limit checks find them out of order).
        errors[errors_before..].sort_by_key(|d: &Diagnostic| (d.line, d.column));
        if resources == 0 && errors.len() == errors_before {
            let pos = Some(Pos {
                line: 1,
                column: 1,
                len: 1,
            });
            errors.push(
                Diagnostic::error(file, pos, "this file declares no resources")
                    .with_hint("a manifest document starts with `apiVersion: foundryctl/v1` and `kind: MemoryStore`, `kind: Agent` or `kind: MemorySeed`"),
            );
        }
    }

    // The rule is the index's (`References::unresolved`); without a project to look in, every
    // store the manifests do not declare is unresolved, which `validate` warns about and `plan`
    // checks against the project.
    let unresolved: BTreeSet<StoreReference> =
        References::of_desired(&desired).unresolved().collect();
    let mut undeclared_stores = Vec::new();
    for (seed, file_index, reference) in std::mem::take(&mut tool_refs.seeds) {
        if desired.stores.contains_key(&reference.store) {
            continue;
        }
        let Some(file) = files.get(file_index) else {
            continue;
        };
        errors.push(
            Diagnostic::error(
                file,
                reference.pos,
                format!(
                    "memory seed `{seed}` seeds memory store `{}`, which the manifests do not declare",
                    reference.store
                ),
            )
            .with_hint(
                "declare it with `kind: MemoryStore` in the same manifests: a seed is written after its store and again after the store is replaced",
            ),
        );
    }
    for (agent, file_index, reference) in tool_refs.tools {
        let key = StoreReference {
            agent: agent.clone(),
            store: reference.store.clone(),
        };
        if !unresolved.contains(&key) {
            continue;
        }
        let Some(file) = files.get(file_index) else {
            continue;
        };
        let diagnostic = Diagnostic::warning(
            file,
            reference.pos,
            format!(
                "agent `{agent}` uses memory store `{}`, which the manifests do not declare",
                reference.store
            ),
        )
        .with_hint(
            "declare it with `kind: MemoryStore`, or make sure the project has it (`plan` checks)",
        );
        warnings.push(diagnostic.clone());
        undeclared_stores.push(UndeclaredStore {
            agent,
            store: reference.store,
            diagnostic,
        });
    }

    if !errors.is_empty() {
        errors.extend(warnings);
        return Err(Diagnostics(errors));
    }
    let digest = digest(files, &desired);
    Ok(Validated {
        desired,
        digest,
        warnings,
        file_count: files.len(),
        variables: used
            .into_iter()
            .filter_map(|name| Some((name.clone(), vars.get(&name)?.to_owned())))
            .collect(),
        undeclared_stores,
        deployment_refs,
    })
}

/// Documents longer than this are never read by their head alone.
const QUICK_HEAD_MAX_LEN: usize = 1 << 20;

/// Checks one document and adds its resource to `desired`. Returns how many resources it
/// declared (0 or 1), or `None` when it could not be read.
fn check_document(
    check: &mut Checker<'_, '_>,
    file_index: usize,
    vars: &Variables,
    lists: &ForEachLists,
    desired: &mut DesiredState,
    declared: &mut BTreeMap<(ResourceKind, String), Declared>,
    tool_refs: &mut StoreRefs,
) -> Option<usize> {
    let doc = check.doc;
    // The common case, read cheaply: a current apiVersion, a known kind, no `for_each`, a
    // document of ordinary size (the parser's size limits are judged on the text as written,
    // by the full header parse).
    if doc.text.len() <= QUICK_HEAD_MAX_LEN
        && let Some(head) = yaml::quick_head(doc.text)
        && head.api_version == API_VERSION
        && !head.for_each
        && let Some(kind) = ResourceKind::from_manifest_kind(&head.kind)
    {
        check.head_only = true;
        return declare(
            check, kind, file_index, vars, None, desired, declared, tool_refs,
        );
    }
    let header = match yaml::from_document::<Header>(doc.text) {
        Ok(Some(header)) => header,
        Ok(None) => return Some(0),
        Err(error) => {
            let mut diagnostic = doc.yaml_error(&error);
            if error.message.starts_with("expected mapping")
                || error.message.starts_with("expected struct")
            {
                diagnostic.message = "a manifest document must be a mapping".to_owned();
                diagnostic.hint = Some("start it with `apiVersion: foundryctl/v1` and `kind: MemoryStore`, `kind: Agent` or `kind: MemorySeed`".to_owned());
            }
            check.errors.push(diagnostic);
            return None;
        }
    };
    let Some(kind) = header.kind else {
        check.errors.push(
            Diagnostic::error(doc.file, doc.start(), "missing `kind`")
                .with_hint("add `kind: MemoryStore`, `kind: Agent` or `kind: MemorySeed`"),
        );
        return None;
    };
    match &header.api_version {
        None => {
            check.errors.push(
                Diagnostic::error(doc.file, doc.start(), "missing `apiVersion`")
                    .with_hint(format!("add `apiVersion: {API_VERSION}`")),
            );
            return None;
        }
        Some(v) if v.value != API_VERSION => {
            check.error_hint(
                v,
                format!("unsupported apiVersion `{}`", v.value),
                format!("this foundryctl reads `apiVersion: {API_VERSION}`"),
            );
            return None;
        }
        Some(_) => {}
    }
    let Ok(copies) = for_each::values(check, lists) else {
        return None;
    };
    let Some(resource_kind) = ResourceKind::from_manifest_kind(&kind.value) else {
        let names = ResourceKind::ALL.map(ResourceKind::manifest_kind);
        let hint = match did_you_mean(&kind.value, names) {
            Some(near) => format!("did you mean `{near}`?"),
            None => "foundryctl manages `MemoryStore`, `Agent` and `MemorySeed`".to_owned(),
        };
        check.error_hint(&kind, format!("unknown kind `{}`", kind.value), hint);
        return None;
    };
    let kind = resource_kind;
    let Some((values, template)) = copies else {
        return declare(
            check, kind, file_index, vars, None, desired, declared, tool_refs,
        );
    };
    let mut count = 0;
    for value in values {
        let copy = Copy {
            each: &value,
            template: &template,
        };
        let vars = vars.with("each", &value);
        count += declare(
            check,
            kind,
            file_index,
            &vars,
            Some(copy),
            desired,
            declared,
            tool_refs,
        )
        .unwrap_or(0);
    }
    Some(count)
}

/// One copy of a `for_each` document: its value and its template's identity.
#[derive(Debug, Clone, Copy)]
struct Copy<'a> {
    each: &'a str,
    template: &'a str,
}

/// Parses and checks the document as its `kind` (once, or once per `for_each` copy) and adds
/// the resource to `desired`.
#[expect(
    clippy::too_many_arguments,
    reason = "the validation state, passed down one level"
)]
fn declare(
    check: &mut Checker<'_, '_>,
    kind: ResourceKind,
    file_index: usize,
    vars: &Variables,
    copy: Option<Copy<'_>>,
    desired: &mut DesiredState,
    declared: &mut BTreeMap<(ResourceKind, String), Declared>,
    tool_refs: &mut StoreRefs,
) -> Option<usize> {
    match kind {
        ResourceKind::MemoryStore => {
            let raw = parse::<raw::MemoryStore>(check, vars)?;
            let store = store::convert(check, &raw)?;
            let resource = crate::model::ResourceRef::MemoryStore(store.name.clone());
            check.deployment(resource.clone(), "chat_model", &raw.spec.chat_model);
            check.deployment(resource, "embedding_model", &raw.spec.embedding_model);
            let key = (ResourceKind::MemoryStore, store.name.to_string());
            if !first_declaration(check, declared, key, &raw.metadata.name, copy) {
                return None;
            }
            if let Some(copy) = copy {
                desired.templates.insert(
                    crate::model::ResourceRef::MemoryStore(store.name.clone()),
                    copy.template.to_owned(),
                );
            }
            desired.stores.insert(store.name.clone(), store);
            Some(1)
        }
        ResourceKind::Agent => {
            let raw = parse::<raw::Agent>(check, vars)?;
            let mut refs = Vec::new();
            let mut probes = Vec::new();
            let agent = agent::convert(check, &raw, &mut refs, &mut probes)?;
            check.deployment(
                crate::model::ResourceRef::Agent(agent.name.clone()),
                "model",
                &raw.spec.model,
            );
            let key = (ResourceKind::Agent, agent.name.to_string());
            if !first_declaration(check, declared, key, &raw.metadata.name, copy) {
                return None;
            }
            tool_refs.tools.extend(
                refs.into_iter()
                    .map(|r| (agent.name.clone(), file_index, r)),
            );
            if let Some(copy) = copy {
                desired.templates.insert(
                    crate::model::ResourceRef::Agent(agent.name.clone()),
                    copy.template.to_owned(),
                );
            }
            if !probes.is_empty() {
                desired.checks.insert(agent.name.clone(), probes);
            }
            desired.agents.insert(agent.name.clone(), agent);
            Some(1)
        }
        ResourceKind::MemorySeed => {
            let raw = parse::<raw::MemorySeed>(check, vars)?;
            let (seed, reference) = seed::convert(check, &raw);
            if let Some(reference) = reference {
                let name = raw.metadata.name.value.clone();
                tool_refs.seeds.push((name, file_index, reference));
            }
            let seed = seed?;
            let key = (ResourceKind::MemorySeed, seed.name.to_string());
            if !first_declaration(check, declared, key, &raw.metadata.name, copy) {
                return None;
            }
            if let Some(copy) = copy {
                desired.templates.insert(
                    crate::model::ResourceRef::MemorySeed(seed.name.clone()),
                    copy.template.to_owned(),
                );
            }
            desired.seeds.insert(seed.name.clone(), seed);
            Some(1)
        }
    }
}

/// Parses the document as `T`, expanding variables; problems become diagnostics. Every shape
/// problem of the document is reported, not only the first (see [`repair`]); when there was
/// one, the value returned is that of the repaired text, for checking the rest of the
/// document, and the errors already make validation fail.
fn parse<T: serde::de::DeserializeOwned>(
    check: &mut Checker<'_, '_>,
    vars: &Variables,
) -> Option<T> {
    let doc = check.doc;
    let mut interpolated = yaml::interpolate(doc.text, vars.as_map());
    let first = yaml::from_document::<T>(&interpolated.text);
    // A document read only as far as its head has not been checked in full. Whatever the full
    // header parse finds wrong (a syntax error further on, which the typed parse may only show
    // as a value of the wrong shape; a repeated key; a tag on a reference) is reported alone
    // and the document not declared, as when every document was read in full first. It can
    // only be found when the typed parse failed or read a tag on an expanded value.
    if (first.is_err() || interpolated.rewrote_tagged)
        && check.head_only
        && let Err(error) = yaml::from_document::<Header>(doc.text)
    {
        check.errors.push(doc.yaml_error(&error));
        return None;
    }
    check.used.append(&mut interpolated.used);
    for error in &interpolated.errors {
        check.interpolation.push(doc.yaml_error(error));
    }
    check.failed.extend(
        interpolated
            .failed
            .iter()
            .map(|&(line, column)| (line + doc.line_offset, column)),
    );
    let source: &str = &interpolated.text;
    let mut repair: Option<Repair> = None;
    let mut first = Some(first);
    for _ in 0..=repair::MAX_REPAIRS {
        let parsed = match first.take() {
            Some(parsed) => parsed,
            None => {
                let text = repair.as_ref().map(Repair::text);
                yaml::from_document::<T>(text.as_deref().unwrap_or(source))
            }
        };
        let error = match parsed {
            // The header parsed, so the document is not empty; an empty result would simply
            // be nothing to add.
            Ok(value) => return value,
            Err(error) => error,
        };
        let repair = repair.get_or_insert_with(|| Repair::new(source));
        if repair.caused(&error) {
            return None;
        }
        check.errors.push(doc.yaml_error(&error));
        if source.len() > repair::MAX_REPAIRED_LEN || !repair.blank_for(&error) {
            return None;
        }
    }
    None
}

/// Records where `key` is declared; on a second declaration reports it at both places and
/// returns `false`.
fn first_declaration(
    check: &mut Checker<'_, '_>,
    declared: &mut BTreeMap<(ResourceKind, String), Declared>,
    key: (ResourceKind, String),
    name: &yaml::Spanned<String>,
    copy: Option<Copy<'_>>,
) -> bool {
    let here = Diagnostic::error(check.doc.file, check.doc.at(name), "").location();
    if let Some(first) = declared.get(&key) {
        let (message, hint) = match copy {
            Some(copy) => (
                format!(
                    "{} `{}` is declared twice: the `for_each` value `{}` gives a name already taken",
                    key.0.manifest_kind(),
                    key.1,
                    copy.each
                ),
                format!(
                    "first declared at {}; put ${{each}} in the name so that every copy has its own",
                    first.location
                ),
            ),
            None => (
                format!("{} `{}` is declared twice", key.0.manifest_kind(), key.1),
                format!(
                    "first declared at {}; each resource must be declared once",
                    first.location
                ),
            ),
        };
        check.error_hint(name, message, hint);
        return false;
    }
    declared.insert(key, Declared { location: here });
    true
}

/// `sha256:` over every input (name and text, length-prefixed so boundaries cannot shift)
/// and the desired state that came out (which captures the variables' effect).
fn digest(files: &[SourceFile], desired: &DesiredState) -> String {
    let mut hasher = Sha256::new();
    for file in files {
        for part in [file.name.as_bytes(), file.text.as_bytes()] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
    }
    // Streamed into the hasher: the JSON of a large project's desired state is megabytes, and
    // building it whole made it the peak of `validate` and `plan`. Serialising plain maps,
    // strings and numbers cannot fail; a failure would only weaken the digest, never break it.
    // Buffered, so the hasher takes blocks rather than every token.
    let mut json = std::io::BufWriter::new(Hashing(&mut hasher));
    let _ = serde_json::to_writer(&mut json, desired);
    let _ = std::io::Write::flush(&mut json);
    drop(json);
    let bytes = hasher.finalize();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in bytes.iter() {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

#[cfg(test)]
mod tests;
