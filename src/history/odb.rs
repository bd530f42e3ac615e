//! Reading git objects for the walk: pack files read directly, with a cache of resolved delta
//! bases; anything else (loose objects, alternates, unusual packs) through libgit2.
//!
//! Why not libgit2 alone: its pack reader caches only the bottom of a delta chain (16 MiB in
//! all, compiled in), so reading the n-th version of a big folder's tree applies every delta
//! from that bottom again — the walk spent three quarters of its time there. Here every object
//! resolved on the way up a chain is kept (least recently used first out, within a budget), so
//! the next version of the same tree costs one delta.
//!
//! Nothing read here is trusted further than libgit2's own reads: an object this module cannot
//! read for any reason (a pack it does not understand, a corrupt entry) is read through
//! libgit2, whose errors are the ones reported.

use super::rope::Rope;
use git2::{Oid, Repository};
use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::rc::Rc;

/// What an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Commit,
    Tree,
    Blob,
    Tag,
}

impl Kind {
    fn from_pack(t: u8) -> Option<Kind> {
        match t {
            1 => Some(Kind::Commit),
            2 => Some(Kind::Tree),
            3 => Some(Kind::Blob),
            4 => Some(Kind::Tag),
            _ => None,
        }
    }

    fn from_git2(t: git2::ObjectType) -> Option<Kind> {
        match t {
            git2::ObjectType::Commit => Some(Kind::Commit),
            git2::ObjectType::Tree => Some(Kind::Tree),
            git2::ObjectType::Blob => Some(Kind::Blob),
            git2::ObjectType::Tag => Some(Kind::Tag),
            _ => None,
        }
    }
}

/// An object's type and content.
#[derive(Debug, Clone)]
pub(super) struct Object {
    pub kind: Kind,
    pub data: Rc<Vec<u8>>,
}

const OFS_DELTA: u8 = 6;
const REF_DELTA: u8 = 7;
/// Longer chains are refused (git's own limit is 4095); it also stops a cycle of ref-deltas.
const MAX_CHAIN: usize = 10_000;
/// Pack indexes larger than this (about 2.3 million objects) are not read by this module.
const MAX_IDX: u64 = 64 << 20;
/// Objects are never inflated beyond this (a declared size larger than this is an error).
const MAX_OBJECT: u64 = 1 << 31;
/// Entries up to this size (header and compressed data) are read whole, in one read.
const WHOLE_ENTRY: u64 = 1 << 20;

/// The pack files of a repository's object folder, opened once and shared by the workers.
pub(super) struct Packs {
    packs: Vec<Pack>,
}

struct Pack {
    file: File,
    /// Pack file length.
    len: u64,
    /// The whole `.idx` file (version 2).
    idx: Vec<u8>,
    count: usize,
    /// Every object's offset, sorted: an object's data ends where the next one starts.
    starts: Vec<u64>,
}

impl Packs {
    /// The packs of `objects/pack/` below `common_dir`; packs that cannot be read or are not
    /// version 2 are left out (their objects are read through libgit2).
    pub fn open(common_dir: &Path) -> Packs {
        let mut packs = Vec::new();
        let dir = common_dir.join("objects").join("pack");
        let mut names: Vec<_> = match std::fs::read_dir(&dir) {
            Ok(d) => d
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "idx"))
                .collect(),
            Err(_) => Vec::new(),
        };
        names.sort();
        for idx in names {
            if let Some(p) = Pack::open(&idx) {
                packs.push(p);
            }
        }
        Packs { packs }
    }

    /// The pack and offset of an object, when it is in one of the packs.
    /// `hint`: the pack to look in first (objects read together tend to share a pack; a
    /// repository fetched many times without `git gc` has many packs).
    fn find(&self, id: &[u8], hint: usize) -> Option<(usize, u64)> {
        if let Some(o) = self.packs.get(hint).and_then(|p| p.find(id)) {
            return Some((hint, o));
        }
        self.packs
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != hint)
            .find_map(|(i, p)| p.find(id).map(|o| (i, o)))
    }
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn be64(b: &[u8], at: usize) -> Option<u64> {
    let hi = be32(b, at)? as u64;
    let lo = be32(b, at + 4)? as u64;
    Some(hi << 32 | lo)
}

const IDX_HEADER: usize = 8;
const FANOUT: usize = 256 * 4;

impl Pack {
    fn open(idx_path: &Path) -> Option<Pack> {
        // The index is read into memory (with a sorted copy of its offsets): fine up to a few
        // million objects. A bigger pack (a monorepo's) is left to libgit2, which maps it.
        if std::fs::metadata(idx_path).ok()?.len() > MAX_IDX {
            return None;
        }
        let idx = std::fs::read(idx_path).ok()?;
        if idx.get(..8)? != [0xff, b't', b'O', b'c', 0, 0, 0, 2] {
            return None;
        }
        let count = be32(&idx, IDX_HEADER + 255 * 4)? as usize;
        // Header, fan-out, ids, CRCs, 32-bit offsets, two checksums (64-bit offsets between).
        let min = IDX_HEADER + FANOUT + count.checked_mul(28)? + 40;
        if idx.len() < min {
            return None;
        }
        let mut prev = 0;
        for i in 0..256 {
            let n = be32(&idx, IDX_HEADER + i * 4)?;
            if n < prev {
                return None;
            }
            prev = n;
        }
        let file = File::open(idx_path.with_extension("pack")).ok()?;
        let len = file.metadata().ok()?.len();
        let mut head = [0u8; 12];
        read_exact_at(&file, &mut head, 0).ok()?;
        if &head[..4] != b"PACK"
            || !matches!(be32(&head, 4)?, 2 | 3)
            || be32(&head, 8)? as usize != count
        {
            return None;
        }
        let mut pack = Pack {
            file,
            len,
            idx,
            count,
            starts: Vec::new(),
        };
        let mut starts = Vec::with_capacity(count);
        for i in 0..count {
            let o = pack.offset_at(i)?;
            if o < 12 || o >= len.saturating_sub(20) {
                return None;
            }
            starts.push(o);
        }
        starts.sort_unstable();
        pack.starts = starts;
        Some(pack)
    }

