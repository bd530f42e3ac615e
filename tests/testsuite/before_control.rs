//! "Before control" (issue 19, item 6): a document adopted with an existing git history shows
//! the file's earlier commits on its page, apart from the version table, which starts at the
//! commit that gave it frontmatter.

use crate::support::*;
use std::path::Path;

/// The commit ids of the table in the section whose heading has `heading_id`, newest first.
fn section_commits(page: &str, heading_id: &str) -> Vec<String> {
    let Some(start) = page.find(&format!("id=\"{heading_id}\"")) else {
        return Vec::new();
    };
    let section = &page[start..];
    let section = &section[..section.find("</table>").unwrap_or(section.len())];
    section
        .split("<code title=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

fn head(dir: &Path) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(["rev-parse", "HEAD"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

const PLAIN: &str = "# Change management\n\nChanges are agreed by the service owner.\n";

#[test]
fn an_adopted_document_shows_its_earlier_commits_as_before_control() {
    let sms = Sms::new();
    let dir = sms.path();
    git_at(dir, &["init", "-q", "-b", "main"], "2023-01-01T10:00:00Z");
    let mut before = Vec::new();
    // Three commits of a plain Markdown file, the last one moving it: history before control
    // is followed through the rename, as for any file without an id.
    sms.file("notes/change.md", PLAIN);
    git_at(dir, &["add", "-A"], "2023-01-01T10:00:00Z");
    git_at(
        dir,
        &["commit", "-q", "-m", "Write the change process"],
        "2023-01-01T10:00:00Z",
    );
    before.push(head(dir));
    sms.file(
        "notes/change.md",
        &format!("{PLAIN}\nEmergency changes are agreed by two managers.\n"),
    );
    git_at(
        dir,
        &["commit", "-q", "-am", "Add emergency changes"],
        "2024-03-01T10:00:00Z",
    );
    before.push(head(dir));
    std::fs::create_dir_all(dir.join("procedures")).unwrap();
    git_at(
        dir,
        &["mv", "notes/change.md", "procedures/change.md"],
        "2025-05-01T10:00:00Z",
    );
    git_at(
        dir,
        &["commit", "-q", "-m", "Move to procedures"],
        "2025-05-01T10:00:00Z",
    );
    before.push(head(dir));

    // Converted to a controlled document, then approved.
    let text = sms.read("procedures/change.md");
    let front = |status: &str, approved: &str| {
        format!("---\nid: PRO-CHG\ntitle: Change management\ntype: procedure\nowner: Owner\napprover: Approver\nversion: \"1.0\"\nstatus: {status}\n{approved}clauses: [\"8.5.1\"]\n---\n\n{text}")
    };
    sms.file("procedures/change.md", &front("draft", ""));
    git_at(
        dir,
        &["commit", "-q", "-am", "Bring under document control"],
        "2026-02-01T10:00:00Z",
    );
    let conversion = head(dir);
    sms.file(
        "procedures/change.md",
        &front("approved", "approved: 2026-02-10\n"),
    );
    git_at(
        dir,
        &["commit", "-q", "-am", "Approve PRO-CHG 1.0"],
        "2026-02-10T10:00:00Z",
    );
    let approval = head(dir);

    let site = tempfile::tempdir().unwrap();
    let r = sms.run("build", &["--out", site.path().to_str().unwrap()]);
    assert!(r.code == 0 || r.code == 1, "{}\n{}", r.stdout, r.stderr);
    let page = std::fs::read_to_string(site.path().join("documents/PRO-CHG.html")).unwrap();

    // The version table starts at the conversion.
    assert_eq!(
        section_commits(&page, "h_history"),
        vec![approval, conversion]
    );
    // The three commits before it, newest first, clearly labelled.
    before.reverse();
    assert_eq!(section_commits(&page, "h_before_control"), before);
    assert!(page.contains("Before control"), "{page}");
    assert!(
        page.contains("not evidence of review or approval"),
        "{page}"
    );
    for subject in [
        "Write the change process",
        "Add emergency changes",
        "Move to procedures",
    ] {
        assert!(page.contains(subject), "{subject}");
    }
    // Nothing of it counts as a revision: no history finding about the earlier commits.
    let check = sms.check_json();
    assert!(
        check.findings("approval-predates-text").is_empty()
            && check.findings("changed-after-approval").is_empty(),
        "{}",
        check.stdout
    );
}

#[test]
fn a_document_created_with_frontmatter_has_no_before_control() {
    let sms = Sms::new();
    let dir = sms.path();
    git_at(dir, &["init", "-q", "-b", "main"], "2026-01-01T10:00:00Z");
    sms.file(
        "procedures/change.md",
        &doc(
            "PRO-CHG",
            &["8.5.1"],
            "",
            "Changes are agreed by the service owner.",
        ),
    );
    git_at(dir, &["add", "-A"], "2026-01-05T10:00:00Z");
    git_at(
        dir,
        &["commit", "-q", "-m", "Approve PRO-CHG 1.0"],
        "2026-01-05T10:00:00Z",
    );
    let site = tempfile::tempdir().unwrap();
    let r = sms.run("build", &["--out", site.path().to_str().unwrap()]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let page = std::fs::read_to_string(site.path().join("documents/PRO-CHG.html")).unwrap();
    assert_eq!(section_commits(&page, "h_history").len(), 1);
    assert!(!page.contains("h_before_control"), "{page}");
}

#[test]
fn a_file_moved_and_converted_in_one_commit_keeps_its_earlier_commits() {
    let sms = Sms::new();
    let dir = sms.path();
    git_at(dir, &["init", "-q", "-b", "main"], "2024-01-01T10:00:00Z");
    // Long enough that the frontmatter leaves it similar: git detects the rename.
    let body: String = (1..=30)
        .map(|n| format!("Step {n} of the change process is agreed with the service owner.\n"))
        .collect();
    sms.file("notes/change.md", &format!("# Change management\n\n{body}"));
    git_at(dir, &["add", "-A"], "2024-01-01T10:00:00Z");
    git_at(
        dir,
        &["commit", "-q", "-m", "Write the change process"],
        "2024-01-01T10:00:00Z",
    );
    let mut before = vec![head(dir)];
    sms.file(
        "notes/change.md",
        &format!("# Change management\n\n{body}\nEnd.\n"),
    );
    git_at(
        dir,
        &["commit", "-q", "-am", "Add an end"],
        "2025-01-01T10:00:00Z",
    );
    before.push(head(dir));
    let text = sms.read("notes/change.md");
    sms.remove("notes/change.md");
    sms.file(
        "procedures/change.md",
        &format!("---\nid: PRO-CHG\ntitle: Change management\ntype: procedure\nowner: Owner\napprover: Approver\nversion: \"1.0\"\nstatus: draft\nclauses: [\"8.5.1\"]\n---\n\n{text}"),
    );
    git_at(dir, &["add", "-A"], "2026-02-01T10:00:00Z");
    git_at(
        dir,
        &["commit", "-q", "-m", "Move and bring under control"],
        "2026-02-01T10:00:00Z",
    );
    let conversion = head(dir);

    let site = tempfile::tempdir().unwrap();
    let r = sms.run("build", &["--out", site.path().to_str().unwrap()]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let page = std::fs::read_to_string(site.path().join("documents/PRO-CHG.html")).unwrap();
    assert_eq!(section_commits(&page, "h_history"), vec![conversion]);
    before.reverse();
    assert_eq!(section_commits(&page, "h_before_control"), before);
}
