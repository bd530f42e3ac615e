//! Clause catalogues (frameworks) -> [`Catalog`]: the clause tree, the named documents and record
//! kinds each clause demands. Catalogues are data, not code: the built-in ones ([`BUILTINS`]:
//! ISO/IEC 20000-1:2018 and :2011, ISO/IEC 27001:2022, ISO 9001:2015) are YAML files embedded in
//! the binary; an SMS may add its own files under `frameworks/` with the same schema. Mappings
//! between clauses of two frameworks ([`mapping`]) are data files too.

use crate::dates::Interval;
use crate::diag::Diagnostic;
use crate::fields::Reader;
use crate::yaml::{self, Node, Pos};
use anyhow::{anyhow, bail, Result};
use std::collections::{BTreeMap, HashMap};

mod combine;
pub use combine::{combine, split_qualified, Framework};

mod builtin;
pub mod mapping;

pub use builtin::{Builtin, BUILTINS, BUILTIN_MAPPINGS};
pub use mapping::{Mapping, Pair, Relation};

/// The default framework: what `framework:` means when sms.yaml names none.
pub const BUILTIN_ID: &str = "iso20000-1:2018";
pub const BUILTIN_SOURCE: &str = include_str!("catalog/iso20000-1-2018.yaml");

/// The record kind of a periodic review that changes nothing; every catalogue has it.
pub const DOCUMENT_REVIEW: &str = "document-review";

#[derive(Debug, Clone)]
pub struct Catalog {
    pub id: String,
    pub title: String,
    pub exclusions_allowed: bool,
    pub clauses: Vec<Clause>,
    pub documents: Vec<NamedDocument>,
    pub record_kinds: Vec<RecordKind>,
    pub superseded: BTreeMap<String, Vec<String>>,
    /// SHA-256 of the catalogue's source text, for the manifest.
    pub hash: String,
    /// The frameworks combined in this catalogue, primary first (one for a parsed file); see
    /// [`combine`]. Clause ids of the primary are plain, the others' are `<framework>:<id>`.
    pub frameworks: Vec<Framework>,
    index: HashMap<String, usize>,
    /// Indexes rebuilt by `combine::reindex`: record kinds and named documents by id, and the
    /// clauses of every framework by their unqualified id (for suggestions).
    kind_index: HashMap<String, usize>,
    document_index: HashMap<String, usize>,
    local_index: HashMap<String, Vec<usize>>,
    /// Under `--framework`: the framework kept ([`Catalog::restrict`]), and the ids of the other
    /// frameworks' clauses and named documents, known but neither checked nor shown.
    pub focus: Option<usize>,
    elsewhere: std::collections::HashSet<String>,
    /// The mappings between the loaded frameworks (built in, and the SMS's `mappings/`): shown
    /// as "related, see …", never coverage. Clause ids in them are unqualified, per framework.
    pub mappings: Vec<Mapping>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    Heading,
    Documents,
    Records,
    DocumentsAndRecords,
}

