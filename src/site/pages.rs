//! The pages of the site and the small view structs the templates receive.
//!
//! Views borrow from the model and hold only what a template shows: ids, titles, URLs relative
//! to the site root (a template prefixes `root`), labels and pre-rendered, sanitised HTML. No
//! domain type reaches a template, so a template cannot depend on the model's internals, and a
//! custom template sees a small, documented surface.

mod audits;
mod rows;

use super::html::{self, Links, Rendered};
use super::templates::{Custom, Templates};
use super::{search, GitView};
use crate::catalog::{Clause, Evidence};
use crate::check::Loaded;
use crate::diag::{Diagnostic, Severity};
use crate::markdown::LinkTarget;
use crate::model::{ClauseCoverage, CoverageStatus, Model};
use crate::record_fields::FieldRef;
use crate::snapshot::EntryKind;
use crate::source::{Document, Record, Status};
use crate::yaml::{Node, Value as YamlValue};
use anyhow::{anyhow, Result};
use minijinja::value::Serde;
use minijinja::Value;
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// How many records of its period a review page lists per input before pointing to the kinds.
const REVIEW_EVIDENCE_SHOWN: usize = 25;
/// How many records a clause page lists before pointing to the kind pages.
const CLAUSE_RECORDS_SHOWN: usize = 100;
/// Rows a page of a record kind's table shows.
pub const TABLE_ROWS: usize = 500;
/// Rows of exports without a page of their own that the search index holds (id and title):
/// the index is loaded whole by every page.
pub const MAX_ROW_TITLES_IN_SEARCH: usize = 20_000;
/// Reviews due within this many days are "upcoming" on the dashboard.
const UPCOMING_DAYS: i32 = 90;

/// A 128-bit digest (SHA-256, truncated) of what a page or a body was made from: equal keys, equal
/// output. `serve` keeps the keys of its previous build to skip work whose input did not change.
pub type Key = [u8; 16];

/// Bodies rendered by the previous build of a `serve` session.
#[derive(Default)]
pub struct BodyMemo {
    /// [`Links::key`] of that build: when the link targets differ, no body is reused.
    links: Key,
    /// Document path -> key of (path, body, heading anchors), rendered body.
    bodies: HashMap<String, (Key, Arc<Rendered>)>,
}

/// The key of everything a page's body is rendered from besides the link targets.
fn body_key(path: &str, body: &str, parsed: &crate::markdown::Body) -> Key {
    let mut h = KeyHasher::default();
    h.part(path.as_bytes());
    h.part(body.as_bytes());
    // Where the limits cut the body short (they can change with sms.yaml).
    let cut = parsed.nesting_cut.map_or(u64::MAX, |c| c.offset as u64);
    h.part(&cut.to_le_bytes());
    let reason = parsed.nesting_cut.map(|c| c.reason);
    h.part(format!("{reason:?}").as_bytes());
    for hd in &parsed.headings {
        h.part(hd.anchor.as_bytes());
    }
    h.finish()
}

/// SHA-256 over length-prefixed parts (so that no two different lists of parts give the same
/// stream), truncated to a [`Key`]. It is also an `io::Write`, for serialising into it.
#[derive(Default)]
pub struct KeyHasher(Sha256);

impl KeyHasher {
    pub fn part(&mut self, bytes: &[u8]) {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    pub fn finish(self) -> Key {
        let mut key = Key::default();
        key.copy_from_slice(&self.0.finalize()[..16]);
        key
    }
}

impl std::io::Write for KeyHasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A rendered page: its bytes, unless the caller's previous key showed them unchanged.
pub struct PageOut {
    /// The key of the page's template and context, when the caller keeps keys.
    pub key: Option<Key>,
    /// `None`: the same key as before, so the same bytes as before.
    pub bytes: Option<Vec<u8>>,
    /// A record page's [`Site::record_own_key`], when the caller keeps keys.
    pub own: Option<Key>,
}

/// What `serve` keeps between builds to skip the record pages an edit cannot reach.
///
/// A record page shows the record itself, its findings and the records that name it, and looks
/// everything else up in tables the site shares between all record pages: the links of the
/// documents and records (ids, titles, statuses, URLs), clause coverage, the review evidence of
/// documents, the SoA and the site's header. [`Site::record_shared_key`] hashes those tables and
/// [`Site::record_own_key`] the page's own part. When no record's file changed since the memo's
/// build (the caller knows which files did), the shared key is the memo's and a page's own key
/// is too, the page's context is the one of that build: its key is taken from the memo instead
/// of being computed from the whole context, which is what made a rebuild touch every one of
/// tens of thousands of record pages.
#[derive(Default)]
pub struct RecordMemo {
    /// [`Site::record_shared_key`] of the memo's build.
    shared: Option<Key>,
    /// Record page path -> [`Site::record_own_key`] at the memo's build.
    own: HashMap<String, Key>,
}

impl RecordMemo {
    /// The memo of this build: `shared`, and the own keys of the record pages just handled.
    pub fn new(shared: Option<Key>, own: HashMap<String, Key>) -> RecordMemo {
        RecordMemo { shared, own }
    }

    pub fn shared(&self) -> Option<Key> {
        self.shared
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PageKind {
    Index,
    ClauseTree,
    Clause(usize),
    Register,
    Document(usize),
    /// The text in force of a document in revision (the work-tree draft is then `Document`).
    Effective(usize),
    Records,
    /// A record kind's table, and which page of it (1-based, [`TABLE_ROWS`] rows a page).
    Kind(String, usize),
    Record(usize),
    /// The auditor's sample (`build --sample-kind …`).
    Sample,
    Matrix,
    Findings,
    /// The explanation of a finding code (index into `codes::CODES`) and its findings.
    Code(usize),
    Search,
    Changes,
    /// The Statement of Applicability as a table (27001, see `soa`).
    Soa,
    /// The internal audit programme against the clauses (see `audits`).
    AuditProgramme,
    /// Every owner's open items (`auditbook todo`), with links to the people's pages.
    People,
    /// One person's open items (index into the todo list's groups).
    Person(usize),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Page {
    path: String,
    kind: PageKind,
}

impl Page {
    pub fn path(&self) -> String {
        self.path.clone()
    }
}

#[derive(Serialize)]
struct SiteView<'a> {
    organisation: &'a str,
    scope: &'a str,
    /// The frameworks shown (every loaded one, or the one of `--framework`), joined.
    framework_id: String,
    framework_title: String,
    as_of: String,
    commit: Option<&'a str>,
    commit_short: Option<String>,
    commit_date: Option<&'a str>,
    draft: bool,
    /// `--at`: "as it stood on DATE (commit …)".
    at: Option<&'a str>,
    has_changes: bool,
    /// A Statement of Applicability is read: the nav links `soa.html`.
    has_soa: bool,
    /// Some internal audit says what it covered: `audit-programme.html` exists.
    has_audit_programme: bool,
    tool: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Ctx<'a, T: Serialize> {
    site: &'a SiteView<'a>,
    root: &'static str,
    title: String,
    nav: &'static str,
    page: T,
}

#[derive(Serialize, Clone)]
struct DocLink<'a> {
    id: &'a str,
    title: &'a str,
    url: String,
    status: &'static str,
    version: Option<&'a str>,
}

/// A `derives` link between two documents and whether it is suspect (see `crate::suspect`).
#[derive(Serialize)]
struct DerivationView<'a> {
    /// The document that derives.
    child: DocLink<'a>,
    /// The document it derives from.
    parent: DocLink<'a>,
    /// current | suspect | not judged
    state: &'static str,
    suspect: bool,
    /// The parent's version in force and its date (landing, else approval).
    parent_version: Option<&'a str>,
    parent_date: Option<String>,
    /// The child's version in force and its date.
    child_version: Option<&'a str>,
    child_date: Option<String>,
    /// The child's latest no-change review.
    reviewed: Option<String>,
    /// A revision-needed review of the child after the parent's change.
    revision_needed: Option<String>,
}

/// The inputs section of a review record's page.
#[derive(Serialize)]
struct ReviewView<'a> {
    /// The reviewed period, both ends included (`None` without a valid date).
    from: Option<String>,
    to: Option<String>,
    /// How the period was found.
    basis: &'static str,
    previous: Option<RecLink<'a>>,
    inputs: Vec<InputView<'a>>,
    /// The older `inputs:` list of notes, which names no input.
    notes: Vec<String>,
    /// Entries under `inputs:` that are not inputs of the kind: (id, summary).
    unknown: Vec<(String, String)>,
}

#[derive(Serialize)]
struct InputView<'a> {
    id: &'a str,
    title: &'a str,
    /// What the input is about (the catalogue's summary).
    about: &'a str,
    answered: bool,
    /// What the record says about it.
    summary: String,
    /// Its `refs`, as written.
    refs: Vec<EvidenceLink<'a>>,
    /// What auditbook finds for it in the period (not among `refs`), at most
    /// [`REVIEW_EVIDENCE_SHOWN`]; `more` counts the rest.
    found: Vec<EvidenceLink<'a>>,
    more: usize,
    /// How many of what auditbook finds are among `refs` (so not listed again).
    also_cited: usize,
    /// The record kinds searched, with their pages.
    kinds: Vec<KindLink<'a>>,
}

#[derive(Serialize)]
struct EvidenceLink<'a> {
    id: String,
    title: &'a str,
    date: Option<String>,
    url: Option<String>,
}

#[derive(Serialize)]
struct KindLink<'a> {
    title: &'a str,
    url: Option<String>,
}

#[derive(Serialize, Clone)]
struct RecLink<'a> {
    id: &'a str,
    title: &'a str,
    kind: &'a str,
    date: Option<String>,
    url: String,
}

#[derive(Serialize, Clone)]
struct ClauseBadge<'a> {
    id: &'a str,
    title: &'a str,
    url: Option<String>,
    status: &'static str,
    label: &'static str,
}

/// A clause a mapping relates to the clause of a page (see `catalog::mapping`).
#[derive(Serialize)]
struct RelatedClause<'a> {
    clause: ClauseBadge<'a>,
    title: &'a str,
    framework: &'a str,
    /// Read from the side of the page's clause.
    relation: &'static str,
    shared: &'a [String],
    note: Option<&'a str>,
    mapping: &'a str,
}

/// The site path of a finding code's page.
fn code_url(code: &str) -> String {
    format!("codes/{code}.html")
}

#[derive(Serialize)]
struct FindingView<'a> {
    severity: &'static str,
    code: &'static str,
    code_url: String,
    message: &'a str,
    help: Option<&'a str>,
    location: Option<String>,
    url: Option<String>,
}

/// The site path of the Statement of Applicability table.
const SOA_PAGE: &str = "soa.html";

/// The site path of every owner's open items.
const PEOPLE_PAGE: &str = "people.html";

/// The page of one person's open items.
fn person_url(stem: &str) -> String {
    format!("people/{stem}.html")
}

/// Per group of the todo list, the file stem of its page: a person's id when it is a valid id
/// (see `ids`), else a hash; ids that meet on a name regardless of case (`hc`, `HC`) give the
/// later one (in id order) a hashed name, so no two pages share a file on a case-insensitive disk.
fn person_stems(
    config: &crate::config::Config,
    todo: &crate::todo::TodoList,
) -> Vec<Option<String>> {
    let mut used = HashSet::new();
    todo.groups
        .iter()
        .map(|g| match g.owner {
            crate::todo::Owner::Person(i) => {
                let id = &config.people[i].id;
                let mut s = stem(id);
                if !used.insert(crate::ids::key(&s)) {
                    s = stem(&format!("{id}:"));
                    used.insert(crate::ids::key(&s));
                }
                Some(s)
            }
            crate::todo::Owner::Named(_) | crate::todo::Owner::Unowned => None,
        })
        .collect()
}

/// An item of an owner's open items, as the people pages show it.
#[derive(Serialize)]
struct TodoItemView<'a> {
    task: &'static str,
    label: &'static str,
    id: &'a str,
    title: &'a str,
    kind: Option<&'a str>,
    status: Option<&'a str>,
    url: Option<String>,
    location: String,
    due: Option<String>,
    past_due: bool,
    code: Option<&'static str>,
    action: &'a str,
}

/// One owner and their open items.
#[derive(Serialize)]
struct OwnerView<'a> {
    /// The person's id, the owner's text, or `None` (unowned).
    id: Option<&'a str>,
    label: &'a str,
    /// "person" | "other" | "unowned".
    kind: &'static str,
    role: Option<&'a str>,
    /// The person's page (people only).
    url: Option<String>,
    past_due: usize,
    items: Vec<TodoItemView<'a>>,
}

/// A control's row in the SoA, as a clause page and the SoA page show it.
#[derive(Serialize)]
struct SoaCell<'a> {
    /// `soa.html#row-…`, relative to the site root.
    url: String,
    /// The SoA has an entry for the control.
    entered: bool,
    applicable: Option<bool>,
    justification: Option<&'a str>,
    status: Option<&'static str>,
    implemented_by: Vec<SoaTarget<'a>>,
}

/// An id under `implemented_by`, with its page when it has one.
#[derive(Serialize)]
struct SoaTarget<'a> {
    id: &'a str,
    url: Option<String>,
}

fn status_label(s: CoverageStatus) -> &'static str {
    match s {
        CoverageStatus::Covered => "Covered",
        CoverageStatus::CoveredReviewOverdue => "Covered, review overdue",
        CoverageStatus::Partial => "Partial",
        CoverageStatus::Missing => "Missing",
        CoverageStatus::Excluded => "Excluded (Statement of Applicability)",
    }
}

/// A file-name stem for a text that may not be a valid id (clause ids of user catalogues,
/// record kinds): the text itself when it is a valid id, else a hash.
/// A property of each framework the site shows, joined.
fn shown_frameworks(
    model: &Model<'_>,
    part: impl Fn(&crate::catalog::Framework) -> &str,
    sep: &str,
) -> String {
    model
        .framework_summaries()
        .into_iter()
        .map(|(f, _)| part(f))
        .collect::<Vec<_>>()
        .join(sep)
}

pub fn stem(text: &str) -> String {
    if crate::ids::invalid_reason(text).is_none() {
        text.to_string()
    } else {
        format!("x-{}", &super::templates::sha256(text.as_bytes())[..16])
    }
}

