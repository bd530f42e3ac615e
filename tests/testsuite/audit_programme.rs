//! Audit-programme coverage (clause 9.2): `clause-not-audited` when no completed internal audit
//! covered a requirement clause within the programme cycle; plans count as planned, never done.

use crate::support::Sms;

const IA4: &str = "records/internal-audit/ia-2026-04.yaml";
const AP: &str = "records/audit-programme/ap-2026.yaml";

fn not_audited(s: &Sms, args: &[&str]) -> Vec<serde_json::Value> {
    let mut a = vec!["--format", "json"];
    a.extend_from_slice(args);
    s.run("check", &a).findings("clause-not-audited")
}

fn subjects(f: &[serde_json::Value]) -> Vec<&str> {
    f.iter().map(|f| f["subject"].as_str().unwrap()).collect()
}

/// The sample's four audits of 2026 cover every requirement clause: no finding.
#[test]
fn sample_programme_covers_every_clause() {
    let s = Sms::sample();
    assert_eq!(subjects(&not_audited(&s, &[])), Vec::<&str>::new());
}

/// A clause no completed audit covered is reported once, at the audit programme, with the plan
/// whose date has passed.
#[test]
fn clause_not_audited_names_the_passed_plan() {
    let s = Sms::sample();
    s.edit(IA4, "  - \"9.2\"\n", "");
    let f = not_audited(&s, &[]);
    assert_eq!(subjects(&f), ["9.2"]);
    let m = f[0]["message"].as_str().unwrap();
    assert!(m.contains("from 2023-12-07 to 2026-12-07"), "{m}");
    assert!(
        m.contains(
            "planned for 2026-10-20 in Internal audit process (AP-2026), a date that has passed"
        ),
        "{m}"
    );
    assert_eq!(f[0]["severity"], "warning");
    assert_eq!(f[0]["path"], AP, "{}", f[0]);
}

