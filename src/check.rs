//! `check`: load + link + rules. The other commands (build, bundle) start from the same [`Loaded`]
//! value, so every output is made from one reading of the SMS.

use crate::catalog::{self, Catalog};
use crate::config::{self, Config};
use crate::diag::{self, Diagnostic};
use crate::history::{self, History};
use crate::model::{self, Model};
use crate::progress::{timed, Phase};
use crate::rules;
use crate::snapshot::{self, Snapshot};
use crate::source::{self, Sources};
use anyhow::{bail, Result};
use jiff::civil::Date;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub path: PathBuf,
    /// The as-of date; default: `SOURCE_DATE_EPOCH`, else today in the SMS's time zone.
    pub as_of: Option<Date>,
    /// `--framework ID`: check and show only that framework's clauses (the others stay loaded,
    /// so their ids are known).
    pub framework: Option<String>,
    /// `--at DATE|REV`: the SMS as it stood at a past commit (see [`load_committed`]).
    pub at: Option<AtArg>,
}

/// What `--at` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AtArg {
    /// The newest first-parent commit of HEAD dated on or before this day.
    Date(Date),
    /// Any revision git can resolve.
    Rev(String),
    /// A commit id with the date the outputs say (how `verify --reproduce` repeats an `--at` run).
    Commit { commit: String, date: Date },
}

impl AtArg {
    /// `--at` on the command line: a `YYYY-MM-DD` date, else a revision.
    pub fn parse(s: &str) -> AtArg {
        match crate::dates::parse_date(s) {
            Ok(d) => AtArg::Date(d),
            Err(_) => AtArg::Rev(s.to_string()),
        }
    }
}

/// The past state an `--at` run shows: every output says "as it stood on `date` (commit …)".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct At {
    /// The date asked for, or for a revision its committer date (`YYYY-MM-DD`).
    pub date: String,
    /// The full id of the commit shown.
    pub commit: String,
}

impl At {
    /// "As it stood on DATE (commit abc123456789)".
    pub fn label(&self) -> String {
        format!(
            "as it stood on {} (commit {})",
            self.date,
            self.commit.get(..12).unwrap_or(&self.commit)
        )
    }
}

/// Everything read from the SMS, before rules.
pub struct Loaded {
    pub config: Config,
    pub catalog: Catalog,
    pub snapshot: Snapshot,
    pub sources: Sources,
    pub as_of: Date,
    /// Findings made while loading (config, files, frontmatter, frameworks, uncommitted changes).
    pub load_findings: Vec<Diagnostic>,
    /// What git knows about the SMS; `None` when the SMS is not in a git repository.
    pub history: Option<History>,
    /// Effective versions of documents in progress (empty without a complete history).
    pub effective: model::EffectiveVersions,
    /// The work tree differs from HEAD (or there is no commit): every output says DRAFT.
    pub draft: bool,
    /// `shallow-clone` / `no-git-history` notices: errors under `--require-history`.
    pub history_notices: Vec<Diagnostic>,
    /// `--require-history`: a shallow clone or a folder outside git is an error.
    pub require_history: bool,
    /// `--at`: the past commit shown, and the date the outputs name.
    pub at: Option<At>,
}

