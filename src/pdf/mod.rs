//! `auditbook pdf`: the evidence in one printable file for an auditor who wants paper. A title
//! page (organisation, scope, commit, as-of date), the contents (also the PDF's outline), the
//! dashboard figures, the document register, the clause coverage table, the Statement of
//! Applicability when there is one, and the text of every effective document. Every page
//! carries its number. The file is written by our own small writer ([`writer`]) in the standard
//! Courier fonts: no crate, no embedded font, and the same input gives the same bytes.
//! docs/pdf.md weighs the PDF crates against this writer.

pub mod bundle;
pub mod markdown;
pub mod writer;

use crate::check::{self, Loaded};
use crate::model::{self, Model};
use anyhow::{Context, Result};
use std::path::PathBuf;
use writer::{Font, Line, PAGE_BREAK};

pub struct PdfArgs {
    pub path: PathBuf,
    pub out: PathBuf,
    pub as_of: Option<jiff::civil::Date>,
    pub allow_dirty: bool,
    /// `--at DATE|REV`: the SMS as it stood at a past commit, loaded exactly as `build` does.
    pub at: Option<check::AtArg>,
    pub framework: Option<String>,
    /// `--bundle FILE.zip`: make the PDF from a verified auditor bundle instead (the other
    /// options do not apply: the bundle fixes the commit, the date and the frameworks).
    pub bundle: Option<PathBuf>,
}

/// Loads the SMS as `build` does (HEAD's tree unless `allow_dirty`) and writes the PDF.
/// Returns the line to print on stderr.
pub fn run(args: &PdfArgs) -> Result<String> {
    if let Some(zip) = &args.bundle {
        let from = bundle::load(zip)?;
        let model = from.loaded.model();
        let bytes = render(&from.loaded, &model, &from.provenance, &from.in_force);
        write(&args.out, &bytes)?;
        let mut msg = format!(
            "wrote {} ({} bytes) from the bundle {}, which verified (fingerprint {})\n",
            args.out.display(),
            bytes.len(),
            zip.display(),
            from.provenance.fingerprint.as_deref().unwrap_or("?")
        );
        if let Some(at) = &from.provenance.at {
            msg.push_str(&format!(
                "PAST STATE: the bundle shows the SMS {}; the PDF's title page and every page say so\n",
                at.label()
            ));
        }
        return Ok(msg);
    }
    let opts = check::Options {
        path: args.path.clone(),
        as_of: args.as_of,
        framework: args.framework.clone(),
        at: args.at.clone(),
    };
    let loaded = if args.allow_dirty {
        check::load(&opts)?
    } else {
        check::load_committed(&opts)?
    };
    let model = loaded.model();
    let in_force = in_force_from_git(&loaded);
    let bytes = render(&loaded, &model, &Provenance::of(&loaded), &in_force);
    write(&args.out, &bytes)?;
    let mut msg = format!("wrote {} ({} bytes)\n", args.out.display(), bytes.len());
    if let Some(at) = &loaded.at {
        msg.push_str(&format!(
            "PAST STATE: the PDF shows the SMS {}; its title page and every page say so\n",
            at.label()
        ));
    }
    Ok(msg)
}

fn write(out: &std::path::Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(out, bytes).with_context(|| format!("could not write {}", out.display()))
}

/// Lines being composed, and the sections that start among them (for the contents and the
/// outline).
pub struct Composer {
    pub lines: Vec<Line>,
    pub marks: Vec<Mark>,
}

/// A section start: its level (0 a part, 1 a document within a part), its title and the index
/// of its first line.
#[derive(Clone, Debug)]
pub struct Mark {
    pub level: u8,
    pub title: String,
    pub line: usize,
}

pub const BODY: f32 = 9.5;
/// The deepest indent (eight levels of lists or quotes): deeper text is not pushed further
/// right, so a line always has room for words.
const MAX_INDENT: f32 = 8.0 * 14.0;
/// A column of a table is not made narrower than this many characters (or its longest word);
/// a table that cannot fit so is shown row by row instead.
const MIN_COLUMN: usize = 10;

