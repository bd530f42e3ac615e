//! Adoption paths (#17): the pre-commit hooks this repository publishes, run by the real
//! `pre-commit` tool (PyPI) against a temporary SMS repository. `.ci/run` installs pre-commit;
//! under `CI=true` a missing tool fails the test instead of skipping it.

use crate::support::*;
use std::path::Path;
use std::process::Command;

/// `pre-commit`, or `None` (locally) when it is not installed. Under CI it must be there.
fn pre_commit() -> Option<&'static str> {
    let found = Command::new("pre-commit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some("pre-commit");
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true but pre-commit is not installed (python3 -m pip install pre-commit)");
    }
    eprintln!("skipped: pre-commit is not installed");
    None
}

fn git(dir: &Path, args: &[&str]) {
    git_at(dir, args, "2026-11-20T10:00:00Z");
}

/// `pre-commit try-repo <this repository> auditbook-check-system --all-files` in `sms`, with
/// the built binary on PATH and the as-of date fixed through SOURCE_DATE_EPOCH.
fn try_hook(tool: &str, sms: &Path, home: &Path) -> Run {
    let bin = Path::new(env!("CARGO_BIN_EXE_auditbook")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut c = Command::new(tool);
    c.current_dir(sms)
        .args(["try-repo"])
        .arg(repo_root())
        .args(["auditbook-check-system", "--all-files", "--color", "never"])
        .env("PATH", path)
        .env("PRE_COMMIT_HOME", home.join("pre-commit"))
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        // 2026-12-07 12:00 UTC: the date the sample is checked at (support::SAMPLE_AS_OF).
        .env("SOURCE_DATE_EPOCH", "1796644800")
        .env("NO_COLOR", "1");
    run(c)
}

#[test]
fn the_published_pre_commit_hook_passes_a_clean_sms_and_blocks_an_error() {
    let Some(tool) = pre_commit() else { return };
    let home = tempfile::tempdir().unwrap();
    let repo = tempfile::tempdir().unwrap();
    copy_dir(&repo_root().join("sample-sms"), repo.path());
    let _ = std::fs::remove_dir_all(repo.path().join("_site"));
    git(repo.path(), &["init", "-q", "-b", "main"]);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "The sample SMS"]);

    let r = try_hook(tool, repo.path(), home.path());
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("auditbook check (installed binary)"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("Passed"), "{}", r.stdout);

    // A staged policy citing a clause the standard does not have: the hook fails and shows why.
    std::fs::write(
        repo.path().join("policies/bogus.md"),
        doc(
            "POL-BOGUS",
            &["8.99"],
            "",
            "A policy for a clause that does not exist.",
        ),
    )
    .unwrap();
    git(repo.path(), &["add", "policies/bogus.md"]);
    let r = try_hook(tool, repo.path(), home.path());
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("Failed"), "{}", r.stdout);
    assert!(r.stdout.contains("8.99"), "{}", r.stdout);
    assert!(r.stdout.contains("policies/bogus.md"), "{}", r.stdout);
}

/// A git repository holding the sample SMS, committed once.
fn committed_sample() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    copy_dir(&repo_root().join("sample-sms"), repo.path());
    let _ = std::fs::remove_dir_all(repo.path().join("_site"));
    git(repo.path(), &["init", "-q", "-b", "main"]);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "The sample SMS"]);
    repo
}

fn check_staged(dir: &Path) -> Run {
    let mut c = auditbook();
    c.arg("check")
        .arg(dir)
        .args(["--staged", "--format", "json", "--as-of", SAMPLE_AS_OF]);
    run(c)
}

const BOGUS: &str = "policies/bogus.md";

#[test]
fn check_staged_judges_the_index_a_staged_fix_passes_though_the_work_tree_is_broken() {
    let repo = committed_sample();
    let bogus = doc(
        "POL-BOGUS",
        &["8.99"],
        "",
        "A policy for a clause that does not exist.",
    );
    let fixed = doc(
        "POL-BOGUS",
        &["8.2"],
        "",
        "A policy for a clause that exists.",
    );
    // Staged: the fix. Work tree: broken again, unstaged.
    std::fs::write(repo.path().join(BOGUS), &fixed).unwrap();
    git(repo.path(), &["add", BOGUS]);
    std::fs::write(repo.path().join(BOGUS), &bogus).unwrap();

    let staged = check_staged(repo.path());
    assert!(
        !staged.codes().contains(&"clause-unknown".to_string()),
        "{}",
        staged.stdout
    );
    assert!(!staged.codes().contains(&"uncommitted-changes".to_string()));
    // Without --staged the work tree is checked and the broken file is found.
    let mut c = auditbook();
    c.arg("check")
        .arg(repo.path())
        .args(["--format", "json", "--as-of", SAMPLE_AS_OF]);
    let work = run(c);
    assert!(
        work.codes().contains(&"clause-unknown".to_string()),
        "{}",
        work.stdout
    );
}

#[test]
fn check_staged_a_staged_breakage_fails_though_the_work_tree_is_fixed() {
    let repo = committed_sample();
    let bogus = doc(
        "POL-BOGUS",
        &["8.99"],
        "",
        "A policy for a clause that does not exist.",
    );
    let fixed = doc(
        "POL-BOGUS",
        &["8.2"],
        "",
        "A policy for a clause that exists.",
    );
    std::fs::write(repo.path().join(BOGUS), &bogus).unwrap();
    git(repo.path(), &["add", BOGUS]);
    std::fs::write(repo.path().join(BOGUS), &fixed).unwrap();

    let r = check_staged(repo.path());
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let found = r.findings("clause-unknown");
    assert_eq!(found.len(), 1, "{}", r.stdout);
    assert!(r.stdout.contains(BOGUS), "{}", r.stdout);
    // A file only in the work tree (never staged) is not part of the check either.
    std::fs::write(
        repo.path().join("policies/untracked.md"),
        bogus.replace("POL-BOGUS", "POL-UNTR"),
    )
    .unwrap();
    let r = check_staged(repo.path());
    assert!(!r.stdout.contains("policies/untracked.md"), "{}", r.stdout);
}

#[test]
fn check_staged_outside_git_is_a_failure_with_the_fix() {
    let sms = Sms::sample();
    let r = check_staged(sms.path());
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("not in a git repository"), "{}", r.stderr);
}
