//! `verify --reproduce REPO`: make the bundle again from the commit its manifest names, in a
//! fresh clone of REPO, and compare every entry byte for byte. Equal entries prove that the
//! bundle is what auditbook makes from that commit (reproducible-builds practice); a difference
//! names the entries. The signature (`SHA256SUMS.sig`) is not made again: it is not part of
//! what the fingerprint covers, and `--signer` checks it.

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The outcome of a reproduction.
#[derive(Debug)]
pub struct Reproduction {
    pub commit: String,
    /// The SMS root within the repository (`""` for its top folder).
    pub root: String,
    /// Entries both zips hold, equal byte for byte.
    pub equal: usize,
    /// Entries both hold with other bytes.
    pub differing: Vec<String>,
    /// Entries only the bundle holds.
    pub only_in_bundle: Vec<String>,
    /// Entries only the rebuilt bundle holds.
    pub only_rebuilt: Vec<String>,
    /// The auditbook version the manifest names, when it is not this one.
    pub other_version: Option<String>,
}

impl Reproduction {
    pub fn ok(&self) -> bool {
        self.differing.is_empty() && self.only_in_bundle.is_empty() && self.only_rebuilt.is_empty()
    }

    /// The lines `verify` prints.
    pub fn report(&self) -> String {
        let root = if self.root.is_empty() {
            "."
        } else {
            &self.root
        };
        if self.ok() {
            return format!(
                "reproduced   every entry equal ({} entries) to a bundle made again from commit {} (SMS at {root})\n",
                self.equal, self.commit
            );
        }
        let mut s = format!(
            "NOT REPRODUCED: the bundle differs from one made again from commit {} (SMS at {root})\n",
            self.commit
        );
        if let Some(v) = &self.other_version {
            s.push_str(&format!(
                "  (the bundle was made by auditbook {}, this is {}: a difference may come from the versions)\n",
                crate::safe_text::terminal(v),
                env!("CARGO_PKG_VERSION")
            ));
        }
        for (what, list) in [
            ("differs", &self.differing),
            ("only in the bundle", &self.only_in_bundle),
            ("only in the rebuilt bundle", &self.only_rebuilt),
        ] {
            for name in list {
                s.push_str(&format!("  {what}: {}\n", crate::safe_text::terminal(name)));
            }
        }
        s
    }
}

/// A folder removed when dropped.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir() -> Result<TempDir> {
    temp_dir_named("reproduce")
}

/// A new empty folder `auditbook-WHAT-<pid>-<nanos>` in the system's temporary folder.
pub(crate) fn temp_dir_named(what: &str) -> Result<TempDir> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let path =
        std::env::temp_dir().join(format!("auditbook-{what}-{}-{nanos}", std::process::id()));
    std::fs::create_dir(&path)
        .with_context(|| format!("cannot create the folder `{}`", path.display()))?;
    Ok(TempDir(path))
}

/// A zip's entries (one `verify` has already checked) by their SHA-256, streamed one at a time,
/// with the bytes of the entries named in `keep`.
struct Hashed {
    sha256: BTreeMap<String, String>,
    kept: BTreeMap<String, Vec<u8>>,
}

fn hashed(path: &Path, keep: &[&str]) -> Result<Hashed> {
    let file = super::verify::open_regular(path)?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .with_context(|| format!("`{}` is not a readable zip archive", path.display()))?;
    let mut out = Hashed {
        sha256: BTreeMap::new(),
        kept: BTreeMap::new(),
    };
    for i in 0..zip.len() {
        let mut f = zip.by_index(i)?;
        if f.is_dir() {
            continue;
        }
        let name = f.name()?.to_string();
        let sha = if keep.contains(&name.as_str()) {
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes)?;
            let sha = super::manifest::sha256_hex(&bytes);
            out.kept.insert(name.clone(), bytes);
            sha
        } else {
            let mut hasher = Sha256::new();
            std::io::copy(&mut f, &mut hasher)?;
            super::manifest::hex(&hasher.finalize())
        };
        out.sha256.insert(name, sha);
    }
    Ok(out)
}

/// The folders of `tree` (recursively) that hold an `sms.yaml` blob with these bytes' hash.
fn roots_with(repo: &git2::Repository, tree: &git2::Tree<'_>, want: &str) -> Vec<String> {
    let mut out = Vec::new();
    let _ = tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if entry.name().ok() == Some(crate::config::FILE_NAME)
            && entry.kind() == Some(git2::ObjectType::Blob)
        {
            if let Ok(blob) = repo.find_blob(entry.id()) {
                if super::manifest::sha256_hex(blob.content()) == want {
                    out.push(dir.trim_end_matches('/').to_string());
                }
            }
        }
        git2::TreeWalkResult::Ok
    });
    out
}

