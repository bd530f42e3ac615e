//! `auditbook verify FILE.zip`: check a bundle against its own lists of hashes, without extracting
//! anything to disk.
//!
//! Trust (DESIGN "Bundle trust"): verify proves that the bundle matches its fingerprint — the
//! SHA-256 of `SHA256SUMS` — and that every entry matches `SHA256SUMS` and `manifest.json`;
//! authenticity comes from comparing the printed fingerprint with one received through another
//! channel, or from `SHA256SUMS.sig`, an SSH signature of `SHA256SUMS` checked against the
//! auditor's allowed signers (`--signer`; see `sign`).
//!
//! Hostile input: names are checked before anything is read (absolute, `..`, backslashes, drive
//! letters, control characters), symbolic links and other special entries (Unix mode in the
//! external attributes) are refused, local headers must agree with the central directory, every
//! entry is streamed through the hasher in fixed-size buffers and stopped as soon as it exceeds
//! the size the manifest gives (a zip bomb costs at most that much work), and the two lists are
//! read with a size cap. Nothing here can panic on any input; every failure is a [`Problem`].

use super::manifest::{self, FileEntry, ManifestRead};
use super::name_problem;
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use zip::ZipArchive;

/// Largest `manifest.json` or `SHA256SUMS` read (the large benchmark corpus needs about 20 MiB).
const LIST_CAP: u64 = 256 << 20;
/// Largest `SHA256SUMS.sig` read (an Ed25519 signature is under 400 bytes; RSA-16384 under 5 KiB).
const SIG_CAP: u64 = 64 << 10;

/// What is wrong with one entry, or with the bundle as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// The entry's bytes differ from what the lists say.
    Altered,
    /// In the zip, in neither list.
    Added,
    /// In a list, not in the zip.
    Missing,
    /// Unsafe name, symbolic link, special or encrypted entry: never read.
    Refused,
    /// `manifest.json` or `SHA256SUMS` missing, malformed or disagreeing.
    Lists,
    /// `SHA256SUMS.sig` bad, missing under `--signer`, or by a key not allowed.
    Signature,
    /// The zip's structure (duplicate names, headers that disagree, unreadable entries).
    Structure,
}

impl Kind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::Altered => "altered",
            Kind::Added => "added",
            Kind::Missing => "missing",
            Kind::Refused => "refused",
            Kind::Lists => "invalid",
            Kind::Structure => "invalid",
            Kind::Signature => "signature",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: Kind,
    /// The entry concerned (printed with control characters escaped).
    pub entry: Option<String>,
    pub detail: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.entry {
            Some(e) => write!(
                f,
                "{}: {}: {}",
                self.kind.as_str(),
                e.escape_debug(),
                self.detail
            ),
            None => write!(f, "{}: {}", self.kind.as_str(), self.detail),
        }
    }
}

fn problem(kind: Kind, entry: Option<&str>, detail: impl Into<String>) -> Problem {
    Problem {
        kind,
        entry: entry.map(str::to_string),
        detail: detail.into(),
    }
}

