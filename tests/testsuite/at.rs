//! `--at DATE|REV` on `check`, `build` and `bundle`: the SMS as it stood at a past commit equals
//! what a checkout of that commit gives (apart from what says "as it stood on"), the history rules
//! see only the history up to it, HEAD's history cache is neither changed nor reused wrongly, and
//! the errors are clear exit-2 messages.
//!
//! The repository is made with the git command line at fixed commit times (see `git_at`): a year
//! of history, documents approved and revised over the months, records added.

use crate::support::*;
use std::collections::BTreeMap;
use std::path::Path;

/// `git ARGS` in `dir` at `date`; returns HEAD's id afterwards.
fn git(dir: &Path, args: &[&str], date: &str) -> String {
    git_at(dir, args, date);
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(["rev-parse", "HEAD"])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn commit(sms: &Sms, message: &str, date: &str) -> String {
    git_at(sms.path(), &["add", "-A"], date);
    git(sms.path(), &["commit", "-q", "-m", message], date)
}

fn document(
    id: &str,
    clause: &str,
    version: &str,
    status: &str,
    approved: &str,
    body: &str,
) -> String {
    let approved = if approved.is_empty() {
        String::new()
    } else {
        format!("approved: {approved}\n")
    };
    format!(
        "---\nid: {id}\ntitle: Document {id}\ntype: policy\nowner: Owner\napprover: Approver\nversion: \"{version}\"\nstatus: {status}\n{approved}review_interval: 6 months\nclauses: [\"{clause}\"]\n---\n\n# Document {id}\n\n{body}\n"
    )
}

fn incident(id: &str, date: &str) -> String {
    format!("id: {id}\nkind: incident\ndate: {date}\ntitle: Outage {id}\nstatus: closed\npriority: P2\nservice: Hosting\n")
}

/// The year 2026 of an SMS; returns the commit ids by the month they were made in.
struct Year {
    sms: Sms,
    /// (commit date, id), oldest first.
    commits: Vec<(&'static str, String)>,
}

fn a_year_of_history() -> Year {
    let sms = Sms::with_config(
        "organisation: Test Ltd.\nscope: Test services for test customers.\nframework: iso20000-1:2018\n",
    );
    git_at(
        sms.path(),
        &["init", "-q", "-b", "main"],
        "2026-01-01T09:00:00+00:00",
    );
    let mut commits = Vec::new();
    let mut step = |sms: &Sms, msg: &str, date: &'static str| {
        let id = commit(sms, msg, date);
        commits.push((date, id));
    };
    sms.file(
        "policies/change.md",
        &document(
            "POL-CHG",
            "8.5.1.1",
            "1.0",
            "approved",
            "2026-01-12",
            "The change policy.",
        ),
    );
    step(&sms, "Change policy 1.0", "2026-01-12T10:00:00+01:00");
    sms.file(
        "procedures/change.md",
        &document(
            "PRO-CHG",
            "8.5.1.2",
            "1.0",
            "approved",
            "2026-02-09",
            "## Steps\n\n1. Raise it.",
        ),
    );
    step(&sms, "Change procedure 1.0", "2026-02-09T15:00:00+01:00");
    sms.file(
        "records/incident/INC-1.yaml",
        &incident("INC-1", "2026-03-03"),
    );
    step(&sms, "INC-1", "2026-03-04T08:30:00+01:00");
    sms.file(
        "policies/change.md",
        &document(
            "POL-CHG",
            "8.5.1.1",
            "1.1",
            "draft",
            "",
            "The change policy, revised.",
        ),
    );
    step(
        &sms,
        "Change policy 1.1 drafted",
        "2026-04-20T11:00:00+02:00",
    );
    sms.file(
        "policies/change.md",
        &document(
            "POL-CHG",
            "8.5.1.1",
            "1.1",
            "approved",
            "2026-05-18",
            "The change policy, revised.",
        ),
    );
    step(
        &sms,
        "Change policy 1.1 approved",
        "2026-05-18T16:00:00+02:00",
    );
    sms.file(
        "records/incident/INC-2.yaml",
        &incident("INC-2", "2026-06-28"),
    );
    // Late on the 30th in UTC-07:00: the 1st of July in UTC, yet "on or before 2026-06-30" in the
    // committer's own offset.
    step(&sms, "INC-2", "2026-06-30T22:00:00-07:00");
    sms.file(
        "procedures/change.md",
        &document(
            "PRO-CHG",
            "8.5.1.2",
            "2.0",
            "approved",
            "2026-08-10",
            "## Steps\n\n1. Raise it.\n2. Assess it.",
        ),
    );
    step(&sms, "Change procedure 2.0", "2026-08-10T09:00:00+02:00");
    sms.file(
        "records/incident/INC-3.yaml",
        &incident("INC-3", "2026-10-02"),
    );
    sms.file(
        "policies/service.md",
        &document(
            "POL-SVC",
            "8.2.1",
            "1.0",
            "approved",
            "2026-10-05",
            "The service policy.",
        ),
    );
    step(&sms, "Service policy, INC-3", "2026-10-05T10:00:00+02:00");
    sms.remove("records/incident/INC-1.yaml");
    step(
        &sms,
        "INC-1 archived elsewhere",
        "2026-12-01T10:00:00+01:00",
    );
    Year { sms, commits }
}

impl Year {
    fn id(&self, date_prefix: &str) -> &str {
        &self
            .commits
            .iter()
            .find(|(d, _)| d.starts_with(date_prefix))
            .unwrap()
            .1
    }

    /// A clone of the repository with `commit` checked out (detached), in its own folder.
    fn checkout(&self, commit: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("sms");
        git_at(
            self.sms.path(),
            &["clone", "-q", ".", dest.to_str().unwrap()],
            "2026-12-07T00:00:00+00:00",
        );
        git_at(
            &dest,
            &["checkout", "-q", "--detach", commit],
            "2026-12-07T00:00:00+00:00",
        );
        dir
    }
}

/// `auditbook SUBCOMMAND PATH ARGS…`, nothing added.
fn ab(subcommand: &str, path: &Path, args: &[&str]) -> Run {
    let mut c = auditbook();
    c.arg(subcommand).arg(path).args(args);
    run(c)
}

/// Every file below `dir`: relative path -> bytes, with the `--at` banner line taken out.
fn site_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.unwrap();
        if !e.file_type().is_file() {
            continue;
        }
        let rel = e
            .path()
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let bytes = std::fs::read(e.path()).unwrap();
        let bytes = match String::from_utf8(bytes) {
            Ok(text) => text
                .split_inclusive('\n')
                .filter(|l| !l.starts_with("<div class=\"at-banner\""))
                .collect::<String>()
                .into_bytes(),
            Err(e) => e.into_bytes(),
        };
        out.insert(rel, bytes);
    }
    out
}

