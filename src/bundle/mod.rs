//! The auditor bundle: one zip that an auditor can browse offline and check for alteration.
//!
//! `write` runs the same load and checks as `build` on HEAD's tree (the work tree only with
//! `--allow-dirty`), renders the evidence site into memory, and writes one zip holding `site/`,
//! `sources/` (every SMS file exactly as committed, read from git objects), `effective/` (the
//! approved text of documents whose committed revision is a draft), `coverage.csv`,
//! `findings.json`, `README.txt`, `manifest.json` and `SHA256SUMS`. The fingerprint of a bundle is
//! the SHA-256 of its `SHA256SUMS`, which lists every other entry (the manifest included), so it
//! covers every byte that matters; `verify` recomputes it (see `verify`).
//!
//! Design choices:
//! - Deterministic: the zip is a function of the commit, the as-of date and the auditbook version.
//!   Entries are sorted by name, each entry's time is the commit time (UTC, clamped to the DOS
//!   range), modes are 0644, there are no folder entries and no extra fields (see `archive`). The
//!   work tree does not enter a bundle made without `--allow-dirty`.
//! - Streaming: hashes are computed first (they must be known before `manifest.json` and
//!   `SHA256SUMS`, which sort before `site/` and `sources/`), then the entries are compressed in
//!   bounded parallel batches straight into the output file. Committed files whose bytes the
//!   snapshot already holds (documents, records) are taken from it once git confirms they are the
//!   committed blob; the rest are read from git when written.
//! - Outside git (or before the first commit) the bundle is made from the work tree and says so:
//!   `commit` is null and `dirty` is true, and the file name and every page say DRAFT.

mod archive;
pub mod manifest;
pub mod reproduce;
pub mod sign;
pub mod verify;

use crate::check::{self, Loaded};
use crate::diag::Counts;
use crate::history::{self, BlobId, CommittedTree, Repo};
use crate::model::{CoverageSummary, Model};
use crate::regular::Regular;
use crate::snapshot::EntryKind;
use anyhow::{bail, Context, Result};
use jiff::civil::Date;
use manifest::{FileEntry, Manifest, NotIncluded};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct Options {
    /// The SMS root or a folder below it.
    pub path: PathBuf,
    /// The zip to write; default `<organisation>-evidence-<commit>.zip` in the current folder.
    pub out: Option<PathBuf>,
    pub as_of: Option<Date>,
    /// Bundle the work tree when it differs from HEAD (the bundle is then a DRAFT).
    pub allow_dirty: bool,
    /// `--framework ID`: only that framework's clauses.
    pub framework: Option<String>,
    /// `--sample-*`: the auditor's sample, drawn into the site and recorded in the manifest.
    pub sample: Option<crate::sample::Request>,
    /// `--sign KEYFILE`: an OpenSSH private key that signs `SHA256SUMS` (see `sign`).
    pub sign: Option<PathBuf>,
    /// `--at DATE|REV`: the SMS as it stood at a past commit (recorded as the manifest's `at`).
    pub at: Option<check::AtArg>,
}

/// What `bundle` made, for the command line to report.
pub struct Outcome {
    pub out: PathBuf,
    /// Size of the zip in bytes.
    pub size: u64,
    /// Entries in the zip.
    pub entries: usize,
    /// SHA-256 of `SHA256SUMS`.
    pub fingerprint: String,
    pub commit: Option<manifest::Commit>,
    pub as_of: Date,
    /// `--at`: "as it stood on DATE (commit …)".
    pub at: Option<String>,
    pub dirty: bool,
    pub coverage: CoverageSummary,
    pub counts: Counts,
    /// Without `--allow-dirty`: SMS files whose uncommitted changes the bundle leaves out.
    pub left_out: Vec<String>,
    pub not_included: Vec<NotIncluded>,
    /// (document id, path) of linked files the site never copies.
    pub refused: Vec<(String, String)>,
    /// The zip was written inside the SMS folder (where git sees it as an untracked file).
    pub inside_sms: bool,
    /// With `--sign`: the `SHA256:...` fingerprint of the signing key.
    pub signed_by: Option<String>,
}

/// Why a zip entry name is unsafe to extract, or `None` when it is a plain relative path. Used by
/// `bundle` (such SMS files are left out) and by `verify` (such entries are refused).
pub fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("the name is empty");
    }
    if name.chars().any(|c| c.is_control()) {
        return Some("the name holds a control character");
    }
    if name.starts_with('/') {
        return Some("the name is an absolute path");
    }
    if name.contains('\\') {
        return Some("the name holds a backslash (a Windows path separator)");
    }
    if name.contains(':') {
        return Some("the name holds a colon (a Windows drive letter or stream name)");
    }
    for part in name.split('/') {
        match part {
            ".." => return Some("the name holds `..`, which climbs out of the extraction folder"),
            "" | "." => return Some("the name holds an empty or `.` path component"),
            _ => {}
        }
    }
    None
}

