//! `check`: load + link + rules. The other commands (build, bundle) start from the same [`Loaded`]
//! value, so every output is made from one reading of the SMS.

use crate::catalog::{self, Catalog};
use crate::config::{self, Config};
use crate::diag::{self, Diagnostic};
use crate::model::{self, Model};
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
}

/// Everything read from the SMS, before rules.
pub struct Loaded {
    pub config: Config,
    pub catalog: Catalog,
    pub snapshot: Snapshot,
    pub sources: Sources,
    pub as_of: Date,
    /// Findings made while loading (config, files, frontmatter, frameworks).
    pub load_findings: Vec<Diagnostic>,
}

impl Loaded {
    pub fn model(&self) -> Model<'_> {
        model::link(
            &self.config,
            &self.catalog,
            &self.sources,
            &self.snapshot,
            self.as_of,
        )
    }

    /// All findings: loading plus rules, with sms.yaml levels applied, sorted.
    pub fn findings(&self, model: &Model<'_>) -> Vec<Diagnostic> {
        let mut all = self.load_findings.clone();
        all.extend(rules::check(model));
        rules::apply_levels(&self.config, all)
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
    let root = config::discover(&opts.path)?;
    let (config, mut findings) = config::load(&root)?;
    let snapshot = snapshot::from_work_tree(&config)?;
    let (sources, source_findings) = source::parse(&config, &snapshot);
    findings.extend(source_findings);
    let catalog = select_catalog(&config, &sources, &mut findings)?;
    let as_of = match opts.as_of {
        Some(d) => d,
        None => default_as_of(&config)?,
    };
    Ok(Loaded {
        config,
        catalog,
        snapshot,
        sources,
        as_of,
        load_findings: findings,
    })
}

/// The primary catalogue: a framework file whose id sms.yaml names, else the built-in one.
fn select_catalog(
    config: &Config,
    sources: &Sources,
    findings: &mut Vec<Diagnostic>,
) -> Result<Catalog> {
    let mut user = Vec::new();
    for (path, text) in &sources.frameworks {
        if let Some(c) = catalog::parse(text, path, findings) {
            user.push(c);
        }
    }
    if let Some(c) = user.iter().find(|c| c.id == config.framework) {
        return Ok(c.clone());
    }
    if config.framework == catalog::BUILTIN_ID {
        return catalog::builtin();
    }
    let mut known = vec![catalog::BUILTIN_ID.to_string()];
    known.extend(user.iter().map(|c| c.id.clone()));
    bail!(
        "sms.yaml: framework `{}` is neither built in nor defined under `{}/`; known: {}",
        config.framework,
        config.paths.frameworks,
        known.join(", ")
    )
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
    let loaded = load(opts)?;
    let findings = {
        let model = loaded.model();
        loaded.findings(&model)
    };
    let counts = diag::count(&findings);
    Ok((loaded, Report { findings, counts }))
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
