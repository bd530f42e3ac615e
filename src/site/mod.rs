//! The evidence site: the linked model rendered as static HTML that works from `file://`.
//!
//! `site` takes the model and the findings of a run and writes a folder: a dashboard, the clause
//! tree and one page per clause, document, record and record kind, a document register, a
//! traceability matrix, the findings, an offline search and (with history) the changes since a
//! revision. Templates are minijinja, embedded in the binary and overridable by the SMS's
//! `templates/` folder; they receive small serde view structs (see `pages`), never domain types.
//!
//! Pages are rendered in parallel (rayon) in chunks and written in sorted order; nothing in a page
//! depends on the clock, the machine or scheduling, so the same input gives a byte-identical site.
//! The folder is replaced atomically (see `output`).

pub mod command;
pub mod html;
pub mod output;
mod pages;
mod search;
pub mod serve;
mod templates;

use crate::check::Loaded;
use crate::diag::Diagnostic;
use crate::model::Model;
use anyhow::{Context, Result};
use rayon::prelude::*;
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
}

/// One revision of a document, for its version-history table.
#[derive(Debug, Clone, Default)]
pub struct Revision {
    pub commit: String,
    pub date: String,
    pub author: String,
    pub version: Option<String>,
    pub status: Option<String>,
    /// claimed | corroborated | signed, when the revision approved a version.
    pub approval: Option<String>,
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
    pub changes: Option<Changes>,
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

/// The whole site in memory.
struct RenderedSite {
    /// Every generated file, sorted by path.
    files: Vec<OutFile>,
    /// SMS paths to copy into `files/`.
    attachments: Vec<String>,
    /// (document id, SMS path) of linked files that are never copied.
    refused: Vec<(String, String)>,
}

/// Render the site into memory: every file with its path, sorted.
fn render_all(
    loaded: &Loaded,
    model: &Model<'_>,
    findings: &[Diagnostic],
    history: &GitView,
) -> Result<RenderedSite> {
    let templates = templates::Templates::load(loaded)?;
    let site = pages::Site::new(loaded, model, findings, history, &templates);
    let mut list = site.page_list();
    list.sort();
    // Render in chunks: parallel inside a chunk, chunks in order (bounded memory, sorted output).
    let mut files: Vec<OutFile> = Vec::with_capacity(list.len() + 16);
    for chunk in list.chunks(256) {
        let rendered: Vec<Result<OutFile>> = chunk
            .par_iter()
            .map(|page| {
                site.render(page).map(|bytes| OutFile {
                    path: page.path(),
                    bytes,
                })
            })
            .collect();
        for r in rendered {
            files.push(r?);
        }
    }
    files.extend(
        site.extra_files()?
            .into_iter()
            .map(|(path, bytes)| OutFile { path, bytes }),
    );
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(RenderedSite {
        files,
        attachments: site.attachments(),
        refused: site.refused(),
    })
}

/// The site in memory, for the auditor bundle (`crate::bundle`), which writes it into a zip
/// instead of a folder.
pub struct InMemory {
    /// (site-relative path, bytes), sorted by path.
    pub files: Vec<(String, Vec<u8>)>,
    /// SMS-relative paths of linked files that belong under `files/`; the caller supplies their
    /// bytes, from the same tree the site was made from.
    pub attachments: Vec<String>,
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
    let site = render_all(loaded, model, findings, view)?;
    Ok(InMemory {
        files: site.files.into_iter().map(|f| (f.path, f.bytes)).collect(),
        attachments: site.attachments,
        refused: site.refused,
    })
}

/// Templates and assets the SMS overrides, with their SHA-256, sorted by name (for the bundle's
/// manifest: custom templates are trusted code of the SMS).
pub fn custom_templates(loaded: &Loaded) -> Result<Vec<templates::Custom>> {
    Ok(templates::Templates::load(loaded)?.custom)
}

/// Build the site into `out` (already checked with [`output::resolve`]).
pub fn build(
    loaded: &Loaded,
    model: &Model<'_>,
    findings: &[Diagnostic],
    history: &GitView,
    out: &Path,
) -> Result<Outcome> {
    output::check(&loaded.config.root, out)?;
    let staging = output::Staging::new(out)?;
    let RenderedSite {
        files,
        attachments,
        refused,
    } = render_all(loaded, model, findings, history)?;
    let pages = files.iter().filter(|f| f.path.ends_with(".html")).count();
    let mut dirs: std::collections::BTreeSet<PathBuf> = Default::default();
    for f in &files {
        if let Some(parent) = Path::new(&f.path).parent() {
            dirs.insert(staging.dir.join(parent));
        }
    }
    for a in &attachments {
        if let Some(parent) = Path::new("files").join(a).parent() {
            dirs.insert(staging.dir.join(parent));
        }
    }
    for d in &dirs {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create `{}`", d.display()))?;
    }
    files.par_iter().try_for_each(|f| {
        let p = staging.dir.join(&f.path);
        std::fs::write(&p, &f.bytes).with_context(|| format!("cannot write `{}`", p.display()))
    })?;
    attachments
        .par_iter()
        .try_for_each(|a| copy_attachment(&loaded.config.root, a, &staging.dir))?;
    let n_files = files.len() + attachments.len();
    staging.commit()?;
    Ok(Outcome {
        out: out.to_path_buf(),
        pages,
        files: n_files,
        refused,
    })
}

/// Copy one file of the SMS into `files/`: never through a symbolic link, never from outside the
/// SMS root (the path comes from the snapshot, which lists no links' targets and no `..`).
fn copy_attachment(root: &Path, rel: &str, site: &Path) -> Result<()> {
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
    let dest = site.join("files").join(rel);
    std::fs::copy(&src, &dest)
        .with_context(|| format!("cannot copy `{}` into the site", src.display()))?;
    Ok(())
}
