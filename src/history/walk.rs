//! The walk: the first-parent chain of HEAD, one tree-to-tree diff per commit whose SMS sub-tree
//! changed (on all cores, contiguous runs of commits per worker so each tree is read once), then
//! the changed blobs parsed with the `source` parsers, memoised by blob id.
//!
//! The result ([`RawWalk`]) is plain data: it is what the cache stores, and what `assemble` turns
//! into per-document and per-record histories.

use super::git::{git_error, mode, Mode};
use super::graph::Graph;
use super::odb::{tree_entries, Kind, Packs, Reader, TreeEntries, TreeEntry};
use super::rope::{self, entry_order, Ent, Pair, Rope};
use super::ApprovalTrailers;
use crate::config::{Config, VersionScheme};
use crate::snapshot::{self, Role};
use anyhow::Result;
use git2::{Oid, Repository, Tree};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;

/// One first-parent commit that changed SMS documents or records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct RawCommit {
    pub id: String,
    /// Position on the first-parent chain, counted from the root commit (0).
    pub seq: u64,
    pub time: i64,
    pub offset: i32,
    pub author_name: String,
    pub author_email: String,
    pub subject: String,
    pub trailers: Vec<(String, String)>,
    /// Lower-case e-mails of the authors of the changes this commit lands (see `land_merges`).
    pub contributors: Vec<String>,
    /// Who wrote the approval trailers that vouch for this landing.
    pub approval_trailers: ApprovalTrailers,
    pub merge: bool,
    /// The commit's signature, verified against the keyring of the settings; `None` unsigned.
    pub signature: Option<super::Signature>,
    pub changes: Vec<RawChange>,
    /// Git-detected renames among this commit's deletions and additions: (from, to).
    pub renames: Vec<(String, String)>,
}

/// A document or record file that changed: SMS-relative path, blob ids before and after.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct RawChange {
    pub path: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// What a blob holds, as far as history needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) enum Summary {
    Document(DocSummary),
    /// A document file without a usable id (or unreadable): followed by path.
    NoId,
    Records(super::rows::RecRows),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct DocSummary {
    pub id: String,
    pub version: Option<String>,
    pub status: Option<String>,
    pub approved: Option<String>,
    pub approver: Option<String>,
    pub clauses: Vec<String>,
    pub provides: Vec<String>,
    pub controlled: String,
    pub text: String,
}

/// Everything the walk learnt: the cache's content.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct RawWalk {
    /// The commit the walk reached (HEAD at the time) and its chain position.
    pub tip: String,
    pub tip_seq: u64,
    /// Oldest first.
    pub commits: Vec<RawCommit>,
    /// Blob summaries by `d:<oid>` (document role) or `r:<oid>` (record role).
    pub blobs: HashMap<String, Summary>,
}

pub(super) struct Walked {
    pub raw: RawWalk,
    /// Whether anything was walked or parsed (the cache needs writing).
    pub changed: bool,
    pub stats: super::WalkStats,
}

/// What the walk's result depends on besides the commits: part of the cache key.
pub(super) struct Settings {
    pub key: String,
    prefix: String,
}

impl Settings {
    pub fn new(config: &Config, prefix: &str, grafts: &[u8]) -> Settings {
        let scheme = match config.version_scheme {
            VersionScheme::Dotted => "dotted",
            VersionScheme::Integer => "integer",
            VersionScheme::Free => "free",
        };
        let raw = format!(
            "auditbook {}|prefix {prefix}|records {}|frameworks {}|mappings {}|templates {}|output {}|scheme {scheme}|size {} {}|yaml {} {}|tables {}|keys {}",
            env!("CARGO_PKG_VERSION"),
            config.paths.records,
            config.paths.frameworks,
            config.paths.mappings,
            config.paths.templates,
            config.paths.output,
            config.limits.max_file_size,
            config.limits.max_table_size,
            config.limits.yaml.max_depth,
            config.limits.yaml.max_nodes,
            config.tables_key(),
            config.keyring.digest(),
        );
        let raw = if grafts.is_empty() {
            raw
        } else {
            format!("{raw}|grafts {}", super::short_hash(grafts))
        };
        Settings {
            key: super::short_hash(raw.as_bytes()),
            prefix: prefix.to_string(),
        }
    }
}

/// Committer time, its offset in minutes, and the committer date in that offset.
pub(super) fn commit_time(commit: &git2::Commit<'_>) -> (i64, i32, jiff::civil::Date) {
    let t = commit.time();
    let (secs, offset) = (t.seconds(), t.offset_minutes());
    (secs, offset, civil_date(secs, offset))
}

pub(super) fn civil_date(secs: i64, offset_minutes: i32) -> jiff::civil::Date {
    let ts = jiff::Timestamp::from_second(secs).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let offset = jiff::tz::Offset::from_seconds(offset_minutes.saturating_mul(60))
        .unwrap_or(jiff::tz::Offset::UTC);
    offset.to_datetime(ts).date()
}

