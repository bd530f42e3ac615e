//! `check --base REV` support (used by `crate::gate`): the merge-base of REV and HEAD, the SMS
//! files at that commit (sharing the work tree's bytes where they are the same), and the history
//! as it stood at that commit.
//!
//! The history at the base costs no second walk. When the base is on HEAD's first-parent chain
//! (a pull request's branch, or GitHub's merge commit), HEAD's assembled history is cut at it:
//! what the history holds up to a commit depends only on the commits up to it. Otherwise (a
//! branch that merged its target in) the walk HEAD's read just made is truncated at the newest
//! first-parent commit of HEAD that the base descends from, and only the base's own commits after
//! it are walked and assembled. Nothing here writes the cache.

use super::assemble::{self, Baseline};
use super::git::{git_error, list_tree, Mode, SNAPSHOT_CACHE};
use super::odb::{Packs, Reader};
use super::walk::{self, RawWalk};
use super::{
    DocumentHistory, DocumentRevision, FileHistory, Head, History, RecordEvent, Repo, State,
    WalkStats,
};
use crate::config::Config;
use crate::diag::Diagnostic;
use crate::snapshot::{Entry, EntryKind, Snapshot};
use anyhow::{anyhow, bail, Result};
use git2::{ErrorCode, ObjectType, Oid, Repository};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// The commit a change is compared with: merge-base(REV, HEAD).
#[derive(Debug, Clone)]
pub struct MergeBase {
    /// The merge-base commit id.
    pub commit: String,
    /// HEAD's commit id.
    pub head: String,
    /// The commit REV names (the tip of the target branch).
    pub target: String,
}

/// The fetch command that brings `rev` into the clone, for messages.
pub(super) fn fetch_hint(rev: &str) -> String {
    match rev.split_once('/') {
        Some((remote, branch)) if !remote.is_empty() && !branch.is_empty() => {
            format!("git fetch {remote} {branch}")
        }
        _ => format!("git fetch origin {rev}"),
    }
}

impl Repo {
    /// The full id of the commit `rev` names (a branch, tag, `HEAD~2`, an abbreviated id);
    /// `None` when it names none.
    pub fn resolve(&self, rev: &str) -> Option<String> {
        self.git2()
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .ok()
            .map(|c| c.id().to_string())
    }

    /// merge-base(`rev`, HEAD). Failures carry the command that fixes them: an unknown `rev`
    /// (not fetched), no commit at HEAD, or a merge-base that a shallow clone lacks.
    pub fn merge_base(&self, rev: &str) -> Result<MergeBase> {
        let repo = self.git2();
        let head = match repo.head().and_then(|h| h.peel_to_commit()) {
            Ok(c) => c,
            Err(e) => bail!(
                "--base needs a commit at HEAD to compare, and the repository `{}` has none: {}\nhelp: commit the change first",
                self.git_dir().display(),
                e.message()
            ),
        };
        let target = repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map_err(|e| {
                anyhow!(
                    "--base `{rev}` is not a commit of the repository `{}`: {}\nhelp: fetch it (`{}`; in GitHub Actions, `actions/checkout` with `fetch-depth: 0`), or name a branch, tag or commit id",
                    self.git_dir().display(),
                    e.message(),
                    fetch_hint(rev)
                )
            })?;
        match repo.merge_base(head.id(), target.id()) {
            Ok(oid) => Ok(MergeBase {
                commit: oid.to_string(),
                head: head.id().to_string(),
                target: target.id().to_string(),
            }),
            Err(e) if repo.is_shallow() => bail!(
                "the merge-base of `{rev}` and HEAD is not in this shallow clone ({}), so the change cannot be compared with its base.\nhelp: fetch the history: `git fetch --unshallow` (or `git fetch --deepen=N`); in GitHub Actions, `actions/checkout` with `fetch-depth: 0`; in GitLab CI, `GIT_DEPTH: 0`",
                e.message()
            ),
            Err(e) if e.code() == ErrorCode::NotFound => bail!(
                "`{rev}` and HEAD have no commit in common, so there is no base to compare with.\nhelp: pass the branch this change will be merged into, e.g. `--base origin/main`"
            ),
            Err(e) => Err(git_error(self.git_dir(), "cannot compute the merge-base", &e)),
        }
    }

