//! `auditbook bundle` and `auditbook verify`: the zip's layout and manifest, byte-identical
//! rebuilds, `sources/` exactly as committed even from a dirty work tree, DRAFT bundles, and every
//! kind of tampering `verify` must name, with its exit code.
//!
//! Repositories are built with libgit2 in the test (fixed author, fixed commit times, the user's
//! git configuration kept out of the content); tampered zips are written with the zip crate.

use crate::support::*;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600;

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xff, 0xff, 0x3f,
    0x00, 0x05, 0xfe, 0x02, 0xfe, 0xa7, 0x35, 0x81, 0x84, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

/// A git repository in a folder, written through libgit2 with a fixed author and fixed times.
struct Git {
    repo: git2::Repository,
}

impl Git {
    fn init(dir: &Path) -> Git {
        let repo = git2::Repository::init(dir).unwrap();
        {
            // The repository's own settings win over any the user has: bytes are stored as written.
            let mut cfg = repo.config().unwrap();
            cfg.set_bool("core.autocrlf", false).unwrap();
            cfg.set_str("core.eol", "lf").unwrap();
            cfg.set_bool("core.filemode", true).unwrap();
        }
        Git { repo }
    }

    /// Stage every file (additions, changes, deletions) and commit at `time` (seconds, UTC
    /// offset in minutes); returns the commit id.
    fn commit_all(&self, message: &str, time: i64, offset_minutes: i32) -> String {
        let mut index = self.repo.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.update_all(["*"], None).unwrap();
        index.write().unwrap();
        let tree = self.repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::new(
            "Helen Carter",
            "hc@example.com",
            &git2::Time::new(time, offset_minutes),
        )
        .unwrap();
        let parent = self.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .unwrap()
            .to_string()
    }
}

/// A small SMS with documents, records, a linked image and PDF (files auditbook does not parse,
/// so the bundle reads them from git objects), committed once at T0 + 1 h in UTC+01:00.
fn committed_sms() -> (Sms, Git, String) {
    let sms = Sms::with_config(
        "organisation: Test Ltd.\nscope: Test services for test customers.\nframework: iso20000-1:2018\n",
    );
    sms.file(
        "policies/change.md",
        &doc(
            "POL-CHG",
            &["8.5.1.1"],
            "",
            "See [the steps](doc:PRO-CHG), the flow ![flow](img/flow.png) and [the form](forms/rfc.pdf).",
        ),
    );
    sms.bytes("policies/img/flow.png", PNG);
    sms.bytes("policies/forms/rfc.pdf", b"%PDF-1.4\n%%EOF\n");
    sms.file(
        "procedures/change.md",
        &doc(
            "PRO-CHG",
            &["8.5.1.2"],
            "",
            "## Steps\n\n1. Raise the request.",
        ),
    );
    sms.file(
        "records/incident/INC-1.yaml",
        "id: INC-1\nkind: incident\ndate: 2026-10-01\ntitle: Storage latency\nstatus: closed\npriority: P2\nservice: Hosting\n",
    );
    let git = Git::init(sms.path());
    let commit = git.commit_all("Initial SMS", T0 + 3600, 60);
    (sms, git, commit)
}

/// `auditbook bundle SMS --out OUT ARGS…` (with the fixed as-of date).
fn bundle(sms: &Sms, out: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    sms.run("bundle", &all)
}

