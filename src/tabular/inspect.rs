//! `auditbook records inspect FILE`: what auditbook sees in one tabular records file — its
//! columns, the mapping it applies (and where that comes from), and the first parsed rows — so a
//! quality manager can set up a `tables:` entry for a new export before committing it.

use super::{mapping_for, read_rows, Format, Keep, Mapping};
use crate::config;
use crate::yaml::{Node, Value};
use anyhow::{bail, Context, Result};
use std::fmt::Write;
use std::path::Path;

/// The report printed by `records inspect`, and whether the file has findings.
pub fn inspect(file: &Path, rows: usize) -> Result<(String, bool)> {
    let abs = file
        .canonicalize()
        .with_context(|| format!("cannot open `{}`", file.display()))?;
    let root = config::discover(abs.parent().unwrap_or(Path::new(".")))?;
    let (config, _) = config::load(&root)?;
    let rel = abs
        .strip_prefix(&root)
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .with_context(|| {
            format!(
                "`{}` is not inside the SMS at `{}`",
                abs.display(),
                root.display()
            )
        })?;
    let Some(format) = Format::of(&rel) else {
        bail!("`{rel}` is not a tabular records file (.csv, .tsv, .jsonl, .json)");
    };
    if crate::snapshot::role(&config, &rel) != crate::snapshot::Role::Record {
        bail!(
            "`{rel}` is not under the records folder (`{}/`): auditbook does not read it as records",
            config.paths.records
        );
    }
    let meta = std::fs::symlink_metadata(&abs).with_context(|| format!("cannot read `{rel}`"))?;
    if meta.file_type().is_symlink() {
        bail!("`{rel}` is a symbolic link; auditbook never reads through links");
    }
    if meta.len() > config.max_size_for(&rel) {
        bail!(
            "`{rel}` is {} bytes, over `limits.max_table_size` ({} bytes)",
            meta.len(),
            config.limits.max_table_size
        );
    }
    let bytes = std::fs::read(&abs).with_context(|| format!("cannot read `{rel}`"))?;
    let text =
        String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("`{rel}` is not UTF-8 text"))?;
    let text = crate::markdown::normalise(&text).into_owned();
    let mapping = mapping_for(&config, &rel);

    let mut out = String::new();
    let shape = match format {
        Format::Csv => format!("CSV, separated by `{}`", char::from(mapping.delimiter)),
        Format::Tsv => "TSV (tab-separated)".to_string(),
        Format::JsonLines => "JSON lines (one object a line)".to_string(),
        Format::JsonArray => "JSON (an array of objects)".to_string(),
    };
    let _ = writeln!(out, "file: {rel} ({shape})");
    describe_mapping(&mut out, &mapping);

    // Columns as seen: the union over the rows, in order of first appearance.
    let mut columns: Vec<String> = Vec::new();
    let mut scratch = Vec::new();
    read_rows(
        &rel,
        format,
        &mapping,
        &text,
        &mut scratch,
        &mut |row, _| {
            for (c, _) in row.columns() {
                if !columns.contains(&c) && columns.len() < 500 {
                    columns.push(c);
                }
            }
        },
    );
    let _ = writeln!(
        out,
        "columns seen ({}): {}",
        columns.len(),
        columns.join(", ")
    );

    let mut diags = Vec::new();
    let records = super::parse(&config, &rel, format, &text, &mut diags);
    let _ = writeln!(
        out,
        "rows read as records: {}; findings while reading: {}",
        records.len(),
        diags.len()
    );
    for r in records.iter().take(rows) {
        let _ = writeln!(out, "\nrow at line {}:", r.pos.line);
        for (k, v) in r.all_fields() {
            let _ = writeln!(out, "  {k}: {}", show(&v.node()));
        }
    }
    crate::diag::sort(&mut diags);
    if !diags.is_empty() {
        let _ = writeln!(out, "\nfindings (the first 10 of {}):", diags.len());
        for d in diags.iter().take(10) {
            let line = d.pos.map_or(1, |p| p.line);
            let _ = writeln!(out, "  {rel}:{line}: {}: {}", d.code, d.message);
        }
    }
    Ok((out, !diags.is_empty()))
}

fn describe_mapping(out: &mut String, m: &Mapping) {
    let _ = writeln!(out, "mapping: {}", m.source);
    if let Some(k) = &m.kind {
        let _ = writeln!(
            out,
            "  kind = {k} (unless a `kind` column or value says otherwise)"
        );
    }
    for (f, c) in &m.fields {
        let _ = writeln!(out, "  {f} <- {c}");
    }
    for (f, v) in &m.values {
        let _ = writeln!(out, "  {f} = {v} (fixed)");
    }
    if !m.id_prefix.is_empty() {
        let _ = writeln!(out, "  id prefix: {}", m.id_prefix);
    }
    let format = m
        .date_format
        .as_deref()
        .map_or("ISO 8601 (YYYY-MM-DD, or a date-time)".to_string(), |f| {
            format!("`{f}`")
        });
    let _ = writeln!(
        out,
        "  dates: {} as {format}, written in {}, counted in {}",
        m.dates.join(", "),
        m.zone_in.iana_name().unwrap_or("UTC"),
        m.zone_out.iana_name().unwrap_or("UTC"),
    );
    let _ = match &m.keep {
        Keep::All => writeln!(out, "  keep: every other column, under its own name"),
        Keep::Columns(c) if c.is_empty() => writeln!(out, "  keep: no other column"),
        Keep::Columns(c) => writeln!(out, "  keep: {}", c.join(", ")),
    };
}

fn show(n: &Node) -> String {
    match &n.value {
        Value::Scalar { text, .. } => text.clone(),
        Value::Seq(items) => format!(
            "[{}]",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        Value::Map(_) => "{…}".to_string(),
    }
}
