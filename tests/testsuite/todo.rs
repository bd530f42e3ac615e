//! `auditbook todo`: each owner's open items. Reviews overdue vs due within `--days` vs not due,
//! open vs closed nonconformities, owners matched by id, name or e-mail, `--owner`, the unknown
//! owner error, the JSON shape, a document in revision (git history: its effective version's
//! review date counts), and the site's people pages.

use crate::support::*;

const CONFIG: &str = "organisation: Test Ltd\nscope: Test services.\nframework: iso20000-1:2018\nreview_interval: 12 months\npeople:\n  - id: hc\n    name: Helen Carter\n    role: top-management\n    emails: [hc@example.com]\n  - id: pk\n    name: Priya Kaur\n    role: quality-manager\n    emails: [pk@example.com]\n  - id: zz\n    name: Zoe Zhang\n";

/// A document; `owner` and `approved` are left out when empty.
fn document(id: &str, owner: &str, status: &str, approved: &str) -> String {
    let owner = if owner.is_empty() {
        String::new()
    } else {
        format!("owner: {owner}\n")
    };
    let approved = if approved.is_empty() {
        String::new()
    } else {
        format!("approved: {approved}\n")
    };
    format!(
        "---\nid: {id}\ntitle: Document {id}\ntype: policy\n{owner}approver: hc\nversion: \"1.0\"\nstatus: {status}\n{approved}clauses: [\"8.5.1.1\"]\n---\n\n# Document {id}\n\nText.\n"
    )
}

fn nonconformity(id: &str, owner: &str, status: &str, due: &str) -> String {
    format!("id: {id}\nkind: nonconformity\ndate: 2026-09-01\ntitle: Finding {id}\nstatus: {status}\nowner: {owner}\ncorrective_action: Fix it.\ndue: {due}\n")
}

/// As of 2026-11-26 (AS_OF), with a 12-month interval and 30 days ahead.
fn sms() -> Sms {
    let sms = Sms::with_config(CONFIG);
    // Overdue since 2026-10-01; owned by id.
    sms.file(
        "policies/over.md",
        &document("POL-OVER", "hc", "approved", "2025-10-01"),
    );
    // Due 2026-12-10, within 30 days; owned by name.
    sms.file(
        "policies/soon.md",
        &document("POL-SOON", "Helen Carter", "approved", "2025-12-10"),
    );
    // Due 2027-06-01: not listed.
    sms.file(
        "policies/later.md",
        &document("POL-LATER", "hc", "approved", "2026-06-01"),
    );
    // Overdue, no owner.
    sms.file(
        "procedures/orphan.md",
        &document("PRO-ORPHAN", "", "approved", "2025-11-01"),
    );
    // A draft is not reviewed periodically.
    sms.file(
        "procedures/draft.md",
        &document("PRO-DRAFT", "pk", "draft", ""),
    );
    // Due 2026-12-01, owned by a team that is not a person.
    sms.file(
        "procedures/team.md",
        &document("PRO-TEAM", "Service desk team", "approved", "2025-12-01"),
    );
    // Owned by e-mail: open and past due, open and not yet due, closed.
    sms.file(
        "records/nonconformity/nc-1.yaml",
        &nonconformity("NC-1", "pk@example.com", "open", "2026-11-01"),
    );
    sms.file(
        "records/nonconformity/nc-2.yaml",
        &nonconformity("NC-2", "pk", "in-progress", "2026-12-20"),
    );
    sms.file(
        "records/nonconformity/nc-3.yaml",
        &nonconformity("NC-3", "pk", "closed", "2026-10-01"),
    );
    sms
}

/// (owner, task, id, due) of every item of a `--format json` run.
fn items(run: &Run) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for o in run.json()["owners"].as_array().unwrap() {
        for i in o["items"].as_array().unwrap() {
            out.push((
                o["owner"].as_str().unwrap_or("<unowned>").to_string(),
                i["task"].as_str().unwrap().to_string(),
                i["id"].as_str().unwrap().to_string(),
                i["due"].as_str().unwrap_or("").to_string(),
            ));
        }
    }
    out
}

fn row(owner: &str, task: &str, id: &str, due: &str) -> (String, String, String, String) {
    (owner.into(), task.into(), id.into(), due.into())
}

