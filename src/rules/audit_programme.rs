//! Audit-programme coverage (ISO/IEC 20000-1:2018 clause 9.2): every requirement clause of the
//! primary framework must have been covered by a completed internal audit within the programme
//! cycle (3 years back from the as-of date). An internal-audit record says what it covered in
//! `covered:` (clause ids; a clause covers the clauses below it). Audits still open, and the
//! `audits:` entries of an `audit-programme` record, count as planned, never as done.

use crate::config::FILE_NAME;
use crate::dates::Interval;
use crate::diag::Diagnostic;
use crate::model::Model;
use crate::source::Record;
use crate::yaml::{Node, Pos};
use jiff::civil::Date;

/// The default programme cycle: how far back a completed audit still counts.
pub const CYCLE: Interval = Interval {
    count: 3,
    unit: crate::dates::Unit::Years,
};

/// One audit, done or planned, and the primary-framework clause indexes it covers.
struct Audit {
    date: Date,
    label: String,
    done: bool,
    clauses: Vec<usize>,
}

pub fn check(model: &Model<'_>, out: &mut Vec<Diagnostic>) {
    let audits_kind = model.records_by_kind.get("internal-audit");
    if audits_kind.is_none_or(|v| v.is_empty()) {
        // no internal audit at all: `records-missing` for 9.2 says so once
        return;
    }
    let catalog = model.catalog;
    let mut audits: Vec<Audit> = Vec::new();
    for &i in audits_kind.into_iter().flatten() {
        let rec = &model.sources.records[i];
        let covered = covered_clauses(model, rec, rec.field("covered"), out);
        let open = catalog
            .record_kind(&rec.kind)
            .map(|k| {
                let status = rec
                    .field("status")
                    .and_then(|n| n.as_scalar())
                    .unwrap_or("");
                k.open_statuses.iter().any(|s| s == status)
            })
            .unwrap_or(false);
        let completed = rec
            .field("completed")
            .and_then(|n| n.as_scalar())
            .and_then(|t| crate::dates::parse_date(t).ok());
        let Some(date) = completed.or(rec.date) else {
            continue;
        };
        let done = !open && date <= model.as_of;
        audits.push(Audit {
            date,
            label: rec.id.clone(),
            done,
            clauses: covered,
        });
    }
    for &i in model
        .records_by_kind
        .get("audit-programme")
        .into_iter()
        .flatten()
    {
        let rec = &model.sources.records[i];
        let Some(entries) = rec.field("audits").and_then(|n| n.as_seq()) else {
            continue;
        };
        for entry in entries {
            // an entry that names a completed audit record is that record, not a plan
            let names = entry.get("audit").and_then(|n| n.as_scalar());
            if names.is_some_and(|a| model.record(a).is_some_and(|r| r.kind == "internal-audit")) {
                continue;
            }
            let Some(planned) = entry.get("planned") else {
                continue;
            };
            let date = match planned.as_scalar().map(crate::dates::parse_date) {
                Some(Ok(d)) => d,
                _ => {
                    out.push(
                        Diagnostic::new(
                            "field-invalid",
                            format!("{}#audits#planned", rec.id),
                            format!(
                                "`planned` must be a date YYYY-MM-DD, found `{}`",
                                planned.as_scalar().unwrap_or(planned.describe())
                            ),
                        )
                        .at(&rec.path, planned.pos),
                    );
                    continue;
                }
            };
            let covered = covered_clauses(model, rec, entry.get("covered"), out);
            audits.push(Audit {
                date,
                label: format!("{} ({})", names.unwrap_or("an audit"), rec.id),
                done: false,
                clauses: covered,
            });
        }
    }
    let from = model
        .config
        .audit_cycle
        .unwrap_or(CYCLE)
        .before(model.as_of);
    let programme = model
        .records_by_kind
        .get("audit-programme")
        .and_then(|v| v.last())
        .map(|&i| &model.sources.records[i]);
    for (ci, cl) in catalog.clauses.iter().enumerate() {
        if cl.framework != 0 || !cl.is_requirement() || model.coverage[ci].excluded.is_some() {
            continue;
        }
        let touching = audits.iter().filter(|a| a.clauses.contains(&ci));
        // the first plan still ahead, else the last plan of the cycle whose date has passed
        let mut next: Option<&Audit> = None;
        let mut passed: Option<&Audit> = None;
        let mut done_before: Option<Date> = None;
        let mut done = false;
        for a in touching {
            if a.done && a.date > from {
                done = true;
            } else if a.done {
                done_before = done_before.max(Some(a.date));
            } else if a.date >= model.as_of {
                if next.is_none_or(|p| a.date < p.date) {
                    next = Some(a);
                }
            } else if a.date > from && passed.is_none_or(|p| a.date > p.date) {
                passed = Some(a);
            }
        }
        if done {
            continue;
        }
        let mut msg = format!(
            "clause {} {} was not covered by any completed internal audit from {from} to {}",
            cl.id, cl.title, model.as_of
        );
        if let Some(d) = done_before {
            msg.push_str(&format!("; last audited on {d}, before the cycle"));
        }
        match (next, passed) {
            (Some(p), _) => msg.push_str(&format!("; planned for {} in {}", p.date, p.label)),
            (None, Some(p)) => msg.push_str(&format!(
                "; planned for {} in {}, a date that has passed with no completed audit",
                p.date, p.label
            )),
            (None, None) => msg.push_str("; no audit plans it"),
        }
        let d = Diagnostic::new("clause-not-audited", cl.id.clone(), msg).help(format!(
            "list \"{}\" in the `covered` clauses of a completed internal-audit record, or plan it in the audit programme",
            cl.id
        ));
        out.push(match programme {
            Some(r) => d.at(&r.path, r.pos),
            None => d.at(FILE_NAME, Pos::new(1, 1)),
        });
    }
}

