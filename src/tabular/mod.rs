//! Tabular record files: `records/<kind>/*.csv`, `*.tsv`, `*.jsonl` (one JSON object a line) and
//! `*.json` (an array of objects) hold one record per row — the monthly exports of a service
//! desk (ServiceNow, Jira Service Management, GLPI, Zammad…).
//!
//! A [`Mapping`] (sms.yaml `tables:`, optionally starting from a built-in [`presets`] entry) says
//! which column is which field; each row becomes a YAML-shaped mapping node of fields and goes
//! through the same record reader as a YAML record, so every later phase (model, rules, history,
//! site) treats a row exactly like a record file of its own, at the row's line. The record keeps
//! the row's fields in the compact form of `record_fields::Row` (a million rows must fit in
//! memory), from which the same nodes are made again when asked for. CSV is read with
//! the `csv` crate, one row at a time; a malformed row is a finding at its line naming the
//! column, and reading goes on with the next row.

pub mod inspect;
pub mod presets;

use crate::config::{Config, TableSettings};
use crate::diag::Diagnostic;
use crate::fields::Spanned;
use crate::record_fields::{Cell as RowCell, Fields, RowBuilder};
use crate::source::{ClauseRef, Record};
use crate::yaml::{Node, Pos, Value};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use std::collections::HashMap;
use std::sync::Arc;

/// The shapes of tabular record file, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Tsv,
    JsonLines,
    JsonArray,
}

impl Format {
    pub fn of(path: &str) -> Option<Format> {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Some(Format::Csv)
        } else if lower.ends_with(".tsv") || lower.ends_with(".tab") {
            Some(Format::Tsv)
        } else if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
            Some(Format::JsonLines)
        } else if lower.ends_with(".json") {
            Some(Format::JsonArray)
        } else {
            None
        }
    }
}

/// Which columns other than the mapped ones a row keeps as fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keep {
    All,
    Columns(Vec<String>),
}

/// How the rows of one file become records (sms.yaml `tables:` over a preset over the default).
#[derive(Debug, Clone)]
pub struct Mapping {
    /// Where the mapping comes from, for `records inspect` and messages.
    pub source: String,
    pub preset: Option<&'static str>,
    /// The record kind of every row, unless a `kind` column or value says otherwise.
    pub kind: Option<String>,
    /// Field <- column.
    pub fields: Vec<(String, String)>,
    /// Fields whose values are dates (converted to YYYY-MM-DD in the SMS's time zone).
    pub dates: Vec<String>,
    pub date_format: Option<String>,
    /// Zone of date-times written without an offset.
    pub zone_in: TimeZone,
    /// The SMS's zone: a date-time becomes the calendar date there.
    pub zone_out: TimeZone,
    pub keep: Keep,
    /// Fixed values, winning over columns.
    pub values: Vec<(String, String)>,
    pub delimiter: u8,
    pub id_prefix: String,
}

/// The first folder below the records folder: the default kind of the files in it.
fn folder_kind<'p>(config: &Config, path: &'p str) -> Option<&'p str> {
    let rest = path.strip_prefix(&format!("{}/", config.paths.records))?;
    let (dir, _) = rest.split_once('/')?;
    Some(dir)
}

/// The `tables:` entry that applies to a file: the first whose `files` glob matches its path
/// under the records folder, else the first without `files` whose `kind` is the file's folder.
pub fn settings_for<'c>(config: &'c Config, path: &str) -> Option<(usize, &'c TableSettings)> {
    let rel = path
        .strip_prefix(&format!("{}/", config.paths.records))
        .unwrap_or(path);
    let folder = folder_kind(config, path);
    config
        .tables
        .iter()
        .enumerate()
        .find(|(_, t)| t.files.as_deref().is_some_and(|g| glob_match(g, rel)))
        .or_else(|| {
            config
                .tables
                .iter()
                .enumerate()
                .find(|(_, t)| t.files.is_none() && t.kind.as_deref() == folder)
        })
}

/// The mapping that applies to a file.
pub fn mapping_for(config: &Config, path: &str) -> Mapping {
    let zone_out = config
        .timezone
        .as_deref()
        .and_then(|z| TimeZone::get(z).ok())
        .unwrap_or(TimeZone::UTC);
    let format = Format::of(path);
    let default_delimiter = match format {
        Some(Format::Tsv) => b'\t',
        Some(Format::Csv | Format::JsonLines | Format::JsonArray) | None => b',',
    };
    let folder = folder_kind(config, path).map(str::to_string);
    let Some((index, t)) = settings_for(config, path) else {
        return Mapping {
            source: "the default: every column is a field of its own name".into(),
            preset: None,
            kind: folder,
            fields: Vec::new(),
            dates: vec!["date".into()],
            date_format: None,
            zone_in: zone_out.clone(),
            zone_out,
            keep: Keep::All,
            values: Vec::new(),
            delimiter: default_delimiter,
            id_prefix: String::new(),
        };
    };
    let preset = t.preset.as_deref().and_then(presets::get);
    let mut fields: Vec<(String, String)> = preset
        .map(|p| {
            p.fields
                .iter()
                .map(|(f, c)| (f.to_string(), c.to_string()))
                .collect()
        })
        .unwrap_or_default();
    for (f, c) in &t.fields {
        match fields.iter_mut().find(|(g, _)| g == f) {
            Some(slot) => slot.1 = c.clone(),
            None => fields.push((f.clone(), c.clone())),
        }
    }
    let dates = t.dates.clone().unwrap_or_else(|| match preset {
        Some(p) => p.dates.iter().map(|d| d.to_string()).collect(),
        None => vec!["date".into()],
    });
    let keep = match &t.keep {
        Some(None) => Keep::All,
        Some(Some(cols)) => Keep::Columns(cols.clone()),
        None if fields.is_empty() => Keep::All,
        None => Keep::Columns(Vec::new()),
    };
    let zone_in = t
        .timezone
        .as_deref()
        .and_then(|z| TimeZone::get(z).ok())
        .unwrap_or_else(|| zone_out.clone());
    let delimiter = match format {
        Some(Format::Tsv) => t.delimiter.unwrap_or(b'\t'),
        Some(Format::Csv | Format::JsonLines | Format::JsonArray) | None => {
            t.delimiter.or(preset.map(|p| p.delimiter)).unwrap_or(b',')
        }
    };
    Mapping {
        source: format!(
            "sms.yaml `tables` entry {} (line {}){}",
            index + 1,
            t.pos.line,
            preset
                .map(|p| format!(", preset `{}` ({})", p.name, p.tool))
                .unwrap_or_default()
        ),
        preset: preset.map(|p| p.name),
        kind: t
            .kind
            .clone()
            .or(preset.and_then(|p| p.kind).map(str::to_string))
            .or(folder),
        fields,
        dates,
        date_format: t
            .date_format
            .clone()
            .or(preset.and_then(|p| p.date_format).map(str::to_string)),
        zone_in,
        zone_out,
        keep,
        values: t.values.clone(),
        delimiter,
        id_prefix: t.id_prefix.clone().unwrap_or_default(),
    }
}

