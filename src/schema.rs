//! JSON Schemas of `sms.yaml`, document frontmatter and record files, for editors (VS Code's YAML
//! extension completes and validates with them) — `auditbook schema sms|frontmatter|record`, and
//! the copies shipped under `schemas/`.
//!
//! The readers of these files are hand-written (they give every finding its line and column), so
//! there are no serde types to derive a schema from. Instead this module holds the one list of
//! keys, types and meanings that both sides use: `config` and `source` accept exactly the keys
//! named here (any other is `config-unknown-key`, or a did-you-mean for frontmatter), enumerations
//! come from the parser's own tables (document types, statuses, finding codes, table presets), and
//! record kinds with their required and date fields come from the built-in catalogue. A unit test
//! feeds every key a value of its declared type, and one of a wrong type, through the real parser,
//! so a type changed on one side only fails the tests.

use serde_json::{json, Map, Value};

/// The type of a setting or field, as the parser reads it.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    /// Any non-empty scalar, read as its source text (`1.0` stays `1.0`).
    Text,
    /// A record or document id (`crate::ids`).
    Id,
    /// `YYYY-MM-DD`.
    Date,
    /// `<n> days|weeks|months|years`, n from 1 to 1000.
    Interval,
    /// A byte size: a whole number with an optional unit (`10 MiB`).
    Size,
    /// A positive whole number.
    Count,
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// A list of scalars; one scalar is a list of one.
    TextList,
    /// A mapping of free keys to values of one type.
    MapOf(&'static Ty),
    /// A mapping with these keys only.
    Object(&'static [Field]),
    /// A list of mappings with these keys only.
    ListOf(&'static [Field]),
    /// `rules:`: finding code -> deny | warn | note | allow.
    Levels,
    /// `tables[].preset`: a built-in preset name.
    Preset,
    /// `tables[].keep`: `all`, or a list of column names.
    Keep,
    /// `tables[].delimiter`: one ASCII character, or `tab`.
    Delimiter,
    /// `version_scheme`.
    VersionScheme,
}

/// One key of a mapping.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub key: &'static str,
    pub ty: Ty,
    pub required: bool,
    pub doc: &'static str,
}

const fn f(key: &'static str, ty: Ty, doc: &'static str) -> Field {
    Field {
        key,
        ty,
        required: false,
        doc,
    }
}

const fn req(key: &'static str, ty: Ty, doc: &'static str) -> Field {
    Field {
        key,
        ty,
        required: true,
        doc,
    }
}

/// The words of `version_scheme`.
pub const VERSION_SCHEMES: &[&str] = &["dotted", "integer", "free"];
/// The levels of `rules:` entries.
pub const LEVELS: &[&str] = &["deny", "warn", "note", "allow"];

pub const PEOPLE: &[Field] = &[
    req(
        "id",
        Ty::Id,
        "The person's id, used as `owner` or `approver` in frontmatter.",
    ),
    f("name", Ty::Text, "Full name (default: the id)."),
    f(
        "role",
        Ty::Text,
        "Free text; `top-management` has a meaning (approver authority).",
    ),
    f(
        "emails",
        Ty::TextList,
        "Git e-mail addresses, to match approvers and authors to commits.",
    ),
    f(
        "keys",
        Ty::TextList,
        "OpenSSH public key lines (`ssh-ed25519 AAAA… comment`) this person signs commits and tags with.",
    ),
];

pub const SIGNATURES: &[Field] = &[
    f(
        "allowed_signers",
        Ty::Text,
        "An allowed-signers file (git's `gpg.ssh.allowedSignersFile` format), relative to the SMS root: more trusted keys, principals matched to people by e-mail.",
    ),
    f(
        "openpgp_keys",
        Ty::Text,
        "A file of armoured OpenPGP public keys (`gpg --export --armor`), relative to the SMS root; User ID e-mails are matched to people.",
    ),
];

/// The words of `approval.require.<type>`.
pub const APPROVAL_LEVELS: &[&str] = crate::config::ApprovalLevel::WORDS;

const fn level(key: &'static str, doc: &'static str) -> Field {
    f(key, Ty::OneOf(APPROVAL_LEVELS), doc)
}

/// `approval.require`: one key per document type (`source::DOCUMENT_TYPES`).
pub const APPROVAL_REQUIRE: &[Field] = &[
    level(
        "policy",
        "The approval evidence policies need: claimed, trailer or signed.",
    ),
    level("procedure", "The approval evidence procedures need."),
    level("plan", "The approval evidence plans need."),
    level(
        "process",
        "The approval evidence process descriptions need.",
    ),
    level("standard", "The approval evidence standards need."),
    level("register", "The approval evidence registers need."),
    level("other", "The approval evidence other documents need."),
];

pub const APPROVAL: &[Field] = &[f(
    "require",
    Ty::Object(APPROVAL_REQUIRE),
    "Per document type, the lowest approval evidence accepted for the effective version (claimed < trailer < signed); lower is `approval-not-corroborated`.",
)];

pub const APPLICABILITY: &[Field] = &[
    req(
        "clause",
        Ty::Text,
        "The clause another party operates (8.2.3), e.g. \"8.7.2\".",
    ),
    req("party", Ty::Text, "The other party."),
    f(
        "agreement",
        Ty::Id,
        "The document id of the approved agreement (citing 8.3.4.1 or 8.3.4.2).",
    ),
    f(
        "review_kind",
        Ty::Text,
        "The record kind of the party's performance reviews.",
    ),
];

/// One `external:` entry: a record kind held in another system (DESIGN "Records held elsewhere").
pub const EXTERNAL: &[Field] = &[
    req(
        "kind",
        Ty::Text,
        "The record kind held elsewhere, e.g. incident (`auditbook clauses --kinds`).",
    ),
    req(
        "system",
        Ty::Text,
        "The system that holds the records, e.g. ServiceNow.",
    ),
    f(
        "location",
        Ty::Text,
        "Where in that system an auditor finds them (a URL, a queue, a report name).",
    ),
    f("owner", Ty::Text, "Who answers for those records."),
    req(
        "evidenced_by",
        Ty::Text,
        "A record kind kept in git whose freshness stands for the external one (e.g. service-report).",
    ),
];

pub const HISTORY: &[Field] = &[
    f(
        "baseline",
        Ty::Text,
        "A date (YYYY-MM-DD) or commit id: revisions at or before it are an imported history.",
    ),
    f(
        "backdating_tolerance",
        Ty::Interval,
        "Overrides every record kind's back-dating tolerance.",
    ),
];

pub const AUDIT_PROGRAMME: &[Field] = &[f(
    "cycle",
    Ty::Interval,
    "How far back from the as-of date a completed internal audit still covers its clauses (default 3 years).",
)];

pub const LIMITS: &[Field] = &[
    f(
        "max_file_size",
        Ty::Size,
        "Files larger than this are not read (default 10 MiB).",
    ),
    f(
        "max_output_size",
        Ty::Size,
        "What the site or the bundle copies from the SMS, in all (default 1 GiB).",
    ),
    f(
        "max_table_size",
        Ty::Size,
        "Size limit of CSV/TSV/JSON record files (default 1 GiB).",
    ),
    f(
        "max_documents",
        Ty::Count,
        "Most documents read (default 100000).",
    ),
    f(
        "max_yaml_depth",
        Ty::Count,
        "Deepest YAML nesting (default 64, at most 1024).",
    ),
    f(
        "max_yaml_nodes",
        Ty::Count,
        "Most YAML nodes of one file, aliases expanded (default 1000000).",
    ),
    f(
        "max_nesting_depth",
        Ty::Count,
        "Deepest Markdown and raw HTML nesting (default 64, at most 512).",
    ),
    f(
        "max_headings",
        Ty::Count,
        "Most headings with an anchor per document (default 1000).",
    ),
    f(
        "max_elements",
        Ty::Count,
        "Most Markdown parser events (tags, text runs, links, raw HTML) per body (default 500000).",
    ),
];

pub const PATHS: &[Field] = &[
    f(
        "records",
        Ty::Text,
        "Folder of the records, relative to the SMS root (default `records`).",
    ),
    f(
        "frameworks",
        Ty::Text,
        "Folder of extra clause catalogues (default `frameworks`).",
    ),
    f(
        "mappings",
        Ty::Text,
        "Folder of extra clause mappings between frameworks (default `mappings`).",
    ),
    f(
        "templates",
        Ty::Text,
        "Folder of site template overrides (default `templates`).",
    ),
    f(
        "output",
        Ty::Text,
        "The site's output folder (default `_site`).",
    ),
];

pub const TABLES: &[Field] = &[
    f(
        "files",
        Ty::Text,
        "A glob relative to the records folder, e.g. `incident/*.csv`.",
    ),
    f(
        "kind",
        Ty::Text,
        "The record kind of every row (default: the folder name).",
    ),
    f(
        "preset",
        Ty::Preset,
        "A built-in column mapping of a service desk's export.",
    ),
    f(
        "fields",
        Ty::MapOf(&Ty::Text),
        "Field <- column, added to (and overriding) the preset's.",
    ),
    f(
        "dates",
        Ty::TextList,
        "Fields read as dates; replaces the preset's list.",
    ),
    f(
        "date_format",
        Ty::Text,
        "The strftime format of the export's dates.",
    ),
    f(
        "timezone",
        Ty::Text,
        "IANA time zone of date-times without an offset (default: the SMS's).",
    ),
    f(
        "keep",
        Ty::Keep,
        "Other columns kept as fields: `all`, or a list of names.",
    ),
    f(
        "values",
        Ty::MapOf(&Ty::Text),
        "Fixed values given to every row.",
    ),
    f(
        "delimiter",
        Ty::Delimiter,
        "The column separator: one ASCII character, or `tab`.",
    ),
    f("id_prefix", Ty::Text, "Prefixed to every id."),
];

/// Every key of `sms.yaml`. `organisation` and `scope` are required, and one of `framework` or
/// `frameworks` (not both).
pub const SMS: &[Field] = &[
    req("organisation", Ty::Text, "The organisation's name."),
    req("scope", Ty::Text, "The scope statement of the SMS, in prose."),
    f("framework", Ty::Text, "The clause catalogue: a built-in id (iso20000-1:2018, iso27001:2022, iso9001:2015, iso20000-1:2011) or the id of a file under frameworks/."),
    f("frameworks", Ty::TextList, "Several catalogues (an integrated management system); the first is primary."),
    f("review_interval", Ty::Interval, "Default review interval of documents (default 12 months)."),
    f("timezone", Ty::Text, "IANA time zone of the as-of date (default UTC)."),
    f("version_scheme", Ty::VersionScheme, "How document versions compare: dotted (default), integer or free."),
    f("auditbook", Ty::Text, "The auditbook version this SMS expects, e.g. \"0.1\"."),
    f("people", Ty::ListOf(PEOPLE), "People, to match owners and approvers to git authors."),
    f("intervals", Ty::MapOf(&Ty::Interval), "Freshness overrides per record kind."),
    f("rules", Ty::Levels, "The level of a finding code: deny (error), warn (warning), note or allow (off)."),
    f("applicability", Ty::ListOf(APPLICABILITY), "Clauses operated by another party (8.2.3)."),
    f(
        "external",
        Ty::ListOf(EXTERNAL),
        "Record kinds held in another system, with the kind kept in git that stands for them.",
    ),
    f("history", Ty::Object(HISTORY), "How the git history is read."),
    f("audit_programme", Ty::Object(AUDIT_PROGRAMME), "The internal audit programme (clause 9.2)."),
    f("signatures", Ty::Object(SIGNATURES), "Where trusted signing keys are listed besides `people[].keys`."),
    f("approval", Ty::Object(APPROVAL), "The approval evidence each document type needs."),
    f("limits", Ty::Object(LIMITS), "Bounds on what one run reads."),
    f("paths", Ty::Object(PATHS), "Folders, relative to the SMS root."),
    f("tables", Ty::ListOf(TABLES), "Column mappings of tabular record files (docs/records.md)."),
];

/// The frontmatter keys auditbook reads; others are kept and shown (a near miss gets a
/// did-you-mean warning). `approver` and `approved` are required once `status: approved`.
pub const FRONTMATTER: &[Field] = &[
    req("id", Ty::Id, "A unique, stable id such as POL-CHG."),
    req("title", Ty::Text, "The document's title."),
    req(
        "type",
        Ty::OneOf(crate::source::DOCUMENT_TYPES),
        "The kind of document.",
    ),
    req(
        "owner",
        Ty::Text,
        "A person id from sms.yaml `people`, or a name or role.",
    ),
    f(
        "approver",
        Ty::Text,
        "Who approved this version: a person id, or a name or role.",
    ),
    req(
        "version",
        Ty::Text,
        "The version of this text, e.g. \"1.0\" (quote it: 2.10 is not 2.1).",
    ),
    req(
        "status",
        Ty::OneOf(crate::source::STATUSES),
        "draft, in-review, approved or retired; only approved documents count as coverage.",
    ),
    f("approved", Ty::Date, "The date this version was approved."),
    f(
        "review",
        Ty::Interval,
        "The review interval (overrides sms.yaml `review_interval`).",
    ),
    f(
        "next_review",
        Ty::Date,
        "Overrides the computed next review date.",
    ),
    f(
        "clauses",
        Ty::TextList,
        "The clause ids this document covers, e.g. [\"8.5.1\"].",
    ),
    f(
        "provides",
        Ty::TextList,
        "The catalogue's named documents this document is, e.g. [change-management-policy].",
    ),
    f(
        "derives",
        Ty::TextList,
        "Ids of the documents this one is derived from, e.g. [POL-CHG]: a new approved version of one makes this document suspect until it is approved again or reviewed.",
    ),
    f(
        "controls",
        Ty::ListOf(SOA_CONTROLS),
        "The Statement of Applicability's table (ISO/IEC 27001 Annex A): one entry per control.",
    ),
];

/// One entry of a Statement of Applicability's `controls:` table (read by `crate::soa`).
pub const SOA_CONTROLS: &[Field] = &[
    req("control", Ty::Text, "The Annex A control, e.g. A.5.1."),
    f(
        "applicable",
        Ty::Text,
        "yes or no: whether the control applies to this management system.",
    ),
    f(
        "justification",
        Ty::Text,
        "Why the control is included or excluded (required when it is excluded).",
    ),
    f(
        "status",
        Ty::OneOf(&["planned", "partial", "implemented"]),
        "How far the control is implemented.",
    ),
    f(
        "implemented_by",
        Ty::TextList,
        "The ids of the documents and records that implement the control.",
    ),
];

/// The fields every record has or may have; a kind adds its own.
pub const RECORD: &[Field] = &[
    req("id", Ty::Id, "A unique, stable id such as INC-2026-0001."),
    req(
        "kind",
        Ty::Text,
        "The record kind, e.g. incident (`auditbook clauses --kinds` lists them).",
    ),
    req("date", Ty::Date, "The date of the record."),
    req("title", Ty::Text, "A one-line title."),
    f(
        "clauses",
        Ty::TextList,
        "Clause ids (default: the kind's clauses).",
    ),
    f("refs", Ty::TextList, "Ids of related records or documents."),
];

/// The keys of a list of fields, for the parsers' unknown-key checks.
pub fn keys(fields: &[Field]) -> Vec<&'static str> {
    fields.iter().map(|f| f.key).collect()
}

