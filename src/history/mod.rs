//! `history`: what git knows about the SMS — per document its revisions (version, status, approval,
//! author, commit), per record when it was first committed and how it changed since, HEAD, the
//! files that differ from HEAD, and whether the clone is shallow.
//!
//! Design (DESIGN "Semantics", History): ONE walk of the first-parent chain of HEAD; each commit is
//! compared with its first parent by a tree-to-tree diff restricted to the SMS sub-tree, skipped at
//! once when that sub-tree's id is unchanged. Diffs of different commits are independent, so they
//! run on all cores (each worker opens its own handle on the repository). Changed blobs are parsed
//! with the same `source` parsers as the work tree, memoised by blob id. Documents and records are
//! identified by `id`, not by path; git rename detection is used only for files without an id. The
//! raw result of the walk is cached under the git folder (`auditbook/`), keyed by the commit it
//! reaches, so a later run walks only the commits that are new.
//!
//! No git2 type leaves this module: [`Repo`] wraps the handle, everything else is plain data.

mod assemble;
mod at;
mod base;
mod cache;
mod git;
mod graph;
mod odb;
mod rope;
mod rows;
pub mod rules;
mod signature;
mod verify;
mod walk;

use crate::config::{ApprovalLevel, Config, FILE_NAME};
use crate::diag::Diagnostic;
use crate::model::{Effective, EffectiveVersions};
use crate::snapshot::Snapshot;
use crate::source::{Document, Sources, Status};
use crate::yaml::Pos;
use anyhow::Result;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use at::AtCommit;
pub use base::MergeBase;
pub use git::{BlobId, CommittedFile, CommittedTree, Repo};
pub use signature::{Signature, SignedTag};

/// What could be read of the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// The whole first-parent chain of HEAD was read.
    Complete,
    /// A shallow clone: older history is missing, so no revision list was read.
    Shallow,
    /// A repository without any commit yet.
    NoCommits,
}

/// The commit HEAD points at.
#[derive(Debug, Clone)]
pub struct Head {
    pub commit: String,
    /// Committer time (seconds since the epoch) and its own UTC offset.
    pub time: i64,
    pub offset_minutes: i32,
    /// The committer date in the commit's own offset.
    pub date: Date,
    pub subject: String,
    /// `None` when HEAD is detached.
    pub branch: Option<String>,
}

/// A commit of the first-parent chain of HEAD that changed SMS documents or records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Commit {
    pub id: String,
    pub author_name: String,
    pub author_email: String,
    /// Committer time and its own offset; rule dates use [`Commit::date`].
    pub time: i64,
    pub offset_minutes: i32,
    #[serde(with = "serde_date")]
    pub date: Date,
    pub subject: String,
    /// `Approved-by:`, `Reviewed-by:` and `Co-authored-by:` trailers, in message order.
    pub trailers: Vec<Trailer>,
    /// Lower-case e-mails of everyone who contributed: the author, co-authors, and for a merge
    /// the authors (and co-authors) of the commits it lands.
    pub contributors: Vec<String>,
    /// Who wrote the `Approved-by:` / `Reviewed-by:` trailers that vouch for this landing.
    pub approval_trailers: ApprovalTrailers,
    pub merge: bool,
    /// At or before `history.baseline`: exempt from approval-date and back-dating rules.
    pub imported: bool,
    /// The commit's signature, verified (`None`: not signed).
    pub signature: Option<Signature>,
}

impl Commit {
    pub fn short(&self) -> &str {
        self.id.get(..7).unwrap_or(&self.id)
    }
}

/// What the approval trailers of a landing are worth (README "Approval evidence"). A trailer is
/// a claim made by whoever wrote the commit message — git records that person as the committer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ApprovalTrailers {
    /// No `Approved-by:` or `Reviewed-by:` trailer.
    #[default]
    None,
    /// Trailers written only by authors of the changes they approve: a claim, no more.
    ByAuthor,
    /// A trailer written by someone who is not an author of the changes: the committer of the
    /// landing merge or squash (the hosting platform, the approver), or a separate approving
    /// commit by the approver on the landed branch. It corroborates the approval.
    Independent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trailer {
    pub key: String,
    pub value: String,
}

