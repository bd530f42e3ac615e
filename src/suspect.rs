//! `suspect`: change impact between documents. A document declares in frontmatter `derives:
//! [POL-CHG]` the documents it is derived from (a procedure from its policy). When a parent gets
//! an approved version after the child was last approved or last reviewed with no change, the
//! link is *suspect*: the child may no longer say what its parent now says
//! (`derived-from-changed`, cleared by a new approved version of the child or a no-change
//! `document-review` record of it dated on or after the parent's change).
//!
//! Design choices (docs/format.md, "Derived documents"):
//! - Dates, not commit order, because review records carry dates only. A version's date is the
//!   committer date of the commit that landed it when the history is complete and holds that
//!   version, else its `approved` date (no git, a shallow clone, or a version not committed yet).
//!   A change on the same day as the child's approval or review does not make it suspect.
//! - Any approved version of the parent counts, its first one too: a child approved before its
//!   parent was (it was written against a draft) is suspect until it is looked at again.
//! - Only a review with outcome `no-change` clears the link; `revision-needed` says the child is
//!   known to be out of line, so the link stays suspect until its new version is approved.
//! - Only `derives` makes a link; `doc:` links in a body are references (shown as "Linked from"
//!   on the site) and never make a document suspect: every mention would raise a finding.
//! - A link is judged only when both documents have a version in force (approved, or a revision
//!   in progress whose approved version is in git): a draft child has nothing approved to go
//!   stale, and a draft or retired parent has no new version in force.
//! - A derives cycle (A from B, B from A) is allowed; each link is judged on its own.

use crate::diag::Diagnostic;
use crate::history::{History, State};
use crate::model::Model;
use crate::source::{Document, Status};
use crate::yaml::Pos;
use jiff::civil::Date;
use std::collections::{HashMap, HashSet};

/// The version of a document in force and its date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InForce {
    pub version: Option<String>,
    pub date: Date,
    /// `date` is the landing commit's date (else the frontmatter `approved` date).
    pub landed: bool,
}

/// Whether a derivation is in line with its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// The child was approved or reviewed on or after the parent's version in force.
    Current,
    /// The parent's version in force is newer than the child's last approval or review.
    Suspect,
    /// One of the two has no version in force: nothing to compare.
    NotJudged,
}

impl LinkState {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Current => "current",
            LinkState::Suspect => "suspect",
            LinkState::NotJudged => "not judged",
        }
    }
}

/// One `derives` entry that names another document.
#[derive(Debug, Clone)]
pub struct Derivation {
    /// The derived document (index into `Sources::documents`).
    pub child: usize,
    /// The document it derives from.
    pub parent: usize,
    /// Where the child's `derives` names the parent.
    pub pos: Pos,
    pub parent_version: Option<InForce>,
    pub child_version: Option<InForce>,
    /// The child's latest `document-review` with outcome no-change.
    pub reviewed: Option<Date>,
    /// A `document-review` of the child with outcome revision-needed dated on or after the
    /// parent's change (the latest), when the link is suspect.
    pub revision_needed: Option<Date>,
    pub state: LinkState,
}

impl Derivation {
    /// The date the child was last looked at: max(approval, no-change review).
    pub fn checked(&self) -> Option<Date> {
        let approved = self.child_version.as_ref().map(|v| v.date);
        match (approved, self.reviewed) {
            (Some(a), Some(r)) => Some(a.max(r)),
            (a, r) => a.or(r),
        }
    }
}

/// Every derivation of the SMS, in document order then `derives` order, and the findings about
/// `derives` entries that name no other document (`broken-derives`).
pub struct Links {
    pub derivations: Vec<Derivation>,
    pub broken: Vec<Diagnostic>,
    /// Document index -> indexes into `derivations` where it is the child, and the parent
    /// (document pages look them up; a scan per page would be quadratic in a large SMS).
    by_child: HashMap<usize, Vec<usize>>,
    by_parent: HashMap<usize, Vec<usize>>,
}

impl Links {
    pub fn suspect(&self) -> impl Iterator<Item = &Derivation> {
        self.derivations
            .iter()
            .filter(|d| d.state == LinkState::Suspect)
    }

    /// The derivations whose child is document `i`.
    pub fn of_child(&self, i: usize) -> impl Iterator<Item = &Derivation> {
        self.by_child
            .get(&i)
            .into_iter()
            .flatten()
            .map(|&k| &self.derivations[k])
    }

    /// The derivations whose parent is document `i`.
    pub fn of_parent(&self, i: usize) -> impl Iterator<Item = &Derivation> {
        self.by_parent
            .get(&i)
            .into_iter()
            .flatten()
            .map(|&k| &self.derivations[k])
    }
}

/// The version in force of document `i` and its date (see the module comment).
fn in_force(model: &Model<'_>, history: Option<&History>, i: usize) -> Option<InForce> {
    let doc = &model.sources.documents[i];
    let (version, approved) = match doc.status {
        Status::Approved => (doc.version.as_ref().map(|v| v.text.clone()), doc.approved),
        Status::Draft | Status::InReview => {
            let e = model.in_progress.get(&i)?;
            (e.version.clone(), e.approved)
        }
        Status::Retired => return None,
    };
    let landed = history
        .filter(|h| h.state == State::Complete)
        .and_then(|h| {
            let dh = h.document(&doc.id)?;
            let e = dh.effective()?;
            if dh.revisions[e].version != version {
                return None;
            }
            let l = dh.landing()?;
            h.commits.get(dh.revisions[l].commit).map(|c| c.date)
        });
    match landed {
        Some(date) => Some(InForce {
            version,
            date,
            landed: true,
        }),
        None => approved.map(|date| InForce {
            version,
            date,
            landed: false,
        }),
    }
}

