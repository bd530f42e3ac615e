//! The history rules (DESIGN "Semantics", History): document control over the revisions of each
//! document, and the integrity of records as evidence. They run only on a complete history (not in
//! a shallow clone, not outside git). The work-tree copy of a document counts as one more, pending
//! revision when its controlled content differs from the last commit.

use super::{content_hashes, ApprovalTrailers, Commit, History, RecordEvent, State};
use crate::config::{ApprovalLevel, VersionScheme};
use crate::dates::{Interval, Unit};
use crate::diag::Diagnostic;
use crate::model::Model;
use crate::source::{compare_versions, Document, Status};
use crate::yaml::Pos;
use jiff::civil::Date;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Approval dates may differ from commit dates by this much (time zones, a late push).
const DATE_TOLERANCE_DAYS: i64 = 1;
/// Back-dating tolerance when neither sms.yaml nor the catalogue gives one.
const DEFAULT_BACKDATING: Interval = Interval {
    count: 30,
    unit: Unit::Days,
};

pub fn check(history: &History, model: &Model<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if history.state != State::Complete {
        return out;
    }
    // Per document on all cores (one vector per chunk), joined in document order.
    use rayon::prelude::*;
    let parts: Vec<Vec<Diagnostic>> = model
        .sources
        .documents
        .par_iter()
        .with_min_len(16)
        .fold(Vec::new, |mut out, doc| {
            document_rules(history, model, doc, &mut out);
            out
        })
        .collect();
    out.extend(parts.into_iter().flatten());
    record_rules(history, model, &mut out);
    signature_rules(history, model, &mut out);
    out
}

/// Signatures that fail: a bad signature on any commit of the walk (or on a tag on one) is an
/// error, whatever it signs; an unknown, expired or unverifiable one matters only where it could
/// be approval evidence — on a commit that lands an approved revision, or a tag on it.
fn signature_rules(history: &History, model: &Model<'_>, out: &mut Vec<Diagnostic>) {
    // Where each commit shows: the first work-tree document it changed (path order), and
    // whether it landed an approved revision of any document.
    let mut place: BTreeMap<usize, (&str, Pos)> = BTreeMap::new();
    let mut approving: std::collections::BTreeSet<usize> = Default::default();
    for doc in &model.sources.documents {
        let Some(h) = history.document(&doc.id) else {
            continue;
        };
        for r in &h.revisions {
            place
                .entry(r.commit)
                .or_insert((doc.path.as_str(), doc.id_pos));
        }
    }
    for h in history.documents.values() {
        for r in h.revisions.iter().filter(|r| r.is_approved()) {
            approving.insert(r.commit);
        }
    }
    let sms = (crate::config::FILE_NAME, Pos::new(1, 1));
    for (i, c) in history.commits.iter().enumerate() {
        let (path, pos) = place.get(&i).copied().unwrap_or(sms);
        let evidence = approving.contains(&i);
        let what = format!("commit {} ({} on {})", c.short(), c.author_name, c.date);
        if let Some(s) = &c.signature {
            if let Some(d) = signature_finding(s, &c.id, &what, evidence) {
                out.push(d.at(path, pos));
            }
        }
        for t in history.tags.get(&c.id).into_iter().flatten() {
            let what = format!("tag `{}` on commit {}", t.name, c.short());
            if let Some(d) =
                signature_finding(&t.signature, &format!("tag:{}", t.name), &what, evidence)
            {
                out.push(d.at(path, pos));
            }
        }
    }
}