/// `*` matches within one path segment, `**` across segments, `?` one character.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // can[i][j]: p[i..] matches t[j..]; filled from the end (no backtracking blow-up).
    let mut can = vec![vec![false; t.len() + 1]; p.len() + 1];
    can[p.len()][t.len()] = true;
    for i in (0..p.len()).rev() {
        let double = p[i] == '*' && p.get(i + 1) == Some(&'*');
        for j in (0..=t.len()).rev() {
            can[i][j] = match p[i] {
                '*' if double => can[i + 2][j] || (j < t.len() && can[i][j + 1]),
                '*' => can[i + 1][j] || (j < t.len() && t[j] != '/' && can[i][j + 1]),
                '?' => j < t.len() && t[j] != '/' && can[i + 1][j + 1],
                c => j < t.len() && t[j] == c && can[i + 1][j + 1],
            };
        }
    }
    can[0][0]
}

/// One cell: its text, or nothing (an empty cell, a JSON null).
#[derive(Debug, Clone)]
enum Cell {
    Empty,
    Text(String),
    List(Vec<String>),
}

impl Cell {
    fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(t) => Some(t),
            Cell::Empty | Cell::List(_) => None,
        }
    }
}

/// Read one tabular records file into records, with the findings about it.
pub fn parse(
    config: &Config,
    path: &str,
    format: Format,
    text: &str,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Record> {
    parse_rows(config, path, format, text, diags, true)
}

/// [`parse`]; `direct`: the rows of a CSV file read by its [`CsvPlan`] where they can be (else
/// every row the general way, which the tests compare with).
fn parse_rows(
    config: &Config,
    path: &str,
    format: Format,
    text: &str,
    diags: &mut Vec<Diagnostic>,
    direct: bool,
) -> Vec<Record> {
    let mapping = mapping_for(config, path);
    // Sized once (rows are at most lines): a vector grown by doubling holds the old and the new
    // buffer at once, and up to twice what it needs after.
    let mut out = Vec::with_capacity(match format {
        Format::Csv | Format::Tsv => text.bytes().filter(|&b| b == b'\n').count() + 1,
        Format::JsonLines | Format::JsonArray => 0,
    });
    let mut builder = RowBuilder::default();
    // Every record of the file shares its path, and each kind's name.
    let shared: Arc<str> = path.into();
    let mut kinds = Kinds::default();
    // Made at the first row of a CSV file; `None` inside when its names do not fit a row.
    let mut plan: Option<Option<CsvPlan>> = None;
    read_rows(path, format, &mapping, text, diags, &mut |row, diags| {
        if let (
            RowCells::Csv {
                header,
                index,
                record,
            },
            true,
        ) = (&row.cells, direct)
        {
            let plan =
                plan.get_or_insert_with(|| CsvPlan::new(&mapping, header, index, &mut builder));
            if let Some(r) = plan.as_ref().and_then(|p| {
                p.record(
                    &shared,
                    &mut kinds,
                    &mapping,
                    row.line,
                    record,
                    &mut builder,
                )
            }) {
                out.push(r);
                return;
            }
        }
        if let Some(mut r) = row_record(path, &mapping, row, &mut builder, diags) {
            r.path = Arc::clone(&shared);
            r.kind = kinds.get(&r.kind);
            out.push(r);
        }
    });
    if out.is_empty() && !diags.iter().any(|d| d.path.as_deref() == Some(path)) {
        diags.push(
            Diagnostic::new(
                "file-empty",
                path.to_string(),
                format!("`{path}` holds no record"),
            )
            .at(path, Pos::new(1, 1)),
        );
    }
    out
}

/// A row as read: its line and its cells by column name.
pub struct Row<'a> {
    pub line: u32,
    cells: RowCells<'a>,
}

enum RowCells<'a> {
    Csv {
        header: &'a [String],
        index: &'a HashMap<&'a str, usize>,
        record: &'a csv::StringRecord,
    },
    Json(&'a serde_json::Map<String, serde_json::Value>),
}

impl Row<'_> {
    fn get(&self, column: &str) -> Option<Cell> {
        match &self.cells {
            RowCells::Csv { index, record, .. } => {
                let v = record.get(*index.get(column)?)?;
                Some(if v.trim().is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text(v.to_string())
                })
            }
            RowCells::Json(map) => map.get(column).map(json_cell),
        }
    }

    /// Every (column, cell) of the row, in column order.
    fn all(&self) -> Vec<(String, Cell)> {
        self.all_named(&|_| true)
    }

    /// The (column, cell) pairs of the row whose column `want` accepts, in column order; the
    /// cells of the other columns are not copied.
    fn all_named(&self, want: &dyn Fn(&str) -> bool) -> Vec<(String, Cell)> {
        match &self.cells {
            RowCells::Csv { header, record, .. } => header
                .iter()
                .zip(record.iter())
                .filter(|(h, _)| want(h))
                .map(|(h, v)| {
                    let cell = if v.trim().is_empty() {
                        Cell::Empty
                    } else {
                        Cell::Text(v.to_string())
                    };
                    (h.clone(), cell)
                })
                .collect(),
            RowCells::Json(map) => map
                .iter()
                .filter(|(k, _)| want(k))
                .map(|(k, v)| (k.clone(), json_cell(v)))
                .collect(),
        }
    }

    /// The row's cells as text, for `records inspect`.
    pub fn columns(&self) -> Vec<(String, String)> {
        self.all()
            .into_iter()
            .map(|(k, c)| {
                let v = match c {
                    Cell::Empty => String::new(),
                    Cell::Text(t) => t,
                    Cell::List(l) => l.join(", "),
                };
                (k, v)
            })
            .collect()
    }
}

