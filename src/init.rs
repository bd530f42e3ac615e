//! `auditbook init DIR`: start a new SMS from the starter kit embedded in the binary.
//!
//! The kit is `policy-templates/` of the auditbook repository, embedded by `build.rs`, so `init`
//! works from an installed binary. It writes `sms.yaml`, every template document (drafts, with the
//! organisation's name filled in), one example record per record kind as
//! `records/<kind>/example.yaml.sample` (a name auditbook does not read, so an example never counts
//! as evidence), a `.gitignore` for the output folder, and runs `git init` unless told not to.
//!
//! It never overwrites a file: every file is created with `create_new`, and an existing one is
//! skipped and reported, with or without `--force` (which only allows a non-empty folder). Nothing
//! is written through a symbolic link.

use anyhow::{bail, Context, Result};
use std::io::Write as _;
use std::path::{Path, PathBuf};

mod kit {
    include!(concat!(env!("OUT_DIR"), "/starter_kit.rs"));
}

/// The placeholder for the organisation's name in the templates, replaced by `init`.
pub const ORGANISATION_PLACEHOLDER: &str = "{{organisation}}";

/// The start of a placeholder the quality manager fills in: `{{FILL: what belongs here}}`.
pub const FILL_PLACEHOLDER: &str = "{{FILL:";

/// The organisation written when `--org` is not given.
pub const DEFAULT_ORGANISATION: &str = "Example Organisation";

/// The file name an example record gets in `records/<kind>/`: not `.yaml`, so never read.
pub const EXAMPLE_RECORD: &str = "example.yaml.sample";

#[derive(Debug, Clone)]
pub struct Options {
    pub dir: PathBuf,
    pub organisation: String,
    /// Allow a folder that already holds files (existing files are still never overwritten).
    pub force: bool,
    /// Run `git init` (unless the folder is already inside a git repository).
    pub git: bool,
    /// The frameworks of the new SMS, primary first (`--framework`; default ISO/IEC 20000-1:2018).
    pub frameworks: Vec<String>,
}

/// What `init` did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub root: PathBuf,
    pub organisation: String,
    /// The frameworks written to sms.yaml, primary first.
    pub frameworks: Vec<String>,
    /// Files written, SMS-relative, sorted.
    pub written: Vec<String>,
    /// Files left alone, with the reason, sorted.
    pub skipped: Vec<(String, String)>,
    pub git: Git,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Git {
    Initialised,
    NotRequested,
    /// The folder is already inside this repository (work tree root).
    AlreadyInside(PathBuf),
}

/// The kit's embedded files: (path in the kit, bytes), sorted by path.
pub fn kit_files() -> &'static [(&'static str, &'static [u8])] {
    kit::FILES
}

/// The framework the kit's root is written for; its files' plain clause ids are its clauses.
pub const KIT_FRAMEWORK: &str = "iso20000-1:2018";

/// The frameworks `init --framework` can start an SMS for, each with the kit folder of its own
/// templates, sections and example records (`None`: the kit's root). The kit is an ISO/IEC
/// 20000-1 SMS kit, so the list must hold [`KIT_FRAMEWORK`]; the others add to it, as one
/// integrated management system.
///
/// A file under a framework's folder is written only when that framework is chosen, at its path
/// below the folder; its plain clause ids and `provides` are that framework's. A file named
/// `<path>.section` there is not written on its own: it is appended to the template `<path>` (a
/// section such as the ISMS scope within the shared scope). A new template for one framework
/// (the Statement of Applicability for 27001, say) needs nothing but its file in that folder.
pub const KIT_FRAMEWORKS: &[(&str, Option<&str>)] = &[
    ("iso20000-1:2018", None),
    ("iso27001:2022", Some("iso27001-2022")),
    ("iso9001:2015", Some("iso9001-2015")),
];

/// A shared template that also serves another framework: the clauses (plain ids of that
/// framework; `A.5.*` stands for every control below A.5) and named documents it cites there.
/// `init` adds them to the template's frontmatter when that framework is chosen, so one document
/// — one document-control procedure, one internal audit procedure — serves every framework and
/// says so explicitly (a mapping never confers coverage; docs/catalog.md).
#[derive(Debug, Clone, Copy)]
pub struct AlsoServes {
    /// The template's path in the kit.
    pub template: &'static str,
    pub framework: &'static str,
    pub clauses: &'static [&'static str],
    pub provides: &'static [&'static str],
}

