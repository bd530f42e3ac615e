//! History rules on real temporary git repositories, built here with git2: fixed authors, FIXED
//! commit times, the user's own git configuration kept out. One scenario that triggers each rule
//! and one that does not; renames, merges, a sub-folder SMS, shallow clones, no commits, detached
//! HEAD, a dirty work tree and the cache.

use crate::support::*;
use git2::{IndexAddOption, Oid, Repository, Signature, Time};
use std::path::{Path, PathBuf};
use std::sync::Once;

const HELEN: (&str, &str) = ("Helen Carter", "helen@example.org");
const PRIYA: (&str, &str) = ("Priya Naidoo", "priya@example.org");

const HISTORY_CODES: &[&str] = &[
    "changed-after-approval",
    "version-regressed",
    "approval-postdates-landing",
    "approval-predates-text",
    "self-approval",
    "record-backdated",
    "record-rewritten",
    "record-deleted",
    "uncommitted-changes",
    "shallow-clone",
    "no-git-history",
];

const PEOPLE: &str = "people:\n  - id: hcarter\n    name: Helen Carter\n    role: top-management\n    emails: [helen@example.org]\n  - id: pnaidoo\n    name: Priya Naidoo\n    emails: [priya@example.org]\n";

/// Keep the user's and the system's git configuration out of the test process's libgit2.
fn isolate_git_config() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for level in [
            git2::ConfigLevel::System,
            git2::ConfigLevel::XDG,
            git2::ConfigLevel::Global,
        ] {
            // SAFETY: called once, before any repository is opened by this process.
            unsafe {
                let _ = git2::opts::set_search_path(level, "/nonexistent-auditbook-test");
            }
        }
    });
}

/// Seconds since the epoch of noon UTC on a date `YYYY-MM-DD`.
fn noon(date: &str) -> i64 {
    let d: jiff::civil::Date = date.parse().unwrap();
    jiff::tz::Offset::UTC
        .to_timestamp(d.at(12, 0, 0, 0))
        .unwrap()
        .as_second()
}

/// A git repository in a temporary folder with the SMS at `sub` (empty: the top).
struct Git {
    dir: tempfile::TempDir,
    sub: String,
    repo: Repository,
}

impl Git {
    fn new(config: &str) -> Git {
        Git::in_sub("", config)
    }

    fn in_sub(sub: &str, config: &str) -> Git {
        isolate_git_config();
        let dir = tempfile::tempdir().unwrap();
        let mut opts = git2::RepositoryInitOptions::new();
        opts.initial_head("main");
        let repo = Repository::init_opts(dir.path(), &opts).unwrap();
        let g = Git {
            dir,
            sub: sub.to_string(),
            repo,
        };
        g.write("sms.yaml", config);
        g
    }

    /// The SMS root.
    fn sms(&self) -> PathBuf {
        self.dir.path().join(&self.sub)
    }

    fn write(&self, rel: &str, text: &str) -> &Self {
        let p = self.sms().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
        self
    }

    fn remove(&self, rel: &str) -> &Self {
        std::fs::remove_file(self.sms().join(rel)).unwrap();
        self
    }

    fn rename(&self, from: &str, to: &str) -> &Self {
        let t = self.sms().join(to);
        std::fs::create_dir_all(t.parent().unwrap()).unwrap();
        std::fs::rename(self.sms().join(from), t).unwrap();
        self
    }

    fn signature(who: (&str, &str), date: &str) -> Signature<'static> {
        Signature::new(who.0, who.1, &Time::new(noon(date), 0)).unwrap()
    }

    /// Stage everything and commit on HEAD with the given author and date.
    fn commit(&self, message: &str, who: (&str, &str), date: &str) -> Oid {
        let mut index = self.repo.index().unwrap();
        index
            .add_all(["*"].iter(), IndexAddOption::DEFAULT, None)
            .unwrap();
        index.update_all(["*"].iter(), None).unwrap();
        index.write().unwrap();
        let tree = self.repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = Git::signature(who, date);
        let parents: Vec<git2::Commit<'_>> = match self.repo.head() {
            Ok(h) => vec![h.peel_to_commit().unwrap()],
            Err(_) => Vec::new(),
        };
        let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &refs)
            .unwrap()
    }

    fn check(&self, args: &[&str]) -> Run {
        let mut c = auditbook();
        c.arg("check").arg(self.sms()).args(args);
        if !args.contains(&"--as-of") {
            c.args(["--as-of", AS_OF]);
        }
        run(c)
    }

    fn check_json(&self) -> Run {
        self.check(&["--format", "json"])
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// The history codes among a run's findings.
fn history_codes(r: &Run) -> Vec<String> {
    r.codes()
        .into_iter()
        .filter(|c| HISTORY_CODES.contains(&c.as_str()))
        .collect()
}

/// A document with the given version, status, approval date and body.
fn document(id: &str, version: &str, status: &str, approved: Option<&str>, body: &str) -> String {
    let approved = approved
        .map(|a| format!("approved: {a}\n"))
        .unwrap_or_default();
    format!(
        "---\nid: {id}\ntitle: Document {id}\ntype: policy\nowner: Owner\napprover: hcarter\nversion: \"{version}\"\nstatus: {status}\n{approved}clauses: [\"8.2.1\"]\n---\n\n# Document {id}\n\n{body}\n"
    )
}

fn config() -> String {
    format!("{MINIMAL_CONFIG}{PEOPLE}")
}

#[test]
fn a_clean_history_has_no_history_findings_and_is_not_a_draft() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.write(
        "records/incident/inc-1.yaml",
        "id: INC-1\nkind: incident\ndate: 2026-01-09\ntitle: Outage\n",
    );
    g.commit("Approve POL-A 1.0", PRIYA, "2026-01-10");
    let r = g.check_json();
    assert_eq!(history_codes(&r), Vec::<String>::new(), "{}", r.stdout);
    assert_eq!(r.json()["draft"], false);
}

#[test]
fn an_approved_body_changed_without_a_new_version_is_an_error() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.commit("Approve", PRIYA, "2026-01-10");
    g.write(
        "policies/a.md",
        &document(
            "POL-A",
            "1.0",
            "approved",
            Some("2026-01-10"),
            "Other text.",
        ),
    );
    g.commit("Quietly edit", PRIYA, "2026-02-01");
    let r = g.check_json();
    let f = r.findings("changed-after-approval");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert_eq!(f[0]["severity"], "error");
    assert_eq!(f[0]["path"], "policies/a.md");
    assert_eq!(f[0]["line"], 7, "points at `version`");
    assert!(f[0]["message"].as_str().unwrap().contains("2026-02-01"));
    assert_eq!(r.code, 1);
}

#[test]
fn owner_changes_and_new_versions_are_not_changes_after_approval() {
    let g = Git::new(&config());
    let v1 = document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text.");
    g.write("policies/a.md", &v1);
    g.commit("Approve", PRIYA, "2026-01-10");
    g.write(
        "policies/a.md",
        &v1.replace("owner: Owner", "owner: Someone else"),
    );
    g.commit("New owner", PRIYA, "2026-01-20");
    g.write(
        "policies/a.md",
        &document("POL-A", "1.1", "approved", Some("2026-02-01"), "New text."),
    );
    g.commit("Approve 1.1", PRIYA, "2026-02-01");
    let r = g.check_json();
    assert!(
        r.findings("changed-after-approval").is_empty(),
        "{}",
        r.stdout
    );
    assert!(r.findings("version-regressed").is_empty(), "{}", r.stdout);
}

