//! `auditbook adopt [PATH]`: bring an existing folder of Markdown under auditbook.
//!
//! It writes `sms.yaml` when the folder has none, and proposes frontmatter for every Markdown
//! document that has none: the id from the file name, the title from the first heading, the type
//! from the folder, `status: draft`, and the clauses of the primary framework (or `--framework`)
//! whose catalogue titles the text uses — each clause marked as a guess in a YAML comment that
//! names the matched words. By default it only reports what it would write (a dry run); with
//! `--write` it writes. The choice of design: adopt only ever *prepends* a frontmatter block, so
//! the body stays byte-identical (a byte-order mark stays first, the file's line endings are kept)
//! and a file that already starts with frontmatter is never changed, only listed.
//!
//! A file that starts with another tool's metadata written without an opening `---` (the layout
//! of strongdm/comply) has no frontmatter to auditbook: it gets ours in front, that block stays in
//! the body, and its `title` or `name` becomes the title.
//!
//! The files are read as `check` reads them (the same snapshot of the work tree), so symbolic
//! links, FIFOs, devices, over-large and non-UTF-8 files are skipped with a reason, and exactly the
//! files `check` takes for documents get a proposal. Ids are made valid (`ids::invalid_reason`)
//! and unique regardless of case against every id already in the SMS; a clash gets the first free
//! `-2`, `-3`… suffix, in path order, so the same folder always gives the same ids.

use crate::catalog::Catalog;
use crate::config::{self, Config};
use crate::markdown::{self, Split};
use crate::snapshot::{self, EntryKind, Role};
use anyhow::{bail, Context, Result};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// The marker that says a frontmatter value was guessed, in the YAML comments adopt writes.
pub const GUESS_MARK: &str = "guessed by auditbook adopt";

/// The most clauses guessed for one document.
const MAX_GUESSES: usize = 3;

/// A guess is kept only when it scores at least this percentage of the best guess's score.
const RELATIVE_CUT: f64 = 60.0;

/// What a word found in the document's title adds to its score (as many as e^2 occurrences).
const TITLE_BONUS: f64 = 2.0;

/// How often a word must occur in a document's text to count, unless it is in a heading.
/// (The thresholds were tuned on the sample SMS with its frontmatter removed; a test keeps the
/// guesses there at least as good: `adopt::guesses_agree_with_the_samples_own_clauses`.)
const MIN_COUNT: usize = 5;

#[derive(Debug, Clone)]
pub struct Options {
    pub path: PathBuf,
    /// Write sms.yaml and the frontmatter; otherwise only report (dry run).
    pub write: bool,
    /// Guess clauses of this framework instead of the primary one.
    pub framework: Option<String>,
    /// The organisation written to a new sms.yaml.
    pub organisation: String,
}

