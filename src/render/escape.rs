//! Text from manifests and from the service, made safe to show: a value must not be able to
//! drive the reader's terminal (ESC sequences that hide or rewrite text, BEL, a carriage return
//! that overwrites the line) nor reorder or hide what they read (bidi overrides, zero-width and
//! other invisible format characters). Such characters are shown as `\u{1b}`, visibly, rather
//! than dropped: a reviewer must see that something is there.
//!
//! Every renderer passes user and service text through [`visible`] or [`visible_lines`]; JSON
//! output needs neither (its strings are escaped by JSON and read by programs).

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` on one line: line breaks are escaped too, so a value cannot start a line of its own
/// that reads like foundryctl's (a fake `hint:` or a fake action).
pub fn visible(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// `text` that may span lines (instructions in a line diff, an agent's answer): `\n` stays a
/// line break; everything else that [`visible`] escapes is escaped.
pub fn visible_lines(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

fn escape(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    // Nearly all text is printable ASCII, in which nothing is hidden; a plan prints thousands
    // of values, and checking bytes is many times faster than decoding and matching chars.
    if text.bytes().all(|b| shows_as_itself(b, keep_newlines)) {
        return Cow::Borrowed(text);
    }
    let hidden = |c: char| is_hidden(c) && !(keep_newlines && c == '\n');
    let Some(first) = text.find(hidden) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str(&text[..first]);
    for c in text[first..].chars() {
        if hidden(c) {
            // Writing into a String cannot fail.
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether byte `b` is printable ASCII (or a tab, or a kept line break): a text of such bytes
/// has nothing [`is_hidden`] in it.
fn shows_as_itself(b: u8, keep_newlines: bool) -> bool {
    matches!(b, b' '..=b'~' | b'\t') || (keep_newlines && b == b'\n')
}

/// Whether `c` acts on the display instead of showing as itself. A tab is kept: it moves the
/// cursor forward only, as a space would.
fn is_hidden(c: char) -> bool {
    match c {
        '\t' => false,
        // C0 (ESC, BEL, CR, backspace, …), DEL and C1 (including the one-byte CSI, U+009B).
        c if c.is_control() => true,
        // Soft hyphen, Arabic letter mark, Mongolian vowel separator.
        '\u{ad}' | '\u{61c}' | '\u{180e}' => true,
        // Zero-width space, LRM and RLM. (U+200C/U+200D, the zero-width (non-)joiners, are
        // kept: Persian, Indic scripts and emoji sequences need them to read right.)
        '\u{200b}' | '\u{200e}' | '\u{200f}' => true,
        // Line and paragraph separators, bidi embeddings and overrides (U+202A–U+202E).
        '\u{2028}'..='\u{202e}' => true,
        // Word joiner, invisible operators, bidi isolates (U+2066–U+2069), deprecated format
        // controls.
        '\u{2060}'..='\u{206f}' => true,
        // Byte order mark (zero-width no-break space) and interlinear annotations.
        '\u{feff}' | '\u{fff9}'..='\u{fffb}' => true,
        // Tag characters: invisible, and read by language models (hidden instructions).
        '\u{e0000}'..='\u{e007f}' => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        for text in ["", "You are helpful.", "naïve café – 日本語 👩‍💻", "a\tb"] {
            assert!(matches!(visible(text), Cow::Borrowed(t) if t == text));
        }
    }

    #[test]
    fn terminal_controls_are_shown_escaped() {
        assert_eq!(
            visible("a\u{1b}[8mhidden\u{1b}[0m\u{7}"),
            "a\\u{1b}[8mhidden\\u{1b}[0m\\u{7}"
        );
        assert_eq!(visible("over\rwrite\u{8}"), "over\\u{d}write\\u{8}");
        assert_eq!(visible("\u{7f}\u{85}\u{9b}31m"), "\\u{7f}\\u{85}\\u{9b}31m");
        assert_eq!(visible("\0"), "\\u{0}");
    }

    #[test]
    fn bidi_and_invisible_format_characters_are_shown_escaped() {
        assert_eq!(visible("admin\u{202e}txt.exe"), "admin\\u{202e}txt.exe");
        for c in ('\u{202a}'..='\u{202e}').chain('\u{2066}'..='\u{2069}') {
            assert_eq!(
                visible(&c.to_string()),
                format!("\\u{{{:x}}}", u32::from(c))
            );
        }
        for c in [
            '\u{200b}',
            '\u{200e}',
            '\u{200f}',
            '\u{2028}',
            '\u{2029}',
            '\u{2060}',
            '\u{feff}',
            '\u{ad}',
            '\u{e0041}',
        ] {
            assert!(visible(&c.to_string()).starts_with("\\u{"), "{c:?}");
        }
    }

    #[test]
    fn newlines_are_kept_only_where_text_spans_lines() {
        assert_eq!(visible("one\ntwo"), "one\\u{a}two");
        assert_eq!(visible_lines("one\ntwo\r\n"), "one\ntwo\\u{d}\n");
        assert_eq!(visible_lines("\u{1b}]8;;x\u{7}"), "\\u{1b}]8;;x\\u{7}");
    }

    #[test]
    fn the_ascii_shortcut_agrees_with_the_rule() {
        for b in 0..=0x7f_u8 {
            let c = char::from(b);
            assert_eq!(
                shows_as_itself(b, false),
                !is_hidden(c) && c != '\n',
                "{b:#x}"
            );
            assert_eq!(
                shows_as_itself(b, true),
                !is_hidden(c) || c == '\n',
                "{b:#x}"
            );
        }
    }

    #[test]
    fn escaping_twice_changes_nothing() {
        let once = visible("\u{1b}[2J\u{202e}\n").into_owned();
        assert_eq!(visible(&once), once);
    }
}
