//! The history walk on a wide folder (issue 19, item 5): 3,000 entries in one folder and a few
//! hundred commits, built with `git fast-import`. The walk compares only the entries between the
//! shared start and the shared end of two versions of a folder; the revisions it finds for each
//! document must be exactly the commits `git log --first-parent` reports for the file.

use crate::support::*;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn git(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", dir);
    c
}

fn git_ok(dir: &Path, args: &[&str]) -> String {
    let out = git(dir).args(args).output().expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A small deterministic generator (no randomness between runs).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n
    }
}

fn document(id: &str, version: u32, body: &str) -> String {
    format!(
        "---\nid: {id}\ntitle: Document {id}\ntype: policy\nowner: Owner\napprover: Approver\nversion: \"1.{version}\"\nstatus: draft\nclauses: [\"8.2.1\"]\n---\n\n# Document {id}\n\n{body}\n"
    )
}

fn blob(out: &mut Vec<u8>, path: &str, text: &str) {
    writeln!(out, "M 100644 inline {path}\ndata {}", text.len()).unwrap();
    out.extend_from_slice(text.as_bytes());
    out.push(b'\n');
}

/// The commit ids of the version table on a document's page, newest first.
fn page_commits(page: &str) -> Vec<String> {
    let Some(start) = page.find("id=\"h_history\"") else {
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

/// A repository with a folder of 3,000 entries and 300 commits (see the module doc); returns its
/// files as they are at the last commit.
fn wide_repo(root: &Path) -> BTreeMap<String, (u32, String)> {
    git_ok(root, &["init", "-q", "-b", "main"]);

    // 3,000 entries in `policies/`: every 20th a document, the others attachments, and names
    // that test git's order of entries (`sub.md` < `sub/` < `sub0.txt`).
    let mut files: BTreeMap<String, (u32, String)> = BTreeMap::new();
    for i in 0..3000 {
        let name = if i % 20 == 0 {
            format!("policies/f{i:04}.md")
        } else {
            format!("policies/f{i:04}.txt")
        };
        files.insert(name, (0, format!("first text of {i}")));
    }
    for name in ["policies/sub.md", "policies/sub/a.md", "policies/sub0.txt"] {
        files.insert(name.to_string(), (0, "first text".to_string()));
    }
    let text_of = |path: &str, version: u32, body: &str| {
        if path.ends_with(".md") {
            let id = path
                .trim_start_matches("policies/")
                .trim_end_matches(".md")
                .replace('/', "-")
                .to_uppercase();
            document(&format!("POL-{id}"), version, body)
        } else {
            format!("{body}\n")
        }
    };

    let mut stream = Vec::new();
    let mut rng = Lcg(19);
    let commits = 300;
    for n in 0..commits {
        let time = 1_767_268_800 + n as i64 * 3600;
        let message = format!("Change {n}");
        writeln!(
            stream,
            "commit refs/heads/main\nmark :{}\nauthor Helen Carter <hc@example.com> {time} +0000\ncommitter Helen Carter <hc@example.com> {time} +0000\ndata {}\n{message}",
            n + 1,
            message.len()
        )
        .unwrap();
        if n == 0 {
            blob(&mut stream, "sms.yaml", MINIMAL_CONFIG);
            for (path, (version, body)) in &files {
                blob(&mut stream, path, &text_of(path, *version, body));
            }
            continue;
        }
        writeln!(stream, "from :{n}").unwrap();
        for _ in 0..1 + rng.below(3) {
            let names: Vec<String> = files.keys().cloned().collect();
            match rng.below(10) {
                // a new file between two existing ones
                0 => {
                    let at = &names[rng.below(names.len())];
                    let ext = if rng.below(2) == 0 { "md" } else { "txt" };
                    let path = format!("{}x{n}.{ext}", at.rsplit_once('.').unwrap().0);
                    let body = format!("added in {n}");
                    blob(&mut stream, &path, &text_of(&path, 0, &body));
                    files.insert(path, (0, body));
                }
                // an attachment removed
                1 => {
                    let at = &names[rng.below(names.len())];
                    if at.ends_with(".txt") {
                        writeln!(stream, "D {at}").unwrap();
                        files.remove(at);
                    }
                }
                // a change, to documents more often than their share
                _ => {
                    let docs: Vec<&String> = names.iter().filter(|p| p.ends_with(".md")).collect();
                    let at = if rng.below(2) == 0 {
                        docs[rng.below(docs.len())].clone()
                    } else {
                        names[rng.below(names.len())].clone()
                    };
                    let entry = files.get_mut(&at).unwrap();
                    entry.0 += 1;
                    entry.1 = format!("text of commit {n}");
                    let text = text_of(&at, entry.0, &entry.1);
                    blob(&mut stream, &at, &text);
                }
            }
        }
    }
    let mut child = git(root)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import runs");
    child.stdin.take().unwrap().write_all(&stream).unwrap();
    assert!(child.wait().unwrap().success(), "git fast-import failed");
    git_ok(root, &["reset", "-q", "--hard", "main"]);
    files
}

/// The document id of a file of `policies/`.
fn id_of(path: &str) -> String {
    path.trim_start_matches("policies/")
        .trim_end_matches(".md")
        .replace('/', "-")
        .to_uppercase()
}

/// Per document file, the commits of its version table on the built site, newest first.
fn site_commits(
    root: &Path,
    files: &BTreeMap<String, (u32, String)>,
) -> BTreeMap<String, Vec<String>> {
    let site = tempfile::tempdir().unwrap();
    let mut c = auditbook();
    c.arg("build")
        .arg(root)
        .args(["--out", site.path().to_str().unwrap(), "--as-of", AS_OF]);
    let r = run(c);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    files
        .keys()
        .filter(|p| p.ends_with(".md"))
        .map(|path| {
            let page = std::fs::read_to_string(
                site.path()
                    .join(format!("documents/POL-{}.html", id_of(path))),
            )
            .unwrap_or_else(|e| panic!("no page for {path}: {e}"));
            (path.clone(), page_commits(&page))
        })
        .collect()
}

/// What git reports per file, newest first.
fn git_log_commits(root: &Path) -> BTreeMap<String, Vec<String>> {
    let mut by_file: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let log = git_ok(
        root,
        &[
            "log",
            "--first-parent",
            "--no-renames",
            "--name-only",
            "--format=commit %H",
            "main",
        ],
    );
    let mut commit = String::new();
    for line in log.lines() {
        if let Some(id) = line.strip_prefix("commit ") {
            commit = id.to_string();
        } else if !line.is_empty() {
            by_file
                .entry(line.to_string())
                .or_default()
                .push(commit.clone());
        }
    }
    by_file
}

#[test]
fn a_wide_folder_reads_the_same_per_file_history_as_git_log() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let files = wide_repo(root);
    let pages = site_commits(root, &files);
    let by_file = git_log_commits(root);
    let mut with_several = 0;
    assert!(pages.len() > 150, "{}", pages.len());
    for (path, commits) in &pages {
        let expected = by_file.get(path.as_str()).cloned().unwrap_or_default();
        assert_eq!(commits, &expected, "{path}");
        if expected.len() >= 3 {
            with_several += 1;
        }
    }
    assert!(with_several >= 10, "{with_several}");
}

/// With a commit-graph (and its changed-path filters) written by git, a stale one (commits made
/// after it was written) and a damaged one, the walk reads the same history as without.
#[test]
fn a_commit_graph_gives_the_same_history_as_the_commits() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut files = wide_repo(root);
    let cache = root.join(".git/auditbook");
    let plain = site_commits(root, &files);

    git_ok(
        root,
        &["commit-graph", "write", "--reachable", "--changed-paths"],
    );
    let graph = root.join(".git/objects/info/commit-graph");
    assert!(graph.is_file(), "git wrote no commit-graph");
    std::fs::remove_dir_all(&cache).unwrap();
    assert_eq!(site_commits(root, &files), plain);

    // Two commits after the graph: the walk reads them from their objects, the rest from it.
    for n in 0..2 {
        let path = "policies/f0020.md";
        let entry = files.get_mut(path).unwrap();
        entry.0 += 1;
        entry.1 = format!("text after the graph {n}");
        std::fs::write(root.join(path), document("POL-F0020", entry.0, &entry.1)).unwrap();
        git_at(
            root,
            &["commit", "-qam", &format!("After the graph {n}")],
            "2026-06-01T10:00:00",
        );
    }
    std::fs::remove_dir_all(&cache).unwrap();
    let stale = site_commits(root, &files);
    let by_file = git_log_commits(root);
    assert_eq!(stale["policies/f0020.md"], by_file["policies/f0020.md"]);
    assert_eq!(
        stale["policies/f0020.md"].len(),
        plain["policies/f0020.md"].len() + 2
    );
    for (path, commits) in &stale {
        assert_eq!(
            commits,
            &by_file.get(path.as_str()).cloned().unwrap_or_default(),
            "{path}"
        );
    }

    // A damaged graph (truncated) is not used.
    let bytes = std::fs::read(&graph).unwrap();
    std::fs::write(&graph, &bytes[..bytes.len() / 2]).unwrap();
    std::fs::remove_dir_all(&cache).unwrap();
    assert_eq!(site_commits(root, &files), stale);
}
