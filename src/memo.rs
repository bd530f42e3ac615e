//! The parse memo: what [`source::parse_file`] made of each document and YAML record file, kept
//! beside the history cache (`.git/auditbook/parsed.msgpack`) so that a run over unchanged files
//! does not parse them again. An entry is keyed by the file's path and the SHA-256 of its bytes as
//! read, and the whole memo by the inputs a parse depends on (the memo format, the auditbook
//! version and binary, and the loaded `sms.yaml`), so a changed file, a new file or another
//! configuration simply misses it. Outside git there is no memo (auditbook never writes into the
//! SMS sources).
//!
//! The memo is trusted no more than the history cache (README "Security"): a file that is
//! truncated, corrupt (its SHA-256 trailer does not match) or made for other inputs is ignored;
//! and on every run a random sample of the entries used is parsed again from the files and
//! compared byte for byte with the stored result. A mismatch discards the whole memo
//! (`history-cache-rejected`) and every file is parsed afresh. The memo is rewritten only when an
//! entry was added or dropped, and holds only the files of the current work tree.
//!
//! Not memoised (parsed on every run, as without a memo): tabular record files (CSV, JSON),
//! framework and mapping files, and entries that are not regular files read within the size limit.

use crate::config::Config;
use crate::diag::{Diagnostic, Severity};
use crate::fields::Spanned;
use crate::markdown::Body;
use crate::record_fields::Fields;
use crate::snapshot::{self, EntryKind, Role, Snapshot};
use crate::source::{self, ClauseRef, Document, FileParse, Record, Sources, Status};
use crate::yaml::{Node, Pos};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::path::PathBuf;

/// The memo's file name in the cache folder (`history::cache_dir`).
pub const FILE: &str = "parsed.msgpack";
const MAGIC: &[u8] = b"auditbook parse memo\n";
/// Bump when the wire types below or what `source::parse_file` makes of a file change in a way
/// the binary's identity does not capture.
const FORMAT: u32 = 1;
/// How many of the entries used are parsed again on each run (all when fewer are used).
const SAMPLE: usize = 32;

type Digest = [u8; 32];

/// A memo loaded for one run: the stored entries (sorted by path) and where to write it back.
pub struct Memo {
    dir: PathBuf,
    key: Digest,
    bytes: Vec<u8>,
    /// (path, digest, value) as byte ranges of `bytes`, sorted by path.
    entries: Vec<Stored>,
}