#[test]
fn an_uncommitted_change_to_approved_text_is_caught_before_the_commit() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.commit("Approve", PRIYA, "2026-01-10");
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Edited."),
    );
    let r = g.check_json();
    let f = r.findings("changed-after-approval");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert!(f[0]["message"].as_str().unwrap().contains("work tree"));
}

#[test]
fn a_version_that_goes_backwards_is_an_error() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "2.0", "approved", Some("2026-01-10"), "Two."),
    );
    g.commit("Approve 2.0", PRIYA, "2026-01-10");
    g.write(
        "policies/a.md",
        &document("POL-A", "1.5", "approved", Some("2026-02-01"), "Older."),
    );
    g.commit("Approve 1.5", PRIYA, "2026-02-01");
    let r = g.check_json();
    let f = r.findings("version-regressed");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert!(f[0]["message"]
        .as_str()
        .unwrap()
        .contains("lower than version 2.0"));
}

#[test]
fn a_version_approved_twice_with_different_text_is_an_error() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "First."),
    );
    g.commit("Approve 1.0", PRIYA, "2026-01-10");
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "draft", None, "Second."),
    );
    g.commit("Draft", PRIYA, "2026-01-20");
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-02-01"), "Second."),
    );
    g.commit("Approve 1.0 again", PRIYA, "2026-02-01");
    let r = g.check_json();
    let f = r.findings("version-regressed");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert!(f[0]["message"].as_str().unwrap().contains("repeats"));
    // ...but re-approving the same text under the same version is fine.
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Same."),
    );
    g.commit("Approve 1.0", PRIYA, "2026-01-10");
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "in-review", None, "Same."),
    );
    g.commit("Review", PRIYA, "2026-01-20");
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-02-01"), "Same."),
    );
    g.commit("Approve 1.0 again", PRIYA, "2026-02-01");
    assert!(g.check_json().findings("version-regressed").is_empty());
}

#[test]
fn an_approval_dated_after_the_landing_commit_is_a_warning() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-20"), "Text."),
    );
    g.commit("Approve", PRIYA, "2026-01-10");
    let r = g.check_json();
    let f = r.findings("approval-postdates-landing");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert_eq!(f[0]["severity"], "warning");
    assert_eq!(f[0]["line"], 9, "points at `approved`");
    // one day later is within the tolerance
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-11"), "Text."),
    );
    g.commit("Approve", PRIYA, "2026-01-10");
    assert_eq!(history_codes(&g.check_json()), Vec::<String>::new());
}

#[test]
fn an_approval_dated_before_the_text_existed_is_a_warning_unless_imported() {
    let make = |cfg: &str| {
        let g = Git::new(cfg);
        g.write(
            "policies/a.md",
            &document("POL-A", "1.0", "approved", Some("2026-01-01"), "Text."),
        );
        let id = g.commit("Import", PRIYA, "2026-01-10");
        (g, id)
    };
    let (g, _) = make(&config());
    let r = g.check_json();
    assert_eq!(
        r.findings("approval-predates-text").len(),
        1,
        "{}",
        r.stdout
    );
    // a date baseline covers the import
    let (g, _) = make(&format!("{}history:\n  baseline: 2026-01-10\n", config()));
    assert_eq!(history_codes(&g.check_json()), Vec::<String>::new());
    // so does a commit baseline
    let (g, id) = make(&config());
    g.write(
        "sms.yaml",
        &format!("{}history:\n  baseline: {id}\n", config()),
    );
    g.commit("Baseline", PRIYA, "2026-01-11");
    let r = g.check_json();
    assert_eq!(history_codes(&r), Vec::<String>::new(), "{}", r.stdout);
    // a draft committed before the approval holds the text early enough
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "draft", None, "Text."),
    );
    g.commit("Draft", PRIYA, "2026-01-02");
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-05"), "Text."),
    );
    g.commit("Approve", PRIYA, "2026-01-05");
    assert_eq!(history_codes(&g.check_json()), Vec::<String>::new());
}

#[test]
fn the_cached_history_follows_a_change_of_baseline() {
    // The second run takes the history assembled by the first from the cache; a different
    // `history.baseline` must not reuse it (imported commits are exempt from the rule).
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-01"), "Text."),
    );
    g.commit("Import", PRIYA, "2026-01-10");
    assert_eq!(g.check_json().findings("approval-predates-text").len(), 1);
    let again = g.check_json();
    assert_eq!(again.findings("approval-predates-text").len(), 1);
    assert!(g.path().join(".git/auditbook/assembled.msgpack").is_file());
    g.write(
        "sms.yaml",
        &format!("{}history:\n  baseline: 2026-01-10\n", config()),
    );
    let r = g.check_json();
    assert_eq!(
        r.findings("approval-predates-text").len(),
        0,
        "{}",
        r.stdout
    );
    g.write("sms.yaml", &config());
    assert_eq!(g.check_json().findings("approval-predates-text").len(), 1);
}

#[test]
fn an_unusable_baseline_is_a_config_finding() {
    let g = Git::new(&format!("{}history:\n  baseline: no-such-rev\n", config()));
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.commit("Approve", PRIYA, "2026-01-10");
    let r = g.check_json();
    let f = r.findings("config-invalid");
    assert!(
        f.iter()
            .any(|f| f["message"].as_str().unwrap().contains("history.baseline")),
        "{}",
        r.stdout
    );
}

#[test]
fn the_approver_authoring_the_approved_version_is_self_approval() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.commit("Write and approve", HELEN, "2026-01-10");
    let r = g.check_json();
    let f = r.findings("self-approval");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert!(f[0]["message"].as_str().unwrap().contains("hcarter"));
    assert_eq!(f[0]["line"], 6, "points at `approver`");
    // written by someone else: no finding
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.commit("Write", PRIYA, "2026-01-10");
    assert!(g.check_json().findings("self-approval").is_empty());
    // a co-author counts as an author
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.commit(
        "Write\n\nCo-authored-by: Helen Carter <Helen@Example.org>\n",
        PRIYA,
        "2026-01-10",
    );
    assert_eq!(g.check_json().findings("self-approval").len(), 1);
    // without e-mails in `people` the rule does not apply
    let g = Git::new(&format!(
        "{MINIMAL_CONFIG}people:\n  - id: hcarter\n    name: Helen Carter\n"
    ));
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.commit("Write and approve", HELEN, "2026-01-10");
    assert!(g.check_json().findings("self-approval").is_empty());
}