#[test]
fn build_at_a_past_date_equals_a_build_of_a_checkout_of_that_commit() {
    let y = a_year_of_history();
    // HEAD's history is read (and cached) first: the --at run must not reuse it wrongly.
    let head_before = ab(
        "check",
        y.sms.path(),
        &["--format", "json", "--as-of", "2026-12-07"],
    );
    let at_commit = y.id("2026-06-30");
    let out = tempfile::tempdir().unwrap();
    let at_site = out.path().join("at");
    let r = ab(
        "build",
        y.sms.path(),
        &["--at", "2026-06-30", "--out", at_site.to_str().unwrap()],
    );
    assert!(r.code <= 1, "{}", r.stderr);
    let co = y.checkout(at_commit);
    let co_site = out.path().join("co");
    let r2 = ab(
        "build",
        &co.path().join("sms"),
        &["--as-of", "2026-06-30", "--out", co_site.to_str().unwrap()],
    );
    assert!(r2.code <= 1, "{}", r2.stderr);
    // The findings printed are the checkout's, with one line more that says which past it is.
    let past = format!(
        "PAST STATE: the SMS as it stood on 2026-06-30 (commit {}), with the history up to that commit only\n",
        &at_commit[..12]
    );
    assert!(r.stdout.contains(&past), "{}", r.stdout);
    assert_eq!(r.stdout.replacen(&past, "", 1), r2.stdout);
    assert!(
        r.stderr
            .contains("PAST STATE: the site shows the SMS as it stood on 2026-06-30"),
        "{}",
        r.stderr
    );

    // Every page carries the banner, naming the date asked for and the commit found.
    let index = std::fs::read_to_string(at_site.join("index.html")).unwrap();
    let banner = format!("as it stood on 2026-06-30 (commit {})", &at_commit[..12]);
    assert!(index.contains(&banner), "{index}");
    let pages: Vec<_> = walkdir::WalkDir::new(&at_site)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "html"))
        .collect();
    assert!(pages.len() > 5);
    for p in &pages {
        let text = std::fs::read_to_string(p.path()).unwrap();
        assert!(
            text.contains(&banner),
            "{} lacks the banner",
            p.path().display()
        );
    }
    assert!(!std::fs::read_to_string(co_site.join("index.html"))
        .unwrap()
        .contains("as it stood on"));

    // Byte-identical apart from the banner, file for file.
    let a = site_files(&at_site);
    let b = site_files(&co_site);
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (path, bytes) in &a {
        assert!(
            bytes == &b[path],
            "{path} differs between --at and the checkout"
        );
    }
    // What it shows is the past: INC-2 (committed on the 30th at 22:00 UTC-07:00) is there, the
    // service policy of October is not, and the change procedure is still 1.0.
    assert!(a.contains_key("records/INC-2.html") || a.keys().any(|k| k.contains("INC-2")));
    assert!(!a.keys().any(|k| k.contains("POL-SVC")));

    // HEAD's check is as before: the cache was neither changed nor wrongly reused.
    let head_after = ab(
        "check",
        y.sms.path(),
        &["--format", "json", "--as-of", "2026-12-07"],
    );
    assert_eq!(head_before.stdout, head_after.stdout);
    assert!(head_after.stdout.contains("POL-SVC"));
}

