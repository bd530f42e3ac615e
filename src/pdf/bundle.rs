//! `pdf --bundle FILE.zip`: the PDF of an auditor bundle, for an auditor who has the zip and not
//! the repository. The bundle is verified first exactly as `verify` does; a bundle with any
//! problem gives no PDF. Then its `sources/` (the SMS files as committed) are written to a
//! temporary folder and loaded as a work tree outside git, the approved texts in `effective/`
//! stand in for the history's effective versions, and the manifest gives what git would have:
//! the commit, the as-of date, `--at`, DRAFT and the findings counts of the run that made it.
//!
//! Every entry read is hashed again and compared with `SHA256SUMS`, whose own hash must be the
//! fingerprint `verify` computed: the file cannot change between the check and the reading.

use super::Provenance;
use crate::bundle::manifest;
use crate::bundle::reproduce::{temp_dir_named, TempDir};
use crate::check::{self, Loaded};
use anyhow::{anyhow, bail, Context, Result};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// An SMS loaded from a bundle; the folder it was written to lives as long as this.
pub struct FromBundle {
    pub loaded: Loaded,
    pub provenance: Provenance,
    /// The approved texts in `effective/`, parsed.
    pub in_force: super::InForce,
    _dir: TempDir,
}

/// The entries of a verified bundle that a PDF needs, each checked against `SHA256SUMS`.
struct Entries {
    by_name: BTreeMap<String, Vec<u8>>,
}

impl Entries {
    /// Reads `manifest.json`, `sources/` and `effective/` of the zip at `path`, whose
    /// `SHA256SUMS` must hash to `fingerprint`.
    fn read(path: &Path, fingerprint: &str) -> Result<Entries> {
        let file = crate::bundle::verify::open_regular(path)?;
        let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
            .with_context(|| format!("`{}` is not a readable zip archive", path.display()))?;
        let changed = || {
            anyhow!(
                "`{}` changed while auditbook was reading it (it verified, then its bytes differed)\nhelp: run it again on a copy of the bundle that nothing writes to",
                path.display()
            )
        };
        let sums = read_entry(&mut zip, manifest::SUMS, path)?.ok_or_else(changed)?;
        if manifest::sha256_hex(&sums) != fingerprint {
            return Err(changed());
        }
        let sums = String::from_utf8(sums).map_err(|_| changed())?;
        let listed: BTreeMap<&str, &str> = sums
            .lines()
            .filter_map(|l| l.split_once("  "))
            .map(|(sha, name)| (name, sha))
            .collect();
        let mut by_name = BTreeMap::new();
        for (name, sha) in &listed {
            let wanted = *name == manifest::MANIFEST
                || name.starts_with("sources/")
                || name.starts_with("effective/");
            if !wanted {
                continue;
            }
            let bytes = read_entry(&mut zip, name, path)?.ok_or_else(changed)?;
            if manifest::sha256_hex(&bytes) != *sha {
                return Err(changed());
            }
            by_name.insert(name.to_string(), bytes);
        }
        Ok(Entries { by_name })
    }
}

/// The bytes of entry `name`, or `None` when the zip has no such entry.
fn read_entry<R: Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
    path: &Path,
) -> Result<Option<Vec<u8>>> {
    let Some(index) = zip.index_for_name(name) else {
        return Ok(None);
    };
    let mut f = zip
        .by_index(index)
        .with_context(|| format!("cannot read `{name}` in `{}`", path.display()))?;
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes)
        .with_context(|| format!("cannot read `{name}` in `{}`", path.display()))?;
    Ok(Some(bytes))
}

