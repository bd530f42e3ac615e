//! Checks over the linked model -> findings. Per-document and per-record rules first, then the
//! global ones (unique ids, coverage). Severity overrides from sms.yaml are applied last.

use crate::catalog::Catalog;
use crate::config::FILE_NAME;
use crate::diag::{self, Diagnostic};
use crate::markdown::{self, LinkTarget};
use crate::model::{is_effective, Model};
use crate::source::{ClauseRef, Document, Record};
use crate::yaml::Pos;

pub mod audit_programme;
mod placeholders;
mod review;
mod soa;

pub use audit_programme::CYCLE as AUDIT_CYCLE;

pub fn check(model: &Model<'_>) -> Vec<Diagnostic> {
    use rayon::prelude::*;
    // The per-file rules on all cores (one vector per chunk of files) and the rules over the
    // whole SMS beside them; joined in file order, then the SMS-wide ones, as one loop would.
    let (per_file, sms_wide) = rayon::join(
        || {
            let docs = &model.sources.documents;
            let mut parts: Vec<Vec<Diagnostic>> = (0..docs.len())
                .into_par_iter()
                .with_min_len(16)
                .fold(Vec::new, |mut out, i| {
                    document_rules(model, i, &docs[i], &mut out);
                    out
                })
                .collect();
            parts.par_extend(model.sources.records.par_chunks(256).map(|chunk| {
                let mut out = Vec::new();
                for rec in chunk {
                    record_rules(model, rec, &mut out);
                }
                out
            }));
            parts
        },
        || {
            let mut out = Vec::new();
            placeholders::check(model, &mut out);
            unique_ids(model, &mut out);
            coverage_rules(model, &mut out);
            soa::check(model, &mut out);
            audit_programme::check(model, &mut out);
            if model.sources.documents.is_empty() {
                out.push(
                    Diagnostic::new(
                        "no-documents",
                        "sms",
                        "the SMS holds no documents: no Markdown file with frontmatter was found",
                    )
                    .at(FILE_NAME, Pos::new(1, 1)),
                );
            }
            out
        },
    );
    let mut out: Vec<Diagnostic> = per_file.into_iter().flatten().collect();
    out.extend(sms_wide);
    out
}

/// Apply sms.yaml `rules:` levels: change severities, drop findings turned off.
pub fn apply_levels(config: &crate::config::Config, diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut diags: Vec<Diagnostic> = diags
        .into_iter()
        .filter_map(|mut d| match config.rules.get(d.code) {
            None => Some(d),
            Some(None) => None,
            Some(Some(sev)) => {
                d.severity = *sev;
                Some(d)
            }
        })
        .collect();
    diag::sort(&mut diags);
    diags
}

fn clause_ref_rules(
    catalog: &Catalog,
    path: &str,
    subject: &str,
    refs: &[ClauseRef],
    frontmatter: bool,
    out: &mut Vec<Diagnostic>,
) {
    for c in refs {
        if c.unquoted_number {
            out.push(
                Diagnostic::new(
                    "clause-unquoted",
                    format!("{subject}#{}", c.id),
                    format!(
                        "clause id {} is written as a number; YAML reads it as {}",
                        c.id,
                        as_float(&c.id)
                    ),
                )
                .at(path, c.pos)
                .help(format!("quote it: \"{}\"", c.id)),
            );
        }
        match catalog.clause(&c.id) {
            // `--framework`: another framework's clause, known but not checked
            None if catalog.is_elsewhere(&c.id) => {}
            None if catalog.unknown_framework(&c.id).is_some() => {
                if let Some(d) = framework_unknown(catalog, format!("{subject}#{}", c.id), &c.id) {
                    out.push(d.at(path, c.pos));
                }
            }
            None => {
                let mut d = Diagnostic::new(
                    "clause-unknown",
                    format!("{subject}#{}", c.id),
                    format!(
                        "clause `{}` is not in {}",
                        c.id,
                        catalog.framework_named_by(&c.id)
                    ),
                )
                .at(path, c.pos);
                if let Some(s) = catalog.suggest_clause(&c.id) {
                    d = d.help(s);
                }
                out.push(d);
            }
            Some(cl) if frontmatter && cl.is_top_level() => out.push(
                Diagnostic::new(
                    "clause-not-coverable",
                    format!("{subject}#{}", c.id),
                    format!(
                        "clause `{}` ({}) is a top-level clause and covers nothing",
                        cl.id, cl.title
                    ),
                )
                .at(path, c.pos),
            ),
            Some(_) => {}
        }
    }
}

