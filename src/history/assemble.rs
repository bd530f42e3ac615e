//! The raw walk -> per-document and per-record histories. Documents and records are followed by
//! `id` (a moved-and-edited file keeps its history; in a `records:` list file records are matched
//! by id); files without an id are followed by path, through the renames git detected.

use super::rows::{history_date, RecRows};
use super::walk::{blob_prefix, civil_date, RawCommit, RawWalk, Summary};
use super::{
    Commit, DocumentHistory, DocumentRevision, FileHistory, History, RecordChange, RecordEvent,
    RecordHistory, State, Trailer, WalkStats,
};
use crate::config::{Config, FILE_NAME};
use crate::diag::Diagnostic;
use crate::ids::key;
use crate::snapshot::{self, Role};
use crate::source::Status;
use crate::yaml::Pos;
use jiff::civil::Date;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// `history.baseline`: revisions at or before it are imported.
pub(super) enum Baseline {
    None,
    Date(Date),
    /// Commits at or before this chain position; `None` when no stored commit is that old.
    Seq(Option<u64>),
}

/// The `history.baseline` text, trimmed; `None` when unset or blank.
pub(super) fn baseline_text(config: &Config) -> Option<&str> {
    config
        .history
        .baseline
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Whether the baseline (if any) is a date: it then resolves without the repository or the raw
/// walk, so a history assembled earlier (or cut from HEAD's) can be used as it is.
pub(super) fn plain_baseline(config: &Config) -> bool {
    baseline_text(config).is_none_or(|t| crate::dates::parse_date(t).is_ok())
}

impl Baseline {
    pub fn resolve(
        repo: &git2::Repository,
        text: Option<&str>,
        raw: &RawWalk,
        findings: &mut Vec<Diagnostic>,
    ) -> Baseline {
        let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
            return Baseline::None;
        };
        if let Ok(d) = crate::dates::parse_date(text) {
            return Baseline::Date(d);
        }
        let commit = repo.revparse_single(text).and_then(|o| o.peel_to_commit());
        let Ok(commit) = commit else {
            findings.push(
                Diagnostic::new(
                    "config-invalid",
                    format!("{FILE_NAME}#history.baseline"),
                    format!("`history.baseline: {text}` is neither a date (YYYY-MM-DD) nor a commit of this repository; no revision is treated as imported"),
                )
                .at(FILE_NAME, Pos::new(1, 1)),
            );
            return Baseline::None;
        };
        // The nearest first-parent ancestor (or itself) that the walk knows.
        let mut seqs: HashMap<&str, u64> =
            raw.commits.iter().map(|c| (c.id.as_str(), c.seq)).collect();
        seqs.insert(raw.tip.as_str(), raw.tip_seq);
        let mut current = Some(commit);
        while let Some(c) = current {
            if let Some(&s) = seqs.get(c.id().to_string().as_str()) {
                return Baseline::Seq(Some(s));
            }
            current = c.parent(0).ok();
        }
        Baseline::Seq(None)
    }

    fn imported(&self, seq: u64, date: Date) -> bool {
        match self {
            Baseline::None => false,
            Baseline::Date(d) => date <= *d,
            Baseline::Seq(s) => s.is_some_and(|s| seq <= s),
        }
    }
}

/// The records of a version of a record file (none for anything else).
fn record_list<'r>(s: Option<&'r Summary>, none: &'r RecRows) -> &'r RecRows {
    match s {
        Some(Summary::Records(r)) => r,
        _ => none,
    }
}

/// One record of a version of a record file: the version's summaries and its position there.
#[derive(Clone, Copy)]
struct Row<'r> {
    rows: &'r RecRows,
    i: usize,
}

impl<'r> Row<'r> {
    fn id(self) -> &'r str {
        self.rows.id(self.i)
    }
}

/// An id compared as [`key`] compares ids (ASCII case ignored), without making the key.
#[derive(Clone, Copy)]
struct Caseless<'r>(&'r str);

impl PartialEq for Caseless<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(other.0)
    }
}

impl Eq for Caseless<'_> {}

