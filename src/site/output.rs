//! The output folder: which folders auditbook may replace, and the atomic replace itself.
//!
//! Rules (DESIGN "Output folder"): auditbook replaces only a folder that holds its marker file
//! [`MARKER`]; it refuses a non-empty folder without it, a symbolic link, `/`, and any path that is
//! or contains the SMS root. A build writes into the sibling `<out>.tmp-<pid>`, renames the old
//! site to `<out>.old-<pid>`, renames the new one into place and deletes the old one, so a failed
//! build leaves the previous site as it was.

use crate::config::Config;
use anyhow::{bail, Context, Result};
use std::path::{Component, Path, PathBuf};

/// The marker file of a folder auditbook made (and may replace).
pub const MARKER: &str = ".auditbook-site";

const MARKER_TEXT: &str =
    "This folder is an evidence site made by auditbook. `auditbook build` replaces it as a whole.\n";

/// The output folder for an SMS: `out` when given (relative to the current directory), else
/// `paths.output` below the SMS root. Checked against the rules above; never created here.
pub fn resolve(config: &Config, out: Option<&Path>) -> Result<PathBuf> {
    let root = &config.root;
    let wanted = match out {
        Some(p) if p.is_absolute() => p.to_path_buf(),
        Some(p) => std::env::current_dir()
            .context("cannot read the current directory")?
            .join(p),
        None => root.join(&config.paths.output),
    };
    let out = normalise(&wanted);
    check(root, &out)?;
    check_not_in_sources(config, &out)?;
    Ok(out)
}

/// Refuse an output folder among the SMS sources: inside a configured SMS folder (records,
/// frameworks, templates), or in a folder below the SMS root that holds anything but the output
/// (a site written next to documents would mix generated files into the sources). The default,
/// `_site` directly below the SMS root, passes.
fn check_not_in_sources(config: &Config, out: &Path) -> Result<()> {
    let root = config
        .root
        .canonicalize()
        .unwrap_or_else(|_| config.root.clone());
    let Ok(rel) = out.strip_prefix(&root) else {
        return Ok(());
    };
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let refuse = |why: String| -> Result<()> {
        bail!(
            "refusing to write the site to `{}`: {why}; auditbook never writes into the SMS sources.\nhelp: set `paths.output` (or pass --out) to a folder of its own, such as `_site` directly below the SMS root, or a path outside the SMS",
            out.display()
        )
    };
    let rel_text = parts.join("/");
    for (key, dir) in [
        ("records", &config.paths.records),
        ("frameworks", &config.paths.frameworks),
        ("mappings", &config.paths.mappings),
        ("templates", &config.paths.templates),
    ] {
        let dir = dir.trim_end_matches('/');
        if rel_text == dir || rel_text.starts_with(&format!("{dir}/")) {
            return refuse(format!(
                "it lies in `{dir}`, the SMS's `paths.{key}` folder"
            ));
        }
    }
    // Every folder between the SMS root and the output may hold only the way to the output (and,
    // next to it, the temporary folders a build makes).
    let mut dir = root.clone();
    for (i, next) in parts.iter().enumerate().take(parts.len().saturating_sub(1)) {
        dir.push(next);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(());
        };
        let toward = &parts[i + 1];
        let is_last = i + 2 == parts.len();
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.') && n != toward)
            .filter(|n| {
                !(is_last
                    && (n.starts_with(&format!("{toward}.tmp-"))
                        || n.starts_with(&format!("{toward}.old-"))))
            })
            .collect();
        names.sort();
        if let Some(first) = names.first() {
            let folder = parts[..=i].join("/");
            return refuse(format!(
                "it lies in `{folder}`, which holds SMS files (`{folder}/{first}`)"
            ));
        }
    }
    Ok(())
}

/// Whether `path` (absolute, normalised) lies in a `.git` folder or in the git directory of the
/// repository that holds `root`.
pub fn inside_git(root: &Path, path: &Path) -> bool {
    let named_git = path.components().any(|c| {
        c.as_os_str()
            .to_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(".git"))
    });
    named_git || git_dirs(root).iter().any(|g| path.starts_with(g))
}

