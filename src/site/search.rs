//! The offline search index: a script file (`searchindex.js`) that sets `window.SEARCH_INDEX`,
//! loaded by `<script src>` because `fetch()` does not work from `file://`.
//!
//! A small inverted index of our own rather than elasticlunr: terms are lower-cased runs of
//! letters and digits, each with the sorted list of entries that hold it (delta-encoded). The
//! page's script looks terms up by prefix (binary search over the sorted term list) and ranks
//! entries by how many query words they match, with a bonus for matches in the title. Output is
//! sorted throughout, so the index is byte-identical for the same site. Terms are gathered per
//! entry in parallel.

use rayon::prelude::*;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashMap;

pub struct Entry {
    pub title: String,
    /// Relative to the site root, with an anchor where there is one.
    pub url: String,
    /// clause | document | record
    pub kind: &'static str,
    pub text: String,
}

/// Characters of an entry's text the index keeps (an entry is a section of a page): the page's
/// script shows the part around the first match, with the match marked.
const EXCERPT_CHARS: usize = 1000;
/// Bytes of body text one document page may add to the index (its first 256 KiB): the index is
/// loaded whole by every page, and a multi-megabyte body would make each search slow. Sections
/// per page are bounded by `limits.max_headings`.
pub const MAX_TEXT_PER_PAGE: usize = 256 * 1024;
const MAX_TERM_CHARS: usize = 40;

#[derive(Serialize)]
struct Index<'a> {
    /// [title, url, kind, excerpt] per entry.
    docs: Vec<(&'a str, &'a str, &'a str, String)>,
    /// Sorted terms.
    terms: Vec<&'a str>,
    /// Per term, entry numbers as deltas from the previous one.
    postings: Vec<Vec<usize>>,
}

/// Lower-cased words of a text (borrowed when a word is lower-case ASCII already, as most are).
pub fn tokens(text: &str) -> impl Iterator<Item = Cow<'_, str>> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            if w.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
                Cow::Borrowed(w)
            } else {
                Cow::Owned(w.to_lowercase())
            }
        })
        .filter(|w| w.chars().count() <= MAX_TERM_CHARS)
}

pub fn index_js(entries: &[Entry]) -> String {
    // Postings built over runs of entries in parallel and joined in entry order, so each list
    // comes out sorted.
    let map: HashMap<Cow<'_, str>, Vec<usize>> = entries
        .par_iter()
        .enumerate()
        .fold(
            HashMap::new,
            |mut map: HashMap<Cow<'_, str>, Vec<usize>>, (i, e)| {
                for t in tokens(&e.title).chain(tokens(&e.text)) {
                    let list = map.entry(t).or_default();
                    if list.last() != Some(&i) {
                        list.push(i);
                    }
                }
                map
            },
        )
        .reduce(HashMap::new, |mut left, right| {
            // `right` holds later entries than `left`: appending keeps every list sorted.
            for (t, list) in right {
                left.entry(t).or_default().extend(list);
            }
            left
        });
    let mut terms: Vec<(Cow<'_, str>, Vec<usize>)> = map.into_iter().collect();
    terms.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let index = Index {
        docs: entries
            .iter()
            .map(|e| {
                let mut excerpt: String = e.text.chars().take(EXCERPT_CHARS).collect();
                if e.text.chars().nth(EXCERPT_CHARS).is_some() {
                    excerpt.push('…');
                }
                (e.title.as_str(), e.url.as_str(), e.kind, excerpt)
            })
            .collect(),
        terms: terms.iter().map(|(t, _)| t.as_ref()).collect(),
        postings: terms
            .iter()
            .map(|(_, list)| {
                let mut prev = 0;
                list.iter()
                    .map(|&i| {
                        let d = i - prev;
                        prev = i;
                        d
                    })
                    .collect()
            })
            .collect(),
    };
    let json = serde_json::to_string(&index).unwrap_or_else(|_| "{}".into());
    format!("window.SEARCH_INDEX = {json};\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_is_sorted_and_delta_encoded() {
        let e = |t: &str, x: &str| Entry {
            title: t.into(),
            url: "u.html".into(),
            kind: "document",
            text: x.into(),
        };
        let js = index_js(&[e("Change", "normal change"), e("Risk", "change risk")]);
        assert!(js.starts_with("window.SEARCH_INDEX = {"));
        assert!(
            js.contains("\"terms\":[\"change\",\"normal\",\"risk\"]"),
            "{js}"
        );
        assert!(js.contains("\"postings\":[[0,1],[0],[1]]"), "{js}");
    }
}