/// What adopt found and proposes (and, with `--write`, did).
#[derive(Debug, Clone)]
pub struct Outcome {
    pub root: PathBuf,
    pub written: bool,
    /// The framework the clauses were guessed from.
    pub framework: String,
    pub sms_yaml: SmsYaml,
    /// One per Markdown document without frontmatter, in path order.
    pub proposals: Vec<Proposal>,
    /// Documents that already start with frontmatter: (path, note), left unchanged.
    pub left_alone: Vec<(String, String)>,
    /// Files that could not be adopted: (path, why).
    pub skipped: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsYaml {
    /// The SMS already has one; it is used as it is.
    Present,
    /// None yet: this text is (or, with `--write`, was) written.
    New(String),
}

#[derive(Debug, Clone)]
pub struct Proposal {
    pub path: String,
    pub id: String,
    /// How the id was made from the file name (when it is not the file name's stem as it is).
    pub id_note: Option<String>,
    pub title: String,
    /// Where the title came from: "the first heading (line N)" or "the file name".
    pub title_from: String,
    pub doc_type: String,
    pub type_from: String,
    pub clauses: Vec<Guess>,
    /// The frontmatter block prepended to the file (with the file's line endings).
    pub frontmatter: String,
    /// Set with `--write` when this file could not be written after all (why).
    pub not_written: Option<String>,
    /// Something the reader should know about the file (another tool's metadata in the body).
    pub note: Option<String>,
}

/// A clause guessed from the words of a document.
#[derive(Debug, Clone, PartialEq)]
pub struct Guess {
    pub clause: String,
    pub title: String,
    /// The catalogue words found in the text, with how often each occurs.
    pub words: Vec<(String, usize)>,
    pub score: f64,
}

/// Run adopt as `opts` says.
pub fn run(opts: &Options) -> Result<Outcome> {
    let dir = &opts.path;
    let meta =
        std::fs::metadata(dir).with_context(|| format!("cannot open `{}`", dir.display()))?;
    if !meta.is_dir() {
        bail!("`{}` is not a folder", dir.display());
    }
    let root = match config::discover(dir) {
        Ok(root) => root,
        Err(_) => dir
            .canonicalize()
            .with_context(|| format!("cannot open `{}`", dir.display()))?,
    };
    let present = std::fs::symlink_metadata(root.join(config::FILE_NAME)).is_ok();
    let (config, sms_yaml) = if present {
        let (config, _) = config::load(&root)?;
        (config, SmsYaml::Present)
    } else {
        let framework = match &opts.framework {
            Some(id) if crate::catalog::builtin_by_id(id).is_none() => bail!(
                "--framework {id}: not a built-in framework (built in: {}); a new sms.yaml can only name a built-in one",
                crate::catalog::builtin_ids().join(", ")
            ),
            Some(id) => id.clone(),
            None => crate::catalog::BUILTIN_ID.to_string(),
        };
        let text = new_sms_yaml(&opts.organisation, &framework)?;
        let (config, _) = config::parse(&root, &text)?;
        (config, SmsYaml::New(text))
    };
    let snapshot = snapshot::from_work_tree(&config)?;
    let (sources, mut findings) = crate::source::parse(&config, &snapshot);
    let mut catalog = crate::check::select_catalog(&config, &sources, &mut findings)?;
    let focused = match &opts.framework {
        Some(id) if present => {
            crate::check::focus(&mut catalog, id)?;
            true
        }
        Some(_) | None => false,
    };
    let fi = catalog.focus.unwrap_or(0);
    let framework = catalog
        .frameworks
        .get(fi)
        .map(|f| f.id.clone())
        .unwrap_or_default();
    let matcher = Matcher::new(&catalog, |c| focused || c.framework == 0);

    let taken_by: HashMap<String, String> = sources
        .documents
        .iter()
        .map(|d| (crate::ids::key(&d.id), d.path.clone()))
        .chain(
            sources
                .records
                .iter()
                .map(|r| (crate::ids::key(&r.id), r.path.to_string())),
        )
        .collect();

    let mut proposals = Vec::new();
    let mut left_alone = Vec::new();
    let mut skipped = Vec::new();
    let mut assigned: HashMap<String, String> = HashMap::new();
    for entry in &snapshot.entries {
        let path = &entry.path;
        if snapshot::role(&config, path) != Role::Document {
            // A linked folder is not walked: say so, as its Markdown is left out.
            if let EntryKind::Symlink { target, escapes } = &entry.kind {
                if std::fs::metadata(root.join(path)).is_ok_and(|m| m.is_dir()) {
                    skipped.push((
                        path.clone(),
                        format!("a symbolic link to the folder `{target}`{}; not walked, auditbook never follows links", outside(*escapes)),
                    ));
                }
            }
            continue;
        }
        let bytes = match &entry.kind {
            EntryKind::File {
                bytes: Some(bytes), ..
            } => bytes,
            EntryKind::File { bytes: None, .. } | EntryKind::Submodule => continue,
            EntryKind::Symlink { target, escapes } => {
                skipped.push((
                    path.clone(),
                    format!(
                        "a symbolic link to `{target}`{}; auditbook never follows links",
                        outside(*escapes)
                    ),
                ));
                continue;
            }
            EntryKind::NotRegular { what } => {
                skipped.push((
                    path.clone(),
                    format!("{what}, not a regular file; not opened"),
                ));
                continue;
            }
            EntryKind::TooLarge { size } => {
                skipped.push((
                    path.clone(),
                    format!(
                        "{size} bytes, over `limits.max_file_size` ({} bytes); not read",
                        config.limits.max_file_size
                    ),
                ));
                continue;
            }
        };
        if let Some(i) = bytes.iter().position(|&b| b == 0) {
            skipped.push((
                path.clone(),
                format!("holds a NUL byte at offset {i}: a binary file, not Markdown"),
            ));
            continue;
        }
        let raw = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                skipped.push((
                    path.clone(),
                    format!(
                        "not valid UTF-8 (byte {}); save it as UTF-8 text, then run adopt again",
                        e.valid_up_to()
                    ),
                ));
                continue;
            }
        };
        let text = markdown::normalise(raw);
        if text.trim().is_empty() {
            skipped.push((path.clone(), "empty; nothing to adopt".into()));
            continue;
        }
        match markdown::split(&text) {
            Split::Found { yaml, .. } => {
                left_alone.push((path.clone(), existing_note(&sources, &config, path, yaml)));
                continue;
            }
            Split::Unclosed => {
                left_alone.push((
                    path.clone(),
                    "starts with `---` but the frontmatter is never closed; close it by hand (`frontmatter-unclosed`)".into(),
                ));
                continue;
            }
            Split::Missing if crate::source::is_readme(path) => {
                left_alone.push((
                    path.clone(),
                    "a README explains a folder; it is not a controlled document".into(),
                ));
                continue;
            }
            Split::Missing => {}
        }
        let (id, id_note) = unique_id(path, &taken_by, &mut assigned);
        let body = markdown::parse_body_with(&text, 1, config.limits.markdown);
        // Another tool's metadata without an opening `---` (strongdm/comply writes it so) stays
        // in the body; its last lines would read as a heading, so the title comes after it.
        let header = foreign_header(&text, &config);
        let header_end = header.as_ref().map(|(end, _)| *end);
        let header_title = header.and_then(|(_, t)| t);
        let heading = body
            .headings
            .iter()
            .filter(|h| header_end.is_none_or(|end| h.pos.line > end))
            .find(|h| !h.text.trim().is_empty());
        let (title, title_from) = match (header_title, heading) {
            (Some(t), _) => t,
            (None, Some(h)) => (
                one_line(&h.text),
                format!("the first heading (line {})", h.pos.line),
            ),
            (None, None) => (title_from_name(path), "the file name (no heading)".into()),
        };
        let (doc_type, type_from) = type_from_folder(path);
        let headings: Vec<&str> = body.headings.iter().map(|h| h.text.as_str()).collect();
        let clauses = matcher.guess(&title, &headings, &text);
        let eol = if raw.contains("\r\n") {
            "\r\n"
        } else if raw.contains('\r') {
            "\r"
        } else {
            "\n"
        };
        let frontmatter = frontmatter(&id, &title, &doc_type, &clauses, eol);
        proposals.push(Proposal {
            path: path.clone(),
            id,
            id_note,
            title,
            title_from,
            doc_type,
            type_from,
            clauses,
            frontmatter,
            not_written: None,
            note: header_end.map(|end| {
                format!(
                    "lines 1-{end} look like another tool's metadata (YAML closed by `---`, never opened); they stay in the body: move what you need into the frontmatter by hand"
                )
            }),
        });
    }

    if opts.write {
        if let SmsYaml::New(text) = &sms_yaml {
            write_new(&root.join(config::FILE_NAME), text.as_bytes())?;
        }
        for p in &mut proposals {
            let Some(entry) = snapshot.get(&p.path) else {
                continue;
            };
            let EntryKind::File {
                bytes: Some(bytes), ..
            } = &entry.kind
            else {
                continue;
            };
            if let Err(why) = prepend(&config, &p.path, bytes, &p.frontmatter) {
                p.not_written = Some(why);
            }
        }
    }
    Ok(Outcome {
        root,
        written: opts.write,
        framework,
        sms_yaml,
        proposals,
        left_alone,
        skipped,
    })
}