#[test]
fn a_document_changed_on_a_branch_lands_with_the_merge() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    let base = g.commit("Approve 1.0", PRIYA, "2026-01-10");
    // the approver writes 1.1 on a branch...
    g.write(
        "policies/a.md",
        &document("POL-A", "1.1", "approved", Some("2026-02-02"), "New."),
    );
    let branch = g.commit("Write 1.1", HELEN, "2026-02-01");
    // ...and Priya merges it into main with a merge commit
    let repo = &g.repo;
    repo.set_head_detached(base).unwrap();
    repo.reference("refs/heads/main", base, true, "reset")
        .unwrap();
    repo.set_head("refs/heads/main").unwrap();
    let ours = repo.find_commit(base).unwrap();
    let theirs = repo.find_commit(branch).unwrap();
    let tree = theirs.tree().unwrap();
    let sig = Git::signature(PRIYA, "2026-02-02");
    let merge = repo
        .commit(
            Some("HEAD"),
            &sig,
            &sig,
            "Merge 1.1",
            &tree,
            &[&ours, &theirs],
        )
        .unwrap();
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .unwrap();

    let r = g.check_json();
    // the branch author is a contributor of the landing merge: self-approval
    assert_eq!(r.findings("self-approval").len(), 1, "{}", r.stdout);
    assert!(
        r.findings("approval-postdates-landing").is_empty(),
        "{}",
        r.stdout
    );

    let config = auditbook::config::load(&g.sms()).unwrap().0;
    let h = auditbook::history::load(&config).unwrap().history.unwrap();
    let doc = h.document("POL-A").unwrap();
    let landed: Vec<&str> = doc
        .revisions
        .iter()
        .map(|r| h.commits[r.commit].id.as_str())
        .collect();
    let merge = merge.to_string();
    let base = base.to_string();
    assert_eq!(
        landed,
        vec![base.as_str(), merge.as_str()],
        "the branch commit is no revision"
    );
    let last = &h.commits[doc.revisions[1].commit];
    assert!(last.merge);
    // Priya only merged (the merge holds nothing of its own): the branch's author alone
    assert_eq!(last.contributors, vec!["helen@example.org"]);
}

const OMAR: (&str, &str) = ("Omar Haddad", "omar@example.org");

impl Git {
    /// A merge commit on main of `branch` into `base`, made by `who` (author and committer), with
    /// the branch's tree.
    fn merge(&self, base: Oid, branch: Oid, message: &str, who: (&str, &str), date: &str) -> Oid {
        let repo = &self.repo;
        repo.reference("refs/heads/main", base, true, "reset")
            .unwrap();
        repo.set_head("refs/heads/main").unwrap();
        let ours = repo.find_commit(base).unwrap();
        let theirs = repo.find_commit(branch).unwrap();
        let tree = theirs.tree().unwrap();
        let sig = Git::signature(who, date);
        let merge = repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &[&ours, &theirs])
            .unwrap();
        repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
            .unwrap();
        merge
    }

    /// Build the site from HEAD into a fresh folder; the text of a document's page.
    fn document_page(&self, id: &str) -> String {
        let out = tempfile::tempdir().unwrap();
        let site = out.path().join("site");
        let mut c = auditbook();
        c.arg("build")
            .arg(self.sms())
            .args(["--as-of", AS_OF, "--out"])
            .arg(&site);
        let r = run(c);
        assert!(r.code <= 1, "{}", r.stderr);
        std::fs::read_to_string(site.join(format!("documents/{id}.html"))).unwrap()
    }
}

/// The rows of a document page's version table that approved a version, in page order.
fn approvals(page: &str) -> Vec<String> {
    ["corroborated", "claimed (trailer by the author)", "claimed"]
        .iter()
        .flat_map(|w| {
            page.match_indices(&format!("<td>{w}</td>"))
                .map(|(i, _)| (i, w.to_string()))
                .collect::<Vec<_>>()
        })
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_values()
        .collect()
}

/// An author who writes `Approved-by: <someone else>` in their own commit has made a claim, not
/// given evidence: the site does not show it as corroborated, and a note says why.
#[test]
fn an_approval_trailer_written_by_the_author_is_only_a_claim() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.commit(
        "Approve POL-A 1.0\n\nApproved-by: Helen Carter <helen@example.org>\n",
        PRIYA,
        "2026-01-10",
    );
    let r = g.check_json();
    let f = r.findings("approval-trailer-by-author");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert_eq!(f[0]["severity"], "note", "{}", r.stdout);
    assert_eq!(f[0]["line"], 6, "points at `approver`");
    assert!(r.findings("self-approval").is_empty(), "{}", r.stdout);
    let page = g.document_page("POL-A");
    assert_eq!(approvals(&page), vec!["claimed (trailer by the author)"]);
    assert!(!page.contains("<td>corroborated</td>"), "{page}");
    // The page explains the words it uses.
    let legend = &page[page
        .find("id=\"approval-evidence\"")
        .unwrap_or_else(|| panic!("no approval legend: {page}"))..];
    for term in ["claimed", "claimed (trailer by the author)", "corroborated"] {
        assert!(legend.contains(&format!("<dt>{term}</dt>")), "{term}");
    }

    // The author merges their own branch with the trailer: still only a claim.
    let g = author_merges_own_branch_with_a_trailer();
    assert_eq!(
        g.check_json().findings("approval-trailer-by-author").len(),
        1
    );
    assert_eq!(
        approvals(&g.document_page("POL-A")),
        vec!["claimed (trailer by the author)"]
    );
}

/// A trailer written by someone who is not an author of the changes corroborates: the approver
/// merging the author's branch, the hosting platform squashing it, or an empty approving commit
/// by the approver on the branch. No trailer at all is a plain claim.
#[test]
fn an_approval_trailer_written_by_someone_else_corroborates() {
    let approve = "Approve\n\nApproved-by: Helen Carter <helen@example.org>\n";
    // the approver merges
    let g = Git::new(&config());
    g.write(
        "policies/b.md",
        &document("POL-B", "0.1", "draft", None, "x"),
    );
    let base = g.commit("Start", PRIYA, "2026-01-05");
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    let branch = g.commit("Write POL-A", PRIYA, "2026-01-09");
    g.merge(base, branch, approve, HELEN, "2026-01-10");
    let r = g.check_json();
    assert!(
        r.findings("approval-trailer-by-author").is_empty(),
        "{}",
        r.stdout
    );
    assert!(r.findings("self-approval").is_empty(), "{}", r.stdout);
    assert_eq!(approvals(&g.document_page("POL-A")), vec!["corroborated"]);

    // a squash committed by the platform, authored by the writer
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    let mut index = g.repo.index().unwrap();
    index
        .add_all(["*"].iter(), IndexAddOption::DEFAULT, None)
        .unwrap();
    let tree = g.repo.find_tree(index.write_tree().unwrap()).unwrap();
    let author = Git::signature(PRIYA, "2026-01-10");
    let platform = Git::signature(("GitHub", "noreply@github.com"), "2026-01-10");
    g.repo
        .commit(Some("HEAD"), &author, &platform, approve, &tree, &[])
        .unwrap();
    g.repo
        .checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .unwrap();
    assert!(g
        .check_json()
        .findings("approval-trailer-by-author")
        .is_empty());
    assert_eq!(approvals(&g.document_page("POL-A")), vec!["corroborated"]);

    // an empty approving commit by the approver on the branch; the author merges
    let g = Git::new(&config());
    g.write(
        "policies/b.md",
        &document("POL-B", "0.1", "draft", None, "x"),
    );
    let base = g.commit("Start", PRIYA, "2026-01-05");
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.commit("Write POL-A", PRIYA, "2026-01-09");
    let branch = g.commit(approve, HELEN, "2026-01-10");
    g.merge(base, branch, "Merge POL-A", PRIYA, "2026-01-10");
    let r = g.check_json();
    assert!(
        r.findings("approval-trailer-by-author").is_empty(),
        "{}",
        r.stdout
    );
    assert!(r.findings("self-approval").is_empty(), "{}", r.stdout);
    assert_eq!(approvals(&g.document_page("POL-A")), vec!["corroborated"]);
    // the cache written for it passes its checks (the merge is re-derived from the graph)
    let again = g.check_json();
    assert!(
        again.findings("history-cache-rejected").is_empty(),
        "{}",
        again.stdout
    );
    assert_eq!(again.codes(), r.codes());

    // no trailer: claimed, and no note
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.commit("Approve", OMAR, "2026-01-10");
    assert!(g
        .check_json()
        .findings("approval-trailer-by-author")
        .is_empty());
    assert_eq!(approvals(&g.document_page("POL-A")), vec!["claimed"]);
}