const fn also(
    template: &'static str,
    framework: &'static str,
    clauses: &'static [&'static str],
    provides: &'static [&'static str],
) -> AlsoServes {
    AlsoServes {
        template,
        framework,
        clauses,
        provides,
    }
}

const ISO27001: &str = "iso27001:2022";
const ISO9001: &str = "iso9001:2015";

/// What the shared templates serve of the other frameworks (see [`AlsoServes`]).
pub const ALSO_SERVES: &[AlsoServes] = &[
    // ISO/IEC 27001:2022: the harmonised structure, clause by clause, and Annex A.
    also(
        "sms/context-and-interested-parties.md",
        ISO27001,
        &["4.1", "4.2"],
        &[],
    ),
    also("sms/scope.md", ISO27001, &["4.3"], &["isms-scope"]),
    also("sms/process-model.md", ISO27001, &["4.4"], &[]),
    also(
        "policies/service-management-policy.md",
        ISO27001,
        &["5.1"],
        &[],
    ),
    also(
        "policies/information-security-policy.md",
        ISO27001,
        &["5.2"],
        &["information-security-policy"],
    ),
    also("sms/roles-and-responsibilities.md", ISO27001, &["5.3"], &[]),
    also("sms/risk-management.md", ISO27001, &["6.1.1"], &[]),
    also(
        "plans/service-management-objectives.md",
        ISO27001,
        &["6.2"],
        &["is-objectives"],
    ),
    also(
        "plans/service-management-plan.md",
        ISO27001,
        &["6.3", "7.1", "8.1"],
        &[],
    ),
    also(
        "sms/competence-and-awareness.md",
        ISO27001,
        &["7.2", "7.3"],
        &[],
    ),
    also("sms/communication-plan.md", ISO27001, &["7.4"], &[]),
    also(
        "procedures/document-control.md",
        ISO27001,
        &["7.5.1", "7.5.2", "7.5.3"],
        &[],
    ),
    also(
        "procedures/monitoring-and-measurement.md",
        ISO27001,
        &["9.1"],
        &[],
    ),
    also(
        "procedures/internal-audit.md",
        ISO27001,
        &["9.2.1", "9.2.2"],
        &[],
    ),
    also(
        "plans/internal-audit-programme.md",
        ISO27001,
        &["9.2.2"],
        &[],
    ),
    also("procedures/management-review.md", ISO27001, &["9.3"], &[]),
    also(
        "procedures/continual-improvement.md",
        ISO27001,
        &["10.1"],
        &[],
    ),
    also(
        "procedures/nonconformity-and-corrective-action.md",
        ISO27001,
        &["10.2"],
        &[],
    ),
    also(
        "procedures/information-security-controls.md",
        ISO27001,
        &["A.5.*", "A.6.*", "A.7.*", "A.8.*"],
        &[],
    ),
    // ISO 9001:2015: the harmonised structure, and clause 8 by the service processes.
    also(
        "sms/context-and-interested-parties.md",
        ISO9001,
        &["4.1", "4.2"],
        &[],
    ),
    also("sms/scope.md", ISO9001, &["4.3"], &["qms-scope"]),
    also(
        "sms/process-model.md",
        ISO9001,
        &["4.4"],
        &["process-descriptions"],
    ),
    also(
        "policies/service-management-policy.md",
        ISO9001,
        &["5.1.1", "5.1.2", "5.2.1", "5.2.2"],
        &["quality-policy"],
    ),
    also("sms/roles-and-responsibilities.md", ISO9001, &["5.3"], &[]),
    also("sms/risk-management.md", ISO9001, &["6.1"], &[]),
    also(
        "plans/service-management-objectives.md",
        ISO9001,
        &["6.2"],
        &["quality-objectives"],
    ),
    also(
        "plans/service-management-plan.md",
        ISO9001,
        &["6.3", "7.1.1", "7.1.2", "7.1.3", "7.1.4", "8.1"],
        &[],
    ),
    also(
        "procedures/monitoring-and-measurement.md",
        ISO9001,
        &["7.1.5.1", "9.1.1", "9.1.3"],
        &[],
    ),
    also("sms/knowledge-management.md", ISO9001, &["7.1.6"], &[]),
    also(
        "sms/competence-and-awareness.md",
        ISO9001,
        &["7.2", "7.3"],
        &[],
    ),
    also("sms/communication-plan.md", ISO9001, &["7.4"], &[]),
    also(
        "procedures/document-control.md",
        ISO9001,
        &["7.5.1", "7.5.2", "7.5.3"],
        &[],
    ),
    also(
        "procedures/business-relationship-management.md",
        ISO9001,
        &["8.2.1", "9.1.2"],
        &[],
    ),
    also(
        "services/service-requirements.md",
        ISO9001,
        &["8.2.2", "8.2.3"],
        &[],
    ),
    also(
        "procedures/change-management.md",
        ISO9001,
        &["8.2.4", "8.5.6"],
        &[],
    ),
    also(
        "procedures/service-design-and-transition.md",
        ISO9001,
        &["8.3.1", "8.3.2", "8.3.3"],
        &[],
    ),
    also(
        "procedures/supplier-management.md",
        ISO9001,
        &["8.4.1", "8.4.2", "8.4.3"],
        &[],
    ),
    also(
        "procedures/service-delivery.md",
        ISO9001,
        &["8.5.1", "8.5.5"],
        &[],
    ),
    also(
        "procedures/asset-and-configuration-management.md",
        ISO9001,
        &["8.5.2", "8.5.3", "8.5.4"],
        &[],
    ),
    also(
        "procedures/release-and-deployment.md",
        ISO9001,
        &["8.6"],
        &[],
    ),
    also("procedures/incident-management.md", ISO9001, &["8.7"], &[]),
    also("procedures/internal-audit.md", ISO9001, &["9.2"], &[]),
    also("plans/internal-audit-programme.md", ISO9001, &["9.2"], &[]),
    also("procedures/management-review.md", ISO9001, &["9.3"], &[]),
    also(
        "procedures/continual-improvement.md",
        ISO9001,
        &["10.1", "10.3"],
        &[],
    ),
    also(
        "procedures/nonconformity-and-corrective-action.md",
        ISO9001,
        &["10.2"],
        &[],
    ),
];