/// The line of the `---` that closes another tool's metadata block written without an opening
/// `---`: the text starts with a `key:` line, and everything up to the first `---` line is a YAML
/// mapping. `None` for anything else.
/// Its `title` (or `name`) too, when it has one.
fn foreign_header(text: &str, config: &Config) -> Option<(u32, Option<(String, String)>)> {
    let first = text.lines().next()?;
    let key = first.split(':').next()?;
    if !first.contains(':')
        || key.is_empty()
        || !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return None;
    }
    let mut offset = 0;
    for (line, l) in (1u32..).zip(text.split_inclusive('\n')) {
        if l.trim_end_matches('\n') == "---" {
            let node = crate::yaml::parse(&text[..offset], config.limits.yaml).ok()??;
            node.as_map()?;
            let title = ["title", "name"].iter().find_map(|k| {
                let t = one_line(node.get(k)?.as_scalar()?);
                (!t.is_empty()).then(|| (t, format!("`{k}:` of the existing metadata")))
            });
            return Some((line, title));
        }
        offset += l.len();
    }
    None
}

/// The sms.yaml `init` writes, naming `framework`.
fn new_sms_yaml(organisation: &str, framework: &str) -> Result<String> {
    let organisation = organisation.trim();
    if organisation.is_empty() || organisation.chars().any(char::is_control) {
        bail!("--org: the organisation's name must be one line of text");
    }
    Ok(crate::init::sms_yaml_for(
        organisation,
        &[framework.to_string()],
    ))
}

