//! One fixture that triggers each rule and one that does not. Each case builds a small SMS, runs
//! `check --format json` and looks for the rule's code (and, for the trigger, its line).

use crate::support::*;

/// Files of an SMS: (path, text).
type Files<'a> = &'a [(&'a str, &'a str)];

fn sms_with(files: Files<'_>) -> Sms {
    let sms = Sms::new();
    for (p, t) in files {
        sms.file(p, t);
    }
    sms
}

/// `code` is reported for `bad` (at `line` of `path` when given) and not for `good`.
fn rule(code: &str, bad: Files<'_>, good: Files<'_>, at: Option<(&str, u64)>) {
    let r = sms_with(bad).check_json();
    let found = r.findings(code);
    assert!(
        !found.is_empty(),
        "{code} not reported for the triggering fixture; got {:?}\n{}",
        r.codes(),
        r.stderr
    );
    if let Some((path, line)) = at {
        assert!(
            found.iter().any(|f| f["path"] == path && f["line"] == line),
            "{code} not at {path}:{line}: {found:#?}"
        );
    }
    let r = sms_with(good).check_json();
    assert!(
        r.findings(code).is_empty(),
        "{code} reported for the clean fixture: {:#?}",
        r.findings(code)
    );
}

fn good_doc() -> String {
    doc("POL-A", &["8.5.1.1"], "", "Body.")
}

#[test]
fn frontmatter_missing() {
    rule(
        "frontmatter-missing",
        &[("policies/a.md", "# No frontmatter\n")],
        &[
            ("policies/a.md", &good_doc()),
            ("policies/README.md", "# Explains the folder\n"),
        ],
        Some(("policies/a.md", 1)),
    );
}

#[test]
fn frontmatter_unclosed() {
    rule(
        "frontmatter-unclosed",
        &[("policies/a.md", "---\nid: A\ntitle: B\n# body\n")],
        &[("policies/a.md", &good_doc())],
        Some(("policies/a.md", 1)),
    );
}

#[test]
fn frontmatter_invalid_points_at_the_file_line() {
    // the duplicate key is on line 3 of the block, line 4 of the file
    let bad = good_doc().replacen(
        "title: Document POL-A\n",
        "title: Document POL-A\nid: again\n",
        1,
    );
    rule(
        "frontmatter-invalid",
        &[("policies/a.md", &bad)],
        &[("policies/a.md", &good_doc())],
        Some(("policies/a.md", 4)),
    );
    rule(
        "frontmatter-invalid",
        &[("policies/a.md", "---\n- a list\n---\n")],
        &[("policies/a.md", &good_doc())],
        Some(("policies/a.md", 2)),
    );
    rule(
        "frontmatter-invalid",
        &[("policies/a.md", "---\njust a scalar\n---\n")],
        &[("policies/a.md", &good_doc())],
        None,
    );
}

#[test]
fn field_missing() {
    let bad = good_doc().replace("owner: Owner\n", "");
    rule(
        "field-missing",
        &[("policies/a.md", &bad)],
        &[("policies/a.md", &good_doc())],
        Some(("policies/a.md", 1)),
    );
    // records: the kind's required fields
    rule(
        "field-missing",
        &[("records/incident/i.yaml", "id: INC-1\nkind: incident\ndate: 2026-01-01\ntitle: T\nstatus: closed\n")],
        &[("records/incident/i.yaml", "id: INC-1\nkind: incident\ndate: 2026-01-01\ntitle: T\nstatus: closed\npriority: P2\nservice: Hosting\n")],
        Some(("records/incident/i.yaml", 1)),
    );
}

#[test]
fn field_invalid_dates_intervals_status_type_version() {
    let cases = [
        ("approved: 2026-01-05", "approved: 05/01/2026", 9),
        ("status: approved", "status: aproved", 8),
        ("type: policy", "type: memo", 4),
        ("version: \"1.0\"", "version: \"v1\"", 7),
        (
            "approved: 2026-01-05",
            "approved: 2026-01-05\nreview: 1 fortnight",
            10,
        ),
    ];
    for (from, to, line) in cases {
        let bad = good_doc().replace(from, to);
        rule(
            "field-invalid",
            &[("policies/a.md", &bad)],
            &[("policies/a.md", &good_doc())],
            Some(("policies/a.md", line)),
        );
    }
}

