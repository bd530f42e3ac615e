//! Management-review inputs: what a review record says it considered, the period it reviewed, and
//! the evidence auditbook finds for each input in that period.
//!
//! The catalogue lists, per record kind, the inputs a review must consider
//! ([`crate::catalog::ReviewInput`]; the built-in ISO/IEC 20000-1:2018 `management-review` kind has
//! twelve). A record answers them under `inputs:`, a mapping from input id to a summary (text) or
//! to `{summary, refs}`. The reviewed period is `period: {from, to}`, or by default the time since
//! the previous review of the same kind (else the kind's freshness interval) up to the date the
//! review was held. This module only reads: `rules` turns what it finds into findings and `site`
//! renders it, so both see the same reading.

use crate::catalog::{RecordKind, ReviewInput};
use crate::diag::Diagnostic;
use crate::fields::{Reader, Spanned};
use crate::model::{is_effective, Model};
use crate::record_fields::FieldRef;
use crate::source::Record;
use crate::yaml::{Node, Pos, Value};
use jiff::civil::Date;

/// The record field that holds the inputs.
pub const INPUTS: &str = "inputs";
/// The record field that holds the reviewed period.
pub const PERIOD: &str = "period";
/// The keys of an input given as a mapping.
const INPUT_KEYS: &[&str] = &["summary", "refs"];

/// One input a record answers.
#[derive(Debug, Clone)]
pub struct Given {
    pub id: String,
    /// Where the input's key is written.
    pub pos: Pos,
    pub summary: String,
    pub refs: Vec<Spanned>,
}

impl Given {
    /// An input counts as considered when it says something: a summary or a reference.
    pub fn is_answered(&self) -> bool {
        !self.summary.trim().is_empty() || !self.refs.is_empty()
    }
}

/// What a record's `inputs:` holds.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Whether the record has an `inputs` field at all.
    pub present: bool,
    /// The inputs named in the mapping form, in file order.
    pub given: Vec<Given>,
    /// The older form, a list of notes that name no input: shown, but they answer none.
    pub notes: Vec<String>,
}

impl Inputs {
    pub fn get(&self, id: &str) -> Option<&Given> {
        self.given.iter().find(|g| g.id == id)
    }
}

/// How the reviewed period was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodSource {
    /// The record's own `period: {from, to}`.
    Given,
    /// From the previous review of the same kind (its record index) to this one.
    SincePrevious(usize),
    /// The kind's freshness interval (or 12 months) before this review: there is no earlier one.
    Interval,
}

/// The period a review looked back on, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: Date,
    pub to: Date,
    pub source: PeriodSource,
}

impl Period {
    pub fn contains(&self, date: Date) -> bool {
        self.from <= date && date <= self.to
    }
}

/// Whether records of this kind must answer review inputs.
pub fn applies(kind: &RecordKind) -> bool {
    !kind.inputs.is_empty()
}

/// Whether a record is exempt: a review that is only planned has not considered anything yet.
pub fn is_planned(rec: &Record) -> bool {
    rec.field("status").and_then(FieldRef::as_scalar) == Some("planned")
}

/// Read a record's `inputs`; wrong shapes are `field-invalid` findings pushed to `diags`.
pub fn read_inputs(rec: &Record, diags: &mut Vec<Diagnostic>) -> Inputs {
    let Some(node) = rec.field_node(INPUTS) else {
        return Inputs::default();
    };
    let node = &*node;
    let mut out = Inputs {
        present: true,
        ..Inputs::default()
    };
    let mut r = Reader::new(&rec.path, rec.id.clone(), diags);
    match &node.value {
        Value::Scalar { .. } if node.is_null() => {}
        Value::Map(entries) => {
            for (k, v) in entries {
                let Some(id) = k.as_scalar() else {
                    r.invalid(k, INPUTS, "an input id must be text".into());
                    continue;
                };
                if let Some(g) = read_given(&mut r, id, k.pos, v) {
                    out.given.push(g);
                }
            }
        }
        Value::Seq(items) => {
            for item in items {
                match item.as_scalar() {
                    Some(t) if !item.is_null() => out.notes.push(t.to_string()),
                    _ => r.invalid(
                        item,
                        INPUTS,
                        format!(
                            "each note of an `inputs` list must be text, found {}; name the inputs instead (`inputs: {{audit-results: ...}}`)",
                            item.describe()
                        ),
                    ),
                }
            }
        }
        Value::Scalar { .. } => r.invalid(
            node,
            INPUTS,
            format!(
                "`inputs` must be a mapping from input id to its summary, found {}",
                node.describe()
            ),
        ),
    }
    out
}