/// The git directories of the repository that holds `root` (its `.git`, or for a linked work
/// tree the folder `.git` points to and the common directory), found without git: a site must
/// never be written into one (it could create refs, hooks or objects).
fn git_dirs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let start = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    for dir in start.ancestors() {
        let dot_git = dir.join(".git");
        let Ok(meta) = std::fs::symlink_metadata(&dot_git) else {
            continue;
        };
        let git_dir = if meta.is_dir() {
            dot_git
        } else {
            // `gitdir: <path>` in a linked work tree or a submodule
            let text = match crate::regular::read(&dot_git, 4096) {
                Ok(crate::regular::Regular::Bytes(b)) => String::from_utf8_lossy(&b).into_owned(),
                _ => break,
            };
            let Some(target) = text.trim().strip_prefix("gitdir:") else {
                break;
            };
            dir.join(target.trim())
        };
        let git_dir = git_dir.canonicalize().unwrap_or(git_dir);
        if let Ok(crate::regular::Regular::Bytes(b)) =
            crate::regular::read(&git_dir.join("commondir"), 4096)
        {
            let common = git_dir.join(String::from_utf8_lossy(&b).trim());
            out.push(common.canonicalize().unwrap_or(common));
        }
        out.push(git_dir);
        break;
    }
    out
}

/// `path` with `.` and `..` resolved lexically, then its existing ancestors canonicalised (so a
/// symlinked parent such as macOS `/tmp` compares equal to the SMS root's canonical form).
fn normalise(path: &Path) -> PathBuf {
    let mut lexical = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                lexical.pop();
            }
            Component::CurDir => {}
            other => lexical.push(other.as_os_str()),
        }
    }
    let Some(name) = lexical.file_name().map(|n| n.to_os_string()) else {
        return lexical;
    };
    match lexical.parent().map(Path::canonicalize) {
        Some(Ok(parent)) => parent.join(name),
        _ => lexical,
    }
}

/// Refuse an output folder that auditbook must not replace.
pub fn check(root: &Path, out: &Path) -> Result<()> {
    if out.parent().is_none() || out.file_name().is_none() {
        bail!(
            "refusing to write the site to `{}`: that is a file-system root",
            out.display()
        );
    }
    if inside_git(root, out) {
        bail!(
            "refusing to write the site to `{}`: it is inside the git directory, where a site could create refs, hooks or objects.\nhelp: set `paths.output` (or pass --out) to a folder outside `.git`, such as `_site`",
            out.display()
        );
    }
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    if root.starts_with(out) {
        bail!(
            "refusing to write the site to `{}`: it is or contains the SMS root `{}`, which auditbook never overwrites.\nhelp: pass an --out folder inside the SMS (e.g. `_site`) or next to it",
            out.display(),
            root.display()
        );
    }
    let meta = match std::fs::symlink_metadata(out) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot inspect `{}`", out.display())),
    };
    if meta.file_type().is_symlink() {
        bail!(
            "refusing to write the site to `{}`: it is a symbolic link.\nhelp: pass the real folder with --out, or remove the link",
            out.display()
        );
    }
    if !meta.is_dir() {
        bail!(
            "refusing to write the site to `{}`: it is a file, not a folder",
            out.display()
        );
    }
    if out.join(MARKER).is_file() {
        return Ok(());
    }
    let mut entries =
        std::fs::read_dir(out).with_context(|| format!("cannot read `{}`", out.display()))?;
    if entries.next().is_some() {
        bail!(
            "refusing to replace `{}`: the folder is not empty and holds no `{MARKER}` marker, so auditbook did not make it.\nhelp: pass an empty or new folder with --out, or delete this one if it is a site you no longer need",
            out.display()
        );
    }
    Ok(())
}

/// A site being written: the temporary sibling folder, until [`Staging::commit`].
pub struct Staging {
    pub dir: PathBuf,
    out: PathBuf,
    committed: bool,
}

impl Staging {
    /// Create `<out>.tmp-<pid>` (replacing a leftover of the same name) with the marker in it.
    pub fn new(out: &Path) -> Result<Staging> {
        let dir = sibling(out, "tmp");
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create `{}`", parent.display()))?;
        }
        remove_leftover(&dir)?;
        remove_stale(out);
        std::fs::create_dir(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
        let staging = Staging {
            dir,
            out: out.to_path_buf(),
            committed: false,
        };
        std::fs::write(staging.dir.join(MARKER), MARKER_TEXT)
            .with_context(|| format!("cannot write `{}`", staging.dir.display()))?;
        Ok(staging)
    }