impl Composer {
    fn new() -> Self {
        Composer {
            lines: Vec::new(),
            marks: Vec::new(),
        }
    }
    /// A heading that the contents and the outline list at `level`.
    pub fn section(&mut self, level: u8, title: &str) {
        self.mark(level, title);
        self.heading(1, title);
    }
    /// Marks the next line as the start of a section `title` at `level`.
    pub fn mark(&mut self, level: u8, title: &str) {
        self.marks.push(Mark {
            level,
            title: title.to_string(),
            line: self.lines.len(),
        });
    }
    pub fn page_break(&mut self) {
        self.lines.push(page_break_line());
    }
    /// A wrapped paragraph.
    pub fn para(&mut self, font: Font, size: f32, indent: f32, gap: f32, text: &str) {
        let indent = indent.min(MAX_INDENT);
        let max = writer::chars_per_line(size, writer::text_width() - indent);
        let clean: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        for (i, t) in writer::wrap(&clean, max).into_iter().enumerate() {
            self.lines.push(Line {
                font,
                size,
                indent,
                text: t,
                gap: if i == 0 { gap } else { 0.0 },
                ..Line::default()
            });
        }
    }
    /// A list item: `prefix` ("- ", "3. ") then the text, its wrapped lines hanging under the
    /// text rather than under the prefix.
    pub fn item(&mut self, indent: f32, gap: f32, prefix: &str, text: &str) {
        let indent = indent.min(MAX_INDENT);
        let width = prefix.chars().count();
        let hang = width as f32 * BODY * writer::ADVANCE;
        let max = writer::chars_per_line(BODY, writer::text_width() - indent - hang);
        let clean: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        for (i, t) in writer::wrap(&clean, max).into_iter().enumerate() {
            match i {
                0 => self.line(Font::Regular, BODY, indent, gap, format!("{prefix}{t}")),
                _ => self.line(Font::Regular, BODY, indent + hang, 0.0, t),
            }
        }
    }
    /// Text shown as is (code): long lines are cut, not joined.
    pub fn verbatim(&mut self, indent: f32, text: &str) {
        let indent = indent.min(MAX_INDENT);
        let max = writer::chars_per_line(BODY - 1.0, writer::text_width() - indent);
        for raw in text.lines() {
            let chars: Vec<char> = raw
                .chars()
                .map(|c| if c == '\t' { ' ' } else { c })
                .collect();
            if chars.is_empty() {
                self.line(Font::Regular, BODY - 1.0, indent, 0.0, String::new());
            }
            for chunk in chars.chunks(max) {
                self.line(
                    Font::Regular,
                    BODY - 1.0,
                    indent,
                    0.0,
                    chunk.iter().collect(),
                );
            }
        }
    }
    fn line(&mut self, font: Font, size: f32, indent: f32, gap: f32, text: String) {
        self.lines.push(Line {
            font,
            size,
            indent,
            text,
            gap,
            ..Line::default()
        });
    }
    pub fn heading(&mut self, level: u8, text: &str) {
        let size = match level {
            0 => 18.0,
            1 => 14.0,
            2 => 12.0,
            _ => 10.5,
        };
        let from = self.lines.len();
        self.para(Font::Bold, size, 0.0, size * 0.8, text);
        // A heading stays on the page of what follows it.
        for l in &mut self.lines[from..] {
            l.keep = true;
        }
    }
    /// A table with columns fitted to the page: the widest column is narrowed first, none
    /// below its longest word (at most [`MIN_COLUMN`]); a cell wraps within its column and a row
    /// stays on one page; a table that goes on over a page repeats its header there. A table
    /// with too many columns to fit so is shown row by row, "heading: value" per cell.
    pub fn table(&mut self, head: &[&str], rows: &[Vec<String>]) {
        let size = BODY - 1.0;
        let max = writer::chars_per_line(size, writer::text_width());
        let cols = head.len().max(1);
        let longest_word = |s: &str| s.split(' ').map(|w| w.chars().count()).max().unwrap_or(0);
        let mut widths: Vec<usize> = vec![1; cols];
        let mut floors: Vec<usize> = vec![1; cols];
        for cells in std::iter::once(head.iter().map(|h| h.to_string()).collect::<Vec<_>>())
            .chain(rows.iter().cloned())
        {
            for (i, c) in cells.iter().enumerate().take(cols) {
                widths[i] = widths[i].max(c.chars().count());
                floors[i] = floors[i].max(longest_word(c).min(MIN_COLUMN));
            }
        }
        // Narrow the widest column that can still give, until the row fits (2 spaces between).
        while widths.iter().sum::<usize>() + 2 * (cols - 1) > max {
            let widest = (0..cols)
                .filter(|&i| widths[i] > floors[i])
                .max_by_key(|&i| (widths[i], std::cmp::Reverse(i)));
            match widest {
                Some(i) => widths[i] -= 1,
                None => return self.table_by_rows(head, rows),
            }
        }
        let fmt = |cells: &[String]| -> Vec<String> {
            // Each cell wraps within its column; the row takes as many lines as its tallest cell.
            let wrapped: Vec<Vec<String>> = widths
                .iter()
                .enumerate()
                .map(|(i, w)| writer::wrap(cells.get(i).map(String::as_str).unwrap_or(""), *w))
                .collect();
            let height = wrapped.iter().map(Vec::len).max().unwrap_or(1);
            (0..height)
                .map(|k| {
                    let parts: Vec<String> = wrapped
                        .iter()
                        .zip(&widths)
                        .map(|(cell, w)| {
                            let t = cell.get(k).map(String::as_str).unwrap_or("");
                            format!("{t:<w$}")
                        })
                        .collect();
                    parts.join("  ").trim_end().to_string()
                })
                .collect()
        };
        let head: Vec<String> = head.iter().map(|h| h.to_string()).collect();
        let head_lines: Vec<Line> = fmt(&head)
            .into_iter()
            .enumerate()
            .map(|(i, text)| Line {
                font: Font::Bold,
                size,
                gap: if i == 0 { 4.0 } else { 0.0 },
                text,
                keep: true,
                ..Line::default()
            })
            .collect();
        let header = std::sync::Arc::new(head_lines.clone());
        self.lines.extend(head_lines);
        for row in rows {
            let lines = fmt(row);
            let n = lines.len();
            for (i, text) in lines.into_iter().enumerate() {
                self.lines.push(Line {
                    font: Font::Regular,
                    size,
                    gap: if i == 0 { 1.5 } else { 0.0 },
                    text,
                    keep: i + 1 < n,
                    header: Some(header.clone()),
                    ..Line::default()
                });
            }
        }
    }