/// Check `--framework`: known to the kit, no id twice, ISO/IEC 20000-1:2018 among them.
pub fn check_frameworks(ids: &[String]) -> Result<Vec<String>> {
    if ids.is_empty() {
        return Ok(vec![KIT_FRAMEWORK.to_string()]);
    }
    let known: Vec<&str> = KIT_FRAMEWORKS.iter().map(|(id, _)| *id).collect();
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        let id = id.trim();
        if !known.contains(&id) {
            let hint = crate::ids::closest(id, known.iter().copied(), 4)
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            bail!(
                "--framework: the starter kit has no templates for `{id}`\nhelp: {hint}init knows {}",
                known.join(", ")
            );
        }
        if out.iter().any(|o| o == id) {
            bail!("--framework: `{id}` is listed twice");
        }
        out.push(id.to_string());
    }
    if !out.iter().any(|o| o == KIT_FRAMEWORK) {
        bail!(
            "--framework: the starter kit is an {KIT_FRAMEWORK} SMS kit that the other frameworks add to; list `{KIT_FRAMEWORK}` too (e.g. `--framework {KIT_FRAMEWORK},{}`)",
            out[0]
        );
    }
    Ok(out)
}

/// The framework a kit file is written for, and its path below that framework's folder.
fn kit_home(kit_path: &str) -> (&'static str, &str) {
    for (id, folder) in KIT_FRAMEWORKS {
        if let Some(rest) = folder.and_then(|f| kit_path.strip_prefix(f)?.strip_prefix('/')) {
            return (id, rest);
        }
    }
    (KIT_FRAMEWORK, kit_path)
}