    /// Swap the new site into place; the previous one is deleted afterwards.
    pub fn commit(mut self) -> Result<()> {
        check_parent_unchanged(&self.out)?;
        let old = sibling(&self.out, "old");
        let had_old = std::fs::symlink_metadata(&self.out).is_ok();
        if had_old {
            // Checked again right before the swap: the folder may have changed during the build.
            check_replaceable(&self.out)?;
            remove_leftover(&old)?;
            std::fs::rename(&self.out, &old).with_context(|| {
                format!(
                    "cannot move the previous site `{}` aside",
                    self.out.display()
                )
            })?;
        }
        if let Err(e) = std::fs::rename(&self.dir, &self.out) {
            if had_old {
                let _ = std::fs::rename(&old, &self.out);
            }
            return Err(e).with_context(|| {
                format!(
                    "cannot move the new site `{}` into place",
                    self.dir.display()
                )
            });
        }
        self.committed = true;
        if had_old {
            std::fs::remove_dir_all(&old)
                .with_context(|| format!("cannot delete the previous site `{}`", old.display()))?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn check_parent_unchanged(out: &Path) -> Result<()> {
    match out.parent() {
        Some(p) if p.is_dir() => Ok(()),
        _ => bail!(
            "the folder that holds `{}` disappeared during the build",
            out.display()
        ),
    }
}

fn check_replaceable(out: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(out)
        .with_context(|| format!("cannot inspect `{}`", out.display()))?;
    if meta.file_type().is_symlink() || !meta.is_dir() {
        bail!(
            "refusing to replace `{}`: it is no longer a folder",
            out.display()
        );
    }
    if !out.join(MARKER).is_file()
        && std::fs::read_dir(out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        bail!(
            "refusing to replace `{}`: files without the `{MARKER}` marker appeared in it during the build",
            out.display()
        );
    }
    Ok(())
}

/// `<out>.<what>-<pid>`.
pub fn sibling(out: &Path, what: &str) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    out.with_file_name(format!("{name}.{what}-{}", std::process::id()))
}

/// Remove the `<out>.tmp-<pid>` and `<out>.old-<pid>` folders that builds killed midway left
/// behind: only folders auditbook made (they hold the marker) of processes that are gone. Best
/// effort: a folder that cannot be removed stays for the next build.
fn remove_stale(out: &Path) {
    let (Some(parent), Some(name)) = (out.parent(), out.file_name()) else {
        return;
    };
    let name = name.to_string_lossy();
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let file_name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = file_name.strip_prefix(name.as_ref()) else {
            continue;
        };
        let pid = rest
            .strip_prefix(".tmp-")
            .or_else(|| rest.strip_prefix(".old-"))
            .and_then(|p| p.parse::<u32>().ok());
        let Some(pid) = pid else { continue };
        if pid == std::process::id() || process_alive(pid) {
            continue;
        }
        let dir = e.path();
        let ours =
            std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) && dir.join(MARKER).is_file();
        if ours {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// Whether a process with this id exists (another user's counts). Without a way to ask, every
/// process is taken to be alive, so nothing is removed.
fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 only checks that the process exists; nothing is sent.
        let r = unsafe { libc::kill(pid, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// Remove a leftover temporary folder, but only one that auditbook made.
fn remove_leftover(dir: &Path) -> Result<()> {
    match std::fs::symlink_metadata(dir) {
        Err(_) => Ok(()),
        Ok(m) if m.is_dir() && dir.join(MARKER).is_file() => std::fs::remove_dir_all(dir)
            .with_context(|| format!("cannot delete the leftover `{}`", dir.display())),
        Ok(_) => bail!(
            "`{}` is in the way of the build and was not made by auditbook; move it away",
            dir.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_root_and_parents_of_the_sms() {
        let dir = std::env::temp_dir();
        let sms = dir.join("sms-x");
        assert!(check(&sms, Path::new("/")).is_err());
        assert!(check(&sms, &dir).is_err());
        assert!(check(&sms, &sms).is_err());
    }

    #[test]
    fn sibling_names_carry_the_pid() {
        let s = sibling(Path::new("/a/_site"), "tmp");
        assert_eq!(
            s,
            PathBuf::from(format!("/a/_site.tmp-{}", std::process::id()))
        );
    }
}
