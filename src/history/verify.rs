//! Re-checking a history cache against the object database before it is used (README
//! "Security"). The cache lives in the git folder of a workspace that CI runners may keep between
//! jobs, so a job of an earlier pull request could have written it. Each cache file carries a
//! digest of the inputs it was derived from (the tip commit, its tree, the commits and blobs it
//! summarises); on load that digest is recomputed, the tip's tree is compared with the object
//! database, and a random sample of entries (commits, blob summaries, document revisions) is
//! derived again from the objects and compared. Any mismatch rejects the file.
//!
//! The sample is drawn afresh on every run, so which entries are checked cannot be known in
//! advance; a cache with at most [`SAMPLE`] entries of a kind is checked in full.

use super::cache::Assembled;
use super::git::{mode, Mode};
use super::odb::{Packs, Reader};
use super::walk::{
    approval_trailers, approving_commit, co_authors, landed_authors, reach, summarise, tidy,
    trailers_of, RawCommit, RawWalk, Summary,
};
use super::{ApprovalTrailers, Trailer};
use crate::config::Config;
use git2::{Oid, Repository};
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::path::Path;

/// Entries of each kind re-derived from the objects on load.
pub(super) const SAMPLE: usize = 32;

/// The digest of what a raw walk was derived from.
pub(super) fn raw_inputs(walk: &RawWalk, tip_tree: &str) -> String {
    let mut text = format!("tip {} {} tree {tip_tree}\n", walk.tip, walk.tip_seq);
    for c in &walk.commits {
        text.push_str(&c.id);
        text.push(' ');
        text.push_str(&c.seq.to_string());
        for ch in &c.changes {
            text.push(' ');
            text.push_str(ch.new.as_deref().unwrap_or("-"));
        }
        text.push('\n');
    }
    let mut blobs: Vec<&str> = walk.blobs.keys().map(String::as_str).collect();
    blobs.sort_unstable();
    text.push_str(&blobs.join("\n"));
    super::short_hash(text.as_bytes())
}

/// The digest of what an assembled history was derived from.
pub(super) fn assembled_inputs(
    tip: &str,
    tip_tree: &str,
    commits: &[super::Commit],
    documents: &std::collections::BTreeMap<String, super::DocumentHistory>,
) -> String {
    let mut text = format!("tip {tip} tree {tip_tree}\n");
    for c in commits {
        text.push_str(&c.id);
        text.push('\n');
    }
    for (k, d) in documents {
        text.push_str(k);
        for r in &d.revisions {
            text.push_str(&format!(" {}:{}", r.commit, r.path));
        }
        for c in &d.before {
            text.push_str(&format!(" b{c}"));
        }
        text.push('\n');
    }
    super::short_hash(text.as_bytes())
}

/// The tree id of a commit, as text; `None` when it cannot be read.
pub(super) fn tree_of(repo: &Repository, commit: &str) -> Option<String> {
    let oid = Oid::from_str(commit).ok()?;
    Some(repo.find_commit(oid).ok()?.tree_id().to_string())
}

/// Up to [`SAMPLE`] of `0..n`, chosen at random for this run (all of them when `n` is small).
fn sample(n: usize) -> Vec<usize> {
    if n <= SAMPLE {
        return (0..n).collect();
    }
    let seed = std::collections::hash_map::RandomState::new();
    let mut keyed: Vec<(u64, usize)> = (0..n).map(|i| (seed.hash_one(i), i)).collect();
    keyed.sort_unstable();
    keyed.truncate(SAMPLE);
    // The newest entry is always among them: it is what a recent change would touch.
    let mut out: Vec<usize> = keyed.into_iter().map(|(_, i)| i).collect();
    if !out.contains(&(n - 1)) {
        out[0] = n - 1;
    }
    out
}

/// What a stored commit says about itself, whichever cache file it comes from.
struct Claimed<'a> {
    id: &'a str,
    author_name: &'a str,
    author_email: &'a str,
    time: i64,
    offset: i32,
    subject: &'a str,
    trailers: Vec<(String, String)>,
    contributors: &'a [String],
    approval: ApprovalTrailers,
    merge: bool,
    signature: Option<&'a super::Signature>,
}

fn email(sig: &git2::Signature<'_>) -> String {
    String::from_utf8_lossy(sig.email_bytes()).to_ascii_lowercase()
}

