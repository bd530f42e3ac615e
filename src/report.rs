//! Findings -> text for people (compiler style) or JSON for machines. The reporting layer is the
//! only place that formats findings; wire types are separate structs, frozen by tests.

use crate::check::Loaded;
use crate::diag::{Diagnostic, Severity};
use crate::model::Model;
use serde::Serialize;
use std::fmt::Write as _;

/// Characters that make a CSV cell quoted: the separators spreadsheets use in common locales
/// (`,`, `;` where the decimal mark is a comma, tab, `|`), quotes and line breaks.
pub const CSV_QUOTED: [char; 8] = [',', ';', '\t', '|', '"', '\'', '\n', '\r'];

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

// The CI formats of findings (`check` and `build` `--format`), each in its own file.
mod change;
mod ci;
pub mod github;
pub mod gitlab;
pub mod junit;
pub mod sarif;

/// Output formats of findings (`check --format`, `build --format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FindingsFormat {
    /// Compiler-style text for people.
    Human,
    /// One JSON object (documented in the README).
    Json,
    /// GitHub Actions workflow commands (annotations), plus a job summary in $GITHUB_STEP_SUMMARY.
    Github,
    /// SARIF 2.1.0, for code-scanning upload.
    Sarif,
    /// JUnit XML: one test case per clause and per rule.
    Junit,
    /// GitLab Code Quality report (JSON), for `artifacts:reports:codequality`.
    Gitlab,
}

/// Findings in `format`; `gate` is the comparison with the base under `check --base`.
pub fn render(
    format: FindingsFormat,
    loaded: &Loaded,
    model: &Model<'_>,
    findings: &[Diagnostic],
    gate: Option<&crate::gate::Gate>,
) -> String {
    match format {
        FindingsFormat::Human => {
            let mut s = human(loaded, model, findings);
            if let Some(g) = gate {
                s.push_str(&change::human(g, findings, model));
            }
            s
        }
        FindingsFormat::Json => json_with(loaded, model, findings, gate),
        FindingsFormat::Github => github::render(loaded, model, findings, gate),
        FindingsFormat::Sarif => sarif::render(loaded, model, findings, gate),
        FindingsFormat::Junit => junit::render(loaded, model, findings, gate),
        FindingsFormat::Gitlab => gitlab::render(loaded, findings, gate),
    }
}

/// Human-readable findings, each with its source line and help, then a summary.
/// Line `line` (1-based) of `text` whose lines start at `starts`, without its line end (as
/// `str::lines` gives it).
fn line_of<'t>(text: &'t str, starts: &[usize], line: u32) -> Option<&'t str> {
    let start = *starts.get((line as usize).checked_sub(1)?)?;
    if start == text.len() {
        return None; // no line after a final newline, nor in an empty text
    }
    let end = starts.get(line as usize).map_or(text.len(), |&s| s - 1);
    let l = text.get(start..end)?;
    Some(l.strip_suffix('\r').unwrap_or(l))
}