/// The derivations of the SMS, judged with the history when it is complete.
pub fn links(model: &Model<'_>, history: Option<&History>) -> Links {
    let docs = &model.sources.documents;
    let mut derivations = Vec::new();
    let mut broken = Vec::new();
    let mut forces: Vec<Option<Option<InForce>>> = vec![None; docs.len()];
    let mut force = |i: usize| {
        forces[i]
            .get_or_insert_with(|| in_force(model, history, i))
            .clone()
    };
    for (i, d) in docs.iter().enumerate() {
        // A second document with the same id has no page and no fingerprint of its own.
        if d.derives.is_empty() || model.documents_by_id.get(&crate::ids::key(&d.id)) != Some(&i) {
            continue;
        }
        let mut seen = HashSet::new();
        for entry in &d.derives {
            let target = entry.text.as_str();
            let subject = format!("{}<-{target}", d.id);
            let Some(&p) = model.documents_by_id.get(&crate::ids::key(target)) else {
                broken.push(unknown(model, d, target, entry.pos, subject));
                continue;
            };
            if p == i {
                broken.push(
                    Diagnostic::new(
                        "broken-derives",
                        subject,
                        format!("{} lists itself in `derives`", d.id),
                    )
                    .at(&d.path, entry.pos)
                    .help("a document cannot derive from itself: remove its own id from `derives`"),
                );
                continue;
            }
            if !seen.insert(p) {
                broken.push(
                    Diagnostic::new(
                        "broken-derives",
                        subject,
                        format!("{} lists `{target}` twice in `derives`", d.id),
                    )
                    .at(&d.path, entry.pos)
                    .help("remove the second entry"),
                );
                continue;
            }
            let parent_version = force(p);
            let child_version = force(i);
            let own = &model.reviews[i];
            let reviewed = own.last_no_change;
            let mut link = Derivation {
                child: i,
                parent: p,
                pos: entry.pos,
                parent_version,
                child_version,
                reviewed,
                revision_needed: None,
                state: LinkState::NotJudged,
            };
            if let (Some(pv), Some(checked)) = (&link.parent_version, link.checked()) {
                if link.child_version.is_some() {
                    link.state = if pv.date > checked {
                        link.revision_needed =
                            own.last_revision_needed.filter(|&date| date >= pv.date);
                        LinkState::Suspect
                    } else {
                        LinkState::Current
                    };
                }
            }
            derivations.push(link);
        }
    }
    let mut by_child: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut by_parent: HashMap<usize, Vec<usize>> = HashMap::new();
    for (k, l) in derivations.iter().enumerate() {
        by_child.entry(l.child).or_default().push(k);
        by_parent.entry(l.parent).or_default().push(k);
    }
    Links {
        derivations,
        broken,
        by_child,
        by_parent,
    }
}

fn unknown(model: &Model<'_>, d: &Document, target: &str, pos: Pos, subject: String) -> Diagnostic {
    let (message, help) = if model.record(target).is_some() {
        (
            format!("`derives` of {} names `{target}`, which is a record, not a document", d.id),
            "a document derives only from documents: name the document, or list the record under a body link instead".to_string(),
        )
    } else {
        let near = crate::ids::closest(
            target,
            model.sources.documents.iter().map(|x| x.id.as_str()),
            2,
        );
        (
            format!(
                "`derives` of {} names `{target}`, which is no document of the SMS",
                d.id
            ),
            match near {
                Some(n) => {
                    format!("did you mean `{n}`? Correct the id, or remove it from `derives`")
                }
                None => "correct the document id, or remove it from `derives`".to_string(),
            },
        )
    };
    Diagnostic::new("broken-derives", subject, message)
        .at(&d.path, pos)
        .help(help)
}

fn describe(v: &InForce) -> String {
    let version = v
        .version
        .as_deref()
        .map(|v| format!("version {v}"))
        .unwrap_or_else(|| "an unnumbered version".to_string());
    let how = if v.landed { "landed" } else { "approved" };
    format!("{version} ({how} on {})", v.date)
}

/// `broken-derives` and `derived-from-changed` findings.
pub fn findings(model: &Model<'_>, history: Option<&History>) -> Vec<Diagnostic> {
    let links = links(model, history);
    let docs = &model.sources.documents;
    let mut out = links.broken.clone();
    for l in links.suspect() {
        let (d, p) = (&docs[l.child], &docs[l.parent]);
        let (Some(pv), Some(cv)) = (&l.parent_version, &l.child_version) else {
            continue;
        };
        let review = match l.reviewed {
            Some(r) => format!(", and its last no-change review on {r}"),
            None => String::new(),
        };
        let needed = match l.revision_needed {
            Some(r) => format!("; a review on {r} found that it needs revision"),
            None => String::new(),
        };
        out.push(
            Diagnostic::new(
                "derived-from-changed",
                format!("{}<-{}", d.id, p.id),
                format!(
                    "{} derives from {}, which changed to {} after {}'s last approval, of {}{review}{needed}",
                    d.id,
                    p.id,
                    describe(pv),
                    d.id,
                    describe(cv),
                ),
            )
            .at(&d.path, l.pos)
            .help(format!(
                "check {} against {} {}: approve a new version of {}, or record a `document-review` of {} with outcome no-change dated on or after {}",
                d.id,
                p.id,
                pv.version.as_deref().map(|v| format!("v{v}")).unwrap_or_default(),
                d.id,
                d.id,
                pv.date,
            )),
        );
    }
    out
}
