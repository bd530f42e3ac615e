//! The parse memo (`.git/auditbook/parsed.msgpack`): a run that answers from it reports exactly
//! what a run without it reports, whatever changed in the work tree since it was written, and a
//! corrupt, tampered or foreign memo is never trusted.

use crate::support::*;
use std::path::PathBuf;

const DATE: &str = "2026-01-10T12:00:00+00:00";

fn record(id: &str, status: &str) -> String {
    format!(
        "id: {id}\nkind: nonconformity\ndate: 2026-01-02\ntitle: Finding {id}\nstatus: {status}\ndue: 2026-02-01\ncorrective_action: Fix it\nowner: Owner\n"
    )
}

/// A committed SMS in its own git repository: two documents (one with a broken link) and two
/// records.
fn committed() -> Sms {
    let sms = Sms::new();
    sms.file(
        "policies/a.md",
        &doc("POL-A", &["8.5.1"], "", "See [b](b.md)."),
    )
    .file(
        "policies/b.md",
        &doc("POL-B", &["8.2.1"], "", "See [gone](doc:POL-GONE)."),
    )
    .file("records/nonconformity/nc-1.yaml", &record("NC-1", "open"))
    .file("records/nonconformity/nc-2.yaml", &record("NC-2", "closed"));
    git_at(sms.path(), &["init", "-q", "-b", "main"], DATE);
    git_at(sms.path(), &["add", "-A"], DATE);
    git_at(sms.path(), &["commit", "-q", "-m", "SMS"], DATE);
    // A file written within 2 s before a listing is read again by the next run whatever its
    // stamp (`Stamp::racy`): wait, so that the memo the first check writes proves them unchanged.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    sms
}

fn memo_file(sms: &Sms) -> PathBuf {
    sms.path().join(".git/auditbook/parsed.msgpack")
}

/// `check --format json` with the memo as it is, then again with the memo deleted first: the two
/// reports must be the same; returns the first.
fn same_with_and_without_memo(sms: &Sms) -> Run {
    let with = sms.check_json();
    std::fs::remove_file(memo_file(sms)).unwrap();
    let without = sms.check_json();
    assert_eq!(with.code, without.code);
    assert_eq!(with.stdout, without.stdout, "with the memo vs without");
    with
}

/// Rewrite the memo's CRC-32 trailer after an edit, as a forger would.
fn reseal(bytes: &mut [u8]) {
    let body = bytes.len() - 4;
    let crc = crc32fast::hash(&bytes[..body]);
    bytes[body..].copy_from_slice(&crc.to_le_bytes());
}

/// Replace the last (`last`) or first occurrence of `from` in the memo, and reseal it.
fn forge(sms: &Sms, from: &[u8], to: &[u8], last: bool) {
    let memo = memo_file(sms);
    let mut bytes = std::fs::read(&memo).unwrap();
    let mut at = bytes
        .windows(from.len())
        .enumerate()
        .filter(|(_, w)| *w == from)
        .map(|(i, _)| i);
    let at = if last { at.next_back() } else { at.next() }.expect("the memo holds the text");
    bytes[at..at + from.len()].copy_from_slice(to);
    reseal(&mut bytes);
    std::fs::write(&memo, &bytes).unwrap();
}

#[test]
fn a_second_run_reads_the_memo_reports_the_same_and_does_not_rewrite_it() {
    let sms = committed();
    let cold = sms.check_json();
    let memo = memo_file(&sms);
    assert!(memo.is_file(), "the first run writes the memo");
    let written = std::fs::metadata(&memo).unwrap().modified().unwrap();
    let warm = sms.check_json();
    assert_eq!(cold.stdout, warm.stdout);
    assert_eq!(cold.code, warm.code);
    assert_eq!(warm.findings("broken-doc-link").len(), 1, "{}", warm.stdout);
    assert!(warm.findings("history-cache-rejected").is_empty());
    assert_eq!(
        std::fs::metadata(&memo).unwrap().modified().unwrap(),
        written,
        "nothing changed: the memo is not written again"
    );
}

#[test]
fn an_edited_file_is_parsed_again() {
    let sms = committed();
    sms.check_json();
    sms.edit("policies/b.md", "doc:POL-GONE", "doc:POL-A");
    sms.edit(
        "records/nonconformity/nc-1.yaml",
        "status: open",
        "status: oops",
    );
    let r = same_with_and_without_memo(&sms);
    assert!(r.findings("broken-doc-link").is_empty(), "{}", r.stdout);
    assert_eq!(r.findings("uncommitted-changes").len(), 1);
}

