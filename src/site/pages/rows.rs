//! `kinds/<stem>.rows.js`: every row of a record kind whose table has several pages, for the
//! filter that searches all pages (`assets/site.js`). A `<script>` sets
//! `window.AUDITBOOK_ROWS` (no `fetch()`, which `file://` refuses), and the data is stored by
//! column, each column in the smallest of three encodings, so that a million rows stay small:
//!
//! - plain: `{"s": "a|b|c", "p": "|"}`, the values joined by a separator that none of them holds
//!   (or `{"a": ["a", "b"]}` when every candidate separator occurs);
//! - dictionary: `{"d": [values], "w": W, "i": "…"}`, each row the index of its value in `W`
//!   base-64 digits ([`DIGITS`], most significant first), for columns with few distinct values
//!   (status, priority, dates);
//! - words: `{"t": [words], "c": "…,…"}`, each row its text split at single spaces, every word
//!   the index of it in `t` (most frequent first) as a base-32 varint (the search index's
//!   [`search::CONT`] / [`search::FINAL`] digits), rows separated by `,`; for free text with a
//!   small vocabulary (short descriptions of incidents).
//!
//! The object is `{"v": 2, "n": rows, "per": rows per table page, "own": [rows with a page of
//! their own], "cols": [id, date, title, cells…]}`: a row's table page follows from its position
//! (`row / per + 1`), so it is not stored. Decoding gives back every value exactly; the unit
//! tests decode the output with a Rust copy of the page's decoder.

use crate::site::search;
use std::collections::HashMap;

/// Base-64 digits of dictionary indexes: none needs escaping in JSON.
pub const DIGITS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// Separators a plain column may use, in the order they are tried.
const SEPARATORS: [char; 6] = ['|', '~', '^', '`', '\u{a6}', '\u{b6}'];
/// A dictionary column holds at most this many values (two digits a row).
const MAX_DICTIONARY: usize = 64 * 64;

/// The script: `window.AUDITBOOK_ROWS = {…};`, for `n` rows; `column_values(j)` gives the
/// values of column `j` of `width`. Columns are made and encoded one at a time (a million values
/// each: two at a time in parallel cost 85 MB more at 10^6 rows and saved little time).
pub fn script(
    n: usize,
    per_page: usize,
    own: &[usize],
    width: usize,
    column_values: impl Fn(usize) -> Vec<String>,
) -> String {
    let mut out = String::from("window.AUDITBOOK_ROWS = {\"v\":2,\"n\":");
    out.push_str(&n.to_string());
    out.push_str(",\"per\":");
    out.push_str(&per_page.to_string());
    out.push_str(",\"own\":[");
    let own: Vec<String> = own.iter().map(usize::to_string).collect();
    out.push_str(&own.join(","));
    out.push_str("],\"cols\":[\n");
    let cols: Vec<String> = (0..width)
        .map(|j| {
            let c = column_values(j);
            debug_assert_eq!(c.len(), n);
            column(&c)
        })
        .collect();
    out.push_str(&cols.join(",\n"));
    out.push_str("\n]};\n");
    out
}

fn json(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn json_list<'s>(values: impl Iterator<Item = &'s str>) -> String {
    let items: Vec<String> = values.map(json).collect();
    format!("[{}]", items.join(","))
}

/// One column in its smallest encoding (the first of plain, dictionary, words on a tie).
fn column(values: &[String]) -> String {
    let mut best = plain(values);
    for other in [dictionary(values), words(values)].into_iter().flatten() {
        if other.len() < best.len() {
            best = other;
        }
    }
    best
}

fn plain(values: &[String]) -> String {
    for sep in SEPARATORS {
        if values.iter().all(|v| !v.contains(sep)) {
            let mut joined = String::new();
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    joined.push(sep);
                }
                joined.push_str(v);
            }
            return format!(
                "{{\"s\":{},\"p\":{}}}",
                json(&joined),
                json(&sep.to_string())
            );
        }
    }
    format!("{{\"a\":{}}}", json_list(values.iter().map(String::as_str)))
}

fn dictionary(values: &[String]) -> Option<String> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut dict: Vec<&str> = Vec::new();
    let mut codes = Vec::with_capacity(values.len());
    for v in values {
        let next = dict.len();
        let i = *index.entry(v.as_str()).or_insert(next);
        if i == next {
            dict.push(v);
            if dict.len() > MAX_DICTIONARY {
                return None;
            }
        }
        codes.push(i);
    }
    let width = if dict.len() <= 64 { 1 } else { 2 };
    let mut digits = String::with_capacity(values.len() * width);
    for i in codes {
        if width == 2 {
            digits.push(char::from(DIGITS[i / 64]));
        }
        digits.push(char::from(DIGITS[i % 64]));
    }
    Some(format!(
        "{{\"d\":{},\"w\":{width},\"i\":\"{digits}\"}}",
        json_list(dict.into_iter())
    ))
}