/// `framework-unknown`: a qualified id `<framework>:<id>` whose framework sms.yaml does not load
/// (the caller places it). `None` when the id is plain or its framework is loaded.
fn framework_unknown(catalog: &Catalog, subject: String, id: &str) -> Option<Diagnostic> {
    let (message, help) = catalog.unknown_framework(id)?;
    Some(Diagnostic::new("framework-unknown", subject, message).help(help))
}

/// How YAML would read an unquoted dotted number, for the message.
fn as_float(text: &str) -> String {
    match text.parse::<f64>() {
        Ok(f) => format!("the number {f}"),
        Err(_) => "a number".into(),
    }
}

fn document_rules(model: &Model<'_>, index: usize, doc: &Document, out: &mut Vec<Diagnostic>) {
    let catalog = model.catalog;
    let path = doc.path.as_str();
    clause_ref_rules(catalog, path, &doc.id, &doc.clauses, true, out);
    for p in &doc.provides {
        if catalog.named_document(&p.text).is_none() && !catalog.is_elsewhere(&p.text) {
            if let Some(d) = framework_unknown(catalog, format!("{}#{}", doc.id, p.text), &p.text) {
                out.push(d.at(path, p.pos));
                continue;
            }
            let mut d = Diagnostic::new(
                "provides-unknown",
                format!("{}#{}", doc.id, p.text),
                format!(
                    "`provides: {}` is not a named document of {}",
                    p.text,
                    catalog.framework_named_by(&p.text)
                ),
            )
            .at(path, p.pos);
            if let Some(s) =
                crate::ids::closest(&p.text, catalog.documents.iter().map(|n| n.id.as_str()), 3)
            {
                d = d.help(format!("did you mean `{s}`?"));
            }
            out.push(d);
        }
    }
    if let Some(approved) = doc.approved {
        if approved > model.as_of {
            out.push(
                Diagnostic::new(
                    "approval-in-future",
                    doc.id.clone(),
                    format!("approved {approved}, after the as-of date {}", model.as_of),
                )
                .at(path, doc.approved_pos),
            );
        }
    }
    let review = &model.reviews[index];
    if review.overdue {
        if let Some(next) = review.next {
            let since = match review.last_no_change {
                Some(l) if doc.approved.is_none_or(|a| l > a) => {
                    format!("its last no-change review on {l}")
                }
                _ => doc.approved.map_or_else(
                    || "approval".to_string(),
                    |a| format!("its approval on {a}"),
                ),
            };
            out.push(
                Diagnostic::new(
                    "review-overdue",
                    doc.id.clone(),
                    format!(
                        "review of {} was due on {next} ({} after {since})",
                        doc.id,
                        doc.review.unwrap_or(model.config.review_interval)
                    ),
                )
                .at(path, doc.approved_pos),
            );
        }
    }
    if is_effective(doc) {
        for p in &doc.provides {
            let Some(role) = catalog
                .named_document(&p.text)
                .and_then(|n| n.approver_role.as_deref())
            else {
                continue;
            };
            let Some(approver) = &doc.approver else {
                continue;
            };
            let person = model.config.person(&approver.text);
            let has_role = person.is_some_and(|p| p.role.as_deref() == Some(role));
            if !has_role {
                let who = match person {
                    Some(p) => format!(
                        "{} ({}) has role {}",
                        p.id,
                        p.name,
                        p.role.as_deref().unwrap_or("none")
                    ),
                    None => format!("`{}` is not a person in sms.yaml `people`", approver.text),
                };
                out.push(
                    Diagnostic::new(
                        "approver-lacks-authority",
                        format!("{}#{}", doc.id, p.text),
                        format!("{} must be approved by `{role}`; {who}", p.text),
                    )
                    .at(path, approver.pos),
                );
            }
        }
    }
    link_rules(model, doc, out);
    let limits = model.config.limits.markdown;
    if let Some(cut) = doc.parsed.nesting_cut {
        let diagnostic = match cut.reason {
            crate::markdown::CutReason::Nesting => Diagnostic::new(
                "nesting-too-deep",
                format!("{}#nesting", doc.id),
                format!(
                    "the body nests more than {} levels deep here (block quotes, lists, emphasis and raw HTML elements together, `limits.max_nesting_depth`); the site shows the rest of the body as plain text",
                    limits.max_nesting_depth
                ),
            ),
            crate::markdown::CutReason::Elements => Diagnostic::new(
                "too-many-elements",
                format!("{}#elements", doc.id),
                format!(
                    "the body holds more than {} Markdown elements (`limits.max_elements`; tags, runs of text, links, raw HTML…); from here on it is not read, and the site shows it as plain text",
                    limits.max_elements
                ),
            ),
        };
        out.push(diagnostic.at(&doc.path, cut.pos));
    }
    if let Some(over) = doc.parsed.headings_over {
        out.push(
            Diagnostic::new(
                "too-many-headings",
                format!("{}#headings", doc.id),
                format!(
                    "the body has {} headings past the limit of {} (`limits.max_headings`); from here on headings get no anchor, no table-of-contents entry and no search section",
                    over.count, limits.max_headings
                ),
            )
            .at(&doc.path, over.pos),
        );
    }
    if let Some(&pos) = doc.parsed.active_html.first() {
        let n = doc.parsed.active_html.len();
        let more = if n > 1 {
            format!(" (and {} more places)", n - 1)
        } else {
            String::new()
        };
        out.push(
            Diagnostic::new(
                "unsafe-html",
                format!("{}#raw-html", doc.id),
                format!("raw HTML that could run code (a script, an event handler, a frame or a script URL){more}; the evidence site removes it"),
            )
            .at(&doc.path, pos),
        );
    }
}

