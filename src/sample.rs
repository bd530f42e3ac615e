//! `auditbook sample`: a seeded, reproducible sample of records for an auditor.
//!
//! Auditors test records by sample. The sample is a pure function of the population and the
//! seed: every record of the kind that passes the filter gets the key SHA-256(seed, NUL, id)
//! (the id as written), and the sample is the `size` records with the lowest keys (ties, which
//! SHA-256 makes practically impossible, by id). Anyone with the same records and seed gets the
//! same sample, and adding or removing other records changes it only where their keys fall —
//! so the auditee cannot steer it, provided the auditor chooses the seed after the population
//! is fixed (committed).

use crate::source::Record;
use anyhow::{bail, Result};
use jiff::civil::Date;
use sha2::{Digest, Sha256};
use std::fmt::Write;

/// What to sample from, and how many.
#[derive(Debug, Clone)]
pub struct Request {
    pub kind: String,
    pub size: usize,
    pub seed: String,
    pub from: Option<Date>,
    pub to: Option<Date>,
    /// `field=value` conditions, all of which a record must meet (exact text match).
    pub conditions: Vec<(String, String)>,
}

/// One chosen record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick {
    pub key: String,
    pub id: String,
    pub date: Option<Date>,
    pub title: String,
    pub path: String,
    pub line: u32,
}

#[derive(Debug, Clone)]
pub struct Sample {
    pub population: usize,
    pub picks: Vec<Pick>,
}

/// A request and the sample drawn for it, as a build or bundle carries it (its site page, its
/// `sample.csv`, the bundle manifest's `sample`).
#[derive(Debug, Clone)]
pub struct Drawn {
    pub request: Request,
    pub sample: Sample,
}

/// The algorithm's name, as the bundle's manifest records it.
pub const ALGORITHM: &str =
    "lowest hex SHA-256(seed, NUL, id) among the records of the kind that pass the filter";

/// Draw the sample a build asked for, if any.
pub fn draw_for(records: &[Record], req: Option<Request>) -> Result<Option<Drawn>> {
    let Some(request) = req else {
        return Ok(None);
    };
    let sample = draw(records, &request)?;
    Ok(Some(Drawn { request, sample }))
}

/// The filter of a request in words: "from 2026-01-01, to 2026-06-30, service=Mail" or "no filter".
pub fn filter_text(req: &Request) -> String {
    let mut filter = Vec::new();
    if let Some(f) = req.from {
        filter.push(format!("from {f}"));
    }
    if let Some(t) = req.to {
        filter.push(format!("to {t}"));
    }
    for (f, v) in &req.conditions {
        filter.push(format!("{f}={v}"));
    }
    if filter.is_empty() {
        "no filter".to_string()
    } else {
        filter.join(", ")
    }
}

/// Quote an argument for a POSIX shell when it needs it.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.,:/=+@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The `auditbook sample` command that draws the same sample again (on the same commit).
pub fn command_line(req: &Request) -> String {
    let mut s = format!(
        "auditbook sample --kind {} --size {} --seed {}",
        shell_word(&req.kind),
        req.size,
        shell_word(&req.seed)
    );
    if let Some(f) = req.from {
        s.push_str(&format!(" --from {f}"));
    }
    if let Some(t) = req.to {
        s.push_str(&format!(" --to {t}"));
    }
    for (f, v) in &req.conditions {
        s.push_str(&format!(" --where {}", shell_word(&format!("{f}={v}"))));
    }
    s
}

/// Parse a `--where field=value` argument.
pub fn parse_condition(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((f, v)) if !f.trim().is_empty() => Ok((f.trim().to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not `field=value`")),
    }
}

/// The key of a record under a seed: hex SHA-256 of the seed, a NUL byte and the id.
pub fn key(seed: &str, id: &str) -> String {
    let mut h = Sha256::new();
    h.update(seed.as_bytes());
    h.update([0u8]);
    h.update(id.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn matches(r: &Record, req: &Request) -> bool {
    if r.kind != req.kind {
        return false;
    }
    if req.from.is_some() || req.to.is_some() {
        let Some(d) = r.date else { return false };
        if req.from.is_some_and(|f| d < f) || req.to.is_some_and(|t| d > t) {
            return false;
        }
    }
    req.conditions.iter().all(|(f, v)| {
        r.field(f)
            .and_then(|n| n.as_scalar())
            .is_some_and(|t| t == v)
    })
}

/// Draw the sample from the records.
pub fn draw(records: &[Record], req: &Request) -> Result<Sample> {
    if req.seed.trim().is_empty() {
        bail!("the seed must not be empty: the auditor chooses it (any text, e.g. a phrase)");
    }
    let population: Vec<&Record> = records.iter().filter(|r| matches(r, req)).collect();
    let mut keyed: Vec<(String, &Record)> = population
        .iter()
        .map(|r| (key(&req.seed, &r.id), *r))
        .collect();
    keyed.sort_by(|a, b| (&a.0, &a.1.id).cmp(&(&b.0, &b.1.id)));
    let picks = keyed
        .into_iter()
        .take(req.size)
        .map(|(key, r)| Pick {
            key,
            id: r.id.clone(),
            date: r.date,
            title: r.title.clone(),
            path: r.path.clone(),
            line: r.pos.line,
        })
        .collect();
    Ok(Sample {
        population: population.len(),
        picks,
    })
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The sample as CSV: one row per pick, in sample order.
pub fn to_csv(sample: &Sample) -> String {
    let mut out = String::from("rank,id,date,title,path,line,key\n");
    for (i, p) in sample.picks.iter().enumerate() {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{}",
            i + 1,
            csv_cell(&p.id),
            p.date.map(|d| d.to_string()).unwrap_or_default(),
            csv_cell(&p.title),
            csv_cell(&p.path),
            p.line,
            p.key
        );
    }
    out
}

/// What was sampled, for the person who ran it (stderr).
pub fn summary(sample: &Sample, req: &Request) -> String {
    let filter = filter_text(req);
    let mut s = format!(
        "sampled {} of {} `{}` records ({filter}) with seed {:?}: the lowest SHA-256(seed, NUL, id)\n",
        sample.picks.len(),
        sample.population,
        req.kind,
        req.seed
    );
    if sample.picks.len() < req.size {
        let _ = writeln!(
            s,
            "note: the population holds fewer records than the size asked ({})",
            req.size
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_sha256_of_seed_nul_id() {
        // printf 'abc\0INC-1' | sha256sum: an auditor can recompute it without auditbook.
        assert_eq!(
            key("abc", "INC-1"),
            "ce2914a049b9f27b1ad14490e6b208f4fb38f24c7c1b7a25f91ffda93143d9f4"
        );
    }
}