#[test]
fn field_name_typo() {
    let bad = good_doc().replace("approved: 2026", "aproved: 2026-01-05\napproved: 2026");
    let good = good_doc().replace("approved: 2026", "classification: internal\napproved: 2026");
    rule(
        "field-name-typo",
        &[("policies/a.md", &bad)],
        &[("policies/a.md", &good)],
        Some(("policies/a.md", 9)),
    );
}

#[test]
fn id_invalid() {
    let bad = good_doc().replace("id: POL-A", "id: ../../etc");
    rule(
        "id-invalid",
        &[("policies/a.md", &bad)],
        &[("policies/a.md", &good_doc())],
        Some(("policies/a.md", 2)),
    );
}

#[test]
fn id_duplicate_regardless_of_case() {
    let other = doc("pol-a", &["8.5.1.2"], "", "Other.");
    rule(
        "id-duplicate",
        &[("policies/a.md", &good_doc()), ("policies/b.md", &other)],
        &[
            ("policies/a.md", &good_doc()),
            ("policies/b.md", &other.replace("id: pol-a", "id: POL-B")),
        ],
        Some(("policies/b.md", 2)),
    );
}

#[test]
fn clause_unknown_with_suggestions() {
    let bad = doc("POL-A", &["8.5.12"], "", "Body.");
    rule(
        "clause-unknown",
        &[("policies/a.md", &bad)],
        &[("policies/a.md", &good_doc())],
        Some(("policies/a.md", 10)),
    );
    // a 2011-edition id names its successor
    let old = doc("POL-A", &["4.5.4.3"], "", "Body.");
    let r = sms_with(&[("policies/a.md", &old)]).check_json();
    let f = &r.findings("clause-unknown")[0];
    assert!(f["help"].as_str().unwrap().contains("9.3"), "{f}");
}

#[test]
fn clause_unquoted() {
    let bad = good_doc().replace("clauses: [\"8.5.1.1\"]", "clauses: [8.10, \"8.5.1.1\"]");
    rule(
        "clause-unquoted",
        &[("policies/a.md", &bad)],
        &[("policies/a.md", &good_doc())],
        Some(("policies/a.md", 10)),
    );
}

#[test]
fn clause_not_coverable() {
    let bad = doc("POL-A", &["8"], "", "Body.");
    rule(
        "clause-not-coverable",
        &[("policies/a.md", &bad)],
        &[("policies/a.md", &good_doc())],
        Some(("policies/a.md", 10)),
    );
}

#[test]
fn provides_unknown() {
    let bad = doc(
        "POL-A",
        &["8.5.1.1"],
        "provides: [change-policy]\n",
        "Body.",
    );
    let good = doc(
        "POL-A",
        &["8.5.1.1"],
        "provides: [change-management-policy]\n",
        "Body.",
    );
    rule(
        "provides-unknown",
        &[("policies/a.md", &bad)],
        &[("policies/a.md", &good)],
        Some(("policies/a.md", 11)),
    );
}

#[test]
fn approval_in_future() {
    let bad = good_doc().replace("approved: 2026-01-05", "approved: 2026-12-01");
    rule(
        "approval-in-future",
        &[("policies/a.md", &bad)],
        &[("policies/a.md", &good_doc())],
        Some(("policies/a.md", 9)),
    );
}

#[test]
fn review_overdue_and_no_change_review_resets_it() {
    let old = good_doc().replace("approved: 2026-01-05", "approved: 2025-10-01");
    let review = "id: DR-1\nkind: document-review\ndate: 2026-09-01\ntitle: Annual review\ndocument: POL-A\nreviewer: someone\noutcome: no-change\n";
    rule(
        "review-overdue",
        &[("policies/a.md", &old)],
        &[
            ("policies/a.md", &old),
            ("records/document-review/dr-1.yaml", review),
        ],
        Some(("policies/a.md", 9)),
    );
    // an explicit shorter review interval makes a recent approval overdue
    let short = good_doc().replace(
        "approved: 2026-01-05",
        "approved: 2026-01-05\nreview: 3 months",
    );
    rule(
        "review-overdue",
        &[("policies/a.md", &short)],
        &[("policies/a.md", &good_doc())],
        None,
    );
}