/// Re-derive a commit's facts from the object and compare; `Err` says what differs.
fn check_commit(
    repo: &Repository,
    keys: &crate::keys::Keyring,
    c: &Claimed<'_>,
) -> Result<(), String> {
    let bad = |what: &str| Err(format!("commit {} ({what})", c.id));
    let Some(commit) = Oid::from_str(c.id)
        .ok()
        .and_then(|o| repo.find_commit(o).ok())
    else {
        return bad("not in the repository");
    };
    let author = commit.author();
    let message = String::from_utf8_lossy(commit.message_bytes()).into_owned();
    let trailers = trailers_of(&message);
    let t = commit.time();
    if String::from_utf8_lossy(author.name_bytes()) != c.author_name
        || String::from_utf8_lossy(author.email_bytes()) != c.author_email
        || t.seconds() != c.time
        || t.offset_minutes() != c.offset
        || message.lines().next().unwrap_or("").trim() != c.subject
        || trailers != c.trailers
        || (commit.parent_count() > 1) != c.merge
    {
        return bad("author, date, message or parents");
    }
    if super::signature::of_commit(repo, &commit, keys).as_ref() != c.signature {
        return bad("signature");
    }
    let committer = email(&commit.committer());
    if !c.merge {
        let mut contributors = co_authors(&trailers);
        contributors.push(email(&author));
        tidy(&mut contributors);
        if contributors != c.contributors {
            return bad("contributors");
        }
        if approval_trailers(&trailers, &committer, &[], &contributors) != c.approval {
            return bad("approval trailers");
        }
        return Ok(());
    }
    // A merge: its landed commits need the whole graph. First what can be checked cheaply: the
    // tip of each other parent is landed unless the first parent already holds it, and its
    // author is then a contributor unless it is an approving commit; a corroboration that rests
    // on an approving commit needs the landed commits.
    let first = commit
        .parent_id(0)
        .map_err(|_| format!("commit {}", c.id))?;
    let cheap = commit.parents().skip(1).all(|p| {
        first == p.id()
            || repo.graph_descendant_of(first, p.id()).unwrap_or(false)
            || approving_commit(&p).is_some()
            || c.contributors.contains(&email(&p.author()))
    });
    let own = approval_trailers(&c.trailers, &committer, &[], c.contributors);
    if own == ApprovalTrailers::Independent && c.approval != ApprovalTrailers::Independent {
        return bad("approval trailers");
    }
    if cheap && (c.approval != ApprovalTrailers::Independent || own == c.approval) {
        return Ok(());
    }
    // Then exactly, as the walk does (reading the history behind the merge once).
    let mut seen = std::collections::HashSet::new();
    reach(repo, &mut seen, &[first], None);
    let mut landed = Vec::new();
    let others: Vec<Oid> = commit.parent_ids().skip(1).collect();
    reach(repo, &mut seen, &others, Some(&mut landed));
    let (mut contributors, approvers) = landed_authors(repo, &landed);
    contributors.extend(co_authors(&trailers));
    tidy(&mut contributors);
    let mut with_merger = contributors.clone();
    with_merger.push(email(&author));
    tidy(&mut with_merger);
    if c.contributors != contributors.as_slice() && c.contributors != with_merger.as_slice() {
        return bad("contributors");
    }
    if approval_trailers(&c.trailers, &committer, &approvers, c.contributors) != c.approval {
        return bad("approval trailers");
    }
    Ok(())
}

fn raw_claim(c: &RawCommit) -> Claimed<'_> {
    Claimed {
        id: &c.id,
        author_name: &c.author_name,
        author_email: &c.author_email,
        time: c.time,
        offset: c.offset,
        subject: &c.subject,
        trailers: c.trailers.clone(),
        contributors: &c.contributors,
        approval: c.approval_trailers,
        merge: c.merge,
        signature: c.signature.as_ref(),
    }
}

