//! `foundryctl get [KIND[/NAME]]`: show live resources, as a table, as JSON, or as manifests
//! (`--output yaml`) so an existing project can be exported into a manifest set.
//!
//! Unlike plan renderings, `get` does not mask credential-like tool fields (`headers`, …): an
//! export must round-trip into manifests that apply the same agent, and it shows only what a
//! reader of the project already sees (docs/get-json.md, "Credentials are not masked").

use std::collections::BTreeSet;

use anyhow::Context as _;
use clap::ValueEnum;
use serde_json::json;

use super::{output, session};
use crate::commands::GlobalArgs;
use crate::exit::{ExitStatus, StatusError};
use crate::manifest;
use crate::model::{self, LiveAgent, LiveMemoryStore, ResourceKind, ResourceRef};
use crate::ops::LocalAccess;
use crate::render::{self, seed::SeedView};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub target: super::args::TargetArgs,

    /// `memory_store`, `agent`, `memory_seed` (with -f), or one resource as KIND/NAME. Every
    /// resource foundryctl manages when omitted (`--include-unmanaged` adds the others).
    #[arg(value_name = "KIND[/NAME]", value_parser = parse_selector)]
    pub selector: Option<Selector>,

    /// `table` for people, `json` for scripts, `yaml` as manifests (`foundryctl/v1`).
    #[arg(short, long, value_enum, default_value_t = GetFormat::Table)]
    pub output: GetFormat,

    /// Show only the resources of this set [default: every set].
    #[arg(long = "set", value_name = "NAME")]
    pub set: Option<String>,

    /// Show only resources with this label (KEY=VALUE). Repeatable: all must match.
    #[arg(short = 'l', long = "selector", value_name = "KEY=VALUE", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,

    /// Show resources foundryctl does not manage too (hidden by default; a KIND/NAME selector
    /// shows its resource either way).
    #[arg(long)]
    pub include_unmanaged: bool,

    /// With `memory_seed`: the manifests that declare the seeds (a seed exists only there; the
    /// project holds its scopes' memories, which `get` shows, and `-o yaml` exports as the
    /// seeds are live now). Repeatable.
    #[arg(short = 'f', long = "file", value_name = "FILE|DIR")]
    pub files: Vec<std::path::PathBuf>,

    #[command(flatten)]
    pub variables: crate::manifest::VariableArgs,
}

fn parse_label(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got {s:?}")),
    }
}

/// Which resources `get` shows, beside the KIND[/NAME] selector.
struct Filter<'a> {
    set: Option<&'a str>,
    labels: &'a [(String, String)],
    include_unmanaged: bool,
    named: bool,
}

impl Filter<'_> {
    /// Whether a resource with this `metadata` passes; `hidden` counts the unmanaged ones left
    /// out only because `--include-unmanaged` was not given.
    fn wants(
        &self,
        metadata: &std::collections::BTreeMap<String, String>,
        hidden: &mut usize,
    ) -> bool {
        let ownership = model::Ownership::from_metadata(metadata);
        if let Some(set) = self.set
            && !(ownership.managed && ownership.set.as_deref() == Some(set))
        {
            return false;
        }
        let labels = model::labels_of(metadata);
        if !self
            .labels
            .iter()
            .all(|(k, v)| labels.get(k).is_some_and(|have| have == v))
        {
            return false;
        }
        if !ownership.managed && !self.include_unmanaged && !self.named {
            *hidden += 1;
            return false;
        }
        true
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GetFormat {
    Table,
    Json,
    Yaml,
}

/// What `get` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Kind(ResourceKind),
    One(ResourceRef),
}

/// A kind, in any spelling `KIND/NAME` takes or its plural (`agents`), or one `KIND/NAME`.
fn parse_selector(s: &str) -> Result<Selector, String> {
    if !s.contains('/') {
        let singular = s.strip_suffix('s').unwrap_or(s);
        if let Ok(kind) = ResourceKind::parse(s).or_else(|_| ResourceKind::parse(singular)) {
            return Ok(Selector::Kind(kind));
        }
    }
    s.parse::<ResourceRef>()
        .map(Selector::One)
        .map_err(|e| e.to_string())
}