/// Where an entry's bytes come from.
enum Body {
    /// Made here (site pages, manifest, reports).
    Bytes(Vec<u8>),
    /// Held by the snapshot (and, for committed files, checked to be the committed blob).
    Shared(Arc<[u8]>),
    /// A committed blob, read when written.
    Blob(BlobId),
    /// A work-tree file (no git, or a site attachment under `--allow-dirty`), SMS-relative; read
    /// twice (hash, then write) and refused if it changed in between.
    WorkTree(String),
}

struct Item {
    name: String,
    body: Body,
    size: u64,
    sha256: String,
}

impl Item {
    fn new(name: String, body: Body) -> Item {
        Item {
            name,
            body,
            size: 0,
            sha256: String::new(),
        }
    }
}

/// Bytes of an entry, owned or shared.
enum Held {
    Owned(Vec<u8>),
    Shared(Arc<[u8]>),
}

impl AsRef<[u8]> for Held {
    fn as_ref(&self) -> &[u8] {
        match self {
            Held::Owned(v) => v,
            Held::Shared(a) => a,
        }
    }
}

/// What the bundle's bytes are read from.
struct Reader<'a> {
    root: &'a Path,
    /// `limits.max_file_size`: no work-tree file larger than this is read.
    limit: u64,
    repo: Option<&'a Repo>,
}

impl Reader<'_> {
    fn read(&self, body: Body) -> Result<Held> {
        match body {
            Body::Bytes(b) => Ok(Held::Owned(b)),
            Body::Shared(b) => Ok(Held::Shared(b)),
            Body::Blob(id) => match self.repo {
                Some(repo) => repo.read_blob(id).map(Held::Owned),
                None => bail!("internal error: a committed file without a repository"),
            },
            Body::WorkTree(rel) => read_work_tree(self.root, &rel, self.limit).map(Held::Owned),
        }
    }

    /// Size and SHA-256 of a body without keeping its bytes.
    fn measure(&self, body: &Body) -> Result<(u64, String)> {
        let held;
        let bytes: &[u8] = match body {
            Body::Bytes(b) => b,
            Body::Shared(b) => b,
            Body::Blob(id) => match self.repo {
                Some(repo) => {
                    held = repo.read_blob(*id)?;
                    &held
                }
                None => bail!("internal error: a committed file without a repository"),
            },
            Body::WorkTree(rel) => {
                held = read_work_tree(self.root, rel, self.limit)?;
                &held
            }
        };
        Ok((bytes.len() as u64, manifest::sha256_hex(bytes)))
    }
}

/// Read an SMS file from the work tree: never through a symbolic link, only a regular file.
fn read_work_tree(root: &Path, rel: &str, limit: u64) -> Result<Vec<u8>> {
    let mut path = root.to_path_buf();
    for part in rel.split('/') {
        if part.is_empty() || part == "." || part == ".." {
            bail!("refusing to read `{rel}`: not a plain path inside the SMS");
        }
        path.push(part);
        let meta = std::fs::symlink_metadata(&path)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        if meta.file_type().is_symlink() {
            bail!(
                "refusing to read `{}`: it is (or lies below) a symbolic link",
                path.display()
            );
        }
    }
    match crate::regular::read(&path, limit)
        .with_context(|| format!("cannot read `{}`", path.display()))?
    {
        Regular::Bytes(b) => Ok(b),
        Regular::NotRegular(what) => bail!("refusing to read `{}`: it is {what}", path.display()),
        Regular::TooLarge(n) => bail!(
            "refusing to read `{}`: it is {n} bytes, over `limits.max_file_size` ({limit} bytes)",
            path.display()
        ),
    }
}

/// Where the bundle's content comes from: HEAD's commit, or (outside git, before the first
/// commit) the work tree.
struct Origin<'a> {
    /// The repository and HEAD, when there is a commit.
    committed: Option<(&'a Repo, &'a history::Head)>,
    commit: Option<manifest::Commit>,
    /// Not bound to a commit: see [`Manifest::dirty`].
    dirty: bool,
    /// With `--allow-dirty`: work-tree files that differ from the commit.
    uncommitted: Vec<String>,
    /// Without `--allow-dirty`: the same, left out of the bundle.
    left_out: Vec<String>,
}

impl<'a> Origin<'a> {
    fn of(loaded: &'a Loaded, repo: Option<&'a Repo>, allow_dirty: bool) -> Origin<'a> {
        let head = loaded.history.as_ref().and_then(|h| h.head.as_ref());
        let committed = repo.zip(head);
        let changed: Vec<String> = loaded
            .history
            .as_ref()
            .map(|h| h.dirty.clone())
            .unwrap_or_default();
        let (uncommitted, left_out) = if allow_dirty {
            (changed, Vec::new())
        } else {
            (Vec::new(), changed)
        };
        Origin {
            committed,
            commit: committed.map(|(_, h)| manifest::Commit {
                id: h.commit.clone(),
                time: commit_time(h),
            }),
            dirty: committed.is_none() || !uncommitted.is_empty(),
            uncommitted,
            left_out,
        }
    }

    /// The time of every zip entry: the commit time, else the as-of date (UTC midnight).
    fn entry_time(&self, as_of: Date) -> zip::DateTime {
        match self.committed {
            Some((_, h)) => archive::dos_time(h.time),
            None => archive::dos_time(
                as_of
                    .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                    .map(|z| z.timestamp().as_second())
                    .unwrap_or(0),
            ),
        }
    }
}

