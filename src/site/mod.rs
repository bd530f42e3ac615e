//! The evidence site: the linked model rendered as static HTML that works from `file://`.
//!
//! `site` takes the model and the findings of a run and writes a folder: a dashboard, the clause
//! tree and one page per clause, document, record and record kind, a document register, a
//! traceability matrix, the findings, an offline search and (with history) the changes since a
//! revision. Templates are minijinja, embedded in the binary and overridable by the SMS's
//! `templates/` folder; they receive small serde view structs (see `pages`), never domain types.
//!
//! Pages are rendered in parallel (rayon) in chunks of 256 in sorted order, and each chunk is
//! written to disk (in parallel) while the next one renders, so the site is never held in memory
//! as a whole (`bundle` alone collects it, for its zip). Nothing in a page
//! depends on the clock, the machine or scheduling, so the same input gives a byte-identical site.
//! The folder is replaced atomically (see `output`).
//!
//! `serve` keeps a [`Memo`] between builds ([`update`]): the key (a hash) of each page's template
//! and context, each document's rendered body and each written file's bytes. A rebuild renders
//! only the pages whose key changed and writes, in place, only the files whose bytes changed, so
//! that an edit costs a fraction of a build while the folder ends up byte for byte as a build
//! would write it.

pub mod attachment;
pub mod command;
pub mod html;
mod http;
pub mod output;
mod pages;
mod search;
pub mod serve;
pub mod session;
mod templates;

use crate::check::Loaded;
use crate::diag::Diagnostic;
use crate::model::Model;
use crate::regular::Regular;
use crate::snapshot::Stamp;
use anyhow::{Context, Result};
use pages::Key;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

pub use output::MARKER;

/// What the run knows about where the SMS came from (from git history, when there is one).
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    /// The commit the site shows (full id).
    pub commit: Option<String>,
    /// Its committer date, `YYYY-MM-DD`.
    pub commit_date: Option<String>,
    /// The work tree had uncommitted changes: every page carries a DRAFT banner.
    pub draft: bool,
    /// `--at`: "as it stood on DATE (commit …)", on a banner of every page.
    pub at: Option<String>,
}

/// One revision of a document, for its version-history table.
#[derive(Debug, Clone, Default)]
pub struct Revision {
    pub commit: String,
    pub date: String,
    pub author: String,
    pub version: Option<String>,
    pub status: Option<String>,
    /// claimed | claimed (trailer by the author) | corroborated | signed (…), when the revision
    /// approved a version (README "Approval evidence").
    pub approval: Option<String>,
    /// What the commit's signature, and those of signed tags on it, say (any signer).
    pub signature: Option<String>,
    pub summary: String,
}

/// A document or record that changed since a revision.
#[derive(Debug, Clone, Default)]
pub struct Change {
    /// document | record
    pub what: String,
    pub id: String,
    pub title: String,
    /// added | changed | removed
    pub how: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// The "changes since" page.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// The revision as the user named it.
    pub since: String,
    pub since_commit: String,
    pub since_date: Option<String>,
    pub changes: Vec<Change>,
}

/// Git-derived input of the site; all optional.
#[derive(Debug, Clone, Default)]
pub struct GitView {
    pub provenance: Provenance,
    /// Lower-cased document id -> revisions, newest first.
    pub revisions: std::collections::HashMap<String, Vec<Revision>>,
    /// Lower-cased document id -> the file's commits before it came under document control,
    /// newest first (only date, author, commit and summary are set).
    pub before_control: std::collections::HashMap<String, Vec<Revision>>,
    pub changes: Option<Changes>,
    /// The auditor's sample drawn for this build (`--sample-kind …`): not from git, but input
    /// of the site that the pages share like the history.
    pub sample: Option<crate::sample::Drawn>,
}

/// The result of a build, for the command line to report.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub out: PathBuf,
    pub pages: usize,
    pub files: usize,
    /// Files documents link to that were not copied (HTML, SVG outside `<img>`), with the
    /// document that links to them.
    pub refused: Vec<(String, String)>,
}

