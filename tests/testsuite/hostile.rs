//! Hostile inputs: each gets its exact expected outcome (a finding with file and line, or a
//! refusal with exit 2), never a panic, a hang or content from outside the repository. Large
//! fixtures are generated here. Time is bounded by a watchdog on the child process, not measured.

use crate::support::*;
use std::path::Path;
use std::time::{Duration, Instant};

/// Run `check --format json` and fail the test if it takes longer than `limit` (a hang guard,
/// generous so a loaded machine does not flake).
fn check_within(sms: &Sms, limit: Duration) -> Run {
    let start = Instant::now();
    let r = sms.check_json();
    assert!(start.elapsed() < limit, "check took {:?}", start.elapsed());
    assert!(!r.stderr.contains("panicked"), "panic: {}", r.stderr);
    assert!(r.code == 0 || r.code == 1, "exit {}: {}", r.code, r.stderr);
    r
}

fn good_doc() -> String {
    doc("POL-A", &["8.5.1.1"], "", "Body.")
}

fn alias_bomb() -> String {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    text
}

#[test]
fn alias_bombs_in_frontmatter_records_and_config() {
    let sms = Sms::new();
    sms.file(
        "policies/bomb.md",
        &format!("---\nid: BOMB\n{}---\n", alias_bomb()),
    );
    sms.file("records/incident/bomb.yaml", &alias_bomb());
    let r = check_within(&sms, Duration::from_secs(20));
    let f = r.findings("frontmatter-invalid");
    assert_eq!(f.len(), 2, "{f:#?}");
    assert!(f
        .iter()
        .all(|f| f["message"].as_str().unwrap().contains("alias")));
    // in sms.yaml: the tool cannot run, and says where
    let bad = Sms::with_config(&format!("{MINIMAL_CONFIG}{}", alias_bomb()));
    let r = bad.check_json();
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("sms.yaml:"), "{}", r.stderr);
}

#[test]
fn ten_thousand_deep_nesting() {
    let deep_flow = "[".repeat(10_000) + &"]".repeat(10_000);
    // block nesting costs indentation: 2,000 levels is already 2 MB of spaces
    let deep_block: String = (0..2_000)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect();
    let sms = Sms::new();
    sms.file(
        "policies/deep.md",
        &format!("---\nid: DEEP\nx: {deep_flow}\n---\n"),
    );
    sms.file("records/incident/deep.yaml", &deep_block);
    let r = check_within(&sms, Duration::from_secs(20));
    let f = r.findings("frontmatter-invalid");
    assert_eq!(f.len(), 2, "{f:#?}");
    let bad = Sms::with_config(&format!("{MINIMAL_CONFIG}x: {deep_flow}\n"));
    assert_eq!(bad.check_json().code, 2);
}

#[test]
fn a_200_mib_markdown_file_is_not_read() {
    let sms = Sms::new();
    sms.file("policies/a.md", &good_doc());
    let f = std::fs::File::create(sms.path().join("policies/huge.md")).unwrap();
    f.set_len(200 * 1024 * 1024).unwrap(); // sparse: costs no disk
    let r = check_within(&sms, Duration::from_secs(20));
    let f = r.findings("file-too-large");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["path"], "policies/huge.md");
}

#[test]
fn binary_and_invalid_utf8_files() {
    let sms = Sms::new();
    sms.bytes(
        "policies/image.md",
        &[0x89, b'P', b'N', b'G', 0, 0, 0, 13, 1, 2, 3],
    );
    sms.bytes(
        "records/incident/bad.yaml",
        b"id: INC-1\ntitle: caf\xc3\x28\n",
    );
    let r = check_within(&sms, Duration::from_secs(20));
    let f = r.findings("file-unreadable");
    assert_eq!(f.len(), 2, "{f:#?}");
    assert!(f
        .iter()
        .any(|f| f["path"] == "records/incident/bad.yaml" && f["line"] == 2));
}

#[test]
fn crlf_and_bom_files_parse_with_correct_lines() {
    let text = format!("\u{feff}{}", good_doc().replace('\n', "\r\n"))
        .replace("clauses: [\"8.5.1.1\"]", "clauses: [\"8.5.12\"]");
    let sms = Sms::new();
    sms.file("policies/a.md", &text);
    let r = check_within(&sms, Duration::from_secs(20));
    let f = r.findings("clause-unknown");
    assert_eq!(f.len(), 1, "{:?}", r.codes());
    assert_eq!(f[0]["line"], 10);
    assert_eq!(f[0]["column"], 11);
}

