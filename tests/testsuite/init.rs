//! `auditbook init` and the starter kit in `policy-templates/`: what init writes, what `check` says
//! straight after it, that every template parses, that the approved kit documents every clause,
//! that placeholders are all explained, and that init never overwrites anything.

use crate::support::*;
use auditbook::catalog::{self, Catalog};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Coverage codes: what a new SMS lacks.
const COVERAGE: &[&str] = &[
    "clause-undocumented",
    "named-document-missing",
    "records-missing",
    "records-stale",
];

/// Findings about the repository itself rather than the SMS (no commits yet, files not committed,
/// no repository at all with --no-git). They may accompany a fresh SMS, never as errors.
const REPOSITORY_STATE: &[&str] = &["no-git-history", "uncommitted-changes"];

/// A finding about the repository rather than the SMS, below error level.
fn is_repository_note(f: &serde_json::Value) -> bool {
    f["code"]
        .as_str()
        .is_some_and(|c| REPOSITORY_STATE.contains(&c))
        && f["severity"] != "error"
}

fn kit_root() -> PathBuf {
    repo_root().join("policy-templates")
}

fn catalogue() -> Catalog {
    catalog::builtin().expect("built-in catalogue")
}

/// Every file of the kit's root, the ISO/IEC 20000-1:2018 kit (the framework folders such as
/// `iso27001-2022/` left out): (path relative to the kit, text), sorted.
fn kit_files() -> Vec<(String, String)> {
    all_kit_files()
        .into_iter()
        .filter(|(p, _)| {
            !auditbook::init::KIT_FRAMEWORKS
                .iter()
                .filter_map(|(_, folder)| *folder)
                .any(|f| p.starts_with(&format!("{f}/")))
        })
        .collect()
}

/// Every file of the kit, framework folders included: (path relative to the kit, text), sorted.
fn all_kit_files() -> Vec<(String, String)> {
    let root = kit_root();
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry
                .path()
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            files.push((rel, std::fs::read_to_string(entry.path()).unwrap()));
        }
    }
    files
}

/// The kit's Markdown documents (every `.md` except README files).
fn kit_documents() -> Vec<(String, String)> {
    kit_files()
        .into_iter()
        .filter(|(p, _)| p.ends_with(".md") && !p.ends_with("README.md"))
        .collect()
}

/// Run `auditbook init DIR ARGS…`.
fn init(dir: &Path, args: &[&str]) -> Run {
    run({
        let mut c = auditbook();
        c.arg("init").arg(dir).args(args);
        c
    })
}

/// A fresh SMS made by `init --no-git` in a temporary folder.
fn fresh(args: &[&str]) -> Sms {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec!["--no-git"];
    all.extend_from_slice(args);
    let r = init(dir.path(), &all);
    assert_eq!(r.code, 0, "init failed:\n{}\n{}", r.stdout, r.stderr);
    Sms { dir, as_of: AS_OF }
}

