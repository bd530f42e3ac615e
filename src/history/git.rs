//! The repository handle: discovery from the SMS root, HEAD, the dirty check, snapshots of a git
//! tree, and the orchestration of a history read (walk -> parse -> assemble, with the cache).

use super::odb::{Packs, Reader};
use super::walk::{self, Settings};
use super::{assemble, cache, Head, History, State, WalkStats};
use crate::config::Config;
use crate::diag::Diagnostic;
use crate::snapshot::{self, Entry, EntryKind, Snapshot};
use anyhow::{anyhow, bail, Context, Result};
use git2::{ErrorClass, ErrorCode, Oid, Repository, RepositoryOpenFlags};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// An open repository holding the SMS.
pub struct Repo {
    repo: Repository,
    /// The git folder (`.git`, or the worktree's git folder).
    git_dir: PathBuf,
    /// The SMS root relative to the work tree: `""` or `"a/b/"` (with the trailing slash).
    prefix: String,
}

/// A git file mode: a regular (or executable) file, a link, a submodule, a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    File,
    Symlink,
    Gitlink,
    Tree,
    /// An entry no git client writes (a crafted tree): its name holds `/` or is `.`, `..` or
    /// empty, or the tree lists the name twice. Never read; why, for the finding.
    Invalid(&'static str),
}

pub(super) fn mode(filemode: i32) -> Mode {
    match filemode & 0o170000 {
        0o040000 => Mode::Tree,
        0o120000 => Mode::Symlink,
        0o160000 => Mode::Gitlink,
        _ => Mode::File,
    }
}

impl Repo {
    /// Discover the repository at or above `sms_root`; `None` when there is none. Repositories
    /// libgit2 cannot use (bare, unsupported format, owned by someone else) are failures with
    /// the fix in the message.
    pub fn open(sms_root: &Path) -> Result<Option<Repo>> {
        static OPTIONS: std::sync::Once = std::sync::Once::new();
        OPTIONS.call_once(|| {
            // Objects are only read, never written: skip libgit2's SHA-1 (collision-detecting)
            // re-hash of every object read, which costs more than the diffs themselves. git
            // itself does not verify objects on read either.
            git2::opts::strict_hash_verification(false);
            // Bound the pack data libgit2 maps at once (by default windows of 1 GiB, up to
            // 8 GiB): every mapped page read counts towards the process's memory, and reading
            // 20,000 commits touches most of a pack. Small windows, few of them: libgit2 unmaps
            // the least recently used. (Trees and blobs of the walk are read by `odb`, which
            // does not map the pack.)
            // SAFETY: libgit2 global options, set once, before this process opens a repository.
            unsafe {
                let _ = git2::opts::set_mwindow_size(16 * 1024 * 1024);
                let _ = git2::opts::set_mwindow_mapped_limit(64 * 1024 * 1024);
            }
        });
        let ceilings: Vec<PathBuf> = std::env::var_os("GIT_CEILING_DIRECTORIES")
            .map(|v| std::env::split_paths(&v).collect())
            .unwrap_or_default();
        let repo = match Repository::open_ext(sms_root, RepositoryOpenFlags::empty(), &ceilings) {
            Ok(r) => r,
            Err(e) if e.code() == ErrorCode::NotFound => {
                // A `.git` that libgit2 cannot open (a worktree or submodule whose git folder
                // is gone) is a broken repository, not "no git": say so instead of skipping
                // the history rules quietly.
                let broken = sms_root
                    .ancestors()
                    .take_while(|d| !ceilings.iter().any(|c| c == d))
                    .map(|d| d.join(".git"))
                    .find(|g| std::fs::symlink_metadata(g).is_ok());
                return match broken {
                    None => Ok(None),
                    Some(g) => Err(anyhow!(
                        "`{}` is not a usable git repository: {}\nhelp: repair or remove it (`git worktree prune`, `git submodule update --init`), or clone the repository again",
                        g.display(),
                        e.message()
                    )),
                };
            }
            Err(e) => return Err(open_error(sms_root, &e)),
        };
        let Some(workdir) = repo.workdir() else {
            bail!(
                "`{}` is inside the bare git repository `{}`, which has no work tree.\n\
                 help: run auditbook in a clone with a work tree (`git clone`)",
                sms_root.display(),
                repo.path().display()
            );
        };
        let workdir = workdir
            .canonicalize()
            .with_context(|| format!("cannot open `{}`", workdir.display()))?;
        let root = sms_root
            .canonicalize()
            .with_context(|| format!("cannot open `{}`", sms_root.display()))?;
        let rel = root.strip_prefix(&workdir).map_err(|_| {
            anyhow!(
                "the SMS root `{}` is not inside the work tree `{}` of its git repository",
                root.display(),
                workdir.display()
            )
        })?;
        let mut prefix = String::new();
        for c in rel.components() {
            let part = c.as_os_str().to_str().ok_or_else(|| {
                anyhow!(
                    "the SMS root `{}` has a path that is not UTF-8",
                    root.display()
                )
            })?;
            prefix.push_str(part);
            prefix.push('/');
        }
        let git_dir = repo.path().to_path_buf();
        Ok(Some(Repo {
            repo,
            git_dir,
            prefix,
        }))
    }

