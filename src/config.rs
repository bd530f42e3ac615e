//! `sms.yaml` -> [`Config`]: the identity and settings of the SMS, with defaults applied.
//!
//! The file marks the SMS root. A missing or unreadable file, or YAML that cannot be read at all,
//! stops the tool (exit 2). Everything else — an unknown key, a wrong type — is a finding at the
//! key's line and column, and the default is used so the run can go on.

use crate::dates::Interval;
use crate::diag::{Diagnostic, Severity};
use crate::fields::{parse_size, Reader};
use crate::schema;
use crate::yaml::{self, Node, Pos};
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "sms.yaml";

/// sms.yaml is small; anything larger is refused before reading.
const MAX_CONFIG_SIZE: u64 = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Config {
    /// The SMS root folder (holds sms.yaml).
    pub root: PathBuf,
    pub organisation: String,
    pub scope: String,
    /// Where the scope text starts in sms.yaml (1:1 when it is missing).
    pub scope_pos: Pos,
    /// The primary framework (`frameworks[0]`): plain clause ids are its clauses.
    pub framework: String,
    /// Every framework checked, primary first (`frameworks:`, or `framework:` as a one-item list).
    pub frameworks: Vec<String>,
    pub review_interval: Interval,
    pub timezone: Option<String>,
    pub version_scheme: VersionScheme,
    pub auditbook: Option<String>,
    pub people: Vec<Person>,
    /// Freshness overrides per record kind.
    pub intervals: BTreeMap<String, Interval>,
    /// Severity overrides per finding code; `None` turns the code off.
    pub rules: BTreeMap<String, Option<Severity>>,
    pub applicability: Vec<Applicability>,
    /// Record kinds held in another system (`external:`), in file order.
    pub external: Vec<ExternalKind>,
    pub history: HistorySettings,
    /// `audit_programme.cycle`: how far back a completed internal audit covers its clauses
    /// (`None`: the default, [`crate::rules::AUDIT_CYCLE`]).
    pub audit_cycle: Option<Interval>,
    pub limits: Limits,
    pub paths: Paths,
    /// Column mappings of tabular record files (`tables:`), in file order.
    pub tables: Vec<TableSettings>,
    /// `signatures:`: where trusted signing keys are listed besides `people[].keys`.
    pub signatures: SignatureSettings,
    /// `approval:`: the approval evidence each document type needs.
    pub approval: ApprovalSettings,
    /// Every trusted signing key (`people[].keys` and the allowed-signers file).
    pub keyring: crate::keys::Keyring,
}

#[derive(Debug, Clone, Default)]
pub struct SignatureSettings {
    /// An allowed-signers file (git's `gpg.ssh.allowedSignersFile` format), SMS-relative.
    pub allowed_signers: Option<String>,
    pub pos: Pos,
    /// Armoured OpenPGP public keys (`gpg --export --armor`), SMS-relative.
    pub openpgp_keys: Option<String>,
    pub openpgp_pos: Pos,
}

/// How well an approval is evidenced in git, weakest first (README "Approval evidence").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ApprovalLevel {
    /// The frontmatter names the approver; nothing in git confirms it.
    Claimed,
    /// An approval trailer written by someone other than the authors of the change.
    Trailer,
    /// The landing commit, or an annotated tag on it, is signed by the approver's key.
    Signed,
}

impl ApprovalLevel {
    pub const WORDS: &'static [&'static str] = &["claimed", "trailer", "signed"];

    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalLevel::Claimed => "claimed",
            ApprovalLevel::Trailer => "trailer",
            ApprovalLevel::Signed => "signed",
        }
    }

    fn parse(word: &str) -> Option<ApprovalLevel> {
        [
            ApprovalLevel::Claimed,
            ApprovalLevel::Trailer,
            ApprovalLevel::Signed,
        ]
        .into_iter()
        .find(|l| l.as_str() == word)
    }
}

#[derive(Debug, Clone, Default)]
pub struct ApprovalSettings {
    /// The lowest level accepted for the effective version, by document type.
    pub require: BTreeMap<String, (ApprovalLevel, Pos)>,
}

impl ApprovalSettings {
    /// The level a document of this type needs (claimed when nothing is set).
    pub fn required(&self, doc_type: Option<&str>) -> ApprovalLevel {
        doc_type
            .and_then(|t| self.require.get(t))
            .map_or(ApprovalLevel::Claimed, |(l, _)| *l)
    }
}