    fn id_at(&self, i: usize) -> &[u8] {
        let at = IDX_HEADER + FANOUT + i * 20;
        &self.idx[at..at + 20]
    }

    fn offset_at(&self, i: usize) -> Option<u64> {
        let base = IDX_HEADER + FANOUT + self.count * 24;
        let o = be32(&self.idx, base + i * 4)?;
        if o & 0x8000_0000 == 0 {
            return Some(o as u64);
        }
        let big = IDX_HEADER + FANOUT + self.count * 28 + (o & 0x7fff_ffff) as usize * 8;
        // The 64-bit offsets end before the two trailing checksums.
        if big + 8 > self.idx.len().saturating_sub(40) {
            return None;
        }
        be64(&self.idx, big)
    }

    fn find(&self, id: &[u8]) -> Option<u64> {
        let first = *id.first()? as usize;
        let lo = if first == 0 {
            0
        } else {
            be32(&self.idx, IDX_HEADER + (first - 1) * 4)? as usize
        };
        let hi = be32(&self.idx, IDX_HEADER + first * 4)? as usize;
        let (mut lo, mut hi) = (lo, hi.min(self.count));
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.id_at(mid).cmp(id) {
                std::cmp::Ordering::Equal => return self.offset_at(mid),
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        None
    }

    /// Where the entry at `offset` ends: the next entry's start, or the pack's checksum.
    fn end_of(&self, offset: u64) -> u64 {
        let i = self.starts.partition_point(|&s| s <= offset);
        self.starts
            .get(i)
            .copied()
            .unwrap_or(self.len.saturating_sub(20))
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_read(file, buf, offset)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
        offset += n as u64;
    }
    Ok(())
}

#[cfg(not(any(unix, windows)))]
fn read_exact_at(_: &File, _: &mut [u8], _: u64) -> std::io::Result<()> {
    // Elsewhere every object goes through libgit2.
    Err(std::io::ErrorKind::Unsupported.into())
}

/// A pack entry's header.
struct Entry {
    /// 1–4 (an object) or 6/7 (a delta).
    kind: u8,
    /// Inflated size of the data (of the delta, for deltas).
    size: u64,
    /// Where the compressed data starts.
    data: u64,
    end: u64,
    base: Base,
    /// The compressed data (`data..end`) when it was read with the header in one read (see
    /// [`Reader::load`]); empty otherwise, and then it is read when inflated.
    bytes: Vec<u8>,
}

enum Base {
    None,
    Offset(u64),
    Id([u8; 20]),
}

/// Why a read from a pack failed; the read then goes through libgit2.
#[derive(Debug)]
struct Unreadable;

/// One worker's reader: the shared packs, its own cache of resolved objects and inflater.
pub(super) struct Reader<'p> {
    packs: &'p Packs,
    repo: &'p Repository,
    cache: Cache,
    /// Trees resolved as ropes (see `rope.rs`), for the walk's diffs.
    ropes: RopeCache,
    inflate: flate2::Decompress,
    buf: Vec<u8>,
    last_pack: usize,
}

