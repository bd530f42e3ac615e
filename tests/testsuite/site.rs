//! `auditbook build` and `auditbook serve`: the evidence site's files and pages, its links, its
//! determinism, the output-folder rules, the sanitiser, the server, and a real headless Chromium
//! opening the site from `file://`.

use crate::support::*;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xff, 0xff, 0x3f,
    0x00, 0x05, 0xfe, 0x02, 0xfe, 0xa7, 0x35, 0x81, 0x84, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

/// Raw HTML a hostile author might put in a policy.
const EVIL_BODY: &str = r#"Plain text before.

<script>document.title = 'PWNED'; document.body.setAttribute('data-pwned', '1');</script>

<img src="x" onerror="document.title = 'PWNED'">

[click](javascript:document.title='PWNED') <a href="JaVaScRiPt:alert('PWNED')">raw link</a>

<iframe src="https://example.com/PWNED"></iframe>

<svg><script>document.title = 'PWNED'</script><circle r="5"/></svg>

<div style="background:url(https://example.com/PWNED.png)">styled</div>

<a href="data:text/html,PWNED">data link</a> <a href="evil.html">html attachment</a>

<span id="scope">author id</span>

![remote](https://example.com/remote.png)
"#;

/// A small SMS exercising every kind of page: approved, draft and hostile documents, an image,
/// a PDF, records that refer to each other, a footnote and cross-document anchors.
fn fixture() -> Sms {
    let sms = Sms::with_config(
        "organisation: Test Ltd\nscope: Test services for test customers.\nframework: iso20000-1:2018\npeople:\n  - id: hc\n    name: Helen Carter\n    role: top-management\n  - id: Owner\n    name: Olive Owner\n    role: quality-manager\n  - id: Approver\n    name: Arthur Approver\n    role: top-management\n",
    );
    sms.file(
        "policies/change.md",
        &doc(
            "POL-CHG",
            &["8.5.1.1"],
            "classification: internal\n",
            "See [the steps](doc:PRO-CHG#steps), [change initiation](clause:8.5.1.2), the flow ![flow](img/flow.png), [the form](forms/rfc.pdf), an [outside link](https://example.com/iso) and a note[^1].\n\n## Risk assessment\n\nAssess the [risk](#risk-assessment) of every change.\n\n[^1]: The note explains the form.",
        ),
    );
    sms.bytes("policies/img/flow.png", PNG);
    sms.bytes("policies/forms/rfc.pdf", b"%PDF-1.4\n%%EOF\n");
    sms.file(
        "procedures/change.md",
        &doc(
            "PRO-CHG",
            &["8.5.1.2", "8.5.1.3"],
            "",
            "Back to [the policy](../policies/change.md).\n\n## Steps\n\n1. Raise the request.\n2. Assess it.",
        ),
    );
    sms.file(
        "plans/draft.md",
        &doc("PLN-DRAFT", &["8.1"], "", "Not in force yet.")
            .replace("status: approved", "status: draft"),
    );
    sms.file("policies/evil.md", &doc("POL-EVIL", &[], "", EVIL_BODY));
    sms.file("policies/evil.html", "<script>alert(1)</script>");
    sms.file(
        "records/incident/INC-1.yaml",
        "id: INC-1\nkind: incident\ndate: 2026-10-01\ntitle: Storage latency\nstatus: closed\npriority: P2\nservice: Hosting\nrefs: [PRB-1, POL-CHG]\n",
    );
    sms.file(
        "records/problem/PRB-1.yaml",
        "id: PRB-1\nkind: problem\ndate: 2026-10-02\ntitle: Latency root cause\nstatus: open\nworkaround: Move volumes\n",
    );
    sms
}

/// Build the site of `sms` into `out` (relative to the SMS unless absolute).
pub(crate) fn build(sms: &Sms, out: &Path) -> Run {
    let out = if out.is_absolute() {
        out.to_path_buf()
    } else {
        sms.path().join(out)
    };
    sms.run("build", &["--out", out.to_str().unwrap()])
}

/// Every file below `dir`, relative, `/`-separated, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    out.sort();
    out
}

pub(crate) fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The `<main>…</main>` of a page.
pub(crate) fn main_of(html: &str) -> String {
    let start = html.find("<main").expect("a <main>");
    let end = html.find("</main>").expect("a </main>") + "</main>".len();
    html[start..end].to_string()
}

#[test]
fn build_writes_every_page_and_reports_findings_loudly() {
    let sms = fixture();
    let r = build(&sms, Path::new("_site"));
    // The fixture leaves most clauses uncovered: the site is built anyway, with exit 1.
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("built the evidence site"), "{}", r.stderr);
    assert!(
        r.stderr.contains("FINDINGS: the site was built"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout.contains("error[clause-undocumented]"),
        "{}",
        r.stdout
    );
    let site = sms.path().join("_site");
    let all = files(&site);
    let clauses = all.iter().filter(|f| f.starts_with("clauses/")).count();
    assert_eq!(clauses, 77, "one page per catalogue clause");
    let codes = all.iter().filter(|f| f.starts_with("codes/")).count();
    let registered = {
        let mut c = auditbook();
        c.args(["explain", "--list"]);
        run(c).stdout.lines().count()
    };
    assert_eq!(codes, registered, "one page per finding code");
    let rest: Vec<&str> = all
        .iter()
        .filter(|f| {
            !f.starts_with("clauses/") && !f.starts_with("codes/") && !f.starts_with("search/")
        })
        .map(String::as_str)
        .collect();
    // The search shards: one doc shard, term shards named by their key.
    let search: Vec<&String> = all.iter().filter(|f| f.starts_with("search/")).collect();
    assert!(search.iter().any(|f| *f == "search/d0.js"), "{search:?}");
    assert!(
        search.iter().any(|f| *f == "search/t-7269.js"),
        "{search:?}"
    );
    assert!(search
        .iter()
        .all(|f| *f == "search/d0.js" || f.starts_with("search/t-")));
    assert_eq!(
        rest,
        [
            ".auditbook-site",
            "assets/favicon.svg",
            "assets/search.js",
            "assets/site.js",
            "assets/style.css",
            "clauses.html",
            "documents.csv",
            "documents.html",
            "documents/PLN-DRAFT.html",
            "documents/POL-CHG.html",
            "documents/POL-EVIL.html",
            "documents/PRO-CHG.html",
            "files/policies/forms/rfc.pdf",
            "files/policies/img/flow.png",
            "findings.html",
            "index.html",
            "kinds/incident.html",
            "kinds/problem.html",
            "matrix.csv",
            "matrix.html",
            "people.html",
            "people/Approver.html",
            "people/Owner.html",
            "people/hc.html",
            "records.html",
            "records/INC-1.html",
            "records/PRB-1.html",
            "search.html",
            "searchindex.js",
        ]
    );
    // The HTML attachment is refused, and said so.
    assert!(r.stderr.contains("policies/evil.html"), "{}", r.stderr);
    assert_eq!(
        std::fs::read(site.join("files/policies/img/flow.png")).unwrap(),
        PNG
    );
}

