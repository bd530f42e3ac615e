//! The bundle's two lists of hashes: `manifest.json` (what the bundle is, and the path, size and
//! SHA-256 of every entry but itself and `SHA256SUMS`) and `SHA256SUMS` (GNU coreutils format,
//! every entry but itself, so `sha256sum -c SHA256SUMS` works without auditbook). The bundle's
//! fingerprint is the SHA-256 of `SHA256SUMS`: it covers every byte of every entry, the manifest
//! included. Wire types; documented in README "Auditor bundle" and frozen by tests.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// `format` of this manifest layout; a reader refuses any other.
pub const FORMAT: &str = "auditbook-bundle/1";
pub const MANIFEST: &str = "manifest.json";
pub const SUMS: &str = "SHA256SUMS";

/// `manifest.json`.
#[derive(Serialize)]
pub struct Manifest<'a> {
    pub format: &'static str,
    pub tool: crate::report::Tool,
    pub organisation: &'a str,
    /// The primary framework.
    pub framework: Framework<'a>,
    /// Every framework of the bundle (primary first; only the one under `--framework`), each
    /// with its catalogue hash and coverage.
    pub frameworks: Vec<FrameworkCoverage<'a>>,
    /// The mappings between the frameworks (built in, and the SMS's `mappings/`) that the site
    /// shows as "related, see …" — information, never coverage — with their SHA-256.
    pub mappings: Vec<MappingEntry<'a>>,
    /// `None` when the SMS is not in git or has no commit yet (then `dirty` is true).
    pub commit: Option<Commit>,
    pub as_of: String,
    /// `--at DATE|REV`: the past state bundled, `{date, commit}` (absent without `--at`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<&'a crate::check::At>,
    /// The content is not bound to a commit: made with `--allow-dirty` from a work tree that
    /// differs from HEAD, or from a folder outside git. Every page of the site says DRAFT.
    pub dirty: bool,
    /// With `--allow-dirty`: the SMS files whose work-tree content (shown by `site/`) differs from
    /// the commit (held by `sources/`).
    pub uncommitted: &'a [String],
    pub coverage: crate::model::CoverageSummary,
    pub findings: crate::diag::Counts,
    /// Templates and assets the SMS overrides (trusted code of the SMS), with their SHA-256.
    pub templates: Vec<Template<'a>>,
    /// Effective approved texts of documents whose committed revision is a draft or in review.
    pub effective: Vec<Effective<'a>>,
    /// The auditor's sample drawn into the bundle (`--sample-*`), with everything needed to draw
    /// it again; absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<Sample>,
    /// The Statement of Applicability (ISO/IEC 27001): the document it is read from and its
    /// counts; the table itself is `site/soa.html` and `site/soa.csv`. Absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement_of_applicability: Option<SoaEntry<'a>>,
    /// SMS paths that are not regular files (symbolic links, submodules) or whose names a zip
    /// cannot carry safely: listed here, not included.
    pub not_included: Vec<NotIncluded>,
    /// SHA-256 of the `files` list written as `SHA256SUMS` lines (`<sha256>  <path>\n`, sorted).
    pub files_sha256: String,
    /// Every entry of the zip except `manifest.json` and `SHA256SUMS`, sorted by path.
    pub files: Vec<FileEntry>,
}

/// The manifest's record of an auditor's sample: the request, the population it was drawn
/// from, the chosen ids in sample order, and the command that draws it again.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    pub algorithm: &'static str,
    pub kind: String,
    pub size: usize,
    pub seed: String,
    pub from: Option<String>,
    pub to: Option<String>,
    /// `field=value` conditions, all of which a record met.
    #[serde(rename = "where")]
    pub conditions: Vec<String>,
    pub population: usize,
    pub ids: Vec<String>,
    pub command: String,
}