/// The bundle was written. The fixtures cover few clauses, so there are findings at error level:
/// exit 1, said loudly, and the bundle is written all the same.
fn assert_bundled(r: &Run) {
    assert_eq!(r.code, 1, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    assert!(r.stdout.starts_with("wrote "), "{}", r.stdout);
    assert!(
        r.stderr.contains("FINDINGS: the bundle was written"),
        "{}",
        r.stderr
    );
}

fn verify(zip: &Path) -> Run {
    let mut c = auditbook();
    c.arg("verify").arg(zip);
    run(c)
}

/// Every entry of a zip: name -> bytes, in the zip's order.
fn entries(zip: &Path) -> Vec<(String, Vec<u8>)> {
    let mut a = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    (0..a.len())
        .map(|i| {
            let mut f = a.by_index(i).unwrap();
            let mut b = Vec::new();
            f.read_to_end(&mut b).unwrap();
            (f.name().unwrap().to_string(), b)
        })
        .collect()
}

fn entry_map(zip: &Path) -> BTreeMap<String, Vec<u8>> {
    entries(zip).into_iter().collect()
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn manifest(zip: &Path) -> serde_json::Value {
    serde_json::from_slice(&entry_map(zip)["manifest.json"]).unwrap()
}

/// Copy a zip entry by entry into `out`, letting `edit` change or drop entries, then add `extra`.
/// The zip comment is kept, so only the intended change differs.
pub fn rewrite(
    zip: &Path,
    out: &Path,
    mut edit: impl FnMut(&str, Vec<u8>) -> Option<Vec<u8>>,
    extra: &[(&str, &[u8])],
) {
    let mut src = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let comment = src.comment().to_vec();
    let mut w = zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..src.len() {
        let mut f = src.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        if let Some(b) = edit(&name, bytes) {
            w.start_file(name, opts).unwrap();
            w.write_all(&b).unwrap();
        }
    }
    for (name, bytes) in extra {
        w.start_file(*name, opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.set_raw_comment(comment.into_boxed_slice()).unwrap();
    w.finish().unwrap();
}

/// `git show <commit>:<path>` with the user's configuration kept out.
fn git_show(dir: &Path, commit: &str, path: &str) -> Vec<u8> {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["show", &format!("{commit}:{path}")])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git show {commit}:{path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Every regular file of a commit's tree, with git2.
fn committed_paths(git: &Git, commit: &str) -> Vec<String> {
    let tree = git
        .repo
        .find_commit(git2::Oid::from_str(commit).unwrap())
        .unwrap()
        .tree()
        .unwrap();
    let mut out = Vec::new();
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, e| {
        if e.kind() == Some(git2::ObjectType::Blob) {
            out.push(format!("{dir}{}", e.name().unwrap()));
        }
        git2::TreeWalkResult::Ok
    })
    .unwrap();
    out.sort();
    out
}

/// The same commit and as-of date give the same bytes: twice in a row, and from a copy of the
/// repository in another folder (no absolute path, clock or machine state enters the zip).
#[test]
fn two_bundles_of_one_commit_are_byte_identical() {
    let (sms, _git, _) = committed_sms();
    let out = tempfile::tempdir().unwrap();
    let (a, b) = (out.path().join("a.zip"), out.path().join("b.zip"));
    let r = bundle(&sms, &a, &[]);
    assert_bundled(&r);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let r = bundle(&sms, &b, &[]);
    assert_bundled(&r);
    let first = std::fs::read(&a).unwrap();
    assert!(first == std::fs::read(&b).unwrap(), "two runs differ");

    let elsewhere = tempfile::tempdir().unwrap();
    copy_dir(sms.path(), elsewhere.path());
    let c = out.path().join("c.zip");
    let mut cmd = auditbook();
    cmd.arg("bundle")
        .arg(elsewhere.path())
        .args(["--as-of", AS_OF, "--out"])
        .arg(&c);
    let r = run(cmd);
    assert_bundled(&r);
    assert!(
        first == std::fs::read(&c).unwrap(),
        "a copy in another folder differs"
    );

    // Another as-of date is another bundle.
    let d = out.path().join("d.zip");
    assert_bundled(&bundle(&sms, &d, &["--as-of", "2026-11-27"]));
    assert!(first != std::fs::read(&d).unwrap());
}

/// The layout, the manifest's fields, fixed times and modes, and `verify` on an intact bundle.
#[test]
fn the_bundle_holds_site_sources_lists_and_verifies() {
    let (sms, _git, commit) = committed_sms();
    let out = tempfile::tempdir().unwrap();
    let zip = out.path().join("b.zip");
    let r = bundle(&sms, &zip, &[]);
    assert_bundled(&r);

    let all = entries(&zip);
    let owned: Vec<String> = all.iter().map(|(n, _)| n.clone()).collect();
    let names: Vec<&str> = owned.iter().map(String::as_str).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "entries are sorted");
    for top in [
        "README.txt",
        "SHA256SUMS",
        "coverage.csv",
        "findings.json",
        "manifest.json",
    ] {
        assert!(names.contains(&top), "{top} missing: {names:?}");
    }
    for page in [
        "site/index.html",
        "site/documents/POL-CHG.html",
        "site/files/policies/forms/rfc.pdf",
        "site/files/policies/img/flow.png",
        "sources/sms.yaml",
        "sources/policies/change.md",
        "sources/policies/forms/rfc.pdf",
        "sources/records/incident/INC-1.yaml",
    ] {
        assert!(names.contains(&page), "{page} missing: {names:?}");
    }
    assert!(names.iter().all(|n| !n.ends_with('/')), "no folder entries");
    let map: BTreeMap<_, _> = all.into_iter().collect();
    assert_eq!(map["site/files/policies/img/flow.png"], PNG);

    // Fixed times (the commit time in UTC) and modes.
    let mut a = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
    for i in 0..a.len() {
        let f = a.by_index(i).unwrap();
        assert_eq!(f.unix_mode(), Some(0o100644), "{:?}", f.name());
        let t = f.last_modified().unwrap();
        assert_eq!(
            (
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            (2026, 1, 1, 1, 0, 0),
            "{}",
            f.name().unwrap()
        );
        assert!(
            f.extra_data().is_none_or(|d| d.is_empty()),
            "{:?}",
            f.name()
        );
    }

    // The manifest.
    let m = manifest(&zip);
    assert_eq!(m["format"], "auditbook-bundle/1");
    assert_eq!(m["tool"]["name"], "auditbook");
    assert_eq!(m["organisation"], "Test Ltd.");
    assert_eq!(m["framework"]["id"], "iso20000-1:2018");
    assert_eq!(m["framework"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(m["commit"]["id"], commit.as_str());
    assert_eq!(m["commit"]["time"], "2026-01-01T02:00:00+01:00");
    assert_eq!(m["as_of"], AS_OF);
    assert_eq!(m["dirty"], false);
    assert!(m["coverage"]["clauses"].as_u64().unwrap() > 50);
    assert!(m["findings"]["errors"].is_u64() && m["findings"]["warnings"].is_u64());
    let files = m["files"].as_array().unwrap();
    let listed: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    let expected: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| *n != "manifest.json" && *n != "SHA256SUMS")
        .collect();
    assert_eq!(listed, expected, "the manifest lists every other entry");
    for f in files {
        let bytes = &map[f["path"].as_str().unwrap()];
        assert_eq!(f["size"].as_u64().unwrap(), bytes.len() as u64);
        assert_eq!(f["sha256"].as_str().unwrap(), sha256(bytes));
    }
    let sums_of_files: String = files
        .iter()
        .map(|f| {
            format!(
                "{}  {}\n",
                f["sha256"].as_str().unwrap(),
                f["path"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        m["files_sha256"].as_str().unwrap(),
        sha256(sums_of_files.as_bytes())
    );

    // SHA256SUMS: GNU format over every entry but itself; the fingerprint is its SHA-256.
    let sums = String::from_utf8(map["SHA256SUMS"].clone()).unwrap();
    let sum_names: Vec<&str> = sums.lines().map(|l| &l[66..]).collect();
    let others: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| *n != "SHA256SUMS")
        .collect();
    assert_eq!(sum_names, others);
    for line in sums.lines() {
        assert_eq!(&line[64..66], "  ");
        assert_eq!(&line[..64], sha256(&map[&line[66..]]));
    }
    let fingerprint = sha256(sums.as_bytes());
    assert!(
        r.stdout.contains(&format!("fingerprint  {fingerprint}")),
        "{}",
        r.stdout
    );
    let findings: serde_json::Value = serde_json::from_slice(&map["findings.json"]).unwrap();
    assert!(findings["findings"].is_array());
    let csv = String::from_utf8(map["coverage.csv"].clone()).unwrap();
    assert!(
        csv.starts_with("clause,framework,title,evidence,status,"),
        "{csv}"
    );
    assert!(csv.contains("\r\n8.5.1.1,iso20000-1:2018,"), "{csv}");
    let readme = String::from_utf8(map["README.txt"].clone()).unwrap();
    assert!(readme.contains("sha256sum -c SHA256SUMS") && readme.contains("site/index.html"));

    let v = verify(&zip);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert!(
        v.stdout.contains(&format!("fingerprint  {fingerprint}")),
        "{}",
        v.stdout
    );
    assert!(v.stdout.contains(&commit), "{}", v.stdout);
    assert!(
        v.stdout.contains(&format!("as of        {AS_OF}")),
        "{}",
        v.stdout
    );
}

/// Without --allow-dirty a dirty work tree changes nothing: `sources/` equals `git show
/// <commit>:<path>` for every committed file, nothing uncommitted gets in, and the zip is the one
/// the clean tree gives.
#[test]
fn sources_are_exactly_as_committed_even_from_a_dirty_work_tree() {
    let (sms, git, commit) = committed_sms();
    let out = tempfile::tempdir().unwrap();
    let clean = out.path().join("clean.zip");
    assert_bundled(&bundle(&sms, &clean, &[]));

    sms.edit(
        "procedures/change.md",
        "Raise the request.",
        "Raise the request (edited, uncommitted).",
    );
    sms.bytes("policies/forms/rfc.pdf", b"%PDF-1.4\nchanged\n%%EOF\n");
    sms.file(
        "policies/new.md",
        &doc("POL-NEW", &["8.1"], "", "Not committed."),
    );
    sms.remove("records/incident/INC-1.yaml");
    let dirty = out.path().join("dirty.zip");
    let r = bundle(&sms, &dirty, &[]);
    assert_bundled(&r);
    assert!(r.stderr.contains("uncommitted change"), "{}", r.stderr);
    assert!(r.stderr.contains("left out"), "{}", r.stderr);

    let map = entry_map(&dirty);
    let committed = committed_paths(&git, &commit);
    let sources: Vec<&str> = map
        .keys()
        .filter_map(|k| k.strip_prefix("sources/"))
        .collect();
    assert_eq!(
        sources,
        committed.iter().map(String::as_str).collect::<Vec<_>>()
    );
    for path in &committed {
        assert_eq!(
            map[&format!("sources/{path}")],
            git_show(sms.path(), &commit, path),
            "sources/{path} differs from git show {commit}:{path}"
        );
    }
    assert!(std::fs::read(&clean).unwrap() == std::fs::read(&dirty).unwrap());
    assert_eq!(manifest(&dirty)["dirty"], false);
}

/// --allow-dirty bundles the work tree as a DRAFT: the name, the manifest and every page say so;
/// `sources/` still holds the commit.
#[test]
fn allow_dirty_makes_a_draft_bundle() {
    let (sms, _git, commit) = committed_sms();
    sms.edit(
        "procedures/change.md",
        "Raise the request.",
        "Raise the request now.",
    );
    let out = tempfile::tempdir().unwrap();
    let mut c = auditbook();
    c.current_dir(out.path())
        .arg("bundle")
        .arg(sms.path())
        .args(["--as-of", AS_OF, "--allow-dirty"]);
    let r = run(c);
    assert_bundled(&r);
    let name = format!("test-ltd-evidence-{}-DRAFT.zip", &commit[..12]);
    let zip = out.path().join(&name);
    assert!(zip.is_file(), "{name} not written: {}", r.stdout);
    assert!(r.stderr.contains("DRAFT"), "{}", r.stderr);
    let m = manifest(&zip);
    assert_eq!(m["dirty"], true);
    assert_eq!(
        m["uncommitted"],
        serde_json::json!(["procedures/change.md"])
    );
    let map = entry_map(&zip);
    assert!(String::from_utf8_lossy(&map["site/index.html"]).contains("DRAFT"));
    assert!(String::from_utf8_lossy(&map["site/documents/PRO-CHG.html"])
        .contains("Raise the request now."));
    assert!(
        String::from_utf8_lossy(&map["sources/procedures/change.md"])
            .contains("Raise the request.")
    );
    assert_eq!(verify(&zip).code, 0);
}

/// The default name is `<organisation>-evidence-<short commit>.zip` in the current folder.
#[test]
fn the_default_name_carries_the_organisation_and_commit() {
    let (sms, _git, commit) = committed_sms();
    let out = tempfile::tempdir().unwrap();
    let mut c = auditbook();
    c.current_dir(out.path())
        .arg("bundle")
        .arg(sms.path())
        .args(["--as-of", AS_OF]);
    let r = run(c);
    assert_bundled(&r);
    let name = format!("test-ltd-evidence-{}.zip", &commit[..12]);
    assert!(out.path().join(&name).is_file(), "{}", r.stdout);
    let left: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary file is left behind");
}

/// Outside git the work tree is bundled, and the manifest says so: no commit, dirty.
#[test]
fn without_git_the_work_tree_is_bundled_as_a_draft() {
    let sms = Sms::new();
    sms.file("policies/a.md", &doc("POL-A", &["8.1"], "", "Text."));
    let out = tempfile::tempdir().unwrap();
    let mut c = auditbook();
    c.current_dir(out.path())
        .arg("bundle")
        .arg(sms.path())
        .args(["--as-of", AS_OF]);
    let r = run(c);
    assert_bundled(&r);
    let zip = out
        .path()
        .join(format!("test-ltd-evidence-{AS_OF}-DRAFT.zip"));
    assert!(zip.is_file(), "{}", r.stdout);
    let m = manifest(&zip);
    assert_eq!(m["commit"], serde_json::Value::Null);
    assert_eq!(m["dirty"], true);
    assert_eq!(
        entry_map(&zip)["sources/policies/a.md"],
        sms.read("policies/a.md").as_bytes()
    );
    let v = verify(&zip);
    assert_eq!(v.code, 0, "{}", v.stdout);
    assert!(v.stdout.contains("DRAFT"), "{}", v.stdout);
}

/// An auditor without auditbook: unzip, `sha256sum -c SHA256SUMS`, `sha256sum SHA256SUMS`.
#[test]
fn sha256sum_checks_an_extracted_bundle() {
    let (sms, _git, _) = committed_sms();
    let out = tempfile::tempdir().unwrap();
    let zip = out.path().join("b.zip");
    let r = bundle(&sms, &zip, &[]);
    assert_bundled(&r);
    let dir = out.path().join("extracted");
    for (name, bytes) in entries(&zip) {
        let p = dir.join(&name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    let check = Command::new("sha256sum")
        .current_dir(&dir)
        .args(["--strict", "-c", "SHA256SUMS"])
        .output()
        .expect("sha256sum (GNU coreutils) runs");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let ok = String::from_utf8_lossy(&check.stdout)
        .lines()
        .filter(|l| l.ends_with(": OK"))
        .count();
    assert_eq!(ok, entries(&zip).len() - 1);
    let print = Command::new("sha256sum")
        .current_dir(&dir)
        .arg("SHA256SUMS")
        .output()
        .unwrap();
    let fingerprint = String::from_utf8_lossy(&print.stdout)[..64].to_string();
    assert!(r.stdout.contains(&fingerprint), "{}", r.stdout);
}

/// A document whose committed revision is a draft: its approved text is in `effective/`.
#[test]
fn the_effective_text_of_a_document_in_revision_is_included() {
    let (sms, git, first) = committed_sms();
    let approved = sms.read("procedures/change.md");
    sms.file(
        "procedures/change.md",
        &approved
            .replace("status: approved", "status: draft")
            .replace("version: \"1.0\"", "version: \"1.1\"")
            .replace("Raise the request.", "Raise the request in the tool."),
    );
    let second = git.commit_all("Revise PRO-CHG", T0 + 7200, 0);
    let out = tempfile::tempdir().unwrap();
    let zip = out.path().join("b.zip");
    let r = bundle(&sms, &zip, &[]);
    assert_bundled(&r);
    let map = entry_map(&zip);
    let entry = format!("effective/{}/procedures/change.md", &first[..12]);
    assert_eq!(
        map[&entry],
        approved.as_bytes(),
        "{:?}",
        map.keys().collect::<Vec<_>>()
    );
    assert_eq!(
        map["sources/procedures/change.md"],
        git_show(sms.path(), &second, "procedures/change.md")
    );
    let m = manifest(&zip);
    assert_eq!(m["effective"][0]["document"], "PRO-CHG");
    assert_eq!(m["effective"][0]["commit"], first.as_str());
    assert_eq!(m["effective"][0]["entry"], entry.as_str());
    assert_eq!(verify(&zip).code, 0);
}

/// Zip times are the commit time clamped to 1980-01-01, the earliest a zip can hold.
#[test]
fn commit_times_before_1980_are_clamped() {
    let sms = Sms::new();
    sms.file("policies/a.md", &doc("POL-A", &["8.1"], "", "Text."));
    Git::init(sms.path()).commit_all("old", 157_766_400, 0); // 1975-01-01
    let out = tempfile::tempdir().unwrap();
    let zip = out.path().join("b.zip");
    assert_bundled(&bundle(&sms, &zip, &[]));
    let mut a = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
    for i in 0..a.len() {
        let t = a.by_index(i).unwrap().last_modified().unwrap();
        assert_eq!(
            (t.year(), t.month(), t.day(), t.hour(), t.minute()),
            (1980, 1, 1, 0, 0)
        );
    }
    assert_eq!(
        manifest(&zip)["commit"]["time"],
        "1975-01-01T00:00:00+00:00"
    );
}

/// A bundle and a scratch folder for tampered copies of it.
fn made() -> (tempfile::TempDir, PathBuf) {
    let (sms, _git, _) = committed_sms();
    let out = tempfile::tempdir().unwrap();
    let zip = out.path().join("good.zip");
    let r = bundle(&sms, &zip, &[]);
    assert_bundled(&r);
    (out, zip)
}

fn assert_fails(v: &Run, code: i32, line: &str) {
    assert_eq!(v.code, code, "stdout:\n{}\nstderr:\n{}", v.stdout, v.stderr);
    assert!(
        v.stdout.lines().any(|l| l.starts_with(line)) || v.stderr.contains(line),
        "expected a line starting with {line:?}; stdout:\n{}\nstderr:\n{}",
        v.stdout,
        v.stderr
    );
}

/// One byte of a page changed (the zip rewritten, so it is a well-formed zip).
#[test]
fn verify_names_an_altered_page() {
    let (dir, good) = made();
    let bad = dir.path().join("bad.zip");
    let old = entry_map(&good)["site/index.html"].clone();
    let mut new_sha = String::new();
    rewrite(
        &good,
        &bad,
        |name, mut b| {
            if name == "site/index.html" {
                let i = b.len() / 2;
                b[i] ^= 0x01;
                new_sha = sha256(&b);
            }
            Some(b)
        },
        &[],
    );
    let v = verify(&bad);
    assert_fails(
        &v,
        1,
        &format!(
            "altered: site/index.html: SHA-256 is {new_sha}, SHA256SUMS and manifest.json say {}",
            sha256(&old)
        ),
    );
    assert_eq!(v.stdout.lines().count(), 1, "only that file: {}", v.stdout);
    assert!(v.stderr.contains("FAILED: 1 problem"), "{}", v.stderr);
}

/// One byte of compressed data flipped in place: the zip still opens, the entry does not read.
#[test]
fn verify_names_an_entry_corrupted_in_place() {
    let (dir, good) = made();
    let bad = dir.path().join("bad.zip");
    let mut bytes = std::fs::read(&good).unwrap();
    let start = {
        let mut a = zip::ZipArchive::new(std::fs::File::open(&good).unwrap()).unwrap();
        let f = a.by_name("site/index.html").unwrap();
        f.data_start().unwrap() as usize + f.compressed_size() as usize / 2
    };
    bytes[start] ^= 0xff;
    std::fs::write(&bad, bytes).unwrap();
    assert_fails(&verify(&bad), 1, "altered: site/index.html: ");
}

#[test]
fn verify_names_an_added_file() {
    let (dir, good) = made();
    let bad = dir.path().join("bad.zip");
    rewrite(
        &good,
        &bad,
        |_, b| Some(b),
        &[("site/extra.html", b"<p>planted</p>")],
    );
    let v = verify(&bad);
    assert_fails(
        &v,
        1,
        "added: site/extra.html: in the zip, but listed neither in SHA256SUMS nor in manifest.json",
    );
    assert_eq!(v.stdout.lines().count(), 1, "{}", v.stdout);
}

#[test]
fn verify_names_a_removed_file() {
    let (dir, good) = made();
    let bad = dir.path().join("bad.zip");
    rewrite(
        &good,
        &bad,
        |name, b| (name != "sources/policies/change.md").then_some(b),
        &[],
    );
    let v = verify(&bad);
    assert_fails(
        &v,
        1,
        "missing: sources/policies/change.md: listed in SHA256SUMS and manifest.json, but not in the zip",
    );
    assert_eq!(v.stdout.lines().count(), 1, "{}", v.stdout);
}

/// The manifest edited (a later as-of date claimed): its hash no longer matches SHA256SUMS.
#[test]
fn verify_names_an_edited_manifest() {
    let (dir, good) = made();
    let bad = dir.path().join("bad.zip");
    let mut new_sha = String::new();
    rewrite(
        &good,
        &bad,
        |name, b| {
            if name != "manifest.json" {
                return Some(b);
            }
            let edited = String::from_utf8(b)
                .unwrap()
                .replace(
                    &format!("\"as_of\": \"{AS_OF}\""),
                    "\"as_of\": \"2027-01-01\"",
                )
                .into_bytes();
            new_sha = sha256(&edited);
            Some(edited)
        },
        &[],
    );
    let v = verify(&bad);
    assert_fails(
        &v,
        1,
        &format!("altered: manifest.json: SHA-256 is {new_sha}, SHA256SUMS says "),
    );
}

/// Re-hashing everything after tampering gives another fingerprint; the zip comment still
/// names the original one, and a forger who also edits the comment is caught only by comparing
/// fingerprints, which is why the fingerprint travels through another channel.
#[test]
fn verify_names_sums_that_disagree_with_the_recorded_fingerprint() {
    let (dir, good) = made();
    let bad = dir.path().join("bad.zip");
    let map = entry_map(&good);
    let page = b"<p>forged</p>".to_vec();
    let mut m: serde_json::Value = serde_json::from_slice(&map["manifest.json"]).unwrap();
    let mut lines = String::new();
    for f in m["files"].as_array_mut().unwrap() {
        if f["path"] == "site/index.html" {
            f["size"] = page.len().into();
            f["sha256"] = sha256(&page).into();
        }
        lines.push_str(&format!(
            "{}  {}\n",
            f["sha256"].as_str().unwrap(),
            f["path"].as_str().unwrap()
        ));
    }
    m["files_sha256"] = sha256(lines.as_bytes()).into();
    let manifest = format!("{}\n", serde_json::to_string_pretty(&m).unwrap()).into_bytes();
    let mut all: Vec<(String, String)> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    all.push(("manifest.json".into(), sha256(&manifest)));
    all.sort();
    let sums: String = all.iter().map(|(p, s)| format!("{s}  {p}\n")).collect();
    rewrite(
        &good,
        &bad,
        |name, b| match name {
            "site/index.html" => Some(page.clone()),
            "manifest.json" => Some(manifest.clone()),
            "SHA256SUMS" => Some(sums.clone().into_bytes()),
            _ => Some(b),
        },
        &[],
    );
    let v = verify(&bad);
    assert_fails(
        &v,
        1,
        &format!(
            "invalid: SHA256SUMS: hashes to {}, but the zip comment gives the fingerprint ",
            sha256(sums.as_bytes())
        ),
    );
    assert_eq!(v.stdout.lines().count(), 1, "{}", v.stdout);
}

/// An entry named `../evil` is refused by name and never written anywhere.
#[test]
fn verify_refuses_an_entry_that_climbs_out() {
    let (dir, good) = made();
    let bad = dir.path().join("bad.zip");
    rewrite(&good, &bad, |_, b| Some(b), &[("../evil", b"boom")]);
    let cwd = dir.path().join("a/b");
    std::fs::create_dir_all(&cwd).unwrap();
    let mut c = auditbook();
    c.current_dir(&cwd).arg("verify").arg(&bad);
    let v = run(c);
    assert_fails(&v, 1, "refused: ../evil: the name holds `..`");
    assert_eq!(
        std::fs::read_dir(&cwd).unwrap().count(),
        0,
        "verify wrote nothing"
    );
    assert_eq!(std::fs::read_dir(dir.path().join("a")).unwrap().count(), 1);
}

/// Absolute names, backslashes, drive letters and symbolic links are refused too.
#[test]
fn verify_refuses_unsafe_names_and_links() {
    let (dir, good) = made();
    let bad = dir.path().join("bad.zip");
    {
        rewrite(
            &good,
            &bad,
            |_, b| Some(b),
            &[
                ("/etc/evil", b"x"),
                ("site\\evil.html", b"x"),
                ("C:/evil", b"x"),
            ],
        );
    }
    let v = verify(&bad);
    assert_fails(&v, 1, "refused: /etc/evil: the name is an absolute path");
    assert_fails(
        &v,
        1,
        "refused: site\\\\evil.html: the name holds a backslash",
    );
    assert_fails(&v, 1, "refused: C:/evil: the name holds a colon");

    let linked = dir.path().join("link.zip");
    let mut src = zip::ZipArchive::new(std::fs::File::open(&good).unwrap()).unwrap();
    let mut w = zip::ZipWriter::new(std::fs::File::create(&linked).unwrap());
    for i in 0..src.len() {
        w.raw_copy_file(src.by_index_raw(i).unwrap()).unwrap();
    }
    w.add_symlink(
        "site/passwd.html",
        "/etc/passwd",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    w.finish().unwrap();
    assert_fails(
        &verify(&linked),
        1,
        "refused: site/passwd.html: a symbolic link",
    );
}

#[test]
fn verify_refuses_a_missing_or_malformed_manifest() {
    let (dir, good) = made();
    let missing = dir.path().join("missing.zip");
    rewrite(
        &good,
        &missing,
        |name, b| (name != "manifest.json").then_some(b),
        &[],
    );
    assert_fails(
        &verify(&missing),
        1,
        "invalid: manifest.json: missing: this is not an auditbook bundle",
    );

    let malformed = dir.path().join("malformed.zip");
    rewrite(
        &good,
        &malformed,
        |name, b| {
            Some(if name == "manifest.json" {
                b"{\"format\": ".to_vec()
            } else {
                b
            })
        },
        &[],
    );
    assert_fails(
        &verify(&malformed),
        1,
        "invalid: manifest.json: malformed (",
    );
}

/// A truncated zip is not a readable zip: exit 2, and the message says what it is.
#[test]
fn verify_refuses_a_truncated_zip() {
    let (dir, good) = made();
    let bytes = std::fs::read(&good).unwrap();
    let bad = dir.path().join("truncated.zip");
    std::fs::write(&bad, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let v = verify(&bad);
    assert_eq!(v.code, 2, "{}{}", v.stdout, v.stderr);
    assert!(
        v.stderr.contains("is not a readable zip archive"),
        "{}",
        v.stderr
    );
    assert!(v.stderr.contains("truncated"), "{}", v.stderr);

    let none = verify(&dir.path().join("nothing.zip"));
    assert_eq!(none.code, 2, "{}", none.stderr);
    assert!(none.stderr.contains("cannot open"), "{}", none.stderr);
}

/// A bundle that cannot be written is a failure (exit 2) that names the path; nothing is left.
#[test]
fn an_unwritable_output_is_exit_2() {
    let (sms, _git, _) = committed_sms();
    let out = tempfile::tempdir().unwrap();
    let r = bundle(&sms, out.path(), &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("is a folder"), "{}", r.stderr);
    let r = bundle(&sms, &out.path().join("no/such/folder/b.zip"), &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("cannot write the bundle into"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}

/// Damage anywhere — one byte flipped at spread positions (headers, data, central directory), or
/// the file cut short — gives exit 1 or 2 with a message, never a panic (exit 101) or a pass.
#[test]
fn verify_never_panics_on_a_damaged_zip() {
    let (dir, good) = made();
    let bytes = std::fs::read(&good).unwrap();
    let bad = dir.path().join("bad.zip");
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    // The last 4 KiB (central directory and end record) are hit more often: they steer reading.
    let tail = bytes.len().saturating_sub(4096);
    for round in 0..120 {
        let mut b = bytes.clone();
        if round % 6 == 5 {
            b.truncate(next() as usize % b.len());
        } else {
            let at = if round % 2 == 0 {
                next() as usize % b.len()
            } else {
                tail + next() as usize % (b.len() - tail)
            };
            b[at] ^= 1 << (next() % 8);
        }
        if b == bytes {
            continue;
        }
        std::fs::write(&bad, &b).unwrap();
        let v = verify(&bad);
        assert!(
            v.code == 1 || v.code == 2 || (v.code == 0 && flip_is_harmless(&bytes, &b)),
            "round {round}: exit {}\n{}{}",
            v.code,
            v.stdout,
            v.stderr
        );
        assert!(
            !v.stderr.contains("panicked"),
            "round {round}: {}",
            v.stderr
        );
    }
}

/// A flipped byte that no check can see: in a field auditbook does not read and the checksums do
/// not cover (the entry time in a header, the "version made by"), never the content.
fn flip_is_harmless(good: &[u8], bad: &[u8]) -> bool {
    let good_entries = zip::ZipArchive::new(std::io::Cursor::new(good)).map(|mut a| {
        (0..a.len())
            .map(|i| {
                let mut f = a.by_index(i).unwrap();
                let mut v = Vec::new();
                f.read_to_end(&mut v).unwrap();
                (f.name().unwrap().to_string(), v)
            })
            .collect::<Vec<_>>()
    });
    let bad_entries = zip::ZipArchive::new(std::io::Cursor::new(bad)).map(|mut a| {
        (0..a.len())
            .filter_map(|i| {
                let mut f = a.by_index(i).ok()?;
                let mut v = Vec::new();
                f.read_to_end(&mut v).ok()?;
                Some((f.name().ok()?.to_string(), v))
            })
            .collect::<Vec<_>>()
    });
    matches!((good_entries, bad_entries), (Ok(g), Ok(b)) if g == b)
}

/// One population, one set of numbers: the coverage counts of `check` (human and JSON), the
/// dashboard, the clause tree and the bundle's manifest agree, review-overdue included.
#[test]
fn coverage_counts_agree_in_every_output() {
    let (sms, git, _) = committed_sms();
    sms.file(
        "policies/short.md",
        &doc(
            "POL-SHORT",
            &["8.2.1"],
            "review: 3 months\n",
            "Reviewed too rarely.",
        ),
    );
    git.commit_all("A policy whose review is overdue", T0 + 7200, 60);

    let json = sms.check_json().json();
    let cov = &json["coverage"];
    let n = |k: &str| cov[k].as_u64().unwrap();
    let (clauses, covered, partial, missing, overdue) = (
        n("clauses"),
        n("covered"),
        n("partial"),
        n("missing"),
        n("review_overdue"),
    );
    assert!(overdue >= 1 && missing >= 1 && partial >= 1, "{cov}");
    assert_eq!(covered + partial + missing, clauses, "{cov}");

    let human = sms.run("check", &[]).stdout;
    let line = format!(
        "requirement clauses covered: {covered}/{clauses} ({partial} partial, {missing} missing, {overdue} with a review overdue)"
    );
    assert!(human.contains(&line), "no `{line}` in:\n{human}");

    let site = tempfile::tempdir().unwrap();
    let r = sms.run("build", &["--out", site.path().to_str().unwrap()]);
    assert!(r.code <= 1, "{}", r.stderr);
    let index = std::fs::read_to_string(site.path().join("index.html")).unwrap();
    let card = format!("<p class=\"big\">{covered}<span class=\"of\"> / {clauses}</span></p>");
    assert!(index.contains(&card), "no `{card}` on the dashboard");
    let card_overdue = format!("{overdue} of them resting on a document whose review is overdue");
    assert!(
        index.contains(&card_overdue),
        "no `{card_overdue}` on the dashboard"
    );
    let tree = std::fs::read_to_string(site.path().join("clauses.html")).unwrap();
    let lead = format!(
        "{covered} of {clauses} requirement clauses covered, {partial} partial, {missing} missing, {overdue} covered by a document whose review is overdue"
    );
    assert!(tree.contains(&lead), "no `{lead}` on the clause tree");
    // The dashboard's per-group table adds up to the same totals.
    let table_sum = |class: &str| -> u64 {
        let body = &index[index.find("<tbody").unwrap()..];
        body.lines()
            .filter(|l| l.contains("<td class=\"num\">"))
            .map(|l| {
                let cells: Vec<u64> = l
                    .split("<td class=\"num\">")
                    .skip(1)
                    .map(|c| c[..c.find('<').unwrap()].parse().unwrap())
                    .collect();
                match class {
                    "covered" => cells[0] + cells[1],
                    "overdue" => cells[1],
                    "partial" => cells[2],
                    _ => cells[3],
                }
            })
            .sum()
    };
    assert_eq!(
        (
            table_sum("covered"),
            table_sum("overdue"),
            table_sum("partial"),
            table_sum("missing")
        ),
        (covered, overdue, partial, missing)
    );

    let zip = sms.path().join("evidence.zip");
    let r = bundle(&sms, &zip, &[]);
    assert!(r.code <= 1, "{}", r.stderr);
    assert_eq!(&manifest(&zip)["coverage"], cov);
}

/// `verify FILE --reproduce REPO`.
fn reproduce(zip: &Path, repo: &Path) -> Run {
    let mut c = auditbook();
    c.arg("verify").arg(zip).arg("--reproduce").arg(repo);
    run(c)
}

/// A forged bundle that `verify` alone accepts: `name` edited, and its hash in the manifest,
/// `files_sha256` and `SHA256SUMS` (the manifest's line too) made to match.
fn forge(zip: &Path, out: &Path, name: &str, edit: impl Fn(&str) -> String) {
    let map = entry_map(zip);
    let new = edit(std::str::from_utf8(&map[name]).unwrap()).into_bytes();
    assert!(new != map[name], "the edit changed nothing");
    let mut m: serde_json::Value = serde_json::from_slice(&map["manifest.json"]).unwrap();
    for f in m["files"].as_array_mut().unwrap() {
        if f["path"] == name {
            f["sha256"] = sha256(&new).into();
            f["size"] = (new.len() as u64).into();
        }
    }
    let listed: String = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}  {}\n",
                f["sha256"].as_str().unwrap(),
                f["path"].as_str().unwrap()
            )
        })
        .collect();
    m["files_sha256"] = sha256(listed.as_bytes()).into();
    let manifest = format!("{}\n", serde_json::to_string_pretty(&m).unwrap()).into_bytes();
    let mut sums: Vec<(String, String)> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    sums.push(("manifest.json".into(), sha256(&manifest)));
    sums.sort();
    let sums: String = sums.iter().map(|(p, s)| format!("{s}  {p}\n")).collect();
    // written as auditbook writes a bundle, with the new fingerprint in the zip comment
    let mut w = zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (n, bytes) in entries(zip) {
        let bytes = match n.as_str() {
            "manifest.json" => manifest.clone(),
            "SHA256SUMS" => sums.clone().into_bytes(),
            _ if n == name => new.clone(),
            _ => bytes,
        };
        w.start_file(n, opts).unwrap();
        w.write_all(&bytes).unwrap();
    }
    w.set_comment(format!(
        "auditbook evidence bundle; fingerprint (SHA-256 of SHA256SUMS): {}",
        sha256(sums.as_bytes())
    ))
    .unwrap();
    w.finish().unwrap();
}

/// `verify --reproduce` makes the bundle again from the commit its manifest names, in a fresh
/// clone (the work tree's later edits take no part), and finds every entry equal; a forged
/// bundle whose sums were made to match passes `verify` alone but not `--reproduce`, which names
/// the entries that differ.
#[test]
fn verify_reproduce_proves_a_bundle_and_names_what_a_forgery_changed() {
    let (sms, _git, commit) = committed_sms();
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("b.zip");
    assert_bundled(&bundle(&sms, &zip, &[]));
    sms.edit("procedures/change.md", "Raise the request.", "Raise it.");

    let r = reproduce(&zip, sms.path());
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(&format!(
            "reproduced   every entry equal ({} entries) to a bundle made again from commit {commit} (SMS at .)",
            entries(&zip).len()
        )),
        "{}",
        r.stdout
    );

    let forged = dir.path().join("forged.zip");
    forge(&zip, &forged, "site/index.html", |html| {
        html.replace("<h1>Test Ltd.</h1>", "<h1>Test Ltd. (certified)</h1>")
    });
    assert_eq!(verify(&forged).code, 0, "{}", verify(&forged).stdout);
    let r = reproduce(&forged, sms.path());
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("NOT REPRODUCED"), "{}", r.stdout);
    let differs: Vec<&str> = r
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("  differs: "))
        .collect();
    assert_eq!(differs, ["SHA256SUMS", "manifest.json", "site/index.html"]);

    // a repository without the bundle's commit cannot reproduce it: exit 2, saying what to do
    let other = Sms::with_config("organisation: Other\nscope: S\nframework: iso20000-1:2018\n");
    Git::init(other.path()).commit_all("Other", T0, 0);
    let r = reproduce(&zip, other.path());
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(&format!("commit {commit} is not in")),
        "{}",
        r.stderr
    );
}
