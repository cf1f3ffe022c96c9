//! Argument groups several commands share: the options every command accepts and the flags
//! that shape a plan.

use std::path::PathBuf;

use clap::Args;

use super::output::ColorChoice;
use crate::exit::{ExitStatus, StatusError};
use crate::foundry::{ApiVersion, AuthMode, TransportConfig};
use crate::model::{DesiredState, ResourceKind, ResourcePattern, ResourceRef, SetName};
use crate::ops::{LocalAccess, SessionOptions};
use crate::plan::PlanOptions;

/// What a command runs with, resolved from the command line: the options every command takes
/// (`--color`, `-v`), and, for the commands that take them, where and how to reach the project
/// ([`TargetArgs`]) and the set this run owns ([`SetArg`]). Those may be given before the
/// command too (`foundryctl --endpoint URL plan …`); [`crate::cli`] merges the two and refuses
/// them before a command that would ignore them.
#[derive(Debug, Clone)]
pub struct GlobalArgs {
    pub endpoint: Option<String>,
    pub api_version: ApiVersion,
    pub auth: AuthMode,
    pub set: String,
    /// Whether `--set` was given: `apply FILE --set default` pins the saved plan's set as any
    /// other name does, where no `--set` leaves it to the file.
    pub set_given: bool,
    pub color: ColorChoice,
    pub verbose: u8,
}

/// The options every command accepts.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// When to use colour on the terminal (NO_COLOR is honoured under `auto`).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Log each HTTP request and the files a `-f DIR` walk skipped (-v), and bodies too (-vv).
    /// Tokens are always redacted.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// Where and how to reach the project, for the commands that talk to one. Global within the
/// command, so `memory search --endpoint URL` works as well as `memory --endpoint URL search`.
#[derive(Debug, Clone, Default, Args)]
pub struct TargetArgs {
    /// Project endpoint (https://ACCOUNT.services.ai.azure.com/api/projects/PROJECT), or
    /// `local[:DIR]` for the embedded emulator. Defaults to PROJECT_ENDPOINT (environment or
    /// .env), else the local emulator (refused in a pipeline: CI or TF_BUILD set).
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint: Option<String>,

    /// REST api-version to speak [default: v1].
    #[arg(long, global = true, value_enum)]
    pub api_version: Option<ApiVersion>,

    /// How to authenticate to Azure (ignored for the local emulator) [default: auto].
    #[arg(long, global = true, value_enum)]
    pub auth: Option<AuthMode>,
}

impl TargetArgs {
    /// These, else `before` (what was given before the command).
    pub fn or(&self, before: &TargetArgs) -> TargetArgs {
        TargetArgs {
            endpoint: self.endpoint.clone().or_else(|| before.endpoint.clone()),
            api_version: self.api_version.or(before.api_version),
            auth: self.auth.or(before.auth),
        }
    }

    /// The first option given, as the user spelled it, if any.
    pub fn given(&self) -> Option<&'static str> {
        if self.endpoint.is_some() {
            Some("--endpoint")
        } else if self.api_version.is_some() {
            Some("--api-version")
        } else if self.auth.is_some() {
            Some("--auth")
        } else {
            None
        }
    }
}

/// `--set`, for the commands that own resources.
#[derive(Debug, Clone, Default, Args)]
pub struct SetArg {
    /// The set of resources this run owns; prune and destroy touch only this set
    /// [default: default].
    #[arg(long = "set", value_name = "NAME")]
    pub set: Option<String>,
}

impl GlobalArgs {
    /// `--set`, validated.
    pub fn set_name(&self) -> anyhow::Result<SetName> {
        SetName::new(self.set.clone()).map_err(|e| {
            anyhow::Error::new(StatusError::new(
                ExitStatus::Error,
                format!("invalid --set {:?}: {e}", self.set),
            ))
        })
    }

    /// What a session is opened with, for a command whose client admits as many requests in
    /// flight as `transport` says.
    pub fn session_options(
        &self,
        transport: TransportConfig,
        local: LocalAccess,
    ) -> anyhow::Result<SessionOptions> {
        Ok(SessionOptions {
            local,
            endpoint: self.endpoint.clone(),
            api_version: self.api_version,
            auth: self.auth,
            set: self.set_name()?,
            transport,
        })
    }
}

