//! Snapshot -> [`Sources`]: documents (frontmatter + parsed Markdown) and records, each with the
//! positions of its fields, plus the findings about each file on its own. Files are parsed in
//! parallel; the result is sorted by path so nothing depends on scheduling.

use crate::config::{Config, VersionScheme};
use crate::dates::Interval;
use crate::diag::Diagnostic;
use crate::fields::{Reader, Spanned};
use crate::markdown::{self, Body, Split};
use crate::record_fields::{FieldRef, Fields, Row, RowBuilder};
use crate::snapshot::{self, EntryKind, Role, Snapshot};
use crate::yaml::{self, Node, Pos, YamlError};
use jiff::civil::Date;
use rayon::prelude::*;

#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub documents: Vec<Document>,
    pub records: Vec<Record>,
    /// Framework files (path, text), for `catalog`.
    pub frameworks: Vec<(String, String)>,
    /// Mapping files (path, text), for `catalog::mapping`.
    pub mappings: Vec<(String, String)>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Status {
    Draft,
    InReview,
    Approved,
    Retired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::InReview => "in-review",
            Status::Approved => "approved",
            Status::Retired => "retired",
        }
    }
    fn parse(s: &str) -> Option<Status> {
        match s {
            "draft" => Some(Status::Draft),
            "in-review" => Some(Status::InReview),
            "approved" => Some(Status::Approved),
            "retired" => Some(Status::Retired),
            _ => None,
        }
    }
}

/// The words of `status`, in [`Status`] order (the frontmatter schema lists them).
pub const STATUSES: &[&str] = &["draft", "in-review", "approved", "retired"];

pub const DOCUMENT_TYPES: &[&str] = &[
    "policy",
    "procedure",
    "plan",
    "process",
    "standard",
    "register",
    "other",
];

/// A clause id as cited, with where and whether it was written as a YAML number.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClauseRef {
    pub id: String,
    pub pos: Pos,
    pub unquoted_number: bool,
}

#[derive(Debug, Clone)]
pub struct Document {
    pub path: String,
    pub id: String,
    pub id_pos: Pos,
    pub title: String,
    pub doc_type: Option<String>,
    pub owner: Option<String>,
    pub approver: Option<Spanned>,
    pub version: Option<Spanned>,
    pub status: Status,
    pub status_pos: Pos,
    pub approved: Option<Date>,
    pub approved_pos: Pos,
    pub review: Option<Interval>,
    pub next_review: Option<Date>,
    pub clauses: Vec<ClauseRef>,
    pub provides: Vec<Spanned>,
    /// `derives`: ids of the documents this one is derived from (change impact, see
    /// [`crate::suspect`]), each with its position.
    pub derives: Vec<Spanned>,
    /// Unknown frontmatter keys, kept and shown (`classification`, `supersedes`…).
    pub extra: Vec<(String, String)>,
    /// The `controls:` table of a Statement of Applicability (read by [`crate::soa`]), with
    /// positions in the file; controlled content like `clauses`.
    pub controls: Option<(Pos, Node)>,
    /// The body, BOM-stripped and LF-normalised.
    pub body: String,
    pub body_line: u32,
    pub parsed: Body,
}

#[derive(Debug, Clone)]
pub struct Record {
    pub path: std::sync::Arc<str>,
    pub id: String,
    pub id_pos: Pos,
    pub kind: std::sync::Arc<str>,
    pub kind_pos: Pos,
    pub date: Option<Date>,
    pub date_pos: Pos,
    pub title: String,
    pub clauses: Vec<ClauseRef>,
    pub refs: Vec<Spanned>,
    /// Every field of the record (including the ones above), in file order.
    pub fields: Fields,
    pub pos: Pos,
}

impl Record {
    pub fn field(&self, key: &str) -> Option<FieldRef<'_>> {
        self.fields.get(key, self.pos)
    }

    /// A field as a YAML node (borrowed for YAML records, made for a row's cell): for the rules
    /// that walk structured values (mappings, lists).
    pub fn field_node(&self, key: &str) -> Option<std::borrow::Cow<'_, crate::yaml::Node>> {
        self.field(key).map(FieldRef::node)
    }

    /// Every field of the record (including id, kind, date, title), in file order.
    pub fn all_fields(&self) -> impl Iterator<Item = (&str, FieldRef<'_>)> {
        self.fields.iter(self.pos)
    }
}

