//! The sharded offline search index: a decoder of its files that searches as the page's script
//! does (so other tests can assert what a search finds), its format, and a headless Chromium
//! searching a generated corpus of medium size (1,000 documents, 10,000 records) from `file://`.

use crate::site::{build, chromium, clean, file_url, read, visit};
use crate::support::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub(crate) struct Hit {
    pub title: String,
    pub url: String,
    pub kind: String,
    pub excerpt: String,
}

struct Shard {
    terms: Vec<String>,
    body: Vec<String>,
    title: Vec<String>,
}

pub(crate) struct Index {
    head: Value,
    shards: BTreeMap<String, Shard>,
    docs: BTreeMap<usize, (Vec<Value>, Vec<Value>)>,
}

/// The arguments of `NAME(a,b,…);` as JSON values.
fn args(text: &str, name: &str) -> Vec<Value> {
    let inner = text
        .strip_prefix(&format!("{name}("))
        .and_then(|t| t.strip_suffix(");\n"))
        .unwrap_or_else(|| panic!("not a {name}(…) call: {}", &text[..text.len().min(80)]));
    serde_json::from_str::<Vec<Value>>(&format!("[{inner}]")).expect("JSON arguments")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn decode(s: &str) -> Vec<usize> {
    const CONT: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    const FINAL: &str = "abcdefghijklmnopqrstuvwxyz6789+/";
    let (mut out, mut doc, mut n) = (Vec::new(), 0, 0);
    for c in s.chars() {
        if let Some(d) = CONT.find(c) {
            n = n * 32 + d;
        } else {
            doc += n * 32 + FINAL.find(c).unwrap_or_else(|| panic!("bad digit {c:?}"));
            out.push(doc);
            n = 0;
        }
    }
    out
}

/// Every file of the index, concatenated (for "the index holds this text" checks).
pub(crate) fn index_text(site: &Path) -> String {
    let mut out = read(site, "searchindex.js");
    for f in search_files(site) {
        out.push_str(&read(site, &f));
    }
    out
}

/// Bytes of every file of the index.
pub(crate) fn index_size(site: &Path) -> u64 {
    let len = |f: &str| std::fs::metadata(site.join(f)).unwrap().len();
    len("searchindex.js") + search_files(site).iter().map(|f| len(f)).sum::<u64>()
}

/// `search/*.js`, sorted.
fn search_files(site: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(site.join("search"))
        .unwrap()
        .map(|e| format!("search/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    files.sort();
    files
}

impl Index {
    pub(crate) fn load(site: &Path) -> Index {
        let entry = read(site, "searchindex.js");
        let head: Value = serde_json::from_str(
            entry
                .strip_prefix("window.SEARCH_INDEX = ")
                .and_then(|t| t.strip_suffix(";\n"))
                .expect("window.SEARCH_INDEX = {…};"),
        )
        .unwrap();
        assert_eq!(head["version"], 2);
        let mut shards = BTreeMap::new();
        let mut docs = BTreeMap::new();
        for f in search_files(site) {
            let text = read(site, &f);
            if f.starts_with("search/t-") {
                let a = args(&text, "SEARCH_SHARD");
                let key = a[0].as_str().unwrap().to_string();
                let hex: String = key.bytes().map(|b| format!("{b:02x}")).collect();
                assert_eq!(f, format!("search/t-{hex}.js"));
                shards.insert(
                    key,
                    Shard {
                        terms: strings(&a[1]),
                        body: strings(&a[2]),
                        title: strings(&a[3]),
                    },
                );
            } else {
                let a = args(&text, "SEARCH_DOCS");
                let n = a[0].as_u64().unwrap() as usize;
                assert_eq!(f, format!("search/d{n}.js"));
                docs.insert(
                    n,
                    (
                        a[1].as_array().unwrap().clone(),
                        a[2].as_array().unwrap().clone(),
                    ),
                );
            }
        }
        let keys: Vec<String> = shards.keys().cloned().collect();
        assert_eq!(head["shards"], serde_json::json!(keys), "shards listed");
        Index { head, shards, docs }
    }

    pub(crate) fn entries(&self) -> usize {
        self.head["entries"].as_u64().unwrap() as usize
    }

    pub(crate) fn entry(&self, d: usize) -> Hit {
        let per = self.head["per_shard"].as_u64().unwrap() as usize;
        let (pages, rows) = &self.docs[&(d / per)];
        let row = rows[d % per].as_array().unwrap();
        let page = pages[row[0].as_u64().unwrap() as usize].as_array().unwrap();
        let pt = page[0].as_str().unwrap();
        let record_url = format!("records/{}.html", pt.split(' ').next().unwrap());
        let pu = page
            .get(1)
            .map_or(record_url.as_str(), |u| u.as_str().unwrap());
        let s = |i: usize| row.get(i).and_then(Value::as_str).unwrap_or("");
        let section = row.len() > 3;
        Hit {
            title: if section {
                format!("{pt} › {}", s(3))
            } else {
                pt.into()
            },
            url: if section {
                format!("{pu}#{}", s(4))
            } else {
                pu.into()
            },
            kind: self.head["kinds"][row[1].as_u64().unwrap() as usize]
                .as_str()
                .unwrap()
                .into(),
            excerpt: s(2).into(),
        }
    }

    /// What the page's script finds for `query` (words split on spaces), best first.
    pub(crate) fn search(&self, query: &str) -> Vec<Hit> {
        let stop: BTreeSet<&str> = self.head["stop"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        let mut total: Option<BTreeMap<usize, u32>> = None;
        for w in query.split_whitespace().map(str::to_lowercase) {
            if stop.contains(w.as_str()) {
                continue;
            }
            let chars: Vec<char> = w.chars().collect();
            let keys: Vec<&String> = self
                .shards
                .keys()
                .filter(|k| {
                    if chars.len() >= 2 {
                        **k == chars[..2].iter().collect::<String>()
                    } else {
                        k.starts_with(chars[0])
                    }
                })
                .collect();
            let mut scores: BTreeMap<usize, u32> = BTreeMap::new();
            let mut in_title = BTreeSet::new();
            let mut limit = 200;
            for k in keys {
                let sh = &self.shards[k];
                for (t, term) in sh.terms.iter().enumerate() {
                    if !term.starts_with(&w) || limit == 0 {
                        continue;
                    }
                    limit -= 1;
                    let weight = if *term == w { 3 } else { 1 };
                    for d in decode(&sh.body[t]) {
                        let s = scores.entry(d).or_default();
                        *s = (*s).max(weight);
                    }
                    in_title.extend(decode(&sh.title[t]));
                }
            }
            for d in in_title {
                *scores
                    .get_mut(&d)
                    .expect("a title posting is a body posting") += 4;
            }
            total = Some(match total {
                None => scores,
                Some(t) => t
                    .into_iter()
                    .filter_map(|(d, s)| Some((d, s + scores.get(&d)?)))
                    .collect(),
            });
        }
        let mut results: Vec<(usize, u32)> = total.unwrap_or_default().into_iter().collect();
        results.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        results.into_iter().map(|(d, _)| self.entry(d)).collect()
    }

    /// URLs a search finds.
    pub(crate) fn urls(&self, query: &str) -> Vec<String> {
        self.search(query).into_iter().map(|h| h.url).collect()
    }
}

fn two_docs() -> Sms {
    let sms = Sms::new();
    sms.file(
        "policies/chg.md",
        &doc(
            "POL-CHG",
            &["8.5.1.1"],
            "",
            "Intro of the policy.\n\n## Risk assessment\n\nEvery normal change is assessed for risk against clause 8.5.1 before approval.\n",
        ),
    )
    .file(
        "policies/cap.md",
        &doc("POL-CAP", &["8.4.3"], "", "Capacity risk is planned yearly.\n"),
    );
    sms
}

/// Sections are entries of their page (the page's title and URL once per doc shard), ranked by
/// exact and prefix matches with a title bonus; stop words are not indexed; dotted clause ids are
/// one term; the same site gives the same bytes.
#[test]
fn the_index_is_sharded_ranked_and_deterministic() {
    let sms = two_docs();
    let r = build(&sms, Path::new("_site"));
    assert!(r.stderr.contains("_site") || r.code <= 1, "{}", r.stderr);
    let site = sms.path().join("_site");
    let index = Index::load(&site);
    // a section's result: page › heading, page#anchor
    let hits = index.search("assessed normal");
    assert_eq!(
        hits.len(),
        1,
        "{:?}",
        hits.iter().map(|h| &h.url).collect::<Vec<_>>()
    );
    assert_eq!(hits[0].title, "Document POL-CHG › Risk assessment");
    assert_eq!(hits[0].url, "documents/POL-CHG.html#risk-assessment");
    assert_eq!(hits[0].kind, "document");
    assert!(
        hits[0].excerpt.starts_with("Every normal change"),
        "{}",
        hits[0].excerpt
    );
    // the title bonus puts the section titled "Risk …" before others that only mention risk
    let risk = index.urls("risk");
    let at = |u: &str| risk.iter().position(|x| x.starts_with(u)).unwrap();
    assert!(
        at("documents/POL-CHG.html#risk-assessment") < at("documents/POL-CAP.html"),
        "{risk:?}"
    );
    // prefix and AND across words
    assert!(index
        .urls("capac")
        .iter()
        .any(|u| u.starts_with("documents/POL-CAP.html")));
    assert!(index.urls("capacity quokka").is_empty());
    assert_eq!(index.urls("capacity yearly").len(), 1);
    // the document id finds the first section
    assert!(index
        .urls("pol cap")
        .iter()
        .any(|u| u.starts_with("documents/POL-CAP.html")));
    // a dotted clause id is one term, so 8.5.1 does not match every "8", "5" and "1"
    let text = index_text(&site);
    assert!(text.contains("\"8.5.1\""), "no 8.5.1 term");
    assert!(index
        .urls("8.5.1")
        .contains(&"documents/POL-CHG.html#risk-assessment".to_string()));
    assert!(!index
        .urls("8.5.1")
        .iter()
        .any(|u| u.starts_with("documents/POL-CAP.html")));
    // stop words are listed and not indexed
    assert!(read(&site, "searchindex.js").contains("\"stop\":[\"a\","));
    assert!(!index
        .shards
        .get("th")
        .is_some_and(|s| s.terms.contains(&"the".to_string())));
    assert!(index.search("the").is_empty());
    // records carry no excerpt; clauses a short one
    let clause = index
        .search("8.5.1.1")
        .into_iter()
        .find(|h| h.kind == "clause")
        .unwrap();
    assert!(clause.excerpt.chars().count() <= 81, "{}", clause.excerpt);
    // every shard is small and the output is deterministic
    let again = sms.path().join("_again");
    build(&sms, &again);
    for f in search_files(&site) {
        assert_eq!(
            read(&site, &f),
            read(&again, &f),
            "{f} differs between builds"
        );
    }
    assert_eq!(
        read(&site, "searchindex.js"),
        read(&again, "searchindex.js")
    );
}

/// A generated corpus of medium size, without git history: 1,000 documents with sections and
/// 10,000 records.
fn medium_corpus() -> Sms {
    let sms = Sms::new();
    const TOPICS: [&str; 8] = [
        "capacity",
        "incident",
        "supplier",
        "continuity",
        "release",
        "budget",
        "security",
        "asset",
    ];
    for d in 0..1000 {
        let topic = TOPICS[d % TOPICS.len()];
        let mut body = format!("The {topic} procedure number {d} describes how we work.\n\n");
        for s in 0..6 {
            body.push_str(&format!(
                "## Step {s} of {topic}\n\nOperators review the {topic} queue, record findings and escalate deviations within {s} days. Marker{d}x{s} identifies this section.\n\n"
            ));
        }
        if d == 777 {
            body.push_str(
                "## Zebra crossing\n\nThe quokkaword appears in this one section only.\n",
            );
        }
        sms.file(
            &format!("procedures/p{d:04}.md"),
            &doc(&format!("PRO-{d:04}"), &["8.4.3"], "", &body),
        );
    }
    for f in 0..100 {
        let mut y = String::from("records:\n");
        for r in 0..100 {
            let n = f * 100 + r;
            y.push_str(&format!(
                "  - id: INC-{n:05}\n    kind: incident\n    date: 2026-0{}-{:02}\n    title: Disk alert {n} on host{}\n    status: closed\n",
                1 + n % 9,
                1 + n % 28,
                n % 50
            ));
        }
        sms.file(&format!("records/incident/f{f:03}.yaml"), &y);
    }
    sms
}

/// The target: search on a large site from `file://` in headless Chromium. The page
/// loads only the term shards of the query and the doc shards of the results it shows.
#[test]
fn chromium_searches_a_medium_corpus_from_file_urls() {
    let Some(chromium) = chromium() else {
        eprintln!(
            "skipped: chromium is not installed (apt-get install -y chromium); CI runs this test"
        );
        return;
    };
    let sms = medium_corpus();
    let r = build(&sms, Path::new("_site"));
    assert!(r.code <= 1, "{}", r.stderr);
    let site = sms.path().join("_site").canonicalize().unwrap();
    let index = Index::load(&site);
    assert!(index.entries() > 15_000, "{} entries", index.entries());
    let total: u64 = search_files(&site)
        .iter()
        .map(|f| std::fs::metadata(site.join(f)).unwrap().len())
        .sum();
    let largest = search_files(&site)
        .iter()
        .map(|f| std::fs::metadata(site.join(f)).unwrap().len())
        .max()
        .unwrap();
    eprintln!("index: {total} bytes in search/, largest shard {largest} bytes");
    assert!(
        std::fs::metadata(site.join("searchindex.js"))
            .unwrap()
            .len()
            < 4096
    );
    assert!(largest < 1024 * 1024, "largest shard {largest} bytes");
    // A word found in one section only, deep in the corpus.
    let url = |q: &str| format!("{}?q={q}", file_url(&site.join("search.html")));
    let v = visit(&chromium, &url("quokkaword"));
    clean(&v, "search for quokkaword");
    assert!(
        v.dom.contains("1 result for"),
        "no result:\n{}",
        &v.dom[v.dom.find("<main").unwrap_or(0)..]
    );
    assert!(
        v.dom
            .contains("href=\"documents/PRO-0777.html#zebra-crossing\""),
        "{}",
        &v.dom[v.dom.find("<main").unwrap_or(0)..]
    );
    assert!(v.dom.contains("<mark>quokkaword</mark>"), "{}", v.dom);
    // A record, by two words of its title (its doc shard is far from the first).
    let v = visit(&chromium, &url("disk+9876"));
    clean(&v, "search for a record");
    assert!(
        v.dom.contains("href=\"records/INC-09876.html\""),
        "{}",
        &v.dom[v.dom.find("<main").unwrap_or(0)..]
    );
    assert_eq!(index.urls("disk 9876"), ["records/INC-09876.html"]);
    // A common word: 50 results shown of many, each from a loaded doc shard.
    let v = visit(&chromium, &url("capacity"));
    clean(&v, "search for capacity");
    assert!(
        v.dom.contains("(showing the first 50)"),
        "{}",
        &v.dom[v.dom.find("<main").unwrap_or(0)..]
    );
    let list = &v.dom[v.dom.find("id=\"search_results\"").unwrap()..];
    let list = &list[..list.find("</ol>").unwrap()];
    assert_eq!(list.matches("<li>").count(), 50);
    // Only common words: said so, not "no results".
    let v = visit(&chromium, &url("the+of"));
    clean(&v, "stop words only");
    assert!(
        v.dom.contains("only common words"),
        "{}",
        &v.dom[v.dom.find("<main").unwrap_or(0)..]
    );
}

/// A missing shard is a clear status message, not a hang or an exception.
#[test]
fn chromium_says_when_a_shard_is_missing() {
    let Some(chromium) = chromium() else {
        eprintln!("skipped: chromium is not installed");
        return;
    };
    let sms = two_docs();
    build(&sms, Path::new("_site"));
    let site = sms.path().join("_site").canonicalize().unwrap();
    std::fs::remove_file(site.join("search/t-7269.js")).unwrap();
    let v = visit(
        &chromium,
        &format!("{}?q=risk", file_url(&site.join("search.html"))),
    );
    assert!(v.dom.contains("could not be loaded"), "{}", v.dom);
}