#[test]
fn frontmatter_delimiter_inside_a_code_block_is_body() {
    let body = "```yaml\n---\nid: INJECTED\nstatus: approved\n---\n```\n";
    let sms = Sms::new();
    sms.file("policies/a.md", &doc("POL-A", &["8.5.1.1"], "", body));
    let r = check_within(&sms, Duration::from_secs(20));
    assert!(r.findings("frontmatter-invalid").is_empty());
    assert!(r.findings("id-duplicate").is_empty());
    let cl = r.json()["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "8.5.1.1")
        .cloned()
        .unwrap();
    assert_eq!(cl["documents"], serde_json::json!(["POL-A"]));
}

/// A thousand broken links in one document stay a thousand findings (their fingerprints do not
/// change); one more, and they are one finding with every line.
#[test]
fn many_findings_of_one_code_in_one_document_are_aggregated_past_a_thousand() {
    for (n, want) in [(1000, 1000), (1001, 1)] {
        let sms = Sms::new();
        let body: String = (0..n)
            .map(|i| format!("[l{i}](missing-{i}.pdf)\n\n"))
            .collect();
        sms.file("policies/a.md", &doc("POL-A", &["8.5.1.1"], "", &body));
        let r = sms.check_json();
        let f = r.findings("broken-file-link");
        assert_eq!(f.len(), want, "{n} links");
        if want == 1 {
            assert_eq!(f[0]["subject"], "policies/a.md");
            assert_eq!(f[0]["rows"].as_array().unwrap().len(), n);
            assert_eq!(f[0]["rows"][0], f[0]["line"]);
        }
    }
}

#[test]
fn a_hundred_thousand_links_and_cyclic_links() {
    let many: String = (0..100_000)
        .map(|i| format!("[l{i}](doc:POL-B) "))
        .collect();
    let sms = Sms::new();
    sms.file(
        "policies/a.md",
        &doc(
            "POL-A",
            &["8.5.1.1"],
            "",
            &format!("{many}\n\n[back](doc:POL-B)"),
        ),
    );
    sms.file(
        "policies/b.md",
        &doc(
            "POL-B",
            &["8.5.1.2"],
            "",
            "[back](doc:POL-A) [self](#document-pol-b)",
        ),
    );
    let r = check_within(&sms, Duration::from_secs(60));
    assert!(r.findings("broken-doc-link").is_empty());
    assert!(
        r.findings("broken-anchor").is_empty(),
        "{:?}",
        r.findings("broken-anchor")
    );
}

#[cfg(unix)]
#[test]
fn symlinks_to_etc_passwd_and_a_parent_folder() {
    let sms = Sms::new();
    sms.file("policies/a.md", &good_doc());
    std::os::unix::fs::symlink("/etc/passwd", sms.path().join("policies/passwd.md")).unwrap();
    std::os::unix::fs::symlink("../..", sms.path().join("records/loop")).unwrap_or_else(|_| {
        std::fs::create_dir_all(sms.path().join("records")).unwrap();
        std::os::unix::fs::symlink("../..", sms.path().join("records/loop")).unwrap();
    });
    std::os::unix::fs::symlink("/etc/passwd", sms.path().join("sms-link.yaml")).unwrap();
    let r = check_within(&sms, Duration::from_secs(20));
    assert_eq!(
        r.findings("symlink-ignored").len(),
        3,
        "{:?}",
        r.findings("symlink-ignored")
    );
    assert!(!r.stdout.contains("root:"), "content from outside leaked");
}

#[cfg(unix)]
#[test]
fn sms_yaml_as_a_symlink_is_refused() {
    let sms = Sms::new();
    let real = sms.path().join("real.yaml");
    std::fs::rename(sms.path().join("sms.yaml"), &real).unwrap();
    std::os::unix::fs::symlink(&real, sms.path().join("sms.yaml")).unwrap();
    let r = sms.check_json();
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
}

#[test]
fn odd_file_names() {
    let sms = Sms::new();
    sms.file("policies/-rf.md", &doc("POL-RF", &["8.5.1.1"], "", "Dash."));
    sms.file(
        "policies/with space.md",
        &doc(
            "POL-SP",
            &["8.5.1.2"],
            "",
            "[dash](-rf.md) [u](%C3%BCber.md)",
        ),
    );
    sms.file(
        "policies/über.md",
        &doc("POL-UE", &["8.5.1.3"], "", "Umlaut."),
    );
    let r = check_within(&sms, Duration::from_secs(20));
    assert!(
        r.findings("broken-file-link").is_empty(),
        "{:?}",
        r.findings("broken-file-link")
    );
    let docs: Vec<_> = r.json()["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["documents"].as_array().unwrap().clone())
        .collect();
    for id in ["POL-RF", "POL-SP", "POL-UE"] {
        assert!(docs.contains(&serde_json::json!(id)), "{id} not linked");
    }
}

#[test]
fn clause_ids_and_ids_that_look_like_path_traversal() {
    let sms = Sms::new();
    sms.file(
        "policies/a.md",
        &doc(
            "POL-A",
            &["../../x"],
            "",
            "[c](clause:../../etc/passwd) [d](doc:../../x)",
        ),
    );
    sms.file("policies/b.md", &doc("../../b", &["8.5.1.1"], "", "B"));
    let r = check_within(&sms, Duration::from_secs(20));
    assert_eq!(r.findings("clause-unknown").len(), 1);
    assert_eq!(r.findings("broken-clause-link").len(), 1);
    assert_eq!(r.findings("broken-doc-link").len(), 1);
    assert_eq!(r.findings("id-invalid").len(), 1);
}

#[test]
fn empty_and_weird_frontmatter_shapes() {
    let sms = Sms::new();
    sms.file("policies/empty-fm.md", "---\n---\nbody\n");
    sms.file("policies/only-dashes.md", "---");
    sms.file("policies/list.md", "---\n- 1\n---\n");
    sms.file("policies/two-docs.md", "---\na: 1\n...\n---\nb: 2\n---\n");
    let r = check_within(&sms, Duration::from_secs(20));
    let codes = r.codes();
    assert!(
        codes.iter().filter(|c| *c == "frontmatter-invalid").count() >= 2,
        "{codes:?}"
    );
    assert!(
        codes.contains(&"frontmatter-unclosed".to_string()),
        "{codes:?}"
    );
}

// ---------------------------------------------------------------- limits (`limits:` in sms.yaml)

/// (path, line, column, message) of every finding with `code`, in report order.
fn exact(r: &Run, code: &str) -> Vec<(String, u64, u64, String)> {
    r.findings(code)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or("").to_string(),
                f["line"].as_u64().unwrap_or(0),
                f["column"].as_u64().unwrap_or(0),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn limited(limits: &str) -> Sms {
    Sms::with_config(&format!("{MINIMAL_CONFIG}limits:\n{limits}"))
}

/// `max_file_size`: a file over it is named with its size and the setting, and is not read.
#[test]
fn limit_max_file_size_gives_file_too_large() {
    let sms = limited("  max_file_size: 1 KiB\n");
    sms.file("policies/a.md", &good_doc());
    let big = doc("POL-BIG", &["8.5.1.2"], "", &"word ".repeat(300));
    sms.file("policies/big.md", &big);
    let record = format!(
        "id: INC-1\nkind: incident\ndate: 2026-01-01\ntitle: {}\n",
        "t".repeat(1100)
    );
    sms.file("records/incident/big.yaml", &record);
    let r = check_within(&sms, Duration::from_secs(20));
    let msg = |p: &str, n: usize| {
        format!("`{p}` is {n} bytes, over `limits.max_file_size` (1024 bytes); it was not read")
    };
    assert_eq!(
        exact(&r, "file-too-large"),
        [
            (
                "policies/big.md".to_string(),
                1,
                1,
                msg("policies/big.md", big.len())
            ),
            (
                "records/incident/big.yaml".to_string(),
                1,
                1,
                msg("records/incident/big.yaml", record.len())
            ),
        ]
    );
    // the big document was not read: it covers nothing; the small one still does
    let clauses = r.json()["clauses"].as_array().unwrap().clone();
    let docs_of = |id: &str| clauses.iter().find(|c| c["id"] == id).unwrap()["documents"].clone();
    assert_eq!(docs_of("8.5.1.1"), serde_json::json!(["POL-A"]));
    assert_eq!(docs_of("8.5.1.2"), serde_json::json!([]));
}

/// `max_documents`: one finding on sms.yaml naming the first file left out; files past the limit
/// are not even parsed (the broken one gives no finding of its own).
#[test]
fn limit_max_documents_gives_too_many_documents() {
    let sms = limited("  max_documents: 2\n");
    sms.file("policies/a.md", &good_doc());
    sms.file("policies/b.md", &doc("POL-B", &["8.5.1.2"], "", "B"));
    sms.file("policies/c.md", "---\nid: [never, closed\n---\n");
    sms.file("policies/d.md", &doc("POL-D", &["8.5.1.3"], "", "D"));
    let r = check_within(&sms, Duration::from_secs(20));
    assert_eq!(
        exact(&r, "too-many-documents"),
        [(
            "sms.yaml".to_string(),
            1,
            1,
            "the SMS holds 4 Markdown files, over `limits.max_documents` (2); the files from `policies/c.md` on (in path order) were not read".to_string()
        )]
    );
    assert!(
        r.findings("frontmatter-invalid").is_empty(),
        "{:?}",
        r.codes()
    );
    let clauses = r.json()["clauses"].as_array().unwrap().clone();
    let d = clauses.iter().find(|c| c["id"] == "8.5.1.3").unwrap();
    assert_eq!(d["documents"], serde_json::json!([]));
}

/// `max_yaml_depth`: frontmatter and records nested deeper are `frontmatter-invalid` at the
/// collection that goes one level too deep, naming the setting; exactly the limit is fine.
#[test]
fn limit_max_yaml_depth_gives_frontmatter_invalid() {
    let sms = limited("  max_yaml_depth: 3\n");
    sms.file(
        "policies/ok.md",
        &doc("POL-OK", &["8.5.1.1"], "nested: [[1]]\n", "Depth three."),
    );
    sms.file("policies/deep.md", "---\nid: POL-DEEP\nx: [[[1]]]\n---\n");
    sms.file(
        "records/incident/deep.yaml",
        "id: INC-1\nkind: incident\nx:\n  y:\n    z:\n      w: 1\n",
    );
    let r = check_within(&sms, Duration::from_secs(20));
    let msg =
        "YAML nested more than 3 levels deep (`limits.max_yaml_depth` in sms.yaml)".to_string();
    assert_eq!(
        exact(&r, "frontmatter-invalid"),
        [
            ("policies/deep.md".to_string(), 3, 6, msg.clone()),
            ("records/incident/deep.yaml".to_string(), 6, 7, msg),
        ]
    );
}

/// `max_yaml_nodes`: a long list and a small alias expansion both stop at the budget, at the
/// node that crosses it (here the second `*a`: 11 nodes each), naming the setting.
#[test]
fn limit_max_yaml_nodes_gives_frontmatter_invalid() {
    let sms = limited("  max_yaml_nodes: 40\n");
    sms.file("policies/ok.md", &good_doc());
    let many: Vec<String> = (0..40).map(|i| format!("\"c{i}\"")).collect();
    sms.file(
        "policies/many.md",
        &format!("---\nid: POL-MANY\nclauses: [{}]\n---\n", many.join(", ")),
    );
    sms.file(
        "records/incident/alias.yaml",
        "id: INC-1\nkind: incident\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: [*a, *a, *a]\n",
    );
    let r = check_within(&sms, Duration::from_secs(20));
    let f = exact(&r, "frontmatter-invalid");
    let msg = "more than 40 YAML nodes (aliases count each time they are used); this looks like an alias bomb or a file far larger than an SMS needs (`limits.max_yaml_nodes` in sms.yaml)";
    assert_eq!(f.len(), 2, "{f:#?}");
    assert_eq!((f[0].0.as_str(), f[0].1), ("policies/many.md", 3));
    assert_eq!(
        (f[1].0.as_str(), f[1].1, f[1].2),
        ("records/incident/alias.yaml", 4, 9)
    );
    assert!(f.iter().all(|f| f.3 == msg), "{f:#?}");
    assert!(r
        .findings("field-missing")
        .iter()
        .all(|f| f["path"] != "policies/ok.md"));
}

// ---------------------------------------------------------------- the evidence site

/// Build the site of `sms` into `out` with a hang guard; the exit code is 0 or 1 (findings).
fn build_within(sms: &Sms, out: &Path, limit: Duration) -> Run {
    let start = Instant::now();
    let r = sms.run(
        "build",
        &["--format", "json", "--out", out.to_str().unwrap()],
    );
    assert!(start.elapsed() < limit, "build took {:?}", start.elapsed());
    assert!(!r.stderr.contains("panicked"), "panic: {}", r.stderr);
    assert!(r.code == 0 || r.code == 1, "exit {}: {}", r.code, r.stderr);
    r
}

/// Every regular file below `dir`, as (relative path, bytes).
fn all_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// 10,000 headings and 100,000 links in one document: the build finishes in bounded time, every
/// heading gets one unique id, every link is rewritten or dropped, and the page stays in
/// proportion to its source.
#[test]
fn a_document_with_100000_links_and_10000_headings_builds() {
    let mut body = String::new();
    for i in 0..10_000 {
        body.push_str(&format!("## Section {}\n\n", i % 100));
        for j in 0..10 {
            body.push_str(match j % 5 {
                0 => "[l](doc:POL-B) ",
                1 => "[c](clause:8.5.1.2) ",
                2 => "[f](b.md#b) ",
                3 => "[s](#section-7) ",
                _ => "[j](javascript:alert(1)) ",
            });
        }
        body.push_str("\n\n");
    }
    // over the default `limits.max_headings` (1000; see `a_million_headings_are_bounded`)
    let sms = Sms::with_config(&format!("{MINIMAL_CONFIG}limits:\n  max_headings: 20000\n"));
    sms.file("policies/a.md", &doc("POL-A", &["8.5.1.1"], "", &body));
    sms.file(
        "policies/b.md",
        &doc("POL-B", &["8.5.1.2"], "", "# B\n\nBody."),
    );
    let out = sms.path().join("_site");
    build_within(&sms, &out, Duration::from_secs(120));
    let page = std::fs::read_to_string(out.join("documents/POL-A.html")).unwrap();
    assert!(
        page.len() < 20 * body.len(),
        "page of {} bytes for a body of {}",
        page.len(),
        body.len()
    );
    let ids: Vec<&str> = page
        // The author's `##` headings, one level down on the page (its h1 is the title).
        .match_indices("<h3 id=\"section")
        .map(|(i, _)| &page[i + 8..i + 8 + page[i + 8..].find('"').unwrap()])
        .collect();
    assert_eq!(ids.len(), 10_000);
    assert_eq!(
        ids.iter().collect::<std::collections::BTreeSet<_>>().len(),
        10_000,
        "heading ids repeat"
    );
    assert_eq!(ids[100], "section-0-1");
    assert_eq!(
        page.matches("href=\"../documents/POL-B.html\"").count(),
        20_000
    );
    assert_eq!(
        page.matches("href=\"../documents/POL-B.html#b\"").count(),
        20_000
    );
    assert_eq!(
        page.matches("href=\"../clauses/8.5.1.2.html\"").count(),
        20_000
    );
    // the page may name the scheme in its findings, but no javascript: URL survives
    assert!(
        !page.to_lowercase().contains("javascript:"),
        "a javascript: link survived"
    );
    let index = crate::search::index_size(&out) as usize;
    assert!(index < 2 * body.len(), "search index of {index} bytes");
}

/// Hostile content beyond what `site.rs` covers: CSS `url()` and `@import` in a `<style>`
/// element, entity- and whitespace-obfuscated `javascript:` URLs, autolinks and reference
/// definitions, `<object>`, `<embed>`, `<base>`, `<meta refresh>`, `<form formaction>`,
/// `srcset`, mutation-XSS shapes, an SVG file with script (never copied outside `<img>`), an
/// unclosed `<style>`, and HTML in frontmatter values, record fields and file names.
const PAYLOADS: &str = r#"Before.

<style>@import url(https://example.com/x.css); body { background: url("javascript:alert(1)") }</style>

[ent](&#106;avascript:alert(1)) [tab](java	script:alert(1)) [nl](<java
script:alert(1)>) [sp]( javascript:alert(1)) [vb](vbscript:msgbox(1)) [data](data:text/html;base64,PHNjcmlwdD4=)

<javascript:alert(1)> <JAVASCRIPT:alert(1)>

[ref][r1] ![img ref][r2]

[r1]: javascript:alert(1)
[r2]: javascript:alert(1)

![img](javascript:alert(1)) ![svg image](pic.svg) [svg page](pic.svg) [html](page.html)

<a href="jav&#x09;ascript:alert(1)">t</a> <a href="&#x6A;avascript&colon;alert(1)">c</a> <img srcset="x.png 1x, javascript:alert(1) 2x" src="y.png">

<object data="javascript:alert(1)"></object> <embed src="javascript:alert(1)"> <base href="javascript:alert(1)//">

<meta http-equiv="refresh" content="0;url=javascript:alert(1)"> <link rel="stylesheet" href="https://example.com/x.css">

<form action="javascript:alert(1)"><button formaction="javascript:alert(1)">go</button><input type="image" src="x" onfocus="alert(1)" autofocus></form>

<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>

<noscript><p title="</noscript><img src=x onerror=alert(1)>"></p></noscript>

<svg><a xlink:href="javascript:alert(1)"><text>x</text></a><animate onbegin="alert(1)"/></svg>

<details open ontoggle="alert(1)"><summary>s</summary></details> <video><source onerror="alert(1)"></video>

<div title="x" onmouseover = "alert(1)" ONCLICK="alert(1)">handlers</div>

## Heading after everything

Inline <style>p { color: red } and it never closes.

## Last heading

After."#;

const SVG_WITH_SCRIPT: &str =
    r#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><circle r="5"/></svg>"#;

/// A tag of a full page: name and attributes (name lower-cased, value with entities decoded).
struct PageTag {
    name: String,
    attrs: Vec<(String, String)>,
    /// Byte offset of the end of the start tag.
    end: usize,
}

/// An attribute value with character references decoded (named ones that matter here, and
/// numeric ones), as a browser reads it.
fn decode(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest.find(';').unwrap_or(rest.len());
        let name = &rest[1..end];
        let c = match name {
            "quot" => Some('"'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "colon" => Some(':'),
            "Tab" => Some('\t'),
            "NewLine" => Some('\n'),
            _ => name
                .strip_prefix("#x")
                .or_else(|| name.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) if end < rest.len() => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The start tags of a page (templates and sanitiser output alike): tolerant of `<!…>`,
/// quoted and unquoted attribute values.
fn page_tags(html: &str) -> Vec<PageTag> {
    let b = html.as_bytes();
    let mut tags = Vec::new();
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        i += off + 1;
        match b.get(i) {
            Some(b'!') | Some(b'/') => {
                i += html[i..].find('>').map_or(0, |e| e + 1);
                continue;
            }
            Some(c) if c.is_ascii_alphabetic() => {}
            _ => continue,
        }
        let s = i;
        while b
            .get(i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'-')
        {
            i += 1;
        }
        let name = html[s..i].to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while b
                .get(i)
                .is_some_and(|c| c.is_ascii_whitespace() || *c == b'/')
            {
                i += 1;
            }
            if b.get(i).is_none_or(|c| *c == b'>') {
                i += 1;
                break;
            }
            let a = i;
            while b
                .get(i)
                .is_some_and(|c| !c.is_ascii_whitespace() && !matches!(c, b'=' | b'>'))
            {
                i += 1;
            }
            let attr = html[a..i].to_ascii_lowercase();
            while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
                i += 1;
            }
            let mut value = String::new();
            if b.get(i) == Some(&b'=') {
                i += 1;
                while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
                    i += 1;
                }
                match b.get(i) {
                    Some(&q @ (b'"' | b'\'')) => {
                        let e = html[i + 1..]
                            .find(q as char)
                            .map_or(html.len(), |e| i + 1 + e);
                        value = decode(&html[i + 1..e]);
                        i = e + 1;
                    }
                    _ => {
                        let e = html[i..]
                            .find(|c: char| c.is_ascii_whitespace() || c == '>')
                            .map_or(html.len(), |e| i + e);
                        value = decode(&html[i..e]);
                        i = e;
                    }
                }
            }
            attrs.push((attr, value));
        }
        tags.push(PageTag {
            name,
            attrs,
            end: i.min(html.len()),
        });
    }
    tags
}

/// The scheme of a URL as a browser reads it (whitespace and controls removed).
fn scheme(url: &str) -> Option<String> {
    let u: String = url
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    let end = u.find([':', '/', '?', '#'])?;
    (u.as_bytes()[end] == b':').then(|| u[..end].to_string())
}

/// Nothing on a page can run code or load anything from elsewhere: scripts only by `src` from
/// the site itself and empty, no event handler or style attribute, only http/https/mailto
/// schemes (never in `src`), no frames, objects, embeds, bases, refreshes or foreign stylesheets,
/// SVG only as the templates' own drawings.
fn assert_nothing_executable(page: &str, html: &str) {
    let lower = html.to_ascii_lowercase();
    // As markup; as text (escaped, or an autolink's label) a payload is only words.
    for bad in [
        "<iframe",
        "<frame",
        "<object",
        "<embed",
        "<base",
        "<applet",
        "<math",
        "<style",
        "<foreignobject",
        "<video",
        "<audio",
        "<source",
    ] {
        assert!(!lower.contains(bad), "{page}: {bad:?} in the page");
    }
    for t in page_tags(html) {
        let get = |n: &str| {
            t.attrs
                .iter()
                .find(|(a, _)| a == n)
                .map(|(_, v)| v.as_str())
        };
        for (a, v) in &t.attrs {
            assert!(!a.starts_with("on"), "{page}: <{} {a}={v:?}>", t.name);
            assert!(
                !matches!(
                    a.as_str(),
                    "style"
                        | "formaction"
                        | "srcset"
                        | "xlink:href"
                        | "background"
                        | "ping"
                        | "data"
                ),
                "{page}: <{} {a}>",
                t.name
            );
            if matches!(a.as_str(), "href" | "src" | "action") {
                if let Some(s) = scheme(v) {
                    assert!(
                        matches!(s.as_str(), "http" | "https" | "mailto") && a == "href",
                        "{page}: <{} {a}={v:?}>",
                        t.name
                    );
                }
                assert!(
                    !(a == "src" && v.trim_start().starts_with("//")),
                    "{page}: remote {v:?}"
                );
            }
        }
        match t.name.as_str() {
            "script" => {
                let src = get("src").unwrap_or_else(|| panic!("{page}: an inline <script>"));
                assert!(
                    src.ends_with("assets/site.js")
                        || src.ends_with("assets/search.js")
                        || src.ends_with("searchindex.js"),
                    "{page}: script {src:?}"
                );
                assert!(
                    html[t.end..].starts_with("</script>"),
                    "{page}: a script with content"
                );
            }
            "meta" => assert!(
                get("http-equiv").is_none_or(|h| h.eq_ignore_ascii_case("content-security-policy")),
                "{page}: <meta http-equiv>"
            ),
            "link" => assert!(
                get("href").is_some_and(|h| {
                    h.ends_with("assets/style.css") || h.ends_with("assets/favicon.svg")
                }),
                "{page}: <link> to elsewhere"
            ),
            "svg" => {
                let end = lower[t.end..]
                    .find("</svg>")
                    .map_or(lower.len(), |e| t.end + e);
                assert!(
                    !lower[t.end..end].contains("<script") && !lower[t.end..end].contains("<a "),
                    "{page}: an active SVG"
                );
            }
            _ => {}
        }
    }
}

/// Every page of a site built from hostile documents, records, frontmatter values and file names
/// holds nothing executable; the SVG with a script is copied only for `<img>` and never linked.
#[test]
fn hostile_markdown_frontmatter_records_and_names_render_inert() {
    let sms = Sms::new();
    sms.file("policies/hostile.md", &doc("POL-EVIL", &["8.5.1.1"], "classification: \"<img src=x onerror=alert(1)>\"\nsupersedes: \"javascript:alert(1)\"\n", PAYLOADS)
        .replace("title: Document POL-EVIL", "title: \"<script>alert(1)</script>\"")
        .replace("owner: Owner", "owner: \"<svg onload=alert(1)>\""));
    sms.file("policies/pic.svg", SVG_WITH_SCRIPT);
    sms.file("policies/page.html", "<script>alert(1)</script>");
    sms.file(
        "policies/<img src=x onerror=alert(1)>.md",
        &doc(
            "POL-NAME",
            &["8.5.1.2"],
            "",
            "[back](doc:POL-EVIL#last-heading)",
        ),
    );
    sms.file(
        "records/incident/INC-1.yaml",
        "id: INC-1\nkind: incident\ndate: 2026-10-01\ntitle: \"<script>alert(1)</script>\"\nstatus: closed\npriority: \"<iframe src=javascript:alert(1)>\"\nservice: \"javascript:alert(1)\"\nrefs: [POL-EVIL]\n",
    );
    let out = sms.path().join("_site");
    build_within(&sms, &out, Duration::from_secs(60));
    let files = all_files(&out);
    let mut pages = 0;
    for (rel, bytes) in &files {
        if rel.ends_with(".html") {
            pages += 1;
            assert_nothing_executable(rel, &String::from_utf8_lossy(bytes));
        }
    }
    assert!(pages > 10, "{pages} pages");
    let evil = std::fs::read_to_string(out.join("documents/POL-EVIL.html")).unwrap();
    // escaped, visible text — not markup
    assert!(
        evil.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the title is shown as text"
    );
    // the headings after an unclosed inline <style> survive with their ids
    assert!(
        evil.contains("<h3 id=\"heading-after-everything\">"),
        "heading lost"
    );
    assert!(evil.contains("<h3 id=\"last-heading\">"), "heading lost");
    // an SVG with script is neither shown nor linked nor copied (opened directly it would run);
    // HTML attachments are never copied
    assert!(!evil.contains("../files/policies/pic.svg"));
    assert!(
        files.iter().all(|(p, _)| !p.ends_with("pic.svg")),
        "the SVG with script was copied"
    );
    assert!(
        files.iter().all(|(p, _)| !p.ends_with("page.html")),
        "an HTML attachment was copied"
    );
}

/// The page check itself flags each kind of active content it is meant to (so the test above
/// cannot pass by checking nothing), and lets inert text through.
#[test]
fn the_page_check_is_not_vacuous() {
    for bad in [
        "<img src=x onerror=alert(1)>",
        "<a href=\"java\tscript:alert(1)\">x</a>",
        "<a href='&#106;avascript:x'>x</a>",
        "<script>alert(1)</script>",
        "<script src=\"https://evil/x.js\"></script>",
        "<img src=\"//evil/x.png\">",
        "<div style=\"color:red\">x</div>",
        "<meta http-equiv=refresh content=0>",
        "<svg><script>alert(1)</script></svg>",
        "<iframe src=x></iframe>",
        "<form action=\"javascript:alert(1)\"></form>",
    ] {
        let caught = std::panic::catch_unwind(|| assert_nothing_executable("probe", bad));
        assert!(caught.is_err(), "{bad:?} was not flagged");
    }
    assert_nothing_executable(
        "probe",
        "<p title=\"javascript:x\">javascript:alert(1) &lt;script&gt;</p><a href=\"https://x\">x</a>",
    );
}

// ---------------------------------------------------------------- output folders

/// Every path below `dir` with its bytes (folders as empty), for before/after comparisons.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let bytes = if e.file_type().is_file() {
                std::fs::read(e.path()).unwrap()
            } else {
                Vec::new()
            };
            (rel, bytes)
        })
        .collect();
    out.sort();
    out
}