/// One `tables:` entry: how the rows of some tabular record files become records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableSettings {
    /// A glob relative to the records folder (`incident/*.csv`); else the entry applies to the
    /// files of the folder `records/<kind>/`.
    pub files: Option<String>,
    /// The record kind of every row (default: the folder name).
    pub kind: Option<String>,
    pub preset: Option<String>,
    /// Field <- column, added to (and overriding) the preset's.
    pub fields: Vec<(String, String)>,
    /// Fields read as dates; replaces the preset's list.
    pub dates: Option<Vec<String>>,
    pub date_format: Option<String>,
    /// IANA zone of the export's date-times without an offset (default: the SMS's `timezone`).
    pub timezone: Option<String>,
    /// Other columns kept as fields under their own names; `None` = the default (all columns
    /// when nothing is mapped, none otherwise); `Some(None)` = `keep: all`.
    pub keep: Option<Option<Vec<String>>>,
    /// Fixed values given to every row (they win over columns).
    pub values: Vec<(String, String)>,
    pub delimiter: Option<u8>,
    /// Prefixed to every id (tools that number tickets 1, 2, 3… in each table).
    pub id_prefix: Option<String>,
    pub pos: Pos,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionScheme {
    Dotted,
    Integer,
    Free,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub role: Option<String>,
    pub emails: Vec<String>,
    /// OpenSSH public key lines of the keys this person signs commits and tags with.
    pub keys: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applicability {
    pub clause: String,
    pub party: String,
    pub agreement: Option<String>,
    pub review_kind: Option<String>,
    pub pos: Pos,
}

/// A record kind whose records live in another system (a service desk, an HR system): the
/// clauses that demand it are evidenced by the freshness of `evidenced_by`, a kind kept in git
/// (a monthly service report that summarises the desk), and the site says where the records are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalKind {
    pub kind: String,
    pub system: String,
    pub location: Option<String>,
    pub owner: Option<String>,
    pub evidenced_by: String,
    pub pos: Pos,
}

impl Config {
    /// The `external:` entry of a record kind, if it is held elsewhere.
    pub fn external_kind(&self, kind: &str) -> Option<&ExternalKind> {
        self.external.iter().find(|e| e.kind == kind)
    }
}

#[derive(Debug, Clone, Default)]
pub struct HistorySettings {
    pub baseline: Option<String>,
    pub backdating_tolerance: Option<Interval>,
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_file_size: u64,
    /// The sum of the sizes of the SMS files one output (the site, the bundle) copies.
    pub max_output_size: u64,
    /// The size limit of tabular record files (CSV, TSV, JSON lines, JSON), which are exports.
    pub max_table_size: u64,
    pub max_documents: usize,
    pub yaml: yaml::Limits,
    pub markdown: crate::markdown::Limits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: 10 * 1024 * 1024,
            max_output_size: 1024 * 1024 * 1024,
            max_table_size: 1024 * 1024 * 1024,
            max_documents: 100_000,
            yaml: yaml::Limits::default(),
            markdown: crate::markdown::Limits::default(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Paths {
    pub records: String,
    pub frameworks: String,
    /// Mapping files (`mappings/*.yaml`): clauses of two frameworks related, never coverage.
    pub mappings: String,
    pub templates: String,
    pub output: String,
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            records: "records".into(),
            frameworks: "frameworks".into(),
            mappings: "mappings".into(),
            templates: "templates".into(),
            output: "_site".into(),
        }
    }
}

impl Config {
    /// The size over which a file is not read: tabular record files have their own limit.
    pub fn max_size_for(&self, path: &str) -> u64 {
        if crate::snapshot::role(self, path) == crate::snapshot::Role::Record
            && crate::tabular::Format::of(path).is_some()
        {
            self.limits.max_table_size
        } else {
            self.limits.max_file_size
        }
    }