    /// The SMS root relative to the repository's work tree (`""` or `"a/b/"`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn git_dir(&self) -> &Path {
        &self.git_dir
    }

    /// The libgit2 handle, for the other files of `history` (`base.rs`).
    pub(super) fn git2(&self) -> &Repository {
        &self.repo
    }

    pub fn is_shallow(&self) -> bool {
        self.repo.is_shallow()
    }

    /// What the walk depends on besides the commits (the cache key): the settings, and the
    /// grafts file, which changes the parents libgit2 reports.
    pub(super) fn settings(&self, config: &Config) -> Settings {
        let grafts = std::fs::read(self.repo.commondir().join("info/grafts")).unwrap_or_default();
        Settings::new(config, &self.prefix, &grafts)
    }

    /// Whether the repository has a grafts file (`info/grafts`): libgit2 follows it, so the
    /// history read is the grafted one, not the one the commits record.
    pub fn has_grafts(&self) -> bool {
        std::fs::symlink_metadata(self.repo.commondir().join("info/grafts"))
            .is_ok_and(|m| m.len() > 0)
    }

    fn head(&self) -> Result<Option<(Oid, Head)>> {
        let head = match self.repo.head() {
            Ok(h) => h,
            Err(e) if e.code() == ErrorCode::UnbornBranch || e.code() == ErrorCode::NotFound => {
                return Ok(None)
            }
            Err(e) => return Err(git_error(&self.git_dir, "cannot read HEAD", &e)),
        };
        let commit = head
            .peel_to_commit()
            .map_err(|e| git_error(&self.git_dir, "HEAD does not point at a commit", &e))?;
        let branch = if self.repo.head_detached().unwrap_or(false) {
            None
        } else {
            head.shorthand().ok().map(str::to_string)
        };
        let (time, offset, date) = walk::commit_time(&commit);
        Ok(Some((
            commit.id(),
            Head {
                commit: commit.id().to_string(),
                time,
                offset_minutes: offset,
                date,
                subject: String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default())
                    .into_owned(),
                branch,
            },
        )))
    }

    /// Read the history (see the module doc). Findings about settings (an unusable
    /// `history.baseline`) go to `findings`.
    pub fn read(&self, config: &Config, findings: &mut Vec<Diagnostic>) -> Result<History> {
        let head = self.head()?;
        let (dirty, sparse) = self.dirty(config)?;
        let empty = |state, head: Option<Head>, dirty, sparse| History {
            prefix: self.prefix.clone(),
            state,
            head,
            commits: Vec::new(),
            documents: Default::default(),
            records: Default::default(),
            files: Default::default(),
            dirty,
            sparse,
            tags: Default::default(),
            stats: WalkStats::default(),
            raw: None,
        };
        let Some((head_oid, head)) = head else {
            return Ok(empty(State::NoCommits, None, dirty, sparse));
        };
        if self.repo.is_shallow() {
            return Ok(empty(State::Shallow, Some(head), dirty, sparse));
        }
        let settings = self.settings(config);
        // A baseline given as a date (or none) needs no repository lookup: then the history
        // assembled for HEAD by an earlier run can be used as it is.
        let baseline = assemble::baseline_text(config);
        let plain_baseline = assemble::plain_baseline(config);
        let assembled = plain_baseline
            .then(|| cache::load_assembled(&self.git_dir, &settings.key, &head.commit, baseline))
            .flatten()
            .filter(
                |a| match super::verify::assembled(&self.repo, config, &self.prefix, a) {
                    Ok(()) => true,
                    Err(why) => {
                        findings.push(cache_rejected("assembled.msgpack", &why));
                        false
                    }
                },
            );
        if let Some(a) = assembled {
            let cached_commits = a.commits.len();
            let tags = self.signed_tags(config, &a.commits);
            return Ok(History {
                prefix: self.prefix.clone(),
                state: State::Complete,
                head: Some(head),
                commits: a.commits,
                documents: a.documents,
                records: a.records,
                files: a.files,
                dirty,
                sparse,
                tags,
                stats: WalkStats {
                    cached_commits,
                    walked_commits: 0,
                    parsed_blobs: 0,
                },
                raw: None,
            });
        }
        let cached = self.cached_walk(config, &settings, findings);
        let walked = walk::walk(
            &self.repo,
            &self.git_dir,
            &settings,
            config,
            head_oid,
            cached,
        )
        .map_err(|e| anyhow!("{e:#}\nhelp: {}", READ_HELP))?;
        if walked.changed {
            // The cache is an optimisation: a read-only .git only costs the next run time.
            if let Some(tree) = super::verify::tree_of(&self.repo, &walked.raw.tip) {
                let _ = cache::store(&self.git_dir, &settings.key, &walked.raw, &tree);
            }
        }
        let resolved = assemble::Baseline::resolve(
            &self.repo,
            config.history.baseline.as_deref(),
            &walked.raw,
            findings,
        );
        let mut history = assemble::assemble(config, &walked.raw, &resolved);
        if plain_baseline {
            if let Some(tree) = super::verify::tree_of(&self.repo, &head.commit) {
                let _ = cache::store_assembled(
                    &self.git_dir,
                    &settings.key,
                    &head.commit,
                    baseline,
                    &tree,
                    &history,
                );
            }
        }
        history.prefix = self.prefix.clone();
        history.head = Some(head);
        history.dirty = dirty;
        history.sparse = sparse;
        history.tags = self.signed_tags(config, &history.commits);
        history.stats = walked.stats;
        history.raw = Some(std::sync::Arc::new(walked.raw));
        Ok(history)
    }

    /// The signed annotated tags on `commits` (see `signature.rs`).
    pub(super) fn signed_tags(
        &self,
        config: &Config,
        commits: &[super::Commit],
    ) -> std::collections::BTreeMap<String, Vec<super::SignedTag>> {
        let ids: std::collections::HashSet<&str> = commits.iter().map(|c| c.id.as_str()).collect();
        super::signature::tags(&self.repo, &ids, &config.keyring)
    }

    /// The raw walk from the cache, when there is one and it passes the checks of `verify.rs`;
    /// a rejected one is a `history-cache-rejected` note and is not used.
    pub(super) fn cached_walk(
        &self,
        config: &Config,
        settings: &Settings,
        findings: &mut Vec<Diagnostic>,
    ) -> Option<walk::RawWalk> {
        let c = cache::load(&self.git_dir, &settings.key)?;
        match super::verify::raw_walk(&self.repo, config, &c.walk, &c.tip_tree, &c.inputs) {
            Ok(()) => Some(c.walk),
            Err(why) => {
                findings.push(cache_rejected("history.msgpack", &why));
                None
            }
        }
    }

    /// SMS files that differ between the work tree and HEAD (or the index), untracked included;
    /// and the files outside a sparse checkout (skip-worktree, absent), which are no change.
    /// An index libgit2 cannot read (a split index, `core.splitIndex`) is not needed: the work
    /// tree is then compared with HEAD directly.
    fn dirty(&self, config: &Config) -> Result<(Vec<String>, Vec<String>)> {
        let mut opts = git2::StatusOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false)
            .exclude_submodules(true)
            .renames_head_to_index(false);
        if !self.prefix.is_empty() {
            opts.pathspec(&self.prefix);
        }
        let mut out = match self.repo.statuses(Some(&mut opts)) {
            Ok(statuses) => {
                let mut out = Vec::new();
                for s in statuses.iter() {
                    let st = s.status();
                    if st.is_empty() || st.contains(git2::Status::IGNORED) {
                        continue;
                    }
                    let Ok(path) = s.path() else { continue };
                    if let Some(rel) = self.sms_rel(config, path) {
                        out.push(rel.to_string());
                    }
                }
                out
            }
            Err(e) if e.message().contains("extension") => self.dirty_without_index(config)?,
            Err(e) => {
                return Err(git_error(
                    &self.git_dir,
                    "cannot compare the work tree with HEAD",
                    &e,
                ))
            }
        };
        let sparse = self.skipped_worktree(config);
        out.retain(|p| sparse.binary_search(p).is_err());
        out.sort();
        out.dedup();
        Ok((out, sparse))
    }

    /// The SMS-relative form of a repository path, when it is an SMS source.
    fn sms_rel<'p>(&self, config: &Config, path: &'p str) -> Option<&'p str> {
        let rel = path.strip_prefix(self.prefix.as_str())?;
        (!rel.is_empty() && sms_path(config, rel)).then_some(rel)
    }

    /// SMS files with the skip-worktree bit (outside a sparse checkout) that are absent from the
    /// work tree, sorted. Read from the index; from the shared index when the index is split.
    fn skipped_worktree(&self, config: &Config) -> Vec<String> {
        const SKIP_WORKTREE: u16 = 1 << 14;
        let index = match self.repo.index() {
            Ok(i) => Some(i),
            Err(_) => self.shared_index().and_then(|p| git2::Index::open(&p).ok()),
        };
        let Some(index) = index else {
            return Vec::new();
        };
        let mut out: Vec<String> = index
            .iter()
            .filter(|e| e.flags_extended & SKIP_WORKTREE != 0)
            .filter_map(|e| {
                let path = String::from_utf8(e.path).ok()?;
                let rel = self.sms_rel(config, &path)?;
                let absent = std::fs::symlink_metadata(config.root.join(rel)).is_err();
                absent.then(|| rel.to_string())
            })
            .collect();
        out.sort();
        out
    }

    /// The shared index a split index links to (`sharedindex.<id>` in the git folder): the
    /// `link` extension holds its id.
    fn shared_index(&self) -> Option<PathBuf> {
        let bytes = std::fs::read(self.git_dir.join("index")).ok()?;
        let mut at = bytes.len();
        while let Some(i) = memchr::memmem::rfind(&bytes[..at], b"link") {
            let id = bytes.get(i + 8..i + 28)?;
            let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
            let path = self.git_dir.join(format!("sharedindex.{hex}"));
            if path.is_file() {
                return Some(path);
            }
            at = i;
        }
        None
    }

    /// The dirty check without the index: every SMS file of the work tree hashed and compared
    /// with HEAD's tree; a file HEAD lacks is untracked unless `.gitignore` ignores it.
    fn dirty_without_index(&self, config: &Config) -> Result<Vec<String>> {
        let err =
            |e: git2::Error| git_error(&self.git_dir, "cannot compare the work tree with HEAD", &e);
        let mut head: std::collections::HashMap<String, (Oid, Mode)> = Default::default();
        if let Ok(commit) = self.repo.head().and_then(|h| h.peel_to_commit()) {
            let tree = commit.tree().map_err(err)?;
            if let Some(sub) = walk::subtree(&self.repo, &tree, &self.prefix).map_err(err)? {
                let mut listed = Vec::new();
                list_tree(&self.repo, sub, "", config, &mut listed).map_err(err)?;
                head = listed.into_iter().map(|(p, o, m)| (p, (o, m))).collect();
            }
        }
        let submodules: Vec<String> = head
            .iter()
            .filter(|(_, (_, m))| *m == Mode::Gitlink)
            .map(|(p, _)| format!("{p}/"))
            .collect();
        let mut out = Vec::new();
        for l in snapshot::list_work_tree(config)? {
            if !sms_path(config, &l.path) || submodules.iter().any(|s| l.path.starts_with(s)) {
                continue;
            }
            let abs = config.root.join(&l.path);
            let same = match head.remove(&l.path) {
                Some((oid, Mode::File)) if l.file_type.is_file() => {
                    Oid::hash_file(git2::ObjectType::Blob, &abs).is_ok_and(|o| o == oid)
                }
                Some((oid, Mode::Symlink)) if l.file_type.is_symlink() => std::fs::read_link(&abs)
                    .ok()
                    .and_then(|t| {
                        Oid::hash_object(git2::ObjectType::Blob, t.as_os_str().as_encoded_bytes())
                            .ok()
                    })
                    .is_some_and(|o| o == oid),
                Some(_) => false,
                None => self
                    .repo
                    .is_path_ignored(format!("{}{}", self.prefix, l.path))
                    .unwrap_or(false),
            };
            if !same {
                out.push(l.path);
            }
        }
        out.extend(
            head.into_iter()
                .filter(|(_, (_, m))| *m != Mode::Gitlink)
                .map(|(p, _)| p),
        );
        Ok(out)
    }

    /// The SMS as it is in revision `rev`.
    pub fn snapshot(&self, config: &Config, rev: &str) -> Result<Snapshot> {
        let commit = self
            .repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map_err(|e| {
                anyhow!(
                    "`{rev}` is not a commit of the repository `{}`: {}\nhelp: fetch it (`git fetch origin {rev}`), or name a branch, tag or commit id",
                    self.git_dir.display(),
                    e.message()
                )
            })?;
        let tree = commit
            .tree()
            .map_err(|e| git_error(&self.git_dir, "cannot read a tree", &e))?;
        let sms_tree = walk::subtree(&self.repo, &tree, &self.prefix)
            .map_err(|e| git_error(&self.git_dir, "cannot read a tree", &e))?;
        let Some(sms_tree) = sms_tree else {
            return Ok(Snapshot::default());
        };
        // List every entry (cheap), then read the blobs auditbook parses on all cores.
        let mut listed: Vec<(String, Oid, Mode)> = Vec::new();
        list_tree(&self.repo, sms_tree, "", config, &mut listed)
            .map_err(|e| git_error(&self.git_dir, "cannot read a tree", &e))?;
        let entries = self.read_entries(config, &listed)?;
        let mut entries = entries;
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Snapshot { entries })
    }

    /// Snapshot entries of listed blobs, read on all cores (each worker opens its own handle).
    fn read_entries(&self, config: &Config, listed: &[(String, Oid, Mode)]) -> Result<Vec<Entry>> {
        let threads = rayon::current_num_threads().max(1);
        let chunk = listed.len().div_ceil(threads * 4).max(64);
        let git_dir = &self.git_dir;
        let packs = Packs::open(self.repo.commondir());
        let entries: Vec<Entry> = listed
            .par_chunks(chunk)
            .map(|part| -> Result<Vec<Entry>> {
                let repo = Repository::open(git_dir)
                    .map_err(|e| git_error(git_dir, "cannot open the repository", &e))?;
                let mut reader = Reader::new(&packs, &repo, SNAPSHOT_CACHE);
                part.iter()
                    .map(|(path, oid, mode)| {
                        let kind = entry_kind(&mut reader, git_dir, config, path, *oid, *mode)?;
                        Ok(Entry {
                            path: path.clone(),
                            kind,
                        })
                    })
                    .collect()
            })
            .collect::<Result<Vec<Vec<Entry>>>>()?
            .into_iter()
            .flatten()
            .collect();
        Ok(entries)
    }
}

