//! What `serve` keeps between builds, so that a rebuild after an edit reads and parses only the
//! files that changed.
//!
//! A full load is [`check::load`] done step by step, keeping its parts apart: the findings of
//! `sms.yaml`, of each file, of the catalogue and of git; the stamp of every file of the work
//! tree; HEAD's commit. A reload lists the work tree again (reading no file whose stamp is
//! unchanged), reads the files whose stamp changed, parses only those whose bytes changed,
//! updates the list of uncommitted files by comparing each changed file with HEAD's blob, and
//! keeps the history already read (it depends on HEAD alone). Linking and the rules then run
//! over the whole model, as in `check`: they are fast.
//!
//! Whatever a reload cannot decide that way makes it a full load: `sms.yaml` or a framework file
//! changed, HEAD moved, a file appeared that git may be ignoring, a file went back to HEAD's bytes
//! while it was uncommitted when the history was read (the index may still differ), a file over
//! the size limit or a link changed, more Markdown files than `limits.max_documents`. Either way
//! [`Session::loaded`] is what `check::load` returns for the same work tree; the site tests compare
//! a served site with a fresh build file by file.

use crate::check::{self, Loaded};
use crate::config;
use crate::diag::Diagnostic;
use crate::history::{self, BlobId, Repo};
use crate::snapshot::{self, Entry, EntryKind, Listed, Role, Snapshot, Stamp};
use crate::source::{self, FileParse, Sources};
use anyhow::Result;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The SMS of a `serve` session, reloaded after each change.
pub struct Session {
    opts: check::Options,
    /// `None` before the first load and after a failed one: the next load is a full one.
    state: Option<State>,
}

/// What a load did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reload {
    /// Why the whole SMS was read again; `None`: only the changed files were.
    pub full: Option<String>,
    /// Files read (in a full load, every file auditbook reads).
    pub read: usize,
    /// Files whose bytes changed (in a full load, every file).
    pub changed: usize,
    /// Their paths, sorted, added and removed files included (empty in a full load).
    pub paths: Vec<String>,
}

struct State {
    loaded: Loaded,
    /// Per work-tree file: its stamp when it was read, and whether that stamp was racy (the file
    /// is then read again at the next reload, whatever its stamp).
    stamps: HashMap<String, (Stamp, bool)>,
    /// Findings about each file, by path (path order is snapshot order).
    file_findings: BTreeMap<String, Vec<Diagnostic>>,
    config_findings: Vec<Diagnostic>,
    catalog_findings: Vec<Diagnostic>,
    /// The history's findings other than `uncommitted-changes` (made again from the dirty list).
    git_findings: Vec<Diagnostic>,
    git: Option<GitState>,
    /// More Markdown files than `limits.max_documents`: every reload is a full one.
    over_limit: bool,
}

/// What the dirty check of a reload needs from git.
struct GitState {
    /// HEAD's commit when the history was read (`None`: no commit yet).
    head: Option<String>,
    /// Files that differed from HEAD (or the index) when the history was read.
    dirty_at_load: HashSet<String>,
    /// Every work-tree file when the history was read.
    present_at_load: HashSet<String>,
    /// HEAD's files, read at the first reload that needs them.
    tracked: Option<Tracked>,
}

#[derive(Default)]
struct Tracked {
    files: HashMap<String, BlobId>,
    /// Links and submodules at HEAD: a change there needs git's own status.
    other: HashSet<String>,
}

impl Session {
    pub fn new(opts: check::Options) -> Session {
        Session { opts, state: None }
    }

    /// The SMS as last loaded; `None` before the first successful [`Session::reload`].
    pub fn loaded(&self) -> Option<&Loaded> {
        self.state.as_ref().map(|s| &s.loaded)
    }

    /// The stamp of a work-tree file as last read.
    pub fn stamp(&self, path: &str) -> Option<Stamp> {
        self.state.as_ref()?.stamps.get(path).map(|(s, _)| *s)
    }