    /// A text that changes whenever the `tables:` mappings do (a key of the history cache).
    pub fn tables_key(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(format!("{:?}", self.tables).as_bytes());
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn person(&self, id: &str) -> Option<&Person> {
        self.people.iter().find(|p| p.id == id)
    }
}

/// Find the SMS root: `start` itself or the nearest ancestor holding sms.yaml.
pub fn discover(start: &Path) -> Result<PathBuf> {
    let start = start
        .canonicalize()
        .with_context(|| format!("cannot open `{}`", start.display()))?;
    let mut dir = start.as_path();
    loop {
        let candidate = dir.join(FILE_NAME);
        if std::fs::symlink_metadata(&candidate).is_ok() {
            return Ok(dir.to_path_buf());
        }
        match dir.parent() {
            Some(parent) => dir = parent,
            None => bail!(
                "no `{FILE_NAME}` in `{}` or any folder above it: this is not an SMS repository.\n\
                 help: run auditbook inside an SMS (the folder holding `{FILE_NAME}`), pass its path, \
                 or create one with `auditbook init DIR`",
                start.display()
            ),
        }
    }
}

/// Read sms.yaml in `root`.
pub fn load(root: &Path) -> Result<(Config, Vec<Diagnostic>)> {
    let path = root.join(FILE_NAME);
    let meta = std::fs::symlink_metadata(&path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    if meta.file_type().is_symlink() {
        bail!(
            "`{}` is a symbolic link; auditbook never reads through links.\n\
             help: replace the link with the file itself",
            path.display()
        );
    }
    if meta.len() > MAX_CONFIG_SIZE {
        bail!(
            "`{}` is larger than 1 MiB; that is not a settings file",
            path.display()
        );
    }
    let bytes =
        std::fs::read(&path).with_context(|| format!("cannot read `{}`", path.display()))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("`{}` is not UTF-8 text", path.display()))?;
    let (mut config, mut diags) = parse(root, &text)?;
    add_key_files(
        &mut config,
        |rel| read_work_tree_file(root, rel),
        &mut diags,
    );
    Ok((config, diags))
}

/// Parse the text of sms.yaml.
pub fn parse(root: &Path, text: &str) -> Result<(Config, Vec<Diagnostic>)> {
    // BOM stripped and CRLF / lone CR made LF, as for every source: YAML counts a lone CR as a
    // line break, so without this a finding's line would not be the line of the file as read.
    let text = crate::markdown::normalise(text);
    let text = text.as_ref();
    let node = match yaml::parse(text, yaml::Limits::default()) {
        Ok(Some(node)) => node,
        Ok(None) => bail!(
            "{FILE_NAME}:1:1: the file is empty.\nhelp: it needs at least `organisation`, `scope` and `framework: iso20000-1:2018`"
        ),
        Err(e) => bail!(
            "{FILE_NAME}:{}:{}: {}\nhelp: fix the YAML syntax of sms.yaml",
            e.pos.line,
            e.pos.col,
            e.message
        ),
    };
    let Some(entries) = node.as_map() else {
        bail!(
            "{FILE_NAME}:{}:{}: sms.yaml must be a mapping of settings (`key: value`), found {}",
            node.pos.line,
            node.pos.col,
            node.describe()
        );
    };
    let mut diags = Vec::new();
    let mut config = Config {
        root: root.to_path_buf(),
        organisation: String::new(),
        scope: String::new(),
        scope_pos: Pos::new(1, 1),
        framework: String::new(),
        frameworks: Vec::new(),
        review_interval: Interval::months(12),
        timezone: None,
        version_scheme: VersionScheme::Dotted,
        auditbook: None,
        people: Vec::new(),
        intervals: BTreeMap::new(),
        rules: BTreeMap::new(),
        applicability: Vec::new(),
        external: Vec::new(),
        history: HistorySettings::default(),
        audit_cycle: None,
        limits: Limits::default(),
        paths: Paths::default(),
        tables: Vec::new(),
        signatures: SignatureSettings::default(),
        approval: ApprovalSettings::default(),
        keyring: crate::keys::Keyring::default(),
    };
    let mut r = Reader::new(FILE_NAME, FILE_NAME, &mut diags);
    for (key, value) in entries {
        let Some(k) = key.as_scalar() else {
            r.invalid(key, "key", "keys of sms.yaml must be text".into());
            continue;
        };
        // Only the keys of the schema (`schema::SMS`, shipped as schemas/sms.schema.json).
        if !schema::has(schema::SMS, k) {
            unknown_key(&mut r, key, k, &schema::keys(schema::SMS), "");
            continue;
        }
        match k {
            "organisation" => {
                if let Some(t) = r.text(value, k) {
                    config.organisation = t.text;
                }
            }
            "scope" => {
                if let Some(t) = r.text(value, k) {
                    config.scope = t.text.trim().to_string();
                    config.scope_pos = t.pos;
                }
            }
            "framework" => {
                if let Some(t) = r.text(value, k) {
                    config.frameworks = vec![t.text];
                }
            }
            "frameworks" => {
                if node.get("framework").is_some() {
                    r.invalid(
                        value,
                        k,
                        "give either `framework` or `frameworks`, not both".into(),
                    );
                    continue;
                }
                let list = r.list(value, k);
                if list.is_empty() {
                    r.invalid(
                        value,
                        k,
                        "`frameworks` needs at least one framework id; the first is primary".into(),
                    );
                }
                for (t, _) in list {
                    if config.frameworks.contains(&t.text) {
                        r.invalid(value, k, format!("framework `{}` is listed twice", t.text));
                        continue;
                    }
                    config.frameworks.push(t.text);
                }
            }
            "review_interval" => {
                if let Some(i) = r.interval(value, k) {
                    config.review_interval = i;
                }
            }
            "timezone" => {
                if let Some(t) = r.text(value, k) {
                    if jiff::tz::TimeZone::get(&t.text).is_err() {
                        r.invalid(
                            value,
                            k,
                            format!(
                                "`{}` is not an IANA time zone name (e.g. Europe/London)",
                                t.text
                            ),
                        );
                    } else {
                        config.timezone = Some(t.text);
                    }
                }
            }
            "version_scheme" => match value.as_scalar() {
                Some("dotted") => config.version_scheme = VersionScheme::Dotted,
                Some("integer") => config.version_scheme = VersionScheme::Integer,
                Some("free") => config.version_scheme = VersionScheme::Free,
                _ => r.invalid(
                    value,
                    k,
                    "`version_scheme` must be one of dotted, integer, free".into(),
                ),
            },
            "auditbook" => {
                if let Some(t) = r.text(value, k) {
                    config.auditbook = Some(t.text);
                }
            }
            "people" => config.people = read_people(&mut r, value),
            "intervals" => {
                for (kk, vv) in map_entries(&mut r, value, k) {
                    if let Some(i) = r.interval(vv, &kk) {
                        config.intervals.insert(kk, i);
                    }
                }
            }
            "rules" => {
                for (kk, vv) in map_entries(&mut r, value, k) {
                    if crate::codes::lookup(&kk).is_none() {
                        let hint = crate::codes::suggest(&kk)
                            .map(|s| format!(" (did you mean `{s}`?)"))
                            .unwrap_or_default();
                        r.invalid(vv, "rules", format!("`{kk}` is not a finding code{hint}; see `auditbook explain --list`"));
                        continue;
                    }
                    match vv.as_scalar() {
                        Some("deny") => {
                            config.rules.insert(kk, Some(Severity::Error));
                        }
                        Some("warn") => {
                            config.rules.insert(kk, Some(Severity::Warning));
                        }
                        Some("note") => {
                            config.rules.insert(kk, Some(Severity::Note));
                        }
                        Some("allow") => {
                            config.rules.insert(kk, None);
                        }
                        _ => r.invalid(
                            vv,
                            &kk,
                            format!("the level of `{kk}` must be deny, warn, note or allow"),
                        ),
                    }
                }
            }
            "applicability" => config.applicability = read_applicability(&mut r, value),
            "external" => config.external = read_external(&mut r, value),
            "tables" => config.tables = read_tables(&mut r, value),
            "signatures" => {
                for (kk, vv) in known_entries(&mut r, value, k, schema::SIGNATURES) {
                    match kk.as_str() {
                        "allowed_signers" => {
                            if let Some(t) = r.text(vv, &kk) {
                                match relative_file(&t.text) {
                                    Ok(p) => {
                                        config.signatures.allowed_signers = Some(p);
                                        config.signatures.pos = t.pos;
                                    }
                                    Err(e) => r.invalid(vv, &kk, e),
                                }
                            }
                        }
                        "openpgp_keys" => {
                            if let Some(t) = r.text(vv, &kk) {
                                match relative_file(&t.text) {
                                    Ok(p) => {
                                        config.signatures.openpgp_keys = Some(p);
                                        config.signatures.openpgp_pos = t.pos;
                                    }
                                    Err(e) => r.invalid(vv, &kk, e),
                                }
                            }
                        }
                        _ => unknown_key(
                            &mut r,
                            vv,
                            &kk,
                            &schema::keys(schema::SIGNATURES),
                            "signatures.",
                        ),
                    }
                }
            }
            "approval" => {
                for (kk, vv) in known_entries(&mut r, value, k, schema::APPROVAL) {
                    match kk.as_str() {
                        "require" => {
                            for (t, level) in known_entries(
                                &mut r,
                                vv,
                                "approval.require",
                                schema::APPROVAL_REQUIRE,
                            ) {
                                match level.as_scalar().and_then(ApprovalLevel::parse) {
                                    Some(l) => {
                                        config.approval.require.insert(t, (l, level.pos));
                                    }
                                    None => r.invalid(
                                        level,
                                        &t,
                                        format!(
                                            "the approval level of `{t}` documents must be one of {}",
                                            ApprovalLevel::WORDS.join(", ")
                                        ),
                                    ),
                                }
                            }
                        }
                        _ => unknown_key(
                            &mut r,
                            vv,
                            &kk,
                            &schema::keys(schema::APPROVAL),
                            "approval.",
                        ),
                    }
                }
            }
            "history" => {
                for (kk, vv) in known_entries(&mut r, value, k, schema::HISTORY) {
                    match kk.as_str() {
                        "baseline" => config.history.baseline = r.text(vv, &kk).map(|t| t.text),
                        "backdating_tolerance" => {
                            config.history.backdating_tolerance = r.interval(vv, &kk)
                        }
                        _ => {
                            unknown_key(&mut r, vv, &kk, &schema::keys(schema::HISTORY), "history.")
                        }
                    }
                }
            }
            "audit_programme" => {
                for (kk, vv) in known_entries(&mut r, value, k, schema::AUDIT_PROGRAMME) {
                    match kk.as_str() {
                        "cycle" => config.audit_cycle = r.interval(vv, &kk),
                        _ => unknown_key(
                            &mut r,
                            vv,
                            &kk,
                            &schema::keys(schema::AUDIT_PROGRAMME),
                            "audit_programme.",
                        ),
                    }
                }
            }
            "limits" => {
                for (kk, vv) in known_entries(&mut r, value, k, schema::LIMITS) {
                    match kk.as_str() {
                        "max_file_size" => {
                            if let Some(t) = r.text(vv, &kk) {
                                match parse_size(&t.text) {
                                    Ok(n) => config.limits.max_file_size = n,
                                    Err(e) => r.invalid(vv, &kk, e),
                                }
                            }
                        }
                        "max_output_size" => {
                            if let Some(t) = r.text(vv, &kk) {
                                match parse_size(&t.text) {
                                    Ok(n) => config.limits.max_output_size = n,
                                    Err(e) => r.invalid(vv, &kk, e),
                                }
                            }
                        }
                        "max_table_size" => {
                            if let Some(t) = r.text(vv, &kk) {
                                match parse_size(&t.text) {
                                    Ok(n) => config.limits.max_table_size = n,
                                    Err(e) => r.invalid(vv, &kk, e),
                                }
                            }
                        }
                        "max_documents" => {
                            if let Some(n) = r.count(vv, &kk) {
                                config.limits.max_documents = n as usize;
                            }
                        }
                        "max_yaml_depth" => {
                            if let Some(n) = r.count(vv, &kk) {
                                config.limits.yaml.max_depth = (n as usize).min(1024);
                            }
                        }
                        "max_yaml_nodes" => {
                            if let Some(n) = r.count(vv, &kk) {
                                config.limits.yaml.max_nodes = n as usize;
                            }
                        }
                        "max_nesting_depth" => {
                            if let Some(n) = r.count(vv, &kk) {
                                // Past a few hundred levels the site's HTML tree builder slows
                                // down quadratically, whatever the setting says.
                                config.limits.markdown.max_nesting_depth = (n as usize).min(512);
                            }
                        }
                        "max_headings" => {
                            if let Some(n) = r.count(vv, &kk) {
                                config.limits.markdown.max_headings = n as usize;
                            }
                        }
                        "max_elements" => {
                            if let Some(n) = r.count(vv, &kk) {
                                config.limits.markdown.max_elements = n as usize;
                            }
                        }
                        _ => unknown_key(&mut r, vv, &kk, &schema::keys(schema::LIMITS), "limits."),
                    }
                }
            }
            "paths" => {
                for (kk, vv) in known_entries(&mut r, value, k, schema::PATHS) {
                    let slot = match kk.as_str() {
                        "records" => &mut config.paths.records,
                        "frameworks" => &mut config.paths.frameworks,
                        "mappings" => &mut config.paths.mappings,
                        "templates" => &mut config.paths.templates,
                        "output" => &mut config.paths.output,
                        _ => {
                            unknown_key(&mut r, vv, &kk, &schema::keys(schema::PATHS), "paths.");
                            continue;
                        }
                    };
                    if let Some(t) = r.text(vv, &kk) {
                        match relative_folder(&t.text) {
                            Ok(p) => *slot = p,
                            Err(e) => r.invalid(vv, &kk, e),
                        }
                    }
                }
            }
            _ => unknown_key(&mut r, key, k, &schema::keys(schema::SMS), ""),
        }
    }
    for (key, what) in [
        ("organisation", "the organisation's name"),
        ("scope", "the scope statement of the SMS"),
        (
            "framework",
            "the clause catalogue, e.g. `framework: iso20000-1:2018`",
        ),
    ] {
        if node.get(key).is_none() && !(key == "framework" && node.get("frameworks").is_some()) {
            diags.push(
                Diagnostic::new(
                    "config-invalid",
                    format!("{FILE_NAME}#{key}"),
                    format!("sms.yaml has no `{key}` ({what})"),
                )
                .at(FILE_NAME, Pos::new(1, 1)),
            );
        }
    }
    if config.frameworks.is_empty() {
        config.frameworks = vec![crate::catalog::BUILTIN_ID.to_string()];
    }
    config.framework = config.frameworks[0].clone();
    config.keyring = people_keys(&config.people, &node, &mut diags);
    Ok((config, diags))
}

/// The keys listed under `people[].keys`; a line that is not a public key is `config-invalid`
/// at its own line.
fn people_keys(
    people: &[Person],
    node: &Node,
    diags: &mut Vec<Diagnostic>,
) -> crate::keys::Keyring {
    let mut ring = crate::keys::Keyring::default();
    let items: Vec<&Node> = node
        .get("people")
        .and_then(Node::as_seq)
        .map(|s| s.iter().collect())
        .unwrap_or_default();
    for person in people {
        let key_nodes: Vec<&Node> = items
            .iter()
            .filter(|i| i.get("id").and_then(Node::as_scalar) == Some(person.id.as_str()))
            .filter_map(|i| i.get("keys"))
            .flat_map(|k| match k.as_seq() {
                Some(s) => s.iter().collect::<Vec<_>>(),
                None => vec![k],
            })
            .collect();
        for (i, text) in person.keys.iter().enumerate() {
            match crate::keys::person_key(person, text) {
                Ok(k) => ring.keys.push(k),
                Err(why) => diags.push(
                    Diagnostic::new(
                        "config-invalid",
                        format!("{FILE_NAME}#people.{}.keys", person.id),
                        format!("key {} of person `{}`: {why}", i + 1, person.id),
                    )
                    .at(
                        FILE_NAME,
                        key_nodes.get(i).map_or(Pos::new(1, 1), |n| n.pos),
                    ),
                ),
            }
        }
    }
    ring
}

/// Add the keys of the files named by `signatures.allowed_signers` and
/// `signatures.openpgp_keys`: `read` gives a file's bytes (from the work tree, or from the commit
/// being checked), `None` when it is absent. A file that is missing or cannot be read is
/// `config-invalid` at the setting: verifying against fewer keys than the SMS lists must never
/// pass silently.
pub fn add_key_files(
    config: &mut Config,
    read: impl Fn(&str) -> Result<Option<Vec<u8>>>,
    diags: &mut Vec<Diagnostic>,
) {
    let files = [
        (
            "allowed_signers",
            config.signatures.allowed_signers.clone(),
            config.signatures.pos,
        ),
        (
            "openpgp_keys",
            config.signatures.openpgp_keys.clone(),
            config.signatures.openpgp_pos,
        ),
    ];
    for (key, rel, pos) in files {
        let Some(rel) = rel else { continue };
        let mut fail = |why: String| {
            diags.push(
                Diagnostic::new(
                    "config-invalid",
                    format!("{FILE_NAME}#signatures.{key}"),
                    why,
                )
                .at(FILE_NAME, pos),
            )
        };
        let text = match read(&rel) {
            Ok(Some(bytes)) => match String::from_utf8(bytes) {
                Ok(t) => t,
                Err(_) => {
                    fail(format!("the key file `{rel}` is not UTF-8 text"));
                    continue;
                }
            },
            Ok(None) => {
                fail(format!(
                    "the key file `{rel}` (`signatures.{key}`) does not exist; create it or remove the setting"
                ));
                continue;
            }
            Err(e) => {
                fail(format!("{e:#}"));
                continue;
            }
        };
        if key == "openpgp_keys" {
            match crate::keys::openpgp_keys(&text, &rel, &config.people) {
                Ok(keys) => config.keyring.openpgp.extend(keys),
                Err(why) => fail(why),
            }
            continue;
        }
        let tz = config
            .timezone
            .as_deref()
            .and_then(|t| jiff::tz::TimeZone::get(t).ok())
            .unwrap_or(jiff::tz::TimeZone::UTC);
        match crate::keys::allowed_signers(&text, &rel, &tz, &config.people) {
            Ok(keys) => config.keyring.keys.extend(keys),
            Err((line, why)) => fail(format!("{rel}:{line}: {why}")),
        }
    }
}

/// Read a small SMS file of the work tree (never through a symlink); `None` when absent.
pub fn read_work_tree_file(root: &Path, rel: &str) -> Result<Option<Vec<u8>>> {
    let path = root.join(rel);
    if std::fs::symlink_metadata(&path).is_err() {
        return Ok(None);
    }
    match crate::regular::read(&path, MAX_CONFIG_SIZE)
        .with_context(|| format!("cannot read `{rel}`"))?
    {
        crate::regular::Regular::Bytes(b) => Ok(Some(b)),
        crate::regular::Regular::NotRegular(w) => bail!("`{rel}` is {w}, not a regular file"),
        crate::regular::Regular::TooLarge(n) => {
            bail!("`{rel}` is {n} bytes; an allowed signers file is under 1 MiB")
        }
    }
}

fn unknown_key(r: &mut Reader<'_>, node: &Node, key: &str, known: &[&str], prefix: &str) {
    let hint = crate::ids::closest(key, known.iter().copied(), 3)
        .map(|s| format!("; did you mean `{prefix}{s}`?"))
        .unwrap_or_else(|| format!("; known keys: {}", known.join(", ")));
    r.diags.push(
        Diagnostic::new(
            "config-unknown-key",
            format!("{FILE_NAME}#{prefix}{key}"),
            format!("unknown key `{prefix}{key}` in sms.yaml{hint}"),
        )
        .at(r.path, node.pos),
    );
}

/// [`map_entries`] of a mapping whose keys the schema names (`known`): any other key is
/// `config-unknown-key` and left out.
fn known_entries<'n>(
    r: &mut Reader<'_>,
    node: &'n Node,
    key: &str,
    known: &[schema::Field],
) -> Vec<(String, &'n Node)> {
    let mut out = Vec::new();
    for (k, v) in map_entries(r, node, key) {
        if schema::has(known, &k) {
            out.push((k, v));
        } else {
            unknown_key(r, v, &k, &schema::keys(known), &format!("{key}."));
        }
    }
    out
}