/// Bytes of resolved objects each worker keeps as delta bases while reading a revision's files.
pub(super) const SNAPSHOT_CACHE: usize = 16 << 20;

/// Every entry below a tree, as the work-tree walker would list it (hidden names and the output
/// folder skipped).
pub(super) fn list_tree(
    repo: &Repository,
    tree: Oid,
    base: &str,
    config: &Config,
    out: &mut Vec<(String, Oid, Mode)>,
) -> Result<(), git2::Error> {
    let tree = repo.find_tree(tree)?;
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let first = out.len();
    for entry in tree.iter() {
        let Ok(name) = std::str::from_utf8(entry.name_bytes()) else {
            continue;
        };
        let rel = format!("{base}{name}");
        if name.is_empty() || name == "." || name == ".." || name.contains('/') {
            out.push((
                rel,
                entry.id(),
                Mode::Invalid("a git tree entry whose name holds `/` or is empty, `.` or `..` (a crafted tree)"),
            ));
            continue;
        }
        if !seen.insert(name.to_string()) {
            // Listed twice: neither copy is trusted; the one entry of this path says why.
            const TWICE: &str = "a name the git tree lists twice (a crafted tree)";
            match out[first..].iter_mut().find(|(p, _, _)| *p == rel) {
                Some(e) => e.2 = Mode::Invalid(TWICE),
                None => out.push((rel, entry.id(), Mode::Invalid(TWICE))),
            }
            continue;
        }
        match mode(entry.filemode()) {
            Mode::Tree => {
                if !snapshot::skipped_dir(config, &rel) {
                    list_tree(repo, entry.id(), &format!("{rel}/"), config, out)?;
                }
            }
            m => {
                if !name.starts_with('.') {
                    out.push((rel, entry.id(), m));
                }
            }
        }
    }
    Ok(())
}