impl Loaded {
    pub fn model(&self) -> Model<'_> {
        timed(Phase::Rules, || self.link())
    }

    fn link(&self) -> Model<'_> {
        model::link_with(
            &self.config,
            &self.catalog,
            &self.sources,
            &self.snapshot,
            self.as_of,
            Some(&self.effective),
        )
    }

    /// All findings: loading plus rules (history rules included), with sms.yaml levels applied,
    /// sorted. Under `--require-history` the history notices are errors whatever sms.yaml says.
    pub fn findings(&self, model: &Model<'_>) -> Vec<Diagnostic> {
        timed(Phase::Rules, || self.findings_untimed(model))
    }

    fn findings_untimed(&self, model: &Model<'_>) -> Vec<Diagnostic> {
        let mut all = self.load_findings.clone();
        all.extend(source::output_limit_finding(&self.config, &self.snapshot));
        all.extend(source::unportable_name_findings(&self.snapshot));
        // Independent passes over the same model: on all cores, joined in the order they ran in
        // before (the sort below keeps equal findings in that order).
        let ((file_and_sms, history), suspect) = rayon::join(
            || {
                rayon::join(
                    || rules::check(model),
                    || {
                        self.history
                            .as_ref()
                            .map(|h| history::rules::check(h, model))
                            .unwrap_or_default()
                    },
                )
            },
            || crate::suspect::findings(model, self.history.as_ref()),
        );
        all.extend(file_and_sms);
        all.extend(history);
        all.extend(suspect);
        let config = &self.config;
        let aggregate = |all: Vec<Diagnostic>| {
            diag::aggregate_rows(all, |p| match snapshot::role(config, p) {
                snapshot::Role::Record if crate::tabular::Format::of(p).is_some() => {
                    Some(diag::Grouped::Rows)
                }
                snapshot::Role::Document => Some(diag::Grouped::Lines),
                _ => None,
            })
        };
        if !self.require_history {
            all.extend(self.history_notices.iter().cloned());
            let mut all = aggregate(rules::apply_levels(&self.config, all));
            diag::sort(&mut all);
            return all;
        }
        let mut all = aggregate(rules::apply_levels(&self.config, all));
        all.extend(self.history_notices.iter().cloned().map(|mut d| {
            d.severity = diag::Severity::Error;
            d.help = Some(match d.code {
                "shallow-clone" => "--require-history needs the full history: fetch it (`git fetch --unshallow`; in GitHub Actions, `actions/checkout` with `fetch-depth: 0`)".to_string(),
                _ => "--require-history needs the SMS in a git repository with at least one commit".to_string(),
            });
            d
        }));
        diag::sort(&mut all);
        all
    }

    /// The text of an SMS file, for showing source lines.
    pub fn text_of(&self, path: &str) -> Option<String> {
        match &self.snapshot.get(path)?.kind {
            snapshot::EntryKind::File { bytes: Some(b), .. } => std::str::from_utf8(b)
                .ok()
                .map(|t| crate::markdown::normalise(t).into_owned()),
            _ => None,
        }
    }
}

/// Load the SMS at (or above) `opts.path`.
pub fn load(opts: &Options) -> Result<Loaded> {
    let (config, mut findings) = timed(Phase::Load, || -> Result<_> {
        let root = config::discover(&opts.path)?;
        config::load(&root)
    })?;
    // The history walk and the work tree are independent: read them at the same time.
    let (work, git) = rayon::join(
        || {
            timed(Phase::Load, || -> Result<_> {
                crate::memo::load_work_tree(&config)
            })
        },
        || timed(Phase::History, || history::load(&config)),
    );
    let (mut snapshot, (mut sources, mut source_findings)) = work?;
    let git = git?;
    // A sparse checkout: the files outside it are not in the work tree, and not deleted either;
    // read them from HEAD (the index says they are as committed).
    if let Some(h) = git.history.as_ref().filter(|h| !h.sparse.is_empty()) {
        if let Some(head) = &h.head {
            let committed = history::snapshot(&config, &head.commit)?;
            let missing: Vec<snapshot::Entry> = h
                .sparse
                .iter()
                .filter(|p| snapshot.get(p).is_none())
                .filter_map(|p| committed.get(p).cloned())
                .collect();
            snapshot.entries.extend(missing);
            snapshot.entries.sort_by(|a, b| a.path.cmp(&b.path));
            (sources, source_findings) = timed(Phase::Load, || source::parse(&config, &snapshot));
        }
    }
    findings.extend(source_findings);
    let draft = git
        .history
        .as_ref()
        .is_some_and(|h| !h.dirty.is_empty() || h.state == history::State::NoCommits);
    assemble(opts, config, snapshot, sources, findings, git, draft)
}

/// The common end of [`load`] and [`load_committed`]: catalogue, as-of date, effective versions.
fn assemble(
    opts: &Options,
    config: Config,
    snapshot: Snapshot,
    sources: Sources,
    mut findings: Vec<Diagnostic>,
    git: history::HistoryLoad,
    draft: bool,
) -> Result<Loaded> {
    let mut catalog = timed(Phase::Load, || {
        select_catalog(&config, &sources, &mut findings)
    })?;
    if let Some(id) = &opts.framework {
        focus(&mut catalog, id)?;
    }
    let as_of = match opts.as_of {
        Some(d) => d,
        None => default_as_of(&config)?,
    };
    findings.extend(git.findings);
    let effective = timed(Phase::History, || {
        git.history
            .as_ref()
            .map(|h| h.effective_versions(&sources))
            .unwrap_or_default()
    });
    let effective = crate::soa::effective_tables(&config, &catalog, &sources, effective);
    Ok(Loaded {
        config,
        catalog,
        snapshot,
        sources,
        as_of,
        load_findings: findings,
        history: git.history,
        effective,
        draft,
        history_notices: git.notices,
        require_history: false,
        at: None,
    })
}