impl<'p> Reader<'p> {
    /// `budget`: bytes of resolved objects kept for reuse as delta bases.
    pub fn new(packs: &'p Packs, repo: &'p Repository, budget: usize) -> Reader<'p> {
        Reader {
            packs,
            repo,
            cache: Cache::new(budget),
            ropes: RopeCache::new(budget),
            inflate: flate2::Decompress::new(true),
            buf: Vec::new(),
            last_pack: 0,
        }
    }

    /// Where an object is in the packs, the pack of the last one found tried first.
    fn find(&mut self, id: &[u8]) -> Option<(usize, u64)> {
        let found = self.packs.find(id, self.last_pack);
        if let Some((p, _)) = found {
            self.last_pack = p;
        }
        found
    }

    /// An object by id.
    pub fn read(&mut self, id: Oid) -> Result<Object, git2::Error> {
        if let Some((p, offset)) = self.find(id.as_bytes()) {
            if let Ok(o) = self.read_packed(p, offset) {
                return Ok(o);
            }
        }
        self.read_git2(id)
    }

    /// A tree by id, as a rope: a tree stored as a delta is kept as the pieces of its base that
    /// the delta copies and the bytes it inserts (see `rope.rs`), never copied flat.
    pub fn read_tree(&mut self, id: Oid) -> Result<Rc<Rope>, git2::Error> {
        if let Some((p, offset)) = self.find(id.as_bytes()) {
            if let Ok(r) = self.read_tree_packed(p, offset) {
                return Ok(r);
            }
        }
        let o = self.read_git2(id)?;
        if o.kind != Kind::Tree {
            return Err(git2::Error::from_str(&format!("{id} is not a tree")));
        }
        Ok(Rc::new(Rope::whole(o.data)))
    }

    /// [`Reader::read_packed_from`] for trees, resolved as ropes.
    fn read_tree_packed(&mut self, p: usize, offset: u64) -> Result<Rc<Rope>, Unreadable> {
        let mut chain: Vec<(usize, u64, Entry)> = Vec::new();
        let (mut at_p, mut at) = (p, offset);
        let mut base: Rc<Rope> = loop {
            if chain.len() > MAX_CHAIN {
                return Err(Unreadable);
            }
            if let Some(r) = self.ropes.get(at_p, at) {
                break r;
            }
            if let Some(o) = self.cache.get(at_p, at) {
                if o.kind != Kind::Tree {
                    return Err(Unreadable);
                }
                let r = Rc::new(Rope::whole(o.data));
                self.ropes.put(at_p, at, &r);
                break r;
            }
            let e = self.load(at_p, at)?;
            match e.base {
                Base::None => {
                    if Kind::from_pack(e.kind) != Some(Kind::Tree) {
                        return Err(Unreadable);
                    }
                    let data = self.inflate(at_p, &e)?;
                    let r = Rc::new(Rope::whole(Rc::new(data)));
                    self.ropes.put(at_p, at, &r);
                    break r;
                }
                Base::Offset(b) => {
                    chain.push((at_p, at, e));
                    at = b;
                }
                Base::Id(id) => {
                    chain.push((at_p, at, e));
                    match self.find(&id) {
                        Some((bp, bo)) => {
                            at_p = bp;
                            at = bo;
                        }
                        None => {
                            let oid = Oid::from_bytes(&id).map_err(|_| Unreadable)?;
                            let o = self.read_git2(oid).map_err(|_| Unreadable)?;
                            if o.kind != Kind::Tree {
                                return Err(Unreadable);
                            }
                            break Rc::new(Rope::whole(o.data));
                        }
                    }
                }
            }
        };
        while let Some((dp, doff, e)) = chain.pop() {
            let delta = self.inflate(dp, &e)?;
            base = Rc::new(Rope::apply(&base, delta, MAX_OBJECT).map_err(|_| Unreadable)?);
            self.ropes.put(dp, doff, &base);
        }
        Ok(base)
    }

    /// An object's size without reading all of it, when that is cheap; `None` otherwise.
    pub fn size(&mut self, id: Oid) -> Option<u64> {
        let Some((p, offset)) = self.find(id.as_bytes()) else {
            let odb = self.repo.odb().ok()?;
            return odb.read_header(id).ok().map(|(n, _)| n as u64);
        };
        let e = entry(&self.packs.packs[p], offset).ok()?;
        match e.kind {
            OFS_DELTA | REF_DELTA => self.delta_result_size(p, &e),
            _ => Some(e.size),
        }
    }

    /// An object by id when it is at most `max` bytes, `None` when it is larger: the size is
    /// known from the entry's header (the delta's, for a delta) before any of it is inflated,
    /// and the object is located in the packs once.
    pub fn read_within(&mut self, id: Oid, max: u64) -> Result<Option<Object>, git2::Error> {
        if let Some((p, offset)) = self.find(id.as_bytes()) {
            if let Some(o) = self.cache.get(p, offset) {
                return Ok((o.data.len() as u64 <= max).then_some(o));
            }
            if let Ok(e) = self.load(p, offset) {
                let size = match e.kind {
                    OFS_DELTA | REF_DELTA => self.delta_result_size(p, &e),
                    _ => Some(e.size),
                };
                if size.is_some_and(|n| n > max) {
                    return Ok(None);
                }
                if let Ok(o) = self.read_packed_from(p, offset, Some(e)) {
                    return Ok((o.data.len() as u64 <= max).then_some(o));
                }
            }
        } else if let Some((n, _)) = self.repo.odb().ok().and_then(|o| o.read_header(id).ok()) {
            if n as u64 > max {
                return Ok(None);
            }
        }
        let o = self.read_git2(id)?;
        Ok((o.data.len() as u64 <= max).then_some(o))
    }

    /// The size of the object a delta entry produces: the delta starts with the base's size
    /// and the result's size.
    fn delta_result_size(&mut self, p: usize, e: &Entry) -> Option<u64> {
        let pack = &self.packs.packs[p];
        let mut head = [0u8; 32];
        let n = self.inflate_prefix(pack, e, &mut head).ok()?;
        let mut at = 0;
        varint(&head[..n], &mut at)?;
        varint(&head[..n], &mut at)
    }

    fn read_git2(&self, id: Oid) -> Result<Object, git2::Error> {
        let odb = self.repo.odb()?;
        let o = odb.read(id)?;
        let kind = Kind::from_git2(o.kind())
            .ok_or_else(|| git2::Error::from_str(&format!("object {id} has an unexpected type")))?;
        Ok(Object {
            kind,
            data: Rc::new(o.data().to_vec()),
        })
    }

    /// Resolve the entry at `offset`: walk down its delta chain to an object or a cached
    /// base, then apply the deltas upwards, keeping each result.
    fn read_packed(&mut self, p: usize, offset: u64) -> Result<Object, Unreadable> {
        if let Some(o) = self.cache.get(p, offset) {
            return Ok(o);
        }
        self.read_packed_from(p, offset, None)
    }

    /// [`Reader::read_packed`] past the cache, with the entry's header when already parsed.
    fn read_packed_from(
        &mut self,
        p: usize,
        offset: u64,
        mut first: Option<Entry>,
    ) -> Result<Object, Unreadable> {
        let mut chain: Vec<(usize, u64, Entry)> = Vec::new();
        let (mut at_p, mut at) = (p, offset);
        let mut base: Object = loop {
            if chain.len() > MAX_CHAIN {
                return Err(Unreadable);
            }
            let e = match first.take() {
                Some(e) => e,
                None => {
                    if let Some(o) = self.cache.get(at_p, at) {
                        break o;
                    }
                    self.load(at_p, at)?
                }
            };
            match e.base {
                Base::None => {
                    let kind = Kind::from_pack(e.kind).ok_or(Unreadable)?;
                    let data = self.inflate(at_p, &e)?;
                    let o = Object {
                        kind,
                        data: Rc::new(data),
                    };
                    self.cache.put(at_p, at, &o);
                    break o;
                }
                Base::Offset(b) => {
                    chain.push((at_p, at, e));
                    at = b;
                }
                Base::Id(id) => {
                    chain.push((at_p, at, e));
                    match self.find(&id) {
                        Some((bp, bo)) => {
                            at_p = bp;
                            at = bo;
                        }
                        None => {
                            // A base outside the packs (not in a repository's own packs, but
                            // possible): libgit2 reads it.
                            let oid = Oid::from_bytes(&id).map_err(|_| Unreadable)?;
                            break self.read_git2(oid).map_err(|_| Unreadable)?;
                        }
                    }
                }
            }
        };
        while let Some((dp, doff, e)) = chain.pop() {
            let delta = self.inflate(dp, &e)?;
            let data = apply_delta(&base.data, &delta)?;
            base = Object {
                kind: base.kind,
                data: Rc::new(data),
            };
            self.cache.put(dp, doff, &base);
        }
        Ok(base)
    }

    fn inflate(&mut self, p: usize, e: &Entry) -> Result<Vec<u8>, Unreadable> {
        if e.size > MAX_OBJECT || e.end < e.data {
            return Err(Unreadable);
        }
        let input: &[u8] = if e.bytes.is_empty() {
            let pack = &self.packs.packs[p];
            let n = usize::try_from(e.end - e.data).map_err(|_| Unreadable)?;
            self.buf.resize(n, 0);
            read_exact_at(&pack.file, &mut self.buf, e.data).map_err(|_| Unreadable)?;
            &self.buf
        } else {
            &e.bytes
        };
        let size = e.size as usize;
        // One byte more than declared, to notice data that is longer than its header says.
        let mut out = Vec::with_capacity(size + 1);
        self.inflate.reset(true);
        let status = self
            .inflate
            .decompress_vec(input, &mut out, flate2::FlushDecompress::Finish)
            .map_err(|_| Unreadable)?;
        if status != flate2::Status::StreamEnd || out.len() != size {
            return Err(Unreadable);
        }
        Ok(out)
    }

    /// The entry at `offset`, its compressed data read in the same read as its header when the
    /// whole entry is small (most are: one system call per object instead of two or three).
    fn load(&self, p: usize, offset: u64) -> Result<Entry, Unreadable> {
        let pack = &self.packs.packs[p];
        let end = pack.end_of(offset);
        let len = end.saturating_sub(offset);
        if len == 0 || len > WHOLE_ENTRY {
            return entry(pack, offset);
        }
        let mut raw = vec![0u8; len as usize];
        read_exact_at(&pack.file, &mut raw, offset).map_err(|_| Unreadable)?;
        let mut e = parse_entry(&raw[..raw.len().min(64)], offset, end)?;
        let start = usize::try_from(e.data - offset).map_err(|_| Unreadable)?;
        if start > raw.len() {
            return Err(Unreadable);
        }
        raw.drain(..start);
        e.bytes = raw;
        Ok(e)
    }

    /// The first bytes of an entry's inflated data.
    fn inflate_prefix(
        &mut self,
        pack: &Pack,
        e: &Entry,
        out: &mut [u8],
    ) -> Result<usize, Unreadable> {
        let n = (e.end.saturating_sub(e.data)).min(64) as usize;
        let mut input = [0u8; 64];
        let input = if e.bytes.is_empty() {
            read_exact_at(&pack.file, &mut input[..n], e.data).map_err(|_| Unreadable)?;
            &input[..n]
        } else {
            &e.bytes[..n.min(e.bytes.len())]
        };
        self.inflate.reset(true);
        self.inflate
            .decompress(input, out, flate2::FlushDecompress::None)
            .map_err(|_| Unreadable)?;
        Ok(self.inflate.total_out() as usize)
    }
}

