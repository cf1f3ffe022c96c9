//! Validation: source files → [`Validated`] desired state, or every problem found.
//!
//! Each file is split into documents; a document's head (`apiVersion`, `kind`,
//! `metadata.for_each`) is read from its first parser events when it is ordinary
//! ([`yaml::quick_head`]), by a full header parse otherwise, and the document is then parsed as
//! the type its kind names. A syntax error ends that document only; shape errors (unknown
//! fields, wrong types, unset variables) are all reported, by parsing again past each one
//! ([`repair`]), and every `${…}` that cannot be expanded; limits, names and cross-document
//! checks (duplicates, store references) are collected for everything that parsed. Nothing
//! here does I/O.
//!
//! Documents are examined independently ([`examine`]: parsing, interpolation, per-resource
//! checks), on several threads when there is enough text to be worth it, and then committed in
//! reading order ([`Commit`]: duplicates, the desired state, references), so what is reported
//! never depends on the threads.

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
use crate::model::{DesiredState, MemoryStoreName, References, ResourceKind, StoreReference};

use super::diagnostic::{Diagnostic, Diagnostics};
use super::raw::{self, API_VERSION, Header};
use super::source::SourceFile;
use super::suggest::did_you_mean;
use super::variables::Variables;
use super::yaml::{self, Pos};
use common::Checker;
use document::Document;
pub use for_each::{ForEachLists, list_files};
use repair::Repair;