impl Selector {
    fn is_seed(&self) -> bool {
        match self {
            Selector::Kind(kind) => *kind == ResourceKind::MemorySeed,
            Selector::One(one) => one.kind() == ResourceKind::MemorySeed,
        }
    }

    fn wants(&self, resource: &ResourceRef) -> bool {
        match self {
            Selector::Kind(kind) => resource.kind() == *kind,
            Selector::One(one) => one == resource,
        }
    }
}

pub async fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitStatus> {
    match &args.selector {
        Some(selector) if selector.is_seed() => return seeds(global, selector, &args).await,
        _ if !args.files.is_empty() => {
            return Err(StatusError::new(
                ExitStatus::Error,
                "-f is for `get memory_seed`: stores and agents are shown as the project has \
                 them, without manifests",
            )
            .with_hint("`foundryctl plan -f DIR` compares the manifests with the project")
            .into());
        }
        _ => {}
    }
    let session = session::connect(global, LocalAccess::Find).await?;
    let live = session
        .client()
        .read_live_state(&BTreeSet::new())
        .await
        .context("failed to read the live project")?;
    session.close().await;

    if let Some(set) = &args.set {
        model::SetName::new(set.clone()).map_err(|e| {
            StatusError::new(ExitStatus::Error, format!("invalid --set {set:?}: {e}"))
        })?;
    }
    let filter = Filter {
        set: args.set.as_deref(),
        labels: &args.labels,
        include_unmanaged: args.include_unmanaged,
        named: matches!(args.selector, Some(Selector::One(_))),
    };
    let mut hidden = 0;
    let wants = |r: &ResourceRef| args.selector.as_ref().is_none_or(|s| s.wants(r));
    let stores: Vec<&LiveMemoryStore> = live
        .stores
        .values()
        .filter(|s| wants(&ResourceRef::MemoryStore(s.name.clone())))
        .filter(|s| filter.wants(&s.metadata, &mut hidden))
        .collect();
    let agents: Vec<&LiveAgent> = live
        .agents
        .values()
        .filter(|a| wants(&ResourceRef::Agent(a.name.clone())))
        .filter(|a| filter.wants(&a.latest.metadata, &mut hidden))
        .collect();
    if hidden > 0 {
        crate::say!(
            "note: {hidden} unmanaged resource{} not shown; --include-unmanaged shows {}",
            if hidden == 1 { " is" } else { "s are" },
            if hidden == 1 { "it" } else { "them" },
        );
    }
    if let Some(Selector::One(one)) = &args.selector
        && stores.is_empty()
        && agents.is_empty()
    {
        return Err(StatusError::new(
            ExitStatus::Error,
            format!("{one} does not exist in the project, or does not match --set and -l"),
        )
        .with_hint("`foundryctl get` lists every resource")
        .into());
    }
    if let Some(set) = &args.set
        && stores.is_empty()
        && agents.is_empty()
    {
        note_sets(set, &live);
    }

    let text = match args.output {
        GetFormat::Table => table(&stores, &agents),
        GetFormat::Json => {
            let mut text = serde_json::to_string_pretty(&to_json(&stores, &agents)?)
                .context("failed to serialise the resources")?;
            text.push('\n');
            text
        }
        GetFormat::Yaml => {
            let cwd = std::env::current_dir().context("failed to find the working directory")?;
            format!("{}{}", schema_line(&cwd), to_manifests(&stores, &agents)?)
        }
    };
    output::print_text(&text).or_else(output::reader_gone)?;
    Ok(ExitStatus::Success)
}