/// What a link's message adds when it points out of the SMS.
fn outside(escapes: bool) -> &'static str {
    if escapes {
        ", outside the SMS root"
    } else {
        ""
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The file name without its `.md` extension.
fn stem(path: &str) -> &str {
    let name = file_name(path);
    match name.len().checked_sub(3) {
        Some(cut) if name.is_char_boundary(cut) && name[cut..].eq_ignore_ascii_case(".md") => {
            &name[..cut]
        }
        _ => name,
    }
}

/// What is said about a document that already has frontmatter.
/// The fields every document needs (`field-missing` otherwise), in the order adopt writes them.
const REQUIRED: &[&str] = &["id", "title", "type", "owner", "version", "status"];

fn existing_note(
    sources: &crate::source::Sources,
    config: &Config,
    path: &str,
    yaml: &str,
) -> String {
    let node = crate::yaml::parse(yaml, config.limits.yaml).ok().flatten();
    let missing: Vec<String> = match node.as_ref().filter(|n| n.as_map().is_some()) {
        Some(n) => REQUIRED
            .iter()
            .filter(|k| n.get(k).is_none())
            .map(|k| format!("`{k}`"))
            .collect(),
        None => Vec::new(),
    };
    let id = sources
        .documents
        .iter()
        .find(|d| d.path == path)
        .map(|d| format!(" (id `{}`)", d.id))
        .unwrap_or_default();
    if !missing.is_empty() {
        format!(
            "already has frontmatter{id} without {}; add them by hand (`field-missing`)",
            missing.join(", ")
        )
    } else if id.is_empty() {
        "already has frontmatter, which `auditbook check` cannot read yet (see its findings); left for you to fix".into()
    } else {
        format!("already has frontmatter{id}")
    }
}

/// An id made from the file name: letters, digits, '.', '_' and '-' kept, runs of anything else
/// one '-', starting with a letter or digit, at most 64 characters, never a Windows device name.
fn id_from_name(path: &str) -> String {
    let mut id = String::new();
    for c in stem(path).chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            id.push(c);
        } else if !id.ends_with('-') {
            id.push('-');
        }
    }
    let id = id.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    let mut id: String = id.chars().take(64).collect();
    while id.ends_with(['-', '.']) {
        id.pop();
    }
    if id.is_empty() {
        id = "doc".into();
    }
    if crate::ids::invalid_reason(&id).is_some() {
        id = format!("{}-doc", id.chars().take(60).collect::<String>());
    }
    id
}

/// The id for `path`: [`id_from_name`], with the first free `-N` suffix when it is taken, by an
/// id of the SMS (`taken_by`: lower-cased id -> its file) or one assigned before (`assigned`).
fn unique_id(
    path: &str,
    taken_by: &HashMap<String, String>,
    assigned: &mut HashMap<String, String>,
) -> (String, Option<String>) {
    let base = id_from_name(path);
    let mut note =
        (base != stem(path)).then(|| format!("`{}` is not a valid id as it is", stem(path)));
    let mut id = base.clone();
    let mut n = 2;
    let taken = |id: &str| {
        let k = crate::ids::key(id);
        taken_by.contains_key(&k) || assigned.contains_key(&k)
    };
    while taken(&id) {
        if n == 2 {
            let key = crate::ids::key(&base);
            let owner = taken_by
                .get(&key)
                .or_else(|| assigned.get(&key))
                .map(|p| format!(" by `{p}`"))
                .unwrap_or_default();
            note = Some(format!("`{base}` is taken{owner}"));
        }
        let suffix = format!("-{n}");
        let keep = 64 - suffix.len();
        id = format!("{}{suffix}", base.chars().take(keep).collect::<String>());
        n += 1;
    }
    assigned.insert(crate::ids::key(&id), path.to_string());
    (id, note)
}

/// A heading's text on one line, spaces collapsed.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A title made of the file name: `risk-mgmt.md` -> "Risk mgmt".
fn title_from_name(path: &str) -> String {
    let words = one_line(&stem(path).replace(['-', '_', '.'], " "));
    let mut c = words.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => "Untitled".into(),
    }
}