/// [`load`], with the SMS as committed at HEAD instead of the work tree (DESIGN "Determinism":
/// `build` and `bundle` render HEAD's tree unless `--allow-dirty`). sms.yaml, documents, records,
/// frameworks and templates all come from HEAD's tree, so the result is a function of the commit
/// and the as-of date; `draft` is false and the `uncommitted-changes` finding is dropped (the
/// work-tree files that differ stay listed in `history.dirty`). Outside git, or before the first
/// commit, there is no HEAD to read: this is [`load`].
pub fn load_committed(opts: &Options) -> Result<Loaded> {
    let load_started = std::time::Instant::now();
    let root = config::discover(&opts.path)?;
    let Some(repo) = history::Repo::open(&root)? else {
        if opts.at.is_some() {
            bail!(
                "--at needs the SMS's git history, and `{}` is not in a git repository.\nhelp: run it in a clone of the repository that holds the SMS",
                root.display()
            );
        }
        return load(opts);
    };
    if let Some(arg) = &opts.at {
        return load_at(opts, &root, &repo, arg, load_started);
    }
    let Some(head) = repo.head_commit()? else {
        return load(opts);
    };
    let (config, findings, snapshot, sources) =
        committed_sources(&root, &repo, &head.commit, "HEAD")?;
    crate::progress::record(Phase::Load, load_started.elapsed());
    let mut git = timed(Phase::History, || history::load(&config))?;
    if git
        .history
        .as_ref()
        .and_then(|h| h.head.as_ref())
        .map(|h| &h.commit)
        != Some(&head.commit)
    {
        bail!("HEAD moved while auditbook was reading it (a commit or checkout ran meanwhile); run it again");
    }
    git.findings.retain(|d| d.code != "uncommitted-changes");
    assemble(opts, config, snapshot, sources, findings, git, false)
}

/// `--at DATE|REV` ([`load_committed`]): the SMS as committed at the commit `arg` names, with
/// the history up to that commit only; the as-of date defaults to the date `--at` names.
fn load_at(
    opts: &Options,
    root: &Path,
    repo: &history::Repo,
    arg: &AtArg,
    load_started: std::time::Instant,
) -> Result<Loaded> {
    let (found, date) = match arg {
        AtArg::Date(d) => (repo.commit_on_or_before(*d)?, *d),
        AtArg::Rev(rev) => {
            let c = repo.commit_of_rev(rev)?;
            let d = c.commit_date;
            (c, d)
        }
        AtArg::Commit { commit, date } => (repo.commit_by_id(commit)?, *date),
    };
    let short = found.commit.get(..12).unwrap_or(&found.commit).to_string();
    let (config, findings, snapshot, sources) =
        committed_sources(root, repo, &found.commit, &format!("commit {short}"))?;
    crate::progress::record(Phase::Load, load_started.elapsed());
    let git = timed(Phase::History, || {
        history::load_at(&config, repo, &found.commit)
    })?;
    let opts = Options {
        as_of: Some(opts.as_of.unwrap_or(date)),
        ..opts.clone()
    };
    let mut loaded = assemble(&opts, config, snapshot, sources, findings, git, false)?;
    loaded.at = Some(At {
        date: date.to_string(),
        commit: found.commit,
    });
    Ok(loaded)
}

/// sms.yaml, the snapshot and the parsed sources as committed in `commit` (`what` names it in
/// messages).
fn committed_sources(
    root: &Path,
    repo: &history::Repo,
    commit: &str,
    what: &str,
) -> Result<(Config, Vec<Diagnostic>, Snapshot, Sources)> {
    let short = commit.get(..12).unwrap_or(commit);
    let Some(bytes) = repo.read_committed(commit, config::FILE_NAME)? else {
        bail!(
            "`{}` is not committed at {what} ({short}).\nhelp: commit the SMS, or pass --allow-dirty to use the work tree (the output is then marked DRAFT)",
            root.join(config::FILE_NAME).display()
        );
    };
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("sms.yaml at {what} ({short}) is not UTF-8 text"))?;
    let (mut config, mut findings) = config::parse(root, &text)?;
    config::add_key_files(
        &mut config,
        |rel| repo.read_committed(commit, rel),
        &mut findings,
    );
    let mut snapshot = history::snapshot(&config, commit)?;
    // Templates are read only when the site renders; give it HEAD's bytes, not the work tree's.
    let templates = format!("{}/", config.paths.templates);
    for entry in &mut snapshot.entries {
        if let snapshot::EntryKind::File { size, bytes: None } = &entry.kind {
            if entry.path.starts_with(&templates) && *size <= config.limits.max_file_size {
                if let Some(b) = repo.read_committed(commit, &entry.path)? {
                    entry.kind = snapshot::EntryKind::File {
                        size: b.len() as u64,
                        bytes: Some(b.into()),
                    };
                }
            }
        }
    }
    let (sources, source_findings) = source::parse(&config, &snapshot);
    findings.extend(source_findings);
    Ok((config, findings, snapshot, sources))
}