impl Evidence {
    pub fn needs_documents(self) -> bool {
        matches!(self, Evidence::Documents | Evidence::DocumentsAndRecords)
    }
    pub fn needs_records(self) -> bool {
        matches!(self, Evidence::Records | Evidence::DocumentsAndRecords)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::Heading => "heading",
            Evidence::Documents => "documents",
            Evidence::Records => "records",
            Evidence::DocumentsAndRecords => "documents+records",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Clause {
    pub id: String,
    pub title: String,
    pub parent: Option<String>,
    pub summary: String,
    pub evidence: Evidence,
    pub expand: bool,
    pub documents: Vec<String>,
    pub records: Vec<String>,
    pub delegable: bool,
    /// Words and phrases (besides the title) that suggest a text addresses the clause; only
    /// `auditbook adopt` reads them, to guess the clauses of existing documents.
    pub keywords: Vec<String>,
    /// May the SMS declare this clause not applicable (ISO/IEC 27001 Annex A controls in the
    /// Statement of Applicability, ISO 9001 clause 8 requirements that cannot apply)? Defaults to
    /// the catalogue's `exclusions_allowed`.
    pub excludable: bool,
    pub children: Vec<String>,
    /// Index into [`Catalog::frameworks`].
    pub framework: usize,
}

impl Clause {
    /// A requirement clause: a leaf that asks for evidence. Headings and introductory clauses
    /// (evidence `heading`) are not; every coverage count (CLI, JSON, site, bundle) counts these.
    pub fn is_requirement(&self) -> bool {
        self.children.is_empty() && self.evidence != Evidence::Heading
    }
    pub fn is_top_level(&self) -> bool {
        self.parent.is_none()
    }
    pub fn depth(&self) -> usize {
        self.id.matches('.').count()
    }
}

#[derive(Debug, Clone)]
pub struct NamedDocument {
    pub id: String,
    pub title: String,
    pub clauses: Vec<String>,
    pub approver_role: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RecordKind {
    pub id: String,
    pub title: String,
    pub clauses: Vec<String>,
    pub required: Vec<String>,
    pub dates: Vec<String>,
    pub fresh_within: Option<Interval>,
    pub open_statuses: Vec<String>,
    pub due_field: Option<String>,
    pub backdating_tolerance: Option<Interval>,
    pub retention: Option<Interval>,
    /// What a record of this kind must consider (the inputs of a management review); empty for
    /// most kinds. See [`crate::review`].
    pub inputs: Vec<ReviewInput>,
}

/// One input a review must consider (catalogue `record_kinds[].inputs`), with where auditbook
/// looks for its evidence in the reviewed period. Serialised as is by `clauses --kinds --format
/// json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReviewInput {
    pub id: String,
    pub title: String,
    /// Our own one-line description of what the review looks at.
    pub summary: String,
    /// Record kinds whose records dated within the reviewed period are evidence for it.
    pub records: Vec<String>,
    /// Clauses whose effective documents (citing the clause or one below it) are evidence.
    pub clauses: Vec<String>,
}

impl Catalog {
    /// A clause by id: plain ids are the primary framework's (also written qualified), others
    /// are `<framework>:<id>`. The clause's own `id` is the canonical spelling.
    pub fn clause(&self, id: &str) -> Option<&Clause> {
        self.clause_index(id).map(|i| &self.clauses[i])
    }

    pub fn clause_index(&self, id: &str) -> Option<usize> {
        if let Some(&i) = self.index.get(id) {
            return Some(i);
        }
        let local = id.strip_prefix(self.id.as_str())?.strip_prefix(':')?;
        self.index.get(local).copied()
    }

    pub fn record_kind(&self, id: &str) -> Option<&RecordKind> {
        self.kind_index.get(id).map(|&i| &self.record_kinds[i])
    }

    /// A named document by id, qualified like a clause id.
    pub fn named_document(&self, id: &str) -> Option<&NamedDocument> {
        let i = self.document_index.get(id).copied().or_else(|| {
            let local = id.strip_prefix(self.id.as_str())?.strip_prefix(':')?;
            self.document_index.get(local).copied()
        })?;
        Some(&self.documents[i])
    }

    /// The framework a clause belongs to.
    pub fn framework_of(&self, clause: &Clause) -> &Framework {
        &self.frameworks[clause.framework]
    }

    /// The leaf clauses a citation of `id` covers: itself for a leaf; its descendants when it is
    /// a parent marked `expand`; nothing for a top-level clause or a plain heading.
    pub fn covered_by_citation(&self, id: &str) -> Vec<&Clause> {
        let Some(c) = self.clause(id) else {
            return Vec::new();
        };
        if c.is_top_level() {
            return Vec::new();
        }
        if c.children.is_empty() {
            return vec![c];
        }
        if !c.expand {
            return Vec::new();
        }
        let mut out = Vec::new();
        for child in &c.children {
            out.extend(self.covered_by_citation_expanded(child));
        }
        out
    }

    fn covered_by_citation_expanded(&self, id: &str) -> Vec<&Clause> {
        let Some(c) = self.clause(id) else {
            return Vec::new();
        };
        if c.children.is_empty() {
            return vec![c];
        }
        c.children
            .iter()
            .flat_map(|ch| self.covered_by_citation_expanded(ch))
            .collect()
    }

    /// Suggest what an unknown clause id was meant to be.
    pub fn suggest_clause(&self, id: &str) -> Option<String> {
        if self.frameworks.len() > 1 || split_qualified(id).is_some() {
            return self.suggest_qualified(id);
        }
        if let Some(successors) = self.superseded.get(id) {
            return Some(format!(
                "`{id}` is a clause of the previous edition; in {} it became {}",
                self.id,
                successors
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        crate::ids::closest(id, self.clauses.iter().map(|c| c.id.as_str()), 1)
            .map(|s| format!("did you mean `{s}`?"))
    }
}

/// The built-in ISO/IEC 20000-1:2018 catalogue (the default framework).
pub fn builtin() -> Result<Catalog> {
    parse_builtin(BUILTIN_ID, BUILTIN_SOURCE)
}

/// The built-in catalogue with this id (`iso27001:2022`…), or `None` when no built-in has it.
pub fn builtin_by_id(id: &str) -> Option<Result<Catalog>> {
    builtin::lookup(id).map(|b| parse_builtin(b.id, b.source))
}

/// The YAML source of the built-in catalogue with this id (to hash or ship it).
pub fn builtin_source(id: &str) -> Option<&'static str> {
    builtin::lookup(id).map(|b| b.source)
}

/// The ids of the built-in catalogues, in [`BUILTINS`] order.
pub fn builtin_ids() -> Vec<&'static str> {
    BUILTINS.iter().map(|b| b.id).collect()
}

/// Every built-in catalogue, in [`BUILTINS`] order.
pub fn builtins() -> Result<Vec<Catalog>> {
    BUILTINS
        .iter()
        .map(|b| parse_builtin(b.id, b.source))
        .collect()
}

/// The built-in mappings, validated against the built-in catalogues.
pub fn builtin_mappings() -> Result<Vec<Mapping>> {
    let catalogs = builtins()?;
    let refs: Vec<&Catalog> = catalogs.iter().collect();
    let mut out = Vec::new();
    for (name, text) in BUILTIN_MAPPINGS {
        let path = format!("<built-in mappings/{name}>");
        let mut diags = Vec::new();
        let m = mapping::parse(text, &path, &refs, &mut diags);
        if let Some(d) = diags.first() {
            bail!(
                "the built-in mapping {name} is invalid (a bug in auditbook): line {}: {}",
                d.pos.map_or(0, |p| p.line),
                d.message
            );
        }
        out.push(m.ok_or_else(|| {
            anyhow!("the built-in mapping {name} could not be read (a bug in auditbook)")
        })?);
    }
    Ok(out)
}

fn parse_builtin(id: &str, source: &str) -> Result<Catalog> {
    let mut diags = Vec::new();
    let cat = parse(source, &format!("<built-in {id}>"), &mut diags);
    if let Some(d) = diags.first() {
        bail!(
            "the built-in catalogue {id} is invalid (a bug in auditbook): line {}: {}",
            d.pos.map_or(0, |p| p.line),
            d.message
        );
    }
    let cat = cat.ok_or_else(|| {
        anyhow!("the built-in catalogue {id} could not be read (a bug in auditbook)")
    })?;
    if cat.id != id {
        bail!(
            "the built-in catalogue {id} calls itself {} (a bug in auditbook)",
            cat.id
        );
    }
    Ok(cat)
}

/// Parse a catalogue; problems are `framework-invalid` findings at `path`. `None` when the file
/// cannot be used at all.
pub fn parse(text: &str, path: &str, diags: &mut Vec<Diagnostic>) -> Option<Catalog> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let bad = |diags: &mut Vec<Diagnostic>, pos: Pos, msg: String| {
        diags.push(Diagnostic::new("framework-invalid", path.to_string(), msg).at(path, pos));
    };
    let root = match yaml::parse(text, yaml::Limits::default()) {
        Ok(Some(n)) => n,
        Ok(None) => {
            bad(diags, Pos::new(1, 1), "the framework file is empty".into());
            return None;
        }
        Err(e) => {
            bad(diags, e.pos, e.message);
            return None;
        }
    };
    if root.as_map().is_none() {
        bad(
            diags,
            root.pos,
            format!("a framework is a mapping, found {}", root.describe()),
        );
        return None;
    }
    let before = diags.len();
    let mut sub = Vec::new();
    let mut r = Reader::new(path, path, &mut sub);
    let known = [
        "id",
        "title",
        "exclusions_allowed",
        "clauses",
        "documents",
        "record_kinds",
        "superseded",
    ];
    for (k, _) in root.as_map().unwrap_or_default() {
        let k_text = k.as_scalar().unwrap_or("");
        if !known.contains(&k_text) {
            r.invalid(
                k,
                k_text,
                format!("unknown key `{k_text}`; known keys: {}", known.join(", ")),
            );
        }
    }
    let id = root.get("id").and_then(|n| r.text(n, "id")).map(|t| t.text);
    let title = root
        .get("title")
        .and_then(|n| r.text(n, "title"))
        .map(|t| t.text);
    let exclusions_allowed = root
        .get("exclusions_allowed")
        .and_then(|n| r.boolean(n, "exclusions_allowed"))
        .unwrap_or(false);

    let mut clauses: Vec<Clause> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for item in root
        .get("clauses")
        .and_then(Node::as_seq)
        .unwrap_or_default()
    {
        if let Some(c) = read_clause(&mut r, item, exclusions_allowed) {
            if index.contains_key(&c.id) {
                r.invalid(
                    item,
                    "clauses",
                    format!("clause `{}` is defined twice", c.id),
                );
                continue;
            }
            if let Some(p) = &c.parent {
                match index.get(p) {
                    Some(&pi) => clauses[pi].children.push(c.id.clone()),
                    None => {
                        r.invalid(
                            item,
                            "parent",
                            format!("parent `{p}` of `{}` is not defined before it", c.id),
                        );
                        continue;
                    }
                }
            }
            index.insert(c.id.clone(), clauses.len());
            clauses.push(c);
        }
    }
    if clauses.is_empty() {
        r.invalid(
            &root,
            "clauses",
            "a framework needs a non-empty `clauses` list".into(),
        );
    }

    let mut documents = Vec::new();
    for item in root
        .get("documents")
        .and_then(Node::as_seq)
        .unwrap_or_default()
    {
        let Some(id) = item.get("id").and_then(|n| r.text(n, "id")) else {
            r.invalid(
                item,
                "documents",
                "each named document needs an `id`".into(),
            );
            continue;
        };
        documents.push(NamedDocument {
            title: item
                .get("title")
                .and_then(|n| r.text(n, "title"))
                .map_or(id.text.clone(), |t| t.text),
            clauses: item
                .get("clauses")
                .map(|n| texts(&mut r, n, "clauses"))
                .unwrap_or_default(),
            approver_role: item
                .get("approver_role")
                .and_then(|n| r.text(n, "approver_role"))
                .map(|t| t.text),
            id: id.text,
        });
    }

    let mut record_kinds = Vec::new();
    for item in root
        .get("record_kinds")
        .and_then(Node::as_seq)
        .unwrap_or_default()
    {
        let Some(id) = item.get("id").and_then(|n| r.text(n, "id")) else {
            r.invalid(
                item,
                "record_kinds",
                "each record kind needs an `id`".into(),
            );
            continue;
        };
        let list = |r: &mut Reader<'_>, key: &str| {
            item.get(key).map(|n| texts(r, n, key)).unwrap_or_default()
        };
        record_kinds.push(RecordKind {
            title: item
                .get("title")
                .and_then(|n| r.text(n, "title"))
                .map_or(id.text.clone(), |t| t.text),
            clauses: list(&mut r, "clauses"),
            required: list(&mut r, "required"),
            dates: list(&mut r, "dates"),
            fresh_within: item
                .get("fresh_within")
                .and_then(|n| r.interval(n, "fresh_within")),
            open_statuses: list(&mut r, "open_statuses"),
            due_field: item
                .get("due_field")
                .and_then(|n| r.text(n, "due_field"))
                .map(|t| t.text),
            backdating_tolerance: item
                .get("backdating_tolerance")
                .and_then(|n| r.interval(n, "backdating_tolerance")),
            retention: item
                .get("retention")
                .and_then(|n| r.interval(n, "retention")),
            inputs: item
                .get("inputs")
                .map(|n| read_inputs(&mut r, n))
                .unwrap_or_default(),
            id: id.text,
        });
    }
    if !record_kinds.iter().any(|k| k.id == DOCUMENT_REVIEW) {
        record_kinds.push(RecordKind {
            id: DOCUMENT_REVIEW.into(),
            title: "Document review".into(),
            clauses: Vec::new(),
            required: vec!["document".into(), "reviewer".into(), "outcome".into()],
            dates: Vec::new(),
            fresh_within: None,
            open_statuses: Vec::new(),
            due_field: None,
            backdating_tolerance: None,
            retention: None,
            inputs: Vec::new(),
        });
    }

    let mut superseded = BTreeMap::new();
    if let Some(entries) = root.get("superseded").and_then(Node::as_map) {
        for (k, v) in entries {
            if let Some(old) = k.as_scalar() {
                superseded.insert(old.to_string(), texts(&mut r, v, "superseded"));
            }
        }
    }

    // Cross-references must resolve.
    let clause_ok = |id: &str| index.contains_key(id);
    for c in &clauses {
        for d in &c.documents {
            if !documents.iter().any(|n: &NamedDocument| &n.id == d) {
                sub.push(
                    Diagnostic::new(
                        "framework-invalid",
                        path.to_string(),
                        format!(
                            "clause `{}` demands document `{d}`, which is not in `documents`",
                            c.id
                        ),
                    )
                    .in_file(path),
                );
            }
        }
        for k in &c.records {
            if !record_kinds.iter().any(|rk: &RecordKind| &rk.id == k) {
                sub.push(
                    Diagnostic::new(
                        "framework-invalid",
                        path.to_string(),
                        format!(
                            "clause `{}` demands record kind `{k}`, which is not in `record_kinds`",
                            c.id
                        ),
                    )
                    .in_file(path),
                );
            }
        }
    }
    for (owner, list) in documents
        .iter()
        .map(|d| (&d.id, &d.clauses))
        .chain(record_kinds.iter().map(|k| (&k.id, &k.clauses)))
    {
        for c in list {
            if !clause_ok(c) {
                sub.push(
                    Diagnostic::new(
                        "framework-invalid",
                        path.to_string(),
                        format!("`{owner}` names clause `{c}`, which is not in the clause tree"),
                    )
                    .in_file(path),
                );
            }
        }
    }
    for k in &record_kinds {
        for input in &k.inputs {
            for kind in &input.records {
                if !record_kinds.iter().any(|rk| &rk.id == kind) {
                    sub.push(
                        Diagnostic::new(
                            "framework-invalid",
                            path.to_string(),
                            format!(
                                "input `{}` of `{}` names record kind `{kind}`, which is not in `record_kinds`",
                                input.id, k.id
                            ),
                        )
                        .in_file(path),
                    );
                }
            }
            for c in &input.clauses {
                if !clause_ok(c) {
                    sub.push(
                        Diagnostic::new(
                            "framework-invalid",
                            path.to_string(),
                            format!(
                                "input `{}` of `{}` names clause `{c}`, which is not in the clause tree",
                                input.id, k.id
                            ),
                        )
                        .in_file(path),
                    );
                }
            }
        }
    }
    // Every finding from this file is `framework-invalid`, whatever the reader called it.
    for mut d in sub {
        d.code = "framework-invalid";
        d.subject = path.to_string();
        diags.push(d);
    }
    let (Some(id), Some(title)) = (id, title) else {
        bad(diags, root.pos, "a framework needs `id` and `title`".into());
        return None;
    };
    if diags.len() > before || clauses.is_empty() {
        return None;
    }
    use sha2::{Digest, Sha256};
    let hash: String = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut catalog = Catalog {
        frameworks: vec![Framework {
            id: id.clone(),
            title: title.clone(),
            hash: hash.clone(),
            exclusions_allowed,
        }],
        id,
        title,
        exclusions_allowed,
        clauses,
        documents,
        record_kinds,
        superseded,
        hash,
        index,
        kind_index: HashMap::new(),
        document_index: HashMap::new(),
        local_index: HashMap::new(),
        focus: None,
        mappings: Vec::new(),
        elsewhere: Default::default(),
    };
    catalog.reindex();
    Some(catalog)
}

/// A record kind's `inputs:` list: each `{id, title, summary, records, clauses}`, ids unique and
/// valid.
fn read_inputs(r: &mut Reader<'_>, node: &Node) -> Vec<ReviewInput> {
    let Some(items) = node.as_seq() else {
        r.invalid(
            node,
            "inputs",
            format!("`inputs` must be a list, found {}", node.describe()),
        );
        return Vec::new();
    };
    let mut out: Vec<ReviewInput> = Vec::new();
    for item in items {
        let Some(id) = item.get("id").and_then(|n| r.text(n, "id")) else {
            r.invalid(item, "inputs", "each input needs an `id`".into());
            continue;
        };
        if let Some(why) = crate::ids::invalid_reason(&id.text) {
            r.invalid(item, "inputs", format!("input id `{}`: {why}", id.text));
            continue;
        }
        if out.iter().any(|i| i.id == id.text) {
            r.invalid(
                item,
                "inputs",
                format!("input `{}` is listed twice", id.text),
            );
            continue;
        }
        let text = |r: &mut Reader<'_>, key: &str| {
            item.get(key)
                .and_then(|n| r.text(n, key))
                .map(|t| t.text)
                .unwrap_or_default()
        };
        let list = |r: &mut Reader<'_>, key: &str| {
            item.get(key).map(|n| texts(r, n, key)).unwrap_or_default()
        };
        let title = text(r, "title");
        out.push(ReviewInput {
            title: if title.is_empty() {
                id.text.clone()
            } else {
                title
            },
            summary: text(r, "summary"),
            records: list(r, "records"),
            clauses: list(r, "clauses"),
            id: id.text,
        });
    }
    out
}