/// The id of the tree at `prefix` (`""` or `"a/b/"`) below `tree`; `None` when absent.
pub(super) fn subtree(
    repo: &Repository,
    tree: &Tree<'_>,
    prefix: &str,
) -> Result<Option<Oid>, git2::Error> {
    if prefix.is_empty() {
        return Ok(Some(tree.id()));
    }
    let mut current = tree.clone();
    for part in prefix.trim_end_matches('/').split('/') {
        let next = match current.get_name(part) {
            Some(e) if matches!(mode(e.filemode()), Mode::Tree) => e.id(),
            _ => return Ok(None),
        };
        current = repo.find_tree(next)?;
    }
    Ok(Some(current.id()))
}

/// The SMS tree and the first parent of a commit, read by libgit2 (which applies grafts).
fn chain_link_git2(
    repo: &Repository,
    prefix: &str,
    oid: Oid,
) -> Result<(Option<Oid>, Option<Oid>), git2::Error> {
    let commit = repo.find_commit(oid)?;
    let sms = if prefix.is_empty() {
        Some(commit.tree_id())
    } else {
        subtree(repo, &commit.tree()?, prefix)?
    };
    let parent = if commit.parent_count() > 0 {
        Some(commit.parent_id(0)?)
    } else {
        None
    };
    Ok((sms, parent))
}

/// The root tree and the first parent of a commit, from the raw commit object: its header starts
/// with `tree <id>` and then one `parent <id>` line per parent.
fn commit_header(reader: &mut Reader<'_>, oid: Oid) -> Result<(Oid, Option<Oid>), git2::Error> {
    let bad = || git2::Error::from_str(&format!("commit {oid} is malformed"));
    let o = reader.read(oid)?;
    if o.kind != Kind::Commit {
        return Err(git2::Error::from_str(&format!("{oid} is not a commit")));
    }
    let mut lines = o.data.split(|&b| b == b'\n');
    let hex = |line: Option<&[u8]>, key: &[u8]| -> Option<Oid> {
        let id = line?.strip_prefix(key)?;
        Oid::from_str(std::str::from_utf8(id).ok()?).ok()
    };
    let tree = hex(lines.next(), b"tree ").ok_or_else(bad)?;
    let parent = hex(lines.next(), b"parent ");
    Ok((tree, parent))
}

/// The SMS tree below a root tree: the tree at `prefix`, `None` when absent.
fn sms_tree(reader: &mut Reader<'_>, prefix: &str, tree: Oid) -> Result<Option<Oid>, git2::Error> {
    let mut sms = Some(tree);
    for part in prefix
        .trim_end_matches('/')
        .split('/')
        .filter(|p| !p.is_empty())
    {
        let Some(t) = sms else { break };
        let o = reader.read(t)?;
        if o.kind != Kind::Tree {
            return Err(git2::Error::from_str(&format!("{t} is not a tree")));
        }
        sms = None;
        for e in tree_entries(&o.data) {
            let e = e?;
            if e.name == part.as_bytes() && matches!(mode(e.mode as i32), Mode::Tree) {
                sms = Some(Oid::from_bytes(e.id)?);
                break;
            }
        }
    }
    Ok(sms)
}

/// The SMS tree and the first parent of a commit: from the commit-graph when it holds the
/// commit, else from the raw commit object. The first commit the graph answers is checked
/// against its object; when they disagree the graph is dropped for the rest of the walk.
fn chain_link(
    reader: &mut Reader<'_>,
    graph: &mut Option<(Graph, bool)>,
    prefix: &str,
    oid: Oid,
) -> Result<(Option<Oid>, Option<Oid>), git2::Error> {
    let from_graph = graph.as_ref().and_then(|(g, _)| g.commit(oid));
    let (tree, parent) = match (from_graph, graph.as_mut()) {
        (Some(c), Some((_, checked))) if *checked => (c.tree, c.parent),
        (Some(c), Some((_, checked))) => {
            let raw = commit_header(reader, oid)?;
            if raw == (c.tree, c.parent) {
                *checked = true;
            } else {
                *graph = None;
            }
            raw
        }
        _ => commit_header(reader, oid)?,
    };
    Ok((sms_tree(reader, prefix, tree)?, parent))
}

/// One commit of the chain, newest first while walking.
struct Link {
    oid: Oid,
    tree: Option<Oid>,
}

/// A commit whose SMS sub-tree differs from its first parent's.
struct Task {
    oid: Oid,
    seq: u64,
    old: Option<Oid>,
    new: Option<Oid>,
}