fn signature_finding(
    s: &super::Signature,
    subject: &str,
    what: &str,
    evidence: bool,
) -> Option<Diagnostic> {
    use super::Signature;
    let (code, message) = match s {
        Signature::Good { .. } => return None,
        Signature::Bad { detail } => (
            "signature-bad",
            format!("the signature of {what} is bad: {detail}"),
        ),
        Signature::UnknownKey { fingerprint } if evidence => (
            "signature-unknown-key",
            format!(
                "{what} is signed by a key that is not trusted ({fingerprint}): list it under the signer's `people[].keys` in sms.yaml, or in the `signatures.allowed_signers` file, if it is theirs"
            ),
        ),
        Signature::Expired {
            signer,
            fingerprint,
            detail,
            ..
        } if evidence => (
            "signature-key-expired",
            format!(
                "{what} is signed by {signer} ({fingerprint}), but not while the key was valid: {detail}"
            ),
        ),
        Signature::Unverifiable { detail } if evidence => (
            "signature-unverifiable",
            format!("the signature of {what} cannot be verified: {detail}"),
        ),
        Signature::UnknownKey { .. } | Signature::Expired { .. } | Signature::Unverifiable { .. } => {
            return None
        }
    };
    Some(Diagnostic::new(code, subject.to_string(), message))
}

/// One revision of a document as the rules see it; `commit` is `None` for the work tree.
struct Rev<'a> {
    commit: Option<&'a Commit>,
    approved_status: bool,
    version: Option<&'a str>,
    approved: Option<Date>,
    approver: Option<&'a str>,
    controlled: &'a str,
    text: &'a str,
}

fn same_version(scheme: VersionScheme, a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => match compare_versions(scheme, a, b) {
            Some(o) => o == Ordering::Equal,
            None => a == b,
        },
        (None, None) => true,
        _ => false,
    }
}

fn when(c: Option<&Commit>) -> String {
    match c {
        Some(c) => format!("{} on {} by {}", c.short(), c.date, c.author_name),
        None => "the work tree (uncommitted)".to_string(),
    }
}

fn days_between(from: Date, to: Date) -> i64 {
    from.until(to).map(|s| i64::from(s.get_days())).unwrap_or(0)
}