/// The result of `verify` on a readable zip.
#[derive(Debug, Clone)]
pub struct Verification {
    pub file: PathBuf,
    pub problems: Vec<Problem>,
    /// SHA-256 of `SHA256SUMS`, when the zip holds one.
    pub fingerprint: Option<String>,
    pub commit: Option<manifest::Commit>,
    pub as_of: Option<String>,
    pub dirty: bool,
    /// Entries checked.
    pub entries: usize,
    /// What `SHA256SUMS.sig` says (see `sign`).
    pub signature: super::sign::Status,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// An entry as the central directory describes it.
struct Entry {
    index: usize,
    name: String,
    size: u64,
}

/// Open `path` only if it is a regular file (a link to one is fine): a FIFO would block, a
/// device never end. Opened without blocking and checked again on the handle.
pub(crate) fn open_regular(path: &Path) -> Result<std::fs::File> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot open `{}`", path.display()))?;
    if let Some(what) = crate::regular::not_regular(meta.file_type()) {
        anyhow::bail!("`{}` is {what}, not a zip file", path.display());
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options
        .open(path)
        .with_context(|| format!("cannot open `{}`", path.display()))?;
    let opened = file
        .metadata()
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    if let Some(what) = crate::regular::not_regular(opened.file_type()) {
        anyhow::bail!("`{}` is {what}, not a zip file", path.display());
    }
    Ok(file)
}

/// Bytes of the file that belong to no entry, to neither the central directory nor its end
/// record: a prepended stub (a self-extractor, or a file disguised as a zip), data between
/// entries, or data appended after the end record. A bundle has none; tools differ in what they
/// make of them.
fn outside_entries<R: Read + std::io::Seek>(
    path: &Path,
    zip: &mut ZipArchive<R>,
    file_len: u64,
) -> Option<Problem> {
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    for i in 0..zip.len() {
        let f = zip.by_index_raw(i).ok()?;
        let start = f.header_start();
        let end = f.data_start()?.checked_add(f.compressed_size())?;
        ranges.push((start, end));
    }
    let end_record = end_of_central_directory(path, file_len)?;
    ranges.push((zip.central_directory_start(), end_record));
    ranges.sort_unstable();
    let mut at = 0u64;
    let mut outside = Vec::new();
    for (start, end) in ranges {
        if start > at {
            outside.push(if at == 0 {
                format!("{start} bytes before the first entry (a prepended stub)")
            } else {
                format!("{} bytes at offset {at} between entries", start - at)
            });
        }
        at = at.max(end);
    }
    if file_len > at {
        outside.push(format!(
            "{} bytes after the end of the central directory (appended data)",
            file_len - at
        ));
    }
    if outside.is_empty() {
        return None;
    }
    Some(problem(
        Kind::Structure,
        None,
        format!(
            "the zip holds bytes outside any entry: {}; a bundle never does, and tools differ in what they make of them",
            outside.join("; ")
        ),
    ))
}

/// Where the zip's end-of-central-directory record (with its comment) ends: found by searching
/// the last 64 KiB + 22 bytes for its signature.
fn end_of_central_directory(path: &Path, file_len: u64) -> Option<u64> {
    use std::io::{Seek, SeekFrom};
    let tail_len = file_len.min(65_535 + 22);
    let mut f = open_regular(path).ok()?;
    f.seek(SeekFrom::Start(file_len - tail_len)).ok()?;
    let mut tail = Vec::with_capacity(tail_len as usize);
    f.take(tail_len).read_to_end(&mut tail).ok()?;
    let base = file_len - tail_len;
    // The last signature whose record (and comment) fits in the file.
    (0..tail.len().saturating_sub(21)).rev().find_map(|i| {
        if tail[i..i + 4] != [0x50, 0x4b, 0x05, 0x06] {
            return None;
        }
        let comment = u16::from_le_bytes([tail[i + 20], tail[i + 21]]) as u64;
        let end = base + i as u64 + 22 + comment;
        (end <= file_len).then_some(end)
    })
}

/// Verify the bundle at `path`, and its signature against the allowed signers file `signers`
/// when given. `Err` only when a file cannot be opened or is not a readable zip (or allowed
/// signers file) (exit 2); everything else is a [`Problem`] in the result (exit 1).
pub fn verify(path: &Path, signers: Option<&Path>) -> Result<Verification> {
    let allowed = signers.map(super::sign::load_allowed).transpose()?;
    let file = open_regular(path)?;
    let file_len = file
        .metadata()
        .with_context(|| format!("cannot read `{}`", path.display()))?
        .len();
    let mut zip = ZipArchive::new(BufReader::with_capacity(1 << 16, file)).map_err(|e| {
        anyhow::anyhow!(
            "`{}` is not a readable zip archive ({e}); it may be truncated, or not a zip at all",
            path.display()
        )
    })?;
    let mut v = Verification {
        file: path.to_path_buf(),
        problems: Vec::new(),
        fingerprint: None,
        commit: None,
        as_of: None,
        dirty: false,
        entries: 0,
        signature: super::sign::Status::Unsigned,
    };

    // 1. The central directory: names and kinds, before reading anything.
    if zip.has_duplicate_names() {
        v.problems.push(problem(
            Kind::Structure,
            None,
            "the zip holds several entries under the same name; a bundle never does, and unzip tools disagree about which one they extract",
        ));
    }
    if let Err(e) = zip.validate_header_consistency() {
        v.problems.push(problem(
            Kind::Structure,
            None,
            format!("the zip's local headers disagree with its central directory ({e}); tools would extract different files than this check reads"),
        ));
    }
    if let Some(p) = outside_entries(path, &mut zip, file_len) {
        v.problems.push(p);
    }
    let mut entries: Vec<Entry> = Vec::new();
    // Every name in the zip, refused ones included (they are not "missing").
    let mut present: BTreeSet<String> = BTreeSet::new();
    for index in 0..zip.len() {
        let meta = match zip.by_index_data(index) {
            Ok(m) => m,
            Err(e) => {
                v.problems.push(problem(
                    Kind::Structure,
                    None,
                    format!("entry number {} cannot be read ({e})", index + 1),
                ));
                continue;
            }
        };
        let name = match std::str::from_utf8(meta.name_raw()) {
            Ok(n) => {
                present.insert(n.to_string());
                n.to_string()
            }
            Err(_) => {
                let shown = String::from_utf8_lossy(meta.name_raw()).into_owned();
                v.problems.push(problem(
                    Kind::Refused,
                    Some(&shown),
                    "the name is not UTF-8",
                ));
                continue;
            }
        };
        if let Some(why) = name_problem(&name) {
            v.problems.push(problem(Kind::Refused, Some(&name), why));
            continue;
        }
        match meta.unix_mode().map(|m| m & 0o170000) {
            Some(0o120000) => {
                v.problems.push(problem(
                    Kind::Refused,
                    Some(&name),
                    "a symbolic link (Unix mode in the external attributes); a bundle holds regular files only",
                ));
                continue;
            }
            Some(0o040000) => {
                v.problems.push(problem(
                    Kind::Added,
                    Some(&name),
                    "a folder entry; a bundle holds none",
                ));
                continue;
            }
            Some(0) | Some(0o100000) | None => {}
            Some(other) => {
                v.problems.push(problem(
                    Kind::Refused,
                    Some(&name),
                    format!("a special file (Unix file type {other:o}); a bundle holds regular files only"),
                ));
                continue;
            }
        }
        if meta.is_dir() {
            v.problems.push(problem(
                Kind::Added,
                Some(&name),
                "a folder entry; a bundle holds none",
            ));
            continue;
        }
        if meta.encrypted() {
            v.problems.push(problem(
                Kind::Refused,
                Some(&name),
                "the entry is encrypted; a bundle never is",
            ));
            continue;
        }
        entries.push(Entry {
            index,
            name,
            size: meta.size(),
        });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    // Names that would overwrite each other (or cannot be created) when unzipped on Windows or
    // macOS: refused, the first of colliding names (in name order) is checked.
    let unportable: BTreeSet<String> =
        crate::portable::problems(entries.iter().map(|e| e.name.as_str()))
            .into_iter()
            .map(|u| {
                let detail = match u.collides_with {
                    Some(first) => format!(
                "{}: it and `{}` would be one file when unzipped there, one overwriting the other",
                u.reason,
                first.escape_debug()
            ),
                    None => u.reason.to_string(),
                };
                v.problems
                    .push(problem(Kind::Refused, Some(u.path), detail));
                u.path.to_string()
            })
            .collect();
    entries.retain(|e| !unportable.contains(&e.name));
    v.entries = entries.len();
    let find = |name: &str| -> Option<&Entry> {
        entries
            .binary_search_by(|e| e.name.as_str().cmp(name))
            .ok()
            .map(|i| &entries[i])
    };

    // 2. The two lists.
    let manifest_entry = find(manifest::MANIFEST).map(|e| (e.index, e.size));
    let Some((manifest_index, _)) = manifest_entry else {
        v.problems.push(problem(
            Kind::Lists,
            Some(manifest::MANIFEST),
            "missing: this is not an auditbook bundle, or its manifest was removed; nothing else was checked",
        ));
        return Ok(v);
    };
    let manifest_bytes = match read_capped(&mut zip, manifest_index, LIST_CAP) {
        Ok(b) => b,
        Err(e) => {
            v.problems.push(problem(
                Kind::Lists,
                Some(manifest::MANIFEST),
                format!("{e}; nothing else was checked"),
            ));
            return Ok(v);
        }
    };
    let manifest: ManifestRead = match serde_json::from_slice(&manifest_bytes) {
        Ok(m) => m,
        Err(e) => {
            v.problems.push(problem(
                Kind::Lists,
                Some(manifest::MANIFEST),
                format!("malformed ({e}); nothing else was checked"),
            ));
            return Ok(v);
        }
    };
    if manifest.format != manifest::FORMAT {
        v.problems.push(problem(
            Kind::Lists,
            Some(manifest::MANIFEST),
            format!(
                "`format` is {:?}, not {:?}: not a bundle this auditbook can check; nothing else was checked",
                manifest.format,
                manifest::FORMAT
            ),
        ));
        return Ok(v);
    }
    v.commit = manifest.commit.clone();
    v.as_of = Some(manifest.as_of.clone());
    v.dirty = manifest.dirty;
    let manifest_sha = manifest::sha256_hex(&manifest_bytes);
    drop(manifest_bytes);
    let listed_in_manifest = manifest_files(&manifest, &mut v.problems);

    let mut sums_bytes: Option<Vec<u8>> = None;
    let sums: Option<BTreeMap<String, String>> = match find(manifest::SUMS) {
        None => {
            v.problems.push(problem(
                Kind::Lists,
                Some(manifest::SUMS),
                "missing: the bundle's fingerprint is the SHA-256 of this file",
            ));
            None
        }
        Some(e) => match read_capped(&mut zip, e.index, LIST_CAP) {
            Err(err) => {
                v.problems
                    .push(problem(Kind::Lists, Some(manifest::SUMS), err));
                None
            }
            Ok(bytes) => {
                let fingerprint = manifest::sha256_hex(&bytes);
                sums_bytes = Some(bytes.clone());
                check_comment(zip.comment(), &fingerprint, &mut v.problems);
                v.fingerprint = Some(fingerprint);
                let parsed = std::str::from_utf8(&bytes)
                    .map_err(|_| "not UTF-8 text".to_string())
                    .and_then(manifest::parse_sums);
                match parsed {
                    Err(err) => {
                        v.problems.push(problem(
                            Kind::Lists,
                            Some(manifest::SUMS),
                            format!("malformed: {err}"),
                        ));
                        None
                    }
                    Ok(lines) => Some(sums_map(lines, &mut v.problems)),
                }
            }
        },
    };

    // 3. The lists must agree with each other.
    if let Some(sums) = &sums {
        for (path, f) in &listed_in_manifest {
            match sums.get(path) {
                None => v.problems.push(problem(
                    Kind::Lists,
                    Some(path),
                    "listed in manifest.json but not in SHA256SUMS",
                )),
                Some(s) if *s != f.sha256 => v.problems.push(problem(
                    Kind::Lists,
                    Some(path),
                    format!(
                        "manifest.json gives SHA-256 {}, SHA256SUMS gives {s}",
                        f.sha256
                    ),
                )),
                Some(_) => {}
            }
        }
        for path in sums.keys() {
            if path != manifest::MANIFEST && !listed_in_manifest.contains_key(path) {
                v.problems.push(problem(
                    Kind::Lists,
                    Some(path),
                    "listed in SHA256SUMS but not in manifest.json",
                ));
            }
        }
    }

    // 4. The signature of SHA256SUMS, listed in neither list.
    let sig = find(super::sign::SIG).map(|e| e.index);
    v.signature = match (sig, &sums_bytes) {
        (None, _) => super::sign::Status::Unsigned,
        (Some(index), Some(sums)) => match read_capped(&mut zip, index, SIG_CAP) {
            Ok(sig) => super::sign::check(sums, &sig, allowed.as_deref()),
            Err(detail) => super::sign::Status::Bad { detail },
        },
        (Some(_), None) => super::sign::Status::Bad {
            detail: "there is no readable SHA256SUMS for it to sign".into(),
        },
    };
    if let Some(p) = signature_problem(&v.signature, signers) {
        v.problems.push(p);
    }

    // 5. Every entry against the lists.
    for e in &entries {
        if e.name == manifest::SUMS || e.name == super::sign::SIG {
            continue;
        }
        let in_sums = sums.as_ref().and_then(|s| s.get(&e.name));
        if e.name == manifest::MANIFEST {
            if let Some(expected) = in_sums {
                if *expected != manifest_sha {
                    v.problems.push(problem(
                        Kind::Altered,
                        Some(&e.name),
                        format!("SHA-256 is {manifest_sha}, SHA256SUMS says {expected}"),
                    ));
                }
            }
            continue;
        }
        let in_manifest = listed_in_manifest.get(&e.name);
        if in_sums.is_none() && in_manifest.is_none() {
            v.problems.push(problem(
                Kind::Added,
                Some(&e.name),
                "in the zip, but listed neither in SHA256SUMS nor in manifest.json",
            ));
            continue;
        }
        // The size the manifest gives bounds the work; without it, the central directory's.
        let cap = in_manifest.map_or(e.size, |f| f.size);
        if let Some(f) = in_manifest {
            if e.size != f.size {
                v.problems.push(problem(
                    Kind::Altered,
                    Some(&e.name),
                    format!("size is {} bytes, manifest.json says {}", e.size, f.size),
                ));
                continue;
            }
        }
        let (size, sha) = match hash_capped(&mut zip, e.index, cap) {
            Ok(r) => r,
            Err(err) => {
                v.problems.push(problem(Kind::Altered, Some(&e.name), err));
                continue;
            }
        };
        let expected = in_sums.or(in_manifest.map(|f| &f.sha256));
        if let Some(expected) = expected {
            if *expected != sha {
                let by = match (in_sums, in_manifest) {
                    (Some(_), Some(_)) => "SHA256SUMS and manifest.json say",
                    (Some(_), None) => "SHA256SUMS says",
                    (None, _) => "manifest.json says",
                };
                v.problems.push(problem(
                    Kind::Altered,
                    Some(&e.name),
                    format!("SHA-256 is {sha}, {by} {expected}"),
                ));
            }
        }
        if let Some(f) = in_manifest {
            if size != f.size {
                v.problems.push(problem(
                    Kind::Altered,
                    Some(&e.name),
                    format!("holds {size} bytes, manifest.json says {}", f.size),
                ));
            }
        }
    }

    // 6. Listed but absent.
    let mut listed: BTreeSet<&str> = listed_in_manifest.keys().map(String::as_str).collect();
    if let Some(s) = &sums {
        listed.extend(s.keys().map(String::as_str));
    }
    for path in listed {
        if !present.contains(path) {
            let by = match (
                sums.as_ref().is_some_and(|s| s.contains_key(path)),
                listed_in_manifest.contains_key(path),
            ) {
                (true, true) => "listed in SHA256SUMS and manifest.json",
                (true, false) => "listed in SHA256SUMS",
                (false, _) => "listed in manifest.json",
            };
            v.problems.push(problem(
                Kind::Missing,
                Some(path),
                format!("{by}, but not in the zip"),
            ));
        }
    }
    Ok(v)
}

/// The problem a signature status is, if any: a bad signature always; under `--signer`, a
/// missing one and one by a key not listed too.
fn signature_problem(status: &super::sign::Status, signers: Option<&Path>) -> Option<Problem> {
    use super::sign::{Status, SIG};
    let listed = || signers.map(|p| p.display().to_string()).unwrap_or_default();
    match status {
        Status::Bad { detail } => Some(problem(Kind::Signature, Some(SIG), detail.clone())),
        Status::Unsigned => signers.map(|_| {
            problem(
                Kind::Signature,
                Some(SIG),
                "missing: --signer asks for a signed bundle, and this one is not signed",
            )
        }),
        Status::UnknownKey { fingerprint } => Some(problem(
            Kind::Signature,
            Some(SIG),
            format!(
                "made by the key {fingerprint}, which `{}` does not list for the namespace {}",
                listed(),
                super::sign::NAMESPACE
            ),
        )),
        Status::Unchecked { .. } | Status::Good { .. } => None,
    }
}

/// The manifest's `files` by path, after checking the list itself: sorted, unique, safe names,
/// lower-case hex hashes, and `files_sha256` matching.
fn manifest_files(m: &ManifestRead, problems: &mut Vec<Problem>) -> BTreeMap<String, FileEntry> {
    let mut out = BTreeMap::new();
    let digest = manifest::files_digest(&m.files);
    if digest != m.files_sha256 {
        problems.push(problem(
            Kind::Lists,
            Some(manifest::MANIFEST),
            format!(
                "`files_sha256` is {}, but its `files` list hashes to {digest}",
                m.files_sha256
            ),
        ));
    }
    for f in &m.files {
        if let Some(why) = name_problem(&f.path) {
            problems.push(problem(
                Kind::Lists,
                Some(&f.path),
                format!("manifest.json lists an unsafe name: {why}"),
            ));
            continue;
        }
        if f.path == manifest::MANIFEST || f.path == manifest::SUMS {
            problems.push(problem(
                Kind::Lists,
                Some(&f.path),
                "manifest.json lists itself or SHA256SUMS, which it never does",
            ));
            continue;
        }
        if f.sha256.len() != 64
            || !f
                .sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            problems.push(problem(
                Kind::Lists,
                Some(&f.path),
                "manifest.json gives a SHA-256 that is not 64 lower-case hex digits",
            ));
        }
        if out.insert(f.path.clone(), f.clone()).is_some() {
            problems.push(problem(
                Kind::Lists,
                Some(&f.path),
                "manifest.json lists this path twice",
            ));
        }
    }
    out
}

fn sums_map(lines: Vec<(String, String)>, problems: &mut Vec<Problem>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (path, sha) in lines {
        if let Some(why) = name_problem(&path) {
            problems.push(problem(
                Kind::Lists,
                Some(&path),
                format!("SHA256SUMS lists an unsafe name: {why}"),
            ));
            continue;
        }
        if path == manifest::SUMS {
            problems.push(problem(
                Kind::Lists,
                Some(&path),
                "SHA256SUMS lists itself, which it never does",
            ));
            continue;
        }
        if out.insert(path.clone(), sha).is_some() {
            problems.push(problem(
                Kind::Lists,
                Some(&path),
                "SHA256SUMS lists this path twice",
            ));
        }
    }
    out
}

/// The zip comment, when it is auditbook's, must give the fingerprint that SHA256SUMS hashes to.
fn check_comment(comment: &[u8], fingerprint: &str, problems: &mut Vec<Problem>) {
    const KEY: &str = "fingerprint (SHA-256 of SHA256SUMS): ";
    let Ok(text) = std::str::from_utf8(comment) else {
        return;
    };
    let Some(at) = text.find(KEY) else {
        return;
    };
    let given: String = text[at + KEY.len()..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    if given != fingerprint {
        problems.push(problem(
            Kind::Lists,
            Some(manifest::SUMS),
            format!("hashes to {fingerprint}, but the zip comment gives the fingerprint {given}"),
        ));
    }
}

/// Decompress entry `index` through SHA-256 with at most `cap` bytes; (size, sha256) or what went
/// wrong.
fn hash_capped<R: Read + std::io::Seek>(
    zip: &mut ZipArchive<R>,
    index: usize,
    cap: u64,
) -> Result<(u64, String), String> {
    let mut hasher = Sha256::new();
    let size = stream_capped(zip, index, cap, |chunk| hasher.update(chunk))?;
    Ok((size, manifest::hex(&hasher.finalize())))
}

/// Read entry `index` into memory, at most `cap` bytes.
fn read_capped<R: Read + std::io::Seek>(
    zip: &mut ZipArchive<R>,
    index: usize,
    cap: u64,
) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    stream_capped(zip, index, cap, |chunk| out.extend_from_slice(chunk))?;
    Ok(out)
}

fn stream_capped<R: Read + std::io::Seek>(
    zip: &mut ZipArchive<R>,
    index: usize,
    cap: u64,
    mut sink: impl FnMut(&[u8]),
) -> Result<u64, String> {
    let mut file = zip
        .by_index(index)
        .map_err(|e| format!("its data cannot be read ({e}); it was altered inside the zip"))?;
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(format!(
                    "its data cannot be read ({e}); it was altered inside the zip"
                ))
            }
        };
        total += n as u64;
        if total > cap {
            return Err(format!(
                "decompresses to more than the {cap} bytes it should hold; reading stopped there"
            ));
        }
        sink(&buf[..n]);
    }
    Ok(total)
}