/// Whether an SMS-relative path is part of the SMS sources (not hidden, not in the output folder).
pub(super) fn sms_path(config: &Config, rel: &str) -> bool {
    let mut dir = String::new();
    let parts: Vec<&str> = rel.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        if part.starts_with('.') {
            return false;
        }
        if i + 1 < parts.len() {
            if !dir.is_empty() {
                dir.push('/');
            }
            dir.push_str(part);
            if snapshot::skipped_dir(config, &dir) {
                return false;
            }
        }
    }
    true
}

/// The note for a history cache file that failed its checks.
fn cache_rejected(file: &str, why: &str) -> Diagnostic {
    Diagnostic::new(
        "history-cache-rejected",
        format!("history-cache/{file}"),
        format!(
            "the history cache `auditbook/{file}` in the git folder does not match the repository ({why}): it was discarded and the history read from the git objects"
        ),
    )
    .at(crate::config::FILE_NAME, crate::yaml::Pos::new(1, 1))
}

const READ_HELP: &str = "the repository could not be read; a partial clone (`--filter`) lacks objects: clone it in full (`git clone` without `--filter`, or `git fetch --refetch`)";

/// A libgit2 failure as a message with the repository and a fix where one is known.
pub(super) fn git_error(git_dir: &Path, what: &str, e: &git2::Error) -> anyhow::Error {
    anyhow!(
        "{what} in the git repository `{}`: {}",
        git_dir.display(),
        e.message()
    )
}