/// Verifies the bundle at `path` and loads the SMS its `sources/` hold.
pub fn load(path: &Path) -> Result<FromBundle> {
    let v = crate::bundle::verify::verify(path, None)?;
    if !v.ok() {
        let (problems, _) = crate::bundle::verify::report(&v);
        bail!(
            "`{}` does not verify ({} problem{}), so no PDF is made from it:\n{}help: ask the organisation for the bundle again, and its fingerprint through another channel; `auditbook verify {}` shows the same",
            path.display(),
            v.problems.len(),
            if v.problems.len() == 1 { "" } else { "s" },
            problems,
            path.display()
        );
    }
    let fingerprint = v.fingerprint.clone().ok_or_else(|| {
        anyhow!(
            "`{}` has no SHA256SUMS, so it has no fingerprint",
            path.display()
        )
    })?;
    let entries = Entries::read(path, &fingerprint)?;
    let manifest: serde_json::Value = entries
        .by_name
        .get(manifest::MANIFEST)
        .map(|b| serde_json::from_slice(b))
        .transpose()
        .ok()
        .flatten()
        .ok_or_else(|| anyhow!("`{}` has no readable manifest.json", path.display()))?;

    let dir = temp_dir_named("pdf")?;
    for (name, bytes) in &entries.by_name {
        let Some(rel) = name.strip_prefix("sources/") else {
            continue;
        };
        // `verify` refused every unsafe name; this is the belt to its braces.
        if crate::bundle::name_problem(rel).is_some() {
            bail!("`{}`: unsafe entry name `{name}`", path.display());
        }
        let dest = dir.0.join(rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create the folder `{}`", parent.display()))?;
        }
        std::fs::write(&dest, bytes)
            .with_context(|| format!("cannot write `{}`", dest.display()))?;
    }
    if !dir.0.join(crate::config::FILE_NAME).is_file() {
        bail!(
            "`{}` holds no sources/sms.yaml, so there is no SMS to print\nhelp: make the bundle with `auditbook bundle` (it always holds sources/)",
            path.display()
        );
    }

    let as_of = manifest["as_of"]
        .as_str()
        .and_then(|d| crate::dates::parse_date(d).ok())
        .ok_or_else(|| anyhow!("the manifest of `{}` has no as_of date", path.display()))?;
    let primary = manifest["framework"]["id"].as_str().map(str::to_string);
    let shown = manifest["frameworks"].as_array().map_or(0, Vec::len);
    let mut opts = check::Options {
        path: dir.0.clone(),
        as_of: Some(as_of),
        framework: None,
        at: None,
    };
    let mut loaded = check::load(&opts)?;
    if loaded.history.is_some() {
        bail!(
            "the temporary folder `{}` is inside a git repository, so the bundle's sources would be read with that repository's history\nhelp: point TMPDIR at a folder outside git",
            dir.0.display()
        );
    }
    // A bundle made with --framework shows fewer frameworks than its sms.yaml loads.
    if shown > 0 && shown < loaded.catalog.frameworks.len() {
        opts.framework = primary;
        loaded = check::load(&opts)?;
    }

    // The approved texts in force of documents being revised (what the history gave).
    let mut in_force = super::InForce::new();
    for e in manifest["effective"].as_array().into_iter().flatten() {
        let (Some(document), Some(commit), Some(doc_path), Some(entry)) = (
            e["document"].as_str(),
            e["commit"].as_str(),
            e["path"].as_str(),
            e["entry"].as_str(),
        ) else {
            continue;
        };
        let Some(d) = entries
            .by_name
            .get(entry)
            .and_then(|b| super::parse_in_force(&loaded, doc_path, b))
        else {
            continue;
        };
        in_force.insert(crate::ids::key(document), d.clone());
        loaded.effective.insert(
            crate::ids::key(document),
            crate::model::Effective {
                version: d.version.map(|v| v.text),
                approved: d.approved,
                clauses: d.clauses.into_iter().map(|c| c.id).collect(),
                provides: d.provides.into_iter().map(|p| p.text).collect(),
                controls: d.controls,
                commit: commit.to_string(),
                path: doc_path.to_string(),
            },
        );
    }

    let commit = manifest["commit"]["id"].as_str().map(|id| {
        let date = manifest["commit"]["time"]
            .as_str()
            .and_then(|t| t.get(..10))
            .unwrap_or("")
            .to_string();
        (id.to_string(), date)
    });
    let at = match (
        manifest["at"]["date"].as_str(),
        manifest["at"]["commit"].as_str(),
    ) {
        (Some(date), Some(commit)) => Some(check::At {
            date: date.to_string(),
            commit: commit.to_string(),
        }),
        _ => None,
    };
    let count = |k: &str| {
        manifest["findings"][k]
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0)
    };
    let provenance = Provenance {
        commit,
        at,
        draft: manifest["dirty"].as_bool().unwrap_or(false),
        fingerprint: Some(fingerprint),
        findings: Some(crate::diag::Counts {
            errors: count("errors"),
            warnings: count("warnings"),
            notes: count("notes"),
        }),
    };
    Ok(FromBundle {
        loaded,
        provenance,
        in_force,
        _dir: dir,
    })
}
