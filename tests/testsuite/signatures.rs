//! Signed commits and tags as approval evidence: real repositories whose commits and tags are
//! signed by the real `git` with test SSH keys made by the real `ssh-keygen`
//! (`git -c gpg.format=ssh -c user.signingkey=KEY commit -S`), checked by auditbook in-process.
//! Good signatures by the approver's key listed in `people[].keys` or an allowed-signers file,
//! a forged signature, a good signature by a key nobody listed, an expired key, a signed tag on
//! the approval, an OpenPGP signature, `approval.require` levels and the cache's keying.
//! Under `CI=true` a missing `ssh-keygen` fails the tests instead of skipping them.

use crate::sign::{fingerprint, have_ssh_keygen};
use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A new Ed25519 key `dir/name` without passphrase; returns the private key's path.
fn new_key(dir: &Path, name: &str) -> PathBuf {
    let key = dir.join(name);
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    key
}

fn public(key: &Path) -> String {
    std::fs::read_to_string(key.with_extension("pub"))
        .unwrap()
        .trim()
        .to_string()
}

/// An SMS in its own git repository, committed by the real git with fixed dates.
struct Repo {
    sms: Sms,
    keys: tempfile::TempDir,
}

/// Who makes a commit: (name, e-mail).
const HELEN: (&str, &str) = ("Helen Carter", "hc@example.com");
const PRIYA: (&str, &str) = ("Priya Naidoo", "pn@example.com");

impl Repo {
    fn new(config: &str) -> Repo {
        let sms = Sms::with_config(config);
        let r = Repo {
            sms,
            keys: tempfile::tempdir().unwrap(),
        };
        r.git(
            &["init", "-q", "-b", "main"],
            HELEN,
            HELEN,
            "2026-01-01T10:00:00Z",
        );
        r
    }

    fn key(&self, name: &str) -> PathBuf {
        new_key(self.keys.path(), name)
    }