/// A merge that changes an SMS file to content its branch does not hold makes its author a
/// contributor: the approver cannot slip text in while merging.
#[test]
fn a_merge_with_its_own_content_counts_its_author() {
    let g = Git::new(&config());
    g.write(
        "policies/b.md",
        &document("POL-B", "0.1", "draft", None, "x"),
    );
    let base = g.commit("Start", PRIYA, "2026-01-05");
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    let branch = g.commit("Write POL-A", PRIYA, "2026-01-09");
    // Helen's merge adds a sentence of her own
    g.write(
        "policies/a.md",
        &document(
            "POL-A",
            "1.0",
            "approved",
            Some("2026-01-10"),
            "Text. And mine.",
        ),
    );
    let mut index = g.repo.index().unwrap();
    index
        .add_all(["*"].iter(), IndexAddOption::DEFAULT, None)
        .unwrap();
    let tree = g.repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = Git::signature(HELEN, "2026-01-10");
    let (ours, theirs) = (
        g.repo.find_commit(base).unwrap(),
        g.repo.find_commit(branch).unwrap(),
    );
    g.repo
        .reference("refs/heads/main", base, true, "reset")
        .unwrap();
    g.repo
        .commit(Some("HEAD"), &sig, &sig, "Merge", &tree, &[&ours, &theirs])
        .unwrap();
    g.repo
        .checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .unwrap();
    let r = g.check_json();
    assert_eq!(r.findings("self-approval").len(), 1, "{}", r.stdout);
}

/// Clocks years out of order: a merge's branch commits are found by graph, so commits already on
/// main (dated far in the future) are not counted as the branch's, and no false self-approval.
#[test]
fn skewed_commit_dates_do_not_move_main_commits_into_a_branch() {
    let g = Git::new(&config());
    g.write(
        "policies/b.md",
        &document("POL-B", "0.1", "draft", None, "x"),
    );
    // The fork point, by Helen (the approver): on main, so never the branch's.
    let fork = g.commit("Start", HELEN, "2026-01-05");
    // The branch: Priya writes POL-A, dated normally.
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    let branch = g.commit("Write POL-A", PRIYA, "2026-01-09");
    // Meanwhile on main: Helen, with a clock years ahead, then going further back each commit
    // (a revwalk that stops by date gives up before it reaches the fork from this side).
    g.repo
        .reference("refs/heads/main", fork, true, "reset")
        .unwrap();
    g.repo.set_head("refs/heads/main").unwrap();
    g.repo
        .checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .unwrap();
    g.write(
        "policies/b.md",
        &document("POL-B", "0.2", "draft", None, "y"),
    );
    let mut main = g.commit("Edit POL-B", HELEN, "2031-06-01");
    for year in (2012..=2019).rev() {
        g.write(
            "policies/b.md",
            &document("POL-B", "0.3", "draft", None, &format!("{year}")),
        );
        main = g.commit("Edit POL-B again", HELEN, &format!("{year}-03-01"));
    }
    // Omar merges the branch (dated before the fork), with its tree and main's POL-B.
    let (ours, theirs) = (
        g.repo.find_commit(main).unwrap(),
        g.repo.find_commit(branch).unwrap(),
    );
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    let mut index = g.repo.index().unwrap();
    index
        .add_all(["*"].iter(), IndexAddOption::DEFAULT, None)
        .unwrap();
    let tree = g.repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = Git::signature(OMAR, "2026-01-10");
    // old, skewed dates on the branch commit too: the revwalk by date would stop early
    g.repo
        .commit(
            Some("HEAD"),
            &sig,
            &sig,
            "Merge POL-A",
            &tree,
            &[&ours, &theirs],
        )
        .unwrap();
    g.repo
        .checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .unwrap();
    let r = g.check_json();
    assert!(r.findings("self-approval").is_empty(), "{}", r.stdout);
    let config = auditbook::config::load(&g.sms()).unwrap().0;
    let h = auditbook::history::load(&config).unwrap().history.unwrap();
    let merge = h.commits.iter().find(|c| c.merge).unwrap();
    assert_eq!(merge.contributors, vec!["priya@example.org"]);
}

#[test]
fn a_moved_and_edited_document_keeps_its_history() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.commit("Approve", PRIYA, "2026-01-10");
    g.rename("policies/a.md", "handbook/policy-a.md");
    g.write(
        "handbook/policy-a.md",
        &document(
            "POL-A",
            "1.0",
            "approved",
            Some("2026-01-10"),
            "Edited while moving.",
        ),
    );
    g.commit("Move and edit", PRIYA, "2026-02-01");
    let r = g.check_json();
    let f = r.findings("changed-after-approval");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert_eq!(f[0]["path"], "handbook/policy-a.md");
}

#[test]
fn files_without_an_id_follow_git_renames() {
    let g = Git::new(&config());
    let readme = "# About these policies\n\nA long enough text that git sees the same file after the move.\nLine three.\nLine four.\n";
    g.write("policies/README.md", readme);
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.commit("Add", PRIYA, "2026-01-10");
    g.rename("policies/README.md", "handbook/README.md");
    g.write("handbook/README.md", &format!("{readme}Line five.\n"));
    g.commit("Move the readme", PRIYA, "2026-01-12");
    let config = auditbook::config::load(&g.sms()).unwrap().0;
    let h = auditbook::history::load(&config).unwrap().history.unwrap();
    let f = h
        .files
        .get("handbook/README.md")
        .expect("followed through the rename");
    assert_eq!(f.renamed_from, vec!["policies/README.md"]);
    assert_eq!(f.commits.len(), 2);
    assert!(!h.files.contains_key("policies/README.md"));
}

#[test]
fn records_added_long_after_their_date_are_back_dated_one_finding_per_commit() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    for i in 1..=3 {
        g.write(
            &format!("records/incident/inc-{i}.yaml"),
            &format!("id: INC-{i}\nkind: incident\ndate: 2025-10-0{i}\ntitle: Old outage {i}\n"),
        );
    }
    g.write(
        "records/incident/inc-9.yaml",
        "id: INC-9\nkind: incident\ndate: 2026-01-05\ntitle: Recent outage\n",
    );
    g.commit("Add incidents", PRIYA, "2026-01-10");
    let r = g.check_json();
    let f = r.findings("record-backdated");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    let msg = f[0]["message"].as_str().unwrap();
    assert!(msg.starts_with("3 records"), "{msg}");
    assert!(msg.contains("INC-1, INC-2, INC-3"), "{msg}");
    assert_eq!(f[0]["path"], "records/incident/inc-1.yaml");
    // sms.yaml can widen the tolerance
    g.write(
        "sms.yaml",
        &format!("{}history:\n  backdating_tolerance: 365 days\n", config()),
    );
    g.commit("Tolerate", PRIYA, "2026-01-11");
    assert!(g.check_json().findings("record-backdated").is_empty());
}

