//! A [`Snapshot`]: the sorted list of files below the SMS root with the bytes of those auditbook
//! parses. It is made from the work tree here, or from a git tree by `history`; everything after
//! `source` is the same for both.
//!
//! Nothing is read through a symbolic link: links are listed (so they can be reported) but never
//! followed. Files over the size limit are listed with their size and not read.

use crate::config::Config;
use crate::regular::Regular;
use anyhow::{Context, Result};
use rayon::prelude::*;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Sorted by path.
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
pub struct Entry {
    /// Path relative to the SMS root, `/`-separated.
    pub path: String,
    pub kind: EntryKind,
}

#[derive(Debug, Clone)]
pub enum EntryKind {
    /// A regular file; `bytes` is `None` when auditbook has no reason to read it (an image, a PDF).
    File { size: u64, bytes: Option<Arc<[u8]>> },
    /// A file over the size limit; not read.
    TooLarge { size: u64 },
    /// A symbolic link, never followed; `escapes` when its target lies outside the SMS root.
    Symlink { target: String, escapes: bool },
    /// A git submodule (gitlink); its content is not part of the SMS.
    Submodule,
    /// A FIFO, socket or device in the work tree: never opened (see `crate::regular`).
    NotRegular { what: &'static str },
}

impl EntryKind {
    /// Whether two entries of the same path hold the same thing (bytes compared when both were
    /// read; shared bytes compare by pointer).
    pub fn same_as(&self, other: &EntryKind) -> bool {
        match (self, other) {
            (EntryKind::File { size: s, bytes: x }, EntryKind::File { size: t, bytes: y }) => {
                s == t
                    && match (x, y) {
                        (Some(x), Some(y)) => Arc::ptr_eq(x, y) || x[..] == y[..],
                        (None, None) => true,
                        (Some(_), None) | (None, Some(_)) => false,
                    }
            }
            (EntryKind::TooLarge { size: s }, EntryKind::TooLarge { size: t }) => s == t,
            (
                EntryKind::Symlink {
                    target: s,
                    escapes: e,
                },
                EntryKind::Symlink {
                    target: t,
                    escapes: f,
                },
            ) => s == t && e == f,
            (EntryKind::Submodule, EntryKind::Submodule) => true,
            (EntryKind::NotRegular { what: a }, EntryKind::NotRegular { what: b }) => a == b,
            (EntryKind::NotRegular { .. }, _)
            | (EntryKind::File { .. }, _)
            | (EntryKind::TooLarge { .. }, _)
            | (EntryKind::Symlink { .. }, _)
            | (EntryKind::Submodule, _) => false,
        }
    }
}

/// What role a path plays in the SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Config,
    Document,
    Record,
    Framework,
    /// A mapping file (`mappings/*.yaml`, see `catalog::mapping`).
    Mapping,
    Other,
}

impl Snapshot {
    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries
            .binary_search_by(|e| e.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.entries[i])
    }

    /// Whether `path` is a file or a folder in the snapshot.
    pub fn exists(&self, path: &str) -> bool {
        if self.get(path).is_some() {
            return true;
        }
        let prefix = format!("{}/", path.trim_end_matches('/'));
        let i = self
            .entries
            .partition_point(|e| e.path.as_str() < prefix.as_str());
        self.entries
            .get(i)
            .is_some_and(|e| e.path.starts_with(&prefix))
    }
}

impl Snapshot {
    /// The files past `limits.max_output_size`: regular files within `limits.max_file_size`
    /// count their sizes in path order, and those from the one that crosses the limit on are never
    /// copied into the site or the bundle (so the files an output copies from the SMS stay under
    /// the limit, whatever the work tree holds).
    pub fn over_output_limit(&self, limits: &crate::config::Limits) -> Vec<&str> {
        let mut total: u64 = 0;
        let mut over = Vec::new();
        for e in &self.entries {
            let EntryKind::File { size, .. } = &e.kind else {
                continue;
            };
            total = total.saturating_add(*size);
            if total > limits.max_output_size {
                over.push(e.path.as_str());
            }
        }
        over
    }