/// What one file of a snapshot holds once parsed, with the findings about it (each carries the
/// file's path).
#[derive(Debug, Clone, Default)]
pub struct FileParse {
    /// At most one.
    pub documents: Vec<Document>,
    /// The records of a record file, in file order.
    pub records: Vec<Record>,
    /// A framework file (path, text).
    pub frameworks: Vec<(String, String)>,
    /// A mapping file (path, text).
    pub mappings: Vec<(String, String)>,
    pub diags: Vec<Diagnostic>,
}

/// Parse every document, record and framework file of a snapshot.
pub fn parse(config: &Config, snap: &Snapshot) -> (Sources, Vec<Diagnostic>) {
    parse_with(config, snap, |_, entry| parse_file(config, entry))
}

/// [`parse`] with `parse_one(index, entry)` standing for [`parse_file`] (the parse memo,
/// `crate::memo`, answers from its store where it can); it is not called for the Markdown files
/// past `limits.max_documents`.
pub fn parse_with(
    config: &Config,
    snap: &Snapshot,
    parse_one: impl Fn(usize, &snapshot::Entry) -> FileParse + Sync,
) -> (Sources, Vec<Diagnostic>) {
    // `limits.max_documents` bounds the work: Markdown files past it (in path order) are not parsed.
    let max_documents = config.limits.max_documents;
    let mut markdown_files = 0usize;
    let mut first_skipped: Option<&str> = None;
    let skipped: Vec<bool> = snap
        .entries
        .iter()
        .map(|e| {
            let document = is_document(config, e);
            markdown_files += usize::from(document);
            let skip = document && markdown_files > max_documents;
            if skip && first_skipped.is_none() {
                first_skipped = Some(&e.path);
            }
            skip
        })
        .collect();
    let results: Vec<FileParse> = snap
        .entries
        .par_iter()
        .zip(skipped.par_iter())
        .enumerate()
        .map(|(i, (entry, &skip))| {
            if skip {
                FileParse::default()
            } else {
                parse_one(i, entry)
            }
        })
        .collect();
    let (sources, mut diags) = merge(results);
    if let Some(first) = first_skipped {
        diags.push(Diagnostic::new(
            "too-many-documents",
            "sms",
            format!(
                "the SMS holds {markdown_files} Markdown files, over `limits.max_documents` ({max_documents}); \
                 the files from `{first}` on (in path order) were not read"
            ),
        ).at(crate::config::FILE_NAME, Pos::new(1, 1)));
    }
    (sources, diags)
}

/// `output-too-large`, on sms.yaml, when the SMS files add up to more than
/// `limits.max_output_size` (see [`Snapshot::over_output_limit`]).
pub fn output_limit_finding(config: &Config, snap: &Snapshot) -> Option<Diagnostic> {
    let over = snap.over_output_limit(&config.limits);
    let first = over.first()?;
    Some(
        Diagnostic::new(
            "output-too-large",
            "sms",
            format!(
                "the files of the SMS add up to more than `limits.max_output_size` ({} bytes); {} file{} from `{first}` on (in path order) are not copied into the site or the bundle",
                config.limits.max_output_size,
                over.len(),
                if over.len() == 1 { "" } else { "s" },
            ),
        )
        .at(crate::config::FILE_NAME, Pos::new(1, 1)),
    )
}

/// `file-name-unportable` for each file whose name cannot be unzipped as itself (see
/// `crate::portable`); the site and the bundle leave it out.
pub fn unportable_name_findings(snap: &Snapshot) -> Vec<Diagnostic> {
    snap.unportable()
        .into_iter()
        .map(|u| {
            let message = match u.collides_with {
                Some(first) => format!(
                    "`{}` and `{first}` name one file on Windows and macOS (they differ only in case, Unicode normalisation or trailing dots and spaces); `{}` is left out of the site and the bundle",
                    u.path, u.path
                ),
                None => format!(
                    "`{}` is {}; it is left out of the site and the bundle",
                    u.path, u.reason
                ),
            };
            Diagnostic::new("file-name-unportable", u.path.to_string(), message)
                .at(u.path, Pos::new(1, 1))
        })
        .collect()
}

/// Whether an entry counts against `limits.max_documents` (a Markdown document that was read).
pub fn is_document(config: &Config, entry: &snapshot::Entry) -> bool {
    matches!(entry.kind, EntryKind::File { bytes: Some(_), .. })
        && snapshot::role(config, &entry.path) == Role::Document
}