/// Write the bundle.
pub fn write(opts: &Options) -> Result<Outcome> {
    // The key first: a bad key file fails before any work.
    let signer = opts.sign.as_deref().map(sign::Signer::load).transpose()?;
    let check_opts = check::Options {
        path: opts.path.clone(),
        as_of: opts.as_of,
        framework: opts.framework.clone(),
        at: opts.at.clone(),
    };
    let loaded = if opts.allow_dirty {
        check::load(&check_opts)?
    } else {
        check::load_committed(&check_opts)?
    };
    let model = loaded.model();
    let findings = loaded.findings(&model);
    let counts = crate::diag::count(&findings);
    let root = loaded.config.root.clone();
    let repo = Repo::open(&root)?;
    let origin = Origin::of(&loaded, repo.as_ref(), opts.allow_dirty);
    let out = output_path(opts.out.as_deref(), &loaded, &origin)?;
    let out_in_sms = out
        .strip_prefix(root.canonicalize().unwrap_or_else(|_| root.clone()))
        .ok()
        .map(|p| p.to_string_lossy().replace('\\', "/"));

    let Sources {
        files: sources,
        mut not_included,
    } = sources(&loaded, &origin, out_in_sms.as_deref())?;
    let mut view = crate::site::command::git_view(&loaded);
    view.provenance.draft = origin.dirty;
    view.sample = crate::sample::draw_for(&loaded.sources.records, opts.sample.clone())?;
    let site = crate::site::render_in_memory(&loaded, &model, &findings, &view)?;

    // Every entry but the two lists, in any order.
    let mut items: Vec<Item> = Vec::with_capacity(site.files.len() + sources.len() + 8);
    for (path, bytes) in site.files {
        items.push(Item::new(format!("site/{path}"), Body::Bytes(bytes)));
    }
    for rel in &site.attachments {
        // The site shows the tree it was made from: the commit's (as in sources/), or the work
        // tree's (--allow-dirty, no git).
        let body = match (origin.committed, opts.allow_dirty) {
            (Some(_), false) => sources
                .binary_search_by(|(p, _)| p.as_str().cmp(rel))
                .ok()
                .map(|i| same_body(&sources[i].1)),
            // the bytes the site's allow-list checked, not a later read of the file
            _ => Some(match site.attachment_bytes.get(rel) {
                Some(b) => Body::Shared(Arc::clone(b)),
                None => Body::WorkTree(rel.clone()),
            }),
        };
        if let Some(body) = body {
            items.push(Item::new(format!("site/files/{rel}"), body));
        }
    }
    for (path, body) in sources {
        match name_problem(&path) {
            None => items.push(Item::new(format!("sources/{path}"), body)),
            Some(reason) => not_included.push(NotIncluded { path, reason }),
        }
    }
    let effective = effective_texts(&loaded, &model, &origin, &mut items)?;
    items.push(Item::new(
        "findings.json".into(),
        Body::Bytes(crate::report::json(&loaded, &model, &findings).into_bytes()),
    ));
    items.push(Item::new(
        "coverage.csv".into(),
        Body::Bytes(coverage_csv(&loaded, &model).into_bytes()),
    ));
    items.push(Item::new(
        "README.txt".into(),
        Body::Bytes(readme(&loaded, origin.commit.as_ref(), origin.dirty).into_bytes()),
    ));

    let reader = Reader {
        root: &root,
        limit: loaded.config.limits.max_file_size,
        repo: repo.as_ref(),
    };
    // The write phase (`--verbose`): hashing every entry, the lists and the zip.
    let write_started = std::time::Instant::now();
    hash(&mut items, &reader)?;
    not_included.sort_by(|a, b| a.path.cmp(&b.path));
    let templates = crate::site::custom_templates(&loaded)?;
    let manifest_value = Manifest {
        format: manifest::FORMAT,
        tool: crate::report::TOOL,
        organisation: &loaded.config.organisation,
        framework: manifest::Framework {
            id: &model.catalog.id,
            title: &model.catalog.title,
            sha256: &model.catalog.hash,
        },
        frameworks: model
            .framework_summaries()
            .into_iter()
            .map(|(f, coverage)| manifest::FrameworkCoverage {
                id: &f.id,
                title: &f.title,
                primary: f.id == model.catalog.id,
                sha256: &f.hash,
                coverage,
            })
            .collect(),
        mappings: model
            .catalog
            .mappings
            .iter()
            .map(|m| manifest::MappingEntry {
                id: &m.id,
                from: &m.from,
                to: &m.to,
                source: &m.path,
                sha256: &m.hash,
                pairs: m.pairs.len(),
            })
            .collect(),
        commit: origin.commit.clone(),
        as_of: loaded.as_of.to_string(),
        at: loaded.at.as_ref(),
        dirty: origin.dirty,
        uncommitted: &origin.uncommitted,
        coverage: model.summary(),
        findings: counts,
        templates: templates
            .iter()
            .map(|t| manifest::Template {
                name: &t.name,
                sha256: &t.sha256,
            })
            .collect(),
        effective,
        sample: view.sample.as_ref().map(manifest::Sample::of),
        statement_of_applicability: soa_entry(&model),
        not_included: not_included.clone(),
        files_sha256: String::new(),
        files: items
            .iter()
            .map(|i| FileEntry {
                path: i.name.clone(),
                size: i.size,
                sha256: i.sha256.clone(),
            })
            .collect(),
    };
    let (manifest_json, sums, fingerprint) = lists(manifest_value, &items)?;
    items.push(Item::new(
        manifest::MANIFEST.into(),
        Body::Bytes(manifest_json),
    ));
    // The signature is listed in neither list: signing leaves the fingerprint as it is.
    if let Some(signer) = &signer {
        items.push(Item::new(
            sign::SIG.into(),
            Body::Bytes(signer.sign(&sums)?),
        ));
    }
    items.push(Item::new(manifest::SUMS.into(), Body::Bytes(sums)));
    items.sort_by(|a, b| a.name.cmp(&b.name));
    let entries = items.len();
    let size = write_zip(
        &out,
        origin.entry_time(loaded.as_of),
        items,
        &reader,
        &fingerprint,
    )?;
    crate::progress::record(crate::progress::Phase::Write, write_started.elapsed());
    Ok(Outcome {
        out,
        size,
        entries,
        fingerprint,
        commit: origin.commit,
        as_of: loaded.as_of,
        at: loaded.at.as_ref().map(check::At::label),
        dirty: origin.dirty,
        coverage: model.summary(),
        counts,
        left_out: origin.left_out,
        not_included,
        refused: site.refused,
        inside_sms: out_in_sms.is_some(),
        signed_by: signer.as_ref().map(sign::Signer::fingerprint),
    })
}

