//! Test harness: temporary SMS folders and runs of the real binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub const AS_OF: &str = "2026-11-26";

/// The date the sample SMS is checked at: the approval date of its integrated (20000-1 + 27001)
/// revision, so that approvals and records of that revision are not in the future.
pub const SAMPLE_AS_OF: &str = "2026-12-07";

pub const MINIMAL_CONFIG: &str =
    "organisation: Test Ltd\nscope: Test services.\nframework: iso20000-1:2018\n";

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The auditbook binary with an environment that cannot change results.
pub fn auditbook() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_auditbook"));
    c.env_remove("SOURCE_DATE_EPOCH")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_ACTIONS")
        .env("NO_COLOR", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", std::env::temp_dir());
    c
}

pub struct Sms {
    pub dir: tempfile::TempDir,
    /// The `--as-of` that [`Sms::run`] passes unless given: [`AS_OF`], or [`SAMPLE_AS_OF`] for
    /// [`Sms::sample`].
    pub as_of: &'static str,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Codes of the findings in a `--format json` run.
    pub fn codes(&self) -> Vec<String> {
        self.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_string())
            .collect()
    }

    /// Findings with a given code in a `--format json` run.
    pub fn findings(&self, code: &str) -> Vec<serde_json::Value> {
        self.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == code)
            .cloned()
            .collect()
    }
}

impl Sms {
    /// An SMS with a minimal sms.yaml and nothing else.
    pub fn new() -> Sms {
        Sms::with_config(MINIMAL_CONFIG)
    }

    pub fn with_config(config: &str) -> Sms {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("sms.yaml"), config).unwrap();
        Sms { dir, as_of: AS_OF }
    }

    /// A copy of the repository's sample SMS.
    pub fn sample() -> Sms {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&repo_root().join("sample-sms"), dir.path());
        Sms {
            dir,
            as_of: SAMPLE_AS_OF,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, rel: &str, text: &str) -> &Self {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
        self
    }

    pub fn bytes(&self, rel: &str, bytes: &[u8]) -> &Self {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
        self
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).unwrap()
    }

    pub fn remove(&self, rel: &str) -> &Self {
        std::fs::remove_file(self.path().join(rel)).unwrap();
        self
    }

    /// Replace `from` with `to` in a file (the text must be there).
    pub fn edit(&self, rel: &str, from: &str, to: &str) -> &Self {
        let t = self.read(rel);
        assert!(t.contains(from), "{rel} does not contain {from:?}");
        self.file(rel, &t.replacen(from, to, 1))
    }

    /// Run `auditbook SUBCOMMAND PATH ARGS…` (PATH is this SMS), with `--as-of` unless given.
    pub fn run(&self, subcommand: &str, args: &[&str]) -> Run {
        let mut c = auditbook();
        c.arg(subcommand).arg(self.path()).args(args);
        if !args.contains(&"--as-of") {
            c.args(["--as-of", self.as_of]);
        }
        run(c)
    }

    /// `check --format json`.
    pub fn check_json(&self) -> Run {
        self.run("check", &["--format", "json"])
    }
}

pub fn run(mut c: Command) -> Run {
    let out = c.output().expect("run auditbook");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(from).unwrap();
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// A document with complete, approved frontmatter.
pub fn doc(id: &str, clauses: &[&str], extra: &str, body: &str) -> String {
    let clauses = clauses
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "---\nid: {id}\ntitle: Document {id}\ntype: policy\nowner: Owner\napprover: Approver\nversion: \"1.0\"\nstatus: approved\napproved: 2026-01-05\nclauses: [{clauses}]\n{extra}---\n\n# Document {id}\n\n{body}\n"
    )
}

/// `git ARGS` in `dir` as Helen Carter at `date`, with the user's and the system's configuration
/// kept out; panics with git's stderr when it fails.
pub fn git_at(dir: &Path, args: &[&str], date: &str) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "Helen Carter")
        .env("GIT_AUTHOR_EMAIL", "hc@example.com")
        .env("GIT_COMMITTER_NAME", "Helen Carter")
        .env("GIT_COMMITTER_EMAIL", "hc@example.com")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