/// Overdue and due-soon reviews, open nonconformities, each under its owner, in order; what is
/// not due, drafts and closed nonconformities are left out.
#[test]
fn lists_each_owners_items_in_order() {
    let sms = sms();
    let run = sms.run("todo", &["--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        items(&run),
        vec![
            row("hc", "review-overdue", "POL-OVER", "2026-10-01"),
            row("hc", "review-due", "POL-SOON", "2026-12-10"),
            row("pk", "action-overdue", "NC-1", "2026-11-01"),
            row("pk", "action-open", "NC-2", "2026-12-20"),
            row("Service desk team", "review-due", "PRO-TEAM", "2026-12-01"),
            row("<unowned>", "review-overdue", "PRO-ORPHAN", "2026-11-01"),
        ]
    );
}

/// The JSON shape: as-of date, window, every person (even with nothing open), then other owners,
/// then unowned; each item with its file and line, due date and past-due flag.
#[test]
fn json_shape() {
    let sms = sms();
    let v = sms.run("todo", &["--format", "json"]).json();
    assert_eq!(v["as_of"], AS_OF);
    assert_eq!(v["days"], 30);
    assert_eq!(v["due_by"], "2026-12-26");
    assert_eq!(v["draft"], false);
    let owners = v["owners"].as_array().unwrap();
    let heads: Vec<(String, String, String)> = owners
        .iter()
        .map(|o| {
            (
                o["owner"].as_str().unwrap_or("null").to_string(),
                o["kind"].as_str().unwrap().to_string(),
                o["name"].as_str().unwrap_or("null").to_string(),
            )
        })
        .collect();
    assert_eq!(
        heads,
        [
            ("hc", "person", "Helen Carter"),
            ("pk", "person", "Priya Kaur"),
            ("zz", "person", "Zoe Zhang"),
            ("Service desk team", "other", "null"),
            ("null", "unowned", "null"),
        ]
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    );
    assert_eq!(owners[2]["items"].as_array().unwrap().len(), 0);
    let nc1 = &owners[1]["items"][0];
    assert_eq!(nc1["id"], "NC-1");
    assert_eq!(nc1["subject"], "record");
    assert_eq!(nc1["kind"], "nonconformity");
    assert_eq!(nc1["status"], "open");
    assert_eq!(nc1["path"], "records/nonconformity/nc-1.yaml");
    assert_eq!(nc1["line"], 8, "the line of `due:`");
    assert_eq!(nc1["past_due"], true);
    let over = &owners[0]["items"][0];
    assert_eq!(over["subject"], "document");
    assert_eq!(over["path"], "policies/over.md");
    assert_eq!(over["line"], 9, "the line of `approved:`");
    assert_eq!(over["past_due"], true);
    assert_eq!(owners[0]["items"][1]["past_due"], false);
    let keys: Vec<&str> = over
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "action", "code", "due", "id", "kind", "line", "past_due", "path", "status", "subject",
            "task", "title"
        ]
    );
}

/// `--days` widens or narrows the "due soon" window; overdue items stay.
#[test]
fn days_sets_the_window() {
    let sms = sms();
    let ids = |days: &str| -> Vec<String> {
        items(&sms.run("todo", &["--format", "json", "--days", days]))
            .into_iter()
            .filter(|r| r.1 == "review-due")
            .map(|r| r.2)
            .collect()
    };
    assert_eq!(ids("0"), Vec::<String>::new());
    assert_eq!(ids("5"), ["PRO-TEAM"]);
    assert_eq!(ids("30"), ["POL-SOON", "PRO-TEAM"]);
    // 2027-06-01 is 187 days after the as-of date.
    assert_eq!(ids("187"), ["POL-SOON", "POL-LATER", "PRO-TEAM"]);
}