/// The sources of per-file parses given in snapshot (path) order: what [`parse`] returns when
/// no file is over `limits.max_documents`.
pub fn merge(files: impl IntoIterator<Item = FileParse>) -> (Sources, Vec<Diagnostic>) {
    let mut sources = Sources::default();
    let mut diags = Vec::new();
    let files: Vec<FileParse> = files.into_iter().collect();
    // Sized once: growing a vector of a million records by doubling holds the old and the new
    // buffer at once.
    sources
        .records
        .reserve_exact(files.iter().map(|f| f.records.len()).sum());
    for f in files {
        diags.extend(f.diags);
        sources.documents.extend(f.documents);
        sources.records.extend(f.records);
        sources.frameworks.extend(f.frameworks);
        sources.mappings.extend(f.mappings);
    }
    // Snapshot order is path order already; make it a guarantee (`Model::document_at` relies on it).
    sources.documents.sort_by(|a, b| a.path.cmp(&b.path));
    (sources, diags)
}

/// Parse one file of a snapshot: a document, the records of a record file, a framework, or
/// nothing, with the findings about it.
pub fn parse_file(config: &Config, entry: &snapshot::Entry) -> FileParse {
    let mut out = FileParse::default();
    let diags = &mut out.diags;
    let role = snapshot::role(config, &entry.path);
    match (&entry.kind, role) {
        (EntryKind::Symlink { target, escapes }, _) => {
            let msg = if *escapes {
                format!("`{}` is a symbolic link to `{target}`, outside the SMS root; it is not followed", entry.path)
            } else {
                format!(
                    "`{}` is a symbolic link to `{target}`; auditbook never follows links",
                    entry.path
                )
            };
            diags.push(
                Diagnostic::new("symlink-ignored", entry.path.clone(), msg)
                    .at(&entry.path, Pos::new(1, 1)),
            );
        }
        (EntryKind::NotRegular { what }, _) => {
            diags.push(
                Diagnostic::new(
                    "file-not-regular",
                    entry.path.clone(),
                    format!(
                        "`{}` is {what}, not a regular file; it was not opened, and the site and the bundle leave it out",
                        entry.path
                    ),
                )
                .at(&entry.path, Pos::new(1, 1)),
            );
        }
        (EntryKind::TooLarge { size }, role) if role != Role::Config => {
            let what = match role {
                Role::Other => "it is not copied into the site or the bundle",
                Role::Config | Role::Document | Role::Record | Role::Framework | Role::Mapping => {
                    "it was not read"
                }
            };
            diags.push(
                Diagnostic::new(
                    "file-too-large",
                    entry.path.clone(),
                    format!(
                        "`{}` is {} bytes, over `limits.max_file_size` ({} bytes); {what}",
                        entry.path, size, config.limits.max_file_size
                    ),
                )
                .at(&entry.path, Pos::new(1, 1)),
            );
        }
        (EntryKind::TooLarge { .. }, _)
        | (_, Role::Other)
        | (_, Role::Config)
        | (EntryKind::Submodule, _) => {}
        (EntryKind::File { bytes: None, .. }, _) => {}
        (
            EntryKind::File {
                bytes: Some(bytes), ..
            },
            role,
        ) => {
            if let Some(text) = text_of(&entry.path, bytes, diags) {
                match role {
                    Role::Document => {
                        out.documents
                            .extend(parse_document(config, &entry.path, &text, diags));
                    }
                    Role::Record => {
                        out.records = parse_records(config, &entry.path, &text, diags);
                    }
                    Role::Framework => out.frameworks.push((entry.path.clone(), text)),
                    Role::Mapping => out.mappings.push((entry.path.clone(), text)),
                    Role::Other | Role::Config => {}
                }
            }
        }
    }
    out
}

/// UTF-8 text of a file, normalised; findings for binary or non-UTF-8 content.
fn text_of(path: &str, bytes: &[u8], diags: &mut Vec<Diagnostic>) -> Option<String> {
    text_cow(path, bytes, diags).map(std::borrow::Cow::into_owned)
}

