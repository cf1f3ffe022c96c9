//! How commands write what they report: the output formats, and colour on each stream.

use std::io::Write as _;

use anyhow::Context as _;
use clap::ValueEnum;
use serde::Serialize;

use crate::plan::Plan;
use crate::render::memory::{Palette, write_json};
use crate::render::{self, HumanOptions};

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Whether to colour what goes to stdout.
pub fn stdout_color(choice: ColorChoice) -> bool {
    stream_color(choice, anstream::AutoStream::choice(&std::io::stdout()))
}

/// Whether to colour what goes to stderr.
pub fn stderr_color(choice: ColorChoice) -> bool {
    stream_color(choice, anstream::AutoStream::choice(&std::io::stderr()))
}

/// `--color always|never` wins; `auto` follows anstream (`NO_COLOR`, `CLICOLOR_FORCE`, TTY).
fn stream_color(choice: ColorChoice, auto: anstream::ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !matches!(auto, anstream::ColorChoice::Never),
    }
}

/// `COLUMNS` when set (shells export it), else 80.
pub fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(80)
}

/// `--output` of every command that prints a report (`apply`, `destroy`, `import`, `memory`,
/// `agent`, `validate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OutputFormat {
    /// Text for people.
    #[default]
    Human,
    /// One JSON document on stdout.
    Json,
}

/// `-o`/`--output` for the commands that print a report.
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// `-o`/`--output` for the commands that carry a plan out (`apply`, `destroy`, `import`).
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// Output format. `json`: one report on stdout (docs/apply-json.md); the plan and progress
    /// go to stderr, and nothing is asked (pass --auto-approve, or for apply a plan file).
    #[arg(short, long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Prints a report on stdout: JSON, or the human rendering `human` writes (in colour when
/// `color`, which [`stdout_color`] decides from the terminal, `NO_COLOR` and `--color`).
/// A report comes after what it reports on was done, so a reader that has gone is no failure
/// ([`reader_gone`]).
pub fn print_report<R: Serialize>(
    format: OutputFormat,
    color: bool,
    report: &R,
    human: impl FnOnce(&mut dyn std::io::Write, &Palette) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let mut out = buffered_stdout();
    match format {
        OutputFormat::Json => write_json(&mut out, report),
        OutputFormat::Human => human(&mut out, &Palette::new(color)),
    }
    .and_then(|()| out.flush())
    .context("failed to write to stdout")
    .or_else(reader_gone)
}

/// How a plan is written to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Terraform-like text, colour only on a terminal.
    Human,
    /// The versioned JSON document (docs/plan-json.md).
    Json,
    /// Markdown for a pull-request comment.
    Markdown,
}

/// Parses `plan -o`/`--output`. `-o` was once the plan file, so a value that is not a format
/// (`-o plan.json`) is refused with an error that names `--out`, where the file goes now.
#[derive(Debug, Clone, Copy)]
pub struct PlanFormatParser;

impl clap::builder::TypedValueParser for PlanFormatParser {
    type Value = PlanFormat;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<PlanFormat, clap::Error> {
        let formats = clap::builder::EnumValueParser::<PlanFormat>::new();
        formats.parse_ref(cmd, arg, value).map_err(|_| {
            let value = value.to_string_lossy();
            clap::Error::raw(
                clap::error::ErrorKind::InvalidValue,
                format!(
                    "`{value}` is not an output format for -o/--output (human, json, markdown); \
                     to save the plan to a file, use --out {value}\n"
                ),
            )
            .with_cmd(cmd)
        })
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            PlanFormat::value_variants()
                .iter()
                .filter_map(ValueEnum::to_possible_value),
        ))
    }
}

/// Writes `plan` of `project` (the session's endpoint id) to stdout in `format`. Only the
/// Markdown names the project: it is read away from the run, where stderr's `target:` line is
/// not; the JSON plan is the plan alone (a saved plan records its endpoint).
pub fn print_plan(
    plan: &Plan,
    project: &str,
    format: PlanFormat,
    color: ColorChoice,
) -> anyhow::Result<()> {
    let mut out = buffered_stdout();
    match format {
        PlanFormat::Human => render::human::render(
            plan,
            &mut out,
            &HumanOptions {
                color: stdout_color(color),
                width: terminal_width(),
            },
        ),
        PlanFormat::Json => render::json::render(plan, &mut out),
        PlanFormat::Markdown => render::markdown::render(plan, project, &mut out),
    }
    .and_then(|()| out.flush())
    .context("failed to write the plan")
}

/// Writes a line to stderr (through [`say!`](crate::say), as `eprintln!` does), styled as the
/// terminal allows. A stderr that cannot be written (its reader gone, a full disk) loses the
/// line and nothing else: unlike `eprintln!`, this never panics, so the command still ends with
/// its own exit code.
pub fn say(args: std::fmt::Arguments<'_>) {
    let _ = writeln!(anstream::stderr(), "{args}");
}

/// [`say`] for text that carries its own line breaks.
pub fn say_text(text: &str) {
    let _ = anstream::stderr().write_all(text.as_bytes());
}

/// Writes `text` to stdout, as `print!` does, but a failed write is an error to report rather
/// than a panic.
pub fn print_text(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("failed to write to stdout")
}

/// Takes a write to stdout that failed because its reader has gone (`foundryctl plan | head -1`
/// closes the pipe once it has its line) as done: the reader took what it wanted, and the
/// command's own outcome (a plan's exit 2, a change made) still decides the exit status, with
/// nothing said. Any other failure (a full disk behind `>`) stays an error. Not for what is
/// shown before a change is made: `apply` stops when its plan cannot be shown.
pub fn reader_gone(error: anyhow::Error) -> anyhow::Result<()> {
    let gone = error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    });
    if gone { Ok(()) } else { Err(error) }
}

/// stdout, buffered: std's own flushes at every line break, one write(2) per line, which was
/// most of the time `plan` took to print a thousand creates (6 ms). Flush it to see a failed
/// write (dropped unflushed, it writes what it holds and ignores errors).
pub fn buffered_stdout() -> std::io::BufWriter<std::io::StdoutLock<'static>> {
    std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock())
}
