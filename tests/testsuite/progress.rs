//! `--quiet`, `--verbose` and progress bars: bars only when stderr is a terminal (a pseudo-terminal
//! made by util-linux `script`), never in a pipe; `--verbose` prints the phase timings; neither
//! changes stdout.

use crate::support::*;
use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) {
    git_at(dir, args, "2026-06-01T12:00:00+00:00");
}

/// A small SMS in a git repository with two commits (so the history walk has work to do).
fn committed_sms() -> Sms {
    let sms = Sms::new();
    sms.file(
        "policies/service.md",
        &doc("POL-SVC", &["8.1"], "", "The policy."),
    );
    git(sms.path(), &["init", "-q", "-b", "main"]);
    git(sms.path(), &["add", "-A"]);
    git(sms.path(), &["commit", "-q", "-m", "first"]);
    sms.file(
        "procedures/change.md",
        &doc("PRO-CHG", &["8.5.1.1"], "", "The procedure."),
    );
    git(sms.path(), &["add", "-A"]);
    git(sms.path(), &["commit", "-q", "-m", "second"]);
    sms
}

/// `auditbook ARGS…` on `sms` with a fixed as-of date.
fn ab(sms: &Sms, args: &[&str]) -> Run {
    let mut c = auditbook();
    c.args(args).arg(sms.path()).args(["--as-of", AS_OF]);
    run(c)
}

/// The phase names of a `--verbose` timings line, after checking its format:
/// `timings: load 0.012 s, history 0.034 s; total 0.050 s`.
fn timed_phases(stderr: &str) -> Vec<String> {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("timings: "))
        .unwrap_or_else(|| panic!("no timings line in stderr:\n{stderr}"));
    assert_eq!(stderr.lines().last(), Some(line), "timings come last");
    let rest = line.strip_prefix("timings: ").unwrap();
    let (phases, total) = rest.split_once("; total ").expect("a total");
    let seconds = |s: &str| {
        let n = s
            .strip_suffix(" s")
            .unwrap_or_else(|| panic!("`{s}` ends in ` s`"));
        let (whole, frac) = n.split_once('.').expect("a decimal point");
        assert!(whole.chars().all(|c| c.is_ascii_digit()) && !whole.is_empty());
        assert!(frac.len() == 3 && frac.chars().all(|c| c.is_ascii_digit()));
    };
    seconds(total);
    phases
        .split(", ")
        .map(|p| {
            let (name, value) = p.split_once(' ').expect("name and duration");
            seconds(value);
            name.to_string()
        })
        .collect()
}

/// Not a terminal: no bar, no escape codes, not even a carriage return; stderr and stdout are
/// those of `--quiet`.
#[test]
fn no_progress_when_stderr_is_not_a_terminal() {
    let sms = committed_sms();
    let out = sms.path().join("_site");
    let out = out.to_str().unwrap();
    for cmd in [&["build", "--out", out][..], &["check"]] {
        let plain = ab(&sms, cmd);
        let quiet = ab(&sms, &[cmd, &["--quiet"]].concat());
        assert_eq!(plain.code, 1, "{}", plain.stderr); // clauses uncovered
        assert!(!plain.stderr.contains('\x1b') && !plain.stderr.contains('\r'));
        assert_eq!(plain.stderr, quiet.stderr);
        assert_eq!(plain.stdout, quiet.stdout);
    }
}

/// `--verbose` ends stderr with the phases that ran, each with its duration; stdout unchanged.
#[test]
fn verbose_prints_phase_timings() {
    let sms = committed_sms();
    let plain = ab(&sms, &["check", "--format", "json"]);
    let verbose = ab(&sms, &["check", "--format", "json", "--verbose"]);
    assert_eq!(plain.stdout, verbose.stdout);
    assert_eq!(timed_phases(&verbose.stderr), ["load", "history", "rules"]);
    assert!(!plain.stderr.contains("timings:"));

    let out = sms.path().join("_site");
    let build = ab(&sms, &["build", "-v", "--out", out.to_str().unwrap()]);
    assert_eq!(build.code, 1, "{}", build.stderr);
    assert_eq!(
        timed_phases(&build.stderr),
        ["load", "history", "rules", "render", "write"]
    );
    assert!(build.stderr.starts_with("built the evidence site"));

    let zip = sms.path().join("evidence.zip");
    let bundle = ab(
        &sms,
        &["bundle", "--verbose", "--out", zip.to_str().unwrap()],
    );
    assert_eq!(bundle.code, 1, "{}", bundle.stderr);
    assert_eq!(
        timed_phases(&bundle.stderr),
        ["load", "history", "rules", "render", "write"]
    );
    // The bundle itself is the same bytes as without --verbose.
    let plain_zip = sms.path().join("plain.zip");
    let plain = ab(&sms, &["bundle", "--out", plain_zip.to_str().unwrap()]);
    assert_eq!(plain.code, 1, "{}", plain.stderr);
    assert_eq!(
        std::fs::read(&zip).unwrap(),
        std::fs::read(&plain_zip).unwrap()
    );
}

/// `--quiet` and `--verbose` exclude each other (exit 2).
#[test]
fn quiet_and_verbose_conflict() {
    let sms = Sms::new();
    let r = ab(&sms, &["check", "--quiet", "--verbose"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot be used with"), "{}", r.stderr);
}

/// `script -qec CMD /dev/null` runs CMD on a pseudo-terminal; its output (stdout and stderr) comes
/// back through our pipe. `None` when util-linux `script` is missing.
fn on_terminal(cmd: &[&str]) -> Option<String> {
    let quoted: Vec<String> = cmd
        .iter()
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect();
    let mut c = Command::new("script");
    c.args(["-qec", &quoted.join(" "), "/dev/null"])
        .env("TERM", "xterm")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("SOURCE_DATE_EPOCH");
    let out = c.output().ok()?;
    assert!(out.status.success() || out.status.code() == Some(1));
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// On a terminal, `build` draws its bars (render, write) and clears them; `--quiet` draws none.
#[test]
fn progress_bars_on_a_terminal_and_none_when_quiet() {
    let sms = committed_sms();
    let bin = env!("CARGO_BIN_EXE_auditbook");
    let root = sms.path().to_str().unwrap().to_string();
    let out = sms.path().join("_site");
    let out = out.to_str().unwrap();
    let build = [bin, "build", &root, "--as-of", AS_OF, "--out", out];
    let Some(tty) = on_terminal(&build) else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true but util-linux `script` is missing; the terminal test must run in CI");
        }
        eprintln!("skipped: util-linux `script` is not installed, so no pseudo-terminal");
        return;
    };
    assert!(tty.contains("render ["), "no render bar:\n{tty:?}");
    assert!(tty.contains("\x1b[2K"), "the bar is not cleared:\n{tty:?}");
    assert!(tty.contains("built the evidence site"));

    let quiet = on_terminal(&[&build[..], &["--quiet"]].concat()).unwrap();
    assert!(
        !quiet.contains('\x1b') && !quiet.contains("render ["),
        "{quiet:?}"
    );
    assert!(quiet.contains("built the evidence site"));
}