/// A file of the site, relative to its root.
struct OutFile {
    path: String,
    bytes: Vec<u8>,
}

/// Where [`render_all`] puts the files it makes. Files are handed over a chunk at a time as they
/// are rendered (the next chunk renders meanwhile), so the whole site is never held in memory.
trait Sink: Sync {
    /// Every file the site will have (pages, kept or not, and the other files), before any is
    /// emitted: a folder can make its sub-folders, or delete what the site no longer has.
    fn prepare(&self, paths: &[&str]) -> Result<()>;
    /// A chunk of files, each path once in the whole build.
    fn emit(&self, files: Vec<OutFile>) -> Result<()>;
}

/// What [`render_all`] did besides emitting files.
struct RenderedSite {
    /// Pages a memo showed unchanged since its build: not rendered, their bytes are those of the
    /// previous build.
    kept: Vec<String>,
    /// Pages rendered (and emitted).
    rendered: usize,
    /// SMS paths to copy into `files/`.
    attachments: Vec<String>,
    /// The bytes of each attachment as the snapshot read them: the bytes `site::attachment`
    /// checked are the bytes written, so a file swapped after the check is never copied.
    attachment_bytes: HashMap<String, std::sync::Arc<[u8]>>,
    /// (document id, SMS path) of linked files that are never copied.
    refused: Vec<(String, String)>,
}

/// Render the site into `sink`: the files that are not pages first, then the pages in sorted
/// order, in chunks. With a memo (`serve`), pages whose template and context are those of the
/// memo's build are not rendered again (they are listed in `kept`), and the memo is updated to
/// this build.
fn render_all(
    loaded: &Loaded,
    model: &Model<'_>,
    findings: &[Diagnostic],
    history: &GitView,
    memo: Option<&mut Memo>,
    changed: Option<&HashSet<String>>,
    sink: &dyn Sink,
) -> Result<RenderedSite> {
    crate::progress::timed(crate::progress::Phase::Render, || {
        render_all_untimed(loaded, model, findings, history, memo, changed, sink)
    })
}

/// Pages rendered at a time: parallel inside a chunk, chunks in order.
const CHUNK: usize = 256;