#[test]
fn approver_lacks_authority() {
    let config = format!("{MINIMAL_CONFIG}people:\n  - id: boss\n    name: Boss\n    role: top-management\n  - id: clerk\n    name: Clerk\n    role: clerk\n");
    let policy = |approver: &str| {
        doc("POL-SMS", &["5.2"], "provides: [sm-policy]\n", "Body.")
            .replace("approver: Approver", &format!("approver: {approver}"))
    };
    let bad = Sms::with_config(&config);
    bad.file("policies/p.md", &policy("clerk"));
    let found = bad.check_json().findings("approver-lacks-authority");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["line"], 6);
    let good = Sms::with_config(&config);
    good.file("policies/p.md", &policy("boss"));
    assert!(good
        .check_json()
        .findings("approver-lacks-authority")
        .is_empty());
}

#[test]
fn broken_links_of_every_kind() {
    let target = doc("PRO-B", &["8.5.1.2"], "", "## Risk assessment\n\nText.");
    let with_body = |body: &str| doc("POL-A", &["8.5.1.1"], "", body);
    let cases: [(&str, &str, &str); 5] = [
        ("broken-doc-link", "[x](doc:PRO-C)", "[x](doc:PRO-B)"),
        (
            "broken-clause-link",
            "[x](clause:8.5.9)",
            "[x](clause:8.5.1)",
        ),
        (
            "broken-file-link",
            "[x](../procedures/nope.md)",
            "[x](../procedures/b.md)",
        ),
        (
            "broken-anchor",
            "[x](doc:PRO-B#risks)",
            "[x](doc:PRO-B#risk-assessment)",
        ),
        (
            "link-outside-sms",
            "[x](../../../etc/passwd)",
            "[x](https://example.org/)",
        ),
    ];
    for (code, bad, good) in cases {
        rule(
            code,
            &[
                ("policies/a.md", &with_body(bad)),
                ("procedures/b.md", &target),
            ],
            &[
                ("policies/a.md", &with_body(good)),
                ("procedures/b.md", &target),
            ],
            Some(("policies/a.md", 15)),
        );
    }
    // anchors within the same document and in relative links are checked too
    rule(
        "broken-anchor",
        &[("policies/a.md", &with_body("## Scope\n\n[x](#scop)"))],
        &[("policies/a.md", &with_body("## Scope\n\n[x](#scope)"))],
        None,
    );
}

#[test]
fn remote_image() {
    let bad = doc(
        "POL-A",
        &["8.5.1.1"],
        "",
        "![logo](https://example.org/logo.png)",
    );
    let good = doc("POL-A", &["8.5.1.1"], "", "[site](https://example.org/)");
    rule(
        "remote-image",
        &[("policies/a.md", &bad)],
        &[("policies/a.md", &good)],
        Some(("policies/a.md", 15)),
    );
}

const INCIDENT: &str = "id: INC-1\nkind: incident\ndate: 2026-01-01\ntitle: T\nstatus: closed\npriority: P2\nservice: Hosting\n";

#[test]
fn record_kind_unknown() {
    rule(
        "record-kind-unknown",
        &[(
            "records/x/i.yaml",
            &INCIDENT.replace("kind: incident", "kind: incidnet"),
        )],
        &[("records/x/i.yaml", INCIDENT)],
        Some(("records/x/i.yaml", 2)),
    );
}

#[test]
fn broken_ref() {
    rule(
        "broken-ref",
        &[(
            "records/incident/i.yaml",
            &format!("{INCIDENT}refs: [PRB-9]\n"),
        )],
        &[
            (
                "records/incident/i.yaml",
                &format!("{INCIDENT}refs: [POL-A]\n"),
            ),
            ("policies/a.md", &good_doc()),
        ],
        Some(("records/incident/i.yaml", 8)),
    );
}