    /// Bring the SMS up to date with the work tree.
    pub fn reload(&mut self) -> Result<Reload> {
        // Taken: a failure (or a panic) below leaves no state, and the next load is a full one.
        let Some(mut state) = self.state.take() else {
            return self.full("first build".into());
        };
        if state.over_limit {
            return self.full("more Markdown files than limits.max_documents".into());
        }
        match state.update(&self.opts)? {
            Ok(done) => {
                self.state = Some(state);
                Ok(done)
            }
            Err(why) => self.full(why),
        }
    }

    fn full(&mut self, why: String) -> Result<Reload> {
        let (state, read) = State::load(&self.opts)?;
        let changed = state.stamps.len();
        self.state = Some(state);
        Ok(Reload {
            full: Some(why),
            read,
            changed,
            paths: Vec::new(),
        })
    }
}

fn now_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

fn stamps_of(listing: &[Listed], listed_at: i128) -> HashMap<String, (Stamp, bool)> {
    listing
        .iter()
        .map(|l| (l.path.clone(), (l.stamp, l.stamp.racy(listed_at))))
        .collect()
}

impl State {
    /// `check::load`, keeping the parts a reload updates. Returns the files read.
    fn load(opts: &check::Options) -> Result<(State, usize)> {
        let root = config::discover(&opts.path)?;
        let (config, config_findings) = config::load(&root)?;
        let listed_at = now_ns();
        let (work, git) = rayon::join(
            || -> Result<_> {
                let listing = snapshot::list_work_tree(&config)?;
                let entries = listing
                    .par_iter()
                    .map(|l| snapshot::read_listed(&config, l))
                    .collect::<Result<Vec<Entry>>>()?;
                Ok((listing, Snapshot { entries }))
            },
            || history::load(&config),
        );
        let (listing, snapshot) = work?;
        let git = git?;
        let documents = snapshot
            .entries
            .iter()
            .filter(|e| source::is_document(&config, e))
            .count();
        let over_limit = documents > config.limits.max_documents;
        let (sources, file_findings) = if over_limit {
            // `source::parse` alone knows which files it skips; keep its findings as one group.
            let (sources, findings) = source::parse(&config, &snapshot);
            let mut by_file = BTreeMap::new();
            by_file.insert(String::new(), findings);
            (sources, by_file)
        } else {
            let mut parsed: Vec<FileParse> = snapshot
                .entries
                .par_iter()
                .map(|e| source::parse_file(&config, e))
                .collect();
            let mut by_file = BTreeMap::new();
            for (e, p) in snapshot.entries.iter().zip(parsed.iter_mut()) {
                if !p.diags.is_empty() {
                    by_file.insert(e.path.clone(), std::mem::take(&mut p.diags));
                }
            }
            (source::merge(parsed).0, by_file)
        };
        let mut catalog_findings = Vec::new();
        let catalog = check::select_catalog(&config, &sources, &mut catalog_findings)?;
        let as_of = match opts.as_of {
            Some(d) => d,
            None => check::default_as_of(&config)?,
        };
        let git_findings: Vec<Diagnostic> = git
            .findings
            .into_iter()
            .filter(|d| d.code != UNCOMMITTED)
            .collect();
        let effective = git
            .history
            .as_ref()
            .map(|h| h.effective_versions(&sources))
            .unwrap_or_default();
        let state_git = git.history.as_ref().map(|h| GitState {
            head: h.head.as_ref().map(|h| h.commit.clone()),
            dirty_at_load: h.dirty.iter().cloned().collect(),
            present_at_load: listing.iter().map(|l| l.path.clone()).collect(),
            tracked: None,
        });
        let read = snapshot
            .entries
            .iter()
            .filter(|e| matches!(e.kind, EntryKind::File { bytes: Some(_), .. }))
            .count();
        let mut state = State {
            loaded: Loaded {
                at: None,
                config,
                catalog,
                snapshot,
                sources,
                as_of,
                load_findings: Vec::new(),
                history: git.history,
                effective,
                draft: false,
                history_notices: git.notices,
                require_history: false,
            },
            stamps: stamps_of(&listing, listed_at),
            file_findings,
            config_findings,
            catalog_findings,
            git_findings,
            git: state_git,
            over_limit,
        };
        state.assemble_findings();
        Ok((state, read))
    }