/// When `--set` shows nothing: says whether the project has no resource of that set at all (a
/// misspelt set name reads as an empty set otherwise), and which sets it has.
fn note_sets(set: &str, live: &model::LiveState) {
    let ownerships = live
        .stores
        .values()
        .map(LiveMemoryStore::ownership)
        .chain(live.agents.values().map(LiveAgent::ownership));
    let sets: BTreeSet<String> = ownerships
        .filter(|o| o.managed)
        .filter_map(|o| o.set)
        .collect();
    if sets.contains(set) {
        return;
    }
    // As the project's stamps have them: shown escaped.
    let known: Vec<String> = sets
        .iter()
        .map(|s| format!("`{}`", render::escape::visible(s)))
        .collect();
    let has = if known.is_empty() {
        "no resources foundryctl manages".to_owned()
    } else {
        format!("sets {}", known.join(", "))
    };
    crate::say!("note: the project has no resource of set `{set}`; it has {has}");
}

/// `get memory_seed[/NAME] -f DIR`: the seeds the manifests declare, scope by scope, as they
/// stand in the project; with `-o yaml`, each seed as its scopes are now (to review, or to
/// keep what a workshop's users taught and apply it again later).
async fn seeds(
    global: &GlobalArgs,
    selector: &Selector,
    args: &Args,
) -> anyhow::Result<ExitStatus> {
    if args.files.is_empty() {
        return Err(StatusError::new(
            ExitStatus::Error,
            "memory seeds exist only in the manifests: the project has memories, not seeds",
        )
        .with_hint(
            "pass -f with the manifests that declare them to see their scopes as they are \
             live; `foundryctl memory export --store STORE --scope SCOPE` writes any scope's \
             memories as a MemorySeed manifest",
        )
        .into());
    }
    let session = session::connect(global, LocalAccess::Find).await?;
    let validated = session::load_manifests(&args.files, &args.variables, &session, global.color)?;
    let wanted: Vec<&model::MemorySeed> = validated
        .desired
        .seeds
        .values()
        .filter(|seed| selector.wants(&ResourceRef::MemorySeed(seed.name.clone())))
        .collect();
    if wanted.is_empty() {
        session.close().await;
        let what = match selector {
            Selector::One(one) => one.to_string(),
            Selector::Kind(_) => "memory seed".to_owned(),
        };
        return Err(StatusError::new(
            ExitStatus::Error,
            format!("the manifests declare no {what}"),
        )
        .into());
    }
    if let Err(refusal) =
        super::memory::read::require_items_api(session.client(), "`get memory_seed`")
    {
        session.close().await;
        return Err(refusal);
    }
    let (live, missing) = crate::ops::live::read_seed_scopes(session.client(), &wanted).await?;
    session.close().await;
    let views: Vec<SeedView<'_>> = wanted
        .iter()
        .map(|seed| SeedView {
            seed,
            store_exists: !missing.contains(&seed.store),
            scopes: seed.status(live.get(&seed.store)),
        })
        .collect();
    let text = match args.output {
        GetFormat::Table => render::seed::table(&views),
        GetFormat::Json => {
            let mut text = serde_json::to_string_pretty(&render::seed::json(&views))
                .context("failed to serialise the seeds")?;
            text.push('\n');
            text
        }
        GetFormat::Yaml => {
            let mut now = Vec::new();
            let mut left_out = 0;
            for seed in &wanted {
                let (seed, dropped) = seed.as_live(live.get(&seed.store));
                left_out += dropped;
                if seed.scopes.is_empty() {
                    crate::say!(
                        "note: memory_seed/{} is left out: none of its scopes holds a memory \
                         (a seed cannot declare an empty scope)",
                        seed.name
                    );
                } else {
                    now.push(seed);
                }
            }
            if left_out > 0 {
                crate::say!(
                    "note: left out {left_out} repeated or empty {} (a seed declares each \
                     memory once)",
                    if left_out == 1 { "memory" } else { "memories" }
                );
            }
            let cwd = std::env::current_dir().context("failed to find the working directory")?;
            let body = manifest::export_seeds(&now)
                .map_err(|e| anyhow::anyhow!("failed to write the seeds as YAML: {e}"))?;
            format!("{}{body}", schema_line(&cwd))
        }
    };
    output::print_text(&text).or_else(output::reader_gone)?;
    Ok(ExitStatus::Success)
}