/// [`text_of`] without a copy when the bytes are already normalised text.
pub(crate) fn text_cow<'b>(
    path: &str,
    bytes: &'b [u8],
    diags: &mut Vec<Diagnostic>,
) -> Option<std::borrow::Cow<'b, str>> {
    if let Some(i) = bytes.iter().position(|&b| b == 0) {
        diags.push(
            Diagnostic::new(
                "file-unreadable",
                path.to_string(),
                format!("`{path}` holds a NUL byte at offset {i}: it is a binary file, not text"),
            )
            .at(path, Pos::new(1, 1)),
        );
        return None;
    }
    match std::str::from_utf8(bytes) {
        Ok(t) => Some(markdown::normalise(t)),
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
            let col = std::str::from_utf8(valid)
                .map(|v| v.rsplit('\n').next().unwrap_or("").chars().count() as u32 + 1)
                .unwrap_or(1);
            diags.push(
                Diagnostic::new(
                    "file-unreadable",
                    path.to_string(),
                    format!("`{path}` is not valid UTF-8 (byte {})", e.valid_up_to()),
                )
                .at(path, Pos::new(line, col))
                .help("save the file as UTF-8 text"),
            );
            None
        }
    }
}

fn yaml_finding(path: &str, subject: &str, e: &YamlError, line_offset: u32) -> Diagnostic {
    // The two budgets an SMS sets itself are named, so the reader knows where they come from.
    let limit = match e.kind {
        yaml::YamlErrorKind::TooDeep => " (`limits.max_yaml_depth` in sms.yaml)",
        yaml::YamlErrorKind::TooManyNodes => " (`limits.max_yaml_nodes` in sms.yaml)",
        yaml::YamlErrorKind::Syntax
        | yaml::YamlErrorKind::DuplicateKey
        | yaml::YamlErrorKind::MultipleDocuments => "",
    };
    Diagnostic::new(
        "frontmatter-invalid",
        subject.to_string(),
        format!("{}{limit}", e.message),
    )
    .at(path, e.pos.shifted(line_offset))
}

pub(crate) fn is_readme(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|n| n.eq_ignore_ascii_case("readme.md"))
}