fn link_rules(model: &Model<'_>, doc: &Document, out: &mut Vec<Diagnostic>) {
    let path = doc.path.as_str();
    let anchors_of = |d: &Document| {
        d.parsed
            .headings
            .iter()
            .map(|h| h.anchor.clone())
            .collect::<Vec<_>>()
    };
    let anchor_missing =
        |target: &Document, anchor: &str, raw: &str, pos: Pos, out: &mut Vec<Diagnostic>| {
            if target.parsed.headings.iter().any(|h| h.anchor == anchor) {
                return;
            }
            let anchors = anchors_of(target);
            let hint = match crate::ids::closest(anchor, anchors.iter().map(String::as_str), 3) {
                Some(s) => format!("did you mean `#{s}`?"),
                None if anchors.is_empty() => format!("`{}` has no headings", target.id),
                None => format!(
                    "anchors in {}: {}",
                    target.id,
                    anchors
                        .iter()
                        .take(8)
                        .map(|a| format!("#{a}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            out.push(
                Diagnostic::new(
                    "broken-anchor",
                    format!("{}->{raw}", doc.id),
                    format!(
                        "`{raw}`: no heading with anchor `#{anchor}` in {}",
                        target.id
                    ),
                )
                .at(path, pos)
                .help(hint),
            );
        };
    // One finding per scheme and document (a page of 20,000 such links is one problem).
    let mut unsafe_schemes: std::collections::BTreeMap<String, (Pos, usize)> = Default::default();
    for link in &doc.parsed.links {
        match &link.target {
            LinkTarget::Clause(id) => {
                if model.catalog.clause(id).is_some() || model.catalog.is_elsewhere(id) {
                    continue;
                }
                if let Some(d) =
                    framework_unknown(model.catalog, format!("{}->clause:{id}", doc.id), id)
                {
                    out.push(d.at(path, link.pos));
                } else {
                    let mut d = Diagnostic::new(
                        "broken-clause-link",
                        format!("{}->clause:{id}", doc.id),
                        format!(
                            "`clause:{id}` is not a clause of {}",
                            model.catalog.framework_named_by(id)
                        ),
                    )
                    .at(path, link.pos);
                    if let Some(s) = model.catalog.suggest_clause(id) {
                        d = d.help(s);
                    }
                    out.push(d);
                }
            }
            LinkTarget::Doc { id, anchor } => match model.document(id) {
                None => {
                    let mut d = Diagnostic::new(
                        "broken-doc-link",
                        format!("{}->doc:{id}", doc.id),
                        format!("`doc:{id}`: no document has the id `{id}`"),
                    )
                    .at(path, link.pos);
                    if let Some(s) = crate::ids::closest(
                        id,
                        model.sources.documents.iter().map(|d| d.id.as_str()),
                        3,
                    ) {
                        d = d.help(format!("did you mean `doc:{s}`?"));
                    }
                    out.push(d);
                }
                Some(target) => {
                    if let Some(a) = anchor {
                        anchor_missing(target, a, &link.raw, link.pos, out);
                    }
                }
            },
            LinkTarget::Anchor(a) => anchor_missing(doc, a, &link.raw, link.pos, out),
            LinkTarget::Relative { path: rel, anchor } => {
                if rel.is_empty() {
                    continue;
                }
                match markdown::resolve_relative(path, rel) {
                    None => out.push(
                        Diagnostic::new(
                            "link-outside-sms",
                            format!("{}->{}", doc.id, link.raw),
                            format!("`{}` points outside the SMS root", link.raw),
                        )
                        .at(path, link.pos),
                    ),
                    Some(target) => {
                        let exists = model.snapshot_has(&target);
                        if !exists {
                            out.push(
                                Diagnostic::new(
                                    "broken-file-link",
                                    format!("{}->{}", doc.id, link.raw),
                                    format!("`{}`: no file `{target}` in the SMS", link.raw),
                                )
                                .at(path, link.pos),
                            );
                        } else if let Some(a) = anchor {
                            if let Some(t) = model.document_at(&target) {
                                anchor_missing(t, a, &link.raw, link.pos, out);
                            }
                        }
                    }
                }
            }
            LinkTarget::External => {
                if link.is_image {
                    out.push(
                        Diagnostic::new(
                            "remote-image",
                            format!("{}->{}", doc.id, link.raw),
                            format!("image `{}` is loaded from another site; the evidence site shows it as a link", link.raw),
                        )
                        .at(path, link.pos),
                    );
                }
            }
            LinkTarget::Unsafe => {
                let scheme: String = link.raw.trim().chars().take_while(|c| *c != ':').collect();
                let e = unsafe_schemes
                    .entry(scheme.to_ascii_lowercase())
                    .or_insert((link.pos, 0));
                e.1 += 1;
            }
        }
    }
    for (scheme, (pos, n)) in unsafe_schemes {
        let more = if n > 1 {
            format!(" ({n} such links)")
        } else {
            String::new()
        };
        out.push(
            Diagnostic::new(
                "unsafe-link",
                format!("{}->{scheme}", doc.id),
                format!("link with the `{scheme}` scheme{more}: the evidence site never follows it and drops the link"),
            )
            .at(path, pos),
        );
    }
}

fn record_rules(model: &Model<'_>, rec: &Record, out: &mut Vec<Diagnostic>) {
    let path = &*rec.path;
    clause_ref_rules(model.catalog, path, &rec.id, &rec.clauses, false, out);
    let Some(kind) = model.catalog.record_kind(&rec.kind) else {
        let mut d = Diagnostic::new(
            "record-kind-unknown",
            rec.id.clone(),
            format!(
                "record kind `{}` is not defined by {}",
                rec.kind, model.catalog.id
            ),
        )
        .at(path, rec.kind_pos);
        if let Some(s) = crate::ids::closest(
            &rec.kind,
            model.catalog.record_kinds.iter().map(|k| k.id.as_str()),
            3,
        ) {
            d = d.help(format!("did you mean `{s}`?"));
        }
        out.push(d);
        return;
    };
    review::check(model, kind, rec, out);
    for f in &kind.required {
        if rec.field(f).is_none_or(|n| n.is_null()) {
            out.push(
                Diagnostic::new(
                    "field-missing",
                    format!("{}#{f}", rec.id),
                    format!("a {} record needs `{f}`", kind.id),
                )
                .at(path, rec.pos),
            );
        }
    }
    for f in &kind.dates {
        if let Some(n) = rec.field(f).filter(|n| !n.is_null()) {
            let ok = n
                .as_scalar()
                .is_some_and(|t| crate::dates::parse_date(t).is_ok());
            if !ok {
                out.push(
                    Diagnostic::new(
                        "field-invalid",
                        format!("{}#{f}", rec.id),
                        format!(
                            "`{f}` must be a date YYYY-MM-DD, found `{}`",
                            n.as_scalar().unwrap_or(n.describe())
                        ),
                    )
                    .at(path, n.pos()),
                );
            }
        }
    }
    for t in &rec.refs {
        if model.record(&t.text).is_none() && model.document(&t.text).is_none() {
            out.push(
                Diagnostic::new(
                    "broken-ref",
                    format!("{}->{}", rec.id, t.text),
                    format!("`refs` names `{}`, which is no record or document", t.text),
                )
                .at(path, t.pos),
            );
        }
    }
    if let Some(date) = rec.date {
        if date > model.as_of {
            out.push(
                Diagnostic::new(
                    "record-in-future",
                    rec.id.clone(),
                    format!(
                        "{} is dated {date}, after the as-of date {}",
                        rec.id, model.as_of
                    ),
                )
                .at(path, rec.date_pos),
            );
        }
    }
    if let Some(action) = open_action(kind, rec) {
        if let Some(due) = action.due.filter(|&d| d < model.as_of) {
            out.push(
                Diagnostic::new(
                    "nonconformity-overdue",
                    rec.id.clone(),
                    format!("{} is `{}` and was due on {due}", rec.id, action.status),
                )
                .at(path, action.due_pos),
            );
        }
    }
}

/// An open record of a kind that has a due date (`due_field` in the catalogue: a nonconformity,
/// a risk treatment): its status and when it is due.
pub struct OpenAction<'r> {
    pub status: &'r str,
    /// `None` when the due field is missing or not a date (other rules report that).
    pub due: Option<jiff::civil::Date>,
    /// The due field's position, else the record's.
    pub due_pos: Pos,
}

/// The record as an open action, when its kind has a `due_field` and its `status` is one of the
/// kind's open statuses. `nonconformity-overdue` and `auditbook todo` both read records through
/// this, so "open" and "past due" mean the same in both.
pub fn open_action<'r>(
    kind: &crate::catalog::RecordKind,
    rec: &'r Record,
) -> Option<OpenAction<'r>> {
    let due_field = kind.due_field.as_deref()?;
    let status = open_status(kind, rec)?;
    let node = rec.field(due_field);
    Some(OpenAction {
        status,
        due: node
            .and_then(|n| n.as_scalar())
            .and_then(|t| crate::dates::parse_date(t).ok()),
        due_pos: node.map_or(rec.pos, |n| n.pos()),
    })
}

