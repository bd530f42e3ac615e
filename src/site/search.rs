//! The offline search index, sharded so that a search loads only what it needs. Every file is
//! a `<script>` (loaded by `<script src>`, or by inserting a script element on demand), because
//! `fetch()` does not work from `file://`.
//!
//! - `searchindex.js` is small: `window.SEARCH_INDEX = {version, entries, per_shard, kinds,
//!   shards, stop}`, where `shards` lists the sorted term-shard keys and `stop` the stop words.
//! - `search/t-<hex of the key's UTF-8 bytes>.js` holds the terms whose first two characters are
//!   the key (a one-character term is its own key): `SEARCH_SHARD(key, [terms], [body postings],
//!   [title postings]);`. A posting list is a string: entry numbers as deltas (the first
//!   absolute), each a base-32 varint, most significant group first, in [`CONT`] characters with
//!   a last one from [`FINAL`].
//! - `search/d<n>.js` holds [`PER_SHARD`] entries: `SEARCH_DOCS(n, [[page title, page url]],
//!   [[page, kind, excerpt, heading, anchor]]);` (the page table once per shard; an entry without
//!   a section stops after its excerpt, a record after its kind). A page `[title]` without a URL
//!   is a record's page, `records/<first word of the title>.html`.
//!
//! Terms are lower-cased runs of letters and digits, with dotted numbers such as the clause id
//! `8.5.1` kept as one term; English function words ([`STOP`]) are not indexed. The page's
//! script (`templates/search.js`) uses the same rules. Output is sorted throughout, so the index
//! is byte-identical for the same site. Terms are gathered per entry in parallel.

use rayon::prelude::*;
use serde_json::{json, Value};
use std::borrow::Cow;
use std::collections::HashMap;

pub struct Entry {
    /// The page's title.
    pub title: String,
    /// The page's URL, relative to the site root.
    pub url: String,
    /// A section of the page: its heading and anchor. The result's title is
    /// `page › heading` and its URL `page#anchor`.
    pub section: Option<(String, String)>,
    /// clause | document | record
    pub kind: &'static str,
    /// Words that find the entry but are not shown (a document's id and title in its first
    /// section).
    pub keywords: String,
    pub text: String,
}

impl Entry {
    pub fn full_title(&self) -> Cow<'_, str> {
        match &self.section {
            Some((h, _)) => Cow::Owned(format!("{} › {h}", self.title)),
            None => Cow::Borrowed(&self.title),
        }
    }
}

/// Characters of a clause's or document section's text shown under its result (records show
/// none: their title says what they are). The search itself runs on every word of the text.
const EXCERPT_CHARS: usize = 64;
/// Entries a doc shard holds: the page loads the shards of the results it shows.
pub const PER_SHARD: usize = 500;
/// Bytes of body text one document page may add to the index (its first 256 KiB).
/// Sections per page are bounded by `limits.max_headings`.
pub const MAX_TEXT_PER_PAGE: usize = 256 * 1024;
const MAX_TERM_CHARS: usize = 40;
/// Varint digits: a group that more groups follow, and the last group of a number.
pub const CONT: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
pub const FINAL: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz6789+/";
/// Function words that are not indexed, sorted (they match nearly every entry). Query words
/// among them are ignored by the page's script.
pub const STOP: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "been", "by", "can", "for", "from", "has", "have",
    "if", "in", "into", "is", "it", "its", "may", "of", "on", "or", "shall", "so", "such", "than",
    "that", "the", "their", "then", "there", "these", "this", "to", "was", "were", "when", "which",
    "will", "with",
];
const KINDS: [&str; 3] = ["clause", "document", "record"];

/// The next word of `s` at or after byte `at`: its byte range. A run of digits joined by single
/// dots (`8.5.1`, `1.2`) is one word; otherwise a word is a run of letters and digits. The
/// page's script matches `/\p{N}+(?:\.\p{N}+)+|[\p{Alphabetic}\p{N}]+/gu`, the same words.
fn next_word(s: &str, at: usize) -> Option<(usize, usize)> {
    let rest = &s[at..];
    let (off, first) = rest.char_indices().find(|(_, c)| c.is_alphanumeric())?;
    let start = at + off;
    if first.is_numeric() {
        let digits_end = |from: usize| {
            s[from..]
                .char_indices()
                .find(|(_, c)| !c.is_numeric())
                .map_or(s.len(), |(i, _)| from + i)
        };
        let mut end = digits_end(start);
        let mut dotted = false;
        while s[end..].starts_with('.') && s[end + 1..].chars().next().is_some_and(char::is_numeric)
        {
            end = digits_end(end + 1);
            dotted = true;
        }
        if dotted {
            return Some((start, end));
        }
    }
    let end = s[start..]
        .char_indices()
        .find(|(_, c)| !c.is_alphanumeric())
        .map_or(s.len(), |(i, _)| start + i);
    Some((start, end))
}

