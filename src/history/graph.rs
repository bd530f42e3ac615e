//! The commit-graph file git writes (`objects/info/commit-graph`, or the layers listed in
//! `objects/info/commit-graphs/commit-graph-chain`), read for the walk's first-parent chain: each
//! commit's root tree and first parent, without inflating the commit.
//!
//! Format (git's `gitformat-commit-graph`): a header `CGPH`, version 1, hash version 1 (SHA-1),
//! the number of chunks and of base layers; a table of chunk ids and offsets; the chunks `OIDF`
//! (256 cumulative counts by first byte), `OIDL` (the sorted commit ids) and `CDAT` (per commit:
//! root tree id, the positions of two parents, generation and date). Positions count over all
//! layers, the base layers first.
//!
//! The file is a cache git may leave stale or that may be damaged: anything that does not parse
//! exactly is not used (the walk then reads the commits), a commit that is not in it is read from
//! its object, and the first commit looked up (HEAD) is checked against its object.

use git2::Oid;
use std::path::Path;

const NO_PARENT: u32 = 0x7000_0000;
const DATA_WIDTH: usize = 36;
/// Layer files larger than this (about 50 million commits) are not read.
const MAX_FILE: u64 = 2 << 30;

/// One layer: one graph file.
struct Layer {
    bytes: Vec<u8>,
    count: usize,
    /// Offsets of the chunks in `bytes`.
    fanout: usize,
    ids: usize,
    data: usize,
    /// Commits in the layers below this one.
    below: usize,
}

/// The commit-graph of a repository, all layers.
pub(super) struct Graph {
    layers: Vec<Layer>,
}

/// A commit as the graph records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct GraphCommit {
    pub tree: Oid,
    pub parent: Option<Oid>,
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some((be32(b, at)? as u64) << 32 | be32(b, at + 4)? as u64)
}

impl Layer {
    /// Parse one graph file; `None` unless every part is where and as large as it must be.
    fn parse(bytes: Vec<u8>, below: usize, bases: usize) -> Option<Layer> {
        if bytes.get(..4)? != b"CGPH" || *bytes.get(4)? != 1 || *bytes.get(5)? != 1 {
            return None;
        }
        let chunks = *bytes.get(6)? as usize;
        if *bytes.get(7)? as usize != bases {
            return None;
        }
        // The chunk table: chunks + 1 rows of (id, offset); the last row's id is 0 and its
        // offset the end of the last chunk, which the 20-byte checksum follows.
        let mut table = Vec::with_capacity(chunks + 1);
        for i in 0..=chunks {
            let at = 8 + i * 12;
            let id = bytes.get(at..at + 4)?;
            let off = usize::try_from(be64(&bytes, at + 4)?).ok()?;
            table.push((id, off));
        }
        if table.last()?.0 != [0, 0, 0, 0]
            || table.last()?.1.checked_add(20)? != bytes.len()
            || table.windows(2).any(|w| w[0].1 > w[1].1)
            || table.first()?.1 < 8 + (chunks + 1) * 12
        {
            return None;
        }
        let chunk = |name: &[u8]| -> Option<(usize, usize)> {
            let i = table[..chunks].iter().position(|(id, _)| *id == name)?;
            Some((table[i].1, table[i + 1].1 - table[i].1))
        };
        let (fanout, fan_len) = chunk(b"OIDF")?;
        let (ids, ids_len) = chunk(b"OIDL")?;
        let (data, data_len) = chunk(b"CDAT")?;
        if fan_len != 256 * 4 {
            return None;
        }
        let count = be32(&bytes, fanout + 255 * 4)? as usize;
        let mut prev = 0;
        for i in 0..256 {
            let n = be32(&bytes, fanout + i * 4)?;
            if n < prev {
                return None;
            }
            prev = n;
        }
        if ids_len != count.checked_mul(20)? || data_len != count.checked_mul(DATA_WIDTH)? {
            return None;
        }
        Some(Layer {
            bytes,
            count,
            fanout,
            ids,
            data,
            below,
        })
    }