/// Valid manifests: the desired state and what else commands need to know about them.
#[derive(Debug, Clone)]
pub struct Validated {
    pub desired: DesiredState,
    /// The inputs (names and contents) hashed; [`Validated::digest`] adds the desired state.
    inputs_hashed: Sha256,
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
    /// `sha256:…` over the inputs (names and contents) and the desired state that came out of
    /// them (which captures the variables' effect), so a saved plan can tell whether it was
    /// made from the same manifests and variables. Made on demand: only a saved plan and
    /// `validate -o json` show it, and the desired state's JSON took a millisecond of every
    /// plan of 1,000 resources.
    pub fn digest(&self) -> String {
        let mut hasher = self.inputs_hashed.clone();
        // Streamed into the hasher: the JSON of a large project's desired state is megabytes,
        // and building it whole made it the peak of `validate` and `plan`. Serialising plain
        // maps, strings and numbers cannot fail; a failure would only weaken the digest, never
        // break it. Buffered, so the hasher takes blocks rather than every token.
        let mut json = std::io::BufWriter::new(Hashing(&mut hasher));
        let _ = serde_json::to_writer(&mut json, &self.desired);
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

/// One document, examined on its own ([`examine`]): what checking it found, and the resources
/// it declares, not yet committed to the desired state.
struct Examined<'a> {
    file_index: usize,
    doc: Document<'a>,
    /// The document's own errors, each once, without those that follow from a failed
    /// interpolation; the interpolation errors themselves come after everything else.
    errors: Vec<Diagnostic>,
    interpolation: Vec<Diagnostic>,
    /// File positions of values whose `${…}` could not be expanded, when there were any: a
    /// "declared twice" found there at commit follows from it too.
    failed: Vec<(usize, usize)>,
    declarations: Vec<Declaration>,
    /// Seeds → stores (reported whether or not the seed is declared twice).
    seed_refs: Vec<(String, seed::SeedStoreRef)>,
    used: BTreeSet<String>,
    deployments: Vec<DeploymentRef>,
}

/// A resource a document declares, checked; whether it is the first of its name is decided
/// when it is committed, in reading order.
struct Declaration {
    /// How many of the document's (kept) errors came before it.
    errors_before: usize,
    name: yaml::Spanned<String>,
    copy: Option<ForEachCopy>,
    resource: Resource,
}

enum Resource {
    Store(crate::model::MemoryStore),
    Agent {
        /// Boxed: an agent is twice the size of the other kinds.
        agent: Box<crate::model::Agent>,
        refs: Vec<agent::ToolStoreRef>,
        probes: Vec<crate::model::Probe>,
    },
    Seed(crate::model::MemorySeed),
}

/// The declarations committed so far, in reading order.
#[derive(Default)]
struct Commit {
    desired: DesiredState,
    declared: BTreeMap<(ResourceKind, String), Declared>,
    /// Memory tools → stores.
    tools: Vec<(crate::model::AgentName, usize, agent::ToolStoreRef)>,
    /// Seeds → stores.
    seeds: Vec<(String, usize, seed::SeedStoreRef)>,
}

/// Where a resource was declared, to point at both places of a duplicate.
struct Declared {
    location: String,
}

/// Below this much text, the documents are examined on the calling thread: a thread costs
/// more than it saves.
const PARALLEL_MIN_TEXT: usize = 64 * 1024;
/// The most threads validation uses: parsing is the work, and a few cores already take it
/// below the time it takes to read the files and start the process.
const MAX_THREADS: usize = 8;
/// Documents examined at a time, then committed before the next ones are split off: enough to
/// share among the threads, few enough that what examining holds stays small (an 8 MiB file of
/// nothing but `---` lines is two million documents; one that may have `for_each` copies is
/// examined alone, see `validate_on`).
const WINDOW: usize = 1024;

/// Examines every document, in their order, on up to `threads` threads (each takes the next
/// document from a shared count, so a file of a thousand documents is shared as well as a
/// thousand files). A thread the system refuses to start only leaves more for the others.
fn examine_all<'a>(
    documents: Vec<(usize, Document<'a>)>,
    threads: usize,
    vars: &Variables,
    lists: &ForEachLists,
) -> Vec<Examined<'a>> {
    let threads = threads.min(documents.len());
    if threads <= 1 {
        return documents
            .into_iter()
            .map(|(file_index, doc)| examine(file_index, doc, vars, lists))
            .collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(&(file_index, doc)) = documents.get(index) else {
                return done;
            };
            done.push((index, examine(file_index, doc, vars, lists)));
        }
    };
    let mut examined: Vec<(usize, Examined<'a>)> = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads)
            .map_while(|_| {
                std::thread::Builder::new()
                    .name("validate".into())
                    // The main thread's size: parsing recurses as deep as a document nests.
                    .stack_size(8 << 20)
                    .spawn_scoped(scope, work)
                    .ok()
            })
            .collect();
        let mut all = work();
        for helper in helpers {
            match helper.join() {
                Ok(done) => all.extend(done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    });
    examined.sort_unstable_by_key(|(index, _)| *index);
    examined.into_iter().map(|(_, e)| e).collect()
}

/// Checks one document on its own: everything but what depends on the other documents.
fn examine<'a>(
    file_index: usize,
    doc: Document<'a>,
    vars: &Variables,
    lists: &ForEachLists,
) -> Examined<'a> {
    let mut errors = Vec::new();
    let mut found = Found::default();
    let mut check = Checker {
        doc,
        errors: &mut errors,
        failed: Vec::new(),
        interpolation: Vec::new(),
        used: BTreeSet::new(),
        deployments: Vec::new(),
        head_only: false,
    };
    check_document(&mut check, vars, lists, &mut found);
    let Checker {
        mut failed,
        mut interpolation,
        used,
        mut deployments,
        ..
    } = check;
    let mut declarations = found.declarations;
    tidy(&mut errors, &mut declarations, &failed, &mut interpolation);
    if interpolation.is_empty() {
        failed = Vec::new();
    }
    // Held until the window is committed: a vector's first growth reserves room for four,
    // which held for every document of a large project was 40% of validation's peak heap.
    declarations.shrink_to_fit();
    deployments.shrink_to_fit();
    Examined {
        file_index,
        doc,
        errors,
        interpolation,
        failed,
        declarations,
        seed_refs: found.seed_refs,
        used,
        deployments,
    }
}

/// Drops the errors at values whose interpolation failed (when one did: they follow from it)
/// and every repeat of an error (the copies of a `for_each` document repeat the template's),
/// keeping each declaration's place among them; the interpolation errors lose their repeats
/// too. Done per document, so a project of many `for_each` documents never holds every
/// copy's repeats at once.
fn tidy(
    errors: &mut Vec<Diagnostic>,
    declarations: &mut [Declaration],
    failed: &[(usize, usize)],
    interpolation: &mut Vec<Diagnostic>,
) {
    let filter = !interpolation.is_empty();
    let mut seen = BTreeSet::new();
    let keep: Vec<bool> = errors
        .iter()
        .map(|d| {
            !(filter && failed.contains(&(d.line, d.column)))
                && seen.insert((d.line, d.column, d.message.clone()))
        })
        .collect();
    interpolation.retain(|d| seen.insert((d.line, d.column, d.message.clone())));
    let (mut index, mut kept) = (0, 0);
    for declaration in declarations {
        while index < declaration.errors_before {
            kept += usize::from(keep[index]);
            index += 1;
        }
        declaration.errors_before = kept;
    }
    let mut index = 0;
    errors.retain(|_| {
        index += 1;
        keep[index - 1]
    });
}

