//! What the history keeps of one version of a record file: per record (in file order) its id,
//! kind, date and the hash of its content, in flat arrays indexed by the record's position
//! instead of four strings a record. A cold walk of a million-row export summarises every row of
//! every version, and the raw walk (these summaries) is kept for the whole run and stored in the
//! history cache: about 40 bytes a row here, where four strings took some 250.

use crate::config::Config;
use jiff::civil::Date;
use serde::{de::Error as _, Deserialize, Deserializer, Serialize, Serializer};

/// The records of one version of a record file, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct RecRows {
    /// Every id, one after the other; record `i`'s is `ids[id_ends[i - 1]..id_ends[i]]`.
    ids: String,
    id_ends: Vec<u32>,
    /// The distinct kinds, in the order first met, and each record's index into them.
    kinds: Vec<String>,
    kind: Vec<u32>,
    /// Each record's date packed by [`pack_date`] (0: none).
    dates: Vec<u32>,
    /// Each record's content hash (see [`RecRows::content`]).
    content: Vec<[u8; 16]>,
}

/// A date as one number: year (offset to be positive), month and day; never 0.
fn pack_date(d: Option<Date>) -> u32 {
    d.map_or(0, |d| {
        let year = u32::from((i32::from(d.year()) + 0x8000) as u16);
        (year << 16) | (u32::from(d.month() as u8) << 8) | u32::from(d.day() as u8)
    })
}

fn unpack_date(n: u32) -> Option<Date> {
    if n == 0 {
        return None;
    }
    let year = ((n >> 16) as i32 - 0x8000) as i16;
    Date::new(year, ((n >> 8) & 0xff) as i8, (n & 0xff) as i8).ok()
}

impl RecRows {
    pub fn with_capacity(n: usize) -> RecRows {
        RecRows {
            ids: String::with_capacity(n * 12),
            id_ends: Vec::with_capacity(n),
            kinds: Vec::new(),
            kind: Vec::with_capacity(n),
            dates: Vec::with_capacity(n),
            content: Vec::with_capacity(n),
        }
    }

    /// Add a record; `false` (and nothing added) when the ids would pass 4 GiB, which no file
    /// within the size limits reaches.
    pub fn push(&mut self, id: &str, kind: &str, date: Option<Date>, content: [u8; 16]) -> bool {
        let Ok(end) = u32::try_from(self.ids.len() + id.len()) else {
            return false;
        };
        // Kinds repeat: the last one matched is the likely one.
        let k = match self.kind.last() {
            Some(&k) if self.kinds.get(k as usize).is_some_and(|s| s == kind) => k,
            _ => match self.kinds.iter().position(|s| s == kind) {
                Some(k) => k as u32,
                None => {
                    self.kinds.push(kind.to_string());
                    (self.kinds.len() - 1) as u32
                }
            },
        };
        self.ids.push_str(id);
        self.id_ends.push(end);
        self.kind.push(k);
        self.dates.push(pack_date(date));
        self.content.push(content);
        true
    }

    pub fn len(&self) -> usize {
        self.id_ends.len()
    }

    pub fn id(&self, i: usize) -> &str {
        let start = match i {
            0 => 0,
            _ => self.id_ends.get(i - 1).map_or(0, |&e| e as usize),
        };
        let end = self.id_ends.get(i).map_or(start, |&e| e as usize);
        self.ids.get(start..end).unwrap_or("")
    }

    pub fn kind(&self, i: usize) -> &str {
        self.kind
            .get(i)
            .and_then(|&k| self.kinds.get(k as usize))
            .map_or("", String::as_str)
    }

    /// The record's date as its file gave it.
    pub fn date(&self, i: usize) -> Option<Date> {
        self.dates.get(i).and_then(|&d| unpack_date(d))
    }

    /// Whether two records' dates are the same.
    pub fn same_date(&self, i: usize, other: &RecRows, j: usize) -> bool {
        self.dates.get(i) == other.dates.get(j)
    }

    /// The first 16 bytes of the SHA-256 of every field but `id` (positions excluded): a row
    /// whose id alone changed keeps it, so that it is recognised among the other rows.
    pub fn content(&self, i: usize) -> &[u8; 16] {
        const NONE: [u8; 16] = [0; 16];
        self.content.get(i).unwrap_or(&NONE)
    }
}