    /// The history as it stood at `commit` (see the module doc), read with the base's settings
    /// `config`. `head_read` is the history just read for HEAD, with its settings: its walk is reused
    /// when the settings agree (else the cache is read). In a shallow clone the history is empty
    /// with state [`State::Shallow`], as for HEAD.
    pub fn history_at(
        &self,
        config: &Config,
        commit: &str,
        head_read: Option<(&History, &Config)>,
        findings: &mut Vec<Diagnostic>,
    ) -> Result<History> {
        let repo = self.git2();
        let err = |what: &str, e: git2::Error| git_error(self.git_dir(), what, &e);
        let oid = Oid::from_str(commit).map_err(|e| err("bad commit id", e))?;
        let c = repo
            .find_commit(oid)
            .map_err(|e| err("cannot read a commit", e))?;
        let (time, offset_minutes, date) = walk::commit_time(&c);
        let head = Head {
            commit: commit.to_string(),
            time,
            offset_minutes,
            date,
            subject: String::from_utf8_lossy(c.summary_bytes().unwrap_or_default()).into_owned(),
            branch: None,
        };
        let mut history = if repo.is_shallow() {
            History {
                prefix: String::new(),
                state: State::Shallow,
                head: None,
                commits: Vec::new(),
                documents: Default::default(),
                records: Default::default(),
                files: Default::default(),
                dirty: Vec::new(),
                sparse: Vec::new(),
                tags: Default::default(),
                stats: WalkStats::default(),
                raw: None,
            }
        } else if let Some(h) = match head_read {
            Some((h, c)) => self.cut_at(h, c, config, oid, findings)?,
            None => None,
        } {
            h
        } else {
            let settings = self.settings(config);
            let shared = head_read.and_then(|(h, c)| {
                let raw = h.raw.as_ref()?;
                (self.settings(c).key == settings.key).then(|| (**raw).clone())
            });
            let cached = shared
                .or_else(|| self.cached_walk(config, &settings, findings))
                .map(|raw| self.truncate(raw, oid))
                .transpose()?
                .flatten();
            let walked = walk::walk(repo, self.git_dir(), &settings, config, oid, cached)?;
            let baseline = Baseline::resolve(
                repo,
                config.history.baseline.as_deref(),
                &walked.raw,
                findings,
            );
            let mut h = assemble::assemble(config, &walked.raw, &baseline);
            h.stats = walked.stats;
            h
        };
        history.prefix = self.prefix().to_string();
        history.head = Some(head);
        history.tags = self.signed_tags(config, &history.commits);
        Ok(history)
    }

    /// The history at `base` cut from HEAD's assembled history, when `base` is on HEAD's
    /// first-parent chain and the settings that shape the history agree: everything the history
    /// holds up to a commit depends only on the commits up to it, so no assembly is needed.
    /// `None` otherwise.
    fn cut_at(
        &self,
        head: &History,
        head_config: &Config,
        config: &Config,
        base: Oid,
        findings: &mut Vec<Diagnostic>,
    ) -> Result<Option<History>> {
        let same_settings = self.settings(config).key == self.settings(head_config).key
            && config.history.baseline == head_config.history.baseline;
        // The raw walk is needed only to resolve a baseline given as a commit; a history that
        // came from the assembled cache has none, and a plain baseline does without it.
        let empty = RawWalk::default();
        let raw = match head.raw.as_deref() {
            Some(raw) => Some(raw),
            None if assemble::plain_baseline(config) => Some(&empty),
            None => None,
        };
        let (Some(raw), Some(tip), State::Complete, true) =
            (raw, head.head.as_ref(), head.state, same_settings)
        else {
            return Ok(None);
        };
        let repo = self.git2();
        let err = |what: &str, e: git2::Error| git_error(self.git_dir(), what, &e);
        // The commits after the base: HEAD's first-parent chain down to it.
        let mut after = std::collections::HashSet::new();
        let mut next = Oid::from_str(&tip.commit).ok();
        while let Some(oid) = next {
            if oid == base {
                break;
            }
            if after.len() > head.commits.len() + 100_000 {
                return Ok(None);
            }
            after.insert(oid.to_string());
            let commit = repo
                .find_commit(oid)
                .map_err(|e| err("cannot read a commit", e))?;
            next = commit.parent_id(0).ok();
        }
        if next.is_none() {
            return Ok(None); // not on the chain
        }
        let keep = head.commits.len()
            - head
                .commits
                .iter()
                .rev()
                .take_while(|c| after.contains(&c.id))
                .count();
        // Settings findings (an unusable baseline) are the base's too.
        let _ = Baseline::resolve(repo, config.history.baseline.as_deref(), raw, findings);
        Ok(Some(head.cut(keep)))
    }

