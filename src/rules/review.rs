//! Rules over review inputs ([`crate::review`]): a review record of a kind with catalogue `inputs`
//! answers each of them (`review-input-missing`), names only inputs the kind knows
//! (`review-input-unknown`, with a did-you-mean), and its input `refs` resolve (`broken-ref`).
//! A review that is only `planned` need not answer them yet; what it writes is still checked.

use crate::catalog::RecordKind;
use crate::diag::Diagnostic;
use crate::model::Model;
use crate::review;
use crate::source::Record;

pub(super) fn check(model: &Model<'_>, kind: &RecordKind, rec: &Record, out: &mut Vec<Diagnostic>) {
    if !review::applies(kind) {
        return;
    }
    let path = &*rec.path;
    let inputs = review::read_inputs(rec, out);
    review::read_period(rec, out);
    let ids = || kind.inputs.iter().map(|i| i.id.as_str());
    for g in &inputs.given {
        if kind.inputs.iter().any(|i| i.id == g.id) {
            continue;
        }
        let help = match crate::ids::closest(&g.id, ids(), 3) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!(
                "a {} record answers these inputs: {}",
                kind.id,
                ids().collect::<Vec<_>>().join(", ")
            ),
        };
        out.push(
            Diagnostic::new(
                "review-input-unknown",
                format!("{}#{}", rec.id, g.id),
                format!("`{}` is not an input of a {} record", g.id, kind.id),
            )
            .at(path, g.pos)
            .help(help),
        );
    }
    let answered = |id: &str| inputs.get(id).is_some_and(review::Given::is_answered);
    if review::is_planned(rec) {
        // Nothing considered yet: no missing inputs.
    } else if inputs.given.is_empty() {
        // No `inputs`, or only the older list of notes: one finding for the record.
        let why = if inputs.notes.is_empty() {
            format!("{} records none of the inputs", rec.id)
        } else {
            format!(
                "{}'s `inputs` is a list of notes that names no input",
                rec.id
            )
        };
        out.push(
            Diagnostic::new(
                "review-input-missing",
                format!("{}#{}", rec.id, review::INPUTS),
                format!(
                    "{why} a {} must consider: {}",
                    kind.id,
                    ids().collect::<Vec<_>>().join(", ")
                ),
            )
            .at(path, rec.pos)
            .help(format!(
                "write `inputs:` as a mapping with one entry per input, e.g. `{}: {{summary: \"...\", refs: [ID]}}`; `auditbook clauses --kinds` lists what each covers",
                kind.inputs[0].id
            )),
        );
    } else {
        for input in kind.inputs.iter().filter(|i| !answered(&i.id)) {
            let what = if inputs.get(&input.id).is_some() {
                "gives no summary or refs for"
            } else {
                "does not record"
            };
            out.push(
                Diagnostic::new(
                    "review-input-missing",
                    format!("{}#{}", rec.id, input.id),
                    format!(
                        "{} {what} the input `{}` — {}{}",
                        rec.id,
                        input.id,
                        input.title,
                        if input.summary.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", input.summary)
                        }
                    ),
                )
                .at(path, rec.pos)
                .help(format!(
                    "add `{}:` under `inputs:` with a summary and `refs` to its evidence; when there was nothing to consider, say so in the summary",
                    input.id
                )),
            );
        }
    }
    // Input refs are checked like `refs` (an id in both is reported once, by `refs`).
    let mut seen: std::collections::HashSet<String> =
        rec.refs.iter().map(|t| crate::ids::key(&t.text)).collect();
    for t in inputs.given.iter().flat_map(|g| &g.refs) {
        if !seen.insert(crate::ids::key(&t.text)) {
            continue;
        }
        if model.record(&t.text).is_none() && model.document(&t.text).is_none() {
            out.push(
                Diagnostic::new(
                    "broken-ref",
                    format!("{}->{}", rec.id, t.text),
                    format!(
                        "`inputs` names `{}`, which is no record or document",
                        t.text
                    ),
                )
                .at(path, t.pos),
            );
        }
    }
}