#[test]
fn a_new_untracked_file_and_a_deleted_file_are_seen() {
    let sms = committed();
    sms.check_json();
    sms.file(
        "policies/c.md",
        &doc("POL-C", &["8.2.1"], "", "See [x](doc:POL-NONE)."),
    );
    sms.remove("policies/a.md");
    let r = same_with_and_without_memo(&sms);
    let broken = r.findings("broken-doc-link");
    assert_eq!(broken.len(), 2, "{}", r.stdout);
    assert!(broken.iter().any(|f| f["path"] == "policies/c.md"));
    // the memo now holds the files of this work tree only
    let memo = std::fs::read(memo_file(&sms)).unwrap();
    let holds = |s: &str| memo.windows(s.len()).any(|w| w == s.as_bytes());
    assert!(holds("policies/c.md") && !holds("policies/a.md"));
}

#[test]
fn an_edit_of_the_same_size_and_time_in_the_same_second_is_seen() {
    let sms = committed();
    sms.check_json();
    let path = sms.path().join("policies/b.md");
    let before = std::fs::metadata(&path).unwrap();
    let text = sms.read("policies/b.md").replace("POL-GONE", "POL-A   ");
    assert_eq!(text.len() as u64, before.len());
    std::fs::write(&path, text).unwrap();
    let f = std::fs::File::options().write(true).open(&path).unwrap();
    f.set_modified(before.modified().unwrap()).unwrap();
    drop(f);
    let after = std::fs::metadata(&path).unwrap();
    assert_eq!(
        (after.len(), after.modified().unwrap()),
        (before.len(), before.modified().unwrap())
    );
    let r = same_with_and_without_memo(&sms);
    assert!(r.findings("broken-doc-link").is_empty(), "{}", r.stdout);
}

#[test]
fn a_corrupt_memo_is_ignored_and_replaced() {
    let sms = committed();
    let cold = sms.check_json();
    let memo = memo_file(&sms);
    for garbage in [
        b"not a memo".to_vec(),
        Vec::new(),
        std::fs::read(&memo).unwrap()[..100].to_vec(),
    ] {
        std::fs::write(&memo, &garbage).unwrap();
        let r = sms.check_json();
        assert_eq!(
            r.stdout, cold.stdout,
            "a memo that cannot be read is absent"
        );
        assert_ne!(std::fs::read(&memo).unwrap(), garbage, "and rewritten");
    }
    // a flipped byte breaks the trailer
    let mut bytes = std::fs::read(&memo).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x20;
    std::fs::write(&memo, &bytes).unwrap();
    assert_eq!(sms.check_json().stdout, cold.stdout);
}

#[test]
fn a_tampered_memo_is_rejected_with_a_note_and_the_files_are_parsed() {
    // the stored parse (after the stored bytes in the entry): POL-B's link target edited into
    // one that exists; then the stored bytes, which a stamp-proven file is taken from (found by
    // the sample; with a NUL, the stored parse no longer fits them)
    for (to, last) in [
        (b"POL-A\0\0\0", true),
        (b"POL-A   ", false),
        (b"POL-A\0\0\0", false),
    ] {
        let sms = committed();
        let cold = sms.check_json();
        assert_eq!(cold.findings("broken-doc-link").len(), 1);
        forge(&sms, b"POL-GONE", to, last);
        let r = sms.check_json();
        let rejected = r.findings("history-cache-rejected");
        assert_eq!(rejected.len(), 1, "{}", r.stdout);
        assert_eq!(rejected[0]["severity"], "note");
        assert!(rejected[0]["message"]
            .as_str()
            .unwrap()
            .contains("parsed.msgpack"));
        assert_eq!(r.findings("broken-doc-link").len(), 1, "{}", r.stdout);
        // rewritten from the files: trusted again, and the same report as the first run
        assert_eq!(sms.check_json().stdout, cold.stdout);
    }
}

#[test]
fn a_memo_made_under_another_configuration_is_not_used() {
    let sms = committed();
    let cold = sms.check_json();
    assert!(cold.findings("field-invalid").is_empty(), "{}", cold.stdout);
    // `1.0` is no integer version: the documents' parse differs under this sms.yaml
    sms.file(
        "sms.yaml",
        &format!("{MINIMAL_CONFIG}version_scheme: integer\n"),
    );
    let r = same_with_and_without_memo(&sms);
    assert_ne!(r.stdout, cold.stdout);
    assert!(
        r.stdout.contains("version_scheme: integer"),
        "the version findings are there: {}",
        r.stdout
    );
}

#[test]
fn outside_git_there_is_no_memo() {
    let sms = Sms::new();
    sms.file("policies/a.md", &doc("POL-A", &["8.5.1"], "", "Text."));
    let first = sms.check_json();
    assert_eq!(sms.check_json().stdout, first.stdout);
    assert!(!sms.path().join(".git").exists());
    let names: Vec<_> = std::fs::read_dir(sms.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "nothing written into the SMS: {names:?}");
}
