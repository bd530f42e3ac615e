//! The history cache: the raw result of the last walk, stored under the git folder
//! (`.git/auditbook/history.json`), so never tracked and never in the SMS sources. It is keyed by
//! the commit the walk reached and by the settings the parse depends on; a later run walks only
//! the commits after that commit. Deleting it is always safe: the next run walks everything again.
//! A cache that cannot be read (corrupt, other version) is ignored; one that cannot be written
//! (read-only checkout) only costs the next run time.

use super::walk::RawWalk;
use serde::{Deserialize, Serialize};
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

const FORMAT: u32 = 1;
const FILE: &str = "history.json";

#[derive(Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    settings: String,
    walk: RawWalk,
}

fn path(git_dir: &Path) -> PathBuf {
    super::cache_dir(git_dir).join(FILE)
}

/// The cached walk, when there is a usable one for these settings.
pub(super) fn load(git_dir: &Path, settings: &str) -> Option<RawWalk> {
    let file = std::fs::File::open(path(git_dir)).ok()?;
    let cache: CacheFile = serde_json::from_reader(BufReader::new(file)).ok()?;
    (cache.format == FORMAT && cache.settings == settings).then_some(cache.walk)
}

/// Store a walk (written to a temporary file, then renamed into place).
pub(super) fn store(git_dir: &Path, settings: &str, walk: &RawWalk) -> std::io::Result<()> {
    let dir = super::cache_dir(git_dir);
    std::fs::create_dir_all(&dir)?;
    let tmp = dir.join(format!("{FILE}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut w = BufWriter::new(std::fs::File::create(&tmp)?);
        #[derive(Serialize)]
        struct Out<'a> {
            format: u32,
            settings: &'a str,
            walk: &'a RawWalk,
        }
        serde_json::to_writer(
            &mut w,
            &Out {
                format: FORMAT,
                settings,
                walk,
            },
        )
        .map_err(std::io::Error::other)?;
        w.flush()?;
        drop(w);
        std::fs::rename(&tmp, path(git_dir))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
