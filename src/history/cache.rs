//! The history cache: the raw result of the last walk, stored under the git folder
//! (`.git/auditbook/history.msgpack`, MessagePack), so never tracked and never in the SMS sources. It is keyed by
//! the commit the walk reached and by the settings the parse depends on; a later run walks only
//! the commits after that commit. Deleting it is always safe: the next run walks everything again.
//! A cache that cannot be read (corrupt, other version) is ignored; one that cannot be written
//! (read-only checkout) only costs the next run time. A cache is checked against the object
//! database before use (`verify.rs`): one that fails is discarded (`history-cache-rejected`).

use super::walk::RawWalk;
use super::{Commit, DocumentHistory, FileHistory, History, RecordHistory};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// 7: `derives` joined the controlled content of documents that have it.
/// 8: commits carry their verified signature.
/// 9: record summaries in flat arrays (`rows.rs`), content hashes as bytes.
const FORMAT: u32 = 9;
const FILE: &str = "history.msgpack";
/// The file of format 1, removed when a newer cache is written.
const OLD_FILE: &str = "history.json";

#[derive(Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    settings: String,
    /// The tree of the walk's tip commit, and the digest of the walk's inputs (`verify.rs`).
    tip_tree: String,
    inputs: String,
    walk: RawWalk,
}

/// A raw walk read from the cache, with what it says it was derived from; not checked yet.
pub(super) struct CachedWalk {
    pub walk: RawWalk,
    pub tip_tree: String,
    pub inputs: String,
}

fn path(git_dir: &Path) -> PathBuf {
    super::cache_dir(git_dir).join(FILE)
}

/// The cached walk, when there is one for these settings (to be checked by `verify::raw_walk`).
pub(super) fn load(git_dir: &Path, settings: &str) -> Option<CachedWalk> {
    // Read whole, then parse: several times faster than parsing through a reader.
    let bytes = std::fs::read(path(git_dir)).ok()?;
    let cache: CacheFile = rmp_serde::from_slice(&bytes).ok()?;
    (cache.format == FORMAT && cache.settings == settings).then_some(CachedWalk {
        walk: cache.walk,
        tip_tree: cache.tip_tree,
        inputs: cache.inputs,
    })
}

/// Store a walk; `tip_tree` is the tree of its tip commit.
pub(super) fn store(
    git_dir: &Path,
    settings: &str,
    walk: &RawWalk,
    tip_tree: &str,
) -> std::io::Result<()> {
    #[derive(Serialize)]
    struct Out<'a> {
        format: u32,
        settings: &'a str,
        tip_tree: &'a str,
        inputs: String,
        walk: &'a RawWalk,
    }
    let out = Out {
        format: FORMAT,
        settings,
        tip_tree,
        inputs: super::verify::raw_inputs(walk, tip_tree),
        walk,
    };
    write_file(git_dir, FILE, &out)?;
    let _ = std::fs::remove_file(super::cache_dir(git_dir).join(OLD_FILE));
    Ok(())
}

/// Write `value` as MessagePack to `name` in the cache folder: to a temporary file first, then
/// renamed into place, so a reader never sees half a file.
fn write_file(git_dir: &Path, name: &str, value: &impl Serialize) -> std::io::Result<()> {
    let dir = super::cache_dir(git_dir);
    std::fs::create_dir_all(&dir)?;
    let tmp = dir.join(format!("{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut w = BufWriter::new(std::fs::File::create(&tmp)?);
        rmp_serde::encode::write(&mut w, value).map_err(std::io::Error::other)?;
        w.flush()?;
        drop(w);
        std::fs::rename(&tmp, dir.join(name))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The assembled history of the cached tip: what a run needs when nothing was committed since
/// the last one, without re-assembling the raw walk. Stored beside the raw walk, keyed by the
/// same settings, the tip commit and the `history.baseline` text (which marks commits imported).
const ASSEMBLED_FILE: &str = "assembled.msgpack";

#[derive(Deserialize)]
pub(super) struct Assembled {
    format: u32,
    settings: String,
    pub tip: String,
    baseline: Option<String>,
    /// The tree of `tip` and the digest of the inputs (`verify.rs`).
    pub tip_tree: String,
    pub inputs: String,
    pub commits: Vec<Commit>,
    pub documents: BTreeMap<String, DocumentHistory>,
    #[serde(deserialize_with = "sorted_map")]
    pub records: BTreeMap<String, RecordHistory>,
    pub files: BTreeMap<String, FileHistory>,
}

/// A map as stored (in key order, as a `BTreeMap` writes it), built in one go: a million
/// records inserted one at a time cost a search each and leave the tree's nodes part empty.
/// Duplicate keys keep the last value, as inserting does.
fn sorted_map<'de, D, V>(d: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct Entries<V>(std::marker::PhantomData<V>);
    impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for Entries<V> {
        type Value = BTreeMap<String, V>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            // The size is the file's claim: capped, so a corrupt cache cannot ask for much.
            let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1 << 22));
            while let Some(entry) = map.next_entry::<String, V>()? {
                entries.push(entry);
            }
            Ok(entries.into_iter().collect())
        }
    }
    d.deserialize_map(Entries(std::marker::PhantomData))
}