pub struct Site<'a> {
    loaded: &'a Loaded,
    model: &'a Model<'a>,
    findings: &'a [Diagnostic],
    history: &'a GitView,
    templates: &'a Templates,
    view: SiteView<'a>,
    /// Per document: rendered body, when the document has a page.
    bodies: Vec<Option<Arc<Rendered>>>,
    /// Per document with a page: the key of what its body was rendered from.
    body_keys: Vec<Option<Key>>,
    /// The key of every link target a body can resolve to.
    links_key: Key,
    /// Per record: whether it is listed in its kind's table (the first of its id).
    listed: Vec<bool>,
    /// Per record: whether it has a page of its own (see [`own_pages`]).
    own_page: Vec<bool>,
    /// Per listed record: the page of its kind's table that shows it (1-based).
    table_page: Vec<u32>,
    /// Record kind -> how many table pages it has.
    kind_pages: HashMap<String, usize>,
    clause_stems: HashMap<&'a str, String>,
    /// Record kind -> file stem, sorted by kind.
    kinds: BTreeMap<String, String>,
    findings_by_path: HashMap<&'a str, Vec<usize>>,
    findings_by_subject: HashMap<String, Vec<usize>>,
    /// Document -> documents whose bodies link to it.
    doc_backlinks: HashMap<usize, BTreeSet<usize>>,
    /// Document -> records that name it (`refs`, or `document` of a review).
    doc_records: HashMap<usize, BTreeSet<usize>>,
    /// Documents in revision: the approved text in force, read from git (DESIGN "Effective
    /// version": the site shows it, and the draft on a separate, clearly marked page).
    effective: HashMap<usize, EffectiveText>,
    /// Lower-case id -> the Annex A controls (catalogue indexes, in order) whose SoA entry names
    /// it under `implemented_by`.
    soa_implementers: HashMap<String, Vec<usize>>,
    /// The `derives` links between documents, judged (`crate::suspect`).
    derivations: crate::suspect::Links,
    /// Each owner's open items, as `auditbook todo` lists them with the default window.
    todo: crate::todo::TodoList,
    /// Per group of `todo`: the file stem of its page under `people/` (people only).
    person_stems: Vec<Option<String>>,
    /// (review kind, input) -> the documents that are evidence for it (the same for every
    /// review of the kind: found once, not once per review page).
    review_documents: HashMap<(&'a str, &'a str), Vec<usize>>,
}

/// The effective approved revision of a document in revision, parsed and rendered.
struct EffectiveText {
    doc: crate::source::Document,
    body: Arc<Rendered>,
}

/// Where a document's page is; a document in revision also has a draft page.
fn document_url(id: &str) -> String {
    format!("documents/{id}.html")
}

/// The draft page of a document in revision. `~` cannot occur in an id, so this never names
/// another document's page.
fn draft_url(id: &str) -> String {
    format!("documents/{id}~draft.html")
}

/// Page `n` (1-based) of a kind's table. `~` cannot occur in a kind's stem, so page 2 of one
/// kind never names page 1 of another.
fn kind_table_url(stem: &str, n: usize) -> String {
    if n <= 1 {
        format!("kinds/{stem}.html")
    } else {
        format!("kinds/{stem}~{n}.html")
    }
}

/// The anchor of a record's row in its kind's table.
fn row_anchor(id: &str) -> String {
    format!("r-{}", stem(id))
}

/// Which records get a page of their own: every record of a YAML file (one a file, or a short
/// list), and of a tabular export (CSV, TSV, JSON) only the rows that something names (`refs` of
/// another record) or that are in the auditor's sample — never one page per row of a
/// million-row export: the others are rows of the paginated kind tables.
fn own_pages(
    sources: &crate::source::Sources,
    model: &Model<'_>,
    listed: &[bool],
    sampled: &[usize],
) -> Vec<bool> {
    let sampled: HashSet<usize> = sampled.iter().copied().collect();
    sources
        .records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            listed[i]
                && (crate::tabular::Format::of(&r.path).is_none()
                    || sampled.contains(&i)
                    || model.backrefs.contains_key(&crate::ids::key(&r.id)))
        })
        .collect()
}