/// Replace the scope placeholder that `init` writes into sms.yaml with a real statement.
fn fill_scope(sms: &Sms) {
    let path = sms.path().join("sms.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("{{FILL:").expect("a scope placeholder");
    let end = start + text[start..].find("}}").unwrap() + 2;
    let filled = format!(
        "{}Managed hosting for Acme's customers.{}",
        &text[..start],
        &text[end..]
    );
    std::fs::write(path, filled).unwrap();
}

/// A temporary SMS holding the kit's documents as they are, and its example records as real
/// records (`records/<kind>/example.yaml`), with `config` as sms.yaml.
fn kit_as_sms(config: &str) -> Sms {
    let sms = Sms::with_config(config);
    for (rel, text) in kit_files() {
        if rel.ends_with("README.md") {
            continue;
        }
        let dest = match rel
            .strip_prefix("records/")
            .and_then(|r| r.strip_suffix(".yaml"))
        {
            Some(kind) => format!("records/{kind}/example.yaml"),
            None => rel.clone(),
        };
        sms.file(&dest, &text);
    }
    sms
}

/// Approve a template the way a quality manager would: every `{{FILL: …}}` written out, a person
/// as owner, status, approval date, an approver with the authority the catalogue may demand
/// (`boss`, top management in CONFIG_WITH_BOSS).
fn approve(text: &str) -> String {
    let approved = approve_as_is(&fill_in(text));
    let lines: Vec<&str> = approved
        .lines()
        .map(|l| {
            if l.starts_with("owner:") {
                "owner: boss"
            } else {
                l
            }
        })
        .collect();
    lines.join("\n") + "\n"
}

/// Every `{{FILL: what}}` replaced by `what`, as if someone had written it.
fn fill_in(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("{{FILL:") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find("}}").expect("a closed placeholder") + i;
        out.push_str(rest[i + "{{FILL:".len()..end].trim());
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Only the approval fields changed: what approving a template unchanged looks like.
fn approve_as_is(text: &str) -> String {
    assert!(text.contains("\nstatus: draft\n"), "not a draft:\n{text}");
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with("approver:") {
            out.push("approver: boss".to_string());
        } else if line == "status: draft" {
            out.push("status: approved".to_string());
            out.push("approved: 2026-11-20".to_string());
        } else if line == "version: \"0.1\"" {
            out.push("version: \"1.0\"".to_string());
        } else {
            out.push(line.to_string());
        }
    }
    out.join("\n") + "\n"
}

const CONFIG_WITH_BOSS: &str = "organisation: Test Ltd\nscope: Test services.\nframework: iso20000-1:2018\npeople:\n  - id: boss\n    name: The Boss\n    role: top-management\n";

/// What a new SMS lacks, computed from the catalogue: per code, the subjects of the findings.
/// Every leaf clause that needs documents is undocumented (all templates are drafts); every named
/// document a clause demands is missing; every record kind a clause demands is missing (the
/// examples are `.sample` files, which auditbook does not read).
fn expected_gaps(cat: &Catalog) -> BTreeMap<&'static str, BTreeSet<String>> {
    let mut want: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    for cl in cat.clauses.iter().filter(|c| c.children.is_empty()) {
        if cl.evidence.needs_documents() {
            want.entry("clause-undocumented")
                .or_default()
                .insert(cl.id.clone());
            for d in &cl.documents {
                want.entry("named-document-missing")
                    .or_default()
                    .insert(format!("{}#{d}", cl.id));
            }
        }
        if cl.evidence.needs_records() {
            for k in &cl.records {
                want.entry("records-missing")
                    .or_default()
                    .insert(format!("{}#{k}", cl.id));
            }
        }
    }
    want
}

/// The findings of a JSON run, per code, as sets of subjects.
fn subjects_by_code(r: &Run) -> BTreeMap<String, BTreeSet<String>> {
    let mut got: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in r.json()["findings"].as_array().unwrap() {
        got.entry(f["code"].as_str().unwrap().to_string())
            .or_default()
            .insert(f["subject"].as_str().unwrap().to_string());
    }
    got
}

/// `{{…}}` placeholders of a text, with their byte offsets.
fn placeholders(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(start) = text[from..].find("{{").map(|i| from + i) {
        let Some(end) = text[start..].find("}}").map(|i| start + i + 2) else {
            out.push((start, &text[start..]));
            break;
        };
        out.push((start, &text[start..end]));
        from = end;
    }
    out
}

fn frontmatter(text: &str) -> &str {
    let rest = text.strip_prefix("---\n").expect("starts with ---");
    &rest[..rest.find("\n---\n").expect("frontmatter is closed")]
}

// --- init, then check ---------------------------------------------------------------------------

/// Straight after init, check reports exactly the coverage gaps the catalogue predicts (and, at
/// most, a note that there is no git history), and exits 1.
#[test]
fn check_after_init_reports_exactly_what_a_new_sms_lacks() {
    let sms = fresh(&[]);
    let r = sms.check_json();
    assert_eq!(r.code, 1, "{}", r.stderr);
    let want = expected_gaps(&catalogue());
    let mut got = subjects_by_code(&r);
    for code in COVERAGE {
        let want = want.get(code).cloned().unwrap_or_default();
        let got = got.remove(*code).unwrap_or_default();
        assert_eq!(got, want, "subjects of {code}");
    }
    for f in r.json()["findings"].as_array().unwrap() {
        let code = f["code"].as_str().unwrap();
        if COVERAGE.contains(&code) {
            assert_eq!(f["severity"], "error", "{f}");
        } else if code == "unfilled-placeholder" {
            // The one placeholder outside a draft: the scope statement in sms.yaml.
            assert_eq!(f["path"], "sms.yaml", "{f}");
            assert_eq!(f["subject"], "sms#scope", "{f}");
        } else {
            assert!(is_repository_note(f), "unexpected finding after init: {f}");
        }
    }
    // The counts, spelled out for the built-in catalogue (77 clauses, 57 of them leaves): 56
    // leaves need documents (the 57th, 8.3.1, is explanatory and needs nothing); they demand 15
    // named documents (14 names, sm-policy twice: for 5.2.1 and 5.2.2); and 21 (clause, record
    // kind) pairs: 20 of the 22 kinds are demanded (supplier-dispute and document-review are not),
    // supplier-review by both 8.3.4.1 and 8.3.4.2.
    assert_eq!(want["clause-undocumented"].len(), 56);
    assert_eq!(want["named-document-missing"].len(), 15);
    assert_eq!(want["records-missing"].len(), 21);
    let counts = &r.json()["counts"];
    assert_eq!(counts["errors"], 56 + 15 + 21 + 1, "{counts}");
}

/// The human report of a new SMS is a to-do list: no file findings, one group per top-level
/// clause in order, one line per item, the summary last.
#[test]
fn human_report_after_init_is_a_to_do_list_grouped_by_clause() {
    let sms = fresh(&["--org", "Acme Ops Ltd"]);
    fill_scope(&sms);
    let r = sms.run("check", &[]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.starts_with("To do: "), "{}", r.stdout);
    let cat = catalogue();
    let mut at = 0;
    for top in cat.clauses.iter().filter(|c| c.parent.is_none()) {
        let heading = format!("\n{} {} (", top.id, top.title);
        let Some(i) = r.stdout[at..].find(&heading) else {
            panic!("no group `{heading}` after byte {at}:\n{}", r.stdout)
        };
        at += i + heading.len();
    }
    let items = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("  error["))
        .count();
    assert_eq!(items, 56 + 15 + 21);
    // No source excerpts or help lines: one line per item.
    assert!(!r.stdout.contains("-->"), "{}", r.stdout);
    assert!(!r.stdout.contains("= help:"), "{}", r.stdout);
    let last = r.stdout.lines().last().unwrap();
    assert!(last.starts_with("findings: 92 errors"), "{last}");
    assert!(r.stdout.contains("Acme Ops Ltd — iso20000-1:2018"));
}

// --- the kit ------------------------------------------------------------------------------------

/// Every template and example record parses with no finding other than the coverage gaps of
/// drafts: no frontmatter, field, link, id or record findings.
#[test]
fn every_template_parses_without_findings() {
    let sms = kit_as_sms(MINIMAL_CONFIG);
    let r = sms.check_json();
    let unexpected: Vec<_> = r.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            let code = f["code"].as_str().unwrap_or("");
            !matches!(code, "clause-undocumented" | "named-document-missing")
                && !is_repository_note(f)
        })
        .cloned()
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:#?}");
}

