//! Built-in catalogues beyond ISO/IEC 20000-1:2018: selected by `framework:` in sms.yaml and
//! printed by `auditbook clauses --framework ID`.

use crate::support::*;

fn clauses_json(framework: &str) -> serde_json::Value {
    let r = run({
        let mut c = auditbook();
        c.args(["clauses", "--format", "json", "--framework", framework]);
        c
    });
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

#[test]
fn clauses_prints_every_builtin_framework() {
    for (framework, count) in [
        ("iso20000-1:2018", 77),
        ("iso27001:2022", 139),
        ("iso9001:2015", 75),
        ("iso20000-1:2011", 53),
    ] {
        let v = clauses_json(framework);
        assert_eq!(v.as_array().unwrap().len(), count, "{framework}");
    }
    let v = clauses_json("iso27001:2022");
    let control = v
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "A.8.34")
        .unwrap();
    assert_eq!(control["parent"], "A.8");
    assert_eq!(control["excludable"], true);
    let clause = v
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "6.1.3")
        .unwrap();
    assert_eq!(clause["excludable"], false);

    let r = run({
        let mut c = auditbook();
        c.args(["clauses", "--framework", "iso9001:2015"]);
        c
    });
    assert!(r.stdout.starts_with("ISO 9001:2015"), "{}", r.stdout);
    assert!(r
        .stdout
        .contains("8.3 Design and development of products and services"));
    let r = run({
        let mut c = auditbook();
        c.args(["clauses", "--kinds", "--framework", "iso27001:2022"]);
        c
    });
    assert!(r.stdout.contains("risk-assessment"), "{}", r.stdout);
}

#[test]
fn clauses_rejects_an_unknown_framework_and_lists_the_builtins() {
    let r = run({
        let mut c = auditbook();
        c.args(["clauses", "--framework", "iso27001:2013"]);
        c
    });
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr
            .contains("`iso27001:2013` is not a built-in framework")
            && r.stderr
                .contains("iso27001:2022, iso9001:2015, iso20000-1:2011"),
        "{}",
        r.stderr
    );
}

#[test]
fn check_uses_the_builtin_framework_sms_yaml_names() {
    let sms = Sms::with_config(
        "organisation: Test Ltd\nscope: Test services.\nframework: iso27001:2022\n",
    );
    sms.file(
        "docs/policy.md",
        &doc(
            "POL-1",
            &["5.2", "A.5.1", "8.5.1"],
            "provides: [information-security-policy]\n",
            "Our policy.",
        ),
    );
    let r = sms.check_json();
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["framework"], "iso27001:2022");
    assert_eq!(v["clauses"].as_array().unwrap().len(), 139);
    // Requirement clauses: the 93 Annex A controls and the 30 leaves of clauses 4-10.
    assert_eq!(v["coverage"]["clauses"], 123);
    let status = |id: &str| {
        v["clauses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("{id}"))["status"]
            .clone()
    };
    assert_eq!(status("5.2"), "covered");
    assert_eq!(status("A.5.1"), "covered");
    assert_eq!(status("A.5.2"), "missing");
    // 8.5.1 is a 20000-1 clause, not one of 27001.
    let unknown = r.findings("clause-unknown");
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert!(unknown[0]["message"].as_str().unwrap().contains("`8.5.1`"));
    // 27001 demands its own named documents.
    let missing: Vec<String> = r
        .findings("named-document-missing")
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect();
    assert!(
        missing
            .iter()
            .any(|m| m.contains("statement-of-applicability")),
        "{missing:?}"
    );
    assert!(!missing
        .iter()
        .any(|m| m.contains("information-security-policy")));
}

#[test]
fn check_accepts_the_other_builtins_and_names_them_when_unknown() {
    for framework in ["iso9001:2015", "iso20000-1:2011"] {
        let sms = Sms::with_config(&format!(
            "organisation: Test Ltd\nscope: Test services.\nframework: {framework}\n"
        ));
        sms.file("docs/d.md", &doc("D-1", &["4.1"], "", "Text."));
        let r = sms.check_json();
        assert_eq!(r.json()["framework"], framework, "{}", r.stderr);
        assert!(r.findings("clause-unknown").is_empty());
    }
    let sms =
        Sms::with_config("organisation: Test Ltd\nscope: Test services.\nframework: iso27001\n");
    let r = sms.check_json();
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("known: iso20000-1:2018, iso27001:2022, iso9001:2015, iso20000-1:2011"),
        "{}",
        r.stderr
    );
}

#[test]
fn clauses_mappings_lists_the_related_clauses_of_other_frameworks() {
    let r = run({
        let mut c = auditbook();
        c.args(["clauses", "--mappings", "--framework", "iso27001:2022"]);
        c
    });
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("never covers"), "{}", r.stdout);
    let block = r
        .stdout
        .split("\n9.2.2 Internal audit programme\n")
        .nth(1)
        .expect("9.2.2 is mapped");
    assert!(
        block.starts_with(
            "    subset      iso20000-1:2018 9.2  shared: audit-programme, internal-audit\n"
        ),
        "{block}"
    );
    // Read from the 2011 side of the transition mapping, as JSON.
    let r = run({
        let mut c = auditbook();
        c.args([
            "clauses",
            "--mappings",
            "--format",
            "json",
            "--framework",
            "iso20000-1:2011",
        ]);
        c
    });
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let incident: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["clause"] == "8.1")
        .map(|m| {
            (
                m["related"].as_str().unwrap(),
                m["relation"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(incident, [("8.6.1", "superset"), ("8.6.2", "superset")]);
    let r = run({
        let mut c = auditbook();
        c.args(["clauses", "--mappings", "--kinds"]);
        c
    });
    assert_eq!(r.code, 2, "--mappings and --kinds exclude each other");
}

#[test]
fn build_renders_a_page_per_annex_a_control() {
    let sms = Sms::with_config(
        "organisation: Test Ltd\nscope: Test services.\nframework: iso27001:2022\n",
    );
    sms.file(
        "docs/access.md",
        &doc("POL-9", &["A.5.15"], "", "Access rules."),
    );
    let out = tempfile::tempdir().unwrap();
    let r = sms.run("build", &["--out", out.path().to_str().unwrap()]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let page = std::fs::read_to_string(out.path().join("clauses/A.5.15.html")).unwrap();
    assert!(page.contains("Access control"), "{page}");
    assert!(page.contains("POL-9"));
    assert!(out.path().join("clauses/A.8.34.html").exists());
}