    /// `load_findings`, `draft`: as `check::load` makes them (the same order: sms.yaml, files in
    /// path order, catalogue, git).
    fn assemble_findings(&mut self) {
        let mut all = self.config_findings.clone();
        for f in self.file_findings.values() {
            all.extend(f.iter().cloned());
        }
        all.extend(self.catalog_findings.iter().cloned());
        all.extend(self.git_findings.iter().cloned());
        let loaded = &mut self.loaded;
        if let Some(h) = &loaded.history {
            if !h.dirty.is_empty() {
                all.push(history::uncommitted(&h.dirty));
            }
        }
        loaded.load_findings = all;
        loaded.draft = loaded
            .history
            .as_ref()
            .is_some_and(|h| !h.dirty.is_empty() || h.state == history::State::NoCommits);
    }

    /// Apply the changes of the work tree. `Ok(Err(why))`: a full load is needed.
    fn update(&mut self, opts: &check::Options) -> Result<std::result::Result<Reload, String>> {
        let config = &self.loaded.config;
        let listed_at = now_ns();
        let listing = snapshot::list_work_tree(config)?;

        // Which files to read: a new stamp, or a racy one.
        let old = &self.loaded.snapshot;
        let to_read: Vec<&Listed> = listing
            .iter()
            .filter(|l| match self.stamps.get(&l.path) {
                Some((stamp, racy)) => *racy || *stamp != l.stamp || old.get(&l.path).is_none(),
                None => true,
            })
            .collect();
        let fresh: HashMap<&str, Entry> = to_read
            .par_iter()
            .map(|l| snapshot::read_listed(config, l).map(|e| (l.path.as_str(), e)))
            .collect::<Result<_>>()?;

        // The new snapshot; `changed`: paths whose entry differs (added and removed included);
        // `touched`: paths whose file may differ on disk (what the dirty check looks at).
        let mut entries = Vec::with_capacity(listing.len());
        let mut changed: Vec<String> = Vec::new();
        let mut touched: Vec<String> = Vec::new();
        for l in &listing {
            let before = old.get(&l.path);
            match (fresh.get(l.path.as_str()), before) {
                (None, Some(b)) => entries.push(b.clone()),
                (Some(new), Some(b)) if new.kind.same_as(&b.kind) => {
                    // Read bytes that did not change: keep the old ones (shared with the parse).
                    if !matches!(new.kind, EntryKind::File { bytes: Some(_), .. }) {
                        touched.push(l.path.clone());
                    }
                    entries.push(b.clone());
                }
                (Some(new), _) => {
                    changed.push(l.path.clone());
                    touched.push(l.path.clone());
                    entries.push(new.clone());
                }
                (None, None) => unreachable!("a listed file without a snapshot entry is read"),
            }
        }
        let listed: HashSet<&str> = listing.iter().map(|l| l.path.as_str()).collect();
        for e in &old.entries {
            if !listed.contains(e.path.as_str()) {
                changed.push(e.path.clone());
                touched.push(e.path.clone());
            }
        }
        let snapshot = Snapshot { entries };
        let read = fresh.len();

        // What a reload cannot follow.
        for p in changed.iter().chain(&touched) {
            if p == config::FILE_NAME {
                return Ok(Err("sms.yaml changed".into()));
            }
            if snapshot::role(config, p) == Role::Framework {
                return Ok(Err(format!("the framework file {p} changed")));
            }
            if snapshot::role(config, p) == Role::Mapping {
                return Ok(Err(format!("the mapping file {p} changed")));
            }
        }
        let documents = snapshot
            .entries
            .iter()
            .filter(|e| source::is_document(config, e))
            .count();
        if documents > config.limits.max_documents {
            return Ok(Err("more Markdown files than limits.max_documents".into()));
        }
        let repo = Repo::open(&config.root)?;
        let head = match &repo {
            Some(r) => r.head_commit()?.map(|h| h.commit),
            None => None,
        };
        match (&self.git, &repo) {
            (Some(g), Some(_)) if g.head == head => {}
            (None, None) => {}
            _ => return Ok(Err("HEAD moved".into())),
        }

        // Uncommitted files.
        touched.sort();
        touched.dedup();
        if let (Some(g), Some(repo), Some(h)) = (&mut self.git, &repo, &mut self.loaded.history) {
            if !touched.is_empty() {
                if g.tracked.is_none() {
                    g.tracked = Some(tracked_at(repo, config, g.head.as_deref())?);
                }
                let g: &GitState = g;
                let empty = Tracked::default();
                let tracked = g.tracked.as_ref().unwrap_or(&empty);
                let mut dirty: HashSet<String> = h.dirty.iter().cloned().collect();
                for p in &touched {
                    let Some(is_dirty) = dirty_of(g, tracked, config, p, snapshot.get(p)) else {
                        return Ok(Err(format!("git's status is needed for {p}")));
                    };
                    if is_dirty {
                        dirty.insert(p.clone());
                    } else {
                        dirty.remove(p);
                    }
                }
                let mut dirty: Vec<String> = dirty.into_iter().collect();
                dirty.sort();
                h.dirty = dirty;
            }
        }

        // Parse the changed files again; keep everything else.
        changed.sort();
        changed.dedup();
        let parsed: Vec<(String, Option<FileParse>)> = changed
            .par_iter()
            .map(|p| {
                (
                    p.clone(),
                    snapshot.get(p).map(|e| source::parse_file(config, e)),
                )
            })
            .collect();
        for (path, file) in parsed {
            let file = file.unwrap_or_default();
            replace_file(
                &mut self.loaded.sources,
                &path,
                file.documents,
                file.records,
            );
            if file.diags.is_empty() {
                self.file_findings.remove(&path);
            } else {
                self.file_findings.insert(path, file.diags);
            }
        }
        self.loaded.snapshot = snapshot;
        self.stamps = stamps_of(&listing, listed_at);
        self.loaded.as_of = match opts.as_of {
            Some(d) => d,
            None => check::default_as_of(&self.loaded.config)?,
        };
        self.loaded.effective = self
            .loaded
            .history
            .as_ref()
            .map(|h| h.effective_versions(&self.loaded.sources))
            .unwrap_or_default();
        self.assemble_findings();
        Ok(Ok(Reload {
            full: None,
            read,
            changed: changed.len(),
            paths: changed,
        }))
    }
}