/// Where a kit file goes in a new SMS: `records/<kind>.yaml` becomes the example record of its
/// folder; a file of a framework's folder goes to its path below that folder; every other file
/// keeps its path.
pub fn sms_path(kit_path: &str) -> String {
    let (_, kit_path) = kit_home(kit_path);
    if let Some(name) = kit_path.strip_prefix("records/") {
        if let Some(kind) = name.strip_suffix(".yaml") {
            if !kind.contains('/') {
                return format!("records/{kind}/{EXAMPLE_RECORD}");
            }
        }
    }
    kit_path.to_string()
}

/// Whether the organisation placeholder is replaced in a kit file: in documents and records, not
/// in README files (they explain the placeholder itself).
fn substitutes(kit_path: &str) -> bool {
    let name = kit_path.rsplit('/').next().unwrap_or(kit_path);
    !name.eq_ignore_ascii_case("readme.md")
}

/// A clause or named document id as written in an SMS whose primary framework is `primary`.
fn written(primary: &str, framework: &str, id: &str) -> String {
    if framework == primary {
        id.to_string()
    } else {
        format!("{framework}:{id}")
    }
}

/// The items of a one-line frontmatter list `key: [a, "b"]`, unquoted.
fn list_items(line: &str) -> Vec<String> {
    let inner = line
        .split_once('[')
        .and_then(|(_, r)| r.rsplit_once(']'))
        .map_or("", |(l, _)| l);
    inner
        .split(',')
        .map(|i| i.trim().trim_matches('"').to_string())
        .filter(|i| !i.is_empty())
        .collect()
}