/// [`load`], with the SMS as staged in the git index instead of the work tree (`check --staged`,
/// the pre-commit hook): sms.yaml, documents, records and frameworks all come from the blobs the
/// index names, so unstaged edits are ignored and the check judges exactly what `git commit`
/// would commit. The history is HEAD's, as for [`load`]; `draft` is false and the
/// `uncommitted-changes` finding is dropped (staging is the point). Outside git it is a failure.
pub fn load_staged(opts: &Options) -> Result<Loaded> {
    let root = config::discover(&opts.path)?;
    let Some(repo) = history::Repo::open(&root)? else {
        bail!(
            "`{}` is not in a git repository, so there is no index to check.\nhelp: run `check` without --staged to check the files as they are",
            root.display()
        );
    };
    let Some(bytes) = repo.read_staged(config::FILE_NAME)? else {
        bail!(
            "`{}` is not staged (the git index has no such file).\nhelp: `git add {}`, or run `check` without --staged",
            root.join(config::FILE_NAME).display(),
            config::FILE_NAME
        );
    };
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("sms.yaml as staged is not UTF-8 text"))?;
    let (mut config, mut findings) = config::parse(&root, &text)?;
    config::add_key_files(&mut config, |rel| repo.read_staged(rel), &mut findings);
    let (snapshot, sources, source_findings) = timed(Phase::Load, || -> Result<_> {
        let snapshot = repo.staged_snapshot(&config)?;
        let (sources, source_findings) = source::parse(&config, &snapshot);
        Ok((snapshot, sources, source_findings))
    })?;
    findings.extend(source_findings);
    let mut git = timed(Phase::History, || history::load(&config))?;
    git.findings.retain(|d| d.code != "uncommitted-changes");
    assemble(opts, config, snapshot, sources, findings, git, false)
}

/// The catalogue of every framework sms.yaml names, primary first, combined into one (see
/// `catalog::combine`): for each id, a framework file under `frameworks/` with that id, else the
/// built-in one. An id that is neither stops the run (exit 2) with the closest known id.
pub(crate) fn select_catalog(
    config: &Config,
    sources: &Sources,
    findings: &mut Vec<Diagnostic>,
) -> Result<Catalog> {
    let mut user = Vec::new();
    let before = findings.len();
    for (path, text) in &sources.frameworks {
        if let Some(c) = catalog::parse(text, path, findings) {
            user.push(c);
        }
    }
    // Why framework files could not be used: the selected one may be among them.
    let invalid: Vec<String> = findings[before..]
        .iter()
        .filter(|d| d.code == "framework-invalid")
        .map(|d| match (&d.path, d.pos) {
            (Some(p), Some(pos)) => format!("\n  {p}:{}:{}: {}", pos.line, pos.col, d.message),
            (Some(p), None) => format!("\n  {p}: {}", d.message),
            (None, _) => format!("\n  {}", d.message),
        })
        .collect();
    let mut chosen = Vec::with_capacity(config.frameworks.len());
    for id in &config.frameworks {
        if let Some(c) = user.iter().find(|c| &c.id == id) {
            chosen.push(c.clone());
            continue;
        }
        if let Some(c) = catalog::builtin_by_id(id) {
            chosen.push(c?);
            continue;
        }
        let mut known: Vec<String> = catalog::builtin_ids()
            .into_iter()
            .map(String::from)
            .collect();
        known.extend(user.iter().map(|c| c.id.clone()));
        if !invalid.is_empty() {
            bail!(
                "sms.yaml: framework `{id}` is not built in, and the framework files under `{}/` that could be it are invalid:{}\nhelp: fix the errors above (`docs/catalog.md` gives the schema); valid catalogues: {}",
                config.paths.frameworks,
                invalid.join(""),
                known.join(", ")
            );
        }
        let hint = crate::ids::closest(id, known.iter().map(String::as_str), 3)
            .map(|s| format!("\nhelp: did you mean `{s}`?"))
            .unwrap_or_default();
        bail!(
            "sms.yaml: framework `{id}` is neither built in nor defined under `{}/`; known: {}{hint}",
            config.paths.frameworks,
            known.join(", ")
        )
    }
    let mappings = {
        let refs: Vec<&Catalog> = chosen.iter().collect();
        catalog::mapping::select(builtin_mappings()?, &refs, &sources.mappings, findings)
    };
    let mut chosen = chosen.into_iter();
    let Some(primary) = chosen.next() else {
        bail!("sms.yaml names no framework");
    };
    let mut combined = catalog::combine(primary, chosen.collect());
    combined.mappings = mappings;
    Ok(combined)
}