/// What examining one document declares.
#[derive(Default)]
struct Found {
    declarations: Vec<Declaration>,
    seed_refs: Vec<(String, seed::SeedStoreRef)>,
}

impl Commit {
    /// Adds `declaration` (of `doc`, in file `file_index`) to the desired state, unless its
    /// name is taken: then returns the error, which points at both declarations.
    fn declare(
        &mut self,
        doc: &Document<'_>,
        file_index: usize,
        declaration: Declaration,
    ) -> Result<(), Box<Diagnostic>> {
        let Declaration {
            name,
            copy,
            resource,
            ..
        } = declaration;
        let (kind, resource_name) = match &resource {
            Resource::Store(store) => (ResourceKind::MemoryStore, store.name.to_string()),
            Resource::Agent { agent, .. } => (ResourceKind::Agent, agent.name.to_string()),
            Resource::Seed(seed) => (ResourceKind::MemorySeed, seed.name.to_string()),
        };
        let key = (kind, resource_name);
        let pos = doc.at(&name).or_else(|| doc.start());
        if let Some(first) = self.declared.get(&key) {
            let (message, hint) = match &copy {
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
            return Err(Box::new(
                Diagnostic::error(doc.file, pos, message).with_hint(hint),
            ));
        }
        let location = Diagnostic::error(doc.file, doc.at(&name), "").location();
        self.declared.insert(key, Declared { location });
        let desired = &mut self.desired;
        let resource_ref = match resource {
            Resource::Store(store) => {
                let reference = crate::model::ResourceRef::MemoryStore(store.name.clone());
                desired.stores.insert(store.name.clone(), store);
                reference
            }
            Resource::Agent {
                agent,
                refs,
                probes,
            } => {
                self.tools.extend(
                    refs.into_iter()
                        .map(|r| (agent.name.clone(), file_index, r)),
                );
                if !probes.is_empty() {
                    desired.checks.insert(agent.name.clone(), probes);
                }
                let reference = crate::model::ResourceRef::Agent(agent.name.clone());
                desired.agents.insert(agent.name.clone(), *agent);
                reference
            }
            Resource::Seed(seed) => {
                let reference = crate::model::ResourceRef::MemorySeed(seed.name.clone());
                desired.seeds.insert(seed.name.clone(), seed);
                reference
            }
        };
        if let Some(copy) = copy {
            desired.templates.insert(resource_ref, copy.template);
        }
        Ok(())
    }
}

/// Validates `files` with `vars` for interpolation. Pure (no I/O, no environment) but for
/// asking how many cores the machine has, for a large project. A
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
    let text_len: usize = files.iter().map(|f| f.text.len()).sum();
    let threads = if text_len < PARALLEL_MIN_TEXT {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .min(MAX_THREADS)
    };
    validate_on(files, vars, lists, threads, WINDOW)
}