/// Parse the entry header at `offset`.
fn entry(pack: &Pack, offset: u64) -> Result<Entry, Unreadable> {
    let end = pack.end_of(offset);
    let n = (end.saturating_sub(offset)).min(64) as usize;
    let mut head = [0u8; 64];
    read_exact_at(&pack.file, &mut head[..n], offset).map_err(|_| Unreadable)?;
    parse_entry(&head[..n], offset, end)
}

/// Parse an entry header from the first bytes of the entry at `offset`, which ends at `end`.
fn parse_entry(head: &[u8], offset: u64, end: u64) -> Result<Entry, Unreadable> {
    let mut at = 0;
    let mut b = *head.first().ok_or(Unreadable)?;
    at += 1;
    let kind = (b >> 4) & 7;
    let mut size = (b & 15) as u64;
    let mut shift = 4;
    while b & 0x80 != 0 {
        b = *head.get(at).ok_or(Unreadable)?;
        at += 1;
        if shift > 56 {
            return Err(Unreadable);
        }
        size |= ((b & 0x7f) as u64) << shift;
        shift += 7;
    }
    let base = match kind {
        OFS_DELTA => {
            let mut b = *head.get(at).ok_or(Unreadable)?;
            at += 1;
            let mut back = (b & 0x7f) as u64;
            while b & 0x80 != 0 {
                b = *head.get(at).ok_or(Unreadable)?;
                at += 1;
                back = back
                    .checked_add(1)
                    .and_then(|x| x.checked_mul(128))
                    .ok_or(Unreadable)?
                    | (b & 0x7f) as u64;
            }
            if back == 0 || back > offset {
                return Err(Unreadable);
            }
            Base::Offset(offset - back)
        }
        REF_DELTA => {
            let id: [u8; 20] = head
                .get(at..at + 20)
                .and_then(|s| s.try_into().ok())
                .ok_or(Unreadable)?;
            at += 20;
            Base::Id(id)
        }
        1..=4 => Base::None,
        _ => return Err(Unreadable),
    };
    Ok(Entry {
        kind,
        size,
        data: offset + at as u64,
        end,
        base,
        bytes: Vec::new(),
    })
}

