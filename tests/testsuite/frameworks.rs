//! Several frameworks in one SMS (sms.yaml `frameworks:`, the first primary): qualified and plain
//! clause ids, did-you-mean for unknown frameworks and ids, coverage and outputs per framework.
//! The second framework is a user catalogue under frameworks/, so these tests need no built-in
//! catalogue beyond ISO/IEC 20000-1:2018.

use crate::support::*;

/// A small user framework: two headings, three leaves, one record kind of its own.
pub const SEC: &str = r#"id: "sec:2024"
title: In-house security baseline
clauses:
  - id: "4"
    title: Context
    evidence: heading
  - id: "4.1"
    title: Scope of the baseline
    parent: "4"
    summary: Say what the baseline covers.
  - id: "5"
    title: Controls
    evidence: heading
  - id: "5.1"
    title: Access reviews
    parent: "5"
    summary: Review who has access, at planned intervals.
    evidence: records
    records: [access-review]
  - id: "A"
    title: Annex
    evidence: heading
  - id: "A.1"
    title: Backups
    parent: "A"
    summary: Keep tested backups.
record_kinds:
  - id: access-review
    title: Access review
    clauses: ["5.1"]
    required: [reviewer]
"#;

pub const CONFIG: &str =
    "organisation: Test Ltd\nscope: Test services.\nframeworks: [iso20000-1:2018, \"sec:2024\"]\n";

/// An SMS that checks ISO/IEC 20000-1:2018 (primary) and `sec:2024`.
pub fn two_frameworks() -> Sms {
    let sms = Sms::with_config(CONFIG);
    sms.file("frameworks/sec.yaml", SEC);
    sms
}

fn clause<'a>(r: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    r["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no clause {id} in the JSON report"))
}

#[test]
fn qualified_ids_cover_the_second_framework_and_plain_ids_the_primary() {
    let sms = two_frameworks();
    // `4.1` is plain: the primary's 4.1, never sec:2024's. The primary may be written qualified.
    sms.file(
        "policies/a.md",
        &doc(
            "POL-A",
            &["4.1", "sec:2024:A.1", "iso20000-1:2018:8.5.1.1"],
            "",
            "See [scope](clause:sec:2024:4.1) and [change](clause:iso20000-1:2018:8.5.1.1).",
        ),
    );
    sms.file(
        "records/access-review/ar-1.yaml",
        "id: AR-1\nkind: access-review\ndate: 2026-10-01\ntitle: Q3 access review\nreviewer: Ann\n",
    );
    let r = sms.check_json();
    assert_eq!(r.code, 1, "{}", r.stderr);
    let j = r.json();
    assert_eq!(clause(&j, "4.1")["documents"][0], "POL-A");
    assert_eq!(clause(&j, "8.5.1.1")["documents"][0], "POL-A");
    assert_eq!(clause(&j, "sec:2024:A.1")["status"], "covered");
    assert_eq!(clause(&j, "sec:2024:4.1")["status"], "missing");
    // the record kind's default clause is qualified in the combined catalogue
    assert_eq!(clause(&j, "sec:2024:5.1")["status"], "covered");
    assert_eq!(clause(&j, "sec:2024:5.1")["records"], 1);
    for code in ["clause-unknown", "broken-clause-link", "framework-unknown"] {
        assert!(
            r.findings(code).is_empty(),
            "{code}: {:#?}",
            r.findings(code)
        );
    }
    let undocumented: Vec<_> = r
        .findings("clause-undocumented")
        .iter()
        .map(|f| f["subject"].as_str().unwrap().to_string())
        .collect();
    assert!(undocumented.contains(&"sec:2024:4.1".to_string()));
    assert!(!undocumented.contains(&"sec:2024:A.1".to_string()));
}

