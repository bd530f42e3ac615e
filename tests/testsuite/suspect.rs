//! Change impact (`derives`): suspect links on real temporary git repositories with fixed commit
//! times — a policy's new approved version makes the procedure derived from it suspect until the
//! procedure is approved again or reviewed with no change; the gate lists the new suspect link;
//! without git the `approved` dates decide; broken `derives` entries are errors.

use crate::gate::{Repo, FRAMEWORK};
use crate::support::*;

const CONFIG: &str = "organisation: Tiny Ltd\nscope: Everything.\nframework: tiny:1\n";

/// Seconds since the epoch of noon UTC on `YYYY-MM-DD`.
fn noon(date: &str) -> i64 {
    let d: jiff::civil::Date = date.parse().unwrap();
    jiff::tz::Offset::UTC
        .to_timestamp(d.at(12, 0, 0, 0))
        .unwrap()
        .as_second()
}

/// An approved document of version `version`, approved on `approved`.
fn versioned(id: &str, clauses: &[&str], extra: &str, version: &str, approved: &str) -> String {
    doc(id, clauses, extra, &format!("The text of {id} v{version}."))
        .replace("version: \"1.0\"", &format!("version: \"{version}\""))
        .replace("approved: 2026-01-05", &format!("approved: {approved}"))
}

fn policy(version: &str, approved: &str) -> String {
    versioned("POL-CHG", &["A.1", "A.3"], "", version, approved)
}

fn procedure(version: &str, approved: &str) -> String {
    versioned(
        "PRO-CHG",
        &["A.2"],
        "derives: [POL-CHG]\n",
        version,
        approved,
    )
}

fn review(id: &str, date: &str, outcome: &str) -> String {
    format!("id: {id}\nkind: document-review\ndate: {date}\ntitle: Review of PRO-CHG\ndocument: PRO-CHG\nreviewer: hc\noutcome: {outcome}\n")
}

/// Policy and procedure v1.0, both landed on 2026-01-05; HEAD on `work`, branch `main` there.
fn base() -> Repo {
    let r = Repo::new(CONFIG, "");
    r.file("frameworks/tiny.yaml", FRAMEWORK)
        .file("policies/change.md", &policy("1.0", "2026-01-05"))
        .file("procedures/change.md", &procedure("1.0", "2026-01-05"))
        .file(
            "records/incident/i.yaml",
            "id: INC-1\nkind: incident\ndate: 2026-11-01\ntitle: Disk full\nstatus: closed\n",
        );
    r.commit_at("Base SMS", noon("2026-01-05"));
    r.branch("main");
    r
}

fn suspects(run: &Run) -> Vec<serde_json::Value> {
    run.findings("derived-from-changed")
}