pub(super) fn walk(
    repo: &Repository,
    git_dir: &Path,
    settings: &Settings,
    config: &Config,
    head: Oid,
    cached: Option<RawWalk>,
) -> Result<Walked> {
    let err = |what: &str, e: git2::Error| git_error(git_dir, what, &e);
    let stop = cached.as_ref().and_then(|c| Oid::from_str(&c.tip).ok());
    // 1. The first-parent chain from HEAD back to the cached tip or the root commit, from the
    // commit-graph where git wrote one, else read raw by the pack reader (libgit2 parses every
    // commit whole, which on a long history is the one part of the walk that runs on a single
    // core) — unless the repository has grafts, which only libgit2 applies.
    let packs = Packs::open(repo.commondir());
    let grafted = std::fs::symlink_metadata(repo.commondir().join("info/grafts")).is_ok();
    let mut reader = Reader::new(&packs, repo, DELTA_CACHE);
    // The commit-graph, when git wrote one, gives each commit's tree and parents without
    // inflating the commit (see `graph.rs`).
    let mut graph = (!grafted)
        .then(|| Graph::open(&repo.commondir().join("objects")))
        .flatten()
        .map(|g| (g, false));
    let mut chain: Vec<Link> = Vec::new();
    let mut base: Option<Option<Oid>> = None; // the SMS tree at the cached tip, when reached
    let mut next = Some(head);
    while let Some(oid) = next {
        let (sms, parent) = if grafted {
            chain_link_git2(repo, &settings.prefix, oid)
        } else {
            chain_link(&mut reader, &mut graph, &settings.prefix, oid)
        }
        .map_err(|e| err("cannot read a commit", e))?;
        if Some(oid) == stop {
            base = Some(sms);
            break;
        }
        chain.push(Link { oid, tree: sms });
        next = parent;
    }
    drop(reader);
    chain.reverse();
    let (mut raw, first_seq, mut parent_tree) = match (cached, base) {
        (Some(c), Some(tree)) => {
            let seq = c.tip_seq + 1;
            (c, seq, tree)
        }
        // No cache, or the cached tip is no longer on the chain (history rewritten): walk it
        // all, but keep the parsed blobs, which depend only on their content.
        (Some(c), None) => (
            RawWalk {
                blobs: c.blobs,
                ..RawWalk::default()
            },
            0,
            None,
        ),
        (None, _) => (RawWalk::default(), 0, None),
    };
    let cached_commits = raw.commits.len();
    if chain.is_empty() {
        return Ok(Walked {
            raw,
            changed: false,
            stats: super::WalkStats {
                cached_commits,
                walked_commits: 0,
                parsed_blobs: 0,
            },
        });
    }
    let mut tasks = Vec::new();
    for (i, link) in chain.iter().enumerate() {
        if link.tree != parent_tree {
            tasks.push(Task {
                oid: link.oid,
                seq: first_seq + i as u64,
                old: parent_tree,
                new: link.tree,
            });
        }
        parent_tree = link.tree;
    }
    let walked_commits = chain.len();
    raw.tip = head.to_string();
    raw.tip_seq = first_seq + chain.len() as u64 - 1;

    // 2. Diffs, on all cores: contiguous runs of commits per worker.
    let threads = rayon::current_num_threads().max(1);
    let chunk = tasks.len().div_ceil(threads * 8).max(16);
    let bar = crate::progress::bar("history", tasks.len() as u64);
    let mut new_commits: Vec<RawCommit> = tasks
        .par_chunks(chunk)
        .map(|part| {
            let run = diff_run(git_dir, &packs, config, part);
            bar.inc(part.len() as u64);
            run
        })
        .collect::<Result<Vec<Vec<RawCommit>>>>()?
        .into_iter()
        .flatten()
        .collect();
    land_merges(repo, &settings.prefix, &chain, first_seq, &mut new_commits)
        .map_err(|e| err("cannot read the commits a merge lands", e))?;

    // 3. Parse every blob not seen before, on all cores.
    let mut wanted: Vec<(String, Oid, String)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for c in &new_commits {
        for ch in &c.changes {
            let Some(new) = &ch.new else { continue };
            let key = blob_key(config, &ch.path, new);
            if !raw.blobs.contains_key(&key) && seen.insert(key.clone()) {
                let oid = Oid::from_str(new).map_err(|e| err("bad object id", e))?;
                wanted.push((key, oid, ch.path.clone()));
            }
        }
    }
    // By path, each path's versions oldest first: a version is stored as a delta on the one
    // before it (or after it, after `git gc`), so reading one file's versions together resolves
    // each with one delta from the reader's cache, whatever the number of files in between.
    wanted.sort_by(|a, b| a.2.cmp(&b.2));
    let parsed_blobs = wanted.len();
    let chunk = wanted.len().div_ceil(threads * 4).max(64);
    drop(bar);
    let bar = crate::progress::bar("revisions", wanted.len() as u64);
    let parsed: Vec<(String, Summary)> = wanted
        .par_chunks(chunk)
        .map(|part| -> Result<Vec<(String, Summary)>> {
            let repo = Repository::open(git_dir).map_err(|e| err("cannot open", e))?;
            let mut reader = Reader::new(&packs, &repo, DELTA_CACHE);
            let summaries = part
                .iter()
                .map(|(key, oid, path)| {
                    Ok((
                        key.clone(),
                        summarise(&mut reader, git_dir, config, *oid, path)?,
                    ))
                })
                .collect();
            bar.inc(part.len() as u64);
            summaries
        })
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    raw.blobs.extend(parsed);
    raw.commits.extend(new_commits);
    Ok(Walked {
        raw,
        changed: true,
        stats: super::WalkStats {
            cached_commits,
            walked_commits,
            parsed_blobs,
        },
    })
}

/// The memo key of a blob: its role (from the path) and id.
pub(super) fn blob_key(config: &Config, path: &str, oid: &str) -> String {
    format!("{}{oid}", blob_prefix(config, path))
}