impl std::hash::Hash for Caseless<'_> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        crate::ids::with_key(self.0, |k| k.hash(h));
    }
}

/// The files (indexes into [`Builder::path_names`]) that hold a record id: almost always one.
#[derive(Debug, Default)]
enum Paths {
    #[default]
    None,
    One(u32),
    Many(Vec<u32>),
}

impl Paths {
    fn insert(&mut self, p: u32) {
        match self {
            Paths::None => *self = Paths::One(p),
            Paths::One(q) if *q == p => {}
            Paths::One(q) => *self = Paths::Many(vec![*q, p]),
            Paths::Many(v) => {
                if !v.contains(&p) {
                    v.push(p);
                }
            }
        }
    }

    fn remove(&mut self, p: u32) {
        match self {
            Paths::One(q) if *q == p => *self = Paths::None,
            Paths::Many(v) => v.retain(|&q| q != p),
            _ => {}
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Paths::None => true,
            Paths::One(_) => false,
            Paths::Many(v) => v.is_empty(),
        }
    }
}

fn status_of(text: Option<&str>) -> Option<Status> {
    match text? {
        "draft" => Some(Status::Draft),
        "in-review" => Some(Status::InReview),
        "approved" => Some(Status::Approved),
        "retired" => Some(Status::Retired),
        _ => None,
    }
}

fn date_of(text: Option<&str>) -> Option<Date> {
    text.and_then(|t| crate::dates::parse_date(t).ok())
}

fn commit_of(c: &RawCommit, baseline: &Baseline) -> Commit {
    let date = civil_date(c.time, c.offset);
    Commit {
        id: c.id.clone(),
        author_name: c.author_name.clone(),
        author_email: c.author_email.clone(),
        time: c.time,
        offset_minutes: c.offset,
        date,
        subject: c.subject.clone(),
        trailers: c
            .trailers
            .iter()
            .map(|(k, v)| Trailer {
                key: k.clone(),
                value: v.clone(),
            })
            .collect(),
        contributors: c.contributors.clone(),
        approval_trailers: c.approval_trailers,
        merge: c.merge,
        imported: baseline.imported(c.seq, date),
        signature: c.signature.clone(),
    }
}

pub(super) fn assemble(config: &Config, raw: &RawWalk, baseline: &Baseline) -> History {
    let mut b = Builder::default();
    for (ci, c) in raw.commits.iter().enumerate() {
        b.commit(config, raw, ci, c);
    }
    History {
        prefix: String::new(),
        state: State::Complete,
        head: None,
        commits: raw.commits.iter().map(|c| commit_of(c, baseline)).collect(),
        documents: b.documents,
        records: b.records,
        files: b.files,
        dirty: Vec::new(),
        sparse: Vec::new(),
        tags: BTreeMap::new(),
        stats: WalkStats::default(),
        raw: None,
    }
}

#[derive(Default)]
struct Builder {
    documents: BTreeMap<String, DocumentHistory>,
    doc_paths: HashMap<String, BTreeSet<String>>,
    records: BTreeMap<String, RecordHistory>,
    /// By lower-case record id: the files that hold it now.
    rec_paths: HashMap<String, Paths>,
    /// The record files met, by index, and the index of each.
    path_ids: HashMap<String, u32>,
    files: BTreeMap<String, FileHistory>,
}