impl<'a> Site<'a> {
    pub fn new(
        loaded: &'a Loaded,
        model: &'a Model<'a>,
        findings: &'a [Diagnostic],
        history: &'a GitView,
        templates: &'a Templates,
        memo: Option<&BodyMemo>,
    ) -> Site<'a> {
        let sources = &loaded.sources;
        let doc_has_page: Vec<bool> = (0..sources.documents.len())
            .map(|i| {
                model
                    .documents_by_id
                    .get(&crate::ids::key(&sources.documents[i].id))
                    == Some(&i)
            })
            .collect();
        let listed: Vec<bool> = (0..sources.records.len())
            .map(|i| {
                model
                    .records_by_id
                    .get(&crate::ids::key(&sources.records[i].id))
                    == Some(&i)
            })
            .collect();
        let sampled: Vec<usize> = history
            .sample
            .iter()
            .flat_map(|s| &s.sample.picks)
            .filter_map(|p| model.records_by_id.get(&crate::ids::key(&p.id)).copied())
            .collect();
        let own_page = own_pages(sources, model, &listed, &sampled);
        let mut table_page = vec![0u32; sources.records.len()];
        let mut kind_pages = HashMap::new();
        for (k, list) in &model.records_by_kind {
            let shown: Vec<usize> = list.iter().copied().filter(|&r| listed[r]).collect();
            for (n, &r) in shown.iter().enumerate() {
                table_page[r] = (n / TABLE_ROWS) as u32 + 1;
            }
            kind_pages.insert(k.clone(), shown.len().div_ceil(TABLE_ROWS).max(1));
        }
        // Qualified ids (`iso27001:2022:A.5.1`) hold `:`, which a file name cannot: `_` stands
        // in; should two clauses still meet on a name, the later one gets a hashed name.
        let mut clause_stems: HashMap<&str, String> = HashMap::new();
        let mut used: std::collections::HashSet<String> = Default::default();
        for c in &model.catalog.clauses {
            let mut s = stem(&c.id.replace(':', "_"));
            if !used.insert(crate::ids::key(&s)) {
                s = stem(&format!("{}:", c.id));
            }
            clause_stems.insert(c.id.as_str(), s);
        }
        let mut links = Links::new(&loaded.snapshot, &loaded.config.limits);
        for (i, d) in sources.documents.iter().enumerate() {
            if doc_has_page[i] {
                links.documents.insert(crate::ids::key(&d.id), d.id.clone());
                links.document_paths.insert(d.path.clone(), d.id.clone());
            }
        }
        for (id, s) in &clause_stems {
            links.clauses.insert(id.to_string(), s.clone());
        }
        // A primary clause may also be cited qualified.
        for c in &model.catalog.clauses {
            if c.framework == 0 {
                links.clauses.insert(
                    format!("{}:{}", model.catalog.id, c.id),
                    clause_stems[c.id.as_str()].clone(),
                );
            }
        }
        let links = Arc::new(links);
        // A body is rendered again only when its text or a link target it could resolve to
        // changed (`serve`); otherwise the previous rendering is reused.
        let links_key = links.key();
        let keyed = memo.is_some();
        let memo = memo.filter(|m| m.links == links_key);
        let (bodies, body_keys): (Vec<Option<Arc<Rendered>>>, Vec<Option<Key>>) = sources
            .documents
            .par_iter()
            .enumerate()
            .map(|(i, d)| {
                if !doc_has_page[i] {
                    return (None, None);
                }
                let key = keyed.then(|| body_key(&d.path, &d.body, &d.parsed));
                let previous = memo
                    .zip(key.as_ref())
                    .and_then(|(m, k)| m.bodies.get(&d.path).filter(|(pk, _)| pk == k));
                let body = match previous {
                    Some((_, r)) => Arc::clone(r),
                    None => Arc::new(html::render(&links, &d.path, "../", &d.body, &d.parsed)),
                };
                (Some(body), key)
            })
            .unzip();
        let effective = effective_texts(loaded, &links, &doc_has_page);
        let mut kinds = BTreeMap::new();
        for k in model.records_by_kind.keys() {
            kinds.insert(k.clone(), stem(k));
        }
        let mut findings_by_path: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut findings_by_subject: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, f) in findings.iter().enumerate() {
            if let Some(p) = &f.path {
                findings_by_path.entry(p.as_str()).or_default().push(i);
            }
            findings_by_subject
                .entry(subject_head(&f.subject))
                .or_default()
                .push(i);
        }
        let path_to_doc: HashMap<&str, usize> = sources
            .documents
            .iter()
            .enumerate()
            .filter(|(i, _)| doc_has_page[*i])
            .map(|(i, d)| (d.path.as_str(), i))
            .collect();
        let mut doc_backlinks: HashMap<usize, BTreeSet<usize>> = HashMap::new();
        for (i, d) in sources.documents.iter().enumerate() {
            for l in &d.parsed.links {
                let target = match &l.target {
                    LinkTarget::Doc { id, .. } => {
                        model.documents_by_id.get(&crate::ids::key(id)).copied()
                    }
                    LinkTarget::Relative { path, .. } if !path.is_empty() => {
                        crate::markdown::resolve_relative(&d.path, path)
                            .and_then(|t| path_to_doc.get(t.as_str()).copied())
                    }
                    _ => None,
                };
                if let Some(t) = target.filter(|&t| t != i) {
                    doc_backlinks.entry(t).or_default().insert(i);
                }
            }
        }
        let mut doc_records: HashMap<usize, BTreeSet<usize>> = HashMap::new();
        for (i, r) in sources.records.iter().enumerate() {
            let input_refs = crate::review::input_refs(model.catalog, r);
            let mut named: Vec<&str> = r
                .refs
                .iter()
                .chain(&input_refs)
                .map(|t| t.text.as_str())
                .collect();
            if let Some(d) = r.field("document").and_then(FieldRef::as_scalar) {
                named.push(d);
            }
            for n in named {
                if let Some(&d) = model.documents_by_id.get(&crate::ids::key(n)) {
                    doc_records.entry(d).or_default().insert(i);
                }
            }
        }
        let p = &history.provenance;
        let view = SiteView {
            organisation: &loaded.config.organisation,
            scope: &loaded.config.scope,
            framework_id: shown_frameworks(model, |f| &f.id, " + "),
            framework_title: shown_frameworks(model, |f| &f.title, ", "),
            as_of: model.as_of.to_string(),
            commit: p.commit.as_deref(),
            commit_short: p.commit.as_ref().map(|c| c.chars().take(12).collect()),
            commit_date: p.commit_date.as_deref(),
            draft: p.draft,
            at: p.at.as_deref(),
            has_changes: history.changes.is_some(),
            has_soa: model.soa.is_some(),
            has_audit_programme: crate::rules::audit_programme::programme(model, &mut Vec::new())
                .is_some(),
            tool: "auditbook",
            version: env!("CARGO_PKG_VERSION"),
        };
        let todo = crate::todo::collect(model, findings, crate::todo::DEFAULT_DAYS);
        let person_stems = person_stems(&loaded.config, &todo);
        let review_documents = model
            .catalog
            .record_kinds
            .iter()
            .filter(|k| crate::review::applies(k))
            .flat_map(|k| k.inputs.iter().map(move |input| (k, input)))
            .map(|(k, input)| {
                (
                    (k.id.as_str(), input.id.as_str()),
                    crate::review::evidence_documents(model, input),
                )
            })
            .collect();
        Site {
            loaded,
            model,
            findings,
            history,
            templates,
            view,
            bodies,
            body_keys,
            links_key,
            listed,
            own_page,
            table_page,
            kind_pages,
            clause_stems,
            kinds,
            findings_by_path,
            findings_by_subject,
            doc_backlinks,
            doc_records,
            effective,
            soa_implementers: soa_implementers(model),
            derivations: crate::suspect::links(model, loaded.history.as_ref()),
            todo,
            person_stems,
            review_documents,
        }
    }

    pub fn page_list(&self) -> Vec<Page> {
        let mut pages = vec![
            Page {
                path: "index.html".into(),
                kind: PageKind::Index,
            },
            Page {
                path: "clauses.html".into(),
                kind: PageKind::ClauseTree,
            },
            Page {
                path: "documents.html".into(),
                kind: PageKind::Register,
            },
            Page {
                path: "records.html".into(),
                kind: PageKind::Records,
            },
            Page {
                path: "matrix.html".into(),
                kind: PageKind::Matrix,
            },
            Page {
                path: "findings.html".into(),
                kind: PageKind::Findings,
            },
            Page {
                path: "search.html".into(),
                kind: PageKind::Search,
            },
        ];
        if self.history.changes.is_some() {
            pages.push(Page {
                path: "changes.html".into(),
                kind: PageKind::Changes,
            });
        }
        if self.model.soa.is_some() {
            pages.push(Page {
                path: SOA_PAGE.into(),
                kind: PageKind::Soa,
            });
        }
        if self.view.has_audit_programme {
            pages.push(Page {
                path: audits::PAGE.into(),
                kind: PageKind::AuditProgramme,
            });
        }
        pages.push(Page {
            path: PEOPLE_PAGE.into(),
            kind: PageKind::People,
        });
        for (g, s) in self.person_stems.iter().enumerate() {
            if let Some(s) = s {
                pages.push(Page {
                    path: person_url(s),
                    kind: PageKind::Person(g),
                });
            }
        }
        for (i, c) in self.model.catalog.clauses.iter().enumerate() {
            pages.push(Page {
                path: format!("clauses/{}.html", self.clause_stems[c.id.as_str()]),
                kind: PageKind::Clause(i),
            });
        }
        for (i, d) in self.loaded.sources.documents.iter().enumerate() {
            if self.bodies[i].is_none() {
                continue;
            }
            if self.effective.contains_key(&i) {
                pages.push(Page {
                    path: document_url(&d.id),
                    kind: PageKind::Effective(i),
                });
                pages.push(Page {
                    path: draft_url(&d.id),
                    kind: PageKind::Document(i),
                });
            } else {
                pages.push(Page {
                    path: document_url(&d.id),
                    kind: PageKind::Document(i),
                });
            }
        }
        for (i, r) in self.loaded.sources.records.iter().enumerate() {
            if self.own_page[i] {
                pages.push(Page {
                    path: format!("records/{}.html", r.id),
                    kind: PageKind::Record(i),
                });
            }
        }
        for (k, s) in &self.kinds {
            for n in 1..=self.kind_pages.get(k).copied().unwrap_or(1) {
                pages.push(Page {
                    path: kind_table_url(s, n),
                    kind: PageKind::Kind(k.clone(), n),
                });
            }
        }
        if self.history.sample.is_some() {
            pages.push(Page {
                path: "sample.html".into(),
                kind: PageKind::Sample,
            });
        }
        for (i, c) in crate::codes::CODES.iter().enumerate() {
            pages.push(Page {
                path: code_url(c.code),
                kind: PageKind::Code(i),
            });
        }
        pages
    }

    /// The bodies this site rendered, for the next build of a `serve` session; empty unless the
    /// site was made with a memo.
    pub fn body_memo(&self) -> BodyMemo {
        let mut bodies = HashMap::new();
        for ((d, body), key) in self
            .loaded
            .sources
            .documents
            .iter()
            .zip(&self.bodies)
            .zip(&self.body_keys)
        {
            if let (Some(b), Some(k)) = (body, key) {
                bodies.insert(d.path.clone(), (*k, Arc::clone(b)));
            }
        }
        BodyMemo {
            links: self.links_key,
            bodies,
        }
    }

    /// Render a page. With `previous` (the keys of a previous build, by page path) the page's key
    /// is computed, and when it equals the previous one the page is not rendered again.
    ///
    /// `reuse` (only with `previous`): the record memo of the previous build, when the caller
    /// checked that the inputs record pages share are those of that build (see [`RecordMemo`]); a
    /// record page whose own key is the memo's then keeps its previous key without its context
    /// being built.
    pub fn render(
        &self,
        page: &Page,
        previous: Option<&HashMap<String, Key>>,
        reuse: Option<&RecordMemo>,
    ) -> Result<PageOut> {
        let previous = previous.map(|p| p.get(&page.path));
        let mut own = None;
        if let (PageKind::Record(i), Some(previous)) = (&page.kind, previous) {
            let key = self.record_own_key(*i)?;
            if let (Some(reuse), Some(&before)) = (reuse, previous) {
                if reuse.own.get(&page.path) == Some(&key) {
                    return Ok(PageOut {
                        key: Some(before),
                        bytes: None,
                        own: Some(key),
                    });
                }
            }
            own = Some(key);
        }
        match &page.kind {
            PageKind::Index => self.page(
                ("index.html", previous),
                "",
                "Dashboard".into(),
                "index",
                self.dashboard(),
            ),
            PageKind::ClauseTree => self.page(
                ("clauses.html", previous),
                "",
                "Clauses".into(),
                "clauses",
                self.clause_tree(),
            ),
            PageKind::Clause(i) => {
                let c = &self.model.catalog.clauses[*i];
                self.page(
                    ("clause.html", previous),
                    "../",
                    format!("{} {}", c.id, c.title),
                    "clauses",
                    self.clause_page(*i),
                )
            }
            PageKind::Register => self.page(
                ("documents.html", previous),
                "",
                "Document register".into(),
                "documents",
                self.register(),
            ),
            PageKind::Document(i) => {
                let d = &self.loaded.sources.documents[*i];
                let title = if self.effective.contains_key(i) {
                    format!("DRAFT {} {}", d.id, d.title)
                } else {
                    format!("{} {}", d.id, d.title)
                };
                self.page(
                    ("document.html", previous),
                    "../",
                    title,
                    "documents",
                    self.document_page(*i, None),
                )
            }
            PageKind::Effective(i) => {
                let e = &self.effective[i];
                self.page(
                    ("document.html", previous),
                    "../",
                    format!("{} {}", e.doc.id, e.doc.title),
                    "documents",
                    self.document_page(*i, Some(e)),
                )
            }
            PageKind::Records => self.page(
                ("records.html", previous),
                "",
                "Records".into(),
                "records",
                self.records_overview(),
            ),
            PageKind::Kind(k, n) => self.page(
                ("kind.html", previous),
                "../",
                if *n == 1 {
                    format!("Records: {k}")
                } else {
                    format!("Records: {k}, page {n}")
                },
                "records",
                self.kind_page(k, *n),
            ),
            PageKind::Sample => self.page(
                ("sample.html", previous),
                "",
                "Auditor's sample".into(),
                "records",
                self.sample_page(),
            ),
            PageKind::Record(i) => {
                let r = &self.loaded.sources.records[*i];
                self.page(
                    ("record.html", previous),
                    "../",
                    format!("{} {}", r.id, r.title),
                    "records",
                    self.record_page(*i),
                )
            }
            PageKind::Matrix => self.page(
                ("matrix.html", previous),
                "",
                "Traceability matrix".into(),
                "matrix",
                self.matrix(),
            ),
            PageKind::Findings => self.page(
                ("findings.html", previous),
                "",
                "Findings".into(),
                "findings",
                self.findings_page(),
            ),
            PageKind::Code(i) => {
                let c = &crate::codes::CODES[*i];
                self.page(
                    ("code.html", previous),
                    "../",
                    format!("Finding code {}", c.code),
                    "findings",
                    self.code_page(c),
                )
            }
            PageKind::Search => {
                self.page(("search.html", previous), "", "Search".into(), "search", ())
            }
            PageKind::Changes => self.page(
                ("changes.html", previous),
                "",
                "Changes".into(),
                "changes",
                self.changes_page(),
            ),
            PageKind::Soa => self.page(
                ("soa.html", previous),
                "",
                "Statement of Applicability".into(),
                "soa",
                self.soa_page(),
            ),
            PageKind::AuditProgramme => self.page(
                ("audit-programme.html", previous),
                "",
                "Audit programme".into(),
                "records",
                self.audit_programme_page(),
            ),
            PageKind::People => self.page(
                ("people.html", previous),
                "",
                "Open items by owner".into(),
                "people",
                self.people_page(),
            ),
            PageKind::Person(g) => self.page(
                ("person.html", previous),
                "../",
                format!("Open items: {}", self.todo.groups[*g].label),
                "people",
                self.person_page(*g),
            ),
        }
        .map(|(key, text)| PageOut {
            key,
            bytes: text.map(String::into_bytes),
            own,
        })
    }

    /// The key of what every record page reads besides its own record (see [`RecordMemo`]):
    /// the site's header, every record's place (path, id, whether it is listed and has a page,
    /// its table page), the record kinds, every document's link (id, title, status, version,
    /// whether it has a page), the documents that are review evidence, clause coverage and the
    /// SoA. The catalogue and the configuration are not in it: they change only with a full
    /// reload, after which the caller reuses nothing.
    pub fn record_shared_key(&self) -> Result<Key> {
        let mut h = KeyHasher::default();
        serde_json::to_writer(&mut h, &self.view)
            .map_err(|e| anyhow!("cannot serialise the site's header: {e}"))?;
        h.part(&[u8::from(self.history.sample.is_some())]);
        let records = &self.loaded.sources.records;
        h.part(&(records.len() as u64).to_le_bytes());
        for (i, r) in records.iter().enumerate() {
            h.part(r.path.as_bytes());
            h.part(r.id.as_bytes());
            h.part(&[u8::from(self.listed[i]), u8::from(self.own_page[i])]);
            h.part(&self.table_page[i].to_le_bytes());
        }
        for (k, stem) in &self.kinds {
            h.part(k.as_bytes());
            h.part(stem.as_bytes());
            let pages = self.kind_pages.get(k).copied().unwrap_or(0) as u64;
            h.part(&pages.to_le_bytes());
        }
        let documents = &self.loaded.sources.documents;
        h.part(&(documents.len() as u64).to_le_bytes());
        for (i, d) in documents.iter().enumerate() {
            let l = self.doc_link(i);
            h.part(&[u8::from(self.bodies[i].is_some())]);
            let linked = self.model.documents_by_id.get(&crate::ids::key(&d.id)) == Some(&i);
            h.part(&[u8::from(linked)]);
            for part in [l.id, l.title, &l.url, l.status, l.version.unwrap_or("\0")] {
                h.part(part.as_bytes());
            }
        }
        let mut review: Vec<(&(&str, &str), &Vec<usize>)> = self.review_documents.iter().collect();
        review.sort();
        for ((kind, input), docs) in review {
            h.part(kind.as_bytes());
            h.part(input.as_bytes());
            for &d in docs {
                h.part(&(d as u64).to_le_bytes());
            }
        }
        for cov in &self.model.coverage {
            h.part(cov.clause.as_bytes());
            h.part(cov.status.as_str().as_bytes());
        }
        let mut soa: Vec<(&String, &Vec<usize>)> = self.soa_implementers.iter().collect();
        soa.sort();
        for (id, controls) in soa {
            h.part(id.as_bytes());
            for &c in controls {
                h.part(&(c as u64).to_le_bytes());
            }
        }
        Ok(h.finish())
    }

    /// The key of what record page `i` shows of its own besides the record (see [`RecordMemo`]):
    /// its place, the records that name it and its findings.
    pub fn record_own_key(&self, i: usize) -> Result<Key> {
        let r = &self.loaded.sources.records[i];
        let mut h = KeyHasher::default();
        h.part(&(i as u64).to_le_bytes());
        h.part(r.path.as_bytes());
        h.part(r.id.as_bytes());
        for id in self
            .model
            .backrefs
            .get(&crate::ids::key(&r.id))
            .into_iter()
            .flatten()
        {
            h.part(id.as_bytes());
        }
        let findings = self.record_findings(i);
        serde_json::to_writer(&mut h, &findings)
            .map_err(|e| anyhow!("cannot serialise the findings of `{}`: {e}", r.id))?;
        Ok(h.finish())
    }

    /// The findings a record's page lists.
    fn record_findings(&self, i: usize) -> Vec<FindingView<'a>> {
        let r = &self.loaded.sources.records[i];
        self.findings_of(
            self.findings_by_path
                .get(&*r.path)
                .into_iter()
                .flatten()
                .copied()
                .filter(|&f| {
                    let s = &self.findings[f].subject;
                    subject_head(s) == crate::ids::key(&r.id) || **s == *r.path
                }),
        )
    }

    /// Whether a change of these files may change a record page's own record: any file other
    /// than a Markdown document that holds no record (see [`RecordMemo`]). Documents that start or
    /// stop holding a record change [`Site::record_shared_key`].
    pub fn touches_records(&self, changed: &HashSet<String>) -> bool {
        changed.iter().any(|p| !p.ends_with(".md"))
            || self
                .loaded
                .sources
                .records
                .iter()
                .any(|r| changed.contains(&*r.path))
    }

    fn page<T: Serialize>(
        &self,
        (template, previous): (&str, Option<Option<&Key>>),
        root: &'static str,
        title: String,
        nav: &'static str,
        page: T,
    ) -> Result<(Option<Key>, Option<String>)> {
        let ctx = Ctx {
            site: &self.view,
            root,
            title,
            nav,
            page,
        };
        // The output is a function of the template set (the caller's memo is dropped when that
        // changes), the template's name and the context: hash the context as JSON.
        let key = match previous {
            None => None,
            Some(previous) => {
                let mut h = KeyHasher::default();
                h.part(template.as_bytes());
                serde_json::to_writer(&mut h, &ctx)
                    .map_err(|e| anyhow!("`{template}`: cannot serialise the page: {e}"))?;
                let key = h.finish();
                if previous == Some(&key) {
                    return Ok((Some(key), None));
                }
                Some(key)
            }
        };
        let t = self
            .templates
            .env
            .get_template(template)
            .map_err(|e| anyhow!("template `{template}`: {e:#}"))?;
        let mut s = t
            .render(Value::from(Serde(&ctx)))
            .map_err(|e| anyhow!("rendering `{template}` failed: {e:#}"))?;
        if !s.ends_with('\n') {
            s.push('\n');
        }
        Ok((key, Some(s)))
    }

    // ---------------------------------------------------------------- links

    fn doc_link(&self, i: usize) -> DocLink<'a> {
        let d = &self.loaded.sources.documents[i];
        DocLink {
            id: &d.id,
            title: &d.title,
            url: document_url(&d.id),
            status: d.status.as_str(),
            version: d.version.as_ref().map(|v| v.text.as_str()),
        }
    }

    fn derivation(&self, l: &'a crate::suspect::Derivation) -> DerivationView<'a> {
        DerivationView {
            child: self.doc_link(l.child),
            parent: self.doc_link(l.parent),
            state: l.state.as_str(),
            suspect: l.state == crate::suspect::LinkState::Suspect,
            parent_version: l.parent_version.as_ref().and_then(|v| v.version.as_deref()),
            parent_date: l.parent_version.as_ref().map(|v| v.date.to_string()),
            child_version: l.child_version.as_ref().and_then(|v| v.version.as_deref()),
            child_date: l.child_version.as_ref().map(|v| v.date.to_string()),
            reviewed: l.reviewed.map(|d| d.to_string()),
            revision_needed: l.revision_needed.map(|d| d.to_string()),
        }
    }

    fn doc_link_by_id(&self, id: &str) -> Option<DocLink<'a>> {
        self.model
            .documents_by_id
            .get(&crate::ids::key(id))
            .map(|&i| self.doc_link(i))
    }

    /// A record's link: its own page, else its row in its kind's table.
    fn rec_link(&self, i: usize) -> RecLink<'a> {
        let r = &self.loaded.sources.records[i];
        let url = if self.own_page[i] {
            format!("records/{}.html", r.id)
        } else {
            let stem = self.kinds.get(&*r.kind).map_or("", String::as_str);
            format!(
                "{}#{}",
                kind_table_url(stem, self.table_page[i].max(1) as usize),
                row_anchor(&r.id)
            )
        };
        RecLink {
            id: &r.id,
            title: &r.title,
            kind: &r.kind,
            date: r.date.map(|d| d.to_string()),
            url,
        }
    }

    fn rec_link_by_id(&self, id: &str) -> Option<RecLink<'a>> {
        self.model
            .records_by_id
            .get(&crate::ids::key(id))
            .map(|&i| self.rec_link(i))
    }

    fn clause_url(&self, id: &str) -> Option<String> {
        self.clause_stems
            .get(id)
            .map(|s| format!("clauses/{s}.html"))
    }

    fn clause_badge(&self, id: &'a str) -> ClauseBadge<'a> {
        let catalog = self.model.catalog;
        match (catalog.clause(id), self.model.coverage_of(id)) {
            (Some(c), Some(cov)) => ClauseBadge {
                id,
                title: &c.title,
                url: self.clause_url(&c.id),
                status: cov.status.as_str(),
                label: status_label(cov.status),
            },
            _ if catalog.is_elsewhere(id) => ClauseBadge {
                id,
                title: "a clause of a framework this site leaves out (--framework)",
                url: None,
                status: "unknown",
                label: "Not shown",
            },
            _ => ClauseBadge {
                id,
                title: "not a clause of the framework",
                url: None,
                status: "unknown",
                label: "Unknown clause",
            },
        }
    }

    fn kind_url(&self, kind: &str) -> Option<String> {
        self.kinds.get(kind).map(|s| format!("kinds/{s}.html"))
    }

    fn person(&self, who: &str) -> String {
        match self.loaded.config.person(who) {
            Some(p) => format!("{} ({})", p.name, p.id),
            None => who.to_string(),
        }
    }

    fn finding(&self, d: &'a Diagnostic) -> FindingView<'a> {
        let location = d.path.as_ref().map(|p| match d.pos {
            Some(pos) if !crate::codes::is_whole_sms(d.code) => {
                format!("{p}:{}:{}", pos.line, pos.col)
            }
            _ => p.clone(),
        });
        FindingView {
            severity: d.severity.as_str(),
            code: d.code,
            code_url: code_url(d.code),
            message: &d.message,
            help: d.help.as_deref(),
            location,
            url: self.finding_url(d),
        }
    }

    /// The page a finding is about: its subject's page, else the page of its file.
    fn finding_url(&self, d: &Diagnostic) -> Option<String> {
        let head = subject_head(&d.subject);
        if let Some(&i) = self.model.documents_by_id.get(&head) {
            return Some(self.doc_link(i).url);
        }
        if let Some(&i) = self.model.records_by_id.get(&head) {
            return Some(self.rec_link(i).url);
        }
        if let Some(u) = self.clause_url(d.subject.as_str()) {
            return Some(u);
        }
        let path = d.path.as_deref()?;
        let docs = &self.loaded.sources.documents;
        if let Some(i) = docs.iter().position(|x| &*x.path == path) {
            if self.bodies[i].is_some() {
                return Some(self.doc_link(i).url);
            }
        }
        let recs = &self.loaded.sources.records;
        recs.iter()
            .position(|x| &*x.path == path)
            .filter(|&i| self.listed[i])
            .map(|i| self.rec_link(i).url)
    }

    fn findings_of(&self, indexes: impl IntoIterator<Item = usize>) -> Vec<FindingView<'a>> {
        let mut set: Vec<usize> = indexes.into_iter().collect();
        set.sort_unstable();
        set.dedup();
        set.into_iter()
            .map(|i| self.finding(&self.findings[i]))
            .collect()
    }

    // ---------------------------------------------------------------- people

    fn todo_item<'s>(&'s self, it: &'s crate::todo::Item) -> TodoItemView<'s> {
        let url = match it.subject {
            crate::todo::Subject::Document => self
                .model
                .documents_by_id
                .get(&crate::ids::key(&it.id))
                .filter(|&&i| self.bodies[i].is_some())
                .map(|&i| self.doc_link(i).url),
            crate::todo::Subject::Record => self
                .model
                .records_by_id
                .get(&crate::ids::key(&it.id))
                .filter(|&&i| self.listed[i])
                .map(|&i| self.rec_link(i).url),
        };
        TodoItemView {
            task: it.task.as_str(),
            label: it.task.label(),
            id: &it.id,
            title: &it.title,
            kind: it.kind.as_deref(),
            status: it.status.as_deref(),
            url,
            location: format!("{}:{}", it.path, it.line),
            due: it.due.map(|d| d.to_string()),
            past_due: it.past_due,
            code: it.code,
            action: &it.action,
        }
    }

    fn owner_view(&self, g: usize) -> OwnerView<'_> {
        let group = &self.todo.groups[g];
        let (kind, role) = match group.owner {
            crate::todo::Owner::Person(i) => {
                ("person", self.loaded.config.people[i].role.as_deref())
            }
            crate::todo::Owner::Named(_) => ("other", None),
            crate::todo::Owner::Unowned => ("unowned", None),
        };
        OwnerView {
            id: group.id.as_deref(),
            label: &group.label,
            kind,
            role,
            url: self.person_stems[g].as_deref().map(person_url),
            past_due: group.items.iter().filter(|i| i.past_due).count(),
            items: group.items.iter().map(|it| self.todo_item(it)).collect(),
        }
    }

    fn people_page(&self) -> impl Serialize + '_ {
        #[derive(Serialize)]
        struct People<'b> {
            days: u32,
            due_by: String,
            total: usize,
            owners: Vec<OwnerView<'b>>,
        }
        People {
            days: self.todo.days,
            due_by: self.todo.due_by.to_string(),
            total: self.todo.items(),
            owners: (0..self.todo.groups.len())
                .map(|g| self.owner_view(g))
                .collect(),
        }
    }

    fn person_page(&self, g: usize) -> impl Serialize + '_ {
        #[derive(Serialize)]
        struct Person<'b> {
            days: u32,
            due_by: String,
            owner: OwnerView<'b>,
        }
        Person {
            days: self.todo.days,
            due_by: self.todo.due_by.to_string(),
            owner: self.owner_view(g),
        }
    }

    // ---------------------------------------------------------------- dashboard

    fn dashboard(&self) -> impl Serialize + '_ {
        #[derive(Serialize, Clone)]
        struct Group<'b> {
            id: &'b str,
            title: &'b str,
            url: Option<String>,
            status: &'static str,
            label: &'static str,
            leaves: usize,
            covered: usize,
            overdue: usize,
            partial: usize,
            missing: usize,
            segments: Vec<Segment>,
        }
        #[derive(Serialize, Clone)]
        struct Segment {
            class: &'static str,
            x: String,
            width: String,
        }
        #[derive(Serialize)]
        struct ReviewView<'b> {
            doc: DocLink<'b>,
            owner: String,
            next: String,
            days: i32,
        }
        #[derive(Serialize)]
        struct Counts {
            errors: usize,
            warnings: usize,
            notes: usize,
        }
        #[derive(Serialize)]
        struct Totals {
            documents: usize,
            approved: usize,
            drafts: usize,
            records: usize,
            kinds: usize,
        }
        /// One coverage panel per framework (primary first).
        #[derive(Serialize)]
        struct Panel<'b> {
            id: &'b str,
            title: &'b str,
            leaves: usize,
            leaves_covered: usize,
            /// Annex A controls the Statement of Applicability excludes (not in `leaves`).
            excluded: usize,
            groups: Vec<Group<'b>>,
        }
        #[derive(Serialize)]
        struct Dashboard<'b> {
            summary: crate::model::CoverageSummary,
            groups: Vec<Group<'b>>,
            panels: Vec<Panel<'b>>,
            counts: Counts,
            top_findings: Vec<FindingView<'b>>,
            overdue: Vec<ReviewView<'b>>,
            upcoming: Vec<ReviewView<'b>>,
            custom_templates: &'b [Custom],
            totals: Totals,
            has_changes: bool,
            /// `None` when no document uses `derives`.
            suspect_links: Option<SuspectLinks<'b>>,
        }
        #[derive(Serialize)]
        struct SuspectLinks<'b> {
            /// Every `derives` link.
            total: usize,
            suspect: Vec<DerivationView<'b>>,
        }
        let model = self.model;
        let catalog = model.catalog;
        let mut groups = Vec::new();
        let mut panels: Vec<Panel<'_>> = Vec::new();
        let per_framework = model.framework_summaries();
        for (gi, top) in catalog.clauses.iter().enumerate() {
            if !top.is_top_level() {
                continue;
            }
            let fw = catalog.framework_of(top);
            if panels.last().is_none_or(|p| p.id != fw.id) {
                // The counts every other output gives for this framework.
                let s = per_framework
                    .iter()
                    .find(|(f, _)| f.id == fw.id)
                    .map(|(_, s)| *s)
                    .unwrap_or_default();
                panels.push(Panel {
                    id: &fw.id,
                    title: &fw.title,
                    leaves: s.clauses,
                    leaves_covered: s.covered,
                    excluded: s.excluded,
                    groups: Vec::new(),
                });
            }
            let (mut leaves, mut covered, mut overdue, mut partial, mut missing) = (0, 0, 0, 0, 0);
            for (ci, c) in catalog.clauses.iter().enumerate() {
                if !c.is_requirement() || !descends(catalog, c, &top.id) {
                    continue;
                }
                let st = model.coverage[ci].status;
                if st == CoverageStatus::Excluded {
                    // Not applicable: not among the leaves the bar counts (as in the summary).
                    continue;
                }
                leaves += 1;
                match st {
                    CoverageStatus::Covered => covered += 1,
                    CoverageStatus::CoveredReviewOverdue => overdue += 1,
                    CoverageStatus::Partial => partial += 1,
                    CoverageStatus::Missing => missing += 1,
                    CoverageStatus::Excluded => {}
                }
            }
            let parts: Vec<(&'static str, usize)> = [
                ("covered", covered),
                ("covered-review-overdue", overdue),
                ("partial", partial),
                ("missing", missing),
            ]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .collect();
            // Per-mille widths so the bar is exact to 0.1 % and never depends on floats.
            let mut widths: Vec<usize> = parts
                .iter()
                .map(|(_, n)| n * 1000 / leaves.max(1))
                .collect();
            let n_parts = widths.len();
            if n_parts > 0 {
                let others: usize = widths[..n_parts - 1].iter().sum();
                widths[n_parts - 1] = 1000 - others;
            }
            let mut segments = Vec::new();
            let mut x = 0usize;
            for ((class, _), w) in parts.iter().zip(widths) {
                segments.push(Segment {
                    class,
                    x: permille(x),
                    width: permille(w),
                });
                x += w;
            }
            let status = model.coverage[gi].status;
            let group = Group {
                id: &top.id,
                title: &top.title,
                url: self.clause_url(&top.id),
                status: status.as_str(),
                label: status_label(status),
                leaves,
                covered,
                overdue,
                partial,
                missing,
                segments,
            };
            if let Some(p) = panels.last_mut() {
                p.groups.push(group.clone());
            }
            groups.push(group);
        }
        let c = crate::diag::count(self.findings);
        let top_findings = self
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .take(10)
            .map(|f| self.finding(f))
            .collect();
        let docs = &self.loaded.sources.documents;
        let mut overdue = Vec::new();
        let mut upcoming = Vec::new();
        for (i, d) in docs.iter().enumerate() {
            if !crate::model::is_effective(d) || self.bodies[i].is_none() {
                continue;
            }
            let r = &model.reviews[i];
            let Some(next) = r.next else { continue };
            let days = (next - model.as_of).get_days();
            let v = ReviewView {
                doc: self.doc_link(i),
                owner: d
                    .owner
                    .as_deref()
                    .map(|o| self.person(o))
                    .unwrap_or_default(),
                next: next.to_string(),
                days,
            };
            if r.overdue {
                overdue.push((next, d.id.as_str(), v));
            } else if days <= UPCOMING_DAYS {
                upcoming.push((next, d.id.as_str(), v));
            }
        }
        overdue.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        upcoming.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        Dashboard {
            summary: model.summary(),
            groups,
            panels,
            counts: Counts {
                errors: c.errors,
                warnings: c.warnings,
                notes: c.notes,
            },
            top_findings,
            overdue: overdue.into_iter().map(|x| x.2).collect(),
            upcoming: upcoming.into_iter().map(|x| x.2).collect(),
            custom_templates: &self.templates.custom,
            totals: Totals {
                documents: self.bodies.iter().filter(|b| b.is_some()).count(),
                approved: docs.iter().filter(|d| d.status == Status::Approved).count(),
                drafts: docs
                    .iter()
                    .filter(|d| matches!(d.status, Status::Draft | Status::InReview))
                    .count(),
                records: self.listed.iter().filter(|&&p| p).count(),
                kinds: self.kinds.len(),
            },
            has_changes: self.history.changes.is_some(),
            suspect_links: (!self.derivations.derivations.is_empty()).then(|| SuspectLinks {
                total: self.derivations.derivations.len(),
                suspect: self
                    .derivations
                    .suspect()
                    .map(|l| self.derivation(l))
                    .collect(),
            }),
        }
    }

    // ---------------------------------------------------------------- clauses

    fn clause_tree(&self) -> impl Serialize + '_ {
        #[derive(Serialize)]
        struct Node<'b> {
            id: &'b str,
            title: &'b str,
            url: Option<String>,
            status: &'static str,
            label: &'static str,
            documents: usize,
            records: usize,
            children: Vec<Node<'b>>,
        }
        fn build<'b>(site: &Site<'b>, i: usize) -> Node<'b> {
            let c = &site.model.catalog.clauses[i];
            let cov = &site.model.coverage[i];
            let children = c
                .children
                .iter()
                .filter_map(|id| site.model.catalog.clauses.iter().position(|x| &x.id == id))
                .map(|j| build(site, j))
                .collect();
            Node {
                id: &c.id,
                title: &c.title,
                url: site.clause_url(&c.id),
                status: cov.status.as_str(),
                label: status_label(cov.status),
                documents: cov.documents.len(),
                records: cov.records.len(),
                children,
            }
        }
        /// One framework's part of the tree, shown under its own heading when there are several.
        #[derive(Serialize)]
        struct FrameworkTree<'b> {
            id: &'b str,
            title: &'b str,
            primary: bool,
            summary: crate::model::CoverageSummary,
            clauses: Vec<Node<'b>>,
        }
        #[derive(Serialize)]
        struct Tree<'b> {
            clauses: Vec<Node<'b>>,
            summary: crate::model::CoverageSummary,
            frameworks: Vec<FrameworkTree<'b>>,
        }
        let catalog = self.model.catalog;
        let top_of = |fw: Option<usize>| -> Vec<Node<'_>> {
            catalog
                .clauses
                .iter()
                .enumerate()
                .filter(|(_, c)| c.is_top_level() && fw.is_none_or(|f| c.framework == f))
                .map(|(i, _)| build(self, i))
                .collect()
        };
        let frameworks = self
            .model
            .framework_summaries()
            .into_iter()
            .filter_map(|(f, summary)| {
                let fi = catalog.framework_index(&f.id)?;
                Some(FrameworkTree {
                    id: &f.id,
                    title: &f.title,
                    primary: fi == 0,
                    summary,
                    clauses: top_of(Some(fi)),
                })
            })
            .collect();
        Tree {
            clauses: top_of(None),
            summary: self.model.summary(),
            frameworks,
        }
    }

    fn clause_page(&self, i: usize) -> impl Serialize + '_ {
        #[derive(Serialize)]
        struct Named<'b> {
            id: &'b str,
            title: String,
            provided_by: Vec<DocLink<'b>>,
        }
        #[derive(Serialize)]
        struct KindNeed<'b> {
            kind: &'b str,
            title: String,
            url: Option<String>,
            count: usize,
            newest: Option<String>,
            fresh_within: Option<String>,
            state: &'static str,
            /// For a kind held in another system: where, and what stands for it in git.
            held: Option<String>,
        }
        #[derive(Serialize)]
        struct ClausePage<'b> {
            id: &'b str,
            title: &'b str,
            summary: &'b str,
            evidence: &'static str,
            status: &'static str,
            label: &'static str,
            documented: Option<bool>,
            evidenced: Option<bool>,
            current: bool,
            parent: Option<ClauseBadge<'b>>,
            children: Vec<ClauseBadge<'b>>,
            documents: Vec<DocLink<'b>>,
            drafts: Vec<DocLink<'b>>,
            cross_references: Vec<DocLink<'b>>,
            records: Vec<RecLink<'b>>,
            records_total: usize,
            named: Vec<Named<'b>>,
            kinds: Vec<KindNeed<'b>>,
            missing: Vec<String>,
            delegated_to: Option<&'b str>,
            /// The control's row in the Statement of Applicability.
            soa: Option<SoaCell<'b>>,
            findings: Vec<FindingView<'b>>,
            related: Vec<RelatedClause<'b>>,
        }
        let model = self.model;
        let c: &'a Clause = &model.catalog.clauses[i];
        let cov: &ClauseCoverage = &model.coverage[i];
        let recs = &self.loaded.sources.records;
        let mut records: Vec<usize> = cov
            .records
            .iter()
            .copied()
            .filter(|&r| self.listed[r])
            .collect();
        records.sort_by(|&a, &b| (recs[b].date, &recs[a].id).cmp(&(recs[a].date, &recs[b].id)));
        let records_total = records.len();
        let named = c
            .documents
            .iter()
            .map(|n| {
                let provided_by = self
                    .loaded
                    .sources
                    .documents
                    .iter()
                    .enumerate()
                    .filter(|(j, d)| {
                        self.bodies[*j].is_some() && d.provides.iter().any(|p| &p.text == n)
                    })
                    .map(|(j, _)| self.doc_link(j))
                    .collect();
                Named {
                    id: n,
                    title: model
                        .catalog
                        .named_document(n)
                        .map(|d| d.title.clone())
                        .unwrap_or_else(|| n.clone()),
                    provided_by,
                }
            })
            .collect();
        let mut kind_ids: Vec<&str> = c.records.iter().map(String::as_str).collect();
        if let Some(a) = self
            .loaded
            .config
            .applicability
            .iter()
            .find(|a| a.clause == c.id)
        {
            if let Some(k) = &a.review_kind {
                kind_ids.push(k);
            }
        }
        let kinds = kind_ids
            .into_iter()
            .map(|k| {
                let list = model
                    .records_by_kind
                    .get(k)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let newest = list.iter().filter_map(|&r| recs[r].date).max();
                let stale = cov.stale_kinds.iter().any(|s| s.kind == k);
                let missing = cov.missing_kinds.iter().any(|m| m == k);
                // Held elsewhere: the row counts the records that stand for it.
                let external = model.held_elsewhere(k);
                let (list, newest) = match external {
                    Some(e) => {
                        let proxy = model
                            .records_by_kind
                            .get(&e.evidenced_by)
                            .map(Vec::as_slice)
                            .unwrap_or_default();
                        (proxy, proxy.iter().filter_map(|&r| recs[r].date).max())
                    }
                    None => (list, newest),
                };
                let held = external.map(|e| {
                    let mut t = format!("Held in {}", e.system);
                    if let Some(l) = &e.location {
                        t.push_str(&format!(" ({l})"));
                    }
                    if let Some(o) = &e.owner {
                        t.push_str(&format!(", owner {o}"));
                    }
                    t.push_str(&format!(
                        "; sample there. Counted here: the `{}` records that stand for it.",
                        e.evidenced_by
                    ));
                    t
                });
                KindNeed {
                    kind: k,
                    title: model
                        .catalog
                        .record_kind(k)
                        .map(|x| x.title.clone())
                        .unwrap_or_else(|| k.to_string()),
                    url: self.kind_url(k),
                    count: list.len(),
                    newest: newest.map(|d| d.to_string()),
                    fresh_within: model
                        .fresh_within(external.map_or(k, |e| e.evidenced_by.as_str()))
                        .map(|w| w.to_string()),
                    state: if missing {
                        "missing"
                    } else if stale {
                        "stale"
                    } else {
                        "ok"
                    },
                    held,
                }
            })
            .collect();
        let findings = self.findings_of(
            self.findings_by_subject
                .get(&subject_head(&c.id))
                .into_iter()
                .flatten()
                .copied()
                .filter(|&f| self.findings[f].subject == c.id),
        );
        ClausePage {
            id: &c.id,
            title: &c.title,
            summary: &c.summary,
            evidence: c.evidence.as_str(),
            status: cov.status.as_str(),
            label: status_label(cov.status),
            documented: cov.documented,
            evidenced: cov.evidenced,
            current: cov.current,
            parent: c.parent.as_deref().map(|p| self.clause_badge(p)),
            children: c.children.iter().map(|ch| self.clause_badge(ch)).collect(),
            documents: cov
                .documents
                .iter()
                .filter(|&&d| self.bodies[d].is_some())
                .map(|&d| self.doc_link(d))
                .collect(),
            drafts: cov
                .not_effective
                .iter()
                .filter(|&&d| self.bodies[d].is_some())
                .map(|&d| self.doc_link(d))
                .collect(),
            cross_references: cov
                .cross_references
                .iter()
                .filter(|&&d| self.bodies[d].is_some())
                .map(|&d| self.doc_link(d))
                .collect(),
            records: records
                .into_iter()
                .take(CLAUSE_RECORDS_SHOWN)
                .map(|r| self.rec_link(r))
                .collect(),
            records_total,
            named,
            kinds,
            missing: self.missing_reasons(c, cov),
            delegated_to: cov.delegated_to.as_deref(),
            soa: self.soa_cell(i),
            findings,
            related: self.related_clauses(c),
        }
    }

    /// Clauses of other loaded frameworks that a mapping relates to `c` (both directions), for
    /// "related, see …" on its page. Information, never coverage; clauses left out of the site
    /// (`--framework`) are not listed.
    fn related_clauses(&self, c: &Clause) -> Vec<RelatedClause<'a>> {
        let catalog = self.model.catalog;
        let framework = &catalog.frameworks[c.framework].id;
        crate::catalog::mapping::related(&catalog.mappings, framework, catalog.local_id(c))
            .into_iter()
            .filter_map(|r| {
                let id = crate::catalog::mapping::combined_id(catalog, r.framework, r.clause)?;
                let other: &'a Clause = catalog.clause(&id)?;
                Some(RelatedClause {
                    clause: self.clause_badge(&other.id),
                    title: &other.title,
                    framework: r.framework,
                    relation: r.relation.as_str(),
                    shared: r.shared,
                    note: r.note,
                    mapping: r.mapping,
                })
            })
            .collect()
    }

    /// What a clause lacks, in sentences an auditor reads.
    fn missing_reasons(&self, c: &Clause, cov: &ClauseCoverage) -> Vec<String> {
        let model = self.model;
        let mut out = Vec::new();
        if !c.children.is_empty() || c.evidence == Evidence::Heading {
            let index: HashMap<&str, usize> = model
                .catalog
                .clauses
                .iter()
                .enumerate()
                .map(|(i, c)| (c.id.as_str(), i))
                .collect();
            let not: Vec<&str> = c
                .children
                .iter()
                .filter(|ch| {
                    index
                        .get(ch.as_str())
                        .is_some_and(|&j| !model.coverage[j].status.is_covered())
                })
                .map(String::as_str)
                .collect();
            if !not.is_empty() {
                out.push(format!(
                    "Derived from its sub-clauses; not yet covered: {}.",
                    not.join(", ")
                ));
            }
            return out;
        }
        if cov.documented == Some(false) {
            if cov.documents.is_empty() {
                out.push(format!(
                    "No approved document lists {} in its frontmatter `clauses`.",
                    c.id
                ));
            }
            if !cov.not_effective.is_empty() {
                let ids: Vec<&str> = cov
                    .not_effective
                    .iter()
                    .map(|&i| self.loaded.sources.documents[i].id.as_str())
                    .collect();
                out.push(format!(
                    "Cited by {} that {} not approved (drafts and documents in review never count).",
                    ids.join(", "),
                    if ids.len() == 1 { "is" } else { "are" }
                ));
            }
        }
        for n in &cov.missing_documents {
            let title = model
                .catalog
                .named_document(n)
                .map(|d| d.title.as_str())
                .unwrap_or(n);
            out.push(format!(
                "The {title} (`{n}`) is required; no approved document says `provides: [{n}]`."
            ));
        }
        for k in &cov.missing_kinds {
            match model.config.external_kind(k) {
                Some(e) => out.push(format!(
                    "`{k}` records are held in {}; no `{}` record stands for them.",
                    e.system, e.evidenced_by
                )),
                None => out.push(format!("No `{k}` record exists.")),
            }
        }
        for s in &cov.stale_kinds {
            let of = s.via.as_deref().unwrap_or(&s.kind);
            out.push(format!(
                "The newest `{of}` record is from {}; one is needed within {} before {}.",
                s.newest, s.within, model.as_of
            ));
        }
        if !cov.current {
            for &i in &cov.documents {
                if model.reviews[i].overdue {
                    let d = &self.loaded.sources.documents[i];
                    out.push(format!(
                        "The periodic review of {} was due on {}.",
                        d.id,
                        model.reviews[i]
                            .next
                            .map(|n| n.to_string())
                            .unwrap_or_default()
                    ));
                }
            }
        }
        out
    }

    // ---------------------------------------------------------------- documents

    fn register(&self) -> impl Serialize + '_ {
        #[derive(Serialize)]
        struct Row<'b> {
            doc: DocLink<'b>,
            doc_type: &'b str,
            owner: String,
            approver: String,
            approved: Option<String>,
            next_review: Option<String>,
            overdue: bool,
            path: &'b str,
        }
        #[derive(Serialize)]
        struct Register<'b> {
            rows: Vec<Row<'b>>,
        }
        Register {
            rows: self
                .register_order()
                .into_iter()
                .map(|i| {
                    let d = &self.loaded.sources.documents[i];
                    let r = &self.model.reviews[i];
                    Row {
                        doc: self.doc_link(i),
                        doc_type: d.doc_type.as_deref().unwrap_or(""),
                        owner: d
                            .owner
                            .as_deref()
                            .map(|o| self.person(o))
                            .unwrap_or_default(),
                        approver: d
                            .approver
                            .as_ref()
                            .map(|a| self.person(&a.text))
                            .unwrap_or_default(),
                        approved: d.approved.map(|a| a.to_string()),
                        next_review: r.next.map(|n| n.to_string()),
                        overdue: r.overdue,
                        path: &d.path,
                    }
                })
                .collect(),
        }
    }

    /// Documents with a page, by id.
    fn register_order(&self) -> Vec<usize> {
        let docs = &self.loaded.sources.documents;
        let mut v: Vec<usize> = (0..docs.len())
            .filter(|&i| self.bodies[i].is_some())
            .collect();
        v.sort_by(|&a, &b| {
            (crate::ids::key(&docs[a].id), &docs[a].id)
                .cmp(&(crate::ids::key(&docs[b].id), &docs[b].id))
        });
        v
    }

    /// A document's page: the work-tree text, or with `eff` the text in force of a document in
    /// revision (metadata, clauses and body of that revision; findings, history, backlinks and
    /// records are the document's).
    fn document_page<'s>(
        &'s self,
        i: usize,
        eff: Option<&'s EffectiveText>,
    ) -> impl Serialize + 's {
        #[derive(Serialize)]
        struct Meta {
            key: String,
            value: String,
        }
        #[derive(Serialize)]
        struct Toc<'b> {
            level: u8,
            text: &'b str,
            anchor: &'b str,
        }
        #[derive(Serialize)]
        struct RevisionView<'b> {
            commit: &'b str,
            commit_short: String,
            date: &'b str,
            author: &'b str,
            version: Option<&'b str>,
            status: Option<&'b str>,
            approval: Option<&'b str>,
            signature: Option<&'b str>,
            summary: &'b str,
        }
        #[derive(Serialize)]
        struct DocumentPage<'b> {
            doc: DocLink<'b>,
            path: &'b str,
            meta: Vec<Meta>,
            extra: Vec<Meta>,
            provides: Vec<&'b str>,
            clauses: Vec<ClauseBadge<'b>>,
            effective: bool,
            next_review: Option<String>,
            overdue: bool,
            toc: Vec<Toc<'b>>,
            body: Value,
            backlinks: Vec<DocLink<'b>>,
            records: Vec<RecLink<'b>>,
            findings: Vec<FindingView<'b>>,
            history: Option<Vec<RevisionView<'b>>>,
            /// The file's commits before it came under control, newest first.
            before_control: Vec<RevisionView<'b>>,
            refused: Vec<ListedFile<'b>>,
            in_progress: Option<InProgress<'b>>,
            /// Annex A controls the Statement of Applicability says this document implements.
            implements: Vec<ClauseBadge<'b>>,
            /// The documents this one derives from (`derives`), judged.
            derives: Vec<DerivationView<'b>>,
            /// The documents derived from this one.
            derived: Vec<DerivationView<'b>>,
        }

        /// A draft or in-review revision whose last approved version is still in force.
        #[derive(Serialize)]
        struct InProgress<'b> {
            version: Option<&'b str>,
            approved: Option<String>,
            commit: String,
            path: &'b str,
            clauses: Vec<ClauseBadge<'b>>,
            /// On the page of the text in force: the draft's page.
            draft_url: Option<String>,
            /// On the draft's page: the page of the text in force.
            effective_url: Option<String>,
        }
        let work: &'a Document = &self.loaded.sources.documents[i];
        // What the page shows: the revision in force, or the work-tree text.
        let d: &'s Document = eff.map_or(work, |e| &e.doc);
        let r = &self.model.reviews[i];
        let body = eff.map(|e| &e.body).or(self.bodies[i].as_ref());
        let mut meta = vec![
            Meta {
                key: "Id".into(),
                value: d.id.clone(),
            },
            Meta {
                key: "Title".into(),
                value: d.title.clone(),
            },
            Meta {
                key: "Type".into(),
                value: d.doc_type.clone().unwrap_or_default(),
            },
            Meta {
                key: "Version".into(),
                value: d
                    .version
                    .as_ref()
                    .map(|v| v.text.clone())
                    .unwrap_or_default(),
            },
            Meta {
                key: "Status".into(),
                value: d.status.as_str().into(),
            },
            Meta {
                key: "Owner".into(),
                value: d
                    .owner
                    .as_deref()
                    .map(|o| self.person(o))
                    .unwrap_or_default(),
            },
            Meta {
                key: "Approver".into(),
                value: d
                    .approver
                    .as_ref()
                    .map(|a| self.person(&a.text))
                    .unwrap_or_default(),
            },
            Meta {
                key: "Approved".into(),
                value: d.approved.map(|a| a.to_string()).unwrap_or_default(),
            },
            Meta {
                key: "Review interval".into(),
                value: d
                    .review
                    .unwrap_or(self.loaded.config.review_interval)
                    .to_string(),
            },
        ];
        if let Some(l) = r.last_no_change {
            meta.push(Meta {
                key: "Last review (no change)".into(),
                value: l.to_string(),
            });
        }
        let extra = d
            .extra
            .iter()
            .map(|(k, v)| Meta {
                key: k.clone(),
                value: v.clone(),
            })
            .collect();
        let findings = self.findings_of(
            self.findings_by_path
                .get(work.path.as_str())
                .into_iter()
                .flatten()
                .copied(),
        );
        let view = |r: &'a crate::site::Revision| RevisionView {
            commit: &r.commit,
            commit_short: r.commit.chars().take(12).collect(),
            date: &r.date,
            author: &r.author,
            version: r.version.as_deref(),
            status: r.status.as_deref(),
            approval: r.approval.as_deref(),
            signature: r.signature.as_deref(),
            summary: &r.summary,
        };
        let history = self
            .history
            .revisions
            .get(&crate::ids::key(&work.id))
            .map(|revs| revs.iter().map(view).collect());
        let before_control = self
            .history
            .before_control
            .get(&crate::ids::key(&work.id))
            .map(|revs| revs.iter().map(view).collect())
            .unwrap_or_default();
        DocumentPage {
            doc: DocLink {
                id: &d.id,
                title: &d.title,
                url: document_url(&d.id),
                status: d.status.as_str(),
                version: d.version.as_ref().map(|v| v.text.as_str()),
            },
            path: &d.path,
            meta,
            extra,
            provides: d.provides.iter().map(|p| p.text.as_str()).collect(),
            clauses: d.clauses.iter().map(|c| self.clause_badge(&c.id)).collect(),
            effective: crate::model::is_effective(d),
            next_review: r.next.map(|n| n.to_string()),
            overdue: r.overdue,
            toc: d
                .parsed
                .headings
                .iter()
                .filter(|h| h.level <= 3)
                .map(|h| Toc {
                    level: h.level,
                    text: &h.text,
                    anchor: &h.anchor,
                })
                .collect(),
            body: Value::from_safe_string(body.map(|b| b.html.clone()).unwrap_or_default()),
            backlinks: self
                .doc_backlinks
                .get(&i)
                .into_iter()
                .flatten()
                .filter(|&&j| self.bodies[j].is_some())
                .map(|&j| self.doc_link(j))
                .collect(),
            records: self
                .doc_records
                .get(&i)
                .into_iter()
                .flatten()
                .filter(|&&j| self.listed[j])
                .map(|&j| self.rec_link(j))
                .collect(),
            findings,
            history,
            before_control,
            refused: body
                .map(|b| b.refused.iter().map(|p| self.listed_file(p)).collect())
                .unwrap_or_default(),
            in_progress: self
                .loaded
                .effective
                .get(&crate::ids::key(&work.id))
                .map(|e| InProgress {
                    version: e.version.as_deref(),
                    approved: e.approved.map(|a| a.to_string()),
                    commit: e.commit.chars().take(12).collect(),
                    path: &e.path,
                    clauses: e.clauses.iter().map(|c| self.clause_badge(c)).collect(),
                    draft_url: eff.map(|_| draft_url(&work.id)),
                    effective_url: (eff.is_none() && self.effective.contains_key(&i))
                        .then(|| document_url(&work.id)),
                }),
            implements: self.soa_implements(&work.id),
            derives: self
                .derivations
                .of_child(i)
                .map(|l| self.derivation(l))
                .collect(),
            derived: self
                .derivations
                .of_parent(i)
                .map(|l| self.derivation(l))
                .collect(),
        }
    }

    /// What the page says about a linked file it does not copy: size, SHA-256 (when read) and
    /// why it is not copied.
    fn listed_file<'b>(&self, path: &'b str) -> ListedFile<'b> {
        use sha2::{Digest, Sha256};
        let entry = self.loaded.snapshot.get(path).map(|e| &e.kind);
        let (size, bytes) = match entry {
            Some(EntryKind::File { size, bytes }) => (Some(*size), bytes.as_deref()),
            Some(EntryKind::TooLarge { size }) => (Some(*size), None),
            Some(
                EntryKind::Symlink { .. } | EntryKind::Submodule | EntryKind::NotRegular { .. },
            )
            | None => (None, None),
        };
        let special = match entry {
            Some(EntryKind::NotRegular { .. }) => {
                Some("not a regular file (a FIFO, socket or device): never opened")
            }
            Some(EntryKind::TooLarge { .. }) => Some("over `limits.max_file_size`: not read"),
            _ => None,
        };
        ListedFile {
            path,
            anchor: super::html::listing_anchor(path),
            size,
            sha256: bytes.map(|b| {
                Sha256::digest(b)
                    .iter()
                    .map(|x| format!("{x:02x}"))
                    .collect()
            }),
            reason: special.unwrap_or_else(|| {
                super::attachment::refusal(path, bytes)
                    .unwrap_or("not an image type that a page may show")
            }),
        }
    }

    // ---------------------------------------------------------------- records

    fn records_overview(&self) -> impl Serialize + '_ {
        #[derive(Serialize)]
        struct KindRow<'b> {
            kind: &'b str,
            title: String,
            url: Option<String>,
            count: usize,
            newest: Option<String>,
            fresh_within: Option<String>,
            known: bool,
            clauses: Vec<ClauseBadge<'b>>,
        }
        #[derive(Serialize)]
        struct Overview<'b> {
            kinds: Vec<KindRow<'b>>,
            missing: Vec<KindRow<'b>>,
        }
        let recs = &self.loaded.sources.records;
        let catalog = self.model.catalog;
        let kinds = self
            .kinds
            .keys()
            .map(|k| {
                let list = &self.model.records_by_kind[k];
                let kk = catalog.record_kind(k);
                KindRow {
                    kind: k,
                    title: kk.map(|x| x.title.clone()).unwrap_or_else(|| k.clone()),
                    url: self.kind_url(k),
                    count: list.iter().filter(|&&r| self.listed[r]).count(),
                    newest: list
                        .iter()
                        .filter_map(|&r| recs[r].date)
                        .max()
                        .map(|d| d.to_string()),
                    fresh_within: self.model.fresh_within(k).map(|w| w.to_string()),
                    known: kk.is_some(),
                    clauses: kk
                        .map(|x| x.clauses.iter().map(|c| self.clause_badge(c)).collect())
                        .unwrap_or_default(),
                }
            })
            .collect();
        let missing = catalog
            .record_kinds
            .iter()
            .filter(|k| !self.kinds.contains_key(&k.id))
            .map(|k| KindRow {
                kind: &k.id,
                title: k.title.clone(),
                url: None,
                count: 0,
                newest: None,
                fresh_within: self.model.fresh_within(&k.id).map(|w| w.to_string()),
                known: true,
                clauses: k.clauses.iter().map(|c| self.clause_badge(c)).collect(),
            })
            .collect();
        Overview { kinds, missing }
    }

    /// The columns of a kind's table besides id, date and title.
    fn kind_columns(&self, kind: &str) -> Vec<String> {
        let recs = &self.loaded.sources.records;
        let list: &[usize] = self
            .model
            .records_by_kind
            .get(kind)
            .map(Vec::as_slice)
            .unwrap_or_default();
        match self.model.catalog.record_kind(kind) {
            Some(k) => k.required.clone(),
            None => {
                if list.iter().any(|&r| recs[r].field("status").is_some()) {
                    vec!["status".to_string()]
                } else {
                    Vec::new()
                }
            }
        }
    }

    /// The records a kind's table lists, in table order.
    fn kind_rows(&self, kind: &str) -> impl Iterator<Item = usize> + '_ {
        self.model
            .records_by_kind
            .get(kind)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .copied()
            .filter(|&r| self.listed[r])
    }

    /// Page `n` of a kind's table: [`TABLE_ROWS`] rows, links to the other pages, and (when
    /// there is more than one page) a filter over every page's rows, read from `kinds/<stem>.rows.js`
    /// by a `<script>` element, so that it works from `file://`.
    fn kind_page(&self, kind: &str, n: usize) -> impl Serialize + '_ {
        #[derive(Serialize)]
        struct Row<'b> {
            rec: RecLink<'b>,
            /// Whether the id links to a page of the record's own.
            own: bool,
            anchor: String,
            cells: Vec<String>,
        }
        #[derive(Serialize)]
        struct PageLink {
            n: usize,
            url: String,
            current: bool,
            /// Pages between this one and the previous link are left out.
            gap_before: bool,
        }
        #[derive(Serialize)]
        struct KindPage<'b> {
            kind: String,
            title: String,
            columns: Vec<String>,
            rows: Vec<Row<'b>>,
            total: usize,
            first: usize,
            last: usize,
            page: usize,
            pages: usize,
            page_links: Vec<PageLink>,
            prev_url: Option<String>,
            next_url: Option<String>,
            /// The script with every row of the kind, for the filter over all pages.
            rows_js: Option<String>,
            stem: &'b str,
            fresh_within: Option<String>,
            clauses: Vec<ClauseBadge<'b>>,
        }
        let catalog = self.model.catalog;
        let kk = catalog.record_kind(kind);
        let recs = &self.loaded.sources.records;
        let columns = self.kind_columns(kind);
        let stem = self.kinds.get(kind).map_or("", String::as_str);
        let pages = self.kind_pages.get(kind).copied().unwrap_or(1);
        let total = self.kind_rows(kind).count();
        let rows: Vec<Row<'a>> = self
            .kind_rows(kind)
            .skip((n - 1) * TABLE_ROWS)
            .take(TABLE_ROWS)
            .map(|r| Row {
                rec: self.rec_link(r),
                own: self.own_page[r],
                anchor: row_anchor(&recs[r].id),
                cells: columns
                    .iter()
                    .map(|c| recs[r].field(c).map(FieldRef::text).unwrap_or_default())
                    .collect(),
            })
            .collect();
        let first = if rows.is_empty() {
            0
        } else {
            (n - 1) * TABLE_ROWS + 1
        };
        // Links to the first, last and nearby pages (a million rows make 2,000 pages).
        let mut previous = 0;
        let page_links = (1..=pages)
            .filter(|&p| p <= 2 || p + 2 > pages || p.abs_diff(n) <= 3)
            .map(|p| {
                let link = PageLink {
                    n: p,
                    url: kind_table_url(stem, p),
                    current: p == n,
                    gap_before: p > previous + 1,
                };
                previous = p;
                link
            })
            .collect();
        KindPage {
            kind: kind.to_string(),
            title: kk
                .map(|k| k.title.clone())
                .unwrap_or_else(|| kind.to_string()),
            columns,
            last: first + rows.len().saturating_sub(1),
            first,
            rows,
            total,
            page: n,
            pages,
            page_links,
            prev_url: (n > 1).then(|| kind_table_url(stem, n - 1)),
            next_url: (n < pages).then(|| kind_table_url(stem, n + 1)),
            rows_js: (pages > 1).then(|| format!("kinds/{stem}.rows.js")),
            stem,
            fresh_within: self.model.fresh_within(kind).map(|w| w.to_string()),
            clauses: kk
                .map(|k| k.clauses.iter().map(|c| self.clause_badge(c)).collect())
                .unwrap_or_default(),
        }
    }

    /// `kinds/<stem>.rows.js` of a kind with more than one table page: every row's id, date,
    /// title and cells, by column (see [`rows`]), and which rows have a page of their own (the
    /// others link to the table page that holds them).
    fn kind_rows_js(&self, kind: &str) -> String {
        let recs = &self.loaded.sources.records;
        let columns = self.kind_columns(kind);
        let list: Vec<usize> = self.kind_rows(kind).collect();
        let own: Vec<usize> = list
            .iter()
            .enumerate()
            .filter(|(_, &r)| self.own_page[r])
            .map(|(n, _)| n)
            .collect();
        let cols = |j: usize| -> Vec<String> {
            let cell = |r: usize| -> String {
                let rec = &recs[r];
                match j {
                    0 => rec.id.clone(),
                    1 => rec.date.map(|d| d.to_string()).unwrap_or_default(),
                    2 => rec.title.clone(),
                    _ => rec
                        .field(&columns[j - 3])
                        .map(FieldRef::text)
                        .unwrap_or_default(),
                }
            };
            list.iter().map(|&r| cell(r)).collect()
        };
        rows::script(list.len(), TABLE_ROWS, &own, 3 + columns.len(), cols)
    }

    /// The auditor's sample: how it was drawn (so that it can be drawn again) and the records.
    fn sample_page(&self) -> impl Serialize + '_ {
        #[derive(Serialize)]
        struct Pick<'b> {
            rank: usize,
            rec: Option<RecLink<'b>>,
            id: &'b str,
            key: &'b str,
            path: &'b str,
            line: u32,
        }
        #[derive(Serialize)]
        struct SamplePage<'b> {
            kind: &'b str,
            kind_url: Option<String>,
            size: usize,
            seed: &'b str,
            filter: String,
            population: usize,
            command: String,
            picks: Vec<Pick<'b>>,
        }
        let drawn = self.history.sample.as_ref();
        let (req, sample) = match drawn {
            Some(d) => (Some(&d.request), Some(&d.sample)),
            None => (None, None),
        };
        let picks = sample
            .map(|s| {
                s.picks
                    .iter()
                    .enumerate()
                    .map(|(i, p)| Pick {
                        rank: i + 1,
                        rec: self.rec_link_by_id(&p.id),
                        id: &p.id,
                        key: &p.key,
                        path: &p.path,
                        line: p.line,
                    })
                    .collect()
            })
            .unwrap_or_default();
        SamplePage {
            kind: req.map_or("", |r| r.kind.as_str()),
            kind_url: req.and_then(|r| self.kind_url(&r.kind)),
            size: req.map_or(0, |r| r.size),
            seed: req.map_or("", |r| r.seed.as_str()),
            filter: req.map(crate::sample::filter_text).unwrap_or_default(),
            population: sample.map_or(0, |s| s.population),
            command: req.map(crate::sample::command_line).unwrap_or_default(),
            picks,
        }
    }

    fn record_page(&self, i: usize) -> impl Serialize + '_ {
        #[derive(Serialize)]
        struct Field<'b> {
            key: &'b str,
            value: String,
            /// When the value names a record or document: its page.
            url: Option<String>,
            items: Vec<FieldItem>,
        }
        #[derive(Serialize)]
        struct FieldItem {
            text: String,
            url: Option<String>,
        }
        #[derive(Serialize)]
        struct RefView<'b> {
            id: &'b str,
            title: &'b str,
            url: Option<String>,
            what: &'static str,
        }
        #[derive(Serialize)]
        struct RecordPage<'b> {
            rec: RecLink<'b>,
            kind_title: String,
            kind_url: Option<String>,
            path: &'b str,
            fields: Vec<Field<'b>>,
            clauses: Vec<ClauseBadge<'b>>,
            clauses_default: bool,
            refs_out: Vec<RefView<'b>>,
            refs_in: Vec<RefView<'b>>,
            findings: Vec<FindingView<'b>>,
            /// Annex A controls the Statement of Applicability says this record implements.
            implements: Vec<ClauseBadge<'b>>,
            /// For a review (a kind with catalogue `inputs`): its inputs and their evidence.
            review: Option<ReviewView<'b>>,
        }
        let r: &'a Record = &self.loaded.sources.records[i];
        let review = self
            .model
            .catalog
            .record_kind(&r.kind)
            .filter(|k| crate::review::applies(k))
            .map(|k| self.review_view(i, k));
        let link_of = |text: &str| -> Option<String> {
            self.rec_link_by_id(text)
                .map(|l| l.url)
                .or_else(|| self.doc_link_by_id(text).map(|l| l.url))
        };
        let fields = r
            .all_fields()
            // A review's inputs and period have a section of their own.
            .filter(|(k, _)| {
                review.is_none() || (*k != crate::review::INPUTS && *k != crate::review::PERIOD)
            })
            .map(|(k, v)| {
                let v = v.node();
                let items = match &v.value {
                    YamlValue::Seq(items) => items
                        .iter()
                        .map(|n| {
                            let text = node_text(n);
                            let url = n.as_scalar().and_then(link_of);
                            FieldItem { text, url }
                        })
                        .collect(),
                    YamlValue::Scalar { .. } | YamlValue::Map(_) => Vec::new(),
                };
                Field {
                    key: k,
                    value: node_text(&v),
                    url: v
                        .as_scalar()
                        .and_then(|s| if k == "id" { None } else { link_of(s) }),
                    items,
                }
            })
            .collect();
        let kind = self.model.catalog.record_kind(&r.kind);
        let (clauses, clauses_default): (Vec<ClauseBadge<'a>>, bool) = if r.clauses.is_empty() {
            (
                kind.map(|k| k.clauses.iter().map(|c| self.clause_badge(c)).collect())
                    .unwrap_or_default(),
                true,
            )
        } else {
            (
                r.clauses.iter().map(|c| self.clause_badge(&c.id)).collect(),
                false,
            )
        };
        let ref_view = |id: &'a str| -> RefView<'a> {
            if let Some(l) = self.rec_link_by_id(id) {
                RefView {
                    id: l.id,
                    title: l.title,
                    url: Some(l.url),
                    what: "record",
                }
            } else if let Some(l) = self.doc_link_by_id(id) {
                RefView {
                    id: l.id,
                    title: l.title,
                    url: Some(l.url),
                    what: "document",
                }
            } else {
                RefView {
                    id,
                    title: "",
                    url: None,
                    what: "unknown",
                }
            }
        };
        let refs_out = r.refs.iter().map(|t| ref_view(&t.text)).collect();
        let mut refs_in: Vec<RefView<'a>> = Vec::new();
        let mut seen = HashSet::new();
        if let Some(ids) = self.model.backrefs.get(&crate::ids::key(&r.id)) {
            let mut ids: Vec<&String> = ids.iter().collect();
            ids.sort();
            for id in ids {
                if seen.insert(id.as_str()) {
                    refs_in.push(ref_view(id));
                }
            }
        }
        let findings = self.record_findings(i);
        RecordPage {
            rec: self.rec_link(i),
            kind_title: kind
                .map(|k| k.title.clone())
                .unwrap_or_else(|| r.kind.to_string()),
            kind_url: self.kind_url(&r.kind),
            path: &r.path,
            fields,
            clauses,
            clauses_default,
            refs_out,
            refs_in,
            findings,
            implements: self.soa_implements(&r.id),
            review,
        }
    }

    /// The inputs of review record `i`: what it says about each (summary, refs) and the records
    /// and documents auditbook finds for each in the period it reviewed ([`crate::review`]).
    fn review_view(&self, i: usize, kind: &'a crate::catalog::RecordKind) -> ReviewView<'a> {
        let r: &'a Record = &self.loaded.sources.records[i];
        let mut ignored = Vec::new();
        let inputs = crate::review::read_inputs(r, &mut ignored);
        let given = crate::review::read_period(r, &mut ignored);
        let period = crate::review::period(self.model, i, given);
        let link = |id: &str| -> EvidenceLink<'a> {
            if let Some(l) = self.rec_link_by_id(id) {
                EvidenceLink {
                    id: l.id.to_string(),
                    title: l.title,
                    date: l.date,
                    url: Some(l.url),
                }
            } else if let Some(l) = self.doc_link_by_id(id) {
                EvidenceLink {
                    id: l.id.to_string(),
                    title: l.title,
                    date: None,
                    url: Some(l.url),
                }
            } else {
                EvidenceLink {
                    id: id.to_string(),
                    title: "",
                    date: None,
                    url: None,
                }
            }
        };
        let views = kind
            .inputs
            .iter()
            .map(|input| {
                let g = inputs.get(&input.id);
                let refs: Vec<EvidenceLink<'a>> = g
                    .map(|g| g.refs.iter().map(|t| link(&t.text)).collect())
                    .unwrap_or_default();
                let cited: HashSet<String> = refs.iter().map(|l| crate::ids::key(&l.id)).collect();
                let mut found = Vec::new();
                let mut more = 0usize;
                let mut also_cited = 0usize;
                if let Some(p) = &period {
                    let ev = crate::review::Evidence {
                        records: crate::review::evidence_records(self.model, i, input, p),
                        documents: self
                            .review_documents
                            .get(&(kind.id.as_str(), input.id.as_str()))
                            .cloned()
                            .unwrap_or_else(|| {
                                crate::review::evidence_documents(self.model, input)
                            }),
                    };
                    let recs = &self.loaded.sources.records;
                    let all: Vec<EvidenceLink<'a>> = ev
                        .documents
                        .iter()
                        .map(|&d| {
                            let l = self.doc_link(d);
                            EvidenceLink {
                                id: l.id.to_string(),
                                title: l.title,
                                date: None,
                                url: Some(l.url),
                            }
                        })
                        .chain(ev.records.iter().map(|&x| {
                            let l = self.rec_link(x);
                            EvidenceLink {
                                id: recs[x].id.clone(),
                                title: l.title,
                                date: l.date,
                                url: Some(l.url),
                            }
                        }))
                        .collect();
                    let before = all.len();
                    let all: Vec<EvidenceLink<'a>> = all
                        .into_iter()
                        .filter(|l| !cited.contains(&crate::ids::key(&l.id)))
                        .collect();
                    also_cited = before - all.len();
                    more = all.len().saturating_sub(REVIEW_EVIDENCE_SHOWN);
                    found = all.into_iter().take(REVIEW_EVIDENCE_SHOWN).collect();
                }
                let kinds = input
                    .records
                    .iter()
                    .map(|k| KindLink {
                        title: self
                            .model
                            .catalog
                            .record_kind(k)
                            .map_or(k.as_str(), |rk| rk.title.as_str()),
                        url: self.kind_url(k),
                    })
                    .collect();
                InputView {
                    id: &input.id,
                    title: &input.title,
                    about: &input.summary,
                    answered: g.is_some_and(crate::review::Given::is_answered),
                    summary: g.map(|g| g.summary.clone()).unwrap_or_default(),
                    refs,
                    found,
                    more,
                    also_cited,
                    kinds,
                }
            })
            .collect();
        let unknown = inputs
            .given
            .iter()
            .filter(|g| !kind.inputs.iter().any(|k| k.id == g.id))
            .map(|g| (g.id.clone(), g.summary.clone()))
            .collect();
        let (from, to, basis, previous) = match period {
            Some(p) => {
                let (basis, previous) = match p.source {
                    crate::review::PeriodSource::Given => ("as the record gives it", None),
                    crate::review::PeriodSource::SincePrevious(x) => {
                        ("since the previous review", Some(self.rec_link(x)))
                    }
                    crate::review::PeriodSource::Interval => {
                        ("the review interval before it: no earlier review", None)
                    }
                };
                (
                    Some(p.from.to_string()),
                    Some(p.to.to_string()),
                    basis,
                    previous,
                )
            }
            None => (None, None, "unknown: the record has no valid date", None),
        };
        ReviewView {
            from,
            to,
            basis,
            previous,
            inputs: views,
            notes: inputs.notes,
            unknown,
        }
    }

    // ---------------------------------------------------------------- matrix, findings, changes

    /// Documents that appear as columns of the matrix: those citing or cross-referencing a clause.
    fn matrix_columns(&self) -> Vec<usize> {
        let docs = &self.loaded.sources.documents;
        self.register_order()
            .into_iter()
            .filter(|&i| {
                !docs[i].clauses.is_empty()
                    || docs[i]
                        .parsed
                        .links
                        .iter()
                        .any(|l| matches!(l.target, LinkTarget::Clause(_)))
            })
            .collect()
    }

    /// Per clause, per matrix column: "covers" | "draft" | "xref" | "".
    fn matrix_cells(&self, columns: &[usize]) -> Vec<Vec<&'static str>> {
        self.model
            .coverage
            .iter()
            .map(|cov| {
                let covers: HashSet<usize> = cov.documents.iter().copied().collect();
                let drafts: HashSet<usize> = cov.not_effective.iter().copied().collect();
                let xrefs: HashSet<usize> = cov.cross_references.iter().copied().collect();
                columns
                    .iter()
                    .map(|d| {
                        if covers.contains(d) {
                            "covers"
                        } else if drafts.contains(d) {
                            "draft"
                        } else if xrefs.contains(d) {
                            "xref"
                        } else {
                            ""
                        }
                    })
                    .collect()
            })
            .collect()
    }

    fn matrix(&self) -> impl Serialize + '_ {
        #[derive(Serialize)]
        struct Row<'b> {
            clause: ClauseBadge<'b>,
            depth: usize,
            /// The id of its top-level clause, for the group filter.
            group: &'b str,
            cells: Vec<&'static str>,
        }
        #[derive(Serialize)]
        struct Group<'b> {
            id: &'b str,
            title: &'b str,
        }
        #[derive(Serialize)]
        struct Matrix<'b> {
            columns: Vec<DocLink<'b>>,
            groups: Vec<Group<'b>>,
            rows: Vec<Row<'b>>,
        }
        let catalog = self.model.catalog;
        let top_of = |c: &'a Clause| -> &'a str {
            let mut cur = c;
            // Bounded by the depth of the tree; a parent that is not found ends the walk.
            for _ in 0..64 {
                match cur.parent.as_deref().and_then(|p| catalog.clause(p)) {
                    Some(p) => cur = p,
                    None => break,
                }
            }
            &cur.id
        };
        let columns = self.matrix_columns();
        let cells = self.matrix_cells(&columns);
        Matrix {
            columns: columns.iter().map(|&i| self.doc_link(i)).collect(),
            groups: catalog
                .clauses
                .iter()
                .filter(|c| c.is_top_level())
                .map(|c| Group {
                    id: &c.id,
                    title: &c.title,
                })
                .collect(),
            rows: self
                .model
                .catalog
                .clauses
                .iter()
                .zip(cells)
                .map(|(c, cells)| Row {
                    clause: self.clause_badge(&c.id),
                    depth: c.depth(),
                    group: top_of(c),
                    cells,
                })
                .collect(),
        }
    }

    fn findings_page(&self) -> impl Serialize + '_ {
        #[derive(Serialize)]
        struct Group<'b> {
            severity: &'static str,
            title: &'static str,
            findings: Vec<FindingView<'b>>,
        }
        #[derive(Serialize)]
        struct ByCode {
            code: &'static str,
            url: String,
            severity: &'static str,
            summary: &'static str,
            count: usize,
        }
        #[derive(Serialize)]
        struct FindingsPage<'b> {
            total: usize,
            by_code: Vec<ByCode>,
            groups: Vec<Group<'b>>,
        }
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for f in self.findings {
            *counts.entry(f.code).or_default() += 1;
        }
        // Registry order: codes are grouped by what they are about.
        let by_code = crate::codes::CODES
            .iter()
            .filter_map(|c| {
                counts.get(c.code).map(|&count| ByCode {
                    code: c.code,
                    url: code_url(c.code),
                    severity: c.severity.as_str(),
                    summary: c.summary,
                    count,
                })
            })
            .collect();
        let groups = [
            (Severity::Error, "Errors"),
            (Severity::Warning, "Warnings"),
            (Severity::Note, "Notes"),
        ]
        .into_iter()
        .map(|(sev, title)| Group {
            severity: sev.as_str(),
            title,
            findings: self
                .findings
                .iter()
                .filter(|f| f.severity == sev)
                .map(|f| self.finding(f))
                .collect(),
        })
        .collect();
        FindingsPage {
            total: self.findings.len(),
            by_code,
            groups,
        }
    }

    fn code_page(&self, c: &'static crate::codes::CodeInfo) -> impl Serialize + '_ {
        #[derive(Serialize)]
        struct CodePage<'b> {
            code: &'static str,
            severity: &'static str,
            summary: &'static str,
            explanation: &'static str,
            help: &'static str,
            findings: Vec<FindingView<'b>>,
        }
        CodePage {
            code: c.code,
            severity: c.severity.as_str(),
            summary: c.summary,
            explanation: c.explanation,
            help: c.help,
            findings: self
                .findings
                .iter()
                .filter(|f| f.code == c.code)
                .map(|f| self.finding(f))
                .collect(),
        }
    }

    fn changes_page(&self) -> impl Serialize + '_ {
        #[derive(Serialize)]
        struct ChangeView<'b> {
            what: &'b str,
            id: &'b str,
            title: &'b str,
            how: &'b str,
            before: Option<&'b str>,
            after: Option<&'b str>,
            url: Option<String>,
        }
        #[derive(Serialize)]
        struct ChangesPage<'b> {
            since: &'b str,
            since_commit: &'b str,
            since_date: Option<&'b str>,
            added: usize,
            changed: usize,
            removed: usize,
            changes: Vec<ChangeView<'b>>,
        }
        let Some(c) = &self.history.changes else {
            return ChangesPage {
                since: "",
                since_commit: "",
                since_date: None,
                added: 0,
                changed: 0,
                removed: 0,
                changes: Vec::new(),
            };
        };
        let changes: Vec<ChangeView<'_>> = c
            .changes
            .iter()
            .map(|x| ChangeView {
                what: &x.what,
                id: &x.id,
                title: &x.title,
                how: &x.how,
                before: x.before.as_deref(),
                after: x.after.as_deref(),
                url: if x.how == "removed" {
                    None
                } else if x.what == "document" {
                    self.doc_link_by_id(&x.id).map(|l| l.url)
                } else {
                    self.rec_link_by_id(&x.id).map(|l| l.url)
                },
            })
            .collect();
        let count = |h: &str| changes.iter().filter(|x| x.how == h).count();
        ChangesPage {
            since: &c.since,
            since_commit: &c.since_commit,
            since_date: c.since_date.as_deref(),
            added: count("added"),
            changed: count("changed"),
            removed: count("removed"),
            changes,
        }
    }

    // ---------------------------------------------------------------- other files

    /// Static assets, the search index and the CSV files.
    /// The files that are not pages. `search` (`serve`): what the previous build's search index
    /// found, updated to this one.
    pub fn extra_files(&self, search: Option<&mut search::Memo>) -> Result<Vec<(String, Vec<u8>)>> {
        let mut out: Vec<(String, Vec<u8>)> = self
            .templates
            .statics
            .iter()
            .map(|(p, t)| (p.clone(), t.clone().into_bytes()))
            .collect();
        out.extend(
            self.search_index(search)
                .into_iter()
                .map(|(p, t)| (p, t.into_bytes())),
        );
        out.push(("documents.csv".into(), self.documents_csv().into_bytes()));
        out.push(("matrix.csv".into(), self.matrix_csv().into_bytes()));
        for (k, stem) in &self.kinds {
            if self.kind_pages.get(k).copied().unwrap_or(1) > 1 {
                out.push((
                    format!("kinds/{stem}.rows.js"),
                    self.kind_rows_js(k).into_bytes(),
                ));
            }
        }
        if let Some(d) = &self.history.sample {
            out.push((
                "sample.csv".into(),
                crate::sample::to_csv(&d.sample).into_bytes(),
            ));
        }
        if self.model.soa.is_some() {
            out.push(("soa.csv".into(), self.soa_csv().into_bytes()));
        }
        Ok(out)
    }

    /// The search entries of one document page: a section per heading.
    fn search_sections(
        &self,
        entries: &mut Vec<search::Entry>,
        id: &str,
        title: &str,
        url: String,
        body: &Rendered,
    ) {
        let mut first = true;
        let mut budget = search::MAX_TEXT_PER_PAGE;
        for s in &body.sections {
            let mut end = s.text.len().min(budget);
            while !s.text.is_char_boundary(end) {
                end -= 1;
            }
            budget -= end;
            let keywords = if first {
                first = false;
                format!("{id} {title}")
            } else {
                String::new()
            };
            entries.push(search::Entry {
                title: title.to_string(),
                url: url.clone(),
                section: s.anchor.as_ref().map(|a| (s.heading.clone(), a.clone())),
                kind: "document",
                keywords,
                text: s.text[..end].to_string(),
            });
        }
        if first {
            entries.push(search::Entry {
                title: title.to_string(),
                url,
                section: None,
                kind: "document",
                keywords: id.to_string(),
                text: String::new(),
            });
        }
    }

    fn search_index(&self, memo: Option<&mut search::Memo>) -> Vec<(String, String)> {
        let mut entries = Vec::new();
        let justification: HashMap<usize, &str> = self
            .soa_rows()
            .into_iter()
            .filter_map(|(ci, e)| Some((ci, e?.justification.as_deref()?)))
            .collect();
        for (ci, (c, cov)) in self
            .model
            .catalog
            .clauses
            .iter()
            .zip(&self.model.coverage)
            .enumerate()
        {
            if let Some(url) = self.clause_url(&c.id) {
                let mut text = format!("{} {}", c.summary, status_label(cov.status));
                // An Annex A control: the SoA's reason is searchable too.
                if let Some(j) = justification.get(&ci) {
                    text.push(' ');
                    text.push_str(j);
                }
                entries.push(search::Entry {
                    title: format!("{} {}", c.id, c.title),
                    url,
                    kind: "clause",
                    section: None,
                    keywords: String::new(),
                    text,
                });
            }
        }
        for i in self.register_order() {
            let d = &self.loaded.sources.documents[i];
            let Some(work) = &self.bodies[i] else {
                continue;
            };
            // A document in revision: the text in force at its page, the draft at the draft's.
            let pages: Vec<(String, String, &Rendered)> = match self.effective.get(&i) {
                Some(e) => vec![
                    (e.doc.title.clone(), document_url(&d.id), &*e.body),
                    (format!("{} (draft)", d.title), draft_url(&d.id), &**work),
                ],
                None => vec![(d.title.clone(), document_url(&d.id), &**work)],
            };
            for (title, url, body) in pages {
                self.search_sections(&mut entries, &d.id, &title, url, body);
            }
        }
        let mut titles_only = 0usize;
        for (i, r) in self.loaded.sources.records.iter().enumerate() {
            if !self.listed[i] {
                continue;
            }
            if !self.own_page[i] {
                // A row of an export without a page: its id and title, up to the cap.
                if titles_only < MAX_ROW_TITLES_IN_SEARCH {
                    titles_only += 1;
                    entries.push(search::Entry {
                        title: format!("{} {}", r.id, r.title),
                        url: self.rec_link(i).url,
                        kind: "record",
                        section: None,
                        keywords: String::new(),
                        text: String::new(),
                    });
                }
                continue;
            }
            let mut text = String::new();
            for (k, v) in r.all_fields() {
                if k != "title" {
                    text.push_str(&v.text());
                    text.push(' ');
                }
            }
            entries.push(search::Entry {
                title: format!("{} {}", r.id, r.title),
                url: self.rec_link(i).url,
                kind: "record",
                section: None,
                keywords: String::new(),
                text,
            });
        }
        search::index_files(&entries, memo)
    }

    fn documents_csv(&self) -> String {
        let mut out = String::from(
            "id,title,type,version,status,owner,approver,approved,next_review,review_overdue,path,frameworks\n",
        );
        for i in self.register_order() {
            let d = &self.loaded.sources.documents[i];
            let r = &self.model.reviews[i];
            let row = [
                d.id.clone(),
                d.title.clone(),
                d.doc_type.clone().unwrap_or_default(),
                d.version
                    .as_ref()
                    .map(|v| v.text.clone())
                    .unwrap_or_default(),
                d.status.as_str().to_string(),
                d.owner.clone().unwrap_or_default(),
                d.approver
                    .as_ref()
                    .map(|a| a.text.clone())
                    .unwrap_or_default(),
                d.approved.map(|a| a.to_string()).unwrap_or_default(),
                r.next.map(|n| n.to_string()).unwrap_or_default(),
                if r.overdue { "yes" } else { "no" }.to_string(),
                d.path.clone(),
                self.frameworks_cited(d),
            ];
            csv_row(&mut out, row.iter().map(String::as_str));
        }
        out
    }

    /// The frameworks whose clauses a document cites in frontmatter `clauses` (shown ones only),
    /// in framework order, space-separated: the register's `frameworks` column.
    fn frameworks_cited(&self, d: &crate::source::Document) -> String {
        let catalog = self.model.catalog;
        let mut cited: Vec<usize> = d
            .clauses
            .iter()
            .filter_map(|c| catalog.clause(&c.id).map(|cl| cl.framework))
            .collect();
        cited.sort_unstable();
        cited.dedup();
        cited
            .into_iter()
            .map(|i| catalog.frameworks[i].id.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn matrix_csv(&self) -> String {
        let columns = self.matrix_columns();
        let cells = self.matrix_cells(&columns);
        let docs = &self.loaded.sources.documents;
        let mut out = String::new();
        let header: Vec<&str> = ["clause", "framework", "title", "status"]
            .into_iter()
            .chain(columns.iter().map(|&i| docs[i].id.as_str()))
            .collect();
        csv_row(&mut out, header.into_iter());
        for ((c, cov), row) in self
            .model
            .catalog
            .clauses
            .iter()
            .zip(&self.model.coverage)
            .zip(cells)
        {
            let head = [
                c.id.as_str(),
                self.model.catalog.framework_of(c).id.as_str(),
                c.title.as_str(),
                cov.status.as_str(),
            ];
            csv_row(&mut out, head.into_iter().chain(row));
        }
        out
    }

    // ---------------------------------------------------------------- Statement of Applicability

    /// The rows of the SoA table: every Annex A control in catalogue order, with its entry.
    fn soa_rows(&self) -> Vec<(usize, Option<&'a crate::soa::Entry>)> {
        let model = self.model;
        let (Some(s), Some(fi)) = (&model.soa, crate::soa::framework(model.catalog)) else {
            return Vec::new();
        };
        crate::soa::controls(model.catalog, fi)
            .map(|(ci, _)| (ci, s.entry_for(ci)))
            .collect()
    }

    /// The anchor of a control's row on `soa.html`.
    fn soa_anchor(&self, ci: usize) -> String {
        format!(
            "row-{}",
            self.clause_stems[self.model.catalog.clauses[ci].id.as_str()]
        )
    }

    /// Links to what an entry's `implemented_by` names (documents and records with a page).
    fn soa_targets(&self, e: &'a crate::soa::Entry) -> Vec<SoaTarget<'a>> {
        e.implemented_by
            .iter()
            .map(|t| SoaTarget {
                id: &t.text,
                url: self
                    .doc_link_by_id(&t.text)
                    .filter(|_| {
                        self.model
                            .documents_by_id
                            .get(&crate::ids::key(&t.text))
                            .is_some_and(|&i| self.bodies[i].is_some())
                    })
                    .map(|l| l.url)
                    .or_else(|| {
                        self.model
                            .records_by_id
                            .get(&crate::ids::key(&t.text))
                            .filter(|&&i| self.listed[i])
                            .map(|&i| self.rec_link(i).url)
                    }),
            })
            .collect()
    }

    /// What a clause page says about the control's SoA row; `None` for a clause that is not an
    /// Annex A control or without an SoA.
    fn soa_cell(&self, ci: usize) -> Option<SoaCell<'a>> {
        let (_, entry) = self.soa_rows().into_iter().find(|(c, _)| *c == ci)?;
        Some(SoaCell {
            url: format!("{SOA_PAGE}#{}", self.soa_anchor(ci)),
            entered: entry.is_some(),
            applicable: entry.and_then(|e| e.applicable),
            justification: entry.and_then(|e| e.justification.as_deref()),
            status: entry.and_then(|e| e.status).map(|s| s.as_str()),
            implemented_by: entry.map(|e| self.soa_targets(e)).unwrap_or_default(),
        })
    }

    /// The Annex A controls whose SoA entry names this document or record id.
    fn soa_implements(&self, id: &str) -> Vec<ClauseBadge<'a>> {
        self.soa_implementers
            .get(&crate::ids::key(id))
            .into_iter()
            .flatten()
            .map(|&ci| self.clause_badge(&self.model.catalog.clauses[ci].id))
            .collect()
    }

    fn soa_page(&self) -> impl Serialize + '_ {
        #[derive(Serialize)]
        struct Row<'b> {
            anchor: String,
            control: ClauseBadge<'b>,
            local_id: &'b str,
            cell: SoaCell<'b>,
        }
        #[derive(Serialize)]
        struct SoaPage<'b> {
            document: Option<DocLink<'b>>,
            rows: Vec<Row<'b>>,
            applicable: usize,
            excluded: usize,
            undecided: usize,
        }
        let model = self.model;
        let rows: Vec<Row<'_>> = self
            .soa_rows()
            .into_iter()
            .filter_map(|(ci, _)| {
                let c = &model.catalog.clauses[ci];
                Some(Row {
                    anchor: self.soa_anchor(ci),
                    control: self.clause_badge(&c.id),
                    local_id: model.catalog.local_id(c),
                    cell: self.soa_cell(ci)?,
                })
            })
            .collect();
        let count = |want: Option<bool>| rows.iter().filter(|r| r.cell.applicable == want).count();
        SoaPage {
            document: model
                .soa
                .as_ref()
                .filter(|s| self.bodies[s.document].is_some())
                .map(|s| self.doc_link(s.document)),
            applicable: count(Some(true)),
            excluded: count(Some(false)),
            undecided: count(None),
            rows,
        }
    }

    fn soa_csv(&self) -> String {
        let mut out =
            String::from("control,title,applicable,justification,status,implemented_by,coverage\n");
        let model = self.model;
        for (ci, e) in self.soa_rows() {
            let c = &model.catalog.clauses[ci];
            let applicable = match e.and_then(|e| e.applicable) {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            };
            let by: Vec<&str> = e
                .map(|e| e.implemented_by.iter().map(|t| t.text.as_str()).collect())
                .unwrap_or_default();
            let by = by.join(" ");
            let row = [
                model.catalog.local_id(c),
                c.title.as_str(),
                applicable,
                e.and_then(|e| e.justification.as_deref()).unwrap_or(""),
                e.and_then(|e| e.status).map_or("", |s| s.as_str()),
                by.as_str(),
                model.coverage[ci].status.as_str(),
            ];
            csv_row(&mut out, row.into_iter());
        }
        out
    }

    /// SMS files linked from documents, to copy into `files/`.
    pub fn attachments(&self) -> Vec<String> {
        let mut all = BTreeSet::new();
        let effective = self.effective.values().map(|e| &*e.body);
        for b in self.bodies.iter().flatten().map(|b| &**b).chain(effective) {
            all.extend(b.attachments.iter().cloned());
        }
        all.into_iter().collect()
    }

    /// (document id, SMS path) of linked files that were not copied.
    pub fn refused(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (i, b) in self.bodies.iter().enumerate() {
            if let Some(b) = b {
                for p in &b.refused {
                    out.push((self.loaded.sources.documents[i].id.clone(), p.clone()));
                }
            }
        }
        out.sort();
        out
    }
}