    /// `git ARGS` with the author and committer given, at `date`; the output.
    fn git(
        &self,
        args: &[&str],
        author: (&str, &str),
        committer: (&str, &str),
        date: &str,
    ) -> String {
        let out = Command::new("git")
            .current_dir(self.sms.path())
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("HOME", self.keys.path())
            .env("GIT_AUTHOR_NAME", author.0)
            .env("GIT_AUTHOR_EMAIL", author.1)
            .env("GIT_COMMITTER_NAME", committer.0)
            .env("GIT_COMMITTER_EMAIL", committer.1)
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Commit everything; signed with `key` (git's SSH signing) when given.
    fn commit(
        &self,
        message: &str,
        author: (&str, &str),
        committer: (&str, &str),
        date: &str,
        key: Option<&Path>,
    ) {
        self.git(&["add", "-A"], author, committer, date);
        let signing = key.map(|k| format!("user.signingkey={}", k.display()));
        let mut args: Vec<&str> = Vec::new();
        if let Some(s) = &signing {
            args.extend(["-c", "gpg.format=ssh", "-c", s]);
        }
        args.extend(["commit", "-q", "-m", message]);
        if signing.is_some() {
            args.push("-S");
        }
        self.git(&args, author, committer, date);
    }

    fn check(&self) -> Run {
        self.sms.check_json()
    }

    fn document_page(&self, id: &str) -> String {
        let out = tempfile::tempdir().unwrap();
        let site = out.path().join("site");
        let r = self.sms.run("build", &["--out", site.to_str().unwrap()]);
        assert!(r.code <= 1, "{}", r.stderr);
        std::fs::read_to_string(site.join(format!("documents/{id}.html"))).unwrap()
    }
}

/// A policy approved by `hc` on 2026-03-02.
fn policy(version: &str, body: &str) -> String {
    format!(
        "---\nid: POL-A\ntitle: Policy A\ntype: policy\nowner: hc\napprover: hc\nversion: \"{version}\"\nstatus: approved\napproved: 2026-03-02\nclauses: [\"5.2\"]\n---\n\n# Policy A\n\n{body}\n"
    )
}

/// sms.yaml with Helen (key lines given) and Priya, plus `extra` settings.
fn config(helen_keys: &[String], extra: &str) -> String {
    let keys = if helen_keys.is_empty() {
        String::new()
    } else {
        format!(
            "    keys:\n{}",
            helen_keys
                .iter()
                .map(|k| format!("      - \"{k}\"\n"))
                .collect::<String>()
        )
    };
    format!(
        "{MINIMAL_CONFIG}people:\n  - id: hc\n    name: Helen Carter\n    emails: [hc@example.com]\n{keys}  - id: pn\n    name: Priya Naidoo\n    emails: [pn@example.com]\n{extra}"
    )
}

const REQUIRE_SIGNED: &str = "approval:\n  require:\n    policy: signed\n";

fn signature_codes(r: &Run) -> Vec<String> {
    r.codes()
        .into_iter()
        .filter(|c| c.starts_with("signature-") || c == "approval-not-corroborated")
        .collect()
}

/// Priya writes the policy; Helen, the approver, lands it with a commit signed by her key
/// listed in `people[].keys`: the approval is signed, and `approval.require: signed` holds.
#[test]
fn a_signed_commit_by_the_approver_makes_the_approval_signed() {
    if !have_ssh_keygen() {
        return;
    }
    let repo = Repo::new(MINIMAL_CONFIG);
    let key = repo.key("helen");
    repo.sms
        .file("sms.yaml", &config(&[public(&key)], REQUIRE_SIGNED));
    repo.sms.file("policies/a.md", &policy("1.0", "Text."));
    repo.commit(
        "Policy A 1.0",
        PRIYA,
        HELEN,
        "2026-03-02T10:00:00Z",
        Some(&key),
    );
    let r = repo.check();
    assert_eq!(signature_codes(&r), Vec::<String>::new(), "{}", r.stdout);
    let approvals = &r.json()["approvals"];
    let fp = fingerprint(&key);
    assert_eq!(approvals[0]["document"], "POL-A", "{approvals}");
    assert_eq!(approvals[0]["level"], "signed");
    assert_eq!(approvals[0]["required"], "signed");
    assert_eq!(approvals[0]["signed_by"], "commit");
    assert_eq!(approvals[0]["fingerprint"], fp.as_str());
    let page = repo.document_page("POL-A");
    assert!(
        page.contains(&format!("<td>signed (commit, key {fp})</td>")),
        "{page}"
    );
    assert!(
        page.contains(&format!("<td>signed by hc (key {fp})</td>")),
        "{page}"
    );
}

/// Priya's branch, merged by Helen with a signed merge commit (`git merge -S`): the merge is the
/// landing, so the approval is signed; Priya's own signature on her commit would not be.
#[test]
fn a_signed_merge_by_the_approver_lands_a_signed_approval() {
    if !have_ssh_keygen() {
        return;
    }
    let repo = Repo::new(MINIMAL_CONFIG);
    let helen = repo.key("helen");
    let priya = repo.key("priya");
    let yaml = config(&[public(&helen)], REQUIRE_SIGNED).replace(
        "    emails: [pn@example.com]\n",
        &format!(
            "    emails: [pn@example.com]\n    keys: [\"{}\"]\n",
            public(&priya)
        ),
    );
    repo.sms.file("sms.yaml", &yaml);
    repo.commit("Settings", HELEN, HELEN, "2026-03-01T10:00:00Z", None);
    repo.git(
        &["checkout", "-q", "-b", "policy"],
        HELEN,
        HELEN,
        "2026-03-01T10:00:00Z",
    );
    repo.sms.file("policies/a.md", &policy("1.0", "Text."));
    repo.commit(
        "Policy A 1.0",
        PRIYA,
        PRIYA,
        "2026-03-02T09:00:00Z",
        Some(&priya),
    );
    repo.git(
        &["checkout", "-q", "main"],
        HELEN,
        HELEN,
        "2026-03-02T10:00:00Z",
    );
    repo.git(
        &["commit", "-q", "--allow-empty", "-m", "Unrelated"],
        HELEN,
        HELEN,
        "2026-03-02T09:30:00Z",
    );
    // Priya's signed commit alone on the main line would be claimed: she is not the approver.
    let signing = format!("user.signingkey={}", helen.display());
    repo.git(
        &[
            "-c",
            "gpg.format=ssh",
            "-c",
            &signing,
            "merge",
            "-q",
            "--no-ff",
            "-S",
            "-m",
            "Merge policy A",
            "policy",
        ],
        HELEN,
        HELEN,
        "2026-03-02T10:00:00Z",
    );
    let r = repo.check();
    assert_eq!(signature_codes(&r), Vec::<String>::new(), "{}", r.stdout);
    assert_eq!(r.json()["approvals"][0]["level"], "signed");
}

/// The author's own good signature proves who wrote the change, not who approved it: the
/// approval stays claimed, and the version table still shows the signature.
#[test]
fn a_signature_by_someone_other_than_the_approver_is_not_a_signed_approval() {
    if !have_ssh_keygen() {
        return;
    }
    let repo = Repo::new(MINIMAL_CONFIG);
    let priya = repo.key("priya");
    let yaml = config(&[], REQUIRE_SIGNED).replace(
        "    emails: [pn@example.com]\n",
        &format!(
            "    emails: [pn@example.com]\n    keys: [\"{}\"]\n",
            public(&priya)
        ),
    );
    repo.sms.file("sms.yaml", &yaml);
    repo.sms.file("policies/a.md", &policy("1.0", "Text."));
    repo.commit(
        "Policy A 1.0",
        PRIYA,
        PRIYA,
        "2026-03-02T10:00:00Z",
        Some(&priya),
    );
    let r = repo.check();
    assert_eq!(
        signature_codes(&r),
        ["approval-not-corroborated"],
        "{}",
        r.stdout
    );
    assert_eq!(r.json()["approvals"][0]["level"], "claimed");
    let page = repo.document_page("POL-A");
    assert!(page.contains("<td>signed by pn (key "), "{page}");
}

/// Without a signature, `approval.require: signed` is not met: `approval-not-corroborated` at
/// the approver line, and the check fails; a level that is met gives nothing.
#[test]
fn an_unsigned_approval_is_not_corroborated_where_signed_is_required() {
    if !have_ssh_keygen() {
        return;
    }
    let repo = Repo::new(&config(&[], REQUIRE_SIGNED));
    repo.sms.file("policies/a.md", &policy("1.0", "Text."));
    repo.commit("Policy A 1.0", PRIYA, HELEN, "2026-03-02T10:00:00Z", None);
    let r = repo.check();
    assert_eq!(r.code, 1, "{}", r.stdout);
    let f = r.findings("approval-not-corroborated");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert_eq!(f[0]["path"], "policies/a.md");
    assert_eq!(f[0]["line"], 6);
    assert_eq!(f[0]["severity"], "error");
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("gives only `claimed`"),
        "{}",
        f[0]
    );
    // Claimed is enough for procedures (nothing set) and for policies once lowered.
    repo.sms.file(
        "sms.yaml",
        &config(&[], "approval:\n  require:\n    policy: claimed\n"),
    );
    repo.commit(
        "Lower the requirement",
        HELEN,
        HELEN,
        "2026-03-03T10:00:00Z",
        None,
    );
    assert_eq!(signature_codes(&repo.check()), Vec::<String>::new());
}

/// A good signature by a key nobody listed is a warning on the approval commit, and is no
/// signed approval; once the key is listed under the approver, the same commit is signed (the
/// cache is keyed by the keys, so the change re-verifies).
#[test]
fn a_good_signature_by_an_unlisted_key_is_unknown_until_the_key_is_listed() {
    if !have_ssh_keygen() {
        return;
    }
    let repo = Repo::new(&config(&[], REQUIRE_SIGNED));
    let key = repo.key("stranger");
    repo.sms.file("policies/a.md", &policy("1.0", "Text."));
    repo.commit(
        "Policy A 1.0",
        PRIYA,
        HELEN,
        "2026-03-02T10:00:00Z",
        Some(&key),
    );
    let r = repo.check();
    let mut codes = signature_codes(&r);
    codes.sort();
    assert_eq!(
        codes,
        ["approval-not-corroborated", "signature-unknown-key"],
        "{}",
        r.stdout
    );
    let f = &r.findings("signature-unknown-key")[0];
    assert!(
        f["message"].as_str().unwrap().contains(&fingerprint(&key)),
        "{f}"
    );
    assert_eq!(f["severity"], "warning");
    // A second run reads the cache and says the same.
    let mut again = signature_codes(&repo.check());
    again.sort();
    assert_eq!(again, codes);
    // The key listed in the work tree's sms.yaml: verified again, now good.
    repo.sms
        .file("sms.yaml", &config(&[public(&key)], REQUIRE_SIGNED));
    let r = repo.check();
    assert!(r.findings("uncommitted-changes").len() == 1);
    assert_eq!(signature_codes(&r), Vec::<String>::new(), "{}", r.stdout);
}

/// A signed commit whose content was altered afterwards (the signature copied onto a forged
/// commit object) is `signature-bad`, an error, and never counts as signed.
#[test]
fn a_forged_signature_is_an_error() {
    if !have_ssh_keygen() {
        return;
    }
    let repo = Repo::new(MINIMAL_CONFIG);
    let key = repo.key("helen");
    repo.sms
        .file("sms.yaml", &config(&[public(&key)], REQUIRE_SIGNED));
    repo.sms.file("policies/a.md", &policy("1.0", "Text."));
    repo.commit(
        "Policy A 1.0",
        PRIYA,
        HELEN,
        "2026-03-02T10:00:00Z",
        Some(&key),
    );
    // The same commit with another author name, signature kept: a forgery.
    let raw = repo.git(
        &["cat-file", "commit", "HEAD"],
        HELEN,
        HELEN,
        "2026-03-02T10:00:00Z",
    );
    assert!(
        raw.contains("gpgsig -----BEGIN SSH SIGNATURE-----"),
        "{raw}"
    );
    let forged = format!(
        "{}\n",
        raw.replace("author Priya Naidoo", "author Mallory Naidoo")
    );
    let file = repo.keys.path().join("forged");
    std::fs::write(&file, forged).unwrap();
    let id = repo.git(
        &["hash-object", "-t", "commit", "-w", file.to_str().unwrap()],
        HELEN,
        HELEN,
        "2026-03-02T10:00:00Z",
    );
    repo.git(
        &["update-ref", "refs/heads/main", &id],
        HELEN,
        HELEN,
        "2026-03-02T10:00:00Z",
    );
    let r = repo.check();
    assert_eq!(r.code, 1);
    let bad = r.findings("signature-bad");
    assert_eq!(bad.len(), 1, "{}", r.stdout);
    assert_eq!(bad[0]["severity"], "error");
    assert_eq!(bad[0]["subject"], id.as_str());
    assert_eq!(bad[0]["path"], "policies/a.md");
    assert_eq!(r.findings("approval-not-corroborated").len(), 1);
    assert!(repo.document_page("POL-A").contains("BAD signature"));
}

/// An unsigned approval commit, and a signed annotated tag on it made by the approver: the
/// approval is signed by the tag.
#[test]
fn a_signed_tag_on_the_approval_commit_makes_it_signed() {
    if !have_ssh_keygen() {
        return;
    }
    let repo = Repo::new(MINIMAL_CONFIG);
    let key = repo.key("helen");
    repo.sms
        .file("sms.yaml", &config(&[public(&key)], REQUIRE_SIGNED));
    repo.sms.file("policies/a.md", &policy("1.0", "Text."));
    repo.commit("Policy A 1.0", PRIYA, PRIYA, "2026-03-02T10:00:00Z", None);
    assert_eq!(repo.check().findings("approval-not-corroborated").len(), 1);
    let signing = format!("user.signingkey={}", key.display());
    repo.git(
        &[
            "-c",
            "gpg.format=ssh",
            "-c",
            &signing,
            "tag",
            "-s",
            "-m",
            "Approved: POL-A 1.0",
            "pol-a-1.0",
        ],
        HELEN,
        HELEN,
        "2026-03-02T11:00:00Z",
    );
    let r = repo.check();
    assert_eq!(signature_codes(&r), Vec::<String>::new(), "{}", r.stdout);
    let page = repo.document_page("POL-A");
    assert!(
        page.contains(&format!(
            "<td>signed (tag pol-a-1.0, key {})</td>",
            fingerprint(&key)
        )),
        "{page}"
    );
    // A tag signed by someone else's key is no approval by Helen.
    let other = repo.key("priya");
    repo.sms.file(
        "sms.yaml",
        &format!(
            "{}  - id: pn2\n    name: Priya again\n    keys: [\"{}\"]\n{REQUIRE_SIGNED}",
            config(&[], ""),
            public(&other)
        ),
    );
    let r = repo.check();
    assert_eq!(
        r.findings("approval-not-corroborated").len(),
        1,
        "{}",
        r.stdout
    );
}

/// Keys in an allowed-signers file (git's format): the principal is matched to a person by
/// e-mail; `valid-before` in the past at the signing date makes the signature expired.
#[test]
fn allowed_signers_keys_count_and_their_validity_is_judged_at_the_commit_date() {
    if !have_ssh_keygen() {
        return;
    }
    let repo = Repo::new(MINIMAL_CONFIG);
    let key = repo.key("helen");
    let settings = format!("signatures:\n  allowed_signers: .allowed_signers\n{REQUIRE_SIGNED}");
    repo.sms.file("sms.yaml", &config(&[], &settings));
    repo.sms.file(
        ".allowed_signers",
        &format!(
            "# who signs\nhc@example.com namespaces=\"git\" {}\n",
            public(&key)
        ),
    );
    repo.sms.file("policies/a.md", &policy("1.0", "Text."));
    repo.commit(
        "Policy A 1.0",
        PRIYA,
        HELEN,
        "2026-03-02T10:00:00Z",
        Some(&key),
    );
    let r = repo.check();
    assert_eq!(signature_codes(&r), Vec::<String>::new(), "{}", r.stdout);
    // The key expired before the commit was signed.
    repo.sms.file(
        ".allowed_signers",
        &format!(
            "hc@example.com valid-before=\"20260201\" {}\n",
            public(&key)
        ),
    );
    repo.commit("Expire the key", HELEN, HELEN, "2026-03-03T10:00:00Z", None);
    let r = repo.check();
    let mut codes = signature_codes(&r);
    codes.sort();
    assert_eq!(
        codes,
        ["approval-not-corroborated", "signature-key-expired"],
        "{}",
        r.stdout
    );
    // A broken file is a config finding at the setting, not a silent loss of keys.
    repo.sms
        .file(".allowed_signers", "hc@example.com ssh-ed25519 AAAA!\n");
    let r = repo.check();
    let f = r.findings("config-invalid");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .starts_with(".allowed_signers:1:"),
        "{}",
        f[0]
    );
}