/// The revisions of one document, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocumentHistory {
    pub id: String,
    pub revisions: Vec<DocumentRevision>,
    /// Before control: the commits (indexes into [`History::commits`], oldest first) that
    /// changed the file before the first commit in which it had frontmatter with this id,
    /// followed through git renames as files without an id are. Context for a document
    /// adopted with years of history (README "Before control"), never evidence of approval.
    #[serde(default)]
    pub before: Vec<usize>,
}

/// A first-parent commit in which the file holding a document changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocumentRevision {
    /// Index into [`History::commits`].
    pub commit: usize,
    /// SMS-relative path of the file in this commit (the last path when `deleted`).
    pub path: String,
    /// The file no longer holds the document after this commit.
    pub deleted: bool,
    pub version: Option<String>,
    #[serde(with = "serde_status")]
    pub status: Option<Status>,
    #[serde(with = "serde_opt_date")]
    pub approved: Option<Date>,
    pub approver: Option<String>,
    pub clauses: Vec<String>,
    pub provides: Vec<String>,
    /// Hash of the controlled content (body normalised, plus title, type, version, status,
    /// approved, approver, clauses, review, provides).
    pub controlled: String,
    /// Hash of the text alone (the controlled content less status, approved and approver).
    pub text: String,
}

impl DocumentRevision {
    pub fn is_approved(&self) -> bool {
        !self.deleted && self.status == Some(Status::Approved)
    }
}

impl DocumentHistory {
    /// The effective version: the last approved revision on first-parent history.
    pub fn effective(&self) -> Option<usize> {
        self.revisions.iter().rposition(|r| r.is_approved())
    }

    /// Where the effective version landed: the first of the run of approved revisions with the
    /// effective version that ends at it.
    pub fn landing(&self) -> Option<usize> {
        let e = self.effective()?;
        let version = &self.revisions[e].version;
        let mut first = e;
        while first > 0 {
            let prev = &self.revisions[first - 1];
            if prev.is_approved() && &prev.version == version {
                first -= 1;
            } else {
                break;
            }
        }
        Some(first)
    }

    /// The last revision (the last change of the document).
    pub fn last(&self) -> Option<&DocumentRevision> {
        self.revisions.last()
    }
}

/// How a record changed after it was first committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordEvent {
    /// Some field other than id, date or kind changed.
    Edited,
    Moved {
        from: String,
        to: String,
    },
    IdChanged {
        from: String,
        to: String,
    },
    DateChanged {
        #[serde(with = "serde_opt_date")]
        from: Option<Date>,
        #[serde(with = "serde_opt_date")]
        to: Option<Date>,
    },
    KindChanged {
        from: String,
        to: String,
    },
    Deleted,
    /// Added again after a deletion.
    Restored,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordChange {
    /// Index into [`History::commits`].
    pub commit: usize,
    pub event: RecordEvent,
}

/// The history of one record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordHistory {
    /// The current id (after any id change).
    pub id: String,
    /// Kind and date as first committed.
    pub kind: String,
    #[serde(with = "serde_opt_date")]
    pub date: Option<Date>,
    /// The commit that first added it.
    pub first: usize,
    /// SMS-relative path of the file that holds it (held it, when deleted).
    pub path: String,
    pub changes: Vec<RecordChange>,
    /// The commit that deleted it, when it is not in HEAD.
    pub deleted: Option<usize>,
}

/// The history of a document or record file without an id (followed through git renames).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileHistory {
    /// Indexes into [`History::commits`].
    pub commits: Vec<usize>,
    /// Earlier paths, oldest first.
    pub renamed_from: Vec<String>,
}