/// Check a raw walk read from the cache.
pub(super) fn raw_walk(
    repo: &Repository,
    config: &Config,
    walk: &RawWalk,
    tip_tree: &str,
    inputs: &str,
) -> Result<(), String> {
    if raw_inputs(walk, tip_tree) != inputs {
        return Err("its digest of inputs does not match its content".to_string());
    }
    if tree_of(repo, &walk.tip).as_deref() != Some(tip_tree) {
        return Err(format!(
            "its tip {} does not have the tree it records",
            walk.tip
        ));
    }
    for i in sample(walk.commits.len()) {
        check_commit(repo, &config.keyring, &raw_claim(&walk.commits[i]))?;
    }
    // Blob summaries, each with a path that held it (roles and record kinds follow the path).
    let mut paths: HashMap<&str, &str> = HashMap::new();
    for c in &walk.commits {
        for ch in &c.changes {
            if let Some(n) = &ch.new {
                paths.entry(n.as_str()).or_insert(ch.path.as_str());
            }
        }
    }
    let mut keys: Vec<&String> = walk.blobs.keys().collect();
    keys.sort_unstable();
    let packs = Packs::open(repo.commondir());
    let mut reader = Reader::new(&packs, repo, 4 << 20);
    for i in sample(keys.len()) {
        let key = keys[i];
        let oid = key.get(2..).unwrap_or("");
        let Some(path) = paths.get(oid) else {
            continue; // kept from a rewritten history: no longer used by any change
        };
        if super::walk::blob_key(config, path, oid) != *key {
            return Err(format!("the summary of blob {oid} has the wrong role"));
        }
        let Ok(id) = Oid::from_str(oid) else {
            return Err(format!("the blob id {oid} is not valid"));
        };
        let fresh = summarise(&mut reader, repo.path(), config, id, path)
            .map_err(|_| format!("blob {oid} cannot be read"))?;
        if Some(&fresh) != walk.blobs.get(key.as_str()) {
            return Err(format!("the summary of blob {oid} (`{path}`) differs"));
        }
    }
    Ok(())
}

/// Check an assembled history read from the cache.
pub(super) fn assembled(
    repo: &Repository,
    config: &Config,
    prefix: &str,
    a: &Assembled,
) -> Result<(), String> {
    if assembled_inputs(&a.tip, &a.tip_tree, &a.commits, &a.documents) != a.inputs {
        return Err("its digest of inputs does not match its content".to_string());
    }
    if tree_of(repo, &a.tip).as_deref() != Some(a.tip_tree.as_str()) {
        return Err(format!(
            "its tip {} does not have the tree it records",
            a.tip
        ));
    }
    for i in sample(a.commits.len()) {
        let c = &a.commits[i];
        let trailers: Vec<(String, String)> = c
            .trailers
            .iter()
            .map(|Trailer { key, value }| (key.clone(), value.clone()))
            .collect();
        check_commit(
            repo,
            &config.keyring,
            &Claimed {
                id: &c.id,
                author_name: &c.author_name,
                author_email: &c.author_email,
                time: c.time,
                offset: c.offset_minutes,
                subject: &c.subject,
                trailers,
                contributors: &c.contributors,
                approval: c.approval_trailers,
                merge: c.merge,
                signature: c.signature.as_ref(),
            },
        )?;
    }
    // Document revisions: the file at that commit says what the revision says.
    let revisions: Vec<(&str, &super::DocumentRevision)> = a
        .documents
        .iter()
        .flat_map(|(k, d)| d.revisions.iter().map(move |r| (k.as_str(), r)))
        .filter(|(_, r)| !r.deleted)
        .collect();
    let packs = Packs::open(repo.commondir());
    let mut reader = Reader::new(&packs, repo, 4 << 20);
    for i in sample(revisions.len()) {
        let (key, r) = revisions[i];
        let bad = || Err(format!("the revision of {key} in `{}` differs", r.path));
        let Some(commit) = a.commits.get(r.commit) else {
            return bad();
        };
        let blob = Oid::from_str(&commit.id)
            .ok()
            .and_then(|o| repo.find_commit(o).ok())
            .and_then(|c| c.tree().ok())
            .and_then(|t| t.get_path(Path::new(&format!("{prefix}{}", r.path))).ok())
            .filter(|e| matches!(mode(e.filemode()), Mode::File))
            .map(|e| e.id());
        let Some(blob) = blob else { return bad() };
        let Ok(Summary::Document(s)) = summarise(&mut reader, repo.path(), config, blob, &r.path)
        else {
            return bad();
        };
        let same = crate::ids::key(&s.id) == key
            && s.version == r.version
            && s.status.as_deref() == r.status.map(crate::source::Status::as_str)
            && s.approved
                .as_deref()
                .and_then(|t| crate::dates::parse_date(t).ok())
                == r.approved
            && s.approver == r.approver
            && s.clauses == r.clauses
            && s.provides == r.provides
            && s.controlled == r.controlled
            && s.text == r.text;
        if !same {
            return bad();
        }
    }
    Ok(())
}