/// The SMS files for `sources/`.
struct Sources {
    /// (SMS path, body), sorted by path.
    files: Vec<(String, Body)>,
    /// Paths that are not regular files.
    not_included: Vec<NotIncluded>,
}

/// The SMS files for `sources/`: the commit's (from git objects), or the work tree's outside git
/// (never the bundle being written).
fn sources(loaded: &Loaded, origin: &Origin<'_>, own_output: Option<&str>) -> Result<Sources> {
    let mut not_included = Vec::new();
    let limits = &loaded.config.limits;
    let over = loaded.snapshot.over_output_limit(limits);
    let past_output_limit = |path: &str| over.binary_search(&path).is_ok();
    let unportable: std::collections::HashMap<&str, &'static str> = loaded
        .snapshot
        .unportable()
        .into_iter()
        .map(|u| (u.path, u.reason))
        .collect();
    if let Some((repo, head)) = origin.committed {
        let mut tree = repo.committed_tree(&loaded.config, &head.commit)?;
        for p in &tree.not_files {
            let crafted = matches!(
                loaded.snapshot.get(p).map(|e| &e.kind),
                Some(EntryKind::NotRegular { .. })
            );
            not_included.push(NotIncluded {
                path: p.clone(),
                reason: if crafted {
                    "an entry no git client writes (a crafted tree): never read"
                } else {
                    "a symbolic link or submodule: never read"
                },
            });
        }
        tree.files.retain(|f| {
            let reason = if f.size > limits.max_file_size {
                "over limits.max_file_size"
            } else if let Some(why) = unportable.get(f.path.as_str()) {
                why
            } else if past_output_limit(&f.path) {
                "past limits.max_output_size"
            } else {
                return true;
            };
            not_included.push(NotIncluded {
                path: f.path.clone(),
                reason,
            });
            false
        });
        return Ok(Sources {
            files: committed_bodies(loaded, &tree),
            not_included,
        });
    }
    let mut out = Vec::new();
    for e in &loaded.snapshot.entries {
        if own_output.is_some_and(|o| e.path == o || e.path.starts_with(&format!("{o}.tmp-"))) {
            continue;
        }
        let reason = match &e.kind {
            _ if past_output_limit(&e.path) => "past limits.max_output_size",
            _ if unportable.contains_key(e.path.as_str()) => unportable[e.path.as_str()],
            EntryKind::File { bytes: Some(b), .. } => {
                out.push((e.path.clone(), Body::Shared(Arc::clone(b))));
                continue;
            }
            EntryKind::File { bytes: None, .. } => {
                out.push((e.path.clone(), Body::WorkTree(e.path.clone())));
                continue;
            }
            EntryKind::TooLarge { .. } => "over limits.max_file_size",
            EntryKind::NotRegular { .. } => "not a regular file: never opened",
            EntryKind::Symlink { .. } | EntryKind::Submodule => {
                "a symbolic link or submodule: never read"
            }
        };
        not_included.push(NotIncluded {
            path: e.path.clone(),
            reason,
        });
    }
    Ok(Sources {
        files: out,
        not_included,
    })
}