/// Names in a folder that look like a build's temporary siblings.
fn staging_names(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains(".tmp-") || n.contains(".old-") || n == ".auditbook-site")
                .collect()
        })
        .unwrap_or_default()
}

/// `/`, the SMS root and any folder above it — written absolute, relative, or with `..` — are
/// refused with exit 2 before anything is written: the SMS and the folders around it are
/// byte-for-byte unchanged, and no temporary sibling is left. `bundle --out` onto a source file
/// of the SMS is refused the same way.
#[test]
fn output_folders_that_hold_the_sms_are_refused_and_nothing_is_written() {
    let parent = tempfile::tempdir().unwrap();
    let root = parent.path().join("sms");
    std::fs::create_dir(&root).unwrap();
    let sms = Sms {
        dir: tempfile::TempDir::new_in(&root).unwrap(),
        as_of: AS_OF,
    };
    sms.file("sms.yaml", MINIMAL_CONFIG);
    sms.file("policies/a.md", &good_doc());
    let sms_root = sms.path().to_path_buf();
    let policies = sms_root.join("policies");
    let before = tree(parent.path());
    let slash_before = staging_names(Path::new("/"));
    let cases: Vec<(&Path, String)> = vec![
        (&sms_root, "/".to_string()),
        (&sms_root, sms_root.display().to_string()),
        (&sms_root, format!("{}/", sms_root.display())),
        (&sms_root, root.display().to_string()),
        (&sms_root, parent.path().display().to_string()),
        (&sms_root, format!("{}/policies/..", sms_root.display())),
        (&sms_root, ".".to_string()),
        (&sms_root, "..".to_string()),
        (&policies, "../..".to_string()),
        (&policies, "/..".to_string()),
    ];
    for (cwd, out) in &cases {
        let mut c = auditbook();
        c.current_dir(cwd).args([
            "build",
            sms_root.to_str().unwrap(),
            "--as-of",
            AS_OF,
            "--out",
            out,
        ]);
        let r = run(c);
        assert_eq!(
            r.code,
            2,
            "--out {out:?} from {}: {}",
            cwd.display(),
            r.stderr
        );
        assert!(r.stderr.contains("refusing"), "--out {out:?}: {}", r.stderr);
        assert_eq!(tree(parent.path()), before, "--out {out:?} wrote something");
    }
    assert_eq!(
        staging_names(Path::new("/")),
        slash_before,
        "a staging folder appeared in /"
    );
    for target in [
        "sms.yaml",
        "policies/a.md",
        "policies/notes.txt",
        "policies",
    ] {
        let r = sms.run(
            "bundle",
            &["--out", sms_root.join(target).to_str().unwrap()],
        );
        assert_eq!(r.code, 2, "bundle --out {target}: {}", r.stderr);
        assert_eq!(
            tree(parent.path()),
            before,
            "bundle --out {target} wrote something"
        );
    }
}