/// A linked file the site does not copy (see `super::attachment`), listed on the page of the
/// document that links to it with what identifies it.
#[derive(Serialize)]
struct ListedFile<'b> {
    path: &'b str,
    /// The id of its list entry, which links in the body point to.
    anchor: String,
    size: Option<u64>,
    /// `None` when the file was not read (not a regular file, or over `max_file_size`).
    sha256: Option<String>,
    reason: &'static str,
}

/// Whether a clause is a leaf that needs evidence of its own.
/// Lower-case id -> the controls whose SoA entry names it, each once, in catalogue order.
fn soa_implementers(model: &Model<'_>) -> HashMap<String, Vec<usize>> {
    let mut out: HashMap<String, Vec<usize>> = HashMap::new();
    let (Some(s), Some(fi)) = (&model.soa, crate::soa::framework(model.catalog)) else {
        return out;
    };
    for (ci, _) in crate::soa::controls(model.catalog, fi) {
        for t in s
            .entry_for(ci)
            .map(|e| e.implemented_by.as_slice())
            .unwrap_or_default()
        {
            let list = out.entry(crate::ids::key(&t.text)).or_default();
            if list.last() != Some(&ci) {
                list.push(ci);
            }
        }
    }
    out
}

fn descends(catalog: &crate::catalog::Catalog, c: &Clause, ancestor: &str) -> bool {
    let mut cur = c.parent.as_deref();
    let mut guard = 0;
    while let Some(p) = cur {
        if p == ancestor {
            return true;
        }
        guard += 1;
        if guard > 32 {
            return false;
        }
        cur = catalog.clause(p).and_then(|x| x.parent.as_deref());
    }
    c.id == ancestor
}

