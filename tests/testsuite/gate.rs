//! `check --base REV`, the pull-request gate, on temporary git repositories: a base branch `main`
//! and a change committed on top of it (branch `work`). Repositories are written with libgit2 in
//! the test, with a fixed author and fixed commit times, and the user's git configuration kept out
//! of their content (the binary runs with `support::auditbook()`'s environment).

use crate::support::*;
use std::path::Path;

/// 2026-01-05T09:00:00Z: the day of the approvals in `support::doc`, before the as-of date.
const T0: i64 = 1_767_603_600;

/// A tiny framework: two document clauses and one that also needs incident records.
pub const FRAMEWORK: &str = "id: tiny:1\ntitle: Tiny\nclauses:\n  - {id: \"A\", title: Top, parent: null, evidence: heading}\n  - {id: \"A.1\", title: Leaf one, parent: \"A\", summary: Do one thing.}\n  - {id: \"A.2\", title: Leaf two, parent: \"A\", evidence: documents+records, records: [incident]}\n  - {id: \"A.3\", title: Leaf three, parent: \"A\", summary: Do a third thing.}\nrecord_kinds:\n  - {id: incident, title: Incident, clauses: [\"A.2\"], required: [status], fresh_within: 1 year}\n";

const CONFIG: &str = "organisation: Tiny Ltd\nscope: Everything.\nframework: tiny:1\n";

/// A git repository holding an SMS, written through libgit2.
pub struct Repo {
    pub sms: Sms,
    git: git2::Repository,
    commits: std::cell::Cell<i64>,
}

impl Repo {
    /// An empty repository (HEAD on branch `work`) with the SMS root at `sub` below it.
    pub fn new(config: &str, sub: &str) -> Repo {
        let sms = Sms::with_config("");
        let mut opts = git2::RepositoryInitOptions::new();
        opts.initial_head("work");
        let git = git2::Repository::init_opts(sms.path(), &opts).unwrap();
        {
            // The repository's own settings win over the user's: bytes are stored as written.
            let mut cfg = git.config().unwrap();
            cfg.set_bool("core.autocrlf", false).unwrap();
            cfg.set_str("core.eol", "lf").unwrap();
        }
        std::fs::remove_file(sms.path().join("sms.yaml")).unwrap();
        let repo = Repo {
            sms,
            git,
            commits: std::cell::Cell::new(0),
        };
        repo.file(&format!("{sub}sms.yaml"), config);
        repo
    }

    pub fn root(&self) -> &Path {
        self.sms.path()
    }

    pub fn file(&self, rel: &str, text: &str) -> &Self {
        self.sms.file(rel, text);
        self
    }

    pub fn remove(&self, rel: &str) -> &Self {
        self.sms.remove(rel);
        self
    }

    pub fn edit(&self, rel: &str, from: &str, to: &str) -> &Self {
        self.sms.edit(rel, from, to);
        self
    }

    /// Stage everything and commit on HEAD, one hour after the previous commit.
    pub fn commit(&self, message: &str) -> String {
        let n = self.commits.get();
        self.commits.set(n + 1);
        self.commit_at(message, T0 + n * 3600)
    }

    /// Stage everything and commit on HEAD at `time` (seconds since the epoch, UTC).
    pub fn commit_at(&self, message: &str, time: i64) -> String {
        let mut index = self.git.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.update_all(["*"], None).unwrap();
        index.write().unwrap();
        let tree = self.git.find_tree(index.write_tree().unwrap()).unwrap();
        let time = git2::Time::new(time, 0);
        let sig = git2::Signature::new("Helen Carter", "hc@example.com", &time).unwrap();
        let parent = self.git.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        self.git
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .unwrap()
            .to_string()
    }

    /// Point branch `name` at HEAD (the base of the change to come).
    pub fn branch(&self, name: &str) {
        let head = self.git.head().unwrap().peel_to_commit().unwrap();
        self.git.branch(name, &head, true).unwrap();
    }

    /// Mark HEAD as the only commit of a shallow clone: its parents are not in the clone.
    pub fn make_shallow(&self) {
        let head = self.git.head().unwrap().peel_to_commit().unwrap().id();
        std::fs::write(self.root().join(".git/shallow"), format!("{head}\n")).unwrap();
    }

