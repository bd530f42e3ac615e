//! The parse memo: what [`source::parse_file`] made of each document and YAML record file of the
//! work tree, with the file's bytes, kept beside the history cache
//! (`.git/auditbook/parsed.msgpack`), so that a run over unchanged files neither reads nor parses
//! them again. Outside git there is no memo (auditbook never writes into the SMS sources).
//!
//! Each entry holds a file's path, its stamp (size, modification and change times, inode: see
//! `snapshot::Stamp`), the SHA-256 of its bytes, the bytes, and the stored form of its parse. A
//! listed file whose stamp equals the entry's, and was not written so shortly before the listing
//! that wrote the memo that a second write could share the stamp (`Stamp::racy`), is taken from
//! the memo as it is (git trusts its index the same way). Any other file is read; when its bytes
//! hash to the entry's digest (a `touch`, a checkout of the same content) the stored parse is
//! used, else it is parsed. The whole memo is keyed by what a parse depends on (the memo format,
//! the auditbook version and this binary, the loaded `sms.yaml`): another configuration misses it.
//!
//! The memo is trusted no more than the history cache (README "Security"): a file that is
//! truncated, corrupt (its CRC-32 trailer does not match) or made for other inputs is ignored;
//! and on every run a random sample of the entries used is read again from the work tree and
//! parsed, and compared byte for byte with the stored bytes and parse. A mismatch discards the
//! whole memo (`history-cache-rejected`): every file is read and parsed afresh. The memo is
//! rewritten only when an entry was added, changed or dropped, and holds only the files of the
//! current work tree.
//!
//! Not memoised (read and parsed on every run, as without a memo): tabular record files (CSV,
//! JSON), framework and mapping files, attachments, and anything that is not a regular file
//! within the size limit.

use crate::config::Config;
use crate::diag::{Diagnostic, Severity};
use crate::fields::Spanned;
use crate::markdown::Body;
use crate::record_fields::Fields;
use crate::snapshot::{self, Entry, EntryKind, Listed, Role, Snapshot, Stamp};
use crate::source::{self, ClauseRef, Document, FileParse, Record, Sources, Status};
use crate::yaml::{Node, Pos};
use anyhow::Result;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::path::PathBuf;
use std::sync::Arc;

/// The memo's file name in the cache folder (`history::cache_dir`).
pub const FILE: &str = "parsed.msgpack";
const MAGIC: &[u8] = b"auditbook parse memo\n";
/// Bump when the layout, the wire types below or what `source::parse_file` makes of a file change
/// in a way the binary's identity does not capture.
const FORMAT: u32 = 2;
/// How many of the entries used are checked against the work tree on each run (all when fewer).
const SAMPLE: usize = 32;

type Digest = [u8; 32];

/// A memo loaded for one run: the stored entries (sorted by path) and where to write it back.
pub struct Memo {
    dir: PathBuf,
    key: Digest,
    /// When the run that wrote the memo listed the work tree (ns since the epoch).
    listed_ns: i128,
    bytes: Vec<u8>,
    entries: Vec<Stored>,
}

/// One entry, as byte ranges of [`Memo::bytes`].
#[derive(Clone, Copy)]
struct Stored {
    path: (usize, usize),
    stamp: Stamp,
    digest: usize,
    raw: (usize, usize),
    value: (usize, usize),
}

impl Memo {
    /// The memo for the SMS at `config.root`: `None` outside git. A missing, unreadable or
    /// foreign memo file gives an empty memo (written at the end of the run).
    pub fn open(config: &Config) -> Option<Memo> {
        let repo = crate::history::Repo::open(&config.root).ok()??;
        let dir = crate::history::cache_dir(repo.git_dir());
        let key = key_of(config);
        let mut memo = Memo {
            dir,
            key,
            listed_ns: 0,
            bytes: Vec::new(),
            entries: Vec::new(),
        };
        if let Ok(bytes) = std::fs::read(memo.dir.join(FILE)) {
            if let Some((listed_ns, entries)) = read_table(&bytes, &key) {
                memo.listed_ns = listed_ns;
                memo.bytes = bytes;
                memo.entries = entries;
            }
        }
        Some(memo)
    }

    fn find(&self, path: &str) -> Option<usize> {
        self.entries
            .binary_search_by(|s| self.bytes[s.path.0..s.path.1].cmp(path.as_bytes()))
            .ok()
    }

    fn digest(&self, i: usize) -> &Digest {
        let at = self.entries[i].digest;
        self.bytes[at..at + 32].try_into().unwrap_or(&[0; 32])
    }

