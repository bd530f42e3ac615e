//! Findings: data about the SMS, collected while the run goes on.
//!
//! A finding is never an `Err`: the tool keeps going and reports every finding at the end. Failures
//! that stop the tool (unreadable repository, bad arguments) are `anyhow` errors instead.

use crate::codes;
use crate::yaml::Pos;
use serde::Serialize;

/// How serious a finding is. Ordered from most to least serious.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// One finding about the SMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable kebab-case code, one of [`codes::CODES`].
    pub code: &'static str,
    pub severity: Severity,
    /// Path relative to the SMS root, `/`-separated; `None` for findings about the whole SMS.
    pub path: Option<String>,
    pub pos: Option<Pos>,
    pub message: String,
    pub help: Option<String>,
    /// What the finding is about (a clause, document or record id, or a path when there is no
    /// id): with the code, it makes the fingerprint that `--base` compares. Never a line number.
    pub subject: String,
    /// For a finding that stands for many rows of one tabular records file: every row's line.
    pub rows: Vec<u32>,
}

impl Diagnostic {
    /// A finding with the code's default severity and help.
    pub fn new(code: &'static str, subject: impl Into<String>, message: impl Into<String>) -> Self {
        let info = codes::lookup(code);
        debug_assert!(info.is_some(), "unregistered finding code {code}");
        Diagnostic {
            code,
            severity: info.map_or(Severity::Error, |c| c.severity),
            path: None,
            pos: None,
            message: message.into(),
            help: info.map(|c| c.help.to_string()),
            subject: subject.into(),
            rows: Vec::new(),
        }
    }

    pub fn at(mut self, path: &str, pos: Pos) -> Self {
        self.path = Some(path.to_string());
        self.pos = Some(pos);
        self
    }

    pub fn in_file(mut self, path: &str) -> Self {
        self.path = Some(path.to_string());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The stable identity of this finding across revisions.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(format!("{}\0{}", self.code, self.subject).as_bytes());
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Sort key: path (whole-SMS findings first), line, column, code, then the message with
    /// numbers compared as numbers (so clause 7.2 comes before clause 10.1).
    pub fn sort_key(&self) -> (Option<&str>, Option<Pos>, &'static str, String) {
        (
            self.path.as_deref(),
            self.pos,
            self.code,
            natural_key(&self.message),
        )
    }
}

/// A key under which digit runs compare by value: each run is prefixed with its length.
fn natural_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if !digits.is_empty() {
            let trimmed = digits.trim_start_matches('0');
            out.push(char::from(b'a' + trimmed.len().min(25) as u8));
            out.push_str(trimmed);
            digits.clear();
        }
    };
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

/// More findings than this of one code in one tabular file become one finding.
pub const AGGREGATE_OVER: usize = 5;

/// More findings than this of one code in one document become one finding: no real document
/// has a thousand broken links, but a hostile one can have a hundred thousand, and listing each
/// on three site pages would stall the build.
pub const AGGREGATE_DOCUMENT_OVER: usize = 1000;

/// Which files' findings [`aggregate_rows`] may merge: the rows of a tabular records file, or
/// the lines of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouped {
    Rows,
    Lines,
}

impl Grouped {
    fn over(self) -> usize {
        match self {
            Grouped::Rows => AGGREGATE_OVER,
            Grouped::Lines => AGGREGATE_DOCUMENT_OVER,
        }
    }
}

/// One finding per (file, code, level) where a code has more findings in one file than its
/// limit ([`AGGREGATE_OVER`] for the rows of a tabular records file, [`AGGREGATE_DOCUMENT_OVER`]
/// for the lines of a document; `grouped` says which a path is, `None` for files never merged):
/// the count and the first lines in the message, every line in `rows`. Other findings pass
/// through unchanged; the order of the first of each group is kept.
pub fn aggregate_rows(
    diags: Vec<Diagnostic>,
    grouped: impl Fn(&str) -> Option<Grouped>,
) -> Vec<Diagnostic> {
    use std::collections::HashMap;
    type Key = (String, &'static str, Severity);
    let mut kinds: HashMap<String, Option<Grouped>> = HashMap::new();
    let mut key = |d: &Diagnostic| -> Option<(Key, Grouped)> {
        let p = d.path.as_deref()?;
        let g = *kinds.entry(p.to_string()).or_insert_with(|| grouped(p));
        g.map(|g| ((p.to_string(), d.code, d.severity), g))
    };
    let mut counts: HashMap<Key, (usize, Grouped)> = HashMap::new();
    for d in &diags {
        if let Some((k, g)) = key(d) {
            counts.entry(k).or_insert((0, g)).0 += 1;
        }
    }
    if counts.values().all(|&(n, g)| n <= g.over()) {
        return diags;
    }
    let mut out: Vec<Diagnostic> = Vec::with_capacity(diags.len());
    let mut slot: HashMap<Key, usize> = HashMap::new();
    for d in diags {
        let Some((k, _)) = key(&d).filter(|(k, g)| counts[k].0 > g.over()) else {
            out.push(d);
            continue;
        };
        let line = d.pos.map_or(0, |p| p.line);
        match slot.get(&k) {
            Some(&i) => out[i].rows.push(line),
            None => {
                slot.insert(k, out.len());
                let mut agg = d;
                agg.rows = vec![line];
                out.push(agg);
            }
        }
    }
    for &i in slot.values() {
        let d = &mut out[i];
        d.rows.sort_unstable();
        let path = d.path.clone().unwrap_or_default();
        let first: Vec<String> = d
            .rows
            .iter()
            .take(AGGREGATE_OVER)
            .map(u32::to_string)
            .collect();
        let more = if d.rows.len() > AGGREGATE_OVER {
            ", …"
        } else {
            ""
        };
        let what = match kinds.get(&path).copied().flatten() {
            Some(Grouped::Lines) => "places in",
            _ => "rows of",
        };
        d.message = format!(
            "{} {what} `{path}` have this finding (lines {}{more}; every line is in the JSON output); the first: {}",
            d.rows.len(),
            first.join(", "),
            d.message
        );
        d.subject = path;
        if let Some(first_line) = d.rows.first() {
            d.pos = Some(Pos::new(*first_line, 1));
        }
    }
    out
}

/// Sort findings into their stable output order and drop exact duplicates.
pub fn sort(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    diags.dedup();
}

/// Counts by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
}

pub fn count(diags: &[Diagnostic]) -> Counts {
    let mut c = Counts::default();
    for d in diags {
        match d.severity {
            Severity::Error => c.errors += 1,
            Severity::Warning => c.warnings += 1,
            Severity::Note => c.notes += 1,
        }
    }
    c
}