/// The flags that shape a plan, shared by `plan` and `apply`.
#[derive(Debug, Clone, Args)]
pub struct PlanningArgs {
    /// Manifest file or directory (recursively *.yaml, *.yml); `-` reads stdin. Repeatable.
    #[arg(short = 'f', long = "file", value_name = "FILE|DIR")]
    pub files: Vec<PathBuf>,

    /// Delete resources this set owns that the manifests no longer declare.
    #[arg(long)]
    pub prune: bool,

    /// Plan only this resource (KIND/NAME, e.g. agent/dev-buddy). Repeatable.
    #[arg(long = "target", value_name = "KIND/NAME")]
    pub targets: Vec<ResourceRef>,

    /// Allow replacing this memory store, which deletes every memory in it. Repeatable. With a
    /// saved plan, needed again at apply time (unless the live store is stamped disposable).
    #[arg(long, value_name = "memory_store/NAME")]
    pub allow_replace: Vec<ResourceRef>,

    /// Allow deleting this memory store and every memory in it, or the undeclared memories an
    /// `exclusive` seed removes (memory_seed/NAME). Repeatable. With a saved plan, needed again
    /// at apply time (unless the live store is stamped disposable).
    #[arg(long, value_name = "memory_store/NAME")]
    pub allow_delete: Vec<ResourceRef>,

    /// Replace this memory store even though its manifest did not change (a reset: every
    /// memory in it is deleted, then its seeds are written again). Naming it here allows it.
    /// `*` in NAME matches any run of characters among the declared stores (quote it:
    /// 'memory_store/att*-memory'). Repeatable.
    #[arg(long, value_name = "memory_store/NAME")]
    pub replace: Vec<ResourcePattern>,

    #[command(flatten)]
    pub variables: crate::manifest::VariableArgs,
}

impl PlanningArgs {
    /// The plan's options, with each `--replace` pattern resolved against the stores the
    /// manifests declare. A pattern with `*` that matches none of them is an error: a reset
    /// that resets nothing is a typo. (An exact name that matches nothing is only warned
    /// about, like the allow flags; see [`crate::plan::unused_allows`].)
    pub fn options(
        &self,
        set: &SetName,
        destroy: bool,
        declared: &DesiredState,
    ) -> Result<PlanOptions, StatusError> {
        let mut replace = std::collections::BTreeSet::new();
        for pattern in &self.replace {
            match pattern {
                ResourcePattern::Exact(r) => {
                    replace.insert(r.clone());
                }
                ResourcePattern::Glob { kind, .. } if *kind != ResourceKind::MemoryStore => {
                    return Err(StatusError::new(
                        ExitStatus::Error,
                        format!(
                            "--replace {pattern} names no memory store: only memory stores can \
                             be replaced on request"
                        ),
                    )
                    .with_hint(
                        "a store's agents and seeds are written again after it is replaced: \
                         name the stores, e.g. --replace 'memory_store/att*-memory'",
                    ));
                }
                ResourcePattern::Glob { .. } => {
                    let matched: Vec<ResourceRef> = declared
                        .stores
                        .keys()
                        .map(|name| ResourceRef::MemoryStore(name.clone()))
                        .filter(|r| pattern.matches(r))
                        .collect();
                    if matched.is_empty() {
                        return Err(StatusError::new(
                            ExitStatus::Error,
                            format!(
                                "--replace {pattern} matches no memory store the manifests declare"
                            ),
                        )
                        .with_hint(
                            "`*` matches any run of characters, and only the names of stores \
                             the -f manifests declare; check the pattern and the -f paths",
                        ));
                    }
                    replace.extend(matched);
                }
            }
        }
        Ok(PlanOptions {
            set: set.clone(),
            prune: self.prune,
            destroy,
            targets: (!self.targets.is_empty()).then(|| self.targets.iter().cloned().collect()),
            allow_replace: self.allow_replace.iter().cloned().collect(),
            allow_delete: self.allow_delete.iter().cloned().collect(),
            replace,
        })
    }
}