fn words(values: &[String]) -> Option<String> {
    // Words by frequency (most frequent first, then in order of first appearance), so that the
    // common ones get one-digit codes.
    // A vocabulary as large as half the rows (ids, free text): plain text is smaller.
    let most = values.len() / 2 + 1;
    let mut seen: HashMap<&str, (usize, usize)> = HashMap::new();
    for v in values {
        for w in v.split(' ') {
            let next = seen.len();
            seen.entry(w).or_insert((0, next)).0 += 1;
        }
        if seen.len() > most {
            return None;
        }
    }
    let mut order: Vec<(&str, (usize, usize))> = seen.into_iter().collect();
    order.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.1 .1.cmp(&b.1 .1)));
    let code: HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, (w, _))| (*w, i))
        .collect();
    let mut text = Vec::new();
    for (n, v) in values.iter().enumerate() {
        if n > 0 {
            text.push(b',');
        }
        for w in v.split(' ') {
            varint(&mut text, code[w]);
        }
    }
    let text = String::from_utf8(text).ok()?;
    Some(format!(
        "{{\"t\":{},\"c\":\"{text}\"}}",
        json_list(order.iter().map(|(w, _)| *w))
    ))
}

/// A base-32 varint, most significant group first: [`search::CONT`] digits, then one
/// [`search::FINAL`] digit.
fn varint(out: &mut Vec<u8>, mut n: usize) {
    let mut groups = [0usize; 13];
    let mut len = 0;
    loop {
        groups[len] = n % 32;
        len += 1;
        n /= 32;
        if n == 0 {
            break;
        }
    }
    for i in (0..len).rev() {
        out.push(if i == 0 {
            search::FINAL[groups[i]]
        } else {
            search::CONT[groups[i]]
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The page's decoder (`assets/site.js`, `decodeColumn`), in Rust.
    fn decode(col: &Value, n: usize) -> Vec<String> {
        if let Some(a) = col.get("a") {
            return a
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
        }
        if let Some(s) = col.get("s") {
            if n == 0 {
                return Vec::new();
            }
            let sep = col["p"].as_str().unwrap();
            return s.as_str().unwrap().split(sep).map(String::from).collect();
        }
        if let Some(d) = col.get("d") {
            let w = col["w"].as_u64().unwrap() as usize;
            let digits = col["i"].as_str().unwrap().as_bytes();
            return (0..n)
                .map(|r| {
                    let i = digits[r * w..(r + 1) * w].iter().fold(0, |acc, c| {
                        acc * 64 + DIGITS.iter().position(|d| d == c).unwrap()
                    });
                    d[i].as_str().unwrap().to_string()
                })
                .collect();
        }
        let t: Vec<&str> = col["t"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let c = col["c"].as_str().unwrap();
        if n == 0 {
            return Vec::new();
        }
        c.split(',')
            .map(|row| {
                let mut words = Vec::new();
                let mut v = 0;
                for b in row.bytes() {
                    if let Some(g) = search::CONT.iter().position(|&d| d == b) {
                        v = v * 32 + g;
                    } else {
                        let g = search::FINAL.iter().position(|&d| d == b).unwrap();
                        words.push(t[v * 32 + g]);
                        v = 0;
                    }
                }
                words.join(" ")
            })
            .collect()
    }

    fn round_trip(values: &[&str]) -> String {
        let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        let col = column(&values);
        let parsed: Value = serde_json::from_str(&col).unwrap();
        assert_eq!(decode(&parsed, values.len()), values, "{col}");
        col
    }

    #[test]
    fn every_encoding_gives_back_every_value() {
        // Plain, with the first separator no value holds.
        let c = round_trip(&["INC-1", "INC-2|x", "INC-3"]);
        assert!(
            c.starts_with("{\"s\":\"INC-1~INC-2|x~INC-3\",\"p\":\"~\"}"),
            "{c}"
        );
        // Every separator taken: a list.
        let c = round_trip(&["|~^`\u{a6}\u{b6}", "b"]);
        assert!(c.starts_with("{\"a\":"), "{c}");
        // Few distinct values: a dictionary, one digit a row.
        let status = ["Closed", "Open", "Closed", "Closed", "Open", "Closed"].repeat(4);
        let c = round_trip(&status);
        assert_eq!(
            c,
            "{\"d\":[\"Closed\",\"Open\"],\"w\":1,\"i\":\"ABAABAABAABAABAABAABAABA\"}"
        );
        // More than 64 values: two digits.
        let many: Vec<String> = (0..400).map(|i| format!("2026-{:03}", i % 100)).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let c = round_trip(&refs);
        assert!(c.contains("\"w\":2"), "{c}");
        // Free text from a small vocabulary: words; empty words and newlines survive.
        let text: Vec<String> = (0..300)
            .map(|i| match i % 4 {
                0 => "mail server down".to_string(),
                1 => "printer  jam\nagain".to_string(),
                2 => String::new(),
                _ => format!("mail server {i} down again since the update"),
            })
            .collect();
        let refs: Vec<&str> = text.iter().map(String::as_str).collect();
        let c = round_trip(&refs);
        assert!(c.starts_with("{\"t\":"), "{c}");
        // No rows at all.
        round_trip(&[]);
    }

    #[test]
    fn varints_match_the_search_index() {
        let mut out = Vec::new();
        for n in [0, 31, 32, 1024] {
            varint(&mut out, n);
        }
        assert_eq!(out, b"a/BaBAa");
    }

    #[test]
    fn the_script_lists_rows_with_own_pages_and_the_page_size() {
        let cols: Vec<Vec<String>> = vec![
            vec!["A-1".into(), "A-2".into()],
            vec!["2026-01-01".into(), "2026-01-01".into()],
        ];
        let s = script(2, 500, &[1], 2, |j| cols[j].clone());
        assert!(
            s.starts_with(
                "window.AUDITBOOK_ROWS = {\"v\":2,\"n\":2,\"per\":500,\"own\":[1],\"cols\":[\n"
            ),
            "{s}"
        );
        assert!(s.ends_with("\n]};\n"), "{s}");
    }
}
