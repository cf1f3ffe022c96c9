//! The foundryctl binary: parse arguments, run the command, map the outcome to an exit code.
//! Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;
use foundryctl::{cli, cli::Cli, exit};

fn main() -> ExitCode {
    // Usage errors exit 1, not clap's default 2, which means "changes pending" for
    // `plan --detailed-exitcode` (docs/exit-codes.md): a typo in a pipeline must not read as a diff.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(mut error) => {
            let args: Vec<_> = std::env::args_os().skip(1).collect();
            cli::add_usage_tip(&mut error, &args);
            // Printing can only fail when stderr/stdout is closed; nothing better to do then.
            let _ = error.print();
            return if error.use_stderr() {
                exit::ExitStatus::Error.into()
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli::run(cli) {
        Ok(status) => status.into(),
        Err(error) => {
            // Printed here rather than returned from `main`, so that users see the cause chain
            // and never a backtrace (RUST_BACKTRACE may be set in their environment).
            // Causes quote the service and the manifests: credentials in them are redacted and
            // terminal controls shown escaped (their own line breaks, such as a `hint:` line,
            // are kept).
            let mut first = true;
            for cause in error.chain() {
                let cause =
                    foundryctl::foundry::redact::redact(&cause.to_string(), &[]).into_owned();
                let cause = foundryctl::render::escape::visible_lines(&cause).into_owned();
                if first {
                    foundryctl::say!("error: {cause}");
                    first = false;
                } else {
                    foundryctl::say!("  caused by: {cause}");
                }
            }
            // Hints are data: printed once, after the whole chain, in one style.
            for hint in cli::hints(&error) {
                let hint = foundryctl::render::escape::visible_lines(&hint).into_owned();
                foundryctl::say!("hint: {hint}");
            }
            exit::status_of(&error).into()
        }
    }
}
