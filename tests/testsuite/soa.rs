//! The Statement of Applicability of ISO/IEC 27001:2022 (`controls:` table of the document that
//! provides `iso27001:2022:statement-of-applicability`): each rule with a fixture that triggers it
//! and the clean fixture that does not; exclusions in coverage; the SoA as controlled content; the
//! gate losing a 27001 control.

use crate::support::*;

pub const CONFIG: &str =
    "organisation: Test Ltd\nscope: Test services.\nframeworks: [iso20000-1:2018, iso27001:2022]\n";

/// The 93 Annex A controls of ISO/IEC 27001:2022, in order.
pub fn controls() -> Vec<String> {
    [(5, 37), (6, 8), (7, 14), (8, 34)]
        .iter()
        .flat_map(|&(theme, n)| (1..=n).map(move |i| format!("A.{theme}.{i}")))
        .collect()
}

/// One table entry: applicable and implemented by POL-IS, or excluded with a justification.
fn entry(control: &str) -> String {
    match control {
        "A.7.5" => "  - control: A.7.5\n    applicable: no\n    justification: We run no premises of our own; the hosting provider protects its buildings.\n".to_string(),
        c => format!("  - control: {c}\n    applicable: yes\n    status: implemented\n    implemented_by: [POL-IS]\n"),
    }
}

/// The full, clean table (A.7.5 excluded).
pub fn table() -> String {
    controls().iter().map(|c| entry(c)).collect()
}

/// The SoA document with a `controls:` table and a status.
pub fn soa_doc(table: &str, status: &str) -> String {
    format!(
        "---\nid: SOA\ntitle: Statement of Applicability\ntype: register\nowner: Owner\napprover: Approver\nversion: \"1.0\"\nstatus: {status}\napproved: 2026-01-05\nclauses: [\"iso27001:2022:6.1.3\"]\nprovides: [iso27001:2022:statement-of-applicability]\ncontrols:\n{table}---\n\n# Statement of Applicability\n\nThe table is in the frontmatter.\n"
    )
}

/// An SMS checking 20000-1 (primary) and 27001, with a clean SoA and POL-IS citing every control.
fn sms_with(table: &str) -> Sms {
    let sms = Sms::with_config(CONFIG);
    let cited: Vec<String> = controls()
        .iter()
        .map(|c| format!("iso27001:2022:{c}"))
        .collect();
    let cited: Vec<&str> = cited.iter().map(String::as_str).collect();
    sms.file(
        "policies/is.md",
        &doc("POL-IS", &cited, "", "Information security controls."),
    );
    sms.file("registers/soa.md", &soa_doc(table, "approved"));
    sms
}

fn soa_codes(r: &Run) -> Vec<String> {
    let mut v: Vec<String> = r
        .codes()
        .into_iter()
        .filter(|c| c.starts_with("soa-"))
        .collect();
    v.sort();
    v
}

fn clause<'a>(j: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    j["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no clause {id}"))
}

fn line_of(text: &str, needle: &str) -> u64 {
    text.lines().position(|l| l.contains(needle)).unwrap() as u64 + 1
}

#[test]
fn a_complete_soa_gives_no_soa_finding_and_its_exclusion_counts() {
    let sms = sms_with(&table());
    let r = sms.check_json();
    assert!(soa_codes(&r).is_empty(), "{:?}", soa_codes(&r));
    let j = r.json();
    // A.7.5 is excluded: needs no evidence, is not counted among the applicable clauses.
    assert_eq!(clause(&j, "iso27001:2022:A.7.5")["status"], "excluded");
    assert_eq!(clause(&j, "iso27001:2022:A.7.4")["status"], "covered");
    assert!(r
        .findings("clause-undocumented")
        .iter()
        .all(|f| f["subject"] != "iso27001:2022:A.7.5"));
    let fw = j["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "iso27001:2022")
        .cloned()
        .unwrap();
    assert_eq!(fw["coverage"]["excluded"], 1, "{fw:#?}");
    // clauses 4-10 (41 less the headings) plus the 92 applicable controls
    assert_eq!(
        fw["coverage"]["missing"].as_u64().unwrap()
            + fw["coverage"]["covered"].as_u64().unwrap()
            + fw["coverage"]["partial"].as_u64().unwrap(),
        fw["coverage"]["clauses"].as_u64().unwrap()
    );
    let human = sms.run("check", &[]);
    assert!(
        human
            .stdout
            .contains("with a review overdue); 1 excluded by the Statement of Applicability"),
        "{}",
        human.stdout
    );
    // A framework list without 27001 runs no SoA rule, and nothing is excluded.
    let plain = Sms::new();
    plain.file("policies/a.md", &doc("POL-A", &["4.1"], "", "Body."));
    assert!(soa_codes(&plain.check_json()).is_empty());
}

#[test]
fn soa_missing_when_27001_is_a_framework_without_one() {
    let sms = sms_with(&table());
    sms.remove("registers/soa.md");
    let r = sms.check_json();
    let f = r.findings("soa-missing");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["path"], "sms.yaml");
    // Without an SoA nothing is excluded: A.7.5 needs evidence like any other control.
    assert_eq!(
        clause(&r.json(), "iso27001:2022:A.7.5")["status"],
        "covered"
    );
}