#[test]
fn key_pages_show_the_evidence() {
    let sms = fixture();
    build(&sms, Path::new("_site"));
    let site = sms.path().join("_site");

    let index = main_of(&read(&site, "index.html"));
    for needle in [
        "Test Ltd",
        "Test services for test customers.",
        "as of <strong>2026-11-26</strong>",
        "<svg class=\"bar\"",
        "4 Context of the organization",
        "10 Improvement",
        "PRO-CHG",
    ] {
        assert!(
            index.contains(needle),
            "dashboard lacks {needle:?}:\n{index}"
        );
    }

    insta::assert_snapshot!(
        "document_page_main",
        main_of(&read(&site, "documents/POL-CHG.html"))
    );
    insta::assert_snapshot!(
        "clause_page_main",
        main_of(&read(&site, "clauses/8.5.1.1.html"))
    );

    let record = main_of(&read(&site, "records/PRB-1.html"));
    assert!(
        record.contains("href=\"../records/INC-1.html\""),
        "refs shown both ways:\n{record}"
    );
    let register = read(&site, "documents.csv");
    assert!(register.starts_with("id,title,type,version,status,owner,approver,approved,next_review,review_overdue,path,frameworks\n"), "{register}");
    assert!(
        register.contains("PLN-DRAFT,Document PLN-DRAFT,policy,1.0,draft,"),
        "{register}"
    );
    let matrix = read(&site, "matrix.csv");
    assert!(
        matrix
            .lines()
            .next()
            .unwrap()
            .starts_with("clause,framework,title,status,PLN-DRAFT,POL-CHG,PRO-CHG"),
        "{matrix}"
    );
    assert!(matrix.contains("\n8.5.1.1,iso20000-1:2018,"), "{matrix}");
    let search = read(&site, "searchindex.js");
    assert!(
        search.starts_with("window.SEARCH_INDEX = "),
        "{}",
        &search[..80]
    );
    let index = crate::search::Index::load(&site);
    assert!(index
        .urls("risk")
        .contains(&"documents/POL-CHG.html#risk-assessment".to_string()));
}

