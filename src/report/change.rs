//! What `check --base` adds to the human and JSON reports: the "Change" section and the `base`
//! object (see `crate::gate`).

use crate::diag::{Diagnostic, Severity};
use crate::gate::{Gate, ItemChange};
use crate::model::{CoverageSummary, Model};
use serde::Serialize;
use std::fmt::Write as _;

/// Lines shown per list in the human section before "… and N more".
const SHOWN: usize = 50;

/// The human "Change" section, printed after the summary.
pub fn human(gate: &Gate, findings: &[Diagnostic], model: &Model<'_>) -> String {
    let head = &model.summary();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nChange against {} (merge-base {}){}:",
        gate.rev,
        gate.short_base(),
        if gate.dirty {
            ", including uncommitted changes"
        } else {
            ""
        }
    );
    for n in &gate.notes {
        let _ = writeln!(out, "  note: {n}");
    }
    let b = &gate.base_coverage;
    let _ = writeln!(
        out,
        "  requirement clauses covered: {}/{} at the base, {}/{} with the change",
        b.covered, b.clauses, head.covered, head.clauses
    );
    let per_framework = framework_changes(gate, model);
    if per_framework.len() > 1 || per_framework.iter().any(|f| f.base.is_none()) {
        for f in &per_framework {
            let before = f.base.map_or("not checked".to_string(), |b| {
                format!("{}/{}", b.covered, b.clauses)
            });
            let _ = writeln!(
                out,
                "    {}: {before} at the base, {}/{} with the change ({} lost, {} gained)",
                f.id, f.head.covered, f.head.clauses, f.lost, f.gained
            );
        }
    }
    let lost: Vec<_> = gate.clauses.iter().filter(|c| c.lost()).collect();
    let gained: Vec<_> = gate.clauses.iter().filter(|c| c.gained()).collect();
    let other: Vec<_> = gate
        .clauses
        .iter()
        .filter(|c| !c.lost() && !c.gained())
        .collect();
    for (title, list) in [
        ("clauses that lose coverage", &lost),
        ("clauses that gain coverage", &gained),
        ("clauses whose status changes", &other),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  {title} ({}):", list.len());
        for c in list.iter().take(SHOWN) {
            let _ = writeln!(
                out,
                "    {}{} {}: {} -> {}",
                if per_framework.len() > 1 && c.framework == model.catalog.id {
                    // plain ids are the primary's: name it when there are several
                    format!("{}:", c.framework)
                } else {
                    String::new()
                },
                c.clause,
                c.title,
                c.before.as_str(),
                c.after.as_str()
            );
        }
        more(&mut out, list.len());
    }
    items(&mut out, "documents", &gate.documents);
    items(&mut out, "records", &gate.records);

    let new: Vec<&Diagnostic> = findings.iter().filter(|d| gate.is_new(d)).collect();
    let new_errors = new.iter().filter(|d| d.severity == Severity::Error).count();
    let existing = findings.len() - new.len();
    let _ = writeln!(
        out,
        "  findings: {} new ({new_errors} at error level), {existing} already at the base, {} resolved",
        new.len(),
        gate.resolved.len()
    );
    for d in new.iter().take(SHOWN) {
        let at = match (&d.path, d.pos) {
            (Some(p), Some(pos)) => format!(" ({p}:{}:{})", pos.line, pos.col),
            (Some(p), None) => format!(" ({p})"),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "    new {}[{}]: {}{at}",
            d.severity.as_str(),
            d.code,
            d.message
        );
    }
    more(&mut out, new.len());
    let failing = findings.iter().filter(|d| gate.fails(d)).count();
    let _ = writeln!(
        out,
        "gate (--fail-on {}): {}",
        gate.fail_on.as_str(),
        if failing == 0 {
            "passed".to_string()
        } else {
            format!(
                "FAILED: {failing} {}finding{} at error level",
                if gate.fail_on == crate::gate::FailOn::New {
                    "new "
                } else {
                    ""
                },
                if failing == 1 { "" } else { "s" }
            )
        }
    );
    out
}

fn more(out: &mut String, n: usize) {
    if n > SHOWN {
        let _ = writeln!(out, "    … and {} more", n - SHOWN);
    }
}

fn items(out: &mut String, what: &str, list: &[ItemChange]) {
    if list.is_empty() {
        return;
    }
    let count = |h: crate::gate::How| list.iter().filter(|c| c.how == h).count();
    let _ = writeln!(
        out,
        "  {what}: {} added, {} changed, {} removed",
        count(crate::gate::How::Added),
        count(crate::gate::How::Changed),
        count(crate::gate::How::Removed)
    );
    for c in list.iter().take(SHOWN) {
        let state = match (&c.before, &c.after) {
            (Some(b), Some(a)) if b != a => format!(": {b} -> {a}"),
            (_, Some(a)) => format!(": {a}"),
            (Some(b), None) => format!(": was {b}"),
            (None, None) => String::new(),
        };
        let _ = writeln!(
            out,
            "    {:<7} {} ({}){state}",
            c.how.as_str(),
            c.id,
            c.path
        );
    }
    more(out, list.len());
}