    /// A cached walk cut back to the newest commit of its first-parent chain that `base` is or
    /// descends from; `None` when there is none (the walk then starts over).
    fn truncate(&self, mut raw: RawWalk, base: Oid) -> Result<Option<RawWalk>> {
        let repo = self.git2();
        let err = |what: &str, e: git2::Error| git_error(self.git_dir(), what, &e);
        let Ok(tip) = Oid::from_str(&raw.tip) else {
            return Ok(None);
        };
        // The chain from the cached tip, newest first (bounded by its known length).
        let mut chain = Vec::new();
        let mut next = Some(tip);
        while let Some(oid) = next {
            if chain.len() as u64 > raw.tip_seq {
                break;
            }
            chain.push(oid);
            if oid == base {
                break;
            }
            let commit = repo
                .find_commit(oid)
                .map_err(|e| err("cannot read a commit", e))?;
            next = commit.parent_id(0).ok();
        }
        let found = match chain.iter().position(|&o| o == base) {
            Some(i) => Some(i),
            None => {
                let mut at = None;
                for (i, &o) in chain.iter().enumerate() {
                    if repo
                        .graph_descendant_of(base, o)
                        .map_err(|e| err("cannot compare commits", e))?
                    {
                        at = Some(i);
                        break;
                    }
                }
                at
            }
        };
        let Some(steps) = found else {
            return Ok(None);
        };
        let Some(seq) = raw.tip_seq.checked_sub(steps as u64) else {
            return Ok(None);
        };
        raw.commits.retain(|c| c.seq <= seq);
        raw.tip = chain[steps].to_string();
        raw.tip_seq = seq;
        Ok(Some(raw))
    }

    /// The SMS as it is in commit `rev`, like [`Repo::snapshot`], but a file whose content is
    /// the same as in `reuse` (the work tree) shares those bytes instead of being read from git
    /// again; `gate` then reuses its parse as well. A file is the same when HEAD has the same blob
    /// and the work-tree copy is not among `dirty` (HEAD's sorted dirty list), or else when git's
    /// own blob hash of the work-tree bytes matches.
    pub fn snapshot_reusing(
        &self,
        config: &Config,
        rev: &str,
        reuse: &Snapshot,
        dirty: &[String],
    ) -> Result<Snapshot> {
        let repo = self.git2();
        let err = |what: &str, e: git2::Error| git_error(self.git_dir(), what, &e);
        let commit = repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map_err(|e| err(&format!("cannot read the commit `{rev}`"), e))?;
        let tree = commit.tree().map_err(|e| err("cannot read a tree", e))?;
        let Some(sms_tree) =
            walk::subtree(repo, &tree, self.prefix()).map_err(|e| err("cannot read a tree", e))?
        else {
            return Ok(Snapshot::default());
        };
        let mut listed: Vec<(String, Oid, Mode)> = Vec::new();
        list_tree(repo, sms_tree, "", config, &mut listed)
            .map_err(|e| err("cannot read a tree", e))?;
        // HEAD's blobs: listing a tree is far cheaper than hashing the work tree's bytes.
        let mut at_head: Vec<(String, Oid, Mode)> = Vec::new();
        if let Ok(head_tree) = repo.head().and_then(|h| h.peel_to_tree()) {
            if let Some(t) = walk::subtree(repo, &head_tree, self.prefix())
                .map_err(|e| err("cannot read a tree", e))?
            {
                list_tree(repo, t, "", config, &mut at_head)
                    .map_err(|e| err("cannot read a tree", e))?;
            }
        }
        let at_head: std::collections::HashMap<&str, Oid> =
            at_head.iter().map(|(p, o, _)| (p.as_str(), *o)).collect();
        let threads = rayon::current_num_threads().max(1);
        let chunk = listed.len().div_ceil(threads * 4).max(64);
        let git_dir = self.git_dir();
        let packs = Packs::open(repo.commondir());
        let entries: Vec<Entry> = listed
            .par_chunks(chunk)
            .map(|part| -> Result<Vec<Entry>> {
                let own = Repository::open(git_dir)
                    .map_err(|e| git_error(git_dir, "cannot open the repository", &e))?;
                let mut reader = Reader::new(&packs, &own, SNAPSHOT_CACHE);
                let mut out = Vec::with_capacity(part.len());
                for (path, oid, mode) in part {
                    let unchanged = || {
                        at_head.get(path.as_str()) == Some(oid)
                            && dirty.binary_search(path).is_err()
                    };
                    let shared = match reuse.get(path).map(|e| &e.kind) {
                        Some(EntryKind::File { bytes: Some(b), .. })
                            if matches!(mode, Mode::File)
                                && (unchanged()
                                    || Oid::hash_object(ObjectType::Blob, b)
                                        .is_ok_and(|h| h == *oid)) =>
                        {
                            Some(b.clone())
                        }
                        _ => None,
                    };
                    if let Some(bytes) = shared {
                        out.push(Entry {
                            path: path.clone(),
                            kind: EntryKind::File {
                                size: bytes.len() as u64,
                                bytes: Some(bytes),
                            },
                        });
                        continue;
                    }
                    let kind =
                        super::git::entry_kind(&mut reader, git_dir, config, path, *oid, *mode)?;
                    out.push(Entry {
                        path: path.clone(),
                        kind,
                    });
                }
                Ok(out)
            })
            .collect::<Result<Vec<Vec<Entry>>>>()?
            .into_iter()
            .flatten()
            .collect();
        let mut entries = entries;
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Snapshot { entries })
    }
}