/// The schema line an export starts with, like the example manifests' first line, so editors
/// check and complete the exported file. It names the repository's
/// `schemas/manifest.schema.json` relative to the working directory (where `get -o yaml >
/// FILE` usually saves), found in it or a parent; elsewhere it names `manifest.schema.json`
/// beside the file, which `foundryctl schema > manifest.schema.json` writes.
fn schema_line(cwd: &std::path::Path) -> String {
    const SCHEMA: &str = "schemas/manifest.schema.json";
    let path = cwd
        .ancestors()
        .enumerate()
        .find(|(_, dir)| dir.join(SCHEMA).is_file())
        .map_or_else(
            || {
                crate::say!(
                    "note: the export's first line points editors at manifest.schema.json; \
                     `foundryctl schema > manifest.schema.json` writes it"
                );
                "manifest.schema.json".to_owned()
            },
            |(up, _)| format!("{}{SCHEMA}", "../".repeat(up)),
        );
    format!("# yaml-language-server: $schema={path}\n")
}

/// Who owns a resource, in a word or two.
fn owner(metadata: &std::collections::BTreeMap<String, String>) -> String {
    model::Ownership::from_metadata(metadata).owner()
}

fn table(stores: &[&LiveMemoryStore], agents: &[&LiveAgent]) -> String {
    let mut rows: Vec<[String; 4]> = vec![[
        "KIND".to_owned(),
        "NAME".to_owned(),
        "OWNER".to_owned(),
        "DETAIL".to_owned(),
    ]];
    for s in stores {
        rows.push([
            "memory_store".to_owned(),
            s.name.to_string(),
            owner(&s.metadata),
            format!("{}, {}", s.spec.chat_model, s.spec.embedding_model),
        ]);
    }
    for a in agents {
        let detail = match &a.latest.spec {
            Some(spec) => format!("version {}, {}", a.latest.version, spec.model),
            None => format!("version {}, not a prompt agent", a.latest.version),
        };
        rows.push([
            "agent".to_owned(),
            a.name.to_string(),
            owner(&a.latest.metadata),
            detail,
        ]);
    }
    render::columns(&rows)
}

/// `get -o json` (documented in docs/get-json.md): each resource as the manifest document
/// `get -o yaml` exports, plus what only the live project knows under `status`. Stamps are not
/// labels, so they appear only as `status.managed`/`status.set`.
fn to_json(
    stores: &[&LiveMemoryStore],
    agents: &[&LiveAgent],
) -> anyhow::Result<serde_json::Value> {
    let mut items = Vec::new();
    for s in stores {
        let store = model::MemoryStore {
            name: s.name.clone(),
            spec: s.spec.clone(),
            disposable: model::stamped_disposable(&s.metadata),
        };
        let mut item = manifest::store_document_json(&store)
            .map_err(|e| anyhow::anyhow!("failed to write memory_store/{}: {e}", s.name))?;
        item["status"] = json!({
            "id": s.id,
            "created_at": s.created_at,
            "updated_at": s.updated_at,
            "managed": s.ownership().managed,
            "set": s.ownership().set,
        });
        items.push(item);
    }
    for a in agents {
        let mut item = match &a.latest.spec {
            Some(spec) => manifest::agent_document_json(&model::Agent {
                name: a.name.clone(),
                spec: spec.clone(),
            })
            .map_err(|e| anyhow::anyhow!("failed to write agent/{}: {e}", a.name))?,
            // Not a prompt agent: no manifest can declare it, so there is no spec to show.
            None => json!({
                "apiVersion": manifest::API_VERSION,
                "kind": "Agent",
                "metadata": {"name": a.name},
                "spec": null,
            }),
        };
        item["status"] = json!({
            "version": a.latest.version,
            "created_at": a.latest.created_at,
            "prompt_agent": a.latest.spec.is_some(),
            "managed": a.ownership().managed,
            "set": a.ownership().set,
        });
        items.push(item);
    }
    Ok(json!({"format_version": 1, "items": items}))
}