fn open_error(root: &Path, e: &git2::Error) -> anyhow::Error {
    let msg = e.message();
    let help = if e.code() == ErrorCode::Owner || msg.contains("not owned by current user") {
        format!(
            "the repository is owned by another user; if you trust it, run `git config --global --add safe.directory {}`",
            root.display()
        )
    } else if msg.contains("object format") || msg.contains("objectformat") {
        "the repository uses the SHA-256 object format, which auditbook does not support yet (it reads SHA-1 repositories only); nothing is wrong with the repository. To check it now, convert a copy to SHA-1 (`git init --object-format=sha1 COPY && git fast-export --all | git -C COPY fast-import && git -C COPY checkout main`) and run auditbook there, or check a copy of the SMS folder outside git (the history rules are then skipped)".to_string()
    } else if msg.contains("extension") {
        "the repository uses a format libgit2 cannot read (for example SHA-256 object ids or reftable refs); convert it, or check out a clone in the classic format".to_string()
    } else if e.class() == ErrorClass::Repository || e.class() == ErrorClass::Odb {
        "check that `.git` is a complete repository (`git fsck`)".to_string()
    } else {
        "check the repository with `git status`".to_string()
    };
    anyhow!(
        "cannot open the git repository holding `{}`: {msg}\nhelp: {help}",
        root.display()
    )
}

