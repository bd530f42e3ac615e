//! `check --base REV`: the pull-request gate. It compares the SMS at merge-base(REV, HEAD), read
//! from git objects (never a checkout), with the work tree, both checked for the same as-of date,
//! and says what the change does: clauses that lose or gain coverage, documents and records
//! added, changed or removed, and which findings are new (their fingerprint is absent at the base)
//! and which were already there.
//!
//! Policy comes from the base (DESIGN "Semantics", `--base REV`): rule levels, framework and
//! catalogue, applicability, intervals and history settings are the base's, so a change cannot
//! relax the gate that judges it; every weakening it makes is itself a `gate-config-weakened`
//! finding. Document control between the two trees (`changed-after-approval`) runs even in a
//! shallow clone, where the rules that need older history are skipped.
//!
//! The base is read cheaply: files whose bytes are the same as in the work tree are not read from
//! git again, and their parse results are reused (memoised by content), so a change that touches
//! ten files parses ten files twice.

use crate::catalog::Catalog;
use crate::changes;
use crate::check::{self, Loaded, Options, Report};
use crate::codes;
use crate::config::{self, Config, FILE_NAME};
use crate::dates::Interval;
use crate::diag::{self, Diagnostic, Severity};
use crate::history::{self, Repo};
use crate::model::{CoverageStatus, CoverageSummary};
use crate::snapshot::{EntryKind, Snapshot};
use crate::source::{self, Document, Record, Sources, Status};
use crate::yaml::{Node, Pos, Value};
use anyhow::{bail, Result};
use jiff::civil::Date;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// Which error-level findings fail the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Only findings that are new compared with the base.
    New,
    /// Every finding at error level, as a plain `check`.
    All,
}

impl FailOn {
    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::New => "new",
            FailOn::All => "all",
        }
    }
}

/// What a change does to the SMS, compared with its base.
#[derive(Debug, Clone)]
pub struct Gate {
    /// The revision as the user named it (`origin/main`).
    pub rev: String,
    /// merge-base(REV, HEAD).
    pub base_commit: String,
    /// HEAD's commit.
    pub head_commit: String,
    /// The work tree differs from HEAD: the change includes uncommitted edits.
    pub dirty: bool,
    pub fail_on: FailOn,
    /// Coverage at the base (with the base's catalogue, as the change is judged).
    pub base_coverage: CoverageSummary,
    /// [`Gate::base_coverage`] per framework, primary first.
    pub base_frameworks: Vec<(String, CoverageSummary)>,
    /// Clauses whose coverage status differs, in catalogue order.
    pub clauses: Vec<ClauseChange>,
    pub documents: Vec<ItemChange>,
    pub records: Vec<ItemChange>,
    /// SMS-relative paths that differ between the base and the work tree, sorted.
    pub touched: Vec<String>,
    /// Fingerprints of the findings at the base.
    pub base_fingerprints: HashSet<String>,
    /// Findings at the base that the change resolves (their fingerprint is gone).
    pub resolved: Vec<Diagnostic>,
    /// Said once in every format: where the policy came from when the base has none.
    pub notes: Vec<String>,
}

/// One clause whose status changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClauseChange {
    pub clause: String,
    /// The framework of the clause.
    pub framework: String,
    pub title: String,
    pub before: CoverageStatus,
    pub after: CoverageStatus,
}

impl ClauseChange {
    /// Covered at the base, not covered with the change.
    pub fn lost(&self) -> bool {
        self.before.is_covered() && !self.after.is_covered()
    }
    /// Not covered at the base, covered with the change.
    pub fn gained(&self) -> bool {
        !self.before.is_covered() && self.after.is_covered()
    }
}

pub use crate::changes::How;

/// A document or record the change adds, changes or removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemChange {
    pub id: String,
    pub how: How,
    /// The path in the work tree (at the base, when removed).
    pub path: String,
    /// Short state at the base and after the change (`v1.0 approved`, a record's date).
    pub before: Option<String>,
    pub after: Option<String>,
}

impl Gate {
    /// Whether a finding is new: its fingerprint is absent at the base.
    pub fn is_new(&self, d: &Diagnostic) -> bool {
        !self.base_fingerprints.contains(&d.fingerprint())
    }

    /// Whether a finding fails the gate.
    pub fn fails(&self, d: &Diagnostic) -> bool {
        d.severity == Severity::Error && self.is_marked(d)
    }

    /// Whether machine formats mark (annotate) the finding: only new ones under `--fail-on new`.
    pub fn is_marked(&self, d: &Diagnostic) -> bool {
        match self.fail_on {
            FailOn::New => self.is_new(d),
            FailOn::All => true,
        }
    }

    /// Whether the change touches an SMS path.
    pub fn touches(&self, path: &str) -> bool {
        self.touched
            .binary_search_by(|p| p.as_str().cmp(path))
            .is_ok()
    }

    pub fn short_base(&self) -> &str {
        self.base_commit.get(..12).unwrap_or(&self.base_commit)
    }