#[test]
fn a_record_whose_date_is_changed_after_the_fact_is_rewritten() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.write(
        "records/incidents.yaml",
        "records:\n  - {id: INC-1, kind: incident, date: 2026-01-09, title: A, status: open}\n  - {id: INC-2, kind: incident, date: 2026-01-09, title: B, status: open}\n",
    );
    g.commit("Add", PRIYA, "2026-01-10");
    // closing INC-2 is an ordinary edit; moving INC-1's date is a rewrite
    g.write(
        "records/incidents.yaml",
        "records:\n  - {id: INC-1, kind: incident, date: 2026-01-02, title: A, status: open}\n  - {id: INC-2, kind: incident, date: 2026-01-09, title: B, status: closed}\n",
    );
    g.commit("Edit", PRIYA, "2026-01-20");
    let r = g.check_json();
    let f = r.findings("record-rewritten");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert_eq!(f[0]["subject"], "INC-1");
    assert_eq!(f[0]["line"], 2);
    assert!(f[0]["message"]
        .as_str()
        .unwrap()
        .contains("from 2026-01-09 to 2026-01-02"));
}

#[test]
fn a_record_id_changed_in_place_is_rewritten() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.write(
        "records/incident/inc.yaml",
        "id: INC-1\nkind: incident\ndate: 2026-01-09\ntitle: A\n",
    );
    g.commit("Add", PRIYA, "2026-01-10");
    g.write(
        "records/incident/inc.yaml",
        "id: INC-7\nkind: incident\ndate: 2026-01-09\ntitle: A\n",
    );
    g.commit("Renumber", PRIYA, "2026-01-20");
    let r = g.check_json();
    let f = r.findings("record-rewritten");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert!(f[0]["message"]
        .as_str()
        .unwrap()
        .contains("from INC-1 to INC-7"));
    assert!(r.findings("record-deleted").is_empty(), "{}", r.stdout);
}

#[test]
fn deleting_a_record_is_a_finding_only_within_its_retention() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.write(
        "records/incident/new.yaml",
        "id: INC-NEW\nkind: incident\ndate: 2026-01-09\ntitle: A\n",
    );
    g.write(
        "records/incident/old.yaml",
        "id: INC-OLD\nkind: incident\ndate: 2022-01-09\ntitle: B\n",
    );
    g.commit("Add", PRIYA, "2026-01-10");
    g.remove("records/incident/new.yaml");
    g.remove("records/incident/old.yaml");
    g.commit("Tidy up", PRIYA, "2026-02-01");
    let r = g.check_json();
    let f = r.findings("record-deleted");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert_eq!(f[0]["subject"], "INC-NEW");
    assert_eq!(f[0]["path"], "records/incident/new.yaml");
    assert!(f[0]["message"]
        .as_str()
        .unwrap()
        .contains("retention of 3 years"));
}

#[test]
fn a_record_moved_to_another_file_is_not_deleted() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.write(
        "records/incident/a.yaml",
        "id: INC-1\nkind: incident\ndate: 2026-01-09\ntitle: A\n",
    );
    g.commit("Add", PRIYA, "2026-01-10");
    g.remove("records/incident/a.yaml");
    g.write(
        "records/incidents-2026.yaml",
        "records:\n  - {id: INC-1, kind: incident, date: 2026-01-09, title: A}\n",
    );
    g.commit("Collect into one file", PRIYA, "2026-02-01");
    let r = g.check_json();
    assert_eq!(history_codes(&r), Vec::<String>::new(), "{}", r.stdout);
}

#[test]
fn uncommitted_changes_are_a_warning_and_mark_the_run_draft() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.commit("Approve", PRIYA, "2026-01-10");
    // the output folder and hidden files are not SMS files
    g.write("_site/index.html", "<p>built</p>");
    g.write(".editor/state", "x");
    let r = g.check_json();
    assert!(r.findings("uncommitted-changes").is_empty(), "{}", r.stdout);
    assert_eq!(r.json()["draft"], false);
    g.write(
        "policies/b.md",
        &document("POL-B", "1.0", "draft", None, "New."),
    );
    let r = g.check_json();
    let f = r.findings("uncommitted-changes");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert!(f[0]["message"].as_str().unwrap().contains("policies/b.md"));
    assert_eq!(r.json()["draft"], true);
    let human = g.check(&[]);
    assert!(human.stdout.contains("DRAFT"), "{}", human.stdout);
}

#[test]
fn a_draft_in_progress_still_covers_the_clauses_of_its_effective_version() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.commit("Approve", PRIYA, "2026-01-10");
    g.write(
        "policies/a.md",
        &document("POL-A", "1.1", "draft", None, "Revision in progress."),
    );
    g.commit("Start 1.1", PRIYA, "2026-02-01");
    let undocumented = |r: &Run| {
        r.findings("clause-undocumented")
            .iter()
            .any(|f| f["subject"] == "8.2.1")
    };
    let r = g.check_json();
    assert!(
        !undocumented(&r),
        "the effective version 1.0 covers 8.2.1:\n{}",
        r.stdout
    );
    // without git only the work tree counts
    let s = Sms::with_config(&config());
    s.file(
        "policies/a.md",
        &document("POL-A", "1.1", "draft", None, "Revision in progress."),
    );
    assert!(undocumented(&s.check_json()));
}

#[test]
fn a_shallow_clone_says_so_once_and_require_history_makes_it_an_error() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-01"), "Text."),
    );
    g.commit("One", PRIYA, "2026-01-10");
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-01"), "Changed."),
    );
    g.commit("Two", PRIYA, "2026-01-20");
    let clone = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("git")
        .args(["clone", "--quiet", "--depth", "1"])
        .arg(format!("file://{}", g.path().display()))
        .arg(clone.path().join("c"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", clone.path())
        .status()
        .expect("git is installed");
    assert!(status.success());
    let check = |extra: &[&str]| {
        let mut c = auditbook();
        c.arg("check")
            .arg(clone.path().join("c"))
            .args(["--as-of", AS_OF, "--format", "json"])
            .args(extra);
        run(c)
    };
    let r = check(&[]);
    assert_eq!(history_codes(&r), vec!["shallow-clone"], "{}", r.stdout);
    let f = r.findings("shallow-clone");
    assert_eq!(f[0]["severity"], "note");
    assert!(f[0]["help"].as_str().unwrap().contains("fetch-depth: 0"));
    let message = f[0]["message"].as_str().unwrap();
    assert!(
        message.contains("effective versions approved before the cut are unknown")
            && message.contains("review-overdue"),
        "{message}"
    );
    let errors = |r: &Run| r.json()["counts"]["errors"].as_u64().unwrap();
    let strict = check(&["--require-history"]);
    assert_eq!(strict.findings("shallow-clone")[0]["severity"], "error");
    assert_eq!(errors(&strict), errors(&r) + 1);
    assert_eq!(strict.code, 1);
}

#[test]
fn outside_git_one_notice_and_require_history_makes_it_an_error() {
    let s = Sms::with_config(&config());
    s.file(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    let r = s.check_json();
    assert_eq!(history_codes(&r), vec!["no-git-history"], "{}", r.stdout);
    assert_eq!(r.findings("no-git-history")[0]["severity"], "note");
    let errors = |r: &Run| r.json()["counts"]["errors"].as_u64().unwrap();
    let strict = s.run("check", &["--format", "json", "--require-history"]);
    assert_eq!(strict.findings("no-git-history")[0]["severity"], "error");
    assert_eq!(errors(&strict), errors(&r) + 1);
    assert_eq!(strict.code, 1);
}

#[test]
fn a_repository_without_commits_is_a_notice_and_a_draft() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    let r = g.check_json();
    assert!(r.code < 2, "{}\n{}", r.stdout, r.stderr);
    let f = r.findings("no-git-history");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert!(f[0]["message"].as_str().unwrap().contains("no commits"));
    assert_eq!(r.json()["draft"], true);
}

#[test]
fn a_detached_head_is_read_like_a_branch() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.commit("Approve", PRIYA, "2026-01-10");
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Edit."),
    );
    let head = g.commit("Edit", PRIYA, "2026-02-01");
    g.repo.set_head_detached(head).unwrap();
    let r = g.check_json();
    assert_eq!(
        r.findings("changed-after-approval").len(),
        1,
        "{}",
        r.stdout
    );
    assert!(r.findings("uncommitted-changes").is_empty(), "{}", r.stdout);
}

