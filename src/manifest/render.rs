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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::source::SourceFile;
    use crate::manifest::yaml::Pos;

    fn sample() -> Diagnostic {
        let file = SourceFile::new("agents.yaml", "spec:\n  temprature: 0.7\n");
        let pos = Pos {
            line: 2,
            column: 3,
            len: 10,
        };
        Diagnostic::error(&file, Some(pos), "unknown field `temprature`")
            .with_hint("did you mean `temperature`?")
    }

    fn render(color: bool) -> String {
        let mut out = Vec::new();
        render_diagnostic(&mut out, &sample(), color).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn plain_rendering_underlines_the_problem() {
        insta::assert_snapshot!(render(false), @r"
        error: unknown field `temprature`
         --> agents.yaml:2:3
          |
        2 |   temprature: 0.7
          |   ^^^^^^^^^^
          = hint: did you mean `temperature`?
        ");
    }

    #[test]
    fn coloured_rendering_adds_only_styles() {
        let coloured = render(true);
        assert!(coloured.contains("\u{1b}["), "styles are present");
        let stripped: String = anstream::adapter::strip_str(&coloured).to_string();
        assert_eq!(stripped, render(false));
    }

    #[test]
    fn control_characters_in_sources_cannot_reach_the_terminal() {
        let file = SourceFile::new("x.yaml", "a: \u{1b}[31mred\tb\n");
        let d = Diagnostic::error(
            &file,
            Some(Pos {
                line: 1,
                column: 4,
                len: 3,
            }),
            "bad\u{7}",
        );
        let mut out = Vec::new();
        render_diagnostic(&mut out, &d, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
    }
}