    /// The exit code of the gate: 1 when a finding fails it.
    pub fn exit_code(&self, findings: &[Diagnostic]) -> u8 {
        u8::from(findings.iter().any(|d| self.fails(d)))
    }
}

/// Run `check --base REV`: the work tree checked under the base's policy, compared with the base.
/// Returns the work tree, its report, the comparison, and the SMS at the base: the last is handed
/// back rather than dropped here so that a caller about to exit can leave freeing it (two SMSs'
/// worth of small allocations) to the operating system.
pub fn run(
    opts: &Options,
    rev: &str,
    fail_on: FailOn,
    require_history: bool,
) -> Result<(Loaded, Report, Gate, Loaded)> {
    let mut head = check::load(opts)?;
    head.require_history = require_history;
    let Some(repo) = Repo::open(&head.config.root)? else {
        bail!(
            "--base needs git: `{}` is not in a git repository\nhelp: run the gate in a clone of the repository (with `fetch-depth: 0` in GitHub Actions)",
            check::display_root(&head.config.root)
        );
    };
    let mb = repo.merge_base(rev)?;
    let mut notes = Vec::new();
    let base = load_base(&repo, &head, &mb.commit, &mut notes)?;

    // Judge the change under the base's policy; what it relaxes is reported, not applied.
    let head_config = head.config.clone();
    let head_catalog = head.catalog.clone();
    let mut weakened = weakenings(&base, &head_config, &head_catalog, head.as_of);
    head.config = with_policy(&head_config, &base.config);
    head.catalog = base.catalog.clone();

    let (mut findings, head_cov) = {
        let model = head.model();
        let f = head.findings(&model);
        let cov: Vec<CoverageStatus> = model.coverage.iter().map(|c| c.status).collect();
        (f, cov)
    };
    let (base_findings, base_cov, base_summary, base_frameworks, base_docs_of) = {
        let model = base.model();
        let findings = base.findings(&model);
        let cov: Vec<CoverageStatus> = model.coverage.iter().map(|c| c.status).collect();
        // Per clause, the ids of the documents that covered it at the base.
        let docs: Vec<Vec<String>> = model
            .coverage
            .iter()
            .map(|c| {
                c.documents
                    .iter()
                    .map(|&i| base.sources.documents[i].id.clone())
                    .collect()
            })
            .collect();
        let per_framework = model
            .framework_summaries()
            .into_iter()
            .map(|(f, s)| (f.id.clone(), s))
            .collect();
        (findings, cov, model.summary(), per_framework, docs)
    };

    // Files the change does not touch hold the same bytes on both sides: only touched files
    // (and moved ids) need comparing.
    let touched = touched_paths(&base.snapshot, &head.snapshot);
    let touched_set: HashSet<&str> = touched.iter().map(String::as_str).collect();
    let same_file = |base_path: &str, head_path: &str| {
        base_path == head_path && !touched_set.contains(head_path)
    };
    let have: HashSet<String> = findings.iter().map(Diagnostic::fingerprint).collect();
    weakened.extend(
        changed_after_approval(&base, &head, &mb.commit, &same_file)
            .into_iter()
            .filter(|d| !have.contains(&d.fingerprint())),
    );
    findings.extend(crate::rules::apply_levels(&head.config, weakened));

    let documents = document_changes(
        &base.sources,
        &head.sources,
        &base.snapshot,
        &head.snapshot,
        &same_file,
    );
    let records = record_changes(&base.sources, &head.sources, &same_file);
    let base_fingerprints: HashSet<String> =
        base_findings.iter().map(Diagnostic::fingerprint).collect();

    // A clause finding goes on the file whose change caused it (DESIGN "CI formats").
    let clause_index: HashMap<&str, usize> = head
        .catalog
        .clauses
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    for d in &mut findings {
        if !codes::is_whole_sms(d.code) || base_fingerprints.contains(&d.fingerprint()) {
            continue;
        }
        let clause = d.subject.split('#').next().unwrap_or(&d.subject);
        let Some(&i) = clause_index.get(clause) else {
            continue;
        };
        let cause = base_docs_of.get(i).into_iter().flatten().find_map(|id| {
            let doc = head
                .sources
                .documents
                .iter()
                .find(|h| h.id.eq_ignore_ascii_case(id))?;
            touched_set.contains(doc.path.as_str()).then_some(doc)
        });
        if let Some(doc) = cause {
            d.path = Some(doc.path.clone());
            d.pos = Some(doc.id_pos);
        }
    }
    diag::sort(&mut findings);

    let head_fingerprints: HashSet<String> = findings.iter().map(Diagnostic::fingerprint).collect();
    let resolved = base_findings
        .into_iter()
        .filter(|d| !head_fingerprints.contains(&d.fingerprint()))
        .collect();
    let clauses = head
        .catalog
        .clauses
        .iter()
        .zip(base_cov.iter().zip(&head_cov))
        .filter(|(_, (b, a))| b != a)
        .map(|(cl, (&before, &after))| ClauseChange {
            clause: cl.id.clone(),
            framework: head.catalog.framework_of(cl).id.clone(),
            title: cl.title.clone(),
            before,
            after,
        })
        .collect();
    let dirty = head.history.as_ref().is_some_and(|h| !h.dirty.is_empty());
    let gate = Gate {
        rev: rev.to_string(),
        base_commit: mb.commit,
        head_commit: mb.head,
        dirty,
        fail_on,
        base_coverage: base_summary,
        base_frameworks,
        clauses,
        documents,
        records,
        touched,
        base_fingerprints,
        resolved,
        notes,
    };
    let counts = diag::count(&findings);
    Ok((head, Report { findings, counts }, gate, base))
}

