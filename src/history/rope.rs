//! Trees of the walk kept as ropes: a version of a tree that a pack stores as a delta is the list
//! of byte ranges the delta copies from its base and inserts, never one flat copy of the tree.
//!
//! Why: a flat folder (`records/incident/` with 15,000 files) is a tree of 700 KB, and nearly
//! every commit changes it. Resolving each version flat costs a copy of the whole tree, and
//! comparing it with the previous version a scan of both: per commit a cost that grows with the
//! folder, so the walk grew with commits × folder size. As ropes, two versions of one delta chain
//! share their pieces; where both sides sit at the same place of the same buffer, every entry up
//! to the end of the shorter piece is the same, so the comparison jumps over it and only parses the
//! entries around the delta's edits. A commit that adds one file costs a few entries, whatever the
//! size of the folder. Two versions from different chains (a chain that starts again with a whole
//! object, every 50 versions in a `git fast-import` pack) share no buffer: there the bytes under
//! both cursors are compared, and the comparison jumps as far as they agree.
//!
//! The jump is exact: entries are parsed from known entry boundaries only. A whole tree object's
//! boundaries are found once by parsing it from its start (`Buf::bounds`); two cursors at the same
//! boundary of the same buffer read the same bytes, so they read the same entries up to the last
//! boundary of that buffer inside both of their current pieces. Elsewhere (inserted bytes, an entry
//! that straddles two pieces, a position that is no boundary of the buffer) entries are parsed one
//! by one, as in a plain merge of two sorted lists.

use super::odb::{delta_header, delta_op, DeltaOp, TreeEntry};
use std::cell::OnceCell;
use std::cmp::Ordering;
use std::rc::Rc;

/// Bytes that pieces of ropes point into: a whole tree object, or a delta's inflated data.
pub(super) struct Buf {
    bytes: Rc<Vec<u8>>,
    /// Whether `bytes` is a whole tree (its entry boundaries can be found from its start).
    whole: bool,
    bounds: OnceCell<Vec<u32>>,
}

impl Buf {
    /// The entry boundaries of a whole tree: the start of every entry, and the end of the last
    /// one parsed (up to the first malformed entry, if any). `None` for a delta's data.
    fn bounds(&self) -> Option<&[u32]> {
        if !self.whole {
            return None;
        }
        Some(self.bounds.get_or_init(|| {
            let mut out = vec![0u32];
            let mut at = 0;
            while let Parsed::Entry(_, n) = parse_one(&self.bytes[at..]) {
                at += n;
                out.push(at as u32);
            }
            out
        }))
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }
}

#[derive(Clone)]
struct Piece {
    buf: Rc<Buf>,
    start: usize,
    len: usize,
}

impl Piece {
    fn bytes(&self) -> &[u8] {
        &self.buf.bytes[self.start..self.start + self.len]
    }
}

/// A tree's bytes as pieces of buffers.
pub(super) struct Rope {
    pieces: Vec<Piece>,
    /// Where each piece starts in the tree.
    starts: Vec<usize>,
    len: usize,
}

/// Why a delta could not be applied.
#[derive(Debug)]
pub(super) struct BadDelta;

impl Rope {
    /// A whole tree object.
    pub fn whole(bytes: Rc<Vec<u8>>) -> Rope {
        let len = bytes.len();
        let buf = Rc::new(Buf {
            bytes,
            whole: true,
            bounds: OnceCell::new(),
        });
        let mut r = Rope {
            pieces: Vec::new(),
            starts: Vec::new(),
            len: 0,
        };
        r.push(&buf, 0, len);
        r
    }