/// The entries of a mapping-valued setting, keys as text.
fn map_entries<'n>(r: &mut Reader<'_>, node: &'n Node, key: &str) -> Vec<(String, &'n Node)> {
    if node.is_null() {
        return Vec::new();
    }
    let Some(entries) = node.as_map() else {
        r.invalid(
            node,
            key,
            format!("`{key}` must be a mapping, found {}", node.describe()),
        );
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|(k, v)| k.as_scalar().map(|s| (s.to_string(), v)))
        .collect()
}

fn read_people(r: &mut Reader<'_>, node: &Node) -> Vec<Person> {
    let mut people: Vec<Person> = Vec::new();
    let Some(items) = node.as_seq() else {
        if !node.is_null() {
            r.invalid(
                node,
                "people",
                format!("`people` must be a list, found {}", node.describe()),
            );
        }
        return people;
    };
    for item in items {
        if item.as_map().is_none() {
            r.invalid(
                item,
                "people",
                "each person is a mapping with id, name, role and emails".into(),
            );
            continue;
        }
        let mut person = Person {
            id: String::new(),
            name: String::new(),
            role: None,
            emails: Vec::new(),
            keys: Vec::new(),
        };
        for (k, v) in item.as_map().unwrap_or_default() {
            let key = k.as_scalar().unwrap_or("");
            if !schema::has(schema::PEOPLE, key) {
                unknown_key(r, k, key, &schema::keys(schema::PEOPLE), "people[].");
                continue;
            }
            match key {
                "id" => {
                    if let Some(t) = r.text(v, "id") {
                        if let Some(why) = crate::ids::invalid_reason(&t.text) {
                            r.invalid(v, "id", why);
                        }
                        if people.iter().any(|p| p.id == t.text) {
                            r.invalid(v, "id", format!("person id `{}` is given twice", t.text));
                        }
                        person.id = t.text;
                    }
                }
                "name" => person.name = r.text(v, "name").map(|t| t.text).unwrap_or_default(),
                "role" => person.role = r.text(v, "role").map(|t| t.text),
                "emails" => {
                    person.emails = r
                        .list(v, "emails")
                        .into_iter()
                        .map(|(t, _)| t.text.to_ascii_lowercase())
                        .collect()
                }
                "keys" => {
                    person.keys = r.list(v, "keys").into_iter().map(|(t, _)| t.text).collect()
                }
                other => unknown_key(r, k, other, &schema::keys(schema::PEOPLE), "people[]."),
            }
        }
        if person.id.is_empty() {
            r.diags.push(
                Diagnostic::new(
                    "config-invalid",
                    format!("{FILE_NAME}#people"),
                    "a person has no `id`",
                )
                .at(FILE_NAME, item.pos),
            );
            continue;
        }
        if person.name.is_empty() {
            person.name = person.id.clone();
        }
        people.push(person);
    }
    people
}