fn json_cell(v: &serde_json::Value) -> Cell {
    use serde_json::Value as J;
    match v {
        J::Null => Cell::Empty,
        J::String(s) if s.trim().is_empty() => Cell::Empty,
        J::String(s) => Cell::Text(s.clone()),
        J::Bool(b) => Cell::Text(b.to_string()),
        J::Number(n) => Cell::Text(n.to_string()),
        J::Array(items) => Cell::List(
            items
                .iter()
                .map(|i| match i {
                    J::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
        ),
        J::Object(_) => Cell::Text(v.to_string()),
    }
}

fn malformed(path: &str, line: u32, message: String) -> Diagnostic {
    Diagnostic::new("table-malformed", format!("{path}:{line}"), message)
        .at(path, Pos::new(line, 1))
}

/// Read the rows of a file, calling `each` per well-formed row; malformed rows and headers are
/// findings. Exposed for `records inspect`.
pub fn read_rows(
    path: &str,
    format: Format,
    mapping: &Mapping,
    text: &str,
    diags: &mut Vec<Diagnostic>,
    each: &mut dyn FnMut(&Row<'_>, &mut Vec<Diagnostic>),
) {
    match format {
        Format::Csv | Format::Tsv => read_csv(path, format, mapping, text, diags, each),
        Format::JsonLines => {
            for (i, line) in text.lines().enumerate() {
                let n = i as u32 + 1;
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<serde_json::Value>(line) {
                    Ok(serde_json::Value::Object(map)) => each(
                        &Row {
                            line: n,
                            cells: RowCells::Json(&map),
                        },
                        diags,
                    ),
                    Ok(other) => diags.push(malformed(
                        path,
                        n,
                        format!(
                            "line {n} holds {}, not a JSON object (one record a line)",
                            json_kind(&other)
                        ),
                    )),
                    Err(e) => diags.push(malformed(
                        path,
                        n,
                        format!("line {n} is not valid JSON: {e}"),
                    )),
                }
            }
        }
        Format::JsonArray => {
            let items = match serde_json::from_str::<serde_json::Value>(text) {
                Ok(serde_json::Value::Array(items)) => items,
                Ok(other) => {
                    diags.push(malformed(
                        path,
                        1,
                        format!(
                            "a `.json` records file holds an array of objects, found {}",
                            json_kind(&other)
                        ),
                    ));
                    return;
                }
                Err(e) => {
                    diags.push(malformed(
                        path,
                        e.line().max(1) as u32,
                        format!("`{path}` is not valid JSON: {e}"),
                    ));
                    return;
                }
            };
            let lines = element_lines(text);
            for (i, item) in items.iter().enumerate() {
                let n = lines.get(i).copied().unwrap_or(1);
                match item {
                    serde_json::Value::Object(map) => each(
                        &Row {
                            line: n,
                            cells: RowCells::Json(map),
                        },
                        diags,
                    ),
                    other => diags.push(malformed(
                        path,
                        n,
                        format!(
                            "element {} of the array is {}, not an object",
                            i + 1,
                            json_kind(other)
                        ),
                    )),
                }
            }
        }
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    use serde_json::Value as J;
    match v {
        J::Null => "null",
        J::Bool(_) => "a boolean",
        J::Number(_) => "a number",
        J::String(_) => "a string",
        J::Array(_) => "an array",
        J::Object(_) => "an object",
    }
}

/// The line on which each element of a top-level JSON array starts.
fn element_lines(text: &str) -> Vec<u32> {
    let (mut depth, mut in_str, mut esc, mut line) = (0usize, false, false, 1u32);
    let mut expecting = false;
    let mut out = Vec::new();
    for c in text.bytes() {
        if c == b'\n' {
            line += 1;
        }
        if in_str {
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == b'"' {
                in_str = false;
            }
            continue;
        }
        if expecting && !c.is_ascii_whitespace() && c != b']' {
            out.push(line);
            expecting = false;
        }
        match c {
            b'"' => in_str = true,
            b'{' | b'[' => {
                depth += 1;
                if depth == 1 {
                    expecting = true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expecting = true,
            _ => {}
        }
    }
    out
}

fn read_csv(
    path: &str,
    format: Format,
    mapping: &Mapping,
    text: &str,
    diags: &mut Vec<Diagnostic>,
    each: &mut dyn FnMut(&Row<'_>, &mut Vec<Diagnostic>),
) {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(mapping.delimiter)
        .quoting(format == Format::Csv)
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    // The header: the first row.
    let header: Vec<String> = match reader.read_record(&mut record) {
        Ok(false) => return,
        Ok(true) => record.iter().map(|h| h.trim().to_string()).collect(),
        Err(e) => {
            let line = e.position().map_or(1, |p| p.line() as u32);
            diags.push(malformed(
                path,
                line,
                format!("the header row cannot be read: {e}"),
            ));
            return;
        }
    };
    let header_line = record.position().map_or(1, |p| p.line() as u32);
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, h) in header.iter().enumerate() {
        if h.is_empty() {
            diags.push(malformed(
                path,
                header_line,
                format!("column {} of the header has no name", i + 1),
            ));
        } else if index.insert(h.as_str(), i).is_some() {
            diags.push(malformed(
                path,
                header_line,
                format!("the header names column `{h}` twice; the last one is read"),
            ));
        }
    }
    let mut id_missing = false;
    for (field, column) in &mapping.fields {
        if !index.contains_key(column.as_str()) {
            id_missing |= field == "id";
            let near = crate::ids::closest(column, header.iter().map(String::as_str), 3)
                .map(|n| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            diags.push(
                Diagnostic::new(
                    "table-column-missing",
                    format!("{path}#{column}"),
                    format!(
                        "column `{column}` (field `{field}`, from {}) is not in the header; {near}the header has: {}",
                        mapping.source,
                        header.join(", ")
                    ),
                )
                .at(path, Pos::new(header_line, 1)),
            );
        }
    }
    if id_missing {
        return;
    }
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line() as u32);
                if record.len() == 1 && record.get(0).is_some_and(|f| f.trim().is_empty()) {
                    continue;
                }
                if record.len() != header.len() {
                    let msg = if record.len() < header.len() {
                        format!(
                            "the row at line {line} has {} fields, the header {}: column `{}` and after are missing; the row is not read",
                            record.len(),
                            header.len(),
                            header[record.len()]
                        )
                    } else {
                        format!(
                            "the row at line {line} has {} fields, the header {}: there is no column after `{}`; the row is not read",
                            record.len(),
                            header.len(),
                            header.last().map_or("", String::as_str)
                        )
                    };
                    diags.push(malformed(path, line, msg));
                    continue;
                }
                each(
                    &Row {
                        line,
                        cells: RowCells::Csv {
                            header: &header,
                            index: &index,
                            record: &record,
                        },
                    },
                    diags,
                );
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as u32);
                diags.push(malformed(
                    path,
                    line,
                    format!("the row at line {line} cannot be read: {e}"),
                ));
                if !matches!(
                    e.kind(),
                    csv::ErrorKind::Utf8 { .. } | csv::ErrorKind::UnequalLengths { .. }
                ) {
                    break;
                }
            }
        }
    }
}

fn scalar(text: String, pos: Pos) -> Node {
    Node {
        value: Value::Scalar { text, plain: false },
        pos,
    }
}

fn null(pos: Pos) -> Node {
    Node {
        value: Value::Scalar {
            text: String::new(),
            plain: true,
        },
        pos,
    }
}

/// A date written in an export, as a calendar date in the SMS's zone.
pub fn export_date(text: &str, m: &Mapping) -> Result<Date, String> {
    let t = text.trim();
    let civil = |dt: jiff::civil::DateTime| -> Result<Date, String> {
        if m.zone_in == m.zone_out {
            return Ok(dt.date());
        }
        m.zone_in
            .to_ambiguous_zoned_datetime(dt)
            .compatible()
            .map(|z| z.with_time_zone(m.zone_out.clone()).date())
            .map_err(|e| e.to_string())
    };
    if let Some(fmt) = &m.date_format {
        let tm = jiff::fmt::strtime::parse(fmt, t)
            .map_err(|_| format!("`{t}` does not match the date format `{fmt}`"))?;
        if tm.offset().is_some() {
            if let Ok(ts) = tm.to_timestamp() {
                return Ok(ts.to_zoned_datetime(m.zone_out.clone()).date());
            }
        }
        if tm.hour().is_some() {
            if let Ok(dt) = tm.to_datetime() {
                return civil(dt);
            }
        }
        return tm
            .to_date()
            .map_err(|_| format!("`{t}` does not give a date in the format `{fmt}`"));
    }
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        return Ok(ts.to_zoned_datetime(m.zone_out.clone()).date());
    }
    if t.len() > 10 {
        if let Ok(dt) = t.parse::<jiff::civil::DateTime>() {
            return civil(dt);
        }
    }
    crate::dates::parse_date(t).map_err(|_| {
        format!("`{t}` is not a date (YYYY-MM-DD, or an ISO 8601 date-time; set `date_format` for other forms)")
    })
}

const LIST_FIELDS: &[&str] = &["refs", "clauses"];

/// The fields of a row as the mapping makes them, with the column each comes from, limited to
/// the fields `want` accepts (by name). Every rule below decides by field name only, so a field
/// is the same whether or not other fields are wanted.
fn row_entries<'m>(
    m: &'m Mapping,
    row: &Row<'_>,
    want: &dyn Fn(&str) -> bool,
) -> Vec<(String, Cell, Option<&'m str>)> {
    mapped_entries(
        m,
        want,
        &|column| row.get(column),
        &|want| row.all_named(want),
        &|value| Cell::Text(value.to_string()),
    )
}

