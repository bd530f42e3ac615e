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
}

/// What `init` did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub root: PathBuf,
    pub organisation: String,
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

/// Where a kit file goes in a new SMS: `records/<kind>.yaml` becomes the example record of its
/// folder; every other file keeps its path.
pub fn sms_path(kit_path: &str) -> String {
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

/// Kit folders of templates for one framework other than ISO/IEC 20000-1:2018, written only
/// when that framework is chosen (`init --framework`, on another branch): the Statement of
/// Applicability for ISO/IEC 27001:2022 is `iso27001-2022/sms/statement-of-applicability.md`.
/// Until then, init leaves them out.
pub const FRAMEWORK_FOLDERS: &[&str] = &["iso27001-2022/"];

/// Every file a new SMS gets: (SMS-relative path, bytes), sorted by path.
pub fn planned_files(organisation: &str) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = kit_files()
        .iter()
        .filter(|(path, _)| !FRAMEWORK_FOLDERS.iter().any(|f| path.starts_with(f)))
        .map(|(path, bytes)| {
            let dest = sms_path(path);
            let bytes = match std::str::from_utf8(bytes) {
                Ok(text) if substitutes(path) => text
                    .replace(ORGANISATION_PLACEHOLDER, organisation)
                    .into_bytes(),
                _ => bytes.to_vec(),
            };
            (dest, bytes)
        })
        .collect();
    files.push((
        crate::config::FILE_NAME.to_string(),
        sms_yaml(organisation).into_bytes(),
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

/// The `sms.yaml` of a new SMS.
pub fn sms_yaml(organisation: &str) -> String {
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

# The clause catalogue the SMS is checked against (built in).
framework: iso20000-1:2018

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
        org = yaml_string(organisation)
    )
}

/// A YAML double-quoted string.
fn yaml_string(s: &str) -> String {
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
    let root = prepare_root(&opts.dir, opts.force)?;
    let mut written = Vec::new();
    let mut skipped = Vec::new();
    for (rel, bytes) in planned_files(&organisation) {
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
        "Started an ISO/IEC 20000-1:2018 SMS for {} in {shown_dir}: {} file{} written",
        o.organisation,
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
    fn the_kit_is_embedded() {
        assert!(kit_files().iter().any(|(p, _)| *p == "README.md"));
        assert!(kit_files().iter().any(|(p, _)| p.starts_with("records/")));
        let paths: Vec<_> = kit_files().iter().map(|(p, _)| *p).collect();
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(paths, sorted);
    }
}
