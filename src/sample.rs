//! `auditbook sample`: a seeded, reproducible sample of records for an auditor.
//!
//! Auditors test records by sample. The sample is a pure function of the population and the
//! seed: every record of the kind that passes the filter gets the key SHA-256(seed, NUL, id)
//! (the id as written), and the sample is the `size` records with the lowest keys (ties, which
//! SHA-256 makes practically impossible, by id). Anyone with the same records and seed gets the
//! same sample, and adding or removing other records changes it only where their keys fall —
//! so the auditee cannot steer it, provided the auditor chooses the seed after the population
//! is fixed (committed).

use crate::config::Config;
use crate::snapshot::{self, EntryKind, Role, Snapshot};
use crate::source::Record;
use anyhow::{bail, Result};
use jiff::civil::Date;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::BinaryHeap;
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
    hex(&digest(seed, id))
}

fn digest(seed: &str, id: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(seed.as_bytes());
    h.update([0u8]);
    h.update(id.as_bytes());
    h.finalize().into()
}

fn hex(digest: &[u8; 32]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn matches(r: &Record, req: &Request) -> bool {
    if *r.kind != *req.kind {
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
            path: r.path.to_string(),
            line: r.pos.line,
        })
        .collect();
    Ok(Sample {
        population: population.len(),
        picks,
    })
}

/// One candidate of a streaming draw: its key as the SHA-256 digest (the hex key orders as the
/// digest bytes do), then the id, then where it was read (file, row), which orders records of one
/// key and id as the full draw's stable sort does: in snapshot order.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Candidate {
    digest: [u8; 32],
    id: String,
    at: (usize, usize),
    date: Option<Date>,
    title: String,
    path: String,
    line: u32,
}

/// The `size` lowest candidates seen, bounded: a max-heap of at most `size` entries.
struct Lowest {
    size: usize,
    heap: BinaryHeap<Candidate>,
    population: usize,
}

impl Lowest {
    fn new(size: usize) -> Lowest {
        Lowest {
            size,
            heap: BinaryHeap::with_capacity(size.min(4096) + 1),
            population: 0,
        }
    }

    /// Count a record of the population and keep it if it is among the lowest so far.
    fn offer(&mut self, req: &Request, r: Record, at: (usize, usize)) {
        if !matches(&r, req) {
            return;
        }
        self.population += 1;
        if self.size == 0 {
            return;
        }
        let digest = digest(&req.seed, &r.id);
        if self.heap.len() == self.size {
            // `at` grows within a file, so an equal digest and id comes after the top.
            if let Some(top) = self.heap.peek() {
                if (&digest, r.id.as_str()) >= (&top.digest, top.id.as_str()) {
                    return;
                }
            }
            self.heap.pop();
        }
        self.heap.push(Candidate {
            digest,
            id: r.id,
            at,
            date: r.date,
            title: r.title,
            path: r.path.to_string(),
            line: r.pos.line,
        });
    }
}

/// The fields a request reads besides id, kind, date and title.
fn condition_fields(req: &Request) -> Vec<&str> {
    req.conditions.iter().map(|(f, _)| f.as_str()).collect()
}