#[test]
fn record_in_future() {
    rule(
        "record-in-future",
        &[(
            "records/incident/i.yaml",
            &INCIDENT.replace("2026-01-01", "2027-01-01"),
        )],
        &[("records/incident/i.yaml", INCIDENT)],
        Some(("records/incident/i.yaml", 3)),
    );
}

#[test]
fn nonconformity_overdue() {
    let nc = |status: &str, due: &str| {
        format!("id: NC-1\nkind: nonconformity\ndate: 2026-01-01\ntitle: T\nstatus: {status}\ndue: {due}\ncorrective_action: fix it\n")
    };
    rule(
        "nonconformity-overdue",
        &[("records/nonconformity/nc.yaml", &nc("open", "2026-10-01"))],
        &[
            ("records/nonconformity/nc.yaml", &nc("closed", "2026-10-01")),
            (
                "records/nonconformity/nc2.yaml",
                &nc("open", "2026-12-20").replace("NC-1", "NC-2"),
            ),
        ],
        Some(("records/nonconformity/nc.yaml", 6)),
    );
}

#[test]
fn records_in_list_files_point_at_their_own_lines() {
    let list = "records:\n  - id: INC-1\n    kind: incident\n    date: 2026-01-01\n    title: T\n    status: closed\n    priority: P2\n    service: H\n  - id: INC-2\n    kind: incident\n    date: 2026-02-30\n    title: T\n    status: closed\n    priority: P2\n    service: H\n";
    let r = sms_with(&[("records/incident/2026.yaml", list)]).check_json();
    let f = r.findings("field-invalid");
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0]["line"], 11);
}

#[test]
fn file_empty_unreadable_and_too_large() {
    rule(
        "file-empty",
        &[("policies/a.md", "")],
        &[("policies/a.md", &good_doc())],
        Some(("policies/a.md", 1)),
    );
    let sms = Sms::new();
    sms.bytes("policies/bin.md", b"---\nid: A\n\0\x01\x02");
    sms.bytes("policies/latin1.md", b"---\nid: caf\xe9\n---\n");
    let r = sms.check_json();
    let f = r.findings("file-unreadable");
    assert_eq!(f.len(), 2, "{f:?}");
    assert!(f
        .iter()
        .any(|f| f["path"] == "policies/latin1.md" && f["line"] == 2));
    let big = Sms::with_config(&format!(
        "{MINIMAL_CONFIG}limits:\n  max_file_size: 1 KiB\n"
    ));
    big.file(
        "policies/a.md",
        &good_doc().replace("Body.", &"word ".repeat(400)),
    );
    assert_eq!(big.check_json().findings("file-too-large").len(), 1);
    let small = Sms::with_config(&format!(
        "{MINIMAL_CONFIG}limits:\n  max_file_size: 1 KiB\n"
    ));
    small.file("policies/a.md", &good_doc());
    assert!(small.check_json().findings("file-too-large").is_empty());
}

#[cfg(unix)]
#[test]
fn symlinks_are_reported_never_followed() {
    let sms = Sms::new();
    sms.file("policies/a.md", &good_doc());
    std::os::unix::fs::symlink("/etc/passwd", sms.path().join("policies/passwd.md")).unwrap();
    std::os::unix::fs::symlink("..", sms.path().join("policies/up")).unwrap();
    let r = sms.check_json();
    let f = r.findings("symlink-ignored");
    assert_eq!(f.len(), 2, "{f:?}");
    assert!(f.iter().any(|f| f["message"]
        .as_str()
        .unwrap()
        .contains("outside the SMS root")));
    assert!(
        !r.stdout.contains("root:x:0"),
        "content of /etc/passwd leaked"
    );
}