/// The role part of a blob's memo key.
pub(super) fn blob_prefix(config: &Config, path: &str) -> &'static str {
    match snapshot::role(config, path) {
        Role::Record => "r:",
        _ => "d:",
    }
}

/// Trees of the previous and the current commit: in a run of consecutive commits, each tree is
/// read once although it is the "new" side of one diff and the "old" side of the next.
struct TreeCache {
    prev: HashMap<Oid, Rc<Rope>>,
    cur: HashMap<Oid, Rc<Rope>>,
}

impl TreeCache {
    fn get(&mut self, reader: &mut Reader<'_>, oid: Oid) -> Result<Rc<Rope>, git2::Error> {
        if let Some(t) = self.cur.get(&oid) {
            return Ok(t.clone());
        }
        let t = match self.prev.remove(&oid) {
            Some(t) => t,
            None => reader.read_tree(oid)?,
        };
        self.cur.insert(oid, t.clone());
        Ok(t)
    }

    fn next_commit(&mut self) {
        self.prev = std::mem::take(&mut self.cur);
    }
}

/// Bytes of resolved objects each worker keeps as delta bases.
const DELTA_CACHE: usize = 64 << 20;

fn diff_run(
    git_dir: &Path,
    packs: &Packs,
    config: &Config,
    part: &[Task],
) -> Result<Vec<RawCommit>> {
    let err = |what: &str, e: git2::Error| git_error(git_dir, what, &e);
    let repo = Repository::open(git_dir).map_err(|e| err("cannot open the repository", e))?;
    let mut reader = Reader::new(packs, &repo, DELTA_CACHE);
    let mut cache = TreeCache {
        prev: HashMap::new(),
        cur: HashMap::new(),
    };
    let mut out = Vec::new();
    // Newest first, as `git log` reads: `git gc` stores older versions of a tree as deltas
    // against newer ones. (Either order costs about one delta per tree with the reader's cache.)
    for task in part.iter().rev() {
        let mut changes = Vec::new();
        diff_trees(
            &mut reader,
            &mut cache,
            config,
            task.old,
            task.new,
            "",
            &mut changes,
        )
        .map_err(|e| err("cannot compare two trees", e))?;
        cache.next_commit();
        if changes.is_empty() {
            continue;
        }
        let commit = repo
            .find_commit(task.oid)
            .map_err(|e| err("cannot read a commit", e))?;
        let renames =
            if changes.iter().any(|c| c.old.is_none()) && changes.iter().any(|c| c.new.is_none()) {
                git_renames(&repo, task, &changes).map_err(|e| err("cannot detect renames", e))?
            } else {
                Vec::new()
            };
        let signature = super::signature::of_commit(&repo, &commit, &config.keyring);
        out.push(raw_commit(&commit, task.seq, changes, renames, signature));
    }
    out.reverse();
    Ok(out)
}

fn raw_commit(
    commit: &git2::Commit<'_>,
    seq: u64,
    changes: Vec<RawChange>,
    renames: Vec<(String, String)>,
    signature: Option<super::Signature>,
) -> RawCommit {
    let (time, offset, _) = commit_time(commit);
    let author = commit.author();
    let message = String::from_utf8_lossy(commit.message_bytes()).into_owned();
    let trailers = trailers(&message);
    let merge = commit.parent_count() > 1;
    let author_email = String::from_utf8_lossy(author.email_bytes()).to_ascii_lowercase();
    let committer_email =
        String::from_utf8_lossy(commit.committer().email_bytes()).to_ascii_lowercase();
    // A merge's contributors are the authors of the commits it lands, found by graph after the
    // diffs (`land_merges`); here only the co-authors its own message names.
    let mut contributors = co_authors(&trailers);
    if !merge {
        contributors.push(author_email);
    }
    let mut c = RawCommit {
        id: commit.id().to_string(),
        seq,
        time,
        offset,
        author_name: String::from_utf8_lossy(author.name_bytes()).into_owned(),
        author_email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
        subject: message.lines().next().unwrap_or("").trim().to_string(),
        trailers,
        contributors,
        approval_trailers: ApprovalTrailers::None,
        merge,
        signature,
        changes,
        renames,
    };
    tidy(&mut c.contributors);
    c.approval_trailers = approval_trailers(&c.trailers, &committer_email, &[], &c.contributors);
    c
}

pub(super) fn tidy(emails: &mut Vec<String>) {
    emails.retain(|e| !e.is_empty());
    emails.sort();
    emails.dedup();
}

/// Who vouches for a landing (README "Approval evidence"). A trailer is a claim made by whoever
/// wrote the commit message, and git records that person as the commit's committer. The landing's
/// own `Approved-by:`/`Reviewed-by:` trailers corroborate only when its committer is none of the
/// authors of the changes it lands (a merge or squash made by the hosting platform or by the
/// approver); `approvers` are the committers of separate approving commits on the landed branch,
/// which corroborate likewise.
pub(super) fn approval_trailers(
    trailers: &[(String, String)],
    committer: &str,
    approvers: &[String],
    authors: &[String],
) -> ApprovalTrailers {
    let own = trailers
        .iter()
        .any(|(k, _)| k == "Approved-by" || k == "Reviewed-by");
    let independent = |who: &str| !who.is_empty() && !authors.iter().any(|a| a == who);
    if (own && independent(committer)) || approvers.iter().any(|a| independent(a)) {
        ApprovalTrailers::Independent
    } else if own || !approvers.is_empty() {
        ApprovalTrailers::ByAuthor
    } else {
        ApprovalTrailers::None
    }
}