/// `check --base`: a change that lowers `approval.require` for a type is `gate-config-weakened`
/// at the line of the type, and the base's level still judges the change.
#[test]
fn lowering_the_required_approval_level_weakens_the_gate() {
    let repo = Repo::new(&config(&[], "approval:\n  require:\n    policy: trailer\n"));
    repo.sms.file("policies/a.md", &policy("1.0", "Text."));
    repo.commit("Policy A 1.0", PRIYA, HELEN, "2026-03-02T10:00:00Z", None);
    repo.sms.file(
        "sms.yaml",
        &config(&[], "approval:\n  require:\n    policy: claimed\n"),
    );
    let r = repo
        .sms
        .run("check", &["--base", "main", "--format", "json"]);
    let f = r.findings("gate-config-weakened");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert_eq!(f[0]["line"], 13, "{}", f[0]);
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("from `trailer` to `claimed`"),
        "{}",
        f[0]
    );
    assert_eq!(
        r.findings("approval-not-corroborated").len(),
        1,
        "{}",
        r.stdout
    );
}

/// `check --base`: a change that adds a trusted signing key is `gate-config-weakened` (the key
/// could sign the change's own approval).
#[test]
fn trusting_a_new_signing_key_weakens_the_gate() {
    if !have_ssh_keygen() {
        return;
    }
    let repo = Repo::new(&config(&[], ""));
    let key = repo.key("helen");
    repo.sms.file("policies/a.md", &policy("1.0", "Text."));
    repo.commit("Policy A 1.0", PRIYA, HELEN, "2026-03-02T10:00:00Z", None);
    repo.sms.file("sms.yaml", &config(&[public(&key)], ""));
    let r = repo
        .sms
        .run("check", &["--base", "main", "--format", "json"]);
    let f = r.findings("gate-config-weakened");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert_eq!(f[0]["line"], 8, "{}", f[0]);
    let message = f[0]["message"].as_str().unwrap();
    assert!(
        message.contains(&fingerprint(&key)) && message.contains("as hc's"),
        "{message}"
    );
    // The same keys on both sides: nothing.
    repo.commit(
        "Trust Helen's key",
        HELEN,
        HELEN,
        "2026-03-03T10:00:00Z",
        None,
    );
    let r = repo
        .sms
        .run("check", &["--base", "main", "--format", "json"]);
    assert_eq!(r.findings("gate-config-weakened").len(), 0, "{}", r.stdout);
}