/// The SMS at the base commit, loaded like the work tree: its own sms.yaml, catalogue and
/// history, the same as-of date. Without a readable sms.yaml at the base (the SMS is new, or its
/// sms.yaml was broken), the work tree's settings stand in, and a note says so.
fn load_base(repo: &Repo, head: &Loaded, commit: &str, notes: &mut Vec<String>) -> Result<Loaded> {
    let short = commit.get(..12).unwrap_or(commit);
    let mut findings = Vec::new();
    let config = match repo.read_committed(commit, FILE_NAME)? {
        None => {
            notes.push(format!(
                "the base ({short}) has no {FILE_NAME}: this change adds the SMS, so the policy is the change's own"
            ));
            head.config.clone()
        }
        Some(bytes) => {
            let parsed = std::str::from_utf8(&bytes)
                .ok()
                .map(|text| config::parse(&head.config.root, text));
            match parsed {
                Some(Ok((mut c, f))) => {
                    findings.extend(f);
                    config::add_key_files(
                        &mut c,
                        |rel| repo.read_committed(commit, rel),
                        &mut findings,
                    );
                    c
                }
                Some(Err(e)) => {
                    notes.push(format!(
                        "the base's {FILE_NAME} ({short}) cannot be read ({}); the policy is the change's own",
                        e.to_string().lines().next().unwrap_or_default()
                    ));
                    head.config.clone()
                }
                None => {
                    notes.push(format!(
                        "the base's {FILE_NAME} ({short}) is not UTF-8 text; the policy is the change's own"
                    ));
                    head.config.clone()
                }
            }
        }
    };
    // The history at the base (mostly one thread: assembling the walk) is read while the files
    // are read and parsed (on all cores); each side opens its own repository handle.
    let (history, files) = rayon::join(
        || -> Result<Option<(history::History, Vec<Diagnostic>)>> {
            let Some(h) = &head.history else {
                return Ok(None);
            };
            let Some(repo) = Repo::open(&head.config.root)? else {
                return Ok(None);
            };
            let mut found = Vec::new();
            let at = repo.history_at(&config, commit, Some((h, &head.config)), &mut found)?;
            Ok(Some((at, found)))
        },
        || -> Result<(Snapshot, Sources, Vec<Diagnostic>)> {
            let Some(repo) = Repo::open(&head.config.root)? else {
                bail!(
                    "the git repository of `{}` went away",
                    head.config.root.display()
                );
            };
            let dirty = head.history.as_ref().map_or(&[][..], |h| &h.dirty[..]);
            let snapshot = repo.snapshot_reusing(&config, commit, &head.snapshot, dirty)?;
            let (sources, found) = parse_reusing(&config, &snapshot, head);
            Ok((snapshot, sources, found))
        },
    );
    let (snapshot, sources, source_findings) = files?;
    findings.extend(source_findings);
    let history = match history? {
        Some((h, found)) => {
            findings.extend(found);
            Some(h)
        }
        None => None,
    };
    let catalog = match check::select_catalog(&config, &sources, &mut findings) {
        // `--framework`: the base's catalogue is restricted the same way (when it loads it).
        Ok(mut c) => {
            if let Some(fi) = head.catalog.focus {
                let id = head.catalog.frameworks[fi].id.clone();
                if check::focus(&mut c, &id).is_err() {
                    notes.push(format!("the base does not check the framework `{id}`"));
                }
            }
            c
        }
        Err(e) => {
            notes.push(format!(
                "the base's framework cannot be loaded ({}); the change's catalogue stands in",
                e.to_string().lines().next().unwrap_or_default()
            ));
            head.catalog.clone()
        }
    };
    let effective = history
        .as_ref()
        .map(|h| h.effective_versions(&sources))
        .unwrap_or_default();
    Ok(Loaded {
        at: None,
        config,
        catalog,
        snapshot,
        sources,
        as_of: head.as_of,
        load_findings: findings,
        history,
        effective,
        draft: false,
        // The base has no such notice: under --require-history, a shallow clone fails the gate.
        history_notices: Vec::new(),
        require_history: head.require_history,
    })
}