/// Everything read from git about the SMS.
#[derive(Debug, Clone)]
pub struct History {
    /// The SMS root relative to the repository's work tree, `/`-separated, `""` at the top.
    pub prefix: String,
    pub state: State,
    pub head: Option<Head>,
    /// First-parent commits that changed documents or records, oldest first (empty unless
    /// `state` is `Complete`).
    pub commits: Vec<Commit>,
    /// By lower-case document id.
    pub documents: BTreeMap<String, DocumentHistory>,
    /// By lower-case record id.
    pub records: BTreeMap<String, RecordHistory>,
    /// Files without an id, by current SMS-relative path.
    pub files: BTreeMap<String, FileHistory>,
    /// SMS-relative paths whose work-tree content differs from HEAD (untracked files included;
    /// the output folder and hidden files excluded), sorted.
    pub dirty: Vec<String>,
    /// SMS-relative paths outside a sparse checkout (the index's skip-worktree bit set, absent
    /// from the work tree), sorted: not changes; the work tree is read from HEAD for them.
    pub sparse: Vec<String>,
    /// Signed annotated tags on the commits of [`History::commits`], by commit id (verified on
    /// every run: tags move independently of commits).
    pub tags: BTreeMap<String, Vec<SignedTag>>,
    /// Commits read from the cache and walked in this run.
    pub stats: WalkStats,
    /// The raw walk this history was assembled from, kept so that `check --base` can assemble
    /// the history at the base without reading the cache again (see `base.rs`).
    raw: Option<std::sync::Arc<walk::RawWalk>>,
}

/// Dates in the history cache: (year, month, day).
mod serde_date {
    use jiff::civil::Date;
    use serde::{de::Error, Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        (d.year(), d.month(), d.day()).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let (y, m, day) = <(i16, i8, i8)>::deserialize(d)?;
        Date::new(y, m, day).map_err(D::Error::custom)
    }
}

mod serde_opt_date {
    use jiff::civil::Date;
    use serde::{de::Error, Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        d.map(|d| (d.year(), d.month(), d.day())).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        Option::<(i16, i8, i8)>::deserialize(d)?
            .map(|(y, m, day)| Date::new(y, m, day).map_err(D::Error::custom))
            .transpose()
    }
}