fn permille(n: usize) -> String {
    format!("{}.{}", n / 10, n % 10)
}

/// The subject of a finding without its `#field` or `->target` part, lower-cased.
fn subject_head(s: &str) -> String {
    let end = s
        .find(['#'])
        .into_iter()
        .chain(s.find("->"))
        .min()
        .unwrap_or(s.len());
    crate::ids::key(&s[..end])
}

/// A YAML value as text for a table cell.
pub fn node_text(n: &Node) -> String {
    n.display_text()
}

/// One CSV line (RFC 4180 quoting of any cell holding a separator of a common locale, see
/// `report::CSV_QUOTED`); cells that a spreadsheet would run as a formula get a `'`.
fn csv_row<'b>(out: &mut String, cells: impl Iterator<Item = &'b str>) {
    let mut first = true;
    for c in cells {
        if !first {
            out.push(',');
        }
        first = false;
        let c: std::borrow::Cow<'_, str> = if c.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{c}").into()
        } else {
            c.into()
        };
        if c.contains(crate::report::CSV_QUOTED) {
            out.push('"');
            out.push_str(&c.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&c);
        }
    }
    out.push('\n');
}
/// The text in force of every document in revision that has a page, read from git at the
/// commit of its effective version and rendered like any body. A document whose revision cannot
/// be read keeps a single page with the work-tree text (and its "revision in progress" note).
fn effective_texts(
    loaded: &Loaded,
    links: &Arc<Links>,
    has_page: &[bool],
) -> HashMap<usize, EffectiveText> {
    let mut out = HashMap::new();
    if loaded.effective.is_empty() {
        return out;
    }
    let Ok(Some(repo)) = crate::history::Repo::open(&loaded.config.root) else {
        return out;
    };
    for (i, d) in loaded.sources.documents.iter().enumerate() {
        let Some(e) = loaded.effective.get(&crate::ids::key(&d.id)) else {
            continue;
        };
        if !has_page[i] {
            continue;
        }
        let Ok(Some(bytes)) =
            repo.read_committed_within(&e.commit, &e.path, loaded.config.limits.max_file_size)
        else {
            continue;
        };
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        let text = crate::markdown::normalise(&text);
        let mut diags = Vec::new();
        let Some(doc) = crate::source::parse_document(&loaded.config, &e.path, &text, &mut diags)
        else {
            continue;
        };
        let body = Arc::new(html::render(links, &e.path, "../", &doc.body, &doc.parsed));
        out.insert(i, EffectiveText { doc, body });
    }
    out
}