/// Every template has the frontmatter of a new draft: id, title, type, role names as owner and
/// approver, version "0.1", status draft, quoted clause ids; no placeholder in frontmatter.
#[test]
fn templates_are_drafts_with_complete_frontmatter() {
    let docs = kit_documents();
    assert!(docs.len() >= 40, "only {} templates", docs.len());
    let mut ids = BTreeSet::new();
    for (path, text) in &docs {
        let fm = frontmatter(text);
        for key in [
            "id: ",
            "title: ",
            "type: ",
            "owner: ",
            "approver: ",
            "clauses: [",
        ] {
            assert!(fm.lines().any(|l| l.starts_with(key)), "{path}: no `{key}`");
        }
        assert!(fm.contains("\nversion: \"0.1\"\n"), "{path}: version");
        assert!(fm.contains("\nstatus: draft\n"), "{path}: status");
        assert!(
            !fm.contains("approved:"),
            "{path}: a draft has no approval date"
        );
        assert!(!fm.contains("{{"), "{path}: placeholder in frontmatter");
        let clauses = fm.lines().find(|l| l.starts_with("clauses: [")).unwrap();
        for c in clauses["clauses: [".len()..clauses.len() - 1].split(", ") {
            assert!(
                c.starts_with('"') && c.ends_with('"'),
                "{path}: unquoted clause {c}"
            );
        }
        let id = fm.lines().find_map(|l| l.strip_prefix("id: ")).unwrap();
        assert!(ids.insert(id.to_string()), "{path}: duplicate id {id}");
        assert!(
            text.contains("**Guidance.**") && text.contains("**An auditor will look for:**"),
            "{path}: no guidance or no auditor's view"
        );
        let folder = path.split('/').next().unwrap();
        assert!(
            ["sms", "policies", "plans", "services", "procedures"].contains(&folder),
            "{path}: not in an SMS folder"
        );
    }
}

