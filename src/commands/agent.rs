//! `foundryctl agent …`.

use crate::cli::GlobalArgs;
use crate::exit::ExitStatus;

#[derive(Debug, clap::Subcommand)]
pub enum Command {}

pub async fn run(_global: &GlobalArgs, command: Command) -> anyhow::Result<ExitStatus> {
    match command {}
}