/// The commits each merge of `commits` lands, by graph: reachable from its other parents and not
/// from its first parent — never by commit date, so skewed clocks cannot move commits already on
/// the first-parent chain into a branch. The chain is processed oldest first with one set of the
/// commits reachable so far, so every commit of the history is read at most once.
///
/// From the landed commits: the merge's contributors (their authors and co-authors), its separate
/// approving commits (an empty commit whose committer names themselves in an `Approved-by:` or
/// `Reviewed-by:` trailer), and, when the merge itself changed an SMS file to something no parent
/// has, the merge's own author.
fn land_merges(
    repo: &Repository,
    prefix: &str,
    chain: &[Link],
    first_seq: u64,
    commits: &mut [RawCommit],
) -> Result<(), git2::Error> {
    if !commits.iter().any(|c| c.merge) {
        return Ok(());
    }
    let mut seen: std::collections::HashSet<Oid> = std::collections::HashSet::new();
    // Everything reachable from the commit the chain of this run starts on (the cached tip).
    if let Some(first) = chain.first() {
        let c = repo.find_commit(first.oid)?;
        if c.parent_count() > 0 {
            reach(repo, &mut seen, &[c.parent_id(0)?], None);
        }
    }
    let mut done = 0;
    for m in commits.iter_mut().filter(|c| c.merge) {
        let Some(at) = m.seq.checked_sub(first_seq).map(|i| i as usize) else {
            continue;
        };
        let Some(link) = chain.get(at) else { continue };
        for l in &chain[done.min(at)..at] {
            reach(repo, &mut seen, &[l.oid], None);
        }
        done = at;
        let merge = repo.find_commit(link.oid)?;
        let others: Vec<Oid> = merge.parent_ids().skip(1).collect();
        let mut landed = Vec::new();
        reach(repo, &mut seen, &others, Some(&mut landed));
        let (contributors, approvers) = landed_authors(repo, &landed);
        m.contributors.extend(contributors);
        if merge_has_own_content(&merge, prefix, &m.changes)? {
            m.contributors
                .push(String::from_utf8_lossy(merge.author().email_bytes()).to_ascii_lowercase());
        }
        tidy(&mut m.contributors);
        let committer =
            String::from_utf8_lossy(merge.committer().email_bytes()).to_ascii_lowercase();
        m.approval_trailers =
            approval_trailers(&m.trailers, &committer, &approvers, &m.contributors);
    }
    Ok(())
}

/// The authors and co-authors of the commits a merge lands, and the committers of the separate
/// approving commits among them (which are no authors).
pub(super) fn landed_authors(repo: &Repository, landed: &[Oid]) -> (Vec<String>, Vec<String>) {
    let mut contributors = Vec::new();
    let mut approvers = Vec::new();
    for &oid in landed {
        let Ok(c) = repo.find_commit(oid) else {
            continue;
        };
        if let Some(a) = approving_commit(&c) {
            approvers.push(a);
            continue;
        }
        let t = trailers_of(&String::from_utf8_lossy(c.message_bytes()));
        contributors.push(String::from_utf8_lossy(c.author().email_bytes()).to_ascii_lowercase());
        contributors.extend(co_authors(&t));
    }
    (contributors, approvers)
}

/// The committer of an empty commit (the tree of its only parent) that names its committer in
/// an `Approved-by:` or `Reviewed-by:` trailer: a separate approving commit.
pub(super) fn approving_commit(c: &git2::Commit<'_>) -> Option<String> {
    let empty = c.parent_count() == 1 && c.parent(0).is_ok_and(|p| p.tree_id() == c.tree_id());
    let committer = String::from_utf8_lossy(c.committer().email_bytes()).to_ascii_lowercase();
    let t = trailers_of(&String::from_utf8_lossy(c.message_bytes()));
    let names = t.iter().any(|(k, v)| {
        (k == "Approved-by" || k == "Reviewed-by") && email_of(v).is_some_and(|e| e == committer)
    });
    (empty && names).then_some(committer)
}

/// Add to `seen` every commit reachable from `from` that is not in it yet (and to `out`, when
/// given). A commit that cannot be read (beyond a shallow boundary) ends that line.
pub(super) fn reach(
    repo: &Repository,
    seen: &mut std::collections::HashSet<Oid>,
    from: &[Oid],
    mut out: Option<&mut Vec<Oid>>,
) {
    let mut stack: Vec<Oid> = from.to_vec();
    while let Some(oid) = stack.pop() {
        if !seen.insert(oid) {
            continue;
        }
        if let Some(out) = out.as_deref_mut() {
            out.push(oid);
        }
        if let Ok(c) = repo.find_commit(oid) {
            stack.extend(c.parent_ids());
        }
    }
}