/// Lower-cased words of a text (borrowed when a word is lower-case ASCII already, as most are).
pub fn tokens(text: &str) -> impl Iterator<Item = Cow<'_, str>> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let (s, e) = next_word(text, at)?;
        at = e;
        Some(&text[s..e])
    })
    .map(|w| {
        if w.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
            Cow::Borrowed(w)
        } else {
            Cow::Owned(w.to_lowercase())
        }
    })
    .filter(|w| w.chars().count() <= MAX_TERM_CHARS)
}

/// The longest word of [`STOP`].
const STOP_MAX_LEN: usize = 5;

fn is_stop(w: &str) -> bool {
    w.len() <= STOP_MAX_LEN && STOP.binary_search(&w).is_ok()
}

/// The shard key of a term: its first two characters.
fn shard_key(term: &str) -> &str {
    match term.char_indices().nth(2) {
        Some((i, _)) => &term[..i],
        None => term,
    }
}

pub fn shard_file(key: &str) -> String {
    let hex: String = key.bytes().map(|b| format!("{b:02x}")).collect();
    format!("search/t-{hex}.js")
}

fn encode(list: &[usize]) -> String {
    let mut out = Vec::with_capacity(list.len() * 2);
    let mut prev = 0;
    let mut groups = Vec::new();
    for &i in list {
        let mut d = i - prev;
        prev = i;
        groups.clear();
        loop {
            groups.push(d % 32);
            d /= 32;
            if d == 0 {
                break;
            }
        }
        for (n, &g) in groups.iter().rev().enumerate() {
            out.push(if n + 1 == groups.len() {
                FINAL[g]
            } else {
                CONT[g]
            });
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

#[derive(Default)]
struct Postings {
    body: Vec<usize>,
    title: Vec<usize>,
}

fn push(list: &mut Vec<usize>, i: usize) {
    if list.last() != Some(&i) {
        list.push(i);
    }
}

fn excerpt(text: &str) -> String {
    let text = text.trim();
    let mut out: String = text.chars().take(EXCERPT_CHARS).collect();
    if text.chars().nth(EXCERPT_CHARS).is_some() {
        out = out.trim_end().to_string();
        out.push('…');
    }
    out
}

fn call(name: &str, args: &[Value]) -> String {
    let args: Vec<String> = args
        .iter()
        .map(|a| serde_json::to_string(a).unwrap_or_else(|_| "null".into()))
        .collect();
    format!("{name}({});\n", args.join(","))
}

/// (term, in the title) pairs.
type Terms<'e> = Vec<(Cow<'e, str>, bool)>;

/// The terms of an entry, sorted, each once, with whether it is in the title (a title term is
/// also a body term).
fn entry_terms(e: &Entry) -> Terms<'_> {
    let mut out: Vec<(Cow<'_, str>, bool)> = Vec::new();
    let title = e.full_title();
    for t in tokens(&title) {
        if !is_stop(&t) {
            out.push((Cow::Owned(t.into_owned()), true));
        }
    }
    for t in tokens(&e.keywords).chain(tokens(&e.text)) {
        if !is_stop(&t) {
            out.push((t, false));
        }
    }
    // (term, true) sorts after (term, false): keep the last of each term.
    out.sort_unstable();
    let mut merged: Vec<(Cow<'_, str>, bool)> = Vec::with_capacity(out.len());
    for (t, title) in out {
        match merged.last_mut() {
            Some((last, in_title)) if *last == t => *in_title |= title,
            _ => merged.push((t, title)),
        }
    }
    merged
}

/// What the index of a previous build found, for `serve`: every term seen so far with its
/// number, and the terms of each entry by the key of its text, so that a rebuild tokenises only
/// the entries whose text changed.
#[derive(Default)]
pub struct Memo {
    ids: rustc_hash::FxHashMap<Box<str>, u32>,
    terms: Vec<Box<str>>,
    /// Key of (title, keywords, text) -> term numbers, each `number << 1 | in title`.
    entries: HashMap<super::pages::Key, std::sync::Arc<[u32]>>,
}

impl Memo {
    fn intern(&mut self, term: &str) -> u32 {
        if let Some(&id) = self.ids.get(term) {
            return id;
        }
        let id = self.terms.len() as u32;
        self.terms.push(term.into());
        self.ids.insert(term.into(), id);
        id
    }
}

fn entry_key(e: &Entry) -> super::pages::Key {
    let mut h = super::pages::KeyHasher::default();
    h.part(e.full_title().as_bytes());
    h.part(e.keywords.as_bytes());
    h.part(e.text.as_bytes());
    h.finish()
}

/// Every file of the index: `searchindex.js` and the shards under `search/`, sorted by path.
/// With a memo (`serve`), only entries whose text is not in the memo are tokenised, and the memo
/// is updated to these entries.
pub fn index_files(entries: &[Entry], memo: Option<&mut Memo>) -> Vec<(String, String)> {
    let mut local = Memo::default();
    let keyed = memo.is_some();
    let memo = memo.unwrap_or(&mut local);
    // Tokenised in parallel (the entries the memo does not know), numbered in entry order.
    let keys: Vec<Option<super::pages::Key>> = entries
        .par_iter()
        .map(|e| keyed.then(|| entry_key(e)))
        .collect();
    let mut postings: Vec<Postings> = Vec::new();
    let mut seen: HashMap<super::pages::Key, std::sync::Arc<[u32]>> = HashMap::new();
    // In runs of entries, so that only one run's terms are held as text at a time.
    for (run, (entries, keys)) in entries.chunks(4096).zip(keys.chunks(4096)).enumerate() {
        let known: &Memo = memo;
        let fresh: Vec<Option<Terms<'_>>> = entries
            .par_iter()
            .zip(keys)
            .map(|(e, k)| match k {
                Some(k) if known.entries.contains_key(k) => None,
                _ => Some(entry_terms(e)),
            })
            .collect();
        for (n, (key, terms)) in keys.iter().zip(fresh).enumerate() {
            let i = run * 4096 + n;
            let ids: std::sync::Arc<[u32]> = match terms {
                None => match key.as_ref().and_then(|k| memo.entries.get(k)) {
                    Some(ids) => std::sync::Arc::clone(ids),
                    None => continue,
                },
                Some(terms) => terms
                    .iter()
                    .map(|(t, title)| memo.intern(t) << 1 | u32::from(*title))
                    .collect(),
            };
            if postings.len() < memo.terms.len() {
                postings.resize_with(memo.terms.len(), Postings::default);
            }
            for &t in ids.iter() {
                let p = &mut postings[(t >> 1) as usize];
                push(&mut p.body, i);
                if t & 1 == 1 {
                    push(&mut p.title, i);
                }
            }
            if let Some(k) = key {
                seen.insert(*k, ids);
            }
        }
    }
    if keyed {
        memo.entries = seen;
    }
    let mut order: Vec<usize> = (0..postings.len())
        .filter(|&t| !postings[t].body.is_empty())
        .collect();
    order.sort_unstable_by(|&a, &b| memo.terms[a].cmp(&memo.terms[b]));
    let terms: Vec<(&str, &Postings)> = order
        .iter()
        .map(|&t| (&*memo.terms[t], &postings[t]))
        .collect();
    let mut out = Vec::new();
    let mut keys = Vec::new();
    let mut shard: Vec<(&str, &Postings)> = Vec::new();
    let mut flush = |shard: &mut Vec<(&str, &Postings)>, out: &mut Vec<(String, String)>| {
        let Some((first, _)) = shard.first() else {
            return;
        };
        let key = shard_key(first).to_string();
        let words: Vec<&str> = shard.iter().map(|(t, _)| *t).collect();
        let body: Vec<String> = shard.iter().map(|(_, p)| encode(&p.body)).collect();
        let title: Vec<String> = shard.iter().map(|(_, p)| encode(&p.title)).collect();
        out.push((
            shard_file(&key),
            call(
                "SEARCH_SHARD",
                &[json!(key), json!(words), json!(body), json!(title)],
            ),
        ));
        keys.push(key);
        shard.clear();
    };
    for &(t, p) in &terms {
        if shard
            .first()
            .is_some_and(|(f, _)| shard_key(f) != shard_key(t))
        {
            flush(&mut shard, &mut out);
        }
        shard.push((t, p));
    }
    flush(&mut shard, &mut out);
    for (n, chunk) in entries.chunks(PER_SHARD).enumerate() {
        let mut pages: Vec<Value> = Vec::new();
        let mut last: Option<(&str, &str)> = None;
        let mut rows = Vec::with_capacity(chunk.len());
        for e in chunk {
            if last != Some((&e.title, &e.url)) {
                // A record page's URL follows from the id that starts its title: left out.
                let id = e.title.split(' ').next().unwrap_or_default();
                if e.url == format!("records/{id}.html") {
                    pages.push(json!([e.title]));
                } else {
                    pages.push(json!([e.title, e.url]));
                }
                last = Some((&e.title, &e.url));
            }
            let kind = KINDS.iter().position(|k| *k == e.kind).unwrap_or(1);
            let mut row = vec![json!(pages.len() - 1), json!(kind)];
            if e.kind != "record" || e.section.is_some() {
                row.push(json!(excerpt(&e.text)));
            }
            if let Some((h, a)) = &e.section {
                row.push(json!(h));
                row.push(json!(a));
            }
            rows.push(Value::Array(row));
        }
        out.push((
            format!("search/d{n}.js"),
            call("SEARCH_DOCS", &[json!(n), json!(pages), json!(rows)]),
        ));
    }
    let head = json!({
        "version": 2,
        "entries": entries.len(),
        "per_shard": PER_SHARD,
        "kinds": KINDS,
        "shards": keys,
        "stop": STOP,
    });
    out.push((
        "searchindex.js".into(),
        format!("window.SEARCH_INDEX = {head};\n"),
    ));
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(t: &str, x: &str) -> Entry {
        Entry {
            title: t.into(),
            url: "u.html".into(),
            section: None,
            kind: "document",
            keywords: String::new(),
            text: x.into(),
        }
    }

    #[test]
    fn stop_words_are_sorted() {
        assert!(STOP.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(STOP.iter().map(|w| w.len()).max(), Some(STOP_MAX_LEN));
    }

    /// A memo gives the same files as a fresh index, after entries change, come and go.
    #[test]
    fn a_memo_gives_the_index_a_fresh_build_gives() {
        let mut memo = Memo::default();
        let first = [
            e("Change", "normal change of the a"),
            e("Risk", "change risk"),
            e("Mail", "mail server down"),
        ];
        assert_eq!(
            index_files(&first, Some(&mut memo)),
            index_files(&first, None)
        );
        let second = [
            e("Risk", "change risk"),
            e("Change", "emergency change"),
            e("New", "a new entry about mail and risk"),
        ];
        assert_eq!(
            index_files(&second, Some(&mut memo)),
            index_files(&second, None)
        );
        assert_eq!(memo.entries.len(), 3);
        assert_eq!(
            index_files(&first, Some(&mut memo)),
            index_files(&first, None)
        );
    }

    #[test]
    fn dotted_numbers_are_one_word() {
        let w: Vec<_> = tokens("See 8.5.1, v1.2 and 3. Then 4.x").collect();
        assert_eq!(w, ["see", "8.5.1", "v1", "2", "and", "3", "then", "4", "x"]);
    }

    #[test]
    fn varints_are_delta_encoded_most_significant_group_first() {
        assert_eq!(encode(&[0, 1, 33, 33 + 1024]), "abBaBAa");
        assert_eq!(encode(&[31]), "/");
    }

    #[test]
    fn shards_are_sorted_and_keyed_by_two_characters() {
        let files = index_files(
            &[
                e("Change", "normal change of the a"),
                e("Risk", "change risk"),
            ],
            None,
        );
        let names: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            names,
            [
                "search/d0.js",
                "search/t-6368.js",
                "search/t-6e6f.js",
                "search/t-7269.js",
                "searchindex.js"
            ]
        );
        assert_eq!(
            files[1].1,
            "SEARCH_SHARD(\"ch\",[\"change\"],[\"ab\"],[\"a\"]);\n"
        );
        assert!(
            files[4].1.contains("\"shards\":[\"ch\",\"no\",\"ri\"]"),
            "{}",
            files[4].1
        );
    }
}
