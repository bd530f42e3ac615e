//! The audit-programme page (clause 9.2): every requirement clause of the primary framework
//! against every internal audit, done or planned, and what is still to audit this cycle. It
//! shows what the `clause-not-audited` rule judges, from the same [`Programme`].

use super::{ClauseBadge, Site};
use crate::rules::audit_programme::{self, Programme};
use serde::Serialize;

/// The page's path.
pub const PAGE: &str = "audit-programme.html";

#[derive(Serialize)]
struct Column {
    label: String,
    date: String,
    done: bool,
    url: String,
}

#[derive(Serialize)]
struct Row<'b> {
    clause: ClauseBadge<'b>,
    title: &'b str,
    /// Per column: "done" (completed within the cycle), "old" (completed before it),
    /// "planned" or "".
    cells: Vec<&'static str>,
    /// In words: "audited 2026-03-12 (IA-2026-01)", "planned for …", "not audited".
    state: String,
    /// Not covered by a completed audit within the cycle.
    open: bool,
}

#[derive(Serialize)]
struct View<'b> {
    from: String,
    to: String,
    cycle_default: bool,
    columns: Vec<Column>,
    rows: Vec<Row<'b>>,
    still_open: usize,
    clauses: usize,
}

impl<'a> Site<'a> {
    /// The programme, when the check runs (some audit says what it covered).
    pub(super) fn audit_programme(&self) -> Option<Programme> {
        audit_programme::programme(self.model, &mut Vec::new())
    }

    pub(super) fn audit_programme_page(&self) -> Option<impl Serialize + '_> {
        let p = self.audit_programme()?;
        let columns = p
            .audits
            .iter()
            .map(|a| Column {
                label: a.label.clone(),
                date: a.date.to_string(),
                done: a.done,
                url: self.rec_link(a.record).url,
            })
            .collect();
        let states = p.clauses(self.model);
        let mut still_open = 0;
        let rows = states
            .iter()
            .map(|st| {
                let c = &self.model.catalog.clauses[st.clause];
                let cells = p
                    .audits
                    .iter()
                    .map(|a| {
                        if !a.clauses.contains(&st.clause) {
                            ""
                        } else if !a.done {
                            "planned"
                        } else if a.date > p.from {
                            "done"
                        } else {
                            "old"
                        }
                    })
                    .collect();
                let state = match (st.done, st.next, st.passed) {
                    (Some(d), _, _) => format!("audited {} ({})", d.date, d.label),
                    (None, Some(n), _) => format!("planned for {} ({})", n.date, n.label),
                    (None, None, Some(n)) => {
                        format!("plan of {} ({}) passed, not done", n.date, n.label)
                    }
                    (None, None, None) => "not audited, no plan".to_string(),
                };
                let open = st.done.is_none();
                still_open += usize::from(open);
                Row {
                    clause: self.clause_badge(&c.id),
                    title: &c.title,
                    cells,
                    state,
                    open,
                }
            })
            .collect::<Vec<_>>();
        Some(View {
            from: p.from.to_string(),
            to: self.model.as_of.to_string(),
            cycle_default: self.model.config.audit_cycle.is_none(),
            columns,
            clauses: rows.len(),
            rows,
            still_open,
        })
    }
}