/// Every (column, cell) pair of a row whose column the filter accepts, in column order.
type AllCells<'a, C> = dyn Fn(&dyn Fn(&str) -> bool) -> Vec<(String, C)> + 'a;

/// [`row_entries`] over any source of cells `C`: `get` gives the cell of a column, `all` every
/// (column, cell) pair whose column `want` accepts, in column order, and `fixed` the cell of a
/// value the mapping sets. Over a row's cells it gives the row's fields; over a CSV header
/// (cells that say which column or value a field comes from) the fields of every row of
/// the file, in the same order ([`CsvPlan`]).
fn mapped_entries<'m, C>(
    m: &'m Mapping,
    want: &dyn Fn(&str) -> bool,
    get: &dyn Fn(&str) -> Option<C>,
    all: &AllCells<'_, C>,
    fixed: &dyn Fn(&str) -> C,
) -> Vec<(String, C, Option<&'m str>)> {
    let mut entries: Vec<(String, C, Option<&str>)> = Vec::new();
    for (field, column) in &m.fields {
        if !want(field) {
            continue;
        }
        if let Some(cell) = get(column) {
            entries.push((field.clone(), cell, Some(column.as_str())));
        }
    }
    let mapped = |c: &str| m.fields.iter().any(|(_, col)| col == c);
    match &m.keep {
        Keep::All => {
            for (column, cell) in all(want) {
                if !mapped(&column) && !entries.iter().any(|(f, _, _)| *f == column) {
                    entries.push((column, cell, None));
                }
            }
        }
        Keep::Columns(cols) => {
            for column in cols.iter().filter(|c| want(c)) {
                if let Some(cell) = get(column) {
                    if !entries.iter().any(|(f, _, _)| f == column) {
                        entries.push((column.clone(), cell, None));
                    }
                }
            }
        }
    }
    for (field, value) in m.values.iter().filter(|(f, _)| want(f)) {
        let cell = fixed(value);
        match entries.iter_mut().find(|(f, _, _)| f == field) {
            Some(slot) => *slot = (field.clone(), cell, None),
            None => entries.push((field.clone(), cell, None)),
        }
    }
    if want("kind") && !entries.iter().any(|(f, _, _)| f == "kind") {
        if let Some(k) = &m.kind {
            entries.push(("kind".into(), fixed(k), None));
        }
    }
    entries
}