/// A little-endian base-128 number, as at the start of a delta.
fn varint(b: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let byte = *b.get(*at)?;
        *at += 1;
        if shift > 63 {
            return None;
        }
        v |= ((byte & 0x7f) as u64) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
}

/// One instruction of a git delta: copy `len` bytes of the base from `off`, or insert the
/// delta's own bytes `at..at + len`.
pub(super) enum DeltaOp {
    Copy { off: usize, len: usize },
    Insert { at: usize, len: usize },
}

/// A delta's header: the sizes of its base and of its result, and where its instructions start.
pub(super) fn delta_header(delta: &[u8]) -> Option<(u64, u64, usize)> {
    let mut at = 0;
    let src = varint(delta, &mut at)?;
    let dst = varint(delta, &mut at)?;
    Some((src, dst, at))
}

/// The delta instruction at `*at` (which must be inside `delta`), moving `at` past it; `None`
/// when it is malformed (a reserved zero command, or bytes past the end).
pub(super) fn delta_op(delta: &[u8], at: &mut usize) -> Option<DeltaOp> {
    let cmd = *delta.get(*at)?;
    *at += 1;
    if cmd & 0x80 != 0 {
        let mut off = 0usize;
        let mut len = 0usize;
        for i in 0..4 {
            if cmd & (1 << i) != 0 {
                off |= (*delta.get(*at)? as usize) << (8 * i);
                *at += 1;
            }
        }
        for i in 0..3 {
            if cmd & (0x10 << i) != 0 {
                len |= (*delta.get(*at)? as usize) << (8 * i);
                *at += 1;
            }
        }
        if len == 0 {
            len = 0x10000;
        }
        Some(DeltaOp::Copy { off, len })
    } else if cmd != 0 {
        let (start, len) = (*at, cmd as usize);
        if start + len > delta.len() {
            return None;
        }
        *at += len;
        Some(DeltaOp::Insert { at: start, len })
    } else {
        None
    }
}

/// Apply a git delta to `base`.
fn apply_delta(base: &[u8], delta: &[u8]) -> Result<Vec<u8>, Unreadable> {
    let (src, dst, mut at) = delta_header(delta).ok_or(Unreadable)?;
    if src != base.len() as u64 || dst > MAX_OBJECT {
        return Err(Unreadable);
    }
    let mut out = Vec::with_capacity(dst as usize);
    while at < delta.len() {
        let piece = match delta_op(delta, &mut at).ok_or(Unreadable)? {
            DeltaOp::Copy { off, len } => off.checked_add(len).and_then(|end| base.get(off..end)),
            DeltaOp::Insert { at, len } => delta.get(at..at + len),
        };
        out.extend_from_slice(piece.ok_or(Unreadable)?);
        if out.len() as u64 > dst {
            return Err(Unreadable);
        }
    }
    if out.len() as u64 != dst {
        return Err(Unreadable);
    }
    Ok(out)
}

/// Resolved objects by (pack, offset), least recently used evicted first.
struct Cache {
    map: HashMap<(usize, u64), (Object, u64)>,
    bytes: usize,
    budget: usize,
    tick: u64,
}

impl Cache {
    fn new(budget: usize) -> Cache {
        Cache {
            map: HashMap::new(),
            bytes: 0,
            budget,
            tick: 0,
        }
    }

    fn get(&mut self, p: usize, offset: u64) -> Option<Object> {
        self.tick += 1;
        let tick = self.tick;
        self.map.get_mut(&(p, offset)).map(|(o, t)| {
            *t = tick;
            o.clone()
        })
    }

