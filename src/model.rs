//! The linked graph: clauses <-> documents <-> records, with coverage per clause.
//!
//! Coverage has three parts, reported separately (DESIGN "Semantics"): *documented* (an effective
//! approved document cites the clause in frontmatter `clauses`, and every named document the clause
//! demands is provided), *evidenced* (the record kinds it demands exist and are fresh), and
//! *current* (no overdue review among its documents). Headings derive their status from their
//! children. Only frontmatter confers coverage; `clause:` links in a body are cross-references.

use crate::catalog::{Catalog, Evidence, DOCUMENT_REVIEW};
use crate::config::Config;
use crate::dates::Interval;
use crate::snapshot::Snapshot;
use crate::source::{Document, Record, Sources, Status};
use jiff::civil::Date;
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CoverageStatus {
    Covered,
    /// Covered, but a document's periodic review is overdue.
    CoveredReviewOverdue,
    Partial,
    Missing,
    /// An Annex A control the Statement of Applicability excludes, with a justification
    /// ([`crate::soa`]): it needs no evidence and is not counted among the requirement clauses.
    Excluded,
}

impl CoverageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageStatus::Covered => "covered",
            CoverageStatus::CoveredReviewOverdue => "covered-review-overdue",
            CoverageStatus::Partial => "partial",
            CoverageStatus::Missing => "missing",
            CoverageStatus::Excluded => "excluded",
        }
    }
    pub fn is_covered(self) -> bool {
        matches!(
            self,
            CoverageStatus::Covered
                | CoverageStatus::CoveredReviewOverdue
                | CoverageStatus::Excluded
        )
    }
}

/// A demanded record kind whose newest record is too old.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    /// The demanded kind.
    pub kind: String,
    pub newest: Date,
    pub within: Interval,
    /// For a kind held in another system (`external:`), the kind kept in git that stands for
    /// it and whose newest record `newest` is.
    pub via: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ClauseCoverage {
    pub clause: String,
    pub status: CoverageStatus,
    /// `None` when the clause does not need documents.
    pub documented: Option<bool>,
    /// `None` when the clause does not need records.
    pub evidenced: Option<bool>,
    pub current: bool,
    /// Effective approved documents that cover the clause (indexes into `Sources::documents`).
    pub documents: Vec<usize>,
    /// Documents that cite the clause but do not count (draft, in review, retired).
    pub not_effective: Vec<usize>,
    /// Documents whose body links to the clause (`clause:` cross-references).
    pub cross_references: Vec<usize>,
    /// Records linked to the clause.
    pub records: Vec<usize>,
    pub missing_documents: Vec<String>,
    pub missing_kinds: Vec<String>,
    pub stale_kinds: Vec<Stale>,
    /// Set when another party operates the clause (sms.yaml `applicability`).
    pub delegated_to: Option<String>,
    /// Set when the Statement of Applicability excludes the control: its justification.
    pub excluded: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Review {
    pub next: Option<Date>,
    /// The document is reviewed periodically: it is effective, or in revision with an effective
    /// approved version.
    pub periodic: bool,
    pub overdue: bool,
    /// The latest `document-review` record with outcome no-change, if any.
    pub last_no_change: Option<Date>,
    /// The latest `document-review` record with outcome revision-needed, if any.
    pub last_revision_needed: Option<Date>,
}

impl Review {
    /// Due on or before `by` but not yet overdue (the "upcoming" reviews).
    pub fn due_by(&self, by: Date) -> bool {
        self.periodic && !self.overdue && self.next.is_some_and(|n| n <= by)
    }
}

pub struct Model<'a> {
    pub config: &'a Config,
    pub catalog: &'a Catalog,
    pub sources: &'a Sources,
    /// Every file of the SMS, for relative link checks.
    pub files: &'a Snapshot,
    pub as_of: Date,
    /// Lower-cased id -> document index.
    pub documents_by_id: FxHashMap<String, usize>,
    /// Lower-cased id -> record index.
    pub records_by_id: FxHashMap<String, usize>,
    /// Per document, its review state.
    pub reviews: Vec<Review>,
    /// Per catalogue clause, in catalogue order.
    pub coverage: Vec<ClauseCoverage>,
    /// Record kind -> record indexes, date order.
    pub records_by_kind: BTreeMap<String, Vec<usize>>,
    /// Id (lower case) -> ids of records and documents that list it in `refs`.
    pub backrefs: FxHashMap<String, Vec<String>>,
    /// Document index -> its effective approved version, for documents whose work-tree copy is a
    /// revision in progress (draft or in review) while an approved revision is in git history.
    pub in_progress: HashMap<usize, &'a Effective>,
    /// The Statement of Applicability, when 27001 is loaded and a document provides it.
    pub soa: Option<crate::soa::Soa>,
}