/// The kinds of the records of a file, one shared text each (a file holds one or a few).
#[derive(Debug, Default)]
struct Kinds(Vec<Arc<str>>);

impl Kinds {
    fn get(&mut self, kind: &str) -> Arc<str> {
        if let Some(k) = self.0.iter().find(|k| ***k == *kind) {
            return Arc::clone(k);
        }
        let k: Arc<str> = kind.into();
        // A file of a thousand kinds is not worth a search a row.
        if self.0.len() < 16 {
            self.0.push(Arc::clone(&k));
        }
        k
    }
}

/// Where a field of every row of a CSV file comes from.
#[derive(Debug, Clone)]
enum Source {
    Column(usize),
    /// A value the mapping sets (`values:`, the kind): a text cell even when empty.
    Fixed(String),
}

/// What [`entries_record`] makes of a text cell, decided by the field's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// The id: the mapping's prefix, then the trimmed text.
    Id,
    /// A date or date-time of the export: the calendar date in the SMS's zone.
    Date,
    /// `refs`, `clauses`: split at commas, semicolons and white space.
    List,
    Text,
}

/// One field of the rows of a CSV file.
#[derive(Debug, Clone)]
struct PlannedField {
    /// The name's index in the file's [`RowBuilder`].
    name: u16,
    source: Source,
    shape: Shape,
    /// Which of the fields the record reads itself this is.
    head: Head,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Head {
    Id,
    Kind,
    Date,
    Title,
    Clauses,
    Refs,
    Other,
}

/// The fields of every row of one CSV file, worked out once from its header: the rows of a
/// file differ only in their cells. [`CsvPlan::record`] makes the record of a row directly from
/// its cells — no mapping node, no text copied twice — when the row is one the general path
/// reads without a finding; any other row goes the general way ([`row_record`]), which says
/// what is wrong with it. Both give the same record (`tests::the_direct_row_is_the_general_row`).
struct CsvPlan {
    fields: Vec<PlannedField>,
    /// Date-times without an offset need no conversion between zones.
    same_zone: bool,
}

impl CsvPlan {
    /// `None` when the names do not fit a row ([`RowBuilder::intern`]).
    fn new(
        m: &Mapping,
        header: &[String],
        index: &HashMap<&str, usize>,
        builder: &mut RowBuilder,
    ) -> Option<CsvPlan> {
        let entries = mapped_entries(
            m,
            &|_| true,
            &|column| index.get(column).map(|&i| Source::Column(i)),
            &|want| {
                header
                    .iter()
                    .enumerate()
                    .filter(|(_, h)| want(h))
                    .map(|(i, h)| (h.clone(), Source::Column(i)))
                    .collect()
            },
            &|value| Source::Fixed(value.to_string()),
        );
        let mut fields = Vec::with_capacity(entries.len());
        for (field, source, _) in entries {
            // The order of `entries_record`'s tests.
            let shape = if field == "id" {
                Shape::Id
            } else if m.dates.contains(&field) {
                Shape::Date
            } else if LIST_FIELDS.contains(&field.as_str()) {
                Shape::List
            } else {
                Shape::Text
            };
            let head = match field.as_str() {
                "id" => Head::Id,
                "kind" => Head::Kind,
                "date" => Head::Date,
                "title" => Head::Title,
                "clauses" => Head::Clauses,
                "refs" => Head::Refs,
                _ => Head::Other,
            };
            fields.push(PlannedField {
                name: builder.intern(&field)?,
                source,
                shape,
                head,
            });
        }
        Some(CsvPlan {
            fields,
            same_zone: m.zone_in == m.zone_out,
        })
    }