// ------------------------------------------------------------------------------------------------
// Files as committed, for `check::load_committed` and `bundle` (the bundle's `sources/` holds the
// SMS exactly as committed: bytes from git objects, never from the work tree).

/// The id of a git blob; opaque outside `history`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlobId(Oid);

impl BlobId {
    /// Whether `bytes` are exactly this blob's content (git's own object hash).
    pub fn matches(&self, bytes: &[u8]) -> bool {
        Oid::hash_object(git2::ObjectType::Blob, bytes).is_ok_and(|o| o == self.0)
    }
}

/// A regular file of the SMS in a commit.
#[derive(Debug, Clone)]
pub struct CommittedFile {
    /// SMS-relative, `/`-separated.
    pub path: String,
    pub size: u64,
    pub blob: BlobId,
}

/// The SMS sub-tree of a commit, listed as [`Repo::snapshot`] lists it (hidden names and the
/// output folder left out), sorted by path.
#[derive(Debug, Clone, Default)]
pub struct CommittedTree {
    pub files: Vec<CommittedFile>,
    /// Symbolic links, submodules and entries of crafted trees: listed, never read.
    pub not_files: Vec<String>,
}

impl Repo {
    /// HEAD's commit; `None` before the first commit.
    pub fn head_commit(&self) -> Result<Option<Head>> {
        Ok(self.head()?.map(|(_, head)| head))
    }