    /// `auditbook check PATH ARGS…` (PATH: the repository root + `sub`), with `--as-of`.
    pub fn check(&self, sub: &str, args: &[&str]) -> Run {
        let mut c = auditbook();
        c.arg("check")
            .arg(self.root().join(sub))
            .args(args)
            .args(["--as-of", AS_OF]);
        run(c)
    }

    /// `check --base main --format json` (plus `args`).
    pub fn gate(&self, args: &[&str]) -> Run {
        let mut all = vec!["--base", "main", "--format", "json"];
        all.extend_from_slice(args);
        self.check("", &all)
    }
}

/// A clean SMS on `main`: POL-A covers A.1 and A.2, POL-B is the only document for A.3, an
/// incident evidences A.2. HEAD is on `work`, at the same commit.
fn clean() -> Repo {
    let r = Repo::new(CONFIG, "");
    r.file("frameworks/tiny.yaml", FRAMEWORK)
        .file(
            "policies/a.md",
            &doc("POL-A", &["A.1", "A.2"], "", "The first policy."),
        )
        .file(
            "policies/b.md",
            &doc("POL-B", &["A.3"], "", "The only policy for A.3."),
        )
        .file(
            "records/incident/i.yaml",
            "id: INC-1\nkind: incident\ndate: 2026-11-01\ntitle: Disk full\nstatus: closed\n",
        );
    r.commit("Base SMS");
    r.branch("main");
    r
}

fn base_of(run: &Run) -> serde_json::Value {
    run.json()["base"].clone()
}