/// Draw the sample from the record files of a snapshot, streaming: each file is read for the
/// fields the draw uses (id, kind, date, title and the `--where` fields) and only the `size`
/// lowest keys of each file are kept. Gives exactly what [`draw`] gives on the parsed records,
/// in a fraction of the memory.
pub fn draw_streaming(config: &Config, snap: &Snapshot, req: &Request) -> Result<Sample> {
    if req.seed.trim().is_empty() {
        bail!("the seed must not be empty: the auditor chooses it (any text, e.g. a phrase)");
    }
    let fields = condition_fields(req);
    let per_file: Vec<Lowest> = snap
        .entries
        .par_iter()
        .enumerate()
        .filter_map(|(file, entry)| {
            let EntryKind::File {
                bytes: Some(bytes), ..
            } = &entry.kind
            else {
                return None;
            };
            if snapshot::role(config, &entry.path) != Role::Record {
                return None;
            }
            let mut ignored = Vec::new();
            let text = crate::source::text_cow(&entry.path, bytes, &mut ignored)?;
            let mut lowest = Lowest::new(req.size);
            let mut row = 0usize;
            let mut offer = |r: Record| {
                lowest.offer(req, r, (file, row));
                row += 1;
            };
            match crate::tabular::Format::of(&entry.path) {
                Some(format) => crate::tabular::stream_records(
                    config,
                    &entry.path,
                    format,
                    &text,
                    &fields,
                    &mut offer,
                ),
                None => {
                    for r in crate::source::parse_records(config, &entry.path, &text, &mut ignored)
                    {
                        offer(r);
                    }
                }
            }
            Some(lowest)
        })
        .collect();
    let population = per_file.iter().map(|l| l.population).sum();
    let mut all: Vec<Candidate> = per_file.into_iter().flat_map(|l| l.heap).collect();
    all.sort();
    all.truncate(req.size);
    let picks = all
        .into_iter()
        .map(|c| Pick {
            key: hex(&c.digest),
            id: c.id,
            date: c.date,
            title: c.title,
            path: c.path,
            line: c.line,
        })
        .collect();
    Ok(Sample { population, picks })
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

    use crate::snapshot::Entry;
    use std::path::Path;
    use std::sync::Arc;

    /// A small deterministic generator (the test must not depend on a random crate's stream).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    /// A ServiceNow-shaped CSV of `rows` rows starting at id number `first`, with the rough
    /// edges of real exports: rows without a number, bad and empty dates, empty groups, quoted
    /// titles, ids written twice (in this file and the next), a short row.
    fn incidents(rnd: &mut Lcg, first: u64, rows: u64) -> String {
        let groups = ["Network", "Service Desk", "Hosting", ""];
        let mut out = String::from(
            "\"number\",\"opened_at\",\"short_description\",\"assignment_group\",\"category\",\"state\"\r\n",
        );
        for n in first..first + rows {
            let id = match rnd.next(50) {
                0 => String::new(),
                1 => format!("INC{:07}", first + rnd.next(rows)),
                _ => format!("INC{n:07}"),
            };
            let opened = match rnd.next(40) {
                0 => "not a date".to_string(),
                1 => String::new(),
                _ => format!(
                    "2026-{:02}-{:02} {:02}:00:00",
                    1 + rnd.next(12),
                    1 + rnd.next(28),
                    rnd.next(24)
                ),
            };
            let title = if rnd.next(10) == 0 {
                "\"printer, \"\"urgent\"\"\"".to_string()
            } else {
                format!("case {n}")
            };
            let group = groups[rnd.next(4) as usize];
            let category = ["network", "software"][rnd.next(2) as usize];
            if rnd.next(500) == 0 {
                out.push_str(&format!("{id},{opened}\r\n"));
                continue;
            }
            out.push_str(&format!(
                "{id},{opened},{title},{group},{category},Closed\r\n"
            ));
        }
        out
    }

    fn file(path: &str, text: String) -> Entry {
        let bytes: Arc<[u8]> = text.into_bytes().into();
        Entry {
            path: path.to_string(),
            kind: EntryKind::File {
                size: bytes.len() as u64,
                bytes: Some(bytes),
            },
        }
    }

    /// The streaming draw picks what the full draw over every parsed record picks, byte for
    /// byte in the CSV, for filters by date and by field, sizes from 0 to past the population,
    /// with a preset mapping (some columns kept) and with the default one (every column kept).
    #[test]
    fn streaming_draw_is_the_full_draw() {
        let configs = [
            "organisation: A\nscope: B\nframework: iso20000-1:2018\ntables:\n  - kind: incident\n    preset: servicenow-incident\n    keep: [assignment_group]\n",
            "organisation: A\nscope: B\nframework: iso20000-1:2018\ntables:\n  - kind: incident\n    fields: {id: number, date: opened_at, title: short_description}\n    keep: all\n",
        ];
        let mut rnd = Lcg(7);
        let mut entries = vec![
            file("records/incident/2026-a.csv", incidents(&mut rnd, 1, 1500)),
            file("records/incident/2026-b.csv", incidents(&mut rnd, 1400, 1500)),
            file(
                "records/incident/manual.yaml",
                "records:\n  - id: INC0000007\n    kind: incident\n    date: 2026-03-03\n    title: By hand\n    assignment_group: Network\n  - id: CHG-1\n    kind: change\n    date: 2026-03-03\n    title: Other kind\n".to_string(),
            ),
        ];
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        let snap = Snapshot { entries };
        let date = |s: &str| Some(crate::dates::parse_date(s).unwrap());
        let requests = [
            (25, None, None, vec![]),
            (0, None, None, vec![]),
            (1, None, None, vec![]),
            (10_000, None, None, vec![]),
            (40, date("2026-03-01"), date("2026-05-31"), vec![]),
            (30, date("2026-06-15"), None, vec![]),
            (30, None, date("2026-02-10"), vec![]),
            (20, None, None, vec![("assignment_group", "Network")]),
            (20, None, None, vec![("category", "software")]),
            (
                15,
                date("2026-02-01"),
                date("2026-09-30"),
                vec![
                    ("assignment_group", "Hosting"),
                    ("title", "printer, \"urgent\""),
                ],
            ),
            (5, None, None, vec![("assignment_group", "")]),
        ];
        for yaml in configs {
            let (config, _) = crate::config::parse(Path::new("/s"), yaml).unwrap();
            let (sources, _) = crate::source::parse(&config, &snap);
            assert!(sources.records.len() > 2500, "{}", sources.records.len());
            for (size, from, to, conditions) in &requests {
                for seed in ["audit 2026", "x"] {
                    let req = Request {
                        kind: "incident".into(),
                        size: *size,
                        seed: seed.into(),
                        from: *from,
                        to: *to,
                        conditions: conditions
                            .iter()
                            .map(|(f, v)| (f.to_string(), v.to_string()))
                            .collect(),
                    };
                    let full = draw(&sources.records, &req).unwrap();
                    let streamed = draw_streaming(&config, &snap, &req).unwrap();
                    assert_eq!(full.population, streamed.population, "{req:?}");
                    assert_eq!(full.picks, streamed.picks, "{req:?}");
                    assert_eq!(to_csv(&full), to_csv(&streamed));
                }
            }
        }
    }

    #[test]
    fn key_is_sha256_of_seed_nul_id() {
        // printf 'abc\0INC-1' | sha256sum: an auditor can recompute it without auditbook.
        assert_eq!(
            key("abc", "INC-1"),
            "ce2914a049b9f27b1ad14490e6b208f4fb38f24c7c1b7a25f91ffda93143d9f4"
        );
    }
}