/// The record's `status` when it is one of its kind's open statuses (a missing status is "").
pub fn open_status<'r>(kind: &crate::catalog::RecordKind, rec: &'r Record) -> Option<&'r str> {
    let status = rec
        .field("status")
        .and_then(|n| n.as_scalar())
        .unwrap_or("");
    kind.open_statuses
        .iter()
        .any(|s| s == status)
        .then_some(status)
}

fn unique_ids(model: &Model<'_>, out: &mut Vec<Diagnostic>) {
    let mut first: rustc_hash::FxHashMap<String, (&str, &str, Pos)> =
        rustc_hash::FxHashMap::with_capacity_and_hasher(
            model.sources.documents.len() + model.sources.records.len(),
            Default::default(),
        );
    let all = model
        .sources
        .documents
        .iter()
        .map(|d| (&d.id, d.path.as_str(), d.id_pos))
        .chain(
            model
                .sources
                .records
                .iter()
                .map(|r| (&r.id, &*r.path, r.id_pos)),
        );
    for (id, path, pos) in all {
        match first.entry(crate::ids::key(id)) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert((id.as_str(), path, pos));
            }
            std::collections::hash_map::Entry::Occupied(slot) => {
                let (first_id, first_path, first_pos) = slot.get();
                out.push(
                    Diagnostic::new(
                        "id-duplicate",
                        id.clone(),
                        format!(
                            "id `{id}` is already used by `{first_id}` at {first_path}:{}:{}",
                            first_pos.line, first_pos.col
                        ),
                    )
                    .at(path, pos),
                );
            }
        }
    }
}

