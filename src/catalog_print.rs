//! `auditbook clauses`: the catalogue as a tree for people, or as JSON.

use crate::catalog::Catalog;
use crate::report::Format;
use serde::Serialize;

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