    fn raw(&self, i: usize) -> &[u8] {
        let (a, b) = self.entries[i].raw;
        &self.bytes[a..b]
    }

    fn value(&self, i: usize) -> &[u8] {
        let (a, b) = self.entries[i].value;
        &self.bytes[a..b]
    }

    /// The entry of a listed file whose stamp proves it unchanged since the memo was written.
    fn unchanged(&self, listed: &Listed) -> Option<usize> {
        let i = self.find(&listed.path)?;
        (self.entries[i].stamp == listed.stamp && !listed.stamp.racy(self.listed_ns)).then_some(i)
    }

    /// The entry for `path` whose bytes hash to `digest`.
    fn same_bytes(&self, path: &str, digest: &Digest) -> Option<usize> {
        self.find(path).filter(|&i| self.digest(i) == digest)
    }
}

/// What a parse depends on besides the file: the memo format, the auditbook version and this
/// very binary (its size and modification time, so a rebuilt binary never trusts an older one's
/// results), and the configuration as loaded.
fn key_of(config: &Config) -> Digest {
    let mut h = Sha256::new();
    h.update(MAGIC);
    h.update(FORMAT.to_le_bytes());
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update([0]);
    if let Some(meta) = std::env::current_exe()
        .ok()
        .and_then(|p| std::fs::metadata(p).ok())
    {
        h.update(meta.len().to_le_bytes());
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        h.update(mtime.to_le_bytes());
    }
    h.update(format!("{config:?}").as_bytes());
    h.finalize().into()
}

/// The listing time and entry table of a memo file made for `key`; `None` when it is not one
/// (another format or inputs, truncated, corrupt).
fn read_table(bytes: &[u8], key: &Digest) -> Option<(i128, Vec<Stored>)> {
    let body_len = bytes.len().checked_sub(4)?;
    let (body, trailer) = bytes.split_at(body_len);
    let mut at = 0usize;
    let mut take = |n: usize| -> Option<(usize, usize)> {
        let end = at.checked_add(n).filter(|&e| e <= body.len())?;
        let range = (at, end);
        at = end;
        Some(range)
    };
    let magic = take(MAGIC.len())?;
    if &body[magic.0..magic.1] != MAGIC {
        return None;
    }
    let u32_at = |r: (usize, usize)| -> Option<usize> {
        Some(u32::from_le_bytes(body[r.0..r.1].try_into().ok()?) as usize)
    };
    let u64_at = |r: (usize, usize)| -> Option<u64> {
        Some(u64::from_le_bytes(body[r.0..r.1].try_into().ok()?))
    };
    let i128_at = |r: (usize, usize)| -> Option<i128> {
        Some(i128::from_le_bytes(body[r.0..r.1].try_into().ok()?))
    };
    if u32_at(take(4)?)? != FORMAT as usize {
        return None;
    }
    let k = take(32)?;
    if &body[k.0..k.1] != key {
        return None;
    }
    if crc32fast::hash(body).to_le_bytes()[..] != trailer[..] {
        return None;
    }
    let listed_ns = i128_at(take(16)?)?;
    let count = u32_at(take(4)?)?;
    let mut entries = Vec::with_capacity(count.min(body.len() / 128));
    for _ in 0..count {
        let path_len = u32_at(take(4)?)?;
        let path = take(path_len)?;
        let stamp = Stamp {
            size: u64_at(take(8)?)?,
            modified_ns: i128_at(take(16)?)?,
            changed_ns: i128_at(take(16)?)?,
            inode: u64_at(take(8)?)?,
        };
        let digest = take(32)?.0;
        let raw_len = u32_at(take(4)?)?;
        let raw = take(raw_len)?;
        let value_len = u32_at(take(4)?)?;
        let value = take(value_len)?;
        entries.push(Stored {
            path,
            stamp,
            digest,
            raw,
            value,
        });
    }
    if at != body.len() {
        return None;
    }
    // Sorted and unique, as written: the lookup relies on it.
    let sorted = entries
        .windows(2)
        .all(|w| body[w[0].path.0..w[0].path.1] < body[w[1].path.0..w[1].path.1]);
    sorted.then_some((listed_ns, entries))
}

/// Whether a listed file's parse is memoised: a regular document or YAML record file within the
/// size limit.
fn eligible_listed(config: &Config, l: &Listed) -> bool {
    l.file_type.is_file()
        && l.size <= config.max_size_for(&l.path)
        && memoised_role(config, &l.path)
}