#[test]
fn a_control_without_an_entry_is_reported_at_the_table() {
    let t: String = controls()
        .iter()
        .filter(|c| *c != "A.8.34")
        .map(|c| entry(c))
        .collect();
    let sms = sms_with(&t);
    let r = sms.check_json();
    assert_eq!(soa_codes(&r), ["soa-control-missing"]);
    let f = &r.findings("soa-control-missing")[0];
    assert_eq!(f["subject"], "SOA#A.8.34");
    assert_eq!(f["path"], "registers/soa.md");
    assert_eq!(
        f["line"],
        line_of(&sms.read("registers/soa.md"), "controls:")
    );
    assert!(f["message"]
        .as_str()
        .unwrap()
        .contains("A.8.34 Protection of information systems during audit testing"));
}

#[test]
fn an_exclusion_without_justification_is_reported_and_does_not_count() {
    let t = table().replace(
        "    justification: We run no premises of our own; the hosting provider protects its buildings.\n",
        "    justification: \"  \"\n",
    );
    let sms = sms_with(&t);
    // POL-IS no longer covers A.7.5, so its coverage shows whether the exclusion counted.
    sms.edit("policies/is.md", "\"iso27001:2022:A.7.5\", ", "");
    let r = sms.check_json();
    assert_eq!(soa_codes(&r), ["soa-justification-missing"]);
    let f = &r.findings("soa-justification-missing")[0];
    assert_eq!(f["subject"], "SOA#A.7.5");
    let text = sms.read("registers/soa.md");
    assert_eq!(f["line"], line_of(&text, "applicable: no"));
    assert_eq!(
        clause(&r.json(), "iso27001:2022:A.7.5")["status"],
        "missing"
    );
}

#[test]
fn clauses_4_to_10_cannot_be_excluded() {
    let t = format!(
        "{}  - control: \"6.1.3\"\n    applicable: no\n    justification: We would rather not.\n",
        table()
    );
    let sms = sms_with(&t);
    let r = sms.check_json();
    assert_eq!(soa_codes(&r), ["soa-exclusion-not-allowed"]);
    let f = &r.findings("soa-exclusion-not-allowed")[0];
    assert_eq!(f["subject"], "SOA#6.1.3");
    assert_ne!(
        clause(&r.json(), "iso27001:2022:6.1.3")["status"],
        "excluded"
    );
}

#[test]
fn an_applicable_control_needs_known_implementing_documents() {
    let t = table()
        .replace(
            "  - control: A.5.1\n    applicable: yes\n    status: implemented\n    implemented_by: [POL-IS]\n",
            "  - control: A.5.1\n    applicable: yes\n    status: planned\n",
        )
        .replace(
            "  - control: A.5.2\n    applicable: yes\n    status: implemented\n    implemented_by: [POL-IS]\n",
            "  - control: A.5.2\n    applicable: yes\n    status: implemented\n    implemented_by: [POL-IS, POL-ISS]\n",
        );
    let sms = sms_with(&t);
    let r = sms.check_json();
    assert_eq!(
        soa_codes(&r),
        ["soa-implementation-missing", "soa-implementation-unknown"]
    );
    assert_eq!(
        r.findings("soa-implementation-missing")[0]["subject"],
        "SOA#A.5.1"
    );
    let u = &r.findings("soa-implementation-unknown")[0];
    assert_eq!(u["subject"], "SOA#A.5.2#POL-ISS");
    assert_eq!(u["line"], line_of(&sms.read("registers/soa.md"), "POL-ISS"));
    assert!(u["help"].as_str().unwrap().contains("POL-IS"), "{u:#?}");
}