    fn tree_of(&self, rev: &str) -> Result<Option<git2::Tree<'_>>> {
        let commit = self
            .repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map_err(|e| {
                git_error(
                    &self.git_dir,
                    &format!("cannot read the commit `{rev}`"),
                    &e,
                )
            })?;
        let tree = commit
            .tree()
            .map_err(|e| git_error(&self.git_dir, "cannot read a tree", &e))?;
        let sub = walk::subtree(&self.repo, &tree, &self.prefix)
            .map_err(|e| git_error(&self.git_dir, "cannot read a tree", &e))?;
        match sub {
            None => Ok(None),
            Some(id) => self
                .repo
                .find_tree(id)
                .map(Some)
                .map_err(|e| git_error(&self.git_dir, "cannot read a tree", &e)),
        }
    }

    /// The bytes of the SMS file `rel` in commit `rev`; `None` when it is not a regular file there.
    pub fn read_committed(&self, rev: &str, rel: &str) -> Result<Option<Vec<u8>>> {
        self.read_committed_within(rev, rel, u64::MAX)
    }

    /// [`Self::read_committed`] of a file of at most `limit` bytes: a larger blob (found from the
    /// object's header, before its content is read) is `None`, like a path that is not a file.
    pub fn read_committed_within(
        &self,
        rev: &str,
        rel: &str,
        limit: u64,
    ) -> Result<Option<Vec<u8>>> {
        let Some(tree) = self.tree_of(rev)? else {
            return Ok(None);
        };
        let entry = match tree.get_path(Path::new(rel)) {
            Ok(e) => e,
            Err(e) if e.code() == ErrorCode::NotFound => return Ok(None),
            Err(e) => {
                return Err(git_error(
                    &self.git_dir,
                    &format!("cannot read `{rel}`"),
                    &e,
                ))
            }
        };
        if !matches!(mode(entry.filemode()), Mode::File) {
            return Ok(None);
        }
        if limit < u64::MAX {
            let size = self
                .repo
                .odb()
                .and_then(|odb| odb.read_header(entry.id()))
                .map_err(|e| git_error(&self.git_dir, &format!("cannot read `{rel}`"), &e))?
                .0 as u64;
            if size > limit {
                return Ok(None);
            }
        }
        self.read_blob(BlobId(entry.id())).map(Some)
    }

    /// Every file of the SMS in commit `rev` with its blob id and size.
    pub fn committed_tree(&self, config: &Config, rev: &str) -> Result<CommittedTree> {
        let Some(tree) = self.tree_of(rev)? else {
            return Ok(CommittedTree::default());
        };
        let mut listed: Vec<(String, Oid, Mode)> = Vec::new();
        list_tree(&self.repo, tree.id(), "", config, &mut listed)
            .map_err(|e| git_error(&self.git_dir, "cannot read a tree", &e))?;
        let odb = self
            .repo
            .odb()
            .map_err(|e| git_error(&self.git_dir, "cannot open the object store", &e))?;
        let mut out = CommittedTree::default();
        for (path, oid, m) in listed {
            match m {
                Mode::File => {
                    let (size, _) = odb.read_header(oid).map_err(|e| {
                        git_error(&self.git_dir, &format!("cannot read `{path}`"), &e)
                    })?;
                    out.files.push(CommittedFile {
                        path,
                        size: size as u64,
                        blob: BlobId(oid),
                    });
                }
                Mode::Symlink | Mode::Gitlink | Mode::Tree | Mode::Invalid(_) => {
                    out.not_files.push(path)
                }
            }
        }
        out.files.sort_by(|a, b| a.path.cmp(&b.path));
        out.not_files.sort();
        Ok(out)
    }

    /// The content of a blob.
    pub fn read_blob(&self, blob: BlobId) -> Result<Vec<u8>> {
        let b = self.repo.find_blob(blob.0).map_err(|e| {
            git_error(
                &self.git_dir,
                &format!("cannot read the blob {}", blob.0),
                &e,
            )
        })?;
        Ok(b.content().to_vec())
    }
}

