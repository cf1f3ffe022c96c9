//! Diagnostics as text, in the style of rustc: a headline, the location, the source line with
//! the problem underlined, and a hint. Written into any `io::Write` so tests render into a
//! `Vec<u8>`; colour only when asked (the caller decides from `--color`, `NO_COLOR` and TTY).

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use super::diagnostic::{Diagnostic, Severity};

struct Palette {
    error: Style,
    warning: Style,
    gutter: Style,
    hint: Style,
    bold: Style,
}

impl Palette {
    fn new(color: bool) -> Self {
        if !color {
            let plain = Style::new();
            return Self {
                error: plain,
                warning: plain,
                gutter: plain,
                hint: plain,
                bold: plain,
            };
        }
        Self {
            error: AnsiColor::Red.on_default().bold(),
            warning: AnsiColor::Yellow.on_default().bold(),
            gutter: AnsiColor::Blue.on_default().bold(),
            hint: AnsiColor::Cyan.on_default().bold(),
            bold: Style::new().bold(),
        }
    }
}

/// Renders every diagnostic, separated by blank lines.
pub fn render_diagnostics<'a>(
    out: &mut impl Write,
    diagnostics: impl IntoIterator<Item = &'a Diagnostic>,
    color: bool,
) -> io::Result<()> {
    for (i, diagnostic) in diagnostics.into_iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        render_diagnostic(out, diagnostic, color)?;
    }
    Ok(())
}

/// Renders one diagnostic.
pub fn render_diagnostic(out: &mut impl Write, d: &Diagnostic, color: bool) -> io::Result<()> {
    let p = Palette::new(color);
    let (label, style) = match d.severity {
        Severity::Error => ("error", p.error),
        Severity::Warning => ("warning", p.warning),
    };
    writeln!(
        out,
        "{style}{label}{style:#}{bold}: {}{bold:#}",
        printable(&d.message),
        bold = p.bold
    )?;
    let number = if d.line > 0 {
        d.line.to_string()
    } else {
        String::new()
    };
    let pad = " ".repeat(number.len());
    let gutter = p.gutter;
    writeln!(
        out,
        "{pad}{gutter}-->{gutter:#} {}",
        printable(&d.location())
    )?;
    if let Some(source) = &d.source_line {
        let shown = printable(source);
        writeln!(out, "{pad} {gutter}|{gutter:#}")?;
        writeln!(out, "{gutter}{number} |{gutter:#} {shown}")?;
        let indent = " ".repeat(d.column.saturating_sub(1));
        let marks = "^".repeat(d.width.max(1));
        writeln!(
            out,
            "{pad} {gutter}|{gutter:#} {indent}{style}{marks}{style:#}"
        )?;
    }
    if let Some(hint) = &d.hint {
        let hint_style = p.hint;
        writeln!(
            out,
            "{pad} {gutter}={gutter:#} {hint_style}hint{hint_style:#}: {}",
            printable(hint)
        )?;
    }
    Ok(())
}

/// One character per character: tabs become a space (so the underline stays aligned) and
/// other control characters `?`, so file content can never drive the terminal.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' => ' ',
            c if c.is_control() => '?',
            c => c,
        })
        .collect()
}