    fn id_at(&self, i: usize) -> &[u8] {
        &self.bytes[self.ids + i * 20..self.ids + i * 20 + 20]
    }

    fn find(&self, id: &[u8]) -> Option<usize> {
        let first = *id.first()? as usize;
        let lo = if first == 0 {
            0
        } else {
            be32(&self.bytes, self.fanout + (first - 1) * 4)? as usize
        };
        let hi = (be32(&self.bytes, self.fanout + first * 4)? as usize).min(self.count);
        let (mut lo, mut hi) = (lo.min(hi), hi);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.id_at(mid).cmp(id) {
                std::cmp::Ordering::Equal => return Some(mid),
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        None
    }
}

impl Graph {
    /// The repository's commit-graph (`objects_dir` is `.git/objects`); `None` when there is none
    /// or it cannot be used.
    pub fn open(objects_dir: &Path) -> Option<Graph> {
        let info = objects_dir.join("info");
        let chain = std::fs::read_to_string(info.join("commit-graphs/commit-graph-chain"));
        let files: Vec<std::path::PathBuf> = match chain {
            Ok(text) => text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|h| {
                    h.chars()
                        .all(|c| c.is_ascii_hexdigit())
                        .then(|| info.join(format!("commit-graphs/graph-{h}.graph")))
                })
                .collect::<Option<_>>()?,
            Err(_) => vec![info.join("commit-graph")],
        };
        let mut layers: Vec<Layer> = Vec::new();
        let mut below = 0;
        for (i, f) in files.iter().enumerate() {
            if std::fs::metadata(f).ok()?.len() > MAX_FILE {
                return None;
            }
            let layer = Layer::parse(std::fs::read(f).ok()?, below, i)?;
            below = below.checked_add(layer.count)?;
            layers.push(layer);
        }
        (!layers.is_empty()).then_some(Graph { layers })
    }

    /// Parse graph files given as bytes, base layer first (for tests).
    #[cfg(test)]
    fn from_layers(files: Vec<Vec<u8>>) -> Option<Graph> {
        let mut layers = Vec::new();
        let mut below = 0;
        for (i, bytes) in files.into_iter().enumerate() {
            let layer = Layer::parse(bytes, below, i)?;
            below += layer.count;
            layers.push(layer);
        }
        Some(Graph { layers })
    }

    /// The id of the commit at a global position.
    fn id_at(&self, pos: usize) -> Option<&[u8]> {
        let layer = self
            .layers
            .iter()
            .find(|l| pos >= l.below && pos < l.below + l.count)?;
        Some(layer.id_at(pos - layer.below))
    }

