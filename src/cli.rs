//! The command-line surface: global options and the subcommands. Each subcommand's own
//! arguments live beside its implementation in `commands/<verb>.rs`.

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands;

/// Declarative reconciler for Microsoft Foundry memory stores and prompt agents.
///
/// Declare memory stores and agents in YAML, preview the difference to a project with `plan`,
/// make the project match with `apply`. Without an endpoint, commands run against an embedded
/// local emulator under `.foundryctl/local`.
#[derive(Debug, Parser)]
#[command(
    name = "foundryctl",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Project endpoint (https://ACCOUNT.services.ai.azure.com/api/projects/PROJECT), or
    /// `local[:DIR]` for the embedded emulator. Defaults to PROJECT_ENDPOINT (environment or
    /// .env), else the local emulator (refused when CI is set).
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint: Option<String>,

    /// REST api-version to speak.
    #[arg(long, global = true, value_enum, default_value_t = ApiVersionArg::V1)]
    pub api_version: ApiVersionArg,

    /// How to authenticate to Azure (ignored for the local emulator).
    #[arg(long, global = true, value_enum, default_value_t = AuthMode::Auto)]
    pub auth: AuthMode,

    /// The set of resources this run owns; prune and destroy touch only this set.
    #[arg(
        long = "set",
        global = true,
        value_name = "NAME",
        default_value = "default"
    )]
    pub set: String,

    /// When to use colour on the terminal (NO_COLOR is honoured under `auto`).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Log each HTTP request and the files a `-f DIR` walk skipped (-v), and bodies too (-vv).
    /// Tokens are always redacted.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApiVersionArg {
    /// `v1` (memory-store calls add `Foundry-Features: MemoryStores=V1Preview`).
    #[value(name = "v1")]
    V1,
    /// `2025-11-15-preview`, as used by the seed tutorial.
    #[value(name = "2025-11-15-preview")]
    Preview20251115,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    /// Client secret, workload identity, GitHub Actions OIDC, then Azure CLI and azd.
    Auto,
    /// Azure CLI (`az login`).
    Cli,
    /// Azure Developer CLI (`azd auth login`).
    Azd,
    /// Managed identity (App Service, Container Apps, VMs); only when asked for.
    ManagedIdentity,
    /// Workload identity (AZURE_FEDERATED_TOKEN_FILE).
    WorkloadIdentity,
    /// AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_CLIENT_SECRET.
    ClientSecret,
    /// GitHub Actions OIDC exchanged as a client assertion.
    GithubOidc,
    /// A raw bearer token from FOUNDRY_TOKEN.
    Token,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests without contacting the project.
    Validate(commands::validate::Args),
    /// Write the manifest JSON Schema, or check that the committed one is current.
    Schema(commands::schema::Args),
    /// Show what apply would change.
    Plan(commands::plan::Args),
    /// Make the project match the manifests (or carry out a saved plan).
    Apply(commands::apply::Args),
    /// Delete every resource this set owns.
    Destroy(commands::destroy::Args),
    /// Show live resources, optionally as manifests.
    Get(commands::get::Args),
    /// Adopt an existing, unmanaged resource into this set.
    Import(commands::import::Args),
    /// Write, search, list and forget memories.
    #[command(subcommand)]
    Memory(commands::memory::Command),
    /// Work with agents directly.
    #[command(subcommand)]
    Agent(commands::agent::Command),
    /// Serve the local Foundry emulator over HTTP.
    Emulator(commands::emulator::Args),
}