fn document_rules(history: &History, model: &Model<'_>, doc: &Document, out: &mut Vec<Diagnostic>) {
    let Some(h) = history.document(&doc.id) else {
        return;
    };
    let scheme = model.config.version_scheme;
    let mut seq: Vec<Rev<'_>> = h
        .revisions
        .iter()
        .filter(|r| !r.deleted)
        .map(|r| Rev {
            commit: history.commits.get(r.commit),
            approved_status: r.status == Some(Status::Approved),
            version: r.version.as_deref(),
            approved: r.approved,
            approver: r.approver.as_deref(),
            controlled: &r.controlled,
            text: &r.text,
        })
        .collect();
    let (wc, wt) = content_hashes(doc);
    if seq.last().is_none_or(|l| l.controlled != wc) {
        seq.push(Rev {
            commit: None,
            approved_status: doc.status == Status::Approved,
            version: doc.version.as_ref().map(|v| v.text.as_str()),
            approved: doc.approved,
            approver: doc.approver.as_ref().map(|a| a.text.as_str()),
            controlled: &wc,
            text: &wt,
        });
    }
    let Some(e) = seq.iter().rposition(|r| r.approved_status) else {
        return;
    };
    let mut l = e;
    while l > 0
        && seq[l - 1].approved_status
        && same_version(scheme, seq[l - 1].version, seq[e].version)
    {
        l -= 1;
    }
    let landing = &seq[l];
    let version = landing.version.unwrap_or("?");
    let path = doc.path.as_str();
    let version_pos = doc.version.as_ref().map_or(doc.id_pos, |v| v.pos);

    // changed-after-approval: within the run that holds the effective version.
    let changed: Vec<&Rev<'_>> = seq[l + 1..=e]
        .iter()
        .filter(|r| r.controlled != landing.controlled)
        .collect();
    if let Some(first) = changed.first() {
        let more = if changed.len() > 1 {
            format!(
                " (and {} more change{})",
                changed.len() - 1,
                if changed.len() == 2 { "" } else { "s" }
            )
        } else {
            String::new()
        };
        out.push(
            Diagnostic::new(
                "changed-after-approval",
                doc.id.clone(),
                format!(
                    "{} version {version} was approved{} and landed in {}; its controlled content changed again in {}{more} without a new version",
                    doc.id,
                    landing.approved.map(|a| format!(" on {a}")).unwrap_or_default(),
                    when(landing.commit),
                    when(first.commit),
                ),
            )
            .at(path, version_pos),
        );
    }

    // version-regressed: the effective version against every earlier approved revision.
    let earlier: Vec<&Rev<'_>> = seq[..l].iter().filter(|r| r.approved_status).collect();
    if let Some(v) = landing.version {
        let highest = earlier
            .iter()
            .filter_map(|r| r.version.map(|x| (x, *r)))
            .filter(|(x, _)| compare_versions(scheme, v, x) == Some(Ordering::Less))
            .max_by(|a, b| compare_versions(scheme, a.0, b.0).unwrap_or(Ordering::Equal));
        if let Some((hv, hr)) = highest {
            out.push(
                Diagnostic::new(
                    "version-regressed",
                    doc.id.clone(),
                    format!(
                        "{} version {v} is lower than version {hv}, approved earlier in {}",
                        doc.id,
                        when(hr.commit)
                    ),
                )
                .at(path, version_pos),
            );
        } else if let Some(r) = earlier
            .iter()
            .rev()
            .find(|r| same_version(scheme, r.version, Some(v)) && r.text != landing.text)
        {
            out.push(
                Diagnostic::new(
                    "version-regressed",
                    doc.id.clone(),
                    format!(
                        "{} version {v} was approved before, in {}, with different content: the version repeats",
                        doc.id,
                        when(r.commit)
                    ),
                )
                .at(path, version_pos),
            );
        }
    }

    let Some(landed) = landing.commit else {
        return; // a new approval not committed yet: dates are checked once it lands
    };
    let approved_pos = if doc.approved == landing.approved {
        doc.approved_pos
    } else {
        version_pos
    };
    if let (Some(a), false) = (landing.approved, landed.imported) {
        if days_between(landed.date, a) > DATE_TOLERANCE_DAYS {
            out.push(
                Diagnostic::new(
                    "approval-postdates-landing",
                    doc.id.clone(),
                    format!(
                        "{} version {version} says approved {a}, but it landed earlier, in {}",
                        doc.id,
                        when(Some(landed))
                    ),
                )
                .at(path, approved_pos),
            );
        }
        // The first commit of the unbroken run of revisions holding the approved text.
        let mut t = l;
        while t > 0 && seq[t - 1].commit.is_some() && seq[t - 1].text == landing.text {
            t -= 1;
        }
        if let Some(first) = seq[t].commit.filter(|c| !c.imported) {
            if days_between(a, first.date) > DATE_TOLERANCE_DAYS {
                out.push(
                    Diagnostic::new(
                        "approval-predates-text",
                        doc.id.clone(),
                        format!(
                            "{} version {version} says approved {a}, but its text first appears in {}: the approval predates the text",
                            doc.id,
                            when(Some(first))
                        ),
                    )
                    .at(path, approved_pos),
                );
            }
        }
    }

    if landed.imported {
        return;
    }
    // approval-not-corroborated: the evidence is weaker than `approval.require` asks for.
    let required = model.config.approval.required(doc.doc_type.as_deref());
    let evidence = history.evidence(landed, landing.approver, model.config);
    if evidence.level < required {
        let pos = match (&doc.approver, landing.approver) {
            (Some(a), Some(l)) if a.text == l => a.pos,
            _ => version_pos,
        };
        let how = match required {
            ApprovalLevel::Signed => "sign the landing commit (or an annotated tag on it) with the approver's key listed in sms.yaml",
            ApprovalLevel::Trailer | ApprovalLevel::Claimed => "let someone other than the authors land it with an `Approved-by:` trailer (or sign it with the approver's key)",
        };
        out.push(
            Diagnostic::new(
                "approval-not-corroborated",
                doc.id.clone(),
                format!(
                    "{} version {version} needs approval evidence `{}` (sms.yaml `approval.require.{}`), but its landing {} gives only `{}`: {how}",
                    doc.id,
                    required.as_str(),
                    doc.doc_type.as_deref().unwrap_or("?"),
                    when(Some(landed)),
                    evidence.level.as_str(),
                ),
            )
            .at(path, pos),
        );
    }
    // approval-trailer-by-author: the landing's approval trailers were written by an author of
    // the changes they approve, so they corroborate nothing.
    if landed.approval_trailers == ApprovalTrailers::ByAuthor {
        let pos = match (&doc.approver, landing.approver) {
            (Some(a), Some(l)) if a.text == l => a.pos,
            _ => version_pos,
        };
        out.push(
            Diagnostic::new(
                "approval-trailer-by-author",
                doc.id.clone(),
                format!(
                    "{} version {version} landed in {} with an approval trailer written by an author of the changes it approves: the approval is claimed, not corroborated",
                    doc.id,
                    when(Some(landed))
                ),
            )
            .at(path, pos),
        );
    }
    // self-approval: the approver among the authors since the previous approved version.
    let Some(approver) = landing.approver else {
        return;
    };
    let Some(person) = model
        .config
        .person(approver)
        .filter(|p| !p.emails.is_empty())
    else {
        return;
    };
    let start = seq[..l]
        .iter()
        .rposition(|r| r.approved_status && !same_version(scheme, r.version, landing.version))
        .map_or(0, |p| p + 1);
    let authored = seq[start..=l]
        .iter()
        .filter_map(|r| r.commit)
        .find(|c| c.contributors.iter().any(|e| person.emails.contains(e)));
    if let Some(c) = authored {
        let pos = match &doc.approver {
            Some(a) if a.text == approver => a.pos,
            _ => version_pos,
        };
        out.push(
            Diagnostic::new(
                "self-approval",
                doc.id.clone(),
                format!(
                    "{} version {version} is approved by {} ({}), who also authored changes to it: {}",
                    doc.id,
                    person.id,
                    person.name,
                    when(Some(c))
                ),
            )
            .at(path, pos),
        );
    }
}

