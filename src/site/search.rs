//! The offline search index: a script file (`searchindex.js`) that sets `window.SEARCH_INDEX`,
//! loaded by `<script src>` because `fetch()` does not work from `file://`.
//!
//! A small inverted index of our own rather than elasticlunr: terms are lower-cased runs of
//! letters and digits, each with the sorted list of entries that hold it (delta-encoded). The
//! page's script looks terms up by prefix (binary search over the sorted term list) and ranks
//! entries by how many query words they match, with a bonus for matches in the title. Output is
//! sorted throughout, so the index is byte-identical for the same site.

use serde::Serialize;
use std::collections::BTreeMap;

pub struct Entry {
    pub title: String,
    /// Relative to the site root, with an anchor where there is one.
    pub url: String,
    /// clause | document | record
    pub kind: &'static str,
    pub text: String,
}

const EXCERPT_CHARS: usize = 180;
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

/// Lower-cased words of a text.
pub fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .filter(|w| w.chars().count() <= MAX_TERM_CHARS)
}

pub fn index_js(entries: &[Entry]) -> String {
    let mut lowered: Vec<String> = Vec::with_capacity(entries.len());
    for e in entries {
        lowered.push(format!("{} {}", e.title, e.text));
    }
    let mut map: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, t) in lowered.iter().enumerate() {
        for w in tokens(t) {
            let list = map.entry(w).or_default();
            if list.last() != Some(&i) {
                list.push(i);
            }
        }
    }
    let terms: Vec<(String, Vec<usize>)> = map.into_iter().collect();
    let index = Index {
        docs: entries
            .iter()
            .map(|e| {
                let mut excerpt: String = e.text.chars().take(EXCERPT_CHARS).collect();
                if e.text.chars().count() > EXCERPT_CHARS {
                    excerpt.push('…');
                }
                (e.title.as_str(), e.url.as_str(), e.kind, excerpt)
            })
            .collect(),
        terms: terms.iter().map(|(t, _)| t.as_str()).collect(),
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