fn read_given(r: &mut Reader<'_>, id: &str, pos: Pos, v: &Node) -> Option<Given> {
    let key = format!("{INPUTS}.{id}");
    let mut g = Given {
        id: id.to_string(),
        pos,
        summary: String::new(),
        refs: Vec::new(),
    };
    match &v.value {
        Value::Scalar { .. } if v.is_null() => {}
        Value::Scalar { text, .. } => g.summary = text.clone(),
        Value::Map(entries) => {
            for (k, val) in entries {
                match k.as_scalar() {
                    Some("summary") => {
                        if !val.is_null() {
                            g.summary = r.text(val, &key).map(|t| t.text).unwrap_or_default();
                        }
                    }
                    Some("refs") => {
                        let refs_key = format!("{key}.refs");
                        g.refs = r.list(val, &refs_key).into_iter().map(|(t, _)| t).collect();
                    }
                    other => {
                        let name = other.unwrap_or("");
                        let hint = crate::ids::closest(name, INPUT_KEYS.iter().copied(), 2)
                            .map(|s| format!(" (did you mean `{s}`?)"))
                            .unwrap_or_default();
                        r.invalid(
                            k,
                            &key,
                            format!(
                                "unknown key `{name}` in input `{id}`{hint}; an input has `summary` and `refs`"
                            ),
                        );
                    }
                }
            }
        }
        Value::Seq(_) => {
            r.invalid(
                v,
                &key,
                format!(
                    "input `{id}` must be a summary (text) or `{{summary: ..., refs: [...]}}`, found a list"
                ),
            );
            return None;
        }
    }
    Some(g)
}

/// The `refs` under a review record's inputs (empty for a kind without inputs): refs of the
/// record like its own `refs`, shown both ways.
pub fn input_refs(catalog: &crate::catalog::Catalog, rec: &Record) -> Vec<Spanned> {
    // Most records have no `inputs` field: look for it before looking up the kind.
    if rec.field(INPUTS).is_none() || !catalog.record_kind(&rec.kind).is_some_and(applies) {
        return Vec::new();
    }
    read_inputs(rec, &mut Vec::new())
        .given
        .into_iter()
        .flat_map(|g| g.refs)
        .collect()
}

/// The record's own `period: {from, to}`, when it gives one; wrong shapes are findings.
pub fn read_period(rec: &Record, diags: &mut Vec<Diagnostic>) -> Option<(Date, Date)> {
    let node = rec.field_node(PERIOD).filter(|n| !n.is_null())?;
    let node = &*node;
    let mut r = Reader::new(&rec.path, rec.id.clone(), diags);
    if node.as_map().is_none() {
        r.invalid(
            node,
            PERIOD,
            format!(
                "`period` of a review must be `{{from: YYYY-MM-DD, to: YYYY-MM-DD}}`, found {}",
                node.describe()
            ),
        );
        return None;
    }
    let end = |r: &mut Reader<'_>, key: &str| match node.get(key) {
        Some(n) => r.date(n, &format!("{PERIOD}.{key}")),
        None => {
            r.invalid(node, PERIOD, format!("`period` needs `{key}`"));
            None
        }
    };
    let (from, to) = (end(&mut r, "from"), end(&mut r, "to"));
    let (from, to) = (from?, to?);
    if from > to {
        r.invalid(
            node,
            PERIOD,
            format!("`period` ends ({to}) before it starts ({from})"),
        );
        return None;
    }
    Some((from, to))
}