// ---------------------------------------------------------------- nothing from outside

/// A marker that lives only in files outside the repository.
const SECRET: &str = "OUTSIDE-THE-REPOSITORY-3b7e91";

/// `git` in `dir` with a fixed identity and time, the user's configuration kept out.
fn git(dir: &Path, args: &[&str]) {
    git_at(dir, args, "2026-06-01T12:00:00+00:00");
}

/// Which outputs hold the secret: files below a folder, entries of a zip, a run's streams.
fn leaks_in_dir(dir: &Path) -> Vec<String> {
    all_files(dir)
        .into_iter()
        .filter(|(_, b)| b.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()))
        .map(|(p, _)| p)
        .collect()
}

fn leaks_in_zip(zip: &Path) -> Vec<String> {
    use std::io::Read;
    let mut a = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let mut out = Vec::new();
    for i in 0..a.len() {
        let mut f = a.by_index(i).unwrap();
        let mut b = Vec::new();
        f.read_to_end(&mut b).unwrap();
        if b.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()) {
            out.push(f.name().map_or_else(|_| "?".to_string(), |n| n.to_string()));
        }
    }
    out
}

fn assert_no_leak(what: &str, r: &Run, leaks: Vec<String>) {
    assert!(
        leaks.is_empty(),
        "{what}: the secret from outside is in {leaks:?}"
    );
    assert!(
        !r.stdout.contains(SECRET) && !r.stderr.contains(SECRET),
        "{what}: the secret is in the output streams"
    );
}