    fn put(&mut self, p: usize, offset: u64, o: &Object) {
        let len = o.data.len();
        if len > self.budget / 4 {
            return;
        }
        self.tick += 1;
        if let Some((old, _)) = self.map.insert((p, offset), (o.clone(), self.tick)) {
            self.bytes -= old.data.len();
        }
        self.bytes += len;
        if self.bytes > self.budget {
            // Evict the older half by last use: amortised, not per insertion.
            let mut ticks: Vec<(u64, (usize, u64))> =
                self.map.iter().map(|(k, (_, t))| (*t, *k)).collect();
            ticks.sort_unstable();
            for (_, k) in ticks {
                if self.bytes <= self.budget / 2 {
                    break;
                }
                if let Some((o, _)) = self.map.remove(&k) {
                    self.bytes -= o.data.len();
                }
            }
        }
    }
}

/// Trees resolved as ropes by (pack, offset), least recently used evicted first. What a rope
/// costs is its pieces plus the buffers it points into, each buffer counted once however many
/// cached ropes share it: the budget bounds the memory the cache keeps alive.
struct RopeCache {
    map: HashMap<(usize, u64), (Rc<Rope>, u64)>,
    /// Cached ropes per buffer (by address) and the buffer's size.
    bufs: HashMap<usize, (usize, usize)>,
    bytes: usize,
    budget: usize,
    tick: u64,
}

/// What one piece of a rope costs in memory (its buffer aside).
const PIECE_COST: usize = 48;

impl RopeCache {
    fn new(budget: usize) -> RopeCache {
        RopeCache {
            map: HashMap::new(),
            bufs: HashMap::new(),
            bytes: 0,
            budget,
            tick: 0,
        }
    }

    fn get(&mut self, p: usize, offset: u64) -> Option<Rc<Rope>> {
        self.tick += 1;
        let tick = self.tick;
        self.map.get_mut(&(p, offset)).map(|(r, t)| {
            *t = tick;
            r.clone()
        })
    }

    fn account(&mut self, r: &Rope, add: bool) {
        for b in r.bufs() {
            let key = Rc::as_ptr(b) as usize;
            if add {
                let e = self.bufs.entry(key).or_insert((0, b.len()));
                if e.0 == 0 {
                    self.bytes += e.1;
                }
                e.0 += 1;
            } else if let Some(e) = self.bufs.get_mut(&key) {
                e.0 -= 1;
                if e.0 == 0 {
                    self.bytes -= e.1;
                    self.bufs.remove(&key);
                }
            }
        }
        let own = r.piece_count() * PIECE_COST;
        if add {
            self.bytes += own;
        } else {
            self.bytes -= own;
        }
    }

    fn put(&mut self, p: usize, offset: u64, r: &Rc<Rope>) {
        if r.len() > self.budget / 4 {
            return;
        }
        self.tick += 1;
        self.account(r, true);
        if let Some((old, _)) = self.map.insert((p, offset), (r.clone(), self.tick)) {
            self.account(&old, false);
        }
        if self.bytes > self.budget {
            let mut ticks: Vec<(u64, (usize, u64))> =
                self.map.iter().map(|(k, (_, t))| (*t, *k)).collect();
            ticks.sort_unstable();
            for (_, k) in ticks {
                if self.bytes <= self.budget / 2 {
                    break;
                }
                if let Some((old, _)) = self.map.remove(&k) {
                    self.account(&old, false);
                }
            }
        }
    }
}

/// The entries of a raw tree object: mode, name, id.
pub(super) struct TreeEntries<'a> {
    rest: &'a [u8],
}

pub(super) fn tree_entries(data: &[u8]) -> TreeEntries<'_> {
    TreeEntries { rest: data }
}

impl<'a> TreeEntries<'a> {
    /// The bytes not parsed yet.
    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }
}

/// One entry of a raw tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TreeEntry<'a> {
    pub mode: u32,
    pub name: &'a [u8],
    pub id: &'a [u8],
}