#[test]
fn unknown_framework_prefixes_and_ids_get_did_you_mean() {
    let sms = two_frameworks();
    sms.file(
        "policies/a.md",
        &doc(
            "POL-A",
            &["sec:2023:4.1", "sec:2024:4.2", "A.1", "iso27001:2022:A.5.1"],
            "",
            "See [x](clause:sek:2024:4.1).",
        ),
    );
    let r = sms.check_json();
    let unknown_fw = r.findings("framework-unknown");
    let by_subject = |s: &str| {
        unknown_fw
            .iter()
            .find(|f| f["subject"] == s)
            .unwrap_or_else(|| panic!("no framework-unknown for {s}: {unknown_fw:#?}"))
            .clone()
    };
    let f = by_subject("POL-A#sec:2023:4.1");
    assert_eq!(f["path"], "policies/a.md");
    assert_eq!(f["line"], 10);
    assert_eq!(f["help"], "did you mean `sec:2024:`?");
    let f = by_subject("POL-A->clause:sek:2024:4.1");
    assert_eq!(f["help"], "did you mean `sec:2024:`?");
    assert!(by_subject("POL-A#iso27001:2022:A.5.1")["message"]
        .as_str()
        .unwrap()
        .contains("sms.yaml does not load"));

    let unknown = r.findings("clause-unknown");
    let help = |s: &str| {
        unknown
            .iter()
            .find(|f| f["subject"] == s)
            .unwrap_or_else(|| panic!("no clause-unknown for {s}: {unknown:#?}"))["help"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(help("POL-A#sec:2024:4.2"), "did you mean `sec:2024:4.1`?");
    assert!(
        help("POL-A#A.1").contains("`sec:2024:A.1`"),
        "{}",
        help("POL-A#A.1")
    );
    assert!(r
        .findings("clause-unknown")
        .iter()
        .all(|f| f["subject"] != "POL-A#sec:2023:4.1"));
}

#[test]
fn records_and_applicability_take_qualified_ids() {
    let sms = Sms::with_config(&format!(
        "{CONFIG}applicability:\n  - clause: \"sec:2024:A.1\"\n    party: Hosting Ltd\n  - clause: \"sec:2042:A.1\"\n    party: Hosting Ltd\n"
    ));
    sms.file("frameworks/sec.yaml", SEC);
    sms.file("policies/a.md", &doc("POL-A", &["8.5.1.1"], "", "Body."));
    sms.file(
        "records/incident/inc-1.yaml",
        "id: INC-1\nkind: incident\ndate: 2026-10-01\ntitle: Outage\nclauses: [\"sec:2024:A.1\", \"sec:2024:A.9\"]\n",
    );
    let r = sms.check_json();
    let j = r.json();
    assert_eq!(clause(&j, "sec:2024:A.1")["records"], 1);
    let unknown = r.findings("clause-unknown");
    assert_eq!(unknown.len(), 1, "{unknown:#?}");
    assert_eq!(unknown[0]["subject"], "INC-1#sec:2024:A.9");
    let fw = r.findings("framework-unknown");
    assert_eq!(fw.len(), 1, "{fw:#?}");
    assert_eq!(fw[0]["path"], "sms.yaml");
    assert_eq!(fw[0]["line"], 7);
    assert!(r
        .findings("config-invalid")
        .iter()
        .all(|f| !f["message"].as_str().unwrap().contains("applicability")));
}

#[test]
fn frameworks_key_is_checked() {
    // both keys at once
    let sms = Sms::with_config(&format!("{MINIMAL_CONFIG}frameworks: [iso20000-1:2018]\n"));
    sms.file("policies/a.md", &doc("POL-A", &["8.5.1.1"], "", "Body."));
    let r = sms.check_json();
    assert!(r
        .findings("field-invalid")
        .iter()
        .any(|f| f["message"].as_str().unwrap().contains("not both")));
    // listed twice
    let sms = Sms::with_config(
        "organisation: T\nscope: S\nframeworks: [iso20000-1:2018, iso20000-1:2018]\n",
    );
    let r = sms.check_json();
    assert!(r
        .findings("field-invalid")
        .iter()
        .any(|f| f["message"].as_str().unwrap().contains("listed twice")));
    // no `framework` finding when `frameworks` is given
    assert!(r
        .findings("config-invalid")
        .iter()
        .all(|f| f["subject"] != "sms.yaml#framework"));
    // an unknown framework stops the run with the closest id
    let sms = Sms::with_config(
        "organisation: T\nscope: S\nframeworks: [iso20000-1:2018, \"sec:2042\"]\n",
    );
    sms.file("frameworks/sec.yaml", SEC);
    let r = sms.check_json();
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("did you mean `sec:2024`?"),
        "{}",
        r.stderr
    );
}