/// The report of a verification, for people: problems first, then the verdict.
pub fn report(v: &Verification) -> (String, String) {
    use std::fmt::Write as _;
    let mut stdout = String::new();
    let mut stderr = String::new();
    let name = v.file.display();
    if v.ok() {
        let _ = writeln!(
            stdout,
            "OK: all {} files of {name} match the bundle's lists",
            v.entries
        );
        let _ = writeln!(
            stdout,
            "  fingerprint  {}",
            v.fingerprint.as_deref().unwrap_or("(none)")
        );
        match &v.commit {
            Some(c) => {
                let _ = writeln!(stdout, "  commit       {} ({})", c.id, c.time);
            }
            None => {
                let _ = writeln!(
                    stdout,
                    "  commit       none (made from a folder outside git)"
                );
            }
        }
        let _ = writeln!(
            stdout,
            "  as of        {}",
            v.as_of.as_deref().unwrap_or("?")
        );
        match &v.signature {
            super::sign::Status::Unsigned => {
                let _ = writeln!(stdout, "  signature    none");
            }
            super::sign::Status::Unchecked { fingerprint } => {
                let _ = writeln!(
                    stdout,
                    "  signature    present, by the key {fingerprint}, signer UNCHECKED (pass --signer ALLOWED_SIGNERS)"
                );
            }
            super::sign::Status::Good {
                principals,
                fingerprint,
            } => {
                let _ = writeln!(
                    stdout,
                    "  signed by    {} (key {fingerprint})",
                    principals.join(", ")
                );
            }
            // Problems: the report above lists them.
            super::sign::Status::UnknownKey { .. } | super::sign::Status::Bad { .. } => {}
        }
        if v.dirty {
            let _ = writeln!(
                stdout,
                "  DRAFT: {}",
                match v.commit {
                    Some(_) => "made with --allow-dirty: site/ shows uncommitted work; sources/ holds the commit",
                    None => "made from a folder outside git; it is not bound to a commit",
                }
            );
        }
        let _ = writeln!(
            stdout,
            "Compare the fingerprint with the one the organisation sent you separately."
        );
    } else {
        for p in &v.problems {
            let _ = writeln!(stdout, "{p}");
        }
        let n = v.problems.len();
        let _ = writeln!(
            stderr,
            "FAILED: {n} problem{} in {name}; do not rely on this bundle",
            if n == 1 { "" } else { "s" }
        );
    }
    (stdout, stderr)
}