/// The `base` object of `check --base --format json`.
#[derive(Serialize)]
pub struct JsonBase<'a> {
    /// The revision as given (`origin/main`).
    pub rev: &'a str,
    /// merge-base(rev, HEAD).
    pub commit: &'a str,
    /// HEAD's commit.
    pub head: &'a str,
    /// The work tree has uncommitted changes (they are part of the change).
    pub dirty: bool,
    pub fail_on: &'static str,
    /// Error-level findings that fail the gate.
    pub failing: usize,
    pub coverage: JsonCoverageChange,
    /// Coverage change per framework, primary first.
    pub frameworks: Vec<JsonFrameworkChange>,
    pub clauses: Vec<JsonClauseChange<'a>>,
    pub documents: Vec<JsonItemChange<'a>>,
    pub records: Vec<JsonItemChange<'a>>,
    /// Fingerprints of findings absent at the base.
    pub new: Vec<String>,
    /// Fingerprints of findings already at the base.
    pub existing: Vec<String>,
    /// Findings at the base that the change resolves.
    pub resolved: Vec<super::JsonFinding<'a>>,
    pub notes: &'a [String],
}

#[derive(Serialize)]
pub struct JsonCoverageChange {
    pub base: CoverageSummary,
    pub head: CoverageSummary,
}

#[derive(Serialize)]
pub struct JsonClauseChange<'a> {
    pub id: &'a str,
    pub framework: &'a str,
    pub title: &'a str,
    pub before: &'static str,
    pub after: &'static str,
    /// `lost`, `gained`, or `changed` (another status change).
    pub change: &'static str,
}

#[derive(Serialize)]
pub struct JsonItemChange<'a> {
    pub id: &'a str,
    /// `added`, `changed` or `removed`.
    pub how: &'static str,
    pub path: &'a str,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
}

/// Coverage change of one framework under `--base`.
#[derive(Serialize)]
pub struct JsonFrameworkChange {
    pub id: String,
    /// `None` when the base does not check this framework.
    pub base: Option<CoverageSummary>,
    pub head: CoverageSummary,
    /// Requirement clauses of this framework that lose / gain coverage.
    pub lost: usize,
    pub gained: usize,
}

/// Per framework of the run (primary first): coverage at the base and with the change.
pub fn framework_changes(gate: &Gate, model: &Model<'_>) -> Vec<JsonFrameworkChange> {
    model
        .framework_summaries()
        .into_iter()
        .map(|(f, head)| {
            // Requirement clauses only, as the coverage counts beside them.
            let mine = |c: &&crate::gate::ClauseChange| {
                c.framework == f.id
                    && model
                        .catalog
                        .clause(&c.clause)
                        .is_some_and(|cl| cl.is_requirement())
            };
            JsonFrameworkChange {
                id: f.id.clone(),
                base: gate
                    .base_frameworks
                    .iter()
                    .find(|(id, _)| *id == f.id)
                    .map(|(_, s)| *s),
                head,
                lost: gate
                    .clauses
                    .iter()
                    .filter(mine)
                    .filter(|c| c.lost())
                    .count(),
                gained: gate
                    .clauses
                    .iter()
                    .filter(mine)
                    .filter(|c| c.gained())
                    .count(),
            }
        })
        .collect()
}

pub fn json<'a>(gate: &'a Gate, findings: &[Diagnostic], model: &Model<'a>) -> JsonBase<'a> {
    let head = model.summary();
    let item = |c: &'a ItemChange| JsonItemChange {
        id: &c.id,
        how: c.how.as_str(),
        path: &c.path,
        before: c.before.as_deref(),
        after: c.after.as_deref(),
    };
    let (mut new, mut existing) = (Vec::new(), Vec::new());
    for d in findings {
        let fp = d.fingerprint();
        if gate.base_fingerprints.contains(&fp) {
            existing.push(fp);
        } else {
            new.push(fp);
        }
    }
    new.sort();
    new.dedup();
    existing.sort();
    existing.dedup();
    JsonBase {
        rev: &gate.rev,
        commit: &gate.base_commit,
        head: &gate.head_commit,
        dirty: gate.dirty,
        fail_on: gate.fail_on.as_str(),
        failing: findings.iter().filter(|d| gate.fails(d)).count(),
        coverage: JsonCoverageChange {
            base: gate.base_coverage,
            head,
        },
        frameworks: framework_changes(gate, model),
        clauses: gate
            .clauses
            .iter()
            .map(|c| JsonClauseChange {
                id: &c.clause,
                framework: &c.framework,
                title: &c.title,
                before: c.before.as_str(),
                after: c.after.as_str(),
                change: if c.lost() {
                    "lost"
                } else if c.gained() {
                    "gained"
                } else {
                    "changed"
                },
            })
            .collect(),
        documents: gate.documents.iter().map(item).collect(),
        records: gate.records.iter().map(item).collect(),
        new,
        existing,
        resolved: super::json_findings(&gate.resolved, model),
        notes: &gate.notes,
    }
}