    /// A table too wide for the page, one block per row: the first cell in bold, then
    /// "heading: value" for each other cell, indented; a block stays on one page.
    fn table_by_rows(&mut self, head: &[&str], rows: &[Vec<String>]) {
        let size = BODY - 1.0;
        for row in rows {
            let from = self.lines.len();
            for (i, h) in head.iter().enumerate() {
                let value = row.get(i).map(String::as_str).unwrap_or("");
                match i {
                    0 => self.para(Font::Bold, size, 0.0, 5.0, &format!("{h}: {value}")),
                    _ => self.para(Font::Regular, size, 14.0, 0.0, &format!("{h}: {value}")),
                }
            }
            let to = self.lines.len();
            for l in &mut self.lines[from..to.saturating_sub(1)] {
                l.keep = true;
            }
        }
    }
}

/// `s` cut to at most `max` characters, the cut marked with an ellipsis.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out = out.trim_end().to_string();
    out.push('…');
    out
}

fn or_dash(s: Option<String>) -> String {
    s.filter(|s| !s.is_empty())
        .unwrap_or_else(|| "-".to_string())
}

/// Where the SMS of a PDF comes from, as its title page says: the commit, `--at`, DRAFT, and for
/// a PDF made from a bundle the bundle's fingerprint and the findings counts its manifest holds.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    /// The commit id and its committer date (`YYYY-MM-DD`).
    pub commit: Option<(String, String)>,
    pub at: Option<check::At>,
    pub draft: bool,
    /// The SHA-256 of the bundle's `SHA256SUMS` (`pdf --bundle`).
    pub fingerprint: Option<String>,
    /// The counts of findings the bundle's manifest recorded (the history rules ran when the
    /// bundle was made; the bundle holds no history to run them again).
    pub findings: Option<crate::diag::Counts>,
}

impl Provenance {
    /// What a run on the repository knows.
    pub fn of(loaded: &Loaded) -> Provenance {
        Provenance {
            commit: loaded
                .history
                .as_ref()
                .and_then(|h| h.head.as_ref())
                .map(|h| (h.commit.clone(), h.date.to_string())),
            at: loaded.at.clone(),
            draft: loaded.draft,
            fingerprint: None,
            findings: None,
        }
    }
}

/// The approved texts in force of documents being revised (committed as draft or in review
/// while an earlier approved version is effective), parsed, by lower-case document id.
pub type InForce = std::collections::HashMap<String, crate::source::Document>;