    /// Files whose names cannot be unzipped as themselves (see `crate::portable`): a Windows
    /// reserved name, or a name that collides with an earlier file's (path order).
    pub fn unportable(&self) -> Vec<crate::portable::Unportable<'_>> {
        crate::portable::problems(
            self.entries
                .iter()
                .filter(|e| matches!(e.kind, EntryKind::File { .. }))
                .map(|e| e.path.as_str()),
        )
    }

    /// The files an output does not copy although they are regular files within
    /// `limits.max_file_size`: past `limits.max_output_size`, or unportable names; sorted.
    pub fn not_copied(&self, limits: &crate::config::Limits) -> Vec<&str> {
        let mut out = self.over_output_limit(limits);
        out.extend(self.unportable().into_iter().map(|u| u.path));
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether the file at `path` may be copied into an output: a regular file within
    /// `limits.max_file_size`, not in `not_copied` (from [`Self::not_copied`]).
    pub fn copyable(&self, not_copied: &[&str], path: &str) -> bool {
        matches!(
            self.get(path).map(|e| &e.kind),
            Some(EntryKind::File { .. })
        ) && not_copied.binary_search(&path).is_err()
    }
}

/// The role of a path, by the conventions of `docs/format.md` and the configured folders.
pub fn role(config: &Config, path: &str) -> Role {
    // Without allocating: the history walk asks this for every changed file of every commit.
    let under = |dir: &str| {
        path.len() > dir.len() && path.as_bytes()[dir.len()] == b'/' && path.starts_with(dir)
    };
    let ends = |ext: &str| {
        path.len() >= ext.len()
            && path.as_bytes()[path.len() - ext.len()..].eq_ignore_ascii_case(ext.as_bytes())
    };
    if path == crate::config::FILE_NAME {
        Role::Config
    } else if under(&config.paths.frameworks) && (ends(".yaml") || ends(".yml")) {
        Role::Framework
    } else if under(&config.paths.mappings) && (ends(".yaml") || ends(".yml")) {
        Role::Mapping
    } else if under(&config.paths.records)
        && (ends(".yaml") || ends(".yml") || crate::tabular::Format::of(path).is_some())
    {
        Role::Record
    } else if under(&config.paths.templates)
        || under(&config.paths.records)
        || under(&config.paths.frameworks)
        || under(&config.paths.mappings)
    {
        Role::Other
    } else if ends(".md") {
        Role::Document
    } else {
        Role::Other
    }
}

/// Whether auditbook reads a file's bytes (when it is a regular file within `max_file_size`):
/// every file but templates (read only when the site renders, up to their own limit). Documents,
/// records, frameworks and sms.yaml are parsed; every other file may be linked as an attachment,
/// and the site copies one only after checking its bytes against its type
/// (`site::attachment`), or lists it with its SHA-256.
pub fn wants_bytes(config: &Config, path: &str) -> bool {
    role(config, path) != Role::Other || !path.starts_with(&format!("{}/", config.paths.templates))
}

/// Whether a folder is never part of the SMS sources: hidden folders (`.git`, `.github`…), the
/// output folder with the temporary siblings a build makes (`_site.tmp-<pid>`, `_site.old-<pid>`)
/// and the history cache.
pub fn skipped_dir(config: &Config, rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let out = config.paths.output.as_str();
    name.starts_with('.')
        || rel == out
        || rel
            .strip_prefix(out)
            .is_some_and(|rest| rest.starts_with(".tmp-") || rest.starts_with(".old-"))
}

/// A file found by walking the work tree, before it is read.
#[derive(Debug, Clone)]
pub struct Listed {
    /// Path relative to the SMS root, `/`-separated.
    pub path: String,
    pub file_type: std::fs::FileType,
    pub size: u64,
    /// What changes when the file is written (see [`Stamp`]).
    pub stamp: Stamp,
}