/// Each named document of the catalogue is provided by exactly one template, and there is one
/// example record per record kind, holding its required fields, of the kind its file names.
#[test]
fn the_kit_matches_the_catalogue() {
    let cat = catalogue();
    let mut provided: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, text) in kit_documents() {
        if let Some(line) = frontmatter(&text)
            .lines()
            .find(|l| l.starts_with("provides: ["))
        {
            for p in line["provides: [".len()..line.len() - 1].split(", ") {
                provided
                    .entry(p.to_string())
                    .or_default()
                    .push(path.clone());
            }
        }
    }
    let named: BTreeSet<_> = cat.documents.iter().map(|d| d.id.clone()).collect();
    assert_eq!(provided.keys().cloned().collect::<BTreeSet<_>>(), named);
    for (name, paths) in &provided {
        assert_eq!(paths.len(), 1, "{name} provided by {paths:?}");
    }
    let records: BTreeMap<String, String> = kit_files()
        .into_iter()
        .filter_map(|(p, t)| {
            let kind = p
                .strip_prefix("records/")?
                .strip_suffix(".yaml")?
                .to_string();
            Some((kind, t))
        })
        .collect();
    let kinds: BTreeSet<_> = cat.record_kinds.iter().map(|k| k.id.clone()).collect();
    assert_eq!(records.keys().cloned().collect::<BTreeSet<_>>(), kinds);
    for k in &cat.record_kinds {
        let text = &records[&k.id];
        assert!(
            text.contains(&format!("\nkind: {}\n", k.id)),
            "{}: kind",
            k.id
        );
        for field in ["id", "date", "title"]
            .iter()
            .copied()
            .chain(k.required.iter().map(String::as_str))
        {
            assert!(
                text.lines().any(|l| l.starts_with(&format!("{field}:"))),
                "{}: no `{field}`",
                k.id
            );
        }
    }
}

/// Once every template is approved (and the example records are real), every clause of the
/// catalogue is documented — and, with the examples as records, covered — with no finding left.
#[test]
fn approved_templates_document_every_clause() {
    let sms = kit_as_sms(CONFIG_WITH_BOSS);
    for (path, text) in kit_documents() {
        sms.file(&path, &approve(&text));
    }
    let r = sms.check_json();
    let json = r.json();
    for c in json["clauses"].as_array().unwrap() {
        assert_ne!(c["documented"], false, "not documented: {c}");
        assert_eq!(c["status"], "covered", "{c}");
    }
    let left: Vec<_> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !is_repository_note(f))
        .collect();
    assert!(left.is_empty(), "{left:#?}");
    assert_eq!(r.code, 0);
    assert_eq!(json["coverage"]["covered"], json["coverage"]["clauses"]);
}