/// Make the bundle at `bundle` again from its commit in a fresh clone of `repo` and compare.
pub fn reproduce(bundle: &Path, repo: &Path) -> Result<Reproduction> {
    let sms_yaml_entry = format!("sources/{}", crate::config::FILE_NAME);
    let original = hashed(bundle, &[super::manifest::MANIFEST, &sms_yaml_entry])?;
    let manifest: serde_json::Value = serde_json::from_slice(
        original
            .kept
            .get(super::manifest::MANIFEST)
            .context("the bundle has no manifest.json")?,
    )
    .context("the bundle's manifest.json is not JSON")?;
    if manifest["dirty"].as_bool() == Some(true) {
        bail!("this is a DRAFT bundle of a work tree with uncommitted changes: no commit can make it again");
    }
    let Some(commit) = manifest["commit"]["id"].as_str() else {
        bail!(
            "the bundle names no commit (it was made outside git): nothing to make it again from"
        );
    };
    let as_of = manifest["as_of"]
        .as_str()
        .and_then(|d| crate::dates::parse_date(d).ok())
        .context("the manifest has no valid `as_of` date")?;
    // A bundle made `--at` a past commit: the same commit, and the date its pages name.
    let at = match &manifest["at"] {
        serde_json::Value::Null => None,
        a => Some(crate::check::AtArg::Commit {
            commit: a["commit"]
                .as_str()
                .context("the manifest's `at` has no commit")?
                .to_string(),
            date: a["date"]
                .as_str()
                .and_then(|d| crate::dates::parse_date(d).ok())
                .context("the manifest's `at` has no valid date")?,
        }),
    };
    let Some(sms_yaml) = original.kept.get(&sms_yaml_entry) else {
        bail!("the bundle holds no sources/sms.yaml");
    };

    let source = git2::Repository::discover(repo)
        .with_context(|| format!("`{}` is not a git repository", repo.display()))?;
    let oid = git2::Oid::from_str(commit).context("the manifest's commit id is not a commit id")?;
    let found = source.find_commit(oid).with_context(|| {
        format!(
            "commit {commit} is not in `{}`: fetch it (or clone the repository the bundle was made from) and try again",
            repo.display()
        )
    })?;
    let roots = roots_with(
        &source,
        &found.tree()?,
        &super::manifest::sha256_hex(sms_yaml),
    );
    let root = match roots.as_slice() {
        [one] => one.clone(),
        [] => {
            bail!("no sms.yaml in commit {commit} has the bytes of the bundle's sources/sms.yaml")
        }
        many => bail!(
            "several folders of commit {commit} hold the bundle's sms.yaml: {}",
            many.join(", ")
        ),
    };

    // A fresh clone, so that nothing of the user's work tree, index or caches takes part.
    let tmp = temp_dir()?;
    let checkout = tmp.0.join("repo");
    let from = source
        .workdir()
        .unwrap_or_else(|| source.path())
        .to_string_lossy()
        .into_owned();
    let clone = git2::build::RepoBuilder::new()
        .clone(&from, &checkout)
        .with_context(|| format!("cannot clone `{from}`"))?;
    clone.set_head_detached(oid)?;
    clone.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))?;

    let config_text = std::str::from_utf8(sms_yaml).unwrap_or("");
    let sms_root = checkout.join(&root);
    let frameworks_in_config = crate::config::parse(&sms_root, config_text)
        .map(|(c, _)| c.frameworks.len())
        .unwrap_or(1);
    let listed: Vec<&str> = manifest["frameworks"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["id"].as_str()).collect())
        .unwrap_or_default();
    let framework = (listed.len() == 1 && frameworks_in_config > 1).then(|| listed[0].to_string());
    let sample = match &manifest["sample"] {
        serde_json::Value::Null => None,
        s => Some(crate::sample::Request {
            kind: s["kind"].as_str().unwrap_or_default().to_string(),
            size: s["size"].as_u64().unwrap_or(0) as usize,
            seed: s["seed"].as_str().unwrap_or_default().to_string(),
            from: s["from"]
                .as_str()
                .and_then(|d| crate::dates::parse_date(d).ok()),
            to: s["to"]
                .as_str()
                .and_then(|d| crate::dates::parse_date(d).ok()),
            conditions: s["where"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c.as_str())
                        .filter_map(|c| crate::sample::parse_condition(c).ok())
                        .collect()
                })
                .unwrap_or_default(),
        }),
    };
    let out = tmp.0.join("rebuilt.zip");
    super::write(&super::Options {
        path: sms_root,
        out: Some(out.clone()),
        as_of: Some(as_of),
        allow_dirty: false,
        framework,
        sample,
        sign: None,
        at,
    })
    .context("making the bundle again failed")?;
    let rebuilt = hashed(&out, &[])?.sha256;
    let original = original.sha256;

    let skip = |name: &str| name == super::sign::SIG;
    let mut r = Reproduction {
        commit: commit.to_string(),
        root,
        equal: 0,
        differing: Vec::new(),
        only_in_bundle: Vec::new(),
        only_rebuilt: Vec::new(),
        other_version: manifest["tool"]["version"]
            .as_str()
            .filter(|v| *v != env!("CARGO_PKG_VERSION"))
            .map(str::to_string),
    };
    for (name, sha) in original.iter().filter(|(n, _)| !skip(n)) {
        match rebuilt.get(name) {
            Some(b) if b == sha => r.equal += 1,
            Some(_) => r.differing.push(name.clone()),
            None => r.only_in_bundle.push(name.clone()),
        }
    }
    for name in rebuilt.keys().filter(|n| !skip(n)) {
        if !original.contains_key(name) {
            r.only_rebuilt.push(name.clone());
        }
    }
    Ok(r)
}