#[test]
fn too_many_documents() {
    let sms = Sms::with_config(&format!("{MINIMAL_CONFIG}limits:\n  max_documents: 1\n"));
    sms.file("policies/a.md", &good_doc());
    sms.file("policies/b.md", &doc("POL-B", &["8.5.1.2"], "", "B"));
    assert_eq!(sms.check_json().findings("too-many-documents").len(), 1);
    let ok = Sms::with_config(&format!("{MINIMAL_CONFIG}limits:\n  max_documents: 2\n"));
    ok.file("policies/a.md", &good_doc());
    ok.file("policies/b.md", &doc("POL-B", &["8.5.1.2"], "", "B"));
    assert!(ok.check_json().findings("too-many-documents").is_empty());
}

#[test]
fn no_documents() {
    rule(
        "no-documents",
        &[],
        &[("policies/a.md", &good_doc())],
        Some(("sms.yaml", 1)),
    );
}

#[test]
fn config_unknown_key_and_invalid() {
    let sms = Sms::with_config(&format!("{MINIMAL_CONFIG}review_intervall: 6 months\n"));
    let f = sms.check_json().findings("config-unknown-key");
    assert_eq!(f[0]["line"], 4);
    assert!(f[0]["message"]
        .as_str()
        .unwrap()
        .contains("review_interval"));
    let sms = Sms::with_config(
        "organisation: T\nframework: iso20000-1:2018\nreview_interval: 1 fortnight\n",
    );
    let r = sms.check_json();
    assert_eq!(r.findings("config-invalid").len(), 1, "missing scope");
    assert_eq!(r.findings("field-invalid")[0]["line"], 3);
    assert!(Sms::new()
        .check_json()
        .findings("config-unknown-key")
        .is_empty());
}

#[test]
fn framework_invalid_and_user_framework_used() {
    let sms = Sms::new();
    sms.file(
        "frameworks/bad.yaml",
        "id: x\ntitle: X\nclauses:\n  - id: \"1\"\n    title: A\n    parent: \"9\"\n",
    );
    let f = sms.check_json().findings("framework-invalid");
    assert!(
        f.iter().all(|f| f["path"] == "frameworks/bad.yaml"),
        "{f:?}"
    );
    assert!(
        f.iter()
            .any(|f| f["line"] == 4 && f["message"].as_str().unwrap().contains("parent `9`")),
        "{f:?}"
    );
    // a valid user framework selected by sms.yaml replaces the built-in catalogue
    let own = Sms::with_config("organisation: T\nscope: S\nframework: inhouse:1\n");
    own.file(
        "frameworks/inhouse.yaml",
        "id: inhouse:1\ntitle: In-house\nclauses:\n  - {id: \"A\", title: Top, parent: null, evidence: heading}\n  - {id: \"A.1\", title: Leaf, parent: \"A\"}\n",
    );
    own.file("policies/a.md", &doc("POL-A", &["A.1"], "", "Body."));
    let r = own.check_json();
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(
        r.json()["coverage"]["clauses"],
        1,
        "one requirement clause: A.1"
    );
    // an unknown framework id cannot run
    let none = Sms::with_config("organisation: T\nscope: S\nframework: nope\n");
    assert_eq!(none.check_json().code, 2);
}

#[test]
fn coverage_codes_for_an_empty_sms_and_none_for_the_sample() {
    let r = sms_with(&[("policies/a.md", &good_doc())]).check_json();
    for code in [
        "clause-undocumented",
        "named-document-missing",
        "records-missing",
    ] {
        assert!(!r.findings(code).is_empty(), "{code}");
    }
    let sample = Sms::sample().check_json();
    for code in [
        "clause-undocumented",
        "named-document-missing",
        "records-missing",
        "records-stale",
    ] {
        assert!(
            sample.findings(code).is_empty(),
            "{code}: {:#?}",
            sample.findings(code)
        );
    }
}

#[test]
fn records_stale_after_the_interval() {
    let sample = Sms::sample();
    // five years on, the planned-interval records are all stale
    let r = sample.run("check", &["--format", "json", "--as-of", "2031-11-26"]);
    let stale: Vec<String> = r
        .findings("records-stale")
        .iter()
        .map(|f| f["subject"].as_str().unwrap().to_string())
        .collect();
    assert!(
        stale.contains(&"9.3#management-review".to_string()),
        "{stale:?}"
    );
    assert!(
        stale.contains(&"9.2#internal-audit".to_string()),
        "{stale:?}"
    );
}

