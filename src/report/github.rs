//! `--format github`: GitHub Actions workflow commands, and a Markdown job summary.
//!
//! stdout carries nothing but workflow commands (`::error file=…,line=…,col=…,title=…::message`),
//! so nothing a document author writes can become a command of its own: data is escaped (`%`, CR,
//! LF) and so are properties (also `:` and `,`). Errors come first, then warnings and notes; with
//! `--base`, findings on files the change touches come first within each level, and under
//! `--fail-on new` only new findings are annotated. GitHub shows at most ten annotations of each
//! type per step: beyond that one notice says how many more there are and where to find them.
//!
//! When `$GITHUB_STEP_SUMMARY` names a file, a Markdown summary is appended to it: coverage (and
//! with `--base` the coverage change), the documents and records the change touches, and every
//! finding with its source line, kept under 1 MiB. Source text goes to the summary only.

use super::ci::{self, Location};
use crate::check::Loaded;
use crate::codes;
use crate::diag::{Diagnostic, Severity};
use crate::gate::{Gate, How, ItemChange};
use crate::model::{CoverageSummary, Model};
use std::collections::HashMap;
use std::fmt::Write as _;

/// GitHub's cap on annotations of one type (error, warning, notice) in one step.
pub const MAX_PER_TYPE: usize = 10;

/// The job summary is kept under this many bytes (GitHub refuses a step summary over 1 MiB).
pub const SUMMARY_LIMIT: usize = 1_000_000;

/// Escape the message part of a workflow command.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a property value (`file=`, `title=`…) of a workflow command.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    }
}

fn annotation(out: &mut String, loc: &Location, title: &str, d: &Diagnostic) {
    let mut message = d.message.clone();
    if let Some(h) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(h);
    }
    let _ = writeln!(
        out,
        "::{} file={},line={},col={},title={}::{}",
        command(d.severity),
        escape_property(&loc.path),
        loc.line,
        loc.column,
        escape_property(title),
        escape_data(&message)
    );
}

/// The workflow commands for the findings, and (when `$GITHUB_STEP_SUMMARY` is set) the job
/// summary appended to that file. A summary that cannot be written becomes a warning command.
pub fn render(
    loaded: &Loaded,
    model: &Model<'_>,
    findings: &[Diagnostic],
    gate: Option<&Gate>,
) -> String {
    let summary_file = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|v| !v.is_empty());
    let mut out = annotations(loaded, findings, gate, summary_file.is_some());
    if let Some(file) = summary_file {
        let text = summary(loaded, model, findings, gate);
        if let Err(e) = append(std::path::Path::new(&file), &text) {
            let _ = writeln!(
                out,
                "::warning title=auditbook::{}",
                escape_data(&format!(
                    "cannot write the job summary to {}: {e}",
                    std::path::Path::new(&file).display()
                ))
            );
        }
    }
    out
}

fn append(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(text.as_bytes())
}

/// The workflow commands alone.
pub fn annotations(
    loaded: &Loaded,
    findings: &[Diagnostic],
    gate: Option<&Gate>,
    has_summary: bool,
) -> String {
    let prefix = ci::prefix(loaded);
    let ordered = ci::ordered(findings, gate);
    let (shown, hidden): (Vec<&Diagnostic>, Vec<&Diagnostic>) = ordered
        .into_iter()
        .partition(|d| gate.is_none_or(|g| g.is_marked(d)));
    let count = |s: Severity| shown.iter().filter(|d| d.severity == s).count();
    let (errors, warnings, notes) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Note),
    );
    let overflow = errors.saturating_sub(MAX_PER_TYPE) + warnings.saturating_sub(MAX_PER_TYPE);
    // The closing notice takes one notice slot.
    let need_notice = overflow > 0 || notes > MAX_PER_TYPE || !hidden.is_empty();
    let note_cap = if need_notice {
        MAX_PER_TYPE - 1
    } else {
        MAX_PER_TYPE
    };
    let mut out = String::new();
    let mut used: HashMap<Severity, usize> = HashMap::new();
    let mut left = (0usize, 0usize, 0usize);
    for d in &shown {
        let cap = match d.severity {
            Severity::Error | Severity::Warning => MAX_PER_TYPE,
            Severity::Note => note_cap,
        };
        let n = used.entry(d.severity).or_default();
        if *n >= cap {
            match d.severity {
                Severity::Error => left.0 += 1,
                Severity::Warning => left.1 += 1,
                Severity::Note => left.2 += 1,
            }
            continue;
        }
        *n += 1;
        let mut title = d.code.to_string();
        if let Some(fw) = ci::framework_label(loaded, d) {
            title.push_str(&format!(" [{fw}]"));
        }
        if gate.is_some_and(|g| !g.is_new(d)) {
            title.push_str(" (already at the base)");
        }
        annotation(&mut out, &ci::location(&prefix, d), &title, d);
    }
    if need_notice {
        let mut parts = Vec::new();
        let more = left.0 + left.1 + left.2;
        if more > 0 {
            parts.push(format!(
                "{more} more finding{} ({} error{}, {} warning{}, {} note{}) {} not annotated: GitHub shows at most {MAX_PER_TYPE} annotations of each type per step",
                plural(more),
                left.0,
                plural(left.0),
                left.1,
                plural(left.1),
                left.2,
                plural(left.2),
                if more == 1 { "is" } else { "are" }
            ));
        }
        if !hidden.is_empty() {
            let errs = hidden
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count();
            parts.push(format!(
                "{} finding{} already at the base ({} at error level) {} not annotated (--fail-on new)",
                hidden.len(),
                plural(hidden.len()),
                errs,
                if hidden.len() == 1 { "is" } else { "are" }
            ));
        }
        let where_ = if has_summary {
            "the job summary lists them all"
        } else {
            "`auditbook check --format json` lists them all"
        };
        let _ = writeln!(
            out,
            "::notice title=auditbook::{}",
            escape_data(&format!("{}; {where_}", parts.join("; ")))
        );
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Markdown text with the characters that format, link or inject HTML escaped.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// An inline code span that holds `s` whatever backticks it contains.
fn code_span(s: &str) -> String {
    let s = s.replace(['\r', '\n'], " ");
    let longest = longest_run(&s, '`');
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}").replace('|', "\\|")
}

fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for ch in s.chars() {
        if ch == c {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

fn coverage_rows(s: &CoverageSummary) -> [(&'static str, String); 4] {
    [
        ("covered", format!("{} of {}", s.covered, s.clauses)),
        ("covered, review overdue", s.review_overdue.to_string()),
        ("partial", s.partial.to_string()),
        ("missing", s.missing.to_string()),
    ]
}

/// The Markdown job summary, under [`SUMMARY_LIMIT`] bytes.
pub fn summary(
    loaded: &Loaded,
    model: &Model<'_>,
    findings: &[Diagnostic],
    gate: Option<&Gate>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## auditbook: {}\n\n{} · as of {}{}\n",
        md(&loaded.config.organisation),
        md(&model.catalog.id),
        model.as_of,
        if loaded.draft {
            " · **DRAFT** (uncommitted changes)"
        } else {
            ""
        }
    );
    let c = crate::diag::count(findings);
    match gate {
        Some(g) => {
            let failing = findings.iter().filter(|d| g.fails(d)).count();
            let verdict = if failing == 0 {
                "**Gate passed**".to_string()
            } else {
                format!(
                    "**Gate failed**: {failing} {}finding{} at error level",
                    if g.fail_on == crate::gate::FailOn::New {
                        "new "
                    } else {
                        ""
                    },
                    plural(failing)
                )
            };
            let _ = writeln!(
                out,
                "{verdict} — compared with {} (merge-base {}), failing on {} error-level findings.\n",
                code_span(&g.rev),
                code_span(g.short_base()),
                g.fail_on.as_str()
            );
            for n in &g.notes {
                let _ = writeln!(out, "> {}\n", md(n));
            }
        }
        None => {
            let _ = writeln!(
                out,
                "{} error{}, {} warning{}, {} note{}.\n",
                c.errors,
                plural(c.errors),
                c.warnings,
                plural(c.warnings),
                c.notes,
                plural(c.notes)
            );
        }
    }

    out.push_str("### Coverage\n\n");
    let now = model.summary();
    match gate {
        Some(g) => {
            out.push_str("| clauses | base | this change |\n|---|---:|---:|\n");
            for ((label, before), (_, after)) in coverage_rows(&g.base_coverage)
                .into_iter()
                .zip(coverage_rows(&now))
            {
                let _ = writeln!(out, "| {label} | {before} | {after} |");
            }
        }
        None => {
            out.push_str("| clauses | |\n|---|---:|\n");
            for (label, v) in coverage_rows(&now) {
                let _ = writeln!(out, "| {label} | {v} |");
            }
        }
    }
    out.push('\n');

    if let Some(g) = gate {
        out.push_str("### Coverage change\n\n");
        if g.clauses.is_empty() {
            out.push_str("No clause changes status.\n\n");
        } else {
            out.push_str("| clause | title | base | this change | |\n|---|---|---|---|---|\n");
            for ch in &g.clauses {
                let mark = if ch.lost() {
                    "**lost**"
                } else if ch.gained() {
                    "gained"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {mark} |",
                    md(&ch.clause),
                    md(&ch.title),
                    ch.before.as_str(),
                    ch.after.as_str()
                );
            }
            out.push('\n');
        }
        let items = |out: &mut String, what: &str, list: &[ItemChange]| {
            if list.is_empty() {
                return;
            }
            let _ = writeln!(out, "**{what}** ({}):\n", list.len());
            for ch in list.iter().take(200) {
                let state = match (ch.how, &ch.before, &ch.after) {
                    (How::Changed, Some(b), Some(a)) if b != a => {
                        format!(": {} → {}", md(b), md(a))
                    }
                    (_, _, Some(a)) if ch.how != How::Removed => format!(": {}", md(a)),
                    (_, Some(b), _) => format!(": was {}", md(b)),
                    _ => String::new(),
                };
                let _ = writeln!(
                    out,
                    "- {} {} ({}){state}",
                    ch.how.as_str(),
                    code_span(&ch.id),
                    code_span(&ch.path)
                );
            }
            if list.len() > 200 {
                let _ = writeln!(out, "- … and {} more", list.len() - 200);
            }
            out.push('\n');
        };
        if g.documents.is_empty() && g.records.is_empty() {
            out.push_str("No document or record changes.\n\n");
        } else {
            out.push_str("### Documents and records\n\n");
            items(&mut out, "Documents", &g.documents);
            items(&mut out, "Records", &g.records);
        }
    }

    // Findings, each with its source line, while the budget lasts.
    let prefix = ci::prefix(loaded);
    let ordered = ci::ordered(findings, gate);
    let (new, old): (Vec<&Diagnostic>, Vec<&Diagnostic>) = ordered
        .into_iter()
        .partition(|d| gate.is_none_or(|g| g.is_new(d)));
    let reserve = 4096;
    let mut texts: HashMap<String, Option<String>> = HashMap::new();
    let mut omitted = 0usize;
    let mut section = |out: &mut String, title: &str, list: &[&Diagnostic], excerpts: bool| {
        if list.is_empty() {
            return;
        }
        let _ = writeln!(out, "### {title} ({})\n", list.len());
        for d in list {
            let mut entry = String::new();
            let loc = ci::location(&prefix, d);
            let _ = writeln!(
                entry,
                "- **{}** {} {}  \n  {}",
                d.severity.as_str(),
                code_span(d.code),
                md(&d.message),
                code_span(&format!("{}:{}:{}", loc.path, loc.line, loc.column))
            );
            if excerpts && !codes::is_whole_sms(d.code) {
                if let (Some(path), Some(pos)) = (&d.path, d.pos) {
                    let text = texts
                        .entry(path.clone())
                        .or_insert_with(|| loaded.text_of(path));
                    if let Some(line) = text
                        .as_deref()
                        .and_then(|t| t.lines().nth(pos.line.saturating_sub(1) as usize))
                    {
                        let shown: String = line.chars().take(200).collect();
                        let fence = "`".repeat(longest_run(&shown, '`').max(2) + 1);
                        let _ = writeln!(
                            entry,
                            "\n  {fence}text\n  {:>4} | {shown}\n  {fence}",
                            pos.line
                        );
                    }
                }
            }
            if out.len() + entry.len() + reserve > SUMMARY_LIMIT {
                omitted += 1;
                continue;
            }
            out.push_str(&entry);
        }
        out.push('\n');
    };
    match gate {
        Some(_) => {
            section(&mut out, "New findings", &new, true);
            section(&mut out, "Findings already at the base", &old, false);
        }
        None => section(&mut out, "Findings", &new, true),
    }
    if let Some(g) = gate {
        if !g.resolved.is_empty() {
            let _ = writeln!(out, "### Resolved by this change ({})\n", g.resolved.len());
            for d in &g.resolved {
                let line = format!(
                    "- {} {} {}\n",
                    d.severity.as_str(),
                    code_span(d.code),
                    md(&d.message)
                );
                if out.len() + line.len() + reserve > SUMMARY_LIMIT {
                    omitted += 1;
                    continue;
                }
                out.push_str(&line);
            }
            out.push('\n');
        }
    }
    if omitted > 0 {
        let _ = writeln!(
            out,
            "_{omitted} more item{} not shown: the summary is kept under 1 MiB; `auditbook check --format json` lists them all._\n",
            plural(omitted)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_data_and_properties() {
        assert_eq!(escape_data("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d");
        assert_eq!(
            escape_property("50% a\r\nb: c, d"),
            "50%25 a%0D%0Ab%3A c%2C d"
        );
        // `%` first, so an escape is never escaped twice.
        assert_eq!(escape_property("%3A"), "%253A");
    }

    #[test]
    fn markdown_is_escaped() {
        assert_eq!(md("<script>|*x*"), "&lt;script&gt;\\|\\*x\\*");
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`a"), "`` `a ``");
    }
}