fn memoised_role(config: &Config, path: &str) -> bool {
    match snapshot::role(config, path) {
        Role::Document => true,
        Role::Record => crate::tabular::Format::of(path).is_none(),
        Role::Config | Role::Framework | Role::Mapping | Role::Other => false,
    }
}

/// The bytes of a snapshot entry whose parse is memoised.
fn eligible<'e>(config: &Config, entry: &'e Entry) -> Option<&'e Arc<[u8]>> {
    match &entry.kind {
        EntryKind::File {
            bytes: Some(bytes), ..
        } if memoised_role(config, &entry.path) => Some(bytes),
        EntryKind::File { .. }
        | EntryKind::TooLarge { .. }
        | EntryKind::Symlink { .. }
        | EntryKind::Submodule
        | EntryKind::NotRegular { .. } => None,
    }
}

/// How one file's parse was come by.
enum Outcome {
    /// Not memoised.
    Plain,
    /// From memo entry `stored`: the stamp proved the file unchanged (`read: false`), or its
    /// bytes were read and hash to the entry's digest (`read: true`).
    Hit { stored: usize, read: bool },
    /// A stored entry that does not decode: the memo is rejected.
    Broken,
    /// Parsed now; its digest and stored form (`None` when it cannot be stored).
    Fresh {
        digest: Digest,
        value: Option<Vec<u8>>,
    },
}

fn now_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

/// [`snapshot::from_work_tree`] and [`source::parse`] of it, with the memo of the SMS's git
/// folder: files the memo proves unchanged are neither read nor parsed. Outside git this is
/// those two functions.
pub fn load_work_tree(config: &Config) -> Result<(Snapshot, (Sources, Vec<Diagnostic>))> {
    let listed_ns = now_ns();
    let listed = snapshot::list_work_tree(config)?;
    let Some(memo) = Memo::open(config) else {
        let snap = read_all(config, &listed)?;
        let parsed = source::parse(config, &snap);
        return Ok((snap, parsed));
    };
    // The snapshot: bytes from the memo where the stamp proves them, else from the file.
    let read: Vec<(Entry, Option<usize>)> = listed
        .par_iter()
        .map(|l| -> Result<(Entry, Option<usize>)> {
            if let Some(i) = eligible_listed(config, l)
                .then(|| memo.unchanged(l))
                .flatten()
            {
                let raw = memo.raw(i);
                let entry = Entry {
                    path: l.path.clone(),
                    kind: EntryKind::File {
                        size: raw.len() as u64,
                        bytes: Some(Arc::from(raw)),
                    },
                };
                return Ok((entry, Some(i)));
            }
            Ok((snapshot::read_listed(config, l)?, None))
        })
        .collect::<Result<_>>()?;
    let (entries, proven): (Vec<Entry>, Vec<Option<usize>>) = read.into_iter().unzip();
    let snap = Snapshot { entries };
    let outcomes: Vec<std::sync::Mutex<Outcome>> = snap
        .entries
        .iter()
        .map(|_| std::sync::Mutex::new(Outcome::Plain))
        .collect();
    let (sources, diags) = source::parse_with(config, &snap, |i, entry| {
        let Some(bytes) = eligible(config, entry) else {
            return source::parse_file(config, entry);
        };
        let (stored, digest) = match proven[i] {
            Some(s) => (Some(s), None),
            None => {
                let digest: Digest = Sha256::digest(bytes).into();
                (memo.same_bytes(&entry.path, &digest), Some(digest))
            }
        };
        if let Some(s) = stored {
            if let Some(parse) = decode(&entry.path, bytes, memo.value(s)) {
                set(
                    &outcomes[i],
                    Outcome::Hit {
                        stored: s,
                        read: digest.is_some(),
                    },
                );
                return parse;
            }
            // Written by this very binary, yet not its own stored form: the memo is not
            // trusted, and neither are the bytes it gave.
            set(&outcomes[i], Outcome::Broken);
            return FileParse::default();
        }
        let parse = source::parse_file(config, entry);
        let digest = digest.unwrap_or_else(|| Sha256::digest(bytes).into());
        let value = encode(&parse);
        set(&outcomes[i], Outcome::Fresh { digest, value });
        parse
    });
    let outcomes: Vec<Outcome> = outcomes
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect();
    let hits: Vec<usize> = (0..outcomes.len())
        .filter(|&i| matches!(outcomes[i], Outcome::Hit { .. }))
        .collect();
    // The sample: read again from the work tree, parsed, and compared with what the memo holds.
    let broken = outcomes.iter().position(|o| matches!(o, Outcome::Broken));
    let mismatch = broken.or_else(|| {
        sample(hits.len())
            .into_par_iter()
            .map(|k| hits[k])
            .find_any(|&i| {
                let Outcome::Hit { stored, .. } = outcomes[i] else {
                    return true;
                };
                let Ok(entry) = snapshot::read_listed(config, &listed[i]) else {
                    return true;
                };
                let same_bytes =
                    eligible(config, &entry).is_some_and(|b| b[..] == *memo.raw(stored));
                !same_bytes
                    || encode(&source::parse_file(config, &entry)).as_deref()
                        != Some(memo.value(stored))
            })
    });
    if let Some(i) = mismatch {
        let why = format!(
            "the stored bytes or parse of `{}` differ from the file's",
            snap.entries[i].path
        );
        let snap = read_all(config, &listed)?;
        let (sources, mut diags) = source::parse(config, &snap);
        diags.push(rejected(&why));
        let fresh: Vec<(usize, Digest, Option<Vec<u8>>)> = (0..snap.entries.len())
            .into_par_iter()
            .filter_map(|i| {
                let entry = &snap.entries[i];
                let bytes = eligible(config, entry)?;
                let digest: Digest = Sha256::digest(bytes).into();
                Some((i, digest, encode(&source::parse_file(config, entry))))
            })
            .collect();
        let _ = write(
            &memo,
            listed_ns,
            &listed,
            &snap,
            fresh
                .iter()
                .filter_map(|(i, d, v)| Some((*i, d, v.as_deref()?))),
        );
        return Ok((snap, (sources, diags)));
    }
    let changed = outcomes.iter().any(|o| match o {
        Outcome::Fresh { .. } | Outcome::Hit { read: true, .. } | Outcome::Broken => true,
        Outcome::Hit { read: false, .. } | Outcome::Plain => false,
    });
    if changed || hits.len() != memo.entries.len() {
        let kept = outcomes.iter().enumerate().filter_map(|(i, o)| match o {
            Outcome::Plain | Outcome::Broken => None,
            Outcome::Hit { stored, .. } => Some((i, memo.digest(*stored), memo.value(*stored))),
            Outcome::Fresh { digest, value } => Some((i, digest, value.as_deref()?)),
        });
        // A memo that cannot be written (a read-only checkout) only costs the next run time.
        let _ = write(&memo, listed_ns, &listed, &snap, kept);
    }
    Ok((snap, (sources, diags)))
}