fn read_applicability(r: &mut Reader<'_>, node: &Node) -> Vec<Applicability> {
    let mut out = Vec::new();
    let Some(items) = node.as_seq() else {
        if !node.is_null() {
            r.invalid(
                node,
                "applicability",
                "`applicability` must be a list".into(),
            );
        }
        return out;
    };
    for item in items {
        let Some(entries) = item.as_map() else {
            r.invalid(
                item,
                "applicability",
                "each entry is a mapping with clause, party, agreement, review_kind".into(),
            );
            continue;
        };
        let mut a = Applicability {
            clause: String::new(),
            party: String::new(),
            agreement: None,
            review_kind: None,
            pos: item.pos,
        };
        for (k, v) in entries {
            let key = k.as_scalar().unwrap_or("");
            if !schema::has(schema::APPLICABILITY, key) {
                let known = schema::keys(schema::APPLICABILITY);
                unknown_key(r, k, key, &known, "applicability[].");
                continue;
            }
            match key {
                "clause" => a.clause = r.text(v, "clause").map(|t| t.text).unwrap_or_default(),
                "party" => a.party = r.text(v, "party").map(|t| t.text).unwrap_or_default(),
                "agreement" => a.agreement = r.text(v, "agreement").map(|t| t.text),
                "review_kind" => a.review_kind = r.text(v, "review_kind").map(|t| t.text),
                other => unknown_key(
                    r,
                    k,
                    other,
                    &schema::keys(schema::APPLICABILITY),
                    "applicability[].",
                ),
            }
        }
        if a.clause.is_empty() || a.party.is_empty() {
            r.invalid(
                item,
                "applicability",
                "an applicability entry needs `clause` and `party`".into(),
            );
            continue;
        }
        out.push(a);
    }
    out
}