impl History {
    /// This history as it stood after its first `keep` commits: revisions and changes of later
    /// commits dropped, and what those changes did to a record (its id, file, deletion) undone.
    fn cut(&self, keep: usize) -> History {
        let documents = self
            .documents
            .iter()
            .filter_map(|(k, d)| {
                let revisions: Vec<DocumentRevision> = d
                    .revisions
                    .iter()
                    .filter(|r| r.commit < keep)
                    .cloned()
                    .collect();
                (!revisions.is_empty()).then(|| {
                    (
                        k.clone(),
                        DocumentHistory {
                            id: d.id.clone(),
                            revisions,
                            before: d.before.iter().copied().filter(|&c| c < keep).collect(),
                        },
                    )
                })
            })
            .collect();
        let mut records = BTreeMap::new();
        for h in self.records.values().filter(|h| h.first < keep) {
            let mut r = h.clone();
            let split = r.changes.partition_point(|c| c.commit < keep);
            let all = r.changes.clone();
            r.changes.truncate(split);
            for i in (split..all.len()).rev() {
                match &all[i].event {
                    RecordEvent::IdChanged { from, .. } => r.id = from.clone(),
                    RecordEvent::Moved { from, .. } => r.path = from.clone(),
                    RecordEvent::Deleted => r.deleted = None,
                    RecordEvent::Restored => {
                        r.deleted = all[..i]
                            .iter()
                            .rev()
                            .find(|c| c.event == RecordEvent::Deleted)
                            .map(|c| c.commit);
                    }
                    RecordEvent::Edited
                    | RecordEvent::DateChanged { .. }
                    | RecordEvent::KindChanged { .. } => {}
                }
            }
            records.insert(crate::ids::key(&r.id), r);
        }
        let files = self
            .files
            .iter()
            .filter_map(|(p, f)| {
                let commits: Vec<usize> = f.commits.iter().copied().filter(|&c| c < keep).collect();
                (!commits.is_empty()).then(|| {
                    (
                        p.clone(),
                        FileHistory {
                            commits,
                            renamed_from: f.renamed_from.clone(),
                        },
                    )
                })
            })
            .collect();
        History {
            prefix: self.prefix.clone(),
            state: self.state,
            head: None,
            commits: self.commits[..keep.min(self.commits.len())].to_vec(),
            documents,
            records,
            files,
            dirty: Vec::new(),
            sparse: Vec::new(),
            tags: self.tags.clone(),
            stats: WalkStats::default(),
            raw: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn commit(repo: &git2::Repository, n: i64) -> Oid {
        let mut index = repo.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.update_all(["*"], None).unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::new(
            "A",
            "a@example.com",
            &git2::Time::new(1_767_225_600 + n * 86_400, 0),
        )
        .unwrap();
        let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        repo.commit(Some("HEAD"), &sig, &sig, "c", &tree, &parents)
            .unwrap()
    }

    fn rec(id: &str, status: &str) -> String {
        format!("id: {id}\nkind: incident\ndate: 2026-01-01\ntitle: T\nstatus: {status}\n")
    }

    fn doc(version: &str, body: &str) -> String {
        format!("---\nid: POL-1\ntitle: P\ntype: policy\nowner: O\napprover: A\nversion: \"{version}\"\nstatus: approved\napproved: 2026-01-01\nclauses: [\"8.1\"]\n---\n\n{body}\n")
    }

    /// Cutting HEAD's history at a base gives what assembling the walk up to the base gives, with
    /// records edited, moved, renamed, deleted and restored after the base.
    #[test]
    fn cut_history_equals_the_assembled_history_at_the_base() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let git = git2::Repository::init(root).unwrap();
        write(
            root,
            "sms.yaml",
            "organisation: O\nscope: S\nframework: iso20000-1:2018\n",
        );
        write(root, "policies/p.md", &doc("1.0", "One."));
        write(root, "records/incident/a.yaml", &rec("INC-1", "open"));
        write(
            root,
            "records/incident/list.yaml",
            &format!(
                "records:\n  - {}\n  - {}\n",
                rec("INC-2", "open").replace('\n', "\n    "),
                rec("INC-3", "open").replace('\n', "\n    ")
            ),
        );
        let mut bases = vec![commit(&git, 0)];
        write(root, "records/incident/a.yaml", &rec("INC-1", "closed"));
        write(
            root,
            "records/incident/list.yaml",
            &format!(
                "records:\n  - {}\n",
                rec("INC-3", "open").replace('\n', "\n    ")
            ),
        );
        write(root, "records/incident/b.yaml", &rec("INC-2", "open"));
        write(root, "policies/p.md", &doc("1.0", "One, edited."));
        bases.push(commit(&git, 1));
        std::fs::remove_file(root.join("records/incident/list.yaml")).unwrap();
        write(root, "notes/x.md", "no frontmatter\n");
        bases.push(commit(&git, 2));
        write(root, "records/incident/list.yaml", &rec("INC-3", "open"));
        write(root, "records/incident/a.yaml", &rec("INC-10", "closed"));
        std::fs::remove_file(root.join("policies/p.md")).unwrap();
        bases.push(commit(&git, 3));
        std::fs::remove_file(root.join("records/incident/a.yaml")).unwrap();
        write(root, "records/incident/c.yaml", &rec("INC-10", "closed"));
        write(root, "policies/q.md", &doc("2.0", "Two."));
        std::fs::rename(root.join("notes/x.md"), root.join("notes/y.md")).unwrap();
        bases.push(commit(&git, 4));

        let (config, _) = crate::config::parse(
            root,
            &std::fs::read_to_string(root.join("sms.yaml")).unwrap(),
        )
        .unwrap();
        let repo = Repo::open(root).unwrap().unwrap();
        let head = repo.read(&config, &mut Vec::new()).unwrap();
        assert_eq!(head.state, State::Complete);
        for base in bases {
            let id = base.to_string();
            let cut = repo
                .cut_at(&head, &config, &config, base, &mut Vec::new())
                .unwrap()
                .expect("the base is on HEAD's chain");
            let assembled = repo
                .history_at(&config, &id, None, &mut Vec::new())
                .unwrap();
            assert_eq!(
                format!("{:?}", cut.commits),
                format!("{:?}", assembled.commits),
                "{id}"
            );
            assert_eq!(
                format!("{:?}", cut.documents),
                format!("{:?}", assembled.documents),
                "{id}"
            );
            assert_eq!(
                format!("{:?}", cut.records),
                format!("{:?}", assembled.records),
                "{id}"
            );
        }
    }
}