/// Whether `key` is one of `fields`.
pub fn has(fields: &[Field], key: &str) -> bool {
    fields.iter().any(|f| f.key == key)
}

/// Which schema `auditbook schema` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Which {
    Sms,
    Frontmatter,
    Record,
}

impl Which {
    pub const ALL: [Which; 3] = [Which::Sms, Which::Frontmatter, Which::Record];

    /// The file under `schemas/` that holds a copy.
    pub fn file_name(self) -> &'static str {
        match self {
            Which::Sms => "sms.schema.json",
            Which::Frontmatter => "frontmatter.schema.json",
            Which::Record => "record.schema.json",
        }
    }
}

/// The schema as pretty JSON with a final newline (keys sorted: byte-identical every time).
pub fn render(which: Which) -> anyhow::Result<String> {
    let value = match which {
        Which::Sms => sms(),
        Which::Frontmatter => frontmatter(),
        Which::Record => record()?,
    };
    Ok(serde_json::to_string_pretty(&value)? + "\n")
}

const DRAFT: &str = "http://json-schema.org/draft-07/schema#";

/// Any scalar: the parser reads numbers and booleans as their source text.
fn scalar() -> Value {
    json!({"type": ["string", "number", "boolean"]})
}

fn type_schema(ty: Ty) -> Value {
    match ty {
        Ty::Text => scalar(),
        Ty::Id => json!({
            "type": ["string", "number"],
            "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        }),
        Ty::Date => json!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}),
        Ty::Interval => json!({
            "type": "string",
            "pattern": "^\\s*\\+?[0-9]+\\s+(days?|weeks?|months?|years?)\\s*$",
        }),
        Ty::Size => json!({
            "type": ["integer", "string"],
            "minimum": 0,
            "pattern": "^\\s*[0-9]+\\s*(B|KiB|KB|kB|MiB|MB|GiB|GB)?\\s*$",
        }),
        Ty::Count => json!({
            "type": ["integer", "string"],
            "minimum": 1,
            "pattern": "^[0-9_]*[1-9][0-9_]*$",
        }),
        Ty::OneOf(words) => json!({"enum": words}),
        Ty::VersionScheme => json!({"enum": VERSION_SCHEMES}),
        Ty::TextList => json!({
            "type": ["array", "string", "number", "boolean", "null"],
            "items": scalar(),
        }),
        Ty::MapOf(inner) => json!({
            "type": ["object", "null"],
            "additionalProperties": type_schema(*inner),
        }),
        Ty::Object(fields) => {
            let mut o = object(fields, false);
            o.insert("type".into(), json!(["object", "null"]));
            Value::Object(o)
        }
        Ty::ListOf(fields) => json!({
            "type": ["array", "null"],
            "items": Value::Object(object(fields, false)),
        }),
        Ty::Levels => {
            let codes: Vec<&str> = crate::codes::CODES.iter().map(|c| c.code).collect();
            json!({
                "type": ["object", "null"],
                "propertyNames": {"enum": codes},
                "additionalProperties": {"enum": LEVELS},
            })
        }
        Ty::Preset => {
            let names: Vec<&str> = crate::tabular::presets::names().collect();
            json!({"enum": names})
        }
        Ty::Keep => json!({
            "anyOf": [{"const": "all"}, type_schema(Ty::TextList)],
        }),
        Ty::Delimiter => json!({
            "type": "string",
            "pattern": "^(tab|\\\\t|[\\u0000-\\u007f])$",
        }),
    }
}