#[test]
fn check_at_equals_check_of_the_checkout_and_says_so() {
    let y = a_year_of_history();
    // The April draft of the policy: the history knows 1.0 as the version in force.
    let at = y.id("2026-04-20");
    let r = ab(
        "check",
        y.sms.path(),
        &["--at", "2026-05-01", "--format", "json"],
    );
    assert!(r.code <= 1, "{}", r.stderr);
    let mut json = r.json();
    assert_eq!(json["at"]["date"], "2026-05-01");
    assert_eq!(json["at"]["commit"], at);
    assert_eq!(json["as_of"], "2026-05-01");
    json.as_object_mut().unwrap().remove("at");
    let co = y.checkout(at);
    let c = ab(
        "check",
        &co.path().join("sms"),
        &["--as-of", "2026-05-01", "--format", "json"],
    );
    assert_eq!(json, c.json());

    // The human report says it too; --as-of still overrides the date.
    let h = ab(
        "check",
        y.sms.path(),
        &["--at", "2026-05-01", "--as-of", "2026-05-02"],
    );
    assert!(
        h.stdout.contains(&format!(
            "PAST STATE: the SMS as it stood on 2026-05-01 (commit {})",
            &at[..12]
        )),
        "{}",
        h.stdout
    );
    assert!(h.stdout.contains("as of 2026-05-02"), "{}", h.stdout);
}