/// Whether a merge changed an SMS file (against its first parent) to content that none of its
/// other parents has at that path: then its author wrote part of what it lands.
fn merge_has_own_content(
    merge: &git2::Commit<'_>,
    prefix: &str,
    changes: &[RawChange],
) -> Result<bool, git2::Error> {
    let trees: Vec<git2::Tree<'_>> = merge
        .parents()
        .skip(1)
        .map(|p| p.tree())
        .collect::<Result<_, _>>()?;
    for ch in changes {
        let path = format!("{prefix}{}", ch.path);
        let from_a_parent = trees.iter().any(|t| {
            let there = t
                .get_path(Path::new(&path))
                .ok()
                .filter(|e| matches!(mode(e.filemode()), Mode::File))
                .map(|e| e.id().to_string());
            there == ch.new
        });
        if !from_a_parent {
            return Ok(true);
        }
    }
    Ok(false)
}

const TRAILER_KEYS: &[&str] = &["Approved-by", "Reviewed-by", "Co-authored-by"];

/// The approval and authorship trailers of a commit message.
fn trailers(message: &str) -> Vec<(String, String)> {
    trailers_of(message)
}

pub(super) fn trailers_of(message: &str) -> Vec<(String, String)> {
    let Ok(all) = git2::message_trailers_strs(message) else {
        return Vec::new();
    };
    all.iter()
        .filter_map(|(k, v)| {
            TRAILER_KEYS
                .iter()
                .find(|known| known.eq_ignore_ascii_case(k.trim()))
                .map(|known| (known.to_string(), v.trim().to_string()))
        })
        .collect()
}

pub(super) fn co_authors(trailers: &[(String, String)]) -> Vec<String> {
    trailers
        .iter()
        .filter(|(k, _)| k == "Co-authored-by")
        .filter_map(|(_, v)| email_of(v))
        .collect()
}

/// The e-mail in `Name <email>` (or a bare e-mail), lower case.
pub(super) fn email_of(value: &str) -> Option<String> {
    let v = value.trim();
    let inner = match (v.rfind('<'), v.rfind('>')) {
        (Some(a), Some(b)) if a < b => &v[a + 1..b],
        _ => v,
    };
    let inner = inner.trim();
    inner.contains('@').then(|| inner.to_ascii_lowercase())
}

/// Renames as git detects them (content similarity), among the deleted and added files.
fn git_renames(
    repo: &Repository,
    task: &Task,
    changes: &[RawChange],
) -> Result<Vec<(String, String)>, git2::Error> {
    let mut opts = git2::DiffOptions::new();
    opts.disable_pathspec_match(true);
    for c in changes {
        if c.old.is_none() || c.new.is_none() {
            opts.pathspec(&c.path);
        }
    }
    let old = task.old.map(|o| repo.find_tree(o)).transpose()?;
    let new = task.new.map(|o| repo.find_tree(o)).transpose()?;
    let mut diff = repo.diff_tree_to_tree(old.as_ref(), new.as_ref(), Some(&mut opts))?;
    let mut find = git2::DiffFindOptions::new();
    find.renames(true);
    diff.find_similar(Some(&mut find))?;
    let mut out = Vec::new();
    for d in diff.deltas() {
        if d.status() == git2::Delta::Renamed {
            let from = d.old_file().path().and_then(|p| p.to_str());
            let to = d.new_file().path().and_then(|p| p.to_str());
            if let (Some(f), Some(t)) = (from, to) {
                out.push((f.to_string(), t.to_string()));
            }
        }
    }
    Ok(out)
}

/// Whether a folder below the SMS root can hold documents or records.
fn folder_wanted(config: &Config, rel: &str) -> bool {
    !(snapshot::skipped_dir(config, rel)
        || rel == config.paths.templates
        || rel == config.paths.frameworks
        || rel == config.paths.mappings)
}

/// Whether a file is a document or a record file.
fn file_wanted(config: &Config, rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    !name.starts_with('.') && matches!(snapshot::role(config, rel), Role::Document | Role::Record)
}

/// Compare two trees by entry: identical sub-trees (same id) cost nothing, and two versions of a
/// tree are compared as ropes (`rope::diff`), which skips what they share without parsing it.
fn diff_trees(
    reader: &mut Reader<'_>,
    cache: &mut TreeCache,
    config: &Config,
    old: Option<Oid>,
    new: Option<Oid>,
    base: &str,
    out: &mut Vec<RawChange>,
) -> Result<(), git2::Error> {
    if old == new {
        return Ok(());
    }
    let old_t = old.map(|o| cache.get(reader, o)).transpose()?;
    let new_t = new.map(|o| cache.get(reader, o)).transpose()?;
    let malformed = || git2::Error::from_str("a tree object is malformed");
    let pairs = match (&old_t, &new_t) {
        (Some(a), Some(b)) => rope::diff(a, b).map_err(|_| malformed())?,
        _ => {
            let (a, b) = (
                old_t.as_ref().map(|t| t.flat()),
                new_t.as_ref().map(|t| t.flat()),
            );
            flat_diff(a.as_deref().unwrap_or(&[]), b.as_deref().unwrap_or(&[]))?
        }
    };
    for (left, right) in pairs {
        let Some(any) = left.as_ref().or(right.as_ref()) else {
            continue;
        };
        let Ok(name) = std::str::from_utf8(&any.name) else {
            continue;
        };
        let rel = format!("{base}{name}");
        let oid = |e: &Ent| Oid::from_bytes(&e.id);
        if any.is_tree() {
            if folder_wanted(config, &rel) {
                // Only the sides that are folders: a file replaced by a folder is an addition.
                let o = left.as_ref().filter(|e| e.is_tree()).map(oid).transpose()?;
                let n = right
                    .as_ref()
                    .filter(|e| e.is_tree())
                    .map(oid)
                    .transpose()?;
                diff_trees(reader, cache, config, o, n, &format!("{rel}/"), out)?;
            }
            continue;
        }
        if !file_wanted(config, &rel) {
            continue;
        }
        // Links and submodules are never read: they count as absent here.
        let file = |e: Option<&Ent>| {
            e.filter(|e| matches!(mode(e.mode as i32), Mode::File))
                .map(|e| oid(e).map(|o| o.to_string()))
                .transpose()
        };
        let (o, n) = (file(left.as_ref())?, file(right.as_ref())?);
        if o != n {
            out.push(RawChange {
                path: rel,
                old: o,
                new: n,
            });
        }
    }
    Ok(())
}