fn render_all_untimed(
    loaded: &Loaded,
    model: &Model<'_>,
    findings: &[Diagnostic],
    history: &GitView,
    mut memo: Option<&mut Memo>,
    changed: Option<&HashSet<String>>,
    sink: &dyn Sink,
) -> Result<RenderedSite> {
    let templates = templates::Templates::load(loaded)?;
    if let Some(m) = memo.as_deref_mut() {
        let fingerprint = templates.fingerprint();
        if m.templates != fingerprint {
            m.pages.clear();
            m.records = Default::default();
            m.templates = fingerprint;
        }
    }
    let site = pages::Site::new(
        loaded,
        model,
        findings,
        history,
        &templates,
        memo.as_deref().map(|m| &m.bodies),
    );
    // Taken for the search index, put back with the rest of the memo at the end.
    let mut search_memo = memo.as_deref_mut().map(|m| std::mem::take(&mut m.search));
    let mut extra: Vec<OutFile> = site
        .extra_files(search_memo.as_mut())?
        .into_iter()
        .map(|(path, bytes)| OutFile { path, bytes })
        .collect();
    extra.sort_by(|a, b| a.path.cmp(&b.path));
    let previous = memo.as_deref().map(|m| &m.pages);
    // Record pages keep their keys without building their contexts when nothing they share
    // changed and no record's file did (see `pages::RecordMemo`).
    let shared = match memo.is_some() {
        true => Some(site.record_shared_key()?),
        false => None,
    };
    let reuse = match (memo.as_deref(), changed) {
        (Some(m), Some(changed))
            if shared.is_some()
                && m.records_shared() == shared
                && !site.touches_records(changed) =>
        {
            Some(&m.records)
        }
        _ => None,
    };
    let mut own_keys: HashMap<String, Key> = HashMap::new();
    let mut list = site.page_list();
    list.sort();
    let paths: Vec<String> = list.iter().map(pages::Page::path).collect();
    let every: Vec<&str> = paths
        .iter()
        .map(String::as_str)
        .chain(extra.iter().map(|f| f.path.as_str()))
        .collect();
    sink.prepare(&every)?;
    drop(every);
    let mut kept = Vec::new();
    let mut rendered = 0;
    let mut keys: HashMap<String, Key> = HashMap::with_capacity(list.len());
    // A bar for whole builds; `serve`'s rebuilds (with a memo) log their own line instead.
    let bar = crate::progress::bar("render", if memo.is_none() { list.len() as u64 } else { 0 });
    // Each chunk is emitted (written) while the next one renders.
    let mut pending = Some(extra);
    for (chunk, chunk_paths) in list.chunks(CHUNK).zip(paths.chunks(CHUNK)) {
        let ready = pending.take();
        let (emitted, out) = rayon::join(
            || ready.map_or(Ok(()), |files| sink.emit(files)),
            || {
                chunk
                    .par_iter()
                    .map(|page| site.render(page, previous, reuse))
                    .collect::<Vec<Result<pages::PageOut>>>()
            },
        );
        emitted?;
        bar.inc(chunk.len() as u64);
        let mut files = Vec::with_capacity(chunk.len());
        for (path, r) in chunk_paths.iter().zip(out) {
            let out = r?;
            if let Some(k) = out.key {
                keys.insert(path.clone(), k);
            }
            if let Some(k) = out.own {
                own_keys.insert(path.clone(), k);
            }
            match out.bytes {
                Some(bytes) => {
                    rendered += 1;
                    files.push(OutFile {
                        path: path.clone(),
                        bytes,
                    });
                }
                None => kept.push(path.clone()),
            }
        }
        pending = Some(files);
    }
    if let Some(files) = pending {
        sink.emit(files)?;
    }
    drop(bar);
    if let Some(m) = memo {
        m.pages = keys;
        m.records = pages::RecordMemo::new(shared, own_keys);
        m.bodies = site.body_memo();
        m.search = search_memo.unwrap_or_default();
    }
    let attachments = site.attachments();
    let attachment_bytes = attachments
        .iter()
        .filter_map(|a| match &loaded.snapshot.get(a)?.kind {
            crate::snapshot::EntryKind::File { bytes: Some(b), .. } => {
                Some((a.clone(), std::sync::Arc::clone(b)))
            }
            _ => None,
        })
        .collect();
    Ok(RenderedSite {
        kept,
        rendered,
        attachments,
        attachment_bytes,
        refused: site.refused(),
    })
}

/// A sink that keeps every file in memory (the bundle writes them into a zip).
#[derive(Default)]
struct Collect(std::sync::Mutex<Vec<OutFile>>);

impl Sink for Collect {
    fn prepare(&self, _paths: &[&str]) -> Result<()> {
        Ok(())
    }

    fn emit(&self, files: Vec<OutFile>) -> Result<()> {
        self.0
            .lock()
            .map_err(|_| anyhow::anyhow!("internal error: a rendering thread panicked"))?
            .extend(files);
        Ok(())
    }
}

/// A sink that writes into a folder, in parallel: a new one (`build`), or (`serve`) the site of
/// the previous build, where only files whose bytes changed are written and files the site no
/// longer has are deleted first.
struct Folder<'w> {
    dir: PathBuf,
    /// What the folder holds (site path -> key of its bytes), when it is updated in place.
    holds: Option<&'w HashMap<String, Key>>,
    /// Keep the key of every emitted file (for the next update of a `serve` session).
    keep_keys: bool,
    state: std::sync::Mutex<FolderState>,
}

#[derive(Default)]
struct FolderState {
    /// (site path, key) of the files emitted, when keys are kept.
    keys: Vec<(String, Key)>,
    /// Site paths written.
    written: usize,
    /// Site paths deleted by `prepare`.
    removed: Vec<String>,
    /// Every file emitted; of them, pages.
    files: usize,
    pages: usize,
    /// Time spent writing (while the next chunk rendered).
    write_time: std::time::Duration,
}