impl Builder {
    fn commit(&mut self, config: &Config, raw: &RawWalk, ci: usize, c: &RawCommit) {
        // One key buffer for every lookup: this runs for every change of every commit.
        let key_buf = std::cell::RefCell::new(String::with_capacity(48));
        let summary = |path: &str, oid: &Option<String>| -> Option<&Summary> {
            let oid = oid.as_ref()?;
            let mut k = key_buf.borrow_mut();
            k.clear();
            k.push_str(blob_prefix(config, path));
            k.push_str(oid);
            raw.blobs.get(k.as_str())
        };
        // --- documents and files without an id
        let mut touched: Vec<(String, String)> = Vec::new();
        let mut file_gone: HashMap<String, FileHistory> = HashMap::new();
        let mut file_new: Vec<String> = Vec::new();
        let mut adopted: Vec<(String, Vec<usize>)> = Vec::new();
        // Documents whose file is new in this commit: one moved and converted at once.
        let mut new_docs: Vec<(String, String)> = Vec::new();
        for ch in &c.changes {
            if snapshot::role(config, &ch.path) != Role::Document {
                continue;
            }
            let (old, new) = (summary(&ch.path, &ch.old), summary(&ch.path, &ch.new));
            let old_noid = ch.old.is_some() && !matches!(old, Some(Summary::Document(_)));
            let new_noid = ch.new.is_some() && !matches!(new, Some(Summary::Document(_)));
            match (old_noid, new_noid) {
                (true, true) => {
                    if let Some(f) = self.files.get_mut(&ch.path) {
                        f.commits.push(ci);
                    } else {
                        file_new.push(ch.path.clone());
                    }
                }
                (true, false) => {
                    if let Some(f) = self.files.remove(&ch.path) {
                        // Brought under control: the file's history so far is the document's
                        // "before control", when this is the document's first revision.
                        if let Some(Summary::Document(s)) = new {
                            let k = key(&s.id);
                            if !self.documents.contains_key(&k) {
                                adopted.push((k, f.commits.clone()));
                            }
                        }
                        file_gone.insert(ch.path.clone(), f);
                    }
                }
                (false, true) => file_new.push(ch.path.clone()),
                (false, false) => {
                    if let (None, Some(Summary::Document(s))) = (&ch.old, new) {
                        new_docs.push((ch.path.clone(), key(&s.id)));
                    }
                }
            }
            if let Some(Summary::Document(s)) = old {
                let k = key(&s.id);
                if let Some(p) = self.doc_paths.get_mut(&k) {
                    p.remove(&ch.path);
                }
                touched.push((k, ch.path.clone()));
            }
            if let Some(Summary::Document(s)) = new {
                let k = key(&s.id);
                self.doc_paths
                    .entry(k.clone())
                    .or_default()
                    .insert(ch.path.clone());
                let rev = DocumentRevision {
                    commit: ci,
                    path: ch.path.clone(),
                    deleted: false,
                    version: s.version.clone(),
                    status: status_of(s.status.as_deref()),
                    approved: date_of(s.approved.as_deref()),
                    approver: s.approver.clone(),
                    clauses: s.clauses.clone(),
                    provides: s.provides.clone(),
                    controlled: s.controlled.clone(),
                    text: s.text.clone(),
                };
                let h = self.documents.entry(k).or_insert_with(|| DocumentHistory {
                    id: s.id.clone(),
                    revisions: Vec::new(),
                    before: Vec::new(),
                });
                h.id = s.id.clone();
                match h.revisions.last_mut() {
                    Some(last) if last.commit == ci => *last = rev,
                    _ => h.revisions.push(rev),
                }
            }
        }
        for (k, before) in adopted {
            if let Some(h) = self.documents.get_mut(&k) {
                if h.before.is_empty() && h.revisions.first().is_some_and(|r| r.commit == ci) {
                    h.before = before;
                }
            }
        }
        for (k, path) in touched {
            let gone = self.doc_paths.get(&k).is_none_or(BTreeSet::is_empty);
            let Some(h) = self.documents.get_mut(&k) else {
                continue;
            };
            if gone
                && h.revisions
                    .last()
                    .is_some_and(|r| r.commit != ci && !r.deleted)
            {
                if let Some(last) = h.revisions.last().cloned() {
                    h.revisions.push(DocumentRevision {
                        commit: ci,
                        path,
                        deleted: true,
                        ..last
                    });
                }
            }
        }
        for (from, to) in &c.renames {
            // A file without an id moved and given frontmatter in one commit: its history so
            // far is the document's before control.
            if let (Some(f), Some((_, k))) =
                (file_gone.get(from), new_docs.iter().find(|(p, _)| p == to))
            {
                if let Some(h) = self.documents.get_mut(k) {
                    if h.before.is_empty() && h.revisions.first().is_some_and(|r| r.commit == ci) {
                        h.before = f.commits.clone();
                    }
                }
            }
            if let (Some(mut f), Some(i)) = (
                file_gone.remove(from),
                file_new.iter().position(|p| p == to),
            ) {
                file_new.remove(i);
                f.renamed_from.push(from.clone());
                f.commits.push(ci);
                self.files.insert(to.clone(), f);
            }
        }
        for path in file_new {
            self.files.insert(
                path,
                FileHistory {
                    commits: vec![ci],
                    renamed_from: Vec::new(),
                },
            );
        }

        // --- records, matched by id
        let none = RecRows::default();
        let mut removed: Vec<(String, &str, Row)> = Vec::new();
        let mut added: Vec<(String, &str, Row)> = Vec::new();
        for ch in &c.changes {
            if snapshot::role(config, &ch.path) != Role::Record {
                continue;
            }
            let old = record_list(summary(&ch.path, &ch.old), &none);
            let new = record_list(summary(&ch.path, &ch.new), &none);
            // The first record with each id, on each side.
            let mut old_by: HashMap<Caseless, usize> = HashMap::with_capacity(old.len());
            for i in 0..old.len() {
                old_by.entry(Caseless(old.id(i))).or_insert(i);
            }
            let mut new_by: HashMap<Caseless, usize> = HashMap::with_capacity(new.len());
            for j in 0..new.len() {
                new_by.entry(Caseless(new.id(j))).or_insert(j);
            }
            let path_id = self.path_ids.get(ch.path.as_str()).copied();
            for i in 0..old.len() {
                let id = Caseless(old.id(i));
                if !new_by.contains_key(&id) && old_by.get(&id) == Some(&i) {
                    let k = key(id.0);
                    if let (Some(p), Some(path_id)) = (self.rec_paths.get_mut(&k), path_id) {
                        p.remove(path_id);
                    }
                    removed.push((k, &ch.path, Row { rows: old, i }));
                }
            }
            let mut path_id = path_id;
            for j in 0..new.len() {
                let id = Caseless(new.id(j));
                if new_by.get(&id) != Some(&j) {
                    continue;
                }
                let row = Row { rows: new, i: j };
                match old_by.get(&id) {
                    Some(&i) => {
                        crate::ids::with_key(id.0, |k| {
                            self.record_edit(k, Row { rows: old, i }, row, ci);
                        });
                    }
                    None => {
                        let p = match path_id {
                            Some(p) => p,
                            None => {
                                let p = self.path_ids.len() as u32;
                                self.path_ids.insert(ch.path.clone(), p);
                                path_id = Some(p);
                                p
                            }
                        };
                        let k = key(id.0);
                        match self.rec_paths.get_mut(&k) {
                            Some(paths) => paths.insert(p),
                            None => {
                                self.rec_paths.insert(k.clone(), Paths::One(p));
                            }
                        }
                        added.push((k, &ch.path, row));
                    }
                }
            }
        }
        // Moved between files in this commit: same id removed from one, added to another.
        let mut i = 0;
        while i < removed.len() {
            if let Some(j) = added.iter().position(|a| a.0 == removed[i].0) {
                let (k, from, old) = removed.remove(i);
                let (_, to, new) = added.remove(j);
                if let Some(h) = self.records.get_mut(&k) {
                    h.changes.push(RecordChange {
                        commit: ci,
                        event: RecordEvent::Moved {
                            from: from.to_string(),
                            to: to.to_string(),
                        },
                    });
                    h.path = to.to_string();
                }
                self.record_edit(&k, old, new, ci);
            } else {
                i += 1;
            }
        }
        // An id changed in place: one record left a file and one arrived in the same file.
        let mut paths: Vec<&str> = removed.iter().map(|r| r.1).collect();
        paths.sort_unstable();
        paths.dedup();
        let mut pairs = Vec::new();
        for p in paths {
            let gone: Vec<usize> = (0..removed.len()).filter(|&x| removed[x].1 == p).collect();
            let came: Vec<usize> = (0..added.len()).filter(|&x| added[x].1 == p).collect();
            if gone.len() == 1 && came.len() == 1 {
                pairs.push((gone[0], came[0]));
                continue;
            }
            // Several rows left and arrived (an export that also gained rows): a row that left
            // and one that arrived with the same content but for the id, each the only one with
            // that content on its side, is one record whose id changed.
            let mut by_content: HashMap<&[u8; 16], (Vec<usize>, Vec<usize>)> = HashMap::new();
            for &g in &gone {
                let r = removed[g].2;
                by_content.entry(r.rows.content(r.i)).or_default().0.push(g);
            }
            for &a in &came {
                let r = added[a].2;
                by_content.entry(r.rows.content(r.i)).or_default().1.push(a);
            }
            let mut matched: Vec<(usize, usize)> = by_content
                .into_values()
                .filter(|(g, a)| g.len() == 1 && a.len() == 1)
                .map(|(g, a)| (g[0], a[0]))
                .collect();
            matched.sort_unstable();
            pairs.extend(matched);
        }
        let mut paired_removed = BTreeSet::new();
        let mut paired_added = BTreeSet::new();
        for (gi, ai) in pairs {
            let (old_k, _, old) = &removed[gi];
            let (new_k, _, new) = &added[ai];
            if self.records.contains_key(new_k) || !self.records.contains_key(old_k) {
                continue;
            }
            if let Some(mut h) = self.records.remove(old_k) {
                h.id = new.id().to_string();
                h.changes.push(RecordChange {
                    commit: ci,
                    event: RecordEvent::IdChanged {
                        from: old.id().to_string(),
                        to: new.id().to_string(),
                    },
                });
                self.records.insert(new_k.clone(), h);
                self.record_edit(new_k, *old, *new, ci);
                paired_removed.insert(gi);
                paired_added.insert(ai);
            }
        }
        for (x, (k, path, _)) in removed.iter().enumerate() {
            if paired_removed.contains(&x) {
                continue;
            }
            let live = self.rec_paths.get(k).is_some_and(|p| !p.is_empty());
            if let (false, Some(h)) = (live, self.records.get_mut(k)) {
                if h.deleted.is_none() {
                    h.deleted = Some(ci);
                    h.path = path.to_string();
                    h.changes.push(RecordChange {
                        commit: ci,
                        event: RecordEvent::Deleted,
                    });
                }
            }
        }
        for (x, (k, path, r)) in added.iter().enumerate() {
            if paired_added.contains(&x) {
                continue;
            }
            match self.records.get_mut(k) {
                Some(h) => {
                    if h.deleted.is_some() {
                        h.deleted = None;
                        h.path = path.to_string();
                        h.changes.push(RecordChange {
                            commit: ci,
                            event: RecordEvent::Restored,
                        });
                    }
                }
                None => {
                    self.records.insert(
                        k.clone(),
                        RecordHistory {
                            id: r.id().to_string(),
                            kind: r.rows.kind(r.i).to_string(),
                            date: history_date(r.rows.date(r.i)),
                            first: ci,
                            path: path.to_string(),
                            changes: Vec::new(),
                            deleted: None,
                        },
                    );
                }
            }
        }
    }

    /// A record present before and after a change: what of it changed.
    fn record_edit(&mut self, k: &str, old: Row, new: Row, ci: usize) {
        let Some(h) = self.records.get_mut(k) else {
            return;
        };
        let mut events = Vec::new();
        let (old_kind, new_kind) = (old.rows.kind(old.i), new.rows.kind(new.i));
        if old_kind != new_kind {
            events.push(RecordEvent::KindChanged {
                from: old_kind.to_string(),
                to: new_kind.to_string(),
            });
        }
        if !old.rows.same_date(old.i, new.rows, new.i) {
            events.push(RecordEvent::DateChanged {
                from: history_date(old.rows.date(old.i)),
                to: history_date(new.rows.date(new.i)),
            });
        }
        if events.is_empty() && old.rows.content(old.i) != new.rows.content(new.i) {
            events.push(RecordEvent::Edited);
        }
        for event in events {
            h.changes.push(RecordChange { commit: ci, event });
        }
    }
}