/// `effective/<commit>/<path>`: the approved text in force of each document whose committed
/// revision is a draft or in review (DESIGN "Effective version"), read from the commit that holds
/// it. Adds the entries to `items` and returns their manifest records.
fn effective_texts<'a>(
    loaded: &'a Loaded,
    model: &Model<'a>,
    origin: &Origin<'_>,
    items: &mut Vec<Item>,
) -> Result<Vec<manifest::Effective<'a>>> {
    let mut out = Vec::new();
    let Some((repo, _)) = origin.committed else {
        return Ok(out);
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut keys: Vec<&String> = loaded.effective.keys().collect();
    keys.sort();
    for key in keys {
        let e = &loaded.effective[key];
        let short = e.commit.get(..12).unwrap_or(&e.commit);
        let entry = format!("effective/{short}/{}", e.path);
        if name_problem(&entry).is_some() || !seen.insert(entry.clone()) {
            continue;
        }
        let Some(bytes) =
            repo.read_committed_within(&e.commit, &e.path, loaded.config.limits.max_file_size)?
        else {
            continue;
        };
        let document = model
            .document(key)
            .map(|d| d.id.as_str())
            .unwrap_or(key.as_str());
        out.push(manifest::Effective {
            document,
            version: e.version.as_deref(),
            commit: &e.commit,
            path: &e.path,
            entry: entry.clone(),
        });
        items.push(Item::new(entry, Body::Bytes(bytes)));
    }
    Ok(out)
}

/// Sort `items` by name and fill in sizes and SHA-256: bytes in memory in parallel, blobs and
/// work-tree files one at a time (read, hashed, dropped).
fn hash(items: &mut [Item], reader: &Reader<'_>) -> Result<()> {
    items.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(w) = items.windows(2).find(|w| w[0].name == w[1].name) {
        bail!("internal error: two bundle entries named `{}`", w[0].name);
    }
    items.par_iter_mut().for_each(|item| {
        let bytes: Option<&[u8]> = match &item.body {
            Body::Bytes(b) => Some(b),
            Body::Shared(b) => Some(b),
            Body::Blob(_) | Body::WorkTree(_) => None,
        };
        if let Some(b) = bytes {
            item.size = b.len() as u64;
            item.sha256 = manifest::sha256_hex(b);
        }
    });
    for item in items.iter_mut().filter(|i| i.sha256.is_empty()) {
        let (size, sha) = reader.measure(&item.body)?;
        item.size = size;
        item.sha256 = sha;
    }
    Ok(())
}

/// `manifest.json`, `SHA256SUMS` (every entry and the manifest) and the fingerprint.
fn lists(mut m: Manifest<'_>, items: &[Item]) -> Result<(Vec<u8>, Vec<u8>, String)> {
    m.files_sha256 = manifest::files_digest(&m.files);
    let mut json = serde_json::to_string_pretty(&m).context("cannot write manifest.json")?;
    json.push('\n');
    let manifest_sha = manifest::sha256_hex(json.as_bytes());
    let mut listed: Vec<(&str, &str)> = items
        .iter()
        .map(|i| (i.name.as_str(), i.sha256.as_str()))
        .collect();
    listed.push((manifest::MANIFEST, &manifest_sha));
    listed.sort();
    let sums = manifest::sums(listed);
    let fingerprint = manifest::sha256_hex(sums.as_bytes());
    Ok((json.into_bytes(), sums.into_bytes(), fingerprint))
}

/// Write the entries (sorted by the caller) in bounded batches, compressed in parallel, and
/// return the size of the zip. Work-tree files are hashed again and refused if they changed.
fn write_zip(
    out: &Path,
    time: zip::DateTime,
    items: Vec<Item>,
    reader: &Reader<'_>,
    fingerprint: &str,
) -> Result<u64> {
    const BATCH_BYTES: u64 = 32 << 20;
    const BATCH_ENTRIES: usize = 512;
    let mut zip = archive::Archive::create(out, time)?;
    let mut batch: Vec<(String, Held)> = Vec::new();
    let mut batch_bytes = 0u64;
    let flush = |zip: &mut archive::Archive, batch: &mut Vec<(String, Held)>| -> Result<()> {
        let refs: Vec<(&str, &Held)> = batch.iter().map(|(n, h)| (n.as_str(), h)).collect();
        zip.append(&refs)?;
        batch.clear();
        Ok(())
    };
    let bar = crate::progress::bar("bundle", items.len() as u64);
    for item in items {
        bar.inc(1);
        let recheck = matches!(item.body, Body::WorkTree(_));
        let held = reader.read(item.body)?;
        if recheck && manifest::sha256_hex(held.as_ref()) != item.sha256 {
            bail!(
                "`{}` changed while the bundle was being written; run bundle again",
                item.name
            );
        }
        batch_bytes += held.as_ref().len() as u64;
        batch.push((item.name, held));
        if batch_bytes >= BATCH_BYTES || batch.len() >= BATCH_ENTRIES {
            flush(&mut zip, &mut batch)?;
            batch_bytes = 0;
        }
    }
    flush(&mut zip, &mut batch)?;
    zip.finish(&format!(
        "auditbook evidence bundle; fingerprint (SHA-256 of SHA256SUMS): {fingerprint}"
    ))
}