/// The date a record history keeps: the record's date as the history cache used to store it,
/// a `YYYY-MM-DD` text read back, which only years 0 to 9999 survive.
pub(super) fn history_date(d: Option<Date>) -> Option<Date> {
    d.filter(|d| (0..=9999).contains(&d.year()))
}

/// Summarise a record file's text with the `source` parsers.
pub(super) fn summarise(config: &Config, path: &str, text: Option<&str>) -> RecRows {
    let mut diags = Vec::new();
    let records = text
        .map(|t| crate::source::parse_records(config, path, t, &mut diags))
        .unwrap_or_default();
    let mut rows = RecRows::with_capacity(records.len());
    let mut canon = String::new();
    for r in records {
        canon.clear();
        for (k, v) in r.all_fields().filter(|(k, _)| *k != "id") {
            canon.push_str(k);
            canon.push('=');
            v.write_canonical(&mut canon);
            canon.push('\n');
        }
        if !rows.push(
            &r.id,
            &r.kind,
            r.date,
            super::short_digest(canon.as_bytes()),
        ) {
            return RecRows::default();
        }
    }
    rows
}

/// The stored form: the same arrays, the hashes as one byte string (a MessagePack array of a
/// million small arrays is slow to write and to read).
#[derive(Deserialize)]
struct Stored {
    ids: String,
    id_ends: Vec<u32>,
    kinds: Vec<String>,
    kind: Vec<u32>,
    dates: Vec<u32>,
    #[serde(with = "bytes")]
    content: Vec<u8>,
}

/// [`Stored`], borrowed, for writing.
#[derive(Serialize)]
struct StoredRef<'a> {
    ids: &'a str,
    id_ends: &'a [u32],
    kinds: &'a [String],
    kind: &'a [u32],
    dates: &'a [u32],
    #[serde(with = "bytes")]
    content: &'a [u8],
}