/// A mapping with `fields`: their schemas and descriptions, the required ones, and whether other
/// keys are allowed.
fn object(fields: &[Field], open: bool) -> Map<String, Value> {
    let mut props = Map::new();
    for field in fields {
        let mut s = type_schema(field.ty);
        if let Value::Object(m) = &mut s {
            m.insert("description".into(), json!(field.doc));
        }
        props.insert(field.key.into(), s);
    }
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.key)
        .collect();
    let mut o = Map::new();
    o.insert("type".into(), json!("object"));
    o.insert("properties".into(), Value::Object(props));
    if !required.is_empty() {
        o.insert("required".into(), json!(required));
    }
    o.insert("additionalProperties".into(), json!(open));
    o
}

fn sms() -> Value {
    let mut o = object(SMS, false);
    o.insert("$schema".into(), json!(DRAFT));
    o.insert("title".into(), json!("auditbook sms.yaml"));
    o.insert(
        "description".into(),
        json!("The identity and settings of an SMS kept in git (auditbook; docs/format.md)."),
    );
    // `framework` or `frameworks`, not both (config::parse).
    o.insert(
        "oneOf".into(),
        json!([{"required": ["framework"]}, {"required": ["frameworks"]}]),
    );
    // A `tables` entry needs `files` or `kind` (config::read_tables).
    if let Some(items) = o
        .get_mut("properties")
        .and_then(|p| p.get_mut("tables"))
        .and_then(|t| t.get_mut("items"))
        .and_then(Value::as_object_mut)
    {
        items.insert(
            "anyOf".into(),
            json!([{"required": ["files"]}, {"required": ["kind"]}]),
        );
    }
    Value::Object(o)
}