/// Whether parsing depends on nothing that differs between two configurations.
fn same_parse_settings(a: &Config, b: &Config) -> bool {
    a.paths.records == b.paths.records
        && a.paths.frameworks == b.paths.frameworks
        && a.paths.mappings == b.paths.mappings
        && a.paths.templates == b.paths.templates
        && a.paths.output == b.paths.output
        && a.version_scheme == b.version_scheme
        && a.limits.max_file_size == b.limits.max_file_size
        && a.limits.max_documents == b.limits.max_documents
        && a.limits.yaml.max_depth == b.limits.yaml.max_depth
        && a.limits.yaml.max_nodes == b.limits.yaml.max_nodes
        && a.limits.markdown == b.limits.markdown
}

/// Parse the base snapshot, reusing the work tree's parse of every file whose bytes are shared
/// (the snapshot holds the same `Arc`): only the files the change touches are parsed again.
fn parse_reusing(config: &Config, snap: &Snapshot, head: &Loaded) -> (Sources, Vec<Diagnostic>) {
    if !same_parse_settings(config, &head.config) {
        return source::parse(config, snap);
    }
    let shared = |path: &str| -> bool {
        if path == FILE_NAME {
            return false;
        }
        let (Some(b), Some(h)) = (snap.get(path), head.snapshot.get(path)) else {
            return false;
        };
        match (&b.kind, &h.kind) {
            (EntryKind::File { bytes: Some(x), .. }, EntryKind::File { bytes: Some(y), .. }) => {
                Arc::ptr_eq(x, y)
            }
            _ => false,
        }
    };
    let reused: HashSet<&str> = snap
        .entries
        .iter()
        .map(|e| e.path.as_str())
        .filter(|p| shared(p))
        .collect();
    let fresh = Snapshot {
        entries: snap
            .entries
            .iter()
            .filter(|e| !reused.contains(e.path.as_str()))
            .cloned()
            .collect(),
    };
    let (parsed, mut findings) = source::parse(config, &fresh);
    let mut sources = Sources::default();
    let from_head = |p: &str| reused.contains(p);
    sources.documents = head
        .sources
        .documents
        .iter()
        .filter(|d| from_head(&d.path))
        .cloned()
        .chain(parsed.documents)
        .collect();
    sources.documents.sort_by(|a, b| a.path.cmp(&b.path));
    sources.records = head
        .sources
        .records
        .iter()
        .filter(|r| from_head(&r.path))
        .cloned()
        .chain(parsed.records)
        .collect();
    // Stable: the records of one list file keep their order.
    sources.records.sort_by(|a, b| a.path.cmp(&b.path));
    sources.frameworks = head
        .sources
        .frameworks
        .iter()
        .filter(|(p, _)| from_head(p))
        .cloned()
        .chain(parsed.frameworks)
        .collect();
    sources.frameworks.sort_by(|a, b| a.0.cmp(&b.0));
    sources.mappings = head
        .sources
        .mappings
        .iter()
        .filter(|(p, _)| from_head(p))
        .cloned()
        .chain(parsed.mappings)
        .collect();
    sources.mappings.sort_by(|a, b| a.0.cmp(&b.0));
    // The work tree's findings about the reused files (parse findings carry the file's path).
    findings.extend(
        head.load_findings
            .iter()
            .filter(|d| d.path.as_deref().is_some_and(from_head))
            .cloned(),
    );
    (sources, findings)
}

/// The work tree's configuration with the base's policy.
fn with_policy(head: &Config, base: &Config) -> Config {
    let mut c = head.clone();
    c.framework = base.framework.clone();
    c.frameworks = base.frameworks.clone();
    c.review_interval = base.review_interval;
    c.intervals = base.intervals.clone();
    c.audit_cycle = base.audit_cycle;
    c.rules = base.rules.clone();
    c.applicability = base.applicability.clone();
    c.history = base.history.clone();
    c.approval = base.approval.clone();
    c
}

/// SMS paths whose entry differs between two snapshots (added, removed or changed), sorted.
fn touched_paths(base: &Snapshot, head: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    let (b, h) = (&base.entries, &head.entries);
    while i < b.len() || j < h.len() {
        match (b.get(i), h.get(j)) {
            (Some(x), Some(y)) if x.path == y.path => {
                if !same_entry(&x.kind, &y.kind) {
                    out.push(y.path.clone());
                }
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x.path < y.path => {
                out.push(x.path.clone());
                i += 1;
            }
            (Some(_), Some(y)) => {
                out.push(y.path.clone());
                j += 1;
            }
            (Some(x), None) => {
                out.push(x.path.clone());
                i += 1;
            }
            (None, Some(y)) => {
                out.push(y.path.clone());
                j += 1;
            }
            (None, None) => break,
        }
    }
    out.sort();
    out.dedup();
    out
}

fn same_entry(a: &EntryKind, b: &EntryKind) -> bool {
    match (a, b) {
        (EntryKind::File { size: s, bytes: x }, EntryKind::File { size: t, bytes: y }) => {
            s == t
                && match (x, y) {
                    (Some(x), Some(y)) => Arc::ptr_eq(x, y) || x[..] == y[..],
                    (None, None) => true,
                    _ => false,
                }
        }
        (EntryKind::TooLarge { size: s }, EntryKind::TooLarge { size: t }) => s == t,
        (EntryKind::Symlink { target: s, .. }, EntryKind::Symlink { target: t, .. }) => s == t,
        (EntryKind::Submodule, EntryKind::Submodule) => true,
        _ => false,
    }
}

fn bytes_of<'s>(snap: &'s Snapshot, path: &str) -> Option<&'s [u8]> {
    match &snap.get(path)?.kind {
        EntryKind::File { bytes: Some(b), .. } => Some(b),
        _ => None,
    }
}