/// A key line that is not a public key is a config finding at its own line.
#[test]
fn a_bad_key_line_in_people_is_a_config_finding() {
    let sms = Sms::with_config(&config(&["ssh-ed25519 not-base64".to_string()], ""));
    let r = sms.check_json();
    let f = r.findings("config-invalid");
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert_eq!(f[0]["line"], 9);
    assert!(f[0]["message"].as_str().unwrap().contains("person `hc`"));
}

/// An approval commit signed with OpenPGP (git's default format, by the real `gpg`): by a key
/// nobody listed it is `signature-unknown-key`; with the approver's armoured public key in
/// `signatures.openpgp_keys` (matched to her by the User ID e-mail) the approval is signed; a
/// forged copy of the commit is `signature-bad`.
#[test]
fn openpgp_signatures_are_verified_against_armoured_keys_in_the_sms() {
    let Ok(out) = Command::new("gpg").arg("--version").output() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true but gpg is not installed (apt-get install -y gnupg)");
        }
        eprintln!("skipped: gpg is not installed");
        return;
    };
    assert!(out.status.success());
    let repo = Repo::new(&config(&[], REQUIRE_SIGNED));
    let home = repo.keys.path().join("gnupg");
    std::fs::create_dir_all(&home).unwrap();
    let gpg = |args: &[&str]| {
        let out = Command::new("gpg")
            .env("GNUPGHOME", &home)
            .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    gpg(&[
        "--quick-generate-key",
        "Helen Carter <hc@example.com>",
        "ed25519",
        "sign",
        "never",
    ]);
    repo.sms.file("policies/a.md", &policy("1.0", "Text."));
    repo.git(&["add", "-A"], PRIYA, HELEN, "2026-03-02T10:00:00Z");
    let out = Command::new("git")
        .current_dir(repo.sms.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GNUPGHOME", &home)
        .env("GIT_AUTHOR_NAME", PRIYA.0)
        .env("GIT_AUTHOR_EMAIL", PRIYA.1)
        .env("GIT_COMMITTER_NAME", HELEN.0)
        .env("GIT_COMMITTER_EMAIL", HELEN.1)
        .env("GIT_AUTHOR_DATE", "2026-03-02T10:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-03-02T10:00:00Z")
        .args([
            "-c",
            "user.signingkey=hc@example.com",
            "commit",
            "-q",
            "-S",
            "-m",
            "Policy A 1.0",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = repo.check();
    let mut codes = signature_codes(&r);
    codes.sort();
    assert_eq!(
        codes,
        ["approval-not-corroborated", "signature-unknown-key"],
        "{}",
        r.stdout
    );
    assert!(r.findings("signature-unknown-key")[0]["message"]
        .as_str()
        .unwrap()
        .contains("OpenPGP"));
    // The armoured public key in the SMS (a work-tree change of the settings).
    repo.sms.file(
        "keys/openpgp.asc",
        &gpg(&["--export", "--armor", "hc@example.com"]),
    );
    repo.sms.file(
        "sms.yaml",
        &config(
            &[],
            &format!("signatures:\n  openpgp_keys: keys/openpgp.asc\n{REQUIRE_SIGNED}"),
        ),
    );
    let r = repo.check();
    assert_eq!(signature_codes(&r), Vec::<String>::new(), "{}", r.stdout);
    assert_eq!(r.json()["approvals"][0]["level"], "signed");
    assert!(r.json()["approvals"][0]["fingerprint"]
        .as_str()
        .unwrap()
        .starts_with("OpenPGP "));
    // The same commit with its text altered, signature kept.
    let raw = repo.git(
        &["cat-file", "commit", "HEAD"],
        HELEN,
        HELEN,
        "2026-03-02T10:00:00Z",
    );
    assert!(
        raw.contains("gpgsig -----BEGIN PGP SIGNATURE-----"),
        "{raw}"
    );
    let file = repo.keys.path().join("forged");
    std::fs::write(
        &file,
        format!("{}\n", raw.replace("Policy A 1.0", "Policy A 1.0!")),
    )
    .unwrap();
    let id = repo.git(
        &["hash-object", "-t", "commit", "-w", file.to_str().unwrap()],
        HELEN,
        HELEN,
        "2026-03-02T10:00:00Z",
    );
    repo.git(
        &["update-ref", "refs/heads/main", &id],
        HELEN,
        HELEN,
        "2026-03-02T10:00:00Z",
    );
    let r = repo.check();
    assert_eq!(r.findings("signature-bad").len(), 1, "{}", r.stdout);
}