fn frontmatter() -> Value {
    let mut o = object(FRONTMATTER, true);
    o.insert("$schema".into(), json!(DRAFT));
    o.insert("title".into(), json!("auditbook document frontmatter"));
    o.insert(
        "description".into(),
        json!("The YAML between the `---` lines at the top of an SMS document (docs/format.md). Other keys are kept and shown."),
    );
    o.insert(
        "if".into(),
        json!({"properties": {"status": {"const": "approved"}}, "required": ["status"]}),
    );
    o.insert("then".into(), json!({"required": ["approver", "approved"]}));
    Value::Object(o)
}

/// `inputs` and `period` of a review kind ([`crate::review`]): each input by id, as a summary or
/// `{summary, refs}`; the older list of notes is still valid (the check reports it).
fn review_properties(k: &crate::catalog::RecordKind) -> Map<String, Value> {
    let answer = json!({"anyOf": [
        scalar(),
        {
            "type": "object",
            "properties": {
                "summary": scalar(),
                "refs": type_schema(Ty::TextList),
            },
            "additionalProperties": false,
        },
    ]});
    let inputs: Map<String, Value> = k
        .inputs
        .iter()
        .map(|i| {
            let mut one = answer.clone();
            if let Some(o) = one.as_object_mut() {
                o.insert(
                    "description".into(),
                    json!(format!("{}: {}", i.title, i.summary)),
                );
            }
            (i.id.clone(), one)
        })
        .collect();
    let mut out = Map::new();
    out.insert(
        crate::review::INPUTS.into(),
        json!({
            "description": "What the review considered: one entry per input, a summary or {summary, refs} (docs/format.md, Management reviews).",
            "anyOf": [
                {"type": "object", "properties": inputs, "additionalProperties": true},
                {"type": "array", "items": scalar()},
                {"type": "null"},
            ],
        }),
    );
    out.insert(
        crate::review::PERIOD.into(),
        json!({
            "description": "The period the review looked back on, both ends included (default: since the previous review).",
            "anyOf": [
                {
                    "type": "object",
                    "properties": {"from": type_schema(Ty::Date), "to": type_schema(Ty::Date)},
                    "required": ["from", "to"],
                    "additionalProperties": false,
                },
                {"type": "null"},
            ],
        }),
    );
    out
}