/// The effective version of a document (DESIGN "Effective version"): its last approved revision
/// on first-parent history. Made by `history`; plain data, so `model` knows nothing of git.
#[derive(Debug, Clone, PartialEq)]
pub struct Effective {
    pub version: Option<String>,
    pub approved: Option<Date>,
    pub clauses: Vec<String>,
    pub provides: Vec<String>,
    /// For the Statement of Applicability: the `controls:` table of the effective version, read
    /// from git by [`crate::soa::effective_tables`] (only its exclusions are in force).
    pub controls: Option<(crate::yaml::Pos, crate::yaml::Node)>,
    /// The commit that holds it and the file's path there.
    pub commit: String,
    pub path: String,
}

/// Effective versions by lower-case document id.
pub type EffectiveVersions = HashMap<String, Effective>;

/// The `external:` entry that stands for a record kind: declared held elsewhere and with no
/// records of its own in git (once they are exported into git, they count instead).
fn held_elsewhere<'c>(
    config: &'c Config,
    records_by_kind: &BTreeMap<String, Vec<usize>>,
    kind: &str,
) -> Option<&'c crate::config::ExternalKind> {
    let own = records_by_kind.get(kind).is_some_and(|l| !l.is_empty());
    config.external_kind(kind).filter(|_| !own)
}

impl<'a> Model<'a> {
    /// [`held_elsewhere`] for this model: the entry whose stand-in evidences `kind`.
    pub fn held_elsewhere(&self, kind: &str) -> Option<&'a crate::config::ExternalKind> {
        held_elsewhere(self.config, &self.records_by_kind, kind)
    }

    pub fn document(&self, id: &str) -> Option<&'a Document> {
        crate::ids::with_key(id, |k| self.documents_by_id.get(k).copied())
            .map(|i| &self.sources.documents[i])
    }

    pub fn record(&self, id: &str) -> Option<&'a Record> {
        crate::ids::with_key(id, |k| self.records_by_id.get(k).copied())
            .map(|i| &self.sources.records[i])
    }

    /// The coverage of a clause (any spelling `Catalog::clause` accepts); indexed, as coverage
    /// is in catalogue order.
    pub fn coverage_of(&self, clause: &str) -> Option<&ClauseCoverage> {
        self.catalog
            .clause_index(clause)
            .and_then(|i| self.coverage.get(i))
    }

    /// The freshness window of a record kind, after sms.yaml overrides.
    pub fn fresh_within(&self, kind: &str) -> Option<Interval> {
        self.config
            .intervals
            .get(kind)
            .copied()
            .or_else(|| self.catalog.record_kind(kind).and_then(|k| k.fresh_within))
    }

    /// Counts of requirement clauses by status ([`crate::catalog::Clause::is_requirement`]):
    /// headings take their status from their sub-clauses and are not counted again, so that
    /// the CLI, JSON, dashboard, clause tree and bundle manifest all count one population.
    pub fn summary(&self) -> CoverageSummary {
        summarise(&self.coverage, &self.catalog.clauses)
    }

    /// [`Model::summary`] per framework, primary first; a framework with no clause in the
    /// catalogue (outside `--framework`) is left out.
    pub fn framework_summaries(&self) -> Vec<(&'a crate::catalog::Framework, CoverageSummary)> {
        // Clauses of a framework are contiguous in the catalogue: one pass, split at changes.
        let mut out = Vec::new();
        let clauses = &self.catalog.clauses;
        let mut start = 0;
        while start < clauses.len() {
            let fw = clauses[start].framework;
            let end = clauses[start..]
                .iter()
                .position(|c| c.framework != fw)
                .map_or(clauses.len(), |n| start + n);
            out.push((
                &self.catalog.frameworks[fw],
                summarise(
                    &self.coverage[start..end.min(self.coverage.len())],
                    &clauses[start..end],
                ),
            ));
            start = end;
        }
        out
    }

    /// The framework of a finding about a clause (coverage findings, see
    /// `codes::is_whole_sms`, whose subject starts with the clause id); `None` otherwise.
    pub fn framework_of_finding(
        &self,
        d: &crate::diag::Diagnostic,
    ) -> Option<&'a crate::catalog::Framework> {
        framework_of_finding(self.catalog, d)
    }
}