/// The entries that differ between two flat trees (as `rope::diff` gives them), for a folder added
/// or removed: the whole entries the two share at their start and end are cut off by bytes, the
/// rest merged by name.
fn flat_diff(old: &[u8], new: &[u8]) -> Result<Vec<Pair>, git2::Error> {
    let skip = shared_entries(old, new);
    let (a, b) = differing_entries(&old[skip..], &new[skip..])?;
    let is_tree = |e: &TreeEntry<'_>| matches!(mode(e.mode as i32), Mode::Tree);
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() || j < b.len() {
        let order = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => entry_order(x.name, is_tree(x), y.name, is_tree(y)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, _) => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                out.push((Some(Ent::from_entry(&a[i])), None));
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push((None, Some(Ent::from_entry(&b[j]))));
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let (x, y) = (&a[i], &b[j]);
                if x.id != y.id || x.mode != y.mode {
                    out.push((Some(Ent::from_entry(x)), Some(Ent::from_entry(y))));
                }
                i += 1;
                j += 1;
            }
        }
    }
    Ok(out)
}

/// How many bytes of whole entries two raw trees share at their start. A commit usually adds
/// or changes a few files of a big folder: the entries before the first difference need not
/// be compared one by one.
fn shared_entries(a: &[u8], b: &[u8]) -> usize {
    let p = super::rope::common_prefix(a, b);
    // The last entry boundary at or before `p`: entries are `mode name\0` and a 20-byte id.
    let mut at = 0;
    while let Some(nul) = memchr::memchr(0, &a[at..]) {
        let next = at + nul + 21;
        if next > p {
            break;
        }
        at = next;
    }
    at
}

/// The entries of two raw trees (whose shared start is already cut off) up to the whole entries
/// they share at their end: a commit that changes one file of a folder of 5,000 compares a few
/// entries, not the half of the folder that follows the change.
///
/// The shared end is found by bytes; each side is parsed from its start until what remains of
/// it is no longer than that shared end, and then the side with more left is parsed further
/// until both have exactly as many bytes left. Both rests then start on an entry boundary and
/// are the same bytes, so they are the same entries.
fn differing_entries<'a>(
    a: &'a [u8],
    b: &'a [u8],
) -> Result<(Vec<TreeEntry<'a>>, Vec<TreeEntry<'a>>), git2::Error> {
    let n = a.len().min(b.len());
    let mut tail = 0;
    while tail + 512 <= n
        && a[a.len() - tail - 512..a.len() - tail] == b[b.len() - tail - 512..b.len() - tail]
    {
        tail += 512;
    }
    while tail < n && a[a.len() - tail - 1] == b[b.len() - tail - 1] {
        tail += 1;
    }
    let (mut ia, mut ib) = (tree_entries(a), tree_entries(b));
    let (mut xa, mut xb) = (Vec::new(), Vec::new());
    let left = |it: &TreeEntries<'_>| it.rest().len();
    while left(&ia) > tail {
        match ia.next() {
            Some(e) => xa.push(e?),
            None => break,
        }
    }
    while left(&ib) > tail {
        match ib.next() {
            Some(e) => xb.push(e?),
            None => break,
        }
    }
    while left(&ia) != left(&ib) {
        let (it, out) = if left(&ia) > left(&ib) {
            (&mut ia, &mut xa)
        } else {
            (&mut ib, &mut xb)
        };
        match it.next() {
            Some(e) => out.push(e?),
            None => break,
        }
    }
    Ok((xa, xb))
}