/// [`InForce`] read from git at the commit of each effective version, as the site reads it. A
/// text that cannot be read is left out (the document is then listed, not printed).
pub fn in_force_from_git(loaded: &Loaded) -> InForce {
    let mut out = InForce::new();
    if loaded.effective.is_empty() {
        return out;
    }
    let Ok(Some(repo)) = crate::history::Repo::open(&loaded.config.root) else {
        return out;
    };
    let mut keys: Vec<&String> = loaded.effective.keys().collect();
    keys.sort();
    for key in keys {
        let e = &loaded.effective[key];
        let Ok(Some(bytes)) =
            repo.read_committed_within(&e.commit, &e.path, loaded.config.limits.max_file_size)
        else {
            continue;
        };
        if let Some(d) = parse_in_force(loaded, &e.path, &bytes) {
            out.insert(key.clone(), d);
        }
    }
    out
}

/// An effective version's text, parsed as a document.
pub fn parse_in_force(
    loaded: &Loaded,
    path: &str,
    bytes: &[u8],
) -> Option<crate::source::Document> {
    let text = crate::markdown::normalise(std::str::from_utf8(bytes).ok()?);
    let mut diags = Vec::new();
    crate::source::parse_document(&loaded.config, path, &text, &mut diags)
}

/// The PDF of `loaded` as `model` sees it, with the title page saying where it comes from;
/// documents being revised are printed in their text in force (`in_force`).
pub fn render(
    loaded: &Loaded,
    model: &Model<'_>,
    from: &Provenance,
    in_force: &InForce,
) -> Vec<u8> {
    let mut c = Composer::new();
    let cfg = &loaded.config;
    // Title page.
    c.heading(0, "Service management system evidence");
    c.para(Font::Bold, 14.0, 0.0, 18.0, &cfg.organisation);
    c.para(
        Font::Regular,
        BODY,
        0.0,
        14.0,
        &format!("Scope: {}", cfg.scope.trim()),
    );
    c.para(
        Font::Regular,
        BODY,
        0.0,
        10.0,
        &format!("As of: {}", loaded.as_of),
    );
    let commit = match (&from.commit, &from.fingerprint) {
        (Some((id, date)), _) => format!("Commit: {id} ({date})"),
        (None, Some(_)) => "Commit: none (the bundle was made from a folder outside git)".into(),
        (None, None) => "Commit: none (the work tree, not under git)".into(),
    };
    c.para(Font::Regular, BODY, 0.0, 4.0, &commit);
    if let Some(fp) = &from.fingerprint {
        c.para(
            Font::Regular,
            BODY,
            0.0,
            4.0,
            &format!("Bundle fingerprint (SHA-256 of its SHA256SUMS): {fp}"),
        );
    }
    if let Some(at) = &from.at {
        let label = at.label();
        c.para(
            Font::Bold,
            BODY,
            0.0,
            10.0,
            &format!(
                "PAST STATE: this file shows the SMS {label}, with the history up to that commit only."
            ),
        );
    }
    if from.draft {
        c.para(
            Font::Bold,
            BODY,
            0.0,
            10.0,
            match (&from.fingerprint, &from.commit) {
                (None, _) => "DRAFT: the work tree differs from HEAD; this file shows uncommitted changes.",
                (Some(_), Some(_)) => "DRAFT: the bundle was made with --allow-dirty; this file shows its sources/, the files as committed.",
                (Some(_), None) => "DRAFT: the bundle is not bound to a commit; this file shows its sources/.",
            },
        );
    }
    let made = match &from.fingerprint {
        Some(_) => "Made by auditbook from the sources/ and manifest.json of an auditor bundle that verified; the findings counts are the ones its manifest records. The same bundle gives the same file.",
        None => "Made by auditbook from the files of the SMS repository. The same commit and as-of date give the same file.",
    };
    c.para(Font::Regular, BODY - 1.0, 0.0, 24.0, made);

    let front = std::mem::replace(&mut c, Composer::new());

    // Dashboard figures.
    c.section(0, "Dashboard");
    let counts = match &from.findings {
        Some(counts) => *counts,
        None => crate::diag::count(&loaded.findings(model)),
    };
    let s = model.summary();
    // The documents printed: each approved one, and each one being revised in its text in force.
    let mut docs: Vec<&crate::source::Document> = loaded.sources.documents.iter().collect();
    docs.sort_by(|a, b| a.id.cmp(&b.id));
    let printed: Vec<(&crate::source::Document, &crate::source::Document)> = docs
        .iter()
        .filter_map(|&d| match model::is_effective(d) {
            true => Some((d, d)),
            false => in_force.get(&crate::ids::key(&d.id)).map(|e| (d, e)),
        })
        .collect();
    let effective = printed.len();
    let mut rows = vec![
        vec!["Requirement clauses".to_string(), s.clauses.to_string()],
        vec!["Covered".to_string(), s.covered.to_string()],
        vec!["Partly covered".to_string(), s.partial.to_string()],
        vec!["Missing".to_string(), s.missing.to_string()],
        vec!["Review overdue".to_string(), s.review_overdue.to_string()],
        vec!["Excluded".to_string(), s.excluded.to_string()],
        vec![
            "Documents".to_string(),
            loaded.sources.documents.len().to_string(),
        ],
        vec!["Effective documents".to_string(), effective.to_string()],
        vec![
            "Records".to_string(),
            loaded.sources.records.len().to_string(),
        ],
        vec![
            "Findings at error level".to_string(),
            counts.errors.to_string(),
        ],
        vec!["Warnings".to_string(), counts.warnings.to_string()],
    ];
    for (fw, fs) in model.framework_summaries() {
        if model.catalog.frameworks.len() > 1 {
            rows.push(vec![
                format!("{}: covered", fw.id),
                format!("{} of {}", fs.covered, fs.clauses),
            ]);
        }
    }
    c.table(&["Figure", "Value"], &rows);

    // Document register.
    c.page_break();
    c.section(0, "Document register");
    let rows: Vec<Vec<String>> = docs
        .iter()
        .map(|d| {
            vec![
                d.id.clone(),
                d.title.clone(),
                or_dash(d.version.as_ref().map(|v| v.text.clone())),
                d.status.as_str().to_string(),
                or_dash(d.approved.map(|a| a.to_string())),
                or_dash(d.owner.clone()),
            ]
        })
        .collect();
    c.table(
        &["Id", "Title", "Version", "Status", "Approved", "Owner"],
        &rows,
    );

    // Coverage.
    c.page_break();
    c.section(0, "Clause coverage");
    let rows: Vec<Vec<String>> = model
        .coverage
        .iter()
        .map(|cov| {
            let title = model
                .catalog
                .clause(&cov.clause)
                .map(|k| k.title.clone())
                .unwrap_or_default();
            let by: Vec<String> = cov
                .documents
                .iter()
                .filter_map(|&i| loaded.sources.documents.get(i).map(|d| d.id.clone()))
                .collect();
            vec![
                cov.clause.clone(),
                title,
                cov.status.as_str().to_string(),
                or_dash(Some(by.join(", "))),
                cov.records.len().to_string(),
            ]
        })
        .collect();
    c.table(
        &["Clause", "Title", "Status", "Documents", "Records"],
        &rows,
    );

    // Statement of Applicability.
    if let Some(soa) = &model.soa {
        c.page_break();
        c.section(0, "Statement of Applicability");
        if let Some(d) = loaded.sources.documents.get(soa.document) {
            c.para(
                Font::Regular,
                BODY,
                0.0,
                4.0,
                &format!("From {} ({})", d.id, d.title),
            );
        }
        let rows: Vec<Vec<String>> = soa
            .entries
            .iter()
            .map(|e| {
                vec![
                    e.control.clone(),
                    match e.applicable {
                        Some(true) => "yes".into(),
                        Some(false) => "no".into(),
                        None => "?".into(),
                    },
                    or_dash(e.status.map(|s| s.as_str().to_string())),
                    or_dash(e.justification.clone()),
                    or_dash(Some(
                        e.implemented_by
                            .iter()
                            .map(|s| s.text.clone())
                            .collect::<Vec<_>>()
                            .join(", "),
                    )),
                ]
            })
            .collect();
        c.table(
            &[
                "Control",
                "Applies",
                "Status",
                "Justification",
                "Implemented by",
            ],
            &rows,
        );
    }

    // Every effective document's text.
    for (i, (current, d)) in printed.iter().enumerate() {
        c.page_break();
        if i == 0 {
            c.mark(0, "Effective documents");
        }
        c.section(1, &format!("{} {}", current.id, d.title));
        c.para(
            Font::Regular,
            BODY - 1.0,
            0.0,
            2.0,
            &format!(
                "{} - version {} - approved {} - owner {}",
                d.path,
                or_dash(d.version.as_ref().map(|v| v.text.clone())),
                or_dash(d.approved.map(|a| a.to_string())),
                or_dash(d.owner.clone()),
            ),
        );
        if !std::ptr::eq(*current, *d) {
            c.para(
                Font::Bold,
                BODY - 1.0,
                0.0,
                2.0,
                &format!(
                    "The approved version in force; a revision (version {}, {}) is in progress in {}.",
                    or_dash(current.version.as_ref().map(|v| v.text.clone())),
                    current.status.as_str(),
                    current.path
                ),
            );
        }
        markdown::render(&mut c, &d.body);
    }

    let title = format!("{} - SMS evidence as of {}", cfg.organisation, loaded.as_of);
    let state = match &from.at {
        Some(at) => at.label(),
        None => format!("as of {}", loaded.as_of),
    };
    // The foot holds "ORGANISATION - STATE - page N of M" on one line: a long name is cut.
    let room =
        writer::FOOT_CHARS.saturating_sub(state.chars().count() + " - page 9999 of 9999".len() + 3);
    let footer = format!("{} - {state}", shorten(&cfg.organisation, room.max(12)));
    let (lines, bookmarks) = with_contents(&front, &c);
    let (pages, _) = writer::paginate(&lines);
    writer::write(&title, &footer, &pages, &bookmarks)
}