fn new_codes(run: &Run) -> Vec<String> {
    run.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["new"] == true)
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn clause_change(run: &Run, id: &str) -> Option<serde_json::Value> {
    base_of(run)["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .cloned()
}

#[test]
fn base_itself_is_clean_and_an_empty_change_passes() {
    let r = clean();
    let plain = r.check("", &["--format", "json"]);
    assert_eq!(plain.code, 0, "{}", plain.stdout);
    let g = r.gate(&[]);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
    let b = base_of(&g);
    assert_eq!(b["fail_on"], "new");
    assert_eq!(b["failing"], 0);
    assert!(b["clauses"].as_array().unwrap().is_empty());
    assert!(b["documents"].as_array().unwrap().is_empty());
    assert_eq!(b["commit"].as_str().unwrap().len(), 40);
}

/// Removing the only document for a clause fails the gate and names the clause.
#[test]
fn removing_the_only_document_for_a_clause_fails_and_names_it() {
    let r = clean();
    r.remove("policies/b.md");
    r.commit("Retire POL-B");
    let g = r.gate(&[]);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    let a3 = clause_change(&g, "A.3").expect("A.3 changes status");
    assert_eq!(a3["change"], "lost");
    assert_eq!(a3["before"], "covered");
    assert_eq!(a3["after"], "missing");
    assert!(new_codes(&g).contains(&"clause-undocumented".to_string()));
    let docs = base_of(&g)["documents"].clone();
    assert_eq!(docs[0]["id"], "POL-B");
    assert_eq!(docs[0]["how"], "removed");
    // The human report says the same in its "Change" section.
    let h = r.check("", &["--base", "main"]);
    assert_eq!(h.code, 1);
    // The heading above it is no longer covered either.
    assert!(h.stdout.contains("clauses that lose coverage (2):\n    A Top: covered -> partial\n    A.3 Leaf three: covered -> missing"), "{}", h.stdout);
    assert!(
        h.stdout.contains("removed POL-B (policies/b.md)"),
        "{}",
        h.stdout
    );
    assert!(
        h.stdout.contains("gate (--fail-on new): FAILED"),
        "{}",
        h.stdout
    );
}

/// Adding coverage passes and reports the gain.
#[test]
fn adding_coverage_passes_and_reports_the_gain() {
    let r = Repo::new(CONFIG, "");
    r.file("frameworks/tiny.yaml", FRAMEWORK)
        .file(
            "policies/a.md",
            &doc("POL-A", &["A.1", "A.2"], "", "The first policy."),
        )
        .file(
            "records/incident/i.yaml",
            "id: INC-1\nkind: incident\ndate: 2026-11-01\ntitle: Disk full\nstatus: closed\n",
        );
    r.commit("Base without A.3");
    r.branch("main");
    assert_eq!(r.check("", &[]).code, 1, "the base lacks A.3");
    r.file(
        "policies/b.md",
        &doc("POL-B", &["A.3"], "", "Now A.3 is covered."),
    );
    r.commit("Cover A.3");
    let g = r.gate(&[]);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
    let a3 = clause_change(&g, "A.3").expect("A.3 changes status");
    assert_eq!(a3["change"], "gained");
    let b = base_of(&g);
    assert_eq!(b["documents"][0]["how"], "added");
    assert_eq!(b["documents"][0]["id"], "POL-B");
    assert_eq!(b["coverage"]["base"]["missing"], 1);
    assert_eq!(b["coverage"]["head"]["missing"], 0);
    assert_eq!(b["resolved"][0]["code"], "clause-undocumented");
    let h = r.check("", &["--base", "main"]);
    assert!(h.stdout.contains("clauses that gain coverage (2):\n    A Top: partial -> covered\n    A.3 Leaf three: missing -> covered"), "{}", h.stdout);
    assert!(
        h.stdout.contains("gate (--fail-on new): passed"),
        "{}",
        h.stdout
    );
}

/// An edit to an approved document without a new version fails (`changed-after-approval`),
/// committed or still in the work tree.
#[test]
fn editing_an_approved_document_without_a_new_version_fails() {
    let r = clean();
    r.edit(
        "policies/a.md",
        "The first policy.",
        "The first policy, quietly changed.",
    );
    let uncommitted = r.gate(&[]);
    assert_eq!(uncommitted.code, 1, "{}", uncommitted.stdout);
    assert!(new_codes(&uncommitted).contains(&"changed-after-approval".to_string()));
    assert_eq!(base_of(&uncommitted)["dirty"], true);
    r.commit("Edit POL-A");
    let g = r.gate(&[]);
    assert_eq!(g.code, 1, "{}", g.stdout);
    let f = g.findings("changed-after-approval");
    assert_eq!(f.len(), 1, "{}", g.stdout);
    assert_eq!(f[0]["path"], "policies/a.md");
    assert_eq!(f[0]["new"], true);
    assert_eq!(base_of(&g)["documents"][0]["how"], "changed");
    // Again, with HEAD's history from the assembled cache (no raw walk in memory): the base's
    // history is cut from it all the same.
    let again = r.gate(&[]);
    assert_eq!(again.json(), g.json());
    // The same edit as a new version in review is a revision in progress: the gate passes, and
    // the effective version 1.0 still covers its clauses.
    let r = clean();
    r.edit(
        "policies/a.md",
        "The first policy.",
        "The first policy, openly changed.",
    )
    .edit(
        "policies/a.md",
        "version: \"1.0\"\nstatus: approved",
        "version: \"1.1\"\nstatus: in-review",
    );
    r.commit("POL-A 1.1 in review");
    let g = r.gate(&[]);
    assert_eq!(g.code, 0, "{}", g.stdout);
    assert!(
        base_of(&g)["clauses"].as_array().unwrap().is_empty(),
        "{}",
        g.stdout
    );
    assert_eq!(base_of(&g)["documents"][0]["after"], "v1.1 in-review");
}

/// In a shallow clone the history rules are skipped, but the two trees still show the edit.
#[test]
fn document_control_between_the_two_trees_runs_in_a_shallow_clone() {
    let r = clean();
    r.edit(
        "policies/a.md",
        "The first policy.",
        "The first policy, quietly changed.",
    );
    r.commit("Edit POL-A");
    r.make_shallow();
    // The merge-base (main) is the shallow commit's parent: not in the clone.
    let g = r.gate(&[]);
    assert_eq!(g.code, 2, "{}", g.stdout);
    assert!(g.stderr.contains("git fetch --unshallow"), "{}", g.stderr);
    assert!(g.stderr.contains("fetch-depth: 0"), "{}", g.stderr);
    // With the base in the clone (here: the base is HEAD's first parent, marked as the boundary).
    let head = r.git.head().unwrap().peel_to_commit().unwrap();
    let parent = head.parent_id(0).unwrap();
    std::fs::write(r.root().join(".git/shallow"), format!("{parent}\n")).unwrap();
    let g = r.gate(&[]);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    assert!(
        new_codes(&g).contains(&"changed-after-approval".to_string()),
        "{}",
        g.stdout
    );
    assert!(g.codes().contains(&"shallow-clone".to_string()));
    // --require-history makes the skipped history rules an error of the change.
    let g = r.gate(&["--require-history"]);
    assert_eq!(g.code, 1);
    assert_eq!(g.findings("shallow-clone")[0]["severity"], "error");
}

/// A finding already at the base does not fail under `--fail-on new`, but does under `all`.
#[test]
fn pre_existing_findings_fail_only_under_fail_on_all() {
    let r = clean();
    r.edit(
        "policies/a.md",
        "The first policy.",
        "See [missing](doc:POL-NONE).",
    );
    r.commit("A broken link on main");
    r.branch("main");
    r.file(
        "records/incident/j.yaml",
        "id: INC-2\nkind: incident\ndate: 2026-11-20\ntitle: Network down\nstatus: closed\n",
    );
    r.commit("Record INC-2");
    let g = r.gate(&[]);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
    let link = g.findings("broken-doc-link");
    assert_eq!(link.len(), 1);
    assert_eq!(link[0]["new"], false);
    let b = base_of(&g);
    assert!(b["existing"]
        .as_array()
        .unwrap()
        .contains(&link[0]["fingerprint"]));
    assert_eq!(b["records"][0]["id"], "INC-2");
    assert_eq!(b["records"][0]["how"], "added");
    let all = r.gate(&["--fail-on", "all"]);
    assert_eq!(all.code, 1, "{}", all.stdout);
    assert_eq!(base_of(&all)["fail_on"], "all");
}

/// Relaxing the policy in the change is itself an error, and the base's policy still applies.
#[test]
fn weakening_the_policy_is_a_finding_and_does_not_take_effect() {
    let r = clean();
    r.remove("policies/b.md");
    r.file(
        "sms.yaml",
        &format!("{CONFIG}rules:\n  clause-undocumented: allow\n  broken-doc-link: warn\nintervals:\n  incident: 5 years\n"),
    );
    r.commit("Drop POL-B and relax the rules");
    let g = r.gate(&[]);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    let w = g.findings("gate-config-weakened");
    let subjects: Vec<&str> = w.iter().map(|f| f["subject"].as_str().unwrap()).collect();
    assert_eq!(
        subjects,
        [
            "sms.yaml#rules.clause-undocumented",
            "sms.yaml#rules.broken-doc-link",
            "sms.yaml#intervals.incident"
        ],
        "{}",
        g.stdout
    );
    assert_eq!(w[0]["line"], 5);
    assert!(w
        .iter()
        .all(|f| f["severity"] == "error" && f["new"] == true));
    // The base's level of clause-undocumented still applies: the lost clause is an error.
    let u = g.findings("clause-undocumented");
    assert_eq!(u.len(), 1, "{}", g.stdout);
    assert_eq!(u[0]["severity"], "error");
    // Strengthening is fine.
    let r = clean();
    r.file(
        "sms.yaml",
        &format!("{CONFIG}rules:\n  review-overdue: deny\n"),
    );
    r.commit("Stricter");
    assert_eq!(r.gate(&[]).code, 0);
}

#[test]
fn changing_the_framework_is_a_weakening() {
    let r = clean();
    r.edit(
        "sms.yaml",
        "framework: tiny:1",
        "framework: iso20000-1:2018",
    );
    r.commit("Switch framework");
    let g = r.gate(&[]);
    assert_eq!(g.code, 1);
    let w = g.findings("gate-config-weakened");
    assert_eq!(w[0]["subject"], "sms.yaml#framework");
    // The change is judged by the base's framework.
    assert_eq!(g.json()["framework"], "tiny:1");
}

/// Moving the output folder (`paths.output`, which a pull request can change) is a weakening.
#[test]
fn changing_the_output_path_is_a_weakening() {
    let r = clean();
    r.file("sms.yaml", &format!("{CONFIG}paths:\n  output: public\n"));
    r.commit("Move the site");
    let g = r.gate(&[]);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    let w = g.findings("gate-config-weakened");
    assert_eq!(w.len(), 1, "{}", g.stdout);
    assert_eq!(w[0]["subject"], "sms.yaml#paths.output");
    assert_eq!(w[0]["line"], 5);
    assert!(w[0]["message"]
        .as_str()
        .unwrap()
        .contains("from `_site` to `public`"));
}

#[test]
fn unknown_base_and_no_git_exit_2_with_the_fix() {
    let r = clean();
    let g = r.check("", &["--base", "origin/nowhere"]);
    assert_eq!(g.code, 2);
    assert!(
        g.stderr.contains("git fetch origin nowhere"),
        "{}",
        g.stderr
    );
    let plain = Sms::new();
    let g = plain.run("check", &["--base", "main"]);
    assert_eq!(g.code, 2);
    assert!(g.stderr.contains("not in a git repository"), "{}", g.stderr);
    // --fail-on needs --base.
    assert_eq!(plain.run("check", &["--fail-on", "all"]).code, 2);
}

/// The base may be off HEAD's first-parent chain: a branch that merged its target in.
#[test]
fn a_branch_that_merged_its_target_is_compared_with_the_merge_base() {
    let r = clean();
    // main moves on with a new record; the change branch merges main in, then removes POL-B.
    let fork = r.git.head().unwrap().peel_to_commit().unwrap();
    r.file(
        "records/incident/k.yaml",
        "id: INC-3\nkind: incident\ndate: 2026-11-02\ntitle: Printer\nstatus: closed\n",
    );
    let main_tip = r.commit("INC-3 on main");
    r.branch("main");
    // Back to the fork point on `work`, then merge main in (a merge commit with two parents).
    r.git
        .reference("refs/heads/work", fork.id(), true, "reset")
        .unwrap();
    r.git.set_head("refs/heads/work").unwrap();
    let main_commit = r
        .git
        .find_commit(git2::Oid::from_str(&main_tip).unwrap())
        .unwrap();
    let sig = git2::Signature::new(
        "Helen Carter",
        "hc@example.com",
        &git2::Time::new(T0 + 50_000, 0),
    )
    .unwrap();
    r.git
        .commit(
            Some("HEAD"),
            &sig,
            &sig,
            "Merge main",
            &main_commit.tree().unwrap(),
            &[&fork, &main_commit],
        )
        .unwrap();
    r.git
        .checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .unwrap();
    r.remove("policies/b.md");
    r.commit("Retire POL-B");
    let g = r.gate(&[]);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    assert_eq!(base_of(&g)["commit"], main_tip.as_str());
    assert_eq!(clause_change(&g, "A.3").unwrap()["change"], "lost");
    // INC-3 came from main: not part of the change.
    assert!(
        base_of(&g)["records"].as_array().unwrap().is_empty(),
        "{}",
        g.stdout
    );
}

/// The SMS in a sub-folder of the repository: machine formats use repository-relative paths.
#[test]
fn sms_in_a_subfolder_gets_repository_relative_paths() {
    let r = Repo::new(CONFIG, "sms/");
    r.file("sms/frameworks/tiny.yaml", FRAMEWORK)
        .file(
            "sms/policies/a.md",
            &doc("POL-A", &["A.1", "A.2", "A.3"], "", "All of it."),
        )
        .file(
            "sms/records/incident/i.yaml",
            "id: INC-1\nkind: incident\ndate: 2026-11-01\ntitle: Disk full\nstatus: closed\n",
        )
        .file("README.md", "Not part of the SMS.\n");
    r.commit("Base");
    r.branch("main");
    r.edit("sms/policies/a.md", "All of it.", "All of it, changed.");
    r.commit("Edit");
    let g = r.check("sms", &["--base", "main", "--format", "github"]);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    assert!(
        g.stdout.starts_with("::error file=sms/policies/a.md,line="),
        "{}",
        g.stdout
    );
    let s = r.check("sms", &["--base", "main", "--format", "sarif"]);
    let v: serde_json::Value = serde_json::from_str(&s.stdout).unwrap();
    let result = &v["runs"][0]["results"][0];
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "sms/policies/a.md"
    );
    assert_eq!(result["baselineState"], "new");
}