/// What `bundle` prints: (stdout, stderr). Stdout says what was written and the fingerprint;
/// stderr the notices (left-out changes, DRAFT, findings at error level).
pub fn report(o: &Outcome) -> (String, String) {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut err = String::new();
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    if !o.left_out.is_empty() {
        let shown: Vec<&str> = o.left_out.iter().take(5).map(String::as_str).collect();
        let more = o.left_out.len() - shown.len();
        let _ = writeln!(
            err,
            "note: {} uncommitted change{} left out (the bundle holds HEAD): {}{}; commit them, or pass --allow-dirty for a DRAFT bundle",
            o.left_out.len(),
            plural(o.left_out.len()),
            shown.join(", "),
            if more > 0 { format!(" and {more} more") } else { String::new() }
        );
    }
    for n in &o.not_included {
        let _ = writeln!(
            err,
            "note: `{}` is not in the bundle: {}",
            n.path.escape_debug(),
            n.reason
        );
    }
    for (doc, path) in &o.refused {
        let _ = writeln!(
            err,
            "note: {doc} links to `{path}`, which the site does not copy (not a passive file type whose content matches its name); its page lists it with its SHA-256"
        );
    }
    if o.inside_sms {
        let _ = writeln!(
            err,
            "note: the bundle was written inside the SMS; add `*-evidence-*.zip` to .gitignore (or write it elsewhere with --out), or git counts it as an uncommitted change"
        );
    }
    if o.dirty {
        let _ = writeln!(
            err,
            "DRAFT: {}; the file name and every page say so",
            match &o.commit {
                Some(_) => "the bundle holds uncommitted work",
                None => "the SMS is not in git (or has no commit), so the bundle is not bound to a commit",
            }
        );
    }
    if o.counts.errors > 0 {
        let _ = writeln!(
            err,
            "FINDINGS: the bundle was written, but it shows {} finding{} at error level ({} warning{}); the auditor will see these gaps",
            o.counts.errors,
            plural(o.counts.errors),
            o.counts.warnings,
            plural(o.counts.warnings)
        );
    }
    let _ = writeln!(
        out,
        "wrote {} ({} files, {:.1} MiB)",
        o.out.display(),
        o.entries,
        o.size as f64 / (1024.0 * 1024.0)
    );
    match &o.commit {
        Some(c) => {
            let _ = writeln!(out, "  commit       {} ({})", c.id, c.time);
        }
        None => {
            let _ = writeln!(out, "  commit       none (DRAFT)");
        }
    }
    if let Some(at) = &o.at {
        let _ = writeln!(out, "  past state   the SMS {at}");
    }
    let _ = writeln!(out, "  as of        {}", o.as_of);
    let _ = writeln!(
        out,
        "  coverage     {}/{} clauses covered ({} partial, {} missing)",
        o.coverage.covered, o.coverage.clauses, o.coverage.partial, o.coverage.missing
    );
    let _ = writeln!(
        out,
        "  findings     {} error{}, {} warning{}, {} note{}",
        o.counts.errors,
        plural(o.counts.errors),
        o.counts.warnings,
        plural(o.counts.warnings),
        o.counts.notes,
        plural(o.counts.notes)
    );
    let _ = writeln!(out, "  fingerprint  {}", o.fingerprint);
    if let Some(key) = &o.signed_by {
        let _ = writeln!(
            out,
            "  signed by    {key} ({}, namespace {})",
            sign::SIG,
            sign::NAMESPACE
        );
    }
    let _ = writeln!(
        out,
        "Send the fingerprint to the auditor through another channel; `auditbook verify` or `sha256sum SHA256SUMS` shows it."
    );
    (out, err)
}

/// `sources/` bodies for a committed tree: the snapshot's bytes where git confirms they are the
/// committed blob (always, when the SMS was loaded from HEAD), else the blob itself.
fn committed_bodies(loaded: &Loaded, tree: &CommittedTree) -> Vec<(String, Body)> {
    tree.files
        .par_iter()
        .map(|f| {
            let held = match loaded.snapshot.get(&f.path).map(|e| &e.kind) {
                Some(EntryKind::File { bytes: Some(b), .. }) if f.blob.matches(b) => {
                    Some(Arc::clone(b))
                }
                _ => None,
            };
            let body = match held {
                Some(b) => Body::Shared(b),
                None => Body::Blob(f.blob),
            };
            (f.path.clone(), body)
        })
        .collect()
}

/// A second reference to the same bytes (for a site attachment that is also in `sources/`).
fn same_body(body: &Body) -> Body {
    match body {
        Body::Bytes(b) => Body::Bytes(b.clone()),
        Body::Shared(b) => Body::Shared(Arc::clone(b)),
        Body::Blob(id) => Body::Blob(*id),
        Body::WorkTree(p) => Body::WorkTree(p.clone()),
    }
}