/// The built-in mappings, read once per process (they are data embedded in the binary).
fn builtin_mappings() -> Result<&'static [catalog::Mapping]> {
    static BUILTIN: std::sync::OnceLock<std::result::Result<Vec<catalog::Mapping>, String>> =
        std::sync::OnceLock::new();
    match BUILTIN.get_or_init(|| catalog::builtin_mappings().map_err(|e| e.to_string())) {
        Ok(m) => Ok(m),
        Err(e) => bail!("{e}"),
    }
}

/// `--framework ID`: restrict the catalogue to one of the frameworks sms.yaml loads.
pub(crate) fn focus(catalog: &mut Catalog, id: &str) -> Result<()> {
    let Some(fi) = catalog.framework_index(id) else {
        let loaded: Vec<&str> = catalog.frameworks.iter().map(|f| f.id.as_str()).collect();
        let hint = crate::ids::closest(id, loaded.iter().copied(), 3)
            .map(|s| format!("did you mean `{s}`?"))
            .unwrap_or_else(|| "add it to `frameworks:` in sms.yaml first".into());
        bail!(
            "--framework {id}: sms.yaml does not load that framework (loaded: {})\nhelp: {hint}",
            loaded.join(", ")
        );
    };
    catalog.restrict(fi);
    Ok(())
}

/// Today in the SMS's time zone, or the date of `SOURCE_DATE_EPOCH` when that is set.
pub fn default_as_of(config: &Config) -> Result<Date> {
    let tz = match &config.timezone {
        Some(name) => jiff::tz::TimeZone::get(name)?,
        None => jiff::tz::TimeZone::UTC,
    };
    let now = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => {
            let secs: i64 = v.trim().parse().map_err(|_| {
                anyhow::anyhow!("SOURCE_DATE_EPOCH=`{v}` is not a number of seconds")
            })?;
            jiff::Timestamp::from_second(secs)?
        }
        Err(_) => jiff::Timestamp::now(),
    };
    Ok(now.to_zoned_datetime(tz).date())
}

/// The result of `check`.
pub struct Report {
    pub findings: Vec<Diagnostic>,
    pub counts: diag::Counts,
}

/// Run the whole check at `path`.
pub fn run(opts: &Options) -> Result<(Loaded, Report)> {
    run_requiring_history(opts, false)
}

/// [`run`]; with `require_history`, a shallow clone or an SMS outside git is an error.
pub fn run_requiring_history(opts: &Options, require_history: bool) -> Result<(Loaded, Report)> {
    finish(load(opts)?, require_history)
}

/// `check --at DATE|REV`: [`run_requiring_history`] over the SMS as it stood at that commit.
pub fn run_at(opts: &Options, require_history: bool) -> Result<(Loaded, Report)> {
    finish(load_committed(opts)?, require_history)
}

/// `check --staged`: [`run_requiring_history`] over the SMS as staged ([`load_staged`]).
pub fn run_staged(opts: &Options, require_history: bool) -> Result<(Loaded, Report)> {
    finish(load_staged(opts)?, require_history)
}

fn finish(mut loaded: Loaded, require_history: bool) -> Result<(Loaded, Report)> {
    loaded.require_history = require_history;
    let report = {
        let model = loaded.model();
        loaded.report(&model)
    };
    Ok((loaded, report))
}

impl Loaded {
    /// The findings of the check, counted, from a model of this SMS: for a caller that keeps
    /// the model (linking a million records twice costs a tenth of a check).
    pub fn report(&self, model: &Model<'_>) -> Report {
        let findings = self.findings(model);
        let counts = diag::count(&findings);
        Report { findings, counts }
    }
}

/// Relative display of a path under the current directory, for messages.
pub fn display_root(root: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    match cwd.as_deref().and_then(|c| root.strip_prefix(c).ok()) {
        Some(p) if p.as_os_str().is_empty() => ".".into(),
        Some(p) => p.display().to_string(),
        None => root.display().to_string(),
    }
}
