//! `foundryctl apply`.

use crate::cli::GlobalArgs;
use crate::exit::ExitStatus;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(_global: &GlobalArgs, _args: Args) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("`foundryctl apply` is not implemented yet")
}