/// A back-dated record: id, kind, date, days between its date and its first commit, tolerance.
type Backdated<'a> = (&'a str, &'a str, Date, i64, Interval);

fn record_rules(history: &History, model: &Model<'_>, out: &mut Vec<Diagnostic>) {
    let config = model.config;
    // record-backdated, grouped by the commit that added the records.
    let mut by_commit: BTreeMap<usize, Vec<Backdated<'_>>> = BTreeMap::new();
    for r in history.records.values() {
        let (None, Some(date), Some(c)) = (r.deleted, r.date, history.commits.get(r.first)) else {
            continue;
        };
        if c.imported {
            continue;
        }
        let tolerance = config
            .history
            .backdating_tolerance
            .or_else(|| {
                model
                    .catalog
                    .record_kind(&r.kind)
                    .and_then(|k| k.backdating_tolerance)
            })
            .unwrap_or(DEFAULT_BACKDATING);
        if tolerance.after(date) < c.date {
            by_commit.entry(r.first).or_default().push((
                &r.id,
                &r.kind,
                date,
                days_between(date, c.date),
                tolerance,
            ));
        }
    }
    for (ci, mut group) in by_commit {
        let c = &history.commits[ci];
        group.sort_by_key(|g| crate::ids::key(g.0));
        let located = group.iter().find_map(|g| model.record(g.0));
        let (id, kind, date, days, tolerance) = group[0];
        let (subject, message) = if group.len() == 1 {
            (
                id.to_string(),
                format!(
                    "{id} ({kind}) is dated {date} but was first committed {days} days later, in {} (tolerance {tolerance})",
                    when(Some(c))
                ),
            )
        } else {
            let max = group.iter().map(|g| g.3).max().unwrap_or(days);
            let names: Vec<&str> = group.iter().take(5).map(|g| g.0).collect();
            let more = if group.len() > names.len() {
                format!(" and {} more", group.len() - names.len())
            } else {
                String::new()
            };
            (
                format!("commit:{}", c.id),
                format!(
                    "{} records first committed in {} are dated up to {max} days earlier, beyond their kind's tolerance: {}{more}",
                    group.len(),
                    when(Some(c)),
                    names.join(", ")
                ),
            )
        };
        let mut d = Diagnostic::new("record-backdated", subject, message);
        d = match located {
            Some(rec) => d.at(&rec.path, rec.date_pos),
            None => d.at(crate::config::FILE_NAME, Pos::new(1, 1)),
        };
        out.push(d);
    }

    for r in history.records.values() {
        // record-rewritten
        if r.deleted.is_none() {
            let rewrites: Vec<_> = r
                .changes
                .iter()
                .filter(|ch| {
                    matches!(
                        ch.event,
                        RecordEvent::IdChanged { .. }
                            | RecordEvent::DateChanged { .. }
                            | RecordEvent::KindChanged { .. }
                    )
                })
                .collect();
            if let (Some(first), Some(rec)) = (rewrites.first(), model.record(&r.id)) {
                let c = history.commits.get(first.commit);
                let (what, pos) = match &first.event {
                    RecordEvent::IdChanged { from, to } => (
                        format!("its id was changed from {from} to {to}"),
                        rec.id_pos,
                    ),
                    RecordEvent::DateChanged { from, to } => (
                        format!(
                            "its date was changed from {} to {}",
                            from.map_or("none".to_string(), |d| d.to_string()),
                            to.map_or("none".to_string(), |d| d.to_string())
                        ),
                        rec.date_pos,
                    ),
                    RecordEvent::KindChanged { from, to } => (
                        format!("its kind was changed from {from} to {to}"),
                        rec.kind_pos,
                    ),
                    RecordEvent::Edited
                    | RecordEvent::Moved { .. }
                    | RecordEvent::Deleted
                    | RecordEvent::Restored => continue,
                };
                let more = if rewrites.len() > 1 {
                    format!(
                        " (and {} more such change{})",
                        rewrites.len() - 1,
                        if rewrites.len() == 2 { "" } else { "s" }
                    )
                } else {
                    String::new()
                };
                out.push(
                    Diagnostic::new(
                        "record-rewritten",
                        rec.id.clone(),
                        format!(
                            "{}: {what} in {}, after it was first committed in {}{more}",
                            rec.id,
                            when(c),
                            when(history.commits.get(r.first))
                        ),
                    )
                    .at(&rec.path, pos),
                );
            }
        }
        // record-deleted: only before the kind's retention period has passed.
        let Some(ci) = r.deleted else { continue };
        if model.record(&r.id).is_some() {
            continue; // restored in the work tree
        }
        let Some(c) = history.commits.get(ci) else {
            continue;
        };
        let retention = model.catalog.record_kind(&r.kind).and_then(|k| k.retention);
        let why = match (retention, r.date) {
            (Some(ret), Some(d)) if ret.after(d) <= c.date => continue,
            (Some(ret), Some(d)) => {
                format!("before its retention of {ret} ended on {}", ret.after(d))
            }
            (Some(ret), None) => format!("and it has no date to start its retention of {ret} from"),
            (None, _) => format!("and kind `{}` declares no retention period", r.kind),
        };
        let mut d = Diagnostic::new(
            "record-deleted",
            r.id.clone(),
            format!(
                "{} ({}{}) was deleted in {}, {why}",
                r.id,
                r.kind,
                r.date.map(|d| format!(", dated {d}")).unwrap_or_default(),
                when(Some(c))
            ),
        );
        d = if model.files.get(&r.path).is_some() {
            d.at(&r.path, Pos::new(1, 1))
        } else {
            d.in_file(&r.path)
        };
        out.push(d);
    }
}