impl Sample {
    pub fn of(d: &crate::sample::Drawn) -> Sample {
        let r = &d.request;
        Sample {
            algorithm: crate::sample::ALGORITHM,
            kind: r.kind.clone(),
            size: r.size,
            seed: r.seed.clone(),
            from: r.from.map(|d| d.to_string()),
            to: r.to.map(|d| d.to_string()),
            conditions: r
                .conditions
                .iter()
                .map(|(f, v)| format!("{f}={v}"))
                .collect(),
            population: d.sample.population,
            ids: d.sample.picks.iter().map(|p| p.id.clone()).collect(),
            command: crate::sample::command_line(r),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Framework<'a> {
    pub id: &'a str,
    pub title: &'a str,
    /// SHA-256 of the catalogue's source text (built in, or the SMS's framework file).
    pub sha256: &'a str,
}

#[derive(Debug, Clone, Serialize)]
pub struct FrameworkCoverage<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub primary: bool,
    /// SHA-256 of the catalogue's source text.
    pub sha256: &'a str,
    pub coverage: crate::model::CoverageSummary,
}

#[derive(Debug, Clone, Serialize)]
pub struct MappingEntry<'a> {
    pub id: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    /// The SMS path of a user mapping file, or `<built-in mappings/NAME>`.
    pub source: &'a str,
    /// SHA-256 of the mapping's source text.
    pub sha256: &'a str,
    pub pairs: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Commit {
    pub id: String,
    /// Committer time, RFC 3339 in the commit's own UTC offset.
    pub time: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SoaEntry<'a> {
    pub document: &'a str,
    pub version: Option<&'a str>,
    pub status: &'static str,
    /// SMS-relative path of the SoA document (under `sources/`).
    pub path: &'a str,
    pub controls: usize,
    pub applicable: usize,
    pub excluded: usize,
    /// Controls without an entry, or whose entry says neither yes nor no.
    pub undecided: usize,
    pub table: &'static str,
    pub csv: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Template<'a> {
    pub name: &'a str,
    pub sha256: &'a str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Effective<'a> {
    pub document: &'a str,
    pub version: Option<&'a str>,
    pub commit: &'a str,
    /// The document's SMS path in that commit.
    pub path: &'a str,
    /// The zip entry that holds the text.
    pub entry: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct NotIncluded {
    pub path: String,
    pub reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// The fields `verify` reads; other fields are informative.
#[derive(Debug, Clone, Deserialize)]
pub struct ManifestRead {
    pub format: String,
    pub commit: Option<Commit>,
    pub as_of: String,
    pub dirty: bool,
    pub files_sha256: String,
    pub files: Vec<FileEntry>,
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// One `SHA256SUMS` line (GNU coreutils text mode: hash, two spaces, name). Bundle names never
/// hold a backslash or a line break (see [`super::name_problem`]), so no escaping is needed.
pub fn sums_line(out: &mut String, sha256: &str, path: &str) {
    out.push_str(sha256);
    out.push_str("  ");
    out.push_str(path);
    out.push('\n');
}

/// The `SHA256SUMS` text of a list of entries (sorted by path by the caller).
pub fn sums<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (path, sha) in entries {
        sums_line(&mut out, sha, path);
    }
    out
}

/// `files_sha256`: the SHA-256 of the files list written as `SHA256SUMS` lines.
pub fn files_digest(files: &[FileEntry]) -> String {
    let text = sums(files.iter().map(|f| (f.path.as_str(), f.sha256.as_str())));
    sha256_hex(text.as_bytes())
}

/// Parse `SHA256SUMS`: (path, lower-case sha256) per line, or the line number and what is wrong.
pub fn parse_sums(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (i, line) in text.split_terminator('\n').enumerate() {
        let n = i + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with('\\') {
            return Err(format!(
                "line {n} uses an escaped name, which an auditbook bundle never writes"
            ));
        }
        let (hash, rest) = match line.split_at_checked(64) {
            Some(parts) => parts,
            None => return Err(format!("line {n} is not `<sha256>  <path>`")),
        };
        if !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("line {n} does not start with a 64-digit SHA-256"));
        }
        let Some(path) = rest.strip_prefix("  ").or_else(|| rest.strip_prefix(" *")) else {
            return Err(format!(
                "line {n}: the SHA-256 is not followed by two spaces (or ` *`) and a path"
            ));
        };
        if path.is_empty() {
            return Err(format!("line {n} names no file"));
        }
        out.push((path.to_string(), hash.to_ascii_lowercase()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_round_trip_in_gnu_format() {
        let text = sums([
            ("a b.txt", "00".repeat(32).as_str()),
            ("site/x.html", "ab".repeat(32).as_str()),
        ]);
        assert_eq!(
            text,
            format!(
                "{}  a b.txt\n{}  site/x.html\n",
                "00".repeat(32),
                "ab".repeat(32)
            )
        );
        let parsed = parse_sums(&text).unwrap();
        assert_eq!(parsed[0], ("a b.txt".to_string(), "00".repeat(32)));
        assert_eq!(parsed[1].0, "site/x.html");
    }

    #[test]
    fn sums_parser_says_which_line_is_wrong() {
        assert!(parse_sums("xyz  a\n").unwrap_err().contains("line 1"));
        let good = format!("{}  a\n", "00".repeat(32));
        let bad = format!("{good}{} a\n", "11".repeat(32));
        assert!(parse_sums(&bad).unwrap_err().contains("line 2"));
        assert!(parse_sums("é").is_err());
    }
}
