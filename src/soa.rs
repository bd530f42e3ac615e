//! The Statement of Applicability (ISO/IEC 27001:2022 6.1.3 d): which Annex A controls apply,
//! why any is excluded, how far each applicable one is implemented and by what.
//!
//! Design choice: the SoA is an ordinary controlled document — the one whose frontmatter says
//! `provides: [iso27001:2022:statement-of-applicability]` (plain `statement-of-applicability` when
//! 27001 is the primary framework) — with a `controls:` table in its frontmatter. So it is
//! approved, versioned and history-checked like any policy (the table is controlled content), and
//! it is the only place where an Annex A control can be excluded: sms.yaml `applicability` only
//! says who operates a clause and never removes one, so there is one source of truth. An
//! exclusion takes effect (the control's coverage becomes `excluded`) only when the SoA counts as
//! coverage (approved, or a revision in progress of an approved one — then only what the version
//! in force excludes too), the control is excludable in the catalogue (Annex A, never clauses
//! 4-10) and the entry gives a justification.
//!
//! Control ids in the table are read against the 27001 catalogue: `A.5.1` and
//! `iso27001:2022:A.5.1` are the same control.

use crate::catalog::Catalog;
use crate::diag::Diagnostic;
use crate::fields::Spanned;
use crate::source::Document;
use crate::yaml::{Node, Pos, Value};
use std::collections::HashMap;

/// The framework whose Annex A the SoA states applicability for.
pub const FRAMEWORK: &str = "iso27001:2022";
/// The catalogue's named document the SoA provides.
pub const NAMED_DOCUMENT: &str = "statement-of-applicability";

/// How far an applicable control is implemented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implementation {
    Planned,
    Partial,
    Implemented,
}