/// Under `--fail-on new`, github annotates only new findings; SARIF marks new and unchanged;
/// JUnit fails only for new errors.
#[test]
fn ci_formats_mark_new_findings() {
    let r = clean();
    r.edit(
        "policies/a.md",
        "The first policy.",
        "See [missing](doc:POL-NONE).",
    );
    r.commit("A broken link on main");
    r.branch("main");
    r.remove("policies/b.md");
    r.commit("Retire POL-B");
    let gh = r.check("", &["--base", "main", "--format", "github"]);
    assert_eq!(gh.code, 1);
    assert!(
        gh.stdout.contains("title=clause-undocumented::"),
        "{}",
        gh.stdout
    );
    assert!(
        !gh.stdout.contains("title=broken-doc-link"),
        "{}",
        gh.stdout
    );
    assert!(gh.stdout.contains("already at the base"), "{}", gh.stdout);
    let all = r.check(
        "",
        &["--base", "main", "--format", "github", "--fail-on", "all"],
    );
    assert!(
        all.stdout
            .contains("title=broken-doc-link (already at the base)::"),
        "{}",
        all.stdout
    );
    let s = r.check("", &["--base", "main", "--format", "sarif"]);
    let v: serde_json::Value = serde_json::from_str(&s.stdout).unwrap();
    let states: Vec<(String, String)> = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["ruleId"].as_str().unwrap().to_string(),
                x["baselineState"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        states.contains(&("broken-doc-link".into(), "unchanged".into())),
        "{states:?}"
    );
    assert!(
        states.contains(&("clause-undocumented".into(), "new".into())),
        "{states:?}"
    );
    let j = r.check("", &["--base", "main", "--format", "junit"]);
    assert!(
        j.stdout.contains(
            "classname=\"auditbook.rules.broken-doc-link\" time=\"0\">\n      <system-out>"
        ),
        "{}",
        j.stdout
    );
    assert!(
        !j.stdout
            .contains("classname=\"auditbook.rules.broken-doc-link\" time=\"0\">\n      <failure"),
        "{}",
        j.stdout
    );
    assert!(
        j.stdout.contains(
            "classname=\"auditbook.rules.clause-undocumented\" time=\"0\">\n      <failure"
        ),
        "{}",
        j.stdout
    );
}