    fn empty() -> Rope {
        Rope {
            pieces: Vec::new(),
            starts: Vec::new(),
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// How many pieces the rope has (for the cache's accounting).
    pub fn piece_count(&self) -> usize {
        self.pieces.len()
    }

    /// The distinct buffers the rope points into.
    pub fn bufs(&self) -> Vec<&Rc<Buf>> {
        let mut out: Vec<&Rc<Buf>> = Vec::new();
        for p in &self.pieces {
            if !out.iter().any(|b| Rc::ptr_eq(b, &p.buf)) {
                out.push(&p.buf);
            }
        }
        out
    }

    /// The tree's bytes in one piece (a copy, unless the rope is one whole buffer).
    pub fn flat(&self) -> std::borrow::Cow<'_, [u8]> {
        match self.pieces.as_slice() {
            [] => std::borrow::Cow::Borrowed(&[]),
            [one] => std::borrow::Cow::Borrowed(one.bytes()),
            _ => {
                let mut out = Vec::with_capacity(self.len);
                for p in &self.pieces {
                    out.extend_from_slice(p.bytes());
                }
                std::borrow::Cow::Owned(out)
            }
        }
    }

    fn push(&mut self, buf: &Rc<Buf>, start: usize, len: usize) {
        if len == 0 {
            return;
        }
        if let Some(last) = self.pieces.last_mut() {
            if Rc::ptr_eq(&last.buf, buf) && last.start + last.len == start {
                last.len += len;
                self.len += len;
                return;
            }
        }
        self.pieces.push(Piece {
            buf: buf.clone(),
            start,
            len,
        });
        self.starts.push(self.len);
        self.len += len;
    }

    /// Append the bytes `off..off + len` of `base` as pieces of its buffers.
    fn copy_from(&mut self, base: &Rope, off: usize, len: usize) -> Result<(), BadDelta> {
        let end = off.checked_add(len).ok_or(BadDelta)?;
        if end > base.len {
            return Err(BadDelta);
        }
        let mut i = base.starts.partition_point(|&s| s <= off).saturating_sub(1);
        let mut at = off;
        while at < end {
            let p = base.pieces.get(i).ok_or(BadDelta)?;
            let p_start = base.starts[i];
            let from = at - p_start;
            let n = (p.len - from).min(end - at);
            self.push(&p.buf, p.start + from, n);
            at += n;
            i += 1;
        }
        Ok(())
    }

    /// Apply a git delta (its inflated data) to `base`: the same checks as applying it to flat
    /// bytes, but copies become pieces of the base's buffers and inserts pieces of the delta.
    pub fn apply(base: &Rope, delta: Vec<u8>, max: u64) -> Result<Rope, BadDelta> {
        let (src, dst, mut at) = delta_header(&delta).ok_or(BadDelta)?;
        if src != base.len as u64 || dst > max {
            return Err(BadDelta);
        }
        let buf = Rc::new(Buf {
            bytes: Rc::new(delta),
            whole: false,
            bounds: OnceCell::new(),
        });
        let delta = &buf.bytes;
        let mut out = Rope::empty();
        while at < delta.len() {
            match delta_op(delta, &mut at).ok_or(BadDelta)? {
                DeltaOp::Copy { off, len } => out.copy_from(base, off, len)?,
                DeltaOp::Insert { at, len } => out.push(&buf, at, len),
            }
            if out.len as u64 > dst {
                return Err(BadDelta);
            }
        }
        if out.len as u64 != dst {
            return Err(BadDelta);
        }
        Ok(out)
    }
}

/// An entry of the old tree and of the new one (see [`diff`]).
pub(super) type Pair = (Option<Ent>, Option<Ent>);

/// One tree entry, owned (it may have been gathered from two pieces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Ent {
    pub mode: u32,
    pub name: Vec<u8>,
    pub id: [u8; 20],
}

impl Ent {
    pub fn from_entry(e: &TreeEntry<'_>) -> Ent {
        let mut id = [0u8; 20];
        id.copy_from_slice(e.id);
        Ent {
            mode: e.mode,
            name: e.name.to_vec(),
            id,
        }
    }

    pub fn is_tree(&self) -> bool {
        self.mode & 0o170000 == 0o040000
    }
}

enum Parsed<'a> {
    /// An entry and its length in bytes.
    Entry(TreeEntry<'a>, usize),
    /// The bytes end inside the entry.
    Short,
    Bad,
}

