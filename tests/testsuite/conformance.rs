//! Markup conformance of the evidence site: the Nu Html Checker (vnu.jar, the W3C validator's
//! engine) over every page of the sample SMS's site, and a check that no page has two landmarks
//! of one kind without distinct labels (axe's `landmark-unique`, which the Nu checker does not
//! test).
//!
//! The checker needs Java and the `vnu-jar` npm package (`apt-get install -y
//! default-jre-headless`, `npm install -g vnu-jar`). The jar is taken from `AUDITBOOK_VNU_JAR`,
//! else from npm's global folder. Under `CI=true` a missing checker fails the test; elsewhere the
//! test says it skipped.

use crate::support::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The sample SMS's site, built into the SMS's `_site`.
fn sample_site() -> (Sms, PathBuf) {
    let sms = Sms::sample();
    let out = sms.path().join("_site");
    let r = sms.run("build", &["--out", out.to_str().unwrap()]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    (sms, out)
}

/// Where vnu.jar is: `AUDITBOOK_VNU_JAR`, else npm's global `vnu-jar` package.
fn vnu_jar() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("AUDITBOOK_VNU_JAR") {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "AUDITBOOK_VNU_JAR={} is not a file",
            p.display()
        );
        return Some(p);
    }
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Ok(out) = Command::new("npm").args(["root", "-g"]).output() {
        if out.status.success() {
            roots.push(PathBuf::from(
                String::from_utf8_lossy(&out.stdout).trim().to_string(),
            ));
        }
    }
    roots.push(PathBuf::from("/usr/lib/node_modules"));
    roots.push(PathBuf::from("/usr/local/lib/node_modules"));
    roots
        .into_iter()
        .map(|r| r.join("vnu-jar/build/dist/vnu.jar"))
        .find(|p| p.is_file())
}

fn java_runs() -> bool {
    Command::new("java")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The checker, or `None` (with a message) when it is not installed outside CI.
fn checker() -> Option<PathBuf> {
    let jar = vnu_jar();
    let java = java_runs();
    match (jar, java) {
        (Some(jar), true) => Some(jar),
        (jar, java) => {
            let missing = match (jar.is_some(), java) {
                (false, false) => "Java and vnu.jar are",
                (false, true) => "vnu.jar is",
                (true, _) => "Java is",
            };
            let help = "apt-get install -y default-jre-headless && npm install -g vnu-jar (or set AUDITBOOK_VNU_JAR)";
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("CI=true but {missing} not installed ({help}); the conformance test must run in CI");
            }
            eprintln!("skipped: {missing} not installed ({help}); CI runs this test");
            None
        }
    }
}

#[test]
fn the_nu_html_checker_finds_no_error_in_the_sample_site() {
    let Some(jar) = checker() else {
        return;
    };
    let (_sms, site) = sample_site();
    // and a page that lists files it does not copy (one of them linked as an image)
    let listed = Sms::new();
    listed.file("policies/att/a.xsd", "<x/>");
    listed.file(
        "policies/a.md",
        &doc("POL-A", &["8.1"], "", "[x](att/a.xsd) ![i](att/a.xsd)"),
    );
    let listed_site = listed.path().join("_site");
    let r = listed.run("build", &["--out", listed_site.to_str().unwrap()]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let out = Command::new("java")
        .arg("-jar")
        .arg(&jar)
        .args(["--skip-non-html", "--errors-only", "--format", "json"])
        .arg(&site)
        .arg(listed_site.join("documents/POL-A.html"))
        .output()
        .expect("run the Nu Html Checker");
    // The JSON report goes to stderr.
    let report: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap_or_else(|e| {
        panic!(
            "the checker wrote no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let errors: Vec<String> = report["messages"]
        .as_array()
        .expect("a message list")
        .iter()
        .filter(|m| m["type"] != "info")
        .map(|m| {
            let url = m["url"].as_str().unwrap_or("");
            let page = url.rsplit("_site/").next().unwrap_or(url);
            format!(
                "{page}:{}: {}",
                m["lastLine"],
                m["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert!(
        errors.is_empty(),
        "{} conformance errors, e.g.:\n{}",
        errors.len(),
        errors
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(out.status.success(), "the checker failed: {report}");
    // It did check the pages (a checker that reads nothing would also report nothing).
    let pages = walkdir::WalkDir::new(&site)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "html"))
        .count();
    assert!(pages > 400, "{pages} pages");
}

/// (landmark kind, label) of each landmark element of a page that can occur more than once:
/// `nav`, `aside`, `form role="search"`. The label is the `aria-label`, else the
/// `aria-labelledby` id, else empty.
fn landmarks(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for tag in html.split('<').skip(1) {
        let inside = tag.split('>').next().unwrap_or_default();
        let name = inside.split([' ', '\n']).next().unwrap_or_default();
        let attr = |a: &str| {
            inside
                .split_once(&format!(" {a}=\""))
                .and_then(|(_, rest)| rest.split_once('"'))
                .map(|(v, _)| v.to_string())
        };
        let kind = match (name, attr("role").as_deref()) {
            (_, Some("search")) => "search",
            ("nav", _) | (_, Some("navigation")) => "navigation",
            ("aside", _) | (_, Some("complementary")) => "complementary",
            _ => continue,
        };
        let label = attr("aria-label")
            .or_else(|| attr("aria-labelledby").map(|id| format!("#{id}")))
            .unwrap_or_default();
        out.push((kind.to_string(), label));
    }
    out
}

#[test]
fn no_page_has_two_landmarks_of_one_kind_without_distinct_labels() {
    let (_sms, site) = sample_site();
    let mut checked = 0;
    for e in walkdir::WalkDir::new(&site)
        .into_iter()
        .filter_map(Result::ok)
    {
        if e.path().extension().is_none_or(|x| x != "html") {
            continue;
        }
        let html = std::fs::read_to_string(e.path()).unwrap();
        let mut by_kind: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (kind, label) in landmarks(&html) {
            by_kind.entry(kind).or_default().push(label);
        }
        let page = e.path().strip_prefix(&site).unwrap_or(Path::new(""));
        for (kind, labels) in &by_kind {
            if labels.len() < 2 {
                continue;
            }
            let mut distinct = labels.clone();
            distinct.sort();
            distinct.dedup();
            assert!(
                distinct.len() == labels.len() && !labels.iter().any(String::is_empty),
                "{}: {} {kind} landmarks, labels {labels:?}",
                page.display(),
                labels.len()
            );
            checked += 1;
        }
    }
    // The search page has two search forms (the header's and its own).
    assert!(checked > 0, "no page has two landmarks of one kind");
}