#[test]
fn an_sms_in_a_sub_folder_reads_only_its_own_history() {
    let g = Git::in_sub("compliance/sms", &config());
    std::fs::write(g.path().join("README.md"), "# Company repository\n").unwrap();
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.commit("Approve", PRIYA, "2026-01-10");
    std::fs::write(g.path().join("README.md"), "# Changed elsewhere\n").unwrap();
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Edit."),
    );
    g.commit("Edit", PRIYA, "2026-02-01");
    // a change outside the SMS is not an uncommitted SMS change
    std::fs::write(g.path().join("README.md"), "# Dirty outside\n").unwrap();
    let r = g.check_json();
    let f = r.findings("changed-after-approval");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert_eq!(f[0]["path"], "policies/a.md", "paths are SMS-relative");
    assert!(r.findings("uncommitted-changes").is_empty(), "{}", r.stdout);
    let config = auditbook::config::load(&g.sms()).unwrap().0;
    let h = auditbook::history::load(&config).unwrap().history.unwrap();
    assert_eq!(h.prefix, "compliance/sms/");
}

/// Replace every `from` by `to` (same length) in a file; how many were replaced.
fn patch_bytes(path: &Path, from: &str, to: &str) -> usize {
    assert_eq!(from.len(), to.len());
    let mut bytes = std::fs::read(path).unwrap();
    let mut n = 0;
    let mut i = 0;
    while i + from.len() <= bytes.len() {
        if &bytes[i..i + from.len()] == from.as_bytes() {
            bytes[i..i + from.len()].copy_from_slice(to.as_bytes());
            n += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    std::fs::write(path, bytes).unwrap();
    n
}

/// A history cache edited to drop a self-approval (as a job in a poisoned, persistent runner
/// workspace could): its entries are re-derived from the git objects, the edit is caught, the
/// file is discarded with a note, and the finding stays. The next run trusts the fresh cache.
#[test]
fn an_edited_history_cache_is_rejected_and_the_finding_stays() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    // Mixed case in git: the lower-case contributor e-mail appears only where the cache keeps
    // contributors, so the edit below touches nothing else.
    g.commit(
        "Write and approve",
        ("Helen Carter", "Helen@Example.org"),
        "2026-01-10",
    );
    let first = g.check_json();
    assert_eq!(first.findings("self-approval").len(), 1, "{}", first.stdout);
    assert!(first.findings("history-cache-rejected").is_empty());
    let dir = g.path().join(".git/auditbook");
    for file in ["history.msgpack", "assembled.msgpack"] {
        let n = patch_bytes(&dir.join(file), "helen@example.org", "xxxxx@example.org");
        assert!(n >= 1, "{file} keeps the contributor");
    }
    let r = g.check_json();
    assert_eq!(r.findings("self-approval").len(), 1, "{}", r.stdout);
    let rejected = r.findings("history-cache-rejected");
    assert_eq!(rejected.len(), 2, "{}", r.stdout);
    assert_eq!(rejected[0]["severity"], "note");
    assert!(
        rejected
            .iter()
            .all(|f| f["message"].as_str().unwrap().contains("contributors")),
        "{}",
        r.stdout
    );
    // rewritten from the objects: trusted again
    let again = g.check_json();
    assert!(again.findings("history-cache-rejected").is_empty());
    assert_eq!(again.findings("self-approval").len(), 1);

    // the raw walk alone (no assembled history): a blob summary edited to say draft
    std::fs::remove_file(dir.join("assembled.msgpack")).unwrap();
    assert!(patch_bytes(&dir.join("history.msgpack"), "approved", "approvex") >= 1);
    let r = g.check_json();
    assert_eq!(
        r.findings("history-cache-rejected").len(),
        1,
        "{}",
        r.stdout
    );
    assert_eq!(r.findings("self-approval").len(), 1, "{}", r.stdout);

    // a merge's claimed approval turned into a corroborated one (MessagePack: the variant name,
    // with its length byte; arrays count elements, not bytes, so the file stays readable)
    let g = author_merges_own_branch_with_a_trailer();
    assert_eq!(
        g.check_json().findings("approval-trailer-by-author").len(),
        1
    );
    let cache = g.path().join(".git/auditbook");
    for file in ["history.msgpack", "assembled.msgpack"] {
        let p = cache.join(file);
        let bytes = std::fs::read(&p).unwrap();
        let (from, to) = (b"\xa8ByAuthor".as_slice(), b"\xabIndependent".as_slice());
        let at = bytes
            .windows(from.len())
            .position(|w| w == from)
            .expect("the cache holds the variant");
        let mut edited = bytes[..at].to_vec();
        edited.extend_from_slice(to);
        edited.extend_from_slice(&bytes[at + from.len()..]);
        std::fs::write(&p, edited).unwrap();
    }
    let r = g.check_json();
    assert_eq!(
        r.findings("history-cache-rejected").len(),
        2,
        "{}",
        r.stdout
    );
    assert_eq!(
        r.findings("approval-trailer-by-author").len(),
        1,
        "{}",
        r.stdout
    );
}

#[test]
fn the_cache_makes_a_second_run_walk_only_new_commits() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.commit("One", PRIYA, "2026-01-10");
    let config = auditbook::config::load(&g.sms()).unwrap().0;
    let first = auditbook::history::load(&config).unwrap().history.unwrap();
    assert_eq!(first.stats.walked_commits, 1);
    let cache = g.path().join(".git/auditbook/history.msgpack");
    assert!(cache.is_file(), "the cache lives under .git");
    let again = auditbook::history::load(&config).unwrap().history.unwrap();
    assert_eq!(
        (again.stats.cached_commits, again.stats.walked_commits),
        (1, 0)
    );
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Edit."),
    );
    g.commit("Two", PRIYA, "2026-02-01");
    let third = auditbook::history::load(&config).unwrap().history.unwrap();
    assert_eq!(
        (third.stats.cached_commits, third.stats.walked_commits),
        (1, 1)
    );
    assert_eq!(third.document("POL-A").unwrap().revisions.len(), 2);
    // a corrupt cache is ignored, and deleting it is safe
    std::fs::write(&cache, "{ not a cache").unwrap();
    let r = g.check_json();
    assert_eq!(
        r.findings("changed-after-approval").len(),
        1,
        "{}",
        r.stdout
    );
    std::fs::remove_dir_all(g.path().join(".git/auditbook")).unwrap();
    assert_eq!(g.check_json().findings("changed-after-approval").len(), 1);
}