/// Put the documents and records of the file at `path` in place of the old ones, where
/// `source::parse` would have them: documents sorted by path, records by path and then in file
/// order.
fn replace_file(
    sources: &mut Sources,
    path: &str,
    documents: Vec<crate::source::Document>,
    records: Vec<crate::source::Record>,
) {
    let docs = &mut sources.documents;
    let start = docs.partition_point(|d| d.path.as_str() < path);
    let end = docs.partition_point(|d| d.path.as_str() <= path);
    docs.splice(start..end, documents);
    let recs = &mut sources.records;
    let start = recs.partition_point(|r| &*r.path < path);
    let end = recs.partition_point(|r| &*r.path <= path);
    recs.splice(start..end, records);
}

/// HEAD's files, by SMS path.
fn tracked_at(repo: &Repo, config: &config::Config, head: Option<&str>) -> Result<Tracked> {
    let Some(head) = head else {
        return Ok(Tracked::default());
    };
    let tree = repo.committed_tree(config, head)?;
    Ok(Tracked {
        files: tree.files.into_iter().map(|f| (f.path, f.blob)).collect(),
        other: tree.not_files.into_iter().collect(),
    })
}

/// Whether the file at `path` (now `entry`, `None` when deleted) differs from HEAD as git's status
/// would say; `None` when only git's status can tell.
fn dirty_of(
    git: &GitState,
    tracked: &Tracked,
    config: &config::Config,
    path: &str,
    entry: Option<&Entry>,
) -> Option<bool> {
    if tracked.other.contains(path) {
        return None;
    }
    let Some(blob) = tracked.files.get(path) else {
        // Untracked (or ignored) at HEAD: that does not change while the file is edited, but a
        // new file may be ignored, which only git knows.
        return match entry {
            None => Some(false),
            Some(_) if git.present_at_load.contains(path) => Some(git.dirty_at_load.contains(path)),
            Some(_) => None,
        };
    };
    let Some(entry) = entry else {
        return Some(true);
    };
    let same = match &entry.kind {
        EntryKind::File { bytes: Some(b), .. } => blob.matches(b),
        EntryKind::File { bytes: None, size } if *size <= config.limits.max_file_size => {
            let abs = config.root.join(path);
            match crate::regular::read(&abs, config.limits.max_file_size) {
                Ok(crate::regular::Regular::Bytes(b)) => blob.matches(&b),
                _ => return None,
            }
        }
        EntryKind::File { .. } | EntryKind::TooLarge { .. } | EntryKind::NotRegular { .. } => {
            return None
        }
        EntryKind::Symlink { .. } | EntryKind::Submodule => return Some(true),
    };
    match (same, git.dirty_at_load.contains(path)) {
        (false, _) => Some(true),
        (true, false) => Some(false),
        // Back to HEAD's bytes, but the index may still hold another version.
        (true, true) => None,
    }
}