pub fn human(loaded: &Loaded, model: &Model<'_>, findings: &[Diagnostic]) -> String {
    let mut out = String::new();
    // Each file's text with the offsets where its lines start, found once: a file with 100,000s
    // of findings (a megabyte-long line of broken links) must not be scanned again for each.
    let mut texts: std::collections::HashMap<&str, Option<(String, Vec<usize>)>> =
        Default::default();
    // Findings about the SMS as a whole go to the "To do" section after the file findings.
    for d in findings
        .iter()
        .filter(|d| !crate::codes::is_whole_sms(d.code))
    {
        let _ = writeln!(out, "{}[{}]: {}", d.severity.as_str(), d.code, d.message);
        if let Some(path) = &d.path {
            match d.pos {
                Some(_) if crate::codes::is_whole_sms(d.code) => {
                    let _ = writeln!(out, "  --> {path}");
                }
                Some(p) => {
                    let _ = writeln!(out, "  --> {}:{}:{}", path, p.line, p.col);
                    let text = texts.entry(path.as_str()).or_insert_with(|| {
                        loaded.text_of(path).map(|t| {
                            let mut starts = vec![0];
                            starts.extend(t.match_indices('\n').map(|(i, _)| i + 1));
                            (t, starts)
                        })
                    });
                    if let Some(line) = text
                        .as_ref()
                        .and_then(|(t, starts)| line_of(t, starts, p.line))
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
    to_do(&mut out, model, findings);
    let s = model.summary();
    let c = crate::diag::count(findings);
    let per_framework = model.framework_summaries();
    let ids: Vec<&str> = per_framework.iter().map(|(f, _)| f.id.as_str()).collect();
    let _ = writeln!(
        out,
        "{} — {} — as of {}",
        loaded.config.organisation,
        ids.join(" + "),
        model.as_of
    );
    if loaded.draft {
        let _ = writeln!(
            out,
            "DRAFT: the work tree differs from HEAD; these results describe no commit"
        );
    }
    if let Some(at) = &loaded.at {
        let _ = writeln!(
            out,
            "PAST STATE: the SMS {}, with the history up to that commit only",
            at.label()
        );
    }
    let _ = writeln!(
        out,
        "requirement clauses covered: {}/{} ({} partial, {} missing, {} with a review overdue){}",
        s.covered,
        s.clauses,
        s.partial,
        s.missing,
        s.review_overdue,
        excluded_note(&s)
    );
    if per_framework.len() > 1 {
        for (f, s) in &per_framework {
            let _ = writeln!(
                out,
                "  {}: {}/{} ({} partial, {} missing, {} with a review overdue){}",
                f.id,
                s.covered,
                s.clauses,
                s.partial,
                s.missing,
                s.review_overdue,
                excluded_note(s)
            );
        }
    }
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

/// The "To do" section of the human report: the findings about the SMS as a whole (coverage, see
/// [`crate::codes::is_whole_sms`]), one line each, grouped under the top-level clause they belong
/// to and in catalogue order, so that a new or incomplete SMS reads as a list of work rather than
/// a wall of errors. Findings not about a clause come first, under "The SMS as a whole".
fn to_do(out: &mut String, model: &Model<'_>, findings: &[Diagnostic]) {
    let catalog = model.catalog;
    let index = |id: &str| catalog.clause_index(id);
    // (top-level clause index, own clause index) of the clause a finding's subject names.
    let place = |subject: &str| -> Option<(usize, usize)> {
        let own = index(subject.split('#').next().unwrap_or(subject))?;
        let mut top = own;
        // The catalogue lists parents before children, so this walk ends; the bound is a guard.
        for _ in 0..catalog.clauses.len() {
            match catalog.clauses[top].parent.as_deref().and_then(index) {
                Some(p) if p != top => top = p,
                _ => break,
            }
        }
        Some((top, own))
    };
    let code_rank = |code: &str| {
        [
            "no-documents",
            "clause-undocumented",
            "named-document-missing",
            "records-missing",
        ]
        .iter()
        .position(|c| *c == code)
        .unwrap_or(usize::MAX)
    };
    let mut items: Vec<ToDo<'_>> = findings
        .iter()
        .filter(|d| crate::codes::is_whole_sms(d.code))
        .map(|d| {
            let place = place(&d.subject);
            ToDo {
                top: place.map(|(top, _)| top),
                order: (place.map_or(0, |(_, own)| own), code_rank(d.code)),
                finding: d,
            }
        })
        .collect();
    if items.is_empty() {
        return;
    }
    // Stable: findings that tie keep their sorted order.
    items.sort_by_key(|t| (t.top, t.order));
    let _ = writeln!(
        out,
        "To do: {} item{} for the SMS as a whole, by clause (`auditbook explain CODE` says how to close each kind)",
        items.len(),
        plural(items.len())
    );
    // With several frameworks, clauses group under their framework first (the catalogue lists
    // each framework's clauses together, so catalogue order already groups them).
    let several = catalog.shown_frameworks() > 1;
    let framework_of = |t: &ToDo<'_>| t.top.map(|top| catalog.clauses[top].framework);
    for (n, t) in items.iter().enumerate() {
        if several && (n == 0 || framework_of(&items[n - 1]) != framework_of(t)) {
            if let Some(fi) = framework_of(t) {
                let f = &catalog.frameworks[fi];
                let count = items.iter().filter(|u| framework_of(u) == Some(fi)).count();
                let _ = writeln!(out, "\n== {} — {} ({count}) ==", f.id, f.title);
            }
        }
        if n == 0 || items[n - 1].top != t.top {
            let count = items.iter().filter(|u| u.top == t.top).count();
            let heading = match t.top {
                Some(top) => format!("{} {}", catalog.clauses[top].id, catalog.clauses[top].title),
                None => "The SMS as a whole".to_string(),
            };
            let _ = writeln!(out, "\n{heading} ({count})");
        }
        let d = t.finding;
        let _ = writeln!(out, "  {}[{}]: {}", d.severity.as_str(), d.code, d.message);
    }
    out.push('\n');
}

/// One line of the "To do" section, with its place in the catalogue.
struct ToDo<'a> {
    /// The index of the top-level clause it falls under; `None` when it is not about a clause.
    top: Option<usize>,
    /// The order within the group: (own clause index, rank of the code).
    order: (usize, usize),
    finding: &'a Diagnostic,
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
    /// The primary framework.
    pub framework: &'a str,
    pub as_of: String,
    /// The work tree differs from HEAD (or nothing is committed yet): the results are a DRAFT.
    pub draft: bool,
    /// `--at DATE|REV`: the past state checked, `{date, commit}` (absent without `--at`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<&'a crate::check::At>,
    /// Over every framework; per framework in `frameworks`.
    pub coverage: crate::model::CoverageSummary,
    /// Every framework checked, primary first, with its coverage.
    pub frameworks: Vec<JsonFramework<'a>>,
    pub counts: crate::diag::Counts,
    pub findings: Vec<JsonFinding<'a>>,
    pub clauses: Vec<JsonClause<'a>>,
    /// The approval evidence of each document's effective version, from git (absent without a
    /// complete history).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<JsonApproval>,
    /// With `check --base`: what the change does (see `report::change`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<change::JsonBase<'a>>,
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
    /// For a finding about a clause (coverage): the clause's framework.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framework: Option<&'a str>,
    pub fingerprint: String,
    /// With `check --base`: the fingerprint is absent at the base.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<bool>,
    /// A finding that stands for many rows of one tabular records file: every row's line.
    #[serde(skip_serializing_if = "<[u32]>::is_empty")]
    pub rows: &'a [u32],
}

/// One framework of the run: its catalogue and coverage.
#[derive(Serialize)]
pub struct JsonFramework<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub primary: bool,
    pub sha256: &'a str,
    pub coverage: crate::model::CoverageSummary,
}

pub fn json_frameworks<'a>(model: &Model<'a>) -> Vec<JsonFramework<'a>> {
    model
        .framework_summaries()
        .into_iter()
        .map(|(f, coverage)| JsonFramework {
            id: &f.id,
            title: &f.title,
            primary: f.id == model.catalog.id,
            sha256: &f.hash,
            coverage,
        })
        .collect()
}

#[derive(Serialize)]
pub struct JsonClause<'a> {
    pub id: &'a str,
    /// The framework the clause belongs to.
    pub framework: &'a str,
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

pub fn json_findings<'a>(findings: &'a [Diagnostic], model: &Model<'a>) -> Vec<JsonFinding<'a>> {
    findings
        .iter()
        .map(|d| JsonFinding {
            framework: model.framework_of_finding(d).map(|f| f.id.as_str()),
            code: d.code,
            severity: d.severity,
            path: d.path.as_deref(),
            line: d.pos.map(|p| p.line),
            column: d.pos.map(|p| p.col),
            message: &d.message,
            help: d.help.as_deref(),
            subject: &d.subject,
            fingerprint: d.fingerprint(),
            new: None,
            rows: &d.rows,
        })
        .collect()
}

pub fn json<'a>(loaded: &'a Loaded, model: &'a Model<'_>, findings: &'a [Diagnostic]) -> String {
    json_with(loaded, model, findings, None)
}