pub fn parse_document(
    config: &Config,
    path: &str,
    text: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Document> {
    parse_document_as(config, path, text, diags, true)
}

/// [`parse_document`] without reading the Markdown body (no headings, links or HTML in
/// `parsed`): what the history walk needs of each revision, at a fraction of the cost.
pub fn parse_document_fields(
    config: &Config,
    path: &str,
    text: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Document> {
    parse_document_as(config, path, text, diags, false)
}

fn parse_document_as(
    config: &Config,
    path: &str,
    text: &str,
    diags: &mut Vec<Diagnostic>,
    with_body: bool,
) -> Option<Document> {
    if text.trim().is_empty() {
        diags.push(
            Diagnostic::new("file-empty", path.to_string(), format!("`{path}` is empty"))
                .at(path, Pos::new(1, 1)),
        );
        return None;
    }
    let (yaml_text, yaml_line, body, body_line) = match markdown::split(text) {
        Split::Missing if is_readme(path) => return None,
        Split::Missing => {
            diags.push(
                Diagnostic::new(
                    "frontmatter-missing",
                    path.to_string(),
                    format!("`{path}` has no frontmatter: its first line is not `---`"),
                )
                .at(path, Pos::new(1, 1)),
            );
            return None;
        }
        Split::Unclosed => {
            diags.push(
                Diagnostic::new(
                    "frontmatter-unclosed",
                    path.to_string(),
                    "the frontmatter opened on line 1 is never closed by a `---` line",
                )
                .at(path, Pos::new(1, 1)),
            );
            return None;
        }
        Split::Found {
            yaml,
            yaml_line,
            body,
            body_line,
        } => (yaml, yaml_line, body, body_line),
    };
    let node = match yaml::parse(yaml_text, config.limits.yaml) {
        Ok(Some(mut n)) => {
            n.shift(yaml_line - 1);
            n
        }
        Ok(None) => {
            diags.push(
                Diagnostic::new(
                    "frontmatter-invalid",
                    path.to_string(),
                    "the frontmatter is empty",
                )
                .at(path, Pos::new(1, 1)),
            );
            return None;
        }
        Err(e) => {
            diags.push(yaml_finding(path, path, &e, yaml_line - 1));
            return None;
        }
    };
    let Some(entries) = node.as_map() else {
        diags.push(
            Diagnostic::new(
                "frontmatter-invalid",
                path.to_string(),
                format!(
                    "the frontmatter must be a mapping of fields (`key: value`), found {}",
                    node.describe()
                ),
            )
            .at(path, node.pos),
        );
        return None;
    };

    let id_node = node.get("id");
    let subject = id_node
        .and_then(Node::as_scalar)
        .map_or_else(|| path.to_string(), str::to_string);
    let mut r = Reader::new(path, subject.clone(), diags);
    let missing = |r: &mut Reader<'_>, key: &str, why: &str| {
        r.diags.push(
            Diagnostic::new(
                "field-missing",
                format!("{}#{key}", r.subject),
                format!("the frontmatter has no `{key}` ({why})"),
            )
            .at(r.path, Pos::new(1, 1)),
        );
    };

    let id = match id_node {
        None => {
            missing(&mut r, "id", "a unique, stable id such as POL-CHG");
            None
        }
        Some(n) => r
            .text(n, "id")
            .and_then(|t| match crate::ids::invalid_reason(&t.text) {
                Some(why) => {
                    r.diags
                        .push(Diagnostic::new("id-invalid", path.to_string(), why).at(path, t.pos));
                    None
                }
                None => Some(t),
            }),
    };
    let title = match node.get("title") {
        None => {
            missing(&mut r, "title", "the document's title");
            None
        }
        Some(n) => r.text(n, "title").map(|t| t.text),
    };
    let doc_type = match node.get("type") {
        None => {
            missing(
                &mut r,
                "type",
                "policy, procedure, plan, process, standard, register or other",
            );
            None
        }
        Some(n) => r.text(n, "type").and_then(|t| {
            if DOCUMENT_TYPES.contains(&t.text.as_str()) {
                Some(t.text)
            } else {
                r.invalid(
                    n,
                    "type",
                    format!(
                        "type `{}` must be one of {}",
                        t.text,
                        DOCUMENT_TYPES.join(", ")
                    ),
                );
                None
            }
        }),
    };
    let owner = match node.get("owner") {
        None => {
            missing(
                &mut r,
                "owner",
                "a person id from sms.yaml `people`, or a name or role",
            );
            None
        }
        Some(n) => r.text(n, "owner").map(|t| t.text),
    };
    let (status, status_pos) = match node.get("status") {
        None => {
            missing(&mut r, "status", "draft, in-review, approved or retired");
            (Status::Draft, Pos::new(1, 1))
        }
        Some(n) => {
            let s = r.text(n, "status").and_then(|t| {
                let s = Status::parse(&t.text);
                if s.is_none() {
                    r.invalid(
                        n,
                        "status",
                        format!(
                            "status `{}` must be one of draft, in-review, approved, retired",
                            t.text
                        ),
                    );
                }
                s
            });
            (s.unwrap_or(Status::Draft), n.pos)
        }
    };
    let version = match node.get("version") {
        None => {
            missing(&mut r, "version", "the version of this text, e.g. \"1.0\"");
            None
        }
        Some(n) => {
            r.text(n, "version")
                .and_then(|t| match check_version(config.version_scheme, &t.text) {
                    Ok(()) => Some(t),
                    Err(e) => {
                        r.invalid(n, "version", e);
                        None
                    }
                })
        }
    };
    let approver = node.get("approver").and_then(|n| r.text(n, "approver"));
    let (approved, approved_pos) = match node.get("approved") {
        Some(n) => (r.date(n, "approved"), n.pos),
        None => (None, Pos::new(1, 1)),
    };
    if status == Status::Approved {
        if node.get("approver").is_none() {
            missing(
                &mut r,
                "approver",
                "who approved this version; required once approved",
            );
        }
        if node.get("approved").is_none() {
            missing(
                &mut r,
                "approved",
                "the date this version was approved; required once approved",
            );
        }
    }
    let review = node.get("review").and_then(|n| r.interval(n, "review"));
    let next_review = node
        .get("next_review")
        .and_then(|n| r.date(n, "next_review"));
    let clauses = node
        .get("clauses")
        .map(|n| clause_refs(&mut r, n, "clauses"))
        .unwrap_or_default();
    let provides = node
        .get("provides")
        .map(|n| r.list(n, "provides").into_iter().map(|(t, _)| t).collect())
        .unwrap_or_default();
    let derives = node
        .get("derives")
        .map(|n| r.list(n, "derives").into_iter().map(|(t, _)| t).collect())
        .unwrap_or_default();

    let mut extra = Vec::new();
    // The keys read above are the frontmatter schema's (`crate::schema::FRONTMATTER`).
    let doc_keys = crate::schema::keys(crate::schema::FRONTMATTER);
    for (k, v) in entries {
        let Some(key) = k.as_scalar() else { continue };
        if doc_keys.contains(&key) {
            continue;
        }
        if let Some(near) = crate::ids::closest(key, doc_keys.iter().copied(), 2) {
            r.diags.push(
                Diagnostic::new(
                    "field-name-typo",
                    format!("{subject}#{key}"),
                    format!("unknown field `{key}`: did you mean `{near}`?"),
                )
                .at(path, k.pos),
            );
        }
        extra.push((key.to_string(), render_value(v)));
    }

    let (id, title) = (id?, title.unwrap_or_default());
    Some(Document {
        path: path.to_string(),
        id: id.text,
        id_pos: id.pos,
        title,
        doc_type,
        owner,
        approver,
        version,
        status,
        status_pos,
        approved,
        approved_pos,
        review,
        next_review,
        clauses,
        provides,
        derives,
        extra,
        controls: entries
            .iter()
            .find(|(k, _)| k.as_scalar() == Some("controls"))
            .map(|(k, v)| (k.pos, v.clone())),
        parsed: if with_body {
            markdown::parse_body_with(body, body_line, config.limits.markdown)
        } else {
            markdown::Body::default()
        },
        body: body.to_string(),
        body_line,
    })
}

/// A plain-text rendering of an unknown field's value, for display.
fn render_value(n: &Node) -> String {
    match &n.value {
        yaml::Value::Scalar { text, .. } => text.clone(),
        yaml::Value::Seq(items) => items
            .iter()
            .map(render_value)
            .collect::<Vec<_>>()
            .join(", "),
        yaml::Value::Map(entries) => entries
            .iter()
            .map(|(k, v)| format!("{}: {}", render_value(k), render_value(v)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn clause_refs(r: &mut Reader<'_>, node: &Node, key: &str) -> Vec<ClauseRef> {
    r.list(node, key)
        .into_iter()
        .map(|(t, described)| ClauseRef {
            id: t.text,
            pos: t.pos,
            unquoted_number: described == "a number",
        })
        .collect()
}

/// Check a version's source text against the scheme.
pub fn check_version(scheme: VersionScheme, text: &str) -> Result<(), String> {
    let ok = match scheme {
        VersionScheme::Free => !text.trim().is_empty(),
        VersionScheme::Integer => {
            !text.is_empty() && text.len() <= 9 && text.chars().all(|c| c.is_ascii_digit())
        }
        VersionScheme::Dotted => text
            .split('.')
            .all(|s| !s.is_empty() && s.len() <= 9 && s.chars().all(|c| c.is_ascii_digit())),
    };
    if ok {
        Ok(())
    } else {
        Err(match scheme {
            VersionScheme::Dotted => format!("version `{text}` must be dot-separated whole numbers such as \"1.0\" or \"2.10\" (version_scheme: dotted)"),
            VersionScheme::Integer => format!("version `{text}` must be a whole number (version_scheme: integer)"),
            VersionScheme::Free => "version must not be empty".into(),
        })
    }
}

/// Compare two versions under a scheme; `None` when the scheme has no order.
pub fn compare_versions(scheme: VersionScheme, a: &str, b: &str) -> Option<std::cmp::Ordering> {
    let segs = |s: &str| {
        s.split('.')
            .map(|x| x.parse::<u64>().unwrap_or(0))
            .collect::<Vec<_>>()
    };
    match scheme {
        VersionScheme::Free => None,
        VersionScheme::Integer | VersionScheme::Dotted => {
            let (mut x, mut y) = (segs(a), segs(b));
            let n = x.len().max(y.len());
            x.resize(n, 0);
            y.resize(n, 0);
            Some(x.cmp(&y))
        }
    }
}

/// The records of a record file: YAML (one record, or a `records:` list), or a tabular export
/// (CSV, TSV, JSON lines, JSON array; see `tabular`).
pub fn parse_records(
    config: &Config,
    path: &str,
    text: &str,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Record> {
    if let Some(format) = crate::tabular::Format::of(path) {
        return crate::tabular::parse(config, path, format, text, diags);
    }
    let node = match yaml::parse(text, config.limits.yaml) {
        Ok(Some(n)) => n,
        Ok(None) => {
            diags.push(
                Diagnostic::new(
                    "file-empty",
                    path.to_string(),
                    format!("`{path}` holds no record"),
                )
                .at(path, Pos::new(1, 1)),
            );
            return Vec::new();
        }
        Err(e) => {
            diags.push(yaml_finding(path, path, &e, 0));
            return Vec::new();
        }
    };
    let Some(entries) = node.as_map() else {
        diags.push(
            Diagnostic::new(
                "frontmatter-invalid",
                path.to_string(),
                format!("a record file holds one record (a mapping) or `records:` with a list, found {}", node.describe()),
            )
            .at(path, node.pos),
        );
        return Vec::new();
    };
    let list = node.get("records");
    let items: Vec<&Node> = match list {
        Some(l) if entries.len() == 1 || node.get("id").is_none() => match l.as_seq() {
            Some(items) => {
                if entries.len() > 1 {
                    diags.push(
                        Diagnostic::new(
                            "frontmatter-invalid",
                            path.to_string(),
                            "a file with a `records:` list must hold nothing else at the top level",
                        )
                        .at(path, node.pos),
                    );
                }
                items.iter().collect()
            }
            None => {
                diags.push(
                    Diagnostic::new(
                        "frontmatter-invalid",
                        path.to_string(),
                        format!(
                            "`records` must be a list of records, found {}",
                            l.describe()
                        ),
                    )
                    .at(path, l.pos),
                );
                return Vec::new();
            }
        },
        _ => vec![&node],
    };
    items
        .into_iter()
        .filter_map(|item| parse_record(path, item, diags))
        .collect()
}

fn parse_record(path: &str, node: &Node, diags: &mut Vec<Diagnostic>) -> Option<Record> {
    let mut rec = parse_record_head(path, node, diags)?;
    rec.fields = Fields::Nodes(
        node.as_map()
            .unwrap_or_default()
            .iter()
            .filter_map(|(k, v)| k.as_scalar().map(|k| (k.to_string(), v.clone())))
            .collect(),
    );
    Some(rec)
}

/// [`parse_record`] of the mapping node of a row of a tabular file, of which there may be a
/// million: the fields are kept in the compact form of `record_fields::Row` (names interned
/// in `builder`, shared by the rows of one file).
pub(crate) fn parse_row_record(
    path: &str,
    node: Node,
    builder: &mut RowBuilder,
    diags: &mut Vec<Diagnostic>,
) -> Option<Record> {
    let mut rec = parse_record_head(path, &node, diags)?;
    if let yaml::Value::Map(entries) = node.value {
        rec.fields = match Row::from_entries(&entries, builder) {
            Some(row) => Fields::Row(row),
            None => Fields::Nodes(
                entries
                    .into_iter()
                    .filter_map(|(k, v)| match k.value {
                        yaml::Value::Scalar { text, .. } => Some((text, v)),
                        yaml::Value::Seq(_) | yaml::Value::Map(_) => None,
                    })
                    .collect(),
            ),
        };
    }
    Some(rec)
}

/// A record's fields read from its node, with `fields` left empty for the caller to fill.
fn parse_record_head(path: &str, node: &Node, diags: &mut Vec<Diagnostic>) -> Option<Record> {
    let Some(_) = node.as_map() else {
        diags.push(
            Diagnostic::new(
                "frontmatter-invalid",
                path.to_string(),
                format!("a record is a mapping of fields, found {}", node.describe()),
            )
            .at(path, node.pos),
        );
        return None;
    };
    let subject = node
        .get("id")
        .and_then(Node::as_scalar)
        .map_or_else(|| path.to_string(), str::to_string);
    let mut r = Reader::new(path, subject, diags);
    let missing = |r: &mut Reader<'_>, key: &str| {
        r.diags.push(
            Diagnostic::new(
                "field-missing",
                format!("{}#{key}", r.subject),
                format!("the record has no `{key}`"),
            )
            .at(path, node.pos),
        );
    };
    let id = match node.get("id") {
        None => {
            missing(&mut r, "id");
            None
        }
        Some(n) => r
            .text(n, "id")
            .and_then(|t| match crate::ids::invalid_reason(&t.text) {
                Some(why) => {
                    r.diags
                        .push(Diagnostic::new("id-invalid", path.to_string(), why).at(path, t.pos));
                    None
                }
                None => Some(t),
            }),
    };
    let kind = match node.get("kind") {
        None => {
            missing(&mut r, "kind");
            None
        }
        Some(n) => r.text(n, "kind"),
    };
    let (date, date_pos) = match node.get("date") {
        None => {
            missing(&mut r, "date");
            (None, node.pos)
        }
        Some(n) => (r.date(n, "date"), n.pos),
    };
    let title = match node.get("title") {
        None => {
            missing(&mut r, "title");
            String::new()
        }
        Some(n) => r.text(n, "title").map(|t| t.text).unwrap_or_default(),
    };
    let clauses = node
        .get("clauses")
        .map(|n| clause_refs(&mut r, n, "clauses"))
        .unwrap_or_default();
    let refs = node
        .get("refs")
        .map(|n| r.list(n, "refs").into_iter().map(|(t, _)| t).collect())
        .unwrap_or_default();
    let (id, kind) = (id?, kind?);
    Some(Record {
        path: path.into(),
        id: id.text,
        id_pos: id.pos,
        kind: kind.text.into(),
        kind_pos: kind.pos,
        date,
        date_pos,
        title,
        clauses,
        refs,
        fields: Fields::default(),
        pos: node.pos,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn config() -> Config {
        crate::config::parse(
            Path::new("/s"),
            "organisation: A\nscope: B\nframework: iso20000-1:2018\n",
        )
        .unwrap()
        .0
    }

    fn doc(text: &str) -> (Option<Document>, Vec<Diagnostic>) {
        let mut d = Vec::new();
        let doc = parse_document(&config(), "policies/a.md", text, &mut d);
        (doc, d)
    }

    const GOOD: &str = "---\nid: POL-A\ntitle: A\ntype: policy\nowner: x\napprover: y\nversion: \"1.0\"\nstatus: approved\napproved: 2026-01-05\nclauses: [\"8.5.1\"]\n---\n# A\n";

    #[test]
    fn a_complete_document_has_no_findings() {
        let (d, diags) = doc(GOOD);
        assert!(diags.is_empty(), "{diags:?}");
        let d = d.unwrap();
        assert_eq!(d.id, "POL-A");
        assert_eq!(d.body_line, 12);
        assert_eq!(d.parsed.headings[0].pos.line, 12);
    }

    #[test]
    fn frontmatter_errors_point_at_the_file_line() {
        // line 3 of the block is line 4 of the file
        let (_, diags) = doc("---\nid: A\ntitle: B\nstatus: [unclosed\n---\n");
        assert_eq!(diags[0].code, "frontmatter-invalid");
        assert!(diags[0].pos.unwrap().line >= 4, "{:?}", diags[0]);
    }

    #[test]
    fn unquoted_clause_numbers_are_flagged_from_source_text() {
        let (d, _) = doc(&GOOD.replace("[\"8.5.1\"]", "[8.10, \"8.2\"]"));
        let c = &d.unwrap().clauses;
        assert_eq!(c[0].id, "8.10");
        assert!(c[0].unquoted_number);
        assert!(!c[1].unquoted_number);
    }

    #[test]
    fn version_is_read_from_source_text() {
        let (d, _) = doc(&GOOD.replace("\"1.0\"", "2.10"));
        assert_eq!(d.unwrap().version.unwrap().text, "2.10");
        assert_eq!(
            compare_versions(VersionScheme::Dotted, "2.10", "2.9"),
            Some(std::cmp::Ordering::Greater)
        );
    }

    #[test]
    fn list_and_scalar_frontmatter_are_invalid() {
        let (_, d) = doc("---\n- a\n- b\n---\n");
        assert_eq!(d[0].code, "frontmatter-invalid");
        let (_, d) = doc("---\njust text\n---\n");
        assert_eq!(d[0].code, "frontmatter-invalid");
    }

    #[test]
    fn typo_keys_warn_and_unknown_keys_are_kept() {
        let (d, diags) =
            doc(&GOOD.replace("approved: 2026", "classification: internal\naproved: 2026"));
        assert!(diags
            .iter()
            .any(|d| d.code == "field-name-typo" && d.message.contains("approved")));
        assert!(d
            .unwrap()
            .extra
            .iter()
            .any(|(k, v)| k == "classification" && v == "internal"));
    }

    #[test]
    fn records_single_and_list() {
        let mut d = Vec::new();
        let one = parse_records(
            &config(),
            "records/x.yaml",
            "id: A\nkind: incident\ndate: 2026-01-01\ntitle: T\n",
            &mut d,
        );
        assert_eq!(one.len(), 1);
        let many = parse_records(
            &config(),
            "records/y.yaml",
            "records:\n  - {id: B, kind: incident, date: 2026-01-01, title: T}\n  - {id: C, kind: incident, date: 2026-13-01, title: T}\n",
            &mut d,
        );
        assert_eq!(many.len(), 2);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, "field-invalid");
        assert_eq!(d[0].pos.unwrap().line, 3);
    }
}