/// What a tree entry is in a [`Snapshot`]: links and submodules are listed, never read; files
/// over the size limit are listed with their size; only documents, records and the like are read.
#[allow(clippy::too_many_arguments)]
pub(super) fn entry_kind(
    reader: &mut Reader<'_>,
    git_dir: &Path,
    config: &Config,
    path: &str,
    oid: Oid,
    mode: Mode,
) -> Result<EntryKind> {
    let limit = config.max_size_for(path);
    let read_err = |e: git2::Error| git_error(git_dir, &format!("cannot read `{path}`"), &e);
    Ok(match mode {
        Mode::Gitlink => EntryKind::Submodule,
        Mode::Invalid(what) => EntryKind::NotRegular { what },
        Mode::Symlink => {
            let target = reader
                .read(oid)
                .map(|b| String::from_utf8_lossy(&b.data).into_owned())
                .unwrap_or_default();
            let escapes = snapshot::link_escapes(&config.root, path, &target);
            EntryKind::Symlink { target, escapes }
        }
        Mode::File | Mode::Tree => {
            let size = match reader.size(oid) {
                Some(n) => n,
                None => reader.read(oid).map_err(read_err)?.data.len() as u64,
            };
            if size > limit {
                EntryKind::TooLarge { size }
            } else if !snapshot::wants_bytes(config, path) {
                EntryKind::File { size, bytes: None }
            } else {
                let blob = reader.read(oid).map_err(read_err)?;
                EntryKind::File {
                    size,
                    bytes: Some(Arc::from(&blob.data[..])),
                }
            }
        }
    })
}

// ------------------------------------------------------------------------------------------------
// The index (`check --staged`): the SMS as it would be committed. Every byte comes from the
// blobs the index names, never from the work tree, so unstaged edits are left out.

/// Git's index stage of an entry: 0 for a normal entry, 1-3 for the sides of a conflict.
fn index_stage(entry: &git2::IndexEntry) -> u16 {
    (entry.flags >> 12) & 0x3
}

impl Repo {
    fn index(&self) -> Result<git2::Index> {
        let mut index = self
            .repo
            .index()
            .map_err(|e| git_error(&self.git_dir, "cannot read the index", &e))?;
        // The handle may hold an index read before another process wrote it: read it afresh.
        index
            .read(true)
            .map_err(|e| git_error(&self.git_dir, "cannot read the index", &e))?;
        Ok(index)
    }

    /// The bytes of the SMS file `rel` as staged; `None` when the index has no regular file there.
    pub fn read_staged(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        let index = self.index()?;
        let full = format!("{}{rel}", self.prefix);
        let Some(entry) = index.get_path(Path::new(&full), 0) else {
            return Ok(None);
        };
        if !matches!(mode(entry.mode as i32), Mode::File) {
            return Ok(None);
        }
        self.read_blob(BlobId(entry.id)).map(Some)
    }

    /// The SMS as it is in the index (what `git commit` would commit), in the same form as
    /// [`Repo::snapshot`]. A path in conflict (stages 1-3, no stage 0) is a failure: there is no
    /// content to check until the conflict is resolved.
    pub fn staged_snapshot(&self, config: &Config) -> Result<Snapshot> {
        let index = self.index()?;
        let mut listed: Vec<(String, Oid, Mode)> = Vec::new();
        let mut conflicts: Vec<String> = Vec::new();
        for entry in index.iter() {
            let Ok(path) = std::str::from_utf8(&entry.path) else {
                continue;
            };
            let Some(rel) = path.strip_prefix(self.prefix.as_str()) else {
                continue;
            };
            if rel.is_empty() || !sms_path(config, rel) {
                continue;
            }
            if index_stage(&entry) != 0 {
                conflicts.push(rel.to_string());
                continue;
            }
            listed.push((rel.to_string(), entry.id, mode(entry.mode as i32)));
        }
        if !conflicts.is_empty() {
            conflicts.sort();
            conflicts.dedup();
            bail!(
                "the index holds unresolved merge conflicts in {}: there is nothing to check until they are resolved\nhelp: resolve them and `git add` the files",
                conflicts.join(", ")
            );
        }
        let mut entries = self.read_entries(config, &listed)?;
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Snapshot { entries })
    }
}