impl Implementation {
    pub fn as_str(self) -> &'static str {
        match self {
            Implementation::Planned => "planned",
            Implementation::Partial => "partial",
            Implementation::Implemented => "implemented",
        }
    }
    fn parse(s: &str) -> Option<Implementation> {
        match s {
            "planned" => Some(Implementation::Planned),
            "partial" => Some(Implementation::Partial),
            "implemented" => Some(Implementation::Implemented),
            _ => None,
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The control id as written.
    pub control: String,
    pub pos: Pos,
    /// Index of the control in the catalogue; `None` when the id is unknown.
    pub clause: Option<usize>,
    /// `None` when missing or not yes/no (a `soa-invalid` finding).
    pub applicable: Option<bool>,
    pub applicable_pos: Pos,
    pub justification: Option<String>,
    pub status: Option<Implementation>,
    /// Ids of the documents and records that implement the control.
    pub implemented_by: Vec<Spanned>,
}

impl Entry {
    pub fn is_excluded(&self) -> bool {
        self.applicable == Some(false)
    }
    pub fn has_justification(&self) -> bool {
        self.justification
            .as_deref()
            .is_some_and(|j| !j.trim().is_empty())
    }
}

/// The SMS's Statement of Applicability.
#[derive(Debug, Clone)]
pub struct Soa {
    /// Index of the SoA document in `Sources::documents`.
    pub document: usize,
    /// Where the `controls:` key is (or the id, when there is none).
    pub pos: Pos,
    pub entries: Vec<Entry>,
    /// Catalogue index -> index of its first entry.
    pub by_clause: HashMap<usize, usize>,
    /// Findings about the table's shape (`soa-invalid`).
    pub shape: Vec<Diagnostic>,
    /// Other documents that also provide the SoA (ignored; a `soa-invalid` finding each).
    pub others: Vec<usize>,
}

impl Soa {
    /// The entry for a catalogue clause.
    pub fn entry_for(&self, clause: usize) -> Option<&Entry> {
        self.by_clause.get(&clause).map(|&i| &self.entries[i])
    }
}

/// The index of the 27001 framework when it is loaded and shown (not left out by `--framework`).
pub fn framework(catalog: &Catalog) -> Option<usize> {
    let fi = catalog.framework_index(FRAMEWORK)?;
    catalog.focus.is_none_or(|f| f == fi).then_some(fi)
}

/// The id a document writes in `provides` for the SoA.
pub fn provides_id(fi: usize) -> String {
    if fi == 0 {
        NAMED_DOCUMENT.to_string()
    } else {
        format!("{FRAMEWORK}:{NAMED_DOCUMENT}")
    }
}

fn provides_soa(doc: &Document, fi: usize) -> bool {
    let want = provides_id(fi);
    let qualified = format!("{FRAMEWORK}:{NAMED_DOCUMENT}");
    doc.provides
        .iter()
        .any(|p| p.text == want || p.text == qualified)
}

/// The catalogue index of a control id written in the table.
pub fn resolve(catalog: &Catalog, fi: usize, id: &str) -> Option<usize> {
    let local = id
        .strip_prefix(FRAMEWORK)
        .and_then(|l| l.strip_prefix(':'))
        .unwrap_or(id);
    let full = if fi == 0 {
        local.to_string()
    } else {
        format!("{FRAMEWORK}:{local}")
    };
    catalog
        .clause_index(&full)
        .filter(|&i| catalog.clauses[i].framework == fi)
}

/// The Annex A controls (excludable leaves of the 27001 framework), in catalogue order.
pub fn controls(
    catalog: &Catalog,
    fi: usize,
) -> impl Iterator<Item = (usize, &crate::catalog::Clause)> {
    catalog
        .clauses
        .iter()
        .enumerate()
        .filter(move |(_, c)| c.framework == fi && c.excludable && c.children.is_empty())
}

/// Find and read the SoA. The first document (path order) that provides it and counts as
/// coverage is the SoA, else the first that provides it at all.
pub fn read(
    catalog: &Catalog,
    documents: &[Document],
    counts: impl Fn(usize, &Document) -> bool,
) -> Option<Soa> {
    let fi = framework(catalog)?;
    let providers: Vec<usize> = documents
        .iter()
        .enumerate()
        .filter(|(_, d)| provides_soa(d, fi))
        .map(|(i, _)| i)
        .collect();
    let chosen = providers
        .iter()
        .copied()
        .find(|&i| counts(i, &documents[i]))
        .or_else(|| providers.first().copied())?;
    let doc = &documents[chosen];
    let mut soa = Soa {
        document: chosen,
        pos: doc.id_pos,
        entries: Vec::new(),
        by_clause: HashMap::new(),
        shape: Vec::new(),
        others: providers.into_iter().filter(|&i| i != chosen).collect(),
    };
    let invalid = |soa: &mut Soa, subject: String, pos: Pos, msg: String| {
        soa.shape.push(
            Diagnostic::new("soa-invalid", subject, msg)
                .at(&doc.path, pos)
                .help("each `controls:` entry is a mapping: `control`, `applicable` (yes | no), `justification`, `status` (planned | partial | implemented), `implemented_by` (document or record ids)"),
        );
    };
    let Some((key_pos, table)) = &doc.controls else {
        return Some(soa);
    };
    soa.pos = *key_pos;
    let Some(items) = table.as_seq() else {
        invalid(
            &mut soa,
            format!("{}#controls", doc.id),
            table.pos,
            format!(
                "`controls` must be a list of entries, found {}",
                table.describe()
            ),
        );
        return Some(soa);
    };
    for item in items {
        let Some(_) = item.as_map() else {
            invalid(
                &mut soa,
                format!("{}#controls", doc.id),
                item.pos,
                format!(
                    "a `controls` entry must be a mapping, found {}",
                    item.describe()
                ),
            );
            continue;
        };
        let Some(control) = item.get("control").and_then(scalar) else {
            invalid(
                &mut soa,
                format!("{}#controls", doc.id),
                item.pos,
                "a `controls` entry has no `control` (the Annex A control id, e.g. A.5.1)".into(),
            );
            continue;
        };
        let subject = format!("{}#{}", doc.id, control);
        let clause = resolve(catalog, fi, &control);
        if clause.is_none() {
            let help = crate::ids::closest(
                &control,
                controls(catalog, fi).map(|(_, c)| catalog.local_id(c)),
                2,
            )
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
            invalid(
                &mut soa,
                subject.clone(),
                item.get("control").map_or(item.pos, |n| n.pos),
                format!("`{control}` is not a clause or control of {FRAMEWORK}{help}"),
            );
        }
        let applicable_node = item.get("applicable");
        let applicable = match applicable_node {
            None => {
                invalid(
                    &mut soa,
                    subject.clone(),
                    item.pos,
                    format!("the entry for `{control}` has no `applicable` (yes or no)"),
                );
                None
            }
            Some(n) => {
                let v = scalar(n).and_then(|t| yes_no(&t));
                if v.is_none() {
                    invalid(
                        &mut soa,
                        subject.clone(),
                        n.pos,
                        format!(
                            "`applicable` of `{control}` must be yes or no, found {}",
                            n.describe()
                        ),
                    );
                }
                v
            }
        };
        let status = match item.get("status") {
            None => None,
            Some(n) => {
                let v = scalar(n).and_then(|t| Implementation::parse(&t));
                if v.is_none() {
                    invalid(
                        &mut soa,
                        subject.clone(),
                        n.pos,
                        format!("`status` of `{control}` must be planned, partial or implemented"),
                    );
                }
                v
            }
        };
        let mut implemented_by = Vec::new();
        if let Some(n) = item.get("implemented_by") {
            match &n.value {
                Value::Seq(list) => {
                    for x in list {
                        match scalar(x) {
                            Some(t) => implemented_by.push(Spanned {
                                text: t,
                                pos: x.pos,
                            }),
                            None => invalid(
                                &mut soa,
                                subject.clone(),
                                x.pos,
                                format!(
                                    "`implemented_by` of `{control}` lists {}, not an id",
                                    x.describe()
                                ),
                            ),
                        }
                    }
                }
                Value::Scalar { .. } if n.is_null() => {}
                Value::Scalar { text, .. } => implemented_by.push(Spanned {
                    text: text.clone(),
                    pos: n.pos,
                }),
                Value::Map(_) => invalid(
                    &mut soa,
                    subject.clone(),
                    n.pos,
                    format!("`implemented_by` of `{control}` must be a list of ids"),
                ),
            }
        }
        for (k, _) in item.as_map().unwrap_or_default() {
            let key = k.as_scalar().unwrap_or("");
            if !ENTRY_KEYS.contains(&key) {
                let near = crate::ids::closest(key, ENTRY_KEYS.iter().copied(), 2)
                    .map(|s| format!(": did you mean `{s}`?"))
                    .unwrap_or_default();
                invalid(
                    &mut soa,
                    subject.clone(),
                    k.pos,
                    format!("unknown field `{key}` in the entry for `{control}`{near}"),
                );
            }
        }
        let entry = Entry {
            control: control.clone(),
            pos: item.pos,
            clause,
            applicable,
            applicable_pos: applicable_node.map_or(item.pos, |n| n.pos),
            justification: item.get("justification").and_then(scalar),
            status,
            implemented_by,
        };
        if let Some(ci) = clause {
            if let Some(&first) = soa.by_clause.get(&ci) {
                let line = soa.entries[first].pos.line;
                invalid(
                    &mut soa,
                    subject.clone(),
                    item.pos,
                    format!("`{control}` has a second entry (the first is on line {line}); only the first counts"),
                );
            } else {
                soa.by_clause.insert(ci, soa.entries.len());
            }
        }
        soa.entries.push(entry);
    }
    Some(soa)
}

const ENTRY_KEYS: &[&str] = &[
    "control",
    "applicable",
    "justification",
    "status",
    "implemented_by",
];

fn scalar(n: &Node) -> Option<String> {
    if n.is_null() {
        return None;
    }
    n.as_scalar().map(|s| s.trim().to_string())
}

fn yes_no(t: &str) -> Option<bool> {
    match t.to_ascii_lowercase().as_str() {
        "yes" | "true" | "y" => Some(true),
        "no" | "false" | "n" => Some(false),
        _ => None,
    }
}

/// The catalogue indexes of the controls a revision in progress of the SoA excludes in its
/// effective (approved) version, with a justification: `doc` with that version's table.
pub fn exclusions_of(
    catalog: &Catalog,
    doc: &Document,
    effective: &crate::model::Effective,
) -> std::collections::HashSet<usize> {
    let mut version = doc.clone();
    version.controls = effective.controls.clone();
    let Some(s) = read(catalog, std::slice::from_ref(&version), |_, _| true) else {
        return Default::default();
    };
    s.by_clause
        .iter()
        .filter(|(&ci, &ei)| {
            let e = &s.entries[ei];
            e.is_excluded() && e.has_justification() && catalog.clauses[ci].excludable
        })
        .map(|(&ci, _)| ci)
        .collect()
}

/// Fill in the `controls:` table of the effective version of an SoA in revision, read from git
/// (the history keeps only clauses and `provides` of each revision). A version that cannot be
/// read keeps no table, so it excludes nothing.
pub fn effective_tables(
    config: &crate::config::Config,
    catalog: &Catalog,
    sources: &crate::source::Sources,
    mut effective: crate::model::EffectiveVersions,
) -> crate::model::EffectiveVersions {
    let Some(fi) = framework(catalog) else {
        return effective;
    };
    let wanted: Vec<String> = sources
        .documents
        .iter()
        .filter(|d| provides_soa(d, fi))
        .map(|d| crate::ids::key(&d.id))
        .filter(|k| effective.contains_key(k))
        .collect();
    if wanted.is_empty() {
        return effective;
    }
    let Ok(Some(repo)) = crate::history::Repo::open(&config.root) else {
        return effective;
    };
    for k in wanted {
        let Some(e) = effective.get_mut(&k) else {
            continue;
        };
        let Ok(Some(bytes)) =
            repo.read_committed_within(&e.commit, &e.path, config.limits.max_file_size)
        else {
            continue;
        };
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        let text = crate::markdown::normalise(&text);
        let mut diags = Vec::new();
        if let Some(d) = crate::source::parse_document(config, &e.path, &text, &mut diags) {
            e.controls = d.controls;
        }
    }
    effective
}