/// Parse the entry at the start of `b` (`mode name\0` and a 20-byte id), as `odb::tree_entries`
/// does.
fn parse_one(b: &[u8]) -> Parsed<'_> {
    let Some(sp) = b.iter().position(|&c| c == b' ') else {
        // Octal digits so far: the mode may go on in the next piece.
        return if b.iter().all(|d| (b'0'..=b'7').contains(d)) && b.len() < 16 {
            Parsed::Short
        } else {
            Parsed::Bad
        };
    };
    let mut mode = 0u32;
    for &d in &b[..sp] {
        if !(b'0'..=b'7').contains(&d) || mode > 0o7777777 {
            return Parsed::Bad;
        }
        mode = mode * 8 + (d - b'0') as u32;
    }
    let rest = &b[sp + 1..];
    let Some(nul) = memchr::memchr(0, rest) else {
        return Parsed::Short;
    };
    let Some(id) = rest.get(nul + 1..nul + 21) else {
        return Parsed::Short;
    };
    Parsed::Entry(
        TreeEntry {
            mode,
            name: &rest[..nul],
            id,
        },
        sp + 1 + nul + 21,
    )
}

/// Git's order of tree entries: by name, a folder compared as if its name ended in `/`.
pub(super) fn entry_order(a: &[u8], a_tree: bool, b: &[u8], b_tree: bool) -> Ordering {
    let n = a.len().min(b.len());
    match a[..n].cmp(&b[..n]) {
        Ordering::Equal => {}
        other => return other,
    }
    let end = |name: &[u8], tree: bool| match name.get(n) {
        Some(&c) => c,
        None if tree => b'/',
        None => 0,
    };
    end(a, a_tree).cmp(&end(b, b_tree))
}

/// A position in a rope, always at an entry boundary.
struct Cursor<'r> {
    rope: &'r Rope,
    at: usize,
    /// The piece holding `at` (`pieces.len()` at the end).
    piece: usize,
}

impl<'r> Cursor<'r> {
    fn new(rope: &'r Rope) -> Cursor<'r> {
        Cursor {
            rope,
            at: 0,
            piece: 0,
        }
    }

    fn done(&self) -> bool {
        self.at >= self.rope.len
    }

    /// The buffer under the cursor, the offset in it and the bytes left in the piece.
    fn coord(&self) -> Option<(&'r Rc<Buf>, usize, usize)> {
        let p = self.rope.pieces.get(self.piece)?;
        let from = self.at - self.rope.starts[self.piece];
        Some((&p.buf, p.start + from, p.len - from))
    }

    fn advance(&mut self, n: usize) {
        self.at += n;
        while let Some(p) = self.rope.pieces.get(self.piece) {
            if self.rope.starts[self.piece] + p.len > self.at {
                break;
            }
            self.piece += 1;
        }
    }

    /// The entry at the cursor and its length; `None` at the end.
    fn peek(&self, scratch: &mut Vec<u8>) -> Result<Option<(Ent, usize)>, Malformed> {
        let Some(p) = self.rope.pieces.get(self.piece) else {
            return Ok(None);
        };
        let from = self.at - self.rope.starts[self.piece];
        match parse_one(&p.bytes()[from..]) {
            Parsed::Entry(e, n) => return Ok(Some((Ent::from_entry(&e), n))),
            Parsed::Bad => return Err(Malformed),
            Parsed::Short => {}
        }
        // The entry goes on in the next pieces: gather its bytes.
        scratch.clear();
        scratch.extend_from_slice(&p.bytes()[from..]);
        for q in &self.rope.pieces[self.piece + 1..] {
            let mut bytes = q.bytes();
            while !bytes.is_empty() {
                let n = bytes.len().min(256);
                scratch.extend_from_slice(&bytes[..n]);
                bytes = &bytes[n..];
                match parse_one(scratch) {
                    Parsed::Entry(e, n) => return Ok(Some((Ent::from_entry(&e), n))),
                    Parsed::Bad => return Err(Malformed),
                    Parsed::Short => {}
                }
            }
        }
        Err(Malformed)
    }
}

/// A tree that does not parse.
#[derive(Debug)]
pub(super) struct Malformed;

/// Move both cursors over entries they share, when that is cheap to know: where both sit at the
/// same place of the same buffer, the bytes up to the end of the shorter piece are the same
/// without looking; elsewhere the bytes the two pieces have in common from the cursors on are
/// compared. The cursors move to the last entry boundary within those common bytes, found in the
/// boundaries of a whole buffer under one of them (a cursor at one of its buffer's boundaries
/// parses the following bytes as that buffer does). Whether they moved.
fn jump(a: &mut Cursor<'_>, b: &mut Cursor<'_>) -> bool {
    let (Some((ba, oa, la)), Some((bb, ob, lb))) = (a.coord(), b.coord()) else {
        return false;
    };
    let same = Rc::ptr_eq(ba, bb) && oa == ob;
    // A whole buffer under one of the cursors, at one of its boundaries.
    fn at_bound(buf: &Buf, off: usize) -> Option<&[u32]> {
        let bounds = buf.bounds()?;
        let here = u32::try_from(off).ok()?;
        bounds.binary_search(&here).ok().map(|_| bounds)
    }
    let (bounds, off) = match at_bound(bb, ob) {
        Some(x) => (x, ob),
        None => match at_bound(ba, oa) {
            Some(x) => (x, oa),
            None => return false,
        },
    };
    let common = if same {
        la.min(lb)
    } else {
        let n = la.min(lb);
        common_prefix(&ba.bytes[oa..oa + n], &bb.bytes[ob..ob + n])
    };
    let end = off + common;
    let i = bounds.partition_point(|&x| (x as usize) <= end);
    let last = bounds[i - 1] as usize;
    if last <= off {
        return false;
    }
    a.advance(last - off);
    b.advance(last - off);
    true
}

/// How many bytes two slices share at their start.
pub(super) fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut p = 0;
    while p + 256 <= n && a[p..p + 256] == b[p..p + 256] {
        p += 256;
    }
    while p < n && a[p] == b[p] {
        p += 1;
    }
    p
}