fn texts(r: &mut Reader<'_>, node: &Node, key: &str) -> Vec<String> {
    r.list(node, key).into_iter().map(|(t, _)| t.text).collect()
}

fn read_clause(r: &mut Reader<'_>, item: &Node, exclusions_allowed: bool) -> Option<Clause> {
    let known = [
        "id",
        "title",
        "parent",
        "summary",
        "evidence",
        "expand",
        "documents",
        "records",
        "delegable",
        "excludable",
        "keywords",
    ];
    let Some(entries) = item.as_map() else {
        r.invalid(item, "clauses", "each clause is a mapping".into());
        return None;
    };
    for (k, _) in entries {
        let k_text = k.as_scalar().unwrap_or("");
        if !known.contains(&k_text) {
            r.invalid(
                k,
                k_text,
                format!(
                    "unknown clause key `{k_text}`; known keys: {}",
                    known.join(", ")
                ),
            );
        }
    }
    let id_node = item.get("id")?;
    if id_node.is_plain_number() {
        r.invalid(
            id_node,
            "id",
            format!(
                "clause id `{}` must be quoted",
                id_node.as_scalar().unwrap_or("")
            ),
        );
    }
    let id = r.text(id_node, "id")?.text;
    let title = item.get("title").and_then(|n| r.text(n, "title"))?.text;
    let parent = match item.get("parent") {
        Some(n) if !n.is_null() => Some(r.text(n, "parent")?.text),
        _ => None,
    };
    let evidence = match item.get("evidence").and_then(Node::as_scalar) {
        None | Some("documents") => Evidence::Documents,
        Some("heading") => Evidence::Heading,
        Some("records") => Evidence::Records,
        Some("documents+records") => Evidence::DocumentsAndRecords,
        Some(other) => {
            r.invalid(
                item,
                "evidence",
                format!(
                    "evidence `{other}` must be heading, documents, records or documents+records"
                ),
            );
            Evidence::Documents
        }
    };
    let excludable = match item.get("excludable") {
        Some(n) => match r.boolean(n, "excludable") {
            Some(true) if !exclusions_allowed => {
                r.invalid(
                    n,
                    "excludable",
                    format!("clause `{id}` is `excludable`, but the framework has `exclusions_allowed: false`"),
                );
                false
            }
            Some(b) => b,
            None => exclusions_allowed,
        },
        None => exclusions_allowed,
    };
    Some(Clause {
        excludable,
        summary: item
            .get("summary")
            .and_then(|n| r.text(n, "summary"))
            .map(|t| t.text)
            .unwrap_or_default(),
        evidence,
        expand: item
            .get("expand")
            .and_then(|n| r.boolean(n, "expand"))
            .unwrap_or(false),
        documents: item
            .get("documents")
            .map(|n| texts(r, n, "documents"))
            .unwrap_or_default(),
        records: item
            .get("records")
            .map(|n| texts(r, n, "records"))
            .unwrap_or_default(),
        delegable: item
            .get("delegable")
            .and_then(|n| r.boolean(n, "delegable"))
            .unwrap_or(true),
        keywords: item
            .get("keywords")
            .map(|n| texts(r, n, "keywords"))
            .unwrap_or_default(),
        children: Vec::new(),
        framework: 0,
        id,
        title,
        parent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_is_complete() {
        let c = builtin().unwrap();
        assert_eq!(c.clauses.len(), 77);
        assert_eq!(c.documents.len(), 14);
        assert!(c.record_kind("incident").is_some());
        assert!(c.record_kind(DOCUMENT_REVIEW).is_some());
        // every clause with children is a heading; every leaf demands something or is explanatory
        for cl in &c.clauses {
            if !cl.children.is_empty() {
                assert_eq!(cl.evidence, Evidence::Heading, "{}", cl.id);
            }
            assert!(!cl.summary.is_empty(), "{}", cl.id);
        }
    }

    #[test]
    fn expand_covers_children_and_top_level_covers_nothing() {
        let c = builtin().unwrap();
        let ids = |v: Vec<&Clause>| v.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        assert_eq!(
            ids(c.covered_by_citation("8.5.1")),
            ["8.5.1.1", "8.5.1.2", "8.5.1.3"]
        );
        assert!(c.covered_by_citation("8").is_empty());
        assert!(c.covered_by_citation("8.2").is_empty());
        assert_eq!(ids(c.covered_by_citation("9.3")), ["9.3"]);
    }

    #[test]
    fn previous_edition_ids_name_their_successor() {
        let c = builtin().unwrap();
        let s = c.suggest_clause("4.5.4.3").unwrap();
        assert!(s.contains("9.3"), "{s}");
        assert!(c.suggest_clause("8.5.12").unwrap().contains("did you mean"));
    }

    #[test]
    fn excludable_defaults_to_the_framework_and_needs_exclusions_allowed() {
        let clause = |extra: &str| {
            format!("  - id: \"4\"\n    title: A\n    parent: null\n    summary: S.\n{extra}")
        };
        let mut d = Vec::new();
        let text = format!(
            "id: x\ntitle: X\nexclusions_allowed: true\nclauses:\n{}{}",
            clause(""),
            clause("    excludable: false\n").replace("\"4\"", "\"5\"")
        );
        let c = parse(&text, "frameworks/x.yaml", &mut d).unwrap();
        assert!(d.is_empty(), "{d:?}");
        assert!(c.clause("4").unwrap().excludable);
        assert!(!c.clause("5").unwrap().excludable);

        let text = format!(
            "id: x\ntitle: X\nclauses:\n{}",
            clause("    excludable: true\n")
        );
        assert!(parse(&text, "frameworks/x.yaml", &mut d).is_none());
        assert_eq!(d[0].code, "framework-invalid");
        assert_eq!(d[0].pos.unwrap().line, 8);
        assert!(
            d[0].message.contains("exclusions_allowed: false"),
            "{}",
            d[0].message
        );
    }

    #[test]
    fn invalid_framework_gives_located_findings() {
        let mut d = Vec::new();
        let text = "id: x\ntitle: X\nclauses:\n  - id: \"1\"\n    title: A\n    parent: \"9\"\n";
        assert!(parse(text, "frameworks/x.yaml", &mut d).is_none());
        assert_eq!(d[0].code, "framework-invalid");
        assert_eq!(d[0].pos.unwrap().line, 4);
    }

    #[test]
    fn the_management_review_kind_lists_its_inputs_and_where_their_evidence_is() {
        let c = builtin().unwrap();
        let k = c.record_kind("management-review").unwrap();
        assert_eq!(k.inputs.len(), 12);
        let audit = k.inputs.iter().find(|i| i.id == "audit-results").unwrap();
        assert!(audit.records.contains(&"internal-audit".to_string()));
        for i in &k.inputs {
            assert!(!i.summary.is_empty() && i.title != i.id, "{}", i.id);
        }
    }

    #[test]
    fn review_inputs_must_name_known_kinds_and_clauses() {
        let text = "id: x\ntitle: X\nclauses:\n  - id: \"1\"\n    title: A\n    evidence: documents\nrecord_kinds:\n  - id: mr\n    inputs:\n      - {id: audits, records: [audit]}\n      - {id: context, clauses: [\"2\"]}\n      - {id: audits}\n";
        let mut d = Vec::new();
        assert!(parse(text, "frameworks/x.yaml", &mut d).is_none());
        let messages: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
        assert!(
            messages
                .iter()
                .any(|m| m.contains("names record kind `audit`")),
            "{messages:?}"
        );
        assert!(
            messages.iter().any(|m| m.contains("names clause `2`")),
            "{messages:?}"
        );
        assert!(
            messages.iter().any(|m| m.contains("listed twice")),
            "{messages:?}"
        );
    }
}
