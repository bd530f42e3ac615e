//! Text from the SMS made safe for a terminal and a CI log.
//!
//! File names, organisation and people names, messages and record fields reach the human
//! report and stderr. Raw, they could move the cursor, set the terminal title, clear the screen,
//! write the clipboard (ESC/OSC sequences, OSC 52), reorder what a reader sees (bidirectional
//! overrides), or — at the start of a line — be taken by GitHub Actions or Azure Pipelines as a
//! workflow command (`::error::…`, `##[…]`). [`terminal`] escapes every control character except
//! line feed and tab (C0, DEL, C1), the bidirectional controls, and the first character of any
//! line that would start (after blanks) with `::` or `##[`, as `\u{…}`. Human-readable output goes
//! through it where it is written (see `cli`); machine formats (JSON, SARIF, JUnit, the GitHub
//! and GitLab formats) escape by their own rules.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` is escaped wherever it appears.
fn unsafe_char(c: char) -> bool {
    let u = c as u32;
    (u < 0x20 && c != '\n' && c != '\t')
        || u == 0x7F
        || (0x80..=0x9F).contains(&u)
        || matches!(u, 0x061C | 0x200E | 0x200F | 0x202A..=0x202E | 0x2066..=0x2069)
}

/// `s` with control and bidirectional characters escaped, and no line starting with a
/// workflow-command marker. Borrowed when nothing needed escaping.
pub fn terminal(s: &str) -> Cow<'_, str> {
    let needs = s.chars().any(unsafe_char)
        || s.split('\n').any(|l| {
            let t = l.trim_start_matches([' ', '\t']);
            t.starts_with("::") || t.starts_with("##[")
        });
    if !needs {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let blanks = line.len() - line.trim_start_matches([' ', '\t']).len();
        let rest = &line[blanks..];
        out.push_str(&line[..blanks]);
        let mut chars = rest.chars();
        if rest.starts_with("::") || rest.starts_with("##[") {
            let first = chars.next().unwrap_or(':');
            let _ = write!(out, "\\u{{{:x}}}", first as u32);
        }
        for c in chars {
            if unsafe_char(c) {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            } else {
                out.push(c);
            }
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::terminal;

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(
            terminal("policies/a.md:3:1: ok\n\tindented\n"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn escapes_and_osc_and_bidi_are_escaped() {
        let s = "a\u{1b}]52;c;aGk=\u{7}b\u{1b}[2Jc\rd\u{9b}e\u{202e}f\u{7f}";
        assert_eq!(
            terminal(s),
            "a\\u{1b}]52;c;aGk=\\u{7}b\\u{1b}[2Jc\\u{d}d\\u{9b}e\\u{202e}f\\u{7f}"
        );
    }

    #[test]
    fn no_line_starts_a_workflow_command() {
        let s = "file `x\n::error::forged` and\n  ##[warning]y\nok :: here";
        let t = terminal(s);
        for line in t.lines() {
            let l = line.trim_start();
            assert!(!l.starts_with("::") && !l.starts_with("##["), "{line}");
        }
        assert_eq!(
            t,
            "file `x\n\\u{3a}:error::forged` and\n  \\u{23}#[warning]y\nok :: here"
        );
    }
}