/// An audit still open counts as planned, not done; an upcoming plan is named as such.
#[test]
fn open_audit_and_upcoming_plan_are_planned_not_done() {
    let s = Sms::sample();
    s.edit(IA4, "status: closed", "status: in-progress");
    s.edit(
        AP,
        "refs: [PRO-AUDIT]",
        "  - audit: Follow-up of clause 10\n    planned: 2027-02-01\n    covered: [\"10\"]\nrefs: [PRO-AUDIT]",
    );
    let f = not_audited(&s, &[]);
    let subj = subjects(&f);
    assert!(
        subj.contains(&"5.1") && subj.contains(&"10.1") && subj.contains(&"9.2"),
        "{subj:?}"
    );
    let by = |id: &str| {
        f.iter().find(|f| f["subject"] == id).unwrap()["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // clause 10 (a top-level id) covers 10.1 and 10.2 in an audit's scope
    assert!(
        by("10.1").contains("planned for 2027-02-01 in Follow-up of clause 10 (AP-2026)"),
        "{}",
        by("10.1")
    );
    assert!(!by("10.1").contains("has passed"), "{}", by("10.1"));
    // the open record is a plan at its `completed` date
    assert!(
        by("5.1").contains("planned for 2026-10-13 in IA-2026-04 (AP-2026)")
            || by("5.1").contains("planned for 2026-10-15 in IA-2026-04"),
        "{}",
        by("5.1")
    );
}

/// An audit completed before the cycle no longer counts, and the message says when it was.
#[test]
fn audit_before_the_cycle_does_not_count() {
    let s = Sms::sample();
    let f = not_audited(&s, &["--as-of", "2029-06-30"]);
    let subj = subjects(&f);
    // IA-2026-01 (completed 2026-03-12) covered 8.5.1.x: out of the 3-year cycle
    assert!(subj.contains(&"8.5.1.1"), "{subj:?}");
    let m = f.iter().find(|f| f["subject"] == "8.5.1.1").unwrap()["message"]
        .as_str()
        .unwrap();
    assert!(
        m.contains("last audited on 2026-03-12, before the cycle"),
        "{m}"
    );
    // IA-2026-04 (completed 2026-10-15) is still inside it
    assert!(!subj.contains(&"5.1"), "{subj:?}");
}

/// `audit_programme.cycle` in sms.yaml sets the cycle; a bad value is a config finding.
#[test]
fn configured_cycle() {
    let s = Sms::sample();
    let yaml = s.read("sms.yaml");
    s.file(
        "sms.yaml",
        &format!("{yaml}audit_programme:\n  cycle: 6 months\n"),
    );
    let subj: Vec<String> = subjects(&not_audited(&s, &[]))
        .into_iter()
        .map(String::from)
        .collect();
    assert!(subj.iter().any(|c| c == "8.5.1.1"), "{subj:?}");
    assert!(
        !subj.iter().any(|c| c == "8.6.1"),
        "IA-2026-02 is within 6 months: {subj:?}"
    );

    s.file(
        "sms.yaml",
        &format!("{yaml}audit_programme:\n  cycle: often\n"),
    );
    let r = s.check_json();
    let bad = r.findings("field-invalid");
    assert!(
        bad.iter().any(|f| f["subject"] == "sms.yaml#cycle"),
        "{bad:?}"
    );
    s.file(
        "sms.yaml",
        &format!("{yaml}audit_programme:\n  cylce: 1 year\n"),
    );
    let r = s.check_json();
    assert!(
        r.codes().iter().any(|c| c == "config-unknown-key"),
        "{}",
        r.stdout
    );
}

/// A clause id in `covered` that the framework lacks is `clause-unknown` at its line; a planned
/// date that is no date is `field-invalid`.
#[test]
fn covered_and_planned_are_checked() {
    let s = Sms::sample();
    s.edit(IA4, "  - \"9.2\"\n", "  - \"9.2\"\n  - \"9.9\"\n");
    s.edit(AP, "planned: 2026-10-20", "planned: October");
    let r = s.check_json();
    let unknown = r.findings("clause-unknown");
    assert!(
        unknown
            .iter()
            .any(|f| f["subject"] == "IA-2026-04#covered#9.9" && f["path"] == IA4),
        "{unknown:?}"
    );
    let invalid = r.findings("field-invalid");
    assert!(
        invalid
            .iter()
            .any(|f| f["subject"] == "AP-2026#audits#planned"
                && f["message"].as_str().unwrap().contains("`October`")),
        "{invalid:?}"
    );
}

/// Drops every `covered:` key (and its block list) from a YAML text, at any indentation.
fn without_covered(text: &str) -> String {
    let mut out = String::new();
    let mut skip_deeper: Option<usize> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some(d) = skip_deeper {
            if indent > d || (line.trim_start().starts_with("- ") && indent == d) {
                continue;
            }
            skip_deeper = None;
        }
        if line.trim_start().starts_with("covered:") {
            skip_deeper = Some(indent);
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Until some audit says what it covered there is nothing to compare with: no finding at all,
/// and one `covered:` list anywhere turns the check on for every clause.
#[test]
fn check_starts_once_an_audit_says_what_it_covered() {
    let s = Sms::sample();
    let files = [
        "records/internal-audit/ia-2026-01.yaml",
        "records/internal-audit/ia-2026-02.yaml",
        "records/internal-audit/ia-2026-03.yaml",
        IA4,
        AP,
    ];
    for f in files {
        let text = s.read(f);
        assert!(text.contains("covered:"), "{f}");
        s.file(f, &without_covered(&text));
    }
    assert_eq!(subjects(&not_audited(&s, &[])), Vec::<&str>::new());
    s.edit(IA4, "status: closed", "status: closed\ncovered: [\"9.2\"]");
    let f = not_audited(&s, &[]);
    let subj = subjects(&f);
    assert!(!subj.contains(&"9.2"), "{subj:?}");
    assert!(subj.contains(&"4.1") && subj.contains(&"8.2.6"), "{subj:?}");
}

/// The site's audit-programme page: a row per requirement clause with a cell per audit, and the
/// clauses still to audit this cycle; no page while no audit says what it covered.
#[test]
fn site_page_shows_the_heat_map_and_what_is_still_to_audit() {
    let s = Sms::sample();
    s.edit(IA4, "  - \"9.2\"\n", "");
    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    let r = crate::site::build(&s, &site);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let page = std::fs::read_to_string(site.join("audit-programme.html")).unwrap();
    // one column per audit, done or planned, in date order
    assert_eq!(page.matches("class=\"doc-col\"").count(), 5, "{page}");
    assert!(page.find("IA-2026-01").unwrap() < page.find("IA-2026-04").unwrap());
    // 9.2 is the one clause left: its row is marked and it is listed with the passed plan
    assert_eq!(page.matches("class=\"not-audited\"").count(), 1, "{page}");
    assert!(
        page.contains("1 of 56 clauses</strong> still to audit"),
        "{page}"
    );
    let still = &page[page.find("id=\"still-to-audit\"").unwrap()..];
    assert!(still.contains(">9.2<"), "{still}");
    assert!(
        still.contains("plan of 2026-10-20 (Internal audit process (AP-2026)) passed, not done"),
        "{still}"
    );
    // 4.1 was covered by IA-2026-04 on its completion date
    assert!(page.contains("audited 2026-10-15 (IA-2026-04)"), "{page}");
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(index.contains("href=\"audit-programme.html\""));

    // without any `covered:` there is no page and no link to it
    let s = Sms::sample();
    for f in [
        "records/internal-audit/ia-2026-01.yaml",
        "records/internal-audit/ia-2026-02.yaml",
        "records/internal-audit/ia-2026-03.yaml",
        IA4,
        AP,
    ] {
        let text = s.read(f);
        s.file(f, &without_covered(&text));
    }
    let site = out.path().join("site2");
    let r = crate::site::build(&s, &site);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!site.join("audit-programme.html").exists());
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(!index.contains("audit-programme.html"));
}