/// The primary-framework clause indexes a `covered:` list names, each with the clauses below it.
fn covered_clauses(
    model: &Model<'_>,
    rec: &Record,
    node: Option<&Node>,
    out: &mut Vec<Diagnostic>,
) -> Vec<usize> {
    let Some(node) = node.filter(|n| !n.is_null()) else {
        return Vec::new();
    };
    let Some(items) = node.as_seq() else {
        out.push(
            Diagnostic::new(
                "field-invalid",
                format!("{}#covered", rec.id),
                format!(
                    "`covered` must be a list of clause ids, found {}",
                    node.describe()
                ),
            )
            .at(&rec.path, node.pos),
        );
        return Vec::new();
    };
    let catalog = model.catalog;
    let mut result = Vec::new();
    for item in items {
        let Some(id) = item.as_scalar() else {
            continue;
        };
        if item.is_plain_number() {
            out.push(
                Diagnostic::new(
                    "clause-unquoted",
                    format!("{}#covered#{id}", rec.id),
                    format!("clause id {id} in `covered` is written as a number"),
                )
                .at(&rec.path, item.pos)
                .help(format!("quote it: \"{id}\"")),
            );
        }
        let Some(ci) = catalog.clause_index(id) else {
            if catalog.is_elsewhere(id) || catalog.unknown_framework(id).is_some() {
                continue;
            }
            let mut d = Diagnostic::new(
                "clause-unknown",
                format!("{}#covered#{id}", rec.id),
                format!(
                    "`covered` names clause `{id}`, which is not in {}",
                    catalog.framework_named_by(id)
                ),
            )
            .at(&rec.path, item.pos);
            if let Some(s) = catalog.suggest_clause(id) {
                d = d.help(s);
            }
            out.push(d);
            continue;
        };
        // the clause and every clause below it (catalogue order is parents first)
        let mut stack = vec![ci];
        while let Some(c) = stack.pop() {
            result.push(c);
            for child in &catalog.clauses[c].children {
                if let Some(k) = catalog.clause_index(child) {
                    stack.push(k);
                }
            }
        }
    }
    result.sort_unstable();
    result.dedup();
    result
}