/// Approving the kit unchanged — markers left in, role names as owners — is not evidence: every
/// template with a marker gets `unfilled-placeholder`, every role-named owner `owner-not-a-person`.
#[test]
fn templates_approved_unchanged_are_not_evidence() {
    let sms = Sms::with_config(CONFIG_WITH_BOSS);
    let mut with_markers = BTreeSet::new();
    for (path, text) in kit_documents() {
        if text.contains("{{FILL:") {
            with_markers.insert(path.clone());
        }
        sms.file(&path, &approve_as_is(&text));
    }
    assert!(with_markers.len() > 10, "{with_markers:?}");
    let r = sms.check_json();
    let flagged: BTreeSet<String> = r
        .findings("unfilled-placeholder")
        .iter()
        .map(|f| {
            assert_eq!(f["severity"], "error", "{f}");
            f["path"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(flagged, with_markers);
    let owners = r.findings("owner-not-a-person");
    assert_eq!(owners.len(), kit_documents().len(), "{owners:#?}");
    assert_eq!(r.code, 1);
}

/// Without the records, the approved templates still document every clause: only evidence is
/// missing.
#[test]
fn approved_templates_alone_leave_only_records_missing() {
    let sms = Sms::with_config(CONFIG_WITH_BOSS);
    for (path, text) in kit_documents() {
        sms.file(&path, &approve(&text));
    }
    let r = sms.check_json();
    let codes: BTreeSet<String> = r.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !is_repository_note(f))
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes, BTreeSet::from(["records-missing".to_string()]));
}

/// Every `{{…}}` in the kit is `{{organisation}}` or `{{FILL: …}}`; every template that has one
/// starts with the note that explains them; the kit's README explains both; no other marker of
/// unfinished text (TODO, TBD, FIXME, XXX) appears anywhere.
#[test]
fn placeholders_are_all_explained() {
    for (path, text) in all_kit_files() {
        for (at, p) in placeholders(&text) {
            assert!(
                p == "{{organisation}}"
                    || (p.starts_with("{{FILL: ") && p.len() > "{{FILL: }}".len()),
                "{path}:{at}: unexplained placeholder `{p}`"
            );
        }
        assert_eq!(
            text.matches("{{").count(),
            text.matches("}}").count(),
            "{path}: unbalanced braces"
        );
        for marker in ["TODO", "TBD", "FIXME", "XXX"] {
            assert!(!text.contains(marker), "{path}: marker `{marker}`");
        }
    }
    for (path, text) in kit_documents() {
        let body = &text[frontmatter(&text).len()..];
        let note = body.find("> **How to use this template.**");
        assert!(
            note.is_some(),
            "{path}: no \"How to use this template\" note"
        );
        let note = &body[note.unwrap()..];
        let note = &note[..note.find("\n\n").unwrap_or(note.len())];
        assert!(
            note.contains("`{{FILL: …}}`"),
            "{path}: the note does not explain FILL"
        );
        assert!(
            body.find("{{FILL").unwrap_or(usize::MAX)
                > body.find("How to use this template").unwrap(),
            "{path}: a placeholder comes before the note that explains it"
        );
    }
    let readme = std::fs::read_to_string(kit_root().join("README.md")).unwrap();
    assert!(
        readme.contains("`{{organisation}}`") && readme.contains("`{{FILL: what belongs here}}`")
    );
}

/// What init writes: the whole kit (templates with the organisation filled in, records as
/// `.sample` examples), sms.yaml and .gitignore; no `{{organisation}}` left outside README.md;
/// the only placeholder in sms.yaml is the scope, with a comment explaining it.
#[test]
fn init_writes_the_kit_with_the_organisation_filled_in() {
    let org = r#"Acme & Sons "Ops": Ltd"#;
    let sms = fresh(&["--org", org]);
    for (rel, text) in kit_files() {
        let dest = match rel
            .strip_prefix("records/")
            .and_then(|r| r.strip_suffix(".yaml"))
        {
            Some(kind) => format!("records/{kind}/example.yaml.sample"),
            None => rel.clone(),
        };
        let written = sms.read(&dest);
        if rel.ends_with("README.md") {
            assert_eq!(written, text, "{rel}");
        } else {
            assert_eq!(written, text.replace("{{organisation}}", org), "{rel}");
            assert!(!written.contains("{{organisation}}"), "{dest}");
        }
    }
    let policy = sms.read("policies/service-management-policy.md");
    assert!(policy.contains(&format!("{org} commits to:")), "{policy}");
    assert!(sms.read(".gitignore").lines().any(|l| l == "/_site/"));
    let config = sms.read("sms.yaml");
    let fills: Vec<_> = placeholders(&config);
    assert_eq!(fills.len(), 1, "{config}");
    assert!(fills[0].1.starts_with("{{FILL: "), "{config}");
    assert!(config.contains("# The scope statement"), "{config}");
    assert!(config.contains("Replace the whole placeholder"), "{config}");
    // sms.yaml reads back with the exact name, and with no finding about itself.
    let r = sms.check_json();
    assert_eq!(r.json()["organisation"], org);
    assert!(
        !r.codes().iter().any(|c| c.starts_with("config-")),
        "{:?}",
        r.codes()
    );
}

/// The default organisation is "Example Organisation".
#[test]
fn default_organisation() {
    let sms = fresh(&[]);
    assert!(sms
        .read("sms.yaml")
        .contains("organisation: \"Example Organisation\""));
}

// --- safety -------------------------------------------------------------------------------------

/// A folder that holds anything is refused with exit 2, and nothing is written into it.
#[test]
fn init_refuses_a_non_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let r = init(dir.path(), &["--no-git"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("not empty"), "{}", r.stderr);
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "init wrote into a refused folder");
}