impl Serialize for RecRows {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        StoredRef {
            ids: &self.ids,
            id_ends: &self.id_ends,
            kinds: &self.kinds,
            kind: &self.kind,
            dates: &self.dates,
            content: self.content.as_flattened(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for RecRows {
    /// Checked: a cache that does not hold what [`RecRows::push`] makes is rejected.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RecRows, D::Error> {
        let s = Stored::deserialize(d)?;
        let n = s.id_ends.len();
        let bad = |what: &str| D::Error::custom(format!("record summaries: {what}"));
        if s.kind.len() != n || s.dates.len() != n || s.content.len() != 16 * n {
            return Err(bad("arrays of different lengths"));
        }
        let mut start = 0usize;
        for &e in &s.id_ends {
            let e = e as usize;
            if e < start || !s.ids.is_char_boundary(e) {
                return Err(bad("ids out of place"));
            }
            start = e;
        }
        if start != s.ids.len() {
            return Err(bad("ids out of place"));
        }
        if s.kind.iter().any(|&k| k as usize >= s.kinds.len()) {
            return Err(bad("an unknown kind"));
        }
        if s.dates.iter().any(|&d| d != 0 && unpack_date(d).is_none()) {
            return Err(bad("a date that is not one"));
        }
        let content = s
            .content
            .chunks_exact(16)
            .map(|c| {
                let mut h = [0u8; 16];
                h.copy_from_slice(c);
                h
            })
            .collect();
        Ok(RecRows {
            ids: s.ids,
            id_ends: s.id_ends,
            kinds: s.kinds,
            kind: s.kind,
            dates: s.dates,
            content,
        })
    }
}

/// A `Vec<u8>` as a MessagePack byte string.
mod bytes {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct Bytes;
        impl<'de> serde::de::Visitor<'de> for Bytes {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
        }
        d.deserialize_byte_buf(Bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dates [`sample`] gives its rows, in turn.
    fn sample_dates() -> [Option<Date>; 5] {
        [
            Date::new(2026, 3, 14).ok(),
            None,
            Date::new(-3, 1, 31).ok(),
            Date::new(9999, 12, 31).ok(),
            Date::new(0, 2, 29).ok(),
        ]
    }

    fn sample() -> RecRows {
        let mut rows = RecRows::default();
        let dates = sample_dates();
        for i in 0..50u8 {
            let id = match i % 4 {
                0 => format!("INC{i:07}"),
                1 => String::new(),
                2 => format!("é-{i}"),
                _ => "x".repeat(usize::from(i)),
            };
            let kind = ["incident", "change", "incident", "problem"][usize::from(i % 4)];
            assert!(rows.push(&id, kind, dates[usize::from(i) % 5], [i; 16]));
        }
        rows
    }

    /// Every record reads back as pushed, and through the stored form too.
    #[test]
    fn rows_read_back_as_pushed_and_from_the_cache() {
        let rows = sample();
        let dates = sample_dates();
        assert_eq!(rows.len(), 50);
        assert_eq!(rows.kinds.len(), 3);
        for i in 0..50usize {
            let id = match i % 4 {
                0 => format!("INC{i:07}"),
                1 => String::new(),
                2 => format!("é-{i}"),
                _ => "x".repeat(i),
            };
            assert_eq!(rows.id(i), id);
            assert_eq!(
                rows.kind(i),
                ["incident", "change", "incident", "problem"][i % 4]
            );
            assert_eq!(rows.date(i), dates[i % 5]);
            assert_eq!(rows.content(i), &[i as u8; 16]);
        }
        let bytes = rmp_serde::to_vec(&rows).unwrap();
        let back: RecRows = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(back, rows);
        let empty: RecRows =
            rmp_serde::from_slice(&rmp_serde::to_vec(&RecRows::default()).unwrap()).unwrap();
        assert_eq!(empty.len(), 0);
    }

    /// A stored form that does not hold what `push` makes is refused, not read into a panic.
    #[test]
    fn broken_stored_rows_are_refused() {
        let rows = sample();
        let good = Stored {
            ids: rows.ids.clone(),
            id_ends: rows.id_ends.clone(),
            kinds: rows.kinds.clone(),
            kind: rows.kind.clone(),
            dates: rows.dates.clone(),
            content: rows.content.concat(),
        };
        let read = |s: &Stored| {
            let r = StoredRef {
                ids: &s.ids,
                id_ends: &s.id_ends,
                kinds: &s.kinds,
                kind: &s.kind,
                dates: &s.dates,
                content: &s.content,
            };
            rmp_serde::from_slice::<RecRows>(&rmp_serde::to_vec(&r).unwrap())
        };
        assert!(read(&good).is_ok());
        let mut s = clone(&good);
        s.id_ends[3] = s.id_ends[2] - 1;
        assert!(read(&s).is_err());
        let mut s = clone(&good);
        s.ids.push('x');
        assert!(read(&s).is_err());
        let mut s = clone(&good);
        // Inside the two bytes of an `é`.
        let i = s.ids.find('é').unwrap();
        s.id_ends[2] = i as u32 + 1;
        assert!(read(&s).is_err());
        let mut s = clone(&good);
        s.kind[7] = 3;
        assert!(read(&s).is_err());
        let mut s = clone(&good);
        s.dates[0] = ((0x8000 + 2026) << 16) | (2 << 8) | 30;
        assert!(read(&s).is_err());
        let mut s = clone(&good);
        s.content.pop();
        assert!(read(&s).is_err());
    }

    fn clone(s: &Stored) -> Stored {
        Stored {
            ids: s.ids.clone(),
            id_ends: s.id_ends.clone(),
            kinds: s.kinds.clone(),
            kind: s.kind.clone(),
            dates: s.dates.clone(),
            content: s.content.clone(),
        }
    }

    /// The date kept is the one the cache's `YYYY-MM-DD` text gave back: the same for years 0 to
    /// 9999, none outside them.
    #[test]
    fn history_dates_are_the_dates_a_text_gave_back() {
        for y in [-9999i16, -1, 0, 1, 999, 1000, 2026, 9999] {
            for (m, d) in [(1, 1), (2, 28), (12, 31)] {
                let date = Date::new(y, m, d).unwrap();
                let through_text = crate::dates::parse_date(&date.to_string()).ok();
                assert_eq!(history_date(Some(date)), through_text, "{date}");
                assert_eq!(unpack_date(pack_date(Some(date))), Some(date));
            }
        }
        assert_eq!(history_date(None), None);
        assert_eq!(pack_date(None), 0);
    }
}