/// The job summary: coverage change table and findings with their source lines.
#[test]
fn github_job_summary_has_the_coverage_change() {
    let r = clean();
    r.remove("policies/b.md");
    r.edit(
        "policies/a.md",
        "The first policy.",
        "See [gone](doc:POL-B).",
    );
    r.commit("Retire POL-B");
    let summary = r.root().join("summary.md");
    std::fs::write(&summary, "# earlier step\n").unwrap();
    let mut c = auditbook();
    c.arg("check")
        .arg(r.root())
        .args(["--base", "main", "--format", "github", "--as-of", AS_OF])
        .env("GITHUB_STEP_SUMMARY", &summary);
    let g = run(c);
    assert_eq!(g.code, 1);
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(
        text.starts_with("# earlier step\n## auditbook: Tiny Ltd"),
        "{text}"
    );
    assert!(text.contains("**Gate failed**"), "{text}");
    assert!(
        text.contains("| A.3 | Leaf three | covered | missing | **lost** |"),
        "{text}"
    );
    assert!(
        text.contains("- removed `POL-B` (`policies/b.md`): was v1.0 approved"),
        "{text}"
    );
    assert!(
        text.contains("See \\[gone\\](doc:POL-B)") || text.contains("See [gone](doc:POL-B)"),
        "{text}"
    );
    // stdout has workflow commands only.
    assert!(
        g.stdout.lines().all(|l| l.starts_with("::")),
        "{}",
        g.stdout
    );
}

/// A longer audit programme cycle lets older audits count: lengthening it in the change is a
/// weakening; shortening it is not.
#[test]
fn lengthening_the_audit_cycle_is_a_weakening() {
    let r = clean();
    r.file(
        "sms.yaml",
        &format!("{CONFIG}audit_programme:\n  cycle: 5 years\n"),
    );
    r.commit("Audit every five years");
    let g = r.gate(&[]);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    let w = g.findings("gate-config-weakened");
    assert_eq!(w.len(), 1, "{}", g.stdout);
    assert_eq!(w[0]["subject"], "sms.yaml#audit_programme.cycle");
    assert_eq!(w[0]["line"], 5, "{}", w[0]);
    let m = w[0]["message"].as_str().unwrap();
    assert!(m.contains("from 3 years to 5 years"), "{m}");
    let r = clean();
    r.file(
        "sms.yaml",
        &format!("{CONFIG}audit_programme:\n  cycle: 2 years\n"),
    );
    r.commit("Audit every two years");
    assert_eq!(r.gate(&[]).code, 0);
}