const UNCOMMITTED: &str = "uncommitted-changes";

/// A line about the findings of a build, for the server's log.
pub fn findings_line(findings: &[Diagnostic]) -> String {
    let c = crate::diag::count(findings);
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    format!(
        "{} error{}, {} warning{}, {} note{}",
        c.errors,
        plural(c.errors),
        c.warnings,
        plural(c.warnings),
        c.notes,
        plural(c.notes),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Document, Record};

    fn record(path: &str, id: &str) -> Record {
        let text = format!("id: {id}\nkind: incident\ndate: 2026-01-01\ntitle: T\n");
        let config = crate::config::parse(
            std::path::Path::new("/sms"),
            "organisation: O\nscope: S\nframework: iso20000-1:2018\n",
        )
        .unwrap()
        .0;
        let mut diags = Vec::new();
        let mut r = source::parse_records(&config, path, &text, &mut diags);
        r.remove(0)
    }

    fn ids(records: &[Record]) -> Vec<&str> {
        records.iter().map(|r| r.id.as_str()).collect()
    }

    #[test]
    fn a_replaced_file_keeps_the_order_a_full_parse_gives() {
        let mut sources = Sources {
            records: vec![
                record("records/a.yaml", "A1"),
                record("records/b.yaml", "B1"),
                record("records/b.yaml", "B2"),
                record("records/c.yaml", "C1"),
            ],
            ..Sources::default()
        };
        // A list file that now holds three records, in file order.
        let b = vec![
            record("records/b.yaml", "B3"),
            record("records/b.yaml", "B1"),
            record("records/b.yaml", "B4"),
        ];
        replace_file(&mut sources, "records/b.yaml", Vec::new(), b);
        assert_eq!(ids(&sources.records), ["A1", "B3", "B1", "B4", "C1"]);
        // A new file goes where its path sorts; a deleted one leaves nothing.
        replace_file(
            &mut sources,
            "records/a2.yaml",
            Vec::new(),
            vec![record("records/a2.yaml", "N")],
        );
        replace_file(&mut sources, "records/c.yaml", Vec::new(), Vec::new());
        assert_eq!(ids(&sources.records), ["A1", "N", "B3", "B1", "B4"]);
        let docs: Vec<Document> = Vec::new();
        replace_file(&mut sources, "policies/x.md", docs, Vec::new());
        assert!(sources.documents.is_empty());
    }
}