fn read_external(r: &mut Reader<'_>, node: &Node) -> Vec<ExternalKind> {
    let mut out: Vec<ExternalKind> = Vec::new();
    let Some(items) = node.as_seq() else {
        if !node.is_null() {
            r.invalid(node, "external", "`external` must be a list".into());
        }
        return out;
    };
    for item in items {
        let Some(entries) = item.as_map() else {
            r.invalid(
                item,
                "external",
                "each entry is a mapping with kind, system, location, owner, evidenced_by".into(),
            );
            continue;
        };
        let mut e = ExternalKind {
            kind: String::new(),
            system: String::new(),
            location: None,
            owner: None,
            evidenced_by: String::new(),
            pos: item.pos,
        };
        for (k, v) in entries {
            let key = k.as_scalar().unwrap_or("");
            let text = |r: &mut Reader<'_>| r.text(v, key).map(|t| t.text);
            match key {
                "kind" => e.kind = text(r).unwrap_or_default(),
                "system" => e.system = text(r).unwrap_or_default(),
                "location" => e.location = text(r),
                "owner" => e.owner = text(r),
                "evidenced_by" => e.evidenced_by = text(r).unwrap_or_default(),
                other => unknown_key(r, k, other, &schema::keys(schema::EXTERNAL), "external[]."),
            }
        }
        if e.kind.is_empty() || e.system.is_empty() || e.evidenced_by.is_empty() {
            r.invalid(
                item,
                "external",
                "an external entry needs `kind`, `system` and `evidenced_by` (the record kind kept in git whose freshness stands for it)".into(),
            );
            continue;
        }
        if out.iter().any(|o| o.kind == e.kind) {
            r.invalid(
                item,
                "external",
                format!("`{}` is declared external twice", e.kind),
            );
            continue;
        }
        out.push(e);
    }
    out
}

