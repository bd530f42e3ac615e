//! Management-review inputs (ISO/IEC 20000-1:2018 9.3): a review record answers each input of its
//! kind under `inputs:` (`review-input-missing`, `review-input-unknown`), and its site page links
//! each input to its refs and to the evidence of the period it reviewed.

use crate::support::*;

/// The inputs of the built-in `management-review` kind, in catalogue order.
const INPUTS: &[&str] = &[
    "previous-actions",
    "context-changes",
    "nonconformities",
    "monitoring-results",
    "audit-results",
    "objectives",
    "customer-satisfaction",
    "interested-party-feedback",
    "service-performance",
    "risks-opportunities",
    "resources",
    "improvement",
];

/// An `inputs:` block answering every input except `skip`, each with a one-line summary.
fn inputs_except(skip: &[&str]) -> String {
    let mut out = String::from("inputs:\n");
    for id in INPUTS.iter().filter(|i| !skip.contains(i)) {
        out.push_str(&format!("  {id}: Considered {id}.\n"));
    }
    out
}

/// A management review held on `date` with the given extra lines.
fn review(id: &str, date: &str, extra: &str) -> String {
    format!(
        "id: {id}\nkind: management-review\ndate: {date}\ntitle: Review {id}\nattendees: [MD, QM]\nheld: {date}\nstatus: closed\n{extra}"
    )
}

fn sms() -> Sms {
    let s = Sms::new();
    s.file("policies/a.md", &doc("POL-A", &["9.3"], "", "Text."));
    s
}