/// Document statuses in the history cache, by their frontmatter word.
mod serde_status {
    use crate::source::Status;
    use serde::{de::Error, Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(st: &Option<Status>, s: S) -> Result<S::Ok, S::Error> {
        st.map(|st| st.as_str()).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Status>, D::Error> {
        let Some(word) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        [
            Status::Draft,
            Status::InReview,
            Status::Approved,
            Status::Retired,
        ]
        .into_iter()
        .find(|st| st.as_str() == word)
        .map(Some)
        .ok_or_else(|| D::Error::custom(format!("unknown status `{word}`")))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalkStats {
    pub cached_commits: usize,
    pub walked_commits: usize,
    pub parsed_blobs: usize,
}

impl History {
    pub fn document(&self, id: &str) -> Option<&DocumentHistory> {
        self.documents.get(&crate::ids::key(id))
    }

    pub fn record(&self, id: &str) -> Option<&RecordHistory> {
        self.records.get(&crate::ids::key(id))
    }

    /// Whether the work-tree copy of an SMS file differs from HEAD.
    pub fn is_dirty(&self, path: &str) -> bool {
        self.dirty
            .binary_search_by(|p| p.as_str().cmp(path))
            .is_ok()
    }

    /// The effective approved version of every work-tree document that is a revision in progress
    /// (draft or in review) and has an approved revision in history: it still covers its clauses.
    pub fn effective_versions(&self, sources: &Sources) -> EffectiveVersions {
        let mut out = EffectiveVersions::new();
        for d in &sources.documents {
            if !matches!(d.status, Status::Draft | Status::InReview) {
                continue;
            }
            let Some(h) = self.document(&d.id) else {
                continue;
            };
            let Some(e) = h.effective() else { continue };
            let r = &h.revisions[e];
            out.insert(
                crate::ids::key(&d.id),
                Effective {
                    version: r.version.clone(),
                    approved: r.approved,
                    clauses: r.clauses.clone(),
                    provides: r.provides.clone(),
                    controls: None,
                    commit: self.commits[r.commit].id.clone(),
                    path: r.path.clone(),
                },
            );
        }
        out
    }
}

/// How the approval of a version is evidenced by its landing commit (README "Approval evidence").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub level: ApprovalLevel,
    /// For [`ApprovalLevel::Signed`]: what carries the approver's signature (`commit`, or
    /// `tag v2.0`) and the key's fingerprint.
    pub signed: Option<(String, String)>,
}

impl Evidence {
    /// The words of the site's version table.
    pub fn label(&self, trailers: ApprovalTrailers) -> String {
        match (&self.signed, self.level) {
            (Some((by, fingerprint)), _) => format!("signed ({by}, key {fingerprint})"),
            (None, ApprovalLevel::Trailer) => "corroborated".to_string(),
            (None, ApprovalLevel::Signed | ApprovalLevel::Claimed) => match trailers {
                ApprovalTrailers::ByAuthor => "claimed (trailer by the author)".to_string(),
                ApprovalTrailers::None | ApprovalTrailers::Independent => "claimed".to_string(),
            },
        }
    }
}

impl History {
    /// The evidence that `approver` (the frontmatter's text: a person id, or a name) approved
    /// the version `commit` landed: signed when the commit, or a signed annotated tag on it,
    /// carries a good signature by the approver's key; trailer when an approval trailer was
    /// written by someone other than the authors; claimed otherwise.
    pub fn evidence(&self, commit: &Commit, approver: Option<&str>, config: &Config) -> Evidence {
        let by_approver = |s: &Signature| {
            let (Some((signer, person)), Some(approver)) = (s.good_signer(), approver) else {
                return false;
            };
            person == Some(approver)
                || signer == approver
                || config
                    .person(approver)
                    .is_some_and(|p| p.emails.contains(&signer.to_ascii_lowercase()))
        };
        let fingerprint = |s: &Signature| match s {
            Signature::Good { fingerprint, .. } => fingerprint.clone(),
            Signature::Bad { .. }
            | Signature::UnknownKey { .. }
            | Signature::Expired { .. }
            | Signature::Unverifiable { .. } => String::new(),
        };
        let signed = commit
            .signature
            .as_ref()
            .filter(|s| by_approver(s))
            .map(|s| ("commit".to_string(), fingerprint(s)))
            .or_else(|| {
                self.tags.get(&commit.id).and_then(|tags| {
                    tags.iter()
                        .find(|t| by_approver(&t.signature))
                        .map(|t| (format!("tag {}", t.name), fingerprint(&t.signature)))
                })
            });
        let level = if signed.is_some() {
            ApprovalLevel::Signed
        } else if commit.approval_trailers == ApprovalTrailers::Independent {
            ApprovalLevel::Trailer
        } else {
            ApprovalLevel::Claimed
        };
        Evidence { level, signed }
    }
}

/// The result of reading the history for `check`.
pub struct HistoryLoad {
    pub history: Option<History>,
    /// `shallow-clone` / `no-git-history`: errors under `--require-history`.
    pub notices: Vec<Diagnostic>,
    /// Other findings made while reading (uncommitted changes, an unusable baseline).
    pub findings: Vec<Diagnostic>,
}

/// Read the history of the SMS at `config.root`: `history` is `None` outside git.
pub fn load(config: &Config) -> Result<HistoryLoad> {
    let Some(repo) = Repo::open(&config.root)? else {
        return Ok(HistoryLoad {
            history: None,
            // No path in the message: outputs never depend on where the SMS sits on disk.
            notices: vec![no_git(
                "the SMS is not in a git repository: document history, approvals and record dates were not checked"
                    .to_string(),
            )],
            findings: Vec::new(),
        });
    };
    let mut findings = Vec::new();
    let history = repo.read(config, &mut findings)?;
    let mut notices = Vec::new();
    match history.state {
        State::Complete => {}
        State::Shallow => notices.push(
            Diagnostic::new(
                "shallow-clone",
                "repository",
                "this is a shallow clone: the history of documents and records is incomplete, so the history rules were skipped; effective versions approved before the cut are unknown too, so documents in revision may lose their coverage and review rules (`review-overdue`) are incomplete",
            )
            .at(FILE_NAME, Pos::new(1, 1)),
        ),
        State::NoCommits => notices.push(no_git(
            "the git repository has no commits yet: there is no history to check".to_string(),
        )),
    }
    if !history.dirty.is_empty() {
        findings.push(uncommitted(&history.dirty));
    }
    if repo.has_grafts() && history.state == State::Complete {
        findings.push(
            Diagnostic::new(
                "git-grafts",
                "repository",
                "the repository has a grafts file (`info/grafts` in the git folder): the history was read with the grafted parents, which differ from what the commits record",
            )
            .at(FILE_NAME, Pos::new(1, 1)),
        );
    }
    Ok(HistoryLoad {
        history: Some(history),
        notices,
        findings,
    })
}

/// [`load`] for `--at`: the history as it stood at `commit` (its first-parent chain only). The
/// cache is read, never written, so HEAD's cache is neither changed nor taken for this one.
pub fn load_at(config: &Config, repo: &Repo, commit: &str) -> Result<HistoryLoad> {
    let mut findings = Vec::new();
    let history = repo.history_at(config, commit, None, &mut findings)?;
    let mut notices = Vec::new();
    if history.state == State::Shallow {
        notices.push(
            Diagnostic::new(
                "shallow-clone",
                "repository",
                "this is a shallow clone: the history of documents and records is incomplete, so the history rules were skipped; effective versions approved before the cut are unknown too, so documents in revision may lose their coverage and review rules (`review-overdue`) are incomplete",
            )
            .at(FILE_NAME, Pos::new(1, 1)),
        );
    }
    Ok(HistoryLoad {
        history: Some(history),
        notices,
        findings,
    })
}

fn no_git(message: String) -> Diagnostic {
    Diagnostic::new("no-git-history", "repository", message).at(FILE_NAME, Pos::new(1, 1))
}

/// The `uncommitted-changes` finding for the SMS files that differ from HEAD (`serve` makes it
/// again when an edit changes the list).
pub fn uncommitted(dirty: &[String]) -> Diagnostic {
    let shown: Vec<&str> = dirty.iter().take(5).map(String::as_str).collect();
    let more = if dirty.len() > shown.len() {
        format!(" and {} more", dirty.len() - shown.len())
    } else {
        String::new()
    };
    Diagnostic::new(
        "uncommitted-changes",
        "work-tree",
        format!(
            "{} SMS file{} differ{} from HEAD: {}{more}; this run is a DRAFT",
            dirty.len(),
            if dirty.len() == 1 { "" } else { "s" },
            if dirty.len() == 1 { "s" } else { "" },
            shown.join(", ")
        ),
    )
    .at(FILE_NAME, Pos::new(1, 1))
}

/// A snapshot of the SMS as it is in the git revision `rev` (a commit id, branch, tag…), in the
/// same form as [`crate::snapshot::from_work_tree`].
pub fn snapshot(config: &Config, rev: &str) -> Result<Snapshot> {
    match Repo::open(&config.root)? {
        Some(repo) => repo.snapshot(config, rev),
        None => anyhow::bail!(
            "`{}` is not in a git repository, so there is no revision `{rev}` to read",
            config.root.display()
        ),
    }
}

/// Hashes of a document's controlled content and of its text (see [`DocumentRevision`]).
pub fn content_hashes(doc: &Document) -> (String, String) {
    use sha2::{Digest, Sha256};
    let body = normalise_body(&doc.body);
    // The controlled content is the text followed by status, approved and approver: one
    // SHA-256 pass over the text, its state cloned for the text's own hash, then continued with
    // the rest, instead of hashing the body twice (SHA-256 of past versions was 4-6 % of a cold
    // check on the large benchmark). The fields go to the hasher as they are, without being
    // joined into one string first.
    let mut h = Sha256::new();
    let mut field = |k: &str, v: &str| {
        h.update(k.as_bytes());
        h.update([0u8]);
        h.update(v.as_bytes());
        h.update([1u8]);
    };
    field("title", &doc.title);
    field("type", doc.doc_type.as_deref().unwrap_or(""));
    field(
        "version",
        doc.version.as_ref().map_or("", |v| v.text.as_str()),
    );
    let clauses: Vec<&str> = doc.clauses.iter().map(|c| c.id.as_str()).collect();
    field("clauses", &clauses.join("\u{2}"));
    field(
        "review",
        &doc.review.map(|r| r.to_string()).unwrap_or_default(),
    );
    let provides: Vec<&str> = doc.provides.iter().map(|p| p.text.as_str()).collect();
    field("provides", &provides.join("\u{2}"));
    // `derives` is controlled content only when present, so documents without it hash as before.
    if !doc.derives.is_empty() {
        let derives: Vec<&str> = doc.derives.iter().map(|p| p.text.as_str()).collect();
        field("derives", &derives.join("\u{2}"));
    }
    // Only a Statement of Applicability has a `controls:` table; other documents hash as before.
    if let Some((_, c)) = &doc.controls {
        field("controls", &c.canonical());
    }
    field("body", &body);
    let text_hash = short_hex(&h.clone().finalize());
    h.update("status\u{0}".as_bytes());
    h.update(doc.status.as_str().as_bytes());
    h.update("\u{1}approved\u{0}".as_bytes());
    if let Some(a) = doc.approved {
        h.update(a.to_string().as_bytes());
    }
    h.update("\u{1}approver\u{0}".as_bytes());
    if let Some(a) = &doc.approver {
        h.update(a.text.as_bytes());
    }
    (short_hex(&h.finalize()), text_hash)
}

/// Line endings, trailing whitespace and the final newline normalised.
fn normalise_body(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    for line in body.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let trimmed = out.trim_end_matches('\n').len();
    out.truncate(trimmed);
    out.push('\n');
    out
}

/// The first 16 bytes of the SHA-256 of `bytes`.
fn short_digest(bytes: &[u8]) -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(bytes);
    let mut out = [0u8; 16];
    out.copy_from_slice(&d[..16]);
    out
}

/// [`short_digest`] in lower-case hex.
fn short_hash(bytes: &[u8]) -> String {
    short_hex(&short_digest(bytes))
}

/// Lower-case hex of the first 16 bytes of a digest, without a `format!` a byte (a cold walk
/// hashes every row of every export).
fn short_hex(d: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(32);
    for b in d.iter().take(16) {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

/// Where the cache lives for a git folder.
pub fn cache_dir(git_dir: &Path) -> PathBuf {
    git_dir.join("auditbook")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first 16 bytes of SHA-256 in lower-case hex (`printf abc | sha256sum`).
    #[test]
    fn short_hash_is_half_of_sha256_in_hex() {
        assert_eq!(short_hash(b"abc"), "ba7816bf8f01cfea414140de5dae2223");
        assert_eq!(short_hash(b""), "e3b0c44298fc1c149afbf4c8996fb924");
    }

    #[test]
    fn uncommitted_names_five_files_and_counts_the_rest() {
        let dirty: Vec<String> = (1..=7).map(|i| format!("d{i}.md")).collect();
        assert_eq!(
            uncommitted(&dirty).message,
            "7 SMS files differ from HEAD: d1.md, d2.md, d3.md, d4.md, d5.md and 2 more; this run is a DRAFT"
        );
        assert_eq!(
            uncommitted(&dirty[..1]).message,
            "1 SMS file differs from HEAD: d1.md; this run is a DRAFT"
        );
    }

    fn hashes_of(extra: &str) -> (String, String) {
        let config = crate::config::parse(
            Path::new("/s"),
            "organisation: A\nscope: B\nframework: iso20000-1:2018\n",
        )
        .unwrap()
        .0;
        let text = format!("---\nid: POL-A\ntitle: A\ntype: policy\nowner: x\napprover: y\nversion: \"1.0\"\nstatus: approved\napproved: 2026-01-05\nclauses: [\"8.5.1\"]\n{extra}---\n# A\n");
        let mut diags = Vec::new();
        let doc = crate::source::parse_document(&config, "policies/a.md", &text, &mut diags)
            .expect("a document");
        assert!(diags.is_empty(), "{diags:?}");
        content_hashes(&doc)
    }

    /// A document without `derives` hashes as it did before the key existed (the history cache
    /// and every `changed-after-approval` judgement depend on it); one with it does not.
    #[test]
    fn derives_is_controlled_content_only_when_present() {
        let plain = hashes_of("");
        assert_eq!(plain.0, "b08389952e6f470fedb4d7c06c426d92");
        // The text's hash: SHA-256 of the fields joined as the controlled content is, less
        // status, approved and approver (computed outside, with Python's hashlib).
        assert_eq!(plain.1, "b16522a10067378adbb509116bafaab6");
        assert_eq!(hashes_of("derives: []\n"), plain);
        let with = hashes_of("derives: [POL-B]\n");
        assert_ne!(with.0, plain.0);
        assert_ne!(with.1, plain.1);
        assert_ne!(hashes_of("derives: [POL-C]\n"), with);
    }

    #[test]
    fn body_normalisation_ignores_trailing_space_and_final_newlines() {
        assert_eq!(normalise_body("a  \nb\t\n\n\n"), "a\nb\n");
        assert_eq!(normalise_body("a\nb"), "a\nb\n");
        assert_eq!(normalise_body(""), "\n");
    }
}