#[test]
fn a_draft_soa_is_reported_and_its_exclusions_do_not_count() {
    let sms = sms_with(&table());
    sms.file("registers/soa.md", &soa_doc(&table(), "draft"));
    sms.edit("policies/is.md", "\"iso27001:2022:A.7.5\", ", "");
    let r = sms.check_json();
    assert_eq!(soa_codes(&r), ["soa-not-approved"]);
    assert_eq!(
        r.findings("soa-not-approved")[0]["path"],
        "registers/soa.md"
    );
    assert_eq!(
        clause(&r.json(), "iso27001:2022:A.7.5")["status"],
        "missing"
    );
}

#[test]
fn malformed_entries_are_soa_invalid_with_their_line() {
    let t = format!(
        "{}  - control: A.9.1\n    applicable: yes\n    implemented_by: [POL-IS]\n  - control: A.5.3\n    applicable: maybe\n    implemented_by: [POL-IS]\n  - control: A.5.4\n    applicable: yes\n    implemnted_by: [POL-IS]\n  - just text\n",
        table()
    );
    let sms = sms_with(&t);
    let r = sms.check_json();
    let f = r.findings("soa-invalid");
    let text = sms.read("registers/soa.md");
    let msgs: Vec<(u64, String)> = f
        .iter()
        .map(|x| {
            (
                x["line"].as_u64().unwrap(),
                x["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let has = |line: u64, part: &str| msgs.iter().any(|(l, m)| *l == line && m.contains(part));
    assert!(
        has(
            line_of(&text, "A.9.1"),
            "`A.9.1` is not a clause or control"
        ),
        "{msgs:#?}"
    );
    assert!(
        has(line_of(&text, "applicable: maybe"), "must be yes or no"),
        "{msgs:#?}"
    );
    assert!(
        has(
            line_of(&text, "implemnted_by"),
            "did you mean `implemented_by`"
        ),
        "{msgs:#?}"
    );
    assert!(
        has(line_of(&text, "- just text"), "must be a mapping"),
        "{msgs:#?}"
    );
    // the second entries for A.5.3 and A.5.4 are reported; the first ones count
    assert!(
        msgs.iter()
            .any(|(_, m)| m.contains("`A.5.3` has a second entry")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter()
            .any(|(_, m)| m.contains("`A.5.4` has a second entry")),
        "{msgs:#?}"
    );
    assert!(r.findings("soa-control-missing").is_empty());
}

#[test]
fn applicability_naming_an_excluded_control_conflicts_with_the_soa() {
    let sms = sms_with(&table());
    sms.file(
        "sms.yaml",
        &format!(
            "{CONFIG}applicability:\n  - clause: \"iso27001:2022:A.7.5\"\n    party: Hosting Ltd\n"
        ),
    );
    let r = sms.check_json();
    assert_eq!(soa_codes(&r), ["soa-applicability-conflict"]);
    let f = &r.findings("soa-applicability-conflict")[0];
    assert_eq!(f["path"], "sms.yaml");
    assert_eq!(f["line"], 5);
    // the SoA decides
    assert_eq!(
        clause(&r.json(), "iso27001:2022:A.7.5")["status"],
        "excluded"
    );
}

#[test]
fn a_table_changed_after_approval_without_a_new_version_is_caught() {
    let repo = crate::gate::Repo::new(CONFIG, "");
    let cited: Vec<String> = controls()
        .iter()
        .map(|c| format!("iso27001:2022:{c}"))
        .collect();
    let cited: Vec<&str> = cited.iter().map(String::as_str).collect();
    repo.file("policies/is.md", &doc("POL-IS", &cited, "", "Controls."))
        .file("registers/soa.md", &soa_doc(&table(), "approved"));
    repo.commit("SoA approved");
    // Flip one control to excluded: the table is controlled content.
    repo.edit(
        "registers/soa.md",
        "  - control: A.8.33\n    applicable: yes\n    status: implemented\n    implemented_by: [POL-IS]\n",
        "  - control: A.8.33\n    applicable: no\n    justification: No test data.\n",
    );
    repo.commit("Exclude A.8.33 quietly");
    let r = repo.check("", &["--format", "json"]);
    let f = r.findings("changed-after-approval");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert_eq!(f[0]["subject"], "SOA");
}

#[test]
fn the_gate_reports_a_27001_control_losing_coverage() {
    let repo = crate::gate::Repo::new(CONFIG, "");
    let cited: Vec<String> = controls()
        .iter()
        .filter(|c| *c != "A.5.15")
        .map(|c| format!("iso27001:2022:{c}"))
        .collect();
    let cited: Vec<&str> = cited.iter().map(String::as_str).collect();
    repo.file("policies/is.md", &doc("POL-IS", &cited, "", "Controls."))
        .file(
            "policies/access.md",
            &doc("POL-ACC", &["iso27001:2022:A.5.15"], "", "Access control."),
        )
        .file("registers/soa.md", &soa_doc(&table(), "approved"));
    repo.commit("Base SMS");
    repo.branch("main");
    repo.remove("policies/access.md");
    repo.commit("Drop the access control policy");
    let g = repo.gate(&[]);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    let base = g.json()["base"].clone();
    let lost: Vec<_> = base["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["change"] == "lost")
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["framework"].clone(),
            )
        })
        .collect();
    // the control, and the headings above it that were covered through it
    let fw = serde_json::json!("iso27001:2022");
    assert_eq!(
        lost,
        [
            ("iso27001:2022:A".to_string(), fw.clone()),
            ("iso27001:2022:A.5".to_string(), fw.clone()),
            ("iso27001:2022:A.5.15".to_string(), fw)
        ]
    );
}

#[test]
fn the_site_renders_the_soa_as_a_table_linked_both_ways_and_as_csv() {
    let t = table().replace(
        "  - control: A.5.24\n    applicable: yes\n    status: implemented\n    implemented_by: [POL-IS]\n",
        "  - control: A.5.24\n    applicable: yes\n    status: partial\n    implemented_by: [POL-IS, INC-1]\n",
    );
    let sms = sms_with(&t);
    sms.file(
        "records/incident/inc-1.yaml",
        "id: INC-1\nkind: incident\ndate: 2026-10-01\ntitle: Phishing mail reported\n",
    );
    let out = sms.path().join("_site");
    let r = crate::site::build(&sms, &out);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let soa = crate::site::main_of(&crate::site::read(&out, "soa.html"));
    // the row of an excluded control, with its justification and coverage
    let row = soa
        .lines()
        .find(|l| l.contains("id=\"row-iso27001_2022_A.7.5\""))
        .unwrap_or_else(|| panic!("no A.7.5 row:\n{soa}"));
    assert!(row.contains("<td>no</td>"), "{row}");
    assert!(row.contains("We run no premises of our own"), "{row}");
    assert!(
        row.contains("Excluded (Statement of Applicability)"),
        "{row}"
    );
    // the dashboard's coverage card and the 27001 panel say how many controls are excluded
    let index = crate::site::main_of(&crate::site::read(&out, "index.html"));
    assert!(
        index.contains(
            "; 1 control excluded by the <a href=\"soa.html\">Statement of Applicability</a>"
        ),
        "{index}"
    );
    assert!(
        index.contains(", 1 excluded by the SoA</span></h2>"),
        "{index}"
    );
    // SoA row -> control page and implementing document and record
    let row = soa
        .lines()
        .find(|l| l.contains("id=\"row-iso27001_2022_A.5.24\""))
        .unwrap();
    assert!(
        row.contains("href=\"clauses/iso27001_2022_A.5.24.html\""),
        "{row}"
    );
    assert!(row.contains("href=\"documents/POL-IS.html\""), "{row}");
    assert!(row.contains("href=\"records/INC-1.html\""), "{row}");
    assert!(row.contains("<td>partial</td>"), "{row}");
    assert!(soa.contains("92 applicable, 1 excluded"), "{soa}");
    // control page -> SoA row
    let clause = crate::site::read(&out, "clauses/iso27001_2022_A.5.24.html");
    assert!(
        clause.contains("href=\"../soa.html#row-iso27001_2022_A.5.24\""),
        "{}",
        crate::site::main_of(&clause)
    );
    // implementing document and record -> the controls they implement
    let docp = crate::site::read(&out, "documents/POL-IS.html");
    assert!(docp.contains("Implements (Statement of Applicability)"));
    assert!(docp.contains("href=\"../clauses/iso27001_2022_A.5.24.html\""));
    let recp = crate::site::main_of(&crate::site::read(&out, "records/INC-1.html"));
    assert!(
        recp.contains("href=\"../clauses/iso27001_2022_A.5.24.html\""),
        "{recp}"
    );
    assert!(!recp.contains("A.5.23.html"), "{recp}");
    // the nav links the page; the CSV holds one row per control
    assert!(crate::site::read(&out, "index.html").contains("href=\"soa.html\""));
    let csv = crate::site::read(&out, "soa.csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "control,title,applicable,justification,status,implemented_by,coverage"
    );
    assert_eq!(lines.len(), 94);
    assert!(lines.contains(&"A.5.24,Information security incident management planning and preparation,yes,,partial,POL-IS INC-1,covered"), "{csv}");
    // the SoA's reasons are in the offline search index
    assert!(crate::search::Index::load(&out)
        .search("premises our own")
        .iter()
        .any(|h| h.kind == "clause"));
    crate::site::check_links(&out);
}

#[test]
fn the_bundle_carries_the_soa_and_its_manifest_entry() {
    let repo = crate::gate::Repo::new(CONFIG, "");
    let cited: Vec<String> = controls()
        .iter()
        .map(|c| format!("iso27001:2022:{c}"))
        .collect();
    let cited: Vec<&str> = cited.iter().map(String::as_str).collect();
    repo.file("policies/is.md", &doc("POL-IS", &cited, "", "Controls."))
        .file("registers/soa.md", &soa_doc(&table(), "approved"));
    repo.commit("SMS with an SoA");
    let out = tempfile::tempdir().unwrap();
    let zip = out.path().join("b.zip");
    let mut c = auditbook();
    c.arg("bundle")
        .arg(repo.root())
        .args(["--as-of", AS_OF, "--out", zip.to_str().unwrap()]);
    let r = run(c);
    assert!(r.code == 0 || r.code == 1, "{}{}", r.stdout, r.stderr);
    let mut z = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
    let m: serde_json::Value =
        serde_json::from_reader(z.by_name("manifest.json").unwrap()).unwrap();
    let s = &m["statement_of_applicability"];
    assert_eq!(s["document"], "SOA");
    assert_eq!(s["version"], "1.0");
    assert_eq!(s["status"], "approved");
    assert_eq!(s["path"], "registers/soa.md");
    assert_eq!(
        (
            s["controls"].as_u64(),
            s["applicable"].as_u64(),
            s["excluded"].as_u64(),
            s["undecided"].as_u64()
        ),
        (Some(93), Some(92), Some(1), Some(0))
    );
    let names: Vec<String> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    for want in ["site/soa.html", "site/soa.csv", "sources/registers/soa.md"] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
    }
    let mut v = auditbook();
    v.arg("verify").arg(&zip);
    assert_eq!(run(v).code, 0);
    // Without 27001 among the frameworks the manifest has no SoA entry.
    let plain = crate::gate::Repo::new(MINIMAL_CONFIG, "");
    plain.file("policies/a.md", &doc("POL-A", &["4.1"], "", "Body."));
    plain.commit("Plain SMS");
    let mut c = auditbook();
    c.arg("bundle")
        .arg(plain.root())
        .args(["--as-of", AS_OF, "--out", zip.to_str().unwrap()]);
    run(c);
    let mut z = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
    let m: serde_json::Value =
        serde_json::from_reader(z.by_name("manifest.json").unwrap()).unwrap();
    assert!(m.get("statement_of_applicability").is_none());
}

/// The starter kit's SoA template (written by init for 27001, with plain 27001 ids): every
/// Annex A control has an entry that reads, each names documents of the kit, and it is a draft.
#[test]
fn the_kit_template_lists_every_control_and_reads_cleanly() {
    let text = std::fs::read_to_string(
        repo_root().join("policy-templates/iso27001-2022/sms/statement-of-applicability.md"),
    )
    .unwrap();
    let sms = Sms::with_config(
        "organisation: Test Ltd\nscope: Test services.\nframeworks: [iso27001:2022, iso20000-1:2018]\n",
    );
    sms.file("sms/soa.md", &text.replace("{{organisation}}", "Test Ltd"));
    for id in [
        "POL-ISEC",
        "PRO-ISEC",
        "PRO-ACM",
        "PRO-SUP",
        "PRO-INC",
        "PLN-CONT",
        "PRO-AUDIT",
        "PRO-DOC",
        "SMS-ROLES",
        "SMS-COMP",
        "PRO-CAP",
        "PRO-CHG",
        "PRO-SDT",
    ] {
        sms.file(&format!("kit/{id}.md"), &doc(id, &[], "", "Kit document."));
    }
    let r = sms.check_json();
    assert_eq!(
        soa_codes(&r),
        ["soa-not-approved"],
        "{:#?}",
        r.findings("soa-invalid")
    );
    assert_eq!(text.matches("  - control: A.").count(), 93);
}

/// The sample is an integrated 20000-1 + 27001 SMS: its SoA decides all 93 controls (three
/// justified exclusions), every applicable control and every 27001 clause is covered, and no
/// SoA rule fires.
#[test]
fn the_sample_is_an_integrated_sms_with_a_clean_soa() {
    let sample = Sms::sample();
    let r = sample.check_json();
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(soa_codes(&r).is_empty(), "{:?}", soa_codes(&r));
    let j = r.json();
    let fw = j["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "iso27001:2022")
        .cloned()
        .expect("27001 is a framework of the sample");
    assert_eq!(fw["primary"], false);
    assert_eq!(fw["coverage"]["excluded"], 3, "{fw:#?}");
    assert_eq!(fw["coverage"]["missing"], 0, "{fw:#?}");
    assert_eq!(fw["coverage"]["partial"], 0, "{fw:#?}");
    for c in ["A.8.25", "A.8.28", "A.8.30"] {
        assert_eq!(
            clause(&j, &format!("iso27001:2022:{c}"))["status"],
            "excluded"
        );
    }
    // shared documents cite both frameworks
    let audit = sample.read("procedures/internal-audit.md");
    assert!(
        audit.contains("clauses: [\"9.2\", \"iso27001:2022:9.2.1\""),
        "{audit}"
    );
    let soa = sample.read("isms/statement-of-applicability.md");
    assert_eq!(soa.matches("  - control: A.").count(), 93);
}

/// Excluding a control in a new version of the SoA is no loss of coverage, but the gate shows it
/// as a status change of the control (covered -> excluded), so a reviewer sees the exclusion.
#[test]
fn the_gate_shows_an_exclusion_as_a_change_not_a_loss() {
    let repo = crate::gate::Repo::new(CONFIG, "");
    let cited: Vec<String> = controls()
        .iter()
        .map(|c| format!("iso27001:2022:{c}"))
        .collect();
    let cited: Vec<&str> = cited.iter().map(String::as_str).collect();
    repo.file("policies/is.md", &doc("POL-IS", &cited, "", "Controls."))
        .file("registers/soa.md", &soa_doc(&table(), "approved"));
    repo.commit("Base SMS");
    repo.branch("main");
    let excluded = soa_doc(&table(), "approved")
        .replace("version: \"1.0\"", "version: \"1.1\"")
        .replace(
            "  - control: A.8.33\n    applicable: yes\n    status: implemented\n    implemented_by: [POL-IS]\n",
            "  - control: A.8.33\n    applicable: no\n    justification: We keep no test data.\n",
        );
    repo.file("registers/soa.md", &excluded);
    repo.commit("SoA 1.1: exclude A.8.33");
    let g = repo.gate(&[]);
    let base = g.json()["base"].clone();
    let a833 = base["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "iso27001:2022:A.8.33")
        .cloned()
        .unwrap_or_else(|| panic!("A.8.33 changes status: {base:#}"));
    assert_eq!(
        (
            a833["before"].as_str(),
            a833["after"].as_str(),
            a833["change"].as_str()
        ),
        (Some("covered"), Some("excluded"), Some("changed"))
    );
    assert!(base["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["change"] != "lost"));
}

/// JUnit: an excluded control passes, and its test case says why it is excluded.
#[test]
fn junit_says_why_a_control_is_excluded() {
    let sms = sms_with(&table());
    let r = sms.run("check", &["--format", "junit"]);
    assert!(
        r.stdout
            .contains("clause iso27001:2022:A.7.5 is excluded by the Statement of Applicability: We run no premises of our own"),
        "{}",
        r.stdout
    );
}

/// A pathological table — thousands of unknown implementing ids over an SMS with thousands of
/// records — finishes and reports every id; only the first few get a did-you-mean (each is a pass
/// over every id of the SMS). Up to 1,000 they are findings of their own; past that, one finding
/// for the SoA that lists every line.
#[test]
fn many_unknown_implementing_ids_stay_cheap() {
    for (per_control, findings, rows) in [(10, 92 * 10, 0), (50, 1, 92 * 50)] {
        let ids: Vec<String> = (0..per_control).map(|i| format!("INC-{i}X")).collect();
        let t = table().replace(
            "implemented_by: [POL-IS]",
            &format!("implemented_by: [POL-IS, {}]", ids.join(", ")),
        );
        let sms = sms_with(&t);
        let mut records = String::from("records:\n");
        for i in 0..3000 {
            records.push_str(&format!(
                "  - id: INC-{i}\n    kind: incident\n    date: 2026-10-01\n    title: Incident {i}\n"
            ));
        }
        sms.file("records/incident/all.yaml", &records);
        let r = sms.check_json();
        let f = r.findings("soa-implementation-unknown");
        assert_eq!(f.len(), findings);
        if rows > 0 {
            assert_eq!(f[0]["rows"].as_array().unwrap().len(), rows);
            continue;
        }
        let with_help = f
            .iter()
            .filter(|x| {
                x["help"]
                    .as_str()
                    .is_some_and(|h| h.starts_with("did you mean"))
            })
            .count();
        assert!((1..=20).contains(&with_help), "{with_help}");
    }
}

/// While the SoA is a revision in progress (a draft after an approved version), only the
/// exclusions of the version in force count: one the draft adds does not, one it keeps does.
#[test]
fn a_draft_revision_of_the_soa_excludes_only_what_the_approved_version_excludes() {
    let repo = crate::gate::Repo::new(CONFIG, "");
    let cited: Vec<String> = controls()
        .iter()
        .filter(|c| *c != "A.7.5" && *c != "A.8.33")
        .map(|c| format!("iso27001:2022:{c}"))
        .collect();
    let cited: Vec<&str> = cited.iter().map(String::as_str).collect();
    repo.file("policies/is.md", &doc("POL-IS", &cited, "", "Controls."));
    repo.file(
        "policies/test-data.md",
        &doc("POL-TD", &["iso27001:2022:A.8.33"], "", "Test data."),
    );
    repo.file("registers/soa.md", &soa_doc(&table(), "approved"));
    repo.commit("SoA 1.0");
    // The draft of 1.1 also excludes A.8.33; the test-data policy is retired with it.
    let draft = soa_doc(&table(), "draft")
        .replace("version: \"1.0\"", "version: \"1.1\"")
        .replace(
            "  - control: A.8.33\n    applicable: yes\n    status: implemented\n    implemented_by: [POL-IS]\n",
            "  - control: A.8.33\n    applicable: no\n    justification: We keep no test data.\n",
        );
    repo.file("registers/soa.md", &draft);
    repo.remove("policies/test-data.md");
    repo.commit("Draft SoA 1.1");
    let r = repo.check("", &["--format", "json"]);
    let j = r.json();
    assert_eq!(
        clause(&j, "iso27001:2022:A.7.5")["status"],
        "excluded",
        "{}",
        r.stdout
    );
    assert_eq!(clause(&j, "iso27001:2022:A.8.33")["status"], "missing");
    assert!(
        r.findings("soa-not-approved").is_empty(),
        "the approved version is in force"
    );
}

/// `--framework` restricts the SoA rules with the rest: none for 20000-1 alone, all for 27001.
#[test]
fn framework_option_runs_the_soa_rules_only_for_27001() {
    let sms = sms_with(&table());
    sms.remove("registers/soa.md");
    let only = |fw: &str| {
        let r = sms.run("check", &["--format", "json", "--framework", fw]);
        soa_codes(&r)
    };
    assert!(only("iso20000-1:2018").is_empty());
    assert_eq!(only("iso27001:2022"), ["soa-missing"]);
    // with the SoA back, 27001 alone still reads it (its ids are qualified: 27001 is not primary)
    sms.file("registers/soa.md", &soa_doc(&table(), "approved"));
    assert!(only("iso27001:2022").is_empty());
    let r = sms.run(
        "check",
        &["--format", "json", "--framework", "iso27001:2022"],
    );
    assert_eq!(
        clause(&r.json(), "iso27001:2022:A.7.5")["status"],
        "excluded"
    );
}