#[test]
fn drafts_never_cover_and_say_so() {
    let draft = good_doc().replace("status: approved", "status: draft");
    let r = sms_with(&[("policies/a.md", &draft)]).check_json();
    let f: Vec<_> = r
        .findings("clause-undocumented")
        .into_iter()
        .filter(|f| f["subject"] == "8.5.1.1")
        .collect();
    assert_eq!(f.len(), 1);
    assert!(
        f[0]["message"].as_str().unwrap().contains("POL-A (draft)"),
        "{}",
        f[0]
    );
    let r = sms_with(&[("policies/a.md", &good_doc())]).check_json();
    assert!(r
        .findings("clause-undocumented")
        .iter()
        .all(|f| f["subject"] != "8.5.1.1"));
}

#[test]
fn severity_overrides_from_sms_yaml() {
    let old = good_doc().replace("approved: 2026-01-05", "approved: 2025-01-05");
    let deny = Sms::with_config(&format!("{MINIMAL_CONFIG}rules:\n  review-overdue: deny\n"));
    deny.file("policies/a.md", &old);
    assert_eq!(
        deny.check_json().findings("review-overdue")[0]["severity"],
        "error"
    );
    let allow = Sms::with_config(&format!(
        "{MINIMAL_CONFIG}rules:\n  review-overdue: allow\n"
    ));
    allow.file("policies/a.md", &old);
    assert!(allow.check_json().findings("review-overdue").is_empty());
    let typo = Sms::with_config(&format!("{MINIMAL_CONFIG}rules:\n  review-overdu: allow\n"));
    let f = typo.check_json().findings("field-invalid");
    assert!(
        f[0]["message"].as_str().unwrap().contains("review-overdue"),
        "{f:?}"
    );
}

#[test]
fn unsafe_link() {
    let bad = doc(
        "POL-A",
        &["8.5.1.1"],
        "",
        "[x](javascript:alert(1)) [y](data:text/html,hi)",
    );
    let good = doc(
        "POL-A",
        &["8.5.1.1"],
        "",
        "[x](https://example.org/) [y](mailto:qa@example.org)",
    );
    rule(
        "unsafe-link",
        &[("policies/a.md", &bad)],
        &[("policies/a.md", &good)],
        Some(("policies/a.md", 15)),
    );
    // one finding per scheme and document, with the count
    let many = doc(
        "POL-A",
        &["8.5.1.1"],
        "",
        &"[x](javascript:alert(1)) ".repeat(50),
    );
    let r = sms_with(&[("policies/a.md", &many)]).check_json();
    let f = r.findings("unsafe-link");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(
        f[0]["message"].as_str().unwrap().contains("50 such links"),
        "{}",
        f[0]
    );
}

#[test]
fn unsafe_html() {
    let bad = doc(
        "POL-A",
        &["8.5.1.1"],
        "",
        "<img src=x onerror=\"alert(1)\">\n\n<script>alert(2)</script>",
    );
    let good = doc(
        "POL-A",
        &["8.5.1.1"],
        "",
        "<details><summary>More</summary>Plain text.</details>",
    );
    rule(
        "unsafe-html",
        &[("policies/a.md", &bad)],
        &[("policies/a.md", &good)],
        Some(("policies/a.md", 15)),
    );
    let r = sms_with(&[("policies/a.md", &bad)]).check_json();
    let f = r.findings("unsafe-html");
    assert_eq!(f.len(), 1, "one finding per document: {f:#?}");
    assert!(
        f[0]["message"].as_str().unwrap().contains("1 more"),
        "{}",
        f[0]
    );
}

// --- placeholders and people (#20) --------------------------------------------------------------

