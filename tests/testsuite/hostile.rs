//! Hostile inputs: each gets its exact expected outcome (a finding with file and line, or a
//! refusal with exit 2), never a panic, a hang or content from outside the repository. Large
//! fixtures are generated here. Time is bounded by a watchdog on the child process, not measured.

use crate::support::*;
use std::time::{Duration, Instant};

/// Run `check --format json` and fail the test if it takes longer than `limit` (a hang guard,
/// generous so a loaded machine does not flake).
fn check_within(sms: &Sms, limit: Duration) -> Run {
    let start = Instant::now();
    let r = sms.check_json();
    assert!(start.elapsed() < limit, "check took {:?}", start.elapsed());
    assert!(!r.stderr.contains("panicked"), "panic: {}", r.stderr);
    assert!(r.code == 0 || r.code == 1, "exit {}: {}", r.code, r.stderr);
    r
}

fn good_doc() -> String {
    doc("POL-A", &["8.5.1.1"], "", "Body.")
}

fn alias_bomb() -> String {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    text
}

#[test]
fn alias_bombs_in_frontmatter_records_and_config() {
    let sms = Sms::new();
    sms.file(
        "policies/bomb.md",
        &format!("---\nid: BOMB\n{}---\n", alias_bomb()),
    );
    sms.file("records/incident/bomb.yaml", &alias_bomb());
    let r = check_within(&sms, Duration::from_secs(20));
    let f = r.findings("frontmatter-invalid");
    assert_eq!(f.len(), 2, "{f:#?}");
    assert!(f
        .iter()
        .all(|f| f["message"].as_str().unwrap().contains("alias")));
    // in sms.yaml: the tool cannot run, and says where
    let bad = Sms::with_config(&format!("{MINIMAL_CONFIG}{}", alias_bomb()));
    let r = bad.check_json();
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("sms.yaml:"), "{}", r.stderr);
}

#[test]
fn ten_thousand_deep_nesting() {
    let deep_flow = "[".repeat(10_000) + &"]".repeat(10_000);
    // block nesting costs indentation: 2,000 levels is already 2 MB of spaces
    let deep_block: String = (0..2_000)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect();
    let sms = Sms::new();
    sms.file(
        "policies/deep.md",
        &format!("---\nid: DEEP\nx: {deep_flow}\n---\n"),
    );
    sms.file("records/incident/deep.yaml", &deep_block);
    let r = check_within(&sms, Duration::from_secs(20));
    let f = r.findings("frontmatter-invalid");
    assert_eq!(f.len(), 2, "{f:#?}");
    let bad = Sms::with_config(&format!("{MINIMAL_CONFIG}x: {deep_flow}\n"));
    assert_eq!(bad.check_json().code, 2);
}

#[test]
fn a_200_mib_markdown_file_is_not_read() {
    let sms = Sms::new();
    sms.file("policies/a.md", &good_doc());
    let f = std::fs::File::create(sms.path().join("policies/huge.md")).unwrap();
    f.set_len(200 * 1024 * 1024).unwrap(); // sparse: costs no disk
    let r = check_within(&sms, Duration::from_secs(20));
    let f = r.findings("file-too-large");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["path"], "policies/huge.md");
}

#[test]
fn binary_and_invalid_utf8_files() {
    let sms = Sms::new();
    sms.bytes(
        "policies/image.md",
        &[0x89, b'P', b'N', b'G', 0, 0, 0, 13, 1, 2, 3],
    );
    sms.bytes(
        "records/incident/bad.yaml",
        b"id: INC-1\ntitle: caf\xc3\x28\n",
    );
    let r = check_within(&sms, Duration::from_secs(20));
    let f = r.findings("file-unreadable");
    assert_eq!(f.len(), 2, "{f:#?}");
    assert!(f
        .iter()
        .any(|f| f["path"] == "records/incident/bad.yaml" && f["line"] == 2));
}

#[test]
fn crlf_and_bom_files_parse_with_correct_lines() {
    let text = format!("\u{feff}{}", good_doc().replace('\n', "\r\n"))
        .replace("clauses: [\"8.5.1.1\"]", "clauses: [\"8.5.12\"]");
    let sms = Sms::new();
    sms.file("policies/a.md", &text);
    let r = check_within(&sms, Duration::from_secs(20));
    let f = r.findings("clause-unknown");
    assert_eq!(f.len(), 1, "{:?}", r.codes());
    assert_eq!(f[0]["line"], 10);
    assert_eq!(f[0]["column"], 11);
}