/// Documents added, changed (any byte of the file, or moved) or removed, by id.
fn document_changes(
    base: &Sources,
    head: &Sources,
    base_snap: &Snapshot,
    head_snap: &Snapshot,
    same_file: &dyn Fn(&str, &str) -> bool,
) -> Vec<ItemChange> {
    let differs = |o: &Document, d: &Document| {
        !(same_file(&o.path, &d.path)
            || (o.path == d.path && bytes_of(base_snap, &o.path) == bytes_of(head_snap, &d.path)))
    };
    changes::by_id(&base.documents, &head.documents, |d| &d.id, differs)
        .into_iter()
        .map(|c| ItemChange {
            id: c.item().id.clone(),
            how: c.how,
            path: c.item().path.to_string(),
            before: c.before.map(changes::document_state),
            after: c.after.map(changes::document_state),
        })
        .collect()
}

/// A record's content without positions, to compare two revisions.
fn record_content(r: &Record) -> String {
    let mut s = format!("{}\u{1}{}\u{1}", r.path, r.kind);
    for (k, v) in r.all_fields() {
        s.push_str(k);
        s.push('\u{2}');
        render_node(&v.node(), &mut s);
        s.push('\u{1}');
    }
    s
}

fn render_node(n: &Node, out: &mut String) {
    match &n.value {
        Value::Scalar { text, plain } => {
            out.push(if *plain { 's' } else { 'q' });
            out.push_str(text);
            out.push('\u{3}');
        }
        Value::Seq(items) => {
            out.push('[');
            for i in items {
                render_node(i, out);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (k, v) in entries {
                render_node(k, out);
                render_node(v, out);
            }
            out.push('}');
        }
    }
}

/// Records added, changed (any field, or moved) or removed, by id.
fn record_changes(
    base: &Sources,
    head: &Sources,
    same_file: &dyn Fn(&str, &str) -> bool,
) -> Vec<ItemChange> {
    let differs = |o: &Record, r: &Record| {
        !same_file(&o.path, &r.path) && record_content(o) != record_content(r)
    };
    changes::by_id(&base.records, &head.records, |r| &r.id, differs)
        .into_iter()
        .map(|c| ItemChange {
            id: c.item().id.clone(),
            how: c.how,
            path: c.item().path.to_string(),
            before: c.before.map(changes::record_state),
            after: c.after.map(changes::record_state),
        })
        .collect()
}

/// Document control between the two trees (runs in a shallow clone too): an approved document
/// whose controlled content differs from the base's approved copy with the same version.
fn changed_after_approval(
    base: &Loaded,
    head: &Loaded,
    commit: &str,
    same_file: &dyn Fn(&str, &str) -> bool,
) -> Vec<Diagnostic> {
    let short = commit.get(..12).unwrap_or(commit);
    let by_id: HashMap<String, &Document> = base
        .sources
        .documents
        .iter()
        .map(|d| (crate::ids::key(&d.id), d))
        .collect();
    let scheme = head.config.version_scheme;
    let mut out = Vec::new();
    for d in &head.sources.documents {
        if d.status != Status::Approved {
            continue;
        }
        let Some(o) = by_id.get(&crate::ids::key(&d.id)) else {
            continue;
        };
        let (Some(v), Some(ov)) = (&d.version, &o.version) else {
            continue;
        };
        let same_version = match source::compare_versions(scheme, &v.text, &ov.text) {
            Some(ord) => ord == std::cmp::Ordering::Equal,
            None => v.text == ov.text,
        };
        if o.status != Status::Approved || !same_version || same_file(&o.path, &d.path) {
            continue;
        }
        if history::content_hashes(o).0 == history::content_hashes(d).0 {
            continue;
        }
        out.push(
            Diagnostic::new(
                "changed-after-approval",
                d.id.clone(),
                format!(
                    "{} version {} is approved at the base ({short}) and its controlled content changes in this change without a new version",
                    d.id, v.text
                ),
            )
            .at(&d.path, v.pos),
        );
    }
    out
}

// ------------------------------------------------------------------------------------------------
// Weakening of the policy by the change itself.

fn level_rank(l: Option<Severity>) -> u8 {
    match l {
        None => 0,
        Some(Severity::Note) => 1,
        Some(Severity::Warning) => 2,
        Some(Severity::Error) => 3,
    }
}

fn level_name(l: Option<Severity>) -> &'static str {
    match l {
        None => "allow",
        Some(Severity::Note) => "note",
        Some(Severity::Warning) => "warn",
        Some(Severity::Error) => "deny",
    }
}