/// [`json`], with the `base` object and each finding's `new` under `check --base`.
pub fn json_with<'a>(
    loaded: &'a Loaded,
    model: &'a Model<'_>,
    findings: &'a [Diagnostic],
    gate: Option<&'a crate::gate::Gate>,
) -> String {
    let clauses = model
        .coverage
        .iter()
        .zip(&model.catalog.clauses)
        .map(|(c, cl)| JsonClause {
            id: &cl.id,
            framework: &model.catalog.frameworks[cl.framework].id,
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
        draft: loaded.draft,
        at: loaded.at.as_ref(),
        coverage: model.summary(),
        frameworks: json_frameworks(model),
        counts: crate::diag::count(findings),
        findings: json_findings(findings, model)
            .into_iter()
            .map(|mut f| {
                f.new = gate.map(|g| !g.base_fingerprints.contains(&f.fingerprint));
                f
            })
            .collect(),
        clauses,
        approvals: json_approvals(loaded),
        base: gate.map(|g| change::json(g, findings, model)),
    };
    let mut s = serde_json::to_string_pretty(&report).unwrap_or_default();
    s.push('\n');
    s
}

/// How the effective version of a document is approved in git (README "Approval evidence").
#[derive(Serialize)]
pub struct JsonApproval {
    pub document: String,
    pub version: Option<String>,
    /// The commit that landed the effective version.
    pub commit: String,
    /// claimed | trailer | signed.
    pub level: &'static str,
    /// The level sms.yaml `approval.require` asks for this document's type.
    pub required: &'static str,
    /// For `signed`: `commit`, or `tag NAME`, and the key's `SHA256:` fingerprint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

/// One [`JsonApproval`] per work-tree document whose effective version landed in a commit, in
/// document id order.
fn json_approvals(loaded: &Loaded) -> Vec<JsonApproval> {
    let Some(h) = loaded
        .history
        .as_ref()
        .filter(|h| h.state == crate::history::State::Complete)
    else {
        return Vec::new();
    };
    let mut out: Vec<JsonApproval> = loaded
        .sources
        .documents
        .iter()
        .filter_map(|d| {
            let dh = h.document(&d.id)?;
            let r = &dh.revisions[dh.landing()?];
            let c = h.commits.get(r.commit)?;
            let e = h.evidence(c, r.approver.as_deref(), &loaded.config);
            let (signed_by, fingerprint) = e.signed.unzip();
            Some(JsonApproval {
                document: d.id.clone(),
                version: r.version.clone(),
                commit: c.id.clone(),
                level: e.level.as_str(),
                required: loaded
                    .config
                    .approval
                    .required(d.doc_type.as_deref())
                    .as_str(),
                signed_by,
                fingerprint,
            })
        })
        .collect();
    out.sort_by(|a, b| a.document.cmp(&b.document));
    out
}

/// "; N excluded by the Statement of Applicability" when the SoA excludes controls.
fn excluded_note(s: &crate::model::CoverageSummary) -> String {
    if s.excluded == 0 {
        String::new()
    } else {
        format!(
            "; {} excluded by the Statement of Applicability",
            s.excluded
        )
    }
}