/// Symbolic links to files and folders outside the repository — as a document, a record, an
/// image and an attachment the body links to, a linked folder, a custom template, a framework —
/// and links in the body that climb out: `build`, `bundle` from the work tree, and `bundle` and
/// `build` of a commit that holds the links put the outside content in no output file, no zip
/// entry and no message.
#[cfg(unix)]
#[test]
fn nothing_from_outside_the_repository_reaches_any_output() {
    use std::os::unix::fs::symlink;
    let base = tempfile::tempdir().unwrap();
    let outside = base.path().join("outside");
    std::fs::create_dir_all(outside.join("dir")).unwrap();
    let secret_doc = doc("POL-SECRET", &["8.5.1.3"], "", SECRET)
        .replace("title: Document POL-SECRET", &format!("title: {SECRET}"));
    for (name, text) in [
        ("secret.md", secret_doc.clone()),
        ("dir/x.md", secret_doc.clone()),
        (
            "secret.yaml",
            format!("id: INC-9\nkind: incident\ndate: 2026-01-01\ntitle: {SECRET}\n"),
        ),
        ("secret.png", format!("\u{89}PNG {SECRET}")),
        ("secret.pdf", format!("%PDF-1.4 {SECRET}")),
        (
            "secret.html",
            format!("{{% extends \"base.html\" %}}{{% block main %}}{SECRET}{{% endblock %}}"),
        ),
        (
            "fw.yaml",
            format!("id: leak\ntitle: {SECRET}\nclauses: [{{id: \"1\", title: {SECRET}}}]\n"),
        ),
    ] {
        std::fs::write(outside.join(name), text).unwrap();
    }
    let repo = base.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let sms = Sms {
        dir: tempfile::TempDir::new_in(&repo).unwrap(),
        as_of: AS_OF,
    };
    let sms_path = sms.path().to_path_buf();
    sms.file("sms.yaml", MINIMAL_CONFIG);
    let up = "../".repeat(
        sms_path
            .strip_prefix(base.path())
            .unwrap()
            .components()
            .count()
            + 1,
    );
    sms.file(
        "policies/a.md",
        &doc(
            "POL-A",
            &["8.5.1.1"],
            "",
            &format!("![i](img/leak.png) [f](leak.pdf) [d](linked/x.md) [l](leak.md) [o]({up}outside/secret.md) [abs]({}/secret.md) [p](/etc/passwd) ![o]({up}outside/secret.png)", outside.display()),
        ),
    );
    std::fs::create_dir_all(sms_path.join("policies/img")).unwrap();
    std::fs::create_dir_all(sms_path.join("records/incident")).unwrap();
    std::fs::create_dir_all(sms_path.join("templates")).unwrap();
    std::fs::create_dir_all(sms_path.join("frameworks")).unwrap();
    for (target, link) in [
        (outside.join("secret.md"), "policies/leak.md"),
        (outside.join("secret.yaml"), "records/incident/leak.yaml"),
        (outside.join("secret.png"), "policies/img/leak.png"),
        (outside.join("secret.pdf"), "policies/leak.pdf"),
        (outside.join("dir"), "policies/linked"),
        (outside.join("secret.html"), "templates/document.html"),
        (outside.join("fw.yaml"), "frameworks/leak.yaml"),
        (outside.clone(), "outside"),
    ] {
        symlink(&target, sms_path.join(link)).unwrap();
    }
    symlink(
        format!("{up}outside/secret.md"),
        sms_path.join("policies/relative.md"),
    )
    .unwrap();

    // The work tree, outside git.
    let site = base.path().join("site");
    let r = build_within(&sms, &site, Duration::from_secs(60));
    assert!(r.findings("symlink-ignored").len() >= 8, "{:?}", r.codes());
    assert_no_leak("build", &r, leaks_in_dir(&site));
    let zip = base.path().join("draft.zip");
    let r = sms.run("bundle", &["--out", zip.to_str().unwrap()]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    assert_no_leak("bundle (work tree)", &r, leaks_in_zip(&zip));

    // A commit holding the links (git stores a link's target path, never the content).
    git(&sms_path, &["init", "-q", "-b", "main"]);
    git(&sms_path, &["add", "-A"]);
    git(&sms_path, &["commit", "-q", "-m", "SMS with links out"]);
    let zip = base.path().join("committed.zip");
    let r = sms.run("bundle", &["--out", zip.to_str().unwrap()]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    assert_no_leak("bundle (commit)", &r, leaks_in_zip(&zip));
    let r = build_within(&sms, &site, Duration::from_secs(60));
    assert_no_leak("build (commit)", &r, leaks_in_dir(&site));
    let r = sms.run(
        "bundle",
        &[
            "--allow-dirty",
            "--out",
            base.path().join("dirty.zip").to_str().unwrap(),
        ],
    );
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    assert_no_leak(
        "bundle --allow-dirty",
        &r,
        leaks_in_zip(&base.path().join("dirty.zip")),
    );
    // the outside files are untouched
    assert_eq!(
        std::fs::read_to_string(outside.join("secret.md")).unwrap(),
        secret_doc
    );
}

// ---------------------------------------------------------------- hostile bundles for `verify`

/// Set the uncompressed size of entry `name` in its local header and in the central directory,
/// so a bomb claims to be as small as the file it replaces.
fn patch_uncompressed_size(zip: &mut [u8], name: &str, size: u32) {
    let mut patched = 0;
    for i in 0..zip.len().saturating_sub(46) {
        let (name_at, size_at, len_at) = match &zip[i..i + 4] {
            b"PK\x03\x04" => (i + 30, i + 22, i + 26),
            b"PK\x01\x02" => (i + 46, i + 24, i + 28),
            _ => continue,
        };
        let len = u16::from_le_bytes([zip[len_at], zip[len_at + 1]]) as usize;
        if zip.get(name_at..name_at + len) == Some(name.as_bytes()) {
            zip[size_at..size_at + 4].copy_from_slice(&size.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(
        patched, 2,
        "local header and central directory entry of {name}"
    );
}

/// One zip with every unsafe shape at once: `../` names, an absolute name pointing at a real
/// writable place, a symbolic link followed by a file "through" it, an entry that decompresses
/// to 32 MiB while claiming the size of the page it replaces, and a 32 MiB entry no list names.
/// `verify` names each problem (exit 1), stops the bomb at the size the manifest gives, finishes
/// in bounded time, and extracts nothing anywhere.
#[cfg(unix)]
#[test]
fn verify_refuses_a_zip_with_every_unsafe_entry_and_extracts_nothing() {
    use std::io::{Read, Write};
    let sms = Sms::new();
    sms.file("policies/a.md", &good_doc());
    let work = tempfile::tempdir().unwrap();
    let good = work.path().join("good.zip");
    let r = sms.run("bundle", &["--out", good.to_str().unwrap()]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let landing = work.path().join("landing");
    std::fs::create_dir(&landing).unwrap();
    let absolute = format!("{}/absolute-evil", landing.display());
    let page = "site/index.html";

    let bad = work.path().join("bad.zip");
    let mut src = zip::ZipArchive::new(std::fs::File::open(&good).unwrap()).unwrap();
    let comment = src.comment().to_vec();
    let page_size = {
        let mut f = src.by_name(page).unwrap();
        let mut b = Vec::new();
        f.read_to_end(&mut b).unwrap();
        b.len() as u32
    };
    let mut w = zip::ZipWriter::new(std::fs::File::create(&bad).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let zeros = vec![0u8; 1 << 20];
    for i in 0..src.len() {
        let f = src.by_index_raw(i).unwrap();
        if f.name().map(|n| n == page).unwrap_or(false) {
            drop(f);
            w.start_file(page, opts).unwrap();
            for _ in 0..32 {
                w.write_all(&zeros).unwrap();
            }
        } else {
            w.raw_copy_file(f).unwrap();
        }
    }
    for (name, bytes) in [
        ("../evil", &b"x"[..]),
        ("site/../../evil", b"x"),
        (absolute.as_str(), b"x"),
    ] {
        w.start_file(name, opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.add_symlink("site/up", landing.to_str().unwrap(), opts)
        .unwrap();
    w.start_file("site/up/through-the-link", opts).unwrap();
    w.write_all(b"x").unwrap();
    w.start_file("site/unlisted-bomb.bin", opts).unwrap();
    for _ in 0..32 {
        w.write_all(&zeros).unwrap();
    }
    w.set_raw_comment(comment.into_boxed_slice()).unwrap();
    w.finish().unwrap();
    let mut bytes = std::fs::read(&bad).unwrap();
    patch_uncompressed_size(&mut bytes, page, page_size);
    std::fs::write(&bad, &bytes).unwrap();
    assert!(
        bytes.len() < 1 << 20,
        "the bomb is small on disk: {} bytes",
        bytes.len()
    );

    let cwd = work.path().join("a/b");
    std::fs::create_dir_all(&cwd).unwrap();
    let before = tree(work.path());
    let start = Instant::now();
    let mut c = auditbook();
    c.current_dir(&cwd).arg("verify").arg(&bad);
    let v = run(c);
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "verify took {:?}",
        start.elapsed()
    );
    assert!(!v.stderr.contains("panicked"), "{}", v.stderr);
    assert_eq!(v.code, 1, "{}\n{}", v.stdout, v.stderr);
    for line in [
        "refused: ../evil: the name holds `..`".to_string(),
        "refused: site/../../evil: the name holds `..`".to_string(),
        format!("refused: {absolute}: the name is an absolute path"),
        "refused: site/up: a symbolic link".to_string(),
        "added: site/up/through-the-link".to_string(),
        "added: site/unlisted-bomb.bin".to_string(),
        // stopped by the zip reader (declared size) or by verify's cap (the manifest's size)
        format!("altered: {page}: "),
    ] {
        assert!(
            v.stdout.lines().any(|l| l.starts_with(&line)),
            "no {line:?} in:\n{}",
            v.stdout
        );
    }
    let bomb = v
        .stdout
        .lines()
        .find(|l| l.starts_with("altered: site/index.html: "))
        .unwrap();
    assert!(
        bomb.contains("larger than its declared uncompressed size")
            || bomb.contains(&format!("more than the {page_size} bytes")),
        "{bomb}"
    );
    assert_eq!(tree(work.path()), before, "verify wrote something");
    assert!(!Path::new(&absolute).exists());
    assert_eq!(std::fs::read_dir(&landing).unwrap().count(), 0);
}

/// An SVG image with script would run when an auditor opens `files/…svg` directly: only plainly
/// passive SVGs are copied into the site (and so into the bundle); the others are refused.
#[test]
fn svg_images_with_script_are_never_copied_into_the_site() {
    let sms = Sms::new();
    sms.file(
        "policies/a.md",
        &doc(
            "POL-A",
            &["8.5.1.1"],
            "",
            "![ok](img/ok.svg) ![evil](img/evil.svg)",
        ),
    );
    sms.file(
        "policies/img/ok.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect width=\"4\" height=\"4\"/></svg>\n",
    );
    sms.file(
        "policies/img/evil.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"><script>alert(2)</script></svg>\n",
    );
    let out = sms.path().join("_site");
    let r = sms.run("build", &[]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    assert!(
        out.join("files/policies/img/ok.svg").is_file(),
        "the passive SVG is copied"
    );
    assert!(
        !out.join("files/policies/img/evil.svg").exists(),
        "the active SVG was copied"
    );
    for entry in walkdir::WalkDir::new(&out) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let text = String::from_utf8_lossy(&std::fs::read(entry.path()).unwrap()).into_owned();
            assert!(
                !text.contains("evil.svg\""),
                "{} links the active SVG",
                entry.path().display()
            );
        }
    }
}

/// Build with a document whose body is `body`; the site must come out, `check` and `build` must
/// both give one `nesting-too-deep` at `line`, and the page must nest no deeper than the limit.
fn nesting_case(config_extra: &str, body: &str, line: u64) {
    let sms = Sms::with_config(&format!("{MINIMAL_CONFIG}{config_extra}"));
    sms.file("policies/deep.md", &doc("POL-D", &["8.5.1.1"], "", body));
    let r = check_within(&sms, Duration::from_secs(60));
    let f = r.findings("nesting-too-deep");
    assert_eq!(f.len(), 1, "{:?}", r.codes());
    assert_eq!(f[0]["path"], "policies/deep.md");
    assert_eq!(f[0]["line"], line);
    let r = sms.run("build", &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let page = sms.read("_site/documents/POL-D.html");
    assert!(page.contains("nests too deep"), "no notice on the page");
    for tag in ["blockquote", "ul", "div"] {
        let depth = max_depth(&page, tag);
        assert!(depth <= 64, "<{tag}> nests {depth} deep");
    }
}

/// How deep elements named `tag` nest in a page.
fn max_depth(page: &str, tag: &str) -> usize {
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    while let Some(at) = page[i..].find('<') {
        i += at;
        if page[i..].starts_with(&close) {
            depth = depth.saturating_sub(1);
        } else if page[i..].starts_with(&open)
            && matches!(page.as_bytes().get(i + open.len()), Some(b'>' | b' '))
        {
            depth += 1;
            max = max.max(depth);
        }
        i += 1;
    }
    max
}

#[test]
fn fifty_thousand_nested_quotes_build_with_a_finding() {
    // documents from `doc` start their body on line 15, after the title heading and a blank
    nesting_case("", &(">".repeat(50_000) + " deep\n"), 15);
}

#[test]
fn a_hundred_thousand_nested_quotes_build_with_a_finding() {
    nesting_case("", &("> ".repeat(100_000) + "deep\n"), 15);
}

#[test]
fn bodies_of_nesting_up_to_max_file_size_build_with_a_finding() {
    // A smaller max_file_size keeps the test quick in debug builds; release builds render a
    // 10 MiB body of each kind in about a second.
    let limit = "limits:\n  max_file_size: 1 MiB\n";
    let room = 1024 * 1024 - 1024;
    nesting_case(limit, &">".repeat(room), 15);
    nesting_case(limit, &("- ".repeat(room / 2) + "x"), 15);
    nesting_case(limit, &"<div>".repeat(room / 5), 15);
    // one level more per line: the finding is at the line that crosses the limit
    let stairs: String = (1..1200).map(|i| ">".repeat(i) + " x\n\n").collect();
    nesting_case(limit, &stairs, 15 + 2 * 63);
}

#[test]
fn nesting_limit_is_a_setting() {
    let sms = Sms::with_config(&format!(
        "{MINIMAL_CONFIG}limits:\n  max_nesting_depth: 200\n"
    ));
    sms.file(
        "policies/a.md",
        &doc("POL-A", &["8.5.1.1"], "", &(">".repeat(100) + " x\n")),
    );
    let r = check_within(&sms, Duration::from_secs(20));
    assert!(r.findings("nesting-too-deep").is_empty(), "{:?}", r.codes());
}

#[test]
fn a_million_headings_are_bounded() {
    let body = "## a\n".repeat(1_000_000);
    let sms = Sms::new();
    sms.file("policies/h.md", &doc("POL-H", &["8.5.1.1"], "", &body));
    let r = check_within(&sms, Duration::from_secs(60));
    let f = r.findings("too-many-headings");
    assert_eq!(f.len(), 1, "{:?}", r.codes());
    // the title heading is the first of the 1000
    assert_eq!(f[0]["line"], 14 + 1000);
    // three elements a heading: past `limits.max_elements` (500,000), at the heading after
    // the 166,667th, nothing is read, so the headings past the limit are counted up to there
    assert!(f[0]["message"]
        .as_str()
        .unwrap()
        .contains("165667 headings"));
    let f = r.findings("too-many-elements");
    assert_eq!(f.len(), 1, "{:?}", r.codes());
    assert_eq!(f[0]["line"], 14 + 166_667);
    let r = sms.run("build", &[]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let page = sms.read("_site/documents/POL-H.html");
    assert!(
        page.matches(" id=\"a-").count() <= 1000,
        "anchors past the limit"
    );
    assert!(
        page.len() < 40 * 1024 * 1024,
        "page of {} bytes",
        page.len()
    );
    let index = crate::search::index_size(&sms.path().join("_site"));
    assert!(index < 2 * 1024 * 1024, "search index of {index} bytes");
}

/// Terminal and CI-log injection: a committed file name with a newline and a workflow command,
/// ESC/OSC sequences (title, clear screen, OSC 52 clipboard) and bidi overrides in names and
/// fields reach no human output raw — neither `check`'s and `build`'s stdout nor their stderr.
#[test]
fn names_and_fields_cannot_drive_the_terminal_or_the_ci_log() {
    let sms = Sms::with_config(
        "organisation: \"Acme \\e]0;owned\\a\\e]52;c;cm0gLXJmIC8=\\a\\e[2J Ltd\"\nscope: \"Test \\u202eservices\"\nframework: iso20000-1:2018\n",
    );
    let evil_name = "policies/x\n::error file=a.md::forged\n##[warning]forged\u{1b}[31m\u{202e}.md";
    sms.file(evil_name, "no frontmatter\n");
    sms.file(
        "policies/a.md",
        &doc("POL-A", &["8.5.1.1"], "", "Body.").replace(
            "title: Document POL-A",
            "title: \"Title \\e]8;;http://x\\e\\\\link\\r\\n::warning::forged\\u0085\\u2066\"",
        ),
    );
    sms.file(
        "records/incident/i.yaml",
        "id: INC-1\nkind: incidnet\ndate: 2026-01-01\ntitle: \"\\e[?1049h\\x9b2J\"\nstatus: closed\n",
    );
    let out = tempfile::tempdir().unwrap();
    let runs = [
        sms.run("check", &[]),
        sms.run(
            "build",
            &["--out", out.path().join("site").to_str().unwrap()],
        ),
        sms.run(
            "bundle",
            &["--out", out.path().join("b.zip").to_str().unwrap()],
        ),
    ];
    for (i, r) in runs.iter().enumerate() {
        for (what, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
            let bad: Vec<char> = text
                .chars()
                .filter(|&c| {
                    let u = c as u32;
                    (u < 0x20 && c != '\n' && c != '\t')
                        || (0x7f..=0x9f).contains(&u)
                        || (0x202a..=0x202e).contains(&u)
                        || (0x2066..=0x2069).contains(&u)
                })
                .collect();
            assert!(bad.is_empty(), "run {i} {what}: raw {bad:?} in:\n{text}");
            for line in text.lines() {
                let l = line.trim_start();
                assert!(
                    !l.starts_with("::") && !l.starts_with("##["),
                    "run {i} {what}: a line starts a workflow command: {line:?}"
                );
            }
        }
    }
    // The names are still there, escaped, so a reader can find the file.
    assert!(
        runs[0].stdout.contains("\\u{3a}:error file=a.md::forged"),
        "{}",
        runs[0].stdout
    );
    assert!(runs[0].stdout.contains("\\u{1b}[31m"), "{}", runs[0].stdout);
}

/// A body of more Markdown elements than `limits.max_elements` (here 1 MiB of `[a](b) `, links
/// to a missing file, with the limit at 100,000): `check` and `build` give one
/// `too-many-elements` at the element that reaches it, nothing past it is read (at most one
/// broken link per four elements before it), and the page shows the rest as escaped text.
#[test]
fn a_body_of_too_many_elements_is_cut_with_a_finding() {
    let sms = Sms::with_config(&format!(
        "{MINIMAL_CONFIG}limits:\n  max_file_size: 1 MiB\n  max_elements: 100000\n"
    ));
    let body = "[a](b) ".repeat((1024 * 1024 - 1024) / 7);
    sms.file("policies/many.md", &doc("POL-M", &["8.5.1.1"], "", &body));
    let r = check_within(&sms, Duration::from_secs(60));
    let f = r.findings("too-many-elements");
    assert_eq!(f.len(), 1, "{:?}", r.codes());
    assert_eq!(f[0]["path"], "policies/many.md");
    assert_eq!(f[0]["line"], 15);
    // 100,000 events of about 4 per link (start, text, end, space): the cut is at the start of
    // the 25,000th link or so
    let column = f[0]["column"].as_u64().unwrap();
    assert_eq!((column - 1) % 7, 0, "{:?}", f[0]);
    assert!((24_000 * 7..=25_001 * 7).contains(&column), "{:?}", f[0]);
    // more than `AGGREGATE_DOCUMENT_OVER` (1,000) of one code in one document are one finding
    // that lists every line
    let links = r.findings("broken-file-link");
    assert_eq!(links.len(), 1, "broken links not aggregated");
    let broken = links[0]["rows"].as_array().unwrap().len();
    assert!(
        links[0]["message"].as_str().unwrap().starts_with(&format!(
            "{broken} places in `policies/many.md` have this finding"
        )),
        "{}",
        links[0]["message"]
    );
    assert!(broken <= 25_000, "{broken} broken links read past the cut");
    assert!(
        broken >= 24_000,
        "only {broken} broken links before the cut"
    );
    let r = sms.run("build", &["--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.findings("too-many-elements").len(), 1);
    let page = sms.read("_site/documents/POL-M.html");
    assert!(
        page.contains("holds too many elements"),
        "no notice on the page"
    );
    // the rest as written, escaped: `[a](b) ` from the cut to the end, in one <pre>
    let rest = body.len() - 25_000 * 7;
    assert!(
        page.contains(&"[a](b) ".repeat(rest / 7 - 1)),
        "rest not shown"
    );
    let after = page.split("holds too many elements").nth(1).unwrap();
    let rest_html = &after[..after.find("</pre>").unwrap()];
    assert!(!rest_html.contains("<a"), "links rendered past the cut");
    // and the human report names it too, at once (its source lines are found once per file)
    let r = sms.run("check", &[]);
    assert!(
        r.stdout.contains("error[too-many-elements]"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stdout.matches("  --> policies/many.md:15:").count(), 2);
}

#[test]
fn the_element_limit_is_a_setting_and_ordinary_bodies_stay_under_it() {
    let body =
        "A paragraph with *emphasis*, a [link](#document-pol-e) and `code`.\n\n".repeat(2000);
    let sms = Sms::new();
    sms.file("policies/e.md", &doc("POL-E", &["8.5.1.1"], "", &body));
    let r = check_within(&sms, Duration::from_secs(60));
    assert!(
        r.findings("too-many-elements").is_empty(),
        "{:?}",
        r.codes()
    );
    sms.file(
        "sms.yaml",
        &format!("{MINIMAL_CONFIG}limits:\n  max_elements: 20000\n"),
    );
    let r = check_within(&sms, Duration::from_secs(60));
    assert_eq!(r.findings("too-many-elements").len(), 1, "{:?}", r.codes());
}

/// One paragraph of a megabyte of `&amp;` and of `°` (the site's sanitiser, html5ever 0.40,
/// searched the rest of a text node at each `&` and each character from U+0080 to U+00BF:
/// minutes for this body) builds, and the text comes out whole and unchanged.
#[test]
fn a_megabyte_paragraph_of_ampersands_and_degree_signs_builds_unchanged() {
    let amps = "&amp; ".repeat(100_000);
    let degrees = "°".repeat(250_000);
    let code = format!("`{}`", "&".repeat(100_000));
    let body = format!(
        "{amps}\n\n{degrees}\n\n{code}\n\n<div>\n\n{amps}\n\n</div>\n\n<div>{amps}{degrees}</div>\n"
    );
    let sms = Sms::new();
    sms.file("policies/amp.md", &doc("POL-A", &["8.5.1.1"], "", &body));
    let out = sms.path().join("_site");
    // the old serialiser took minutes on this body in a debug build
    build_within(&sms, &out, Duration::from_secs(60));
    let page = std::fs::read_to_string(out.join("documents/POL-A.html")).unwrap();
    assert!(
        page.contains(&format!("<p>{}</p>", "&amp; ".repeat(100_000).trim_end())),
        "the paragraph of ampersands changed"
    );
    assert!(
        page.contains(&format!("<p>{degrees}</p>")),
        "the paragraph of degree signs changed"
    );
    assert!(
        page.contains(&format!("<p><code>{}</code></p>", "&amp;".repeat(100_000))),
        "the code span changed"
    );
    // raw HTML: its text is split the same way
    assert!(
        page.contains(&format!("<div>{amps}{degrees}</div>")),
        "the raw HTML block changed"
    );
    assert!(!page.contains("&lt;!--"), "a comment became text");
}