#[test]
fn a_new_policy_version_makes_the_procedure_suspect_until_reviewed_or_approved() {
    let r = base();
    // Approved and landed on the same day: in line.
    let clean = r.check("", &["--format", "json"]);
    assert_eq!(clean.code, 0, "{}", clean.stdout);
    assert!(suspects(&clean).is_empty(), "{}", clean.stdout);

    r.file("policies/change.md", &policy("2.0", "2026-03-02"));
    r.commit_at("POL-CHG v2.0", noon("2026-03-02"));
    let run = r.check("", &["--format", "json"]);
    assert_eq!(run.code, 0, "a warning only: {}", run.stdout);
    let s = suspects(&run);
    assert_eq!(s.len(), 1, "{}", run.stdout);
    assert_eq!(s[0]["severity"], "warning");
    assert_eq!(s[0]["subject"], "PRO-CHG<-POL-CHG", "{}", s[0]);
    assert_eq!(s[0]["path"], "procedures/change.md");
    assert_eq!(s[0]["line"], 11, "at the `derives` line: {}", s[0]);
    let msg = s[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("PRO-CHG derives from POL-CHG, which changed to version 2.0 (landed on 2026-03-02) after PRO-CHG's last approval, of version 1.0 (landed on 2026-01-05)"),
        "{msg}"
    );
    let help = s[0]["help"].as_str().unwrap();
    assert!(
        help.contains("approve a new version of PRO-CHG")
            && help.contains("dated on or after 2026-03-02"),
        "{help}"
    );

    // A review that finds the procedure needs revision keeps it suspect, and says so.
    r.file(
        "records/document-review/r1.yaml",
        &review("DR-1", "2026-03-10", "revision-needed"),
    );
    r.commit_at("Review: PRO-CHG needs revision", noon("2026-03-10"));
    let run = r.check("", &["--format", "json"]);
    let s = suspects(&run);
    assert_eq!(s.len(), 1, "{}", run.stdout);
    assert!(
        s[0]["message"]
            .as_str()
            .unwrap()
            .contains("a review on 2026-03-10 found that it needs revision"),
        "{}",
        s[0]
    );

    // A no-change review dated before the change does not clear it; one after it does.
    r.file(
        "records/document-review/r0.yaml",
        &review("DR-0", "2026-02-01", "no-change"),
    );
    r.commit_at("An older review", noon("2026-03-11"));
    assert_eq!(suspects(&r.check("", &["--format", "json"])).len(), 1);
    r.file(
        "records/document-review/r2.yaml",
        &review("DR-2", "2026-03-20", "no-change"),
    );
    r.commit_at("Review: PRO-CHG still fits", noon("2026-03-20"));
    let run = r.check("", &["--format", "json"]);
    assert!(suspects(&run).is_empty(), "{}", run.stdout);

    // The next policy version makes it suspect again; a new procedure version clears it.
    r.file("policies/change.md", &policy("3.0", "2026-06-01"));
    r.commit_at("POL-CHG v3.0", noon("2026-06-01"));
    let run = r.check("", &["--format", "json"]);
    let s = suspects(&run);
    assert_eq!(s.len(), 1, "{}", run.stdout);
    assert!(
        s[0]["message"].as_str().unwrap().contains(
            "version 3.0 (landed on 2026-06-01) after PRO-CHG's last approval, of version 1.0 (landed on 2026-01-05), and its last no-change review on 2026-03-20"
        ),
        "{}",
        s[0]
    );
    r.file("procedures/change.md", &procedure("2.0", "2026-06-03"));
    r.commit_at("PRO-CHG v2.0", noon("2026-06-03"));
    let run = r.check("", &["--format", "json"]);
    assert!(suspects(&run).is_empty(), "{}", run.stdout);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn landing_dates_decide_not_the_approved_dates_when_git_has_them() {
    let r = base();
    // Approved on paper on 2026-03-01 but landed only on 2026-03-05 (one day of tolerance is
    // exceeded, so that is also a warning of its own); the procedure landed on 2026-03-03.
    r.file("procedures/change.md", &procedure("1.1", "2026-03-03"));
    r.commit_at("PRO-CHG v1.1", noon("2026-03-03"));
    r.file("policies/change.md", &policy("2.0", "2026-03-01"));
    r.commit_at("POL-CHG v2.0", noon("2026-03-05"));
    let run = r.check("", &["--format", "json"]);
    let s = suspects(&run);
    assert_eq!(s.len(), 1, "{}", run.stdout);
    assert!(
        s[0]["message"]
            .as_str()
            .unwrap()
            .contains("version 2.0 (landed on 2026-03-05)"),
        "{}",
        s[0]
    );
}

#[test]
fn a_revision_in_progress_of_the_parent_changes_nothing_until_it_is_approved() {
    let r = base();
    r.file(
        "policies/change.md",
        &policy("2.0", "2026-03-02").replace("status: approved", "status: draft"),
    );
    r.commit_at("POL-CHG v2.0 draft", noon("2026-03-02"));
    let run = r.check("", &["--format", "json"]);
    assert!(suspects(&run).is_empty(), "{}", run.stdout);
}

#[test]
fn the_gate_lists_the_suspect_link_a_policy_change_causes_as_new() {
    let r = base();
    r.file("policies/change.md", &policy("2.0", "2026-03-02"));
    r.commit_at("POL-CHG v2.0", noon("2026-03-02"));
    let run = r.gate(&[]);
    assert_eq!(
        run.code, 0,
        "a warning does not fail the gate: {}",
        run.stdout
    );
    let s = suspects(&run);
    assert_eq!(s.len(), 1, "{}", run.stdout);
    assert_eq!(s[0]["new"], true, "{}", s[0]);
    assert_eq!(s[0]["subject"], "PRO-CHG<-POL-CHG");

    // Human output names it among the new findings.
    let human = r.check("", &["--base", "main"]);
    assert!(
        human.stdout.contains("derived-from-changed") && human.stdout.contains("PRO-CHG"),
        "{}",
        human.stdout
    );

    // Once the link is suspect at the base, the same finding is no longer new.
    r.branch("main");
    r.file("procedures/change.md", &procedure("1.1", "2026-03-04"));
    r.commit_at("PRO-CHG v1.1", noon("2026-03-04"));
    let run = r.gate(&[]);
    assert!(suspects(&run).is_empty(), "{}", run.stdout);
    let resolved = run.json()["base"]["resolved"].to_string();
    assert!(
        resolved.contains("derived-from-changed"),
        "the change resolves the base's suspect link: {}",
        run.stdout
    );
}

#[test]
fn without_git_the_approved_dates_decide() {
    let sms = Sms::with_config(CONFIG);
    sms.file("frameworks/tiny.yaml", FRAMEWORK)
        .file("policies/change.md", &policy("2.0", "2026-03-02"))
        .file("procedures/change.md", &procedure("1.0", "2026-01-05"))
        // The first approved version of a parent counts too: this one was approved after the
        // document that derives from it.
        .file(
            "procedures/other.md",
            &versioned(
                "PRO-OTHER",
                &["A.2"],
                "derives: [POL-LATE]\n",
                "1.0",
                "2026-01-05",
            ),
        )
        .file(
            "policies/late.md",
            &versioned("POL-LATE", &["A.1"], "", "1.0", "2026-02-01"),
        );
    let run = sms.check_json();
    let s = suspects(&run);
    assert_eq!(s.len(), 2, "{}", run.stdout);
    let msgs: Vec<&str> = s.iter().map(|f| f["message"].as_str().unwrap()).collect();
    assert!(
        msgs.iter().any(|m| m.contains(
            "PRO-CHG derives from POL-CHG, which changed to version 2.0 (approved on 2026-03-02) after PRO-CHG's last approval, of version 1.0 (approved on 2026-01-05)"
        )),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("PRO-OTHER derives from POL-LATE")),
        "{msgs:?}"
    );

    // Approved the same day as the parent: in line. A draft child is never suspect.
    sms.file("procedures/change.md", &procedure("1.1", "2026-03-02"));
    sms.file(
        "procedures/other.md",
        &versioned(
            "PRO-OTHER",
            &["A.2"],
            "derives: [POL-LATE]\n",
            "1.0",
            "2026-01-05",
        )
        .replace("status: approved", "status: draft"),
    );
    let run = sms.check_json();
    assert!(suspects(&run).is_empty(), "{}", run.stdout);
}