/// Attribute values of `attr` in `html` (double-quoted, as our templates and ammonia write them).
/// The values of an attribute in a page, quoted or (the rows of kind tables) unquoted.
fn attr_values(html: &str, attr: &str) -> Vec<String> {
    let pat = format!(" {attr}=");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&pat) {
        rest = &rest[i + pat.len()..];
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').unwrap();
            out.push(quoted[..end].replace("&amp;", "&").replace("&quot;", "\""));
            rest = &quoted[end..];
        } else {
            let end = rest
                .find(|c: char| c.is_ascii_whitespace() || c == '>')
                .unwrap();
            out.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(
                u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap(), 16).unwrap(),
            );
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Check every href and src of every page: a relative file that exists, and an anchor that is an
/// id on the target page. Returns the number of links checked.
pub(crate) fn check_links(site: &Path) -> usize {
    let pages: Vec<String> = files(site)
        .into_iter()
        .filter(|f| f.ends_with(".html"))
        .collect();
    let mut ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in &pages {
        ids.insert(
            p.clone(),
            attr_values(&read(site, p), "id").into_iter().collect(),
        );
    }
    let mut checked = 0;
    let mut broken = Vec::new();
    for p in &pages {
        let html = read(site, p);
        for link in attr_values(&html, "href")
            .into_iter()
            .chain(attr_values(&html, "src"))
        {
            if link.starts_with("https://")
                || link.starts_with("http://")
                || link.starts_with("mailto:")
            {
                continue;
            }
            assert!(!link.contains(':'), "{p}: a link with a scheme: {link}");
            assert!(!link.starts_with('/'), "{p}: an absolute link: {link}");
            checked += 1;
            let (path, anchor) = match link.split_once('#') {
                Some((a, b)) => (a, Some(percent_decode(b))),
                None => (link.as_str(), None),
            };
            let path = path.split('?').next().unwrap();
            let target = if path.is_empty() {
                p.clone()
            } else {
                let mut parts: Vec<&str> = p.split('/').collect();
                parts.pop();
                for c in path.split('/') {
                    match c {
                        ".." => {
                            assert!(parts.pop().is_some(), "{p}: {link} leaves the site");
                        }
                        "." | "" => {}
                        c => parts.push(c),
                    }
                }
                percent_decode(&parts.join("/"))
            };
            if !site.join(&target).is_file() {
                broken.push(format!("{p}: {link} (no file {target})"));
                continue;
            }
            if let Some(a) = anchor {
                if !ids.get(&target).is_some_and(|s| s.contains(&a)) {
                    broken.push(format!("{p}: {link} (no id {a} in {target})"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    checked
}

#[test]
fn every_link_resolves_to_a_file_and_anchor() {
    let sms = fixture();
    build(&sms, Path::new("_site"));
    let checked = check_links(&sms.path().join("_site"));
    assert!(checked > 500, "only {checked} links checked");
}

#[test]
fn the_sample_sms_site_has_no_broken_link() {
    let sms = Sms::sample();
    let r = build(&sms, Path::new("_site"));
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    check_links(&sms.path().join("_site"));
}

#[test]
fn every_page_carries_the_csp_and_no_inline_script_or_style() {
    let sms = fixture();
    build(&sms, Path::new("_site"));
    let site = sms.path().join("_site");
    let csp = "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:\">";
    for p in files(&site).iter().filter(|f| f.ends_with(".html")) {
        let html = read(&site, p);
        assert!(html.contains(csp), "{p} lacks the CSP");
        let scripts = html.matches("<script").count();
        let external = html.matches("<script src=\"").count();
        assert_eq!(scripts, external, "{p} has an inline script");
        assert!(!html.contains(" style=\""), "{p} has an inline style");
        assert!(!html.contains("<style"), "{p} has a style element");
        assert!(!html.contains("fetch("), "{p} uses fetch");
    }
    for js in ["assets/site.js", "assets/search.js", "searchindex.js"] {
        let t = read(&site, js);
        assert!(
            !t.contains("fetch(") && !t.contains("XMLHttpRequest"),
            "{js} reaches the network"
        );
    }
    {
        let (js, t) = ("search/*.js", crate::search::index_text(&site));
        assert!(
            !t.contains("fetch(") && !t.contains("XMLHttpRequest"),
            "{js} reaches the network"
        );
    }
}

#[test]
fn the_sanitiser_removes_active_content() {
    let sms = fixture();
    let r = build(&sms, Path::new("_site"));
    let site = sms.path().join("_site");
    let main = main_of(&read(&site, "documents/POL-EVIL.html"));
    let lower = main.to_lowercase();
    for bad in [
        "<script",
        "onerror",
        "javascript:",
        "<iframe",
        "<svg",
        "style=",
        "url(",
        "data:",
        "pwned",
    ] {
        assert!(!lower.contains(bad), "{bad:?} survived:\n{main}");
    }
    assert!(main.contains("Plain text before."), "{main}");
    assert!(
        main.contains("id=\"u_scope\""),
        "author ids are prefixed:\n{main}"
    );
    assert!(
        main.contains(
            "<a href=\"https://example.com/remote.png\" rel=\"noopener noreferrer\">remote</a>"
        ),
        "a remote image becomes a link:\n{main}"
    );
    assert!(!site.join("files/policies/evil.html").exists());
    assert!(main.contains("Files not included"), "{main}");
    assert!(
        r.stderr.contains("POL-EVIL links to `policies/evil.html`"),
        "{}",
        r.stderr
    );
}

#[test]
fn table_alignment_is_kept_as_a_class() {
    let sms = Sms::new();
    sms.file(
        "policies/raci.md",
        &doc(
            "POL-RACI",
            &["8.1"],
            "",
            "| Activity | Owner | Days |\n|:---------|:-----:|-----:|\n| Raise | Service desk | 1 |\n",
        ),
    );
    let r = build(&sms, Path::new("_site"));
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let site = sms.path().join("_site");
    let page = main_of(&read(&site, "documents/POL-RACI.html"));
    for cell in [
        "<th class=\"align-left\">Activity</th>",
        "<th class=\"align-center\">Owner</th>",
        "<th class=\"align-right\">Days</th>",
        "<td class=\"align-left\">Raise</td>",
        "<td class=\"align-center\">Service desk</td>",
        "<td class=\"align-right\">1</td>",
    ] {
        assert!(page.contains(cell), "{cell} missing:\n{page}");
    }
    assert!(!page.contains("style="), "{page}");
    let css = read(&site, "assets/style.css");
    assert!(
        css.contains("td.align-center { text-align: center; }"),
        "{css}"
    );
}

#[test]
fn the_same_input_gives_a_byte_identical_site() {
    let sms = fixture();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    build(&sms, &a.path().join("site"));
    build(&sms, &b.path().join("site"));
    // Rebuilding over an existing site replaces it.
    build(&sms, &b.path().join("site"));
    let fa = files(&a.path().join("site"));
    assert_eq!(fa, files(&b.path().join("site")));
    for f in &fa {
        let x = std::fs::read(a.path().join("site").join(f)).unwrap();
        let y = std::fs::read(b.path().join("site").join(f)).unwrap();
        assert!(x == y, "{f} differs between two builds");
    }
    let leftovers: Vec<_> = std::fs::read_dir(b.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn output_folders_that_are_not_ours_are_refused() {
    let sms = fixture();
    let other = tempfile::tempdir().unwrap();
    // A non-empty folder without the marker.
    let full = other.path().join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("thesis.txt"), "precious").unwrap();
    let r = build(&sms, &full);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("not empty") && r.stderr.contains(".auditbook-site"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(full.join("thesis.txt")).unwrap(),
        "precious"
    );
    // The SMS root and a folder that contains it.
    for out in [
        sms.path().to_path_buf(),
        sms.path().parent().unwrap().to_path_buf(),
        PathBuf::from("/"),
    ] {
        let r = build(&sms, &out);
        assert_eq!(r.code, 2, "{}: {}", out.display(), r.stderr);
        assert!(r.stderr.contains("refusing"), "{}", r.stderr);
    }
    // A symbolic link.
    #[cfg(unix)]
    {
        let target = other.path().join("target");
        std::fs::create_dir(&target).unwrap();
        let link = other.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let r = build(&sms, &link);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
    }
    // An empty folder is fine.
    let empty = other.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert_eq!(build(&sms, &empty).code, 1);
    assert!(empty.join("index.html").is_file());
}

#[test]
fn a_failed_build_leaves_the_previous_site_intact() {
    let sms = fixture();
    assert_eq!(build(&sms, Path::new("_site")).code, 1);
    let before = read(&sms.path().join("_site"), "index.html");
    // A custom template that uses an undefined value fails the build (strict undefined).
    sms.file(
        "templates/findings.html",
        "{% extends \"base.html\" %}{% block main %}{{ page.no_such_field }}{% endblock %}",
    );
    let r = build(&sms, Path::new("_site"));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("findings.html"), "{}", r.stderr);
    assert_eq!(read(&sms.path().join("_site"), "index.html"), before);
    let names: Vec<String> = std::fs::read_dir(sms.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("_site"))
        .collect();
    assert_eq!(names, ["_site"], "no temporary folder is left behind");
}

#[test]
fn custom_templates_are_used_and_listed_with_their_hash() {
    let sms = fixture();
    let custom =
        "{% extends \"base.html\" %}{% block main %}<h1>Our own findings page</h1>{% endblock %}";
    sms.file("templates/findings.html", custom);
    assert_eq!(build(&sms, Path::new("_site")).code, 1);
    let site = sms.path().join("_site");
    assert!(read(&site, "findings.html").contains("Our own findings page"));
    let index = read(&site, "index.html");
    let hash: String = {
        use sha2::Digest;
        sha2::Sha256::digest(custom.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    assert!(
        index.contains("Custom templates") && index.contains(&hash),
        "{}",
        main_of(&index)
    );
}

#[test]
fn a_site_inside_the_sms_is_never_read_as_a_source() {
    let sms = fixture();
    // A README.md without frontmatter linked from a document is copied into the site as a file.
    sms.file("policies/notes/README.md", "# Notes\n");
    sms.edit(
        "policies/change.md",
        "See [the steps]",
        "See [notes](notes/README.md), [the steps]",
    );
    let first = sms.check_json();
    assert_eq!(build(&sms, Path::new("docs-site")).code, 1);
    assert!(sms
        .path()
        .join("docs-site/files/policies/notes/README.md")
        .is_file());
    let second = sms.check_json();
    assert_eq!(
        first.codes(),
        second.codes(),
        "the built site changed the findings"
    );
}

#[test]
fn since_needs_git_history() {
    let sms = fixture();
    let r = sms.run("build", &["--since", "HEAD~1"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("needs git history"), "{}", r.stderr);
}

fn git(dir: &Path, args: &[&str], date: &str) {
    git_at(dir, args, date);
}

/// `git init` on branch main, then commit everything at `date`.
fn git_init_and_commit(dir: &Path, message: &str, date: &str) {
    git(dir, &["init", "-q", "-b", "main"], date);
    git(dir, &["add", "-A"], date);
    git(dir, &["commit", "-q", "-m", message], date);
}

#[test]
fn changes_since_a_revision_and_version_history_come_from_git() {
    let sms = fixture();
    let dir = sms.path();
    std::fs::write(dir.join(".gitignore"), "_site/\n").unwrap();
    git_init_and_commit(dir, "First version", "2026-01-05T10:00:00+00:00");
    git(dir, &["tag", "audit-2026"], "2026-01-05T10:00:00+00:00");
    sms.edit(
        "procedures/change.md",
        "version: \"1.0\"",
        "version: \"1.1\"",
    );
    sms.edit(
        "procedures/change.md",
        "2. Assess it.",
        "2. Assess it.\n3. Approve it.",
    );
    sms.file(
        "records/incident/INC-2.yaml",
        "id: INC-2\nkind: incident\ndate: 2026-11-01\ntitle: Disk full\nstatus: open\npriority: P3\nservice: Hosting\n",
    );
    sms.remove("records/problem/PRB-1.yaml");
    git(dir, &["add", "-A"], "2026-02-01T10:00:00+00:00");
    git(
        dir,
        &["commit", "-q", "-m", "Revise the change procedure"],
        "2026-02-01T10:00:00+00:00",
    );
    let r = sms.run("build", &["--since", "audit-2026"]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let site = dir.join("_site");
    let changes = main_of(&read(&site, "changes.html"));
    // The tag is shown with the commit it names, and that commit's date.
    let tagged = String::from_utf8(
        Command::new("git")
            .current_dir(dir)
            .args(["rev-parse", "audit-2026^{commit}"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let tagged = tagged.trim();
    assert_eq!(tagged.len(), 40, "{tagged}");
    assert!(
        changes.contains(&format!("(commit <code>{tagged}</code>, 2026-01-05)")),
        "the tag's commit is not shown:\n{changes}"
    );
    for needle in [
        "Changes since audit-2026",
        "1 added, 1 changed, 1 removed",
        "v1.0 approved",
        "v1.1 approved",
        "INC-2",
        "PRB-1",
    ] {
        assert!(changes.contains(needle), "{needle:?} missing:\n{changes}");
    }
    assert!(read(&site, "index.html").contains("href=\"changes.html\""));
    let doc = main_of(&read(&site, "documents/PRO-CHG.html"));
    assert!(
        doc.contains("Version history")
            && doc.contains("Revise the change procedure")
            && doc.contains("First version"),
        "{doc}"
    );
    check_links(&site);
    // Committed and clean: no DRAFT banner. An uncommitted edit rendered with --allow-dirty:
    // every page says DRAFT.
    assert!(!read(&site, "index.html").contains("draft-banner"));
    sms.edit(
        "procedures/change.md",
        "3. Approve it.",
        "3. Approve it.\n4. Close it.",
    );
    let r = sms.run("build", &["--allow-dirty"]);
    assert!(r.stderr.contains("DRAFT"), "{}", r.stderr);
    for page in ["index.html", "documents/POL-CHG.html", "records/INC-2.html"] {
        assert!(
            read(&site, page).contains("<div class=\"draft-banner\""),
            "{page}"
        );
    }
}

// ---------------------------------------------------------------- serve

struct Served {
    child: std::process::Child,
    port: u16,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(sms: &Sms) -> Served {
    serve_logged(sms, Stdio::null())
}

/// `serve`, with its stderr (the build log) going to `stderr`.
fn serve_logged(sms: &Sms, stderr: Stdio) -> Served {
    let mut child = auditbook()
        .arg("serve")
        .arg(sms.path())
        .args(["--port", "0", "--as-of", AS_OF])
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("start auditbook serve");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("serve prints its address");
    let port = line
        .rsplit(':')
        .next()
        .and_then(|p| p.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    Served { child, port }
}

/// One HTTP/1.1 request to 127.0.0.1 with a given Host; (status, body).
fn http(port: u16, host: &str, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|x| x.1.to_string())
        .unwrap_or_default();
    (status, body)
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn serve_answers_localhost_only_and_rebuilds_on_change() {
    let sms = fixture();
    let server = serve(&sms);
    let port = server.port;
    let host = format!("127.0.0.1:{port}");

    let (code, body) = http(port, &host, "/");
    assert_eq!(code, 200);
    assert!(body.contains("Test Ltd"), "{body}");
    assert!(
        body.contains("<script src=\"/__auditbook/reload.js\"></script>"),
        "reload script injected"
    );
    assert!(
        body.contains("default-src 'none'; connect-src 'self';"),
        "the poll is allowed"
    );
    assert_eq!(
        http(
            port,
            &format!("localhost:{port}"),
            "/documents/POL-CHG.html"
        )
        .0,
        200
    );
    // DNS rebinding: any other Host is refused.
    assert_eq!(http(port, "evil.example", "/").0, 403);
    assert_eq!(http(port, &format!("evil.example:{port}"), "/").0, 403);
    // Nothing outside the output folder.
    for p in [
        "/../sms.yaml",
        "/%2e%2e/sms.yaml",
        "/..%2fsms.yaml",
        "/.auditbook-site",
        "/%00",
    ] {
        assert_eq!(http(port, &host, p).0, 404, "{p}");
    }
    // The built files on disk carry no reload script.
    assert!(!read(&sms.path().join("_site"), "index.html").contains("reload.js"));

    let version = |port| http(port, &host, "/__auditbook/version").1;
    let v0 = version(port);
    sms.edit(
        "procedures/change.md",
        "title: Document PRO-CHG",
        "title: Renamed procedure",
    );
    wait_for("the rebuild after an edit", || {
        version(port) != v0
            && http(port, &host, "/documents/PRO-CHG.html")
                .1
                .contains("Renamed procedure")
    });
    // A broken document: the server keeps going and the finding is on the page.
    sms.file("procedures/change.md", "---\nid: PRO-CHG\ntitle: Broken\n");
    wait_for("the finding of the broken document", || {
        let (code, page) = http(port, &host, "/findings.html");
        code == 200 && page.contains("frontmatter-unclosed")
    });
    let (code, gone) = http(port, &host, "/documents/PRO-CHG.html");
    assert_eq!(code, 404);
    assert!(gone.contains("frontmatter"), "{gone}");
    // A broken sms.yaml: the previous site stays, with the error on every page.
    sms.file("sms.yaml", "organisation: [unclosed\n");
    wait_for("the failed rebuild", || {
        let (code, page) = http(port, &host, "/index.html");
        code == 200 && page.contains("The last rebuild failed")
    });
    // Fixed again: the banner goes away.
    sms.file("sms.yaml", MINIMAL_CONFIG);
    wait_for("the repaired rebuild", || {
        let (code, page) = http(port, &host, "/index.html");
        code == 200 && !page.contains("The last rebuild failed")
    });
}

/// Every file of two site folders, compared byte for byte.
fn assert_same_site(served: &Path, fresh: &Path, step: &str) {
    let (a, b) = (files(served), files(fresh));
    assert_eq!(
        a, b,
        "{step}: the served site and a fresh build hold different files"
    );
    for f in &a {
        let x = std::fs::read(served.join(f)).unwrap();
        let y = std::fs::read(fresh.join(f)).unwrap();
        assert!(
            x == y,
            "{step}: {f} differs between the served site and a fresh build:\n--- served\n{}\n--- fresh\n{}",
            String::from_utf8_lossy(&x),
            String::from_utf8_lossy(&y)
        );
    }
}

/// (inode, modification time) of a file: unchanged when the file was not written.
fn identity(p: &Path) -> (u64, std::time::SystemTime) {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(p).unwrap();
    (m.ino(), m.modified().unwrap())
}

#[test]
fn serve_rebuilds_incrementally_and_matches_a_fresh_build() {
    let sms = fixture();
    let dir = sms.path();
    std::fs::write(dir.join(".gitignore"), "_site/\n").unwrap();
    let t = "2026-01-05T10:00:00+00:00";
    git_init_and_commit(dir, "First version", t);

    let log = dir.join("..").join(format!(
        "{}-serve.log",
        dir.file_name().unwrap().to_string_lossy()
    ));
    let server = serve_logged(&sms, Stdio::from(std::fs::File::create(&log).unwrap()));
    let builds = || -> Vec<String> {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("built in"))
            .map(String::from)
            .collect()
    };
    wait_for("the first build", || builds().len() == 1);
    assert!(builds()[0].contains("(folder replaced)"), "{:?}", builds());
    let served = dir.join("_site");
    let fresh = tempfile::tempdir().unwrap();
    let compare = |step: &str| {
        let out = fresh.path().join("site");
        let r = sms.run("build", &["--allow-dirty", "--out", out.to_str().unwrap()]);
        assert!(r.code == 0 || r.code == 1, "{step}: {}", r.stderr);
        assert_same_site(&served, &out, step);
    };
    compare("first build");

    // Each step: one change, then the rebuilds it causes (their log lines; a change that lands
    // as two bursts of events gives two), then the comparison.
    let mut seen = 1;
    let mut step = |what: &str, change: &dyn Fn()| -> String {
        change();
        wait_for(what, || builds().len() > seen);
        loop {
            let n = builds().len();
            std::thread::sleep(Duration::from_millis(1000));
            if builds().len() == n {
                break;
            }
        }
        let all = builds();
        let lines = all[seen..].join("\n");
        seen = all.len();
        compare(what);
        lines
    };

    // The first edit of a clean tree makes every page a DRAFT: every page is rendered again.
    let untouched = served.join("records/PRB-1.html");
    let line = step("a body edit", &|| {
        sms.edit(
            "procedures/change.md",
            "2. Assess it.",
            "2. Assess it.\n3. Approve it.",
        );
    });
    assert!(line.contains("1 changed file read again"), "{line}");
    assert!(line.contains("DRAFT"), "{line}");
    assert!(read(&served, "documents/PRO-CHG.html").contains("Approve it."));
    assert!(read(&served, "findings.html").contains("uncommitted-changes"));

    // Later edits render and write only what they change.
    let before = identity(&untouched);
    let line = step("a title edit", &|| {
        sms.edit(
            "procedures/change.md",
            "title: Document PRO-CHG",
            "title: Renamed procedure",
        );
    });
    assert!(line.contains("1 changed file read again"), "{line}");
    let line = line
        .lines()
        .find(|l| l.contains("1 changed file read again"))
        .unwrap();
    let rendered: usize = line
        .split(" of ")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no page count in {line:?}"));
    let total: usize = line
        .split(" of ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no page count in {line:?}"));
    assert!(rendered > 0 && rendered < total, "{line}");
    assert_eq!(
        identity(&untouched),
        before,
        "an unchanged page was written again"
    );
    assert!(read(&served, "documents.html").contains("Renamed procedure"));

    // Record pages keep their keys when no record changed and nothing they look up did; a
    // document edit that changes what a record page shows (the title of a document it names, a
    // finding once the name no longer resolves, and back) must still rewrite it.
    step("a title a record page shows", &|| {
        sms.edit(
            "policies/change.md",
            "title: Document POL-CHG",
            "title: Renamed policy",
        );
    });
    assert!(read(&served, "records/INC-1.html").contains("Renamed policy"));
    step("a document a record names is renamed", &|| {
        sms.edit("policies/change.md", "id: POL-CHG", "id: POL-GONE");
    });
    assert!(!read(&served, "records/INC-1.html").contains("Renamed policy"));
    step("and named again", &|| {
        sms.edit("policies/change.md", "id: POL-GONE", "id: POL-CHG");
    });
    assert!(read(&served, "records/INC-1.html").contains("Renamed policy"));
    step("a document's clauses (coverage on record pages)", &|| {
        sms.edit(
            "policies/change.md",
            "clauses: [\"8.5.1.1\"]",
            "clauses: []",
        );
    });
    step("a document's body only", &|| {
        sms.edit(
            "policies/change.md",
            "## Risk assessment",
            "One more line.\n\n## Risk assessment",
        );
    });

    let line = step("a record edit", &|| {
        sms.edit(
            "records/incident/INC-1.yaml",
            "status: closed",
            "status: resolved",
        );
    });
    assert!(line.contains("1 changed file read again"), "{line}");

    // A deleted document: its page goes.
    let line = step("a deleted document", &|| {
        sms.remove("plans/draft.md");
    });
    assert!(line.contains("1 removed"), "{line}");
    assert!(!served.join("documents/PLN-DRAFT.html").exists());

    // A new file: only git knows whether it is ignored, so the SMS is read again in full; the
    // site is still updated in place.
    let line = step("a new record", &|| {
        sms.file(
            "records/incident/INC-9.yaml",
            "id: INC-9\nkind: incident\ndate: 2026-11-02\ntitle: Printer on fire\nstatus: open\npriority: P1\nservice: Hosting\n",
        );
    });
    assert!(
        line.contains("read ") && line.contains("git's status"),
        "{line}"
    );
    assert!(!line.contains("folder replaced"), "{line}");
    assert!(served.join("records/INC-9.html").exists());

    // A commit: the history is read again.
    let line = step("a commit of everything", &|| {
        git(dir, &["add", "-A"], "2026-02-01T10:00:00+00:00");
        git(
            dir,
            &["commit", "-q", "-m", "Second version"],
            "2026-02-01T10:00:00+00:00",
        );
        // A commit alone changes no watched file: touch one so that serve rebuilds.
        sms.edit(
            "records/problem/PRB-1.yaml",
            "workaround: Move volumes",
            "workaround: Move the volumes",
        );
    });
    assert!(line.contains("HEAD moved"), "{line}");
    drop(server);
    let _ = std::fs::remove_file(&log);
}

#[test]
fn build_renders_head_unless_allow_dirty() {
    let sms = fixture();
    let dir = sms.path();
    std::fs::write(dir.join(".gitignore"), "_site/\n").unwrap();
    let t = "2026-01-05T10:00:00+00:00";
    git_init_and_commit(dir, "First version", t);
    let committed = tempfile::tempdir().unwrap();
    let r = build(&sms, &committed.path().join("site"));
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);

    // Uncommitted work: a changed title, a new document and a changed image.
    sms.edit(
        "procedures/change.md",
        "title: Document PRO-CHG",
        "title: Work in progress",
    );
    sms.file(
        "plans/new.md",
        &doc("PLN-NEW", &["8.1"], "", "Not committed."),
    );
    sms.bytes(
        "policies/img/flow.png",
        b"\x89PNG\r\n\x1a\nnot the committed image",
    );
    let head = tempfile::tempdir().unwrap();
    let r = build(&sms, &head.path().join("site"));
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("3 uncommitted changes left out (the site shows HEAD)")
            && r.stderr.contains("--allow-dirty"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("DRAFT:"), "{}", r.stderr);
    // Byte for byte the site of the commit: the work tree does not show.
    assert_same_site(
        &head.path().join("site"),
        &committed.path().join("site"),
        "HEAD",
    );
    let index = read(&head.path().join("site"), "index.html");
    assert!(!index.contains("draft-banner"), "HEAD's site is no DRAFT");

    // --allow-dirty: the work tree, marked DRAFT on every page.
    let dirty = tempfile::tempdir().unwrap();
    let out = dirty.path().join("site");
    let r = sms.run("build", &["--allow-dirty", "--out", out.to_str().unwrap()]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    assert!(r.stderr.contains("DRAFT"), "{}", r.stderr);
    assert!(read(&out, "documents/PRO-CHG.html").contains("Work in progress"));
    assert!(out.join("documents/PLN-NEW.html").exists());
    assert!(read(&out, "index.html").contains("<div class=\"draft-banner\""));
    assert!(std::fs::read(out.join("files/policies/img/flow.png"))
        .unwrap()
        .ends_with(b"not the committed image"));
}

#[test]
fn a_document_in_revision_shows_the_text_in_force_and_its_draft_apart() {
    // DESIGN "Effective version": while a new revision is in draft, the site shows the
    // approved text in force, and the draft on a separate, clearly marked page.
    let sms = fixture();
    let dir = sms.path();
    std::fs::write(dir.join(".gitignore"), "_site/\n").unwrap();
    sms.file(
        "policies/rev.md",
        &doc("POL-REV", &["5.2"], "", "The approved wording."),
    );
    git_init_and_commit(dir, "Approve", "2026-01-05T10:00:00+00:00");
    sms.file(
        "policies/rev.md",
        &doc("POL-REV", &["5.2", "5.3"], "", "The proposed wording.")
            .replace("version: \"1.0\"", "version: \"1.1\"")
            .replace(
                "status: approved\napproved: 2026-01-05\n",
                "status: draft\n",
            ),
    );
    git(dir, &["add", "-A"], "2026-02-01T10:00:00+00:00");
    git(
        dir,
        &["commit", "-q", "-m", "Draft 1.1"],
        "2026-02-01T10:00:00+00:00",
    );
    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    let r = build(&sms, &site);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);

    let in_force = main_of(&read(&site, "documents/POL-REV.html"));
    assert!(in_force.contains("The approved wording."), "{in_force}");
    assert!(!in_force.contains("The proposed wording."), "{in_force}");
    assert!(in_force.contains("version 1.0"), "{in_force}");
    assert!(
        in_force.contains("href=\"../documents/POL-REV~draft.html\""),
        "{in_force}"
    );

    let draft = main_of(&read(&site, "documents/POL-REV~draft.html"));
    assert!(draft.contains("The proposed wording."), "{draft}");
    assert!(draft.contains("DRAFT — not in force"), "{draft}");
    // Built from HEAD: the draft is committed text, not the work tree's.
    assert!(draft.contains("shows the committed text"), "{draft}");
    assert!(!draft.contains("work-tree"), "{draft}");
    assert!(
        draft.contains("href=\"../documents/POL-REV.html\""),
        "{draft}"
    );
    assert!(read(&site, "documents/POL-REV~draft.html").contains("<title>DRAFT POL-REV"));
    // Search finds each wording on its own page.
    let index = crate::search::Index::load(&site);
    let urls = |q: &str| index.urls(q).join(" ");
    assert!(
        urls("proposed wording").contains("documents/POL-REV~draft.html"),
        "draft not indexed"
    );
    assert!(!urls("proposed wording").contains("documents/POL-REV.html"));
    assert!(urls("approved wording").contains("documents/POL-REV.html"));
    // A document not in revision has one page only.
    assert!(!site.join("documents/POL-CHG~draft.html").exists());
    assert!(check_links(&site) > 0);
}

// ---------------------------------------------------------------- a real browser

/// Headless Chromium, or `None` (locally) when it is not installed. Under CI it must be there.
pub(crate) fn chromium() -> Option<PathBuf> {
    for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(p).is_file() {
            return Some(PathBuf::from(p));
        }
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true but chromium is not installed (apt-get install -y chromium); the browser test must run in CI");
    }
    None
}

pub(crate) struct Visit {
    pub dom: String,
    /// Console messages of the page (errors, CSP violations, logs).
    pub console: Vec<String>,
    /// Network requests the page made (anything but file: and data:).
    pub requests: Vec<String>,
}

/// Open `url` in a fresh headless Chromium, let scripts run, and return the DOM, the console
/// and the page's network requests (from Chromium's net log). DNS is mapped to nothing, so no
/// request could leave the machine even if one were made.
pub(crate) fn visit(chromium: &Path, url: &str) -> Visit {
    visit_with(chromium, url, &[])
}

/// [`visit`] with extra Chromium switches.
pub(crate) fn visit_with(chromium: &Path, url: &str, extra: &[&str]) -> Visit {
    let profile = tempfile::tempdir().unwrap();
    let netlog = profile.path().join("net.json");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
        ])
        .arg(format!(
            "--user-data-dir={}",
            profile.path().join("profile").display()
        ))
        .arg(format!("--log-net-log={}", netlog.display()))
        .args(extra)
        .arg("--dump-dom")
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s on {url}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let dom = out_thread.join().unwrap();
    let err = err_thread.join().unwrap();
    let console = err
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    let mut requests = Vec::new();
    if let Ok(text) = std::fs::read_to_string(&netlog) {
        let log: serde_json::Value = serde_json::from_str(&text).expect("the net log is JSON");
        let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].as_u64();
        for e in log["events"].as_array().into_iter().flatten() {
            if e["type"].as_u64() != start_job {
                continue;
            }
            let url = e["params"]["url"].as_str().unwrap_or("");
            let initiator = e["params"]["initiator"].as_str().unwrap_or("");
            // Chromium's own background requests have no origin; a page's have one ("null"
            // for file: pages).
            if !url.is_empty()
                && initiator != "not an origin"
                && !url.starts_with("file:")
                && !url.starts_with("data:")
            {
                requests.push(url.to_string());
            }
        }
    } else {
        panic!("chromium wrote no net log for {url}");
    }
    assert!(
        dom.contains("</html>"),
        "chromium returned no DOM for {url}: {err}"
    );
    Visit {
        dom,
        console,
        requests,
    }
}

/// A page visit printed nothing to the console (no error, no CSP violation) and made no request.
pub(crate) fn clean(v: &Visit, what: &str) {
    assert!(
        v.console.is_empty(),
        "{what}: console messages: {:#?}",
        v.console
    );
    assert!(
        v.requests.is_empty(),
        "{what}: network requests: {:#?}",
        v.requests
    );
}

pub(crate) fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// The first href in `html` that ends with `suffix` (before any anchor).
fn find_href(html: &str, suffix: &str) -> String {
    attr_values(html, "href")
        .into_iter()
        .find(|h| h.split('#').next().unwrap().ends_with(suffix))
        .unwrap_or_else(|| panic!("no link to {suffix}"))
}

#[test]
fn chromium_browses_the_site_offline_from_file_urls() {
    let Some(chromium) = chromium() else {
        eprintln!(
            "skipped: chromium is not installed (apt-get install -y chromium); CI runs this test"
        );
        return;
    };
    let sms = fixture();
    build(&sms, Path::new("_site"));
    let site = sms.path().join("_site").canonicalize().unwrap();
    // The dashboard, then the clause tree through its navigation link.
    let index = visit(&chromium, &file_url(&site.join("index.html")));
    clean(&index, "index.html");
    assert!(index.dom.contains("Test Ltd"));
    let tree_href = find_href(&index.dom, "clauses.html");
    let tree = visit(&chromium, &file_url(&site.join(&tree_href)));
    clean(&tree, "clauses.html");
    // A clause page, reached from the tree.
    let clause_href = find_href(&tree.dom, "clauses/8.5.1.1.html");
    let clause = visit(&chromium, &file_url(&site.join(&clause_href)));
    clean(&clause, "clause page");
    assert!(clause.dom.contains("Change management policy") || clause.dom.contains("8.5.1.1"));
    // A document page, reached from the clause page; its headings carry their anchors.
    let doc_href = find_href(&clause.dom, "documents/POL-CHG.html");
    let doc_path = site.join("clauses").join(&doc_href);
    let document = visit(&chromium, &file_url(&doc_path));
    clean(&document, "document page");
    assert!(document.dom.contains("id=\"risk-assessment\""));
    assert!(document
        .dom
        .contains("src=\"../files/policies/img/flow.png\""));

    // Search, from the query in the URL: the script renders results into the DOM.
    let search = visit(
        &chromium,
        &format!("{}?q=risk", file_url(&site.join("search.html"))),
    );
    clean(&search, "search");
    assert!(
        search
            .dom
            .contains("href=\"documents/POL-CHG.html#risk-assessment\""),
        "no search result:\n{}",
        search.dom
    );
    assert!(search.dom.contains("result"), "{}", search.dom);
    // The excerpt is the text around the match, the match marked.
    assert!(
        search.dom.contains("<mark>risk</mark>") || search.dom.contains("<mark>Risk</mark>"),
        "no marked match:\n{}",
        search.dom
    );
    // Following the result (its href, resolved against search.html) opens the section's page.
    let hit = find_href(&search.dom, "documents/POL-CHG.html");
    assert_eq!(hit, "documents/POL-CHG.html#risk-assessment");
    let opened = visit(&chromium, &file_url(&site.join(&hit)));
    clean(&opened, "search result");
    assert!(opened.dom.contains("id=\"risk-assessment\""));
    // Sorting script ran on a table page (it wraps headers in buttons).
    let register = visit(&chromium, &file_url(&site.join("documents.html")));
    clean(&register, "register");
    assert!(
        register.dom.contains("sortable-header"),
        "the sort script did not run"
    );

    // The findings page filters its tables from `?filter=`: only rows with the word stay shown.
    let filtered = visit(
        &chromium,
        &format!(
            "{}?filter=clause-undocumented",
            file_url(&site.join("findings.html"))
        ),
    );
    clean(&filtered, "findings, filtered");
    let rows: Vec<&str> = filtered
        .dom
        .split("<tr class=\"sev-")
        .skip(1)
        .map(|r| &r[..r.find("</tr>").unwrap()])
        .collect();
    assert!(rows.len() > 1, "{}", filtered.dom);
    for row in &rows {
        assert_eq!(
            row.contains("clause-undocumented"),
            !row.contains(" hidden=\"\""),
            "{row}"
        );
    }
    assert!(
        rows.iter().any(|r| r.contains("clause-undocumented")),
        "{rows:#?}"
    );
    assert!(
        rows.iter().any(|r| !r.contains("clause-undocumented")),
        "{rows:#?}"
    );

    // The planted script does not run, nor does any handler.
    let evil = visit(&chromium, &file_url(&site.join("documents/POL-EVIL.html")));
    clean(&evil, "hostile document");
    assert!(!evil.dom.contains("PWNED"), "{}", evil.dom);
    assert!(!evil.dom.contains("data-pwned"), "{}", evil.dom);
    assert!(
        evil.dom.contains("<title>POL-EVIL Document POL-EVIL"),
        "{}",
        evil.dom
    );
}

/// Counts read as English: "1 draft", never "1 drafts", on every page of the site.
#[test]
fn counts_of_one_are_singular() {
    let sms = fixture();
    build(&sms, Path::new("_site"));
    let site = sms.path().join("_site");
    let index = read(&site, "index.html");
    assert!(
        index.contains("1 draft or in review"),
        "{}",
        main_of(&index)
    );
    let found = plural_after_one(&site);
    assert!(found.is_empty(), "{found:#?}");
}

/// Every "1 <word>s" that our templates could write (the nouns they count), page by page.
fn plural_after_one(site: &Path) -> Vec<String> {
    const NOUNS: &[&str] = &[
        "documents",
        "drafts",
        "records",
        "warnings",
        "notes",
        "errors",
        "kinds",
        "findings",
        "days",
    ];
    let mut bad = Vec::new();
    for rel in files(site).into_iter().filter(|f| f.ends_with(".html")) {
        let text = read(site, &rel);
        for noun in NOUNS {
            for lead in [">1 ", " 1 ", "(1 "] {
                let needle = format!("{lead}{noun}");
                if text.contains(&needle) {
                    bad.push(format!("{rel}: `{needle}`"));
                }
            }
        }
    }
    bad
}

/// Every finding code has a page that explains it (the text of `auditbook explain`), and the
/// findings page counts findings by code and links each code to its page.
#[test]
fn finding_codes_are_explained_on_the_site() {
    let sms = fixture();
    build(&sms, Path::new("_site"));
    let site = sms.path().join("_site");
    let json = sms.check_json().json();
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for f in json["findings"].as_array().unwrap() {
        *counts
            .entry(f["code"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert!(counts.len() > 2, "{counts:?}");
    let findings = read(&site, "findings.html");
    for (code, n) in &counts {
        let row = format!("<tr><td><a href=\"codes/{code}.html\"><code>{code}</code></a></td>");
        let at = findings
            .find(&row)
            .unwrap_or_else(|| panic!("no by-code row for {code}"));
        let row_text = &findings[at..at + findings[at..].find("</tr>").unwrap()];
        assert!(
            row_text.contains(&format!("<td class=\"num\">{n}</td>")),
            "{row_text}"
        );
        let page = read(&site, &format!("codes/{code}.html"));
        let explain = {
            let mut c = auditbook();
            c.args(["explain", code]);
            run(c).stdout
        };
        // The explanation (`explain`'s second paragraph) appears on the page, as HTML.
        let paragraphs: Vec<&str> = explain.split("\n\n").collect();
        let want = as_html(paragraphs[2].trim());
        assert!(page.contains(&want), "codes/{code}.html lacks `{want}`");
        assert_eq!(
            page.matches("<tr class=\"sev-").count(),
            *n,
            "codes/{code}.html lists its findings"
        );
    }
    // A code with no finding still has its page.
    let list = {
        let mut c = auditbook();
        c.args(["explain", "--list"]);
        run(c).stdout
    };
    for line in list.lines() {
        let code = line.split_whitespace().next().unwrap();
        assert!(site.join(format!("codes/{code}.html")).is_file(), "{code}");
    }
}

/// Registry prose as the site writes it: escaped, `code` spans as <code>.
fn as_html(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    let mut out = String::new();
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str(&format!("<code>{part}</code>"));
        } else {
            out.push_str(part);
        }
    }
    out
}

/// On a phone (390 CSS pixels wide) no page type scrolls sideways, even with a wide table, a long
/// unbroken word and a long code line in a document; a document page has exactly one `h1`.
/// A probe page frames each page at that width and reads its layout (file: pages may read each
/// other only with --allow-file-access-from-files, which the probe, not the site, needs).
#[test]
fn pages_fit_a_390_pixel_screen() {
    let Some(chromium) = chromium() else {
        eprintln!(
            "skipped: chromium is not installed (apt-get install -y chromium); CI runs this test"
        );
        return;
    };
    let sms = fixture();
    let wide_row = |c: &str| format!("|{}|\n", [c; 12].join("|"));
    let body = format!(
        "## Wide things\n\n{}{}{}\nA{}Z\n\n```\n{}\n```\n",
        wide_row("Column heading"),
        wide_row("---"),
        wide_row("a long cell value"),
        "x".repeat(300),
        "let long_line = ".to_string() + &"0".repeat(300)
    );
    sms.file("policies/wide.md", &doc("POL-WIDE", &["8.2.1"], "", &body));
    build(&sms, Path::new("_site"));
    let site = sms.path().join("_site");
    let pages = [
        "index.html",
        "clauses.html",
        "clauses/8.2.1.html",
        "documents.html",
        "documents/POL-WIDE.html",
        "documents/POL-CHG.html",
        "documents/PLN-DRAFT.html",
        "records.html",
        "kinds/incident.html",
        "records/INC-1.html",
        "findings.html",
        "codes/clause-undocumented.html",
        "matrix.html",
        "search.html",
    ];
    let probe_dir = tempfile::tempdir().unwrap();
    let urls: Vec<String> = pages.iter().map(|p| file_url(&site.join(p))).collect();
    // One frame, one page after another: each is measured after its load event.
    let probe = format!(
        r#"<!doctype html><html><body><iframe id="f" style="width:390px;height:700px;border:0"></iframe><pre id="out"></pre><script>
var pages = {pages}, urls = {urls}, i = 0, f = document.getElementById("f"), out = document.getElementById("out");
function measure() {{
  var d = f.contentDocument, e = d.documentElement;
  var h1 = d.querySelectorAll("h1").length;
  var wide = Array.prototype.filter.call(d.querySelectorAll("body *"), function (x) {{
    var r = x.getBoundingClientRect(); return r.right > e.clientWidth + 1 && r.width > 0 && !(x.parentElement && x.parentElement.closest(".table-wrap, .matrix-wrap, pre, .doc-body table"));
  }}).slice(0, 3).map(function (x) {{ return x.tagName + "." + x.className; }});
  out.textContent += "PAGE " + pages[i] + " scroll=" + e.scrollWidth + " client=" + e.clientWidth + " h1=" + h1 + " wide=" + wide.join(",") + "\n";
  i += 1;
  if (i < urls.length) f.src = urls[i]; else out.textContent += "ALL" + "-MEASURED\n";
}}
f.addEventListener("load", measure);
f.src = urls[0];
</script></body></html>"#,
        pages = serde_json::to_string(&pages).unwrap(),
        urls = serde_json::to_string(&urls).unwrap(),
    );
    let probe_path = probe_dir.path().join("probe.html");
    std::fs::write(&probe_path, probe).unwrap();
    let v = visit_with(
        &chromium,
        &file_url(&probe_path),
        &["--allow-file-access-from-files", "--window-size=1200,900"],
    );
    assert!(
        v.dom.contains("ALL-MEASURED"),
        "the probe did not finish:\n{}\n{:#?}",
        v.dom,
        v.console
    );
    for p in pages {
        let line = v
            .dom
            .lines()
            .find_map(|l| l.find(&format!("PAGE {p} ")).map(|at| &l[at..]))
            .unwrap_or_else(|| panic!("no measure of {p}:\n{}", v.dom));
        let num = |k: &str| -> u32 {
            let at = line.find(&format!(" {k}=")).unwrap() + k.len() + 2;
            line[at..].split(' ').next().unwrap().parse().unwrap()
        };
        assert!(
            num("scroll") <= num("client"),
            "{p} scrolls sideways at 390 px: {line}"
        );
        if p.starts_with("documents/") {
            assert_eq!(num("h1"), 1, "{p}: {line}");
        }
    }
}

/// The traceability matrix with many documents: filtered by clause group and document from the
/// address, and, scrolled both ways, the corner cell stays on top of the header row and the
/// header row on top of the clause column and the cells.
#[test]
fn matrix_filters_and_keeps_its_headers_on_top() {
    let Some(chromium) = chromium() else {
        eprintln!(
            "skipped: chromium is not installed (apt-get install -y chromium); CI runs this test"
        );
        return;
    };
    let sms = fixture();
    for i in 0..60 {
        sms.file(
            &format!("policies/p{i:02}.md"),
            &doc(&format!("POL-X{i:02}"), &["8.2.1", "5.1"], "", "Text."),
        );
    }
    build(&sms, Path::new("_site"));
    let site = sms.path().join("_site");

    let filtered = visit(
        &chromium,
        &format!("{}?group=8&doc=X07", file_url(&site.join("matrix.html"))),
    );
    clean(&filtered, "matrix, filtered");
    let body = &filtered.dom[filtered.dom.find("<tbody").unwrap()..];
    let rows: Vec<&str> = body.split("<tr ").skip(1).collect();
    assert!(rows.len() > 70, "{}", rows.len());
    for row in &rows {
        let tag = &row[..row.find('>').unwrap()];
        let in_8 = tag.contains("data-group=\"8\"");
        assert_eq!(tag.contains(" hidden=\"\""), !in_8, "{tag}");
    }
    let head =
        &filtered.dom[filtered.dom.find("<thead").unwrap()..filtered.dom.find("</thead>").unwrap()];
    let cols: Vec<&str> = head
        .split("<th scope=\"col\" class=\"doc-col\"")
        .skip(1)
        .collect();
    assert!(cols.len() > 60, "{}", cols.len());
    for col in &cols {
        let tag = &col[..col.find('>').unwrap()];
        assert_eq!(
            col.contains("POL-X07"),
            !tag.contains("hidden=\"\""),
            "{tag}"
        );
    }
    assert!(
        filtered.dom.contains(" clauses × 1 document shown"),
        "{}",
        filtered.dom
    );

    // Layering: scroll the matrix both ways and ask which element is drawn at three points.
    let probe_dir = tempfile::tempdir().unwrap();
    let probe = format!(
        r#"<!doctype html><html><body><iframe id="f" src="{url}" style="width:800px;height:600px;border:0"></iframe><pre id="out"></pre><script>
var f = document.getElementById("f"), out = document.getElementById("out");
f.addEventListener("load", function () {{
  var d = f.contentDocument, wrap = d.querySelector(".matrix-wrap");
  wrap.scrollLeft = 400; wrap.scrollTop = 300;
  setTimeout(function () {{
    var corner = d.querySelector("th.corner").getBoundingClientRect();
    var head = d.querySelectorAll("thead th.doc-col");
    var w = wrap.getBoundingClientRect();
    function at(x, y) {{ var e = d.elementFromPoint(x, y); var th = e && e.closest("th, td"); return th ? (th.className || th.tagName) + (th.closest("thead") ? "@head" : "@body") : "none"; }}
    out.textContent = "corner=" + at(corner.left + 5, corner.top + 5)
      + " header=" + at(corner.right + 30, corner.top + 5)
      + " rowhead=" + at(corner.left + 5, corner.bottom + 30)
      + " END";
  }}, 100);
}});
</script></body></html>"#,
        url = file_url(&site.join("matrix.html"))
    );
    let probe_path = probe_dir.path().join("probe.html");
    std::fs::write(&probe_path, probe).unwrap();
    let v = visit_with(
        &chromium,
        &file_url(&probe_path),
        &["--allow-file-access-from-files", "--window-size=1000,800"],
    );
    let out = &v.dom[v.dom.find("corner=").unwrap_or_else(|| panic!("{}", v.dom))..];
    let out = &out[..out.find(" END").unwrap()];
    assert_eq!(
        out, "corner=corner@head header=doc-col@head rowhead=TH@body",
        "{out}"
    );
}

/// Every page names an icon that exists in the site (a missing favicon is a 404 and a console
/// error under `serve`).
#[test]
fn every_page_has_an_icon_that_exists() {
    let sms = fixture();
    build(&sms, Path::new("_site"));
    let site = sms.path().join("_site");
    for rel in files(&site).into_iter().filter(|f| f.ends_with(".html")) {
        let html = read(&site, &rel);
        let at = html
            .find("<link rel=\"icon\" href=\"")
            .unwrap_or_else(|| panic!("{rel} has no icon link"));
        let href = &html[at + 23..];
        let href = &href[..href.find('"').unwrap()];
        let target = site.join(&rel).parent().unwrap().join(href);
        assert!(target.is_file(), "{rel}: icon {href} does not exist");
        let svg = std::fs::read_to_string(&target).unwrap();
        assert!(
            svg.starts_with("<svg ") && !svg.contains("<script"),
            "{svg}"
        );
    }
}

/// Record tables: column titles in words, ids and dates that do not wrap, a filter box, and a
/// sort affordance on every sortable header even before it is used.
#[test]
fn record_tables_read_as_tables_for_people() {
    let sms = fixture();
    build(&sms, Path::new("_site"));
    let site = sms.path().join("_site");
    let page = read(&site, "kinds/incident.html");
    assert!(
        page.contains("<th scope=\"col\">Priority</th>"),
        "{}",
        main_of(&page)
    );
    assert!(!page.contains("<th scope=\"col\">priority</th>"));
    assert!(
        page.contains("<td><a href=\"../records/INC-1.html\">INC-1</a><td>2026-10-01<td>"),
        "{}",
        main_of(&page)
    );
    assert!(page.contains("data-filter=\"table.records\""));
    let css = read(&site, "assets/style.css");
    assert!(css.contains("th.sortable-header button::after { content: \" ↕\""));
    assert!(css.contains(".kind-table td:nth-child(-n+2) { white-space: nowrap; }"));
}

#[test]
fn chromium_filters_every_page_of_a_big_table_from_file_urls() {
    // The filter of a paginated kind table reads every page's rows from a script file, which
    // works from file:// (no fetch): typing an id on page 2 finds the row on another page.
    let Some(chromium) = chromium() else {
        eprintln!(
            "skipped: chromium is not installed (apt-get install -y chromium); CI runs this test"
        );
        return;
    };
    let sms = Sms::new();
    // Titles from a few words and two statuses: the filter's data stores them as word numbers and
    // dictionary indexes, which the page decodes.
    let mut csv = String::from("id,date,title,status,priority,service\n");
    for i in 1..=1200 {
        let what = ["mail", "printer", "vpn", "disk"][i % 4];
        let how = ["down", "slow", "full"][i % 3];
        let status = ["closed", "open"][i % 2];
        csv.push_str(&format!(
            "INC-{i},2026-01-{:02},{what} {how} {},{status},P3,Mail\n",
            1 + i % 28,
            i % 100
        ));
    }
    sms.file("records/incident/2026-01.csv", &csv);
    build(&sms, Path::new("_site"));
    let js = std::fs::read_to_string(sms.path().join("_site/kinds/incident.rows.js")).unwrap();
    assert!(js.contains("{\"t\":[") && js.contains("{\"d\":["), "{js}");
    let site = sms.path().join("_site").canonicalize().unwrap();
    let page = site.join("kinds/incident~2.html");
    let plain = visit(&chromium, &file_url(&page));
    clean(&plain, "table page 2");
    assert!(!plain.dom.contains("matching record"));
    let v = visit(&chromium, &format!("{}?filter=INC-1111", file_url(&page)));
    clean(&v, "filtered table page 2");
    assert!(
        v.dom.contains("1 matching record on all pages"),
        "{}",
        v.dom
    );
    // The match links to its row of the table page that holds it.
    let end = v.dom.find("\">INC-1111</a>").expect("a link to the match");
    let start = v.dom[..end].rfind("href=\"").unwrap() + 6;
    let href = &v.dom[start..end];
    let (file, anchor) = href.split_once('#').unwrap();
    assert_eq!(anchor, "r-INC-1111");
    let target = std::fs::read_to_string(site.join("kinds").join(file)).unwrap();
    assert!(target.contains("<tr id=r-INC-1111>"), "{href}");
    // Every cell of the match, decoded.
    assert!(
        v.dom.contains(
            "<td>2026-01-20</td><td>disk slow 11</td><td>open</td><td>P3</td><td>Mail</td>"
        ),
        "{}",
        v.dom
    );
    // Words of several columns: i = 7 (mod 12), 100 rows on all pages.
    let v = visit(
        &chromium,
        &format!("{}?filter=disk+slow+open", file_url(&page)),
    );
    clean(&v, "filtered by words");
    assert!(
        v.dom.contains("100 matching records on all pages"),
        "{}",
        v.dom
    );
}