/// Live resources as manifests that validate back to the same model. Agents that are not
/// prompt agents cannot be declared, so they are left out with a note on stderr.
fn to_manifests(stores: &[&LiveMemoryStore], agents: &[&LiveAgent]) -> anyhow::Result<String> {
    let stores: Vec<model::MemoryStore> = stores
        .iter()
        .map(|s| model::MemoryStore {
            name: s.name.clone(),
            spec: s.spec.clone(),
            // An apply stamps the stores it was told are disposable, so the export keeps it.
            disposable: model::stamped_disposable(&s.metadata),
        })
        .collect();
    let mut declared = Vec::new();
    for a in agents {
        match &a.latest.spec {
            Some(spec) => declared.push(model::Agent {
                name: a.name.clone(),
                spec: spec.clone(),
            }),
            None => crate::say!(
                "note: agent/{} is not a prompt agent; foundryctl cannot declare it, so it is left out",
                a.name
            ),
        }
    }
    manifest::export(&stores, &declared)
        .map_err(|e| anyhow::anyhow!("failed to write the manifests: {e}"))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::{
        AgentName, AgentSpec, LiveAgentVersion, MemorySearchTool, MemoryStoreName, MemoryStoreSpec,
        SetName, Tool, stamped_metadata,
    };

    /// The documented `get -o json` shape (docs/get-json.md): manifest documents plus `status`,
    /// no internal serde names (`memory_search` variants, null fields).
    #[test]
    fn get_json_is_manifests_plus_status() {
        let labels = BTreeMap::from([("team".to_owned(), "devex".to_owned())]);
        let set = SetName::new("default").unwrap();
        let store = LiveMemoryStore {
            name: MemoryStoreName::new("prefs").unwrap(),
            id: "memstore_1".to_owned(),
            created_at: 1_700_000_000,
            updated_at: 1_700_000_100,
            metadata: stamped_metadata(&labels, &set, "0123456789abcdef0123456789abcdef"),
            spec: MemoryStoreSpec {
                description: "Preferences.".to_owned(),
                labels: labels.clone(),
                chat_model: "gpt-4.1-mini".to_owned(),
                embedding_model: "text-embedding-3-large".to_owned(),
                ..MemoryStoreSpec::default()
            },
        };
        let buddy = LiveAgent {
            name: AgentName::new("buddy").unwrap(),
            latest: LiveAgentVersion {
                version: "3".to_owned(),
                created_at: 1_700_000_200,
                metadata: BTreeMap::new(),
                spec: Some(AgentSpec {
                    model: "gpt-4.1-mini".to_owned(),
                    instructions: Some("Be brief.".to_owned()),
                    tools: vec![Tool::MemorySearch(MemorySearchTool {
                        memory_store_name: MemoryStoreName::new("prefs").unwrap(),
                        scope: "{{$userId}}".to_owned(),
                        max_memories: Some(5),
                        update_delay: None,
                    })],
                    ..AgentSpec::default()
                }),
            },
            history: None,
        };
        let workflow = LiveAgent {
            name: AgentName::new("flow").unwrap(),
            latest: LiveAgentVersion {
                version: "1".to_owned(),
                created_at: 1_700_000_300,
                metadata: BTreeMap::new(),
                spec: None,
            },
            history: None,
        };
        let value = to_json(&[&store], &[&buddy, &workflow]).unwrap();
        insta::assert_json_snapshot!("get_json", value);
    }
}