impl<'w> Folder<'w> {
    fn new(dir: PathBuf, holds: Option<&'w HashMap<String, Key>>, keep_keys: bool) -> Folder<'w> {
        Folder {
            dir,
            holds,
            keep_keys,
            state: Default::default(),
        }
    }

    fn state(&self) -> Result<std::sync::MutexGuard<'_, FolderState>> {
        self.state
            .lock()
            .map_err(|_| anyhow::anyhow!("internal error: a writing thread panicked"))
    }

    fn into_state(self) -> FolderState {
        self.state.into_inner().unwrap_or_default()
    }
}

impl Sink for Folder<'_> {
    fn prepare(&self, paths: &[&str]) -> Result<()> {
        // Pages the site no longer has go first, so that no reader sees a new page (say the
        // findings of a document that lost its page) next to a page that is already gone.
        if let Some(holds) = self.holds {
            let present: HashSet<&str> = paths.iter().copied().collect();
            let mut gone: Vec<&String> = holds
                .keys()
                .filter(|p| !present.contains(p.as_str()))
                .collect();
            gone.sort();
            for p in &gone {
                remove_from(&self.dir, p)?;
            }
            self.state()?.removed = gone.into_iter().cloned().collect();
        }
        let dirs: std::collections::BTreeSet<&Path> =
            paths.iter().filter_map(|p| Path::new(p).parent()).collect();
        for d in dirs {
            let d = self.dir.join(d);
            std::fs::create_dir_all(&d)
                .with_context(|| format!("cannot create `{}`", d.display()))?;
        }
        Ok(())
    }

    fn emit(&self, files: Vec<OutFile>) -> Result<()> {
        let started = std::time::Instant::now();
        let keyed = self.keep_keys || self.holds.is_some();
        let n_files = files.len();
        let n_pages = files.iter().filter(|f| f.path.ends_with(".html")).count();
        // Per file: its key (when keys are kept) and whether it was written.
        let done: Vec<(Option<(String, Key)>, bool)> = files
            .into_par_iter()
            .map(|f| -> Result<_> {
                let key = keyed.then(|| bytes_key(&f.bytes));
                let unchanged = match (self.holds, &key) {
                    (Some(h), Some(k)) => h.get(&f.path) == Some(k),
                    _ => false,
                };
                if !unchanged {
                    let p = self.dir.join(&f.path);
                    std::fs::write(&p, &f.bytes)
                        .with_context(|| format!("cannot write `{}`", p.display()))?;
                }
                Ok((key.map(|k| (f.path, k)), !unchanged))
            })
            .collect::<Result<_>>()?;
        let mut state = self.state()?;
        state.files += n_files;
        state.pages += n_pages;
        for (key, written) in done {
            state.written += usize::from(written);
            if let Some(k) = key.filter(|_| written || self.keep_keys) {
                state.keys.push(k);
            }
        }
        state.write_time += started.elapsed();
        drop(state);
        crate::progress::record(crate::progress::Phase::Write, started.elapsed());
        Ok(())
    }
}

/// The site in memory, for the auditor bundle (`crate::bundle`), which writes it into a zip
/// instead of a folder.
pub struct InMemory {
    /// (site-relative path, bytes), sorted by path.
    pub files: Vec<(String, Vec<u8>)>,
    /// SMS-relative paths of linked files that belong under `files/`; the caller supplies their
    /// bytes, from the same tree the site was made from.
    pub attachments: Vec<String>,
    /// The bytes of those attachments that the allow-list checked (see [`RenderedSite`]).
    pub attachment_bytes: HashMap<String, std::sync::Arc<[u8]>>,
    /// (document id, SMS path) of linked files that are never copied.
    pub refused: Vec<(String, String)>,
}