fn read_tables(r: &mut Reader<'_>, node: &Node) -> Vec<TableSettings> {
    let mut out = Vec::new();
    let Some(items) = node.as_seq() else {
        if !node.is_null() {
            r.invalid(node, "tables", "`tables` must be a list of mappings".into());
        }
        return out;
    };
    for item in items {
        let Some(entries) = item.as_map() else {
            r.invalid(
                item,
                "tables",
                "each `tables` entry is a mapping (files or kind, preset, fields…)".into(),
            );
            continue;
        };
        let mut t = TableSettings {
            pos: item.pos,
            ..TableSettings::default()
        };
        for (k, v) in entries {
            let key = k.as_scalar().unwrap_or("");
            if !schema::has(schema::TABLES, key) {
                unknown_key(r, k, key, &schema::keys(schema::TABLES), "tables[].");
                continue;
            }
            match key {
                "files" => t.files = r.text(v, key).map(|s| s.text),
                "kind" => t.kind = r.text(v, key).map(|s| s.text),
                "preset" => {
                    if let Some(s) = r.text(v, key) {
                        if crate::tabular::presets::get(&s.text).is_some() {
                            t.preset = Some(s.text);
                        } else {
                            let names: Vec<&str> = crate::tabular::presets::names().collect();
                            let hint = crate::ids::closest(&s.text, names.iter().copied(), 4)
                                .map(|n| format!("did you mean `{n}`? "))
                                .unwrap_or_default();
                            r.invalid(
                                v,
                                key,
                                format!(
                                    "`{}` is not a built-in preset; {hint}known: {}",
                                    s.text,
                                    names.join(", ")
                                ),
                            );
                        }
                    }
                }
                "fields" | "values" => {
                    let mut pairs = Vec::new();
                    for (kk, vv) in map_entries(r, v, key) {
                        if let Some(s) = r.text(vv, &kk) {
                            pairs.push((kk, s.text));
                        }
                    }
                    if key == "fields" {
                        t.fields = pairs;
                    } else {
                        t.values = pairs;
                    }
                }
                "dates" => {
                    t.dates = Some(r.list(v, key).into_iter().map(|(s, _)| s.text).collect())
                }
                "date_format" => t.date_format = r.text(v, key).map(|s| s.text),
                "timezone" => {
                    if let Some(s) = r.text(v, key) {
                        if jiff::tz::TimeZone::get(&s.text).is_err() {
                            r.invalid(
                                v,
                                key,
                                format!("`{}` is not an IANA time zone name", s.text),
                            );
                        } else {
                            t.timezone = Some(s.text);
                        }
                    }
                }
                "keep" => {
                    t.keep = match v.as_scalar() {
                        Some("all") => Some(None),
                        _ => Some(Some(
                            r.list(v, key).into_iter().map(|(s, _)| s.text).collect(),
                        )),
                    }
                }
                "delimiter" => {
                    if let Some(s) = r.text(v, key) {
                        let d = match s.text.as_str() {
                            "\\t" | "tab" => Some(b'\t'),
                            x if x.len() == 1 && x.is_ascii() => Some(x.as_bytes()[0]),
                            _ => None,
                        };
                        match d {
                            Some(d) => t.delimiter = Some(d),
                            None => r.invalid(
                                v,
                                key,
                                "`delimiter` is one ASCII character, or `tab`".into(),
                            ),
                        }
                    }
                }
                "id_prefix" => t.id_prefix = r.text(v, key).map(|s| s.text),
                other => unknown_key(r, k, other, &schema::keys(schema::TABLES), "tables[]."),
            }
        }
        if t.files.is_none() && t.kind.is_none() {
            r.invalid(
                item,
                "tables",
                "a `tables` entry needs `files` (a glob under the records folder) or `kind`".into(),
            );
            continue;
        }
        out.push(t);
    }
    out
}