#[derive(Clone, Copy)]
struct Stored {
    path: (usize, usize),
    digest: usize,
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
            bytes: Vec::new(),
            entries: Vec::new(),
        };
        if let Ok(bytes) = std::fs::read(memo.dir.join(FILE)) {
            if let Some(entries) = read_table(&bytes, &key) {
                memo.bytes = bytes;
                memo.entries = entries;
            }
        }
        Some(memo)
    }

    fn path_of(&self, s: &Stored) -> &[u8] {
        &self.bytes[s.path.0..s.path.1]
    }

    /// The stored value for `path` when its digest is `digest`.
    fn get(&self, path: &str, digest: &Digest) -> Option<&[u8]> {
        let i = self
            .entries
            .binary_search_by(|s| self.path_of(s).cmp(path.as_bytes()))
            .ok()?;
        let s = self.entries[i];
        (&self.bytes[s.digest..s.digest + 32] == digest).then(|| &self.bytes[s.value.0..s.value.1])
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

/// The entry table of a memo file made for `key`; `None` when it is not one (another format or
/// inputs, truncated, corrupt).
fn read_table(bytes: &[u8], key: &Digest) -> Option<Vec<Stored>> {
    let body_len = bytes.len().checked_sub(32)?;
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
    if u32_at(take(4)?)? != FORMAT as usize {
        return None;
    }
    let k = take(32)?;
    if &body[k.0..k.1] != key {
        return None;
    }
    if Sha256::digest(body)[..] != trailer[..] {
        return None;
    }
    let count = u32_at(take(4)?)?;
    let mut entries = Vec::with_capacity(count.min(body.len() / 40));
    for _ in 0..count {
        let path_len = u32_at(take(4)?)?;
        let path = take(path_len)?;
        let digest = take(32)?.0;
        let value_len = u32_at(take(4)?)?;
        let value = take(value_len)?;
        entries.push(Stored {
            path,
            digest,
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
    sorted.then_some(entries)
}

/// Whether the parse of `entry` is memoised: a document or a YAML record file, read.
fn eligible<'e>(config: &Config, entry: &'e snapshot::Entry) -> Option<&'e [u8]> {
    let EntryKind::File {
        bytes: Some(bytes), ..
    } = &entry.kind
    else {
        return None;
    };
    match snapshot::role(config, &entry.path) {
        Role::Document => Some(bytes),
        Role::Record if crate::tabular::Format::of(&entry.path).is_none() => Some(bytes),
        Role::Record | Role::Config | Role::Framework | Role::Mapping | Role::Other => None,
    }
}

/// How one file's parse was come by.
enum Outcome {
    /// Not memoised.
    Plain,
    /// From the memo: the stored value.
    Hit { digest: Digest },
    /// Parsed now; its encoding, for the memo (`None` when it cannot be stored).
    Fresh {
        digest: Digest,
        value: Option<Vec<u8>>,
    },
}

/// [`source::parse`] of a work-tree snapshot, with the memo of the SMS's git folder: files whose
/// bytes the memo knows are not parsed again. Outside git this is [`source::parse`].
pub fn parse(config: &Config, snap: &Snapshot) -> (Sources, Vec<Diagnostic>) {
    let Some(memo) = Memo::open(config) else {
        return source::parse(config, snap);
    };
    let outcomes: Vec<std::sync::Mutex<Outcome>> = snap
        .entries
        .iter()
        .map(|_| std::sync::Mutex::new(Outcome::Plain))
        .collect();
    let (sources, mut diags) = source::parse_with(config, snap, |i, entry| {
        let Some(bytes) = eligible(config, entry) else {
            return source::parse_file(config, entry);
        };
        let digest: Digest = Sha256::digest(bytes).into();
        if let Some(parse) = memo
            .get(&entry.path, &digest)
            .and_then(|v| decode(&entry.path, bytes, v))
        {
            set(&outcomes[i], Outcome::Hit { digest });
            return parse;
        }
        let parse = source::parse_file(config, entry);
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
    // The sample: parsed again, encoded, and compared with what the memo holds.
    let mismatch = sample(hits.len())
        .into_par_iter()
        .map(|k| hits[k])
        .find_any(|&i| {
            let entry = &snap.entries[i];
            let Outcome::Hit { digest } = &outcomes[i] else {
                return true;
            };
            let stored = memo.get(&entry.path, digest);
            let fresh = encode(&source::parse_file(config, entry));
            fresh.is_none() || stored != fresh.as_deref()
        });
    if let Some(i) = mismatch {
        let why = format!(
            "the stored parse of `{}` differs from the file's",
            snap.entries[i].path
        );
        let (sources, mut diags) = source::parse(config, snap);
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
            snap,
            fresh
                .iter()
                .filter_map(|(i, d, v)| Some((*i, d, v.as_deref()?))),
        );
        return (sources, diags);
    }
    let fresh = outcomes.iter().any(|o| matches!(o, Outcome::Fresh { .. }));
    if fresh || hits.len() != memo.entries.len() {
        let kept = outcomes.iter().enumerate().filter_map(|(i, o)| match o {
            Outcome::Plain => None,
            Outcome::Hit { digest } => Some((i, digest, memo.get(&snap.entries[i].path, digest)?)),
            Outcome::Fresh { digest, value } => Some((i, digest, value.as_deref()?)),
        });
        // A memo that cannot be written (a read-only checkout) only costs the next run time.
        let _ = write(&memo, snap, kept);
    }
    diags.shrink_to_fit();
    (sources, diags)
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
            "the parse memo `auditbook/{FILE}` in the git folder does not match the files ({why}): it was discarded and every file parsed again"
        ),
    )
    .at(crate::config::FILE_NAME, Pos::new(1, 1))
}

/// Write the memo: the entries given (snapshot indices in order, so sorted by path), to a
/// temporary file first, then renamed into place, so a reader never sees half a file.
fn write<'a>(
    memo: &Memo,
    snap: &Snapshot,
    entries: impl Iterator<Item = (usize, &'a Digest, &'a [u8])>,
) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(memo.bytes.len().max(1 << 16));
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&memo.key);
    let count_at = out.len();
    out.extend_from_slice(&0u32.to_le_bytes());
    let mut count = 0u32;
    let len = |n: usize| u32::try_from(n).map_err(std::io::Error::other);
    for (i, digest, value) in entries {
        let path = snap.entries[i].path.as_bytes();
        out.extend_from_slice(&len(path.len())?.to_le_bytes());
        out.extend_from_slice(path);
        out.extend_from_slice(digest);
        out.extend_from_slice(&len(value.len())?.to_le_bytes());
        out.extend_from_slice(value);
        count += 1;
    }
    out[count_at..count_at + 4].copy_from_slice(&count.to_le_bytes());
    let trailer = Sha256::digest(&out);
    out.extend_from_slice(&trailer);
    std::fs::create_dir_all(&memo.dir)?;
    let tmp = memo.dir.join(format!("{FILE}.tmp-{}", std::process::id()));
    let result =
        std::fs::write(&tmp, &out).and_then(|()| std::fs::rename(&tmp, memo.dir.join(FILE)));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
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
                kind: r.kind.clone(),
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
    for r in wire.records {
        out.records.push(Record {
            path: path.to_string(),
            id: r.id,
            id_pos: r.id_pos,
            kind: r.kind,
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