/// A path that is a file is refused with exit 2.
#[test]
fn init_refuses_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sms");
    std::fs::write(&file, "x").unwrap();
    let r = init(&file, &["--no-git"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not a folder"), "{}", r.stderr);
}

/// A folder holding only `.git` (a fresh `git init`) counts as empty; init leaves the repository
/// as it is.
#[test]
fn init_accepts_a_folder_with_only_git() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let r = init(dir.path(), &["--no-git"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(dir.path().join("sms.yaml").is_file());
}

/// With --force, existing files are never overwritten: they are listed as skipped, and the kit's
/// missing files are added. A second run writes nothing and changes nothing.
#[test]
fn force_adds_missing_files_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("sms.yaml"), "organisation: Mine\n").unwrap();
    std::fs::create_dir(root.join("policies")).unwrap();
    std::fs::write(
        root.join("policies/service-management-policy.md"),
        "my policy",
    )
    .unwrap();
    let r = init(root, &["--force", "--no-git"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(root.join("sms.yaml")).unwrap(),
        "organisation: Mine\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("policies/service-management-policy.md")).unwrap(),
        "my policy"
    );
    assert!(r.stdout.contains("skipped sms.yaml"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("skipped policies/service-management-policy.md"),
        "{}",
        r.stdout
    );
    assert!(root.join("policies/change-management-policy.md").is_file());

    let before = snapshot(root);
    let again = init(root, &["--force", "--no-git", "--org", "Someone Else"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains(": 0 files written"),
        "{}",
        again.stdout
    );
    assert_eq!(snapshot(root), before, "a second init changed files");
}

/// A symbolic link in the way is never written through.
#[cfg(unix)]
#[test]
fn force_never_writes_through_a_symbolic_link() {
    let outside = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("policies")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("x.yaml"), dir.path().join("sms.yaml")).unwrap();
    let r = init(dir.path(), &["--force", "--no-git"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read_dir(outside.path()).unwrap().count(),
        0,
        "wrote outside"
    );
    assert!(r.stdout.contains("symbolic link"), "{}", r.stdout);
}

/// Every file below `root` with its bytes.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().to_path_buf(), std::fs::read(e.path()).unwrap()))
        .collect()
}

// --- git ----------------------------------------------------------------------------------------

/// Inside an existing repository, init creates no second one and says so.
#[test]
fn init_inside_a_repository_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let first = init(&dir.path().join("outer"), &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let inner = dir.path().join("outer/sub/sms");
    let r = init(&inner, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!inner.join(".git").exists());
    assert!(r.stdout.contains("already inside"), "{}", r.stdout);
}

/// --no-git leaves no repository behind.
#[test]
fn no_git_leaves_no_repository() {
    let sms = fresh(&[]);
    assert!(!sms.path().join(".git").exists());
}

/// By default init creates a git repository (through libgit2, not a `git` program).
#[test]
fn default_run_creates_a_git_repository() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("new-sms");
    let r = run({
        let mut c = auditbook();
        // No `git` program on the PATH: init must not need one. The ceiling keeps a repository
        // that happens to enclose the temporary folder out of the test.
        c.arg("init")
            .arg(&target)
            .env("PATH", "")
            .env("GIT_CEILING_DIRECTORIES", dir.path());
        c
    });
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(target.join(".git/HEAD").is_file(), "{}", r.stdout);
    assert!(r.stdout.contains("git init"), "{}", r.stdout);
}

// --- the sample (issue 7, item 3) ---------------------------------------------------------------

/// The findings left in the sample on purpose (sample-sms/README.md, "Findings left in on
/// purpose"): (code, subject).
const SAMPLE_DELIBERATE: &[(&str, &str)] = &[
    ("nonconformity-overdue", "NC-2026-005"),
    ("review-overdue", "PRO-ASSET"),
];

/// (code, subject) of every finding of a JSON run except notes about the repository.
fn sample_findings(r: &Run) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = r.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !is_repository_note(f))
        .map(|f| {
            assert_ne!(f["severity"], "error", "{f}");
            (
                f["code"].as_str().unwrap().to_string(),
                f["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn deliberate() -> Vec<(String, String)> {
    SAMPLE_DELIBERATE
        .iter()
        .map(|(c, s)| (c.to_string(), s.to_string()))
        .collect()
}

/// The sample passes with warnings, not errors: exactly the documented deliberate ones; its draft
/// is there and covers nothing.
#[test]
fn sample_passes_with_exactly_the_deliberate_warnings() {
    let sample = Sms::sample();
    let r = sample.check_json();
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(sample_findings(&r), deliberate());
    assert!(sample
        .read("plans/capacity-and-demand-plan-2027.md")
        .contains("\nstatus: draft\n"));
    let readme = sample.read("README.md");
    for (code, subject) in SAMPLE_DELIBERATE {
        assert!(
            readme.contains(code) && readme.contains(subject),
            "README does not document {code} {subject}"
        );
    }
}

/// scripts/sample-history.sh replays the sample into a fresh repository whose history raises no
/// finding of its own: the same deliberate warnings, nothing about approvals or record dates. The
/// script itself checks that the replayed tree equals the sample. Needs bash and git.
#[test]
fn sample_history_replays_into_a_repository_with_no_history_findings() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("harbourline");
    let script = repo_root().join("scripts/sample-history.sh");
    let replay = std::process::Command::new("bash")
        .arg(&script)
        .arg(&out)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("this test needs bash and git to run scripts/sample-history.sh");
    assert!(
        replay.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&replay.stdout),
        String::from_utf8_lossy(&replay.stderr)
    );
    let r = run({
        let mut c = auditbook();
        c.arg("check")
            .arg(&out)
            .args(["--format", "json", "--as-of", SAMPLE_AS_OF]);
        c
    });
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(
        r.json()["draft"],
        false,
        "the replay left the work tree dirty"
    );
    assert_eq!(sample_findings(&r), deliberate());
    // A history worth showing: approvals merged through branches, records over the year.
    let log = std::process::Command::new("git")
        .arg("-C")
        .arg(&out)
        .args(["log", "--format=%ad %s", "--date=short"])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&log.stdout);
    assert!(
        log.lines()
            .filter(|l| l.contains(" Merge pull request #"))
            .count()
            >= 30,
        "{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.starts_with("2026-01-05 Import the SMS")),
        "{log}"
    );
    assert!(
        log.lines().filter(|l| l.contains(" Record ")).count() >= 100,
        "{log}"
    );
}