/// Every listed file read, as [`snapshot::from_work_tree`] does.
fn read_all(config: &Config, listed: &[Listed]) -> Result<Snapshot> {
    let entries = listed
        .par_iter()
        .map(|l| snapshot::read_listed(config, l))
        .collect::<Result<Vec<_>>>()?;
    Ok(Snapshot { entries })
}

fn set(slot: &std::sync::Mutex<Outcome>, outcome: Outcome) {
    match slot.lock() {
        Ok(mut g) => *g = outcome,
        Err(e) => *e.into_inner() = outcome,
    }
}

/// Up to [`SAMPLE`] of `0..n`, chosen at random for this run (all of them when `n` is small).
fn sample(n: usize) -> Vec<usize> {
    if n <= SAMPLE {
        return (0..n).collect();
    }
    let seed = std::collections::hash_map::RandomState::new();
    let mut keyed: Vec<(u64, usize)> = (0..n)
        .map(|i| (std::hash::BuildHasher::hash_one(&seed, i), i))
        .collect();
    keyed.sort_unstable();
    keyed.truncate(SAMPLE);
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// The note for a memo that failed its check.
fn rejected(why: &str) -> Diagnostic {
    Diagnostic::new(
        "history-cache-rejected",
        format!("history-cache/{FILE}"),
        format!(
            "the parse memo `auditbook/{FILE}` in the git folder does not match the work tree ({why}): it was discarded and every file read and parsed again"
        ),
    )
    .at(crate::config::FILE_NAME, Pos::new(1, 1))
}

/// Write the memo: the entries given (snapshot indices in order, so sorted by path; `listed` and
/// `snap` in the same order), to a temporary file first, then renamed into place, so a reader
/// never sees half a file.
fn write<'a>(
    memo: &Memo,
    listed_ns: i128,
    listed: &[Listed],
    snap: &Snapshot,
    entries: impl Iterator<Item = (usize, &'a Digest, &'a [u8])>,
) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(memo.bytes.len().max(1 << 16));
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&memo.key);
    out.extend_from_slice(&listed_ns.to_le_bytes());
    let count_at = out.len();
    out.extend_from_slice(&0u32.to_le_bytes());
    let mut count = 0u32;
    let len = |n: usize| u32::try_from(n).map_err(std::io::Error::other);
    for (i, digest, value) in entries {
        let entry = &snap.entries[i];
        let Some(raw) = eligible_bytes(entry) else {
            continue;
        };
        let stamp = listed[i].stamp;
        let path = entry.path.as_bytes();
        out.extend_from_slice(&len(path.len())?.to_le_bytes());
        out.extend_from_slice(path);
        out.extend_from_slice(&stamp.size.to_le_bytes());
        out.extend_from_slice(&stamp.modified_ns.to_le_bytes());
        out.extend_from_slice(&stamp.changed_ns.to_le_bytes());
        out.extend_from_slice(&stamp.inode.to_le_bytes());
        out.extend_from_slice(digest);
        out.extend_from_slice(&len(raw.len())?.to_le_bytes());
        out.extend_from_slice(raw);
        out.extend_from_slice(&len(value.len())?.to_le_bytes());
        out.extend_from_slice(value);
        count += 1;
    }
    out[count_at..count_at + 4].copy_from_slice(&count.to_le_bytes());
    let trailer = crc32fast::hash(&out);
    out.extend_from_slice(&trailer.to_le_bytes());
    std::fs::create_dir_all(&memo.dir)?;
    let tmp = memo.dir.join(format!("{FILE}.tmp-{}", std::process::id()));
    let result =
        std::fs::write(&tmp, &out).and_then(|()| std::fs::rename(&tmp, memo.dir.join(FILE)));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn eligible_bytes(entry: &Entry) -> Option<&[u8]> {
    match &entry.kind {
        EntryKind::File {
            bytes: Some(bytes), ..
        } => Some(bytes),
        EntryKind::File { .. }
        | EntryKind::TooLarge { .. }
        | EntryKind::Symlink { .. }
        | EntryKind::Submodule
        | EntryKind::NotRegular { .. } => None,
    }
}