/// The document type a folder name says (`policies/`, `Procedure/`…), nearest folder first.
fn type_from_folder(path: &str) -> (String, String) {
    let mut folders: Vec<&str> = path.split('/').collect();
    folders.pop();
    for folder in folders.iter().rev() {
        let lower = folder.to_ascii_lowercase();
        let t = match lower.as_str() {
            "policy" | "policies" => "policy",
            "procedure" | "procedures" => "procedure",
            "plan" | "plans" => "plan",
            "process" | "processes" => "process",
            "standard" | "standards" => "standard",
            "register" | "registers" => "register",
            _ => continue,
        };
        return (t.to_string(), format!("the folder `{folder}/`"));
    }
    (
        "other".to_string(),
        "no folder names a type (policies, procedures, plans, processes, standards, registers)"
            .to_string(),
    )
}

/// The frontmatter block for a proposal, lines ended with `eol`. Every value that needs it is
/// quoted, so no line of the block is `---` or `...` and the YAML parses as written.
fn frontmatter(id: &str, title: &str, doc_type: &str, clauses: &[Guess], eol: &str) -> String {
    let mut lines = vec![
        "---".to_string(),
        "# Proposed by `auditbook adopt`: check every field, fill in the owner, then delete these comments.".to_string(),
        format!("id: {}", yaml_id(id)),
        format!("title: {}", crate::init::yaml_string(title)),
        format!("type: {doc_type}"),
        "owner: \"{{FILL: who owns this document: a person id from sms.yaml people, or a name or role}}\"".to_string(),
        "version: \"0.1\"".to_string(),
        "status: draft".to_string(),
    ];
    if clauses.is_empty() {
        lines.push(
            "clauses: [] # auditbook adopt found no clause title in the text: list the clauses this document addresses"
                .to_string(),
        );
    } else {
        lines.push(format!(
            "# clauses {GUESS_MARK} from the words of the text: keep only those this document addresses"
        ));
        lines.push("clauses:".to_string());
        for g in clauses {
            lines.push(format!(
                "  - {} # {GUESS_MARK}: {}",
                crate::init::yaml_string(&g.clause),
                words_list(&g.words)
            ));
        }
    }
    lines.push("---".to_string());
    let mut out = lines.join(eol);
    out.push_str(eol);
    out
}

/// An id as a YAML value: plain when YAML reads it as that text, else quoted (`"1.0"`, `"true"`,
/// `"2026-01-01"`, `"null"` would otherwise be a number, a boolean, a date or nothing).
fn yaml_id(id: &str) -> String {
    let plain = id.starts_with(|c: char| c.is_ascii_alphabetic())
        && !matches!(
            id.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n" | "nan" | "inf"
        );
    if plain {
        id.to_string()
    } else {
        crate::init::yaml_string(id)
    }
}

fn words_list(words: &[(String, usize)]) -> String {
    words
        .iter()
        .map(|(w, n)| format!("{w} ({n}x)"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Write `frontmatter` in front of the file's bytes: after a byte-order mark, before everything
/// else, which stays byte for byte. The file is read again first (it must still hold `bytes`),
/// the new content goes to a hidden temporary file in the same folder with the same permissions,
/// which is then renamed over the file: a link swapped in meanwhile is replaced, never followed.
fn prepend(config: &Config, rel: &str, bytes: &[u8], frontmatter: &str) -> Result<(), String> {
    let path = config.root.join(rel);
    match crate::regular::read(&path, config.limits.max_file_size) {
        Ok(crate::regular::Regular::Bytes(now)) if now[..] == bytes[..] => {}
        Ok(_) => return Err("it changed while adopt ran; run adopt again".into()),
        Err(e) => return Err(format!("cannot read it again: {e}")),
    }
    const BOM: &[u8] = "\u{feff}".as_bytes();
    let (bom, rest) = match bytes.strip_prefix(BOM) {
        Some(rest) => (BOM, rest),
        None => (&b""[..], bytes),
    };
    let mut out = Vec::with_capacity(bytes.len() + frontmatter.len());
    out.extend_from_slice(bom);
    out.extend_from_slice(frontmatter.as_bytes());
    out.extend_from_slice(rest);
    let perms = std::fs::symlink_metadata(&path)
        .map(|m| m.permissions())
        .map_err(|e| format!("cannot read its metadata: {e}"))?;
    if perms.readonly() {
        return Err("it is read-only; make it writable to adopt it".into());
    }
    let tmp = path.with_file_name(format!(
        ".{}.auditbook-adopt-{}",
        file_name(rel),
        std::process::id()
    ));
    let written = write_new(&tmp, &out)
        .map_err(|e| format!("{e:#}"))
        .and_then(|()| std::fs::set_permissions(&tmp, perms).map_err(|e| e.to_string()))
        .and_then(|()| std::fs::rename(&tmp, &path).map_err(|e| e.to_string()));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("cannot write it: {e}"));
    }
    Ok(())
}

/// Create a new file (never an existing one, never through a link) holding `bytes`.
fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create `{}`", path.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.flush())
        .with_context(|| format!("cannot write `{}`", path.display()))
}