/// Render the site into memory (see [`InMemory`]); [`build`] without the folder.
pub fn render_in_memory(
    loaded: &Loaded,
    model: &Model<'_>,
    findings: &[Diagnostic],
    view: &GitView,
) -> Result<InMemory> {
    let sink = Collect::default();
    let site = render_all(loaded, model, findings, view, None, None, &sink)?;
    let mut files = sink.0.into_inner().unwrap_or_default();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(InMemory {
        files: files.into_iter().map(|f| (f.path, f.bytes)).collect(),
        attachments: site.attachments,
        attachment_bytes: site.attachment_bytes,
        refused: site.refused,
    })
}

/// Templates and assets the SMS overrides, with their SHA-256, sorted by name (for the bundle's
/// manifest: custom templates are trusted code of the SMS).
pub fn custom_templates(loaded: &Loaded) -> Result<Vec<templates::Custom>> {
    Ok(templates::Templates::load(loaded)?.custom)
}

/// Where the files that documents link to (images, PDFs) are copied from: the tree the site
/// shows.
pub enum FilesFrom<'r> {
    /// The work tree below the SMS root (`serve`, `build --allow-dirty`, an SMS outside git).
    WorkTree,
    /// A commit's tree, read from git objects (`build` of HEAD).
    Commit {
        repo: &'r crate::history::Repo,
        commit: &'r str,
    },
}

/// Build the site into `out` (already checked with [`output::resolve`]), replacing the folder.
/// Pages are written into the new folder as they are rendered.
pub fn build(
    loaded: &Loaded,
    model: &Model<'_>,
    findings: &[Diagnostic],
    history: &GitView,
    out: &Path,
    files_from: &FilesFrom<'_>,
) -> Result<Outcome> {
    output::check(&loaded.config.root, out)?;
    Ok(replace(loaded, model, findings, history, None, out, files_from)?.0)
}

/// Render a whole site into a new folder, streamed to disk, and swap it into place at `out`.
/// With a memo (the first build of a `serve` session) the memo is updated and the keys of the
/// written files are returned.
fn replace(
    loaded: &Loaded,
    model: &Model<'_>,
    findings: &[Diagnostic],
    history: &GitView,
    memo: Option<&mut Memo>,
    out: &Path,
    files_from: &FilesFrom<'_>,
) -> Result<(Outcome, RenderedSite, FolderState)> {
    let config = &loaded.config;
    let limit = config.limits.max_file_size;
    let staging = output::Staging::new(out)?;
    let keep_keys = memo.is_some();
    let sink = Folder::new(staging.dir.clone(), None, keep_keys);
    let site = render_all(loaded, model, findings, history, memo, None, &sink)?;
    let written = sink.into_state();
    debug_assert!(
        site.kept.is_empty(),
        "a folder is replaced only by a whole site"
    );
    crate::progress::timed(crate::progress::Phase::Write, || -> Result<()> {
        let dirs: std::collections::BTreeSet<PathBuf> = site
            .attachments
            .iter()
            .filter_map(|a| Path::new("files").join(a).parent().map(Path::to_path_buf))
            .collect();
        for d in dirs {
            let d = staging.dir.join(d);
            std::fs::create_dir_all(&d)
                .with_context(|| format!("cannot create `{}`", d.display()))?;
        }
        // The bytes the allow-list checked; a file without them (which the allow-list does not
        // let through today) is read as before.
        site.attachment_bytes.par_iter().try_for_each(|(a, b)| {
            let dest = staging.dir.join("files").join(a);
            std::fs::write(&dest, b).with_context(|| format!("cannot write `{}`", dest.display()))
        })?;
        let unread = site
            .attachments
            .iter()
            .filter(|a| !site.attachment_bytes.contains_key(*a));
        match files_from {
            FilesFrom::WorkTree => {
                for a in unread {
                    copy_attachment(&config.root, a, &staging.dir, limit)?;
                }
            }
            FilesFrom::Commit { repo, commit } => {
                // One at a time: a repository handle is not shared between threads.
                for a in unread {
                    let Some(bytes) = repo.read_committed_within(commit, a, limit)? else {
                        anyhow::bail!(
                            "`{a}` is not a file of the commit {commit} within `limits.max_file_size`"
                        );
                    };
                    let dest = staging.dir.join("files").join(a);
                    std::fs::write(&dest, bytes)
                        .with_context(|| format!("cannot write `{}`", dest.display()))?;
                }
            }
        }
        staging.commit()
    })?;
    let outcome = Outcome {
        out: out.to_path_buf(),
        pages: written.pages,
        files: written.files + site.attachments.len(),
        refused: site.refused.clone(),
    };
    Ok((outcome, site, written))
}

