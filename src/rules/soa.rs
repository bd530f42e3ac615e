//! Rules over the Statement of Applicability ([`crate::soa`]), run when ISO/IEC 27001:2022 is
//! among the frameworks: the SoA exists and counts (approved), every Annex A control has one entry,
//! an exclusion is justified and names an Annex A control (never clauses 4-10), an applicable
//! control names what implements it (known document or record ids), and sms.yaml `applicability`
//! does not say another party operates a control the SoA excludes.

use crate::config::FILE_NAME;
use crate::diag::Diagnostic;
use crate::model::{is_effective, Model};
use crate::soa;
use crate::yaml::Pos;

/// How many unknown `implemented_by` ids get a did-you-mean.
const SUGGESTIONS: usize = 20;

pub(super) fn check(model: &Model<'_>, out: &mut Vec<Diagnostic>) {
    let catalog = model.catalog;
    let Some(fi) = soa::framework(catalog) else {
        return;
    };
    let provides = soa::provides_id(fi);
    let Some(s) = &model.soa else {
        out.push(
            Diagnostic::new(
                "soa-missing",
                format!("sms#{}", soa::NAMED_DOCUMENT),
                format!(
                    "{} is among the frameworks, but no document provides the Statement of Applicability",
                    soa::FRAMEWORK
                ),
            )
            .at(FILE_NAME, Pos::new(1, 1))
            .help(format!(
                "add an approved document with `provides: [{provides}]` and a `controls:` table of the 93 Annex A controls (`auditbook init` writes a template)"
            )),
        );
        return;
    };
    let doc = &model.sources.documents[s.document];
    out.extend(s.shape.iter().cloned());
    for &o in &s.others {
        let other = &model.sources.documents[o];
        out.push(
            Diagnostic::new(
                "soa-invalid",
                format!("{}#provides", other.id),
                format!(
                    "`{}` also provides the Statement of Applicability; only `{}` ({}) is read",
                    other.id, doc.id, doc.path
                ),
            )
            .at(&other.path, other.id_pos)
            .help("keep one Statement of Applicability: remove `provides` from the other document or retire it"),
        );
    }
    let counts = is_effective(doc) || model.in_progress.contains_key(&s.document);
    if !counts {
        out.push(
            Diagnostic::new(
                "soa-not-approved",
                doc.id.clone(),
                format!(
                    "the Statement of Applicability `{}` is {}: its exclusions do not count and every Annex A control needs evidence",
                    doc.id,
                    doc.status.as_str()
                ),
            )
            .at(&doc.path, doc.status_pos)
            .help("have the SoA approved (status, version, approver, approval date) like any policy"),
        );
    }
    if doc.controls.is_none() {
        out.push(
            Diagnostic::new(
                "soa-invalid",
                format!("{}#controls", doc.id),
                format!(
                    "the Statement of Applicability `{}` has no `controls:` table in its frontmatter",
                    doc.id
                ),
            )
            .at(&doc.path, doc.id_pos)
            .help("add `controls:` with one entry per Annex A control: control, applicable, justification, status, implemented_by"),
        );
    }
    // Every Annex A control has an entry.
    let mut missing: Vec<&str> = Vec::new();
    for (ci, c) in soa::controls(catalog, fi) {
        if s.entry_for(ci).is_none() {
            missing.push(catalog.local_id(c));
            out.push(
                Diagnostic::new(
                    "soa-control-missing",
                    format!("{}#{}", doc.id, catalog.local_id(c)),
                    format!(
                        "the Statement of Applicability has no entry for control {} {}",
                        catalog.local_id(c),
                        c.title
                    ),
                )
                .at(&doc.path, s.pos)
                .help("add an entry: `- control: …` with `applicable: yes` and what implements it, or `applicable: no` and why not"),
            );
        }
    }
    // did-you-mean costs a pass over every id: offer it for the first few unknown ids only, so
    // that a table of many bad ids over a large SMS stays linear.
    let mut suggestions_left = SUGGESTIONS;
    for e in &s.entries {
        let Some(ci) = e.clause else { continue };
        if s.by_clause
            .get(&ci)
            .is_some_and(|&first| !std::ptr::eq(&s.entries[first], e))
        {
            continue; // a second entry: already a soa-invalid finding
        }
        let cl = &catalog.clauses[ci];
        let local = catalog.local_id(cl);
        let subject = format!("{}#{local}", doc.id);
        match e.applicable {
            Some(false) => {
                if !cl.excludable {
                    out.push(
                        Diagnostic::new(
                            "soa-exclusion-not-allowed",
                            subject.clone(),
                            format!(
                                "the Statement of Applicability excludes {local} {}, which {} does not allow to be excluded (only Annex A controls may be)",
                                cl.title,
                                soa::FRAMEWORK
                            ),
                        )
                        .at(&doc.path, e.applicable_pos)
                        .help("clauses 4 to 10 always apply: remove the entry, or list only Annex A controls"),
                    );
                } else if !e.has_justification() {
                    out.push(
                        Diagnostic::new(
                            "soa-justification-missing",
                            subject.clone(),
                            format!(
                                "the Statement of Applicability excludes {local} {} without a justification; the exclusion does not count",
                                cl.title
                            ),
                        )
                        .at(&doc.path, e.applicable_pos)
                        .help("add `justification:` saying why the control is not needed (no such asset, activity or risk)"),
                    );
                }
                if let Some(a) = model
                    .config
                    .applicability
                    .iter()
                    .find(|a| catalog.clause_index(&a.clause) == Some(ci))
                {
                    out.push(
                        Diagnostic::new(
                            "soa-applicability-conflict",
                            subject.clone(),
                            format!(
                                "sms.yaml says {} operates {local}, but the Statement of Applicability excludes it ({}:{}); the SoA decides",
                                a.party, doc.path, e.applicable_pos.line
                            ),
                        )
                        .at(FILE_NAME, a.pos)
                        .help("a control another party operates applies: mark it `applicable: yes` in the SoA (implemented by the agreement), or remove the applicability entry"),
                    );
                }
            }
            Some(true) => {
                if e.implemented_by.is_empty() {
                    out.push(
                        Diagnostic::new(
                            "soa-implementation-missing",
                            subject.clone(),
                            format!(
                                "control {local} {} is applicable, but the Statement of Applicability names nothing that implements it",
                                cl.title
                            ),
                        )
                        .at(&doc.path, e.pos)
                        .help("list the documents or records that implement it under `implemented_by:` (for a planned control, the treatment plan)"),
                    );
                }
                for t in &e.implemented_by {
                    if model.document(&t.text).is_none() && model.record(&t.text).is_none() {
                        let near = (suggestions_left > 0)
                            .then(|| {
                                suggestions_left -= 1;
                                crate::ids::closest(
                                    &t.text,
                                    model
                                        .sources
                                        .documents
                                        .iter()
                                        .map(|d| d.id.as_str())
                                        .chain(model.sources.records.iter().map(|r| r.id.as_str())),
                                    2,
                                )
                            })
                            .flatten();
                        let mut d = Diagnostic::new(
                            "soa-implementation-unknown",
                            format!("{subject}#{}", t.text),
                            format!(
                                "control {local}: `implemented_by` names `{}`, which is no document or record id",
                                t.text
                            ),
                        )
                        .at(&doc.path, t.pos);
                        if let Some(n) = near {
                            d = d.help(format!("did you mean `{n}`?"));
                        }
                        out.push(d);
                    }
                }
            }
            None => {}
        }
    }
}