/// `--owner` by id, name or e-mail gives that person's items only.
#[test]
fn owner_filter() {
    let sms = sms();
    for who in ["pk", "PK", "Priya Kaur", "pk@example.com"] {
        let run = sms.run("todo", &["--format", "json", "--owner", who]);
        assert_eq!(run.code, 0, "{who}: {}", run.stderr);
        assert_eq!(
            items(&run),
            [
                row("pk", "action-overdue", "NC-1", "2026-11-01"),
                row("pk", "action-open", "NC-2", "2026-12-20"),
            ],
            "{who}"
        );
    }
    // A person with nothing open still gets a heading.
    let run = sms.run("todo", &["--owner", "zz"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("Zoe Zhang (zz): 0 items\n  nothing open\n"),
        "{}",
        run.stdout
    );
}

/// An unknown `--owner` is a usage error (exit 2) that names the known people.
#[test]
fn unknown_owner_is_exit_2() {
    let sms = sms();
    let run = sms.run("todo", &["--owner", "hcc"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .contains("--owner hcc: no person in sms.yaml `people`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("known: hc (Helen Carter), pk (Priya Kaur), zz (Zoe Zhang)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("did you mean `hc`?"), "{}", run.stderr);
    // Without people there is no one to match.
    let bare = Sms::new();
    let run = bare.run("todo", &["--owner", "hc"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("sms.yaml lists no `people`"),
        "{}",
        run.stderr
    );
}

/// The human list: a heading per owner, a line per item with date, file:line and what to do;
/// exit 0 even though the SMS has error-level findings.
#[test]
fn human_list() {
    let sms = sms();
    assert_eq!(sms.run("check", &[]).code, 1, "the SMS has errors");
    let run = sms.run("todo", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &run.stdout;
    assert!(
        out.starts_with(
            "Open items as of 2026-11-26 (reviews due up to 2026-12-26, 30 days ahead)\n"
        ),
        "{out}"
    );
    assert!(out.contains("\nHelen Carter (hc): 2 items\n  2026-10-01  review overdue  policies/over.md:9: review POL-OVER (was due 2026-10-01): record a `document-review`"), "{out}");
    assert!(
        out.contains("\n  2026-11-01  past due        records/nonconformity/nc-1.yaml:8: nonconformity NC-1 is `open`, was due 2026-11-01: complete the corrective action, then close it (`status`)\n"),
        "{out}"
    );
    assert!(
        out.contains("\nService desk team (not a person in sms.yaml `people`): 1 item\n"),
        "{out}"
    );
    assert!(out.contains("\nUnowned (no `owner:`): 1 item\n"), "{out}");
    assert!(out.contains("\nNothing open: Zoe Zhang (zz)\n"), "{out}");
    assert!(out.ends_with("\n6 open items (3 past due)\n"), "{out}");
    assert!(!out.contains("NC-3"), "a closed nonconformity: {out}");
    assert!(!out.contains("PRO-DRAFT"), "{out}");
    // Same input, same output.
    assert_eq!(sms.run("todo", &[]).stdout, *out);
}

/// A no-change `document-review` record moves the review date on, as for `review-overdue`.
#[test]
fn no_change_review_moves_the_date() {
    let sms = sms();
    sms.file(
        "records/document-review/dr-1.yaml",
        "id: DR-1\nkind: document-review\ndate: 2026-11-20\ntitle: Annual review\ndocument: POL-OVER\nreviewer: hc\noutcome: no-change\n",
    );
    let ids: Vec<String> = items(&sms.run("todo", &["--format", "json"]))
        .into_iter()
        .map(|r| r.2)
        .collect();
    assert!(!ids.contains(&"POL-OVER".to_string()), "{ids:?}");
    assert!(sms.check_json().findings("review-overdue").len() == 1);
}

/// A document in revision (a draft in the work tree over an approved version in git) is still
/// reviewed on its effective version's date: the history is read as `check` reads it.
#[test]
fn document_in_revision_keeps_its_review_date() {
    let sms = Sms::with_config(CONFIG);
    sms.file(
        "policies/soon.md",
        &document("POL-SOON", "pk", "approved", "2025-12-10"),
    );
    git_at(
        sms.path(),
        &["init", "-q", "-b", "main"],
        "2025-12-10T10:00:00Z",
    );
    git_at(sms.path(), &["add", "-A"], "2025-12-10T10:00:00Z");
    git_at(
        sms.path(),
        &["commit", "-q", "-m", "POL-SOON 1.0"],
        "2025-12-10T10:00:00Z",
    );
    sms.edit("policies/soon.md", "status: approved", "status: draft")
        .edit("policies/soon.md", "version: \"1.0\"", "version: \"2.0\"")
        .edit("policies/soon.md", "approved: 2025-12-10\n", "");
    let run = sms.run("todo", &["--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        items(&run),
        [row("pk", "review-due", "POL-SOON", "2026-12-10")]
    );
    assert_eq!(run.json()["draft"], true, "uncommitted changes");
}

/// The site has a people page listing every owner and a page per person with the same items
/// as `todo`, linked to the documents' and records' pages; other owners and unowned items are
/// listed on the people page itself.
#[test]
fn site_has_a_page_per_person() {
    let sms = sms();
    let out = sms.path().join("_site");
    let run = sms.run("build", &["--out", out.to_str().unwrap()]);
    assert!(run.code <= 1, "{}", run.stderr);
    let read = |p: &str| std::fs::read_to_string(out.join(p)).unwrap();
    for p in ["people/hc.html", "people/pk.html", "people/zz.html"] {
        assert!(out.join(p).is_file(), "{p}");
    }
    let hc = crate::site::main_of(&read("people/hc.html"));
    assert!(
        hc.contains("<h1>Open items: Helen Carter (hc)</h1>"),
        "{hc}"
    );
    assert!(
        hc.contains("2 open items as of 2026-11-26, 1 past due"),
        "{hc}"
    );
    let over = hc.find("POL-OVER").expect("POL-OVER listed");
    let soon = hc.find("POL-SOON").expect("POL-SOON listed");
    assert!(over < soon, "by due date: {hc}");
    assert!(
        hc.contains(r#"<span class="overdue">2026-10-01</span>"#),
        "{hc}"
    );
    assert!(
        hc.contains(r#"<a href="../documents/POL-OVER.html"><span class="id">POL-OVER</span>"#),
        "{hc}"
    );
    assert!(hc.contains("<code>policies/over.md:9</code>"), "{hc}");
    assert!(!hc.contains("POL-LATER"), "{hc}");
    let pk = crate::site::main_of(&read("people/pk.html"));
    assert!(
        pk.contains(r#"<a href="../records/NC-1.html"><span class="id">NC-1</span>"#),
        "{pk}"
    );
    assert!(pk.contains("NC-2"), "{pk}");
    assert!(!pk.contains("NC-3"), "closed: {pk}");
    assert!(
        crate::site::main_of(&read("people/zz.html")).contains("Nothing open."),
        "zz"
    );
    let people = crate::site::main_of(&read("people.html"));
    assert!(
        people.contains(r#"<a href="people/hc.html">Helen Carter (hc)</a>"#),
        "{people}"
    );
    assert!(people.contains("Service desk team"), "{people}");
    assert!(people.contains("PRO-TEAM"), "{people}");
    assert!(people.contains(r#"<h2 id="unowned">Unowned"#), "{people}");
    assert!(people.contains("PRO-ORPHAN"), "{people}");
    // Every page links the people page.
    assert!(read("index.html").contains(r#"<a href="people.html">People</a>"#));
}

/// Person ids that differ only in case get two page names that differ in more than case, so
/// neither page overwrites the other on a case-insensitive disk; `--owner` takes the exact id
/// first.
#[test]
fn person_pages_of_ids_differing_in_case() {
    let sms = Sms::with_config("organisation: Test Ltd\nscope: Test services.\nframework: iso20000-1:2018\npeople:\n  - id: hc\n    name: Helen Carter\n  - id: HC\n    name: Hugo Clark\n");
    sms.file(
        "policies/over.md",
        &document("POL-OVER", "HC", "approved", "2025-10-01"),
    );
    let run = sms.run("todo", &["--format", "json", "--owner", "HC"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        items(&run),
        [row("HC", "review-overdue", "POL-OVER", "2026-10-01")]
    );
    let out = sms.path().join("_site");
    sms.run("build", &["--out", out.to_str().unwrap()]);
    let mut pages: Vec<String> = std::fs::read_dir(out.join("people"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    assert_eq!(pages.len(), 2, "{pages:?}");
    // People are taken in id order (`HC` before `hc`): the later one gets the hashed name.
    assert_eq!(pages[0], "HC.html", "{pages:?}");
    assert!(pages[1].starts_with("x-"), "hashed: {pages:?}");
    let hugo = std::fs::read_to_string(out.join("people/HC.html")).unwrap();
    assert!(hugo.contains("Open items: Hugo Clark (HC)"), "{hugo}");
    assert!(hugo.contains("POL-OVER"), "{hugo}");
    let helen = std::fs::read_to_string(out.join("people").join(&pages[1])).unwrap();
    assert!(helen.contains("Open items: Helen Carter (hc)"), "{helen}");
    assert!(
        std::fs::read_to_string(out.join("people.html"))
            .unwrap()
            .contains(&format!(
                r#"<a href="people/{}">Helen Carter (hc)</a>"#,
                pages[1]
            )),
        "people.html links the hashed page"
    );
}