/// What the previous build of a `serve` session rendered and wrote, so that the next build
/// renders only the pages whose input changed and writes only the files whose bytes changed.
#[derive(Default)]
pub struct Memo {
    /// Custom templates in use ([`templates::Templates::fingerprint`]); pages are rendered again
    /// when they change.
    templates: String,
    bodies: pages::BodyMemo,
    /// The terms of the search index's entries.
    search: search::Memo,
    /// Page path -> key of its template and context.
    pages: HashMap<String, Key>,
    /// What lets record pages keep their keys (see `pages::RecordMemo`).
    records: pages::RecordMemo,
    /// What the output folder holds; `None` before the first build and after a failed one: the
    /// next build then replaces the folder as a whole.
    written: Option<Written>,
}

impl Memo {
    fn records_shared(&self) -> Option<Key> {
        self.records.shared()
    }
}

struct Written {
    /// Site path -> key of its bytes (pages, assets, search index, CSV files).
    files: HashMap<String, Key>,
    /// SMS path of each copied attachment -> the stamp of the file it was copied from.
    attachments: HashMap<String, Option<Stamp>>,
}

/// What an update of the output folder did.
#[derive(Debug, Clone, Default)]
pub struct Update {
    pub outcome: Outcome,
    /// Pages rendered (the others were unchanged and not rendered again).
    pub rendered: usize,
    /// Files written: new bytes, new files and copied attachments.
    pub written: usize,
    /// Files deleted because the site no longer has them.
    pub removed: usize,
    /// The folder was replaced as a whole (the first build of a session).
    pub replaced: bool,
    /// Time spent rendering (with the keys of unchanged pages) and writing.
    pub render: std::time::Duration,
    pub write: std::time::Duration,
}

/// Build the site of a work tree into `out` for `serve`: the first time (or after a failure)
/// like [`build`]; afterwards only the pages whose input changed are rendered and, in place,
/// only the files whose bytes differ from what the folder holds are written, pages the site no
/// longer has are deleted, and attachments are copied again when their file's stamp changed
/// (`stamp_of`). The folder then holds the same bytes as a [`build`] of the same input.
///
/// `changed`: the SMS files whose bytes changed since the memo's build (added and removed ones
/// included), when the caller knows them (`None` after a full reload: then nothing is taken
/// from the memo that the files could change without a page key noticing).
#[allow(clippy::too_many_arguments)]
pub fn update(
    loaded: &Loaded,
    model: &Model<'_>,
    findings: &[Diagnostic],
    history: &GitView,
    out: &Path,
    memo: &mut Memo,
    changed: Option<&HashSet<String>>,
    stamp_of: &(dyn Fn(&str) -> Option<Stamp> + Sync),
) -> Result<Update> {
    let root = &loaded.config.root;
    output::check(root, out)?;
    // Taken: if anything below fails, the next build replaces the folder.
    let written = memo.written.take().filter(|_| out.join(MARKER).is_file());
    if written.is_none() {
        memo.pages.clear();
        memo.records = Default::default();
    }
    let started = std::time::Instant::now();
    let Some(mut w) = written else {
        let (outcome, site, state) = replace(
            loaded,
            model,
            findings,
            history,
            Some(memo),
            out,
            &FilesFrom::WorkTree,
        )?;
        let total = started.elapsed();
        memo.written = Some(Written {
            files: state.keys.into_iter().collect(),
            attachments: site
                .attachments
                .iter()
                .map(|a| (a.clone(), stamp_of(a)))
                .collect(),
        });
        return Ok(Update {
            rendered: site.rendered,
            written: outcome.files,
            removed: 0,
            replaced: true,
            outcome,
            render: total.saturating_sub(state.write_time),
            write: state.write_time,
        });
    };
    let sink = Folder::new(out.to_path_buf(), Some(&w.files), false);
    let site = render_all(loaded, model, findings, history, Some(memo), changed, &sink)?;
    let state = sink.into_state();
    let render = started.elapsed().saturating_sub(state.write_time);
    let mut removed = state.removed.len();
    for p in &state.removed {
        w.files.remove(p);
    }
    let mut n_written = state.written;
    w.files.extend(state.keys);
    let attachments: HashSet<&str> = site.attachments.iter().map(String::as_str).collect();
    for a in &site.attachments {
        let stamp = stamp_of(a);
        if stamp.is_some() && w.attachments.get(a) == Some(&stamp) {
            continue;
        }
        let dest = out.join("files").join(a);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create `{}`", parent.display()))?;
        }
        match site.attachment_bytes.get(a) {
            Some(b) => std::fs::write(&dest, b)
                .with_context(|| format!("cannot write `{}`", dest.display()))?,
            None => copy_attachment(root, a, out, loaded.config.limits.max_file_size)?,
        }
        w.attachments.insert(a.clone(), stamp);
        n_written += 1;
    }
    let stale: Vec<String> = w
        .attachments
        .keys()
        .filter(|a| !attachments.contains(a.as_str()))
        .cloned()
        .collect();
    for a in stale {
        remove_from(out, &format!("files/{a}"))?;
        w.attachments.remove(&a);
        removed += 1;
    }
    let pages = site.rendered + site.kept.len();
    let files = w.files.len() + w.attachments.len();
    memo.written = Some(w);
    Ok(Update {
        outcome: Outcome {
            out: out.to_path_buf(),
            pages,
            files,
            refused: site.refused,
        },
        rendered: site.rendered,
        written: n_written,
        removed,
        replaced: false,
        render,
        write: started.elapsed().saturating_sub(render),
    })
}