/// Committer time, RFC 3339 in the commit's own offset.
fn commit_time(head: &history::Head) -> String {
    let offset = jiff::tz::Offset::from_seconds(head.offset_minutes.saturating_mul(60))
        .unwrap_or(jiff::tz::Offset::UTC);
    match jiff::Timestamp::from_second(head.time) {
        Ok(ts) => ts
            .to_zoned_datetime(jiff::tz::TimeZone::fixed(offset))
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string(),
        Err(_) => head.time.to_string(),
    }
}

/// The organisation's name as a file-name part: lower-case ASCII letters and digits joined by `-`.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut out: String = out.trim_end_matches('-').chars().take(60).collect();
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        "sms".into()
    } else {
        out
    }
}

/// `--out`, or `<organisation>-evidence-<commit>[-DRAFT].zip` in the current folder; refused when
/// it is a folder, its folder does not exist, or it would write into the SMS sources.
fn output_path(out: Option<&Path>, loaded: &Loaded, origin: &Origin<'_>) -> Result<PathBuf> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let wanted = match out {
        Some(p) => cwd.join(p),
        None => {
            let org = slug(&loaded.config.organisation);
            let name = match &origin.commit {
                Some(c) => format!(
                    "{org}-evidence-{}{}.zip",
                    c.id.get(..12).unwrap_or(&c.id),
                    if origin.dirty { "-DRAFT" } else { "" }
                ),
                None => format!("{org}-evidence-{}-DRAFT.zip", loaded.as_of),
            };
            cwd.join(name)
        }
    };
    let Some(name) = wanted.file_name().map(|n| n.to_os_string()) else {
        bail!("`{}` is not a file name for the bundle", wanted.display());
    };
    let parent = wanted.parent().unwrap_or(Path::new("."));
    let parent = parent
        .canonicalize()
        .with_context(|| format!("cannot write the bundle into `{}`", parent.display()))?;
    let out = parent.join(name);
    if std::fs::symlink_metadata(&out).is_ok_and(|m| m.is_dir()) {
        bail!(
            "`{}` is a folder; pass the path of a .zip file with --out",
            out.display()
        );
    }
    if crate::site::output::inside_git(&loaded.config.root, &out) {
        bail!(
            "refusing to write the bundle to `{}`: it is inside the git directory.\nhelp: pass --out with a path outside `.git`",
            out.display()
        );
    }
    // Never into the SMS sources (DESIGN "Output folder"): inside the SMS root only a `.zip`, and
    // only over a bundle auditbook made, never over a document, record or attachment.
    let root = loaded
        .config
        .root
        .canonicalize()
        .unwrap_or_else(|_| loaded.config.root.clone());
    if out.starts_with(&root) {
        let zip_name = out
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
        let exists = std::fs::symlink_metadata(&out).is_ok();
        if !zip_name || (exists && !is_bundle(&out)) {
            bail!(
                "refusing to write the bundle to `{}`: it is inside the SMS and {}; auditbook never writes into the SMS sources.\nhelp: pass --out with a new .zip file name, or a path outside the SMS",
                out.display(),
                if zip_name { "is not a bundle auditbook made" } else { "not a .zip file" }
            );
        }
    }
    Ok(out)
}

/// Whether `path` is a regular file holding a bundle auditbook made (its zip comment says so).
fn is_bundle(path: &Path) -> bool {
    let regular = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file());
    regular
        && std::fs::File::open(path)
            .ok()
            .and_then(|f| zip::ZipArchive::new(std::io::BufReader::new(f)).ok())
            .is_some_and(|z| z.comment().starts_with(b"auditbook evidence bundle"))
}

/// The manifest's summary of the Statement of Applicability, when the model has one.
fn soa_entry<'m>(model: &Model<'m>) -> Option<manifest::SoaEntry<'m>> {
    let s = model.soa.as_ref()?;
    let fi = crate::soa::framework(model.catalog)?;
    let d = &model.sources.documents[s.document];
    let (mut controls, mut applicable, mut excluded) = (0, 0, 0);
    for (ci, _) in crate::soa::controls(model.catalog, fi) {
        controls += 1;
        match s.entry_for(ci).and_then(|e| e.applicable) {
            Some(true) => applicable += 1,
            Some(false) => excluded += 1,
            None => {}
        }
    }
    Some(manifest::SoaEntry {
        document: &d.id,
        version: d.version.as_ref().map(|v| v.text.as_str()),
        status: d.status.as_str(),
        path: &d.path,
        controls,
        applicable,
        excluded,
        undecided: controls - applicable - excluded,
        table: "site/soa.html",
        csv: "site/soa.csv",
    })
}