#[test]
fn unfilled_placeholder_in_an_approved_document() {
    let filled = doc(
        "POL-A",
        &["8.5.1.1"],
        "",
        "# Purpose\n\nWe fix what breaks.",
    );
    let unfilled = doc(
        "POL-A",
        &["8.5.1.1"],
        "",
        "# Purpose\n\n{{FILL: what this policy is for}} and {{FILL: who}}.",
    );
    // The marker is on the body's third line: frontmatter (11 lines), blank, `# Document`, blank,
    // `# Purpose`, blank, then the marker.
    rule(
        "unfilled-placeholder",
        &[("policies/a.md", &unfilled)],
        &[("policies/a.md", &filled)],
        Some(("policies/a.md", 17)),
    );
    let found = sms_with(&[("policies/a.md", &unfilled)])
        .check_json()
        .findings("unfilled-placeholder");
    assert_eq!(found.len(), 1, "one finding per document: {found:#?}");
    assert_eq!(found[0]["severity"], "error");
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("2 starter-kit placeholders"),
        "{}",
        found[0]["message"]
    );
}

#[test]
fn placeholders_in_a_draft_are_what_a_draft_is_for() {
    let draft = doc("POL-A", &["8.5.1.1"], "", "{{FILL: purpose}}").replace(
        "status: approved\napproved: 2026-01-05\n",
        "status: draft\n",
    );
    let r = sms_with(&[("policies/a.md", &draft)]).check_json();
    assert!(
        r.findings("unfilled-placeholder").is_empty(),
        "{:?}",
        r.codes()
    );
}

#[test]
fn unfilled_placeholder_in_a_frontmatter_field_points_at_it() {
    let text = doc("POL-A", &["8.5.1.1"], "", "Body.")
        .replace("approver: Approver", "approver: \"{{FILL: who approves}}\"");
    let found = sms_with(&[("policies/a.md", &text)])
        .check_json()
        .findings("unfilled-placeholder");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["line"], 6, "the approver line: {:#?}", found[0]);
}

#[test]
fn unfilled_placeholder_in_a_record() {
    rule(
        "unfilled-placeholder",
        &[(
            "records/incident/i.yaml",
            &INCIDENT.replace("service: Hosting", "service: \"{{FILL: the service}}\""),
        )],
        &[("records/incident/i.yaml", INCIDENT)],
        Some(("records/incident/i.yaml", 7)),
    );
}

#[test]
fn unfilled_placeholder_in_the_scope() {
    // As `init` writes it: a folded block scalar whose text starts on the next line.
    let config = "organisation: Test Ltd\nscope: >\n  {{FILL: the services in scope}}\nframework: iso20000-1:2018\n";
    let bad = Sms::with_config(config);
    bad.file("policies/a.md", &good_doc());
    let found = bad.check_json().findings("unfilled-placeholder");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["path"], "sms.yaml");
    assert_eq!(found[0]["subject"], "sms#scope");
    assert_eq!(
        (&found[0]["line"], &found[0]["column"]),
        (&3.into(), &3.into())
    );
    let good = Sms::with_config(MINIMAL_CONFIG);
    good.file("policies/a.md", &good_doc());
    assert!(good
        .check_json()
        .findings("unfilled-placeholder")
        .is_empty());
}

#[test]
fn owner_not_a_person_once_people_are_listed() {
    let people =
        format!("{MINIMAL_CONFIG}people:\n  - id: ann\n    name: Ann\n    role: quality-manager\n");
    let by = |owner: &str, approver: &str| {
        good_doc()
            .replace("owner: Owner", &format!("owner: {owner}"))
            .replace("approver: Approver", &format!("approver: {approver}"))
    };
    let bad = Sms::with_config(&people);
    bad.file("policies/a.md", &by("Quality Manager", "ann"));
    let found = bad.check_json().findings("owner-not-a-person");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["severity"], "warning");
    assert!(found[0]["message"]
        .as_str()
        .unwrap()
        .contains("owner `Quality Manager`"));
    let good = Sms::with_config(&people);
    good.file("policies/a.md", &by("ann", "ann"));
    assert!(good.check_json().findings("owner-not-a-person").is_empty());
    // Without `people`, names are not checked: there is nothing to check them against.
    let none = Sms::with_config(MINIMAL_CONFIG);
    none.file("policies/a.md", &by("Quality Manager", "Top Management"));
    assert!(none.check_json().findings("owner-not-a-person").is_empty());
}