/// `init` writes the pull-request gate for GitHub Actions and GitLab CI, and they are not read
/// as SMS sources.
#[test]
fn init_writes_the_ci_workflows() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("sms");
    let r = init(&target, &["--no-git"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let gh = std::fs::read_to_string(target.join(".github/workflows/auditbook.yml")).unwrap();
    assert!(
        gh.contains("fetch-depth: 0") && gh.contains("--format sarif"),
        "{gh}"
    );
    let gl = std::fs::read_to_string(target.join("ci/auditbook.gitlab-ci.yml")).unwrap();
    assert!(gl.contains("--format junit"), "{gl}");
    let r = run({
        let mut c = auditbook();
        c.arg("check")
            .arg(&target)
            .args(["--as-of", AS_OF, "--format", "json"]);
        c
    });
    assert!(
        !r.stdout.contains("auditbook.yml"),
        "a workflow was read as a source"
    );
}

// --- init for several frameworks ----------------------------------------------------------------

/// The combined catalogue of built-in frameworks, primary first (as `check` builds it).
fn combined(ids: &[&str]) -> Catalog {
    let mut cats: Vec<Catalog> = ids
        .iter()
        .map(|id| catalog::builtin_by_id(id).unwrap().unwrap())
        .collect();
    let primary = cats.remove(0);
    catalog::combine(primary, cats)
}

/// Every Markdown document of an SMS folder (README files left out): SMS-relative paths.
fn sms_documents(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
        let entry = entry.unwrap();
        let rel = entry
            .path()
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if entry.file_type().is_file()
            && rel.ends_with(".md")
            && !rel.ends_with("README.md")
            && !rel.starts_with('.')
        {
            out.push(rel);
        }
    }
    out
}

/// `init --framework 20000,27001` writes the union of the templates, shared ones once, citing
/// both frameworks; `check` straight after reports exactly the gaps of the combined catalogue.
#[test]
fn init_for_20000_and_27001_writes_the_union_and_check_reports_what_is_missing() {
    let sms = fresh(&["--framework", "iso20000-1:2018,iso27001:2022"]);
    let config = sms.read("sms.yaml");
    assert!(
        config.contains("\nframeworks: [iso20000-1:2018, iso27001:2022]\n"),
        "{config}"
    );
    // shared documents once, citing the clauses of both frameworks
    let doc_control = sms.read("procedures/document-control.md");
    assert!(
        doc_control.contains(
            "clauses: [\"7.5\", \"iso27001:2022:7.5.1\", \"iso27001:2022:7.5.2\", \"iso27001:2022:7.5.3\"]"
        ),
        "{doc_control}"
    );
    let scope = sms.read("sms/scope.md");
    assert!(
        scope.contains("provides: [sms-scope, iso27001:2022:isms-scope]"),
        "{scope}"
    );
    assert!(scope.contains("## Scope of the information security management system"));
    assert_eq!(scope.matches("\nid: ").count(), 1);
    // the 27001 documents and record examples
    assert!(sms
        .read("sms/information-security-risk-assessment.md")
        .contains("provides: [iso27001:2022:risk-assessment-process]"));
    assert!(sms
        .path()
        .join("records/risk-treatment/example.yaml.sample")
        .is_file());
    // and the Statement of Applicability, one entry per Annex A control
    assert_eq!(
        sms.read("sms/statement-of-applicability.md")
            .matches("- control: ")
            .count(),
        93
    );
    // Annex A: every control cited by one document
    let controls = sms.read("procedures/information-security-controls.md");
    assert_eq!(controls.matches("\"iso27001:2022:A.").count(), 93);
    // no kit folder or section file leaks into the SMS
    assert!(!sms.path().join("iso27001-2022").exists());
    assert!(!sms.path().join("sms/scope.md.section").exists());

    let r = sms.check_json();
    assert_eq!(r.code, 1, "{}", r.stderr);
    let want = expected_gaps(&combined(&["iso20000-1:2018", "iso27001:2022"]));
    let mut got = subjects_by_code(&r);
    for code in COVERAGE {
        let want = want.get(code).cloned().unwrap_or_default();
        let got = got.remove(*code).unwrap_or_default();
        assert_eq!(got, want, "subjects of {code}");
    }
    for f in r.json()["findings"].as_array().unwrap() {
        let code = f["code"].as_str().unwrap();
        assert!(
            COVERAGE.contains(&code)
                || (code == "unfilled-placeholder" && f["path"] == "sms.yaml")
                // the kit's SoA is a draft until someone decides every control
                || (code == "soa-not-approved" && f["path"] == "sms/statement-of-applicability.md")
                || is_repository_note(f),
            "unexpected finding after init: {f}"
        );
    }
    // 56 leaves of 20000-1 and 118 of 27001 that need documents: 25 of clauses 4-10 (all leaves
    // but the records-only 8.2, 8.3 and 9.3.1-9.3.3) and the 93 controls
    assert_eq!(want["clause-undocumented"].len(), 56 + 25 + 93);

    // the default kit has none of the 27001 files
    let plain = fresh(&[]);
    assert!(!plain
        .path()
        .join("sms/information-security-risk-assessment.md")
        .exists());
    assert!(!plain
        .read("sms/scope.md")
        .contains("information security management system"));
    assert!(plain
        .read("sms.yaml")
        .contains("\nframework: iso20000-1:2018\n"));
}