/// Words that say nothing about which clause a text addresses: English function words and the
/// words every clause title of a management-system standard shares.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "acting",
    "all",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "by",
    "for",
    "from",
    "general",
    "in",
    "into",
    "is",
    "it",
    "its",
    "management",
    "of",
    "on",
    "or",
    "organization",
    "organizational",
    "organisation",
    "other",
    "plan",
    "planning",
    "policy",
    "procedure",
    "process",
    "service",
    "sm",
    "sms",
    "system",
    "the",
    "their",
    "them",
    "to",
    "with",
];

/// Lower-case words of a text, each reduced to a crude singular ("risks" -> "risk",
/// "activities" -> "activity"), so a title word and its plural in the text meet.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.len() >= 2)
        .map(|w| singular(&w.to_ascii_lowercase()))
}

fn singular(w: &str) -> String {
    if w.len() > 4 && w.ends_with("ies") {
        format!("{}y", &w[..w.len() - 3])
    } else if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") {
        w[..w.len() - 1].to_string()
    } else {
        w.to_string()
    }
}

/// One way to name a clause: the content words of its title, of one of its catalogue
/// `keywords`, or of the title of a named document it demands.
struct Name {
    clause: usize,
    words: Vec<String>,
}

/// Guesses clauses from the words of a text against the catalogue's clause titles and keywords
/// and the titles of the named documents they demand. A title word counts when it occurs in the
/// document's title or headings, or five times in its text; a clause is guessed when the words found
/// carry at least half the weight of one of its names (rarer words across the catalogue weigh
/// more), and its most telling word is among them.
struct Matcher<'c> {
    catalog: &'c Catalog,
    names: Vec<Name>,
    weight: HashMap<String, f64>,
}

impl<'c> Matcher<'c> {
    fn new(catalog: &'c Catalog, wanted: impl Fn(&crate::catalog::Clause) -> bool) -> Self {
        let stop: HashSet<&str> = STOP_WORDS.iter().copied().collect();
        let content = |title: &str| -> Vec<String> {
            let set: BTreeSet<String> = words(title)
                .filter(|w| w.len() >= 3 && !stop.contains(w.as_str()))
                .collect();
            set.into_iter().collect()
        };
        let mut names = Vec::new();
        for (i, c) in catalog.clauses.iter().enumerate() {
            if !wanted(c) || !citable(catalog, c) {
                continue;
            }
            names.push(Name {
                clause: i,
                words: content(&c.title),
            });
            for k in &c.keywords {
                names.push(Name {
                    clause: i,
                    words: content(k),
                });
            }
            for d in catalog
                .documents
                .iter()
                .filter(|d| c.documents.contains(&d.id))
            {
                names.push(Name {
                    clause: i,
                    words: content(&d.title),
                });
            }
        }
        names.retain(|n| !n.words.is_empty());
        let mut df: HashMap<String, usize> = HashMap::new();
        let clauses: BTreeSet<usize> = names.iter().map(|n| n.clause).collect();
        let mut per_clause: BTreeMap<usize, BTreeSet<&str>> = BTreeMap::new();
        for n in &names {
            per_clause
                .entry(n.clause)
                .or_default()
                .extend(n.words.iter().map(String::as_str));
        }
        for ws in per_clause.values() {
            for w in ws {
                *df.entry((*w).to_string()).or_default() += 1;
            }
        }
        let total = clauses.len().max(1) as f64;
        let weight = df
            .into_iter()
            .map(|(w, n)| (w, (1.0 + total / n as f64).ln()))
            .collect();
        Matcher {
            catalog,
            names,
            weight,
        }
    }