/// A template's text for an SMS of `frameworks` (primary first): its own clause ids and named
/// documents (of `home`) qualified when `home` is not primary, in the frontmatter and in body
/// `clause:` links, and the clauses and named documents it also serves added.
fn cite_frameworks(
    text: &str,
    home: &str,
    frameworks: &[String],
    extra: &[(String, String)],
    extra_provides: &[String],
) -> String {
    let primary = frameworks[0].as_str();
    let Some(rest) = text.strip_prefix("---\n") else {
        return text.to_string();
    };
    let Some(end) = rest.find("\n---\n") else {
        return text.to_string();
    };
    let (front, body) = (&rest[..end], &rest[end..]);
    let quote = |v: &[String]| {
        v.iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut lines: Vec<String> = Vec::new();
    let mut provides_seen = false;
    for line in front.lines() {
        if line.starts_with("clauses: [") {
            let mut ids: Vec<String> = list_items(line)
                .iter()
                .map(|c| written(primary, home, c))
                .collect();
            ids.extend(extra.iter().map(|(fw, c)| written(primary, fw, c)));
            lines.push(format!("clauses: [{}]", quote(&ids)));
        } else if line.starts_with("provides: [") {
            provides_seen = true;
            let mut ids: Vec<String> = list_items(line)
                .iter()
                .map(|d| written(primary, home, d))
                .collect();
            ids.extend(extra_provides.iter().cloned());
            lines.push(format!("provides: [{}]", ids.join(", ")));
        } else {
            lines.push(line.to_string());
        }
    }
    if !provides_seen && !extra_provides.is_empty() {
        if let Some(i) = lines.iter().position(|l| l.starts_with("clauses: [")) {
            lines.insert(i + 1, format!("provides: [{}]", extra_provides.join(", ")));
        }
    }
    let body = if home == primary {
        body.to_string()
    } else {
        body.replace("](clause:", &format!("](clause:{home}:"))
    };
    format!("---\n{}{body}", lines.join("\n"))
}

/// The clauses `AlsoServes::clauses` stand for: `X.*` is every clause of `framework` whose id
/// starts with `X.` and that has no sub-clauses.
fn expand_clauses(framework: &str, clauses: &[&str]) -> Vec<String> {
    let catalog = crate::catalog::builtin_by_id(framework).and_then(|c| c.ok());
    let mut out = Vec::new();
    for c in clauses {
        match (c.strip_suffix('*'), &catalog) {
            (Some(prefix), Some(cat)) => out.extend(
                cat.clauses
                    .iter()
                    .filter(|cl| cl.id.starts_with(prefix) && cl.children.is_empty())
                    .map(|cl| cl.id.clone()),
            ),
            _ => out.push(c.to_string()),
        }
    }
    out
}

/// Every file a new SMS of the default framework gets (see [`planned_files_for`]).
pub fn planned_files(organisation: &str) -> Vec<(String, Vec<u8>)> {
    planned_files_for(organisation, &[KIT_FRAMEWORK.to_string()])
}

/// Every file a new SMS of `frameworks` (checked, primary first) gets: (SMS-relative path,
/// bytes), sorted by path. The union of the templates the frameworks demand, shared ones once.
pub fn planned_files_for(organisation: &str, frameworks: &[String]) -> Vec<(String, Vec<u8>)> {
    let chosen = |fw: &str| frameworks.iter().any(|f| f == fw);
    // `<path>.section` files of the chosen frameworks, per template path (in framework order).
    let mut sections: std::collections::BTreeMap<String, Vec<(&str, &str)>> = Default::default();
    for fw in frameworks {
        for (path, bytes) in kit_files() {
            let (home, rel) = kit_home(path);
            if home != fw {
                continue;
            }
            if let (Some(target), Ok(text)) =
                (rel.strip_suffix(".section"), std::str::from_utf8(bytes))
            {
                sections
                    .entry(target.to_string())
                    .or_default()
                    .push((home, text));
            }
        }
    }
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (path, bytes) in kit_files() {
        let (home, rel) = kit_home(path);
        if !chosen(home) || rel.ends_with(".section") {
            continue;
        }
        let dest = sms_path(path);
        let bytes = match std::str::from_utf8(bytes) {
            Ok(text) => {
                let mut text = text.to_string();
                if rel.ends_with(".md") && substitutes(path) {
                    let mut extra = Vec::new();
                    let mut provides = Vec::new();
                    for a in ALSO_SERVES
                        .iter()
                        .filter(|a| a.template == *path && chosen(a.framework))
                    {
                        extra.extend(
                            expand_clauses(a.framework, a.clauses)
                                .into_iter()
                                .map(|c| (a.framework.to_string(), c)),
                        );
                        provides.extend(
                            a.provides
                                .iter()
                                .map(|d| written(&frameworks[0], a.framework, d)),
                        );
                    }
                    text = cite_frameworks(&text, home, frameworks, &extra, &provides);
                    for (fw, section) in sections.get(rel).into_iter().flatten() {
                        if *fw == frameworks[0] {
                            text.push_str(section);
                        } else {
                            text.push_str(
                                &section.replace("](clause:", &format!("](clause:{fw}:")),
                            );
                        }
                    }
                }
                if substitutes(path) {
                    text = text.replace(ORGANISATION_PLACEHOLDER, organisation);
                }
                text.into_bytes()
            }
            Err(_) => bytes.to_vec(),
        };
        files.push((dest, bytes));
    }
    files.push((
        crate::config::FILE_NAME.to_string(),
        sms_yaml_for(organisation, frameworks).into_bytes(),
    ));
    files.push((".gitignore".to_string(), GITIGNORE.as_bytes().to_vec()));
    // The pull-request gate, ready to run: GitHub Actions and GitLab CI.
    for (path, text) in crate::ci_templates::FILES {
        files.push((path.to_string(), text.as_bytes().to_vec()));
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

const GITIGNORE: &str = "\
# The evidence site that `auditbook build` writes, and its temporary folders while it replaces it.
/_site/
/_site.tmp-*/
/_site.old-*/
";

/// The `sms.yaml` of a new SMS of the default framework.
pub fn sms_yaml(organisation: &str) -> String {
    sms_yaml_for(organisation, &[KIT_FRAMEWORK.to_string()])
}

/// The `sms.yaml` of a new SMS of `frameworks` (primary first).
pub fn sms_yaml_for(organisation: &str, frameworks: &[String]) -> String {
    let framework = if frameworks.len() == 1 {
        format!(
            "# The clause catalogue the SMS is checked against (built in).\nframework: {}",
            frameworks[0]
        )
    } else {
        format!(
            "# The clause catalogues the integrated management system is checked against (built in), the\n# first primary: plain clause ids are its clauses, the others' are written `<framework>:<id>`.\nframeworks: [{}]",
            frameworks.join(", ")
        )
    };
    format!(
        "\
# Settings of the service management system (SMS), read by auditbook. Every key is described in
# the auditbook documentation (docs/format.md); `auditbook check` reports a misspelt key.
organisation: {org}

# The scope statement of the SMS in a few sentences: which services, provided to which customers,
# from which locations and by which teams. Use the same words as the scope document
# (sms/scope.md, id SMS-SCOPE). Replace the whole placeholder below, braces included.
scope: >
  {{{{FILL: the services in scope, the customers they are provided to, and the locations and teams that provide them}}}}

{framework}

# Default interval between periodic reviews of a document; a document's own `review:` overrides it.
review_interval: 12 months

# The time zone that decides what \"today\" is for review and due dates (an IANA name).
# timezone: Europe/London

# People who own and approve documents, with the e-mail addresses they commit with, so that owners
# and approvers can be matched to git authors. The service management policy and the information
# security policy must be approved by a person whose role is `top-management`. Once people are
# listed, write their `id` in a document's `owner` and `approver`.
# people:
#   - id: jsmith
#     name: Jane Smith
#     role: top-management
#     emails: [jane.smith@example.com]
#   - id: akhan
#     name: Ali Khan
#     role: quality-manager
#     emails: [ali.khan@example.com]
",
        org = yaml_string(organisation),
    )
}

/// A YAML double-quoted string.
pub(crate) fn yaml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Check the organisation's name: one line of text.
fn check_organisation(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        bail!("--org: the organisation's name is empty");
    }
    if name.chars().any(char::is_control) {
        bail!(
            "--org: the organisation's name must be one line of text, without control characters"
        );
    }
    if name.contains("{{") || name.contains("}}") {
        bail!("--org: the organisation's name must not contain `{{{{` or `}}}}`");
    }
    Ok(name.to_string())
}

/// Create a new SMS as `opts` says.
pub fn run(opts: &Options) -> Result<Outcome> {
    let organisation = check_organisation(&opts.organisation)?;
    let frameworks = check_frameworks(&opts.frameworks)?;
    let root = prepare_root(&opts.dir, opts.force)?;
    let mut written = Vec::new();
    let mut skipped = Vec::new();
    for (rel, bytes) in planned_files_for(&organisation, &frameworks) {
        match write_new(&root, &rel, &bytes)? {
            Written::Yes => written.push(rel),
            Written::Skipped(why) => skipped.push((rel, why)),
        }
    }
    let git = if opts.git {
        git_init(&root)?
    } else {
        Git::NotRequested
    };
    Ok(Outcome {
        root,
        organisation,
        frameworks,
        written,
        skipped,
        git,
    })
}

/// Make sure `dir` is a folder we may write into, creating it if needed.
fn prepare_root(dir: &Path, force: bool) -> Result<PathBuf> {
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => bail!("`{}` exists and is not a folder", dir.display()),
        Ok(_) => {
            let mut present = Vec::new();
            for entry in std::fs::read_dir(dir)
                .with_context(|| format!("cannot read the folder `{}`", dir.display()))?
            {
                let entry =
                    entry.with_context(|| format!("cannot read the folder `{}`", dir.display()))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                // A folder that only holds a fresh `git init` counts as empty.
                if name != ".git" {
                    present.push(name);
                }
            }
            present.sort();
            if !present.is_empty() && !force {
                let shown: Vec<String> = present.iter().take(3).map(|n| format!("`{n}`")).collect();
                let more = if present.len() > 3 {
                    format!(" and {} more", present.len() - 3)
                } else {
                    String::new()
                };
                bail!(
                    "`{}` is not empty (it holds {}{more}); refusing to start an SMS there.\n\
                     help: choose a new or empty folder, or pass --force to add the starter kit's \
                     missing files (existing files are never overwritten)",
                    dir.display(),
                    shown.join(", ")
                );
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the folder `{}`", dir.display()))?;
        }
        Err(e) => {
            return Err(e).with_context(|| format!("cannot open `{}`", dir.display()));
        }
    }
    dir.canonicalize()
        .with_context(|| format!("cannot open `{}`", dir.display()))
}

enum Written {
    Yes,
    Skipped(String),
}

/// Create `root/rel` with `bytes` unless it (or a folder on the way) already exists as something
/// else. Never follows a symbolic link below `root`, never truncates a file.
fn write_new(root: &Path, rel: &str, bytes: &[u8]) -> Result<Written> {
    let parts: Vec<&str> = rel.split('/').collect();
    let mut dir = root.to_path_buf();
    for (i, part) in parts[..parts.len() - 1].iter().enumerate() {
        dir.push(part);
        let shown = parts[..=i].join("/");
        match std::fs::symlink_metadata(&dir) {
            Ok(m) if m.file_type().is_symlink() => {
                return Ok(Written::Skipped(format!(
                    "`{shown}` is a symbolic link; auditbook does not write through links"
                )))
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Ok(Written::Skipped(format!(
                    "`{shown}` exists and is not a folder"
                )))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir(&dir)
                    .with_context(|| format!("cannot create the folder `{}`", dir.display()))?;
            }
            Err(e) => {
                return Err(e).with_context(|| format!("cannot open `{}`", dir.display()));
            }
        }
    }
    let path = root.join(rel);
    // `create_new` fails on any existing entry, a symbolic link included (O_EXCL).
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path);
    match file {
        Ok(mut f) => {
            f.write_all(bytes)
                .and_then(|_| f.flush())
                .with_context(|| format!("cannot write `{}`", path.display()))?;
            Ok(Written::Yes)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok(Written::Skipped("already exists; left unchanged".into()))
        }
        Err(e) => Err(e).with_context(|| format!("cannot create `{}`", path.display())),
    }
}

/// `git init` through libgit2, unless `root` is already inside a repository. The search upwards
/// stops at `GIT_CEILING_DIRECTORIES`, as git's own does.
fn git_init(root: &Path) -> Result<Git> {
    let ceilings: Vec<PathBuf> = std::env::var_os("GIT_CEILING_DIRECTORIES")
        .map(|v| std::env::split_paths(&v).collect())
        .unwrap_or_default();
    if let Ok(repo) =
        git2::Repository::open_ext(root, git2::RepositoryOpenFlags::empty(), &ceilings)
    {
        if let Some(workdir) = repo.workdir() {
            return Ok(Git::AlreadyInside(workdir.to_path_buf()));
        }
    }
    git2::Repository::init(root)
        .map(|_| Git::Initialised)
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot create a git repository in `{}`: {}",
                root.display(),
                e.message()
            )
        })
}