/// What the file system says about a file without reading it: size, modification and change
/// times, inode. A file whose stamp is unchanged is taken to be unchanged, unless it was written
/// so recently before it was listed that a second write could share the stamp ([`Stamp::racy`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stamp {
    pub size: u64,
    /// Modification time, nanoseconds since the epoch (0 when the platform has none).
    pub modified_ns: i128,
    /// Status-change time (Unix), nanoseconds since the epoch.
    pub changed_ns: i128,
    /// Inode number (Unix): an editor that saves by renaming a new file over the old one changes it.
    pub inode: u64,
}

/// A write within this long before a listing may share the stamp the listing saw (file systems
/// keep times with a coarse clock), so such a file is read again at the next listing.
const RACY_NS: i128 = 2_000_000_000;

impl Stamp {
    pub fn of(meta: &std::fs::Metadata) -> Stamp {
        let ns = |t: std::io::Result<std::time::SystemTime>| {
            t.ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i128)
        };
        #[cfg(unix)]
        let (changed_ns, inode) = {
            use std::os::unix::fs::MetadataExt;
            (
                i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
                meta.ino(),
            )
        };
        #[cfg(not(unix))]
        let (changed_ns, inode) = (0, 0);
        Stamp {
            size: meta.len(),
            modified_ns: ns(meta.modified()),
            changed_ns,
            inode,
        }
    }

    /// Whether the file was modified so shortly before `listed_ns` (the time it was listed) that
    /// an unchanged stamp does not prove unchanged content.
    pub fn racy(&self, listed_ns: i128) -> bool {
        listed_ns - self.modified_ns.max(self.changed_ns) < RACY_NS
    }
}

