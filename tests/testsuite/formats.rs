//! `--format github|sarif|junit`: each output is checked the way a real consumer would take it —
//! SARIF against the OASIS SARIF 2.1.0 JSON schema (Python `jsonschema`), JUnit against the
//! Jenkins xUnit XSD (`xmllint --schema`), GitHub workflow commands by parsing every line — and
//! parsed back to compare with the JSON report of the same run. `.ci/run` installs the validators;
//! a missing validator fails the test rather than skipping it.

use crate::support::*;
use std::path::PathBuf;
use std::process::Command;

/// The official schemas, vendored in `tests/schemas/` (origin and licence in its README).
pub(crate) fn schema(name: &str) -> PathBuf {
    let p = repo_root().join("tests/schemas").join(name);
    assert!(
        p.is_file(),
        "{} is missing from the repository",
        p.display()
    );
    p
}

pub(crate) fn write_temp(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Validate a SARIF log against the schema with Python's `jsonschema` (a real validator).
pub(crate) fn validate_sarif(text: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = write_temp(&dir, "out.sarif", text);
    let script = "import json, sys, jsonschema\nschema = json.load(open(sys.argv[1]))\nlog = json.load(open(sys.argv[2]))\njsonschema.validators.validator_for(schema)(schema).validate(log)\nprint('valid')\n";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(schema("sarif-schema-2.1.0.json"))
        .arg(&file)
        .output()
        .expect("python3 is needed to validate SARIF (.ci/run installs python3-jsonschema)");
    assert!(
        out.status.success(),
        "SARIF does not validate:\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        text
    );
}

/// `xmllint` on a JUnit report: schema validation, or an XPath query.
pub(crate) fn xmllint(args: &[&str], file: &std::path::Path) -> String {
    let out = Command::new("xmllint")
        .args(args)
        .arg(file)
        .output()
        .expect("xmllint is needed to check JUnit XML (.ci/run installs libxml2-utils)");
    assert!(
        out.status.success(),
        "xmllint {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An SMS with findings of every kind: a file whose name holds `,` `:` `%` and a space, a `type`
/// holding CR, LF, `%`, markup and a forged workflow command (it is echoed in the message), an
/// unknown clause, a non-ASCII line (character columns), and uncovered clauses (on sms.yaml:1).
fn crafted() -> Sms {
    let sms = Sms::new();
    sms.file("policies/odd, na:me 100%.md", "no frontmatter here\n");
    sms.file(
        "policies/a.md",
        &doc(
            "POL-A",
            &["8.5.1"],
            "",
            "Ünïcödé text, then a [link](doc:NOPE).",
        )
        .replace("clauses: [\"8.5.1\"]", "clauses: [\"8.5.1\", \"Z.9\"]")
        .replace(
            "type: policy",
            "type: \"pol\\r\\n::error::forged <b>&'\\\"%\"",
        ),
    );
    sms
}

fn sarif_of(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", run.stdout, run.stderr))
}

#[test]
fn sarif_validates_against_the_schema_and_parses_back() {
    let sms = crafted();
    let r = sms.run("check", &["--format", "sarif"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    validate_sarif(&r.stdout);
    let log = sarif_of(&r);
    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "auditbook");
    let rules = driver["rules"].as_array().unwrap();
    for rule in rules {
        for key in ["shortDescription", "fullDescription", "help"] {
            assert!(!rule[key]["text"].as_str().unwrap().is_empty(), "{rule}");
        }
        assert!(["error", "warning", "note"]
            .contains(&rule["defaultConfiguration"]["level"].as_str().unwrap()));
    }
    // Every result against the JSON report of the same SMS: same findings, same places.
    let json = sms.check_json();
    let findings = json.json()["findings"].as_array().unwrap().clone();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    for (res, f) in results.iter().zip(&findings) {
        let rule = &rules[res["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], res["ruleId"]);
        assert_eq!(res["ruleId"], f["code"]);
        assert_eq!(res["level"], f["severity"]);
        assert_eq!(res["partialFingerprints"]["auditbook/v1"], f["fingerprint"]);
        let loc = &res["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        let line = loc["region"]["startLine"].as_u64().unwrap();
        let col = loc["region"]["startColumn"].as_u64().unwrap();
        assert!(line >= 1 && col >= 1);
        assert_eq!(Some(line), f["line"].as_u64().or(Some(1)));
        assert_eq!(Some(col), f["column"].as_u64().or(Some(1)));
    }
    let uris: Vec<&str> = results
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(
        uris.contains(&"policies/odd%2C%20na%3Ame%20100%25.md"),
        "{uris:?}"
    );
    assert!(uris.contains(&"sms.yaml"), "{uris:?}");
    // The broken link sits after non-ASCII text: its column counts characters.
    let link = findings
        .iter()
        .find(|f| f["code"] == "broken-doc-link")
        .unwrap();
    assert_eq!(link["column"], 22);
}

#[test]
fn junit_validates_against_the_xsd_and_parses_back() {
    let sms = crafted();
    let r = sms.run("check", &["--format", "junit"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let dir = tempfile::tempdir().unwrap();
    let file = write_temp(&dir, "junit.xml", &r.stdout);
    let xsd = schema("junit-10.xsd");
    xmllint(&["--noout", "--schema", xsd.to_str().unwrap()], &file);
    let q = |xpath: &str| xmllint(&["--xpath", xpath], &file).trim().to_string();
    // One test case per catalogue clause; in the rules suite, one per (code, subject) of a
    // finding and one per code without findings.
    assert_eq!(
        q("count(//testsuite[@name='auditbook.clauses']/testcase)"),
        "77"
    );
    let codes = {
        let mut c = auditbook();
        c.args(["explain", "--list"]);
        run(c).stdout.lines().count()
    };
    let json = sms.check_json().json();
    let found: std::collections::BTreeSet<(String, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().into(),
                f["subject"].as_str().unwrap().into(),
            )
        })
        .collect();
    let codes_found: std::collections::BTreeSet<&String> = found.iter().map(|(c, _)| c).collect();
    assert!(
        found.len() > codes_found.len(),
        "some code has several subjects: {found:?}"
    );
    assert_eq!(
        q("count(//testsuite[@name='auditbook.rules']/testcase)"),
        (codes - codes_found.len() + found.len()).to_string()
    );
    // At most one failure per test case: dashboards that show the first show them all.
    assert_eq!(q("count(//testcase[count(failure) > 1])"), "0");
    for (code, subject) in &found {
        let name = format!("{code} {subject}");
        assert_eq!(
            q(&format!("count(//testcase[@name='{name}'])")),
            "1",
            "no test case {name}"
        );
    }
    // `failures` counts the failing test cases.
    for suite in ["auditbook.clauses", "auditbook.rules"] {
        assert_eq!(
            q(&format!("string(//testsuite[@name='{suite}']/@failures)")),
            q(&format!(
                "count(//testsuite[@name='{suite}']/testcase[failure])"
            ))
        );
    }
    assert_eq!(
        q("count(//testcase[@name='8.5.1.3 Change management activities']/failure)"),
        "0",
        "8.5.1 (expanding to its children) is cited by an approved document"
    );
    assert_eq!(
        q("string(//testcase[starts-with(@name, '4.1 ')]/failure/@type)"),
        "missing"
    );
    // The crafted text comes back intact from the failure (CR and LF are escaped as character
    // references, so XML parsing keeps them).
    let text = q("string(//testcase[@classname='auditbook.rules.field-invalid']/failure)");
    assert!(text.contains("pol\r\n::error::forged <b>&'\"%"), "{text:?}");
    assert_eq!(
        q("count(//testcase[@classname='auditbook.rules.clause-unknown']/failure)"),
        "1"
    );
    // Warnings are output, not failures.
    assert_eq!(
        q("count(//testcase[@classname='auditbook.rules.review-overdue']/failure)"),
        "0"
    );
}

/// Unescape workflow-command data and properties (the inverse of GitHub's escaping).
fn unescape(s: &str) -> String {
    s.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

/// One parsed workflow command: (command, properties, data).
fn parse_command(line: &str) -> (String, Vec<(String, String)>, String) {
    let rest = line
        .strip_prefix("::")
        .unwrap_or_else(|| panic!("not a workflow command: {line:?}"));
    let (head, data) = rest.split_once("::").unwrap();
    let (cmd, props) = head.split_once(' ').unwrap_or((head, ""));
    let props = props
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap();
            (k.to_string(), unescape(v))
        })
        .collect();
    (cmd.to_string(), props, unescape(data))
}

#[test]
fn github_commands_escape_crafted_messages_and_paths() {
    let sms = crafted();
    sms.file(
        "sms.yaml",
        &format!("{MINIMAL_CONFIG}rules:\n  clause-undocumented: allow\n  named-document-missing: allow\n  records-missing: allow\n"),
    );
    let r = sms.run("check", &["--format", "github"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    // Only workflow commands, and none forged: every line is one of ours.
    let lines: Vec<&str> = r.stdout.split('\n').filter(|l| !l.is_empty()).collect();
    assert!(!r.stdout.contains('\r'));
    let parsed: Vec<_> = lines.iter().map(|l| parse_command(l)).collect();
    assert!(parsed
        .iter()
        .all(|(c, _, _)| ["error", "warning", "notice"].contains(&c.as_str())));
    // Errors first.
    let kinds: Vec<&str> = parsed.iter().map(|(c, _, _)| c.as_str()).collect();
    let mut sorted = kinds.clone();
    sorted.sort_by_key(|k| ["error", "warning", "notice"].iter().position(|x| x == k));
    assert_eq!(kinds, sorted);
    let prop =
        |p: &Vec<(String, String)>, k: &str| p.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());
    let odd = parsed
        .iter()
        .find(|(_, p, _)| prop(p, "title").as_deref() == Some("frontmatter-missing"))
        .expect("the odd file is annotated");
    assert_eq!(prop(&odd.1, "file").unwrap(), "policies/odd, na:me 100%.md");
    assert_eq!(prop(&odd.1, "line").unwrap(), "1");
    assert!(odd.2.contains("`policies/odd, na:me 100%.md`"), "{}", odd.2);
    let forged = parsed
        .iter()
        .find(|(_, p, _)| prop(p, "title").as_deref() == Some("field-invalid"))
        .expect("the crafted type is annotated");
    assert!(
        forged.2.contains("pol\r\n::error::forged <b>&'\"%"),
        "{:?}",
        forged.2
    );
    assert_eq!(prop(&forged.1, "line").unwrap(), "4");
    assert!(lines.iter().all(|l| !l.starts_with("::error::forged")));
}

#[test]
fn github_caps_annotations_and_points_to_the_rest() {
    // A new SMS: dozens of clauses undocumented, all errors on sms.yaml:1.
    let sms = Sms::new();
    let r = sms.run("check", &["--format", "github"]);
    assert_eq!(r.code, 1);
    let errors = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .count();
    assert_eq!(errors, 10, "{}", r.stdout);
    // The closing notice is the last line (the SMS is not in git: one `no-git-history` notice).
    let notices: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("::notice "))
        .collect();
    assert_eq!(notices.len(), 2, "{}", r.stdout);
    let notices = [*notices.last().unwrap()];
    assert_eq!(r.stdout.lines().last(), Some(notices[0]));
    let total = sms.check_json().json()["counts"]["errors"]
        .as_u64()
        .unwrap();
    assert!(
        notices[0].contains(&format!(
            "{} more findings ({} errors",
            total - 10,
            total - 10
        )),
        "{}",
        notices[0]
    );
    assert!(notices[0].contains("--format json"), "{}", notices[0]);
}

#[test]
fn github_job_summary_is_appended_without_touching_stdout() {
    let sms = crafted();
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    let mut c = auditbook();
    c.arg("check")
        .arg(sms.path())
        .args(["--format", "github", "--as-of", AS_OF])
        .env("GITHUB_STEP_SUMMARY", &summary);
    let r = run(c);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.lines().all(|l| l.starts_with("::")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("the job summary lists them all"),
        "{}",
        r.stdout
    );
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(text.len() < 1024 * 1024);
    assert!(text.contains("### Coverage\n\n| clauses | |"), "{text}");
    // Source excerpts go to the summary (never to stdout), in code blocks; markup from the SMS in
    // messages is escaped.
    assert!(
        text.contains("Ünïcödé text, then a [link](doc:NOPE)."),
        "{text}"
    );
    assert!(text.contains("forged &lt;b&gt;&amp;"), "{text}");
    let outside_code: String = text.split("```").step_by(2).collect::<Vec<_>>().join("");
    assert!(!outside_code.contains("<b>"), "{text}");
    assert!(!r.stdout.contains("Ünïcödé text"));
}

#[test]
fn build_takes_the_ci_formats_too() {
    let sms = crafted();
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("site");
    let r = sms.run(
        "build",
        &["--format", "sarif", "--out", target.to_str().unwrap()],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    validate_sarif(&r.stdout);
}

/// Validate a JSON document against one of the vendored schemas with Python's `jsonschema`.
fn validate_json(schema_name: &str, text: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = write_temp(&dir, "out.json", text);
    let script = "import json, sys, jsonschema\nschema = json.load(open(sys.argv[1]))\ndoc = json.load(open(sys.argv[2]))\njsonschema.validators.validator_for(schema)(schema).validate(doc)\n";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(schema(schema_name))
        .arg(&file)
        .output()
        .expect("python3 is needed to validate JSON (.ci/run installs python3-jsonschema)");
    assert!(
        out.status.success(),
        "{schema_name}: not valid:\n{}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn gitlab_code_quality_validates_and_matches_the_json_report() {
    let sms = crafted();
    // A second broken link of the same kind in the same document: two findings, one subject.
    sms.file(
        "policies/b.md",
        &doc(
            "POL-B",
            &["8.5.1"],
            "",
            "See [one](doc:GONE) and again [two](doc:GONE).",
        ),
    );
    let r = sms.run("check", &["--format", "gitlab"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    validate_json("gitlab-codequality.json", &r.stdout);
    let issues: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    let json = sms.check_json();
    let findings = json.json()["findings"].as_array().unwrap().clone();
    assert_eq!(issues.len(), findings.len());
    // GitLab hides issues whose fingerprint repeats: every one is distinct.
    let mut prints: Vec<&str> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    assert!(
        prints.iter().any(|p| p.ends_with("-2")),
        "the two GONE links share a subject: {}",
        r.stdout
    );
    prints.sort_unstable();
    let before = prints.len();
    prints.dedup();
    assert_eq!(prints.len(), before, "{}", r.stdout);
    // The same findings as the JSON report, with GitLab's severities and repository paths.
    for f in &findings {
        let base = f["fingerprint"].as_str().unwrap();
        let issue = issues
            .iter()
            .find(|i| {
                let p = i["fingerprint"].as_str().unwrap();
                i["check_name"] == f["code"] && (p == base || p.starts_with(&format!("{base}-")))
            })
            .unwrap_or_else(|| panic!("no issue for {f}"));
        let expected = match f["severity"].as_str().unwrap() {
            "error" => "major",
            "warning" => "minor",
            _ => "info",
        };
        assert_eq!(issue["severity"], expected, "{issue}");
        let path = issue["location"]["path"].as_str().unwrap();
        match f["path"].as_str() {
            Some(file) => assert!(path.ends_with(file), "{path} vs {file}"),
            None => assert!(path.ends_with("sms.yaml"), "{path}"),
        }
        assert_eq!(
            issue["location"]["lines"]["begin"].as_u64(),
            f["line"].as_u64().or(Some(1))
        );
    }
    assert!(
        issues.iter().any(|i| i["location"]["path"]
            .as_str()
            .unwrap()
            .ends_with("odd, na:me 100%.md")),
        "{}",
        r.stdout
    );
}