/// A summary of what `init` did, for people.
pub fn summary(o: &Outcome, shown_dir: &str) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "Started an SMS for {} ({}) in {shown_dir}: {} file{} written",
        o.organisation,
        o.frameworks.join(" + "),
        o.written.len(),
        if o.written.len() == 1 { "" } else { "s" }
    ));
    if o.skipped.is_empty() {
        out.push_str(".\n");
    } else {
        out.push_str(&format!(
            ", {} skipped (never overwritten):\n",
            o.skipped.len()
        ));
        for (path, why) in &o.skipped {
            out.push_str(&format!("  skipped {path}: {why}\n"));
        }
    }
    match &o.git {
        Git::Initialised => out.push_str("Created a git repository (git init).\n"),
        Git::NotRequested => out.push_str("No git repository created (--no-git).\n"),
        Git::AlreadyInside(at) => out.push_str(&format!(
            "No git repository created: the folder is already inside the one at {}.\n",
            at.display()
        )),
    }
    let dir = shell_word(shown_dir);
    let mut steps = vec![
        format!("Write the scope statement in {dir}/sms.yaml and list your people there."),
        format!("Run `auditbook check {dir}`: its \"To do\" section lists what the new SMS lacks."),
        "Work through the templates (every one is a draft): fill in each {{FILL: …}},\n     \
         then approve it (status: approved, approved: date, approver)."
            .to_string(),
        format!(
            "Add records under {dir}/records/<kind>/; each folder holds {EXAMPLE_RECORD} to copy."
        ),
    ];
    if o.git == Git::Initialised {
        steps.insert(
            0,
            format!("Commit the starting point: git -C {dir} add -A && git -C {dir} commit -m \"Start the SMS\""),
        );
    }
    out.push_str("\nNext steps:\n");
    for (i, step) in steps.iter().enumerate() {
        out.push_str(&format!("  {}. {step}\n", i + 1));
    }
    out.push_str(&format!(
        "The starter kit is explained in {dir}/README.md.\n"
    ));
    out
}