/// Width of the page number column of the contents.
const PAGE_COLUMN: usize = 5;

/// The contents: one line (or more, wrapped) per mark, with dot leaders to its page number. The
/// lines a mark takes do not depend on the numbers, so the layout of the pages after it does
/// not either.
fn contents(marks: &[Mark], pages: &[usize]) -> Composer {
    let mut c = Composer::new();
    c.heading(1, "Contents");
    for (m, page) in marks.iter().zip(pages) {
        let indent = f32::from(m.level) * 14.0;
        let font = match m.level {
            0 => Font::Bold,
            _ => Font::Regular,
        };
        let max = writer::chars_per_line(BODY, writer::text_width() - indent);
        let mut lines = writer::wrap(&m.title, max - PAGE_COLUMN - 2);
        let last = lines.pop().unwrap_or_default();
        // Space above the entry's first line only.
        let mut gap = if m.level == 0 { 6.0 } else { 1.5 };
        for l in lines {
            c.line(font, BODY, indent, gap, l);
            gap = 0.0;
        }
        let mut leader = format!("{last} ");
        while leader.chars().count() < max - PAGE_COLUMN {
            leader.push('.');
        }
        c.line(
            font,
            BODY,
            indent,
            gap,
            format!("{leader}{page:>PAGE_COLUMN$}"),
        );
    }
    c
}