/// Read a blob and summarise it with the `source` parsers.
pub(super) fn summarise(
    reader: &mut Reader<'_>,
    git_dir: &Path,
    config: &Config,
    oid: Oid,
    path: &str,
) -> Result<Summary> {
    let role = snapshot::role(config, path);
    let too_big = || match role {
        Role::Record => Summary::Records(Default::default()),
        _ => Summary::NoId,
    };
    let blob = reader
        .read_within(oid, config.max_size_for(path))
        .map_err(|e| git_error(git_dir, &format!("cannot read `{path}` ({oid})"), &e))?;
    let Some(blob) = blob else {
        return Ok(too_big());
    };
    let bytes = &blob.data[..];
    let text = if bytes.contains(&0) {
        None
    } else {
        std::str::from_utf8(bytes)
            .ok()
            .map(|t| crate::markdown::normalise(t).into_owned())
    };
    let mut diags = Vec::new();
    Ok(match role {
        Role::Record => Summary::Records(super::rows::summarise(config, path, text.as_deref())),
        _ => {
            let doc = text
                .and_then(|t| crate::source::parse_document_fields(config, path, &t, &mut diags));
            match doc {
                None => Summary::NoId,
                Some(d) => {
                    let (controlled, text) = super::content_hashes(&d);
                    Summary::Document(DocSummary {
                        id: d.id,
                        version: d.version.map(|v| v.text),
                        status: Some(d.status.as_str().to_string()),
                        approved: d.approved.map(|a| a.to_string()),
                        approver: d.approver.map(|a| a.text),
                        clauses: d.clauses.into_iter().map(|c| c.id).collect(),
                        provides: d.provides.into_iter().map(|p| p.text).collect(),
                        controlled,
                        text,
                    })
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn folders_sort_as_if_their_name_ended_in_a_slash() {
        // git orders "a.md" < "a/" (folder) < "a0"
        assert_eq!(entry_order(b"a.md", false, b"a", true), Ordering::Less);
        assert_eq!(entry_order(b"a", true, b"a0", false), Ordering::Less);
        assert_eq!(entry_order(b"a", false, b"a", true), Ordering::Less);
        assert_eq!(entry_order(b"b", false, b"b", false), Ordering::Equal);
    }

    /// A raw tree of `(name, id)` entries, files only.
    fn raw_tree(entries: &[(String, [u8; 20])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, id) in entries {
            out.extend_from_slice(b"1 ");
            out.extend_from_slice(name.as_bytes());
            out.push(0);
            out.extend_from_slice(id);
        }
        out
    }

    fn next(seed: &mut u64, n: u64) -> u64 {
        *seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (*seed >> 33) % n
    }

    /// An id made of the bytes of short entries (`1 a\0`…: an id is any 20 bytes), so that
    /// parsing from inside it often finds entries.
    fn look_alike_id(seed: &mut u64) -> [u8; 20] {
        let mut id = [0u8; 20];
        for byte in id.iter_mut() {
            *byte = b"1 a\0"[next(seed, 4) as usize];
        }
        id
    }

    #[test]
    fn only_shared_whole_entries_are_cut_off_the_end() {
        // Names and ids from tiny alphabets, so that byte suffixes shared by two trees often
        // start inside an entry, or on an entry boundary of one side only: what is cut off must
        // be the same whole entries on both sides.
        let seed = &mut 7u64;
        for _ in 0..20_000 {
            let mut a: Vec<(String, [u8; 20])> = Vec::new();
            for _ in 0..next(seed, 8) {
                let len = 1 + next(seed, 3) as usize;
                let name: String = (0..len)
                    .map(|_| b"a1 "[next(seed, 3) as usize] as char)
                    .collect();
                a.push((name, look_alike_id(seed)));
            }
            let mut b = a.clone();
            for _ in 0..1 + next(seed, 3) {
                match next(seed, 3) {
                    0 if !b.is_empty() => {
                        let i = next(seed, b.len() as u64) as usize;
                        b.remove(i);
                    }
                    1 if !b.is_empty() => {
                        let i = next(seed, b.len() as u64) as usize;
                        b[i].1 = look_alike_id(seed);
                    }
                    _ => {
                        let i = next(seed, b.len() as u64 + 1) as usize;
                        let name = format!("{}a", "b".repeat(next(seed, 3) as usize));
                        b.insert(i, (name, look_alike_id(seed)));
                    }
                }
            }
            let (ra, rb) = (raw_tree(&a), raw_tree(&b));
            let (ma, mb) = differing_entries(&ra, &rb).unwrap();
            let all_a: Vec<TreeEntry<'_>> = tree_entries(&ra).map(Result::unwrap).collect();
            let all_b: Vec<TreeEntry<'_>> = tree_entries(&rb).map(Result::unwrap).collect();
            assert_eq!(&all_a[..ma.len()], &ma[..]);
            assert_eq!(&all_b[..mb.len()], &mb[..]);
            assert_eq!(&all_a[ma.len()..], &all_b[mb.len()..], "{a:?} / {b:?}");
        }
    }

    #[test]
    fn emails_come_from_angle_brackets() {
        assert_eq!(
            email_of("Helen Carter <Helen@Example.org>").as_deref(),
            Some("helen@example.org")
        );
        assert_eq!(email_of("x@y.z").as_deref(), Some("x@y.z"));
        assert_eq!(email_of("Nobody"), None);
    }

    #[test]
    fn dates_are_in_the_commit_s_own_offset() {
        // 2026-01-01T23:30:00Z is already 2 January at +01:00
        let secs = 1_767_310_200;
        assert_eq!(civil_date(secs, 0).to_string(), "2026-01-01");
        assert_eq!(civil_date(secs, 60).to_string(), "2026-01-02");
    }
}