// The stored form of a parse. The path is the entry's key, and a document's body is a suffix of
// the file's normalised text, so neither is stored.

#[derive(Serialize, Deserialize)]
struct WireParse {
    documents: Vec<WireDocument>,
    records: Vec<WireRecord>,
    diags: Vec<WireDiag>,
}

type WireDate = Option<(i16, i8, i8)>;

#[derive(Serialize, Deserialize)]
struct WireDocument {
    id: String,
    id_pos: Pos,
    title: String,
    doc_type: Option<String>,
    owner: Option<String>,
    approver: Option<Spanned>,
    version: Option<Spanned>,
    status: Status,
    status_pos: Pos,
    approved: WireDate,
    approved_pos: Pos,
    review: Option<crate::dates::Interval>,
    next_review: WireDate,
    clauses: Vec<ClauseRef>,
    provides: Vec<Spanned>,
    derives: Vec<Spanned>,
    extra: Vec<(String, String)>,
    controls: Option<(Pos, Node)>,
    /// The length in bytes of the body, the end of the normalised text.
    body_len: usize,
    body_line: u32,
    parsed: Body,
}

#[derive(Serialize, Deserialize)]
struct WireRecord {
    id: String,
    id_pos: Pos,
    kind: String,
    kind_pos: Pos,
    date: WireDate,
    date_pos: Pos,
    title: String,
    clauses: Vec<ClauseRef>,
    refs: Vec<Spanned>,
    fields: Vec<(String, Node)>,
    pos: Pos,
}

#[derive(Serialize, Deserialize)]
struct WireDiag {
    code: String,
    severity: Severity,
    path: Option<String>,
    pos: Option<Pos>,
    message: String,
    help: Option<String>,
    subject: String,
    rows: Vec<u32>,
}

fn date_out(d: Option<jiff::civil::Date>) -> WireDate {
    d.map(|d| (d.year(), d.month(), d.day()))
}

fn date_in(d: WireDate) -> Result<Option<jiff::civil::Date>, ()> {
    d.map(|(y, m, d)| jiff::civil::Date::new(y, m, d).map_err(|_| ()))
        .transpose()
}

