//! Unfilled starter-kit placeholders and approvals by someone `people` does not know.
//!
//! `auditbook init` writes templates full of `{{FILL: …}}` markers. A template approved unchanged
//! would otherwise count as evidence: the marker is a finding (`unfilled-placeholder`, an error)
//! wherever it would reach an auditor as fact — the body or frontmatter of an approved or retired
//! document, any record, and the scope in sms.yaml. Drafts may hold markers: that is what a draft
//! is for. Once sms.yaml lists `people`, the owner and approver of an approved document should be
//! among them (`owner-not-a-person`, a warning): a role name such as "Quality Manager" left from
//! the template says nobody in particular approved it.

use crate::config::FILE_NAME;
use crate::diag::Diagnostic;
use crate::init::FILL_PLACEHOLDER;
use crate::model::{is_effective, Model};
use crate::source::{Document, Record};
use crate::yaml::Pos;

pub(super) fn check(model: &Model<'_>, out: &mut Vec<Diagnostic>) {
    let scope = &model.config.scope;
    if scope.contains(FILL_PLACEHOLDER) {
        out.push(
            Diagnostic::new(
                "unfilled-placeholder",
                "sms#scope",
                "the scope in sms.yaml still holds the starter kit's `{{FILL: …}}` placeholder",
            )
            .at(FILE_NAME, model.config.scope_pos)
            .help("write the scope statement: the services, customers, locations and teams the SMS covers"),
        );
    }
    for doc in &model.sources.documents {
        if is_effective(doc) {
            document(model, doc, out);
        }
    }
    for rec in &model.sources.records {
        record(rec, out);
    }
}

/// Line and column of the first marker in `text`, counted from `first_line`.
fn first_in(text: &str, first_line: u32) -> Option<(Pos, usize)> {
    let count = text.matches(FILL_PLACEHOLDER).count();
    let at = text.find(FILL_PLACEHOLDER)?;
    let before = &text[..at];
    let line = first_line + before.matches('\n').count() as u32;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
    Some((Pos::new(line, col), count))
}

fn document(model: &Model<'_>, doc: &Document, out: &mut Vec<Diagnostic>) {
    // Frontmatter first (it comes first in the file), then the body.
    let mut fields: Vec<(&str, &str, Pos)> = vec![("title", doc.title.as_str(), doc.id_pos)];
    if let Some(o) = &doc.owner {
        fields.push(("owner", o.as_str(), doc.id_pos));
    }
    if let Some(a) = &doc.approver {
        fields.push(("approver", a.text.as_str(), a.pos));
    }
    if let Some(v) = &doc.version {
        fields.push(("version", v.text.as_str(), v.pos));
    }
    for (k, v) in &doc.extra {
        fields.push((k.as_str(), v.as_str(), doc.id_pos));
    }
    let in_fields: Vec<&(&str, &str, Pos)> = fields
        .iter()
        .filter(|(_, v, _)| v.contains(FILL_PLACEHOLDER))
        .collect();
    let body = first_in(&doc.body, doc.body_line);
    let total = in_fields
        .iter()
        .map(|(_, v, _)| v.matches(FILL_PLACEHOLDER).count())
        .sum::<usize>()
        + body.map_or(0, |(_, n)| n);
    if total > 0 {
        let pos = match (in_fields.first(), body) {
            (Some((_, _, p)), _) => *p,
            (None, Some((p, _))) => p,
            (None, None) => doc.id_pos,
        };
        let plural = if total == 1 { "" } else { "s" };
        out.push(
            Diagnostic::new(
                "unfilled-placeholder",
                format!("{}#placeholder", doc.id),
                format!(
                    "{} is {} but still holds {total} starter-kit placeholder{plural} `{{{{FILL: …}}}}`",
                    doc.id,
                    doc.status.as_str()
                ),
            )
            .at(&doc.path, pos)
            .help("write out every `{{FILL: …}}` (braces included), then give the document a new version and approval date"),
        );
    }
    if model.config.people.is_empty() {
        return;
    }
    let known = |who: &str| model.config.person(who).is_some();
    let mut unknown: Vec<String> = Vec::new();
    if let Some(o) = doc.owner.as_deref().filter(|o| !known(o)) {
        unknown.push(format!("owner `{o}`"));
    }
    let mut pos = doc.id_pos;
    if let Some(a) = doc.approver.as_ref().filter(|a| !known(&a.text)) {
        unknown.push(format!("approver `{}`", a.text));
        pos = a.pos;
    }
    if !unknown.is_empty() {
        out.push(
            Diagnostic::new(
                "owner-not-a-person",
                format!("{}#people", doc.id),
                format!(
                    "{} is {}, but its {} {} in sms.yaml `people`",
                    doc.id,
                    doc.status.as_str(),
                    unknown.join(" and its "),
                    if unknown.len() == 1 {
                        "is not a person"
                    } else {
                        "are not people"
                    }
                ),
            )
            .at(&doc.path, pos)
            .help("name a person by their `people` id (or add them to `people` in sms.yaml)"),
        );
    }
}

fn record(rec: &Record, out: &mut Vec<Diagnostic>) {
    // Counted as the record's texts are walked (title first, then every field depth first):
    // no list of texts is made for each of a million rows.
    let mut hits = 0usize;
    let mut first: Option<Pos> = None;
    let mut see = |s: &str, pos: Pos| {
        if s.contains(FILL_PLACEHOLDER) {
            hits += 1;
            first.get_or_insert(pos);
        }
    };
    see(&rec.title, rec.pos);
    // Most rows hold no marker: one look at all of a row's text says so.
    if rec.fields.may_contain(FILL_PLACEHOLDER) {
        for (_, v) in rec.all_fields() {
            v.for_each_text(&mut see);
        }
    }
    let Some(pos) = first else {
        return;
    };
    out.push(
        Diagnostic::new(
            "unfilled-placeholder",
            format!("{}#placeholder", rec.id),
            format!(
                "record {} still holds a starter-kit placeholder `{{{{FILL: …}}}}` ({} field{})",
                rec.id,
                hits,
                if hits == 1 { "" } else { "s" }
            ),
        )
        .at(&rec.path, pos)
        .help("replace the placeholder with what happened, or remove the example record"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_marker_is_found_with_its_line_and_column() {
        let (pos, n) = first_in("a\nbé {{FILL: x}} {{FILL: y}}\n", 10).unwrap();
        assert_eq!((pos, n), (Pos::new(11, 4), 2));
        assert!(first_in("no marker {{ FILL", 1).is_none());
    }
}