fn bytes_key(bytes: &[u8]) -> Key {
    let mut h = pages::KeyHasher::default();
    h.part(bytes);
    h.finish()
}

/// Delete a file of the site and the folders it leaves empty (up to the site's root).
fn remove_from(out: &Path, rel: &str) -> Result<()> {
    let p = out.join(rel);
    match std::fs::remove_file(&p) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot delete `{}`", p.display())),
    }
    let mut dir = p.parent();
    while let Some(d) = dir.filter(|d| *d != out) {
        // Fails (and stops) at the first folder that is not empty.
        if std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
    Ok(())
}

/// Copy one file of the SMS into `files/`: never through a symbolic link, never from outside the
/// SMS root (the path comes from the snapshot, which lists no links' targets and no `..`).
fn copy_attachment(root: &Path, rel: &str, site: &Path, limit: u64) -> Result<()> {
    let mut src = root.to_path_buf();
    for part in rel.split('/') {
        if part.is_empty() || part == "." || part == ".." {
            anyhow::bail!("refusing to copy `{rel}`: not a plain path inside the SMS");
        }
        src.push(part);
        let meta = std::fs::symlink_metadata(&src)
            .with_context(|| format!("cannot read `{}`", src.display()))?;
        if meta.file_type().is_symlink() {
            anyhow::bail!(
                "refusing to copy `{}`: it is (or lies below) a symbolic link",
                src.display()
            );
        }
    }
    // Checked again when read: the file may have been replaced since the snapshot was taken.
    let bytes = match crate::regular::read(&src, limit)
        .with_context(|| format!("cannot read `{}`", src.display()))?
    {
        Regular::Bytes(b) => b,
        Regular::NotRegular(what) => {
            anyhow::bail!("refusing to copy `{}`: it is {what}", src.display())
        }
        Regular::TooLarge(n) => anyhow::bail!(
            "refusing to copy `{}`: it is {n} bytes, over `limits.max_file_size` ({limit} bytes)",
            src.display()
        ),
    };
    let dest = site.join("files").join(rel);
    std::fs::write(&dest, bytes)
        .with_context(|| format!("cannot copy `{}` into the site", src.display()))?;
    Ok(())
}