#[test]
fn frontmatter_delimiter_inside_a_code_block_is_body() {
    let body = "```yaml\n---\nid: INJECTED\nstatus: approved\n---\n```\n";
    let sms = Sms::new();
    sms.file("policies/a.md", &doc("POL-A", &["8.5.1.1"], "", body));
    let r = check_within(&sms, Duration::from_secs(20));
    assert!(r.findings("frontmatter-invalid").is_empty());
    assert!(r.findings("id-duplicate").is_empty());
    let cl = r.json()["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "8.5.1.1")
        .cloned()
        .unwrap();
    assert_eq!(cl["documents"], serde_json::json!(["POL-A"]));
}

#[test]
fn a_hundred_thousand_links_and_cyclic_links() {
    let many: String = (0..100_000)
        .map(|i| format!("[l{i}](doc:POL-B) "))
        .collect();
    let sms = Sms::new();
    sms.file(
        "policies/a.md",
        &doc(
            "POL-A",
            &["8.5.1.1"],
            "",
            &format!("{many}\n\n[back](doc:POL-B)"),
        ),
    );
    sms.file(
        "policies/b.md",
        &doc(
            "POL-B",
            &["8.5.1.2"],
            "",
            "[back](doc:POL-A) [self](#document-pol-b)",
        ),
    );
    let r = check_within(&sms, Duration::from_secs(60));
    assert!(r.findings("broken-doc-link").is_empty());
    assert!(
        r.findings("broken-anchor").is_empty(),
        "{:?}",
        r.findings("broken-anchor")
    );
}

#[cfg(unix)]
#[test]
fn symlinks_to_etc_passwd_and_a_parent_folder() {
    let sms = Sms::new();
    sms.file("policies/a.md", &good_doc());
    std::os::unix::fs::symlink("/etc/passwd", sms.path().join("policies/passwd.md")).unwrap();
    std::os::unix::fs::symlink("../..", sms.path().join("records/loop")).unwrap_or_else(|_| {
        std::fs::create_dir_all(sms.path().join("records")).unwrap();
        std::os::unix::fs::symlink("../..", sms.path().join("records/loop")).unwrap();
    });
    std::os::unix::fs::symlink("/etc/passwd", sms.path().join("sms-link.yaml")).unwrap();
    let r = check_within(&sms, Duration::from_secs(20));
    assert_eq!(
        r.findings("symlink-ignored").len(),
        3,
        "{:?}",
        r.findings("symlink-ignored")
    );
    assert!(!r.stdout.contains("root:"), "content from outside leaked");
}

#[cfg(unix)]
#[test]
fn sms_yaml_as_a_symlink_is_refused() {
    let sms = Sms::new();
    let real = sms.path().join("real.yaml");
    std::fs::rename(sms.path().join("sms.yaml"), &real).unwrap();
    std::os::unix::fs::symlink(&real, sms.path().join("sms.yaml")).unwrap();
    let r = sms.check_json();
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
}

#[test]
fn odd_file_names() {
    let sms = Sms::new();
    sms.file("policies/-rf.md", &doc("POL-RF", &["8.5.1.1"], "", "Dash."));
    sms.file(
        "policies/with space.md",
        &doc(
            "POL-SP",
            &["8.5.1.2"],
            "",
            "[dash](-rf.md) [u](%C3%BCber.md)",
        ),
    );
    sms.file(
        "policies/über.md",
        &doc("POL-UE", &["8.5.1.3"], "", "Umlaut."),
    );
    let r = check_within(&sms, Duration::from_secs(20));
    assert!(
        r.findings("broken-file-link").is_empty(),
        "{:?}",
        r.findings("broken-file-link")
    );
    let docs: Vec<_> = r.json()["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["documents"].as_array().unwrap().clone())
        .collect();
    for id in ["POL-RF", "POL-SP", "POL-UE"] {
        assert!(docs.contains(&serde_json::json!(id)), "{id} not linked");
    }
}

#[test]
fn clause_ids_and_ids_that_look_like_path_traversal() {
    let sms = Sms::new();
    sms.file(
        "policies/a.md",
        &doc(
            "POL-A",
            &["../../x"],
            "",
            "[c](clause:../../etc/passwd) [d](doc:../../x)",
        ),
    );
    sms.file("policies/b.md", &doc("../../b", &["8.5.1.1"], "", "B"));
    let r = check_within(&sms, Duration::from_secs(20));
    assert_eq!(r.findings("clause-unknown").len(), 1);
    assert_eq!(r.findings("broken-clause-link").len(), 1);
    assert_eq!(r.findings("broken-doc-link").len(), 1);
    assert_eq!(r.findings("id-invalid").len(), 1);
}

#[test]
fn empty_and_weird_frontmatter_shapes() {
    let sms = Sms::new();
    sms.file("policies/empty-fm.md", "---\n---\nbody\n");
    sms.file("policies/only-dashes.md", "---");
    sms.file("policies/list.md", "---\n- 1\n---\n");
    sms.file("policies/two-docs.md", "---\na: 1\n...\n---\nb: 2\n---\n");
    let r = check_within(&sms, Duration::from_secs(20));
    let codes = r.codes();
    assert!(
        codes.iter().filter(|c| *c == "frontmatter-invalid").count() >= 2,
        "{codes:?}"
    );
    assert!(
        codes.contains(&"frontmatter-unclosed".to_string()),
        "{codes:?}"
    );
}