/// A configured folder must stay inside the SMS root.
fn relative_folder(text: &str) -> Result<String, String> {
    let t = text.trim_end_matches('/');
    let bad = t.is_empty()
        || t.starts_with('/')
        || t.contains('\\')
        || t.split('/').any(|c| c == ".." || c == "." || c.is_empty());
    if bad {
        return Err(format!(
            "`{text}` must be a folder inside the SMS root, written relative to it (no `..`, no leading `/`)"
        ));
    }
    Ok(t.to_string())
}

/// A file inside the SMS root, written relative to it.
fn relative_file(text: &str) -> Result<String, String> {
    let bad = text.is_empty()
        || text.starts_with('/')
        || text.ends_with('/')
        || text.contains('\\')
        || text
            .split('/')
            .any(|c| c == ".." || c == "." || c.is_empty());
    if bad {
        return Err(format!(
            "`{text}` must be a file inside the SMS root, written relative to it (no `..`, no leading `/`)"
        ));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> (Config, Vec<Diagnostic>) {
        parse(Path::new("/sms"), text).unwrap()
    }

    #[test]
    fn minimal_config_has_defaults() {
        let (c, d) = cfg("organisation: A\nscope: B\nframework: iso20000-1:2018\n");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(c.review_interval, Interval::months(12));
        assert_eq!(c.limits.max_file_size, 10 * 1024 * 1024);
        assert_eq!(c.paths.output, "_site");
    }

    #[test]
    fn unknown_key_is_a_finding_with_position_and_suggestion() {
        let (_, d) = cfg("organisation: A\nscope: B\nframework: x\nreview_intervall: 6 months\n");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, "config-unknown-key");
        assert_eq!(d[0].pos, Some(Pos::new(4, 1)));
        assert!(d[0].message.contains("review_interval"), "{}", d[0].message);
    }

    #[test]
    fn wrong_types_are_findings() {
        let (_, d) = cfg(
            "organisation: [A]\nscope: B\nframework: x\nreview_interval: 1 fortnight\npeople: 3\n",
        );
        let codes: Vec<_> = d.iter().map(|d| (d.code, d.pos.unwrap().line)).collect();
        assert_eq!(
            codes,
            vec![
                ("field-invalid", 1),
                ("field-invalid", 4),
                ("field-invalid", 5)
            ]
        );
    }

    #[test]
    fn missing_required_keys_are_findings() {
        let (_, d) = cfg("organisation: A\n");
        assert_eq!(d.iter().filter(|d| d.code == "config-invalid").count(), 2);
    }

    #[test]
    fn syntax_errors_and_non_mappings_are_failures() {
        assert!(parse(Path::new("/s"), "a: [\n").is_err());
        assert!(parse(Path::new("/s"), "- a\n- b\n").is_err());
        assert!(parse(Path::new("/s"), "").is_err());
    }

    #[test]
    fn lone_cr_line_breaks_give_the_line_of_the_file() {
        // found by fuzzing (sms_yaml): YAML counts a lone CR as a line break
        let (_, d) = cfg("organisation: A\rscope: B\rframework: x\rtimezone: Mars/Base\n");
        assert_eq!(d[0].code, "field-invalid");
        assert_eq!(d[0].pos, Some(Pos::new(4, 11)));
    }

    #[test]
    fn paths_must_stay_inside() {
        let (_, d) = cfg("organisation: A\nscope: B\nframework: x\npaths:\n  output: ../out\n");
        assert_eq!(d[0].code, "field-invalid");
    }
}