    /// The record of a row, made directly; `None` for a row that [`row_record`] must read
    /// (one with a finding: a missing, empty or invalid id, kind, date or title, a date that is
    /// not one, or a date outside the years 1000–9999; or a list item with a NUL byte).
    fn record(
        &self,
        path: &Arc<str>,
        kinds: &mut Kinds,
        m: &Mapping,
        line: u32,
        record: &csv::StringRecord,
        builder: &mut RowBuilder,
    ) -> Option<Record> {
        let pos = Pos::new(line, 1);
        builder.clear();
        let (mut id, mut kind, mut date, mut title) = (None, None, None, None);
        let (mut clauses, mut refs) = (Vec::new(), Vec::new());
        let mut id_text = String::new();
        let mut date_text = [0u8; 10];
        for f in &self.fields {
            let cell = match &f.source {
                Source::Column(i) => Some(record.get(*i)?).filter(|v| !v.trim().is_empty()),
                Source::Fixed(v) => Some(v.as_str()),
            };
            let Some(text) = cell else {
                // An empty cell is a null: an empty id, kind, date or title is a finding;
                // empty clauses and refs are none.
                if matches!(f.head, Head::Id | Head::Kind | Head::Date | Head::Title) {
                    return None;
                }
                builder.push_at(f.name, RowCell::Null, []).then_some(())?;
                continue;
            };
            // The value's text (a text cell), or the items of a list.
            let value: &str = match f.shape {
                Shape::Id => {
                    id_text.clear();
                    id_text.push_str(&m.id_prefix);
                    id_text.push_str(text.trim());
                    &id_text
                }
                Shape::Date => {
                    let d = self.export_date(text, m)?;
                    let t = write_date(d, &mut date_text)?;
                    if f.head == Head::Date {
                        date = Some(Some(d));
                    }
                    t
                }
                Shape::List => {
                    let items = || {
                        text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
                            .filter(|s| !s.is_empty())
                    };
                    builder
                        .push_at(f.name, RowCell::List, items())
                        .then_some(())?;
                    let spanned = || {
                        items().map(|s| Spanned {
                            text: s.to_string(),
                            pos,
                        })
                    };
                    match f.head {
                        Head::Clauses => {
                            clauses = spanned()
                                .map(|t| ClauseRef {
                                    id: t.text,
                                    pos,
                                    unquoted_number: false,
                                })
                                .collect();
                        }
                        Head::Refs => refs = spanned().collect(),
                        Head::Id | Head::Kind | Head::Date | Head::Title | Head::Other => {}
                    }
                    continue;
                }
                Shape::Text => text,
            };
            builder
                .push_at(f.name, RowCell::Text, [value])
                .then_some(())?;
            match f.head {
                Head::Id => {
                    if crate::ids::invalid_reason(value).is_some() {
                        return None;
                    }
                    id = Some(value.to_string());
                }
                Head::Kind => kind = Some(kinds.get(value)),
                Head::Date if date.is_none() => {
                    date = Some(Some(crate::dates::parse_date(value).ok()?));
                }
                Head::Title => title = Some(value.to_string()),
                // A text is a list of one.
                Head::Clauses => {
                    clauses = vec![ClauseRef {
                        id: value.to_string(),
                        pos,
                        unquoted_number: false,
                    }];
                }
                Head::Refs => {
                    refs = vec![Spanned {
                        text: value.to_string(),
                        pos,
                    }];
                }
                Head::Date | Head::Other => {}
            }
        }
        Some(Record {
            path: Arc::clone(path),
            id: id?,
            id_pos: pos,
            kind: kind?,
            kind_pos: pos,
            date: date?,
            date_pos: pos,
            title: title?,
            clauses,
            refs,
            fields: Fields::Row(builder.finish()),
            pos,
        })
    }