fn coverage_rules(model: &Model<'_>, out: &mut Vec<Diagnostic>) {
    for (cov, cl) in model.coverage.iter().zip(&model.catalog.clauses) {
        let title = format!("{} {}", cl.id, cl.title);
        if cov.documented == Some(false) && cov.documents.is_empty() {
            let mut msg = format!("clause {title}: no approved document covers it");
            if !cov.not_effective.is_empty() {
                let ids: Vec<String> = cov
                    .not_effective
                    .iter()
                    .map(|&i| {
                        let d = &model.sources.documents[i];
                        format!("{} ({})", d.id, d.status.as_str())
                    })
                    .collect();
                msg.push_str(&format!(
                    "; cited by {} which do not count until approved",
                    ids.join(", ")
                ));
            }
            out.push(
                Diagnostic::new("clause-undocumented", cl.id.clone(), msg)
                    .at(FILE_NAME, Pos::new(1, 1)),
            );
        }
        for named in &cov.missing_documents {
            let title_of = model
                .catalog
                .named_document(named)
                .map_or(named.as_str(), |n| n.title.as_str());
            out.push(
                Diagnostic::new(
                    "named-document-missing",
                    format!("{}#{named}", cl.id),
                    format!("clause {title} demands the {title_of}: no approved document says `provides: [{named}]`"),
                )
                .at(FILE_NAME, Pos::new(1, 1)),
            );
        }
        for kind in &cov.missing_kinds {
            let records = &model.config.paths.records;
            let d = match model.config.external_kind(kind) {
                Some(e) => Diagnostic::new(
                    "records-missing",
                    format!("{}#{kind}", cl.id),
                    format!(
                        "clause {title} demands `{kind}` records, held in {}: there is no `{}` record to stand for them",
                        e.system, e.evidenced_by
                    ),
                )
                .at(FILE_NAME, e.pos)
                .help(format!(
                    "add {} records under {records}/{}/, or export the {kind} records into {records}/{kind}/",
                    e.evidenced_by, e.evidenced_by
                )),
                None => Diagnostic::new(
                    "records-missing",
                    format!("{}#{kind}", cl.id),
                    format!("clause {title} demands `{kind}` records: there are none"),
                )
                .at(FILE_NAME, Pos::new(1, 1))
                .help(format!("add {kind} records under {records}/{kind}/")),
            };
            out.push(d);
        }
        for s in &cov.stale_kinds {
            out.push(
                Diagnostic::new(
                    "records-stale",
                    format!("{}#{}", cl.id, s.kind),
                    match &s.via {
                        None => format!(
                            "clause {title}: the newest `{}` record is from {}, older than {} before {}",
                            s.kind, s.newest, s.within, model.as_of
                        ),
                        Some(via) => format!(
                            "clause {title}: `{}` records are held elsewhere, and the newest `{via}` record that stands for them is from {}, older than {} before {}",
                            s.kind, s.newest, s.within, model.as_of
                        ),
                    },
                )
                .at(FILE_NAME, Pos::new(1, 1)),
            );
        }
    }
    for e in &model.config.external {
        if e.kind == e.evidenced_by {
            out.push(
                Diagnostic::new(
                    "config-invalid",
                    format!("{FILE_NAME}#external#{}", e.kind),
                    format!(
                        "`{}` cannot stand for itself: `evidenced_by` names a kind kept in git",
                        e.kind
                    ),
                )
                .at(FILE_NAME, e.pos),
            );
            continue;
        }
        for (what, kind) in [("kind", &e.kind), ("evidenced_by", &e.evidenced_by)] {
            if model.catalog.record_kind(kind).is_none() {
                out.push(
                    Diagnostic::new(
                        "config-invalid",
                        format!("{FILE_NAME}#external#{}", e.kind),
                        format!("external `{what}` names record kind `{kind}`, which no loaded framework defines"),
                    )
                    .at(FILE_NAME, e.pos)
                    .help("`auditbook clauses --kinds` lists the record kinds"),
                );
            }
        }
    }
    for a in &model.config.applicability {
        match model.catalog.clause(&a.clause) {
            None if model.catalog.is_elsewhere(&a.clause) => {}
            None if model.catalog.unknown_framework(&a.clause).is_some() => {
                if let Some(d) = framework_unknown(model.catalog, format!("{FILE_NAME}#applicability#{}", a.clause), &a.clause) {
                    out.push(d.at(FILE_NAME, a.pos));
                }
            }
            None => out.push(
                Diagnostic::new("config-invalid", format!("{FILE_NAME}#applicability#{}", a.clause), format!("applicability names clause `{}`, which is not in {}", a.clause, model.catalog.framework_named_by(&a.clause)))
                    .at(FILE_NAME, a.pos),
            ),
            Some(cl) if !cl.delegable => out.push(
                Diagnostic::new(
                    "config-invalid",
                    format!("{FILE_NAME}#applicability#{}", a.clause),
                    format!("clause {} cannot be operated by another party; the organisation must meet it itself", cl.id),
                )
                .at(FILE_NAME, a.pos),
            ),
            Some(_) => {}
        }
    }
}

impl<'a> Model<'a> {
    /// The document stored at an SMS-relative path.
    pub fn document_at(&self, path: &str) -> Option<&'a Document> {
        // documents are sorted by path (the snapshot is), so a binary search finds it
        let docs = &self.sources.documents;
        docs.binary_search_by(|d| d.path.as_str().cmp(path))
            .ok()
            .map(|i| &docs[i])
    }

    /// Whether a path exists among the SMS files (documents, records or any other file).
    pub fn snapshot_has(&self, path: &str) -> bool {
        self.files.exists(path)
    }
}