fn level_of(config: &Config, code: &str) -> Option<Severity> {
    match config.rules.get(code) {
        Some(l) => *l,
        None => codes::lookup(code).map(|c| c.severity),
    }
}

/// `a` is a longer interval than `b` (measured from `from`).
fn longer(a: Interval, b: Interval, from: Date) -> bool {
    a.after(from) > b.after(from)
}

/// The line of `key:` in sms.yaml, under the section `section:` when given; else line 1.
fn line_of(text: &str, section: Option<&str>, key: &str) -> Pos {
    let mut in_section = section.is_none();
    for (i, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start().len();
        let t = line.trim_start().trim_start_matches("- ").trim_start();
        if let Some(s) = section {
            if indent == 0 && !t.is_empty() && !t.starts_with('#') {
                in_section = t.starts_with(&format!("{s}:"));
                if in_section {
                    continue;
                }
            }
        }
        let unquoted = t.trim_start_matches(['"', '\'']);
        if in_section
            && (unquoted.starts_with(&format!("{key}:"))
                || unquoted.starts_with(&format!("{key}\":"))
                || unquoted.starts_with(&format!("{key}':")))
        {
            return Pos::new(i as u32 + 1, indent as u32 + 1);
        }
    }
    Pos::new(1, 1)
}

/// Every way the change relaxes the policy that judges it.
fn weakenings(
    base: &Loaded,
    head: &Config,
    head_catalog: &Catalog,
    as_of: Date,
) -> Vec<Diagnostic> {
    let text = std::fs::read_to_string(head.root.join(FILE_NAME)).unwrap_or_default();
    let b = &base.config;
    let mut out = Vec::new();
    let mut push = |subject: String, pos: Pos, message: String| {
        out.push(Diagnostic::new("gate-config-weakened", subject, message).at(FILE_NAME, pos));
    };
    let keep = "the gate applies the base's setting; the change takes effect once it is merged";
    // Rule levels.
    let codes: BTreeSet<&str> = codes::CODES
        .iter()
        .map(|c| c.code)
        .chain(b.rules.keys().map(String::as_str))
        .chain(head.rules.keys().map(String::as_str))
        .collect();
    for code in codes {
        let (was, now) = (level_of(b, code), level_of(head, code));
        if level_rank(now) < level_rank(was) {
            push(
                format!("{FILE_NAME}#rules.{code}"),
                line_of(&text, Some("rules"), code),
                format!(
                    "this change lowers rule `{code}` from {} to {}; {keep}",
                    level_name(was),
                    level_name(now)
                ),
            );
        }
    }
    if b.paths.output != head.paths.output {
        push(
            format!("{FILE_NAME}#paths.output"),
            line_of(&text, Some("paths"), "output"),
            format!(
                "this change moves the site's output folder from `{}` to `{}`: where a build writes (and what it replaces) is policy of the pipeline; {keep}",
                b.paths.output, head.paths.output
            ),
        );
    }
    let framework_key = if text.lines().any(|l| l.starts_with("frameworks:")) {
        "frameworks"
    } else {
        "framework"
    };
    if b.framework != head.framework {
        push(
            format!("{FILE_NAME}#framework"),
            line_of(&text, None, framework_key),
            format!(
                "this change replaces the primary framework `{}` with `{}`; {keep}",
                b.framework, head.framework
            ),
        );
    }
    for dropped in b.frameworks.iter().filter(|f| !head.frameworks.contains(f)) {
        push(
            format!("{FILE_NAME}#frameworks.{dropped}"),
            line_of(&text, None, framework_key),
            format!("this change stops checking the framework `{dropped}`; {keep}"),
        );
    }
    if longer(head.review_interval, b.review_interval, as_of) {
        push(
            format!("{FILE_NAME}#review_interval"),
            line_of(&text, None, "review_interval"),
            format!(
                "this change lengthens the default review interval from {} to {}; {keep}",
                b.review_interval, head.review_interval
            ),
        );
    }
    let cycle = |c: &Config| c.audit_cycle.unwrap_or(crate::rules::AUDIT_CYCLE);
    if longer(cycle(head), cycle(b), as_of) {
        push(
            format!("{FILE_NAME}#audit_programme.cycle"),
            line_of(&text, Some("audit_programme"), "cycle"),
            format!(
                "this change lengthens the audit programme cycle from {} to {}; {keep}",
                cycle(b),
                cycle(head)
            ),
        );
    }
    // Record freshness: the sms.yaml override, else the (base) catalogue's interval; a catalogue
    // that demands less is reported below, on its own.
    let kinds: BTreeSet<&str> = base
        .catalog
        .record_kinds
        .iter()
        .map(|k| k.id.as_str())
        .chain(b.intervals.keys().map(String::as_str))
        .chain(head.intervals.keys().map(String::as_str))
        .collect();
    for kind in kinds {
        let was = b
            .intervals
            .get(kind)
            .copied()
            .or_else(|| base.catalog.record_kind(kind).and_then(|k| k.fresh_within));
        let now = head
            .intervals
            .get(kind)
            .copied()
            .or_else(|| base.catalog.record_kind(kind).and_then(|k| k.fresh_within));
        let Some(was) = was else { continue };
        let worse = match now {
            None => true,
            Some(now) => longer(now, was, as_of),
        };
        if worse {
            push(
                format!("{FILE_NAME}#intervals.{kind}"),
                line_of(&text, Some("intervals"), kind),
                format!(
                    "this change lengthens the interval of `{kind}` records from {was} to {}; {keep}",
                    now.map_or("none".to_string(), |n| n.to_string())
                ),
            );
        }
    }
    // Applicability: a clause newly operated by another party, or its entry changed.
    for a in &head.applicability {
        let before = b.applicability.iter().find(|x| x.clause == a.clause);
        let changed = match before {
            None => true,
            Some(x) => {
                x.party != a.party || x.agreement != a.agreement || x.review_kind != a.review_kind
            }
        };
        if changed {
            push(
                format!("{FILE_NAME}#applicability.{}", a.clause),
                a.pos,
                format!(
                    "this change {} clause {} as operated by {}, which changes the evidence it needs; {keep}",
                    if before.is_none() { "declares" } else { "re-declares" },
                    a.clause,
                    a.party
                ),
            );
        }
    }
    // Approval evidence: a document type that now accepts weaker evidence than at the base.
    let types: BTreeSet<&str> = b
        .approval
        .require
        .keys()
        .chain(head.approval.require.keys())
        .map(String::as_str)
        .collect();
    for t in types {
        let (was, now) = (
            b.approval.required(Some(t)),
            head.approval.required(Some(t)),
        );
        if now < was {
            push(
                format!("{FILE_NAME}#approval.require.{t}"),
                line_of(&text, Some("approval"), t),
                format!(
                    "this change lowers the approval evidence `{t}` documents need from `{}` to `{}`; {keep}",
                    was.as_str(),
                    now.as_str()
                ),
            );
        }
    }
    // Trusted signing keys: a key (or a new owner of a key) that the base did not trust could sign
    // approvals, the change's own included.
    let trusted = |c: &Config| -> BTreeSet<(String, String)> {
        c.keyring
            .keys
            .iter()
            .map(|k| (k.fingerprint.clone(), k.signer().to_string()))
            .chain(
                c.keyring
                    .openpgp
                    .iter()
                    .map(|k| (format!("OpenPGP {}", k.fingerprint), k.signer().to_string())),
            )
            .collect()
    };
    let before = trusted(b);
    for (fingerprint, signer) in trusted(head).difference(&before) {
        let pos = if text.lines().any(|l| l.trim_start().starts_with("keys:")) {
            line_of(&text, Some("people"), "keys")
        } else {
            line_of(&text, None, "signatures")
        };
        push(
            format!("{FILE_NAME}#signatures.{fingerprint}"),
            pos,
            format!(
                "this change trusts the signing key {fingerprint} as {signer}'s: its signatures count as approvals from now on, this change's own included (the history is verified with the change's keys)"
            ),
        );
    }
    // History settings: a later baseline exempts more revisions; a longer back-dating tolerance.
    if head.history.baseline.is_some() && head.history.baseline != b.history.baseline {
        push(
            format!("{FILE_NAME}#history.baseline"),
            line_of(&text, Some("history"), "baseline"),
            format!(
                "this change sets `history.baseline` to `{}` (was {}), exempting revisions from the approval-date rules; {keep}",
                head.history.baseline.as_deref().unwrap_or_default(),
                b.history.baseline.as_deref().map_or("unset".to_string(), |s| format!("`{s}`"))
            ),
        );
    }
    let default_tolerance = Interval {
        count: 30,
        unit: crate::dates::Unit::Days,
    };
    if let Some(now) = head.history.backdating_tolerance {
        let was = b.history.backdating_tolerance.unwrap_or(default_tolerance);
        if longer(now, was, as_of) {
            push(
                format!("{FILE_NAME}#history.backdating_tolerance"),
                line_of(&text, Some("history"), "backdating_tolerance"),
                format!(
                    "this change lengthens the back-dating tolerance from {was} to {now}; {keep}"
                ),
            );
        }
    }
    let catalogue_changed = base.catalog.frameworks.iter().any(|f| {
        head_catalog
            .frameworks
            .iter()
            .any(|h| h.id == f.id && h.hash != f.hash)
    });
    if b.framework == head.framework && catalogue_changed {
        catalogue_weakenings(&base.catalog, head_catalog, as_of, &mut out);
    }
    out
}