/// The framework of a finding about a clause (coverage), `None` for any other finding.
pub fn framework_of_finding<'c>(
    catalog: &'c crate::catalog::Catalog,
    d: &crate::diag::Diagnostic,
) -> Option<&'c crate::catalog::Framework> {
    if !crate::codes::is_whole_sms(d.code) {
        return None;
    }
    let clause = d.subject.split('#').next().unwrap_or(&d.subject);
    let cl = catalog.clause(clause)?;
    Some(&catalog.frameworks[cl.framework])
}

/// Counts of requirement clauses by status ([`crate::catalog::Clause::is_requirement`]):
/// headings take their status from their sub-clauses and are not counted again, so that the
/// CLI, JSON, dashboard, clause tree and bundle manifest all count one population.
fn summarise(coverage: &[ClauseCoverage], clauses: &[crate::catalog::Clause]) -> CoverageSummary {
    let mut s = CoverageSummary::default();
    for (c, clause) in coverage.iter().zip(clauses) {
        if !clause.is_requirement() {
            continue;
        }
        if c.status == CoverageStatus::Excluded {
            s.excluded += 1;
            continue;
        }
        s.clauses += 1;
        match c.status {
            CoverageStatus::Covered => s.covered += 1,
            CoverageStatus::CoveredReviewOverdue => {
                s.covered += 1;
                s.review_overdue += 1
            }
            CoverageStatus::Partial => s.partial += 1,
            CoverageStatus::Missing => s.missing += 1,
            CoverageStatus::Excluded => {}
        }
    }
    s
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CoverageSummary {
    /// Requirement clauses that apply (Annex A controls the SoA excludes are not counted).
    pub clauses: usize,
    pub covered: usize,
    pub review_overdue: usize,
    pub partial: usize,
    pub missing: usize,
    /// Annex A controls the Statement of Applicability excludes; left out of JSON when none.
    #[serde(skip_serializing_if = "is_zero")]
    pub excluded: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Whether a document counts as coverage: only approved text does.
pub fn is_effective(doc: &Document) -> bool {
    doc.status == Status::Approved
}

pub fn link<'a>(
    config: &'a Config,
    catalog: &'a Catalog,
    sources: &'a Sources,
    files: &'a Snapshot,
    as_of: Date,
) -> Model<'a> {
    link_with(config, catalog, sources, files, as_of, None)
}