/// The CI case (README "Caching the history in CI"): a fresh clone, a pull request on top of the
/// target branch, and the history cache of an older commit of that branch restored into
/// `.git/auditbook/` (what `actions/cache` does with a key of the base commit and a prefix as
/// fallback): the walk reads only the commits after the cached one, and the gate reports what it
/// reports without a cache.
#[test]
fn a_cache_restored_from_an_older_base_is_extended_in_a_fresh_clone() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.commit("One", PRIYA, "2026-01-10");
    g.write(
        "records/incident/inc-1.yaml",
        "id: INC-1\nkind: incident\ndate: 2026-01-20\ntitle: Outage\n",
    );
    g.commit("Two", PRIYA, "2026-01-20");
    // The run on the target branch saves the cache, keyed by this commit.
    let config = auditbook::config::load(&g.sms()).unwrap().0;
    auditbook::history::load(&config).unwrap();
    let saved = tempfile::tempdir().unwrap();
    copy_dir(&g.path().join(".git/auditbook"), saved.path());
    // The branch moves on; then a pull request is opened and CI clones afresh.
    g.write(
        "policies/a.md",
        &document(
            "POL-A",
            "1.1",
            "approved",
            Some("2026-02-01"),
            "Text, revised.",
        ),
    );
    g.commit("Three", PRIYA, "2026-02-01");
    let ci = tempfile::tempdir().unwrap();
    let clone = ci.path().join("clone");
    let git = |dir: &Path, args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(dir)
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(
        ci.path(),
        &[
            "clone",
            "-q",
            "--no-local",
            g.path().to_str().unwrap(),
            "clone",
        ],
    );
    std::fs::write(
        clone.join("policies/a.md"),
        document(
            "POL-A",
            "1.1",
            "approved",
            Some("2026-02-01"),
            "Text, edited in the pull request.",
        ),
    )
    .unwrap();
    git_at(
        &clone,
        &["commit", "-qam", "Pull request"],
        "2026-03-01T12:00:00",
    );
    let gate = |cache: bool| {
        let _ = std::fs::remove_dir_all(clone.join(".git/auditbook"));
        if cache {
            copy_dir(saved.path(), &clone.join(".git/auditbook"));
        }
        let mut c = auditbook();
        c.arg("check").arg(&clone).args([
            "--as-of",
            AS_OF,
            "--base",
            "origin/main",
            "--require-history",
            "--format",
            "json",
        ]);
        run(c)
    };
    let cold = gate(false);
    let warm = gate(true);
    assert_eq!(cold.code, 1, "{}", cold.stderr);
    assert_eq!(warm.stdout, cold.stdout);
    assert!(
        !warm.findings("changed-after-approval").is_empty(),
        "{}",
        warm.stdout
    );
    assert!(
        warm.findings("history-cache-rejected").is_empty(),
        "{}",
        warm.stdout
    );
    // The restored cache was used and extended: only the two commits after it were walked.
    let _ = std::fs::remove_dir_all(clone.join(".git/auditbook"));
    copy_dir(saved.path(), &clone.join(".git/auditbook"));
    let config = auditbook::config::load(&clone).unwrap().0;
    let h = auditbook::history::load(&config).unwrap().history.unwrap();
    assert_eq!((h.stats.cached_commits, h.stats.walked_commits), (2, 2));
    assert_eq!(h.document("POL-A").unwrap().revisions.len(), 3);
}

#[test]
fn a_packed_repository_reads_the_same_history_as_a_loose_one() {
    // The walk reads pack files itself (with its own delta-base cache) and everything else
    // through libgit2: the findings and the histories must not depend on how git stored them.
    let g = Git::new(&config());
    for i in 0..30 {
        let body: String = (0..=i)
            .map(|n| format!("Paragraph {n} of the policy.\n\n"))
            .collect();
        let version = format!("1.{i}");
        g.write(
            "policies/a.md",
            &document("POL-A", &version, "approved", Some("2026-01-10"), &body),
        );
        g.write(
            &format!("records/incident/inc-{i:03}.yaml"),
            &format!("id: INC-{i}\nkind: incident\ndate: 2026-01-09\ntitle: Outage {i}\n"),
        );
        g.commit(&format!("Step {i}"), PRIYA, "2026-01-10");
    }
    g.rename("policies/a.md", "policies/renamed.md");
    g.write(
        "policies/renamed.md",
        &document(
            "POL-A",
            "1.29",
            "approved",
            Some("2026-01-10"),
            "Changed without a new version.",
        ),
    );
    g.write(
        "records/incident/inc-003.yaml",
        "id: INC-3\nkind: incident\ndate: 2026-01-01\ntitle: Outage 3\n",
    );
    g.remove("records/incident/inc-004.yaml");
    g.commit("Edits that break document control", HELEN, "2026-02-10");
    let loose = g.check_json();
    assert!(
        !loose.findings("changed-after-approval").is_empty(),
        "{}",
        loose.stdout
    );
    assert!(
        !loose.findings("record-rewritten").is_empty(),
        "{}",
        loose.stdout
    );

    let repack = std::process::Command::new("git")
        .args([
            "repack",
            "-a",
            "-d",
            "-f",
            "-q",
            "--depth=50",
            "--window=50",
        ])
        .current_dir(g.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status();
    match repack {
        Ok(s) => assert!(s.success(), "git repack failed"),
        Err(_) if std::env::var_os("CI").is_none() => return,
        Err(e) => panic!("git is needed for this test under CI: {e}"),
    }
    let objects = g.path().join(".git/objects");
    for e in std::fs::read_dir(&objects).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().unwrap().len() == 2 {
            std::fs::remove_dir_all(p).unwrap();
        }
    }
    std::fs::remove_dir_all(g.path().join(".git/auditbook")).unwrap();
    let packed = g.check_json();
    assert_eq!(packed.json(), loose.json());
    assert_eq!(packed.code, loose.code);
}

#[test]
fn a_snapshot_of_head_matches_the_clean_work_tree() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.write(
        "records/incident/a.yaml",
        "id: INC-1\nkind: incident\ndate: 2026-01-09\ntitle: A\n",
    );
    g.write("images/logo.png", "not really a png");
    g.commit("Add", PRIYA, "2026-01-10");
    let config = auditbook::config::load(&g.sms()).unwrap().0;
    let work = auditbook::snapshot::from_work_tree(&config).unwrap();
    let head = auditbook::history::snapshot(&config, "HEAD").unwrap();
    let summary = |s: &auditbook::snapshot::Snapshot| -> Vec<(String, String)> {
        s.entries
            .iter()
            .map(|e| (e.path.clone(), format!("{:?}", e.kind)))
            .collect()
    };
    assert_eq!(summary(&work), summary(&head));
    assert!(auditbook::history::snapshot(&config, "no-such-branch").is_err());
}

#[test]
fn a_broken_git_folder_is_a_failure_not_a_missing_history() {
    let s = Sms::with_config(&config());
    s.file(".git", "gitdir: /nonexistent/worktree\n");
    let r = s.check_json();
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains("not a usable git repository"),
        "{}",
        r.stderr
    );
}