    fn guess(&self, title: &str, headings: &[&str], text: &str) -> Vec<Guess> {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for w in words(text) {
            *counts.entry(w).or_default() += 1;
        }
        let prominent: HashSet<String> = std::iter::once(title)
            .chain(headings.iter().copied())
            .flat_map(words)
            .collect();
        // A word of the document's own title says most about what it addresses.
        let in_title: HashSet<String> = words(title).collect();
        let found = |w: &str| -> Option<usize> {
            let n = counts.get(w).copied().unwrap_or(0);
            (n >= MIN_COUNT || (n >= 1 && prominent.contains(w))).then_some(n)
        };
        let mut best: BTreeMap<usize, Guess> = BTreeMap::new();
        for name in &self.names {
            let w = |x: &str| self.weight.get(x).copied().unwrap_or(1.0);
            let total: f64 = name.words.iter().map(|x| w(x)).sum();
            let matched: Vec<(String, usize)> = name
                .words
                .iter()
                .filter_map(|x| found(x).map(|n| (x.clone(), n)))
                .collect();
            let got: f64 = matched.iter().map(|(x, _)| w(x)).sum();
            let Some(top) = name
                .words
                .iter()
                .max_by(|a, b| w(a).total_cmp(&w(b)).then_with(|| b.cmp(a)))
            else {
                continue;
            };
            if matched.is_empty() || got * 2.0 < total || !matched.iter().any(|(x, _)| x == top) {
                continue;
            }
            let score: f64 = matched
                .iter()
                .map(|(x, n)| {
                    let bonus = if in_title.contains(x) {
                        TITLE_BONUS
                    } else {
                        0.0
                    };
                    w(x) * (1.0 + (*n as f64).ln() + bonus)
                })
                .sum::<f64>()
                * (got / total);
            let c = &self.catalog.clauses[name.clause];
            let guess = Guess {
                clause: c.id.clone(),
                title: c.title.clone(),
                words: matched,
                score,
            };
            match best.get(&name.clause) {
                Some(g) if g.score >= guess.score => {}
                _ => {
                    best.insert(name.clause, guess);
                }
            }
        }
        // A parent is dropped when one of its own clauses is guessed: citing the parent would
        // claim all its children.
        let guessed: Vec<usize> = best.keys().copied().collect();
        best.retain(|&i, _| !guessed.iter().any(|&j| j != i && self.is_ancestor(i, j)));
        let top = best.values().map(|g| g.score).fold(0.0, f64::max);
        let mut ranked: Vec<(usize, Guess)> = best
            .into_iter()
            .filter(|(_, g)| g.score * 100.0 >= top * RELATIVE_CUT)
            .collect();
        ranked.sort_by(|a, b| b.1.score.total_cmp(&a.1.score).then(a.0.cmp(&b.0)));
        ranked.truncate(MAX_GUESSES);
        // Written in catalogue order, as a person lists clauses.
        ranked.sort_by_key(|(i, _)| *i);
        ranked.into_iter().map(|(_, g)| g).collect()
    }
}

impl Matcher<'_> {
    /// Whether clause `a` is an ancestor of clause `b` (indexes into the catalogue).
    fn is_ancestor(&self, a: usize, b: usize) -> bool {
        let target = &self.catalog.clauses[a].id;
        let mut at = self.catalog.clauses[b].parent.clone();
        while let Some(p) = at {
            if &p == target {
                return true;
            }
            at = self.catalog.clause(&p).and_then(|c| c.parent.clone());
        }
        false
    }
}

/// Whether citing a clause in frontmatter can cover something (no top-level clause, no plain
/// heading) and the clause asks for documents.
fn citable(catalog: &Catalog, c: &crate::catalog::Clause) -> bool {
    if c.is_top_level() {
        return false;
    }
    if c.children.is_empty() {
        c.evidence.needs_documents()
    } else {
        c.expand && !catalog.covered_by_citation(&c.id).is_empty()
    }
}