/// [`link`], with the effective versions that git history gives to documents in progress: such a
/// document still covers the clauses (and provides the named documents) of its effective version.
pub fn link_with<'a>(
    config: &'a Config,
    catalog: &'a Catalog,
    sources: &'a Sources,
    files: &'a Snapshot,
    as_of: Date,
    effective: Option<&'a EffectiveVersions>,
) -> Model<'a> {
    let in_progress: HashMap<usize, &'a Effective> = sources
        .documents
        .iter()
        .enumerate()
        .filter(|(_, d)| matches!(d.status, Status::Draft | Status::InReview))
        .filter_map(|(i, d)| Some((i, effective?.get(&crate::ids::key(&d.id))?)))
        .collect();
    let counts = |i: usize, d: &Document| is_effective(d) || in_progress.contains_key(&i);
    // Id maps hash a million row ids: FxHash, sized up front (no rehashing while filling).
    let mut documents_by_id =
        FxHashMap::with_capacity_and_hasher(sources.documents.len(), Default::default());
    for (i, d) in sources.documents.iter().enumerate() {
        documents_by_id.entry(crate::ids::key(&d.id)).or_insert(i);
    }
    let mut records_by_id =
        FxHashMap::with_capacity_and_hasher(sources.records.len(), Default::default());
    let mut records_by_kind: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut backrefs: FxHashMap<String, Vec<String>> = FxHashMap::default();
    for (i, r) in sources.records.iter().enumerate() {
        records_by_id.entry(crate::ids::key(&r.id)).or_insert(i);
        // Rows of one kind come in runs: look the kind up before cloning its name.
        match records_by_kind.get_mut(&*r.kind) {
            Some(list) => list.push(i),
            None => {
                records_by_kind.insert(r.kind.to_string(), vec![i]);
            }
        }
        for t in &r.refs {
            backrefs
                .entry(crate::ids::key(&t.text))
                .or_default()
                .push(r.id.clone());
        }
        // A review's input refs are refs of the record too (shown both ways).
        let input_refs = crate::review::input_refs(catalog, r);
        if !input_refs.is_empty() {
            let mut seen: Vec<String> = r.refs.iter().map(|t| crate::ids::key(&t.text)).collect();
            for t in input_refs {
                let key = crate::ids::key(&t.text);
                if !seen.contains(&key) {
                    backrefs.entry(key.clone()).or_default().push(r.id.clone());
                    seen.push(key);
                }
            }
        }
    }
    for list in records_by_kind.values_mut() {
        list.sort_by(|&a, &b| {
            let (ra, rb) = (&sources.records[a], &sources.records[b]);
            (ra.date, &ra.id).cmp(&(rb.date, &rb.id))
        });
    }

    // Reviews: next due = next_review, else max(approved, last no-change review) + interval.
    let mut last_no_change: HashMap<String, Date> = HashMap::new();
    let mut last_revision_needed: HashMap<String, Date> = HashMap::new();
    for &i in records_by_kind
        .get(DOCUMENT_REVIEW)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let r = &sources.records[i];
        let outcome = r.field("outcome").and_then(|n| n.as_scalar());
        let doc = r.field("document").and_then(|n| n.as_scalar());
        let latest = match outcome {
            Some("no-change") => &mut last_no_change,
            Some("revision-needed") => &mut last_revision_needed,
            _ => continue,
        };
        if let (Some(doc), Some(date)) = (doc, r.date) {
            let e = latest.entry(crate::ids::key(doc)).or_insert(date);
            *e = (*e).max(date);
        }
    }
    let reviews: Vec<Review> = sources
        .documents
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let key = crate::ids::key(&d.id);
            let last = last_no_change.get(&key).copied();
            let interval = d.review.unwrap_or(config.review_interval);
            let approved = match in_progress.get(&i) {
                Some(e) => e.approved,
                None => d.approved,
            };
            let base = match (approved, last) {
                (Some(a), Some(l)) => Some(a.max(l)),
                (a, l) => a.or(l),
            };
            let next = d.next_review.or_else(|| base.map(|b| interval.after(b)));
            let periodic = counts(i, d);
            Review {
                overdue: periodic && next.is_some_and(|n| n < as_of),
                periodic,
                next,
                last_no_change: last,
                last_revision_needed: last_revision_needed.get(&key).copied(),
            }
        })
        .collect();

    // Which documents cover / cite / cross-reference each clause.
    let mut covering: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut not_effective: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut xrefs: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, d) in sources.documents.iter().enumerate() {
        // A revision in progress covers the clauses of its effective version; what only the
        // draft cites does not count yet.
        let effective_clauses: &[String] = in_progress.get(&i).map_or(&[], |e| &e.clauses);
        let cited = effective_clauses.iter().map(|c| (c.as_str(), true)).chain(
            d.clauses
                .iter()
                .filter(|c| !effective_clauses.contains(&c.id))
                .map(|c| (c.id.as_str(), is_effective(d))),
        );
        for (id, counting) in cited {
            let target = if counting {
                &mut covering
            } else {
                &mut not_effective
            };
            for leaf in catalog.covered_by_citation(id) {
                target.entry(leaf.id.as_str()).or_default().push(i);
            }
            if let Some(cl) = catalog.clause(id) {
                if !cl.children.is_empty() {
                    target.entry(cl.id.as_str()).or_default().push(i);
                }
            }
        }
        for l in &d.parsed.links {
            if let crate::markdown::LinkTarget::Clause(id) = &l.target {
                if let Some(cl) = catalog.clause(id) {
                    xrefs.entry(cl.id.clone()).or_default().push(i);
                }
            }
        }
    }
    let mut record_links: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, r) in sources.records.iter().enumerate() {
        let ids: Vec<&str> = if r.clauses.is_empty() {
            catalog
                .record_kind(&r.kind)
                .map(|k| k.clauses.iter().map(String::as_str).collect())
                .unwrap_or_default()
        } else {
            r.clauses.iter().map(|c| c.id.as_str()).collect()
        };
        for id in ids {
            if let Some(cl) = catalog.clause(id) {
                record_links.entry(cl.id.as_str()).or_default().push(i);
            }
        }
    }
    // Named documents provided by an effective document.
    let mut provided: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, d) in sources.documents.iter().enumerate() {
        if let Some(e) = in_progress.get(&i) {
            for p in &e.provides {
                provided.entry(p.as_str()).or_default().push(i);
            }
        } else if is_effective(d) {
            for p in &d.provides {
                provided.entry(p.text.as_str()).or_default().push(i);
            }
        }
    }
    let soa = crate::soa::read(catalog, &sources.documents, counts);
    // An exclusion takes effect only from an SoA that counts, for an excludable control, with a
    // justification (see `soa`); otherwise the control still needs its evidence.
    // A revision in progress excludes only what its effective (approved) version excludes too:
    // a draft never counts.
    let mut excluded: HashMap<usize, String> = HashMap::new();
    if let Some(s) = &soa {
        if counts(s.document, &sources.documents[s.document]) {
            let in_force = in_progress
                .get(&s.document)
                .map(|e| crate::soa::exclusions_of(catalog, &sources.documents[s.document], e));
            for (&ci, &ei) in &s.by_clause {
                let e = &s.entries[ei];
                if e.is_excluded()
                    && e.has_justification()
                    && catalog.clauses[ci].excludable
                    && in_force.as_ref().is_none_or(|f| f.contains(&ci))
                {
                    excluded.insert(ci, e.justification.clone().unwrap_or_default());
                }
            }
        }
    }
    let delegated: HashMap<&str, &crate::config::Applicability> = config
        .applicability
        .iter()
        .filter_map(|a| Some((catalog.clause(&a.clause)?.id.as_str(), a)))
        .collect();

    let kind_state = |kind: &str| -> (bool, Option<Stale>) {
        let list = records_by_kind
            .get(kind)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let newest = list
            .iter()
            .filter_map(|&i| sources.records[i].date)
            .filter(|d| *d <= as_of)
            .max();
        let within = config
            .intervals
            .get(kind)
            .copied()
            .or_else(|| catalog.record_kind(kind).and_then(|k| k.fresh_within));
        match (newest, within) {
            (None, _) => (list.is_empty(), None),
            (Some(n), Some(w)) if n < w.before(as_of) => (
                false,
                Some(Stale {
                    kind: kind.to_string(),
                    newest: n,
                    within: w,
                    via: None,
                }),
            ),
            (Some(_), _) => (false, None),
        }
    };

    // A kind held in another system (`external:`) with no records of its own in git is as
    // fresh as the kind that stands for it; once its records are in git (an export), they count.
    let demanded_state = |kind: &str| -> (bool, Option<Stale>) {
        match held_elsewhere(config, &records_by_kind, kind) {
            Some(e) => {
                let (missing, stale) = kind_state(&e.evidenced_by);
                (
                    missing,
                    stale.map(|s| Stale {
                        kind: kind.to_string(),
                        via: Some(e.evidenced_by.clone()),
                        ..s
                    }),
                )
            }
            _ => kind_state(kind),
        }
    };

    // Leaf clauses first (catalogue order is parents first, so walk in reverse for headings).
    let mut coverage: Vec<ClauseCoverage> = Vec::with_capacity(catalog.clauses.len());
    for (ci, cl) in catalog.clauses.iter().enumerate() {
        let docs = covering.get(cl.id.as_str()).cloned().unwrap_or_default();
        let mut cov = ClauseCoverage {
            clause: cl.id.clone(),
            status: CoverageStatus::Missing,
            documented: None,
            evidenced: None,
            current: true,
            documents: dedup(docs),
            not_effective: dedup(
                not_effective
                    .get(cl.id.as_str())
                    .cloned()
                    .unwrap_or_default(),
            ),
            cross_references: dedup(xrefs.get(&cl.id).cloned().unwrap_or_default()),
            records: record_links
                .get(cl.id.as_str())
                .cloned()
                .unwrap_or_default(),
            missing_documents: Vec::new(),
            missing_kinds: Vec::new(),
            stale_kinds: Vec::new(),
            delegated_to: None,
            excluded: None,
        };
        if !cl.children.is_empty() || cl.evidence == Evidence::Heading {
            coverage.push(cov);
            continue;
        }
        if let Some(j) = excluded.get(&ci) {
            cov.excluded = Some(j.clone());
            cov.status = CoverageStatus::Excluded;
            coverage.push(cov);
            continue;
        }
        let app = delegated.get(cl.id.as_str()).copied();
        let mut kinds: Vec<String> = cl.records.clone();
        if let Some(a) = app {
            cov.delegated_to = Some(a.party.clone());
            if let Some(k) = &a.review_kind {
                kinds.push(k.clone());
            }
        }
        if cl.evidence.needs_documents() {
            let mut ok = !cov.documents.is_empty();
            if let Some(a) = app {
                // The agreement with the other party stands for the clause's own documents.
                let agreement = a.agreement.as_deref().and_then(|id| {
                    sources
                        .documents
                        .iter()
                        .enumerate()
                        .position(|(i, d)| d.id.eq_ignore_ascii_case(id) && counts(i, d))
                });
                if let Some(i) = agreement {
                    ok = true;
                    if !cov.documents.contains(&i) {
                        cov.documents.push(i);
                    }
                }
            }
            for named in &cl.documents {
                if !provided.contains_key(named.as_str()) {
                    cov.missing_documents.push(named.clone());
                }
            }
            cov.documented = Some(ok && cov.missing_documents.is_empty());
        }
        if cl.evidence.needs_records() || !kinds.is_empty() {
            for k in &kinds {
                let (missing, stale) = demanded_state(k);
                if missing {
                    cov.missing_kinds.push(k.clone());
                }
                if let Some(s) = stale {
                    cov.stale_kinds.push(s);
                }
            }
            cov.evidenced = Some(cov.missing_kinds.is_empty() && cov.stale_kinds.is_empty());
        }
        cov.current = !cov.documents.iter().any(|&i| reviews[i].overdue);
        let parts: Vec<bool> = [cov.documented, cov.evidenced]
            .into_iter()
            .flatten()
            .collect();
        cov.status = if parts.iter().all(|&p| p) {
            if cov.current {
                CoverageStatus::Covered
            } else {
                CoverageStatus::CoveredReviewOverdue
            }
        } else if parts.iter().any(|&p| p) || !cov.documents.is_empty() {
            CoverageStatus::Partial
        } else {
            CoverageStatus::Missing
        };
        coverage.push(cov);
    }
    // Headings: derived from children, deepest first.
    let index: HashMap<&str, usize> = catalog
        .clauses
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    for i in (0..catalog.clauses.len()).rev() {
        let cl = &catalog.clauses[i];
        if cl.children.is_empty() {
            if cl.evidence == Evidence::Heading {
                coverage[i].status = CoverageStatus::Covered;
            }
            continue;
        }
        let states: Vec<CoverageStatus> = cl
            .children
            .iter()
            .filter_map(|c| index.get(c.as_str()).map(|&j| coverage[j].status))
            .collect();
        let all_covered = states.iter().all(|s| s.is_covered());
        let none = states.iter().all(|s| *s == CoverageStatus::Missing);
        coverage[i].current = cl
            .children
            .iter()
            .filter_map(|c| index.get(c.as_str()))
            .all(|&j| coverage[j].current);
        coverage[i].status = if all_covered {
            if coverage[i].current {
                CoverageStatus::Covered
            } else {
                CoverageStatus::CoveredReviewOverdue
            }
        } else if none {
            CoverageStatus::Missing
        } else {
            CoverageStatus::Partial
        };
    }

    Model {
        config,
        catalog,
        sources,
        files,
        as_of,
        documents_by_id,
        records_by_id,
        reviews,
        coverage,
        records_by_kind,
        backrefs,
        in_progress,
        soa,
    }
}

fn dedup(mut v: Vec<usize>) -> Vec<usize> {
    v.sort_unstable();
    v.dedup();
    v
}
