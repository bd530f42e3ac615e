//! Findings -> text for people (compiler style) or JSON for machines. The reporting layer is the
//! only place that formats findings; wire types are separate structs, frozen by tests.

use crate::check::Loaded;
use crate::diag::{Diagnostic, Severity};
use crate::model::Model;
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// Human-readable findings, each with its source line and help, then a summary.
pub fn human(loaded: &Loaded, model: &Model<'_>, findings: &[Diagnostic]) -> String {
    let mut out = String::new();
    let mut texts: std::collections::HashMap<&str, Option<String>> = Default::default();
    for d in findings {
        let _ = writeln!(out, "{}[{}]: {}", d.severity.as_str(), d.code, d.message);
        if let Some(path) = &d.path {
            match d.pos {
                Some(_) if crate::codes::is_whole_sms(d.code) => {
                    let _ = writeln!(out, "  --> {path}");
                }
                Some(p) => {
                    let _ = writeln!(out, "  --> {}:{}:{}", path, p.line, p.col);
                    let text = texts
                        .entry(path.as_str())
                        .or_insert_with(|| loaded.text_of(path));
                    if let Some(line) = text
                        .as_deref()
                        .and_then(|t| t.lines().nth(p.line as usize - 1))
                    {
                        let num = p.line.to_string();
                        let pad = " ".repeat(num.len());
                        let shown: String = line.chars().take(160).collect();
                        let _ = writeln!(out, "{pad} |\n{num} | {shown}");
                        let caret_at = (p.col as usize)
                            .saturating_sub(1)
                            .min(shown.chars().count());
                        let _ = writeln!(out, "{pad} | {}^", " ".repeat(caret_at));
                    }
                }
                None => {
                    let _ = writeln!(out, "  --> {path}");
                }
            }
        }
        if let Some(h) = &d.help {
            let _ = writeln!(out, "  = help: {h}");
        }
        out.push('\n');
    }
    let s = model.summary();
    let c = crate::diag::count(findings);
    let _ = writeln!(
        out,
        "{} — {} — as of {}",
        loaded.config.organisation, model.catalog.id, model.as_of
    );
    let _ = writeln!(
        out,
        "clauses covered: {}/{} ({} partial, {} missing, {} with a review overdue)",
        s.covered, s.clauses, s.partial, s.missing, s.review_overdue
    );
    let _ = writeln!(
        out,
        "findings: {} error{}, {} warning{}, {} note{}",
        c.errors,
        plural(c.errors),
        c.warnings,
        plural(c.warnings),
        c.notes,
        plural(c.notes)
    );
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// JSON wire format of `check --format json`. Documented in README; frozen by tests.
#[derive(Serialize)]
pub struct JsonReport<'a> {
    pub tool: Tool,
    pub organisation: &'a str,
    pub framework: &'a str,
    pub as_of: String,
    pub coverage: crate::model::CoverageSummary,
    pub counts: crate::diag::Counts,
    pub findings: Vec<JsonFinding<'a>>,
    pub clauses: Vec<JsonClause<'a>>,
}

#[derive(Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

pub const TOOL: Tool = Tool {
    name: "auditbook",
    version: env!("CARGO_PKG_VERSION"),
};

#[derive(Serialize)]
pub struct JsonFinding<'a> {
    pub code: &'a str,
    pub severity: Severity,
    pub path: Option<&'a str>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: &'a str,
    pub help: Option<&'a str>,
    pub subject: &'a str,
    pub fingerprint: String,
}

#[derive(Serialize)]
pub struct JsonClause<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub status: &'static str,
    pub documented: Option<bool>,
    pub evidenced: Option<bool>,
    pub current: bool,
    pub documents: Vec<&'a str>,
    pub records: usize,
    pub missing_documents: &'a [String],
    pub missing_record_kinds: &'a [String],
    pub stale_record_kinds: Vec<&'a str>,
}

pub fn json_findings(findings: &[Diagnostic]) -> Vec<JsonFinding<'_>> {
    findings
        .iter()
        .map(|d| JsonFinding {
            code: d.code,
            severity: d.severity,
            path: d.path.as_deref(),
            line: d.pos.map(|p| p.line),
            column: d.pos.map(|p| p.col),
            message: &d.message,
            help: d.help.as_deref(),
            subject: &d.subject,
            fingerprint: d.fingerprint(),
        })
        .collect()
}

pub fn json<'a>(loaded: &'a Loaded, model: &'a Model<'_>, findings: &'a [Diagnostic]) -> String {
    let clauses = model
        .coverage
        .iter()
        .zip(&model.catalog.clauses)
        .map(|(c, cl)| JsonClause {
            id: &cl.id,
            title: &cl.title,
            status: c.status.as_str(),
            documented: c.documented,
            evidenced: c.evidenced,
            current: c.current,
            documents: c
                .documents
                .iter()
                .map(|&i| loaded.sources.documents[i].id.as_str())
                .collect(),
            records: c.records.len(),
            missing_documents: &c.missing_documents,
            missing_record_kinds: &c.missing_kinds,
            stale_record_kinds: c.stale_kinds.iter().map(|s| s.kind.as_str()).collect(),
        })
        .collect();
    let report = JsonReport {
        tool: TOOL,
        organisation: &loaded.config.organisation,
        framework: &model.catalog.id,
        as_of: model.as_of.to_string(),
        coverage: model.summary(),
        counts: crate::diag::count(findings),
        findings: json_findings(findings),
        clauses,
    };
    let mut s = serde_json::to_string_pretty(&report).unwrap_or_default();
    s.push('\n');
    s
}