/// The date the review was held: `held` when it is a valid date, else the record's `date`.
fn held(rec: &Record) -> Option<Date> {
    rec.field("held")
        .and_then(FieldRef::as_scalar)
        .and_then(|t| crate::dates::parse_date(t).ok())
        .or(rec.date)
}

/// The period record `index` reviewed: its own `period`, else since the previous review of its
/// kind, else its kind's freshness interval before it. `None` when the record has no date.
pub fn period(model: &Model<'_>, index: usize, given: Option<(Date, Date)>) -> Option<Period> {
    if let Some((from, to)) = given {
        return Some(Period {
            from,
            to,
            source: PeriodSource::Given,
        });
    }
    let rec = &model.sources.records[index];
    let to = held(rec)?;
    let previous = model
        .records_by_kind
        .get(&*rec.kind)
        .into_iter()
        .flatten()
        .copied()
        .filter(|&i| i != index)
        .filter_map(|i| Some((held(&model.sources.records[i])?, i)))
        .filter(|&(d, _)| d < to)
        .max();
    Some(match previous {
        Some((from, i)) => Period {
            from,
            to,
            source: PeriodSource::SincePrevious(i),
        },
        None => Period {
            from: model
                .fresh_within(&rec.kind)
                .unwrap_or(crate::dates::Interval::months(12))
                .before(to),
            to,
            source: PeriodSource::Interval,
        },
    })
}

/// What auditbook finds for one input on its own.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// Records of the input's kinds dated within the period (never the review itself), by date.
    pub records: Vec<usize>,
    /// Documents in force that cite the input's clauses (or clauses below them).
    pub documents: Vec<usize>,
}

/// The evidence for `input` of record `index` in `period`.
pub fn evidence(model: &Model<'_>, index: usize, input: &ReviewInput, period: &Period) -> Evidence {
    Evidence {
        records: evidence_records(model, index, input, period),
        documents: evidence_documents(model, input),
    }
}

/// The records of [`evidence`].
pub fn evidence_records(
    model: &Model<'_>,
    index: usize,
    input: &ReviewInput,
    period: &Period,
) -> Vec<usize> {
    let recs = &model.sources.records;
    let mut records: Vec<usize> = Vec::new();
    for kind in &input.records {
        let Some(list) = model.records_by_kind.get(kind) else {
            continue;
        };
        // The list is in date order (undated first): the period is one run of it.
        let start = list.partition_point(|&i| recs[i].date.is_none_or(|d| d < period.from));
        records.extend(
            list[start..]
                .iter()
                .copied()
                .take_while(|&i| recs[i].date.is_some_and(|d| d <= period.to))
                .filter(|&i| i != index),
        );
    }
    records.sort_by(|&a, &b| (recs[a].date, &recs[a].id).cmp(&(recs[b].date, &recs[b].id)));
    records.dedup();
    records
}

/// The documents of [`evidence`]: effective or in revision, citing one of the input's clauses or
/// a sub-clause. They do not depend on the review or its period, so the site finds them once
/// per input.
pub fn evidence_documents(model: &Model<'_>, input: &ReviewInput) -> Vec<usize> {
    model
        .sources
        .documents
        .iter()
        .enumerate()
        .filter(|&(i, d)| is_effective(d) || model.in_progress.contains_key(&i))
        .filter(|(_, d)| {
            d.clauses.iter().any(|c| {
                input.clauses.iter().any(|want| {
                    c.id == *want
                        || c.id
                            .strip_prefix(want.as_str())
                            .is_some_and(|rest| rest.starts_with('.'))
                })
            })
        })
        .map(|(i, _)| i)
        .collect()
}
