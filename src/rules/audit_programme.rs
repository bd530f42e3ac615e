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
pub struct Audit {
    pub date: Date,
    pub label: String,
    pub done: bool,
    /// The internal-audit record (index into the sources' records), or the audit-programme
    /// record that plans it.
    pub record: usize,
    pub clauses: Vec<usize>,
}

/// Where a requirement clause of the primary framework stands in the programme cycle.
pub struct ClauseState<'m> {
    /// Catalogue index.
    pub clause: usize,
    /// The latest completed audit within the cycle that covered it.
    pub done: Option<&'m Audit>,
    /// The latest completed audit before the cycle that covered it.
    pub done_before: Option<Date>,
    /// The first plan still ahead.
    pub next: Option<&'m Audit>,
    /// The last plan within the cycle whose date passed with no completed audit.
    pub passed: Option<&'m Audit>,
}

/// The audit programme as the rule sees it: every audit, done or planned, sorted by date, and
/// the cycle it is judged over.
pub struct Programme {
    pub audits: Vec<Audit>,
    /// The cycle starts after this date and ends on the as-of date.
    pub from: Date,
    /// The newest audit-programme record, where findings go.
    pub record: Option<usize>,
}

impl Programme {
    /// Per requirement clause of the primary framework that the SoA does not exclude, in
    /// catalogue order.
    pub fn clauses<'p>(&'p self, model: &Model<'_>) -> Vec<ClauseState<'p>> {
        let mut states = Vec::new();
        for (ci, cl) in model.catalog.clauses.iter().enumerate() {
            if cl.framework != 0 || !cl.is_requirement() || model.coverage[ci].excluded.is_some() {
                continue;
            }
            let mut st = ClauseState {
                clause: ci,
                done: None,
                done_before: None,
                next: None,
                passed: None,
            };
            for a in self.audits.iter().filter(|a| a.clauses.contains(&ci)) {
                if a.done && a.date > self.from {
                    if st.done.is_none_or(|d| a.date >= d.date) {
                        st.done = Some(a);
                    }
                } else if a.done {
                    st.done_before = st.done_before.max(Some(a.date));
                } else if a.date >= model.as_of {
                    if st.next.is_none_or(|p| a.date < p.date) {
                        st.next = Some(a);
                    }
                } else if a.date > self.from && st.passed.is_none_or(|p| a.date > p.date) {
                    st.passed = Some(a);
                }
            }
            states.push(st);
        }
        states
    }
}

pub fn check(model: &Model<'_>, out: &mut Vec<Diagnostic>) {
    let Some(p) = programme(model, out) else {
        return;
    };
    let programme = p.record.map(|i| &model.sources.records[i]);
    let from = p.from;
    for st in p.clauses(model) {
        if st.done.is_some() {
            continue;
        }
        let cl = &model.catalog.clauses[st.clause];
        let mut msg = format!(
            "clause {} {} was not covered by any completed internal audit from {from} to {}",
            cl.id, cl.title, model.as_of
        );
        if let Some(d) = st.done_before {
            msg.push_str(&format!("; last audited on {d}, before the cycle"));
        }
        match (st.next, st.passed) {
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

/// The audit programme, or `None` when the check does not run (no internal audit, or none that
/// says what it covered). Findings about the fields it reads go to `out`.
pub fn programme(model: &Model<'_>, out: &mut Vec<Diagnostic>) -> Option<Programme> {
    let audits_kind = model.records_by_kind.get("internal-audit");
    if audits_kind.is_none_or(|v| v.is_empty()) {
        // no internal audit at all: `records-missing` for 9.2 says so once
        return None;
    }
    // The check starts once the SMS says what its audits covered: until some internal-audit
    // record or programme entry has a `covered:` list there is nothing to compare with, and a
    // warning for every clause would bury the findings that matter (docs/rules.md says so).
    let says_covered = |r: &Record| r.field("covered").is_some();
    let programme_says = model
        .records_by_kind
        .get("audit-programme")
        .into_iter()
        .flatten()
        .filter_map(|&i| model.sources.records[i].field_node("audits"))
        .any(|n| {
            n.as_seq()
                .is_some_and(|es| es.iter().any(|e| e.get("covered").is_some()))
        });
    if !programme_says
        && !audits_kind
            .into_iter()
            .flatten()
            .any(|&i| says_covered(&model.sources.records[i]))
    {
        return None;
    }
    let mut audits: Vec<Audit> = Vec::new();
    for &i in audits_kind.into_iter().flatten() {
        let rec = &model.sources.records[i];
        let covered = covered_clauses(model, rec, rec.field_node("covered").as_deref(), out);
        let open = model
            .catalog
            .record_kind(&rec.kind)
            .is_some_and(|k| super::open_status(k, rec).is_some());
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
            record: i,
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
        let audits_node = rec.field_node("audits");
        let Some(entries) = audits_node.as_deref().and_then(|n| n.as_seq()) else {
            continue;
        };
        for entry in entries {
            // an entry that names a completed audit record is that record, not a plan
            let names = entry.get("audit").and_then(|n| n.as_scalar());
            if names.is_some_and(|a| {
                model
                    .record(a)
                    .is_some_and(|r| &*r.kind == "internal-audit")
            }) {
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
                record: i,
                clauses: covered,
            });
        }
    }
    let from = model
        .config
        .audit_cycle
        .unwrap_or(CYCLE)
        .before(model.as_of);
    let record = model
        .records_by_kind
        .get("audit-programme")
        .and_then(|v| v.last())
        .copied();
    audits.sort_by(|a, b| (a.date, &a.label).cmp(&(b.date, &b.label)));
    Some(Programme {
        audits,
        from,
        record,
    })
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