/// Every file below the SMS root (sorted by path), without reading any: the walk of
/// [`from_work_tree`], which `serve` repeats to find the files that changed since its last build.
/// Folders are listed on all cores, and each file's stamp is read relative to its folder.
pub fn list_work_tree(config: &Config) -> Result<Vec<Listed>> {
    let root = &config.root;
    let mut found = list_folder(config, root, "")
        .with_context(|| format!("cannot read the folder `{}`", root.display()))?;
    found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

/// The files below the folder `abs` (SMS-relative `rel`, empty for the root), in no order.
/// Skipped: hidden files and folders, the output folder and its siblings ([`skipped_dir`]), and
/// any folder holding the site marker (a site built with `--out` elsewhere inside the SMS). Links
/// are listed as links, never followed.
fn list_folder(config: &Config, abs: &Path, rel: &str) -> std::io::Result<Vec<Listed>> {
    let mut items = Vec::new();
    for entry in std::fs::read_dir(abs)? {
        items.push(entry?);
    }
    let parts: Vec<std::io::Result<Vec<Listed>>> = items
        .par_iter()
        .with_min_len(64)
        .map(|entry| -> std::io::Result<Vec<Listed>> {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let path = if rel.is_empty() {
                name.to_string()
            } else {
                format!("{rel}/{name}")
            };
            let file_type = entry.file_type()?;
            if file_type.is_dir() {
                let sub = entry.path();
                if skipped_dir(config, &path) || sub.join(crate::site::MARKER).exists() {
                    return Ok(Vec::new());
                }
                return list_folder(config, &sub, &path);
            }
            if name.starts_with('.') {
                return Ok(Vec::new());
            }
            let stamp = entry.metadata().map(|m| Stamp::of(&m)).unwrap_or_default();
            Ok(vec![Listed {
                path,
                file_type,
                size: stamp.size,
                stamp,
            }])
        })
        .collect();
    let mut out = Vec::new();
    for part in parts {
        out.extend(part?);
    }
    Ok(out)
}

/// The snapshot entry of a listed file: links are described, never followed; files over the
/// size limit and files auditbook has no reason to read are listed with their size only.
pub fn read_listed(config: &Config, listed: &Listed) -> Result<Entry> {
    let root = &config.root;
    let (rel, ft, size) = (&listed.path, listed.file_type, listed.size);
    let limit = config.max_size_for(rel);
    let abs = root.join(rel);
    let kind = if ft.is_symlink() {
        let target = std::fs::read_link(&abs)
            .map(|t| t.to_string_lossy().into_owned())
            .unwrap_or_default();
        let escapes = link_escapes(root, rel, &target);
        EntryKind::Symlink { target, escapes }
    } else if let Some(what) = crate::regular::not_regular(ft) {
        // sockets, fifos, devices: listed, never opened
        EntryKind::NotRegular { what }
    } else if size > limit {
        EntryKind::TooLarge { size }
    } else if !wants_bytes(config, rel) {
        EntryKind::File { size, bytes: None }
    } else {
        let read = crate::regular::read(&abs, limit)
            .with_context(|| format!("cannot read `{}`", abs.display()))?;
        match read {
            Regular::Bytes(b) => EntryKind::File {
                size: b.len() as u64,
                bytes: Some(Arc::from(b)),
            },
            Regular::TooLarge(size) => EntryKind::TooLarge { size },
            // replaced by a FIFO or device since the walk
            Regular::NotRegular(what) => EntryKind::NotRegular { what },
        }
    };
    Ok(Entry {
        path: rel.clone(),
        kind,
    })
}

/// Snapshot of the work tree below the SMS root.
pub fn from_work_tree(config: &Config) -> Result<Snapshot> {
    let entries: Vec<Entry> = list_work_tree(config)?
        .par_iter()
        .map(|l| read_listed(config, l))
        .collect::<Result<Vec<_>>>()?;
    Ok(Snapshot { entries })
}

/// Whether a link at `rel` with `target` points outside the SMS root (lexically).
pub fn link_escapes(_root: &Path, rel: &str, target: &str) -> bool {
    if target.starts_with('/') || target.starts_with('\\') || target.contains(':') {
        return true;
    }
    let mut parts: Vec<&str> = rel.split('/').collect();
    parts.pop();
    for comp in target.split(['/', '\\']) {
        match comp {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return true;
                }
            }
            c => parts.push(c),
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_come_from_the_folder_and_the_extension_in_any_case() {
        let text = "organisation: T\nscope: S\nframework: iso20000-1:2018\n";
        let (config, _) = crate::config::parse(Path::new("/sms"), text).unwrap();
        let records = config.paths.records.clone();
        let frameworks = config.paths.frameworks.clone();
        let templates = config.paths.templates.clone();
        for (path, want) in [
            ("sms.yaml".to_string(), Role::Config),
            ("policies/a.md".to_string(), Role::Document),
            ("policies/A.MD".to_string(), Role::Document),
            ("a.md".to_string(), Role::Document),
            ("policies/a.txt".to_string(), Role::Other),
            (format!("{records}/incident/i.yaml"), Role::Record),
            (format!("{records}/incident/i.YML"), Role::Record),
            (format!("{records}/incident/rows.csv"), Role::Record),
            (format!("{records}/notes.md"), Role::Other),
            (format!("{records}x/a.md"), Role::Document),
            (format!("{records}x/a.yaml"), Role::Other),
            (format!("{frameworks}/f.yaml"), Role::Framework),
            (format!("{frameworks}/f.md"), Role::Other),
            (format!("{templates}/page.md"), Role::Other),
            (records.clone(), Role::Other),
        ] {
            assert_eq!(role(&config, &path), want, "{path}");
        }
    }

    #[test]
    fn a_stamp_is_racy_when_written_just_before_the_listing() {
        let s = Stamp {
            size: 1,
            modified_ns: 10_000_000_000,
            changed_ns: 10_000_000_000,
            inode: 1,
        };
        assert!(s.racy(10_500_000_000));
        assert!(s.racy(9_000_000_000), "written after it was listed");
        assert!(!s.racy(13_000_000_000));
        // A change of status (a rename over the file) counts like a write.
        let renamed = Stamp {
            changed_ns: 12_500_000_000,
            ..s
        };
        assert!(renamed.racy(13_000_000_000));
    }

    #[test]
    fn link_escape_detection() {
        let root = Path::new("/sms");
        assert!(link_escapes(root, "a/b.md", "/etc/passwd"));
        assert!(link_escapes(root, "a/b.md", "../../x"));
        assert!(!link_escapes(root, "a/b.md", "../c.md"));
        assert!(!link_escapes(root, "b.md", "c/d.md"));
    }
}
