//! The foundryctl binary: parse arguments, run the command, map the outcome to an exit code.
//! Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;
use foundryctl::{cli::Cli, commands, exit};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(cli) {
        Ok(status) => status.into(),
        Err(error) => {
            // Printed here rather than returned from `main`, so that users see the cause chain
            // and never a backtrace (RUST_BACKTRACE may be set in their environment).
            let mut first = true;
            for cause in error.chain() {
                if first {
                    anstream::eprintln!("error: {cause}");
                    first = false;
                } else {
                    anstream::eprintln!("  caused by: {cause}");
                }
            }
            exit::status_of(&error).into()
        }
    }
}