#[test]
fn body_doc_links_never_make_a_document_suspect() {
    let sms = Sms::with_config(CONFIG);
    sms.file("frameworks/tiny.yaml", FRAMEWORK)
        .file("policies/change.md", &policy("2.0", "2026-03-02"))
        .file(
            "procedures/change.md",
            &doc(
                "PRO-CHG",
                &["A.2"],
                "",
                "Follows [the policy](doc:POL-CHG).",
            ),
        );
    let run = sms.check_json();
    assert!(suspects(&run).is_empty(), "{}", run.stdout);
}

#[test]
fn broken_derives_entries_are_errors_at_their_line() {
    let sms = Sms::with_config(CONFIG);
    sms.file("frameworks/tiny.yaml", FRAMEWORK)
        .file("policies/change.md", &policy("1.0", "2026-01-05"))
        .file(
            "procedures/change.md",
            &versioned(
                "PRO-CHG",
                &["A.2"],
                "derives: [POL-CHQ, PRO-CHG, INC-1, POL-CHG, pol-chg]\n",
                "1.0",
                "2026-01-05",
            ),
        )
        .file(
            "records/incident/i.yaml",
            "id: INC-1\nkind: incident\ndate: 2026-11-01\ntitle: Disk full\nstatus: closed\n",
        );
    let run = sms.check_json();
    assert_eq!(run.code, 1, "{}", run.stdout);
    let b = run.findings("broken-derives");
    assert_eq!(b.len(), 4, "{}", run.stdout);
    for f in &b {
        assert_eq!(f["severity"], "error");
        assert_eq!(f["path"], "procedures/change.md");
        assert_eq!(f["line"], 11, "{f}");
    }
    let text = serde_json::Value::Array(b).to_string();
    for want in [
        "names `POL-CHQ`, which is no document of the SMS",
        "did you mean `POL-CHG`?",
        "PRO-CHG lists itself in `derives`",
        "names `INC-1`, which is a record, not a document",
        "PRO-CHG lists `pol-chg` twice in `derives`",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
}

#[test]
fn adding_derives_to_an_approved_document_is_a_change_of_controlled_content() {
    let r = Repo::new(CONFIG, "");
    r.file("frameworks/tiny.yaml", FRAMEWORK)
        .file("policies/change.md", &policy("1.0", "2026-01-05"))
        .file(
            "procedures/change.md",
            &versioned("PRO-CHG", &["A.2"], "", "1.0", "2026-01-05"),
        );
    r.commit_at("Base SMS", noon("2026-01-05"));
    r.file("procedures/change.md", &procedure("1.0", "2026-01-05"));
    r.commit_at("PRO-CHG derives from POL-CHG", noon("2026-01-06"));
    let run = r.check("", &["--format", "json"]);
    let c = run.findings("changed-after-approval");
    assert_eq!(c.len(), 1, "{}", run.stdout);
    assert_eq!(c[0]["subject"], "PRO-CHG");
}

#[test]
fn the_site_shows_suspect_links_on_both_pages_and_the_dashboard() {
    let r = base();
    r.file(
        "procedures/other.md",
        &versioned(
            "PRO-OTHER",
            &["A.2"],
            "derives: [POL-CHG]\n",
            "2.0",
            "2026-03-03",
        ),
    );
    r.file("policies/change.md", &policy("2.0", "2026-03-02"));
    r.commit_at("POL-CHG v2.0", noon("2026-03-02"));
    // PRO-OTHER lands after the policy's change: current; PRO-CHG is suspect.
    r.file(
        "procedures/other.md",
        &versioned(
            "PRO-OTHER",
            &["A.2"],
            "derives: [POL-CHG]\n",
            "2.1",
            "2026-03-03",
        ),
    );
    r.commit_at("PRO-OTHER v2.1", noon("2026-03-03"));
    let out = r.root().join("_site");
    let mut c = auditbook();
    c.arg("build")
        .arg(r.root())
        .args(["--out", out.to_str().unwrap(), "--as-of", AS_OF]);
    let run = run(c);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let child = crate::site::main_of(&crate::site::read(&out, "documents/PRO-CHG.html"));
    assert!(
        child.contains("<strong>Suspect:</strong> derives from <a href=\"../documents/POL-CHG.html\"><span class=\"id\">POL-CHG</span> Document POL-CHG</a>, which changed to version 2.0 on 2026-03-02 after this document's last approval on 2026-01-05."),
        "{child}"
    );
    assert!(child.contains("<h2>Derives from</h2>"), "{child}");
    assert!(child.contains("link-suspect\">suspect</span>"), "{child}");

    let parent = crate::site::main_of(&crate::site::read(&out, "documents/POL-CHG.html"));
    let derived = parent
        .split("<h2>Documents derived from this one</h2>")
        .nth(1)
        .unwrap_or_else(|| panic!("no derived list: {parent}"));
    let derived = derived.split("</ul>").next().unwrap();
    assert!(
        derived.contains("PRO-CHG</span> Document PRO-CHG</a> <span class=\"muted\">v1.0</span> <span class=\"link-state link-suspect\">suspect</span>"),
        "{derived}"
    );
    assert!(
        derived.contains("PRO-OTHER</span> Document PRO-OTHER</a> <span class=\"muted\">v2.1</span> <span class=\"link-state link-current\">current</span>"),
        "{derived}"
    );
    assert!(!parent.contains("<strong>Suspect:</strong>"), "{parent}");

    let other = crate::site::main_of(&crate::site::read(&out, "documents/PRO-OTHER.html"));
    assert!(!other.contains("<strong>Suspect:</strong>"), "{other}");

    let dash = crate::site::main_of(&crate::site::read(&out, "index.html"));
    let list = dash
        .split("id=\"h_suspect\">")
        .nth(1)
        .unwrap_or_else(|| panic!("no suspect list: {dash}"));
    let list = list.split("</section>").next().unwrap();
    assert!(
        list.starts_with("Suspect links <span class=\"muted\">(1 of 2 links)</span>"),
        "{list}"
    );
    assert!(
        list.contains("<a href=\"documents/PRO-CHG.html\"><span class=\"id\">PRO-CHG</span> Document PRO-CHG</a> derives from <a href=\"documents/POL-CHG.html\"><span class=\"id\">POL-CHG</span></a>, which changed to version 2.0 on 2026-03-02"),
        "{list}"
    );
    assert!(!list.contains("PRO-OTHER"), "{list}");
}

#[test]
fn the_dashboard_has_no_suspect_list_when_nothing_derives() {
    let sms = Sms::with_config(CONFIG);
    sms.file("frameworks/tiny.yaml", FRAMEWORK)
        .file("policies/change.md", &policy("1.0", "2026-01-05"));
    let out = sms.path().join("_site");
    let run = crate::site::build(&sms, &out);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let dash = crate::site::read(&out, "index.html");
    assert!(!dash.contains("Suspect links"), "{dash}");
}

#[test]
fn a_child_in_revision_is_judged_by_its_version_in_force() {
    let r = base();
    r.file("policies/change.md", &policy("2.0", "2026-03-02"));
    r.commit_at("POL-CHG v2.0", noon("2026-03-02"));
    // The procedure's next revision is a draft: v1.0 is still in force, and still suspect.
    r.file(
        "procedures/change.md",
        &procedure("1.1", "2026-03-05").replace("status: approved", "status: draft"),
    );
    r.commit_at("PRO-CHG v1.1 draft", noon("2026-03-05"));
    let run = r.check("", &["--format", "json"]);
    let s = suspects(&run);
    assert_eq!(s.len(), 1, "{}", run.stdout);
    assert!(
        s[0]["message"]
            .as_str()
            .unwrap()
            .contains("last approval, of version 1.0 (landed on 2026-01-05)"),
        "{}",
        s[0]
    );
    // A retired parent has no new version in force: nothing to judge.
    r.file(
        "policies/change.md",
        &policy("2.0", "2026-03-02").replace("status: approved", "status: retired"),
    );
    r.commit_at("POL-CHG retired", noon("2026-03-06"));
    let run = r.check("", &["--format", "json"]);
    assert!(suspects(&run).is_empty(), "{}", run.stdout);
}

/// `auditbook todo` lists a suspect document under its owner, with what to check.
#[test]
fn todo_lists_the_suspect_document_under_its_owner() {
    let r = base();
    r.file("policies/change.md", &policy("2.0", "2026-03-02"));
    r.commit_at("POL-CHG v2.0", noon("2026-03-02"));
    let mut c = auditbook();
    c.arg("todo")
        .arg(r.root())
        .args(["--format", "json", "--as-of", AS_OF]);
    let t = run(c);
    assert_eq!(t.code, 0, "{}{}", t.stdout, t.stderr);
    let owners = t.json()["owners"].as_array().unwrap().clone();
    let suspect: Vec<&serde_json::Value> = owners
        .iter()
        .flat_map(|o| o["items"].as_array().unwrap())
        .filter(|i| i["task"] == "suspect")
        .collect();
    assert_eq!(suspect.len(), 1, "{}", t.stdout);
    assert_eq!(suspect[0]["id"], "PRO-CHG");
    assert!(
        suspect[0]["action"].as_str().unwrap().contains("POL-CHG"),
        "{}",
        suspect[0]
    );
    let owner = owners
        .iter()
        .find(|o| {
            o["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["task"] == "suspect")
        })
        .unwrap();
    assert_eq!(owner["owner"], "Owner", "{owner}");
}