    /// [`export_date`], with the usual `YYYY-MM-DD HH:MM:SS` (or `T`) of an export read here.
    fn export_date(&self, text: &str, m: &Mapping) -> Option<Date> {
        if self.same_zone && m.date_format.is_none() {
            if let Some(d) = plain_date_time(text.trim()) {
                return Some(d);
            }
        }
        export_date(text, m).ok()
    }
}

/// The date of `YYYY-MM-DD HH:MM:SS` (a space or `T` between), when the text is exactly that
/// and a valid date and time of the years 1000–9999; no zone to convert from (what
/// [`export_date`] gives such a text when the zones are the same).
fn plain_date_time(t: &str) -> Option<Date> {
    let b = t.as_bytes();
    if b.len() != 19 || !matches!(b[10], b' ' | b'T') {
        return None;
    }
    let digits = |from: usize, to: usize| -> Option<i16> {
        let mut n: i16 = 0;
        for &c in &b[from..to] {
            if !c.is_ascii_digit() {
                return None;
            }
            n = n * 10 + i16::from(c - b'0');
        }
        Some(n)
    };
    let seps = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if seps.iter().any(|&(i, c)| b[i] != c) {
        return None;
    }
    let (y, mo, d) = (digits(0, 4)?, digits(5, 7)?, digits(8, 10)?);
    let (h, mi, s) = (digits(11, 13)?, digits(14, 16)?, digits(17, 19)?);
    if !(1000..=9999).contains(&y) || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    Date::new(y, i8::try_from(mo).ok()?, i8::try_from(d).ok()?).ok()
}

/// `YYYY-MM-DD` of a date of the years 1000–9999 (as `Date`'s `Display` writes it).
fn write_date(d: Date, buf: &mut [u8; 10]) -> Option<&str> {
    let y = u16::try_from(d.year())
        .ok()
        .filter(|y| (1000..=9999).contains(y))?;
    let (m, day) = (d.month() as u8, d.day() as u8);
    let digits = [
        (y / 1000) as u8,
        (y / 100 % 10) as u8,
        (y / 10 % 10) as u8,
        (y % 10) as u8,
    ];
    buf[..4].copy_from_slice(&digits.map(|c| b'0' + c));
    buf[4] = b'-';
    buf[5] = b'0' + m / 10;
    buf[6] = b'0' + m % 10;
    buf[7] = b'-';
    buf[8] = b'0' + day / 10;
    buf[9] = b'0' + day % 10;
    std::str::from_utf8(&buf[..]).ok()
}

/// Stream the records of a tabular file with only some of their fields: `id`, `kind`, `date`,
/// `title` and the fields named in `fields`. Each record is the one [`parse`] makes of the row,
/// less the other fields (so its `clauses` and `refs` are empty unless asked for); the findings
/// about the file are not collected. What `sample` reads: it needs a few fields of a million
/// rows, not the rows.
pub fn stream_records(
    config: &Config,
    path: &str,
    format: Format,
    text: &str,
    fields: &[&str],
    each: &mut dyn FnMut(Record),
) {
    let mapping = mapping_for(config, path);
    let want = |f: &str| matches!(f, "id" | "kind" | "date" | "title") || fields.contains(&f);
    let mut diags = Vec::new();
    let mut builder = RowBuilder::default();
    read_rows(
        path,
        format,
        &mapping,
        text,
        &mut diags,
        &mut |row, diags| {
            let entries = row_entries(&mapping, row, &want);
            if let Some(r) = entries_record(path, &mapping, row.line, entries, &mut builder, diags)
            {
                each(r);
            }
            diags.clear();
        },
    );
}

/// The record of one row, with findings that name the row's line and the column.
fn row_record(
    path: &str,
    m: &Mapping,
    row: &Row<'_>,
    builder: &mut RowBuilder,
    diags: &mut Vec<Diagnostic>,
) -> Option<Record> {
    let entries = row_entries(m, row, &|_| true);
    entries_record(path, m, row.line, entries, builder, diags)
}

/// The record of a row's fields (see [`row_entries`]).
fn entries_record(
    path: &str,
    m: &Mapping,
    line: u32,
    entries: Vec<(String, Cell, Option<&str>)>,
    builder: &mut RowBuilder,
    diags: &mut Vec<Diagnostic>,
) -> Option<Record> {
    let pos = Pos::new(line, 1);
    let id_text = entries
        .iter()
        .find(|(f, _, _)| f == "id")
        .and_then(|(_, c, _)| c.text())
        .map(|t| format!("{}{}", m.id_prefix, t.trim()));
    let subject = id_text
        .clone()
        .unwrap_or_else(|| format!("{path}:{}", line));
    let mut failed: Vec<String> = Vec::new();
    let mut map: Vec<(Node, Node)> = Vec::with_capacity(entries.len());
    for (field, cell, column) in entries {
        let value = match cell {
            Cell::Empty => null(pos),
            Cell::List(items) => Node {
                value: Value::Seq(items.into_iter().map(|i| scalar(i, pos)).collect()),
                pos,
            },
            Cell::Text(t) if field == "id" => scalar(id_text.clone().unwrap_or(t), pos),
            Cell::Text(t) if m.dates.contains(&field) => match export_date(&t, m) {
                Ok(d) => scalar(d.to_string(), pos),
                Err(e) => {
                    let from = column
                        .map(|c| format!("column `{c}` (`{field}`)"))
                        .unwrap_or_else(|| format!("`{field}`"));
                    diags.push(
                        Diagnostic::new(
                            "field-invalid",
                            format!("{subject}#{field}"),
                            format!("row at line {}: {from}: {e}", line),
                        )
                        .at(path, pos),
                    );
                    failed.push(field);
                    continue;
                }
            },
            Cell::Text(t) if LIST_FIELDS.contains(&field.as_str()) => {
                let items: Vec<Node> = t
                    .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
                    .filter(|s| !s.is_empty())
                    .map(|s| scalar(s.to_string(), pos))
                    .collect();
                Node {
                    value: Value::Seq(items),
                    pos,
                }
            }
            Cell::Text(t) => scalar(t, pos),
        };
        map.push((scalar(field, pos), value));
    }
    let node = Node {
        value: Value::Map(map),
        pos,
    };
    let mut own = Vec::new();
    let record = crate::source::parse_row_record(path, node, builder, &mut own);
    // A date already reported with its column is not reported again as missing.
    diags.extend(own.into_iter().filter(|d| {
        !(d.code == "field-missing" && failed.iter().any(|f| d.subject.ends_with(&format!("#{f}"))))
    }));
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("incident/*.csv", "incident/2026-01.csv"));
        assert!(!glob_match("incident/*.csv", "incident/a/2026-01.csv"));
        assert!(glob_match("**/*.csv", "incident/a/2026-01.csv"));
        assert!(glob_match("inc?dent/*", "incident/x"));
        assert!(!glob_match("*.csv", "incident/x.csv"));
        // no exponential backtracking
        let text = "a".repeat(200);
        assert!(!glob_match(&"*a".repeat(50).replace("a", "*b"), &text));
    }

    /// A small deterministic generator (the test must not depend on a random crate's stream).
    struct Lcg(u64);
    impl Lcg {
        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            from[((self.0 >> 33) % from.len() as u64) as usize]
        }
    }

    /// An export with the rough edges of real ones in every column: missing, padded, invalid
    /// and reserved ids, dates and date-times of every shape (offsets, `T`, leap seconds,
    /// impossible days and hours, years before 1000, only a date), empty and blank cells,
    /// quoted cells with commas, quotes and line breaks, lists of clauses and refs, other kinds,
    /// short and long rows.
    fn export(rnd: &mut Lcg, rows: usize) -> String {
        let mut out = String::from(
            "number,opened_at,short_description,kind,clauses,refs,assignment_group,closed_at,blank\r\n",
        );
        for n in 0..rows {
            let id = match rnd.pick(&[
                "n", "n", "n", "n", "n", "n", "n", "n", "n", "n", "n", "n", "", " ", "pad", "bad",
                "con", "dash",
            ]) {
                "n" => format!("INC{n:05}"),
                "pad" => format!("  INC{n:05} "),
                "bad" => format!("INC {n}"),
                "con" => "COM1".to_string(),
                "dash" => format!("-{n}"),
                other => other.to_string(),
            };
            let date = |rnd: &mut Lcg| {
                rnd.pick(&[
                    "2026-01-14 11:18:54",
                    "2026-01-14 11:18:54",
                    "2026-01-14 11:18:54",
                    "2026-01-14 11:18:54",
                    "2026-01-14 11:18:54",
                    "2026-01-14 11:18:54",
                    "2026-03-31 23:59:59",
                    "2026-03-31 23:59:59",
                    "2026-02-28T00:00:00",
                    "2026-02-30 10:00:00",
                    "2026-04-01 24:00:00",
                    "2026-04-01 23:59:60",
                    "2026-06-30T23:30:00Z",
                    "2026-06-30T23:30:00+02:00",
                    "0999-12-31 10:00:00",
                    "2026-05-05",
                    "2026-5-5",
                    " 2026-01-02 03:04:05 ",
                    "yesterday",
                    "",
                ])
                .to_string()
            };
            let opened = date(rnd);
            let closed = date(rnd);
            let title = rnd
                .pick(&[
                    "case",
                    "case",
                    "case",
                    "case",
                    "\"printer, \"\"urgent\"\"\"",
                    "",
                    "  ",
                    "\"two\nlines\"",
                ])
                .to_string();
            let kind = rnd.pick(&["incident", "incident", "incident", "change", " ", ""]);
            let clauses = rnd.pick(&["", "8.6.1", "\"8.6.1, 8.6.2;8.7.1\"", " ; ,", "10"]);
            let refs = rnd.pick(&["", "PRB-1", "\"PRB-1 CHG-2\"", ",", "x;y"]);
            let group = rnd.pick(&["Network", "", "\"Desk, 2nd line\""]);
            match rnd.pick(&["row", "row", "row", "row", "row", "row", "short", "long"]) {
                "short" => out.push_str(&format!("{id},{opened}\r\n")),
                "long" => out.push_str(&format!(
                    "{id},{opened},{title},{kind},{clauses},{refs},{group},{closed},,extra\r\n"
                )),
                _ => out.push_str(&format!(
                    "{id},{opened},{title},{kind},{clauses},{refs},{group},{closed},\r\n"
                )),
            }
        }
        out
    }

    /// Reading a CSV file's rows by the file's plan gives the records and findings of reading
    /// every row through a mapping node, whatever the mapping: a preset with kept columns,
    /// every column kept, fixed values (one of them the kind), an id prefix, dates in another
    /// zone than the SMS's, a date format, a mapped column the header lacks, `refs` and
    /// `clauses` read as dates. Both ways must be taken by many rows, or the test shows nothing.
    #[test]
    fn the_direct_row_is_the_general_row() {
        let base = "organisation: A\nscope: B\nframework: iso20000-1:2018\n";
        let tables = [
            "tables:\n  - kind: incident\n    preset: servicenow-incident\n    fields: {title: short_description}\n    keep: [assignment_group, clauses, refs]\n",
            "tables:\n  - kind: incident\n    fields: {id: number, date: opened_at, title: short_description}\n    keep: all\n",
            "tables:\n  - kind: incident\n    fields: {id: number, date: opened_at, title: short_description, done: closed_at}\n    dates: [date, done]\n    values: {kind: problem, service: Desk, clauses: \"8.6.1 8.6.2\"}\n    id_prefix: \"SN-\"\n    keep: [refs, kind, blank]\n",
            "timezone: Europe/London\ntables:\n  - kind: incident\n    timezone: America/New_York\n    fields: {id: number, date: opened_at, title: short_description, closed: closed_at, missing: no_such_column}\n    dates: [date, closed]\n    keep: all\n",
            "tables:\n  - kind: incident\n    fields: {id: number, date: opened_at, title: short_description}\n    date_format: \"%Y-%m-%d %H:%M:%S\"\n    keep: [clauses]\n",
            "tables:\n  - kind: incident\n    fields: {id: number, date: opened_at, title: short_description, refs: closed_at, clauses: opened_at}\n    dates: [date, refs, clauses]\n",
        ];
        let mut rnd = Lcg(11);
        let text = export(&mut rnd, 3000);
        let path = "records/incident/2026.csv";
        for t in tables {
            let (config, _) =
                crate::config::parse(std::path::Path::new("/s"), &format!("{base}{t}")).unwrap();
            let (mut direct, mut general) = (Vec::new(), Vec::new());
            let a = parse_rows(&config, path, Format::Csv, &text, &mut direct, true);
            let b = parse_rows(&config, path, Format::Csv, &text, &mut general, false);
            assert!(b.len() > 500, "{t}: {} records", b.len());
            assert_eq!(a.len(), b.len(), "{t}");
            // The same record, its fields compared as nodes (the two ways intern the names
            // of a file in another order).
            let plain = |r: &Record| {
                let mut r = r.clone();
                let fields = r
                    .all_fields()
                    .map(|(k, v)| (k.to_string(), v.node().into_owned()))
                    .collect();
                r.fields = Fields::Nodes(fields);
                format!("{r:?}")
            };
            for (x, y) in a.iter().zip(&b) {
                assert_eq!(plain(x), plain(y), "{t}");
                assert_eq!(
                    matches!(x.fields, Fields::Row(_)),
                    matches!(y.fields, Fields::Row(_))
                );
            }
            assert_eq!(format!("{direct:?}"), format!("{general:?}"), "{t}");
            // How many rows the plan made.
            let mapping = mapping_for(&config, path);
            let (mut builder, mut made, mut plan) = (RowBuilder::default(), 0, None);
            let shared: Arc<str> = path.into();
            read_rows(
                path,
                Format::Csv,
                &mapping,
                &text,
                &mut Vec::new(),
                &mut |row, _| {
                    if let RowCells::Csv {
                        header,
                        index,
                        record,
                    } = &row.cells
                    {
                        let plan = plan.get_or_insert_with(|| {
                            CsvPlan::new(&mapping, header, index, &mut builder)
                        });
                        let p = plan.as_ref().unwrap();
                        made += usize::from(
                            p.record(
                                &shared,
                                &mut Kinds::default(),
                                &mapping,
                                row.line,
                                record,
                                &mut builder,
                            )
                            .is_some(),
                        );
                    }
                },
            );
            assert!(
                made * 4 > b.len() && made < b.len(),
                "{t}: {made} of {} rows made directly",
                b.len()
            );
        }
    }

    /// The dates written by hand are the ones `Date` writes.
    #[test]
    fn dates_are_written_as_jiff_writes_them() {
        let mut buf = [0u8; 10];
        for s in ["1000-01-01", "2026-12-07", "9999-12-31", "2024-02-29"] {
            let d = crate::dates::parse_date(s).unwrap();
            assert_eq!(write_date(d, &mut buf), Some(d.to_string().as_str()));
        }
        let early = Date::new(999, 12, 31).unwrap();
        assert_eq!(write_date(early, &mut buf), None);
        assert_eq!(
            plain_date_time("2026-01-14 11:18:54"),
            Some(Date::new(2026, 1, 14).unwrap())
        );
        for bad in [
            "2026-02-30 10:00:00",
            "2026-01-14 24:00:00",
            "2026-01-14 11:18",
            "2026-01-14X11:18:54",
        ] {
            assert_eq!(plain_date_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn array_element_lines() {
        let text = "[\n  {\"a\": \"x,]\"},\n  {\"b\": [1,\n 2]}\n,{}]";
        assert_eq!(element_lines(text), vec![2, 3, 5]);
    }
}