/// Run `git` in `dir` with the user's configuration kept out.
fn git_cli(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Priya Naidoo")
        .env("GIT_AUTHOR_EMAIL", "priya@example.org")
        .env("GIT_COMMITTER_NAME", "Priya Naidoo")
        .env("GIT_COMMITTER_EMAIL", "priya@example.org")
        .env("GIT_AUTHOR_DATE", "2026-01-10T12:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-10T12:00:00Z")
        .output()
        .expect("git is installed");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A SHA-256 repository is not corrupt: the message says the format is not supported yet and
/// what to do, not "check that `.git` is complete".
#[test]
fn a_sha256_repository_says_the_format_is_not_supported_yet() {
    let dir = tempfile::tempdir().unwrap();
    git_cli(
        dir.path(),
        &["init", "--quiet", "--object-format=sha256", "-b", "main"],
    );
    std::fs::write(dir.path().join("sms.yaml"), config()).unwrap();
    git_cli(dir.path(), &["add", "."]);
    git_cli(dir.path(), &["commit", "--quiet", "-m", "Start"]);
    let mut c = auditbook();
    c.arg("check").arg(dir.path()).args(["--as-of", AS_OF]);
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("SHA-256 object format")
            && r.stderr.contains("not support")
            && r.stderr.contains("--object-format=sha1"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("git fsck"), "{}", r.stderr);
}

/// Grafts are followed (as libgit2 follows them) and said so with a note; replace refs are
/// ignored: the real objects are the evidence.
#[test]
fn grafts_are_followed_with_a_note_and_replace_refs_are_ignored() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-01"), "Text."),
    );
    g.commit("One", PRIYA, "2026-01-01");
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-01"), "Changed."),
    );
    let two = g.commit("Two", PRIYA, "2026-01-20");
    let r = g.check_json();
    assert_eq!(
        r.findings("changed-after-approval").len(),
        1,
        "{}",
        r.stdout
    );
    assert!(r.findings("git-grafts").is_empty());

    // A replace ref that swaps commit Two for a root commit: ignored.
    let tree = g.repo.find_commit(two).unwrap().tree_id().to_string();
    let fake = git_cli(g.path(), &["commit-tree", &tree, "-m", "Fake root"]);
    let fake = String::from_utf8_lossy(&fake.stdout).trim().to_string();
    git_cli(g.path(), &["replace", &two.to_string(), &fake]);
    std::fs::remove_dir_all(g.path().join(".git/auditbook")).unwrap();
    let r = g.check_json();
    assert_eq!(
        r.findings("changed-after-approval").len(),
        1,
        "{}",
        r.stdout
    );
    git_cli(g.path(), &["replace", "-d", &two.to_string()]);

    // A graft that makes Two a root commit: followed, with a note.
    std::fs::create_dir_all(g.path().join(".git/info")).unwrap();
    // (the cache of the run before is keyed without grafts: not used)
    std::fs::write(g.path().join(".git/info/grafts"), format!("{two}\n")).unwrap();
    let r = g.check_json();
    let notes = r.findings("git-grafts");
    assert_eq!(notes.len(), 1, "{}", r.stdout);
    assert_eq!(notes[0]["severity"], "note");
    assert!(
        r.findings("changed-after-approval").is_empty(),
        "the grafted history starts at Two: {}",
        r.stdout
    );
}

/// A split index (`core.splitIndex true`): libgit2 cannot read it, so the work tree is compared
/// with HEAD without it — a clean tree is clean, and changes, untracked and deleted files are
/// still found (ignored ones are not).
#[test]
fn a_split_index_is_read_without_libgit2_s_index() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.write(
        "policies/b.md",
        &document("POL-B", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.write(".gitignore", "*.tmp\n");
    g.commit("Start", PRIYA, "2026-01-10");
    let full = g.check_json();
    git_cli(g.path(), &["config", "core.splitIndex", "true"]);
    git_cli(g.path(), &["update-index", "--split-index"]);
    assert!(
        std::fs::read_dir(g.path().join(".git")).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("sharedindex.")),
        "git wrote a split index"
    );
    let r = g.check_json();
    assert_eq!(r.code, full.code, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.json()["draft"], false, "{}", r.stdout);
    assert_eq!(r.codes(), full.codes());
    // changed, untracked, deleted: a draft naming them; an ignored file is not a change
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Edited."),
    );
    g.write(
        "policies/c.md",
        &document("POL-C", "0.1", "draft", None, "New."),
    );
    g.write("policies/scratch.tmp", "ignored");
    g.remove("policies/b.md");
    let r = g.check_json();
    assert_eq!(r.json()["draft"], true, "{}", r.stdout);
    let f = r.findings("uncommitted-changes");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    let m = f[0]["message"].as_str().unwrap();
    assert!(
        m.starts_with("3 SMS files differ from HEAD: policies/a.md, policies/b.md, policies/c.md;"),
        "{m}"
    );
}

/// A sparse checkout (`git sparse-checkout set --cone`): files outside it are read from HEAD, so
/// the findings are those of the full checkout and the run is no draft.
#[test]
fn a_sparse_checkout_reads_the_files_outside_it_from_head() {
    let g = Git::new(&config());
    g.write(
        "policies/a.md",
        &document(
            "POL-A",
            "1.0",
            "approved",
            Some("2026-01-10"),
            "See [B](doc:PRO-B).",
        ),
    );
    g.write(
        "procedures/b.md",
        &document("PRO-B", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    g.write(
        "records/incident/inc-1.yaml",
        "id: INC-1\nkind: incident\ndate: 2026-01-10\ntitle: Outage\n",
    );
    g.commit("Start", PRIYA, "2026-01-10");
    let full = g.check_json();
    assert!(
        full.findings("broken-doc-link").is_empty(),
        "{}",
        full.stdout
    );
    git_cli(g.path(), &["sparse-checkout", "set", "--cone", "policies"]);
    assert!(
        !g.path().join("procedures/b.md").exists(),
        "git left it out"
    );
    assert!(!g.path().join("records").exists(), "git left it out");
    let r = g.check_json();
    assert_eq!(r.json()["draft"], false, "{}", r.stdout);
    assert!(r.findings("uncommitted-changes").is_empty(), "{}", r.stdout);
    assert_eq!(r.codes(), full.codes(), "{}", r.stdout);
    assert!(r.findings("broken-doc-link").is_empty(), "{}", r.stdout);
    assert_eq!(r.code, full.code);
    // an edit inside the sparse set is still a change
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Edited."),
    );
    let r = g.check_json();
    assert_eq!(r.json()["draft"], true, "{}", r.stdout);
}

/// Priya writes POL-A on a branch and merges it herself with `Approved-by: Helen Carter`: the
/// trailer is written by the author of the change it approves.
fn author_merges_own_branch_with_a_trailer() -> Git {
    let g = Git::new(&config());
    g.write(
        "policies/b.md",
        &document("POL-B", "0.1", "draft", None, "x"),
    );
    let base = g.commit("Start", PRIYA, "2026-01-05");
    g.write(
        "policies/a.md",
        &document("POL-A", "1.0", "approved", Some("2026-01-10"), "Text."),
    );
    let branch = g.commit("Write POL-A", PRIYA, "2026-01-09");
    g.merge(
        base,
        branch,
        "Merge POL-A\n\nApproved-by: Helen Carter <helen@example.org>\n",
        PRIYA,
        "2026-01-10",
    );
    g
}