/// A path as one word for a shell command in a message.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_templates_become_inactive_examples() {
        assert_eq!(
            sms_path("records/incident.yaml"),
            "records/incident/example.yaml.sample"
        );
        assert_eq!(
            sms_path("policies/change-management-policy.md"),
            "policies/change-management-policy.md"
        );
        assert_eq!(sms_path("records/README.md"), "records/README.md");
    }

    #[test]
    fn organisation_is_quoted_for_yaml_and_checked() {
        assert_eq!(yaml_string(r#"A "B" \ C"#), r#""A \"B\" \\ C""#);
        assert!(check_organisation("  ").is_err());
        assert!(check_organisation("A\nB").is_err());
        assert!(check_organisation("{{organisation}}").is_err());
        assert_eq!(check_organisation(" Acme Ltd ").unwrap(), "Acme Ltd");
    }

    #[test]
    fn the_generated_sms_yaml_parses_without_findings() {
        let (config, diags) =
            crate::config::parse(Path::new("/s"), &sms_yaml(r#"Acme "Ops" Ltd: \ #1"#)).unwrap();
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(config.organisation, r#"Acme "Ops" Ltd: \ #1"#);
        assert!(config.scope.starts_with(FILL_PLACEHOLDER));
    }

    #[test]
    fn every_section_and_also_serves_entry_names_a_kit_template() {
        let root: Vec<&str> = kit_files()
            .iter()
            .map(|(p, _)| *p)
            .filter(|p| kit_home(p).0 == KIT_FRAMEWORK)
            .collect();
        let mut sections = 0;
        for (path, _) in kit_files() {
            if let Some(target) = path.strip_suffix(".section") {
                let (home, rel) = kit_home(target);
                assert_ne!(
                    home, KIT_FRAMEWORK,
                    "{path}: a section outside a framework folder"
                );
                assert!(
                    root.contains(&rel),
                    "{path}: no template `{rel}` to append to"
                );
                sections += 1;
            }
        }
        assert!(sections >= 6, "{sections}");
        for a in ALSO_SERVES {
            assert!(
                kit_files().iter().any(|(p, _)| *p == a.template),
                "{}: not in the kit",
                a.template
            );
            assert!(KIT_FRAMEWORKS.iter().any(|(id, _)| *id == a.framework));
        }
    }

    #[test]
    fn framework_folders_go_to_their_sms_paths() {
        assert_eq!(
            sms_path("iso27001-2022/records/risk-assessment.yaml"),
            "records/risk-assessment/example.yaml.sample"
        );
        assert_eq!(
            sms_path("iso27001-2022/sms/information-security-risk-assessment.md"),
            "sms/information-security-risk-assessment.md"
        );
        assert_eq!(kit_home("iso27001-2022x/a.md").0, KIT_FRAMEWORK);
        let two = ["iso27001:2022".to_string(), KIT_FRAMEWORK.to_string()];
        let text = "---\nid: X\nclauses: [\"7.5\"]\n---\n\nSee [a](clause:7.5).\n";
        let out = cite_frameworks(
            text,
            KIT_FRAMEWORK,
            &two,
            &[("iso27001:2022".into(), "7.5.1".into())],
            &["isms-scope".into()],
        );
        assert_eq!(
            out,
            "---\nid: X\nclauses: [\"iso20000-1:2018:7.5\", \"7.5.1\"]\nprovides: [isms-scope]\n---\n\nSee [a](clause:iso20000-1:2018:7.5).\n"
        );
    }

    #[test]
    fn the_kit_is_embedded() {
        assert!(kit_files().iter().any(|(p, _)| *p == "README.md"));
        assert!(kit_files().iter().any(|(p, _)| p.starts_with("records/")));
        let paths: Vec<_> = kit_files().iter().map(|(p, _)| *p).collect();
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(paths, sorted);
    }
}