/// The report of a run, for people.
pub fn report(o: &Outcome) -> String {
    let mut out = String::new();
    let mode = if o.written {
        "written"
    } else {
        "dry run, nothing written; pass --write to write what follows"
    };
    out.push_str(&format!("auditbook adopt {} ({mode})\n", o.root.display()));
    match &o.sms_yaml {
        SmsYaml::Present => out.push_str("sms.yaml: present, used as it is\n"),
        SmsYaml::New(_) if o.written => out.push_str(&format!(
            "sms.yaml: written (framework {}); fill in its scope and people\n",
            o.framework
        )),
        SmsYaml::New(_) => out.push_str(&format!(
            "sms.yaml: missing; would write the starter sms.yaml (framework {})\n",
            o.framework
        )),
    }
    let verb = if o.written { "Added" } else { "Would add" };
    if o.proposals.is_empty() {
        out.push_str("\nNo Markdown document without frontmatter: nothing to propose.\n");
    } else {
        out.push_str(&format!(
            "\n{verb} frontmatter to {} document{} (clauses guessed from {}; the body is never changed):\n",
            o.proposals.len(),
            plural(o.proposals.len()),
            o.framework
        ));
    }
    for p in &o.proposals {
        out.push_str(&format!("\n{}\n", p.path));
        if let Some(why) = &p.not_written {
            out.push_str(&format!("  NOT WRITTEN: {why}\n"));
        }
        if let Some(note) = &p.note {
            out.push_str(&format!("  note: {note}\n"));
        }
        let id_from = match &p.id_note {
            Some(note) => format!("from the file name; {note}"),
            None => "from the file name".to_string(),
        };
        out.push_str(&format!("  id     {} ({id_from})\n", p.id));
        out.push_str(&format!("  title  {} (from {})\n", p.title, p.title_from));
        out.push_str(&format!("  type   {} (from {})\n", p.doc_type, p.type_from));
        if p.clauses.is_empty() {
            out.push_str("  clauses: none guessed (no clause title's words in the text)\n");
        } else {
            out.push_str("  clauses (guesses, with the matched words):\n");
            for g in &p.clauses {
                out.push_str(&format!(
                    "    {} {}: {}\n",
                    g.clause,
                    g.title,
                    words_list(&g.words)
                ));
            }
        }
        out.push_str("  frontmatter:\n");
        for line in p.frontmatter.lines() {
            out.push_str(&format!("    | {}\n", line.trim_end_matches('\r')));
        }
    }
    if !o.left_alone.is_empty() {
        out.push_str(&format!("\nLeft unchanged ({}):\n", o.left_alone.len()));
        for (path, note) in &o.left_alone {
            out.push_str(&format!("  {path}: {note}\n"));
        }
    }
    if !o.skipped.is_empty() {
        out.push_str(&format!("\nSkipped ({}):\n", o.skipped.len()));
        for (path, why) in &o.skipped {
            out.push_str(&format!("  {path}: {why}\n"));
        }
    }
    out.push_str("\nNext: ");
    if o.written {
        out.push_str(
            "review each document's frontmatter (the clauses are guesses), fill in the owners, then run `auditbook check`.\n",
        );
    } else {
        out.push_str("run again with --write, then review each document's frontmatter.\n");
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_file_names_are_valid() {
        assert_eq!(id_from_name("policies/risk-mgmt.md"), "risk-mgmt");
        assert_eq!(id_from_name("a/Change Policy (v2).MD"), "Change-Policy-v2");
        assert_eq!(id_from_name("a/--x.md"), "x");
        assert_eq!(id_from_name("a/日本.md"), "doc");
        assert_eq!(id_from_name("a/con.md"), "con-doc");
        let long = format!("a/{}.md", "x".repeat(80));
        assert_eq!(id_from_name(&long).len(), 64);
        for p in ["a/...md", "a/-.md", "a/CON.md", &long, "a/a b.c.md"] {
            assert_eq!(crate::ids::invalid_reason(&id_from_name(p)), None, "{p}");
        }
    }

    #[test]
    fn clashes_get_the_first_free_suffix() {
        let by: HashMap<String, String> = [("ir".to_string(), "a/ir.md".to_string())].into();
        let mut assigned = HashMap::new();
        let (id, note) = unique_id("p/IR.md", &by, &mut assigned);
        assert_eq!(id, "IR-2");
        assert_eq!(note.as_deref(), Some("`IR` is taken by `a/ir.md`"));
        let (id, _) = unique_id("q/ir.md", &by, &mut assigned);
        assert_eq!(id, "ir-3");
    }

    #[test]
    fn types_come_from_the_nearest_folder() {
        assert_eq!(type_from_folder("Policies/x.md").0, "policy");
        assert_eq!(type_from_folder("procedures/plans/x.md").0, "plan");
        assert_eq!(type_from_folder("x.md").0, "other");
    }

    #[test]
    fn the_frontmatter_parses_and_never_closes_early() {
        let g = Guess {
            clause: "8.6.1".into(),
            title: "Incident management".into(),
            words: vec![("incident".into(), 3)],
            score: 1.0,
        };
        let fm = frontmatter("x", "---\n...", "policy", &[g], "\n");
        let text = format!("{fm}# Body\n");
        match markdown::split(&text) {
            Split::Found { body, .. } => assert_eq!(body, "# Body\n"),
            other => panic!("{other:?}"),
        }
    }
}