/// `coverage.csv`: one row per catalogue clause, in catalogue order.
fn coverage_csv(loaded: &Loaded, model: &Model<'_>) -> String {
    let mut out = String::new();
    row(
        &mut out,
        &[
            "clause",
            "framework",
            "title",
            "evidence",
            "status",
            "documented",
            "evidenced",
            "current",
            "documents",
            "records",
            "missing_documents",
            "missing_record_kinds",
            "stale_record_kinds",
            "operated_by",
        ],
    );
    let yes_no = |b: Option<bool>| match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    };
    for (c, cov) in model.catalog.clauses.iter().zip(&model.coverage) {
        let docs: Vec<&str> = cov
            .documents
            .iter()
            .map(|&i| loaded.sources.documents[i].id.as_str())
            .collect();
        let stale: Vec<&str> = cov.stale_kinds.iter().map(|s| s.kind.as_str()).collect();
        let records = cov.records.len().to_string();
        row(
            &mut out,
            &[
                &c.id,
                &model.catalog.framework_of(c).id,
                &c.title,
                c.evidence.as_str(),
                cov.status.as_str(),
                yes_no(cov.documented),
                yes_no(cov.evidenced),
                yes_no(Some(cov.current)),
                &docs.join(" "),
                &records,
                &cov.missing_documents.join(" "),
                &cov.missing_kinds.join(" "),
                &stale.join(" "),
                cov.delegated_to.as_deref().unwrap_or(""),
            ],
        );
    }
    out
}

/// One CSV row (RFC 4180 quoting; cells that a spreadsheet would run as a formula get a `'`).
fn row(out: &mut String, cells: &[&str]) {
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let c = if c.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{c}")
        } else {
            c.to_string()
        };
        if c.contains(crate::report::CSV_QUOTED) {
            out.push('"');
            out.push_str(&c.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&c);
        }
    }
    out.push_str("\r\n");
}

/// `README.txt`: how to open and how to verify. Plain text, CRLF-free, the same for every bundle
/// of a commit and as-of date.
fn readme(loaded: &Loaded, commit: Option<&manifest::Commit>, dirty: bool) -> String {
    let made_from = match commit {
        Some(c) => format!("commit {} ({})", c.id, c.time),
        None => "a folder that is not in git (no commit)".to_string(),
    };
    let draft = if dirty {
        "\nDRAFT: this bundle holds uncommitted work; it is not bound to a commit, and every page of\nthe site says so. Ask for a bundle made from a commit.\n"
    } else {
        ""
    };
    format!(
        "Evidence bundle of {org}\n\
         Service management system checked against {framework}, as of {as_of}\n\
         Made by auditbook {version} from {made_from}.\n\
         {draft}\n\
         OPEN\n\
         Unzip the file and open site/index.html in a web browser. The site works offline: no\n\
         server, no network. sources/ holds every document and record exactly as committed;\n\
         effective/ the approved text of documents being revised; coverage.csv the status of\n\
         every clause; findings.json every finding (the format of `auditbook check --format json`);\n\
         manifest.json what this bundle is (commit, as-of date, tool) and the size and SHA-256 of\n\
         every file.\n\
         \n\
         VERIFY\n\
         The fingerprint of this bundle is the SHA-256 of its SHA256SUMS file. Get the fingerprint\n\
         from the organisation through another channel (e-mail, the audit plan) and compare.\n\
         \n\
         With auditbook:     auditbook verify BUNDLE.zip\n\
         \x20                   (checks every file without extracting; prints the fingerprint)\n\
         \n\
         Without auditbook (GNU coreutils), in the folder the bundle was unzipped into:\n\
         \x20   sha256sum -c SHA256SUMS     every line must say OK\n\
         \x20   sha256sum SHA256SUMS        this is the fingerprint\n\
         On macOS use `shasum -a 256` instead of `sha256sum`. A file that is in the folder but\n\
         not in SHA256SUMS (other than SHA256SUMS.sig) was added after the bundle was made\n\
         (auditbook verify reports those too).\n\
         \n\
         SIGNATURE\n\
         A signed bundle also holds SHA256SUMS.sig, an SSH signature of SHA256SUMS (namespace\n\
         auditbook-bundle). Get the signer's allowed_signers line (`who@example ssh-ed25519 AAAA...`)\n\
         from the organisation through another channel, put it in a file allowed_signers, then:\n\
         \x20   ssh-keygen -Y verify -f allowed_signers -I who@example -n auditbook-bundle \\\n\
         \x20       -s SHA256SUMS.sig < SHA256SUMS\n\
         or: auditbook verify BUNDLE.zip --signer allowed_signers\n",
        org = loaded.config.organisation,
        framework = loaded.catalog.id,
        as_of = loaded.as_of,
        version = env!("CARGO_PKG_VERSION"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_names_are_named() {
        for bad in [
            "",
            "/etc/passwd",
            "../evil",
            "site/../../evil",
            "a\\b",
            "C:/x",
            "c:x",
            "a//b",
            "./a",
            "a/",
            "a\nb",
        ] {
            assert!(name_problem(bad).is_some(), "{bad:?} passed");
        }
        for good in [
            "site/index.html",
            "sources/policies/a b.md",
            "README.txt",
            "a..b",
        ] {
            assert_eq!(name_problem(good), None, "{good:?} refused");
        }
    }

    #[test]
    fn organisation_slugs() {
        assert_eq!(slug("Acme Services Ltd."), "acme-services-ltd");
        assert_eq!(slug("  ÄÖ  "), "sms");
        assert_eq!(slug("R&D / IT"), "r-d-it");
    }
}
