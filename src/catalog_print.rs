//! `auditbook clauses`: the catalogue as a tree for people, or as JSON.

use crate::catalog::{mapping, Catalog, Mapping};
use crate::report::Format;
use serde::Serialize;

type JsonInput = crate::catalog::ReviewInput;

#[derive(Serialize)]
struct JsonClause<'a> {
    id: &'a str,
    title: &'a str,
    parent: Option<&'a str>,
    summary: &'a str,
    evidence: &'static str,
    expand: bool,
    excludable: bool,
    documents: &'a [String],
    records: &'a [String],
}

#[derive(Serialize)]
struct JsonKind<'a> {
    id: &'a str,
    title: &'a str,
    clauses: &'a [String],
    required: &'a [String],
    dates: &'a [String],
    fresh_within: Option<String>,
    /// The inputs a review of this kind must consider (only kinds that have them).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    inputs: &'a [JsonInput],
}

#[derive(Serialize)]
struct JsonDocument<'a> {
    id: &'a str,
    title: &'a str,
    clauses: &'a [String],
    approver_role: Option<&'a str>,
}

pub fn render(catalog: &Catalog, format: Format, kinds: bool, documents: bool) -> String {
    let mut out = match format {
        Format::Json if kinds => serde_json::to_string_pretty(
            &catalog
                .record_kinds
                .iter()
                .map(|k| JsonKind {
                    id: &k.id,
                    title: &k.title,
                    clauses: &k.clauses,
                    required: &k.required,
                    dates: &k.dates,
                    fresh_within: k.fresh_within.map(|i| i.to_string()),
                    inputs: &k.inputs,
                })
                .collect::<Vec<_>>(),
        ),
        Format::Json if documents => serde_json::to_string_pretty(
            &catalog
                .documents
                .iter()
                .map(|d| JsonDocument {
                    id: &d.id,
                    title: &d.title,
                    clauses: &d.clauses,
                    approver_role: d.approver_role.as_deref(),
                })
                .collect::<Vec<_>>(),
        ),
        Format::Json => serde_json::to_string_pretty(
            &catalog
                .clauses
                .iter()
                .map(|c| JsonClause {
                    id: &c.id,
                    title: &c.title,
                    parent: c.parent.as_deref(),
                    summary: &c.summary,
                    evidence: c.evidence.as_str(),
                    expand: c.expand,
                    excludable: c.excludable,
                    documents: &c.documents,
                    records: &c.records,
                })
                .collect::<Vec<_>>(),
        ),
        Format::Human => Ok(human(catalog, kinds, documents)),
    }
    .unwrap_or_default();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn human(catalog: &Catalog, kinds: bool, documents: bool) -> String {
    let mut s = String::new();
    if kinds {
        s.push_str(&format!("Record kinds of {}\n\n", catalog.id));
        for k in &catalog.record_kinds {
            s.push_str(&format!("{} — {}\n", k.id, k.title));
            s.push_str(&format!("    clauses:  {}\n", k.clauses.join(", ")));
            s.push_str(&format!(
                "    required: id, kind, date, title{}\n",
                k.required
                    .iter()
                    .map(|r| format!(", {r}"))
                    .collect::<String>()
            ));
            if let Some(f) = k.fresh_within {
                s.push_str(&format!("    fresh:    newest record at most {f} old\n"));
            }
            if !k.inputs.is_empty() {
                s.push_str("    inputs:   (each record answers them under `inputs:`)\n");
                for i in &k.inputs {
                    s.push_str(&format!("      {:<26} {}\n", i.id, i.summary));
                }
            }
        }
        return s;
    }
    if documents {
        s.push_str(&format!(
            "Named documents of {} (satisfied by `provides: [id]`)\n\n",
            catalog.id
        ));
        for d in &catalog.documents {
            let role = d
                .approver_role
                .as_deref()
                .map(|r| format!("  (approver: {r})"))
                .unwrap_or_default();
            s.push_str(&format!(
                "{:<30} {} — clauses {}{role}\n",
                d.id,
                d.title,
                d.clauses.join(", ")
            ));
        }
        return s;
    }
    s.push_str(&format!("{}\n\n", catalog.title));
    for c in &catalog.clauses {
        let indent = "  ".repeat(c.depth());
        let mut needs = Vec::new();
        if !c.documents.is_empty() {
            needs.push(format!("documents: {}", c.documents.join(", ")));
        }
        if !c.records.is_empty() {
            needs.push(format!("records: {}", c.records.join(", ")));
        }
        let needs = if needs.is_empty() {
            String::new()
        } else {
            format!("  [{}]", needs.join("; "))
        };
        s.push_str(&format!("{indent}{} {}{needs}\n", c.id, c.title));
        if !c.summary.is_empty() {
            s.push_str(&format!("{indent}    {}\n", c.summary));
        }
    }
    s
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    clause: &'a str,
    framework: &'a str,
    related: &'a str,
    relation: &'static str,
    shared: &'a [String],
    note: Option<&'a str>,
    mapping: &'a str,
}

/// `auditbook clauses --mappings`: for each clause of `catalog`, the clauses of other frameworks
/// that `mappings` relate to it, read from this catalogue's side.
pub fn render_mappings(catalog: &Catalog, mappings: &[Mapping], format: Format) -> String {
    let rows: Vec<(&str, Vec<mapping::Related<'_>>)> = catalog
        .clauses
        .iter()
        .map(|c| {
            (
                c.id.as_str(),
                mapping::related(mappings, &catalog.id, &c.id),
            )
        })
        .filter(|(_, r)| !r.is_empty())
        .collect();
    let mut out = match format {
        Format::Json => serde_json::to_string_pretty(
            &rows
                .iter()
                .flat_map(|(clause, related)| {
                    related.iter().map(move |r| JsonRelated {
                        clause,
                        framework: r.framework,
                        related: r.clause,
                        relation: r.relation.as_str(),
                        shared: r.shared,
                        note: r.note,
                        mapping: r.mapping,
                    })
                })
                .collect::<Vec<_>>(),
        )
        .unwrap_or_default(),
        Format::Human => {
            let mut s = format!(
                "Mappings of {} (information only: citing a clause never covers the clauses mapped to it)\n\n",
                catalog.id
            );
            for (clause, related) in &rows {
                let title = catalog.clause(clause).map_or("", |c| c.title.as_str());
                s.push_str(&format!("{clause} {title}\n"));
                for r in related {
                    let shared = if r.shared.is_empty() {
                        String::new()
                    } else {
                        format!("  shared: {}", r.shared.join(", "))
                    };
                    s.push_str(&format!(
                        "    {:<11} {} {}{shared}\n",
                        r.relation.as_str(),
                        r.framework,
                        r.clause
                    ));
                }
            }
            s
        }
    };
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}