/// The entries that differ between two trees, in git's order: `(old, new)` pairs, `(Some, None)`
/// for an entry only in `old`, `(None, Some)` only in `new`, both for a name whose mode or id
/// changed.
pub(super) fn diff(old: &Rope, new: &Rope) -> Result<Vec<Pair>, Malformed> {
    let (mut a, mut b) = (Cursor::new(old), Cursor::new(new));
    let mut scratch = Vec::new();
    let mut out = Vec::new();
    let mut pa: Option<(Ent, usize)> = None;
    let mut pb: Option<(Ent, usize)> = None;
    loop {
        if pa.is_none() && pb.is_none() {
            while jump(&mut a, &mut b) {}
        }
        if pa.is_none() && !a.done() {
            pa = a.peek(&mut scratch)?;
        }
        if pb.is_none() && !b.done() {
            pb = b.peek(&mut scratch)?;
        }
        let order = match (&pa, &pb) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((x, _)), Some((y, _))) => entry_order(&x.name, x.is_tree(), &y.name, y.is_tree()),
        };
        match order {
            Ordering::Less => {
                if let Some((x, n)) = pa.take() {
                    a.advance(n);
                    out.push((Some(x), None));
                }
            }
            Ordering::Greater => {
                if let Some((y, n)) = pb.take() {
                    b.advance(n);
                    out.push((None, Some(y)));
                }
            }
            Ordering::Equal => {
                if let (Some((x, n)), Some((y, m))) = (pa.take(), pb.take()) {
                    a.advance(n);
                    b.advance(m);
                    if x.id != y.id || x.mode != y.mode {
                        out.push((Some(x), Some(y)));
                    }
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::odb::tree_entries;

    fn raw_tree(entries: &[(u32, String, [u8; 20])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (mode, name, id) in entries {
            out.extend_from_slice(format!("{mode:o} {name}\0").as_bytes());
            out.extend_from_slice(id);
        }
        out
    }

    fn id(n: u32) -> [u8; 20] {
        let mut id = [0u8; 20];
        id[..4].copy_from_slice(&n.to_be_bytes());
        id[19] = 0x20; // a space inside ids, as real ids have
        id
    }

    /// The diff the plain way: both trees parsed whole and merged.
    fn plain_diff(a: &[u8], b: &[u8]) -> Vec<(Option<Ent>, Option<Ent>)> {
        let ea: Vec<Ent> = tree_entries(a)
            .map(|e| Ent::from_entry(&e.unwrap()))
            .collect();
        let eb: Vec<Ent> = tree_entries(b)
            .map(|e| Ent::from_entry(&e.unwrap()))
            .collect();
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        while i < ea.len() || j < eb.len() {
            let order = match (ea.get(i), eb.get(j)) {
                (Some(x), Some(y)) => entry_order(&x.name, x.is_tree(), &y.name, y.is_tree()),
                (Some(_), None) => Ordering::Less,
                _ => Ordering::Greater,
            };
            match order {
                Ordering::Less => {
                    out.push((Some(ea[i].clone()), None));
                    i += 1;
                }
                Ordering::Greater => {
                    out.push((None, Some(eb[j].clone())));
                    j += 1;
                }
                Ordering::Equal => {
                    if ea[i] != eb[j] {
                        out.push((Some(ea[i].clone()), Some(eb[j].clone())));
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
        out
    }

    /// A delta that turns `base` into `target`: copies of the common start and end (split into
    /// several copies at odd places, not on entry boundaries) and an insert of the middle.
    fn make_delta(base: &[u8], target: &[u8], split: usize) -> Vec<u8> {
        let mut pre = 0;
        while pre < base.len() && pre < target.len() && base[pre] == target[pre] {
            pre += 1;
        }
        let mut suf = 0;
        while suf < base.len() - pre
            && suf < target.len() - pre
            && base[base.len() - 1 - suf] == target[target.len() - 1 - suf]
        {
            suf += 1;
        }
        let mut d = Vec::new();
        let put_varint = |d: &mut Vec<u8>, mut v: usize| loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                d.push(b);
                break;
            }
            d.push(b | 0x80);
        };
        put_varint(&mut d, base.len());
        put_varint(&mut d, target.len());
        let copy = |d: &mut Vec<u8>, off: usize, len: usize| {
            d.extend(crate::history::odb::tests::copy(off as u32, len as u32));
        };
        let copies = |d: &mut Vec<u8>, off: usize, len: usize| {
            let mut at = 0;
            while at < len {
                let n = (len - at).min(split.max(1));
                copy(d, off + at, n);
                at += n;
            }
        };
        copies(&mut d, 0, pre);
        let mid = &target[pre..target.len() - suf];
        for chunk in mid.chunks(127) {
            d.push(chunk.len() as u8);
            d.extend_from_slice(chunk);
        }
        copies(&mut d, base.len() - suf, suf);
        d
    }

    fn next(seed: &mut u64, n: u64) -> u64 {
        *seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (*seed >> 33) % n
    }

    #[test]
    fn deltas_apply_to_ropes_as_to_flat_bytes() {
        let a = raw_tree(&[
            (0o100644, "a.md".into(), id(1)),
            (0o100644, "b.md".into(), id(2)),
        ]);
        let b = raw_tree(&[
            (0o100644, "a.md".into(), id(1)),
            (0o100644, "ab.md".into(), id(9)),
            (0o100644, "b.md".into(), id(2)),
        ]);
        let base = Rope::whole(Rc::new(a.clone()));
        let rope = Rope::apply(&base, make_delta(&a, &b, 7), 1 << 20).unwrap();
        assert_eq!(&rope.flat()[..], &b[..]);
        assert_eq!(rope.bufs().len(), 2, "pieces of the base and of the delta");
        // A delta for another base size, or a result of another size, is refused.
        assert!(Rope::apply(
            &Rope::whole(Rc::new(b.clone())),
            make_delta(&a, &b, 7),
            1 << 20
        )
        .is_err());
        let mut long = make_delta(&a, &b, 7);
        long.extend_from_slice(&[1, b'x']);
        assert!(Rope::apply(&base, long, 1 << 20).is_err());
    }

    /// Chains of random edits of a folder — additions, deletions, changed ids, mode changes and
    /// sub-folders, at the start, in the middle and at the end — each version a delta on the
    /// previous one (and sometimes on an older one): the rope diff equals the plain diff of
    /// the flat trees, between consecutive versions and between versions further apart.
    #[test]
    fn rope_diffs_equal_plain_diffs() {
        let seed = &mut 11u64;
        for round in 0..60 {
            let mut entries: Vec<(u32, String, [u8; 20])> = (0..(20 + round * 7))
                .map(|i| {
                    let mode = if i % 13 == 5 { 0o40000 } else { 0o100644 };
                    (mode, format!("r-{:05}.yaml", i * 3), id(i as u32))
                })
                .collect();
            let mut versions: Vec<(Vec<u8>, Rope)> = Vec::new();
            let first = raw_tree(&entries);
            versions.push((first.clone(), Rope::whole(Rc::new(first))));
            let mut counter = 10_000u32;
            for _ in 0..30 {
                for _ in 0..1 + next(seed, 3) {
                    counter += 1;
                    let len = entries.len() as u64;
                    let at = match next(seed, 3) {
                        0 => 0,
                        1 => len.saturating_sub(1),
                        _ => next(seed, len.max(1)),
                    } as usize;
                    match next(seed, 5) {
                        0 if !entries.is_empty() => {
                            entries.remove(at.min(entries.len() - 1));
                        }
                        1 if !entries.is_empty() => {
                            let i = at.min(entries.len() - 1);
                            entries[i].2 = id(counter);
                        }
                        2 if !entries.is_empty() => {
                            let i = at.min(entries.len() - 1);
                            entries[i].0 = if entries[i].0 == 0o100644 {
                                0o100755
                            } else {
                                0o100644
                            };
                        }
                        _ => {
                            let name = format!("r-{:05}.yaml", next(seed, 3 * len + 10) * 3 + 1);
                            if !entries.iter().any(|e| e.1 == name) {
                                entries.push((0o100644, name, id(counter)));
                                entries.sort_by(|x, y| {
                                    entry_order(
                                        x.1.as_bytes(),
                                        x.0 == 0o40000,
                                        y.1.as_bytes(),
                                        y.0 == 0o40000,
                                    )
                                });
                            }
                        }
                    }
                }
                let flat = raw_tree(&entries);
                // Mostly a delta on the previous version, sometimes on an older one, sometimes
                // whole (a chain that starts again).
                let pick = next(seed, 10);
                let rope = if pick == 0 {
                    Rope::whole(Rc::new(flat.clone()))
                } else {
                    let back = if pick == 1 {
                        next(seed, versions.len() as u64) as usize
                    } else {
                        0
                    };
                    let (bflat, brope) = &versions[versions.len() - 1 - back];
                    let split = 1 + next(seed, 90) as usize;
                    Rope::apply(brope, make_delta(bflat, &flat, split), 1 << 30).unwrap()
                };
                assert_eq!(&rope.flat()[..], &flat[..]);
                versions.push((flat, rope));
            }
            for i in 1..versions.len() {
                for j in [i - 1, i.saturating_sub(5), 0] {
                    let (fa, ra) = &versions[j];
                    let (fb, rb) = &versions[i];
                    assert_eq!(
                        diff(ra, rb).unwrap(),
                        plain_diff(fa, fb),
                        "round {round}, {j} -> {i}"
                    );
                    assert_eq!(
                        diff(rb, ra).unwrap(),
                        plain_diff(fb, fa),
                        "round {round}, {i} -> {j}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_malformed_tree_is_an_error_where_it_is_read() {
        let mut a = raw_tree(&[
            (0o100644, "a.md".into(), id(1)),
            (0o100644, "b.md".into(), id(2)),
        ]);
        let good = Rope::whole(Rc::new(a.clone()));
        a.truncate(a.len() - 3);
        let bad = Rope::whole(Rc::new(a));
        assert!(diff(&good, &bad).is_err());
        let mut c = b"100644 a.md\0".to_vec();
        c.extend(id(1));
        c.extend(b"10x644 b.md\0");
        c.extend(id(2));
        assert!(diff(&good, &Rope::whole(Rc::new(c))).is_err());
    }
}
