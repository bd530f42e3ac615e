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

/// Two frameworks, each partly covered: 20000-1's 8.5.1.1 and sec:2024's A.1 are cited.
fn partly_covered() -> Sms {
    let sms = two_frameworks();
    sms.file(
        "policies/a.md",
        &doc("POL-A", &["8.5.1.1", "sec:2024:A.1"], "", "Body."),
    );
    sms
}

#[test]
fn json_and_human_reports_give_coverage_per_framework() {
    let sms = partly_covered();
    let r = sms.check_json();
    let j = r.json();
    let fws = j["frameworks"].as_array().unwrap();
    assert_eq!(fws.len(), 2);
    assert_eq!(fws[0]["id"], "iso20000-1:2018");
    assert_eq!(fws[0]["primary"], true);
    // Requirement clauses: 56 of the primary's 77 entries, 3 of sec:2024's 6 (4.1, 5.1, A.1).
    assert_eq!(fws[0]["coverage"]["clauses"], 56);
    assert_eq!(fws[1]["id"], "sec:2024");
    assert_eq!(fws[1]["primary"], false);
    assert_eq!(fws[1]["coverage"]["clauses"], 3);
    assert_eq!(fws[1]["coverage"]["covered"], 1); // A.1 (its heading A is not counted)
    assert_eq!(fws[1]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(j["coverage"]["clauses"], 59);
    assert_eq!(clause(&j, "sec:2024:A.1")["framework"], "sec:2024");
    assert_eq!(clause(&j, "8.5.1.1")["framework"], "iso20000-1:2018");
    // every coverage finding names its framework; others do not
    let fw_of = |subject: &str| {
        r.findings("clause-undocumented")
            .iter()
            .chain(r.findings("records-missing").iter())
            .find(|f| f["subject"] == subject)
            .unwrap_or_else(|| panic!("no finding about {subject}"))["framework"]
            .clone()
    };
    assert_eq!(fw_of("sec:2024:4.1"), "sec:2024");
    assert_eq!(fw_of("sec:2024:5.1#access-review"), "sec:2024");
    assert_eq!(fw_of("4.1"), "iso20000-1:2018");
    assert!(r
        .findings("review-overdue")
        .iter()
        .all(|f| f.get("framework").is_none()));

    // Human: one summary line per framework; the to-do list groups by framework, then clause.
    let h = sms.run("check", &[]);
    assert!(
        h.stdout
            .contains("Test Ltd — iso20000-1:2018 + sec:2024 — as of"),
        "{}",
        h.stdout
    );
    assert!(
        h.stdout.contains("\n  sec:2024: 1/3 (0 partial, 2 missing"),
        "{}",
        h.stdout
    );
    let primary = h
        .stdout
        .find("== iso20000-1:2018 — ")
        .expect("primary group");
    let second = h
        .stdout
        .find("== sec:2024 — In-house security baseline (2) ==")
        .expect("second group");
    assert!(primary < second);
    let scope = h
        .stdout
        .find("clause sec:2024:4.1 Scope of the baseline")
        .unwrap();
    assert!(scope > second && h.stdout[second..scope].contains("\nsec:2024:4 Context (1)\n"));
}

#[test]
fn junit_has_one_clause_suite_per_framework_and_sarif_names_the_framework() {
    let sms = partly_covered();
    let r = sms.run("check", &["--format", "junit"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let dir = tempfile::tempdir().unwrap();
    let file = crate::formats::write_temp(&dir, "junit.xml", &r.stdout);
    let xsd = crate::formats::schema("junit-10.xsd");
    crate::formats::xmllint(&["--noout", "--schema", xsd.to_str().unwrap()], &file);
    let q = |xpath: &str| {
        crate::formats::xmllint(&["--xpath", xpath], &file)
            .trim()
            .to_string()
    };
    assert_eq!(q("count(//testsuite)"), "3");
    let primary = "//testsuite[@name='auditbook.clauses.iso20000-1:2018']";
    let second = "//testsuite[@name='auditbook.clauses.sec:2024']";
    assert_eq!(q(&format!("count({primary}/testcase)")), "77");
    assert_eq!(q(&format!("count({second}/testcase)")), "6");
    assert_eq!(
        q(&format!(
            "string({second}/properties/property[@name='framework']/@value)"
        )),
        "sec:2024"
    );
    assert_eq!(q(&format!("string({second}/@failures)")), "4");
    assert_eq!(
        q(&format!(
            "count({second}/testcase[@name='sec:2024:A.1 Backups']/failure)"
        )),
        "0"
    );
    assert_eq!(
        q(&format!(
            "string({second}/testcase[@name='sec:2024:4.1 Scope of the baseline']/@classname)"
        )),
        "auditbook.clauses.sec:2024.4"
    );
    // the totals add up over the suites
    assert_eq!(q("string(/testsuites/@tests)"), q("count(//testcase)"));

    let r = sms.run("check", &["--format", "sarif"]);
    crate::formats::validate_sarif(&r.stdout);
    let log: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let scope = results
        .iter()
        .find(|x| {
            x["message"]["text"]
                .as_str()
                .unwrap()
                .contains("sec:2024:4.1 Scope")
        })
        .expect("a result for sec:2024:4.1");
    assert_eq!(scope["properties"]["framework"], "sec:2024");
}

/// The gate's repository: tiny:1 (primary, from the gate tests) and sec:2024; POL-S is the only
/// document for sec:2024:A.1.
fn gate_repo() -> crate::gate::Repo {
    let r = crate::gate::Repo::new(
        "organisation: Tiny Ltd\nscope: Everything.\nframeworks: [\"tiny:1\", \"sec:2024\"]\n",
        "",
    );
    r.file("frameworks/tiny.yaml", crate::gate::FRAMEWORK)
        .file("frameworks/sec.yaml", SEC)
        .file(
            "policies/a.md",
            &doc("POL-A", &["A.1", "A.3"], "", "The first policy."),
        )
        .file(
            "policies/s.md",
            &doc("POL-S", &["sec:2024:A.1"], "", "Backups."),
        );
    r.commit("Base SMS");
    r.branch("main");
    r
}

#[test]
fn the_gate_reports_a_clause_of_the_second_framework_losing_coverage() {
    let r = gate_repo();
    r.remove("policies/s.md");
    r.commit("Retire POL-S");
    let g = r.gate(&[]);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    let base = g.json()["base"].clone();
    let a1 = base["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "sec:2024:A.1")
        .cloned()
        .expect("sec:2024:A.1 changes status");
    assert_eq!(a1["framework"], "sec:2024");
    assert_eq!(a1["change"], "lost");
    let fws = base["frameworks"].as_array().unwrap();
    assert_eq!(fws.len(), 2);
    assert_eq!(
        (fws[0]["id"].as_str(), fws[0]["lost"].as_u64()),
        (Some("tiny:1"), Some(0))
    );
    assert_eq!(
        (fws[1]["id"].as_str(), fws[1]["lost"].as_u64()),
        (Some("sec:2024"), Some(1))
    );
    assert_eq!(fws[1]["base"]["covered"], 1);
    assert_eq!(fws[1]["head"]["covered"], 0);
    let new: Vec<_> = g.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["new"] == true && f["code"] == "clause-undocumented")
        .map(|f| {
            (
                f["subject"].as_str().unwrap().to_string(),
                f["framework"].clone(),
            )
        })
        .collect();
    assert_eq!(
        new,
        [("sec:2024:A.1".to_string(), serde_json::json!("sec:2024"))]
    );
    let h = r.check("", &["--base", "main"]);
    assert!(
        h.stdout
            .contains("    sec:2024: 1/3 at the base, 0/3 with the change (1 lost, 0 gained)"),
        "{}",
        h.stdout
    );
    assert!(
        h.stdout
            .contains("    sec:2024:A.1 Backups: covered -> missing"),
        "{}",
        h.stdout
    );
}

#[test]
fn the_gate_keeps_a_framework_the_change_drops() {
    let r = gate_repo();
    r.file(
        "sms.yaml",
        "organisation: Tiny Ltd\nscope: Everything.\nframeworks: [\"tiny:1\"]\n",
    );
    r.remove("policies/s.md");
    r.commit("Stop checking sec:2024");
    let g = r.gate(&[]);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    let weakened = g.findings("gate-config-weakened");
    assert!(
        weakened
            .iter()
            .any(|f| f["subject"] == "sms.yaml#frameworks.sec:2024" && f["line"] == 3),
        "{weakened:#?}"
    );
    // judged by the base's frameworks: the lost clause of sec:2024 is still reported
    assert!(g
        .findings("clause-undocumented")
        .iter()
        .any(|f| f["subject"] == "sec:2024:A.1"));
}

#[test]
fn framework_option_restricts_check_to_one_framework() {
    let sms = partly_covered();
    let r = sms.run("check", &["--format", "json", "--framework", "sec:2024"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let j = r.json();
    let ids: Vec<&str> = j["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "sec:2024:4",
            "sec:2024:4.1",
            "sec:2024:5",
            "sec:2024:5.1",
            "sec:2024:A",
            "sec:2024:A.1"
        ]
    );
    assert_eq!(j["frameworks"].as_array().unwrap().len(), 1);
    assert_eq!(j["coverage"]["clauses"], 3);
    // POL-A's citation of 8.5.1.1 is known, not checked: no finding about it or any 20000 clause
    for f in j["findings"].as_array().unwrap() {
        let s = f["subject"].as_str().unwrap();
        assert!(s.starts_with("sec:2024:") || !s.contains('.'), "{f:#}");
    }
    assert!(r.findings("clause-unknown").is_empty());
    // the primary alone
    let r = sms.run(
        "check",
        &["--format", "json", "--framework", "iso20000-1:2018"],
    );
    let j = r.json();
    assert_eq!(j["coverage"]["clauses"], 56);
    assert!(
        r.findings("clause-unknown").is_empty(),
        "sec:2024:A.1 is known"
    );
    // the human report names only that framework
    let h = sms.run("check", &["--framework", "sec:2024"]);
    assert!(
        h.stdout.contains("Test Ltd — sec:2024 — as of"),
        "{}",
        h.stdout
    );
    assert!(!h.stdout.contains("== "), "{}", h.stdout);
    // a framework sms.yaml does not load: exit 2 with the closest one
    let r = sms.run("check", &["--framework", "sec:2025"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("did you mean `sec:2024`?"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_site_has_a_coverage_panel_per_framework_and_a_framework_column() {
    let sms = partly_covered();
    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    let r = sms.run("build", &["--allow-dirty", "--out", site.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(
        index.contains("Coverage of ISO/IEC 20000-1:2018"),
        "{index}"
    );
    assert!(
        index.contains(
            "Coverage of In-house security baseline <span class=\"muted\">(sec:2024): 1 / 3</span>"
        ),
        "{index}"
    );
    // qualified clauses get pages whose names hold no `:`; links to them resolve
    assert!(site.join("clauses/sec_2024_A.1.html").is_file());
    let page = std::fs::read_to_string(site.join("documents/POL-A.html")).unwrap();
    assert!(page.contains("clauses/sec_2024_A.1.html"), "{page}");
    let matrix = std::fs::read_to_string(site.join("matrix.csv")).unwrap();
    assert!(
        matrix.starts_with("clause,framework,title,status,POL-A"),
        "{matrix}"
    );
    assert!(
        matrix.contains("\nsec:2024:A.1,sec:2024,Backups,covered,"),
        "{matrix}"
    );

    // --framework: only that framework's clause pages
    let only = out.path().join("only");
    let r = sms.run(
        "build",
        &[
            "--allow-dirty",
            "--out",
            only.to_str().unwrap(),
            "--framework",
            "sec:2024",
        ],
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(only.join("clauses/sec_2024_A.1.html").is_file());
    assert!(!only.join("clauses/8.5.1.1.html").exists());
    let index = std::fs::read_to_string(only.join("index.html")).unwrap();
    assert!(!index.contains("ISO/IEC 20000-1:2018 Service"), "{index}");
}

#[test]
fn the_bundle_manifest_lists_every_framework_with_hash_and_coverage() {
    let r = gate_repo();
    let out = tempfile::tempdir().unwrap();
    let zip = out.path().join("b.zip");
    let manifest = |args: &[&str]| {
        let mut c = auditbook();
        c.arg("bundle")
            .arg(r.root())
            .args(["--as-of", AS_OF, "--out", zip.to_str().unwrap()])
            .args(args);
        let run = run(c);
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        let f = std::fs::File::open(&zip).unwrap();
        let mut z = zip::ZipArchive::new(f).unwrap();
        let m: serde_json::Value =
            serde_json::from_reader(z.by_name("manifest.json").unwrap()).unwrap();
        let mut csv = String::new();
        std::io::Read::read_to_string(&mut z.by_name("coverage.csv").unwrap(), &mut csv).unwrap();
        (m, csv)
    };
    let (m, csv) = manifest(&[]);
    let fws = m["frameworks"].as_array().unwrap();
    assert_eq!(fws.len(), 2);
    assert_eq!(fws[0]["id"], "tiny:1");
    assert_eq!(fws[0]["primary"], true);
    assert_eq!(fws[1]["id"], "sec:2024");
    assert_eq!(fws[1]["coverage"]["clauses"], 3);
    assert_eq!(fws[1]["coverage"]["covered"], 1);
    use sha2::Digest;
    let hash: String = sha2::Sha256::digest(SEC.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(fws[1]["sha256"], hash.as_str());
    assert_eq!(m["framework"]["id"], "tiny:1");
    assert!(csv.starts_with("clause,framework,"), "{csv}");
    assert!(csv.contains("\r\nsec:2024:A.1,sec:2024,Backups,"), "{csv}");

    let (m, csv) = manifest(&["--framework", "sec:2024"]);
    let fws = m["frameworks"].as_array().unwrap();
    assert_eq!(fws.len(), 1);
    assert_eq!(fws[0]["id"], "sec:2024");
    assert!(!csv.contains("\r\nA.1,"), "{csv}");
}

/// GitHub and GitLab findings about a clause name its framework when several are checked; with
/// one framework they stay as they were.
#[test]
fn github_and_gitlab_name_the_framework_of_a_clause_finding() {
    let sms = partly_covered();
    let r = sms.run("check", &["--format", "github"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    // (GitHub shows 10 errors per step: the first ones, of the primary; GitLab has them all)
    assert!(
        r.stdout
            .contains("title=clause-undocumented [iso20000-1%3A2018]::"),
        "{}",
        r.stdout
    );
    let r = sms.run("check", &["--format", "gitlab"]);
    let issues: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let sec = issues
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["check_name"] == "clause-undocumented"
                && i["description"].as_str().unwrap().contains("sec:2024:4.1")
        })
        .unwrap();
    assert!(
        sec["description"]
            .as_str()
            .unwrap()
            .starts_with("[sec:2024] "),
        "{sec}"
    );
    // a finding about a file carries no framework
    sms.file("policies/b.md", "no frontmatter\n");
    let r = sms.run("check", &["--format", "github"]);
    assert!(
        r.stdout.contains("title=frontmatter-missing::"),
        "{}",
        r.stdout
    );

    let one = Sms::with_config(MINIMAL_CONFIG);
    let r = one.run("check", &["--format", "github"]);
    assert!(
        r.stdout.contains("title=clause-undocumented::"),
        "{}",
        r.stdout
    );
}

/// The site's clause tree is split per framework, and the document register says which
/// frameworks each document cites.
#[test]
fn the_clause_tree_is_per_framework_and_the_register_names_frameworks() {
    let sms = partly_covered();
    sms.file("policies/c.md", &doc("POL-C", &["9.2"], "", "Body."));
    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    let r = sms.run("build", &["--allow-dirty", "--out", site.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let tree = std::fs::read_to_string(site.join("clauses.html")).unwrap();
    let primary = tree
        .find("(iso20000-1:2018, primary): 0 of 56 requirement clauses covered")
        .unwrap_or_else(|| panic!("{tree}"));
    let second = tree
        .find("In-house security baseline <span class=\"muted\">(sec:2024): 1 of 3 requirement clauses covered")
        .unwrap_or_else(|| panic!("{tree}"));
    assert!(primary < second);
    // each framework's clauses under its own heading
    let a1 = tree.find("clauses/sec_2024_A.1.html").unwrap();
    let c851 = tree.find("clauses/8.5.1.1.html").unwrap();
    assert!(primary < c851 && c851 < second && second < a1);
    let register = std::fs::read_to_string(site.join("documents.csv")).unwrap();
    assert!(
        register.contains(",policies/a.md,iso20000-1:2018 sec:2024\n"),
        "{register}"
    );
    assert!(
        register.contains(",policies/c.md,iso20000-1:2018\n"),
        "{register}"
    );
}

/// The gate with the built-in ISO/IEC 27001:2022 as second framework: a change that retires the
/// only document for control A.5.15 loses that control, reported under 27001 and as a new
/// finding of that framework, and fails.
#[test]
fn the_gate_reports_a_change_losing_a_27001_control() {
    let r = crate::gate::Repo::new(
        "organisation: Tiny Ltd\nscope: Everything.\nframeworks: [\"tiny:1\", iso27001:2022]\n",
        "",
    );
    r.file("frameworks/tiny.yaml", crate::gate::FRAMEWORK)
        .file(
            "policies/a.md",
            &doc("POL-A", &["A.1", "A.3"], "", "The first policy."),
        )
        .file(
            "policies/ac.md",
            &doc(
                "POL-AC",
                &["iso27001:2022:A.5.15", "iso27001:2022:A.5.18"],
                "",
                "Access control.",
            ),
        );
    r.commit("Base SMS");
    r.branch("main");
    r.edit(
        "policies/ac.md",
        "[\"iso27001:2022:A.5.15\", \"iso27001:2022:A.5.18\"]",
        "[\"iso27001:2022:A.5.18\"]",
    );
    r.edit("policies/ac.md", "version: \"1.0\"", "version: \"1.1\"");
    r.commit("Access rights only");
    let g = r.gate(&[]);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    let base = &g.json()["base"];
    let fws = base["frameworks"].as_array().unwrap();
    let iso = fws.iter().find(|f| f["id"] == "iso27001:2022").unwrap();
    assert_eq!(iso["lost"], 1, "{iso}");
    assert_eq!(iso["gained"], 0, "{iso}");
    let lost: Vec<&str> = base["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["change"] == "lost")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(lost, ["iso27001:2022:A.5.15"]);
    let new: Vec<_> = g.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["new"] == true && f["code"] == "clause-undocumented")
        .map(|f| (f["subject"].clone(), f["framework"].clone()))
        .collect();
    assert_eq!(
        new,
        [(
            serde_json::json!("iso27001:2022:A.5.15"),
            serde_json::json!("iso27001:2022")
        )]
    );
}