/// A user catalogue (frameworks/) that demands less than at the base.
fn catalogue_weakenings(base: &Catalog, head: &Catalog, as_of: Date, out: &mut Vec<Diagnostic>) {
    let mut push = |subject: String, message: String| {
        out.push(
            Diagnostic::new("gate-config-weakened", subject, message)
                .at(FILE_NAME, Pos::new(1, 1))
                .help("the gate judges the change by the base's catalogue; change the catalogue in a change of its own, reviewed as policy"),
        );
    };
    // Frameworks are compared one by one: only those in both whose catalogue text changed (a
    // framework the change stops checking is reported on its own).
    let changed = |fw: &str| {
        let h = head.frameworks.iter().find(|h| h.id == fw);
        let b = base.frameworks.iter().find(|b| b.id == fw);
        matches!((b, h), (Some(b), Some(h)) if b.hash != h.hash)
    };
    let id = &base.id;
    for cl in &base.clauses {
        let fw = &base.framework_of(cl).id;
        if !changed(fw) {
            continue;
        }
        let (id, local) = (fw, base.local_id(cl));
        let Some(now) = head.clause(&cl.id) else {
            push(
                format!("framework:{id}#{local}"),
                format!("this change removes clause {local} from the catalogue `{id}`"),
            );
            continue;
        };
        let mut less = Vec::new();
        if cl.evidence.needs_documents() && !now.evidence.needs_documents() {
            less.push("documents".to_string());
        }
        if cl.evidence.needs_records() && !now.evidence.needs_records() {
            less.push("records".to_string());
        }
        for d in cl.documents.iter().filter(|d| !now.documents.contains(d)) {
            less.push(format!("the named document `{d}`"));
        }
        for r in cl.records.iter().filter(|r| !now.records.contains(r)) {
            less.push(format!("`{r}` records"));
        }
        if now.expand && !cl.expand {
            less.push("own citations (it now expands to its children)".to_string());
        }
        if now.delegable && !cl.delegable {
            less.push("its own operation (it may now be delegated)".to_string());
        }
        if !less.is_empty() {
            push(
                format!("framework:{id}#{local}"),
                format!(
                    "this change makes clause {local} of `{id}` demand less: no longer {}",
                    less.join(", ")
                ),
            );
        }
    }
    for k in &base.record_kinds {
        let Some(now) = head.record_kind(&k.id) else {
            push(
                format!("framework:{id}#kind.{}", k.id),
                format!("this change removes the record kind `{}` from `{id}`", k.id),
            );
            continue;
        };
        let mut less = Vec::new();
        if let Some(was) = k.fresh_within {
            if now.fresh_within.is_none_or(|n| longer(n, was, as_of)) {
                less.push(format!("a longer freshness interval than {was}"));
            }
        }
        for f in k.required.iter().filter(|f| !now.required.contains(f)) {
            less.push(format!("no required `{f}`"));
        }
        for i in k
            .inputs
            .iter()
            .filter(|i| !now.inputs.iter().any(|n| n.id == i.id))
        {
            less.push(format!("no review input `{}`", i.id));
        }
        if let Some(was) = k.retention {
            if now.retention.is_none_or(|n| longer(was, n, as_of)) {
                less.push(format!("a shorter retention than {was}"));
            }
        }
        if !less.is_empty() {
            push(
                format!("framework:{id}#kind.{}", k.id),
                format!(
                    "this change weakens the record kind `{}` of `{id}`: {}",
                    k.id,
                    less.join(", ")
                ),
            );
        }
    }
    for n in &base.documents {
        let fw = base.framework_named_by(&n.id);
        if !changed(fw) {
            continue;
        }
        let id = fw;
        match head.named_document(&n.id) {
            None => push(
                format!("framework:{id}#document.{}", n.id),
                format!(
                    "this change removes the named document `{}` from `{id}`",
                    n.id
                ),
            ),
            Some(now) if n.approver_role.is_some() && now.approver_role != n.approver_role => push(
                format!("framework:{id}#document.{}", n.id),
                format!(
                    "this change drops the approver role `{}` that `{}` demands",
                    n.approver_role.as_deref().unwrap_or_default(),
                    n.id
                ),
            ),
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_of_finds_keys_in_sections() {
        let text = "organisation: X\nframework: iso\nrules:\n  review-overdue: allow\nintervals:\n  incident: 2 years\n";
        assert_eq!(line_of(text, None, "framework"), Pos::new(2, 1));
        assert_eq!(
            line_of(text, Some("rules"), "review-overdue"),
            Pos::new(4, 3)
        );
        assert_eq!(line_of(text, Some("intervals"), "incident"), Pos::new(6, 3));
        assert_eq!(line_of(text, Some("rules"), "incident"), Pos::new(1, 1));
    }

    #[test]
    fn levels_rank_from_allow_to_deny() {
        assert!(level_rank(None) < level_rank(Some(Severity::Note)));
        assert!(level_rank(Some(Severity::Note)) < level_rank(Some(Severity::Warning)));
        assert!(level_rank(Some(Severity::Warning)) < level_rank(Some(Severity::Error)));
    }
}