    /// A commit's root tree and first parent; `None` when the graph does not hold it (or holds
    /// nonsense for it).
    pub fn commit(&self, id: Oid) -> Option<GraphCommit> {
        let (layer, i) = self
            .layers
            .iter()
            .rev()
            .find_map(|l| l.find(id.as_bytes()).map(|i| (l, i)))?;
        let at = layer.data + i * DATA_WIDTH;
        let tree = Oid::from_bytes(layer.bytes.get(at..at + 20)?).ok()?;
        let p = be32(&layer.bytes, at + 20)?;
        let parent = if p == NO_PARENT {
            None
        } else if p & 0x8000_0000 != 0 {
            return None;
        } else {
            let pid = self.id_at(p as usize)?;
            if pid == id.as_bytes() {
                return None;
            }
            Some(Oid::from_bytes(pid).ok()?)
        };
        Some(GraphCommit { tree, parent })
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A graph file of `commits` (id, tree, first parent as a position), sorted by id.
    pub fn graph_file(commits: &[([u8; 20], [u8; 20], u32)], bases: u8) -> Vec<u8> {
        let mut sorted = commits.to_vec();
        sorted.sort_by_key(|c| c.0);
        let n = sorted.len();
        let mut fan = vec![0u32; 256];
        for c in &sorted {
            for f in fan.iter_mut().skip(c.0[0] as usize) {
                *f += 1;
            }
        }
        let head = 8 + 4 * 12;
        let (f_off, l_off) = (head, head + 1024);
        let d_off = l_off + n * 20;
        let end = d_off + n * DATA_WIDTH;
        let mut out = b"CGPH".to_vec();
        out.extend([1, 1, 3, bases]);
        for (id, off) in [
            (*b"OIDF", f_off),
            (*b"OIDL", l_off),
            (*b"CDAT", d_off),
            ([0; 4], end),
        ] {
            out.extend(id);
            out.extend((off as u64).to_be_bytes());
        }
        for f in fan {
            out.extend(f.to_be_bytes());
        }
        for c in &sorted {
            out.extend(c.0);
        }
        for c in &sorted {
            out.extend(c.1);
            out.extend(c.2.to_be_bytes());
            out.extend(NO_PARENT.to_be_bytes());
            out.extend(0u64.to_be_bytes());
        }
        out.extend([0u8; 20]);
        out
    }

    fn id(n: u8) -> [u8; 20] {
        let mut id = [n; 20];
        id[19] = 0x55;
        id
    }

    #[test]
    fn parents_and_trees_are_read_and_damage_is_refused() {
        // Sorted by id: positions 0, 1, 2 are the commits 1, 2, 3. 3 -> 2 -> 1.
        let file = graph_file(
            &[
                (id(1), id(101), NO_PARENT),
                (id(2), id(102), 0),
                (id(3), id(103), 1),
            ],
            0,
        );
        let g = Graph::from_layers(vec![file.clone()]).unwrap();
        let oid = |n| Oid::from_bytes(&id(n)).unwrap();
        assert_eq!(
            g.commit(oid(3)),
            Some(GraphCommit {
                tree: oid(103),
                parent: Some(oid(2))
            })
        );
        assert_eq!(g.commit(oid(1)).unwrap().parent, None);
        // A commit the graph does not hold (a stale graph): not found, read elsewhere.
        assert_eq!(g.commit(oid(9)), None);
        // Truncated anywhere, or a byte of the header or table changed: not used.
        for cut in [0, 7, 20, 60, file.len() - 21, file.len() - 1] {
            assert!(
                Graph::from_layers(vec![file[..cut].to_vec()]).is_none(),
                "cut {cut}"
            );
        }
        for at in [0, 4, 5, 7, 8 + 4, 8 + 12 + 11, 8 + 36 + 11] {
            let mut bad = file.clone();
            bad[at] ^= 0x41;
            assert!(Graph::from_layers(vec![bad]).is_none(), "byte {at}");
        }
        // A parent position beyond the graph: that commit is not answered.
        let file = graph_file(&[(id(1), id(101), 7)], 0);
        let g = Graph::from_layers(vec![file]).unwrap();
        assert_eq!(g.commit(oid(1)), None);
    }

    #[test]
    fn layers_count_positions_from_the_base_layer() {
        let base = graph_file(&[(id(1), id(101), NO_PARENT), (id(2), id(102), 0)], 0);
        // In the top layer, position 1 is the base's commit 2, position 2 its own first commit.
        let top = graph_file(&[(id(3), id(103), 1), (id(4), id(104), 2)], 1);
        let g = Graph::from_layers(vec![base, top]).unwrap();
        let oid = |n| Oid::from_bytes(&id(n)).unwrap();
        assert_eq!(g.commit(oid(4)).unwrap().parent, Some(oid(3)));
        assert_eq!(g.commit(oid(3)).unwrap().parent, Some(oid(2)));
        assert_eq!(g.commit(oid(2)).unwrap().parent, Some(oid(1)));
    }
}
