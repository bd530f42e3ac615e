//! `auditbook check` as a CLI: exit codes, both formats, messages outside an SMS, `explain` and
//! `clauses`.

use crate::support::*;

/// A tiny framework so that a complete, clean SMS fits in a test.
const FRAMEWORK: &str = "id: tiny:1\ntitle: Tiny\nclauses:\n  - {id: \"A\", title: Top, parent: null, evidence: heading}\n  - {id: \"A.1\", title: Leaf one, parent: \"A\", summary: Do one thing.}\n  - {id: \"A.2\", title: Leaf two, parent: \"A\", evidence: documents+records, records: [incident]}\nrecord_kinds:\n  - {id: incident, title: Incident, clauses: [\"A.2\"], required: [status]}\n";

fn tiny() -> Sms {
    let sms = Sms::with_config("organisation: Tiny Ltd\nscope: Everything.\nframework: tiny:1\n");
    sms.file("frameworks/tiny.yaml", FRAMEWORK);
    sms.file(
        "policies/a.md",
        &doc("POL-A", &["A.1", "A.2"], "", "See [two](clause:A.2)."),
    );
    sms.file(
        "records/incident/i.yaml",
        "id: INC-1\nkind: incident\ndate: 2026-11-01\ntitle: Disk full\nstatus: closed\n",
    );
    sms
}

#[test]
fn exit_0_when_clean() {
    let r = tiny().run("check", &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("requirement clauses covered: 2/2"),
        "{}",
        r.stdout
    );
    // outside git the one note says history was not checked
    assert!(
        r.stdout.contains("findings: 0 errors, 0 warnings, 1 note"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("note[no-git-history]"), "{}", r.stdout);
}

#[test]
fn exit_0_with_warnings_only() {
    let sms = tiny();
    sms.edit(
        "policies/a.md",
        "approved: 2026-01-05",
        "approved: 2025-01-05",
    );
    let r = sms.run("check", &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("warning[review-overdue]"), "{}", r.stdout);
}

#[test]
fn exit_1_with_errors() {
    let sms = tiny();
    sms.remove("records/incident/i.yaml");
    let r = sms.run("check", &[]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("error[records-missing]"), "{}", r.stdout);
}

#[test]
fn exit_2_outside_an_sms_names_sms_yaml_and_init() {
    let dir = tempfile::tempdir().unwrap();
    let r = run({
        let mut c = auditbook();
        c.arg("check").arg(dir.path());
        c
    });
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("sms.yaml"), "{}", r.stderr);
    assert!(r.stderr.contains("auditbook init"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
}

#[test]
fn exit_2_on_bad_arguments_and_unreadable_config() {
    let sms = tiny();
    assert_eq!(sms.run("check", &["--as-of", "2026-02-30"]).code, 2);
    assert_eq!(sms.run("check", &["--format", "xml"]).code, 2);
    sms.file("sms.yaml", "organisation: [unclosed\n");
    let r = sms.run("check", &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("sms.yaml:1:"), "{}", r.stderr);
    let r = run({
        let mut c = auditbook();
        c.arg("no-such-command");
        c
    });
    assert_eq!(r.code, 2);
}

#[test]
fn check_from_a_subfolder_finds_the_root() {
    let sms = tiny();
    let r = run({
        let mut c = auditbook();
        c.arg("check")
            .arg(sms.path().join("policies"))
            .args(["--as-of", AS_OF]);
        c
    });
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn as_of_from_source_date_epoch() {
    let sms = tiny();
    let r = run({
        let mut c = auditbook();
        // 2030-01-01T00:00:00Z: the incident is older than nothing demands, but the review is overdue
        c.arg("check")
            .arg(sms.path())
            .args(["--format", "json"])
            .env("SOURCE_DATE_EPOCH", "1893456000");
        c
    });
    assert_eq!(r.json()["as_of"], "2030-01-01");
}

/// The human report: compiler style with the source line, a help line and a summary.
#[test]
fn human_report_snapshot() {
    let sms = tiny();
    sms.edit(
        "policies/a.md",
        "clauses: [\"A.1\", \"A.2\"]",
        "clauses: [\"A.1\", \"A.3\"]",
    );
    let r = sms.run("check", &[]);
    assert_eq!(r.code, 1);
    insta::assert_snapshot!(r.stdout);
}

/// The JSON format is a contract: its shape is frozen here.
#[test]
fn json_report_snapshot() {
    let sms = tiny();
    sms.edit(
        "policies/a.md",
        "clauses: [\"A.1\", \"A.2\"]",
        "clauses: [\"A.1\", \"A.3\"]",
    );
    let r = sms.check_json();
    assert_eq!(r.code, 1);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn output_is_deterministic() {
    let sample = Sms::sample();
    let a = sample.check_json().stdout;
    let b = sample.check_json().stdout;
    assert_eq!(a, b);
}

#[test]
fn explain_prints_a_code_and_refuses_unknown_ones() {
    let r = run({
        let mut c = auditbook();
        c.args(["explain", "review-overdue"]);
        c
    });
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("warning by default"), "{}", r.stdout);
    assert!(r.stdout.contains("How to fix"), "{}", r.stdout);
    let r = run({
        let mut c = auditbook();
        c.args(["explain", "review-overdu"]);
        c
    });
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("did you mean `review-overdue`"),
        "{}",
        r.stderr
    );
    let r = run({
        let mut c = auditbook();
        c.args(["explain", "--list"]);
        c
    });
    assert!(r.stdout.lines().count() > 30);
}

#[test]
fn clauses_prints_the_tree_and_json() {
    let r = run({
        let mut c = auditbook();
        c.args(["clauses", "--format", "json"]);
        c
    });
    assert_eq!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 77);
    assert_eq!(v[0]["id"], "4");
    let r = run({
        let mut c = auditbook();
        c.arg("clauses");
        c
    });
    assert!(
        r.stdout.contains("8.5.1.2 Change management initiation"),
        "{}",
        r.stdout
    );
    let r = run({
        let mut c = auditbook();
        c.args(["clauses", "--kinds"]);
        c
    });
    assert!(r.stdout.contains("management-review"));
}