fn record() -> anyhow::Result<Value> {
    let catalog = crate::catalog::builtin()?;
    let mut one = object(RECORD, true);
    // Each built-in kind's required fields, and its date fields as dates (empty while unset).
    let mut kinds: Vec<&crate::catalog::RecordKind> = catalog.record_kinds.iter().collect();
    kinds.sort_by(|a, b| a.id.cmp(&b.id));
    let rules: Vec<Value> = kinds
        .iter()
        .map(|k| {
            let mut dates: Map<String, Value> = k
                .dates
                .iter()
                .map(|d| {
                    (
                        d.clone(),
                        json!({"anyOf": [type_schema(Ty::Date), {"type": "null"}]}),
                    )
                })
                .collect();
            if crate::review::applies(k) {
                dates.extend(review_properties(k));
            }
            let mut then = Map::new();
            then.insert("description".into(), json!(k.title));
            if !k.required.is_empty() {
                then.insert("required".into(), json!(k.required));
            }
            if !dates.is_empty() {
                then.insert("properties".into(), Value::Object(dates));
            }
            json!({
                "if": {"properties": {"kind": {"const": k.id}}, "required": ["kind"]},
                "then": Value::Object(then),
            })
        })
        .collect();
    one.insert("allOf".into(), Value::Array(rules));
    let kind_ids: Vec<&str> = kinds.iter().map(|k| k.id.as_str()).collect();
    if let Some(kind) = one
        .get_mut("properties")
        .and_then(|p| p.get_mut("kind"))
        .and_then(Value::as_object_mut)
    {
        // Suggestions for editors; a catalogue under frameworks/ may define other kinds.
        kind.insert("examples".into(), json!(kind_ids));
    }
    Ok(json!({
        "$schema": DRAFT,
        "title": "auditbook record file",
        "description": format!(
            "A YAML record file under records/<kind>/: one record, or `records:` with a list (docs/format.md). Kinds and their required fields are those of the built-in {} catalogue.",
            catalog.id
        ),
        "definitions": {"record": Value::Object(one)},
        "if": {"required": ["records"], "not": {"required": ["id"]}},
        "then": {
            "type": "object",
            "properties": {"records": {"type": "array", "items": {"$ref": "#/definitions/record"}}},
            "additionalProperties": false,
        },
        "else": {"$ref": "#/definitions/record"},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// A YAML value of type `ty` that the parser accepts.
    fn valid(ty: Ty) -> String {
        match ty {
            Ty::Text => "some text".into(),
            Ty::Id => "ID-1".into(),
            Ty::Date => "2026-03-14".into(),
            Ty::Interval => "6 months".into(),
            Ty::Size => "2 MiB".into(),
            Ty::Count => "12".into(),
            Ty::OneOf(words) => words[0].into(),
            Ty::VersionScheme => "integer".into(),
            Ty::TextList => "[a, b]".into(),
            Ty::MapOf(inner) => format!("{{x: {}}}", valid(*inner)),
            Ty::Object(fields) => format!("{{{}: {}}}", fields[0].key, valid(fields[0].ty)),
            Ty::ListOf(fields) => {
                // The required fields; a `tables` entry needs `files` or `kind`, the first.
                let mut entries: Vec<String> = fields
                    .iter()
                    .filter(|f| f.required)
                    .map(|f| format!("{}: {}", f.key, valid(f.ty)))
                    .collect();
                if entries.is_empty() {
                    entries.push(format!("{}: {}", fields[0].key, valid(fields[0].ty)));
                }
                format!("[{{{}}}]", entries.join(", "))
            }
            Ty::Levels => "{review-overdue: deny}".into(),
            Ty::Preset => crate::tabular::presets::names().next().unwrap().into(),
            Ty::Keep => "all".into(),
            Ty::Delimiter => "tab".into(),
        }
    }

    /// A YAML value of a type the parser refuses for `ty`.
    fn wrong(ty: Ty) -> &'static str {
        match ty {
            Ty::Text | Ty::Id | Ty::OneOf(_) | Ty::VersionScheme | Ty::Preset => "{a: 1}",
            Ty::Date | Ty::Interval | Ty::Size | Ty::Count | Ty::Delimiter => "[1, 2]",
            Ty::TextList | Ty::Keep => "{a: 1}",
            Ty::MapOf(_) | Ty::Object(_) | Ty::Levels => "[1, 2]",
            Ty::ListOf(_) => "{a: 1}",
        }
    }

    /// [`valid`], for the keys the parser checks beyond their type (a time zone must exist, a
    /// version must follow the scheme).
    fn valid_for(field: &Field) -> String {
        match field.key {
            "timezone" => "Europe/London".into(),
            "version" => "\"2.0\"".into(),
            "keys" => {
                let pair = ssh_key::private::Ed25519Keypair::from_seed(&[7; 32]);
                let line = ssh_key::PublicKey::from(pair.public)
                    .to_openssh()
                    .expect("an ed25519 key encodes");
                format!("[\"{line}\"]")
            }
            _ => valid(field.ty),
        }
    }

    fn sms_with(key: &str, value: &str) -> Vec<crate::diag::Diagnostic> {
        let mut text = String::new();
        for (k, v) in [
            ("organisation", "A"),
            ("scope", "B"),
            ("framework", "iso20000-1:2018"),
        ] {
            let framework = k == "framework" && key == "frameworks";
            if k != key && !framework {
                text.push_str(&format!("{k}: {v}\n"));
            }
        }
        text.push_str(&format!("{key}: {value}\n"));
        match crate::config::parse(Path::new("/sms"), &text) {
            Ok((_, diags)) => diags,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    /// Every key of every sms.yaml mapping, fed a value of its declared type, reads without a
    /// finding; fed a value of a wrong type, gives one. The schema and the parser agree.
    #[test]
    fn sms_keys_and_types_match_the_parser() {
        for field in SMS {
            let ok = sms_with(field.key, &valid_for(field));
            assert!(ok.is_empty(), "{}: {ok:?}", field.key);
            let bad = sms_with(field.key, wrong(field.ty));
            assert!(!bad.is_empty(), "{} accepts {}", field.key, wrong(field.ty));
        }
        for (parent, fields) in [
            ("history", HISTORY),
            ("limits", LIMITS),
            ("paths", PATHS),
            ("signatures", SIGNATURES),
            ("approval", APPROVAL),
        ] {
            for field in fields {
                let ok = sms_with(parent, &format!("{{{}: {}}}", field.key, valid_for(field)));
                assert!(ok.is_empty(), "{parent}.{}: {ok:?}", field.key);
                let bad = sms_with(parent, &format!("{{{}: {}}}", field.key, wrong(field.ty)));
                assert!(
                    !bad.is_empty(),
                    "{parent}.{} accepts a wrong type",
                    field.key
                );
            }
        }
        for (parent, fields, base) in [
            ("people", PEOPLE, &[("id", "p1")][..]),
            (
                "applicability",
                APPLICABILITY,
                &[("clause", "\"8.7.2\""), ("party", "X")],
            ),
            ("tables", TABLES, &[("kind", "incident")]),
            (
                "external",
                EXTERNAL,
                &[
                    ("kind", "incident"),
                    ("system", "ServiceNow"),
                    ("evidenced_by", "service-report"),
                ],
            ),
        ] {
            for field in fields {
                let entry = |v: &str| {
                    let mut pairs: Vec<String> = base
                        .iter()
                        .filter(|(k, _)| *k != field.key)
                        .map(|(k, v)| format!("{k}: {v}"))
                        .collect();
                    pairs.push(format!("{}: {v}", field.key));
                    format!("[{{{}}}]", pairs.join(", "))
                };
                let ok = sms_with(parent, &entry(&valid_for(field)));
                assert!(ok.is_empty(), "{parent}[].{}: {ok:?}", field.key);
                let bad = sms_with(parent, &entry(wrong(field.ty)));
                assert!(
                    !bad.is_empty(),
                    "{parent}[].{} accepts a wrong type",
                    field.key
                );
            }
        }
        // Every word the schema offers is one the parser takes.
        for word in VERSION_SCHEMES {
            assert!(sms_with("version_scheme", word).is_empty(), "{word}");
        }
        assert!(!sms_with("version_scheme", "semver").is_empty());
        for level in LEVELS {
            let rules = format!("{{review-overdue: {level}}}");
            assert!(sms_with("rules", &rules).is_empty(), "{level}");
        }
        for preset in crate::tabular::presets::names() {
            let tables = format!("[{{kind: incident, preset: {preset}}}]");
            assert!(sms_with("tables", &tables).is_empty(), "{preset}");
        }
        // A key the schema does not name is refused.
        assert_eq!(sms_with("colour", "blue")[0].code, "config-unknown-key");
    }

    fn document_with(key: &str, value: &str) -> Vec<crate::diag::Diagnostic> {
        let config = crate::config::parse(
            Path::new("/sms"),
            "organisation: A\nscope: B\nframework: iso20000-1:2018\n",
        )
        .unwrap()
        .0;
        let mut lines: Vec<String> = [
            ("id", "POL-A"),
            ("title", "A"),
            ("type", "policy"),
            ("owner", "x"),
            ("approver", "y"),
            ("version", "\"1.0\""),
            ("status", "approved"),
            ("approved", "2026-01-05"),
        ]
        .iter()
        .filter(|(k, _)| *k != key)
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
        lines.push(format!("{key}: {value}"));
        let text = format!("---\n{}\n---\n# A\n", lines.join("\n"));
        let mut diags = Vec::new();
        crate::source::parse_document(&config, "policies/a.md", &text, &mut diags);
        diags
    }

    /// The same for document frontmatter: each field with a value of its type reads cleanly,
    /// with a value of a wrong type gives a finding; a field the schema does not name is kept.
    #[test]
    fn frontmatter_keys_and_types_match_the_parser() {
        for field in FRONTMATTER {
            if field.key == "controls" {
                // read and checked by `crate::soa`, not while parsing (tests/testsuite/soa.rs)
                continue;
            }
            let value = match field.ty {
                // the approved status needs its approval date, which the base has
                Ty::OneOf(words) if field.key == "status" => words[2].to_string(),
                _ => valid_for(field),
            };
            let ok = document_with(field.key, &value);
            assert!(ok.is_empty(), "{}: {ok:?}", field.key);
            let bad = document_with(field.key, wrong(field.ty));
            assert!(!bad.is_empty(), "{} accepts a wrong type", field.key);
        }
        for word in crate::source::STATUSES
            .iter()
            .chain(crate::source::DOCUMENT_TYPES)
        {
            let key = if crate::source::STATUSES.contains(word) {
                "status"
            } else {
                "type"
            };
            assert!(document_with(key, word).is_empty(), "{key}: {word}");
        }
        assert!(document_with("classification", "internal").is_empty());
        assert_eq!(
            document_with("verison", "\"1.0\"")[0].code,
            "field-name-typo"
        );
    }

    fn record_with(key: &str, value: Option<&str>) -> Vec<crate::diag::Diagnostic> {
        let config = crate::config::parse(
            Path::new("/sms"),
            "organisation: A\nscope: B\nframework: iso20000-1:2018\n",
        )
        .unwrap()
        .0;
        let mut lines: Vec<String> = [
            ("id", "REC-1"),
            ("kind", "improvement"),
            ("date", "2026-01-05"),
            ("title", "T"),
        ]
        .iter()
        .filter(|(k, _)| *k != key)
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
        if let Some(v) = value {
            lines.push(format!("{key}: {v}"));
        }
        let mut diags = Vec::new();
        crate::source::parse_records(
            &config,
            "records/improvement/a.yaml",
            &lines.join("\n"),
            &mut diags,
        );
        diags
    }

    /// And for records: each common field of its type reads cleanly, of a wrong type or (when
    /// required) missing gives a finding.
    #[test]
    fn record_fields_match_the_parser() {
        for field in RECORD {
            let ok = record_with(field.key, Some(&valid_for(field)));
            assert!(ok.is_empty(), "{}: {ok:?}", field.key);
            let bad = record_with(field.key, Some(wrong(field.ty)));
            assert!(!bad.is_empty(), "{} accepts a wrong type", field.key);
            if field.required {
                assert!(!record_with(field.key, None).is_empty(), "{}", field.key);
            }
        }
    }
}