#[test]
fn at_a_revision_defaults_the_as_of_date_to_its_committer_date() {
    let y = a_year_of_history();
    let r = ab(
        "check",
        y.sms.path(),
        &["--at", "HEAD~2", "--format", "json"],
    );
    assert!(r.code <= 1, "{}", r.stderr);
    let json = r.json();
    assert_eq!(json["at"]["commit"], y.id("2026-08-10"));
    assert_eq!(json["at"]["date"], "2026-08-10");
    assert_eq!(json["as_of"], "2026-08-10");
    // A revision off HEAD's chain is a past state too: its own first-parent history is read.
    git_at(
        y.sms.path(),
        &["checkout", "-q", "-b", "side", "HEAD~1"],
        "2026-12-02T10:00:00+00:00",
    );
    y.sms.file(
        "records/incident/INC-9.yaml",
        &incident("INC-9", "2026-11-20"),
    );
    let side = commit(
        &y.sms,
        "INC-9 on a side branch",
        "2026-12-02T10:00:00+00:00",
    );
    git_at(
        y.sms.path(),
        &["checkout", "-q", "main"],
        "2026-12-02T10:00:00+00:00",
    );
    let r = ab("check", y.sms.path(), &["--at", "side", "--format", "json"]);
    assert!(r.code <= 1, "{}", r.stderr);
    assert_eq!(r.json()["at"]["commit"], side.as_str());
    let co = y.checkout(&side);
    let c = ab(
        "check",
        &co.path().join("sms"),
        &["--as-of", "2026-12-02", "--format", "json"],
    );
    let mut json = r.json();
    json.as_object_mut().unwrap().remove("at");
    assert_eq!(json, c.json());
}

#[test]
fn bundle_at_records_it_in_the_manifest_and_reproduces() {
    let y = a_year_of_history();
    let at = y.id("2026-08-10");
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("b.zip");
    let r = ab(
        "bundle",
        y.sms.path(),
        &["--at", "2026-09-30", "--out", zip.to_str().unwrap()],
    );
    assert!(r.code <= 1, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("past state   the SMS as it stood on 2026-09-30 (commit "),
        "{}",
        r.stdout
    );
    let f = std::fs::File::open(&zip).unwrap();
    let mut z = zip::ZipArchive::new(f).unwrap();
    let mut m = String::new();
    std::io::Read::read_to_string(&mut z.by_name("manifest.json").unwrap(), &mut m).unwrap();
    let m: serde_json::Value = serde_json::from_str(&m).unwrap();
    assert_eq!(m["at"]["date"], "2026-09-30");
    assert_eq!(m["at"]["commit"], at);
    assert_eq!(m["commit"]["id"], at);
    assert_eq!(m["as_of"], "2026-09-30");
    let mut page = String::new();
    std::io::Read::read_to_string(&mut z.by_name("site/index.html").unwrap(), &mut page).unwrap();
    assert!(page.contains("as it stood on 2026-09-30"), "{page}");
    let mut c = auditbook();
    c.arg("verify")
        .arg(&zip)
        .arg("--reproduce")
        .arg(y.sms.path());
    let v = run(c);
    assert_eq!(v.code, 0, "{}\n{}", v.stdout, v.stderr);
}

#[test]
fn bad_at_arguments_are_clear_exit_2_errors() {
    let y = a_year_of_history();
    let r = ab("check", y.sms.path(), &["--at", "2025-12-31"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("before the first commit"), "{}", r.stderr);
    assert!(r.stderr.contains("2026-01-12"), "{}", r.stderr);
    let r = ab("build", y.sms.path(), &["--at", "no-such-tag"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("`no-such-tag` is neither a date"),
        "{}",
        r.stderr
    );
    let r = ab(
        "bundle",
        y.sms.path(),
        &["--at", "2026-06-30", "--allow-dirty"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--allow-dirty"), "{}", r.stderr);
    let plain = Sms::new();
    let r = ab("check", plain.path(), &["--at", "2026-06-30"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not in a git repository"), "{}", r.stderr);
}

#[test]
fn a_shallow_clone_cut_after_the_date_names_the_fetch() {
    let y = a_year_of_history();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("sms");
    let url = format!("file://{}", y.sms.path().display());
    git_at(
        dir.path(),
        &["clone", "-q", "--depth", "2", &url, dest.to_str().unwrap()],
        "2026-12-07T00:00:00+00:00",
    );
    let r = ab("check", &dest, &["--at", "2026-03-31"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("git fetch --shallow-since=2026-03-31"),
        "{}",
        r.stderr
    );
}