impl<'a> Iterator for TreeEntries<'a> {
    type Item = Result<TreeEntry<'a>, git2::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let bad = || git2::Error::from_str("a tree object is malformed");
        let parse = |rest: &'a [u8]| -> Option<(TreeEntry<'a>, &'a [u8])> {
            let sp = rest.iter().position(|&b| b == b' ')?;
            let mut mode = 0u32;
            for &d in &rest[..sp] {
                if !(b'0'..=b'7').contains(&d) || mode > 0o7777777 {
                    return None;
                }
                mode = mode * 8 + (d - b'0') as u32;
            }
            let rest = &rest[sp + 1..];
            let nul = rest.iter().position(|&b| b == 0)?;
            let name = &rest[..nul];
            let id = rest.get(nul + 1..nul + 21)?;
            Some((TreeEntry { mode, name, id }, &rest[nul + 21..]))
        };
        match parse(self.rest) {
            Some((e, rest)) => {
                self.rest = rest;
                Some(Ok(e))
            }
            None => {
                self.rest = &[];
                Some(Err(bad()))
            }
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A delta's copy instruction for `len` bytes at `off` of the base.
    pub(in crate::history) fn copy(off: u32, len: u32) -> Vec<u8> {
        let mut cmd = 0x80u8;
        let mut args = Vec::new();
        for i in 0..4 {
            let b = (off >> (8 * i)) as u8;
            if b != 0 {
                cmd |= 1 << i;
                args.push(b);
            }
        }
        for i in 0..3 {
            let b = (len >> (8 * i)) as u8;
            if b != 0 {
                cmd |= 0x10 << i;
                args.push(b);
            }
        }
        let mut v = vec![cmd];
        v.extend(args);
        v
    }

    #[test]
    fn deltas_copy_and_insert() {
        let base = b"hello, world";
        let mut delta = vec![12, 9];
        delta.extend(copy(7, 5)); // "world"
        delta.push(4);
        delta.extend(b", hi");
        assert_eq!(apply_delta(base, &delta).unwrap(), b"world, hi");
    }

    #[test]
    fn broken_deltas_are_refused_not_trusted() {
        let base = b"hello";
        // wrong base size
        assert!(apply_delta(base, &[4, 1, 1, b'x']).is_err());
        // copy beyond the base
        let mut d = vec![5, 3];
        d.extend(copy(3, 3));
        assert!(apply_delta(base, &d).is_err());
        // result longer than declared
        assert!(apply_delta(base, &[5, 1, 2, b'a', b'b']).is_err());
        // reserved instruction 0
        assert!(apply_delta(base, &[5, 1, 0]).is_err());
        // truncated insert
        assert!(apply_delta(base, &[5, 3, 3, b'a']).is_err());
    }

    /// A repository whose history grows a big folder and edits a big file, so that packing it
    /// stores deltas (chains of them).
    fn growing_repo() -> (tempfile::TempDir, Repository) {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let sig =
            git2::Signature::new("T", "t@example.org", &git2::Time::new(1_700_000_000, 0)).unwrap();
        let mut parent: Option<Oid> = None;
        let mut big = String::new();
        for i in 0..40 {
            big.push_str(&format!("line {i}: the same words again and again\n"));
            let mut folder = repo.treebuilder(None).unwrap();
            for f in 0..(200 + i) {
                let text = format!("id: R-{f}\nrevision: {}\n", if f == i { i } else { 0 });
                let blob = repo.blob(text.as_bytes()).unwrap();
                folder
                    .insert(format!("r-{f:04}.yaml"), blob, 0o100644)
                    .unwrap();
            }
            let folder = folder.write().unwrap();
            let mut root = repo.treebuilder(None).unwrap();
            root.insert("records", folder, 0o040000).unwrap();
            root.insert("big.md", repo.blob(big.as_bytes()).unwrap(), 0o100644)
                .unwrap();
            let tree = repo.find_tree(root.write().unwrap()).unwrap();
            let parents: Vec<git2::Commit<'_>> = parent
                .map(|p| repo.find_commit(p).unwrap())
                .into_iter()
                .collect();
            let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
            parent = Some(
                repo.commit(Some("HEAD"), &sig, &sig, &format!("c{i}"), &tree, &refs)
                    .unwrap(),
            );
        }
        (dir, repo)
    }

    fn git_kind(k: Kind) -> git2::ObjectType {
        match k {
            Kind::Commit => git2::ObjectType::Commit,
            Kind::Tree => git2::ObjectType::Tree,
            Kind::Blob => git2::ObjectType::Blob,
            Kind::Tag => git2::ObjectType::Tag,
        }
    }

    /// Every object of the repository, by id.
    fn all_objects(repo: &Repository) -> Vec<Oid> {
        let mut ids = Vec::new();
        repo.odb()
            .unwrap()
            .foreach(|id| {
                ids.push(*id);
                true
            })
            .unwrap();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Read every object through a fresh reader (and again, warm) and check it hashes to its
    /// id; returns how many came from a pack entry that is a delta.
    fn read_all_and_verify(repo: &Repository, ids: &[Oid]) -> usize {
        let packs = Packs::open(repo.commondir());
        assert!(!packs.packs.is_empty(), "no pack was written");
        let mut deltas = 0;
        for budget in [1 << 20, 64 << 20] {
            let mut reader = Reader::new(&packs, repo, budget);
            for &id in ids.iter().chain(ids.iter().rev()) {
                let (p, offset) = packs
                    .find(id.as_bytes(), 0)
                    .expect("object not in the pack");
                let e = entry(&packs.packs[p], offset).unwrap();
                if budget == 1 << 20 && matches!(e.kind, OFS_DELTA | REF_DELTA) {
                    deltas += 1;
                }
                let o = reader
                    .read_packed(p, offset)
                    .expect("unreadable pack entry");
                assert_eq!(Oid::hash_object(git_kind(o.kind), &o.data).unwrap(), id);
                assert_eq!(reader.size(id), Some(o.data.len() as u64));
            }
        }
        deltas
    }

    /// Delete the loose objects, so that only the pack can answer.
    fn prune_loose(repo: &Repository) {
        let objects = repo.commondir().join("objects");
        for e in std::fs::read_dir(&objects).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.len() == 2 && name.chars().all(|c| c.is_ascii_hexdigit()) {
                std::fs::remove_dir_all(p).unwrap();
            }
        }
    }

    /// Pack everything reachable from HEAD with libgit2's pack builder (REF deltas), then
    /// delete the loose objects.
    fn pack_with_libgit2(repo: &Repository) {
        let mut pb = repo.packbuilder().unwrap();
        let mut walk = repo.revwalk().unwrap();
        walk.push_head().unwrap();
        pb.insert_walk(&mut walk).unwrap();
        pb.write(&repo.commondir().join("objects/pack"), 0o644)
            .unwrap();
        prune_loose(repo);
    }

    #[test]
    fn objects_in_a_libgit2_pack_read_exactly_ref_deltas_included() {
        let (_dir, repo) = growing_repo();
        let ids = all_objects(&repo);
        pack_with_libgit2(&repo);
        let deltas = read_all_and_verify(&repo, &ids);
        assert!(deltas > 20, "the pack holds only {deltas} deltas");
    }

    #[test]
    fn objects_spread_over_several_packs_are_all_found() {
        let (_dir, repo) = growing_repo();
        let ids = all_objects(&repo);
        let pack_dir = repo.commondir().join("objects/pack");
        // One pack per object kind: every lookup has to try more than one pack.
        for kind in [
            git2::ObjectType::Commit,
            git2::ObjectType::Tree,
            git2::ObjectType::Blob,
        ] {
            let mut pb = repo.packbuilder().unwrap();
            for &id in &ids {
                if repo.odb().unwrap().read_header(id).unwrap().1 == kind {
                    pb.insert_object(id, None).unwrap();
                }
            }
            pb.write(&pack_dir, 0o644).unwrap();
        }
        prune_loose(&repo);
        let packs = Packs::open(repo.commondir());
        assert_eq!(packs.packs.len(), 3);
        let mut reader = Reader::new(&packs, &repo, 4 << 20);
        for &id in &ids {
            let (p, offset) = reader.find(id.as_bytes()).expect("object not in any pack");
            let o = reader.read_packed(p, offset).unwrap();
            assert_eq!(Oid::hash_object(git_kind(o.kind), &o.data).unwrap(), id);
        }
    }

    #[test]
    fn objects_in_a_git_repacked_pack_read_exactly_ofs_deltas_included() {
        let (dir, repo) = growing_repo();
        let ids = all_objects(&repo);
        let repack = std::process::Command::new("git")
            .args([
                "repack",
                "-a",
                "-d",
                "-f",
                "-q",
                "--depth=50",
                "--window=50",
            ])
            .current_dir(dir.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .status();
        match repack {
            Ok(s) => assert!(s.success(), "git repack failed"),
            // Developers' machines without git skip this half; CI must have git.
            Err(_) if std::env::var_os("CI").is_none() => return,
            Err(e) => panic!("git is needed for this test under CI: {e}"),
        }
        prune_loose(&repo);
        let deltas = read_all_and_verify(&repo, &ids);
        assert!(deltas > 20, "the pack holds only {deltas} deltas");
    }

    #[test]
    fn a_corrupt_pack_never_yields_wrong_content() {
        let (_dir, repo) = growing_repo();
        let ids = all_objects(&repo);
        pack_with_libgit2(&repo);
        let pack_dir = repo.commondir().join("objects/pack");
        let pack = std::fs::read_dir(&pack_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "pack"))
            .unwrap();
        let mut bytes = std::fs::read(&pack).unwrap();
        // Flip bytes all through the object data (not the header or the checksum).
        let n = bytes.len();
        for at in (100..n - 40).step_by(97) {
            bytes[at] ^= 0x5a;
        }
        std::fs::write(&pack, bytes).unwrap();
        let packs = Packs::open(repo.commondir());
        let mut reader = Reader::new(&packs, &repo, 8 << 20);
        let mut failed = 0;
        for &id in &ids {
            match reader.read(id) {
                Ok(o) => assert_eq!(
                    Oid::hash_object(git_kind(o.kind), &o.data).unwrap(),
                    id,
                    "wrong content"
                ),
                Err(_) => failed += 1,
            }
        }
        assert!(failed > 0, "the corruption went unnoticed");
    }

    #[test]
    fn random_deltas_and_trees_never_panic() {
        // Pack data is input like any other: whatever the bytes, a result or a refusal.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let base: Vec<u8> = (0..300).map(|i| (i * 7) as u8).collect();
        for _ in 0..20_000 {
            let len = (next() % 64) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            // Half of the deltas start with a plausible header, so the instructions get read.
            if next() % 2 == 0 {
                let mut head = vec![0xac, 0x02, (next() % 128) as u8];
                head.append(&mut bytes);
                bytes = head;
            }
            if let Ok(out) = apply_delta(&base, &bytes) {
                assert!(out.len() <= MAX_OBJECT as usize);
            }
            let _ = tree_entries(&bytes).count();
            let mut at = 0;
            let _ = varint(&bytes, &mut at);
        }
    }

    #[test]
    fn raw_trees_parse_and_malformed_ones_fail() {
        let mut raw = b"100644 a.md\0".to_vec();
        raw.extend([1u8; 20]);
        raw.extend(b"40000 dir\0");
        raw.extend([2u8; 20]);
        let e: Vec<_> = tree_entries(&raw).collect::<Result<_, _>>().unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].mode, e[0].name), (0o100644, &b"a.md"[..]));
        assert_eq!(
            (e[1].mode, e[1].name, e[1].id),
            (0o40000, &b"dir"[..], &[2u8; 20][..])
        );
        raw.truncate(raw.len() - 3);
        assert!(tree_entries(&raw).any(|e| e.is_err()));
    }
}