/// The title page, the contents and the body as one list of lines, and the outline. Two passes:
/// the contents are laid out with placeholder numbers, the body's section pages are read off
/// that layout, and the contents are made again with them (the same number of lines).
fn with_contents(front: &Composer, body: &Composer) -> (Vec<Line>, Vec<writer::Bookmark>) {
    let join = |toc: &Composer| -> Vec<Line> {
        let mut lines = front.lines.clone();
        lines.push(page_break_line());
        lines.extend(toc.lines.iter().cloned());
        lines.push(page_break_line());
        lines.extend(body.lines.iter().cloned());
        lines
    };
    let offset = |toc: &Composer| front.lines.len() + toc.lines.len() + 2;
    let spots_of = |toc: &Composer, lines: &[Line]| -> Vec<writer::Spot> {
        let (_, spots) = writer::paginate(lines);
        body.marks
            .iter()
            .map(|m| {
                // A mark's line is a heading, never a page break; the fallback is the last page.
                spots
                    .get(offset(toc) + m.line)
                    .copied()
                    .flatten()
                    .unwrap_or(writer::Spot { page: 0, y: 0.0 })
            })
            .collect()
    };
    let draft = contents(&body.marks, &vec![0; body.marks.len()]);
    let spots = spots_of(&draft, &join(&draft));
    let numbers: Vec<usize> = spots.iter().map(|s| s.page + 1).collect();
    let toc = contents(&body.marks, &numbers);
    let lines = join(&toc);
    debug_assert_eq!(toc.lines.len(), draft.lines.len());
    let spots = spots_of(&toc, &lines);
    let mut bookmarks: Vec<writer::Bookmark> = Vec::new();
    for (m, spot) in body.marks.iter().zip(spots) {
        let b = writer::Bookmark {
            title: m.title.clone(),
            spot,
            children: Vec::new(),
        };
        match (m.level, bookmarks.last_mut()) {
            (0, _) | (_, None) => bookmarks.push(b),
            (_, Some(parent)) => parent.children.push(b),
        }
    }
    (lines, bookmarks)
}

fn page_break_line() -> Line {
    Line {
        text: PAGE_BREAK.to_string(),
        ..Line::default()
    }
}