/// The same fields as [`Assembled`], borrowed, in the same order (MessagePack stores structs
/// as arrays).
#[derive(Serialize)]
struct AssembledOut<'a> {
    format: u32,
    settings: &'a str,
    tip: &'a str,
    baseline: Option<&'a str>,
    tip_tree: &'a str,
    inputs: String,
    commits: &'a [Commit],
    documents: &'a BTreeMap<String, DocumentHistory>,
    records: &'a BTreeMap<String, RecordHistory>,
    files: &'a BTreeMap<String, FileHistory>,
}

/// The assembled history stored for `tip`, when there is one (to be checked by
/// `verify::assembled`).
pub(super) fn load_assembled(
    git_dir: &Path,
    settings: &str,
    tip: &str,
    baseline: Option<&str>,
) -> Option<Assembled> {
    let bytes = std::fs::read(super::cache_dir(git_dir).join(ASSEMBLED_FILE)).ok()?;
    let a: Assembled = rmp_serde::from_slice(&bytes).ok()?;
    (a.format == FORMAT
        && a.settings == settings
        && a.tip == tip
        && a.baseline.as_deref() == baseline)
        .then_some(a)
}

/// Store the assembled history of `tip`.
pub(super) fn store_assembled(
    git_dir: &Path,
    settings: &str,
    tip: &str,
    baseline: Option<&str>,
    tip_tree: &str,
    history: &History,
) -> std::io::Result<()> {
    let out = AssembledOut {
        format: FORMAT,
        settings,
        tip,
        baseline,
        tip_tree,
        inputs: super::verify::assembled_inputs(
            tip,
            tip_tree,
            &history.commits,
            &history.documents,
        ),
        commits: &history.commits,
        documents: &history.documents,
        records: &history.records,
        files: &history.files,
    };
    write_file(git_dir, ASSEMBLED_FILE, &out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Wrapped {
        #[serde(deserialize_with = "sorted_map")]
        map: BTreeMap<String, u32>,
    }

    /// A map read in one go is the map inserted one entry at a time: from a `BTreeMap` as
    /// written (sorted), and from entries out of order with a key twice (the last one wins).
    #[test]
    fn a_map_built_in_one_go_is_the_inserted_map() {
        let sorted: BTreeMap<String, u32> = (0..5000).map(|i| (format!("k{i}"), i)).collect();
        let bytes = rmp_serde::to_vec(&(&sorted,)).unwrap();
        let read: Wrapped = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(read.map, sorted);

        let entries = [("b", 1), ("a", 2), ("c", 3), ("a", 4)];
        // MessagePack by hand: a one-field struct (an array of one), a map of four, each key
        // a one-byte string, each value a small positive integer.
        let mut bytes = vec![0x91, 0x80 | entries.len() as u8];
        for (k, v) in entries {
            bytes.extend([0xa1, k.as_bytes()[0], v]);
        }
        let read: Wrapped = rmp_serde::from_slice(&bytes).unwrap();
        let mut inserted = BTreeMap::new();
        for (k, v) in entries {
            inserted.insert(k.to_string(), v as u32);
        }
        assert_eq!(read.map, inserted);
    }
}