fn subjects(run: &Run, code: &str) -> Vec<String> {
    run.findings(code)
        .iter()
        .map(|f| f["subject"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_review_without_inputs_gets_one_finding_naming_them_all() {
    // Second record of a list file: the finding is on that record's line, not the file's first.
    let s = sms();
    let list = format!(
        "records:\n  - id: MR-0\n    kind: management-review\n    date: 2026-01-10\n    title: Planned\n    attendees: [MD]\n    status: planned\n    inputs: {{audit-reslts: to come}}\n  - {}",
        review("MR-1", "2026-05-20", "").replace('\n', "\n    ")
    );
    s.file("records/management-review/2026.yaml", &list);
    let r = s.check_json();
    let f = r.findings("review-input-missing");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert_eq!(f[0]["subject"], "MR-1#inputs");
    assert_eq!(f[0]["severity"], "warning");
    assert_eq!(f[0]["path"], "records/management-review/2026.yaml");
    assert_eq!(f[0]["line"], 9, "{}", f[0]);
    let message = f[0]["message"].as_str().unwrap();
    for id in INPUTS {
        assert!(message.contains(id), "{message}");
    }
    assert!(f[0]["help"].as_str().unwrap().contains("inputs:"));
    // The planned review MR-0 need not answer the inputs yet, but what it writes is checked.
    let mr0: Vec<String> = r.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["subject"].as_str().unwrap().starts_with("MR-0#"))
        .map(|f| {
            format!(
                "{} {}",
                f["code"].as_str().unwrap(),
                f["subject"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        mr0,
        ["review-input-unknown MR-0#audit-reslts"],
        "{}",
        r.stdout
    );
}

#[test]
fn the_older_list_of_notes_still_reads_but_answers_no_input() {
    let s = sms();
    s.file(
        "records/management-review/mr-1.yaml",
        &review(
            "MR-1",
            "2026-05-20",
            "inputs:\n  - Audit results were good\n  - Budget on track\n",
        ),
    );
    let r = s.check_json();
    let f = r.findings("review-input-missing");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert!(f[0]["message"]
        .as_str()
        .unwrap()
        .contains("list of notes that names no input"));
    assert!(
        !r.codes().contains(&"field-invalid".to_string()),
        "{}",
        r.stdout
    );
}

#[test]
fn each_missing_input_is_its_own_finding_at_the_record_line() {
    // `resources` left out, `improvement` given but empty: two findings, one subject each.
    let s = sms();
    let text = review(
        "MR-1",
        "2026-05-20",
        &format!(
            "{}  improvement:\n",
            inputs_except(&["resources", "improvement"])
        ),
    );
    s.file("records/management-review/mr-1.yaml", &text);
    let r = s.check_json();
    let mut got = subjects(&r, "review-input-missing");
    got.sort();
    assert_eq!(got, ["MR-1#improvement", "MR-1#resources"], "{}", r.stdout);
    for f in r.findings("review-input-missing") {
        assert_eq!(f["line"], 1);
        let id = f["subject"].as_str().unwrap().trim_start_matches("MR-1#");
        assert!(f["message"].as_str().unwrap().contains(id), "{f}");
        assert!(
            f["help"].as_str().unwrap().contains(&format!("`{id}:`")),
            "{f}"
        );
    }
}

#[test]
fn a_complete_review_has_no_input_finding() {
    // Summaries as text or as {summary, refs}; refs to a record and a document resolve.
    let s = sms();
    s.file(
        "records/internal-audit/ia-1.yaml",
        "id: IA-1\nkind: internal-audit\ndate: 2026-03-10\ntitle: Audit\nauditor: KW\nstatus: closed\n",
    );
    let inputs = inputs_except(&["audit-results", "objectives"])
        + "  audit-results: {summary: One minor finding, refs: [IA-1]}\n  objectives:\n    refs: [POL-A]\n";
    s.file(
        "records/management-review/mr-1.yaml",
        &review("MR-1", "2026-05-20", &inputs),
    );
    let r = s.check_json();
    let codes = r.codes();
    assert!(
        !codes
            .iter()
            .any(|c| c.starts_with("review-input") || c == "broken-ref" || c == "field-invalid"),
        "{}",
        r.stdout
    );
}

#[test]
fn an_unknown_input_id_gets_a_did_you_mean_at_its_line() {
    let s = sms();
    let inputs = inputs_except(&["audit-results"]) + "  audit-result: Two findings\n";
    s.file(
        "records/management-review/mr-1.yaml",
        &review("MR-1", "2026-05-20", &inputs),
    );
    let r = s.check_json();
    let f = r.findings("review-input-unknown");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert_eq!(f[0]["subject"], "MR-1#audit-result");
    assert_eq!(f[0]["line"], 8 + INPUTS.len() as u64);
    assert!(f[0]["help"]
        .as_str()
        .unwrap()
        .contains("did you mean `audit-results`?"));
    // The input it was meant for is still missing.
    assert_eq!(subjects(&r, "review-input-missing"), ["MR-1#audit-results"]);
}

#[test]
fn input_refs_and_the_period_are_checked() {
    let s = sms();
    let inputs = inputs_except(&["audit-results"])
        + "  audit-results:\n    summary: See the audit\n    refs: [IA-404]\n    sumary: typo\n";
    s.file(
        "records/management-review/mr-1.yaml",
        &review(
            "MR-1",
            "2026-05-20",
            &format!("period: {{from: 2026-05-01, to: 2026-01-01}}\n{inputs}"),
        ),
    );
    let r = s.check_json();
    assert_eq!(subjects(&r, "broken-ref"), ["MR-1->IA-404"], "{}", r.stdout);
    let invalid: Vec<String> = r
        .findings("field-invalid")
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect();
    assert!(
        invalid
            .iter()
            .any(|m| m.contains("ends (2026-01-01) before it starts")),
        "{invalid:?}"
    );
    assert!(
        invalid
            .iter()
            .any(|m| m.contains("did you mean `summary`?")),
        "{invalid:?}"
    );
}

#[test]
fn the_sample_reviews_answer_every_input() {
    let r = Sms::sample().check_json();
    let codes = r.codes();
    assert!(
        !codes.iter().any(|c| c.starts_with("review-input")),
        "{codes:?}"
    );
}

/// An internal audit record dated `date`.
fn audit(id: &str, date: &str) -> String {
    format!("id: {id}\nkind: internal-audit\ndate: {date}\ntitle: Audit {id}\nauditor: KW\nstatus: closed\n")
}

/// The text of a page's `<main>` with tags removed and spaces collapsed.
fn main_text(html: &str) -> String {
    let main = crate::site::main_of(html);
    let mut out = String::new();
    let mut in_tag = false;
    for c in main.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_review_page_links_each_input_to_evidence_from_its_period_only() {
    // MR-2 gives its period (March to May); MR-3 has none, so it reviews the time since MR-2.
    // IA-0 is before MR-2's period, IA-1 within it, IA-2 after it (within MR-3's).
    let s = sms();
    s.file(
        "records/internal-audit/ia-0.yaml",
        &audit("IA-0", "2026-02-10"),
    );
    s.file(
        "records/internal-audit/ia-1.yaml",
        &audit("IA-1", "2026-04-10"),
    );
    s.file(
        "records/internal-audit/ia-2.yaml",
        &audit("IA-2", "2026-07-10"),
    );
    let mr2 = inputs_except(&["objectives", "resources"])
        + "  objectives: {summary: On track, refs: [POL-A]}\n";
    s.file(
        "records/management-review/mr-2.yaml",
        &review(
            "MR-2",
            "2026-05-20",
            &format!("period: {{from: 2026-03-01, to: 2026-05-20}}\n{mr2}"),
        ),
    );
    s.file(
        "records/management-review/mr-3.yaml",
        &review("MR-3", "2026-09-20", &inputs_except(&[])),
    );
    let out = s.path().join("_site");
    let r = crate::site::build(&s, &out);
    assert!(out.join("records/MR-2.html").is_file(), "{}", r.stderr);
    let html = std::fs::read_to_string(out.join("records/MR-2.html")).unwrap();
    let main = crate::site::main_of(&html);
    let text = main_text(&html);
    assert!(
        text.contains("Period reviewed: 2026-03-01 to 2026-05-20 (as the record gives it)"),
        "{text}"
    );
    // The audit row links IA-1 (in the period), never IA-0 or IA-2.
    let row_start = main
        .find("id=\"input-audit-results\"")
        .expect("an audit-results row");
    let row = &main[row_start..row_start + main[row_start..].find("</tr>").unwrap()];
    assert!(row.contains("IA-1"), "{row}");
    assert!(row.contains("href=\"../records/IA-1.html\""), "{row}");
    assert!(!main.contains("IA-0") && !main.contains("IA-2"), "{main}");
    // A cited ref is a link; a missing input says so; inputs and period are not repeated as fields.
    let objectives = &main[main.find("id=\"input-objectives\"").unwrap()..];
    assert!(
        objectives.contains("href=\"../documents/POL-A.html\""),
        "{objectives}"
    );
    let resources = &main[main.find("id=\"input-resources\"").unwrap()..];
    assert!(
        resources[..resources.find("</tr>").unwrap()].contains("Not recorded"),
        "{resources}"
    );
    assert!(!main.contains("<th scope=\"row\">inputs</th>"), "{main}");
    // The review is listed on the page of the document its input cites.
    let pol = std::fs::read_to_string(out.join("documents/POL-A.html")).unwrap();
    assert!(crate::site::main_of(&pol).contains("MR-2"));

    // MR-3 reviews the time since MR-2: IA-2 and the previous review, not IA-1.
    let html = std::fs::read_to_string(out.join("records/MR-3.html")).unwrap();
    let main = crate::site::main_of(&html);
    let text = main_text(&html);
    assert!(
        text.contains(
            "Period reviewed: 2026-05-20 to 2026-09-20 (since the previous review, MR-2 )"
        ),
        "{text}"
    );
    assert!(main.contains("IA-2") && !main.contains("IA-1"), "{main}");
    let previous = &main[main.find("id=\"input-previous-actions\"").unwrap()..];
    assert!(
        previous[..previous.find("</tr>").unwrap()].contains("href=\"../records/MR-2.html\""),
        "{previous}"
    );
}

#[test]
fn clauses_kinds_lists_the_inputs_for_people_and_machines() {
    let mut c = auditbook();
    c.args(["clauses", "--kinds"]);
    let human = run(c);
    assert_eq!(human.code, 0, "{}", human.stderr);
    let block = &human.stdout[human.stdout.find("management-review — ").unwrap()..];
    for id in INPUTS {
        assert!(block.contains(&format!("      {id} ")), "{block}");
    }
    let mut c = auditbook();
    c.args(["clauses", "--kinds", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&run(c).stdout).unwrap();
    let kinds = json.as_array().unwrap();
    let mr = kinds
        .iter()
        .find(|k| k["id"] == "management-review")
        .unwrap();
    let ids: Vec<&str> = mr["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, INPUTS);
    // Kinds without inputs keep their JSON shape.
    let incident = kinds.iter().find(|k| k["id"] == "incident").unwrap();
    assert!(incident.get("inputs").is_none());
}

#[test]
fn a_change_that_drops_an_input_from_the_catalogue_weakens_the_gate() {
    // A framework of the SMS's own whose review kind lists two inputs; the change drops one.
    let framework = "id: tiny:1\ntitle: Tiny\nclauses:\n  - {id: \"A\", title: Top, parent: null, evidence: heading}\n  - {id: \"A.1\", title: Review, parent: \"A\", evidence: documents}\nrecord_kinds:\n  - id: review\n    clauses: [\"A.1\"]\n    inputs:\n      - {id: audits, title: Audits, summary: What the audits found.}\n      - {id: complaints, title: Complaints, summary: What customers complained about.}\n";
    let r = crate::gate::Repo::new(
        "organisation: Tiny Ltd\nscope: Everything.\nframework: tiny:1\n",
        "",
    );
    r.file("frameworks/tiny.yaml", framework)
        .file("policies/a.md", &doc("POL-A", &["A.1"], "", "Text."))
        .file(
            "records/review/r-1.yaml",
            "id: R-1\nkind: review\ndate: 2026-01-05\ntitle: Review\ninputs:\n  audits: None held\n  complaints: None received\n",
        );
    r.commit("Base");
    r.branch("main");
    assert!(!r
        .check("", &["--format", "json"])
        .codes()
        .iter()
        .any(|c| c.starts_with("review-input")));
    r.edit(
        "frameworks/tiny.yaml",
        "      - {id: complaints, title: Complaints, summary: What customers complained about.}\n",
        "",
    );
    r.commit("Drop the complaints input");
    let g = r.gate(&[]);
    let w = g.findings("gate-config-weakened");
    assert_eq!(w.len(), 1, "{}", g.stdout);
    assert!(
        w[0]["message"]
            .as_str()
            .unwrap()
            .contains("no review input `complaints`"),
        "{}",
        w[0]
    );
    // At HEAD the record's `complaints` entry is no longer an input of its kind.
    assert!(r
        .check("", &["--format", "json"])
        .codes()
        .contains(&"review-input-unknown".to_string()));
}