/// The stored form of a parse; `None` when it holds something the memo does not store (a
/// framework or mapping text, rows of a tabular file).
fn encode(p: &FileParse) -> Option<Vec<u8>> {
    if !p.frameworks.is_empty() || !p.mappings.is_empty() {
        return None;
    }
    let documents = p
        .documents
        .iter()
        .map(|d| WireDocument {
            id: d.id.clone(),
            id_pos: d.id_pos,
            title: d.title.clone(),
            doc_type: d.doc_type.clone(),
            owner: d.owner.clone(),
            approver: d.approver.clone(),
            version: d.version.clone(),
            status: d.status,
            status_pos: d.status_pos,
            approved: date_out(d.approved),
            approved_pos: d.approved_pos,
            review: d.review,
            next_review: date_out(d.next_review),
            clauses: d.clauses.clone(),
            provides: d.provides.clone(),
            derives: d.derives.clone(),
            extra: d.extra.clone(),
            controls: d.controls.clone(),
            body_len: d.body.len(),
            body_line: d.body_line,
            parsed: d.parsed.clone(),
        })
        .collect();
    let records = p
        .records
        .iter()
        .map(|r| {
            let Fields::Nodes(fields) = &r.fields else {
                return None;
            };
            Some(WireRecord {
                id: r.id.clone(),
                id_pos: r.id_pos,
                kind: r.kind.to_string(),
                kind_pos: r.kind_pos,
                date: date_out(r.date),
                date_pos: r.date_pos,
                title: r.title.clone(),
                clauses: r.clauses.clone(),
                refs: r.refs.clone(),
                fields: fields.clone(),
                pos: r.pos,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let diags = p
        .diags
        .iter()
        .map(|d| WireDiag {
            code: d.code.to_string(),
            severity: d.severity,
            path: d.path.clone(),
            pos: d.pos,
            message: d.message.clone(),
            help: d.help.clone(),
            subject: d.subject.clone(),
            rows: d.rows.clone(),
        })
        .collect();
    rmp_serde::to_vec(&WireParse {
        documents,
        records,
        diags,
    })
    .ok()
}

/// The parse of the file at `path` with `bytes` from its stored form; `None` when the stored
/// form does not fit (then the file is parsed).
fn decode(path: &str, bytes: &[u8], value: &[u8]) -> Option<FileParse> {
    let wire: WireParse = rmp_serde::from_slice(value).ok()?;
    let mut out = FileParse::default();
    if !wire.documents.is_empty() {
        let mut scratch = Vec::new();
        let text = source::text_cow(path, bytes, &mut scratch)?;
        for d in wire.documents {
            let start = text.len().checked_sub(d.body_len)?;
            let body = text.get(start..)?.to_string();
            out.documents.push(Document {
                path: path.to_string(),
                id: d.id,
                id_pos: d.id_pos,
                title: d.title,
                doc_type: d.doc_type,
                owner: d.owner,
                approver: d.approver,
                version: d.version,
                status: d.status,
                status_pos: d.status_pos,
                approved: date_in(d.approved).ok()?,
                approved_pos: d.approved_pos,
                review: d.review,
                next_review: date_in(d.next_review).ok()?,
                clauses: d.clauses,
                provides: d.provides,
                derives: d.derives,
                extra: d.extra,
                controls: d.controls,
                body,
                body_line: d.body_line,
                parsed: d.parsed,
            });
        }
    }
    out.records.reserve_exact(wire.records.len());
    // One shared path for the file, and one shared kind per distinct kind, as the parser makes them.
    let shared_path: std::sync::Arc<str> = path.into();
    let mut kinds: Vec<std::sync::Arc<str>> = Vec::new();
    for r in wire.records {
        let kind = match kinds.iter().find(|k| ***k == *r.kind) {
            Some(k) => k.clone(),
            None => {
                let k: std::sync::Arc<str> = r.kind.into();
                kinds.push(k.clone());
                k
            }
        };
        out.records.push(Record {
            path: shared_path.clone(),
            id: r.id,
            id_pos: r.id_pos,
            kind,
            kind_pos: r.kind_pos,
            date: date_in(r.date).ok()?,
            date_pos: r.date_pos,
            title: r.title,
            clauses: r.clauses,
            refs: r.refs,
            fields: Fields::Nodes(r.fields),
            pos: r.pos,
        });
    }
    for d in wire.diags {
        let code = crate::codes::lookup(&d.code)?.code;
        out.diags.push(Diagnostic {
            code,
            severity: d.severity,
            path: d.path,
            pos: d.pos,
            message: d.message,
            help: d.help,
            subject: d.subject,
            rows: d.rows,
        });
    }
    Some(out)
}