/// Once every template `init` wrote for several frameworks is approved and the example records
/// are real, every clause of every framework is covered — except what the Statement of
/// Applicability provides, when the kit has no template for it — whatever the primary.
#[test]
fn approved_union_kit_covers_every_framework() {
    for frameworks in [
        &["iso20000-1:2018", "iso27001:2022"][..],
        &["iso27001:2022", "iso20000-1:2018", "iso9001:2015"][..],
    ] {
        let sms = fresh(&["--framework", &frameworks.join(",")]);
        fill_scope(&sms);
        let config = sms.read("sms.yaml");
        sms.file(
            "sms.yaml",
            &format!(
                "{config}people:\n  - id: boss\n    name: The Boss\n    role: top-management\n"
            ),
        );
        for path in sms_documents(sms.path()) {
            let text = sms.read(&path);
            sms.file(&path, &approve(&text));
        }
        for entry in walkdir::WalkDir::new(sms.path().join("records")) {
            let entry = entry.unwrap();
            if entry.file_name() == "example.yaml.sample" {
                let text = std::fs::read_to_string(entry.path()).unwrap();
                std::fs::write(entry.path().with_file_name("example.yaml"), text).unwrap();
            }
        }
        let r = sms.check_json();
        let json = r.json();
        let soa = |s: &str| s.contains("statement-of-applicability");
        let left: Vec<_> = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| !is_repository_note(f))
            .filter(|f| {
                !(f["code"] == "named-document-missing" && soa(f["subject"].as_str().unwrap()))
            })
            .collect();
        assert!(left.is_empty(), "{frameworks:?}: {left:#?}");
        let uncovered: Vec<&str> = json["clauses"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] != "covered")
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        for id in &uncovered {
            // 6.1.3 (qualified or not) and the headings above it
            let local = id.rsplit(':').next().unwrap();
            assert!(
                ["6", "6.1", "6.1.3"].contains(&local),
                "{frameworks:?}: {id} not covered"
            );
        }
        let per: Vec<&str> = json["frameworks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap())
            .collect();
        assert_eq!(per, frameworks);
    }
}

/// `--framework` takes only frameworks the kit has templates for, each once, 20000-1 among them.
#[test]
fn init_framework_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    for (arg, want) in [
        (
            "iso20000-1:2018,iso27001:2013",
            "did you mean `iso27001:2022`?",
        ),
        ("iso20000-1:2018,iso20000-1:2018", "listed twice"),
        ("iso27001:2022", "list `iso20000-1:2018` too"),
        ("iso20000-1:2011", "no templates for `iso20000-1:2011`"),
    ] {
        let r = init(&dir.path().join("x"), &["--no-git", "--framework", arg]);
        assert_eq!(r.code, 2, "{arg}");
        assert!(r.stderr.contains(want), "{arg}: {}", r.stderr);
        assert!(!dir.path().join("x").exists(), "{arg}: wrote files");
    }
}