/// [`validate_with`] on up to `threads` threads, `window` documents at a time; the result
/// depends on neither.
fn validate_on(
    files: &[SourceFile],
    vars: &Variables,
    lists: &ForEachLists,
    threads: usize,
    window: usize,
) -> Result<Validated, Diagnostics> {
    // Split file by file as the windows reach them, as the commit below consumes them.
    let mut documents = files
        .iter()
        .enumerate()
        .flat_map(|(index, file)| document::split(file).into_iter().map(move |d| (index, d)))
        .peekable();
    let mut examined = std::iter::from_fn(|| {
        let mut next: Vec<(usize, Document<'_>)> = Vec::new();
        while next.len() < window.max(1)
            && let Some((_, doc)) = documents.peek()
        {
            // A document that may expand into `for_each` copies (up to a thousand resources,
            // most of which may be duplicates to drop) is examined in a window of its own,
            // so a window never holds more than one document's copies.
            let copies = for_each::may_have_for_each(doc);
            if copies && !next.is_empty() {
                break;
            }
            next.extend(documents.next());
            if copies {
                break;
            }
        }
        (!next.is_empty()).then(|| examine_all(next, threads, vars, lists))
    })
    .flatten()
    .peekable();

    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut commit = Commit::default();
    let mut used = std::collections::BTreeSet::new();
    let mut deployment_refs = Vec::new();

    for (file_index, file) in files.iter().enumerate() {
        let mut resources = 0usize;
        let errors_before = errors.len();
        while let Some(doc) = examined.next_if(|d| d.file_index == file_index) {
            // The document's own errors, with each duplicate declaration's in the place
            // checking reached it (each once, and none where an interpolation failed, as
            // `tidy` left the others).
            let mut own = doc.errors.into_iter();
            let mut taken = 0;
            let mut repeats = BTreeSet::new();
            for declaration in doc.declarations {
                errors.extend(own.by_ref().take(declaration.errors_before - taken));
                taken = declaration.errors_before;
                match commit.declare(&doc.doc, file_index, declaration) {
                    Ok(()) => resources += 1,
                    Err(twice) => {
                        if !doc.failed.contains(&(twice.line, twice.column))
                            && repeats.insert((twice.line, twice.column, twice.message.clone()))
                        {
                            errors.push(*twice);
                        }
                    }
                }
            }
            errors.extend(own);
            errors.extend(doc.interpolation);
            commit.seeds.extend(
                doc.seed_refs
                    .into_iter()
                    .map(|(seed, reference)| (seed, file_index, reference)),
            );
            used.extend(doc.used);
            deployment_refs.extend(doc.deployments);
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
    let Commit {
        desired,
        tools: tool_refs,
        seeds: seed_refs,
        ..
    } = commit;

    // The rule is the index's (`References::unresolved`); without a project to look in, every
    // store the manifests do not declare is unresolved, which `validate` warns about and `plan`
    // checks against the project.
    let unresolved: BTreeSet<StoreReference> =
        References::of_desired(&desired).unresolved().collect();
    let mut undeclared_stores = Vec::new();
    errors.extend(seeds_sharing_a_scope(files, &seed_refs));
    for (seed, file_index, reference) in seed_refs {
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
    for (agent, file_index, reference) in tool_refs {
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
    Ok(Validated {
        desired,
        inputs_hashed: hash_inputs(files),
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

/// One scope of a store is seeded by one seed. Two seeds of it would each find the other's
/// memories undeclared (listed on every plan), and an `exclusive` one would delete them on
/// every apply while the other wrote them back: the project would never match. The second
/// seed of a scope is the error, pointing at the first.
fn seeds_sharing_a_scope(
    files: &[SourceFile],
    seed_refs: &[(String, usize, seed::SeedStoreRef)],
) -> Vec<Diagnostic> {
    let mut first: BTreeMap<(&MemoryStoreName, &str), (&str, String)> = BTreeMap::new();
    // A template's copies clash with its first copy alone: said once, not once per copy.
    let mut templates_told: BTreeSet<String> = BTreeSet::new();
    let mut errors = Vec::new();
    for (seed, file_index, reference) in seed_refs {
        let Some(file) = files.get(*file_index) else {
            continue;
        };
        for (scope, pos) in &reference.scopes {
            let here = match pos {
                Some(pos) => format!("{}:{}", file.name, pos.line),
                None => file.name.clone(),
            };
            let Some((other, there)) = first.get(&(&reference.store, scope.as_str())) else {
                first.insert((&reference.store, scope), (seed, here));
                continue;
            };
            // A seed declared twice is reported as a duplicate already.
            if *other == seed.as_str() {
                continue;
            }
            if *there == here
                && !templates_told.insert(format!("{}/{scope}/{here}", reference.store))
            {
                continue;
            }
            let hint = if *there == here {
                "each copy of this `for_each` template seeds the same scope: name the scope \
                 after the copy (`${each}`), or seed it outside the template"
                    .to_owned()
            } else {
                format!(
                    "one seed per scope: move these memories into `{other}`, or seed another \
                     scope (two seeds would each see the other's memories as undeclared, and an \
                     exclusive one would delete them on every apply)"
                )
            };
            errors.push(
                Diagnostic::error(
                    file,
                    *pos,
                    format!(
                        "scope `{scope}` of memory store `{}` is seeded by `{other}` already \
                         ({there})",
                        reference.store
                    ),
                )
                .with_hint(hint),
            );
        }
    }
    errors
}

/// Documents longer than this are never read by their head alone.
const QUICK_HEAD_MAX_LEN: usize = 1 << 20;

/// Checks one document and records the resources it declares in `found`.
fn check_document(
    check: &mut Checker<'_, '_>,
    vars: &Variables,
    lists: &ForEachLists,
    found: &mut Found,
) {
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
        record(check, kind, vars, None, found);
        return;
    }
    let header = match yaml::from_document::<Header>(doc.text) {
        Ok(Some(header)) => header,
        Ok(None) => return,
        Err(error) => {
            let mut diagnostic = doc.yaml_error(&error);
            if error.message.starts_with("expected mapping")
                || error.message.starts_with("expected struct")
            {
                diagnostic.message = "a manifest document must be a mapping".to_owned();
                diagnostic.hint = Some("start it with `apiVersion: foundryctl/v1` and `kind: MemoryStore`, `kind: Agent` or `kind: MemorySeed`".to_owned());
            }
            check.errors.push(diagnostic);
            return;
        }
    };
    let Some(kind) = header.kind else {
        check.errors.push(
            Diagnostic::error(doc.file, doc.start(), "missing `kind`")
                .with_hint("add `kind: MemoryStore`, `kind: Agent` or `kind: MemorySeed`"),
        );
        return;
    };
    match &header.api_version {
        None => {
            check.errors.push(
                Diagnostic::error(doc.file, doc.start(), "missing `apiVersion`")
                    .with_hint(format!("add `apiVersion: {API_VERSION}`")),
            );
            return;
        }
        Some(v) if v.value != API_VERSION => {
            check.error_hint(
                v,
                format!("unsupported apiVersion `{}`", v.value),
                format!("this foundryctl reads `apiVersion: {API_VERSION}`"),
            );
            return;
        }
        Some(_) => {}
    }
    let Ok(copies) = for_each::values(check, lists) else {
        return;
    };
    let Some(resource_kind) = ResourceKind::from_manifest_kind(&kind.value) else {
        let names = ResourceKind::ALL.map(ResourceKind::manifest_kind);
        let hint = match did_you_mean(&kind.value, names) {
            Some(near) => format!("did you mean `{near}`?"),
            None => "foundryctl manages `MemoryStore`, `Agent` and `MemorySeed`".to_owned(),
        };
        check.error_hint(&kind, format!("unknown kind `{}`", kind.value), hint);
        return;
    };
    let kind = resource_kind;
    let Some((values, template)) = copies else {
        record(check, kind, vars, None, found);
        return;
    };
    for value in values {
        let vars = vars.with("each", &value);
        let copy = ForEachCopy {
            each: value,
            template: template.clone(),
        };
        record(check, kind, &vars, Some(copy), found);
    }
}

/// One copy of a `for_each` document: its value and its template's identity.
#[derive(Debug, Clone)]
struct ForEachCopy {
    each: String,
    template: String,
}

/// Parses and checks the document as its `kind` (once, or once per `for_each` copy) and
/// records the resource in `found`, to be committed in reading order.
fn record(
    check: &mut Checker<'_, '_>,
    kind: ResourceKind,
    vars: &Variables,
    copy: Option<ForEachCopy>,
    found: &mut Found,
) {
    let (name, resource) = match kind {
        ResourceKind::MemoryStore => {
            let Some(raw) = parse::<raw::MemoryStore>(check, vars) else {
                return;
            };
            let Some(store) = store::convert(check, &raw) else {
                return;
            };
            let resource = crate::model::ResourceRef::MemoryStore(store.name.clone());
            check.deployment(resource.clone(), "chat_model", &raw.spec.chat_model);
            check.deployment(resource, "embedding_model", &raw.spec.embedding_model);
            (raw.metadata.name, Resource::Store(store))
        }
        ResourceKind::Agent => {
            let Some(raw) = parse::<raw::Agent>(check, vars) else {
                return;
            };
            let mut refs = Vec::new();
            let mut probes = Vec::new();
            let Some(agent) = agent::convert(check, &raw, &mut refs, &mut probes) else {
                return;
            };
            check.deployment(
                crate::model::ResourceRef::Agent(agent.name.clone()),
                "model",
                &raw.spec.model,
            );
            refs.shrink_to_fit();
            (
                raw.metadata.name,
                Resource::Agent {
                    agent: Box::new(agent),
                    refs,
                    probes,
                },
            )
        }
        ResourceKind::MemorySeed => {
            let Some(raw) = parse::<raw::MemorySeed>(check, vars) else {
                return;
            };
            let (seed, reference) = seed::convert(check, &raw);
            if let Some(reference) = reference {
                let name = raw.metadata.name.value.clone();
                found.seed_refs.push((name, reference));
            }
            let Some(seed) = seed else {
                return;
            };
            (raw.metadata.name, Resource::Seed(seed))
        }
    };
    found.declarations.push(Declaration {
        errors_before: check.errors.len(),
        name,
        copy,
        resource,
    });
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

/// Every input, name and text, length-prefixed so boundaries cannot shift.
fn hash_inputs(files: &[SourceFile]) -> Sha256 {
    let mut hasher = Sha256::new();
    for file in files {
        for part in [file.name.as_bytes(), file.text.as_bytes()] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
    }
    hasher
}

#[cfg(test)]
mod tests;
